/* flb-host run mode: the state one run of the pipeline shares between its threads, and what its
 * modules call each other by. The run mode is split by concern:
 *   run.c            the main thread: signals, timed pause/resume/reload/stop, the summary
 *   lifecycle.c      the flb-pipeline thread: start order, flush timer, shutdown order
 *   input_thread.c   one thread per input: collect timer, commands, tag buffers
 *   route.c          chunks made from the tag buffers, routed by Match; the retry queue
 *   output_worker.c  flushes on the coroutine stack, their results, output worker threads
 *   hot_reload.c     a hot reload, in Fluent Bit 5.1.1's order
 * Threads: main `fluent-bit`, `flb-pipeline`, `flb-in-<name>-w0` per input, and with Workers N,
 * `flb-out-<name>-w<k>` per output. */
#ifndef FLB_HOST_PIPELINE_H
#define FLB_HOST_PIPELINE_H

#include "flb_host.h"

/* commands the flb-pipeline thread gives an input thread (input_cmd) */
enum { CMD_NONE, CMD_START, CMD_PAUSE, CMD_PAUSE_FORCE, CMD_RESUME, CMD_EXIT };

/* the records of one (input, tag) buffer at a flush tick, shared by the tasks routed from it */
struct chunk {
    unsigned char *data;
    size_t len;
    uint64_t records;
    char *tag;
    _Atomic int refs;
};

/* one chunk for one output: queued, flushing, or waiting in the retry queue */
struct task {
    struct chunk *ch;
    struct instance *out;
    int attempts;
    double due;
    struct task *next;
};

/* One run of the pipeline: what its threads (main, flb-pipeline, inputs, output workers) share.
 * It lives on the main thread's stack in pipeline_run; every instance points at it (in->pl) while
 * the run lasts, hot reloads included. */
struct pipeline {
    struct host *h;
    pthread_mutex_t mu; /* guards retries, pending, final, started */
    pthread_cond_t cv;
    struct task *retries;
    int pending;          /* tasks queued, running or waiting for a retry */
    int final;            /* past the grace period: no more retries */
    int started;          /* the pipeline thread is past its start (init, pre-run) */
    atomic_int stop;      /* the running pipeline stops (shutdown or hot reload) */
    atomic_int quit;      /* the process stops: no further reload */
    atomic_int reloading; /* the running pipeline stops for a hot reload */
    atomic_int pause_req, resume_req;
    atomic_int done;  /* the pipeline thread has ended */
    int failed;       /* an instance failed to start */
    pthread_t thread; /* flb-pipeline */
    _Atomic uint64_t records_ok_total;
};

/* lifecycle.c */
/* starts the flb-pipeline thread and, as flb_start does, returns once its instances are
 * initialized and started (or failed) */
int pipeline_start(struct pipeline *pl);
void pipeline_wake(struct pipeline *pl);

/* input_thread.c */
/* starts the input's thread, which inits the instance, and waits for that init */
int input_thread_start(struct instance *in);
/* gives the input's thread a command and waits until it is done */
void input_cmd(struct instance *in, int cmd);
/* SIGUSR1/SIGUSR2 or --pause-after/--resume-after: pause or resume every input */
void inputs_pause_resume(struct pipeline *pl);

/* route.c */
/* each (input, tag) buffer becomes one chunk of that tag, routed to the matching outputs */
void route_flush_inputs(struct pipeline *pl);
void task_done(struct pipeline *pl, struct task *t);
/* queue t for another flush after --retry-wait * 2^n, when the output's Retry_Limit allows it
 * and the grace period is not over; 0 queued, -1 not */
int retry_schedule(struct pipeline *pl, struct task *t);
/* dispatch retries that are due (or all of them when force) */
void retries_run_due(struct pipeline *pl, int force);
/* when the earliest retry is due (INFINITY when none); called with pl->mu held */
double retries_next_due(const struct pipeline *pl);
/* the grace period is over: no more retries, the pending ones dropped */
void retries_drop(struct pipeline *pl);

/* output_worker.c */
/* runs t on the output's workers, or on this (the flb-pipeline) thread when it has none */
void dispatch(struct pipeline *pl, struct task *t);
void workers_start(struct instance *out);
void workers_stop(struct instance *out);

/* hot_reload.c */
/* 0 when a pipeline runs afterwards (the new one, or the old one when the reload was halted),
 * -1 when none does */
int hot_reload(struct pipeline *pl);

#endif
