//! The boundary between the host's C calls and the safe API. Every exported function the
//! `input_plugin!`/`output_plugin!` macros generate lands here: it catches panics (logging them and
//! returning the callback's error value), accepts only instance pointers the registry holds, and
//! maps `Result` to return codes. Plugin authors never call this module directly.
//!
//! The core here is shared by both kinds: the [`Registry`], resolving a context pointer, pre-run,
//! pre-exit, exit (remove, wait for calls in flight, shut down inside the panic guard), Register
//! and Unregister. `input` and `output` hold only what differs.

mod config_map;
pub(crate) mod host;
mod input;
pub(crate) mod instance_tag;
mod output;
mod registry;

pub use input::*;
pub use output::*;
pub use registry::Registry;

use crate::abi::{self, flb_api, flb_plugin_proxy_def};
use crate::api::{Config, InitContext, InstanceKind, Key, Logger, Result};
use crate::events::RecordForm;
use core::ffi::{c_int, c_void};
use registry::Call;
use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// What the core needs of an input or output instance.
pub trait Instance: Send + Sync + Sized + 'static {
    /// The instance's logger.
    fn log(&self) -> &Logger;
    /// Pre-run (Fluent Bit 2.2+).
    fn pre_run(&self, hot_reload: bool) -> Result<()>;
    /// Pre-exit (Fluent Bit 2.2+).
    fn pre_exit(&self, hot_reload: bool);
    /// Exit: the instance is owned by the caller alone; every step runs inside the panic guard and
    /// the logger is detached at the end. A buffer the host may still be copying goes to `reg`.
    fn shutdown(self, reg: &Registry<Self>);
}

/// Runs `f`, turning a panic into a log line and `on_panic`: unwinding into C is undefined behaviour
/// and would take the whole Fluent Bit process down.
pub fn guard<R>(log: &Logger, callback: &str, on_panic: R, f: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            log.error(format_args!(
                "panic in {callback}: {}; returning an error to Fluent Bit",
                panic_message(&*payload)
            ));
            // A payload whose own Drop panics must not unwind out of here.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
            on_panic
        }
    }
}

pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.as_str()
    } else {
        "(non-string panic payload)"
    }
}

/// True when memory is short (see [`crate::oom`]): the callback is not run and returns its failure
/// value; the first such callback of an episode logs why, in one line.
pub(crate) fn fail_fast_on_oom(log: &Logger, what: &str) -> bool {
    match crate::oom::short_of_memory() {
        None => false,
        Some((live, first)) => {
            if first {
                log.error(format_args!("{}", crate::oom::short_of_memory_message(live, what)));
            }
            true
        }
    }
}

/// Drops `value` inside the panic guard (a plugin's `Drop` may panic, e.g. a thread join).
pub(crate) fn guarded_drop<T>(log: &Logger, what: &str, value: T) {
    guard(log, what, (), move || drop(value));
}

/// The instance a callback is for: the registry entry keyed by `ctx` (never dereferenced), or, when
/// the host passed no context, the one `fallback` picks.
fn resolve<'r, I>(
    reg: &'r Registry<I>,
    ctx: *mut c_void,
    fallback: impl FnOnce(&'r Registry<I>) -> Option<Call<'r, I>>,
) -> Option<Call<'r, I>> {
    if ctx.is_null() {
        fallback(reg)
    } else {
        reg.get(ctx as usize)
    }
}

/// Pre-run: the host calls it right after an instance's init, on the thread that ran init, so it is
/// for the newest instance initialised on this thread. Its arrival also shows a 2.2+ host.
fn pre_run<I: Instance>(reg: &Registry<I>, hot_reload: c_int, name: &str) -> c_int {
    host::mark_modern();
    let Some(inst) = reg.current() else { return 0 };
    let log = inst.log().clone();
    let r = guard(&log, name, -1, || match inst.pre_run(hot_reload != 0) {
        Ok(()) => 0,
        Err(e) => {
            log.error(format_args!("pre-run: {e}"));
            -1
        }
    });
    drop(inst);
    r
}

/// Pre-exit: no context, so the calling thread's instance, else every instance not told yet.
fn pre_exit<I: Instance>(reg: &Registry<I>, hot_reload: c_int, name: &str) {
    for inst in reg.take_pre_exit() {
        let log = inst.log().clone();
        guard(&log, name, (), || inst.pre_exit(hot_reload != 0));
    }
}

/// Exit of the instance keyed `key`: removed from the registry, waited for, shut down. False when
/// the key is not a live instance (a double exit or a foreign pointer: refused, nothing freed).
fn exit_key<I: Instance>(reg: &Registry<I>, key: usize) -> bool {
    match reg.remove(key) {
        Some(inst) => {
            if let Some(st) = crate::oom::take_unreported() {
                inst.log().warn(format_args!(
                    "malloc failed {} time(s) in this process; the SDK's emergency reserve served those \
                     allocations ({} it could not serve)",
                    st.served, st.refused
                ));
            }
            inst.shutdown(reg);
            true
        }
        None => false,
    }
}

/// The init context of one instance, from the api table and instance pointer the host passed, or
/// `None` (logged) when the host passed no table.
///
/// # Safety
/// `api` must be NULL or the host's table, and `ins` the instance pointer passed with it; both, and
/// the property strings the host returns, must outlive `'a` and the instance.
unsafe fn init_context<'a>(
    api: *const flb_api,
    ins: *mut c_void,
    kind: InstanceKind,
    plugin: &'static str,
    keys: &'static [Key],
    instance: usize,
    fallback: &Logger,
) -> Option<InitContext<'a>> {
    // SAFETY: init_context's contract: `api` is NULL or a table valid for 'a; as_ref handles NULL.
    let Some(api) = (unsafe { api.as_ref() }) else {
        fallback.error(format_args!("FLBPluginInit: the host passed no api table"));
        return None;
    };
    // SAFETY: api and ins come from the host together and outlive the instance; the instance
    // detaches the logger at exit, before the host frees them.
    let log = unsafe { Logger::new(api, ins, kind, plugin) };
    // SAFETY: as above; property strings live as long as the instance config.
    let config = unsafe { Config::from_host(api, ins, kind) }.with_keys(keys);
    let get_cmt = match kind {
        InstanceKind::Input => api.input_get_cmt_instance,
        InstanceKind::Output => api.output_get_cmt_instance,
    };
    // SAFETY: the getter comes from the same live table as `ins`, the instance it expects.
    let cmt = get_cmt.map_or(core::ptr::null_mut(), |f| unsafe { f(ins) });
    let ins = if kind == InstanceKind::Input { ins } else { core::ptr::null_mut() };
    Some(InitContext {
        config,
        log,
        record_form: RecordForm::Modern,
        reserve: 0,
        cmt,
        instance,
        plugin,
        ins,
        worker: None,
    })
}

/// `FLBPluginPreRegister`: only Fluent Bit 2.2+ calls it, so its arrival shows a host that reads
/// modern records.
pub fn pre_register(_hot_reloading: c_int) -> c_int {
    host::mark_modern();
    0
}

/// `FLBPluginRegister`: fills the five fields every host has, plus `event_type` when the plugin asks
/// for a non-log event type (that field exists only from Fluent Bit 5.0), plus `config_map` when the
/// plugin declares keys and the host is known to take the map (see [`host::config_map_support`]).
///
/// # Safety
/// `def` must be NULL or point to a host-allocated definition with at least the five base fields,
/// and the seven-field layout when `event_type` is `Some`.
#[allow(clippy::too_many_arguments)]
pub unsafe fn register<I>(
    reg: &Registry<I>,
    def: *mut flb_plugin_proxy_def,
    plugin_type: c_int,
    name: &'static str,
    description: &'static str,
    event_type: Option<c_int>,
    keys: &'static [Key],
    log: &Logger,
) -> c_int {
    guard(log, "FLBPluginRegister", -1, || {
        if def.is_null() {
            log.error(format_args!("FLBPluginRegister called with a NULL definition"));
            return -1;
        }
        let Some((name_ptr, desc_ptr)) = reg.names(name, description) else {
            log.error(format_args!("plugin name or description contains a NUL byte"));
            return -1;
        };
        let map = if keys.is_empty() { core::ptr::null_mut() } else { config_map_for_host(reg, keys, log) };
        // SAFETY: def is non-NULL and, per the contract, points to at least the five base fields
        // (seven when event_type is Some); `map` is non-NULL only on a host shown to have the
        // 48-byte definition (config_map_support). Fields are written through raw places so no
        // reference to a shorter host struct is created.
        unsafe {
            core::ptr::addr_of_mut!((*def).type_).write(plugin_type);
            core::ptr::addr_of_mut!((*def).proxy).write(abi::FLB_PROXY_GOLANG);
            core::ptr::addr_of_mut!((*def).flags).write(0);
            core::ptr::addr_of_mut!((*def).name).write(name_ptr);
            core::ptr::addr_of_mut!((*def).description).write(desc_ptr);
            if let Some(et) = event_type {
                core::ptr::addr_of_mut!((*def).event_type).write(et);
            }
            if !map.is_null() {
                core::ptr::addr_of_mut!((*def).config_map).write(map);
            }
        }
        0
    })
}

/// The map to write into the definition, or NULL (with a note, once per process, saying why the
/// host will not check the plugin's keys).
fn config_map_for_host<I>(reg: &Registry<I>, keys: &[Key], log: &Logger) -> *mut abi::flb_config_map {
    let verified = host::CONFIG_MAP_VERIFIED.join(", ");
    match host::config_map_support() {
        host::MapSupport::Yes => match reg.config_map(keys) {
            Ok(p) => p,
            Err(e) => {
                log.error(format_args!(
                    "plugin bug: its keys cannot be handed to Fluent Bit ({e}); they are not checked"
                ));
                core::ptr::null_mut()
            }
        },
        host::MapSupport::Unknown => {
            if reg.first_map_note() {
                log.debug(format_args!(
                    "FLUENT_BIT_VERSION is not set: keys are not handed to the host (set it to {verified} \
                     on Fluent Bit {verified} to have unknown keys refused)"
                ));
            }
            core::ptr::null_mut()
        }
        host::MapSupport::Unverified(v) => {
            if reg.first_map_note() {
                log.info(format_args!(
                    "Fluent Bit {v}: this SDK has checked the config_map layout of Fluent Bit {verified} only, so \
                     the plugin's keys are not handed over and Fluent Bit does not refuse unknown ones"
                ));
            }
            core::ptr::null_mut()
        }
        host::MapSupport::Mismatch(v) => {
            if reg.first_map_note() {
                log.warn(format_args!(
                    "FLUENT_BIT_VERSION={v}, but this process does not export what Fluent Bit {v} exports \
                     (flb_config_map_translate_dynamic): the keys are not handed over"
                ));
            }
            core::ptr::null_mut()
        }
    }
}

/// `FLBPluginUnregister`: exits any instance the host never exited (hosts without the Ctx exit
/// callbacks cannot name the instance they exit), joining its worker, then frees the strings
/// Register allocated.
///
/// # Safety
/// `def` must be NULL or the definition Register filled.
pub unsafe fn unregister<I: Instance>(reg: &Registry<I>, def: *mut flb_plugin_proxy_def, log: &Logger) {
    guard(log, "FLBPluginUnregister", (), || {
        for inst in reg.remove_all() {
            inst.shutdown(reg);
        }
        reg.free_orphans();
        if !def.is_null() {
            // SAFETY: def is the definition Register filled (five base fields); the host is done with
            // the strings.
            unsafe {
                let name = core::ptr::addr_of!((*def).name).read();
                let desc = core::ptr::addr_of!((*def).description).read();
                if reg.owns_names(name, desc) {
                    core::ptr::addr_of_mut!((*def).name).write(core::ptr::null_mut());
                    core::ptr::addr_of_mut!((*def).description).write(core::ptr::null_mut());
                }
            }
            if let Some(map) = reg.config_map_ptr() {
                // SAFETY: a map exists only where Register found a host with the 48-byte definition,
                // so the config_map field is inside the host's allocation.
                unsafe {
                    if core::ptr::addr_of!((*def).config_map).read() == map {
                        core::ptr::addr_of_mut!((*def).config_map).write(core::ptr::null_mut());
                    }
                }
            }
        }
        reg.free_names();
    })
}
