/* flb-host run mode: one thread per input instance, as Fluent Bit runs a threaded input
 * (`flb-in-<name>-w0`). It inits the instance, collects on its timer (--interval, the first tick
 * one interval after pre-run), buffers what it collects per tag for the next flush, and runs the
 * commands the flb-pipeline thread gives it (pre-run, pause, resume, exit) on itself, where the
 * plugin expects them. */
#include "pipeline.h"

#include <stdlib.h>
#include <string.h>

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
    struct pipeline *pl = in->pl;
    struct host *h = pl->h;
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
        instance_exit(in, h->abi, atomic_load(&pl->reloading));
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
    struct pipeline *pl = in->pl;
    struct host *h = pl->h;
    char tname[128];
    double next = 0;
    int running = 0;

    snprintf(tname, sizeof tname, "flb-in-%s-w0", in->name);
    set_thread_name(tname);
    if (instance_init(in, h->abi) != 0) {
        pl->failed = 1;
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

int input_thread_start(struct instance *in)
{
    if (pthread_create(&in->thread, NULL, input_thread, in) != 0) {
        host_error("cannot start the thread of %s", in->name);
        return -1;
    }
    in->thread_started = 1;
    pthread_mutex_lock(&in->mu);
    while (!in->init_done) {
        pthread_cond_wait(&in->cv, &in->mu);
    }
    pthread_mutex_unlock(&in->mu);
    return 0;
}

void input_cmd(struct instance *in, int cmd)
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

void inputs_pause_resume(struct pipeline *pl)
{
    struct host *h = pl->h;
    int p = atomic_exchange(&pl->pause_req, 0);
    int r = atomic_exchange(&pl->resume_req, 0);
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
