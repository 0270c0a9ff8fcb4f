/* flb-host: log lines, in Fluent Bit's layout. The host's own lines (host_log, host_help) and
 * the plugins' (api->log_print, exported as flb_log_print) are printed as Fluent Bit 5.1.1's
 * flb_log prints them: `[2026/01/31 12:00:00.123] [ info] message`, the level right-aligned in
 * five characters, local time with milliseconds, one write per line so that lines of several
 * threads do not interleave. host_error lines (`flb-host: error: ...`) are the command line's
 * own diagnostics and keep their form. */
#include "flb_host.h"

#include <strings.h>
#include <sys/time.h>
#include <time.h>

#define FLB_LOG_HELP 6 /* Fluent Bit's FLB_LOG_HELP: printed at any level but off */

/* the --log-level of the run (Log_Level of [SERVICE]); read by flb_log_print, which plugins call
 * from any thread with nothing but a level */
static _Atomic int g_level = FLB_LOG_INFO;

void log_init(void)
{
    /* localtime_r reads the zone once, allocating; done here, not inside a plugin's call */
    tzset();
}

void log_set_level(int level)
{
    atomic_store(&g_level, level);
}

int log_get_level(void)
{
    return atomic_load(&g_level);
}

int log_level_parse(const char *s)
{
    static const char *names[] = {"off", "error", "warn", "info", "debug", "trace"};
    for (int i = 0; i < 6; i++) {
        if (strcasecmp(s, names[i]) == 0) {
            return i;
        }
    }
    if (strcasecmp(s, "warning") == 0) {
        return FLB_LOG_WARN;
    }
    return -1;
}

static const char *level_label(int level)
{
    switch (level) {
    case FLB_LOG_ERROR: return "error";
    case FLB_LOG_WARN: return "warn";
    case FLB_LOG_INFO: return "info";
    case FLB_LOG_DEBUG: return "debug";
    case FLB_LOG_TRACE: return "trace";
    case FLB_LOG_HELP: return "help";
    default: return "???";
    }
}

/* "[YYYY/MM/DD HH:MM:SS.mmm] [level] " into buf; its length */
static size_t line_prefix(char *buf, size_t size, int level)
{
    struct timeval tv;
    struct tm tm;
    int n;
    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    n = snprintf(buf, size, "[%04d/%02d/%02d %02d:%02d:%02d.%03ld] [%5s] ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (long) tv.tv_usec / 1000, level_label(level));
    return n > 0 ? (size_t) n : 0;
}

static void vlog_line(int level, const char *fmt, va_list ap)
{
    char buf[4096];
    /* this is host work even when a plugin logs: kept out of the plugin's malloc counts */
    int depth = mc_suspend();
    size_t len = line_prefix(buf, sizeof buf, level);
    int m = vsnprintf(buf + len, sizeof buf - len - 1, fmt, ap);
    if (m > 0) {
        len += (size_t) m;
    }
    if (len > sizeof buf - 2) {
        len = sizeof buf - 2;
    }
    buf[len++] = '\n';
    fwrite(buf, 1, len, stderr);
    mc_resume(depth);
}

void host_log(int level, const char *fmt, ...)
{
    va_list ap;
    if (level > log_get_level()) {
        return;
    }
    va_start(ap, fmt);
    vlog_line(level, fmt, ap);
    va_end(ap);
}

void host_help(const char *fmt, ...)
{
    va_list ap;
    if (log_get_level() < FLB_LOG_ERROR) {
        return;
    }
    va_start(ap, fmt);
    vlog_line(FLB_LOG_HELP, fmt, ap);
    va_end(ap);
}

void host_error(const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "flb-host: error: %s\n", buf);
}

/* Exported with the Fluent Bit name (the binary is linked with -rdynamic); api->log_print. */
void flb_log_print(int level, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    (void) file;
    (void) line;
    if (level > log_get_level() || fmt == NULL) {
        return;
    }
    va_start(ap, fmt);
    vlog_line(level, fmt, ap);
    va_end(ap);
}
