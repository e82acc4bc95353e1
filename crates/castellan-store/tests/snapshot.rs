//! The authorization read path: the snapshot published after each committed write, as one suite generic over [`Store`].
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;

use castellan_credentials::FixedClock;
use castellan_policy::AccountId;
use castellan_store::{DurableStore, Entity, MemoryStore, NewPolicy, NewRole, NewUser, PrincipalPolicies, Store, Tag};
use rand::SeedableRng;
use rand::rngs::StdRng;

const ACCOUNT: &str = "123456789012";
const NOW: i64 = 1_700_000_000;
const DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
const DOC2: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#;
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

macro_rules! snapshot_suite {
    ($backend:ident, $make:expr) => {
        mod $backend {
            use super::*;
            snapshot_suite!(@tests $make;
                attach_and_detach, inline_put_and_delete, group_membership_and_group_policies, role_boundary_and_trust,
                new_default_version, deletes, snapshots_are_immutable, unchanged_principals_are_shared,
                lookups_ignore_case_and_generation_increases, aws_managed_policies_as_layers,
                trust_of_deleted_principals);
        }
    };
    (@tests $make:expr; $($name:ident),*) => {
        $(#[test] fn $name() { super::$name(&$make()); })*
    };
}

fn memory_store() -> MemoryStore {
    MemoryStore::new(AccountId::parse(ACCOUNT).unwrap(), Arc::new(FixedClock::new(NOW)), StdRng::seed_from_u64(7))
}

fn temp_dir() -> std::path::PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("castellan-store-snapshot-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn open(dir: &std::path::Path) -> DurableStore {
    DurableStore::open(
        dir,
        AccountId::parse(ACCOUNT).unwrap(),
        Arc::new(FixedClock::new(NOW)),
        StdRng::seed_from_u64(7),
    )
    .unwrap()
}

fn durable_store() -> DurableStore {
    open(&temp_dir())
}

snapshot_suite!(memory, memory_store);
snapshot_suite!(durable, durable_store);

fn user(s: &impl Store, name: &str) {
    s.create_user(NewUser { name: name.into(), ..NewUser::default() }).unwrap();
}

fn policy(s: &impl Store, name: &str) -> String {
    s.create_policy(NewPolicy { name: name.into(), document: DOC.into(), ..NewPolicy::default() }).unwrap().arn
}

fn role(name: &str) -> NewRole {
    NewRole { name: name.into(), assume_role_policy_document: TRUST.into(), ..NewRole::default() }
}

fn ids(p: &PrincipalPolicies) -> Vec<String> {
    p.identity.iter().map(|l| l.id.clone()).collect()
}

fn user_ids(s: &impl Store, name: &str) -> Vec<String> {
    ids(s.snapshot().user(name).unwrap())
}

fn attach_and_detach(s: &impl Store) {
    user(s, "alice");
    let a = policy(s, "pa");
    let b = policy(s, "pb");
    assert!(user_ids(s, "alice").is_empty());
    s.attach_policy(Entity::User("alice"), &b).unwrap();
    s.attach_policy(Entity::User("alice"), &a).unwrap();
    assert_eq!(user_ids(s, "alice"), vec![b.clone(), a.clone()]);
    let snap = s.snapshot();
    let layer = &snap.user("alice").unwrap().identity[0];
    assert!(Arc::ptr_eq(&layer.policy, &snap.managed_policy(&b).unwrap().policy));
    s.detach_policy(Entity::User("alice"), &b).unwrap();
    assert_eq!(user_ids(s, "alice"), vec![a]);
}

fn inline_put_and_delete(s: &impl Store) {
    user(s, "Alice");
    s.put_inline_policy(Entity::User("alice"), "Read", DOC).unwrap();
    assert_eq!(user_ids(s, "alice"), vec!["user/Alice/inline/Read".to_owned()]);
    let before = s.snapshot();
    s.put_inline_policy(Entity::User("alice"), "Read", DOC2).unwrap();
    let after = s.snapshot();
    let (old, new) = (&before.user("alice").unwrap().identity[0], &after.user("alice").unwrap().identity[0]);
    assert!(!Arc::ptr_eq(&old.policy, &new.policy), "a replaced document is parsed again");
    assert_ne!(old.policy, new.policy);
    s.put_inline_policy(Entity::User("alice"), "Other", DOC).unwrap();
    let third = s.snapshot();
    let read = third.user("alice").unwrap().identity.iter().find(|l| l.id.ends_with("/Read")).unwrap().clone();
    assert!(Arc::ptr_eq(&read.policy, &new.policy), "an unchanged inline policy is not parsed again");
    s.delete_inline_policy(Entity::User("alice"), "Read").unwrap();
    assert_eq!(user_ids(s, "alice"), vec!["user/Alice/inline/Other".to_owned()]);
}

fn group_membership_and_group_policies(s: &impl Store) {
    user(s, "alice");
    user(s, "bob");
    s.create_group("Devs", None).unwrap();
    let p = policy(s, "p");
    s.add_user_to_group("devs", "alice").unwrap();
    let snap = s.snapshot();
    assert_eq!(snap.user("alice").unwrap().groups, vec!["devs".to_owned()]);
    assert_eq!(snap.group("DEVS").unwrap().members, vec!["alice".to_owned()]);
    s.attach_policy(Entity::Group("devs"), &p).unwrap();
    s.put_inline_policy(Entity::Group("devs"), "G", DOC2).unwrap();
    assert_eq!(user_ids(s, "alice"), vec!["group/Devs/inline/G".to_owned(), p.clone()]);
    assert!(user_ids(s, "bob").is_empty());
    s.add_user_to_group("devs", "bob").unwrap();
    assert_eq!(user_ids(s, "bob"), vec!["group/Devs/inline/G".to_owned(), p.clone()]);
    s.remove_user_from_group("devs", "alice").unwrap();
    let snap = s.snapshot();
    assert!(snap.user("alice").unwrap().identity.is_empty());
    assert!(snap.user("alice").unwrap().groups.is_empty());
    assert_eq!(snap.group("devs").unwrap().members, vec!["bob".to_owned()]);
    s.detach_policy(Entity::Group("devs"), &p).unwrap();
    assert_eq!(user_ids(s, "bob"), vec!["group/Devs/inline/G".to_owned()]);
}

fn role_boundary_and_trust(s: &impl Store) {
    let b = policy(s, "boundary");
    let p = policy(s, "p");
    s.create_role(NewRole { permissions_boundary: Some(b.clone()), ..role("App") }).unwrap();
    s.attach_policy(Entity::Role("app"), &p).unwrap();
    s.put_inline_policy(Entity::Role("app"), "I", DOC2).unwrap();
    let snap = s.snapshot();
    let r = snap.role("APP").unwrap();
    assert_eq!(ids(r), vec!["role/App/inline/I".to_owned(), p]);
    assert_eq!(r.boundary.as_ref().unwrap().id, b);
    assert_eq!(r.trust.as_ref().unwrap().id, "role/App/trust");
    assert!(r.unique_id.starts_with("AROA"));
    assert!(snap.user("app").is_none());
}

fn trust_principals(p: &PrincipalPolicies) -> Vec<String> {
    use castellan_policy::{Principal, PrincipalClause, PrincipalKind};
    let mut out = Vec::new();
    for st in &p.trust.as_ref().unwrap().policy.statements {
        if let Some(PrincipalClause::Principal(Principal::Named(entries))) = &st.principal {
            for e in entries.iter().filter(|e| e.kind == PrincipalKind::Aws) {
                out.extend(e.values.iter().map(|v| v.as_str().to_owned()));
            }
        }
    }
    out
}

fn trust_of_deleted_principals(s: &impl Store) {
    user(s, "alice");
    s.create_role(role("peer")).unwrap();
    let alice = s.user("alice").unwrap();
    let peer = s.role("peer").unwrap();
    let doc = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":["{}","{}","arn:aws:iam::210987654321:user/alice"]}},"Action":"sts:AssumeRole"}}]}}"#,
        alice.arn, peer.arn
    );
    s.create_role(NewRole { assume_role_policy_document: doc, ..role("app") }).unwrap();
    let other = "arn:aws:iam::210987654321:user/alice".to_owned();
    assert_eq!(
        trust_principals(s.snapshot().role("app").unwrap()),
        vec![alice.arn.clone(), peer.arn.clone(), other.clone()]
    );
    // Deleting the user rebuilds the trust layer with the raw id; the recreated user is not named.
    s.delete_user("alice").unwrap();
    assert_eq!(
        trust_principals(s.snapshot().role("app").unwrap()),
        vec![alice.user_id.clone(), peer.arn.clone(), other.clone()]
    );
    user(s, "alice");
    let new = s.user("alice").unwrap();
    let names = trust_principals(s.snapshot().role("app").unwrap());
    assert_eq!(names, vec![alice.user_id.clone(), peer.arn.clone(), other.clone()]);
    assert!(!names.contains(&new.arn) && !names.contains(&new.user_id));
    // Deleting a role named in a trust policy does the same.
    s.delete_role("peer").unwrap();
    s.create_role(role("peer")).unwrap();
    let names = trust_principals(s.snapshot().role("app").unwrap());
    assert_eq!(names, vec![alice.user_id.clone(), peer.role_id.clone(), other]);
    // Replacing the trust policy is reflected in the snapshot.
    s.update_assume_role_policy("app", TRUST).unwrap();
    assert!(trust_principals(s.snapshot().role("app").unwrap()).is_empty());
}

fn new_default_version(s: &impl Store) {
    user(s, "alice");
    user(s, "bob");
    let p = policy(s, "p");
    s.attach_policy(Entity::User("alice"), &p).unwrap();
    let v1 = s.snapshot();
    s.create_policy_version(&p, DOC2, false).unwrap();
    let same = s.snapshot();
    assert!(Arc::ptr_eq(
        &v1.user("alice").unwrap().identity[0].policy,
        &same.user("alice").unwrap().identity[0].policy
    ));
    s.create_policy_version(&p, DOC2, true).unwrap();
    let v3 = s.snapshot();
    let layer = &v3.user("alice").unwrap().identity[0];
    assert_eq!(layer.id, p);
    assert_eq!(*layer.policy, castellan_policy::Policy::parse(DOC2, castellan_policy::PolicyKind::Identity).unwrap());
    assert_eq!(
        *v1.user("alice").unwrap().identity[0].policy,
        castellan_policy::Policy::parse(DOC, castellan_policy::PolicyKind::Identity).unwrap()
    );
    assert!(Arc::ptr_eq(v1.user("bob").unwrap(), v3.user("bob").unwrap()), "bob does not use the policy");
    s.set_default_policy_version(&p, "v1").unwrap();
    assert_eq!(
        *s.snapshot().user("alice").unwrap().identity[0].policy,
        castellan_policy::Policy::parse(DOC, castellan_policy::PolicyKind::Identity).unwrap()
    );
}

fn deletes(s: &impl Store) {
    user(s, "alice");
    s.create_group("g", None).unwrap();
    s.create_role(role("r")).unwrap();
    let p = policy(s, "p");
    assert!(s.snapshot().managed_policy(&p).is_some());
    s.delete_user("alice").unwrap();
    s.delete_group("g").unwrap();
    s.delete_role("r").unwrap();
    s.delete_policy(&p).unwrap();
    let snap = s.snapshot();
    assert!(snap.user("alice").is_none() && snap.group("g").is_none() && snap.role("r").is_none());
    assert!(snap.managed_policy(&p).is_none());
    assert_eq!(snap.users().count() + snap.roles().count() + snap.groups().count(), 0);
}

fn snapshots_are_immutable(s: &impl Store) {
    user(s, "alice");
    let p = policy(s, "p");
    let before = s.snapshot();
    let copy = Arc::clone(before.user("alice").unwrap());
    s.attach_policy(Entity::User("alice"), &p).unwrap();
    s.tag_user("alice", vec![Tag::new("k", "v")]).unwrap();
    user(s, "bob");
    assert!(before.user("alice").unwrap().identity.is_empty());
    assert!(before.user("alice").unwrap().tags.is_empty());
    assert!(before.user("bob").is_none());
    assert!(Arc::ptr_eq(&copy, before.user("alice").unwrap()));
    assert_eq!(s.snapshot().user("alice").unwrap().identity.len(), 1);
}

fn unchanged_principals_are_shared(s: &impl Store) {
    user(s, "alice");
    user(s, "bob");
    s.create_role(role("r")).unwrap();
    s.create_group("g", None).unwrap();
    s.add_user_to_group("g", "bob").unwrap();
    let p = policy(s, "p");
    let before = s.snapshot();
    s.attach_policy(Entity::User("alice"), &p).unwrap();
    let after = s.snapshot();
    assert!(!Arc::ptr_eq(before.user("alice").unwrap(), after.user("alice").unwrap()));
    assert!(Arc::ptr_eq(before.user("bob").unwrap(), after.user("bob").unwrap()));
    assert!(Arc::ptr_eq(before.role("r").unwrap(), after.role("r").unwrap()));
    assert!(Arc::ptr_eq(before.group("g").unwrap(), after.group("g").unwrap()));
    // A group write rebuilds its members and no one else.
    s.put_inline_policy(Entity::Group("g"), "G", DOC).unwrap();
    let third = s.snapshot();
    assert!(!Arc::ptr_eq(after.user("bob").unwrap(), third.user("bob").unwrap()));
    assert!(Arc::ptr_eq(after.user("alice").unwrap(), third.user("alice").unwrap()));
    assert!(Arc::ptr_eq(after.role("r").unwrap(), third.role("r").unwrap()));
    assert!(Arc::ptr_eq(&third.group("g").unwrap().policies[0].policy, &third.user("bob").unwrap().identity[0].policy));
}

fn lookups_ignore_case_and_generation_increases(s: &impl Store) {
    let g0 = s.snapshot().generation();
    user(s, "MixedCase");
    let snap = s.snapshot();
    assert!(snap.generation() > g0);
    assert_eq!(snap.user("mixedcase").unwrap().name, "MixedCase");
    assert!(snap.user("MIXEDCASE").unwrap().arn.ends_with(":user/MixedCase"));
    assert!(snap.user("not a valid name!").is_none());
    // A refused write publishes nothing.
    assert!(s.create_user(NewUser { name: "mixedCASE".into(), ..NewUser::default() }).is_err());
    assert_eq!(s.snapshot().generation(), snap.generation());
}

#[test]
fn a_reopened_durable_store_publishes_the_same_layers() {
    let dir = temp_dir();
    let (users, roles) = {
        let s = open(&dir);
        user(&s, "alice");
        s.create_group("g", None).unwrap();
        s.add_user_to_group("g", "alice").unwrap();
        let p = policy(&s, "p");
        s.attach_policy(Entity::Group("g"), &p).unwrap();
        s.put_inline_policy(Entity::User("alice"), "I", DOC2).unwrap();
        s.create_role(NewRole { permissions_boundary: Some(p), ..role("r") }).unwrap();
        let snap = s.snapshot();
        (ids(snap.user("alice").unwrap()), ids(snap.role("r").unwrap()))
    };
    let s = open(&dir);
    let snap = s.snapshot();
    assert_eq!(ids(snap.user("alice").unwrap()), users);
    assert_eq!(ids(snap.role("r").unwrap()), roles);
    assert!(snap.role("r").unwrap().boundary.is_some());
    assert_eq!(snap.group("g").unwrap().members, vec!["alice".to_owned()]);
}

fn aws_managed_policies_as_layers(s: &impl Store) {
    let admin = "arn:aws:iam::aws:policy/AdministratorAccess";
    let read_only = "arn:aws:iam::aws:policy/ReadOnlyAccess";
    s.create_user(NewUser { name: "u".into(), ..NewUser::default() }).unwrap();
    s.attach_policy(Entity::User("u"), admin).unwrap();
    let role = NewRole { name: "r".into(), assume_role_policy_document: TRUST.into(), ..NewRole::default() };
    s.create_role(NewRole { permissions_boundary: Some(read_only.into()), ..role }).unwrap();
    s.attach_policy(Entity::Role("r"), read_only).unwrap();
    let snap = s.snapshot();
    let u = snap.user("u").unwrap();
    assert_eq!(u.identity.len(), 1);
    assert_eq!(u.identity[0].id, admin);
    let parsed = castellan_policy::Policy::parse(
        &s.policy_version(admin, &s.policy(admin).unwrap().default_version_id).unwrap().document,
        castellan_policy::PolicyKind::Identity,
    )
    .unwrap();
    assert_eq!(format!("{:?}", u.identity[0].policy), format!("{parsed:?}"));
    let r = snap.role("r").unwrap();
    assert_eq!(r.identity.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), [read_only]);
    assert_eq!(r.boundary.as_ref().unwrap().id, read_only);
    // The parsed document is shared, not parsed again per principal.
    assert!(Arc::ptr_eq(&r.identity[0].policy, &r.boundary.as_ref().unwrap().policy));
    s.detach_policy(Entity::User("u"), admin).unwrap();
    assert!(s.snapshot().user("u").unwrap().identity.is_empty());
}
