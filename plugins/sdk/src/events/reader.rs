//! Reading a chunk record by record: [`EventReader`] and [`validate_chunk`].
//!
//! Each record is checked whole (shape, time, and every value nested in its metadata and body,
//! iteratively) before it is yielded. That is the only check its bytes get: the metadata and body
//! come out as values that know their extent, and the containers nested in them are decoded lazily
//! without being checked again (see the cost model in the [`events`](super) module doc).

use super::encoder::RecordForm;
use super::error::{DecodeError, DecodeErrorKind};
use super::time::EventTime;
use super::value::{decode_value, Value};
use super::wire::{read_head, slice, take, Head};

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
    validate_chunk_markers(data).map(|(n, _)| n)
}

/// [`validate_chunk`], also telling whether any record's time is negative (a group marker, or a
/// time Fluent Bit may not count as a log record).
pub(crate) fn validate_chunk_markers(data: &[u8]) -> Result<(usize, bool), DecodeError> {
    let mut pos = 0;
    let mut n = 0;
    let mut markers = false;
    while pos < data.len() {
        let (ev, end) = decode_event(data, pos)?;
        markers |= ev.time.secs < 0;
        pos = end;
        n += 1;
    }
    Ok((n, markers))
}

#[cfg(test)]
mod tests {
    use super::*;

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
