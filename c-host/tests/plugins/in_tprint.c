/* Input "tprint": keeps one 1024-byte allocation for good, made in its first init, as Rust std's
 * stdout keeps the 1 KiB buffer of its LineWriter from the first println! on; with stdout = on
 * (the default) that init also writes a line to fd 1 with write(2), as std's stdout does, and
 * with stdout = off it only allocates. For check's all-freed hint. Collects one modern record. */
#include "tp_common.h"
#define P "tprint"
static void *kept;
static unsigned long n;

TP_REGISTER(1, "tprint", "flb-host test input that keeps a 1 KiB buffer")

int FLBPluginInit(void *plugin)
{
    const char *out = tp_in_prop(plugin, "stdout");
    if (kept == NULL) {
        kept = malloc(1024);
        if (out == NULL || strcmp(out, "off") != 0) {
            static const char line[] = "tprint: hello from the plugin\n";
            ssize_t w = write(1, line, sizeof line - 1);
            (void) w;
        }
    }
    tp_event(P, "init");
    return 1;
}

int FLBPluginInputCallback(void **data, size_t *size)
{
    return tp_collect_one(data, size, (uint32_t) ++n, 9, 0);
}

int FLBPluginExit(void) { return 1; }
