//! The shared corpora: every AWS managed policy, and the documents AWS accepts and rejects.

// A panic is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};

use castellan_policy::{ErrorCode, Policy, PolicyKind, check};

fn corpora() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora")
}

fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_aws_managed_policy_is_a_valid_identity_policy_and_round_trips() {
    let dir = corpora().join("aws-managed-policies");
    let mut count = 0;
    let mut failures = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("managed policy corpus") {
        let path = entry.expect("directory entry").path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        count += 1;
        let text = std::fs::read_to_string(&path).expect("policy text");
        match Policy::parse(&text, PolicyKind::Identity) {
            Ok(policy) => {
                let printed = policy.to_string();
                match Policy::parse(&printed, PolicyKind::Identity) {
                    Ok(again) if again == policy => {}
                    Ok(_) => failures.push(format!("{}: print/parse changed the document", path.display())),
                    Err(e) => failures.push(format!("{}: printed form rejected: {e}", path.display())),
                }
            }
            Err(e) => failures.push(format!("{}: {e}", path.display())),
        }
    }
    assert_eq!(count, 1582, "the corpus holds 1,582 managed policies");
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn aws_rejected_documents_are_rejected_with_aws_messages() {
    let cases = read_json(&corpora().join("policy-validation/invalid.json"));
    let cases = cases.as_array().expect("array of cases");
    let mut exact = 0;
    let mut mismatches = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let text = case["document_text"].as_str().expect("document_text");
        let expected = case["expected_error_message"].as_str().expect("expected_error_message");
        assert_eq!(case["expected_error_code"], "MalformedPolicyDocument");
        let checked = check(text, PolicyKind::Identity);
        let first = checked.errors().next();
        let Some(first) = first else {
            panic!("case {i} was accepted but AWS rejects it: {text}");
        };
        assert_eq!(first.code, ErrorCode::MalformedPolicyDocument, "case {i}: {text}");
        if first.message == expected {
            exact += 1;
        } else {
            mismatches
                .push(format!("case {i}: expected {expected:?}, got {:?} ({})\n  {text}", first.message, first.detail));
        }
    }
    let total = cases.len();
    println!("{exact} of {total} messages equal AWS's text exactly");
    for m in &mismatches {
        println!("{m}");
    }
    assert!(exact * 10 >= total * 9, "only {exact} of {total} messages match AWS's text:\n{}", mismatches.join("\n"));
}

#[test]
fn aws_accepted_documents_are_accepted() {
    let cases = read_json(&corpora().join("policy-validation/valid.json"));
    let mut failures = Vec::new();
    for (i, case) in cases.as_array().expect("array of cases").iter().enumerate() {
        let text = case["document_text"].as_str().expect("document_text");
        let checked = check(text, PolicyKind::Identity);
        if let Some(e) = checked.errors().next() {
            failures.push(format!("case {i}: {e}\n  {text}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
