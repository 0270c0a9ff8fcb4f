//! gtail's fault surface, through flb-host: the disk under the db fills while lines flow; files
//! vanish between the directory listing and the stat, between the stat and the open, and after the
//! open; files come and go by the hundred while gtail scans; a db file that is not a database.
//!
//! Races that happen by chance in production are made to happen every time by a small LD_PRELOAD
//! shim (`fault_shim.c`, built here with `cc`) loaded into flb-host; a full disk is a real tmpfs
//! that fills when the machine lets the test mount one (root, outside a container), else the same
//! shim failing the db's writes with ENOSPC. Each test says on stdout which way it ran.

mod common;

use common::{gstdout_so, gtail_so, open_files, TempDir, PATIENCE};
use flb_host::{host_bin, missing_tool, s};
use rusqlite::{Connection, OpenFlags};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Every line is `seq=NNNNNNNN padding padding padding\n`: one length, so a line count is an offset.
fn line(n: u64) -> String {
    format!("seq={n:08} padding padding padding\n")
}

const LINE: u64 = 37;

#[test]
fn every_line_is_line_bytes_long() {
    assert_eq!(line(0).len() as u64, LINE);
    assert_eq!(line(99_999_999).len() as u64, LINE);
}

fn append(path: &Path, seqs: std::ops::Range<u64>) {
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).expect("open log");
    let buf: String = seqs.map(line).collect();
    f.write_all(buf.as_bytes()).expect("write log");
}

/// Puts a whole file at `path` at once (written under a hidden name, then renamed), so gtail never
/// finds it before its lines are in it.
fn put(path: &Path, seqs: std::ops::Range<u64>) {
    let name = path.file_name().and_then(|n| n.to_str()).expect("name");
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    append(&tmp, seqs);
    std::fs::rename(&tmp, path).expect("rename");
}

/// The fault shim, built once per test binary; None when there is no C compiler.
fn shim() -> Option<PathBuf> {
    static SHIM: OnceLock<Option<PathBuf>> = OnceLock::new();
    SHIM.get_or_init(|| {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fault_shim.c");
        let out = std::env::temp_dir().join(format!("gtail-fault-shim-{}.so", std::process::id()));
        let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
        let st = Command::new(&cc)
            .args(["-shared", "-fPIC", "-O1", "-Wall", "-Werror", "-o"])
            .arg(&out)
            .arg(&src)
            .arg("-ldl")
            .status();
        match st {
            Ok(st) if st.success() => Some(out),
            Ok(st) => panic!("{cc} failed to build {}: {st}", src.display()),
            Err(_) => None,
        }
    })
    .clone()
}

// ---------------------------------------------------------------------------------------------
// One flb-host run: gtail into gstdout (json_lines), stdout and stderr to files read as it runs.

struct Run {
    child: Option<Child>,
    pid: u32,
    out: PathBuf,
    err: PathBuf,
}

struct Done {
    status: Option<ExitStatus>,
    seqs: Vec<u64>,
    stderr: String,
}

impl Done {
    fn count(&self, needle: &str) -> usize {
        self.stderr.lines().filter(|l| l.contains(needle)).count()
    }

    fn assert_clean(&self) {
        assert!(self.status.is_some_and(|s| s.success()), "flb-host: {:?}\n{}", self.status, self.stderr);
        assert_eq!(self.count("panicked"), 0, "{}", self.stderr);
        let i = flb_host::summary_fields(&self.stderr, "gtail.0");
        assert_eq!(flb_host::field(&i, "errors"), 0, "{}", self.stderr);
        assert_eq!(flb_host::field(&i, "invalid"), 0, "{}", self.stderr);
    }
}

impl Run {
    fn start(dir: &Path, name: &str, props: &[String], env: &[(&str, String)], extra: &[&str]) -> Run {
        let (out, err) = (dir.join(format!("{name}.out")), dir.join(format!("{name}.err")));
        let mut args: Vec<String> =
            vec!["-e".into(), gtail_so(), "-e".into(), gstdout_so(), "-i".into(), "gtail".into()];
        for p in props {
            args.extend(["-p".to_string(), p.clone()]);
        }
        args.extend(["-o", "gstdout", "-p", "format=json_lines", "-m", "*"].map(String::from));
        args.extend(["--interval", "0.05", "--flush", "0.1", "--log-level", "debug"].map(String::from));
        args.extend(extra.iter().map(|x| x.to_string()));
        if !extra.contains(&"--duration") {
            args.extend(["--duration", "600"].map(String::from));
        }
        let mut cmd = Command::new(host_bin());
        cmd.args(&args)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).expect("out file"))
            .stderr(std::fs::File::create(&err).expect("err file"));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("flb-host");
        Run { pid: child.id(), child: Some(child), out, err }
    }

    fn seqs(&self) -> Vec<u64> {
        seqs(&std::fs::read_to_string(&self.out).unwrap_or_default())
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.err).unwrap_or_default()
    }

    fn count(&self, needle: &str) -> usize {
        self.stderr().lines().filter(|l| l.contains(needle)).count()
    }

    /// Waits until `cond` holds; panics with stderr after PATIENCE.
    fn wait(&self, what: &str, mut cond: impl FnMut(&Run) -> bool) {
        let end = Instant::now() + PATIENCE;
        while !cond(self) {
            assert!(Instant::now() < end, "timed out waiting for {what}\n{}", self.stderr());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_seqs(&self, want: std::ops::Range<u64>) {
        self.wait(&format!("seqs {want:?}"), |r| {
            let got: std::collections::HashSet<u64> = r.seqs().into_iter().collect();
            want.clone().all(|n| got.contains(&n))
        });
    }

    fn fds(&self) -> Vec<String> {
        open_files(self.pid)
    }

    fn stop(mut self) -> Done {
        // SAFETY: kill(2) on our own child's pid; no memory effects.
        unsafe {
            libc::kill(self.pid as libc::pid_t, libc::SIGTERM);
        }
        self.finish()
    }

    /// Waits for the host to exit by itself (killed after PATIENCE).
    fn finish(&mut self) -> Done {
        let mut child = self.child.take().expect("child");
        let end = Instant::now() + PATIENCE;
        let status = loop {
            match child.try_wait() {
                Ok(Some(st)) => break Some(st),
                Ok(None) if Instant::now() < end => std::thread::sleep(Duration::from_millis(20)),
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
            }
        };
        Done { status, seqs: self.seqs(), stderr: self.stderr() }
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// seqs in gstdout's json_lines output, in order.
fn seqs(text: &str) -> Vec<u64> {
    text.lines().filter_map(|l| l.split_once("\"log\":\"seq=")?.1.get(..8)?.parse().ok()).collect()
}

/// How many times each seq arrived.
fn counts(seqs: &[u64]) -> HashMap<u64, u32> {
    let mut m = HashMap::new();
    for n in seqs {
        *m.entry(*n).or_default() += 1;
    }
    m
}

/// Every seq of `want` exactly once (others may be there: checked by the caller).
fn assert_once(seqs: &[u64], want: std::ops::Range<u64>, ctx: &str) {
    let c = counts(seqs);
    let missing: Vec<u64> = want.clone().filter(|n| !c.contains_key(n)).take(8).collect();
    let repeated: Vec<(u64, u32)> =
        want.clone().filter_map(|n| c.get(&n).filter(|k| **k > 1).map(|k| (n, *k))).take(8).collect();
    assert!(
        missing.is_empty() && repeated.is_empty(),
        "{ctx}: seqs {want:?}: missing {missing:?}, repeated {repeated:?}"
    );
}

/// The db rows (name, offset), read with a connection of our own (the db is in WAL mode: readers
/// see the last commit while gtail holds it open).
fn db_rows(db: &Path) -> Vec<(String, u64)> {
    let Ok(c) = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY) else { return Vec::new() };
    let _ = c.busy_timeout(Duration::from_secs(5));
    let Ok(mut st) = c.prepare("SELECT name, offset FROM in_tail_files ORDER BY id") else { return Vec::new() };
    let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)));
    rows.map(|r| r.flatten().collect()).unwrap_or_default()
}

fn db_offset(db: &Path, name: &Path) -> Option<u64> {
    let name = s(name);
    db_rows(db).into_iter().filter(|(n, _)| *n == name).map(|(_, o)| o).next_back()
}

// ---------------------------------------------------------------------------------------------
// A full disk under the db

/// The filesystem the db lives on, made full and given space again.
enum Disk {
    /// A tmpfs mounted for the test: full = a filler file takes every free byte.
    Tmpfs { mnt: PathBuf, filler: PathBuf },
    /// The shim: full = its flag file exists (every write under `dir` then fails with ENOSPC).
    Shim { flag: PathBuf, env: Vec<(&'static str, String)> },
}

impl Disk {
    /// A tmpfs at `dir` when the machine allows a mount and GTAIL_FAULTS_FULL is not `shim`; else
    /// the shim; None when neither can be had (no mount and no C compiler).
    fn new(dir: &Path, scratch: &Path) -> Option<Disk> {
        std::fs::create_dir_all(dir).expect("mkdir");
        let forced = std::env::var("GTAIL_FAULTS_FULL").is_ok_and(|v| v == "shim");
        let mounted = if forced {
            Err("GTAIL_FAULTS_FULL=shim".to_string())
        } else {
            match Command::new("mount").args(["-t", "tmpfs", "-o", "size=2m", "gtail-full"]).arg(dir).output() {
                Ok(o) if o.status.success() => Ok(()),
                Ok(o) => Err(String::from_utf8_lossy(&o.stderr).trim().to_string()),
                Err(e) => Err(format!("mount: {e}")),
            }
        };
        match mounted {
            Ok(()) => {
                println!("full disk: a 2 MiB tmpfs mounted at {}, filled by a file", dir.display());
                Some(Disk::Tmpfs { mnt: dir.to_path_buf(), filler: dir.join("filler") })
            }
            Err(why) => {
                let so = shim()?;
                println!(
                    "full disk: injected by the LD_PRELOAD shim (ENOSPC on writes under {}); no tmpfs: {why}",
                    dir.display()
                );
                let flag = scratch.join("disk-is-full");
                let env = vec![
                    ("LD_PRELOAD", s(&so)),
                    ("FAULT_SHIM_FULL_DIR", s(dir)),
                    ("FAULT_SHIM_FULL_FLAG", s(&flag)),
                    ("FAULT_SHIM_LOG", s(&scratch.join("shim.txt"))),
                ];
                Some(Disk::Shim { flag, env })
            }
        }
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        match self {
            Disk::Tmpfs { .. } => Vec::new(),
            Disk::Shim { env, .. } => env.clone(),
        }
    }

    fn fill(&self) {
        match self {
            Disk::Tmpfs { filler, .. } => {
                let mut f = std::fs::File::create(filler).expect("filler");
                let block = vec![0xA5u8; 4096];
                loop {
                    match f.write(&block) {
                        Ok(0) => break,
                        Ok(_) => {}
                        Err(e) if e.raw_os_error() == Some(libc::ENOSPC) => break,
                        Err(e) => panic!("filling the tmpfs: {e}"),
                    }
                }
            }
            Disk::Shim { flag, .. } => std::fs::write(flag, b"").expect("flag"),
        }
    }

    fn free(&self) {
        let f = match self {
            Disk::Tmpfs { filler, .. } => filler,
            Disk::Shim { flag, .. } => flag,
        };
        std::fs::remove_file(f).expect("free the disk");
    }
}

impl Drop for Disk {
    fn drop(&mut self) {
        if let Disk::Tmpfs { mnt, .. } = self {
            let _ = Command::new("umount").arg("-l").arg(&*mnt).status();
        }
    }
}

/// What gtail says when the db can be written again.
const RECOVERED: &str = "can be written again (it could not for";

/// The disk under the db fills while lines flow, twice. Lines keep arriving, each exactly once;
/// the failure is said once per episode however many acks and retries pass, and the recovery
/// once; a file found while the disk is full gets its row once there is space; the offsets taken
/// meanwhile are saved once there is space. The second time the host stops while the disk is
/// still full: the db keeps the offsets saved before it filled, and the next start resumes there
/// exactly (it repeats the lines taken while full, skips none and repeats nothing older); a start
/// while the disk is full fails init with one line that says so.
#[test]
fn a_full_disk_under_the_db_loses_no_offset_and_is_said_once() {
    let d = TempDir::new("faults-full");
    let dbdir = d.path().join("dbfs");
    let Some(disk) = Disk::new(&dbdir, d.path()) else {
        missing_tool("mount (tmpfs) or a C compiler for the fault shim");
        return;
    };
    let (a, b, db) = (d.path().join("a.log"), d.path().join("b.log"), dbdir.join("tail.db"));
    let props = vec![
        format!("path={}/*.log", d.path().display()),
        format!("db={}", db.display()),
        "read_from_head=on".into(),
        "refresh_interval=0.5".into(),
    ];
    append(&a, 0..1000);
    let h = Run::start(d.path(), "run1", &props, &disk.env(), &[]);
    h.wait_seqs(0..1000);
    h.wait("a.log's offset at 1000 lines in the db", |_| db_offset(&db, &a) == Some(1000 * LINE));

    // Full: lines keep flowing, a new file is found and read, the failure is said once.
    disk.fill();
    for k in 0..10 {
        append(&a, 1000 + k * 200..1200 + k * 200);
        std::thread::sleep(Duration::from_millis(150));
    }
    append(&b, 100_000..100_100);
    h.wait_seqs(0..3000);
    h.wait_seqs(100_000..100_100);
    h.wait("the db failure to be said", |r| r.count("db: cannot write") >= 1);
    std::thread::sleep(Duration::from_secs(3)); // acks and retries go on
    let said = h.stderr();
    let failure: Vec<&str> = said.lines().filter(|l| l.contains("db: cannot write")).collect();
    assert_eq!(failure.len(), 1, "one line for the failure\n{said}");
    assert!(
        failure[0].contains(&s(&db)) && (failure[0].contains("disk is full") || failure[0].contains("disk full")),
        "the line names the db and why: {}",
        failure[0]
    );
    assert_eq!(said.lines().filter(|l| l.contains("tail db")).count(), 1, "no other db line\n{said}");
    assert_eq!(db_offset(&db, &a), Some(1000 * LINE), "nothing saved while full");
    assert_eq!(db_offset(&db, &b), None, "b.log has no row yet");

    // Space again: said once, and the db catches up with what was taken.
    disk.free();
    h.wait("the recovery to be said", |r| r.count(RECOVERED) >= 1);
    h.wait("a.log's offset at 3000 lines", |_| db_offset(&db, &a) == Some(3000 * LINE));
    h.wait("b.log's row at its end", |_| db_offset(&db, &b) == Some(100 * LINE));

    // Full again, and the host stops before there is space.
    disk.fill();
    append(&a, 3000..4000);
    h.wait_seqs(0..4000);
    h.wait("the second failure to be said", |r| r.count("db: cannot write") >= 2);
    let first = h.stop();
    first.assert_clean();
    assert_once(&first.seqs, 0..4000, &format!("first run\n{}", first.stderr));
    assert_once(&first.seqs, 100_000..100_100, "first run, b.log");
    assert_eq!(first.seqs.len(), 4100, "nothing else arrived");
    assert_eq!(first.count("db: cannot write"), 2, "once per episode\n{}", first.stderr);
    assert_eq!(first.count(RECOVERED), 1, "{}", first.stderr);
    assert_eq!(first.count("db: stopping while"), 1, "the stop says what was not saved\n{}", first.stderr);

    // A start while the disk is still full: init fails, saying why in one line (SQLite itself says
    // only "disk I/O error" when the full disk is met creating its shared-memory file).
    disk.fill(); // the stop's checkpoint may have freed the WAL's pages
    let mut h = Run::start(d.path(), "full-start", &props, &disk.env(), &["--duration", "60"]);
    let refused = h.finish();
    assert!(refused.status.is_some_and(|s| !s.success()), "init must fail\n{}", refused.stderr);
    let errors: Vec<&str> = refused.stderr.lines().filter(|l| l.contains("[error] [gtail]")).collect();
    assert_eq!(errors.len(), 1, "one error line\n{}", refused.stderr);
    assert!(errors[0].contains(&s(&db)) && errors[0].contains("disk is full"), "names the db and why: {}", errors[0]);
    assert!(refused.seqs.is_empty());

    disk.free();
    assert_eq!(db_offset(&db, &a), Some(3000 * LINE), "the db kept the offsets saved before the disk filled");
    let mut h2 = Run::start(d.path(), "run2", &props, &[], &["--max-records", "1000", "--duration", "120"]);
    let second = h2.finish();
    second.assert_clean();
    assert_once(&second.seqs, 3000..4000, &format!("the restart resumes at the saved offset\n{}", second.stderr));
    assert_eq!(second.seqs.len(), 1000, "nothing before the saved offsets is read again\n{}", second.stderr);
    assert_eq!(db_offset(&db, &a), Some(4000 * LINE));
    assert_eq!(db_offset(&db, &b), Some(100 * LINE));
    drop(disk);
}

// ---------------------------------------------------------------------------------------------
// Files that vanish

/// Files deleted at each step of being picked up: after the listing (before the stat), after the
/// stat (before the open), after the open (before the read). The first two are skipped with a
/// debug line and nothing else; the third is read to its end (its lines arrive once) and closed,
/// its db row removed; the other file is read as usual; no descriptor is left behind.
#[test]
fn files_that_vanish_at_stat_open_and_read_are_skipped_quietly() {
    let Some(so) = shim() else {
        missing_tool("a C compiler (cc) for the fault shim");
        return;
    };
    let d = TempDir::new("faults-gone");
    let (a, db, shim_log) = (d.path().join("a.log"), d.path().join("tail.db"), d.path().join("shim.txt"));
    // Seqs: a.log 0.., then per kind k (0 stat, 1 open, 2 after open) and round r (0: there at
    // start, 1: created while running) 1000 * (1 + 3r + k).
    let kinds = ["vanish-at-stat", "vanish-at-open", "vanish-after-open"];
    let marked = |r: u64, k: usize| d.path().join(format!("{}-{r}.log", kinds[k]));
    let range = |r: u64, k: usize| {
        let base = 1000 * (1 + 3 * r + k as u64);
        base..base + 50
    };
    append(&a, 0..100);
    for k in 0..3 {
        append(&marked(0, k), range(0, k));
    }
    let props = vec![
        format!("path={}/*.log", d.path().display()),
        format!("db={}", db.display()),
        "read_from_head=on".into(),
        "refresh_interval=0.3".into(),
    ];
    let env = vec![("LD_PRELOAD", s(&so)), ("FAULT_SHIM_LOG", s(&shim_log))];
    let h = Run::start(d.path(), "run", &props, &env, &[]);
    h.wait_seqs(0..100);
    for k in 0..3 {
        put(&marked(1, k), range(1, k));
    }
    append(&a, 100..200);
    h.wait_seqs(100..200);
    h.wait_seqs(range(0, 2));
    h.wait_seqs(range(1, 2));
    let shim_said = || std::fs::read_to_string(&shim_log).unwrap_or_default();
    h.wait("every file to vanish", |_| (0..2).all(|r| (0..3).all(|k| shim_said().contains(&s(&marked(r, k))))));
    h.wait("the deleted files to be closed", |r| !r.fds().iter().any(|p| p.contains("vanish-")));
    std::thread::sleep(Duration::from_millis(1500)); // refreshes pass
    let rows = db_rows(&db);
    let done = h.stop();
    done.assert_clean();
    assert_once(&done.seqs, 0..200, "a.log");
    for r in 0..2 {
        assert_once(&done.seqs, range(r, 2), "read after its open, deleted");
        for (k, kind) in kinds.iter().enumerate().take(2) {
            assert!(!done.seqs.iter().any(|n| range(r, k).contains(n)), "{kind}: nothing to read");
        }
    }
    assert_eq!(done.seqs.len(), 300, "nothing else arrived");
    for l in done.stderr.lines().filter(|l| l.contains("vanish-")) {
        assert!(l.contains("[debug]") || l.contains("info]"), "at most a debug or info line: {l}");
    }
    // The stat of the db's pruning at start comes before the worker's first scan: a file that
    // vanished there was never seen by the scan, so it has no line.
    let skipped = |p: PathBuf| {
        done.stderr.lines().filter(|l| l.contains("deleted before it could be opened") && l.contains(&s(&p))).count()
    };
    for (r, k) in [(0, 1), (1, 0), (1, 1)] {
        assert_eq!(skipped(marked(r, k)), 1, "{}: one debug line\n{}", s(&marked(r, k)), done.stderr);
    }
    assert!(skipped(marked(0, 0)) <= 1, "{}", done.stderr);
    assert_eq!(rows, vec![(s(&a), 200 * LINE)], "only a.log keeps a row");
}

/// Hundreds of files created and deleted while gtail scans every 0.1 s (and inotify makes it
/// look at each one): some are gone before the stat, some before the open, some while being
/// read. The files that stay deliver every line exactly once; a churned file's lines arrive at
/// most once; no warning; no descriptor or db row is left behind.
#[test]
fn files_created_and_deleted_while_gtail_scans() {
    const CHURN: u64 = 400;
    let d = TempDir::new("faults-many");
    let db = d.path().join("tail.db");
    let stay: Vec<PathBuf> = (0..4).map(|i| d.path().join(format!("stay-{i}.log"))).collect();
    for (i, p) in stay.iter().enumerate() {
        append(p, i as u64 * 100_000..i as u64 * 100_000 + 10);
    }
    let props = vec![
        format!("path={}/*.log", d.path().display()),
        format!("db={}", db.display()),
        "read_from_head=on".into(),
        "refresh_interval=0.1".into(),
    ];
    let h = Run::start(d.path(), "run", &props, &[], &[]);
    h.wait("the files that stay to be open", |r| {
        let fds = r.fds();
        stay.iter().all(|p| fds.contains(&s(p)))
    });
    let baseline = h.fds().len();
    let churn_dir = d.path().to_path_buf();
    let churner = std::thread::spawn(move || {
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        // Bursts of 8: a scan that lists a burst stats and opens 8 files while they are deleted.
        for burst in 0..CHURN / 8 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let files: Vec<PathBuf> =
                (burst * 8..burst * 8 + 8).map(|i| churn_dir.join(format!("churn-{i}.log"))).collect();
            for (i, p) in (burst * 8..).zip(&files) {
                let base = 1_000_000 + i * 100;
                if i % 2 == 0 {
                    append(p, base..base + 20); // may be found empty, or half written
                } else {
                    put(p, base..base + 20);
                }
            }
            match x % 4 {
                0 => {} // deleted at once
                1 => std::thread::yield_now(),
                2 => std::thread::sleep(Duration::from_millis(x % 5)),
                _ => std::thread::sleep(Duration::from_millis(20 + x % 30)),
            }
            for p in &files {
                std::fs::remove_file(p).expect("rm churn");
            }
        }
    });
    for round in 1..20u64 {
        for (i, p) in stay.iter().enumerate() {
            let base = i as u64 * 100_000 + round * 10;
            append(p, base..base + 10);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    churner.join().expect("churner");
    for (i, _) in stay.iter().enumerate() {
        h.wait_seqs(i as u64 * 100_000..i as u64 * 100_000 + 200);
    }
    h.wait("every churned file to be closed", |r| !r.fds().iter().any(|p| p.contains("/churn-")));
    let fds = h.fds();
    assert_eq!(fds.len(), baseline, "descriptors back to where they were before the churn: {fds:?}");
    h.wait("the db to hold the files that stay only", |_| db_rows(&db).len() == stay.len());
    let done = h.stop();
    done.assert_clean();
    for i in 0..stay.len() as u64 {
        assert_once(&done.seqs, i * 100_000..i * 100_000 + 200, "a file that stayed");
    }
    let c = counts(&done.seqs);
    let twice: Vec<_> = c.iter().filter(|(_, k)| **k > 1).take(8).collect();
    assert!(twice.is_empty(), "a churned line arrived twice: {twice:?}");
    let churned = c.keys().filter(|n| **n >= 1_000_000).count();
    let raced = done.count("deleted before it could be opened");
    println!(
        "churn: {CHURN} files of 20 lines created and deleted; {churned} of their lines arrived (each once); {raced} \
         deleted between the listing and the open"
    );
    let loud: Vec<&str> = done
        .stderr
        .lines()
        .filter(|l| l.contains("/churn-") && (l.contains("warn]") || l.contains("error]")))
        .collect();
    assert!(loud.is_empty(), "no warning about a file that came and went: {:?}", &loud[..loud.len().min(5)]);
    let rows = db_rows(&db);
    let mut names: Vec<String> = rows.into_iter().map(|r| r.0).collect();
    names.sort();
    assert_eq!(names, stay.iter().map(|p| s(p)).collect::<Vec<_>>(), "only the files that stay keep a row");
}

// ---------------------------------------------------------------------------------------------
// Reads that fail

/// A file whose reads fail with EIO for a while (the shim): one warning however many retries and
/// appends pass, the other file read meanwhile, and once reads work its lines arrive exactly once
/// (one line says so).
#[test]
fn a_file_whose_reads_fail_is_warned_once_and_read_when_it_can_be() {
    let Some(so) = shim() else {
        missing_tool("a C compiler (cc) for the fault shim");
        return;
    };
    let d = TempDir::new("faults-eio");
    let (a, bad, flag, shim_log) =
        (d.path().join("a.log"), d.path().join("read-fails.log"), d.path().join("eio"), d.path().join("shim.txt"));
    append(&a, 0..100);
    append(&bad, 5000..5100);
    std::fs::write(&flag, b"").expect("flag");
    let props = vec![
        format!("path={}/*.log", d.path().display()),
        "read_from_head=on".into(),
        "progress_check_interval=0.1".into(),
    ];
    let env = vec![("LD_PRELOAD", s(&so)), ("FAULT_SHIM_EIO_FLAG", s(&flag)), ("FAULT_SHIM_LOG", s(&shim_log))];
    let h = Run::start(d.path(), "run", &props, &env, &[]);
    h.wait_seqs(0..100);
    let failures =
        || std::fs::read_to_string(&shim_log).unwrap_or_default().lines().filter(|l| l.starts_with("eio ")).count();
    for k in 0..5 {
        append(&bad, 5100 + k * 20..5120 + k * 20);
        append(&a, 100 + k * 20..120 + k * 20);
        std::thread::sleep(Duration::from_millis(200));
    }
    h.wait_seqs(100..200);
    h.wait("reads to fail many times", |_| failures() >= 10);
    assert_eq!(h.count("read failed"), 1, "one warning\n{}", h.stderr());
    std::fs::remove_file(&flag).expect("rm flag");
    h.wait_seqs(5000..5200);
    let done = h.stop();
    done.assert_clean();
    assert_once(&done.seqs, 0..200, "a.log");
    assert_once(&done.seqs, 5000..5200, "read-fails.log");
    assert_eq!(done.seqs.len(), 400, "nothing else arrived");
    println!("eio: {} failed reads, {} warning(s)", failures(), done.count("read failed"));
    assert_eq!(done.count("read failed"), 1, "{}", done.stderr);
    assert_eq!(done.count("reads work again"), 1, "{}", done.stderr);
}

// ---------------------------------------------------------------------------------------------
// A db that is not a database

/// `db` naming a file that is not SQLite (a log file given by mistake): init fails with one error
/// line that names the file and says what to do, and the file is left as it was.
#[test]
fn a_db_that_is_not_a_database_fails_init_and_is_left_alone() {
    let d = TempDir::new("faults-notdb");
    let (a, db) = (d.path().join("a.log"), d.path().join("tail.db"));
    append(&a, 0..10);
    let junk: Vec<u8> = (0..8192u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    std::fs::write(&db, &junk).expect("junk");
    let props = vec![format!("path={}", a.display()), format!("db={}", db.display()), "read_from_head=on".into()];
    let mut h = Run::start(d.path(), "run", &props, &[], &["--duration", "60"]);
    let done = h.finish();
    assert!(done.status.is_some_and(|s| !s.success()), "init must fail: {:?}\n{}", done.status, done.stderr);
    let errors: Vec<&str> = done.stderr.lines().filter(|l| l.contains("[error] [gtail]")).collect();
    assert_eq!(errors.len(), 1, "one error line\n{}", done.stderr);
    assert!(
        errors[0].contains(&s(&db))
            && errors[0].contains("not an SQLite database")
            && errors[0].contains("move it away"),
        "names the file, the problem and the fix: {}",
        errors[0]
    );
    assert!(done.seqs.is_empty(), "nothing read");
    assert_eq!(std::fs::read(&db).expect("db"), junk, "the file is left as it was");
}
