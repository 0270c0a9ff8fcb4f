/* flb-host: run mode. Input threads with collect timers, chunk buffering and routing, flush on
 * the pipeline thread or on worker threads (always on a coroutine stack), retries with backoff,
 * pause/resume, and the shutdown order observed in Fluent Bit 5.1.1. */
#include "flb_host.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
static atomic_int g_stop;
static atomic_int g_pause_req, g_resume_req;
static atomic_int g_pipeline_done;
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
        instance_prerun(in, h->abi);
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
        instance_exit(in, h->abi);
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
        instance_prerun(out, h->abi);
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
        atomic_store(&g_stop, 1);
    }

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

    /* 5. shutdown, in Fluent Bit's order */
    for (size_t i = 0; i < h->nins; i++) {
        struct instance *in = h->ins[i];
        if (in->type == FLB_PROXY_INPUT_PLUGIN && in->initialized && in->thread_started == 2) {
            input_cmd(in, CMD_PAUSE_FORCE);
        }
    }
    if (!g_failed) {
        flush_inputs(h); /* the last flush of what is buffered */
    }
    grace_end = now_mono() + h->grace;
    for (;;) {
        int pending;
        run_due_retries(1); /* pending retries are expedited at shutdown */
        pthread_mutex_lock(&g_mu);
        pending = g_pending;
        if (pending > 0 && now_mono() < grace_end && g_retries == NULL) {
            struct timespec ts = abs_mono(now_mono() + 0.05 < grace_end ? now_mono() + 0.05
                                                                          : grace_end);
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
            instance_exit(out, h->abi);
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
    fprintf(stderr, "flb-host: summary: abi %s, %.1f s\n", abi_name(h->abi), secs);
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

int pipeline_run(struct host *h)
{
    sigset_t set;
    pthread_t pt;
    double start, paused_at = -1;
    int paused_done = 0, resumed_done = 0, rc = 0;
    struct timespec tick = {0, 50 * 1000000L};

    cond_init_mono(&g_cv);
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    set_thread_name("fluent-bit");

    if (host_exports_load(h) != 0) {
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
    if (pthread_create(&pt, NULL, pipeline_thread, h) != 0) {
        host_error("cannot start the pipeline thread");
        loader_teardown(h);
        return EXIT_HOST_ERROR;
    }
    while (!atomic_load(&g_pipeline_done)) {
        siginfo_t si;
        int sig = sigtimedwait(&set, &si, &tick);
        double el = now_mono() - start;
        if (sig == SIGINT || sig == SIGTERM) {
            host_log(FLB_LOG_INFO, "flb-host: received %s, shutting down",
                     sig == SIGINT ? "SIGINT" : "SIGTERM");
            atomic_store(&g_stop, 1);
        } else if (sig == SIGUSR1) {
            atomic_store(&g_pause_req, 1);
        } else if (sig == SIGUSR2) {
            atomic_store(&g_resume_req, 1);
        }
        if (h->duration > 0 && el >= h->duration) {
            atomic_store(&g_stop, 1);
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
        if (sig > 0 || atomic_load(&g_stop)) {
            wake_pipeline();
        }
    }
    pthread_join(pt, NULL);
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
