//! `sdktest_out`: prints one line per record, `<tag> n=<value>`, and checks every chunk decodes.
//! `fields` = k1,k2,... (default `n`) prints `<tag> k1=v1 k2=v2` instead, the record's top-level
//! keys in that order: strings (msgpack str or bin) raw, as UTF-8 with invalid bytes replaced, no
//! quoting; integers as numbers; floats and booleans as Rust prints them; a missing key, nil, an
//! array, a map or an extension as `?`. Values may hold spaces and `=`, so a reader splits a line
//! on ` k=` in field order and the last field takes the rest of the line. Newline and carriage
//! return inside a value are printed as `\n` and `\r` (other bytes, a backslash too, as they are),
//! so one record is always one line.
//! `panic` = on makes flush panic; `retry` = on makes it ask for a retry; `stack_kb` = N touches N
//! KiB of stack in flush (for the host's guard page).

use flb_plugin_sdk::events::Value;
use flb_plugin_sdk::prelude::*;
use std::io::Write;

struct SdkTestOut {
    panic: bool,
    retry: bool,
    stack_kb: usize,
    /// Top-level keys printed per record, in order.
    fields: Vec<Vec<u8>>,
}

/// `fields`: comma-separated key names, blanks around each trimmed; at least one.
fn parse_fields(v: &str) -> Result<Vec<Vec<u8>>> {
    let fields: Vec<Vec<u8>> =
        v.split(',').map(str::trim).filter(|k| !k.is_empty()).map(|k| k.as_bytes().to_vec()).collect();
    if fields.is_empty() {
        return Err(Error::new(format!("fields '{v}': expected a comma-separated list of keys, e.g. n,msg")));
    }
    Ok(fields)
}

/// Appends a string value: UTF-8 with invalid bytes replaced, newline and carriage return escaped.
fn put_text(out: &mut Vec<u8>, raw: &[u8]) {
    for chunk in raw.utf8_chunks() {
        for piece in chunk.valid().split_inclusive(['\n', '\r']) {
            match piece.as_bytes().last() {
                Some(b'\n') => {
                    out.extend_from_slice(&piece.as_bytes()[..piece.len() - 1]);
                    out.extend_from_slice(b"\\n");
                }
                Some(b'\r') => {
                    out.extend_from_slice(&piece.as_bytes()[..piece.len() - 1]);
                    out.extend_from_slice(b"\\r");
                }
                _ => out.extend_from_slice(piece.as_bytes()),
            }
        }
        if !chunk.invalid().is_empty() {
            out.extend_from_slice(char::REPLACEMENT_CHARACTER.encode_utf8(&mut [0; 4]).as_bytes());
        }
    }
}

/// Appends one field's value as the module doc says.
fn put_value(out: &mut Vec<u8>, v: Option<Value<'_>>) {
    let _ = match v {
        Some(Value::Int(i)) => write!(out, "{i}"),
        Some(Value::UInt(u)) => write!(out, "{u}"),
        Some(Value::F32(f)) => write!(out, "{f}"),
        Some(Value::F64(f)) => write!(out, "{f}"),
        Some(Value::Bool(b)) => write!(out, "{b}"),
        Some(Value::Str(s) | Value::Bin(s)) => {
            put_text(out, s);
            Ok(())
        }
        _ => out.write_all(b"?"),
    };
}

#[inline(never)]
fn touch_stack(kb: usize) -> u8 {
    // A VLA-like use of stack: a fixed 1 KiB frame per level, `kb` levels deep.
    #[inline(never)]
    fn level(n: usize) -> u8 {
        let buf = std::hint::black_box([n as u8; 1024]);
        if n == 0 {
            buf[0]
        } else {
            level(n - 1).wrapping_add(buf[1023])
        }
    }
    level(kb)
}

const PANIC: Key = Key::bool("panic").default("false").desc("panic in flush");
const RETRY: Key = Key::bool("retry").default("false").desc("flush returns retry");
const STACK_KB: Key = Key::int("stack_kb").default("0").desc("KiB of stack each flush uses");
const FIELDS: Key = Key::str("fields").default("n").desc("record keys printed per record, comma-separated");

impl OutputPlugin for SdkTestOut {
    const NAME: &'static str = "sdktest_out";
    const DESCRIPTION: &'static str = "SDK test output";
    const KEYS: &'static [Key] = &[PANIC, RETRY, STACK_KB, FIELDS];

    fn init(ctx: &mut InitContext<'_>) -> Result<Self> {
        let cfg = ctx.config();
        Ok(SdkTestOut {
            panic: cfg.bool(&PANIC)?,
            retry: cfg.bool(&RETRY)?,
            stack_kb: cfg.uint(&STACK_KB, 1 << 20)? as usize,
            fields: parse_fields(cfg.string(&FIELDS)?)?,
        })
    }

    fn flush(&self, chunk: Chunk<'_>) -> Result<(), FlushError> {
        if self.panic {
            panic!("sdktest_out asked to panic in flush");
        }
        if self.retry {
            return Err(FlushError::Retry(Error::new("sdktest_out asked to retry")));
        }
        if self.stack_kb > 0 {
            std::hint::black_box(touch_stack(self.stack_kb));
        }
        let tag = String::from_utf8_lossy(chunk.tag());
        // Fallible: an infallible allocation of the chunk's size aborts the process when malloc fails.
        let mut out = Vec::new();
        let room = chunk.data().len().saturating_mul(2).saturating_add(4096);
        out.try_reserve(room).map_err(|e| FlushError::Retry(Error::new(format!("{e}"))))?;
        for event in chunk.events() {
            let event = event?;
            out.extend_from_slice(tag.as_bytes());
            for key in &self.fields {
                out.push(b' ');
                out.extend_from_slice(key);
                out.push(b'=');
                let v = match event.body {
                    Value::Map(m) => m.get(key)?,
                    _ => None,
                };
                put_value(&mut out, v);
            }
            out.push(b'\n');
        }
        // Not std::io::stdout(): its 1 KiB buffer is allocated once and never freed, which the host's
        // leak check would rightly report after unload.
        // SAFETY: fd 1 stays open for the process; ManuallyDrop never closes it.
        let mut stdout =
            std::mem::ManuallyDrop::new(unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(1) });
        stdout.write_all(&out).map_err(|e| FlushError::Retry(e.into()))
    }
}

flb_plugin_sdk::output_plugin!(SdkTestOut);
