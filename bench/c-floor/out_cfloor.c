/*
 * out_cfloor ("cfloorout"): the cheapest possible proxy output, to show what
 * the ABI itself costs. Each flush walks the whole chunk with an iterative
 * msgpack walker (no recursion, constant stack: flush runs on a 64 KiB
 * coroutine stack in Fluent Bit) that reads every header byte of every
 * object, skips string/bin/ext payloads, and counts top-level records. It
 * prints nothing and returns FLB_OK (FLB_ERROR if the chunk is malformed or
 * truncated).
 *
 * Exports: Register, Init, FlushCtx, Flush, ExitCtx, Exit, Unregister.
 *
 * Properties:
 *   write    on|off (default off): also write the whole chunk, unchanged, to
 *            stdout with write(2) (one call unless it is partial)
 *   summary  on|off (default off): print "records/flushes" totals to stderr
 *            at exit
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "flb_proxy_abi.h"

struct cfloor_out_config {
    int write;
    int summary;
};

/*
 * Each instance gets its own small config block (malloc'ed in Init, freed in
 * ExitCtx) as its remote_context. The non-Ctx Flush/Exit use a copy of the
 * last instance's configuration.
 */
static struct cfloor_out_config last_config;

static unsigned long long total_records;    /* atomic adds only */
static unsigned long long total_flushes;

static uint32_t be16(const unsigned char *p)
{
    return ((uint32_t) p[0] << 8) | p[1];
}

static uint32_t be32(const unsigned char *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) |
           ((uint32_t) p[2] << 8) | p[3];
}

/*
 * Count the top-level msgpack objects in p[0..n). Returns -1 if the buffer is
 * not a sequence of complete msgpack objects. Iterative: `pending` is the
 * number of objects still to read before the current record is complete.
 */
static long long walk_chunk(const unsigned char *p, size_t n)
{
    size_t i = 0;
    long long records = 0;

    while (i < n) {
        uint64_t pending = 1;

        while (pending > 0) {
            unsigned char b;
            size_t skip = 0;
            uint64_t add = 0;

            if (i >= n) {
                return -1;
            }
            b = p[i++];
            pending--;

            if (b <= 0x7f || b >= 0xe0) {
                /* positive / negative fixint */
            }
            else if (b <= 0x8f) {
                add = 2 * (uint64_t) (b & 0x0f);
            }
            else if (b <= 0x9f) {
                add = b & 0x0f;
            }
            else if (b <= 0xbf) {
                skip = b & 0x1f;
            }
            else {
                size_t hdr = 0;

                switch (b) {
                case 0xc0: case 0xc2: case 0xc3:            /* nil, bool */
                    break;
                case 0xcc: case 0xd0: skip = 1; break;
                case 0xcd: case 0xd1: skip = 2; break;
                case 0xca: case 0xce: case 0xd2: skip = 4; break;
                case 0xcb: case 0xcf: case 0xd3: skip = 8; break;
                case 0xd4: skip = 2; break;                 /* fixext 1..16 */
                case 0xd5: skip = 3; break;
                case 0xd6: skip = 5; break;
                case 0xd7: skip = 9; break;
                case 0xd8: skip = 17; break;
                case 0xc4: case 0xd9: hdr = 1; break;       /* bin8, str8 */
                case 0xc5: case 0xda: hdr = 2; break;
                case 0xc6: case 0xdb: hdr = 4; break;
                case 0xc7: hdr = 1; break;                  /* ext8/16/32 */
                case 0xc8: hdr = 2; break;
                case 0xc9: hdr = 4; break;
                case 0xdc: case 0xde: hdr = 2; break;       /* array/map 16 */
                case 0xdd: case 0xdf: hdr = 4; break;       /* array/map 32 */
                default:                                    /* 0xc1 */
                    return -1;
                }
                if (hdr > 0) {
                    uint32_t len;

                    if (hdr > n - i) {
                        return -1;
                    }
                    len = hdr == 1 ? p[i] : hdr == 2 ? be16(p + i) : be32(p + i);
                    i += hdr;
                    switch (b) {
                    case 0xdc: case 0xdd: add = len; break;
                    case 0xde: case 0xdf: add = 2 * (uint64_t) len; break;
                    case 0xc7: case 0xc8: case 0xc9: skip = (size_t) len + 1; break;
                    default: skip = len; break;
                    }
                }
            }
            if (skip > n - i) {
                return -1;
            }
            i += skip;
            pending += add;
            /* every pending object needs at least one more byte */
            if (pending > n - i) {
                return -1;
            }
        }
        records++;
    }
    return records;
}

static int write_all(const void *data, size_t size)
{
    const char *p = data;

    while (size > 0) {
        ssize_t w = write(STDOUT_FILENO, p, size);

        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        p += w;
        size -= (size_t) w;
    }
    return 0;
}

static int flush(const struct cfloor_out_config *cfg, const void *data, size_t size)
{
    long long records = walk_chunk(data, size);

    if (records < 0) {
        return FLB_ERROR;
    }
    if (cfg->write && write_all(data, size) != 0) {
        return FLB_ERROR;
    }
    if (cfg->summary) {
        __atomic_fetch_add(&total_records, (unsigned long long) records, __ATOMIC_RELAXED);
        __atomic_fetch_add(&total_flushes, 1, __ATOMIC_RELAXED);
    }
    return FLB_OK;
}

CFLOOR_REGISTRATION(FLB_PROXY_OUTPUT_PLUGIN, "cfloorout", "C floor output: walks each chunk, prints nothing")

static void log_error(struct flbgo_output_plugin *p, const char *msg)
{
    cfloor_log_error(p != NULL ? p->api : NULL, "out_cfloor", msg);
}

/* 1 = on, 0 = off/unset, -1 = invalid */
static int get_bool(struct flbgo_output_plugin *p, const char *key)
{
    const char *v = NULL;

    if (p != NULL && p->api != NULL && p->api->output_get_property != NULL) {
        v = p->api->output_get_property(key, p->o_ins);
    }
    if (v == NULL || *v == '\0') {
        return 0;
    }
    if (!strcasecmp(v, "on") || !strcasecmp(v, "true") ||
        !strcasecmp(v, "yes") || !strcmp(v, "1")) {
        return 1;
    }
    if (!strcasecmp(v, "off") || !strcasecmp(v, "false") ||
        !strcasecmp(v, "no") || !strcmp(v, "0")) {
        return 0;
    }
    return -1;
}

CFLOOR_EXPORT int FLBPluginInit(void *plugin)
{
    struct flbgo_output_plugin *p = plugin;
    int w = get_bool(p, "write");
    int s = get_bool(p, "summary");
    struct cfloor_out_config *cfg;

    if (w < 0 || s < 0) {
        log_error(p, "properties 'write' and 'summary' take on or off");
        return FLB_ERROR;
    }
    last_config.write = w;
    last_config.summary = s;
    if (p != NULL && p->context != NULL) {
        cfg = malloc(sizeof(*cfg));
        if (cfg == NULL) {
            log_error(p, "out of memory");
            return FLB_ERROR;
        }
        *cfg = last_config;
        p->context->remote_context = cfg;
    }
    return FLB_OK;
}

CFLOOR_EXPORT int FLBPluginFlushCtx(void *remote_ctx, const void *data, size_t size,
                                    char *tag)
{
    const struct cfloor_out_config *cfg = remote_ctx != NULL ? remote_ctx : &last_config;

    (void) tag;
    return flush(cfg, data, size);
}

CFLOOR_EXPORT int FLBPluginFlush(const void *data, size_t size, const char *tag)
{
    (void) tag;
    return flush(&last_config, data, size);
}

static int summary_printed;

/* Once per process: the host calls ExitCtx or Exit, never both, per instance. */
static void print_summary(const struct cfloor_out_config *cfg)
{
    if (cfg != NULL && cfg->summary &&
        !__atomic_exchange_n(&summary_printed, 1, __ATOMIC_RELAXED)) {
        fprintf(stderr, "[out_cfloor] %llu records in %llu flushes\n",
                __atomic_load_n(&total_records, __ATOMIC_RELAXED),
                __atomic_load_n(&total_flushes, __ATOMIC_RELAXED));
    }
}

CFLOOR_EXPORT int FLBPluginExitCtx(void *remote_ctx)
{
    print_summary(remote_ctx != NULL ? remote_ctx : &last_config);
    free(remote_ctx);
    return FLB_OK;
}

CFLOOR_EXPORT int FLBPluginExit(void)
{
    print_summary(&last_config);
    return FLB_OK;
}
