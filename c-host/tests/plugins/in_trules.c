/* Input "trules": exercises the collect rules.
 * Properties: mode = normal | empty | invalid | legacy | mixed ; records = N per collect
 * (default 1); legacy = on writes legacy records [time, {body}] in modes normal and empty (mode
 * legacy is normal + legacy = on; mixed alternates legacy and modern records, legacy first);
 * stray_thread = on starts a thread "tp-stray" at init that nothing ever joins (a plugin bug that
 * check must report; never dlclose a .so with it running).
 * A non-numeric `records` fails init (for check --bad). Exports Ctx and plain callbacks. */
#include "tp_common.h"
#define P "trules"

struct ictx {
    int mode;
    int legacy;
    int records;
    uint32_t id;
    unsigned long n;
};
static struct ictx *g_last; /* for the plain (non-Ctx) callbacks: one shared state */
static struct ictx *g_all[64];
static int g_nall;
static atomic_uint g_ids;
static char g_sentinel[8];  /* handed out with len 0: must never reach cleanup */

TP_LOAD_EVENTS()

int FLBPluginRegister(struct tp_def *def)
{
    tp_register(P, def, 1, "trules", "flb-host test input");
    return 0;
}

static void *stray(void *arg)
{
    (void) arg;
    pthread_setname_np(pthread_self(), "tp-stray");
    for (;;) {
        sleep(60);
    }
    return NULL;
}

int FLBPluginInit(void *plugin)
{
    struct tp_plugin *pl = plugin;
    struct tp_in_ctx *ctx = pl->context;
    const char *mode = pl->api->input_get_property("mode", pl->ins);
    int ok = 1;
    struct ictx *c = calloc(1, sizeof *c);
    if (c == NULL) {
        return 0;
    }
    c->records = tp_prop_int(pl->api->input_get_property("Records", pl->ins), 1, &ok);
    if (!ok || c->records < 1 || c->records > 100000) {
        tp_event(P, "init failed: bad records");
        free(c);
        return 0;
    }
    if (mode == NULL || strcmp(mode, "normal") == 0) c->mode = 0;
    else if (strcmp(mode, "empty") == 0) c->mode = 1;
    else if (strcmp(mode, "invalid") == 0) c->mode = 2;
    else if (strcmp(mode, "legacy") == 0) c->mode = 3;
    else if (strcmp(mode, "mixed") == 0) c->mode = 4;
    else {
        tp_event(P, "init failed: bad mode");
        free(c);
        return 0;
    }
    {
        const char *lg = pl->api->input_get_property("legacy", pl->ins);
        c->legacy = c->mode == 3 || (lg != NULL && strcmp(lg, "on") == 0);
    }
    {
        const char *st = pl->api->input_get_property("stray_thread", pl->ins);
        if (st != NULL && strcmp(st, "on") == 0) {
            pthread_t t;
            pthread_attr_t a;
            pthread_attr_init(&a);
            pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
            if (pthread_create(&t, &a, stray, NULL) != 0) {
                pthread_attr_destroy(&a);
                free(c);
                return 0;
            }
            pthread_attr_destroy(&a);
        }
    }
    c->id = atomic_fetch_add(&g_ids, 1);
    if (g_nall == 64) {
        free(c);
        return 0;
    }
    TP_KEEP_INSTANCE(ctx, c);
    tp_event(P, "init id=%u", c->id);
#if defined(__x86_64__)
    {
        /* Fluent Bit 5.1.1's struct flb_input_instance on x86_64 (gdb `ptype /o` of the real
         * binary): char name[32] at 156, char *tag at 232, int tag_len at 240, int tag_default at
         * 244. i_ins is that struct in Fluent Bit, and flb-host mimics its head. */
        const char *ins = pl->ins;
        const char *tag = *(char *const *) (ins + 232);
        tp_event(P, "ins name=%.31s tag=%s tag_len=%d tag_default=%d", ins + 156,
                 tag ? tag : "(null)", *(const int *) (ins + 240), *(const int *) (ins + 244));
    }
#endif
    return 1;
}

static int collect(struct ictx *c, void **data, size_t *size)
{
    unsigned char *buf, *p;
    c->n++;
    if (c->mode == 1 && c->n % 2 == 1) {
        if (c->n % 4 == 1) {
            *data = g_sentinel; /* len 0 with a pointer: the host must not clean it up */
        }
        *size = 0;
        tp_event(P, "collect id=%u len=0", c->id);
        return 0;
    }
    if (c->mode == 2) {
        buf = malloc(4);
        memcpy(buf, "\xc1\x92\x01\x02", 4);
        *data = buf;
        *size = 4;
        tp_event(P, "collect id=%u len=4 invalid", c->id);
        return 0;
    }
    buf = malloc((size_t) c->records * TP_RECORD_MAX);
    if (buf == NULL) {
        return -1;
    }
    p = buf;
    for (int i = 0; i < c->records; i++) {
        p = tp_put_record(p, (uint32_t) c->n, c->id, c->mode == 4 ? i % 2 == 0 : c->legacy);
    }
    *data = buf;
    *size = (size_t) (p - buf);
    tp_event(P, "collect id=%u len=%zu", c->id, *size);
    return 0;
}

static int cleanup(struct ictx *c, void *data)
{
    if (data == g_sentinel) {
        tp_event(P, "VIOLATION cleanup called after a len=0 collect");
        return 0;
    }
    tp_event(P, "cleanup id=%u", c ? c->id : 999);
    free(data);
    return 0;
}

TP_INPUT_COLLECT_CALLBACKS(collect)
TP_INPUT_CLEANUP_CALLBACKS(cleanup)
int FLBPluginInputPreRun(int h) { tp_event(P, "prerun %d", h); return 0; }
void FLBPluginInputPause(void) { tp_event(P, "pause"); }
void FLBPluginInputResume(void) { tp_event(P, "resume"); }
void FLBPluginInputPreExit(int h) { tp_event(P, "preexit %d", h); }
int FLBPluginExit(void)
{
    /* plain Exit has no context: free the instance state we can find */
    tp_event(P, "exit");
    TP_FREE_LAST_INSTANCE();
    return 1;
}
void FLBPluginUnregister(struct tp_def *def) { tp_note_unregister(P, def); }
