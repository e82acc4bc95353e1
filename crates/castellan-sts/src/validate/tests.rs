//! Unit tests of the `validate` module: one per rule and error.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use castellan_store::Tag;

use super::*;
use crate::error::StsErrorCode;

fn code(r: Result<impl std::fmt::Debug, StsError>) -> StsErrorCode {
    r.unwrap_err().code
}

#[test]
fn role_session_name_rules() {
    assert!(role_session_name("ab").is_ok());
    assert!(role_session_name("alice@example.com+x=y,z_-.").is_ok());
    assert!(role_session_name(&"a".repeat(64)).is_ok());
    let e = role_session_name("a").unwrap_err();
    assert_eq!(e.code, StsErrorCode::ValidationError);
    assert_eq!(e.status, 400);
    assert_eq!(
        e.message,
        "1 validation error detected: Value 'a' at 'roleSessionName' failed to satisfy constraint: Member must have \
         length greater than or equal to 2"
    );
    assert!(role_session_name(&"a".repeat(65)).unwrap_err().message.contains("less than or equal to 64"));
    assert!(role_session_name("has space").unwrap_err().message.contains(r"pattern: [\w+=,.@-]*"));
    assert!(role_session_name("a/b").is_err());
    assert!(role_session_name("é1").is_err(), "\\w is ASCII");
}

#[test]
fn federated_user_name_rules() {
    assert!(federated_user_name("bob").is_ok());
    assert!(federated_user_name(&"b".repeat(33)).is_err());
    assert!(federated_user_name("b").is_err());
}

#[test]
fn assume_role_duration() {
    let rule = DurationRule::AssumeRole { role_max: 7_200, chained: false };
    assert_eq!(duration(rule, None).unwrap(), 3_600);
    assert_eq!(duration(rule, Some(900)).unwrap(), 900);
    assert_eq!(duration(rule, Some(7_200)).unwrap(), 7_200);
    let e = duration(rule, Some(899)).unwrap_err();
    assert!(e.message.contains("'899' at 'durationSeconds'") && e.message.contains("greater than or equal to 900"));
    let e = duration(rule, Some(7_201)).unwrap_err();
    assert_eq!(e.code, StsErrorCode::ValidationError);
    assert_eq!(e.message, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.");
    assert!(duration(rule, Some(43_201)).unwrap_err().message.contains("less than or equal to 43200"));
}

#[test]
fn chained_sessions_are_capped_at_one_hour() {
    let rule = DurationRule::AssumeRole { role_max: 43_200, chained: true };
    assert_eq!(duration(rule, None).unwrap(), 3_600);
    assert_eq!(duration(rule, Some(3_600)).unwrap(), 3_600);
    let e = duration(rule, Some(3_601)).unwrap_err();
    assert!(e.message.contains("role chaining"), "{}", e.message);
}

#[test]
fn session_token_durations() {
    let user = DurationRule::UserSession { root: false };
    let root = DurationRule::UserSession { root: true };
    assert_eq!(duration(user, None).unwrap(), 43_200);
    assert_eq!(duration(user, Some(129_600)).unwrap(), 129_600);
    assert!(duration(user, Some(129_601)).is_err());
    assert!(duration(user, Some(899)).is_err());
    assert_eq!(duration(root, None).unwrap(), 3_600);
    assert_eq!(duration(root, Some(129_600)).unwrap(), 3_600, "root is cut to one hour");
    assert_eq!(duration(root, Some(1_000)).unwrap(), 1_000);
    assert!(duration(root, Some(129_601)).is_err());
}

#[test]
fn external_id_and_mfa_shapes() {
    assert!(external_id("a1:b/c-d").is_ok());
    assert!(external_id("x").is_err());
    assert!(external_id(&"x".repeat(1_225)).is_err());
    assert!(external_id("bad id").is_err());
    assert!(serial_number("arn:aws:iam::111122223333:mfa/alice").is_ok());
    assert!(serial_number("short").is_err());
    assert!(token_code("123456").is_ok());
    assert!(token_code("12345").is_err());
    assert!(token_code("12345a").is_err());
    assert!(mfa_parameters(Some("arn:aws:iam::111122223333:mfa/alice"), Some("123456")).is_ok());
    assert!(mfa_parameters(None, None).is_ok());
    assert_eq!(code(mfa_parameters(Some("arn:aws:iam::111122223333:mfa/alice"), None)), StsErrorCode::AccessDenied);
    assert_eq!(code(mfa_parameters(None, Some("123456"))), StsErrorCode::ValidationError);
}

#[test]
fn source_identity_rules() {
    assert!(source_identity("alice@example.com").is_ok());
    assert!(source_identity("a").is_err());
    assert!(source_identity(&"a".repeat(65)).is_err());
    assert!(source_identity("aws:me").is_err());
    assert!(source_identity("AWS:me").is_err());
    assert!(source_identity("a b").is_err());
}

#[test]
fn source_identity_cannot_change_along_a_chain() {
    assert_eq!(source_identity_along_chain(None, None).unwrap(), None);
    assert_eq!(source_identity_along_chain(None, Some("alice")).unwrap().as_deref(), Some("alice"));
    assert_eq!(source_identity_along_chain(Some("alice"), None).unwrap().as_deref(), Some("alice"));
    assert_eq!(source_identity_along_chain(Some("alice"), Some("alice")).unwrap().as_deref(), Some("alice"));
    let e = source_identity_along_chain(Some("alice"), Some("mallory")).unwrap_err();
    assert_eq!(e.code, StsErrorCode::AccessDenied);
    assert_eq!(e.status, 403);
}

#[test]
fn role_arn_rules() {
    assert!(role_arn("arn:aws:iam::111122223333:role/a/R").is_ok());
    assert!(role_arn("arn:aws:iam::1:r/R").unwrap_err().message.contains("greater than or equal to 20"));
    assert!(role_arn("arn:aws:iam::111122223333:user/alice").is_err());
    assert!(role_arn("not-an-arn-but-long-enough").is_err());
}

const POLICY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;

#[test]
fn session_policy_rules() {
    let ok = session_policies(Some(POLICY), &["arn:aws:iam::111122223333:policy/Read".to_owned()]).unwrap();
    assert!(ok.inline.is_some() && ok.arns.len() == 1 && !ok.is_empty());
    assert!(session_policies(None, &[]).unwrap().is_empty());
    // Too long.
    let long = format!("{}{}", POLICY, " ".repeat(2_049 - POLICY.len()));
    assert!(session_policies(Some(&long), &[]).unwrap_err().message.contains("less than or equal to 2048"));
    // Characters outside TAB/LF/CR/U+0020-U+00FF.
    let e = session_policies(Some("{\"Version\":\"2012-10-17\u{2603}\"}"), &[]).unwrap_err();
    assert_eq!(e.code, StsErrorCode::ValidationError);
    // Not a policy.
    let e = session_policies(Some("{\"Statement\": 1"), &[]).unwrap_err();
    assert_eq!(e.code, StsErrorCode::MalformedPolicyDocument);
    assert_eq!(e.status, 400);
    // A session policy may not name principals.
    let with_principal =
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}"#;
    assert_eq!(code(session_policies(Some(with_principal), &[])), StsErrorCode::MalformedPolicyDocument);
    // Eleven ARNs.
    let arns: Vec<String> = (0..11).map(|i| format!("arn:aws:iam::111122223333:policy/P{i}")).collect();
    assert!(session_policies(None, &arns).unwrap_err().message.contains("less than or equal to 10"));
    assert!(session_policies(None, &arns[..10]).is_ok());
    assert!(session_policies(None, &["arn:aws:s3:::bucket-name-long".to_owned()]).is_err());
}

#[test]
fn session_tag_rules() {
    assert!(session_tags(&[Tag::new("Project", "blue sky"), Tag::new("e", "")]).is_ok());
    let fifty: Vec<Tag> = (0..50).map(|i| Tag::new(format!("k{i}"), "v")).collect();
    assert!(session_tags(&fifty).is_ok());
    let fifty_one: Vec<Tag> = (0..51).map(|i| Tag::new(format!("k{i}"), "v")).collect();
    assert!(session_tags(&fifty_one).unwrap_err().message.contains("less than or equal to 50"));
    assert!(session_tags(&[Tag::new("", "v")]).is_err());
    assert!(session_tags(&[Tag::new("k".repeat(129), "v")]).is_err());
    assert!(session_tags(&[Tag::new("k", "v".repeat(257))]).is_err());
    assert!(session_tags(&[Tag::new("k", "v".repeat(256))]).is_ok());
    assert!(session_tags(&[Tag::new("k*", "v")]).is_err());
    assert!(session_tags(&[Tag::new("k", "v!")]).is_err());
    assert!(session_tags(&[Tag::new("aws:k", "v")]).is_err());
    let e = session_tags(&[Tag::new("Dept", "a"), Tag::new("dept", "b")]).unwrap_err();
    assert!(e.message.contains("Duplicate tag keys"), "{}", e.message);
}

#[test]
fn transitive_keys_must_name_passed_tags() {
    let tags = [Tag::new("Project", "blue")];
    assert!(transitive_tag_keys(&["project".to_owned()], &tags).is_ok());
    assert_eq!(code(transitive_tag_keys(&["Team".to_owned()], &tags)), StsErrorCode::ValidationError);
    let many: Vec<String> = (0..51).map(|i| format!("k{i}")).collect();
    assert!(transitive_tag_keys(&many, &tags).unwrap_err().message.contains("less than or equal to 50"));
}

#[test]
fn inherited_transitive_keys_cannot_be_passed_again() {
    assert!(inherited_transitive_tags(&[Tag::new("Team", "x")], &["Project".to_owned()]).is_ok());
    assert_eq!(
        code(inherited_transitive_tags(&[Tag::new("project", "x")], &["Project".to_owned()])),
        StsErrorCode::ValidationError
    );
}

#[test]
fn packed_policy_size_is_a_percentage_of_the_limit() {
    assert_eq!(packed_policy_size(None, &[], &[], &[]).unwrap(), 0);
    // Whitespace does not count.
    let spaced = POLICY.replace(',', ", ");
    assert_eq!(packed_bytes(Some(&spaced), &[], &[], &[]), packed_bytes(Some(POLICY), &[], &[], &[]));
    let tags = [Tag::new("Project", "blue")];
    assert_eq!(packed_bytes(None, &[], &tags, &["Project".to_owned()]), 18);
    // One byte is 1 % (rounded up); exactly the limit is 100 %.
    assert_eq!(packed_policy_size(None, &[], &[Tag::new("k", "")], &[]).unwrap(), 1);
    let full = vec![Tag::new("k".repeat(96), "v".repeat(256)); 11];
    let bytes = packed_bytes(None, &[], &full, &[]);
    assert_eq!(bytes, 11 * 352);
    assert_eq!(
        packed_policy_size(None, &[], &full, &[]).unwrap(),
        u32::try_from((bytes * 100).div_ceil(PACKED_LIMIT)).unwrap()
    );
    let exact = [Tag::new("k".repeat(96), "v".repeat(PACKED_LIMIT - 96))];
    assert_eq!(packed_policy_size(None, &[], &exact, &[]).unwrap(), 100);
    let over = [Tag::new("k".repeat(96), "v".repeat(PACKED_LIMIT - 95))];
    let e = packed_policy_size(None, &[], &over, &[]).unwrap_err();
    assert_eq!(e.code, StsErrorCode::PackedPolicyTooLarge);
    assert_eq!(e.status, 400);
    // Fifty tags of full length never fit.
    let max: Vec<Tag> = (0..50).map(|i| Tag::new(format!("{i:0>128}"), "v".repeat(256))).collect();
    assert_eq!(code(packed_policy_size(None, &[], &max, &[])), StsErrorCode::PackedPolicyTooLarge);
}

#[test]
fn error_codes_and_statuses() {
    let cases = [
        (StsErrorCode::ValidationError, "ValidationError", 400),
        (StsErrorCode::MalformedPolicyDocument, "MalformedPolicyDocument", 400),
        (StsErrorCode::PackedPolicyTooLarge, "PackedPolicyTooLarge", 400),
        (StsErrorCode::AccessDenied, "AccessDenied", 403),
        (StsErrorCode::ExpiredToken, "ExpiredToken", 400),
        (StsErrorCode::InvalidClientTokenId, "InvalidClientTokenId", 403),
        (StsErrorCode::InvalidIdentityToken, "InvalidIdentityToken", 400),
        (StsErrorCode::IdpRejectedClaim, "IDPRejectedClaim", 403),
        (StsErrorCode::RegionDisabled, "RegionDisabledException", 403),
        (StsErrorCode::ServiceFailure, "ServiceFailure", 500),
    ];
    for (c, name, status) in cases {
        let e = StsError::new(c, "m");
        assert_eq!((c.as_str(), e.status, e.to_string().as_str()), (name, status, "m"));
    }
}
