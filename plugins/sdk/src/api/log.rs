//! Logging through the host: `api->log_print` with a `"%s"` format (a `%` in a message is text, not
//! a conversion), called only after the instance's level check says the level is enabled.

use crate::abi::{self, flb_api};
use core::ffi::{c_char, c_int, c_void};
use core::fmt;
use std::io::Write;

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

/// A logger bound to one plugin instance. Cheap to copy; valid for the instance's life.
#[derive(Clone, Copy)]
pub struct Logger {
    api: *const flb_api,
    ins: *mut c_void,
    kind: InstanceKind,
    plugin: &'static str,
}

// SAFETY: the host's api table and instance outlive the plugin instance this logger belongs to, and
// the host's logging functions are thread-safe (Fluent Bit logs from every thread).
unsafe impl Send for Logger {}
// SAFETY: as above; the logger holds no mutable state.
unsafe impl Sync for Logger {}

impl fmt::Debug for Logger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Logger").field("plugin", &self.plugin).field("kind", &self.kind).finish()
    }
}

impl Logger {
    /// A logger that writes to the host through `api`, or to stderr when `api` is NULL.
    ///
    /// # Safety
    /// `api` must be NULL or point to a valid `flb_api` table that outlives the logger, and `ins`
    /// must be the instance pointer the host passed with it.
    pub unsafe fn new(api: *const flb_api, ins: *mut c_void, kind: InstanceKind, plugin: &'static str) -> Self {
        Logger { api, ins, kind, plugin }
    }

    /// A logger with no host: messages go to stderr. Used before an instance exists.
    pub const fn stderr(kind: InstanceKind, plugin: &'static str) -> Self {
        Logger { api: core::ptr::null(), ins: core::ptr::null_mut(), kind, plugin }
    }

    /// True when the host would print a message at `level` for this instance.
    pub fn enabled(&self, level: Level) -> bool {
        // SAFETY: per Logger::new's contract, api is NULL or a live table.
        let Some(api) = (unsafe { self.api.as_ref() }) else {
            return level <= Level::Info;
        };
        let check = match self.kind {
            InstanceKind::Input => api.input_log_check,
            InstanceKind::Output => api.output_log_check,
        };
        match check {
            // SAFETY: the host's check takes the instance pointer it gave us and a level.
            Some(f) => unsafe { f(self.ins, level as c_int) != 0 },
            None => true,
        }
    }

    /// Logs a message at `level` when enabled. Allocates; keep it off hot paths.
    pub fn log(&self, level: Level, args: fmt::Arguments<'_>) {
        if !self.enabled(level) {
            return;
        }
        let mut line = Vec::with_capacity(128);
        let _ = write!(line, "[{}] {}", self.plugin, args);
        // A NUL would end the C string early; the rest of the message still matters.
        for b in line.iter_mut() {
            if *b == 0 {
                *b = b' ';
            }
        }
        line.push(0);
        // SAFETY: per Logger::new's contract, api is NULL or a live table.
        let print = unsafe { self.api.as_ref() }.and_then(|api| api.log_print);
        match print {
            // SAFETY: "%s" consumes exactly one argument, a NUL-terminated string that lives for the call.
            Some(f) => unsafe {
                f(level as c_int, core::ptr::null(), 0, c"%s".as_ptr(), line.as_ptr() as *const c_char)
            },
            None => {
                line.pop();
                let mut err = std::io::stderr().lock();
                let _ = err.write_all(format!("[{:>5}] ", level.label()).as_bytes());
                let _ = err.write_all(&line);
                let _ = err.write_all(b"\n");
            }
        }
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
