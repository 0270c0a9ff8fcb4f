/* Input "tkeys": declares a Fluent Bit 5.1.1 config_map, and writes def->config_map only when
 * the host allows it by the plugin SDK's rule (FLUENT_BIT_VERSION=5.1.1 and
 * flb_config_map_translate_dynamic resolvable with dlsym(RTLD_DEFAULT, ...)); otherwise it writes
 * only the five fields every host's def has, so a 32-byte def of an older host is never overrun.
 *
 * The map is copied at each Register into memory of its own (mmap) that Unregister unmaps, so a
 * host that kept reading the map of an earlier registration (after a hot reload) reads unmapped
 * memory. TP_TKEYS_MAP in the environment picks a broken map instead of the good one:
 *   badbool        verbose's default is "maybe"
 *   envbool        verbose's default is "${TP_TKEYS_VERBOSE}" (translated like any default)
 *   prefixdefault  the prefixed key label. has a default
 *   badsize        buffer_size's default is "lots" (Fluent Bit does not check sizes)
 *   empty          only the terminating entry
 *   unterminated   entries up to the end of a page followed by an unreadable page
 *   huge           5000 entries before the terminating one
 *   emptyname      an entry named "" before the terminating one
 *   badtype        an entry of type 99
 *   badname        an entry whose name points at unreadable memory
 * Properties (read with input_get_property): rate = records per collect (default 2), legacy = on
 * writes [time, {body}] records (for 1.9/2.0 hosts).
 * Events: "TP tkeys register def#K", then "config def#K version=V translate_dynamic=0|1
 * config_map=0|1", "init rate=N", "collect n=N", "exit", "unregister def#K". */
#include "tp_common.h"

#include <sys/mman.h>
#define P "tkeys"

static const struct tp_config_map g_good[] = {
    {TP_CM_STR, "message", "hello", 0, 0, 0, "text of each record's msg field", {0}, {0}},
    {TP_CM_INT, "rate", "2", 0, 0, 0, "records per collect", {0}, {0}},
    {TP_CM_BOOL, "verbose", "off", 0, 0, 0, "log every collect", {0}, {0}},
    {TP_CM_BOOL, "legacy", "false", 0, 0, 0, "write [time, {body}] records, for hosts before 2.1",
     {0}, {0}},
    {TP_CM_SIZE, "buffer_size", "32K", 0, 0, 0, "a size", {0}, {0}},
    {TP_CM_DOUBLE, "ratio", "0.5", 0, 0, 0, "a double", {0}, {0}},
    {TP_CM_TIME, "interval", "1s", 0, 0, 0, "a time", {0}, {0}},
    {TP_CM_STR_PREFIX, "label.", NULL, 0, 0, 0,
     "label.NAME VALUE adds a field NAME to every record; give as many as you like", {0}, {0}},
    {TP_CM_STR, "add", NULL, TP_CM_MULT, 0, 0, "may be given several times", {0}, {0}},
    {TP_CM_CLIST, "fields", "a,b", 0, 0, 0, "a comma separated list", {0}, {0}},
    {TP_CM_SLIST_2, "pair", NULL, 0, 0, 0, "two words", {0}, {0}},
    {TP_CM_DEPRECATED, "old_rate", NULL, 0, 0, 0, "deprecated: use rate", {0}, {0}},
    {TP_CM_STR, "long_one", "x", 0, 0, 0,
     "A description long enough to be wrapped by the help printer, which cuts a description at "
     "the last space before ninety columns minus the width of the key column, and indents the "
     "lines that follow.",
     {0}, {0}},
    {0, NULL, NULL, 0, 0, 0, NULL, {0}, {0}},
};
#define GOOD_N (sizeof g_good / sizeof g_good[0])

struct tctx {
    int rate;
    int legacy;
    unsigned long n;
};

static struct tctx *g_last;
static struct tctx *g_all[64];
static int g_nall;

/* the maps handed out, one per Register, unmapped by the Unregister of that def */
static struct {
    void *def;
    void *map;
    size_t len;
} g_maps[TP_MAX_DEFS];

static size_t page(void)
{
    return (size_t) sysconf(_SC_PAGESIZE);
}

static void *map_pages(size_t len)
{
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return m == MAP_FAILED ? NULL : m;
}

/* returns the map for def->config_map and its mapping (base, len) */
static struct tp_config_map *build_map(void **base, size_t *len)
{
    const char *which = getenv("TP_TKEYS_MAP");
    struct tp_config_map *m;
    size_t n;

    if (which == NULL) {
        which = "";
    }
    if (strcmp(which, "unterminated") == 0) {
        /* as many entries as end exactly at the end of the first page, then PROT_NONE */
        size_t ps = page(), k = ps / sizeof *m;
        unsigned char *b = map_pages(2 * ps);
        if (b == NULL || mprotect(b + ps, ps, PROT_NONE) != 0) {
            return NULL;
        }
        m = (struct tp_config_map *) (b + ps - k * sizeof *m);
        for (size_t i = 0; i < k; i++) {
            m[i] = g_good[i % (GOOD_N - 1)];
        }
        *base = b;
        *len = 2 * ps;
        return m;
    }
    if (strcmp(which, "huge") == 0) {
        n = 5001;
        *len = (n * sizeof *m + page() - 1) / page() * page();
        m = map_pages(*len);
        if (m == NULL) {
            return NULL;
        }
        for (size_t i = 0; i + 1 < n; i++) {
            m[i] = g_good[0];
        }
        memset(&m[n - 1], 0, sizeof *m);
        *base = m;
        return m;
    }
    *len = (GOOD_N * sizeof *m + page() - 1) / page() * page();
    m = map_pages(*len);
    if (m == NULL) {
        return NULL;
    }
    memcpy(m, g_good, sizeof g_good);
    *base = m;
    if (strcmp(which, "badbool") == 0) {
        m[2].def_value = "maybe";
    } else if (strcmp(which, "envbool") == 0) {
        m[2].def_value = "${TP_TKEYS_VERBOSE}";
    } else if (strcmp(which, "prefixdefault") == 0) {
        m[7].def_value = "x";
    } else if (strcmp(which, "badsize") == 0) {
        m[4].def_value = "lots";
    } else if (strcmp(which, "empty") == 0) {
        memset(m, 0, sizeof *m);
    } else if (strcmp(which, "emptyname") == 0) {
        m[3].name = "";
    } else if (strcmp(which, "badtype") == 0) {
        m[5].type = 99;
    } else if (strcmp(which, "badname") == 0) {
        m[1].name = (const char *) (uintptr_t) 0x10;
    }
    return m;
}

int FLBPluginPreRegister(int h)
{
    tp_event(P, "preregister %d", h);
    return 0;
}

int FLBPluginRegister(struct tp_def *def)
{
    const char *version;
    int translate;
    int allowed = tp_config_map_allowed(&version, &translate);
    struct tp_config_map *map = NULL;

    /* the five fields of every host's def */
    tp_register(P, def, 1, "tkeys", "flb-host test input declaring a config_map");
    if (allowed && tp_ndefs > 0 && tp_ndefs <= TP_MAX_DEFS) {
        void *base = NULL;
        size_t len = 0;
        map = build_map(&base, &len);
        if (map == NULL) {
            return -1;
        }
        g_maps[tp_ndefs - 1].def = def;
        g_maps[tp_ndefs - 1].map = base;
        g_maps[tp_ndefs - 1].len = len;
        def->config_map = map; /* only now: the 48-byte def of 5.1.1 */
    }
    tp_event(P, "config def#%d version=%s translate_dynamic=%d config_map=%d", tp_ndefs - 1,
             version, translate, map != NULL);
    return 0;
}

int FLBPluginInit(void *plugin)
{
    struct tp_plugin *pl = plugin;
    struct tp_in_ctx *ctx = pl->context;
    const char *legacy = pl->api->input_get_property("legacy", pl->ins);
    int ok = 1;
    struct tctx *c;

    if (g_nall == 64 || (c = calloc(1, sizeof *c)) == NULL) {
        return 0;
    }
    c->rate = tp_prop_int(pl->api->input_get_property("rate", pl->ins), 2, &ok);
    c->legacy = legacy != NULL && (strcmp(legacy, "on") == 0 || strcmp(legacy, "true") == 0);
    if (!ok || c->rate < 1 || c->rate > 1000) {
        tp_event(P, "init failed: bad rate");
        free(c);
        return 0;
    }
    TP_KEEP_INSTANCE(ctx, c);
    tp_event(P, "init rate=%d", c->rate);
    return 1;
}

static int collect(struct tctx *c, void **data, size_t *size)
{
    unsigned char *buf = malloc((size_t) c->rate * TP_RECORD_MAX), *p = buf;
    if (buf == NULL) {
        return -1;
    }
    c->n++;
    for (int i = 0; i < c->rate; i++) {
        p = tp_put_record(p, (uint32_t) c->n, (uint32_t) i, c->legacy);
    }
    *data = buf;
    *size = (size_t) (p - buf);
    tp_event(P, "collect n=%lu", c->n);
    return 0;
}

TP_INPUT_COLLECT_CALLBACKS(collect)
int FLBPluginInputCleanupCallbackCtx(void *rc, void *data) { (void) rc; free(data); return 0; }
int FLBPluginInputCleanupCallback(void *data) { free(data); return 0; }

int FLBPluginExit(void)
{
    tp_event(P, "exit");
    TP_FREE_LAST_INSTANCE();
    return 1;
}

void FLBPluginUnregister(struct tp_def *def)
{
    int k = tp_def_index(def);
    if (k >= 0 && g_maps[k].map != NULL) {
        munmap(g_maps[k].map, g_maps[k].len);
        g_maps[k].map = NULL;
    }
    tp_note_unregister(P, def);
}
