use castellan_policy::{Policy, Statement};

use crate::{Context, ContextValue, action_matches, conditions_match, resource_matches};

/// The first statement of a one-statement identity policy written as JSON.
fn statement(json: &str) -> Statement {
    let text = format!(r#"{{"Version": "2012-10-17", "Statement": {json}}}"#);
    let policy = Policy::parse_grammar(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    policy.statements.into_iter().next().unwrap()
}

fn ctx(pairs: &[(&str, &str)]) -> Context {
    let mut c = Context::new();
    for (k, v) in pairs {
        c.set(k, v);
    }
    c
}

/// Whether the statement's condition block holds in the context.
fn holds(condition: &str, context: &Context) -> bool {
    let s = statement(&format!(r#"{{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {condition}}}"#));
    conditions_match(&s.conditions, context, &mut Vec::new())
}

#[test]
fn actions_ignore_case_and_honour_wildcards() {
    let s = statement(r#"{"Effect": "Allow", "Action": ["IAM:list*", "s3:Get?bject"], "Resource": "*"}"#);
    assert!(action_matches(&s.action, "iam:ListUsers"));
    assert!(action_matches(&s.action, "s3:GetObject"));
    assert!(!action_matches(&s.action, "s3:GetObjectAcl"));
    assert!(!action_matches(&s.action, "iam:CreateUser"));
    let s = statement(r#"{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}"#);
    assert!(action_matches(&s.action, "s3:GetObject"));
    assert!(!action_matches(&s.action, "IAM:CreateUser"));
}

#[test]
fn resources_match_part_by_part() {
    let c = Context::new();
    let s = statement(r#"{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::bucket/*/test/*"}"#);
    let r = s.resource.as_ref().unwrap();
    assert!(resource_matches(r, "arn:aws:s3:::bucket/1/2/test/3/x.jpg", &c));
    assert!(resource_matches(r, "arn:aws:s3:::bucket//test/x", &c));
    assert!(!resource_matches(r, "arn:aws:s3:::Bucket/1/test/x", &c));
    let s = statement(r#"{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:iam::*:user/division_abc*"}"#);
    let r = s.resource.as_ref().unwrap();
    assert!(resource_matches(r, "arn:aws:iam::123456789012:user/division_abc/subdivision_xyz/JaneDoe", &c));
    assert!(!resource_matches(r, "arn:aws:iam::123456789012:user/JohnDoe", &c));
    // A wildcard in the region part does not reach into the account part.
    let s = statement(r#"{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:ec2:us-*:111122223333:instance/*"}"#);
    let r = s.resource.as_ref().unwrap();
    assert!(resource_matches(r, "arn:aws:ec2:us-east-1:111122223333:instance/i-1", &c));
    assert!(!resource_matches(r, "arn:aws:ec2:us-east-1:444455556666:instance/i-1", &c));
    assert!(!resource_matches(r, "*", &c));
}

#[test]
fn resource_variables_resolve_from_the_request() {
    let s = statement(r#"{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::home/${aws:username}/${*}"}"#);
    let r = s.resource.as_ref().unwrap();
    let alice = ctx(&[("aws:username", "alice")]);
    assert!(resource_matches(r, "arn:aws:s3:::home/alice/*", &alice));
    // `${*}` is a literal asterisk, not a wildcard.
    assert!(!resource_matches(r, "arn:aws:s3:::home/alice/file", &alice));
    // No value and no default: the entry matches nothing.
    assert!(!resource_matches(r, "arn:aws:s3:::home//*", &Context::new()));
    let s = statement(
        r#"{"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:::home/${aws:PrincipalTag/team, 'shared'}/*"}"#,
    );
    let r = s.resource.as_ref().unwrap();
    assert!(!resource_matches(r, "arn:aws:s3:::home/shared/x", &Context::new()));
    assert!(resource_matches(r, "arn:aws:s3:::home/shared/x", &ctx(&[("aws:PrincipalTag/team", "blue")])));
}

#[test]
fn string_operators() {
    let c = ctx(&[("aws:username", "Alice"), ("s3:prefix", "home/Alice/x")]);
    assert!(holds(r#"{"StringEquals": {"aws:username": ["Bob", "Alice"]}}"#, &c));
    assert!(!holds(r#"{"StringEquals": {"aws:username": "alice"}}"#, &c));
    assert!(holds(r#"{"StringEqualsIgnoreCase": {"AWS:USERNAME": "alice"}}"#, &c));
    assert!(holds(r#"{"StringNotEquals": {"aws:username": ["Bob", "Carol"]}}"#, &c));
    assert!(!holds(r#"{"StringNotEquals": {"aws:username": ["Bob", "Alice"]}}"#, &c));
    assert!(holds(r#"{"StringLike": {"s3:prefix": "home/${aws:username}/*"}}"#, &c));
    assert!(!holds(r#"{"StringNotLike": {"s3:prefix": "home/*"}}"#, &c));
    // Missing key: positive operators fail, negated ones hold, IfExists holds.
    assert!(!holds(r#"{"StringEquals": {"aws:missing": "x"}}"#, &c));
    assert!(holds(r#"{"StringNotEquals": {"aws:missing": "x"}}"#, &c));
    assert!(holds(r#"{"StringEqualsIfExists": {"aws:missing": "x"}}"#, &c));
    assert!(!holds(r#"{"StringEqualsIfExists": {"aws:username": "x"}}"#, &c));
}

#[test]
fn numeric_date_bool_ip_binary_arn_null() {
    let c = ctx(&[
        ("s3:max-keys", "10"),
        ("aws:CurrentTime", "2026-11-28T12:00:00Z"),
        ("aws:EpochTime", "1795000000"),
        ("aws:SecureTransport", "true"),
        ("aws:SourceIp", "203.0.113.7"),
        ("test:bytes", "aGVsbG8="),
        ("aws:SourceArn", "arn:aws:sns:us-east-1:111122223333:topic"),
    ]);
    assert!(holds(r#"{"NumericLessThanEquals": {"s3:max-keys": "10"}}"#, &c));
    assert!(!holds(r#"{"NumericLessThan": {"s3:max-keys": 10}}"#, &c));
    assert!(holds(r#"{"NumericNotEquals": {"s3:max-keys": "11"}}"#, &c));
    assert!(holds(r#"{"DateGreaterThan": {"aws:CurrentTime": "2026-01-01"}}"#, &c));
    assert!(holds(r#"{"DateLessThan": {"aws:EpochTime": "2030-01-01T00:00:00Z"}}"#, &c));
    assert!(holds(r#"{"Bool": {"aws:SecureTransport": true}}"#, &c));
    assert!(!holds(r#"{"Bool": {"aws:SecureTransport": "false"}}"#, &c));
    assert!(holds(r#"{"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "203.0.113.0/24"]}}"#, &c));
    assert!(!holds(r#"{"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}"#, &c));
    assert!(holds(r#"{"BinaryEquals": {"test:bytes": "aGVsbG8="}}"#, &c));
    assert!(holds(r#"{"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:111122223333:*"}}"#, &c));
    assert!(!holds(r#"{"ArnEquals": {"aws:SourceArn": "arn:aws:sns:*:444455556666:*"}}"#, &c));
    assert!(holds(r#"{"ArnNotLike": {"aws:SourceArn": "arn:aws:sqs:*"}}"#, &c));
    assert!(holds(r#"{"Null": {"aws:missing": "true", "aws:SourceIp": "false"}}"#, &c));
    assert!(!holds(r#"{"Null": {"aws:SourceIp": "true"}}"#, &c));
    // Several operators and keys: all must hold.
    assert!(!holds(r#"{"Bool": {"aws:SecureTransport": "true"}, "StringEquals": {"aws:missing": "x"}}"#, &c));
}

#[test]
fn set_operators_on_multivalued_keys() {
    let mut c = Context::new();
    c.insert("aws:TagKeys", ContextValue::multi(["team", "env"]));
    c.insert("test:empty", ContextValue::multi([]));
    assert!(holds(r#"{"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env", "cost"]}}"#, &c));
    assert!(!holds(r#"{"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}"#, &c));
    assert!(holds(r#"{"ForAnyValue:StringEquals": {"aws:TagKeys": ["team"]}}"#, &c));
    assert!(!holds(r#"{"ForAnyValue:StringEquals": {"aws:TagKeys": ["cost"]}}"#, &c));
    // Absent or empty: ForAllValues holds, ForAnyValue does not.
    assert!(holds(r#"{"ForAllValues:StringEquals": {"aws:missing": "x"}}"#, &c));
    assert!(holds(r#"{"ForAllValues:StringEquals": {"test:empty": "x"}}"#, &c));
    assert!(!holds(r#"{"ForAnyValue:StringEquals": {"aws:missing": "x"}}"#, &c));
    assert!(!holds(r#"{"ForAnyValue:StringEquals": {"test:empty": "x"}}"#, &c));
    // Negated: each request value against the whole list.
    let mut one = Context::new();
    one.insert("aws:TagKeys", ContextValue::multi(["key1:legal"]));
    assert!(!holds(r#"{"ForAllValues:StringNotLike": {"aws:TagKeys": "key1*"}}"#, &one));
    one.insert("aws:TagKeys", ContextValue::multi(["key2:audit"]));
    assert!(holds(r#"{"ForAllValues:StringNotLike": {"aws:TagKeys": "key1*"}}"#, &one));
    assert!(holds(r#"{"ForAllValues:StringNotLike": {"aws:missing": "key1*"}}"#, &one));
}

#[test]
fn missing_keys_are_reported() {
    let s = statement(
        r#"{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalTag/team": "a", "aws:username": "b"}}}"#,
    );
    let mut missing = Vec::new();
    assert!(!conditions_match(&s.conditions, &ctx(&[("aws:username", "b")]), &mut missing));
    assert_eq!(missing.iter().map(|k| k.as_str()).collect::<Vec<_>>(), ["aws:PrincipalTag/team"]);
}

#[test]
fn variables_under_2008_are_text() {
    let text = r#"{"Version": "2008-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringEquals": {"aws:username": "${aws:username}"}}}}"#;
    let policy = Policy::parse_grammar(text).unwrap();
    let conds = &policy.statements[0].conditions;
    assert!(!conditions_match(conds, &ctx(&[("aws:username", "alice")]), &mut Vec::new()));
    assert!(conditions_match(conds, &ctx(&[("aws:username", "${aws:username}")]), &mut Vec::new()));
}

// Regression (differential test): `${*}` in an `Arn*` condition value was a wildcard, not a
// literal `*` (iam-behaviour.md §1.8).
#[test]
fn arn_condition_escaped_star_is_literal() {
    let arn = |value: &str| ctx(&[("aws:SourceArn", value), ("aws:username", "alice")]);
    let condition = r#"{"ArnEquals": {"aws:SourceArn": "arn:aws:s3:::bucket/${*}"}}"#;
    assert!(!holds(condition, &arn("arn:aws:s3:::bucket/x")));
    assert!(holds(condition, &arn("arn:aws:s3:::bucket/*")));
    let condition = r#"{"ArnLike": {"aws:SourceArn": "arn:aws:s3:::${aws:username}/*"}}"#;
    assert!(holds(condition, &arn("arn:aws:s3:::alice/x")));
    assert!(!holds(condition, &arn("arn:aws:s3:::bob/x")));
}

#[test]
fn principal_facts_fill_the_context_without_overriding_it() {
    let mut alice = crate::Principal::from_arn("arn:aws:iam::111122223333:user/eng/alice", None).unwrap();
    alice.unique_id = Some("AIDAEXAMPLEALICE00001".into());
    alice.tags = vec![("Team".into(), "blue".into()), ("env".into(), "prod".into())];
    let mut c = ctx(&[("aws:PrincipalTag/env", "given")]);
    alice.fill_context(&mut c);
    let get = |k: &str| c.get(k).and_then(|v| v.as_single()).map(str::to_owned);
    assert_eq!(get("aws:username").as_deref(), Some("alice"));
    assert_eq!(get("aws:userid").as_deref(), Some("AIDAEXAMPLEALICE00001"));
    assert_eq!(get("aws:PrincipalArn").as_deref(), Some("arn:aws:iam::111122223333:user/eng/alice"));
    assert_eq!(get("aws:PrincipalAccount").as_deref(), Some("111122223333"));
    assert_eq!(get("aws:PrincipalType").as_deref(), Some("User"));
    assert_eq!(get("aws:principaltag/team").as_deref(), Some("blue"));
    assert_eq!(get("aws:PrincipalTag/env").as_deref(), Some("given"));
    assert_eq!(get("aws:PrincipalIsAWSService").as_deref(), Some("false"));

    let session = crate::Principal::from_arn(
        "arn:aws:sts::111122223333:assumed-role/Data/s1",
        Some("arn:aws:iam::111122223333:role/x/Data"),
    )
    .unwrap();
    let mut c = Context::new();
    session.fill_context(&mut c);
    assert_eq!(c.get("aws:PrincipalArn").and_then(|v| v.as_single()), Some("arn:aws:iam::111122223333:role/x/Data"));
    assert_eq!(c.get("aws:PrincipalType").and_then(|v| v.as_single()), Some("AssumedRole"));
    assert!(c.get("aws:username").is_none());
}

// The explicit-deny message said "in a identity-based policy"; AWS writes "an".
#[test]
fn deny_messages_use_aws_articles() {
    let alice = crate::Principal::from_arn("arn:aws:iam::111122223333:user/alice", None).unwrap();
    let context = Context::new();
    let request = crate::Request {
        principal: &alice,
        action: "s3:GetObject",
        resource: "arn:aws:s3:::b/k",
        resource_account: None,
        context: &context,
    };
    let mut decision = crate::Decision {
        outcome: crate::Outcome::ExplicitDeny,
        matched: Vec::new(),
        denied_by: Some(crate::LayerKind::Identity),
        missing_context_keys: Vec::new(),
    };
    assert!(decision.message(&request).ends_with("with an explicit deny in an identity-based policy"));
    decision.denied_by = Some(crate::LayerKind::Scp);
    assert!(decision.message(&request).ends_with("with an explicit deny in a service control policy"));
    decision.outcome = crate::Outcome::ImplicitDeny;
    assert_eq!(
        decision.message(&request),
        "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: s3:GetObject on resource: \
         arn:aws:s3:::b/k because no service control policy allows the s3:GetObject action"
    );
}
