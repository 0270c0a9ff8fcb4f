//! The SDK's worker API through flb-host: `sdkworker_in` (a worker writing `{"n": seq}` over three
//! sources) into `sdktest_out` (which prints `<tag> n=<seq>` per record). Every delivered seq is
//! counted: each must arrive exactly once, and exactly the seqs of the batches the plugin saw
//! acknowledged.

use flb_host::{field, run_asan, run_host, rust_plugin, s, sanitizer_report, summary_fields, Run};
use std::collections::BTreeMap;
use std::time::Duration;

fn worker_so() -> String {
    s(&rust_plugin("in-sdkworker", "in_sdkworker"))
}

fn out_so() -> String {
    s(&rust_plugin("out-sdktest", "out_sdktest"))
}

/// The plugin's exit summary, as key => value.
fn summary(r: &Run) -> BTreeMap<String, String> {
    let line = r
        .stderr
        .lines()
        .find(|l| l.contains("sdkworker_in summary:"))
        .unwrap_or_else(|| panic!("no summary line: {}", r.all()));
    let rest = line.split("summary:").nth(1).unwrap_or_default();
    rest.split_whitespace().filter_map(|kv| kv.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn num(m: &BTreeMap<String, String>, k: &str) -> u64 {
    m.get(k).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("no {k} in {m:?}"))
}

/// seq => (times seen, tags seen) from sdktest_out's lines.
fn delivered(r: &Run) -> BTreeMap<u64, (u32, String)> {
    let mut seen: BTreeMap<u64, (u32, String)> = BTreeMap::new();
    for l in r.stdout.lines() {
        let Some((tag, n)) = l.split_once(" n=") else { continue };
        let n: u64 = n.parse().unwrap_or_else(|_| panic!("bad line {l:?}"));
        let e = seen.entry(n).or_insert((0, String::new()));
        e.0 += 1;
        e.1 = tag.to_string();
    }
    seen
}

/// Every seq of `0..end` arrived exactly once, and nothing else arrived.
fn assert_exactly_once(r: &Run, end: u64) -> BTreeMap<u64, (u32, String)> {
    let seen = delivered(r);
    let dups: Vec<_> = seen.iter().filter(|(_, (c, _))| *c != 1).map(|(n, _)| *n).take(5).collect();
    assert!(dups.is_empty(), "seqs delivered more than once: {dups:?}");
    assert_eq!(seen.len() as u64, end, "records delivered vs acknowledged as taken");
    if end > 0 {
        assert_eq!(seen.keys().next_back().copied(), Some(end - 1), "a gap in the delivered seqs");
    }
    seen
}

fn run_worker(props: &[&str], extra: &[&str]) -> Run {
    let (i, o) = (worker_so(), out_so());
    let mut args: Vec<&str> = vec!["-e", &i, "-e", &o, "-i", "sdkworker_in"];
    for kv in props {
        args.extend_from_slice(&["-p", kv]);
    }
    args.extend_from_slice(&["-o", "sdktest_out", "-m", "*", "--interval", "0.1", "--flush", "0.2"]);
    args.extend_from_slice(extra);
    run_host(&args)
}

#[test]
fn a_million_records_with_pause_and_resume_arrive_exactly_once_and_match_the_acks() {
    let r = run_worker(
        &["total=1000000", "per_fill=2000", "batch_limit=2M", "direct=off"],
        &["--pause-after", "0.3", "--resume-after", "0.9", "--max-records", "1000000", "--duration", "60"],
    );
    assert_eq!(r.code, Some(0), "{}", r.all());
    let m = summary(&r);
    assert_eq!(num(&m, "produced"), 1_000_000);
    assert_eq!(num(&m, "taken"), 1_000_000);
    assert_eq!(num(&m, "first_untaken"), 1_000_000);
    assert_eq!(num(&m, "mismatches"), 0, "acks disagree with what the worker wrote: {}", r.stderr);
    assert_eq!(num(&m, "failed_sources"), 0);
    assert_eq!(num(&m, "acks"), num(&m, "batches"), "every batch written was acknowledged");
    assert!(num(&m, "batches") >= 10, "a 2 MB cap splits 1M records into many batches: {m:?}");
    assert_eq!(m.get("worker_joined").map(String::as_str), Some("true"), "exit ran before the worker ended");
    let seen = assert_exactly_once(&r, 1_000_000);
    assert!(seen.values().all(|(_, t)| t == "sdkworker_in.0"), "without direct append the instance tag applies");
    let i = summary_fields(&r.stderr, "sdkworker_in.0");
    assert_eq!(field(&i, "records"), 1_000_000);
    assert_eq!(field(&i, "invalid"), 0);
}

#[test]
fn a_stop_mid_batch_delivers_exactly_the_taken_batches() {
    // An endless producer stopped by --duration: the batch being filled at shutdown is never handed
    // over, so it is not acknowledged and none of it arrives.
    let r = run_worker(&["total=100000000", "per_fill=500", "batch_limit=1M", "direct=off"], &["--duration", "1.5"]);
    assert_eq!(r.code, Some(0), "{}", r.all());
    let m = summary(&r);
    let (produced, taken) = (num(&m, "produced"), num(&m, "taken"));
    assert!(taken > 0 && produced > taken, "the stop came mid-batch: {m:?}");
    assert_eq!(num(&m, "first_untaken"), taken);
    assert_eq!(num(&m, "mismatches"), 0, "{}", r.stderr);
    assert_eq!(num(&m, "acks") + 1, num(&m, "batches"), "all but the batch being filled were acknowledged");
    assert_eq!(m.get("worker_joined").map(String::as_str), Some("true"));
    assert_exactly_once(&r, taken);
}

#[test]
fn old_hosts_get_the_same_records_in_the_legacy_form() {
    for abi in ["1.9", "2.2", "4.1", "5.1"] {
        let r = run_worker(
            &["total=30000", "per_fill=1000", "direct=off"],
            &["--abi", abi, "--max-records", "30000", "--duration", "20"],
        );
        assert_eq!(r.code, Some(0), "--abi {abi}: {}", r.all());
        let m = summary(&r);
        assert_eq!(num(&m, "mismatches"), 0, "--abi {abi}: {}", r.stderr);
        assert_exactly_once(&r, 30_000);
        let i = summary_fields(&r.stderr, "sdkworker_in.0");
        assert_eq!(field(&i, "invalid"), 0, "--abi {abi}: {}", r.stderr);
    }
}

#[test]
fn a_panicking_worker_and_a_panicking_drop_are_logged_not_fatal() {
    let r = run_worker(&["total=100000", "panic_in=worker", "direct=off"], &["--duration", "1"]);
    assert_eq!(r.code, Some(0), "{}", r.all());
    assert!(r.stderr.contains("panic in the input's worker thread: sdkworker_in asked to panic"), "{}", r.stderr);
    let m = summary(&r);
    assert_eq!(num(&m, "mismatches"), 0);
    // The dead worker reads no more acks, but what it wrote before the panic is still handed over.
    assert_exactly_once(&r, num(&m, "produced"));

    let r = run_worker(&["total=1000", "panic_in=drop", "direct=off"], &["--duration", "0.5"]);
    assert_eq!(r.code, Some(0), "{}", r.all());
    let n =
        r.stderr.matches("panic in FLBPluginExit (dropping the plugin): sdkworker_in asked to panic in Drop").count();
    assert_eq!(n, 1, "{}", r.stderr);
}

#[test]
fn check_mode_passes_with_the_worker_joined_and_nothing_left() {
    for abi in ["1.9", "2.2", "4.1", "5.1"] {
        let so = worker_so();
        let r = run_host(&["check", &so, "-p", "total=50000", "--abi", abi]);
        assert_eq!(r.code, Some(0), "--abi {abi}: {}", r.all());
        assert!(!r.stdout.contains("FAIL") && !r.stderr.contains("FAIL"), "--abi {abi}: {}", r.all());
    }
}

#[test]
fn asan_build_runs_the_worker_pipeline_clean() {
    let (i, o) = (worker_so(), out_so());
    let args = [
        "-e",
        &i,
        "-e",
        &o,
        "-i",
        "sdkworker_in",
        "-p",
        "total=200000",
        "-p",
        "direct=off",
        "-o",
        "sdktest_out",
        "-m",
        "*",
        "--interval",
        "0.1",
        "--flush",
        "0.2",
        "--pause-after",
        "0.3",
        "--resume-after",
        "0.6",
        "--max-records",
        "200000",
        "--duration",
        "30",
    ];
    let r = run_asan(&args, &[], Duration::from_secs(120));
    if let Some(report) = sanitizer_report(&r.stderr) {
        panic!("sanitizer report:\n{report}\n\n{}", r.all());
    }
    assert_eq!(r.code, Some(0), "{}", r.all());
    assert_eq!(num(&summary(&r), "mismatches"), 0);
    assert_exactly_once(&r, 200_000);
}

/// Direct append (flb-host exports `flb_input_log_append` under 5.1, as Fluent Bit 2.0+ does):
/// each source's records arrive under its own tag, in pieces, and route by Match.
#[test]
fn direct_append_tags_per_source_and_routes_by_match() {
    let (i, o) = (worker_so(), out_so());
    let args = [
        "-e",
        &i,
        "-e",
        &o,
        "-i",
        "sdkworker_in",
        "-p",
        "total=300000",
        "-p",
        "per_fill=3000",
        "-p",
        "batch_limit=3M",
        "-p",
        "piece=200K",
        "-o",
        "sdktest_out",
        "-m",
        "worker.*",
        "-o",
        "sdktest_out",
        "-m",
        "worker.src1",
        "--interval",
        "0.1",
        "--flush",
        "0.2",
        "--max-records",
        "400000",
        "--duration",
        "30",
    ];
    let r = run_host(&args);
    assert_eq!(r.code, Some(0), "{}", r.all());
    assert!(r.stderr.contains("direct append on"), "{}", r.stderr);
    let m = summary(&r);
    assert_eq!(num(&m, "mismatches"), 0, "{}", r.stderr);
    assert_eq!(num(&m, "taken"), 300_000);
    let mut per_tag: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for l in r.stdout.lines() {
        if let Some((tag, n)) = l.split_once(" n=") {
            per_tag.entry(tag.to_string()).or_default().push(n.parse().unwrap_or(u64::MAX));
        }
    }
    assert_eq!(per_tag.keys().collect::<Vec<_>>(), ["worker.src0", "worker.src1", "worker.src2"], "{per_tag:?}");
    for (tag, ns) in &per_tag {
        let src: u64 = tag.trim_start_matches("worker.src").parse().unwrap_or(u64::MAX);
        assert!(ns.iter().all(|n| n % 3 == src), "{tag} got another source's records");
        let mut uniq = ns.clone();
        uniq.sort_unstable();
        uniq.dedup();
        assert_eq!(uniq.len(), 100_000, "{tag}: every record of the source");
        // worker.src1 matches both outputs: each of its records is printed twice, the others once.
        assert_eq!(ns.len(), if src == 1 { 200_000 } else { 100_000 }, "{tag}");
    }
    let inp = summary_fields(&r.stderr, "sdkworker_in.0");
    assert_eq!(field(&inp, "records"), 300_000);
    // About 6 MB of records in 200 KB pieces: many appends, not one per collect.
    assert!(field(&inp, "appends") >= 25, "{inp:?}");
    assert_eq!(field(&inp, "invalid"), 0);
}

#[test]
fn without_the_export_records_take_the_instance_tag() {
    for extra in [&["--no-direct-append"][..], &["--abi", "4.1"]] {
        let (i, o) = (worker_so(), out_so());
        let mut args = vec![
            "-e",
            &i,
            "-e",
            &o,
            "-i",
            "sdkworker_in",
            "-p",
            "total=30000",
            "-o",
            "sdktest_out",
            "-m",
            "*",
            "--interval",
            "0.1",
            "--flush",
            "0.2",
            "--max-records",
            "30000",
            "--duration",
            "20",
        ];
        args.extend_from_slice(extra);
        let r = run_host(&args);
        assert_eq!(r.code, Some(0), "{extra:?}: {}", r.all());
        assert!(r.stderr.contains("direct append off"), "{extra:?}: {}", r.stderr);
        assert_eq!(num(&summary(&r), "mismatches"), 0);
        let seen = assert_exactly_once(&r, 30_000);
        assert!(seen.values().all(|(_, t)| t == "sdkworker_in.0"), "{extra:?}");
    }
}
