//! Fluent Bit log events in msgpack: the encoder input plugins write with, and the zero-copy decoder
//! output plugins read with. Both record forms are handled: Fluent Bit 2.1+
//! `[[EventTime, {metadata}], {record}]` and legacy `[EventTime, {record}]`.

mod malloc_buf;

pub use malloc_buf::{AllocError, MallocBuf};
