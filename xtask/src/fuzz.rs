//! `cargo xtask fuzz TARGET --time SECONDS`: runs a cargo-fuzz target of `fuzz/` on the stable
//! toolchain, seeding its corpus from the shared corpora first.
//!
//! cargo-fuzz expects nightly: it passes `-Zsanitizer=address` to rustc. Only stable is
//! installed here. libFuzzer's coverage instrumentation (`-Cpasses=sancov-module` and LLVM
//! arguments) is stable, so by default the fuzzer runs without a sanitizer (`--sanitizer none`:
//! the crates forbid `unsafe`, so AddressSanitizer has little to find, and it slows every run).
//! `RUSTC_BOOTSTRAP=1` is set all the same, so that `--sanitizer address` works on stable too
//! (the x86_64 Linux standard library ships the sanitizer runtimes). Debug assertions stay on,
//! so arithmetic overflow is a crash.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::{cargo, root, run};

/// Writes a target's seeds into a folder; returns how many.
type Seeder = fn(&Path) -> Result<usize, String>;

/// The fuzz targets and the seeds of each.
const TARGETS: &[(&str, Seeder)] = &[("parse", seed_policies), ("sigv4_parse", seed_sigv4)];

/// Inputs longer than this are not generated (and longer seeds are truncated): the largest AWS
/// managed policies are near 200 KB and would slow every execution.
const DEFAULT_MAX_LEN: u32 = 16_384;

pub(crate) fn fuzz(args: &[String]) -> Result<(), String> {
    if args.first().map(String::as_str) == Some("eval") {
        return fuzz_eval(args.get(1..).unwrap_or_default());
    }
    let mut target = None;
    let mut seconds: u64 = 60;
    let mut max_len = DEFAULT_MAX_LEN;
    let mut sanitizer = "none".to_owned();
    let mut extra: Vec<String> = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--time" => seconds = number(args.next(), "--time")?,
            "--max-len" => max_len = number(args.next(), "--max-len")?,
            "--sanitizer" => {
                sanitizer = args.next().cloned().ok_or_else(|| format!("`--sanitizer` needs a name\n{USAGE}"))?;
            }
            "--" => extra.extend(args.by_ref().cloned()),
            flag if flag.starts_with('-') => {
                return Err(format!("unknown option `{flag}`\n{USAGE}"));
            }
            name if target.is_none() => target = Some(name.to_owned()),
            other => return Err(format!("unexpected argument `{other}`\n{USAGE}")),
        }
    }
    let target = target.ok_or_else(|| format!("which target?\n{USAGE}"))?;
    let Some(&(_, seed)) = TARGETS.iter().find(|(name, _)| *name == target) else {
        let known: Vec<&str> = TARGETS.iter().map(|(name, _)| *name).collect();
        return Err(format!("unknown fuzz target `{target}` (known: {})", known.join(", ")));
    };

    ensure_cargo_fuzz()?;

    // libFuzzer writes new inputs into the first folder and only reads the others, so the
    // seeds are kept apart and refreshed on each run. Both are ignored by git.
    let corpus = root().join("fuzz/corpus").join(&target);
    let seeds = root().join("fuzz/corpus").join(format!("{target}-seeds"));
    fs::create_dir_all(&corpus).map_err(|e| format!("{}: {e}", corpus.display()))?;
    let count = seed(&seeds)?;
    eprintln!("xtask: {count} seeds in {}", seeds.display());

    let cargo = cargo();
    let corpus = corpus.to_string_lossy().into_owned();
    let seeds = seeds.to_string_lossy().into_owned();
    let max_total_time = format!("-max_total_time={seconds}");
    let max_len = format!("-max_len={max_len}");
    let mut command = vec![
        "fuzz",
        "run",
        "--fuzz-dir",
        "fuzz",
        "--sanitizer",
        &sanitizer,
        "--debug-assertions",
        &target,
        &corpus,
        &seeds,
        "--",
        &max_total_time,
        &max_len,
        // A single input that takes this long is a bug too (quadratic behaviour).
        "-timeout=10",
        "-print_final_stats=1",
    ];
    command.extend(extra.iter().map(String::as_str));
    let started = std::time::Instant::now();
    let result = run(&cargo, &command, &[("RUSTC_BOOTSTRAP", "1")]);
    eprintln!("xtask: fuzzing `{target}` ended after {:.0} s", started.elapsed().as_secs_f64());
    result.map_err(|e| format!("{e}: the fuzzer found a failing input; it is saved under fuzz/artifacts/{target}/"))
}

const USAGE: &str = "usage: cargo xtask fuzz eval [--cases N] | cargo xtask fuzz TARGET [--time SECONDS] [--max-len BYTES] \
                     [--sanitizer none|address] [-- LIBFUZZER-ARGS...]";

fn number<T: std::str::FromStr>(value: Option<&String>, flag: &str) -> Result<T, String> {
    value.and_then(|v| v.parse().ok()).ok_or_else(|| format!("`{flag}` needs a number\n{USAGE}"))
}

/// Installs cargo-fuzz unless `cargo fuzz` already works.
fn ensure_cargo_fuzz() -> Result<(), String> {
    let cargo = cargo();
    let installed = Command::new(&cargo)
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if installed { Ok(()) } else { run(&cargo, &["install", "cargo-fuzz", "--locked"], &[]) }
}

/// The seeds of `parse`: every AWS managed policy and every document of the validation corpus.
fn seed_policies(dir: &Path) -> Result<usize, String> {
    let corpora = root().join("../shared/corpora");
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut count = 0;

    let managed = corpora.join("aws-managed-policies");
    let mut paths: Vec<PathBuf> = fs::read_dir(&managed)
        .map_err(|e| format!("{}: {e}", managed.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    for path in paths {
        let text = fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        write_seed(&dir.join(format!("managed-{name}")), &text)?;
        count += 1;
    }

    for set in ["valid", "invalid"] {
        let path = corpora.join(format!("policy-validation/{set}.json"));
        let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let cases: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let cases = cases.as_array().ok_or_else(|| format!("{}: not an array", path.display()))?;
        for (i, case) in cases.iter().enumerate() {
            if let Some(document) = case.get("document_text").and_then(serde_json::Value::as_str) {
                write_seed(&dir.join(format!("{set}-{i:03}.json")), document.as_bytes())?;
                count += 1;
            }
        }
    }
    Ok(count)
}

/// The seeds of `sigv4_parse`: every `.req` and `.sreq` of the SigV4 test suite (read in
/// place; the seeds folder is ignored by git).
fn seed_sigv4(dir: &Path) -> Result<usize, String> {
    fn walk(folder: &Path, dir: &Path, count: &mut usize) -> Result<(), String> {
        let mut paths: Vec<PathBuf> = fs::read_dir(folder)
            .map_err(|e| format!("{}: {e}", folder.display()))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .collect();
        paths.sort();
        for path in paths {
            if path.is_dir() {
                walk(&path, dir, count)?;
            } else if path.extension().is_some_and(|e| e == "req" || e == "sreq") {
                let text = fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                write_seed(&dir.join(name), &text)?;
                *count += 1;
            }
        }
        Ok(())
    }
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut count = 0;
    walk(&root().join("../shared/corpora/sigv4-test-suite"), dir, &mut count)?;
    Ok(count)
}

fn write_seed(path: &Path, content: &[u8]) -> Result<(), String> {
    if fs::read(path).is_ok_and(|old| old == content) {
        return Ok(());
    }
    fs::write(path, content).map_err(|e| format!("{}: {e}", path.display()))
}

/// `cargo xtask fuzz eval [--cases N]`: the evaluator's differential and invariant properties
/// (`crates/castellan-eval/tests/differential.rs`, checked against a simple reference
/// evaluator) with many more generated cases than CI runs, in release mode.
fn fuzz_eval(args: &[String]) -> Result<(), String> {
    let mut cases: u64 = 200_000;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--cases" => cases = number(args.next(), "--cases")?,
            other => return Err(format!("unexpected argument `{other}`\n{USAGE}")),
        }
    }
    let cases = cases.to_string();
    run(
        &cargo(),
        &["test", "--release", "-p", "castellan-eval", "--test", "differential"],
        &[("CASTELLAN_PROPTEST_CASES", &cases)],
    )
}
