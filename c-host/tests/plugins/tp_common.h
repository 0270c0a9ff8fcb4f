/* Test plugins for flb-host: minimal ABI declarations (own code) and helpers. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct tp_def {
    int type;
    int proxy;
    int flags;
    char *name;
    char *description;
    int event_type; /* 5.0+: beyond a 1.9 host's allocation */
    void *config_map;
};

/* Fluent Bit 5.0.3+ struct flb_config_map (104 bytes on LP64): a static map sets the first seven
 * members; the rest is Fluent Bit's working storage */
struct tp_config_map {
    int type;
    const char *name;
    const char *def_value;
    int flags;
    int set_property;
    uintptr_t offset;
    const char *desc;
    unsigned char value[40];
    void *head[2];
};
_Static_assert(sizeof(struct tp_config_map) == 104, "struct flb_config_map of 5.0.3+");
enum {
    TP_CM_STR = 0, TP_CM_STR_PREFIX = 1, TP_CM_INT = 2, TP_CM_BOOL = 3, TP_CM_DOUBLE = 4,
    TP_CM_SIZE = 5, TP_CM_TIME = 6, TP_CM_DEPRECATED = 7, TP_CM_CLIST = 30, TP_CM_SLIST_2 = 42,
};
#define TP_CM_MULT 1

/* The rule the plugin SDK follows before it writes def->config_map: the host says it is a
 * Fluent Bit whose layouts the plugin verified (FLUENT_BIT_VERSION, set by Fluent Bit's container
 * images) and exports flb_config_map_translate_dynamic (since 5.0.3, the last config map layout
 * change). Otherwise only the five fields every host has are written. */
#include <dlfcn.h>
__attribute__((unused)) static int tp_config_map_allowed(const char **version, int *translate)
{
    const char *v = getenv("FLUENT_BIT_VERSION");
    *version = v != NULL ? v : "(unset)";
    *translate = dlsym(RTLD_DEFAULT, "flb_config_map_translate_dynamic") != NULL;
    return v != NULL && strcmp(v, "5.1.1") == 0 && *translate;
}

struct tp_api {
    const char *(*output_get_property)(const char *, void *);
    const char *(*input_get_property)(const char *, void *);
    void *(*output_get_cmt_instance)(void *);
    void *(*input_get_cmt_instance)(void *);
    void (*log_print)(int, const char *, int, const char *, ...);
    int (*input_log_check)(void *, int);
    int (*output_log_check)(void *, int);
};

struct tp_in_ctx {
    int coll_fd;
    void *remote_context;
    void *proxy;
};
struct tp_out_ctx {
    void *remote_context;
    void *proxy;
};
struct tp_plugin {
    char *name;
    struct tp_api *api;
    void *ins;
    void *context;
};

/* one line per event: "TP <plugin> <event> thread=<name>" */
static void tp_event(const char *plugin, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#include <stdarg.h>
static void tp_event(const char *plugin, const char *fmt, ...)
{
    char msg[256], line[400], tname[32] = "?";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pthread_getname_np(pthread_self(), tname, sizeof tname);
    snprintf(line, sizeof line, "TP %s %s thread=%s\n", plugin, msg, tname);
    fputs(line, stderr);
}

/* Registration and load events, for the hot reload tests: "preregister H", "register def#K",
 * "unregister def#K" (K numbers the definitions Register filled, so an Unregister names the
 * registration it undoes), "load" / "unload" when the .so is mapped / unmapped. */
#define TP_MAX_DEFS 16
static void *tp_defs[TP_MAX_DEFS];
static int tp_ndefs;
__attribute__((unused)) static int tp_def_index(void *def)
{
    for (int i = 0; i < tp_ndefs; i++) {
        if (tp_defs[i] == def) {
            return i;
        }
    }
    return -1;
}
__attribute__((unused)) static void tp_note_register(const char *plugin, void *def)
{
    if (tp_ndefs < TP_MAX_DEFS) {
        tp_defs[tp_ndefs++] = def;
    }
    tp_event(plugin, "register def#%d", tp_ndefs - 1);
}
__attribute__((unused)) static void tp_note_unregister(const char *plugin, void *def)
{
    int k = tp_def_index(def);
    if (k >= 0) {
        tp_defs[k] = NULL; /* the host may reuse the address for the next def */
    }
    tp_event(plugin, "unregister def#%d", k);
}

__attribute__((unused)) static int tp_prop_int(const char *v, int dflt, int *ok)
{
    char *end = NULL;
    long r;
    if (v == NULL) {
        return dflt;
    }
    r = strtol(v, &end, 10);
    if (end == v || *end != '\0') {
        *ok = 0;
        return dflt;
    }
    return (int) r;
}

/* append a modern record [[EventTime, {}], {"n": n, "id": id}] */
__attribute__((unused)) static unsigned char *tp_put_record(unsigned char *p, uint32_t n, uint32_t id, int legacy)
{
    *p++ = 0x92;
    if (!legacy) {
        *p++ = 0x92;
    }
    *p++ = 0xd7;
    *p++ = 0x00;
    *p++ = 0x65; *p++ = 0x53; *p++ = 0xf1; *p++ = 0x00; /* 1700000000 */
    *p++ = 0; *p++ = 0; *p++ = 0; *p++ = 0;
    if (!legacy) {
        *p++ = 0x80;
    }
    *p++ = 0x82;
    *p++ = 0xa1; *p++ = 'n';
    *p++ = 0xce; *p++ = (unsigned char) (n >> 24); *p++ = (unsigned char) (n >> 16);
    *p++ = (unsigned char) (n >> 8); *p++ = (unsigned char) n;
    *p++ = 0xa2; *p++ = 'i'; *p++ = 'd';
    *p++ = 0xce; *p++ = (unsigned char) (id >> 24); *p++ = (unsigned char) (id >> 16);
    *p++ = (unsigned char) (id >> 8); *p++ = (unsigned char) id;
    return p;
}
#define TP_RECORD_MAX 40

/* a malloc'ed buffer holding one record {"n": n, "id": id}, handed over as collect's data (the
 * host frees it when the plugin exports no cleanup); -1 when out of memory */
__attribute__((unused)) static int tp_collect_one(void **data, size_t *size, uint32_t n, uint32_t id, int legacy)
{
    unsigned char *buf = malloc(TP_RECORD_MAX), *p;
    if (buf == NULL) {
        return -1;
    }
    p = tp_put_record(buf, n, id, legacy);
    *data = buf;
    *size = (size_t) (p - buf);
    return 0;
}

/* what every test plugin's FLBPluginRegister writes: type 1 (input) or 2 (output), proxy 11 */
__attribute__((unused)) static void tp_define(struct tp_def *def, int type, char *name, char *description)
{
    def->type = type;
    def->proxy = 11;
    def->flags = 0;
    def->name = name;
    def->description = description;
}

/* FLBPluginRegister's common part with the registration event of tp_note_register */
__attribute__((unused)) static void tp_register(const char *plugin, struct tp_def *def, int type, char *name,
                                                char *description)
{
    tp_note_register(plugin, def);
    tp_define(def, type, name, description);
}

/* FLBPluginRegister of a plugin that only fills the five base fields */
#define TP_REGISTER(type, name, description)                                                    \
    int FLBPluginRegister(struct tp_def *def)                                                   \
    {                                                                                           \
        tp_define(def, (type), (name), (description));                                          \
        return 0;                                                                               \
    }

/* An input property of the instance init is given, or NULL */
__attribute__((unused)) static const char *tp_in_prop(void *plugin, const char *key)
{
    struct tp_plugin *pl = plugin;
    return pl->api->input_get_property(key, pl->ins);
}

/* "load" / "unload" events when the .so is mapped / unmapped and "preregister H": defines the
 * constructor, the destructor and FLBPluginPreRegister of the plugin named by P */
#define TP_LOAD_EVENTS()                                                                        \
    __attribute__((constructor)) static void tp_load(void) { tp_event(P, "load"); }             \
    __attribute__((destructor)) static void tp_unload(void) { tp_event(P, "unload"); }          \
    int FLBPluginPreRegister(int h) { tp_event(P, "preregister %d", h); return 0; }

/* The collect callbacks of an input keeping its instances in g_all / g_nall with the last one in
 * g_last (the state of the plain, context-less callbacks): both call collect(ctx, data, size). */
#define TP_INPUT_COLLECT_CALLBACKS(collect)                                                     \
    int FLBPluginInputCallbackCtx(void *rc, void **data, size_t *size) { return collect(rc, data, size); } \
    int FLBPluginInputCallback(void **data, size_t *size) { return collect(g_last, data, size); }

/* Its cleanup callbacks: both call cleanup(ctx, data). */
#define TP_INPUT_CLEANUP_CALLBACKS(cleanup)                                                     \
    int FLBPluginInputCleanupCallbackCtx(void *rc, void *data) { return cleanup(rc, data); }     \
    int FLBPluginInputCleanupCallback(void *data) { return cleanup(g_last, data); }

/* Plain Exit has no context: free the newest instance state and make the one before it g_last. */
#define TP_FREE_LAST_INSTANCE()                                                                 \
    do {                                                                                        \
        if (g_nall > 0) {                                                                       \
            free(g_all[--g_nall]);                                                              \
            g_last = g_nall > 0 ? g_all[g_nall - 1] : NULL;                                     \
        }                                                                                       \
    } while (0)

/* The records in a chunk of our inputs (and the sample chunk): every record starts with 0x92
 * followed by 0x92 0xd7 (modern [[EventTime, {}], {...}]) or 0xd7 (legacy [EventTime, {...}]);
 * count those starts, relying on the size of the fixed records. */
__attribute__((unused)) static unsigned long tp_count_records(const unsigned char *d, size_t n)
{
    unsigned long r = 0;
    for (size_t i = 0; i + 2 < n; i++) {
        if (d[i] == 0x92 && ((d[i + 1] == 0x92 && d[i + 2] == 0xd7) ||
                             (d[i + 1] == 0xd7 && (i == 0 || d[i - 1] != 0x92)))) {
            r++;
        }
    }
    return r;
}

/* Keep a new instance state c: the host's context, the plain callbacks' g_last, and g_all (the
 * caller checked g_nall < 64). */
#define TP_KEEP_INSTANCE(ctx, c)                                                                \
    do {                                                                                        \
        (ctx)->remote_context = (c);                                                            \
        g_last = (c);                                                                           \
        g_all[g_nall++] = (c);                                                                  \
    } while (0)
