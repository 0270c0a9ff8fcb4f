/* flb-host run mode: the flb-pipeline thread, which starts and stops one generation of the
 * pipeline in Fluent Bit 5.1.1's order. Start: each input's thread (its init there), then each
 * output's init and pre-run here and its workers, then every input's pre-run and timer. Then the
 * flush timer, due retries and pause/resume requests until the run stops. Stop, as the engine's
 * STOP: a flush, the inputs paused, the last flush, pending tasks waited for (within --grace, or
 * without limit for a hot reload), outputs exited, then inputs exited on their threads. */
#include "pipeline.h"

#include <math.h>

void pipeline_wake(struct pipeline *pl)
{
    pthread_mutex_lock(&pl->mu);
    pthread_cond_broadcast(&pl->cv);
    pthread_mutex_unlock(&pl->mu);
}

/* the start, in Fluent Bit's order; pl->failed when an instance does not init */
static void start_instances(struct pipeline *pl)
{
    struct host *h = pl->h;
    /* 1. inputs: each on its own thread, init there; wait for all */
    for (size_t i = 0; i < h->nins && !pl->failed; i++) {
        struct instance *in = h->ins[i];
        if (in->type == FLB_PROXY_INPUT_PLUGIN && input_thread_start(in) != 0) {
            pl->failed = 1;
        }
    }
    /* 2. outputs: init + pre-run on this thread, then their workers */
    for (size_t i = 0; i < h->nins && !pl->failed; i++) {
        struct instance *out = h->ins[i];
        if (out->type != FLB_PROXY_OUTPUT_PLUGIN) {
            continue;
        }
        if (instance_init(out, h->abi) != 0) {
            pl->failed = 1;
            break;
        }
        instance_prerun(out, h->abi, h->hot_reload);
        if (out->workers > 0) {
            workers_start(out);
        }
    }
    /* 3. inputs pre-run and start their timers */
    if (!pl->failed) {
        for (size_t i = 0; i < h->nins; i++) {
            if (h->ins[i]->type == FLB_PROXY_INPUT_PLUGIN) {
                input_cmd(h->ins[i], CMD_START);
            }
        }
    } else {
        atomic_store(&pl->quit, 1);
        atomic_store(&pl->stop, 1);
    }
}

/* until the run stops: the flush timer, due retries, pause/resume requests */
static void run_until_stop(struct pipeline *pl)
{
    struct host *h = pl->h;
    double next_flush = now_mono() + h->flush;
    while (!atomic_load(&pl->stop)) {
        double now = now_mono();
        double wake;
        if (atomic_load(&pl->pause_req) || atomic_load(&pl->resume_req)) {
            inputs_pause_resume(pl);
        }
        if (now >= next_flush) {
            route_flush_inputs(pl);
            next_flush += h->flush;
            if (next_flush < now) {
                next_flush = now + h->flush;
            }
        }
        retries_run_due(pl, 0);
        pthread_mutex_lock(&pl->mu);
        wake = next_flush;
        if (retries_next_due(pl) < wake) {
            wake = retries_next_due(pl);
        }
        if (!atomic_load(&pl->stop) && !atomic_load(&pl->pause_req) &&
            !atomic_load(&pl->resume_req) && now_mono() < wake) {
            struct timespec ts = abs_mono(wake);
            pthread_cond_timedwait(&pl->cv, &pl->mu, &ts);
        }
        pthread_mutex_unlock(&pl->mu);
    }
}

/* the shutdown (and a hot reload's stop), in Fluent Bit's order: the engine's STOP flushes what
 * is buffered (flb_engine.c:948), then pauses the inputs (flb_engine_stop_ingestion, :1424); what
 * they collected in between goes with the grace loop's flush (:1501) */
static void stop_instances(struct pipeline *pl)
{
    struct host *h = pl->h;
    double grace_end;
    int reload;
    if (!pl->failed) {
        route_flush_inputs(pl);
    }
    for (size_t i = 0; i < h->nins; i++) {
        struct instance *in = h->ins[i];
        if (in->type == FLB_PROXY_INPUT_PLUGIN && in->initialized && in->thread_started == 2) {
            input_cmd(in, CMD_PAUSE_FORCE);
        }
    }
    if (!pl->failed) {
        route_flush_inputs(pl); /* the last flush: whatever came before the pause */
    }
    /* a hot reload waits for every task, with no limit (Fluent Bit: grace -1 under
     * ensure_thread_safety_on_hot_reloading, on by default); its retries are expedited once, as
     * flb_engine_reschedule_retries does at STOP, then keep their backoff */
    reload = atomic_load(&pl->reloading);
    grace_end = reload ? INFINITY : now_mono() + h->grace;
    for (int first = 1;; first = 0) {
        int pending;
        retries_run_due(pl, !reload || first); /* pending retries are expedited at shutdown */
        pthread_mutex_lock(&pl->mu);
        pending = pl->pending;
        /* retries that failed again wait here too: a forced pass per wake-up, not a busy loop */
        if (pending > 0 && now_mono() < grace_end) {
            double until = now_mono() + 0.05 < grace_end ? now_mono() + 0.05 : grace_end;
            struct timespec ts;
            if (retries_next_due(pl) < until) {
                until = retries_next_due(pl);
            }
            ts = abs_mono(until);
            pthread_cond_timedwait(&pl->cv, &pl->mu, &ts);
        }
        pthread_mutex_unlock(&pl->mu);
        if (pending == 0) {
            break;
        }
        if (now_mono() >= grace_end) {
            retries_drop(pl);
            break;
        }
    }
    for (size_t i = 0; i < h->nins; i++) {
        struct instance *out = h->ins[i];
        if (out->type == FLB_PROXY_OUTPUT_PLUGIN) {
            pthread_mutex_lock(&pl->mu);
            pl->final = 1;
            pthread_mutex_unlock(&pl->mu);
            workers_stop(out);
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
}

static void *pipeline_thread(void *arg)
{
    struct pipeline *pl = arg;
    set_thread_name("flb-pipeline");
    coro_thread_init(pl->h->coro_stack);
    start_instances(pl);
    sigterm_at(SIGTERM_STARTED);
    pthread_mutex_lock(&pl->mu);
    pl->started = 1;
    pthread_cond_broadcast(&pl->cv);
    pthread_mutex_unlock(&pl->mu);
    run_until_stop(pl);
    stop_instances(pl);
    coro_thread_fini();
    atomic_store(&pl->done, 1);
    return NULL;
}

int pipeline_start(struct pipeline *pl)
{
    atomic_store(&pl->done, 0);
    pthread_mutex_lock(&pl->mu);
    pl->started = 0;
    pthread_mutex_unlock(&pl->mu);
    if (pthread_create(&pl->thread, NULL, pipeline_thread, pl) != 0) {
        host_error("cannot start the pipeline thread");
        return -1;
    }
    pthread_mutex_lock(&pl->mu);
    while (!pl->started) {
        pthread_cond_wait(&pl->cv, &pl->mu);
    }
    pthread_mutex_unlock(&pl->mu);
    return 0;
}
