/*
 * in_cfloor: the cheapest possible proxy input, to show what the ABI itself
 * costs. Each collect mallocs a buffer, fills it with N copies of one fixed,
 * pre-encoded Fluent Bit 2.1+ record
 *
 *     [[EventTime(now), {}], {"message": "dummy"}]      (28 bytes)
 *
 * with a fresh timestamp, and hands it over; the cleanup callback frees it.
 *
 * Property: records (default 1, max 10000000): records per collect, for
 * batch-size curves. State is global (this plugin exports the non-Ctx
 * callbacks, like the Go example), so all instances of the .so share it:
 * the last instance initialised wins.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flb_proxy_abi.h"

#define CFLOOR_MAX_RECORDS 10000000UL

/* [[ext0 8 bytes, {}], {"message": "dummy"}], timestamp zeroed */
static const unsigned char record_template[] = {
    0x92,                                       /* array(2)           */
    0x92,                                       /*   array(2)         */
    0xd7, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,         /*     fixext8 type 0 */
    0x80,                                       /*     map(0)         */
    0x81,                                       /*   map(1)           */
    0xa7, 'm', 'e', 's', 's', 'a', 'g', 'e',    /*     "message"      */
    0xa5, 'd', 'u', 'm', 'm', 'y',              /*     "dummy"        */
};
#define RECORD_LEN sizeof(record_template)
#define TS_OFFSET 4

static size_t records_per_collect = 1;

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char) (v >> 24);
    p[1] = (unsigned char) (v >> 16);
    p[2] = (unsigned char) (v >> 8);
    p[3] = (unsigned char) v;
}

CFLOOR_REGISTRATION(FLB_PROXY_INPUT_PLUGIN, "cfloor", "C floor input: fixed record, malloc per collect")

static void log_error(struct flbgo_input_plugin *p, const char *msg)
{
    cfloor_log_error(p != NULL ? p->api : NULL, "in_cfloor", msg);
}

CFLOOR_EXPORT int FLBPluginInit(void *plugin)
{
    struct flbgo_input_plugin *p = plugin;
    const char *val = NULL;
    unsigned long long n;
    char *end;

    records_per_collect = 1;
    if (p != NULL && p->api != NULL && p->api->input_get_property != NULL) {
        val = p->api->input_get_property("records", p->i_ins);
    }
    if (val != NULL && *val != '\0') {
        errno = 0;
        n = strtoull(val, &end, 10);
        if (errno != 0 || *end != '\0' || val[0] == '-' ||
            n < 1 || n > CFLOOR_MAX_RECORDS) {
            log_error(p, "property 'records' must be an integer from 1 to 10000000");
            return FLB_ERROR;
        }
        records_per_collect = (size_t) n;
    }
    return FLB_OK;
}

CFLOOR_EXPORT int FLBPluginInputCallback(void **data, size_t *size)
{
    size_t n = records_per_collect;
    size_t len = n * RECORD_LEN;
    size_t done;
    struct timespec ts;
    unsigned char *buf;

    buf = malloc(len);
    if (buf == NULL) {
        return -1;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    memcpy(buf, record_template, RECORD_LEN);
    put_be32(buf + TS_OFFSET, (uint32_t) ts.tv_sec);
    put_be32(buf + TS_OFFSET + 4, (uint32_t) ts.tv_nsec);

    /* Replicate the first record by doubling: log2(n) memcpy calls. */
    for (done = RECORD_LEN; done < len; ) {
        size_t chunk = done <= len - done ? done : len - done;
        memcpy(buf + done, buf, chunk);
        done += chunk;
    }

    *data = buf;
    *size = len;
    return FLB_OK;
}

CFLOOR_EXPORT int FLBPluginInputCleanupCallback(void *data)
{
    free(data);
    return FLB_OK;
}

CFLOOR_EXPORT int FLBPluginExit(void)
{
    return FLB_OK;
}
