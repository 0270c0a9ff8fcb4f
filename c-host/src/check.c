/* flb-host: check mode, a conformance run of one plugin .so (one line per check). */
#include "flb_host.h"

#include <dirent.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int g_fails;

static void report(const char *verdict, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void report(const char *verdict, const char *name, const char *fmt, ...)
{
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    if (strcmp(verdict, "FAIL") == 0) {
        g_fails++;
    }
    printf("%s %s: %s\n", verdict, name, detail);
    fflush(stdout);
}

/* one collect: its records (collected and appended) added to *recs, an empty or a failed
 * collect counted */
static void check_collect(struct instance *in, enum abi_profile abi, uint64_t *recs,
                          uint64_t *empty, uint64_t *failed)
{
    uint64_t records;
    size_t bytes;
    int rc = instance_collect(in, abi, NULL, NULL, &records, &bytes);
    if (rc == -2) {
        (*empty)++;
    } else if (rc == -1) {
        (*failed)++;
    }
    *recs += records;
}

static int printable(const char *s)
{
    if (s == NULL || *s == '\0') {
        return 0;
    }
    for (; *s; s++) {
        if ((unsigned char) *s < 0x20 || *s == 0x7f) {
            return 0;
        }
    }
    return 1;
}

static struct instance *new_instance(struct host *h, struct plugin_so *so,
                                     const char *const *kvs, size_t nkv, const char *bad)
{
    struct instance *in = instance_new(h, so->def->type, so->name);
    if (in == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < nkv; i++) {
        if (instance_set_kv(in, kvs[i]) != 0) {
            return NULL;
        }
    }
    if (bad) {
        /* the bad value replaces a -p of the same key: set twice, the key would be refused by
         * a config_map for its count, not by the plugin for its value */
        struct props p = {0};
        char *copy = xstrdup(bad);
        char *eq = strchr(copy, '=');
        if (eq == NULL) {
            free(copy);
            return NULL;
        }
        *eq = '\0';
        props_add(&p, copy, eq + 1);
        for (size_t i = 0; i < in->props.n; i++) {
            if (strcasecmp(in->props.v[i].key, copy) != 0) {
                props_add(&p, in->props.v[i].key, in->props.v[i].val);
            }
        }
        props_free(&in->props);
        in->props = p;
        free(copy);
    }
    in->so = so;
    instance_set_name(in, so->name, (int) h->nins - 1);
    in->tag = xstrdup("check.tag");
    if (instance_prepare(in, h->abi) != 0) {
        return NULL;
    }
    return in;
}

/* The threads of this process (/proc/self/task): a plugin's threads must all be joined by its
 * Exit (or Unregister), since dlclose unmaps the code they run. */
struct task_set {
    long *tids;
    size_t n;
};

static void tasks_snapshot(struct task_set *t)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    size_t cap = 0;
    t->tids = NULL;
    t->n = 0;
    if (d == NULL) {
        return;
    }
    while ((e = readdir(d)) != NULL) {
        char *end = NULL;
        long tid = strtol(e->d_name, &end, 10);
        if (end == e->d_name || *end != '\0') {
            continue;
        }
        if (t->n == cap) {
            long *nt;
            cap = cap ? cap * 2 : 16;
            nt = realloc(t->tids, cap * sizeof *nt);
            if (nt == NULL) {
                break;
            }
            t->tids = nt;
        }
        t->tids[t->n++] = tid;
    }
    closedir(d);
}

static int tasks_has(const struct task_set *t, long tid)
{
    for (size_t i = 0; i < t->n; i++) {
        if (t->tids[i] == tid) {
            return 1;
        }
    }
    return 0;
}

/* threads in now but not in before, as "'name' (tid N), ..." into buf; returns their number */
static size_t tasks_new(const struct task_set *before, const struct task_set *now, char *buf,
                        size_t len)
{
    size_t count = 0, off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < now->n; i++) {
        char path[64], comm[32] = "?";
        FILE *f;
        if (tasks_has(before, now->tids[i])) {
            continue;
        }
        snprintf(path, sizeof path, "/proc/self/task/%ld/comm", now->tids[i]);
        f = fopen(path, "r");
        if (f != NULL) {
            if (fgets(comm, sizeof comm, f) == NULL) {
                snprintf(comm, sizeof comm, "?");
            }
            comm[strcspn(comm, "\n")] = '\0';
            fclose(f);
        }
        if (off < len) {
            off += (size_t) snprintf(buf + off, len - off, "%s'%s' (tid %ld)", count ? ", " : "",
                                     comm, now->tids[i]);
        }
        count++;
    }
    return count;
}

static void sleep_s(double s)
{
    struct timespec ts;
    if (s <= 0) {
        return;
    }
    ts.tv_sec = (time_t) s;
    ts.tv_nsec = (long) ((s - (double) ts.tv_sec) * 1e9);
    nanosleep(&ts, NULL);
}

/* What one check run shares with its instance thread. */
struct check_run {
    struct host *h;
    struct plugin_so *so;
    const struct check_opts *o;
    int is_in;
    int counting;
};

/* Init, calls and exit of the instances run on a thread of their own, as in Fluent Bit (inputs on
 * `flb-in-NAME.0-w0`, outputs on `flb-pipeline`), joined before the leak count: memory a runtime
 * keeps per thread (glibc's TLS blocks of a dlopen'ed library, Rust's thread handle) is released
 * when that thread exits, as it is in Fluent Bit, so only what the plugin really keeps counts. */
/* how long an input may take to give its first records */
#define CHECK_WARMUP_S 3.0

static void *instance_thread(void *arg)
{
    struct check_run *c = arg;
    struct host *h = c->h;
    struct plugin_so *so = c->so;
    const char *const *kvs = c->o->kvs;
    size_t nkv = c->o->nkv;
    const char *bad = c->o->bad;
    int is_in = c->is_in;
    long count = c->o->count;
    double interval = c->o->interval;
    int counting = c->counting;
    struct instance *a = NULL, *b = NULL, *bi = NULL;
    struct mc_stats m1, m2;
    char tname[64];

    if (is_in) {
        snprintf(tname, sizeof tname, "flb-in-%s.0-w0", so->name);
    } else {
        snprintf(tname, sizeof tname, "flb-pipeline");
    }
    set_thread_name(tname);
    if (!is_in && coro_thread_init(h->coro_stack) != 0) {
        host_error("cannot allocate a coroutine stack for %s", tname);
    }
    /* bad configuration */
    if (bad) {
        bi = new_instance(h, so, kvs, nkv, bad);
        if (bi == NULL) {
            report("FAIL", "init-bad-config", "cannot set up the instance");
        } else if (config_map_instance_check(bi, h->abi) != 0) {
            report("PASS", "init-bad-config",
                   "%s refused by the plugin's config_map before FLBPluginInit, as Fluent Bit "
                   "5.1.1 does", bad);
        } else {
            int ret;
            if (is_in) {
                PLUGIN_CALL_IN(MC_PHASE_INIT, ret = so->init(bi->go_in));
            } else {
                PLUGIN_CALL_IN(MC_PHASE_INIT, ret = so->init(bi->go_out));
            }
            if (ret <= 0) {
                report("PASS", "init-bad-config", "init with %s returned %d (refused cleanly)",
                       bad, ret);
            } else {
                report("FAIL", "init-bad-config", "init with %s returned %d: accepted", bad, ret);
                bi->initialized = 1;
                instance_exit(bi, h->abi, 0);
            }
        }
    } else {
        report("SKIP", "init-bad-config", "no --bad key=value given");
    }

    /* two good instances */
    a = new_instance(h, so, kvs, nkv, NULL);
    if (a == NULL || instance_init(a, h->abi) != 0) {
        if (a != NULL && a->config_refused) {
            report("FAIL", "init", "the given properties do not pass the plugin's config_map "
                   "(see the error above); FLBPluginInit not called");
        } else if (a != NULL && nkv == 0 && a->init_ret == FLB_ERROR) {
            /* refusing an empty config cleanly (gtail without `path`) is what a plugin with a
             * required key must do: the calls cannot be checked without that key */
            report("SKIP", "init",
                   "the plugin refuses to start without configuration (its error is above): give "
                   "the keys it needs with -p key=value to check init and the calls");
        } else {
            report("FAIL", "init", "FLBPluginInit with the given properties failed (returned %d)",
                   a ? a->init_ret : -1);
        }
        goto teardown;
    }
    report("PASS", "init", "returned %d", a->init_ret);
    instance_prerun(a, h->abi, 0);
    b = new_instance(h, so, kvs, nkv, NULL);
    if (b == NULL || instance_init(b, h->abi) != 0) {
        report("FAIL", "two-instances", "second FLBPluginInit failed");
    } else {
        void *ra = is_in ? a->in_ctx->remote_context : a->out_ctx->remote_context;
        void *rb = is_in ? b->in_ctx->remote_context : b->out_ctx->remote_context;
        int has_ctx = is_in ? (h->abi >= ABI_4_1 && so->collect_ctx) : so->flush_ctx != NULL;
        instance_prerun(b, h->abi, 0);
        if (!has_ctx) {
            report("PASS", "two-instances",
                   "both initialised; no Ctx callbacks (abi %s): instances share global state",
                   abi_name(h->abi));
        } else if (ra == NULL || rb == NULL || ra == rb) {
            report("FAIL", "two-instances",
                   "Ctx callbacks exported but remote_context is %s",
                   ra == rb && ra ? "shared by both instances" : "NULL");
        } else {
            report("PASS", "two-instances", "each has its own remote_context");
        }
    }

    /* N collects / flushes, interleaved between the instances */
    mc_snapshot(&m1);
    {
        uint64_t recs = 0, empty = 0, failed = 0, invalid0 = a->invalid + (b ? b->invalid : 0);
        uint64_t modern0 = a->modern_refused + (b ? b->modern_refused : 0);
        uint64_t appends0 = a->appends + (b ? b->appends : 0);
        uint64_t refused0 = a->appends_refused + (b ? b->appends_refused : 0);
        int bad_flush = 0, last_ret = FLB_OK;
        long warmup_collects = 0;
        uint64_t live_after_first = 0;
        long first_round_end = (b && b->initialized) ? 1 : 0;
        unsigned char *modern = NULL, *legacy = NULL;
        size_t modern_len = 0, legacy_len = 0;
        sample_chunk(3, 0, &modern, &modern_len);
        sample_chunk(3, 1, &legacy, &legacy_len);
        for (long i = 0; i < count; i++) {
            struct instance *t = (b && b->initialized && (i % 2)) ? b : a;
            if (is_in) {
                check_collect(t, h->abi, &recs, &empty, &failed);
                sleep_s(interval);
            } else {
                int ret = instance_flush_on_coro(t, (i % 2) ? legacy : modern,
                                                 (i % 2) ? legacy_len : modern_len, "check.tag");
                if (ret != FLB_OK) {
                    bad_flush++;
                    last_ret = ret;
                }
                recs += 3;
            }
            /* baseline once every instance ran once (per-instance buffers kept for reuse) */
            if (i == first_round_end) {
                struct mc_stats ms;
                mc_snapshot(&ms);
                live_after_first = ms.live_bytes;
            }
        }
        free(modern);
        free(legacy);
        mc_snapshot(&m2);
        /* A timer-driven input (gdummy at rate 1) has nothing before its first interval: when the
         * counted calls gave no records, collect on at Fluent Bit's pace until records come, for
         * up to CHECK_WARMUP_S, so conformance is judged on records rather than on timing. (After
         * the leak-per-call snapshot: the first records' buffer is an allocation kept for reuse.) */
        if (is_in && recs == 0 && failed == 0) {
            double until = now_mono() + CHECK_WARMUP_S;
            long k = 0;
            while (recs == 0 && failed == 0 && now_mono() < until) {
                struct instance *t = (b && b->initialized && (k++ % 2)) ? b : a;
                sleep_s(0.1);
                check_collect(t, h->abi, &recs, &empty, &failed);
                warmup_collects++;
            }
        }
        if (is_in) {
            uint64_t inv = a->invalid + (b ? b->invalid : 0) - invalid0;
            uint64_t modern_bufs = a->modern_refused + (b ? b->modern_refused : 0) - modern0;
            uint64_t appends = a->appends + (b ? b->appends : 0) - appends0;
            uint64_t refused = a->appends_refused + (b ? b->appends_refused : 0) - refused0;
            if (modern_bufs) {
                report("FAIL", "collect",
                       "%llu of %ld collects returned records in the modern form [[time, "
                       "{metadata}], {body}], which Fluent Bit < 2.1 (abi %s) does not "
                       "understand: the plugin must write legacy records [time, {body}] for this "
                       "host (%llu invalid in all, %llu records accepted)",
                       (unsigned long long) modern_bufs, count, abi_name(h->abi),
                       (unsigned long long) inv, (unsigned long long) recs);
            } else if (refused) {
                report("FAIL", "collect",
                       "%llu flb_input_log_append call(s) refused (see the error lines: wrong "
                       "instance, thread or records), %llu accepted, %llu records",
                       (unsigned long long) refused, (unsigned long long) appends,
                       (unsigned long long) recs);
            } else if (inv || failed) {
                report("FAIL", "collect",
                       "%ld collects: %llu invalid buffers, %llu failed (-1), %llu records",
                       count, (unsigned long long) inv, (unsigned long long) failed,
                       (unsigned long long) recs);
            } else if (recs == 0) {
                report("SKIP", "collect",
                       "no records in %ld collects over %.0f s (%llu empty, none invalid): the "
                       "input has nothing to give yet (a timer that needs longer, a file with no "
                       "new lines); pass -p keys that make it produce records to check them",
                       count + warmup_collects, CHECK_WARMUP_S, (unsigned long long) empty);
            } else {
                report("PASS", "collect",
                       "%ld collects: %llu valid records, %llu empty, %llu flb_input_log_append "
                       "call(s)",
                       count + warmup_collects, (unsigned long long) recs,
                       (unsigned long long) empty, (unsigned long long) appends);
            }
        } else if (bad_flush) {
            report("FAIL", "flush",
                   "%d of %ld flushes (sample chunk, both record forms) did not return FLB_OK "
                   "(last %d)",
                   bad_flush, count, last_ret);
        } else {
            report("PASS", "flush", "%ld flushes of the sample chunk (modern and legacy) "
                   "returned FLB_OK", count);
        }
        if (!counting) {
            report("SKIP", "leak-per-call", "malloc counting is off in the ASan build");
        } else if (count < first_round_end + 2) {
            report("SKIP", "leak-per-call", "needs --count >= %ld", first_round_end + 2);
        } else if (m2.live_bytes > live_after_first) {
            report("FAIL", "leak-per-call",
                   "plugin-allocated live bytes grew by %llu over %ld calls "
                   "(%llu mallocs, %llu frees in the calls)",
                   (unsigned long long) (m2.live_bytes - live_after_first),
                   count - 1 - first_round_end,
                   (unsigned long long) (m2.mallocs - m1.mallocs),
                   (unsigned long long) (m2.frees - m1.frees));
        } else {
            report("PASS", "leak-per-call",
                   "no growth over %ld calls (%llu mallocs, %llu frees in the calls)",
                   count - 1 - first_round_end,
                   (unsigned long long) (m2.mallocs - m1.mallocs),
                   (unsigned long long) (m2.frees - m1.frees));
        }
    }

teardown:
    {
        int exited = 0;
        for (size_t i = 0; i < h->nins; i++) {
            if (h->ins[i]->initialized) {
                instance_exit(h->ins[i], h->abi, 0);
                exited++;
            }
        }
        report(exited ? "PASS" : "SKIP", "exit", "%d instance(s) exited (%s)", exited,
               is_in ? "FLBPluginExit" : (so->exit_ctx ? "FLBPluginExitCtx" : "FLBPluginExit"));
    }
    coro_thread_fini();
    return NULL;
}

/* What a Rust plugin that uses println! leaves: std's stdout is a LineWriter whose 1 KiB buffer
 * is allocated at the first print, from the callback that prints, and never freed. So exactly
 * one 1024-byte allocation left, by a plugin that wrote to fd 1 during its callbacks. */
static int stdout_buffer_likely(uint64_t bytes, uint64_t allocations, uint64_t stdout_writes)
{
    return allocations == 1 && bytes == 1024 && stdout_writes > 0;
}

/* config-map: the keys a 5.1.1 plugin declares; FAIL only for a map Fluent Bit could not take
 * (malformed, or a default that does not parse) */
static void check_config_map(struct host *h, struct plugin_so *so)
{
    struct cm_list m;
    char why[512] = "";
    char names[900];
    size_t off = 0;

    if (h->abi < ABI_5_1) {
        report("SKIP", "config-map", "abi %s has no config_map (a Fluent Bit 5.1.1 feature)",
               abi_name(h->abi));
        return;
    }
    if (h->no_config_map) {
        report("SKIP", "config-map", "--no-config-map: the host neither offers nor reads it");
        return;
    }
    if (so->config_map == NULL) {
        const char *v = getenv("FLUENT_BIT_VERSION");
        report("SKIP", "config-map", "the plugin declares none (config_map NULL; "
               "FLUENT_BIT_VERSION=%s)", v != NULL ? v : "");
        return;
    }
    if (config_map_load(so, &m, why, sizeof why) != 0) {
        report("FAIL", "config-map", "%s", why);
        return;
    }
    names[0] = '\0';
    for (size_t i = 0; i < m.n && off < sizeof names - 1; i++) {
        int n = snprintf(names + off, sizeof names - off, "%s%s", i ? ", " : "", m.v[i].name);
        if (n < 0 || (size_t) n >= sizeof names - off) {
            snprintf(names + (sizeof names - 5), 5, "...");
            break;
        }
        off += (size_t) n;
    }
    report("PASS", "config-map", "%zu key(s), every default parses: %s", m.n, names);
    config_map_free(&m);
}

int check_main(struct host *h, const struct check_opts *o)
{
    const char *path = o->path;
    long count = o->count;
    struct plugin_so *so;
    struct mc_stats m0;
    int counting = mc_enabled();
    int is_in;
    struct task_set tasks_before = {NULL, 0};
    size_t leftover = 0;

    set_thread_name("fluent-bit");
    printf("flb-host check %s (abi %s, %ld calls, malloc counting %s, flb_input_log_append %s, "
           "config_map %s)\n",
           path, abi_name(h->abi), count, counting ? "on" : "off (ASan build)",
           h->abi < ABI_5_1 ? "absent (abi < 5.1)"
                            : (h->no_direct_append ? "absent (--no-direct-append)" : "offered"),
           h->abi < ABI_5_1 ? "absent (abi < 5.1)"
                            : (h->no_config_map ? "absent (--no-config-map)" : "offered"));
    mc_snapshot(&m0);

    if (host_exports_load(h) != 0) {
        report("FAIL", "load", "cannot offer flb_input_log_append (see the error above)");
        return EXIT_HOST_ERROR;
    }
    if (host_configmap_load(h) != 0) {
        report("FAIL", "load", "cannot offer config_map (see the error above)");
        return EXIT_HOST_ERROR;
    }
    /* the threads before the plugin is loaded: any more after unregister are the plugin's */
    tasks_snapshot(&tasks_before);
    /* load + register */
    so = loader_open(path, h->abi);
    if (so == NULL) {
        report("FAIL", "load", "dlopen or symbol lookup failed (see the error above)");
        free(tasks_before.tids);
        return EXIT_HOST_ERROR;
    }
    report("PASS", "load", "dlopen ok, FLBPluginRegister and FLBPluginInit found");
    h->def_canary = 1;
    if (loader_register(h, so, 0) != 0 || !so->registered) {
        report("FAIL", "register", "registration failed or FLBPluginRegister returned -1");
        loader_close(so);
        free(tasks_before.tids);
        return EXIT_HOST_ERROR;
    }
    {
        struct flb_plugin_proxy_def *d = so->def;
        const unsigned char *tail = (const unsigned char *) d + so->def_size;
        int canary_ok = 1;
        for (size_t i = 0; i < DEF_CANARY_SIZE; i++) {
            canary_ok &= tail[i] == 0xA5;
        }
        is_in = d->type == FLB_PROXY_INPUT_PLUGIN;
        if (d->type != FLB_PROXY_INPUT_PLUGIN && d->type != FLB_PROXY_OUTPUT_PLUGIN) {
            report("FAIL", "register", "type=%d: flb-host checks inputs (1) and outputs (2)",
                   d->type);
            loader_unregister(so);
            loader_close(so);
                free(tasks_before.tids);
            return EXIT_HOST_ERROR;
        }
        if (!printable(d->name) || !printable(d->description) || d->proxy != FLB_PROXY_GOLANG) {
            report("FAIL", "register", "type=%d proxy=%d name=%s description=%s", d->type,
                   d->proxy, d->name ? d->name : "(null)",
                   d->description ? d->description : "(null)");
        } else {
            report("PASS", "register", "type=%s proxy=%d name=%s description=\"%s\" flags=%d",
                   is_in ? "input" : "output", d->proxy, d->name, d->description, d->flags);
        }
        if (canary_ok) {
            report("PASS", "def-size", "nothing written beyond the %zu-byte def of abi %s",
                   so->def_size, abi_name(h->abi));
        } else {
            report("FAIL", "def-size",
                   "plugin wrote beyond the %zu-byte def of abi %s (event_type/config_map "
                   "exist only since 5.0/5.1.1)",
                   so->def_size, abi_name(h->abi));
        }
    }
    check_config_map(h, so);
    h->sos = xcalloc(1, sizeof *h->sos);
    h->sos[0] = so;
    h->nsos = 1;

    {
        struct check_run run = {h, so, o, is_in, counting};
        pthread_t t;
        if (pthread_create(&t, NULL, instance_thread, &run) != 0) {
            report("FAIL", "init", "cannot start the instance thread");
        } else {
            pthread_join(t, NULL);
        }
    }
    loader_unregister(so);
    report("PASS", "unregister", "%s", so->unreg ? "FLBPluginUnregister returned"
                                                  : "no FLBPluginUnregister exported");
    {
        /* a thread ending right now (joined ones have already gone) gets half a second */
        char names[1024];
        double until = now_mono() + 0.5;
        for (;;) {
            struct task_set now;
            tasks_snapshot(&now);
            leftover = tasks_new(&tasks_before, &now, names, sizeof names);
            free(now.tids);
            if (leftover == 0 || now_mono() >= until) {
                break;
            }
            sleep_s(0.01);
        }
        if (leftover) {
            report("FAIL", "threads",
                   "%zu thread(s) still running after exit and unregister: %s; Exit must join "
                   "every thread the plugin started, since dlclose unmaps the code they run",
                   leftover, names);
        } else {
            report("PASS", "threads", "no thread left after exit and unregister");
        }
        free(tasks_before.tids);
    }
    {
        struct mc_stats me;
        mc_snapshot(&me);
        if (!counting) {
            report("SKIP", "all-freed", "malloc counting is off in the ASan build");
        } else if (me.live_bytes > m0.live_bytes || me.live_count > m0.live_count) {
            uint64_t bytes = me.live_bytes - m0.live_bytes, n = me.live_count - m0.live_count;
            report("FAIL", "all-freed",
                   "%llu bytes in %llu allocations made during callbacks are still live after "
                   "exit and unregister (%llu mallocs, %llu frees in total)%s",
                   (unsigned long long) bytes, (unsigned long long) n,
                   (unsigned long long) me.mallocs, (unsigned long long) me.frees,
                   stdout_buffer_likely(bytes, n, me.stdout_writes - m0.stdout_writes)
                       ? " (likely Rust std's stdout buffer: a plugin that uses println! keeps 1 "
                         "KiB allocated; log with flb_info!/flb_warn! or write(2) to fd 1 instead)"
                       : "");
        } else {
            report("PASS", "all-freed",
                   "every byte allocated during callbacks was freed (%llu mallocs, %llu bytes)",
                   (unsigned long long) me.mallocs, (unsigned long long) me.malloc_bytes);
        }
    }
    {
        void *dl = so->dl;
        int rc;
        if (so->def_map) {
            guarded_tail_free(so->def_map, so->def_map_size);
        } else {
            free(so->def);
        }
        so->def = NULL;
        so->dl = NULL;
        if (leftover) {
            /* kept mapped: the process ends with the threads still running in it */
            report("SKIP", "dlclose",
                   "not unmapping the plugin while %zu of its threads run (they would crash in "
                   "unmapped code)",
                   leftover);
        } else if ((rc = dlclose(dl)) == 0) {
            report("PASS", "dlclose", "ok");
        } else {
            const char *e = dlerror();
            report("FAIL", "dlclose", "%s", e ? e : "failed");
        }
        free(so->name);
        free(so->description);
        free(so->path);
        free(so);
        h->sos[0] = NULL;
    }
    printf("%s: %d check(s) failed\n", g_fails ? "FAILED" : "OK", g_fails);
    coro_thread_fini();
    return g_fails ? EXIT_HOST_ERROR : 0;
}
