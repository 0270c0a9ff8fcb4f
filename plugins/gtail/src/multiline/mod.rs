//! `multiline.parser cri` and `docker`: Fluent Bit's two built-in container-log parsers, with the
//! same records (keys, order, values, times) as its multiline engine (`src/multiline/flb_ml.c`)
//! gives the native tail.
//!
//! Per file, as native: a line goes to the parser that took the file's last line, else to each
//! parser in the order named; the first that takes it wins. A part is joined with the earlier
//! parts of the same parser and stream (`stdout`, `stderr`): CRI until an `F` part, Docker until a
//! `log` that ends in a newline. The joined record is the first part's, with `log` the parts
//! together, and the first part's time. A line no parser takes ends every join of the file (they
//! are emitted) and is emitted whole as `{"log": line}` with the time it was read (an empty one is
//! not emitted, as natively).
//!
//! Ours, beyond native: a join is emitted before it would grow past `buffer_max_size` (native grows
//! it without bound), a join with no new part for `multiline.flush_ms` is emitted (native flushes
//! every pending join each `flush_ms` tick, so a join can be cut from a few ms to a whole period
//! after it started), and the file's saved offset never passes the first line of a join still
//! pending, so a restart with `db` reads that join again instead of losing it.

pub mod cri;
pub mod time;

use crate::config::TailConfig;
use crate::json;
use crate::lines::RecordShape;
use crate::marker::Marker;
use flb_plugin_sdk::events::{EncodeError, EventWriter};
use flb_plugin_sdk::prelude::EventTime;
use std::ops::Range;
use std::time::{Duration, Instant};

/// A built-in multiline parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parser {
    Cri,
    Docker,
}

impl Parser {
    pub fn from_name(name: &str) -> Option<Parser> {
        match name.trim().to_ascii_lowercase().as_str() {
            "cri" => Some(Parser::Cri),
            "docker" => Some(Parser::Docker),
            _ => None,
        }
    }
}

/// What the records of one file are written into, and how.
pub struct Sink<'a> {
    pub w: &'a mut EventWriter,
    pub shape: &'a RecordShape<'a>,
    /// The time of records whose line gave none: when they were read.
    pub now: EventTime,
}

impl Sink<'_> {
    /// A record of `pairs` pairs: `entries`, with the bytes at `log` replaced by `content` as a
    /// string when given, then the file's own fields.
    fn record(
        &mut self,
        time: Option<EventTime>,
        pairs: u32,
        entries: &[u8],
        log: Option<(&Range<usize>, &[u8])>,
        offset: u64,
    ) -> Result<(), EncodeError> {
        let shape = self.shape;
        let total = pairs + shape.extra_pairs();
        self.w.append_with(time.unwrap_or(self.now), b"", |b| {
            rmp::encode::write_map_len(b, total)?;
            match log {
                Some((at, content)) => {
                    b.extend_from_slice(&entries[..at.start])?;
                    rmp::encode::write_str_len(b, content.len() as u32)?;
                    b.extend_from_slice(content)?;
                    b.extend_from_slice(&entries[at.end..])?;
                }
                None => b.extend_from_slice(entries)?,
            }
            shape.write_extras(b, offset)
        })?;
        Ok(())
    }
}

/// One join in progress: a parser's parts of one stream.
struct Group {
    parser: Parser,
    /// The stream the parts came on; None: the line had no `stream` string (Docker).
    stream: Option<Vec<u8>>,
    active: bool,
    time: Option<EventTime>,
    /// The first part's pairs, and where its `log` value is among them.
    pairs: u32,
    entries: Vec<u8>,
    log: Range<usize>,
    /// The parts' logs, joined.
    content: Vec<u8>,
    /// Where the first part's line starts, and the marker there.
    start: (u64, Marker),
    /// When the last part came.
    last: Instant,
}

/// A line one parser took.
struct Part<'a> {
    stream: Option<&'a [u8]>,
    time: Option<EventTime>,
    /// The record's pairs as the line gives them; `log` is where its log value is.
    pairs: u32,
    entries: &'a [u8],
    log: Range<usize>,
    text: &'a [u8],
    /// This part ends its join.
    last: bool,
}

/// The multiline state of one file.
pub struct Multiline {
    /// `multiline.parser`, in the order tried.
    parsers: Vec<Parser>,
    /// `buffer_max_size`: the most a join holds.
    limit: usize,
    /// The parser that took the file's last line.
    lru: Option<Parser>,
    /// Joins, in the order their (parser, stream) first appeared (native's flush order); inactive
    /// ones keep their buffers for the next join.
    groups: Vec<Group>,
    /// The current line's pairs.
    scratch: Vec<u8>,
}

impl Multiline {
    /// The state of a file read with `cfg`'s parsers and `buffer_max_size`.
    pub fn new(cfg: &TailConfig) -> Self {
        Multiline {
            parsers: cfg.multiline.clone(),
            limit: cfg.line_max,
            lru: None,
            groups: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// Where the oldest join still pending starts: the file's saved offset must not pass it.
    pub fn pending_start(&self) -> Option<(u64, Marker)> {
        self.groups.iter().filter(|g| g.active).map(|g| g.start).min_by_key(|s| s.0)
    }

    /// When the next join falls due for a flush of `flush`.
    pub fn next_due(&self, flush: Duration) -> Option<Instant> {
        self.groups.iter().filter(|g| g.active).map(|g| g.last + flush).min()
    }

    /// Forgets every join (the file is read again from an offset before them).
    pub fn clear(&mut self) {
        self.groups.iter_mut().for_each(|g| g.active = false);
        self.lru = None;
    }

    /// Takes one line (newline and CR gone) that starts at `offset`; `marker()` is the marker at
    /// `offset`, asked for only when a join starts on this line.
    pub fn line(
        &mut self,
        sink: &mut Sink<'_>,
        line: &[u8],
        offset: u64,
        marker: &dyn Fn() -> Marker,
        now: Instant,
    ) -> Result<(), EncodeError> {
        // The parser that took the last line first, then the others in the order named (two at
        // most: the config has each once).
        let mut order = [self.lru, None, None];
        for (slot, &p) in order[1..].iter_mut().zip(&self.parsers) {
            *slot = Some(p).filter(|&p| Some(p) != self.lru);
        }
        for p in order.into_iter().flatten() {
            if self.try_parser(p, sink, line, offset, marker, now)? {
                self.lru = Some(p);
                return Ok(());
            }
        }
        // No parser takes it: it ends every join of the file, and is a record of its own.
        self.flush(sink, offset, |_| true)?;
        if !line.is_empty() {
            let shape = sink.shape;
            sink.w.append_map(sink.now, b"", 1 + shape.extra_pairs(), |m| {
                m.bytes(b"log", line)?;
                shape.extras(m, offset)
            })?;
        }
        Ok(())
    }

    /// True when `p` took the line.
    fn try_parser(
        &mut self,
        p: Parser,
        sink: &mut Sink<'_>,
        line: &[u8],
        offset: u64,
        marker: &dyn Fn() -> Marker,
        now: Instant,
    ) -> Result<bool, EncodeError> {
        let cri = match p {
            Parser::Cri => {
                let Some(c) = cri::parse(line) else { return Ok(false) };
                if !c.partial && !self.pending(p, Some(c.stream)) {
                    // The common line, a whole record: written straight into the batch.
                    let shape = sink.shape;
                    let time = time::parse(c.time, time::Format::Cri).unwrap_or(sink.now);
                    sink.w.append_map(time, b"", 4 + shape.extra_pairs(), |m| {
                        m.bytes(b"time", c.time)?;
                        m.bytes(b"stream", c.stream)?;
                        m.bytes(b"_p", b"F")?;
                        m.bytes(b"log", c.log)?;
                        shape.extras(m, offset)
                    })?;
                    return Ok(true);
                }
                Some(c)
            }
            Parser::Docker => None,
        };
        // The scratch buffer is moved out while the part borrows it, and back, keeping its room.
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        let part = match cri {
            Some(c) => Some(cri_part(c, &mut scratch)),
            None => docker_part(line, &mut scratch),
        };
        let res = match part {
            Some(part) => self.take(p, part, sink, offset, marker, now).map(|_| true),
            None => Ok(false),
        };
        self.scratch = scratch;
        res
    }

    fn take(
        &mut self,
        p: Parser,
        part: Part<'_>,
        sink: &mut Sink<'_>,
        offset: u64,
        marker: &dyn Fn() -> Marker,
        now: Instant,
    ) -> Result<(), EncodeError> {
        let slot = self.groups.iter().position(|g| g.parser == p && g.stream.as_deref() == part.stream);
        let active = slot.filter(|&i| self.groups[i].active);
        // A whole record in one line, with nothing pending on its stream: straight out.
        if part.last && active.is_none() {
            return sink.record(part.time, part.pairs, part.entries, None, offset);
        }
        if let Some(i) = active {
            let g = &mut self.groups[i];
            if g.content.len() + part.text.len() > self.limit {
                // Emitted as it is rather than grown past buffer_max_size; this part starts anew.
                sink.record(g.time, g.pairs, &g.entries, Some((&g.log, &g.content)), offset)?;
                g.active = false;
            }
        }
        let i = match slot {
            Some(i) => i,
            None => {
                self.groups.push(Group {
                    parser: p,
                    stream: part.stream.map(<[u8]>::to_vec),
                    active: false,
                    time: None,
                    pairs: 0,
                    entries: Vec::new(),
                    log: 0..0,
                    content: Vec::new(),
                    start: (0, Marker::default()),
                    last: now,
                });
                self.groups.len() - 1
            }
        };
        let g = &mut self.groups[i];
        if !g.active {
            g.active = true;
            g.time = part.time;
            g.pairs = part.pairs;
            g.entries.clear();
            g.entries.extend_from_slice(part.entries);
            g.log = part.log.clone();
            g.content.clear();
            g.start = (offset, marker());
        }
        g.content.extend_from_slice(part.text);
        g.last = now;
        if part.last {
            g.active = false;
            sink.record(g.time, g.pairs, &g.entries, Some((&g.log, &g.content)), offset)?;
        }
        Ok(())
    }

    fn pending(&self, p: Parser, stream: Option<&[u8]>) -> bool {
        self.groups.iter().any(|g| g.active && g.parser == p && g.stream.as_deref() == stream)
    }

    /// Emits the joins `due` picks (given when their last part came), in native's order: by
    /// parser as named, then by stream as first seen. `offset` is what `offset_key` says.
    pub fn flush(
        &mut self,
        sink: &mut Sink<'_>,
        offset: u64,
        mut due: impl FnMut(Instant) -> bool,
    ) -> Result<usize, EncodeError> {
        let mut n = 0;
        for &p in &self.parsers {
            for g in self.groups.iter_mut().filter(|g| g.parser == p && g.active && due(g.last)) {
                sink.record(g.time, g.pairs, &g.entries, Some((&g.log, &g.content)), offset)?;
                g.active = false;
                n += 1;
            }
        }
        Ok(n)
    }
}

/// A CRI line as the native parser's record: `time`, `stream`, `_p`, `log`, in that order.
fn cri_part<'a>(c: cri::CriLine<'a>, out: &'a mut Vec<u8>) -> Part<'a> {
    json::write_str(out, b"time");
    json::write_str(out, c.time);
    json::write_str(out, b"stream");
    json::write_str(out, c.stream);
    json::write_str(out, b"_p");
    json::write_str(out, if c.partial { b"P" } else { b"F" });
    json::write_str(out, b"log");
    let log = out.len()..{
        json::write_str(out, c.log);
        out.len()
    };
    let text = log.end - c.log.len()..log.end;
    let out: &'a Vec<u8> = out;
    Part {
        stream: Some(c.stream),
        time: time::parse(c.time, time::Format::Cri),
        pairs: 4,
        entries: out,
        log,
        text: &out[text],
        last: !c.partial,
    }
}

/// A Docker JSON line: the object's own pairs; taken when it has a non-empty `log` string.
fn docker_part<'a>(line: &'a [u8], out: &'a mut Vec<u8>) -> Option<Part<'a>> {
    let o = json::object(line, out).ok()?;
    let log = o.log?;
    if log.text.is_empty() {
        return None;
    }
    let out: &'a Vec<u8> = out;
    let text = &out[log.text.clone()];
    Some(Part {
        stream: o.stream.map(|s| &out[s.text]),
        time: o.time.and_then(|t| time::parse(&out[t.text], time::Format::Docker)),
        pairs: o.pairs,
        entries: out,
        log: log.value,
        text,
        last: text.ends_with(b"\n"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TailConfig;
    use flb_plugin_sdk::api::Config;
    use flb_plugin_sdk::events::{EventReader, RecordForm};

    const NOW: EventTime = EventTime::new(1_000, 0);

    /// The records written: time seconds and each pair as text (strings only in these tests).
    fn records(w: &EventWriter) -> Vec<(i64, Vec<(String, String)>)> {
        EventReader::new(w.as_bytes())
            .map(|ev| {
                let ev = ev.expect("record");
                let body = ev.body.as_map().expect("map");
                let pairs = body
                    .iter()
                    .map(|kv| {
                        let (k, v) = kv.expect("pair");
                        let text = |x: Value| match x.as_bytes() {
                            Some(b) => String::from_utf8_lossy(b).into_owned(),
                            None => format!("{x:?}"),
                        };
                        (text(k), text(v))
                    })
                    .collect();
                (ev.time.secs, pairs)
            })
            .collect()
    }
    use flb_plugin_sdk::events::Value;

    fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    struct Run {
        cfg: TailConfig,
        ml: Multiline,
        w: EventWriter,
        offset: u64,
    }

    impl Run {
        fn new(pairs: &[(&str, &str)]) -> Run {
            let mut all = vec![("path", "/x")];
            all.extend_from_slice(pairs);
            let cfg = TailConfig::from(&Config::from_pairs(&all).with_keys(crate::keys::KEYS)).expect("config");
            Run { ml: Multiline::new(&cfg), cfg, w: EventWriter::new(RecordForm::Modern), offset: 0 }
        }

        fn lines(&mut self, lines: &[&str], now: Instant) {
            for l in lines {
                let shape = RecordShape::new(&self.cfg, "/x");
                let mut sink = Sink { w: &mut self.w, shape: &shape, now: NOW };
                let at = self.offset;
                let marker = move || Marker { hash: at as i64, size: 1 };
                self.ml.line(&mut sink, l.as_bytes(), at, &marker, now).expect("line");
                self.offset += l.len() as u64 + 1;
            }
        }

        fn flush(&mut self, due: impl FnMut(Instant) -> bool) -> usize {
            let shape = RecordShape::new(&self.cfg, "/x");
            let mut sink = Sink { w: &mut self.w, shape: &shape, now: NOW };
            self.ml.flush(&mut sink, self.offset, due).expect("flush")
        }
    }

    const T1: &str = "2024-03-05T06:07:08.5Z";
    const SEC1: i64 = 1_709_618_828;

    #[test]
    fn cri_parts_join_per_stream_with_the_first_parts_keys_and_time() {
        let mut r = Run::new(&[("multiline.parser", "cri")]);
        let now = Instant::now();
        r.lines(
            &[
                &format!("{T1} stdout P one "),
                "2024-03-05T06:07:09.5Z stderr P err ",
                "2024-03-05T06:07:10.5Z stdout P two ",
                "2024-03-05T06:07:11.5Z stdout F three",
                "2024-03-05T06:07:12.5Z stderr F done",
            ],
            now,
        );
        assert_eq!(
            records(&r.w),
            [
                (SEC1, kv(&[("time", T1), ("stream", "stdout"), ("_p", "P"), ("log", "one two three")])),
                (
                    SEC1 + 1,
                    kv(&[("time", "2024-03-05T06:07:09.5Z"), ("stream", "stderr"), ("_p", "P"), ("log", "err done")])
                ),
            ]
        );
        assert_eq!(r.ml.pending_start(), None);
    }

    #[test]
    fn a_line_no_parser_takes_ends_every_join_and_is_a_record_of_its_own() {
        let mut r = Run::new(&[("multiline.parser", "cri"), ("offset_key", "off")]);
        let now = Instant::now();
        r.lines(
            &[&format!("{T1} stdout P a"), &format!("{T1} stderr P b"), "junk", "", &format!("{T1} stdout F c")],
            now,
        );
        let recs = records(&r.w);
        let logs: Vec<(&str, &str)> =
            recs.iter().map(|(_, p)| (p[p.len() - 2].1.as_str(), p[p.len() - 1].1.as_str())).collect();
        // Offsets: the joins and "junk" at the line that ended them (34 + 34 = 68); the empty line
        // gives no record; "c" at its own line (68 + 5 + 1 = 74).
        assert_eq!(logs, [("a", "Int(68)"), ("b", "Int(68)"), ("junk", "Int(68)"), ("c", "Int(74)")]);
        assert_eq!(recs[2], (NOW.secs, kv(&[("log", "junk"), ("off", "Int(68)")])), "the time it was read");
    }

    #[test]
    fn a_join_is_emitted_before_it_would_pass_buffer_max_size() {
        let mut r = Run::new(&[("multiline.parser", "cri"), ("buffer_chunk_size", "10"), ("buffer_max_size", "10")]);
        r.lines(&["t stdout P aaaaaa", "t stdout P bbbbbb", "t stdout F c"], Instant::now());
        let logs: Vec<String> = records(&r.w).into_iter().map(|(_, p)| p[3].1.clone()).collect();
        assert_eq!(logs, ["aaaaaa", "bbbbbbc"]);
        assert!(logs.iter().all(|l| l.len() <= 10));
    }

    #[test]
    fn a_join_without_a_new_part_for_flush_ms_is_emitted_and_the_offset_waits_for_it() {
        let mut r = Run::new(&[("multiline.parser", "docker")]);
        let t0 = Instant::now();
        r.lines(&[r#"{"log":"first\n","stream":"stdout"}"#, r#"{"log":"half ","stream":"stdout"}"#], t0);
        assert_eq!(
            r.ml.pending_start(),
            Some((36, Marker { hash: 36, size: 1 })),
            "where the join's first line starts"
        );
        let flush = r.cfg.multiline_flush;
        assert_eq!(r.ml.next_due(flush), Some(t0 + flush));
        assert_eq!(r.flush(|last| t0 + Duration::from_millis(10) >= last + flush), 0, "not due yet");
        r.lines(&[r#"{"log":"more","stream":"stdout"}"#], t0 + Duration::from_secs(3));
        assert_eq!(r.ml.next_due(flush), Some(t0 + Duration::from_secs(3) + flush), "each part restarts the wait");
        assert_eq!(r.flush(|last| t0 + Duration::from_secs(8) >= last + flush), 1);
        let recs = records(&r.w);
        assert_eq!(recs[1].1, kv(&[("log", "half more"), ("stream", "stdout")]));
        assert_eq!(r.ml.pending_start(), None);
    }

    #[test]
    fn docker_lines_keep_their_fields_and_an_empty_log_is_not_taken() {
        let mut r = Run::new(&[("multiline.parser", "docker"), ("path_key", "file")]);
        r.lines(
            &[
                r#"{"log":"a","stream":"stdout","time":"2024-03-05T06:07:08.5Z"}"#,
                r#"{"log":"b\n","stream":"stdout","x":1,"time":"2024-03-05T06:07:09Z"}"#,
                r#"{"log":"","stream":"stdout"}"#,
                r#"{"stream":"stdout"}"#,
            ],
            Instant::now(),
        );
        let recs = records(&r.w);
        assert_eq!(
            recs[0],
            (SEC1, kv(&[("log", "ab\n"), ("stream", "stdout"), ("time", "2024-03-05T06:07:08.5Z"), ("file", "/x")])),
            "the first part's fields and time"
        );
        assert_eq!(recs[1].1, kv(&[("log", r#"{"log":"","stream":"stdout"}"#), ("file", "/x")]));
        assert_eq!(recs[2].1, kv(&[("log", r#"{"stream":"stdout"}"#), ("file", "/x")]));
        assert_eq!(recs.len(), 3);
    }

    #[test]
    fn the_parser_that_took_the_files_last_line_is_tried_first() {
        // This JSON line is also a CRI line (time `{"log":"q`): native gives it to whichever parser
        // took the file's previous line, and so does gtail.
        let both = r#"{"log":"q stdout F z\n"}"#;
        let mut r = Run::new(&[("multiline.parser", "docker, cri")]);
        r.lines(&["t stdout F a", both], Instant::now());
        let recs = records(&r.w);
        assert_eq!(recs[1].1[0], ("time".to_string(), r#"{"log":"q"#.to_string()), "read as CRI after a CRI line");
        let mut r = Run::new(&[("multiline.parser", "docker, cri")]);
        r.lines(&[both], Instant::now());
        assert_eq!(records(&r.w)[0].1, kv(&[("log", "q stdout F z\n")]), "else the order named: docker");
    }
}
