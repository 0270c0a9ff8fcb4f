/* Output "tnames": hands the same malloc'ed name and description to every FLBPluginRegister and
 * frees them (scribbled over first) in FLBPluginUnregister, as a plugin keeping one copy of its
 * strings might. Under Fluent Bit's hot reload the old definition's Unregister comes after the new
 * Register, in the same loaded .so, so the new definition is left pointing at freed strings: the
 * host reports it. TNAMES_REFUSE_RELOAD=1 makes PreRegister return -1 on a hot reload. */
#include "tp_common.h"
#define P "tnames"

static char *g_name, *g_desc;

int FLBPluginPreRegister(int h)
{
    tp_event(P, "preregister %d", h);
    return h && getenv("TNAMES_REFUSE_RELOAD") != NULL ? -1 : 0;
}

int FLBPluginRegister(struct tp_def *def)
{
    tp_note_register(P, def);
    if (g_name == NULL) {
        g_name = strdup("tnames");
        g_desc = strdup("flb-host test output keeping one copy of its strings");
        if (g_name == NULL || g_desc == NULL) {
            return -1;
        }
    }
    tp_define(def, 2, g_name, g_desc);
    return 0;
}

int FLBPluginInit(void *plugin)
{
    (void) plugin;
    tp_event(P, "init");
    return 1;
}

int FLBPluginFlushCtx(void *rc, const void *data, size_t size, char *tag)
{
    (void) rc;
    (void) data;
    tp_event(P, "flush size=%zu tag=%s", size, tag);
    return 1;
}

int FLBPluginExitCtx(void *rc)
{
    (void) rc;
    tp_event(P, "exit");
    return 1;
}

void FLBPluginUnregister(struct tp_def *def)
{
    tp_note_unregister(P, def);
    if (g_name != NULL) {
        memset(g_name, 'x', strlen(g_name));
        memset(g_desc, 'x', strlen(g_desc));
        free(g_name);
        free(g_desc);
        g_name = NULL;
        g_desc = NULL;
    }
}
