/* A minimal in-process stand-in for Fluent Bit's api table, for the SDK's own tests: properties
 * from a small table, log lines captured (log_print is variadic, which Rust cannot define). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "flb_plugin.h"

#define MAX_PROPS 32
static const char *prop_keys[MAX_PROPS];
static const char *prop_vals[MAX_PROPS];
static int nprops;
static char last_log[4096];
static int log_count;
static int log_level = 5;

static const char *get_property(const char *key, void *ins)
{
    (void) ins;
    for (int i = 0; i < nprops; i++) {
        if (strcasecmp(prop_keys[i], key) == 0) {
            return prop_vals[i];
        }
    }
    return NULL;
}

static void *get_cmt(void *ins) { (void) ins; return NULL; }

static void log_print(int level, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    (void) level; (void) file; (void) line;
    va_start(ap, fmt);
    vsnprintf(last_log, sizeof(last_log), fmt, ap);
    va_end(ap);
    log_count++;
}

static int log_check(void *ins, int level) { (void) ins; return level <= log_level; }

static struct flb_api api = {
    get_property, get_property, get_cmt, get_cmt, log_print, log_check, log_check, get_property, log_check,
};

struct flb_api *fake_host_api(void) { return &api; }
void fake_host_reset(void) { nprops = 0; log_count = 0; last_log[0] = 0; log_level = 5; }
void fake_host_set_log_level(int level) { log_level = level; }
int fake_host_set_property(const char *key, const char *value)
{
    if (nprops == MAX_PROPS) return -1;
    prop_keys[nprops] = key; prop_vals[nprops] = value; nprops++;
    return 0;
}
const char *fake_host_last_log(void) { return last_log; }
int fake_host_log_count(void) { return log_count; }
