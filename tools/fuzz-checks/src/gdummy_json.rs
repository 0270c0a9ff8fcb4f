//! gdummy's `dummy` and `metadata` values, arbitrary text: init either fails with a config error
//! that names the key, or succeeds and its first collect returns records whose bodies are the
//! `dummy` objects (each `copies` times) and whose metadata is the `metadata` object, exactly as
//! serde_json reads the same text, and that decode as a valid chunk.

use std::sync::Arc;

use flb_plugin_sdk::api::{Config, InitContext, InputPlugin, InstanceKind};
use flb_plugin_sdk::events::{
    validate_chunk, ArrayIter, EventReader, EventTime, EventWriter, MapIter, RecordForm, Value,
};
use in_gdummy::{json, keys, FakeClock, Gdummy};
use serde_json::{Map, Number, Value as Json};

use crate::input::Input;

/// The target: a byte of options (copies, whether `metadata` is set, the record form), then
/// `dummy`, then (after a 0xff byte, which no UTF-8 text holds) `metadata`.
pub fn gdummy_json(data: &[u8]) {
    let mut input = Input::new(data);
    let opts = input.byte();
    let dummy = String::from_utf8_lossy(input.until(0xff)).into_owned();
    let metadata = String::from_utf8_lossy(input.rest()).into_owned();
    let copies = (1 + (opts & 3)).to_string();
    let form = if opts & 8 == 0 { RecordForm::Modern } else { RecordForm::Legacy };
    let mut pairs = vec![("dummy", dummy.as_str()), ("pace", "collect"), ("copies", copies.as_str())];
    if opts & 4 != 0 {
        pairs.push(("metadata", metadata.as_str()));
    }
    let cfg = Config::from_pairs(&pairs).with_keys(keys::KEYS);
    let mut ctx = InitContext::detached(cfg, InstanceKind::Input, "gdummy");
    let clock = Arc::new(FakeClock::new(EventTime::new(1_700_000_000, 0)));
    let mut g = match Gdummy::init_with_clock(&mut ctx, clock) {
        Ok(g) => g,
        Err(e) => {
            let m = e.message();
            assert!(m.contains("'dummy'") || m.contains("'metadata'"), "init failed without naming the key: {m}");
            return;
        }
    };
    let bodies = expected(&dummy);
    let meta = if opts & 4 != 0 { expected(&metadata) } else { vec![Json::Object(Map::new())] };
    assert!(!bodies.is_empty(), "init accepted a dummy value serde_json reads as no object: {dummy:?}");
    assert_eq!(meta.len(), 1, "init accepted a metadata value that is not one object: {metadata:?}");

    let mut w = EventWriter::new(form);
    if let Err(e) = g.collect(&mut w) {
        panic!("collect failed: {e}");
    }
    let chunk = w.as_bytes();
    let n = match validate_chunk(chunk) {
        Ok(n) => n,
        Err(e) => panic!("gdummy wrote a chunk that does not decode: {e}"),
    };
    let copies = usize::from(1 + (opts & 3));
    assert_eq!(n, bodies.len() * copies, "one record per object and copy");
    for (i, ev) in EventReader::new(chunk).enumerate() {
        let Ok(ev) = ev else { panic!("a validated chunk failed to read") };
        assert_eq!(to_json(ev.body), bodies[i % bodies.len()], "record {i}'s body");
        if form == RecordForm::Modern {
            assert_eq!(ev.metadata.map(to_json), Some(meta[0].clone()), "record {i}'s metadata");
        }
    }
}

/// The objects serde_json reads in `text` (after `${VAR}` resolution, as gdummy does it); empty
/// when it reads anything else.
fn expected(text: &str) -> Vec<Json> {
    let (text, _) = json::resolve_env(text, |name| std::env::var(name).ok());
    let mut out = Vec::new();
    for v in serde_json::Deserializer::from_str(&text).into_iter::<Json>() {
        match v {
            Ok(v @ Json::Object(_)) => out.push(v),
            _ => return Vec::new(),
        }
    }
    out
}

enum Open<'a> {
    A(ArrayIter<'a>, Vec<Json>),
    M(MapIter<'a>, Map<String, Json>, Option<String>),
}

/// A decoded msgpack value as serde_json would hold the same data (iterative: any depth).
fn to_json(v: Value<'_>) -> Json {
    fn scalar(v: &Value<'_>) -> Json {
        match *v {
            Value::Nil => Json::Null,
            Value::Bool(b) => Json::Bool(b),
            Value::Int(i) => Json::Number(i.into()),
            Value::UInt(u) => Json::Number(u.into()),
            Value::F32(f) => Number::from_f64(f64::from(f)).map_or(Json::Null, Json::Number),
            Value::F64(f) => Number::from_f64(f).map_or(Json::Null, Json::Number),
            Value::Str(s) | Value::Bin(s) | Value::Ext(_, s) => Json::String(String::from_utf8_lossy(s).into_owned()),
            Value::Array(_) | Value::Map(_) => Json::Null,
        }
    }
    fn open(v: Value<'_>) -> Option<Open<'_>> {
        match v {
            Value::Array(a) => Some(Open::A(a.iter(), Vec::new())),
            Value::Map(m) => Some(Open::M(m.iter(), Map::new(), None)),
            _ => None,
        }
    }
    let Some(first) = open(v) else { return scalar(&v) };
    let mut stack = vec![first];
    loop {
        let Some(top) = stack.last_mut() else { return Json::Null };
        let next = match top {
            Open::A(it, _) => it.next().map(|r| r.map(|x| (None, x))),
            Open::M(it, _, key) => it.next().map(|r| {
                r.map(|(k, x)| {
                    *key = Some(k.as_bytes().map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default());
                    (None::<()>, x)
                })
            }),
        };
        let done = match next {
            Some(Err(e)) => panic!("a validated record failed to iterate: {e}"),
            Some(Ok((_, x))) => match open(x) {
                Some(o) => {
                    stack.push(o);
                    continue;
                }
                None => scalar(&x),
            },
            None => match stack.pop() {
                Some(Open::A(_, items)) => Json::Array(items),
                Some(Open::M(_, map, _)) => Json::Object(map),
                None => return Json::Null,
            },
        };
        // `done` is a finished value: it goes into the container now on top, or is the result.
        match stack.last_mut() {
            None => return done,
            Some(Open::A(_, items)) => items.push(done),
            Some(Open::M(_, map, key)) => {
                map.insert(key.take().unwrap_or_default(), done);
            }
        }
    }
}
