//! `cargo xtask codegen`: regenerates the files the project derives from `../shared/corpora`.
//!
//! Today one file: `crates/castellan-store/data/aws-managed-policies.json`, the AWS managed
//! policies (from `aws-managed-policies-index.json` and `aws-managed-policies/NAME.json`), one
//! entry per policy with its document as compact JSON text.

use std::fs;
use std::path::Path;

use serde_json::{Value, json};

/// Where the generated file goes, relative to the workspace root.
pub(crate) const AWS_MANAGED_POLICIES: &str = "crates/castellan-store/data/aws-managed-policies.json";

pub(crate) fn codegen(args: &[String]) -> Result<(), String> {
    if !args.is_empty() {
        return Err(format!("usage: cargo xtask codegen (got {args:?})"));
    }
    let corpora = crate::root().join("../shared/corpora");
    let text = aws_managed_policies(&corpora)?;
    let out = crate::root().join(AWS_MANAGED_POLICIES);
    fs::write(&out, text).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    eprintln!("wrote {}", out.display());
    Ok(())
}

/// The content of the AWS managed policies file, generated from `corpora`.
pub(crate) fn aws_managed_policies(corpora: &Path) -> Result<String, String> {
    let read = |path: &Path| -> Result<Value, String> {
        let text = fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("cannot parse {}: {e}", path.display()))
    };
    let index = read(&corpora.join("aws-managed-policies-index.json"))?;
    let entries = index["policies"].as_array().ok_or("the index has no `policies` array")?;
    let mut policies = Vec::with_capacity(entries.len());
    for entry in entries {
        let name = entry["name"].as_str().ok_or_else(|| format!("an index entry has no name: {entry}"))?;
        let document = read(&corpora.join("aws-managed-policies").join(format!("{name}.json")))?;
        policies.push(json!({
            "name": name,
            "path": entry["path"],
            "arn": entry["arn"],
            "version_id": entry["version_id"],
            "create_date": entry["create_date"],
            "update_date": entry["update_date"],
            "document": serde_json::to_string(&document).map_err(|e| e.to_string())?,
        }));
    }
    let out = json!({
        "source": index["source"],
        "count": policies.len(),
        "policies": policies,
    });
    let mut text = serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?;
    text.push('\n');
    Ok(text)
}
