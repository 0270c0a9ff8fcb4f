//! Test support for `flb-host`, the C program that drives Fluent Bit proxy plugins exactly as
//! Fluent Bit 5.1.1 does. The build script compiles the host (normal and ASan builds) and the C test
//! plugins; the reference tracer plugins are built from `tests/fixtures/traces/tracer` on first use
//! ([`tracer_dir`]).
//!
//! Helpers here run the host, capture its output, locate plugins and normalise traces.

use std::collections::{BTreeMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Exit code of the host when a flush overflowed the coroutine stack (guard page hit).
pub const EXIT_CORO_OVERFLOW: i32 = 87;

/// Path of the normal `flb-host` build (malloc counting on).
pub fn host_bin() -> PathBuf {
    PathBuf::from(env!("FLB_HOST_BIN"))
}

/// Path of the `-fsanitize=address,undefined` build (malloc counting compiled out).
pub fn host_asan_bin() -> PathBuf {
    PathBuf::from(env!("FLB_HOST_ASAN_BIN"))
}

/// A C test plugin from `c-host/tests/plugins/<name>.c`, built into a `.so`.
pub fn test_plugin(name: &str) -> PathBuf {
    PathBuf::from(env!("FLB_TEST_PLUGIN_DIR")).join(format!("{name}.so"))
}

/// `tests/fixtures` of the repository: reference data captured from a real Fluent Bit 5.1.1
/// (tests/fixtures/README.md). Tests only read it.
pub fn fixtures_dir() -> PathBuf {
    workspace_root().join("tests").join("fixtures")
}

/// Directory holding `in_ctest.so` and `out_ctest.so`, built from `tests/fixtures/traces/tracer`
/// with the command of its README (`cc -O1 -g -shared -fPIC ... -lpthread`, `-ldl` for the output)
/// once per test process, into this crate's `OUT_DIR`. Panics when the compiler fails.
pub fn tracer_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let src = fixtures_dir().join("traces").join("tracer");
        let out = PathBuf::from(env!("OUT_DIR")).join("fixture-tracer");
        std::fs::create_dir_all(&out).unwrap_or_else(|e| panic!("cannot create {}: {e}", out.display()));
        let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
        for (name, extra) in [("in_ctest", None), ("out_ctest", Some("-ldl"))] {
            // Built under a name of this process, then renamed: test binaries running at once
            // never load a half-written file.
            let tmp = out.join(format!("{name}.so.{}", std::process::id()));
            let mut cmd = Command::new(&cc);
            cmd.args(["-O1", "-g", "-shared", "-fPIC", "-o"])
                .arg(&tmp)
                .arg(src.join(format!("{name}.c")))
                .arg("-lpthread");
            if let Some(x) = extra {
                cmd.arg(x);
            }
            let st = cmd.status().unwrap_or_else(|e| panic!("cannot run {cc} for the tracer {name}: {e}"));
            assert!(st.success(), "building the tracer {name} failed: {cmd:?}");
            std::fs::rename(&tmp, out.join(format!("{name}.so")))
                .unwrap_or_else(|e| panic!("cannot move the tracer {name} into place: {e}"));
        }
        out
    })
    .clone()
}

/// `tests/fixtures/traces`: the reference traces of a real Fluent Bit 5.1.1.
pub fn traces_dir() -> PathBuf {
    fixtures_dir().join("traces")
}

/// Repository root (the workspace holding `c-host/`).
pub fn workspace_root() -> PathBuf {
    let m = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    m.parent().map(Path::to_path_buf).unwrap_or(m)
}

/// What a host run produced.
#[derive(Debug)]
pub struct Run {
    /// exit status (None when it had to be killed after the timeout)
    pub status: Option<ExitStatus>,
    /// exit code, when it exited normally
    pub code: Option<i32>,
    /// everything written to stdout
    pub stdout: String,
    /// everything written to stderr, the `[YYYY/MM/DD HH:MM:SS.mmm] ` that starts each log line
    /// taken off (it changes with every run; see [`strip_log_time`])
    pub stderr: String,
    /// everything written to stderr, as written
    pub stderr_raw: String,
    /// the run was killed after the timeout
    pub timed_out: bool,
}

impl Run {
    /// stdout and stderr together, for assertion messages.
    pub fn all(&self) -> String {
        format!("exit={:?}\n--- stdout ---\n{}\n--- stderr ---\n{}", self.code, self.stdout, self.stderr)
    }
}

/// Run `bin` with `args` and extra environment; kill it after `timeout`.
pub fn run_with(bin: &Path, args: &[&str], envs: &[(&str, &str)], timeout: Duration) -> Run {
    run_with_env(bin, args, envs, &[], timeout)
}

/// Run `bin` with `args`, extra environment `envs` and the variables `remove` taken out of the
/// inherited environment; kill it after `timeout`.
pub fn run_with_env(bin: &Path, args: &[&str], envs: &[(&str, &str)], remove: &[&str], timeout: Duration) -> Run {
    let mut cmd = Command::new(bin);
    cmd.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    for k in remove {
        cmd.env_remove(k);
    }
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            let stderr = format!("cannot start {}: {e}", bin.display());
            return Run {
                status: None,
                code: None,
                stdout: String::new(),
                stderr_raw: stderr.clone(),
                stderr,
                timed_out: false,
            };
        }
    };
    let mut out_pipe = child.stdout.take();
    let mut err_pipe = child.stderr.take();
    let out_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(p) = out_pipe.as_mut() {
            let _ = p.read_to_end(&mut s);
        }
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(p) = err_pipe.as_mut() {
            let _ = p.read_to_end(&mut s);
        }
        s
    });
    let start = Instant::now();
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            Ok(None) => {
                if start.elapsed() > timeout {
                    let _ = child.kill();
                    timed_out = true;
                    break child.wait().ok();
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(_) => break None,
        }
    };
    let stdout = String::from_utf8_lossy(&out_t.join().unwrap_or_default()).into_owned();
    let stderr_raw = String::from_utf8_lossy(&err_t.join().unwrap_or_default()).into_owned();
    let stderr = strip_log_times(&stderr_raw);
    Run { code: status.and_then(|s| s.code()), status, stdout, stderr, stderr_raw, timed_out }
}

/// The length of the `[2026/01/31 12:00:00.123] ` that starts a log line of flb-host (and of
/// Fluent Bit), or None when the line does not start with one.
pub fn log_time_len(line: &str) -> Option<usize> {
    const SHAPE: &[u8] = b"[dddd/dd/dd dd:dd:dd.ddd] ";
    let b = line.as_bytes();
    let fits = b.len() >= SHAPE.len()
        && SHAPE.iter().zip(b).all(|(&s, &c)| if s == b'd' { c.is_ascii_digit() } else { s == c });
    fits.then_some(SHAPE.len())
}

/// A log line without its `[YYYY/MM/DD HH:MM:SS.mmm] ` prefix; other lines as they are.
pub fn strip_log_time(line: &str) -> &str {
    log_time_len(line).map_or(line, |n| &line[n..])
}

/// [`strip_log_time`] on every line of a captured output.
pub fn strip_log_times(text: &str) -> String {
    text.split_inclusive('\n').map(strip_log_time).collect()
}

/// Run the normal host build with a 60 s safety timeout.
pub fn run_host(args: &[&str]) -> Run {
    run_with(&host_bin(), args, &[], Duration::from_secs(60))
}

/// Run the host with extra environment variables (60 s safety timeout).
pub fn run_host_env(args: &[&str], envs: &[(&str, &str)]) -> Run {
    run_with(&host_bin(), args, envs, Duration::from_secs(60))
}

/// A flb-host argument list: `-e <lib>` for each plugin library in `libs`, then the words of
/// `spec` (split on white space, so no argument in it may hold a space: append such ones to the
/// returned list).
pub fn host_args(libs: &[&str], spec: &str) -> Vec<String> {
    let mut v: Vec<String> = libs.iter().flat_map(|l| ["-e".to_string(), l.to_string()]).collect();
    v.extend(spec.split_whitespace().map(str::to_string));
    v
}

/// `&str` views of an owned argument list, for [`run_host`] and the other runners.
pub fn arg_refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// The C test plugin `input` (tests/plugins/in_<input>) into `output` (out_<output>) with the
/// fast timers (`--interval 0.05 --flush 0.1`) for `secs` seconds, plus `extra` (white-space split,
/// as in [`host_args`]), e.g. `--abi 1.9`.
pub fn tp_pipe_args(input: &str, output: &str, secs: &str, extra: &str) -> Vec<String> {
    let (i, o) = (s(&test_plugin(&format!("in_{input}"))), s(&test_plugin(&format!("out_{output}"))));
    host_args(&[&i, &o], &format!("-i {input} -o {output} --interval 0.05 --flush 0.1 --duration {secs} {extra}"))
}

/// [`run_host`] over an owned argument list.
pub fn run_host_v(args: &[String]) -> Run {
    run_host(&arg_refs(args))
}

/// The run ended with exit code `code`; the message names `what` and shows all the output.
pub fn assert_exit(run: &Run, code: i32, what: &str) {
    assert_eq!(run.code, Some(code), "{what}: {}", run.all());
}

/// `path.to_str()` for arguments (test paths are UTF-8).
pub fn s(p: &Path) -> String {
    p.display().to_string()
}

static BUILT: Mutex<Option<HashSet<String>>> = Mutex::new(None);

/// Build one of our Rust plugin packages (`cargo build --release -p <pkg>`, once per package
/// per test process) and return `target/release/lib<lib>.so`.
pub fn rust_plugin(pkg: &str, lib: &str) -> PathBuf {
    let root = workspace_root();
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    let so = target.join("release").join(format!("lib{lib}.so"));
    let mut guard = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let set = guard.get_or_insert_with(HashSet::new);
    if !set.contains(pkg) {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let status = Command::new(cargo).args(["build", "--release", "-p", pkg]).current_dir(&root).status();
        match status {
            Ok(st) if st.success() => {}
            other => panic!("cargo build --release -p {pkg} failed: {other:?}"),
        }
        set.insert(pkg.to_string());
    }
    so
}

/// Whether `plugins/**/<dir>` holds a package that is a member of the workspace (our Rust
/// plugins appear there while being written; an unlisted directory is not built).
pub fn rust_package_exists(dir: &str) -> bool {
    let root = workspace_root();
    let members = std::fs::read_to_string(root.join("Cargo.toml")).unwrap_or_default();
    let mut stack = vec![root.join("plugins")];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n == dir) && p.join("Cargo.toml").is_file() {
                    let rel = p.strip_prefix(&root).map(|r| r.display().to_string()).unwrap_or_default();
                    return members.contains(&format!("\"{rel}\""));
                }
                stack.push(p);
            }
        }
    }
    false
}

// ---------------------------------------------------------------------------------------------
// Traces

/// The README's sed expression, in Rust:
/// `s/^\[[0-9.]+\] //; s/ \(pid=[0-9]+ tid=[0-9]+ thread=/ (thread=/; s/0x[0-9a-f]+/X/g`.
pub fn strip_trace_line(line: &str) -> String {
    let mut l = line.to_string();
    // 1. leading "[<digits and dots>] "
    if let Some(rest) = l.strip_prefix('[') {
        if let Some(end) = rest.find("] ") {
            let ts = &rest[..end];
            if !ts.is_empty() && ts.chars().all(|c| c.is_ascii_digit() || c == '.') {
                l = rest[end + 2..].to_string();
            }
        }
    }
    // 2. " (pid=N tid=N thread=" -> " (thread="
    if let Some(at) = l.find(" (pid=") {
        let rest = &l[at + 6..];
        let digits = |s: &str| s.chars().take_while(char::is_ascii_digit).count();
        let n1 = digits(rest);
        if n1 > 0 {
            if let Some(r2) = rest[n1..].strip_prefix(" tid=") {
                let n2 = digits(r2);
                if n2 > 0 {
                    if let Some(r3) = r2[n2..].strip_prefix(" thread=") {
                        l = format!("{} (thread={}", &l[..at], r3);
                    }
                }
            }
        }
    }
    // 3. 0x[0-9a-f]+ -> X
    let b = l.as_bytes();
    let mut out = String::with_capacity(l.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'0' && b.get(i + 1) == Some(&b'x') {
            let mut j = i + 2;
            while j < b.len() && (b[j].is_ascii_digit() || (b'a'..=b'f').contains(&b[j])) {
                j += 1;
            }
            if j > i + 2 {
                out.push('X');
                i = j;
                continue;
            }
        }
        out.push(b[i] as char);
        i += 1;
    }
    out
}

/// One normalised trace line: the plugin, the callback text and the thread it ran on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TraceLine {
    /// thread name
    pub thread: String,
    /// "[in_ctest] FLBPluginInputCallback legacy=0" etc. (counters and sizes removed)
    pub text: String,
    /// collect / cleanup / flush / stack lines, whose counts depend on the run length
    pub repeating: bool,
}

fn drop_word_with_prefix(s: &str, prefix: &str) -> String {
    s.split(' ').filter(|w| !w.starts_with(prefix)).collect::<Vec<_>>().join(" ")
}

/// Strip (README sed) and normalise a tracer trace: keep only tracer callback lines
/// (`[in_ctest] ...` / `[out_ctest] ...` with a thread), drop the `touched N KiB` lines, and drop
/// the run-length dependent fields `#N` and `size=N`, and `first_bytes=..` (printed by the
/// current tracer, absent from the reference traces, which an older tracer printed).
pub fn normalise_trace(raw: &str) -> Vec<TraceLine> {
    let mut v = Vec::new();
    for line in raw.lines() {
        let l = strip_trace_line(line);
        if !(l.starts_with("[in_ctest] ") || l.starts_with("[out_ctest] ")) {
            continue;
        }
        let Some(tpos) = l.rfind(" (thread='") else {
            continue;
        };
        let thread = l[tpos + 10..].trim_end_matches(')').trim_end_matches('\'');
        let mut text = l[..tpos].to_string();
        if text.contains(" touched ") {
            continue;
        }
        if let Some(fb) = text.find(" first_bytes=") {
            text.truncate(fb);
        }
        let repeating = text.contains("FLBPluginInputCallback")
            || text.contains("FLBPluginInputCleanupCallback")
            || text.contains("FLBPluginFlush")
            || text.contains(" stack: ");
        if repeating {
            text = drop_word_with_prefix(&text, "#");
            text = drop_word_with_prefix(&text, "size=");
        }
        v.push(TraceLine { thread: thread.to_string(), text, repeating });
    }
    v
}

/// A per-thread sequence with counts aside: each lifecycle line as is, each maximal run of
/// repeating lines (between two lifecycle lines of that thread) as the sorted set of its
/// distinct lines.
pub fn per_thread_shape(t: &[TraceLine]) -> BTreeMap<String, Vec<String>> {
    let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut groups: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    for l in t {
        let seq = m.entry(l.thread.clone()).or_default();
        let g = groups.entry(l.thread.clone()).or_default();
        if l.repeating {
            g.insert(l.text.clone());
        } else {
            if !g.is_empty() {
                seq.push(format!("{{{}}}", g.iter().cloned().collect::<Vec<_>>().join(" | ")));
                g.clear();
            }
            seq.push(l.text.clone());
        }
    }
    for (th, g) in groups {
        if !g.is_empty() {
            m.entry(th).or_default().push(format!("{{{}}}", g.iter().cloned().collect::<Vec<_>>().join(" | ")));
        }
    }
    m
}

/// The global order of lifecycle lines, except the input's second `FLBPluginInputPause`, which
/// runs concurrently with the output's exit in Fluent Bit (the three references disagree on its
/// position).
pub fn global_lifecycle(t: &[TraceLine]) -> Vec<String> {
    let mut pauses = 0;
    let mut v = Vec::new();
    for l in t.iter().filter(|l| !l.repeating) {
        if l.text.contains("FLBPluginInputPause") {
            pauses += 1;
            if pauses == 2 {
                continue;
            }
        }
        v.push(format!("{} ({})", l.text, l.thread));
    }
    v
}

/// Compare two traces "counts aside". Returns a description of every difference.
pub fn compare_traces(reference: &[TraceLine], ours: &[TraceLine]) -> Vec<String> {
    let mut diffs = Vec::new();
    let a = per_thread_shape(reference);
    let b = per_thread_shape(ours);
    let threads: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    for th in threads {
        let empty = Vec::new();
        let x = a.get(th).unwrap_or(&empty);
        let y = b.get(th).unwrap_or(&empty);
        if x != y {
            diffs.push(format!("thread '{th}':\n  reference: {x:#?}\n  ours:      {y:#?}"));
        }
    }
    let ga = global_lifecycle(reference);
    let gb = global_lifecycle(ours);
    if ga != gb {
        diffs.push(format!("global lifecycle order:\n  reference: {ga:#?}\n  ours:      {gb:#?}"));
    }
    diffs
}

// ---------------------------------------------------------------------------------------------
// Sanitizers

/// `c-host/lsan.supp`: the LeakSanitizer suppressions every ASan run of the host uses. It may only
/// name reports that are the host's own, ld.so's or glibc's, each with a comment saying why; a leak
/// of a plugin is never suppressed (profiles_asan.rs checks the file and that a leaking plugin is
/// still reported with it in effect).
pub fn lsan_suppressions() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("lsan.supp")
}

/// The environment of every run of the ASan/UBSan host: leaks detected at exit, any report (ASan,
/// LeakSanitizer, UBSan) ends the process with exit code 23, the suppressions of
/// [`lsan_suppressions`].
pub fn asan_env() -> Vec<(&'static str, String)> {
    let supp = lsan_suppressions();
    assert!(supp.is_file(), "the LeakSanitizer suppressions file is missing: {}", supp.display());
    vec![
        ("ASAN_OPTIONS", "detect_leaks=1:halt_on_error=1:exitcode=23".to_string()),
        ("LSAN_OPTIONS", format!("suppressions={}:print_suppressions=1", supp.display())),
        ("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1:exitcode=23".to_string()),
    ]
}

/// Run the ASan/UBSan host build with [`asan_env`] plus `envs`; kill it after `timeout`.
pub fn run_asan(args: &[&str], envs: &[(&str, &str)], timeout: Duration) -> Run {
    let base = asan_env();
    let mut all: Vec<(&str, &str)> = base.iter().map(|(k, v)| (*k, v.as_str())).collect();
    all.extend_from_slice(envs);
    run_with(&host_asan_bin(), args, &all, timeout)
}

/// [`run_asan`] with no extra environment and a 60 s timeout, over an owned argument list.
pub fn run_asan_v(args: &[String]) -> Run {
    run_asan(&arg_refs(args), &[], Duration::from_secs(60))
}

/// The first sanitizer report in `stderr`, from its first line to the end: AddressSanitizer,
/// LeakSanitizer (leaks, or a suppressions file it could not read), UBSan (`runtime error:`).
pub fn sanitizer_report(stderr: &str) -> Option<&str> {
    ["ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:", "failed to read suppressions file"]
        .iter()
        .filter_map(|m| stderr.find(m))
        .min()
        .map(|at| &stderr[stderr[..at].rfind('\n').map_or(0, |n| n + 1)..])
}

/// The run has no sanitizer report ([`sanitizer_report`]); `what` names the run in the panic, which
/// shows the report and all the output otherwise.
pub fn assert_no_sanitizer_report(run: &Run, what: &str) {
    if let Some(r) = sanitizer_report(&run.stderr) {
        panic!("{what}: sanitizer report:\n{r}\n\n{}", run.all());
    }
}

/// Whether LeakSanitizer runs in the ASan host here: the C test plugin `in_trules` leaking 16 bytes
/// per flush into `out_tout`, with [`lsan_suppressions`] in effect, must be reported and end the
/// host with exit code 23. `Err` says why it cannot run (it needs ptrace-like rights, which some
/// containers deny); a run that should have been reported and was not for any other reason (a
/// suppression hiding a plugin's leak, say) panics.
pub fn lsan_probe() -> Result<(), String> {
    let (i, o) = (s(&test_plugin("in_trules")), s(&test_plugin("out_tout")));
    let run =
        run_asan_v(&host_args(&[&i, &o], "-i trules -o tout -p leak=16 --interval 0.05 --flush 0.1 --duration 0.3"));
    if run.stderr.contains("ERROR: LeakSanitizer: detected memory leaks") {
        assert_eq!(run.code, Some(23), "a leak report ends the host with ASAN_OPTIONS' exitcode: {}", run.all());
        assert!(!run.stderr.contains("Suppressions used:"), "the plugin's leak matched a suppression: {}", run.all());
        return Ok(());
    }
    let cannot = ["LeakSanitizer has encountered a fatal error", "LeakSanitizer does not work under ptrace"];
    if let Some(why) = cannot.iter().find(|m| run.stderr.contains(*m)) {
        return Err(format!("LeakSanitizer cannot run here ({why}; it needs ptrace-like rights)"));
    }
    panic!("a plugin leaking 16 bytes per flush was not reported by LeakSanitizer: {}", run.all());
}

/// [`lsan_probe`] once per test process; when LeakSanitizer cannot run, [`missing_tool`] (a failure
/// in CI) and `false`: the caller's ASan runs then still check ASan and UBSan errors, not leaks.
pub fn require_lsan() -> bool {
    static WORKS: OnceLock<Result<(), String>> = OnceLock::new();
    match WORKS.get_or_init(lsan_probe) {
        Ok(()) => true,
        Err(why) => {
            missing_tool(&format!("{why}: leak detection off, ASan and UBSan errors still checked"));
            false
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Environment probes

/// Whether this runs in CI: `CI=true` (GitHub Actions sets it; `.ci/run` runs there) or `CI=1`.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// A test cannot run because a tool it needs is missing (valgrind, a sanitizer runtime, ...). In CI
/// ([`in_ci`]) that is a failure: this panics with `what`. Elsewhere it prints `skipped: <what>`
/// and returns, and the caller returns (the test passes without having checked anything).
pub fn missing_tool(what: &str) {
    assert!(!in_ci(), "CI is set and this test's tool is missing: {what}");
    println!("skipped: {what} (a failure when CI=true)");
}

/// `Some(path)` when valgrind is installed.
pub fn valgrind() -> Option<PathBuf> {
    for p in ["/usr/bin/valgrind", "/usr/local/bin/valgrind"] {
        if Path::new(p).is_file() {
            return Some(PathBuf::from(p));
        }
    }
    None
}

/// The normal host build under valgrind (errors and definite, indirect and possible leaks fail it
/// with exit code 99; 120 s timeout), asserted to exit 0 with `ERROR SUMMARY: 0 errors`. `None`
/// (after [`missing_tool`]) when valgrind is not installed.
pub fn run_valgrind_clean(args: &[String]) -> Option<Run> {
    let Some(vg) = valgrind() else {
        missing_tool("valgrind is not installed");
        return None;
    };
    let host = s(&host_bin());
    let mut v: Vec<&str> =
        vec!["--error-exitcode=99", "--leak-check=full", "--errors-for-leak-kinds=definite,indirect,possible", &host];
    v.extend(arg_refs(args));
    let run = run_with(&vg, &v, &[], Duration::from_secs(120));
    assert_exit(&run, 0, "valgrind");
    assert!(run.stderr.contains("ERROR SUMMARY: 0 errors"), "{}", run.all());
    Some(run)
}

/// The directory `<temp>/flb-host-<tag>-<pid>`, created if missing.
pub fn scratch_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flb-host-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir
}

/// `FLUENT_BIT_BIN`, the real Fluent Bit the optional comparisons run; `None` (the test is
/// skipped, and says so) when it is not set.
pub fn fluent_bit_bin() -> Option<String> {
    let fb = std::env::var("FLUENT_BIT_BIN").ok();
    if fb.is_none() {
        println!("skipped: FLUENT_BIT_BIN not set");
    }
    fb
}

/// A copy of the host binary in a fresh [`scratch_dir`] with only the shim libraries `keep`
/// copied beside it, for the missing-shim tests: `(directory, binary)`.
pub fn host_copy_with_shims(tag: &str, keep: &[&str]) -> (PathBuf, PathBuf) {
    let dir = scratch_dir(tag);
    let bin = dir.join("flb-host");
    std::fs::copy(host_bin(), &bin).expect("copy the host");
    for shim in keep {
        std::fs::copy(host_bin().with_file_name(shim), dir.join(shim)).unwrap_or_else(|e| panic!("copy {shim}: {e}"));
    }
    (dir, bin)
}

/// A run of such a copy failed (exit 1) with a clear load error: `cannot load <dir>/<shim>`,
/// naming the option `flag` that needs no shim.
pub fn assert_missing_shim(run: &Run, dir: &Path, shim: &str, flag: &str) {
    assert_exit(run, 1, "missing shim");
    assert!(
        run.stderr.contains(&format!("cannot load {}", s(&dir.join(shim)))) && run.stderr.contains(flag),
        "{}",
        run.all()
    );
}

/// Lines `TP <plugin> <event...> thread=<name>` printed by the C test plugins.
pub fn tp_events(stderr: &str) -> Vec<String> {
    stderr.lines().filter(|l| l.starts_with("TP ")).map(|l| l.to_string()).collect()
}

/// Parse the `key=value` fields of the host's summary line for an instance (e.g. "tout.0").
pub fn summary_fields(stderr: &str, instance: &str) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for l in stderr.lines() {
        let Some(rest) = l.strip_prefix("flb-host:   ") else {
            continue;
        };
        let mut words = rest.split_whitespace();
        let _kind = words.next();
        if words.next() != Some(instance) {
            continue;
        }
        for w in words {
            if let Some((k, v)) = w.split_once('=') {
                m.insert(k.to_string(), v.trim_end_matches(':').to_string());
            }
        }
    }
    m
}

/// The numeric value of `key` in a summary map (0 when absent).
pub fn field(m: &BTreeMap<String, String>, key: &str) -> u64 {
    m.get(key).and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// `s` without ANSI colour sequences (Fluent Bit's help is bold in places).
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\u{1b}' {
            for d in it.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// What a process started by [`run_then_term`] left.
pub struct Ended {
    /// The exit code; `None` when a signal ended it.
    pub code: Option<i32>,
    /// Everything written to stdout.
    pub stdout: String,
    /// Everything written to stderr.
    pub stderr: String,
    /// It exited before `secs` passed, without our SIGTERM.
    pub by_itself: bool,
}

/// Starts `bin` with `args` and `envs` (in `dir` when given) and lets it run until it exits or
/// `secs` pass; then SIGTERM, 20 s to end, SIGKILL. For Fluent Bit runs, which only end on a
/// signal. Output goes to files, so a chatty process never blocks on a full pipe.
pub fn run_then_term(bin: &str, args: &[&str], envs: &[(&str, &str)], dir: Option<&Path>, secs: Duration) -> Ended {
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let files = scratch_dir(&format!("run-then-term{n}"));
    let (out_path, err_path) = (files.join("stdout"), files.join("stderr"));
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"));
    if let Some(d) = dir {
        cmd.current_dir(d);
    }
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
    let exited = |child: &mut std::process::Child, until: Instant| {
        while Instant::now() < until {
            if matches!(child.try_wait(), Ok(Some(_))) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    };
    let by_itself = exited(&mut child, Instant::now() + secs);
    if !by_itself {
        let pid = libc::pid_t::try_from(child.id()).expect("pid fits");
        // SAFETY: kill(2) on the child we started and still own (not yet reaped).
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        if !exited(&mut child, Instant::now() + Duration::from_secs(20)) {
            let _ = child.kill();
        }
    }
    // Reaps the child, or returns the status try_wait already collected.
    let status = child.wait().ok();
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    let ended =
        Ended { code: status.and_then(|s| s.code()), stdout: read(&out_path), stderr: read(&err_path), by_itself };
    let _ = std::fs::remove_dir_all(&files);
    ended
}
