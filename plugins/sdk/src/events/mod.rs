//! Fluent Bit log events in msgpack: the encoder input plugins write with, and the zero-copy decoder
//! output plugins read with. Both record forms are handled: Fluent Bit 2.1+
//! `[[EventTime, {metadata}], {record}]` and legacy `[EventTime, {record}]`.
//!
//! Decoding comes in two shapes over the same bytes, neither of which recurses, allocates or panics
//! on malformed input:
//! - [`EventReader`] yields each record checked whole, as [`Value`]s: scalars decoded, arrays and
//!   maps lazy views to iterate or look keys up in.
//! - [`Cursor`] reads one msgpack [`Token`] at a time (a container yields only its header), for
//!   walking a whole value once in order, as a printer does.
//!
//! # Cost model
//!
//! Bytes are *checked* (every header, length and count, all the way down) once, and the views made
//! from checked bytes trust them:
//!
//! - [`decode_value`] and [`skip_value`] take arbitrary bytes: they check the whole value, O(its
//!   bytes). [`EventReader`] and [`validate_chunk`] do
//!   the same once per record (metadata and body).
//! - Elements of a checked container are decoded lazily: a nested array or map comes out of
//!   [`Array::iter`], [`Map::iter`] or [`Map::get`] in O(1), its header read and its end not looked
//!   for. Its bytes are skipped (not decoded, not re-checked) only when something must get past
//!   them: the iterator moving on to the next element, `Map::get` passing a pair, or
//!   [`Array::raw`] / [`Map::raw`] on a container that came out of an iterator or `get` (each call
//!   skips it again; containers straight from `decode_value` or an event know their extent).
//! - So one level at a time costs the bytes of that level: `Map::get` is O(bytes of the pairs
//!   before the match) and a chain of lookups down a path is O(bytes before each match) in all,
//!   however deep; iterating a container skips each nested container once.
//! - A full walk of every nested value through nested iterators still skips a value at depth `d`
//!   once per enclosing iterator (`d` times). To visit everything once, in order, use a
//!   [`Cursor`] (from [`Array::cursor`] / [`Map::cursor`] or [`Cursor::new`]): one pass, O(bytes),
//!   with the header of each container and nothing to skip.

mod malloc_buf;

pub use malloc_buf::{AllocError, MallocBuf};

mod cursor;
mod encoder;
mod error;
mod reader;
mod time;
mod value;
mod wire;

pub use cursor::{Cursor, Token};
pub use encoder::{
    encode_str_map, BodyBuf, EncodeError, EventWriter, MapBody, MapHead, RecordBlock, RecordForm, RecordSpan,
};
pub use error::{DecodeError, DecodeErrorKind};
pub(crate) use reader::validate_chunk_markers;
pub use reader::{validate_chunk, Event, EventReader};
pub use time::{EventTime, TimeKind};
pub use value::{decode_value, skip_value, Array, ArrayIter, Map, MapIter, Value};
