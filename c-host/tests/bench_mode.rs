//! `flb-host bench`: sane numbers and valid JSON.

use flb_host::*;
use serde_json::Value;

fn p(name: &str) -> String {
    s(&test_plugin(name))
}

fn bench(args: &[&str]) -> Value {
    let json =
        std::env::temp_dir().join(format!("flb-host-bench-{}-{}.json", std::process::id(), args.join("_").len()));
    let j = s(&json);
    let mut a = vec!["bench"];
    a.extend_from_slice(args);
    a.extend_from_slice(&["--json", &j]);
    let run = run_host(&a);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(run.stderr.contains("records/s"), "{}", run.all());
    let text = std::fs::read_to_string(&json).expect("json written");
    let _ = std::fs::remove_file(&json);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("invalid JSON {text}: {e}"))
}

fn num(v: &Value, k: &str) -> f64 {
    v.get(k).and_then(Value::as_f64).unwrap_or_else(|| panic!("missing {k} in {v}"))
}

#[test]
fn output_bench_counts_records_and_allocations() {
    let v = bench(&["-e", &p("out_tout"), "-o", "tout", "--count", "2000", "--records-per-chunk", "10"]);
    assert_eq!(num(&v, "calls"), 2000.0);
    assert_eq!(num(&v, "records"), 20000.0);
    assert!(num(&v, "records_per_sec") > 0.0);
    assert!(num(&v, "ns_per_record") > 0.0);
    assert!(num(&v, "bytes_per_record") > 50.0);
    assert_eq!(num(&v, "mallocs_per_call"), 0.0);
    for k in ["peak_rss_kb", "rss_growth_kb", "writes_per_call", "frees_per_call"] {
        num(&v, k);
    }
    let v = bench(&["-e", &p("out_tout"), "-o", "tout", "-p", "leak=64", "--count", "500"]);
    assert_eq!(num(&v, "mallocs_per_call"), 1.0);
    assert_eq!(num(&v, "malloc_bytes_per_call"), 64.0);
    let v = bench(&["-e", &p("out_tout"), "-o", "tout", "--legacy", "--duration", "0.2"]);
    assert!(num(&v, "calls") > 10.0);
    assert_eq!(v.get("legacy"), Some(&Value::Bool(true)));
}

#[test]
fn input_bench_walks_the_records() {
    let v = bench(&["-e", &p("in_trules"), "-i", "trules", "-p", "records=5", "--count", "300"]);
    assert_eq!(num(&v, "calls"), 300.0);
    assert_eq!(num(&v, "records"), 1500.0);
    assert_eq!(num(&v, "mallocs_per_call"), 1.0);
    assert_eq!(num(&v, "frees_per_call"), 1.0);
    assert_eq!(v.get("mode").and_then(Value::as_str), Some("input"));
}

#[test]
fn input_bench_stops_at_a_record_count_and_reports_process_cpu() {
    // 5 records per collect: 1000 records take exactly 200 collects, whatever --duration allows.
    let v = bench(&[
        "-e",
        &p("in_trules"),
        "-i",
        "trules",
        "-p",
        "records=5",
        "--until-records",
        "1000",
        "--duration",
        "600",
    ]);
    assert_eq!(num(&v, "records"), 1000.0);
    assert_eq!(num(&v, "calls"), 200.0);
    assert!(num(&v, "cpu_seconds") >= num(&v, "cpu_user_seconds"));
    assert!(num(&v, "cpu_ns_per_record") >= 0.0);
    // The plugin's one malloc per collect is seen by both counters.
    assert!(num(&v, "all_mallocs_per_call") >= num(&v, "mallocs_per_call"), "{v}");
    assert_eq!(num(&v, "mallocs_per_call"), 1.0);
    // Paced collects: --interval between them, --count still ends the run.
    let v = bench(&["-e", &p("in_trules"), "-i", "trules", "--interval", "0.01", "--count", "3", "--warmup", "2"]);
    assert_eq!(num(&v, "calls"), 3.0);
    let run = run_host(&["bench", "-e", &p("in_trules"), "-i", "trules", "--until-records", "0"]);
    assert_ne!(run.code, Some(0), "--until-records 0 is refused: {}", run.all());
    assert!(run.stderr.contains("--until-records"), "{}", run.all());
}

#[test]
fn chunk_file_is_validated() {
    let f = std::env::temp_dir().join(format!("flb-host-chunk-{}.bin", std::process::id()));
    std::fs::write(&f, b"\x92\x01\x02").expect("write");
    let run = run_host(&["bench", "-e", &p("out_tout"), "-o", "tout", "--chunk-file", &s(&f)]);
    let _ = std::fs::remove_file(&f);
    assert_ne!(run.code, Some(0));
    assert!(run.stderr.contains("is not valid log records"), "{}", run.all());
}

/// The record validator (used on every collected buffer) through `--chunk-file`: the fast path for
/// the usual modern shape must refuse exactly what the general path refuses, with the same reason.
#[test]
fn validator_fast_path_refuses_what_the_general_path_refuses() {
    let t = b"\xd7\x00\x65\x53\xf1\x00\x07\x5b\xcd\x15"; // EventTime 1700000000.123456789
    let rec = |meta: &[u8], body: &[u8]| {
        let mut v = vec![0x92, 0x92];
        v.extend_from_slice(t);
        v.extend_from_slice(meta);
        v.extend_from_slice(body);
        v
    };
    let good = rec(b"\x80", b"\x81\xa1a\x01");
    let cases: Vec<(Vec<u8>, Option<&str>)> = vec![
        (good.clone(), None),
        ([good.clone(), good.clone()].concat(), None),
        (rec(b"\xa1x", b"\x81\xa1a\x01"), Some("metadata is not a map")),
        (rec(b"\x80", b"\x91\x01"), Some("record body is not a map")),
        (rec(b"\x80", b"\x82\xa1a\x01"), Some("truncated or malformed map")),
        (good[..good.len() - 1].to_vec(), Some("truncated or malformed map")),
        // {"a": {}} swallows the body: no body left.
        (rec(b"\x81\xa1a", b"\x80"), Some("record body is not a map")),
    ];
    for (i, (bytes, want)) in cases.iter().enumerate() {
        let f = std::env::temp_dir().join(format!("flb-host-vchunk-{}-{i}.bin", std::process::id()));
        std::fs::write(&f, bytes).expect("write");
        let run = run_host(&["bench", "-e", &p("out_tout"), "-o", "tout", "--chunk-file", &s(&f), "--count", "1"]);
        let _ = std::fs::remove_file(&f);
        match want {
            None => assert_eq!(run.code, Some(0), "case {i}: {}", run.all()),
            Some(reason) => {
                assert_ne!(run.code, Some(0), "case {i} accepted: {}", run.all());
                assert!(run.stderr.contains(reason), "case {i}: want {reason:?}: {}", run.all());
            }
        }
    }
}
