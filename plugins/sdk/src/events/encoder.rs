//! Writing log records into a libc-malloc'ed buffer an input plugin hands to Fluent Bit.
//!
//! Safe code can only put whole, valid records into an [`EventWriter`]: every append either writes
//! one complete record or leaves the buffer as it was. Already-encoded bytes (a body, metadata, a run
//! of records) are checked in full before they are accepted; bodies written in place go through an
//! append-only [`BodyBuf`] and are checked when the closure returns, or through a [`MapBody`] that can
//! only write valid pairs.

use super::malloc_buf::{AllocError, MallocBuf};
use super::time::{EventTime, Step};
use core::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};

/// Which record layout to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub enum RecordForm {
    /// `[[time, {metadata}], {body}]`, Fluent Bit 2.1+.
    #[default]
    Modern,
    /// `[time, {body}]`, understood by every Fluent Bit version.
    Legacy,
}

/// Where a record sits in the [`EventWriter`] that wrote it. Offsets, not pointers: it stays valid
/// after later appends, until the writer is cleared. Only that writer accepts it back.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RecordSpan {
    range: Range<usize>,
    time_at: usize,
    writer: u64,
    generation: u64,
}

impl RecordSpan {
    /// The record's bytes in the writer's buffer.
    pub fn range(&self) -> Range<usize> {
        self.range.clone()
    }

    /// Offset of the record's 10-byte time ext (`d7 00 ...`) in the writer's buffer.
    pub fn time_at(&self) -> usize {
        self.time_at
    }
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

/// True when `bytes` is exactly one complete msgpack map.
fn is_one_map(bytes: &[u8]) -> bool {
    matches!(bytes.first(), Some(&b) if is_map_marker(b)) && crate::events::skip_value(bytes, 0) == Ok(bytes.len())
}

/// Distinguishes writers, so a [`RecordSpan`] is only accepted by the writer that made it.
static NEXT_WRITER: AtomicU64 = AtomicU64::new(1);

/// The body of a record being written by [`EventWriter::append_with`]: append-only, so the closure
/// cannot reach the records already in the buffer. Implements `std::io::Write`, so `rmp::encode`
/// functions write into it.
pub struct BodyBuf<'a> {
    buf: &'a mut MallocBuf,
}

impl BodyBuf<'_> {
    /// Appends bytes.
    #[inline]
    pub fn extend_from_slice(&mut self, bytes: &[u8]) -> Result<(), AllocError> {
        self.buf.extend_from_slice(bytes)
    }

    /// Makes room for `additional` more bytes.
    #[inline]
    pub fn reserve(&mut self, additional: usize) -> Result<(), AllocError> {
        self.buf.reserve(additional)
    }
}

impl std::io::Write for BodyBuf<'_> {
    #[inline]
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf.write(bytes)
    }

    #[inline]
    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.buf.write_all(bytes)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The pairs of a record body written by [`EventWriter::append_map`]: each method writes one
/// key/value pair, so the body is valid msgpack by construction. Keys and string values are written
/// as msgpack strings byte for byte (bytes that are not UTF-8 pass unchanged, as Fluent Bit's own
/// inputs do).
pub struct MapBody<'a> {
    buf: &'a mut MallocBuf,
    pairs: u32,
}

impl MapBody<'_> {
    #[inline(always)]
    fn key(&mut self, k: &[u8]) -> Result<(), EncodeError> {
        self.pairs = self.pairs.checked_add(1).ok_or(EncodeError::Invalid("map too large"))?;
        write_str_bytes(self.buf, k)
    }

    /// A string value.
    #[inline(always)]
    pub fn str(&mut self, k: &str, v: &str) -> Result<(), EncodeError> {
        self.bytes(k.as_bytes(), v.as_bytes())
    }

    /// A string value given as bytes (written as a msgpack str, whatever the bytes).
    #[inline(always)]
    pub fn bytes(&mut self, k: &[u8], v: &[u8]) -> Result<(), EncodeError> {
        self.buf.reserve(k.len() + v.len() + 10)?;
        self.key(k)?;
        write_str_bytes(self.buf, v)
    }

    /// An unsigned integer value.
    #[inline(always)]
    pub fn uint(&mut self, k: &str, v: u64) -> Result<(), EncodeError> {
        self.key(k.as_bytes())?;
        rmp::encode::write_uint(self.buf, v)?;
        Ok(())
    }

    /// A signed integer value.
    #[inline]
    pub fn int(&mut self, k: &str, v: i64) -> Result<(), EncodeError> {
        self.key(k.as_bytes())?;
        rmp::encode::write_sint(self.buf, v)?;
        Ok(())
    }

    /// A float value.
    #[inline]
    pub fn f64(&mut self, k: &str, v: f64) -> Result<(), EncodeError> {
        self.key(k.as_bytes())?;
        rmp::encode::write_f64(self.buf, v)?;
        Ok(())
    }

    /// A boolean value.
    #[inline]
    pub fn bool(&mut self, k: &str, v: bool) -> Result<(), EncodeError> {
        self.key(k.as_bytes())?;
        rmp::encode::write_bool(self.buf, v).map_err(EncodeError::from)
    }

    /// A nil value.
    #[inline]
    pub fn nil(&mut self, k: &str) -> Result<(), EncodeError> {
        self.key(k.as_bytes())?;
        rmp::encode::write_nil(self.buf).map_err(EncodeError::from)
    }

    /// A value that is already encoded: it must be exactly one msgpack value (checked).
    pub fn raw(&mut self, k: &str, value: &[u8]) -> Result<(), EncodeError> {
        if value.is_empty() || crate::events::skip_value(value, 0) != Ok(value.len()) {
            return Err(EncodeError::Invalid("raw value is not exactly one msgpack value"));
        }
        self.key(k.as_bytes())?;
        self.buf.extend_from_slice(value)?;
        Ok(())
    }
}

#[inline(always)]
fn write_str_bytes(buf: &mut MallocBuf, s: &[u8]) -> Result<(), EncodeError> {
    // The header built here rather than by rmp's marker-then-data writes: one append instead of
    // two or three through io::Write, per string of every record. Same bytes as
    // rmp::encode::write_str_len (the shortest form).
    let len = s.len();
    let mut head = [0u8; 5];
    let h = if len < 32 {
        head[0] = 0xa0 | len as u8;
        1
    } else if len < 256 {
        head[..2].copy_from_slice(&[0xd9, len as u8]);
        2
    } else if let Ok(n) = u16::try_from(len) {
        head[0] = 0xda;
        head[1..3].copy_from_slice(&n.to_be_bytes());
        3
    } else {
        let n = u32::try_from(len).map_err(|_| EncodeError::Invalid("string longer than 4 GiB"))?;
        head[0] = 0xdb;
        head[1..].copy_from_slice(&n.to_be_bytes());
        5
    };
    buf.reserve(h + len)?;
    buf.extend_from_slice(&head[..h])?;
    buf.extend_from_slice(s)?;
    Ok(())
}

/// What records of one shape start with: header, time, metadata and the body's map header, encoded
/// once by [`EventWriter::set_map_head`] and copied in front of each record by
/// [`EventWriter::append_map_with_head`] (e.g. every line of one read of a file shares its time and
/// its field count). Reuse one: its buffer keeps its capacity.
#[derive(Clone, Debug, Default)]
pub struct MapHead {
    bytes: Vec<u8>,
    /// `None` until set: appending with it is refused.
    form: Option<RecordForm>,
    pairs: u32,
    /// Where the time ext starts in `bytes`.
    time_at: usize,
    /// Its time is negative (a group marker's): see [`EventWriter::counted_pieces`].
    negative: bool,
}

impl MapHead {
    /// An empty head: set it with [`EventWriter::set_map_head`] before use.
    pub fn new() -> Self {
        Self::default()
    }

    /// The pairs each record's body must have.
    pub fn pairs(&self) -> u32 {
        self.pairs
    }
}

/// Records encoded once (e.g. a dummy input's configured records) and appended again and again with
/// [`EventWriter::append_block`], each copy stamped with a new time.
#[derive(Debug)]
pub struct RecordBlock {
    bytes: EventWriter,
    /// Offset of each record's time ext.
    times: Vec<usize>,
    /// Offset of each record's start.
    starts: Vec<usize>,
    /// A record's own time is a group marker (see [`EventWriter::counted_pieces`]).
    markers: bool,
}

impl RecordBlock {
    /// The records `writer` holds, as a block.
    pub fn new(writer: EventWriter) -> Self {
        let base = writer.buf.as_ptr() as usize;
        let mut times = Vec::with_capacity(writer.records);
        let mut starts = Vec::with_capacity(writer.records);
        let markers = writer.markers;
        for ev in crate::events::EventReader::new(writer.as_bytes()).flatten() {
            let start = ev.raw.as_ptr() as usize - base;
            starts.push(start);
            // The writer always writes the time as ext 8 right after the array headers.
            times.push(start + if ev.form == RecordForm::Modern { 2 } else { 1 });
        }
        RecordBlock { bytes: writer, times, starts, markers }
    }

    /// The form the records were written in.
    pub fn form(&self) -> RecordForm {
        self.bytes.form
    }

    /// Number of records.
    pub fn records(&self) -> usize {
        self.times.len()
    }

    /// Encoded size in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// True when the block holds no record.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }
}

/// Builds a chunk of log records in libc memory, ready to hand to Fluent Bit.
///
/// `clear` keeps the allocation, so a writer reused across collects allocates nothing in steady state.
pub struct EventWriter {
    buf: MallocBuf,
    form: RecordForm,
    records: usize,
    id: u64,
    generation: u64,
    /// Split the records into pieces of about this many bytes (0: no pieces), see [`pieces`](Self::pieces).
    piece_limit: usize,
    /// Offsets where a new piece starts (record boundaries).
    cuts: Vec<usize>,
    /// Records before each cut, so a piece's record count is known without reading it.
    cut_records: Vec<usize>,
    /// Some record may be a group marker (time -1 or -2), which Fluent Bit does not count as a log
    /// record: then the counts are not handed over (see [`counted_pieces`](Self::counted_pieces)).
    markers: bool,
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
        EventWriter {
            buf: MallocBuf::new(),
            form,
            records: 0,
            id: NEXT_WRITER.fetch_add(1, Ordering::Relaxed),
            generation: 0,
            piece_limit: 0,
            cuts: Vec::new(),
            cut_records: Vec::new(),
            markers: false,
        }
    }

    /// The record form appends use.
    #[inline]
    pub fn form(&self) -> RecordForm {
        self.form
    }

    /// Changes the record form of later appends (records already written keep theirs). Inside a
    /// collect the SDK has already chosen the form the host understands.
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

    /// Forgets all records, keeping the allocation. Earlier [`RecordSpan`]s are no longer accepted.
    #[inline]
    pub fn clear(&mut self) {
        self.buf.clear();
        self.records = 0;
        self.generation += 1;
        self.cuts.clear();
        self.cut_records.clear();
        self.markers = false;
    }

    /// Makes room for `additional` more bytes.
    #[inline]
    pub fn reserve(&mut self, additional: usize) -> Result<(), EncodeError> {
        self.buf.reserve(additional).map_err(EncodeError::from)
    }

    /// The underlying buffer (read-only: writes go through the append methods, which keep every
    /// record whole).
    #[inline]
    pub fn buf(&self) -> &MallocBuf {
        &self.buf
    }

    /// The underlying buffer, for the SDK boundary, which hands its allocation to the host.
    #[inline]
    pub(crate) fn buf_mut(&mut self) -> &mut MallocBuf {
        &mut self.buf
    }

    /// Takes the buffer out (the writer is left empty, with no allocation).
    pub(crate) fn take_buf(&mut self) -> MallocBuf {
        self.records = 0;
        self.generation += 1;
        self.cuts.clear();
        self.cut_records.clear();
        self.markers = false;
        core::mem::take(&mut self.buf)
    }

    /// Splits the records into pieces of about `bytes` each at record boundaries (a record larger
    /// than that is a piece of its own); 0 turns it off. Takes effect for later appends.
    pub(crate) fn set_piece_limit(&mut self, bytes: usize) {
        self.piece_limit = bytes;
    }

    /// The records in pieces of about the piece limit (the whole buffer when no limit is set), each
    /// a run of whole records.
    #[cfg(test)]
    pub(crate) fn pieces(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.counted_pieces().map(|(piece, _)| piece)
    }

    /// [`pieces`](Self::pieces), each with its number of log records, for Fluent Bit's
    /// `flb_input_log_append_records` (which then need not decode the piece to count them); the
    /// count is `None` when a record may be a group marker, which Fluent Bit leaves out of its count.
    pub(crate) fn counted_pieces(&self) -> impl Iterator<Item = (&[u8], Option<usize>)> + '_ {
        let all = self.buf.as_slice();
        let markers = self.markers;
        let ends = self.cuts.iter().copied().zip(self.cut_records.iter().copied());
        let mut ends = ends.chain(core::iter::once((all.len(), self.records)));
        let (mut from, mut before) = (0usize, 0usize);
        core::iter::from_fn(move || loop {
            let (to, upto) = ends.next()?;
            let piece = all.get(from..to)?;
            let n = upto.saturating_sub(before);
            (from, before) = (to, upto);
            if !piece.is_empty() {
                return Some((piece, (!markers).then_some(n)));
            }
        })
    }

    fn span(&self, range: Range<usize>, time_at: usize) -> RecordSpan {
        RecordSpan { range, time_at, writer: self.id, generation: self.generation }
    }

    /// A record now starts at `start`, with `before` records ahead of it: a new piece begins there
    /// when the current one is full.
    #[inline(always)]
    fn note_record_start(&mut self, start: usize, end: usize, before: usize) {
        if self.piece_limit == 0 {
            return;
        }
        let last = self.cuts.last().copied().unwrap_or(0);
        if start > last && end - last > self.piece_limit {
            self.cuts.push(start);
            self.cut_records.push(before);
        }
    }

    #[inline(always)]
    fn note_time(&mut self, time: EventTime) {
        if time.secs < 0 {
            self.markers = true;
        }
    }

    /// Writes the record header and time (and metadata in modern form); returns the time offset.
    /// The caller truncates back to `start` on error. `metadata` was checked by the caller.
    #[inline]
    fn write_head(&mut self, time: EventTime, metadata: &[u8], extra: usize) -> Result<usize, EncodeError> {
        let start = self.buf.len();
        self.note_time(time);
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

    #[inline]
    fn check_metadata(metadata: &[u8]) -> Result<(), EncodeError> {
        if metadata.is_empty() || is_one_map(metadata) {
            Ok(())
        } else {
            Err(EncodeError::Invalid("metadata is not exactly one msgpack map"))
        }
    }

    /// Appends one record. `metadata` and `body` are already-encoded msgpack maps (`metadata` empty
    /// means `{}`; in legacy form metadata is dropped). Both are checked to be exactly one complete
    /// map (O(their length)).
    pub fn append(&mut self, time: EventTime, metadata: &[u8], body: &[u8]) -> Result<RecordSpan, EncodeError> {
        if !is_one_map(body) {
            return Err(EncodeError::Invalid("body is not exactly one msgpack map"));
        }
        Self::check_metadata(metadata)?;
        let start = self.buf.len();
        let res = self.write_head(time, metadata, body.len()).and_then(|time_at| {
            self.buf.extend_from_slice(body)?;
            Ok(time_at)
        });
        self.finish(start, res)
    }

    /// Appends one record whose body `f` writes into an append-only [`BodyBuf`] (e.g. with
    /// `rmp::encode` functions; `?` converts their errors). `f` must write exactly one msgpack map,
    /// which is checked when it returns (O(body length)). On error, from `f` or from the check, the
    /// buffer is truncated back so no partial record remains.
    pub fn append_with<F>(&mut self, time: EventTime, metadata: &[u8], f: F) -> Result<RecordSpan, EncodeError>
    where
        F: FnOnce(&mut BodyBuf<'_>) -> Result<(), EncodeError>,
    {
        Self::check_metadata(metadata)?;
        let start = self.buf.len();
        let res = self.write_head(time, metadata, 0).and_then(|time_at| {
            let body_at = self.buf.len();
            f(&mut BodyBuf { buf: &mut self.buf })?;
            match self.buf.as_slice().get(body_at..) {
                Some(body) if is_one_map(body) => Ok(time_at),
                _ => Err(EncodeError::Invalid("body is not exactly one msgpack map")),
            }
        });
        self.finish(start, res)
    }

    /// Appends one record whose body is a map of `pairs` pairs that `f` writes through a [`MapBody`]
    /// (valid by construction, so nothing is re-read: the fast path for inputs that build records
    /// field by field, such as a line reader's `{"log": line}`). `f` must write exactly `pairs`
    /// pairs, or the record is refused.
    #[inline]
    pub fn append_map<F>(
        &mut self,
        time: EventTime,
        metadata: &[u8],
        pairs: u32,
        f: F,
    ) -> Result<RecordSpan, EncodeError>
    where
        F: FnOnce(&mut MapBody<'_>) -> Result<(), EncodeError>,
    {
        Self::check_metadata(metadata)?;
        let start = self.buf.len();
        let res = self.write_head(time, metadata, 5).and_then(|time_at| {
            rmp::encode::write_map_len(&mut self.buf, pairs)?;
            let mut m = MapBody { buf: &mut self.buf, pairs: 0 };
            f(&mut m)?;
            if m.pairs != pairs {
                return Err(EncodeError::Invalid("append_map wrote a different number of pairs than declared"));
            }
            Ok(time_at)
        });
        self.finish(start, res)
    }

    /// Encodes into `head` what records with this time, metadata and `pairs` start with, in this
    /// writer's form (see [`MapHead`]). `metadata` is checked as by [`append`](Self::append).
    pub fn set_map_head(
        &self,
        head: &mut MapHead,
        time: EventTime,
        metadata: &[u8],
        pairs: u32,
    ) -> Result<(), EncodeError> {
        Self::check_metadata(metadata)?;
        let b = &mut head.bytes;
        b.clear();
        b.try_reserve(metadata.len().max(1) + 20).map_err(|_| AllocError { requested: metadata.len() + 20 })?;
        match self.form {
            RecordForm::Modern => {
                b.extend_from_slice(&[0x92, 0x92]);
                head.time_at = 2;
                b.extend_from_slice(&time.to_ext_bytes());
                b.extend_from_slice(if metadata.is_empty() { &[0x80] } else { metadata });
            }
            RecordForm::Legacy => {
                b.push(0x92);
                head.time_at = 1;
                b.extend_from_slice(&time.to_ext_bytes());
            }
        }
        rmp::encode::write_map_len(b, pairs)?;
        head.form = Some(self.form);
        head.pairs = pairs;
        head.negative = time.secs < 0;
        Ok(())
    }

    /// As [`append_map`](Self::append_map), with the record's start copied from `head` (one copy
    /// instead of encoding the time, the metadata and the map header again per record). `head` must
    /// have been set for this writer's current form; `f` must write exactly `head.pairs()` pairs.
    #[inline(always)]
    pub fn append_map_with_head<F>(&mut self, head: &MapHead, f: F) -> Result<RecordSpan, EncodeError>
    where
        F: FnOnce(&mut MapBody<'_>) -> Result<(), EncodeError>,
    {
        if head.form != Some(self.form) {
            return Err(EncodeError::Invalid("map head not set for this writer's record form"));
        }
        let start = self.buf.len();
        self.markers |= head.negative;
        let res = self.buf.extend_from_slice(&head.bytes).map_err(EncodeError::from).and_then(|()| {
            let mut m = MapBody { buf: &mut self.buf, pairs: 0 };
            f(&mut m)?;
            if m.pairs != head.pairs {
                return Err(EncodeError::Invalid("append_map wrote a different number of pairs than declared"));
            }
            Ok(start + head.time_at)
        });
        self.finish(start, res)
    }

    #[inline]
    fn finish(&mut self, start: usize, res: Result<usize, EncodeError>) -> Result<RecordSpan, EncodeError> {
        match res {
            Ok(time_at) => {
                self.records += 1;
                let end = self.buf.len();
                self.note_record_start(start, end, self.records - 1);
                Ok(self.span(start..end, time_at))
            }
            Err(e) => {
                self.buf.truncate(start);
                Err(e)
            }
        }
    }

    /// Checks that `span` was made by this writer since its last clear; returns the time offset
    /// relative to the record start.
    fn check_span(&self, span: &RecordSpan) -> Option<usize> {
        if span.writer != self.id || span.generation != self.generation || span.range.end > self.buf.len() {
            return None;
        }
        Some(span.time_at - span.range.start)
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
        let off = self.check_span(span).ok_or(EncodeError::Invalid("record span is not from this writer"))?;
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
        if self.piece_limit > 0 {
            for i in 0..count {
                self.note_record_start(dst + i * len, dst + (i + 1) * len, self.records + i);
            }
        }
        self.records += count;
        self.note_time(first);
        let step = Step::new(step_ns);
        let mut t = first;
        // Copies that all carry the source record's own time need no patching: plain memcpy speed.
        let unchanged =
            step_ns == 0 && self.buf.as_slice().get(span.time_at..span.time_at + 10) == Some(&first.to_ext_bytes()[..]);
        if unchanged {
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
        Ok(())
    }

    /// Overwrites the time of a record this writer wrote. Does nothing for a span from another
    /// writer or from before the last clear.
    pub fn patch_time(&mut self, span: &RecordSpan, time: EventTime) {
        if self.check_span(span).is_none() {
            return;
        }
        self.note_time(time);
        if let Some(slot) = self.buf.as_mut_slice().get_mut(span.time_at..span.time_at + 10) {
            slot.copy_from_slice(&time.to_ext_bytes());
        }
    }

    /// Appends the records of `block`, all stamped with `time` (or keeping their own when `None`);
    /// returns the span of the last one (`None` for an empty block), e.g. to [`repeat`](Self::repeat)
    /// it. The block's records were checked when they were written, so this is a `memcpy` and the
    /// time patches: the way to append a record known at init, collect after collect.
    pub fn append_block(
        &mut self,
        block: &RecordBlock,
        time: Option<EventTime>,
    ) -> Result<Option<RecordSpan>, EncodeError> {
        let dst = self.buf.len();
        self.buf.extend_from_slice(block.bytes.as_bytes())?;
        let before = self.records;
        self.records += block.records();
        match time {
            Some(t) => self.note_time(t),
            None => self.markers |= block.markers,
        }
        if self.piece_limit > 0 {
            let ends = block.starts.iter().skip(1).copied().chain(core::iter::once(block.len()));
            for (i, (&s, e)) in block.starts.iter().zip(ends).enumerate() {
                self.note_record_start(dst + s, dst + e, before + i);
            }
        }
        if let Some(t) = time {
            let t = t.to_ext_bytes();
            for &at in &block.times {
                if let Some(slot) = self.buf.as_mut_slice().get_mut(dst + at..dst + at + 10) {
                    slot.copy_from_slice(&t);
                }
            }
        }
        let last = block.starts.last().zip(block.times.last());
        Ok(last.map(|(&s, &t)| self.span(dst + s..dst + block.len(), dst + t)))
    }

    /// Appends already-encoded whole records, after checking all of them (O(length)); returns how
    /// many there were. Nothing is appended when any is malformed.
    pub fn append_encoded(&mut self, bytes: &[u8]) -> Result<usize, EncodeError> {
        let (n, markers) =
            crate::events::validate_chunk_markers(bytes).map_err(|_| EncodeError::Invalid("not whole log records"))?;
        let dst = self.buf.len();
        self.buf.extend_from_slice(bytes)?;
        let before = self.records;
        self.records += n;
        self.markers |= markers;
        if self.piece_limit > 0 {
            for (i, ev) in crate::events::EventReader::new(bytes).flatten().enumerate() {
                let s = ev.raw.as_ptr() as usize - bytes.as_ptr() as usize;
                self.note_record_start(dst + s, dst + s + ev.raw.len(), before + i);
            }
        }
        Ok(n)
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

    #[test]
    fn a_map_head_writes_the_bytes_append_map_writes() {
        let t = EventTime::new(1_700_000_000, 5);
        let meta = body(&[("source", "test")]);
        for form in [RecordForm::Modern, RecordForm::Legacy] {
            for metadata in [&[][..], meta.as_slice()] {
                let (mut a, mut b) = (EventWriter::new(form), EventWriter::new(form));
                let mut head = MapHead::new();
                b.set_map_head(&mut head, t, metadata, 2).unwrap();
                for line in ["one", "a longer line of text than thirty-two bytes"] {
                    let sa = a
                        .append_map(t, metadata, 2, |m| {
                            m.str("log", line)?;
                            m.uint("offset", 7)
                        })
                        .unwrap();
                    let sb = b
                        .append_map_with_head(&head, |m| {
                            m.str("log", line)?;
                            m.uint("offset", 7)
                        })
                        .unwrap();
                    assert_eq!(sa.range, sb.range);
                    assert_eq!(sa.time_at, sb.time_at);
                }
                assert_eq!(a.as_bytes(), b.as_bytes(), "{form:?}, metadata {metadata:?}");
                assert_eq!(b.records(), 2);
                assert!(validate_chunk(b.as_bytes()).is_ok());
            }
        }
    }

    #[test]
    fn a_map_head_refuses_a_wrong_pair_count_a_wrong_form_and_bad_metadata() {
        let t = EventTime::new(1, 0);
        let mut w = EventWriter::new(RecordForm::Modern);
        let mut head = MapHead::new();
        assert!(w.append_map_with_head(&head, |m| m.str("k", "v")).is_err(), "an unset head");
        w.set_map_head(&mut head, t, b"", 2).unwrap();
        assert!(w.append_map_with_head(&head, |m| m.str("k", "v")).is_err(), "one pair of two");
        assert_eq!((w.records(), w.as_bytes().len()), (0, 0), "nothing of the refused record stays");
        w.set_form(RecordForm::Legacy);
        assert!(w
            .append_map_with_head(&head, |m| {
                m.str("k", "v")?;
                m.str("l", "w")
            })
            .is_err());
        assert!(w.set_map_head(&mut head, t, &[0x91, 0x01], 1).is_err(), "metadata that is not a map");
    }

    #[test]
    fn str_headers_are_rmps_at_every_length_boundary() {
        for len in [0usize, 1, 31, 32, 255, 256, 65_535, 65_536, 100_000] {
            let s = vec![b'x'; len];
            let mut ours = MallocBuf::new();
            write_str_bytes(&mut ours, &s).unwrap();
            let mut want = Vec::new();
            rmp::encode::write_str_len(&mut want, len as u32).unwrap();
            want.extend_from_slice(&s);
            assert_eq!(ours.as_slice(), &want[..], "length {len}");
        }
    }

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
        assert_eq!((s.range(), s.time_at()), (0..want.len(), 2));
        w.set_form(RecordForm::Legacy);
        assert_eq!(w.form(), RecordForm::Legacy);
        let s2 = w.append(t, &[0x81, 0xa1, b'x', 0x01], &[0x80]).unwrap();
        assert_eq!(s2.time_at(), want.len() + 1);
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
        // A span from another writer, or from before a clear, is ignored.
        let mut other = EventWriter::default();
        let foreign = other.append(EventTime::new(1, 0), b"", &[0x80]).unwrap();
        w.patch_time(&foreign, EventTime::new(1, 1));
        assert_eq!(EventReader::new(w.as_bytes()).next().unwrap().unwrap().time, EventTime::new(9, 9));
        let before = w.as_bytes().to_vec();
        w.clear();
        w.append(EventTime::new(2, 0), b"", &[0x81, 0xa1, b'k', 0x01]).unwrap();
        w.append_encoded(&before).unwrap();
        let snapshot = w.as_bytes().to_vec();
        w.patch_time(&s, EventTime::new(1, 1));
        assert_eq!(w.as_bytes(), &snapshot[..], "a span from before the clear changed nothing");
        assert!(w.repeat(&s, 2, EventTime::new(0, 0), 0).is_err());
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
    fn repeat_rejects_foreign_spans() {
        let mut w = EventWriter::default();
        let s = w.append(EventTime::new(1, 0), b"", &[0x80]).unwrap();
        let mut other = EventWriter::default();
        let foreign = other.append(EventTime::new(1, 0), b"", &[0x80]).unwrap();
        assert!(matches!(w.repeat(&foreign, 3, EventTime::new(0, 0), 0), Err(EncodeError::Invalid(_))));
        assert_eq!(w.records(), 1);
        assert!(matches!(w.repeat(&s, usize::MAX, EventTime::new(0, 0), 0), Err(EncodeError::Alloc(_))));
        assert_eq!(w.len(), s.range().len());
    }

    #[test]
    fn append_encoded_checks_and_counts() {
        let mut a = EventWriter::new(RecordForm::Legacy);
        a.append(EventTime::new(1, 0), b"", &[0x80]).unwrap();
        a.append(EventTime::new(2, 0), b"", &[0x80]).unwrap();
        let mut w = EventWriter::default();
        assert_eq!(w.append_encoded(a.as_bytes()), Ok(2));
        assert_eq!(w.append_encoded(b""), Ok(0));
        assert!(w.append_encoded(b"\x80").is_err());
        // Truncated: every prefix that ends inside a record is refused whole.
        let first = a.len() / 2;
        for cut in (1..a.len()).filter(|&c| c != first) {
            assert!(w.append_encoded(&a.as_bytes()[..cut]).is_err(), "prefix {cut}");
        }
        assert_eq!(w.records(), 2);
        assert_eq!(validate_chunk(w.as_bytes()), Ok(2));
    }

    #[test]
    fn only_whole_maps_are_accepted_as_bodies_and_metadata() {
        let mut w = EventWriter::default();
        let t = EventTime::new(1, 0);
        // A map header claiming more pairs than follow, a map followed by trailing bytes, a reserved
        // marker inside: all refused, nothing written.
        for bad in [&[0x81, 0xa1, b'k'][..], &[0x80, 0x80], &[0x81, 0xa1, b'k', 0xc1], &[0xdf, 0, 0, 0, 9]] {
            assert!(w.append(t, b"", bad).is_err(), "{bad:x?}");
            assert!(w.append(t, bad, &[0x80]).is_err(), "{bad:x?}");
        }
        let r = w.append_with(t, b"", |b| {
            rmp::encode::write_map_len(b, 2)?;
            rmp::encode::write_str(b, "only one pair")?;
            rmp::encode::write_nil(b)?;
            Ok(())
        });
        assert!(r.is_err());
        let r = w.append_with(t, b"", |b| {
            rmp::encode::write_map_len(b, 0)?;
            rmp::encode::write_nil(b)?;
            Ok(())
        });
        assert!(r.is_err(), "trailing bytes after the body");
        assert!(w.is_empty());
        assert_eq!(w.records(), 0);
    }

    #[test]
    fn append_map_writes_canonical_maps_and_refuses_a_wrong_count() {
        let mut w = EventWriter::new(RecordForm::Legacy);
        let line = b"caf\xc3\xa9 \xff not utf-8";
        w.append_map(EventTime::new(3, 4), b"", 3, |m| {
            m.bytes(b"log", line)?;
            m.uint("offset", 1 << 40)?;
            m.str("path", "/var/log/a.log")
        })
        .unwrap();
        let ev = EventReader::new(w.as_bytes()).next().unwrap().unwrap();
        let body = ev.body.as_map().unwrap();
        assert_eq!(body.raw()[0], 0x83, "fixmap header");
        assert_eq!(body.get(b"log").unwrap().unwrap().as_bytes(), Some(&line[..]));
        assert_eq!(body.get(b"offset").unwrap().unwrap().as_u64(), Some(1 << 40));
        assert_eq!(body.get(b"path").unwrap().unwrap().as_str(), Some("/var/log/a.log"));
        let len = w.len();
        assert!(w.append_map(EventTime::new(3, 4), b"", 2, |m| m.str("a", "b")).is_err());
        assert!(w.append_map(EventTime::new(3, 4), b"", 1, |m| m.raw("a", &[0x92, 0x01])).is_err());
        assert_eq!(w.len(), len);
        assert_eq!(w.records(), 1);
        assert_eq!(validate_chunk(w.as_bytes()), Ok(1));
    }

    #[test]
    fn blocks_repeat_records_with_new_times() {
        let mut tpl = EventWriter::new(RecordForm::Modern);
        tpl.append(EventTime::new(0, 0), &[0x81, 0xa1, b'm', 0x01], &[0x81, 0xa1, b'a', 0x01]).unwrap();
        tpl.append(EventTime::new(0, 0), b"", &[0x81, 0xa1, b'b', 0x02]).unwrap();
        let block = RecordBlock::new(tpl);
        assert_eq!((block.records(), block.form()), (2, RecordForm::Modern));
        let mut w = EventWriter::new(RecordForm::Modern);
        w.append_block(&block, Some(EventTime::new(7, 1))).unwrap();
        w.append_block(&block, None).unwrap();
        let times: Vec<_> = EventReader::new(w.as_bytes()).map(|e| e.unwrap().time).collect();
        assert_eq!(times, [EventTime::new(7, 1), EventTime::new(7, 1), EventTime::new(0, 0), EventTime::new(0, 0)]);
        assert_eq!(w.records(), 4);
    }

    #[test]
    fn pieces_cut_at_record_boundaries() {
        let mut w = EventWriter::new(RecordForm::Legacy);
        w.set_piece_limit(100);
        let mut n = 0;
        while w.len() < 1000 {
            w.append_map(EventTime::new(1, 0), b"", 1, |m| m.bytes(b"log", &[b'x'; 30])).unwrap();
            n += 1;
        }
        let s = w.append(EventTime::new(1, 0), b"", &[0x80]).unwrap();
        w.repeat(&s, 50, EventTime::new(2, 0), 0).unwrap();
        n += 51;
        let pieces: Vec<&[u8]> = w.pieces().collect();
        assert!(pieces.len() > 5, "{}", pieces.len());
        let mut total = 0;
        for p in &pieces {
            assert!(p.len() <= 100 + 50, "a piece is about the limit: {}", p.len());
            total += validate_chunk(p).unwrap();
        }
        assert_eq!(total, n);
        assert_eq!(pieces.iter().map(|p| p.len()).sum::<usize>(), w.len());
        w.clear();
        assert_eq!(w.pieces().count(), 0);
    }

    /// Each piece's count is what a decoder finds in it, through every way of appending, with and
    /// without a piece limit; any negative time (a group marker) withholds the counts.
    #[test]
    fn counted_pieces_count_what_they_hold() {
        let block = {
            let mut b = EventWriter::new(RecordForm::Modern);
            for i in 0..3 {
                b.append_map(EventTime::new(5, i), b"", 1, |m| m.bytes(b"k", b"v")).unwrap();
            }
            RecordBlock::new(b)
        };
        let mut encoded = EventWriter::new(RecordForm::Legacy);
        for _ in 0..4 {
            encoded.append(EventTime::new(9, 0), b"", &[0x81, 0xa1, b'a', 0x01]).unwrap();
        }
        for limit in [0usize, 1, 40, 100, 1000] {
            let mut w = EventWriter::new(RecordForm::Modern);
            w.set_piece_limit(limit);
            for i in 0..20 {
                w.append_map(EventTime::new(1, 0), b"", 1, |m| m.bytes(b"log", &vec![b'x'; i * 3])).unwrap();
            }
            let s = w.append(EventTime::new(2, 0), b"", &[0x80]).unwrap();
            w.repeat(&s, 17, EventTime::new(3, 0), 1000).unwrap();
            w.append_block(&block, None).unwrap();
            w.append_block(&block, Some(EventTime::new(7, 0))).unwrap();
            w.append_encoded(encoded.as_bytes()).unwrap();
            let mut head = MapHead::new();
            w.set_map_head(&mut head, EventTime::new(8, 0), b"", 1).unwrap();
            for _ in 0..5 {
                w.append_map_with_head(&head, |m| m.bytes(b"log", b"line")).unwrap();
            }
            let expected_total = 20 + 1 + 17 + 3 + 3 + 4 + 5;
            assert_eq!(w.records(), expected_total);
            let mut total = 0;
            for (piece, n) in w.counted_pieces() {
                assert_eq!(n, Some(validate_chunk(piece).unwrap()), "limit {limit}");
                total += n.unwrap();
            }
            assert_eq!(total, expected_total, "limit {limit}");
        }
        // Group markers, written or appended encoded, or a time patched to one: no counts.
        let marker_writers: [fn(&mut EventWriter); 4] = [
            |w| {
                w.append(EventTime::GROUP_START, b"", &[0x80]).unwrap();
            },
            |w| {
                let mut m = EventWriter::new(RecordForm::Modern);
                m.append(EventTime::GROUP_END, b"", &[0x80]).unwrap();
                w.append_encoded(m.as_bytes()).unwrap();
            },
            |w| {
                let s = w.append(EventTime::new(1, 0), b"", &[0x80]).unwrap();
                w.patch_time(&s, EventTime::new(-2, 0));
            },
            |w| {
                let mut head = MapHead::new();
                w.set_map_head(&mut head, EventTime::GROUP_START, b"", 0).unwrap();
                w.append_map_with_head(&head, |_| Ok(())).unwrap();
            },
        ];
        for add_marker in marker_writers {
            let mut w = EventWriter::new(RecordForm::Modern);
            w.set_piece_limit(10);
            w.append(EventTime::new(1, 0), b"", &[0x80]).unwrap();
            add_marker(&mut w);
            assert!(w.counted_pieces().all(|(_, n)| n.is_none()));
            w.clear();
            w.append(EventTime::new(1, 0), b"", &[0x80]).unwrap();
            assert_eq!(w.counted_pieces().map(|(_, n)| n).collect::<Vec<_>>(), [Some(1)], "clear forgets markers");
        }
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
