//! The durable backend: the in-memory state of [`MemoryStore`] for reads, with every successful
//! write persisted to one SQLite file (WAL mode, `synchronous=FULL`) in ONE transaction before it
//! is acknowledged.
//!
//! The file holds a table of entity records keyed by kind and key (the lowercase name), each the
//! JSON form of the record as the in-memory state keeps it (attachments, memberships, versions
//! and tags included). A write upserts the records it changed and deletes those it removed, so
//! the file is always the state after some prefix of the acknowledged writes: SQLite's
//! transaction makes each write all-or-nothing, and its WAL with `synchronous=FULL` makes a
//! committed write survive a crash (`kill -9` or power loss). Opening reads every record back;
//! no repair step exists or is needed.
//!
//! AWS managed policies are not stored (they ship with the crate); an account's use of one (its
//! attachment and boundary counts) is a record of kind `aws-policy` keyed by ARN.

use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use castellan_credentials::Clock;
use castellan_policy::AccountId;
use rand::CryptoRng;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::error::{ErrorCode, StoreError};
use crate::memory::{Journal, MemoryStore, State, Touched};
use crate::names::Tag;
use crate::snapshot::Snapshot;
use crate::store::{
    AttachedPolicy, Entity, Group, InlinePolicy, ManagedPolicy, NewPolicy, NewRole, NewUser, Page, PageRequest,
    PolicyScope, PolicyVersion, Role, Store, User,
};

/// The schema version this Castellan writes; it opens data directories of this version or older.
pub const SCHEMA_VERSION: i64 = 1;

/// The file the durable store keeps in its data directory.
pub const DATA_FILE: &str = "castellan.db";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
";

fn failure(what: &str, error: impl std::fmt::Display) -> StoreError {
    StoreError::new(ErrorCode::ServiceFailure, format!("{what}: {error}"))
}

/// The durable [`Store`] of one account, in a data directory.
pub struct DurableStore {
    inner: MemoryStore,
    path: PathBuf,
}

impl std::fmt::Debug for DurableStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DurableStore").field("path", &self.path).field("account", &self.inner.account_id()).finish()
    }
}

impl DurableStore {
    /// Opens (creating it if needed) the store of `account` in the data directory `dir`.
    ///
    /// The file is created with mode 0600. Refused with `ServiceFailure` when the file cannot be
    /// opened, was written by a newer Castellan (a higher schema version), or belongs to another
    /// account.
    pub fn open(
        dir: impl AsRef<Path>,
        account: AccountId,
        clock: Arc<dyn Clock>,
        rng: impl CryptoRng + Send + 'static,
    ) -> Result<DurableStore, StoreError> {
        let dir = dir.as_ref();
        fs::create_dir_all(dir).map_err(|e| failure(&format!("cannot create data directory {}", dir.display()), e))?;
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
        let state = prepare(&mut conn, account.as_str())?;
        let journal = SqliteJournal { conn: Mutex::new(conn) };
        let inner = MemoryStore::with_state(account, clock, rng, state, Some(Box::new(journal)))?;
        Ok(DurableStore { inner, path })
    }

    /// The SQLite file.
    pub fn path(&self) -> &Path {
        &self.path
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

/// Checks the schema version (creating the schema in a new file), the account, and loads the
/// state, in one transaction.
fn prepare(conn: &mut Connection, account: &str) -> Result<State, StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| failure("cannot begin a transaction", e))?;
    let sql = |e| failure("cannot read the schema", e);
    tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)").map_err(sql)?;
    let version: Option<i64> =
        tx.query_row("SELECT max(version) FROM schema_version", [], |row| row.get(0)).map_err(sql)?;
    match version {
        None => {
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
        Some(v) if v < 1 => {
            return Err(StoreError::new(ErrorCode::ServiceFailure, format!("Unknown schema version {v}.")));
        }
        Some(_) => {}
    }
    tx.execute_batch(SCHEMA).map_err(sql)?;
    let stored: Option<String> =
        tx.query_row("SELECT value FROM meta WHERE key = 'account'", [], |row| row.get(0)).optional().map_err(sql)?;
    match stored {
        None => {
            tx.execute("INSERT INTO meta (key, value) VALUES ('account', ?1)", params![account]).map_err(sql)?;
        }
        Some(a) if a != account => {
            return Err(StoreError::new(
                ErrorCode::ServiceFailure,
                format!("The data directory holds account {a}, not {account}."),
            ));
        }
        Some(_) => {}
    }
    let state = load(&tx)?;
    tx.commit().map_err(|e| failure("cannot commit", e))?;
    Ok(state)
}

fn load(conn: &Connection) -> Result<State, StoreError> {
    let sql = |e| failure("cannot read the records", e);
    let mut state = State::default();
    let mut stmt = conn.prepare("SELECT kind, key, body FROM records").map_err(sql)?;
    let mut rows = stmt.query([]).map_err(sql)?;
    while let Some(row) = rows.next().map_err(sql)? {
        let kind: String = row.get(0).map_err(sql)?;
        let key: String = row.get(1).map_err(sql)?;
        let body: String = row.get(2).map_err(sql)?;
        let bad = |e| failure(&format!("corrupt {kind} record {key}"), e);
        match kind.as_str() {
            "user" => state.users.insert(key.clone(), serde_json::from_str(&body).map_err(bad)?).map(drop),
            "group" => state.groups.insert(key.clone(), serde_json::from_str(&body).map_err(bad)?).map(drop),
            "role" => state.roles.insert(key.clone(), serde_json::from_str(&body).map_err(bad)?).map(drop),
            "policy" => state.policies.insert(key.clone(), serde_json::from_str(&body).map_err(bad)?).map(drop),
            "aws-policy" => state.aws_usage.insert(key.clone(), serde_json::from_str(&body).map_err(bad)?).map(drop),
            other => return Err(failure("unknown record kind", other)),
        };
    }
    Ok(state)
}

/// Persists touched records to SQLite, one transaction per write.
struct SqliteJournal {
    conn: Mutex<Connection>,
}

impl Journal for SqliteJournal {
    fn commit(&self, state: &State, touched: &[Touched]) -> Result<(), StoreError> {
        let mut conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let sql = |e| failure("cannot persist the write", e);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql)?;
        for t in touched {
            let encoded = match t {
                Touched::User(k) => ("user", k, state.users.get(k).map(serde_json::to_string).transpose()),
                Touched::Group(k) => ("group", k, state.groups.get(k).map(serde_json::to_string).transpose()),
                Touched::Role(k) => ("role", k, state.roles.get(k).map(serde_json::to_string).transpose()),
                Touched::Policy(k) => ("policy", k, state.policies.get(k).map(serde_json::to_string).transpose()),
                Touched::AwsPolicy(k) => {
                    ("aws-policy", k, state.aws_usage.get(k).map(serde_json::to_string).transpose())
                }
            };
            let (kind, key, body) = encoded;
            match body.map_err(|e| failure("cannot encode a record", e))? {
                Some(body) => tx.execute(
                    "INSERT INTO records (kind, key, body) VALUES (?1, ?2, ?3)
                     ON CONFLICT (kind, key) DO UPDATE SET body = excluded.body",
                    params![kind, key, body],
                ),
                None => tx.execute("DELETE FROM records WHERE kind = ?1 AND key = ?2", params![kind, key]),
            }
            .map_err(sql)?;
        }
        tx.commit().map_err(sql)
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
}
