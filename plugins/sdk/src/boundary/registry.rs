//! The live instances of one plugin `.so`, and the strings Register handed to the host.
//!
//! Instances are owned here, as `Arc`s. The context pointer the host gets is the `Arc`'s address,
//! used only as a key: a pointer from the host is accepted when an entry with that key is live,
//! checked under the lock, and never dereferenced, so a stale or foreign pointer is refused without
//! undefined behaviour. Every callback works on a [`Call`], which holds a clone of the `Arc`; exit
//! removes the entry (no new call can find it), then waits until every call in flight has dropped
//! its clone, so the instance is dropped by exactly one owner, inside the panic guard.
//!
//! The first few instances are also published in lock-free slots, so the callbacks that name their
//! instance (collect, cleanup, flush) find it without taking the lock: a call counts itself in the
//! slot's `in_flight`, then checks the key is still published; exit unpublishes the key, then waits
//! for `in_flight` to drain. Either the call sees the key gone, or exit sees the call (both use
//! sequentially consistent operations), so no call reads an instance exit has dropped.
//!
//! Hosts without Ctx callbacks (input collect before 4.1, pause/resume, pre-exit, input exit) call
//! with no instance pointer; the registry answers "which instance" from the calling thread, since
//! Fluent Bit runs each input instance's callbacks on its own thread.

use super::config_map::ConfigMap;
use crate::abi::flb_config_map;
use crate::api::keys::Key;
use crate::events::MallocBuf;
use crate::sync::{Condvar, Mutex, MutexGuard};
use core::ffi::c_char;
use std::ffi::CString;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The calling thread, without `std::thread::current()`: that allocates a handle (and thread-local
/// storage) on host threads which lives until the thread exits, so a host's leak check would
/// rightly count it against the plugin.
pub(crate) fn thread_key() -> usize {
    // SAFETY: pthread_self has no preconditions.
    unsafe { libc::pthread_self() as usize }
}

/// How many instances get a lock-free slot; later ones are found under the lock.
const SLOTS: usize = 8;

/// A published instance key and the calls in flight through it.
struct Slot {
    key: AtomicUsize,
    in_flight: AtomicUsize,
}

impl Slot {
    const fn new() -> Self {
        Slot { key: AtomicUsize::new(0), in_flight: AtomicUsize::new(0) }
    }
}

struct Entry<I> {
    key: usize,
    slot: Option<usize>,
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
    /// Definitions Register filled and Unregister has not released. Fluent Bit's hot reload
    /// registers the new definition before it unregisters the old one, and both point at the same
    /// strings: they are freed when the last one goes.
    registrations: usize,
    /// The `config_map` handed to the host (only where it takes one), freed with the strings.
    map: Option<ConfigMap>,
    /// A host that takes no map was reported once (hot reloads register again).
    map_noted: bool,
}

/// One per plugin `.so`, declared by the plugin macro.
pub struct Registry<I> {
    inner: Mutex<Inner<I>>,
    /// Signalled when a call that an exit waits for ends.
    idle: Condvar,
    /// Exits waiting for calls in flight: a call's end signals only when this is non-zero.
    waiters: AtomicUsize,
    slots: [Slot; SLOTS],
}

impl<I> Default for Registry<I> {
    fn default() -> Self {
        Self::new()
    }
}

/// One callback's hold on an instance: the instance stays alive (and exit waits) until it drops.
pub(crate) struct Call<'r, I> {
    reg: &'r Registry<I>,
    hold: Hold<'r, I>,
}

enum Hold<'r, I> {
    /// Found under the lock: a clone of the registry's `Arc`.
    Shared(Option<Arc<I>>),
    /// Found in a slot: counted in its `in_flight`, which exit waits to drain before the registry's
    /// `Arc` (which owns the instance at this address) can go.
    Slot(&'r Slot, *const I),
}

impl<I> core::ops::Deref for Call<'_, I> {
    type Target = I;
    #[inline]
    fn deref(&self) -> &I {
        match &self.hold {
            Hold::Shared(Some(i)) => i,
            // The Option is only emptied in drop.
            Hold::Shared(None) => unreachable!("a Call is emptied only when dropped"),
            // SAFETY: the pointer is the registry's Arc'ed instance, found under its published key
            // after this call was counted in the slot; exit unpublishes the key and waits for the
            // count to drain before it drops the instance, so it lives as long as this Call.
            Hold::Slot(_, p) => unsafe { &**p },
        }
    }
}

impl<I> Drop for Call<'_, I> {
    #[inline]
    fn drop(&mut self) {
        match &mut self.hold {
            Hold::Shared(a) => drop(a.take()),
            Hold::Slot(slot, _) => {
                slot.in_flight.fetch_sub(1, Ordering::SeqCst);
            }
        }
        // No fence on this per-call path: in the rare race where this call misses a waiter that
        // just arrived, the waiter's timed wait sees the released hold on its next turn.
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
                registrations: 0,
                map: None,
                map_noted: false,
            }),
            idle: Condvar::new(),
            waiters: AtomicUsize::new(0),
            slots: [const { Slot::new() }; SLOTS],
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
        g.registrations += 1;
        let n = g.name.as_ref()?.as_ptr() as *mut c_char;
        let d = g.description.as_ref()?.as_ptr() as *mut c_char;
        Some((n, d))
    }

    pub(crate) fn owns_names(&self, name: *const c_char, description: *const c_char) -> bool {
        let g = self.lock();
        g.name.as_ref().is_some_and(|n| n.as_ptr() == name)
            && g.description.as_ref().is_some_and(|d| d.as_ptr() == description)
    }

    /// One definition is released; the strings and the map go with the last one.
    pub(crate) fn free_names(&self) {
        let mut g = self.lock();
        g.registrations = g.registrations.saturating_sub(1);
        if g.registrations == 0 {
            g.name = None;
            g.description = None;
            g.map = None;
        }
    }

    /// The `config_map` of `keys`, built at the first call and kept until the last definition is
    /// released (call after [`names`](Self::names), which counts the definition).
    pub(crate) fn config_map(&self, keys: &[Key]) -> Result<*mut flb_config_map, String> {
        let mut g = self.lock();
        if let Some(map) = &g.map {
            return Ok(map.as_ptr());
        }
        // The array is boxed: its address does not change when the owner moves into the registry.
        let map = ConfigMap::build(keys)?;
        let p = map.as_ptr();
        g.map = Some(map);
        Ok(p)
    }

    /// The map handed to the host, if any.
    pub(crate) fn config_map_ptr(&self) -> Option<*mut flb_config_map> {
        self.lock().map.as_ref().map(ConfigMap::as_ptr)
    }

    /// True the first time it is called: a note about the host is logged once per process.
    pub(crate) fn first_map_note(&self) -> bool {
        !core::mem::replace(&mut self.lock().map_noted, true)
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
        // Exposed: a slot hit turns the key back into the pointer (see `get`).
        let key = Arc::as_ptr(&inst).expose_provenance();
        let mut g = self.lock();
        g.created += 1;
        // Under the lock, so no other add races for a slot; a stale call may still be backing off
        // from a freed slot (in_flight > 0): that one is skipped.
        let slot = self.slots.iter().position(|s| {
            s.in_flight.load(Ordering::SeqCst) == 0
                && s.key.compare_exchange(0, key, Ordering::SeqCst, Ordering::SeqCst).is_ok()
        });
        g.live.push(Entry { key, slot, inst, thread: thread_key(), pre_exited: false });
        key
    }

    fn call(&self, inst: &Arc<I>) -> Call<'_, I> {
        Call { reg: self, hold: Hold::Shared(Some(Arc::clone(inst))) }
    }

    /// The live instance with this key, if any. The key is compared, never dereferenced.
    #[inline(always)]
    pub(crate) fn get(&self, key: usize) -> Option<Call<'_, I>> {
        if key != 0 {
            if let Some(slot) = self.slots.iter().find(|s| s.key.load(Ordering::Acquire) == key) {
                slot.in_flight.fetch_add(1, Ordering::SeqCst);
                let call = Call { reg: self, hold: Hold::Slot(slot, core::ptr::with_exposed_provenance(key)) };
                if slot.key.load(Ordering::SeqCst) == key {
                    return Some(call);
                }
                // Exit unpublished it meanwhile: dropping the call uncounts it (and wakes exit).
                drop(call);
            }
        }
        self.get_locked(key)
    }

    #[cold]
    #[inline(never)]
    fn get_locked(&self, key: usize) -> Option<Call<'_, I>> {
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
    fn current_entry(live: &[Entry<I>]) -> Option<&Entry<I>> {
        let me = thread_key();
        live.iter().rev().find(|e| e.thread == me).or_else(|| Self::only_entry(live))
    }

    /// The only live instance, if there is exactly one (outputs share one engine thread, so the
    /// thread tells nothing about them).
    fn only_entry(live: &[Entry<I>]) -> Option<&Entry<I>> {
        match live {
            [only] => Some(only),
            _ => None,
        }
    }

    /// See [`current_entry`](Self::current_entry).
    pub(crate) fn current(&self) -> Option<Call<'_, I>> {
        Self::current_entry(&self.lock().live).map(|e| self.call(&e.inst))
    }

    /// The key of [`current`](Self::current).
    pub(crate) fn current_key(&self) -> Option<usize> {
        Self::current_entry(&self.lock().live).map(|e| e.key)
    }

    /// See [`only_entry`](Self::only_entry).
    pub(crate) fn only(&self) -> Option<Call<'_, I>> {
        Self::only_entry(&self.lock().live).map(|e| self.call(&e.inst))
    }

    /// The key of [`only`](Self::only).
    pub(crate) fn only_key(&self) -> Option<usize> {
        Self::only_entry(&self.lock().live).map(|e| e.key)
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
                out.push(self.call(&e.inst));
            }
        }
        out
    }

    /// Removes the instance with this key and waits until no call holds it; returns it, now owned
    /// by the caller alone. `None` when the key is not live (a double exit or a foreign pointer).
    pub(crate) fn remove(&self, key: usize) -> Option<I> {
        let mut g = self.lock();
        let i = g.live.iter().position(|e| e.key == key)?;
        let e = g.live.remove(i);
        drop(g);
        self.wait_idle(e)
    }

    /// Removes every live instance, each returned once no call holds it (Unregister after hosts
    /// that could not name the instances they exited).
    pub(crate) fn remove_all(&self) -> Vec<I> {
        let entries = std::mem::take(&mut self.lock().live);
        entries.into_iter().filter_map(|e| self.wait_idle(e)).collect()
    }

    fn wait_idle(&self, e: Entry<I>) -> Option<I> {
        let slot = e.slot.and_then(|i| self.slots.get(i));
        if let Some(s) = slot {
            s.key.store(0, Ordering::SeqCst);
        }
        let mut inst = e.inst;
        self.waiters.fetch_add(1, Ordering::SeqCst);
        let mut g = self.lock();
        let out = loop {
            if slot.is_none_or(|s| s.in_flight.load(Ordering::SeqCst) == 0) {
                match Arc::try_unwrap(inst) {
                    Ok(i) => break Some(i),
                    Err(back) => inst = back,
                }
            }
            // A call in flight (a flush worker, a collect, a pause) still holds it. The timeout
            // bounds the wait when a call ending right now missed this waiter (see Call::drop).
            self.idle.wait_timeout(&mut g, Duration::from_millis(5));
        };
        drop(g);
        self.waiters.fetch_sub(1, Ordering::SeqCst);
        out
    }
}

// Pure Rust, no host: these run natively and under Miri (`make miri`), which checks the slot
// protocol's pointer use and, with threads, its data-race freedom.
#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    /// An instance that counts the calls that reached it.
    struct Inst {
        id: usize,
        calls: AtomicUsize,
    }

    fn inst(id: usize) -> Arc<Inst> {
        Arc::new(Inst { id, calls: AtomicUsize::new(0) })
    }

    #[test]
    fn keys_find_their_instance_and_nothing_else() {
        let reg = Registry::new();
        // more instances than lock-free slots: the later ones are found under the lock
        let keys: Vec<usize> = (0..SLOTS + 3).map(|i| reg.add(inst(i))).collect();
        assert_eq!((reg.len(), reg.next_index()), (SLOTS + 3, SLOTS + 3));
        for (i, &k) in keys.iter().enumerate() {
            assert_eq!(reg.get(k).map(|c| c.id), Some(i));
        }
        assert!(reg.get(0).is_none());
        assert!(reg.get(keys[0] + 1).is_none(), "a key that is no instance's is refused");
        for (i, &k) in keys.iter().enumerate() {
            assert_eq!(reg.remove(k).map(|x| x.id), Some(i));
            assert!(reg.get(k).is_none(), "a removed key is refused");
            assert!(reg.remove(k).is_none(), "a second exit finds nothing");
        }
        assert!(reg.is_empty());
    }

    #[test]
    fn exit_waits_for_the_calls_in_flight() {
        let reg: Arc<Registry<Inst>> = Arc::new(Registry::new());
        let key = reg.add(inst(7));
        let held = reg.get(key).map(|c| c.id);
        assert_eq!(held, Some(7));
        let stop = Arc::new(AtomicBool::new(false));
        let rounds = if cfg!(miri) { 20 } else { 20_000 };
        let callers: Vec<_> = (0..2)
            .map(|_| {
                let (reg, stop) = (Arc::clone(&reg), Arc::clone(&stop));
                std::thread::spawn(move || {
                    let mut reached = 0;
                    for _ in 0..rounds {
                        match reg.get(key) {
                            Some(c) => {
                                c.calls.fetch_add(1, Ordering::Relaxed);
                                reached += 1;
                            }
                            None if stop.load(Ordering::SeqCst) => break,
                            None => panic!("the instance vanished before its exit"),
                        }
                    }
                    reached
                })
            })
            .collect();
        // Calls are reaching the instance (or have all ended) when exit starts.
        while reg.get(key).is_some_and(|c| c.calls.load(Ordering::Relaxed) == 0)
            && !callers.iter().all(|t| t.is_finished())
        {
            std::thread::yield_now();
        }
        stop.store(true, Ordering::SeqCst);
        let gone = reg.remove(key).expect("the live instance is removed");
        let reached: usize = callers.into_iter().map(|t| t.join().expect("caller")).sum();
        // exit returned only after every call that found the instance had ended
        assert_eq!(gone.calls.load(Ordering::Relaxed), reached);
        assert!(reg.is_empty());
    }

    #[test]
    fn context_less_calls_find_the_instance_of_their_thread() {
        let reg: Arc<Registry<Inst>> = Arc::new(Registry::new());
        let mine = reg.add(inst(1));
        let theirs = {
            let reg = Arc::clone(&reg);
            std::thread::spawn(move || reg.add(inst(2))).join().expect("adder")
        };
        assert_eq!(reg.current_key(), Some(mine));
        assert!(reg.only().is_none(), "two instances: none is the only one");
        assert_eq!(reg.take_pre_exit().iter().map(|c| c.id).collect::<Vec<_>>(), [1]);
        assert!(reg.take_pre_exit().is_empty(), "pre-exit is told once");
        assert_eq!(reg.remove(mine).map(|x| x.id), Some(1));
        // the other thread's instance is now the only one, so this thread's calls mean it
        assert_eq!((reg.current_key(), reg.only_key()), (Some(theirs), Some(theirs)));
        assert_eq!(reg.remove_all().iter().map(|x| x.id).collect::<Vec<_>>(), [2]);
    }

    #[test]
    fn strings_and_orphans_live_until_their_last_release() {
        let reg: Registry<Inst> = Registry::new();
        let (n, d) = reg.names("gtail", "tail files").expect("no NUL");
        // a hot reload registers again before the old definition goes: the same strings
        assert_eq!(reg.names("gtail", "tail files"), Some((n, d)));
        let map = reg.config_map(&[Key::str("path").desc("files")]).expect("valid keys");
        assert_eq!(reg.config_map_ptr(), Some(map));
        reg.free_names();
        assert!(reg.owns_names(n, d), "one definition still holds them");
        // SAFETY: the registry owns the NUL-terminated name until the last free_names.
        assert_eq!(unsafe { core::ffi::CStr::from_ptr(n) }.to_bytes(), b"gtail");
        reg.free_names();
        assert!(!reg.owns_names(n, d) && reg.config_map_ptr().is_none());
        assert!(reg.names("bad\0name", "x").is_none());

        let mut buf = MallocBuf::with_capacity(64).expect("64 bytes");
        buf.reserve(8).expect("8 more");
        let at = buf.as_ptr() as usize;
        reg.orphan(buf);
        reg.orphan(MallocBuf::with_capacity(16).expect("16 bytes"));
        assert!(!reg.free_orphan(at + 1));
        assert!(reg.free_orphan(at));
        assert!(!reg.free_orphan(at), "freed once");
        reg.free_orphans();
    }
}
