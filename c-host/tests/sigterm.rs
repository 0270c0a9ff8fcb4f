//! SIGTERM at every stage of start-up and of the first collect and flush (`--sigterm-at STAGE`):
//! the C tracer plugins show the shutdown calls exactly what was started, once each, in Fluent
//! Bit's order; our three plugins (gdummy, gstdout, gtail with a db) end with exit code 0, nothing
//! of theirs left allocated (malloc accounting, and the ASan/UBSan host), and gtail's offsets
//! lose and repeat nothing across a restart. With `FLUENT_BIT_BIN`, a real Fluent Bit running
//! our plugins gets SIGTERM at several delays from its start and always exits cleanly.

use flb_host::{
    arg_refs, field, host_bin, run_asan, run_with, rust_plugin, s, sanitizer_report, scratch_dir, summary_fields,
    tracer_dir, Run,
};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

const STAGES: &[&str] =
    &["after-load", "register", "init-first", "init-later", "prerun", "started", "collect", "flush"];

/// Generous: a SIGTERM run ends long before (it stops at the signal, not at `--duration`).
const TIMEOUT: Duration = Duration::from_secs(120);

fn term_run(bin: &Path, args: &[String], stage: &str) -> Run {
    let mut a = args.to_vec();
    a.extend(["--sigterm-at".into(), stage.into(), "--duration".into(), "60".into()]);
    if bin == host_bin() {
        run_with(bin, &arg_refs(&a), &[], TIMEOUT)
    } else {
        run_asan(&arg_refs(&a), &[], TIMEOUT)
    }
}

/// What every SIGTERM run must show: the signal sent at its stage and taken, exit code 0, the
/// summary of a normal end, no panic, no sanitizer report and (normal host) nothing of the
/// plugins' memory left.
fn assert_clean_stop(run: &Run, stage: &str, what: &str) {
    let ctx = || format!("{what} --sigterm-at {stage}:\n{}", run.all());
    assert!(!run.timed_out, "hung: {}", ctx());
    assert_eq!(run.code, Some(0), "{}", ctx());
    assert!(run.stderr.contains(&format!("flb-host: --sigterm-at {stage}: sending SIGTERM")), "{}", ctx());
    assert!(run.stderr.contains("received SIGTERM, shutting down"), "{}", ctx());
    assert!(run.stderr.contains("flb-host: summary:"), "{}", ctx());
    assert!(!run.stderr.contains("panicked"), "{}", ctx());
    assert_eq!(sanitizer_report(&run.stderr), None, "{}", ctx());
    let all = summary_fields(&run.stderr, "all:");
    if all.contains_key("live_bytes") {
        assert_eq!(field(&all, "live_bytes"), 0, "{}", ctx());
    }
}

// ---------------------------------------------------------------------------------------------
// the tracer plugins: which callbacks, how often, in which order

/// The callbacks of one plugin in a tracer run, in order, names only.
fn calls(stderr: &str, plugin: &str) -> Vec<String> {
    let tag = format!("[{plugin}] FLBPlugin");
    stderr
        .lines()
        .filter_map(|l| l.find(&tag).map(|i| &l[i + tag.len()..]))
        .map(|c| c.split([' ', '(']).next().unwrap_or("").to_string())
        .collect()
}

fn count(v: &[String], name: &str) -> usize {
    v.iter().filter(|c| *c == name).count()
}

fn pos(v: &[String], name: &str) -> usize {
    v.iter().position(|c| c == name).unwrap_or(usize::MAX)
}

#[test]
fn tracers_exit_what_started_at_every_stage() {
    let d = tracer_dir();
    let (i, o) = (s(&d.join("in_ctest.so")), s(&d.join("out_ctest.so")));
    let args: Vec<String> = ["-e", &i, "-e", &o, "-i", "cin", "-t", "c", "-o", "ctest", "-m", "c"]
        .iter()
        .map(|x| x.to_string())
        .chain(["--interval", "0.1", "--flush", "0.1"].map(String::from))
        .collect();
    for stage in STAGES {
        let run = term_run(&host_bin(), &args, stage);
        assert_clean_stop(&run, stage, "tracers");
        for plugin in ["in_ctest", "out_ctest"] {
            let c = calls(&run.stderr, plugin);
            let ctx = || format!("--sigterm-at {stage}, {plugin}: {c:?}\n{}", run.all());
            for once in ["Register", "Init", "Exit", "Unregister"] {
                assert_eq!(count(&c, once), 1, "{once}: {}", ctx());
            }
            let pre = if plugin == "in_ctest" { "InputPreExit" } else { "OutputPreExit" };
            assert_eq!(count(&c, pre), 1, "{}", ctx());
            assert!(pos(&c, "Register") < pos(&c, "Init"), "{}", ctx());
            assert!(pos(&c, "Init") < pos(&c, pre) && pos(&c, pre) < pos(&c, "Exit"), "{}", ctx());
            assert_eq!(c.last().map(String::as_str), Some("Unregister"), "nothing after Unregister: {}", ctx());
        }
        // Fluent Bit's order: outputs exit before inputs
        let out_exit = run.stderr.find("[out_ctest] FLBPluginExit").unwrap_or(usize::MAX);
        let in_exit = run.stderr.find("[in_ctest] FLBPluginExit").unwrap_or(0);
        assert!(out_exit < in_exit, "--sigterm-at {stage}: the output exits first:\n{}", run.all());
        // what was collected before the signal reached the output
        let inp = summary_fields(&run.stderr, "cin.0");
        let out = summary_fields(&run.stderr, "ctest.0");
        assert_eq!(field(&out, "records_ok"), field(&inp, "records"), "--sigterm-at {stage}:\n{}", run.all());
    }
}

// ---------------------------------------------------------------------------------------------
// our plugins

fn gdummy_gstdout() -> Vec<String> {
    let (i, o) = (s(&rust_plugin("in-gdummy", "in_gdummy")), s(&rust_plugin("out-gstdout", "out_gstdout")));
    ["-e", &i, "-e", &o, "-i", "gdummy", "-p", "rate=20", "-t", "d", "-o", "gstdout", "-m", "d", "-p"]
        .iter()
        .map(|x| x.to_string())
        .chain(["format=json_lines", "--interval", "0.05", "--flush", "0.05"].map(String::from))
        .collect()
}

fn gtail_gstdout(log: &Path, db: &Path) -> Vec<String> {
    let (i, o) = (s(&rust_plugin("in-gtail", "in_gtail")), s(&rust_plugin("out-gstdout", "out_gstdout")));
    let mut a: Vec<String> = ["-e", &i, "-e", &o, "-i", "gtail", "-t", "f"].iter().map(|x| x.to_string()).collect();
    for kv in [format!("path={}", log.display()), format!("db={}", db.display()), "read_from_head=on".into()] {
        a.extend(["-p".to_string(), kv]);
    }
    a.extend(
        ["-o", "gstdout", "-m", "f", "-p", "format=json_lines", "-p", "json_date_key=false", "--interval", "0.1"]
            .map(String::from),
    );
    a.extend(["--flush", "0.1"].map(String::from));
    a
}

/// `line=K` of each record gstdout printed, in order.
fn tail_lines(stdout: &str) -> Vec<u64> {
    stdout.lines().filter_map(|l| l.split_once("\"log\":\"line=")?.1.split('"').next()?.parse().ok()).collect()
}

const LINES: u64 = 2_000;

fn write_log(path: &Path) {
    let text: String = (0..LINES).map(|k| format!("line={k}\n")).collect();
    std::fs::write(path, text).expect("write the log");
}

/// gdummy into gstdout, at every stage, through both hosts.
#[test]
fn gdummy_gstdout_stop_cleanly_at_every_stage() {
    for stage in STAGES {
        for bin in [host_bin(), flb_host::host_asan_bin()] {
            let run = term_run(&bin, &gdummy_gstdout(), stage);
            assert_clean_stop(&run, stage, &format!("gdummy -> gstdout ({})", bin.display()));
            let inp = summary_fields(&run.stderr, "gdummy.0");
            let out = summary_fields(&run.stderr, "gstdout.0");
            assert_eq!(field(&out, "records_ok"), field(&inp, "records"), "--sigterm-at {stage}:\n{}", run.all());
            assert_eq!(run.stdout.lines().count() as u64, field(&inp, "records"), "{}", run.all());
        }
    }
}

/// gtail with a db into gstdout, at every stage, through both hosts: the run stopped by SIGTERM
/// printed some prefix of the file (each line once), and a second run on the same db prints
/// exactly the rest: nothing lost, nothing twice.
#[test]
fn gtail_db_stops_cleanly_and_resumes_exactly_at_every_stage() {
    let dir = scratch_dir("sigterm-gtail");
    for stage in STAGES {
        for (n, bin) in [host_bin(), flb_host::host_asan_bin()].into_iter().enumerate() {
            let (log, db) = (dir.join(format!("{stage}-{n}.log")), dir.join(format!("{stage}-{n}.db")));
            let _ = std::fs::remove_file(&db);
            write_log(&log);
            let args = gtail_gstdout(&log, &db);
            let run = term_run(&bin, &args, stage);
            let what = format!("gtail -> gstdout ({})", bin.display());
            assert_clean_stop(&run, stage, &what);
            let first = tail_lines(&run.stdout);
            let inp = summary_fields(&run.stderr, "gtail.0");
            assert_eq!(first.len() as u64, field(&inp, "records"), "{}", run.all());
            assert!(first.iter().enumerate().all(|(i, k)| *k == i as u64), "a prefix, once each: {}", run.all());

            let rest = LINES - first.len() as u64;
            let mut a = args.clone();
            if rest > 0 {
                a.extend(["--max-records".into(), rest.to_string(), "--duration".into(), "60".into()]);
            } else {
                a.extend(["--duration".into(), "1".into()]);
            }
            let again = run_with(&host_bin(), &arg_refs(&a), &[], TIMEOUT);
            assert_eq!(again.code, Some(0), "the restart after --sigterm-at {stage}:\n{}", again.all());
            let second = tail_lines(&again.stdout);
            let want: Vec<u64> = (first.len() as u64..LINES).collect();
            assert_eq!(
                second,
                want,
                "the restart after --sigterm-at {stage} prints exactly the rest:\n{}",
                again.all()
            );
            assert_eq!(field(&summary_fields(&again.stderr, "all:"), "live_bytes"), 0, "{}", again.all());
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unknown_stage_is_a_usage_error() {
    let run = run_with(&host_bin(), &["--sigterm-at", "lunch", "-i", "x"], &[], TIMEOUT);
    assert_ne!(run.code, Some(0), "{}", run.all());
    assert!(run.stderr.contains("invalid --sigterm-at 'lunch' (after-load, register,"), "{}", run.all());
}

// ---------------------------------------------------------------------------------------------
// a real Fluent Bit

/// A real Fluent Bit with our three plugins (gdummy and gtail with a db into gstdout) gets
/// SIGTERM at 0 ms, 5 ms, ... 1.5 s after its start: it always ends by itself within the grace
/// period, with exit code 0 or (a signal before Fluent Bit installed its handler) killed by that
/// SIGTERM, never by another signal, and no crash or abort message. The runs share gtail's db: with
/// a last run to the end of the file, every line is printed exactly once across all of them.
#[test]
fn real_fluent_bit_exits_cleanly_on_sigterm_at_any_delay() {
    use std::os::unix::process::ExitStatusExt;
    let Some(fb) = flb_host::fluent_bit_bin() else { return };
    let dir = scratch_dir("sigterm-real");
    let (log, db) = (dir.join("app.log"), dir.join("tail.db"));
    write_log(&log);
    let conf = format!(
        "[SERVICE]\n    Flush 0.2\n    Grace 5\n    Log_Level info\n\
         [INPUT]\n    Name gdummy\n    Tag d\n    Rate 20\n\
         [INPUT]\n    Name gtail\n    Tag f\n    Path {}\n    DB {}\n    Read_From_Head on\n\
         [OUTPUT]\n    Name gstdout\n    Match *\n    Format json_lines\n",
        log.display(),
        db.display()
    );
    let conf_path = dir.join("fluent-bit.conf");
    std::fs::write(&conf_path, conf).expect("config");
    let libs: Vec<String> = [("in-gdummy", "in_gdummy"), ("out-gstdout", "out_gstdout"), ("in-gtail", "in_gtail")]
        .iter()
        .flat_map(|(p, l)| ["-e".to_string(), s(&rust_plugin(p, l))])
        .collect();
    let mut report: BTreeMap<u64, String> = BTreeMap::new();
    let mut tailed: Vec<u64> = Vec::new();
    for delay_ms in [0u64, 5, 20, 50, 100, 200, 400, 800, 1500] {
        let out_path = dir.join(format!("out-{delay_ms}"));
        let err_path = dir.join(format!("err-{delay_ms}"));
        let mut child = std::process::Command::new(&fb)
            .args(&libs)
            .arg("-c")
            .arg(&conf_path)
            .env("FLUENT_BIT_VERSION", "5.1.1")
            .stdin(std::process::Stdio::null())
            .stdout(std::fs::File::create(&out_path).expect("stdout file"))
            .stderr(std::fs::File::create(&err_path).expect("stderr file"))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {fb}: {e}"));
        std::thread::sleep(Duration::from_millis(delay_ms));
        let pid = libc::pid_t::try_from(child.id()).expect("pid fits");
        // SAFETY: kill(2) on the child we started and have not reaped.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let start = std::time::Instant::now();
        let status = loop {
            if let Ok(Some(st)) = child.try_wait() {
                break Some(st);
            }
            if start.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let err = std::fs::read_to_string(&err_path).unwrap_or_default();
        let ctx = || format!("SIGTERM {delay_ms} ms after start: {status:?}\n{err}");
        let st = status.unwrap_or_else(|| panic!("did not stop within 60 s: {}", ctx()));
        assert!(st.code() == Some(0) || st.signal() == Some(libc::SIGTERM), "{}", ctx());
        for bad in ["SIGSEGV", "SIGABRT", "SIGBUS", "SIGFPE", "Aborted", "panicked", "double free", "corrupted"] {
            assert!(!err.contains(bad), "{bad}: {}", ctx());
        }
        report.insert(delay_ms, format!("{:?}/{:?}", st.code(), st.signal()));
        tailed.extend(tail_lines(&std::fs::read_to_string(&out_path).unwrap_or_default()));
    }
    println!("exit (code/signal) per SIGTERM delay in ms: {report:?}");
    // every run shared the db: a last run to the end of the file, then each line exactly once
    let conf_arg = s(&conf_path);
    let args: Vec<&str> = libs.iter().map(String::as_str).chain(["-c", conf_arg.as_str()]).collect();
    let last = flb_host::run_then_term(&fb, &args, &[("FLUENT_BIT_VERSION", "5.1.1")], None, Duration::from_secs(4));
    assert_eq!(last.code, Some(0), "the last run: {}", last.stderr);
    tailed.extend(tail_lines(&last.stdout));
    let n = tailed.len();
    tailed.sort_unstable();
    tailed.dedup();
    assert_eq!(tailed.len(), n, "a line printed twice across the SIGTERM runs");
    assert_eq!(tailed, (0..LINES).collect::<Vec<_>>(), "every line once across the SIGTERM runs and the last one");
    let _ = std::fs::remove_dir_all(&dir);
}
