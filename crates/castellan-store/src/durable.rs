//! The durable backend: the in-memory state of [`MemoryStore`] for reads, with every successful
//! write persisted to one SQLite file (WAL mode, `synchronous=FULL`) in ONE transaction before it
//! is acknowledged.
//!
//! The file holds a table of records keyed by account, kind and key (the lowercase name), each
//! the JSON form of the record as the in-memory state keeps it (attachments, memberships,
//! versions and tags included). A write upserts the records it changed and deletes those it
//! removed, so the file is always the state after some prefix of the acknowledged writes:
//! SQLite's transaction makes each write all-or-nothing, and its WAL with `synchronous=FULL`
//! makes a committed write survive a crash (`kill -9` or power loss). Opening reads every record
//! back; no repair step exists or is needed.
//!
//! AWS managed policies are not stored (they ship with the crate); an account's use of one (its
//! attachment and boundary counts) is a record of kind `aws-policy` keyed by ARN.
//!
//! A data directory is used by one process at a time: opening takes an exclusive lock on
//! [`LOCK_FILE`] for as long as the store is open. The schema is versioned ([`SCHEMA_VERSION`]);
//! an older data directory is upgraded in place when it is opened, in the same transaction that
//! reads it.

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use castellan_credentials::access_key::{AccessKeyLastUsed, AccessKeyRecord, AccessKeyStatus};
use castellan_credentials::password::{PasswordHash, PasswordPolicy};
use castellan_credentials::{Clock, MfaDevice, UnixTime};
use castellan_org::Organizations;
use castellan_policy::AccountId;
use rand::CryptoRng;
use rusqlite::{Connection, TransactionBehavior, params};

use crate::credentials::{AccessKey, AssignmentStatus, LoginProfile, Owner, VirtualMfaDevice};
use crate::directory::Directory;
use crate::error::{ErrorCode, StoreError};
use crate::memory::{Journal, MemoryStore, State, Touched};
use crate::names::Tag;
use crate::providers::{NewOidcProvider, OidcProvider, SamlProvider, Taggable};
use crate::snapshot::Snapshot;
use crate::store::{
    AttachedPolicy, Entity, Group, InlinePolicy, InstanceProfile, ManagedPolicy, NewPolicy, NewRole, NewUser, Page,
    PageRequest, PolicyScope, PolicyVersion, Role, Store, User,
};

/// The schema version this Castellan writes; it opens data directories of this version or older
/// (upgrading them in place, in one transaction).
///
/// - 1: one account per data directory (`meta.account`), records keyed by kind and key.
/// - 2: several accounts: records keyed by account, kind and key; each account has a record of
///   kind `account`.
pub const SCHEMA_VERSION: i64 = 2;

/// The file the durable store keeps in its data directory.
pub const DATA_FILE: &str = "castellan.db";

/// The file whose lock marks a data directory as open by a process.
pub const LOCK_FILE: &str = "castellan.lock";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    account TEXT NOT NULL,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (account, kind, key)
) WITHOUT ROWID;
";

/// Version 1 → 2: every record belongs to the one account `meta.account` named, which gets an
/// account record (created now: version 1 kept no creation date).
const MIGRATE_1_TO_2: &str = "
CREATE TABLE records_v2 (
    account TEXT NOT NULL,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (account, kind, key)
) WITHOUT ROWID;
INSERT INTO records_v2 (account, kind, key, body)
    SELECT (SELECT value FROM meta WHERE key = 'account'), kind, key, body FROM records
    WHERE EXISTS (SELECT 1 FROM meta WHERE key = 'account');
INSERT INTO records_v2 (account, kind, key, body)
    SELECT value, 'account', '', json_object('create_date', json_array(CAST(strftime('%s', 'now') AS INTEGER), 0), 'alias', NULL)
    FROM meta WHERE key = 'account';
DROP TABLE records;
ALTER TABLE records_v2 RENAME TO records;
DELETE FROM meta WHERE key = 'account';
";

pub(crate) fn failure(what: &str, error: impl std::fmt::Display) -> StoreError {
    StoreError::new(ErrorCode::ServiceFailure, format!("{what}: {error}"))
}

/// An open data directory: the SQLite connection and the lock that keeps other processes out.
pub(crate) struct Database {
    conn: Mutex<Connection>,
    path: PathBuf,
    /// Held (locked) while the database is open; the lock goes with the file.
    _lock: fs::File,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database").field("path", &self.path).finish_non_exhaustive()
    }
}

impl Database {
    /// Opens (creating it if needed) the data directory `dir`, upgrades its schema, and reads
    /// every account's state. Refused with `ServiceFailure` when another process has it open, when
    /// it was written by a newer Castellan, or when a record does not decode.
    pub(crate) fn open(dir: &Path) -> Result<(Database, Loaded), StoreError> {
        fs::create_dir_all(dir).map_err(|e| failure(&format!("cannot create data directory {}", dir.display()), e))?;
        let lock = lock_directory(dir)?;
        let path = dir.join(DATA_FILE);
        create_private(&path)?;
        let mut conn = Connection::open(&path).map_err(|e| failure(&format!("cannot open {}", path.display()), e))?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))
            .map_err(|e| failure("cannot enable WAL", e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(failure("cannot enable WAL", format!("journal mode is {mode}")));
        }
        conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000;")
            .map_err(|e| failure("cannot configure SQLite", e))?;
        let accounts = prepare(&mut conn)?;
        Ok((Database { conn: Mutex::new(conn), path, _lock: lock }, accounts))
    }

    /// The SQLite file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the organizations' records in one transaction.
    pub(crate) fn save_organizations(&self, organizations: &Organizations) -> Result<(), StoreError> {
        self.save_directory_record("organizations", organizations)
    }

    /// Writes the primary account's id in one transaction.
    pub(crate) fn save_primary_account(&self, id: &str) -> Result<(), StoreError> {
        self.save_directory_record("primary-account", &id)
    }

    /// Replaces every record with `records` (account, kind, key, body), the organizations'
    /// state and the primary account, in one transaction: a restore to a checkpoint (see
    /// `crate::checkpoint`). Either all of it is on disk afterwards or none of it.
    pub(crate) fn replace_all(
        &self,
        records: &[(&str, &str, &str, &str)],
        organizations: &Organizations,
        primary_account: Option<&str>,
    ) -> Result<(), StoreError> {
        let organizations = serde_json::to_string(organizations).map_err(|e| failure("cannot encode a record", e))?;
        let primary = primary_account
            .map(|id| serde_json::to_string(&id))
            .transpose()
            .map_err(|e| failure("cannot encode a record", e))?;
        let mut conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let sql = |e| failure("cannot persist the reset", e);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql)?;
        tx.execute("DELETE FROM records", []).map_err(sql)?;
        {
            let mut insert =
                tx.prepare("INSERT INTO records (account, kind, key, body) VALUES (?1, ?2, ?3, ?4)").map_err(sql)?;
            for (account, kind, key, body) in records {
                insert.execute(params![account, kind, key, body]).map_err(sql)?;
            }
            insert.execute(params![DIRECTORY_RECORDS, "organizations", "", organizations]).map_err(sql)?;
            if let Some(primary) = primary {
                insert.execute(params![DIRECTORY_RECORDS, "primary-account", "", primary]).map_err(sql)?;
            }
        }
        tx.commit().map_err(sql)
    }

    /// Writes a record that belongs to no account, in one transaction.
    fn save_directory_record(&self, kind: &str, record: &impl serde::Serialize) -> Result<(), StoreError> {
        let body = serde_json::to_string(record).map_err(|e| failure("cannot encode a record", e))?;
        let mut conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let sql = |e| failure("cannot persist the write", e);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql)?;
        tx.execute(
            "INSERT INTO records (account, kind, key, body) VALUES (?1, ?2, '', ?3)
             ON CONFLICT (account, kind, key) DO UPDATE SET body = excluded.body",
            params![DIRECTORY_RECORDS, kind, body],
        )
        .map_err(sql)?;
        tx.commit().map_err(sql)
    }
}

/// Takes the data directory's lock, so that two processes never write one directory (each
/// would keep its own in-memory state and overwrite the other's records).
fn lock_directory(dir: &Path) -> Result<fs::File, StoreError> {
    let path = dir.join(LOCK_FILE);
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(&path).map_err(|e| failure(&format!("cannot open {}", path.display()), e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => Err(StoreError::new(
            ErrorCode::ServiceFailure,
            format!("The data directory {} is in use by another process.", dir.display()),
        )),
        Err(fs::TryLockError::Error(e)) => Err(failure(&format!("cannot lock {}", path.display()), e)),
    }
}

/// Creates `path` empty with mode 0600 unless it exists, so SQLite (which gives its WAL and
/// shared-memory files the database file's mode) never creates a world-readable file.
fn create_private(path: &Path) -> Result<(), StoreError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(failure(&format!("cannot create {}", path.display()), e)),
    }
}

/// Checks the schema version (creating the schema in a new file, upgrading an older one) and
/// loads every account's state, in one transaction.
fn prepare(conn: &mut Connection) -> Result<Loaded, StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| failure("cannot begin a transaction", e))?;
    let sql = |e| failure("cannot read the schema", e);
    tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)").map_err(sql)?;
    let version: Option<i64> =
        tx.query_row("SELECT max(version) FROM schema_version", [], |row| row.get(0)).map_err(sql)?;
    match version {
        None => {
            tx.execute_batch(SCHEMA).map_err(sql)?;
            tx.execute("INSERT INTO schema_version (version) VALUES (?1)", params![SCHEMA_VERSION]).map_err(sql)?;
        }
        Some(v) if v > SCHEMA_VERSION => {
            return Err(StoreError::new(
                ErrorCode::ServiceFailure,
                format!(
                    "The data directory has schema version {v}, newer than this Castellan supports ({SCHEMA_VERSION}); use a newer Castellan."
                ),
            ));
        }
        Some(1) => {
            let upgrade = |e| failure("cannot upgrade the data directory from schema version 1", e);
            tx.execute_batch(MIGRATE_1_TO_2).map_err(upgrade)?;
            tx.execute("INSERT INTO schema_version (version) VALUES (?1)", params![SCHEMA_VERSION]).map_err(upgrade)?;
        }
        Some(SCHEMA_VERSION) => {}
        Some(v) => {
            return Err(StoreError::new(ErrorCode::ServiceFailure, format!("Unknown schema version {v}.")));
        }
    }
    let accounts = load(&tx)?;
    tx.commit().map_err(|e| failure("cannot commit", e))?;
    Ok(accounts)
}

/// What a data directory holds: each account's state and the organizations' records.
#[derive(Default)]
pub(crate) struct Loaded {
    pub(crate) accounts: BTreeMap<String, State>,
    pub(crate) organizations: Option<Organizations>,
    pub(crate) primary_account: Option<String>,
}

/// The account column of records that belong to no account (the organizations' state).
const DIRECTORY_RECORDS: &str = "";

fn load(conn: &Connection) -> Result<Loaded, StoreError> {
    fn decode<T: serde::de::DeserializeOwned>(
        account: &str,
        kind: &str,
        key: &str,
        body: &str,
    ) -> Result<T, StoreError> {
        serde_json::from_str(body).map_err(|e| failure(&format!("corrupt {kind} record {key} of account {account}"), e))
    }
    let sql = |e| failure("cannot read the records", e);
    let mut accounts: BTreeMap<String, State> = BTreeMap::new();
    let mut organizations = None;
    let mut primary_account = None;
    let mut stmt = conn.prepare("SELECT account, kind, key, body FROM records").map_err(sql)?;
    let mut rows = stmt.query([]).map_err(sql)?;
    while let Some(row) = rows.next().map_err(sql)? {
        let account: String = row.get(0).map_err(sql)?;
        let kind: String = row.get(1).map_err(sql)?;
        let key: String = row.get(2).map_err(sql)?;
        let body: String = row.get(3).map_err(sql)?;
        let (a, k, b) = (account.as_str(), kind.as_str(), body.as_str());
        if a == DIRECTORY_RECORDS {
            match k {
                "organizations" => organizations = Some(decode(a, k, &key, b)?),
                "primary-account" => primary_account = Some(decode(a, k, &key, b)?),
                other => return Err(failure("unknown record kind", other)),
            }
            continue;
        }
        let state = accounts.entry(account.clone()).or_default();
        crate::checkpoint::insert_record(state, a, k, &key, b)?;
    }
    Ok(Loaded { accounts, organizations, primary_account })
}

/// Persists one account's touched records, one transaction per write.
pub(crate) struct SqliteJournal {
    pub(crate) db: Arc<Database>,
    pub(crate) account: String,
}

impl Journal for SqliteJournal {
    fn commit(&self, state: &State, touched: &[Touched]) -> Result<(), StoreError> {
        fn encode<T: serde::Serialize>(record: Option<&T>) -> Result<Option<String>, StoreError> {
            record.map(serde_json::to_string).transpose().map_err(|e| failure("cannot encode a record", e))
        }
        let mut conn = self.db.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let sql = |e| failure("cannot persist the write", e);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql)?;
        let account = self.account.as_str();
        for t in touched {
            let (kind, key, body) = match t {
                Touched::Account => ("account", "", encode(state.account.as_ref())?),
                Touched::User(k) => ("user", k.as_str(), encode(state.users.get(k))?),
                Touched::Group(k) => ("group", k.as_str(), encode(state.groups.get(k))?),
                Touched::Role(k) => ("role", k.as_str(), encode(state.roles.get(k))?),
                Touched::Policy(k) => ("policy", k.as_str(), encode(state.policies.get(k))?),
                Touched::AwsPolicy(k) => ("aws-policy", k.as_str(), encode(state.aws_usage.get(k))?),
                Touched::Mfa(k) => ("mfa", k.as_str(), encode(state.mfa.get(k))?),
                Touched::Oidc(k) => ("oidc-provider", k.as_str(), encode(state.oidc.get(k))?),
                Touched::Saml(k) => ("saml-provider", k.as_str(), encode(state.saml.get(k))?),
                Touched::InstanceProfile(k) => {
                    ("instance-profile", k.as_str(), encode(state.instance_profiles.get(k))?)
                }
            };
            match body {
                Some(body) => tx.execute(
                    "INSERT INTO records (account, kind, key, body) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (account, kind, key) DO UPDATE SET body = excluded.body",
                    params![account, kind, key, body],
                ),
                None => tx.execute(
                    "DELETE FROM records WHERE account = ?1 AND kind = ?2 AND key = ?3",
                    params![account, kind, key],
                ),
            }
            .map_err(sql)?;
        }
        tx.commit().map_err(sql)
    }
}

/// The durable [`Store`] of one account, in a data directory. (A data directory of several
/// accounts is opened with [`Directory::open`].)
pub struct DurableStore {
    directory: Directory,
    inner: Arc<MemoryStore>,
}

impl std::fmt::Debug for DurableStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DurableStore")
            .field("directory", &self.directory)
            .field("account", &self.inner.account_id())
            .finish()
    }
}

impl DurableStore {
    /// Opens the data directory `dir` (see [`Directory::open`]) and the store of `account` in
    /// it, creating the account when the directory does not hold it yet.
    pub fn open(
        dir: impl AsRef<Path>,
        account: AccountId,
        clock: Arc<dyn Clock>,
        rng: impl CryptoRng + Send + 'static,
    ) -> Result<DurableStore, StoreError> {
        let directory = Directory::open(dir, clock, rng)?;
        let inner = match directory.engine(account.as_str()) {
            Some(store) => store,
            None => directory.create_engine(account)?,
        };
        Ok(DurableStore { directory, inner })
    }

    /// The SQLite file.
    pub fn path(&self) -> &Path {
        self.directory.path().unwrap_or_else(|| Path::new(""))
    }
}

/// Forwards the [`Store`] methods to the in-memory state, which commits through the journal.
macro_rules! delegate {
    ($(fn $name:ident(&self $(, $arg:ident: $ty:ty)*) -> $ret:ty;)*) => {
        impl Store for DurableStore {
            $(fn $name(&self $(, $arg: $ty)*) -> $ret { self.inner.$name($($arg),*) })*
        }
    };
}

delegate! {
    fn account_id(&self) -> &str;
    fn snapshot(&self) -> Arc<Snapshot>;
    fn create_user(&self, user: NewUser) -> Result<User, StoreError>;
    fn user(&self, name: &str) -> Result<User, StoreError>;
    fn list_users(&self, path_prefix: Option<&str>, page: &PageRequest) -> Result<Page<User>, StoreError>;
    fn delete_user(&self, name: &str) -> Result<(), StoreError>;
    fn tag_user(&self, name: &str, tags: Vec<Tag>) -> Result<(), StoreError>;
    fn untag_user(&self, name: &str, keys: &[String]) -> Result<(), StoreError>;
    fn create_group(&self, name: &str, path: Option<&str>) -> Result<Group, StoreError>;
    fn group(&self, name: &str) -> Result<(Group, Vec<User>), StoreError>;
    fn list_groups(&self, path_prefix: Option<&str>, page: &PageRequest) -> Result<Page<Group>, StoreError>;
    fn delete_group(&self, name: &str) -> Result<(), StoreError>;
    fn add_user_to_group(&self, group: &str, user: &str) -> Result<(), StoreError>;
    fn remove_user_from_group(&self, group: &str, user: &str) -> Result<(), StoreError>;
    fn list_groups_for_user(&self, user: &str, page: &PageRequest) -> Result<Page<Group>, StoreError>;
    fn create_role(&self, role: NewRole) -> Result<Role, StoreError>;
    fn role(&self, name: &str) -> Result<Role, StoreError>;
    fn list_roles(&self, path_prefix: Option<&str>, page: &PageRequest) -> Result<Page<Role>, StoreError>;
    fn delete_role(&self, name: &str) -> Result<(), StoreError>;
    fn update_assume_role_policy(&self, role: &str, document: &str) -> Result<(), StoreError>;
    fn tag_role(&self, name: &str, tags: Vec<Tag>) -> Result<(), StoreError>;
    fn untag_role(&self, name: &str, keys: &[String]) -> Result<(), StoreError>;
    fn create_policy(&self, policy: NewPolicy) -> Result<ManagedPolicy, StoreError>;
    fn policy(&self, arn: &str) -> Result<ManagedPolicy, StoreError>;
    fn list_policies(&self, path_prefix: Option<&str>, page: &PageRequest) -> Result<Page<ManagedPolicy>, StoreError>;
    fn list_policies_in_scope(&self, scope: PolicyScope, path_prefix: Option<&str>, page: &PageRequest)
        -> Result<Page<ManagedPolicy>, StoreError>;
    fn delete_policy(&self, arn: &str) -> Result<(), StoreError>;
    fn create_policy_version(&self, arn: &str, document: &str, set_as_default: bool) -> Result<PolicyVersion, StoreError>;
    fn policy_version(&self, arn: &str, version_id: &str) -> Result<PolicyVersion, StoreError>;
    fn list_policy_versions(&self, arn: &str) -> Result<Vec<PolicyVersion>, StoreError>;
    fn set_default_policy_version(&self, arn: &str, version_id: &str) -> Result<(), StoreError>;
    fn delete_policy_version(&self, arn: &str, version_id: &str) -> Result<(), StoreError>;
    fn attach_policy(&self, entity: Entity<'_>, arn: &str) -> Result<(), StoreError>;
    fn detach_policy(&self, entity: Entity<'_>, arn: &str) -> Result<(), StoreError>;
    fn list_attached_policies(&self, entity: Entity<'_>) -> Result<Vec<AttachedPolicy>, StoreError>;
    fn put_inline_policy(&self, entity: Entity<'_>, name: &str, document: &str) -> Result<(), StoreError>;
    fn inline_policy(&self, entity: Entity<'_>, name: &str) -> Result<InlinePolicy, StoreError>;
    fn list_inline_policies(&self, entity: Entity<'_>) -> Result<Vec<String>, StoreError>;
    fn delete_inline_policy(&self, entity: Entity<'_>, name: &str) -> Result<(), StoreError>;
    fn update_user(&self, name: &str, new_name: Option<&str>, new_path: Option<&str>) -> Result<User, StoreError>;
    fn update_group(&self, name: &str, new_name: Option<&str>, new_path: Option<&str>) -> Result<Group, StoreError>;
    fn update_role(&self, name: &str, description: Option<&str>, max_session_duration: Option<u32>) -> Result<(), StoreError>;
    fn put_permissions_boundary(&self, entity: Entity<'_>, arn: &str) -> Result<(), StoreError>;
    fn delete_permissions_boundary(&self, entity: Entity<'_>) -> Result<(), StoreError>;
    fn create_instance_profile(&self, name: &str, path: Option<&str>, tags: Vec<Tag>) -> Result<InstanceProfile, StoreError>;
    fn instance_profile(&self, name: &str) -> Result<(InstanceProfile, Vec<Role>), StoreError>;
    fn list_instance_profiles(&self, path_prefix: Option<&str>, page: &PageRequest) -> Result<Page<InstanceProfile>, StoreError>;
    fn delete_instance_profile(&self, name: &str) -> Result<(), StoreError>;
    fn add_role_to_instance_profile(&self, profile: &str, role: &str) -> Result<(), StoreError>;
    fn remove_role_from_instance_profile(&self, profile: &str, role: &str) -> Result<(), StoreError>;
    fn list_instance_profiles_for_role(&self, role: &str) -> Result<Vec<InstanceProfile>, StoreError>;
    fn create_oidc_provider(&self, provider: NewOidcProvider) -> Result<OidcProvider, StoreError>;
    fn oidc_provider(&self, arn: &str) -> Result<OidcProvider, StoreError>;
    fn list_oidc_providers(&self) -> Result<Vec<OidcProvider>, StoreError>;
    fn delete_oidc_provider(&self, arn: &str) -> Result<(), StoreError>;
    fn add_oidc_client_id(&self, arn: &str, client_id: &str) -> Result<(), StoreError>;
    fn remove_oidc_client_id(&self, arn: &str, client_id: &str) -> Result<(), StoreError>;
    fn update_oidc_thumbprints(&self, arn: &str, thumbprints: Vec<String>) -> Result<(), StoreError>;
    fn set_oidc_signing_keys(&self, arn: &str, jwks: Option<&str>) -> Result<(), StoreError>;
    fn create_saml_provider(&self, name: &str, metadata: &str, tags: Vec<Tag>) -> Result<SamlProvider, StoreError>;
    fn saml_provider(&self, arn: &str) -> Result<SamlProvider, StoreError>;
    fn list_saml_providers(&self) -> Result<Vec<SamlProvider>, StoreError>;
    fn update_saml_provider(&self, arn: &str, metadata: &str) -> Result<(), StoreError>;
    fn delete_saml_provider(&self, arn: &str) -> Result<(), StoreError>;
    fn tag_resource(&self, resource: Taggable<'_>, tags: Vec<Tag>) -> Result<(), StoreError>;
    fn untag_resource(&self, resource: Taggable<'_>, keys: &[String]) -> Result<(), StoreError>;
    fn resource_tags(&self, resource: Taggable<'_>) -> Result<Vec<Tag>, StoreError>;
    fn account_alias(&self) -> Result<Option<String>, StoreError>;
    fn create_account_alias(&self, alias: &str) -> Result<(), StoreError>;
    fn delete_account_alias(&self, alias: &str) -> Result<(), StoreError>;
    fn password_policy(&self) -> Result<PasswordPolicy, StoreError>;
    fn update_password_policy(&self, policy: PasswordPolicy) -> Result<(), StoreError>;
    fn delete_password_policy(&self) -> Result<(), StoreError>;
    fn create_access_key(&self, owner: Owner<'_>, record: AccessKeyRecord) -> Result<(), StoreError>;
    fn list_access_keys(&self, owner: Owner<'_>) -> Result<Vec<AccessKeyRecord>, StoreError>;
    fn access_key(&self, id: &str) -> Result<AccessKey, StoreError>;
    fn update_access_key(&self, owner: Owner<'_>, id: &str, status: AccessKeyStatus) -> Result<(), StoreError>;
    fn delete_access_key(&self, owner: Owner<'_>, id: &str) -> Result<(), StoreError>;
    fn record_access_key_use(&self, id: &str, used: AccessKeyLastUsed) -> Result<(), StoreError>;
    fn create_login_profile(&self, owner: Owner<'_>, hash: &PasswordHash, password_reset_required: bool)
        -> Result<LoginProfile, StoreError>;
    fn login_profile(&self, owner: Owner<'_>) -> Result<LoginProfile, StoreError>;
    fn update_login_profile(&self, owner: Owner<'_>, hash: Option<&PasswordHash>, password_reset_required: Option<bool>)
        -> Result<(), StoreError>;
    fn record_password_use(&self, owner: Owner<'_>, at: UnixTime) -> Result<(), StoreError>;
    fn delete_login_profile(&self, owner: Owner<'_>) -> Result<(), StoreError>;
    fn create_virtual_mfa_device(&self, device: MfaDevice, tags: Vec<Tag>) -> Result<VirtualMfaDevice, StoreError>;
    fn mfa_device(&self, serial_number: &str) -> Result<VirtualMfaDevice, StoreError>;
    fn enable_mfa_device(&self, owner: Owner<'_>, device: MfaDevice) -> Result<(), StoreError>;
    fn save_mfa_device(&self, device: MfaDevice) -> Result<(), StoreError>;
    fn deactivate_mfa_device(&self, owner: Owner<'_>, serial_number: &str) -> Result<(), StoreError>;
    fn delete_virtual_mfa_device(&self, serial_number: &str) -> Result<(), StoreError>;
    fn list_mfa_devices(&self, owner: Owner<'_>) -> Result<Vec<VirtualMfaDevice>, StoreError>;
    fn list_virtual_mfa_devices(&self, status: AssignmentStatus) -> Result<Vec<VirtualMfaDevice>, StoreError>;
}
