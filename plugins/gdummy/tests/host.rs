//! gdummy inside the C host `flb-host` (c-host/), which drives the release-built `.so` the way
//! Fluent Bit's proxy does: records go to the SDK test output `sdktest_out`, which prints
//! `<tag> n=<value>` per record, so the tests put the content under the key `n`.

use flb_host::{field, host_bin, run_host, rust_plugin, s, summary_fields, Run};
use std::path::PathBuf;

fn gdummy() -> PathBuf {
    rust_plugin("in-gdummy", "in_gdummy")
}

fn out() -> PathBuf {
    rust_plugin("out-sdktest", "out_sdktest")
}

/// One gdummy input (tag `t`) into sdktest_out; `props` are gdummy's keys; `extra` host options.
fn run(props: &[&str], extra: &[&str]) -> Run {
    let (i, o) = (s(&gdummy()), s(&out()));
    let mut args: Vec<&str> = vec!["-e", &i, "-e", &o, "-i", "gdummy", "-t", "t"];
    for kv in props {
        args.extend_from_slice(&["-p", kv]);
    }
    args.extend_from_slice(&["-o", "sdktest_out", "-m", "*", "--flush", "0.2"]);
    args.extend_from_slice(extra);
    run_host(&args)
}

fn lines<'a>(r: &'a Run, prefix: &str) -> Vec<&'a str> {
    r.stdout.lines().filter(|l| l.starts_with(prefix)).collect()
}

fn input_records(r: &Run, instance: &str) -> u64 {
    let m = summary_fields(&r.stderr, instance);
    assert!(m.contains_key("records"), "no summary for {instance}: {}", r.all());
    field(&m, "records")
}

#[test]
fn host_binary_is_built() {
    assert!(host_bin().is_file(), "{}", host_bin().display());
}

#[test]
fn records_arrive_with_the_configured_content() {
    let r = run(&[r#"dummy={"message":"hello","n":42}"#, "rate=10"], &["--interval", "0.1", "--duration", "1.2"]);
    assert_eq!(r.code, Some(0), "{}", r.all());
    let got = lines(&r, "t ");
    assert!(got.len() >= 10, "{}", r.all());
    assert!(got.iter().all(|l| *l == "t n=42"), "{}", r.all());
    assert_eq!(got.len() as u64, input_records(&r, "gdummy.0"), "every record reached the output");
}

/// Count over a run of `secs` matches rate x secs within one collect tick, whatever the collect
/// interval (the host collects every `--interval` seconds; Fluent Bit every second).
#[test]
fn rate_holds_at_every_collect_interval() {
    let (rate, secs) = (40u64, 3u64);
    for interval in ["1", "0.1", "0.01"] {
        let r = run(
            &[&format!("rate={rate}"), r#"dummy={"n":1}"#],
            &["--interval", interval, "--duration", &secs.to_string()],
        );
        assert_eq!(r.code, Some(0), "{}", r.all());
        let n = input_records(&r, "gdummy.0");
        let want = rate * secs;
        let tick: f64 = interval.parse().unwrap_or(1.0);
        // The last collect can come up to one interval before the end; allow one tick's worth of
        // records either way plus scheduling noise of 2 records.
        let slack = (rate as f64 * tick).ceil() as u64 + 2;
        assert!(
            n + slack >= want && n <= want + slack,
            "interval {interval}: {n} records, want {want} +/- {slack}\n{}",
            r.all()
        );
        assert_eq!(lines(&r, "t n=1").len() as u64, n, "{}", r.all());
    }
}

#[test]
fn samples_stop_exactly() {
    let r = run(&["rate=100", "samples=7", r#"dummy={"n":3}"#], &["--interval", "0.05", "--duration", "1.0"]);
    assert_eq!(r.code, Some(0), "{}", r.all());
    assert_eq!(input_records(&r, "gdummy.0"), 7, "{}", r.all());
    assert_eq!(lines(&r, "t n=3").len(), 7, "{}", r.all());
}

#[test]
fn copies_multiply() {
    let r = run(&["rate=5", "copies=4", "samples=3", r#"dummy={"n":5}"#], &["--interval", "0.1", "--duration", "1.2"]);
    assert_eq!(r.code, Some(0), "{}", r.all());
    assert_eq!(input_records(&r, "gdummy.0"), 12, "3 events x 4 copies\n{}", r.all());
    assert_eq!(lines(&r, "t n=5").len(), 12, "{}", r.all());
}

#[test]
fn two_instances_with_different_records_in_one_host() {
    let (i, o) = (s(&gdummy()), s(&out()));
    let r = run_host(&[
        "-e",
        &i,
        "-e",
        &o,
        "-i",
        "gdummy",
        "-p",
        r#"dummy={"n":1}"#,
        "-p",
        "rate=10",
        "-t",
        "a",
        "-i",
        "gdummy",
        "-p",
        r#"dummy={"n":2}"#,
        "-p",
        "rate=20",
        "-t",
        "b",
        "-o",
        "sdktest_out",
        "-m",
        "*",
        "--interval",
        "0.1",
        "--flush",
        "0.2",
        "--duration",
        "1.5",
    ]);
    assert_eq!(r.code, Some(0), "{}", r.all());
    let a = input_records(&r, "gdummy.0");
    let b = input_records(&r, "gdummy.1");
    assert!(a >= 10 && b >= 20, "{}", r.all());
    assert!(b > a, "the second instance runs at twice the rate: {}", r.all());
    assert_eq!(lines(&r, "a ").len() as u64, a);
    assert_eq!(lines(&r, "b ").len() as u64, b);
    assert!(lines(&r, "a ").iter().all(|l| *l == "a n=1"), "{}", r.all());
    assert!(lines(&r, "b ").iter().all(|l| *l == "b n=2"), "{}", r.all());
}

#[test]
fn bad_input_fails_the_instance_with_one_line() {
    let cases: &[(&str, &str, &str)] = &[
        (r#"dummy={"n":"#, "dummy", r#"{"n":"#),
        ("dummy=[1,2]", "dummy", "[1,2]"),
        ("dummy=nope", "dummy", "nope"),
        ("metadata={", "metadata", "{"),
        ("metadata=7", "metadata", "7"),
        ("rate=-1", "rate", "-1"),
        ("rate=abc", "rate", "abc"),
        ("rate=0", "rate", "0"),
        ("samples=-3", "samples", "-3"),
        ("samples=x", "samples", "x"),
        ("copies=-1", "copies", "-1"),
        ("copies=many", "copies", "many"),
    ];
    for (kv, key, value) in cases {
        let r = run(&[kv], &["--interval", "0.1", "--duration", "0.5"]);
        assert_ne!(r.code, Some(0), "{kv}: the host must report the failed instance\n{}", r.all());
        assert!(!r.timed_out && r.code.is_some(), "{kv}: clean exit, no crash\n{}", r.all());
        assert!(r.stderr.contains("failed to initialize"), "{kv}: {}", r.all());
        let errs: Vec<&str> = r.stderr.lines().filter(|l| l.contains("[gdummy]") && l.contains("error")).collect();
        assert_eq!(errs.len(), 1, "{kv}: one error line\n{}", r.all());
        assert!(errs[0].contains(&format!("'{key}'")) && errs[0].contains(&format!("'{value}'")), "{kv}: {}", errs[0]);
        assert_eq!(input_records(&r, "gdummy.0"), 0);
    }
    // Both intervals zero and rate zero.
    let r = run(&["rate=0", "interval_sec=0", "interval_nsec=0"], &["--duration", "0.5"]);
    assert_ne!(r.code, Some(0), "{}", r.all());
    assert!(r.stderr.contains("'rate'") && r.stderr.contains("interval_sec"), "{}", r.all());
}

fn check(abi: &str) -> Run {
    let i = s(&gdummy());
    // flush_on_startup: the check collects a few times in quick succession, and gdummy (like the
    // native input) otherwise has nothing due before its first interval has passed.
    run_host(&["check", &i, "-p", "flush_on_startup=on", "--bad", "rate=-1", "--abi", abi])
}

/// Every conformance check passes under every profile, zero bytes left allocated after unload included.
#[test]
fn check_conformance_under_every_abi() {
    for abi in ["1.9", "2.2", "4.1", "5.1"] {
        let r = check(abi);
        let fails: Vec<&str> = r.stdout.lines().filter(|l| l.starts_with("FAIL ")).collect();
        assert!(fails.is_empty(), "abi {abi}: {fails:?}\n{}", r.all());
        assert_eq!(r.code, Some(0), "abi {abi}\n{}", r.all());
        for name in [
            "load",
            "register",
            "init",
            "init-bad-config",
            "two-instances",
            "collect",
            "leak-per-call",
            "exit",
            "all-freed",
            "dlclose",
        ] {
            assert!(r.stdout.contains(&format!("PASS {name}:")), "abi {abi}: no PASS {name}\n{}", r.all());
        }
    }
}

/// Through the Rust gstdout (native stdout's format): body, metadata, several objects, and
/// timestamps from start_time, evenly spaced and never going back.
#[test]
fn gstdout_shows_content_metadata_and_timestamps() {
    if !flb_host::workspace_root().join("plugins/gstdout/Cargo.toml").is_file() {
        eprintln!("skipped: plugins/gstdout is not in this checkout");
        return;
    }
    let (i, o) = (s(&gdummy()), s(&rust_plugin("out-gstdout", "out_gstdout")));
    let r = run_host(&[
        "-e",
        &i,
        "-e",
        &o,
        "-i",
        "gdummy",
        "-p",
        r#"dummy={"message":"hi","n":1}{"message":"bye"}"#,
        "-p",
        r#"metadata={"src":"g"}"#,
        "-p",
        "rate=4",
        "-p",
        "start_time_sec=1000",
        "-t",
        "t",
        "-o",
        "gstdout",
        "-m",
        "*",
        "--interval",
        "0.1",
        "--flush",
        "0.2",
        "--duration",
        "1.6",
    ]);
    assert_eq!(r.code, Some(0), "{}", r.all());
    // `[N] t: ...`, N the record's index in its chunk.
    let recs: Vec<&str> = r.stdout.lines().filter_map(|l| l.split_once("] t: ").map(|(_, rest)| rest)).collect();
    assert!(recs.len() >= 8 && recs.len().is_multiple_of(2), "{}", r.all());
    let mut last = 0.0f64;
    for (k, l) in recs.iter().enumerate() {
        let time: f64 = l
            .strip_prefix("[[")
            .and_then(|x| x.split(',').next())
            .and_then(|x| x.parse().ok())
            .unwrap_or_else(|| panic!("no time in {l}"));
        // Event k/2 (two objects per event) at 1000 + (k/2) * 0.25 s.
        assert_eq!(time, 1000.0 + (k / 2) as f64 * 0.25, "{l}");
        assert!(time >= last);
        last = time;
        let body = if k % 2 == 0 { r#"{"message"=>"hi", "n"=>1}"# } else { r#"{"message"=>"bye"}"# };
        assert!(l.ends_with(&format!(r#", {{"src"=>"g"}}], {body}]"#)), "{l}");
    }
}
