/* flb-host: malloc-family and write(2) interposition in the executable.
 *
 * The binary is linked with -rdynamic, so a plugin's calls to malloc/free/... and write/writev
 * bind to the definitions below. Allocations made while a plugin callback runs on the calling
 * thread (thread-local flag set by PLUGIN_CALL) are counted and remembered per pointer in an
 * open-addressing table (linear probing, backward-shift deletion) that lives in mmap'd memory
 * and is protected by a spin lock. Any free of a remembered pointer, by the plugin or by the
 * host (free(data) when a plugin has no cleanup), is matched. Compiled out under ASan. */
#include "flb_host.h"

#include <errno.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static __thread int tl_in_plugin;
static __thread int tl_phase; /* enum mc_phase of the callback running on this thread */

#if FLB_HOST_COUNTING

/* --fail-malloc: which allocations fail (see should_fail) */
static long g_fail_every = -1; /* N: every Nth candidate fails; 0: count only; -1: off */
static int g_fail_phases;      /* mask of enum mc_phase */
static long g_fail_first;      /* K: only the first K candidates may fail; 0: all */
static _Atomic uint64_t g_candidates, g_phase_allocs[3], g_phase_failed[3];

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

struct slot {
    uintptr_t ptr; /* 0 = empty */
    size_t size;
};

#define TABLE_BITS 22 /* 4M slots, 64 MiB of address space, touched on demand */
#define TABLE_SLOTS ((size_t) 1 << TABLE_BITS)
#define TABLE_MAX_FILL (TABLE_SLOTS / 2)

static struct slot *g_table;
static atomic_flag g_lock = ATOMIC_FLAG_INIT;
static int g_table_failed;
static _Atomic uint64_t g_live_count, g_live_bytes;
static _Atomic uint64_t g_all_mallocs; /* every thread's, in or out of a callback */
static _Atomic uint64_t g_mallocs, g_frees, g_malloc_bytes, g_writes, g_stdout_writes, g_untracked;

static void lock(void)
{
    while (atomic_flag_test_and_set_explicit(&g_lock, memory_order_acquire)) {
    }
}

static void unlock(void)
{
    atomic_flag_clear_explicit(&g_lock, memory_order_release);
}

static size_t hash_ptr(uintptr_t p)
{
    uint64_t x = (uint64_t) p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t) x & (TABLE_SLOTS - 1);
}

static int table_ready(void)
{
    if (g_table == NULL && !g_table_failed) {
        void *m = mmap(NULL, TABLE_SLOTS * sizeof(struct slot), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED) {
            g_table_failed = 1;
        } else {
            g_table = m;
        }
    }
    return g_table != NULL;
}

/* called with the lock held */
static void table_insert(void *p, size_t size)
{
    size_t i;
    if (!table_ready() || atomic_load(&g_live_count) >= TABLE_MAX_FILL) {
        atomic_fetch_add(&g_untracked, 1);
        return;
    }
    i = hash_ptr((uintptr_t) p);
    while (g_table[i].ptr != 0 && g_table[i].ptr != (uintptr_t) p) {
        i = (i + 1) & (TABLE_SLOTS - 1);
    }
    if (g_table[i].ptr == 0) {
        atomic_fetch_add(&g_live_count, 1);
    } else {
        atomic_fetch_sub(&g_live_bytes, g_table[i].size);
    }
    g_table[i].ptr = (uintptr_t) p;
    g_table[i].size = size;
    atomic_fetch_add(&g_live_bytes, size);
}

/* called with the lock held; returns 1 when p was tracked */
static int table_remove(void *p)
{
    size_t i, j;
    if (g_table == NULL) {
        return 0;
    }
    i = hash_ptr((uintptr_t) p);
    while (g_table[i].ptr != (uintptr_t) p) {
        if (g_table[i].ptr == 0) {
            return 0;
        }
        i = (i + 1) & (TABLE_SLOTS - 1);
    }
    atomic_fetch_sub(&g_live_count, 1);
    atomic_fetch_sub(&g_live_bytes, g_table[i].size);
    g_table[i].ptr = 0;
    /* backward-shift deletion keeps probe chains intact without tombstones */
    j = i;
    for (;;) {
        size_t h;
        j = (j + 1) & (TABLE_SLOTS - 1);
        if (g_table[j].ptr == 0) {
            break;
        }
        h = hash_ptr(g_table[j].ptr);
        /* move j to i when h is not cyclically in (i, j] */
        if ((j > i && (h <= i || h > j)) || (j < i && (h <= i && h > j))) {
            g_table[i] = g_table[j];
            g_table[j].ptr = 0;
            i = j;
        }
    }
    return 1;
}

/* The dynamic linker's code range. glibc's ld.so allocates a dlopen'ed library's thread-local
 * storage lazily, on the thread's first access, and owns it: it is released with the thread (or
 * kept in glibc's stack cache), never by the plugin. Not counting allocations whose caller is in
 * ld.so keeps that runtime bookkeeping out of the plugin's leak figures. */
static uintptr_t g_ld_lo, g_ld_hi;

static int find_loader(struct dl_phdr_info *info, size_t size, void *data)
{
    (void) size;
    (void) data;
    if (info->dlpi_name == NULL || strstr(info->dlpi_name, "/ld-linux") == NULL) {
        return 0;
    }
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
            g_ld_lo = info->dlpi_addr + ph->p_vaddr;
            g_ld_hi = g_ld_lo + ph->p_memsz;
            return 1;
        }
    }
    return 0;
}

__attribute__((constructor)) static void locate_loader(void)
{
    dl_iterate_phdr(find_loader, NULL);
}

static int from_loader(const void *caller)
{
    return (uintptr_t) caller >= g_ld_lo && (uintptr_t) caller < g_ld_hi;
}

static void note_alloc(void *p, size_t size)
{
    if (p == NULL) {
        return;
    }
    atomic_fetch_add(&g_mallocs, 1);
    atomic_fetch_add(&g_malloc_bytes, size);
    lock();
    table_insert(p, size);
    unlock();
}

static void note_free(void *p)
{
    if (p == NULL) {
        return;
    }
    if (tl_in_plugin) {
        atomic_fetch_add(&g_frees, 1);
    }
    if (atomic_load_explicit(&g_live_count, memory_order_relaxed) == 0) {
        return;
    }
    lock();
    table_remove(p);
    unlock();
}

static int phase_index(int phase)
{
    return phase == MC_PHASE_INIT ? 0 : phase == MC_PHASE_COLLECT ? 1 : 2;
}

/* An allocation by plugin code in a chosen callback (not ld.so's TLS for it): counted per phase,
 * and NULL (errno ENOMEM) for every Nth of them, within the first K when --fail-malloc-first. */
static int should_fail(const void *caller)
{
    uint64_t n;
    int i;
    if (g_fail_every < 0 || !tl_in_plugin || tl_phase == MC_PHASE_NONE || from_loader(caller)) {
        return 0;
    }
    i = phase_index(tl_phase);
    atomic_fetch_add(&g_phase_allocs[i], 1);
    if (g_fail_every == 0 || !(g_fail_phases & tl_phase)) {
        return 0;
    }
    n = atomic_fetch_add(&g_candidates, 1) + 1;
    if ((g_fail_first > 0 && n > (uint64_t) g_fail_first) || n % (uint64_t) g_fail_every != 0) {
        return 0;
    }
    atomic_fetch_add(&g_phase_failed[i], 1);
    errno = ENOMEM;
    return 1;
}

void *malloc(size_t n)
{
    void *p;
    if (should_fail(__builtin_return_address(0))) {
        return NULL;
    }
    p = __libc_malloc(n);
    atomic_fetch_add_explicit(&g_all_mallocs, 1, memory_order_relaxed);
    if (tl_in_plugin && !from_loader(__builtin_return_address(0))) {
        note_alloc(p, n);
    }
    return p;
}

void *calloc(size_t a, size_t b)
{
    void *p;
    if (should_fail(__builtin_return_address(0))) {
        return NULL;
    }
    p = __libc_calloc(a, b);
    atomic_fetch_add_explicit(&g_all_mallocs, 1, memory_order_relaxed);
    if (tl_in_plugin && p && !from_loader(__builtin_return_address(0))) {
        note_alloc(p, a * b);
    }
    return p;
}

void *realloc(void *old, size_t n)
{
    void *p;
    int tracked = 0;
    if (old == NULL) {
        return malloc(n);
    }
    if (n != 0 && should_fail(__builtin_return_address(0))) {
        return NULL; /* the old block stays as it is, as a real failed realloc leaves it */
    }
    if (atomic_load_explicit(&g_live_count, memory_order_relaxed) != 0) {
        lock();
        tracked = table_remove(old); /* forget it now: realloc may move or free it */
        unlock();
    }
    p = __libc_realloc(old, n);
    atomic_fetch_add_explicit(&g_all_mallocs, 1, memory_order_relaxed);
    if (p == NULL && n != 0) {
        if (tracked) {
            /* the old block is still alive: remember it again (size unknown: keep 0) */
            lock();
            table_insert(old, 0);
            unlock();
        }
        return NULL;
    }
    if (tl_in_plugin) {
        atomic_fetch_add(&g_mallocs, 1);
        atomic_fetch_add(&g_malloc_bytes, n);
        if (p) {
            lock();
            table_insert(p, n);
            unlock();
        }
    } else if (tracked && p) {
        lock();
        table_insert(p, n);
        unlock();
    }
    return p;
}

void free(void *p)
{
    note_free(p);
    __libc_free(p);
}

void cfree(void *p);
void cfree(void *p)
{
    free(p);
}

void *memalign(size_t align, size_t n)
{
    void *p;
    if (should_fail(__builtin_return_address(0))) {
        return NULL;
    }
    p = __libc_memalign(align, n);
    if (tl_in_plugin) {
        note_alloc(p, n);
    }
    return p;
}

void *aligned_alloc(size_t align, size_t n)
{
    return memalign(align, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
    void *p;
    if (align < sizeof(void *) || (align & (align - 1)) != 0) {
        return EINVAL;
    }
    if (should_fail(__builtin_return_address(0))) {
        return ENOMEM;
    }
    p = __libc_memalign(align, n);
    if (p == NULL) {
        return ENOMEM;
    }
    if (tl_in_plugin) {
        note_alloc(p, n);
    }
    *out = p;
    return 0;
}

void *valloc(size_t n)
{
    return memalign((size_t) sysconf(_SC_PAGESIZE), n);
}

/* a plugin's write to stdout or stderr during a callback; stdout ones are counted apart too:
 * Rust std's stdout writes through its 1 KiB buffer, allocated at the first print and kept */
static void note_write(int fd)
{
    if (tl_in_plugin && (fd == 1 || fd == 2)) {
        atomic_fetch_add(&g_writes, 1);
        if (fd == 1) {
            atomic_fetch_add(&g_stdout_writes, 1);
        }
    }
}

ssize_t write(int fd, const void *buf, size_t n)
{
    note_write(fd);
    return syscall(SYS_write, fd, buf, n);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    note_write(fd);
    return syscall(SYS_writev, fd, iov, cnt);
}

void mc_snapshot(struct mc_stats *s)
{
    s->mallocs = atomic_load(&g_mallocs);
    s->frees = atomic_load(&g_frees);
    s->malloc_bytes = atomic_load(&g_malloc_bytes);
    s->live_count = atomic_load(&g_live_count);
    s->live_bytes = atomic_load(&g_live_bytes);
    s->writes = atomic_load(&g_writes);
    s->stdout_writes = atomic_load(&g_stdout_writes);
    s->untracked = atomic_load(&g_untracked);
    s->all_mallocs = atomic_load(&g_all_mallocs);
}

int mc_enabled(void)
{
    return 1;
}

int mc_fail_configure(long every, int phases, long first)
{
    g_fail_every = every;
    g_fail_phases = phases;
    g_fail_first = first;
    return 0;
}

void mc_fail_summary(void)
{
    struct mc_stats ms;
    if (g_fail_every < 0) {
        return;
    }
    mc_snapshot(&ms);
    fprintf(stderr,
            "flb-host: fail-malloc: every=%ld first=%ld allocations init=%llu collect=%llu "
            "flush=%llu failed init=%llu collect=%llu flush=%llu live=%llu live_bytes=%llu\n",
            g_fail_every, g_fail_first, (unsigned long long) atomic_load(&g_phase_allocs[0]),
            (unsigned long long) atomic_load(&g_phase_allocs[1]),
            (unsigned long long) atomic_load(&g_phase_allocs[2]),
            (unsigned long long) atomic_load(&g_phase_failed[0]),
            (unsigned long long) atomic_load(&g_phase_failed[1]),
            (unsigned long long) atomic_load(&g_phase_failed[2]),
            (unsigned long long) ms.live_count, (unsigned long long) ms.live_bytes);
}

#else /* !FLB_HOST_COUNTING */

int mc_fail_configure(long every, int phases, long first)
{
    (void) phases;
    (void) first;
    if (every >= 0) {
        host_error("--fail-malloc needs the counting build (this one is built with ASan, whose "
                   "allocator the host does not interpose)");
        return -1;
    }
    return 0;
}

void mc_fail_summary(void)
{
}

void mc_snapshot(struct mc_stats *s)
{
    memset(s, 0, sizeof *s);
}

int mc_enabled(void)
{
    return 0;
}

#endif

void mc_enter(void)
{
    tl_in_plugin++;
}

void mc_leave(void)
{
    tl_in_plugin--;
}

int mc_phase_enter(int phase)
{
    int prev = tl_phase;
    tl_phase = phase;
    return prev;
}

void mc_phase_leave(int prev)
{
    tl_phase = prev;
}

int mc_suspend(void)
{
    int d = tl_in_plugin;
    tl_in_plugin = 0;
    return d;
}

void mc_resume(int depth)
{
    tl_in_plugin = depth;
}
