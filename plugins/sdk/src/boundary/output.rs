//! Output callbacks: init, flush (concurrent with `Workers`), pre-exit, exit.

use super::{guard, init_context, Registry, INSTANCE_MAGIC};
use crate::abi::{self, flbgo_output_plugin};
use crate::api::{Chunk, FlushError, InstanceKind, Logger, OutputPlugin};
use core::ffi::{c_char, c_int, c_void, CStr};

/// One output instance: what `remote_context` points to. Shared by concurrent flush workers.
pub struct OutputInstance<P> {
    magic: u64,
    log: Logger,
    plugin: P,
}

fn stderr_log<P: OutputPlugin>() -> Logger {
    Logger::stderr(InstanceKind::Output, P::NAME)
}

unsafe fn destroy<P: OutputPlugin>(ptr: usize) {
    // SAFETY: ptr came from Box::into_raw in output_init and was removed from the registry, so this
    // is the only owner left.
    let mut inst = unsafe { Box::from_raw(ptr as *mut OutputInstance<P>) };
    let log = inst.log;
    guard(&log, "FLBPluginExit", (), || {
        if let Err(e) = inst.plugin.exit() {
            log.error(format_args!("exit: {e}"));
        }
    });
}

/// # Safety
/// `ctx` must be NULL or a pointer this plugin stored in `remote_context` and not yet exited.
unsafe fn resolve<'a, P: OutputPlugin>(reg: &Registry, ctx: *mut c_void) -> Option<&'a OutputInstance<P>> {
    let ptr = if ctx.is_null() { reg.only()? } else { ctx as usize };
    // SAFETY: per the contract the pointer is one of our live instances; the magic check refuses a
    // pointer that is not.
    let inst = unsafe { &*(ptr as *const OutputInstance<P>) };
    (inst.magic == INSTANCE_MAGIC).then_some(inst)
}

/// `FLBPluginInit` for outputs.
///
/// # Safety
/// `plugin` must be NULL or the `flbgo_output_plugin` the host passes to init.
pub unsafe fn output_init<P: OutputPlugin>(reg: &Registry, plugin: *mut c_void) -> c_int {
    let fallback = stderr_log::<P>();
    guard(&fallback, "FLBPluginInit", abi::FLB_ERROR, || {
        // SAFETY: per the contract the pointer is NULL or the host's plugin struct.
        let Some(p) = (unsafe { (plugin as *mut flbgo_output_plugin).as_ref() }) else {
            fallback.error(format_args!("FLBPluginInit called with a NULL plugin"));
            return abi::FLB_ERROR;
        };
        // SAFETY: api and o_ins are what the host passed for this instance.
        let Some(mut ctx) = (unsafe { init_context(p.api, p.o_ins, InstanceKind::Output, P::NAME, &fallback) }) else {
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
        let raw = Box::into_raw(Box::new(OutputInstance { magic: INSTANCE_MAGIC, log, plugin }));
        // SAFETY: context is NULL or the host's proxy context for this instance.
        if let Some(c) = unsafe { p.context.as_mut() } {
            c.remote_context = raw as *mut c_void;
        }
        reg.add(raw as usize, destroy::<P>);
        abi::FLB_OK
    })
}

/// `FLBPluginOutputPreRun`: the host calls it right after an instance's init, so it is for the
/// newest instance initialised on this thread.
///
/// # Safety
/// Call only from the host's pre-run hook.
pub unsafe fn output_pre_run<P: OutputPlugin>(reg: &Registry, hot_reload: c_int) -> c_int {
    let Some(ptr) = reg.current() else { return 0 };
    // SAFETY: ptr is a live instance from the registry.
    let Some(inst) = (unsafe { resolve::<P>(reg, ptr as *mut c_void) }) else {
        return 0;
    };
    guard(&inst.log, "FLBPluginOutputPreRun", -1, || match inst.plugin.pre_run(hot_reload != 0) {
        Ok(()) => 0,
        Err(e) => {
            inst.log.error(format_args!("pre-run: {e}"));
            -1
        }
    })
}

/// `FLBPluginFlush(Ctx)`: decodes nothing itself; hands the chunk to the plugin and maps its result
/// to `FLB_OK` / `FLB_RETRY` / `FLB_ERROR`.
///
/// # Safety
/// `ctx` as for `resolve`; `data` valid for `size` bytes (or NULL with size 0); `tag` NULL or a
/// NUL-terminated string, all for the duration of the call.
pub unsafe fn output_flush<P: OutputPlugin>(
    reg: &Registry,
    ctx: *mut c_void,
    data: *const c_void,
    size: usize,
    tag: *const c_char,
) -> c_int {
    // SAFETY: per the contract.
    let Some(inst) = (unsafe { resolve::<P>(reg, ctx) }) else {
        stderr_log::<P>().error(format_args!("flush: unknown instance context {ctx:p}"));
        return abi::FLB_ERROR;
    };
    if data.is_null() && size != 0 {
        inst.log.error(format_args!("flush: NULL data with size {size}; chunk dropped"));
        return abi::FLB_ERROR;
    }
    let bytes: &[u8] = if size == 0 {
        &[]
    } else {
        // SAFETY: data is non-NULL and valid for size bytes during the call, per the contract.
        unsafe { core::slice::from_raw_parts(data as *const u8, size) }
    };
    // SAFETY: tag is NULL or NUL-terminated and lives for the call.
    let tag: &[u8] = if tag.is_null() { b"" } else { unsafe { CStr::from_ptr(tag) }.to_bytes() };
    guard(&inst.log, "FLBPluginFlush", abi::FLB_ERROR, || match inst.plugin.flush(Chunk::new(tag, bytes)) {
        Ok(()) => abi::FLB_OK,
        Err(e @ FlushError::Retry(_)) => {
            inst.log.warn(format_args!("flush: {e}"));
            abi::FLB_RETRY
        }
        Err(e @ FlushError::Drop(_)) => {
            inst.log.error(format_args!("flush: {e}"));
            abi::FLB_ERROR
        }
    })
}

/// `FLBPluginOutputPreExit`: no context, so every instance not told yet.
///
/// # Safety
/// Call only from the host's pre-exit hook.
pub unsafe fn output_pre_exit<P: OutputPlugin>(reg: &Registry, hot_reload: c_int) {
    for ptr in reg.take_pre_exit() {
        // SAFETY: ptr is a live instance from the registry.
        let Some(inst) = (unsafe { resolve::<P>(reg, ptr as *mut c_void) }) else { continue };
        guard(&inst.log, "FLBPluginOutputPreExit", (), || inst.plugin.pre_exit(hot_reload != 0));
    }
}

/// `FLBPluginExitCtx` (and `FLBPluginExit` with NULL, which exits the only live instance; with
/// several, they are left to Unregister). A context that is not live is refused, not freed twice.
///
/// # Safety
/// `ctx` must be NULL or a pointer the host got from `remote_context`.
pub unsafe fn output_exit<P: OutputPlugin>(reg: &Registry, ctx: *mut c_void) -> c_int {
    let ptr = if ctx.is_null() {
        match reg.only() {
            Some(p) => p,
            None => return abi::FLB_OK,
        }
    } else {
        ctx as usize
    };
    if !reg.remove(ptr) {
        stderr_log::<P>().error(format_args!("exit: {ctx:p} is not a live instance; ignored"));
        return abi::FLB_ERROR;
    }
    // SAFETY: just removed from the registry, so this is the only destroy of ptr.
    unsafe { destroy::<P>(ptr) };
    abi::FLB_OK
}
