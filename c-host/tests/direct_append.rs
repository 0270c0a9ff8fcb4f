//! `flb_input_log_append` (ABI.md "Beyond the proxy"): offered to plugins only under --abi 5.1
//! without --no-direct-append, through libflbhost_exports.so; appended records go to a chunk per
//! (input, tag) routed by Match; wrong callers are refused. Also the pre-2.1 profiles (1.9, 2.0),
//! which understand only legacy records, and their cleanup-or-free difference.
//!
//! in_tappend appends K records under each of custom.file0..2 when it finds the function (tag by
//! pointer + length into one longer string) and otherwise hands the same 3K records over as one
//! collect buffer under its instance tag. out_tout prints `tag= taglen= records= label=` per flush.

use flb_host::*;
use std::collections::BTreeMap;
use std::time::Duration;

fn p(name: &str) -> String {
    s(&test_plugin(name))
}

const K: u64 = 4;
const TAGS: [&str; 3] = ["custom.file0", "custom.file1", "custom.file2"];

/// tappend (K records per tag, plus `in_props`) into three tout instances: `all` matching
/// `custom.*`, `one` matching `custom.file1` only, `own` matching the instance tag `tappend.0`.
fn tappend_args(in_props: &[&str], extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> =
        ["-e", &p("in_tappend"), "-e", &p("out_tout"), "-i", "tappend"].iter().map(|x| x.to_string()).collect();
    a.extend(["-p".to_string(), format!("records={K}")]);
    for kv in in_props {
        a.extend(["-p".to_string(), kv.to_string()]);
    }
    for (label, m) in [("all", "custom.*"), ("one", "custom.file1"), ("own", "tappend.0")] {
        a.extend(["-o", "tout", "-m", m, "-p"].iter().map(|x| x.to_string()));
        a.push(format!("label={label}"));
    }
    a.extend(["--interval", "0.05", "--flush", "0.1", "--duration", "0.6"].iter().map(|x| x.to_string()));
    a.extend(extra.iter().map(|x| x.to_string()));
    a
}

fn run_tappend(in_props: &[&str], extra: &[&str]) -> Run {
    let a = tappend_args(in_props, extra);
    let v: Vec<&str> = a.iter().map(String::as_str).collect();
    run_host(&v)
}

fn run_tappend_asan(in_props: &[&str], extra: &[&str]) -> Run {
    let a = tappend_args(in_props, extra);
    let v: Vec<&str> = a.iter().map(String::as_str).collect();
    run_asan(&v, &[], Duration::from_secs(60))
}

/// A `TP tout flush ...` event: (label, tag, taglen, records).
fn flushes(stderr: &str) -> Vec<(String, String, usize, u64)> {
    tp_events(stderr)
        .iter()
        .filter(|e| e.starts_with("TP tout flush "))
        .map(|e| {
            let get = |k: &str| {
                e.split_whitespace()
                    .find_map(|w| w.strip_prefix(k))
                    .unwrap_or_else(|| panic!("no {k} in {e}"))
                    .to_string()
            };
            (get("label="), get("tag="), get("taglen=").parse().unwrap(), get("records=").parse().unwrap())
        })
        .collect()
}

/// Records each output label received, per tag.
fn per_label_tag(stderr: &str) -> BTreeMap<(String, String), u64> {
    let mut m = BTreeMap::new();
    for (label, tag, taglen, recs) in flushes(stderr) {
        assert_eq!(taglen, tag.len(), "the flush tag is NUL-terminated at its length");
        *m.entry((label, tag)).or_default() += recs;
    }
    m
}

fn lines_with(stderr: &str, needle: &str) -> usize {
    stderr.lines().filter(|l| l.contains(needle)).count()
}

/// The 5.1 behaviour with the function present: K records per tag per collect, each tag its own
/// chunk, routed by Match; nothing under the instance tag; exact counts everywhere.
fn assert_direct(run: &Run) {
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(run.stderr.contains("TP tappend init direct=1"), "{}", run.all());
    let m = summary_fields(&run.stderr, "tappend.0");
    let collects = field(&m, "collects");
    assert!(collects >= 3, "{}", run.all());
    assert_eq!(field(&m, "empty"), collects, "collect returns no data after appending: {}", run.all());
    assert_eq!(field(&m, "appends"), 3 * collects, "{}", run.all());
    assert_eq!(field(&m, "records"), 3 * K * collects, "{}", run.all());
    assert_eq!(field(&m, "invalid"), 0, "{}", run.all());
    assert_eq!(lines_with(&run.stderr, "TP tappend append "), (3 * collects) as usize, "{}", run.all());
    assert!(!tp_events(&run.stderr).iter().any(|e| e.starts_with("TP tappend append ") && !e.contains(" ret=0 ")));

    let got = per_label_tag(&run.stderr);
    let mut want = BTreeMap::new();
    for t in TAGS {
        want.insert(("all".to_string(), t.to_string()), K * collects);
    }
    want.insert(("one".to_string(), "custom.file1".to_string()), K * collects);
    assert_eq!(got, want, "{}", run.all());
    assert_eq!(field(&summary_fields(&run.stderr, "tout.0"), "records_ok"), 3 * K * collects);
    assert_eq!(field(&summary_fields(&run.stderr, "tout.1"), "records_ok"), K * collects);
    assert_eq!(field(&summary_fields(&run.stderr, "tout.2"), "flushes"), 0);
}

/// Without the function: the same 3K records per collect as one buffer under the instance tag.
fn assert_handed_over(run: &Run, abi: &str) {
    assert_eq!(run.code, Some(0), "abi {abi}: {}", run.all());
    assert!(run.stderr.contains("TP tappend init direct=0"), "abi {abi}: {}", run.all());
    let m = summary_fields(&run.stderr, "tappend.0");
    let collects = field(&m, "collects");
    assert!(collects >= 3, "abi {abi}: {}", run.all());
    assert_eq!(field(&m, "empty"), 0, "abi {abi}: {}", run.all());
    assert_eq!(field(&m, "appends"), 0, "abi {abi}: {}", run.all());
    assert_eq!(field(&m, "invalid"), 0, "abi {abi}: {}", run.all());
    assert_eq!(field(&m, "records"), 3 * K * collects, "abi {abi}: {}", run.all());
    let got = per_label_tag(&run.stderr);
    let want: BTreeMap<(String, String), u64> =
        [(("own".to_string(), "tappend.0".to_string()), 3 * K * collects)].into_iter().collect();
    assert_eq!(got, want, "abi {abi}: {}", run.all());
    assert_eq!(field(&summary_fields(&run.stderr, "tout.2"), "records_ok"), 3 * K * collects);
}

#[test]
fn appends_arrive_under_their_own_tags_and_route_by_match() {
    let run = run_tappend(&[], &["--abi", "5.1"]);
    assert_direct(&run);
    // the host's copies are not the plugin's allocations, and the plugin freed its own
    let m = summary_fields(&run.stderr, "all:");
    assert_eq!(field(&m, "live_bytes"), 0, "{}", run.all());
    assert!(field(&m, "mallocs") >= field(&summary_fields(&run.stderr, "tappend.0"), "appends"));
}

#[test]
fn without_the_export_records_arrive_under_the_instance_tag() {
    let run = run_tappend(&[], &["--abi", "5.1", "--no-direct-append"]);
    assert_handed_over(&run, "5.1 --no-direct-append");
    for abi in ["4.1", "2.2"] {
        assert_handed_over(&run_tappend(&[], &["--abi", abi]), abi);
    }
    // 1.9 and 2.0 need legacy records (see pre_2_1_profiles_refuse_modern_records)
    for abi in ["2.0", "1.9"] {
        let run = run_tappend(&["legacy=on"], &["--abi", abi]);
        assert_handed_over(&run, abi);
        // 2.0 calls the plugin's cleanup; 1.9 has none, the host frees with free()
        let cleanups = lines_with(&run.stderr, "TP tappend cleanup ");
        let collects = field(&summary_fields(&run.stderr, "tappend.0"), "collects") as usize;
        assert_eq!(cleanups, if abi == "2.0" { collects } else { 0 }, "abi {abi}: {}", run.all());
        assert_eq!(field(&summary_fields(&run.stderr, "all:"), "live_bytes"), 0, "abi {abi}: {}", run.all());
    }
}

/// One wrong call per collect (or in init), refused with its own log line and -1; the plugin's
/// correct appends still go through and the host does not crash.
fn assert_misuse_refused(run: &Run, misuse: &str, message: &str) {
    let ev = tp_events(&run.stderr);
    let tried: Vec<&String> = ev.iter().filter(|e| e.starts_with(&format!("TP tappend misuse {misuse} "))).collect();
    assert!(!tried.is_empty(), "{misuse}: {}", run.all());
    assert!(tried.iter().all(|e| e.contains(" ret=-1 ")), "{misuse}: {tried:#?}");
    let refusals = lines_with(&run.stderr, message);
    assert_eq!(refusals, tried.len(), "{misuse}: one error line per refused call: {}", run.all());
    assert!(run.stderr.lines().filter(|l| l.contains(message)).all(|l| l.starts_with("[error] ")));
    let m = summary_fields(&run.stderr, "tappend.0");
    assert_eq!(field(&m, "errors"), tried.len() as u64, "{misuse}: {}", run.all());
}

#[test]
fn off_thread_call_is_refused() {
    let run = run_tappend(&["misuse=thread"], &[]);
    assert_direct(&run);
    assert_misuse_refused(&run, "thread", "flb_input_log_append called off the input thread");
    let tried = lines_with(&run.stderr, "TP tappend misuse thread ");
    assert_eq!(tried as u64, field(&summary_fields(&run.stderr, "tappend.0"), "collects"));
}

#[test]
fn bad_instance_pointer_is_refused() {
    let run = run_tappend(&["misuse=badins"], &[]);
    assert_direct(&run);
    assert_misuse_refused(&run, "badins", "flb_input_log_append called with an unknown instance");
}

/// flb_input_log_append_records: the right count arrives as flb_input_log_append does; a count
/// that is not the buffer's is refused (a real Fluent Bit would take it for its totals).
#[test]
fn counted_appends_arrive_and_a_wrong_count_is_refused() {
    let run = run_tappend(&["counted=on"], &["--abi", "5.1"]);
    assert_direct(&run);
    let m = summary_fields(&run.stderr, "tappend.0");
    assert_eq!(field(&m, "errors"), 0, "{}", run.all());
    let run = run_tappend(&["misuse=count"], &[]);
    assert_direct(&run);
    assert_misuse_refused(
        &run,
        "count",
        "flb_input_log_append_records: records=5, but the 116 bytes hold 4 log record(s)",
    );
}

#[test]
fn call_outside_collect_is_refused() {
    let run = run_tappend(&["misuse=init"], &[]);
    assert_direct(&run);
    assert_misuse_refused(&run, "init", "flb_input_log_append called outside collect");
}

#[test]
fn asan_build_runs_direct_append_clean() {
    for (props, extra) in [
        (&[][..], &["--abi", "5.1"][..]),
        (&["misuse=thread"][..], &[][..]),
        (&["misuse=badins"][..], &[][..]),
        (&["misuse=init"][..], &[][..]),
    ] {
        let run = run_tappend_asan(props, extra);
        assert_no_sanitizer_report(&run, &format!("{props:?}"));
        assert_direct(&run);
    }
    for (props, extra) in [
        (&[][..], &["--no-direct-append"][..]),
        (&[][..], &["--abi", "4.1"][..]),
        (&["legacy=on"][..], &["--abi", "2.0"][..]),
        (&["legacy=on"][..], &["--abi", "1.9"][..]),
    ] {
        let run = run_tappend_asan(props, extra);
        assert_no_sanitizer_report(&run, &format!("{extra:?}"));
        assert_handed_over(&run, &extra.join(" "));
    }
}

/// Without the shim beside the binary, 5.1 is a clear load error; the other paths need no shim.
#[test]
fn missing_shim_is_a_clear_error() {
    // the config_map shim stays beside it: only the direct-append one is missing here
    // (config_map.rs tests the other)
    let (dir, bin) = host_copy_with_shims("noshim", &["libflbhost_configmap.so"]);
    let a = tappend_args(&[], &["--duration", "0.2"]);
    let mut v: Vec<&str> = a.iter().map(String::as_str).collect();
    let run = run_with(&bin, &v, &[], Duration::from_secs(60));
    assert_missing_shim(&run, &dir, "libflbhost_exports.so", "--no-direct-append");
    v.push("--no-direct-append");
    let run = run_with(&bin, &v, &[], Duration::from_secs(60));
    assert_eq!(run.code, Some(0), "{}", run.all());
    v.pop();
    v.extend_from_slice(&["--abi", "4.1"]);
    let run = run_with(&bin, &v, &[], Duration::from_secs(60));
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(run.code, Some(0), "{}", run.all());
}

/// trules under `abi` with its collect rules, plus properties.
fn trules(abi: &str, props: &[&str]) -> Run {
    let (i, o) = (p("in_trules"), p("out_tout"));
    let mut args: Vec<&str> = vec!["-e", &i, "-e", &o, "-i", "trules", "-p", "records=3"];
    for kv in props {
        args.extend_from_slice(&["-p", kv]);
    }
    args.extend_from_slice(&["-o", "tout", "--interval", "0.05", "--flush", "0.1", "--duration", "0.5"]);
    args.extend_from_slice(&["--abi", abi]);
    run_host(&args)
}

#[test]
fn pre_2_1_profiles_refuse_modern_records() {
    for abi in ["1.9", "2.0"] {
        // all modern, and legacy with a modern record in between: both refused whole
        for mode in ["mode=normal", "mode=mixed"] {
            let run = trules(abi, &[mode]);
            assert_eq!(run.code, Some(0), "abi {abi} {mode}: {}", run.all());
            let m = summary_fields(&run.stderr, "trules.0");
            let collects = field(&m, "collects");
            assert!(collects >= 3, "{}", run.all());
            assert_eq!(field(&m, "invalid"), collects, "abi {abi} {mode}: {}", run.all());
            assert_eq!(field(&m, "records"), 0, "abi {abi} {mode}: {}", run.all());
            let msg = format!(
                "[error] [trules.0] collect returned {} record(s) in the modern form [[time, {{metadata}}], {{body}}], \
                 which Fluent Bit < 2.1 (--abi {abi}) does not understand: the plugin must write legacy records \
                 [time, {{body}}] for this host",
                if mode == "mode=mixed" { 1 } else { 3 }
            );
            assert_eq!(lines_with(&run.stderr, &msg) as u64, collects, "abi {abi} {mode}: {}", run.all());
            assert_eq!(field(&summary_fields(&run.stderr, "tout.0"), "flushes"), 0);
            // dropped, but still cleaned up (2.0) or freed by the host (1.9): nothing leaks
            let cleanups = lines_with(&run.stderr, "TP trules cleanup ") as u64;
            assert_eq!(cleanups, if abi == "2.0" { collects } else { 0 }, "abi {abi}: {}", run.all());
            let mc = summary_fields(&run.stderr, "all:");
            assert_eq!(field(&mc, "live_bytes"), 0, "abi {abi} {mode}: {}", run.all());
            assert_eq!(field(&mc, "live"), 0, "abi {abi} {mode}: {}", run.all());
        }
        // legacy records are accepted, 3 per collect, and the cleanup rule is the same
        for props in [&["mode=legacy"][..], &["legacy=on"][..]] {
            let run = trules(abi, props);
            assert_eq!(run.code, Some(0), "abi {abi}: {}", run.all());
            let m = summary_fields(&run.stderr, "trules.0");
            let collects = field(&m, "collects");
            assert_eq!(field(&m, "invalid"), 0, "abi {abi}: {}", run.all());
            assert_eq!(field(&m, "records"), 3 * collects, "abi {abi}: {}", run.all());
            assert_eq!(field(&summary_fields(&run.stderr, "tout.0"), "records_ok"), 3 * collects);
            let cleanups = lines_with(&run.stderr, "TP trules cleanup ") as u64;
            assert_eq!(cleanups, if abi == "2.0" { collects } else { 0 }, "abi {abi}: {}", run.all());
            assert_eq!(field(&summary_fields(&run.stderr, "all:"), "live_bytes"), 0, "{}", run.all());
        }
    }
    // 2.1+ decodes both forms
    for abi in ["2.2", "5.1"] {
        let run = trules(abi, &["mode=mixed"]);
        let m = summary_fields(&run.stderr, "trules.0");
        assert_eq!(field(&m, "invalid"), 0, "abi {abi}: {}", run.all());
        assert_eq!(field(&m, "records"), 3 * field(&m, "collects"), "abi {abi}: {}", run.all());
    }
    // a plugin without cleanup that writes modern records: refused, freed by the host under 2.0 too
    for abi in ["1.9", "2.0"] {
        let (i, o) = (p("in_tnocl"), p("out_tout"));
        let spec = format!("-i tnocl -p modern=on -o tout --interval 0.05 --flush 0.1 --duration 0.4 --abi {abi}");
        let run = run_host_v(&host_args(&[&i, &o], &spec));
        assert_eq!(run.code, Some(0), "{}", run.all());
        assert!(field(&summary_fields(&run.stderr, "tnocl.0"), "invalid") >= 2, "{}", run.all());
        assert_eq!(field(&summary_fields(&run.stderr, "all:"), "live_bytes"), 0, "{}", run.all());
    }
}

#[test]
fn check_counts_direct_appends_and_fails_misuse() {
    let pl = p("in_tappend");
    let run = run_host(&["check", &pl, "--count", "5"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(run.stdout.contains("flb_input_log_append offered"), "{}", run.all());
    assert!(
        run.stdout.contains("PASS collect: 5 collects: 45 valid records, 5 empty, 15 flb_input_log_append call(s)"),
        "{}",
        run.all()
    );
    assert!(run.stdout.contains("PASS all-freed:"), "{}", run.all());
    let run = run_host(&["check", &pl, "--count", "5", "--no-direct-append"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(run.stdout.contains("PASS collect: 5 collects: 45 valid records, 0 empty, 0 flb_input_log_append"));
    for misuse in ["thread", "badins"] {
        let run = run_host(&["check", &pl, "--count", "4", "-p", &format!("misuse={misuse}")]);
        assert_eq!(run.code, Some(1), "{misuse}: {}", run.all());
        assert!(run.stdout.contains("FAIL collect: 4 flb_input_log_append call(s) refused"), "{misuse}: {}", run.all());
    }
}

fn bench_json(args: &[&str]) -> (Run, serde_json::Value) {
    let json = std::env::temp_dir().join(format!("flb-host-da-bench-{}-{}.json", std::process::id(), args.len()));
    let j = s(&json);
    let mut a = vec!["bench"];
    a.extend_from_slice(args);
    a.extend_from_slice(&["--json", &j]);
    let run = run_host(&a);
    let text = std::fs::read_to_string(&json).unwrap_or_default();
    let _ = std::fs::remove_file(&json);
    let v = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
    (run, v)
}

#[test]
fn bench_counts_direct_appends_and_fails_modern_records_before_2_1() {
    let pl = p("in_tappend");
    let num = |v: &serde_json::Value, k: &str| v.get(k).and_then(serde_json::Value::as_u64).unwrap_or(u64::MAX);
    let (run, v) = bench_json(&["-e", &pl, "-i", "tappend", "--count", "50"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_eq!(num(&v, "records"), 50 * 9, "{v}");
    assert_eq!(num(&v, "appends"), 50 * 3, "{v}");
    let (run, v) = bench_json(&["-e", &pl, "-i", "tappend", "--count", "50", "--no-direct-append"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_eq!(num(&v, "records"), 50 * 9, "{v}");
    assert_eq!(num(&v, "appends"), 0, "{v}");

    let tr = p("in_trules");
    for abi in ["1.9", "2.0"] {
        let run = run_host(&["bench", "-e", &tr, "-i", "trules", "--count", "3", "--warmup", "0", "--abi", abi]);
        assert_eq!(run.code, Some(1), "abi {abi}: {}", run.all());
        assert!(
            run.stderr.lines().any(|l| l.starts_with("FAIL collect: 3 collect(s)") && l.contains("modern form")),
            "abi {abi}: {}",
            run.all()
        );
        let run = run_host(&["bench", "-e", &tr, "-i", "trules", "-p", "legacy=on", "--count", "3", "--abi", abi]);
        assert_eq!(run.code, Some(0), "abi {abi}: {}", run.all());
    }
}

#[test]
fn valgrind_finds_no_errors_or_leaks_with_direct_append() {
    let Some(run) = run_valgrind_clean(&tappend_args(&["misuse=thread"], &["--duration", "0.8"])) else {
        return;
    };
    assert!(field(&summary_fields(&run.stderr, "tappend.0"), "appends") > 0, "{}", run.all());
}
