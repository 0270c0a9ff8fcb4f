//! The SDK's zero-copy decoder over chunks of N sample records: every record, every map entry
//! (`decode`); and every record walked token by token, nested values included, with the cursor
//! (`decode_cursor`).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use flb_bench::{sample_chunk, BATCHES};
use flb_plugin_sdk::events::{EventReader, RecordForm, Token, Value};

/// One benchmark group over chunks of each batch size; `walk` returns what it counted in a chunk of
/// `n` records, checked against `expected(n)`.
fn group(c: &mut Criterion, name: &str, walk: fn(&[u8]) -> usize, expected: fn(usize) -> usize) {
    let mut g = c.benchmark_group(name);
    for n in BATCHES {
        let chunk = sample_chunk(n, RecordForm::Modern);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &chunk, |b, chunk| {
            b.iter(|| assert_eq!(walk(chunk), expected(n)))
        });
    }
    g.finish();
}

/// Every map entry of every record.
fn entries(chunk: &[u8]) -> usize {
    let mut entries = 0usize;
    for e in EventReader::new(chunk) {
        let e = e.expect("valid chunk");
        if let Value::Map(m) = e.body {
            for kv in m.iter() {
                kv.expect("valid map");
                entries += 1;
            }
        }
    }
    entries
}

/// Every token of every record body, nested values included.
fn tokens(chunk: &[u8]) -> usize {
    let mut tokens = 0usize;
    for e in EventReader::new(chunk) {
        let e = e.expect("valid chunk");
        let Value::Map(m) = e.body else { continue };
        let mut cur = m.cursor();
        // Values still owed by the containers opened so far: no stack needed.
        let mut pending = 2 * m.len();
        while pending > 0 {
            pending -= 1;
            match cur.next_token().expect("valid body") {
                Token::ArrayHeader(k) => pending += k as usize,
                Token::MapHeader(k) => pending += 2 * k as usize,
                _ => {}
            }
            tokens += 1;
        }
    }
    tokens
}

fn decode(c: &mut Criterion) {
    group(c, "decode", entries, |n| n * 11);
}

fn decode_cursor(c: &mut Criterion) {
    // 11 pairs, then the list's 3 elements and its map's pair, and the obj's pair.
    group(c, "decode_cursor", tokens, |n| n * (22 + 3 + 2 + 2));
}

criterion_group!(benches, decode, decode_cursor);
criterion_main!(benches);
