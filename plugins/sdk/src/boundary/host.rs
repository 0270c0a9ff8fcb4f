//! What this plugin knows about the host it runs in, learnt without a version number (Fluent Bit
//! exports none):
//! - whether the host understands the modern record form `[[time, {metadata}], {body}]` (2.1+):
//!   known when `FLBPluginPreRegister` was called or a pre-run hook came (both 2.2+); until then
//!   records are written in the legacy `[time, {body}]` form, which every version reads (a 2.0 host
//!   takes the inner array of a modern record for a bad timestamp and drops or garbles the record;
//!   `flb_input_log_append` is exported from 2.0, so it tells nothing here);
//! - whether `flb_input_log_append` can be called directly (see [`log_append`]).

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

static MODERN: AtomicBool = AtomicBool::new(false);
static LOG_APPEND: OnceLock<Option<LogAppendFn>> = OnceLock::new();

/// The host showed it is 2.1 or newer.
pub(crate) fn mark_modern() {
    MODERN.store(true, Ordering::Relaxed);
}

/// True when the host is known to read modern records.
pub(crate) fn modern() -> bool {
    MODERN.load(Ordering::Relaxed)
}

/// Fluent Bit's `flb_input_log_append`, resolved once from the process's global symbols; `None`
/// on hosts that do not export it (before 2.1, or a host built without exported symbols).
///
/// Fluent Bit's binary is linked with its symbols exported (`ENABLE_EXPORTS`, since 2016), and this
/// function has kept its signature from 2.0.0 to 5.1.1. It is an internal of Fluent Bit, not part of
/// the proxy contract: callers keep the standard hand-over as the fallback.
pub(crate) fn log_append() -> Option<LogAppendFn> {
    *LOG_APPEND.get_or_init(|| {
        // SAFETY: dlsym with RTLD_DEFAULT and a NUL-terminated name has no other precondition.
        let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"flb_input_log_append".as_ptr()) };
        if p.is_null() {
            // Takes glibc's per-thread error message, so it is not left allocated on a host thread.
            // SAFETY: dlerror has no preconditions.
            unsafe { libc::dlerror() };
            return None;
        }
        // SAFETY: the symbol is Fluent Bit's function of this signature (stable since 2.1.0); a
        // data pointer and a function pointer have the same size and representation on the
        // platforms Fluent Bit supports.
        Some(unsafe { core::mem::transmute::<*mut c_void, LogAppendFn>(p) })
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
