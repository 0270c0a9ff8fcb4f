//! gtail's per-line path over one read's worth of lines: the splitter (memchr for the newline, the
//! CR trim) as bytes/s, the record encoder (`{log: line}` appended to the batch's writer) as
//! lines/s, both together, and the db offset commit (one file, and the one transaction that covers
//! every file of a batch). Every line/record bench handles `LINES` lines per iteration (run.py's
//! `TAIL_LINES` reads the same number), named `tail_<what>/<line size>`.
//!
//! Issue 15's container logs, split and encoded as the reader does it, as lines/s: `tail_cri`
//! (`multiline.parser cri`), `tail_docker` (`multiline.parser docker`), both with every tenth line
//! the first part of a message split in two, and `tail_json` (`format json`).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use flb_plugin_sdk::api::Config;
use flb_plugin_sdk::events::{EventTime, EventWriter, MapHead, RecordForm};
use in_gtail::config::TailConfig;
use in_gtail::db::{Db, DbOptions};
use in_gtail::encoding::Encoding;
use in_gtail::lines::{trim_cr, RecordShape};
use in_gtail::marker::{Marker, MARKER_BYTES};
use in_gtail::multiline::{Multiline, Sink};
use std::time::Instant;

/// Lines per iteration (bench/run.py's TAIL_LINES).
const LINES: usize = 1000;
/// Line sizes, newline included, with the name suffix run.py reads the size from.
const SIZES: [(usize, &str); 2] = [(100, "100B"), (1024, "1KiB")];
/// Files covered by one commit in the batched db bench (run.py reads it from the name).
const DB_FILES: [usize; 2] = [1, 1000];

fn lines_of(size: usize) -> Vec<u8> {
    let mut buf = Vec::with_capacity(size * LINES);
    for i in 0..LINES {
        let start = buf.len();
        buf.extend_from_slice(format!("2026-11-30T05:00:00.{i:06}Z INFO request served ").as_bytes());
        while buf.len() < start + size - 1 {
            buf.push(b'a' + (buf.len() % 26) as u8);
        }
        buf.push(b'\n');
    }
    buf
}

/// The splitter as the reader runs it: every line of the buffer, CR trimmed. Returns the line
/// bytes found, so nothing is optimised away.
fn split(data: &[u8]) -> usize {
    let (mut done, mut total) = (0, 0);
    while let Some((i, nl)) = Encoding::Raw.find_newline(&data[done..]) {
        total += trim_cr(&data[done..done + i]).len();
        done += i + nl;
    }
    total
}

/// The encoder as the reader runs it: the records' shared start encoded once per read, then each
/// line appended behind a copy of it.
fn encode(shape: &RecordShape<'_>, w: &mut EventWriter, data: &[u8], lines: Option<&[(usize, usize)]>) {
    let mut head = MapHead::new();
    shape.set_head(w, &mut head, EventTime::now()).expect("head");
    match lines {
        Some(spans) => {
            for &(at, len) in spans {
                shape.emit_with(w, &head, &data[at..at + len], at as u64).expect("encode");
            }
        }
        None => {
            let mut done = 0;
            while let Some((i, nl)) = Encoding::Raw.find_newline(&data[done..]) {
                shape.emit_with(w, &head, trim_cr(&data[done..done + i]), done as u64).expect("encode");
                done += i + nl;
            }
        }
    }
}

fn lines(c: &mut Criterion) {
    let pairs = [("path", "/var/log/app.log")];
    let cfg = TailConfig::from(&Config::from_pairs(&pairs)).expect("config");
    let shape = RecordShape::new(&cfg, "/var/log/app.log");
    for (size, name) in SIZES {
        let data = lines_of(size);
        let mut g = c.benchmark_group("tail_split");
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.bench_with_input(BenchmarkId::from_parameter(name), &data, |b, data| {
            b.iter(|| assert_eq!(split(data), LINES * (size - 1)))
        });
        g.finish();

        let spans: Vec<(usize, usize)> = (0..LINES).map(|i| (i * size, size - 1)).collect();
        let mut w = EventWriter::new(RecordForm::Modern);
        for (group, with_split) in [("tail_encode", false), ("tail_lines", true)] {
            let mut g = c.benchmark_group(group);
            g.throughput(Throughput::Elements(LINES as u64));
            g.bench_with_input(BenchmarkId::from_parameter(name), &data, |b, data| {
                b.iter(|| {
                    w.clear();
                    encode(&shape, &mut w, data, (!with_split).then_some(&spans[..]));
                    assert_eq!(w.records(), LINES);
                })
            });
            g.finish();
        }
    }
}

fn db_commit(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("flb-bench-tail-db-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut db = Db::open(&DbOptions::new(dir.join("tail.db"))).expect("db");
    let ids: Vec<i64> = (0..*DB_FILES.iter().max().unwrap_or(&1))
        .map(|i| db.insert(&format!("/var/log/app{i}.log"), 1000 + i as u64, 0, Marker::default()).expect("insert"))
        .collect();
    let mut g = c.benchmark_group("tail_db_commit");
    for files in DB_FILES {
        let mut offset = 0u64;
        let mut rows: Vec<(i64, u64, Marker)> = Vec::with_capacity(files);
        g.throughput(Throughput::Elements(files as u64));
        g.bench_with_input(BenchmarkId::from_parameter(files), &files, |b, &files| {
            b.iter(|| {
                offset += 100;
                rows.clear();
                rows.extend(ids[..files].iter().map(|&id| (id, offset, Marker::of(b"the bytes before the offset"))));
                assert!(db.save_offsets_checked(&rows).expect("commit").is_empty());
            })
        });
    }
    g.finish();
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The message of line `i`, `len` bytes: a request log, padded.
fn message(i: usize, len: usize) -> String {
    let mut m = format!("GET /api/v1/items/{i} 200 {} bytes in 3ms ", 100 + i % 900);
    while m.len() < len {
        m.push((b'a' + (m.len() % 26) as u8) as char);
    }
    m.truncate(len);
    m
}

/// Whether line `i` of a container log is the first part of a message split in two: every tenth
/// line, its second part the line after it.
fn split_at(i: usize) -> bool {
    i % 10 == 8
}

/// The stream of line `i`: a quarter of the messages on stderr, both parts of a split one on the
/// same stream.
fn stream_of(i: usize) -> &'static str {
    let msg = if i > 0 && split_at(i - 1) { i - 1 } else { i };
    if msg % 4 == 3 {
        "stderr"
    } else {
        "stdout"
    }
}

/// Records of `LINES` container-log lines: one per line, less one per split message.
const CONTAINER_RECORDS: usize = LINES - LINES / 10;

/// `LINES` CRI lines of `size` bytes (newline included), as containerd writes them: a quarter on
/// stderr, every tenth a `P` part whose `F` follows it on the same stream.
fn cri_lines(size: usize) -> Vec<u8> {
    let mut buf = Vec::with_capacity(size * LINES);
    for i in 0..LINES {
        let part = if split_at(i) { 'P' } else { 'F' };
        let stream = stream_of(i);
        let head = format!("2026-11-30T05:{:02}:{:02}.{:09}Z {stream} {part} ", i / 60 % 60, i % 60, i * 1_000_003);
        buf.extend_from_slice(head.as_bytes());
        buf.extend_from_slice(message(i, size - 1 - head.len()).as_bytes());
        buf.push(b'\n');
    }
    buf
}

/// `LINES` Docker JSON lines of `size` bytes: the log's own newline escaped inside it, except in
/// every tenth line, the first part of a message the runtime split (no newline at its end).
fn docker_lines(size: usize) -> Vec<u8> {
    let mut buf = Vec::with_capacity(size * LINES);
    for i in 0..LINES {
        let stream = stream_of(i);
        let nl = if split_at(i) { "" } else { "\\n" };
        let tail = format!("{nl}\",\"stream\":\"{stream}\",\"time\":\"2026-11-30T05:00:00.{:09}Z\"}}", i * 1_000_003);
        let head = "{\"log\":\"";
        buf.extend_from_slice(head.as_bytes());
        buf.extend_from_slice(message(i, size - 1 - head.len() - tail.len()).as_bytes());
        buf.extend_from_slice(tail.as_bytes());
        buf.push(b'\n');
    }
    buf
}

/// `LINES` JSON objects of `size` bytes, as an application logging JSON writes them.
fn json_lines(size: usize) -> Vec<u8> {
    let mut buf = Vec::with_capacity(size * LINES);
    for i in 0..LINES {
        let head = format!(
            "{{\"ts\":\"2026-11-30T05:00:00.{:03}Z\",\"level\":\"info\",\"seq\":{i},\"status\":200,\"took\":0.25,\"msg\":\"",
            i % 1000
        );
        let tail = "\"}";
        buf.extend_from_slice(head.as_bytes());
        buf.extend_from_slice(message(i, size - 1 - head.len() - tail.len()).as_bytes());
        buf.extend_from_slice(tail.as_bytes());
        buf.push(b'\n');
    }
    buf
}

/// One read of `data` through the file's multiline state, as the reader runs it: each line split
/// off, then `Multiline::line` with the marker the reader would give it.
fn multiline_read(ml: &mut Multiline, shape: &RecordShape<'_>, w: &mut EventWriter, data: &[u8]) {
    let time = EventTime::now();
    let now = Instant::now();
    let mut done = 0;
    while let Some((i, nl)) = Encoding::Raw.find_newline(&data[done..]) {
        let at = done;
        let marker = || Marker::of(&data[at.saturating_sub(MARKER_BYTES)..at]);
        let mut sink = Sink { w: &mut *w, shape, now: time };
        ml.line(&mut sink, trim_cr(&data[done..done + i]), done as u64, &marker, now).expect("encode");
        done += i + nl;
    }
}

/// One read of `data` with `format json`, as the reader runs it (`RecordShape::emit_json` per line,
/// behind one head per read). Returns how many lines were not objects.
fn json_read(shape: &RecordShape<'_>, w: &mut EventWriter, scratch: &mut Vec<u8>, data: &[u8]) -> usize {
    let mut not_json = 0;
    let mut head = MapHead::new();
    let time = EventTime::now();
    shape.set_head(w, &mut head, time).expect("head");
    let mut done = 0;
    while let Some((i, nl)) = Encoding::Raw.find_newline(&data[done..]) {
        let line = trim_cr(&data[done..done + i]);
        if !shape.emit_json(w, &head, time, scratch, line, done as u64).expect("encode") {
            not_json += 1;
        }
        done += i + nl;
    }
    not_json
}

fn containers(c: &mut Criterion) {
    let path = "/var/log/containers/app-7d4b9c-x2k9z_default_app-0123456789abcdef.log";
    for (group, parser, lines_of) in
        [("tail_cri", "cri", cri_lines as fn(usize) -> Vec<u8>), ("tail_docker", "docker", docker_lines)]
    {
        let pairs = [("path", path), ("multiline.parser", parser)];
        let cfg = TailConfig::from(&Config::from_pairs(&pairs)).expect("config");
        let shape = RecordShape::new(&cfg, path);
        let mut g = c.benchmark_group(group);
        g.throughput(Throughput::Elements(LINES as u64));
        for (size, name) in SIZES {
            let data = lines_of(size);
            assert_eq!(data.len(), size * LINES, "{group}: lines of {size} bytes");
            let mut ml = Multiline::new(&cfg);
            let mut w = EventWriter::new(RecordForm::Modern);
            g.bench_with_input(BenchmarkId::from_parameter(name), &data, |b, data| {
                b.iter(|| {
                    w.clear();
                    multiline_read(&mut ml, &shape, &mut w, data);
                    assert_eq!(w.records(), CONTAINER_RECORDS);
                    assert_eq!(ml.pending_start(), None, "every split message ended");
                })
            });
        }
        g.finish();
    }

    let pairs = [("path", path), ("format", "json")];
    let cfg = TailConfig::from(&Config::from_pairs(&pairs)).expect("config");
    let shape = RecordShape::new(&cfg, path);
    let mut g = c.benchmark_group("tail_json");
    g.throughput(Throughput::Elements(LINES as u64));
    for (size, name) in SIZES {
        let data = json_lines(size);
        assert_eq!(data.len(), size * LINES, "tail_json: lines of {size} bytes");
        let mut w = EventWriter::new(RecordForm::Modern);
        let mut scratch = Vec::new();
        g.bench_with_input(BenchmarkId::from_parameter(name), &data, |b, data| {
            b.iter(|| {
                w.clear();
                assert_eq!(json_read(&shape, &mut w, &mut scratch, data), 0, "every line an object");
                assert_eq!(w.records(), LINES);
            })
        });
    }
    g.finish();
}

criterion_group!(benches, lines, containers, db_commit);
criterion_main!(benches);
