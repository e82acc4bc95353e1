//! The inputs and the measured work of Castellan's benchmarks, shared by the criterion benches
//! (`cargo bench -p castellan-bench`) and the table printer (`cargo xtask bench`), so that both
//! measure exactly the same thing.
//!
//! Inputs come from the shared folder beside the repository (`../shared`), read into memory
//! once; no benchmark touches the disk while it is timed.
//!
//! [`eval`] holds the evaluation workloads (Castellan against Cedar).

// A benchmark that cannot read its inputs has nothing to measure; a panic says why at once.
#![allow(clippy::panic)]

use std::fs;
use std::hint::black_box;
use std::path::{Path, PathBuf};

use castellan_policy::PolicyKind;

pub mod eval;
pub mod sigv4;

/// A named set of documents, measured as a whole.
#[derive(Debug, Clone)]
pub struct Input {
    /// The name shown in reports.
    pub name: String,
    /// The documents, each a complete JSON text.
    pub docs: Vec<String>,
}

impl Input {
    /// The total size of the documents in bytes: what throughput is counted in.
    pub fn bytes(&self) -> u64 {
        self.docs.iter().map(|d| d.len() as u64).sum()
    }
}

/// The shared folder beside the repository.
pub fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared")
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The inputs of the `parse` benchmarks: every AWS managed policy as one input, then the
/// single documents of about 2, 4 and 6 KB.
pub fn parse_inputs() -> Vec<Input> {
    let dir = shared().join("corpora/aws-managed-policies");
    let mut paths: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    let mut inputs =
        vec![Input { name: "aws-managed-policies".to_owned(), docs: paths.iter().map(|p| read(p)).collect() }];
    for size in ["2k", "4k", "6k"] {
        let path = shared().join(format!("benchmarks/workload/json_docs/policy_{size}.json"));
        inputs.push(Input { name: format!("policy_{size}.json"), docs: vec![read(&path)] });
    }
    inputs
}

/// Parses and validates every document as an identity policy; returns how many are valid.
pub fn castellan(docs: &[String]) -> usize {
    docs.iter().filter(|text| black_box(castellan_policy::check(text, PolicyKind::Identity)).is_valid()).count()
}

/// Reads every document into a `serde_json::Value`; returns how many are JSON.
pub fn serde_value(docs: &[String]) -> usize {
    docs.iter().filter(|text| black_box(serde_json::from_str::<serde_json::Value>(text)).is_ok()).count()
}
