//! gdummy's path: one collect of N records into the reused event buffer (the record encoded once at
//! init, each collect a copy plus timestamp patches), as records/s.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use flb_bench::BATCHES;
use flb_plugin_sdk::api::{Config, InitContext, InputPlugin, InstanceKind};
use flb_plugin_sdk::events::{EventWriter, RecordForm};
use in_gdummy::Gdummy;

fn collect(c: &mut Criterion) {
    let mut g = c.benchmark_group("gdummy_collect");
    for n in BATCHES {
        let copies = n.to_string();
        let pairs = [("pace", "collect"), ("copies", copies.as_str())];
        let mut ctx = InitContext::detached(Config::from_pairs(&pairs), InstanceKind::Input, "gdummy");
        let mut p = Gdummy::init(&mut ctx).expect("gdummy init");
        let mut w = EventWriter::new(RecordForm::Modern);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                w.clear();
                p.collect(&mut w).expect("collect");
                assert_eq!(w.records(), n);
            })
        });
    }
    g.finish();
}

criterion_group!(benches, collect);
criterion_main!(benches);
