//! gstdout inside the C host `flb-host` (c-host/), which loads the release-built `.so` and drives it
//! the way Fluent Bit 5.1.1's proxy does: `Workers 4` flush threads, records nested 10,000 deep on the 64 KiB guard-paged coroutine stack, `check` under every
//! ABI profile, and a bad `format`.

mod host_common;

use flb_host::{field, host_bin, run_host, s, summary_fields, test_plugin, Run, EXIT_CORO_OVERFLOW};
use host_common::{gstdout, pipe_queued, pipeline_args, summary};
use std::io::Read;
use std::os::unix::io::AsRawFd;
use std::path::PathBuf;
use std::process::{Child, ChildStderr, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The host started with stdout and stderr piped; stderr is drained by a thread at once (so a
/// chatty run never blocks on it), stdout is left to the caller.
fn spawn_host(args: &[String]) -> (Child, JoinHandle<String>) {
    let mut child = Command::new(host_bin())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", host_bin().display()));
    let err: ChildStderr = child.stderr.take().expect("piped stderr");
    let t = std::thread::spawn(move || {
        let mut err = err;
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        String::from_utf8_lossy(&v).into_owned()
    });
    (child, t)
}

/// Waits for the host; kills it after `timeout` (then `None`).
fn wait(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(st)) => return Some(st),
            Ok(None) if start.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("waiting for flb-host: {e}"),
        }
    }
}

fn tmp_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("gstdout-host-{}-{name}", std::process::id()))
}

// ---------------------------------------------------------------------------------------------
// 1. Workers 4, 10,000+ chunks

struct WorkersRun {
    stdout: Vec<u8>,
    stderr: String,
    status: Option<ExitStatus>,
    /// the reader saw the pipe full (a writer blocked) before it started draining
    stalled: bool,
}

/// One run of sdktest_in -> gstdout (Workers 4, json_lines) stopped by `--max-records`. The reader
/// leaves stdout alone until the pipe is full, so one worker blocks inside `write(2)` holding
/// gstdout's write lock and the chunks dispatched meanwhile are being flushed by the other workers
/// at the same time (max_concurrency > 1 by construction, not by luck), then it drains everything.
fn workers_run(records: u64, max_records: u64) -> WorkersRun {
    let mr = max_records.to_string();
    let args = pipeline_args(
        records,
        &["workers=4", "format=json_lines"],
        &["--interval", "0.0003", "--flush", "0.0001", "--max-records", &mr, "--duration", "50"],
    );
    let (mut child, err_t) = spawn_host(&args);
    let out = child.stdout.take().expect("piped stdout");
    let out_t = std::thread::spawn(move || {
        let mut out = out;
        let fd = out.as_raw_fd();
        // Full = the bytes waiting in the pipe stop changing for 200 ms while a chunk comes
        // every 0.3 ms: a writer is blocked. (Counting against the pipe's capacity does not work:
        // writes larger than a page leave pages partly used.)
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut stalled = false;
        let (mut last, mut since) = (-1i64, Instant::now());
        while Instant::now() < deadline {
            let queued = pipe_queued(fd);
            if queued != last {
                (last, since) = (queued, Instant::now());
            } else if queued > 0 && since.elapsed() >= Duration::from_millis(200) {
                stalled = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        if stalled {
            // let the next flush ticks reach the other workers while the first one is blocked
            std::thread::sleep(Duration::from_millis(300));
        }
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        (v, stalled)
    });
    let status = wait(&mut child, Duration::from_secs(90));
    let (stdout, stalled) = out_t.join().expect("stdout reader");
    let stderr = err_t.join().expect("stderr reader");
    WorkersRun { stdout, stderr, status, stalled }
}

#[test]
fn workers_4_10000_chunks_lines_intact() {
    // 128 records per collect, so a chunk's text (~4.7 KB) is larger than PIPE_BUF (4096): the
    // kernel may split such a write when the pipe is full, so chunks from different workers could
    // interleave if gstdout did not serialise its writes (with a few records per chunk every write
    // is atomic and the check below could never fail; without gstdout's lock it does fail).
    // The collect timer is 3x slower than the flush timer so nearly every collect becomes its own
    // chunk. If a loaded machine merged too many collects into one flush tick (fewer than 10,000
    // chunks), run again with more: the chunk count is the precondition, everything else is
    // asserted on every run.
    let records = 128u64;
    for collects in [15_000u64, 25_000, 40_000] {
        let r = workers_run(records, records * collects);
        let ctx = || {
            let tail: String = String::from_utf8_lossy(&r.stdout).lines().rev().take(5).collect::<Vec<_>>().join("\n");
            format!("status={:?}\n--- stderr ---\n{}\n--- stdout tail ---\n{tail}", r.status, r.stderr)
        };
        let st = r.status.unwrap_or_else(|| panic!("flb-host timed out\n{}", ctx()));
        assert_eq!(st.code(), Some(0), "{}", ctx());
        assert!(r.stalled, "the pipe never filled up before the reader started\n{}", ctx());

        let inp = summary(&r.stderr, "sdktest_in.0");
        let out = summary(&r.stderr, "gstdout.0");
        let n = field(&inp, "records");
        assert!(n >= records * collects, "{}", ctx());
        assert_eq!(field(&inp, "invalid"), 0, "{}", ctx());
        assert_eq!(field(&out, "records"), n, "every record was routed: {}", ctx());
        assert_eq!(field(&out, "records_ok"), n, "{}", ctx());
        assert_eq!(field(&out, "ok"), field(&out, "flushes"), "{}", ctx());
        for k in ["retries", "dropped", "errors"] {
            assert_eq!(field(&out, k), 0, "{k}: {}", ctx());
        }
        assert_eq!(field(&out, "workers"), 4, "{}", ctx());
        let conc = field(&out, "max_concurrency");
        assert!(conc > 1, "max_concurrency={conc}: flushes never overlapped\n{}", ctx());

        // every line is a whole JSON record {"date":..,"n":..}; the n are exactly 0..n-1
        let text = std::str::from_utf8(&r.stdout).expect("gstdout's JSON is UTF-8");
        assert!(text.ends_with('\n'), "{}", ctx());
        let mut seen: Vec<u64> = Vec::with_capacity(n as usize);
        for (i, line) in text.lines().enumerate() {
            let v: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("line {} is not JSON ({e}): {line:?}\n{}", i + 1, ctx()));
            let obj = v.as_object().unwrap_or_else(|| panic!("line {} is not an object: {line}", i + 1));
            assert_eq!(obj.len(), 2, "line {}: {line}", i + 1);
            // a number; `%.16g` prints a time a few ns past a whole second without a fraction
            assert!(obj.get("date").is_some_and(serde_json::Value::is_number), "line {}: {line}", i + 1);
            let k = obj.get("n").and_then(serde_json::Value::as_u64);
            seen.push(k.unwrap_or_else(|| panic!("line {} has no integer n: {line}", i + 1)));
        }
        assert_eq!(seen.len() as u64, n, "one line per record: {}", ctx());
        seen.sort_unstable();
        if let Some(bad) = seen.iter().enumerate().find(|(i, v)| **v != *i as u64) {
            panic!("n values are not exactly 0..{n}: first mismatch at sorted index {} = {}\n{}", bad.0, bad.1, ctx());
        }

        let flushes = field(&out, "flushes");
        if flushes >= 10_000 {
            println!("{flushes} flushes, {n} records, max_concurrency={conc}");
            return;
        }
        println!("only {flushes} chunks from {collects} collects (timers merged ticks); again with more");
    }
    panic!("never reached 10,000 chunks");
}

// ---------------------------------------------------------------------------------------------
// 2. 10,000 levels deep on the 64 KiB coroutine stack

const DEPTH: usize = 10_000;

/// One record `[[EventTime 1700000000.5, {}], {"d": <value>}]` where the value is `open` repeated
/// `DEPTH` times around `1` (fixarray of 1 / fixmap of 1 with key "k").
fn deep_chunk(open: &[u8]) -> Vec<u8> {
    let mut c = vec![0x92, 0x92, 0xd7, 0x00];
    c.extend_from_slice(&1_700_000_000u32.to_be_bytes());
    c.extend_from_slice(&500_000_000u32.to_be_bytes());
    c.extend_from_slice(&[0x80, 0x81, 0xa1, b'd']);
    for _ in 0..DEPTH {
        c.extend_from_slice(open);
    }
    c.push(0x01);
    c
}

fn bench(so: &str, name: &str, props: &[&str], chunk: &str) -> Run {
    let mut a = vec!["bench", "-e", so, "-o", name];
    for kv in props {
        a.extend_from_slice(&["-p", kv]);
    }
    a.extend_from_slice(&["--chunk-file", chunk, "--count", "3", "--warmup", "0"]);
    run_host(&a)
}

/// One nesting kind: the msgpack bytes opening a level, and how a level prints.
struct Nesting {
    what: &'static str,
    opener: &'static [u8],
    /// JSON: opening text, closing text
    json: (&'static str, &'static str),
    /// msgpack format (`msgpack_object_print`): opening text, closing text
    msgpack: (&'static str, &'static str),
}

#[test]
fn deep_record_on_the_guarded_64k_stack() {
    let so = gstdout();
    let cases = [
        Nesting { what: "arrays", opener: &[0x91], json: ("[", "]"), msgpack: ("[", "]") },
        Nesting { what: "maps", opener: &[0x81, 0xa1, b'k'], json: ("{\"k\":", "}"), msgpack: ("{\"k\"=>", "}") },
    ];
    for Nesting { what, opener, json: (jo, jc), msgpack: (mo, mc) } in cases {
        let file = tmp_file(&format!("deep-{what}.mp"));
        std::fs::write(&file, deep_chunk(opener)).expect("write the chunk file");
        let f = s(&file);
        let inner = |o: &str, c: &str| format!("{}1{}", o.repeat(DEPTH), c.repeat(DEPTH));
        let want_json = format!("{{\"date\":1700000000.5,\"d\":{}}}", inner(jo, jc));
        let want_msgpack = format!("[0] bench: [[1700000000.500000000, {{}}], {{\"d\"=>{}}}]", inner(mo, mc));
        for (format, want) in [("msgpack", &want_msgpack), ("json_lines", &want_json)] {
            let prop = format!("format={format}");
            let r = bench(&so, "gstdout", &[&prop], &f);
            let short = || format!("{what} {format}: exit={:?}\n--- stderr ---\n{}", r.code, r.stderr);
            assert_eq!(r.code, Some(0), "{}", short());
            assert!(r.stderr.contains("calls            3 (0 empty, 0 not FLB_OK)"), "{}", short());
            let lines: Vec<&str> = r.stdout.lines().collect();
            assert_eq!(lines.len(), 3, "one line per flush: {}", short());
            for l in &lines {
                let (o, c) = if what == "arrays" { ('[', ']') } else { ('{', '}') };
                let opens = l.matches(o).count();
                let closes = l.matches(c).count();
                assert_eq!(opens, closes, "{}", short());
                // the nesting plus the record's own brackets/braces
                let own = match (what, format) {
                    ("arrays", "msgpack") => 3, // "[0]", the record, its [time, metadata]
                    ("arrays", _) => 0,
                    (_, "msgpack") => 2, // the metadata {} and the body
                    _ => 1,              // the JSON object (the body)
                };
                assert_eq!(opens, DEPTH + own, "{}", short());
                assert!(*l == want.as_str(), "{what} {format}: the line differs from the expected nesting");
            }
        }
        let _ = std::fs::remove_file(&file);
    }

    // The same bench, same chunk, with a flush that really needs 70 KiB of stack (the C test
    // output `tout`, `stack_kb=70`): the guard page stops it and the host names the default stack
    // size. So the runs above were on a 64 KiB stack that a deep recursion would have overflowed.
    let file = tmp_file("deep-guard.mp");
    std::fs::write(&file, deep_chunk(&[0x91])).expect("write the chunk file");
    let tout = s(&test_plugin("out_tout"));
    let r = bench(&tout, "tout", &["stack_kb=70"], &s(&file));
    let _ = std::fs::remove_file(&file);
    assert_eq!(r.code, Some(EXIT_CORO_OVERFLOW), "{}", r.all());
    assert!(
        r.stderr.contains(
            "flb-host: plugin flush overflowed the 64 KiB coroutine stack (guard page hit); raise --coro-stack"
        ),
        "{}",
        r.all()
    );
}

// ---------------------------------------------------------------------------------------------
// 3. check under every ABI profile

#[test]
fn check_passes_under_every_abi() {
    let so = gstdout();
    for abi in ["1.9", "2.2", "4.1", "5.1"] {
        // Default format (msgpack, as the brief's command), then json_lines, whose printed sample
        // records are strict JSON so every other stdout line must be a check line.
        for fmt in [None, Some("format=json_lines")] {
            let mut a = vec!["check", &so, "--bad", "format=bogus", "--abi", abi];
            if let Some(p) = fmt {
                a.extend_from_slice(&["-p", p]);
            }
            let r = run_host(&a);
            let ctx = || format!("abi {abi} {fmt:?}: {}", r.all());
            assert_eq!(r.code, Some(0), "{}", ctx());
            let results: Vec<&str> = r
                .stdout
                .lines()
                .filter(|l| l.starts_with("PASS ") || l.starts_with("FAIL ") || l.starts_with("SKIP "))
                .collect();
            assert!(results.len() >= 12, "{}", ctx());
            assert!(results.iter().all(|l| !l.starts_with("FAIL ")), "{}", ctx());
            for need in ["PASS all-freed:", "PASS leak-per-call:", "PASS init-bad-config:", "PASS flush:"] {
                assert!(results.iter().any(|l| l.starts_with(need)), "missing {need}: {}", ctx());
            }
            assert!(r.stdout.lines().any(|l| l == "OK: 0 check(s) failed"), "{}", ctx());
            let bad = r.stderr.lines().filter(|l| l.contains("'format'") && l.contains("'bogus'")).count();
            assert!(bad >= 1, "the bad value is named: {}", ctx());
            if fmt.is_some() {
                let mut printed = 0;
                for l in r.stdout.lines() {
                    if l.starts_with('{') {
                        serde_json::from_str::<serde_json::Value>(l).unwrap_or_else(|e| panic!("{e}: {l}\n{}", ctx()));
                        printed += 1;
                    } else {
                        assert!(
                            l.starts_with("PASS ")
                                || l.starts_with("SKIP ")
                                || l.starts_with("flb-host check ")
                                || l == "OK: 0 check(s) failed",
                            "unexpected line {l:?}\n{}",
                            ctx()
                        );
                    }
                }
                assert!(printed > 0, "{}", ctx());
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 4. bad format

#[test]
fn bad_format_fails_the_instance() {
    let args = pipeline_args(1, &["format=nope"], &["--interval", "0.1", "--flush", "0.1", "--duration", "1"]);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = run_host(&a);
    assert_eq!(r.code, Some(1), "load/init error exit: {}", r.all());
    assert!(r.stdout.is_empty(), "{}", r.all());
    assert!(r.stderr.contains("plugin 'gstdout.0'"), "{}", r.all());
    assert!(r.stderr.contains("failed to initialize"), "{}", r.all());
    let named: Vec<&str> = r.stderr.lines().filter(|l| l.contains("format") && l.contains("nope")).collect();
    assert_eq!(named.len(), 1, "one line names format and nope: {}", r.all());
    assert!(named[0].starts_with("[error] [gstdout]"), "{}", r.all());
    let errors = r.stderr.lines().filter(|l| l.starts_with("[error]")).count();
    assert_eq!(errors, 1, "{}", r.all());
    assert_eq!(field(&summary_fields(&r.stderr, "gstdout.0"), "flushes"), 0, "{}", r.all());
}
