//! Criterion benchmark `parse`: Castellan's policy parser beside `serde_json::Value` on the same
//! strings, in bytes per second. Run with `cargo bench -p castellan-bench --bench parse`.

use std::hint::black_box;
use std::time::Duration;

use castellan_bench::{castellan, parse_inputs, serde_value};
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};

fn parse(c: &mut Criterion) {
    for input in parse_inputs() {
        let valid = castellan(&input.docs);
        assert_eq!(valid, input.docs.len(), "{}: every document should be a valid identity policy", input.name);
        let mut group = c.benchmark_group(format!("parse/{}", input.name));
        group.throughput(Throughput::Bytes(input.bytes()));
        if input.docs.len() > 1 {
            // One iteration over the whole corpus takes tens of milliseconds.
            group.sampling_mode(SamplingMode::Flat).sample_size(20).measurement_time(Duration::from_secs(10));
        }
        group.bench_function("castellan", |b| b.iter(|| castellan(black_box(&input.docs))));
        group.bench_function("serde_json::Value", |b| b.iter(|| serde_value(black_box(&input.docs))));
        group.finish();
    }
}

criterion_group!(benches, parse);
criterion_main!(benches);
