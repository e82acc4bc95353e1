//! The durable backend across reopening: the state comes back exactly, and a data directory of
//! a newer schema version is refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use castellan_credentials::FixedClock;
use castellan_policy::AccountId;
use castellan_store::{
    DATA_FILE, Directory, DurableStore, Entity, ErrorCode, NewPolicy, NewRole, NewUser, PageRequest, SCHEMA_VERSION,
    Store, Tag,
};
use rand::SeedableRng;
use rand::rngs::StdRng;

const ACCOUNT: &str = "123456789012";
const DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
const DOC2: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#;
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

fn temp_dir() -> PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("castellan-store-durable-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn open_at(dir: &Path, now: i64, seed: u64) -> Result<DurableStore, castellan_store::StoreError> {
    DurableStore::open(
        dir,
        AccountId::parse(ACCOUNT).unwrap(),
        Arc::new(FixedClock::new(now)),
        StdRng::seed_from_u64(seed),
    )
}

/// Everything the public API shows of a store, as text.
fn dump(s: &impl Store) -> String {
    dump_dyn(s)
}

fn dump_dyn(s: &dyn Store) -> String {
    let all = PageRequest::first(1000);
    let mut out = String::new();
    for u in s.list_users(None, &all).unwrap().items {
        let e = Entity::User(u.name.as_str());
        let groups = s.list_groups_for_user(u.name.as_str(), &all).unwrap().items;
        let inline: Vec<_> =
            s.list_inline_policies(e).unwrap().iter().map(|n| s.inline_policy(e, n).unwrap()).collect();
        out += &format!("{u:?}\n{groups:?}\n{:?}\n{inline:?}\n", s.list_attached_policies(e).unwrap());
    }
    for g in s.list_groups(None, &all).unwrap().items {
        let e = Entity::Group(g.name.as_str());
        let inline: Vec<_> =
            s.list_inline_policies(e).unwrap().iter().map(|n| s.inline_policy(e, n).unwrap()).collect();
        out += &format!(
            "{:?}\n{:?}\n{inline:?}\n",
            s.group(g.name.as_str()).unwrap(),
            s.list_attached_policies(e).unwrap()
        );
    }
    for r in s.list_roles(None, &all).unwrap().items {
        let e = Entity::Role(r.name.as_str());
        let inline: Vec<_> =
            s.list_inline_policies(e).unwrap().iter().map(|n| s.inline_policy(e, n).unwrap()).collect();
        out += &format!("{r:?}\n{:?}\n{inline:?}\n", s.list_attached_policies(e).unwrap());
    }
    for p in s.list_policies(None, &all).unwrap().items {
        out += &format!("{p:?}\n{:?}\n", s.list_policy_versions(&p.arn).unwrap());
    }
    out
}

fn populate(s: &impl Store) {
    s.create_user(NewUser {
        name: "alice".into(),
        path: Some("/eng/".into()),
        tags: vec![Tag::new("team", "a")],
        ..NewUser::default()
    })
    .unwrap();
    s.create_user(NewUser { name: "bob".into(), ..NewUser::default() }).unwrap();
    s.create_user(NewUser { name: "gone".into(), ..NewUser::default() }).unwrap();
    s.delete_user("gone").unwrap();
    s.tag_user("bob", vec![Tag::new("k", "v"), Tag::new("x", "y")]).unwrap();
    s.untag_user("bob", &["x".to_owned()]).unwrap();
    s.create_group("devs", Some("/g/")).unwrap();
    s.add_user_to_group("devs", "alice").unwrap();
    let boundary = s.create_policy(NewPolicy { name: "Boundary".into(), document: DOC.into(), ..NewPolicy::default() });
    let p = s
        .create_policy(NewPolicy {
            name: "Read".into(),
            document: DOC.into(),
            description: Some("d".into()),
            ..NewPolicy::default()
        })
        .unwrap();
    s.create_policy_version(&p.arn, DOC2, true).unwrap();
    s.create_policy_version(&p.arn, DOC, false).unwrap();
    s.delete_policy_version(&p.arn, "v3").unwrap();
    s.create_role(NewRole {
        name: "app".into(),
        assume_role_policy_document: TRUST.into(),
        description: Some("the app".into()),
        max_session_duration: Some(7200),
        permissions_boundary: Some(boundary.unwrap().arn),
        tags: vec![Tag::new("env", "prod")],
        ..NewRole::default()
    })
    .unwrap();
    for e in [Entity::User("alice"), Entity::Group("devs"), Entity::Role("app")] {
        s.attach_policy(e, &p.arn).unwrap();
        s.put_inline_policy(e, "inline", DOC).unwrap();
    }
    s.detach_policy(Entity::User("alice"), &p.arn).unwrap();
    s.attach_policy(Entity::User("alice"), &p.arn).unwrap();
}

#[test]
fn reopening_restores_the_state_exactly() {
    let dir = temp_dir();
    let before = {
        let s = open_at(&dir, 1_700_000_000, 1).unwrap();
        populate(&s);
        dump(&s)
    };
    assert!(before.contains("AIDA") && before.contains("v2") && before.contains("prod"));
    // Another clock and RNG: nothing of the stored state may come from them.
    let s = open_at(&dir, 1_800_000_000, 2).unwrap();
    assert_eq!(dump(&s), before);
    // The reopened store keeps working, and its state survives another reopening.
    s.create_user(NewUser { name: "carol".into(), ..NewUser::default() }).unwrap();
    assert_eq!(
        s.create_user(NewUser { name: "ALICE".into(), ..NewUser::default() }).unwrap_err().code(),
        ErrorCode::EntityAlreadyExists
    );
    let after = dump(&s);
    drop(s);
    assert_eq!(dump(&open_at(&dir, 1, 3).unwrap()), after);
}

#[cfg(unix)]
#[test]
fn reopening_keeps_trust_principals_as_unique_ids() {
    let dir = temp_dir();
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/alice"},"Action":"sts:AssumeRole"}]}"#;
    let old_id = {
        let s = open_at(&dir, 1, 1).unwrap();
        let alice = s.create_user(NewUser { name: "alice".into(), ..NewUser::default() }).unwrap();
        s.create_role(NewRole { name: "r".into(), assume_role_policy_document: doc.into(), ..NewRole::default() })
            .unwrap();
        alice.user_id
    };
    let s = open_at(&dir, 2, 2).unwrap();
    assert_eq!(s.role("r").unwrap().assume_role_policy_document, doc);
    s.delete_user("alice").unwrap();
    s.create_user(NewUser { name: "alice".into(), ..NewUser::default() }).unwrap();
    drop(s);
    let s = open_at(&dir, 3, 3).unwrap();
    let shown = s.role("r").unwrap().assume_role_policy_document;
    assert!(shown.contains(&old_id) && !shown.contains("user/alice"), "{shown}");
    let trust = s.snapshot().role("r").unwrap().trust.clone().unwrap();
    assert!(!trust.policy.to_string().contains("user/alice"));
    assert!(!trust.policy.to_string().contains(&s.user("alice").unwrap().user_id));
}

#[test]
fn the_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir();
    let s = open_at(&dir, 1, 1).unwrap();
    assert_eq!(s.path(), dir.join(DATA_FILE));
    let mode = std::fs::metadata(s.path()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn a_newer_schema_version_is_refused() {
    let dir = temp_dir();
    drop(open_at(&dir, 1, 1).unwrap());
    let conn = rusqlite::Connection::open(dir.join(DATA_FILE)).unwrap();
    let version: i64 = conn.query_row("SELECT version FROM schema_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    conn.execute("UPDATE schema_version SET version = ?1", [SCHEMA_VERSION + 1]).unwrap();
    drop(conn);
    let err = open_at(&dir, 1, 1).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ServiceFailure);
    let expected =
        format!("schema version {}, newer than this Castellan supports ({SCHEMA_VERSION})", SCHEMA_VERSION + 1);
    assert!(err.message().contains(&expected), "{err}");
}

fn open_directory(dir: &Path, seed: u64) -> Result<Directory, castellan_store::StoreError> {
    Directory::open(dir, Arc::new(FixedClock::new(1_700_000_000)), StdRng::seed_from_u64(seed))
}

#[test]
fn a_data_directory_holds_several_accounts() {
    let dir = temp_dir();
    {
        let d = open_directory(&dir, 1).unwrap();
        assert!(d.account_ids().is_empty());
        let a = d.create_account(AccountId::parse(ACCOUNT).unwrap()).unwrap();
        let b = d.create_account(AccountId::parse("210987654321").unwrap()).unwrap();
        let again = d.create_account(AccountId::parse(ACCOUNT).unwrap()).unwrap_err();
        assert_eq!(again.code(), ErrorCode::EntityAlreadyExists);
        a.create_user(NewUser { name: "alice".into(), ..NewUser::default() }).unwrap();
        b.create_user(NewUser { name: "bob".into(), ..NewUser::default() }).unwrap();
        // Names are per account: the same name in two accounts is two users.
        b.create_user(NewUser { name: "alice".into(), ..NewUser::default() }).unwrap();
    }
    let d = open_directory(&dir, 2).unwrap();
    assert_eq!(d.account_ids(), [ACCOUNT, "210987654321"]);
    let a = d.account(ACCOUNT).unwrap();
    let b = d.account("210987654321").unwrap();
    let names = |s: &dyn Store| -> Vec<String> {
        s.list_users(None, &PageRequest::first(10)).unwrap().items.into_iter().map(|u| u.name.to_string()).collect()
    };
    assert_eq!(names(&*a), ["alice"]);
    assert_eq!(names(&*b), ["alice", "bob"]);
    assert!(b.user("alice").unwrap().arn.starts_with("arn:aws:iam::210987654321:user/"));
    assert_ne!(a.user("alice").unwrap().user_id, b.user("alice").unwrap().user_id);
    let missing = d.account("111122223333").unwrap_err();
    assert_eq!((missing.code(), missing.http_status()), (ErrorCode::NoSuchEntity, 404));
    assert!(d.snapshot(ACCOUNT).unwrap().user("alice").is_some());
    // An empty account survives reopening too.
    d.create_account(AccountId::parse("111122223333").unwrap()).unwrap();
    drop((a, b, d));
    assert_eq!(open_directory(&dir, 3).unwrap().account_ids().len(), 3);
}

#[test]
fn a_data_directory_is_used_by_one_process_at_a_time() {
    let dir = temp_dir();
    let first = open_at(&dir, 1, 1).unwrap();
    let err = open_at(&dir, 1, 1).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ServiceFailure);
    assert!(err.message().contains("is in use by another process"), "{err}");
    let err = open_directory(&dir, 1).unwrap_err();
    assert!(err.message().contains("is in use by another process"), "{err}");
    drop(first);
    open_at(&dir, 1, 1).unwrap();
}

/// A data directory written by schema version 1 (one account named in `meta`, records keyed by
/// kind and key) opens, upgraded, with its records.
#[test]
fn a_schema_version_1_data_directory_is_upgraded() {
    // Take version 2's record bodies (they did not change) and lay them out as version 1 did.
    let source = temp_dir();
    let bodies: Vec<(String, String, String)> = {
        let s = open_at(&source, 1_700_000_000, 1).unwrap();
        populate(&s);
        drop(s);
        let conn = rusqlite::Connection::open(source.join(DATA_FILE)).unwrap();
        let mut stmt = conn.prepare("SELECT kind, key, body FROM records WHERE kind != 'account'").unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect()
    };
    let expected = dump(&open_at(&source, 1, 1).unwrap());
    let dir = temp_dir();
    std::fs::create_dir_all(&dir).unwrap();
    {
        let conn = rusqlite::Connection::open(dir.join(DATA_FILE)).unwrap();
        conn.execute_batch(
            "CREATE TABLE schema_version (version INTEGER NOT NULL);
             INSERT INTO schema_version (version) VALUES (1);
             CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
             CREATE TABLE records (kind TEXT NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL,
                                   PRIMARY KEY (kind, key)) WITHOUT ROWID;",
        )
        .unwrap();
        conn.execute("INSERT INTO meta (key, value) VALUES ('account', ?1)", [ACCOUNT]).unwrap();
        for (kind, key, body) in &bodies {
            conn.execute("INSERT INTO records (kind, key, body) VALUES (?1, ?2, ?3)", [kind, key, body]).unwrap();
        }
    }
    let upgraded = open_directory(&dir, 4).unwrap();
    assert_eq!(upgraded.account_ids(), [ACCOUNT]);
    let store = upgraded.account(ACCOUNT).unwrap();
    assert!(!bodies.is_empty());
    assert_eq!(dump_dyn(&*store), expected);
    drop((store, upgraded));
    let conn = rusqlite::Connection::open(dir.join(DATA_FILE)).unwrap();
    let version: i64 = conn.query_row("SELECT max(version) FROM schema_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    // Opening again (now version 2) changes nothing.
    drop(conn);
    assert_eq!(dump_dyn(&*open_directory(&dir, 5).unwrap().account(ACCOUNT).unwrap()), expected);
}

#[test]
fn reopening_keeps_aws_managed_policy_attachments() {
    let admin = "arn:aws:iam::aws:policy/AdministratorAccess";
    let boundary = "arn:aws:iam::aws:policy/PowerUserAccess";
    let dir = temp_dir();
    {
        let s = open_at(&dir, 1_700_000_000, 1).unwrap();
        s.create_user(NewUser { name: "alice".into(), ..NewUser::default() }).unwrap();
        s.create_role(NewRole {
            name: "app".into(),
            assume_role_policy_document: TRUST.into(),
            permissions_boundary: Some(boundary.into()),
            ..NewRole::default()
        })
        .unwrap();
        s.attach_policy(Entity::User("alice"), admin).unwrap();
        s.attach_policy(Entity::Role("app"), admin).unwrap();
    }
    let s = open_at(&dir, 1_800_000_000, 2).unwrap();
    assert_eq!(s.policy(admin).unwrap().attachment_count, 2);
    assert_eq!(s.policy(boundary).unwrap().permissions_boundary_usage_count, 1);
    let attached = s.list_attached_policies(Entity::User("alice")).unwrap();
    assert_eq!(attached.iter().map(|p| p.arn.as_str()).collect::<Vec<_>>(), [admin]);
    let snap = s.snapshot();
    assert_eq!(snap.user("alice").unwrap().identity[0].id, admin);
    assert_eq!(snap.role("app").unwrap().boundary.as_ref().unwrap().id, boundary);
    s.detach_policy(Entity::User("alice"), admin).unwrap();
    drop(s);
    assert_eq!(open_at(&dir, 1, 3).unwrap().policy(admin).unwrap().attachment_count, 1);
}

/// The error of an organizations change in these tests: the model's or the store's.
#[derive(Debug)]
enum OrgChangeError {
    Org(castellan_org::OrgError),
    Store(castellan_store::StoreError),
}

impl From<castellan_org::OrgError> for OrgChangeError {
    fn from(e: castellan_org::OrgError) -> Self {
        OrgChangeError::Org(e)
    }
}

impl From<castellan_store::StoreError> for OrgChangeError {
    fn from(e: castellan_store::StoreError) -> Self {
        OrgChangeError::Store(e)
    }
}

#[test]
fn organizations_are_persisted_and_a_failed_change_leaves_nothing() {
    let dir = temp_dir();
    let member = "210987654321";
    let (org_id, ou_id) = {
        let d = open_directory(&dir, 1).unwrap();
        assert!(d.organizations().get().is_none());
        let ids = d
            .update_organizations(|orgs, rng| -> Result<_, OrgChangeError> {
                let org = orgs.create_organization(ACCOUNT, rng)?;
                let root = org.root().id.clone();
                let ou = org.create_organizational_unit(&root, "Workloads", rng)?;
                org.add_account(castellan_org::NewAccount {
                    id: member.into(),
                    name: "member".into(),
                    email: "member@example.com".into(),
                    joined_method: castellan_org::JoinedMethod::Created,
                })?;
                org.move_account(member, &root, &ou.id)?;
                Ok((org.id().to_owned(), ou.id))
            })
            .unwrap();
        // A change that fails halfway leaves the published state as it was.
        let before = d.organizations();
        let failed = d.update_organizations(|orgs, rng| -> Result<(), OrgChangeError> {
            let org = orgs.organization_mut()?;
            org.create_organizational_unit(&ids.1, "Half", rng)?;
            org.delete_organizational_unit("ou-nope-12345678")?;
            Ok(())
        });
        match failed {
            Err(OrgChangeError::Org(e)) => {
                assert_eq!(e.code, castellan_org::OrgErrorCode::OrganizationalUnitNotFound, "{e:?}");
            }
            Err(OrgChangeError::Store(e)) => panic!("the store failed: {e}"),
            Ok(()) => panic!("the change should fail"),
        }
        assert_eq!(*d.organizations(), *before);
        ids
    };
    let d = open_directory(&dir, 2).unwrap();
    let orgs = d.organizations();
    let org = orgs.organization().unwrap();
    assert_eq!(org.id(), org_id);
    assert_eq!(org.management_account_id(), ACCOUNT);
    let chain = org.scp_chain(member).unwrap();
    assert_eq!(chain.iter().map(|l| l.id.as_str()).collect::<Vec<_>>()[1..], [ou_id.as_str(), member]);
    assert!(org.list_organizational_units_for_parent(&ou_id).unwrap().is_empty());
}
