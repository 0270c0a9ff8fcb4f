//! JSON text to msgpack as Fluent Bit packs a line its JSON parser reads (yyjson, then
//! `yyjson_val_to_msgpack` in `flb_pack.c`): objects to maps (duplicate keys kept), negative
//! integers to int64, others to uint64, integers past 64 bits and numbers with a fraction or an
//! exponent to float64 (`-0` is the integer 0), strings unescaped, written straight into a reused
//! buffer in one pass (no allocation once the buffer has grown).
//!
//! What yyjson takes beyond strict JSON with the flags Fluent Bit gives it
//! (`STOP_WHEN_DONE | ALLOW_INVALID_UNICODE | REPLACE_INVALID_UNICODE`), this reader takes too:
//! bytes that are not UTF-8 and lone surrogate escapes become U+FFFD, and text after the object
//! is ignored unless it starts another JSON value (Fluent Bit reads values until one fails, and
//! wants exactly one). A number too large for a double (`1e400`) fails the line, as in yyjson.
//!
//! Hand-written rather than serde_json: serde_json allocates a buffer per string with an escape
//! (every Docker line ends in `\n`), and reads `-0`, lone surrogates and trailing text otherwise.
//! The unit tests check it against serde_json on standard JSON, and the `tail_multiline` fuzz
//! target exercises it.
//!
//! Used by `format json` (the whole line is the record) and the `docker` multiline parser (the
//! line's `log`, `stream` and `time` are located while the object is written).

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

/// Containers nested deeper than this fail the line (the reader recurses).
const MAX_DEPTH: u32 = 512;

/// Writes the pairs of the JSON object `src` (whitespace around it allowed) at the end of `out`;
/// ranges in the result are relative to where `out` ended. On error `out` is left as it was.
pub fn object(src: &[u8], out: &mut Vec<u8>) -> Result<Object, NotAnObject> {
    let start = out.len();
    let mut r = Reader { src, at: 0, out, start };
    let res = r.top();
    if res.is_err() {
        r.out.truncate(start);
    }
    res.map_err(|_| NotAnObject)
}

struct Fail;

struct Reader<'a, 'o> {
    src: &'a [u8],
    at: usize,
    out: &'o mut Vec<u8>,
    start: usize,
}

impl Reader<'_, '_> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.src.get(self.at) {
            self.at += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.at).copied()
    }

    fn eat(&mut self, c: u8) -> Result<(), Fail> {
        if self.peek() == Some(c) {
            self.at += 1;
            Ok(())
        } else {
            Err(Fail)
        }
    }

    fn top(&mut self) -> Result<Object, Fail> {
        self.ws();
        self.eat(b'{')?;
        let mut o = Object::default();
        self.ws();
        if self.peek() == Some(b'}') {
            self.at += 1;
        } else {
            loop {
                self.ws();
                let key = self.string()?;
                self.ws();
                self.eat(b':')?;
                self.ws();
                let at = self.out.len();
                let text =
                    if self.peek() == Some(b'"') { Some(self.string()?) } else { self.value(1).map(|_| None)? };
                o.pairs = o.pairs.checked_add(1).ok_or(Fail)?;
                if let Some(text) = text {
                    let slot = match &self.out[key] {
                        b"log" => &mut o.log,
                        b"stream" => &mut o.stream,
                        b"time" => &mut o.time,
                        _ => &mut None,
                    };
                    if slot.is_none() {
                        let rel = |r: Range<usize>| r.start - self.start..r.end - self.start;
                        *slot = Some(StrField { value: rel(at..text.end), text: rel(text) });
                    }
                }
                self.ws();
                match self.peek() {
                    Some(b',') => self.at += 1,
                    Some(b'}') => {
                        self.at += 1;
                        break;
                    }
                    _ => return Err(Fail),
                }
            }
        }
        self.ws();
        if self.at < self.src.len() {
            // Another value after this one makes two records, which Fluent Bit refuses; anything
            // else it stops at, keeping the first.
            let (at, len) = (self.at, self.out.len());
            let second = self.value(1).is_ok();
            self.at = at;
            self.out.truncate(len);
            if second {
                return Err(Fail);
            }
        }
        Ok(o)
    }

    fn value(&mut self, depth: u32) -> Result<(), Fail> {
        match self.peek().ok_or(Fail)? {
            b'"' => self.string().map(|_| ()),
            b'{' => self.container(depth, true),
            b'[' => self.container(depth, false),
            b't' => self.literal(b"true", 0xc3),
            b'f' => self.literal(b"false", 0xc2),
            b'n' => self.literal(b"null", 0xc0),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(Fail),
        }
    }

    fn literal(&mut self, word: &[u8], byte: u8) -> Result<(), Fail> {
        if !self.src[self.at..].starts_with(word) {
            return Err(Fail);
        }
        self.at += word.len();
        self.out.push(byte);
        Ok(())
    }

    fn container(&mut self, depth: u32, map: bool) -> Result<(), Fail> {
        if depth >= MAX_DEPTH {
            return Err(Fail);
        }
        self.at += 1;
        let head = open_container(self.out);
        let close = if map { b'}' } else { b']' };
        let mut n = 0u32;
        self.ws();
        if self.peek() == Some(close) {
            self.at += 1;
        } else {
            loop {
                self.ws();
                if map {
                    self.string()?;
                    self.ws();
                    self.eat(b':')?;
                    self.ws();
                }
                self.value(depth + 1)?;
                n = n.checked_add(1).ok_or(Fail)?;
                self.ws();
                match self.peek() {
                    Some(b',') => self.at += 1,
                    Some(c) if c == close => {
                        self.at += 1;
                        break;
                    }
                    _ => return Err(Fail),
                }
            }
        }
        close_container(self.out, head, n, map);
        Ok(())
    }

    /// A number: negative integers to int64, others to uint64, beyond 64 bits or with a fraction
    /// or exponent to float64.
    fn number(&mut self) -> Result<(), Fail> {
        let start = self.at;
        let neg = self.peek() == Some(b'-');
        if neg {
            self.at += 1;
        }
        let int_start = self.at;
        match self.peek() {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(Fail),
        }
        let int_end = self.at;
        let mut float = false;
        if self.peek() == Some(b'.') {
            self.at += 1;
            self.need_digits()?;
            float = true;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            self.need_digits()?;
            float = true;
        }
        if !float {
            let mag = self.src[int_start..int_end]
                .iter()
                .try_fold(0u64, |n, d| n.checked_mul(10)?.checked_add(u64::from(d - b'0')));
            match (neg, mag) {
                (false, Some(u)) => {
                    let _ = rmp::encode::write_uint(self.out, u);
                    return Ok(());
                }
                (true, Some(m)) if m <= 1 << 63 => {
                    let _ = rmp::encode::write_sint(self.out, 0i64.wrapping_sub_unsigned(m));
                    return Ok(());
                }
                _ => {} // past 64 bits: a double, as yyjson reads it
            }
        }
        let text = std::str::from_utf8(&self.src[start..self.at]).map_err(|_| Fail)?;
        let v: f64 = text.parse().map_err(|_| Fail)?;
        if v.is_infinite() {
            return Err(Fail);
        }
        let _ = rmp::encode::write_f64(self.out, v);
        Ok(())
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
    }

    fn need_digits(&mut self) -> Result<(), Fail> {
        let at = self.at;
        self.digits();
        if self.at == at {
            Err(Fail)
        } else {
            Ok(())
        }
    }

    /// A string at `"`: written as a msgpack string; returns where its text is in `out`.
    fn string(&mut self) -> Result<Range<usize>, Fail> {
        self.eat(b'"')?;
        let body = &self.src[self.at..];
        let end = memchr::memchr2(b'"', b'\\', body).ok_or(Fail)?;
        let plain = &body[..end];
        if body[end] == b'"' && !plain.iter().any(|&b| b < 0x20) && std::str::from_utf8(plain).is_ok() {
            // No escape, all UTF-8: the common string, copied as it is.
            self.at += end + 1;
            write_str(self.out, plain);
            return Ok(self.out.len() - plain.len()..self.out.len());
        }
        let head = self.out.len();
        self.out.extend_from_slice(&[0; 5]);
        let text_start = self.out.len();
        loop {
            let body = &self.src[self.at..];
            let end = memchr::memchr2(b'"', b'\\', body).ok_or(Fail)?;
            let run = &body[..end];
            if run.iter().any(|&b| b < 0x20) {
                return Err(Fail);
            }
            push_lossy(self.out, run);
            self.at += end + 1;
            if body[end] == b'"' {
                break;
            }
            let c = self.peek().ok_or(Fail)?;
            self.at += 1;
            let byte = match c {
                b'"' => b'"',
                b'\\' => b'\\',
                b'/' => b'/',
                b'b' => 0x08,
                b'f' => 0x0c,
                b'n' => b'\n',
                b'r' => b'\r',
                b't' => b'\t',
                b'u' => {
                    let ch = self.unicode_escape()?;
                    let mut buf = [0u8; 4];
                    self.out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                    continue;
                }
                _ => return Err(Fail),
            };
            self.out.push(byte);
        }
        // The header now that the length is known, moved up against the text.
        let len = u32::try_from(self.out.len() - text_start).map_err(|_| Fail)?;
        let mut hb = [0u8; 5];
        let mut w = &mut hb[..];
        rmp::encode::write_str_len(&mut w, len).map_err(|_| Fail)?;
        let hl = 5 - w.len();
        self.out[head..head + hl].copy_from_slice(&hb[..hl]);
        self.out.copy_within(text_start.., head + hl);
        self.out.truncate(self.out.len() - (5 - hl));
        Ok(head + hl..self.out.len())
    }

    /// After `\u`: a code point; a surrogate that is not half of a pair is U+FFFD.
    fn unicode_escape(&mut self) -> Result<char, Fail> {
        let hi = self.hex4()?;
        if (0xD800..0xDC00).contains(&hi) && self.src[self.at..].starts_with(b"\\u") {
            let save = self.at;
            self.at += 2;
            let lo = self.hex4()?;
            if (0xDC00..0xE000).contains(&lo) {
                let c = 0x10000 + ((u32::from(hi) - 0xD800) << 10) + (u32::from(lo) - 0xDC00);
                return char::from_u32(c).ok_or(Fail);
            }
            self.at = save; // the next escape is read on its own
        }
        Ok(char::from_u32(u32::from(hi)).unwrap_or(char::REPLACEMENT_CHARACTER))
    }

    fn hex4(&mut self) -> Result<u16, Fail> {
        let digits = self.src.get(self.at..self.at + 4).ok_or(Fail)?;
        let text = std::str::from_utf8(digits).map_err(|_| Fail)?;
        if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Fail);
        }
        self.at += 4;
        u16::from_str_radix(text, 16).map_err(|_| Fail)
    }
}

/// `bytes` as UTF-8, each sequence that is not UTF-8 replaced by U+FFFD.
fn push_lossy(out: &mut Vec<u8>, bytes: &[u8]) {
    for chunk in bytes.utf8_chunks() {
        out.extend_from_slice(chunk.valid().as_bytes());
        if !chunk.invalid().is_empty() {
            out.extend_from_slice("\u{fffd}".as_bytes());
        }
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
