//! Fluent Bit log events in msgpack: the encoder input plugins write with, and the zero-copy decoder
//! output plugins read with. Both record forms are handled: Fluent Bit 2.1+
//! `[[EventTime, {metadata}], {record}]` and legacy `[EventTime, {record}]`.

mod malloc_buf;

pub use malloc_buf::{AllocError, MallocBuf};

mod decoder;
mod encoder;
mod time;

pub use decoder::{
    decode_value, skip_value, validate_chunk, Array, ArrayIter, DecodeError, DecodeErrorKind, Event, EventReader, Map,
    MapIter, Value,
};
pub use encoder::{encode_str_map, BodyBuf, EncodeError, EventWriter, MapBody, RecordBlock, RecordForm, RecordSpan};
pub use time::{EventTime, TimeKind};
