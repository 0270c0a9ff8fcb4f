/* flb-host run mode: what happens to records between the inputs and the outputs. At each flush
 * tick every (input, tag) buffer becomes one chunk of that tag, routed to each output whose Match
 * matches the tag (one task per output, the chunk shared by reference count); a flush answered
 * FLB_RETRY puts its task in the retry queue, due after --retry-wait * 2^n seconds. */
#include "pipeline.h"

#include <math.h>
#include <stdlib.h>

static void chunk_release(struct chunk *ch)
{
    if (atomic_fetch_sub(&ch->refs, 1) == 1) {
        free(ch->data);
        free(ch->tag);
        free(ch);
    }
}

void task_done(struct pipeline *pl, struct task *t)
{
    chunk_release(t->ch);
    free(t);
    pthread_mutex_lock(&pl->mu);
    pl->pending--;
    pthread_cond_broadcast(&pl->cv);
    pthread_mutex_unlock(&pl->mu);
}

static void route_chunk(struct pipeline *pl, struct instance *in, struct chunk *ch)
{
    struct host *h = pl->h;
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
        pthread_mutex_lock(&pl->mu);
        pl->pending++;
        pthread_mutex_unlock(&pl->mu);
        routed++;
        dispatch(pl, t);
    }
    if (!routed) {
        host_log(FLB_LOG_DEBUG, "[%s] chunk with tag '%s' matches no output; dropped", in->name,
                 ch->tag);
    }
    chunk_release(ch);
}

void route_flush_inputs(struct pipeline *pl)
{
    struct host *h = pl->h;
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
                route_chunk(pl, in, ch);
            }
            free(b);
        }
    }
}


int retry_schedule(struct pipeline *pl, struct task *t)
{
    struct instance *out = t->out;
    int retries_done = t->attempts - 1;
    double wait;
    pthread_mutex_lock(&pl->mu);
    if (pl->final || (out->retry_limit >= 0 && retries_done >= out->retry_limit)) {
        pthread_mutex_unlock(&pl->mu);
        return -1;
    }
    wait = pl->h->retry_wait * pow(2.0, retries_done);
    if (wait > 60.0) {
        wait = 60.0;
    }
    t->due = now_mono() + wait;
    t->next = pl->retries;
    pl->retries = t;
    atomic_fetch_add(&out->retries, 1);
    pthread_cond_broadcast(&pl->cv);
    pthread_mutex_unlock(&pl->mu);
    host_log(FLB_LOG_DEBUG, "[%s] flush returned FLB_RETRY, retry %d in %.2fs", out->name,
             retries_done + 1, wait);
    return 0;
}

/* The earliest-due task of *list that is due at `now` (any, when force), taken off the list. */
static struct task *take_due(struct task **list, double now, int force)
{
    struct task *t, **pp, **best = NULL;
    for (pp = list; *pp; pp = &(*pp)->next) {
        if ((force || (*pp)->due <= now) && (best == NULL || (*pp)->due < (*best)->due)) {
            best = pp;
        }
    }
    if (best == NULL) {
        return NULL;
    }
    t = *best;
    *best = t->next;
    return t;
}

void retries_run_due(struct pipeline *pl, int force)
{
    struct task *batch = NULL, *t;
    if (force) {
        /* Each pending retry runs once per forced pass: one that fails again goes back on the list
         * for the next pass. Taking the list first keeps an output that always answers FLB_RETRY
         * (with no retry limit) from holding this loop, and the shutdown past its grace, for ever. */
        pthread_mutex_lock(&pl->mu);
        batch = pl->retries;
        pl->retries = NULL;
        pthread_mutex_unlock(&pl->mu);
        while ((t = take_due(&batch, 0, 1)) != NULL) {
            dispatch(pl, t);
        }
        return;
    }
    for (;;) {
        pthread_mutex_lock(&pl->mu);
        t = take_due(&pl->retries, now_mono(), 0);
        pthread_mutex_unlock(&pl->mu);
        if (t == NULL) {
            return;
        }
        dispatch(pl, t);
    }
}

double retries_next_due(const struct pipeline *pl)
{
    double d = INFINITY;
    for (struct task *t = pl->retries; t; t = t->next) {
        if (t->due < d) {
            d = t->due;
        }
    }
    return d;
}

void retries_drop(struct pipeline *pl)
{
    struct task *t;
    pthread_mutex_lock(&pl->mu);
    pl->final = 1;
    t = pl->retries;
    pl->retries = NULL;
    pthread_mutex_unlock(&pl->mu);
    while (t) {
        struct task *n = t->next;
        atomic_fetch_add(&t->out->dropped, 1);
        host_log(FLB_LOG_WARN, "[%s] grace period over: pending retry dropped", t->out->name);
        task_done(pl, t);
        t = n;
    }
}
