//! The table printer behind `cargo xtask bench`: times each benchmark with `Instant` (median of
//! several rounds, the two sides of a comparison alternating so that drift in the machine's
//! speed hits both alike) and prints a Markdown table. Criterion's fuller statistics stay
//! available through `cargo bench -p castellan-bench`.
//!
//! Usage: `castellan-bench [--rounds N] [SECTION...]`; sections: `parse`.

// Bad arguments or missing inputs end the run; a panic says why.
#![allow(clippy::panic)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use castellan_bench::{castellan, parse_inputs, serde_value};

/// A section: prints its own table.
type Section = fn(&Settings);

/// The sections, in the order they run when none is named.
const SECTIONS: &[(&str, Section)] = &[("parse", parse)];

/// How each measurement is taken.
struct Settings {
    /// Timed rounds per side; the median is reported.
    rounds: usize,
    /// The least time one round should take; iterations per round are chosen to reach it.
    round_time: Duration,
}

fn main() {
    let mut settings = Settings { rounds: 11, round_time: Duration::from_millis(200) };
    let mut sections = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--rounds" => {
                settings.rounds = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n > 0)
                    .unwrap_or_else(|| panic!("`--rounds` needs a positive number"));
            }
            name => match SECTIONS.iter().find(|(section, _)| *section == name) {
                Some(&(_, run)) => sections.push(run),
                None => panic!("unknown section `{name}`"),
            },
        }
    }
    if sections.is_empty() {
        sections.extend(SECTIONS.iter().map(|&(_, run)| run));
    }
    for run in sections {
        run(&settings);
    }
}

/// Castellan's parser against `serde_json::Value`, on the same strings.
fn parse(settings: &Settings) {
    println!("## parse: castellan_policy::check(text, Identity) vs serde_json::from_str::<Value>");
    println!();
    println!("| input | docs | bytes | castellan MB/s | serde_json::Value MB/s | time ratio castellan / serde_json |");
    println!("|---|---:|---:|---:|---:|---:|");
    for input in parse_inputs() {
        let valid = castellan(&input.docs);
        if valid != input.docs.len() {
            panic!("{}: only {valid} of {} documents are valid identity policies", input.name, input.docs.len());
        }
        let [ours, theirs] =
            compare(settings, [&|| castellan(black_box(&input.docs)), &|| serde_value(black_box(&input.docs))]);
        let bytes = input.bytes();
        println!(
            "| {} | {} | {} | {:.0} | {:.0} | {:.2} |",
            input.name,
            input.docs.len(),
            bytes,
            mb_per_s(bytes, ours),
            mb_per_s(bytes, theirs),
            ours.as_secs_f64() / theirs.as_secs_f64(),
        );
    }
    println!();
}

/// The median time of one call of each function, the rounds of the two alternating.
fn compare(settings: &Settings, work: [&dyn Fn() -> usize; 2]) -> [Duration; 2] {
    let iterations = work.map(|f| calibrate(settings.round_time, f));
    let mut samples: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    for _ in 0..settings.rounds {
        for ((f, &n), times) in work.iter().zip(&iterations).zip(&mut samples) {
            let start = Instant::now();
            for _ in 0..n {
                black_box(f());
            }
            times.push(start.elapsed() / n);
        }
    }
    samples.map(|mut times| {
        times.sort();
        times.get(times.len() / 2).copied().unwrap_or_default()
    })
}

/// How many calls of `f` take at least `target` (also warming caches and the allocator up).
fn calibrate(target: Duration, f: &dyn Fn() -> usize) -> u32 {
    let mut n: u32 = 1;
    loop {
        let start = Instant::now();
        for _ in 0..n {
            black_box(f());
        }
        let elapsed = start.elapsed();
        if elapsed >= target || n >= 1 << 24 {
            return n;
        }
        // Aim a little past the target from what this round showed, at most 10 times more.
        let scale = (target.as_secs_f64() * 1.2 / elapsed.as_secs_f64().max(1e-9)).clamp(2.0, 10.0);
        n = (f64::from(n) * scale).ceil() as u32;
    }
}

/// Megabytes (10^6 bytes) per second.
fn mb_per_s(bytes: u64, per_call: Duration) -> f64 {
    bytes as f64 / per_call.as_secs_f64() / 1e6
}
