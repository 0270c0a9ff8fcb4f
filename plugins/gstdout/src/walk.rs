//! Prints one msgpack value, iteratively, in either of Fluent Bit's two text forms:
//!
//! - `JSON = false`: `msgpack_object_print` (msgpack-c), used by the `msgpack` format:
//!   `{"k"=>"v", "n"=>nil, "f"=>0.250000}`, strings raw, bin and ext as `"\xNN"` escapes.
//! - `JSON = true`: `msgpack2json` (`src/flb_pack.c`): `{"k":"v","n":null,"f":0.25}`, strings
//!   escaped by [`crate::escape`], and in every map a string key that appears again later in the
//!   same map is left out (the last occurrence wins), as Fluent Bit does.
//!
//! No recursion: nesting is an explicit stack of small frames in a reused [`Scratch`], so a value
//! nested 100,000 levels deep costs heap, not stack. A single cursor walks the bytes in order.

use crate::escape::write_json_str;
use crate::num::{write_f64_fixed6, write_f64_json, write_i64, write_u64};
use flb_plugin_sdk::events::{skip_value, Value};

/// The bytes do not hold a well-formed value (the SDK decoder validates records first, so this is
/// reached only on inconsistent input).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Garbled {
    /// Offset in the walked buffer.
    pub offset: usize,
}

/// One decoded header: a scalar, or the element count of a container (payload follows).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Item<'a> {
    Nil,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(&'a [u8]),
    Bin(&'a [u8]),
    Ext(i8, &'a [u8]),
    Array(u32),
    Map(u32),
}

#[inline(always)]
fn get<const N: usize>(d: &[u8], at: usize) -> Option<[u8; N]> {
    d.get(at..)?.first_chunk::<N>().copied()
}

#[inline(always)]
fn payload(d: &[u8], at: usize, n: usize) -> Option<(&[u8], usize)> {
    let end = at.checked_add(n)?;
    Some((d.get(at..end)?, end))
}

/// Reads the value header at `pos`: the item and the offset after it (after the payload for
/// strings, bins and exts; after the header for containers).
#[inline]
pub(crate) fn head(d: &[u8], pos: usize) -> Option<(Item<'_>, usize)> {
    let b = *d.get(pos)?;
    let p = pos + 1;
    Some(match b {
        0x00..=0x7f => (Item::Int(i64::from(b)), p),
        0x80..=0x8f => (Item::Map(u32::from(b & 0x0f)), p),
        0x90..=0x9f => (Item::Array(u32::from(b & 0x0f)), p),
        0xa0..=0xbf => {
            let (s, e) = payload(d, p, usize::from(b & 0x1f))?;
            (Item::Str(s), e)
        }
        0xc0 => (Item::Nil, p),
        0xc1 => return None,
        0xc2 => (Item::Bool(false), p),
        0xc3 => (Item::Bool(true), p),
        0xc4..=0xc6 => {
            let (n, p) = len_field(d, p, b - 0xc4)?;
            let (s, e) = payload(d, p, n)?;
            (Item::Bin(s), e)
        }
        0xc7..=0xc9 => {
            let (n, p) = len_field(d, p, b - 0xc7)?;
            let t = *d.get(p)? as i8;
            let (s, e) = payload(d, p + 1, n)?;
            (Item::Ext(t, s), e)
        }
        0xca => (Item::Float(f64::from(f32::from_be_bytes(get::<4>(d, p)?))), p + 4),
        0xcb => (Item::Float(f64::from_be_bytes(get::<8>(d, p)?)), p + 8),
        0xcc => (Item::Int(i64::from(get::<1>(d, p)?[0])), p + 1),
        0xcd => (Item::Int(i64::from(u16::from_be_bytes(get::<2>(d, p)?))), p + 2),
        0xce => (Item::Int(i64::from(u32::from_be_bytes(get::<4>(d, p)?))), p + 4),
        0xcf => {
            let u = u64::from_be_bytes(get::<8>(d, p)?);
            (i64::try_from(u).map(Item::Int).unwrap_or(Item::UInt(u)), p + 8)
        }
        0xd0 => (Item::Int(i64::from(get::<1>(d, p)?[0] as i8)), p + 1),
        0xd1 => (Item::Int(i64::from(i16::from_be_bytes(get::<2>(d, p)?))), p + 2),
        0xd2 => (Item::Int(i64::from(i32::from_be_bytes(get::<4>(d, p)?))), p + 4),
        0xd3 => (Item::Int(i64::from_be_bytes(get::<8>(d, p)?)), p + 8),
        0xd4..=0xd8 => {
            let t = *d.get(p)? as i8;
            let (s, e) = payload(d, p + 1, 1usize << (b - 0xd4))?;
            (Item::Ext(t, s), e)
        }
        0xd9..=0xdb => {
            let (n, p) = len_field(d, p, b - 0xd9)?;
            let (s, e) = payload(d, p, n)?;
            (Item::Str(s), e)
        }
        0xdc => (Item::Array(u32::from(u16::from_be_bytes(get::<2>(d, p)?))), p + 2),
        0xdd => (Item::Array(u32::from_be_bytes(get::<4>(d, p)?)), p + 4),
        0xde => (Item::Map(u32::from(u16::from_be_bytes(get::<2>(d, p)?))), p + 2),
        0xdf => (Item::Map(u32::from_be_bytes(get::<4>(d, p)?)), p + 4),
        0xe0..=0xff => (Item::Int(i64::from(b as i8)), p),
    })
}

/// A 1-, 2- or 4-byte big-endian length (`w` = 0, 1, 2).
#[inline(always)]
fn len_field(d: &[u8], p: usize, w: u8) -> Option<(usize, usize)> {
    Some(match w {
        0 => (usize::from(get::<1>(d, p)?[0]), p + 1),
        1 => (usize::from(u16::from_be_bytes(get::<2>(d, p)?)), p + 2),
        _ => (u32::from_be_bytes(get::<4>(d, p)?) as usize, p + 4),
    })
}

const NO_FLAGS: u32 = u32::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Array,
    MapKey,
    MapVal,
}

/// One open container: 16 bytes.
#[derive(Clone, Copy, Debug)]
struct Frame {
    remaining: u32,
    /// index of the next pair (maps)
    idx: u32,
    /// start of this map's duplicate flags in `Scratch::dup`, or NO_FLAGS
    flags_base: u32,
    kind: Kind,
    first: bool,
}

/// Reusable working memory for printing: the container stack and the JSON duplicate-key tables.
/// Keep one per thread (or per flush) and it stops allocating once warm.
#[derive(Default, Debug)]
pub struct Scratch {
    frames: Vec<Frame>,
    /// per pair of each open JSON map: "a later pair has the same string key"
    dup: Vec<bool>,
    /// string keys of the map being checked: (pair index, start, len)
    keys: Vec<(u32, usize, usize)>,
}

impl Scratch {
    /// Empty scratch space.
    pub fn new() -> Self {
        Scratch::default()
    }

    /// Bytes held (for callers that cap retained memory).
    pub fn capacity_bytes(&self) -> usize {
        self.frames.capacity() * core::mem::size_of::<Frame>()
            + self.dup.capacity()
            + self.keys.capacity() * core::mem::size_of::<(u32, usize, usize)>()
    }
}

/// Computes, for the map with `n` pairs whose first key is at `d[p]`, which pairs to leave out
/// (their string key appears again later). Pushes `n` flags onto `s.dup`; leaves the map's string
/// keys in `s.keys`. Returns the flags' base index.
pub(crate) fn dup_flags(d: &[u8], p: usize, n: u32, s: &mut Scratch) -> Result<u32, Garbled> {
    let base = s.dup.len();
    s.keys.clear();
    let mut q = p;
    for i in 0..n {
        match head(d, q) {
            Some((Item::Str(k), end)) => {
                let start = k.as_ptr() as usize - d.as_ptr() as usize;
                s.keys.push((i, start, k.len()));
                q = end;
            }
            _ => q = skip_value(d, q).map_err(|e| Garbled { offset: e.offset })?,
        }
        q = match head(d, q) {
            Some((Item::Array(_) | Item::Map(_), _)) | None => {
                skip_value(d, q).map_err(|e| Garbled { offset: e.offset })?
            }
            Some((_, end)) => end,
        };
    }
    s.dup.resize(base + n as usize, false);
    let key = |&(_, st, l): &(u32, usize, usize)| &d[st..st + l];
    // Length and first bytes compared before the bytes themselves: keys of one map rarely share both.
    let fingerprint = |k: &[u8]| {
        let mut b = [0u8; 8];
        let n = k.len().min(8);
        b[..n].copy_from_slice(&k[..n]);
        u64::from_le_bytes(b) ^ (k.len() as u64).rotate_left(56)
    };
    let k = s.keys.len();
    if k >= 2 {
        if k <= 32 {
            let mut fps = [0u64; 32];
            for (f, kk) in fps.iter_mut().zip(&s.keys) {
                *f = fingerprint(key(kk));
            }
            for a in 0..k {
                let ka = key(&s.keys[a]);
                let later = (a + 1..k).any(|b| fps[b] == fps[a] && key(&s.keys[b]) == ka);
                if later {
                    s.dup[base + s.keys[a].0 as usize] = true;
                }
            }
        } else {
            let mut sorted = core::mem::take(&mut s.keys);
            sorted.sort_unstable_by(|x, y| key(x).cmp(key(y)).then(x.0.cmp(&y.0)));
            for w in sorted.windows(2) {
                if key(&w[0]) == key(&w[1]) {
                    s.dup[base + w[0].0 as usize] = true;
                }
            }
            s.keys = sorted;
        }
    }
    u32::try_from(base).map_err(|_| Garbled { offset: p })
}

/// True when the string keys last collected by [`dup_flags`] include `k`.
pub(crate) fn has_key(d: &[u8], s: &Scratch, k: &[u8]) -> bool {
    s.keys.iter().any(|&(_, st, l)| &d[st..st + l] == k)
}

#[inline]
fn bin_print(out: &mut Vec<u8>, b: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for &c in b {
        if c == b'"' {
            out.extend_from_slice(b"\\\"");
        } else if (0x20..0x7f).contains(&c) {
            out.push(c);
        } else {
            out.extend_from_slice(&[b'\\', b'x', HEX[usize::from(c >> 4)], HEX[usize::from(c & 0xf)]]);
        }
    }
}

/// Writes a scalar item; returns false for containers (the caller opens those).
#[inline]
pub(crate) fn scalar<const JSON: bool>(out: &mut Vec<u8>, it: Item<'_>) -> bool {
    match it {
        Item::Nil => out.extend_from_slice(if JSON { b"null" } else { b"nil" }),
        Item::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
        Item::Int(i) => write_i64(out, i),
        Item::UInt(u) => write_u64(out, u),
        Item::Float(f) => {
            if JSON {
                write_f64_json(out, f)
            } else {
                write_f64_fixed6(out, f)
            }
        }
        Item::Str(s) => {
            out.push(b'"');
            if JSON {
                write_json_str(out, s);
            } else {
                out.extend_from_slice(s);
            }
            out.push(b'"');
        }
        Item::Bin(s) => {
            out.push(b'"');
            if JSON {
                write_json_str(out, s);
            } else {
                bin_print(out, s);
            }
            out.push(b'"');
        }
        Item::Ext(t, s) => {
            if JSON {
                // "\\x%02x" of a (signed, on x86-64) char: bytes >= 0x80 print as ffffffNN.
                out.push(b'"');
                for &c in s {
                    out.extend_from_slice(b"\\x");
                    let v = i32::from(c as i8) as u32;
                    if v < 0x10 {
                        out.push(b'0');
                    }
                    write_hex(out, v);
                }
                out.push(b'"');
            } else {
                out.extend_from_slice(b"(ext: ");
                write_i64(out, i64::from(t));
                out.extend_from_slice(b")\"");
                bin_print(out, s);
                out.push(b'"');
            }
        }
        Item::Array(_) | Item::Map(_) => return false,
    }
    true
}

fn write_hex(out: &mut Vec<u8>, v: u32) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [0u8; 8];
    let mut i = 8;
    let mut v = v;
    loop {
        i -= 1;
        buf[i] = HEX[(v & 0xf) as usize];
        v >>= 4;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Prints the value at `d[pos]` (or opens it, pushing a frame); returns the cursor after what was
/// consumed.
#[inline]
fn emit<const JSON: bool>(out: &mut Vec<u8>, s: &mut Scratch, d: &[u8], pos: usize) -> Result<usize, Garbled> {
    let (it, p) = head(d, pos).ok_or(Garbled { offset: pos })?;
    if scalar::<JSON>(out, it) {
        return Ok(p);
    }
    match it {
        Item::Array(n) => {
            out.push(b'[');
            s.frames.push(Frame { remaining: n, idx: 0, flags_base: NO_FLAGS, kind: Kind::Array, first: true });
        }
        Item::Map(n) => {
            out.push(b'{');
            let flags_base = if JSON && n >= 2 { dup_flags(d, p, n, s)? } else { NO_FLAGS };
            s.frames.push(Frame { remaining: n, idx: 0, flags_base, kind: Kind::MapKey, first: true });
        }
        _ => {}
    }
    Ok(p)
}

/// Runs the frame stack down to `floor` frames; returns the cursor.
fn run<const JSON: bool>(
    out: &mut Vec<u8>,
    s: &mut Scratch,
    d: &[u8],
    mut pos: usize,
    floor: usize,
) -> Result<usize, Garbled> {
    let (sep, kv): (&[u8], &[u8]) = if JSON { (b",", b":") } else { (b", ", b"=>") };
    while s.frames.len() > floor {
        let Some(top) = s.frames.last_mut() else { break };
        if top.remaining == 0 {
            out.push(if top.kind == Kind::Array { b']' } else { b'}' });
            if top.flags_base != NO_FLAGS {
                let b = top.flags_base as usize;
                s.dup.truncate(b);
            }
            s.frames.pop();
            continue;
        }
        match top.kind {
            Kind::Array => {
                if !top.first {
                    out.extend_from_slice(sep);
                }
                top.first = false;
                top.remaining -= 1;
                pos = emit::<JSON>(out, s, d, pos)?;
            }
            Kind::MapKey => {
                if top.flags_base != NO_FLAGS && s.dup[(top.flags_base + top.idx) as usize] {
                    top.idx += 1;
                    top.remaining -= 1;
                    pos = skip_value(d, pos).map_err(|e| Garbled { offset: e.offset })?;
                    pos = skip_value(d, pos).map_err(|e| Garbled { offset: e.offset })?;
                    continue;
                }
                if !top.first {
                    out.extend_from_slice(sep);
                }
                top.first = false;
                top.kind = Kind::MapVal;
                pos = emit::<JSON>(out, s, d, pos)?;
            }
            Kind::MapVal => {
                out.extend_from_slice(kv);
                top.kind = Kind::MapKey;
                top.idx += 1;
                top.remaining -= 1;
                pos = emit::<JSON>(out, s, d, pos)?;
            }
        }
    }
    Ok(pos)
}

/// Prints the whole value at `d[pos]`; returns the offset after it.
pub fn write_value<const JSON: bool>(
    out: &mut Vec<u8>,
    s: &mut Scratch,
    d: &[u8],
    pos: usize,
) -> Result<usize, Garbled> {
    let floor = s.frames.len();
    let p = emit::<JSON>(out, s, d, pos)?;
    run::<JSON>(out, s, d, p, floor)
}

/// Prints a decoded SDK value (scalars directly, containers from their raw bytes).
pub fn write_sdk_value<const JSON: bool>(out: &mut Vec<u8>, s: &mut Scratch, v: &Value<'_>) -> Result<(), Garbled> {
    let it = match *v {
        Value::Nil => Item::Nil,
        Value::Bool(b) => Item::Bool(b),
        Value::Int(i) => Item::Int(i),
        Value::UInt(u) => Item::UInt(u),
        Value::F32(f) => Item::Float(f64::from(f)),
        Value::F64(f) => Item::Float(f),
        Value::Str(b) => Item::Str(b),
        Value::Bin(b) => Item::Bin(b),
        Value::Ext(t, b) => Item::Ext(t, b),
        Value::Array(a) => return write_value::<JSON>(out, s, a.raw(), 0).map(|_| ()),
        Value::Map(m) => return write_value::<JSON>(out, s, m.raw(), 0).map(|_| ()),
    };
    scalar::<JSON>(out, it);
    Ok(())
}

/// JSON: continues an object whose `{` (and maybe some members) is already written with the pairs
/// of the map `m` (its raw bytes), using the duplicate flags computed by [`dup_flags`] at
/// `flags_base` (or none), then writes the closing `}`.
pub(crate) fn write_map_members_json(
    out: &mut Vec<u8>,
    s: &mut Scratch,
    m: &[u8],
    hdr_end: usize,
    n: u32,
    flags_base: u32,
    first: bool,
) -> Result<(), Garbled> {
    let floor = s.frames.len();
    s.frames.push(Frame { remaining: n, idx: 0, flags_base, kind: Kind::MapKey, first });
    run::<true>(out, s, m, hdr_end, floor).map(|_| ())
}
