//! Golden tests: fixed chunks printed in every format, compared byte for byte with the files in
//! tests/golden/ (regenerate with UPDATE_GOLDEN=1, then review the diff against Fluent Bit's source).

mod common;

use common::*;
use out_gstdout::{DateFormat, Format, Formatter, Options};
use std::path::PathBuf;

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

fn check(name: &str, got: &[u8], failures: &mut Vec<String>) {
    let p = golden_dir().join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&p, got).unwrap();
        return;
    }
    match std::fs::read(&p) {
        Ok(want) if want == got => {}
        Ok(want) => failures.push(format!(
            "{name} differs:\n--- want\n{}\n--- got\n{}",
            String::from_utf8_lossy(&want),
            String::from_utf8_lossy(got)
        )),
        Err(e) => failures.push(format!("{}: {e} (run with UPDATE_GOLDEN=1)", p.display())),
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
    for (name, chunk) in chunks() {
        for (fname, format) in [
            ("msgpack", Format::Msgpack),
            ("json", Format::Json),
            ("json_lines", Format::JsonLines),
            ("json_stream", Format::JsonStream),
        ] {
            let out = run(format, Some("date"), DateFormat::Double, &chunk);
            check(&format!("{name}.{fname}.txt"), &out, &mut failures);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn golden_every_date_format() {
    let mut failures = Vec::new();
    let chunk = times_chunk();
    for (dname, df) in [
        ("double", DateFormat::Double),
        ("epoch", DateFormat::Epoch),
        ("epoch_ms", DateFormat::EpochMs),
        ("iso8601", DateFormat::Iso8601),
        ("java_sql_timestamp", DateFormat::JavaSqlTimestamp),
    ] {
        let out = run(Format::JsonLines, Some("@timestamp"), df, &chunk);
        check(&format!("times.date_{dname}.txt"), &out, &mut failures);
    }
    let out = run(Format::JsonLines, None, DateFormat::Double, &chunk);
    check("times.no_date.txt", &out, &mut failures);
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
