//! Golden tests: fixed chunks printed in every format, compared byte for byte with the files in
//! tests/golden/. The tests only read those files: nothing here writes or regenerates them (a
//! mismatch leaves what gstdout printed under the cargo target's tmp dir, to diff).
//!
//! Each golden starts with a header of `#` lines ending with the line `# ---`; the bytes after it
//! are what gstdout must print. The header's first line names the chunk and the keys (checked
//! against the case), and the header says how the golden compares with a real Fluent Bit 5.1.1's
//! native `stdout` output given the same chunk (sent as one PackedForward message to its `forward`
//! input): `# fluent-bit 5.1.1: same` (the golden is that output, byte for byte), or
//! `# fluent-bit 5.1.1: differs, by design` with why and a `# fluent-bit 5.1.1 printed: "<JSON
//! string>"` line holding what it printed instead. With `FLUENT_BIT_BIN` set,
//! `goldens_match_a_real_fluent_bit` runs every case through that Fluent Bit and checks both.

mod common;

use common::*;
use out_gstdout::{DateFormat, Format, Formatter, Options};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const T: u32 = 1_700_000_000;

fn types_chunk() -> Vec<u8> {
    let mut c = Vec::new();
    let scalars = m(vec![
        ("nil", V::Nil),
        ("true", V::Bool(true)),
        ("false", V::Bool(false)),
        ("zero", V::I(0)),
        ("fixint", V::I(127)),
        ("u8", V::U(255)),
        ("u16", V::U(65_535)),
        ("u32", V::U(4_294_967_295)),
        ("i64max", V::I(i64::MAX)),
        ("over_i64", V::U(9_223_372_036_854_775_808)),
        ("u64max", V::U(u64::MAX)),
        ("negfix", V::I(-32)),
        ("i8", V::I(-128)),
        ("i16", V::I(-32_768)),
        ("i32", V::I(-2_147_483_648)),
        ("i64min", V::I(i64::MIN)),
        ("f32", V::F32(1.1)),
        ("f64", V::F64(0.1)),
        ("f64sum", V::F64(0.1 + 0.2)),
        ("whole", V::F64(3.0)),
        ("negzero", V::F64(-0.0)),
        ("big", V::F64(1e20)),
        ("tiny", V::F64(1e-7)),
        ("neg", V::F64(-2.5e-3)),
    ]);
    c.extend(modern(time(T, 1), m(vec![]), scalars));
    let strings = m(vec![
        ("empty", s("")),
        ("quotes", s("say \"hi\" \\ back/slash")),
        ("controls", V::S(b"\x00\x01\x07\x08\t\n\x0b\x0c\r\x1b\x1f\x7f".to_vec())),
        ("latin", s("caf\u{e9} na\u{ef}ve \u{fc}ber")),
        ("cjk", s("\u{65e5}\u{672c}\u{8a9e}")),
        ("emoji", s("\u{1f600} ok")),
        ("bin", V::Bin(b"b\"in\x00\xff".to_vec())),
        ("bin_text", V::Bin(b"plain".to_vec())),
        ("multi\nline key", s("v")),
    ]);
    c.extend(modern(time(T, 2), m(vec![("source", s("test")), ("n", V::I(1))]), strings));
    let nested = m(vec![
        ("empty_map", m(vec![])),
        ("empty_array", V::A(vec![])),
        ("a", V::A(vec![V::I(1), V::A(vec![V::I(2), V::A(vec![V::I(3), m(vec![("deep", V::Bool(true))])])])])),
        ("m", m(vec![("x", m(vec![("y", m(vec![("z", V::A(vec![V::Nil, s("s"), V::F64(1.5)]))]))]))])),
    ]);
    c.extend(modern(time(T, 999_999_999), m(vec![]), nested));
    c
}

/// Values whose native JSON is not strict JSON (Fluent Bit prints them this way too).
fn nonjson_chunk() -> Vec<u8> {
    let body = V::M(vec![
        (s("nan"), V::F64(f64::NAN)),
        (s("inf"), V::F64(f64::INFINITY)),
        (s("ninf"), V::F64(f64::NEG_INFINITY)),
        (s("ext"), V::Ext(5, vec![0x01, 0x7f, 0x80, 0xff])),
        (s("ext_neg"), V::Ext(-3, b"\"q".to_vec())),
        (V::I(7), s("int key")),
        (V::Nil, s("nil key")),
        (V::A(vec![V::I(1)]), s("array key")),
    ]);
    modern(time(T, 0), m(vec![]), body)
}

fn invalid_utf8_chunk() -> Vec<u8> {
    let body = m(vec![
        ("latin1", V::S(b"caf\xe9 ok".to_vec())),
        ("trunc_end", V::S(b"ab\xc3".to_vec())),
        ("lone_cont", V::S(b"\x80\xbfxyz".to_vec())),
        ("surrogate", V::S(b"\xed\xa0\x80.".to_vec())),
        ("ff", V::S(b"\xff\xfe......".to_vec())),
        ("overlong", V::S(b"\xc0\x80!".to_vec())),
    ]);
    let mut c = modern(time(T, 0), m(vec![]), body);
    c.extend(legacy(time(T, 1), V::M(vec![(V::S(b"k\xe9y".to_vec()), V::I(1))])));
    c
}

fn times_chunk() -> Vec<u8> {
    let mut c = Vec::new();
    c.extend(legacy(time(T, 123_456_789), m(vec![("form", s("legacy ext"))])));
    c.extend(legacy(V::I(1_700_000_001), m(vec![("form", s("legacy int"))])));
    c.extend(legacy(V::F64(1_700_000_002.5), m(vec![("form", s("legacy float"))])));
    c.extend(modern(V::F64(1.1), m(vec![]), m(vec![("form", s("modern float 1.1"))])));
    c.extend(modern(time(0, 0), m(vec![]), m(vec![("form", s("epoch zero"))])));
    c.extend(modern(time(951_782_400, 1_000), m(vec![]), m(vec![("form", s("leap day"))])));
    c.extend(modern(time(u32::MAX - 2, 999_999_999), m(vec![]), m(vec![("form", s("2106"))])));
    c
}

fn groups_chunk() -> Vec<u8> {
    let mut c = Vec::new();
    c.extend(modern(time(T, 0), m(vec![]), m(vec![("before", V::Bool(true))])));
    c.extend(modern(
        time(u32::MAX, 0),
        m(vec![("schema", s("otlp")), ("resource_id", V::I(0))]),
        m(vec![("resource", m(vec![("service.name", s("svc"))]))]),
    ));
    c.extend(modern(time(T, 1), m(vec![]), m(vec![("in_group", V::I(1))])));
    c.extend(modern(time(T, 2), m(vec![("otlp", m(vec![("severity", s("INFO"))]))]), m(vec![("in_group", V::I(2))])));
    c.extend(modern(time(u32::MAX - 1, 0), m(vec![]), m(vec![])));
    c.extend(modern(time(T, 3), m(vec![]), m(vec![("after", V::Bool(true))])));
    // a group with empty attributes: no __internal__ for records without metadata
    c.extend(modern(time(u32::MAX, 0), m(vec![]), m(vec![])));
    c.extend(legacy(time(T, 4), m(vec![("in_empty_group", V::I(3))])));
    c
}

fn dupkeys_chunk() -> Vec<u8> {
    let mut c = Vec::new();
    let dup = V::M(vec![
        (s("a"), V::I(1)),
        (s("b"), V::I(2)),
        (s("a"), V::I(3)),
        (s("inner"), V::M(vec![(s("x"), V::I(1)), (s("x"), V::I(2)), (V::I(1), V::I(1)), (V::I(1), V::I(2))])),
    ]);
    c.extend(modern(time(T, 0), m(vec![]), dup));
    c.extend(modern(
        time(T, 0),
        m(vec![("meta", V::Bool(true))]),
        m(vec![("date", s("mine")), ("__internal__", s("mine too"))]),
    ));
    // a map with many keys takes the sorted path
    let mut many: Vec<(V, V)> = (0..40).map(|i| (s(&format!("k{}", i % 35)), V::I(i))).collect();
    many.push((s("k0"), s("last k0")));
    c.extend(modern(time(T, 0), m(vec![]), V::M(many)));
    c
}

fn nonmap_chunk() -> Vec<u8> {
    let mut c = Vec::new();
    c.extend(modern(time(T, 0), m(vec![("k", s("v"))]), s("a string body")));
    c.extend(legacy(time(T, 1), V::A(vec![V::I(1), s("two")])));
    c.extend(legacy(time(T, 2), V::I(42)));
    c.extend(modern(time(T, 3), V::Nil, V::Nil));
    c
}

/// Well-formed msgpack with records that are not log records: skipped, the rest printed.
fn bad_records_chunk() -> Vec<u8> {
    let mut c = Vec::new();
    c.extend(modern(time(T, 0), m(vec![]), m(vec![("ok", V::I(1))])));
    let mut b = Vec::new();
    encode(&mut b, &V::A(vec![V::I(1), V::I(2), V::I(3)])); // 3 elements
    c.extend(b);
    c.extend(legacy(s("not a time"), m(vec![("bad", V::I(1))])));
    c.extend(modern(V::I(-5), m(vec![]), m(vec![("bad", V::I(2))])));
    c.extend(modern(time(T, 1_000_000_000), m(vec![]), m(vec![("bad", V::I(3))])));
    let mut b = Vec::new();
    encode(&mut b, &s("a bare string"));
    c.extend(b);
    c.extend(modern(time(T, 1), m(vec![]), m(vec![("ok", V::I(2))])));
    c
}

fn chunks() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("types", types_chunk()),
        ("nonjson", nonjson_chunk()),
        ("invalid_utf8", invalid_utf8_chunk()),
        ("times", times_chunk()),
        ("groups", groups_chunk()),
        ("dupkeys", dupkeys_chunk()),
        ("nonmap", nonmap_chunk()),
        ("bad_records", bad_records_chunk()),
    ]
}

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// One golden: a chunk of [`chunks`] printed with these keys, tag `golden.tag`.
struct Case {
    file: String,
    chunk: &'static str,
    format: (&'static str, Format),
    /// `json_date_key`: None for `false`
    date_key: Option<&'static str>,
    date_format: (&'static str, DateFormat),
}

impl Case {
    /// The first line of the golden's header.
    fn title(&self) -> String {
        format!(
            "# golden: chunk \"{}\" of tests/golden.rs, tag golden.tag, format {}, json_date_key {}, json_date_format {}",
            self.chunk,
            self.format.0,
            self.date_key.unwrap_or("false"),
            self.date_format.0
        )
    }
}

/// Every golden: each chunk in every format, and the times chunk in every date format.
fn cases() -> Vec<Case> {
    let formats = [
        ("msgpack", Format::Msgpack),
        ("json", Format::Json),
        ("json_lines", Format::JsonLines),
        ("json_stream", Format::JsonStream),
    ];
    let mut v = Vec::new();
    for (chunk, _) in chunks() {
        for format in formats {
            v.push(Case {
                file: format!("{chunk}.{}.txt", format.0),
                chunk,
                format,
                date_key: Some("date"),
                date_format: ("double", DateFormat::Double),
            });
        }
    }
    for date_format in [
        ("double", DateFormat::Double),
        ("epoch", DateFormat::Epoch),
        ("epoch_ms", DateFormat::EpochMs),
        ("iso8601", DateFormat::Iso8601),
        ("java_sql_timestamp", DateFormat::JavaSqlTimestamp),
    ] {
        v.push(Case {
            file: format!("times.date_{}.txt", date_format.0),
            chunk: "times",
            format: ("json_lines", Format::JsonLines),
            date_key: Some("@timestamp"),
            date_format,
        });
    }
    v.push(Case {
        file: "times.no_date.txt".into(),
        chunk: "times",
        format: ("json_lines", Format::JsonLines),
        date_key: None,
        date_format: ("double", DateFormat::Double),
    });
    v
}

fn chunk_of(name: &str) -> Vec<u8> {
    chunks().into_iter().find(|(n, _)| *n == name).map(|(_, c)| c).expect("a chunk of chunks()")
}

/// What a real Fluent Bit 5.1.1 printed for a golden's chunk, as its header says.
#[derive(Debug, PartialEq)]
enum FluentBit {
    /// the golden's own bytes
    Same,
    /// something else, by design: these bytes
    Differs(Vec<u8>),
}

/// A golden file: its header checked and parsed, and the bytes gstdout must print.
struct Golden {
    fluent_bit: FluentBit,
    want: Vec<u8>,
}

fn read_golden(case: &Case) -> Result<Golden, String> {
    let p = golden_dir().join(&case.file);
    let raw = std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))?;
    const END: &[u8] = b"\n# ---\n";
    let end = raw
        .windows(END.len())
        .position(|w| w == END)
        .ok_or_else(|| format!("{}: no header (`#` lines ending with `# ---`)", case.file))?;
    let header = std::str::from_utf8(&raw[..end]).map_err(|e| format!("{}: header: {e}", case.file))?;
    let want = raw[end + END.len()..].to_vec();
    let mut lines = header.lines();
    let title = case.title();
    if lines.next() != Some(title.as_str()) {
        return Err(format!("{}: the header's first line must be\n{title}", case.file));
    }
    if let Some(l) = header.lines().find(|l| !l.starts_with('#')) {
        return Err(format!("{}: a header line not starting with '#': {l}", case.file));
    }
    let same = header.lines().any(|l| l == "# fluent-bit 5.1.1: same");
    let differs = header.lines().any(|l| l == "# fluent-bit 5.1.1: differs, by design");
    let printed = header.lines().find_map(|l| l.strip_prefix("# fluent-bit 5.1.1 printed: "));
    let fluent_bit = match (same, differs, printed) {
        (true, false, None) => FluentBit::Same,
        (false, true, Some(json)) => FluentBit::Differs(
            serde_json::from_str::<String>(json)
                .map_err(|e| format!("{}: 'printed' is not a JSON string: {e}", case.file))?
                .into_bytes(),
        ),
        _ => {
            return Err(format!(
                "{}: the header must say either '# fluent-bit 5.1.1: same', or '# fluent-bit 5.1.1: differs, by \
                 design' and '# fluent-bit 5.1.1 printed: \"...\"'",
                case.file
            ))
        }
    };
    Ok(Golden { fluent_bit, want })
}

/// Compares gstdout's output with a golden; on a difference, leaves what it printed in the cargo
/// target's tmp dir (never in tests/golden) and says where.
fn check(case: &Case, got: &[u8], failures: &mut Vec<String>) {
    match read_golden(case) {
        Ok(g) if g.want == got => {}
        Ok(g) => {
            let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("gstdout-golden-got");
            let _ = std::fs::create_dir_all(&dir);
            let at = dir.join(&case.file);
            let _ = std::fs::write(&at, got);
            failures.push(format!(
                "{} differs (gstdout's output is in {}):\n--- want\n{}\n--- got\n{}",
                case.file,
                at.display(),
                String::from_utf8_lossy(&g.want),
                String::from_utf8_lossy(got)
            ))
        }
        Err(e) => failures.push(e),
    }
}

fn run(format: Format, date_key: Option<&str>, date_format: DateFormat, chunk: &[u8]) -> Vec<u8> {
    let f = Formatter::new(Options { format, date_key: date_key.map(str::to_string), date_format });
    let mut out = Vec::new();
    f.format_chunk(b"golden.tag", chunk, &mut out).expect("golden chunks are well-formed msgpack");
    out
}

#[test]
fn golden_every_format() {
    let mut failures = Vec::new();
    for case in cases().iter().filter(|c| c.date_key == Some("date")) {
        let out = run(case.format.1, case.date_key, case.date_format.1, &chunk_of(case.chunk));
        check(case, &out, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn golden_every_date_format() {
    let mut failures = Vec::new();
    for case in cases().iter().filter(|c| c.date_key != Some("date")) {
        let out = run(case.format.1, case.date_key, case.date_format.1, &chunk_of(case.chunk));
        check(case, &out, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Every file in tests/golden (but .gitattributes) is a case's golden, and every case has one (a
/// golden no case reads would never be checked).
#[test]
fn every_golden_file_belongs_to_a_case() {
    let names: std::collections::BTreeSet<String> = cases().into_iter().map(|c| c.file).collect();
    let mut files = std::collections::BTreeSet::new();
    for e in std::fs::read_dir(golden_dir()).expect("tests/golden") {
        let name = e.expect("dir entry").file_name().to_string_lossy().into_owned();
        if name != ".gitattributes" {
            files.insert(name);
        }
    }
    assert_eq!(files, names);
}

// ---------------------------------------------------------------------------------------------
// The goldens against a real Fluent Bit 5.1.1

/// msgpack `[tag, bin(entries)]`: a Forward protocol PackedForward message.
fn packed_forward(tag: &str, entries: &[u8]) -> Vec<u8> {
    let mut m = Vec::new();
    rmp::encode::write_array_len(&mut m, 2).unwrap();
    rmp::encode::write_str(&mut m, tag).unwrap();
    rmp::encode::write_bin(&mut m, entries).unwrap();
    m
}

/// A record tagged apart from the golden's, sent after it: once its line is out, the golden chunk
/// has been taken in (same connection, before it), and the line is removed from the output.
const MARKER: &str = "zz-golden-check-marker";

/// Runs `fb` with a forward input and the native stdout output with the case's keys, sends the
/// case's chunk (tag golden.tag) and then the marker, stops it with SIGTERM once the marker was
/// printed (Fluent Bit flushes what it holds before it exits) and returns its stdout without the
/// marker's line.
fn real_fluent_bit_prints(fb: &str, case: &Case) -> Vec<u8> {
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    let mut args: Vec<String> =
        ["-i", "forward", "-p", "listen=127.0.0.1", "-p"].iter().map(|s| s.to_string()).collect();
    args.push(format!("port={port}"));
    args.extend(["-o", "stdout", "-m", "*", "-f", "0.2", "-p"].iter().map(|s| s.to_string()));
    args.push(format!("format={}", case.format.0));
    args.push("-p".into());
    args.push(format!("json_date_key={}", case.date_key.unwrap_or("false")));
    args.push("-p".into());
    args.push(format!("json_date_format={}", case.date_format.0));
    let mut child = Command::new(fb)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {fb}: {e}"));
    let out = Arc::new(Mutex::new(Vec::new()));
    let mut pipe = child.stdout.take().expect("piped stdout");
    let sink = Arc::clone(&out);
    let reader = std::thread::spawn(move || {
        let mut b = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut b) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&b[..n]);
        }
    });
    let mut err_pipe = child.stderr.take().expect("piped stderr");
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err_pipe.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let mut conn = loop {
        match std::net::TcpStream::connect(("127.0.0.1", port)) {
            Ok(c) => break Some(c),
            Err(_) if start.elapsed() < Duration::from_secs(20) => std::thread::sleep(Duration::from_millis(50)),
            Err(_) => break None,
        }
    };
    let marker = modern(time(T, 0), m(vec![]), m(vec![(MARKER, V::Bool(true))]));
    let sent = conn.as_mut().is_some_and(|c| {
        c.write_all(&packed_forward("golden.tag", &chunk_of(case.chunk))).is_ok()
            && c.write_all(&packed_forward("zz.marker", &marker)).is_ok()
    });
    let start = Instant::now();
    while sent && start.elapsed() < Duration::from_secs(20) {
        if out.lock().unwrap().windows(MARKER.len()).any(|w| w == MARKER.as_bytes()) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(conn);
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let start = Instant::now();
    while child.try_wait().ok().flatten().is_none() && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    reader.join().expect("stdout reader");
    let stderr = err_reader.join().unwrap_or_default();
    let out = std::mem::take(&mut *out.lock().unwrap());
    // The marker's chunk printed as one line, before or after the golden chunk's output.
    let mut lines: Vec<&[u8]> = out.split_inclusive(|&b| b == b'\n').collect();
    let before = lines.len();
    lines.retain(|l| !l.windows(MARKER.len()).any(|w| w == MARKER.as_bytes()));
    assert_eq!(lines.len() + 1, before, "{}: the marker was not printed once:\n{}", case.file, stderr);
    lines.concat()
}

/// Optional (`FLUENT_BIT_BIN`): every golden's chunk through a real Fluent Bit 5.1.1's native
/// stdout prints the golden's bytes (`same`), or exactly what the header says it printed (`differs`).
#[test]
fn goldens_match_a_real_fluent_bit() {
    let Ok(fb) = std::env::var("FLUENT_BIT_BIN") else {
        println!("skipped: FLUENT_BIT_BIN not set");
        return;
    };
    let mut failures = Vec::new();
    for case in cases() {
        let g = match read_golden(&case) {
            Ok(g) => g,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        let want = match &g.fluent_bit {
            FluentBit::Same => &g.want,
            FluentBit::Differs(b) => b,
        };
        let got = real_fluent_bit_prints(&fb, &case);
        if &got != want {
            let says = if g.fluent_bit == FluentBit::Same { "same" } else { "differs" };
            failures.push(format!(
                "{} (header: {says}): fluent-bit printed\n{}\n--- the header says it prints\n{}",
                case.file,
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(want)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn bad_records_are_counted_and_skipped() {
    let f = Formatter::new(Options::default());
    let mut out = Vec::new();
    let st = f.format_chunk(b"t", &bad_records_chunk(), &mut out).unwrap();
    assert_eq!((st.records, st.skipped), (2, 5), "{st:?}");
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.starts_with("[0] t: ") && text.contains("\n[1] t: "), "{text}");
    assert!(st.first_skip.unwrap().to_string().contains("not an array"), "{:?}", st.first_skip);
}

#[test]
fn garbled_chunks_print_nothing() {
    let f = Formatter::new(Options { format: Format::JsonLines, ..Options::default() });
    let good = types_chunk();
    let mut cases: Vec<Vec<u8>> = Vec::new();
    for cut in [1, 5, good.len() / 2, good.len() - 1] {
        cases.push(good[..cut].to_vec());
    }
    let mut reserved = good.clone();
    reserved.push(0xc1);
    cases.push(reserved);
    let mut huge = good.clone();
    huge.extend_from_slice(&[0xdd, 0xff, 0xff, 0xff, 0xff]);
    cases.push(huge);
    for (i, c) in cases.iter().enumerate() {
        let mut out = b"previous".to_vec();
        let r = f.format_chunk(b"t", c, &mut out);
        assert!(r.is_err(), "case {i} should fail: {r:?}");
        assert_eq!(out, b"previous", "case {i}: output must be left as it was");
    }
}
