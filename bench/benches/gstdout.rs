//! gstdout's formatting of chunks of N sample records, per format, into the reused buffer (no
//! write): records/s.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use flb_bench::{sample_chunk, BATCHES};
use flb_plugin_sdk::api::Config;
use flb_plugin_sdk::events::RecordForm;
use out_gstdout::format::{Formatter, Options};

fn formats(c: &mut Criterion) {
    for format in ["msgpack", "json", "json_lines", "json_stream"] {
        let pairs = [("format", format)];
        let opts = Options::from_config(&Config::from_pairs(&pairs)).expect("format");
        let f = Formatter::new(opts);
        let mut g = c.benchmark_group(format!("gstdout_{format}"));
        for n in BATCHES {
            let chunk = sample_chunk(n, RecordForm::Modern);
            let mut out = Vec::new();
            g.throughput(Throughput::Elements(n as u64));
            g.bench_with_input(BenchmarkId::from_parameter(n), &chunk, |b, chunk| {
                b.iter(|| {
                    out.clear();
                    let stats = f.format_chunk(b"app.log", chunk, &mut out).expect("valid chunk");
                    assert_eq!(stats.records, n);
                })
            });
        }
        g.finish();
    }
}

criterion_group!(benches, formats);
criterion_main!(benches);
