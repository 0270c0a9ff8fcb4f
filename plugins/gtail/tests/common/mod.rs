//! Support for the gtail host tests: a temp dir per test, numbered lines and their writers, an
//! flb-host run (gtail into gstdout) whose stdout is counted while it runs, and the checks.
//!
//! Every line a test writes is `seq=<n> <padding>` (see [`line`]); gstdout prints one JSON line
//! per record, and [`Tally`] counts each seq as it arrives, keeping the file it came from and any
//! record that is not exactly the line written for its seq.

#![allow(dead_code)] // each test binary uses a part

use flb_host::{host_bin, rust_plugin, s};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub fn gtail_so() -> String {
    s(&rust_plugin("in-gtail", "in_gtail"))
}

/// The real Fluent Bit the optional tests run (`FLUENT_BIT_BIN`); None, after saying the test is
/// skipped, when it is not set.
pub fn fb() -> Option<String> {
    let fb = std::env::var("FLUENT_BIT_BIN").ok();
    if fb.is_none() {
        println!("skipped: FLUENT_BIT_BIN not set");
    }
    fb
}

/// Starts `fb` with `args`, its stdout into the file `out`, stderr piped, as Fluent Bit's official
/// 5.1.1 image runs it (`FLUENT_BIT_VERSION` set: gtail hands Fluent Bit its config_map).
pub fn spawn_fluent_bit<S: AsRef<std::ffi::OsStr>>(fb: &str, args: &[S], out: &Path) -> Child {
    let file = File::create(out).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
    Command::new(fb)
        .args(args)
        .env("FLUENT_BIT_VERSION", "5.1.1")
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {fb}: {e}"))
}

pub fn gstdout_so() -> String {
    s(&rust_plugin("out-gstdout", "out_gstdout"))
}

// ---------------------------------------------------------------------------------------------
// Temp dirs

/// A directory of its own per test, removed when dropped (also when the test fails).
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("gtail-host-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap_or_else(|e| panic!("mkdir {}: {e}", p.display()));
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// `dir/name` as a String (test paths are UTF-8).
    pub fn file(&self, name: &str) -> String {
        s(&self.0.join(name))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // A test may leave a directory without permissions behind (chmod cases): open it up first.
        let _ = Command::new("chmod").arg("-R").arg("u+rwx").arg(&self.0).status();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// ---------------------------------------------------------------------------------------------
// Lines and writers

const PAD: &str = "abcdefghijklmnopqrstuvwxyz0123456789";

/// The line for seq `n` (without its newline): `seq=<n> ` and 1 to 12 bytes of padding that
/// depend on `n`, so a record cut short or glued to another is caught.
pub fn line(n: u64) -> String {
    let k = 1 + (n % 12) as usize;
    let start = (n % 20) as usize;
    format!("seq={n} {}", &PAD[start..start + k])
}

/// The bytes of lines `range`, each with its newline.
pub fn lines(range: Range<u64>) -> Vec<u8> {
    let mut v = Vec::with_capacity((range.end - range.start) as usize * 20);
    for n in range {
        v.extend_from_slice(line(n).as_bytes());
        v.push(b'\n');
    }
    v
}

/// Appends to one file, as a logger does: O_APPEND, writes of `chunk` bytes that cut lines
/// anywhere (the reader sees partial lines at the end of the file), whole lines at `flush`.
pub struct Writer {
    pub path: String,
    file: File,
    buf: Vec<u8>,
    chunk: usize,
}

impl Writer {
    /// Creates the file (or appends to it).
    pub fn open(path: &str) -> Writer {
        let file =
            OpenOptions::new().create(true).append(true).open(path).unwrap_or_else(|e| panic!("open {path}: {e}"));
        Writer { path: path.to_string(), file, buf: Vec::new(), chunk: 64 << 10 }
    }

    /// Writes of `chunk` bytes (1: a syscall per byte).
    pub fn chunk(mut self, chunk: usize) -> Writer {
        self.chunk = chunk.max(1);
        self
    }

    /// Lines `range`, in writes of `chunk` bytes; an unfinished write is held until `flush`.
    pub fn lines(&mut self, range: Range<u64>) {
        for n in range {
            self.buf.extend_from_slice(line(n).as_bytes());
            self.buf.push(b'\n');
            if self.buf.len() >= self.chunk {
                let whole = self.buf.len() / self.chunk * self.chunk;
                self.file.write_all(&self.buf[..whole]).unwrap_or_else(|e| panic!("write {}: {e}", self.path));
                self.buf.drain(..whole);
            }
        }
    }

    /// Writes whatever is held (the file then ends with a newline).
    pub fn flush(&mut self) {
        if !self.buf.is_empty() {
            self.file.write_all(&self.buf).unwrap_or_else(|e| panic!("write {}: {e}", self.path));
            self.buf.clear();
        }
    }

    /// One write of `bytes`, as is.
    pub fn raw(&mut self, bytes: &[u8]) {
        self.flush();
        self.file.write_all(bytes).unwrap_or_else(|e| panic!("write {}: {e}", self.path));
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Writes `range` to `path` at once (created or appended).
pub fn write_lines(path: &str, range: Range<u64>) {
    let mut w = Writer::open(path);
    w.lines(range);
    w.flush();
}

// ---------------------------------------------------------------------------------------------
// What arrived

/// Records counted by seq, as gstdout's json_lines printed them.
#[derive(Default)]
pub struct Tally {
    /// Times each seq arrived, indexed by seq.
    pub counts: Vec<u32>,
    /// Per seq: 1 + the index in `paths` of the file it first arrived from (0: none or no path_key).
    pub files: Vec<u32>,
    pub paths: Vec<String>,
    /// Per seq: the offset_key value (`"off"`) of its first arrival, u64::MAX when none.
    pub offs: Vec<u64>,
    path_ids: HashMap<String, u32>,
    /// Every record printed.
    pub records: u64,
    /// Records that are not `line(seq)` for any seq (kept up to 20, counted all).
    pub other: Vec<String>,
    pub other_count: u64,
}

impl Tally {
    /// One json_lines line: `{"date":..,"log":"..","file":"..","off":..}`.
    fn add(&mut self, l: &[u8]) {
        let Some(text) = std::str::from_utf8(l).ok() else {
            self.odd(String::from_utf8_lossy(l).into_owned());
            return;
        };
        if !text.starts_with('{') {
            return; // not a record (gstdout prints nothing else in json_lines; be safe)
        }
        self.records += 1;
        let Some(log) = json_str(text, "log") else {
            self.odd(text.to_string());
            return;
        };
        let seq = log.strip_prefix("seq=").and_then(|r| r.split(' ').next()).and_then(|d| d.parse::<u64>().ok());
        let Some(n) = seq.filter(|&n| log == line(n)) else {
            self.odd(text.to_string());
            return;
        };
        let i = n as usize;
        if self.counts.len() <= i {
            self.counts.resize(i + 1, 0);
            self.files.resize(i + 1, 0);
            self.offs.resize(i + 1, u64::MAX);
        }
        self.counts[i] += 1;
        if self.counts[i] == 1 {
            if let Some(p) = json_str(text, "file") {
                let next = self.paths.len() as u32;
                let id = *self.path_ids.entry(p.to_string()).or_insert(next);
                if id == next {
                    self.paths.push(p.to_string());
                }
                self.files[i] = id + 1;
            }
            if let Some(at) = text.find("\"off\":") {
                let digits: String = text[at + 6..].chars().take_while(char::is_ascii_digit).collect();
                self.offs[i] = digits.parse().unwrap_or(u64::MAX);
            }
        }
    }

    fn odd(&mut self, s: String) {
        self.records += 1;
        self.other_count += 1;
        if self.other.len() < 20 {
            self.other.push(s);
        }
    }

    /// Times seq `n` arrived.
    pub fn seen(&self, n: u64) -> u32 {
        self.counts.get(n as usize).copied().unwrap_or(0)
    }

    /// The file seq `n` first arrived from (its path_key value).
    pub fn file_of(&self, n: u64) -> Option<&str> {
        let id = *self.files.get(n as usize)?;
        (id > 0).then(|| self.paths[id as usize - 1].as_str())
    }

    /// The offset_key value seq `n` first arrived with.
    pub fn offset_of(&self, n: u64) -> Option<u64> {
        self.offs.get(n as usize).copied().filter(|&o| o != u64::MAX)
    }

    /// True when every seq of `range` arrived at least once.
    pub fn has_all(&self, range: Range<u64>) -> bool {
        range.into_iter().all(|n| self.seen(n) > 0)
    }

    /// How many distinct seqs of `range` arrived.
    pub fn distinct_in(&self, range: Range<u64>) -> u64 {
        range.into_iter().filter(|&n| self.seen(n) > 0).count() as u64
    }

    /// Every seq ever seen, with its count, outside `ranges`.
    pub fn outside(&self, ranges: &[Range<u64>]) -> Vec<(u64, u32)> {
        (0..self.counts.len() as u64)
            .filter(|n| self.seen(*n) > 0 && !ranges.iter().any(|r| r.contains(n)))
            .map(|n| (n, self.seen(n)))
            .collect()
    }

    /// Seqs of `range` that never arrived, as (first, last) runs.
    pub fn missing(&self, range: Range<u64>) -> Vec<(u64, u64)> {
        let mut runs: Vec<(u64, u64)> = Vec::new();
        for n in range {
            if self.seen(n) == 0 {
                match runs.last_mut() {
                    Some(r) if r.1 + 1 == n => r.1 = n,
                    _ => runs.push((n, n)),
                }
            }
        }
        runs
    }

    /// Seqs of `range` that arrived more than once, with their counts.
    pub fn repeated(&self, range: Range<u64>) -> Vec<(u64, u32)> {
        range.into_iter().filter(|&n| self.seen(n) > 1).map(|n| (n, self.seen(n))).collect()
    }

    /// A one-paragraph account, for assertion messages.
    pub fn describe(&self, range: Range<u64>) -> String {
        let missing = self.missing(range.clone());
        let lost: u64 = missing.iter().map(|(a, b)| b - a + 1).sum();
        let rep = self.repeated(range.clone());
        format!(
            "records={} seqs {range:?}: {} distinct, {lost} missing in {} run(s) (first {:?}), {} repeated (first \
             {:?}), {} other record(s) (first {:?})",
            self.records,
            self.distinct_in(range.clone()),
            missing.len(),
            &missing[..missing.len().min(8)],
            rep.len(),
            &rep[..rep.len().min(8)],
            self.other_count,
            &self.other[..self.other.len().min(3)],
        )
    }
}

/// The string value of `"key":"..."` in a gstdout JSON line (no escapes expected in test data;
/// a value with a backslash is returned as printed).
fn json_str<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let pat = format!("\"{key}\":\"");
    let at = text.find(&pat)? + pat.len();
    let rest = &text[at..];
    let mut end = 0;
    let b = rest.as_bytes();
    while end < b.len() {
        match b[end] {
            b'\\' => end += 2,
            b'"' => return Some(&rest[..end]),
            _ => end += 1,
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// The host

/// How stdout is kept.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Out {
    /// gstdout `format json_lines`, counted into a [`Tally`] as it arrives.
    Tally,
    /// gstdout `format msgpack` (string values printed as their raw bytes), kept whole.
    Raw,
}

struct Shared {
    tally: Mutex<Tally>,
    raw: Mutex<Vec<u8>>,
    stderr: Mutex<String>,
    cv: Condvar,
}

/// A running flb-host: gtail (tag `t`) into gstdout.
pub struct Host {
    child: Option<Child>,
    pub pid: u32,
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

/// What a finished run left.
pub struct Done {
    pub code: Option<i32>,
    pub timed_out: bool,
    pub tally: Tally,
    pub raw: Vec<u8>,
    pub stderr: String,
}

impl Done {
    /// The exit code and the last lines of stderr, for assertion messages.
    pub fn all(&self) -> String {
        let lines: Vec<&str> = self.stderr.lines().collect();
        let from = lines.len().saturating_sub(60);
        format!(
            "exit={:?} timed_out={}\n--- stderr (last 60 lines) ---\n{}",
            self.code,
            self.timed_out,
            lines[from..].join("\n")
        )
    }

    /// stderr lines containing `needle`.
    pub fn count(&self, needle: &str) -> usize {
        self.stderr.lines().filter(|l| l.contains(needle)).count()
    }

    /// The input's records and the output's records_ok from the host's summary.
    pub fn summary(&self) -> (u64, u64) {
        let i = flb_host::summary_fields(&self.stderr, "gtail.0");
        let o = flb_host::summary_fields(&self.stderr, "gstdout.0");
        (flb_host::field(&i, "records"), flb_host::field(&o, "records_ok"))
    }

    /// Asserts a clean exit: code 0, not killed, no record the host found invalid, and every record
    /// the input produced flushed by the output.
    pub fn assert_clean(&self) {
        assert!(!self.timed_out, "the host had to be killed\n{}", self.all());
        assert_eq!(self.code, Some(0), "{}", self.all());
        assert_eq!(self.count("panicked"), 0, "a thread panicked\n{}", self.all());
        if std::env::var_os("GTAIL_TEST_STDERR").is_some() {
            eprintln!("{}", self.stderr);
        }
        let i = flb_host::summary_fields(&self.stderr, "gtail.0");
        assert_eq!(flb_host::field(&i, "invalid"), 0, "{}", self.all());
        assert_eq!(flb_host::field(&i, "errors"), 0, "{}", self.all());
    }

    /// The `log` values, in order, from a Raw (msgpack format) run: each line is
    /// `[N] TAG: [[SECS, {}], {"log"=>"<raw bytes>"}]`.
    pub fn raw_logs(&self) -> Vec<Vec<u8>> {
        const HEAD: &[u8] = b"{\"log\"=>\"";
        const TAIL: &[u8] = b"\"}]";
        self.raw
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| {
                let at = memfind(l, HEAD).unwrap_or_else(|| panic!("not a record: {:?}", String::from_utf8_lossy(l)));
                let v = &l[at + HEAD.len()..];
                assert!(v.ends_with(TAIL), "record with other keys: {:?}", String::from_utf8_lossy(l));
                v[..v.len() - TAIL.len()].to_vec()
            })
            .collect()
    }
}

fn memfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Host options every run gets: quick collects and flushes, debug logs (to see what gtail did when
/// a test fails), and a safety stop.
const HOST_DEFAULTS: &[&str] = &["--interval", "0.05", "--flush", "0.1", "--log-level", "debug"];

impl Host {
    /// Starts flb-host with gtail's `props` (`key=value`), gstdout in the `out` form, and `extra`
    /// host options (a `--duration` of 600 s is added when `extra` has none).
    pub fn start(props: &[&str], extra: &[&str], out: Out) -> Host {
        Host::start_as(props, extra, out, None)
    }

    /// [`start`](Self::start) with the host running as user and group `uid` (see [`nobody`]).
    pub fn start_as(props: &[&str], extra: &[&str], out: Out, uid: Option<u32>) -> Host {
        let (i, o) = (gtail_so(), gstdout_so());
        let mut args: Vec<String> = vec!["-e".into(), i, "-e".into(), o, "-i".into(), "gtail".into()];
        for kv in props {
            args.push("-p".into());
            args.push((*kv).into());
        }
        let format = if out == Out::Tally { "format=json_lines" } else { "format=msgpack" };
        args.extend(["-t", "t", "-o", "gstdout", "-p", format, "-m", "*"].map(String::from));
        args.extend(HOST_DEFAULTS.iter().map(|s| s.to_string()));
        args.extend(extra.iter().map(|s| s.to_string()));
        // GTAIL_TEST_ABI=2.2 runs every test as that Fluent Bit version (records through the
        // collect buffer, no flb_input_log_append) unless the test names one.
        if let (Ok(abi), false) = (std::env::var("GTAIL_TEST_ABI"), extra.contains(&"--abi")) {
            args.extend(["--abi".to_string(), abi]);
        }
        if !extra.contains(&"--duration") {
            args.extend(["--duration", "600"].map(String::from));
        }
        let mut cmd = Command::new(host_bin());
        cmd.args(&args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        if let Some(id) = uid {
            use std::os::unix::process::CommandExt;
            cmd.uid(id).gid(id);
        }
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {}: {e}", host_bin().display()));
        let shared = Arc::new(Shared {
            tally: Mutex::new(Tally::default()),
            raw: Mutex::new(Vec::new()),
            stderr: Mutex::new(String::new()),
            cv: Condvar::new(),
        });
        let mut threads = Vec::new();
        let stdout = child.stdout.take().expect("stdout");
        let sh = Arc::clone(&shared);
        threads.push(std::thread::spawn(move || {
            let mut r = BufReader::with_capacity(1 << 20, stdout);
            if out == Out::Raw {
                let mut buf = [0u8; 64 << 10];
                while let Ok(n) = r.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    sh.raw.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(&buf[..n]);
                    sh.cv.notify_all();
                }
                return;
            }
            let mut l = Vec::new();
            loop {
                l.clear();
                match r.read_until(b'\n', &mut l) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                if l.last() == Some(&b'\n') {
                    l.pop();
                }
                let mut t = sh.tally.lock().unwrap_or_else(|e| e.into_inner());
                t.add(&l);
                // Wake waiters now and then, not per record.
                if t.records.is_multiple_of(1024) || r.buffer().is_empty() {
                    sh.cv.notify_all();
                }
            }
            sh.cv.notify_all();
        }));
        let stderr = child.stderr.take().expect("stderr");
        let sh = Arc::clone(&shared);
        threads.push(std::thread::spawn(move || {
            let r = BufReader::new(stderr);
            for l in r.split(b'\n') {
                let Ok(l) = l else { break };
                let mut e = sh.stderr.lock().unwrap_or_else(|e| e.into_inner());
                e.push_str(&String::from_utf8_lossy(&l));
                e.push('\n');
                drop(e);
                sh.cv.notify_all();
            }
        }));
        let pid = child.id();
        Host { child: Some(child), pid, shared, threads }
    }

    /// Waits until `cond` holds for the records so far (true), or `timeout` (false).
    pub fn wait_tally(&self, timeout: Duration, mut cond: impl FnMut(&Tally) -> bool) -> bool {
        let end = Instant::now() + timeout;
        let mut t = self.shared.tally.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if cond(&t) {
                return true;
            }
            let now = Instant::now();
            if now >= end || self.exited() {
                return cond(&t);
            }
            let wait = (end - now).min(Duration::from_millis(100));
            t = self.shared.cv.wait_timeout(t, wait).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    /// The tally so far, described for `range` (for messages).
    pub fn describe_now(&self, range: Range<u64>) -> String {
        self.shared.tally.lock().unwrap_or_else(|e| e.into_inner()).describe(range)
    }

    /// Waits until every seq of `range` arrived.
    pub fn wait_all(&self, range: Range<u64>, timeout: Duration) -> bool {
        self.wait_tally(timeout, |t| t.records >= range.end - range.start && t.has_all(range.clone()))
    }

    /// Waits until the Raw output holds `n` records (lines).
    pub fn wait_raw_lines(&self, n: usize, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        loop {
            let have =
                self.shared.raw.lock().unwrap_or_else(|e| e.into_inner()).iter().filter(|&&b| b == b'\n').count();
            if have >= n {
                return true;
            }
            if Instant::now() >= end || self.exited() {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The Raw output so far.
    pub fn raw_now(&self) -> Vec<u8> {
        self.shared.raw.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Waits until the Raw output contains `needle`.
    pub fn wait_raw_contains(&self, needle: &[u8], timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        let mut from = 0;
        loop {
            {
                let raw = self.shared.raw.lock().unwrap_or_else(|e| e.into_inner());
                if memfind(&raw[from..], needle).is_some() {
                    return true;
                }
                from = raw.len().saturating_sub(needle.len());
            }
            if Instant::now() >= end || self.exited() {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until stderr holds `n` lines containing `needle`.
    pub fn wait_stderr(&self, needle: &str, n: usize, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        loop {
            let have = self.stderr_count(needle);
            if have >= n {
                return true;
            }
            if Instant::now() >= end || self.exited() {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn stderr_count(&self, needle: &str) -> usize {
        self.shared.stderr.lock().unwrap_or_else(|e| e.into_inner()).lines().filter(|l| l.contains(needle)).count()
    }

    /// stderr so far (for messages).
    pub fn stderr_tail(&self) -> String {
        let e = self.shared.stderr.lock().unwrap_or_else(|e| e.into_inner());
        let lines: Vec<&str> = e.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// The paths the host has open now (readlink of /proc/PID/fd/*), a deleted file with its
    /// " (deleted)" suffix.
    pub fn open_files(&self) -> Vec<String> {
        open_files(self.pid)
    }

    /// Waits until the host holds `path` open (the file now at that path: a renamed file's
    /// descriptor reads as its new name).
    pub fn wait_open(&self, path: &str, timeout: Duration) -> bool {
        wait_for(timeout, || self.open_files().iter().any(|p| p == path))
    }

    /// True once the host has exited (a zombie not yet waited for included).
    pub fn exited(&self) -> bool {
        // The pipes close when the host exits; try_wait needs &mut, so look at /proc instead.
        !Path::new(&format!("/proc/{}/fd", self.pid)).exists()
            || std::fs::read_to_string(format!("/proc/{}/stat", self.pid))
                .map(|s| s.rsplit(')').next().is_some_and(|r| r.trim_start().starts_with('Z')))
                .unwrap_or(true)
    }

    /// Sends `sig` to the host.
    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) with our child's pid and a valid signal number; no memory effects.
        unsafe {
            libc::kill(self.pid as libc::pid_t, sig);
        }
    }

    /// Asks the host to stop (SIGTERM, as Fluent Bit's own stop) and waits for it.
    pub fn stop(self) -> Done {
        self.signal(libc::SIGTERM);
        self.wait(Duration::from_secs(60))
    }

    /// Waits for the host to exit by itself (`--max-records`, `--duration`, a failed init); kills
    /// it after `timeout`.
    pub fn wait(mut self, timeout: Duration) -> Done {
        let mut child = self.child.take().expect("child");
        let end = Instant::now() + timeout;
        let mut timed_out = false;
        let status = loop {
            match child.try_wait() {
                Ok(Some(st)) => break Some(st),
                Ok(None) if Instant::now() < end => std::thread::sleep(Duration::from_millis(20)),
                Ok(None) => {
                    timed_out = true;
                    let _ = child.kill();
                    break child.wait().ok();
                }
                Err(_) => break None,
            }
        };
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        let take = |m: &Mutex<Tally>| std::mem::take(&mut *m.lock().unwrap_or_else(|e| e.into_inner()));
        Done {
            code: status.and_then(|s| s.code()),
            timed_out,
            tally: take(&self.shared.tally),
            raw: std::mem::take(&mut *self.shared.raw.lock().unwrap_or_else(|e| e.into_inner())),
            stderr: std::mem::take(&mut *self.shared.stderr.lock().unwrap_or_else(|e| e.into_inner())),
        }
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        // A test that panicked before stopping the host: do not leave it running.
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// readlink of every /proc/PID/fd entry.
pub fn open_files(pid: u32) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(format!("/proc/{pid}/fd")) else { return Vec::new() };
    rd.flatten().filter_map(|e| std::fs::read_link(e.path()).ok()).map(|p| s(&p)).collect()
}

/// Polls `cond` every 20 ms until it holds (true) or `timeout` (false).
pub fn wait_for(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Asserts every seq of `range` arrived exactly once and nothing else arrived.
pub fn assert_exactly_once(d: &Done, range: Range<u64>) {
    let t = &d.tally;
    let ok = t.missing(range.clone()).is_empty()
        && t.repeated(range.clone()).is_empty()
        && t.outside(std::slice::from_ref(&range)).is_empty()
        && t.other_count == 0;
    assert!(
        ok,
        "every line exactly once: {}\noutside the range: {:?}\n{}",
        t.describe(range.clone()),
        &t.outside(std::slice::from_ref(&range))[..t.outside(std::slice::from_ref(&range)).len().min(8)],
        d.all()
    );
}

/// Generous bound for waits on a slow, busy CI machine: a wait ends as soon as its condition
/// holds, so this only decides how long a failing test takes to say so.
pub const PATIENCE: Duration = Duration::from_secs(180);

/// True when running as root (chmod 000 does not stop root's reads).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and no memory effects.
    unsafe { libc::geteuid() == 0 }
}

/// The uid of `nobody` (65534), when running as root and everything the host loads (itself, the
/// shim beside it, the plugins) and `dir` can be read by others; else None.
pub fn nobody(dir: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    if !is_root() {
        return None;
    }
    let shim = host_bin().with_file_name("libflbhost_exports.so");
    let files = [host_bin(), shim, PathBuf::from(gtail_so()), PathBuf::from(gstdout_so())];
    let readable = |p: &Path, bits: u32| std::fs::metadata(p).is_ok_and(|m| m.permissions().mode() & bits == bits);
    let ancestors_open = |p: &Path| p.ancestors().skip(1).all(|d| d.as_os_str().is_empty() || readable(d, 0o001));
    let ok =
        files.iter().all(|f| readable(f, 0o004) && ancestors_open(f)) && readable(dir, 0o005) && ancestors_open(dir);
    ok.then_some(65534)
}

/// Every seq of `want` appears in `seqs` exactly once, and nothing else does.
pub fn assert_each_once(seqs: &[u64], want: Range<u64>, ctx: &str) {
    let mut count: HashMap<u64, u32> = HashMap::new();
    for n in seqs {
        *count.entry(*n).or_default() += 1;
    }
    let mut dups: Vec<u64> = count.iter().filter(|(_, c)| **c > 1).map(|(n, _)| *n).collect();
    dups.sort_unstable();
    let missing: Vec<u64> = want.clone().filter(|n| !count.contains_key(n)).take(5).collect();
    let mut extra: Vec<u64> = count.keys().filter(|n| !want.contains(n)).copied().collect();
    extra.sort_unstable();
    assert!(
        dups.is_empty() && missing.is_empty() && extra.is_empty(),
        "{ctx}: repeated {:?}, missing {missing:?}, unexpected {:?} ({} records)",
        &dups[..dups.len().min(5)],
        &extra[..extra.len().min(5)],
        seqs.len()
    );
}
