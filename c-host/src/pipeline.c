/* flb-host: run mode. Input threads with collect timers, chunk buffering and routing, flush on
 * the pipeline thread or on worker threads (always on a coroutine stack), retries with backoff,
 * pause/resume, the shutdown order observed in Fluent Bit 5.1.1, and its hot reload.
 *
 * Hot reload, as Fluent Bit 5.1.1 does it (hot_reload on / -Y; SIGHUP sets flb_bin_restarting at
 * src/fluent-bit.c:646, and the main loop calls flb_reload() at src/fluent-bit.c:1536 on the main
 * thread). flb_reload() (src/flb_reload.c:461) builds the NEW context before it stops the old one:
 *  1. new_config->hot_reloading = TRUE (flb_reload.c:544); the plugins given with -e are loaded
 *     again (flb_reload_reinstantiate_external_plugins, flb_reload.c:571 -> flb_plugin.c:343
 *     flb_plugin_load_router -> flb_plugin_proxy_create), a plugins file through
 *     flb_config_load_config_format (flb_reload.c:585): dlopen(path, RTLD_LAZY)
 *     (flb_plugin_proxy.c:605) of a .so the old context still holds, so the loader returns the
 *     same handle with its count raised: the .so is NOT unmapped and mapped again, its static
 *     state survives the reload. Then FLBPluginPreRegister(config->hot_reloading = 1)
 *     (flb_plugin_proxy.c:492) and FLBPluginRegister(new def) (flb_plugin_proxy.c:508), on the
 *     main thread, while the old instances still run.
 *  2. The new configuration is validated (flb_reload.c:612); a failure halts the reload and the
 *     old context goes on (the new plugins are unregistered and dlclosed by flb_destroy).
 *  3. flb_stop(old) (flb_reload.c:637, flb_lib.c:1040): the engine's STOP (flb_engine.c:936)
 *     flushes every chunk buffered (flb_engine_flush, :948), then pauses the inputs
 *     (flb_engine_stop_ingestion, :1424: FLBPluginInputPause); the grace is -1 because
 *     ensure_thread_safety_on_hot_reloading defaults to on (flb_config.c:461, flb_reload.c:486):
 *     the engine waits until no task and no chunk is left, however long (flb_engine.c:1485), so
 *     records the inputs handed over are delivered before anything exits. Then
 *     flb_engine_shutdown (flb_engine.c:1611): inputs paused again, outputs exit
 *     (flb_output_exit: FLBPluginOutputPreExit(config->shutdown_by_hot_reloading = 1, set at
 *     flb_reload.c:542; flb_plugin_proxy.c:211) then FLBPluginExitCtx or FLBPluginExit (go.c:156)
 *     on flb-pipeline), then inputs exit (FLBPluginInputPreExit(1), flb_plugin_proxy.c:263, then
 *     FLBPluginExit, go.c:288, on each input's thread).
 *  4. flb_destroy(old) (flb_reload.c:638 -> flb_config_exit -> flb_plugins_unregister,
 *     include/fluent-bit/flb_plugins.h.in:55): on the main thread, for each input plugin then each
 *     output plugin, FLBPluginUnregister(old def) (flb_plugin_proxy.c:284 / :232) and dlclose
 *     (flb_plugin_proxy_destroy, :653), which only lowers the count. So a plugin sees
 *     Unregister(old def) AFTER Register(new def).
 *  5. flb_start(new) (flb_reload.c:642): new threads; FLBPluginInit on each input's thread and
 *     on flb-pipeline, then FLBPluginOutputPreRun and FLBPluginInputPreRun with
 *     config->enable_hot_reload (flb_plugin_proxy.c:317 / :338), which is 1 whenever hot_reload
 *     is on: the first start of a hot-reload-enabled Fluent Bit passes 1 too.
 * Traced with a real 5.1.1 (-Y, SIGHUP) and the C test plugins: preregister 1, register def#1
 * (input, then output), flush of the pending records, pause, output preexit 1 + exit, pause (it
 * may also come before the output's exit), input preexit 1 + exit, unregister def#0 (input, then
 * output), input init, output init, output prerun 1, input prerun 1; no unload/load.
 * flb-host does the same: hot_reload() below on the main thread, the old pipeline thread runs the
 * shutdown with no grace limit and PreExit(1), and a new pipeline thread starts the same
 * instances (same config, same names; the configuration is not read again). Counters add up
 * across reloads. */
#include "flb_host.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { CMD_NONE, CMD_START, CMD_PAUSE, CMD_PAUSE_FORCE, CMD_RESUME, CMD_EXIT };

struct chunk {
    unsigned char *data;
    size_t len;
    uint64_t records;
    char *tag;
    _Atomic int refs;
};

struct task {
    struct chunk *ch;
    struct instance *out;
    int attempts;
    double due;
    struct task *next;
};

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv;
static struct task *g_retries;
static int g_pending;     /* tasks queued, running or waiting for a retry */
static int g_final;       /* past the grace period: no more retries */
static atomic_int g_stop;      /* the running pipeline stops (shutdown or hot reload) */
static atomic_int g_quit;      /* the process stops: no further reload */
static atomic_int g_reloading; /* the running pipeline stops for a hot reload */
static pthread_t g_pipeline;
static atomic_int g_pause_req, g_resume_req;
static atomic_int g_pipeline_done;
static int g_started; /* under g_mu: the pipeline thread is past its start (init, pre-run) */
static int g_failed;
static _Atomic uint64_t g_records_ok_total;

static void cond_init_mono(pthread_cond_t *cv)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &a);
    pthread_condattr_destroy(&a);
}

static struct timespec abs_mono(double t)
{
    struct timespec ts;
    double fl = floor(t);
    ts.tv_sec = (time_t) fl;
    ts.tv_nsec = (long) ((t - fl) * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

static void wake_pipeline(void)
{
    pthread_mutex_lock(&g_mu);
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
}

/* ---------------- inputs ---------------- */

/* called with in->mu held; a new tag's buffer goes last, so chunks keep first-append order */
static struct tag_buf *tag_buf_get(struct instance *in, const char *tag, size_t tag_len)
{
    struct tag_buf **pp, *b;
    if (tag == NULL) {
        tag = in->tag;
        tag_len = strlen(in->tag);
    }
    for (pp = &in->bufs; *pp != NULL; pp = &(*pp)->next) {
        if (strlen((*pp)->tag) == tag_len && memcmp((*pp)->tag, tag, tag_len) == 0) {
            return *pp;
        }
    }
    b = xcalloc(1, sizeof *b);
    b->tag = xcalloc(tag_len + 1, 1);
    memcpy(b->tag, tag, tag_len);
    *pp = b;
    return b;
}

static void input_sink(void *arg, const char *tag, size_t tag_len, const void *data, size_t len,
                       uint64_t records)
{
    struct instance *in = arg;
    struct tag_buf *b;
    pthread_mutex_lock(&in->mu);
    b = tag_buf_get(in, tag, tag_len);
    if (b->len + len > b->cap) {
        size_t nc = b->cap ? b->cap : 4096;
        unsigned char *nb;
        while (nc < b->len + len) {
            nc *= 2;
        }
        nb = realloc(b->buf, nc);
        if (nb == NULL) {
            pthread_mutex_unlock(&in->mu);
            atomic_fetch_add(&in->errors, 1);
            host_log(FLB_LOG_ERROR, "[%s] out of memory buffering a chunk", in->name);
            return;
        }
        b->buf = nb;
        b->cap = nc;
    }
    memcpy(b->buf + b->len, data, len); /* flb_input_log_append's copy */
    b->len += len;
    b->records += records;
    pthread_mutex_unlock(&in->mu);
}

/* called with in->mu held: run a command on this (the input's) thread */
static int input_do_cmd(struct instance *in, int cmd, double *next)
{
    struct host *h = &g_host;
    int quit = 0;
    pthread_mutex_unlock(&in->mu);
    switch (cmd) {
    case CMD_START:
        instance_prerun(in, h->abi, h->hot_reload);
        *next = now_mono() + h->interval;
        break;
    case CMD_PAUSE:
        if (!in->paused) {
            instance_pause(in, h->abi);
        }
        in->paused = 1;
        break;
    case CMD_PAUSE_FORCE:
        instance_pause(in, h->abi);
        in->paused = 1;
        break;
    case CMD_RESUME:
        if (in->paused) {
            instance_resume(in, h->abi);
            in->paused = 0;
            *next = now_mono() + h->interval;
        }
        break;
    case CMD_EXIT:
        if (in->initialized && in->thread_started == 2) {
            instance_pause(in, h->abi); /* Fluent Bit pauses again on exit */
        }
        instance_exit(in, h->abi, atomic_load(&g_reloading));
        quit = 1;
        break;
    default: break;
    }
    pthread_mutex_lock(&in->mu);
    return quit;
}

static void *input_thread(void *arg)
{
    struct instance *in = arg;
    struct host *h = &g_host;
    char tname[128];
    double next = 0;
    int running = 0;

    snprintf(tname, sizeof tname, "flb-in-%s-w0", in->name);
    set_thread_name(tname);
    if (instance_init(in, h->abi) != 0) {
        g_failed = 1;
    }
    pthread_mutex_lock(&in->mu);
    in->init_done = 1;
    pthread_cond_broadcast(&in->cv);
    for (;;) {
        int cmd;
        if (in->cmd != CMD_NONE) {
            int quit;
            cmd = in->cmd;
            if (cmd == CMD_START) {
                running = 1;
                in->thread_started = 2;
            }
            quit = input_do_cmd(in, cmd, &next);
            in->cmd = CMD_NONE;
            in->cmd_ack++;
            pthread_cond_broadcast(&in->cv);
            if (quit) {
                break;
            }
            continue;
        }
        if (!running || in->paused) {
            pthread_cond_wait(&in->cv, &in->mu);
            continue;
        }
        if (now_mono() < next) {
            struct timespec ts = abs_mono(next);
            pthread_cond_timedwait(&in->cv, &in->mu, &ts);
            continue;
        }
        pthread_mutex_unlock(&in->mu);
        {
            uint64_t recs;
            size_t bytes;
            instance_collect(in, h->abi, input_sink, in, &recs, &bytes);
        }
        next += h->interval;
        if (next < now_mono()) {
            next = now_mono() + h->interval;
        }
        pthread_mutex_lock(&in->mu);
    }
    pthread_mutex_unlock(&in->mu);
    return NULL;
}

static void input_cmd(struct instance *in, int cmd)
{
    int seq;
    if (!in->thread_started) {
        return;
    }
    pthread_mutex_lock(&in->mu);
    while (in->cmd != CMD_NONE) {
        pthread_cond_wait(&in->cv, &in->mu);
    }
    in->cmd = cmd;
    seq = ++in->cmd_seq;
    pthread_cond_broadcast(&in->cv);
    while (in->cmd_ack < seq) {
        pthread_cond_wait(&in->cv, &in->mu);
    }
    pthread_mutex_unlock(&in->mu);
}

/* ---------------- chunks, flush, retries ---------------- */

static void chunk_release(struct chunk *ch)
{
    if (atomic_fetch_sub(&ch->refs, 1) == 1) {
        free(ch->data);
        free(ch->tag);
        free(ch);
    }
}

struct flush_call {
    struct instance *out;
    struct chunk *ch;
    int ret;
};

static void flush_on_coro(void *arg)
{
    struct flush_call *fc = arg;
    fc->ret = instance_flush(fc->out, fc->ch->data, fc->ch->len, fc->ch->tag);
}

static void task_done(struct task *t)
{
    chunk_release(t->ch);
    free(t);
    pthread_mutex_lock(&g_mu);
    g_pending--;
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
}

static void run_task(struct task *t)
{
    struct instance *out = t->out;
    struct flush_call fc = {out, t->ch, 0};
    int c = atomic_fetch_add(&out->cur_conc, 1) + 1;
    int m = atomic_load(&out->max_conc);
    while (c > m && !atomic_compare_exchange_weak(&out->max_conc, &m, c)) {
    }
    t->attempts++;
    atomic_fetch_add(&out->flushes, 1);
    coro_run(flush_on_coro, &fc);
    atomic_fetch_sub(&out->cur_conc, 1);

    if (fc.ret == FLB_OK) {
        atomic_fetch_add(&out->flush_ok, 1);
        atomic_fetch_add(&out->records_ok, t->ch->records);
        if (g_host.max_records &&
            atomic_fetch_add(&g_records_ok_total, t->ch->records) + t->ch->records >=
                g_host.max_records) {
            atomic_store(&g_quit, 1);
            atomic_store(&g_stop, 1);
        }
        task_done(t);
        return;
    }
    if (fc.ret == FLB_RETRY) {
        int retries_done = t->attempts - 1;
        pthread_mutex_lock(&g_mu);
        if (!g_final && (out->retry_limit < 0 || retries_done < out->retry_limit)) {
            double wait = g_host.retry_wait * pow(2.0, retries_done);
            if (wait > 60.0) {
                wait = 60.0;
            }
            t->due = now_mono() + wait;
            t->next = g_retries;
            g_retries = t;
            atomic_fetch_add(&out->retries, 1);
            pthread_cond_broadcast(&g_cv);
            pthread_mutex_unlock(&g_mu);
            host_log(FLB_LOG_DEBUG, "[%s] flush returned FLB_RETRY, retry %d in %.2fs", out->name,
                     retries_done + 1, wait);
            return;
        }
        pthread_mutex_unlock(&g_mu);
        atomic_fetch_add(&out->dropped, 1);
        host_log(FLB_LOG_WARN, "[%s] chunk (%llu records) dropped after %d retr%s", out->name,
                 (unsigned long long) t->ch->records, retries_done, retries_done == 1 ? "y" : "ies");
        task_done(t);
        return;
    }
    atomic_fetch_add(&out->errors, 1);
    atomic_fetch_add(&out->dropped, 1);
    if (fc.ret != FLB_ERROR) {
        host_log(FLB_LOG_WARN, "[%s] flush returned unknown code %d, treated as FLB_ERROR",
                 out->name, fc.ret);
    } else {
        host_log(FLB_LOG_WARN, "[%s] flush returned FLB_ERROR: chunk dropped", out->name);
    }
    task_done(t);
}

static void dispatch(struct task *t)
{
    struct instance *out = t->out;
    if (out->workers > 0) {
        pthread_mutex_lock(&out->mu);
        t->next = NULL;
        if (out->q_tail) {
            out->q_tail->next = t;
        } else {
            out->q_head = t;
        }
        out->q_tail = t;
        pthread_cond_signal(&out->cv);
        pthread_mutex_unlock(&out->mu);
    } else {
        run_task(t);
    }
}

static void *worker_thread(void *arg)
{
    struct instance *out = arg;
    char tname[128];
    int k;
    pthread_mutex_lock(&out->mu);
    k = out->nworkers_started++;
    pthread_mutex_unlock(&out->mu);
    snprintf(tname, sizeof tname, "flb-out-%s-w%d", out->name, k);
    set_thread_name(tname);
    if (coro_thread_init(g_host.coro_stack) != 0) {
        host_error("cannot allocate a coroutine stack for %s", tname);
    }
    for (;;) {
        struct task *t;
        pthread_mutex_lock(&out->mu);
        while (out->q_head == NULL && !out->q_stop) {
            pthread_cond_wait(&out->cv, &out->mu);
        }
        t = out->q_head;
        if (t == NULL) {
            pthread_mutex_unlock(&out->mu);
            break;
        }
        out->q_head = t->next;
        if (out->q_head == NULL) {
            out->q_tail = NULL;
        }
        pthread_mutex_unlock(&out->mu);
        run_task(t);
    }
    coro_thread_fini();
    return NULL;
}

static void route_chunk(struct host *h, struct instance *in, struct chunk *ch)
{
    int routed = 0;
    atomic_store(&ch->refs, 1);
    atomic_fetch_add(&in->chunks, 1);
    for (size_t j = 0; j < h->nins; j++) {
        struct instance *out = h->ins[j];
        struct task *t;
        if (out->type != FLB_PROXY_OUTPUT_PLUGIN || !out->initialized) {
            continue;
        }
        if (!tag_match(out->match ? out->match : "", ch->tag)) {
            continue;
        }
        t = xcalloc(1, sizeof *t);
        t->ch = ch;
        t->out = out;
        atomic_fetch_add(&ch->refs, 1);
        atomic_fetch_add(&out->chunks, 1);
        atomic_fetch_add(&out->records_out, ch->records);
        pthread_mutex_lock(&g_mu);
        g_pending++;
        pthread_mutex_unlock(&g_mu);
        routed++;
        dispatch(t);
    }
    if (!routed) {
        host_log(FLB_LOG_DEBUG, "[%s] chunk with tag '%s' matches no output; dropped", in->name,
                 ch->tag);
    }
    chunk_release(ch);
}

/* each (input, tag) buffer becomes one chunk of that tag, routed to the matching outputs */
static void flush_inputs(struct host *h)
{
    for (size_t i = 0; i < h->nins; i++) {
        struct instance *in = h->ins[i];
        struct tag_buf *list;
        if (in->type != FLB_PROXY_INPUT_PLUGIN) {
            continue;
        }
        pthread_mutex_lock(&in->mu);
        list = in->bufs;
        in->bufs = NULL;
        pthread_mutex_unlock(&in->mu);
        while (list != NULL) {
            struct tag_buf *b = list;
            list = b->next;
            if (b->len == 0) {
                free(b->buf);
                free(b->tag);
            } else {
                struct chunk *ch = xcalloc(1, sizeof *ch);
                ch->data = b->buf;
                ch->len = b->len;
                ch->records = b->records;
                ch->tag = b->tag;
                route_chunk(h, in, ch);
            }
            free(b);
        }
    }
}

/* dispatch retries that are due (or all of them when force) */
static void run_due_retries(int force)
{
    for (;;) {
        struct task *t = NULL, **pp, **best = NULL;
        double now = now_mono();
        pthread_mutex_lock(&g_mu);
        for (pp = &g_retries; *pp; pp = &(*pp)->next) {
            if ((force || (*pp)->due <= now) && (best == NULL || (*pp)->due < (*best)->due)) {
                best = pp;
            }
        }
        if (best) {
            t = *best;
            *best = t->next;
        }
        pthread_mutex_unlock(&g_mu);
        if (t == NULL) {
            return;
        }
        dispatch(t);
    }
}

static double next_retry_due(void)
{
    double d = INFINITY;
    for (struct task *t = g_retries; t; t = t->next) {
        if (t->due < d) {
            d = t->due;
        }
    }
    return d;
}

static void handle_pause_requests(struct host *h)
{
    int p = atomic_exchange(&g_pause_req, 0);
    int r = atomic_exchange(&g_resume_req, 0);
    for (size_t i = 0; i < h->nins; i++) {
        if (h->ins[i]->type == FLB_PROXY_INPUT_PLUGIN) {
            if (p) {
                input_cmd(h->ins[i], CMD_PAUSE);
            }
            if (r) {
                input_cmd(h->ins[i], CMD_RESUME);
            }
        }
    }
}

static void start_workers(struct instance *out)
{
    out->worker_threads = xcalloc((size_t) out->workers, sizeof(pthread_t));
    for (int k = 0; k < out->workers; k++) {
        if (pthread_create(&out->worker_threads[k], NULL, worker_thread, out) != 0) {
            host_error("cannot start worker %d of %s", k, out->name);
            out->workers = k;
            break;
        }
    }
}

static void stop_workers(struct instance *out)
{
    if (out->worker_threads == NULL) {
        return;
    }
    pthread_mutex_lock(&out->mu);
    out->q_stop = 1;
    pthread_cond_broadcast(&out->cv);
    pthread_mutex_unlock(&out->mu);
    for (int k = 0; k < out->workers; k++) {
        pthread_join(out->worker_threads[k], NULL);
    }
    free(out->worker_threads);
    out->worker_threads = NULL;
}

static void *pipeline_thread(void *arg)
{
    struct host *h = arg;
    double next_flush;
    double grace_end;
    int reload;
    set_thread_name("flb-pipeline");
    coro_thread_init(h->coro_stack);

    /* 1. inputs: each on its own thread, init there; wait for all */
    for (size_t i = 0; i < h->nins && !g_failed; i++) {
        struct instance *in = h->ins[i];
        if (in->type != FLB_PROXY_INPUT_PLUGIN) {
            continue;
        }
        if (pthread_create(&in->thread, NULL, input_thread, in) != 0) {
            host_error("cannot start the thread of %s", in->name);
            g_failed = 1;
            break;
        }
        in->thread_started = 1;
        pthread_mutex_lock(&in->mu);
        while (!in->init_done) {
            pthread_cond_wait(&in->cv, &in->mu);
        }
        pthread_mutex_unlock(&in->mu);
    }
    /* 2. outputs: init + pre-run on this thread, then their workers */
    for (size_t i = 0; i < h->nins && !g_failed; i++) {
        struct instance *out = h->ins[i];
        if (out->type != FLB_PROXY_OUTPUT_PLUGIN) {
            continue;
        }
        if (instance_init(out, h->abi) != 0) {
            g_failed = 1;
            break;
        }
        instance_prerun(out, h->abi, h->hot_reload);
        if (out->workers > 0) {
            start_workers(out);
        }
    }
    /* 3. inputs pre-run and start their timers */
    if (!g_failed) {
        for (size_t i = 0; i < h->nins; i++) {
            if (h->ins[i]->type == FLB_PROXY_INPUT_PLUGIN) {
                input_cmd(h->ins[i], CMD_START);
            }
        }
    } else {
        atomic_store(&g_quit, 1);
        atomic_store(&g_stop, 1);
    }

    pthread_mutex_lock(&g_mu);
    g_started = 1;
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);

    /* 4. main loop: flush timer, retries, pause/resume */
    next_flush = now_mono() + h->flush;
    while (!atomic_load(&g_stop)) {
        double now = now_mono();
        double wake;
        if (atomic_load(&g_pause_req) || atomic_load(&g_resume_req)) {
            handle_pause_requests(h);
        }
        if (now >= next_flush) {
            flush_inputs(h);
            next_flush += h->flush;
            if (next_flush < now) {
                next_flush = now + h->flush;
            }
        }
        run_due_retries(0);
        pthread_mutex_lock(&g_mu);
        wake = next_flush;
        if (next_retry_due() < wake) {
            wake = next_retry_due();
        }
        if (!atomic_load(&g_stop) && !atomic_load(&g_pause_req) && !atomic_load(&g_resume_req) &&
            now_mono() < wake) {
            struct timespec ts = abs_mono(wake);
            pthread_cond_timedwait(&g_cv, &g_mu, &ts);
        }
        pthread_mutex_unlock(&g_mu);
    }

    /* 5. shutdown (and hot reload), in Fluent Bit's order: the engine's STOP flushes what is
     * buffered (flb_engine.c:948), then pauses the inputs (flb_engine_stop_ingestion, :1424);
     * what they collected in between goes with the grace loop's flush (:1501) */
    if (!g_failed) {
        flush_inputs(h);
    }
    for (size_t i = 0; i < h->nins; i++) {
        struct instance *in = h->ins[i];
        if (in->type == FLB_PROXY_INPUT_PLUGIN && in->initialized && in->thread_started == 2) {
            input_cmd(in, CMD_PAUSE_FORCE);
        }
    }
    if (!g_failed) {
        flush_inputs(h); /* the last flush: whatever came before the pause */
    }
    /* a hot reload waits for every task, with no limit (Fluent Bit: grace -1 under
     * ensure_thread_safety_on_hot_reloading, on by default); its retries are expedited once, as
     * flb_engine_reschedule_retries does at STOP, then keep their backoff */
    reload = atomic_load(&g_reloading);
    grace_end = reload ? INFINITY : now_mono() + h->grace;
    for (int first = 1;; first = 0) {
        int pending;
        run_due_retries(!reload || first); /* pending retries are expedited at shutdown */
        pthread_mutex_lock(&g_mu);
        pending = g_pending;
        if (pending > 0 && now_mono() < grace_end && (reload || g_retries == NULL)) {
            double until = now_mono() + 0.05 < grace_end ? now_mono() + 0.05 : grace_end;
            struct timespec ts;
            if (next_retry_due() < until) {
                until = next_retry_due();
            }
            ts = abs_mono(until);
            pthread_cond_timedwait(&g_cv, &g_mu, &ts);
        }
        pthread_mutex_unlock(&g_mu);
        if (pending == 0) {
            break;
        }
        if (now_mono() >= grace_end) {
            struct task *t;
            pthread_mutex_lock(&g_mu);
            g_final = 1;
            t = g_retries;
            g_retries = NULL;
            pthread_mutex_unlock(&g_mu);
            while (t) {
                struct task *n = t->next;
                atomic_fetch_add(&t->out->dropped, 1);
                host_log(FLB_LOG_WARN, "[%s] grace period over: pending retry dropped",
                         t->out->name);
                task_done(t);
                t = n;
            }
            break;
        }
    }
    for (size_t i = 0; i < h->nins; i++) {
        struct instance *out = h->ins[i];
        if (out->type == FLB_PROXY_OUTPUT_PLUGIN) {
            pthread_mutex_lock(&g_mu);
            g_final = 1;
            pthread_mutex_unlock(&g_mu);
            stop_workers(out);
            instance_exit(out, h->abi, reload);
        }
    }
    for (size_t i = 0; i < h->nins; i++) {
        struct instance *in = h->ins[i];
        if (in->type == FLB_PROXY_INPUT_PLUGIN && in->thread_started) {
            input_cmd(in, CMD_EXIT);
            pthread_join(in->thread, NULL);
            in->thread_started = 0;
        }
    }
    coro_thread_fini();
    atomic_store(&g_pipeline_done, 1);
    return NULL;
}

static void print_summary(struct host *h, double secs)
{
    fprintf(stderr, "flb-host: summary: abi %s, %.1f s, reloads=%d\n", abi_name(h->abi), secs,
            h->reloads);
    for (size_t i = 0; i < h->nins; i++) {
        struct instance *in = h->ins[i];
        if (in->type == FLB_PROXY_INPUT_PLUGIN) {
            fprintf(stderr,
                    "flb-host:   input  %s tag=%s: collects=%llu empty=%llu failed=%llu "
                    "records=%llu bytes=%llu chunks=%llu appends=%llu invalid=%llu errors=%llu\n",
                    in->name, in->tag ? in->tag : "", (unsigned long long) in->collects,
                    (unsigned long long) in->collect_empty, (unsigned long long) in->collect_fail,
                    (unsigned long long) in->records_in, (unsigned long long) in->bytes_in,
                    (unsigned long long) in->chunks, (unsigned long long) in->appends,
                    (unsigned long long) in->invalid, (unsigned long long) in->errors);
        } else {
            fprintf(stderr,
                    "flb-host:   output %s match=%s: chunks=%llu records=%llu flushes=%llu "
                    "ok=%llu records_ok=%llu retries=%llu dropped=%llu errors=%llu workers=%d "
                    "max_concurrency=%d\n",
                    in->name, in->match ? in->match : "", (unsigned long long) in->chunks,
                    (unsigned long long) in->records_out, (unsigned long long) in->flushes,
                    (unsigned long long) in->flush_ok, (unsigned long long) in->records_ok,
                    (unsigned long long) in->retries, (unsigned long long) in->dropped,
                    (unsigned long long) in->errors, in->workers, (int) in->max_conc);
        }
    }
}

/* starts the pipeline thread and, as flb_start does, returns once its instances are initialized
 * and started (or failed) */
static int start_pipeline(struct host *h)
{
    atomic_store(&g_pipeline_done, 0);
    pthread_mutex_lock(&g_mu);
    g_started = 0;
    pthread_mutex_unlock(&g_mu);
    if (pthread_create(&g_pipeline, NULL, pipeline_thread, h) != 0) {
        host_error("cannot start the pipeline thread");
        return -1;
    }
    pthread_mutex_lock(&g_mu);
    while (!g_started) {
        pthread_cond_wait(&g_cv, &g_mu);
    }
    pthread_mutex_unlock(&g_mu);
    return 0;
}

/* the run-time state a pipeline leaves in an instance, back to what a first start sees; the
 * counters stay (the summary adds up across reloads) */
static void instance_reset_run_state(struct instance *in)
{
    in->thread_started = 0;
    in->init_done = 0;
    in->cmd = CMD_NONE;
    in->cmd_ack = 0;
    in->cmd_seq = 0;
    in->paused = 0;
    in->q_head = NULL;
    in->q_tail = NULL;
    in->q_stop = 0;
    in->inflight = 0;
    in->nworkers_started = 0;
    atomic_store(&in->cur_conc, 0);
}

/* After the old context's Unregister. Fluent Bit keeps the new definition's description pointer
 * (flb_input_plugin / flb_output_plugin .description, flb_plugin_proxy.c:374 / :407, read by -h
 * and the plugin help), and the plugin must keep name and description valid until the
 * Unregister of that new definition. In a reload the old definition's Unregister comes after the
 * new Register, in the same loaded .so: a plugin that hands the same strings to every Register
 * and frees them in Unregister leaves the new definition dangling. Seen here as the strings
 * having changed (the ASan build reports the read as a use-after-free). */
static void check_defs_after_unregister(struct plugin_so **sos, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        struct plugin_so *so = sos[j];
        const char *nm, *ds;
        if (so == NULL || !so->registered) {
            continue;
        }
        nm = so->def->name;
        ds = so->def->description;
        if (nm != so->reg_name || ds != so->reg_description) {
            host_log(FLB_LOG_ERROR,
                     "[reload] '%s': the plugin rewrote the name/description pointers of its "
                     "new definition during the previous definition's FLBPluginUnregister; "
                     "Fluent Bit keeps the description pointer of the new one",
                     so->name);
        } else if (nm == NULL || strcmp(nm, so->name) != 0 ||
                   strcmp(ds ? ds : "", so->description) != 0) {
            host_log(FLB_LOG_ERROR,
                     "[reload] '%s': the name/description strings of the new definition "
                     "changed during the previous definition's FLBPluginUnregister (freed by "
                     "it?): they must stay valid until the new definition's own Unregister",
                     so->name);
        }
    }
}

/* One hot reload, on the main thread, in Fluent Bit's order (see the top of this file). Returns
 * 0 when a pipeline runs afterwards (the new one, or the old one when the reload was halted), -1
 * when none does (the new pipeline could not start: the caller ends the run). */
static int hot_reload(struct host *h)
{
    struct plugin_so **nsos = xcalloc(h->nso_paths ? h->nso_paths : 1, sizeof *nsos);
    size_t n = 0;

    host_log(FLB_LOG_INFO, "reloading instance pid=%ld", (long) getpid());
    /* 1. the new context's plugins, while the old instances run: dlopen (the handle the old
     * context holds, its count raised), FLBPluginPreRegister(1), FLBPluginRegister(new def) */
    for (size_t i = 0; i < h->nso_paths; i++) {
        struct plugin_so *so = loader_open(h->so_paths[i], h->abi);
        if (so == NULL) {
            goto halt;
        }
        nsos[n++] = so;
        if (loader_register(so, h->abi, 1) != 0) {
            goto halt;
        }
    }
    /* 2. the configuration must hold with them before anything stops */
    for (size_t i = 0; i < h->nins; i++) {
        if (loader_find(nsos, n, h->ins[i]) == NULL) {
            host_error("[reload] %s plugin '%s' is not registered by the reloaded plugins",
                       h->ins[i]->type == FLB_PROXY_INPUT_PLUGIN ? "input" : "output",
                       h->ins[i]->plugin_name);
            goto halt;
        }
    }
    /* 3. flb_stop(old): the pipeline thread flushes, waits for every task, exits the instances
     * with PreExit(1) */
    host_log(FLB_LOG_INFO, "[reload] stop everything of the old context");
    atomic_store(&g_reloading, 1);
    atomic_store(&g_stop, 1);
    wake_pipeline();
    pthread_join(g_pipeline, NULL);
    /* 4. flb_destroy(old): Unregister(old def), inputs first, and dlclose (the count only) */
    for (size_t i = 0; i < h->nins; i++) {
        instance_unprepare(h->ins[i]);
        instance_reset_run_state(h->ins[i]);
    }
    loader_teardown(h);
    free(h->sos);
    h->sos = nsos;
    h->nsos = n;
    check_defs_after_unregister(nsos, n);
    /* 5. flb_start(new): the same instances on the new registrations, new threads */
    host_log(FLB_LOG_INFO, "[reload] start everything");
    h->reloads++;
    for (size_t i = 0; i < h->nins; i++) {
        struct instance *in = h->ins[i];
        in->so = loader_find(nsos, n, in);
        if (instance_prepare(in, h->abi) != 0) {
            g_failed = 1;
            return -1;
        }
    }
    pthread_mutex_lock(&g_mu);
    g_final = 0;
    pthread_mutex_unlock(&g_mu);
    atomic_store(&g_reloading, 0);
    atomic_store(&g_stop, atomic_load(&g_quit));
    if (start_pipeline(h) != 0) {
        g_failed = 1;
        return -1;
    }
    host_log(FLB_LOG_INFO, "[reload] successful reload done (%d so far)", h->reloads);
    return 0;
halt:
    /* flb_destroy(new ctx): what was registered is unregistered, everything dlclosed */
    loader_teardown_list(nsos, n);
    free(nsos);
    host_error("[reload] the reloaded plugins do not load. Reloading is halted");
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

int pipeline_run(struct host *h)
{
    sigset_t set;
    double start, paused_at = -1;
    double next_every = h->reload_every > 0 ? h->reload_every : INFINITY;
    size_t next_at = 0;
    int paused_done = 0, resumed_done = 0, rc = 0, running;
    struct timespec tick = {0, 50 * 1000000L};

    cond_init_mono(&g_cv);
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    set_thread_name("fluent-bit");
    if (h->nreload_at > 1) {
        qsort(h->reload_at, h->nreload_at, sizeof *h->reload_at, cmp_double);
    }

    if (host_exports_load(h) != 0 || host_configmap_load(h) != 0) {
        return EXIT_HOST_ERROR;
    }
    if (loader_load_all(h) != 0 || loader_bind_instances(h) != 0) {
        loader_teardown(h);
        return EXIT_HOST_ERROR;
    }
    for (size_t i = 0; i < h->nins; i++) {
        pthread_mutex_destroy(&h->ins[i]->mu);
        pthread_cond_destroy(&h->ins[i]->cv);
        pthread_mutex_init(&h->ins[i]->mu, NULL);
        cond_init_mono(&h->ins[i]->cv);
    }
    start = now_mono();
    if (start_pipeline(h) != 0) {
        loader_teardown(h);
        return EXIT_HOST_ERROR;
    }
    running = 1;
    while (!atomic_load(&g_pipeline_done)) {
        siginfo_t si;
        int sig = sigtimedwait(&set, &si, &tick);
        double el = now_mono() - start;
        int reload = 0;
        if (sig == SIGINT || sig == SIGTERM) {
            host_log(FLB_LOG_INFO, "flb-host: received %s, shutting down",
                     sig == SIGINT ? "SIGINT" : "SIGTERM");
            atomic_store(&g_quit, 1);
            atomic_store(&g_stop, 1);
        } else if (sig == SIGUSR1) {
            atomic_store(&g_pause_req, 1);
        } else if (sig == SIGUSR2) {
            atomic_store(&g_resume_req, 1);
        } else if (sig == SIGHUP) {
            if (h->hot_reload) {
                reload = 1;
            } else {
                /* Fluent Bit: flb_reload() returns FLB_RELOAD_NOT_ENABLED (flb_reload.c:481) */
                host_log(FLB_LOG_WARN, "[reload] hot reloading is not enabled (--hot-reload, "
                                       "or Hot_Reload On in [SERVICE]); SIGHUP ignored");
            }
        }
        if (h->duration > 0 && el >= h->duration) {
            atomic_store(&g_quit, 1);
            atomic_store(&g_stop, 1);
        }
        if (next_at < h->nreload_at && el >= h->reload_at[next_at]) {
            next_at++;
            reload = 1;
        }
        if (el >= next_every) {
            next_every += h->reload_every;
            reload = 1;
        }
        if (h->pause_after > 0 && !paused_done && el >= h->pause_after) {
            paused_done = 1;
            paused_at = el;
            atomic_store(&g_pause_req, 1);
        }
        if (h->resume_after > 0 && paused_done && !resumed_done && el >= h->resume_after &&
            paused_at >= 0) {
            resumed_done = 1;
            atomic_store(&g_resume_req, 1);
        }
        if (reload && !atomic_load(&g_stop)) {
            if (hot_reload(h) != 0) {
                running = 0;
                break;
            }
            if (next_every <= now_mono() - start) {
                next_every = now_mono() - start + h->reload_every;
            }
            continue;
        }
        if (sig > 0 || atomic_load(&g_stop)) {
            wake_pipeline();
        }
    }
    if (running) {
        pthread_join(g_pipeline, NULL);
    }
    if (g_failed) {
        rc = EXIT_HOST_ERROR;
    }
    loader_teardown(h);
    print_summary(h, now_mono() - start);
    if (mc_enabled()) {
        struct mc_stats ms;
        mc_snapshot(&ms);
        fprintf(stderr,
                "flb-host:   plugin-malloc all: mallocs=%llu malloc_bytes=%llu frees=%llu "
                "live=%llu live_bytes=%llu untracked=%llu\n",
                (unsigned long long) ms.mallocs, (unsigned long long) ms.malloc_bytes,
                (unsigned long long) ms.frees, (unsigned long long) ms.live_count,
                (unsigned long long) ms.live_bytes, (unsigned long long) ms.untracked);
    } else {
        fprintf(stderr, "flb-host:   plugin-malloc all: counting disabled (ASan build)\n");
    }
    return rc;
}
