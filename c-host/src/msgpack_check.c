/* flb-host: iterative (non-recursive) validator of concatenated msgpack log records.
 *
 * Accepted record forms (Fluent Bit 2.1+ and legacy):
 *   [[time, {metadata}], {body}]      [time, {body}]
 * time: ext type 0 with 8 bytes (EventTime), an integer or a float of seconds.
 * Group markers (time -1 / -2, or EventTime seconds 0xFFFFFFFF / 0xFFFFFFFE) are counted apart.
 * Other negative times are rejected. Nesting depth is unbounded and costs no stack: objects are
 * skipped with a single "items still to read" counter.
 */
#include "flb_host.h"

#include <string.h>

enum mp_kind { MK_NIL, MK_BOOL, MK_UINT, MK_INT, MK_FLOAT, MK_STR, MK_BIN, MK_ARRAY, MK_MAP, MK_EXT };

struct mp_head {
    enum mp_kind kind;
    uint64_t n;    /* array/map count, str/bin/ext payload length */
    int64_t ival;  /* MK_INT / MK_UINT (clamped) */
    int ext_type;
    size_t payload; /* offset of the payload after the header */
};

static uint64_t be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

/* read one header at p[off]; returns 0 and advances *off past the header, -1 on truncation/bad */
static inline int mp_read_head(const unsigned char *p, size_t len, size_t *off, struct mp_head *h)
{
    size_t o = *off;
    unsigned char c;
    int need = 0;
    if (o >= len) {
        return -1;
    }
    c = p[o++];
    memset(h, 0, sizeof *h);
#define NEED(k)                     \
    do {                            \
        if (len - o < (size_t)(k)) { \
            return -1;              \
        }                           \
    } while (0)
    if (c <= 0x7f) {
        h->kind = MK_UINT;
        h->ival = c;
    } else if (c >= 0xe0) {
        h->kind = MK_INT;
        h->ival = (int8_t) c;
    } else if ((c & 0xf0) == 0x80) {
        h->kind = MK_MAP;
        h->n = c & 0x0f;
    } else if ((c & 0xf0) == 0x90) {
        h->kind = MK_ARRAY;
        h->n = c & 0x0f;
    } else if ((c & 0xe0) == 0xa0) {
        h->kind = MK_STR;
        h->n = c & 0x1f;
    } else {
        switch (c) {
        case 0xc0: h->kind = MK_NIL; break;
        case 0xc2:
        case 0xc3: h->kind = MK_BOOL; break;
        case 0xc4: case 0xc5: case 0xc6: /* bin 8/16/32 */
        case 0xd9: case 0xda: case 0xdb: /* str 8/16/32 */
        case 0xdc: case 0xdd:            /* array 16/32 */
        case 0xde: case 0xdf:            /* map 16/32 */
            /* a big-endian length or count of 1, 2 or 4 bytes */
            h->kind = c <= 0xc6 ? MK_BIN : c <= 0xdb ? MK_STR : c <= 0xdd ? MK_ARRAY : MK_MAP;
            need = c <= 0xc6 ? 1 << (c - 0xc4) : c <= 0xdb ? 1 << (c - 0xd9) : (c & 1) ? 4 : 2;
            NEED(need);
            h->n = be(p + o, need);
            o += (size_t) need;
            break;
        case 0xc7: case 0xc8: case 0xc9:
            need = 1 << (c - 0xc7);
            NEED(need + 1);
            h->kind = MK_EXT;
            h->n = be(p + o, need);
            o += (size_t) need;
            h->ext_type = (int8_t) p[o++];
            break;
        case 0xca: NEED(4); h->kind = MK_FLOAT; o += 4; break;
        case 0xcb: NEED(8); h->kind = MK_FLOAT; o += 8; break;
        case 0xcc: case 0xcd: case 0xce: case 0xcf: /* uint 8..64 */
        case 0xd0: case 0xd1: case 0xd2: case 0xd3: { /* int 8..64 */
            uint64_t v;
            need = 1 << ((c - 0xcc) & 3);
            NEED(need);
            v = be(p + o, need);
            o += (size_t) need;
            if (c <= 0xcf) {
                h->kind = MK_UINT;
                h->ival = v > INT64_MAX ? INT64_MAX : (int64_t) v;
            } else {
                h->kind = MK_INT;
                h->ival = need == 1   ? (int8_t) v
                          : need == 2 ? (int16_t) v
                          : need == 4 ? (int32_t) v
                                      : (int64_t) v;
            }
            break;
        }
        case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
            NEED(1);
            h->kind = MK_EXT;
            h->n = (uint64_t) 1 << (c - 0xd4);
            h->ext_type = (int8_t) p[o++];
            break;
        default:
            return -1; /* 0xc1 never used */
        }
    }
#undef NEED
    h->payload = o;
    if (h->kind == MK_STR || h->kind == MK_BIN || h->kind == MK_EXT) {
        if (len - o < h->n) {
            return -1;
        }
        o += (size_t) h->n;
    }
    *off = o;
    return 0;
}

/* skip one complete object starting at p[0]; iterative. Inlined into the record check, which
 * runs on every collected buffer (Fluent Bit's copy counts records the same way). */
static inline __attribute__((always_inline)) int skip_object(const unsigned char *p, size_t len,
                                                             size_t *used)
{
    uint64_t pending = 1;
    size_t off = 0;
    struct mp_head h;
    while (pending > 0) {
        /* fast paths for the one-byte headers log records are made of; the rest below */
        unsigned char c;
        if (off >= len) {
            *used = off;
            return -1;
        }
        c = p[off];
        if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3) {
            off++;
            pending--;
            continue;
        }
        if ((c & 0xe0) == 0xa0) {
            size_t n = c & 0x1f;
            if (len - off - 1 < n) {
                *used = off;
                return -1;
            }
            off += 1 + n;
            pending--;
            continue;
        }
        if ((c & 0xe0) == 0x80) { /* fixmap 0x80-0x8f, fixarray 0x90-0x9f */
            off++;
            pending += (c & 0x10) ? (uint64_t) (c & 0x0f) - 1 : 2 * (uint64_t) (c & 0x0f) - 1;
            if (pending > len - off) {
                *used = off;
                return -1;
            }
            continue;
        }
        if (mp_read_head(p, len, &off, &h) != 0) {
            *used = off;
            return -1;
        }
        pending--;
        if (h.kind == MK_ARRAY) {
            pending += h.n;
        } else if (h.kind == MK_MAP) {
            pending += 2 * h.n;
        }
        /* every pending item needs at least one byte */
        if (pending > len - off) {
            *used = off;
            return -1;
        }
    }
    *used = off;
    return 0;
}

int mp_skip_object(const unsigned char *p, size_t len, size_t *used)
{
    return skip_object(p, len, used);
}

/* time: returns 0 normal, 1 group marker, -1 invalid */
static int check_time(const unsigned char *p, size_t len, size_t *off, const char **err)
{
    struct mp_head h;
    if (mp_read_head(p, len, off, &h) != 0) {
        *err = "truncated timestamp";
        return -1;
    }
    switch (h.kind) {
    case MK_EXT: {
        uint64_t secs;
        if (h.ext_type != 0 || h.n != 8) {
            *err = "timestamp ext is not EventTime (type 0, 8 bytes)";
            return -1;
        }
        secs = be(p + h.payload, 4);
        if (secs == 0xFFFFFFFFu || secs == 0xFFFFFFFEu) {
            return 1;
        }
        return 0;
    }
    case MK_UINT: return 0;
    case MK_INT:
        if (h.ival == -1 || h.ival == -2) {
            return 1;
        }
        if (h.ival < 0) {
            *err = "negative timestamp";
            return -1;
        }
        return 0;
    case MK_FLOAT: return 0;
    default: *err = "timestamp is not EventTime, integer or float"; return -1;
    }
}

static inline int expect_map(const unsigned char *p, size_t len, size_t *off, const char *what,
                      const char **err)
{
    size_t used;
    unsigned char c;
    if (*off >= len) {
        *err = what;
        return -1;
    }
    c = p[*off];
    if (!((c & 0xf0) == 0x80 || c == 0xde || c == 0xdf)) {
        *err = what;
        return -1;
    }
    if (skip_object(p + *off, len - *off, &used) != 0) {
        *err = "truncated or malformed map";
        return -1;
    }
    *off += used;
    return 0;
}

int mp_check_records(const unsigned char *p, size_t len, struct mp_check *out)
{
    size_t off = 0;
    memset(out, 0, sizeof *out);
    if (len == 0) {
        out->err = "empty buffer";
        return -1;
    }
    while (off < len) {
        size_t rec_start = off;
        struct mp_head h;
        int t;
        /* Fast path for the usual shape, [[EventTime(d7 00 ..), {map}], {map}]: the same checks as
         * below without decoding the fixed headers one by one. Anything else takes the general path. */
        if (len - off > 12 && p[off] == 0x92 && p[off + 1] == 0x92 && p[off + 2] == 0xd7 &&
            p[off + 3] == 0x00) {
            uint32_t secs = (uint32_t) be(p + off + 4, 4);
            size_t o = off + 12;
            if (secs != 0xFFFFFFFFu && secs != 0xFFFFFFFEu &&
                expect_map(p, len, &o, "metadata is not a map", &out->err) == 0 &&
                expect_map(p, len, &o, "record body is not a map", &out->err) == 0) {
                out->modern++;
                out->records++;
                off = o;
                continue;
            }
            out->err = NULL; /* let the general path say exactly what is wrong */
        }
        if (mp_read_head(p, len, &off, &h) != 0 || h.kind != MK_ARRAY || h.n != 2) {
            out->err = "record is not a 2-element array";
            out->err_offset = rec_start;
            return -1;
        }
        if (off < len && (p[off] & 0xf0) == 0x90) {
            /* modern: [time, {metadata}] */
            if (mp_read_head(p, len, &off, &h) != 0 || h.n != 2) {
                out->err = "record header is not [time, {metadata}]";
                out->err_offset = rec_start;
                return -1;
            }
            t = check_time(p, len, &off, &out->err);
            if (t < 0 || expect_map(p, len, &off, "metadata is not a map", &out->err) != 0) {
                out->err_offset = rec_start;
                return -1;
            }
            out->modern++;
        } else {
            t = check_time(p, len, &off, &out->err);
            if (t < 0) {
                out->err_offset = rec_start;
                return -1;
            }
            out->legacy++;
        }
        if (expect_map(p, len, &off, "record body is not a map", &out->err) != 0) {
            out->err_offset = rec_start;
            return -1;
        }
        if (t == 1) {
            out->groups++;
        } else {
            out->records++;
        }
    }
    return 0;
}
