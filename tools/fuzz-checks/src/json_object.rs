//! gtail's JSON reader (`json::object`, used by `format json` and the `docker` multiline parser) on
//! arbitrary bytes: it never panics; what it accepts is exactly the pairs it counts, each a string
//! key and a well-formed msgpack value, with `log`, `stream` and `time` pointing at string values;
//! and on standard JSON (what serde_json accepts) it agrees with serde_json: the same object, keys
//! in the same order with the same values (integers as integers, floats bit for bit; `-0`, which
//! Fluent Bit reads as the integer 0, aside).

use flb_plugin_sdk::events::{decode_value, skip_value, Value};
use in_gtail::json::{self, StrField};

/// The target: the bytes are one line.
pub fn json_object(data: &[u8]) {
    let mut out = vec![0xEE]; // a byte already there: ranges are relative to where `out` ended
    let got = json::object(data, &mut out);
    let Ok(o) = got else {
        assert_eq!(out, [0xEE], "a refused line left bytes behind");
        return check_refusal(data);
    };
    let body = &out[1..];
    let mut at = 0;
    let mut pairs = Vec::new();
    while at < body.len() {
        let key = decode_value(body, at).expect("a key that decodes");
        let Value::Str(k) = key.0 else { panic!("a key that is not a string: {:?}", key.0) };
        let v_at = key.1;
        let end = skip_value(body, v_at).expect("a value that decodes");
        pairs.push((k.to_vec(), v_at..end));
        at = end;
    }
    assert_eq!(pairs.len(), o.pairs as usize, "pairs written against pairs counted");
    for (name, field) in [(&b"log"[..], &o.log), (b"stream", &o.stream), (b"time", &o.time)] {
        let first_str =
            pairs.iter().find(|(k, r)| k == name && matches!(decode_value(body, r.start), Ok((Value::Str(_), _))));
        match (field, first_str) {
            (Some(StrField { value, text }), Some((_, r))) => {
                assert_eq!(value, r, "{} points at its first string value", String::from_utf8_lossy(name));
                let Ok((Value::Str(s), _)) = decode_value(body, value.start) else { panic!("not a string") };
                assert_eq!(&body[text.clone()], s);
            }
            (None, None) => {}
            (f, s) => panic!("{}: located {f:?}, first string value {s:?}", String::from_utf8_lossy(name)),
        }
    }
    // Standard JSON: the same as serde_json reads it.
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(data) {
        if map.len() == pairs.len() {
            // serde_json's map keeps one of duplicate keys (and sorts keys or not, as a feature
            // says): compared, both sides sorted, where it can say (no duplicate keys).
            let mut ours: Vec<(Vec<u8>, &[u8])> = pairs.iter().map(|(k, r)| (k.clone(), &body[r.clone()])).collect();
            ours.sort_by(|a, b| a.0.cmp(&b.0));
            let mut theirs: Vec<(&String, &serde_json::Value)> = map.iter().collect();
            theirs.sort_by(|a, b| a.0.cmp(b.0));
            for ((k, v), (sk, sv)) in ours.iter().zip(theirs) {
                assert_eq!(k.as_slice(), sk.as_bytes(), "keys");
                same(v, sv);
            }
        }
    }
}

/// A line serde_json reads as one object with nothing after it is never refused.
fn check_refusal(data: &[u8]) {
    if let Ok(serde_json::Value::Object(_)) = serde_json::from_slice::<serde_json::Value>(data) {
        panic!("refused a line serde_json reads as an object: {:?}", String::from_utf8_lossy(data));
    }
}

/// Our encoded value against serde_json's.
fn same(ours: &[u8], theirs: &serde_json::Value) {
    let (v, end) = decode_value(ours, 0).expect("decodes");
    assert_eq!(end, ours.len());
    same_value(&v, theirs);
}

fn same_value(v: &Value<'_>, theirs: &serde_json::Value) {
    match (v, theirs) {
        (Value::Nil, serde_json::Value::Null) => {}
        (Value::Bool(a), serde_json::Value::Bool(b)) => assert_eq!(a, b),
        (Value::Str(a), serde_json::Value::String(b)) => assert_eq!(*a, b.as_bytes()),
        (Value::UInt(a), serde_json::Value::Number(n)) => assert_eq!(Some(*a), n.as_u64(), "{n}"),
        (Value::Int(a), serde_json::Value::Number(n)) => {
            let neg_zero = *a == 0 && n.as_f64().is_some_and(|f| f == 0.0 && f.is_sign_negative()) && n.is_f64();
            assert!(neg_zero || Some(*a) == n.as_i64(), "{a} against {n}");
        }
        (Value::F64(a), serde_json::Value::Number(n)) => {
            assert!(n.is_f64(), "a float for {n}");
            assert_eq!(Some(a.to_bits()), n.as_f64().map(f64::to_bits), "{a} against {n}");
        }
        (Value::Array(a), serde_json::Value::Array(b)) => {
            let items: Vec<Value<'_>> = a.iter().map(|x| x.expect("item")).collect();
            assert_eq!(items.len(), b.len());
            for (x, y) in items.iter().zip(b) {
                same_value(x, y);
            }
        }
        (Value::Map(a), serde_json::Value::Object(b)) => {
            let mut ours: Vec<(&[u8], Value<'_>)> = a
                .iter()
                .map(|kv| {
                    let (k, v) = kv.expect("pair");
                    let Value::Str(k) = k else { panic!("a key that is not a string") };
                    (k, v)
                })
                .collect();
            if ours.len() == b.len() {
                ours.sort_by(|x, y| x.0.cmp(y.0));
                let mut theirs: Vec<(&String, &serde_json::Value)> = b.iter().collect();
                theirs.sort_by(|x, y| x.0.cmp(y.0));
                for ((k, v), (sk, sv)) in ours.iter().zip(theirs) {
                    assert_eq!(*k, sk.as_bytes());
                    same_value(v, sv);
                }
            }
        }
        (a, b) => panic!("{a:?} against {b}"),
    }
}
