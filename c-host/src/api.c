/* flb-host: the flb_api table handed to plugins, cmetrics stubs, host logging, small helpers. */
#include "flb_host.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int g_log_level = FLB_LOG_INFO;
struct flb_api g_api;

static const char *level_prefix(int level)
{
    switch (level) {
    case FLB_LOG_ERROR: return "[error] ";
    case FLB_LOG_WARN: return "[ warn] ";
    case FLB_LOG_INFO: return "[ info] ";
    case FLB_LOG_DEBUG: return "[debug] ";
    case FLB_LOG_TRACE: return "[trace] ";
    default: return "[ ???] ";
    }
}

int log_level_parse(const char *s)
{
    static const char *names[] = {"off", "error", "warn", "info", "debug", "trace"};
    for (int i = 0; i < 6; i++) {
        if (strcasecmp(s, names[i]) == 0) {
            return i;
        }
    }
    if (strcasecmp(s, "warning") == 0) {
        return FLB_LOG_WARN;
    }
    return -1;
}

static void vlog_line(int level, const char *fmt, va_list ap)
{
    /* one write per line so lines from several threads do not interleave */
    char buf[4096];
    int n = snprintf(buf, sizeof buf, "%s", level_prefix(level));
    int m = vsnprintf(buf + n, sizeof buf - (size_t) n - 1, fmt, ap);
    size_t len;
    if (m < 0) {
        m = 0;
    }
    len = (size_t) n + (size_t) m;
    if (len > sizeof buf - 2) {
        len = sizeof buf - 2;
    }
    buf[len++] = '\n';
    fwrite(buf, 1, len, stderr);
}

void host_log(int level, const char *fmt, ...)
{
    va_list ap;
    if (level > g_log_level) {
        return;
    }
    va_start(ap, fmt);
    vlog_line(level, fmt, ap);
    va_end(ap);
}

void host_error(const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "flb-host: error: %s\n", buf);
}

/* ---- flb_api ---- */

/* Exported with the Fluent Bit names (the binary is linked with -rdynamic). */
void flb_log_print(int level, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    (void) file;
    (void) line;
    if (level > g_log_level || fmt == NULL) {
        return;
    }
    va_start(ap, fmt);
    vlog_line(level, fmt, ap);
    va_end(ap);
}

const char *flb_output_get_property(const char *key, void *o_ins)
{
    struct instance *in = o_ins;
    if (key == NULL || in == NULL) {
        return NULL;
    }
    return props_get(&in->props, key);
}

const char *flb_input_get_property(const char *key, void *i_ins)
{
    return flb_output_get_property(key, i_ins);
}

static const char *custom_get_property(const char *key, void *c_ins)
{
    return flb_output_get_property(key, c_ins);
}

static int ins_log_check(void *ins, int level)
{
    struct instance *in = ins;
    int lvl = (in != NULL && in->log_level >= 0) ? in->log_level : g_log_level;
    return level <= lvl ? 1 : 0;
}

static void *get_cmt(void *ins)
{
    struct instance *in = ins;
    return in ? (void *) in->cmt_dummy : NULL;
}

void api_setup(void)
{
    g_api.output_get_property = flb_output_get_property;
    g_api.input_get_property = flb_input_get_property;
    g_api.output_get_cmt_instance = get_cmt;
    g_api.input_get_cmt_instance = get_cmt;
    g_api.log_print = flb_log_print;
    g_api.input_log_check = ins_log_check;
    g_api.output_log_check = ins_log_check;
    g_api.custom_get_property = custom_get_property;
    g_api.custom_log_check = ins_log_check;
}

/* ---- cmetrics stubs: enough for a plugin to create and bump a counter ---- */
struct cmt_counter {
    _Atomic uint64_t value;
    int used;
};
#define CMT_MAX_COUNTERS 64
static struct cmt_counter g_counters[CMT_MAX_COUNTERS];
static _Atomic int g_ncounters;
static struct cmt_counter g_counter_overflow;

struct cmt_counter *cmt_counter_create(void *cmt, char *ns, char *subsystem, char *name,
                                       char *help, int label_count, char **label_keys)
{
    int i;
    (void) ns;
    (void) subsystem;
    (void) name;
    (void) help;
    (void) label_count;
    (void) label_keys;
    if (cmt == NULL) {
        return NULL;
    }
    i = atomic_fetch_add(&g_ncounters, 1);
    if (i >= CMT_MAX_COUNTERS) {
        return &g_counter_overflow;
    }
    g_counters[i].used = 1;
    return &g_counters[i];
}

int cmt_counter_inc(struct cmt_counter *counter, uint64_t ts, int labels_count, char **label_vals)
{
    (void) ts;
    (void) labels_count;
    (void) label_vals;
    if (counter == NULL) {
        return -1;
    }
    atomic_fetch_add(&counter->value, 1);
    return 0;
}

int cmt_counter_add(struct cmt_counter *counter, uint64_t ts, double val, int labels_count,
                    char **label_vals)
{
    (void) ts;
    (void) labels_count;
    (void) label_vals;
    if (counter == NULL) {
        return -1;
    }
    atomic_fetch_add(&counter->value, (uint64_t) val);
    return 0;
}

void cmt_reset_counters(void)
{
    atomic_store(&g_ncounters, 0);
}

/* ---- properties ---- */
int props_add(struct props *p, const char *key, const char *val)
{
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 8;
        struct kv *nv = realloc(p->v, nc * sizeof *nv);
        if (nv == NULL) {
            return -1;
        }
        p->v = nv;
        p->cap = nc;
    }
    p->v[p->n].key = xstrdup(key);
    p->v[p->n].val = xstrdup(val);
    p->n++;
    return 0;
}

const char *props_get(const struct props *p, const char *key)
{
    for (size_t i = 0; i < p->n; i++) {
        if (strcasecmp(p->v[i].key, key) == 0) {
            return p->v[i].val;
        }
    }
    return NULL;
}

void props_free(struct props *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->v[i].key);
        free(p->v[i].val);
    }
    free(p->v);
    p->v = NULL;
    p->n = p->cap = 0;
}

/* keys the Fluent Bit core keeps for itself: never visible through get_property */
int key_is_reserved(const char *key)
{
    static const char *reserved[] = {
        "name", "alias", "host", "ipv6", "listen", "log_level", "log_suppress_interval",
        "match", "match_regex", "mem_buf_limit", "port", "retry_limit", "routable", "tag",
        "threaded", "tls", "workers", NULL};
    for (int i = 0; reserved[i]; i++) {
        if (strcasecmp(key, reserved[i]) == 0) {
            return 1;
        }
    }
    if (strncasecmp(key, "storage.", 8) == 0 || strncasecmp(key, "tls.", 4) == 0) {
        return 1;
    }
    return 0;
}

/* ---- helpers ---- */
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
