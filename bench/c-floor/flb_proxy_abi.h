/*
 * The parts of Fluent Bit's proxy plugin ABI the C floor plugins need,
 * declared from /work/shared/ABI.md (Fluent Bit 5.1.1 layout, 64-bit).
 * Field order is the ABI; do not reorder.
 */
#ifndef CFLOOR_FLB_PROXY_ABI_H
#define CFLOOR_FLB_PROXY_ABI_H

#include <stddef.h>

#define FLB_ERROR 0
#define FLB_OK    1
#define FLB_RETRY 2

#define FLB_PROXY_INPUT_PLUGIN  1
#define FLB_PROXY_OUTPUT_PLUGIN 2
#define FLB_PROXY_GOLANG        11

#define FLB_LOG_ERROR 1
#define FLB_LOG_WARN  2
#define FLB_LOG_INFO  3

#define CFLOOR_EXPORT __attribute__((visibility("default")))

struct flb_plugin_proxy_def {
    int type;
    int proxy;
    int flags;
    char *name;
    char *description;
    int event_type;                 /* since 5.0.0: not written by these plugins */
    void *config_map;               /* since 5.1.1: not written (host zeroes it) */
};

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

struct flbgo_output_plugin {
    char *name;
    struct flb_api *api;
    void *o_ins;
    struct flb_plugin_proxy_context *context;
};

struct flbgo_input_plugin {
    char *name;
    struct flb_api *api;
    void *i_ins;
    struct flb_plugin_input_proxy_context *context;
};

/* The symbols the host looks up with dlsym (only the ones these plugins export). */
CFLOOR_EXPORT int FLBPluginRegister(struct flb_plugin_proxy_def *def);
CFLOOR_EXPORT void FLBPluginUnregister(struct flb_plugin_proxy_def *def);
CFLOOR_EXPORT int FLBPluginInit(void *plugin);
CFLOOR_EXPORT int FLBPluginExit(void);
/* inputs */
CFLOOR_EXPORT int FLBPluginInputCallback(void **data, size_t *size);
CFLOOR_EXPORT int FLBPluginInputCleanupCallback(void *data);
/* outputs */
CFLOOR_EXPORT int FLBPluginFlush(const void *data, size_t size, const char *tag);
CFLOOR_EXPORT int FLBPluginFlushCtx(void *remote_ctx, const void *data, size_t size,
                                    char *tag);
CFLOOR_EXPORT int FLBPluginExitCtx(void *remote_ctx);

#endif
