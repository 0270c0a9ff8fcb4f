/* Output "tout": exercises the flush rules.
 * Properties: ret = flush return code (default 1), retry_first = N (return FLB_RETRY for the
 * first N flushes, then ret), sleep_ms = N, stack_kb = N (alloca and touch N KiB), leak = N
 * (malloc N bytes per flush and never free them), label = X (printed in each flush event, to tell
 * instances apart), log = TEXT (at init, "[tout] TEXT level N" through api->log_print at each
 * level 1..5). A non-numeric ret fails init. */
#include "tp_common.h"
#define P "tout"

struct octx {
    int ret, retry_first, sleep_ms, stack_kb, leak;
    atomic_int flushes, cur, max;
    atomic_ulong records;
    char label[32];
};

TP_LOAD_EVENTS()

int FLBPluginRegister(struct tp_def *def)
{
    tp_register(P, def, 2, "tout", "flb-host test output");
    return 0;
}

int FLBPluginInit(void *plugin)
{
    struct tp_plugin *pl = plugin;
    struct tp_out_ctx *ctx = pl->context;
    int ok = 1;
    struct octx *c = calloc(1, sizeof *c);
    if (c == NULL) {
        return 0;
    }
#define GET(k) pl->api->output_get_property(k, pl->ins)
    c->ret = tp_prop_int(GET("ret"), 1, &ok);
    c->retry_first = tp_prop_int(GET("retry_first"), 0, &ok);
    c->sleep_ms = tp_prop_int(GET("sleep_ms"), 0, &ok);
    c->stack_kb = tp_prop_int(GET("stack_kb"), 0, &ok);
    c->leak = tp_prop_int(GET("leak"), 0, &ok);
    if (GET("label") != NULL) {
        snprintf(c->label, sizeof c->label, " label=%s", GET("label"));
    }
    if (!ok) {
        tp_event(P, "init failed: bad property");
        free(c);
        return -1;
    }
    if (GET("log") != NULL) {
        for (int level = 1; level <= 5; level++) {
            pl->api->log_print(level, __FILE__, __LINE__, "[tout] %s level %d", GET("log"), level);
        }
    }
    ctx->remote_context = c;
    tp_event(P, "init");
    return 1;
}

int FLBPluginOutputPreRun(int h) { tp_event(P, "prerun %d", h); return 0; }

int FLBPluginFlushCtx(void *rc, const void *data, size_t size, char *tag)
{
    struct octx *c = rc;
    int n = atomic_fetch_add(&c->flushes, 1) + 1;
    int cur = atomic_fetch_add(&c->cur, 1) + 1;
    int m = atomic_load(&c->max);
    int ret;
    while (cur > m && !atomic_compare_exchange_weak(&c->max, &m, cur)) {
    }
    unsigned long recs = tp_count_records(data, size);
    atomic_fetch_add(&c->records, recs);
    tp_event(P, "flush #%d size=%zu tag=%s taglen=%zu records=%lu%s", n, size, tag, strlen(tag),
             recs, c->label);
    if (c->sleep_ms) {
        struct timespec ts = {c->sleep_ms / 1000, (c->sleep_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (c->stack_kb) {
        size_t b = (size_t) c->stack_kb * 1024;
        volatile char *big = __builtin_alloca(b);
        /* touch from the top down, as a real deep call chain would */
        for (size_t i = b; i > 0; i -= 256) {
            big[i - 1] = (char) i;
        }
        tp_event(P, "touched %d KiB of stack", c->stack_kb);
    }
    if (c->leak) {
        void *volatile p = malloc((size_t) c->leak);
        (void) p;
    }
    atomic_fetch_sub(&c->cur, 1);
    ret = n <= c->retry_first ? 2 : c->ret;
    return ret;
}

void FLBPluginOutputPreExit(int h) { tp_event(P, "preexit %d", h); }

int FLBPluginExitCtx(void *rc)
{
    struct octx *c = rc;
    tp_event(P, "exit flushes=%d max_concurrency=%d records=%lu", atomic_load(&c->flushes),
             atomic_load(&c->max), (unsigned long) atomic_load(&c->records));
    free(c);
    return 1;
}

void FLBPluginUnregister(struct tp_def *def) { tp_note_unregister(P, def); }
