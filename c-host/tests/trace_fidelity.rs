//! Trace fidelity: the tracer plugins from `tests/fixtures/traces/tracer`, driven by flb-host the way
//! the reference traces' headers say, print the same callbacks on the same threads as a real
//! Fluent Bit 5.1.1.
//!
//! Comparison policy ("counts aside"), implemented in `flb_host::compare_traces`:
//! * both traces go through the README's sed expression (in Rust), then only tracer callback
//!   lines are kept; `#N`, `size=N` (run-length dependent) and `first_bytes=..` (printed by the
//!   current tracer only) are dropped, as are the `touched N KiB` lines;
//! * per thread name, the sequence must be equal, where every maximal run of repeating lines
//!   (collect, cleanup, flush, stack report) between two lifecycle lines counts as the *set* of
//!   its distinct lines (so 3 or 30 collects compare equal, a missing cleanup does not);
//! * across threads, the global order of lifecycle lines must be equal, except the input's
//!   second `FLBPluginInputPause`, which Fluent Bit runs concurrently with the output's exit
//!   (the three references disagree on its position).
//!
//! The runs use a 0.25 s collect/flush period instead of 1 s: only counts change.

use flb_host::*;
use std::path::PathBuf;
use std::time::Duration;

fn tracers() -> (PathBuf, PathBuf) {
    let d = tracer_dir();
    (d.join("in_ctest.so"), d.join("out_ctest.so"))
}

fn reference(name: &str) -> Vec<TraceLine> {
    let p = traces_dir().join(name);
    let raw =
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("cannot read reference trace {}: {e}", p.display()));
    normalise_trace(&raw)
}

fn run_tracers(extra_out: &[&str], extra: &[&str], envs: &[(&str, &str)]) -> Run {
    let (i, o) = tracers();
    let (i, o) = (s(&i), s(&o));
    let mut args = vec!["-e", &i, "-e", &o, "-i", "cin", "-t", "c", "-o", "ctest", "-m", "c"];
    args.extend_from_slice(extra_out);
    args.extend_from_slice(&["--interval", "0.25", "--flush", "0.25", "--duration", "1.6"]);
    args.extend_from_slice(extra);
    run_with(&host_bin(), &args, envs, Duration::from_secs(60))
}

fn assert_same(reference_name: &str, run: &Run) {
    assert_eq!(run.code, Some(0), "{}", run.all());
    let ours = normalise_trace(&run.stderr);
    let reference = reference(reference_name);
    assert!(!reference.is_empty(), "empty reference {reference_name}");
    let diffs = compare_traces(&reference, &ours);
    assert!(diffs.is_empty(), "trace differs from {reference_name}:\n{}\n\nour run:\n{}", diffs.join("\n"), run.stderr);
}

#[test]
fn basic_trace_matches_fluent_bit() {
    let run = run_tracers(&[], &[], &[]);
    assert_same("fluent-bit-5.1.1-basic.txt", &run);
    assert!(run.stderr.contains("cmt instance=0x"), "the cmt stub must give a non-NULL instance: {}", run.stderr);
}

#[test]
fn workers2_trace_matches_fluent_bit() {
    let run = run_tracers(&["-p", "workers=2"], &[], &[]);
    assert_same("fluent-bit-5.1.1-workers2.txt", &run);
}

#[test]
fn retry_trace_matches_fluent_bit() {
    let run = run_tracers(&[], &["--retry-wait", "0.1"], &[("CTEST_RET", "2")]);
    assert_same("fluent-bit-5.1.1-retry.txt", &run);
    // retry_limit 1 (Fluent Bit's default): every chunk is flushed exactly twice, then dropped,
    // as in the reference (8 collects -> 16 flushes).
    let m = summary_fields(&run.stderr, "ctest.0");
    assert!(field(&m, "chunks") > 0, "{}", run.stderr);
    assert_eq!(field(&m, "flushes"), 2 * field(&m, "chunks"), "{}", run.stderr);
    assert_eq!(field(&m, "dropped"), field(&m, "chunks"), "{}", run.stderr);
}

#[test]
fn comparison_detects_a_different_order() {
    // The policy must be able to fail: swap output PreExit and Exit, drop a cleanup.
    let r = reference("fluent-bit-5.1.1-basic.txt");
    let mut swapped = r.clone();
    let a = swapped.iter().position(|l| l.text.contains("FLBPluginOutputPreExit")).expect("PreExit in reference");
    swapped.swap(a, a + 1);
    assert!(!compare_traces(&r, &swapped).is_empty());
    let no_cleanup: Vec<TraceLine> = r.iter().filter(|l| !l.text.contains("Cleanup")).cloned().collect();
    assert!(!compare_traces(&r, &no_cleanup).is_empty());
    let mut wrong_thread = r.clone();
    for l in wrong_thread.iter_mut() {
        if l.text.contains("FLBPluginFlush") {
            l.thread = "fluent-bit".into();
        }
    }
    assert!(!compare_traces(&r, &wrong_thread).is_empty());
    assert!(compare_traces(&r, &r).is_empty());
}

#[test]
fn sed_equivalent_strips_like_the_readme() {
    let l = "[1795322851.604] [in_ctest] FLBPluginInit name=cin (pid=20936 tid=20937 thread='flb-in-cin.0-w0')";
    assert_eq!(strip_trace_line(l), "[in_ctest] FLBPluginInit name=cin (thread='flb-in-cin.0-w0')");
    assert_eq!(strip_trace_line("cmt instance=0x5581ab counter=0xdeadbeef"), "cmt instance=X counter=X");
}

/// Optional: the same pipeline in a real Fluent Bit (`FLUENT_BIT_BIN`), SIGTERM after 4 s,
/// compared with flb-host's run and with the reference by the same policy.
#[test]
fn real_fluent_bit_when_available() {
    let Some(fb) = fluent_bit_bin() else {
        return;
    };
    let (i, o) = tracers();
    let (i, o) = (s(&i), s(&o));
    let args = ["-e", &i, "-e", &o, "-i", "cin", "-t", "c", "-o", "ctest", "-m", "c", "-f", "1"];
    let out = run_then_term(&fb, &args, &[], None, Duration::from_secs(4));
    let real = normalise_trace(&out.stderr);
    let diffs = compare_traces(&reference("fluent-bit-5.1.1-basic.txt"), &real);
    assert!(diffs.is_empty(), "real fluent-bit differs from the reference: {diffs:#?}");
    let ours = run_tracers(&[], &[], &[]);
    let diffs = compare_traces(&real, &normalise_trace(&ours.stderr));
    assert!(diffs.is_empty(), "flb-host differs from the real fluent-bit: {diffs:#?}");
}
