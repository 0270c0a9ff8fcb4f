//! Formatting a whole chunk, the way the native `stdout` output prints it.

use crate::date::{write_date, DateFormat};
use crate::escape::write_json_str;
use crate::num::{write_i64, write_padded, write_u64};
use crate::single_pass::{self, Bail};
use crate::walk::{dup_flags, has_key, write_map_members_json, write_sdk_value, Garbled, Scratch};
use flb_plugin_sdk::events::{skip_value, Cursor, DecodeError, Event, EventReader, EventTime, TimeKind, Value};
use flb_plugin_sdk::prelude::{Config, Error, Key};

/// The `format` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `[N] TAG: [[SECONDS.NANOSECONDS, {metadata}], {record}]` per record (the default).
    Msgpack,
    /// One JSON array of all the chunk's records, then a newline.
    Json,
    /// One JSON object per line.
    JsonLines,
    /// JSON objects back to back, a newline after the chunk.
    JsonStream,
}

impl Format {
    /// The allowed values, for error messages.
    pub const ALLOWED: &'static str = "msgpack, json, json_lines, json_stream";

    /// Parses a value case-insensitively, as `flb_pack_to_json_format_type`.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let is = |t: &str| s.eq_ignore_ascii_case(t);
        if is("msgpack") {
            Some(Format::Msgpack)
        } else if is("json") {
            Some(Format::Json)
        } else if is("json_lines") {
            Some(Format::JsonLines)
        } else if is("json_stream") {
            Some(Format::JsonStream)
        } else {
            None
        }
    }
}

/// Everything that decides the output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `format`.
    pub format: Format,
    /// `json_date_key`; `None` when set to a false value (`false`, `off`, `no`).
    pub date_key: Option<String>,
    /// `json_date_format`.
    pub date_format: DateFormat,
}

/// The `format` key, as native declares it (its default is unset, which prints msgpack).
pub const FORMAT: Key = Key::str("format")
    .default("msgpack")
    .desc("Specifies the data format to be printed. Supported formats are msgpack, json, json_lines and json_stream.");
/// The `json_date_format` key.
pub const JSON_DATE_FORMAT: Key = Key::str("json_date_format").default("double").desc(
    "Specify the format of the date, supported formats: double, iso8601 (e.g: 2018-05-30T09:39:52.000681Z), \
     java_sql_timestamp (e.g: 2018-05-30 09:39:52.000681, useful for AWS Athena), and epoch.",
);
/// The `json_date_key` key.
pub const JSON_DATE_KEY: Key = Key::str("json_date_key")
    .default("date")
    .desc("Specifies the name of the date field in output. Set it to false, off or no to leave the date out.");
/// Every key gstdout takes: the native stdout output's.
pub const KEYS: &[Key] = &[FORMAT, JSON_DATE_FORMAT, JSON_DATE_KEY];

impl Default for Options {
    /// The declared defaults (msgpack, `date`, double), as with no key set.
    fn default() -> Self {
        // The defaults are constants of KEYS, checked by a test: no input reaches this.
        Options::from_config(&Config::from_pairs(&[]).with_keys(KEYS)).expect("gstdout's declared defaults parse")
    }
}

impl Options {
    /// Reads `format`, `json_date_key` and `json_date_format`. Unknown values are refused (the
    /// native plugin logs and falls back; a proxy plugin fails init instead so a typo is seen).
    pub fn from_config(cfg: &Config<'_>) -> Result<Self, Error> {
        let v = cfg.string(&FORMAT)?;
        let format = Format::parse(v).ok_or_else(|| Error::config("format", v, Format::ALLOWED))?;
        let v = cfg.string(&JSON_DATE_FORMAT)?;
        let date_format =
            DateFormat::parse(v).ok_or_else(|| Error::config("json_date_format", v, DateFormat::ALLOWED))?;
        let v = cfg.string(&JSON_DATE_KEY)?;
        let date_key = match flb_plugin_sdk::api::config::parse_bool(v) {
            Some(false) => None,
            _ => Some(v.to_string()),
        };
        Ok(Options { format, date_key, date_format })
    }
}

/// What one chunk held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChunkStats {
    /// Records printed.
    pub records: usize,
    /// Group start/end markers seen (not printed as records).
    pub group_markers: usize,
    /// Records left out: well-formed msgpack that is not a log record, or an invalid time.
    pub skipped: usize,
    /// Why the first skipped record was left out.
    pub first_skip: Option<SkipReason>,
}

/// Why a record was left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// Not `[time, body]` / `[[time, metadata], body]`, or a time of a wrong type.
    Decode(DecodeError),
    /// A negative time other than the group markers, or nanoseconds >= 1e9.
    InvalidTime {
        /// Offset of the record in the chunk.
        offset: usize,
    },
}

impl core::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SkipReason::Decode(e) => write!(f, "{e}"),
            SkipReason::InvalidTime { offset } => {
                write!(f, "invalid record time (negative, or nanoseconds >= 1e9) at byte {offset}")
            }
        }
    }
}

/// The chunk cannot be read at all (truncated or garbled msgpack): nothing of it is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkError {
    /// Byte offset of the problem.
    pub offset: usize,
    /// What the decoder said, when it said it.
    pub cause: Option<DecodeError>,
}

impl core::fmt::Display for ChunkError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.cause {
            Some(e) => write!(f, "malformed chunk: {e}"),
            None => write!(f, "malformed chunk at byte {}", self.offset),
        }
    }
}

impl std::error::Error for ChunkError {}

impl From<Garbled> for ChunkError {
    fn from(g: Garbled) -> Self {
        ChunkError { offset: g.offset, cause: None }
    }
}

/// Formats chunks; cheap to share between threads (`&self` only).
#[derive(Debug, Clone)]
pub struct Formatter {
    opts: Options,
    /// `"KEY":`, escaped, ready to copy.
    date_member: Vec<u8>,
}

/// The group currently open: (metadata, attributes).
type Group<'a> = (Option<Value<'a>>, Value<'a>);

impl Formatter {
    /// A formatter for these options.
    pub fn new(opts: Options) -> Self {
        let mut date_member = Vec::new();
        if let Some(k) = &opts.date_key {
            date_member.push(b'"');
            write_json_str(&mut date_member, k.as_bytes());
            date_member.extend_from_slice(b"\":");
        }
        Formatter { opts, date_member }
    }

    /// The options.
    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// Appends the chunk's text to `out`, allocating scratch space for this call.
    pub fn format_chunk(&self, tag: &[u8], data: &[u8], out: &mut Vec<u8>) -> Result<ChunkStats, ChunkError> {
        self.format_chunk_with(tag, data, out, &mut Scratch::new())
    }

    /// Appends the chunk's text to `out` using reusable `scratch`. On error `out` is left as it was.
    pub fn format_chunk_with(
        &self,
        tag: &[u8],
        data: &[u8],
        out: &mut Vec<u8>,
        scratch: &mut Scratch,
    ) -> Result<ChunkStats, ChunkError> {
        let start = out.len();
        let r = self.format_inner(tag, data, out, scratch, true);
        if r.is_err() {
            out.truncate(start);
        }
        r
    }

    /// [`Formatter::format_chunk`] without the single pass: every record decoded and printed by
    /// the walker, the reference the single pass is tested against.
    #[cfg(test)]
    fn format_chunk_walker(&self, tag: &[u8], data: &[u8], out: &mut Vec<u8>) -> Result<ChunkStats, ChunkError> {
        let start = out.len();
        let r = self.format_inner(tag, data, out, &mut Scratch::new(), false);
        if r.is_err() {
            out.truncate(start);
        }
        r
    }

    fn format_inner<'a>(
        &self,
        tag: &[u8],
        data: &'a [u8],
        out: &mut Vec<u8>,
        s: &mut Scratch,
        single_pass: bool,
    ) -> Result<ChunkStats, ChunkError> {
        let mut st = ChunkStats::default();
        let mut group: Option<Group<'a>> = None;
        if self.opts.format == Format::Json {
            out.push(b'[');
        }
        let mut head = HeadParts::new(tag);
        let mut pos = 0usize;
        while pos < data.len() {
            // Most records take the single pass; the rest (and any it gives up on, its output
            // rewound) the decoder and the two-pass walker, which say what every byte means.
            if single_pass {
                let mark = out.len();
                let fast = match self.opts.format {
                    Format::Msgpack => self.msgpack_single(out, s, &mut head, st.records, data, pos, group),
                    _ => self.json_single(out, s, st.records == 0, data, pos, group),
                };
                match fast {
                    Ok(end) => {
                        st.records += 1;
                        pos = end;
                        continue;
                    }
                    Err(Bail) => {
                        out.truncate(mark);
                        s.pass.clear();
                    }
                }
            }
            pos = self.decoded_record(&mut head, data, pos, out, s, &mut st, &mut group)?;
        }
        match self.opts.format {
            Format::Json => out.extend_from_slice(b"]\n"),
            Format::JsonStream => out.push(b'\n'),
            Format::JsonLines | Format::Msgpack => {}
        }
        Ok(st)
    }

    /// Decodes the record at `data[pos]` (checking it whole) and prints it with the walker, or
    /// notes it as skipped, or takes in a group marker; returns the offset after it.
    #[allow(clippy::too_many_arguments)]
    fn decoded_record<'a>(
        &self,
        head: &mut HeadParts<'_>,
        data: &'a [u8],
        pos: usize,
        out: &mut Vec<u8>,
        s: &mut Scratch,
        st: &mut ChunkStats,
        group: &mut Option<Group<'a>>,
    ) -> Result<usize, ChunkError> {
        let mut reader = EventReader::new(&data[pos..]);
        match reader.next() {
            None => Ok(data.len()),
            Some(Ok(ev)) => {
                match ev.time.kind() {
                    TimeKind::GroupStart => {
                        st.group_markers += 1;
                        *group = Some((ev.metadata, ev.body));
                    }
                    TimeKind::GroupEnd => {
                        st.group_markers += 1;
                        *group = None;
                    }
                    TimeKind::Invalid => {
                        st.skipped += 1;
                        st.first_skip.get_or_insert(SkipReason::InvalidTime { offset: pos });
                    }
                    TimeKind::Normal => {
                        let (secs, nsecs) = (ev.time.secs, ev.time.nsecs);
                        match self.opts.format {
                            Format::Msgpack => {
                                self.msgpack_record(out, s, head, st.records, secs, nsecs, &ev, *group)?
                            }
                            _ => self.json_record(out, s, st.records == 0, secs, nsecs, &ev, *group)?,
                        }
                        st.records += 1;
                    }
                }
                Ok(pos + reader.offset())
            }
            Some(Err(e)) => {
                let e = DecodeError { offset: e.offset + pos, kind: e.kind };
                match skip_value(data, pos) {
                    Ok(end) if end > pos => {
                        st.skipped += 1;
                        st.first_skip.get_or_insert(SkipReason::Decode(e));
                        Ok(end)
                    }
                    _ => Err(ChunkError { offset: e.offset, cause: Some(e) }),
                }
            }
        }
    }

    /// The msgpack form of the record at `data[pos]` by the single pass; returns the offset after
    /// it.
    #[allow(clippy::too_many_arguments)]
    fn msgpack_single(
        &self,
        out: &mut Vec<u8>,
        s: &mut Scratch,
        head: &mut HeadParts<'_>,
        n: usize,
        data: &[u8],
        pos: usize,
        group: Option<Group<'_>>,
    ) -> Result<usize, Bail> {
        let (secs, nsecs, meta, after) = record_head(data, pos)?;
        group_msgpack(out, s, group).map_err(|_| Bail)?;
        head.write(out, n, secs, nsecs);
        let body = match meta {
            Some(p) => single_pass::write_value::<false>(out, &mut s.pass, data, p)?,
            None => {
                out.extend_from_slice(b"{}");
                after
            }
        };
        out.extend_from_slice(b"], ");
        let end = single_pass::write_value::<false>(out, &mut s.pass, data, body)?;
        out.extend_from_slice(b"]\n");
        Ok(end)
    }

    /// The JSON form of the record at `data[pos]` by the single pass, for a non-empty map body;
    /// returns the offset after it.
    fn json_single(
        &self,
        out: &mut Vec<u8>,
        s: &mut Scratch,
        first_record: bool,
        data: &[u8],
        pos: usize,
        group: Option<Group<'_>>,
    ) -> Result<usize, Bail> {
        let (secs, nsecs, meta, after) = record_head(data, pos)?;
        if self.opts.format == Format::Json && !first_record {
            out.push(b',');
        }
        out.push(b'{');
        let mut first = true;
        if self.opts.date_key.is_some() {
            out.extend_from_slice(&self.date_member);
            write_date(out, self.opts.date_format, secs, nsecs);
            first = false;
        }
        // Fluent Bit drops a member it wrote when the body has the same key: the walker's case.
        let date_key = self.opts.date_key.as_deref().map(str::as_bytes);
        let mut reserved: [&[u8]; 2] = [date_key.unwrap_or(b""), b""];
        let mut n_reserved = usize::from(date_key.is_some());
        let gattr = group.map(|(_, a)| a);
        let meta_map = meta.is_some_and(|p| is_nonempty_map(data.get(p..).unwrap_or_default()));
        let mut body = after;
        if matches!(gattr, Some(Value::Map(m)) if !m.is_empty()) || meta_map {
            if !first {
                out.push(b',');
            }
            first = false;
            out.extend_from_slice(b"\"__internal__\":{");
            if let Some(a) = gattr {
                out.extend_from_slice(b"\"group_attributes\":");
                write_sdk_value::<true>(out, s, &a).map_err(|_| Bail)?;
                out.push(b',');
            }
            out.extend_from_slice(b"\"log_metadata\":");
            body = match meta {
                Some(p) => single_pass::write_value::<true>(out, &mut s.pass, data, p)?,
                None => {
                    out.extend_from_slice(b"{}");
                    after
                }
            };
            out.push(b'}');
            reserved[n_reserved] = b"__internal__";
            n_reserved += 1;
        } else if let Some(p) = meta {
            // Not printed, but checked as the decoder checks it.
            let mut c = Cursor::at(data, p);
            c.skip_value().map_err(|_| Bail)?;
            body = c.pos();
        }
        let (pairs, first_key) = match data.get(body..).unwrap_or_default() {
            [b @ 0x81..=0x8f, ..] => (u32::from(b & 0x0f), body + 1),
            [0xde, x, y, ..] => (u32::from(u16::from_be_bytes([*x, *y])), body + 3),
            [0xdf, x, y, z, w, ..] => (u32::from_be_bytes([*x, *y, *z, *w]), body + 5),
            _ => return Err(Bail),
        };
        if pairs == 0 {
            return Err(Bail);
        }
        let end =
            single_pass::write_members_json(out, &mut s.pass, data, first_key, pairs, first, &reserved[..n_reserved])?;
        if self.opts.format == Format::JsonLines {
            out.push(b'\n');
        }
        Ok(end)
    }

    #[allow(clippy::too_many_arguments)]
    fn msgpack_record(
        &self,
        out: &mut Vec<u8>,
        s: &mut Scratch,
        head: &mut HeadParts<'_>,
        n: usize,
        secs: i64,
        nsecs: u32,
        ev: &Event<'_>,
        group: Option<Group<'_>>,
    ) -> Result<(), Garbled> {
        group_msgpack(out, s, group)?;
        head.write(out, n, secs, nsecs);
        meta_or_empty::<false>(out, s, ev.metadata)?;
        out.extend_from_slice(b"], ");
        write_sdk_value::<false>(out, s, &ev.body)?;
        out.extend_from_slice(b"]\n");
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn json_record(
        &self,
        out: &mut Vec<u8>,
        s: &mut Scratch,
        first_record: bool,
        secs: i64,
        nsecs: u32,
        ev: &Event<'_>,
        group: Option<Group<'_>>,
    ) -> Result<(), Garbled> {
        if self.opts.format == Format::Json && !first_record {
            out.push(b',');
        }
        out.push(b'{');
        // Fluent Bit builds one map [date, __internal__, body pairs...] and drops any string key
        // that appears again later, so a body key named like the date key (or "__internal__")
        // wins over ours. For a non-map body the only later key is "log".
        let body_map = match ev.body {
            Value::Map(m) if !m.is_empty() => {
                let c = m.cursor();
                let n = m.len() as u32;
                let base = dup_flags(c, n, s)?;
                Some((c, n, base))
            }
            _ => None,
        };
        let later_has = |s: &Scratch, k: &[u8]| -> bool {
            match (&ev.body, body_map) {
                (_, Some((c, ..))) => has_key(c.data(), s, k),
                (Value::Map(_), None) => false,
                _ => k == b"log",
            }
        };
        let mut first = true;
        if let Some(k) = &self.opts.date_key {
            if !later_has(s, k.as_bytes()) {
                out.extend_from_slice(&self.date_member);
                write_date(out, self.opts.date_format, secs, nsecs);
                first = false;
            }
        }
        let nonempty_map = |v: &Option<Value<'_>>| matches!(v, Some(Value::Map(m)) if !m.is_empty());
        let gattr = group.map(|(_, a)| a);
        if (nonempty_map(&gattr) || nonempty_map(&ev.metadata)) && !later_has(s, b"__internal__") {
            if !first {
                out.push(b',');
            }
            first = false;
            out.extend_from_slice(b"\"__internal__\":{");
            if let Some(a) = gattr {
                out.extend_from_slice(b"\"group_attributes\":");
                write_sdk_value::<true>(out, s, &a)?;
                out.push(b',');
            }
            out.extend_from_slice(b"\"log_metadata\":");
            meta_or_empty::<true>(out, s, ev.metadata)?;
            out.push(b'}');
        }
        match (ev.body, body_map) {
            (_, Some((c, n, base))) => write_map_members_json(out, s, c, n, base, first)?,
            (Value::Map(_), None) => out.push(b'}'),
            (body, _) => {
                if !first {
                    out.push(b',');
                }
                out.extend_from_slice(b"\"log\":");
                write_sdk_value::<true>(out, s, &body)?;
                out.push(b'}');
            }
        }
        if self.opts.format == Format::JsonLines {
            out.push(b'\n');
        }
        Ok(())
    }
}

/// The group's metadata and attributes printed before each of its records in the msgpack form.
fn group_msgpack(out: &mut Vec<u8>, s: &mut Scratch, group: Option<Group<'_>>) -> Result<(), Garbled> {
    if let Some((gmeta, gattr)) = group {
        out.extend_from_slice(b"GROUP METADATA : \n\n");
        meta_or_empty::<false>(out, s, gmeta)?;
        out.extend_from_slice(b"\n\nGROUP ATTRIBUTES : \n\n");
        write_sdk_value::<false>(out, s, &gattr)?;
        out.extend_from_slice(b"\n\n");
    }
    Ok(())
}

/// What the msgpack form's record heads share within a chunk: `] TAG: [[`, and the digits of the
/// last second printed (records of a chunk mostly share it).
struct HeadParts<'t> {
    tag: &'t [u8],
    /// `] TAG: [[` in a fixed block, appended whole and cut to length, when the tag is short.
    block: Option<([u8; 64], usize)>,
    secs: Option<i64>,
    secs_text: [u8; 24],
    secs_len: usize,
}

impl<'t> HeadParts<'t> {
    fn new(tag: &'t [u8]) -> Self {
        let block = (tag.len() <= 58).then(|| {
            let mut b = [0u8; 64];
            b[..2].copy_from_slice(b"] ");
            b[2..2 + tag.len()].copy_from_slice(tag);
            b[2 + tag.len()..6 + tag.len()].copy_from_slice(b": [[");
            (b, 6 + tag.len())
        });
        HeadParts { tag, block, secs: None, secs_text: [0; 24], secs_len: 0 }
    }

    /// `[N] TAG: [[SECONDS.NANOSECONDS, `.
    fn write(&mut self, out: &mut Vec<u8>, n: usize, secs: i64, nsecs: u32) {
        out.push(b'[');
        write_u64(out, n as u64);
        match &self.block {
            Some((b, len)) => {
                let at = out.len();
                out.extend_from_slice(b);
                out.truncate(at + len);
            }
            None => {
                out.extend_from_slice(b"] ");
                out.extend_from_slice(self.tag);
                out.extend_from_slice(b": [[");
            }
        }
        let at = out.len();
        if self.secs == Some(secs) {
            out.extend_from_slice(&self.secs_text);
            out.truncate(at + self.secs_len);
        } else {
            write_i64(out, secs);
            self.secs_len = out.len() - at;
            self.secs_text[..self.secs_len].copy_from_slice(&out[at..]);
            self.secs = Some(secs);
        }
        out.push(b'.');
        write_padded::<9>(out, nsecs);
        out.extend_from_slice(b", ");
    }
}

/// The start of a record the single pass takes: `[[EXT_TIME, metadata], body]` or
/// `[EXT_TIME, body]` with a time of a log record (not a group marker, nanoseconds below 1e9).
/// Returns the time, the offset of the metadata (`None` for the legacy form) and the offset after
/// the time (of the metadata, or of the body in the legacy form); any other start is the
/// decoder's to judge.
#[inline]
fn record_head(data: &[u8], pos: usize) -> Result<(i64, u32, Option<usize>, usize), Bail> {
    let head = data.get(pos..).and_then(|r| r.first_chunk::<13>()).ok_or(Bail)?;
    let (modern, t) = match head {
        [0x92, 0x92, 0xd7, 0x00, ..] => (true, 4),
        [0x92, 0xd7, 0x00, ..] => (false, 3),
        _ => return Err(Bail),
    };
    let payload = data.get(pos + t..).and_then(|r| r.first_chunk::<8>()).ok_or(Bail)?;
    let time = EventTime::from_ext_payload(*payload);
    if time.kind() != TimeKind::Normal {
        return Err(Bail);
    }
    let after = pos + t + 8;
    Ok((time.secs, time.nsecs, modern.then_some(after), after))
}

/// A map of one pair or more starts `b`.
#[inline]
fn is_nonempty_map(b: &[u8]) -> bool {
    match b {
        [0x81..=0x8f, ..] => true,
        [0xde, x, y, ..] => *x != 0 || *y != 0,
        [0xdf, x, y, z, w, ..] => [*x, *y, *z, *w] != [0; 4],
        _ => false,
    }
}

/// Record metadata, or `{}` for a legacy record (Fluent Bit substitutes an empty map).
fn meta_or_empty<const JSON: bool>(out: &mut Vec<u8>, s: &mut Scratch, m: Option<Value<'_>>) -> Result<(), Garbled> {
    match m {
        Some(v) => write_sdk_value::<JSON>(out, s, &v),
        None => {
            out.extend_from_slice(b"{}");
            Ok(())
        }
    }
}

#[cfg(test)]
mod key_tests {
    #[test]
    fn the_key_table_is_one_fluent_bit_takes() {
        assert_eq!(flb_plugin_sdk::api::keys::check(super::KEYS), Ok(()));
    }

    #[test]
    fn defaults_are_natives() {
        use super::*;
        let o = Options::default();
        assert_eq!(
            (o.format, o.date_key.as_deref(), o.date_format),
            (Format::Msgpack, Some("date"), DateFormat::Double)
        );
    }
}

/// The single pass against the walker, on records built to reach every branch of both.
#[cfg(test)]
mod single_pass_tests;

#[cfg(test)]
mod head_tests {
    use super::HeadParts;

    #[test]
    fn record_heads_repeat_and_change_their_second_and_tag() {
        let long_tag = [b't'; 59];
        for tag in [&b"app.log"[..], b"", &long_tag[..58], &long_tag] {
            let tag_text = String::from_utf8(tag.to_vec()).expect("ASCII");
            let mut head = HeadParts::new(tag);
            let mut out = Vec::new();
            let times = [(5, 0), (5, 999_999_999), (1_700_000_000, 1), (1_700_000_000, 20), (5, 7), (0, 0)];
            for (n, &(secs, nsecs)) in times.iter().enumerate() {
                head.write(&mut out, n * 1001, secs, nsecs);
                out.push(b'|');
            }
            let want: String = times
                .iter()
                .enumerate()
                .map(|(n, (secs, nsecs))| format!("[{}] {tag_text}: [[{secs}.{nsecs:09}, |", n * 1001))
                .collect();
            assert_eq!(String::from_utf8(out).expect("text"), want);
        }
    }
}
