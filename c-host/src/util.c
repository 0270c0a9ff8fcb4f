/* flb-host: small helpers every module uses: monotonic time and deadlines, thread names,
 * allocation that exits on failure, /proc/self/status fields, ABI profile names. */
#include "flb_host.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* a condition variable whose timed waits take CLOCK_MONOTONIC deadlines (abs_mono) */
void cond_init_mono(pthread_cond_t *cv)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &a);
    pthread_condattr_destroy(&a);
}

/* the CLOCK_MONOTONIC deadline at now_mono() time t */
struct timespec abs_mono(double t)
{
    struct timespec ts;
    double fl = floor(t);
    ts.tv_sec = (time_t) fl;
    ts.tv_nsec = (long) ((t - fl) * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

void set_thread_name(const char *name)
{
    char b[16];
    snprintf(b, sizeof b, "%s", name); /* Linux limit: 15 chars + NUL */
    pthread_setname_np(pthread_self(), b);
}

void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz ? sz : 1);
    if (p == NULL) {
        fprintf(stderr, "flb-host: error: out of memory\n");
        exit(EXIT_HOST_ERROR);
    }
    return p;
}

char *xstrdup(const char *s)
{
    char *p = strdup(s ? s : "");
    if (p == NULL) {
        fprintf(stderr, "flb-host: error: out of memory\n");
        exit(EXIT_HOST_ERROR);
    }
    return p;
}

long rss_kb(const char *field)
{
    char line[256];
    long v = -1;
    size_t fl = strlen(field);
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL) {
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
            v = strtol(line + fl + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return v;
}

int abi_parse(const char *s, enum abi_profile *out)
{
    if (strcmp(s, "1.9") == 0) {
        *out = ABI_1_9;
    } else if (strcmp(s, "2.0") == 0) {
        *out = ABI_2_0;
    } else if (strcmp(s, "2.2") == 0) {
        *out = ABI_2_2;
    } else if (strcmp(s, "4.1") == 0) {
        *out = ABI_4_1;
    } else if (strcmp(s, "5.1") == 0 || strcmp(s, "5.1.1") == 0) {
        *out = ABI_5_1;
    } else {
        return -1;
    }
    return 0;
}

const char *abi_name(enum abi_profile p)
{
    switch (p) {
    case ABI_1_9: return "1.9";
    case ABI_2_0: return "2.0";
    case ABI_2_2: return "2.2";
    case ABI_4_1: return "4.1";
    default: return "5.1";
    }
}
