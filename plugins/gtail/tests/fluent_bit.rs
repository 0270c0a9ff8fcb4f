//! Optional: gtail in a real Fluent Bit (`FLUENT_BIT_BIN`, e.g. a 5.1.1 built outside the checkout),
//! next to the native `tail`: per-file tags identical to native's and routed by `Match`, rename
//! rotation under load, restart with `db` after a clean stop, the offset database shared with the
//! native tail in both directions, and a stop while a `multiline.parser` join waits. Records are
//! read from the native `stdout` output (`[N] tag: [[time, {}], {"log"=>"seq=N ..."}]`), so nothing
//! of ours sits between. Prints `skipped` when the variable is unset.

mod common;

use common::{assert_each_once, fb, gtail_so, spawn_fluent_bit, TempDir};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

fn logs_dir(name: &str) -> TempDir {
    let d = TempDir::new(&format!("fb-{name}"));
    std::fs::create_dir_all(d.path().join("logs")).expect("logs dir");
    d
}

/// A running Fluent Bit whose stdout goes to a file.
struct Fb {
    child: Child,
    out: PathBuf,
}

impl Fb {
    fn start(fb: &str, args: &[&str], out: PathBuf) -> Fb {
        // Every run here (the reloads included) has the host check and copy gtail's keys.
        let child = spawn_fluent_bit(fb, args, &out);
        Fb { child, out }
    }

    fn records(&self) -> Vec<(String, u64)> {
        parse(&std::fs::read_to_string(&self.out).unwrap_or_default())
    }

    /// Waits until `n` records arrived (or 60 s), then a quiet second.
    fn wait_for(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline && self.records().len() < n {
            std::thread::sleep(Duration::from_millis(200));
        }
        std::thread::sleep(Duration::from_millis(1500));
    }

    /// SIGTERM, then the records and stderr.
    fn stop(self) -> (Vec<(String, u64)>, String) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let o = self.child.wait_with_output().expect("wait fluent-bit");
        let text = std::fs::read_to_string(&self.out).unwrap_or_default();
        (parse(&text), String::from_utf8_lossy(&o.stderr).into_owned())
    }
}

/// (tag, seq) per record of the native stdout output.
fn parse(text: &str) -> Vec<(String, u64)> {
    text.lines()
        .filter_map(|l| {
            let (head, rest) = l.split_once(": [[")?;
            let tag = head.split_once("] ")?.1.to_string();
            let seq = rest.split_once("seq=")?.1.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()?;
            Some((tag, seq))
        })
        .collect()
}

fn append(path: &Path, seqs: std::ops::Range<u64>) {
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).expect("open log");
    let mut buf = Vec::new();
    for n in seqs {
        writeln!(buf, "seq={n} some text to make the line a little longer").expect("format");
    }
    f.write_all(&buf).expect("write log");
}

fn assert_exactly(records: &[(String, u64)], want: std::ops::Range<u64>, ctx: &str) {
    let seqs: Vec<u64> = records.iter().map(|(_, n)| *n).collect();
    assert_each_once(&seqs, want, ctx);
}

fn tail_args<'a>(so: &'a str, name: &'a str, path: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec!["-e", so, "-i", name, "-p", path, "-p", "read_from_head=on"];
    a.extend_from_slice(extra);
    a
}

#[test]
fn tags_are_the_native_tails_and_route_by_match() {
    let Some(fb) = fb() else { return };
    let d = logs_dir("tags");
    append(&d.path().join("logs/a.log"), 0..100);
    append(&d.path().join("logs/b.log"), 100..250);
    let so = gtail_so();
    let path = format!("path={}", d.file("logs/*.log"));
    let mut by_plugin = BTreeMap::new();
    for name in ["gtail", "tail"] {
        let mut args = tail_args(&so, name, &path, &["-t", "app.*", "-o", "stdout", "-m", "app.*", "-f", "1"]);
        if name == "tail" {
            args.drain(0..2);
        }
        let run = Fb::start(&fb, &args, d.path().join(format!("{name}.out")));
        run.wait_for(250);
        let (recs, err) = run.stop();
        let mut tags: BTreeMap<String, usize> = BTreeMap::new();
        for (t, _) in &recs {
            *tags.entry(t.clone()).or_default() += 1;
        }
        assert_exactly(&recs, 0..250, &format!("{name}: {err}"));
        by_plugin.insert(name, tags);
    }
    let a = format!("app{}", d.file("logs/a.log").replace('/', "."));
    assert_eq!(by_plugin["gtail"].get(&a), Some(&100), "{:?}", by_plugin["gtail"]);
    assert_eq!(by_plugin["gtail"], by_plugin["tail"], "gtail's tags and counts against the native tail's");

    // Match picks one file's tag: only its records arrive.
    let args = tail_args(&so, "gtail", &path, &["-t", "app.*", "-o", "stdout", "-m", "*.b.log", "-f", "1"]);
    let run = Fb::start(&fb, &args, d.path().join("match.out"));
    run.wait_for(150);
    let (recs, err) = run.stop();
    assert_exactly(&recs, 100..250, &format!("Match *.b.log: {err}"));
}

#[test]
fn rename_rotation_under_load_loses_nothing() {
    let Some(fb) = fb() else { return };
    let d = logs_dir("rotation");
    let log = d.path().join("logs/app.log");
    append(&log, 0..1);
    let so = gtail_so();
    let path = format!("path={}", log.display());
    let args = tail_args(&so, "gtail", &path, &["-p", "refresh_interval=1", "-o", "stdout", "-m", "*", "-f", "1"]);
    let run = Fb::start(&fb, &args, d.path().join("out"));
    std::thread::sleep(Duration::from_secs(1));
    const TOTAL: u64 = 300_000;
    const EVERY: u64 = 30_000;
    let mut n = 1;
    let mut rotation = 0;
    while n < TOTAL {
        let end = (n + 1000).min(TOTAL);
        append(&log, n..end);
        n = end;
        if n % EVERY == 0 && n < TOTAL {
            rotation += 1;
            std::fs::rename(&log, d.path().join(format!("logs/app.log.{rotation}"))).expect("rotate");
            append(&log, n..n); // the writer reopens: a new, empty file at the path
        }
    }
    run.wait_for(TOTAL as usize);
    let (recs, err) = run.stop();
    assert_exactly(&recs, 0..TOTAL, &format!("{rotation} rotations: {err}"));
}

#[test]
fn restart_with_db_after_a_clean_stop_repeats_and_loses_nothing() {
    let Some(fb) = fb() else { return };
    let d = logs_dir("restart");
    let log = d.path().join("logs/app.log");
    append(&log, 0..5000);
    let so = gtail_so();
    let (path, db) = (format!("path={}", log.display()), format!("db={}", d.file("gtail.db")));
    let args = tail_args(&so, "gtail", &path, &["-p", &db, "-o", "stdout", "-m", "*", "-f", "1"]);
    let first = Fb::start(&fb, &args, d.path().join("out1"));
    first.wait_for(5000);
    append(&log, 5000..6000);
    first.wait_for(6000);
    let (recs1, err1) = first.stop();
    assert_exactly(&recs1, 0..6000, &format!("first run: {err1}"));
    append(&log, 6000..9000);
    let second = Fb::start(&fb, &args, d.path().join("out2"));
    second.wait_for(3000);
    let (recs2, err2) = second.stop();
    assert_exactly(&recs2, 6000..9000, &format!("second run resumes where the first stopped: {err2}"));
}

#[test]
fn the_native_tail_and_gtail_take_over_each_others_db() {
    let Some(fb) = fb() else { return };
    let d = logs_dir("shared-db");
    let log = d.path().join("logs/app.log");
    append(&log, 0..2000);
    let so = gtail_so();
    let (path, db) = (format!("path={}", log.display()), format!("db={}", d.file("tail.db")));
    let native_args =
        ["-i", "tail", "-p", &path, "-p", "read_from_head=on", "-p", &db, "-o", "stdout", "-m", "*", "-f", "1"];
    let gtail_args = tail_args(&so, "gtail", &path, &["-p", &db, "-o", "stdout", "-m", "*", "-f", "1"]);

    // native, then gtail, then native again: each resumes where the other stopped.
    let run = Fb::start(&fb, &native_args, d.path().join("out1"));
    run.wait_for(2000);
    let (recs, err) = run.stop();
    assert_exactly(&recs, 0..2000, &format!("native first: {err}"));
    append(&log, 2000..3000);
    let run = Fb::start(&fb, &gtail_args, d.path().join("out2"));
    run.wait_for(1000);
    let (recs, err) = run.stop();
    assert_exactly(&recs, 2000..3000, &format!("gtail resumes the native db: {err}"));
    append(&log, 3000..3500);
    let run = Fb::start(&fb, &native_args, d.path().join("out3"));
    run.wait_for(500);
    let (recs, err) = run.stop();
    assert_exactly(&recs, 3000..3500, &format!("native resumes gtail's db: {err}"));

    // The same path, now another file of the same size class: the marker does not match, gtail
    // reads it from its start.
    std::fs::remove_file(&log).expect("rm");
    append(&log, 10_000..13_600);
    let run = Fb::start(&fb, &gtail_args, d.path().join("out4"));
    run.wait_for(3600);
    let (recs, err) = run.stop();
    assert_exactly(&recs, 10_000..13_600, &format!("a replaced file is read from 0: {err}"));
}

#[test]
fn hot_reloads_with_db_lose_and_repeat_nothing() {
    let Some(fb) = fb() else { return };
    let d = logs_dir("reload");
    let log = d.path().join("logs/app.log");
    append(&log, 0..20_000);
    let so = gtail_so();
    let (path, db) = (format!("path={}", log.display()), format!("db={}", d.file("gtail.db")));
    let mut args = vec!["-Y"];
    args.extend(tail_args(&so, "gtail", &path, &["-p", &db, "-o", "stdout", "-m", "*", "-f", "1"]));
    let run = Fb::start(&fb, &args, d.path().join("out"));
    run.wait_for(20_000);
    for (k, range) in [(1, 20_000..30_000), (2, 30_000..40_000)] {
        append(&log, range);
        let _ = Command::new("kill").args(["-HUP", &run.child.id().to_string()]).status();
        run.wait_for(20_000 + 10_000 * k);
    }
    let (recs, err) = run.stop();
    assert!(err.matches("successful reload done").count() == 2, "two reloads: {err}");
    assert_exactly(&recs, 0..40_000, &format!("across two hot reloads (SIGHUP): {err}"));
}

/// `Mem_Buf_Limit`, the memory bound a Fluent Bit user sets on an input: gtail reads far faster than
/// the output flushes, so Fluent Bit pauses it (and refuses its appends) over and over; every line
/// still arrives exactly once, as with the native tail.
#[test]
fn mem_buf_limit_pauses_gtail_and_loses_nothing() {
    let Some(fb) = fb() else { return };
    let d = logs_dir("membuf");
    const TOTAL: u64 = 300_000;
    append(&d.path().join("logs/big.log"), 0..TOTAL);
    let so = gtail_so();
    let path = format!("path={}", d.file("logs/big.log"));
    let args = tail_args(&so, "gtail", &path, &["-p", "mem_buf_limit=1M", "-o", "stdout", "-m", "*", "-f", "1"]);
    let run = Fb::start(&fb, &args, d.path().join("out"));
    run.wait_for(TOTAL as usize);
    let (recs, err) = run.stop();
    assert_exactly(&recs, 0..TOTAL, &format!("mem_buf_limit 1M: {err}"));
    assert!(err.contains("gtail.0 paused (mem buf overlimit"), "the limit was never reached:\n{err}");
    assert!(!err.contains("[error]"), "{err}");
}

/// `multiline.parser cri` with `db`: Fluent Bit stopped while a join waits for its `F` part stops
/// cleanly (native 5.1.1's tail crashes there: README, container logs), and the next start reads
/// the join again from its first part and emits it whole, once, repeating nothing before it.
#[test]
fn a_stop_mid_join_is_clean_and_the_next_start_emits_the_join_whole() {
    let Some(fb) = fb() else { return };
    let d = logs_dir("ml-stop");
    let log = d.path().join("logs/c.log");
    let cri = |p: &str, text: &str| format!("2024-03-05T06:07:08.5Z stdout {p} {text}\n");
    let mut text: String = (0..100).map(|n| cri("F", &format!("seq={n} whole"))).collect();
    text.push_str(&cri("P", "seq=100 part-a "));
    std::fs::write(&log, text).expect("write log");
    let so = gtail_so();
    let (path, db) = (format!("path={}", log.display()), format!("db={}", d.file("gtail.db")));
    let extra = [
        "-p",
        &db,
        "-p",
        "multiline.parser=cri",
        "-p",
        "multiline.flush_ms=3600000",
        "-o",
        "stdout",
        "-m",
        "*",
        "-f",
        "1",
    ];
    let args = tail_args(&so, "gtail", &path, &extra);
    let first = Fb::start(&fb, &args, d.path().join("out1"));
    first.wait_for(100);
    let (recs1, err1) = first.stop();
    assert!(!err1.contains("caught signal (SIGSEGV)") && !err1.contains("panicked"), "{err1}");
    assert_exactly(&recs1, 0..100, &format!("the P part waits: {err1}"));
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).expect("open log");
    f.write_all(cri("F", "part-b").as_bytes()).expect("append");
    let second = Fb::start(&fb, &args, d.path().join("out2"));
    second.wait_for(1);
    let (recs2, err2) = second.stop();
    assert_exactly(&recs2, 100..101, &format!("the join once, nothing before it: {err2}"));
    let out2 = std::fs::read_to_string(d.path().join("out2")).unwrap_or_default();
    assert!(out2.contains("\"_p\"=>\"P\", \"log\"=>\"seq=100 part-a part-b\""), "{out2}");
}
