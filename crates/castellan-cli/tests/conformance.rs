//! Castellan's conformance corpus: every decision case under `tests/conformance/` (and the shared
//! example cases) must give the decision AWS would make.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The corpus must keep at least this many cases.
const MIN_CASES: usize = 300;

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `castellan simulate --cases FILE`, asserts that every case passes and returns how many
/// cases the file holds.
fn run_cases(file: &Path) -> usize {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("read {}: {e}", file.display()));
    let cases: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", file.display()));
    let count = cases.as_array().unwrap_or_else(|| panic!("{} is not a JSON array", file.display())).len();
    assert!(count > 0, "{} holds no case", file.display());

    let out = Command::new(env!("CARGO_BIN_EXE_castellan"))
        .arg("simulate")
        .arg("--cases")
        .arg(file)
        .output()
        .expect("run castellan");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let failures: Vec<&str> = stdout.lines().filter(|l| !l.starts_with("PASS ")).collect();
    assert_eq!(out.status.code(), Some(0), "{}: some cases fail:\n{}\n{stderr}", file.display(), failures.join("\n"));
    let summary = format!("{count} passed, 0 failed");
    assert!(
        stdout.lines().last() == Some(summary.as_str()),
        "{}: expected the summary `{summary}`, got:\n{}",
        file.display(),
        failures.join("\n")
    );
    count
}

#[test]
fn every_conformance_case_passes() {
    let dir = crate_dir().join("../../tests/conformance");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no *.json file in {}", dir.display());
    let mut total = 0;
    for file in &files {
        total += run_cases(file);
    }
    assert!(total >= MIN_CASES, "the conformance corpus holds {total} cases; it must keep at least {MIN_CASES}");
}

#[test]
fn the_shared_example_cases_pass() {
    let examples = crate_dir().join("../../../shared/corpora/decision-cases/examples.json");
    run_cases(&examples);
}
