/* The C half of the layout test (plugins/sdk/tests/layout.rs), compiled by this directory's
 * build.rs. `ref_*` are the structs as docs/ABI.md and Fluent Bit's headers declare them, written
 * by hand; the unprefixed ones come from the generated header. The test checks Rust's sizes and
 * offsets against both. */
#include <stddef.h>
#include "flb_plugin.h"

struct ref_flb_plugin_proxy_def {
    int type; int proxy; int flags;
    char *name; char *description;
    int event_type;
    struct ref_flb_config_map *config_map;
};
/* include/fluent-bit/flb_config_map.h since 5.0.3 (offsets checked against Fluent Bit 5.1.1's
 * own header: size 104, desc at 40, value at 48; the value is 40 bytes with raw at 8) */
struct ref_mk_list { struct ref_mk_list *prev, *next; };
struct ref_flb_config_map_val {
    union { int i_num; int boolean; double d_num; size_t s_num; char *str; void *list; void *variant; } val;
    char *raw;
    struct ref_mk_list *mult;
    struct ref_mk_list _head;
};
struct ref_flb_config_map {
    int type; char *name; char *def_value; int flags; int set_property; unsigned long offset; char *desc;
    struct ref_flb_config_map_val value;
    struct ref_mk_list _head;
};
struct ref_flb_api {
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
struct ref_flb_plugin_proxy_context { void *remote_context; void *proxy; };
struct ref_flb_plugin_input_proxy_context { int coll_fd; void *remote_context; void *proxy; };
struct ref_flbgo_output_plugin { char *name; struct ref_flb_api *api; void *o_ins; struct ref_flb_plugin_proxy_context *context; };
struct ref_flbgo_input_plugin { char *name; struct ref_flb_api *api; void *i_ins; struct ref_flb_plugin_input_proxy_context *context; };

struct flb_layout_entry { const char *what; size_t value; };

#define BOTH(S, F) \
    { "ref." #S "." #F, offsetof(struct ref_##S, F) }, { "hdr." #S "." #F, offsetof(struct S, F) }
#define SIZE(S) { "ref." #S ".size", sizeof(struct ref_##S) }, { "hdr." #S ".size", sizeof(struct S) }

static const struct flb_layout_entry entries[] = {
    SIZE(flb_plugin_proxy_def),
    BOTH(flb_plugin_proxy_def, type), BOTH(flb_plugin_proxy_def, proxy), BOTH(flb_plugin_proxy_def, flags),
    BOTH(flb_plugin_proxy_def, name), BOTH(flb_plugin_proxy_def, description),
    BOTH(flb_plugin_proxy_def, event_type), BOTH(flb_plugin_proxy_def, config_map),
    SIZE(mk_list), BOTH(mk_list, prev), BOTH(mk_list, next),
    SIZE(flb_config_map_val),
    BOTH(flb_config_map_val, val), BOTH(flb_config_map_val, raw), BOTH(flb_config_map_val, mult),
    BOTH(flb_config_map_val, _head),
    SIZE(flb_config_map),
    BOTH(flb_config_map, type), BOTH(flb_config_map, name), BOTH(flb_config_map, def_value),
    BOTH(flb_config_map, flags), BOTH(flb_config_map, set_property), BOTH(flb_config_map, offset),
    BOTH(flb_config_map, desc), BOTH(flb_config_map, value), BOTH(flb_config_map, _head),
    SIZE(flb_api),
    BOTH(flb_api, output_get_property), BOTH(flb_api, input_get_property),
    BOTH(flb_api, output_get_cmt_instance), BOTH(flb_api, input_get_cmt_instance),
    BOTH(flb_api, log_print), BOTH(flb_api, input_log_check), BOTH(flb_api, output_log_check),
    BOTH(flb_api, custom_get_property), BOTH(flb_api, custom_log_check),
    SIZE(flb_plugin_proxy_context),
    BOTH(flb_plugin_proxy_context, remote_context), BOTH(flb_plugin_proxy_context, proxy),
    SIZE(flb_plugin_input_proxy_context),
    BOTH(flb_plugin_input_proxy_context, coll_fd), BOTH(flb_plugin_input_proxy_context, remote_context),
    BOTH(flb_plugin_input_proxy_context, proxy),
    SIZE(flbgo_output_plugin),
    BOTH(flbgo_output_plugin, name), BOTH(flbgo_output_plugin, api), BOTH(flbgo_output_plugin, o_ins),
    BOTH(flbgo_output_plugin, context),
    SIZE(flbgo_input_plugin),
    BOTH(flbgo_input_plugin, name), BOTH(flbgo_input_plugin, api), BOTH(flbgo_input_plugin, i_ins),
    BOTH(flbgo_input_plugin, context),
};

size_t flb_layout_count(void) { return sizeof(entries) / sizeof(entries[0]); }
const struct flb_layout_entry *flb_layout_entry_at(size_t i) { return i < flb_layout_count() ? &entries[i] : NULL; }
