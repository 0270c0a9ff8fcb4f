//! gstdout when stdout misbehaves, inside `flb-host` and, with `FLUENT_BIT_BIN`, a real Fluent
//! Bit: a reader that closes stdout mid-run (EPIPE) and a reader that stops reading (a stall).
//! Neither may kill the process, hang a flush or its shutdown, print a record twice or lose one
//! that is retried.

mod host_common;

use flb_host::{field, host_bin, rust_plugin, s, summary_fields};
use host_common::{gstdout, pipe_queued, pipeline_args, summary};
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A started program with stdout piped; stderr is read by a thread that sends each line on
/// `lines` as it comes and returns all of it at the end.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    err: JoinHandle<String>,
}

fn spawn(program: &PathBuf, args: &[String], envs: &[(&str, &str)]) -> Running {
    let mut child = Command::new(program)
        .args(args)
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
    let stderr = child.stderr.take().expect("piped stderr");
    let (tx, lines) = mpsc::channel();
    let err = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            all.push_str(&line);
            all.push('\n');
            let _ = tx.send(line);
        }
        all
    });
    Running { child, lines, err }
}

impl Running {
    /// Waits (up to `timeout`) for a stderr line containing `what`.
    fn wait_line(&self, what: &str, timeout: Duration) -> Option<String> {
        let end = Instant::now() + timeout;
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(l) if l.contains(what) => return Some(l),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
        None
    }

    /// Waits for the exit (killed after `timeout`: then `None`) and returns all of stderr.
    fn finish(mut self, timeout: Duration) -> (Option<ExitStatus>, String) {
        let start = Instant::now();
        let st = loop {
            match self.child.try_wait() {
                Ok(Some(st)) => break Some(st),
                Ok(None) if start.elapsed() > timeout => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break None;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => panic!("waiting: {e}"),
            }
        };
        (st, self.err.join().expect("stderr reader"))
    }
}

fn epipe_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.contains("stdout is closed (EPIPE)")).collect()
}

// ---------------------------------------------------------------------------------------------
// stdout closed by its reader

/// The reader of stdout goes away after a few bytes. The host does not die (of SIGPIPE or
/// anything), every later chunk goes back with FLB_RETRY (native stdout returns FLB_OK and loses
/// it silently; a retry loses nothing while Retry_Limit allows, and a FIFO can get a new reader),
/// the retries are given up by the host at the limit, and gstdout says so in ONE error line, not
/// one per chunk. Nothing of the plugin's memory is left (host accounting).
#[test]
fn closed_stdout_one_line_retries_no_crash_no_leak() {
    closed_stdout_run(&host_bin(), &[]);
}

/// The same through the ASan/UBSan host: no report (leaks included).
#[test]
fn closed_stdout_asan_clean() {
    let env = flb_host::asan_env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let stderr = closed_stdout_run(&flb_host::host_asan_bin(), &env);
    assert_eq!(flb_host::sanitizer_report(&stderr), None, "{stderr}");
}

fn closed_stdout_run(bin: &PathBuf, env: &[(&str, &str)]) -> String {
    let args = pipeline_args(
        3,
        &[],
        &["--interval", "0.02", "--flush", "0.05", "--duration", "2", "--retry-wait", "0.05", "--retry-limit", "2"],
    );
    let mut run = spawn(bin, &args, env);
    let mut out = run.child.stdout.take().expect("piped stdout");
    let mut first = [0u8; 16];
    out.read_exact(&mut first).expect("gstdout printed something before the reader left");
    assert!(first.starts_with(b"[0] t: [["), "{:?}", String::from_utf8_lossy(&first));
    drop(out); // the reader is gone: every later write gets EPIPE (and SIGPIPE)
    let (status, stderr) = run.finish(Duration::from_secs(60));
    let st = status.unwrap_or_else(|| panic!("flb-host did not stop at --duration:\n{stderr}"));
    assert_eq!(st.signal(), None, "flb-host was killed by signal {:?}:\n{stderr}", st.signal());
    assert_eq!(st.code(), Some(0), "{stderr}");
    assert!(stderr.contains("flb-host: summary:"), "the host ran to its normal end: {stderr}");

    let epipe = epipe_lines(&stderr);
    assert_eq!(epipe.len(), 1, "one line for the whole closed state, not one per chunk:\n{stderr}");
    assert!(flb_host::strip_log_time(epipe[0]).starts_with("[error] [gstdout]"), "{epipe:#?}");
    assert!(epipe[0].contains("FLB_RETRY"), "the line says what happens to the chunks: {}", epipe[0]);
    assert!(!stderr.contains("stdout takes writes again"), "{stderr}");

    let inp = summary(&stderr, "sdktest_in.0");
    let o = summary(&stderr, "gstdout.0");
    assert!(field(&o, "ok") >= 1, "the chunk read before closing was OK: {stderr}");
    assert!(field(&o, "retries") >= 2, "EPIPE chunks are retried: {stderr}");
    assert_eq!(field(&o, "errors"), 0, "no chunk was refused outright: {stderr}");
    assert_eq!(field(&o, "records"), field(&inp, "records"), "{stderr}");
    assert!(field(&inp, "collects") >= 20, "input kept running after the close: {stderr}");
    let all = summary_fields(&stderr, "all:");
    if all.contains_key("live_bytes") {
        assert_eq!(field(&all, "live_bytes"), 0, "{stderr}");
    }
    stderr
}

/// Nobody ever reads stdout: the shutdown (`--duration`) still ends, within the grace period plus
/// a `write_timeout` or two, with exit code 0; before issue 14 the flush blocked in `write(2)`
/// held gstdout's lock forever and the host never exited.
#[test]
fn stalled_stdout_does_not_hang_the_shutdown() {
    let args = pipeline_args(
        200,
        &["workers=2", "format=json_lines", "write_timeout=0.5s"],
        &["--interval", "0.01", "--flush", "0.05", "--duration", "2", "--grace", "1"],
    );
    let mut run = spawn(&host_bin(), &args, &[]);
    let out = run.child.stdout.take().expect("piped stdout");
    let stall = run.wait_line("stdout is stalled", Duration::from_secs(60));
    let (status, stderr) = run.finish(Duration::from_secs(90));
    drop(out);
    assert!(stall.is_some(), "the pipe never filled: {stderr}");
    let st = status.unwrap_or_else(|| panic!("the shutdown hung behind the stalled stdout:\n{stderr}"));
    assert_eq!(st.code(), Some(0), "{stderr}");
    let o = summary(&stderr, "gstdout.0");
    assert!(field(&o, "retries") >= 1, "{stderr}");
    assert_eq!(field(&summary_fields(&stderr, "all:"), "live_bytes"), 0, "{stderr}");
}

// ---------------------------------------------------------------------------------------------
// stdout stalled: its reader stops reading, then reads again

/// With `Workers 4` and `write_timeout 0.2s`, the reader of stdout reads nothing until gstdout
/// reports the stall, and then for a while longer (flushes keep coming: each worker either times
/// out in its write or waiting for the turn, none hangs); then it reads everything. The run stops
/// at `--max-records` (acknowledged records), so it ends only if the retried chunks got through:
/// every record arrives exactly once, each line exactly the bytes an unstalled run prints, and
/// the stall and the recovery are one log line each.
#[test]
fn stalled_stdout_times_out_retries_then_every_record_once() {
    use std::os::unix::io::AsRawFd;
    let total: u64 = 100 * 400;
    let mr = total.to_string();
    let args = pipeline_args(
        100,
        &["workers=4", "format=json_lines", "json_date_key=false", "write_timeout=0.2s"],
        &[
            "--interval",
            "0.005",
            "--flush",
            "0.01",
            "--max-records",
            &mr,
            "--retry-limit",
            "-1",
            "--retry-wait",
            "0.1",
            "--duration",
            "120",
        ],
    );
    let mut run = spawn(&host_bin(), &args, &[]);
    let out = run.child.stdout.take().expect("piped stdout");
    let stall = run.wait_line("stdout is stalled", Duration::from_secs(60));
    let full = pipe_queued(out.as_raw_fd());
    // several flush ticks and retries while the reader is away
    std::thread::sleep(Duration::from_secs(1));
    let reader = std::thread::spawn(move || {
        let mut out = out;
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let recovered = run.wait_line("stdout takes writes again", Duration::from_secs(60));
    let (status, stderr) = run.finish(Duration::from_secs(120));
    let stdout = reader.join().expect("stdout reader");
    let ctx = || format!("status={status:?}\n--- stderr ---\n{stderr}");
    assert!(stall.is_some(), "gstdout never reported the stall: {}", ctx());
    assert!(full > 0, "the pipe held nothing when the stall was reported: {}", ctx());
    assert!(recovered.is_some(), "gstdout never reported the recovery: {}", ctx());
    let st = status.unwrap_or_else(|| panic!("flb-host hung: {}", ctx()));
    assert_eq!(st.code(), Some(0), "{}", ctx());
    let stalls = stderr.lines().filter(|l| l.contains("stdout is stalled")).count();
    assert_eq!(stalls, 1, "one line for the stall: {}", ctx());
    assert_eq!(stderr.lines().filter(|l| l.contains("stdout takes writes again")).count(), 1, "{}", ctx());

    let o = summary(&stderr, "gstdout.0");
    assert!(field(&o, "retries") >= 2, "stalled flushes went back for retry: {}", ctx());
    assert_eq!(field(&o, "dropped"), 0, "{}", ctx());
    assert_eq!(field(&o, "errors"), 0, "{}", ctx());
    let acked = field(&o, "records_ok");
    assert!(acked >= total, "{}", ctx());
    assert_eq!(field(&summary_fields(&stderr, "all:"), "live_bytes"), 0, "{}", ctx());

    // every record exactly once, byte for byte the line of an unstalled run ({"n":K})
    let text = std::str::from_utf8(&stdout).expect("UTF-8");
    assert!(text.ends_with('\n'), "the output ends with a whole line");
    let mut seen: Vec<u64> = Vec::with_capacity(acked as usize);
    for (i, line) in text.lines().enumerate() {
        let k: u64 = line
            .strip_prefix("{\"n\":")
            .and_then(|r| r.strip_suffix('}'))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("line {} is not {{\"n\":K}}: {line:?}", i + 1));
        assert_eq!(line, format!("{{\"n\":{k}}}"), "line {}", i + 1);
        seen.push(k);
    }
    assert_eq!(seen.len() as u64, acked, "one line per acknowledged record, none twice");
    seen.sort_unstable();
    if let Some((i, v)) = seen.iter().enumerate().find(|(i, v)| **v != *i as u64) {
        panic!("n values are not exactly 0..{acked}: sorted index {i} holds {v}");
    }
}

// ---------------------------------------------------------------------------------------------
// a real Fluent Bit (FLUENT_BIT_BIN)

/// Fluent Bit with gdummy (50 records/s, then `input` keys) into gstdout (`props`), then the
/// command-line `service` options, started with stdout piped.
fn real_fluent_bit(fb: &str, input: &[&str], props: &[&str], service: &[&str]) -> Running {
    let mut args: Vec<String> = vec!["-e".into(), s(&rust_plugin("in-gdummy", "in_gdummy")), "-e".into(), gstdout()];
    args.extend(["-i", "gdummy", "-p", "rate=50"].map(String::from));
    for kv in input {
        args.extend(["-p".to_string(), (*kv).to_string()]);
    }
    args.extend(["-o", "gstdout", "-m", "*"].map(String::from));
    for kv in props {
        args.extend(["-p".to_string(), (*kv).to_string()]);
    }
    args.extend(service.iter().map(|x| x.to_string()));
    spawn(&PathBuf::from(fb), &args, &[("FLUENT_BIT_VERSION", "5.1.1")])
}

fn sigterm(child: &Child) {
    let pid = libc::pid_t::try_from(child.id()).expect("pid fits");
    // SAFETY: kill(2) on our child, not yet reaped.
    unsafe { libc::kill(pid, libc::SIGTERM) };
}

fn assert_no_crash(stderr: &str) {
    for bad in ["SIGSEGV", "SIGABRT", "SIGBUS", "SIGPIPE", "Aborted", "panicked"] {
        assert!(!stderr.contains(bad), "{bad}:\n{stderr}");
    }
}

/// Real Fluent Bit, stdout closed by its reader: it keeps running (no SIGPIPE death), gstdout
/// says so in one error line, and SIGTERM ends it with exit code 0.
#[test]
fn real_fluent_bit_closed_stdout_one_line_no_crash() {
    let Some(fb) = flb_host::fluent_bit_bin() else { return };
    let mut run = real_fluent_bit(&fb, &[], &[], &["-f", "0.2"]);
    let mut out = run.child.stdout.take().expect("piped stdout");
    let mut first = [0u8; 8];
    out.read_exact(&mut first).expect("gstdout printed something before the reader left");
    drop(out);
    let line = run.wait_line("stdout is closed (EPIPE)", Duration::from_secs(60));
    // flushes keep failing for a while: still one line
    std::thread::sleep(Duration::from_secs(2));
    assert!(matches!(run.child.try_wait(), Ok(None)), "Fluent Bit died after stdout closed");
    sigterm(&run.child);
    let (status, stderr) = run.finish(Duration::from_secs(60));
    assert!(line.is_some(), "no EPIPE line from gstdout:\n{stderr}");
    let st = status.unwrap_or_else(|| panic!("Fluent Bit did not stop on SIGTERM:\n{stderr}"));
    assert_eq!((st.code(), st.signal()), (Some(0), None), "{stderr}");
    assert_eq!(epipe_lines(&stderr).len(), 1, "one line for the closed state:\n{stderr}");
    assert_no_crash(&stderr);
}

/// Real Fluent Bit, stdout stalled: gstdout's write gives up after `write_timeout`, the chunks
/// go back to Fluent Bit's retry scheduler (no retry limit here), and once the reader reads
/// again every one of gdummy's 200 records is printed exactly once, as whole JSON lines.
#[test]
fn real_fluent_bit_stalled_stdout_every_record_once() {
    let Some(fb) = flb_host::fluent_bit_bin() else { return };
    // records large enough that a few seconds of them fill the pipe
    let big = format!("dummy={{\"pad\":\"{}\"}}", "x".repeat(2000));
    let props = ["format=json_lines", "write_timeout=0.5s", "retry_limit=no_limits", "workers=2"];
    let mut run = real_fluent_bit(&fb, &["samples=200", &big], &props, &["-f", "0.2"]);
    let out = run.child.stdout.take().expect("piped stdout");
    let stalled = run.wait_line("stdout is stalled", Duration::from_secs(60));
    std::thread::sleep(Duration::from_secs(1));
    let reader = std::thread::spawn(move || {
        let mut out = out;
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    // all 200 records out: 200 lines (the reader has them once Fluent Bit exits)
    let recovered = run.wait_line("stdout takes writes again", Duration::from_secs(60));
    // retries are scheduled seconds apart: give them time, then stop (the grace period flushes
    // what is still pending)
    std::thread::sleep(Duration::from_secs(8));
    sigterm(&run.child);
    let (status, stderr) = run.finish(Duration::from_secs(60));
    let stdout = reader.join().expect("stdout reader");
    assert!(stalled.is_some(), "gstdout never reported the stall:\n{stderr}");
    assert!(recovered.is_some(), "gstdout never reported the recovery:\n{stderr}");
    let st = status.unwrap_or_else(|| panic!("Fluent Bit did not stop on SIGTERM:\n{stderr}"));
    assert_eq!(st.code(), Some(0), "{stderr}");
    assert_no_crash(&stderr);
    let text = String::from_utf8(stdout).expect("UTF-8");
    let mut dates = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("line {} is not JSON ({e}): {line:.80}", i + 1));
        dates.push(v["date"].to_string());
    }
    let n = dates.len();
    dates.sort();
    dates.dedup();
    assert_eq!(dates.len(), n, "a record printed twice:\n{stderr}");
    assert_eq!(n, 200, "every record once:\n{stderr}");
    let retries = stderr.lines().filter(|l| l.contains("retry in")).count();
    assert!(retries > 0, "Fluent Bit scheduled no retry:\n{stderr}");
    println!("200 records once each; Fluent Bit scheduled {retries} retries");
}

/// Real Fluent Bit, nobody ever reads stdout: SIGTERM still ends it (exit code 0) within its
/// grace period and a `write_timeout` or two.
#[test]
fn real_fluent_bit_stalled_stdout_does_not_hang_the_shutdown() {
    let Some(fb) = flb_host::fluent_bit_bin() else { return };
    let big = format!("dummy={{\"pad\":\"{}\"}}", "x".repeat(2000));
    let props = ["format=json_lines", "write_timeout=1s", "workers=2"];
    let mut run = real_fluent_bit(&fb, &[&big], &props, &["-f", "0.2"]);
    let out = run.child.stdout.take().expect("piped stdout");
    let stalled = run.wait_line("stdout is stalled", Duration::from_secs(60));
    sigterm(&run.child);
    let (status, stderr) = run.finish(Duration::from_secs(60));
    drop(out);
    assert!(stalled.is_some(), "the pipe never filled:\n{stderr}");
    let st = status.unwrap_or_else(|| panic!("Fluent Bit hung on SIGTERM behind the stalled stdout:\n{stderr}"));
    assert_eq!(st.code(), Some(0), "{stderr}");
    assert_no_crash(&stderr);
}
