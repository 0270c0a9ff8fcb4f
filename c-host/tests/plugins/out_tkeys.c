/* Output "tkeysout": declares the config_map of Fluent Bit's stdout output (format,
 * json_date_key, json_date_format), written to def->config_map only when the host allows it by
 * the plugin SDK's rule (see tp_config_map_allowed). Events: "register version=V
 * translate_dynamic=0|1 config_map=0|1", "init format=F", "flush records=N", "exit". */
#include "tp_common.h"
#define P "tkeysout"

static const struct tp_config_map g_map[] = {
    {TP_CM_STR, "format", NULL, 0, 0, 0,
     "Specifies the data format to be printed. Supported formats are msgpack, json, json_lines "
     "and json_stream.",
     {0}, {0}},
    {TP_CM_STR, "json_date_key", "date", 0, 0, 0, "Specifies the name of the date field in output.",
     {0}, {0}},
    {TP_CM_STR, "json_date_format", NULL, 0, 0, 0,
     "Specify the format of the date, supported formats: double, iso8601, java_sql_timestamp and "
     "epoch.",
     {0}, {0}},
    {0, NULL, NULL, 0, 0, 0, NULL, {0}, {0}},
};

struct octx {
    atomic_ulong records;
};

int FLBPluginRegister(struct tp_def *def)
{
    const char *version;
    int translate;
    int allowed = tp_config_map_allowed(&version, &translate);

    tp_define(def, 2, "tkeysout", "flb-host test output declaring a config_map");
    if (allowed) {
        def->config_map = (void *) g_map;
    }
    tp_event(P, "register version=%s translate_dynamic=%d config_map=%d", version, translate,
             allowed);
    return 0;
}

int FLBPluginInit(void *plugin)
{
    struct tp_plugin *pl = plugin;
    struct tp_out_ctx *ctx = pl->context;
    const char *format = pl->api->output_get_property("format", pl->ins);
    struct octx *c = calloc(1, sizeof *c);
    if (c == NULL) {
        return 0;
    }
    ctx->remote_context = c;
    tp_event(P, "init format=%s", format ? format : "(unset)");
    return 1;
}

int FLBPluginFlushCtx(void *rc, const void *data, size_t size, char *tag)
{
    struct octx *c = rc;
    unsigned long n = tp_count_records(data, size);
    (void) tag;
    atomic_fetch_add(&c->records, n);
    tp_event(P, "flush records=%lu", n);
    return 1;
}

int FLBPluginExitCtx(void *rc)
{
    tp_event(P, "exit");
    free(rc);
    return 1;
}
