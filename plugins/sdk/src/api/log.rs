//! Logging through the host: `api->log_print` with a `"%s"` format (a `%` in a message is text, not
//! a conversion), called only after the instance's level check says the level is enabled.

use crate::abi::{self, flb_api};
use crate::sync::RwLock;
use core::ffi::{c_char, c_int, c_void};
use core::fmt;
use std::io::Write;
use std::sync::Arc;

/// Log levels, as Fluent Bit numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(i32)]
pub enum Level {
    /// Errors: something was lost or refused.
    Error = abi::FLB_LOG_ERROR,
    /// Warnings.
    Warn = abi::FLB_LOG_WARN,
    /// Information.
    Info = abi::FLB_LOG_INFO,
    /// Debugging.
    Debug = abi::FLB_LOG_DEBUG,
    /// Tracing.
    Trace = abi::FLB_LOG_TRACE,
}

impl Level {
    fn label(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
            Level::Trace => "trace",
        }
    }
}

/// Which kind of instance a logger belongs to, which decides the level-check callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceKind {
    /// An input instance.
    Input,
    /// An output instance.
    Output,
}

/// A logger bound to one plugin instance. Cheap to clone; a clone may be moved to another thread.
///
/// Once its instance exits the logger goes inert: it no longer calls the host (whose instance is
/// freed) and writes to stderr instead, so a thread that outlives its instance cannot crash Fluent
/// Bit by logging.
#[derive(Clone)]
pub struct Logger {
    kind: InstanceKind,
    plugin: &'static str,
    host: Option<Arc<HostLog>>,
}

/// The host side of a logger: the api table and instance, cleared when the instance exits.
struct HostLog {
    target: RwLock<Option<HostTarget>>,
}

#[derive(Clone, Copy)]
struct HostTarget {
    api: *const flb_api,
    ins: *mut c_void,
}

// SAFETY: the pointers are used only under the read lock, and exit clears them under the write lock
// before the host frees its instance; the host's logging functions are thread-safe (Fluent Bit logs
// from every thread).
unsafe impl Send for HostLog {}
// SAFETY: as above; all access to the pointers goes through the RwLock.
unsafe impl Sync for HostLog {}

impl fmt::Debug for Logger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Logger").field("plugin", &self.plugin).field("kind", &self.kind).finish()
    }
}

impl Logger {
    /// A logger that writes to the host through `api`, or to stderr when `api` is NULL.
    ///
    /// # Safety
    /// `api` must be NULL or point to a valid `flb_api` table, and `ins` be the instance pointer the
    /// host passed with it; both must stay valid until [`detach`](Self::detach) is called on this
    /// logger or a clone of it.
    pub unsafe fn new(api: *const flb_api, ins: *mut c_void, kind: InstanceKind, plugin: &'static str) -> Self {
        let host = (!api.is_null()).then(|| Arc::new(HostLog { target: RwLock::new(Some(HostTarget { api, ins })) }));
        Logger { kind, plugin, host }
    }

    /// A logger with no host: messages go to stderr. Used before an instance exists.
    pub const fn stderr(kind: InstanceKind, plugin: &'static str) -> Self {
        Logger { kind, plugin, host: None }
    }

    /// Stops this logger and every clone of it from calling the host (its instance is exiting);
    /// later messages go to stderr. Waits for messages being printed through the host.
    pub(crate) fn detach(&self) {
        if let Some(h) = &self.host {
            *h.target.write() = None;
        }
    }

    fn with_target<R>(&self, f: impl FnOnce(Option<HostTarget>) -> R) -> R {
        match &self.host {
            Some(h) => f(*h.target.read()),
            None => f(None),
        }
    }

    /// True when the host would print a message at `level` for this instance.
    pub fn enabled(&self, level: Level) -> bool {
        let target = self.host.as_ref().map(|h| h.target.read());
        let Some(HostTarget { api, ins }) = target.as_deref().copied().flatten() else {
            return level <= Level::Info;
        };
        // SAFETY: the target is set only while the host's table and instance are valid (Logger::new's
        // contract), and the read guard keeps detach from clearing it during the call.
        let Some(api) = (unsafe { api.as_ref() }) else { return level <= Level::Info };
        let check = match self.kind {
            InstanceKind::Input => api.input_log_check,
            InstanceKind::Output => api.output_log_check,
        };
        match check {
            // SAFETY: as above; the host's check takes the instance pointer it gave us and a level.
            Some(f) => unsafe { f(ins, level as c_int) != 0 },
            None => true,
        }
    }

    /// Logs a message at `level` when enabled. Allocates; keep it off hot paths.
    pub fn log(&self, level: Level, args: fmt::Arguments<'_>) {
        let mut line = Vec::with_capacity(128);
        let _ = write!(line, "[{}] {}", self.plugin, args);
        // A NUL would end the C string early; the rest of the message still matters.
        for b in line.iter_mut() {
            if *b == 0 {
                *b = b' ';
            }
        }
        line.push(0);
        let detached = self.host.is_some();
        self.with_target(|target| {
            let Some(HostTarget { api, ins }) = target else {
                if level <= Level::Info {
                    line.pop();
                    let note: &[u8] = if detached { b" (logged after the instance exited)" } else { b"" };
                    let mut err = std::io::stderr().lock();
                    let _ = err.write_all(format!("[{:>5}] ", level.label()).as_bytes());
                    let _ = err.write_all(&line);
                    let _ = err.write_all(note);
                    let _ = err.write_all(b"\n");
                }
                return;
            };
            // SAFETY: the target is valid while the read guard is held (see `enabled`).
            let Some(api) = (unsafe { api.as_ref() }) else { return };
            let check = match self.kind {
                InstanceKind::Input => api.input_log_check,
                InstanceKind::Output => api.output_log_check,
            };
            if let Some(f) = check {
                // SAFETY: as above; the host's check takes the instance pointer it gave us.
                if unsafe { f(ins, level as c_int) } == 0 {
                    return;
                }
            }
            if let Some(print) = api.log_print {
                // SAFETY: "%s" consumes exactly one argument, a NUL-terminated string that lives for
                // the call; the table is valid while the read guard is held.
                unsafe { print(level as c_int, core::ptr::null(), 0, c"%s".as_ptr(), line.as_ptr() as *const c_char) };
            }
        })
    }

    /// Logs at error level.
    pub fn error(&self, args: fmt::Arguments<'_>) {
        self.log(Level::Error, args)
    }

    /// Logs at warn level.
    pub fn warn(&self, args: fmt::Arguments<'_>) {
        self.log(Level::Warn, args)
    }

    /// Logs at info level.
    pub fn info(&self, args: fmt::Arguments<'_>) {
        self.log(Level::Info, args)
    }

    /// Logs at debug level.
    pub fn debug(&self, args: fmt::Arguments<'_>) {
        self.log(Level::Debug, args)
    }
}

/// `flb_error!(logger, "...", args)`: logs at error level through the host.
#[macro_export]
macro_rules! flb_error { ($log:expr, $($arg:tt)+) => { $log.error(format_args!($($arg)+)) }; }
/// `flb_warn!(logger, "...", args)`: logs at warn level through the host.
#[macro_export]
macro_rules! flb_warn { ($log:expr, $($arg:tt)+) => { $log.warn(format_args!($($arg)+)) }; }
/// `flb_info!(logger, "...", args)`: logs at info level through the host.
#[macro_export]
macro_rules! flb_info { ($log:expr, $($arg:tt)+) => { $log.info(format_args!($($arg)+)) }; }
/// `flb_debug!(logger, "...", args)`: logs at debug level through the host.
#[macro_export]
macro_rules! flb_debug { ($log:expr, $($arg:tt)+) => { $log.debug(format_args!($($arg)+)) }; }
