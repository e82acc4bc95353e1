//! Whole stories through the facade only: administrators, MFA, roles, sessions across accounts,
//! key rotation, revocation, federation.

use castellan::credentials::access_key::AccessKeyStatus;
use castellan::credentials::password::{PasswordPolicy, UpdatePasswordPolicy};
use castellan::credentials::{MfaSeed, SecretString, UnixTime};
use castellan::store::{Entity, NewPolicy, NewRole, NewUser, Tag};
use castellan::sts::{AssumeRoleRequest, GetFederationTokenRequest, GetSessionTokenRequest};
use castellan::{Access, Caller, Identity};

use crate::common::{NOW, World, allow, signed};

/// The current TOTP code of a device whose seed is `base32`, `offset_steps` steps from `now`.
fn code(base32: &SecretString, now: i64, offset_steps: i64) -> String {
    let seed = MfaSeed::from_base32(base32).unwrap();
    seed.code_at(u64::try_from(now + offset_steps * 30).unwrap()).expose().to_owned()
}

/// Gives `name` an enabled virtual MFA device, as the user itself would (two consecutive codes),
/// and returns its serial number and seed.
fn enroll_mfa(w: &World, caller: &Caller, name: &str) -> (String, SecretString) {
    let device = w.iam.create_virtual_mfa_device(caller, &format!("{name}-phone"), None, vec![]).unwrap();
    let now = w.clock_now();
    let (c1, c2) = (code(&device.base32_seed, now, -1), code(&device.base32_seed, now, 0));
    w.iam.enable_mfa_device(caller, Some(name), &device.serial_number, &c1, &c2).unwrap();
    (device.serial_number, device.base32_seed)
}

#[test]
fn the_root_user_creates_an_admin_with_mfa_under_a_password_policy() {
    let w = World::new();
    let root = w.root();
    let policy = PasswordPolicy::from_update(&UpdatePasswordPolicy {
        minimum_password_length: Some(14),
        require_numbers: Some(true),
        password_reuse_prevention: Some(3),
        allow_users_to_change_password: Some(true),
        ..UpdatePasswordPolicy::default()
    })
    .unwrap();
    w.iam.update_password_policy(&root, policy).unwrap();
    w.iam.create_user(&root, NewUser { name: "ada".into(), ..NewUser::default() }).unwrap();
    w.iam.attach_policy(&root, Entity::User("ada"), "arn:aws:iam::aws:policy/AdministratorAccess").unwrap();
    // The policy refuses a short password, and accepts a good one.
    let short = w.iam.create_login_profile(&root, Some("ada"), &SecretString::new("short1"), true).unwrap_err();
    assert_eq!((short.code(), short.status()), ("PasswordPolicyViolation", 400), "{short}");
    let first = SecretString::new("correct-horse-battery-1");
    let profile = w.iam.create_login_profile(&root, Some("ada"), &first, true).unwrap();
    assert!(profile.password_reset_required);
    let ada = Caller::user(&w.account, "ada");
    // The admin changes its password; reusing it is refused.
    let second = SecretString::new("correct-horse-battery-2");
    w.iam.change_password(&ada, &first, &second).unwrap();
    let reuse = w.iam.change_password(&ada, &second, &first).unwrap_err();
    assert_eq!(reuse.code(), "PasswordPolicyViolation", "{reuse}");
    assert!(!w.iam.get_login_profile(&root, Some("ada")).unwrap().password_reset_required);
    // MFA: a wrong pair of codes is refused; the right pair enables the device.
    let device = w.iam.create_virtual_mfa_device(&ada, "ada-phone", None, vec![]).unwrap();
    let wrong = w.iam.enable_mfa_device(&ada, None, &device.serial_number, "000000", "111111").unwrap_err();
    assert_eq!(wrong.code(), "InvalidAuthenticationCode", "{wrong}");
    let (c1, c2) = (code(&device.base32_seed, NOW, -1), code(&device.base32_seed, NOW, 0));
    w.iam.enable_mfa_device(&ada, None, &device.serial_number, &c1, &c2).unwrap();
    let devices = w.iam.list_mfa_devices(&root, Some("ada")).unwrap();
    assert_eq!(devices.len(), 1);
    assert!(devices[0].device.is_enabled());
    // With MFA, GetSessionToken gives a session with aws:MultiFactorAuthPresent.
    w.clock.advance(60);
    let session = w
        .iam
        .get_session_token(
            &ada,
            &GetSessionTokenRequest {
                serial_number: Some(device.serial_number.clone()),
                token_code: Some(code(&device.base32_seed, NOW + 60, 0)),
                ..GetSessionTokenRequest::default()
            },
        )
        .unwrap();
    assert!(session.claims.mfa.multi_factor_auth_present());
    // The same code cannot be used twice.
    let replay = w.iam.get_session_token(
        &ada,
        &GetSessionTokenRequest {
            serial_number: Some(device.serial_number),
            token_code: Some(code(&device.base32_seed, NOW + 60, 0)),
            ..GetSessionTokenRequest::default()
        },
    );
    assert!(replay.is_err());
}

const BOUNDARY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","sts:AssumeRole","sts:TagSession"],"Resource":"*"}]}"#;

/// Account A with an MFA-protected role `deployer` (boundary: S3 and STS only) that `alice`
/// assumes; account B (a member created through Organizations) with a role `reader` that trusts
/// `deployer` sessions tagged `project=apollo`.
struct TwoAccounts {
    w: World,
    b: String,
    alice: Caller,
    serial: String,
    seed: SecretString,
}

fn two_accounts() -> TwoAccounts {
    let w = World::new();
    let root = w.root();
    let a = w.account.clone();
    let alice = w.user("alice", None);
    // The admin creates the role with a boundary and a trust policy.
    let admin = w.admin("admin");
    let boundary = w
        .iam
        .create_policy(
            &admin,
            NewPolicy { name: "s3-and-sts".into(), document: BOUNDARY.into(), ..NewPolicy::default() },
        )
        .unwrap();
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{a}:user/alice"}},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{{"Bool":{{"aws:MultiFactorAuthPresent":"true"}}}}}}]}}"#
    );
    w.iam
        .create_role(
            &admin,
            NewRole {
                name: "deployer".into(),
                assume_role_policy_document: trust,
                permissions_boundary: Some(boundary.arn.clone()),
                max_session_duration: Some(7200),
                ..NewRole::default()
            },
        )
        .unwrap();
    w.iam.attach_policy(&admin, Entity::Role("deployer"), "arn:aws:iam::aws:policy/AdministratorAccess").unwrap();
    // The organization and account B with its role.
    w.iam.create_organization(&root).unwrap();
    let b = w.iam.create_account(&root, "b", "b@example.com").unwrap().id;
    let b_root = Caller::root(&b);
    let reader_trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{a}:role/deployer"}},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{{"StringEquals":{{"aws:PrincipalTag/project":"apollo"}}}}}}]}}"#
    );
    w.iam
        .create_role(
            &b_root,
            NewRole { name: "reader".into(), assume_role_policy_document: reader_trust, ..NewRole::default() },
        )
        .unwrap();
    let read = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b-data/${aws:PrincipalTag/project}/*"}]}"#;
    w.iam.put_inline_policy(&b_root, Entity::Role("reader"), "read", read).unwrap();
    let (serial, seed) = enroll_mfa(&w, &root, "alice");
    TwoAccounts { w, b, alice, serial, seed }
}

fn assume(role_arn: &str, name: &str) -> AssumeRoleRequest {
    AssumeRoleRequest { role_arn: role_arn.into(), role_session_name: name.into(), ..AssumeRoleRequest::default() }
}

#[test]
fn a_user_assumes_a_role_with_mfa_and_transitive_tags_and_chains_into_another_account() {
    let TwoAccounts { w, b, alice, serial, seed } = two_accounts();
    let deployer = format!("arn:aws:iam::{}:role/deployer", w.account);
    // Without MFA the trust policy refuses.
    let e = w.iam.assume_role(&alice, &assume(&deployer, "no-mfa")).unwrap_err();
    assert_eq!(e.code(), "AccessDenied", "{e}");
    w.clock.advance(30);
    let with_mfa = AssumeRoleRequest {
        serial_number: Some(serial),
        token_code: Some(code(&seed, w.clock_now(), 0)),
        tags: vec![Tag::new("project", "apollo")],
        transitive_tag_keys: vec!["project".into()],
        ..assume(&deployer, "alice")
    };
    let first = w.iam.assume_role(&alice, &with_mfa).unwrap();
    assert_eq!(first.assumed_role_user.arn, format!("arn:aws:sts::{}:assumed-role/deployer/alice", w.account));
    let session = Caller::session(first.claims.clone());
    // The boundary caps the role: S3 yes, IAM no, although AdministratorAccess is attached.
    assert!(w.iam.authorize(&session, &Access::new("s3:ListBucket", "arn:aws:s3:::a-data")).unwrap().is_allowed());
    let iam_denied = w.iam.authorize(&session, &Access::new("iam:CreateUser", "*")).unwrap();
    assert!(!iam_denied.is_allowed());
    assert!(
        iam_denied.message.ends_with("because no permissions boundary allows the iam:CreateUser action"),
        "{}",
        iam_denied.message
    );
    // Chain into account B: the transitive tag satisfies B's trust policy.
    let reader = format!("arn:aws:iam::{b}:role/reader");
    let chained = w.iam.assume_role(&session, &assume(&reader, "alice-in-b")).unwrap();
    assert_eq!(chained.claims.tags, [Tag::new("project", "apollo")]);
    let in_b = Caller::session(chained.claims.clone());
    fn get(key: &str) -> Access<'_> {
        Access::new("s3:GetObject", key)
    }
    assert!(w.iam.authorize(&in_b, &get("arn:aws:s3:::b-data/apollo/report.csv")).unwrap().is_allowed());
    assert!(!w.iam.authorize(&in_b, &get("arn:aws:s3:::b-data/gemini/report.csv")).unwrap().is_allowed());
    assert!(
        !w.iam.authorize(&in_b, &Access::new("s3:PutObject", "arn:aws:s3:::b-data/apollo/x")).unwrap().is_allowed()
    );
    // Role chaining is capped at one hour; a transitive key cannot be overridden down the chain.
    let long = AssumeRoleRequest { duration_seconds: Some(7200), ..assume(&reader, "long") };
    assert_eq!(w.iam.assume_role(&session, &long).unwrap_err().code(), "ValidationError");
    let conflict = AssumeRoleRequest { tags: vec![Tag::new("project", "gemini")], ..assume(&reader, "x") };
    assert!(w.iam.assume_role(&session, &conflict).is_err());
    // A session without the tag is refused by B's trust policy.
    w.clock.advance(30);
    let plain = AssumeRoleRequest {
        serial_number: Some(w.iam.list_mfa_devices(&w.root(), Some("alice")).unwrap()[0].device.serial_number.clone()),
        token_code: Some(code(&seed, w.clock_now(), 0)),
        ..assume(&deployer, "untagged")
    };
    let untagged = w.iam.assume_role(&alice, &plain).unwrap();
    let e = w.iam.assume_role(&Caller::session(untagged.claims), &assume(&reader, "nope")).unwrap_err();
    assert_eq!(e.code(), "AccessDenied", "{e}");
    // GetCallerIdentity for the chained session.
    let who = w.iam.get_caller_identity(&in_b).unwrap();
    assert_eq!(who.arn, format!("arn:aws:sts::{b}:assumed-role/reader/alice-in-b"));
    assert_eq!(who.account, b);
}

#[test]
fn a_session_is_revoked_by_a_deny_on_token_issue_time() {
    let TwoAccounts { w, alice, serial, seed, .. } = two_accounts();
    let deployer = format!("arn:aws:iam::{}:role/deployer", w.account);
    w.clock.advance(30);
    let request = |now: i64| AssumeRoleRequest {
        serial_number: Some(serial.clone()),
        token_code: Some(code(&seed, now, 0)),
        ..assume(&deployer, "alice")
    };
    let old = Caller::session(w.iam.assume_role(&alice, &request(w.clock_now())).unwrap().claims);
    let list = Access::new("s3:ListBucket", "arn:aws:s3:::a-data");
    assert!(w.iam.authorize(&old, &list).unwrap().is_allowed());
    // Revoke: deny every session issued before now (what the console's "revoke sessions" does).
    w.clock.advance(60);
    let cutoff = castellan::sts::session::iso8601(UnixTime::from_seconds(w.clock_now()));
    let revoke = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Action":"*","Resource":"*","Condition":{{"DateLessThan":{{"aws:TokenIssueTime":"{cutoff}"}}}}}}]}}"#
    );
    let admin = Caller::user(&w.account, "admin");
    w.iam.put_inline_policy(&admin, Entity::Role("deployer"), "AWSRevokeOlderSessions", &revoke).unwrap();
    let denied = w.iam.authorize(&old, &list).unwrap();
    assert!(!denied.is_allowed());
    assert!(denied.message.contains("explicit deny in an identity-based policy"), "{}", denied.message);
    // A session issued afterwards works.
    w.clock.advance(30);
    let new = Caller::session(w.iam.assume_role(&alice, &request(w.clock_now())).unwrap().claims);
    assert!(w.iam.authorize(&new, &list).unwrap().is_allowed());
}

#[test]
fn access_keys_rotate() {
    let w = World::new();
    let alice = w.user(
        "alice",
        Some(&allow(
            &["iam:CreateAccessKey", "iam:UpdateAccessKey", "iam:DeleteAccessKey", "iam:ListAccessKeys"],
            &format!("arn:aws:iam::{}:user/alice", "111122223333"),
        )),
    );
    let old = w.iam.create_access_key(&w.root(), Some("alice")).unwrap();
    let who = |key: &str, secret: &SecretString| {
        w.iam.authenticate(&signed(key, secret, None, w.clock_now()), "sts", "us-east-1")
    };
    let as_alice = who(&old.access_key_id, &old.secret_access_key).unwrap();
    assert_eq!(as_alice.identity, alice.identity);
    // Alice rotates her own key: a second key, switch, deactivate the old one, delete it.
    let new = w.iam.create_access_key(&as_alice, None).unwrap();
    assert_eq!(w.iam.create_access_key(&as_alice, None).unwrap_err().code(), "LimitExceeded");
    let as_alice = who(&new.access_key_id, &new.secret_access_key).unwrap();
    w.iam.update_access_key(&as_alice, None, &old.access_key_id, AccessKeyStatus::Inactive).unwrap();
    assert_eq!(who(&old.access_key_id, &old.secret_access_key).unwrap_err().code(), "InvalidClientTokenId");
    w.iam.delete_access_key(&as_alice, None, &old.access_key_id).unwrap();
    let keys = w.iam.list_access_keys(&as_alice, None).unwrap();
    assert_eq!(keys.iter().map(|k| k.id.as_str()).collect::<Vec<_>>(), [new.access_key_id.as_str()]);
    assert!(who(&new.access_key_id, &new.secret_access_key).is_ok());
}

#[test]
fn temporary_credentials_authenticate_and_expire() {
    let w = World::new();
    let alice = w.user("alice", Some(&allow(&["s3:GetObject"], "*")));
    let session = w
        .iam
        .get_session_token(
            &alice,
            &GetSessionTokenRequest { duration_seconds: Some(900), ..GetSessionTokenRequest::default() },
        )
        .unwrap();
    let c = &session.credentials;
    let request = signed(c.access_key_id.as_str(), &c.secret_access_key, Some(c.session_token.as_str()), w.clock_now());
    let caller = w.iam.authenticate(&request, "sts", "us-east-1").unwrap();
    assert!(matches!(&caller.identity, Identity::Session(claims) if claims.principal_arn.ends_with(":user/alice")));
    assert!(w.iam.authorize(&caller, &Access::new("s3:GetObject", "arn:aws:s3:::b/k")).unwrap().is_allowed());
    // Without the token, or with another key's token, the signature does not authenticate.
    let bare = signed(c.access_key_id.as_str(), &c.secret_access_key, None, w.clock_now());
    assert!(w.iam.authenticate(&bare, "sts", "us-east-1").is_err());
    // After 900 s the session has expired.
    w.clock.advance(901);
    let late = signed(c.access_key_id.as_str(), &c.secret_access_key, Some(c.session_token.as_str()), w.clock_now());
    let e = w.iam.authenticate(&late, "sts", "us-east-1").unwrap_err();
    assert_eq!((e.code(), e.status()), ("ExpiredToken", 403), "{e}");
    let e = w.iam.authorize(&caller, &Access::new("s3:GetObject", "arn:aws:s3:::b/k")).unwrap_err();
    assert_eq!(e.code(), "ExpiredToken");
}

#[test]
fn a_federated_user_gets_only_what_the_session_policy_and_the_user_both_allow() {
    let w = World::new();
    let alice = w.user("alice", Some(&allow(&["s3:*", "sts:GetFederationToken"], "*")));
    let request = GetFederationTokenRequest {
        name: "partner".into(),
        policy: Some(allow(&["s3:GetObject", "ec2:DescribeInstances"], "*")),
        ..GetFederationTokenRequest::default()
    };
    let token = w.iam.get_federation_token(&alice, &request).unwrap();
    let fed = Caller::session(token.claims);
    assert_eq!(fed.arn(), "arn:aws:sts::111122223333:federated-user/partner");
    assert!(w.iam.authorize(&fed, &Access::new("s3:GetObject", "arn:aws:s3:::b/k")).unwrap().is_allowed());
    // Allowed by the session policy but not by the user: denied. By the user only: denied.
    assert!(!w.iam.authorize(&fed, &Access::new("ec2:DescribeInstances", "*")).unwrap().is_allowed());
    assert!(!w.iam.authorize(&fed, &Access::new("s3:PutObject", "arn:aws:s3:::b/k")).unwrap().is_allowed());
    // Without a session policy the federated user may do nothing.
    let bare = w
        .iam
        .get_federation_token(
            &alice,
            &GetFederationTokenRequest { name: "bare".into(), ..GetFederationTokenRequest::default() },
        )
        .unwrap();
    assert!(
        !w.iam
            .authorize(&Caller::session(bare.claims), &Access::new("s3:GetObject", "arn:aws:s3:::b/k"))
            .unwrap()
            .is_allowed()
    );
    assert_eq!(w.iam.get_caller_identity(&fed).unwrap().user_id, "111122223333:partner");
}

#[test]
fn a_role_deleted_and_created_again_ends_its_old_sessions() {
    let w = World::new();
    let root = w.root();
    let alice = w.user("alice", None);
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"sts:AssumeRole"}]}"#;
    let role = || NewRole { name: "r".into(), assume_role_policy_document: trust.into(), ..NewRole::default() };
    w.iam.create_role(&root, role()).unwrap();
    w.iam.put_inline_policy(&root, Entity::Role("r"), "p", &allow(&["s3:GetObject"], "*")).unwrap();
    let session =
        Caller::session(w.iam.assume_role(&alice, &assume("arn:aws:iam::111122223333:role/r", "s1")).unwrap().claims);
    let get = Access::new("s3:GetObject", "arn:aws:s3:::b/k");
    assert!(w.iam.authorize(&session, &get).unwrap().is_allowed());
    w.iam.delete_inline_policy(&root, Entity::Role("r"), "p").unwrap();
    w.iam.delete_role(&root, "r").unwrap();
    w.iam.create_role(&root, role()).unwrap();
    w.iam.put_inline_policy(&root, Entity::Role("r"), "p", &allow(&["s3:GetObject"], "*")).unwrap();
    let e = w.iam.authorize(&session, &get).unwrap_err();
    assert_eq!(e.code(), "InvalidClientTokenId", "{e}");
    // The user deleted and created again is not the trust policy's principal any more either.
    w.iam.delete_user(&root, "alice").unwrap();
    let alice = w.user("alice", None);
    let e = w.iam.assume_role(&alice, &assume("arn:aws:iam::111122223333:role/r", "s1")).unwrap_err();
    assert_eq!(e.code(), "AccessDenied", "{e}");
}

#[test]
fn get_caller_identity_needs_no_permission_and_cannot_be_denied() {
    let w = World::new();
    let deny_all = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#;
    let nobody = w.user("nobody", Some(deny_all));
    let me = w.iam.get_caller_identity(&nobody).unwrap();
    assert_eq!(me.arn, "arn:aws:iam::111122223333:user/nobody");
    assert!(me.user_id.starts_with("AIDA"));
    let root = w.iam.get_caller_identity(&w.root()).unwrap();
    assert_eq!((root.user_id.as_str(), root.arn.as_str()), ("111122223333", "arn:aws:iam::111122223333:root"));
}
