//! Prints one msgpack value, iteratively, in either of Fluent Bit's two text forms:
//!
//! - `JSON = false`: `msgpack_object_print` (msgpack-c), used by the `msgpack` format:
//!   `{"k"=>"v", "n"=>nil, "f"=>0.250000}`, strings raw, bin and ext as `"\xNN"` escapes.
//! - `JSON = true`: `msgpack2json` (`src/flb_pack.c`): `{"k":"v","n":null,"f":0.25}`, strings
//!   escaped by [`crate::escape`], and in every map a string key that appears again later in the
//!   same map is left out (the last occurrence wins), as Fluent Bit does.
//!
//! Records are printed by the single pass (`single_pass.rs`) first; this walker prints the ones
//! it leaves (a map with equal keys, bytes that do not decode, a time that is not an ext time, a
//! JSON body that is not a non-empty map) and the group attributes.
//!
//! No recursion: nesting is an explicit stack of small frames in a reused [`Scratch`], so a value
//! nested 100,000 levels deep costs heap, not stack. A single SDK [`Cursor`] walks the bytes in
//! order, one token at a time, so the `msgpack` form reads each byte once. The JSON form also scans
//! each map of two or more pairs ahead for duplicate keys before printing it (a copy of the cursor
//! reading its keys and skipping its values), so a value nested in `k` such maps is read `k + 1`
//! times.

use crate::escape::write_json_str;
use crate::num::{write_f64_fixed6, write_f64_json, write_i64, write_u64};
use flb_plugin_sdk::events::{Cursor, DecodeError, Token, Value};

/// The bytes do not hold a well-formed value (the SDK decoder validates records first, so this is
/// reached only on inconsistent input).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Garbled {
    /// Offset in the walked buffer.
    pub offset: usize,
}

impl From<DecodeError> for Garbled {
    #[inline]
    fn from(e: DecodeError) -> Self {
        Garbled { offset: e.offset }
    }
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
    /// the single pass's
    pub(crate) pass: crate::single_pass::Stack,
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
            + self.pass.capacity_bytes()
    }
}

/// Computes, for the map with `n` pairs whose first key is at `c`, which pairs to leave out (their
/// string key appears again later). Pushes `n` flags onto `s.dup`; leaves the map's string keys in
/// `s.keys`, as offsets in `c.data()`. Returns the flags' base index. Reads ahead on a copy of the
/// cursor: the caller's stays at the first key.
pub(crate) fn dup_flags(c: Cursor<'_>, n: u32, s: &mut Scratch) -> Result<u32, Garbled> {
    let (d, p) = (c.data(), c.pos());
    let base = s.dup.len();
    s.keys.clear();
    let mut c = c;
    for i in 0..n {
        match c.read_str()? {
            Some(k) => s.keys.push((i, c.pos() - k.len(), k.len())),
            None => c.skip_value()?,
        }
        c.skip_value()?;
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

/// Writes a scalar token; returns false for container headers (the caller opens those).
#[inline]
pub(crate) fn scalar<const JSON: bool>(out: &mut Vec<u8>, t: Token<'_>) -> bool {
    match t {
        Token::Nil => out.extend_from_slice(if JSON { b"null" } else { b"nil" }),
        Token::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
        Token::Int(i) => write_i64(out, i),
        Token::UInt(u) => write_u64(out, u),
        Token::F32(f) => write_float::<JSON>(out, f64::from(f)),
        Token::F64(f) => write_float::<JSON>(out, f),
        Token::Str(s) => {
            out.push(b'"');
            if JSON {
                write_json_str(out, s);
            } else {
                out.extend_from_slice(s);
            }
            out.push(b'"');
        }
        Token::Bin(s) => {
            out.push(b'"');
            if JSON {
                write_json_str(out, s);
            } else {
                bin_print(out, s);
            }
            out.push(b'"');
        }
        Token::Ext(t, s) => {
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
        Token::ArrayHeader(_) | Token::MapHeader(_) => return false,
    }
    true
}

#[inline]
fn write_float<const JSON: bool>(out: &mut Vec<u8>, f: f64) {
    if JSON {
        write_f64_json(out, f)
    } else {
        write_f64_fixed6(out, f)
    }
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

/// Prints the value at the cursor, or opens it (prints the bracket, pushes a frame); moves the
/// cursor past what was consumed.
#[inline]
fn emit<const JSON: bool>(out: &mut Vec<u8>, s: &mut Scratch, c: &mut Cursor<'_>) -> Result<(), Garbled> {
    match c.next_token()? {
        Token::ArrayHeader(n) => open_array(out, s, n),
        Token::MapHeader(n) => open_map::<JSON>(out, s, *c, n)?,
        t => {
            scalar::<JSON>(out, t);
        }
    }
    Ok(())
}

#[inline]
fn open_array(out: &mut Vec<u8>, s: &mut Scratch, n: u32) {
    out.push(b'[');
    s.frames.push(Frame { remaining: n, idx: 0, flags_base: NO_FLAGS, kind: Kind::Array, first: true });
}

/// Opens the map of `n` pairs whose first key is at `c`.
#[inline]
fn open_map<const JSON: bool>(out: &mut Vec<u8>, s: &mut Scratch, c: Cursor<'_>, n: u32) -> Result<(), Garbled> {
    out.push(b'{');
    let flags_base = if JSON && n >= 2 { dup_flags(c, n, s)? } else { NO_FLAGS };
    s.frames.push(Frame { remaining: n, idx: 0, flags_base, kind: Kind::MapKey, first: true });
    Ok(())
}

/// Runs the frame stack down to `floor` frames, reading from `c`.
fn run<const JSON: bool>(out: &mut Vec<u8>, s: &mut Scratch, c: &mut Cursor<'_>, floor: usize) -> Result<(), Garbled> {
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
                emit::<JSON>(out, s, c)?;
            }
            Kind::MapKey => {
                if top.flags_base != NO_FLAGS && s.dup[(top.flags_base + top.idx) as usize] {
                    top.idx += 1;
                    top.remaining -= 1;
                    c.skip_value()?;
                    c.skip_value()?;
                    continue;
                }
                if !top.first {
                    out.extend_from_slice(sep);
                }
                top.first = false;
                top.kind = Kind::MapVal;
                emit::<JSON>(out, s, c)?;
            }
            Kind::MapVal => {
                out.extend_from_slice(kv);
                top.kind = Kind::MapKey;
                top.idx += 1;
                top.remaining -= 1;
                emit::<JSON>(out, s, c)?;
            }
        }
    }
    Ok(())
}

/// Prints the whole value at `d[pos]`; returns the offset after it.
pub fn write_value<const JSON: bool>(
    out: &mut Vec<u8>,
    s: &mut Scratch,
    d: &[u8],
    pos: usize,
) -> Result<usize, Garbled> {
    let floor = s.frames.len();
    let mut c = Cursor::at(d, pos);
    emit::<JSON>(out, s, &mut c)?;
    run::<JSON>(out, s, &mut c, floor)?;
    Ok(c.pos())
}

/// Prints a decoded SDK value: scalars directly, containers by walking their elements with a cursor
/// (their bytes were checked when the record was read; the cursor checks each token again anyway).
pub fn write_sdk_value<const JSON: bool>(out: &mut Vec<u8>, s: &mut Scratch, v: &Value<'_>) -> Result<(), Garbled> {
    let floor = s.frames.len();
    let t = match *v {
        Value::Array(a) => {
            open_array(out, s, a.len() as u32);
            return run::<JSON>(out, s, &mut a.cursor(), floor);
        }
        Value::Map(m) => {
            let mut c = m.cursor();
            open_map::<JSON>(out, s, c, m.len() as u32)?;
            return run::<JSON>(out, s, &mut c, floor);
        }
        Value::Nil => Token::Nil,
        Value::Bool(b) => Token::Bool(b),
        Value::Int(i) => Token::Int(i),
        Value::UInt(u) => Token::UInt(u),
        Value::F32(f) => Token::F32(f),
        Value::F64(f) => Token::F64(f),
        Value::Str(b) => Token::Str(b),
        Value::Bin(b) => Token::Bin(b),
        Value::Ext(t, b) => Token::Ext(t, b),
    };
    scalar::<JSON>(out, t);
    Ok(())
}

/// JSON: continues an object whose `{` (and maybe some members) is already written with the `n`
/// pairs of a map whose first key is at `c`, using the duplicate flags computed by [`dup_flags`]
/// at `flags_base` (or none), then writes the closing `}`.
pub(crate) fn write_map_members_json(
    out: &mut Vec<u8>,
    s: &mut Scratch,
    mut c: Cursor<'_>,
    n: u32,
    flags_base: u32,
    first: bool,
) -> Result<(), Garbled> {
    let floor = s.frames.len();
    s.frames.push(Frame { remaining: n, idx: 0, flags_base, kind: Kind::MapKey, first });
    run::<true>(out, s, &mut c, floor)
}
