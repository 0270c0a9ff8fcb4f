//! The live instances of one plugin `.so`, and the strings Register handed to the host. Hosts
//! without Ctx callbacks (input collect before 4.1, pause/resume, pre-exit, input exit) call us with
//! no instance pointer; the registry answers "which instance" from the calling thread, since Fluent
//! Bit runs each input instance's callbacks on its own thread.

use core::ffi::c_char;
use std::ffi::CString;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// The calling thread, without `std::thread::current()`: that allocates a handle (and thread-local
/// storage) on host threads which lives until the thread exits, so a host's leak check would
/// rightly count it against the plugin.
fn thread_key() -> usize {
    // SAFETY: pthread_self has no preconditions.
    unsafe { libc::pthread_self() as usize }
}

struct Entry {
    ptr: usize,
    thread: usize,
    pre_exited: bool,
    /// Exits and frees the instance (type-erased so the registry needs no type parameter).
    destroy: unsafe fn(usize),
}

#[derive(Default)]
struct Inner {
    live: Vec<Entry>,
    name: Option<CString>,
    description: Option<CString>,
}

/// One per plugin `.so`, declared by the plugin macro.
pub struct Registry {
    inner: Mutex<Inner>,
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

impl Registry {
    /// An empty registry (usable in a `static`).
    pub const fn new() -> Self {
        Registry { inner: Mutex::new(Inner { live: Vec::new(), name: None, description: None }) }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock was already logged; the list itself stays consistent.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The C strings for `def->name`/`def->description`, allocated once and kept until Unregister
    /// (the host keeps the pointers until then). `None` when a string has an interior NUL.
    pub(crate) fn names(&self, name: &str, description: &str) -> Option<(*mut c_char, *mut c_char)> {
        let mut g = self.lock();
        if g.name.is_none() {
            g.name = Some(CString::new(name).ok()?);
            g.description = Some(CString::new(description).ok()?);
        }
        let n = g.name.as_ref()?.as_ptr() as *mut c_char;
        let d = g.description.as_ref()?.as_ptr() as *mut c_char;
        Some((n, d))
    }

    pub(crate) fn owns_names(&self, name: *const c_char, description: *const c_char) -> bool {
        let g = self.lock();
        g.name.as_ref().is_some_and(|n| n.as_ptr() == name)
            && g.description.as_ref().is_some_and(|d| d.as_ptr() == description)
    }

    pub(crate) fn free_names(&self) {
        let mut g = self.lock();
        g.name = None;
        g.description = None;
    }

    pub(crate) fn add(&self, ptr: usize, destroy: unsafe fn(usize)) {
        self.lock().live.push(Entry { ptr, thread: thread_key(), pre_exited: false, destroy });
    }

    /// Removes `ptr`; false when it is not a live instance (a double exit or a foreign pointer).
    pub(crate) fn remove(&self, ptr: usize) -> bool {
        let mut g = self.lock();
        match g.live.iter().position(|e| e.ptr == ptr) {
            Some(i) => {
                g.live.remove(i);
                true
            }
            None => false,
        }
    }

    /// Number of live instances.
    pub fn len(&self) -> usize {
        self.lock().live.len()
    }

    /// True when no instance is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The instance a context-less callback means: the newest one initialised on this thread, else
    /// the only live one.
    pub(crate) fn current(&self) -> Option<usize> {
        let g = self.lock();
        let me = thread_key();
        if let Some(e) = g.live.iter().rev().find(|e| e.thread == me) {
            return Some(e.ptr);
        }
        match g.live.as_slice() {
            [only] => Some(only.ptr),
            _ => None,
        }
    }

    /// The only live instance, if there is exactly one (outputs share one engine thread, so the
    /// thread tells nothing about them).
    pub(crate) fn only(&self) -> Option<usize> {
        match self.lock().live.as_slice() {
            [only] => Some(only.ptr),
            _ => None,
        }
    }

    /// The instances a context-less notification (pause, resume) is for: the current one if known,
    /// else all of them.
    pub(crate) fn current_or_all(&self) -> Vec<usize> {
        match self.current() {
            Some(p) => vec![p],
            None => self.lock().live.iter().map(|e| e.ptr).collect(),
        }
    }

    /// The instances a context-less pre-exit is for: the current one if known, else every live
    /// instance not told yet. Each is returned once.
    pub(crate) fn take_pre_exit(&self) -> Vec<usize> {
        let cur = self.current();
        let mut g = self.lock();
        let mut out = Vec::new();
        for e in g.live.iter_mut() {
            if !e.pre_exited && cur.is_none_or(|c| c == e.ptr) {
                e.pre_exited = true;
                out.push(e.ptr);
            }
        }
        out
    }

    /// Exits and frees every instance still live (Unregister after hosts that could not name them).
    pub(crate) fn drop_all(&self) {
        let entries = std::mem::take(&mut self.lock().live);
        for e in entries {
            // SAFETY: each entry was added with its own destroy function and is removed from the list
            // before being destroyed, so it is destroyed exactly once.
            unsafe { (e.destroy)(e.ptr) };
        }
    }
}
