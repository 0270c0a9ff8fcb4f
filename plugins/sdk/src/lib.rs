//! Write Fluent Bit proxy plugins (the interface Go plugins use) in Rust.
//!
//! Three layers, kept apart:
//! - [`abi`]: `#[repr(C)]` mirrors of the structs and constants Fluent Bit's proxy uses.
//! - `boundary` (hidden): what the exported `extern "C"` functions do: catch panics, accept only
//!   instance pointers the registry holds, map results to return codes. Reached only through
//!   [`input_plugin!`] and [`output_plugin!`].
//! - [`api`] and [`events`]: what plugin authors use: the [`InputPlugin`](api::InputPlugin) and
//!   [`OutputPlugin`](api::OutputPlugin) traits, typed config, logging, and the msgpack event
//!   encoder and zero-copy decoder.
//!
//! A complete output plugin is in the repository's README ("Writing a plugin with the SDK"); it is
//! compiled as a doc-test of this crate.
#![deny(missing_docs)]

pub mod abi;
pub mod api;
#[doc(hidden)]
pub mod boundary;
pub mod events;
mod macros;
pub mod oom;
pub mod sync;

/// Every plugin built on the SDK gets the allocator that does not abort Fluent Bit when `malloc`
/// fails (see [`oom`]).
#[cfg(feature = "oom-allocator")]
#[global_allocator]
static GLOBAL: oom::OomSafeAlloc = oom::OomSafeAlloc;

#[cfg(flb_sdk_cbindgen)]
mod c_decls;

/// The README's Rust examples, compiled as doc-tests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeExamples;

/// Everything a plugin needs, in one import.
pub mod prelude {
    pub use crate::api::{
        Batch, BatchId, Chunk, Config, Error, EventType, FlushError, InitContext, InputPlugin, Key, KeyType, Level,
        Logger, OutputPlugin, Result, SourceAck, Taken, Waker, Worker, WorkerConfig,
    };
    pub use crate::events::{EventTime, EventWriter, RecordForm};
    pub use crate::{flb_debug, flb_error, flb_info, flb_warn};
}

#[doc(hidden)]
pub mod __private {
    pub use core::ffi::{c_char, c_int, c_void};

    /// `Some(value)` to write into `def->event_type`, only for non-log plugins: the field does not
    /// exist before Fluent Bit 5.0.
    pub const fn event_type_field(t: crate::api::EventType) -> Option<c_int> {
        match t {
            crate::api::EventType::Logs => None,
            crate::api::EventType::Metrics => Some(crate::abi::FLB_OUTPUT_METRICS),
            crate::api::EventType::Traces => Some(crate::abi::FLB_OUTPUT_TRACES),
        }
    }
}
