//! Unit tests of the `session` module: principals of each session kind, context keys,
//! `GetCallerIdentity`, ISO 8601 times.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use castellan_credentials::access_key::generate_secret_access_key;
use castellan_credentials::{AccessKeyId, AccessKeyKind, MfaFacts, UnixTime};
use castellan_eval::{Context, Principal, PrincipalType};
use castellan_policy::Arn;
use castellan_store::Tag;
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::*;
use crate::token::{SessionClaims, SessionKind};

fn claims(kind: SessionKind, arn: &str, id: &str) -> SessionClaims {
    let mut rng = StdRng::seed_from_u64(3);
    SessionClaims {
        account: "111122223333".to_owned(),
        kind,
        principal_arn: arn.to_owned(),
        principal_id: id.to_owned(),
        role_arn: None,
        role_id: None,
        session_name: None,
        access_key_id: AccessKeyId::generate(AccessKeyKind::Temporary, &mut rng),
        secret_access_key: generate_secret_access_key(&mut rng),
        issued_at: UnixTime::from_seconds(1_700_000_000),
        expires_at: UnixTime::from_seconds(1_700_003_600),
        policy: None,
        policy_arns: Vec::new(),
        tags: Vec::new(),
        transitive_tag_keys: Vec::new(),
        source_identity: None,
        mfa: MfaFacts::absent(),
        chained: false,
        chain_origin: None,
    }
}

fn role_session() -> SessionClaims {
    let mut c = claims(
        SessionKind::AssumedRole,
        "arn:aws:sts::111122223333:assumed-role/Admin/alice",
        "AROAEXAMPLEEXAMPLE123:alice",
    );
    c.role_arn = Some("arn:aws:iam::111122223333:role/ops/team/Admin".to_owned());
    c.role_id = Some("AROAEXAMPLEEXAMPLE123".to_owned());
    c.session_name = Some("alice".to_owned());
    c
}

fn value(ctx: &Context, key: &str) -> Option<String> {
    ctx.get(key).and_then(|v| v.as_single()).map(str::to_owned)
}

#[test]
fn assumed_role_arn_drops_the_path() {
    let role = Arn::parse("arn:aws:iam::111122223333:role/ops/team/Admin").unwrap();
    assert_eq!(assumed_role_arn(&role, "s1"), "arn:aws:sts::111122223333:assumed-role/Admin/s1");
    let cn = Arn::parse("arn:aws-cn:iam::111122223333:role/R").unwrap();
    assert_eq!(assumed_role_arn(&cn, "s"), "arn:aws-cn:sts::111122223333:assumed-role/R/s");
    assert_eq!(federated_user_arn("aws", "111122223333", "bob"), "arn:aws:sts::111122223333:federated-user/bob");
}

#[test]
fn iso8601_matches_known_dates() {
    assert_eq!(iso8601(UnixTime::from_seconds(0)), "1970-01-01T00:00:00Z");
    assert_eq!(iso8601(UnixTime::from_seconds(951_782_400)), "2000-02-29T00:00:00Z");
    assert_eq!(iso8601(UnixTime::from_seconds(1_700_000_000)), "2023-11-14T22:13:20Z");
    assert_eq!(iso8601(UnixTime::from_seconds(4_102_444_799)), "2099-12-31T23:59:59Z");
    assert_eq!(iso8601(UnixTime::from_seconds(-1)), "1969-12-31T23:59:59Z");
}

#[test]
fn session_tags_override_role_tags_without_regard_to_case() {
    let role_tags = vec![Tag::new("Department", "Marketing"), Tag::new("Team", "a")];
    let mut c = role_session();
    c.tags = vec![Tag::new("department", "engineering"), Tag::new("Project", "x")];
    let p = c.principal(&role_tags).unwrap();
    let tags: Vec<(String, String)> = p.tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    assert_eq!(
        tags,
        vec![
            ("department".to_owned(), "engineering".to_owned()),
            ("Team".to_owned(), "a".to_owned()),
            ("Project".to_owned(), "x".to_owned()),
        ]
    );
    let mut ctx = Context::new();
    p.fill_context(&mut ctx);
    assert_eq!(value(&ctx, "aws:PrincipalTag/Department").as_deref(), Some("engineering"));
}

#[test]
fn role_session_principal_has_role_arn_and_ids() {
    let p = role_session().principal(&[]).unwrap();
    assert_eq!(p.arn.as_ref().unwrap().as_str(), "arn:aws:sts::111122223333:assumed-role/Admin/alice");
    assert_eq!(p.principal_arn().unwrap().as_str(), "arn:aws:iam::111122223333:role/ops/team/Admin");
    let mut ctx = Context::new();
    p.fill_context(&mut ctx);
    assert_eq!(value(&ctx, "aws:userid").as_deref(), Some("AROAEXAMPLEEXAMPLE123:alice"));
    assert_eq!(value(&ctx, "aws:PrincipalType").as_deref(), Some("AssumedRole"));
    let id = caller_identity(&p).unwrap();
    assert_eq!(id.user_id, "AROAEXAMPLEEXAMPLE123:alice");
    assert_eq!(id.account, "111122223333");
    assert_eq!(id.arn, "arn:aws:sts::111122223333:assumed-role/Admin/alice");
}

#[test]
fn federated_user_identity() {
    let mut c = claims(SessionKind::FederatedUser, "arn:aws:sts::111122223333:federated-user/bob", "111122223333:bob");
    c.tags = vec![Tag::new("k", "session")];
    let p = c.principal(&[Tag::new("K", "user"), Tag::new("other", "u")]).unwrap();
    assert_eq!(p.kind, PrincipalType::FederatedUser);
    assert_eq!(p.tags.len(), 2);
    let id = caller_identity(&p).unwrap();
    assert_eq!(id.user_id, "111122223333:bob");
    assert_eq!(id.arn, "arn:aws:sts::111122223333:federated-user/bob");
    let mut ctx = Context::new();
    p.fill_context(&mut ctx);
    assert_eq!(value(&ctx, "aws:userid").as_deref(), Some("111122223333:bob"));
}

#[test]
fn get_session_token_sessions_are_the_user_or_root_itself() {
    let c = claims(SessionKind::UserSession, "arn:aws:iam::111122223333:user/dev/carol", "AIDAEXAMPLEEXAMPLE456");
    let p = c.principal(&[Tag::new("team", "x")]).unwrap();
    assert_eq!(p.kind, PrincipalType::User);
    let id = caller_identity(&p).unwrap();
    assert_eq!(id.user_id, "AIDAEXAMPLEEXAMPLE456");
    assert_eq!(id.arn, "arn:aws:iam::111122223333:user/dev/carol");

    let root = claims(SessionKind::RootSession, "arn:aws:iam::111122223333:root", "111122223333");
    let p = root.principal(&[]).unwrap();
    assert_eq!(p.kind, PrincipalType::Root);
    let id = caller_identity(&p).unwrap();
    assert_eq!(id.user_id, "111122223333");
    assert_eq!(id.arn, "arn:aws:iam::111122223333:root");
}

#[test]
fn root_and_user_caller_identity() {
    let root = root_principal("aws", "444455556666").unwrap();
    let id = caller_identity(&root).unwrap();
    assert_eq!(
        (id.user_id.as_str(), id.account.as_str(), id.arn.as_str()),
        ("444455556666", "444455556666", "arn:aws:iam::444455556666:root")
    );
    let mut user = Principal::from_arn("arn:aws:iam::444455556666:user/u", None).unwrap();
    assert_eq!(caller_identity(&user), None, "a user without unique id has no UserId to show");
    user.unique_id = Some("AIDAEXAMPLE".into());
    assert_eq!(caller_identity(&user).unwrap().user_id, "AIDAEXAMPLE");
    assert_eq!(caller_identity(&Principal::anonymous()), None);
    assert_eq!(caller_identity(&Principal::service("ec2.amazonaws.com")), None);
}

#[test]
fn session_context_keys() {
    let mut c = role_session();
    let now = UnixTime::from_seconds(1_700_000_100);
    let mut ctx = Context::new();
    c.fill_context(now, &mut ctx);
    assert_eq!(value(&ctx, "aws:TokenIssueTime").as_deref(), Some("2023-11-14T22:13:20Z"));
    assert_eq!(value(&ctx, "aws:MultiFactorAuthPresent").as_deref(), Some("false"));
    assert_eq!(value(&ctx, "aws:MultiFactorAuthAge"), None);
    assert_eq!(value(&ctx, "aws:SourceIdentity"), None);

    c.mfa = MfaFacts::authenticated(UnixTime::from_seconds(1_700_000_000));
    c.source_identity = Some("alice".to_owned());
    let mut ctx = Context::new();
    // A caller-supplied value cannot override the token's facts.
    ctx.set("aws:MultiFactorAuthPresent", "false");
    c.fill_context(now, &mut ctx);
    assert_eq!(value(&ctx, "aws:MultiFactorAuthPresent").as_deref(), Some("true"));
    assert_eq!(value(&ctx, "aws:MultiFactorAuthAge").as_deref(), Some("100"));
    assert_eq!(value(&ctx, "aws:SourceIdentity").as_deref(), Some("alice"));
}

#[test]
fn merge_tags_keeps_order_and_override_spelling() {
    let merged = merge_tags(&[Tag::new("A", "1"), Tag::new("b", "2")], &[Tag::new("B", "3"), Tag::new("c", "4")]);
    assert_eq!(merged, vec![Tag::new("A", "1"), Tag::new("B", "3"), Tag::new("c", "4")]);
}
