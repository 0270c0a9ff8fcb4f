/* flb-host: bench mode, collect or flush in a tight loop on one thread. */
#include "flb_host.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

struct copy_sink {
    unsigned char *buf;
    size_t cap;
    uint64_t records;
    uint64_t bytes;
};

/* Fluent Bit copies every collected or directly appended buffer into a chunk: memcpy into a
 * reused host buffer, whatever the tag */
static void bench_sink(void *arg, const char *tag, size_t tag_len, const void *data, size_t len,
                       uint64_t records)
{
    struct copy_sink *s = arg;
    (void) tag;
    (void) tag_len;
    if (len > s->cap) {
        unsigned char *nb = realloc(s->buf, len);
        if (nb == NULL) {
            return;
        }
        s->buf = nb;
        s->cap = len;
    }
    memcpy(s->buf, data, len);
    s->records += records;
    s->bytes += len;
}

static int read_file(const char *path, unsigned char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0;
    if (f == NULL) {
        host_error("cannot open --chunk-file '%s': %s", path, strerror(errno));
        return -1;
    }
    for (;;) {
        size_t r;
        if (n == cap) {
            unsigned char *nb;
            cap = cap ? cap * 2 : 65536;
            nb = realloc(buf, cap);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return -1;
            }
            buf = nb;
        }
        r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) {
            break;
        }
    }
    fclose(f);
    *out = buf;
    *len = n;
    return 0;
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char) *s;
        if (c == '"' || c == '\\') {
            fprintf(f, "\\%c", c);
        } else if (c < 0x20) {
            fprintf(f, "\\u%04x", c);
        } else {
            fputc(c, f);
        }
    }
    fputc('"', f);
}

/* Write syscalls of the whole process so far (/proc/self/io syscw), which also sees writes that
 * bypass the `write` symbol (Go's raw syscalls, glibc stdio); -1 when unavailable. */
static long long proc_syscw(void)
{
    char line[128];
    long long v = -1;
    FILE *f = fopen("/proc/self/io", "r");
    if (f == NULL) {
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "syscw: %lld", &v) == 1) {
            break;
        }
    }
    fclose(f);
    return v;
}

/* CPU seconds of the whole process (user, system): an input's own threads count too */
static void process_cpu(double *user, double *sys)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) {
        *user = *sys = 0;
        return;
    }
    *user = (double) ru.ru_utime.tv_sec + (double) ru.ru_utime.tv_usec / 1e6;
    *sys = (double) ru.ru_stime.tv_sec + (double) ru.ru_stime.tv_usec / 1e6;
}

static void sleep_seconds(double s)
{
    struct timespec ts;
    ts.tv_sec = (time_t) s;
    ts.tv_nsec = (long) ((s - (double) ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int bench_body(struct host *h, const struct bench_opts *o)
{
    struct instance *in = h->ins[0];
    long count = o->count, warmup = o->warmup;
    double duration = h->duration;
    int legacy = o->legacy;
    const char *chunk_file = o->chunk_file, *json = o->json;
    unsigned char *chunk = NULL;
    size_t chunk_len = 0;
    uint64_t chunk_records = 0;
    struct copy_sink sink = {0};
    struct mc_stats m0, m1;
    long rss_warm, rss_end, hwm;
    double t0, t1, secs, u0, s0, u1, s1, cpu;
    uint64_t until = o->until_records;
    double interval = o->interval;
    long long syscw0, syscw1;
    uint64_t calls = 0, records = 0, bytes = 0, not_ok = 0, empty = 0, appends0 = 0;
    int rc = EXIT_HOST_ERROR;

    if (in->type == FLB_PROXY_OUTPUT_PLUGIN) {
        if (chunk_file) {
            struct mp_check chk;
            if (read_file(chunk_file, &chunk, &chunk_len) != 0) {
                goto out;
            }
            if (mp_check_records(chunk, chunk_len, &chk) != 0) {
                host_error("--chunk-file '%s' is not valid log records: %s at offset %zu",
                           chunk_file, chk.err ? chk.err : "?", chk.err_offset);
                goto out;
            }
            chunk_records = chk.records;
        } else {
            sample_chunk((unsigned int) o->records_per_chunk, legacy, &chunk, &chunk_len);
            chunk_records = (uint64_t) o->records_per_chunk;
        }
    }
    if (in->type == FLB_PROXY_INPUT_PLUGIN) {
        char tname[128];
        snprintf(tname, sizeof tname, "flb-in-%.100s.0-w0", in->plugin_name);
        set_thread_name(tname);
    } else {
        set_thread_name("flb-pipeline");
    }
    if (host_exports_load(h) != 0 || host_configmap_load(h) != 0) {
        goto out;
    }
    if (loader_load_all(h) != 0 || loader_bind_instances(h) != 0) {
        goto teardown;
    }
    if (instance_init(in, h->abi) != 0) {
        goto teardown;
    }
    instance_prerun(in, h->abi, 0);
    coro_thread_init(h->coro_stack);

    for (long i = 0; i < warmup; i++) {
        if (interval > 0 && i > 0) {
            sleep_seconds(interval);
        }
        if (in->type == FLB_PROXY_INPUT_PLUGIN) {
            uint64_t r;
            size_t b;
            instance_collect(in, h->abi, bench_sink, &sink, &r, &b);
        } else {
            instance_flush_on_coro(in, chunk, chunk_len, "bench");
        }
    }
    sink.records = sink.bytes = 0;
    appends0 = in->appends;
    rss_warm = rss_kb("VmRSS");
    syscw0 = proc_syscw();
    mc_snapshot(&m0);
    process_cpu(&u0, &s0);
    t0 = now_mono();
    for (;;) {
        if (count > 0 && calls >= (uint64_t) count) {
            break;
        }
        if (until > 0 && sink.records >= until) {
            break;
        }
        if (count <= 0 && duration > 0 && (interval > 0 || (calls & 15) == 0) &&
            now_mono() - t0 >= duration) {
            break;
        }
        if (interval > 0 && calls > 0) {
            sleep_seconds(interval);
        }
        if (in->type == FLB_PROXY_INPUT_PLUGIN) {
            uint64_t r;
            size_t b;
            if (instance_collect(in, h->abi, bench_sink, &sink, &r, &b) == -2) {
                empty++;
            }
        } else {
            if (instance_flush_on_coro(in, chunk, chunk_len, "bench") != FLB_OK) {
                not_ok++;
            }
            records += chunk_records;
            bytes += chunk_len;
        }
        calls++;
    }
    t1 = now_mono();
    process_cpu(&u1, &s1);
    mc_snapshot(&m1);
    syscw1 = proc_syscw();
    if (syscw0 >= 0 && syscw1 >= syscw0) {
        m1.writes = m0.writes + (uint64_t) (syscw1 - syscw0);
    }
    if (in->type == FLB_PROXY_INPUT_PLUGIN) {
        records = sink.records;
        bytes = sink.bytes;
    }
    rss_end = rss_kb("VmRSS");
    hwm = rss_kb("VmHWM");
    secs = t1 - t0;
    cpu = (u1 - u0) + (s1 - s0);
    {
        double c = calls ? (double) calls : 1.0;
        double r = records ? (double) records : 1.0;
        double rps = secs > 0 ? (double) records / secs : 0;
        int cnt = mc_enabled();
        fprintf(stderr,
                "flb-host bench: %s %s (%s, abi %s)\n"
                "  calls            %llu (%llu empty, %llu not FLB_OK)\n"
                "  records          %llu\n"
                "  bytes            %llu\n"
                "  seconds          %.6f\n"
                "  records/s        %.0f\n"
                "  ns/call          %.1f\n"
                "  ns/record        %.1f\n"
                "  bytes/record     %.1f\n"
                "  mallocs/call     %.3f%s\n"
                "  malloc bytes/call %.1f\n"
                "  frees/call       %.3f\n"
                "  writes/call      %.3f\n"
                "  peak RSS         %ld KiB\n"
                "  RSS growth       %ld KiB\n",
                in->type == FLB_PROXY_INPUT_PLUGIN ? "input" : "output", in->name,
                in->so->path, abi_name(h->abi), (unsigned long long) calls,
                (unsigned long long) empty, (unsigned long long) not_ok,
                (unsigned long long) records, (unsigned long long) bytes, secs, rps,
                secs * 1e9 / c, secs * 1e9 / r, (double) bytes / r,
                (double) (m1.mallocs - m0.mallocs) / c, cnt ? "" : " (counting off: ASan)",
                (double) (m1.malloc_bytes - m0.malloc_bytes) / c,
                (double) (m1.frees - m0.frees) / c, (double) (m1.writes - m0.writes) / c, hwm,
                rss_end - rss_warm);
        if (in->type == FLB_PROXY_INPUT_PLUGIN) {
            /* a line of its own: scripts match the lines above as they always were */
            fprintf(stderr, "  direct appends   %llu (flb_input_log_append calls)\n",
                    (unsigned long long) (in->appends - appends0));
        }
        fprintf(stderr,
                "  CPU seconds      %.3f (user %.3f, system %.3f; every thread: %.1f%% of a core)\n"
                "  CPU ns/record    %.1f\n"
                "  all mallocs/call %.3f (every thread, the plugin's own too)\n",
                cpu, u1 - u0, s1 - s0, secs > 0 ? 100.0 * cpu / secs : 0, cpu * 1e9 / r,
                cnt ? (double) (m1.all_mallocs - m0.all_mallocs) / c : 0.0);
        if (json) {
            FILE *f = fopen(json, "w");
            if (f == NULL) {
                host_error("cannot write --json '%s': %s", json, strerror(errno));
                goto finish;
            }
            fprintf(f, "{\"mode\":\"%s\",\"plugin\":",
                    in->type == FLB_PROXY_INPUT_PLUGIN ? "input" : "output");
            json_str(f, in->so->path);
            fprintf(f, ",\"name\":");
            json_str(f, in->name);
            fprintf(f,
                    ",\"abi\":\"%s\",\"calls\":%llu,\"empty_calls\":%llu,\"not_ok\":%llu,"
                    "\"records\":%llu,\"bytes\":%llu,\"seconds\":%.9f,\"records_per_sec\":%.3f,"
                    "\"ns_per_call\":%.3f,\"ns_per_record\":%.3f,\"bytes_per_record\":%.3f,"
                    "\"malloc_counting\":%s,\"mallocs_per_call\":%.6f,"
                    "\"malloc_bytes_per_call\":%.3f,\"frees_per_call\":%.6f,"
                    "\"writes_per_call\":%.6f,\"peak_rss_kb\":%ld,\"rss_growth_kb\":%ld,"
                    "\"records_per_chunk\":%llu,\"legacy\":%s,\"appends\":%llu,"
                    "\"cpu_seconds\":%.6f,\"cpu_user_seconds\":%.6f,\"cpu_system_seconds\":%.6f,"
                    "\"cpu_ns_per_record\":%.3f,\"all_mallocs_per_call\":%.6f}\n",
                    abi_name(h->abi), (unsigned long long) calls, (unsigned long long) empty,
                    (unsigned long long) not_ok, (unsigned long long) records,
                    (unsigned long long) bytes, secs, rps, secs * 1e9 / c, secs * 1e9 / r,
                    (double) bytes / r, cnt ? "true" : "false",
                    (double) (m1.mallocs - m0.mallocs) / c,
                    (double) (m1.malloc_bytes - m0.malloc_bytes) / c,
                    (double) (m1.frees - m0.frees) / c, (double) (m1.writes - m0.writes) / c, hwm,
                    rss_end - rss_warm,
                    (unsigned long long) (in->type == FLB_PROXY_OUTPUT_PLUGIN ? chunk_records
                                                                              : 0),
                    legacy ? "true" : "false", (unsigned long long) (in->appends - appends0), cpu,
                    u1 - u0, s1 - s0, cpu * 1e9 / r,
                    cnt ? (double) (m1.all_mallocs - m0.all_mallocs) / c : 0.0);
            fclose(f);
        }
    }
    rc = 0;
    if (in->modern_refused > 0) {
        /* the numbers above measured records a pre-2.1 Fluent Bit would never accept */
        fprintf(stderr,
                "FAIL collect: %llu collect(s) returned records in the modern form [[time, "
                "{metadata}], {body}], which Fluent Bit < 2.1 (abi %s) does not understand: the "
                "plugin must write legacy records [time, {body}] for this host\n",
                (unsigned long long) in->modern_refused, abi_name(h->abi));
        rc = EXIT_HOST_ERROR;
    }
finish:
    instance_exit(in, h->abi, 0);
teardown:
    loader_teardown(h);
    coro_thread_fini();
out:
    free(chunk);
    free(sink.buf);
    return rc;
}

struct bench_args {
    struct host *h;
    const struct bench_opts *o;
    int rc;
};

static void *bench_thread(void *arg)
{
    struct bench_args *a = arg;
    a->rc = bench_body(a->h, a->o);
    return NULL;
}

/* The loop runs on a thread of its own, as Fluent Bit calls plugins on its input and pipeline
 * threads, never on the main thread: some runtimes pay extra there (Go re-reads the stack bounds
 * of a foreign thread on each call from a new stack, and for the main thread that means parsing
 * /proc/self/maps). */
int bench_main(struct host *h, const struct bench_opts *o)
{
    struct bench_args a = {h, o, EXIT_HOST_ERROR};
    pthread_t t;
    set_thread_name("fluent-bit");
    if (pthread_create(&t, NULL, bench_thread, &a) != 0) {
        host_error("bench: cannot start the bench thread");
        return EXIT_HOST_ERROR;
    }
    pthread_join(t, NULL);
    return a.rc;
}
