//! The msgpack wire format, below the level of values: reading one header and skipping whole
//! values. Shared by the lazy values ([`super::value`]), the [`Cursor`](super::Cursor) and the
//! record reader.
//!
//! Every length and count is checked against the bytes that remain before it is used, so a header
//! claiming 4 GB fails at once with [`DecodeErrorKind::Truncated`] and offsets never overflow.

use super::error::{truncated, DecodeError, DecodeErrorKind};
use rmp::Marker;

/// A value's header: the scalar itself, or the length/count of what follows.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Head {
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
pub(crate) fn take<const N: usize>(data: &[u8], at: usize, start: usize) -> Result<[u8; N], DecodeError> {
    match data.get(at..).and_then(|s| s.first_chunk::<N>()) {
        Some(b) => Ok(*b),
        None => Err(truncated(start)),
    }
}

#[inline(always)]
pub(crate) fn be16(data: &[u8], at: usize, start: usize) -> Result<u32, DecodeError> {
    Ok(u32::from(u16::from_be_bytes(take::<2>(data, at, start)?)))
}

#[inline(always)]
pub(crate) fn be32(data: &[u8], at: usize, start: usize) -> Result<u32, DecodeError> {
    Ok(u32::from_be_bytes(take::<4>(data, at, start)?))
}

/// Reads the header of the value at `pos`: returns it and the offset of its payload (for scalars, the
/// offset just past the value).
#[inline]
pub(crate) fn read_head(data: &[u8], pos: usize) -> Result<(Head, usize), DecodeError> {
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
pub(crate) fn ext_type(data: &[u8], p: usize, pos: usize) -> Result<i8, DecodeError> {
    Ok(take::<1>(data, p, pos)?[0] as i8)
}

/// The end of a `len`-byte payload at `payload` (of the value at `start`), checked against the input.
#[inline(always)]
pub(crate) fn payload_end(data: &[u8], start: usize, payload: usize, len: u32) -> Result<usize, DecodeError> {
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
pub(crate) fn skip_values(data: &[u8], mut pos: usize, mut pending: usize, at: usize) -> Result<usize, DecodeError> {
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

/// Adds a container's `more` elements (at header `start`, payload at `p`) to `pending`, or fails
/// when they cannot all fit in the bytes after `p`, each needing one byte at least.
#[inline(always)]
pub(crate) fn add_pending(
    data: &[u8],
    start: usize,
    p: usize,
    pending: usize,
    more: usize,
) -> Result<usize, DecodeError> {
    let total = pending.saturating_add(more);
    if total > data.len().saturating_sub(p) {
        Err(truncated(start))
    } else {
        Ok(total)
    }
}

/// `data[from..to]`, or the value at `start` reported as truncated.
#[inline(always)]
pub(crate) fn slice(data: &[u8], from: usize, to: usize, start: usize) -> Result<&[u8], DecodeError> {
    data.get(from..to).ok_or_else(|| truncated(start))
}
