/* Input "tappend": appends records itself through Fluent Bit's exported flb_input_log_append,
 * resolved once with dlsym(RTLD_DEFAULT, ...) at init, and falls back to the ordinary hand-over
 * when the host does not export it (a real Fluent Bit before 2.1, or flb-host under any profile
 * but 5.1 or with --no-direct-append).
 * Properties: records = K per tag per collect (default 3); legacy = on writes [time, {body}]
 * records (needed by 1.9/2.0 hosts); counted = on appends through flb_input_log_append_records
 * with the record count (2.0+); misuse = thread | badins | init | count makes one wrong call per
 * collect (thread: from a thread of the plugin's own, joined inside collect; badins: with an ins
 * pointer the host never gave out; count: flb_input_log_append_records claiming one record more
 * than the buffer holds) or one in init (outside collect), logs its return value, and then
 * behaves normally.
 * With the function: K records under each of custom.file0..2 (tag by pointer + length, taken
 * from one longer string, so a host reading up to a NUL would see the wrong tag), collect returns
 * no data. Without it: the same 3K records as one collect buffer under the instance tag.
 * Record bodies are {"n": collect number, "id": tag index 0..2}. */
#include "tp_common.h"

#include <dlfcn.h>
#define P "tappend"

typedef int (*fn_log_append)(void *ins, const char *tag, size_t tag_len, const void *buf,
                             size_t buf_size);
typedef int (*fn_log_append_records)(void *ins, size_t records, const char *tag, size_t tag_len,
                                     const void *buf, size_t buf_size);

enum { MISUSE_NONE, MISUSE_THREAD, MISUSE_BADINS, MISUSE_INIT, MISUSE_COUNT };

struct actx {
    void *ins;
    int records;
    int legacy;
    int misuse;
    int counted;
    unsigned long n;
};

/* no NUL between the tags: each is 12 bytes of this string */
static const char g_tags[] = "custom.file0custom.file1custom.file2";
#define TAG_LEN 12

static fn_log_append g_append;
static fn_log_append_records g_append_records;
static struct actx *g_last; /* the plain (non-Ctx) callbacks of profiles < 4.1 */
static struct actx *g_all[64];
static int g_nall;

int FLBPluginRegister(struct tp_def *def)
{
    tp_define(def, 1, "tappend", "flb-host test input using flb_input_log_append");
    return 0;
}

static unsigned char *records(struct actx *c, int tag_first, int ntags, size_t *len)
{
    unsigned char *buf = malloc((size_t) c->records * (size_t) ntags * TP_RECORD_MAX), *p;
    if (buf == NULL) {
        return NULL;
    }
    p = buf;
    for (int t = tag_first; t < tag_first + ntags; t++) {
        for (int i = 0; i < c->records; i++) {
            p = tp_put_record(p, (uint32_t) c->n, (uint32_t) t, c->legacy);
        }
    }
    *len = (size_t) (p - buf);
    return buf;
}

struct offthread {
    struct actx *c;
    int ret;
};

static void *offthread_main(void *arg)
{
    struct offthread *o = arg;
    size_t len = 0;
    unsigned char *buf = records(o->c, 0, 1, &len);
    o->ret = buf ? g_append(o->c->ins, g_tags, TAG_LEN, buf, len) : -2;
    free(buf);
    return NULL;
}

int FLBPluginInit(void *plugin)
{
    struct tp_plugin *pl = plugin;
    struct tp_in_ctx *ctx = pl->context;
    const char *misuse = pl->api->input_get_property("misuse", pl->ins);
    const char *legacy = pl->api->input_get_property("legacy", pl->ins);
    const char *counted = pl->api->input_get_property("counted", pl->ins);
    int ok = 1;
    struct actx *c;

    if (g_nall == 64) {
        return 0;
    }
    c = calloc(1, sizeof *c);
    if (c == NULL) {
        return 0;
    }
    c->ins = pl->ins;
    c->records = tp_prop_int(pl->api->input_get_property("records", pl->ins), 3, &ok);
    c->legacy = legacy != NULL && (strcmp(legacy, "on") == 0 || strcmp(legacy, "true") == 0);
    c->counted = counted != NULL && (strcmp(counted, "on") == 0 || strcmp(counted, "true") == 0);
    if (misuse == NULL) c->misuse = MISUSE_NONE;
    else if (strcmp(misuse, "thread") == 0) c->misuse = MISUSE_THREAD;
    else if (strcmp(misuse, "badins") == 0) c->misuse = MISUSE_BADINS;
    else if (strcmp(misuse, "init") == 0) c->misuse = MISUSE_INIT;
    else if (strcmp(misuse, "count") == 0) c->misuse = MISUSE_COUNT;
    else ok = 0;
    if (!ok || c->records < 1 || c->records > 10000) {
        tp_event(P, "init failed: bad property");
        free(c);
        return 0;
    }
    /* resolved once, as a plugin should: the host either exports it or not for its lifetime */
    g_append = (fn_log_append) dlsym(RTLD_DEFAULT, "flb_input_log_append");
    g_append_records = (fn_log_append_records) dlsym(RTLD_DEFAULT, "flb_input_log_append_records");
    if (c->misuse == MISUSE_INIT && g_append) {
        size_t len = 0;
        unsigned char *buf = records(c, 0, 1, &len);
        int ret = buf ? g_append(c->ins, NULL, 0, buf, len) : -2;
        free(buf);
        tp_event(P, "misuse init ret=%d", ret);
    }
    TP_KEEP_INSTANCE(ctx, c);
    tp_event(P, "init direct=%d", g_append != NULL);
    return 1;
}

static int collect(struct actx *c, void **data, size_t *size)
{
    size_t len = 0;
    unsigned char *buf;
    c->n++;
    if (g_append == NULL) {
        buf = records(c, 0, 3, &len);
        if (buf == NULL) {
            return -1;
        }
        *data = buf;
        *size = len;
        tp_event(P, "collect n=%lu handed over len=%zu", c->n, len);
        return 0;
    }
    if (c->misuse == MISUSE_THREAD) {
        struct offthread o = {c, -3};
        pthread_t t;
        if (pthread_create(&t, NULL, offthread_main, &o) == 0) {
            pthread_join(t, NULL);
        }
        tp_event(P, "misuse thread ret=%d", o.ret);
    } else if (c->misuse == MISUSE_BADINS) {
        int ret;
        buf = records(c, 0, 1, &len);
        /* a pointer no host gave out, and one that faults if dereferenced */
        ret = buf ? g_append((void *) (uintptr_t) 0x10, g_tags, TAG_LEN, buf, len) : -2;
        free(buf);
        tp_event(P, "misuse badins ret=%d", ret);
    } else if (c->misuse == MISUSE_COUNT && g_append_records != NULL) {
        int ret;
        buf = records(c, 0, 1, &len);
        ret = buf ? g_append_records(c->ins, (size_t) c->records + 1, g_tags, TAG_LEN, buf, len) : -2;
        free(buf);
        tp_event(P, "misuse count ret=%d", ret);
    }
    for (int t = 0; t < 3; t++) {
        int ret;
        buf = records(c, t, 1, &len);
        if (buf == NULL) {
            return -1;
        }
        if (c->counted && g_append_records != NULL) {
            ret = g_append_records(c->ins, (size_t) c->records, g_tags + t * TAG_LEN, TAG_LEN, buf,
                                   len);
        } else {
            ret = g_append(c->ins, g_tags + t * TAG_LEN, TAG_LEN, buf, len);
        }
        free(buf); /* the host copied it */
        tp_event(P, "append n=%lu tag=%.*s ret=%d", c->n, TAG_LEN, g_tags + t * TAG_LEN, ret);
    }
    *size = 0;
    return 0;
}

static int cleanup(struct actx *c, void *data)
{
    tp_event(P, "cleanup n=%lu", c ? c->n : 0);
    free(data);
    return 0;
}

TP_INPUT_COLLECT_CALLBACKS(collect)
TP_INPUT_CLEANUP_CALLBACKS(cleanup)
int FLBPluginExit(void)
{
    tp_event(P, "exit");
    TP_FREE_LAST_INSTANCE();
    return 1;
}
void FLBPluginUnregister(struct tp_def *def) { (void) def; tp_event(P, "unregister"); }
