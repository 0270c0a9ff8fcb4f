//! What decoding reports when the bytes are not what they should be: the kind and the byte offset.

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
    // Errors are the rare path: keeping their construction out of line keeps the hot loops small.
    #[cold]
    #[inline(never)]
    pub(crate) fn new(offset: usize, kind: DecodeErrorKind) -> Self {
        DecodeError { offset, kind }
    }
}

/// A [`DecodeErrorKind::Truncated`] error at `offset`.
#[cold]
#[inline(never)]
pub(crate) fn truncated(offset: usize) -> DecodeError {
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
