//! Criterion benchmark `sigv4`: SigV4 verification of signed IAM requests with and without the
//! signing-key cache. Run with `cargo bench -p castellan-bench --bench sigv4`.

use std::hint::black_box;

use castellan_bench::sigv4::Workload;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn sigv4(c: &mut Criterion) {
    let w = Workload::new();
    for (name, request) in &w.requests {
        let mut group = c.benchmark_group(format!("sigv4/{name}"));
        group.throughput(Throughput::Elements(1));
        group.bench_function("no cache", |b| b.iter(|| w.verify(&w.uncached, black_box(request))));
        group.bench_function("cache", |b| b.iter(|| w.verify(&w.cached, black_box(request))));
        group.finish();
    }
}

criterion_group!(benches, sigv4);
criterion_main!(benches);
