//! The `credentials` section of the table printer: what a password check and an MFA code check
//! cost (no comparison engine; the numbers size login throughput).
//!
//! - password: `hash_password` and `verify_password` at `DEFAULT_ITERATIONS` (PBKDF2-HMAC-SHA256,
//!   600,000 iterations): each is one full key derivation, the cost of one console login.
//! - TOTP: `MfaDevice::authenticate` with the current step's code (accepted; the device cloned
//!   first so the step is unspent) and with a wrong code (refused after all three window steps).

use std::hint::black_box;

use castellan_credentials::password::{DEFAULT_ITERATIONS, hash_password, verify_password};
use castellan_credentials::{FixedClock, MfaDevice, MfaSeed, MfaState, SecretString, StoredSeed, UnixTime};
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::{Settings, compare};

/// Prints the section's table.
pub(crate) fn credentials(settings: &Settings) {
    println!("## credentials: password hashing (PBKDF2-HMAC-SHA256, {DEFAULT_ITERATIONS} iterations) and TOTP checks");
    println!();
    println!("| operation | time per call | calls per second |");
    println!("|---|---:|---:|");

    let password = SecretString::new("correct horse battery staple 1!");
    let rng = std::cell::RefCell::new(StdRng::seed_from_u64(1));
    let Ok(stored) = hash_password(&password, DEFAULT_ITERATIONS, &mut *rng.borrow_mut()) else {
        panic!("hash_password failed");
    };
    let hash = || {
        let mut rng = rng.borrow_mut();
        hash_password(black_box(&password), DEFAULT_ITERATIONS, &mut *rng).map_or(0, |h| h.iterations() as usize)
    };
    let verify = || usize::from(verify_password(black_box(&password), &stored, DEFAULT_ITERATIONS).matched);
    let [hash, verify] = compare(settings, [&hash, &verify]);
    row("hash_password", hash);
    row("verify_password", verify);

    let Ok(seed) = MfaSeed::from_bytes(b"12345678901234567890") else { panic!("seed") };
    let now: i64 = 1_700_000_013;
    let clock = FixedClock::new(now);
    let device = MfaDevice {
        serial_number: "arn:aws:iam::123456789012:mfa/bench".to_owned(),
        seed: StoredSeed::Plain(seed.clone()),
        state: MfaState::Enabled { enabled_at: UnixTime::from_seconds(0) },
        last_accepted_step: None,
        drift_steps: 0,
        failed_attempts: 0,
    };
    let good = seed.code_at(now as u64);
    let wrong = if good.expose() == "000000" { "000001" } else { "000000" };
    let right = || usize::from(device.clone().authenticate(None, black_box(good.expose()), &clock).is_ok());
    let refused = || usize::from(device.clone().authenticate(None, black_box(wrong), &clock).is_ok());
    let [accepted, refused] = compare(settings, [&right, &refused]);
    row("TOTP authenticate, right code", accepted);
    row("TOTP authenticate, wrong code (3 steps)", refused);
    println!();
}

fn row(name: &str, per_call: std::time::Duration) {
    let seconds = per_call.as_secs_f64();
    let time = if seconds >= 1e-3 { format!("{:.1} ms", seconds * 1e3) } else { format!("{:.2} µs", seconds * 1e6) };
    println!("| {name} | {time} | {:.0} |", 1.0 / seconds.max(1e-12));
}
