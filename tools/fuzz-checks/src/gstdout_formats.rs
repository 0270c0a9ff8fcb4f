//! gstdout on every decodable chunk, in each format and date format: the JSON formats print text a
//! JSON parser accepts (one array per chunk, one object per line, objects back to back: as each
//! format defines), one object per printed record; msgpack format never panics; a chunk refused
//! leaves the output buffer as it was.
//!
//! Exempt from the JSON check, because Fluent Bit prints them the same non-JSON way (gstdout's
//! README, "Known and deliberate differences"): NaN and infinite floats, non-string map keys and
//! ext values, anywhere in a printed record's metadata or body (or its group's).

use flb_plugin_sdk::events::{skip_value, ArrayIter, EventReader, MapIter, Value};
use out_gstdout::{DateFormat, Format, Formatter, Options, Scratch};

use crate::input::Input;

const DATE_FORMATS: [DateFormat; 5] =
    [DateFormat::Double, DateFormat::Epoch, DateFormat::EpochMs, DateFormat::Iso8601, DateFormat::JavaSqlTimestamp];

/// The target: the first byte picks the date format and key, the rest is the chunk.
pub fn gstdout_formats(data: &[u8]) {
    let mut input = Input::new(data);
    let opts = input.byte();
    let chunk = input.rest();
    let date_format = DATE_FORMATS[usize::from(opts & 7) % DATE_FORMATS.len()];
    let date_key = match (opts >> 3) & 3 {
        0 => Some("date".to_string()),
        1 => None,
        2 => Some("d\u{e9}\"\\\n\u{1}t".to_string()),
        _ => Some("__internal__".to_string()),
    };
    let strict = prints_strict_json(chunk);
    let mut scratch = Scratch::new();
    for format in [Format::Msgpack, Format::Json, Format::JsonLines, Format::JsonStream] {
        let f = Formatter::new(Options { format, date_key: date_key.clone(), date_format });
        let mut out = b"before".to_vec();
        match f.format_chunk_with(b"fuzz.tag", chunk, &mut out, &mut scratch) {
            Err(e) => {
                assert_eq!(out, b"before", "a refused chunk left output behind ({e})");
                assert!(!e.to_string().is_empty());
            }
            Ok(stats) => {
                assert!(out.starts_with(b"before"), "output before the chunk was changed");
                let text = &out[b"before".len()..];
                if format != Format::Msgpack && strict {
                    check_json(format, text, stats.records);
                }
            }
        }
    }
}

/// The printed JSON parses, with one object per printed record.
fn check_json(format: Format, text: &[u8], records: usize) {
    let shown = || String::from_utf8_lossy(text).into_owned();
    let objects: Vec<serde_json::Value> = match format {
        Format::Json => {
            let Some(doc) = text.strip_suffix(b"\n") else {
                panic!("json output does not end in a newline: {}", shown())
            };
            match serde_json::from_slice::<serde_json::Value>(doc) {
                Ok(serde_json::Value::Array(a)) => a,
                Ok(other) => panic!("json output is not an array: {other}"),
                Err(e) => panic!("json output does not parse ({e}): {}", shown()),
            }
        }
        Format::JsonLines => {
            let Some(body) = text.strip_suffix(b"\n").or((records == 0).then_some(text)) else {
                panic!("json_lines output does not end in a newline: {}", shown())
            };
            if records == 0 {
                assert!(text.is_empty(), "json_lines printed text for no record: {}", shown());
                return;
            }
            body.split(|&b| b == b'\n')
                .map(|line| match serde_json::from_slice(line) {
                    Ok(v) => v,
                    Err(e) => panic!("a json_lines line does not parse ({e}): {}", String::from_utf8_lossy(line)),
                })
                .collect()
        }
        Format::JsonStream => {
            let Some(body) = text.strip_suffix(b"\n") else {
                panic!("json_stream output does not end in a newline: {}", shown())
            };
            serde_json::Deserializer::from_slice(body)
                .into_iter::<serde_json::Value>()
                .map(|r| match r {
                    Ok(v) => v,
                    Err(e) => panic!("json_stream output does not parse ({e}): {}", shown()),
                })
                .collect()
        }
        Format::Msgpack => return,
    };
    assert_eq!(objects.len(), records, "one JSON value per printed record: {}", shown());
    for o in &objects {
        assert!(o.is_object(), "a record printed as a JSON {o} rather than an object");
    }
}

/// False when a record gstdout would print holds something Fluent Bit prints as non-JSON.
fn prints_strict_json(chunk: &[u8]) -> bool {
    let mut pos = 0;
    while pos < chunk.len() {
        let rest = &chunk[pos..];
        match EventReader::new(rest).next() {
            Some(Ok(ev)) => {
                if !ev.metadata.is_none_or(strict) || !strict(ev.body) {
                    return false;
                }
                pos += ev.raw.len();
            }
            _ => match skip_value(chunk, pos) {
                Ok(end) if end > pos => pos = end,
                _ => return true,
            },
        }
    }
    true
}

enum Level<'a> {
    A(ArrayIter<'a>),
    M(MapIter<'a>),
}

/// True when `v` holds no NaN or infinite float, no ext and no non-string map key, at any depth.
fn strict(v: Value<'_>) -> bool {
    fn scalar_ok(v: &Value<'_>) -> bool {
        match v {
            Value::F32(f) => f.is_finite(),
            Value::F64(f) => f.is_finite(),
            Value::Ext(..) => false,
            _ => true,
        }
    }
    fn enter<'a>(v: Value<'a>, stack: &mut Vec<Level<'a>>) -> bool {
        match v {
            Value::Array(a) => stack.push(Level::A(a.iter())),
            Value::Map(m) => stack.push(Level::M(m.iter())),
            _ => {}
        }
        scalar_ok(&v)
    }
    let mut stack = Vec::new();
    if !enter(v, &mut stack) {
        return false;
    }
    while let Some(top) = stack.last_mut() {
        match top {
            Level::A(it) => match it.next() {
                None => {
                    stack.pop();
                }
                Some(Ok(x)) => {
                    if !enter(x, &mut stack) {
                        return false;
                    }
                }
                Some(Err(_)) => return false,
            },
            Level::M(it) => match it.next() {
                None => {
                    stack.pop();
                }
                Some(Ok((k, x))) => {
                    if !matches!(k, Value::Str(_)) || !enter(x, &mut stack) {
                        return false;
                    }
                }
                Some(Err(_)) => return false,
            },
        }
    }
    true
}
