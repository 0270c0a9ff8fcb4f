//! A forward-only msgpack reader that yields one token at a time: a scalar, a string/bin/ext with its
//! payload, or only the header of an array or map (its elements are the tokens that follow).
//!
//! This is the way to walk a whole value once, in order, whatever its depth: the cursor keeps no
//! stack (the caller keeps whatever it needs, e.g. counts of open containers), each token costs
//! O(1) plus its payload, and nothing is skipped twice. Each token is checked as it is read: every
//! length and element count against the bytes that remain, so a header claiming 4 GB fails at once
//! as [`Truncated`](DecodeErrorKind::Truncated). No recursion, no allocation, no panic on any input.

use super::error::{truncated, DecodeError};
use super::value::{decode_value, Value};
use super::wire::{add_pending, payload_end, read_head, skip_values, slice, Head};
#[cfg(doc)]
use super::DecodeErrorKind;

/// One msgpack token: a whole scalar, string, bin or ext, or the header of a container.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Token<'a> {
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
    /// A string's raw bytes (msgpack does not guarantee UTF-8).
    Str(&'a [u8]),
    /// Binary data.
    Bin(&'a [u8]),
    /// An extension value: type and data.
    Ext(i8, &'a [u8]),
    /// An array of this many elements; they are the values that follow.
    ArrayHeader(u32),
    /// A map of this many pairs; the `2 * n` values that follow are key, value, key, value...
    MapHeader(u32),
}

/// Reads msgpack tokens from a buffer, front to back. `Copy`: save one to come back to a position
/// (that is all [`Cursor::peek_token`] does).
///
/// On error the cursor does not move, and the error's offset is in [`data`](Cursor::data)'s
/// coordinates (the start of the offending value, or the end of the input when a value is missing).
///
/// ```
/// use flb_plugin_sdk::events::{Cursor, Token};
/// // {"a": [1, nil]}
/// let b = [0x81, 0xa1, b'a', 0x92, 0x01, 0xc0];
/// let mut c = Cursor::new(&b);
/// assert_eq!(c.next_token(), Ok(Token::MapHeader(1)));
/// assert_eq!(c.read_str(), Ok(Some(&b"a"[..])));
/// assert_eq!(c.next_token(), Ok(Token::ArrayHeader(2)));
/// assert_eq!(c.next_token(), Ok(Token::Int(1)));
/// assert_eq!(c.next_token(), Ok(Token::Nil));
/// assert!(c.is_at_end());
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `data`.
    #[inline]
    pub fn new(data: &'a [u8]) -> Self {
        Cursor { data, pos: 0 }
    }

    /// A cursor at `data[pos]`. A `pos` past the end is allowed: the cursor is then at its end.
    #[inline]
    pub fn at(data: &'a [u8], pos: usize) -> Self {
        Cursor { data, pos }
    }

    /// The whole buffer the cursor reads (not only what is left).
    #[inline]
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// Offset of the next token in [`data`](Cursor::data).
    #[inline]
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// True when no byte is left to read.
    #[inline]
    pub fn is_at_end(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// Reads the next token and moves past it. For an array or map only the header is consumed.
    #[inline]
    pub fn next_token(&mut self) -> Result<Token<'a>, DecodeError> {
        let (t, end) = token_at(self.data, self.pos)?;
        self.pos = end;
        Ok(t)
    }

    /// The next token, without moving.
    #[inline]
    pub fn peek_token(&self) -> Result<Token<'a>, DecodeError> {
        token_at(self.data, self.pos).map(|(t, _)| t)
    }

    /// Moves past the next value, containers with everything in them, checking all of it.
    /// Iterative, O(bytes of the value).
    #[inline]
    pub fn skip_value(&mut self) -> Result<(), DecodeError> {
        let (data, pos) = (self.data, self.pos);
        // The one-byte scalars and short strings inline; anything else takes the general skip.
        self.pos = match data.get(pos) {
            Some(0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3) => pos + 1,
            Some(&b @ 0xa0..=0xbf) => payload_end(data, pos, pos + 1, u32::from(b & 0x1f))?,
            _ => skip_values(data, pos, 1, pos)?,
        };
        Ok(())
    }

    /// When the next value is a string, moves past it and returns its bytes; when it is anything
    /// else (well formed), returns `None` without moving.
    #[inline]
    pub fn read_str(&mut self) -> Result<Option<&'a [u8]>, DecodeError> {
        let (data, pos) = (self.data, self.pos);
        if let Some(&b @ 0xa0..=0xbf) = data.get(pos) {
            let end = payload_end(data, pos, pos + 1, u32::from(b & 0x1f))?;
            self.pos = end;
            return slice(data, pos + 1, end, pos).map(Some);
        }
        match token_at(data, pos)? {
            (Token::Str(s), end) => {
                self.pos = end;
                Ok(Some(s))
            }
            _ => Ok(None),
        }
    }

    /// When the next value is a bin, moves past it and returns its bytes; when it is anything else
    /// (well formed), returns `None` without moving.
    #[inline]
    pub fn read_bin(&mut self) -> Result<Option<&'a [u8]>, DecodeError> {
        match token_at(self.data, self.pos)? {
            (Token::Bin(b), end) => {
                self.pos = end;
                Ok(Some(b))
            }
            _ => Ok(None),
        }
    }

    /// Decodes the next value as [`decode_value`] does (a container is checked whole and becomes a
    /// lazy [`Value`]) and moves past it: O(bytes of the value).
    #[inline]
    pub fn read_value(&mut self) -> Result<Value<'a>, DecodeError> {
        let (v, end) = decode_value(self.data, self.pos)?;
        self.pos = end;
        Ok(v)
    }
}

/// The token at `data[pos]` and the offset after it (after the header only, for containers).
#[inline(always)]
fn token_at(data: &[u8], pos: usize) -> Result<(Token<'_>, usize), DecodeError> {
    // Fast paths for the most common headers: short strings, small integers, small containers.
    // `pos < data.len()` in each arm, so `pos + 1 + 31` cannot overflow.
    match data.get(pos) {
        Some(&b @ 0xa0..=0xbf) => {
            let end = pos + 1 + usize::from(b & 0x1f);
            match data.get(pos + 1..end) {
                Some(s) => Ok((Token::Str(s), end)),
                None => Err(truncated(pos)),
            }
        }
        Some(&b @ 0x00..=0x7f) => Ok((Token::Int(i64::from(b)), pos + 1)),
        Some(&b @ 0x80..=0x8f) => {
            let n = b & 0x0f;
            add_pending(data, pos, pos + 1, 0, usize::from(n) * 2)?;
            Ok((Token::MapHeader(u32::from(n)), pos + 1))
        }
        Some(&b @ 0x90..=0x9f) => {
            let n = b & 0x0f;
            add_pending(data, pos, pos + 1, 0, usize::from(n))?;
            Ok((Token::ArrayHeader(u32::from(n)), pos + 1))
        }
        _ => token_general(data, pos),
    }
}

/// [`token_at`] for every marker.
#[inline]
fn token_general(data: &[u8], pos: usize) -> Result<(Token<'_>, usize), DecodeError> {
    let (head, p) = read_head(data, pos)?;
    let r = match head {
        Head::Nil => (Token::Nil, p),
        Head::Bool(b) => (Token::Bool(b), p),
        Head::Int(i) => (Token::Int(i), p),
        Head::UInt(u) => (Token::UInt(u), p),
        Head::F32(f) => (Token::F32(f), p),
        Head::F64(f) => (Token::F64(f), p),
        Head::Str(n) => {
            let end = payload_end(data, pos, p, n)?;
            (Token::Str(slice(data, p, end, pos)?), end)
        }
        Head::Bin(n) => {
            let end = payload_end(data, pos, p, n)?;
            (Token::Bin(slice(data, p, end, pos)?), end)
        }
        Head::Ext(t, n) => {
            let end = payload_end(data, pos, p, n)?;
            (Token::Ext(t, slice(data, p, end, pos)?), end)
        }
        Head::Array(n) => {
            add_pending(data, pos, p, 0, n as usize)?;
            (Token::ArrayHeader(n), p)
        }
        Head::Map(n) => {
            add_pending(data, pos, p, 0, (n as usize).saturating_mul(2))?;
            (Token::MapHeader(n), p)
        }
    };
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::super::{skip_value, DecodeErrorKind};
    use super::*;

    /// One encoding of every marker family (and every width), the token it reads as, and its length
    /// up to the end of the token (the header alone, for containers). Containers are followed by
    /// their elements, so the whole entry is one value.
    fn every_marker() -> Vec<(Vec<u8>, Token<'static>, usize)> {
        let mut v: Vec<(Vec<u8>, Token<'static>, usize)> = vec![
            (vec![0x00], Token::Int(0), 1),
            (vec![0x7f], Token::Int(127), 1),
            (vec![0xe0], Token::Int(-32), 1),
            (vec![0xff], Token::Int(-1), 1),
            (vec![0xc0], Token::Nil, 1),
            (vec![0xc2], Token::Bool(false), 1),
            (vec![0xc3], Token::Bool(true), 1),
            (vec![0xcc, 0xff], Token::Int(255), 2),
            (vec![0xcd, 0xff, 0xfe], Token::Int(65534), 3),
            (vec![0xce, 0xff, 0xff, 0xff, 0xff], Token::Int(0xffff_ffff), 5),
            (vec![0xcf, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], Token::Int(i64::MAX), 9),
            (vec![0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], Token::UInt(u64::MAX), 9),
            (vec![0xd0, 0x80], Token::Int(-128), 2),
            (vec![0xd1, 0x80, 0x00], Token::Int(-32768), 3),
            (vec![0xd2, 0x80, 0, 0, 0], Token::Int(i64::from(i32::MIN)), 5),
            (vec![0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0], Token::Int(i64::MIN), 9),
            (vec![0xca, 0x3f, 0x80, 0, 0], Token::F32(1.0), 5),
            (vec![0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0], Token::F64(1.0), 9),
            (vec![0xa0], Token::Str(b""), 1),
            (vec![0xa2, b'h', b'i'], Token::Str(b"hi"), 3),
            (vec![0xd9, 1, b'x'], Token::Str(b"x"), 3),
            (vec![0xda, 0, 1, b'x'], Token::Str(b"x"), 4),
            (vec![0xdb, 0, 0, 0, 1, b'x'], Token::Str(b"x"), 6),
            (vec![0xc4, 2, 1, 2], Token::Bin(&[1, 2]), 4),
            (vec![0xc5, 0, 1, 9], Token::Bin(&[9]), 4),
            (vec![0xc6, 0, 0, 0, 0], Token::Bin(&[]), 5),
            (vec![0xd4, 5, 9], Token::Ext(5, &[9]), 3),
            (vec![0xd5, 5, 9, 9], Token::Ext(5, &[9, 9]), 4),
            (vec![0xd6, 5, 1, 2, 3, 4], Token::Ext(5, &[1, 2, 3, 4]), 6),
            (vec![0xd7, 0, 0, 0, 0, 1, 0, 0, 0, 2], Token::Ext(0, &[0, 0, 0, 1, 0, 0, 0, 2]), 10),
            (vec![0xc7, 1, 0xfb, 9], Token::Ext(-5, &[9]), 4),
            (vec![0xc8, 0, 1, 3, 9], Token::Ext(3, &[9]), 5),
            (vec![0xc9, 0, 0, 0, 0, 3], Token::Ext(3, &[]), 6),
            (vec![0x90], Token::ArrayHeader(0), 1),
            (vec![0x92, 0xc0, 0xa1, b'a'], Token::ArrayHeader(2), 1),
            (vec![0xdc, 0, 1, 0x01], Token::ArrayHeader(1), 3),
            (vec![0xdd, 0, 0, 0, 1, 0x01], Token::ArrayHeader(1), 5),
            (vec![0x80], Token::MapHeader(0), 1),
            (vec![0x81, 0xa1, b'k', 0x90], Token::MapHeader(1), 1),
            (vec![0xde, 0, 1, 0x01, 0x02], Token::MapHeader(1), 3),
            (vec![0xdf, 0, 0, 0, 1, 0x01, 0x02], Token::MapHeader(1), 5),
        ];
        let mut fixext16 = vec![0xd8, 7];
        fixext16.extend_from_slice(&[0xab; 16]);
        v.push((fixext16, Token::Ext(7, &[0xab; 16]), 18));
        v
    }

    /// Reads one whole value token by token, counting the items still owed; returns the tokens.
    fn walk<'a>(c: &mut Cursor<'a>) -> Result<Vec<Token<'a>>, DecodeError> {
        let mut toks = Vec::new();
        let mut pending = 1usize;
        while pending > 0 {
            let t = c.next_token()?;
            pending -= 1;
            match t {
                Token::ArrayHeader(n) => pending += n as usize,
                Token::MapHeader(n) => pending += 2 * n as usize,
                _ => {}
            }
            toks.push(t);
        }
        Ok(toks)
    }

    #[test]
    fn every_marker_reads_as_its_token() {
        for (b, want, len) in every_marker() {
            let mut c = Cursor::new(&b);
            assert_eq!(c.peek_token(), Ok(want), "{b:x?}");
            assert_eq!(c.pos(), 0);
            assert_eq!(c.next_token(), Ok(want), "{b:x?}");
            assert_eq!(c.pos(), len, "{b:x?}");
            // The same at an offset: positions and payloads follow.
            let mut shifted = vec![0xc0; 3];
            shifted.extend_from_slice(&b);
            let mut c = Cursor::at(&shifted, 3);
            assert_eq!(c.next_token(), Ok(want));
            assert_eq!(c.pos(), 3 + len);
            // Walking the whole value ends where skip_value does.
            let mut c = Cursor::new(&b);
            walk(&mut c).unwrap();
            assert!(c.is_at_end(), "{b:x?}");
            let mut s = Cursor::new(&b);
            s.skip_value().unwrap();
            assert_eq!(s.pos(), b.len());
            assert_eq!(skip_value(&b, 0), Ok(b.len()));
        }
    }

    #[test]
    fn every_prefix_of_a_value_is_truncated() {
        for (b, _, len) in every_marker() {
            for cut in 0..b.len() {
                let p = &b[..cut];
                let mut c = Cursor::new(p);
                let e = walk(&mut c).unwrap_err();
                assert_eq!(e.kind, DecodeErrorKind::Truncated, "{b:x?} cut at {cut}");
                if cut < len {
                    // Inside the first token: it fails at its start, and the cursor stays there.
                    assert_eq!(e.offset, 0, "{b:x?} cut at {cut}");
                    let mut c = Cursor::new(p);
                    assert_eq!(c.next_token(), Err(e));
                    assert_eq!(c.pos(), 0);
                }
                let mut c = Cursor::new(p);
                assert_eq!(c.skip_value().unwrap_err().kind, DecodeErrorKind::Truncated);
                assert_eq!(c.pos(), 0);
            }
        }
    }

    #[test]
    fn a_4_gb_length_or_count_fails_at_once() {
        let headers: &[&[u8]] = &[
            &[0xdb, 0xff, 0xff, 0xff, 0xff],       // str32
            &[0xc6, 0xff, 0xff, 0xff, 0xff],       // bin32
            &[0xc9, 0xff, 0xff, 0xff, 0xff, 0x01], // ext32
            &[0xdd, 0xff, 0xff, 0xff, 0xff],       // array32
            &[0xdf, 0xff, 0xff, 0xff, 0xff],       // map32
            &[0xdf, 0x80, 0, 0, 0],                // map32 whose doubled count needs 33 bits
            &[0x9f],                               // fixarray 15
            &[0x8f],                               // fixmap 15
        ];
        for h in headers {
            let mut b = vec![0xc3, 0xc3];
            b.extend_from_slice(h);
            b.extend_from_slice(&[0xc0; 3]);
            let mut c = Cursor::at(&b, 2);
            assert_eq!(c.next_token(), Err(truncated(2)), "{h:x?}");
            assert_eq!(c.peek_token(), Err(truncated(2)));
            assert_eq!(c.skip_value(), Err(truncated(2)));
            assert_eq!(c.read_str(), Err(truncated(2)));
            assert_eq!(c.read_bin(), Err(truncated(2)));
            assert_eq!(c.read_value().unwrap_err(), truncated(2));
            assert_eq!(c.pos(), 2);
        }
    }

    #[test]
    fn reserved_marker_and_end_of_input() {
        let b = [0x92, 0xc0, 0xc1];
        let mut c = Cursor::new(&b);
        assert_eq!(c.next_token(), Ok(Token::ArrayHeader(2)));
        assert_eq!(c.next_token(), Ok(Token::Nil));
        let e = DecodeError::new(2, DecodeErrorKind::ReservedMarker);
        assert_eq!(c.next_token(), Err(e));
        assert_eq!(c.skip_value(), Err(e));
        assert_eq!(c.read_str(), Err(e));
        assert_eq!(c.pos(), 2);
        assert_eq!(Cursor::new(&b).skip_value(), Err(e));
        // At and past the end.
        let mut c = Cursor::at(&b, 3);
        assert!(c.is_at_end());
        assert_eq!(c.next_token(), Err(truncated(3)));
        let mut c = Cursor::at(&b, usize::MAX);
        assert!(c.is_at_end());
        assert_eq!(c.next_token(), Err(truncated(usize::MAX)));
        assert_eq!(c.skip_value(), Err(truncated(usize::MAX)));
        assert_eq!(Cursor::new(&[]).read_str(), Err(truncated(0)));
    }

    #[test]
    fn read_helpers_take_only_their_type() {
        // ["s", bin [1], 7, str8 "long", {..}]
        let b = [0x95, 0xa1, b's', 0xc4, 1, 1, 0x07, 0xd9, 4, b'l', b'o', b'n', b'g', 0x81, 0x01, 0x02];
        let mut c = Cursor::new(&b);
        assert_eq!(c.read_str(), Ok(None));
        assert_eq!(c.read_bin(), Ok(None));
        assert_eq!(c.pos(), 0);
        assert_eq!(c.next_token(), Ok(Token::ArrayHeader(5)));
        assert_eq!(c.read_bin(), Ok(None));
        assert_eq!(c.read_str(), Ok(Some(&b"s"[..])));
        assert_eq!(c.read_str(), Ok(None));
        assert_eq!(c.read_bin(), Ok(Some(&[1u8][..])));
        assert_eq!(c.read_str(), Ok(None));
        assert_eq!(c.pos(), 6);
        c.skip_value().unwrap();
        assert_eq!(c.read_str(), Ok(Some(&b"long"[..])));
        let m = c.read_value().unwrap().as_map().unwrap();
        assert_eq!(m.raw(), &b[13..]);
        assert!(c.is_at_end());
    }

    #[test]
    fn containers_hand_out_cursors_at_their_first_element() {
        // {"a": [1, {"b": nil}], "c": "d"}
        let b = [0x82, 0xa1, b'a', 0x92, 0x01, 0x81, 0xa1, b'b', 0xc0, 0xa1, b'c', 0xa1, b'd'];
        let (v, _) = decode_value(&b, 0).unwrap();
        let m = v.as_map().unwrap();
        let mut c = m.cursor();
        assert_eq!(c.pos(), 1);
        assert_eq!(c.read_str(), Ok(Some(&b"a"[..])));
        // A container found lazily: its cursor's buffer starts at its header and may run on.
        let a = m.get(b"a").unwrap().unwrap().as_array().unwrap();
        let mut ac = a.cursor();
        assert_eq!(ac.data().as_ptr(), b[3..].as_ptr());
        assert_eq!(ac.pos(), 1);
        assert_eq!(ac.next_token(), Ok(Token::Int(1)));
        assert_eq!(ac.next_token(), Ok(Token::MapHeader(1)));
        assert_eq!(ac.next_token(), Ok(Token::Str(b"b")));
        assert_eq!(ac.next_token(), Ok(Token::Nil));
        assert_eq!(ac.pos(), a.raw().len());
        // 16- and 32-bit headers.
        let b = [0xde, 0, 1, 0xa1, b'k', 0x05];
        let mut c = decode_value(&b, 0).unwrap().0.as_map().unwrap().cursor();
        assert_eq!(c.pos(), 3);
        assert_eq!(walk(&mut c), Ok(vec![Token::Str(b"k")]));
        let b = [0xdd, 0, 0, 0, 0];
        assert!(decode_value(&b, 0).unwrap().0.as_array().unwrap().cursor().is_at_end());
    }

    /// Runs `f` on a thread with a 64 KiB stack (the size of Fluent Bit's flush coroutines), so any
    /// recursion per nesting level would overflow it.
    fn on_small_stack(f: impl FnOnce() + Send + 'static) {
        let t = std::thread::Builder::new().stack_size(64 * 1024).spawn(f);
        t.expect("spawn").join().expect("no overflow");
    }

    #[test]
    fn deep_nesting_walks_without_recursion() {
        // Miri interprets every step: 2,000 levels keep its run short; the native run proves the depth.
        const DEPTH: usize = if cfg!(miri) { 2_000 } else { 200_000 };
        on_small_stack(|| {
            let mut arr = vec![0x91u8; DEPTH];
            arr.push(0xc0);
            let mut map = Vec::with_capacity(DEPTH * 3 + 1);
            for _ in 0..DEPTH {
                map.extend_from_slice(&[0x81, 0xa1, b'k']);
            }
            map.push(0xc0);
            for (b, per_level) in [(&arr, 1), (&map, 2)] {
                let mut c = Cursor::new(b);
                let mut pending = 1usize;
                let mut tokens = 0usize;
                while pending > 0 {
                    pending -= 1;
                    tokens += 1;
                    match c.next_token().unwrap() {
                        Token::ArrayHeader(n) => pending += n as usize,
                        Token::MapHeader(n) => pending += 2 * n as usize,
                        _ => {}
                    }
                }
                assert_eq!(tokens, DEPTH * per_level + 1);
                assert!(c.is_at_end());
                let mut c = Cursor::new(b);
                c.skip_value().unwrap();
                assert!(c.is_at_end());
                // One byte short is an error, not a crash.
                let mut c = Cursor::new(&b[..b.len() - 1]);
                assert_eq!(c.skip_value().unwrap_err().kind, DecodeErrorKind::Truncated);
            }
        });
    }
}
