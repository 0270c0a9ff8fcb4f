/* LD_PRELOAD shim for plugins/gtail/tests/faults.rs: faults that a real system produces only by
 * chance, made to happen every time, in flb-host (and so in the gtail plugin it loaded).
 *
 *   FAULT_SHIM_FULL_DIR=<dir> FAULT_SHIM_FULL_FLAG=<file>
 *       While <file> exists, write(2)/pwrite(2) to a regular file under <dir> fail with ENOSPC:
 *       a full disk under the db, where the machine cannot mount a small tmpfs (a container).
 *   FAULT_SHIM_EIO_FLAG=<file>
 *       While <file> exists, read(2)/pread(2) of a file whose name contains "read-fails" fail with
 *       EIO (a failing disk, a stale NFS handle).
 *   FAULT_SHIM_LOG=<file>
 *       Each fault injected is logged there (one line), so the test can tell it happened.
 *
 * And, for any path whose last component contains:
 *   "vanish-at-stat"   unlinked just before it is stat'ed (deleted between readdir and stat),
 *   "vanish-at-open"   unlinked just before it is opened (deleted between stat and open),
 *   "vanish-after-open" unlinked just after it is opened for reading (deleted before the read).
 *
 * Built by the test with `cc -shared -fPIC`; no other use. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static void note(const char *what, const char *path) {
    const char *log = getenv("FAULT_SHIM_LOG");
    if (!log) return;
    int saved = errno;
    int fd = (int)syscall(SYS_openat, AT_FDCWD, log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) {
        char line[PATH_MAX + 64];
        int n = snprintf(line, sizeof line, "%s %s\n", what, path);
        if (n > 0) (void)syscall(SYS_write, fd, line, (size_t)(n < (int)sizeof line ? n : (int)sizeof line - 1));
        (void)syscall(SYS_close, fd);
    }
    errno = saved;
}

static const char *base(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static int marked(const char *path, const char *mark) { return path && strstr(base(path), mark) != NULL; }

static void vanish(const char *path, const char *mark) {
    if (marked(path, mark) && unlink(path) == 0) note(mark, path);
}

/* True when fd is a regular file under FAULT_SHIM_FULL_DIR and the flag file exists. */
static int disk_full(int fd) {
    const char *dir = getenv("FAULT_SHIM_FULL_DIR");
    const char *flag = getenv("FAULT_SHIM_FULL_FLAG");
    if (!dir || !flag) return 0;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return 0;
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0) return 0;
    path[n] = 0;
    size_t dl = strlen(dir);
    if (strncmp(path, dir, dl) != 0 || (path[dl] != '/' && path[dl] != 0)) return 0;
    if (access(flag, F_OK) != 0) return 0;
    note("enospc", path);
    return 1;
}

/* The next definition of `name` (libc's), looked up once. */
/* True when fd is a file whose name contains "read-fails" and FAULT_SHIM_EIO_FLAG exists. */
static int read_fails(int fd) {
    const char *flag = getenv("FAULT_SHIM_EIO_FLAG");
    if (!flag) return 0;
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0) return 0;
    path[n] = 0;
    if (!marked(path, "read-fails") || access(flag, F_OK) != 0) return 0;
    note("eio", path);
    return 1;
}

#define REAL(name) static __typeof__(&name) real_##name; if (!real_##name) real_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

ssize_t write(int fd, const void *buf, size_t n) {
    REAL(write);
    if (n > 0 && disk_full(fd)) { errno = ENOSPC; return -1; }
    return real_write(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
    REAL(pwrite);
    if (n > 0 && disk_full(fd)) { errno = ENOSPC; return -1; }
    return real_pwrite(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off) {
    REAL(pwrite64);
    if (n > 0 && disk_full(fd)) { errno = ENOSPC; return -1; }
    return real_pwrite64(fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt) {
    REAL(writev);
    if (cnt > 0 && disk_full(fd)) { errno = ENOSPC; return -1; }
    return real_writev(fd, iov, cnt);
}

ssize_t read(int fd, void *buf, size_t n) {
    REAL(read);
    if (n > 0 && read_fails(fd)) { errno = EIO; return -1; }
    return real_read(fd, buf, n);
}

ssize_t pread(int fd, void *buf, size_t n, off_t off) {
    REAL(pread);
    if (n > 0 && read_fails(fd)) { errno = EIO; return -1; }
    return real_pread(fd, buf, n, off);
}

ssize_t pread64(int fd, void *buf, size_t n, off_t off) {
    REAL(pread64);
    if (n > 0 && read_fails(fd)) { errno = EIO; return -1; }
    return real_pread64(fd, buf, n, off);
}

static int opens_for_reading(int flags) { return (flags & O_ACCMODE) == O_RDONLY; }

static int after_open(int fd, const char *path, int flags) {
    if (fd >= 0 && opens_for_reading(flags)) vanish(path, "vanish-after-open");
    return fd;
}

static mode_t mode_arg(int flags, va_list ap) {
    return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...) {
    REAL(open);
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    vanish(path, "vanish-at-open");
    return after_open(real_open(path, flags, mode), path, flags);
}

int open64(const char *path, int flags, ...) {
    REAL(open64);
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    vanish(path, "vanish-at-open");
    return after_open(real_open64(path, flags, mode), path, flags);
}

int openat(int dirfd, const char *path, int flags, ...) {
    REAL(openat);
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    if (path[0] == '/') vanish(path, "vanish-at-open");
    int fd = real_openat(dirfd, path, flags, mode);
    return path[0] == '/' ? after_open(fd, path, flags) : fd;
}

int openat64(int dirfd, const char *path, int flags, ...) {
    REAL(openat64);
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    if (path[0] == '/') vanish(path, "vanish-at-open");
    int fd = real_openat64(dirfd, path, flags, mode);
    return path[0] == '/' ? after_open(fd, path, flags) : fd;
}

int statx(int dirfd, const char *path, int flags, unsigned mask, struct statx *out) {
    REAL(statx);
    if (path[0] == '/') vanish(path, "vanish-at-stat");
    return real_statx(dirfd, path, flags, mask, out);
}

int stat(const char *path, struct stat *out) {
    REAL(stat);
    vanish(path, "vanish-at-stat");
    return real_stat(path, out);
}

int stat64(const char *path, struct stat64 *out) {
    REAL(stat64);
    vanish(path, "vanish-at-stat");
    return real_stat64(path, out);
}
