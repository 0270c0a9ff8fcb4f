/* flb-host: instances, properties and the classic Fluent Bit config file subset. */
#include "flb_host.h"

#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

double parse_seconds(const char *s, int *ok)
{
    char *end = NULL;
    double v;
    errno = 0;
    v = strtod(s, &end);
    *ok = (errno == 0 && end != s && *end == '\0' && v >= 0 && isfinite(v));
    return v;
}

int parse_size(const char *s, size_t *out)
{
    char *end = NULL;
    unsigned long long v;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || end == s) {
        return -1;
    }
    if (*end == 'k' || *end == 'K') {
        v *= 1024ULL;
        end++;
    } else if (*end == 'm' || *end == 'M') {
        v *= 1024ULL * 1024ULL;
        end++;
    }
    if (*end == 'b' || *end == 'B') {
        end++;
    }
    if (*end != '\0') {
        return -1;
    }
    *out = (size_t) v;
    return 0;
}

char *path_resolve(const char *dir, const char *path)
{
    size_t n;
    char *r;
    if (path[0] == '/' || dir == NULL || dir[0] == '\0') {
        return xstrdup(path);
    }
    n = strlen(dir) + strlen(path) + 2;
    r = xcalloc(n, 1);
    snprintf(r, n, "%s/%s", dir, path);
    return r;
}

int host_add_so_path(struct host *h, const char *path)
{
    char **n = realloc(h->so_paths, (h->nso_paths + 1) * sizeof *n);
    if (n == NULL) {
        return -1;
    }
    h->so_paths = n;
    h->so_paths[h->nso_paths++] = xstrdup(path);
    return 0;
}

struct instance *instance_new(struct host *h, int type, const char *plugin_name)
{
    struct instance **n;
    struct instance *in = xcalloc(1, sizeof *in);
    in->type = type;
    in->plugin_name = xstrdup(plugin_name);
    in->retry_limit = -2; /* unset: use the global default */
    in->log_level = -1;
    pthread_mutex_init(&in->mu, NULL);
    pthread_cond_init(&in->cv, NULL);
    n = realloc(h->ins, (h->nins + 1) * sizeof *n);
    if (n == NULL) {
        free(in->plugin_name);
        free(in);
        return NULL;
    }
    h->ins = n;
    h->ins[h->nins++] = in;
    return in;
}

/* where: "line 12 of x.conf" or "command line" for error messages */
int instance_set(struct instance *in, const char *key, const char *val, const char *where)
{
    if (strcasecmp(key, "tag") == 0) {
        free(in->tag);
        in->tag = xstrdup(val);
    } else if (strcasecmp(key, "match") == 0) {
        free(in->match);
        in->match = xstrdup(val);
    } else if (strcasecmp(key, "match_regex") == 0) {
        host_error("%s: Match_Regex is not supported by flb-host (use Match with * wildcards)",
                   where);
        return -1;
    } else if (strcasecmp(key, "workers") == 0) {
        char *end = NULL;
        long w = strtol(val, &end, 10);
        if (end == val || *end != '\0' || w < 0 || w > 64) {
            host_error("%s: invalid Workers value '%s' (0..64)", where, val);
            return -1;
        }
        in->workers = (int) w;
    } else if (strcasecmp(key, "retry_limit") == 0) {
        char *end = NULL;
        long r;
        if (strcasecmp(val, "false") == 0 || strcasecmp(val, "no_limits") == 0) {
            in->retry_limit = -1;
        } else if (strcasecmp(val, "no_retries") == 0) {
            in->retry_limit = 0;
        } else {
            r = strtol(val, &end, 10);
            if (end == val || *end != '\0' || r < 0) {
                host_error("%s: invalid Retry_Limit '%s'", where, val);
                return -1;
            }
            in->retry_limit = (int) r;
        }
    } else if (strcasecmp(key, "log_level") == 0) {
        int l = log_level_parse(val);
        if (l < 0) {
            host_error("%s: invalid log_level '%s'", where, val);
            return -1;
        }
        in->log_level = l;
    } else if (key_is_reserved(key)) {
        /* accepted and ignored, like a core key that no proxy plugin sees */
    } else {
        if (props_add(&in->props, key, val) != 0) {
            host_error("out of memory");
            return -1;
        }
    }
    return 0;
}

/* "key=value" from -p: cur is the last -i/-o (NULL before any) */
int instance_set_kv(struct instance *cur, const char *kv)
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

/* glob with '*' only, like Fluent Bit's flb_router_match */
int tag_match(const char *p, const char *t)
{
    const char *star = NULL, *ts = NULL;
    while (*t) {
        if (*p == '*') {
            star = p++;
            ts = t;
        } else if (*p == *t) {
            p++;
            t++;
        } else if (star) {
            p = star + 1;
            t = ++ts;
        } else {
            return 0;
        }
    }
    while (*p == '*') {
        p++;
    }
    return *p == '\0';
}

static char *trim(char *s)
{
    char *e;
    while (*s && isspace((unsigned char) *s)) {
        s++;
    }
    e = s + strlen(s);
    while (e > s && isspace((unsigned char) e[-1])) {
        *--e = '\0';
    }
    return s;
}

enum section { SEC_NONE, SEC_SERVICE, SEC_INPUT, SEC_OUTPUT, SEC_PLUGINS };

/* Parse a classic-format file. plugins_only: accept only [PLUGINS] (a plugins_file). */
static int parse_file(struct host *h, const char *path, int plugins_only)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    int lineno = 0;
    enum section sec = SEC_NONE;
    struct instance *cur = NULL;
    char *pathcopy, *dir;
    int rc = 0;
    char where[512];
    char *pending_plugins_file = NULL;

    if (f == NULL) {
        host_error("cannot open %s '%s': %s", plugins_only ? "plugins file" : "config file", path,
                   strerror(errno));
        return -1;
    }
    pathcopy = xstrdup(path);
    dir = xstrdup(dirname(pathcopy));
    free(pathcopy);
    if (!plugins_only) {
        free(h->config_dir);
        h->config_dir = xstrdup(dir);
    }

    while (fgets(line, sizeof line, f)) {
        char *s, *key, *val;
        size_t len = strlen(line);
        lineno++;
        snprintf(where, sizeof where, "%s:%d", path, lineno);
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            host_error("%s: line too long", where);
            rc = -1;
            break;
        }
        s = trim(line);
        if (*s == '\0' || *s == '#') {
            continue;
        }
        if (*s == '@') {
            host_error("%s: directive '%s' is not supported by flb-host", where, s);
            rc = -1;
            break;
        }
        if (*s == '[') {
            char *e = strchr(s, ']');
            if (e == NULL || trim(e + 1)[0] != '\0') {
                host_error("%s: malformed section header '%s'", where, s);
                rc = -1;
                break;
            }
            *e = '\0';
            s = trim(s + 1);
            if ((sec == SEC_INPUT || sec == SEC_OUTPUT) && cur == NULL) {
                host_error("%s: section ending here has no Name", where);
                rc = -1;
                break;
            }
            cur = NULL;
            if (strcasecmp(s, "PLUGINS") == 0) {
                sec = SEC_PLUGINS;
            } else if (plugins_only) {
                host_error("%s: only [PLUGINS] sections are allowed in a plugins file", where);
                rc = -1;
                break;
            } else if (strcasecmp(s, "SERVICE") == 0) {
                sec = SEC_SERVICE;
            } else if (strcasecmp(s, "INPUT") == 0) {
                sec = SEC_INPUT;
            } else if (strcasecmp(s, "OUTPUT") == 0) {
                sec = SEC_OUTPUT;
            } else {
                host_error("%s: section [%s] is not supported by flb-host "
                           "(SERVICE, PLUGINS, INPUT, OUTPUT)",
                           where, s);
                rc = -1;
                break;
            }
            continue;
        }
        /* key value */
        key = s;
        while (*s && !isspace((unsigned char) *s)) {
            s++;
        }
        if (*s == '\0') {
            host_error("%s: key '%s' has no value", where, key);
            rc = -1;
            break;
        }
        *s++ = '\0';
        val = trim(s);
        switch (sec) {
        case SEC_NONE:
            host_error("%s: '%s' outside of any section", where, key);
            rc = -1;
            break;
        case SEC_PLUGINS:
            if (strcasecmp(key, "path") != 0) {
                host_error("%s: unknown key '%s' in [PLUGINS] (only Path)", where, key);
                rc = -1;
                break;
            } else {
                char *p = path_resolve(dir, val);
                host_add_so_path(h, p);
                free(p);
            }
            break;
        case SEC_SERVICE:
            if (strcasecmp(key, "flush") == 0) {
                int ok;
                double v = parse_seconds(val, &ok);
                if (!ok || v <= 0) {
                    host_error("%s: invalid flush '%s'", where, val);
                    rc = -1;
                    break;
                }
                h->flush = v;
            } else if (strcasecmp(key, "log_level") == 0) {
                int l = log_level_parse(val);
                if (l < 0) {
                    host_error("%s: invalid log_level '%s'", where, val);
                    rc = -1;
                    break;
                }
                h->log_level = l;
            } else if (strcasecmp(key, "plugins_file") == 0) {
                free(pending_plugins_file);
                pending_plugins_file = path_resolve(dir, val);
            } else if (strcasecmp(key, "grace") == 0) {
                int ok;
                double v = parse_seconds(val, &ok);
                if (!ok) {
                    host_error("%s: invalid grace '%s'", where, val);
                    rc = -1;
                    break;
                }
                h->grace = v;
            } else if (strcasecmp(key, "hot_reload") == 0) {
                if (strcasecmp(val, "on") == 0 || strcasecmp(val, "true") == 0 ||
                    strcasecmp(val, "yes") == 0 || strcmp(val, "1") == 0) {
                    h->hot_reload = 1;
                } else if (strcasecmp(val, "off") == 0 || strcasecmp(val, "false") == 0 ||
                           strcasecmp(val, "no") == 0 || strcmp(val, "0") == 0) {
                    h->hot_reload = 0;
                } else {
                    host_error("%s: invalid Hot_Reload '%s' (on or off)", where, val);
                    rc = -1;
                    break;
                }
            } else {
                host_log(FLB_LOG_DEBUG, "%s: [SERVICE] key '%s' ignored by flb-host", where, key);
            }
            break;
        case SEC_INPUT:
        case SEC_OUTPUT:
            if (strcasecmp(key, "name") == 0) {
                if (cur != NULL) {
                    host_error("%s: duplicate Name in section", where);
                    rc = -1;
                    break;
                }
                cur = instance_new(h,
                                   sec == SEC_INPUT ? FLB_PROXY_INPUT_PLUGIN
                                                    : FLB_PROXY_OUTPUT_PLUGIN,
                                   val);
                if (cur == NULL) {
                    rc = -1;
                    break;
                }
                cur->cfg_line = lineno;
            } else if (cur == NULL) {
                host_error("%s: '%s' before Name in [%s] (put Name first)", where, key,
                           sec == SEC_INPUT ? "INPUT" : "OUTPUT");
                rc = -1;
                break;
            } else if (instance_set(cur, key, val, where) != 0) {
                rc = -1;
            }
            break;
        }
        if (rc != 0) {
            break;
        }
    }
    fclose(f);
    if (rc == 0 && (sec == SEC_INPUT || sec == SEC_OUTPUT) && cur == NULL) {
        host_error("%s: last [%s] section has no Name", path, sec == SEC_INPUT ? "INPUT" : "OUTPUT");
        rc = -1;
    }
    if (rc == 0 && pending_plugins_file != NULL) {
        rc = parse_file(h, pending_plugins_file, 1);
    }
    free(pending_plugins_file);
    free(dir);
    return rc;
}

int config_load(struct host *h, const char *path)
{
    return parse_file(h, path, 0);
}

int plugins_file_load(struct host *h, const char *path)
{
    return parse_file(h, path, 1);
}
