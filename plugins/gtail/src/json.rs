//! JSON text to msgpack, as Fluent Bit's JSON parser packs it (objects to maps, integers to the
//! shortest int, numbers with a fraction or exponent to float64, strings unescaped), written
//! straight into a reused buffer: serde_json reads, a visitor writes msgpack, and no JSON value is
//! built in between (no allocation once the buffer has grown).
//!
//! Used by `format json` (the whole line is the record) and the `docker` multiline parser (the
//! line's `log`, `stream` and `time` are located while the object is written).

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::ops::Range;

/// A top-level string field of the object: where its encoded value (header included) and its text
/// are in the output buffer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StrField {
    pub value: Range<usize>,
    pub text: Range<usize>,
}

/// What [`object`] wrote: the pairs of one map, without the map header (the caller adds its own
/// fields and writes the header for the total).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Object {
    pub pairs: u32,
    /// The first `log` key with a string value (Fluent Bit's multiline engine takes the first).
    pub log: Option<StrField>,
    pub stream: Option<StrField>,
    pub time: Option<StrField>,
}

/// Why a line is not taken as a JSON object.
#[derive(Debug)]
pub struct NotAnObject;

/// Writes the pairs of the JSON object `src` (whitespace around it allowed) at the end of `out`.
/// On error `out` is left as it was.
///
/// What Fluent Bit's reader (yyjson, `flb_pack_json_recs`) also takes, tried only when the strict
/// read fails, so a well-formed line pays nothing for them: bytes that are not UTF-8 and lone
/// surrogate escapes become U+FFFD (`ALLOW_INVALID_UNICODE | REPLACE_INVALID_UNICODE`), and
/// anything after the object that does not start another JSON value is ignored (it reads values
/// until one fails, and wants exactly one).
pub fn object(src: &[u8], out: &mut Vec<u8>) -> Result<Object, NotAnObject> {
    if let Ok(o) = object_strict(src, out) {
        return Ok(o);
    }
    let mut fixed = std::borrow::Cow::Borrowed(src);
    if std::str::from_utf8(src).is_err() {
        fixed = std::borrow::Cow::Owned(String::from_utf8_lossy(src).into_owned().into_bytes());
    }
    if let Some(f) = replace_lone_surrogates(&fixed) {
        fixed = std::borrow::Cow::Owned(f);
    }
    if let Some(end) = end_of_first_value(&fixed) {
        if next_value_fails(&fixed[end..]) {
            return object_strict(&fixed[..end], out);
        }
        return Err(NotAnObject);
    }
    object_strict(&fixed, out)
}

/// Where the first JSON value of `src` ends, when it is followed by more than whitespace.
fn end_of_first_value(src: &[u8]) -> Option<usize> {
    let mut it = serde_json::Deserializer::from_slice(src).into_iter::<de::IgnoredAny>();
    match it.next() {
        Some(Ok(_)) => {
            let end = it.byte_offset();
            src[end..].iter().any(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r')).then_some(end)
        }
        _ => None,
    }
}

/// True when what follows the first value is not another value (yyjson fails on it).
fn next_value_fails(rest: &[u8]) -> bool {
    !matches!(serde_json::Deserializer::from_slice(rest).into_iter::<de::IgnoredAny>().next(), Some(Ok(_)))
}

/// `src` with every `\uXXXX` escape of a surrogate that is not part of a pair replaced by
/// `\ufffd`; None when there is none.
fn replace_lone_surrogates(src: &[u8]) -> Option<Vec<u8>> {
    fn hex4(b: &[u8]) -> Option<u16> {
        let s = std::str::from_utf8(b.get(..4)?).ok()?;
        u16::from_str_radix(s, 16).ok()
    }
    let mut out: Option<Vec<u8>> = None;
    let (mut i, mut copied, mut in_str) = (0, 0, false);
    while i < src.len() {
        match src[i] {
            b'"' => in_str = !in_str,
            b'\\' if in_str => {
                if src.get(i + 1) == Some(&b'u') {
                    if let Some(u) = hex4(&src[i + 2..]) {
                        let high = (0xD800..0xDC00).contains(&u);
                        let paired = high
                            && src.get(i + 6..i + 8) == Some(b"\\u")
                            && hex4(&src[i + 8..]).is_some_and(|l| (0xDC00..0xE000).contains(&l));
                        if paired {
                            i += 12;
                            continue;
                        }
                        if (0xD800..0xE000).contains(&u) {
                            let o = out.get_or_insert_with(|| Vec::with_capacity(src.len()));
                            o.extend_from_slice(&src[copied..i]);
                            o.extend_from_slice(b"\\ufffd");
                            copied = i + 6;
                        }
                        i += 6;
                        continue;
                    }
                }
                i += 2;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    let mut o = out?;
    o.extend_from_slice(&src[copied..]);
    Some(o)
}

fn object_strict(src: &[u8], out: &mut Vec<u8>) -> Result<Object, NotAnObject> {
    let start = out.len();
    let first = src.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return Err(NotAnObject);
    }
    // yyjson reads `-0` as the integer 0; serde_json as the float -0.0. Tracked only when the
    // line has a `-0` at all.
    let mut negs = NegZeros::scan(src);
    let mut de = serde_json::Deserializer::from_slice(src);
    let res = de.deserialize_map(TopVisitor { out, start, negs: &mut negs }).and_then(|o| de.end().map(|_| o));
    match res {
        Ok(o) => Ok(o),
        Err(_) => {
            out.truncate(start);
            Err(NotAnObject)
        }
    }
}

/// The negative number tokens of a line, in order, and which of them are the integer `-0`.
#[derive(Default)]
struct NegZeros {
    /// Bit k: the k-th negative number is `-0` (an integer). Empty when the line has no `-0`.
    int_zero: u64,
    count: u32,
    next: u32,
    on: bool,
}

impl NegZeros {
    fn scan(src: &[u8]) -> NegZeros {
        let mut n = NegZeros::default();
        if memchr::memmem::find(src, b"-0").is_none() {
            return n;
        }
        n.on = true;
        let (mut i, mut in_str) = (0, false);
        while i < src.len() {
            match src[i] {
                b'"' => in_str = !in_str,
                b'\\' if in_str => i += 1,
                // A '-' after an 'e' is an exponent's sign, not a number's.
                b'-' if !in_str && !matches!(i.checked_sub(1).map(|k| src[k]), Some(b'e' | b'E')) => {
                    let int_zero = src.get(i + 1) == Some(&b'0')
                        && !matches!(src.get(i + 2), Some(b'.' | b'e' | b'E' | b'0'..=b'9'));
                    if n.count < 64 && int_zero {
                        n.int_zero |= 1 << n.count;
                    }
                    n.count += 1;
                }
                _ => {}
            }
            i += 1;
        }
        n
    }

    /// A negative number was read: true when it was the integer `-0`.
    fn take(&mut self) -> bool {
        if !self.on {
            return false;
        }
        let k = self.next;
        self.next += 1;
        k < 64 && self.int_zero & (1 << k) != 0
    }
}

struct TopVisitor<'o> {
    out: &'o mut Vec<u8>,
    start: usize,
    negs: &'o mut NegZeros,
}

impl<'de> Visitor<'de> for TopVisitor<'_> {
    type Value = Object;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Object, A::Error> {
        let mut o = Object::default();
        while let Some(key) = map.next_key_seed(KeySeed { out: self.out })? {
            let at = self.out.len();
            let is_str = map.next_value_seed(Value { out: self.out, negs: self.negs })?;
            o.pairs = o.pairs.checked_add(1).ok_or_else(|| de::Error::custom("too many keys"))?;
            if !is_str {
                continue;
            }
            let slot = match &self.out[key.clone()] {
                b"log" => &mut o.log,
                b"stream" => &mut o.stream,
                b"time" => &mut o.time,
                _ => continue,
            };
            if slot.is_none() {
                let h = str_header_len(self.out.len() - at);
                *slot = Some(StrField {
                    value: at - self.start..self.out.len() - self.start,
                    text: at + h - self.start..self.out.len() - self.start,
                });
            }
        }
        Ok(o)
    }
}

/// The length of the msgpack header of a string of `total` encoded bytes (header included).
fn str_header_len(total: usize) -> usize {
    if total <= 32 {
        1
    } else if total <= 255 + 2 {
        2
    } else if total <= 65_535 + 3 {
        3
    } else {
        5
    }
}

/// A key: written as a msgpack string; returns where its text is.
struct KeySeed<'o> {
    out: &'o mut Vec<u8>,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Range<usize>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Range<usize>, D::Error> {
        d.deserialize_str(KeyVisitor { out: self.out })
    }
}

struct KeyVisitor<'o> {
    out: &'o mut Vec<u8>,
}

impl<'de> Visitor<'de> for KeyVisitor<'_> {
    type Value = Range<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Range<usize>, E> {
        write_str(self.out, v.as_bytes());
        Ok(self.out.len() - v.len()..self.out.len())
    }
}

/// Any value: written as msgpack; returns whether it was a string.
struct Value<'o> {
    out: &'o mut Vec<u8>,
    negs: &'o mut NegZeros,
}

impl<'de> DeserializeSeed<'de> for Value<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Value<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        self.out.push(if v { 0xc3 } else { 0xc2 });
        Ok(false)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
        if v < 0 {
            self.negs.take();
        }
        // Vec<u8> as io::Write cannot fail (allocation failure aborts, as for any Vec growth).
        let _ = rmp::encode::write_sint(self.out, v);
        Ok(false)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
        let _ = rmp::encode::write_uint(self.out, v);
        Ok(false)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<bool, E> {
        if v.is_sign_negative() && self.negs.take() {
            self.out.push(0);
            return Ok(false);
        }
        let _ = rmp::encode::write_f64(self.out, v);
        Ok(false)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        write_str(self.out, v.as_bytes());
        Ok(true)
    }

    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        self.out.push(0xc0);
        Ok(false)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        let head = open_container(self.out);
        let mut n = 0u32;
        while seq.next_element_seed(Value { out: self.out, negs: self.negs })?.is_some() {
            n = n.checked_add(1).ok_or_else(|| de::Error::custom("array too long"))?;
        }
        close_container(self.out, head, n, false);
        Ok(false)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let head = open_container(self.out);
        let mut n = 0u32;
        while map.next_key_seed(KeySeed { out: self.out })?.is_some() {
            map.next_value_seed(Value { out: self.out, negs: self.negs })?;
            n = n.checked_add(1).ok_or_else(|| de::Error::custom("object too large"))?;
        }
        close_container(self.out, head, n, true);
        Ok(false)
    }
}

/// Writes a msgpack string (shortest header).
pub fn write_str(out: &mut Vec<u8>, s: &[u8]) {
    let _ = rmp::encode::write_str_len(out, s.len() as u32);
    out.extend_from_slice(s);
}

/// Room for the widest header of an array or map whose length is not known yet.
fn open_container(out: &mut Vec<u8>) -> usize {
    let at = out.len();
    out.extend_from_slice(&[0; 5]);
    at
}

/// Writes the shortest header for `n` entries at `at` and moves the entries up against it.
fn close_container(out: &mut Vec<u8>, at: usize, n: u32, map: bool) {
    let mut head = [0u8; 5];
    let h = if n < 16 {
        head[0] = if map { 0x80 } else { 0x90 } | n as u8;
        1
    } else if let Ok(n16) = u16::try_from(n) {
        head[0] = if map { 0xde } else { 0xdc };
        head[1..3].copy_from_slice(&n16.to_be_bytes());
        3
    } else {
        head[0] = if map { 0xdf } else { 0xdd };
        head[1..5].copy_from_slice(&n.to_be_bytes());
        5
    };
    out[at..at + h].copy_from_slice(&head[..h]);
    if h < 5 {
        out.copy_within(at + 5.., at + h);
        out.truncate(out.len() - (5 - h));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(src: &str) -> (Vec<u8>, Object) {
        let mut out = Vec::new();
        let o = object(src.as_bytes(), &mut out).expect("object");
        (out, o)
    }

    /// The expected bytes: the value as serde_json reads it, encoded by rmp, the map header taken
    /// off (serde_json's map sorts its keys, so the sources below have theirs in order).
    fn expected(src: &str) -> Vec<u8> {
        let v: serde_json::Value = serde_json::from_str(src).expect("json");
        let mut all = Vec::new();
        fn enc(out: &mut Vec<u8>, v: &serde_json::Value) {
            match v {
                serde_json::Value::Null => out.push(0xc0),
                serde_json::Value::Bool(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
                serde_json::Value::Number(n) => {
                    if let Some(u) = n.as_u64() {
                        rmp::encode::write_uint(out, u).expect("u");
                    } else if let Some(i) = n.as_i64() {
                        rmp::encode::write_sint(out, i).expect("i");
                    } else {
                        rmp::encode::write_f64(out, n.as_f64().expect("f")).expect("f");
                    }
                }
                serde_json::Value::String(s) => {
                    rmp::encode::write_str(out, s).expect("s");
                }
                serde_json::Value::Array(a) => {
                    rmp::encode::write_array_len(out, a.len() as u32).expect("a");
                    a.iter().for_each(|x| enc(out, x));
                }
                serde_json::Value::Object(m) => {
                    rmp::encode::write_map_len(out, m.len() as u32).expect("m");
                    for (k, x) in m {
                        rmp::encode::write_str(out, k).expect("k");
                        enc(out, x);
                    }
                }
            }
        }
        enc(&mut all, &v);
        let h = match all[0] {
            0x80..=0x8f => 1,
            0xde => 3,
            _ => 5,
        };
        all[h..].to_vec()
    }

    #[test]
    fn objects_pack_as_fluent_bit_packs_them() {
        for src in [
            r#"{"log":"hello\n","stream":"stdout","time":"2021-02-01T01:40:03.53412Z"}"#,
            r#" {"a":1,"b":-2,"c":0.25,"d":1e3,"e":true,"f":false,"g":null} "#,
            r#"{"arr":[],"nested":{"e":{},"k":[1,"two",{"three":3}]}}"#,
            r#"{"esc":"caf\u00e9 \t \" \\ \/ \ud83d\ude00"}"#,
            r#"{"big":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]}"#,
        ] {
            let (out, o) = pairs(src);
            assert_eq!(out, expected(src), "{src}");
            let v: serde_json::Value = serde_json::from_str(src).expect("json");
            assert_eq!(o.pairs as usize, v.as_object().expect("object").len());
        }
    }

    #[test]
    fn large_containers_get_wide_headers() {
        let keys: Vec<String> = (0..70_000).map(|i| format!("\"k{i:05}\":{i}")).collect();
        let src = format!("{{\"m\":{{{}}}}}", keys.join(","));
        let (out, _) = pairs(&src);
        assert_eq!(out, expected(&src));
    }

    #[test]
    fn log_stream_and_time_are_located() {
        let (out, o) = pairs(r#"{"log":7,"log":"a\n","stream":"stderr","x":{"time":"no"},"time":"t"}"#);
        let text = |f: &Option<StrField>| f.as_ref().map(|f| out[f.text.clone()].to_vec());
        assert_eq!(text(&o.log), Some(b"a\n".to_vec()), "the first log with a string value");
        assert_eq!(text(&o.stream), Some(b"stderr".to_vec()));
        assert_eq!(text(&o.time), Some(b"t".to_vec()), "a top-level key only");
        let log = o.log.expect("log");
        assert_eq!(&out[log.value], &[0xa2, b'a', b'\n']);
        let long = "x".repeat(300);
        let (out, o) = pairs(&format!(r#"{{"log":"{long}"}}"#));
        let log = o.log.expect("log");
        assert_eq!(&out[log.text.clone()], long.as_bytes());
        assert_eq!(log.value.len(), 303);
    }

    /// What Fluent Bit's yyjson reader takes beyond strict JSON (tests/containers/docker-json.log
    /// holds the same lines, against native's output).
    #[test]
    fn what_fluent_bits_reader_also_takes() {
        let (out, o) = pairs(r#"{"log":"a\n"} garbage"#);
        assert_eq!((o.pairs, out), (1, expected(r#"{"log":"a\n"}"#)), "garbage after the object");
        let (out, _) = pairs(r#"{"log":"x"}   {"cut":"#);
        assert_eq!(out, expected(r#"{"log":"x"}"#), "a second value that does not parse");
        let mut out = Vec::new();
        assert!(object(br#"{"a":1}{"b":2}"#, &mut out).is_err(), "two objects");
        assert!(object(br#"{"a":1} 5"#, &mut out).is_err(), "an object and a number");
        let (out, _) = pairs(r#"{"s":"lone \ud800 high, lone \udc00 low, pair \ud83d\ude00, escaped \\ud800"}"#);
        assert_eq!(out, expected(r#"{"s":"lone \ufffd high, lone \ufffd low, pair \ud83d\ude00, escaped \\ud800"}"#));
        let (out, _) = pairs(r#"{"a":-0,"b":-0.0,"c":[-1,-0,-0e1,-1e-400,-0],"d":"-0"}"#);
        let mut want = Vec::new();
        for (k, v) in [("a", &[0u8][..]), ("b", &[0xcb, 0x80, 0, 0, 0, 0, 0, 0, 0][..])] {
            rmp::encode::write_str(&mut want, k).expect("k");
            want.extend_from_slice(v);
        }
        rmp::encode::write_str(&mut want, "c").expect("c");
        want.extend_from_slice(&[0x95, 0xff, 0x00]);
        for _ in 0..2 {
            rmp::encode::write_f64(&mut want, -0.0).expect("f");
        }
        want.push(0x00);
        rmp::encode::write_str(&mut want, "d").expect("d");
        rmp::encode::write_str(&mut want, "-0").expect("-0");
        assert_eq!(out, want, "-0 is the integer 0, -0.0 and what rounds to it stay floats");
    }

    #[test]
    fn anything_but_one_object_is_refused_and_leaves_the_buffer_alone() {
        for src in ["", "  ", "[1,2]", "\"s\"", "12", "null", "{", "{\"a\":}", "{\"a\":1}{}", "not json"] {
            let mut out = vec![1, 2, 3];
            assert!(object(src.as_bytes(), &mut out).is_err(), "{src:?}");
            assert_eq!(out, [1, 2, 3], "{src:?}");
        }
        let mut out = Vec::new();
        let o = object(b"{\"a\":\"x\xffy\"}", &mut out).expect("not UTF-8 is replaced");
        assert_eq!(o.pairs, 1);
        assert_eq!(out, [&[0xa1, b'a', 0xa5, b'x'][..], "\u{fffd}".as_bytes(), b"y"].concat());
    }
}
