//! The store where the first round had stand-ins: MFA devices, AWS managed session policies,
//! the role's longest session, callers that do not exist, users' permissions boundaries.

use castellan_credentials::{MfaDevice, Sealer, SealingKey};
use castellan_store::{Owner, OwnerName};
use castellan_sts::{GetSessionTokenRequest, StoreMfaVerifier};

use super::*;

/// Creates and enables a virtual device `name` for `owner` at the clock's time (the codes of
/// the previous step and of now); returns its serial number and seed.
fn enable_device(
    w: &mut World,
    account: &str,
    name: &str,
    owner: Owner<'_>,
    sealer: &Sealer,
) -> (String, castellan_credentials::MfaSeed) {
    let serial = format!("arn:aws:iam::{account}:mfa/{name}");
    let new = MfaDevice::create_virtual(serial.clone(), Some(sealer), &mut w.rng).unwrap();
    let store = w.store(account).clone();
    store.create_virtual_mfa_device(new.device.clone(), vec![]).unwrap();
    let now = w.clock.now().seconds as u64;
    let mut device = new.device;
    device
        .enable(Some(sealer), new.seed.code_at(now - 30).expose(), new.seed.code_at(now).expose(), &*w.clock)
        .unwrap();
    store.enable_mfa_device(owner, device).unwrap();
    (serial, new.seed)
}

fn with_store_mfa<T>(w: &mut World, sealer: &Sealer, f: impl FnOnce(&Sts<'_>, &mut StdRng) -> T) -> T {
    let verifier = StoreMfaVerifier { accounts: &w.accounts, sealer: Some(sealer) };
    let sts =
        Sts { accounts: &w.accounts, tokens: &w.tokens, clock: &*w.clock, mfa: Some(&verifier), guardrails: None };
    f(&sts, &mut w.rng)
}

fn now_code(w: &World, seed: &castellan_credentials::MfaSeed) -> String {
    seed.code_at(w.clock.now().seconds as u64).expose().to_owned()
}

#[test]
fn store_mfa_devices_check_spend_and_count_codes() {
    let mut w = World::new();
    let sealer = Sealer::new(SealingKey::new(9, [3; 32]));
    let alice = w.user(A, "alice", None);
    w.user(A, "bob", None);
    let (serial, seed) = enable_device(&mut w, A, "alice-phone", Owner::User("alice"), &sealer);
    let (bob_serial, bob_seed) = enable_device(&mut w, A, "bob-phone", Owner::User("bob"), &sealer);
    let cond = r#"{"Bool": {"aws:MultiFactorAuthPresent": "true"}}"#;
    let arn =
        w.role(A, "Mfa", &trust(&format!("arn:aws:iam::{A}:user/alice"), &["sts:AssumeRole"], cond), None, vec![]);
    w.clock.advance(30);
    let mut r = req(&arn, "s1");
    r.serial_number = Some(serial.clone());
    r.token_code = Some(now_code(&w, &seed));

    let ok = with_store_mfa(&mut w, &sealer, |sts, rng| sts.assume_role(&alice, &r, &Context::new(), rng)).unwrap();
    assert!(ok.claims.mfa.present);
    let stored = w.store(A).mfa_device(&serial).unwrap();
    assert_eq!(stored.device.last_accepted_step, Some(w.clock.now().seconds as u64 / 30));
    assert_eq!(stored.owner, Some(OwnerName::User("alice".to_owned())));

    // The same code again: spent, because the device's state was saved.
    let again = with_store_mfa(&mut w, &sealer, |sts, rng| sts.assume_role(&alice, &r, &Context::new(), rng));
    assert_eq!(code(again), StsErrorCode::AccessDenied);
    assert_eq!(w.store(A).mfa_device(&serial).unwrap().device.failed_attempts, 1, "a refusal is saved too");

    // A wrong code counts as a failure as well.
    w.clock.advance(30);
    r.token_code = Some(if now_code(&w, &seed) == "000000" { "111111" } else { "000000" }.to_owned());
    let wrong = with_store_mfa(&mut w, &sealer, |sts, rng| sts.assume_role(&alice, &r, &Context::new(), rng));
    assert_eq!(wrong.unwrap_err().message, "MultiFactorAuthentication failed with invalid MFA one time pass code.");
    assert_eq!(w.store(A).mfa_device(&serial).unwrap().device.failed_attempts, 2);

    // Bob's device with Bob's valid code does not authenticate Alice, and is left untouched.
    r.serial_number = Some(bob_serial.clone());
    r.token_code = Some(now_code(&w, &bob_seed));
    let before = w.store(A).mfa_device(&bob_serial).unwrap();
    let other = with_store_mfa(&mut w, &sealer, |sts, rng| sts.assume_role(&alice, &r, &Context::new(), rng));
    assert_eq!(code(other), StsErrorCode::AccessDenied);
    assert_eq!(w.store(A).mfa_device(&bob_serial).unwrap(), before);

    // A serial of another account is not found in the caller's.
    r.serial_number = Some(format!("arn:aws:iam::{B}:mfa/alice-phone"));
    r.token_code = Some(now_code(&w, &seed));
    let elsewhere = with_store_mfa(&mut w, &sealer, |sts, rng| sts.assume_role(&alice, &r, &Context::new(), rng));
    assert_eq!(code(elsewhere), StsErrorCode::AccessDenied);

    // Deactivated: refused, though the code is right.
    w.store(A).deactivate_mfa_device(Owner::User("alice"), &serial).unwrap();
    r.serial_number = Some(serial.clone());
    let off = with_store_mfa(&mut w, &sealer, |sts, rng| sts.assume_role(&alice, &r, &Context::new(), rng));
    assert_eq!(code(off), StsErrorCode::AccessDenied);
}

#[test]
fn store_mfa_for_the_root_user_and_a_chained_session() {
    let mut w = World::new();
    let sealer = Sealer::new(SealingKey::new(9, [3; 32]));
    let (serial, seed) = enable_device(&mut w, A, "root-key", Owner::Root, &sealer);
    w.clock.advance(30);
    let root = Caller::Root { account: A.to_owned() };
    let r = GetSessionTokenRequest {
        serial_number: Some(serial.clone()),
        token_code: Some(now_code(&w, &seed)),
        ..Default::default()
    };
    let s = with_store_mfa(&mut w, &sealer, |sts, rng| sts.get_session_token(&root, &r, rng)).unwrap();
    assert!(s.claims.mfa.present);
    // A user does not own the root's device.
    let alice = w.user(A, "alice", None);
    w.clock.advance(30);
    let r = GetSessionTokenRequest { token_code: Some(now_code(&w, &seed)), ..r };
    let refused = with_store_mfa(&mut w, &sealer, |sts, rng| sts.get_session_token(&alice, &r, rng));
    assert_eq!(code(refused), StsErrorCode::AccessDenied);

    // A role session's code is checked against the user its chain started from.
    let (alice_serial, alice_seed) = enable_device(&mut w, A, "alice-phone", Owner::User("alice"), &sealer);
    let alice_arn = format!("arn:aws:iam::{A}:user/alice");
    let first = w.role(
        A,
        "First",
        &trust(&alice_arn, &["sts:AssumeRole"], ""),
        Some(&allow("\"sts:AssumeRole\"", "*")),
        vec![],
    );
    let cond = r#"{"Bool": {"aws:MultiFactorAuthPresent": "true"}}"#;
    let second =
        w.role(A, "Second", &trust(&format!("arn:aws:iam::{A}:role/First"), &["sts:AssumeRole"], cond), None, vec![]);
    let s1 = w.assume(&alice, &req(&first, "one")).unwrap();
    let session = w.session(&s1);
    w.clock.advance(30);
    let mut r2 = req(&second, "two");
    r2.serial_number = Some(alice_serial);
    r2.token_code = Some(now_code(&w, &alice_seed));
    let chained = with_store_mfa(&mut w, &sealer, |sts, rng| sts.assume_role(&session, &r2, &Context::new(), rng));
    assert!(chained.unwrap().claims.mfa.present);
}

#[test]
fn aws_managed_session_policies_are_accepted() {
    let mut w = World::new();
    let alice = w.user(A, "alice", None);
    let arn = w.role(A, "R", &trust(&format!("arn:aws:iam::{A}:user/alice"), &["sts:AssumeRole"], ""), None, vec![]);
    let managed = "arn:aws:iam::aws:policy/ReadOnlyAccess";
    assert!(w.store(A).snapshot().managed_policy(managed).is_some());
    let mut r = req(&arn, "s1");
    r.policy_arns = vec![managed.to_owned()];
    let ok = w.assume(&alice, &r).unwrap();
    assert_eq!(ok.claims.policy_arns, vec![managed.to_owned()]);
    assert!(ok.packed_policy_size.is_some());
    r.policy_arns = vec!["arn:aws:iam::aws:policy/NoSuchPolicyAnywhere".to_owned()];
    assert_eq!(code(w.assume(&alice, &r)), StsErrorCode::MalformedPolicyDocument);
    // Another account's customer managed policy is not attachable here.
    w.store(B)
        .create_policy(NewPolicy { name: "P".into(), document: allow("\"s3:*\"", "*"), ..NewPolicy::default() })
        .unwrap();
    r.policy_arns = vec![format!("arn:aws:iam::{B}:policy/P")];
    assert_eq!(code(w.assume(&alice, &r)), StsErrorCode::MalformedPolicyDocument);
}

#[test]
fn the_roles_longest_session_is_read_with_its_trust_policy() {
    let mut w = World::new();
    let alice = w.user(A, "alice", None);
    let s = w.store(A).clone();
    let arn = s
        .create_role(NewRole {
            name: "R".into(),
            assume_role_policy_document: trust(&format!("arn:aws:iam::{A}:user/alice"), &["sts:AssumeRole"], ""),
            max_session_duration: Some(7_200),
            ..NewRole::default()
        })
        .unwrap()
        .arn;
    let mut r = req(&arn, "s1");
    r.duration_seconds = Some(7_200);
    assert_eq!(w.assume(&alice, &r).unwrap().credentials.expiration, UnixTime::from_seconds(T0 + 7_200));
    r.duration_seconds = Some(7_201);
    assert_eq!(code(w.assume(&alice, &r)), StsErrorCode::ValidationError);
    s.update_role("R", None, Some(3_600)).unwrap();
    r.duration_seconds = Some(7_200);
    assert_eq!(code(w.assume(&alice, &r)), StsErrorCode::ValidationError);
}

#[test]
fn callers_that_do_not_exist_are_refused() {
    let mut w = World::new();
    let ghost = Caller::User { account: A.to_owned(), name: "ghost".to_owned() };
    let nowhere = Caller::Root { account: "999999999999".to_owned() };
    let arn = w.role(A, "R", &trust(A, &["sts:AssumeRole"], ""), None, vec![]);
    assert_eq!(code(w.assume(&ghost, &req(&arn, "s1"))), StsErrorCode::InvalidClientTokenId);
    assert_eq!(code(w.assume(&nowhere, &req(&arn, "s1"))), StsErrorCode::InvalidClientTokenId);
    let sts = Sts { accounts: &w.accounts, tokens: &w.tokens, clock: &*w.clock, mfa: None, guardrails: None };
    let gst = GetSessionTokenRequest::default();
    assert_eq!(code(sts.get_session_token(&ghost, &gst, &mut w.rng)), StsErrorCode::InvalidClientTokenId);
    assert_eq!(code(sts.get_session_token(&nowhere, &gst, &mut w.rng)), StsErrorCode::InvalidClientTokenId);
    assert_eq!(code(sts.get_caller_identity(&nowhere)), StsErrorCode::InvalidClientTokenId);
    // The root of an existing account: refused for AssumeRole as AWS does.
    let root = Caller::Root { account: A.to_owned() };
    assert_eq!(w.assume(&root, &req(&arn, "s1")).unwrap_err().message, "Roles may not be assumed by root accounts.");
}

#[test]
fn a_users_permissions_boundary_limits_assume_role() {
    let mut w = World::new();
    let s = w.store(A).clone();
    let only_s3 = s
        .create_policy(NewPolicy { name: "OnlyS3".into(), document: allow("\"s3:*\"", "*"), ..NewPolicy::default() })
        .unwrap()
        .arn;
    let sts_too = s
        .create_policy(NewPolicy {
            name: "StsToo".into(),
            document: allow("[\"s3:*\", \"sts:AssumeRole\"]", "*"),
            ..NewPolicy::default()
        })
        .unwrap()
        .arn;
    let alice = w.user(A, "alice", Some(&allow("\"sts:AssumeRole\"", "*")));
    s.put_permissions_boundary(Entity::User("alice"), &only_s3).unwrap();
    let by_account = w.role(A, "ByAccount", &trust(A, &["sts:AssumeRole"], ""), None, vec![]);
    let by_user =
        w.role(A, "ByUser", &trust(&format!("arn:aws:iam::{A}:user/alice"), &["sts:AssumeRole"], ""), None, vec![]);
    // Trust naming the account delegates to her identity policies, which the boundary caps.
    assert_eq!(code(w.assume(&alice, &req(&by_account, "s1"))), StsErrorCode::AccessDenied);
    // Trust naming her ARN grants directly: a boundary's implicit deny does not limit it.
    assert!(w.assume(&alice, &req(&by_user, "s1")).is_ok());
    s.put_permissions_boundary(Entity::User("alice"), &sts_too).unwrap();
    assert!(w.assume(&alice, &req(&by_account, "s1")).is_ok());
}
