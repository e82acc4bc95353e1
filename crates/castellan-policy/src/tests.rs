//! Unit tests of the policy language: every element with valid and invalid input, policy
//! variables, the rules of each kind, size and character limits, hostile input, diagnostic
//! positions and ordering, and the canonical printer.
//!
//! The tests are tables: each row is a document (or a fragment of one) and what it must give.
//! `ok` parses a document that must be valid, `err` returns the first error as
//! `(message, detail, line, column)`, `msg` just its message.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use crate::diagnostic::Stage;
use crate::*;

use PolicyKind as K;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A statement body every identity-like kind accepts.
const ALLOW: &str = r#""Effect": "Allow", "Action": "s3:GetObject", "Resource": "*""#;

/// A policy document with `Version` 2012-10-17 and one statement whose members are `body`.
fn doc(body: &str) -> String {
    doc_v(Some(r#""2012-10-17""#), body)
}

/// A policy document with the given `Version` JSON value (or none) and one statement.
fn doc_v(version: Option<&str>, body: &str) -> String {
    match version {
        Some(v) => ["{\"Version\": ", v, ", \"Statement\": {", body, "}}"].concat(),
        None => ["{\"Statement\": {", body, "}}"].concat(),
    }
}

/// An identity policy whose only statement has `condition` as its `Condition`.
fn cond(condition: &str) -> String {
    doc(&[ALLOW, ", \"Condition\": ", condition].concat())
}

/// An identity policy whose only statement has `resource` as its `Resource`.
fn res(resource: &str) -> String {
    doc(&["\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": ", resource].concat())
}

/// An identity policy whose only statement has `action` as its `Action`.
fn act(action: &str) -> String {
    doc(&["\"Effect\": \"Allow\", \"Action\": ", action, ", \"Resource\": \"*\""].concat())
}

/// A resource-based policy whose only statement has `principal` as its `Principal`.
fn princ(principal: &str) -> String {
    doc(&["\"Effect\": \"Allow\", \"Principal\": ", principal, ", \"Action\": \"s3:GetObject\", \"Resource\": \"*\""]
        .concat())
}

/// A statement body that `kind` accepts.
fn minimal_body(kind: PolicyKind) -> &'static str {
    match kind {
        K::Resource => {
            r#""Effect": "Allow", "Principal": {"AWS": "123456789012"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*""#
        }
        K::Trust => r#""Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole""#,
        K::Rcp => r#""Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*""#,
        K::Identity | K::PermissionsBoundary | K::Session | K::Scp => ALLOW,
    }
}

fn describe(checked: &Checked) -> String {
    checked.diagnostics.iter().map(|d| format!("  {:?} {d}\n", d.severity)).collect()
}

/// Parses `text` as `kind`; the test fails if it has an error.
#[track_caller]
fn ok(kind: PolicyKind, text: &str) -> Policy {
    let checked = check(text, kind);
    match checked.policy {
        Some(ref policy) => {
            assert_eq!(checked.errors().count(), 0, "{text}");
            policy.clone()
        }
        None => panic!("a {kind} policy should be valid:\n{text}\n{}", describe(&checked)),
    }
}

/// Parses `text` with the shared grammar only; the test fails if it has an error.
#[track_caller]
fn ok_grammar(text: &str) -> Policy {
    let checked = check_grammar(text);
    match checked.policy {
        Some(policy) => policy,
        None => panic!("the grammar should accept:\n{text}\n{}", describe(&checked)),
    }
}

#[track_caller]
fn first_error(checked: &Checked, what: &str, text: &str) -> Diagnostic {
    assert!(checked.policy.is_none(), "{what}: a document with errors has no policy: {text}");
    checked.errors().next().cloned().unwrap_or_else(|| panic!("{what} should reject:\n{text}"))
}

/// The first error `kind` reports: AWS message, detail, line and column.
#[track_caller]
fn err(kind: PolicyKind, text: &str) -> (String, String, u32, u32) {
    let d = first_error(&check(text, kind), kind.as_str(), text);
    (d.message, d.detail, d.position.line, d.position.column)
}

/// The AWS message of the first error `kind` reports.
#[track_caller]
fn msg(kind: PolicyKind, text: &str) -> String {
    err(kind, text).0
}

/// The AWS message of the first error of the shared grammar.
#[track_caller]
fn grammar_msg(text: &str) -> String {
    first_error(&check_grammar(text), "the grammar", text).message
}

/// Every error `kind` reports, in order.
fn errors(kind: PolicyKind, text: &str) -> Vec<Diagnostic> {
    check(text, kind).errors().cloned().collect()
}

/// The details of the warnings `kind` reports.
fn warnings(kind: PolicyKind, text: &str) -> Vec<String> {
    check(text, kind).warnings().map(|d| d.detail.clone()).collect()
}

fn only_statement(policy: &Policy) -> &Statement {
    assert_eq!(policy.statements.len(), 1);
    &policy.statements[0]
}

fn arn_pattern(pattern: &ResourcePattern) -> &ArnPattern {
    match pattern {
        ResourcePattern::Arn(a) => a,
        ResourcePattern::Any => panic!("expected an ARN pattern"),
    }
}

fn var(key: &str, default: Option<&str>) -> Segment {
    Segment::Variable(Variable { key: ConditionKey::new(key), default: default.map(Into::into) })
}

fn text(t: &str) -> Segment {
    Segment::Text(t.into())
}

// ---------------------------------------------------------------------------------------------
// Version, Id, Statement
// ---------------------------------------------------------------------------------------------

#[test]
fn version_values() {
    let p = ok(K::Identity, &doc(ALLOW));
    assert_eq!(p.version, Some(Version::V2012_10_17));
    assert_eq!(p.effective_version(), Version::V2012_10_17);

    let p = ok(K::Scp, &doc_v(Some(r#""2008-10-17""#), ALLOW));
    assert_eq!(p.version, Some(Version::V2008_10_17));

    let p = ok(K::Scp, &doc_v(None, ALLOW));
    assert_eq!(p.version, None);
    assert_eq!(p.effective_version(), Version::V2008_10_17, "no Version is read as 2008-10-17");

    assert!(Version::V2012_10_17.has_variables());
    assert!(!Version::V2008_10_17.has_variables());
    assert_eq!(Version::V2008_10_17.as_str(), "2008-10-17");
}

#[test]
fn bad_version_values_are_syntax_errors_for_every_kind() {
    for bad in [r#""2013-10-17""#, r#""2012-10-17 ""#, r#""""#, "2012", "null", "true", r#"["2012-10-17"]"#, "{}"] {
        let text = doc_v(Some(bad), ALLOW);
        assert_eq!(grammar_msg(&text), messages::SYNTAX, "{bad}");
        for kind in PolicyKind::ALL {
            let (message, detail, line, column) = err(kind, &text);
            assert_eq!(message, messages::SYNTAX, "{kind} {bad}");
            assert!(detail.contains("`Version` must be"), "{detail}");
            assert_eq!((line, column), (1, 13), "{kind} {bad}: the position of the value");
        }
    }
}

#[test]
fn version_rule_of_each_kind() {
    let requires: Vec<PolicyKind> = PolicyKind::ALL.into_iter().filter(|k| k.requires_current_version()).collect();
    assert_eq!(requires, [K::Identity, K::PermissionsBoundary, K::Rcp]);
    for kind in PolicyKind::ALL {
        let body = minimal_body(kind);
        ok(kind, &doc(body));
        for version in [Some(r#""2008-10-17""#), None] {
            let text = doc_v(version, body);
            if kind.requires_current_version() {
                let (message, detail, line, column) = err(kind, &text);
                assert_eq!(message, messages::VERSION, "{kind} {version:?}");
                assert!(detail.contains("2012-10-17"), "{detail}");
                // At the version's value, or at the document's start when there is none.
                let expected = if version.is_some() { (1, 13) } else { (1, 1) };
                assert_eq!((line, column), expected, "{kind} {version:?}");
            } else {
                ok(kind, &text);
            }
        }
    }
}

#[test]
fn id() {
    let text = r#"{"Version": "2012-10-17", "Id": "cd3a324d-2343-d942", "Statement": {BODY}}"#;
    let p = ok(K::Resource, &text.replace("BODY", minimal_body(K::Resource)));
    assert_eq!(p.id.as_deref(), Some("cd3a324d-2343-d942"));
    let p = ok(K::Identity, &doc(ALLOW));
    assert_eq!(p.id, None);
    let p = ok_grammar(r#"{"Id": "a\"b\u00e9", "Statement": {"Effect": "Deny", "Action": "*"}}"#);
    assert_eq!(p.id.as_deref(), Some("a\"b\u{e9}"));

    for bad in [r#"["x"]"#, "{}", "5", "null", "false"] {
        let text = [r#"{"Version": "2012-10-17", "Id": "#, bad, r#", "Statement": {"#, ALLOW, "}}"].concat();
        let (message, detail, _, _) = err(K::Identity, &text);
        assert_eq!(message, messages::SYNTAX, "{bad}");
        assert!(detail.contains("`Id` must be a string"), "{detail}");
    }
}

#[test]
fn statement_forms() {
    let one = ok(K::Identity, &doc(ALLOW));
    assert_eq!(one.statements.len(), 1);

    let array =
        [r#"{"Version": "2012-10-17", "Statement": [{"#, ALLOW, "}, {", ALLOW, r#", "Effect": "Deny"}]}"#].concat();
    // A duplicate key is an error even when the statements are otherwise fine.
    assert_eq!(msg(K::Identity, &array), messages::SYNTAX);
    let array = [
        r#"{"Version": "2012-10-17", "Statement": [{"#,
        ALLOW,
        r#"}, {"Effect": "Deny", "Action": "*", "Resource": "*"}]}"#,
    ]
    .concat();
    let two = ok(K::Identity, &array);
    assert_eq!(two.statements.len(), 2);
    assert_eq!(two.statements[0].effect, Effect::Allow);
    assert_eq!(two.statements[1].effect, Effect::Deny);

    // A single statement and a one-element array mean the same.
    let as_array = [r#"{"Version": "2012-10-17", "Statement": [{"#, ALLOW, "}]}"].concat();
    assert_eq!(ok(K::Identity, &as_array), one);

    for (text, detail) in [
        (r#"{"Version": "2012-10-17", "Statement": []}"#, "empty array"),
        (r#"{"Version": "2012-10-17"}"#, "no `Statement`"),
        (r#"{"Version": "2012-10-17", "Statement": "x"}"#, "object or an array"),
        (r#"{"Version": "2012-10-17", "Statement": null}"#, "object or an array"),
        (r#"{"Version": "2012-10-17", "Statement": ["afd"]}"#, "a statement must be a JSON object"),
        (r#"{"Version": "2012-10-17", "Statement": [[]]}"#, "a statement must be a JSON object"),
        (r#"{"Version": "2012-10-17", "Statement": {}}"#, "must have an `Effect`"),
        (r#"{"Version": "2012-10-17", "statement": {}}"#, "unknown element `statement`"),
        (r#"{"Version": "2012-10-17", "Extra": 1, "Statement": {BODY}}"#, "unknown element `Extra`"),
        (r#"{"Version": "2012-10-17", "Statement": {BODY, "Extra": 1}}"#, "unknown element `Extra` in a statement"),
    ] {
        let text = text.replace("BODY", ALLOW);
        for kind in PolicyKind::ALL {
            assert_eq!(msg(kind, &text), messages::SYNTAX, "{kind}: {text}");
            let all = errors(kind, &text);
            assert!(all.iter().any(|d| d.detail.contains(detail)), "{kind}: {all:?}");
        }
        assert_eq!(grammar_msg(&text), messages::SYNTAX);
    }
}

#[test]
fn statement_spans_count_characters_across_lines() {
    let text = "{\"Statement\": [\r\n  {\"Sid\": \"\u{e9}\u{1f600}\", \"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"*\", \"Resource\": \"*\"},\r\n {\"Effect\": \"Deny\", \"Principal\": \"*\",\n\"Action\": \"*\", \"Resource\": \"*\"}, {\"Effect\": \"Deny\", \"Principal\": \"*\", \"Action\": \"*\", \"Resource\": \"*\"}]}";
    let p = ok(K::Resource, text);
    let spans: Vec<(u32, u32, u32, u32)> = p
        .statements
        .iter()
        .map(|s| {
            let (a, b) = s.span.unwrap();
            assert_eq!(text.as_bytes()[a.offset], b'{');
            assert_eq!(text.as_bytes()[b.offset - 1], b'}');
            (a.line, a.column, b.line, b.column)
        })
        .collect();
    assert_eq!(spans, [(2, 3, 2, 85), (3, 2, 4, 32), (4, 34, 4, 102)]);
}

#[test]
fn statement_span() {
    let text = "{\"Version\": \"2012-10-17\",\n \"Statement\": [\n  {\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\"}\n ]}";
    let p = ok(K::Identity, text);
    let (start, end) = p.statements[0].span.unwrap();
    assert_eq!((start.line, start.column), (3, 3));
    assert_eq!(&text[start.offset..end.offset], r#"{"Effect": "Allow", "Action": "*", "Resource": "*"}"#);
    assert_eq!((end.line, end.column), (3, 54));
}

// ---------------------------------------------------------------------------------------------
// Sid
// ---------------------------------------------------------------------------------------------

#[test]
fn sid() {
    let p = ok(K::Identity, &doc(&[r#""Sid": "AllowRead1", "#, ALLOW].concat()));
    assert_eq!(only_statement(&p).sid.as_deref(), Some("AllowRead1"));
    assert_eq!(only_statement(&ok(K::Identity, &doc(ALLOW))).sid, None);

    for bad in ["{}", "[]", "5", "true", "null"] {
        let text = doc(&[r#""Sid": "#, bad, ", ", ALLOW].concat());
        let (message, detail, _, _) = err(K::Identity, &text);
        assert_eq!(message, messages::SYNTAX, "{bad}");
        assert!(detail.contains("`Sid` must be a string"), "{detail}");
    }
}

#[test]
fn sids_must_be_unique_but_empty_ones_may_repeat() {
    let two = |a: &str, b: &str| {
        [r#"{"Version": "2012-10-17", "Statement": [{"Sid": "#, a, ", ", ALLOW, r#"}, {"Sid": "#, b, ", ", ALLOW, "}]}"]
            .concat()
    };
    let text = two(r#""sdf""#, r#""sdf""#);
    let (message, detail, line, column) = err(K::Identity, &text);
    assert_eq!(message, messages::SID_UNIQUE);
    assert!(detail.contains("`sdf`"), "{detail}");
    // Reported at the second use.
    assert_eq!((line, column), (1, text.rfind("\"sdf\"").unwrap() as u32 + 1));
    assert_eq!(grammar_msg(&text), messages::SID_UNIQUE);

    ok(K::Identity, &two(r#""""#, r#""""#));
    ok(K::Identity, &two(r#""a""#, r#""b""#));
    ok(K::Identity, &two(r#""a""#, r#""""#));

    // The second statement being broken does not hide the duplicate Sid.
    let text = [
        r#"{"Version": "2012-10-17", "Statement": [{"Sid": "sdf", "#,
        ALLOW,
        r#"}, {"Sid": "sdf", "Effect": "Allow"}]}"#,
    ]
    .concat();
    let messages: Vec<String> = errors(K::Identity, &text).into_iter().map(|d| d.message).collect();
    assert_eq!(messages, [messages::SID_UNIQUE, messages::NO_ACTIONS, messages::NO_RESOURCES]);
}

#[test]
fn sid_characters_only_advise_in_iam_kinds() {
    let text = doc(&[r#""Sid": "read_only-1", "#, ALLOW].concat());
    for kind in [K::Identity, K::PermissionsBoundary, K::Session] {
        ok(kind, &text);
        let w = warnings(kind, &text);
        assert_eq!(w.len(), 1, "{kind}: {w:?}");
        assert!(w[0].contains("letters and digits"), "{w:?}");
    }
    ok(K::Scp, &text);
    assert!(warnings(K::Scp, &text).is_empty());
    assert!(warnings(K::Identity, &doc(&[r#""Sid": "Read1", "#, ALLOW].concat())).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Effect
// ---------------------------------------------------------------------------------------------

#[test]
fn effect() {
    let body =
        |effect: &str| doc(&[r#""Effect": "#, effect, r#", "Action": "s3:GetObject", "Resource": "*""#].concat());
    assert_eq!(only_statement(&ok(K::Identity, &body(r#""Allow""#))).effect, Effect::Allow);
    assert_eq!(only_statement(&ok(K::Identity, &body(r#""Deny""#))).effect, Effect::Deny);
    assert_eq!(Effect::Allow.as_str(), "Allow");
    assert_eq!(Effect::Deny.as_str(), "Deny");

    for (effect, message) in [
        (r#""allow""#, messages::LEGACY),
        (r#""ALLOW""#, messages::LEGACY),
        (r#""aLLow""#, messages::LEGACY),
        (r#""denY""#, messages::LEGACY),
        (r#""deny""#, messages::LEGACY),
        (r#""Permit""#, messages::SYNTAX),
        (r#""invalid""#, messages::SYNTAX),
        (r#""""#, messages::SYNTAX),
        (r#"" Allow""#, messages::SYNTAX),
        ("true", messages::SYNTAX),
        (r#"["Allow"]"#, messages::SYNTAX),
        ("null", messages::SYNTAX),
    ] {
        let text = body(effect);
        let (got, _, line, column) = err(K::Identity, &text);
        assert_eq!(got, message, "{effect}");
        assert_eq!((line, column), (1, 51), "{effect}: at the value");
        assert_eq!(grammar_msg(&text), message, "{effect}");
    }

    let (message, detail, _, _) = err(K::Identity, &doc(r#""Action": "s3:GetObject", "Resource": "*""#));
    assert_eq!(message, messages::SYNTAX);
    assert!(detail.contains("must have an `Effect`"));
}

// ---------------------------------------------------------------------------------------------
// Principal and NotPrincipal
// ---------------------------------------------------------------------------------------------

fn principal_of(policy: &Policy) -> &PrincipalClause {
    only_statement(policy).principal.as_ref().expect("a principal")
}

/// The (type, value, id) triples of a principal element.
fn principal_values(principal: &Principal) -> Vec<(PrincipalKind, String, PrincipalId)> {
    match principal {
        Principal::Everyone => Vec::new(),
        Principal::Named(entries) => entries
            .iter()
            .flat_map(|e| e.values.iter().map(move |v| (e.kind, v.as_str().to_owned(), v.id().clone())))
            .collect(),
    }
}

#[test]
fn principal_everyone() {
    let p = ok(K::Resource, &princ(r#""*""#));
    assert_eq!(principal_of(&p), &PrincipalClause::Principal(Principal::Everyone));
    let p = ok(K::Resource, &princ(r#"{"AWS": "*"}"#));
    let PrincipalClause::Principal(principal) = principal_of(&p) else { panic!() };
    assert_eq!(principal_values(principal), [(PrincipalKind::Aws, "*".to_owned(), PrincipalId::Any)]);
}

#[test]
fn principal_forms() {
    use PrincipalId as I;
    use PrincipalKind as P;
    let account = || I::Account(AccountId::parse("123456789012").unwrap());
    let arn = |s: &str| I::Arn(Arn::parse(s).unwrap());
    let root = |s: &str| I::AccountRoot(Arn::parse(s).unwrap());
    let canonical = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be";
    let cases: Vec<(P, &str, PrincipalId)> = vec![
        (P::Aws, "123456789012", account()),
        (P::Aws, "arn:aws:iam::123456789012:root", root("arn:aws:iam::123456789012:root")),
        (P::Aws, "arn:aws-cn:iam::123456789012:root", root("arn:aws-cn:iam::123456789012:root")),
        (P::Aws, "arn:aws:iam::123456789012:user/alice", arn("arn:aws:iam::123456789012:user/alice")),
        (
            P::Aws,
            "arn:aws:iam::123456789012:user/division_abc/subdivision_xyz/JaneDoe",
            arn("arn:aws:iam::123456789012:user/division_abc/subdivision_xyz/JaneDoe"),
        ),
        (P::Aws, "arn:aws:iam::123456789012:role/admin", arn("arn:aws:iam::123456789012:role/admin")),
        (
            P::Aws,
            "arn:aws-us-gov:iam::123456789012:role/service-role/build",
            arn("arn:aws-us-gov:iam::123456789012:role/service-role/build"),
        ),
        (
            P::Aws,
            "arn:aws:sts::123456789012:assumed-role/admin/session-1",
            arn("arn:aws:sts::123456789012:assumed-role/admin/session-1"),
        ),
        (P::Aws, "arn:aws:sts::123456789012:federated-user/bob", arn("arn:aws:sts::123456789012:federated-user/bob")),
        (P::Aws, "AIDAJQABLZS4A3QDU576Q", I::UniqueId("AIDAJQABLZS4A3QDU576Q".into())),
        (P::Aws, "AROADBQP57FF2AEXAMPLE", I::UniqueId("AROADBQP57FF2AEXAMPLE".into())),
        (P::Aws, "*", I::Any),
        (P::Service, "ec2.amazonaws.com", I::Service("ec2.amazonaws.com".into())),
        (P::Service, "elasticloadbalancing.amazonaws.com", I::Service("elasticloadbalancing.amazonaws.com".into())),
        (P::Federated, "cognito-identity.amazonaws.com", I::Federated("cognito-identity.amazonaws.com".into())),
        (P::Federated, "www.amazon.com", I::Federated("www.amazon.com".into())),
        (P::Federated, "graph.facebook.com", I::Federated("graph.facebook.com".into())),
        (P::Federated, "accounts.google.com", I::Federated("accounts.google.com".into())),
        (
            P::Federated,
            "arn:aws:iam::123456789012:saml-provider/ExampleProvider",
            I::Federated("arn:aws:iam::123456789012:saml-provider/ExampleProvider".into()),
        ),
        (
            P::Federated,
            "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE",
            I::Federated("arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE".into()),
        ),
        (P::CanonicalUser, canonical, I::CanonicalUser(canonical.into())),
    ];
    for (kind, value, id) in &cases {
        let expected = vec![(*kind, (*value).to_owned(), id.clone())];
        // One value, as a string and as a one-element array.
        for json in
            [format!(r#"{{"{}": "{value}"}}"#, kind.as_str()), format!(r#"{{"{}": ["{value}"]}}"#, kind.as_str())]
        {
            let p = ok(K::Resource, &princ(&json));
            let PrincipalClause::Principal(principal) = principal_of(&p) else { panic!() };
            assert_eq!(principal_values(principal), expected, "{json}");
        }
    }
    // Every form at once, several values per type.
    let mut object = String::from("{");
    for (i, kind) in [P::Aws, P::Service, P::Federated, P::CanonicalUser].into_iter().enumerate() {
        let values: Vec<String> = cases.iter().filter(|c| c.0 == kind).map(|c| format!("\"{}\"", c.1)).collect();
        if i > 0 {
            object.push_str(", ");
        }
        object.push_str(&format!("\"{}\": [{}]", kind.as_str(), values.join(", ")));
    }
    object.push('}');
    let p = ok(K::Resource, &princ(&object));
    let PrincipalClause::Principal(principal) = principal_of(&p) else { panic!() };
    let expected: Vec<_> = cases.iter().map(|(k, v, id)| (*k, (*v).to_owned(), id.clone())).collect();
    assert_eq!(principal_values(principal), expected);
    assert_eq!(PrincipalKind::parse("AWS"), Some(P::Aws));
    assert_eq!(PrincipalKind::parse("aws"), None);
}

#[test]
fn invalid_principal_values() {
    for (json, kind, value) in [
        (r#"{"AWS": "arn:aws:iam::123456789012:user/*"}"#, "AWS", "arn:aws:iam::123456789012:user/*"),
        (r#"{"AWS": "arn:aws:iam::123456789012:user/a?"}"#, "AWS", "arn:aws:iam::123456789012:user/a?"),
        (r#"{"AWS": "arn:aws:iam::123456789012:*"}"#, "AWS", "arn:aws:iam::123456789012:*"),
        (r#"{"AWS": "arn:aws:iam::*:root"}"#, "AWS", "arn:aws:iam::*:root"),
        (r#"{"AWS": "arn:*:iam::123456789012:root"}"#, "AWS", "arn:*:iam::123456789012:root"),
        (r#"{"AWS": "123456789*"}"#, "AWS", "123456789*"),
        (r#"{"AWS": "a*"}"#, "AWS", "a*"),
        (r#"{"AWS": "12345678901"}"#, "AWS", "12345678901"),
        (r#"{"AWS": "1234567890123"}"#, "AWS", "1234567890123"),
        (r#"{"AWS": "arn:aws:iam::12345678901x:root"}"#, "AWS", "arn:aws:iam::12345678901x:root"),
        (r#"{"AWS": "arn:foo:iam::123456789012:root"}"#, "AWS", "arn:foo:iam::123456789012:root"),
        (r#"{"AWS": "arn:aws:iam::123456789012:group/admins"}"#, "AWS", "arn:aws:iam::123456789012:group/admins"),
        (r#"{"AWS": "arn:aws:iam::123456789012:user/"}"#, "AWS", "arn:aws:iam::123456789012:user/"),
        (r#"{"AWS": "arn:aws:iam::123456789012:role/a/"}"#, "AWS", "arn:aws:iam::123456789012:role/a/"),
        (r#"{"AWS": "arn:aws:s3:::bucket"}"#, "AWS", "arn:aws:s3:::bucket"),
        (
            r#"{"AWS": "arn:aws:sts::123456789012:assumed-role/admin"}"#,
            "AWS",
            "arn:aws:sts::123456789012:assumed-role/admin",
        ),
        (
            r#"{"AWS": "arn:aws:sts::123456789012:assumed-role/admin/*"}"#,
            "AWS",
            "arn:aws:sts::123456789012:assumed-role/admin/*",
        ),
        (r#"{"AWS": "arn:aws:sts::123456789012:role/admin"}"#, "AWS", "arn:aws:sts::123456789012:role/admin"),
        (r#"{"AWS": "arn:aws:iam::123456789012"}"#, "AWS", "arn:aws:iam::123456789012"),
        (r#"{"AWS": "AKIAIOSFODNN7EXAMPLE"}"#, "AWS", "AKIAIOSFODNN7EXAMPLE"),
        (r#"{"AWS": "AIDA123"}"#, "AWS", "AIDA123"),
        (r#"{"AWS": "aidajqablzs4a3qdu576q"}"#, "AWS", "aidajqablzs4a3qdu576q"),
        (r#"{"AWS": ""}"#, "AWS", ""),
        (r#"{"AWS": ["123456789012", "alice"]}"#, "AWS", "alice"),
        (r#"{"Service": "ec2"}"#, "Service", "ec2"),
        (r#"{"Service": "*.amazonaws.com"}"#, "Service", "*.amazonaws.com"),
        (r#"{"Service": "ec2.amazonaws.com/"}"#, "Service", "ec2.amazonaws.com/"),
        (r#"{"Service": "ec2..amazonaws.com"}"#, "Service", "ec2..amazonaws.com"),
        (r#"{"Service": "arn:aws:iam::123456789012:root"}"#, "Service", "arn:aws:iam::123456789012:root"),
        (r#"{"Federated": "arn:aws:iam::123456789012:role/x"}"#, "Federated", "arn:aws:iam::123456789012:role/x"),
        (
            r#"{"Federated": "arn:aws:iam::123456789012:saml-provider/"}"#,
            "Federated",
            "arn:aws:iam::123456789012:saml-provider/",
        ),
        (
            r#"{"Federated": "arn:aws:sts::123456789012:saml-provider/x"}"#,
            "Federated",
            "arn:aws:sts::123456789012:saml-provider/x",
        ),
        (r#"{"Federated": "google"}"#, "Federated", "google"),
        (
            r#"{"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2b"}"#,
            "CanonicalUser",
            "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2b",
        ),
        (
            r#"{"CanonicalUser": "g9a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}"#,
            "CanonicalUser",
            "g9a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be",
        ),
        (r#"{"CanonicalUser": "123456789012"}"#, "CanonicalUser", "123456789012"),
        (r#"{"AWS": []}"#, "AWS", ""),
        (r#"{"Foo": "x"}"#, "Foo", ""),
        (r#"{"aws": "*"}"#, "aws", ""),
    ] {
        let text = princ(json);
        let expected = messages::invalid_principal(kind, value);
        assert_eq!(msg(K::Resource, &text), expected, "{json}");
        assert_eq!(grammar_msg(&text), expected, "{json}");
        // The same values are as wrong in NotPrincipal.
        let not = text.replace("\"Principal\"", "\"NotPrincipal\"").replace("\"Allow\"", "\"Deny\"");
        assert_eq!(msg(K::Resource, &not), expected, "NotPrincipal {json}");
    }
}

#[test]
fn malformed_principal_elements_are_syntax_errors() {
    for json in [
        "{}",
        r#""Everyone""#,
        r#""**""#,
        r#""""#,
        "5",
        "null",
        "true",
        r#"["*"]"#,
        r#"{"AWS": 5}"#,
        r#"{"AWS": [5]}"#,
        r#"{"AWS": [null]}"#,
        r#"{"AWS": {"x": "123456789012"}}"#,
        r#"{"AWS": "*", "AWS": "123456789012"}"#,
    ] {
        let text = princ(json);
        assert_eq!(msg(K::Resource, &text), messages::SYNTAX, "{json}");
        assert_eq!(grammar_msg(&text), messages::SYNTAX, "{json}");
    }
    // Both elements at once.
    let text = doc(r#""Effect": "Deny", "Principal": "*", "NotPrincipal": "*", "Action": "*", "Resource": "*""#);
    let (message, detail, _, _) = err(K::Resource, &text);
    assert_eq!(message, messages::SYNTAX);
    assert!(detail.contains("both `Principal` and `NotPrincipal`"), "{detail}");
}

#[test]
fn not_principal() {
    let text = doc(
        r#""Effect": "Deny", "NotPrincipal": {"AWS": ["arn:aws:iam::123456789012:user/alice", "123456789012"]}, "Action": "*", "Resource": "*""#,
    );
    let p = ok(K::Resource, &text);
    let PrincipalClause::NotPrincipal(principal) = principal_of(&p) else { panic!("NotPrincipal") };
    assert_eq!(principal_values(principal).len(), 2);
    assert!(warnings(K::Resource, &text).is_empty());

    // With Allow it is accepted, but advised against.
    let allow = text.replace("\"Deny\"", "\"Allow\"");
    ok(K::Resource, &allow);
    let w = warnings(K::Resource, &allow);
    assert_eq!(w.len(), 1);
    assert!(w[0].contains("`NotPrincipal` with `Allow`"), "{w:?}");
}

// ---------------------------------------------------------------------------------------------
// Action and NotAction
// ---------------------------------------------------------------------------------------------

#[test]
fn actions() {
    for (json, expected) in [
        (r#""*""#, vec!["*"]),
        (r#""s3:GetObject""#, vec!["s3:GetObject"]),
        (r#""s3:Get*""#, vec!["s3:Get*"]),
        (r#""iam:*AccessKey*""#, vec!["iam:*AccessKey*"]),
        (r#""ec2:Describe?nstances""#, vec!["ec2:Describe?nstances"]),
        (r#""aws-portal:ViewBilling""#, vec!["aws-portal:ViewBilling"]),
        (r#""s3:*""#, vec!["s3:*"]),
        (r#"["s3:GetObject", "s3:PutObject", "*"]"#, vec!["s3:GetObject", "s3:PutObject", "*"]),
    ] {
        let p = ok(K::Identity, &act(json));
        let ActionClause::Action(patterns) = &only_statement(&p).action else { panic!("Action") };
        let got: Vec<&str> = patterns.iter().map(ActionPattern::as_str).collect();
        assert_eq!(got, expected, "{json}");

        let not = act(json).replace("\"Action\"", "\"NotAction\"");
        let p = ok(K::Identity, &not);
        assert!(matches!(only_statement(&p).action, ActionClause::NotAction(_)), "{json}");
        assert_eq!(only_statement(&p).action.patterns().len(), expected.len());
    }

    let p = ok(K::Identity, &act(r#""IAM:List*""#));
    let pattern = &only_statement(&p).action.patterns()[0];
    assert_eq!(pattern.service_prefix(), Some("IAM"));
    assert_eq!(pattern.name(), Some("List*"));
    assert!(!pattern.is_any());
    assert!(ActionPattern::any().is_any());
    assert_eq!(ActionPattern::any().service_prefix(), None);
    assert_eq!(ActionPattern::any().name(), None);
}

#[test]
fn action_matching_ignores_case() {
    for (pattern, action, expected) in [
        ("iam:ListAccessKeys", "iam:ListAccessKeys", true),
        ("iam:ListAccessKeys", "IAM:listaccesskeys", true),
        ("IAM:listaccesskeys", "iam:ListAccessKeys", true),
        ("s3:Get*", "S3:GETOBJECT", true),
        ("s3:Get*", "s3:GetObjectAcl", true),
        ("s3:Get*", "s3:PutObject", false),
        ("s3:Get*", "s3x:GetObject", false),
        ("iam:*AccessKey*", "iam:CreateAccessKey", true),
        ("iam:*AccessKey*", "iam:ListAccessKeys", true),
        ("iam:*AccessKey*", "iam:ListUsers", false),
        ("ec2:Describe?nstances", "ec2:DescribeInstances", true),
        ("ec2:Describe?nstances", "ec2:DescribeXXnstances", false),
        ("s3:*", "s3:anything", true),
        ("s3:*", "sqs:SendMessage", false),
        ("*", "sqs:SendMessage", true),
        ("s3:GetObject", "s3:GetObjectAcl", false),
    ] {
        let p = ok(K::Identity, &act(&format!("\"{pattern}\"")));
        let got = only_statement(&p).action.patterns()[0].matches(action);
        assert_eq!(got, expected, "{pattern} ~ {action}");
    }
}

#[test]
fn action_errors() {
    for (json, message, detail) in [
        (r#""invalid""#, messages::NO_VENDOR.to_owned(), "no `service:` prefix"),
        (r#""""#, messages::NO_VENDOR.to_owned(), "no `service:` prefix"),
        (r#"["s3:GetObject", "GetObject"]"#, messages::NO_VENDOR.to_owned(), "`GetObject`"),
        (r#""s3:List:Bucket""#, messages::ONE_COLON.to_owned(), "more than one `:`"),
        (r#""s:3s:ListBucket""#, messages::ONE_COLON.to_owned(), "more than one `:`"),
        (r#""a a:ListBucket""#, messages::bad_vendor("a a"), "service prefix"),
        (r#"":ListBucket""#, messages::bad_vendor(""), "service prefix"),
        (r#""s*:GetObject""#, messages::bad_vendor("s*"), "service prefix"),
        (r#""*:GetObject""#, messages::bad_vendor("*"), "service prefix"),
        (r#""s3/x:GetObject""#, messages::bad_vendor("s3/x"), "service prefix"),
        ("[]", messages::NO_ACTIONS.to_owned(), "`Action` is empty"),
        ("{}", messages::SYNTAX.to_owned(), "must be a string or an array"),
        ("[[]]", messages::SYNTAX.to_owned(), "entries must be strings"),
        ("[5]", messages::SYNTAX.to_owned(), "entries must be strings"),
        ("[null]", messages::SYNTAX.to_owned(), "entries must be strings"),
        ("null", messages::SYNTAX.to_owned(), "must be a string or an array"),
        ("5", messages::SYNTAX.to_owned(), "must be a string or an array"),
    ] {
        let text = act(json);
        let (got, got_detail, _, _) = err(K::Identity, &text);
        assert_eq!(got, message, "{json}");
        assert!(got_detail.contains(detail), "{json}: {got_detail}");
        assert_eq!(grammar_msg(&text), message, "{json}");
        let not = text.replace("\"Action\"", "\"NotAction\"");
        assert_eq!(msg(K::Identity, &not), message, "NotAction {json}");
    }

    let (message, detail, _, _) = err(K::Identity, &doc(r#""Effect": "Allow", "Resource": "*""#));
    assert_eq!(message, messages::NO_ACTIONS);
    assert!(detail.contains("no `Action` or `NotAction`"));

    let text = doc(r#""Effect": "Allow", "NotAction": "s3:ListBucket", "Action": "iam:dsf", "Resource": "*""#);
    let (message, detail, _, _) = err(K::Identity, &text);
    assert_eq!(message, messages::SYNTAX);
    assert!(detail.contains("both `NotAction` and `Action`"), "{detail}");
}

#[test]
fn every_bad_action_of_a_list_is_reported() {
    let text = act(r#"["invalid", "s3:GetObject", "s3:a:b", "x y:z"]"#);
    let got: Vec<String> = errors(K::Identity, &text).into_iter().map(|d| d.message).collect();
    assert_eq!(got, [messages::NO_VENDOR.to_owned(), messages::ONE_COLON.to_owned(), messages::bad_vendor("x y")]);
}

// ---------------------------------------------------------------------------------------------
// Resource and NotResource
// ---------------------------------------------------------------------------------------------

#[test]
fn resources() {
    // (entry, partition, service, region, account, resource part)
    for (entry, parts) in [
        ("arn:aws:s3:::bucket/*", ["aws", "s3", "", "", "bucket/*"]),
        ("arn:aws:s3:::bucket/key:with:colons", ["aws", "s3", "", "", "bucket/key:with:colons"]),
        ("arn:*:s3:::bucket", ["*", "s3", "", "", "bucket"]),
        ("arn:aws-cn:s3:::bucket", ["aws-cn", "s3", "", "", "bucket"]),
        (
            "arn:aws-us-gov:sqs:us-gov-west-1:123456789012:queue",
            ["aws-us-gov", "sqs", "us-gov-west-1", "123456789012", "queue"],
        ),
        ("arn:aws:ec2:*:*:instance/*", ["aws", "ec2", "*", "*", "instance/*"]),
        (
            "arn:aws:ec2:us-east-?:123456789012:instance/i-*",
            ["aws", "ec2", "us-east-?", "123456789012", "instance/i-*"],
        ),
        (
            "arn:aws:s3:us-east-1:123456789012:accesspoint/ap",
            ["aws", "s3", "us-east-1", "123456789012", "accesspoint/ap"],
        ),
        ("arn:aws:iam::123456789012:user/*", ["aws", "iam", "", "123456789012", "user/*"]),
        ("arn:aws:iam::123456789012:user/division_abc*", ["aws", "iam", "", "123456789012", "user/division_abc*"]),
        ("arn:aws:iam::*:role/admin", ["aws", "iam", "", "*", "role/admin"]),
        ("arn:aws:iam:*:123456789012:group/g", ["aws", "iam", "*", "123456789012", "group/g"]),
        ("arn:aws:iam::123456789012:root", ["aws", "iam", "", "123456789012", "root"]),
        ("arn:aws:iam::123456789012:*", ["aws", "iam", "", "123456789012", "*"]),
        ("arn:aws:iam::aws:policy/ReadOnlyAccess", ["aws", "iam", "", "aws", "policy/ReadOnlyAccess"]),
        ("arn:aws:iam::123456789012:oidc-provider/x", ["aws", "iam", "", "123456789012", "oidc-provider/x"]),
        (
            "arn:aws:dynamodb:us-east-1:123456789012:table/T",
            ["aws", "dynamodb", "us-east-1", "123456789012", "table/T"],
        ),
        ("arn:aws:sts::123456789012:assumed-role/r/*", ["aws", "sts", "", "123456789012", "assumed-role/r/*"]),
    ] {
        let p = ok(K::Identity, &res(&format!("\"{entry}\"")));
        let clause = only_statement(&p).resource.as_ref().unwrap();
        assert!(matches!(clause, ResourceClause::Resource(_)));
        let pattern = &clause.patterns()[0];
        assert_eq!(pattern.as_str(), entry);
        let a = arn_pattern(pattern);
        assert_eq!([a.partition(), a.service(), a.region(), a.account()], parts[..4], "{entry}");
        assert_eq!(a.resource().as_str(), parts[4], "{entry}");
        assert_eq!(a.as_str(), entry);
    }

    let p = ok(K::Identity, &res(r#"["*", "arn:aws:s3:::a", "arn:aws:s3:::b"]"#));
    let patterns = only_statement(&p).resource.as_ref().unwrap().patterns();
    assert_eq!(patterns.len(), 3);
    assert_eq!(patterns[0], ResourcePattern::Any);
    assert_eq!(patterns[0].as_str(), "*");

    let not = ok(K::Identity, &res(r#""arn:aws:s3:::b""#).replace("\"Resource\"", "\"NotResource\""));
    assert!(matches!(only_statement(&not).resource, Some(ResourceClause::NotResource(_))));
}

#[test]
fn three_part_arns_are_read_with_wildcards_and_a_warning() {
    let text = res(r#""arn:aws:s3""#);
    let p = ok(K::Identity, &text);
    let a = arn_pattern(&only_statement(&p).resource.as_ref().unwrap().patterns()[0]);
    assert_eq!(
        [a.partition(), a.service(), a.region(), a.account(), a.resource().as_str()],
        ["aws", "s3", "*", "*", "*"]
    );
    assert_eq!(a.as_str(), "arn:aws:s3");
    let w = warnings(K::Identity, &text);
    assert_eq!(w.len(), 1);
    assert!(w[0].contains("read as `arn:aws:s3:*:*:*`"), "{w:?}");
}

#[test]
fn null_resource_entries_are_ignored_with_a_warning() {
    let text = res(r#"["arn:aws:s3:::a", null, "*"]"#);
    let p = ok(K::Identity, &text);
    assert_eq!(only_statement(&p).resource.as_ref().unwrap().patterns().len(), 2);
    let w = warnings(K::Identity, &text);
    assert_eq!(w, ["`null` in `Resource` is ignored"]);
    // A list of nothing but nulls is an empty list.
    assert_eq!(msg(K::Identity, &res("[null]")), messages::NO_RESOURCES);
}

#[test]
fn resource_errors() {
    for (entry, message) in [
        ("", messages::not_arn("")),
        ("invalid resource", messages::not_arn("invalid resource")),
        ("adf", messages::not_arn("adf")),
        ("ARN:aws:s3:::bucket", messages::not_arn("ARN:aws:s3:::bucket")),
        ("urn:aws:s3:::bucket", messages::not_arn("urn:aws:s3:::bucket")),
        ("a:bsdfdsafsad", messages::bad_partition("bsdfdsafsad", "arn:bsdfdsafsad:*:*:*:*")),
        ("a:b:cadfsdf", messages::bad_partition("b", "arn:b:cadfsdf:*:*:*")),
        ("a:b:c:d:e:f:g:h", messages::bad_partition("b", "arn:b:c:d:e:f:g:h")),
        ("aws:s3:::example_bucket", messages::bad_partition("s3", "arn:s3:::example_bucket:*")),
        ("arn:error:s3:::example_bucket", messages::bad_partition("error", "arn:error:s3:::example_bucket")),
        ("arn:AWS:s3:::bucket", messages::bad_partition("AWS", "arn:AWS:s3:::bucket")),
        ("arn:aws", messages::RESOURCE_VENDOR.to_owned()),
        ("arn:aws:s*:::bucket", messages::RESOURCE_VENDOR.to_owned()),
        ("arn:aws:?3:::bucket", messages::RESOURCE_VENDOR.to_owned()),
        ("arn:aws::::bucket", messages::LEGACY.to_owned()),
        ("arn:aws::fdsasf", messages::LEGACY.to_owned()),
        ("arn:aws:s3::example_bucket", messages::LEGACY.to_owned()),
        ("arn:aws:s3:x", messages::LEGACY.to_owned()),
        ("arn:aws:iam:us-east-1::example_bucket", messages::iam_region("arn:aws:iam:us-east-1::example_bucket")),
        (
            "arn:aws:iam:us-east-1:123456789012:user/x",
            messages::iam_region("arn:aws:iam:us-east-1:123456789012:user/x"),
        ),
        ("arn:aws:iam:::example_bucket", messages::IAM_PATH.to_owned()),
        ("arn:aws:iam::123456789012:u*", messages::IAM_PATH.to_owned()),
        ("arn:aws:iam::123456789012:users/x", messages::IAM_PATH.to_owned()),
        ("arn:aws:iam::123456789012:", messages::IAM_PATH.to_owned()),
        ("arn:aws:s3:us-east-1::example_bucket", messages::s3_region("arn:aws:s3:us-east-1::example_bucket")),
    ] {
        let text = res(&format!("\"{entry}\""));
        assert_eq!(msg(K::Identity, &text), message, "{entry}");
        assert_eq!(grammar_msg(&text), message, "{entry}");
        let not = text.replace("\"Resource\"", "\"NotResource\"");
        assert_eq!(msg(K::Identity, &not), message, "NotResource {entry}");
    }

    for (json, message) in [
        ("[]", messages::NO_RESOURCES),
        ("{}", messages::SYNTAX),
        (r#"{"a": "arn:aws:s3:::b"}"#, messages::SYNTAX),
        (r#"["adfdf", {}]"#, messages::SYNTAX),
        ("[5]", messages::SYNTAX),
        ("[[]]", messages::SYNTAX),
        ("null", messages::SYNTAX),
        ("true", messages::SYNTAX),
    ] {
        assert_eq!(msg(K::Identity, &res(json)), message, "{json}");
    }
    assert_eq!(msg(K::Identity, &doc(r#""Effect": "Allow", "Action": "s3:GetObject""#)), messages::NO_RESOURCES);
    let both = doc(r#""Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "NotResource": "*""#);
    assert_eq!(msg(K::Identity, &both), messages::SYNTAX);

    // Every bad entry of a list is reported, in order.
    let text = res(r#"["arn:error:s3:::example_bucket", "*", "arn:error:s3::example_bucket"]"#);
    let got: Vec<String> = errors(K::Identity, &text).into_iter().map(|d| d.message).collect();
    assert_eq!(
        got,
        [
            messages::bad_partition("error", "arn:error:s3:::example_bucket"),
            messages::bad_partition("error", "arn:error:s3::example_bucket:*"),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Condition
// ---------------------------------------------------------------------------------------------

/// Values each operator family accepts and rejects, as JSON.
fn family_values(family: OperatorFamily) -> (&'static [&'static str], &'static [&'static str]) {
    match family {
        OperatorFamily::String => {
            (&[r#""abc""#, r#""""#, "5", "true", r#"["a", "b*", 1.5, false]"#, r#""a${aws:username}""#], &[])
        }
        OperatorFamily::Numeric => (
            &[r#""10""#, "10", r#""-1.5""#, "0.25", "-7", r#"[1, "2", ".5"]"#],
            &[r#""ten""#, "1e3", r#""""#, r#""1.2.3""#, "true", r#""${aws:x}""#],
        ),
        OperatorFamily::Date => (
            &[
                r#""2020-01-01T00:00:00Z""#,
                r#""2020-01-01""#,
                r#""2016-12-13T21:20:37.593194+00:00""#,
                "1700000000",
                r#""1700000000""#,
            ],
            &[
                r#""sdfdsf""#,
                r#""234-13""#,
                r#""2019-02-29""#,
                r#""2020-01-01 00:00:00""#,
                "true",
                r#""${aws:CurrentTime}""#,
            ],
        ),
        OperatorFamily::Bool => (&[r#""true""#, "true", "false", r#""FALSE""#, r#""${aws:SecureTransport}""#], &[]),
        OperatorFamily::Binary => (
            &[r#""aGVsbG8=""#, r#""aGVsbG8""#, r#"["QQ==", "QUI="]"#],
            &[r#""a""#, r#""a$==""#, r#""QQ===""#, r#""${aws:x}""#],
        ),
        OperatorFamily::Ip => (
            &[r#""10.0.0.0/8""#, r#""203.0.113.7""#, r#""2001:DB8:1234:5678::/64""#, r#"["10.0.0.0/8", "::1"]"#],
            &[r#""10.0.0.0/33""#, r#""not-an-ip""#, r#""""#, "5", r#""${aws:SourceIp}""#],
        ),
        OperatorFamily::Arn => (
            &[r#""arn:aws:iam::123456789012:role/*""#, r#""*""#, r#""arn:aws:s3:::${aws:username}""#, r#""anything""#],
            &[],
        ),
        OperatorFamily::Null => (
            &[r#""true""#, "true", r#""false""#, "false", r#""TRUE""#],
            &[r#""yes""#, r#""1""#, "1", r#""""#, r#""${aws:x}""#],
        ),
    }
}

fn typed_family(value: &TypedValue) -> OperatorFamily {
    match value {
        TypedValue::String(_) => OperatorFamily::String,
        TypedValue::Arn(_) => OperatorFamily::Arn,
        TypedValue::Numeric(_) => OperatorFamily::Numeric,
        TypedValue::Date(_) => OperatorFamily::Date,
        TypedValue::Bool(_) => OperatorFamily::Bool,
        TypedValue::Binary(_) => OperatorFamily::Binary,
        TypedValue::Ip(_) => OperatorFamily::Ip,
        TypedValue::Null(_) => OperatorFamily::Null,
    }
}

#[test]
fn every_operator_with_valid_and_invalid_values() {
    assert_eq!(BaseOperator::ALL.len(), 27);
    for base in BaseOperator::ALL {
        let (valid, invalid) = family_values(base.family());
        let mut names = vec![base.as_str().to_owned()];
        if base != BaseOperator::Null {
            names.push(format!("{}IfExists", base.as_str()));
            names.push(format!("ForAllValues:{}", base.as_str()));
            names.push(format!("ForAnyValue:{}IfExists", base.as_str()));
        }
        for name in &names {
            let operator = Operator::parse(name).unwrap();
            assert_eq!(operator.base, base);
            assert_eq!(operator.if_exists, name.ends_with("IfExists"));
            assert_eq!(operator.to_string(), *name);
            for value in valid {
                let text = cond(&format!(r#"{{"{name}": {{"aws:SomeKey": {value}}}}}"#));
                let p = ok(K::Identity, &text);
                let conditions = &only_statement(&p).conditions;
                assert_eq!(conditions.len(), 1, "{name} {value}");
                let c = &conditions[0];
                assert_eq!(c.operator, operator);
                assert_eq!(c.key.as_str(), "aws:SomeKey");
                assert_eq!(c.key.lower(), "aws:somekey");
                let expected_count = if value.starts_with('[') { value.matches(',').count() + 1 } else { 1 };
                assert_eq!(c.values.len(), expected_count, "{name} {value}");
                for v in &c.values {
                    assert_eq!(typed_family(v.typed()), base.family(), "{name} {value}");
                }
                if !value.starts_with('[') {
                    // JSON numbers and booleans keep their text.
                    assert_eq!(c.values[0].as_str(), value.trim_matches('"'), "{name} {value}");
                }
            }
            for value in invalid {
                let text = cond(&format!(r#"{{"{name}": {{"aws:SomeKey": {value}}}}}"#));
                let (message, detail, _, _) = err(K::Identity, &text);
                assert_eq!(message, messages::LEGACY, "{name} {value}");
                assert!(detail.contains(&format!("is not a valid value for `{}`", base.as_str())), "{detail}");
                assert_eq!(grammar_msg(&text), messages::LEGACY, "{name} {value}");
            }
        }
    }
}

#[test]
fn typed_condition_values() {
    let value = |name: &str, json: &str| -> TypedValue {
        let p = ok(K::Identity, &cond(&format!(r#"{{"{name}": {{"k:k": {json}}}}}"#)));
        only_statement(&p).conditions[0].values[0].typed().clone()
    };
    assert_eq!(value("NumericLessThan", "10.50"), TypedValue::Numeric(Decimal::parse("10.5").unwrap()));
    assert_eq!(
        value("DateLessThan", r#""1970-01-01T00:01:00Z""#),
        TypedValue::Date(Timestamp { seconds: 60, nanos: 0 })
    );
    assert_eq!(value("DateLessThan", "60"), TypedValue::Date(Timestamp { seconds: 60, nanos: 0 }));
    assert_eq!(value("IpAddress", r#""203.0.113.7""#), TypedValue::Ip("203.0.113.7/32".parse().unwrap()));
    assert_eq!(value("BinaryEquals", r#""aGVsbG8=""#), TypedValue::Binary(b"hello".to_vec().into()));
    assert_eq!(value("Null", "true"), TypedValue::Null(true));
    assert_eq!(value("Null", r#""False""#), TypedValue::Null(false));
    assert_eq!(value("StringEquals", "5"), TypedValue::String(Template::literal("5")));
    assert_eq!(value("Bool", "true"), TypedValue::Bool(Template::literal("true")));
    assert_eq!(value("ArnLike", r#""arn:aws:s3:::b""#), TypedValue::Arn(Template::literal("arn:aws:s3:::b")));
}

#[test]
fn bool_values_other_than_true_and_false_only_warn() {
    let text = cond(r#"{"Bool": {"aws:SecureTransport": "yes"}}"#);
    ok(K::Identity, &text);
    let w = warnings(K::Identity, &text);
    assert_eq!(w.len(), 1);
    assert!(w[0].contains("neither `true` nor `false`"), "{w:?}");
}

#[test]
fn condition_structure() {
    let text = cond(
        r#"{"StringEquals": {"aws:username": "alice", "s3:prefix": ["home/", "shared/"]},
            "NumericLessThan": {"s3:max-keys": 10},
            "ForAnyValue:StringLike": {"aws:TagKeys": "team*"},
            "Null": {"aws:MultiFactorAuthAge": true}}"#,
    );
    let p = ok(K::Identity, &text);
    let got: Vec<(String, &str, usize)> = only_statement(&p)
        .conditions
        .iter()
        .map(|c| (c.operator.to_string(), c.key.as_str(), c.values.len()))
        .collect();
    assert_eq!(
        got,
        [
            ("StringEquals".to_owned(), "aws:username", 1),
            ("StringEquals".to_owned(), "s3:prefix", 2),
            ("NumericLessThan".to_owned(), "s3:max-keys", 1),
            ("ForAnyValue:StringLike".to_owned(), "aws:TagKeys", 1),
            ("Null".to_owned(), "aws:MultiFactorAuthAge", 1),
        ]
    );
    let qualifier = only_statement(&p).conditions[3].operator.qualifier;
    assert_eq!(qualifier, Some(SetQualifier::ForAnyValue));
    assert_eq!(SetQualifier::ForAllValues.as_str(), "ForAllValues");

    // An empty Condition and an empty operator block add nothing.
    assert!(only_statement(&ok(K::Identity, &cond("{}"))).conditions.is_empty());
    assert!(only_statement(&ok(K::Identity, &cond(r#"{"StringEquals": {}}"#))).conditions.is_empty());
    // A key with an empty list of values is kept.
    let p = ok(K::Identity, &cond(r#"{"StringEquals": {"aws:username": []}}"#));
    assert!(only_statement(&p).conditions[0].values.is_empty());
}

#[test]
fn unknown_operators() {
    // An unknown operator with an empty block is dropped with a warning.
    for name in ["StringEqualz", "stringequals", "NullIfExists", "ForAllValues:Null", "Foo"] {
        let text = cond(&format!(r#"{{"{name}": {{}}, "StringEquals": {{"aws:username": "a"}}}}"#));
        let p = ok(K::Identity, &text);
        assert_eq!(only_statement(&p).conditions.len(), 1, "{name}");
        let w = warnings(K::Identity, &text);
        assert_eq!(w.len(), 1, "{name}");
        assert!(w[0].contains(&format!("`{name}` is not a condition operator")), "{w:?}");
    }
    // With content it is a syntax error.
    for name in [
        "x",
        "StringEqualz",
        "stringequals",
        "NullIfExists",
        "ForAllValues:Null",
        "ForAnyValue:NullIfExists",
        "ForAnyValue::StringEqualsIfExists",
        "ForSomeValues:StringEquals",
        "StringEqualsIfExistsIfExists",
        "IfExists",
        "",
    ] {
        let text = cond(&format!(r#"{{"{name}": {{"a": "1"}}}}"#));
        let (message, detail, _, _) = err(K::Identity, &text);
        assert_eq!(message, messages::SYNTAX, "{name}");
        assert!(detail.contains("is not a condition operator"), "{detail}");
    }
}

#[test]
fn condition_errors() {
    for (condition, detail) in [
        ("[]", "`Condition` must be an object"),
        (r#""a""#, "`Condition` must be an object"),
        ("null", "`Condition` must be an object"),
        (r#"[{"ForAllValues:StringEquals": {"aws:TagKeys": "Department"}}]"#, "`Condition` must be an object"),
        (r#"{"a": "b"}"#, "block must be an object"),
        (r#"{"DateGreaterThan": "b"}"#, "block must be an object"),
        (r#"{"DateGreaterThan": []}"#, "block must be an object"),
        (r#"{"StringEquals": null}"#, "block must be an object"),
        (r#"{"DateGreaterThan": {"a": {}}}"#, "condition values must be"),
        (r#"{"StringEquals": {"a": {"b": "c"}}}"#, "condition values must be"),
        (r#"{"StringEquals": {"a": null}}"#, "condition values must be"),
        (r#"{"StringEquals": {"a": ["x", {}]}}"#, "condition values must be"),
        (r#"{"StringEquals": {"a": [["x"]]}}"#, "condition values must be"),
        (r#"{"StringEquals": {"a": [null]}}"#, "condition values must be"),
        (r#"{"StringEquals": {"a": "1"}, "StringEquals": {"b": "2"}}"#, "duplicate key `StringEquals`"),
        (r#"{"StringEquals": {"a": "1", "a": "2"}}"#, "duplicate key `a`"),
    ] {
        let text = cond(condition);
        let (message, got, _, _) = err(K::Identity, &text);
        assert_eq!(message, messages::SYNTAX, "{condition}");
        assert!(got.contains(detail), "{condition}: {got}");
        assert_eq!(grammar_msg(&text), messages::SYNTAX, "{condition}");
    }
}

// ---------------------------------------------------------------------------------------------
// Policy variables
// ---------------------------------------------------------------------------------------------

fn resource_template(policy: &Policy) -> Template {
    let clause = only_statement(policy).resource.as_ref().unwrap();
    arn_pattern(&clause.patterns()[0]).resource().clone()
}

fn condition_template(policy: &Policy) -> Template {
    match only_statement(policy).conditions[0].values[0].typed() {
        TypedValue::String(t) | TypedValue::Arn(t) | TypedValue::Bool(t) => t.clone(),
        other => panic!("not a template: {other:?}"),
    }
}

#[test]
fn variables_in_resources() {
    for (resource_part, segments) in [
        ("home/${aws:username}/*", vec![text("home/"), var("aws:username", None), text("/*")]),
        ("${aws:PrincipalTag/team, 'default'}/x", vec![var("aws:PrincipalTag/team", Some("default")), text("/x")]),
        ("${aws:PrincipalTag/team,''}", vec![var("aws:PrincipalTag/team", Some(""))]),
        (
            "a${*}b${?}c${$}",
            vec![text("a"), Segment::Literal('*'), text("b"), Segment::Literal('?'), text("c"), Segment::Literal('$')],
        ),
        ("plain/*", vec![text("plain/*")]),
    ] {
        let entry = format!("\"arn:aws:s3:::{resource_part}\"");
        let t = resource_template(&ok(K::Identity, &res(&entry)));
        assert_eq!(t.segments(), segments.as_slice(), "{resource_part}");
        assert_eq!(t.as_str(), resource_part);
        assert_eq!(t.to_string(), resource_part);

        // Under 2008-10-17, and with no Version, the same text is plain.
        let body = format!(r#""Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": {entry}"#);
        for version in [Some(r#""2008-10-17""#), None] {
            let t = resource_template(&ok(K::Resource, &doc_v(version, &body)));
            assert!(!t.has_variables(), "{version:?} {resource_part}");
            assert_eq!(t.as_plain(), Some(resource_part), "{version:?} {resource_part}");
        }
    }
    let t = resource_template(&ok(K::Identity, &res(r#""arn:aws:s3:::home/${aws:username}""#)));
    assert!(t.has_variables());
    assert_eq!(t.variables().map(|v| v.key.as_str()).collect::<Vec<_>>(), ["aws:username"]);
}

#[test]
fn stray_references_are_text_with_a_warning() {
    for value in ["arn:aws:s3:::home/${aws:username", "arn:aws:s3:::a${}b", "arn:aws:s3:::${ x}"] {
        let text = res(&format!("\"{value}\""));
        let t = resource_template(&ok(K::Identity, &text));
        assert!(!t.has_variables(), "{value}");
        assert!(t.has_stray_reference(), "{value}");
        let w = warnings(K::Identity, &text);
        assert_eq!(w.len(), 1, "{value}");
        assert!(w[0].contains("does not begin a well-formed policy variable"), "{w:?}");
    }
    let text = cond(r#"{"StringLike": {"s3:prefix": "home/${aws:username"}}"#);
    ok(K::Identity, &text);
    assert_eq!(warnings(K::Identity, &text).len(), 1);
    // Under 2008-10-17 nothing is a variable, so nothing is a stray reference either.
    let body = r#""Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::a${b""#;
    assert!(warnings(K::Resource, &doc_v(None, body)).is_empty());
}

#[test]
fn variables_in_condition_values() {
    for (operator, value) in [
        ("StringEquals", "${aws:username}"),
        ("StringLike", "home/${aws:username}/*"),
        ("StringNotEqualsIgnoreCase", "${aws:PrincipalTag/team, 'default'}"),
        ("ArnLike", "arn:aws:iam::${aws:PrincipalAccount}:role/*"),
        ("ArnEquals", "arn:aws:s3:::${*}"),
        ("Bool", "${aws:ViaAWSService}"),
        ("ForAnyValue:StringLike", "${aws:username}-*"),
    ] {
        let json = format!(r#"{{"{operator}": {{"aws:SomeKey": "{value}"}}}}"#);
        let t = condition_template(&ok(K::Identity, &cond(&json)));
        assert_eq!(t.as_str(), value);
        assert!(
            t.variables().count() + t.segments().iter().filter(|s| matches!(s, Segment::Literal(_))).count() > 0,
            "{operator} {value}"
        );

        // Under 2008-10-17 (trust) and with no Version (session), the value is plain text.
        let trust = format!(
            r#""Effect": "Allow", "Principal": {{"AWS": "123456789012"}}, "Action": "sts:AssumeRole", "Condition": {json}"#
        );
        for (kind, version) in [(K::Trust, Some(r#""2008-10-17""#)), (K::Trust, None)] {
            let t = condition_template(&ok(kind, &doc_v(version, &trust)));
            assert_eq!(t.as_plain(), Some(value), "{kind} {version:?} {operator}");
        }
        let session = [ALLOW, ", \"Condition\": ", &json].concat();
        let t = condition_template(&ok(K::Session, &doc_v(None, &session)));
        assert_eq!(t.as_plain(), Some(value), "session {operator}");
    }
    let t = condition_template(&ok(
        K::Identity,
        &cond(r#"{"StringEquals": {"s3:prefix": "${aws:PrincipalTag/team, 'company-wide'}"}}"#),
    ));
    assert_eq!(t.segments(), [var("aws:PrincipalTag/team", Some("company-wide"))]);
}

#[test]
fn variables_are_rejected_in_typed_values() {
    for (operator, value) in [
        ("NumericEquals", "${aws:MultiFactorAuthAge}"),
        ("NumericLessThan", "1${aws:x}"),
        ("DateGreaterThan", "${aws:CurrentTime}"),
        ("DateLessThanIfExists", "${aws:EpochTime}"),
        ("IpAddress", "${aws:SourceIp}"),
        ("BinaryEquals", "${aws:x}"),
        ("Null", "${aws:x}"),
    ] {
        let text = cond(&format!(r#"{{"{operator}": {{"aws:SomeKey": "{value}"}}}}"#));
        assert_eq!(msg(K::Identity, &text), messages::LEGACY, "{operator}");
    }
}

#[test]
fn variables_do_not_apply_in_actions_or_principals() {
    // An action may hold `$` and braces; it stays text.
    let p = ok(K::Identity, &act(r#""s3:Get${Object}""#));
    assert_eq!(only_statement(&p).action.patterns()[0].as_str(), "s3:Get${Object}");
    // A variable holding a colon is one colon too many.
    assert_eq!(msg(K::Identity, &act(r#""s3:${aws:username}""#)), messages::ONE_COLON);
    // A principal is never a variable: `${...}` there is text.
    let value = "arn:aws:iam::123456789012:user/${aws:username}";
    let p = ok(K::Resource, &princ(&format!(r#"{{"AWS": "{value}"}}"#)));
    let PrincipalClause::Principal(principal) = principal_of(&p) else { panic!() };
    assert_eq!(
        principal_values(principal),
        [(PrincipalKind::Aws, value.to_owned(), PrincipalId::Arn(Arn::parse(value).unwrap()))]
    );
}

// ---------------------------------------------------------------------------------------------
// Kind rules
// ---------------------------------------------------------------------------------------------

#[test]
fn kinds_parse_and_print_their_names() {
    for kind in PolicyKind::ALL {
        assert_eq!(kind.as_str().parse::<PolicyKind>(), Ok(kind));
        assert_eq!(kind.to_string(), kind.as_str());
        ok(kind, &doc(minimal_body(kind)));
    }
    assert_eq!("Identity".parse::<PolicyKind>(), Err(UnknownKind("Identity".to_owned())));
    assert!(UnknownKind("x".to_owned()).to_string().contains("permissions-boundary"));
}

#[test]
fn kinds_that_forbid_principals() {
    let principal = [r#""Principal": {"AWS": "123456789012"}, "#, ALLOW].concat();
    let not_principal = [r#""NotPrincipal": {"AWS": "123456789012"}, "#, ALLOW].concat();
    for kind in [K::Identity, K::PermissionsBoundary, K::Session, K::Scp] {
        for body in [&principal, &not_principal] {
            let (message, detail, _, _) = err(kind, &doc(body));
            assert_eq!(message, messages::NO_PRINCIPAL, "{kind} {body}");
            assert!(detail.contains(&format!("{kind} policies cannot have")), "{detail}");
        }
        // An invalid principal is still a principal the kind forbids.
        let bad = doc(&[r#""Principal": {"AWS": "bad"}, "#, ALLOW].concat());
        assert_eq!(msg(kind, &bad), messages::NO_PRINCIPAL, "{kind}");
        let got: Vec<String> = errors(kind, &bad).into_iter().map(|d| d.message).collect();
        assert_eq!(got, [messages::NO_PRINCIPAL.to_owned(), messages::invalid_principal("AWS", "bad")], "{kind}");
    }
    // The grammar alone allows a principal anywhere.
    ok_grammar(&doc(&principal));
}

#[test]
fn kinds_that_require_principals() {
    for kind in [K::Resource, K::Trust, K::Rcp] {
        let body = minimal_body(kind);
        let without = body
            .replace(r#""Principal": {"AWS": "123456789012"}, "#, "")
            .replace(r#""Principal": {"Service": "ec2.amazonaws.com"}, "#, "")
            .replace(r#""Principal": "*", "#, "");
        assert!(!without.contains("Principal"), "{without}");
        let (message, _, line, column) = err(kind, &doc(&without));
        assert_eq!(message, messages::missing_field("Principal"), "{kind}");
        assert_eq!((line, column), (1, 40), "{kind}: at the statement");
    }
    ok_grammar(&doc(ALLOW));
}

#[test]
fn not_principal_by_kind() {
    let body =
        r#""Effect": "Deny", "NotPrincipal": {"AWS": "123456789012"}, "Action": "sts:AssumeRole", "Resource": "*""#;
    ok(K::Resource, &doc(body));
    assert_eq!(
        msg(K::Trust, &doc(&body.replace(r#", "Resource": "*""#, ""))),
        messages::prohibited_field("NotPrincipal")
    );
    // An RCP reports the element, and that its principal is not `*`.
    let got: Vec<String> = errors(K::Rcp, &doc(body)).into_iter().map(|d| d.message).collect();
    assert!(got.contains(&messages::prohibited_field("NotPrincipal")), "{got:?}");
}

#[test]
fn trust_policies() {
    let trust = |actions: &str| {
        doc(&[r#""Effect": "Allow", "Principal": {"Federated": "accounts.google.com"}, "Action": "#, actions].concat())
    };
    for actions in [
        r#""sts:AssumeRole""#,
        r#""sts:AssumeRoleWithWebIdentity""#,
        r#""STS:assumerolewithsaml""#,
        r#"["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]"#,
        r#""sts:*""#,
    ] {
        ok(K::Trust, &trust(actions));
    }
    for actions in [r#""s3:GetObject""#, r#"["sts:AssumeRole", "iam:PassRole"]"#, r#""*""#] {
        let (message, detail, _, _) = err(K::Trust, &trust(actions));
        assert_eq!(message, messages::TRUST_ACTIONS, "{actions}");
        assert!(detail.contains("is not an STS action"), "{detail}");
    }
    for element in ["Resource", "NotResource"] {
        let text = trust(&format!(r#""sts:AssumeRole", "{element}": "*""#));
        let (message, detail, _, _) = err(K::Trust, &text);
        assert_eq!(message, messages::prohibited_field(element));
        assert!(detail.contains(&format!("trust policies cannot have `{element}`")), "{detail}");
    }
    // Trust policies accept 2008-10-17 and no Version.
    ok(K::Trust, &doc_v(None, minimal_body(K::Trust)));
    // Every principal form is allowed.
    // (A bare `"*"` is left out: the reference notes, unverified, that IAM may reject it here.)
    for principal in [
        r#"{"AWS": "*"}"#,
        r#"{"AWS": "arn:aws:iam::123456789012:root"}"#,
        r#"{"Service": ["ec2.amazonaws.com", "lambda.amazonaws.com"]}"#,
    ] {
        ok(
            K::Trust,
            &doc(&[r#""Effect": "Allow", "Principal": "#, principal, r#", "Action": "sts:AssumeRole""#].concat()),
        );
    }
}

#[test]
fn resource_control_policies() {
    let rcp = |body: &str| doc(body);
    for body in [
        r#""Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*""#,
        r#""Effect": "Deny", "Principal": {"AWS": "*"}, "Action": ["s3:*", "sqs:*"], "NotResource": "arn:aws:s3:::b""#,
        r#""Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*", "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-1234567890"}}"#,
        // RCPFullAWSAccess
        r#""Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*""#,
    ] {
        ok(K::Rcp, &rcp(body));
    }
    for (body, message) in [
        (
            r#""Effect": "Deny", "Principal": {"AWS": "123456789012"}, "Action": "s3:*", "Resource": "*""#,
            messages::invalid_principal("AWS", ""),
        ),
        (
            r#""Effect": "Deny", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "s3:*", "Resource": "*""#,
            messages::invalid_principal("AWS", ""),
        ),
        (
            r#""Effect": "Deny", "Principal": "*", "NotAction": "s3:*", "Resource": "*""#,
            messages::prohibited_field("NotAction"),
        ),
        (r#""Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*""#, messages::SYNTAX.to_owned()),
        (
            r#""Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "arn:aws:s3:::b""#,
            messages::SYNTAX.to_owned(),
        ),
        (
            r#""Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}"#,
            messages::SYNTAX.to_owned(),
        ),
        (r#""Effect": "Deny", "Principal": "*", "Action": "s3:*""#, messages::NO_RESOURCES.to_owned()),
    ] {
        assert_eq!(msg(K::Rcp, &rcp(body)), message, "{body}");
    }
    // The version must be 2012-10-17.
    assert_eq!(msg(K::Rcp, &doc_v(Some(r#""2008-10-17""#), minimal_body(K::Rcp))), messages::VERSION);
}

#[test]
fn identity_like_kinds_require_resources() {
    for kind in [K::Identity, K::PermissionsBoundary, K::Session, K::Scp, K::Resource] {
        let body = minimal_body(kind);
        let without = body.replace(r#", "Resource": "*""#, "").replace(r#", "Resource": "arn:aws:s3:::bucket/*""#, "");
        assert_eq!(msg(kind, &doc(&without)), messages::NO_RESOURCES, "{kind}");
    }
    // Only the grammar and trust policies do without.
    ok_grammar(&doc(r#""Effect": "Allow", "Action": "s3:GetObject""#));
}

#[test]
fn session_and_scp_accept_the_old_version() {
    for kind in [K::Resource, K::Trust, K::Session, K::Scp] {
        ok(kind, &doc_v(Some(r#""2008-10-17""#), minimal_body(kind)));
        ok(kind, &doc_v(None, minimal_body(kind)));
    }
}

// ---------------------------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------------------------

/// A valid document of `kind` whose size, as the kind counts it, is exactly `size`; the padding
/// goes in a `Sid` (non-whitespace) or, with `whitespace`, in spaces between elements.
fn sized(kind: PolicyKind, size: usize, pad: char) -> String {
    let whitespace = pad == ' ';
    let quota = kind.size_quota().unwrap();
    let measure = |t: &str| {
        if quota.counts_whitespace { t.chars().count() } else { iam_size(t) }
    };
    let build = |n: usize| {
        if whitespace {
            [r#"{"Version": "2012-10-17","#, &" ".repeat(n), r#""Statement": {"Sid": "S", "#, minimal_body(kind), "}}"]
                .concat()
        } else {
            [
                r#"{"Version": "2012-10-17", "Statement": {"Sid": ""#,
                &pad.to_string().repeat(n),
                r#"", "#,
                minimal_body(kind),
                "}}",
            ]
            .concat()
        }
    };
    let base = measure(&build(0));
    let text = build(size - base);
    assert_eq!(measure(&text), size);
    text
}

#[test]
fn size_quotas() {
    let q = |kind: PolicyKind| kind.size_quota().map(|q| (q.limit, q.counts_whitespace, q.enforced));
    assert_eq!(q(K::Identity), Some((6_144, false, false)));
    assert_eq!(q(K::PermissionsBoundary), Some((6_144, false, false)));
    assert_eq!(q(K::Trust), Some((2_048, false, true)));
    assert_eq!(q(K::Session), Some((2_048, true, true)));
    assert_eq!(q(K::Scp), Some((5_120, true, true)));
    assert_eq!(q(K::Rcp), Some((5_120, true, true)));
    assert_eq!(q(K::Resource), None);
    assert_eq!(iam_size(" a\tb\nc\r "), 3);
}

#[test]
fn identity_size_over_the_quota_only_warns() {
    for kind in [K::Identity, K::PermissionsBoundary] {
        let at = sized(kind, 6_144, 'a');
        ok(kind, &at);
        assert!(warnings(kind, &at).is_empty(), "{kind}");
        let over = sized(kind, 6_145, 'a');
        ok(kind, &over);
        let w = warnings(kind, &over);
        assert_eq!(w.len(), 1, "{kind}");
        assert!(w[0].contains("6145 characters, whitespace excluded"), "{w:?}");
        // Whitespace does not count.
        let spaced = sized(kind, 6_144, 'a').replacen(", ", &format!(",{}", " ".repeat(10_000)), 1);
        assert!(warnings(kind, &spaced).is_empty());
    }
}

#[test]
fn enforced_size_quotas() {
    for (kind, code, message) in [
        (K::Trust, ErrorCode::LimitExceeded, "Cannot exceed quota for ACLSizePerRole: 2048".to_owned()),
        (
            K::Session,
            ErrorCode::ValidationError,
            "1 validation error detected: Value at 'policy' failed to satisfy constraint: Member must have length less than or equal to 2048".to_owned(),
        ),
        (K::Scp, ErrorCode::ConstraintViolation, "The provided policy document exceeds the maximum size of 5120 characters.".to_owned()),
        (K::Rcp, ErrorCode::ConstraintViolation, "The provided policy document exceeds the maximum size of 5120 characters.".to_owned()),
    ] {
        let quota = kind.size_quota().unwrap();
        // Padding in a Sid, with ASCII and with Latin-1 letters (one character, two bytes each),
        // and, where whitespace counts, padding with spaces.
        let pads: &[char] = if quota.counts_whitespace { &['a', '\u{e9}', ' '] } else { &['a', '\u{e9}'] };
        for &pad in pads {
            let at = sized(kind, quota.limit, pad);
            ok(kind, &at);
            let over = sized(kind, quota.limit + 1, pad);
            let checked = check(&over, kind);
            let d = first_error(&checked, kind.as_str(), &over);
            assert_eq!((d.code, d.message.as_str()), (code, message.as_str()), "{kind}");
            assert_eq!(d.stage, Stage::Size);
            assert_eq!((d.position.line, d.position.column), (1, 1));
            assert_eq!(checked.errors().count(), 1);
            // The grammar has no quota.
            ok_grammar(&over);
        }
        if !quota.counts_whitespace {
            // Whitespace is free in trust policies.
            let spaced = sized(kind, quota.limit, 'a').replacen(", ", &format!(",{}", "\n".repeat(5_000)), 1);
            ok(kind, &spaced);
        }
    }
    assert_eq!(ErrorCode::LimitExceeded.http_status(), 409);
    assert_eq!(ErrorCode::ConstraintViolation.as_str(), "ConstraintViolationException");
    assert_eq!(ErrorCode::MalformedPolicyDocument.http_status(), 400);
    // Resource policies have no quota of their own.
    ok(K::Resource, &doc(&[r#""Sid": ""#, &"a".repeat(100_000), r#"", "#, minimal_body(K::Resource)].concat()));
}

#[test]
fn iam_character_set() {
    for (sid, bad) in [
        ("caf\u{e9}", None),
        ("\u{ff}\u{a0}\u{80}\u{7f}", None),
        ("x\u{100}", Some(('\u{100}', 1))),
        ("\u{20ac}", Some(('\u{20ac}', 0))),
        ("ok\u{1f600}", Some(('\u{1f600}', 2))),
    ] {
        let text = doc(&[r#""Sid": ""#, sid, r#"", "#, ALLOW].concat());
        for kind in PolicyKind::ALL {
            match bad {
                Some((c, at)) if kind.is_iam() => {
                    let checked = check(&text, kind);
                    let d = first_error(&checked, kind.as_str(), &text);
                    assert_eq!(d.code, ErrorCode::ValidationError, "{kind}");
                    assert_eq!(d.message, messages::CHARACTERS);
                    assert!(d.detail.contains(&format!("U+{:04X}", u32::from(c))), "{}", d.detail);
                    assert_eq!((d.position.line, d.position.column), (1, 49 + at), "{kind}");
                }
                _ => {
                    let checked = check(&text, kind);
                    assert!(checked.errors().all(|d| d.code != ErrorCode::ValidationError), "{kind} {sid}");
                }
            }
        }
    }
    // The character check sees the text as sent: an escape is ASCII.
    ok(K::Identity, &doc(&[r#""Sid": "\u20ac", "#, ALLOW].concat()));
    // A byte order mark is outside the set too; other kinds reject it as JSON.
    let bom = ["\u{feff}", &doc(ALLOW)].concat();
    assert_eq!(err(K::Identity, &bom).0, messages::CHARACTERS);
    assert_eq!(msg(K::Resource, &bom), messages::SYNTAX);
    // The character error comes before every other error.
    let text = ["{\"Statement\": \"x\", \"Id\": \"\u{20ac}\"}"].concat();
    let got: Vec<ErrorCode> = errors(K::Identity, &text).into_iter().map(|d| d.code).collect();
    assert_eq!(got[0], ErrorCode::ValidationError);
    assert!(got.len() > 1);
}

// ---------------------------------------------------------------------------------------------
// Hostile input
// ---------------------------------------------------------------------------------------------

/// Runs every check on `text`; none may panic, and what they return must be consistent.
fn check_everything(text: &str) -> Vec<Checked> {
    let mut all = vec![check_grammar(text)];
    all.extend(PolicyKind::ALL.iter().map(|&k| check(text, k)));
    for checked in &all {
        assert_eq!(checked.is_valid(), checked.errors().next().is_none(), "{text:?}");
        for d in &checked.diagnostics {
            assert!(d.position.line >= 1 && d.position.column >= 1, "{text:?}");
            assert!(d.position.offset <= text.len(), "{text:?}");
        }
    }
    all
}

#[test]
fn truncated_documents() {
    let full = r#"{"Version": "2012-10-17", "Id": "é", "Statement": [{"Sid": "A", "Effect": "Allow", "Principal": {"AWS": ["123456789012"]}, "Action": ["s3:Get*"], "Resource": "arn:aws:s3:::b/${aws:username}", "Condition": {"NumericLessThan": {"s3:max-keys": [10, "20"]}, "Bool": {"aws:SecureTransport": true}}}]}"#;
    assert!(check_grammar(full).is_valid());
    for (end, _) in full.char_indices() {
        let prefix = &full[..end];
        for checked in check_everything(prefix) {
            let first = checked.errors().next().unwrap_or_else(|| panic!("{prefix:?} is not a document"));
            assert_eq!(first.message, messages::SYNTAX, "{prefix:?}");
        }
    }
}

#[test]
fn deep_nesting() {
    for depth in [63, 64, 65, 100, 100_000] {
        let arrays = ["[".repeat(depth), "]".repeat(depth)].concat();
        for text in [arrays.clone(), cond(&format!(r#"{{"StringEquals": {{"k": {arrays}}}}}"#)), res(&arrays)] {
            for checked in check_everything(&text) {
                assert!(!checked.is_valid(), "{depth}");
            }
        }
        let objects = [r#"{"a":"#.repeat(depth), "1".to_owned(), "}".repeat(depth)].concat();
        for checked in check_everything(&objects) {
            assert!(!checked.is_valid(), "{depth}");
        }
    }
    let text = cond(&format!(r#"{{"StringEquals": {{"k": {}{}}}}}"#, "[".repeat(100), "]".repeat(100)));
    let (message, detail, _, _) = err(K::Identity, &text);
    assert_eq!(message, messages::SYNTAX);
    assert!(detail.contains("nesting deeper than"), "{detail}");
}

#[test]
fn duplicate_keys_at_every_level() {
    for (text, key) in [
        (
            r#"{"Version": "2012-10-17", "Version": "2012-10-17", "Statement": {BODY}}"#.replace("BODY", ALLOW),
            "Version",
        ),
        (r#"{"Version": "2012-10-17", "Statement": {BODY}, "Statement": {BODY}}"#.replace("BODY", ALLOW), "Statement"),
        (r#"{"Version": "2012-10-17", "Id": "a", "Id": "a", "Statement": {BODY}}"#.replace("BODY", ALLOW), "Id"),
        (doc(&[ALLOW, r#", "Effect": "Allow""#].concat()), "Effect"),
        (doc(&[ALLOW, r#", "Action": "s3:GetObject""#].concat()), "Action"),
        (doc(&[ALLOW, r#", "Resource": "*""#].concat()), "Resource"),
        (doc(&[r#""Sid": "a", "Sid": "b", "#, ALLOW].concat()), "Sid"),
        (cond(r#"{"Bool": {"a:b": "true"}, "Bool": {"c:d": "true"}}"#), "Bool"),
        (cond(r#"{"Bool": {"a:b": "true", "a:b": "false"}}"#), "a:b"),
        (doc(&[ALLOW, r#", "Condition": {}, "Condition": {}"#].concat()), "Condition"),
        (princ(r#"{"AWS": "*", "AWS": "123456789012"}"#), "AWS"),
        (princ(r#"{"Service": "a.b", "AWS": "*", "Service": "a.b"}"#), "Service"),
    ] {
        let checked = check_grammar(&text);
        let d = first_error(&checked, "grammar", &text);
        assert_eq!(d.message, messages::SYNTAX, "{text}");
        assert!(d.detail.contains(&format!("duplicate key `{key}`")), "{text}: {}", d.detail);
        // At the second occurrence of the key.
        let second = text.match_indices(&format!("\"{key}\"")).nth(1).unwrap().0;
        assert_eq!(d.position.offset, second, "{text}");
        check_everything(&text);
    }
    // Large objects take another path to the same answer.
    let keys: Vec<String> = (0..40).map(|i| format!(r#""k:{i}": "v""#)).collect();
    let text = cond(&format!(r#"{{"StringEquals": {{{}, "k:7": "w"}}}}"#, keys.join(", ")));
    let (message, detail, _, _) = err(K::Identity, &text);
    assert_eq!(message, messages::SYNTAX);
    assert!(detail.contains("duplicate key `k:7`"), "{detail}");
    let text = cond(&format!(r#"{{"StringEquals": {{{}}}}}"#, keys.join(", ")));
    assert_eq!(only_statement(&ok(K::Identity, &text)).conditions.len(), 40);
}

#[test]
fn bad_strings() {
    for sid in [
        r#""\x""#,
        r#""\u12""#,
        r#""\u12G4""#,
        r#""\ud800""#,
        r#""\ud800x""#,
        r#""\udc00""#,
        r#""\udfff\ud800""#,
        r#""\ud800\u0041""#,
        r#""\ud800\ud800""#,
        r#""\""#,
        "\"a\tb\"",
        "\"a\nb\"",
        "\"a\u{0}b\"",
        r#""abc"#,
        "'abc'",
    ] {
        let text = doc(&[r#""Sid": "#, sid, ", ", ALLOW].concat());
        for checked in check_everything(&text) {
            // A raw control character is also outside IAM's character set, which comes first.
            let first = checked
                .errors()
                .find(|d| d.code != ErrorCode::ValidationError)
                .unwrap_or_else(|| panic!("{sid} should be rejected"));
            assert_eq!(first.message, messages::SYNTAX, "{sid}");
        }
    }
    // A well-formed pair and the other escapes decode.
    let text = doc(&[r#""Sid": "\ud83d\ude00\"\\\/\b\f\n\r\t\u00e9", "#, ALLOW].concat());
    let p = ok(K::Resource, &text.replace(ALLOW, minimal_body(K::Resource)));
    assert_eq!(only_statement(&p).sid.as_deref(), Some("\u{1f600}\"\\/\u{8}\u{c}\n\r\t\u{e9}"));
}

#[test]
fn non_object_roots() {
    for text in [
        "",
        "   ",
        "\n",
        "[]",
        "[{}]",
        r#""x""#,
        "1",
        "-0.5",
        "null",
        "true",
        "This is not a json document",
        "{} {}",
        "{}x",
        "{",
        "}",
        "{\"Statement\"}",
        "\u{0}",
    ] {
        for checked in check_everything(text) {
            let first = checked.errors().next().unwrap_or_else(|| panic!("{text:?} should be rejected"));
            if first.code != ErrorCode::ValidationError {
                assert_eq!(first.message, messages::SYNTAX, "{text:?}");
            }
        }
    }
    let (message, detail, line, column) = err(K::Identity, "  [1]");
    assert_eq!(message, messages::SYNTAX);
    assert!(detail.contains("must be a JSON object, not an array"), "{detail}");
    assert_eq!((line, column), (1, 3));
    assert_eq!(grammar_msg("{}"), messages::SYNTAX);
}

#[test]
fn numbers_in_json() {
    for bad in ["01", "1.", ".5", "-", "+1", "1e", "1e+", "0x10", "NaN", "Infinity"] {
        let text = cond(&format!(r#"{{"NumericEquals": {{"k:k": {bad}}}}}"#));
        assert_eq!(grammar_msg(&text), messages::SYNTAX, "{bad}");
    }
    for good in ["0", "-0", "10", "-1.25", "12345678901234567890123456789"] {
        let text = cond(&format!(r#"{{"NumericEquals": {{"k:k": {good}}}}}"#));
        let p = ok(K::Identity, &text);
        assert_eq!(only_statement(&p).conditions[0].values[0].as_str(), good);
    }
}

// ---------------------------------------------------------------------------------------------
// Positions and ordering of diagnostics
// ---------------------------------------------------------------------------------------------

#[test]
fn positions_are_lines_and_character_columns() {
    let text = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": {\n    \"Effect\": \"Alow\",\n    \"Action\": \"s3:GetObject\",\n    \"Resource\": \"*\"\n  }\n}\n";
    assert_eq!(
        err(K::Identity, text),
        (messages::SYNTAX.to_owned(), "`Effect` must be `Allow` or `Deny`, not `Alow`".to_owned(), 4, 15)
    );

    // Columns count characters, not bytes.
    let text = r#"{"Id": "ééé", "Version": 5, "Statement": {}}"#;
    let d = first_error(&check(text, K::Identity), "identity", text);
    assert_eq!((d.position.line, d.position.column, d.position.offset), (1, 26, 28));
    let text = "{\"Id\": \"\u{1f600}\u{1f600}\", \"Version\": 5, \"Statement\": {}}";
    let d = first_error(&check(text, K::Resource), "resource", text);
    assert_eq!((d.position.line, d.position.column, d.position.offset), (1, 25, 30));

    // A JSON error points where the text goes wrong.
    let text = "{\"Version\": \"2012-10-17\",\n \"Statement\": {\"Effect\": \"Allow\",}}";
    let (message, detail, line, column) = err(K::Identity, text);
    assert_eq!(message, messages::SYNTAX);
    assert!(detail.contains("expected a string key"), "{detail}");
    assert_eq!((line, column), (2, 34));
    let (_, detail, line, column) = err(K::Identity, "{\"Version\": \"2012-10-17\",\n\n  \"Id\": \"unterminated");
    assert!(detail.contains("unterminated string"), "{detail}");
    assert_eq!((line, column), (3, 22), "at the end of the text");

    // Windows line ends.
    let text = "{\r\n\"Version\": \"2012-10-17\",\r\n\"Statement\": {\"Effect\": \"allow\", \"Action\": \"*\", \"Resource\": \"*\"}}";
    let (message, _, line, column) = err(K::Identity, text);
    assert_eq!(message, messages::LEGACY);
    assert_eq!((line, column), (3, 25));

    // Display shows line, column, code, message and detail.
    let d = first_error(&check(text, K::Identity), "identity", text);
    assert_eq!(
        d.to_string(),
        "3:25: MalformedPolicyDocument: The policy failed legacy parsing (`Effect` is case-sensitive: write `Allow`, not `allow`)"
    );
}

#[test]
fn every_error_is_reported_earliest_stage_first() {
    // Three independent errors give three diagnostics, in AWS's order, not the document's.
    let text = r#"{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "invalid", "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:us-east-1::b"},
        {"Effect": "allow", "Action": "s3:GetObject", "Resource": "*"}
    ]}"#;
    let got: Vec<(Stage, u32)> = errors(K::Identity, text).into_iter().map(|d| (d.stage, d.position.line)).collect();
    assert_eq!(got, [(Stage::Legacy, 4), (Stage::ResourceFormat, 3), (Stage::ActionFormat, 2)]);
    assert_eq!(msg(K::Identity, text), messages::LEGACY);

    // Four errors in four stages; the syntax error, last in the document, is AWS's answer.
    let text = r#"{"Version": "2012-10-17", "Statement": [
        {"Sid": "A", "Effect": "Allow", "Action": "invalid", "Resource": "*"},
        {"Sid": "A", "Effect": "allow", "Action": "s3:GetObject", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*", "Oops": 1}
    ]}"#;
    let got: Vec<(Stage, String, u32)> =
        errors(K::Identity, text).into_iter().map(|d| (d.stage, d.message, d.position.line)).collect();
    assert_eq!(
        got,
        [
            (Stage::Syntax, messages::SYNTAX.to_owned(), 4),
            (Stage::Legacy, messages::LEGACY.to_owned(), 3),
            (Stage::Sid, messages::SID_UNIQUE.to_owned(), 3),
            (Stage::ActionFormat, messages::NO_VENDOR.to_owned(), 2),
        ]
    );

    let text = r#"{"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:us-east-1::b"},
        {"Effect": "Allow", "Action": "s3:GetObject"}
    ]}"#;
    let got: Vec<String> = errors(K::Identity, text).into_iter().map(|d| d.message).collect();
    assert_eq!(
        got,
        [
            messages::VERSION.to_owned(),
            messages::s3_region("arn:aws:s3:us-east-1::b"),
            messages::NO_RESOURCES.to_owned(),
            messages::NO_PRINCIPAL.to_owned(),
        ]
    );

    // Stages are ordered as AWS checks them.
    let order = [
        Stage::Characters,
        Stage::Syntax,
        Stage::Version,
        Stage::Legacy,
        Stage::Sid,
        Stage::ActionsPresent,
        Stage::ResourceFormat,
        Stage::ActionFormat,
        Stage::ResourcesPresent,
        Stage::Kind,
        Stage::Size,
    ];
    assert!(order.windows(2).all(|w| w[0] < w[1]));

    // Warnings come after errors.
    let text = doc(r#""Sid": "a_b", "Effect": "Allow", "Action": "invalid", "Resource": ["arn:aws:s3", null]"#);
    let checked = check(&text, K::Identity);
    let severities: Vec<Severity> = checked.diagnostics.iter().map(|d| d.severity).collect();
    assert_eq!(severities, [Severity::Error, Severity::Warning, Severity::Warning, Severity::Warning]);
}

#[test]
fn policy_error() {
    let text = doc(r#""Effect": "allow", "Action": "invalid", "Resource": "*""#);
    let e = Policy::parse(&text, K::Identity).unwrap_err();
    assert_eq!(e.errors.len(), 2);
    assert_eq!(e.code(), ErrorCode::MalformedPolicyDocument);
    assert_eq!(e.message(), messages::LEGACY);
    assert_eq!(e.first(), e.errors.first());
    assert!(e.to_string().starts_with("1:51: MalformedPolicyDocument: The policy failed legacy parsing"));
    assert_eq!(Policy::parse_grammar(&text).unwrap_err().message(), messages::LEGACY);
    // Warnings alone do not reject.
    assert!(Policy::parse(&res(r#""arn:aws:s3""#), K::Identity).is_ok());
}

// ---------------------------------------------------------------------------------------------
// Printer
// ---------------------------------------------------------------------------------------------

#[track_caller]
fn assert_prints(text: &str, expected: &str) {
    let p = ok_grammar(text);
    let printed = p.to_string();
    assert_eq!(printed, expected);
    assert_eq!(to_pretty_string(&p), format!("{expected}\n"));
    let again = ok_grammar(&printed);
    assert_eq!(again, p);
    assert_eq!(again.to_string(), printed);
}

#[test]
fn prints_canonical_layout() {
    assert_prints(
        r#"{"Statement":{"Resource":["arn:aws:s3:::b/*"],"Action":["s3:GetObject","s3:PutObject"],"Effect":"Allow","Sid":"A1"},"Id":"x","Version":"2012-10-17"}"#,
        r#"{
  "Version": "2012-10-17",
  "Id": "x",
  "Statement": [
    {
      "Sid": "A1",
      "Effect": "Allow",
      "Action": [
        "s3:GetObject",
        "s3:PutObject"
      ],
      "Resource": "arn:aws:s3:::b/*"
    }
  ]
}"#,
    );
}

#[test]
fn prints_principals_and_conditions() {
    assert_prints(
        r#"{"Version":"2008-10-17","Statement":[{"Condition":{"Bool":{"aws:SecureTransport":false},"NumericLessThan":{"s3:max-keys":[10,"20"]},"ForAnyValue:StringLikeIfExists":{"aws:TagKeys":"a*","aws:username":[]}},"NotResource":"arn:aws:s3:::b","NotAction":"s3:Delete*","Principal":{"Service":["ec2.amazonaws.com"],"AWS":["123456789012","arn:aws:iam::123456789012:root"]},"Effect":"Deny"}]}"#,
        r#"{
  "Version": "2008-10-17",
  "Statement": [
    {
      "Effect": "Deny",
      "Principal": {
        "Service": "ec2.amazonaws.com",
        "AWS": [
          "123456789012",
          "arn:aws:iam::123456789012:root"
        ]
      },
      "NotAction": "s3:Delete*",
      "NotResource": "arn:aws:s3:::b",
      "Condition": {
        "Bool": {
          "aws:SecureTransport": "false"
        },
        "NumericLessThan": {
          "s3:max-keys": [
            "10",
            "20"
          ]
        },
        "ForAnyValue:StringLikeIfExists": {
          "aws:TagKeys": "a*",
          "aws:username": []
        }
      }
    }
  ]
}"#,
    );
}

#[test]
fn prints_escapes_and_omits_what_is_absent() {
    assert_prints(
        r#"{"Id": "q\"b\\s\/t\tn\nr\r\b\u0001\u007f\u00e9\ud83d\ude00", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*", "Condition": {}}, {"Sid": "", "Effect": "Deny", "NotPrincipal": {"AWS": "*"}, "Action": "*", "Condition": {"StringEquals": {}}}]}"#,
        "{
  \"Id\": \"q\\\"b\\\\s/t\\tn\\nr\\r\\u0008\\u0001\\u007f\u{e9}\u{1f600}\",
  \"Statement\": [
    {
      \"Effect\": \"Allow\",
      \"Principal\": \"*\",
      \"Action\": \"*\",
      \"Resource\": \"*\"
    },
    {
      \"Sid\": \"\",
      \"Effect\": \"Deny\",
      \"NotPrincipal\": {
        \"AWS\": \"*\"
      },
      \"Action\": \"*\"
    }
  ]
}",
    );
}

#[test]
fn printing_keeps_the_text_of_values() {
    // Variables, wildcards and unusual but valid text print exactly as written.
    let text = cond(
        r#"{"StringLike": {"s3:prefix": ["home/${aws:username}/*", "${*}${?}${$}"]}, "DateLessThan": {"aws:CurrentTime": "2020-01-01T00:00:00+01:00"}, "NumericEquals": {"k:k": "007.50"}}"#,
    );
    let p = ok(K::Identity, &text);
    let printed = p.to_string();
    assert!(printed.contains(r#""home/${aws:username}/*""#), "{printed}");
    assert!(printed.contains(r#""${*}${?}${$}""#), "{printed}");
    assert!(printed.contains(r#""2020-01-01T00:00:00+01:00""#), "{printed}");
    assert!(printed.contains(r#""007.50""#), "{printed}");
    assert_eq!(ok(K::Identity, &printed), p);
}

#[test]
fn layout_does_not_change_the_policy() {
    let a = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": true}, "NumericLessThan": {"s3:max-keys": 10}}}}"#;
    let b = "{\n\t\"Statement\" : [ { \"Condition\" : { \"Bool\" : { \"aws:SecureTransport\" : [ \"true\" ] } , \"NumericLessThan\":{\"s3:max-keys\":[\"10\"]} } ,\r\n \"Resource\" : [\"*\"] , \"Action\" : [\"s3:GetObject\"], \"Effect\" : \"Allow\" } ] ,\n \"Version\" : \"2012-10-17\" }\n";
    assert_eq!(ok(K::Identity, a), ok(K::Identity, b));
    assert_eq!(ok(K::Identity, a).to_string(), ok(K::Identity, b).to_string());
    // Spans differ, but spans are not part of what a statement means.
    assert_ne!(ok(K::Identity, a).statements[0].span, ok(K::Identity, b).statements[0].span);
}

#[test]
fn principal_values_parse_outside_a_document() {
    use crate::{PrincipalId, PrincipalKind, PrincipalValue};
    let v = PrincipalValue::parse(PrincipalKind::Aws, "AIDAEXAMPLEUSER000001").unwrap();
    assert_eq!(v.id(), &PrincipalId::UniqueId("AIDAEXAMPLEUSER000001".into()));
    assert_eq!(v.as_str(), "AIDAEXAMPLEUSER000001");
    assert!(matches!(PrincipalValue::parse(PrincipalKind::Aws, "123456789012").unwrap().id(), PrincipalId::Account(_)));
    assert!(PrincipalValue::parse(PrincipalKind::Aws, "arn:aws:iam::123456789012:user/*").is_none());
    assert!(PrincipalValue::parse(PrincipalKind::Service, "ec2.amazonaws.com").is_some());
}
