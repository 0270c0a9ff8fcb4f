/* flb-host: command line (run / check / bench). */
#include "flb_host.h"

#include <stdlib.h>
#include <string.h>

static const char *usage_text =
    "usage:\n"
    "  flb-host [run] -e plugin.so ... -i NAME [-p key=value]... [-t TAG]\n"
    "                 -o NAME [-p key=value]... [-m MATCH] [-c fluent-bit.conf]\n"
    "                 [--interval S] [--flush S] [--duration S] [--max-records N]\n"
    "                 [--pause-after S] [--resume-after S] [--abi 1.9|2.0|2.2|4.1|5.1]\n"
    "                 [--no-direct-append] [--no-config-map] [--coro-stack BYTES|64K]\n"
    "                 [--log-level LEVEL] [--retry-limit N] [--retry-wait S] [--grace S]\n"
    "                 [--hot-reload | -Y] [--reload-after S]... [--reload-every S]\n"
    "  flb-host -e plugin.so ... (-i NAME | -o NAME) -h [--abi X] [--no-config-map]\n"
    "  flb-host check plugin.so [-p key=value]... [--bad key=value] [--abi X] [--count N]\n"
    "                 [--interval S] [--no-direct-append] [--no-config-map]\n"
    "  flb-host bench -e plugin.so (-i NAME | -o NAME) [-p key=value]... [--count N |\n"
    "                 --duration S] [--records-per-chunk N] [--chunk-file FILE] [--legacy]\n"
    "                 [--warmup N] [--json FILE] [--abi X] [--coro-stack BYTES]\n"
    "                 [--no-direct-append] [--no-config-map]\n"
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
    "  signal; counters in the summary add up across reloads (reloads=N in its first line).\n";

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

/* "--name value" or "--name=value"; returns the value or NULL (and advances *i) */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) == 0 && argv[*i][n] == '=') {
        return argv[*i] + n + 1;
    }
    if (strcmp(argv[*i], name) == 0) {
        if (*i + 1 >= argc) {
            host_error("option %s needs a value", name);
            return NULL;
        }
        (*i)++;
        return argv[*i];
    }
    return NULL;
}

static int is_opt(const char *arg, const char *name)
{
    size_t n = strlen(name);
    return strcmp(arg, name) == 0 || (strncmp(arg, name, n) == 0 && arg[n] == '=');
}

static int seconds_opt(const char *v, const char *name, double *out)
{
    int ok;
    double d = parse_seconds(v, &ok);
    if (!ok) {
        host_error("invalid value '%s' for %s (seconds)", v, name);
        return -1;
    }
    *out = d;
    return 0;
}

int main_apply_kv(struct instance *cur, const char *kv)
{
    char *copy, *eq;
    int rc;
    if (cur == NULL) {
        host_error("-p %s: no -i or -o before it", kv);
        return -1;
    }
    copy = xstrdup(kv);
    eq = strchr(copy, '=');
    if (eq == NULL || eq == copy) {
        host_error("-p '%s': expected key=value", kv);
        free(copy);
        return -1;
    }
    *eq = '\0';
    rc = instance_set(cur, copy, eq + 1, "command line");
    free(copy);
    return rc;
}

static int run_main(struct host *h, int argc, char **argv)
{
    struct instance *cur = NULL;
    struct instance *help_for = NULL; /* -h after -i/-o: that plugin's help */
    int rc;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *v;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            if (cur == NULL) {
                usage();
                host_free(h);
                return 0;
            }
            /* as fluent-bit -i NAME -h; the other options are still read (e.g. --abi after) */
            if (help_for == NULL) {
                help_for = cur;
            }
            continue;
        }
        if (strcmp(a, "-e") == 0 || strcmp(a, "-i") == 0 || strcmp(a, "-o") == 0 ||
            strcmp(a, "-p") == 0 || strcmp(a, "-t") == 0 || strcmp(a, "-m") == 0 ||
            strcmp(a, "-c") == 0 || strcmp(a, "-f") == 0) {
            if (i + 1 >= argc) {
                host_error("option %s needs a value", a);
                goto usage_err;
            }
            v = argv[++i];
            switch (a[1]) {
            case 'e':
                host_add_so_path(h, v);
                break;
            case 'i':
                cur = instance_new(h, FLB_PROXY_INPUT_PLUGIN, v);
                break;
            case 'o':
                cur = instance_new(h, FLB_PROXY_OUTPUT_PLUGIN, v);
                if (cur) {
                    cur->match = xstrdup("*"); /* unlike Fluent Bit: -m defaults to '*' */
                }
                break;
            case 'p':
                if (main_apply_kv(cur, v) != 0) {
                    goto fail;
                }
                break;
            case 't':
            case 'm':
                if (cur == NULL || cur->type != (a[1] == 't' ? FLB_PROXY_INPUT_PLUGIN
                                                             : FLB_PROXY_OUTPUT_PLUGIN)) {
                    host_error("%s %s: no %s before it", a, v, a[1] == 't' ? "-i" : "-o");
                    goto usage_err;
                }
                instance_set(cur, a[1] == 't' ? "tag" : "match", v, "command line");
                break;
            case 'c':
                if (config_load(h, v) != 0) {
                    goto fail;
                }
                cur = NULL;
                break;
            case 'f':
                if (seconds_opt(v, "-f", &h->flush) != 0 || h->flush <= 0) {
                    goto fail;
                }
                break;
            }
            continue;
        }
        if (is_opt(a, "--interval")) {
            if ((v = opt_value(argc, argv, &i, "--interval")) == NULL ||
                seconds_opt(v, a, &h->interval) != 0 || h->interval <= 0) {
                goto fail;
            }
        } else if (is_opt(a, "--flush")) {
            if ((v = opt_value(argc, argv, &i, "--flush")) == NULL ||
                seconds_opt(v, a, &h->flush) != 0 || h->flush <= 0) {
                goto fail;
            }
        } else if (is_opt(a, "--duration")) {
            if ((v = opt_value(argc, argv, &i, "--duration")) == NULL ||
                seconds_opt(v, a, &h->duration) != 0) {
                goto fail;
            }
        } else if (is_opt(a, "--pause-after")) {
            if ((v = opt_value(argc, argv, &i, "--pause-after")) == NULL ||
                seconds_opt(v, a, &h->pause_after) != 0) {
                goto fail;
            }
        } else if (is_opt(a, "--resume-after")) {
            if ((v = opt_value(argc, argv, &i, "--resume-after")) == NULL ||
                seconds_opt(v, a, &h->resume_after) != 0) {
                goto fail;
            }
        } else if (is_opt(a, "--grace")) {
            if ((v = opt_value(argc, argv, &i, "--grace")) == NULL ||
                seconds_opt(v, a, &h->grace) != 0) {
                goto fail;
            }
        } else if (is_opt(a, "--retry-wait")) {
            if ((v = opt_value(argc, argv, &i, "--retry-wait")) == NULL ||
                seconds_opt(v, a, &h->retry_wait) != 0) {
                goto fail;
            }
        } else if (is_opt(a, "--abi")) {
            if ((v = opt_value(argc, argv, &i, "--abi")) == NULL) {
                goto fail;
            }
            if (abi_parse(v, &h->abi) != 0) {
                host_error("unknown --abi '%s' (1.9, 2.0, 2.2, 4.1, 5.1)", v);
                goto fail;
            }
        } else if (strcmp(a, "--no-direct-append") == 0) {
            h->no_direct_append = 1;
        } else if (strcmp(a, "--no-config-map") == 0) {
            h->no_config_map = 1;
        } else if (strcmp(a, "--hot-reload") == 0 || strcmp(a, "-Y") == 0) {
            h->hot_reload = 1;
        } else if (is_opt(a, "--reload-after")) {
            double t, *n;
            if ((v = opt_value(argc, argv, &i, "--reload-after")) == NULL ||
                seconds_opt(v, a, &t) != 0) {
                goto fail;
            }
            if (t <= 0) {
                host_error("invalid --reload-after '%s' (seconds after start, > 0)", v);
                goto fail;
            }
            n = realloc(h->reload_at, (h->nreload_at + 1) * sizeof *n);
            if (n == NULL) {
                host_error("out of memory");
                goto fail;
            }
            h->reload_at = n;
            h->reload_at[h->nreload_at++] = t;
            h->hot_reload = 1;
        } else if (is_opt(a, "--reload-every")) {
            if ((v = opt_value(argc, argv, &i, "--reload-every")) == NULL ||
                seconds_opt(v, a, &h->reload_every) != 0) {
                goto fail;
            }
            if (h->reload_every <= 0) {
                host_error("invalid --reload-every '%s' (seconds, > 0)", v);
                goto fail;
            }
            h->hot_reload = 1;
        } else if (is_opt(a, "--coro-stack")) {
            if ((v = opt_value(argc, argv, &i, "--coro-stack")) == NULL) {
                goto fail;
            }
            if (parse_size(v, &h->coro_stack) != 0 || h->coro_stack < 8192) {
                host_error("invalid --coro-stack '%s' (bytes, or e.g. 64K; at least 8K)", v);
                goto fail;
            }
        } else if (is_opt(a, "--log-level")) {
            if ((v = opt_value(argc, argv, &i, "--log-level")) == NULL) {
                goto fail;
            }
            if ((h->log_level = log_level_parse(v)) < 0) {
                host_error("unknown --log-level '%s'", v);
                goto fail;
            }
        } else if (is_opt(a, "--retry-limit")) {
            char *end = NULL;
            long r;
            if ((v = opt_value(argc, argv, &i, "--retry-limit")) == NULL) {
                goto fail;
            }
            r = strtol(v, &end, 10);
            if (end == v || *end != '\0' || r < -1) {
                host_error("invalid --retry-limit '%s' (-1 = unlimited)", v);
                goto fail;
            }
            h->retry_limit = (int) r;
        } else if (is_opt(a, "--max-records")) {
            char *end = NULL;
            if ((v = opt_value(argc, argv, &i, "--max-records")) == NULL) {
                goto fail;
            }
            h->max_records = strtoull(v, &end, 10);
            if (end == v || *end != '\0') {
                host_error("invalid --max-records '%s'", v);
                goto fail;
            }
        } else {
            host_error("unknown argument '%s'", a);
            goto usage_err;
        }
    }
    g_log_level = h->log_level;
    if (help_for != NULL) {
        rc = help_main(h, help_for);
        host_free(h);
        return rc;
    }
    if (h->nreload_at > 0 || h->reload_every > 0) {
        h->hot_reload = 1; /* even over a Hot_Reload Off in the config file */
    }
    if (h->nso_paths == 0) {
        host_error("no plugin given (-e plugin.so or [PLUGINS] Path)");
        goto usage_err;
    }
    if (h->nins == 0) {
        host_error("no -i or -o instance given");
        goto usage_err;
    }
    for (size_t k = 0; k < h->nins; k++) {
        if (h->ins[k]->type == FLB_PROXY_OUTPUT_PLUGIN && h->ins[k]->match == NULL) {
            host_log(FLB_LOG_WARN, "output '%s' has no Match: it receives nothing",
                     h->ins[k]->plugin_name);
        }
    }
    rc = pipeline_run(h);
    host_free(h);
    return rc;
usage_err:
    usage();
fail:
    host_free(h);
    return EXIT_HOST_USAGE;
}

int main(int argc, char **argv)
{
    struct host host;
    host_defaults(&host);
    api_setup();
    coro_install_handler();
    if (argc > 1 && strcmp(argv[1], "check") == 0) {
        return check_main(&host, argc - 2, argv + 2);
    }
    if (argc > 1 && strcmp(argv[1], "bench") == 0) {
        return bench_main(&host, argc - 2, argv + 2);
    }
    if (argc > 1 && strcmp(argv[1], "run") == 0) {
        return run_main(&host, argc - 2, argv + 2);
    }
    return run_main(&host, argc - 1, argv + 1);
}
