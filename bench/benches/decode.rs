//! The SDK's zero-copy decoder over chunks of N sample records: every record, every map entry.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use flb_bench::{sample_chunk, BATCHES};
use flb_plugin_sdk::events::{EventReader, RecordForm, Value};

fn decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode");
    for n in BATCHES {
        let chunk = sample_chunk(n, RecordForm::Modern);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &chunk, |b, chunk| {
            b.iter(|| {
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
                assert_eq!(entries, n * 11);
            })
        });
    }
    g.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
