//! `sdktest_out`'s lines: the default `<tag> n=<value>` and `fields=k1,k2,...`. Chunks of hand-made
//! msgpack records go through `flb-host bench -o sdktest_out --chunk-file` (one flush per count,
//! tag `bench`), so every value type can be tried.

use flb_host::{run_host, rust_plugin, s};
use std::path::PathBuf;

/// A tiny msgpack writer for the test records.
#[derive(Default)]
struct Mp(Vec<u8>);

impl Mp {
    fn map(&mut self, n: u8) -> &mut Self {
        self.0.push(0x80 | n);
        self
    }
    fn arr(&mut self, n: u8) -> &mut Self {
        self.0.push(0x90 | n);
        self
    }
    fn str(&mut self, v: &[u8]) -> &mut Self {
        self.0.push(0xd9);
        self.0.push(u8::try_from(v.len()).expect("short"));
        self.0.extend_from_slice(v);
        self
    }
    fn bin(&mut self, v: &[u8]) -> &mut Self {
        self.0.push(0xc4);
        self.0.push(u8::try_from(v.len()).expect("short"));
        self.0.extend_from_slice(v);
        self
    }
    fn int(&mut self, v: i64) -> &mut Self {
        self.0.push(0xd3);
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn uint(&mut self, v: u64) -> &mut Self {
        self.0.push(0xcf);
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn f64(&mut self, v: f64) -> &mut Self {
        self.0.push(0xcb);
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn raw(&mut self, b: &[u8]) -> &mut Self {
        self.0.extend_from_slice(b);
        self
    }
    /// `[[EventTime, {}], ` then the body the caller writes.
    fn record_head(&mut self) -> &mut Self {
        self.arr(2).arr(2).raw(&[0xd7, 0x00, 0x65, 0x53, 0xf1, 0x00, 0, 0, 0, 0]).map(0)
    }
}

fn chunk_file(name: &str, bytes: &[u8]) -> PathBuf {
    let p = std::env::temp_dir().join(format!("sdktest-fields-{}-{name}.mp", std::process::id()));
    std::fs::write(&p, bytes).expect("write chunk file");
    p
}

/// One flush of `chunk` into sdktest_out with `props`; its stdout lines.
fn flush_lines(name: &str, chunk: &[u8], props: &[&str]) -> Vec<String> {
    let so = s(&rust_plugin("out-sdktest", "out_sdktest"));
    let file = chunk_file(name, chunk);
    let f = s(&file);
    let mut args = vec!["bench", "-e", &so, "-o", "sdktest_out", "--chunk-file", &f, "--count", "1", "--warmup", "0"];
    for kv in props {
        args.extend_from_slice(&["-p", kv]);
    }
    let r = run_host(&args);
    let _ = std::fs::remove_file(&file);
    assert_eq!(r.code, Some(0), "{}", r.all());
    r.stdout.lines().map(str::to_string).collect()
}

/// Four records: ints, a string with a space and '=', a newline, bin, invalid UTF-8, a float, a
/// nested map, a missing key.
fn sample() -> Vec<u8> {
    let mut m = Mp::default();
    m.record_head().map(3).str(b"n").int(-7).str(b"msg").str(b"hello world = x").str(b"u").uint(u64::MAX);
    m.record_head().map(2).str(b"n").uint(42).str(b"msg").str(b"line1\nline2\r\\end");
    m.record_head().map(3).str(b"n").str(b"seven").str(b"msg").bin(b"raw \xff bytes").str(b"f").f64(0.25);
    m.record_head().map(2).str(b"obj").map(1).str(b"k").str(b"v").str(b"msg").str(b"caf\xc3\xa9");
    m.0
}

#[test]
fn default_output_is_tag_and_n() {
    let lines = flush_lines("default", &sample(), &[]);
    assert_eq!(lines, ["bench n=-7", "bench n=42", "bench n=seven", "bench n=?"]);
}

#[test]
fn default_output_matches_fields_n_byte_for_byte() {
    let mut m = Mp::default();
    for n in 0..50u64 {
        m.record_head().map(2).str(b"n").uint(n).str(b"x").str(b"y");
    }
    let a = flush_lines("n-default", &m.0, &[]);
    let b = flush_lines("n-explicit", &m.0, &["fields=n"]);
    assert_eq!(a, b);
    assert_eq!(a, (0..50).map(|n| format!("bench n={n}")).collect::<Vec<_>>());
}

#[test]
fn fields_prints_the_keys_in_order_one_line_per_record() {
    let lines = flush_lines("fields", &sample(), &["fields=msg, n ,f,u,obj,nope"]);
    assert_eq!(
        lines,
        [
            "bench msg=hello world = x n=-7 f=? u=18446744073709551615 obj=? nope=?",
            "bench msg=line1\\nline2\\r\\end n=42 f=? u=? obj=? nope=?",
            "bench msg=raw \u{fffd} bytes n=seven f=0.25 u=? obj=? nope=?",
            "bench msg=café n=? f=? u=? obj=? nope=?",
        ]
    );
}

#[test]
fn the_last_field_takes_the_rest_of_the_line() {
    let lines = flush_lines("last", &sample(), &["fields=n,msg"]);
    let msgs: Vec<&str> = lines.iter().map(|l| l.split_once(" msg=").map(|(_, v)| v).unwrap_or("")).collect();
    assert_eq!(msgs, ["hello world = x", "line1\\nline2\\r\\end", "raw \u{fffd} bytes", "café"]);
}

#[test]
fn an_empty_fields_list_fails_init() {
    let so = s(&rust_plugin("out-sdktest", "out_sdktest"));
    let r = run_host(&["check", &so, "-p", "fields= , "]);
    assert_eq!(r.code, Some(1), "{}", r.all());
    assert!(r.stdout.contains("FAIL init:"), "{}", r.all());
    assert!(r.stderr.contains("fields ' , ': expected a comma-separated list of keys"), "{}", r.all());
}
