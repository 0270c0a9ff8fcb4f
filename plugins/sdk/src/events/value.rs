//! Decoded msgpack values: scalars, strings, bins and exts directly, arrays and maps as lazy views
//! over their bytes.
//!
//! Nothing here recurses, allocates, or panics on malformed input: output flushes run on a 64 KiB
//! coroutine stack and chunks come from outside. Finding a container's extent is an iterative skip
//! that keeps a counter of pending items (an array of `n` adds `n`, a map of `n` adds `2n`), so
//! arbitrarily deep nesting costs no stack.
//!
//! What each step costs is in the cost model of the [`events`](super) module doc.

use super::cursor::Cursor;
use super::error::{truncated, DecodeError};
use super::wire::{payload_end, read_head, skip_values, slice, Head};

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
/// formed). Iterate with [`Array::iter`], or walk the elements token by token with
/// [`Array::cursor`].
///
/// Because its bytes were checked when the enclosing value was decoded, iterating it does not fail
/// in practice; the iterators still return `Result` rather than trusting that. Offsets in errors
/// from a container's iterators or [`Map::get`] are relative to its [`raw`](Array::raw) bytes.
#[derive(Clone, Copy, Debug)]
pub struct Array<'a> {
    /// Starts at the array's header. When `exact` it is the whole encoded array; otherwise it runs
    /// on past the array to the end of the checked bytes that hold it, and the array's end is found
    /// only when asked for. Either way the bytes after the header hold `len` well-formed values.
    buf: &'a [u8],
    /// Element count.
    len: u32,
    /// Header length in bytes (1, 3 or 5).
    hdr: u8,
    exact: bool,
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

    /// The whole encoded array, header included. O(1) for an array from [`decode_value`] or an
    /// [`Event`](super::Event); for one nested in another container, each call skips its bytes.
    #[inline]
    pub fn raw(&self) -> &'a [u8] {
        extent(self.buf, self.hdr, self.len as usize, self.exact)
    }

    /// The elements, in order.
    #[inline]
    pub fn iter(&self) -> ArrayIter<'a> {
        ArrayIter { buf: self.buf, pos: usize::from(self.hdr), remaining: self.len, skip: 0 }
    }

    /// A cursor at the first element (or, for an empty array, just past the header). Its buffer
    /// starts at the array's header, so its offsets are relative to [`raw`](Array::raw); it may run
    /// on past the array's end, so read [`len`](Array::len) values and stop.
    #[inline]
    pub fn cursor(&self) -> Cursor<'a> {
        Cursor::at(self.buf, usize::from(self.hdr))
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
    buf: &'a [u8],
    pos: usize,
    remaining: u32,
    /// Items at `pos` to skip before the next element: those of the container yielded last, whose
    /// end was not looked for (the caller may never need it).
    skip: usize,
}

impl<'a> ArrayIter<'a> {
    #[inline(always)]
    fn step(&mut self) -> Result<Value<'a>, DecodeError> {
        if self.skip > 0 {
            self.pos = skip_values(self.buf, self.pos, self.skip, self.pos)?;
            self.skip = 0;
        }
        let (v, next) = decode_lazy(self.buf, self.pos)?;
        self.pos = next;
        self.skip = items(&v);
        Ok(v)
    }
}

impl<'a> Iterator for ArrayIter<'a> {
    type Item = Result<Value<'a>, DecodeError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        let r = self.step();
        self.remaining = if r.is_ok() { self.remaining - 1 } else { 0 };
        Some(r)
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.remaining as usize))
    }
}

impl core::iter::FusedIterator for ArrayIter<'_> {}

/// A lazily decoded msgpack map: its pair count and its bytes (already checked to be well formed).
/// Iterate with [`Map::iter`], look up string keys with [`Map::get`], walk it token by token with
/// [`Map::cursor`]. As for [`Array`], errors are not expected from these, and their offsets are
/// relative to [`raw`](Map::raw).
#[derive(Clone, Copy, Debug)]
pub struct Map<'a> {
    /// As [`Array::buf`]: from the header to the map's end (`exact`) or beyond; `2 * len`
    /// well-formed values follow the header.
    buf: &'a [u8],
    /// Number of key/value pairs.
    len: u32,
    /// Header length in bytes (1, 3 or 5).
    hdr: u8,
    exact: bool,
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

    /// The whole encoded map, header included. O(1) for a map from [`decode_value`] or an
    /// [`Event`](super::Event); for one nested in another container, each call skips its bytes.
    #[inline]
    pub fn raw(&self) -> &'a [u8] {
        extent(self.buf, self.hdr, (self.len as usize).saturating_mul(2), self.exact)
    }

    /// The key/value pairs, in encoded order.
    #[inline]
    pub fn iter(&self) -> MapIter<'a> {
        MapIter { buf: self.buf, pos: usize::from(self.hdr), remaining: self.len, skip: 0 }
    }

    /// A cursor at the first key (or, for an empty map, just past the header). Its buffer starts at
    /// the map's header, so its offsets are relative to [`raw`](Map::raw); it may run on past the
    /// map's end, so read `2 * len` values and stop.
    #[inline]
    pub fn cursor(&self) -> Cursor<'a> {
        Cursor::at(self.buf, usize::from(self.hdr))
    }

    /// The value of the first pair whose key is a string equal to `key` (byte comparison; bin keys
    /// never match). A linear scan: O(bytes of the pairs before the match); the value found is not
    /// skipped.
    pub fn get(&self, key: &[u8]) -> Result<Option<Value<'a>>, DecodeError> {
        let buf = self.buf;
        let mut pos = usize::from(self.hdr);
        for _ in 0..self.len {
            let (k, after_key) = decode_lazy(buf, pos)?;
            let after_key = skip_items(buf, after_key, &k)?;
            if matches!(k, Value::Str(s) if s == key) {
                return decode_lazy(buf, after_key).map(|(v, _)| Some(v));
            }
            pos = skip_values(buf, after_key, 1, after_key)?;
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
    buf: &'a [u8],
    pos: usize,
    remaining: u32,
    /// As [`ArrayIter::skip`], for the value yielded last.
    skip: usize,
}

impl<'a> MapIter<'a> {
    #[inline(always)]
    fn step(&mut self) -> Result<(Value<'a>, Value<'a>), DecodeError> {
        if self.skip > 0 {
            self.pos = skip_values(self.buf, self.pos, self.skip, self.pos)?;
            self.skip = 0;
        }
        let (k, p) = decode_lazy(self.buf, self.pos)?;
        // A container key has to be skipped now: the value starts after it.
        let p = skip_items(self.buf, p, &k)?;
        let (v, p) = decode_lazy(self.buf, p)?;
        self.pos = p;
        self.skip = items(&v);
        Ok((k, v))
    }
}

impl<'a> Iterator for MapIter<'a> {
    type Item = Result<(Value<'a>, Value<'a>), DecodeError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        let r = self.step();
        self.remaining = if r.is_ok() { self.remaining - 1 } else { 0 };
        Some(r)
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.remaining as usize))
    }
}

impl core::iter::FusedIterator for MapIter<'_> {}

/// How many values follow the header of a lazily decoded container (0 for anything else).
#[inline(always)]
fn items(v: &Value<'_>) -> usize {
    match v {
        Value::Array(a) => a.len as usize,
        Value::Map(m) => (m.len as usize).saturating_mul(2),
        _ => 0,
    }
}

/// `p` past the items of `v` when it is a lazily decoded container (whose header ends at `p`).
#[inline(always)]
fn skip_items(buf: &[u8], p: usize, v: &Value<'_>) -> Result<usize, DecodeError> {
    match items(v) {
        0 => Ok(p),
        n => skip_values(buf, p, n, p),
    }
}

/// The bytes of a container whose `items` values follow a `hdr`-byte header at the start of `buf`.
#[inline]
fn extent(buf: &[u8], hdr: u8, items: usize, exact: bool) -> &[u8] {
    if exact {
        return buf;
    }
    match skip_values(buf, usize::from(hdr), items, 0) {
        Ok(end) => buf.get(..end).unwrap_or(buf),
        // Not reached: the container's bytes were checked when it was first decoded. The longer
        // buffer is a safe answer that keeps this infallible.
        Err(_) => {
            debug_assert!(false, "lazy container over unchecked bytes");
            buf
        }
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
/// lazy: their extent is found (and their contents checked, once) by an iterative skip, and their
/// elements are decoded on demand by [`Array::iter`], [`Map::iter`] and [`Map::get`] without being
/// checked again.
#[inline(always)]
pub fn decode_value(data: &[u8], pos: usize) -> Result<(Value<'_>, usize), DecodeError> {
    // Fast paths for the most common values: short strings and small integers.
    match data.get(pos) {
        Some(&b @ 0xa0..=0xbf) => fixstr(data, pos, b),
        Some(&b @ 0x00..=0x7f) => Ok((Value::Int(i64::from(b)), pos + 1)),
        _ => decode_value_general(data, pos),
    }
}

#[inline(always)]
fn fixstr(data: &[u8], pos: usize, b: u8) -> Result<(Value<'_>, usize), DecodeError> {
    let end = pos + 1 + usize::from(b & 0x1f);
    match data.get(pos + 1..end) {
        Some(s) => Ok((Value::Str(s), end)),
        None => Err(truncated(pos)),
    }
}

/// [`decode_value`] for every marker.
#[inline]
fn decode_value_general(data: &[u8], pos: usize) -> Result<(Value<'_>, usize), DecodeError> {
    let (head, p) = read_head(data, pos)?;
    match head {
        Head::Array(n) => {
            let end = skip_values(data, p, n as usize, pos)?;
            let buf = slice(data, pos, end, pos)?;
            Ok((Value::Array(Array { buf, len: n, hdr: (p - pos) as u8, exact: true }), end))
        }
        Head::Map(n) => {
            let end = skip_values(data, p, (n as usize).saturating_mul(2), pos)?;
            let buf = slice(data, pos, end, pos)?;
            Ok((Value::Map(Map { buf, len: n, hdr: (p - pos) as u8, exact: true }), end))
        }
        _ => leaf(data, pos, head, p),
    }
}

/// Decodes the value at `buf[pos..]` of bytes already checked to be well formed. For a container
/// only the header is read: the returned offset is the end of its header, and its items still
/// follow there ([`items`] says how many).
#[inline(always)]
pub(crate) fn decode_lazy(buf: &[u8], pos: usize) -> Result<(Value<'_>, usize), DecodeError> {
    match buf.get(pos) {
        Some(&b @ 0xa0..=0xbf) => fixstr(buf, pos, b),
        Some(&b @ 0x00..=0x7f) => Ok((Value::Int(i64::from(b)), pos + 1)),
        _ => decode_lazy_general(buf, pos),
    }
}

#[inline]
fn decode_lazy_general(buf: &[u8], pos: usize) -> Result<(Value<'_>, usize), DecodeError> {
    let (head, p) = read_head(buf, pos)?;
    let hdr = (p - pos) as u8;
    match head {
        Head::Array(len) => {
            let buf = slice(buf, pos, buf.len(), pos)?;
            Ok((Value::Array(Array { buf, len, hdr, exact: false }), p))
        }
        Head::Map(len) => {
            let buf = slice(buf, pos, buf.len(), pos)?;
            Ok((Value::Map(Map { buf, len, hdr, exact: false }), p))
        }
        _ => leaf(buf, pos, head, p),
    }
}

/// A value that is not a container, from its header (`head`, ending at `p`).
#[inline(always)]
fn leaf(data: &[u8], pos: usize, head: Head, p: usize) -> Result<(Value<'_>, usize), DecodeError> {
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
        // Callers decode containers themselves; reaching here means a header with no items.
        Head::Array(_) | Head::Map(_) => return Err(truncated(pos)),
    };
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::super::DecodeErrorKind;
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
        // Miri interprets every step: a shorter chain keeps its run short; the native run proves the depth.
        let mut b = vec![0x91u8; if cfg!(miri) { 2_000 } else { 200_000 }];
        b.push(0xc0);
        assert_eq!(skip_value(&b, 0).unwrap(), b.len());
        let a = dec(&b).as_array().unwrap();
        let inner = a.iter().next().unwrap().unwrap().as_array().unwrap();
        assert_eq!(inner.raw().len(), b.len() - 1);
    }

    #[test]
    fn nested_containers_are_lazy_and_still_exact() {
        // {"a": [1, {"b": nil}, "x"], [1]: {"c": [2]}, "d": "e"}
        let b = [
            0x83, 0xa1, b'a', 0x93, 0x01, 0x81, 0xa1, b'b', 0xc0, 0xa1, b'x', 0x91, 0x01, 0x81, 0xa1, b'c', 0x91, 0x02,
            0xa1, b'd', 0xa1, b'e',
        ];
        let m = dec(&b).as_map().unwrap();
        assert!(m.exact);
        let a = m.get(b"a").unwrap().unwrap().as_array().unwrap();
        // Found by `get`: only its header was read, and its buffer runs to the end of the map.
        assert!(!a.exact);
        assert_eq!(a.buf, &b[3..]);
        assert_eq!(a.raw(), &b[3..11]);
        let items: Vec<_> = a.iter().map(|r| r.unwrap()).collect();
        assert_eq!(items.len(), 3);
        let inner = items[1].as_map().unwrap();
        assert_eq!(inner.raw(), &b[5..9]);
        assert!(inner.get(b"b").unwrap().unwrap().is_nil());
        // The iterator skipped the inner map to reach "x".
        assert_eq!(items[2].as_str(), Some("x"));
        // A container key is skipped to reach its value.
        assert_eq!(m.get(b"d").unwrap().unwrap().as_str(), Some("e"));
        let pairs: Vec<_> = m.iter().map(|r| r.unwrap()).collect();
        assert_eq!(pairs[1].0.as_array().unwrap().raw(), &b[11..13]);
        assert_eq!(pairs[1].1.as_map().unwrap().raw(), &b[13..18]);
        assert_eq!(pairs[2].1.as_str(), Some("e"));
        // An iterator stopped early never looked for the end of what it yielded last.
        let mut it = m.iter();
        let (_, v) = it.next().unwrap().unwrap();
        assert_eq!(it.skip, 3);
        assert_eq!(v.as_array().unwrap().len(), 3);
    }
}
