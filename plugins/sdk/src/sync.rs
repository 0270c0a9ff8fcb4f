//! The SDK's locks: std's `Mutex`, `Condvar` and `RwLock` without poisoning (a panic while holding
//! one was already caught and logged; the data stays usable), and visible to ThreadSanitizer.
//!
//! std is precompiled, and this toolchain has no rust-src to rebuild it instrumented, so TSan sees
//! the uncontended lock paths (inlined into our code) but not the contended ones, and would report
//! every hand-over through a contended lock as a race. Under `--cfg flb_tsan` (`make sanitize`) each
//! acquire and release is also announced to TSan with its annotation calls; in normal builds those
//! are empty inline functions.
//!
//! [`Mutex`] is public for plugins: state a plugin shares between Fluent Bit's threads (output
//! workers, an input's worker thread) behind a `std::sync::Mutex` gets false race reports from
//! `make sanitize` whenever the lock is contended; behind this one, TSan sees the hand-over.

use std::sync::PoisonError;
use std::time::Duration;

#[cfg(flb_tsan)]
mod tsan {
    extern "C" {
        fn __tsan_acquire(addr: *mut core::ffi::c_void);
        fn __tsan_release(addr: *mut core::ffi::c_void);
    }
    #[inline(always)]
    pub(super) fn acquire<T>(p: *const T) {
        // SAFETY: TSan's annotation only records a synchronisation event on the address.
        unsafe { __tsan_acquire(p as *mut core::ffi::c_void) }
    }
    #[inline(always)]
    pub(super) fn release<T>(p: *const T) {
        // SAFETY: as above.
        unsafe { __tsan_release(p as *mut core::ffi::c_void) }
    }
}

#[cfg(not(flb_tsan))]
mod tsan {
    #[inline(always)]
    pub(super) fn acquire<T>(_: *const T) {}
    #[inline(always)]
    pub(super) fn release<T>(_: *const T) {}
}

/// A mutex that does not poison (a panic while it was held was already caught and logged by the
/// SDK's boundary; the data stays usable), whose hand-overs ThreadSanitizer sees.
#[derive(Default)]
pub struct Mutex<T>(std::sync::Mutex<T>);

/// Holds a [`Mutex`]; dropping it releases the lock.
pub struct MutexGuard<'a, T> {
    guard: Option<std::sync::MutexGuard<'a, T>>,
    lock: *const std::sync::Mutex<T>,
}

impl<T> Mutex<T> {
    /// A mutex holding `v`.
    pub const fn new(v: T) -> Self {
        Mutex(std::sync::Mutex::new(v))
    }

    /// Waits for the lock and holds it until the guard is dropped.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        let g = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        tsan::acquire(&self.0);
        MutexGuard { guard: Some(g), lock: &self.0 }
    }

    /// The value, without locking (nothing else can hold it).
    pub fn into_inner(self) -> T {
        self.0.into_inner().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T> core::ops::Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        match &self.guard {
            Some(g) => g,
            None => unreachable!("a guard is emptied only while a condvar waits on it"),
        }
    }
}

impl<T> core::ops::DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        match &mut self.guard {
            Some(g) => g,
            None => unreachable!("a guard is emptied only while a condvar waits on it"),
        }
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        if self.guard.is_some() {
            tsan::release(self.lock);
        }
    }
}

/// A condition variable for [`Mutex`].
#[derive(Default)]
pub(crate) struct Condvar(std::sync::Condvar);

impl Condvar {
    pub(crate) const fn new() -> Self {
        Condvar(std::sync::Condvar::new())
    }

    /// Waits up to `dur`, releasing the lock meanwhile.
    pub(crate) fn wait_timeout<T>(&self, g: &mut MutexGuard<'_, T>, dur: Duration) {
        let Some(inner) = g.guard.take() else { return };
        tsan::release(g.lock);
        let inner = match self.0.wait_timeout(inner, dur) {
            Ok((inner, _)) => inner,
            Err(p) => p.into_inner().0,
        };
        tsan::acquire(g.lock);
        g.guard = Some(inner);
    }

    pub(crate) fn notify_all(&self) {
        self.0.notify_all();
    }
}

/// A reader-writer lock that does not poison.
pub(crate) struct RwLock<T>(std::sync::RwLock<T>);

/// Holds a [`RwLock`] for reading.
pub(crate) struct ReadGuard<'a, T> {
    guard: std::sync::RwLockReadGuard<'a, T>,
    lock: *const std::sync::RwLock<T>,
}

/// Holds a [`RwLock`] for writing.
pub(crate) struct WriteGuard<'a, T> {
    guard: std::sync::RwLockWriteGuard<'a, T>,
    lock: *const std::sync::RwLock<T>,
}

impl<T> RwLock<T> {
    pub(crate) const fn new(v: T) -> Self {
        RwLock(std::sync::RwLock::new(v))
    }

    pub(crate) fn read(&self) -> ReadGuard<'_, T> {
        let guard = self.0.read().unwrap_or_else(PoisonError::into_inner);
        tsan::acquire(&self.0);
        ReadGuard { guard, lock: &self.0 }
    }

    pub(crate) fn write(&self) -> WriteGuard<'_, T> {
        let guard = self.0.write().unwrap_or_else(PoisonError::into_inner);
        tsan::acquire(&self.0);
        WriteGuard { guard, lock: &self.0 }
    }
}

impl<T> core::ops::Deref for ReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> Drop for ReadGuard<'_, T> {
    fn drop(&mut self) {
        tsan::release(self.lock);
    }
}

impl<T> core::ops::Deref for WriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> core::ops::DerefMut for WriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

impl<T> Drop for WriteGuard<'_, T> {
    fn drop(&mut self) {
        tsan::release(self.lock);
    }
}
