//! Checkpoints of a directory and their restore, in memory and in a data directory: the
//! accounts get exactly their records back, accounts made since are removed, the cross-account
//! registry (key ids, aliases) follows, and a data directory holds the restored state on reopen.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::PathBuf;
use std::sync::Arc;

use castellan_credentials::FixedClock;
use castellan_credentials::access_key::{AccessKeyKind, AccessKeyRecord, Sealer, SealingKey};
use castellan_policy::AccountId;
use castellan_store::{Checkpoint, Directory, NewUser, Owner, PageRequest};
use rand::SeedableRng;
use rand::rngs::StdRng;

const A: &str = "111122223333";
const B: &str = "444455556666";
const LATER: &str = "777788889999";

fn temp_dir() -> PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("castellan-store-checkpoint-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::new(1_704_067_200))
}

fn key(rng: &mut StdRng) -> AccessKeyRecord {
    let sealer = Sealer::new(SealingKey::generate(1, rng));
    AccessKeyRecord::create(AccessKeyKind::LongTerm, castellan_credentials::UnixTime::from_seconds(0), &sealer, rng)
        .unwrap()
        .record
}

/// Two accounts with a root key each and a user in the first: the state to return to.
fn bootstrap(directory: &Directory, rng: &mut StdRng) -> (Checkpoint, String) {
    let a = directory.create_account(AccountId::parse(A).unwrap()).unwrap();
    let b = directory.create_account(AccountId::parse(B).unwrap()).unwrap();
    directory.set_primary_account(A).unwrap();
    let root_key = key(rng);
    let root_key_id = root_key.id.as_str().to_owned();
    a.create_access_key(Owner::Root, root_key).unwrap();
    b.create_access_key(Owner::Root, key(rng)).unwrap();
    a.create_user(NewUser { name: "kept".into(), ..NewUser::default() }).unwrap();
    (directory.checkpoint().unwrap(), root_key_id)
}

/// Changes made after the checkpoint.
fn change(directory: &Directory, rng: &mut StdRng) -> Arc<dyn castellan_store::Store> {
    let a = directory.account(A).unwrap();
    a.create_user(NewUser { name: "gone".into(), ..NewUser::default() }).unwrap();
    a.create_access_key(Owner::User("gone"), key(rng)).unwrap();
    a.delete_user("kept").unwrap();
    a.create_account_alias("alias-a").unwrap();
    let later = directory.create_account(AccountId::parse(LATER).unwrap()).unwrap();
    later.create_user(NewUser { name: "in-later".into(), ..NewUser::default() }).unwrap();
    later
}

fn check_restored(directory: &Directory, root_key_id: &str) {
    assert_eq!(directory.account_ids(), [A, B]);
    assert_eq!(directory.primary_account().as_deref(), Some(A));
    let a = directory.account(A).unwrap();
    let users: Vec<String> = a
        .list_users(None, &PageRequest::default())
        .unwrap()
        .items
        .into_iter()
        .map(|u| u.name.as_str().to_owned())
        .collect();
    assert_eq!(users, ["kept"]);
    assert!(directory.snapshot(A).unwrap().user("gone").is_none());
    assert!(directory.snapshot(A).unwrap().user("kept").is_some());
    // The registry follows: the root key is found, the alias is free again (in any account).
    assert_eq!(directory.find_access_key(root_key_id).unwrap().account_id, A);
    assert_eq!(directory.account_by_alias("alias-a"), None);
    assert_eq!(a.account_alias().unwrap(), None);
}

#[test]
fn a_restore_in_memory_returns_to_the_checkpoint() {
    let mut rng = StdRng::seed_from_u64(1);
    let directory = Directory::in_memory(clock(), StdRng::seed_from_u64(2));
    let (checkpoint, root_key_id) = bootstrap(&directory, &mut rng);
    assert_eq!(checkpoint.account_ids(), [A, B]);
    let before = directory.snapshot(A).unwrap().generation();
    let later = change(&directory, &mut rng);
    let gone_key = directory.account(A).unwrap().list_access_keys(Owner::User("gone")).unwrap()[0].id.clone();
    directory.restore(&checkpoint).unwrap();
    check_restored(&directory, &root_key_id);
    assert!(directory.find_access_key(gone_key.as_str()).is_none());
    // Generations only grow, so caches keyed by them never see an old number again.
    assert!(directory.snapshot(A).unwrap().generation() > before + 1);
    // A handle to the removed account refuses every call.
    assert!(later.create_user(NewUser { name: "late".into(), ..NewUser::default() }).is_err());
    // The alias may be taken by another account now.
    directory.account(B).unwrap().create_account_alias("alias-a").unwrap();
    assert_eq!(directory.account_by_alias("alias-a").as_deref(), Some(B));
}

#[test]
fn a_restore_in_a_data_directory_is_one_durable_step() {
    let dir = temp_dir();
    let mut rng = StdRng::seed_from_u64(3);
    let (checkpoint, root_key_id) = {
        let directory = Directory::open(&dir, clock(), StdRng::seed_from_u64(4)).unwrap();
        let (checkpoint, root_key_id) = bootstrap(&directory, &mut rng);
        change(&directory, &mut rng);
        directory.restore(&checkpoint).unwrap();
        check_restored(&directory, &root_key_id);
        (checkpoint, root_key_id)
    };
    // The checkpoint survives a round trip through JSON (how the facade keeps it on disk).
    let checkpoint: Checkpoint = serde_json::from_str(&serde_json::to_string(&checkpoint).unwrap()).unwrap();
    let directory = Directory::open(&dir, clock(), StdRng::seed_from_u64(5)).unwrap();
    check_restored(&directory, &root_key_id);
    // And again after a reopen, from the decoded checkpoint.
    change(&directory, &mut rng);
    directory.restore(&checkpoint).unwrap();
    check_restored(&directory, &root_key_id);
    drop(directory);
    let directory = Directory::open(&dir, clock(), StdRng::seed_from_u64(6)).unwrap();
    check_restored(&directory, &root_key_id);
    drop(directory);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A key and an alias the checkpoint holds are found throughout a restore: lookups on another
/// thread never miss them, whether they run before, during or after one.
#[test]
fn lookups_never_miss_a_kept_key_during_a_restore() {
    let mut rng = StdRng::seed_from_u64(21);
    let directory = Arc::new(Directory::in_memory(clock(), StdRng::seed_from_u64(22)));
    let (_, root_key_id) = bootstrap(&directory, &mut rng);
    // Many accounts restored before the one holding the key widen any window in which the key
    // index is incomplete.
    for n in 0..150u64 {
        let id = format!("{:012}", 100_000_000_000 + n);
        let store = directory.create_account(AccountId::parse(&id).unwrap()).unwrap();
        store.create_access_key(Owner::Root, key(&mut rng)).unwrap();
    }
    directory.account(A).unwrap().create_account_alias("kept-alias").unwrap();
    let checkpoint = directory.checkpoint().unwrap();
    change(&directory, &mut rng);
    // The change replaced the alias: the lookups start once the first restore brought it back.
    directory.restore(&checkpoint).unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // One thread per lookup: the alias lookup never waits on a restore, the key lookup waits
    // for the key's account.
    let look = |by_alias: bool| {
        let (directory, stop, id) = (Arc::clone(&directory), Arc::clone(&stop), root_key_id.clone());
        std::thread::spawn(move || {
            let (mut found, mut missed) = (0u64, 0u64);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let hit = if by_alias {
                    directory.account_by_alias("kept-alias").is_some()
                } else {
                    directory.find_access_key(&id).is_some()
                };
                if hit { found += 1 } else { missed += 1 }
            }
            (found, missed)
        })
    };
    let lookers = [look(true), look(false)];
    for _ in 0..300 {
        directory.restore(&checkpoint).unwrap();
        // Room for the lookups, which wait while a restore holds the accounts.
        std::thread::sleep(std::time::Duration::from_micros(300));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for looker in lookers {
        let (found, missed) = looker.join().unwrap();
        assert!(found > 0);
        assert_eq!(missed, 0, "{missed} of {} lookups missed the kept key or alias", found + missed);
    }
}

/// A checkpoint says which store schema its records are in; another version is refused, and a
/// file that does not say is too.
#[test]
fn checkpoints_of_another_schema_version_are_refused() {
    let mut rng = StdRng::seed_from_u64(31);
    let directory = Directory::in_memory(clock(), StdRng::seed_from_u64(32));
    let (checkpoint, _) = bootstrap(&directory, &mut rng);
    assert_eq!(checkpoint.schema_version(), castellan_store::SCHEMA_VERSION);
    let mut json: serde_json::Value = serde_json::to_value(&checkpoint).unwrap();
    json["schema_version"] = serde_json::json!(castellan_store::SCHEMA_VERSION - 1);
    let older: Checkpoint = serde_json::from_value(json.clone()).unwrap();
    let e = directory.restore(&older).unwrap_err();
    assert!(e.to_string().contains("schema version"), "{e}");
    json.as_object_mut().unwrap().remove("schema_version");
    let unsaid: Checkpoint = serde_json::from_value(json).unwrap();
    assert!(directory.restore(&unsaid).is_err());
    // The checkpoint itself still restores.
    directory.restore(&checkpoint).unwrap();
}
