//! The boundary between the host's C calls and the safe API. Every exported function the
//! `input_plugin!`/`output_plugin!` macros generate lands here: it catches panics (logging them and
//! returning the callback's error value), checks the host's pointers, and maps `Result` to return codes.
//! Plugin authors never call this module directly.

mod input;
mod output;
mod registry;

pub use input::*;
pub use output::*;
pub use registry::Registry;

use crate::abi::{self, flb_api, flb_plugin_proxy_def};
use crate::api::{Config, InitContext, InstanceKind, Logger};
use crate::events::RecordForm;
use core::ffi::{c_int, c_void};
use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// A number at the start of every instance we hand out, checked before a context pointer from the
/// host is trusted, so a stale or foreign pointer is refused instead of used.
pub(crate) const INSTANCE_MAGIC: u64 = 0x464c_4252_5553_5449; // "FLBRUSTI"

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
            on_panic
        }
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.as_str()
    } else {
        "(non-string panic payload)"
    }
}

/// The init context of one instance, from the api table and instance pointer the host passed, or
/// `None` (logged) when the host passed no table.
///
/// # Safety
/// `api` must be NULL or the host's table, and `ins` the instance pointer passed with it; both, and
/// the property strings the host returns, must outlive `'a`.
unsafe fn init_context<'a>(
    api: *const flb_api,
    ins: *mut c_void,
    kind: InstanceKind,
    plugin: &'static str,
    fallback: &Logger,
) -> Option<InitContext<'a>> {
    // SAFETY: per the contract api is NULL or a table that outlives 'a.
    let Some(api) = (unsafe { api.as_ref() }) else {
        fallback.error(format_args!("FLBPluginInit: the host passed no api table"));
        return None;
    };
    // SAFETY: api and ins come from the host together and outlive the instance.
    let log = unsafe { Logger::new(api, ins, kind, plugin) };
    // SAFETY: as above; property strings live as long as the instance config.
    let config = unsafe { Config::from_host(api, ins, kind) };
    let get_cmt = match kind {
        InstanceKind::Input => api.input_get_cmt_instance,
        InstanceKind::Output => api.output_get_cmt_instance,
    };
    // SAFETY: the host's cmt getter takes the instance pointer it gave us.
    let cmt = get_cmt.map_or(core::ptr::null_mut(), |f| unsafe { f(ins) });
    Some(InitContext { config, log, record_form: RecordForm::Modern, reserve: 0, cmt })
}

/// `FLBPluginRegister`: fills the five fields every host has, plus `event_type` when the plugin asks
/// for a non-log event type (that field exists only from Fluent Bit 5.0).
///
/// # Safety
/// `def` must be NULL or point to a host-allocated definition with at least the five base fields,
/// and the seven-field layout when `event_type` is `Some`.
pub unsafe fn register(
    reg: &Registry,
    def: *mut flb_plugin_proxy_def,
    plugin_type: c_int,
    name: &'static str,
    description: &'static str,
    event_type: Option<c_int>,
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
        // SAFETY: def is non-NULL and, per the contract, points to at least the five base fields;
        // fields are written through raw places so no reference to a short struct is created.
        unsafe {
            core::ptr::addr_of_mut!((*def).type_).write(plugin_type);
            core::ptr::addr_of_mut!((*def).proxy).write(abi::FLB_PROXY_GOLANG);
            core::ptr::addr_of_mut!((*def).flags).write(0);
            core::ptr::addr_of_mut!((*def).name).write(name_ptr);
            core::ptr::addr_of_mut!((*def).description).write(desc_ptr);
            if let Some(et) = event_type {
                core::ptr::addr_of_mut!((*def).event_type).write(et);
            }
        }
        0
    })
}

/// `FLBPluginUnregister`: frees the strings Register allocated and drops any instance the host
/// never exited (hosts without the Ctx exit callbacks cannot name the instance they exit).
///
/// # Safety
/// `def` must be NULL or the definition Register filled.
pub unsafe fn unregister(reg: &Registry, def: *mut flb_plugin_proxy_def, log: &Logger) {
    guard(log, "FLBPluginUnregister", (), || {
        reg.drop_all();
        if !def.is_null() {
            // SAFETY: def is the definition Register filled; the host is done with the strings.
            unsafe {
                let name = core::ptr::addr_of!((*def).name).read();
                let desc = core::ptr::addr_of!((*def).description).read();
                if reg.owns_names(name, desc) {
                    core::ptr::addr_of_mut!((*def).name).write(core::ptr::null_mut());
                    core::ptr::addr_of_mut!((*def).description).write(core::ptr::null_mut());
                }
            }
        }
        reg.free_names();
    })
}
