/* --sigterm-at STAGE: flb-host sends itself SIGTERM at one chosen point of start-up or of the
 * first collect or flush, the same point on every run, so a test can check the shutdown from
 * each stage (Fluent Bit stops on SIGTERM whenever it comes). The signal is sent with kill(2)
 * just before the stage's plugin call: every host thread blocks SIGTERM (run.c), so it stays
 * pending through the call and the main thread takes it as it takes any SIGTERM, once the start
 * is complete, as Fluent Bit's main loop sees its signal flag only after flb_start returned. */
#include "flb_host.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

static const char *const stage_names[] = {
    [SIGTERM_AFTER_LOAD] = "after-load", [SIGTERM_REGISTER] = "register",
    [SIGTERM_INIT_FIRST] = "init-first", [SIGTERM_INIT_LATER] = "init-later",
    [SIGTERM_PRERUN] = "prerun",         [SIGTERM_STARTED] = "started",
    [SIGTERM_COLLECT] = "collect",       [SIGTERM_FLUSH] = "flush",
};
#define NSTAGES ((int) (sizeof stage_names / sizeof *stage_names))

/* the armed stage, -1 when none (or once sent) */
static _Atomic int armed = -1;
static _Atomic int inits;

const char *sigterm_stage_list(void)
{
    return "after-load, register, init-first, init-later, prerun, started, collect, flush";
}

int sigterm_at_arm(const char *name)
{
    for (int i = 0; i < NSTAGES; i++) {
        if (strcmp(name, stage_names[i]) == 0) {
            atomic_store(&armed, i);
            atomic_store(&inits, 0);
            return 0;
        }
    }
    return -1;
}

void sigterm_at(enum sigterm_stage stage)
{
    int want = (int) stage;
    if (atomic_load(&armed) != want || !atomic_compare_exchange_strong(&armed, &want, -1)) {
        return;
    }
    host_log(FLB_LOG_INFO, "flb-host: --sigterm-at %s: sending SIGTERM", stage_names[stage]);
    kill(getpid(), SIGTERM);
}

void sigterm_at_init(void)
{
    sigterm_at(atomic_fetch_add(&inits, 1) == 0 ? SIGTERM_INIT_FIRST : SIGTERM_INIT_LATER);
}
