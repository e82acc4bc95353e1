//! The dependency direction between Castellan's crates, checked from `cargo metadata`.
//!
//! What a crate must *not* depend on is the architecture; a new edge is a design change that
//! goes into ARCHITECTURE.md and this table in the same commit.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use crate::root;

/// For each Castellan crate, the Castellan crates it may depend on (normal dependencies).
const ALLOWED: &[(&str, &[&str])] = &[
    ("castellan-policy", &[]),
    ("castellan-eval", &["castellan-policy"]),
    ("castellan-org", &["castellan-policy"]),
    ("castellan-credentials", &[]),
    ("castellan-store", &["castellan-policy", "castellan-org", "castellan-credentials"]),
    ("castellan-sts", &["castellan-policy", "castellan-eval", "castellan-store", "castellan-credentials"]),
    (
        "castellan",
        &[
            "castellan-policy",
            "castellan-eval",
            "castellan-store",
            "castellan-credentials",
            "castellan-sts",
            "castellan-org",
        ],
    ),
    ("castellan-server", &["castellan"]),
    ("castellan-cli", &["castellan", "castellan-policy", "castellan-eval", "castellan-server"]),
    (
        "castellan-bench",
        &["castellan-policy", "castellan-eval", "castellan-credentials", "castellan-store", "castellan-sts"],
    ),
];

/// Crates that must never appear below the evaluator or the policy crate: they would bring IO,
/// clocks or runtimes into pure code.
const FORBIDDEN_BELOW_EVAL: &[&str] = &["tokio", "rusqlite", "redb", "hyper", "axum"];

pub(crate) fn check() -> Result<(), String> {
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(root())
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !output.status.success() {
        return Err(format!("cargo metadata failed: {}", String::from_utf8_lossy(&output.stderr)));
    }
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).map_err(|e| format!("cargo metadata output: {e}"))?;
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let members: BTreeSet<String> = metadata["workspace_members"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|id| id.as_str().map(str::to_owned))
        .collect();
    let mut problems = Vec::new();
    let packages = metadata["packages"].as_array().cloned().unwrap_or_default();
    for package in &packages {
        let id = package["id"].as_str().unwrap_or_default();
        let name = package["name"].as_str().unwrap_or_default();
        if !members.contains(id) || !name.starts_with("castellan") {
            continue;
        }
        let Some(permitted) = allowed.get(name) else {
            problems.push(format!("{name} is not in the dependency table of xtask/src/deps.rs (and ARCHITECTURE.md)"));
            continue;
        };
        for dep in package["dependencies"].as_array().into_iter().flatten() {
            let dep_name = dep["name"].as_str().unwrap_or_default();
            let normal = dep["kind"].is_null();
            if normal && dep_name.starts_with("castellan") && !permitted.contains(&dep_name) {
                problems.push(format!("{name} depends on {dep_name}, which the architecture forbids"));
            }
            if normal
                && matches!(name, "castellan-policy" | "castellan-eval")
                && FORBIDDEN_BELOW_EVAL.contains(&dep_name)
            {
                problems.push(format!("{name} depends on {dep_name}: it must stay free of IO and runtimes"));
            }
        }
    }
    if problems.is_empty() {
        eprintln!("check-deps: the crate dependency direction holds");
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}
