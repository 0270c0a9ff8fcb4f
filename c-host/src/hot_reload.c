/* flb-host run mode: a hot reload, on the main thread.
 *
 * As Fluent Bit 5.1.1 does it (hot_reload on / -Y; SIGHUP sets flb_bin_restarting at
 * src/fluent-bit.c:646, and the main loop calls flb_reload() at src/fluent-bit.c:1536 on the main
 * thread). flb_reload() (src/flb_reload.c:461) builds the NEW context before it stops the old one:
 *  1. new_config->hot_reloading = TRUE (flb_reload.c:544); the plugins given with -e are loaded
 *     again (flb_reload_reinstantiate_external_plugins, flb_reload.c:571 -> flb_plugin.c:343
 *     flb_plugin_load_router -> flb_plugin_proxy_create), a plugins file through
 *     flb_config_load_config_format (flb_reload.c:585): dlopen(path, RTLD_LAZY)
 *     (flb_plugin_proxy.c:605) of a .so the old context still holds, so the loader returns the
 *     same handle with its count raised: the .so is NOT unmapped and mapped again, its static
 *     state survives the reload. Then FLBPluginPreRegister(config->hot_reloading = 1)
 *     (flb_plugin_proxy.c:492) and FLBPluginRegister(new def) (flb_plugin_proxy.c:508), on the
 *     main thread, while the old instances still run.
 *  2. The new configuration is validated (flb_reload.c:612); a failure halts the reload and the
 *     old context goes on (the new plugins are unregistered and dlclosed by flb_destroy).
 *  3. flb_stop(old) (flb_reload.c:637, flb_lib.c:1040): the engine's STOP (flb_engine.c:936)
 *     flushes every chunk buffered (flb_engine_flush, :948), then pauses the inputs
 *     (flb_engine_stop_ingestion, :1424: FLBPluginInputPause); the grace is -1 because
 *     ensure_thread_safety_on_hot_reloading defaults to on (flb_config.c:461, flb_reload.c:486):
 *     the engine waits until no task and no chunk is left, however long (flb_engine.c:1485), so
 *     records the inputs handed over are delivered before anything exits. Then
 *     flb_engine_shutdown (flb_engine.c:1611): inputs paused again, outputs exit
 *     (flb_output_exit: FLBPluginOutputPreExit(config->shutdown_by_hot_reloading = 1, set at
 *     flb_reload.c:542; flb_plugin_proxy.c:211) then FLBPluginExitCtx or FLBPluginExit (go.c:156)
 *     on flb-pipeline), then inputs exit (FLBPluginInputPreExit(1), flb_plugin_proxy.c:263, then
 *     FLBPluginExit, go.c:288, on each input's thread).
 *  4. flb_destroy(old) (flb_reload.c:638 -> flb_config_exit -> flb_plugins_unregister,
 *     include/fluent-bit/flb_plugins.h.in:55): on the main thread, for each input plugin then each
 *     output plugin, FLBPluginUnregister(old def) (flb_plugin_proxy.c:284 / :232) and dlclose
 *     (flb_plugin_proxy_destroy, :653), which only lowers the count. So a plugin sees
 *     Unregister(old def) AFTER Register(new def).
 *  5. flb_start(new) (flb_reload.c:642): new threads; FLBPluginInit on each input's thread and
 *     on flb-pipeline, then FLBPluginOutputPreRun and FLBPluginInputPreRun with
 *     config->enable_hot_reload (flb_plugin_proxy.c:317 / :338), which is 1 whenever hot_reload
 *     is on: the first start of a hot-reload-enabled Fluent Bit passes 1 too.
 * Traced with a real 5.1.1 (-Y, SIGHUP) and the C test plugins: preregister 1, register def#1
 * (input, then output), flush of the pending records, pause, output preexit 1 + exit, pause (it
 * may also come before the output's exit), input preexit 1 + exit, unregister def#0 (input, then
 * output), input init, output init, output prerun 1, input prerun 1; no unload/load.
 * flb-host does the same: hot_reload() below on the main thread, the old pipeline thread runs the
 * shutdown with no grace limit and PreExit(1), and a new pipeline thread starts the same
 * instances (same config, same names; the configuration is not read again). Counters add up
 * across reloads. */
#include "pipeline.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* the run-time state a pipeline leaves in an instance, back to what a first start sees; the
 * counters stay (the summary adds up across reloads) */
static void instance_reset_run_state(struct instance *in)
{
    in->thread_started = 0;
    in->init_done = 0;
    in->cmd = CMD_NONE;
    in->cmd_ack = 0;
    in->cmd_seq = 0;
    in->paused = 0;
    in->q_head = NULL;
    in->q_tail = NULL;
    in->q_stop = 0;
    in->inflight = 0;
    in->nworkers_started = 0;
    atomic_store(&in->cur_conc, 0);
}

/* After the old context's Unregister. Fluent Bit keeps the new definition's description pointer
 * (flb_input_plugin / flb_output_plugin .description, flb_plugin_proxy.c:374 / :407, read by -h
 * and the plugin help), and the plugin must keep name and description valid until the
 * Unregister of that new definition. In a reload the old definition's Unregister comes after the
 * new Register, in the same loaded .so: a plugin that hands the same strings to every Register
 * and frees them in Unregister leaves the new definition dangling. Seen here as the strings
 * having changed (the ASan build reports the read as a use-after-free). */
static void check_defs_after_unregister(struct plugin_so **sos, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        struct plugin_so *so = sos[j];
        const char *nm, *ds;
        if (so == NULL || !so->registered) {
            continue;
        }
        nm = so->def->name;
        ds = so->def->description;
        if (nm != so->reg_name || ds != so->reg_description) {
            host_log(FLB_LOG_ERROR,
                     "[reload] '%s': the plugin rewrote the name/description pointers of its "
                     "new definition during the previous definition's FLBPluginUnregister; "
                     "Fluent Bit keeps the description pointer of the new one",
                     so->name);
        } else if (nm == NULL || strcmp(nm, so->name) != 0 ||
                   strcmp(ds ? ds : "", so->description) != 0) {
            host_log(FLB_LOG_ERROR,
                     "[reload] '%s': the name/description strings of the new definition "
                     "changed during the previous definition's FLBPluginUnregister (freed by "
                     "it?): they must stay valid until the new definition's own Unregister",
                     so->name);
        }
    }
}

/* One hot reload, on the main thread, in Fluent Bit's order (see the top of this file). Returns
 * 0 when a pipeline runs afterwards (the new one, or the old one when the reload was halted), -1
 * when none does (the new pipeline could not start: the caller ends the run). */
int hot_reload(struct pipeline *pl)
{
    struct host *h = pl->h;
    struct plugin_so **nsos = xcalloc(h->nso_paths ? h->nso_paths : 1, sizeof *nsos);
    size_t n = 0;

    host_log(FLB_LOG_INFO, "reloading instance pid=%ld", (long) getpid());
    /* 1. the new context's plugins, while the old instances run: dlopen (the handle the old
     * context holds, its count raised), FLBPluginPreRegister(1), FLBPluginRegister(new def) */
    for (size_t i = 0; i < h->nso_paths; i++) {
        struct plugin_so *so = loader_open(h->so_paths[i], h->abi);
        if (so == NULL) {
            goto halt;
        }
        nsos[n++] = so;
        if (loader_register(h, so, 1) != 0) {
            goto halt;
        }
    }
    /* 2. the configuration must hold with them before anything stops */
    for (size_t i = 0; i < h->nins; i++) {
        if (loader_find(nsos, n, h->ins[i]) == NULL) {
            host_error("[reload] %s plugin '%s' is not registered by the reloaded plugins",
                       h->ins[i]->type == FLB_PROXY_INPUT_PLUGIN ? "input" : "output",
                       h->ins[i]->plugin_name);
            goto halt;
        }
    }
    /* 3. flb_stop(old): the pipeline thread flushes, waits for every task, exits the instances
     * with PreExit(1) */
    host_log(FLB_LOG_INFO, "[reload] stop everything of the old context");
    atomic_store(&pl->reloading, 1);
    atomic_store(&pl->stop, 1);
    pipeline_wake(pl);
    pthread_join(pl->thread, NULL);
    /* 4. flb_destroy(old): Unregister(old def), inputs first, and dlclose (the count only) */
    for (size_t i = 0; i < h->nins; i++) {
        instance_unprepare(h->ins[i]);
        instance_reset_run_state(h->ins[i]);
    }
    loader_teardown(h);
    free(h->sos);
    h->sos = nsos;
    h->nsos = n;
    check_defs_after_unregister(nsos, n);
    /* 5. flb_start(new): the same instances on the new registrations, new threads */
    host_log(FLB_LOG_INFO, "[reload] start everything");
    h->reloads++;
    for (size_t i = 0; i < h->nins; i++) {
        struct instance *in = h->ins[i];
        in->so = loader_find(nsos, n, in);
        if (instance_prepare(in, h->abi) != 0) {
            pl->failed = 1;
            return -1;
        }
    }
    pthread_mutex_lock(&pl->mu);
    pl->final = 0;
    pthread_mutex_unlock(&pl->mu);
    atomic_store(&pl->reloading, 0);
    atomic_store(&pl->stop, atomic_load(&pl->quit));
    if (pipeline_start(pl) != 0) {
        pl->failed = 1;
        return -1;
    }
    host_log(FLB_LOG_INFO, "[reload] successful reload done (%d so far)", h->reloads);
    return 0;
halt:
    /* flb_destroy(new ctx): what was registered is unregistered, everything dlclosed */
    loader_teardown_list(nsos, n);
    free(nsos);
    host_error("[reload] the reloaded plugins do not load. Reloading is halted");
    return 0;
}
