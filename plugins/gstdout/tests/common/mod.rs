//! Chunk building for the tests: a tiny msgpack writer on top of `rmp::encode`.
#![allow(dead_code)]

use rmp::encode as enc;
use std::path::PathBuf;

/// A msgpack value to encode.
#[derive(Clone, Debug)]
pub enum V {
    Nil,
    Bool(bool),
    I(i64),
    U(u64),
    F32(f32),
    F64(f64),
    S(Vec<u8>),
    Bin(Vec<u8>),
    Ext(i8, Vec<u8>),
    A(Vec<V>),
    M(Vec<(V, V)>),
    /// pre-encoded bytes
    Raw(Vec<u8>),
}

pub fn s(x: &str) -> V {
    V::S(x.as_bytes().to_vec())
}
pub fn m(pairs: Vec<(&str, V)>) -> V {
    V::M(pairs.into_iter().map(|(k, v)| (s(k), v)).collect())
}

pub fn encode(out: &mut Vec<u8>, v: &V) {
    match v {
        V::Nil => enc::write_nil(out).unwrap(),
        V::Bool(b) => enc::write_bool(out, *b).unwrap(),
        V::I(i) => {
            enc::write_sint(out, *i).unwrap();
        }
        V::U(u) => {
            enc::write_uint(out, *u).unwrap();
        }
        V::F32(f) => enc::write_f32(out, *f).unwrap(),
        V::F64(f) => enc::write_f64(out, *f).unwrap(),
        V::S(b) => {
            enc::write_str_len(out, b.len() as u32).unwrap();
            out.extend_from_slice(b);
        }
        V::Bin(b) => enc::write_bin(out, b).unwrap(),
        V::Ext(t, b) => {
            enc::write_ext_meta(out, b.len() as u32, *t).unwrap();
            out.extend_from_slice(b);
        }
        V::A(items) => {
            enc::write_array_len(out, items.len() as u32).unwrap();
            for i in items {
                encode(out, i);
            }
        }
        V::M(pairs) => {
            enc::write_map_len(out, pairs.len() as u32).unwrap();
            for (k, v) in pairs {
                encode(out, k);
                encode(out, v);
            }
        }
        V::Raw(b) => out.extend_from_slice(b),
    }
}

/// EventTime ext bytes.
pub fn time(secs: u32, ns: u32) -> V {
    let mut b = secs.to_be_bytes().to_vec();
    b.extend_from_slice(&ns.to_be_bytes());
    V::Ext(0, b)
}

/// `[[time, meta], body]`
pub fn modern(t: V, meta: V, body: V) -> Vec<u8> {
    let mut o = Vec::new();
    encode(&mut o, &V::A(vec![V::A(vec![t, meta]), body]));
    o
}

/// `[time, body]`
pub fn legacy(t: V, body: V) -> Vec<u8> {
    let mut o = Vec::new();
    encode(&mut o, &V::A(vec![t, body]));
    o
}

/// The record of tests/fixtures/stdout-native (see its README).
pub fn native_sample() -> Vec<u8> {
    let body = m(vec![
        ("msg", s("say \"hi\"\\path")),
        ("tab", s("a\tb")),
        ("nl", s("line1\nline2")),
        ("u", s("caf\u{e9} \u{fc}")),
        ("i", V::I(42)),
        ("neg", V::I(-7)),
        ("f", V::F64(0.25)),
        ("t", V::Bool(true)),
        ("n", V::Nil),
        ("list", V::A(vec![V::I(1), s("two"), m(vec![("three", V::I(3))])])),
        ("obj", m(vec![("k", s("v"))])),
    ]);
    modern(time(1_700_000_000, 123_456_789), m(vec![("source", s("test"))]), body)
}

/// `tests/fixtures/stdout-native` of the repository: what a real Fluent Bit 5.1.1's native stdout
/// printed for [`native_sample`] (tests/fixtures/README.md). Only read, never written.
pub fn native_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/stdout-native");
    assert!(d.join("json_lines.txt").is_file(), "the native stdout captures are missing: expected {}", d.display());
    d
}
