//! `cargo xtask`: the project's automation, in Rust so that it runs wherever cargo does.
//!
//! - `cargo xtask ci` — formatting, lints, every test, docs, the dependency invariants and the
//!   end-to-end suites (the AWS CLI and boto3 against `castellan serve`): exactly what CI runs.
//! - `cargo xtask e2e` — the end-to-end suites alone (`tests/e2e/run.sh`).
//! - `cargo xtask codegen` — regenerates `crates/castellan-store/data/aws-managed-policies.json`
//!   from `../shared/corpora`.
//! - `cargo xtask check-deps` — the crate dependency direction of ARCHITECTURE.md.
//! - `cargo xtask fuzz TARGET --time SECONDS` — a cargo-fuzz target of `fuzz/`, on stable.
//! - `cargo xtask fuzz eval [--cases N]` — the evaluator's differential properties, long.
//! - `cargo xtask bench` — the benchmarks of `bench/` in release mode, as a table.
//! - `cargo xtask crash --iterations N` — the durable store's SIGKILL crash test, N kills.

// The automation reports failures by exiting; panics on broken invariants of its own
// environment (no cargo, unreadable metadata) are the clearest message there is.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod bench;
mod codegen;
mod deps;
mod fuzz;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, rest) = match args.split_first() {
        Some((task, rest)) => (task.as_str(), rest),
        None => ("help", &[][..]),
    };
    let result = match task {
        "ci" => ci(),
        "e2e" => e2e(),
        "check-deps" => deps::check(),
        "codegen" => codegen::codegen(rest),
        "fuzz" => fuzz::fuzz(rest),
        "bench" => bench::bench(rest),
        "crash" => crash(rest),
        "help" | "--help" | "-h" => {
            println!("{}", HELP);
            Ok(())
        }
        other => Err(format!("unknown task `{other}` ({rest:?})\n{HELP}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

const HELP: &str = "usage: cargo xtask <task>
tasks:
  ci           rustfmt check, clippy (warnings denied), all tests, rustdoc (warnings denied), check-deps, e2e
  e2e          the AWS CLI and boto3 against `castellan serve` (tests/e2e/run.sh; installs them into target/e2e-venv)
  codegen      regenerate crates/castellan-store/data/aws-managed-policies.json from ../shared/corpora
  check-deps   assert the crate dependency direction of ARCHITECTURE.md
  fuzz eval [--cases N]
               the evaluator against its reference evaluator on N generated cases per property (default 200,000)
  fuzz TARGET [--time SECONDS] [--max-len BYTES] [--sanitizer none|address] [-- LIBFUZZER-ARGS]
               run a fuzz target of fuzz/ (installs cargo-fuzz if needed; exits non-zero on a crash)
  bench [--no-criterion] [SECTION...]
               release-mode benchmarks of bench/ (criterion, then a table of MB/s and ratios)
  crash [--iterations N]
               the durable store's crash test in release mode: N SIGKILLs of a writer (default 1,000)";

/// The workspace root (the parent of this crate's folder).
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

/// Runs a command in the workspace root, echoing it; fails if it fails.
pub(crate) fn run(program: &str, args: &[&str], env: &[(&str, &str)]) -> Result<(), String> {
    eprintln!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(root())
        .status()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("`{program} {}` failed ({status})", args.join(" "))) }
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

fn ci() -> Result<(), String> {
    let cargo = cargo();
    run(&cargo, &["fmt", "--all", "--check"], &[])?;
    // The default members only: the benchmark crate (with Cedar) stays out of CI's build.
    run(&cargo, &["clippy", "--all-targets", "--locked", "--", "-D", "warnings"], &[])?;
    deps::check()?;
    run(&cargo, &["test", "--locked"], &[])?;
    run(&cargo, &["doc", "--no-deps", "--locked"], &[("RUSTDOCFLAGS", "-D warnings")])?;
    e2e()
}

/// The end-to-end suites: the AWS CLI and boto3 against `castellan serve` (`tests/e2e/run.sh`,
/// which installs the AWS CLI, boto3 and pytest from the Python package registry into a virtual
/// environment under `target/` on first use).
fn e2e() -> Result<(), String> {
    let script = root().join("tests").join("e2e").join("run.sh");
    let script = script.to_str().ok_or("the repository path is not UTF-8")?.to_owned();
    run("bash", &[script.as_str()], &[])
}

/// The durable store's crash test (`castellan-store/tests/crash.rs`), run long.
fn crash(args: &[String]) -> Result<(), String> {
    let iterations = match args {
        [] => "1000".to_owned(),
        [flag, n] if flag == "--iterations" && n.parse::<u64>().is_ok() => n.clone(),
        other => return Err(format!("usage: cargo xtask crash [--iterations N] (got {other:?})")),
    };
    run(
        &cargo(),
        &["test", "--release", "-p", "castellan-store", "--test", "crash", "--", "--nocapture"],
        &[("CASTELLAN_CRASH_ITERATIONS", &iterations)],
    )
}
