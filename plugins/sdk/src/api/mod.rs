//! The safe API plugin authors implement: one trait per plugin kind, typed config, logging. Nothing
//! here mentions pointers; the `boundary` module turns host calls into these trait calls.

pub mod config;
pub mod error;
pub mod keys;
pub mod log;
mod os_thread;
pub mod worker;

use crate::events::{EventReader, EventWriter, RecordForm};
pub use config::Config;
pub use error::{Error, FlushError, Result};
pub use keys::{Key, KeyType};
pub use log::{InstanceKind, Level, Logger};
pub use worker::{Batch, BatchId, SourceAck, SourceWriter, Taken, Waker, Worker, WorkerConfig};

/// What a plugin sees while one instance initialises.
pub struct InitContext<'a> {
    pub(crate) config: Config<'a>,
    pub(crate) log: Logger,
    pub(crate) record_form: RecordForm,
    pub(crate) reserve: usize,
    pub(crate) cmt: *mut core::ffi::c_void,
    /// `name.N`: which instance of the plugin this is.
    pub(crate) instance: usize,
    pub(crate) plugin: &'static str,
    /// The host's input instance (for `flb_input_log_append`), NULL for outputs and detached contexts.
    pub(crate) ins: *mut core::ffi::c_void,
    pub(crate) worker: Option<worker::WorkerRuntime>,
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
            instance: 0,
            plugin,
            ins: core::ptr::null_mut(),
            worker: None,
        }
    }

    /// The instance's config keys.
    pub fn config(&self) -> Config<'a> {
        self.config
    }

    /// The instance's logger; keep a clone to log from later callbacks or other threads.
    pub fn logger(&self) -> Logger {
        self.log.clone()
    }

    /// Which instance of this plugin is initialising (`0` for `name.0`, in init order).
    pub fn instance_index(&self) -> usize {
        self.instance
    }

    /// Inputs: the record form to write. `Modern` (the default) writes `[[time, {metadata}],
    /// {record}]` where the host is known to read it (Fluent Bit 2.1+; see the README's
    /// compatibility section) and the legacy form elsewhere; `Legacy` always writes `[time,
    /// {record}]` (metadata is dropped).
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

    /// True when records can go to Fluent Bit under tags of the input's choosing (the host exports
    /// `flb_input_log_append`, Fluent Bit 2.1+); otherwise every record gets the instance's tag.
    pub fn direct_append_available(&self) -> bool {
        !self.ins.is_null() && crate::boundary::host::log_append().is_some()
    }

    /// Inputs: the instance's `Tag` as the user set it (e.g. `app.*`), or its name (`gtail.0`) when
    /// unset, as Fluent Bit routes it. Fluent Bit does not hand `Tag` to proxy plugins, so this reads
    /// it from the host's input instance; `None` where that cannot be done safely (an unknown layout,
    /// a detached context). Inputs that compose per-source tags from it need direct append too (see
    /// [`direct_append_available`](Self::direct_append_available)).
    pub fn instance_tag(&self) -> Option<Vec<u8>> {
        if self.ins.is_null() {
            return None;
        }
        crate::boundary::instance_tag::read(self.ins, self.plugin)
    }

    /// Inputs: starts `f` on a thread of its own (named `NAME.N-worker`) that reads in the
    /// background and fills the batches collect hands over (see [`worker`]). From then on collect
    /// hands over the worker's batches and [`InputPlugin::collect`] is not called. The SDK stops and
    /// joins the thread at exit; nothing else is needed to manage it. One worker per instance.
    pub fn spawn_worker<F>(&mut self, config: WorkerConfig, f: F) -> Result<()>
    where
        F: FnOnce(Worker) + Send + 'static,
    {
        if self.worker.is_some() {
            return Err(Error::new("spawn_worker: this instance already has a worker"));
        }
        let direct = config.wants_direct_append() && self.direct_append_available();
        let form = crate::boundary::host::record_form(self.record_form);
        let name = format!("{}.{}-worker", self.plugin, self.instance);
        let rt = worker::WorkerRuntime::spawn(name, config, direct, form, self.log.clone(), f)
            .map_err(|e| Error::new(format!("cannot start the worker thread: {e}")))?;
        self.worker = Some(rt);
        Ok(())
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
    /// Every config key the plugin takes (see [`keys`]). Empty: the plugin declares none, reads
    /// any name, and hosts check none.
    const KEYS: &'static [Key] = &[];

    /// Builds an instance from its config; an error fails the instance with one log line.
    fn init(ctx: &mut InitContext<'_>) -> Result<Self>;

    /// Called after init, before the first collect (Fluent Bit 2.2+).
    fn pre_run(&mut self, _hot_reload: bool) -> Result<()> {
        Ok(())
    }

    /// Appends every record due now to `events`. Called once per collect interval (1 s in Fluent
    /// Bit), so return a whole batch. Writing nothing hands nothing over. Not called for an input
    /// that started a worker ([`InitContext::spawn_worker`]): collect hands over its batches.
    fn collect(&mut self, _events: &mut EventWriter) -> Result<()> {
        Ok(())
    }

    /// The host has taken `batch`: the records of the `batch`-th collect that wrote any (counting
    /// from 1) are copied into Fluent Bit's input chunk (not delivered: see [`worker`] for what
    /// "taken" means). Inputs with a worker learn this through [`Worker::acks`] instead.
    fn taken(&mut self, _batch: BatchId) {}

    /// The engine paused this input (backpressure): stop producing until `resume`.
    fn pause(&mut self) {}

    /// The engine resumed this input.
    fn resume(&mut self) {}

    /// Shutdown is coming (Fluent Bit 2.2+).
    fn pre_exit(&mut self, _hot_reload: bool) {}

    /// The instance exits (after the SDK joined the worker, if any); join any thread of your own here
    /// (its code is unmapped after unload).
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
    /// Every config key the plugin takes (see [`keys`]). Empty: the plugin declares none, reads
    /// any name, and hosts check none.
    const KEYS: &'static [Key] = &[];

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
