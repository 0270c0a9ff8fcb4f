/* flb-host: flb_input_log_append, the Fluent Bit function a plugin resolves with
 * dlsym(RTLD_DEFAULT, ...) to append records under any tag from its collect callback.
 *
 * Fluent Bit exports it from its binary since 2.1. flb-host is linked with -rdynamic, so defining
 * that name here would make it resolvable under every --abi profile; instead the host defines
 * flb_host_input_log_append and the shim library libflbhost_exports.so (c-host/shim/, built next
 * to the host binary) defines flb_input_log_append as a call to it. The host dlopens the shim
 * (shim.c) only for the 5.1 profile without --no-direct-append. */
#include "flb_host.h"

#include <dlfcn.h>
#include <limits.h>
#include <string.h>

static void *g_exports;
/* The host whose input instances flb_input_log_append checks ins against. A plugin calls it with
 * nothing but its i_ins (from any thread, even one of its own), so the host is remembered here by
 * host_exports_load, which every mode calls before it loads a plugin. */
static const struct host *g_append_host;
static _Thread_local struct collect_scope *tl_scope;

void collect_scope_enter(struct collect_scope *sc)
{
    atomic_store(&sc->in->in_collect, 1);
    tl_scope = sc;
}

void collect_scope_leave(struct collect_scope *sc)
{
    tl_scope = NULL;
    atomic_store(&sc->in->in_collect, 0);
}

int host_exports_load(struct host *h)
{
    g_append_host = h;
    if (h->abi < ABI_5_1 || h->no_direct_append || g_exports != NULL) {
        return 0;
    }
    g_exports = shim_open(FLB_HOST_EXPORTS_SO, "flb_input_log_append", "--no-direct-append");
    return g_exports != NULL ? 0 : -1;
}

void host_exports_close(void)
{
    if (g_exports != NULL) {
        dlclose(g_exports);
        g_exports = NULL;
    }
    g_append_host = NULL;
}

/* Pointer comparison only: ins may be garbage and must never be dereferenced before it is
 * found among the host's instances. */
static struct instance *known_input(const void *ins)
{
    const struct host *h = g_append_host;
    for (size_t i = 0; h != NULL && i < h->nins; i++) {
        if ((const void *) h->ins[i] == ins && h->ins[i]->type == FLB_PROXY_INPUT_PLUGIN) {
            return h->ins[i];
        }
    }
    return NULL;
}

static void refuse(const void *ins, const struct collect_scope *sc)
{
    struct instance *in = known_input(ins);
    struct instance *blame = sc != NULL ? sc->in : in;
    if (blame != NULL) {
        atomic_fetch_add(&blame->errors, 1);
        atomic_fetch_add(&blame->appends_refused, 1);
    }
    if (in == NULL) {
        host_log(FLB_LOG_ERROR,
                 "%s%s%sflb_input_log_append called with an unknown instance %p (not the i_ins "
                 "the host passed to an input's FLBPluginInit); refused",
                 sc ? "[" : "", sc ? sc->in->name : "", sc ? "] " : "", ins);
    } else if (sc != NULL) {
        host_log(FLB_LOG_ERROR,
                 "[%s] flb_input_log_append called with the instance of %s: an input appends "
                 "only through its own i_ins; refused",
                 sc->in->name, in->name);
    } else if (atomic_load(&in->in_collect)) {
        host_log(FLB_LOG_ERROR,
                 "[%s] flb_input_log_append called off the input thread (another thread, while "
                 "collect runs on the input's own): Fluent Bit's input chunks are not "
                 "thread-safe; refused",
                 in->name);
    } else {
        host_log(FLB_LOG_ERROR,
                 "[%s] flb_input_log_append called outside collect (only the collect callback, "
                 "on the input's thread, may append); refused",
                 in->name);
    }
}

/* Both exports: `claimed` is the record count a plugin passed to flb_input_log_append_records, or
 * -1 for flb_input_log_append (Fluent Bit counts them itself). Fluent Bit trusts a claimed count
 * (chunk totals, metrics, routing); here a count that is not the buffer's number of log records
 * (group markers excluded, as Fluent Bit's decoder counts) is refused as the plugin defect it is. */
static int log_append(void *ins, long long claimed, const char *tag, size_t tag_len,
                      const void *buf, size_t buf_size)
{
    struct collect_scope *sc = tl_scope;
    struct instance *in;
    struct mp_check chk;
    /* everything below is the host's work, not the plugin's: keep it out of the malloc counts */
    int depth = mc_suspend();
    int rc = -1;

    if (sc == NULL || (void *) sc->in != ins) {
        refuse(ins, sc);
        goto out;
    }
    in = sc->in;
    if (tag == NULL || tag_len == 0) {
        tag = NULL;
        tag_len = 0;
    } else if (memchr(tag, '\0', tag_len) != NULL) {
        atomic_fetch_add(&in->errors, 1);
        atomic_fetch_add(&in->appends_refused, 1);
        host_log(FLB_LOG_ERROR,
                 "[%s] flb_input_log_append: the tag holds a NUL byte within tag_len=%zu (a "
                 "buffer size passed as the tag length?); refused",
                 in->name, tag_len);
        goto out;
    }
    if (buf == NULL || buf_size == 0) {
        atomic_fetch_add(&in->invalid, 1);
        atomic_fetch_add(&in->errors, 1);
        atomic_fetch_add(&in->appends_refused, 1);
        host_log(FLB_LOG_ERROR,
                 "[%s] flb_input_log_append called with no records (buf=%p, buf_size=%zu); "
                 "refused",
                 in->name, buf, buf_size);
        goto out;
    }
    if (records_validate(in, sc->abi, buf, buf_size, "flb_input_log_append", &chk) != 0) {
        atomic_fetch_add(&in->appends_refused, 1);
        goto out;
    }
    if (claimed >= 0 && (uint64_t) claimed != chk.records) {
        atomic_fetch_add(&in->errors, 1);
        atomic_fetch_add(&in->appends_refused, 1);
        host_log(FLB_LOG_ERROR,
                 "[%s] flb_input_log_append_records: records=%lld, but the %zu bytes hold %llu log "
                 "record(s) (%llu group marker(s) aside): Fluent Bit would take the count as given "
                 "for its chunk totals and metrics; refused",
                 in->name, claimed, buf_size, (unsigned long long) chk.records,
                 (unsigned long long) chk.groups);
        goto out;
    }
    if (claimed >= 0) {
        atomic_fetch_add(&in->appends_counted, 1);
    }
    sc->records += chk.records;
    sc->bytes += buf_size;
    atomic_fetch_add(&in->records_in, chk.records);
    atomic_fetch_add(&in->bytes_in, buf_size);
    atomic_fetch_add(&in->appends, 1);
    if (sc->sink != NULL) {
        sc->sink(sc->arg, tag, tag_len, buf, buf_size, chk.records);
    }
    rc = 0;
out:
    mc_resume(depth);
    return rc;
}

int flb_host_input_log_append(void *ins, const char *tag, size_t tag_len, const void *buf,
                              size_t buf_size)
{
    return log_append(ins, -1, tag, tag_len, buf, buf_size);
}

int flb_host_input_log_append_records(void *ins, size_t records, const char *tag, size_t tag_len,
                                      const void *buf, size_t buf_size)
{
    /* a count above LLONG_MAX cannot match any buffer: it is refused as a mismatch */
    return log_append(ins, records > (size_t) LLONG_MAX ? LLONG_MAX : (long long) records, tag,
                      tag_len, buf, buf_size);
}
