//! The shipped copy of the AWS managed policies (`data/aws-managed-policies.json`): complete, and
//! equal to a fresh generation from `../shared/corpora` when that is present (`cargo xtask
//! codegen` regenerates it).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::Path;

use serde_json::Value;

const SHIPPED: &str = include_str!("../data/aws-managed-policies.json");

fn shipped() -> Value {
    serde_json::from_str(SHIPPED).unwrap()
}

#[test]
fn the_shipped_file_has_every_policy() {
    let file = shipped();
    let policies = file["policies"].as_array().unwrap();
    assert_eq!(policies.len(), 1582);
    assert_eq!(file["count"], 1582);
    for p in policies {
        let arn = p["arn"].as_str().unwrap();
        assert!(arn.starts_with("arn:aws:iam::aws:policy/"), "{arn}");
        let document = p["document"].as_str().unwrap();
        assert!(
            castellan_policy::Policy::parse(document, castellan_policy::PolicyKind::Identity).is_ok(),
            "{arn} does not parse"
        );
    }
    assert!(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/NOTICE").is_file());
}

#[test]
fn the_shipped_file_equals_a_fresh_generation() {
    let corpora = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora");
    let index_path = corpora.join("aws-managed-policies-index.json");
    if !index_path.is_file() {
        eprintln!("skipped: {} is absent", index_path.display());
        return;
    }
    let index: Value = serde_json::from_str(&std::fs::read_to_string(index_path).unwrap()).unwrap();
    let file = shipped();
    let shipped = file["policies"].as_array().unwrap();
    let entries = index["policies"].as_array().unwrap();
    assert_eq!(shipped.len(), entries.len());
    for (s, e) in shipped.iter().zip(entries) {
        let name = e["name"].as_str().unwrap();
        for field in ["name", "path", "arn", "version_id", "create_date", "update_date"] {
            assert_eq!(s[field], e[field], "{name}: {field}");
        }
        let path = corpora.join("aws-managed-policies").join(format!("{name}.json"));
        let fresh: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let ours: Value = serde_json::from_str(s["document"].as_str().unwrap()).unwrap();
        assert_eq!(ours, fresh, "{name}: document");
    }
}
