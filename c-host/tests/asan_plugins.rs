//! Every plugin of ours (gdummy, gstdout, gtail and the SDK's test plugins) through the ASan/UBSan
//! build of flb-host: check mode under every profile the plugin supports, and a pipeline per
//! plugin (gdummy into gstdout with 4 output workers, the SDK's worker input into gstdout with 4
//! workers, gtail into gstdout over real files with an offset database, then resuming from it).
//!
//! Check mode's `all-freed` accounting (malloc counting) is compiled out of the ASan build, so
//! LeakSanitizer is the leak check here: any report at the host's exit (after `dlclose`) fails,
//! and [`require_lsan`] first proves a leaking plugin is reported with c-host/lsan.supp in effect
//! (when LeakSanitizer cannot run: a failure in CI, a skip of the leak half elsewhere). The plugins
//! themselves are not instrumented (Rust, release builds); ASan sees what they do to memory the
//! host owns or hands them, UBSan the host's side.

use flb_host::*;
use std::collections::BTreeMap;
use std::time::Duration;

/// One of our plugin packages: its directory under plugins/, package, library and registered name.
struct Plugin {
    dir: &'static str,
    pkg: &'static str,
    lib: &'static str,
    input: bool,
    /// Fluent Bit before 2.1 is supported (gdummy needs 2.1's records with metadata)
    pre_2_1: bool,
}

const PLUGINS: [Plugin; 6] = [
    Plugin { dir: "gdummy", pkg: "in-gdummy", lib: "in_gdummy", input: true, pre_2_1: false },
    Plugin { dir: "gstdout", pkg: "out-gstdout", lib: "out_gstdout", input: false, pre_2_1: true },
    Plugin { dir: "gtail", pkg: "in-gtail", lib: "in_gtail", input: true, pre_2_1: true },
    Plugin { dir: "in-sdktest", pkg: "in-sdktest", lib: "in_sdktest", input: true, pre_2_1: true },
    Plugin { dir: "out-sdktest", pkg: "out-sdktest", lib: "out_sdktest", input: false, pre_2_1: true },
    Plugin { dir: "in-sdkworker", pkg: "in-sdkworker", lib: "in_sdkworker", input: true, pre_2_1: true },
];

const PROFILES: [&str; 5] = ["1.9", "2.0", "2.2", "4.1", "5.1"];

/// The release .so of `pkg` (built on demand); a package that is not a workspace member fails.
fn so(pkg: &str) -> String {
    let pl = PLUGINS.iter().find(|p| p.pkg == pkg).unwrap_or_else(|| panic!("unknown package {pkg}"));
    assert!(rust_package_exists(pl.dir), "package {} is not a workspace member", pl.pkg);
    s(&rust_plugin(pl.pkg, pl.lib))
}

/// `n` numbered lines `<prefix> line <i>` into `path` (appended).
fn append_lines(path: &std::path::Path, prefix: &str, from: usize, n: usize) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).expect("open the log file");
    let text: String = (from..from + n).map(|i| format!("{prefix} line {i}\n")).collect();
    f.write_all(text.as_bytes()).expect("write the log file");
}

/// Every line gstdout printed in `json_lines` format, parsed; a line that is not a JSON object fails.
fn json_lines(run: &Run) -> Vec<serde_json::Map<String, serde_json::Value>> {
    run.stdout
        .lines()
        .map(|l| match serde_json::from_str(l) {
            Ok(serde_json::Value::Object(m)) => m,
            other => panic!("gstdout printed a line that is not a JSON object ({other:?}): {l}\n{}", run.all()),
        })
        .collect()
}

/// How many times each value of `key` arrived.
fn counts(records: &[serde_json::Map<String, serde_json::Value>], key: &str) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for r in records {
        let v = r.get(key).unwrap_or_else(|| panic!("a record without '{key}': {r:?}"));
        *m.entry(v.to_string()).or_insert(0) += 1;
    }
    m
}

/// An ASan run that must end cleanly: no sanitizer report, exit 0, no output record dropped or
/// failed, no invalid input record.
fn asan_pipeline(args: &[String], input: &str, output: &str, what: &str) -> Run {
    let run = run_asan(&arg_refs(args), &[], Duration::from_secs(180));
    assert_no_sanitizer_report(&run, what);
    assert_eq!(run.code, Some(0), "{what}: {}", run.all());
    let o = summary_fields(&run.stderr, output);
    for k in ["dropped", "errors", "retries"] {
        assert_eq!(field(&o, k), 0, "{what}: {output} {k}: {}", run.all());
    }
    assert_eq!(field(&summary_fields(&run.stderr, input), "invalid"), 0, "{what}: {}", run.all());
    run
}

/// Check mode through the ASan host, for every plugin under every profile it supports: every check
/// passes, the calls that matter ran (init, then collect or flush with records), and neither ASan,
/// UBSan nor LeakSanitizer reported anything (`all-freed` is LeakSanitizer's job in this build).
#[test]
fn every_plugin_passes_check_under_asan_with_no_leak() {
    require_lsan();
    for pl in &PLUGINS {
        let lib = so(pl.pkg);
        for abi in PROFILES.into_iter().filter(|a| pl.pre_2_1 || !matches!(*a, "1.9" | "2.0")) {
            let dir = scratch_dir(&format!("asan-check-{}-{abi}", pl.lib));
            let (log, db) = (dir.join("a.log"), dir.join("tail.db"));
            let _ = std::fs::remove_file(&db);
            std::fs::write(&log, "").expect("truncate the log file");
            append_lines(&log, "a", 0, 2000);
            let props: Vec<String> = match pl.dir {
                // records on the first collect, not after gdummy's one-second timer
                "gdummy" => vec!["flush_on_startup=on".into()],
                "gtail" => vec![format!("path={}", s(&log)), format!("db={}", s(&db)), "read_from_head=on".into()],
                _ => vec![],
            };
            let mut args = vec!["check".to_string(), lib.clone(), "--abi".into(), abi.into()];
            for p in props {
                args.extend(["-p".to_string(), p]);
            }
            let what = format!("check {} abi {abi}", pl.lib);
            let run = run_asan(&arg_refs(&args), &[], Duration::from_secs(120));
            assert_no_sanitizer_report(&run, &what);
            let fails: Vec<&str> = run.stdout.lines().filter(|l| l.starts_with("FAIL ")).collect();
            assert!(fails.is_empty(), "{what}: {fails:?}\n{}", run.all());
            assert_eq!(run.code, Some(0), "{what}: {}", run.all());
            let call = if pl.input { "PASS collect:" } else { "PASS flush:" };
            for needed in
                ["PASS init:", call, "PASS dlclose:", "SKIP all-freed: malloc counting is off in the ASan build"]
            {
                assert!(run.stdout.contains(needed), "{what}: no '{needed}'\n{}", run.all());
            }
            if pl.input {
                let collect = run.stdout.lines().find(|l| l.starts_with("PASS collect:")).unwrap_or_default();
                assert!(!collect.contains(": 0 valid records"), "{what}: no records collected\n{}", run.all());
            }
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

/// gdummy into gstdout with `workers=4`: every record gdummy made is printed once, as a JSON line.
#[test]
fn gdummy_into_gstdout_with_4_workers_under_asan() {
    require_lsan();
    const N: usize = 20_000;
    let (i, o) = (so("in-gdummy"), so("out-gstdout"));
    for abi in ["2.2", "5.1"] {
        let spec = format!(
            "-i gdummy -p samples={N} -p rate=10000 -p dummy={{\"msg\":\"hello\",\"n\":7}} -t rs -o gstdout -m rs -p workers=4 -p format=json_lines \
             --interval 0.01 --flush 0.05 --max-records {N} --duration 120 --abi {abi}"
        );
        let args = host_args(&[&i, &o], &spec);
        let what = format!("gdummy -> gstdout workers=4 abi {abi}");
        let run = asan_pipeline(&args, "gdummy.0", "gstdout.0", &what);
        let records = json_lines(&run);
        assert_eq!(records.len(), N, "{what}: lines printed\n{}", run.all());
        for r in &records {
            assert_eq!(r.get("msg").and_then(|v| v.as_str()), Some("hello"), "{what}: {r:?}");
            assert_eq!(r.get("n").and_then(|v| v.as_u64()), Some(7), "{what}: {r:?}");
        }
        assert_eq!(field(&summary_fields(&run.stderr, "gdummy.0"), "records"), N as u64, "{what}: {}", run.all());
        let out = summary_fields(&run.stderr, "gstdout.0");
        assert_eq!(field(&out, "records_ok"), N as u64, "{what}: {}", run.all());
        assert_eq!(field(&out, "workers"), 4, "{what}: {}", run.all());
    }
}

/// The SDK's worker input (its own thread, direct append under 5.1) into gstdout with `workers=4`:
/// each numbered record printed exactly once, and the plugin's own accounting agrees.
#[test]
fn sdkworker_into_gstdout_with_4_workers_exactly_once_under_asan() {
    require_lsan();
    const N: usize = 100_000;
    let (i, o) = (so("in-sdkworker"), so("out-gstdout"));
    for (abi, extra) in [("5.1", ""), ("2.2", "-p direct=off")] {
        let spec = format!(
            "-i sdkworker_in -p total={N} {extra} -o gstdout -m * -p workers=4 -p format=json_lines \
             --interval 0.05 --flush 0.1 --pause-after 0.2 --resume-after 0.4 --max-records {N} --duration 120 \
             --abi {abi}"
        );
        let what = format!("sdkworker -> gstdout workers=4 abi {abi}");
        let run = asan_pipeline(&host_args(&[&i, &o], &spec), "sdkworker_in.0", "gstdout.0", &what);
        let records = json_lines(&run);
        let seen = counts(&records, "n");
        assert_eq!(records.len(), N, "{what}: records printed");
        assert_eq!(seen.len(), N, "{what}: distinct records (a repeat or a loss)");
        assert!(
            run.stderr.contains("mismatches=0 failed_sources=0 worker_joined=true"),
            "{what}: the plugin's summary disagrees\n{}",
            run.stderr
        );
    }
}

/// gtail into gstdout over three real files (4,500 lines) with an offset database: every line
/// arrives exactly once; then, with 1,500 more lines appended, a second run on the same database
/// delivers exactly the new lines (a line read again would be among the first 1,500 records). Under
/// 2.0 gtail hands records back through the collect buffer, under 5.1 through direct append.
#[test]
fn gtail_into_gstdout_every_line_once_and_resumes_from_its_db_under_asan() {
    require_lsan();
    let (i, o) = (so("in-gtail"), so("out-gstdout"));
    for abi in ["2.0", "5.1"] {
        let dir = scratch_dir(&format!("asan-gtail-{abi}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("mkdir");
        let files = ["a", "b", "c"];
        for f in files {
            append_lines(&dir.join(format!("{f}.log")), f, 0, 1500);
        }
        let run_once = |n: usize, round: &str| {
            let spec = format!(
                "-i gtail -p path={}/*.log -p db={}/tail.db -p read_from_head=on -p refresh_interval=0.5 -t app \
                 -o gstdout -m * -p format=json_lines --interval 0.05 --flush 0.1 --max-records {n} \
                 --duration 120 --abi {abi}",
                s(&dir),
                s(&dir)
            );
            let what = format!("gtail -> gstdout abi {abi}, {round}");
            let run = asan_pipeline(&host_args(&[&i, &o], &spec), "gtail.0", "gstdout.0", &what);
            let seen = counts(&json_lines(&run), "log");
            (run, seen, what)
        };

        let (run, seen, what) = run_once(4500, "first run");
        let expected: BTreeMap<String, usize> =
            files.iter().flat_map(|f| (0..1500).map(move |n| (format!("\"{f} line {n}\""), 1))).collect();
        assert_eq!(seen, expected, "{what}: each line exactly once\n{}", run.stderr);

        for f in files {
            append_lines(&dir.join(format!("{f}.log")), f, 1500, 500);
        }
        let (run, seen, what) = run_once(1500, "second run on the same db");
        let expected: BTreeMap<String, usize> =
            files.iter().flat_map(|f| (1500..2000).map(move |n| (format!("\"{f} line {n}\""), 1))).collect();
        assert_eq!(seen, expected, "{what}: exactly the appended lines\n{}", run.stderr);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// gtail's container-log paths under ASan: every sample of `plugins/gtail/tests/containers/` (CRI
/// and Docker lines, joins, invalid lines, JSON edges, partial lines at the end) through
/// `multiline.parser docker, cri` with a short `multiline.flush_ms`, and the Docker samples through
/// `format json`: no sanitizer report, no leak, every record the input made printed.
#[test]
fn gtail_container_logs_and_format_json_under_asan() {
    require_lsan();
    let (i, o) = (so("in-gtail"), so("out-gstdout"));
    let samples = workspace_root().join("plugins/gtail/tests/containers");
    for (pattern, keys) in [
        ("*.log", "-p multiline.parser=docker,cri -p multiline.flush_ms=200"),
        ("docker*.log", "-p format=json -p path_key=file"),
    ] {
        let spec = format!(
            "-i gtail -p path={}/{pattern} -p read_from_head=on {keys} -t c -o gstdout -m * -p format=msgpack \
             --interval 0.05 --flush 0.1 --duration 3",
            s(&samples)
        );
        let what = format!("gtail {keys} over {pattern}");
        let run = asan_pipeline(&host_args(&[&i, &o], &spec), "gtail.0", "gstdout.0", &what);
        let input = field(&summary_fields(&run.stderr, "gtail.0"), "records");
        if keys.contains("format=json") {
            // One record per line (an unfinished last line waits for its newline).
            let lines: usize = std::fs::read_dir(&samples)
                .expect("samples")
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("docker") && n.ends_with(".log"))
                })
                .map(|p| std::fs::read(p).map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count()))
                .sum();
            assert_eq!(input as usize, lines, "{what}: {}", run.all());
        } else {
            assert!(input >= 100, "{what}: only {input} records\n{}", run.all());
        }
        assert_eq!(field(&summary_fields(&run.stderr, "gstdout.0"), "records_ok"), input, "{what}: {}", run.all());
    }
}
