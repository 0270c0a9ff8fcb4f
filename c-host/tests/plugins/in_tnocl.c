/* Input "tnocl": hands over malloc'ed buffers and exports no cleanup callback: the host must
 * free them with libc free. Only the 1.9-era symbols, and 1.9-era (legacy) records unless the
 * property modern = on asks for [[time, {metadata}], {body}]. */
#include "tp_common.h"
#define P "tnocl"
static unsigned long n;
static int modern;

TP_REGISTER(1, "tnocl", "flb-host test input without cleanup")
int FLBPluginInit(void *plugin)
{
    const char *m = tp_in_prop(plugin, "modern");
    modern = m != NULL && strcmp(m, "on") == 0;
    tp_event(P, "init");
    return 1;
}
int FLBPluginInputCallback(void **data, size_t *size)
{
    if (tp_collect_one(data, size, (uint32_t) ++n, 7, !modern) != 0) {
        return -1;
    }
    tp_event(P, "collect len=%zu", *size);
    return 0;
}
int FLBPluginExit(void) { tp_event(P, "exit"); return 1; }
