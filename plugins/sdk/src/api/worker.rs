//! Inputs that read on a thread of their own: the SDK starts and joins the thread, the thread fills
//! a bounded [`Batch`], and each collect hands the filled batch to Fluent Bit without copying it.
//!
//! What "taken" means: Fluent Bit copied the batch's records into its input chunks (the cleanup
//! callback came, or `flb_input_log_append` returned 0 for every piece of a source). It does not mean
//! delivered: the records may still be lost with Fluent Bit's memory buffer, exactly as records of a
//! native input are. An input that saves read positions advances them for taken sources only, so a
//! crash repeats what was not taken and loses nothing the input had read.
//!
//! The thread's life: started by [`InitContext::spawn_worker`](crate::api::InitContext::spawn_worker);
//! [`Worker::paused`] while Fluent Bit pauses the input (the batch does not grow); told to stop at
//! pre-exit (or exit on hosts without pre-exit); joined by exit, or by Unregister when the host never
//! exited the instance. A panic on the thread is caught and logged.

use super::log::Logger;
use super::os_thread::OsThread;
use crate::events::{EncodeError, EventWriter, RecordForm};
use crate::sync::{Condvar, Mutex, MutexGuard};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

// Not `pub`: cbindgen would put them in the C header, which holds only the ABI.
/// Fluent Bit keeps an input chunk near 2 MB (`FLB_INPUT_CHUNK_FS_MAX_SIZE`): direct appends are cut
/// into pieces of about this size, so one batch never becomes one giant chunk that outputs with
/// request limits choke on.
const PIECE_BYTES: usize = 2_048_000;

/// The default batch cap: a second of reading at a few hundred MB/s would be far more than a chunk,
/// and memory must stay bounded whatever the input rate.
const DEFAULT_BATCH_BYTES: usize = 32 << 20;

/// How a worker's batches are bounded and handed over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkerConfig {
    batch_limit: usize,
    piece_bytes: usize,
    direct_append: bool,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig { batch_limit: DEFAULT_BATCH_BYTES, piece_bytes: PIECE_BYTES, direct_append: true }
    }
}

impl WorkerConfig {
    /// True when direct append is asked for.
    pub(crate) fn wants_direct_append(&self) -> bool {
        self.direct_append
    }

    /// Defaults: a 32 MiB batch cap, 2,048,000-byte pieces, direct append where the host has it.
    pub fn new() -> Self {
        Self::default()
    }

    /// The batch is full (and [`Worker::fill`] refuses to run) once it holds this many bytes.
    pub fn batch_limit(mut self, bytes: usize) -> Self {
        self.batch_limit = bytes.max(1);
        self
    }

    /// The size of the pieces a batch is appended in (direct append only).
    pub fn piece_bytes(mut self, bytes: usize) -> Self {
        self.piece_bytes = bytes.max(1);
        self
    }

    /// Whether to append through Fluent Bit's `flb_input_log_append` when the host exports it (per
    /// source tags, pieces, per-append results); otherwise every record goes in one buffer under
    /// the instance's tag.
    pub fn direct_append(mut self, on: bool) -> Self {
        self.direct_append = on;
        self
    }
}

/// A batch's sequence number, counting from 1 per instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct BatchId(pub u64);

impl core::fmt::Display for BatchId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "batch {}", self.0)
    }
}

/// What became of one source's records in a batch the host was handed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SourceAck {
    /// The source, as given to [`Batch::source`].
    pub source: u64,
    /// The last mark set for the source in this batch (e.g. the read offset after its last line).
    pub mark: u64,
    /// Records of this source in the batch.
    pub records: u64,
    /// True when the host took every record of the source; false when an append failed (then some
    /// may have been taken: read them again, and the repeat is the at-least-once duplicate).
    pub taken: bool,
}

/// The host was handed a batch: what it took, per source.
#[derive(Debug, Default)]
pub struct Taken {
    batch: BatchId,
    sources: Vec<SourceAck>,
}

impl Taken {
    /// Which batch.
    pub fn batch(&self) -> BatchId {
        self.batch
    }

    /// Per source, in the order sources first appeared in the batch.
    pub fn sources(&self) -> &[SourceAck] {
        &self.sources
    }

    /// True when every source was taken.
    pub fn all_taken(&self) -> bool {
        self.sources.iter().all(|s| s.taken)
    }
}

struct TagWriter {
    /// The tag, NUL-terminated: Fluent Bit before 4.1.1 matched some tags as C strings, so the tag
    /// handed over by pointer and length also ends in a NUL.
    tag: Vec<u8>,
    events: EventWriter,
}

struct SourceEntry {
    source: u64,
    mark: u64,
    records: u64,
    writer: usize,
}

/// The records a worker is gathering for the next collect, per source (e.g. per file) and tag.
pub struct Batch {
    id: BatchId,
    direct: bool,
    form: RecordForm,
    piece: usize,
    limit: usize,
    writers: Vec<TagWriter>,
    active_writers: usize,
    sources: Vec<SourceEntry>,
    last_source: usize,
    bytes: usize,
}

impl core::fmt::Debug for Batch {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Batch")
            .field("id", &self.id)
            .field("bytes", &self.bytes)
            .field("sources", &self.sources.len())
            .finish()
    }
}

impl Batch {
    fn new(id: BatchId, cfg: &WorkerConfig, direct: bool, form: RecordForm) -> Self {
        Batch {
            id,
            direct,
            form,
            piece: cfg.piece_bytes,
            limit: cfg.batch_limit,
            writers: Vec::new(),
            active_writers: 0,
            sources: Vec::new(),
            last_source: 0,
            bytes: 0,
        }
    }

    /// A batch outside any worker (tests and fuzzing drive a source's reads with it): every record
    /// goes into one buffer, read back with [`written`](Self::written).
    #[doc(hidden)]
    pub fn detached(limit: usize, form: RecordForm) -> Batch {
        Batch::new(BatchId(1), &WorkerConfig::new().batch_limit(limit), false, form)
    }

    /// The records written so far, in order, when every record goes into one buffer (a
    /// [`detached`](Self::detached) batch, or a host without direct append).
    #[doc(hidden)]
    pub fn written(&self) -> &[u8] {
        match self.writers.first() {
            Some(w) if self.active_writers > 0 && !self.direct => w.events.as_bytes(),
            _ => &[],
        }
    }

    /// This batch's number.
    pub fn id(&self) -> BatchId {
        self.id
    }

    /// Bytes of records in the batch.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Bytes that fit before the batch is full.
    pub fn room(&self) -> usize {
        self.limit.saturating_sub(self.bytes)
    }

    /// True once the batch holds its limit.
    pub fn is_full(&self) -> bool {
        self.bytes >= self.limit
    }

    /// True when no record was written.
    pub fn is_empty(&self) -> bool {
        self.bytes == 0
    }

    /// The record form this batch is written in (what the host understands).
    pub fn form(&self) -> RecordForm {
        self.form
    }

    /// True when records go to the host per tag (direct append); false when every record goes under
    /// the instance's tag.
    pub fn tags_apply(&self) -> bool {
        self.direct
    }

    /// Where records of `source` go, under `tag` (used with direct append; otherwise the instance's
    /// tag applies). A source's tag is the one given first in a batch.
    pub fn source(&mut self, source: u64, tag: &[u8]) -> Result<SourceWriter<'_>, EncodeError> {
        let idx = match self.sources.get(self.last_source) {
            Some(e) if e.source == source => self.last_source,
            _ => match self.sources.iter().position(|e| e.source == source) {
                Some(i) => i,
                None => self.add_source(source, tag)?,
            },
        };
        self.last_source = idx;
        let w = self.sources[idx].writer;
        let len0 = self.writers[w].events.len();
        let rec0 = self.writers[w].events.records();
        Ok(SourceWriter { batch: self, idx, w, len0, rec0 })
    }

    fn add_source(&mut self, source: u64, tag: &[u8]) -> Result<usize, EncodeError> {
        let writer = if self.direct || self.active_writers == 0 {
            if self.active_writers == self.writers.len() {
                self.writers.push(TagWriter { tag: Vec::new(), events: EventWriter::new(self.form) });
            }
            let w = &mut self.writers[self.active_writers];
            w.tag.clear();
            let tag = tag.split(|&b| b == 0).next().unwrap_or_default();
            w.tag
                .try_reserve(tag.len() + 1)
                .map_err(|_| EncodeError::Alloc(crate::events::AllocError { requested: tag.len() + 1 }))?;
            w.tag.extend_from_slice(tag);
            w.tag.push(0);
            w.events.set_form(self.form);
            w.events.set_piece_limit(if self.direct { self.piece } else { 0 });
            self.active_writers += 1;
            self.active_writers - 1
        } else {
            0
        };
        self.sources.push(SourceEntry { source, mark: 0, records: 0, writer });
        Ok(self.sources.len() - 1)
    }

    /// Empties the batch for reuse, keeping allocations up to about its limit.
    fn clear(&mut self, id: BatchId, form: RecordForm) {
        self.id = id;
        self.form = form;
        self.bytes = 0;
        self.sources.clear();
        self.last_source = 0;
        self.active_writers = 0;
        let mut kept = 0usize;
        for w in self.writers.iter_mut() {
            w.events.clear();
            w.events.set_form(form);
            kept = kept.saturating_add(w.events.buf().capacity());
        }
        // Many sources in one burst would otherwise pin a buffer each for good.
        while kept > self.limit.saturating_add(self.piece) {
            match self.writers.pop() {
                Some(w) => kept = kept.saturating_sub(w.events.buf().capacity()),
                None => break,
            }
        }
    }

    fn ack(&self, taken_per_writer: impl Fn(usize) -> bool, out: &mut Vec<SourceAck>) {
        out.clear();
        out.extend(self.sources.iter().map(|e| SourceAck {
            source: e.source,
            mark: e.mark,
            records: e.records,
            taken: taken_per_writer(e.writer),
        }));
    }
}

/// Writes one source's records into a [`Batch`]; see [`events`](Self::events).
pub struct SourceWriter<'a> {
    batch: &'a mut Batch,
    idx: usize,
    w: usize,
    len0: usize,
    rec0: usize,
}

impl SourceWriter<'_> {
    /// The writer to append this source's records with.
    pub fn events(&mut self) -> &mut EventWriter {
        &mut self.batch.writers[self.w].events
    }

    /// Remembers `mark` for this source (e.g. the offset after the last line written); the
    /// acknowledgement reports the last mark set in the batch.
    pub fn set_mark(&mut self, mark: u64) {
        self.batch.sources[self.idx].mark = mark;
    }

    /// Bytes that still fit in the batch, counting what this writer appended so far.
    pub fn room(&self) -> usize {
        let added = self.batch.writers[self.w].events.len().saturating_sub(self.len0);
        self.batch.limit.saturating_sub(self.batch.bytes.saturating_add(added))
    }
}

impl Drop for SourceWriter<'_> {
    fn drop(&mut self) {
        let ev = &self.batch.writers[self.w].events;
        let added = ev.len().saturating_sub(self.len0);
        let recs = ev.records().saturating_sub(self.rec0);
        self.batch.bytes = self.batch.bytes.saturating_add(added);
        self.batch.sources[self.idx].records += recs as u64;
    }
}

struct State {
    filling: Batch,
    spare: Option<Batch>,
    acks: VecDeque<Taken>,
    ack_pool: Vec<Vec<SourceAck>>,
    wake: bool,
    next_id: u64,
    /// Batches with the host: handed over by collect, not yet given back.
    with_host: usize,
}

/// What the worker thread and the input's callbacks share.
pub(crate) struct Shared {
    state: Mutex<State>,
    cv: Condvar,
    stop: AtomicBool,
    paused: AtomicBool,
    cfg: WorkerConfig,
    direct: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock()
    }

    fn wake_locked(&self, st: &mut State) {
        st.wake = true;
        self.cv.notify_all();
    }

    fn wake(&self) {
        let mut st = self.lock();
        self.wake_locked(&mut st);
    }

    /// True when batches are appended per tag through `flb_input_log_append`.
    pub(crate) fn direct(&self) -> bool {
        self.direct
    }

    /// Swaps the filled batch out for the host (a fresh or spare one takes its place); `None` when
    /// nothing was written.
    /// Nothing is handed over once the input is stopping: the worker has drained its last
    /// acknowledgements (or is about to), and records it never hears were taken would be read again
    /// at the next start, which is a duplicate.
    pub(crate) fn take_batch(&self, form: RecordForm) -> Option<Batch> {
        let mut st = self.lock();
        if st.filling.is_empty() || self.stop.load(Ordering::SeqCst) {
            return None;
        }
        st.with_host += 1;
        let id = BatchId(st.next_id);
        st.next_id += 1;
        let fresh = match st.spare.take() {
            Some(mut b) => {
                b.clear(id, form);
                b
            }
            None => Batch::new(id, &self.cfg, self.direct, form),
        };
        let out = std::mem::replace(&mut st.filling, fresh);
        self.wake_locked(&mut st);
        Some(out)
    }

    /// The host is done with `batch`: queue what it took for the worker and keep the batch for reuse.
    pub(crate) fn give_back(&self, batch: Batch, taken_per_writer: impl Fn(usize) -> bool) {
        let mut st = self.lock();
        st.with_host = st.with_host.saturating_sub(1);
        let mut sources = st.ack_pool.pop().unwrap_or_default();
        batch.ack(taken_per_writer, &mut sources);
        let id = batch.id;
        st.acks.push_back(Taken { batch: id, sources });
        if st.spare.is_none() {
            st.spare = Some(batch);
        }
        self.wake_locked(&mut st);
    }

    pub(crate) fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Ordering::SeqCst);
        self.wake();
    }

    pub(crate) fn request_stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.wake();
    }
}

/// What a batch handed to the host looks like from the boundary: the writers to append, per tag.
impl Batch {
    /// The active writers: (tag with its trailing NUL, records), in order.
    pub(crate) fn writers(&self) -> impl Iterator<Item = (&[u8], &EventWriter)> {
        self.writers[..self.active_writers].iter().map(|w| (w.tag.as_slice(), &w.events))
    }

    /// The single writer of a batch without direct append (`None` when empty).
    pub(crate) fn single_mut(&mut self) -> Option<&mut EventWriter> {
        if self.active_writers == 0 {
            None
        } else {
            self.writers.first_mut().map(|w| &mut w.events)
        }
    }
}

/// The handle a worker thread works through.
pub struct Worker {
    shared: Arc<Shared>,
}

impl core::fmt::Debug for Worker {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Worker").field("stopping", &self.stopping()).field("paused", &self.paused()).finish()
    }
}

impl Worker {
    /// Runs `f` on the batch being filled, unless the input is paused or stopping or the batch is
    /// full (then `None`: [`wait`](Self::wait) and try again). Collect cannot swap the batch out while
    /// `f` runs, so keep each call to about one read's worth of records.
    pub fn fill<R>(&self, f: impl FnOnce(&mut Batch) -> R) -> Option<R> {
        if self.stopping() || self.paused() {
            return None;
        }
        let mut st = self.shared.lock();
        if st.filling.is_full() {
            return None;
        }
        Some(f(&mut st.filling))
    }

    /// Calls `f` for each batch the host was handed since the last call, oldest first; returns how
    /// many. Call it in every loop turn, and once more after [`stopping`](Self::stopping) turns true.
    pub fn acks(&self, mut f: impl FnMut(&Taken)) -> usize {
        let mut n = 0;
        loop {
            let next = self.shared.lock().acks.pop_front();
            let Some(mut t) = next else { return n };
            f(&t);
            n += 1;
            t.sources.clear();
            self.shared.lock().ack_pool.push(core::mem::take(&mut t.sources));
        }
    }

    /// After [`stopping`](Self::stopping): waits (up to `timeout`) until no batch is with the host,
    /// so the final [`acks`](Self::acks) call hears about every batch the host took. False when the
    /// host still held one at the deadline.
    pub fn settle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut st = self.shared.lock();
        while st.with_host > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            self.shared.cv.wait_timeout(&mut st, left);
        }
        true
    }

    /// True once the input is shutting down: return from the worker function soon.
    pub fn stopping(&self) -> bool {
        self.shared.stop.load(Ordering::SeqCst)
    }

    /// True while Fluent Bit pauses the input (backpressure): [`fill`](Self::fill) refuses to run.
    pub fn paused(&self) -> bool {
        self.shared.paused.load(Ordering::SeqCst)
    }

    /// True when the batch is full (the next collect will empty it).
    pub fn is_full(&self) -> bool {
        self.shared.lock().filling.is_full()
    }

    /// Sleeps until woken or `timeout` passes. Woken by: a [`Waker`], the host taking a batch (room
    /// and an acknowledgement), pause or resume, and stop.
    pub fn wait(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let mut st = self.shared.lock();
        while !st.wake && !self.stopping() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            self.shared.cv.wait_timeout(&mut st, left);
        }
        st.wake = false;
    }

    /// A handle that wakes this worker from another thread (e.g. a file watcher's callback).
    pub fn waker(&self) -> Waker {
        Waker { shared: Arc::clone(&self.shared) }
    }
}

/// Wakes a [`Worker`] from another thread. Cheap to clone.
#[derive(Clone)]
pub struct Waker {
    shared: Arc<Shared>,
}

impl core::fmt::Debug for Waker {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Waker")
    }
}

impl Waker {
    /// Makes the worker's [`Worker::wait`] return.
    pub fn wake(&self) {
        self.shared.wake();
    }
}

/// The SDK's side of a worker: the thread and what it shares. Dropping it stops and joins the
/// thread, so an init that fails after starting a worker leaves no thread behind.
pub(crate) struct WorkerRuntime {
    pub(crate) shared: Arc<Shared>,
    thread: Option<OsThread>,
}

impl WorkerRuntime {
    pub(crate) fn spawn<F>(
        name: String,
        cfg: WorkerConfig,
        direct: bool,
        form: RecordForm,
        log: Logger,
        f: F,
    ) -> std::io::Result<Self>
    where
        F: FnOnce(Worker) + Send + 'static,
    {
        let filling = Batch::new(BatchId(1), &cfg, direct, form);
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                filling,
                spare: None,
                // Sized at start so collects do not allocate while warming up (a host's per-call leak
                // check would count it): a batch or two is outstanding at a time.
                acks: VecDeque::with_capacity(4),
                ack_pool: (0..4).map(|_| Vec::with_capacity(8)).collect(),
                wake: false,
                next_id: 2,
                with_host: 0,
            }),
            cv: Condvar::new(),
            stop: AtomicBool::new(false),
            paused: AtomicBool::new(false),
            cfg,
            direct,
        });
        let worker = Worker { shared: Arc::clone(&shared) };
        let thread_log = log;
        let thread = OsThread::spawn(&name, move || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || f(worker)));
            if let Err(p) = r {
                thread_log.error(format_args!(
                    "panic in the input's worker thread: {}; it no longer reads",
                    crate::boundary::panic_message(&*p)
                ));
            }
        })?;
        Ok(WorkerRuntime { shared, thread: Some(thread) })
    }

    /// Tells the worker to stop and waits for its thread to end.
    pub(crate) fn stop_and_join(&mut self) {
        self.shared.request_stop();
        if let Some(t) = self.thread.take() {
            // The thread catches its own panics (and logs them).
            t.join();
        }
    }
}

impl Drop for WorkerRuntime {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}
