//! Lines out of a read: split with memchr, each encoded straight into the batch as
//! `{key: line, path_key: path, offset_key: offset}` (the native record, fields in native order).

use crate::config::TailConfig;
use flb_plugin_sdk::events::{BodyBuf, EncodeError, MapBody, MapHead};
use flb_plugin_sdk::prelude::*;

/// The fields every record of a file shares.
pub struct RecordShape<'a> {
    pub key: &'a str,
    pub path_key: Option<(&'a str, &'a str)>,
    pub offset_key: Option<&'a str>,
}

impl<'a> RecordShape<'a> {
    pub fn new(cfg: &'a TailConfig, path: &'a str) -> Self {
        RecordShape {
            key: &cfg.key,
            path_key: cfg.path_key.as_deref().map(|k| (k, path)),
            offset_key: cfg.offset_key.as_deref(),
        }
    }

    fn pairs(&self) -> u32 {
        1 + self.extra_pairs()
    }

    /// How many fields every record of the file ends with (`path_key`, `offset_key`).
    #[inline(always)]
    pub fn extra_pairs(&self) -> u32 {
        u32::from(self.path_key.is_some()) + u32::from(self.offset_key.is_some())
    }

    /// The fields every record of the file ends with; `offset` is the line's.
    #[inline(always)]
    pub fn extras(&self, m: &mut MapBody<'_>, offset: u64) -> Result<(), EncodeError> {
        if let Some((k, p)) = self.path_key {
            m.str(k, p)?;
        }
        if let Some(k) = self.offset_key {
            m.uint(k, offset)?;
        }
        Ok(())
    }

    /// [`extras`](Self::extras) into a body written as raw msgpack.
    pub fn write_extras(&self, b: &mut BodyBuf<'_>, offset: u64) -> Result<(), EncodeError> {
        if let Some((k, p)) = self.path_key {
            rmp::encode::write_str(b, k)?;
            rmp::encode::write_str(b, p)?;
        }
        if let Some(k) = self.offset_key {
            rmp::encode::write_str(b, k)?;
            rmp::encode::write_uint(b, offset)?;
        }
        Ok(())
    }

    #[inline(always)]
    fn body(&self, m: &mut MapBody<'_>, line: &[u8], offset: u64) -> Result<(), EncodeError> {
        m.bytes(self.key.as_bytes(), line)?;
        self.extras(m, offset)
    }

    /// Appends one record; `offset` is where the line starts in the file (native's `offset_key`).
    #[inline]
    pub fn emit(&self, w: &mut EventWriter, time: EventTime, line: &[u8], offset: u64) -> Result<(), EncodeError> {
        w.append_map(time, b"", self.pairs(), |m| self.body(m, line, offset))?;
        Ok(())
    }

    /// `format json`: the line's JSON object as the record, at `time` (its pairs written into
    /// `scratch` first), or, when the line is not one, the line whole under `key` behind `head` (set
    /// for the same time). True when it was an object.
    #[allow(clippy::too_many_arguments)]
    pub fn emit_json(
        &self,
        w: &mut EventWriter,
        head: &MapHead,
        time: EventTime,
        scratch: &mut Vec<u8>,
        line: &[u8],
        offset: u64,
    ) -> Result<bool, EncodeError> {
        scratch.clear();
        let Ok(o) = crate::json::object(line, scratch) else {
            self.emit_with(w, head, line, offset)?;
            return Ok(false);
        };
        w.append_with(time, b"", |b| {
            rmp::encode::write_map_len(b, o.pairs + self.extra_pairs())?;
            b.extend_from_slice(scratch)?;
            self.write_extras(b, offset)
        })?;
        Ok(true)
    }

    /// Readies `head` for [`emit_with`](Self::emit_with): what every record of one read starts with
    /// (its time and field count), encoded once per read rather than once per line.
    pub fn set_head(&self, w: &EventWriter, head: &mut MapHead, time: EventTime) -> Result<(), EncodeError> {
        w.set_map_head(head, time, b"", self.pairs())
    }

    /// [`emit`](Self::emit) with the start of the record copied from `head` (set by
    /// [`set_head`](Self::set_head) for the same writer).
    #[inline(always)]
    pub fn emit_with(&self, w: &mut EventWriter, head: &MapHead, line: &[u8], offset: u64) -> Result<(), EncodeError> {
        w.append_map_with_head(head, |m| self.body(m, line, offset))?;
        Ok(())
    }
}

/// A line without its newline and without a CR before it.
#[inline]
pub fn trim_cr(line: &[u8]) -> &[u8] {
    match line.split_last() {
        Some((b'\r', rest)) => rest,
        _ => line,
    }
}

/// The longest prefix of `bytes` no longer than `max` that does not end inside a UTF-8 sequence
/// (bytes that are not UTF-8 are cut at `max`).
pub fn utf8_cut(bytes: &[u8], max: usize) -> usize {
    if bytes.len() <= max {
        return bytes.len();
    }
    // Back off over continuation bytes (at most 3) to the start of the sequence the cut splits.
    let mut cut = max;
    while cut > 0 && max - cut < 4 && (bytes[cut] & 0xC0) == 0x80 {
        cut -= 1;
    }
    if cut == 0 || max - cut >= 4 {
        max
    } else {
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_at_a_utf8_boundary() {
        let s = "aé€😀".as_bytes(); // 1 + 2 + 3 + 4 bytes
        assert_eq!(utf8_cut(s, 100), 10);
        assert_eq!(utf8_cut(s, 2), 1, "inside é");
        assert_eq!(utf8_cut(s, 3), 3);
        assert_eq!(utf8_cut(s, 5), 3, "inside €");
        assert_eq!(utf8_cut(s, 8), 6, "inside 😀");
        assert_eq!(utf8_cut(&[0x80; 10], 5), 5, "not UTF-8: cut where asked");
    }

    #[test]
    fn crlf_loses_the_cr_only() {
        assert_eq!(trim_cr(b"abc\r"), b"abc");
        assert_eq!(trim_cr(b"abc"), b"abc");
        assert_eq!(trim_cr(b"\r"), b"");
        assert_eq!(trim_cr(b"a\rb"), b"a\rb");
    }
}
