/* flb-host: the command line. One table says which options exist, which modes (run, check,
 * bench) take them and where their values go; one loop reads argv against it. The modes get the
 * host and their own options (struct check_opts, struct bench_opts) already parsed. */
#include "flb_host.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static const char *usage_text =
    "usage:\n"
    "  flb-host [run] -e plugin.so ... -i NAME [-p key=value]... [-t TAG]\n"
    "                 -o NAME [-p key=value]... [-m MATCH] [-c fluent-bit.conf]\n"
    "                 [--interval S] [--flush S | -f S] [--duration S] [--max-records N]\n"
    "                 [--pause-after S] [--resume-after S] [--abi 1.9|2.0|2.2|4.1|5.1]\n"
    "                 [--no-direct-append] [--no-config-map] [--coro-stack BYTES|64K]\n"
    "                 [--log-level LEVEL] [--retry-limit N] [--retry-wait S] [--grace S]\n"
    "                 [--hot-reload | -Y] [--reload-after S]... [--reload-every S]\n"
    "                 [--sigterm-at STAGE]\n"
    "  flb-host -e plugin.so ... (-i NAME | -o NAME) -h [--abi X] [--no-config-map]\n"
    "  flb-host check plugin.so [-p key=value]... [--bad key=value] [--abi X] [--count N]\n"
    "                 [--interval S] [--no-direct-append] [--no-config-map]\n"
    "                 [--coro-stack BYTES] [--log-level LEVEL]\n"
    "  flb-host bench -e plugin.so (-i NAME | -o NAME) [-p key=value]... [--count N |\n"
    "                 --duration S] [--until-records N] [--interval S]\n"
    "                 [--records-per-chunk N] [--chunk-file FILE] [--legacy]\n"
    "                 [--warmup N] [--json FILE] [--abi X] [--coro-stack BYTES]\n"
    "                 [--no-direct-append] [--no-config-map] [--log-level LEVEL]\n"
    "  fault injection (every mode): [--null-properties] [--fail-malloc N]\n"
    "                 [--fail-malloc-in init,collect,flush|all] [--fail-malloc-first K]\n"
    "\n"
    "  bench --until-records N (inputs): collect until N records arrived (--duration S, when\n"
    "  given, still ends the run: records/s then counts what came). --interval S: sleep S\n"
    "  between collects, as Fluent Bit's collector timer (default 0: back to back); with\n"
    "  --duration it measures an input's idle cost (cpu_seconds in the report).\n"
    "\n"
    "  A value may also be given as --option=value. LEVEL: off, error, warn, info, debug,\n"
    "  trace.\n"
    "\n"
    "  --abi: the Fluent Bit version emulated (default 5.1). 1.9 and 2.0 take only legacy\n"
    "  records [time, {body}]; 5.1 also offers plugins flb_input_log_append (dlsym from\n"
    "  RTLD_DEFAULT, through libflbhost_exports.so next to this binary) unless\n"
    "  --no-direct-append is given.\n"
    "\n"
    "  config_map (--abi 5.1 only): flb-host sets FLUENT_BIT_VERSION=5.1.1 in its environment\n"
    "  when it is unset (as Fluent Bit's container images do) and offers\n"
    "  flb_config_map_translate_dynamic (through libflbhost_configmap.so next to this binary),\n"
    "  the two things a plugin checks before it writes def->config_map. When a plugin declares\n"
    "  a map, each instance's properties are checked against it before FLBPluginInit, as Fluent\n"
    "  Bit 5.1.1 does (unknown key, a key set twice, a default that does not parse: init fails);\n"
    "  -h after -i NAME or -o NAME prints the plugin's keys. --no-config-map emulates a 5.1\n"
    "  host without it: neither offered nor read. Older profiles ignore the field.\n"
    "\n"
    "  Hot reload (run), as Fluent Bit 5.1.1 with hot_reload on: --hot-reload (or -Y, or\n"
    "  Hot_Reload On in [SERVICE]) makes SIGHUP reload, and PreRun get 1 on every start.\n"
    "  --reload-after S reloads S seconds after start (give it several times for several\n"
    "  reloads); --reload-every S reloads every S seconds; both imply --hot-reload. A reload\n"
    "  loads and registers the plugins again (PreRegister(1), the .so stays mapped), flushes\n"
    "  and waits for every pending record with no grace limit, exits the instances with\n"
    "  PreExit(1), unregisters the old registrations, then inits the same instances again (the\n"
    "  configuration is not read again). The run goes on until --duration, --max-records or a\n"
    "  signal; counters in the summary add up across reloads (reloads=N in its first line).\n"
    "\n"
    "  --sigterm-at STAGE (run): flb-host sends itself SIGTERM once, just before the stage's\n"
    "  plugin call: after-load (the first .so opened), register, init-first, init-later (the\n"
    "  second init), prerun, started (before any collect), collect, flush (the first ones).\n"
    "  It is taken as any SIGTERM: once the start is complete, the shutdown.\n";

static void usage(void)
{
    fputs(usage_text, stderr);
}

static void host_defaults(struct host *h)
{
    memset(h, 0, sizeof *h);
    h->abi = ABI_5_1;
    h->interval = 1.0;
    h->flush = 1.0;
    h->grace = 5.0;
    h->retry_wait = 1.0;
    h->coro_stack = 64 * 1024;
    h->log_level = FLB_LOG_INFO;
    h->retry_limit = 1; /* Fluent Bit's default retry_limit */
}

void host_free(struct host *h)
{
    for (size_t i = 0; i < h->nins; i++) {
        instance_free(h->ins[i]);
    }
    free(h->ins);
    for (size_t i = 0; i < h->nso_paths; i++) {
        free(h->so_paths[i]);
    }
    free(h->so_paths);
    free(h->sos);
    free(h->config_dir);
    free(h->reload_at);
    host_exports_close();
    host_configmap_close();
    memset(h, 0, sizeof *h);
}

/* ---- what the command line fills ---- */

enum mode { MODE_RUN = 1, MODE_CHECK = 2, MODE_BENCH = 4 };
#define MODE_ALL (MODE_RUN | MODE_CHECK | MODE_BENCH)

struct cli {
    struct host host;
    enum mode mode;
    const char *mode_prefix; /* "check: " or "bench: " in their error messages */
    struct check_opts check;
    struct bench_opts bench;
    struct instance *cur;      /* the last -i/-o: -p, -t and -m apply to it */
    struct instance *help_for; /* run: -h after -i/-o asks for that plugin's help */
    struct fault_opts faults;
};

/* what a setter and the parser return; the modes return an exit code (>= 0) or OPT_USAGE */
enum { OPT_OK = 0, OPT_FAIL = -1, OPT_USAGE = -2, OPT_EXIT = -3 };

/* How an option's value is read and where it goes. The numeric kinds check [min, max]. */
enum arg_kind {
    ARG_FLAG,        /* no value: the int field becomes 1 */
    ARG_STRING,      /* const char * field */
    ARG_SECONDS,     /* double field, seconds >= 0 */
    ARG_SECONDS_POS, /* double field, seconds > 0 */
    ARG_INT,         /* int field, a whole number */
    ARG_LONG,        /* long field, a whole number */
    ARG_U64,         /* uint64_t field, a whole number */
    ARG_SIZE,        /* size_t field, bytes or e.g. 64K */
    ARG_ABI,         /* enum abi_profile field */
    ARG_LOG_LEVEL,   /* int field */
    ARG_CALL,        /* the option's own setter */
};

typedef int (*opt_setter)(struct cli *c, const char *opt, const char *val);

struct cli_option {
    const char *name;
    const char *alias; /* another spelling, or NULL */
    unsigned modes;    /* the modes that take it */
    int takes_value;
    enum arg_kind kind;
    size_t field; /* offset of the value's target in struct cli (every kind but ARG_CALL) */
    long long min, max;
    const char *hint; /* what a valid value is, for the error message */
    opt_setter set;   /* ARG_CALL */
};

static int set_plugin(struct cli *c, const char *opt, const char *val)
{
    (void) opt;
    return host_add_so_path(&c->host, val) == 0 ? OPT_OK : OPT_FAIL;
}

static int set_instance(struct cli *c, const char *opt, const char *val)
{
    int input = strcmp(opt, "-i") == 0;
    c->cur = instance_new(&c->host, input ? FLB_PROXY_INPUT_PLUGIN : FLB_PROXY_OUTPUT_PLUGIN, val);
    if (c->cur == NULL) {
        host_error("out of memory");
        return OPT_FAIL;
    }
    if (!input) {
        c->cur->match = xstrdup("*"); /* unlike Fluent Bit: -m defaults to '*' */
    }
    return OPT_OK;
}

static int set_property(struct cli *c, const char *opt, const char *val)
{
    (void) opt;
    return instance_set_kv(c->cur, val) == 0 ? OPT_OK : OPT_FAIL;
}

/* check: -p goes to every instance check makes */
static int add_check_property(struct cli *c, const char *opt, const char *val)
{
    const char **n = realloc(c->check.kvs, (c->check.nkv + 1) * sizeof *n);
    (void) opt;
    if (n == NULL) {
        host_error("out of memory");
        return OPT_FAIL;
    }
    c->check.kvs = n;
    c->check.kvs[c->check.nkv++] = val;
    return OPT_OK;
}

static int set_bad_property(struct cli *c, const char *opt, const char *val)
{
    if (strchr(val, '=') == NULL) {
        host_error("%s '%s': expected key=value", opt, val);
        return OPT_FAIL;
    }
    c->check.bad = val;
    return OPT_OK;
}

/* -t TAG after -i, -m MATCH after -o */
static int set_tag_or_match(struct cli *c, const char *opt, const char *val)
{
    int tag = strcmp(opt, "-t") == 0;
    if (c->cur == NULL || c->cur->type != (tag ? FLB_PROXY_INPUT_PLUGIN : FLB_PROXY_OUTPUT_PLUGIN)) {
        host_error("%s %s: no %s before it", opt, val, tag ? "-i" : "-o");
        return OPT_USAGE;
    }
    return instance_set(c->cur, tag ? "tag" : "match", val, "command line") == 0 ? OPT_OK
                                                                                : OPT_FAIL;
}

static int load_config(struct cli *c, const char *opt, const char *val)
{
    (void) opt;
    if (config_load(&c->host, val) != 0) {
        return OPT_FAIL;
    }
    c->cur = NULL;
    return OPT_OK;
}

static int add_reload_time(struct cli *c, const char *opt, const char *val)
{
    struct host *h = &c->host;
    int ok;
    double t = parse_seconds(val, &ok), *n;
    if (!ok || t <= 0) {
        host_error("invalid %s '%s' (seconds after start, > 0)", opt, val);
        return OPT_FAIL;
    }
    n = realloc(h->reload_at, (h->nreload_at + 1) * sizeof *n);
    if (n == NULL) {
        host_error("out of memory");
        return OPT_FAIL;
    }
    h->reload_at = n;
    h->reload_at[h->nreload_at++] = t;
    return OPT_OK;
}

static int arm_sigterm(struct cli *c, const char *opt, const char *val)
{
    (void) c;
    if (sigterm_at_arm(val) != 0) {
        host_error("invalid %s '%s' (%s)", opt, val, sigterm_stage_list());
        return OPT_FAIL;
    }
    return OPT_OK;
}

/* -h before any -i/-o: the usage; after one: that plugin's help (the other options are still
 * read, e.g. an --abi after it), as fluent-bit -i NAME -h */
static int ask_help(struct cli *c, const char *opt, const char *val)
{
    (void) opt;
    (void) val;
    if (c->cur == NULL) {
        usage();
        return OPT_EXIT;
    }
    if (c->help_for == NULL) {
        c->help_for = c->cur;
    }
    return OPT_OK;
}

#define F(member) offsetof(struct cli, member)
#define RUN MODE_RUN
#define CHECK MODE_CHECK
#define BENCH MODE_BENCH
/* clang-format off */
static const struct cli_option options[] = {
    /* name, alias, modes, value, kind, field, min, max, hint, setter */
    {"-h", "--help", RUN, 0, ARG_CALL, 0, 0, 0, NULL, ask_help},
    {"-e", NULL, RUN | BENCH, 1, ARG_CALL, 0, 0, 0, NULL, set_plugin},
    {"-i", NULL, RUN | BENCH, 1, ARG_CALL, 0, 0, 0, NULL, set_instance},
    {"-o", NULL, RUN | BENCH, 1, ARG_CALL, 0, 0, 0, NULL, set_instance},
    {"-p", NULL, RUN | BENCH, 1, ARG_CALL, 0, 0, 0, NULL, set_property},
    {"-p", NULL, CHECK, 1, ARG_CALL, 0, 0, 0, NULL, add_check_property},
    {"-t", NULL, RUN, 1, ARG_CALL, 0, 0, 0, NULL, set_tag_or_match},
    {"-m", NULL, RUN, 1, ARG_CALL, 0, 0, 0, NULL, set_tag_or_match},
    {"-c", NULL, RUN, 1, ARG_CALL, 0, 0, 0, NULL, load_config},
    {"--bad", NULL, CHECK, 1, ARG_CALL, 0, 0, 0, NULL, set_bad_property},
    {"--abi", NULL, MODE_ALL, 1, ARG_ABI, F(host.abi), 0, 0, "1.9, 2.0, 2.2, 4.1, 5.1", NULL},
    {"--no-direct-append", NULL, MODE_ALL, 0, ARG_FLAG, F(host.no_direct_append), 0, 0, NULL, NULL},
    {"--no-config-map", NULL, MODE_ALL, 0, ARG_FLAG, F(host.no_config_map), 0, 0, NULL, NULL},
    {"--null-properties", NULL, MODE_ALL, 0, ARG_FLAG, F(faults.null_properties), 0, 0, NULL, NULL},
    {"--fail-malloc", NULL, MODE_ALL, 1, ARG_LONG, F(faults.fail_every), 0, LONG_MAX,
     "N >= 1: every Nth allocation fails; 0: count only", NULL},
    {"--fail-malloc-in", NULL, MODE_ALL, 1, ARG_STRING, F(faults.fail_in), 0, 0, NULL, NULL},
    {"--fail-malloc-first", NULL, MODE_ALL, 1, ARG_LONG, F(faults.fail_first), 1, LONG_MAX,
     "allocations, >= 1", NULL},
    {"--coro-stack", NULL, MODE_ALL, 1, ARG_SIZE, F(host.coro_stack), 8192, 0,
     "bytes, or e.g. 64K; at least 8K", NULL},
    {"--log-level", NULL, MODE_ALL, 1, ARG_LOG_LEVEL, F(host.log_level), 0, 0,
     "off, error, warn, info, debug, trace", NULL},
    {"--interval", NULL, RUN, 1, ARG_SECONDS_POS, F(host.interval), 0, 0, "seconds, > 0", NULL},
    {"--interval", NULL, CHECK, 1, ARG_SECONDS, F(check.interval), 0, 0, "seconds", NULL},
    {"--flush", "-f", RUN, 1, ARG_SECONDS_POS, F(host.flush), 0, 0, "seconds, > 0", NULL},
    {"--duration", NULL, RUN | BENCH, 1, ARG_SECONDS, F(host.duration), 0, 0, "seconds", NULL},
    {"--pause-after", NULL, RUN, 1, ARG_SECONDS, F(host.pause_after), 0, 0, "seconds", NULL},
    {"--resume-after", NULL, RUN, 1, ARG_SECONDS, F(host.resume_after), 0, 0, "seconds", NULL},
    {"--grace", NULL, RUN, 1, ARG_SECONDS, F(host.grace), 0, 0, "seconds", NULL},
    {"--retry-wait", NULL, RUN, 1, ARG_SECONDS, F(host.retry_wait), 0, 0, "seconds", NULL},
    {"--retry-limit", NULL, RUN, 1, ARG_INT, F(host.retry_limit), -1, INT_MAX,
     "-1 = unlimited", NULL},
    {"--max-records", NULL, RUN, 1, ARG_U64, F(host.max_records), 0, LLONG_MAX,
     "records acknowledged with FLB_OK; 0 = no limit", NULL},
    {"--hot-reload", "-Y", RUN, 0, ARG_FLAG, F(host.hot_reload), 0, 0, NULL, NULL},
    {"--reload-after", NULL, RUN, 1, ARG_CALL, 0, 0, 0, NULL, add_reload_time},
    {"--sigterm-at", NULL, RUN, 1, ARG_CALL, 0, 0, 0, NULL, arm_sigterm},
    {"--reload-every", NULL, RUN, 1, ARG_SECONDS_POS, F(host.reload_every), 0, 0,
     "seconds, > 0", NULL},
    {"--count", NULL, CHECK, 1, ARG_LONG, F(check.count), 1, LONG_MAX, "calls, >= 1", NULL},
    {"--count", NULL, BENCH, 1, ARG_LONG, F(bench.count), 1, LONG_MAX, "calls, >= 1", NULL},
    {"--warmup", NULL, BENCH, 1, ARG_LONG, F(bench.warmup), 0, LONG_MAX, "calls, >= 0", NULL},
    {"--records-per-chunk", NULL, BENCH, 1, ARG_LONG, F(bench.records_per_chunk), 1, 9999999,
     "1 to 9999999", NULL},
    {"--chunk-file", NULL, BENCH, 1, ARG_STRING, F(bench.chunk_file), 0, 0, NULL, NULL},
    {"--json", NULL, BENCH, 1, ARG_STRING, F(bench.json), 0, 0, NULL, NULL},
    {"--legacy", NULL, BENCH, 0, ARG_FLAG, F(bench.legacy), 0, 0, NULL, NULL},
    {"--until-records", NULL, BENCH, 1, ARG_U64, F(bench.until_records), 1, LLONG_MAX,
     "records, >= 1", NULL},
    {"--interval", NULL, BENCH, 1, ARG_SECONDS, F(bench.interval), 0, 0, "seconds", NULL},
};
/* clang-format on */
#undef F
#undef RUN
#undef CHECK
#undef BENCH

/* a whole number within [min, max] */
static int parse_whole(const char *s, long long min, long long max, long long *out)
{
    char *end = NULL;
    long long v;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
        return -1;
    }
    *out = v;
    return 0;
}

/* the value of a kind other than ARG_CALL into its field; 0, or -1 when it does not parse */
static int store(struct cli *c, const struct cli_option *o, const char *val)
{
    void *field = (char *) c + o->field;
    long long n;
    double d;
    int ok;
    switch (o->kind) {
    case ARG_FLAG:
        *(int *) field = 1;
        return 0;
    case ARG_STRING:
        *(const char **) field = val;
        return 0;
    case ARG_SECONDS:
    case ARG_SECONDS_POS:
        d = parse_seconds(val, &ok);
        if (!ok || (o->kind == ARG_SECONDS_POS && d <= 0)) {
            return -1;
        }
        *(double *) field = d;
        return 0;
    case ARG_INT:
    case ARG_LONG:
    case ARG_U64:
        if (parse_whole(val, o->min, o->max, &n) != 0) {
            return -1;
        }
        if (o->kind == ARG_INT) {
            *(int *) field = (int) n;
        } else if (o->kind == ARG_LONG) {
            *(long *) field = (long) n;
        } else {
            *(uint64_t *) field = (uint64_t) n;
        }
        return 0;
    case ARG_SIZE:
        return parse_size(val, (size_t *) field) == 0 && *(size_t *) field >= (size_t) o->min
                   ? 0
                   : -1;
    case ARG_ABI:
        return abi_parse(val, (enum abi_profile *) field);
    case ARG_LOG_LEVEL:
        if ((n = log_level_parse(val)) < 0) {
            return -1;
        }
        *(int *) field = (int) n;
        return 0;
    case ARG_CALL:
        break;
    }
    return -1;
}

static int spelled(const char *arg, size_t n, const char *name)
{
    return name != NULL && strlen(name) == n && strncmp(arg, name, n) == 0;
}

/* the entry for arg in this mode; *as is the spelling used (name or alias), *inline_val the
 * value of a --name=value */
static const struct cli_option *find_option(const char *arg, enum mode mode, const char **as,
                                            const char **inline_val)
{
    const char *eq = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
    size_t n = eq != NULL ? (size_t) (eq - arg) : strlen(arg);
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++) {
        const struct cli_option *o = &options[i];
        if (!(o->modes & mode) || (eq != NULL && !o->takes_value)) {
            continue;
        }
        if (spelled(arg, n, o->name) || spelled(arg, n, o->alias)) {
            *as = spelled(arg, n, o->name) ? o->name : o->alias;
            *inline_val = eq != NULL ? eq + 1 : NULL;
            return o;
        }
    }
    return NULL;
}

/* argv (the mode's name taken off) against the table; OPT_OK, OPT_EXIT or an error */
static int parse_args(struct cli *c, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i], *as = NULL, *val = NULL;
        const struct cli_option *o = find_option(arg, c->mode, &as, &val);
        int rc;
        if (o == NULL) {
            if (c->mode == MODE_CHECK && arg[0] != '-' && c->check.path == NULL) {
                c->check.path = arg; /* check's one positional argument: the plugin */
                continue;
            }
            host_error("%sunknown argument '%s'", c->mode_prefix, arg);
            return OPT_USAGE;
        }
        if (o->takes_value && val == NULL) {
            if (i + 1 >= argc) {
                host_error("option %s needs a value", as);
                return OPT_USAGE;
            }
            val = argv[++i];
        }
        if (o->kind == ARG_CALL) {
            rc = o->set(c, as, val);
        } else if (store(c, o, val) == 0) {
            rc = OPT_OK;
        } else {
            host_error("%s %s '%s' (%s)",
                       o->kind == ARG_ABI || o->kind == ARG_LOG_LEVEL ? "unknown" : "invalid",
                       as, val, o->hint);
            rc = OPT_FAIL;
        }
        if (rc != OPT_OK) {
            return rc;
        }
    }
    return OPT_OK;
}

/* --fail-malloc-in: a comma list of init, collect, flush, or all */
static int fault_phases(const char *list)
{
    int mask = 0;
    const char *p = list;
    if (list == NULL) {
        return MC_PHASE_INIT | MC_PHASE_COLLECT | MC_PHASE_FLUSH;
    }
    while (*p != '\0') {
        size_t n = strcspn(p, ",");
        if (n == 4 && strncmp(p, "init", 4) == 0) {
            mask |= MC_PHASE_INIT;
        } else if (n == 7 && strncmp(p, "collect", 7) == 0) {
            mask |= MC_PHASE_COLLECT;
        } else if (n == 5 && strncmp(p, "flush", 5) == 0) {
            mask |= MC_PHASE_FLUSH;
        } else if (n == 3 && strncmp(p, "all", 3) == 0) {
            mask |= MC_PHASE_INIT | MC_PHASE_COLLECT | MC_PHASE_FLUSH;
        } else {
            return -1;
        }
        p += n;
        p += *p == ',';
    }
    return mask != 0 ? mask : -1;
}

static int faults_apply(const struct fault_opts *f)
{
    int phases = fault_phases(f->fail_in);
    if (phases < 0) {
        host_error("invalid --fail-malloc-in '%s' (init, collect, flush or all, comma-separated)",
                   f->fail_in);
        return OPT_FAIL;
    }
    if (f->fail_every < 0 && (f->fail_in != NULL || f->fail_first > 0)) {
        host_error("--fail-malloc-in and --fail-malloc-first need --fail-malloc N");
        return OPT_USAGE;
    }
    api_set_null_properties(f->null_properties);
    return mc_fail_configure(f->fail_every, phases, f->fail_first) == 0 ? OPT_OK : OPT_FAIL;
}

/* ---- the modes, once their command line is read ---- */

static int run_mode(struct host *h, struct instance *help_for)
{
    if (help_for != NULL) {
        return help_main(h, help_for);
    }
    if (h->nreload_at > 0 || h->reload_every > 0) {
        h->hot_reload = 1; /* even over a Hot_Reload Off in the config file */
    }
    if (h->nso_paths == 0) {
        host_error("no plugin given (-e plugin.so or [PLUGINS] Path)");
        return OPT_USAGE;
    }
    if (h->nins == 0) {
        host_error("no -i or -o instance given");
        return OPT_USAGE;
    }
    for (size_t k = 0; k < h->nins; k++) {
        if (h->ins[k]->type == FLB_PROXY_OUTPUT_PLUGIN && h->ins[k]->match == NULL) {
            host_log(FLB_LOG_WARN, "output '%s' has no Match: it receives nothing",
                     h->ins[k]->plugin_name);
        }
    }
    return pipeline_run(h);
}

static int mode_main(struct cli *c)
{
    struct host *h = &c->host;
    switch (c->mode) {
    case MODE_CHECK:
        if (c->check.path == NULL) {
            host_error("check: no plugin .so given");
            return OPT_USAGE;
        }
        return check_main(h, &c->check);
    case MODE_BENCH:
        if (h->nins > 1) {
            host_error("bench drives exactly one instance");
            return OPT_USAGE;
        }
        if (h->nso_paths == 0 || h->nins == 0) {
            host_error("bench needs -e plugin.so and one -i NAME or -o NAME");
            return OPT_USAGE;
        }
        if (c->bench.count < 0 && h->duration <= 0 && c->bench.until_records == 0) {
            c->bench.count = 1000;
        }
        return bench_main(h, &c->bench);
    case MODE_RUN:
        break;
    }
    return run_mode(h, c->help_for);
}

/* flb-host MODE ...; without a mode name, run */
static const struct {
    const char *name;
    enum mode mode;
    const char *prefix;
} modes[] = {{"run", MODE_RUN, ""}, {"check", MODE_CHECK, "check: "}, {"bench", MODE_BENCH, "bench: "}};

int main(int argc, char **argv)
{
    struct cli c;
    int rc;
    memset(&c, 0, sizeof c);
    host_defaults(&c.host);
    c.mode = MODE_RUN;
    c.mode_prefix = "";
    c.check.count = 5;
    c.check.interval = 0.05;
    c.bench.count = -1; /* --count, else --duration, else 1000 */
    c.bench.warmup = 10;
    c.bench.records_per_chunk = 1;
    c.faults.fail_every = -1;
    argc--;
    argv++;
    for (size_t i = 0; argc > 0 && i < sizeof modes / sizeof modes[0]; i++) {
        if (strcmp(argv[0], modes[i].name) == 0) {
            c.mode = modes[i].mode;
            c.mode_prefix = modes[i].prefix;
            argc--;
            argv++;
            break;
        }
    }
    log_init();
    api_setup();
    coro_install_handler();
    rc = parse_args(&c, argc, argv);
    if (rc == OPT_OK) {
        rc = faults_apply(&c.faults);
    }
    if (rc == OPT_OK) {
        log_set_level(c.host.log_level);
        rc = mode_main(&c);
    }
    if (rc == OPT_USAGE) {
        usage();
    }
    host_free(&c.host);
    free(c.check.kvs);
    mc_fail_summary(); /* after every unload: its live figures are what the plugins left */
    if (rc == OPT_EXIT) {
        return 0;
    }
    return rc == OPT_USAGE || rc == OPT_FAIL ? EXIT_HOST_USAGE : rc;
}
