//! Steady state allocates nothing: after one warm-up flush per instance, further flushes of
//! similar chunks make no heap allocation (counted with a global allocator).

mod common;

use common::*;
use flb_plugin_sdk::api::InstanceKind;
use flb_plugin_sdk::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Count only this thread's allocations (the harness allocates on other threads).
    static COUNT_HERE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn note() {
    if COUNT_HERE.with(|c| c.get()) {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
    }
}

/// Allocations made by `f` on this thread.
fn allocs_in(f: impl FnOnce()) -> usize {
    let before = ALLOCS.load(Ordering::Relaxed);
    COUNT_HERE.with(|c| c.set(true));
    f();
    COUNT_HERE.with(|c| c.set(false));
    ALLOCS.load(Ordering::Relaxed) - before
}

// SAFETY: forwards to the system allocator, only counting calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        note();
        // SAFETY: same contract as ours.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        note();
        // SAFETY: same contract as ours.
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static A: Counting = Counting;

#[test]
fn formatting_allocates_nothing_once_warm() {
    use out_gstdout::{Format, Formatter, Options, Scratch};
    let mut chunk = Vec::new();
    for _ in 0..100 {
        chunk.extend(native_sample());
    }
    for f in [Format::Msgpack, Format::Json, Format::JsonLines, Format::JsonStream] {
        let fm = Formatter::new(Options { format: f, ..Options::default() });
        let mut out = Vec::new();
        let mut s = Scratch::new();
        fm.format_chunk_with(b"t", &chunk, &mut out, &mut s).unwrap();
        let n = allocs_in(|| {
            for _ in 0..10 {
                out.clear();
                fm.format_chunk_with(b"t", &chunk, &mut out, &mut s).unwrap();
            }
        });
        assert_eq!(n, 0, "{f:?}");
    }
}

#[test]
fn plugin_flush_allocates_nothing_once_warm() {
    // Output goes to stdout (captured by the harness only for println!, so keep it small).
    let pairs = [("format", "json_lines")];
    let mut ctx = InitContext::detached(Config::from_pairs(&pairs), InstanceKind::Output, "gstdout");
    let p = <out_gstdout::Gstdout as OutputPlugin>::init(&mut ctx).unwrap();
    let c = native_sample();
    p.flush(Chunk::new(b"t", &c)).unwrap();
    let n = allocs_in(|| {
        for _ in 0..5 {
            p.flush(Chunk::new(b"t", &c)).unwrap();
        }
    });
    assert_eq!(n, 0);
}
