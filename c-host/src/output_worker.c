/* flb-host run mode: the output side. Every flush runs on a coroutine stack (coro.c) as in Fluent
 * Bit, on the flb-pipeline thread or, with Workers N, on N threads `flb-out-<name>-w<k>` fed by a
 * queue per output; its return code decides the task's fate (FLB_OK: done and counted towards
 * --max-records, FLB_RETRY: the retry queue of route.c, anything else: dropped). */
#include "pipeline.h"

#include <stdlib.h>

static void run_task(struct pipeline *pl, struct task *t)
{
    struct instance *out = t->out;
    int ret;
    int c = atomic_fetch_add(&out->cur_conc, 1) + 1;
    int m = atomic_load(&out->max_conc);
    while (c > m && !atomic_compare_exchange_weak(&out->max_conc, &m, c)) {
    }
    t->attempts++;
    atomic_fetch_add(&out->flushes, 1);
    ret = instance_flush_on_coro(out, t->ch->data, t->ch->len, t->ch->tag);
    atomic_fetch_sub(&out->cur_conc, 1);

    if (ret == FLB_OK) {
        atomic_fetch_add(&out->flush_ok, 1);
        atomic_fetch_add(&out->records_ok, t->ch->records);
        if (pl->h->max_records &&
            atomic_fetch_add(&pl->records_ok_total, t->ch->records) + t->ch->records >=
                pl->h->max_records) {
            atomic_store(&pl->quit, 1);
            atomic_store(&pl->stop, 1);
        }
        task_done(pl, t);
        return;
    }
    if (ret == FLB_RETRY) {
        if (retry_schedule(pl, t) == 0) {
            return;
        }
        atomic_fetch_add(&out->dropped, 1);
        host_log(FLB_LOG_WARN, "[%s] chunk (%llu records) dropped after %d retr%s", out->name,
                 (unsigned long long) t->ch->records, t->attempts - 1,
                 t->attempts - 1 == 1 ? "y" : "ies");
        task_done(pl, t);
        return;
    }
    atomic_fetch_add(&out->errors, 1);
    atomic_fetch_add(&out->dropped, 1);
    if (ret != FLB_ERROR) {
        host_log(FLB_LOG_WARN, "[%s] flush returned unknown code %d, treated as FLB_ERROR",
                 out->name, ret);
    } else {
        host_log(FLB_LOG_WARN, "[%s] flush returned FLB_ERROR: chunk dropped", out->name);
    }
    task_done(pl, t);
}

void dispatch(struct pipeline *pl, struct task *t)
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
        run_task(pl, t);
    }
}

static void *worker_thread(void *arg)
{
    struct instance *out = arg;
    struct pipeline *pl = out->pl;
    char tname[128];
    int k;
    pthread_mutex_lock(&out->mu);
    k = out->nworkers_started++;
    pthread_mutex_unlock(&out->mu);
    snprintf(tname, sizeof tname, "flb-out-%s-w%d", out->name, k);
    set_thread_name(tname);
    if (coro_thread_init(pl->h->coro_stack) != 0) {
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
        run_task(pl, t);
    }
    coro_thread_fini();
    return NULL;
}

void workers_start(struct instance *out)
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

void workers_stop(struct instance *out)
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
