//! gtail's per-line path over one read's worth of lines: the splitter (memchr for the newline, the
//! CR trim) as bytes/s, the record encoder (`{log: line}` appended to the batch's writer) as
//! lines/s, both together, and the db offset commit (one file, and the one transaction that covers
//! every file of a batch). Every line/record bench handles `LINES` lines per iteration (run.py's
//! `TAIL_LINES` reads the same number), named `tail_<what>/<line size>`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use flb_plugin_sdk::api::Config;
use flb_plugin_sdk::events::{EventTime, EventWriter, MapHead, RecordForm};
use in_gtail::config::TailConfig;
use in_gtail::db::{Db, DbOptions};
use in_gtail::encoding::Encoding;
use in_gtail::lines::{trim_cr, RecordShape};
use in_gtail::marker::Marker;

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

criterion_group!(benches, lines, db_commit);
criterion_main!(benches);
