/*
 * The C floor plugins use the ABI header our SDK generates (include/flb_plugin.h, from the same
 * Rust definitions that are layout-tested against the C declarations; see docs/ABI.md), as a C plugin author would.
 */
#ifndef CFLOOR_FLB_PROXY_ABI_H
#define CFLOOR_FLB_PROXY_ABI_H

#include "flb_plugin.h"

#include <stdio.h>

#define CFLOOR_EXPORT __attribute__((visibility("default")))

/* What both floor plugins' Register writes: the five fields every host has, static strings. */
static inline int cfloor_register(struct flb_plugin_proxy_def *def, int type, const char *name,
                                  const char *description)
{
    def->type = type;
    def->proxy = FLB_PROXY_GOLANG;
    def->flags = 0;
    def->name = (char *) name;
    def->description = (char *) description;
    return 0;
}

/* FLBPluginRegister and FLBPluginUnregister of a floor plugin (its strings are static, so
 * Unregister has nothing to free). */
#define CFLOOR_REGISTRATION(type, name, description)                                      \
    CFLOOR_EXPORT int FLBPluginRegister(struct flb_plugin_proxy_def *def)                   \
    {                                                                                      \
        return cfloor_register(def, (type), (name), (description));                        \
    }                                                                                      \
    CFLOOR_EXPORT void FLBPluginUnregister(struct flb_plugin_proxy_def *def)                \
    {                                                                                      \
        (void) def;                                                                        \
    }

/* An error through the host's logger, or stderr before the host handed one. */
static inline void cfloor_log_error(struct flb_api *api, const char *plugin, const char *msg)
{
    if (api != NULL && api->log_print != NULL) {
        api->log_print(FLB_LOG_ERROR, __FILE__, __LINE__, "%s", msg);
    }
    else {
        fprintf(stderr, "[%s] %s\n", plugin, msg);
    }
}

#endif
