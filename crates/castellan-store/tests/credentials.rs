//! Credential records through the public API: access keys, login profiles, the password
//! policy, virtual MFA devices and the account alias, on both backends; and what a
//! [`Directory`] of several accounts adds (key lookup across accounts, alias uniqueness).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;

use castellan_credentials::access_key::{
    AccessKeyKind, AccessKeyLastUsed, AccessKeyRecord, AccessKeyStatus, Sealer, SealingKey,
};
use castellan_credentials::password::{PasswordPolicy, UpdatePasswordPolicy, hash_password};
use castellan_credentials::{FixedClock, MfaDevice, SecretString, StoredSeed, UnixTime};
use castellan_policy::AccountId;
use castellan_store::{
    AssignmentStatus, Directory, DurableStore, ErrorCode, MemoryStore, NewUser, Owner, OwnerName, Store, StoreError,
    Tag,
};
use rand::SeedableRng;
use rand::rngs::StdRng;

const ACCOUNT: &str = "123456789012";
const NOW: i64 = 1_700_000_000;

macro_rules! suite {
    ($backend:ident, $make:expr) => {
        mod $backend {
            use super::*;
            suite!(@tests $make;
                access_keys, access_key_quota_and_errors, login_profiles, password_policy, mfa_devices,
                mfa_device_rules, user_deletion_waits_for_credentials, account_alias);
        }
    };
    (@tests $make:expr; $($name:ident),*) => {
        $(#[test] fn $name() { super::$name(&$make()); })*
    };
}

fn clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::new(NOW))
}

fn memory_store() -> MemoryStore {
    MemoryStore::new(AccountId::parse(ACCOUNT).unwrap(), clock(), StdRng::seed_from_u64(7))
}

fn temp_dir() -> std::path::PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("castellan-store-credentials-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn durable_store() -> DurableStore {
    DurableStore::open(temp_dir(), AccountId::parse(ACCOUNT).unwrap(), clock(), StdRng::seed_from_u64(7)).unwrap()
}

suite!(memory, memory_store);
suite!(durable, durable_store);

fn code<T: std::fmt::Debug>(result: Result<T, StoreError>) -> ErrorCode {
    result.expect_err("expected an error").code()
}

fn sealer() -> Sealer {
    Sealer::new(SealingKey::new(1, [7; 32]))
}

fn new_key(seed: u64) -> AccessKeyRecord {
    let mut rng = StdRng::seed_from_u64(seed);
    AccessKeyRecord::create(AccessKeyKind::LongTerm, UnixTime::from_seconds(NOW), &sealer(), &mut rng).unwrap().record
}

fn user(s: &dyn Store, name: &str) {
    s.create_user(NewUser { name: name.into(), ..NewUser::default() }).unwrap();
}

fn access_keys(s: &dyn Store) {
    user(s, "alice");
    let k1 = new_key(1);
    let k2 = new_key(2);
    s.create_access_key(Owner::User("alice"), k1.clone()).unwrap();
    s.create_access_key(Owner::User("ALICE"), k2.clone()).unwrap();
    assert_eq!(s.list_access_keys(Owner::User("alice")).unwrap(), [k1.clone(), k2.clone()]);
    // The secret comes back sealed, and opens to what was sealed.
    let found = s.access_key(k1.id.as_str()).unwrap();
    assert_eq!(found.owner, OwnerName::User("alice".into()));
    assert_eq!(found.account_id, ACCOUNT);
    assert_eq!(found.record.secret(&sealer()).unwrap().expose(), k1.secret(&sealer()).unwrap().expose());
    s.update_access_key(Owner::User("alice"), k1.id.as_str(), AccessKeyStatus::Inactive).unwrap();
    assert_eq!(s.access_key(k1.id.as_str()).unwrap().record.status, AccessKeyStatus::Inactive);
    let used = AccessKeyLastUsed::used(UnixTime::from_seconds(NOW + 5), "iam", "us-east-1");
    s.record_access_key_use(k2.id.as_str(), used.clone()).unwrap();
    assert_eq!(s.access_key(k2.id.as_str()).unwrap().record.last_used, used);
    s.delete_access_key(Owner::User("alice"), k1.id.as_str()).unwrap();
    assert_eq!(code(s.access_key(k1.id.as_str())), ErrorCode::NoSuchEntity);
    // The root user's keys.
    let root = new_key(3);
    s.create_access_key(Owner::Root, root.clone()).unwrap();
    assert_eq!(s.access_key(root.id.as_str()).unwrap().owner, OwnerName::Root);
    assert_eq!(s.list_access_keys(Owner::Root).unwrap(), [root]);
}

fn access_key_quota_and_errors(s: &dyn Store) {
    user(s, "alice");
    let k1 = new_key(1);
    s.create_access_key(Owner::User("alice"), k1.clone()).unwrap();
    s.create_access_key(Owner::User("alice"), new_key(2)).unwrap();
    let over = s.create_access_key(Owner::User("alice"), new_key(3)).unwrap_err();
    assert_eq!((over.code(), over.http_status()), (ErrorCode::LimitExceeded, 409));
    assert!(over.message().contains("AccessKeysPerUser: 2"), "{over}");
    // Inactive keys count.
    s.update_access_key(Owner::User("alice"), k1.id.as_str(), AccessKeyStatus::Inactive).unwrap();
    assert_eq!(code(s.create_access_key(Owner::User("alice"), new_key(3))), ErrorCode::LimitExceeded);
    // The same key id twice anywhere is refused.
    user(s, "bob");
    assert_eq!(code(s.create_access_key(Owner::User("bob"), k1.clone())), ErrorCode::EntityAlreadyExists);
    assert_eq!(code(s.create_access_key(Owner::User("nobody"), new_key(4))), ErrorCode::NoSuchEntity);
    assert_eq!(code(s.delete_access_key(Owner::User("bob"), k1.id.as_str())), ErrorCode::NoSuchEntity);
    assert_eq!(
        code(s.update_access_key(Owner::Root, k1.id.as_str(), AccessKeyStatus::Active)),
        ErrorCode::NoSuchEntity
    );
    assert_eq!(code(s.list_access_keys(Owner::User("bad name!"))), ErrorCode::ValidationError);
}

fn login_profiles(s: &dyn Store) {
    user(s, "alice");
    let mut rng = StdRng::seed_from_u64(9);
    let first = hash_password(&SecretString::new("first-Password1"), 1_000, &mut rng).unwrap();
    let second = hash_password(&SecretString::new("second-Password2"), 1_000, &mut rng).unwrap();
    assert_eq!(code(s.login_profile(Owner::User("alice"))), ErrorCode::NoSuchEntity);
    let p = s.create_login_profile(Owner::User("alice"), &first, true).unwrap();
    assert_eq!((p.password_reset_required, p.create_date.seconds), (true, NOW));
    assert_eq!(p.owner, OwnerName::User("alice".into()));
    assert_eq!(code(s.create_login_profile(Owner::User("alice"), &first, false)), ErrorCode::EntityAlreadyExists);
    s.update_login_profile(Owner::User("alice"), Some(&second), Some(false)).unwrap();
    let p = s.login_profile(Owner::User("alice")).unwrap();
    assert_eq!((p.password_hash.clone(), p.password_reset_required), (second.clone(), false));
    assert_eq!(p.previous, std::slice::from_ref(&first));
    assert_eq!(p.history(), [second, first]);
    assert_eq!(p.password_last_used, None);
    s.record_password_use(Owner::User("alice"), UnixTime::from_seconds(NOW + 60)).unwrap();
    assert_eq!(
        s.login_profile(Owner::User("alice")).unwrap().password_last_used,
        Some(UnixTime::from_seconds(NOW + 60))
    );
    s.delete_login_profile(Owner::User("alice")).unwrap();
    assert_eq!(code(s.delete_login_profile(Owner::User("alice"))), ErrorCode::NoSuchEntity);
}

fn password_policy(s: &dyn Store) {
    let missing = s.password_policy().unwrap_err();
    assert_eq!((missing.code(), missing.http_status()), (ErrorCode::NoSuchEntity, 404));
    assert_eq!(missing.message(), "The Password Policy with domain name 123456789012 cannot be found.");
    let policy = PasswordPolicy::from_update(&UpdatePasswordPolicy {
        minimum_password_length: Some(14),
        require_symbols: Some(true),
        max_password_age: Some(90),
        password_reuse_prevention: Some(5),
        ..UpdatePasswordPolicy::default()
    })
    .unwrap();
    s.update_password_policy(policy.clone()).unwrap();
    assert_eq!(s.password_policy().unwrap(), policy);
    s.update_password_policy(PasswordPolicy::default()).unwrap();
    assert_eq!(s.password_policy().unwrap(), PasswordPolicy::default());
    s.delete_password_policy().unwrap();
    assert_eq!(code(s.delete_password_policy()), ErrorCode::NoSuchEntity);
}

fn serial(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:mfa/{name}")
}

fn new_device(name: &str) -> MfaDevice {
    MfaDevice::create_virtual(serial(name), Some(&sealer()), &mut StdRng::seed_from_u64(3)).unwrap().device
}

/// Enables `device` with two consecutive codes at the fixed clock.
fn enabled(mut device: MfaDevice) -> MfaDevice {
    let seed = device.seed(Some(&sealer())).unwrap();
    let step = u64::try_from(NOW).unwrap() / 30;
    let (c1, c2) = (seed.code_at((step - 1) * 30), seed.code_at(step * 30));
    device.enable(Some(&sealer()), c1.expose(), c2.expose(), &FixedClock::new(NOW)).unwrap();
    device
}

fn mfa_devices(s: &dyn Store) {
    user(s, "alice");
    let d = s.create_virtual_mfa_device(new_device("alice-phone"), vec![Tag::new("kind", "app")]).unwrap();
    assert_eq!((d.owner.clone(), d.tags.len()), (None, 1));
    assert!(matches!(d.device.seed, StoredSeed::Sealed(_)));
    assert_eq!(s.list_virtual_mfa_devices(AssignmentStatus::Unassigned).unwrap().len(), 1);
    s.enable_mfa_device(Owner::User("alice"), enabled(d.device.clone())).unwrap();
    let listed = s.list_mfa_devices(Owner::User("alice")).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].owner, Some(OwnerName::User("alice".into())));
    assert!(listed[0].device.is_enabled());
    assert_eq!(s.list_virtual_mfa_devices(AssignmentStatus::Assigned).unwrap().len(), 1);
    assert!(s.list_virtual_mfa_devices(AssignmentStatus::Unassigned).unwrap().is_empty());
    // A code check's bookkeeping is saved, the assignment kept.
    let mut device = s.mfa_device(&serial("alice-phone")).unwrap().device;
    device.failed_attempts = 3;
    s.save_mfa_device(device).unwrap();
    let saved = s.mfa_device(&serial("alice-phone")).unwrap();
    assert_eq!((saved.device.failed_attempts, saved.owner), (3, Some(OwnerName::User("alice".into()))));
    assert_eq!(code(s.delete_virtual_mfa_device(&serial("alice-phone"))), ErrorCode::DeleteConflict);
    s.deactivate_mfa_device(Owner::User("alice"), &serial("alice-phone")).unwrap();
    assert!(s.list_mfa_devices(Owner::User("alice")).unwrap().is_empty());
    assert!(!s.mfa_device(&serial("alice-phone")).unwrap().device.is_enabled());
    s.delete_virtual_mfa_device(&serial("alice-phone")).unwrap();
    assert_eq!(code(s.mfa_device(&serial("alice-phone"))), ErrorCode::NoSuchEntity);
    // The root user's device.
    s.create_virtual_mfa_device(new_device("root-device"), vec![]).unwrap();
    s.enable_mfa_device(Owner::Root, enabled(new_device("root-device"))).unwrap();
    assert_eq!(s.list_mfa_devices(Owner::Root).unwrap()[0].owner, Some(OwnerName::Root));
}

fn mfa_device_rules(s: &dyn Store) {
    user(s, "alice");
    user(s, "bob");
    // The seed must be sealed.
    let plain = MfaDevice::create_virtual(serial("plain"), None, &mut StdRng::seed_from_u64(1)).unwrap().device;
    assert_eq!(code(s.create_virtual_mfa_device(plain, vec![])), ErrorCode::InvalidInput);
    // The serial number is a device ARN of this account.
    let foreign =
        MfaDevice::create_virtual("arn:aws:iam::210987654321:mfa/x", Some(&sealer()), &mut StdRng::seed_from_u64(1))
            .unwrap()
            .device;
    assert_eq!(code(s.create_virtual_mfa_device(foreign, vec![])), ErrorCode::InvalidInput);
    s.create_virtual_mfa_device(new_device("d"), vec![]).unwrap();
    assert_eq!(code(s.create_virtual_mfa_device(new_device("D"), vec![])), ErrorCode::EntityAlreadyExists);
    // Enabling needs the codes first, and a device serves one owner.
    assert_eq!(code(s.enable_mfa_device(Owner::User("alice"), new_device("d"))), ErrorCode::InvalidInput);
    s.enable_mfa_device(Owner::User("alice"), enabled(new_device("d"))).unwrap();
    assert_eq!(code(s.enable_mfa_device(Owner::User("bob"), enabled(new_device("d")))), ErrorCode::EntityAlreadyExists);
    assert_eq!(code(s.deactivate_mfa_device(Owner::User("bob"), &serial("d"))), ErrorCode::NoSuchEntity);
    // Eight devices per owner.
    for i in 0..7 {
        let name = format!("extra{i}");
        s.create_virtual_mfa_device(new_device(&name), vec![]).unwrap();
        s.enable_mfa_device(Owner::User("alice"), enabled(new_device(&name))).unwrap();
    }
    s.create_virtual_mfa_device(new_device("ninth"), vec![]).unwrap();
    let over = s.enable_mfa_device(Owner::User("alice"), enabled(new_device("ninth"))).unwrap_err();
    assert_eq!(over.code(), ErrorCode::LimitExceeded);
    assert_eq!(s.list_mfa_devices(Owner::User("alice")).unwrap().len(), 8);
}

fn user_deletion_waits_for_credentials(s: &dyn Store) {
    user(s, "alice");
    let key = new_key(1);
    let hash = hash_password(&SecretString::new("a-Password1"), 1_000, &mut StdRng::seed_from_u64(2)).unwrap();
    s.create_access_key(Owner::User("alice"), key.clone()).unwrap();
    s.create_login_profile(Owner::User("alice"), &hash, false).unwrap();
    s.create_virtual_mfa_device(new_device("a"), vec![]).unwrap();
    s.enable_mfa_device(Owner::User("alice"), enabled(new_device("a"))).unwrap();
    let conflict = |s: &dyn Store| {
        let e = s.delete_user("alice").unwrap_err();
        assert_eq!((e.code(), e.http_status()), (ErrorCode::DeleteConflict, 409));
        e.message().to_owned()
    };
    assert!(conflict(s).contains("login profile"));
    s.delete_login_profile(Owner::User("alice")).unwrap();
    assert!(conflict(s).contains("access keys"));
    s.delete_access_key(Owner::User("alice"), key.id.as_str()).unwrap();
    assert!(conflict(s).contains("MFA device"));
    s.deactivate_mfa_device(Owner::User("alice"), &serial("a")).unwrap();
    s.delete_user("alice").unwrap();
}

fn account_alias(s: &dyn Store) {
    assert_eq!(s.account_alias().unwrap(), None);
    for bad in ["ab", "-abc", "abc-", "a--b", "Upper", "123456789012"] {
        let e = s.create_account_alias(bad).unwrap_err();
        assert!(matches!(e.code(), ErrorCode::ValidationError | ErrorCode::InvalidInput), "{bad}: {e}");
    }
    s.create_account_alias("my-company").unwrap();
    assert_eq!(s.account_alias().unwrap().as_deref(), Some("my-company"));
    s.create_account_alias("my-company-2").unwrap();
    assert_eq!(s.account_alias().unwrap().as_deref(), Some("my-company-2"));
    assert_eq!(code(s.delete_account_alias("my-company")), ErrorCode::NoSuchEntity);
    s.delete_account_alias("my-company-2").unwrap();
    assert_eq!(s.account_alias().unwrap(), None);
}

#[test]
fn a_directory_finds_keys_and_keeps_aliases_unique_across_accounts() {
    let dir = temp_dir();
    let other = "210987654321";
    let (k1, k2) = (new_key(1), new_key(2));
    {
        let d = Directory::open(&dir, clock(), StdRng::seed_from_u64(1)).unwrap();
        let a = d.create_account(AccountId::parse(ACCOUNT).unwrap()).unwrap();
        let b = d.create_account(AccountId::parse(other).unwrap()).unwrap();
        user(&*b, "bob");
        a.create_access_key(Owner::Root, k1.clone()).unwrap();
        b.create_access_key(Owner::User("bob"), k2.clone()).unwrap();
        // A key id is unique across accounts.
        assert_eq!(code(a.create_access_key(Owner::Root, k2.clone())), ErrorCode::EntityAlreadyExists);
        a.create_account_alias("alpha").unwrap();
        assert_eq!(code(b.create_account_alias("alpha")), ErrorCode::EntityAlreadyExists);
        assert_eq!(d.account_by_alias("alpha").as_deref(), Some(ACCOUNT));
    }
    // After reopening, the lookups still work.
    let d = Directory::open(&dir, clock(), StdRng::seed_from_u64(2)).unwrap();
    let found = d.find_access_key(k2.id.as_str()).unwrap();
    assert_eq!((found.account_id.as_str(), found.owner), (other, OwnerName::User("bob".into())));
    assert_eq!(d.find_access_key(k1.id.as_str()).unwrap().owner, OwnerName::Root);
    assert_eq!(d.account_by_alias("alpha").as_deref(), Some(ACCOUNT));
    let b = d.account(other).unwrap();
    assert_eq!(code(b.create_account_alias("alpha")), ErrorCode::EntityAlreadyExists);
    b.delete_access_key(Owner::User("bob"), k2.id.as_str()).unwrap();
    assert!(d.find_access_key(k2.id.as_str()).is_none());
    // Records survive reopening whole.
    let a = d.account(ACCOUNT).unwrap();
    assert_eq!(a.list_access_keys(Owner::Root).unwrap(), [k1]);
    assert_eq!(a.account_alias().unwrap().as_deref(), Some("alpha"));
}
