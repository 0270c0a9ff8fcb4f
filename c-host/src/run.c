/* flb-host run mode: the main thread of `flb-host run`. It loads the plugins, starts the
 * pipeline (lifecycle.c) and then waits on the signals Fluent Bit answers (SIGINT/SIGTERM stop,
 * SIGHUP reloads when hot reload is on, SIGUSR1/SIGUSR2 pause/resume) and on the timed events of
 * the command line (--duration, --pause-after, --resume-after, --reload-after, --reload-every);
 * at the end it unloads the plugins and prints the summary. */
#include "pipeline.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>

/* The counters of an instance's summary line, in their order. */
struct counter {
    const char *name;
    size_t member; /* an _Atomic uint64_t of struct instance */
};
#define COUNTER(name, member) {name, offsetof(struct instance, member)}
static const struct counter input_counters[] = {
    COUNTER("collects", collects), COUNTER("empty", collect_empty),
    COUNTER("failed", collect_fail), COUNTER("records", records_in),
    COUNTER("bytes", bytes_in),      COUNTER("chunks", chunks),
    COUNTER("appends", appends),     COUNTER("invalid", invalid),
    COUNTER("errors", errors),
};
static const struct counter output_counters[] = {
    COUNTER("chunks", chunks),         COUNTER("records", records_out),
    COUNTER("flushes", flushes),       COUNTER("ok", flush_ok),
    COUNTER("records_ok", records_ok), COUNTER("retries", retries),
    COUNTER("dropped", dropped),       COUNTER("errors", errors),
};

/* "flb-host:   input  NAME tag=TAG: collects=N ..." / "flb-host:   output NAME match=M: ..." */
static void print_instance_summary(const struct instance *in)
{
    int input = in->type == FLB_PROXY_INPUT_PLUGIN;
    const struct counter *c = input ? input_counters : output_counters;
    size_t n = input ? sizeof input_counters / sizeof *c : sizeof output_counters / sizeof *c;
    char line[2048];
    size_t off = 0;
#define PUT(...)                                                                              \
    do {                                                                                      \
        if (off < sizeof line) {                                                              \
            off += (size_t) snprintf(line + off, sizeof line - off, __VA_ARGS__);             \
        }                                                                                     \
    } while (0)
    if (input) {
        PUT("flb-host:   input  %s tag=%s:", in->name, in->tag ? in->tag : "");
    } else {
        PUT("flb-host:   output %s match=%s:", in->name, in->match ? in->match : "");
    }
    for (size_t i = 0; i < n; i++) {
        const _Atomic uint64_t *v = (const _Atomic uint64_t *) ((const char *) in + c[i].member);
        PUT(" %s=%llu", c[i].name, (unsigned long long) atomic_load(v));
    }
    if (!input) {
        PUT(" workers=%d max_concurrency=%d", in->workers, (int) in->max_conc);
    }
#undef PUT
    fprintf(stderr, "%s\n", line);
}

static void print_summary(struct host *h, double secs)
{
    fprintf(stderr, "flb-host: summary: abi %s, %.1f s, reloads=%d\n", abi_name(h->abi), secs,
            h->reloads);
    for (size_t i = 0; i < h->nins; i++) {
        print_instance_summary(h->ins[i]);
    }
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
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

/* where the timed events of the command line are, in seconds from start */
struct schedule {
    double start;
    size_t next_at;    /* the next --reload-after (h->reload_at, sorted) */
    double next_every; /* the next --reload-every */
    int paused;        /* --pause-after done */
    int resumed;       /* --resume-after done */
};

static void stop(struct pipeline *pl)
{
    atomic_store(&pl->quit, 1);
    atomic_store(&pl->stop, 1);
}

/* a signal Fluent Bit answers; 1 when it asks for a hot reload */
static int on_signal(struct pipeline *pl, int sig)
{
    if (sig == SIGINT || sig == SIGTERM) {
        host_log(FLB_LOG_INFO, "flb-host: received %s, shutting down",
                 sig == SIGINT ? "SIGINT" : "SIGTERM");
        stop(pl);
    } else if (sig == SIGUSR1) {
        atomic_store(&pl->pause_req, 1);
    } else if (sig == SIGUSR2) {
        atomic_store(&pl->resume_req, 1);
    } else if (sig == SIGHUP) {
        if (pl->h->hot_reload) {
            return 1;
        }
        /* Fluent Bit: flb_reload() returns FLB_RELOAD_NOT_ENABLED (flb_reload.c:481) */
        host_log(FLB_LOG_WARN, "[reload] hot reloading is not enabled (--hot-reload, "
                               "or Hot_Reload On in [SERVICE]); SIGHUP ignored");
    }
    return 0;
}

/* the timed events due el seconds after start; 1 when a hot reload is */
static int on_time(struct pipeline *pl, struct schedule *s, double el)
{
    struct host *h = pl->h;
    int reload = 0;
    if (h->duration > 0 && el >= h->duration) {
        stop(pl);
    }
    if (s->next_at < h->nreload_at && el >= h->reload_at[s->next_at]) {
        s->next_at++;
        reload = 1;
    }
    if (el >= s->next_every) {
        s->next_every += h->reload_every;
        reload = 1;
    }
    if (h->pause_after > 0 && !s->paused && el >= h->pause_after) {
        s->paused = 1;
        atomic_store(&pl->pause_req, 1);
    }
    if (h->resume_after > 0 && s->paused && !s->resumed && el >= h->resume_after) {
        s->resumed = 1;
        atomic_store(&pl->resume_req, 1);
    }
    return reload;
}

/* The main thread while the pipeline runs: signals and timed events, every 50 ms at least.
 * 0 when the pipeline ended (its thread still to join), -1 when a hot reload left none running. */
static int watch(struct pipeline *pl, const sigset_t *set, struct schedule *s)
{
    struct timespec tick = {0, 50 * 1000000L};
    while (!atomic_load(&pl->done)) {
        siginfo_t si;
        int sig = sigtimedwait(set, &si, &tick);
        int reload = on_signal(pl, sig);
        reload |= on_time(pl, s, now_mono() - s->start);
        if (reload && !atomic_load(&pl->stop)) {
            if (hot_reload(pl) != 0) {
                return -1;
            }
            if (s->next_every <= now_mono() - s->start) {
                s->next_every = now_mono() - s->start + pl->h->reload_every;
            }
            continue;
        }
        if (sig > 0 || atomic_load(&pl->stop)) {
            pipeline_wake(pl);
        }
    }
    return 0;
}

int pipeline_run(struct host *h)
{
    struct pipeline run = {.h = h}, *pl = &run;
    struct schedule sched = {0};
    sigset_t set;
    int rc = 0;

    pthread_mutex_init(&pl->mu, NULL);
    cond_init_mono(&pl->cv);
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
        h->ins[i]->pl = pl;
    }
    sched.start = now_mono();
    sched.next_every = h->reload_every > 0 ? h->reload_every : INFINITY;
    if (pipeline_start(pl) != 0) {
        loader_teardown(h);
        return EXIT_HOST_ERROR;
    }
    if (watch(pl, &set, &sched) == 0) {
        pthread_join(pl->thread, NULL);
    }
    if (pl->failed) {
        rc = EXIT_HOST_ERROR;
    }
    loader_teardown(h);
    print_summary(h, now_mono() - sched.start);
    for (size_t i = 0; i < h->nins; i++) {
        h->ins[i]->pl = NULL;
    }
    pthread_cond_destroy(&pl->cv);
    pthread_mutex_destroy(&pl->mu);
    return rc;
}
