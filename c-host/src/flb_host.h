/* flb-host: shared internal declarations (ABI mirrors, host state, module interfaces). */
#ifndef FLB_HOST_H
#define FLB_HOST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#if defined(__SANITIZE_ADDRESS__)
#define FLB_HOST_ASAN 1
#endif
/* malloc / write interposition is compiled out under ASan (ASan owns malloc). */
#if defined(FLB_HOST_ASAN) || defined(FLB_HOST_NO_INTERPOSE)
#define FLB_HOST_COUNTING 0
#else
#define FLB_HOST_COUNTING 1
#endif

/* ---- ABI constants (flb_macros.h, flb_plugin_proxy.h) ---- */
#define FLB_ERROR 0
#define FLB_OK 1
#define FLB_RETRY 2
#define FLB_PROXY_INPUT_PLUGIN 1
#define FLB_PROXY_OUTPUT_PLUGIN 2
#define FLB_PROXY_CUSTOM_PLUGIN 3
#define FLB_PROXY_GOLANG 11

#define FLB_LOG_OFF 0
#define FLB_LOG_ERROR 1
#define FLB_LOG_WARN 2
#define FLB_LOG_INFO 3
#define FLB_LOG_DEBUG 4
#define FLB_LOG_TRACE 5

/* exit codes */
#define EXIT_HOST_ERROR 1
#define EXIT_HOST_USAGE 2
#define EXIT_CORO_OVERFLOW 87 /* plugin flush hit the coroutine stack guard page */
#define EXIT_DEF_OVERFLOW 88  /* plugin wrote beyond the def struct of the --abi profile */

/* ---- ABI structs (C layout, field order is the ABI) ---- */

/* Fluent Bit's struct flb_config_map as of 5.0.3 (include/fluent-bit/flb_config_map.h; the value
 * gained `raw` in 5.0.3, the last layout change, when flb_config_map_translate_dynamic appeared).
 * A proxy plugin declares an array of these ending with an entry whose name is NULL; in such a
 * static map name, def_value and desc are plain NUL-terminated C strings (Fluent Bit's flb_sds_t
 * is a char * to the string). Only type, name, def_value, flags and desc matter to a proxy: the
 * rest is Fluent Bit's own working storage in the copy it makes per instance. */
#define FLB_CONFIG_MAP_STR 0
#define FLB_CONFIG_MAP_STR_PREFIX 1
#define FLB_CONFIG_MAP_INT 2
#define FLB_CONFIG_MAP_BOOL 3
#define FLB_CONFIG_MAP_DOUBLE 4
#define FLB_CONFIG_MAP_SIZE 5
#define FLB_CONFIG_MAP_TIME 6
#define FLB_CONFIG_MAP_DEPRECATED 7
#define FLB_CONFIG_MAP_CLIST 30 /* 31..34: at least 1..4 items */
#define FLB_CONFIG_MAP_CLIST_4 34
#define FLB_CONFIG_MAP_SLIST 40 /* 41..44: at least 1..4 items */
#define FLB_CONFIG_MAP_SLIST_4 44
#define FLB_CONFIG_MAP_VARIANT 50
#define FLB_CONFIG_MAP_MULT 1        /* flag: the key may be set several times */
#define FLB_CONFIG_MAP_DYNAMIC_ENV 2 /* flag: ${VAR} in the default resolved at run time */

struct fb_mk_list { /* monkey's struct mk_list */
    struct fb_mk_list *prev, *next;
};
struct flb_config_map_val {
    union {
        int i_num;
        int boolean;
        double d_num;
        size_t s_num;
        char *str;
        struct fb_mk_list *list;
        void *variant;
    } val;
    char *raw; /* since 5.0.3 */
    struct fb_mk_list *mult;
    struct fb_mk_list _head;
};
struct flb_config_map {
    int type;
    char *name;
    char *def_value;
    int flags;
    int set_property;
    uintptr_t offset;
    char *desc;
    struct flb_config_map_val value;
    struct fb_mk_list _head;
};
#if defined(__LP64__)
/* checked against the 5.1.1 headers with offsetof (x86_64): 104 bytes, name at 8, def_value 16,
 * flags 24, set_property 28, offset 32, desc 40, value (40 bytes) 48, _head 88 */
_Static_assert(sizeof(struct flb_config_map_val) == 40, "5.0.3+: flb_config_map_val is 40 bytes");
_Static_assert(sizeof(struct flb_config_map) == 104, "5.0.3+: flb_config_map is 104 bytes");
_Static_assert(offsetof(struct flb_config_map, name) == 8, "name at 8");
_Static_assert(offsetof(struct flb_config_map, def_value) == 16, "def_value at 16");
_Static_assert(offsetof(struct flb_config_map, flags) == 24, "flags at 24");
_Static_assert(offsetof(struct flb_config_map, set_property) == 28, "set_property at 28");
_Static_assert(offsetof(struct flb_config_map, offset) == 32, "offset at 32");
_Static_assert(offsetof(struct flb_config_map, desc) == 40, "desc at 40");
_Static_assert(offsetof(struct flb_config_map, value) == 48, "value at 48");
#endif

struct flb_plugin_proxy_def {
    int type;
    int proxy;
    int flags;
    char *name;
    char *description;
    int event_type;                    /* since 5.0.0 */
    struct flb_config_map *config_map; /* since 5.1.1 */
};
#if defined(__LP64__)
_Static_assert(sizeof(struct flb_plugin_proxy_def) == 48, "5.1.1: the def is 48 bytes");
#endif
/* size of the def a 1.9 .. 4.1 host allocates: 5 fields */
#define FLB_DEF_SIZE_5 offsetof(struct flb_plugin_proxy_def, event_type)

struct flb_api {
    const char *(*output_get_property)(const char *key, void *o_ins);
    const char *(*input_get_property)(const char *key, void *i_ins);
    void *(*output_get_cmt_instance)(void *o_ins);
    void *(*input_get_cmt_instance)(void *i_ins);
    void (*log_print)(int level, const char *file, int line, const char *fmt, ...);
    int (*input_log_check)(void *i_ins, int level);
    int (*output_log_check)(void *o_ins, int level);
    const char *(*custom_get_property)(const char *key, void *c_ins);
    int (*custom_log_check)(void *c_ins, int level);
};

struct flb_plugin_proxy_context {
    void *remote_context;
    void *proxy;
};
struct flb_plugin_input_proxy_context {
    int coll_fd;
    void *remote_context;
    void *proxy;
};

typedef int (*fn_pre_register)(int);
typedef int (*fn_register)(struct flb_plugin_proxy_def *);
typedef int (*fn_init)(void *);
typedef int (*fn_prerun)(int);
typedef int (*fn_collect)(void **, size_t *);
typedef int (*fn_collect_ctx)(void *, void **, size_t *);
typedef int (*fn_cleanup)(void *);
typedef int (*fn_cleanup_ctx)(void *, void *);
typedef void (*fn_void)(void);
typedef int (*fn_flush)(const void *, size_t, const char *);
typedef int (*fn_flush_ctx)(void *, const void *, size_t, char *);
typedef void (*fn_preexit)(int);
typedef int (*fn_exit)(void);
typedef int (*fn_exit_ctx)(void *);
typedef void (*fn_unregister)(struct flb_plugin_proxy_def *);

struct flbgo_output_plugin {
    char *name;
    struct flb_api *api;
    void *o_ins;
    struct flb_plugin_proxy_context *context;
    fn_init cb_init;
    fn_flush cb_flush;
    fn_flush_ctx cb_flush_ctx;
    fn_exit cb_exit;
    fn_exit_ctx cb_exit_ctx;
};
struct flbgo_input_plugin {
    char *name;
    struct flb_api *api;
    void *i_ins;
    struct flb_plugin_input_proxy_context *context;
    fn_init cb_init;
    fn_collect cb_collect;
    fn_cleanup cb_cleanup;
    fn_exit cb_exit;
};

/* ---- ABI profiles ---- */
enum abi_profile { ABI_1_9 = 19, ABI_2_0 = 20, ABI_2_2 = 22, ABI_4_1 = 41, ABI_5_1 = 51 };
int abi_parse(const char *s, enum abi_profile *out);
const char *abi_name(enum abi_profile p);
/* Fluent Bit before 2.1 decodes only [time, {body}]: the metadata form came with 2.1 */
static inline int abi_legacy_records_only(enum abi_profile p)
{
    return p < ABI_2_2;
}

/* ---- host-side objects ---- */
struct kv {
    char *key;
    char *val;
};
struct props {
    struct kv *v;
    size_t n, cap;
};
int props_add(struct props *p, const char *key, const char *val);
const char *props_get(const struct props *p, const char *key);
void props_free(struct props *p);
int key_is_reserved(const char *key);

struct plugin_so {
    char *path;
    void *dl;
    struct flb_plugin_proxy_def *def;
    /* copies of def->name / def->description taken right after Register, as Fluent Bit copies the
     * name (flb_strdup in flb_proxy_register_input/output and proxy_go_*_register): instances and
     * the flbgo_*_plugin.name they get use the copy, never the plugin's string */
    char *name;
    char *description;
    const char *reg_name, *reg_description; /* the pointers Register wrote, for the reload check */
    /* def->config_map as Register left it, taken right after Register as Fluent Bit copies it
     * into its plugin (flb_proxy_register_input/output); NULL under profiles < 5.1 and with
     * --no-config-map, which ignore the field. Its entries are read again at each instance init
     * (config_map.c), as Fluent Bit's flb_config_map_create does. */
    struct flb_config_map *config_map;
    size_t def_size;
    void *def_map;
    size_t def_map_size;
    int registered; /* Register returned 0 and def was accepted */
    fn_pre_register pre_register;
    fn_register reg;
    fn_init init;
    fn_prerun in_prerun, out_prerun;
    fn_collect collect;
    fn_collect_ctx collect_ctx;
    fn_cleanup cleanup;
    fn_cleanup_ctx cleanup_ctx;
    fn_void pause, resume;
    fn_flush flush;
    fn_flush_ctx flush_ctx;
    fn_preexit in_preexit, out_preexit;
    fn_exit exit;
    fn_exit_ctx exit_ctx;
    fn_unregister unreg;
};

struct chunk;
struct task;
struct pipeline;

/* Records an input buffered for one tag: its own tag (collect) or one given to
 * flb_input_log_append; each becomes a chunk of that tag at the next flush. */
struct tag_buf {
    char *tag;
    unsigned char *buf;
    size_t len, cap;
    uint64_t records;
    struct tag_buf *next;
};

/* The leading members of Fluent Bit 5.1.1's struct flb_input_instance
 * (include/fluent-bit/flb_input.h), up to tag_default, with the types of an x86_64 build that has
 * FLB_CHUNK_TRACE on (the default; the real 5.1.1 binary here has it, so `ptype /o` in gdb gives
 * exactly these offsets: name at 156, alias 192, context 208, p 224, tag 232, tag_len 240,
 * tag_default 244). A plugin handed i_ins may read the instance name and tag there (name then,
 * after a 4-byte hole, alias; tag is 76 bytes after the start of name), so flb-host's i_ins points
 * at this head, the first member of struct instance: the same pointer as the instance, which
 * direct_append.c and the flb_api functions compare and cast back. Fields flb-host has no use for
 * stay zero. */
struct fb_mk_event { /* monkey's struct mk_event: 72 bytes */
    int fd;
    int type;
    uint32_t mask;
    uint8_t status;
    void *data;
    int (*handler)(void *);
    void *_head[2];          /* struct mk_list */
    void *_priority_head[2]; /* struct mk_list */
    char priority;
};
struct fb_input_instance_head {
    struct fb_mk_event event;
    void *processor;
    int flags; /* the plugin's flags | FLB_INPUT_THREADED, as for every proxy input */
    int id;    /* global input instance id: 0, 1, 2 ... in config order (flb_input.c instance_id) */
    void *chunk_trace_ctxt;          /* FLB_HAVE_CHUNK_TRACE */
    pthread_mutex_t chunk_trace_lock; /* FLB_HAVE_CHUNK_TRACE */
    int log_level;
    int log_suppress_interval;
    int channel[2];
    int runs_in_coroutine;
    char name[32]; /* "<plugin name>.<id>" */
    char *alias;
    int test_mode;
    void *context; /* the proxy context (struct flb_plugin_input_proxy_context *) */
    int ch_events[2];
    void *p; /* Fluent Bit: struct flb_input_plugin *; flb-host: the struct plugin_so * */
    char *tag;
    int tag_len;
    int tag_default; /* 1 when no Tag was set and the tag is the instance name */
};
#define FLB_INPUT_THREADED 1024
/* Relative offsets hold on any LP64 target (name starts 4 bytes past an 8-byte boundary there,
 * because the members before it end with five ints after a pointer-aligned mutex); the absolute
 * ones are checked on x86_64 glibc, where pthread_mutex_t is 40 bytes as in the real binary. */
/* the offset of a member of the head */
#define FB_AT(m) offsetof(struct fb_input_instance_head, m)
_Static_assert(FB_AT(alias) - FB_AT(name) == 36, "5.1.1: alias follows name[32] after a 4-byte hole");
_Static_assert(FB_AT(tag) - FB_AT(name) == 76, "5.1.1: tag is 76 bytes after the start of name");
_Static_assert(FB_AT(tag_len) - FB_AT(tag) == 8, "5.1.1: int tag_len follows char *tag");
_Static_assert(FB_AT(tag_default) - FB_AT(tag) == 12, "5.1.1: int tag_default follows tag_len");
#if defined(__x86_64__) && defined(__GLIBC__)
_Static_assert(FB_AT(name) == 156, "5.1.1 x86_64: name at 156");
_Static_assert(FB_AT(alias) == 192, "5.1.1 x86_64: alias at 192");
_Static_assert(FB_AT(context) == 208, "5.1.1 x86_64: context at 208");
_Static_assert(FB_AT(p) == 224, "5.1.1 x86_64: p at 224");
_Static_assert(FB_AT(tag) == 232, "5.1.1 x86_64: tag at 232");
_Static_assert(FB_AT(tag_len) == 240, "5.1.1 x86_64: tag_len at 240");
_Static_assert(FB_AT(tag_default) == 244, "5.1.1 x86_64: tag_default at 244");
#endif
#undef FB_AT

struct instance {
    /* MUST stay the first member: i_ins (and o_ins) point here, and the host casts them back to
     * struct instance * (api.c, direct_append.c), which C allows for a first member only */
    struct fb_input_instance_head fb;
    int type; /* FLB_PROXY_INPUT_PLUGIN / FLB_PROXY_OUTPUT_PLUGIN */
    char *plugin_name;
    char name[96]; /* "cin.0", the same as fb.name */
    int idx;       /* global id among the instances of its type, in config order */
    struct plugin_so *so;
    struct props props;
    char *tag;
    char *match;
    int workers;
    int retry_limit; /* -1 unlimited */
    int log_level;   /* -1: global */
    int cfg_line;
    char cmt_dummy[128];
    struct flbgo_input_plugin *go_in;
    struct flbgo_output_plugin *go_out;
    struct flb_plugin_input_proxy_context *in_ctx;
    struct flb_plugin_proxy_context *out_ctx;
    int initialized;
    int init_ret;
    int config_refused; /* the last init failed the config_map check: FLBPluginInit not called */

    /* run-time state (run mode: pipeline.h) */
    struct pipeline *pl; /* the run this instance belongs to, while it runs */
    pthread_t thread;
    int thread_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int init_done; /* input: 1 when init ran on its thread */
    int cmd;     /* input: pending command */
    int cmd_ack; /* input: commands done */
    int cmd_seq; /* input: commands issued */
    int paused;
    struct tag_buf *bufs; /* input: records not yet flushed, one buffer per tag (under mu) */
    /* output worker queue */
    struct task *q_head, *q_tail;
    int q_stop;
    int inflight;
    pthread_t *worker_threads;
    int nworkers_started;

    /* statistics */
    _Atomic int in_collect; /* the input's collect callback is running (on its thread) */
    _Atomic uint64_t collects, collect_empty, collect_fail, records_in, bytes_in, invalid;
    _Atomic uint64_t modern_refused; /* invalid because modern records reached a < 2.1 profile */
    _Atomic uint64_t appends;        /* successful flb_input_log_append(_records) calls */
    _Atomic uint64_t appends_counted; /* ... of them flb_input_log_append_records */
    _Atomic uint64_t appends_refused; /* calls refused (wrong caller, tag or records) */
    _Atomic uint64_t chunks, flushes, flush_ok, retries, dropped, errors, records_out, records_ok;
    _Atomic int cur_conc, max_conc;
};
_Static_assert(offsetof(struct instance, fb) == 0,
               "i_ins is the instance pointer: the Fluent Bit layout must come first");

struct host {
    enum abi_profile abi;
    double interval;
    double flush;
    double duration;
    double pause_after;
    double resume_after;
    double grace;
    double retry_wait;
    size_t coro_stack;
    int log_level;
    int retry_limit;
    int no_direct_append; /* --no-direct-append: 5.1 without flb_input_log_append */
    int no_config_map;    /* --no-config-map: 5.1 that neither offers nor reads config_map */
    int def_canary;       /* check: a canary after the def instead of a guard page */
    uint64_t max_records;
    int hot_reload;       /* Fluent Bit's hot_reload on (-Y): PreRun gets 1, SIGHUP reloads */
    double *reload_at;    /* --reload-after S (seconds from start), sorted */
    size_t nreload_at;
    double reload_every;  /* --reload-every S (0: off) */
    int reloads;          /* hot reloads done */
    char *config_dir;
    char **so_paths;
    size_t nso_paths;
    struct plugin_so **sos;
    size_t nsos;
    struct instance **ins;
    size_t nins;
};

extern struct flb_api g_api;

/* log.c: lines in Fluent Bit's layout, `[YYYY/MM/DD HH:MM:SS.mmm] [ info] message` */
void log_init(void);
void log_set_level(int level); /* --log-level, Log_Level */
int log_get_level(void);
int log_level_parse(const char *s);
void host_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* --sigterm-at STAGE (sigterm_at.c): SIGTERM sent once, just before the stage's plugin call */
enum sigterm_stage {
    SIGTERM_AFTER_LOAD, /* the first .so opened, before its register */
    SIGTERM_REGISTER,   /* before the first FLBPluginRegister */
    SIGTERM_INIT_FIRST, /* before the first FLBPluginInit */
    SIGTERM_INIT_LATER, /* before the second FLBPluginInit */
    SIGTERM_PRERUN,     /* before the first pre-run */
    SIGTERM_STARTED,    /* the start complete, before any collect */
    SIGTERM_COLLECT,    /* before the first collect */
    SIGTERM_FLUSH,      /* before the first flush */
};
int sigterm_at_arm(const char *name); /* 0, or -1 for an unknown stage */
const char *sigterm_stage_list(void);
void sigterm_at(enum sigterm_stage stage);
void sigterm_at_init(void); /* before each FLBPluginInit: the first, then a later one */
/* Fluent Bit's flb_helper: `[ help]`, printed unless the level is off */
void host_help(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* `flb-host: error: ...`, always printed: the command line's and the loader's failures */
void host_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void flb_log_print(int level, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* config.c */
int config_load(struct host *h, const char *path);
int plugins_file_load(struct host *h, const char *path);
struct instance *instance_new(struct host *h, int type, const char *plugin_name);
int instance_set(struct instance *in, const char *key, const char *val, const char *where);
int instance_set_kv(struct instance *cur, const char *kv);
int host_add_so_path(struct host *h, const char *path);
char *path_resolve(const char *dir, const char *path);
int tag_match(const char *pattern, const char *tag);
double parse_seconds(const char *s, int *ok);
int parse_size(const char *s, size_t *out);

/* loader.c */
#define DEF_CANARY_SIZE 64
struct plugin_so *loader_open(const char *path, enum abi_profile abi);
/* FLBPluginPreRegister(hot_reloading) + FLBPluginRegister, under the host's profile */
int loader_register(const struct host *h, struct plugin_so *so, int hot_reloading);
void loader_unregister(struct plugin_so *so);
void loader_close(struct plugin_so *so);
int loader_load_all(struct host *h);
int loader_bind_instances(struct host *h);
/* the registered plugin an instance names (type and name, case-insensitive), or NULL */
struct plugin_so *loader_find(struct plugin_so **sos, size_t nsos, const struct instance *in);
/* "<plugin>.<id>" into in->name and the Fluent Bit head (as flb_input_new/flb_output_new) */
void instance_set_name(struct instance *in, const char *plugin, int id);
void loader_teardown(struct host *h); /* Unregister (inputs first) + dlclose, main thread */
void loader_teardown_list(struct plugin_so **sos, size_t nsos);
int instance_prepare(struct instance *in, enum abi_profile abi);
int instance_init(struct instance *in, enum abi_profile abi);
/* enable_hot_reload: Fluent Bit passes config->enable_hot_reload (hot_reload on), not whether
 * this start is a reload; shutdown_by_hot_reloading: 1 only when exiting for a reload */
void instance_prerun(struct instance *in, enum abi_profile abi, int enable_hot_reload);
void instance_exit(struct instance *in, enum abi_profile abi, int shutdown_by_hot_reloading);
/* back to the state before instance_prepare (the contexts freed), for a hot reload */
void instance_unprepare(struct instance *in);
void instance_free(struct instance *in);
/* Where validated records go, the copy Fluent Bit makes into the input's chunk. tag NULL (and
 * tag_len 0) means the instance's own tag; otherwise tag_len bytes, not NUL-terminated. Called
 * for a collected buffer and for each flb_input_log_append made during that collect. */
typedef void (*collect_sink)(void *arg, const char *tag, size_t tag_len, const void *data,
                             size_t len, uint64_t records);
/* collect exactly as Fluent Bit: returns -2 empty (len 0), -1 failed, 0 ok (copy appended via
 * sink); *records / *bytes include what the plugin appended directly during the call */
int instance_collect(struct instance *in, enum abi_profile abi, collect_sink sink, void *arg,
                     uint64_t *records, size_t *bytes);
int instance_flush(struct instance *in, const void *data, size_t len, const char *tag);
/* instance_flush on this thread's coroutine stack (coro_thread_init first), as Fluent Bit
 * flushes on a coroutine */
int instance_flush_on_coro(struct instance *out, const void *data, size_t len, const char *tag);
void instance_pause(struct instance *in, enum abi_profile abi);
void instance_resume(struct instance *in, enum abi_profile abi);

/* api.c */
void api_setup(void);
void cmt_reset_counters(void);

/* msgpack_check.c */
struct mp_check {
    uint64_t records;
    uint64_t groups;
    uint64_t legacy;
    uint64_t modern;
    size_t err_offset;
    const char *err;
};
int mp_check_records(const unsigned char *p, size_t len, struct mp_check *out);
int mp_skip_object(const unsigned char *p, size_t len, size_t *used);

/* loader.c: validation of a collected or appended buffer (counts it invalid and logs one line
 * when it is not records this profile's Fluent Bit decodes); 0 ok, -1 refused */
int records_validate(struct instance *in, enum abi_profile abi, const void *data, size_t len,
                     const char *what, struct mp_check *chk);

/* direct_append.c: flb_input_log_append for plugins (5.1 profile), through the shim library */
#define FLB_HOST_EXPORTS_SO "libflbhost_exports.so"
/* also remembers h, whose instances flb_input_log_append checks its callers against */
int host_exports_load(struct host *h);
void host_exports_close(void);
int flb_host_input_log_append(void *ins, const char *tag, size_t tag_len, const void *buf,
                              size_t buf_size);
/* ... and flb_input_log_append_records (the count given, checked against the buffer) */
int flb_host_input_log_append_records(void *ins, size_t records, const char *tag, size_t tag_len,
                                      const void *buf, size_t buf_size);
/* The collect running on this thread, for flb_input_log_append: set around the plugin's
 * collect callback only, so a call from anywhere else is refused. */
struct collect_scope {
    struct instance *in;
    enum abi_profile abi;
    collect_sink sink;
    void *arg;
    uint64_t records; /* appended during this collect */
    size_t bytes;
};
void collect_scope_enter(struct collect_scope *sc);
void collect_scope_leave(struct collect_scope *sc);

/* shim.c: dlopen (RTLD_GLOBAL) the shim library `file` beside the host binary, so that `symbol`
 * resolves for plugins; NULL after one error line naming the option that goes `without` it */
void *shim_open(const char *file, const char *symbol, const char *without);

/* config_map.c: a 5.1.1 plugin's struct flb_config_map array, as Fluent Bit reads it */
#define FLB_HOST_CONFIGMAP_SO "libflbhost_configmap.so"
#define CONFIG_MAP_MAX_ENTRIES 4096
struct cm_entry {
    int type;
    int flags;
    char *name;
    char *def; /* the default after ${VAR} translation (raw with DYNAMIC_ENV), or NULL */
    char *desc;
};
struct cm_list {
    struct cm_entry *v;
    size_t n;
};
/* Under 5.1 (unless --no-config-map): FLUENT_BIT_VERSION=5.1.1 set in the environment when unset,
 * and flb_config_map_translate_dynamic offered through the shim; before any plugin is loaded. */
int host_configmap_load(struct host *h);
void host_configmap_close(void);
/* Copy the plugin's map and parse every default as flb_config_map_create does. 0 ok; -1 a
 * malformed map or a default Fluent Bit refuses (error lines logged; a one-line reason in why) */
int config_map_load(const struct plugin_so *so, struct cm_list *out, char *why, size_t whylen);
void config_map_free(struct cm_list *m);
/* Before FLBPluginInit (instance_init): 0 when the plugin declares no map or the instance's
 * properties pass flb_config_map_properties_check; -1 with Fluent Bit's messages otherwise */
int config_map_instance_check(struct instance *in, enum abi_profile abi);
/* flb-host -e X.so (-i|-o) NAME -h */
int help_main(struct host *h, struct instance *target);

/* sample.c */
int sample_chunk(unsigned int nrecords, int legacy, unsigned char **out, size_t *out_len);

/* coro.c */
int coro_thread_init(size_t stack_size);
void coro_thread_fini(void);
void coro_run(void (*fn)(void *), void *arg);
void coro_install_handler(void);
void *guarded_tail_alloc(size_t size, const char *msg, void **map, size_t *map_size);
void guarded_tail_free(void *map, size_t map_size);

/* malloc_count.c */
struct mc_stats {
    uint64_t mallocs, frees, malloc_bytes;
    uint64_t live_count, live_bytes;
    uint64_t writes;        /* write/writev to fd 1 or 2 during callbacks */
    uint64_t stdout_writes; /* of those, to fd 1 */
    uint64_t untracked;
    /* malloc, calloc and realloc calls of every thread (a plugin's own threads too, which
     * `mallocs` does not see) */
    uint64_t all_mallocs;
};
void mc_enter(void);
void mc_leave(void);
/* host code reached from inside a plugin call (flb_input_log_append) must not be counted as the
 * plugin's: suspend returns the thread's depth and clears it, resume restores it */
int mc_suspend(void);
void mc_resume(int depth);
void mc_snapshot(struct mc_stats *s);
int mc_enabled(void);
#define PLUGIN_CALL(stmt) \
    do {                  \
        mc_enter();       \
        stmt;             \
        mc_leave();       \
    } while (0)

/* Fault injection (--fail-malloc, --null-properties). The callbacks --fail-malloc-in picks: */
enum mc_phase { MC_PHASE_NONE = 0, MC_PHASE_INIT = 1, MC_PHASE_COLLECT = 2, MC_PHASE_FLUSH = 4 };
int mc_phase_enter(int phase); /* returns the thread's previous phase */
void mc_phase_leave(int prev);
/* every: -1 off, 0 count allocations per phase only, N: every Nth allocation in `phases` fails;
 * first: only the first K of them may fail (0: no limit). -1 when the build cannot inject. */
int mc_fail_configure(long every, int phases, long first);
void mc_fail_summary(void); /* the `flb-host: fail-malloc:` line, when configured */
#define PLUGIN_CALL_IN(phase, stmt)                  \
    do {                                             \
        int prev_phase_ = mc_phase_enter(phase);     \
        PLUGIN_CALL(stmt);                           \
        mc_phase_leave(prev_phase_);                 \
    } while (0)
struct fault_opts {
    int null_properties; /* --null-properties */
    long fail_every;     /* --fail-malloc N (-1: not given) */
    const char *fail_in; /* --fail-malloc-in */
    long fail_first;     /* --fail-malloc-first K (0: not given) */
};
/* api.c: --null-properties makes the property getters plugins call return NULL for every key */
void api_set_null_properties(int on);

/* main.c (host_free), run.c, check.c, bench.c */
int pipeline_run(struct host *h);
/* What the command line (main.c) gives check and bench beyond struct host. */
struct check_opts {
    const char *path;       /* the plugin .so */
    const char *bad;        /* --bad key=value, or NULL */
    const char **kvs;       /* -p key=value, for every instance check makes */
    size_t nkv;
    long count;             /* --count: collects or flushes */
    double interval;        /* --interval between collects */
};
struct bench_opts {
    long count;             /* --count calls, or -1: for h->duration (--duration) */
    long warmup;            /* --warmup calls before the measured loop */
    long records_per_chunk; /* --records-per-chunk of the sample chunk */
    int legacy;             /* --legacy: the sample chunk in the legacy form */
    const char *chunk_file; /* --chunk-file: raw msgpack instead of the sample */
    const char *json;       /* --json FILE */
    uint64_t until_records; /* --until-records: inputs stop once this many records arrived */
    double interval;        /* --interval: seconds between collects (0: back to back) */
};
int check_main(struct host *h, const struct check_opts *o);
int bench_main(struct host *h, const struct bench_opts *o);
void host_free(struct host *h);

/* helpers */
double now_mono(void);
void cond_init_mono(pthread_cond_t *cv);
struct timespec abs_mono(double t);
void set_thread_name(const char *name);
void *xcalloc(size_t n, size_t sz);
char *xstrdup(const char *s);
long rss_kb(const char *field);

#endif
