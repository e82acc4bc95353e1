//! The table printer behind `cargo xtask bench`: times each benchmark with `Instant` and prints
//! Markdown tables. Criterion's fuller statistics stay available through
//! `cargo bench -p castellan-bench`.
//!
//! - `parse`: the median of several rounds, the two sides of the comparison alternating so that
//!   drift in the machine's speed hits both alike.
//! - `eval`: per-decision latencies from batches of decisions (see [`measure`]), every engine's
//!   rounds interleaved for the same reason.
//! - `sigv4`: SigV4 verifications per second, the median of several rounds (see
//!   `castellan_bench::sigv4`).
//!
//! - `credentials`: password hashing and TOTP checks (see `credentials.rs`).
//! - `store`: identity store writes, snapshot update latency and memory (see `store.rs`).
//! - `sts`: `AssumeRole` calls per second and session token opening latency (see `sts.rs`).
//!
//! Usage: `castellan-bench [--rounds N] [--eval-time SECONDS] [SECTION...]`; sections: `parse`,
//! `eval`, `sigv4`, `credentials`, `store`, `sts`.

// Bad arguments or missing inputs end the run; a panic says why.
#![allow(clippy::panic)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use castellan_bench::eval::{Castellan, Cedar, Workloads};
use castellan_bench::{castellan, parse_inputs, serde_value};
use castellan_eval::CompiledLayers;

mod credentials;
mod serve;
mod store;
mod sts;

/// A section: prints its own table.
type Section = fn(&Settings);

/// The sections, in the order they run when none is named.
const SECTIONS: &[(&str, Section)] = &[
    ("parse", parse),
    ("eval", eval),
    ("sigv4", sigv4),
    ("credentials", credentials::credentials),
    ("store", store::store),
    ("sts", sts::sts),
    ("serve", serve::serve),
];

/// How each measurement is taken.
struct Settings {
    /// Timed rounds per side; the median is reported.
    rounds: usize,
    /// The least time one round should take; iterations per round are chosen to reach it.
    round_time: Duration,
    /// `eval`: about how long each engine's decisions are timed, per workload.
    eval_time: Duration,
}

fn main() {
    let mut settings =
        Settings { rounds: 11, round_time: Duration::from_millis(200), eval_time: Duration::from_secs(2) };
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
            "--eval-time" => {
                settings.eval_time = args
                    .next()
                    .and_then(|n| n.parse::<f64>().ok())
                    .filter(|&n| n > 0.0 && n < 3600.0)
                    .map(Duration::from_secs_f64)
                    .unwrap_or_else(|| panic!("`--eval-time` needs a number of seconds"));
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

/// Runs `n` decisions of request `i` and returns something derived from each, so that none of
/// them can be optimized away.
type Batch<'a> = &'a dyn Fn(usize, u32) -> u64;

/// The per-decision latencies of one engine on one workload.
#[derive(Debug, Clone)]
struct Latency {
    /// Median, in nanoseconds.
    p50: f64,
    /// 99th percentile, in nanoseconds.
    p99: f64,
    /// Decisions per second over all timed batches (the reciprocal of the mean latency).
    per_second: f64,
    /// Decisions per timed batch.
    batch: u32,
    /// Timed batches.
    samples: usize,
    /// The median of each request alone, in nanoseconds.
    per_request: Vec<f64>,
}

/// Batches take about this long, and hold at most [`MAX_BATCH`] decisions.
const BATCH_TIME: Duration = Duration::from_millis(1);
const MAX_BATCH: u32 = 1000;

/// Per-decision latencies of each engine over `requests` requests.
///
/// Method: a batch is `N` decisions of one request in a row, timed with one pair of `Instant`s
/// (`N` = 1,000, or fewer for an engine slower than 1 µs per decision, so that a batch lasts
/// about 1 ms; at least 1). A batch's time divided by `N` is one latency sample. A round times one
/// batch of each request in turn (the requests cycled), and the engines' rounds are interleaved.
/// Each engine gets as many rounds as fit in `settings.eval_time` (at least 30, at most 2,000).
/// The percentiles are over all samples of all requests, so the p99 shows the slowest request's
/// cost (and the machine's noise), not only the average; decisions per second is all decisions
/// over all timed time.
fn measure<const E: usize>(settings: &Settings, engines: [Batch<'_>; E], requests: usize) -> [Latency; E] {
    let mut runs = engines.map(|engine| {
        // Calibration, which also warms caches and branch predictors up.
        let mut n: u32 = 1;
        let per_decision = loop {
            let start = Instant::now();
            for i in 0..requests {
                black_box(engine(i, n));
            }
            let elapsed = start.elapsed();
            if elapsed >= Duration::from_millis(20) || n >= 1 << 20 {
                break elapsed.as_secs_f64() / (f64::from(n) * requests as f64);
            }
            n *= 2;
        };
        let batch = ((BATCH_TIME.as_secs_f64() / per_decision) as u32).clamp(1, MAX_BATCH);
        let round = per_decision * f64::from(batch) * requests as f64;
        let rounds = ((settings.eval_time.as_secs_f64() / round) as usize).clamp(30, 2000);
        Run { engine, batch, rounds, samples: Vec::new(), decisions: 0, time: Duration::ZERO }
    });
    let max_rounds = runs.iter().map(|run| run.rounds).max().unwrap_or_default();
    for round in 0..max_rounds {
        for run in runs.iter_mut().filter(|run| round < run.rounds) {
            for i in 0..requests {
                let start = Instant::now();
                black_box((run.engine)(i, run.batch));
                let elapsed = start.elapsed();
                run.samples.push(elapsed.as_secs_f64() * 1e9 / f64::from(run.batch));
                run.decisions += u64::from(run.batch);
                run.time += elapsed;
            }
        }
    }
    runs.map(|run| run.latency(requests))
}

/// One engine's measurement in progress.
struct Run<'e> {
    engine: Batch<'e>,
    /// Decisions per batch.
    batch: u32,
    /// Rounds to time.
    rounds: usize,
    /// Per-decision latency of each batch, in nanoseconds, in the order taken.
    samples: Vec<f64>,
    /// All decisions timed.
    decisions: u64,
    /// All time timed.
    time: Duration,
}

impl Run<'_> {
    fn latency(mut self, requests: usize) -> Latency {
        // Samples were taken request after request: sample k is of request k % requests.
        let per_request = (0..requests)
            .map(|i| {
                let mut mine: Vec<f64> = self.samples.iter().skip(i).step_by(requests).copied().collect();
                mine.sort_by(f64::total_cmp);
                mine.get(mine.len() / 2).copied().unwrap_or(0.0)
            })
            .collect();
        let s = &mut self.samples;
        s.sort_by(f64::total_cmp);
        // Nearest rank.
        let at = |q: f64| s.get(((s.len() as f64 * q).ceil() as usize).saturating_sub(1)).copied().unwrap_or(0.0);
        Latency {
            p50: at(0.5),
            p99: at(0.99),
            per_second: self.decisions as f64 / self.time.as_secs_f64(),
            batch: self.batch,
            samples: s.len(),
            per_request,
        }
    }
}

/// Nanoseconds as microseconds, with about three significant digits.
fn micros(ns: f64) -> String {
    let us = ns / 1000.0;
    if us < 10.0 {
        format!("{us:.3}")
    } else if us < 100.0 {
        format!("{us:.1}")
    } else {
        format!("{us:.0}")
    }
}

/// Decisions per second, with thousands separated.
fn per_second(n: f64) -> String {
    let digits = format!("{:.0}", n);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// One row of the `eval` table.
struct Row<'a> {
    workload: &'a str,
    engine: &'a str,
    policies: String,
    latency: &'a Latency,
    /// For another engine: its median over Castellan's `decide` median on the same workload.
    ratio: Option<f64>,
}

fn print_rows(rows: &[Row<'_>]) {
    for row in rows {
        let l = &row.latency;
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} × {} |",
            row.workload,
            row.engine,
            row.policies,
            micros(l.p50),
            micros(l.p99),
            per_second(l.per_second),
            row.ratio.map_or_else(|| "—".to_owned(), |r| format!("{r:.0}×")),
            l.samples,
            l.batch,
        );
    }
}

/// Fails the run if an engine does not give the expected decisions.
fn checked(what: &str, result: Result<(), String>) {
    if let Err(problems) = result {
        panic!("{what} does not give the expected decisions:\n{problems}");
    }
}

/// Runs `n` fast decisions of request `i`.
fn decide_batch(castellan: &Castellan<'_>, i: usize, n: u32) -> u64 {
    (0..n).map(|_| black_box(castellan.decide(black_box(i))) as u64).sum()
}

/// Runs `n` explained decisions of request `i`.
fn evaluate_batch(castellan: &Castellan<'_>, i: usize, n: u32) -> u64 {
    (0..n).map(|_| black_box(castellan.evaluate(black_box(i))).matched.len() as u64).sum()
}

/// Runs `n` Cedar decisions of request `i`.
fn cedar_batch(cedar: &Cedar, i: usize, n: u32) -> u64 {
    (0..n).map(|_| u64::from(black_box(cedar.allows(black_box(i))))).sum()
}

/// Castellan's evaluator against Cedar on the shared workloads.
fn eval(settings: &Settings) {
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

    checked("Castellan (small)", small.check());
    checked("Castellan (large)", large.check());
    checked("Castellan (full chain)", chain.check());
    checked("Cedar (cedar_small.cedar)", cedar_small.check());
    checked("Cedar (cedar_large_scoped.cedar)", cedar_scoped.check());
    checked("Cedar (cedar_large_unscoped.cedar)", cedar_unscoped.check());

    println!("## eval: Castellan's CompiledLayers::decide vs Cedar's Authorizer::is_authorized");
    println!();
    println!(
        "Every request's decision was checked first: Castellan's outcome equals requests.json's `expected` \
         ({requests} of {requests} on each workload, by `decide` and by `evaluate`), Cedar's Allow/Deny agrees \
         with it ({requests} of {requests} on each file)."
    );
    println!();
    println!(
        "Latencies per decision, in µs: batches of N decisions of one request timed with `Instant` \
         (N = 1,000, fewer for engines slower than 1 µs), the {requests} requests cycled; percentiles over all \
         batches. Ratio: the engine's p50 over Castellan `decide`'s p50 on the same workload."
    );
    println!();
    println!("| workload | engine | policies | p50 µs | p99 µs | decisions/s | time / Castellan's | batches × N |");
    println!("|---|---|---|---:|---:|---:|---:|---:|");

    let [s_decide, s_evaluate, s_cedar] = measure(
        settings,
        [&|i, n| decide_batch(&small, i, n), &|i, n| evaluate_batch(&small, i, n), &|i, n| {
            cedar_batch(&cedar_small, i, n)
        }],
        requests,
    );
    let small_policies = format!("{} / {} statements", w.small.policies.len(), w.small.statements());
    print_rows(&[
        Row {
            workload: "small",
            engine: "Castellan `decide`",
            policies: small_policies.clone(),
            latency: &s_decide,
            ratio: None,
        },
        Row {
            workload: "small",
            engine: "Castellan `evaluate` (explained)",
            policies: small_policies,
            latency: &s_evaluate,
            ratio: None,
        },
        Row {
            workload: "small",
            engine: "Cedar",
            policies: format!("{} policies", cedar_small.policy_count()),
            latency: &s_cedar,
            ratio: Some(s_cedar.p50 / s_decide.p50),
        },
    ]);

    let [l_decide, l_scoped, l_unscoped] = measure(
        settings,
        [&|i, n| decide_batch(&large, i, n), &|i, n| cedar_batch(&cedar_scoped, i, n), &|i, n| {
            cedar_batch(&cedar_unscoped, i, n)
        }],
        requests,
    );
    print_rows(&[
        Row {
            workload: "large",
            engine: "Castellan `decide`",
            policies: format!("{} / {} statements", w.large.policies.len(), w.large.statements()),
            latency: &l_decide,
            ratio: None,
        },
        Row {
            workload: "large",
            engine: "Cedar, scoped",
            policies: format!("{} policies", cedar_scoped.policy_count()),
            latency: &l_scoped,
            ratio: Some(l_scoped.p50 / l_decide.p50),
        },
        Row {
            workload: "large",
            engine: "Cedar, unscoped",
            policies: format!("{} policies", cedar_unscoped.policy_count()),
            latency: &l_unscoped,
            ratio: Some(l_unscoped.p50 / l_decide.p50),
        },
    ]);

    let [c_decide] = measure(settings, [&|i, n| decide_batch(&chain, i, n)], requests);
    print_rows(&[Row {
        workload: "full chain",
        engine: "Castellan `decide`",
        policies: format!("6 layers, {} policies / {} statements", w.chain.policy_count(), w.chain.statements()),
        latency: &c_decide,
        ratio: None,
    }]);
    println!(
        "| full chain | principalmapper 1.1.5 (README figure, not run here) | small + boundary + 2 SCP levels + \
         bucket policy | {} | | | {:.0}× | |",
        micros(PRINCIPALMAPPER_CHAIN_NS),
        PRINCIPALMAPPER_CHAIN_NS / c_decide.p50
    );
    println!();

    println!("Median per request, in µs:");
    println!();
    println!(
        "| # | action | expected | small `decide` | small `evaluate` | small Cedar | large `decide` | \
         large Cedar scoped | large Cedar unscoped | full chain `decide` |"
    );
    println!("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|");
    let columns = [&s_decide, &s_evaluate, &s_cedar, &l_decide, &l_scoped, &l_unscoped, &c_decide];
    for (i, spec) in w.specs.iter().enumerate() {
        let cells: Vec<String> =
            columns.iter().map(|l| l.per_request.get(i).map_or_else(String::new, |&ns| micros(ns))).collect();
        println!("| {} | {} | {} | {} |", i + 1, spec.action, spec.expected, cells.join(" | "));
    }
    println!();

    let goal = |met: bool| if met { "met" } else { "NOT met" };
    println!("Goals:");
    println!("- small p50 ≤ 1 µs: {} ({} µs)", goal(s_decide.p50 <= 1000.0), micros(s_decide.p50));
    println!("- 1,000-statement p50 ≤ 2 µs: {} ({} µs)", goal(l_decide.p50 <= 2000.0), micros(l_decide.p50));
    for (name, cedar) in [("scoped", &l_scoped), ("unscoped", &l_unscoped)] {
        let ratio = cedar.p50 / l_decide.p50;
        println!("- 1,000-statement ≥ 400× Cedar ({name}): {} ({ratio:.0}×)", goal(ratio >= 400.0));
    }
    println!("- full chain p50 ≤ 2 µs: {} ({} µs)", goal(c_decide.p50 <= 2000.0), micros(c_decide.p50));
    println!();
}

/// principalmapper 1.1.5 on "small + boundary + 2 SCP levels + bucket policy", per decision, from
/// `../shared/benchmarks/README.md` (measured there, not here).
const PRINCIPALMAPPER_CHAIN_NS: f64 = 177_600.0;

/// SigV4 verifications per second, with and without the signing-key cache
/// (`castellan_bench::sigv4`).
fn sigv4(settings: &Settings) {
    castellan_bench::sigv4::print_table(settings.rounds, settings.round_time);
}
