//! Writers and readers on several threads: every snapshot a reader takes is one consistent committed state.
//!
//! Each writer repeatedly creates a policy `wWpN`, a user `wWuN` tagged `n=N`, adds the user to its group `gW`,
//! attaches the policy, and tears down the user of two rounds before; another writer keeps making new default
//! versions of a policy attached to every group. Readers check, within each snapshot, that every managed policy a
//! layer names exists, that memberships agree from both sides, that a user's tag and attached policy agree with
//! its name, and that the generation never decreases. Scale with `CASTELLAN_CONCURRENCY_ITERATIONS` (default 150).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;

use castellan_credentials::FixedClock;
use castellan_policy::AccountId;
use castellan_store::{DurableStore, Entity, MemoryStore, NewPolicy, NewUser, Snapshot, Store, Tag};
use rand::SeedableRng;
use rand::rngs::StdRng;

const ACCOUNT: &str = "123456789012";
const DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
const DOC2: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#;
const WRITERS: usize = 3;
const READERS: usize = 3;

fn iterations() -> usize {
    std::env::var("CASTELLAN_CONCURRENCY_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(150)
}

fn writer(s: &dyn Store, w: usize, n: usize) {
    let group = format!("g{w}");
    for i in 0..n {
        let arn = s
            .create_policy(NewPolicy { name: format!("w{w}p{i}"), document: DOC.into(), ..NewPolicy::default() })
            .unwrap()
            .arn;
        let name = format!("w{w}u{i}");
        s.create_user(NewUser { name: name.clone(), tags: vec![Tag::new("n", i.to_string())], ..NewUser::default() })
            .unwrap();
        s.add_user_to_group(&group, &name).unwrap();
        s.attach_policy(Entity::User(&name), &arn).unwrap();
        if let Some(old) = i.checked_sub(2) {
            let old_name = format!("w{w}u{old}");
            let old_arn = arn.replace(&format!("w{w}p{i}"), &format!("w{w}p{old}"));
            s.detach_policy(Entity::User(&old_name), &old_arn).unwrap();
            s.remove_user_from_group(&group, &old_name).unwrap();
            s.delete_user(&old_name).unwrap();
            s.delete_policy(&old_arn).unwrap();
        }
    }
}

fn versioner(s: &dyn Store, arn: &str, n: usize) {
    for i in 0..n {
        let v = s.create_policy_version(arn, if i % 2 == 0 { DOC2 } else { DOC }, true).unwrap();
        let versions = s.list_policy_versions(arn).unwrap();
        for old in versions.iter().filter(|o| o.version_id != v.version_id) {
            s.delete_policy_version(arn, &old.version_id).unwrap();
        }
    }
}

/// Checks one snapshot; returns how many users it holds.
fn check(snap: &Snapshot, shared: &str) -> usize {
    let mut users = 0;
    for (key, u) in snap.users() {
        users += 1;
        for layer in &u.identity {
            if layer.id.starts_with("arn:") {
                assert!(snap.managed_policy(&layer.id).is_some(), "{key} names missing policy {}", layer.id);
            }
        }
        for g in &u.groups {
            let group = snap.group(g).unwrap_or_else(|| panic!("{key} in missing group {g}"));
            assert!(group.members.iter().any(|m| m == key), "{g} does not list {key}");
        }
        // wWuN: tagged n=N, in group gW, with policy wWpN attached and the group's layer.
        let (w, n) = key.trim_start_matches('w').split_once('u').unwrap();
        let tag = u.tags.iter().find(|t| t.key == "n").unwrap();
        assert_eq!(tag.value, n, "{key} carries another user's tag");
        let own: Vec<&str> = u.identity.iter().map(|l| l.id.as_str()).filter(|id| id.contains(":policy/w")).collect();
        assert!(own.len() <= 1, "{key} has {own:?}");
        if let Some(id) = own.first() {
            assert!(id.ends_with(&format!("/w{w}p{n}")), "{key} has another user's policy {id}");
            assert_eq!(u.groups, vec![format!("g{w}")], "{key} attached before it joined its group");
            assert!(u.identity.iter().any(|l| l.id == shared), "{key} lacks its group's layer");
        }
    }
    for (key, g) in snap.groups() {
        for m in &g.members {
            let user = snap.user(m).unwrap_or_else(|| panic!("{key} lists missing user {m}"));
            assert!(user.groups.iter().any(|x| x == key), "{m} does not list {key}");
        }
    }
    users
}

fn run(store: Arc<dyn Store>, n: usize) {
    let shared = store
        .create_policy(NewPolicy { name: "shared".into(), document: DOC.into(), ..NewPolicy::default() })
        .unwrap()
        .arn;
    for w in 0..WRITERS {
        store.create_group(&format!("g{w}"), None).unwrap();
        store.attach_policy(Entity::Group(&format!("g{w}")), &shared).unwrap();
    }
    let done = Arc::new(AtomicBool::new(false));
    let checked = Arc::new(AtomicUsize::new(0));
    thread::scope(|scope| {
        let readers: Vec<_> = (0..READERS)
            .map(|_| {
                let (store, done, checked, shared) =
                    (Arc::clone(&store), Arc::clone(&done), Arc::clone(&checked), &shared);
                scope.spawn(move || {
                    let mut last = 0;
                    loop {
                        let finished = done.load(Ordering::SeqCst);
                        let snap = store.snapshot();
                        assert!(snap.generation() >= last, "generation went back");
                        last = snap.generation();
                        check(&snap, shared);
                        checked.fetch_add(1, Ordering::Relaxed);
                        if finished {
                            break;
                        }
                    }
                })
            })
            .collect();
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let store = Arc::clone(&store);
                scope.spawn(move || writer(store.as_ref(), w, n))
            })
            .collect();
        let versions = {
            let (store, shared) = (Arc::clone(&store), shared.clone());
            scope.spawn(move || versioner(store.as_ref(), &shared, n))
        };
        for h in writers {
            h.join().unwrap();
        }
        versions.join().unwrap();
        done.store(true, Ordering::SeqCst);
        for h in readers {
            h.join().unwrap();
        }
    });
    let last = store.snapshot();
    assert_eq!(check(&last, &shared), WRITERS * n.min(2));
    assert!(checked.load(Ordering::Relaxed) >= READERS);
}

#[test]
fn readers_see_consistent_snapshots_in_memory() {
    let store = MemoryStore::new(
        AccountId::parse(ACCOUNT).unwrap(),
        Arc::new(FixedClock::new(1_700_000_000)),
        StdRng::seed_from_u64(1),
    );
    run(Arc::new(store), iterations());
}

#[test]
fn readers_see_consistent_snapshots_durable() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("castellan-store-concurrency-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = DurableStore::open(
        &dir,
        AccountId::parse(ACCOUNT).unwrap(),
        Arc::new(FixedClock::new(1_700_000_000)),
        StdRng::seed_from_u64(1),
    )
    .unwrap();
    run(Arc::new(store), iterations().div_ceil(10));
    let _ = std::fs::remove_dir_all(&dir);
}
