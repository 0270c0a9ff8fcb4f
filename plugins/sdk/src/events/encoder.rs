//! Writing log records into a libc-malloc'ed buffer an input plugin hands to Fluent Bit.

use super::malloc_buf::{AllocError, MallocBuf};
use super::time::{EventTime, Step};
use core::ops::Range;

/// Which record layout to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub enum RecordForm {
    /// `[[time, {metadata}], {body}]`, Fluent Bit 2.1+.
    #[default]
    Modern,
    /// `[time, {body}]`, understood by every Fluent Bit version.
    Legacy,
}

/// Where a record sits in an [`EventWriter`]'s buffer. Offsets, not pointers: it stays valid after
/// later appends (until the writer is cleared).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RecordSpan {
    /// The record's bytes.
    pub range: Range<usize>,
    /// Offset of the record's 10-byte time ext (`d7 00 ...`).
    pub time_at: usize,
}

/// Why an append failed. A failed append leaves no partial record behind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncodeError {
    /// The buffer could not grow.
    Alloc(AllocError),
    /// The arguments were not acceptable (e.g. a body that is not a msgpack map).
    Invalid(&'static str),
}

impl core::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            EncodeError::Alloc(e) => e.fmt(f),
            EncodeError::Invalid(what) => write!(f, "invalid record: {what}"),
        }
    }
}

impl std::error::Error for EncodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            EncodeError::Alloc(e) => Some(e),
            EncodeError::Invalid(_) => None,
        }
    }
}

impl From<AllocError> for EncodeError {
    #[inline]
    fn from(e: AllocError) -> Self {
        EncodeError::Alloc(e)
    }
}

/// Writing into a [`MallocBuf`] only fails when memory runs out; this recovers the [`AllocError`].
impl From<std::io::Error> for EncodeError {
    #[cold]
    fn from(e: std::io::Error) -> Self {
        match e.get_ref().and_then(|inner| inner.downcast_ref::<AllocError>()) {
            Some(a) => EncodeError::Alloc(*a),
            None if e.kind() == std::io::ErrorKind::OutOfMemory => EncodeError::Alloc(AllocError { requested: 0 }),
            None => EncodeError::Invalid("write error"),
        }
    }
}

/// So that `rmp::encode::write_*(buf, ..)?` works inside [`EventWriter::append_with`].
impl From<rmp::encode::ValueWriteError<std::io::Error>> for EncodeError {
    #[cold]
    fn from(e: rmp::encode::ValueWriteError<std::io::Error>) -> Self {
        match e {
            rmp::encode::ValueWriteError::InvalidMarkerWrite(e) | rmp::encode::ValueWriteError::InvalidDataWrite(e) => {
                e.into()
            }
        }
    }
}

#[inline(always)]
fn is_map_marker(b: u8) -> bool {
    matches!(b, 0x80..=0x8f | 0xde | 0xdf)
}

/// Builds a chunk of log records in libc memory, ready to hand to Fluent Bit.
///
/// `clear` keeps the allocation, so a writer reused across collects allocates nothing in steady state.
pub struct EventWriter {
    buf: MallocBuf,
    form: RecordForm,
    records: usize,
}

impl core::fmt::Debug for EventWriter {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EventWriter")
            .field("form", &self.form)
            .field("records", &self.records)
            .field("len", &self.buf.len())
            .field("capacity", &self.buf.capacity())
            .finish()
    }
}

impl Default for EventWriter {
    fn default() -> Self {
        EventWriter::new(RecordForm::default())
    }
}

impl EventWriter {
    /// An empty writer producing records in `form`; allocates nothing yet.
    pub fn new(form: RecordForm) -> Self {
        EventWriter { buf: MallocBuf::new(), form, records: 0 }
    }

    /// The record form appends use.
    #[inline]
    pub fn form(&self) -> RecordForm {
        self.form
    }

    /// Changes the record form of later appends (records already written keep theirs).
    #[inline]
    pub fn set_form(&mut self, f: RecordForm) {
        self.form = f;
    }

    /// Records appended since the last [`clear`](Self::clear).
    #[inline]
    pub fn records(&self) -> usize {
        self.records
    }

    /// Bytes written.
    #[inline]
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// True when nothing is written.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The encoded records.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.as_slice()
    }

    /// Forgets all records, keeping the allocation. Earlier [`RecordSpan`]s become meaningless.
    #[inline]
    pub fn clear(&mut self) {
        self.buf.clear();
        self.records = 0;
    }

    /// Makes room for `additional` more bytes.
    #[inline]
    pub fn reserve(&mut self, additional: usize) -> Result<(), EncodeError> {
        self.buf.reserve(additional).map_err(EncodeError::from)
    }

    /// The underlying buffer.
    #[inline]
    pub fn buf(&self) -> &MallocBuf {
        &self.buf
    }

    /// The underlying buffer, mutable (the SDK boundary takes the allocation from it). Writing into
    /// it directly bypasses the record count.
    #[inline]
    pub fn buf_mut(&mut self) -> &mut MallocBuf {
        &mut self.buf
    }

    /// Writes the record header and time (and metadata in modern form); returns the time offset.
    /// The caller truncates back to `start` on error.
    #[inline]
    fn write_head(&mut self, time: EventTime, metadata: &[u8], extra: usize) -> Result<usize, EncodeError> {
        if let Some(&b) = metadata.first() {
            if !is_map_marker(b) {
                return Err(EncodeError::Invalid("metadata is not a msgpack map"));
            }
        }
        let start = self.buf.len();
        let t = time.to_ext_bytes();
        match self.form {
            RecordForm::Modern => {
                let meta_len = metadata.len().max(1);
                self.buf.reserve((2 + t.len() + meta_len).saturating_add(extra))?;
                self.buf.extend_from_slice(&[0x92, 0x92])?;
                self.buf.extend_from_slice(&t)?;
                if metadata.is_empty() {
                    self.buf.extend_from_slice(&[0x80])?;
                } else {
                    self.buf.extend_from_slice(metadata)?;
                }
                Ok(start + 2)
            }
            RecordForm::Legacy => {
                self.buf.reserve((1 + t.len()).saturating_add(extra))?;
                self.buf.extend_from_slice(&[0x92])?;
                self.buf.extend_from_slice(&t)?;
                Ok(start + 1)
            }
        }
    }

    /// Appends one record. `metadata` and `body` are already-encoded msgpack maps (`metadata` empty
    /// means `{}`; in legacy form metadata is dropped). Only their first byte is checked (it must be a
    /// map marker); the caller is responsible for them being complete, single values.
    pub fn append(&mut self, time: EventTime, metadata: &[u8], body: &[u8]) -> Result<RecordSpan, EncodeError> {
        match body.first() {
            Some(&b) if is_map_marker(b) => {}
            _ => return Err(EncodeError::Invalid("body is not a msgpack map")),
        }
        let start = self.buf.len();
        let res = self.write_head(time, metadata, body.len()).and_then(|time_at| {
            self.buf.extend_from_slice(body)?;
            Ok(time_at)
        });
        self.finish(start, res)
    }

    /// Appends one record whose body `f` writes (e.g. with `rmp::encode` functions on the buffer;
    /// `?` converts their errors). `f` must only append, and must write exactly one msgpack map (only
    /// its first byte is checked). On error (from `f`, or a body not starting with a map marker) the
    /// buffer is truncated back so no partial record remains.
    pub fn append_with<F>(&mut self, time: EventTime, metadata: &[u8], f: F) -> Result<RecordSpan, EncodeError>
    where
        F: FnOnce(&mut MallocBuf) -> Result<(), EncodeError>,
    {
        let start = self.buf.len();
        let res = self.write_head(time, metadata, 0).and_then(|time_at| {
            let body_at = self.buf.len();
            f(&mut self.buf)?;
            if self.buf.len() < body_at {
                return Err(EncodeError::Invalid("the body writer shrank the buffer"));
            }
            match self.buf.as_slice().get(body_at) {
                Some(&b) if is_map_marker(b) => Ok(time_at),
                _ => Err(EncodeError::Invalid("body is not a msgpack map")),
            }
        });
        self.finish(start, res)
    }

    #[inline]
    fn finish(&mut self, start: usize, res: Result<usize, EncodeError>) -> Result<RecordSpan, EncodeError> {
        match res {
            Ok(time_at) => {
                self.records += 1;
                Ok(RecordSpan { range: start..self.buf.len(), time_at })
            }
            Err(e) => {
                self.buf.truncate(start);
                Err(e)
            }
        }
    }

    /// Checks that `span` is inside the buffer and its time slot holds an EventTime ext; returns the
    /// time offset relative to the record start.
    fn check_span(&self, span: &RecordSpan) -> Option<usize> {
        let r = &span.range;
        let t_end = span.time_at.checked_add(10)?;
        if r.start > r.end || r.end > self.buf.len() || span.time_at < r.start || t_end > r.end {
            return None;
        }
        match self.buf.as_slice().get(span.time_at..span.time_at + 2) {
            Some([0xd7, 0x00]) => Some(span.time_at - r.start),
            _ => None,
        }
    }

    /// Appends `count` copies of the record at `span`, copy `i` getting time `first + i * step_ns`.
    /// Copies with doubling `memcpy`s, then patches the times in place: close to `memcpy` speed.
    pub fn repeat(
        &mut self,
        span: &RecordSpan,
        count: usize,
        first: EventTime,
        step_ns: u64,
    ) -> Result<(), EncodeError> {
        let off = self.check_span(span).ok_or(EncodeError::Invalid("record span is not in this buffer"))?;
        // One record exactly, so `records` stays a true count.
        if crate::events::skip_value(self.buf.as_slice(), span.range.start).ok() != Some(span.range.end) {
            return Err(EncodeError::Invalid("record span must cover exactly one record"));
        }
        if count == 0 {
            return Ok(());
        }
        let len = span.range.len();
        let total = len.checked_mul(count).ok_or(AllocError { requested: usize::MAX })?;
        self.buf.reserve(total)?;
        let dst = self.buf.len();
        // Cannot fail now: capacity is reserved and the ranges are inside the buffer.
        self.buf.extend_from_within(span.range.clone())?;
        let mut done = 1;
        while done < count {
            let n = done.min(count - done);
            self.buf.extend_from_within(dst..dst + n * len)?;
            done += n;
        }
        let step = Step::new(step_ns);
        let mut t = first;
        // Copies that all carry the source record's own time need no patching: plain memcpy speed.
        let unchanged =
            step_ns == 0 && self.buf.as_slice().get(span.time_at..span.time_at + 10) == Some(&first.to_ext_bytes()[..]);
        if unchanged {
            self.records += count;
            return Ok(());
        }
        if let Some(out) = self.buf.as_mut_slice().get_mut(dst..) {
            for rec in out.chunks_exact_mut(len) {
                if let Some(slot) = rec.get_mut(off..off + 10) {
                    slot.copy_from_slice(&t.to_ext_bytes());
                }
                t = step.apply(t);
            }
        }
        self.records += count;
        Ok(())
    }

    /// Overwrites the time of a record already in the buffer. Does nothing when `span` does not
    /// describe a record of this buffer (out of range, or no EventTime at `time_at`).
    pub fn patch_time(&mut self, span: &RecordSpan, time: EventTime) {
        if self.check_span(span).is_none() {
            return;
        }
        if let Some(slot) = self.buf.as_mut_slice().get_mut(span.time_at..span.time_at + 10) {
            slot.copy_from_slice(&time.to_ext_bytes());
        }
    }

    /// Appends already-encoded whole records, counting them as `records`. Only the first byte is
    /// checked (a record is a 2-element array); use `validate_chunk` to check them fully.
    pub fn append_encoded(&mut self, bytes: &[u8], records: usize) -> Result<(), EncodeError> {
        match bytes.first() {
            None if records == 0 => return Ok(()),
            Some(&(0x92 | 0xdc | 0xdd)) if records > 0 => {}
            _ => return Err(EncodeError::Invalid("not encoded records")),
        }
        self.buf.extend_from_slice(bytes)?;
        self.records += records;
        Ok(())
    }
}

/// Writes a msgpack map of string keys to string values.
pub fn encode_str_map(out: &mut MallocBuf, pairs: &[(&str, &str)]) -> Result<(), EncodeError> {
    let n = u32::try_from(pairs.len()).map_err(|_| EncodeError::Invalid("map too large"))?;
    let bytes =
        pairs.iter().fold(5usize, |acc, (k, v)| acc.saturating_add(k.len()).saturating_add(v.len()).saturating_add(10));
    let start = out.len();
    let res = write_str_map(out, n, bytes, pairs);
    if res.is_err() {
        out.truncate(start);
    }
    res
}

fn write_str_map(out: &mut MallocBuf, n: u32, bytes: usize, pairs: &[(&str, &str)]) -> Result<(), EncodeError> {
    out.reserve(bytes)?;
    rmp::encode::write_map_len(out, n)?;
    for (k, v) in pairs {
        rmp::encode::write_str(out, k)?;
        rmp::encode::write_str(out, v)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{validate_chunk, EventReader};

    fn body(pairs: &[(&str, &str)]) -> MallocBuf {
        let mut b = MallocBuf::new();
        encode_str_map(&mut b, pairs).unwrap();
        b
    }

    #[test]
    fn modern_and_legacy_bytes() {
        let t = EventTime::new(1, 2);
        let mut w = EventWriter::new(RecordForm::Modern);
        let s = w.append(t, b"", &[0x80]).unwrap();
        let mut want = vec![0x92, 0x92];
        want.extend_from_slice(&t.to_ext_bytes());
        want.extend_from_slice(&[0x80, 0x80]);
        assert_eq!(w.as_bytes(), &want[..]);
        assert_eq!(s, RecordSpan { range: 0..want.len(), time_at: 2 });
        w.set_form(RecordForm::Legacy);
        assert_eq!(w.form(), RecordForm::Legacy);
        let s2 = w.append(t, &[0x81, 0xa1, b'x', 0x01], &[0x80]).unwrap();
        assert_eq!(s2.time_at, want.len() + 1);
        let mut want2 = vec![0x92];
        want2.extend_from_slice(&t.to_ext_bytes());
        want2.push(0x80);
        assert_eq!(&w.as_bytes()[want.len()..], &want2[..]);
        assert_eq!(w.records(), 2);
        assert_eq!(validate_chunk(w.as_bytes()), Ok(2));
        let cap = w.buf().capacity();
        w.clear();
        assert!(w.is_empty() && w.records() == 0 && w.buf().capacity() == cap);
    }

    #[test]
    fn rejects_non_maps_without_leaving_bytes() {
        let mut w = EventWriter::new(RecordForm::Modern);
        assert!(matches!(w.append(EventTime::now(), b"", b""), Err(EncodeError::Invalid(_))));
        assert!(matches!(w.append(EventTime::now(), b"", &[0x90]), Err(EncodeError::Invalid(_))));
        assert!(matches!(w.append(EventTime::now(), &[0xc0], &[0x80]), Err(EncodeError::Invalid(_))));
        assert!(w.is_empty());
        let r = w.append_with(EventTime::now(), b"", |b| {
            rmp::encode::write_str(b, "not a map")?;
            Ok(())
        });
        assert!(matches!(r, Err(EncodeError::Invalid(_))));
        let r = w.append_with(EventTime::now(), b"", |b| {
            rmp::encode::write_map_len(b, 1)?;
            Err(EncodeError::Invalid("boom"))
        });
        assert_eq!(r, Err(EncodeError::Invalid("boom")));
        assert!(w.is_empty());
        assert_eq!(w.records(), 0);
    }

    #[test]
    fn append_with_and_patch() {
        let mut w = EventWriter::default();
        let s = w
            .append_with(EventTime::new(5, 0), b"", |b| {
                rmp::encode::write_map_len(b, 1)?;
                rmp::encode::write_str(b, "n")?;
                rmp::encode::write_uint(b, 300)?;
                Ok(())
            })
            .unwrap();
        w.patch_time(&s, EventTime::new(9, 9));
        let ev = EventReader::new(w.as_bytes()).next().unwrap().unwrap();
        assert_eq!(ev.time, EventTime::new(9, 9));
        assert_eq!(ev.body.as_map().unwrap().get(b"n").unwrap().unwrap().as_i64(), Some(300));
        // An out-of-range span is ignored.
        w.patch_time(&RecordSpan { range: 0..1000, time_at: 900 }, EventTime::new(1, 1));
        w.patch_time(&RecordSpan { range: 0..s.range.end, time_at: 0 }, EventTime::new(1, 1));
        assert_eq!(EventReader::new(w.as_bytes()).next().unwrap().unwrap().time, EventTime::new(9, 9));
    }

    #[test]
    fn repeat_steps_times() {
        for form in [RecordForm::Modern, RecordForm::Legacy] {
            for count in [0usize, 1, 2, 3, 7, 8, 100] {
                let mut w = EventWriter::new(form);
                let b = body(&[("message", "dummy")]);
                let s = w.append(EventTime::new(1, 0), b"", b.as_slice()).unwrap();
                w.repeat(&s, count, EventTime::new(10, 999_999_000), 500).unwrap();
                assert_eq!(w.records(), count + 1);
                assert_eq!(w.len(), s.range.len() * (count + 1));
                let evs: Vec<_> = EventReader::new(w.as_bytes()).map(|r| r.unwrap()).collect();
                assert_eq!(evs.len(), count + 1);
                assert_eq!(evs[0].time, EventTime::new(1, 0));
                for (i, ev) in evs[1..].iter().enumerate() {
                    assert_eq!(ev.time, EventTime::new(10, 999_999_000).add_nanos(i as u64 * 500));
                    assert_eq!(ev.form, form);
                    assert_eq!(ev.body.as_map().unwrap().get(b"message").unwrap().unwrap().as_str(), Some("dummy"));
                }
            }
        }
    }

    #[test]
    fn repeat_with_the_records_own_time_copies_it_and_a_new_time_patches() {
        let mut w = EventWriter::default();
        let b = body(&[("message", "dummy")]);
        let t = EventTime::new(5, 6);
        let s = w.append(t, b"", b.as_slice()).unwrap();
        w.repeat(&s, 9, t, 0).unwrap();
        w.repeat(&s, 5, EventTime::new(7, 8), 0).unwrap();
        assert_eq!(w.records(), 15);
        let times: Vec<_> = EventReader::new(w.as_bytes()).map(|r| r.unwrap().time).collect();
        assert_eq!(times.len(), 15);
        assert!(times[..10].iter().all(|&x| x == t), "{times:?}");
        assert!(times[10..].iter().all(|&x| x == EventTime::new(7, 8)), "{times:?}");
    }

    #[test]
    fn repeat_rejects_bad_spans() {
        let mut w = EventWriter::default();
        let s = w.append(EventTime::new(1, 0), b"", &[0x80]).unwrap();
        let bad = RecordSpan { range: 0..s.range.end + 1, time_at: 2 };
        assert!(matches!(w.repeat(&bad, 3, EventTime::new(0, 0), 0), Err(EncodeError::Invalid(_))));
        let bad = RecordSpan { range: s.range.clone(), time_at: 1 };
        assert!(matches!(w.repeat(&bad, 3, EventTime::new(0, 0), 0), Err(EncodeError::Invalid(_))));
        assert_eq!(w.records(), 1);
        assert!(matches!(w.repeat(&s, usize::MAX, EventTime::new(0, 0), 0), Err(EncodeError::Alloc(_))));
        assert_eq!(w.len(), s.range.len());
    }

    #[test]
    fn append_encoded_counts() {
        let mut a = EventWriter::new(RecordForm::Legacy);
        a.append(EventTime::new(1, 0), b"", &[0x80]).unwrap();
        a.append(EventTime::new(2, 0), b"", &[0x80]).unwrap();
        let mut w = EventWriter::default();
        w.append_encoded(a.as_bytes(), 2).unwrap();
        w.append_encoded(b"", 0).unwrap();
        assert!(w.append_encoded(b"\x80", 1).is_err());
        assert!(w.append_encoded(a.as_bytes(), 0).is_err());
        assert_eq!(w.records(), 2);
        assert_eq!(validate_chunk(w.as_bytes()), Ok(2));
    }

    #[test]
    fn str_map() {
        let b = body(&[("a", "b"), ("long", &"x".repeat(300))]);
        let (v, end) = crate::events::decode_value(b.as_slice(), 0).unwrap();
        assert_eq!(end, b.len());
        let m = v.as_map().unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m.get(b"long").unwrap().unwrap().as_str().map(str::len), Some(300));
        let e: EncodeError = std::io::Error::new(std::io::ErrorKind::OutOfMemory, AllocError { requested: 7 }).into();
        assert_eq!(e, EncodeError::Alloc(AllocError { requested: 7 }));
        assert_eq!(e.to_string(), "out of memory allocating 7 bytes");
    }
}
