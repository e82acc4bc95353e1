//! The `castellan` command's public contract: arguments, output formats and exit codes.

// A panic is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn castellan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_castellan")).args(args).output().expect("run castellan")
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("castellan-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn every_aws_managed_policy_checks_clean() {
    let corpus = repo().join("../shared/corpora/aws-managed-policies");
    let out = castellan(&["policy", "check", path(&corpus)]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("1582 files checked as identity policies: 1582 valid, 0 invalid"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn the_shipped_examples_are_valid_and_canonical() {
    let examples = repo().join("examples/policies");
    let out = castellan(&["policy", "check", path(&examples.join("identity"))]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let out = castellan(&["policy", "check", "--kind", "trust", path(&examples.join("trust"))]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let out = castellan(&["policy", "fmt", "--check", path(&examples)]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn invalid_policy_exits_1_with_position_and_aws_message() {
    let dir = temp_dir("invalid");
    let file = dir.join("bad.json");
    std::fs::write(&file, "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": {\"Effect\": \"Allow\", \"Action\": \"s3\", \"Resource\": \"*\"}\n}\n")
        .expect("write");
    let out = castellan(&["policy", "check", path(&file)]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("bad.json:3:46: error: MalformedPolicyDocument: Actions/Conditions must be prefaced by a vendor"),
        "{text}"
    );
    assert!(text.contains("0 valid, 1 invalid"), "{text}");
}

#[test]
fn json_format_prints_one_object_per_file() {
    let dir = temp_dir("json");
    std::fs::write(
        dir.join("a.json"),
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#,
    )
    .expect("write");
    std::fs::write(dir.join("b.json"), r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*"}}"#)
        .expect("write");
    std::fs::write(dir.join("ignored.txt"), "not a policy").expect("write");
    let out = castellan(&["policy", "check", "--format", "json", path(&dir)]);
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<serde_json::Value> =
        stdout(&out).lines().map(|l| serde_json::from_str(l).expect("one JSON object per line")).collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0]["path"].as_str().unwrap().ends_with("a.json"));
    assert_eq!(lines[0]["valid"], true);
    assert_eq!(lines[0]["errors"], serde_json::json!([]));
    assert_eq!(lines[1]["valid"], false);
    let error = &lines[1]["errors"][0];
    assert_eq!(error["code"], "MalformedPolicyDocument");
    assert_eq!(error["message"], "Policy statement must contain resources.");
    assert_eq!(error["line"], 1);
    assert_eq!(error["column"], 37);
}

#[test]
fn kinds_change_the_rules() {
    let dir = temp_dir("kinds");
    let file = dir.join("trust.json");
    std::fs::write(
        &file,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}}"#,
    )
    .expect("write");
    assert_eq!(castellan(&["policy", "check", "--kind", "trust", path(&file)]).status.code(), Some(0));
    let out = castellan(&["policy", "check", "--kind", "identity", path(&file)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("Policy document should not specify a principal."));
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(castellan(&["policy", "check", "/no/such/path.json"]).status.code(), Some(2));
    assert_eq!(castellan(&["policy", "check", "--kind", "nonsense", "x.json"]).status.code(), Some(2));
    assert_eq!(castellan(&["policy", "check"]).status.code(), Some(2));
    assert_eq!(castellan(&["no-such-command"]).status.code(), Some(2));
}

#[test]
fn fmt_rewrites_to_canonical_form_and_check_reports_it() {
    let dir = temp_dir("fmt");
    let file = dir.join("p.json");
    std::fs::write(
        &file,
        r#"{"Statement":[{"Action":["s3:GetObject"],"Effect":"Allow","Resource":"*"}],"Version":"2012-10-17"}"#,
    )
    .expect("write");
    let out = castellan(&["policy", "fmt", "--check", path(&file)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("is not in canonical form"));
    assert_eq!(castellan(&["policy", "fmt", path(&file)]).status.code(), Some(0));
    let formatted = std::fs::read_to_string(&file).expect("read");
    assert_eq!(
        formatted,
        "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Action\": \"s3:GetObject\",\n      \"Resource\": \"*\"\n    }\n  ]\n}\n"
    );
    assert_eq!(castellan(&["policy", "fmt", "--check", path(&file)]).status.code(), Some(0));
}

#[test]
fn fmt_refuses_invalid_json_and_leaves_the_file() {
    let dir = temp_dir("fmt-bad");
    let file = dir.join("p.json");
    std::fs::write(&file, "{\"Version\": ").expect("write");
    let out = castellan(&["policy", "fmt", path(&file)]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(&file).expect("read"), "{\"Version\": ");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Syntax errors in policy."));
}
