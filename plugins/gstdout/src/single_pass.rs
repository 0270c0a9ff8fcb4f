//! A value printed in one pass over its bytes, in either text form of [`crate::walk`], for the
//! common case: no map with a string key that appears twice.
//!
//! Equal keys are rare, so they are looked for while printing instead of in a pass ahead (which
//! read every map twice): each open map remembers its string keys so far, with a 64-bit filter of
//! them so that a new key is compared with the earlier ones only when its filter bit is already
//! set. A key seen before stops the pass with [`Bail`]; so does anything else this pass leaves to
//! the walker (bytes that do not decode, a map of more pairs than [`MAX_KEYS`]). The
//! caller then rewinds its output and prints the record with [`crate::walk`], which reproduces
//! Fluent Bit's handling of equal keys: the output is always the walker's, byte for byte.
//!
//! No recursion: open containers are a stack of small frames in a reused [`Stack`].

use crate::escape::{copy_run, plain_prefix_word, write_json_str_at};
use crate::num::{write_f64_fixed6, write_f64_json, write_i64};
use crate::walk::scalar;
use flb_plugin_sdk::events::{Cursor, Token};

/// This pass does not print the value: rewind the output and print it with the walker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bail;

/// JSON maps of more pairs than this bail: a key whose filter bit is set is compared with all the
/// earlier ones, which grows with the square of the keys once the filter fills up, while the
/// walker sorts the keys of large maps (about as costly at this size).
pub(crate) const MAX_KEYS: usize = 64;

/// A map (else an array).
const MAP: u8 = 1;
/// No item printed yet (no separator before the next).
const FIRST: u8 = 2;
/// The keys of this map are checked for duplicates (maps of two pairs or more).
const TRACK: u8 = 4;
/// The body map of a JSON record, whose keys must not be the record's own ones.
const TOP: u8 = 8;

/// One open container.
#[derive(Clone, Copy, Debug)]
struct Open {
    /// Items left to print: elements of an array, keys and values (two items a pair) of a map.
    left: u32,
    /// [`MAP`], [`FIRST`], [`TRACK`], [`TOP`]: one byte, so the frame's state fits in few registers.
    flags: u8,
    /// Start of this map's keys in [`Stack::keys`].
    keys_base: u32,
    /// One bit per key seen, chosen by [`filter_bit`].
    filter: u64,
}

/// A string key of a tracked map.
#[derive(Clone, Copy, Debug)]
struct Key {
    /// Offset in the bytes being printed.
    start: usize,
    len: usize,
    /// [`fingerprint`].
    fp: u64,
}

/// Reusable working memory: the open containers and the string keys of the open maps.
#[derive(Default, Debug)]
pub struct Stack {
    open: Vec<Open>,
    /// The string keys of the tracked open maps, innermost last.
    keys: Vec<Key>,
}

impl Stack {
    /// Bytes held.
    pub(crate) fn capacity_bytes(&self) -> usize {
        self.open.capacity() * core::mem::size_of::<Open>() + self.keys.capacity() * core::mem::size_of::<Key>()
    }

    /// Forgets what a bailed pass left open.
    pub(crate) fn clear(&mut self) {
        self.open.clear();
        self.keys.clear();
    }
}

/// The first eight bytes of the key `data[start..start + len]` (those within it) and its length:
/// equal for equal keys, and for keys of up to seven bytes equal only for equal keys.
#[inline(always)]
fn fingerprint(data: &[u8], start: usize, len: usize) -> u64 {
    let head = match data.get(start..).and_then(|r| r.first_chunk::<8>()) {
        Some(w) => u64::from_le_bytes(*w),
        None => {
            let mut b = [0u8; 8];
            let n = len.min(8);
            b[..n].copy_from_slice(&data[start..start + n]);
            u64::from_le_bytes(b)
        }
    };
    let head = if len >= 8 { head } else { head & ((1u64 << (8 * len)) - 1) };
    head ^ ((len as u64) << 56)
}

/// The filter bit of a fingerprint (a multiplicative hash's top six bits).
#[inline(always)]
fn filter_bit(fp: u64) -> u64 {
    1u64 << (fp.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 58)
}

/// Prints the whole value at `data[pos]`; returns the offset after it.
#[inline]
pub(crate) fn write_value<const JSON: bool>(
    out: &mut Vec<u8>,
    st: &mut Stack,
    data: &[u8],
    pos: usize,
) -> Result<usize, Bail> {
    let floor = st.open.len();
    let (pos, _) = item::<JSON>(out, st, data, pos)?;
    run::<JSON>(out, st, data, pos, floor, &[])
}

/// JSON: continues an object whose `{` (and maybe some members) is already written with the
/// `pairs` pairs of a map whose first key is at `data[pos]`, then writes the closing `}`. Bails when
/// one of its keys is in `reserved` (the members already written). Returns the offset after the map.
#[inline]
pub(crate) fn write_members_json(
    out: &mut Vec<u8>,
    st: &mut Stack,
    data: &[u8],
    pos: usize,
    pairs: u32,
    first: bool,
    reserved: &[&[u8]],
) -> Result<usize, Bail> {
    if pairs as usize > MAX_KEYS {
        return Err(Bail);
    }
    let floor = st.open.len();
    let keys_base = u32::try_from(st.keys.len()).map_err(|_| Bail)?;
    let left = pairs.checked_mul(2).ok_or(Bail)?;
    let flags = MAP | TOP | if first { FIRST } else { 0 } | if pairs >= 2 { TRACK } else { 0 };
    st.open.push(Open { left, flags, keys_base, filter: 0 });
    run::<true>(out, st, data, pos, floor, reserved)
}

/// Prints items until the containers above `floor` are closed.
#[inline]
fn run<const JSON: bool>(
    out: &mut Vec<u8>,
    st: &mut Stack,
    data: &[u8],
    mut pos: usize,
    floor: usize,
    reserved: &[&[u8]],
) -> Result<usize, Bail> {
    'containers: while st.open.len() > floor {
        // The innermost container's state lives in locals while its scalars print; it goes back to
        // the stack only when a nested container opens above it.
        let depth = st.open.len() - 1;
        let mut f = st.open[depth];
        while f.left > 0 {
            // A map's items alternate key, value: a key when an even number is left.
            let map = f.flags & MAP != 0;
            let is_key = map && f.left & 1 == 0;
            if map && !is_key {
                out.extend_from_slice(if JSON { b":" } else { b"=>" });
            } else if f.flags & FIRST == 0 {
                out.extend_from_slice(if JSON { b"," } else { b", " });
            }
            f.flags &= !FIRST;
            f.left -= 1;
            if JSON && is_key && f.flags & (TRACK | TOP) != 0 {
                if let Some((start, len)) = str_at(data, pos) {
                    check_key(&mut f, &mut st.keys, data, start, len, reserved)?;
                }
            }
            let (next, opened) = item::<JSON>(out, st, data, pos)?;
            pos = next;
            if opened {
                st.open[depth] = f;
                continue 'containers;
            }
        }
        out.push(if f.flags & MAP != 0 { b'}' } else { b']' });
        if f.flags & TRACK != 0 {
            st.keys.truncate(f.keys_base as usize);
        }
        st.open.pop();
    }
    Ok(pos)
}

/// The payload of the string at `data[pos]`, if a string is there.
#[inline(always)]
fn str_at(data: &[u8], pos: usize) -> Option<(usize, usize)> {
    let (start, len) = match *data.get(pos)? {
        b @ 0xa0..=0xbf => (pos + 1, usize::from(b & 0x1f)),
        0xd9 => (pos + 2, usize::from(*data.get(pos + 1)?)),
        0xda => (pos + 3, usize::from(u16::from_be_bytes(*data.get(pos + 1..)?.first_chunk::<2>()?))),
        0xdb => (pos + 5, u32::from_be_bytes(*data.get(pos + 1..)?.first_chunk::<4>()?) as usize),
        _ => return None,
    };
    (start.checked_add(len)? <= data.len()).then_some((start, len))
}

/// Records the key at `data[start..start + len]` of the map `top`, or bails when the map has it
/// already (or it is one of `reserved`, for the top map).
#[inline(always)]
fn check_key(
    top: &mut Open,
    keys: &mut Vec<Key>,
    data: &[u8],
    start: usize,
    len: usize,
    reserved: &[&[u8]],
) -> Result<(), Bail> {
    let k = &data[start..start + len];
    if top.flags & TOP != 0 && reserved.iter().any(|r| r.len() == len && r.first() == k.first() && *r == k) {
        return Err(Bail);
    }
    if top.flags & TRACK == 0 {
        return Ok(());
    }
    let fp = fingerprint(data, start, len);
    let bit = filter_bit(fp);
    // At most MAX_KEYS of them: larger maps bail when they open.
    let mine = &keys[top.keys_base as usize..];
    if top.filter & bit != 0
        && mine.iter().any(|o| o.fp == fp && o.len == len && (len <= 8 || &data[o.start..o.start + len] == k))
    {
        return Err(Bail);
    }
    top.filter |= bit;
    keys.push(Key { start, len, fp });
    Ok(())
}

/// Prints the scalar at `data[pos]`, or the opening bracket of the container there (pushing its
/// frame); returns the offset after what was consumed, and whether a container was opened.
#[inline(always)]
fn item<const JSON: bool>(out: &mut Vec<u8>, st: &mut Stack, data: &[u8], pos: usize) -> Result<(usize, bool), Bail> {
    let Some(&b) = data.get(pos) else { return Err(Bail) };
    let end = match b {
        0xa0..=0xbf => {
            let end = pos + 1 + usize::from(b & 0x1f);
            if end > data.len() {
                return Err(Bail);
            }
            write_str::<JSON>(out, data, pos + 1, end);
            end
        }
        0x00..=0x09 => {
            out.push(b'0' + b);
            pos + 1
        }
        0x0a..=0x7f => {
            write_i64(out, i64::from(b));
            pos + 1
        }
        0x80..=0x8f => return open::<JSON>(out, st, true, u32::from(b & 0x0f), pos + 1),
        0x90..=0x9f => return open::<JSON>(out, st, false, u32::from(b & 0x0f), pos + 1),
        0xc0 => {
            out.extend_from_slice(if JSON { b"null" } else { b"nil" });
            pos + 1
        }
        0xc2 => {
            out.extend_from_slice(b"false");
            pos + 1
        }
        0xc3 => {
            out.extend_from_slice(b"true");
            pos + 1
        }
        0xe0..=0xff => {
            write_i64(out, i64::from(b as i8));
            pos + 1
        }
        0xcb => {
            let f = f64::from_be_bytes(*data.get(pos + 1..).and_then(|r| r.first_chunk::<8>()).ok_or(Bail)?);
            if JSON {
                write_f64_json(out, f);
            } else {
                write_f64_fixed6(out, f);
            }
            pos + 9
        }
        _ => {
            let mut c = Cursor::at(data, pos);
            match c.next_token().map_err(|_| Bail)? {
                Token::ArrayHeader(n) => return open::<JSON>(out, st, false, n, c.pos()),
                Token::MapHeader(n) => return open::<JSON>(out, st, true, n, c.pos()),
                Token::Str(s) => {
                    write_str::<JSON>(out, data, c.pos() - s.len(), c.pos());
                    c.pos()
                }
                t => {
                    scalar::<JSON>(out, t);
                    c.pos()
                }
            }
        }
    };
    Ok((end, false))
}

/// The string `data[start..end]` (past its header), quoted.
#[inline(always)]
fn write_str<const JSON: bool>(out: &mut Vec<u8>, data: &[u8], start: usize, end: usize) {
    let n = end - start;
    // Most strings are short and need no escape: the opening quote and the string go out as one
    // 16-byte block, read from the last byte of the header on, that byte made the quote.
    if n <= 15 {
        if let Some(w) = start.checked_sub(1).and_then(|h| data.get(h..)?.first_chunk::<16>()) {
            // Checked with a plain space in the header's place (a quote would need escaping).
            let v = (u128::from_le_bytes(*w) & !0xff) | u128::from(b' ');
            if !JSON || plain_prefix_word(v) > n {
                let len = out.len();
                out.extend_from_slice(&(v ^ u128::from(b' ' ^ b'"')).to_le_bytes());
                out.truncate(len + 1 + n);
                out.push(b'"');
                return;
            }
        }
    }
    out.push(b'"');
    if JSON {
        write_json_str_at(out, data, start, end);
    } else {
        copy_run(out, data, start, end);
    }
    out.push(b'"');
}

/// Opens an array of `n` elements or a map of `n` pairs whose first item is at `pos`.
#[inline(always)]
fn open<const JSON: bool>(
    out: &mut Vec<u8>,
    st: &mut Stack,
    map: bool,
    n: u32,
    pos: usize,
) -> Result<(usize, bool), Bail> {
    // Said before printing any of it: a map too large for the key check is the walker's.
    if JSON && map && n as usize > MAX_KEYS {
        return Err(Bail);
    }
    out.push(if map { b'{' } else { b'[' });
    let left = if map { n.checked_mul(2).ok_or(Bail)? } else { n };
    let keys_base = u32::try_from(st.keys.len()).map_err(|_| Bail)?;
    let flags = FIRST | if map { MAP } else { 0 } | if map && n >= 2 { TRACK } else { 0 };
    st.open.push(Open { left, flags, keys_base, filter: 0 });
    Ok((pos, true))
}
