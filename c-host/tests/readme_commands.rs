//! Every command README.md and c-host/README.md show runs as written.
//!
//! Which commands (the rule):
//! * every line of a ```` ```sh ```` block (a line ending in `\` joined with the next, `#` comments
//!   and blank lines dropped);
//! * every line starting with `$ ` in any fenced block: a shell session, whose following lines, up
//!   to the next `$ ` line or the end of the block, are what the command printed;
//! * every inline code span outside fenced blocks that starts with the word `make`,
//!   `target/flb-host/flb-host` or `fluent-bit` followed by arguments (so not `fluent-bit.conf`,
//!   not a lone `flb-host`, and not the placeholder forms `flb-host check`, `flb-host -e X.so ...`).
//!
//! A fenced block right after a prose line ending in `` `COMMAND` prints:`` is what COMMAND
//! prints, and one right after a line ending in `` `NAME.conf`: `` is a config file the reader
//! writes. Each distinct command runs once: `make` commands first (they build what the others use:
//! `make plugins`, `make target/flb-host/flb-host`), then the others in README order.
//!
//! Not run: `make test` (this suite is part of it), `make sanitize` (part of `make test`; sanitizer
//! builds take many minutes), `make bench` (the full benchmark run, minutes), `make bench-quick`
//! (the bench smoke run `make test` already does), `make lint` (CI runs the same `cargo fmt
//! --check` and clippy itself before `make test`; a cold clippy run takes minutes), `make clean`
//! (deletes `target/`, this test's own binary and the plugins the other tests load), `make fuzz`
//! (with any arguments: nightly builds and minutes of fuzzing; `make test` replays the corpora) and
//! `make miri` (minutes of Miri; `.ci/run` runs it after `make test`), and the
//! commands of the official container image (`docker ...`, or naming its `/fluent-bit/`
//! directory: they need Docker and a network).
//!
//! How each runs: `sh -c COMMAND` from the repository root, in a process group of its own, with
//! `MAKEFLAGS`, `MFLAGS`, `MAKELEVEL` and `FLUENT_BIT_VERSION` taken out of the environment (a
//! reader's shell has none of them; a command that needs the variable sets it itself), one command
//! at a time. The only changes to the text: a `--duration N` above 2 becomes `--duration 2` (gdummy's
//! first collect comes one second in: a one-second run raced it on a loaded machine), and
//! the word `fluent-bit` becomes `$FLUENT_BIT_BIN` (commands using it run only when that is set, in
//! their own test). A command naming files the README tells the reader to copy or write first
//! runs in a scratch directory holding them, with a `target` link to the repository's so that
//! repository paths still resolve: plugins named without a directory (`in_gdummy.so`,
//! `./in_gdummy.so`: "Copy them where Fluent Bit can read them"; our built plugins under those
//! names) and the README's `plugins.conf` / `fluent-bit.conf` blocks (the plugins directory
//! `/opt/fluent-bit/plugins/` of `plugins.conf` pointing at the scratch directory). A `fluent-bit`
//! command without `-h` runs until stopped: it gets SIGTERM after 4 s and must then exit 0 having
//! printed records.
//!
//! What passes: exit code 0 (non-zero for a `$` command whose shown output has an `[error]`
//! line), every line the README shows it printing (`$` sessions: Fluent Bit's timestamps aside;
//! `prints:` blocks: numbers aside, `...` lines skipped), and a meaningful bit of output per kind
//! of command ([`meaningful`]; `make headers` must leave `include/` as checked in). A command that
//! fails is reported with its README line, the text run, the exit code, the start and end of its
//! output and, where its output shows it plainly, the cause ([`causes`]); the README is not
//! changed here.

use flb_host::*;
use std::collections::HashSet;
use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const READMES: [&str; 2] = ["README.md", "c-host/README.md"];

/// Commands of the official container image, not run: they need Docker and a network (the image
/// has its own CI job): the `docker` command, and commands naming the image's `/fluent-bit/`
/// directory.
fn image_command(text: &str) -> bool {
    text.split_whitespace().next() == Some("docker") || text.contains(" /fluent-bit/")
}

/// Commands the README shows that are not run, and why.
const NOT_RUN: [(&str, &str); 8] = [
    ("make test", "the test suite this test is part of"),
    ("make sanitize", "part of make test; sanitizer builds take many minutes"),
    ("make bench", "the full benchmark run takes minutes"),
    ("make bench-quick", "the bench smoke run make test already does"),
    ("make lint", "CI runs the same cargo fmt --check and clippy before make test; cold clippy takes minutes"),
    ("make clean", "deletes target/, this test's binary and the plugins other tests load"),
    ("make fuzz", "builds the fuzz targets with nightly and runs each for minutes; make test replays their corpora"),
    ("make miri", "Miri interprets the SDK's tests for minutes; .ci/run runs it after make test"),
];

/// Whether `text` is the not-run command `n`, with or without arguments (`make fuzz FUZZ_SECONDS=600`).
fn is_not_run(text: &str, n: &str) -> bool {
    text.strip_prefix(n).is_some_and(|rest| rest.is_empty() || rest.starts_with(' '))
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    /// a line of a ```sh block
    Sh,
    /// a `$ ` line of a fenced block, with the lines shown after it
    Session,
    /// an inline code span in prose
    Inline,
}

#[derive(Debug, Clone)]
struct Cmd {
    readme: &'static str,
    line: usize,
    kind: Kind,
    text: String,
    /// the lines the README shows it printing
    shown: Option<Vec<String>>,
}

impl Cmd {
    fn at(&self) -> String {
        format!("{}:{} `{}`", self.readme, self.line, self.text)
    }
    fn uses_fluent_bit(&self) -> bool {
        words(&self.text).any(|w| w == "fluent-bit")
    }
}

fn words(s: &str) -> impl Iterator<Item = &str> {
    s.split_whitespace()
}

/// `s` without a trailing shell comment (a `#` at the start of a word, outside quotes).
fn strip_comment(s: &str) -> &str {
    let (mut quote, mut prev_space) = (None, true);
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, '#') if prev_space => return s[..i].trim_end(),
            _ => {}
        }
        prev_space = c.is_whitespace();
    }
    s.trim_end()
}

/// The inline code spans of a prose line.
fn spans(line: &str) -> Vec<&str> {
    line.split('`').skip(1).step_by(2).collect()
}

fn is_inline_command(span: &str) -> bool {
    let mut w = words(span);
    matches!(w.next(), Some("make" | "target/flb-host/flb-host" | "fluent-bit")) && w.next().is_some()
}

/// Files the READMEs show for the reader to write: (name, content).
type Files = Vec<(String, String)>;

/// The commands of both READMEs, each once, in README order, and the files they show.
fn extract() -> (Vec<Cmd>, Files) {
    let sources: Vec<(&'static str, String)> =
        READMES.iter().map(|r| (*r, std::fs::read_to_string(workspace_root().join(r)).expect("readme"))).collect();
    extract_from(&sources)
}

/// The commands of `(name, markdown)` documents by the rule of this file's doc comment.
fn extract_from(sources: &[(&'static str, String)]) -> (Vec<Cmd>, Files) {
    let mut cmds: Vec<Cmd> = Vec::new();
    let mut files = Vec::new();
    let mut outputs: Vec<(String, Vec<String>)> = Vec::new();
    for (readme, text) in sources {
        let readme = *readme;
        let lines: Vec<&str> = text.lines().collect();
        let mut i = 0;
        let mut prose_before = "";
        // An inline code span still open at the end of a prose line goes on in the next line of
        // the paragraph (the line break is a space): (line it started on, text so far).
        let mut open: Option<(usize, String)> = None;
        while i < lines.len() {
            let Some(lang) = lines[i].strip_prefix("```") else {
                if lines[i].trim().is_empty() {
                    open = None;
                }
                for (k, piece) in lines[i].split('`').enumerate() {
                    if k > 0 {
                        // a backtick: a span opens or closes
                        match open.take() {
                            Some((line, sp)) => {
                                if is_inline_command(&sp) {
                                    let text = sp.trim().to_string();
                                    cmds.push(Cmd { readme, line, kind: Kind::Inline, text, shown: None });
                                }
                            }
                            None => open = Some((i + 1, String::new())),
                        }
                    }
                    if let Some((_, sp)) = open.as_mut() {
                        sp.push_str(piece);
                    }
                }
                if let Some((_, sp)) = open.as_mut() {
                    sp.push(' ');
                }
                if !lines[i].trim().is_empty() {
                    prose_before = lines[i];
                }
                i += 1;
                continue;
            };
            open = None;
            let start = i + 1;
            let mut end = start;
            while end < lines.len() && !lines[end].starts_with("```") {
                end += 1;
            }
            let body = &lines[start..end];
            // What the prose line before the block says it is.
            let intro = prose_before.trim_end();
            if let Some(last) = spans(intro).last() {
                let after = intro.rsplit('`').next().unwrap_or("");
                if after.trim() == "prints:" {
                    outputs.push((last.to_string(), body.iter().map(|l| l.to_string()).collect()));
                } else if after.trim() == ":" && last.ends_with(".conf") && !last.contains(' ') {
                    files.push((last.to_string(), body.iter().map(|l| format!("{l}\n")).collect()));
                }
            }
            let mut j = 0;
            while j < body.len() {
                let n = start + j + 1;
                if let Some(c) = body[j].strip_prefix("$ ") {
                    let mut shown = Vec::new();
                    j += 1;
                    while j < body.len() && !body[j].starts_with("$ ") {
                        shown.push(body[j].to_string());
                        j += 1;
                    }
                    cmds.push(Cmd {
                        readme,
                        line: n,
                        kind: Kind::Session,
                        text: c.trim().to_string(),
                        shown: Some(shown),
                    });
                    continue;
                }
                if lang == "sh" {
                    // A continued line is one command: `\` + newline + indentation is one space.
                    let mut c = String::new();
                    let mut l = body[j];
                    while let Some(head) = l.strip_suffix('\\') {
                        c.push_str(head.trim_end());
                        c.push(' ');
                        j += 1;
                        l = body.get(j).copied().unwrap_or("").trim_start();
                    }
                    c.push_str(l);
                    let c = strip_comment(c.trim());
                    if !c.is_empty() {
                        cmds.push(Cmd { readme, line: n, kind: Kind::Sh, text: c.to_string(), shown: None });
                    }
                }
                j += 1;
            }
            prose_before = "";
            i = end + 1;
        }
    }
    // One entry per command text, the first; a `prints:` block belongs to its command.
    let mut seen = HashSet::new();
    cmds.retain(|c| seen.insert(c.text.clone()));
    for (cmd, out) in outputs {
        if let Some(c) = cmds.iter_mut().find(|c| c.text == cmd) {
            c.shown.get_or_insert_with(Vec::new).extend(out);
        }
    }
    (cmds, files)
}

// ---------------------------------------------------------------------------------------------
// Running

/// The text actually run: `--duration N` (N > 2) shortened to 2, `fluent-bit` replaced by `fb`.
fn as_run(text: &str, fb: Option<&Path>) -> String {
    let toks: Vec<&str> = text.split(' ').collect();
    let mut out = Vec::with_capacity(toks.len());
    for (k, t) in toks.iter().enumerate() {
        let prev = if k > 0 { toks[k - 1] } else { "" };
        if prev == "--duration" && t.parse::<f64>().is_ok_and(|d| d > 2.0) {
            out.push("2".to_string());
        } else if *t == "fluent-bit" {
            out.push(fb.map_or_else(|| t.to_string(), |p| format!("'{}'", p.display())));
        } else {
            out.push(t.to_string());
        }
    }
    out.join(" ")
}

/// Whether the command needs files the README tells the reader to copy or write first: a plugin
/// named without a directory (`x.so`, `./x.so`) that the repository root does not hold, or a file
/// a README block shows.
fn needs_scratch(text: &str, files: &Files) -> bool {
    words(text).any(|w| {
        let bare = w.ends_with(".so") && (!w.contains('/') || (w.starts_with("./") && !w[2..].contains('/')));
        (bare && !workspace_root().join(w).exists()) || files.iter().any(|(name, _)| w == name.as_str())
    })
}

/// A scratch directory holding our plugins under their README names, the README's files, and a
/// `target` link to the repository's.
fn scratch(tag: &str, files: &Files) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flb-readme-cmd-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    for (pkg, lib) in [("in-gdummy", "in_gdummy"), ("out-gstdout", "out_gstdout"), ("in-gtail", "in_gtail")] {
        std::fs::copy(rust_plugin(pkg, lib), dir.join(format!("{lib}.so"))).expect("copy plugin");
    }
    std::os::unix::fs::symlink(workspace_root().join("target"), dir.join("target")).expect("target link");
    for (name, body) in files {
        let body = body.replace("/opt/fluent-bit/plugins/", &format!("{}/", dir.display()));
        std::fs::write(dir.join(name), body).expect("README file");
    }
    dir
}

struct Ran {
    run_text: String,
    cwd: PathBuf,
    code: Option<i32>,
    signal: Option<i32>,
    stdout: String,
    stderr: String,
    timed_out: bool,
    terminated: bool,
}

impl Ran {
    fn tail(&self) -> String {
        // The first and the last lines: a shell's complaint comes first, a summary last.
        let ends = |s: &str| {
            let v: Vec<&str> = s.lines().filter(|l| !l.trim().is_empty()).collect();
            if v.len() <= 12 {
                return v.join("\n    ");
            }
            format!("{}\n    [...]\n    {}", v[..6].join("\n    "), v[v.len() - 6..].join("\n    "))
        };
        format!("  stdout:\n    {}\n  stderr:\n    {}", ends(&self.stdout), ends(&self.stderr))
    }
}

/// The processes `sh` (pid `sh`) runs: its children, or itself when it exec'd the command.
fn command_pids(sh: libc::pid_t) -> Vec<libc::pid_t> {
    let comm = std::fs::read_to_string(format!("/proc/{sh}/comm")).unwrap_or_default();
    if !matches!(comm.trim(), "sh" | "dash" | "bash") {
        return vec![sh];
    }
    std::fs::read_to_string(format!("/proc/{sh}/task/{sh}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Runs `sh -c text` in `cwd`; a `service` gets SIGTERM after 4 s; anything still running at
/// `timeout` is killed with its process group.
fn run(text: &str, cwd: &Path, service: bool, timeout: Duration) -> Ran {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(text)
        .current_dir(cwd)
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .env_remove("MAKELEVEL")
        .env_remove("FLUENT_BIT_VERSION")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("start sh");
    let pid = child.id() as libc::pid_t;
    let read = |p: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            if let Some(mut p) = p {
                let _ = p.read_to_end(&mut v);
            }
            String::from_utf8_lossy(&v).into_owned()
        })
    };
    let out = read(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let err = read(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let start = Instant::now();
    let (mut terminated, mut timed_out) = (false, false);
    let status = loop {
        if let Ok(Some(st)) = child.try_wait() {
            break Some(st);
        }
        if service && !terminated && start.elapsed() > Duration::from_secs(4) {
            // SIGTERM to the command (the shell's children: dash does not exec it), not to the
            // shell, which then exits with the command's status.
            for p in command_pids(pid) {
                // SAFETY: kill(2) on a child of our child, which waits for it (not reaped yet).
                unsafe { libc::kill(p, libc::SIGTERM) };
            }
            terminated = true;
        }
        if start.elapsed() > timeout {
            timed_out = true;
            // SAFETY: the process group our child leads (process_group(0)), not reaped yet.
            unsafe { libc::kill(-pid, libc::SIGKILL) };
            break child.wait().ok();
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Ran {
        run_text: text.to_string(),
        cwd: cwd.to_path_buf(),
        code: status.and_then(|s| s.code()),
        signal: status.and_then(|s| s.signal()),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
        timed_out,
        terminated,
    }
}

// ---------------------------------------------------------------------------------------------
// Checking

/// `[2026/11/30 03:11:07.039] ` at the start of a Fluent Bit log line, removed.
fn without_timestamp(l: &str) -> &str {
    if l.starts_with("[20") {
        if let Some(end) = l.find("] ") {
            if l[1..end].chars().all(|c| c.is_ascii_digit() || "/:. ".contains(c)) {
                return &l[end + 2..];
            }
        }
    }
    l
}

/// Every run of digits replaced by `N`.
fn mask_numbers(l: &str) -> String {
    let mut out = String::with_capacity(l.len());
    let mut in_num = false;
    for c in l.chars() {
        if c.is_ascii_digit() {
            if !in_num {
                out.push('N');
            }
            in_num = true;
        } else {
            out.push(c);
            in_num = false;
        }
    }
    out
}

/// The lines the README shows that the command did not print.
fn missing_shown(cmd: &Cmd, ran: &Ran) -> Vec<String> {
    let Some(shown) = &cmd.shown else { return Vec::new() };
    let both = format!("{}\n{}", ran.stdout, ran.stderr);
    let mut missing = Vec::new();
    if cmd.kind == Kind::Session {
        let got: Vec<&str> = both.lines().map(|l| without_timestamp(l).trim_end()).collect();
        for s in shown.iter().map(|s| s.trim_end()).filter(|s| !s.is_empty()) {
            if !got.contains(&s) {
                missing.push(s.to_string());
            }
        }
    } else {
        let got: Vec<String> = both.lines().map(|l| mask_numbers(l.trim_end())).collect();
        for s in shown.iter().map(|s| s.trim_end()).filter(|s| !s.is_empty() && *s != "...") {
            let m = mask_numbers(s);
            if !got.contains(&m) {
                let key: String = s.split_whitespace().take(3).collect::<Vec<_>>().join(" ");
                let closest = both.lines().find(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" ") == key);
                missing.push(match closest {
                    Some(c) => format!("{s}\n      printed instead: {c}"),
                    None => s.to_string(),
                });
            }
        }
    }
    missing
}

/// A key each of our plugins lists in `-h`, with its default and type (as Fluent Bit 5.1.1
/// prints them).
const HELP_KEYS: [(&str, &str, &str); 3] = [
    ("gdummy", "rate", "> default: 1, type: integer"),
    ("gstdout", "json_date_format", "> default: double, type: string"),
    ("gtail", "batch_max_size", "> default: 32M, type: size"),
];

/// The meaningful bit of output each kind of command must print; Err says what is missing.
fn meaningful(cmd: &Cmd, ran: &Ran) -> Result<(), String> {
    let t = &cmd.text;
    let w: Vec<&str> = words(t).collect();
    let both = strip_ansi(&format!("{}\n{}", ran.stdout, ran.stderr));
    let need = |what: &str, ok: bool| if ok { Ok(()) } else { Err(what.to_string()) };
    if w.first() == Some(&"make") {
        let target = w.get(1).copied().unwrap_or("");
        if target == "plugins" {
            for so in ["in_gdummy.so", "out_gstdout.so", "in_gtail.so"] {
                let p = format!("target/plugins/{so}");
                need(
                    &format!("{p} listed and present"),
                    ran.stdout.contains(&p) && workspace_root().join(&p).is_file(),
                )?;
            }
        } else if target.contains('/') {
            need(&format!("{target} built"), workspace_root().join(target).is_file())?;
        }
        return Ok(());
    }
    if w.contains(&"fluent-bit") {
        let help = w.contains(&"-h") || w.contains(&"--help");
        let name = w.iter().position(|x| *x == "-i" || *x == "-o").and_then(|k| w.get(k + 1)).copied();
        if help && !w.contains(&"-e") {
            // A native plugin's help, as docs/fluent-bit-5.1.1/ keeps it.
            let doc = workspace_root().join(format!("docs/fluent-bit-5.1.1/{}-help.txt", name.unwrap_or("")));
            let Ok(want) = std::fs::read_to_string(&doc) else { return Ok(()) };
            let got = strip_ansi(&ran.stdout);
            let got = got.find("HELP\n").map_or("", |at| &got[at..]);
            return need(&format!("the help {} keeps", doc.display()), got.trim_end() == want.trim_end());
        }
        if help {
            let (_, key, line) = HELP_KEYS.iter().find(|(n, _, _)| Some(*n) == name).copied().unwrap_or(("", "", ""));
            let entry = both.find(&format!("\n{key} ")).map(|at| &both[at..]).unwrap_or("");
            let entry = &entry[..entry.get(1..).and_then(|e| e.find("\n\n")).map_or(entry.len(), |e| e + 1)];
            return need(&format!("OPTIONS listing `{key}` with `{line}`"), !key.is_empty() && entry.contains(line));
        }
        if ran.code == Some(0) {
            let record = |l: &str| l.starts_with("[0] ") || l.starts_with('{') || l.starts_with("[{");
            return need("records on stdout (`[0] TAG: [[...`, or JSON)", ran.stdout.lines().any(record));
        }
        return Ok(());
    }
    if w.first() == Some(&"target/flb-host/flb-host") {
        if w.get(1) == Some(&"check") {
            let last = ran.stdout.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
            return need("a last line `OK: 0 check(s) failed`", last.starts_with("OK:"));
        }
        if w.get(1) == Some(&"bench") {
            return need("a bench report with records/s", ran.stderr.contains("records/s"));
        }
        let delivered = ran.stderr.lines().any(|l| {
            l.starts_with("flb-host:   output ")
                && l.split_whitespace().any(|f| f.strip_prefix("records_ok=").is_some_and(|n| n != "0"))
        });
        return need(
            "records on stdout and an output summary with records_ok > 0",
            delivered && !ran.stdout.is_empty(),
        );
    }
    Ok(())
}

/// Why a command failed, where its output shows it plainly (added to a failure's report).
fn causes(cmd: &Cmd, ran: &Ran) -> Vec<String> {
    let mut c = Vec::new();
    let w: Vec<&str> = words(&cmd.text).collect();
    if ran.stderr.contains("cannot open shared object file") {
        if let Some(so) = w.windows(2).find(|p| p[0] == "-e" && !p[1].contains('/')).map(|p| p[1]) {
            c.push(format!(
                "dlopen(3) does not look in the current directory for `{so}`, a name without a slash (`./{so}` is found)"
            ));
        }
    }
    if ran.stderr.contains(": not found") && cmd.text.contains('[') && cmd.text.contains('|') {
        c.push(
            "the usage brackets `[... | ...]` are shell syntax in a sh block: each `|` pipes the command into the next \
             word (`2.0`, `2.2`, ...), which is no command, and `[--abi` reaches flb-host as an argument"
                .to_string(),
        );
    }
    let help = w.contains(&"-h") && w.contains(&"-e");
    if cmd.uses_fluent_bit() && help && !cmd.text.contains("FLUENT_BIT_VERSION=") && !ran.stdout.contains("OPTIONS") {
        c.push(
            "without FLUENT_BIT_VERSION=5.1.1 in its environment Fluent Bit gets no config_map from our plugins, and \
             its -h of a proxy plugin prints only the banner (README, \"Keys checked by Fluent Bit\")"
                .to_string(),
        );
    }
    c
}

/// The files of `include/` and their bytes (`make headers` must find them current).
fn headers() -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(workspace_root().join("include"))
        .map(|rd| {
            rd.flatten()
                .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Runs `cmds`, returns one paragraph per failure.
fn run_all(cmds: &[Cmd], files: &Files, fb: Option<&Path>, tag: &str) -> Vec<String> {
    let mut failures = Vec::new();
    let mut scratch_dir = None;
    for cmd in cmds {
        let text = as_run(&cmd.text, fb);
        let cwd = if needs_scratch(&cmd.text, files) {
            scratch_dir.get_or_insert_with(|| scratch(tag, files)).clone()
        } else {
            workspace_root()
        };
        let service = cmd.uses_fluent_bit() && !words(&cmd.text).any(|w| w == "-h" || w == "--help");
        let timeout = Duration::from_secs(if cmd.text.starts_with("make ") { 1800 } else { 120 });
        let headers_before = (cmd.text == "make headers").then(headers);
        let t0 = Instant::now();
        let ran = run(&text, &cwd, service, timeout);
        let errors_shown = cmd.shown.as_ref().is_some_and(|s| s.iter().any(|l| l.contains("[error]")));
        let exit_ok = if cmd.kind == Kind::Session && errors_shown {
            ran.code.is_some_and(|c| c != 0)
        } else {
            ran.code == Some(0)
        };
        let mut why = Vec::new();
        if ran.timed_out {
            why.push(format!("still running after {timeout:?}, killed"));
        }
        if !exit_ok {
            let want = if errors_shown { "non-zero (the README shows an [error])" } else { "0" };
            why.push(format!(
                "exit code {:?}{}, want {want}{}",
                ran.code,
                ran.signal.map_or(String::new(), |s| format!(" (signal {s})")),
                if ran.terminated { " after SIGTERM" } else { "" }
            ));
        }
        let missing = missing_shown(cmd, &ran);
        if !missing.is_empty() {
            why.push(format!("does not print what the README shows:\n      {}", missing.join("\n      ")));
        }
        if exit_ok {
            if let Err(m) = meaningful(cmd, &ran) {
                why.push(format!("output lacks {m}"));
            }
        }
        if let Some(before) = headers_before {
            let after = headers();
            let changed: Vec<&String> =
                after.iter().filter(|(n, b)| before.iter().all(|(m, a)| m != n || a != b)).map(|(n, _)| n).collect();
            if !changed.is_empty() {
                why.push(format!("rewrote {changed:?}: the checked-in headers were stale (now regenerated)"));
            }
        }
        if !why.is_empty() {
            why.extend(causes(cmd, &ran).into_iter().map(|c| format!("cause: {c}")));
        }
        let status = if why.is_empty() { "ok  " } else { "FAIL" };
        println!("{status} {} ({:.1} s, in {})", cmd.at(), t0.elapsed().as_secs_f64(), ran.cwd.display());
        if !why.is_empty() {
            failures.push(format!(
                "{}\n  ran: {} (in {})\n  {}\n{}",
                cmd.at(),
                ran.run_text,
                ran.cwd.display(),
                why.join("\n  "),
                ran.tail()
            ));
        }
    }
    if let Some(d) = scratch_dir {
        let _ = std::fs::remove_dir_all(d);
    }
    failures
}

/// The commands to run in this order (`make` first), without those not run.
fn to_run(cmds: &[Cmd]) -> Vec<Cmd> {
    let keep: Vec<Cmd> = cmds
        .iter()
        .filter(|c| !NOT_RUN.iter().any(|(n, _)| is_not_run(&c.text, n)) && !image_command(&c.text))
        .cloned()
        .collect();
    let (mut make, rest): (Vec<Cmd>, Vec<Cmd>) = keep.into_iter().partition(|c| c.text.starts_with("make "));
    make.extend(rest);
    make
}

/// The rule of the doc comment, on a document that uses every part of it.
#[test]
fn extraction_follows_the_rule() {
    let md = r#"Intro `make plugins` and `make` and `fluent-bit.conf`, `flb-host check` `target/flb-host/flb-host -h x`.
A span across lines: `fluent-bit -c
/etc/x.conf`, and one left open by a blank line: `make

```sh
make demo   # builds things
target/flb-host/flb-host -e a.so \
    -i gdummy --duration 3
make demo
```
`make demo` prints:
```text
[0] demo: x
...
```
Classic, `plugins.conf`:
```text
[PLUGINS]
    Path /opt/fluent-bit/plugins/in_gdummy.so
```
tag `app.log`:
```text
not a file
```
```rust
// `fluent-bit -e counter.so -o counter -h` in code is no command
```
```text
$ FOO=1 fluent-bit -x
[error] shown
more
$ echo two
```
"#;
    let (cmds, files) = extract_from(&[("t.md", md.to_string())]);
    let got: Vec<(Kind, &str, usize)> = cmds.iter().map(|c| (c.kind.clone(), c.text.as_str(), c.line)).collect();
    assert_eq!(
        got,
        [
            (Kind::Inline, "make plugins", 1),
            (Kind::Inline, "target/flb-host/flb-host -h x", 1),
            (Kind::Inline, "fluent-bit -c /etc/x.conf", 2),
            (Kind::Sh, "make demo", 6),
            (Kind::Sh, "target/flb-host/flb-host -e a.so -i gdummy --duration 3", 7),
            (Kind::Session, "FOO=1 fluent-bit -x", 29),
            (Kind::Session, "echo two", 32),
        ]
    );
    assert_eq!(cmds[3].shown.as_deref(), Some(&["[0] demo: x".to_string(), "...".to_string()][..]));
    assert_eq!(cmds[5].shown.as_deref(), Some(&["[error] shown".to_string(), "more".to_string()][..]));
    let run: Vec<String> = to_run(&cmds).into_iter().map(|c| c.text).collect();
    assert_eq!(run[..2], ["make plugins", "make demo"], "make first");
    assert!(image_command("docker run --rm img") && image_command("fluent-bit -c /fluent-bit/etc/x.conf"));
    assert_eq!(
        files,
        [("plugins.conf".to_string(), "[PLUGINS]\n    Path /opt/fluent-bit/plugins/in_gdummy.so\n".to_string())]
    );
}

#[test]
fn the_readmes_commands_are_found() {
    let (cmds, files) = extract();
    for c in &cmds {
        println!("{:?} {} (shown lines: {})", c.kind, c.at(), c.shown.as_ref().map_or(0, Vec::len));
    }
    for kind in [Kind::Sh, Kind::Session, Kind::Inline] {
        assert!(cmds.iter().any(|c| c.kind == kind), "no {kind:?} command in the READMEs");
    }
    for first in ["make", "target/flb-host/flb-host"] {
        assert!(cmds.iter().any(|c| c.text.split(' ').next() == Some(first)), "no {first} command");
    }
    assert!(cmds.iter().any(Cmd::uses_fluent_bit), "no fluent-bit command");
    for (n, _) in NOT_RUN {
        if !cmds.iter().any(|c| is_not_run(&c.text, n)) {
            println!("note: {n} is listed as not run but no README shows it any more");
        }
    }
    assert!(files.iter().all(|(n, _)| n.ends_with(".conf")), "{files:?}");
}

#[test]
fn extraction_helpers() {
    assert_eq!(strip_comment("make demo   # builds it"), "make demo");
    assert!(is_not_run("make fuzz", "make fuzz") && is_not_run("make fuzz FUZZ_SECONDS=600", "make fuzz"));
    assert!(!is_not_run("make fuzzy", "make fuzz") && !is_not_run("make bench-quick", "make bench"));
    assert_eq!(strip_comment("echo '# not' \"#nor\" a#b"), "echo '# not' \"#nor\" a#b");
    assert_eq!(
        as_run("x --duration 3 --duration 0.5 fluent-bit-y", None),
        "x --duration 2 --duration 0.5 fluent-bit-y"
    );
    assert_eq!(as_run("A=1 fluent-bit -h", Some(Path::new("/fb"))), "A=1 '/fb' -h");
    assert_eq!(without_timestamp("[2026/11/30 03:11:07.039] [error] x"), "[error] x");
    assert_eq!(mask_numbers("a=12 b=3.5"), "a=N b=N.N");
    assert!(is_inline_command("make plugins") && !is_inline_command("fluent-bit.conf") && !is_inline_command("make"));
}

/// The tests of this file run their commands one at a time: two `make`s building the same file at
/// once could each see it half written, and timing-bound commands get the machine to themselves.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// The checks pass a correct command of each kind and fail a wrong one, so a README failure
/// reported by the tests below is the README's, not the harness's. (The correct commands are
/// the README's failing ones, corrected; they say nothing about how the README will be fixed.)
#[test]
fn the_harness_passes_correct_commands_and_fails_wrong_ones() {
    let _one = one_at_a_time();
    let root = workspace_root();
    if !root.join("target/flb-host/flb-host").is_file() || !root.join("target/plugins/out_gstdout.so").is_file() {
        let r = run("make plugins target/flb-host/flb-host", &root, false, Duration::from_secs(1800));
        assert_eq!(r.code, Some(0), "make plugins target/flb-host/flb-host\n{}", r.tail());
    }
    let cmd = |kind, text: &str, shown: Option<&[&str]>| Cmd {
        readme: "test",
        line: 0,
        kind,
        text: text.to_string(),
        shown: shown.map(|s| s.iter().map(|l| l.to_string()).collect()),
    };
    let (_, files) = extract();
    let good = vec![
        cmd(
            Kind::Sh,
            "target/flb-host/flb-host -e target/plugins/in_gdummy.so -e target/plugins/out_gstdout.so -i gdummy \
             -p rate=10 -o gstdout -p format=json_lines --duration 3 --abi 5.1",
            None,
        ),
        cmd(Kind::Session, "echo '[2026/11/30 03:11:07.039] [info] hello'", Some(&["[info] hello"])),
        cmd(Kind::Sh, "echo 'total=12 done'", None),
    ];
    assert_eq!(run_all(&good, &files, None, "harness-good"), Vec::<String>::new());
    let bad = vec![
        cmd(Kind::Sh, "target/flb-host/flb-host -i nothing --duration 1", None),
        cmd(Kind::Session, "echo hello", Some(&["goodbye"])),
        cmd(Kind::Sh, "echo 'total=12 done'", Some(&["total=3 done", "total=3 started"])),
        cmd(Kind::Sh, "target/flb-host/flb-host check target/plugins/in_gdummy.so --bad rate=-1 [--abi 2.2|5.1]", None),
    ];
    let failures = run_all(&bad, &files, None, "harness-bad");
    assert_eq!(failures.len(), 4, "{failures:#?}");
    assert!(failures[1].contains("does not print what the README shows:\n      goodbye"), "{}", failures[1]);
    assert!(failures[2].contains("total=3 started") && !failures[2].contains("total=3 done"), "{}", failures[2]);
    assert!(failures[3].contains("cause: the usage brackets"), "{}", failures[3]);
    let Some(fb) = std::env::var_os("FLUENT_BIT_BIN").filter(|v| !v.is_empty()).map(PathBuf::from) else {
        println!("skipped the fluent-bit commands: FLUENT_BIT_BIN not set");
        return;
    };
    let good = vec![
        // Runs until stopped: SIGTERM after 4 s, exit code 0, records on stdout.
        cmd(Kind::Inline, "fluent-bit -e ./in_gdummy.so -e ./out_gstdout.so -i gdummy -o gstdout -m '*'", None),
        cmd(Kind::Inline, "FLUENT_BIT_VERSION=5.1.1 fluent-bit -e ./out_gstdout.so -o gstdout -h", None),
    ];
    assert_eq!(run_all(&good, &files, Some(&fb), "harness-fb"), Vec::<String>::new());
    let bad = vec![cmd(Kind::Inline, "fluent-bit -e in_gtail.so -i gtail -h", None)];
    let failures = run_all(&bad, &files, Some(&fb), "harness-fb-bad");
    assert!(failures.len() == 1 && failures[0].contains("cause: dlopen(3)"), "{failures:#?}");
}

#[test]
fn readme_commands_run_as_written() {
    let _one = one_at_a_time();
    let (cmds, files) = extract();
    let cmds: Vec<Cmd> = to_run(&cmds).into_iter().filter(|c| !c.uses_fluent_bit()).collect();
    for (n, why) in NOT_RUN {
        println!("not run: {n} ({why})");
    }
    for c in extract().0.iter().filter(|c| image_command(&c.text)) {
        println!("not run: {} (a command of the container image: needs Docker)", c.at());
    }
    let failures = run_all(&cmds, &files, None, "host");
    assert!(
        failures.is_empty(),
        "{} of {} README command(s) failed as written:\n\n{}",
        failures.len(),
        cmds.len(),
        failures.join("\n\n")
    );
}

#[test]
fn readme_fluent_bit_commands_run_as_written_when_available() {
    let Some(fb) = std::env::var_os("FLUENT_BIT_BIN").filter(|v| !v.is_empty()).map(PathBuf::from) else {
        println!("skipped: FLUENT_BIT_BIN not set");
        return;
    };
    let _one = one_at_a_time();
    let (cmds, files) = extract();
    let cmds: Vec<Cmd> = to_run(&cmds).into_iter().filter(Cmd::uses_fluent_bit).collect();
    let failures = run_all(&cmds, &files, Some(&fb), "fb");
    assert!(
        failures.is_empty(),
        "{} of {} README fluent-bit command(s) failed as written:\n\n{}",
        failures.len(),
        cmds.len(),
        failures.join("\n\n")
    );
}
