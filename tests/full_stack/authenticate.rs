//! Authentication: SigV4-signed requests with the bootstrap root key and a user's key; refusals.

use castellan::credentials::access_key::AccessKeyStatus;
use castellan::credentials::sigv4::{Request, SigningParams, sign};
use castellan::credentials::{SecretString, UnixTime};
use castellan::{Iam, Identity};

use crate::common::{NOW, World};

fn signed(key: &str, secret: &SecretString, time: i64) -> Request {
    let mut request = Request::new("POST", "/", "")
        .header("Host", "iam.amazonaws.com")
        .header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
        .body(b"Action=GetUser&Version=2010-05-08".to_vec());
    let params = SigningParams::new(key, secret.clone(), "us-east-1", "iam", UnixTime::from_seconds(time));
    let _ = sign(&mut request, &params, None);
    request
}

#[test]
fn root_and_user_keys_authenticate() {
    let w = World::new();
    let root_key = w.iam.root_credentials().unwrap().clone();
    let caller = w
        .iam
        .authenticate(&signed(&root_key.access_key_id, &root_key.secret_access_key, NOW), "iam", "us-east-1")
        .unwrap();
    assert_eq!(caller.identity, Identity::Root { account: w.account.clone() });
    assert_eq!(caller.access_key_id.as_deref(), Some(root_key.access_key_id.as_str()));
    w.user("alice", None);
    let key = w.iam.create_access_key(&w.root(), Some("alice")).unwrap();
    let request = signed(&key.access_key_id, &key.secret_access_key, NOW);
    let caller = w.iam.authenticate(&request, "iam", "us-east-1").unwrap();
    assert_eq!(caller.identity, Identity::User { account: w.account.clone(), name: "alice".into() });
    // An inactive key no longer authenticates; a wrong secret never did; nor a stale request.
    w.iam.update_access_key(&w.root(), Some("alice"), &key.access_key_id, AccessKeyStatus::Inactive).unwrap();
    let e = w.iam.authenticate(&request, "iam", "us-east-1").unwrap_err();
    assert_eq!((e.code(), e.status()), ("InvalidClientTokenId", 403), "{e}");
    let wrong = signed(&root_key.access_key_id, &SecretString::new("not-the-secret"), NOW);
    assert_eq!(w.iam.authenticate(&wrong, "iam", "us-east-1").unwrap_err().code(), "SignatureDoesNotMatch");
    let stale = signed(&root_key.access_key_id, &root_key.secret_access_key, NOW - 3600);
    assert_eq!(w.iam.authenticate(&stale, "iam", "us-east-1").unwrap_err().code(), "SignatureDoesNotMatch");
}

#[test]
fn a_new_data_directory_bootstraps_once() {
    use std::os::unix::fs::PermissionsExt;
    let dir =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("castellan-bootstrap-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (account, key) = {
        let iam = Iam::builder().data_dir(&dir).account_id("123456789012").seed(3).open().unwrap();
        let creds = iam.root_credentials().unwrap().clone();
        (iam.bootstrap_account(), creds)
    };
    assert_eq!(account, "123456789012");
    let file = dir.join(castellan::ROOT_CREDENTIALS_FILE);
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        text,
        format!(
            "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            key.access_key_id,
            key.secret_access_key.expose()
        )
    );
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::metadata(dir.join(castellan::KEYS_FILE)).unwrap().permissions().mode() & 0o777, 0o600);
    // Reopening neither bootstraps again nor rewrites the file, and the key still works (the
    // sealing keys were kept).
    let iam = Iam::builder()
        .data_dir(&dir)
        .seed(4)
        .clock(std::sync::Arc::new(castellan::credentials::FixedClock::new(NOW)))
        .open()
        .unwrap();
    assert!(iam.root_credentials().is_none());
    assert_eq!(iam.directory().account_ids(), ["123456789012"]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
    let caller =
        iam.authenticate(&signed(&key.access_key_id, &key.secret_access_key, NOW), "iam", "us-east-1").unwrap();
    assert_eq!(caller.identity, Identity::Root { account });
    drop(iam);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_bootstrap_account_stays_the_one_bootstrapped_as_accounts_are_added() {
    let dir =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("castellan-primary-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    {
        let iam = Iam::builder().data_dir(&dir).account_id("999999999990").seed(5).open().unwrap();
        let root = castellan::Caller::root("999999999990");
        iam.create_organization(&root).unwrap();
        let member = iam.create_account(&root, "member", "member@example.com").unwrap();
        // The member's id is lower: an account list sorts it first.
        assert!(member.id.as_str() < "999999999990");
        assert_eq!(iam.directory().account_ids()[0], member.id);
        assert_eq!(iam.bootstrap_account(), "999999999990");
    }
    let iam = Iam::builder().data_dir(&dir).seed(6).open().unwrap();
    assert_eq!(iam.bootstrap_account(), "999999999990");
    drop(iam);
    let _ = std::fs::remove_dir_all(&dir);
}
