//! Input callbacks: init, collect and cleanup with the buffer hand-over rule, pause/resume, exit.

use super::{guard, init_context, Registry, INSTANCE_MAGIC};
use crate::abi::{self, flbgo_input_plugin};
use crate::api::{InputPlugin, InstanceKind, Logger};
use crate::events::EventWriter;
use core::ffi::{c_int, c_void};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// One input instance: what `remote_context` points to.
pub struct InputInstance<P> {
    magic: u64,
    log: Logger,
    state: Mutex<InputState<P>>,
}

struct InputState<P> {
    plugin: P,
    writer: EventWriter,
    /// The buffer the last collect handed to the host and not yet returned through cleanup (0 = none).
    handed: usize,
}

impl<P> InputInstance<P> {
    fn lock(&self) -> MutexGuard<'_, InputState<P>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<P: InputPlugin> InputState<P> {
    /// A collect that finds the previous buffer never came back through cleanup means the host
    /// took it and freed it with libc `free` (hosts before 2.0 have no cleanup callback): forget the
    /// allocation and start a fresh one, and tell the plugin its batch was taken.
    fn reclaim(&mut self) {
        if self.handed != 0 {
            self.handed = 0;
            self.writer.buf_mut().forget_allocation();
            self.plugin.collected();
        }
    }
}

fn stderr_log<P: InputPlugin>() -> Logger {
    Logger::stderr(InstanceKind::Input, P::NAME)
}

unsafe fn destroy<P: InputPlugin>(ptr: usize) {
    // SAFETY: ptr came from Box::into_raw in input_init and was removed from the registry, so this is
    // the only owner left.
    let inst = unsafe { Box::from_raw(ptr as *mut InputInstance<P>) };
    let log = inst.log;
    let mut st = inst.state.into_inner().unwrap_or_else(PoisonError::into_inner);
    guard(&log, "FLBPluginExit", (), || {
        if let Err(e) = st.plugin.exit() {
            log.error(format_args!("exit: {e}"));
        }
    });
    if st.handed != 0 {
        // The host still owns (or has freed) the last buffer; it is not ours to free.
        st.writer.buf_mut().forget_allocation();
    }
}

/// Resolves a context pointer (Ctx callbacks) or, when NULL, the calling thread's instance.
///
/// # Safety
/// `ctx` must be NULL or a pointer this plugin stored in `remote_context` and not yet exited.
unsafe fn resolve<'a, P: InputPlugin>(reg: &Registry, ctx: *mut c_void) -> Option<&'a InputInstance<P>> {
    let ptr = if ctx.is_null() { reg.current()? } else { ctx as usize };
    let inst = ptr as *const InputInstance<P>;
    // SAFETY: per the contract the pointer is one of our live instances; the magic check refuses a
    // pointer that is not (reading the first word of a valid host allocation is harmless).
    let inst = unsafe { &*inst };
    (inst.magic == INSTANCE_MAGIC).then_some(inst)
}

/// `FLBPluginInit` for inputs.
///
/// # Safety
/// `plugin` must be NULL or the `flbgo_input_plugin` the host passes to init.
pub unsafe fn input_init<P: InputPlugin>(reg: &Registry, plugin: *mut c_void) -> c_int {
    let fallback = stderr_log::<P>();
    guard(&fallback, "FLBPluginInit", abi::FLB_ERROR, || {
        let p = plugin as *mut flbgo_input_plugin;
        // SAFETY: per the contract p is NULL or the host's plugin struct.
        let Some(p) = (unsafe { p.as_ref() }) else {
            fallback.error(format_args!("FLBPluginInit called with a NULL plugin"));
            return abi::FLB_ERROR;
        };
        // SAFETY: api and i_ins are what the host passed for this instance.
        let Some(mut ctx) = (unsafe { init_context(p.api, p.i_ins, InstanceKind::Input, P::NAME, &fallback) }) else {
            return abi::FLB_ERROR;
        };
        let log = ctx.logger();
        let plugin = match P::init(&mut ctx) {
            Ok(plugin) => plugin,
            Err(e) => {
                log.error(format_args!("{e}"));
                return abi::FLB_ERROR;
            }
        };
        let mut writer = EventWriter::new(ctx.record_form);
        if let Err(e) = writer.reserve(ctx.reserve) {
            log.error(format_args!("reserving the collect buffer: {e}"));
            return abi::FLB_ERROR;
        }
        let inst = Box::new(InputInstance {
            magic: INSTANCE_MAGIC,
            log,
            state: Mutex::new(InputState { plugin, writer, handed: 0 }),
        });
        let raw = Box::into_raw(inst);
        // SAFETY: context is NULL or the host's input proxy context for this instance.
        if let Some(c) = unsafe { p.context.as_mut() } {
            c.remote_context = raw as *mut c_void;
        }
        reg.add(raw as usize, destroy::<P>);
        abi::FLB_OK
    })
}

/// `FLBPluginInputPreRun`.
///
/// # Safety
/// Call only from the host's pre-run hook.
pub unsafe fn input_pre_run<P: InputPlugin>(reg: &Registry, hot_reload: c_int) -> c_int {
    // SAFETY: NULL means "the calling thread's instance".
    let Some(inst) = (unsafe { resolve::<P>(reg, core::ptr::null_mut()) }) else {
        return 0;
    };
    guard(&inst.log, "FLBPluginInputPreRun", -1, || match inst.lock().plugin.pre_run(hot_reload != 0) {
        Ok(()) => 0,
        Err(e) => {
            inst.log.error(format_args!("pre-run: {e}"));
            -1
        }
    })
}

/// `FLBPluginInputCallback(Ctx)`: collect. Writes `*data`/`*size` (NULL/0 when nothing is due, so
/// the host calls no cleanup); returns -1 on failure.
///
/// # Safety
/// `ctx` as for `resolve`; `data` and `size` NULL or valid for writes.
pub unsafe fn input_collect<P: InputPlugin>(
    reg: &Registry,
    ctx: *mut c_void,
    data: *mut *mut c_void,
    size: *mut usize,
) -> c_int {
    if data.is_null() || size.is_null() {
        stderr_log::<P>().error(format_args!("collect called with NULL data/size pointers"));
        return -1;
    }
    // SAFETY: both checked non-NULL; the host passes addresses of its locals.
    unsafe {
        *data = core::ptr::null_mut();
        *size = 0;
    }
    // SAFETY: per the contract.
    let Some(inst) = (unsafe { resolve::<P>(reg, ctx) }) else {
        stderr_log::<P>().error(format_args!("collect: unknown instance context {ctx:p}"));
        return -1;
    };
    guard(&inst.log, "FLBPluginInputCallback", -1, || {
        let mut guard = inst.lock();
        let st = &mut *guard;
        st.reclaim();
        st.writer.clear();
        if let Err(e) = st.plugin.collect(&mut st.writer) {
            st.writer.clear();
            inst.log.error(format_args!("collect: {e}"));
            return -1;
        }
        if st.writer.is_empty() {
            return abi::FLB_OK;
        }
        let ptr = st.writer.buf().as_ptr();
        st.handed = ptr as usize;
        // SAFETY: checked non-NULL above.
        unsafe {
            *data = ptr as *mut c_void;
            *size = st.writer.len();
        }
        abi::FLB_OK
    })
}

/// `FLBPluginInputCleanupCallback(Ctx)`: the host has copied the buffer; it comes back to us for
/// reuse (it is never freed here, only at exit).
///
/// # Safety
/// `ctx` as for `resolve`.
pub unsafe fn input_cleanup<P: InputPlugin>(reg: &Registry, ctx: *mut c_void, data: *mut c_void) -> c_int {
    // SAFETY: per the contract.
    let Some(inst) = (unsafe { resolve::<P>(reg, ctx) }) else {
        stderr_log::<P>().error(format_args!("cleanup: unknown instance context {ctx:p}"));
        return abi::FLB_ERROR;
    };
    guard(&inst.log, "FLBPluginInputCleanupCallback", abi::FLB_ERROR, || {
        let mut st = inst.lock();
        if data.is_null() || st.handed != data as usize {
            inst.log.warn(format_args!("cleanup for a buffer this instance did not hand over ({data:p}); ignored"));
            return abi::FLB_ERROR;
        }
        st.handed = 0;
        st.plugin.collected();
        abi::FLB_OK
    })
}

/// `FLBPluginInputPause` / `FLBPluginInputResume`: no context, so the calling thread's instance,
/// or every instance when the thread has none.
///
/// # Safety
/// Call only from the host's pause/resume hooks.
pub unsafe fn input_pause_resume<P: InputPlugin>(reg: &Registry, pause: bool) {
    for ptr in reg.current_or_all() {
        // SAFETY: ptr is a live instance from the registry.
        let Some(inst) = (unsafe { resolve::<P>(reg, ptr as *mut c_void) }) else { continue };
        let name = if pause { "FLBPluginInputPause" } else { "FLBPluginInputResume" };
        guard(&inst.log, name, (), || {
            let mut st = inst.lock();
            if pause {
                st.plugin.pause()
            } else {
                st.plugin.resume()
            }
        });
    }
}

/// `FLBPluginInputPreExit`.
///
/// # Safety
/// Call only from the host's pre-exit hook.
pub unsafe fn input_pre_exit<P: InputPlugin>(reg: &Registry, hot_reload: c_int) {
    for ptr in reg.take_pre_exit() {
        // SAFETY: ptr is a live instance from the registry.
        let Some(inst) = (unsafe { resolve::<P>(reg, ptr as *mut c_void) }) else { continue };
        guard(&inst.log, "FLBPluginInputPreExit", (), || inst.lock().plugin.pre_exit(hot_reload != 0));
    }
}

/// `FLBPluginExit` for inputs (the host never passes a context here): exits the calling thread's
/// instance; when that cannot be known, the instances are left to Unregister.
///
/// # Safety
/// Call only from the host's exit hook.
pub unsafe fn input_exit<P: InputPlugin>(reg: &Registry) -> c_int {
    let Some(ptr) = reg.current() else {
        stderr_log::<P>().debug(format_args!("exit without a known instance: instances are freed at unregister"));
        return abi::FLB_OK;
    };
    if reg.remove(ptr) {
        // SAFETY: just removed from the registry, so this is the only destroy of ptr.
        unsafe { destroy::<P>(ptr) };
    }
    abi::FLB_OK
}
