//! The [`Iam`] handle: the store's directory of accounts, the sealing keys, the session-token
//! service, the clock, the RNG and the audit sink, opened together; and the calls every
//! operation goes through (authenticate, authorize, audit).

use std::cell::RefCell;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use castellan_credentials::access_key::{AccessKeyKind, AccessKeyRecord, AccessKeyStatus, Sealer, SealingKey};
use castellan_credentials::sigv4::{KeyRecord, Request as SignedRequest, SigningKeyCache, Verifier};
use castellan_credentials::{Clock, SecretString, SystemClock};
use castellan_policy::AccountId;
use castellan_store::{Checkpoint, Directory, Owner, OwnerName, Store};
use castellan_sts::SessionTokenService;
use castellan_sts::session::iso8601;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::audit::{AuditEvent, AuditKind, AuditSink, JsonLinesSink, NoAudit};
use crate::authorize::{Access, Authorization, decide};
use crate::error::IamError;
use crate::subject::{Caller, Identity, Subject, resolve};

/// The file of the sealing keys in a data directory (mode 0600).
pub const KEYS_FILE: &str = "master.keys";
/// The file the bootstrap account's root access key is written to, once (mode 0600), in the AWS
/// shared-credentials format.
pub const ROOT_CREDENTIALS_FILE: &str = "root-credentials";
/// The audit log in a data directory, one JSON object per line.
pub const AUDIT_FILE: &str = "audit.jsonl";
/// The bootstrap state of a data directory (mode 0600), written once at bootstrap: what
/// [`Iam::reset_to_bootstrap`] returns to. Secrets in it are sealed, as in the store.
pub const BOOTSTRAP_FILE: &str = "bootstrap.json";

/// The root user's access key of a freshly bootstrapped account.
#[derive(Debug, Clone)]
pub struct RootCredentials {
    /// The account.
    pub account_id: String,
    /// The access key id (`AKIA...`).
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: SecretString,
}

/// How to open an [`Iam`]: see [`Iam::builder`].
pub struct IamBuilder {
    data_dir: Option<PathBuf>,
    account_id: Option<String>,
    root_key: Option<(String, SecretString)>,
    accounts: Option<u32>,
    test_reset: bool,
    clock: Arc<dyn Clock>,
    rng: Option<StdRng>,
    audit: Option<Box<dyn AuditSink>>,
    password_iterations: u32,
}

impl std::fmt::Debug for IamBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IamBuilder")
            .field("data_dir", &self.data_dir)
            .field("account_id", &self.account_id)
            .field("accounts", &self.accounts)
            .field("test_reset", &self.test_reset)
            .finish_non_exhaustive()
    }
}

impl IamBuilder {
    /// Keeps everything in the data directory `dir` (created if needed): the store, the sealing
    /// keys, the audit log and, on first open, the root credentials. Without it, everything is in
    /// memory.
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> IamBuilder {
        self.data_dir = Some(dir.into());
        self
    }

    /// The bootstrap account's id (default: a random valid 12-digit id). A data directory
    /// bootstrapped with another account is refused.
    pub fn account_id(mut self, id: impl Into<String>) -> IamBuilder {
        self.account_id = Some(id.into());
        self
    }

    /// The bootstrap root user's access key, instead of a generated one (checked with
    /// [`check_root_access_key`]). A data directory whose bootstrap account's root user does
    /// not hold this key is refused.
    pub fn root_access_key(mut self, id: impl Into<String>, secret: SecretString) -> IamBuilder {
        self.root_key = Some((id.into(), secret));
        self
    }

    /// Bootstraps `n` accounts (at least 1; default 1) in one organization with all features:
    /// the first is the management account, the others are members made by Organizations'
    /// `CreateAccount` (each with an `OrganizationAccountAccessRole`), and every account's root
    /// user gets an access key. A data directory bootstrapped with another number is refused.
    pub fn accounts(mut self, n: u32) -> IamBuilder {
        self.accounts = Some(n);
        self
    }

    /// Enables [`Iam::reset_to_bootstrap`] (for test suites only): the state as bootstrapped is
    /// kept (in memory, or read from [`BOOTSTRAP_FILE`] in the data directory) to return to.
    pub fn test_reset(mut self, enabled: bool) -> IamBuilder {
        self.test_reset = enabled;
        self
    }

    /// The clock (default: the system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> IamBuilder {
        self.clock = clock;
        self
    }

    /// The random number generator's seed (tests; default: the operating system's entropy).
    pub fn seed(mut self, seed: u64) -> IamBuilder {
        self.rng = Some(StdRng::seed_from_u64(seed));
        self
    }

    /// PBKDF2 rounds for new password hashes (default
    /// `castellan_credentials::password::DEFAULT_ITERATIONS`; fewer only for tests).
    pub fn password_hash_iterations(mut self, iterations: u32) -> IamBuilder {
        self.password_iterations = iterations;
        self
    }

    /// Where audit events go (default: `audit.jsonl` in the data directory, none in memory).
    pub fn audit(mut self, sink: impl AuditSink + 'static) -> IamBuilder {
        self.audit = Some(Box::new(sink));
        self
    }

    /// Opens: loads the data directory (or starts empty in memory) and, when it holds no
    /// account, bootstraps one with a root access key.
    pub fn open(self) -> Result<Iam, IamError> {
        let mut rng = match self.rng {
            Some(rng) => rng,
            None => StdRng::from_os_rng(),
        };
        let store_rng = StdRng::from_rng(&mut rng);
        let (directory, keys, audit): (Directory, Keys, Box<dyn AuditSink>) = match &self.data_dir {
            Some(dir) => {
                let directory = Directory::open(dir, Arc::clone(&self.clock), store_rng)?;
                let keys = Keys::load_or_create(&dir.join(KEYS_FILE), &mut rng)?;
                let audit = match self.audit {
                    Some(sink) => sink,
                    None => Box::new(JsonLinesSink::open(dir.join(AUDIT_FILE))?),
                };
                (directory, keys, audit)
            }
            None => {
                let directory = Directory::in_memory(Arc::clone(&self.clock), store_rng);
                (directory, Keys::generate(&mut rng), self.audit.unwrap_or_else(|| Box::new(NoAudit)))
            }
        };
        let iam = Iam {
            directory,
            sealer: keys.secrets,
            tokens: RwLock::new(Arc::new(keys.sessions)),
            clock: self.clock,
            rng: Mutex::new(rng),
            audit,
            signing_keys: Arc::new(SigningKeyCache::new(4096)),
            data_dir: self.data_dir,
            bootstrapped: Vec::new(),
            password_iterations: self.password_iterations,
            activity: crate::last_used::Activity::default(),
            reset: None,
        };
        let wanted = Bootstrap { account_id: self.account_id, root_key: self.root_key, accounts: self.accounts };
        iam.bootstrap(wanted, self.test_reset)
    }
}

/// What a builder asked the bootstrap to be.
struct Bootstrap {
    account_id: Option<String>,
    root_key: Option<(String, SecretString)>,
    accounts: Option<u32>,
}

/// Checks a root access key given by an operator against AWS's formats: the id is `AKIA` and 16
/// characters of `A-Z2-7` (20 in all), the secret 40 characters of `A-Za-z0-9/+`.
pub fn check_root_access_key(id: &str, secret: &str) -> Result<(), IamError> {
    let id_ok = id.len() == castellan_credentials::access_key::ACCESS_KEY_ID_LEN
        && id.starts_with("AKIA")
        && id.bytes().all(|b| castellan_credentials::access_key::ID_ALPHABET.contains(&b));
    if !id_ok {
        return Err(IamError::invalid_input(format!(
            "the root access key id `{id}` is not a long-term access key id: `AKIA` and 16 characters of A-Z and 2-7"
        )));
    }
    let secret_ok = secret.len() == castellan_credentials::access_key::SECRET_ACCESS_KEY_LEN
        && secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'/' || b == b'+');
    if !secret_ok {
        // The secret itself is never repeated in a message.
        return Err(IamError::invalid_input(format!(
            "the root secret access key is not a secret access key: 40 characters of A-Z, a-z, 0-9, `/` and `+` \
             (it has {} characters)",
            secret.chars().count()
        )));
    }
    Ok(())
}

/// The sealing keys: one for secrets at rest (access keys, MFA seeds), one for session tokens.
struct Keys {
    secrets: Sealer,
    sessions: SessionTokenService,
}

impl Keys {
    fn generate(rng: &mut StdRng) -> Keys {
        Keys {
            secrets: Sealer::new(SealingKey::generate(1, rng)),
            sessions: SessionTokenService::new(SealingKey::generate(1, rng)),
        }
    }

    /// Reads `path` (`secrets ID HEX` and `sessions ID HEX` lines), or creates it (mode 0600).
    fn load_or_create(path: &Path, rng: &mut StdRng) -> Result<Keys, IamError> {
        let fail = |what: &str, e: &dyn std::fmt::Display| {
            IamError::service_failure(format!("{what} {}: {e}", path.display()))
        };
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let mut secrets = None;
                let mut sessions = None;
                for line in text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
                    let mut parts = line.split_whitespace();
                    let (Some(kind), Some(id), Some(hex), None) =
                        (parts.next(), parts.next(), parts.next(), parts.next())
                    else {
                        return Err(fail("malformed key line in", &line));
                    };
                    let id: u32 = id.parse().map_err(|e| fail("bad key id in", &e))?;
                    let key =
                        SealingKey::new(id, decode_hex32(hex).ok_or_else(|| fail("bad key in", &"not 64 hex digits"))?);
                    match kind {
                        "secrets" => secrets = Some(key),
                        "sessions" => sessions = Some(key),
                        other => return Err(fail("unknown key kind in", &other)),
                    }
                }
                match (secrets, sessions) {
                    (Some(a), Some(b)) => Ok(Keys { secrets: Sealer::new(a), sessions: SessionTokenService::new(b) }),
                    _ => Err(fail("missing keys in", &"both `secrets` and `sessions` are needed")),
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let secret: [u8; 32] = rng.random();
                let session: [u8; 32] = rng.random();
                let text = format!(
                    "# Castellan's sealing keys. Keep this file secret and backed up with the data directory.\nsecrets 1 {}\nsessions 1 {}\n",
                    encode_hex(&secret),
                    encode_hex(&session)
                );
                write_private(path, &text)?;
                Ok(Keys {
                    secrets: Sealer::new(SealingKey::new(1, secret)),
                    sessions: SessionTokenService::new(SealingKey::new(1, session)),
                })
            }
            Err(e) => Err(fail("cannot read", &e)),
        }
    }
}

fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_hex32(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if text.len() != 64 {
        return None;
    }
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Creates `path` with mode 0600 and writes `text`; refuses to overwrite.
fn write_private(path: &Path, text: &str) -> Result<(), IamError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file =
        options.open(path).map_err(|e| IamError::service_failure(format!("cannot create {}: {e}", path.display())))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| IamError::service_failure(format!("cannot write {}: {e}", path.display())))
}

/// `credentials` in the AWS shared-credentials format: the first as profile `[default]`, the
/// N-th as `[account-N]`.
pub fn shared_credentials(credentials: &[RootCredentials]) -> String {
    let mut text = String::new();
    for (i, c) in credentials.iter().enumerate() {
        let profile = if i == 0 { "default".to_owned() } else { format!("account-{}", i + 1) };
        text.push_str(&format!(
            "[{profile}]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            c.access_key_id,
            c.secret_access_key.expose()
        ));
    }
    text
}

/// Castellan: IAM, STS and Organizations over one directory of accounts.
pub struct Iam {
    pub(crate) directory: Directory,
    pub(crate) sealer: Sealer,
    /// The session-token service; a test reset replaces it (a new key), so it is read once per
    /// call through [`Iam::session_tokens`].
    pub(crate) tokens: RwLock<Arc<SessionTokenService>>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) rng: Mutex<StdRng>,
    audit: Box<dyn AuditSink>,
    signing_keys: Arc<SigningKeyCache>,
    data_dir: Option<PathBuf>,
    bootstrapped: Vec<RootCredentials>,
    pub(crate) password_iterations: u32,
    /// Keys', roles' and services' last use, and generated reports (see `last_used`).
    pub(crate) activity: crate::last_used::Activity,
    /// The state to return to, when test resets are enabled (see `reset`).
    pub(crate) reset: Option<crate::reset::ResetPoint>,
}

impl std::fmt::Debug for Iam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Iam").field("directory", &self.directory).field("data_dir", &self.data_dir).finish()
    }
}

impl Iam {
    /// How to open one: in memory by default; [`IamBuilder::data_dir`] for a durable one.
    pub fn builder() -> IamBuilder {
        IamBuilder {
            data_dir: None,
            account_id: None,
            root_key: None,
            accounts: None,
            test_reset: false,
            clock: Arc::new(SystemClock),
            rng: None,
            audit: None,
            password_iterations: castellan_credentials::password::DEFAULT_ITERATIONS,
        }
    }

    /// The accounts.
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// The clock.
    pub fn clock(&self) -> &dyn Clock {
        &*self.clock
    }

    /// The session-token service (its key ring) as it stands.
    pub fn session_tokens(&self) -> Arc<SessionTokenService> {
        Arc::clone(&self.tokens.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The bootstrap account: the one this `Iam` created when it first opened (recorded in the
    /// store, so it stays the same however many accounts are added).
    pub fn bootstrap_account(&self) -> String {
        // Data directories bootstrapped before the primary account was recorded fall back to
        // the lowest account id.
        self.directory.primary_account().or_else(|| self.directory.account_ids().into_iter().next()).unwrap_or_default()
    }

    /// The root credentials this open created, if it bootstrapped the account (in a data
    /// directory they are also in [`ROOT_CREDENTIALS_FILE`]; later opens do not see them).
    pub fn root_credentials(&self) -> Option<&RootCredentials> {
        self.bootstrapped.first()
    }

    /// The root credentials of every account this open bootstrapped, the management account
    /// first (empty when the data directory was bootstrapped before).
    pub fn bootstrap_credentials(&self) -> &[RootCredentials] {
        &self.bootstrapped
    }

    pub(crate) fn with_rng<T>(&self, f: impl FnOnce(&mut StdRng) -> T) -> T {
        f(&mut self.rng.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Bootstraps an empty directory as `wanted` asks, or checks that an already bootstrapped
    /// one is what `wanted` asks for; then keeps the bootstrap state when test resets are on.
    fn bootstrap(mut self, wanted: Bootstrap, test_reset: bool) -> Result<Iam, IamError> {
        if let Some((id, secret)) = &wanted.root_key {
            check_root_access_key(id, secret.expose())?;
        }
        let accounts = wanted.accounts.unwrap_or(1);
        if accounts == 0 {
            return Err(IamError::invalid_input("the number of bootstrap accounts must be at least 1"));
        }
        if !self.directory.account_ids().is_empty() {
            // Read once: both the checks and test resets use it.
            let file = self.read_bootstrap_file()?;
            self.check_bootstrapped(&wanted, file.as_ref())?;
            if test_reset {
                let checkpoint = file.ok_or_else(|| {
                    IamError::invalid_input(format!(
                        "this data directory holds no {BOOTSTRAP_FILE} (it was bootstrapped by an earlier Castellan), \
                         so its bootstrap state is unknown and test resets cannot be enabled"
                    ))
                })?;
                checkpoint.check_version()?;
                let primary = self.bootstrap_account();
                if checkpoint.primary_account() != Some(primary.as_str()) {
                    // A database made anew beside an old bootstrap file: resetting to that file
                    // would bring back another directory's accounts.
                    return Err(IamError::invalid_input(format!(
                        "{BOOTSTRAP_FILE} holds the bootstrap state of account {}, but this data directory's \
                         bootstrap account is {primary}; test resets cannot be enabled",
                        checkpoint.primary_account().unwrap_or("(none)")
                    )));
                }
                self.reset = Some(crate::reset::ResetPoint::new(checkpoint));
            }
            return Ok(self);
        }
        let id = match wanted.account_id {
            Some(id) => id,
            None => self.with_rng(|rng| format!("{:012}", rng.random_range(100_000_000_000u64..1_000_000_000_000))),
        };
        let account = AccountId::parse(&id).map_err(|e| IamError::invalid_input(format!("account id {id}: {e}")))?;
        let store = self.directory.create_account(account)?;
        self.directory.set_primary_account(&id)?;
        let (record, secret) = match wanted.root_key {
            Some((key_id, secret)) => {
                let id = castellan_credentials::access_key::AccessKeyId::parse(&key_id)?;
                if id.kind() != AccessKeyKind::LongTerm {
                    return Err(IamError::invalid_input("the root access key id must be a long-term key id (AKIA...)"));
                }
                if self.directory.find_access_key(id.as_str()).is_some() {
                    return Err(IamError::invalid_input(format!("the access key id {id} is already in use")));
                }
                let now = self.clock.now();
                let sealed = self
                    .with_rng(|rng| self.sealer.seal(secret.expose().as_bytes(), id.as_str().as_bytes(), rng))
                    .map_err(castellan_credentials::CredentialError::from)?;
                let record = AccessKeyRecord {
                    id,
                    status: AccessKeyStatus::Active,
                    created_at: now,
                    last_used: castellan_credentials::access_key::AccessKeyLastUsed::never(),
                    sealed_secret: sealed,
                };
                Ok((record, secret))
            }
            None => self.new_root_key(),
        }?;
        let access_key_id = record.id.as_str().to_owned();
        store.create_access_key(Owner::Root, record)?;
        let mut credentials =
            vec![RootCredentials { account_id: id.clone(), access_key_id, secret_access_key: secret }];
        if accounts > 1 {
            let root = Caller::root(&id);
            self.create_organization(&root)?;
            for n in 2..=accounts {
                let member =
                    self.create_account(&root, &format!("account-{n}"), &format!("account-{n}@example.com"))?;
                let (record, secret) = self.new_root_key()?;
                let access_key_id = record.id.as_str().to_owned();
                self.directory.account(&member.id)?.create_access_key(Owner::Root, record)?;
                credentials.push(RootCredentials { account_id: member.id, access_key_id, secret_access_key: secret });
            }
            // The bootstrap's own calls leave no last-used trace.
            self.activity.clear();
        }
        if let Some(dir) = &self.data_dir {
            write_private(&dir.join(ROOT_CREDENTIALS_FILE), &shared_credentials(&credentials))?;
        }
        let checkpoint = self.directory.checkpoint()?;
        if let Some(dir) = &self.data_dir {
            let text = serde_json::to_string(&checkpoint)
                .map_err(|e| IamError::service_failure(format!("cannot encode the bootstrap state: {e}")))?;
            write_private(&dir.join(BOOTSTRAP_FILE), &text)?;
        }
        if test_reset {
            self.reset = Some(crate::reset::ResetPoint::new(checkpoint));
        }
        self.bootstrapped = credentials;
        Ok(self)
    }

    /// Runs `work` (a test reset's restore) while replacing the session-token key ring with one
    /// new key, so that every session token issued before is refused. The key's lock is held
    /// throughout: no session is issued, or authenticated, while `work` runs, so none issued
    /// against the old state survives it. In a data directory the new key first replaces the
    /// `sessions` line of [`KEYS_FILE`] (written beside it, synced and renamed over it), so that
    /// a restart keeps refusing the old tokens; the key is replaced in memory whatever `work`
    /// returns, to stay what the file says.
    pub(crate) fn with_new_session_key(&self, work: impl FnOnce() -> Result<(), IamError>) -> Result<(), IamError> {
        let mut tokens = self.tokens.write().unwrap_or_else(PoisonError::into_inner);
        let id = tokens.current_key_id().wrapping_add(1);
        let bytes: [u8; 32] = self.with_rng(|rng| rng.random());
        if let Some(dir) = &self.data_dir {
            let path = dir.join(KEYS_FILE);
            let fail = |what: &str, e: &dyn std::fmt::Display| {
                IamError::service_failure(format!("{what} {}: {e}", path.display()))
            };
            let text = std::fs::read_to_string(&path).map_err(|e| fail("cannot read", &e))?;
            let mut updated: String = text
                .lines()
                .filter(|line| !line.trim_start().starts_with("sessions "))
                .map(|line| format!("{line}\n"))
                .collect();
            updated.push_str(&format!("sessions {id} {}\n", encode_hex(&bytes)));
            let temporary = dir.join(format!("{KEYS_FILE}.new"));
            let _ = std::fs::remove_file(&temporary);
            write_private(&temporary, &updated)?;
            std::fs::rename(&temporary, &path).map_err(|e| fail("cannot replace", &e))?;
            std::fs::File::open(dir)
                .and_then(|directory| directory.sync_all())
                .map_err(|e| fail("cannot sync the directory of", &e))?;
        }
        let result = work();
        *tokens = Arc::new(SessionTokenService::new(SealingKey::new(id, bytes)));
        result
    }

    /// A fresh root access key (the record to store and its secret).
    fn new_root_key(&self) -> Result<(AccessKeyRecord, SecretString), IamError> {
        let now = self.clock.now();
        let made = self.with_rng(|rng| AccessKeyRecord::create(AccessKeyKind::LongTerm, now, &self.sealer, rng))?;
        Ok((made.record, made.secret))
    }

    /// Refuses a directory bootstrapped otherwise than `wanted` asks (`file`: its bootstrap
    /// file, if it has one).
    fn check_bootstrapped(&self, wanted: &Bootstrap, file: Option<&Checkpoint>) -> Result<(), IamError> {
        let primary = self.bootstrap_account();
        if let Some(id) = &wanted.account_id
            && *id != primary
        {
            return Err(IamError::invalid_input(format!(
                "this data directory was bootstrapped with account {primary}, not {id}"
            )));
        }
        if let Some((key_id, secret)) = &wanted.root_key {
            let holds = self.directory.find_access_key(key_id).is_some_and(|key| {
                key.account_id == primary
                    && key.owner == OwnerName::Root
                    && key.record.secret(&self.sealer).is_ok_and(|s| s.expose() == secret.expose())
            });
            if !holds {
                return Err(IamError::invalid_input(format!(
                    "this data directory was bootstrapped with another root access key than {key_id} \
                     (or another secret for it)"
                )));
            }
        }
        if let Some(n) = wanted.accounts
            && let Some(checkpoint) = file
        {
            let had = checkpoint.account_ids().len();
            if usize::try_from(n).ok() != Some(had) {
                return Err(IamError::invalid_input(format!(
                    "this data directory was bootstrapped with {had} account(s), not {n}"
                )));
            }
        }
        Ok(())
    }

    /// The bootstrap state kept in the data directory, if there is one.
    fn read_bootstrap_file(&self) -> Result<Option<Checkpoint>, IamError> {
        let Some(dir) = &self.data_dir else { return Ok(None) };
        let path = dir.join(BOOTSTRAP_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| IamError::service_failure(format!("cannot read {}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(IamError::service_failure(format!("cannot read {}: {e}", path.display()))),
        }
    }

    /// Authenticates a SigV4-signed request (header or presigned) for `service` in `region`:
    /// with a long-term key of a user or a root user, or a temporary key and its session token.
    /// An authentic session token past its expiry is `ExpiredToken` (403); any other refusal is
    /// AWS's SigV4 error (`InvalidClientTokenId`, `SignatureDoesNotMatch`, ...).
    pub fn authenticate(&self, request: &SignedRequest, service: &str, region: &str) -> Result<Caller, IamError> {
        self.authenticate_with_signing_clock(request, service, region, &*self.clock)
    }

    /// [`Iam::authenticate`], with the request's signing time checked against `signing_clock`
    /// rather than the facade's clock (which still decides whether a session has expired). A
    /// server whose clock a test moves forward uses this to keep accepting requests its clients
    /// sign with the real time.
    pub fn authenticate_with_signing_clock(
        &self,
        request: &SignedRequest,
        service: &str,
        region: &str,
        signing_clock: &dyn Clock,
    ) -> Result<Caller, IamError> {
        let verifier = Verifier::new(region, service).with_cache(Arc::clone(&self.signing_keys));
        let token = request
            .first_header("x-amz-security-token")
            .map(str::to_owned)
            .or_else(|| request.query_param("X-Amz-Security-Token"));
        let now = self.clock.now();
        let found: RefCell<Option<Identity>> = RefCell::new(None);
        let expired = std::cell::Cell::new(false);
        let tokens = self.session_tokens();
        let lookup = |id: &str| -> Option<KeyRecord> {
            if id.starts_with("ASIA") {
                let token = token.as_deref()?;
                let claims = match tokens.open_for(token, id, now) {
                    Ok(claims) => claims,
                    Err(castellan_sts::TokenError::Expired { .. }) => {
                        expired.set(true);
                        return None;
                    }
                    Err(_) => return None,
                };
                let secret = claims.secret_access_key.clone();
                *found.borrow_mut() = Some(Identity::Session(Box::new(claims)));
                return Some(KeyRecord { secret, session_token: Some(SecretString::new(token)) });
            }
            let key = self.directory.find_access_key(id)?;
            if key.record.status != AccessKeyStatus::Active {
                return None;
            }
            let secret = key.record.secret(&self.sealer).ok()?;
            *found.borrow_mut() = Some(match key.owner {
                OwnerName::Root => Identity::Root { account: key.account_id },
                OwnerName::User(name) => Identity::User { account: key.account_id, name },
            });
            Some(KeyRecord::long_term(secret))
        };
        let verified = verifier.verify(request, &lookup, signing_clock).map_err(|e| {
            if expired.get() {
                // An authentic token past its expiry: AWS says so, rather than "invalid".
                IamError::new("ExpiredToken", 403, "The security token included in the request is expired")
            } else {
                IamError::from(e)
            }
        })?;
        let identity = found.into_inner().ok_or_else(|| {
            IamError::new("InvalidClientTokenId", 403, "The security token included in the request is invalid.")
        })?;
        let mut caller = Caller { access_key_id: Some(verified.access_key_id), ..Caller::root("") };
        caller.identity = identity;
        caller.requested_region = Some(region.to_owned());
        caller.user_agent = request.first_header("user-agent").map(str::to_owned);
        Ok(caller)
    }

    /// Authorizes `access` by `caller` with every global condition key filled in, and records
    /// the decision in the audit trail.
    pub fn authorize(&self, caller: &Caller, access: &Access<'_>) -> Result<Authorization, IamError> {
        let result = self.resolve(caller).and_then(|subject| self.decide(caller, &subject, access));
        let (decision, error) = match &result {
            Ok(a) => (a.decision.outcome.as_str().to_owned(), None),
            Err(e) => ("ImplicitDeny".to_owned(), Some(e.code().to_owned())),
        };
        self.record(AuditKind::Decision, caller, access.action, access.resource, decision, error)?;
        result
    }

    pub(crate) fn resolve(&self, caller: &Caller) -> Result<Subject, IamError> {
        resolve(&self.directory, &self.directory.organizations(), caller, self.clock.now())
    }

    pub(crate) fn decide(
        &self,
        caller: &Caller,
        subject: &Subject,
        access: &Access<'_>,
    ) -> Result<Authorization, IamError> {
        decide(caller, subject, &self.directory.organizations(), access, self.clock.now())
    }

    /// Runs an API call: authorizes `action` on `resource` for `caller` (AccessDenied with AWS's
    /// message when refused), then `op` on the caller's account, and records one audit event
    /// whatever happens.
    pub(crate) fn call<T>(
        &self,
        caller: &Caller,
        action: &str,
        resource: &str,
        context: &[(&str, &str)],
        op: impl FnOnce(&Arc<dyn Store>) -> Result<T, IamError>,
    ) -> Result<T, IamError> {
        self.call_on(caller, &Access { context, ..Access::new(action, resource) }, op)
    }

    /// [`Iam::call`] for a question with more to it than an action and a resource.
    pub(crate) fn call_on<T>(
        &self,
        caller: &Caller,
        access: &Access<'_>,
        op: impl FnOnce(&Arc<dyn Store>) -> Result<T, IamError>,
    ) -> Result<T, IamError> {
        let result = self.authorized(caller, access).and_then(|store| op(&store));
        let (decision, error) = match &result {
            Ok(_) => ("Allow", None),
            Err(e) if e.code() == "AccessDenied" => ("Deny", Some(e.code().to_owned())),
            Err(e) => ("Allow", Some(e.code().to_owned())),
        };
        self.record(AuditKind::Call, caller, access.action, access.resource, decision.to_owned(), error)?;
        result
    }

    /// Authorizes and returns the caller's account store.
    fn authorized(&self, caller: &Caller, access: &Access<'_>) -> Result<Arc<dyn Store>, IamError> {
        let subject = self.resolve(caller)?;
        let authorization = self.decide(caller, &subject, access)?;
        if !authorization.is_allowed() {
            return Err(IamError::access_denied(authorization.message));
        }
        Ok(self.directory.account(caller.account())?)
    }

    fn record(
        &self,
        kind: AuditKind,
        caller: &Caller,
        action: &str,
        resource: &str,
        decision: String,
        error_code: Option<String>,
    ) -> Result<(), IamError> {
        self.record_call(kind, Some(caller), action, resource, &decision, error_code)
    }

    /// Records one audit event (`caller` is `None` for an unsigned call).
    pub(crate) fn record_call(
        &self,
        kind: AuditKind,
        caller: Option<&Caller>,
        action: &str,
        resource: &str,
        decision: &str,
        error_code: Option<String>,
    ) -> Result<(), IamError> {
        if let Some(c) = caller {
            self.activity.note(c, action, self.clock.now());
        }
        let event = AuditEvent {
            time: iso8601(self.clock.now()),
            kind,
            principal: caller.map(Caller::arn),
            account: caller.map(|c| c.account().to_owned()),
            access_key_id: caller.and_then(|c| c.access_key_id.clone()),
            action: action.to_owned(),
            resource: resource.to_owned(),
            source_ip: caller.and_then(|c| c.source_ip.clone()),
            decision: decision.to_owned(),
            error_code,
        };
        self.audit.record(&event)
    }
}
