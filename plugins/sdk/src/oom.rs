//! Out of memory without aborting Fluent Bit.
//!
//! On stable Rust a failed allocation in an infallible API (`Vec::push`, `format!`, `Box::new`)
//! calls `handle_alloc_error`, which prints "memory allocation of N bytes failed" and aborts the
//! process: the whole Fluent Bit, every pipeline in it, for one plugin's `malloc` that returned
//! NULL. There is no stable hook to make it panic instead. So the SDK makes such allocations not
//! fail, in two parts:
//!
//! - The buffers whose size follows the input (the event encoder's [`MallocBuf`], gstdout's text
//!   buffer, gtail's read buffer) grow with fallible calls (`try_reserve`, `realloc`
//!   checked for NULL): when memory is short the callback fails as Fluent Bit expects (collect
//!   -1, flush `FLB_RETRY`) and nothing is lost or half-handed over.
//! - Every other allocation goes through [`OomSafeAlloc`], the SDK's global allocator: the system
//!   `malloc`, and when that returns NULL a block of up to 64 KiB ([`RESERVE_MAX_BLOCK`]) from a
//!   1 MiB emergency reserve (static memory, so it cannot itself fail), counted; a larger request
//!   is an input-sized buffer of the first kind, whose fallible call then gets its error. The callback that ran into the failure finishes (its error
//!   message, a `Box` for a panic, a small `Vec` it was pushing to); the boundary then sees the
//!   reserve in use and, as long as a probe `malloc` still fails, makes the next init, collect and
//!   flush fail fast (`FLB_ERROR`, -1, `FLB_RETRY`) with one log line per episode, instead of
//!   running plugin code that would need memory. The reserve is a bump region: it resets when its
//!   last block is freed and steps back when its newest block is.
//!
//! The allocator is this crate's `#[global_allocator]` (feature `oom-allocator`, on by default), so
//! every plugin built on the SDK has it without a line of its own; a crate that needs its own
//! global allocator turns the feature off (`default-features = false`) and gives up the reserve.
//! Only when both `malloc` and the reserve fail an infallible allocation does the process abort as
//! before (counted in [`OomStats::refused`] on the way). The worker thread is started without
//! `std::thread::spawn` for the same reason (see `api::os_thread`).
//!
//! [`MallocBuf`]: crate::events::MallocBuf

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::alloc::{GlobalAlloc, Layout, System};

/// Size of the emergency reserve.
pub const RESERVE_BYTES: usize = 1 << 20;
/// The largest alignment the reserve serves (its own alignment).
const RESERVE_ALIGN: usize = 4096;
/// The largest block the reserve serves. It is for the small allocations of a callback's own
/// bookkeeping; a larger request is an input-sized buffer, which must take a fallible path
/// (`try_reserve`) that fails the callback cleanly instead of filling the reserve.
pub const RESERVE_MAX_BLOCK: usize = 64 << 10;
/// What the boundary's probe asks of `malloc` to decide memory is back.
const PROBE_BYTES: usize = 64 << 10;

#[repr(C, align(4096))]
struct Reserve(UnsafeCell<[u8; RESERVE_BYTES]>);

// SAFETY: the bytes are only reached through blocks handed out by `reserve_alloc`, each to one
// owner at a time (the bump offset and live count move together in one atomic word).
unsafe impl Sync for Reserve {}

static RESERVE: Reserve = Reserve(UnsafeCell::new([0; RESERVE_BYTES]));
/// Live blocks in the high 32 bits, the bump offset in the low 32: one word, so the last free can
/// reset the offset without racing an allocation.
static STATE: AtomicU64 = AtomicU64::new(0);
static SERVED: AtomicU64 = AtomicU64::new(0);
static REFUSED: AtomicU64 = AtomicU64::new(0);
/// An out-of-memory episode was logged and has not ended yet.
static EPISODE: AtomicBool = AtomicBool::new(false);

fn reserve_base() -> usize {
    RESERVE.0.get() as usize
}

fn in_reserve(p: *mut u8) -> bool {
    let a = p as usize;
    a >= reserve_base() && a < reserve_base() + RESERVE_BYTES
}

/// A block of the reserve, or NULL when it has no room (or the alignment is beyond its own).
fn reserve_alloc(layout: Layout) -> *mut u8 {
    if layout.align() > RESERVE_ALIGN || layout.size() > RESERVE_MAX_BLOCK {
        REFUSED.fetch_add(1, Ordering::Relaxed);
        return core::ptr::null_mut();
    }
    let mut s = STATE.load(Ordering::Relaxed);
    loop {
        let (live, off) = (s >> 32, (s & 0xffff_ffff) as usize);
        let start = (off + layout.align() - 1) & !(layout.align() - 1);
        let end = match start.checked_add(layout.size()) {
            Some(e) if e <= RESERVE_BYTES => e,
            _ => {
                REFUSED.fetch_add(1, Ordering::Relaxed);
                return core::ptr::null_mut();
            }
        };
        let next = ((live + 1) << 32) | end as u64;
        match STATE.compare_exchange_weak(s, next, Ordering::AcqRel, Ordering::Relaxed) {
            Ok(_) => {
                SERVED.fetch_add(1, Ordering::Relaxed);
                // SAFETY: start + size <= RESERVE_BYTES, so the block lies inside the static.
                return unsafe { (RESERVE.0.get() as *mut u8).add(start) };
            }
            Err(now) => s = now,
        }
    }
}

/// Returns a block. The bump offset resets when the last live block goes, and steps back when the
/// block was the newest one (a string built and dropped while an older block stays).
fn reserve_free(p: *mut u8, size: usize) {
    let start = p as usize - reserve_base();
    let mut s = STATE.load(Ordering::Relaxed);
    loop {
        let (live, off) = ((s >> 32).saturating_sub(1), s & 0xffff_ffff);
        let off = if live == 0 {
            0
        } else if (start + size) as u64 == off {
            start as u64
        } else {
            off
        };
        let next = (live << 32) | off;
        match STATE.compare_exchange_weak(s, next, Ordering::AcqRel, Ordering::Relaxed) {
            Ok(_) => return,
            Err(now) => s = now,
        }
    }
}

/// The SDK's global allocator: the system allocator, falling back to the emergency reserve when it
/// returns NULL (see the module documentation).
pub struct OomSafeAlloc;

// SAFETY: every block comes from System (and goes back to it) or from the reserve (and goes back
// to it: `in_reserve` tells them apart by address); sizes and alignments are honoured by both.
unsafe impl GlobalAlloc for OomSafeAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        counter::note();
        // SAFETY: GlobalAlloc's contract, passed on.
        let p = unsafe { System.alloc(layout) };
        if p.is_null() {
            reserve_alloc(layout)
        } else {
            p
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        counter::note();
        // SAFETY: GlobalAlloc's contract, passed on.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            return p;
        }
        let p = reserve_alloc(layout);
        if !p.is_null() {
            // SAFETY: a fresh reserve block of layout.size() bytes (reused memory: zero it).
            unsafe { core::ptr::write_bytes(p, 0, layout.size()) };
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        if in_reserve(p) {
            reserve_free(p, layout.size());
        } else {
            // SAFETY: p came from System with this layout (it is not a reserve block).
            unsafe { System.dealloc(p, layout) }
        }
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        counter::note();
        // SAFETY: GlobalAlloc::realloc's contract makes new_size, rounded up to the alignment, not
        // overflow isize, and the alignment is the valid one of `layout`.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        if !in_reserve(p) {
            // SAFETY: p came from System with `layout`; the contract is passed on.
            let q = unsafe { System.realloc(p, layout, new_size) };
            if !q.is_null() {
                return q;
            }
        }
        // Move the block: into malloc memory when p is a reserve block, else into the reserve.
        let q = if in_reserve(p) {
            // SAFETY: new_layout has a non-zero size (realloc's contract).
            let q = unsafe { System.alloc(new_layout) };
            if q.is_null() {
                reserve_alloc(new_layout)
            } else {
                q
            }
        } else {
            reserve_alloc(new_layout)
        };
        if q.is_null() {
            return q;
        }
        // SAFETY: p is valid for layout.size() bytes, q for new_size, and they are distinct blocks.
        unsafe { core::ptr::copy_nonoverlapping(p, q, layout.size().min(new_size)) };
        // SAFETY: p is released once, to where it came from.
        unsafe { self.dealloc(p, layout) };
        q
    }
}

/// What the reserve has done in this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OomStats {
    /// Allocations `malloc` refused and the reserve served.
    pub served: u64,
    /// Allocations neither could serve: larger than [`RESERVE_MAX_BLOCK`] or no room left. A
    /// fallible caller (`try_reserve`) gets an error; an infallible one aborts the process.
    pub refused: u64,
    /// Reserve blocks still in use.
    pub live: u64,
}

/// The reserve's counters.
pub fn stats() -> OomStats {
    OomStats {
        served: SERVED.load(Ordering::Relaxed),
        refused: REFUSED.load(Ordering::Relaxed),
        live: STATE.load(Ordering::Relaxed) >> 32,
    }
}

static REPORTED: AtomicU64 = AtomicU64::new(0);

/// The reserve's counters when it served allocations not reported yet (the boundary logs them at
/// an instance's exit, so a run that survived a failed malloc says so).
pub(crate) fn take_unreported() -> Option<OomStats> {
    let st = stats();
    (REPORTED.swap(st.served, Ordering::Relaxed) < st.served).then_some(st)
}

/// What the boundary asks before running plugin code: `Some(blocks)` when memory is short (the
/// reserve holds blocks and a probe `malloc` fails), with `true` the first time in an episode (log
/// it then); `None` when memory is there. Costs one relaxed load while the reserve is unused.
pub(crate) fn short_of_memory() -> Option<(u64, bool)> {
    let live = STATE.load(Ordering::Relaxed) >> 32;
    if live == 0 {
        EPISODE.store(false, Ordering::Relaxed);
        return None;
    }
    // SAFETY: a plain malloc/free pair of the probe size. black_box: the compiler may otherwise
    // remove an unused malloc/free pair and take the probe as always succeeding.
    let probe = std::hint::black_box(unsafe { libc::malloc(PROBE_BYTES) });
    if probe.is_null() {
        let first = !EPISODE.swap(true, Ordering::Relaxed);
        return Some((live, first));
    }
    // SAFETY: probe came from malloc just above and is freed once.
    unsafe { libc::free(probe) };
    EPISODE.store(false, Ordering::Relaxed);
    None
}

/// The one line the boundary logs when an episode starts.
pub(crate) fn short_of_memory_message(live: u64, what: &str) -> String {
    format!(
        "out of memory: malloc failed and {live} block(s) of the SDK's emergency reserve are in use; \
         {what} until malloc succeeds again"
    )
}

/// Allocations made on the calling thread, for tests that assert a path allocates nothing (feature
/// `alloc-counter`; without it the count is always 0).
pub fn allocations_in<R>(f: impl FnOnce() -> R) -> (R, u64) {
    counter::scope(f)
}

#[cfg(feature = "alloc-counter")]
mod counter {
    use core::cell::Cell;

    thread_local! {
        // Const-initialised and without Drop: reading it never allocates, so the allocator may.
        static ON: Cell<bool> = const { Cell::new(false) };
        static COUNT: Cell<u64> = const { Cell::new(0) };
    }

    #[inline]
    pub(super) fn note() {
        if ON.with(Cell::get) {
            COUNT.with(|c| c.set(c.get() + 1));
        }
    }

    pub(super) fn scope<R>(f: impl FnOnce() -> R) -> (R, u64) {
        let before = COUNT.with(Cell::get);
        ON.with(|c| c.set(true));
        let r = f();
        ON.with(|c| c.set(false));
        (r, COUNT.with(Cell::get) - before)
    }
}

#[cfg(not(feature = "alloc-counter"))]
mod counter {
    #[inline(always)]
    pub(super) fn note() {}

    pub(super) fn scope<R>(f: impl FnOnce() -> R) -> (R, u64) {
        (f(), 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserve_blocks_are_aligned_and_the_last_free_resets_it() {
        let a = reserve_alloc(Layout::from_size_align(10, 1).expect("layout"));
        let b = reserve_alloc(Layout::from_size_align(64, 64).expect("layout"));
        assert!(in_reserve(a) && in_reserve(b));
        assert_eq!(b as usize % 64, 0);
        assert!(stats().live >= 2);
        reserve_free(b, 64);
        reserve_free(a, 10);
    }

    #[test]
    fn a_block_larger_than_the_largest_reserve_block_is_refused() {
        let before = stats().refused;
        let p = reserve_alloc(Layout::from_size_align(RESERVE_MAX_BLOCK + 1, 1).expect("layout"));
        assert!(p.is_null());
        assert_eq!(stats().refused, before + 1);
    }
}
