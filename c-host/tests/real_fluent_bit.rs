//! Our plugins in a real Fluent Bit 5.1.1, the binary named by `FLUENT_BIT_BIN`. Without it every
//! test prints `skipped: FLUENT_BIT_BIN not set` and passes; in CI (`CI=true`) too, since CI cannot
//! build Fluent Bit. Fluent Bit runs with `FLUENT_BIT_VERSION=5.1.1`, as its official image sets it,
//! so our plugins hand it their `config_map` and it checks their keys.
//!
//! * `plugins_file_*` / `yaml_plugins_*`: the three `.so` files loaded at once, through a classic
//!   `Plugins_File` (a `[PLUGINS]` file of `Path` lines) and through a YAML config's `plugins:`
//!   list. gdummy (`samples 5`) and a `forward` input feed gstdout, gtail reads a temporary file
//!   (three lines at start, two appended later): exactly those records arrive on stdout, in
//!   order, and SIGTERM then ends Fluent Bit with exit code 0 and no `[error]` line.
//! * `*_under_valgrind`: the same classic pipeline under valgrind (memcheck, definite leaks count
//!   as errors): no report at all. Fluent Bit 5.1.1 itself reports nothing here; a definite leak
//!   whose stack names none of our code would be Fluent Bit's and is tolerated (printed), every
//!   other report fails (see the test).
//! * `gstdout_prints_what_native_stdout_prints_*`: one Fluent Bit, one `forward` input, native
//!   `stdout` and `gstdout` side by side in every format and date format (`epoch_ms` too: Fluent
//!   Bit 5.1.1 takes it although its `-h` does not list it), and with a custom and a disabled
//!   `json_date_key`. The same records go to each output under its own tag, one output at a time,
//!   and each output's text is taken once stdout is quiet (JSON lines do not name their tag); the
//!   two texts must be equal byte for byte (msgpack format: but for the tag).
//! * `documented_differences_*`: the differences plugins/gstdout/README.md documents (a body that
//!   is not a map, `json.escape_unicode off`) and its "Bad input" rule (a chunk item that is not a
//!   record is skipped), each asserted as documented, with what the native output does instead.
//!
//! The records are written by hand in msgpack (a small encoder below) and sent in Fluent Bit's
//! forward protocol, PackedForward mode (`[tag, bin(records)]`): the forward input appends those
//! bytes unchanged, so both outputs decode the very same chunk, legacy records, integer and float
//! times, invalid UTF-8 and a group included.

use flb_host::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The Fluent Bit binary, or None after printing why the test is skipped.
fn fluent_bit_bin() -> Option<PathBuf> {
    match std::env::var_os("FLUENT_BIT_BIN") {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ => {
            println!("skipped: FLUENT_BIT_BIN not set");
            None
        }
    }
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("flb-real-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// Our three plugins: (library name, path of the built `.so`).
fn our_plugins() -> Vec<(&'static str, PathBuf)> {
    vec![
        ("in_gdummy", rust_plugin("in-gdummy", "in_gdummy")),
        ("out_gstdout", rust_plugin("out-gstdout", "out_gstdout")),
        ("in_gtail", rust_plugin("in-gtail", "in_gtail")),
    ]
}

/// A `[PLUGINS]` file naming every plugin with a `Path` line.
fn write_plugins_file(dir: &Path) -> PathBuf {
    let mut text = String::from("[PLUGINS]\n");
    for (_, so) in our_plugins() {
        text.push_str(&format!("    Path {}\n", so.display()));
    }
    let p = dir.join("plugins.conf");
    std::fs::write(&p, text).expect("plugins.conf");
    p
}

/// A TCP port nothing listens on right now (the kernel's pick, released again).
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

// ---------------------------------------------------------------------------------------------
// A running Fluent Bit

/// A Fluent Bit process whose stdout and stderr are collected by two threads as they arrive.
struct Fb {
    child: Child,
    out: Arc<Mutex<Vec<u8>>>,
    err: Arc<Mutex<Vec<u8>>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

/// How a Fluent Bit process ended.
struct Ended {
    code: Option<i32>,
    signal: Option<i32>,
    out: Vec<u8>,
    err: String,
    killed: bool,
}

impl Ended {
    fn all(&self) -> String {
        format!(
            "exit={:?} signal={:?} killed={}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code,
            self.signal,
            self.killed,
            String::from_utf8_lossy(&self.out),
            self.err
        )
    }
}

fn collect<R: Read + Send + 'static>(mut r: R, into: Arc<Mutex<Vec<u8>>>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            match r.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => into.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(&buf[..n]),
            }
        }
    })
}

impl Fb {
    /// Starts `program args` (Fluent Bit, or valgrind running it) in `dir` with
    /// `FLUENT_BIT_VERSION=5.1.1`.
    fn start(program: &Path, args: &[String], dir: &Path) -> Fb {
        let mut child = Command::new(program)
            .args(args)
            .env("FLUENT_BIT_VERSION", "5.1.1")
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
        let out = Arc::new(Mutex::new(Vec::new()));
        let err = Arc::new(Mutex::new(Vec::new()));
        let readers = vec![
            collect(child.stdout.take().expect("stdout"), out.clone()),
            collect(child.stderr.take().expect("stderr"), err.clone()),
        ];
        Fb { child, out, err, readers }
    }

    fn stdout(&self) -> Vec<u8> {
        self.out.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.err.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }

    fn context(&self) -> String {
        format!("--- stdout ---\n{}\n--- stderr ---\n{}", String::from_utf8_lossy(&self.stdout()), self.stderr())
    }

    /// Waits until `done(stdout)` holds; an error (with both streams) when Fluent Bit exits first
    /// or `timeout` passes.
    fn wait_for(&mut self, what: &str, timeout: Duration, done: impl Fn(&[u8]) -> bool) -> Result<(), String> {
        let until = Instant::now() + timeout;
        loop {
            if done(&self.stdout()) {
                return Ok(());
            }
            if let Ok(Some(st)) = self.child.try_wait() {
                return Err(format!("Fluent Bit ended ({st}) before {what}\n{}", self.context()));
            }
            if Instant::now() > until {
                return Err(format!("no {what} within {timeout:?}\n{}", self.context()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Connects to the forward input on `port` once it listens.
    fn connect(&mut self, port: u16, timeout: Duration) -> TcpStream {
        let until = Instant::now() + timeout;
        loop {
            if let Ok(s) = TcpStream::connect(("127.0.0.1", port)) {
                return s;
            }
            if let Ok(Some(st)) = self.child.try_wait() {
                panic!("Fluent Bit ended ({st}) before its forward input listened\n{}", self.context());
            }
            assert!(Instant::now() < until, "nothing listens on port {port} after {timeout:?}\n{}", self.context());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The stdout bytes after `mark` once they end with a newline and nothing more came for
    /// 300 ms: one output's text for one chunk.
    fn settled_after(&mut self, mark: usize, what: &str) -> Result<Vec<u8>, String> {
        self.wait_for(what, Duration::from_secs(15), |o| o.len() > mark)?;
        let until = Instant::now() + Duration::from_secs(15);
        let mut last = (self.stdout().len(), Instant::now());
        loop {
            std::thread::sleep(Duration::from_millis(25));
            let o = self.stdout();
            if o.len() != last.0 {
                last = (o.len(), Instant::now());
            } else if o.ends_with(b"\n") && last.1.elapsed() >= Duration::from_millis(300) {
                return Ok(o[mark..].to_vec());
            }
            if Instant::now() > until {
                return Err(format!("{what}: stdout did not settle\n{}", self.context()));
            }
        }
    }

    /// SIGTERM, then waits up to `timeout` for the exit (SIGKILL after that).
    fn terminate(mut self, timeout: Duration) -> Ended {
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: kill(2) on the pid of our own child, which has not been reaped yet.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let until = Instant::now() + timeout;
        let mut killed = false;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(st)) => break Some(st),
                Ok(None) if Instant::now() > until => {
                    let _ = self.child.kill();
                    killed = true;
                    break self.child.wait().ok();
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(_) => break None,
            }
        };
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        use std::os::unix::process::ExitStatusExt;
        Ended {
            code: status.and_then(|s| s.code()),
            signal: status.and_then(|s| s.signal()),
            out: self.stdout(),
            err: self.stderr(),
            killed,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// msgpack, by hand

/// A msgpack writer: each call appends one value (or a container header) in its shortest form.
#[derive(Default)]
struct Mp(Vec<u8>);

impl Mp {
    fn nil(&mut self) -> &mut Self {
        self.0.push(0xc0);
        self
    }
    fn bool(&mut self, b: bool) -> &mut Self {
        self.0.push(if b { 0xc3 } else { 0xc2 });
        self
    }
    fn uint(&mut self, v: u64) -> &mut Self {
        rmp::encode::write_uint(&mut self.0, v).expect("writing to a Vec cannot fail");
        self
    }
    fn int(&mut self, v: i64) -> &mut Self {
        rmp::encode::write_sint(&mut self.0, v).expect("writing to a Vec cannot fail");
        self
    }
    fn f64(&mut self, v: f64) -> &mut Self {
        self.0.push(0xcb);
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn f32(&mut self, v: f32) -> &mut Self {
        self.0.push(0xca);
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    /// A length header: the fix form `fix | len` where it fits (str up to 31, array and map up to
    /// 15), else the 8-, 16- or 32-bit form (`codes[0]` is 0 for arrays and maps, which have no
    /// 8-bit form).
    fn sized(&mut self, len: usize, fix: Option<u8>, codes: [u8; 3]) -> &mut Self {
        match (fix, len) {
            (Some(f), 0..=31) if f == 0xa0 => self.0.push(f | len as u8),
            (Some(f), 0..=15) if f != 0xa0 => self.0.push(f | len as u8),
            (_, 0..=0xff) if codes[0] != 0 => self.0.extend_from_slice(&[codes[0], len as u8]),
            (_, 0..=0xffff) => {
                self.0.push(codes[1]);
                self.0.extend_from_slice(&(len as u16).to_be_bytes());
            }
            _ => {
                self.0.push(codes[2]);
                self.0.extend_from_slice(&(len as u32).to_be_bytes());
            }
        }
        self
    }
    /// A str of raw bytes (invalid UTF-8 allowed).
    fn raw(&mut self, b: &[u8]) -> &mut Self {
        self.sized(b.len(), Some(0xa0), [0xd9, 0xda, 0xdb]);
        self.0.extend_from_slice(b);
        self
    }
    fn s(&mut self, v: &str) -> &mut Self {
        self.raw(v.as_bytes())
    }
    fn bin(&mut self, b: &[u8]) -> &mut Self {
        self.sized(b.len(), None, [0xc4, 0xc5, 0xc6]);
        self.0.extend_from_slice(b);
        self
    }
    fn ext(&mut self, ty: i8, b: &[u8]) -> &mut Self {
        match b.len() {
            1 => self.0.push(0xd4),
            2 => self.0.push(0xd5),
            4 => self.0.push(0xd6),
            8 => self.0.push(0xd7),
            16 => self.0.push(0xd8),
            n => self.0.extend_from_slice(&[0xc7, n as u8]),
        }
        self.0.push(ty as u8);
        self.0.extend_from_slice(b);
        self
    }
    fn arr(&mut self, n: usize) -> &mut Self {
        self.sized(n, Some(0x90), [0, 0xdc, 0xdd])
    }
    fn map(&mut self, n: usize) -> &mut Self {
        self.sized(n, Some(0x80), [0, 0xde, 0xdf])
    }
    /// Fluent Bit's EventTime: ext type 0, seconds and nanoseconds as big-endian u32.
    fn time(&mut self, sec: u32, nsec: u32) -> &mut Self {
        let mut b = sec.to_be_bytes().to_vec();
        b.extend_from_slice(&nsec.to_be_bytes());
        self.ext(0, &b)
    }
    /// `[[time, {metadata...}], ` of a modern record; the caller writes the body.
    fn head(&mut self, sec: u32, nsec: u32, metadata: impl FnOnce(&mut Mp)) -> &mut Self {
        self.arr(2).arr(2).time(sec, nsec);
        metadata(self);
        self
    }
}

#[test]
fn the_msgpack_writer_writes_the_spec_encodings() {
    let mut m = Mp::default();
    m.uint(127).uint(128).uint(65536).int(-32).int(-33).int(i64::MIN).s("ab").map(16).arr(15).bin(b"x");
    let want: &[u8] = &[
        0x7f, 0xcc, 0x80, 0xce, 0, 1, 0, 0, 0xe0, 0xd0, 0xdf, 0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0, 0xa2, b'a', b'b', 0xde,
        0, 16, 0x9f, 0xc4, 1, b'x',
    ];
    assert_eq!(m.0, want);
    let mut t = Mp::default();
    t.time(1700000000, 123456789).raw(&[b'a'; 32]);
    assert_eq!(&t.0[..10], &[0xd7, 0, 0x65, 0x53, 0xf1, 0x00, 0x07, 0x5b, 0xcd, 0x15]);
    assert_eq!(&t.0[10..12], &[0xd9, 32]);
}

/// `[tag, bin(records)]`: a PackedForward message.
fn packed_forward(tag: &str, records: &[u8]) -> Vec<u8> {
    let mut m = Mp::default();
    m.arr(2).s(tag).bin(records);
    m.0
}

/// The records both outputs print. Returns (msgpack bytes, number of records that print).
fn tricky_records() -> (Vec<u8>, usize) {
    let mut m = Mp::default();
    // 1. Modern record, nested metadata, a body of every kind of value.
    m.head(1700000000, 123456789, |m| {
        m.map(2).s("source").s("test").s("nested").map(1).s("k").arr(2).uint(1).s("two");
    });
    m.map(25);
    m.s("msg").s("say \"hi\" \\path/");
    m.s("ctrl").s("\u{1}\u{8}\t\n\u{b}\u{c}\r\u{1b}\u{1f}\u{7f}end");
    m.s("utf8").s("café ü ß € 日本語 😀 \u{feff}\u{2028}");
    // Invalid UTF-8: a lone continuation byte, bytes never valid (fe, ff), a lead byte followed
    // by ASCII, an overlong form, a surrogate, and a sequence cut by the end of the string.
    m.s("bad_utf8").raw(b"a\x80b\xfe\xffc\xc3(d\xc0\xafe\xed\xa0\x80f\xe6\x97");
    m.s("u64max").uint(u64::MAX);
    m.s("i64min").int(i64::MIN);
    m.s("ints").arr(16);
    for v in [
        0i64,
        127,
        128,
        255,
        65535,
        65536,
        4294967295,
        4294967296,
        -1,
        -32,
        -33,
        -128,
        -129,
        -32769,
        -2147483648,
        -2147483649,
    ] {
        m.int(v);
    }
    m.s("floats").arr(11);
    for v in [0.1, 1e300, -0.0, 3.0, 1e20, 1.5e-7, 123456.789, -2.5, 5e-324, f64::MAX, 1e16] {
        m.f64(v);
    }
    m.s("f32").arr(2).f32(0.25).f32(0.1);
    m.s("special").arr(3).f64(f64::NAN).f64(f64::INFINITY).f64(f64::NEG_INFINITY);
    m.s("n").nil();
    m.s("t").bool(true);
    m.s("f").bool(false);
    m.s("nested").map(2).s("a").map(1).s("b").arr(3).uint(1).map(1).s("c").arr(0).map(0).s("e").arr(0);
    m.s("empty").s("");
    m.s("bin").bin(b"\x00\x01\xffA\"");
    m.s("ext").ext(5, b"\x01\x02");
    m.uint(7).s("int key");
    m.s("dup").uint(1);
    m.s("k\"ey\n\\").uint(1);
    m.s("clé ü").s("v");
    m.raw(b"k\xff").s("bad key");
    m.s("dup").uint(2);
    m.s("long").s(&"x".repeat(300));
    m.s("deep").arr(1).arr(1).arr(1).map(1).s("d").arr(1).arr(0);
    // 2. Empty metadata, nanoseconds that round up in the 6-digit date formats, body keys named
    //    like the date key and __internal__.
    m.head(1700000000, 999999999, |m| {
        m.map(0);
    });
    m.map(3).s("date").s("body date").s("__internal__").s("body internal").s("ts").uint(1);
    // 3. Legacy record with an EventTime.
    m.arr(2).time(1700000001, 5).map(1).s("legacy").bool(true);
    // 4. Legacy record with an integer time.
    m.arr(2).uint(1700000002).map(1).s("int_time").uint(1);
    // 5. Modern record with a float time.
    m.arr(2).arr(2).f64(1700000003.5).map(1).s("m").uint(1);
    m.map(1).s("float_time").uint(1);
    // 6. A group: start marker with group metadata and attributes, two records, end marker; then
    //    a record after the group. Fluent Bit writes the markers' times -1 and -2 as EventTimes of
    //    seconds 0xffffffff and 0xfffffffe (its decoder refuses a negative integer time).
    m.arr(2).arr(2).time(u32::MAX, 0).map(1).s("schema").s("otlp").map(1).s("resource").map(1).s("service").s("svc");
    m.head(1700000004, 1, |m| {
        m.map(1).s("otlp").map(1).s("severity").s("INFO");
    });
    m.map(1).s("in_group").uint(1);
    m.head(1700000004, 2, |m| {
        m.map(0);
    });
    m.map(1).s("in_group").uint(2);
    m.arr(2).arr(2).time(u32::MAX - 1, 0).map(0).map(0);
    m.head(1700000005, 0, |m| {
        m.map(0);
    });
    m.map(1).s("after_group").bool(true);
    (m.0, 8)
}

// ---------------------------------------------------------------------------------------------
// Pipeline: the three plugins loaded at once

/// gdummy (5 samples), gtail and forward into gstdout: the classic config with `Plugins_File`.
fn classic_pipeline(dir: &Path, port: u16, log: &Path) -> PathBuf {
    let plugins = write_plugins_file(dir);
    let conf = format!(
        "[SERVICE]\n    Flush        0.2\n    Grace        2\n    Plugins_File {}\n\n\
         [INPUT]\n    Name    gdummy\n    Tag     dummy.t\n    Dummy   {{\"n\":1,\"s\":\"a\\\"b\"}}\n    Samples 5\n    Rate    20\n\n\
         [INPUT]\n    Name           gtail\n    Tag            tail.t\n    Path           {}\n    Read_From_Head on\n\n\
         [INPUT]\n    Name   forward\n    Listen 127.0.0.1\n    Port   {port}\n\n\
         [OUTPUT]\n    Name   gstdout\n    Match  *\n    Format msgpack\n",
        plugins.display(),
        log.display()
    );
    let p = dir.join("fluent-bit.conf");
    std::fs::write(&p, conf).expect("fluent-bit.conf");
    p
}

/// The same pipeline as a YAML config with a `plugins:` list.
fn yaml_pipeline(dir: &Path, port: u16, log: &Path) -> PathBuf {
    let mut conf = String::from("service:\n  flush: 0.2\n  grace: 2\n\nplugins:\n");
    for (_, so) in our_plugins() {
        conf.push_str(&format!("  - {}\n", so.display()));
    }
    conf.push_str(&format!(
        "\npipeline:\n  inputs:\n    - name: gdummy\n      tag: dummy.t\n      dummy: '{{\"n\":1,\"s\":\"a\\\"b\"}}'\n      samples: 5\n      rate: 20\n\
         \x20   - name: gtail\n      tag: tail.t\n      path: {}\n      read_from_head: on\n\
         \x20   - name: forward\n      listen: 127.0.0.1\n      port: {port}\n\
         \x20 outputs:\n    - name: gstdout\n      match: '*'\n      format: msgpack\n",
        log.display()
    ));
    let p = dir.join("fluent-bit.yaml");
    std::fs::write(&p, conf).expect("fluent-bit.yaml");
    p
}

/// Records printed in msgpack format under `tag`: lines starting `[N] tag: [[`.
fn count_tagged(out: &[u8], tag: &str) -> usize {
    String::from_utf8_lossy(out)
        .lines()
        .filter(|l| {
            l.strip_prefix('[')
                .and_then(|r| r.split_once("] "))
                .is_some_and(|(n, rest)| n.parse::<u64>().is_ok() && rest.starts_with(&format!("{tag}: [[")))
        })
        .count()
}

/// Runs the pipeline of `config` (`program` is Fluent Bit, or valgrind with Fluent Bit first in
/// `pre`), checks every record arrives, then SIGTERMs it and returns how it ended.
fn run_pipeline(program: &Path, pre: &[String], config: &Path, port: u16, log: &Path, slow: u32) -> Ended {
    let dir = config.parent().expect("dir");
    let mut args = pre.to_vec();
    args.extend(["-c".to_string(), s(config)]);
    let mut fb = Fb::start(program, &args, dir);
    let step = Duration::from_secs(15 * u64::from(slow));
    let mut conn = fb.connect(port, step * 2);
    let (records, n) = tricky_records();
    conn.write_all(&packed_forward("fw.t", &records)).expect("send forward message");
    let ok = fb
        .wait_for("5 gdummy records, 3 gtail lines, the forward records", step, |o| {
            count_tagged(o, "dummy.t") >= 5 && count_tagged(o, "tail.t") >= 3 && count_tagged(o, "fw.t") >= n
        })
        .and_then(|_| {
            let mut f = std::fs::OpenOptions::new().append(true).open(log).expect("open log");
            f.write_all(b"line 4\nline 5\n").expect("append");
            fb.wait_for("the 2 lines appended to the tailed file", step, |o| count_tagged(o, "tail.t") >= 5)
        });
    if let Err(e) = ok {
        let ended = fb.terminate(step);
        panic!("{e}\n(after SIGTERM: {})", ended.all());
    }
    // gdummy stops after its 5 samples: more time brings no more records.
    std::thread::sleep(Duration::from_millis(1200));
    drop(conn);
    let ended = fb.terminate(step);
    assert!(!ended.killed, "Fluent Bit did not end within {step:?} of SIGTERM\n{}", ended.all());
    assert_eq!(count_tagged(&ended.out, "dummy.t"), 5, "gdummy samples 5\n{}", ended.all());
    assert_eq!(count_tagged(&ended.out, "tail.t"), 5, "{}", ended.all());
    assert_eq!(count_tagged(&ended.out, "fw.t"), n, "{}", ended.all());
    let text = String::from_utf8_lossy(&ended.out);
    let tail: Vec<&str> =
        text.lines().filter(|l| l.contains("] tail.t: [[")).filter_map(|l| l.split_once("}], ").map(|x| x.1)).collect();
    let want: Vec<String> = (1..=5).map(|i| format!("{{\"log\"=>\"line {i}\"}}]")).collect();
    assert_eq!(tail, want, "gtail's lines in order\n{}", ended.all());
    assert!(
        text.lines().filter(|l| l.contains("] dummy.t: [[")).all(|l| l.ends_with("{\"n\"=>1, \"s\"=>\"a\"b\"}]")),
        "gdummy's record\n{}",
        ended.all()
    );
    ended
}

fn assert_clean_exit(ended: &Ended) {
    assert_eq!(ended.code, Some(0), "SIGTERM must end Fluent Bit with exit code 0\n{}", ended.all());
    assert!(!ended.err.contains("[error]"), "an [error] line\n{}", ended.all());
    assert!(ended.err.contains("caught signal (SIGTERM)"), "{}", ended.all());
}

fn pipeline_files(tag: &str) -> (PathBuf, PathBuf, u16) {
    let dir = temp_dir(tag);
    let log = dir.join("app.log");
    std::fs::write(&log, "line 1\nline 2\nline 3\n").expect("log");
    (dir, log, free_port())
}

/// The pipeline written by `config` (classic or YAML) loads our three plugins, delivers, and ends
/// cleanly on SIGTERM.
fn loads_all_three_and_ends_cleanly(tag: &str, config: fn(&Path, u16, &Path) -> PathBuf) {
    let Some(fb) = fluent_bit_bin() else { return };
    let (dir, log, port) = pipeline_files(tag);
    let conf = config(&dir, port, &log);
    let ended = run_pipeline(&fb, &[], &conf, port, &log, 1);
    assert_clean_exit(&ended);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn plugins_file_loads_all_three_and_sigterm_ends_cleanly() {
    loads_all_three_and_ends_cleanly("classic", classic_pipeline);
}

#[test]
fn yaml_plugins_list_loads_all_three_and_sigterm_ends_cleanly() {
    loads_all_three_and_ends_cleanly("yaml", yaml_pipeline);
}

/// What names our code in a valgrind stack: the `.so` files (built as `lib<name>.so`) and the
/// crates' symbol paths.
const OUR_CODE: [&str; 7] = [
    "libin_gdummy.so",
    "libout_gstdout.so",
    "libin_gtail.so",
    "in_gdummy::",
    "out_gstdout::",
    "in_gtail::",
    "flb_plugin_sdk::",
];

/// The error reports of a valgrind log (`==PID== ` prefixes removed), one string per report: every
/// block whose first line is not one of valgrind's own headers or summaries.
fn valgrind_reports(log: &str) -> Vec<String> {
    let mut blocks = vec![String::new()];
    for line in log.lines() {
        let text = line.strip_prefix("==").and_then(|r| r.split_once("== ")).map_or(line, |x| x.1);
        if text.trim().is_empty() {
            blocks.push(String::new());
        } else {
            let b = blocks.last_mut().expect("a block");
            b.push_str(text);
            b.push('\n');
        }
    }
    let info = [
        "Memcheck,",
        "Copyright",
        "Using Valgrind",
        "Command:",
        "Parent PID",
        "HEAP SUMMARY",
        "in use at exit",
        "total heap usage",
        "All heap blocks were freed",
        "LEAK SUMMARY",
        "definitely lost:",
        "indirectly lost:",
        "possibly lost:",
        "still reachable:",
        "suppressed:",
        "Reachable blocks",
        "To see them",
        "For lists of detected",
        "For counts of detected",
        "ERROR SUMMARY",
        "Searching for pointers",
        "Rerun with",
        "Warning: set address range perms",
    ];
    blocks.into_iter().filter(|b| !b.is_empty() && !info.iter().any(|i| b.trim_start().starts_with(i))).collect()
}

#[test]
fn valgrind_reports_are_told_apart() {
    let log = "==7== Memcheck, a memory error detector\n==7== \n\
               ==7== 8 bytes in 1 blocks are definitely lost in loss record 1 of 2\n\
               ==7==    at 0x1: malloc (vg_replace_malloc.c:381)\n==7==    by 0x2: flb_sds_create (flb_sds.c:1)\n==7== \n\
               ==7== Invalid read of size 4\n==7==    at 0x3: gdummy_collect (in /x/libin_gdummy.so)\n==7== \n\
               ==7== LEAK SUMMARY:\n==7==    definitely lost: 8 bytes in 1 blocks\n==7== \n\
               ==7== ERROR SUMMARY: 2 errors from 2 contexts (suppressed: 0 from 0)\n";
    let r = valgrind_reports(log);
    assert_eq!(r.len(), 2, "{r:?}");
    assert!(r[0].starts_with("8 bytes in 1 blocks are definitely lost") && !OUR_CODE.iter().any(|o| r[0].contains(o)));
    assert!(r[1].starts_with("Invalid read") && OUR_CODE.iter().any(|o| r[1].contains(o)));
}

#[test]
fn plugins_file_pipeline_under_valgrind_has_no_error_and_no_definite_leak() {
    let Some(fb) = fluent_bit_bin() else { return };
    let Some(vg) = valgrind() else {
        // Not missing_tool(): CI never gets here (it has no FLUENT_BIT_BIN).
        println!("skipped: valgrind not installed");
        return;
    };
    let (dir, log, port) = pipeline_files("valgrind");
    let conf = classic_pipeline(&dir, port, &log);
    let vg_log = dir.join("valgrind.log");
    let pre: Vec<String> = [
        "--error-exitcode=99".to_string(),
        "--leak-check=full".to_string(),
        "--errors-for-leak-kinds=definite".to_string(),
        "--num-callers=40".to_string(),
        format!("--log-file={}", vg_log.display()),
        s(&fb),
    ]
    .to_vec();
    // Six times the usual waits: Fluent Bit takes a few seconds to start under valgrind.
    let ended = run_pipeline(&vg, &pre, &conf, port, &log, 6);
    let vlog = std::fs::read_to_string(&vg_log).expect("valgrind log");
    assert!(vlog.contains("ERROR SUMMARY:"), "valgrind wrote no summary\n{vlog}\n{}", ended.all());
    // Fluent Bit 5.1.1 itself reports nothing in this pipeline (no error, no leak: "All heap
    // blocks were freed"). Should a later run show a definite leak whose stack names none of
    // our code, it is Fluent Bit's: printed here and tolerated (it also makes valgrind exit 99).
    // Every other report fails the test: a leak or an invalid access in our code, and any
    // invalid access at all (it may be our plugin's doing through a pointer it handed over).
    let (theirs, failing): (Vec<String>, Vec<String>) = valgrind_reports(&vlog)
        .into_iter()
        .partition(|r| r.contains("are definitely lost") && !OUR_CODE.iter().any(|o| r.contains(o)));
    for r in &theirs {
        println!("tolerated, Fluent Bit's own definite leak (no frame of our plugins):\n{r}");
    }
    assert!(
        failing.is_empty(),
        "valgrind reports ({} naming our plugins):\n{}\n{}",
        failing.iter().filter(|r| OUR_CODE.iter().any(|o| r.contains(o))).count(),
        failing.join("\n"),
        ended.all()
    );
    let want = if theirs.is_empty() { 0 } else { 99 };
    assert_eq!(ended.code, Some(want), "valgrind's exit code\n{vlog}\n{}", ended.all());
    assert!(!ended.err.contains("[error]"), "an [error] line\n{}", ended.all());
    assert!(ended.err.contains("caught signal (SIGTERM)"), "{}", ended.all());
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------------
// gstdout against the native stdout

struct Combo {
    format: &'static str,
    date_format: Option<&'static str>,
    date_key: Option<&'static str>,
}

impl Combo {
    fn keys(&self) -> String {
        let mut k = format!("    Format {}\n", self.format);
        if let Some(d) = self.date_format {
            k.push_str(&format!("    Json_Date_Format {d}\n"));
        }
        if let Some(d) = self.date_key {
            k.push_str(&format!("    Json_Date_Key {d}\n"));
        }
        k
    }
    fn name(&self) -> String {
        format!("format={} json_date_format={:?} json_date_key={:?}", self.format, self.date_format, self.date_key)
    }
}

fn combos() -> Vec<Combo> {
    let mut v = vec![Combo { format: "msgpack", date_format: None, date_key: None }];
    for format in ["json", "json_lines", "json_stream"] {
        for d in ["double", "epoch", "epoch_ms", "iso8601", "java_sql_timestamp"] {
            v.push(Combo { format, date_format: Some(d), date_key: None });
        }
    }
    v.push(Combo { format: "json_lines", date_format: None, date_key: Some("ts") });
    v.push(Combo { format: "json", date_format: Some("iso8601"), date_key: Some("false") });
    v
}

/// A config with a forward input and, per combo `i`, a native `stdout` matching `n.i` and a
/// `gstdout` matching `g.i` with the same keys.
fn comparison_config(dir: &Path, port: u16, service: &str, combos: &[Combo]) -> PathBuf {
    let plugins = write_plugins_file(dir);
    let mut conf = format!(
        "[SERVICE]\n    Flush        0.2\n    Grace        2\n    Plugins_File {}\n{service}\n\
         [INPUT]\n    Name   forward\n    Listen 127.0.0.1\n    Port   {port}\n",
        plugins.display()
    );
    for (i, c) in combos.iter().enumerate() {
        for (name, side) in [("stdout", "n"), ("gstdout", "g")] {
            conf.push_str(&format!("\n[OUTPUT]\n    Name  {name}\n    Match {side}.{i}\n{}", c.keys()));
        }
    }
    let p = dir.join("fluent-bit.conf");
    std::fs::write(&p, conf).expect("config");
    p
}

/// What the native output (first) and gstdout (second) printed for one combo.
type Texts = (Vec<u8>, Vec<u8>);

/// Sends `records` to `n.i` and then `g.i` for every combo, one at a time, and returns each
/// side's stdout text per combo.
fn print_both(
    fb: &Path,
    dir: &Path,
    service: &str,
    combos: &[Combo],
    records: impl Fn(usize) -> Vec<u8>,
) -> (Vec<Texts>, Ended) {
    let port = free_port();
    let conf = comparison_config(dir, port, service, combos);
    let mut p = Fb::start(fb, &["-c".to_string(), s(&conf)], dir);
    let mut conn = p.connect(port, Duration::from_secs(30));
    let mut texts = Vec::new();
    for (i, c) in combos.iter().enumerate() {
        let mut pair = Vec::new();
        for side in ["n", "g"] {
            let mark = p.stdout().len();
            conn.write_all(&packed_forward(&format!("{side}.{i}"), &records(i))).expect("send");
            match p.settled_after(mark, &format!("{side}.{i} ({})", c.name())) {
                Ok(t) => pair.push(t),
                Err(e) => {
                    let ended = p.terminate(Duration::from_secs(15));
                    panic!("{e}\n(after SIGTERM: {})", ended.all());
                }
            }
        }
        let g = pair.pop().expect("g");
        let n = pair.pop().expect("n");
        texts.push((n, g));
    }
    drop(conn);
    (texts, p.terminate(Duration::from_secs(15)))
}

/// The first line where `a` and `b` differ, both escaped, for a failure message.
fn first_difference(a: &[u8], b: &[u8]) -> String {
    let (la, lb): (Vec<&[u8]>, Vec<&[u8]>) = (a.split(|&c| c == b'\n').collect(), b.split(|&c| c == b'\n').collect());
    for i in 0..la.len().max(lb.len()) {
        let (x, y) = (la.get(i).copied().unwrap_or(b"<none>"), lb.get(i).copied().unwrap_or(b"<none>"));
        if x != y {
            let at = x.iter().zip(y).take_while(|(p, q)| p == q).count();
            return format!(
                "line {} differs from byte {at}:\n  native:  {}\n  gstdout: {}",
                i + 1,
                x[at.saturating_sub(40)..x.len().min(at + 120)].escape_ascii(),
                y[at.saturating_sub(40)..y.len().min(at + 120)].escape_ascii()
            );
        }
    }
    "no line differs".to_string()
}

#[test]
fn gstdout_prints_what_native_stdout_prints_in_every_format_and_date_format() {
    let Some(fb) = fluent_bit_bin() else { return };
    let dir = temp_dir("compare");
    let combos = combos();
    let (records, n) = tricky_records();
    let (texts, ended) = print_both(&fb, &dir, "", &combos, |_| records.clone());
    assert_clean_exit(&ended);
    let mut failures = Vec::new();
    for (i, (c, (native, ours))) in combos.iter().zip(&texts).enumerate() {
        // Only the msgpack format prints the tag, which differs by design (n.i, g.i).
        let native = if c.format == "msgpack" { retag(native, i) } else { native.clone() };
        if native != *ours {
            failures.push(format!("{}: {}", c.name(), first_difference(&native, ours)));
        }
    }
    // The outputs saw the records: a sanity check that the comparison is not of two empty texts.
    let (native, _) = &texts[0];
    assert!(count_tagged(native, "n.0") == n, "native msgpack printed {}", String::from_utf8_lossy(native));
    let json = String::from_utf8_lossy(&texts[1].0);
    for want in ["18446744073709551615", "-9223372036854775808", "1e+300", "caf\\u00e9", "\\ud83d\\ude00"] {
        assert!(json.contains(want), "native json lacks {want}: {json}");
    }
    assert!(failures.is_empty(), "gstdout differs from the native stdout:\n{}", failures.join("\n"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `native` with its msgpack-format record prefixes `[N] n.i: [[` renamed to `[N] g.i: [[`,
/// bytewise (the records hold invalid UTF-8).
fn retag(native: &[u8], i: usize) -> Vec<u8> {
    let from = format!("] n.{i}: [[").into_bytes();
    let to = format!("] g.{i}: [[").into_bytes();
    let mut out = Vec::with_capacity(native.len());
    let mut at = 0;
    while at < native.len() {
        if native[at..].starts_with(&from) {
            out.extend_from_slice(&to);
            at += from.len();
        } else {
            out.push(native[at]);
            at += 1;
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Documented differences

/// plugins/gstdout/README.md, "Known and deliberate differences" and "Bad input", asserted in
/// a real Fluent Bit 5.1.1 (with `json.escape_unicode off` in `[SERVICE]`), each chunk being
/// `{"a":1}`, then the odd record, then `{"b":2}`:
/// * "A body that is not a map: Fluent Bit 5.1.1's decoder stops the chunk there [...]. gstdout
///   prints it: as is in msgpack format, as `{"date":...,"log":<body>}` in JSON."
/// * "A record that is well-formed msgpack but not a log record [...]: skipped; the other records
///   are printed [...] with one warning per chunk". Native stops the chunk there too (a
///   difference that section does not call one, see the list of deliberate differences).
/// * "`json.escape_unicode off` (a service setting) is not followed: non-ASCII is always
///   `\uXXXX`." (msgpack format prints the bytes in both.)
#[test]
fn documented_differences_non_map_body_non_record_and_escape_unicode_off() {
    let Some(fb) = fluent_bit_bin() else { return };
    let dir = temp_dir("differences");
    let c = |format| Combo { format, date_format: None, date_key: None };
    let combos = [
        c("msgpack"),
        c("json"),
        c("json_lines"),
        c("json_stream"),
        c("msgpack"),
        c("json_lines"),
        c("msgpack"),
        c("json_lines"),
    ];
    let payload = |i: usize| {
        let mut m = Mp::default();
        m.head(1700000000, 0, |m| {
            m.map(0);
        });
        m.map(1).s("a").uint(1);
        match i {
            0..=3 => {
                m.head(1700000001, 0, |m| {
                    m.map(0);
                });
                m.arr(2).uint(1).s("two");
            }
            4 | 5 => {
                m.s("not a record");
            }
            _ => {
                m.head(1700000001, 0, |m| {
                    m.map(0);
                });
                m.map(1).s("u").s("é 😀");
            }
        }
        m.head(1700000002, 0, |m| {
            m.map(0);
        });
        m.map(1).s("b").uint(2);
        m.0
    };
    let (texts, ended) = print_both(&fb, &dir, "    json.escape_unicode off\n", &combos, payload);
    let a = |tag: &str| format!("[0] {tag}: [[1700000000.000000000, {{}}], {{\"a\"=>1}}]\n");
    let b = |n: u32, tag: &str| format!("[{n}] {tag}: [[1700000002.000000000, {{}}], {{\"b\"=>2}}]\n");
    let (ja, jx, jb) = (
        r#"{"date":1700000000.0,"a":1}"#,
        r#"{"date":1700000001.0,"log":[1,"two"]}"#,
        r#"{"date":1700000002.0,"b":2}"#,
    );
    let want: [(String, String); 8] = [
        // A body that is not a map: native stops, gstdout prints it and goes on.
        (a("n.0"), format!("{}[1] g.0: [[1700000001.000000000, {{}}], [1, \"two\"]]\n{}", a("g.0"), b(2, "g.0"))),
        (format!("[{ja}]\n"), format!("[{ja},{jx},{jb}]\n")),
        (format!("{ja}\n"), format!("{ja}\n{jx}\n{jb}\n")),
        (format!("{ja}\n"), format!("{ja}{jx}{jb}\n")),
        // Not a record at all: native stops, gstdout skips it.
        (a("n.4"), format!("{}{}", a("g.4"), b(1, "g.4"))),
        (format!("{ja}\n"), format!("{ja}\n{jb}\n")),
        // json.escape_unicode off: the same in msgpack format, escaped by gstdout in JSON.
        (
            format!("{}[1] n.6: [[1700000001.000000000, {{}}], {{\"u\"=>\"é 😀\"}}]\n{}", a("n.6"), b(2, "n.6")),
            format!("{}[1] g.6: [[1700000001.000000000, {{}}], {{\"u\"=>\"é 😀\"}}]\n{}", a("g.6"), b(2, "g.6")),
        ),
        (
            format!("{ja}\n{{\"date\":1700000001.0,\"u\":\"é 😀\"}}\n{jb}\n"),
            format!("{ja}\n{{\"date\":1700000001.0,\"u\":\"\\u00e9 \\ud83d\\ude00\"}}\n{jb}\n"),
        ),
    ];
    let mut failures = Vec::new();
    for (i, ((native, ours), (want_native, want_ours))) in texts.iter().zip(&want).enumerate() {
        let (native, ours) = (String::from_utf8_lossy(native), String::from_utf8_lossy(ours));
        if native != *want_native || ours != *want_ours {
            failures.push(format!(
                "case {i} ({}):\n  native:  {native:?}\n  want:    {want_native:?}\n  gstdout: {ours:?}\n  want:    {want_ours:?}",
                combos[i].name()
            ));
        }
    }
    assert!(failures.is_empty(), "{}\n{}", failures.join("\n"), ended.all());
    assert_eq!(ended.code, Some(0), "{}", ended.all());
    // The only [error] lines are the native decoder's (msgpack format logs it, JSON stops silently).
    let errors: Vec<&str> = ended.err.lines().filter(|l| l.contains("[error]")).collect();
    assert_eq!(errors.len(), 2, "{}", ended.all());
    assert!(errors.iter().all(|l| l.contains("[output:stdout:stdout.") && l.contains("Log event decoder error")));
    let warnings =
        ended.err.lines().filter(|l| l.contains("[gstdout] skipped 1 malformed record(s) of 3 in a chunk")).count();
    assert_eq!(warnings, 2, "one warning per chunk, two chunks (msgpack, json_lines)\n{}", ended.all());
    let _ = std::fs::remove_dir_all(&dir);
}

/// `make bench`'s real-Fluent-Bit rows run as a smoke run (`bench/fluent_bit.py --quick`): every
/// configuration starts, ours and native print every line they read (counted through a pipe), and
/// each row has a figure, so a full run can only fail on speed, never on the harness.
#[test]
fn bench_rows_run_in_a_real_fluent_bit() {
    let Some(fb) = fluent_bit_bin() else { return };
    let out = std::process::Command::new("python3")
        .arg(workspace_root().join("bench/fluent_bit.py"))
        .arg("--quick")
        .env("FLUENT_BIT_BIN", fb)
        .current_dir(workspace_root())
        .output()
        .expect("run python3 bench/fluent_bit.py");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let rows: Vec<&str> = stdout.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| workload")).collect();
    assert_eq!(rows.len(), 9, "{stdout}");
    assert!(rows.iter().all(|r| !r.contains("failed")), "{stdout}\n{stderr}");
    assert!(stdout.contains("tail → gstdout vs stdout `json_lines`"), "{stdout}");
    assert!(stdout.contains("tail → null with `multiline.parser cri`"), "{stdout}");
}
