/* flb-host: what a plugin is handed to call back into the host: the flb_api table (properties,
 * level checks, log_print from log.c, cmetrics instances), the exported cmetrics stubs, and the
 * instance properties get_property reads. */
#include "flb_host.h"

#include <stdlib.h>
#include <strings.h>

struct flb_api g_api;

static int g_null_properties; /* --null-properties */

void api_set_null_properties(int on)
{
    g_null_properties = on;
}

/* ---- flb_api ---- */

/* Exported with the Fluent Bit names (the binary is linked with -rdynamic). */
const char *flb_output_get_property(const char *key, void *o_ins)
{
    struct instance *in = o_ins;
    if (key == NULL || in == NULL || g_null_properties) {
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
    int lvl = (in != NULL && in->log_level >= 0) ? in->log_level : log_get_level();
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
