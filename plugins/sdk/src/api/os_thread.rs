//! The worker's thread, started with `pthread_create` rather than `std::thread::spawn`.
//!
//! Why: `std::thread::spawn` allocates the thread's handle with the `System` allocator directly
//! (not the global one, so the SDK's emergency reserve cannot serve it) and aborts the process when
//! that `malloc` fails; on its first use on a thread it also registers a thread-local destructor,
//! and glibc aborts when the `calloc` for that record fails. A plugin's init runs on a Fluent Bit
//! thread, so either would take Fluent Bit down for one failed allocation (found by flb-host
//! `--fail-malloc`, see c-host/tests/faults.rs). Here the only allocation is the boxed closure,
//! through the global allocator, and a failed `pthread_create` is an `io::Error` (init fails).

use core::ffi::c_void;
use std::ffi::CString;

type Job = Box<dyn FnOnce() + Send + 'static>;

/// A joinable OS thread running a closure that catches its own panics.
pub(crate) struct OsThread(libc::pthread_t);

extern "C" fn start(arg: *mut c_void) -> *mut c_void {
    // SAFETY: `arg` is the Box<Job> `spawn` leaked for this thread, taken back exactly once here.
    let job = unsafe { Box::from_raw(arg as *mut Job) };
    // The job catches its panics; this catch is so that none can unwind into C here.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
    core::ptr::null_mut()
}

impl OsThread {
    /// Starts `f` on a new thread named `name` (cut to Linux's 15 bytes).
    pub(crate) fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> std::io::Result<OsThread> {
        let job: Box<Job> = Box::new(Box::new(f));
        let arg = Box::into_raw(job) as *mut c_void;
        let mut t: libc::pthread_t = 0;
        // SAFETY: `start` matches pthread's start routine type and takes ownership of `arg`; a NULL
        // attribute pointer asks for the defaults.
        let rc = unsafe { libc::pthread_create(&mut t, core::ptr::null(), start, arg) };
        if rc != 0 {
            // SAFETY: the thread was not started, so `arg` is still ours: reclaim it.
            drop(unsafe { Box::from_raw(arg as *mut Job) });
            return Err(std::io::Error::from_raw_os_error(rc));
        }
        let short: Vec<u8> = name.bytes().filter(|&b| b != 0).take(15).collect();
        if let Ok(c) = CString::new(short) {
            // SAFETY: `t` is the live thread just created and `c` a NUL-terminated name of at most
            // 15 bytes; a failure only leaves the thread unnamed.
            unsafe { libc::pthread_setname_np(t, c.as_ptr()) };
        }
        Ok(OsThread(t))
    }

    /// Waits for the thread to end.
    pub(crate) fn join(self) {
        // SAFETY: the thread was created joinable by `spawn` and is joined once (join takes self).
        unsafe { libc::pthread_join(self.0, core::ptr::null_mut()) };
    }
}
