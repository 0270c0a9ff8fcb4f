//! The live instances of one plugin `.so`, and the strings Register handed to the host.
//!
//! Instances are owned here, as `Arc`s. The context pointer the host gets is the `Arc`'s address,
//! used only as a key: a pointer from the host is accepted when an entry with that key is live,
//! checked under the lock, and never dereferenced, so a stale or foreign pointer is refused without
//! undefined behaviour. Every callback works on a [`Call`], which holds a clone of the `Arc`; exit
//! removes the entry (no new call can find it), then waits until every call in flight has dropped
//! its clone, so the instance is dropped by exactly one owner, inside the panic guard.
//!
//! Hosts without Ctx callbacks (input collect before 4.1, pause/resume, pre-exit, input exit) call
//! with no instance pointer; the registry answers "which instance" from the calling thread, since
//! Fluent Bit runs each input instance's callbacks on its own thread.

use crate::events::MallocBuf;
use crate::sync::{Condvar, Mutex, MutexGuard};
use core::ffi::c_char;
use std::ffi::CString;
use std::sync::atomic::{fence, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The calling thread, without `std::thread::current()`: that allocates a handle (and thread-local
/// storage) on host threads which lives until the thread exits, so a host's leak check would
/// rightly count it against the plugin.
pub(crate) fn thread_key() -> usize {
    // SAFETY: pthread_self has no preconditions.
    unsafe { libc::pthread_self() as usize }
}

struct Entry<I> {
    key: usize,
    inst: Arc<I>,
    thread: usize,
    pre_exited: bool,
}

struct Inner<I> {
    live: Vec<Entry<I>>,
    /// Buffers an input had handed over when it exited, while the host was still copying them (its
    /// cleanup call comes after the exit): freed by that cleanup, or at Unregister.
    orphans: Vec<MallocBuf>,
    /// Instances initialised so far (numbers them `name.0`, `name.1`, ... as Fluent Bit does).
    created: usize,
    name: Option<CString>,
    description: Option<CString>,
}

/// One per plugin `.so`, declared by the plugin macro.
pub struct Registry<I> {
    inner: Mutex<Inner<I>>,
    /// Signalled when a call that an exit waits for ends.
    idle: Condvar,
    /// Exits waiting for calls in flight: a call's end signals only when this is non-zero.
    waiters: AtomicUsize,
}

impl<I> Default for Registry<I> {
    fn default() -> Self {
        Self::new()
    }
}

/// One callback's hold on an instance: the instance stays alive (and exit waits) until it drops.
pub(crate) struct Call<'r, I> {
    reg: &'r Registry<I>,
    inst: Option<Arc<I>>,
}

impl<I> core::ops::Deref for Call<'_, I> {
    type Target = I;
    fn deref(&self) -> &I {
        match &self.inst {
            Some(i) => i,
            // The Option is only emptied in drop.
            None => unreachable!("a Call is emptied only when dropped"),
        }
    }
}

impl<I> Drop for Call<'_, I> {
    fn drop(&mut self) {
        drop(self.inst.take());
        // Pairs with the fence in `wait_idle`: either this call sees the waiter, or the waiter sees
        // the reference count this call just released.
        fence(Ordering::SeqCst);
        if self.reg.waiters.load(Ordering::Relaxed) > 0 {
            let _g = self.reg.lock();
            self.reg.idle.notify_all();
        }
    }
}

impl<I> Registry<I> {
    /// An empty registry (usable in a `static`).
    pub const fn new() -> Self {
        Registry {
            inner: Mutex::new(Inner {
                live: Vec::new(),
                orphans: Vec::new(),
                created: 0,
                name: None,
                description: None,
            }),
            idle: Condvar::new(),
            waiters: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner<I>> {
        self.inner.lock()
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

    /// Keeps a buffer the host may still be copying after its instance exited.
    pub(crate) fn orphan(&self, buf: MallocBuf) {
        self.lock().orphans.push(buf);
    }

    /// Frees the orphaned buffer at `ptr`; false when there is none.
    pub(crate) fn free_orphan(&self, ptr: usize) -> bool {
        let mut g = self.lock();
        match g.orphans.iter().position(|b| b.as_ptr() as usize == ptr) {
            Some(i) => {
                drop(g.orphans.swap_remove(i));
                true
            }
            None => false,
        }
    }

    /// Frees every orphaned buffer (Unregister: the host is done with all instances).
    pub(crate) fn free_orphans(&self) {
        let orphans = core::mem::take(&mut self.lock().orphans);
        drop(orphans);
    }

    /// The number the next instance gets (`name.N`).
    pub(crate) fn next_index(&self) -> usize {
        self.lock().created
    }

    /// Takes ownership of a new instance; returns the key the host gets as `remote_context`.
    pub(crate) fn add(&self, inst: Arc<I>) -> usize {
        let key = Arc::as_ptr(&inst) as usize;
        let mut g = self.lock();
        g.created += 1;
        g.live.push(Entry { key, inst, thread: thread_key(), pre_exited: false });
        key
    }

    fn call(&self, inst: &Arc<I>) -> Call<'_, I> {
        Call { reg: self, inst: Some(Arc::clone(inst)) }
    }

    /// The live instance with this key, if any. The key is compared, never dereferenced.
    pub(crate) fn get(&self, key: usize) -> Option<Call<'_, I>> {
        let g = self.lock();
        g.live.iter().find(|e| e.key == key).map(|e| self.call(&e.inst))
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
    pub(crate) fn current(&self) -> Option<Call<'_, I>> {
        let g = self.lock();
        let me = thread_key();
        let e = g.live.iter().rev().find(|e| e.thread == me).or(match g.live.as_slice() {
            [only] => Some(only),
            _ => None,
        })?;
        Some(self.call(&e.inst))
    }

    /// The key of [`current`](Self::current).
    pub(crate) fn current_key(&self) -> Option<usize> {
        let g = self.lock();
        let me = thread_key();
        g.live.iter().rev().find(|e| e.thread == me).map(|e| e.key).or(match g.live.as_slice() {
            [only] => Some(only.key),
            _ => None,
        })
    }

    /// The only live instance, if there is exactly one (outputs share one engine thread, so the
    /// thread tells nothing about them).
    pub(crate) fn only(&self) -> Option<Call<'_, I>> {
        let g = self.lock();
        match g.live.as_slice() {
            [only] => Some(self.call(&only.inst)),
            _ => None,
        }
    }

    /// The key of the only live instance.
    pub(crate) fn only_key(&self) -> Option<usize> {
        match self.lock().live.as_slice() {
            [only] => Some(only.key),
            _ => None,
        }
    }

    /// The instances a context-less notification (pause, resume) is for: the current one if known,
    /// else all of them.
    pub(crate) fn current_or_all(&self) -> Vec<Call<'_, I>> {
        if let Some(c) = self.current() {
            return vec![c];
        }
        let g = self.lock();
        g.live.iter().map(|e| self.call(&e.inst)).collect()
    }

    /// The instances a context-less pre-exit is for: the current one if known, else every live
    /// instance not told yet. Each is returned once.
    pub(crate) fn take_pre_exit(&self) -> Vec<Call<'_, I>> {
        let cur = self.current_key();
        let mut g = self.lock();
        let mut out = Vec::new();
        for e in g.live.iter_mut() {
            if !e.pre_exited && cur.is_none_or(|c| c == e.key) {
                e.pre_exited = true;
                out.push(Call { reg: self, inst: Some(Arc::clone(&e.inst)) });
            }
        }
        out
    }

    /// Removes the instance with this key and waits until no call holds it; returns it, now owned
    /// by the caller alone. `None` when the key is not live (a double exit or a foreign pointer).
    pub(crate) fn remove(&self, key: usize) -> Option<I> {
        let mut g = self.lock();
        let i = g.live.iter().position(|e| e.key == key)?;
        let inst = g.live.remove(i).inst;
        drop(g);
        self.wait_idle(inst)
    }

    /// Removes every live instance, each returned once no call holds it (Unregister after hosts
    /// that could not name the instances they exited).
    pub(crate) fn remove_all(&self) -> Vec<I> {
        let entries = std::mem::take(&mut self.lock().live);
        entries.into_iter().filter_map(|e| self.wait_idle(e.inst)).collect()
    }

    fn wait_idle(&self, mut inst: Arc<I>) -> Option<I> {
        self.waiters.fetch_add(1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        let mut g = self.lock();
        let out = loop {
            match Arc::try_unwrap(inst) {
                Ok(i) => break Some(i),
                Err(back) => inst = back,
            }
            // A call in flight (a flush worker, a collect, a pause) still holds it. The timeout
            // only guards against a wake-up lost to a race the fences should already exclude.
            self.idle.wait_timeout(&mut g, Duration::from_millis(20));
        };
        drop(g);
        self.waiters.fetch_sub(1, Ordering::SeqCst);
        out
    }
}
