//! What the stories share: an `Iam` in memory with a fixed clock and an audit sink to read.

use std::sync::Arc;

use castellan::credentials::sigv4::{Request, SigningParams, sign};
use castellan::credentials::{FixedClock, SecretString, UnixTime};
use castellan::store::{NewUser, Tag};
use castellan::{Caller, Iam, IamError, MemorySink};

/// 2024-01-01T00:00:00Z.
pub const NOW: i64 = 1_704_067_200;

pub struct World {
    pub iam: Iam,
    pub audit: MemorySink,
    pub clock: Arc<FixedClock>,
    pub account: String,
}

impl World {
    pub fn new() -> World {
        World::with_account("111122223333")
    }

    pub fn with_account(account: &str) -> World {
        let clock = Arc::new(FixedClock::new(NOW));
        let audit = MemorySink::new();
        let iam = Iam::builder()
            .seed(7)
            .clock(clock.clone())
            .account_id(account)
            .audit(audit.clone())
            .password_hash_iterations(1_000)
            .open()
            .unwrap();
        World { iam, audit, clock, account: account.to_owned() }
    }

    pub fn root(&self) -> Caller {
        Caller::root(&self.account)
    }

    /// The clock's time, in seconds.
    pub fn clock_now(&self) -> i64 {
        use castellan::credentials::Clock;
        self.clock.now().seconds
    }

    /// Creates user `name` (as root) with the given inline policy, if any.
    pub fn user(&self, name: &str, policy: Option<&str>) -> Caller {
        let root = self.root();
        self.iam
            .create_user(
                &root,
                NewUser { name: name.into(), tags: vec![Tag::new("team", "blue")], ..NewUser::default() },
            )
            .unwrap();
        if let Some(doc) = policy {
            self.iam.put_inline_policy(&root, castellan::store::Entity::User(name), "inline", doc).unwrap();
        }
        Caller::user(&self.account, name)
    }

    /// An administrator: a user with `AdministratorAccess` attached.
    pub fn admin(&self, name: &str) -> Caller {
        let caller = self.user(name, None);
        self.iam
            .attach_policy(
                &self.root(),
                castellan::store::Entity::User(name),
                "arn:aws:iam::aws:policy/AdministratorAccess",
            )
            .unwrap();
        caller
    }
}

/// A policy document allowing `actions` on `resource`.
pub fn allow(actions: &[&str], resource: &str) -> String {
    let actions: Vec<String> = actions.iter().map(|a| format!("\"{a}\"")).collect();
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":[{}],"Resource":"{resource}"}}]}}"#,
        actions.join(",")
    )
}

/// Asserts `result` is AWS's AccessDenied for `action` by `caller`.
pub fn denied<T: std::fmt::Debug>(caller: &Caller, action: &str, result: Result<T, IamError>) {
    let e = result.expect_err(action);
    assert_eq!((e.code(), e.status()), ("AccessDenied", 403), "{action}: {e}");
    let prefix = format!("User: {} is not authorized to perform: {action} on resource: ", caller.arn());
    assert!(e.message().starts_with(&prefix), "{action}: {}", e.message());
    assert!(
        e.message().ends_with(&format!("because no identity-based policy allows the {action} action")),
        "{}",
        e.message()
    );
}

pub fn world() -> (World, Caller, Caller) {
    let w = World::new();
    let admin = w.admin("admin");
    let nobody = w.user("nobody", None);
    (w, admin, nobody)
}

/// An STS `GetCallerIdentity` request signed at `time` with a key (and a session token).
pub fn signed(key: &str, secret: &SecretString, token: Option<&str>, time: i64) -> Request {
    let mut request = Request::new("POST", "/", "")
        .header("Host", "sts.amazonaws.com")
        .header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
        .body(b"Action=GetCallerIdentity&Version=2011-06-15".to_vec());
    let mut params = SigningParams::new(key, secret.clone(), "us-east-1", "sts", UnixTime::from_seconds(time));
    if let Some(token) = token {
        params = params.session_token(SecretString::new(token));
    }
    let _ = sign(&mut request, &params, None);
    request
}
