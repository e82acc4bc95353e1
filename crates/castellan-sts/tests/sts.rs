//! Integration tests of castellan-sts over in-memory stores: `AssumeRole` in one account and
//! across two, external id, MFA, role chaining, transitive tags, source identity, session
//! policies; and a property test that every bit flip of a valid token is refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::sync::Arc;

use castellan_credentials::{Clock, FixedClock, SealedSecret, SealingKey, UnixTime};
use castellan_eval::Context;
use castellan_policy::AccountId;
use castellan_store::{Entity, MemoryStore, NewPolicy, NewRole, NewUser, Store, Tag};
use castellan_sts::{
    AssumeRoleRequest, AssumeRoleResponse, Caller, MfaVerifier, SessionTokenService, Sts, StsError, StsErrorCode,
    caller_identity,
};
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

const A: &str = "111111111111";
const B: &str = "222222222222";
const T0: i64 = 1_800_000_000;

/// Accepts the code `123456` for any device.
struct FixedCode;

impl MfaVerifier for FixedCode {
    fn verify(&self, _owner: &str, _serial: &str, code: &str, _clock: &dyn Clock) -> bool {
        code == "123456"
    }
}

struct World {
    clock: Arc<FixedClock>,
    accounts: BTreeMap<String, Arc<dyn Store>>,
    tokens: SessionTokenService,
    rng: StdRng,
}

impl World {
    fn new() -> World {
        let clock = Arc::new(FixedClock::new(T0));
        let mut accounts: BTreeMap<String, Arc<dyn Store>> = BTreeMap::new();
        for (i, id) in [A, B].into_iter().enumerate() {
            let dyn_clock: Arc<dyn Clock> = clock.clone();
            let store = MemoryStore::new(AccountId::parse(id).unwrap(), dyn_clock, StdRng::seed_from_u64(i as u64));
            accounts.insert(id.to_owned(), Arc::new(store));
        }
        let tokens = SessionTokenService::new(SealingKey::new(1, [7; 32]));
        World { clock, accounts, tokens, rng: StdRng::seed_from_u64(99) }
    }

    fn store(&self, account: &str) -> &Arc<dyn Store> {
        &self.accounts[account]
    }

    fn user(&self, account: &str, name: &str, identity_policy: Option<&str>) -> Caller {
        let s = self.store(account);
        s.create_user(NewUser { name: name.to_owned(), ..NewUser::default() }).unwrap();
        if let Some(p) = identity_policy {
            s.put_inline_policy(Entity::User(name), "p", p).unwrap();
        }
        Caller::User { account: account.to_owned(), name: name.to_owned() }
    }

    fn role(&self, account: &str, name: &str, trust: &str, identity_policy: Option<&str>, tags: Vec<Tag>) -> String {
        let s = self.store(account);
        let r = s
            .create_role(NewRole {
                name: name.to_owned(),
                assume_role_policy_document: trust.to_owned(),
                max_session_duration: Some(43_200),
                tags,
                ..NewRole::default()
            })
            .unwrap();
        if let Some(p) = identity_policy {
            s.put_inline_policy(Entity::Role(name), "p", p).unwrap();
        }
        r.arn
    }

    fn assume(&mut self, caller: &Caller, request: &AssumeRoleRequest) -> Result<AssumeRoleResponse, StsError> {
        let sts = Sts {
            accounts: &self.accounts,
            tokens: &self.tokens,
            clock: &*self.clock,
            mfa: Some(&FixedCode),
            guardrails: None,
        };
        sts.assume_role(caller, request, &Context::new(), &mut self.rng)
    }

    /// The caller that presents the response's credentials (opening the token as a verifier
    /// would).
    fn session(&self, r: &AssumeRoleResponse) -> Caller {
        self.session_of(&r.credentials)
    }

    fn session_of(&self, c: &castellan_sts::Credentials) -> Caller {
        let claims =
            self.tokens.open_for(c.session_token.as_str(), c.access_key_id.as_str(), self.clock.now()).unwrap();
        Caller::Session(Box::new(claims))
    }
}

fn trust(principal: &str, actions: &[&str], condition: &str) -> String {
    let actions: Vec<String> = actions.iter().map(|a| format!("\"{a}\"")).collect();
    let condition = if condition.is_empty() { String::new() } else { format!(", \"Condition\": {condition}") };
    format!(
        r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Principal": {{"AWS": "{principal}"}},
            "Action": [{}]{condition}}}]}}"#,
        actions.join(", ")
    )
}

fn allow(actions: &str, resource: &str) -> String {
    format!(
        r#"{{"Version": "2012-10-17", "Statement": {{"Effect": "Allow", "Action": {actions}, "Resource": "{resource}"}}}}"#
    )
}

fn req(role_arn: &str, session: &str) -> AssumeRoleRequest {
    AssumeRoleRequest { role_arn: role_arn.to_owned(), role_session_name: session.to_owned(), ..Default::default() }
}

fn code<T: std::fmt::Debug>(r: Result<T, StsError>) -> StsErrorCode {
    r.unwrap_err().code
}

#[test]
fn same_account_trust_naming_the_user_needs_no_identity_policy() {
    let mut w = World::new();
    let alice = w.user(A, "alice", None);
    let arn =
        w.role(A, "Admin", &trust(&format!("arn:aws:iam::{A}:user/alice"), &["sts:AssumeRole"], ""), None, vec![]);
    let r = w.assume(&alice, &req(&arn, "s1")).unwrap();
    let role = w.store(A).role("Admin").unwrap();
    assert_eq!(r.assumed_role_user.arn, format!("arn:aws:sts::{A}:assumed-role/Admin/s1"));
    assert_eq!(r.assumed_role_user.assumed_role_id, format!("{}:s1", role.role_id));
    assert!(r.credentials.access_key_id.as_str().starts_with("ASIA"));
    assert_eq!(r.credentials.secret_access_key.expose().len(), 40);
    assert_eq!(r.credentials.expiration, UnixTime::from_seconds(T0 + 3_600));
    assert_eq!(r.packed_policy_size, None);
    assert!(!r.claims.chained);
    assert_eq!(r.claims.chain_origin.as_deref(), Some(format!("arn:aws:iam::{A}:user/alice").as_str()));
    // The token opens to the same session, secret included.
    let Caller::Session(claims) = w.session(&r) else { unreachable!() };
    assert_eq!(*claims, r.claims);
    assert_eq!(claims.secret_access_key.expose(), r.credentials.secret_access_key.expose());
    let who = caller_identity(&claims.principal(&[]).unwrap()).unwrap();
    assert_eq!(
        (who.user_id, who.account, who.arn),
        (format!("{}:s1", role.role_id), A.to_owned(), r.assumed_role_user.arn)
    );
}

#[test]
fn same_account_trust_naming_the_account_needs_an_identity_allow() {
    let mut w = World::new();
    let alice = w.user(A, "alice", None);
    let arn = w.role(A, "Admin", &trust(&format!("arn:aws:iam::{A}:root"), &["sts:AssumeRole"], ""), None, vec![]);
    let e = w.assume(&alice, &req(&arn, "s1")).unwrap_err();
    assert_eq!(e.code, StsErrorCode::AccessDenied);
    assert_eq!(
        e.message,
        format!("User: arn:aws:iam::{A}:user/alice is not authorized to perform: sts:AssumeRole on resource: {arn}")
    );
    let bob = w.user(A, "bob", Some(&allow("\"sts:AssumeRole\"", &arn)));
    assert!(w.assume(&bob, &req(&arn, "s1")).is_ok());
}

#[test]
fn the_trust_policy_must_allow_even_with_an_identity_allow() {
    let mut w = World::new();
    let alice = w.user(A, "alice", Some(&allow("\"sts:*\"", "*")));
    w.user(A, "other", None);
    let arn =
        w.role(A, "Admin", &trust(&format!("arn:aws:iam::{A}:user/other"), &["sts:AssumeRole"], ""), None, vec![]);
    assert_eq!(code(w.assume(&alice, &req(&arn, "s1"))), StsErrorCode::AccessDenied);
}

#[test]
fn cross_account_needs_both_sides() {
    let mut w = World::new();
    let alice = w.user(A, "alice", None);
    let arn =
        w.role(B, "Shared", &trust(&format!("arn:aws:iam::{A}:user/alice"), &["sts:AssumeRole"], ""), None, vec![]);
    // Trust names alice, but her own account does not allow her.
    assert_eq!(code(w.assume(&alice, &req(&arn, "xx"))), StsErrorCode::AccessDenied);
    let bob = w.user(A, "bob", Some(&allow("\"sts:AssumeRole\"", &format!("arn:aws:iam::{B}:role/*"))));
    // Bob's account allows him, but the trust policy does not name him.
    assert_eq!(code(w.assume(&bob, &req(&arn, "xx"))), StsErrorCode::AccessDenied);
    // Trusting the whole account A delegates to A's policies: bob yes, alice no.
    let by_account = w.role(B, "ByAccount", &trust(A, &["sts:AssumeRole"], ""), None, vec![]);
    let r = w.assume(&bob, &req(&by_account, "xx")).unwrap();
    assert_eq!(r.assumed_role_user.arn, format!("arn:aws:sts::{B}:assumed-role/ByAccount/xx"));
    assert_eq!(r.claims.account, B);
    assert_eq!(code(w.assume(&alice, &req(&by_account, "xx"))), StsErrorCode::AccessDenied);
}

#[test]
fn unknown_roles_and_wrong_paths_are_refused_like_forbidden_ones() {
    let mut w = World::new();
    let alice = w.user(A, "alice", Some(&allow("\"sts:AssumeRole\"", "*")));
    let e = w.assume(&alice, &req(&format!("arn:aws:iam::{A}:role/Nope"), "ss")).unwrap_err();
    assert_eq!(e.code, StsErrorCode::AccessDenied);
    let e = w.assume(&alice, &req("arn:aws:iam::333333333333:role/Nope", "ss")).unwrap_err();
    assert_eq!(e.code, StsErrorCode::AccessDenied);
    w.role(A, "R", &trust(&format!("arn:aws:iam::{A}:user/alice"), &["sts:AssumeRole"], ""), None, vec![]);
    assert_eq!(
        code(w.assume(&alice, &req(&format!("arn:aws:iam::{A}:role/other/R"), "ss"))),
        StsErrorCode::AccessDenied
    );
}

#[test]
fn root_may_not_assume_roles() {
    let mut w = World::new();
    let arn = w.role(A, "R", &trust(A, &["sts:AssumeRole"], ""), None, vec![]);
    let e = w.assume(&Caller::Root { account: A.to_owned() }, &req(&arn, "ss")).unwrap_err();
    assert_eq!(e.code, StsErrorCode::AccessDenied);
    assert_eq!(e.message, "Roles may not be assumed by root accounts.");
}

#[test]
fn validation_comes_first() {
    let mut w = World::new();
    let alice = w.user(A, "alice", None);
    let arn = w.role(A, "R", &trust(&format!("arn:aws:iam::{A}:user/alice"), &["sts:AssumeRole"], ""), None, vec![]);
    assert_eq!(code(w.assume(&alice, &req(&arn, "x"))), StsErrorCode::ValidationError);
    let mut r = req(&arn, "ok");
    r.duration_seconds = Some(899);
    assert_eq!(code(w.assume(&alice, &r)), StsErrorCode::ValidationError);
    let mut r = req(&arn, "ok");
    r.policy = Some("{".to_owned());
    assert_eq!(code(w.assume(&alice, &r)), StsErrorCode::MalformedPolicyDocument);
}

#[test]
fn external_id_is_checked_through_the_trust_policy() {
    let mut w = World::new();
    let alice = w.user(A, "alice", Some(&allow("\"sts:AssumeRole\"", "*")));
    let cond = r#"{"StringEquals": {"sts:ExternalId": "Unique-123"}}"#;
    let arn = w.role(B, "Vendor", &trust(A, &["sts:AssumeRole"], cond), None, vec![]);
    assert_eq!(code(w.assume(&alice, &req(&arn, "ss"))), StsErrorCode::AccessDenied);
    let mut r = req(&arn, "ss");
    r.external_id = Some("Unique-124".to_owned());
    assert_eq!(code(w.assume(&alice, &r)), StsErrorCode::AccessDenied);
    r.external_id = Some("Unique-123".to_owned());
    assert!(w.assume(&alice, &r).is_ok());
    r.external_id = Some("x".to_owned());
    assert_eq!(code(w.assume(&alice, &r)), StsErrorCode::ValidationError);
}

#[test]
fn mfa_required_by_the_trust_policy() {
    let mut w = World::new();
    let alice = w.user(A, "alice", None);
    let cond = r#"{"Bool": {"aws:MultiFactorAuthPresent": "true"}}"#;
    let user_arn = format!("arn:aws:iam::{A}:user/alice");
    let arn = w.role(A, "Mfa", &trust(&user_arn, &["sts:AssumeRole"], cond), None, vec![]);
    assert_eq!(code(w.assume(&alice, &req(&arn, "ss"))), StsErrorCode::AccessDenied);
    let mut r = req(&arn, "ss");
    r.serial_number = Some(format!("arn:aws:iam::{A}:mfa/alice"));
    r.token_code = Some("654321".to_owned());
    let e = w.assume(&alice, &r).unwrap_err();
    assert_eq!(e.code, StsErrorCode::AccessDenied);
    assert!(e.message.contains("MultiFactorAuthentication failed"), "{}", e.message);
    r.token_code = Some("123456".to_owned());
    let ok = w.assume(&alice, &r).unwrap();
    assert!(ok.claims.mfa.present);
    assert_eq!(ok.claims.mfa.authenticated_at, UnixTime::from_seconds(T0));

    // An MFA session passes MFA on along a chain; MultiFactorAuthAge grows from the first code.
    let age =
        r#"{"Bool": {"aws:MultiFactorAuthPresent": "true"}, "NumericLessThan": {"aws:MultiFactorAuthAge": "600"}}"#;
    let next = w.role(A, "Next", &trust(&arn, &["sts:AssumeRole"], age), None, vec![]);
    let session = w.session(&ok);
    w.clock.advance(300);
    let chained = w.assume(&session, &req(&next, "nn")).unwrap();
    assert!(chained.claims.mfa.present);
    w.clock.advance(400);
    assert_eq!(code(w.assume(&session, &req(&next, "nn"))), StsErrorCode::AccessDenied);
}

#[test]
fn role_chaining_is_capped_at_one_hour() {
    let mut w = World::new();
    let alice = w.user(A, "alice", None);
    let r1 = w.role(A, "R1", &trust(&format!("arn:aws:iam::{A}:user/alice"), &["sts:AssumeRole"], ""), None, vec![]);
    let r2 = w.role(A, "R2", &trust(&r1, &["sts:AssumeRole"], ""), None, vec![]);
    let mut long = req(&r1, "first");
    long.duration_seconds = Some(7_200);
    let first = w.assume(&alice, &long).unwrap();
    assert_eq!(first.credentials.expiration, UnixTime::from_seconds(T0 + 7_200));
    let session = w.session(&first);
    let mut r = req(&r2, "second");
    r.duration_seconds = Some(3_601);
    let e = w.assume(&session, &r).unwrap_err();
    assert_eq!(e.code, StsErrorCode::ValidationError);
    assert!(e.message.contains("role chaining"));
    r.duration_seconds = None;
    let second = w.assume(&session, &r).unwrap();
    assert!(second.claims.chained);
    assert_eq!(second.credentials.expiration, UnixTime::from_seconds(T0 + 3_600));
    assert_eq!(second.claims.chain_origin.as_deref(), Some(format!("arn:aws:iam::{A}:user/alice").as_str()));
    // Above the role's own maximum.
    let r3 = w.store(A).create_role(NewRole {
        name: "Short".to_owned(),
        assume_role_policy_document: trust(&format!("arn:aws:iam::{A}:user/alice"), &["sts:AssumeRole"], ""),
        ..NewRole::default()
    });
    let mut r = req(&r3.unwrap().arn, "ss");
    r.duration_seconds = Some(3_601);
    let e = w.assume(&alice, &r).unwrap_err();
    assert!(e.message.contains("MaxSessionDuration"), "{}", e.message);
}

#[test]
fn expired_and_orphaned_sessions_cannot_chain() {
    let mut w = World::new();
    let alice = w.user(A, "alice", None);
    let r1 = w.role(A, "R1", &trust(&format!("arn:aws:iam::{A}:user/alice"), &["sts:AssumeRole"], ""), None, vec![]);
    let r2 = w.role(A, "R2", &trust(A, &["sts:AssumeRole"], ""), None, vec![]);
    let first = w.assume(&alice, &req(&r1, "ss")).unwrap();
    let session = w.session(&first);
    w.clock.advance(3_600);
    assert_eq!(code(w.assume(&session, &req(&r2, "tt"))), StsErrorCode::ExpiredToken);
    w.clock.set(T0);
    // R1 deleted and created again: a new role id, the old sessions are not its sessions.
    w.store(A).delete_role("R1").unwrap();
    w.role(
        A,
        "R1",
        &trust(&format!("arn:aws:iam::{A}:user/alice"), &["sts:AssumeRole"], ""),
        Some(&allow("\"sts:*\"", "*")),
        vec![],
    );
    assert_eq!(code(w.assume(&session, &req(&r2, "tt"))), StsErrorCode::InvalidClientTokenId);
}

#[test]
fn session_tags_need_tag_session() {
    let mut w = World::new();
    let alice = w.user(A, "alice", None);
    let alice_arn = format!("arn:aws:iam::{A}:user/alice");
    let plain = w.role(A, "Plain", &trust(&alice_arn, &["sts:AssumeRole"], ""), None, vec![]);
    let mut r = req(&plain, "ss");
    r.tags = vec![Tag::new("Project", "blue")];
    let e = w.assume(&alice, &r).unwrap_err();
    assert_eq!(e.code, StsErrorCode::AccessDenied);
    assert!(e.message.contains("sts:TagSession"), "{}", e.message);
    // A trust policy that allows tagging, but only with the project `blue`.
    let cond = r#"{"StringEquals": {"aws:RequestTag/Project": "blue"}}"#;
    let tagging = w.role(
        A,
        "Tagging",
        &trust(&alice_arn, &["sts:AssumeRole", "sts:TagSession"], cond),
        None,
        vec![Tag::new("Project", "red"), Tag::new("Owner", "ops")],
    );
    r.role_arn = tagging;
    let ok = w.assume(&alice, &r).unwrap();
    assert!(ok.packed_policy_size.is_some());
    let p = ok.claims.principal(&w.store(A).role("Tagging").unwrap().tags).unwrap();
    let tags: BTreeMap<String, String> = p.tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    assert_eq!(tags.get("Project").map(String::as_str), Some("blue"), "session tag overrides role tag");
    assert_eq!(tags.get("Owner").map(String::as_str), Some("ops"));
    r.tags = vec![Tag::new("Project", "green")];
    assert_eq!(code(w.assume(&alice, &r)), StsErrorCode::AccessDenied);
}

#[test]
fn transitive_tags_flow_through_three_roles_in_two_accounts() {
    let mut w = World::new();
    let alice = w.user(A, "alice", None);
    let alice_arn = format!("arn:aws:iam::{A}:user/alice");
    // Hop 1 (account A): alice passes Project=blue (transitive) and Team=x (not transitive).
    let r1 = w.role(
        A,
        "First",
        &trust(&alice_arn, &["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"], ""),
        // Cross-account, the caller's own policies must allow carrying the source identity too.
        Some(&allow(r#"["sts:AssumeRole", "sts:SetSourceIdentity"]"#, "*")),
        vec![],
    );
    // Hop 2 (account B): the trust policy reads the role's ResourceTag, which the transitive
    // tag overrides (the role itself says red).
    let cond2 = r#"{"StringEquals": {"aws:PrincipalTag/Project": "blue", "aws:ResourceTag/Project": "blue"}}"#;
    let carry = ["sts:AssumeRole", "sts:SetSourceIdentity"];
    let r2 = w.role(B, "Second", &trust(&r1, &carry, cond2), None, vec![Tag::new("Project", "red")]);
    // Hop 3 (account B): same account as hop 2.
    let cond3 = r#"{"StringEquals": {"aws:PrincipalTag/Project": "blue", "aws:SourceIdentity": "alice"}, "Null": {"aws:PrincipalTag/Team": "true"}}"#;
    let r3 = w.role(B, "Third", &trust(&r2, &carry, cond3), None, vec![]);

    let mut first = req(&r1, "one");
    first.tags = vec![Tag::new("Project", "blue"), Tag::new("Team", "x")];
    first.transitive_tag_keys = vec!["Project".to_owned()];
    first.source_identity = Some("alice".to_owned());
    let one = w.assume(&alice, &first).unwrap();
    let s1 = w.session(&one);

    // Passing the inherited transitive key again fails.
    let mut bad = req(&r2, "two");
    bad.tags = vec![Tag::new("project", "green")];
    assert_eq!(code(w.assume(&s1, &bad)), StsErrorCode::ValidationError);

    let two = w.assume(&s1, &req(&r2, "two")).unwrap();
    assert_eq!(two.claims.tags, vec![Tag::new("Project", "blue")]);
    assert_eq!(two.claims.transitive_tag_keys, vec!["Project".to_owned()]);
    assert!(two.packed_policy_size.is_some());
    let s2 = w.session(&two);
    let three = w.assume(&s2, &req(&r3, "three")).unwrap();
    assert_eq!(three.claims.tags, vec![Tag::new("Project", "blue")]);
    assert_eq!(three.claims.account, B);
    assert!(three.claims.chained);
    assert_eq!(three.claims.chain_origin.as_deref(), Some(alice_arn.as_str()));
    // The source identity set at the first hop reached the third, and cannot change there.
    assert_eq!(three.claims.source_identity.as_deref(), Some("alice"));
    let mut change = req(&r3, "three");
    change.source_identity = Some("mallory".to_owned());
    assert_eq!(code(w.assume(&s2, &change)), StsErrorCode::AccessDenied);

    // Without the transitive key, hop 2's condition on the principal tag fails.
    first.transitive_tag_keys.clear();
    let one = w.assume(&alice, &first).unwrap();
    let s1 = w.session(&one);
    assert_eq!(code(w.assume(&s1, &req(&r2, "two"))), StsErrorCode::AccessDenied);
}

#[test]
fn source_identity_is_set_once_and_kept_along_the_chain() {
    let mut w = World::new();
    let alice = w.user(A, "alice", None);
    let alice_arn = format!("arn:aws:iam::{A}:user/alice");
    let set = ["sts:AssumeRole", "sts:SetSourceIdentity"];
    let r1 = w.role(A, "First", &trust(&alice_arn, &set, ""), None, vec![]);
    let r2 =
        w.role(A, "Second", &trust(&r1, &set, r#"{"StringEquals": {"aws:SourceIdentity": "alice"}}"#), None, vec![]);
    let no_set = w.role(A, "NoSet", &trust(&r1, &["sts:AssumeRole"], ""), None, vec![]);
    let plain = w.role(A, "Plain", &trust(&alice_arn, &["sts:AssumeRole"], ""), None, vec![]);

    let mut r = req(&plain, "ss");
    r.source_identity = Some("alice".to_owned());
    let e = w.assume(&alice, &r).unwrap_err();
    assert!(e.message.contains("sts:SetSourceIdentity"), "{}", e.message);
    r.role_arn = r1;
    let one = w.assume(&alice, &r).unwrap();
    assert_eq!(one.source_identity.as_deref(), Some("alice"));
    let s1 = w.session(&one);

    // Changing it is denied; repeating it or leaving it out keeps it.
    let mut change = req(&r2, "tt");
    change.source_identity = Some("mallory".to_owned());
    assert_eq!(code(w.assume(&s1, &change)), StsErrorCode::AccessDenied);
    change.source_identity = Some("alice".to_owned());
    assert_eq!(w.assume(&s1, &change).unwrap().source_identity.as_deref(), Some("alice"));
    let two = w.assume(&s1, &req(&r2, "tt")).unwrap();
    assert_eq!(two.claims.source_identity.as_deref(), Some("alice"));
    // The next role must allow sts:SetSourceIdentity, even when the identity is only carried.
    assert_eq!(code(w.assume(&s1, &req(&no_set, "tt"))), StsErrorCode::AccessDenied);
}

#[test]
fn session_policies_are_carried_and_limit_the_next_hop() {
    let mut w = World::new();
    let alice = w.user(A, "alice", None);
    let alice_arn = format!("arn:aws:iam::{A}:user/alice");
    let read = w
        .store(A)
        .create_policy(NewPolicy {
            name: "Read".to_owned(),
            document: allow("\"s3:Get*\"", "*"),
            ..NewPolicy::default()
        })
        .unwrap();
    let r1 = w.role(
        A,
        "First",
        &trust(&alice_arn, &["sts:AssumeRole"], ""),
        Some(&allow("\"sts:AssumeRole\"", "*")),
        vec![],
    );
    // Second trusts the account: First's sessions need an identity allow, within their session policies.
    let r2 = w.role(A, "Second", &trust(A, &["sts:AssumeRole"], ""), None, vec![]);

    let mut r = req(&r1, "ss");
    r.policy = Some(allow("\"s3:*\"", "*"));
    r.policy_arns = vec![read.arn.clone()];
    let limited = w.assume(&alice, &r).unwrap();
    let size = limited.packed_policy_size.unwrap();
    assert!(size > 0 && size <= 100, "{size}");
    assert_eq!(limited.claims.policy_arns, vec![read.arn.clone()]);
    assert_eq!(code(w.assume(&w.session(&limited), &req(&r2, "tt"))), StsErrorCode::AccessDenied);

    r.policy = Some(allow("[\"s3:*\", \"sts:AssumeRole\"]", "*"));
    let wide = w.assume(&alice, &r).unwrap();
    assert!(w.assume(&w.session(&wide), &req(&r2, "tt")).is_ok());

    r.policy_arns = vec![format!("arn:aws:iam::{A}:policy/Missing")];
    let e = w.assume(&alice, &r).unwrap_err();
    assert_eq!(e.code, StsErrorCode::MalformedPolicyDocument);
}

#[test]
fn packed_policy_too_large() {
    let mut w = World::new();
    let alice = w.user(A, "alice", None);
    let arn = w.role(
        A,
        "R",
        &trust(&format!("arn:aws:iam::{A}:user/alice"), &["sts:AssumeRole", "sts:TagSession"], ""),
        None,
        vec![],
    );
    let mut r = req(&arn, "ss");
    r.tags = (0..20).map(|i| Tag::new(format!("{i:0>100}"), "v".repeat(200))).collect();
    let e = w.assume(&alice, &r).unwrap_err();
    assert_eq!(e.code, StsErrorCode::PackedPolicyTooLarge);
    r.tags.truncate(5);
    assert!(w.assume(&alice, &r).is_ok());
}

#[test]
fn token_in_the_wrong_access_key_or_after_key_rotation() {
    let mut w = World::new();
    let alice = w.user(A, "alice", None);
    let arn = w.role(A, "R", &trust(&format!("arn:aws:iam::{A}:user/alice"), &["sts:AssumeRole"], ""), None, vec![]);
    let one = w.assume(&alice, &req(&arn, "aa")).unwrap();
    let two = w.assume(&alice, &req(&arn, "bb")).unwrap();
    let now = w.clock.now();
    let e = w.tokens.open_for(one.credentials.session_token.as_str(), two.credentials.access_key_id.as_str(), now);
    assert_eq!(StsError::from(e.unwrap_err()).code, StsErrorCode::InvalidClientTokenId);
    w.tokens = w.tokens.clone().rotate(SealingKey::new(2, [8; 32]));
    assert!(w.tokens.open(one.credentials.session_token.as_str(), now).is_ok());
    w.tokens = w.tokens.clone().drop_key(1);
    let e = w.tokens.open(one.credentials.session_token.as_str(), now).unwrap_err();
    assert_eq!(StsError::from(e).code, StsErrorCode::InvalidClientTokenId);
}

// ---------------------------------------------------------------------------------------------
// Property: no bit flip of a valid token opens.
// ---------------------------------------------------------------------------------------------

const DEFAULT_CASES: u32 = 256;

fn config() -> ProptestConfig {
    let cases = std::env::var("CASTELLAN_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_CASES);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

fn issued_token(seed: u64) -> (SessionTokenService, String, String) {
    let mut w = World::new();
    w.rng = StdRng::seed_from_u64(seed);
    let alice = w.user(A, "alice", None);
    let arn = w.role(
        A,
        "R",
        &trust(&format!("arn:aws:iam::{A}:user/alice"), &["sts:AssumeRole", "sts:TagSession"], ""),
        None,
        vec![],
    );
    let mut r = req(&arn, "ss");
    r.tags = vec![Tag::new("Project", "blue")];
    let resp = w.assume(&alice, &r).unwrap();
    (w.tokens.clone(), resp.credentials.session_token.to_string(), resp.credentials.access_key_id.to_string())
}

proptest! {
    #![proptest_config(config())]

    /// Flipping any bit of the sealed bytes is refused.
    #[test]
    fn flipped_bytes_are_refused(seed in 0u64..4, bit in any::<prop::sample::Index>()) {
        let (tokens, token, _) = issued_token(seed);
        let mut bytes = SealedSecret::parse(&token).unwrap().as_bytes().to_vec();
        let i = bit.index(bytes.len() * 8);
        bytes[i / 8] ^= 1 << (i % 8);
        let altered = SealedSecret::from_bytes(bytes).to_string();
        let e = tokens.open(&altered, UnixTime::from_seconds(T0)).unwrap_err();
        prop_assert_eq!(StsError::from(e).code, StsErrorCode::InvalidClientTokenId);
    }

    /// Flipping any bit of the token's text is refused.
    #[test]
    fn flipped_text_is_refused(seed in 0u64..4, bit in any::<prop::sample::Index>()) {
        let (tokens, token, key) = issued_token(seed);
        let mut text = token.into_bytes();
        let i = bit.index(text.len() * 7);
        text[i / 7] ^= 1 << (i % 7);
        let altered = String::from_utf8(text).unwrap();
        prop_assert!(tokens.open_for(&altered, &key, UnixTime::from_seconds(T0)).is_err());
    }
}

// ---------------------------------------------------------------------------------------------
// GetSessionToken and GetFederationToken
// ---------------------------------------------------------------------------------------------

mod tokens {
    use castellan_sts::{GetFederationTokenRequest, GetSessionTokenRequest};

    use super::*;

    fn sts(w: &World) -> Sts<'_> {
        Sts { accounts: &w.accounts, tokens: &w.tokens, clock: &*w.clock, mfa: Some(&FixedCode), guardrails: None }
    }

    #[test]
    fn get_session_token_durations_and_mfa() {
        let mut w = World::new();
        let alice = w.user(A, "alice", None);
        let mut rng = StdRng::seed_from_u64(5);
        let r = sts(&w).get_session_token(&alice, &GetSessionTokenRequest::default(), &mut rng).unwrap();
        assert_eq!(r.credentials.expiration, UnixTime::from_seconds(T0 + 43_200));
        assert!(!r.claims.mfa.present);
        let user = w.store(A).user("alice").unwrap();
        let who = caller_identity(&r.claims.principal(&[]).unwrap()).unwrap();
        assert_eq!((who.user_id, who.arn), (user.user_id.clone(), user.arn.clone()));

        let root = Caller::Root { account: A.to_owned() };
        let long = GetSessionTokenRequest { duration_seconds: Some(129_600), ..Default::default() };
        let r = sts(&w).get_session_token(&root, &long, &mut rng).unwrap();
        assert_eq!(r.credentials.expiration, UnixTime::from_seconds(T0 + 3_600));
        let who = caller_identity(&r.claims.principal(&[]).unwrap()).unwrap();
        assert_eq!((who.user_id.as_str(), who.arn), (A, format!("arn:aws:iam::{A}:root")));

        let with_mfa = GetSessionTokenRequest {
            serial_number: Some(format!("arn:aws:iam::{A}:mfa/alice")),
            token_code: Some("123456".to_owned()),
            ..Default::default()
        };
        let mfa = sts(&w).get_session_token(&alice, &with_mfa, &mut rng).unwrap();
        assert!(mfa.claims.mfa.present);
        let bad = GetSessionTokenRequest { token_code: Some("000000".to_owned()), ..with_mfa.clone() };
        assert_eq!(code(sts(&w).get_session_token(&alice, &bad, &mut rng)), StsErrorCode::AccessDenied);

        // Session credentials cannot call it.
        let session = w.session_of(&mfa.credentials);
        let e = sts(&w).get_session_token(&session, &GetSessionTokenRequest::default(), &mut rng).unwrap_err();
        assert_eq!(e.message, "Cannot call GetSessionToken with session credentials");

        // An MFA session assumes a role that demands MFA; that is not role chaining.
        let cond = r#"{"Bool": {"aws:MultiFactorAuthPresent": "true"}}"#;
        let arn = w.role(A, "Mfa", &trust(&user.arn, &["sts:AssumeRole"], cond), None, vec![]);
        let mut long = req(&arn, "ss");
        long.duration_seconds = Some(7_200);
        let assumed = w.assume(&session, &long).unwrap();
        assert!(!assumed.claims.chained);
        assert!(assumed.claims.mfa.present);
        let plain = w.session_of(&r_plain(&w, &alice));
        assert_eq!(code(w.assume(&plain, &req(&arn, "ss"))), StsErrorCode::AccessDenied);
    }

    fn r_plain(w: &World, alice: &Caller) -> castellan_sts::Credentials {
        let mut rng = StdRng::seed_from_u64(6);
        sts(w).get_session_token(alice, &GetSessionTokenRequest::default(), &mut rng).unwrap().credentials
    }

    #[test]
    fn get_federation_token_needs_an_identity_allow() {
        let mut w = World::new();
        let mut rng = StdRng::seed_from_u64(5);
        let request = GetFederationTokenRequest {
            name: "bob".to_owned(),
            policy: Some(allow("\"s3:*\"", "*")),
            tags: vec![Tag::new("team", "x")],
            ..Default::default()
        };
        let alice = w.user(A, "alice", Some(&allow("\"sts:GetFederationToken\"", "*")));
        let e = sts(&w).get_federation_token(&alice, &request, &Context::new(), &mut rng).unwrap_err();
        assert!(e.message.contains("sts:TagSession"), "{}", e.message);
        let carol = w.user(A, "carol", None);
        assert_eq!(
            code(sts(&w).get_federation_token(
                &carol,
                &GetFederationTokenRequest { name: "bob".to_owned(), ..Default::default() },
                &Context::new(),
                &mut rng
            )),
            StsErrorCode::AccessDenied
        );
        let dave = w.user(
            A,
            "dave",
            Some(&allow(
                "[\"sts:GetFederationToken\", \"sts:TagSession\"]",
                &format!("arn:aws:sts::{A}:federated-user/*"),
            )),
        );
        let r = sts(&w).get_federation_token(&dave, &request, &Context::new(), &mut rng).unwrap();
        let fed = r.federated_user.clone().unwrap();
        assert_eq!(fed.federated_user_id, format!("{A}:bob"));
        assert_eq!(fed.arn, format!("arn:aws:sts::{A}:federated-user/bob"));
        assert_eq!(r.credentials.expiration, UnixTime::from_seconds(T0 + 43_200));
        assert!(r.packed_policy_size.is_some());
        assert_eq!(r.claims.chain_origin.as_deref(), Some(format!("arn:aws:iam::{A}:user/dave").as_str()));
        let who = caller_identity(&r.claims.principal(&[]).unwrap()).unwrap();
        assert_eq!((who.user_id, who.arn), (fed.federated_user_id, fed.arn));
        // The root user needs no policy; federated users may not assume roles.
        let root = Caller::Root { account: A.to_owned() };
        let r = sts(&w).get_federation_token(&root, &request, &Context::new(), &mut rng).unwrap();
        assert_eq!(r.credentials.expiration, UnixTime::from_seconds(T0 + 3_600));
        let fed_session = w.session_of(&r.credentials);
        let arn = w.role(A, "R", &trust(A, &["sts:AssumeRole"], ""), None, vec![]);
        assert_eq!(code(w.assume(&fed_session, &req(&arn, "ss"))), StsErrorCode::AccessDenied);
        // Shapes.
        let short = GetFederationTokenRequest { name: "b".to_owned(), ..Default::default() };
        assert_eq!(
            code(sts(&w).get_federation_token(&root, &short, &Context::new(), &mut rng)),
            StsErrorCode::ValidationError
        );
    }
}

// Second round: the store behind MFA, sessions and providers; guardrails; web identity;
// authorization messages; caller identity and access key info.
#[path = "sts/guardrails.rs"]
mod guardrails;
#[path = "sts/messages.rs"]
mod messages;
#[path = "sts/store_backed.rs"]
mod store_backed;
#[path = "sts/web_identity.rs"]
mod web_identity;
