//! Output callbacks: init, flush (concurrent with `Workers`), exit.

use super::{
    exit_key, fail_fast_on_oom, guard, guarded_drop, init_context, pre_exit, pre_run, resolve, Instance, Registry,
};
use crate::abi::{self, flbgo_output_plugin};
use crate::api::{Chunk, FlushError, InstanceKind, Logger, OutputPlugin, Result};
use core::ffi::{c_char, c_int, c_void, CStr};

/// The registry an output plugin's exported functions share.
pub type OutputRegistry<P> = Registry<OutputInstance<P>>;

/// One output instance, owned by the registry and shared by concurrent flush workers.
pub struct OutputInstance<P> {
    log: Logger,
    plugin: P,
}

fn stderr_log<P: OutputPlugin>() -> Logger {
    Logger::stderr(InstanceKind::Output, P::NAME)
}

impl<P: OutputPlugin> Instance for OutputInstance<P> {
    fn log(&self) -> &Logger {
        &self.log
    }

    fn pre_run(&self, hot_reload: bool) -> Result<()> {
        self.plugin.pre_run(hot_reload)
    }

    fn pre_exit(&self, hot_reload: bool) {
        self.plugin.pre_exit(hot_reload)
    }

    fn shutdown(self, _reg: &Registry<Self>) {
        let OutputInstance { log, mut plugin } = self;
        guard(&log, "FLBPluginExit", (), || {
            if let Err(e) = plugin.exit() {
                log.error(format_args!("exit: {e}"));
            }
        });
        guarded_drop(&log, "FLBPluginExit (dropping the plugin)", plugin);
        log.detach();
    }
}

/// `FLBPluginInit` for outputs.
///
/// # Safety
/// `plugin` must be NULL or the `flbgo_output_plugin` the host passes to init.
pub unsafe fn output_init<P: OutputPlugin>(reg: &OutputRegistry<P>, plugin: *mut c_void) -> c_int {
    let fallback = stderr_log::<P>();
    guard(&fallback, "FLBPluginInit", abi::FLB_ERROR, || {
        // SAFETY: output_init's contract: `plugin` is NULL or a live `flbgo_output_plugin`; as_ref handles NULL.
        let Some(p) = (unsafe { (plugin as *mut flbgo_output_plugin).as_ref() }) else {
            fallback.error(format_args!("FLBPluginInit called with a NULL plugin"));
            return abi::FLB_ERROR;
        };
        if fail_fast_on_oom(&fallback, "init fails") {
            return abi::FLB_ERROR;
        }
        // SAFETY: `api` and `o_ins` come from one live `flbgo_output_plugin` and stay valid until the
        // instance exits, which detaches the logger that keeps them.
        let ctx = unsafe {
            init_context(p.api, p.o_ins, InstanceKind::Output, P::NAME, P::KEYS, reg.next_index(), &fallback)
        };
        let Some(mut ctx) = ctx else { return abi::FLB_ERROR };
        let log = ctx.logger();
        let plugin = match P::init(&mut ctx) {
            Ok(plugin) => plugin,
            Err(e) => {
                log.error(format_args!("{e}"));
                return abi::FLB_ERROR;
            }
        };
        let key = reg.add(std::sync::Arc::new(OutputInstance { log, plugin }));
        // SAFETY: `context` is NULL or the live proxy context of this instance (the ABI's init contract).
        if let Some(c) = unsafe { p.context.as_mut() } {
            c.remote_context = key as *mut c_void;
        }
        abi::FLB_OK
    })
}

/// `FLBPluginOutputPreRun`.
pub fn output_pre_run<P: OutputPlugin>(reg: &OutputRegistry<P>, hot_reload: c_int) -> c_int {
    pre_run(reg, hot_reload, "FLBPluginOutputPreRun")
}

/// `FLBPluginFlush(Ctx)`: hands the chunk to the plugin and maps its result to `FLB_OK` /
/// `FLB_RETRY` / `FLB_ERROR`.
///
/// # Safety
/// `data` valid for `size` bytes (or NULL with size 0) and `tag` NULL or a NUL-terminated string,
/// both for the duration of the call. `ctx` may be anything: it is only compared with the
/// registry's keys.
pub unsafe fn output_flush<P: OutputPlugin>(
    reg: &OutputRegistry<P>,
    ctx: *mut c_void,
    data: *const c_void,
    size: usize,
    tag: *const c_char,
) -> c_int {
    let Some(inst) = resolve(reg, ctx, |r| r.only()) else {
        stderr_log::<P>().error(format_args!("flush: unknown instance context {ctx:p}; chunk dropped"));
        return abi::FLB_ERROR;
    };
    if fail_fast_on_oom(&inst.log, "flushes return FLB_RETRY") {
        return abi::FLB_RETRY;
    }
    if data.is_null() && size != 0 {
        inst.log.error(format_args!("flush: NULL data with size {size}; chunk dropped"));
        return abi::FLB_ERROR;
    }
    let bytes: &[u8] = if size == 0 {
        &[]
    } else {
        // SAFETY: data is non-NULL here and valid for size bytes for the call (output_flush's contract).
        unsafe { core::slice::from_raw_parts(data as *const u8, size) }
    };
    // SAFETY: tag is NULL or NUL-terminated and lives for the call.
    let tag: &[u8] = if tag.is_null() { b"" } else { unsafe { CStr::from_ptr(tag) }.to_bytes() };
    guard(&inst.log, "FLBPluginFlush", abi::FLB_ERROR, || match inst.plugin.flush(Chunk::new(tag, bytes)) {
        Ok(()) => abi::FLB_OK,
        Err(e @ FlushError::Retry(_)) => {
            // debug: the engine logs every retry itself ("[engine] failed to flush chunk ...,
            // retry in N seconds"); a plugin whose output is in trouble says so once, its own way
            inst.log.debug(format_args!("flush: {e}"));
            abi::FLB_RETRY
        }
        Err(e @ FlushError::Drop(_)) => {
            inst.log.error(format_args!("flush: {e}"));
            abi::FLB_ERROR
        }
    })
}

/// `FLBPluginOutputPreExit`.
pub fn output_pre_exit<P: OutputPlugin>(reg: &OutputRegistry<P>, hot_reload: c_int) {
    pre_exit(reg, hot_reload, "FLBPluginOutputPreExit")
}

/// `FLBPluginExitCtx` (and `FLBPluginExit` with NULL, which exits the only live instance; with
/// several, they are left to Unregister). A context that is not live is refused, not freed twice.
pub fn output_exit<P: OutputPlugin>(reg: &OutputRegistry<P>, ctx: *mut c_void) -> c_int {
    let key = if ctx.is_null() {
        match reg.only_key() {
            Some(k) => k,
            None => return abi::FLB_OK,
        }
    } else {
        ctx as usize
    };
    if !exit_key(reg, key) {
        stderr_log::<P>().error(format_args!("exit: {ctx:p} is not a live instance; ignored"));
        return abi::FLB_ERROR;
    }
    abi::FLB_OK
}
