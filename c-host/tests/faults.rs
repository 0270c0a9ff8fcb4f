//! Fault injection across the boundary (issue 14): the host's property getters returning NULL for
//! every key (`--null-properties`), and every Nth allocation plugin code makes in init, collect or
//! flush returning NULL (`--fail-malloc N --fail-malloc-in PHASE`, `--fail-malloc-first K`). Each
//! of our Rust plugins must never crash or abort Fluent Bit, must fail a callback the way Fluent
//! Bit expects (init FLB_ERROR with a clear line, collect -1, flush FLB_RETRY), must leave nothing
//! allocated after unload (the host's accounting: `live_bytes=0`), and must lose nothing that was
//! accepted once the failures stop.

use flb_host::*;
use std::path::PathBuf;
use std::time::Duration;

/// (package, library, plugin name)
const GDUMMY: (&str, &str, &str) = ("in-gdummy", "in_gdummy", "gdummy");
const GSTDOUT: (&str, &str, &str) = ("out-gstdout", "out_gstdout", "gstdout");
const GTAIL: (&str, &str, &str) = ("in-gtail", "in_gtail", "gtail");
const IN_SDKTEST: (&str, &str, &str) = ("in-sdktest", "in_sdktest", "sdktest_in");
const OUT_SDKTEST: (&str, &str, &str) = ("out-sdktest", "out_sdktest", "sdktest_out");
const IN_SDKWORKER: (&str, &str, &str) = ("in-sdkworker", "in_sdkworker", "sdkworker_in");

fn so(p: (&str, &str, &str)) -> String {
    s(&rust_plugin(p.0, p.1))
}

/// Every N the sweeps try: each of the first ones, then sparser, up to beyond what a phase makes
/// (gdummy -> gstdout makes about 40 allocations in init, 2 per collect, 10 per flush; gtail 80 in
/// init: the `fail-malloc:` line of every run prints the counts).
const SWEEP: [u32; 9] = [1, 2, 3, 4, 5, 8, 13, 47, 1000];
const PHASES: [&str; 4] = ["init", "collect", "flush", "all"];

fn timeout() -> Duration {
    Duration::from_secs(120)
}

/// Runs every `(what, args)` through the host, a few at a time (a run mostly waits on its timers,
/// so a sweep of a hundred runs one after another took most of this file's time), and returns the
/// runs in the order given.
fn run_host_all(jobs: &[(String, Vec<String>)]) -> Vec<Run> {
    const AT_ONCE: usize = 4;
    let mut runs = Vec::with_capacity(jobs.len());
    for batch in jobs.chunks(AT_ONCE) {
        std::thread::scope(|sc| {
            let started: Vec<_> = batch.iter().map(|(_, args)| sc.spawn(move || run_host_v(args))).collect();
            runs.extend(started.into_iter().map(|h| h.join().expect("a host run's thread panicked")));
        });
    }
    runs
}

/// What a run under injection must always show: it ended by itself with 0 (ran) or 1 (an init
/// failed), no abort, signal or Rust allocation-failure message, and nothing of the plugins'
/// allocations left after unload.
fn assert_survived(run: &Run, what: &str) {
    assert!(!run.timed_out, "{what}: hung\n{}", run.all());
    assert!(
        matches!(run.code, Some(0) | Some(1)),
        "{what}: ended with {:?} (crash or abort)\n{}",
        run.status,
        run.all()
    );
    for bad in ["memory allocation of", "Fatal glibc error", "panicked", "AddressSanitizer", "guard page"] {
        assert!(!run.stderr.contains(bad), "{what}: '{bad}' in stderr\n{}", run.all());
    }
    let line = run
        .stderr
        .lines()
        .find(|l| l.starts_with("flb-host: fail-malloc:"))
        .unwrap_or_else(|| panic!("{what}: no fail-malloc line\n{}", run.all()));
    assert!(line.ends_with("live=0 live_bytes=0"), "{what}: the plugins left memory allocated: {line}");
    if run.code == Some(1) {
        // An init that failed said why, in one line of its own, and the host named the instance.
        assert!(run.stderr.contains("failed to initialize"), "{what}: exit 1 without a failed init\n{}", run.all());
        assert!(
            run.stderr.contains("out of memory") || run.stderr.contains("[error]"),
            "{what}: the failed init logged no reason\n{}",
            run.all()
        );
    }
}

/// `key=value` of the `flb-host: fail-malloc:` line (`allocations init=` is `init`, the failed ones
/// `failed_init`).
fn fail_counts(run: &Run) -> std::collections::BTreeMap<String, u64> {
    let mut m = std::collections::BTreeMap::new();
    let Some(line) = run.stderr.lines().find(|l| l.starts_with("flb-host: fail-malloc:")) else { return m };
    let mut failed = false;
    for w in line.split_whitespace() {
        if w == "failed" {
            failed = true;
        }
        if let Some((k, v)) = w.split_once('=') {
            let k =
                if failed && ["init", "collect", "flush"].contains(&k) { format!("failed_{k}") } else { k.to_string() };
            m.insert(k, v.parse().unwrap_or(0));
        }
    }
    m
}

fn pipeline_args(input: &str, in_props: &[&str], outputs: &[(&str, &[&str])], extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = vec!["-i".into(), input.into()];
    for p in in_props {
        a.extend(["-p".to_string(), p.to_string()]);
    }
    for (o, props) in outputs {
        a.extend(["-o".to_string(), o.to_string()]);
        for p in props.iter() {
            a.extend(["-p".to_string(), p.to_string()]);
        }
    }
    a.extend(extra.iter().map(|x| x.to_string()));
    a
}

fn with_plugins(libs: &[String], rest: Vec<String>) -> Vec<String> {
    let mut a = Vec::new();
    for l in libs {
        a.extend(["-e".to_string(), l.clone()]);
    }
    a.extend(rest);
    a
}

/// A file of `n` numbered lines in a fresh directory.
fn log_file(tag: &str, n: usize) -> PathBuf {
    let dir = scratch_dir(tag);
    let path = dir.join("app.log");
    let text: String = (0..n).map(|i| format!("line {i:05}\n")).collect();
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    path
}

fn json_lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

// ---- NULL for every property ----

#[test]
fn null_properties_every_plugin_runs_on_defaults_or_fails_init_clearly() {
    let (gd, gs, gt, it, ot, iw) =
        (so(GDUMMY), so(GSTDOUT), so(GTAIL), so(IN_SDKTEST), so(OUT_SDKTEST), so(IN_SDKWORKER));
    let outs: &[(&str, &[&str])] = &[("gstdout", &["format=json_lines"]), ("sdktest_out", &[])];
    for (lib, input) in [(&gd, "gdummy"), (&it, "sdktest_in"), (&iw, "sdkworker_in")] {
        let libs = [lib.clone(), gs.clone(), ot.clone()];
        let args = with_plugins(
            &libs,
            pipeline_args(
                input,
                &[],
                outs,
                &["--duration", "30", "--max-records", "2", "--null-properties", "--fail-malloc", "0"],
            ),
        );
        let run = run_host_v(&args);
        assert_survived(&run, &format!("{input} --null-properties"));
        assert_eq!(run.code, Some(0), "{input} runs on its defaults\n{}", run.all());
        let got = field(&summary_fields(&run.stderr, "gstdout.0"), "records_ok");
        let sent = field(&summary_fields(&run.stderr, &format!("{input}.0")), "records");
        assert!(sent > 0 && got == sent, "{input}: {sent} records in, {got} printed\n{}", run.all());
    }
    // gtail has no default for path: init fails, with the reason, and nothing leaks.
    let file = log_file("faults-null-gtail", 3);
    let libs = [gt.clone(), gs.clone()];
    let path = format!("path={}", file.display());
    let args = with_plugins(
        &libs,
        pipeline_args(
            "gtail",
            &[&path],
            &[("gstdout", &[])],
            &["--duration", "2", "--null-properties", "--fail-malloc", "0"],
        ),
    );
    let run = run_host_v(&args);
    assert_survived(&run, "gtail --null-properties");
    assert_eq!(run.code, Some(1), "gtail without path must fail init\n{}", run.all());
    assert!(run.stderr.contains("[gtail] 'path' is required"), "{}", run.all());
}

#[test]
fn null_properties_check_mode_passes_for_every_plugin() {
    for p in [GDUMMY, GSTDOUT, GTAIL, IN_SDKTEST, OUT_SDKTEST, IN_SDKWORKER] {
        let run = run_host(&["check", &so(p), "--null-properties"]);
        assert_eq!(run.code, Some(0), "check {} --null-properties\n{}", p.2, run.all());
        assert!(run.all().contains("OK: 0 check(s) failed"), "{}", run.all());
        assert!(run.all().contains("PASS all-freed"), "{}", run.all());
        if p.2 == "gtail" {
            assert!(run.all().contains("'path' is required"), "{}", run.all());
        }
    }
}

#[test]
fn null_properties_under_the_asan_host_reports_nothing() {
    let (gd, gs) = (so(GDUMMY), so(GSTDOUT));
    let args = with_plugins(
        &[gd, gs],
        pipeline_args(
            "gdummy",
            &[],
            &[("gstdout", &["format=json_lines"])],
            &["--duration", "30", "--max-records", "2", "--null-properties"],
        ),
    );
    let run = run_asan(&arg_refs(&args), &[], timeout());
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(sanitizer_report(&run.stderr).is_none(), "{}", run.all());
    // format is not read either: gstdout prints its default msgpack-like lines
    // ("[0] gdummy.0: [[time, {}], {...}]", the index counting up)
    let printed = run.stdout.lines().filter(|l| l.starts_with('[') && l.contains("] gdummy.0: [[")).count();
    assert!(printed >= 2, "{}", run.all());
}

// ---- malloc failure injection ----

/// gdummy -> gstdout, every N, every phase: survives and frees everything; a flush that could not
/// get its memory returns FLB_RETRY, never FLB_ERROR, and what gstdout acknowledged was printed.
/// The failures go on for the whole run, so a chunk may still be dropped by the host after its
/// retries (that is the host's retry limit, counted in `dropped`, not a loss inside the plugin).
#[test]
fn fail_malloc_gdummy_to_gstdout_never_aborts_or_leaks() {
    let libs = [so(GDUMMY), so(GSTDOUT)];
    let mut jobs = Vec::new();
    for phase in PHASES {
        for n in SWEEP {
            let what = format!("gdummy->gstdout --fail-malloc {n} --fail-malloc-in {phase}");
            let ns = n.to_string();
            let extra = [
                "--duration",
                "1.5",
                "--retry-limit",
                "2",
                "--retry-wait",
                "0.05",
                "--fail-malloc",
                &ns,
                "--fail-malloc-in",
                phase,
            ];
            let args = with_plugins(
                &libs,
                pipeline_args("gdummy", &["rate=20"], &[("gstdout", &["format=json_lines"])], &extra),
            );
            jobs.push((what, args));
        }
    }
    let mut injected = 0;
    for ((what, _), run) in jobs.iter().zip(run_host_all(&jobs)) {
        assert_survived(&run, what);
        let c = fail_counts(&run);
        injected += c.get("failed_init").copied().unwrap_or(0)
            + c.get("failed_collect").copied().unwrap_or(0)
            + c.get("failed_flush").copied().unwrap_or(0);
        if run.code == Some(0) {
            let out = summary_fields(&run.stderr, "gstdout.0");
            assert_eq!(field(&out, "errors"), 0, "{what}: a flush returned FLB_ERROR\n{}", run.all());
            let printed = json_lines(&run.stdout).len() as u64;
            assert_eq!(printed, field(&out, "records_ok"), "{what}: acknowledged but not printed\n{}", run.all());
        }
    }
    assert!(injected > 100, "the sweep injected only {injected} failures: the injection does not reach the plugins");
}

/// gtail -> gstdout over a file of 300 lines, failures in each phase for the first 12 candidate
/// allocations (every Nth of them), unlimited retries: every line arrives, exactly once.
#[test]
fn fail_malloc_gtail_to_gstdout_loses_no_line() {
    let file = log_file("faults-gtail", 300);
    let path = format!("path={}", file.display());
    let libs = [so(GTAIL), so(GSTDOUT)];
    let mut jobs = Vec::new();
    for phase in PHASES {
        for n in [1u32, 2, 3, 5, 11] {
            let what = format!("gtail->gstdout --fail-malloc {n} --fail-malloc-in {phase} --fail-malloc-first 12");
            let ns = n.to_string();
            let extra = [
                "--duration",
                "30",
                "--max-records",
                "300",
                "--interval",
                "0.2",
                "--flush",
                "0.3",
                "--retry-limit",
                "-1",
                "--retry-wait",
                "0.05",
                "--fail-malloc",
                &ns,
                "--fail-malloc-in",
                phase,
                "--fail-malloc-first",
                "12",
            ];
            let args = with_plugins(
                &libs,
                pipeline_args("gtail", &[&path, "read_from_head=on"], &[("gstdout", &["format=json_lines"])], &extra),
            );
            jobs.push((what, args));
        }
    }
    let want: Vec<String> = (0..300).map(|i| format!("line {i:05}")).collect();
    for ((what, _), run) in jobs.iter().zip(run_host_all(&jobs)) {
        assert_survived(&run, what);
        if run.code == Some(0) {
            let mut lines: Vec<String> = json_lines(&run.stdout)
                .iter()
                .filter_map(|v| v.get("log").and_then(|l| l.as_str()).map(str::to_string))
                .collect();
            lines.sort();
            assert_eq!(lines, want, "{what}: lines lost or doubled\n{}", run.stderr);
        }
    }
}

/// The SDK test plugins, and the worker-thread input, under injection in every phase.
#[test]
fn fail_malloc_sdk_test_plugins_never_abort_or_leak() {
    let (it, ot, iw) = (so(IN_SDKTEST), so(OUT_SDKTEST), so(IN_SDKWORKER));
    let mut jobs = Vec::new();
    for (lib, input) in [(&it, "sdktest_in"), (&iw, "sdkworker_in")] {
        for phase in PHASES {
            for n in [1u32, 2, 3, 5, 11, 47] {
                let what = format!("{input}->sdktest_out --fail-malloc {n} --fail-malloc-in {phase}");
                let ns = n.to_string();
                let extra = [
                    "--duration",
                    "1",
                    "--retry-limit",
                    "2",
                    "--retry-wait",
                    "0.05",
                    "--fail-malloc",
                    &ns,
                    "--fail-malloc-in",
                    phase,
                ];
                let args = with_plugins(
                    &[lib.clone(), ot.clone()],
                    pipeline_args(input, &[], &[("sdktest_out", &[])], &extra),
                );
                jobs.push((what, args));
            }
        }
    }
    for ((what, _), run) in jobs.iter().zip(run_host_all(&jobs)) {
        assert_survived(&run, what);
    }
}

/// Failures confined to the first K allocations of every phase: init may fail, but when it does
/// not, nothing the input accepted is lost: every record collected is acknowledged by the output.
#[test]
fn fail_malloc_first_k_then_every_record_arrives() {
    let libs = [so(GDUMMY), so(GSTDOUT)];
    let mut ran = 0;
    for k in [1u32, 2, 5, 10, 20, 40, 60] {
        let what = format!("gdummy->gstdout --fail-malloc 1 --fail-malloc-first {k}");
        let ks = k.to_string();
        let extra = [
            "--duration",
            "30",
            "--max-records",
            "50",
            "--retry-limit",
            "-1",
            "--retry-wait",
            "0.05",
            "--fail-malloc",
            "1",
            "--fail-malloc-first",
            &ks,
        ];
        let args =
            with_plugins(&libs, pipeline_args("gdummy", &["rate=50"], &[("gstdout", &["format=json_lines"])], &extra));
        let run = run_host_v(&args);
        assert_survived(&run, &what);
        if run.code == Some(0) {
            ran += 1;
            let sent = field(&summary_fields(&run.stderr, "gdummy.0"), "records");
            let ok = field(&summary_fields(&run.stderr, "gstdout.0"), "records_ok");
            assert!(sent >= 50, "{what}: stopped before 50 records\n{}", run.all());
            assert_eq!(ok, sent, "{what}\n{}", run.all());
            assert_eq!(json_lines(&run.stdout).len() as u64, sent, "{what}\n{}", run.all());
        }
    }
    assert!(ran > 0, "no run got past init");
}

/// Every allocation of every flush fails: each flush returns FLB_RETRY (never FLB_ERROR, nothing
/// dropped); once the failures stop (the first K), the retries print every record.
#[test]
fn fail_malloc_in_flush_returns_retry_and_the_retry_delivers() {
    let libs = [so(GDUMMY), so(GSTDOUT)];
    let extra = [
        "--duration",
        "30",
        "--retry-limit",
        "-1",
        "--retry-wait",
        "0.05",
        "--fail-malloc",
        "1",
        "--fail-malloc-in",
        "flush",
        "--fail-malloc-first",
        "30",
        "--max-records",
        "40",
    ];
    let args = with_plugins(
        &libs,
        pipeline_args("gdummy", &["rate=20", "samples=40"], &[("gstdout", &["format=json_lines"])], &extra),
    );
    let run = run_host_v(&args);
    assert_survived(&run, "flush-only failures");
    let out = summary_fields(&run.stderr, "gstdout.0");
    assert!(field(&out, "retries") > 0, "no flush was retried\n{}", run.all());
    assert_eq!(field(&out, "errors"), 0, "a flush returned FLB_ERROR\n{}", run.all());
    assert_eq!(field(&out, "dropped"), 0, "{}", run.all());
    assert_eq!(field(&out, "records_ok"), 40, "{}", run.all());
    assert_eq!(json_lines(&run.stdout).len(), 40, "{}", run.all());
    assert!(fail_counts(&run).get("failed_flush").copied().unwrap_or(0) >= 30, "{}", run.all());
    // The small allocations of those flushes (their error messages) came from the SDK's reserve,
    // and the exit says so.
    assert!(run.stderr.contains("the SDK's emergency reserve served those allocations"), "{}", run.all());
}

/// `--fail-malloc 0` counts what each phase allocates (what the sweeps are sized on) and fails
/// nothing.
#[test]
fn fail_malloc_counts_allocations_per_phase_without_failing_any() {
    let libs = [so(GDUMMY), so(GSTDOUT)];
    let args = with_plugins(
        &libs,
        pipeline_args(
            "gdummy",
            &["rate=20"],
            &[("gstdout", &["format=json_lines"])],
            &["--duration", "30", "--max-records", "1", "--fail-malloc", "0"],
        ),
    );
    let run = run_host_v(&args);
    assert_survived(&run, "count only");
    let c = fail_counts(&run);
    assert!(c.get("init").copied().unwrap_or(0) > 0 && c.get("flush").copied().unwrap_or(0) > 0, "{}", run.all());
    assert_eq!(c.get("failed_init").copied().unwrap_or(1) + c.get("failed_flush").copied().unwrap_or(1), 0);
}

#[test]
fn fail_malloc_options_are_checked() {
    let gd = so(GDUMMY);
    let bad = run_host(&["-e", &gd, "-i", "gdummy", "-o", "x", "--fail-malloc", "1", "--fail-malloc-in", "teardown"]);
    assert_eq!(bad.code, Some(2), "{}", bad.all());
    assert!(bad.stderr.contains("invalid --fail-malloc-in 'teardown'"), "{}", bad.all());
    let lone = run_host(&["-e", &gd, "-i", "gdummy", "-o", "x", "--fail-malloc-in", "flush"]);
    assert_eq!(lone.code, Some(2), "{}", lone.all());
    let asan = run_with(&host_asan_bin(), &["-e", &gd, "-i", "gdummy", "--fail-malloc", "1"], &[], timeout());
    assert_eq!(asan.code, Some(2), "{}", asan.all());
    assert!(asan.stderr.contains("--fail-malloc needs the counting build"), "{}", asan.all());
}

/// An output that answers FLB_RETRY to every flush, with no retry limit (`Retry_Limit no_limits`),
/// must not keep the host from stopping: the shutdown's expedited retries run each pending chunk
/// once per pass, and the grace period ends it. (Defect found by this file's sweeps: the forced pass
/// took the retry it had just re-queued again at once, for ever, past the grace and SIGTERM.)
#[test]
fn an_output_that_always_retries_with_no_limit_stops_at_the_grace() {
    let libs = [s(&test_plugin("in_trules")), s(&test_plugin("out_tout"))];
    let extra = [
        "--retry-limit",
        "-1",
        "--retry-wait",
        "0.1",
        "--grace",
        "1",
        "--interval",
        "0.1",
        "--flush",
        "0.2",
        "--duration",
        "1",
    ];
    let args = with_plugins(&libs, pipeline_args("trules", &[], &[("tout", &["ret=2"])], &extra));
    let run = run_host_v(&args);
    assert!(!run.timed_out, "the shutdown never ended\n{}", run.all());
    assert_eq!(run.code, Some(0), "{}", run.all());
    let out = summary_fields(&run.stderr, "tout.0");
    assert!(field(&out, "chunks") > 0 && field(&out, "retries") > 0, "{}", run.all());
    // every chunk retried until the grace ended, then dropped, none delivered
    assert_eq!(field(&out, "dropped"), field(&out, "chunks"), "{}", run.all());
    assert_eq!(field(&out, "records_ok"), 0, "{}", run.all());
}
