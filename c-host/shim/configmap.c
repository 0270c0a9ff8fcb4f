/* libflbhost_configmap.so: flb_config_map_translate_dynamic under Fluent Bit's name, so that a
 * plugin's dlsym(RTLD_DEFAULT, "flb_config_map_translate_dynamic") finds it exactly when flb-host
 * emulates a Fluent Bit that reads the config_map of a proxy definition (--abi 5.1 without
 * --no-config-map). Fluent Bit exports this function since 5.0.3, the release that last changed
 * the layout of struct flb_config_map; plugins take its presence (with FLUENT_BIT_VERSION naming a
 * version whose layouts they verified) as leave to write config_map.
 *
 * A separate library for the reason shim/exports.c is one: flb-host is linked -rdynamic, so a
 * function of this name in the executable would resolve under every --abi profile. It is a stub:
 * no plugin has a reason to call it (Fluent Bit's takes a struct flb_config * a plugin never has),
 * and it returns NULL, as Fluent Bit's does for a NULL map or one with no raw template. */
#include <stddef.h>

struct flb_config;
struct flb_config_map;

char *flb_config_map_translate_dynamic(struct flb_config *config, struct flb_config_map *map)
{
    (void) config;
    (void) map;
    return NULL;
}
