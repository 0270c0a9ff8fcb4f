//! gtail's `multiline.parser` engine (`Multiline::line`, the code the tail runs per line) on
//! fuzzer-chosen lines, parsers and `buffer_max_size`, with flushes for `multiline.flush_ms` between
//! lines: every record is a map with a `log` string; no byte is lost or doubled (the `log` values
//! of all records hold exactly the bytes of the parts the parsers took plus the lines none took);
//! a join never passes `buffer_max_size` unless a single part is longer; once everything is
//! flushed no join is pending; and the offset a file may save never passes the first line of a
//! pending join.

use std::time::{Duration, Instant};

use flb_plugin_sdk::api::Config;
use flb_plugin_sdk::events::{EventReader, EventTime, EventWriter, RecordForm};
use in_gtail::config::TailConfig;
use in_gtail::json;
use in_gtail::keys::KEYS;
use in_gtail::lines::RecordShape;
use in_gtail::marker::Marker;
use in_gtail::multiline::{cri, Multiline, Parser, Sink};

use crate::input::Input;

/// A line of only this byte is not a line: the clock moves past `multiline.flush_ms` and due joins
/// are flushed.
const TICK: &[u8] = b"\x01";

/// The target: one byte of parsers, one of limit, then lines separated by `\n`.
pub fn tail_multiline(data: &[u8]) {
    let mut input = Input::new(data);
    let parsers = ["cri", "docker", "docker, cri", "cri, docker"][usize::from(input.byte() % 4)];
    let limit = 8 + usize::from(input.byte()) * 8;
    let limit_s = limit.to_string();
    let pairs = [
        ("path", "/fuzz/*.log"),
        ("multiline.parser", parsers),
        ("buffer_chunk_size", limit_s.as_str()),
        ("buffer_max_size", limit_s.as_str()),
    ];
    let cfg = TailConfig::from(&Config::from_pairs(&pairs).with_keys(KEYS)).expect("config");
    let shape = RecordShape::new(&cfg, "/fuzz/a.log");
    let mut w = EventWriter::new(RecordForm::Modern);
    let mut ml = Multiline::new(&cfg);
    let mut now = Instant::now();
    let flush = cfg.multiline_flush;

    // What the records must hold, by the parsers' own reading of each line (the model runs the
    // same choice of parser as native: the last one that took a line first).
    let mut expected_bytes = 0usize;
    let mut longest_part = 0usize;
    let mut lru: Option<Parser> = None;
    let mut offset = 0u64;
    for line in input.rest().split(|&b| b == b'\n') {
        if line == TICK {
            now += flush + Duration::from_millis(1);
            let mut sink = Sink { w: &mut w, shape: &shape, now: EventTime::new(1, 0) };
            ml.flush(&mut sink, offset, |last| now.duration_since(last) >= flush).expect("flush");
            continue;
        }
        let took = lru.into_iter().chain(cfg.multiline.iter().copied().filter(|p| Some(*p) != lru)).find_map(|p| {
            let text = part_text(p, line)?;
            Some((p, text))
        });
        match took {
            Some((p, n)) => {
                lru = Some(p);
                expected_bytes += n;
                longest_part = longest_part.max(n);
            }
            None => {
                expected_bytes += line.len();
                longest_part = longest_part.max(line.len());
            }
        }
        let at = offset;
        let mut sink = Sink { w: &mut w, shape: &shape, now: EventTime::new(1, 0) };
        ml.line(&mut sink, line, at, &|| Marker { hash: at as i64, size: 1 }, now).expect("line");
        offset += line.len() as u64 + 1;
        if let Some((start, marker)) = ml.pending_start() {
            assert!(start <= at, "a pending join starts at {start}, after the line just read at {at}");
            assert_eq!(marker, Marker { hash: start as i64, size: 1 }, "the marker of the join's first line");
        }
    }
    let mut sink = Sink { w: &mut w, shape: &shape, now: EventTime::new(1, 0) };
    ml.flush(&mut sink, offset, |_| true).expect("flush all");
    assert_eq!(ml.pending_start(), None, "a join still pending after flushing all");

    let mut got_bytes = 0usize;
    for ev in EventReader::new(w.as_bytes()) {
        let ev = ev.expect("a record that decodes");
        let body = ev.body.as_map().expect("a map body");
        let log = body.get(b"log").expect("pairs that decode").and_then(|v| v.as_bytes()).expect("a log string");
        assert!(log.len() <= limit.max(longest_part), "a record of {} bytes, limit {limit}", log.len());
        got_bytes += log.len();
    }
    assert_eq!(got_bytes, expected_bytes, "bytes in the records' logs against the bytes the lines gave");
}

/// The bytes of `line` that `p` would join, or None when `p` does not take it.
fn part_text(p: Parser, line: &[u8]) -> Option<usize> {
    match p {
        Parser::Cri => cri::parse(line).map(|c| c.log.len()),
        Parser::Docker => {
            let mut out = Vec::new();
            let o = json::object(line, &mut out).ok()?;
            let log = o.log?;
            (!log.text.is_empty()).then_some(log.text.len())
        }
    }
}
