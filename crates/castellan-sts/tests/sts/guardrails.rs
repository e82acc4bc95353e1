//! SCPs of the caller's account and RCPs of the role's account, from a hand-made organization.

use std::sync::Mutex;

use castellan_policy::{Policy, PolicyKind};
use castellan_sts::{GetFederationTokenRequest, GuardLevel, Guardrails};

use super::*;

const FULL: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}"#;
const RCP_FULL: &str =
    r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}}"#;

/// An organization path: each level's id and its policy documents.
type Path = Vec<(String, Vec<&'static str>)>;

/// Accounts A and B under one root and one OU each; policies per level, changed by tests.
#[derive(Default)]
struct Org {
    scp: Mutex<BTreeMap<String, Path>>,
    rcp: Mutex<BTreeMap<String, Path>>,
    asked: Mutex<Vec<String>>,
}

fn levels(path: &[(String, Vec<&'static str>)], kind: PolicyKind) -> Vec<GuardLevel> {
    path.iter()
        .map(|(id, docs)| GuardLevel {
            id: id.clone(),
            policies: docs
                .iter()
                .enumerate()
                .map(|(i, d)| (format!("p-{id}-{i}"), Arc::new(Policy::parse(d, kind).unwrap())))
                .collect(),
        })
        .collect()
}

impl Org {
    fn new() -> Org {
        let org = Org::default();
        for account in [A, B] {
            let path = |full: &'static str| {
                vec![
                    ("r-root".to_owned(), vec![full]),
                    (format!("ou-{account}"), vec![full]),
                    (account.to_owned(), vec![full]),
                ]
            };
            org.scp.lock().unwrap().insert(account.to_owned(), path(FULL));
            org.rcp.lock().unwrap().insert(account.to_owned(), path(RCP_FULL));
        }
        org
    }

    fn set(&self, scp: bool, account: &str, level: usize, docs: Vec<&'static str>) {
        let map = if scp { &self.scp } else { &self.rcp };
        map.lock().unwrap().get_mut(account).unwrap()[level].1 = docs;
    }
}

impl Guardrails for Org {
    fn scp(&self, account: &str, principal_arn: &str) -> Option<Vec<GuardLevel>> {
        self.asked.lock().unwrap().push(format!("scp {account} {principal_arn}"));
        self.scp.lock().unwrap().get(account).map(|p| levels(p, PolicyKind::Scp))
    }

    fn rcp(&self, account: &str) -> Option<Vec<GuardLevel>> {
        self.asked.lock().unwrap().push(format!("rcp {account}"));
        self.rcp.lock().unwrap().get(account).map(|p| levels(p, PolicyKind::Rcp))
    }
}

const DENY_ASSUME: &str =
    r#"{"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": "*"}}"#;
const DENY_OUTSIDERS: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Principal": "*",
    "Action": "sts:AssumeRole", "Resource": "*",
    "Condition": {"StringNotEquals": {"aws:PrincipalAccount": "222222222222"}}}}"#;

fn assume_with(
    w: &mut World,
    org: &Org,
    caller: &Caller,
    r: &AssumeRoleRequest,
) -> Result<AssumeRoleResponse, StsError> {
    let sts = Sts { accounts: &w.accounts, tokens: &w.tokens, clock: &*w.clock, mfa: None, guardrails: Some(org) };
    sts.assume_role(caller, r, &Context::new(), &mut w.rng)
}

#[test]
fn an_scp_deny_at_any_level_of_the_callers_path_denies() {
    let mut w = World::new();
    let org = Org::new();
    let alice = w.user(A, "alice", None);
    let same = w.role(A, "R", &trust(&format!("arn:aws:iam::{A}:user/alice"), &["sts:AssumeRole"], ""), None, vec![]);
    assert!(assume_with(&mut w, &org, &alice, &req(&same, "s1")).is_ok());
    assert!(org.asked.lock().unwrap().contains(&format!("scp {A} arn:aws:iam::{A}:user/alice")));
    for level in 0..3 {
        org.set(true, A, level, vec![FULL, DENY_ASSUME]);
        let e = assume_with(&mut w, &org, &alice, &req(&same, "s1")).unwrap_err();
        assert_eq!(e.code, StsErrorCode::AccessDenied, "deny at level {level}");
        org.set(true, A, level, vec![FULL]);
    }
    // A level without any allow denies too (every level must allow).
    org.set(true, A, 1, vec![]);
    assert_eq!(code(assume_with(&mut w, &org, &alice, &req(&same, "s1"))), StsErrorCode::AccessDenied);
    org.set(true, A, 1, vec![FULL]);
    // The role account's SCPs do not bind a caller from another account.
    let bob = w.user(A, "bob", Some(&allow("\"sts:AssumeRole\"", "*")));
    let cross = w.role(B, "X", &trust(A, &["sts:AssumeRole"], ""), None, vec![]);
    org.set(true, B, 0, vec![FULL, DENY_ASSUME]);
    assert!(assume_with(&mut w, &org, &bob, &req(&cross, "s1")).is_ok());
    org.set(true, A, 2, vec![FULL, DENY_ASSUME]);
    assert_eq!(code(assume_with(&mut w, &org, &bob, &req(&cross, "s1"))), StsErrorCode::AccessDenied);
    // Without an organization nothing of this applies.
    assert!(w.assume(&bob, &req(&cross, "s1")).is_ok());
}

#[test]
fn an_rcp_deny_applies_to_the_roles_account() {
    let mut w = World::new();
    let org = Org::new();
    let bob = w.user(A, "bob", Some(&allow("\"sts:AssumeRole\"", "*")));
    let carol = w.user(B, "carol", Some(&allow("\"sts:AssumeRole\"", "*")));
    let both = format!(
        r#"{{"Version": "2012-10-17", "Statement": {{"Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {{"AWS": ["arn:aws:iam::{A}:root", "arn:aws:iam::{B}:root"]}}}}}}"#
    );
    let role = w.role(B, "X", &both, None, vec![]);
    assert!(assume_with(&mut w, &org, &bob, &req(&role, "s1")).is_ok());
    // B's RCP keeps outsiders off its roles; B's own principals still pass.
    org.set(false, B, 1, vec![RCP_FULL, DENY_OUTSIDERS]);
    assert_eq!(code(assume_with(&mut w, &org, &bob, &req(&role, "s1"))), StsErrorCode::AccessDenied);
    assert!(assume_with(&mut w, &org, &carol, &req(&role, "s1")).is_ok());
    // The caller account's RCPs do not apply to B's role.
    org.set(false, B, 1, vec![RCP_FULL]);
    org.set(false, A, 0, vec![RCP_FULL, DENY_OUTSIDERS]);
    assert!(assume_with(&mut w, &org, &bob, &req(&role, "s1")).is_ok());
}

#[test]
fn scps_bind_get_federation_token_for_users_and_the_root_user() {
    let mut w = World::new();
    let org = Org::new();
    let alice = w.user(A, "alice", Some(&allow("\"sts:GetFederationToken\"", "*")));
    let root = Caller::Root { account: A.to_owned() };
    let r = GetFederationTokenRequest { name: "fed".into(), ..Default::default() };
    let sts = Sts { accounts: &w.accounts, tokens: &w.tokens, clock: &*w.clock, mfa: None, guardrails: Some(&org) };
    assert!(sts.get_federation_token(&alice, &r, &Context::new(), &mut w.rng).is_ok());
    assert!(sts.get_federation_token(&root, &r, &Context::new(), &mut w.rng).is_ok());
    const DENY_FED: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Action": "sts:GetFederationToken", "Resource": "*"}}"#;
    org.set(true, A, 0, vec![FULL, DENY_FED]);
    assert_eq!(code(sts.get_federation_token(&alice, &r, &Context::new(), &mut w.rng)), StsErrorCode::AccessDenied);
    assert_eq!(code(sts.get_federation_token(&root, &r, &Context::new(), &mut w.rng)), StsErrorCode::AccessDenied);
}
