//! Steady state allocates nothing: after one warm-up flush per instance, further flushes of
//! similar chunks make no heap allocation (counted by the SDK's global allocator, feature
//! `alloc-counter`).

mod common;

use common::*;
use flb_plugin_sdk::api::InstanceKind;
use flb_plugin_sdk::prelude::*;

/// Allocations made by `f` on this thread, counted by the SDK's global allocator (a test binary
/// cannot declare a second one).
fn allocs_in(f: impl FnOnce()) -> u64 {
    flb_plugin_sdk::oom::allocations_in(f).1
}

#[test]
fn the_sdk_allocator_counts_this_threads_allocations() {
    // Without this, every "allocates nothing" below would pass with a counter that never counts.
    let n = allocs_in(|| drop(std::hint::black_box(vec![1u8; 100])));
    assert_eq!(n, 1);
}

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
