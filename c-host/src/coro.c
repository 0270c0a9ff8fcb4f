/* flb-host: run output flushes on a small mmap'd coroutine stack with a guard page, as Fluent
 * Bit runs them on a 64 KiB coroutine stack (there malloc'ed and unguarded). Overflowing it here
 * hits a PROT_NONE page; a SIGSEGV handler on an alternate signal stack reports it and exits with
 * EXIT_CORO_OVERFLOW. One stack per thread, reused for every flush on that thread. */
#include "flb_host.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#ifdef FLB_HOST_ASAN
#include <sanitizer/common_interface_defs.h>
#endif
/* tell valgrind about the coroutine stacks when its header is around (no run-time dependency) */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define FLB_HOST_VALGRIND 1
#endif
#endif

#define CORO_GUARD_SIZE (1024 * 1024)

struct coro {
    unsigned char *map;
    size_t map_size;
    unsigned char *stack;
    size_t stack_size;
    unsigned char *guard_lo, *guard_hi;
    unsigned char *altstack;
    size_t altstack_size;
    ucontext_t caller, ctx;
    void (*fn)(void *);
    void *arg;
    unsigned vg_stack_id;
#ifdef FLB_HOST_ASAN
    void *fake_stack;
    const void *caller_bottom;
    size_t caller_size;
#endif
};

static __thread struct coro *tl_coro;
/* guard range of the current thread, read by the signal handler */
static __thread unsigned char *volatile tl_guard_lo, *volatile tl_guard_hi;
/* per thread: workers of different outputs may run with different stack sizes, and the
 * handler reads it on the faulting thread */
static __thread volatile size_t tl_stack_size_for_msg;
static struct sigaction g_old_segv, g_old_bus;

static size_t page_size(void)
{
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (size_t) p : 4096;
}

/* One write(2) for the whole line, so another thread's log line cannot land inside it (the
 * pieces used to go out as separate writes, and a plugin thread's line was once seen between
 * them). Async-signal-safe: strlen and memcpy on a stack buffer. */
static void write_line(const char *a, const char *b, const char *c)
{
    char line[512];
    size_t n = 0;
    const char *parts[3] = {a, b, c};
    for (int i = 0; i < 3; i++) {
        size_t len = strlen(parts[i]);
        if (len > sizeof line - 1 - n) {
            len = sizeof line - 1 - n;
        }
        memcpy(line + n, parts[i], len);
        n += len;
    }
    line[n++] = '\n';
    ssize_t r = write(2, line, n);
    (void) r;
}

static void fmt_size(char *b, size_t n)
{
    /* async-signal-safe "64 KiB" / "12345 bytes" */
    char tmp[32];
    int i = 0;
    size_t v = (n % 1024 == 0) ? n / 1024 : n;
    do {
        tmp[i++] = (char) ('0' + v % 10);
        v /= 10;
    } while (v && i < 30);
    while (i) {
        *b++ = tmp[--i];
    }
    strcpy(b, (n % 1024 == 0) ? " KiB" : " bytes");
}

/* ---- tail-guarded allocations (the plugin definition struct) ---- */
#define MAX_TAIL_GUARDS 64
struct tail_guard {
    unsigned char *volatile lo, *volatile hi; /* the PROT_NONE page */
    const char *volatile msg;
};
static struct tail_guard g_tail_guards[MAX_TAIL_GUARDS];
static pthread_mutex_t g_tail_mu = PTHREAD_MUTEX_INITIALIZER;

void *guarded_tail_alloc(size_t size, const char *msg, void **map, size_t *map_size)
{
    size_t ps = page_size();
    size_t data_pages = (size + ps - 1) / ps;
    unsigned char *m;
    size_t len = (data_pages + 1) * ps;
    m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        return NULL;
    }
    if (mprotect(m + data_pages * ps, ps, PROT_NONE) != 0) {
        munmap(m, len);
        return NULL;
    }
    pthread_mutex_lock(&g_tail_mu);
    for (int i = 0; i < MAX_TAIL_GUARDS; i++) {
        if (g_tail_guards[i].lo == NULL) {
            g_tail_guards[i].msg = msg;
            g_tail_guards[i].hi = m + len;
            g_tail_guards[i].lo = m + data_pages * ps;
            break;
        }
    }
    pthread_mutex_unlock(&g_tail_mu);
    *map = m;
    *map_size = len;
    return m + data_pages * ps - size; /* ends exactly at the guard page */
}

void guarded_tail_free(void *map, size_t map_size)
{
    pthread_mutex_lock(&g_tail_mu);
    for (int i = 0; i < MAX_TAIL_GUARDS; i++) {
        if (g_tail_guards[i].hi == (unsigned char *) map + map_size) {
            g_tail_guards[i].lo = NULL;
            g_tail_guards[i].hi = NULL;
        }
    }
    pthread_mutex_unlock(&g_tail_mu);
    munmap(map, map_size);
}

static void segv_handler(int sig, siginfo_t *si, void *uctx)
{
    unsigned char *a = si ? (unsigned char *) si->si_addr : NULL;
    struct sigaction *old = sig == SIGBUS ? &g_old_bus : &g_old_segv;
    for (int i = 0; a && i < MAX_TAIL_GUARDS; i++) {
        if (g_tail_guards[i].lo && a >= g_tail_guards[i].lo && a < g_tail_guards[i].hi) {
            write_line("flb-host: ", g_tail_guards[i].msg, "");
            _exit(EXIT_DEF_OVERFLOW);
        }
    }
    if (a && tl_guard_lo && a >= tl_guard_lo && a < tl_guard_hi) {
        char sz[48];
        fmt_size(sz, tl_stack_size_for_msg);
        write_line("flb-host: plugin flush overflowed the ", sz,
                   " coroutine stack (guard page hit); raise --coro-stack");
        _exit(EXIT_CORO_OVERFLOW);
    }
    /* not ours: hand over to the previous handler (ASan's), or die with the default action */
    if ((old->sa_flags & SA_SIGINFO) && old->sa_sigaction) {
        old->sa_sigaction(sig, si, uctx);
        return;
    }
    if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN && old->sa_handler) {
        old->sa_handler(sig);
        return;
    }
    write_line("flb-host: fatal signal in plugin or host (not a coroutine stack overflow)", "", "");
    signal(sig, SIG_DFL);
    raise(sig);
}

void coro_install_handler(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = segv_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &g_old_segv);
    sigaction(SIGBUS, &sa, &g_old_bus);
}

int coro_thread_init(size_t stack_size)
{
    struct coro *c;
    size_t ps = page_size();
    stack_t ss;
    if (tl_coro) {
        return 0;
    }
    c = xcalloc(1, sizeof *c);
    c->stack_size = (stack_size + ps - 1) / ps * ps;
    if (c->stack_size < 2 * ps) {
        c->stack_size = 2 * ps;
    }
    tl_stack_size_for_msg = stack_size;
    /* a large PROT_NONE region (address space only) so that a big alloca that jumps past a
     * single page still lands in it */
    c->map_size = c->stack_size + CORO_GUARD_SIZE;
    c->map = mmap(NULL, c->map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (c->map == MAP_FAILED) {
        free(c);
        return -1;
    }
    /* the stack grows down: the guard page sits below it */
    if (mprotect(c->map, CORO_GUARD_SIZE, PROT_NONE) != 0) {
        munmap(c->map, c->map_size);
        free(c);
        return -1;
    }
    c->guard_lo = c->map;
    c->guard_hi = c->map + CORO_GUARD_SIZE;
    c->stack = c->map + CORO_GUARD_SIZE;
    c->altstack_size = 64 * 1024;
    c->altstack = mmap(NULL, c->altstack_size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (c->altstack == MAP_FAILED) {
        munmap(c->map, c->map_size);
        free(c);
        return -1;
    }
    memset(&ss, 0, sizeof ss);
    ss.ss_sp = c->altstack;
    ss.ss_size = c->altstack_size;
    sigaltstack(&ss, NULL);
#ifdef FLB_HOST_VALGRIND
    c->vg_stack_id = VALGRIND_STACK_REGISTER(c->stack, c->stack + c->stack_size);
#endif
    tl_coro = c;
    tl_guard_lo = c->guard_lo;
    tl_guard_hi = c->guard_hi;
    return 0;
}

void coro_thread_fini(void)
{
    struct coro *c = tl_coro;
    stack_t ss;
    if (c == NULL) {
        return;
    }
    memset(&ss, 0, sizeof ss);
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, NULL);
    tl_guard_lo = tl_guard_hi = NULL;
#ifdef FLB_HOST_VALGRIND
    VALGRIND_STACK_DEREGISTER(c->vg_stack_id);
#endif
    munmap(c->altstack, c->altstack_size);
    munmap(c->map, c->map_size);
    free(c);
    tl_coro = NULL;
}

static void trampoline(void)
{
    struct coro *c = tl_coro;
#ifdef FLB_HOST_ASAN
    __sanitizer_finish_switch_fiber(NULL, &c->caller_bottom, &c->caller_size);
#endif
    c->fn(c->arg);
#ifdef FLB_HOST_ASAN
    __sanitizer_start_switch_fiber(NULL, c->caller_bottom, c->caller_size);
#endif
    /* returning resumes uc_link (the caller) */
}

void coro_run(void (*fn)(void *), void *arg)
{
    struct coro *volatile c = tl_coro;
    if (c == NULL) {
        /* every thread that flushes calls coro_thread_init with --coro-stack first */
        host_error("no coroutine stack on this thread; running the flush on the thread stack");
        fn(arg);
        return;
    }
    c->fn = fn;
    c->arg = arg;
    if (getcontext(&c->ctx) != 0) {
        fn(arg);
        return;
    }
    c->ctx.uc_stack.ss_sp = c->stack;
    c->ctx.uc_stack.ss_size = c->stack_size;
    c->ctx.uc_link = &c->caller;
    makecontext(&c->ctx, trampoline, 0);
#ifdef FLB_HOST_ASAN
    __sanitizer_start_switch_fiber(&c->fake_stack, c->stack, c->stack_size);
#endif
    swapcontext(&c->caller, &c->ctx);
#ifdef FLB_HOST_ASAN
    __sanitizer_finish_switch_fiber(c->fake_stack, NULL, NULL);
#endif
}
