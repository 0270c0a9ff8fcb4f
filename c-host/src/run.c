/* flb-host run mode: the main thread of `flb-host run`. It loads the plugins, starts the
 * pipeline (lifecycle.c) and then waits on the signals Fluent Bit answers (SIGINT/SIGTERM stop,
 * SIGHUP reloads when hot reload is on, SIGUSR1/SIGUSR2 pause/resume) and on the timed events of
 * the command line (--duration, --pause-after, --resume-after, --reload-after, --reload-every);
 * at the end it unloads the plugins and prints the summary. */
#include "pipeline.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>

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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

int pipeline_run(struct host *h)
{
    struct pipeline run = {.h = h}, *pl = &run;
    sigset_t set;
    double start, paused_at = -1;
    double next_every = h->reload_every > 0 ? h->reload_every : INFINITY;
    size_t next_at = 0;
    int paused_done = 0, resumed_done = 0, rc = 0, running;
    struct timespec tick = {0, 50 * 1000000L};

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
    start = now_mono();
    if (pipeline_start(pl) != 0) {
        loader_teardown(h);
        return EXIT_HOST_ERROR;
    }
    running = 1;
    while (!atomic_load(&pl->done)) {
        siginfo_t si;
        int sig = sigtimedwait(&set, &si, &tick);
        double el = now_mono() - start;
        int reload = 0;
        if (sig == SIGINT || sig == SIGTERM) {
            host_log(FLB_LOG_INFO, "flb-host: received %s, shutting down",
                     sig == SIGINT ? "SIGINT" : "SIGTERM");
            atomic_store(&pl->quit, 1);
            atomic_store(&pl->stop, 1);
        } else if (sig == SIGUSR1) {
            atomic_store(&pl->pause_req, 1);
        } else if (sig == SIGUSR2) {
            atomic_store(&pl->resume_req, 1);
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
            atomic_store(&pl->quit, 1);
            atomic_store(&pl->stop, 1);
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
            atomic_store(&pl->pause_req, 1);
        }
        if (h->resume_after > 0 && paused_done && !resumed_done && el >= h->resume_after &&
            paused_at >= 0) {
            resumed_done = 1;
            atomic_store(&pl->resume_req, 1);
        }
        if (reload && !atomic_load(&pl->stop)) {
            if (hot_reload(pl) != 0) {
                running = 0;
                break;
            }
            if (next_every <= now_mono() - start) {
                next_every = now_mono() - start + h->reload_every;
            }
            continue;
        }
        if (sig > 0 || atomic_load(&pl->stop)) {
            pipeline_wake(pl);
        }
    }
    if (running) {
        pthread_join(pl->thread, NULL);
    }
    if (pl->failed) {
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
    for (size_t i = 0; i < h->nins; i++) {
        h->ins[i]->pl = NULL;
    }
    pthread_cond_destroy(&pl->cv);
    pthread_mutex_destroy(&pl->mu);
    return rc;
}
