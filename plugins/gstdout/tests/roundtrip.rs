//! json/json_lines/json_stream output parsed back with serde_json equals the records; deep nesting
//! prints on a 64 KiB stack.

mod common;

use common::*;
use out_gstdout::{DateFormat, Format, Formatter, Options, Scratch};
use serde_json::{json, Value as J};

fn expected(v: &V) -> J {
    match v {
        V::Nil => J::Null,
        V::Bool(b) => J::Bool(*b),
        V::I(i) => json!(i),
        V::U(u) => json!(u),
        V::F32(f) => json!(f64::from(*f)),
        V::F64(f) => json!(f),
        V::S(b) | V::Bin(b) => J::String(String::from_utf8(b.clone()).unwrap()),
        V::A(a) => J::Array(a.iter().map(expected).collect()),
        V::M(p) => {
            let mut o = serde_json::Map::new();
            for (k, v) in p {
                let V::S(k) = k else { panic!("string keys only here") };
                o.insert(String::from_utf8(k.clone()).unwrap(), expected(v));
            }
            J::Object(o)
        }
        V::Ext(..) | V::Raw(_) => panic!("not in round-trip records"),
    }
}

/// Numbers compare within 1e-15 relative (`%.16g` keeps 16 significant digits).
fn same(a: &J, b: &J) -> bool {
    match (a, b) {
        (J::Number(x), J::Number(y)) => {
            if let (Some(x), Some(y)) = (x.as_i64(), y.as_i64()) {
                return x == y;
            }
            if let (Some(x), Some(y)) = (x.as_u64(), y.as_u64()) {
                return x == y;
            }
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            x == y || ((x - y).abs() <= 1e-15 * x.abs().max(y.abs()))
        }
        (J::Array(x), J::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b)),
        (J::Object(x), J::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn records() -> Vec<(u32, u32, V, V)> {
    let mut r = Vec::new();
    for i in 0..50u32 {
        let body = m(vec![
            ("i", V::I(i64::from(i) * -123_456_789)),
            ("u", V::U(u64::MAX - u64::from(i))),
            ("f", V::F64(f64::from(i) * 0.1 + 1e-9)),
            ("f32", V::F32(i as f32 / 3.0)),
            ("s", s(&format!("line {i}: \"quoted\" \\ tab\t nl\n caf\u{e9} \u{1f600} \u{1} end"))),
            ("bin", V::Bin(format!("bin{i}").into_bytes())),
            ("nested", m(vec![("a", V::A(vec![V::Nil, V::Bool(i % 2 == 0), m(vec![("deep", V::I(i.into()))])]))])),
            ("empty", m(vec![])),
        ]);
        let meta = if i % 3 == 0 { m(vec![]) } else { m(vec![("src", s("x")), ("n", V::I(i.into()))]) };
        r.push((1_600_000_000 + i, i * 7_654_321, meta, body));
    }
    r
}

fn chunk(rs: &[(u32, u32, V, V)]) -> Vec<u8> {
    let mut c = Vec::new();
    for (i, (t, ns, meta, body)) in rs.iter().enumerate() {
        if i % 2 == 0 {
            c.extend(modern(time(*t, *ns), meta.clone(), body.clone()));
        } else {
            c.extend(legacy(time(*t, *ns), body.clone()));
        }
    }
    c
}

fn want(rs: &[(u32, u32, V, V)]) -> Vec<J> {
    rs.iter()
        .enumerate()
        .map(|(i, (t, ns, meta, body))| {
            let mut o = serde_json::Map::new();
            o.insert("date".into(), json!(*t as f64 + f64::from(*ns) / 1e9));
            let meta = if i % 2 == 0 { expected(meta) } else { json!({}) };
            if meta.as_object().is_some_and(|m| !m.is_empty()) {
                o.insert("__internal__".into(), json!({ "log_metadata": meta }));
            }
            if let J::Object(b) = expected(body) {
                o.extend(b);
            }
            J::Object(o)
        })
        .collect()
}

fn format(f: Format, c: &[u8]) -> String {
    let fm = Formatter::new(Options { format: f, date_key: Some("date".into()), date_format: DateFormat::Double });
    let mut out = Vec::new();
    fm.format_chunk(b"rt", c, &mut out).unwrap();
    String::from_utf8(out).expect("JSON output is UTF-8")
}

#[test]
fn json_lines_parse_back_to_the_records() {
    let rs = records();
    let c = chunk(&rs);
    let text = format(Format::JsonLines, &c);
    let got: Vec<J> = text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
    let want = want(&rs);
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert!(same(g, w), "\n got {g}\nwant {w}");
    }
}

#[test]
fn json_and_json_stream_parse_back() {
    let rs = records();
    let c = chunk(&rs);
    let want = want(&rs);
    let arr: J = serde_json::from_str(&format(Format::Json, &c)).unwrap();
    assert!(same(&arr, &J::Array(want.clone())));
    let stream = format(Format::JsonStream, &c);
    assert!(
        stream.ends_with("}\n") && stream.matches('\n').count() == 1,
        "records back to back, one newline per chunk"
    );
    let got: Vec<J> = serde_json::Deserializer::from_str(&stream).into_iter::<J>().map(|r| r.unwrap()).collect();
    assert_eq!(got.len(), want.len());
    assert!(got.iter().zip(&want).all(|(g, w)| same(g, w)));
}

#[test]
fn invalid_utf8_and_controls_still_parse() {
    let mut c = Vec::new();
    for b in 0u8..=255 {
        let mut st = vec![b'<', b];
        st.extend_from_slice(&[b, 0xc3, b'>', 0xe2, 0x82]);
        c.extend(modern(
            time(1, 0),
            V::M(vec![(V::S(vec![b, b'k']), V::I(1))]),
            V::M(vec![(V::S(st.clone()), V::S(st.clone())), (s("bin"), V::Bin(st))]),
        ));
    }
    for line in format(Format::JsonLines, &c).lines() {
        serde_json::from_str::<J>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }
}

fn deep(depth: usize, map: bool) -> Vec<u8> {
    // [[t, {}], {"deep": <depth levels>}]
    let mut v = Vec::new();
    for _ in 0..depth {
        if map {
            v.extend_from_slice(&[0x81, 0xa1, b'k']);
        } else {
            v.push(0x91);
        }
    }
    v.push(0x01);
    let mut body = Vec::new();
    body.extend_from_slice(&[0x81, 0xa4]);
    body.extend_from_slice(b"deep");
    body.extend(v);
    modern(time(1, 0), m(vec![]), V::Raw(body))
}

#[test]
fn ten_thousand_levels_on_a_64k_stack() {
    let h = std::thread::Builder::new()
        .stack_size(64 * 1024)
        .spawn(|| {
            let mut scratch = Scratch::new();
            for map in [false, true] {
                let c = deep(10_000, map);
                for f in [Format::Msgpack, Format::Json, Format::JsonLines, Format::JsonStream] {
                    let fm = Formatter::new(Options { format: f, ..Options::default() });
                    let mut out = Vec::new();
                    let st = fm.format_chunk_with(b"deep", &c, &mut out, &mut scratch).unwrap();
                    assert_eq!(st.records, 1);
                    let (open, close) = if map { (b'{', b'}') } else { (b'[', b']') };
                    let opens = out.iter().filter(|&&b| b == open).count();
                    let closes = out.iter().filter(|&&b| b == close).count();
                    assert_eq!(opens, closes);
                    assert!(opens >= 10_000);
                }
            }
            // and a chain of two-key maps (the JSON duplicate-key check walks each level)
            let mut body = Vec::new();
            for _ in 0..2_000 {
                body.extend_from_slice(&[0x82, 0xa1, b'a', 0x01, 0xa1, b'k']);
            }
            body.push(0xc0);
            let c = modern(time(1, 0), m(vec![]), V::Raw(body));
            let fm = Formatter::new(Options { format: Format::JsonLines, ..Options::default() });
            let mut out = Vec::new();
            fm.format_chunk_with(b"deep", &c, &mut out, &mut scratch).unwrap();
            out.len()
        })
        .unwrap();
    assert!(h.join().expect("no stack overflow") > 2_000 * 12);
}
