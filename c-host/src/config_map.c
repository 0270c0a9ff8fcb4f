/* flb-host: the config_map of a Fluent Bit 5.1.1 proxy definition.
 *
 * Fluent Bit 5.1.1 copies def->config_map into its plugin at Register (flb_plugin_proxy.c). For
 * every instance, before the plugin's init, flb_input_plugin_property_check /
 * flb_output_plugin_property_check (flb_input.c, flb_output.c) then
 *   1. copy the map with flb_config_map_create (flb_config_map.c): every default goes through
 *      ${VAR} translation and is parsed by type; a boolean that is not true/false/on/off/yes/no,
 *      or any default on a prefixed key, fails the instance ("error loading config map");
 *   2. check the properties the user set with flb_config_map_properties_check: each must name an
 *      entry (case-insensitively; a STR_PREFIX entry matches a longer key starting with it;
 *      `active` and `condition` always pass), else "unknown configuration property" with the list
 *      of allowed names and a "try the command: ... -h" hint; a key given more than once (same
 *      bytes) fails unless its entry has FLB_CONFIG_MAP_MULT.
 * This file does the same under --abi 5.1, with the same messages, and prints the text help that
 * `fluent-bit -e X.so -i NAME -h` prints (fluent-bit.c help_format_text). It also offers plugins
 * the two things they test before writing config_map (FLUENT_BIT_VERSION and the exported
 * flb_config_map_translate_dynamic), see host_configmap_load.
 *
 * The map is plugin memory read by host code. Fluent Bit trusts it blindly; flb-host reads it
 * through a copy that cannot fault (process_vm_readv on itself, or a pipe where that is refused),
 * walks at most CONFIG_MAP_MAX_ENTRIES entries, and calls a map without a terminating entry, with
 * an unreadable pointer, an empty name or a type Fluent Bit does not know a plugin defect. */
#include "flb_host.h"

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/uio.h>
#include <unistd.h>

#define CM_NAME_MAX 1024    /* longest key name read (bytes, NUL included) */
#define CM_TEXT_MAX 65536   /* longest default or description read */

static void *g_cm_shim;

int host_configmap_load(struct host *h)
{
    if (h->abi < ABI_5_1 || h->no_config_map || g_cm_shim != NULL) {
        return 0;
    }
    /* Fluent Bit's official container images set FLUENT_BIT_VERSION; a plugin writes config_map
     * only when it names a version whose layouts the plugin knows. Kept when already set, so a
     * test can emulate another version. Set before any plugin is loaded (and any thread runs). */
    if (setenv("FLUENT_BIT_VERSION", "5.1.1", 0) != 0) {
        host_error("cannot set FLUENT_BIT_VERSION: %s", strerror(errno));
        return -1;
    }
    g_cm_shim = shim_open(FLB_HOST_CONFIGMAP_SO, "flb_config_map_translate_dynamic",
                          "--no-config-map");
    if (g_cm_shim == NULL) {
        return -1;
    }
    host_log(FLB_LOG_DEBUG, "config_map offered to plugins: FLUENT_BIT_VERSION=%s",
             getenv("FLUENT_BIT_VERSION"));
    return 0;
}

void host_configmap_close(void)
{
    if (g_cm_shim != NULL) {
        dlclose(g_cm_shim);
        g_cm_shim = NULL;
    }
}

/* ---- reading plugin memory without faulting ---- */

static size_t page_size(void)
{
    long ps = sysconf(_SC_PAGESIZE);
    return ps > 0 ? (size_t) ps : 4096;
}

/* n bytes within one page: 0, or -1 when they are not readable */
static int chunk_read(void *dst, const void *src, size_t n)
{
    struct iovec local = {dst, n};
    struct iovec remote = {(void *) (uintptr_t) src, n};
    ssize_t got;
    int p[2], ok;

    if (src == NULL) {
        return -1;
    }
    got = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
    if (got == (ssize_t) n) {
        return 0;
    }
    if (got >= 0 || (errno != ENOSYS && errno != EPERM)) {
        return -1; /* EFAULT: not mapped, or not readable */
    }
    /* process_vm_readv refused (a seccomp policy): write(2) from an unreadable buffer fails
     * with EFAULT just the same, and a page fits in any pipe */
    if (pipe2(p, O_CLOEXEC) != 0) {
        return -1;
    }
    ok = write(p[1], src, n) == (ssize_t) n && read(p[0], dst, n) == (ssize_t) n;
    close(p[0]);
    close(p[1]);
    return ok ? 0 : -1;
}

static int mem_read(void *dst, const void *src, size_t n)
{
    size_t ps = page_size();
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n > 0) {
        size_t room = ps - (size_t) ((uintptr_t) s % ps);
        size_t k = room < n ? room : n;
        if (chunk_read(d, s, k) != 0) {
            return -1;
        }
        d += k;
        s += k;
        n -= k;
    }
    return 0;
}

/* A NUL-terminated string at src into a malloc'ed copy: 0; -1 unreadable; -2 longer than cap */
static int str_read(const char *src, size_t cap, char **out)
{
    size_t ps = page_size(), len = 0;
    char *buf = NULL;

    *out = NULL;
    while (len < cap) {
        size_t room = ps - (size_t) ((uintptr_t) (src + len) % ps);
        char *nb;
        if (room > 256) {
            room = 256;
        }
        if (room > cap - len) {
            room = cap - len;
        }
        nb = realloc(buf, len + room + 1);
        if (nb == NULL) {
            free(buf);
            host_error("out of memory");
            exit(EXIT_HOST_ERROR);
        }
        buf = nb;
        if (chunk_read(buf + len, src + len, room) != 0) {
            free(buf);
            return -1;
        }
        if (memchr(buf + len, '\0', room) != NULL) {
            *out = buf;
            return 0;
        }
        len += room;
    }
    free(buf);
    return -2;
}

/* ---- a small growing string ---- */

struct sbuf {
    char *s;
    size_t len, cap;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        char *ns;
        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        ns = realloc(b->s, cap);
        if (ns == NULL) {
            host_error("out of memory");
            exit(EXIT_HOST_ERROR);
        }
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sb_str(struct sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

/* ---- defaults ---- */

/* flb_env_get: Fluent Bit's own variables (only HOSTNAME, preset from gethostname when the
 * environment lacks it) then the environment; an empty value counts as unset */
static const char *env_lookup(const char *name, char *host, size_t hostlen)
{
    const char *v = getenv(name);
    if (v == NULL && strcmp(name, "HOSTNAME") == 0 && gethostname(host, hostlen) == 0) {
        host[hostlen - 1] = '\0';
        v = host;
    }
    return v != NULL && v[0] != '\0' ? v : NULL;
}

/* What flb_env_var_translate makes of a default: each ${NAME} becomes the variable's value
 * (nothing when unset), ${NAME:-WORD} becomes WORD when NAME is unset or empty, the text around
 * is kept. Its edge cases too: the scan stops at the first "${" without a later "}" (or whose
 * "}" comes first), keeping the rest as is; a value with no variable is returned unchanged. */
static char *env_translate(const char *v)
{
    size_t len = strlen(v), i = 0;
    const char *last_close = NULL;
    int have_var = 0;
    struct sbuf out = {NULL, 0, 0};
    char host[256];

    while (i < len) {
        const char *open = strstr(v + i, "${");
        const char *close, *name, *val, *word = NULL;
        char tmp[4096], *colon;
        ptrdiff_t nlen;
        if (open == NULL) {
            break;
        }
        close = strstr(v + i, "}");
        if (close == NULL) {
            break;
        }
        last_close = close;
        name = open + 2;
        nlen = close - name;
        if (nlen <= 0 || nlen >= (ptrdiff_t) sizeof tmp) {
            break;
        }
        memcpy(tmp, name, (size_t) nlen);
        tmp[nlen] = '\0';
        have_var = 1;
        colon = strchr(tmp, ':');
        if (colon != NULL && colon[1] == '-') {
            word = colon + 2;
            *colon = '\0';
        }
        sb_add(&out, v + i, (size_t) (open - (v + i)));
        val = env_lookup(tmp, host, sizeof host);
        if (val != NULL) {
            sb_str(&out, val);
        } else if (word != NULL) {
            sb_str(&out, word);
        }
        i = (size_t) (close - v) + 1;
    }
    if (last_close != NULL && have_var) {
        sb_str(&out, last_close + 1);
    }
    if (out.len == 0) {
        free(out.s);
        return xstrdup(have_var ? "" : v);
    }
    return out.s;
}

static int known_type(int t)
{
    return (t >= FLB_CONFIG_MAP_STR && t <= FLB_CONFIG_MAP_DEPRECATED) ||
           (t >= FLB_CONFIG_MAP_CLIST && t <= FLB_CONFIG_MAP_CLIST_4) ||
           (t >= FLB_CONFIG_MAP_SLIST && t <= FLB_CONFIG_MAP_SLIST_4) ||
           t == FLB_CONFIG_MAP_VARIANT;
}

/* flb_utils_bool */
static int fb_bool(const char *v)
{
    if (strcasecmp(v, "true") == 0 || strcasecmp(v, "on") == 0 || strcasecmp(v, "yes") == 0) {
        return 1;
    }
    if (strcasecmp(v, "false") == 0 || strcasecmp(v, "off") == 0 || strcasecmp(v, "no") == 0) {
        return 0;
    }
    return -1;
}

static const char *kind_of(const struct plugin_so *so)
{
    return so->def != NULL && so->def->type == FLB_PROXY_INPUT_PLUGIN ? "input" : "output";
}

void config_map_free(struct cm_list *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->v[i].name);
        free(m->v[i].def);
        free(m->v[i].desc);
    }
    free(m->v);
    m->v = NULL;
    m->n = 0;
}

static void set_why(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_why(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;
    if (why == NULL || whylen == 0) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
}

/* a malformed map: one host line naming the defect, then the line Fluent Bit prints when its
 * copy of the map fails */
static int defect(const struct plugin_so *so, char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int defect(const struct plugin_so *so, char *why, size_t whylen, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    host_log(FLB_LOG_ERROR,
             "[config map] %s (%s): plugin defect: the config_map its FLBPluginRegister declared "
             "%s; flb-host refuses it (Fluent Bit 5.1.1 does not check a map, it reads it as it "
             "is)",
             so->name, so->path, msg);
    host_log(FLB_LOG_ERROR, "[%s] error loading config map for '%s' plugin", kind_of(so),
             so->name);
    set_why(why, whylen, "%s", msg);
    return -1;
}

static int read_text(const struct plugin_so *so, size_t idx, const char *what, const char *src,
                     size_t cap, char **out, char *why, size_t whylen)
{
    int rc = str_read(src, cap, out);
    if (rc == -1) {
        return defect(so, why, whylen, "has entry %zu with an unreadable %s pointer %p", idx, what,
                      (const void *) src);
    }
    if (rc == -2) {
        return defect(so, why, whylen, "has entry %zu whose %s is not NUL-terminated within %zu "
                      "bytes", idx, what, cap);
    }
    return 0;
}

/* A default Fluent Bit 5.1.1 refuses, which fails every instance of the plugin: any default on
 * a prefixed key, a boolean default that is not true/false/on/off/yes/no. Fluent Bit's two
 * lines, then one naming the plugin defect. */
static void bad_default(const struct plugin_so *so, const struct cm_entry *c, char *why,
                        size_t whylen)
{
    int prefixed = c->type == FLB_CONFIG_MAP_STR_PREFIX;
    char defect[512];
    if (prefixed) {
        host_log(FLB_LOG_ERROR, "[config map] invalid default value for prefixed string '%s'",
                 c->name);
        snprintf(defect, sizeof defect, "gives the prefixed key '%s' a default (\"%s\"); Fluent "
                 "Bit 5.1.1 refuses any default on a prefixed key", c->name, c->def);
        set_why(why, whylen, "the prefixed key '%s' has a default (\"%s\"), which Fluent Bit "
                "refuses", c->name, c->def);
    } else {
        host_log(FLB_LOG_ERROR, "[config map] invalid default value for boolean '%s=%s'", c->name,
                 c->def);
        snprintf(defect, sizeof defect, "default of the boolean key '%s' is \"%s\", which Fluent "
                 "Bit 5.1.1 does not parse (true, false, on, off, yes, no)", c->name, c->def);
        set_why(why, whylen, "the default of the boolean key '%s' is \"%s\", not one of true, "
                "false, on, off, yes, no", c->name, c->def);
    }
    host_log(FLB_LOG_ERROR, "[%s] error loading config map for '%s' plugin", kind_of(so),
             so->name);
    host_log(FLB_LOG_ERROR,
             "%s (%s): plugin defect: the config_map %s, and so fails every instance of this "
             "plugin", so->name, so->path, defect);
}

int config_map_load(const struct plugin_so *so, struct cm_list *out, char *why, size_t whylen)
{
    const struct flb_config_map *src = so->config_map;
    size_t cap = 0;

    out->v = NULL;
    out->n = 0;
    for (size_t i = 0;; i++) {
        struct flb_config_map e;
        struct cm_entry c = {0, 0, NULL, NULL, NULL};
        if (i == CONFIG_MAP_MAX_ENTRIES) {
            config_map_free(out);
            return defect(so, why, whylen, "has no terminating entry (name NULL) within its first "
                          "%d entries", CONFIG_MAP_MAX_ENTRIES);
        }
        if (mem_read(&e, src + i, sizeof e) != 0) {
            config_map_free(out);
            return defect(so, why, whylen,
                          "at %p runs into unreadable memory at entry %zu without a terminating "
                          "entry (name NULL)",
                          (const void *) src, i);
        }
        if (e.name == NULL) {
            break;
        }
        if (read_text(so, i, "name", e.name, CM_NAME_MAX, &c.name, why, whylen) != 0) {
            config_map_free(out);
            return -1;
        }
        if (c.name[0] == '\0') {
            free(c.name);
            config_map_free(out);
            return defect(so, why, whylen, "has entry %zu with an empty name before its "
                          "terminating entry", i);
        }
        if (!known_type(e.type)) {
            int t = e.type;
            defect(so, why, whylen, "has entry %zu ('%s') of type %d, which is no Fluent Bit "
                   "config map type (0-7, 30-34, 40-44, 50)", i, c.name, t);
            free(c.name);
            config_map_free(out);
            return -1;
        }
        if ((e.def_value != NULL &&
             read_text(so, i, "default", e.def_value, CM_TEXT_MAX, &c.def, why, whylen) != 0) ||
            (e.desc != NULL &&
             read_text(so, i, "description", e.desc, CM_TEXT_MAX, &c.desc, why, whylen) != 0)) {
            free(c.name);
            free(c.def);
            config_map_free(out);
            return -1;
        }
        c.type = e.type;
        c.flags = e.flags;
        if (out->n == cap) {
            struct cm_entry *nv;
            cap = cap ? cap * 2 : 16;
            nv = realloc(out->v, cap * sizeof *nv);
            if (nv == NULL) {
                host_error("out of memory");
                exit(EXIT_HOST_ERROR);
            }
            out->v = nv;
        }
        out->v[out->n++] = c;
    }

    /* the defaults, as flb_config_map_create and translate_default_value take them */
    for (size_t i = 0; i < out->n; i++) {
        struct cm_entry *c = &out->v[i];
        if (c->def == NULL) {
            continue;
        }
        if (!(c->flags & FLB_CONFIG_MAP_DYNAMIC_ENV)) {
            char *t = env_translate(c->def);
            free(c->def);
            c->def = t;
        }
        if (c->type == FLB_CONFIG_MAP_STR_PREFIX ||
            (c->type == FLB_CONFIG_MAP_BOOL && fb_bool(c->def) < 0)) {
            bad_default(so, c, why, whylen);
            config_map_free(out);
            return -1;
        }
        /* INT, DOUBLE, SIZE, TIME: atoi / atof / flb_utils_size_to_bytes /
         * flb_utils_time_to_seconds, whose results Fluent Bit does not check; lists split
         * anything; DEPRECATED and VARIANT defaults are not looked at */
    }
    return 0;
}

/* ---- flb_config_map_properties_check ---- */

/* helper_map_options: "The following properties are allowed: a, b, and c." */
static char *allowed_list(const struct cm_list *m)
{
    struct sbuf b = {NULL, 0, 0};
    sb_str(&b, "The following properties are allowed: ");
    for (size_t i = 0; i < m->n; i++) {
        if (i + 1 < m->n) {
            sb_str(&b, m->v[i].name);
            sb_str(&b, ", ");
        } else {
            if (m->n > 1) {
                sb_str(&b, "and ");
            }
            sb_str(&b, m->v[i].name);
            sb_str(&b, ".");
        }
    }
    return b.s;
}

static char *lower_dup(const char *s)
{
    char *r = xstrdup(s);
    for (char *c = r; *c; c++) {
        *c = (char) tolower((unsigned char) *c);
    }
    return r;
}

static int properties_check(const char *plugin, const struct props *p, const struct cm_list *m)
{
    int rc = 0;
    for (size_t i = 0; i < p->n && rc == 0; i++) {
        /* Fluent Bit's classic config reader and -p lowercase every key before the instance
         * gets it (flb_cf_key_translate): compare, count and quote the lowercase form */
        char *key = lower_dup(p->v[i].key);
        size_t klen = strlen(key);
        const struct cm_entry *found = NULL;
        int count = 0;

        if (strcmp(key, "active") == 0 || strcmp(key, "condition") == 0) {
            free(key);
            continue; /* core properties Fluent Bit accepts for every plugin */
        }
        for (size_t j = 0; j < m->n; j++) {
            const struct cm_entry *e = &m->v[j];
            size_t len = strlen(e->name);
            if (e->type != FLB_CONFIG_MAP_STR_PREFIX && len != klen) {
                continue;
            }
            if (strncasecmp(key, e->name, len) != 0) {
                continue;
            }
            if (e->type == FLB_CONFIG_MAP_STR_PREFIX && klen <= len) {
                host_log(FLB_LOG_ERROR, "[config] incomplete prefixed key '%s'", key);
                break; /* and then unknown, as in Fluent Bit */
            }
            if (e->type == FLB_CONFIG_MAP_DEPRECATED) {
                host_log(FLB_LOG_WARN, "[config] %s: '%s' is deprecated", plugin, key);
            }
            found = e;
            break;
        }
        if (found == NULL) {
            char *allowed = allowed_list(m);
            host_log(FLB_LOG_ERROR, "[config] %s: unknown configuration property '%s'. %s", plugin,
                     key, allowed);
            free(allowed);
            rc = -1;
        } else {
            /* property_count: the same (lowercased) key */
            for (size_t j = 0; j < p->n; j++) {
                count += strcasecmp(p->v[j].key, key) == 0;
            }
            if (!(found->flags & FLB_CONFIG_MAP_MULT) && count > 1) {
                host_log(FLB_LOG_ERROR, "[config] %s: configuration property '%s' is set %d times",
                         plugin, key, count);
                rc = -1;
            }
        }
        free(key);
    }
    return rc;
}

int config_map_instance_check(struct instance *in, enum abi_profile abi)
{
    struct plugin_so *so = in->so;
    struct cm_list m;
    int rc;

    if (abi < ABI_5_1 || so == NULL || so->config_map == NULL) {
        return 0;
    }
    if (config_map_load(so, &m, NULL, 0) != 0) {
        return -1;
    }
    rc = properties_check(so->name, &in->props, &m);
    if (rc != 0) {
        host_help("try the command: flb-host -e %s %s %s -h", so->path,
                  in->type == FLB_PROXY_INPUT_PLUGIN ? "-i" : "-o", so->name);
    }
    config_map_free(&m);
    return rc;
}

/* ---- flb-host -e X.so -i NAME -h ---- */

/* the names pack_config_map_entry (flb_help.c) gives the types */
static const char *type_name(int t, char *buf, size_t n)
{
    switch (t) {
    case FLB_CONFIG_MAP_STR: return "string";
    case FLB_CONFIG_MAP_STR_PREFIX: return "prefixed string";
    case FLB_CONFIG_MAP_INT: return "integer";
    case FLB_CONFIG_MAP_BOOL: return "boolean";
    case FLB_CONFIG_MAP_DOUBLE: return "double";
    case FLB_CONFIG_MAP_SIZE: return "size";
    case FLB_CONFIG_MAP_TIME: return "time";
    case FLB_CONFIG_MAP_DEPRECATED: return "deprecated";
    case FLB_CONFIG_MAP_VARIANT: return "variant";
    case FLB_CONFIG_MAP_CLIST: return "multiple comma delimited strings";
    case FLB_CONFIG_MAP_SLIST: return "multiple space delimited strings";
    default: break;
    }
    if (t > FLB_CONFIG_MAP_CLIST && t <= FLB_CONFIG_MAP_CLIST_4) {
        snprintf(buf, n, "comma delimited strings (minimum %d)", t - FLB_CONFIG_MAP_CLIST);
    } else if (t > FLB_CONFIG_MAP_SLIST && t <= FLB_CONFIG_MAP_SLIST_4) {
        snprintf(buf, n, "space delimited strings (minimum %d)", t - FLB_CONFIG_MAP_SLIST);
    } else {
        snprintf(buf, n, "type %d", t);
    }
    return buf;
}

/* help_plugin_description: a description longer than 90 - pad characters is cut at the last
 * space before that width (or not at all when there is none), continuation lines indented by
 * pad; the space at each cut is dropped */
static void print_wrapped(int pad, const char *s)
{
    size_t max = pad < 90 ? (size_t) (90 - pad) : 1;
    size_t len = strlen(s);
    const char *p = s, *end = s + len;
    int line = 0;

    if (len <= max) {
        printf("%s\n", s);
        return;
    }
    while (p < end) {
        const char *c;
        size_t n;
        if ((size_t) (end - p) < max) {
            c = end;
        } else {
            c = p + max; /* at end exactly, *c is the NUL: look back for a space all the same */
            while (*c != ' ' && c > p) {
                c--;
            }
        }
        n = c == p ? (size_t) (end - p) : (size_t) (c - p);
        if (line++ == 0) {
            printf("%.*s\n", (int) n, p);
        } else {
            printf("%*s%.*s\n", pad, " ", (int) n, p);
        }
        p += n + 1;
    }
}

/* Fluent Bit pads the key column of every section to the longest key of all of them, the
 * GLOBAL_OPTIONS it prints first included; the longest of those in 5.1.1 (Linux) are
 * storage.pause_on_chunks_overlimit for inputs and tls.windows.use_enterprise_store for outputs.
 * flb-host prints only the plugin's OPTIONS, in the same column. */
#define HELP_GLOBAL_KEY_INPUT 33
#define HELP_GLOBAL_KEY_OUTPUT 32

static void print_help(const struct plugin_so *so, const struct cm_list *m)
{
    int pad = so->def->type == FLB_PROXY_INPUT_PLUGIN ? HELP_GLOBAL_KEY_INPUT
                                                      : HELP_GLOBAL_KEY_OUTPUT;
    char tbuf[64];

    for (size_t i = 0; i < m->n; i++) {
        int len = (int) strlen(m->v[i].name);
        if (len > pad) {
            pad = len;
        }
    }
    pad += 2;
    printf("HELP\n%s %s plugin\n", so->name, kind_of(so));
    printf("\nDESCRIPTION\n%s\n", so->description);
    printf("\nOPTIONS\n");
    for (size_t i = 0; i < m->n; i++) {
        const struct cm_entry *e = &m->v[i];
        printf("%-*s", pad, e->name);
        print_wrapped(pad, e->desc != NULL ? e->desc : "");
        /* an entry without a default shows "default: default" in Fluent Bit 5.1.1's text help
         * (out_stdout's format, for one): the same here */
        printf("%*s> default: %s, type: %s\n\n", pad, " ", e->def != NULL ? e->def : "default",
               type_name(e->type, tbuf, sizeof tbuf));
    }
    fflush(stdout);
}

int help_main(struct host *h, struct instance *target)
{
    struct plugin_so *so;
    struct cm_list m;
    const char *kind = target->type == FLB_PROXY_INPUT_PLUGIN ? "input" : "output";
    const char *fbv;
    int rc = 0;

    set_thread_name("fluent-bit");
    if (host_exports_load(h) != 0 || host_configmap_load(h) != 0) {
        return EXIT_HOST_ERROR;
    }
    if (loader_load_all(h) != 0) {
        loader_teardown(h);
        return EXIT_HOST_ERROR;
    }
    so = loader_find(h->sos, h->nsos, target);
    if (so == NULL) {
        host_error("-h: no %s plugin named '%s' among the plugins loaded with -e", kind,
                   target->plugin_name);
        loader_teardown(h);
        return EXIT_HOST_ERROR;
    }
    fbv = getenv("FLUENT_BIT_VERSION");
    if (h->abi < ABI_5_1) {
        printf("%s: this plugin declares no configuration keys under --abi %s (config_map is a "
               "Fluent Bit 5.1.1 feature)\n",
               so->name, abi_name(h->abi));
    } else if (h->no_config_map) {
        printf("%s: this plugin declares no configuration keys under --abi 5.1 --no-config-map "
               "(the host neither offers nor reads config_map)\n",
               so->name);
    } else if (so->config_map == NULL) {
        printf("%s: this plugin declares no configuration keys (it left config_map NULL; "
               "FLUENT_BIT_VERSION=%s)\n",
               so->name, fbv != NULL ? fbv : "");
    } else if (config_map_load(so, &m, NULL, 0) != 0) {
        rc = EXIT_HOST_ERROR;
    } else {
        print_help(so, &m);
        config_map_free(&m);
    }
    fflush(stdout);
    loader_teardown(h);
    return rc;
}
