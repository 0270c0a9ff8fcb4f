//! A zero-copy, lazy msgpack decoder for Fluent Bit log chunks.
//!
//! Nothing here recurses, allocates, or panics on malformed input: output flushes run on a 64 KiB
//! coroutine stack and chunks come from outside. Containers ([`Array`], [`Map`]) are lazy: decoding one
//! only finds its extent, with an iterative skip that keeps a counter of pending items (an array of `n`
//! adds `n`, a map of `n` adds `2n`), so arbitrarily deep nesting costs no stack.
//!
//! Every length and element count is checked against the bytes that remain, so a garbled header
//! claiming 4 GB fails at once with [`DecodeErrorKind::Truncated`].
//!
//! Cost note: decoding a container skips all of it once, so walking a tree of depth `d` visits its
//! deepest bytes `d` times. Formatters that walk values recursively must bound their depth anyway
//! (the stack is small), which bounds this cost too.

use super::encoder::RecordForm;
use super::time::EventTime;
use rmp::Marker;

/// Why decoding failed; see [`DecodeError`] for where.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DecodeErrorKind {
    /// The input ends inside a value, or a string/bin/ext length or an array/map element count
    /// claims more than the bytes that remain.
    Truncated,
    /// The marker byte `0xc1`, which msgpack reserves and never uses.
    ReservedMarker,
    /// A record is not `[time, body]` or `[[time, metadata], body]`.
    NotARecord,
    /// A record's time is neither an EventTime (ext type 0, 8 bytes), an integer, nor a finite
    /// float; or an integer time does not fit in i64.
    BadTime,
}

/// A decoding error: what went wrong and at which byte of the input (the start of the offending
/// value, or the end of the input when a value is missing).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DecodeError {
    /// Byte offset in the decoded buffer.
    pub offset: usize,
    /// What went wrong.
    pub kind: DecodeErrorKind,
}

impl DecodeError {
    #[cold]
    #[inline(never)]
    fn new(offset: usize, kind: DecodeErrorKind) -> Self {
        DecodeError { offset, kind }
    }
}

#[cold]
#[inline(never)]
fn truncated(offset: usize) -> DecodeError {
    DecodeError::new(offset, DecodeErrorKind::Truncated)
}

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let what = match self.kind {
            DecodeErrorKind::Truncated => "truncated msgpack",
            DecodeErrorKind::ReservedMarker => "reserved msgpack marker 0xc1",
            DecodeErrorKind::NotARecord => "record is not an array [time, body] or [[time, metadata], body]",
            DecodeErrorKind::BadTime => "record time is not an EventTime, integer or float",
        };
        write!(f, "{what} at byte {}", self.offset)
    }
}

impl std::error::Error for DecodeError {}

/// One decoded msgpack value, borrowing from the input. Containers are lazy views.
#[derive(Clone, Copy, Debug)]
pub enum Value<'a> {
    /// `nil`.
    Nil,
    /// `true` / `false`.
    Bool(bool),
    /// Any integer that fits in i64 (whatever its encoding).
    Int(i64),
    /// An unsigned integer above `i64::MAX`.
    UInt(u64),
    /// float 32.
    F32(f32),
    /// float 64.
    F64(f64),
    /// A string's raw bytes (msgpack does not guarantee UTF-8; see [`Value::as_str`]).
    Str(&'a [u8]),
    /// Binary data.
    Bin(&'a [u8]),
    /// An extension value: type and data.
    Ext(i8, &'a [u8]),
    /// An array.
    Array(Array<'a>),
    /// A map.
    Map(Map<'a>),
}

impl<'a> Value<'a> {
    /// The string, when this is a `Str` holding valid UTF-8.
    #[inline]
    pub fn as_str(&self) -> Option<&'a str> {
        match *self {
            Value::Str(s) => core::str::from_utf8(s).ok(),
            _ => None,
        }
    }

    /// The raw bytes of a `Str` or `Bin`.
    #[inline]
    pub fn as_bytes(&self) -> Option<&'a [u8]> {
        match *self {
            Value::Str(s) | Value::Bin(s) => Some(s),
            _ => None,
        }
    }

    /// The map, when this is one.
    #[inline]
    pub fn as_map(&self) -> Option<Map<'a>> {
        match *self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The array, when this is one.
    #[inline]
    pub fn as_array(&self) -> Option<Array<'a>> {
        match *self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The boolean, when this is one.
    #[inline]
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The integer, when this is one that fits in i64.
    #[inline]
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::Int(i) => Some(i),
            _ => None,
        }
    }

    /// The integer, when this is a non-negative one.
    #[inline]
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::Int(i) => u64::try_from(i).ok(),
            Value::UInt(u) => Some(u),
            _ => None,
        }
    }

    /// Any number as f64 (integers are converted, possibly losing precision).
    #[inline]
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::F32(f) => Some(f64::from(f)),
            Value::F64(f) => Some(f),
            Value::Int(i) => Some(i as f64),
            Value::UInt(u) => Some(u as f64),
            _ => None,
        }
    }

    /// The extension type and data, when this is one.
    #[inline]
    pub fn as_ext(&self) -> Option<(i8, &'a [u8])> {
        match *self {
            Value::Ext(t, d) => Some((t, d)),
            _ => None,
        }
    }

    /// True for `nil`.
    #[inline]
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    /// A short name of the value's type ("nil", "bool", "int", "uint", "float32", "float64", "str",
    /// "bin", "ext", "array", "map"), for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::UInt(_) => "uint",
            Value::F32(_) => "float32",
            Value::F64(_) => "float64",
            Value::Str(_) => "str",
            Value::Bin(_) => "bin",
            Value::Ext(..) => "ext",
            Value::Array(_) => "array",
            Value::Map(_) => "map",
        }
    }
}

/// A lazily decoded msgpack array: its element count and its bytes (already checked to be well
/// formed). Iterate with [`Array::iter`].
///
/// Because [`decode_value`] checked the whole container, iterating it does not fail in practice; the
/// iterators still return `Result` rather than trusting that. Offsets in errors from a container's
/// iterators or [`Map::get`] are relative to its [`raw`](Array::raw) bytes.
#[derive(Clone, Copy, Debug)]
pub struct Array<'a> {
    /// The whole encoded array, header included.
    raw: &'a [u8],
    /// Element count.
    len: u32,
    /// Header length in bytes (1, 3 or 5).
    hdr: u8,
}

impl<'a> Array<'a> {
    /// Number of elements.
    #[inline]
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// True when the array has no elements.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The whole encoded array, header included.
    #[inline]
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// The elements, in order.
    #[inline]
    pub fn iter(&self) -> ArrayIter<'a> {
        ArrayIter { raw: self.raw, pos: usize::from(self.hdr), remaining: self.len }
    }
}

impl<'a> IntoIterator for Array<'a> {
    type Item = Result<Value<'a>, DecodeError>;
    type IntoIter = ArrayIter<'a>;
    #[inline]
    fn into_iter(self) -> ArrayIter<'a> {
        self.iter()
    }
}

/// Iterator over the elements of an [`Array`]. After an error it yields `None`.
#[derive(Clone, Debug)]
pub struct ArrayIter<'a> {
    raw: &'a [u8],
    pos: usize,
    remaining: u32,
}

impl<'a> Iterator for ArrayIter<'a> {
    type Item = Result<Value<'a>, DecodeError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        match decode_value(self.raw, self.pos) {
            Ok((v, next)) => {
                self.pos = next;
                self.remaining -= 1;
                Some(Ok(v))
            }
            Err(e) => {
                self.remaining = 0;
                Some(Err(e))
            }
        }
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.remaining as usize))
    }
}

impl core::iter::FusedIterator for ArrayIter<'_> {}

/// A lazily decoded msgpack map: its pair count and its bytes (already checked to be well formed).
/// Iterate with [`Map::iter`], look up string keys with [`Map::get`]. As for [`Array`], errors are not
/// expected from these, and their offsets are relative to [`raw`](Map::raw).
#[derive(Clone, Copy, Debug)]
pub struct Map<'a> {
    /// The whole encoded map, header included.
    raw: &'a [u8],
    /// Number of key/value pairs.
    len: u32,
    /// Header length in bytes (1, 3 or 5).
    hdr: u8,
}

impl<'a> Map<'a> {
    /// Number of key/value pairs.
    #[inline]
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// True when the map has no pairs.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The whole encoded map, header included.
    #[inline]
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// The key/value pairs, in encoded order.
    #[inline]
    pub fn iter(&self) -> MapIter<'a> {
        MapIter { raw: self.raw, pos: usize::from(self.hdr), remaining: self.len }
    }

    /// The value of the first pair whose key is a string equal to `key` (byte comparison; bin keys
    /// never match). A linear scan: O(bytes of the pairs before the match).
    pub fn get(&self, key: &[u8]) -> Result<Option<Value<'a>>, DecodeError> {
        let raw = self.raw;
        let mut pos = usize::from(self.hdr);
        for _ in 0..self.len {
            let (k, after_key) = decode_value(raw, pos)?;
            if matches!(k, Value::Str(s) if s == key) {
                let (v, _) = decode_value(raw, after_key)?;
                return Ok(Some(v));
            }
            pos = decode_value(raw, after_key)?.1;
        }
        Ok(None)
    }
}

impl<'a> IntoIterator for Map<'a> {
    type Item = Result<(Value<'a>, Value<'a>), DecodeError>;
    type IntoIter = MapIter<'a>;
    #[inline]
    fn into_iter(self) -> MapIter<'a> {
        self.iter()
    }
}

/// Iterator over the key/value pairs of a [`Map`]. After an error it yields `None`.
#[derive(Clone, Debug)]
pub struct MapIter<'a> {
    raw: &'a [u8],
    pos: usize,
    remaining: u32,
}

impl<'a> MapIter<'a> {
    #[inline(always)]
    fn pair(&self) -> Result<(Value<'a>, Value<'a>, usize), DecodeError> {
        let (k, p) = decode_value(self.raw, self.pos)?;
        let (v, p) = decode_value(self.raw, p)?;
        Ok((k, v, p))
    }
}

impl<'a> Iterator for MapIter<'a> {
    type Item = Result<(Value<'a>, Value<'a>), DecodeError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        match self.pair() {
            Ok((k, v, next)) => {
                self.pos = next;
                self.remaining -= 1;
                Some(Ok((k, v)))
            }
            Err(e) => {
                self.remaining = 0;
                Some(Err(e))
            }
        }
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.remaining as usize))
    }
}

impl core::iter::FusedIterator for MapIter<'_> {}

/// A value's header: the scalar itself, or the length/count of what follows.
#[derive(Clone, Copy, Debug)]
enum Head {
    Nil,
    Bool(bool),
    Int(i64),
    UInt(u64),
    F32(f32),
    F64(f64),
    Str(u32),
    Bin(u32),
    Ext(i8, u32),
    Array(u32),
    Map(u32),
}

/// Reads `N` bytes at `at`, or reports the value starting at `start` as truncated.
#[inline(always)]
fn take<const N: usize>(data: &[u8], at: usize, start: usize) -> Result<[u8; N], DecodeError> {
    match data.get(at..).and_then(|s| s.first_chunk::<N>()) {
        Some(b) => Ok(*b),
        None => Err(truncated(start)),
    }
}

#[inline(always)]
fn be16(data: &[u8], at: usize, start: usize) -> Result<u32, DecodeError> {
    Ok(u32::from(u16::from_be_bytes(take::<2>(data, at, start)?)))
}

#[inline(always)]
fn be32(data: &[u8], at: usize, start: usize) -> Result<u32, DecodeError> {
    Ok(u32::from_be_bytes(take::<4>(data, at, start)?))
}

/// Reads the header of the value at `pos`: returns it and the offset of its payload (for scalars, the
/// offset just past the value).
#[inline]
fn read_head(data: &[u8], pos: usize) -> Result<(Head, usize), DecodeError> {
    let Some(&byte) = data.get(pos) else {
        return Err(truncated(pos));
    };
    let p = pos + 1;
    let r = match Marker::from_u8(byte) {
        Marker::FixPos(v) => (Head::Int(i64::from(v)), p),
        Marker::FixNeg(v) => (Head::Int(i64::from(v)), p),
        Marker::FixStr(n) => (Head::Str(u32::from(n)), p),
        Marker::FixArray(n) => (Head::Array(u32::from(n)), p),
        Marker::FixMap(n) => (Head::Map(u32::from(n)), p),
        Marker::Null => (Head::Nil, p),
        Marker::False => (Head::Bool(false), p),
        Marker::True => (Head::Bool(true), p),
        Marker::U8 => (Head::Int(i64::from(take::<1>(data, p, pos)?[0])), p + 1),
        Marker::U16 => (Head::Int(i64::from(be16(data, p, pos)?)), p + 2),
        Marker::U32 => (Head::Int(i64::from(be32(data, p, pos)?)), p + 4),
        Marker::U64 => {
            let u = u64::from_be_bytes(take::<8>(data, p, pos)?);
            let h = match i64::try_from(u) {
                Ok(i) => Head::Int(i),
                Err(_) => Head::UInt(u),
            };
            (h, p + 8)
        }
        Marker::I8 => (Head::Int(i64::from(i8::from_be_bytes(take::<1>(data, p, pos)?))), p + 1),
        Marker::I16 => (Head::Int(i64::from(i16::from_be_bytes(take::<2>(data, p, pos)?))), p + 2),
        Marker::I32 => (Head::Int(i64::from(i32::from_be_bytes(take::<4>(data, p, pos)?))), p + 4),
        Marker::I64 => (Head::Int(i64::from_be_bytes(take::<8>(data, p, pos)?)), p + 8),
        Marker::F32 => (Head::F32(f32::from_be_bytes(take::<4>(data, p, pos)?)), p + 4),
        Marker::F64 => (Head::F64(f64::from_be_bytes(take::<8>(data, p, pos)?)), p + 8),
        Marker::Str8 => (Head::Str(u32::from(take::<1>(data, p, pos)?[0])), p + 1),
        Marker::Str16 => (Head::Str(be16(data, p, pos)?), p + 2),
        Marker::Str32 => (Head::Str(be32(data, p, pos)?), p + 4),
        Marker::Bin8 => (Head::Bin(u32::from(take::<1>(data, p, pos)?[0])), p + 1),
        Marker::Bin16 => (Head::Bin(be16(data, p, pos)?), p + 2),
        Marker::Bin32 => (Head::Bin(be32(data, p, pos)?), p + 4),
        Marker::Array16 => (Head::Array(be16(data, p, pos)?), p + 2),
        Marker::Array32 => (Head::Array(be32(data, p, pos)?), p + 4),
        Marker::Map16 => (Head::Map(be16(data, p, pos)?), p + 2),
        Marker::Map32 => (Head::Map(be32(data, p, pos)?), p + 4),
        Marker::FixExt1 => (Head::Ext(ext_type(data, p, pos)?, 1), p + 1),
        Marker::FixExt2 => (Head::Ext(ext_type(data, p, pos)?, 2), p + 1),
        Marker::FixExt4 => (Head::Ext(ext_type(data, p, pos)?, 4), p + 1),
        Marker::FixExt8 => (Head::Ext(ext_type(data, p, pos)?, 8), p + 1),
        Marker::FixExt16 => (Head::Ext(ext_type(data, p, pos)?, 16), p + 1),
        Marker::Ext8 => {
            let [n, t] = take::<2>(data, p, pos)?;
            (Head::Ext(t as i8, u32::from(n)), p + 2)
        }
        Marker::Ext16 => {
            let [a, b, t] = take::<3>(data, p, pos)?;
            (Head::Ext(t as i8, u32::from(u16::from_be_bytes([a, b]))), p + 3)
        }
        Marker::Ext32 => {
            let [a, b, c, d, t] = take::<5>(data, p, pos)?;
            (Head::Ext(t as i8, u32::from_be_bytes([a, b, c, d])), p + 5)
        }
        Marker::Reserved => return Err(DecodeError::new(pos, DecodeErrorKind::ReservedMarker)),
    };
    Ok(r)
}

#[inline(always)]
fn ext_type(data: &[u8], p: usize, pos: usize) -> Result<i8, DecodeError> {
    Ok(take::<1>(data, p, pos)?[0] as i8)
}

/// The end of a `len`-byte payload at `payload` (of the value at `start`), checked against the input.
#[inline(always)]
fn payload_end(data: &[u8], start: usize, payload: usize, len: u32) -> Result<usize, DecodeError> {
    match payload.checked_add(len as usize) {
        Some(end) if end <= data.len() => Ok(end),
        _ => Err(truncated(start)),
    }
}

/// Skips `pending` consecutive values starting at `pos`; returns the offset just past them. `at` is
/// the offset reported when `pending` alone cannot fit (the enclosing container's header).
///
/// Iterative: a container adds its elements to `pending`. Each pending value needs at least one byte,
/// so `pending` never exceeds the bytes left, which makes garbled counts fail fast and keeps the
/// arithmetic far from overflow.
#[inline]
fn skip_values(data: &[u8], mut pos: usize, mut pending: usize, at: usize) -> Result<usize, DecodeError> {
    if pending > data.len().saturating_sub(pos) {
        return Err(truncated(at));
    }
    while pending > 0 {
        pending -= 1;
        let start = pos;
        let Some(&b) = data.get(pos) else {
            return Err(truncated(pos));
        };
        // Fast paths for the common one-byte headers; everything else goes through read_head.
        pos = match b {
            0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => pos + 1,
            0xa0..=0xbf => payload_end(data, start, pos + 1, u32::from(b & 0x1f))?,
            0x90..=0x9f => {
                pending = add_pending(data, start, pos + 1, pending, usize::from(b & 0x0f))?;
                pos + 1
            }
            0x80..=0x8f => {
                pending = add_pending(data, start, pos + 1, pending, usize::from(b & 0x0f) * 2)?;
                pos + 1
            }
            _ => {
                let (head, p) = read_head(data, pos)?;
                match head {
                    Head::Str(n) | Head::Bin(n) | Head::Ext(_, n) => payload_end(data, start, p, n)?,
                    Head::Array(n) => {
                        pending = add_pending(data, start, p, pending, n as usize)?;
                        p
                    }
                    Head::Map(n) => {
                        pending = add_pending(data, start, p, pending, (n as usize).saturating_mul(2))?;
                        p
                    }
                    Head::Nil | Head::Bool(_) | Head::Int(_) | Head::UInt(_) | Head::F32(_) | Head::F64(_) => p,
                }
            }
        };
    }
    Ok(pos)
}

#[inline(always)]
fn add_pending(data: &[u8], start: usize, p: usize, pending: usize, more: usize) -> Result<usize, DecodeError> {
    let total = pending.saturating_add(more);
    if total > data.len().saturating_sub(p) {
        Err(truncated(start))
    } else {
        Ok(total)
    }
}

/// Returns the offset just past the msgpack value starting at `data[pos]`, checking that it and
/// everything nested in it is well formed. Iterative (no recursion, whatever the nesting depth),
/// O(bytes), no allocation.
#[inline]
pub fn skip_value(data: &[u8], pos: usize) -> Result<usize, DecodeError> {
    skip_values(data, pos, 1, pos)
}

/// Decodes the value at `data[pos..]`, returning it and the offset just past it.
///
/// Scalars, strings, bins and exts are decoded directly (strings borrow from `data`). Containers are
/// lazy: their extent is found (and their contents checked) by an iterative skip, and their elements
/// are decoded on demand by [`Array::iter`], [`Map::iter`] and [`Map::get`].
#[inline(always)]
pub fn decode_value(data: &[u8], pos: usize) -> Result<(Value<'_>, usize), DecodeError> {
    // Fast paths for the most common values: short strings and small integers.
    match data.get(pos) {
        Some(&b @ 0xa0..=0xbf) => {
            let end = pos + 1 + usize::from(b & 0x1f);
            match data.get(pos + 1..end) {
                Some(s) => Ok((Value::Str(s), end)),
                None => Err(truncated(pos)),
            }
        }
        Some(&b @ 0x00..=0x7f) => Ok((Value::Int(i64::from(b)), pos + 1)),
        _ => decode_value_general(data, pos),
    }
}

/// [`decode_value`] for every marker.
#[inline]
fn decode_value_general(data: &[u8], pos: usize) -> Result<(Value<'_>, usize), DecodeError> {
    let (head, p) = read_head(data, pos)?;
    let r = match head {
        Head::Nil => (Value::Nil, p),
        Head::Bool(b) => (Value::Bool(b), p),
        Head::Int(i) => (Value::Int(i), p),
        Head::UInt(u) => (Value::UInt(u), p),
        Head::F32(f) => (Value::F32(f), p),
        Head::F64(f) => (Value::F64(f), p),
        Head::Str(n) => {
            let end = payload_end(data, pos, p, n)?;
            (Value::Str(slice(data, p, end, pos)?), end)
        }
        Head::Bin(n) => {
            let end = payload_end(data, pos, p, n)?;
            (Value::Bin(slice(data, p, end, pos)?), end)
        }
        Head::Ext(t, n) => {
            let end = payload_end(data, pos, p, n)?;
            (Value::Ext(t, slice(data, p, end, pos)?), end)
        }
        Head::Array(n) => {
            let end = skip_values(data, p, n as usize, pos)?;
            let raw = slice(data, pos, end, pos)?;
            (Value::Array(Array { raw, len: n, hdr: (p - pos) as u8 }), end)
        }
        Head::Map(n) => {
            let end = skip_values(data, p, (n as usize).saturating_mul(2), pos)?;
            let raw = slice(data, pos, end, pos)?;
            (Value::Map(Map { raw, len: n, hdr: (p - pos) as u8 }), end)
        }
    };
    Ok(r)
}

#[inline(always)]
fn slice(data: &[u8], from: usize, to: usize, start: usize) -> Result<&[u8], DecodeError> {
    data.get(from..to).ok_or_else(|| truncated(start))
}

/// Decodes a record time at `pos`: ext type 0 with 8 bytes, an integer, or a finite float.
#[inline]
fn decode_time(data: &[u8], pos: usize) -> Result<(EventTime, usize), DecodeError> {
    let (head, p) = read_head(data, pos)?;
    let bad = || DecodeError::new(pos, DecodeErrorKind::BadTime);
    let r = match head {
        Head::Ext(0, 8) => (EventTime::from_ext_payload(take::<8>(data, p, pos)?), p + 8),
        Head::Int(s) => (EventTime::new(s, 0), p),
        Head::F64(f) if f.is_finite() => (EventTime::from_f64(f), p),
        Head::F32(f) if f.is_finite() => (EventTime::from_f64(f64::from(f)), p),
        _ => return Err(bad()),
    };
    Ok(r)
}

/// One log record of a chunk.
#[derive(Clone, Copy, Debug)]
pub struct Event<'a> {
    /// The record's timestamp; check [`EventTime::kind`] for group markers.
    pub time: EventTime,
    /// The metadata (normally a map), or `None` for a legacy-form record.
    pub metadata: Option<Value<'a>>,
    /// The record body (normally a map).
    pub body: Value<'a>,
    /// The whole encoded record.
    pub raw: &'a [u8],
    /// Which form the record was encoded in.
    pub form: RecordForm,
}

/// Decodes the record at `start`; returns it and the offset just past it.
#[inline]
fn decode_event(data: &[u8], start: usize) -> Result<(Event<'_>, usize), DecodeError> {
    let not_a_record = |at| DecodeError::new(at, DecodeErrorKind::NotARecord);
    let (head, p) = read_head(data, start)?;
    if !matches!(head, Head::Array(2)) {
        return Err(not_a_record(start));
    }
    let (first, p1) = read_head(data, p)?;
    let (time, metadata, form, after_first) = match first {
        Head::Array(2) => {
            let (time, p2) = decode_time(data, p1)?;
            let (meta, p3) = decode_value(data, p2)?;
            (time, Some(meta), RecordForm::Modern, p3)
        }
        Head::Ext(..) | Head::Int(_) | Head::UInt(_) | Head::F32(_) | Head::F64(_) => {
            let (time, p2) = decode_time(data, p)?;
            (time, None, RecordForm::Legacy, p2)
        }
        _ => return Err(not_a_record(p)),
    };
    let (body, end) = decode_value(data, after_first)?;
    let raw = slice(data, start, end, start)?;
    Ok((Event { time, metadata, body, raw, form }, end))
}

/// Iterates over the records of a chunk (concatenated `[time, body]` / `[[time, metadata], body]`
/// records, both forms possibly mixed). Each record is checked to be well formed before it is
/// yielded. After an error the iterator yields `None`.
#[derive(Clone, Debug)]
pub struct EventReader<'a> {
    data: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> EventReader<'a> {
    /// A reader over a whole chunk.
    #[inline]
    pub fn new(data: &'a [u8]) -> Self {
        EventReader { data, pos: 0, failed: false }
    }

    /// Offset of the next record (after an error: of the record that failed).
    #[inline]
    pub fn offset(&self) -> usize {
        self.pos
    }
}

impl<'a> Iterator for EventReader<'a> {
    type Item = Result<Event<'a>, DecodeError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.data.len() {
            return None;
        }
        match decode_event(self.data, self.pos) {
            Ok((ev, end)) => {
                self.pos = end;
                Some(Ok(ev))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

impl core::iter::FusedIterator for EventReader<'_> {}

/// Checks a whole chunk: every record has a valid shape and time, and every nested value is well
/// formed (iteratively, whatever the depth). Returns the number of records.
pub fn validate_chunk(data: &[u8]) -> Result<usize, DecodeError> {
    let mut pos = 0;
    let mut n = 0;
    while pos < data.len() {
        let (_, end) = decode_event(data, pos)?;
        pos = end;
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(b: &[u8]) -> Value<'_> {
        let (v, end) = decode_value(b, 0).unwrap();
        assert_eq!(end, b.len(), "{b:x?}");
        v
    }

    #[test]
    fn scalars() {
        assert!(dec(&[0xc0]).is_nil());
        assert_eq!(dec(&[0xc3]).as_bool(), Some(true));
        assert_eq!(dec(&[0xc2]).as_bool(), Some(false));
        assert_eq!(dec(&[0x7f]).as_i64(), Some(127));
        assert_eq!(dec(&[0xe0]).as_i64(), Some(-32));
        assert_eq!(dec(&[0xcc, 0xff]).as_i64(), Some(255));
        assert_eq!(dec(&[0xcd, 0xff, 0xfe]).as_i64(), Some(65534));
        assert_eq!(dec(&[0xce, 0xff, 0xff, 0xff, 0xff]).as_i64(), Some(0xffff_ffff));
        assert_eq!(dec(&[0xcf, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).as_i64(), Some(i64::MAX));
        assert!(matches!(dec(&[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), Value::UInt(u64::MAX)));
        assert_eq!(dec(&[0xd0, 0x80]).as_i64(), Some(-128));
        assert_eq!(dec(&[0xd1, 0x80, 0x00]).as_i64(), Some(-32768));
        assert_eq!(dec(&[0xd2, 0x80, 0, 0, 0]).as_i64(), Some(i64::from(i32::MIN)));
        assert_eq!(dec(&[0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0]).as_i64(), Some(i64::MIN));
        assert!(matches!(dec(&[0xca, 0x3f, 0x80, 0, 0]), Value::F32(f) if f == 1.0));
        assert!(matches!(dec(&[0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]), Value::F64(f) if f == 1.0));
        assert_eq!(dec(&[0xa2, b'h', b'i']).as_str(), Some("hi"));
        assert_eq!(dec(&[0xa2, 0xff, 0xfe]).as_str(), None);
        assert_eq!(dec(&[0xa2, 0xff, 0xfe]).as_bytes(), Some(&[0xff, 0xfe][..]));
        assert_eq!(dec(&[0xd9, 1, b'x']).as_str(), Some("x"));
        assert!(matches!(dec(&[0xc4, 2, 1, 2]), Value::Bin(&[1, 2])));
        assert!(matches!(dec(&[0xd4, 5, 9]), Value::Ext(5, &[9])));
        assert!(matches!(dec(&[0xc7, 1, 0xfb, 9]), Value::Ext(-5, &[9])));
        assert!(matches!(dec(&[0xc9, 0, 0, 0, 0, 3]), Value::Ext(3, &[])));
    }

    #[test]
    fn containers() {
        // {"a": [1, {"b": nil}], "c": "d"}
        let b = [0x82, 0xa1, b'a', 0x92, 0x01, 0x81, 0xa1, b'b', 0xc0, 0xa1, b'c', 0xa1, b'd'];
        let m = dec(&b).as_map().unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m.raw(), &b[..]);
        assert_eq!(m.get(b"c").unwrap().unwrap().as_str(), Some("d"));
        assert!(m.get(b"zz").unwrap().is_none());
        let a = m.get(b"a").unwrap().unwrap().as_array().unwrap();
        assert_eq!(a.len(), 2);
        let items: Vec<_> = a.iter().map(|r| r.unwrap()).collect();
        assert_eq!(items[0].as_i64(), Some(1));
        let inner = items[1].as_map().unwrap();
        assert!(inner.get(b"b").unwrap().unwrap().is_nil());
        let keys: Vec<_> = m.iter().map(|r| r.unwrap().0.as_str().unwrap()).collect();
        assert_eq!(keys, ["a", "c"]);
        // array16 / map16 headers
        let b = [0xdc, 0, 2, 0xc0, 0xc3];
        let a = dec(&b).as_array().unwrap();
        assert_eq!(a.iter().count(), 2);
        let b = [0xdf, 0, 0, 0, 1, 0xa1, b'k', 0x05];
        assert_eq!(dec(&b).as_map().unwrap().get(b"k").unwrap().unwrap().as_i64(), Some(5));
    }

    #[test]
    fn errors() {
        let e = decode_value(&[0xc1], 0).unwrap_err();
        assert_eq!(e, DecodeError { offset: 0, kind: DecodeErrorKind::ReservedMarker });
        assert_eq!(decode_value(&[], 0).unwrap_err().kind, DecodeErrorKind::Truncated);
        assert_eq!(decode_value(&[0xc0], 5).unwrap_err().kind, DecodeErrorKind::Truncated);
        assert_eq!(decode_value(&[0xcd, 1], 0).unwrap_err().kind, DecodeErrorKind::Truncated);
        // 4 GB string in a 10-byte buffer.
        let b = [0xdb, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0];
        assert_eq!(decode_value(&b, 0).unwrap_err().kind, DecodeErrorKind::Truncated);
        assert_eq!(skip_value(&b, 0).unwrap_err().kind, DecodeErrorKind::Truncated);
        // A huge count fails at the header.
        let b = [0x90, 0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0];
        assert_eq!(decode_value(&b, 1).unwrap_err(), DecodeError { offset: 1, kind: DecodeErrorKind::Truncated });
        assert_eq!(skip_value(&b, 1).unwrap_err(), DecodeError { offset: 1, kind: DecodeErrorKind::Truncated });
        // Map count is doubled: a 1-pair map with 1 byte after it cannot fit.
        assert_eq!(decode_value(&[0x81, 0xc0], 0).unwrap_err().kind, DecodeErrorKind::Truncated);
        // Error offsets point at the offending nested value.
        let b = [0x92, 0xc0, 0xa5, b'x'];
        assert_eq!(skip_value(&b, 0).unwrap_err(), DecodeError { offset: 2, kind: DecodeErrorKind::Truncated });
        let b = [0x00, 0x92, 0xc0, 0xc1];
        assert_eq!(skip_value(&b, 1).unwrap_err(), DecodeError { offset: 3, kind: DecodeErrorKind::ReservedMarker });
        assert_eq!(format!("{}", truncated(17)), "truncated msgpack at byte 17");
    }

    #[test]
    fn values_stay_small() {
        assert!(core::mem::size_of::<Value<'_>>() <= 32);
        assert!(core::mem::size_of::<DecodeError>() <= 16);
    }

    #[test]
    fn deep_nesting_is_iterative() {
        let mut b = vec![0x91u8; 200_000];
        b.push(0xc0);
        assert_eq!(skip_value(&b, 0).unwrap(), b.len());
        let a = dec(&b).as_array().unwrap();
        let inner = a.iter().next().unwrap().unwrap().as_array().unwrap();
        assert_eq!(inner.raw().len(), b.len() - 1);
    }

    #[test]
    fn events() {
        let t = EventTime::new(1_700_000_000, 5).to_ext_bytes();
        let mut chunk = vec![0x92, 0x92];
        chunk.extend_from_slice(&t);
        chunk.extend_from_slice(&[0x80, 0x81, 0xa1, b'k', 0xa1, b'v']);
        let modern_end = chunk.len();
        chunk.push(0x92);
        chunk.extend_from_slice(&t);
        chunk.extend_from_slice(&[0x81, 0xa1, b'k', 0x07]);
        // int and float times
        chunk.extend_from_slice(&[0x92, 0x2a, 0x80]);
        chunk.extend_from_slice(&[0x92, 0x92, 0xff, 0xc0, 0x80]);
        chunk.extend_from_slice(&[0x92, 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0x80]);
        let evs: Vec<_> = EventReader::new(&chunk).map(|r| r.unwrap()).collect();
        assert_eq!(evs.len(), 5);
        assert_eq!(evs[0].form, RecordForm::Modern);
        assert_eq!(evs[0].time, EventTime::new(1_700_000_000, 5));
        assert_eq!(evs[0].raw, &chunk[..modern_end]);
        assert_eq!(evs[0].metadata.unwrap().as_map().unwrap().len(), 0);
        assert_eq!(evs[0].body.as_map().unwrap().get(b"k").unwrap().unwrap().as_str(), Some("v"));
        assert_eq!(evs[1].form, RecordForm::Legacy);
        assert!(evs[1].metadata.is_none());
        assert_eq!(evs[2].time, EventTime::new(42, 0));
        assert_eq!(evs[3].time, EventTime::GROUP_START);
        assert!(evs[3].metadata.unwrap().is_nil());
        assert_eq!(evs[4].time, EventTime::new(1, 500_000_000));
        assert_eq!(validate_chunk(&chunk), Ok(5));
    }

    #[test]
    fn bad_records() {
        let kind = |b: &[u8]| validate_chunk(b).unwrap_err().kind;
        assert_eq!(kind(&[0x93, 0, 0x80, 0x80]), DecodeErrorKind::NotARecord);
        assert_eq!(kind(&[0x80]), DecodeErrorKind::NotARecord);
        assert_eq!(kind(&[0x92, 0xa1, b'x', 0x80]), DecodeErrorKind::NotARecord);
        assert_eq!(kind(&[0x92, 0x93, 0, 0, 0, 0x80]), DecodeErrorKind::NotARecord);
        assert_eq!(kind(&[0x92, 0x92, 0xa0, 0x80, 0x80]), DecodeErrorKind::BadTime);
        assert_eq!(kind(&[0x92, 0xd4, 0x00, 0x00, 0x80]), DecodeErrorKind::BadTime);
        assert_eq!(kind(&[0x92, 0xd7, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0x80]), DecodeErrorKind::BadTime);
        assert_eq!(kind(&[0x92, 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x80]), DecodeErrorKind::BadTime);
        assert_eq!(kind(&[0x92, 0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0, 0x80]), DecodeErrorKind::BadTime);
        assert_eq!(kind(&[0x92, 0x01]), DecodeErrorKind::Truncated);
        // A good record followed by a bad one: one Ok, one Err, then None.
        let b = [0x92, 0x01, 0x80, 0x92, 0x01];
        let mut r = EventReader::new(&b);
        assert!(r.next().unwrap().is_ok());
        assert_eq!(r.offset(), 3);
        assert_eq!(r.next().unwrap().unwrap_err(), DecodeError { offset: 5, kind: DecodeErrorKind::Truncated });
        assert!(r.next().is_none());
        assert_eq!(r.offset(), 3);
    }
}
