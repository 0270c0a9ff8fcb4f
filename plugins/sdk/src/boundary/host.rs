//! What this plugin knows about the host it runs in, learnt without a version number (Fluent Bit
//! exports none):
//! - whether the host understands the modern record form `[[time, {metadata}], {body}]` (2.1+):
//!   known when `FLBPluginPreRegister` was called or a pre-run hook came (both 2.2+); until then
//!   records are written in the legacy `[time, {body}]` form, which every version reads (a 2.0 host
//!   takes the inner array of a modern record for a bad timestamp and drops or garbles the record;
//!   `flb_input_log_append` is exported from 2.0, so it tells nothing here);
//! - whether `flb_input_log_append` can be called directly (see [`log_append`]);
//! - whether the definition has the `config_map` field and Fluent Bit reads it with the struct
//!   layout this SDK writes (see [`config_map_support`]).

use core::ffi::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

/// `int flb_input_log_append(struct flb_input_instance *ins, const char *tag, size_t tag_len,
/// const void *buf, size_t buf_size)`: the same signature in every Fluent Bit from 2.0.0 to 5.1.1;
/// returns 0 when the records were copied, -1 on any failure (paused input, full ring buffer, out of
/// memory).
pub(crate) type LogAppendFn = unsafe extern "C" fn(
    ins: *mut c_void,
    tag: *const c_char,
    tag_len: usize,
    buf: *const c_void,
    size: usize,
) -> c_int;

/// `int flb_input_log_append_records(struct flb_input_instance *ins, size_t records, const char
/// *tag, size_t tag_len, const void *buf, size_t buf_size)`: `flb_input_log_append` with the
/// number of log records given, so Fluent Bit does not decode the whole buffer to count them (its
/// `flb_mp_count_log_records`: a sixth of Fluent Bit's CPU behind gtail in a profile). The same
/// signature from 2.0.0 to 5.1.1; the native tail uses it.
pub(crate) type LogAppendRecordsFn = unsafe extern "C" fn(
    ins: *mut c_void,
    records: usize,
    tag: *const c_char,
    tag_len: usize,
    buf: *const c_void,
    size: usize,
) -> c_int;

static MODERN: AtomicBool = AtomicBool::new(false);
static LOG_APPEND: OnceLock<Option<LogAppendFn>> = OnceLock::new();
static LOG_APPEND_RECORDS: OnceLock<Option<LogAppendRecordsFn>> = OnceLock::new();

/// The host showed it is 2.1 or newer.
pub(crate) fn mark_modern() {
    MODERN.store(true, Ordering::Relaxed);
}

/// True when the host is known to read modern records.
pub(crate) fn modern() -> bool {
    MODERN.load(Ordering::Relaxed)
}

/// The address of `name` among the process's global symbols (Fluent Bit's exports), or `None`.
fn global_symbol(name: &core::ffi::CStr) -> Option<*mut c_void> {
    // SAFETY: dlsym with RTLD_DEFAULT and a NUL-terminated name has no other precondition.
    let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
    if p.is_null() {
        // glibc (2.34+) keeps the failure's record allocated on this (the host's) thread: the first
        // dlerror builds its message, the second frees both, so nothing stays live after the call.
        // SAFETY: dlerror has no preconditions.
        unsafe {
            libc::dlerror();
            libc::dlerror();
        }
        return None;
    }
    Some(p)
}

/// Fluent Bit's `flb_input_log_append`, resolved once from the process's global symbols; `None`
/// on hosts that do not export it (before 2.1, or a host built without exported symbols).
///
/// Fluent Bit's binary is linked with its symbols exported (`ENABLE_EXPORTS`, since 2016), and this
/// function has kept its signature from 2.0.0 to 5.1.1. It is an internal of Fluent Bit, not part of
/// the proxy contract: callers keep the standard hand-over as the fallback.
pub(crate) fn log_append() -> Option<LogAppendFn> {
    *LOG_APPEND.get_or_init(|| {
        let p = global_symbol(c"flb_input_log_append")?;
        // SAFETY: the symbol is Fluent Bit's function of this signature (stable since 2.1.0); a
        // data pointer and a function pointer have the same size and representation on the
        // platforms Fluent Bit supports.
        Some(unsafe { core::mem::transmute::<*mut c_void, LogAppendFn>(p) })
    })
}

/// Fluent Bit's `flb_input_log_append_records`, resolved once; `None` where it is not exported
/// (then [`log_append`] is used, and Fluent Bit counts the records itself).
pub(crate) fn log_append_records() -> Option<LogAppendRecordsFn> {
    *LOG_APPEND_RECORDS.get_or_init(|| {
        let p = global_symbol(c"flb_input_log_append_records")?;
        // SAFETY: the symbol is Fluent Bit's function of this signature (unchanged from 2.0.0 to
        // 5.1.1); data and function pointers have the same representation where Fluent Bit runs.
        Some(unsafe { core::mem::transmute::<*mut c_void, LogAppendRecordsFn>(p) })
    })
}

/// The record form to write: `Legacy` when the plugin asks for it or the host may be older than 2.1.
pub(crate) fn record_form(preferred: crate::events::RecordForm) -> crate::events::RecordForm {
    use crate::events::RecordForm;
    if preferred == RecordForm::Legacy || !modern() {
        RecordForm::Legacy
    } else {
        RecordForm::Modern
    }
}

/// Fluent Bit versions whose plugin definition (48 bytes, `config_map` at offset 40) and
/// `struct flb_config_map` (104 bytes, the 5.0.3 layout) this SDK was checked against.
pub(crate) const CONFIG_MAP_VERIFIED: &[&str] = &["5.1.1"];

/// A function Fluent Bit exports from 5.0.3 on, added with the `raw` member that gave `struct
/// flb_config_map` its current layout: present in every host the map may be written to.
const CONFIG_MAP_SYMBOL: &core::ffi::CStr = c"flb_config_map_translate_dynamic";

/// Whether `config_map` may be written into the definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MapSupport {
    /// `FLUENT_BIT_VERSION` names a verified version and the host exports the 5.0.3 symbol.
    Yes,
    /// `FLUENT_BIT_VERSION` is not set: the version is unknown.
    Unknown,
    /// A version this SDK has not checked the layouts of.
    Unverified(String),
    /// The variable names a verified version, but the process does not export the symbol every such
    /// Fluent Bit exports: the variable does not describe this host.
    Mismatch(String),
}

/// Decides, at each Register, whether the host takes a `config_map`.
///
/// Fluent Bit exports no version, and no exported symbol tells 5.1.1 (48-byte definition) from
/// 5.1.0 (40 bytes, where writing the field corrupts the host's heap). The version comes from the
/// `FLUENT_BIT_VERSION` environment variable, which Fluent Bit's official container images set; on
/// other installs users set it themselves. It is trusted only for versions in
/// [`CONFIG_MAP_VERIFIED`], and only when the process exports `flb_config_map_translate_dynamic`
/// (5.0.3+), so a variable left over from another install cannot make a plugin write into an older
/// host's smaller definition. Anything else: nothing is written, and the plugin runs as before,
/// with its keys unchecked by the host.
pub(crate) fn config_map_support() -> MapSupport {
    let version = match std::env::var("FLUENT_BIT_VERSION") {
        Ok(v) if !v.trim().is_empty() => v.trim().to_string(),
        _ => return MapSupport::Unknown,
    };
    if !CONFIG_MAP_VERIFIED.contains(&version.as_str()) {
        return MapSupport::Unverified(version);
    }
    match global_symbol(CONFIG_MAP_SYMBOL) {
        Some(_) => MapSupport::Yes,
        None => MapSupport::Mismatch(version),
    }
}
