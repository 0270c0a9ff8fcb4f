//! The safe API plugin authors implement: one trait per plugin kind, typed config, logging. Nothing
//! here mentions pointers; the `boundary` module turns host calls into these trait calls.

pub mod config;
pub mod error;
pub mod log;

use crate::events::{EventReader, EventWriter, RecordForm};
pub use config::Config;
pub use error::{Error, FlushError, Result};
pub use log::{InstanceKind, Level, Logger};

/// What a plugin sees while one instance initialises.
pub struct InitContext<'a> {
    pub(crate) config: Config<'a>,
    pub(crate) log: Logger,
    pub(crate) record_form: RecordForm,
    pub(crate) reserve: usize,
    pub(crate) cmt: *mut core::ffi::c_void,
}

impl<'a> InitContext<'a> {
    /// A context for driving a plugin outside a host (tests, benchmarks): config from pairs, logs to
    /// stderr.
    pub fn detached(config: Config<'a>, kind: InstanceKind, plugin: &'static str) -> Self {
        InitContext {
            config,
            log: Logger::stderr(kind, plugin),
            record_form: RecordForm::Modern,
            reserve: 0,
            cmt: core::ptr::null_mut(),
        }
    }

    /// The instance's config keys.
    pub fn config(&self) -> Config<'a> {
        self.config
    }

    /// The instance's logger; keep a copy to log from later callbacks.
    pub fn logger(&self) -> Logger {
        self.log
    }

    /// Inputs: the record form collect writes (default: Fluent Bit 2.1+ `[[time, {metadata}], {record}]`).
    pub fn set_record_form(&mut self, form: RecordForm) {
        self.record_form = form;
    }

    /// Inputs: allocate the collect buffer at init with room for `bytes`, so no collect allocates
    /// (otherwise the first collect does).
    pub fn reserve_batch(&mut self, bytes: usize) {
        self.reserve = bytes;
    }

    /// The instance's cmetrics context (`struct cmt *`), or NULL when the host has none. Creating
    /// metrics on it needs cmetrics functions resolved from the host process.
    pub fn cmt_instance(&self) -> *mut core::ffi::c_void {
        self.cmt
    }
}

/// One chunk handed to an output's flush.
#[derive(Clone, Copy)]
pub struct Chunk<'a> {
    tag: &'a [u8],
    data: &'a [u8],
}

impl<'a> Chunk<'a> {
    /// A chunk of concatenated msgpack records with its tag.
    pub fn new(tag: &'a [u8], data: &'a [u8]) -> Self {
        Chunk { tag, data }
    }

    /// The tag's bytes, as the host passed them.
    pub fn tag(&self) -> &'a [u8] {
        self.tag
    }

    /// The raw msgpack bytes.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// The records, decoded lazily without copying.
    pub fn events(&self) -> EventReader<'a> {
        EventReader::new(self.data)
    }
}

/// An input plugin. Each instance runs its callbacks on its own thread in Fluent Bit; the SDK
/// serialises them, so they take `&mut self`.
pub trait InputPlugin: Sized + Send + 'static {
    /// The name users write in `Name` (keep it distinct from native plugins, which shadow proxies).
    const NAME: &'static str;
    /// One line shown by `fluent-bit --help`.
    const DESCRIPTION: &'static str;

    /// Builds an instance from its config; an error fails the instance with one log line.
    fn init(ctx: &mut InitContext<'_>) -> Result<Self>;

    /// Called after init, before the first collect (Fluent Bit 2.2+).
    fn pre_run(&mut self, _hot_reload: bool) -> Result<()> {
        Ok(())
    }

    /// Appends every record due now to `events`. Called once per collect interval (1 s in Fluent
    /// Bit), so return a whole batch. Writing nothing hands nothing over.
    fn collect(&mut self, events: &mut EventWriter) -> Result<()>;

    /// The host has taken the batch the last collect returned (its copy is safe): the moment to
    /// advance saved offsets.
    fn collected(&mut self) {}

    /// The engine paused this input (backpressure): stop producing until `resume`.
    fn pause(&mut self) {}

    /// The engine resumed this input.
    fn resume(&mut self) {}

    /// Shutdown is coming (Fluent Bit 2.2+).
    fn pre_exit(&mut self, _hot_reload: bool) {}

    /// The instance exits; join any thread of your own here (its code is unmapped after unload).
    fn exit(&mut self) -> Result<()> {
        Ok(())
    }
}

/// What an output plugin consumes, written to `event_type` at register (Fluent Bit 5.0+).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// Log records (the default; nothing is written, so old hosts work).
    Logs,
    /// Metrics.
    Metrics,
    /// Traces.
    Traces,
}

/// An output plugin. With `Workers N`, flush runs on N threads at once, hence `&self` and `Sync`.
/// Flush runs on a 64 KiB coroutine stack in Fluent Bit: no deep recursion, no big stack buffers.
pub trait OutputPlugin: Sized + Send + Sync + 'static {
    /// The name users write in `Name`.
    const NAME: &'static str;
    /// One line shown by `fluent-bit --help`.
    const DESCRIPTION: &'static str;
    /// The events this output consumes.
    const EVENT_TYPE: EventType = EventType::Logs;

    /// Builds an instance from its config; an error fails the instance with one log line.
    fn init(ctx: &mut InitContext<'_>) -> Result<Self>;

    /// Called after init, before the first flush (Fluent Bit 2.2+).
    fn pre_run(&self, _hot_reload: bool) -> Result<()> {
        Ok(())
    }

    /// Delivers one chunk. `Err(FlushError::Retry)` asks the engine to retry it later.
    fn flush(&self, chunk: Chunk<'_>) -> Result<(), FlushError>;

    /// Shutdown is coming (Fluent Bit 2.2+).
    fn pre_exit(&self, _hot_reload: bool) {}

    /// The instance exits.
    fn exit(&mut self) -> Result<()> {
        Ok(())
    }
}
