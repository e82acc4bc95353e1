//! Criterion benchmark `eval`: Castellan's evaluator (`CompiledLayers::decide`, and `evaluate`
//! with its explanation) beside Cedar's `Authorizer::is_authorized` on the workloads of
//! `../shared/benchmarks/workload` (see `castellan_bench::eval`). One iteration decides each of
//! the 10 requests once, so the throughput is in decisions per second. Run with
//! `cargo bench -p castellan-bench --bench eval`.

use std::hint::black_box;
use std::time::Duration;

use castellan_bench::eval::{Castellan, Cedar, Workloads};
use castellan_eval::CompiledLayers;
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};

fn all_castellan(castellan: &Castellan<'_>) {
    for i in 0..castellan.len() {
        black_box(castellan.decide(black_box(i)));
    }
}

fn all_cedar(cedar: &Cedar, requests: usize) {
    for i in 0..requests {
        black_box(cedar.allows(black_box(i)));
    }
}

fn eval(c: &mut Criterion) {
    let w = Workloads::load();
    let requests = w.specs.len();
    let small_layers = [w.small.layers().compile()];
    let small = Castellan::new(&w.user, &small_layers);
    let large_layers = [w.large.layers().compile()];
    let large = Castellan::new(&w.user, &large_layers);
    let chain_layers: Vec<CompiledLayers<'_>> = w.chain_layers();
    let chain = Castellan::new(&w.session, &chain_layers);
    let cedar_small = w.cedar("cedar_small.cedar");
    let cedar_scoped = w.cedar("cedar_large_scoped.cedar");
    let cedar_unscoped = w.cedar("cedar_large_unscoped.cedar");
    for (name, result) in [
        ("Castellan, small", small.check()),
        ("Castellan, large", large.check()),
        ("Castellan, full chain", chain.check()),
        ("Cedar, small", cedar_small.check()),
        ("Cedar, large scoped", cedar_scoped.check()),
        ("Cedar, large unscoped", cedar_unscoped.check()),
    ] {
        assert!(result.is_ok(), "{name}: {result:?}");
    }

    let mut group = c.benchmark_group("eval/small");
    group.throughput(Throughput::Elements(requests as u64));
    group.bench_function("castellan decide", |b| b.iter(|| all_castellan(&small)));
    group.bench_function("castellan evaluate", |b| {
        b.iter(|| {
            for i in 0..requests {
                black_box(small.evaluate(black_box(i)));
            }
        })
    });
    group.bench_function("cedar", |b| b.iter(|| all_cedar(&cedar_small, requests)));
    group.finish();

    let mut group = c.benchmark_group("eval/large");
    group.throughput(Throughput::Elements(requests as u64));
    group.bench_function("castellan decide", |b| b.iter(|| all_castellan(&large)));
    // Ten Cedar decisions on 1,000 policies take several milliseconds.
    group.sampling_mode(SamplingMode::Flat).sample_size(20).measurement_time(Duration::from_secs(5));
    group.bench_function("cedar scoped", |b| b.iter(|| all_cedar(&cedar_scoped, requests)));
    group.bench_function("cedar unscoped", |b| b.iter(|| all_cedar(&cedar_unscoped, requests)));
    group.finish();

    let mut group = c.benchmark_group("eval/full-chain");
    group.throughput(Throughput::Elements(requests as u64));
    group.bench_function("castellan decide", |b| b.iter(|| all_castellan(&chain)));
    group.finish();
}

criterion_group!(benches, eval);
criterion_main!(benches);
