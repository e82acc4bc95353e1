//! Castellan as a test endpoint, through the facade: a given bootstrap account and root key,
//! several bootstrap accounts in one organization, and test resets (in memory and in a data
//! directory), as `castellan serve --account-id --root-access-key-id --accounts --test-reset`
//! use them.

use std::path::PathBuf;
use std::sync::Arc;

use castellan::credentials::{FixedClock, SecretString};
use castellan::store::{Entity, NewPolicy, NewRole, NewUser, OwnerName, PageRequest};
use castellan::sts::AssumeRoleRequest;
use castellan::{Caller, Iam, Identity, ORGANIZATION_ACCOUNT_ACCESS_ROLE};

use crate::common::{NOW, signed};

/// AWS's documentation example key: valid in form.
const KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const ALLOW_ALL: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

fn builder(clock: &Arc<FixedClock>) -> castellan::IamBuilder {
    seeded(clock, 11)
}

/// A builder with its own seed (a data directory reopened with the seed it was made with would
/// draw the same access key ids again).
fn seeded(clock: &Arc<FixedClock>, seed: u64) -> castellan::IamBuilder {
    Iam::builder().seed(seed).clock(clock.clone()).password_hash_iterations(1_000)
}

/// An administrator of the management account (AWS lets no root user assume a role): a user
/// with `AdministratorAccess`.
fn admin(iam: &Iam, mgmt: &str) -> Caller {
    let root = Caller::root(mgmt);
    iam.create_user(&root, NewUser { name: "admin".into(), ..NewUser::default() }).unwrap();
    iam.attach_policy(&root, Entity::User("admin"), "arn:aws:iam::aws:policy/AdministratorAccess").unwrap();
    Caller::user(mgmt, "admin")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("castellan-test-endpoint-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn a_given_account_id_and_root_key_are_the_bootstrap_root() {
    let clock = Arc::new(FixedClock::new(NOW));
    let iam =
        builder(&clock).account_id("210987654321").root_access_key(KEY_ID, SecretString::new(SECRET)).open().unwrap();
    assert_eq!(iam.bootstrap_account(), "210987654321");
    let root = iam.root_credentials().unwrap();
    assert_eq!((root.account_id.as_str(), root.access_key_id.as_str()), ("210987654321", KEY_ID));
    // The key authenticates as the root user, who is who GetCallerIdentity says, as in AWS.
    let caller = iam.authenticate(&signed(KEY_ID, &SecretString::new(SECRET), None, NOW), "sts", "us-east-1").unwrap();
    assert_eq!(caller.identity, Identity::Root { account: "210987654321".into() });
    let me = iam.get_caller_identity(&caller).unwrap();
    assert_eq!(me.user_id, "210987654321");
    assert_eq!(me.account, "210987654321");
    assert_eq!(me.arn, "arn:aws:iam::210987654321:root");
    let key = iam.directory().find_access_key(KEY_ID).unwrap();
    assert_eq!(key.owner, OwnerName::Root);
}

#[test]
fn root_keys_in_the_wrong_format_are_refused() {
    let clock = Arc::new(FixedClock::new(NOW));
    for (id, secret, what) in [
        ("AKIAIOSFODNN7EXAMPL1", SECRET, "access key id"),
        ("ASIAIOSFODNN7EXAMPLE", SECRET, "access key id"),
        ("AKIAIOSFODNN7EXAMPLEX", SECRET, "access key id"),
        ("akiaiosfodnn7example", SECRET, "access key id"),
        (KEY_ID, "short", "secret access key"),
        (KEY_ID, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKE!", "secret access key"),
        (KEY_ID, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEYY", "secret access key"),
    ] {
        let e = builder(&clock).root_access_key(id, SecretString::new(secret)).open().unwrap_err();
        assert_eq!(e.code(), "InvalidInput", "{id}");
        assert!(e.message().contains(what), "{id}: {e}");
        assert!(!e.message().contains(secret) || secret == SECRET, "the secret is never echoed: {e}");
    }
    assert!(castellan::check_root_access_key(KEY_ID, SECRET).is_ok());
    let e = builder(&clock).account_id("12345").open().unwrap_err();
    assert_eq!(e.code(), "InvalidInput", "{e}");
    let e = builder(&clock).accounts(0).open().unwrap_err();
    assert_eq!(e.code(), "InvalidInput", "{e}");
}

#[test]
fn several_accounts_bootstrap_in_one_organization() {
    let clock = Arc::new(FixedClock::new(NOW));
    let iam = builder(&clock).account_id("111122223333").accounts(3).open().unwrap();
    let all = iam.bootstrap_credentials().to_vec();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].account_id, "111122223333");
    let mut ids: Vec<String> = all.iter().map(|c| c.account_id.clone()).collect();
    ids.sort();
    assert_eq!(iam.directory().account_ids(), ids);
    // One organization, all features, the first account manages it.
    let mgmt = Caller::root("111122223333");
    let org = iam.describe_organization(&mgmt).unwrap();
    assert_eq!(org.master_account_id, "111122223333");
    assert_eq!(org.feature_set, "ALL");
    assert_eq!(iam.list_accounts(&mgmt).unwrap().len(), 3);
    // Each root user's key authenticates as that root; each member has the access role.
    for c in &all {
        let request = signed(&c.access_key_id, &c.secret_access_key, None, NOW);
        let caller = iam.authenticate(&request, "sts", "us-east-1").unwrap();
        assert_eq!(caller.identity, Identity::Root { account: c.account_id.clone() });
    }
    let admin = admin(&iam, "111122223333");
    for member in &all[1..] {
        let role = iam.get_role(&Caller::root(&member.account_id), ORGANIZATION_ACCOUNT_ACCESS_ROLE).unwrap();
        assert!(role.assume_role_policy_document.contains("arn:aws:iam::111122223333:root"));
        // The management account's administrators may assume it, and are then administrators
        // there.
        let assumed = iam
            .assume_role(
                &admin,
                &AssumeRoleRequest {
                    role_arn: role.arn.clone(),
                    role_session_name: "admin".into(),
                    ..AssumeRoleRequest::default()
                },
            )
            .unwrap();
        let c = &assumed.credentials;
        let request = signed(c.access_key_id.as_str(), &c.secret_access_key, Some(c.session_token.as_str()), NOW);
        let session = iam.authenticate(&request, "sts", "us-east-1").unwrap();
        assert_eq!(session.account(), member.account_id);
        iam.create_user(&session, NewUser { name: "made-by-admin".into(), ..NewUser::default() }).unwrap();
    }
    // Alone, one account and no organization.
    let single = builder(&clock).open().unwrap();
    assert_eq!(single.bootstrap_credentials().len(), 1);
    assert!(single.directory().organizations().get().is_none());
}

/// Changes a bit of everything in both accounts and the organization.
fn make_work(iam: &Iam, mgmt: &str, member: &str) {
    let mgmt_root = Caller::root(mgmt);
    let member_root = Caller::root(member);
    for root in [&mgmt_root, &member_root] {
        iam.create_user(root, NewUser { name: "alice".into(), ..NewUser::default() }).unwrap();
        iam.create_access_key(root, Some("alice")).unwrap();
        iam.create_policy(root, NewPolicy { name: "all".into(), document: ALLOW_ALL.into(), ..NewPolicy::default() })
            .unwrap();
        iam.create_role(
            root,
            NewRole {
                name: "worker".into(),
                assume_role_policy_document: format!(
                    r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{mgmt}:root"}},"Action":"sts:AssumeRole"}}]}}"#
                ),
                ..NewRole::default()
            },
        )
        .unwrap();
        iam.create_access_key(root, None).unwrap();
    }
    iam.create_account_alias(&member_root, "member-alias").unwrap();
    iam.attach_policy(
        &member_root,
        Entity::Role(ORGANIZATION_ACCOUNT_ACCESS_ROLE),
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
    )
    .unwrap();
    let root_id = iam.list_roots(&mgmt_root).unwrap()[0].id.clone();
    iam.create_organizational_unit(&mgmt_root, &root_id, "Workloads").unwrap();
    iam.create_account(&mgmt_root, "later", "later@example.com").unwrap();
}

/// Checks `iam` holds exactly the bootstrap state of `make_work`'s accounts.
fn assert_bootstrap_state(iam: &Iam, mgmt: &str, member: &str, keys: &[castellan::RootCredentials]) {
    let mut ids = vec![mgmt.to_owned(), member.to_owned()];
    ids.sort();
    assert_eq!(iam.directory().account_ids(), ids);
    let mgmt_root = Caller::root(mgmt);
    let member_root = Caller::root(member);
    for root in [&mgmt_root, &member_root] {
        assert_eq!(iam.get_user(root, Some("alice")).unwrap_err().code(), "NoSuchEntity");
        assert!(iam.list_users(root, None, &PageRequest::default()).unwrap().items.is_empty());
        let roles: Vec<String> = iam
            .list_roles(root, None, &PageRequest::default())
            .unwrap()
            .items
            .into_iter()
            .map(|r| r.name.as_str().to_owned())
            .collect();
        let expected: Vec<&str> = if root == &member_root { vec![ORGANIZATION_ACCOUNT_ACCESS_ROLE] } else { vec![] };
        assert_eq!(roles, expected);
        assert_eq!(iam.list_access_keys(root, None).unwrap().len(), 1, "only the bootstrap root key");
    }
    assert_eq!(iam.list_account_aliases(&member_root).unwrap(), Vec::<String>::new());
    let attached = iam.list_attached_policies(&member_root, Entity::Role(ORGANIZATION_ACCOUNT_ACCESS_ROLE)).unwrap();
    assert_eq!(attached.len(), 1);
    assert_eq!(attached[0].arn, "arn:aws:iam::aws:policy/AdministratorAccess");
    let accounts = iam.list_accounts(&mgmt_root).unwrap();
    assert_eq!(accounts.len(), 2);
    let root_id = iam.list_roots(&mgmt_root).unwrap()[0].id.clone();
    let orgs = iam.directory().organizations();
    assert!(orgs.get().unwrap().list_organizational_units_for_parent(&root_id).unwrap().is_empty());
    // The same root keys still work.
    for c in keys {
        let request = signed(&c.access_key_id, &c.secret_access_key, None, NOW);
        let caller = iam.authenticate(&request, "sts", "us-east-1").unwrap();
        assert_eq!(caller.identity, Identity::Root { account: c.account_id.clone() });
    }
}

#[test]
fn a_reset_returns_to_the_bootstrap_state_in_memory() {
    let clock = Arc::new(FixedClock::new(NOW));
    let iam = builder(&clock).account_id("111122223333").accounts(2).test_reset(true).open().unwrap();
    assert!(iam.test_reset_enabled());
    let keys = iam.bootstrap_credentials().to_vec();
    let member = keys[1].account_id.clone();
    let org_id = iam.describe_organization(&Caller::root("111122223333")).unwrap().id;
    make_work(&iam, "111122223333", &member);
    assert_eq!(iam.directory().account_ids().len(), 3);
    iam.reset_to_bootstrap().unwrap();
    assert_bootstrap_state(&iam, "111122223333", &member, &keys);
    assert_eq!(iam.describe_organization(&Caller::root("111122223333")).unwrap().id, org_id);
    // And again: the state after a reset is as good as a bootstrap.
    make_work(&iam, "111122223333", &member);
    iam.reset_to_bootstrap().unwrap();
    assert_bootstrap_state(&iam, "111122223333", &member, &keys);
}

#[test]
fn without_test_resets_there_is_no_reset() {
    let clock = Arc::new(FixedClock::new(NOW));
    let iam = builder(&clock).open().unwrap();
    assert!(!iam.test_reset_enabled());
    let e = iam.reset_to_bootstrap().unwrap_err();
    assert_eq!((e.code(), e.status()), ("NotFound", 404));
}

#[test]
fn sessions_issued_before_a_reset_are_refused_after_it() {
    let clock = Arc::new(FixedClock::new(NOW));
    let iam = builder(&clock).account_id("111122223333").accounts(2).test_reset(true).open().unwrap();
    let member = iam.bootstrap_credentials()[1].account_id.clone();
    let assume = |iam: &Iam| {
        let request = AssumeRoleRequest {
            role_arn: format!("arn:aws:iam::{member}:role/{ORGANIZATION_ACCOUNT_ACCESS_ROLE}"),
            role_session_name: "session".into(),
            ..AssumeRoleRequest::default()
        };
        let admin = admin(iam, "111122223333");
        iam.assume_role(&admin, &request).unwrap().credentials
    };
    // Issued in the very second of the reset: refused all the same.
    let before = assume(&iam);
    iam.reset_to_bootstrap().unwrap();
    let now = NOW;
    let old =
        signed(before.access_key_id.as_str(), &before.secret_access_key, Some(before.session_token.as_str()), now);
    assert_eq!(iam.authenticate(&old, "sts", "us-east-1").unwrap_err().code(), "InvalidClientTokenId");
    // A session issued after the reset works.
    let after = assume(&iam);
    let new = signed(after.access_key_id.as_str(), &after.secret_access_key, Some(after.session_token.as_str()), now);
    assert_eq!(iam.authenticate(&new, "sts", "us-east-1").unwrap().account(), member);
}

#[test]
fn a_reset_in_a_data_directory_is_durable() {
    let dir = temp_dir("durable");
    let clock = Arc::new(FixedClock::new(NOW));
    let (keys, member, before, after) = {
        let iam =
            builder(&clock).data_dir(&dir).account_id("111122223333").accounts(2).test_reset(true).open().unwrap();
        let keys = iam.bootstrap_credentials().to_vec();
        let member = keys[1].account_id.clone();
        make_work(&iam, "111122223333", &member);
        let session = |iam: &Iam| {
            let token = iam.get_session_token(&Caller::root("111122223333"), &Default::default()).unwrap().credentials;
            signed(token.access_key_id.as_str(), &token.secret_access_key, Some(token.session_token.as_str()), NOW)
        };
        let before = session(&iam);
        iam.reset_to_bootstrap().unwrap();
        let after = session(&iam);
        assert!(iam.authenticate(&after, "sts", "us-east-1").is_ok());
        assert_eq!(iam.authenticate(&before, "sts", "us-east-1").unwrap_err().code(), "InvalidClientTokenId");
        assert_bootstrap_state(&iam, "111122223333", &member, &keys);
        // Work after the reset is kept as usual.
        iam.create_user(&Caller::root(&member), NewUser { name: "after".into(), ..NewUser::default() }).unwrap();
        (keys, member, before, after)
    };
    let text = std::fs::read_to_string(dir.join(castellan::ROOT_CREDENTIALS_FILE)).unwrap();
    assert!(text.starts_with("[default]\n") && text.contains("\n[account-2]\n"), "{text}");
    assert!(text.contains(&keys[1].access_key_id));
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join(castellan::BOOTSTRAP_FILE)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Reopened (test resets on, read from the bootstrap file): the reset state was on disk.
    let iam = seeded(&clock, 12).data_dir(&dir).test_reset(true).open().unwrap();
    assert!(iam.bootstrap_credentials().is_empty(), "no second bootstrap");
    assert!(iam.get_user(&Caller::root(&member), Some("after")).is_ok());
    // The new session key was kept: sessions from before the reset stay refused, later ones work.
    assert!(iam.authenticate(&after, "sts", "us-east-1").is_ok());
    assert_eq!(iam.authenticate(&before, "sts", "us-east-1").unwrap_err().code(), "InvalidClientTokenId");
    make_work(&iam, "111122223333", &member);
    iam.reset_to_bootstrap().unwrap();
    assert_bootstrap_state(&iam, "111122223333", &member, &keys);
    drop(iam);
    let iam = seeded(&clock, 13).data_dir(&dir).open().unwrap();
    assert_bootstrap_state(&iam, "111122223333", &member, &keys);
    drop(iam);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_data_directory_bootstrapped_otherwise_is_refused() {
    let dir = temp_dir("mismatch");
    let clock = Arc::new(FixedClock::new(NOW));
    drop(
        builder(&clock)
            .data_dir(&dir)
            .account_id("111122223333")
            .root_access_key(KEY_ID, SecretString::new(SECRET))
            .accounts(2)
            .open()
            .unwrap(),
    );
    let refused = |b: castellan::IamBuilder, what: &str| {
        let e = b.open().unwrap_err();
        assert_eq!(e.code(), "InvalidInput", "{e}");
        assert!(e.message().contains(what), "{e}");
    };
    refused(builder(&clock).data_dir(&dir).account_id("444455556666"), "bootstrapped with account 111122223333");
    refused(
        builder(&clock).data_dir(&dir).root_access_key("AKIAIOSFODNN7EXAMPLF", SecretString::new(SECRET)),
        "another root access key",
    );
    refused(
        builder(&clock).data_dir(&dir).root_access_key(KEY_ID, SecretString::new(SECRET.replace('w', "x"))),
        "another root access key",
    );
    refused(builder(&clock).data_dir(&dir).accounts(3), "with 2 account(s), not 3");
    // The same options reopen it.
    assert!(
        builder(&clock)
            .data_dir(&dir)
            .account_id("111122223333")
            .root_access_key(KEY_ID, SecretString::new(SECRET))
            .accounts(2)
            .test_reset(true)
            .open()
            .is_ok()
    );
    // Without its bootstrap file, test resets cannot know what to return to.
    std::fs::remove_file(dir.join(castellan::BOOTSTRAP_FILE)).unwrap();
    refused(builder(&clock).data_dir(&dir).test_reset(true), "bootstrap state is unknown");
    assert!(builder(&clock).data_dir(&dir).open().is_ok());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bootstrap_file_of_another_directory_is_refused() {
    let (one, two) = (temp_dir("foreign-one"), temp_dir("foreign-two"));
    let clock = Arc::new(FixedClock::new(NOW));
    drop(builder(&clock).data_dir(&one).account_id("111122223333").test_reset(true).open().unwrap());
    drop(builder(&clock).data_dir(&two).account_id("444455556666").open().unwrap());
    std::fs::copy(one.join(castellan::BOOTSTRAP_FILE), two.join(castellan::BOOTSTRAP_FILE)).unwrap();
    let e = seeded(&clock, 5).data_dir(&two).test_reset(true).open().unwrap_err();
    assert!(e.message().contains("111122223333") && e.message().contains("444455556666"), "{}", e.message());
    assert!(e.message().contains("data directory's bootstrap account is 444455556666"), "{}", e.message());
    // Without test resets the file is not read, and the directory opens.
    assert!(seeded(&clock, 6).data_dir(&two).open().is_ok());
}
