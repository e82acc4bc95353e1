//! A fixed amount of Castellan's evaluation work and nothing else, to run under a profiler:
//!
//! ```sh
//! cargo build --release -p castellan-bench --example profile_eval
//! valgrind --tool=callgrind target/release/examples/profile_eval small 100000
//! perf record -g target/release/examples/profile_eval chain 5000000
//! ```
//!
//! Arguments: the workload (`small`, `small-evaluate`, `large` or `chain`) and how many times to
//! decide each of its requests (default 100,000).

// A bad argument ends the run; a panic says why.
#![allow(clippy::panic)]

use std::hint::black_box;

use castellan_bench::eval::{Castellan, Workloads};

fn main() {
    let mut args = std::env::args().skip(1);
    let workload = args.next().unwrap_or_else(|| "small".to_owned());
    let rounds: u64 = args.next().map_or(100_000, |n| n.parse().unwrap_or_else(|_| panic!("`{n}` is not a count")));
    let w = Workloads::load();
    let layers = match workload.as_str() {
        "small" | "small-evaluate" => vec![w.small.layers().compile()],
        "large" => vec![w.large.layers().compile()],
        "chain" => w.chain_layers(),
        other => panic!("unknown workload `{other}` (small, small-evaluate, large, chain)"),
    };
    let subject = if workload == "chain" { &w.session } else { &w.user };
    let castellan = Castellan::new(subject, &layers);
    if let Err(problems) = castellan.check() {
        panic!("{problems}");
    }
    let mut allowed = 0u64;
    for _ in 0..rounds {
        for i in 0..castellan.len() {
            let allow = if workload == "small-evaluate" {
                black_box(castellan.evaluate(black_box(i))).outcome == castellan_eval::Outcome::Allow
            } else {
                black_box(castellan.decide(black_box(i))) == castellan_eval::Outcome::Allow
            };
            allowed += u64::from(allow);
        }
    }
    println!("{workload}: {} decisions, {allowed} allowed", rounds * castellan.len() as u64);
}
