//! The SigV4 workload: verifying signed IAM Query API requests with and without the signing-key
//! cache, shared by the criterion bench (`benches/sigv4.rs`) and the `sigv4` table of
//! `cargo xtask bench`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use castellan_credentials::sigv4::{KeyRecord, Request, SigningKeyCache, SigningParams, Verifier, sign};
use castellan_credentials::{FixedClock, SecretString, UnixTime};

const KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
/// 2015-08-30T12:36:00Z.
const TIME: i64 = 1_440_938_160;

/// Signed requests, the verifiers and the clock they are checked with.
pub struct Workload {
    /// Signed requests: an IAM `POST` with a form body, and a `GET` with the same query.
    pub requests: Vec<(&'static str, Request)>,
    /// A verifier that derives the signing key on every request.
    pub uncached: Verifier,
    /// A verifier with a signing-key cache.
    pub cached: Verifier,
    /// The clock, standing at the signing time.
    pub clock: FixedClock,
}

/// The key lookup: one long-term key.
pub fn lookup(id: &str) -> Option<KeyRecord> {
    (id == KEY_ID).then(|| KeyRecord::long_term(SecretString::from(SECRET)))
}

impl Workload {
    /// Signs the requests.
    pub fn new() -> Workload {
        let params =
            SigningParams::new(KEY_ID, SecretString::from(SECRET), "us-east-1", "iam", UnixTime::from_seconds(TIME));
        let form = "Action=ListAttachedUserPolicies&UserName=alice&PathPrefix=%2F&MaxItems=100&Version=2010-05-08";
        let mut post = Request::new("POST", "/", "")
            .header("Host", "iam.amazonaws.com")
            .header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
            .header("User-Agent", "aws-cli/2.15.0 Python/3.11.6 Linux/6.5.0 botocore/2.4.5")
            .body(form);
        sign(&mut post, &params, None);
        let mut get = Request::new("GET", "/", form).header("Host", "iam.amazonaws.com");
        sign(&mut get, &params, None);
        Workload {
            requests: vec![("POST form body", post), ("GET query", get)],
            uncached: Verifier::new("us-east-1", "iam"),
            cached: Verifier::new("us-east-1", "iam").with_cache(Arc::new(SigningKeyCache::default())),
            clock: FixedClock::new(TIME),
        }
    }

    /// Verifies a request once; panics when it does not verify.
    pub fn verify(&self, verifier: &Verifier, request: &Request) -> usize {
        match verifier.verify(black_box(request), &lookup, &self.clock) {
            Ok(verified) => verified.signed_headers.len(),
            #[allow(clippy::panic)]
            Err(e) => panic!("the benchmark request does not verify: {e}"),
        }
    }
}

impl Default for Workload {
    fn default() -> Workload {
        Workload::new()
    }
}

/// Verifications per second of `verifier` on `request`: the median of `rounds` rounds of about
/// `round_time` each.
fn per_second(w: &Workload, verifier: &Verifier, request: &Request, rounds: usize, round_time: Duration) -> f64 {
    let mut n: u32 = 64;
    loop {
        let start = Instant::now();
        for _ in 0..n {
            black_box(w.verify(verifier, request));
        }
        if start.elapsed() >= round_time / 4 || n >= 1 << 24 {
            break;
        }
        n *= 2;
    }
    let n = n * 4;
    let mut rates: Vec<f64> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..n {
                black_box(w.verify(verifier, request));
            }
            f64::from(n) / start.elapsed().as_secs_f64()
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    rates.get(rates.len() / 2).copied().unwrap_or(0.0)
}

/// Verifications per second of all `threads` together, sharing the cached verifier.
fn threaded(w: &Workload, request: &Request, threads: usize, time: Duration) -> f64 {
    let total: u64 = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let start = Instant::now();
                    let mut done: u64 = 0;
                    while start.elapsed() < time {
                        for _ in 0..256 {
                            black_box(w.verify(&w.cached, request));
                        }
                        done += 256;
                    }
                    done
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
    });
    total as f64 / time.as_secs_f64()
}

fn thousands(n: f64) -> String {
    let digits = format!("{n:.0}");
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Prints the `sigv4` table of `cargo xtask bench`.
pub fn print_table(rounds: usize, round_time: Duration) {
    let w = Workload::new();
    let threads = std::thread::available_parallelism().map_or(1, usize::from).min(8);
    println!("## sigv4: castellan_credentials::sigv4::Verifier::verify");
    println!();
    println!(
        "Verifications per second on one thread (median of {rounds} rounds), with the signing key derived on \
         each request (4 HMAC-SHA256) or taken from the shared `SigningKeyCache`; then all of {threads} \
         threads verifying through one shared cache. Goal: ≥ 200,000/s per core with the cache."
    );
    println!();
    println!(
        "| request | body bytes | no cache /s | cache /s | µs per verification (cache) | {threads} threads, cache /s | goal |"
    );
    println!("|---|---:|---:|---:|---:|---:|---|");
    for (name, request) in &w.requests {
        let body = match &request.payload {
            castellan_credentials::sigv4::Payload::Bytes(b) => b.len(),
            castellan_credentials::sigv4::Payload::Hash(_) => 0,
        };
        let plain = per_second(&w, &w.uncached, request, rounds, round_time);
        let cached = per_second(&w, &w.cached, request, rounds, round_time);
        let all = threaded(&w, request, threads, round_time * 5);
        println!(
            "| {name} | {body} | {} | {} | {:.2} | {} | {} |",
            thousands(plain),
            thousands(cached),
            1e6 / cached,
            thousands(all),
            if cached >= 200_000.0 { "met" } else { "NOT met" }
        );
    }
    if let Some(cache) = &w.cached.cache {
        println!();
        println!("Cache after the run: {} hits, {} misses.", cache.hits(), cache.misses());
    }
    println!();
}
