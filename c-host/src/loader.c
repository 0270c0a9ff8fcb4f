/* flb-host: dlopen, symbol lookup per ABI profile, register/unregister, per-instance calls. */
#include "flb_host.h"

#include <dlfcn.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The plugin functions flb-host looks up, each from the first profile whose Fluent Bit looks it
 * up: the cleanup callback came with 2.0, the hooks (PreRegister, Pre-Run, Pause/Resume,
 * PreExit) with 2.2, the Ctx input callbacks with 4.1. Each lands in a function pointer member
 * of struct plugin_so, NULL when absent or not looked up. */
#define FN(member) offsetof(struct plugin_so, member)
static const struct {
    size_t member;
    const char *symbol;
    enum abi_profile since;
} plugin_symbols[] = {
    {FN(reg), "FLBPluginRegister", ABI_1_9},
    {FN(init), "FLBPluginInit", ABI_1_9},
    {FN(collect), "FLBPluginInputCallback", ABI_1_9},
    {FN(flush), "FLBPluginFlush", ABI_1_9},
    {FN(flush_ctx), "FLBPluginFlushCtx", ABI_1_9},
    {FN(exit), "FLBPluginExit", ABI_1_9},
    {FN(exit_ctx), "FLBPluginExitCtx", ABI_1_9},
    {FN(unreg), "FLBPluginUnregister", ABI_1_9},
    {FN(cleanup), "FLBPluginInputCleanupCallback", ABI_2_0},
    {FN(pre_register), "FLBPluginPreRegister", ABI_2_2},
    {FN(in_prerun), "FLBPluginInputPreRun", ABI_2_2},
    {FN(out_prerun), "FLBPluginOutputPreRun", ABI_2_2},
    {FN(pause), "FLBPluginInputPause", ABI_2_2},
    {FN(resume), "FLBPluginInputResume", ABI_2_2},
    {FN(in_preexit), "FLBPluginInputPreExit", ABI_2_2},
    {FN(out_preexit), "FLBPluginOutputPreExit", ABI_2_2},
    {FN(collect_ctx), "FLBPluginInputCallbackCtx", ABI_4_1},
    {FN(cleanup_ctx), "FLBPluginInputCleanupCallbackCtx", ABI_4_1},
};
/* dlsym's object pointer is stored as the member's function pointer, as POSIX allows */
_Static_assert(sizeof(void *) == sizeof(fn_void), "function pointers are pointer-sized");

static int is_input(const struct plugin_so *so)
{
    return so->registered && so->def->type == FLB_PROXY_INPUT_PLUGIN;
}

struct plugin_so *loader_open(const char *path, enum abi_profile abi)
{
    struct plugin_so *so;
    void *dl;
    char *copy = xstrdup(path);
    const char *base = basename(copy);

    if (strncmp(base, "flb-", 4) == 0) {
        host_error("'%s': a file named flb-*.so is taken for a native plugin by Fluent Bit and "
                   "refused; rename it",
                   path);
        free(copy);
        return NULL;
    }
    free(copy);
    dlerror();
    dl = dlopen(path, RTLD_LAZY);
    if (dl == NULL) {
        const char *e = dlerror();
        host_error("cannot load plugin '%s': %s", path, e ? e : "unknown dlopen error");
        return NULL;
    }
    so = xcalloc(1, sizeof *so);
    so->path = xstrdup(path);
    so->dl = dl;
    for (size_t i = 0; i < sizeof plugin_symbols / sizeof plugin_symbols[0]; i++) {
        void *fn = abi >= plugin_symbols[i].since ? dlsym(dl, plugin_symbols[i].symbol) : NULL;
        memcpy((char *) so + plugin_symbols[i].member, &fn, sizeof fn);
    }
    if (so->reg == NULL || so->init == NULL) {
        host_error("'%s' is not a proxy plugin: symbol %s not found", path,
                   so->reg == NULL ? "FLBPluginRegister" : "FLBPluginInit");
        dlclose(so->dl);
        free(so->path);
        free(so);
        return NULL;
    }
    return so;
}

/* returns 0 (registered or silently ignored), -1 fatal. hot_reloading is what
 * FLBPluginPreRegister gets: Fluent Bit passes config->hot_reloading, 1 only for the plugins of
 * the new context a hot reload builds (flb_plugin_proxy.c:492, set at flb_reload.c:544). */
int loader_register(const struct host *h, struct plugin_so *so, int hot_reloading)
{
    enum abi_profile abi = h->abi;
    int ret;
    so->def_size = abi >= ABI_5_1 ? sizeof(struct flb_plugin_proxy_def) : FLB_DEF_SIZE_5;
    if (h->def_canary) {
        /* check mode: a canary after the def shows writes beyond the profile's def size */
        so->def = xcalloc(1, so->def_size + DEF_CANARY_SIZE);
        memset((char *) so->def + so->def_size, 0xA5, DEF_CANARY_SIZE);
    } else {
        /* the def ends exactly at a PROT_NONE page: a write beyond the profile's def size (e.g.
         * event_type under 1.9) faults even in plugin code no sanitizer instruments */
        so->def = guarded_tail_alloc(so->def_size,
                                     abi >= ABI_5_1
                                         ? "plugin wrote beyond the 48-byte plugin definition "
                                           "struct in FLBPluginRegister"
                                         : "plugin wrote beyond the 5-field (32-byte) plugin "
                                           "definition of this --abi profile in "
                                           "FLBPluginRegister (event_type exists only since "
                                           "5.0, config_map since 5.1.1)",
                                     &so->def_map, &so->def_map_size);
        if (so->def == NULL) {
            host_error("cannot map the plugin definition struct");
            return -1;
        }
    }
    /* glibc allocates a thread's dlerror state at the first dl* call that fails on it (and
     * frees it at the second dlerror() after that, which the host's own calls do). A Register
     * probing for a function this host does not offer, as the config_map rule has plugins do
     * under older profiles and with --no-config-map, would otherwise be charged by the malloc
     * counting with that state, which stays on this (main) thread past check's all-freed
     * verdict. A failed lookup of the host's own, just before, makes it the host's. */
    (void) dlsym(RTLD_DEFAULT, "flb_host_no_such_symbol");
    if (so->pre_register) {
        PLUGIN_CALL(ret = so->pre_register(hot_reloading));
        if (ret == -1) {
            host_error("'%s': FLBPluginPreRegister returned -1, aborting", so->path);
            return -1;
        }
    }
    sigterm_at(SIGTERM_REGISTER);
    PLUGIN_CALL(ret = so->reg(so->def));
    if (ret == -1) {
        /* Fluent Bit ignores this silently: the plugin just does not exist */
        host_log(FLB_LOG_DEBUG, "'%s': FLBPluginRegister returned -1, plugin ignored", so->path);
        return 0;
    }
    if (so->def->proxy != FLB_PROXY_GOLANG) {
        host_error("'%s': unrecognized proxy handler %d (expected %d)", so->path, so->def->proxy,
                   FLB_PROXY_GOLANG);
        return -1;
    }
    if (so->def->type != FLB_PROXY_INPUT_PLUGIN && so->def->type != FLB_PROXY_OUTPUT_PLUGIN &&
        so->def->type != FLB_PROXY_CUSTOM_PLUGIN) {
        host_error("'%s': invalid plugin type %d", so->path, so->def->type);
        return -1;
    }
    if (so->def->name == NULL || so->def->name[0] == '\0') {
        host_error("'%s': FLBPluginRegister left the plugin name empty", so->path);
        return -1;
    }
    so->config_map = NULL;
    if (abi >= ABI_5_1 && so->def->config_map != NULL) {
        if (h->no_config_map) {
            /* this host emulates a 5.1 without config_map: a plugin that writes it all the same
             * did not check, and would write past the 40-byte def of a 5.0 .. 5.1.0 */
            host_log(FLB_LOG_WARN,
                     "'%s': FLBPluginRegister wrote config_map although the host did not offer "
                     "it (--no-config-map: no FLUENT_BIT_VERSION=5.1.1 from flb-host, no "
                     "flb_config_map_translate_dynamic); ignored, as a Fluent Bit 5.0 .. 5.1.0 "
                     "has no such field",
                     so->path);
        } else {
            /* Fluent Bit keeps the pointer (flb_proxy_register_input/output: p->config_map =
             * def->config_map) and reads the entries at each instance init */
            so->config_map = so->def->config_map;
            host_log(FLB_LOG_DEBUG, "'%s': plugin declares a config_map at %p", so->path,
                     (void *) so->config_map);
        }
    }
    so->registered = 1;
    so->reg_name = so->def->name;
    so->reg_description = so->def->description;
    so->name = xstrdup(so->def->name);
    so->description = xstrdup(so->def->description ? so->def->description : "");
    host_log(FLB_LOG_DEBUG, "registered %s plugin '%s' from %s%s",
             so->def->type == FLB_PROXY_INPUT_PLUGIN ? "input" : "output", so->name, so->path,
             hot_reloading ? " (hot reloading)" : "");
    return 0;
}

void loader_unregister(struct plugin_so *so)
{
    if (so->registered && so->unreg) {
        PLUGIN_CALL(so->unreg(so->def));
    }
    so->registered = 0;
}

void loader_close(struct plugin_so *so)
{
    if (so->def_map) {
        guarded_tail_free(so->def_map, so->def_map_size);
        so->def_map = NULL;
    } else {
        free(so->def);
    }
    so->def = NULL;
    if (so->dl && dlclose(so->dl) != 0) {
        const char *e = dlerror();
        host_error("dlclose('%s') failed: %s", so->path, e ? e : "?");
    }
    so->dl = NULL;
    free(so->name);
    free(so->description);
    free(so->path);
    free(so);
}

int loader_load_all(struct host *h)
{
    h->sos = xcalloc(h->nso_paths, sizeof *h->sos);
    for (size_t i = 0; i < h->nso_paths; i++) {
        struct plugin_so *so = loader_open(h->so_paths[i], h->abi);
        if (so == NULL) {
            return -1;
        }
        h->sos[h->nsos++] = so;
        sigterm_at(SIGTERM_AFTER_LOAD);
        if (loader_register(h, so, 0) != 0) {
            return -1;
        }
    }
    return 0;
}

struct plugin_so *loader_find(struct plugin_so **sos, size_t nsos, const struct instance *in)
{
    for (size_t j = 0; j < nsos; j++) {
        struct plugin_so *so = sos[j];
        if (so != NULL && so->registered && so->def->type == in->type &&
            strcasecmp(so->name, in->plugin_name) == 0) {
            return so;
        }
    }
    return NULL;
}

void instance_set_name(struct instance *in, const char *plugin, int id)
{
    in->idx = id;
    in->fb.id = id;
    /* flb_input_new / flb_output_new: snprintf(name, sizeof(name) - 1, "%s.%i", ...) */
    snprintf(in->fb.name, sizeof in->fb.name - 1, "%s.%d", plugin, id);
    snprintf(in->name, sizeof in->name, "%s", in->fb.name);
}

int loader_bind_instances(struct host *h)
{
    int next_id[2] = {0, 0}; /* inputs, outputs */
    for (size_t i = 0; i < h->nins; i++) {
        struct instance *in = h->ins[i];
        int *id = &next_id[in->type == FLB_PROXY_INPUT_PLUGIN ? 0 : 1];
        in->so = loader_find(h->sos, h->nsos, in);
        if (in->so == NULL) {
            char names[1024] = "";
            size_t off = 0;
            for (size_t j = 0; j < h->nsos; j++) {
                struct plugin_so *so = h->sos[j];
                if (so->registered && so->def->type == in->type && off < sizeof names - 64) {
                    off += (size_t) snprintf(names + off, sizeof names - off, "%s%s",
                                             off ? ", " : "", so->name);
                }
            }
            host_error("unknown %s plugin '%s' (loaded %s plugins: %s)",
                       in->type == FLB_PROXY_INPUT_PLUGIN ? "input" : "output", in->plugin_name,
                       in->type == FLB_PROXY_INPUT_PLUGIN ? "input" : "output",
                       off ? names : "none");
            return -1;
        }
        /* Fluent Bit numbers instances per type across all plugins, in config order
         * (flb_input.c instance_id, flb_output.c instance_id): -i a -i b gives a.0 and b.1 */
        instance_set_name(in, in->so->name, (*id)++);
        if (in->retry_limit == -2) {
            in->retry_limit = h->retry_limit;
        }
        if (in->type == FLB_PROXY_INPUT_PLUGIN && in->tag == NULL) {
            /* Fluent Bit's default tag is the instance name (flb_input.c, flb_input_instance_init:
             * flb_input_set_property(ins, "tag", ins->name); ins->tag_default = FLB_TRUE) */
            in->tag = xstrdup(in->name);
            in->fb.tag_default = 1;
        }
        if (instance_prepare(in, h->abi) != 0) {
            return -1;
        }
    }
    return 0;
}

void loader_teardown_list(struct plugin_so **sos, size_t nsos)
{
    /* On the calling (main) thread, as Fluent Bit's flb_plugins_unregister: each input plugin,
     * then each output plugin, Unregister then dlclose at once (the proxy's cb_destroy,
     * flb_plugin_proxy.c:276 / :224); a .so whose Register failed is closed last */
    for (int pass = 0; pass < 3; pass++) {
        for (size_t j = 0; j < nsos; j++) {
            struct plugin_so *so = sos[j];
            if (so == NULL || (pass < 2 && !(so->registered && (pass == 0) == is_input(so)))) {
                continue;
            }
            loader_unregister(so);
            loader_close(so);
            sos[j] = NULL;
        }
    }
}

void loader_teardown(struct host *h)
{
    loader_teardown_list(h->sos, h->nsos);
}

int instance_prepare(struct instance *in, enum abi_profile abi)
{
    struct plugin_so *so = in->so;
    snprintf(in->cmt_dummy, sizeof in->cmt_dummy, "cmt:%s", in->name);
    if (in->type == FLB_PROXY_INPUT_PLUGIN) {
        in->in_ctx = xcalloc(1, sizeof *in->in_ctx);
        in->in_ctx->coll_fd = -1;
        in->in_ctx->proxy = so;
        /* the Fluent Bit 5.1.1 head a plugin may read through i_ins (flb_input_new) */
        in->fb.flags = so->def->flags | FLB_INPUT_THREADED;
        in->fb.context = in->in_ctx;
        in->fb.p = so;
        in->fb.tag = in->tag;
        in->fb.tag_len = in->tag ? (int) strlen(in->tag) : 0;
        in->go_in = xcalloc(1, sizeof *in->go_in);
        in->go_in->name = so->name;
        in->go_in->api = &g_api;
        in->go_in->i_ins = &in->fb; /* == in: fb is the first member */
        in->go_in->context = in->in_ctx;
        in->go_in->cb_init = so->init;
        in->go_in->cb_collect = so->collect;
        in->go_in->cb_cleanup = so->cleanup;
        in->go_in->cb_exit = so->exit;
        if (so->collect == NULL && !(abi >= ABI_4_1 && so->collect_ctx)) {
            host_error("input plugin '%s' exports no FLBPluginInputCallback%s", so->name,
                       abi >= ABI_4_1 ? "(Ctx)" : " (profile < 4.1 has no Ctx variant)");
            return -1;
        }
    } else {
        in->out_ctx = xcalloc(1, sizeof *in->out_ctx);
        in->out_ctx->proxy = so;
        in->go_out = xcalloc(1, sizeof *in->go_out);
        in->go_out->name = so->name;
        in->go_out->api = &g_api;
        in->go_out->o_ins = in;
        in->go_out->context = in->out_ctx;
        in->go_out->cb_init = so->init;
        in->go_out->cb_flush = so->flush;
        in->go_out->cb_flush_ctx = so->flush_ctx;
        in->go_out->cb_exit = so->exit;
        in->go_out->cb_exit_ctx = so->exit_ctx;
        if (so->flush == NULL && so->flush_ctx == NULL) {
            host_error("output plugin '%s' exports neither FLBPluginFlush nor FLBPluginFlushCtx",
                       so->name);
            return -1;
        }
    }
    return 0;
}

int instance_init(struct instance *in, enum abi_profile abi)
{
    int ret;
    /* Fluent Bit checks the properties against the plugin's config_map before the plugin's init
     * (flb_input_instance_init / flb_output_init_all call *_plugin_property_check first) */
    in->config_refused = 0;
    if (config_map_instance_check(in, abi) != 0) {
        in->config_refused = 1;
        in->init_ret = 0;
        host_error("plugin '%s' (%s) failed to initialize: its configuration does not pass the "
                   "plugin's config_map (see above); FLBPluginInit was not called",
                   in->name, in->so->path);
        return -1;
    }
    sigterm_at_init();
    if (in->type == FLB_PROXY_INPUT_PLUGIN) {
        PLUGIN_CALL_IN(MC_PHASE_INIT, ret = in->so->init(in->go_in));
    } else {
        PLUGIN_CALL_IN(MC_PHASE_INIT, ret = in->so->init(in->go_out));
    }
    in->init_ret = ret;
    if (ret <= 0) {
        host_error("plugin '%s' (%s) failed to initialize (FLBPluginInit returned %d)", in->name,
                   in->so->path, ret);
        return -1;
    }
    in->initialized = 1;
    return 0;
}

void instance_prerun(struct instance *in, enum abi_profile abi, int enable_hot_reload)
{
    int ret = 0;
    if (abi < ABI_2_2) {
        return;
    }
    sigterm_at(SIGTERM_PRERUN);
    if (in->type == FLB_PROXY_INPUT_PLUGIN && in->so->in_prerun) {
        PLUGIN_CALL(ret = in->so->in_prerun(enable_hot_reload));
    } else if (in->type == FLB_PROXY_OUTPUT_PLUGIN && in->so->out_prerun) {
        PLUGIN_CALL(ret = in->so->out_prerun(enable_hot_reload));
    }
    (void) ret; /* Fluent Bit ignores it */
}

static void *remote_ctx(struct instance *in)
{
    return in->type == FLB_PROXY_INPUT_PLUGIN ? in->in_ctx->remote_context
                                              : in->out_ctx->remote_context;
}

int records_validate(struct instance *in, enum abi_profile abi, const void *data, size_t len,
                     const char *what, struct mp_check *chk)
{
    if (mp_check_records(data, len, chk) != 0) {
        atomic_fetch_add(&in->invalid, 1);
        atomic_fetch_add(&in->errors, 1);
        host_log(FLB_LOG_ERROR, "[%s] invalid log records from %s (%zu bytes): %s at offset %zu; "
                 "dropped",
                 in->name, what, len, chk->err ? chk->err : "?", chk->err_offset);
        return -1;
    }
    if (abi_legacy_records_only(abi) && chk->modern > 0) {
        /* a pre-2.1 decoder would take [time, {metadata}] for the timestamp and lose the
         * record, so the whole buffer is refused rather than half delivered */
        atomic_fetch_add(&in->invalid, 1);
        atomic_fetch_add(&in->modern_refused, 1);
        atomic_fetch_add(&in->errors, 1);
        host_log(FLB_LOG_ERROR,
                 "[%s] %s returned %llu record(s) in the modern form [[time, {metadata}], "
                 "{body}], which Fluent Bit < 2.1 (--abi %s) does not understand: the plugin "
                 "must write legacy records [time, {body}] for this host; %zu bytes dropped",
                 in->name, what, (unsigned long long) chk->modern, abi_name(abi), len);
        return -1;
    }
    return 0;
}

int instance_collect(struct instance *in, enum abi_profile abi, collect_sink sink, void *arg,
                     uint64_t *records, size_t *bytes)
{
    struct plugin_so *so = in->so;
    void *data = NULL;
    size_t len = 0;
    int ret, cret = 0;
    int use_ctx = abi >= ABI_4_1 && so->collect_ctx != NULL;
    struct mp_check chk;
    struct collect_scope sc = {in, abi, sink, arg, 0, 0};

    *records = 0;
    *bytes = 0;
    atomic_fetch_add(&in->collects, 1);
    collect_scope_enter(&sc);
    sigterm_at(SIGTERM_COLLECT);
    if (use_ctx) {
        PLUGIN_CALL_IN(MC_PHASE_COLLECT, ret = so->collect_ctx(remote_ctx(in), &data, &len));
    } else {
        PLUGIN_CALL_IN(MC_PHASE_COLLECT, ret = so->collect(&data, &len));
    }
    collect_scope_leave(&sc);
    /* records appended directly were copied during the call, whatever the collect returns */
    *records = sc.records;
    *bytes = sc.bytes;
    if (len == 0) {
        atomic_fetch_add(&in->collect_empty, 1);
        /* Fluent Bit 2.0 and 2.1 call cleanup after every collect, an empty one too (data NULL);
         * from 2.2 an empty collect returns at once, with no cleanup */
        if (abi == ABI_2_0 && so->cleanup) {
            PLUGIN_CALL(cret = so->cleanup(data));
            (void) cret;
        }
        return -2;
    }
    if (ret == -1) {
        /* Fluent Bit returns here too (the buffer is neither copied nor cleaned up) */
        atomic_fetch_add(&in->collect_fail, 1);
        atomic_fetch_add(&in->errors, 1);
        host_log(FLB_LOG_WARN, "[%s] collect returned -1 with %zu bytes (failed collect)",
                 in->name, len);
        return -1;
    }
    if (data == NULL) {
        atomic_fetch_add(&in->invalid, 1);
        atomic_fetch_add(&in->errors, 1);
        host_log(FLB_LOG_ERROR, "[%s] collect returned len=%zu with data=NULL; dropped", in->name,
                 len);
        return -1;
    }
    if (records_validate(in, abi, data, len, "collect", &chk) == 0) {
        *records += chk.records;
        *bytes += len;
        atomic_fetch_add(&in->records_in, chk.records);
        atomic_fetch_add(&in->bytes_in, len);
        if (sink) {
            sink(arg, NULL, 0, data, len, chk.records);
        }
    }
    /* a refused buffer is still handed back: the plugin owns it until cleanup (or free) */
    if (abi >= ABI_4_1 && so->cleanup_ctx) {
        PLUGIN_CALL(cret = so->cleanup_ctx(remote_ctx(in), data));
    } else if (abi >= ABI_2_0 && so->cleanup) {
        PLUGIN_CALL(cret = so->cleanup(data));
    } else {
        free(data); /* no cleanup exported (or a 1.9 host): the host frees with libc free */
    }
    if (cret == -1) {
        atomic_fetch_add(&in->errors, 1);
        return -1;
    }
    return 0;
}

int instance_flush(struct instance *in, const void *data, size_t len, const char *tag)
{
    struct plugin_so *so = in->so;
    char *t = xstrdup(tag); /* fresh NUL-terminated copy, freed after the call */
    int ret;
    sigterm_at(SIGTERM_FLUSH);
    if (so->flush_ctx) {
        PLUGIN_CALL_IN(MC_PHASE_FLUSH, ret = so->flush_ctx(in->out_ctx->remote_context, data, len, t));
    } else {
        PLUGIN_CALL_IN(MC_PHASE_FLUSH, ret = so->flush(data, len, t));
    }
    free(t);
    return ret;
}

struct flush_on_coro {
    struct instance *out;
    const void *data;
    size_t len;
    const char *tag;
    int ret;
};

static void flush_trampoline(void *arg)
{
    struct flush_on_coro *f = arg;
    f->ret = instance_flush(f->out, f->data, f->len, f->tag);
}

int instance_flush_on_coro(struct instance *out, const void *data, size_t len, const char *tag)
{
    struct flush_on_coro f = {out, data, len, tag, 0};
    coro_run(flush_trampoline, &f);
    return f.ret;
}

void instance_pause(struct instance *in, enum abi_profile abi)
{
    if (abi >= ABI_2_2 && in->so->pause) {
        PLUGIN_CALL(in->so->pause());
    }
}

void instance_resume(struct instance *in, enum abi_profile abi)
{
    if (abi >= ABI_2_2 && in->so->resume) {
        PLUGIN_CALL(in->so->resume());
    }
}

void instance_exit(struct instance *in, enum abi_profile abi, int shutdown_by_hot_reloading)
{
    int ret = 0;
    if (!in->initialized) {
        return;
    }
    if (in->type == FLB_PROXY_INPUT_PLUGIN) {
        if (abi >= ABI_2_2 && in->so->in_preexit) {
            PLUGIN_CALL(in->so->in_preexit(shutdown_by_hot_reloading));
        }
        if (in->so->exit) {
            PLUGIN_CALL(ret = in->so->exit());
        }
    } else {
        if (abi >= ABI_2_2 && in->so->out_preexit) {
            PLUGIN_CALL(in->so->out_preexit(shutdown_by_hot_reloading));
        }
        if (in->so->exit_ctx) {
            PLUGIN_CALL(ret = in->so->exit_ctx(in->out_ctx->remote_context));
        } else if (in->so->exit) {
            PLUGIN_CALL(ret = in->so->exit());
        }
    }
    (void) ret;
    in->initialized = 0;
}

void instance_unprepare(struct instance *in)
{
    free(in->go_in);
    free(in->go_out);
    free(in->in_ctx);
    free(in->out_ctx);
    in->go_in = NULL;
    in->go_out = NULL;
    in->in_ctx = NULL;
    in->out_ctx = NULL;
    in->fb.context = NULL;
    in->fb.p = NULL;
    in->so = NULL;
    in->initialized = 0;
}

void instance_free(struct instance *in)
{
    if (in == NULL) {
        return;
    }
    instance_unprepare(in);
    props_free(&in->props);
    free(in->plugin_name);
    free(in->tag);
    free(in->match);
    while (in->bufs) {
        struct tag_buf *b = in->bufs;
        in->bufs = b->next;
        free(b->tag);
        free(b->buf);
        free(b);
    }
    free(in->worker_threads);
    pthread_mutex_destroy(&in->mu);
    pthread_cond_destroy(&in->cv);
    free(in);
}
