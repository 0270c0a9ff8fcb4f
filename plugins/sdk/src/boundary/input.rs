//! Input callbacks: init, collect and cleanup with the buffer hand-over rule (or direct appends),
//! pause/resume, pre-exit, exit.

use super::host;
use super::{
    exit_key, fail_fast_on_oom, guard, guarded_drop, init_context, pre_exit, pre_run, resolve, Instance, Registry,
};
use crate::abi::{self, flbgo_input_plugin};
use crate::api::worker::{Batch, WorkerRuntime};
use crate::api::{BatchId, InputPlugin, InstanceKind, Logger, Result};
use crate::events::{EventWriter, RecordForm};
use crate::sync::{Mutex, MutexGuard};
use core::ffi::{c_char, c_int, c_void};

/// The registry an input plugin's exported functions share.
pub type InputRegistry<P> = Registry<InputInstance<P>>;

/// One input instance, owned by the registry; the host's `remote_context` is its key.
pub struct InputInstance<P> {
    log: Logger,
    /// The host's input instance, for `flb_input_log_append` (never dereferenced here).
    ins: usize,
    state: Mutex<InputState<P>>,
}

/// What the host holds between a collect and its cleanup (small: it is written every collect).
#[derive(Default, Clone, Copy)]
enum Handed {
    #[default]
    Nothing,
    /// The instance writer's buffer (simple collect).
    Simple { ptr: usize, batch: BatchId },
    /// The buffer of the worker batch kept in `InputState::handed_batch` (standard hand-over).
    Batch { ptr: usize },
}

struct InputState<P> {
    plugin: P,
    writer: EventWriter,
    form: RecordForm,
    handed: Handed,
    /// The worker batch whose buffer the host holds (with `Handed::Batch`).
    handed_batch: Option<Batch>,
    worker: Option<WorkerRuntime>,
    /// Simple collects that handed records over.
    batches: u64,
    /// A cleanup callback came: this host returns buffers (2.0+) rather than freeing them (1.9).
    saw_cleanup: bool,
    /// Per writer of the batch being appended: did every piece go in.
    append_ok: Vec<bool>,
}

impl<P> InputInstance<P> {
    fn lock(&self) -> MutexGuard<'_, InputState<P>> {
        self.state.lock()
    }
}

impl<P: InputPlugin> InputState<P> {
    /// True when the host returns buffers through the cleanup callback (2.0+: it came, or the host
    /// showed it is 2.2+), false when it frees them itself (1.9).
    fn host_returns_buffers(&self) -> bool {
        self.saw_cleanup || host::modern()
    }

    /// A buffer handed over and never returned through cleanup was taken and freed by the host with
    /// libc `free` (hosts before 2.0 have no cleanup callback): forget the allocation, and tell the
    /// plugin (or the worker) the batch was taken.
    fn reclaim(&mut self) {
        match core::mem::take(&mut self.handed) {
            Handed::Nothing => {}
            Handed::Simple { batch, .. } => {
                self.writer.buf_mut().forget_allocation();
                self.writer.clear();
                self.plugin.taken(batch);
            }
            Handed::Batch { .. } => {
                if let Some(mut batch) = self.handed_batch.take() {
                    if let Some(w) = batch.single_mut() {
                        w.buf_mut().forget_allocation();
                    }
                    if let Some(rt) = &self.worker {
                        rt.shared.give_back(batch, |_| true);
                    }
                }
            }
        }
    }

    /// At exit: a buffer still handed over is either freed by a host without cleanup (forget it)
    /// or being copied by a host whose cleanup call is still to come (keep it for that call).
    fn release_handed(&mut self, reg: &InputRegistry<P>) {
        if matches!(self.handed, Handed::Nothing) {
            return;
        }
        if !self.host_returns_buffers() {
            self.reclaim();
            return;
        }
        match core::mem::take(&mut self.handed) {
            Handed::Nothing => {}
            Handed::Simple { .. } => reg.orphan(self.writer.take_buf()),
            Handed::Batch { .. } => {
                if let Some(w) = self.handed_batch.as_mut().and_then(Batch::single_mut) {
                    reg.orphan(w.take_buf());
                }
            }
        }
    }
}

fn stderr_log<P: InputPlugin>() -> Logger {
    Logger::stderr(InstanceKind::Input, P::NAME)
}

impl<P: InputPlugin> Instance for InputInstance<P> {
    fn log(&self) -> &Logger {
        &self.log
    }

    fn pre_run(&self, hot_reload: bool) -> Result<()> {
        self.lock().plugin.pre_run(hot_reload)
    }

    fn pre_exit(&self, hot_reload: bool) {
        let mut st = self.lock();
        if let Some(rt) = &st.worker {
            rt.shared.request_stop();
        }
        st.plugin.pre_exit(hot_reload);
    }

    fn shutdown(self, reg: &InputRegistry<P>) {
        let log = self.log;
        let mut st = self.state.into_inner();
        guard(&log, "FLBPluginExit", (), || st.release_handed(reg));
        if let Some(rt) = st.worker.take() {
            // Joined here: the thread runs code of this .so, which dlclose unmaps after Unregister.
            guarded_drop(&log, "FLBPluginExit (joining the worker)", rt);
        }
        guard(&log, "FLBPluginExit", (), || {
            if let Err(e) = st.plugin.exit() {
                log.error(format_args!("exit: {e}"));
            }
        });
        guarded_drop(&log, "FLBPluginExit (dropping the plugin)", st);
        log.detach();
    }
}

/// `FLBPluginInit` for inputs.
///
/// # Safety
/// `plugin` must be NULL or the `flbgo_input_plugin` the host passes to init.
pub unsafe fn input_init<P: InputPlugin>(reg: &InputRegistry<P>, plugin: *mut c_void) -> c_int {
    let fallback = stderr_log::<P>();
    guard(&fallback, "FLBPluginInit", abi::FLB_ERROR, || {
        let p = plugin as *mut flbgo_input_plugin;
        // SAFETY: input_init's contract: `plugin` is NULL or a live `flbgo_input_plugin`; as_ref handles NULL.
        let Some(p) = (unsafe { p.as_ref() }) else {
            fallback.error(format_args!("FLBPluginInit called with a NULL plugin"));
            return abi::FLB_ERROR;
        };
        if fail_fast_on_oom(&fallback, "init fails") {
            return abi::FLB_ERROR;
        }
        // SAFETY: `api` and `i_ins` come from one live `flbgo_input_plugin` and stay valid until the
        // instance exits, which detaches the logger that keeps them.
        let ctx =
            unsafe { init_context(p.api, p.i_ins, InstanceKind::Input, P::NAME, P::KEYS, reg.next_index(), &fallback) };
        let Some(mut ctx) = ctx else { return abi::FLB_ERROR };
        let log = ctx.logger();
        let plugin = match P::init(&mut ctx) {
            Ok(plugin) => plugin,
            Err(e) => {
                log.error(format_args!("{e}"));
                // ctx drops here: a worker it started is stopped and joined.
                return abi::FLB_ERROR;
            }
        };
        let mut writer = EventWriter::new(host::record_form(ctx.record_form));
        if let Err(e) = writer.reserve(ctx.reserve) {
            log.error(format_args!("reserving the collect buffer: {e}"));
            guarded_drop(&log, "FLBPluginInit (dropping the plugin)", plugin);
            return abi::FLB_ERROR;
        }
        let inst = std::sync::Arc::new(InputInstance {
            log,
            ins: p.i_ins as usize,
            state: Mutex::new(InputState {
                plugin,
                writer,
                form: ctx.record_form,
                handed: Handed::Nothing,
                handed_batch: None,
                worker: ctx.worker.take(),
                batches: 0,
                saw_cleanup: false,
                append_ok: Vec::with_capacity(8),
            }),
        });
        let key = reg.add(inst);
        // SAFETY: `context` is NULL or the live input proxy context of this instance (the ABI's init contract).
        if let Some(c) = unsafe { p.context.as_mut() } {
            c.remote_context = key as *mut c_void;
        }
        abi::FLB_OK
    })
}

/// `FLBPluginInputPreRun`.
pub fn input_pre_run<P: InputPlugin>(reg: &InputRegistry<P>, hot_reload: c_int) -> c_int {
    pre_run(reg, hot_reload, "FLBPluginInputPreRun")
}

/// `FLBPluginInputCallback(Ctx)`: collect. Writes `*data`/`*size` (NULL/0 when nothing is due, so
/// the host calls no cleanup); returns -1 on failure.
///
/// # Safety
/// `data` and `size` must be NULL or valid for writes. `ctx` may be anything: it is only compared
/// with the registry's keys.
pub unsafe fn input_collect<P: InputPlugin>(
    reg: &InputRegistry<P>,
    ctx: *mut c_void,
    data: *mut *mut c_void,
    size: *mut usize,
) -> c_int {
    if data.is_null() || size.is_null() {
        stderr_log::<P>().error(format_args!("collect called with NULL data/size pointers"));
        return -1;
    }
    // SAFETY: both are non-NULL (checked above) and valid for writes (input_collect's contract).
    unsafe {
        *data = core::ptr::null_mut();
        *size = 0;
    }
    let Some(inst) = resolve(reg, ctx, |r| r.current()) else {
        stderr_log::<P>().error(format_args!("collect: unknown instance context {ctx:p}; nothing collected"));
        return -1;
    };
    if fail_fast_on_oom(&inst.log, "collects fail (-1)") {
        return -1;
    }
    let handed = guard(&inst.log, "FLBPluginInputCallback", Err(()), || {
        let mut guard = inst.lock();
        let st = &mut *guard;
        st.reclaim();
        if st.worker.is_some() {
            collect_batch(&inst, st)
        } else {
            collect_simple(&inst, st)
        }
    });
    match handed {
        Ok(Some((ptr, len))) => {
            // SAFETY: checked non-NULL above.
            unsafe {
                *data = ptr as *mut c_void;
                *size = len;
            }
            abi::FLB_OK
        }
        Ok(None) => abi::FLB_OK,
        Err(()) => -1,
    }
}

type Handover = core::result::Result<Option<(usize, usize)>, ()>;

fn collect_simple<P: InputPlugin>(inst: &InputInstance<P>, st: &mut InputState<P>) -> Handover {
    st.writer.clear();
    st.writer.set_form(host::record_form(st.form));
    if let Err(e) = st.plugin.collect(&mut st.writer) {
        st.writer.clear();
        inst.log.error(format_args!("collect: {e}"));
        return Err(());
    }
    if st.writer.is_empty() {
        return Ok(None);
    }
    st.batches += 1;
    let ptr = st.writer.buf().as_ptr() as usize;
    st.handed = Handed::Simple { ptr, batch: BatchId(st.batches) };
    Ok(Some((ptr, st.writer.len())))
}

fn collect_batch<P: InputPlugin>(inst: &InputInstance<P>, st: &mut InputState<P>) -> Handover {
    let Some(rt) = &st.worker else { return Ok(None) };
    let shared = std::sync::Arc::clone(&rt.shared);
    let Some(mut batch) = shared.take_batch(host::record_form(st.form)) else { return Ok(None) };
    if !shared.direct() {
        let Some(w) = batch.single_mut() else {
            shared.give_back(batch, |_| true);
            return Ok(None);
        };
        let (ptr, len) = (w.buf().as_ptr() as usize, w.len());
        st.handed = Handed::Batch { ptr };
        st.handed_batch = Some(batch);
        return Ok(Some((ptr, len)));
    }
    let Some(append) = host::log_append() else {
        // Direct mode is chosen only when the symbol resolved; it cannot go away.
        shared.give_back(batch, |_| false);
        return Err(());
    };
    let append_records = host::log_append_records();
    st.append_ok.clear();
    for (tag, events) in batch.writers() {
        let mut ok = true;
        // The tag ends in a NUL (see Batch); its length excludes it. Empty: the instance's tag.
        let tag_len = tag.len().saturating_sub(1);
        let tag_ptr = if tag_len == 0 { core::ptr::null() } else { tag.as_ptr() as *const c_char };
        // With the record counts the writer kept, Fluent Bit need not decode each piece to count
        // it; without them (a group marker, or an older host), it counts.
        for (piece, records) in events.counted_pieces() {
            let (ins, data) = (inst.ins as *mut c_void, piece.as_ptr() as *const c_void);
            // SAFETY: called from collect, on the input's thread, with the instance pointer the host
            // passed to init (inst.ins); the tag and piece are valid for the call (Fluent Bit copies
            // them) and the piece is whole records, `records` of them (the writer counted each
            // record it wrote, and none is a group marker).
            let r = unsafe {
                match (append_records, records) {
                    (Some(f), Some(n)) => f(ins, n, tag_ptr, tag_len, data, piece.len()),
                    _ => append(ins, tag_ptr, tag_len, data, piece.len()),
                }
            };
            if r != 0 {
                ok = false;
                inst.log.warn(format_args!(
                    "flb_input_log_append returned {r} for {} bytes under tag '{}': those records were not \
                     taken and are reported so to the input",
                    piece.len(),
                    String::from_utf8_lossy(&tag[..tag_len])
                ));
                break;
            }
        }
        st.append_ok.push(ok);
    }
    let ok = &st.append_ok;
    shared.give_back(batch, |w| ok.get(w).copied().unwrap_or(false));
    Ok(None)
}

/// `FLBPluginInputCleanupCallback(Ctx)`: the host has copied the buffer; it comes back to us for
/// reuse (it is never freed here, only at exit).
pub fn input_cleanup<P: InputPlugin>(reg: &InputRegistry<P>, ctx: *mut c_void, data: *mut c_void) -> c_int {
    if data.is_null() {
        // Fluent Bit 2.0 and 2.1 call cleanup after every collect, an empty one too: nothing to do.
        return abi::FLB_OK;
    }
    let Some(inst) = resolve(reg, ctx, |r| r.current()) else {
        if reg.free_orphan(data as usize) {
            // The instance exited while the host copied this buffer.
            return abi::FLB_OK;
        }
        stderr_log::<P>().error(format_args!("cleanup: unknown instance context {ctx:p}; ignored"));
        return abi::FLB_ERROR;
    };
    let log = &inst.log;
    guard(log, "FLBPluginInputCleanupCallback", abi::FLB_ERROR, || {
        let mut st = inst.lock();
        st.saw_cleanup = true;
        let d = data as usize;
        match st.handed {
            Handed::Simple { ptr, batch } if ptr == d && d != 0 => {
                st.handed = Handed::Nothing;
                st.plugin.taken(batch);
                abi::FLB_OK
            }
            Handed::Batch { ptr } if ptr == d && d != 0 => {
                st.handed = Handed::Nothing;
                if let (Some(batch), Some(rt)) = (st.handed_batch.take(), &st.worker) {
                    rt.shared.give_back(batch, |_| true);
                }
                abi::FLB_OK
            }
            _ => {
                log.warn(format_args!("cleanup for a buffer this instance did not hand over ({data:p}); ignored"));
                abi::FLB_ERROR
            }
        }
    })
}

/// `FLBPluginInputPause` / `FLBPluginInputResume`: no context, so the calling thread's instance,
/// or every instance when the thread has none.
pub fn input_pause_resume<P: InputPlugin>(reg: &InputRegistry<P>, pause: bool) {
    let name = if pause { "FLBPluginInputPause" } else { "FLBPluginInputResume" };
    for inst in reg.current_or_all() {
        let log = inst.log.clone();
        guard(&log, name, (), || {
            let mut st = inst.lock();
            if let Some(rt) = &st.worker {
                rt.shared.set_paused(pause);
            }
            if pause {
                st.plugin.pause()
            } else {
                st.plugin.resume()
            }
        });
    }
}

/// `FLBPluginInputPreExit`: stops the worker from reading on, tells the plugin.
pub fn input_pre_exit<P: InputPlugin>(reg: &InputRegistry<P>, hot_reload: c_int) {
    pre_exit(reg, hot_reload, "FLBPluginInputPreExit")
}

/// `FLBPluginExit` for inputs (the host never passes a context here): exits the calling thread's
/// instance; when that cannot be known, the instances are left to Unregister.
pub fn input_exit<P: InputPlugin>(reg: &InputRegistry<P>) -> c_int {
    let Some(key) = reg.current_key() else {
        stderr_log::<P>().debug(format_args!("exit without a known instance: instances are exited at unregister"));
        return abi::FLB_OK;
    };
    exit_key(reg, key);
    abi::FLB_OK
}
