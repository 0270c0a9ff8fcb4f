/* flb-host: the built-in sample chunk used by check and bench to feed outputs. */
#include "flb_host.h"

#include <stdlib.h>
#include <string.h>

struct wbuf {
    unsigned char *p;
    size_t len, cap;
};

static void put(struct wbuf *w, const void *d, size_t n)
{
    if (w->len + n > w->cap) {
        size_t nc = w->cap ? w->cap : 256;
        while (nc < w->len + n) {
            nc *= 2;
        }
        w->p = realloc(w->p, nc);
        if (w->p == NULL) {
            fprintf(stderr, "flb-host: error: out of memory\n");
            exit(EXIT_HOST_ERROR);
        }
        w->cap = nc;
    }
    memcpy(w->p + w->len, d, n);
    w->len += n;
}

static void put1(struct wbuf *w, unsigned char c)
{
    put(w, &c, 1);
}

static void put_str(struct wbuf *w, const char *s)
{
    size_t n = strlen(s); /* sample strings are < 32 bytes: fixstr */
    put1(w, (unsigned char) (0xa0 | n));
    put(w, s, n);
}

static void put_time(struct wbuf *w)
{
    static const unsigned char t[] = {0xd7, 0x00, 0x65, 0x53, 0xf1, 0x00, 0x07, 0x5b, 0xcd, 0x15};
    put(w, t, sizeof t); /* EventTime 1700000000.123456789 */
}

static void put_body(struct wbuf *w)
{
    static const unsigned char f025[] = {0xcb, 0x3f, 0xd0, 0, 0, 0, 0, 0, 0}; /* 0.25 */
    put1(w, 0x80 | 11);
    put_str(w, "msg");
    put_str(w, "say \"hi\"\\path");
    put_str(w, "tab");
    put_str(w, "a\tb");
    put_str(w, "nl");
    put_str(w, "line1\nline2");
    put_str(w, "u");
    put_str(w, "caf\xc3\xa9 \xc3\xbc");
    put_str(w, "i");
    put1(w, 42);
    put_str(w, "neg");
    put1(w, 0xf9); /* -7 */
    put_str(w, "f");
    put(w, f025, sizeof f025);
    put_str(w, "t");
    put1(w, 0xc3);
    put_str(w, "n");
    put1(w, 0xc0);
    put_str(w, "list");
    put1(w, 0x93);
    put1(w, 1);
    put_str(w, "two");
    put1(w, 0x81);
    put_str(w, "three");
    put1(w, 3);
    put_str(w, "obj");
    put1(w, 0x81);
    put_str(w, "k");
    put_str(w, "v");
}

int sample_chunk(unsigned int nrecords, int legacy, unsigned char **out, size_t *out_len)
{
    struct wbuf w = {0};
    for (unsigned int i = 0; i < nrecords; i++) {
        put1(&w, 0x92);
        if (legacy) {
            put_time(&w);
        } else {
            put1(&w, 0x92);
            put_time(&w);
            put1(&w, 0x81);
            put_str(&w, "source");
            put_str(&w, "test");
        }
        put_body(&w);
    }
    *out = w.p;
    *out_len = w.len;
    return 0;
}
