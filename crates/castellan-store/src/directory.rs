//! The accounts of one Castellan: a [`Directory`] holds the store of each account, in memory or
//! in one data directory.
//!
//! Each account's store has its own lock and its own published snapshot, so writes to one
//! account never wait for another's. In a data directory the accounts share one SQLite file
//! (records are keyed by account) and one connection; each write is still one transaction.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use castellan_credentials::Clock;
use castellan_org::Organizations;
use castellan_policy::AccountId;
use rand::rngs::StdRng;
use rand::{CryptoRng, SeedableRng};

use crate::checkpoint::Checkpoint;
use crate::credentials::AccessKey;
use crate::durable::{Database, SqliteJournal};
use crate::error::{ErrorCode, StoreError};
use crate::memory::{Journal, MemoryStore, Registry, SharedRng, State, Touched, share_rng};
use crate::snapshot::Snapshot;
use crate::store::Store;

/// The stores of every account, in memory or in a data directory.
pub struct Directory {
    registry: Arc<Registry>,
    clock: Arc<dyn Clock>,
    rng: SharedRng,
    db: Option<Arc<Database>>,
    accounts: RwLock<BTreeMap<String, Arc<MemoryStore>>>,
    /// The organizations' state as of the last committed change; locked only to clone or swap.
    organizations: RwLock<Arc<Organizations>>,
    /// Held by the one change of the organizations' state in progress.
    organizations_writer: Mutex<()>,
    /// The account a deployment treats as its own (the one it bootstrapped).
    primary_account: RwLock<Option<String>>,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directory").field("path", &self.path()).field("accounts", &self.account_ids()).finish()
    }
}

impl Directory {
    /// An empty directory kept in memory only, reading the time from `clock` and drawing unique
    /// ids from `rng`.
    pub fn in_memory(clock: Arc<dyn Clock>, rng: impl CryptoRng + Send + 'static) -> Directory {
        Directory {
            registry: Arc::default(),
            clock,
            rng: share_rng(rng),
            db: None,
            accounts: RwLock::new(BTreeMap::new()),
            organizations: RwLock::default(),
            organizations_writer: Mutex::new(()),
            primary_account: RwLock::new(None),
        }
    }

    /// Opens the data directory `dir`, creating it (and its SQLite file, mode 0600) when needed
    /// and upgrading an older schema, and loads every account in it.
    ///
    /// Refused with `ServiceFailure` when another process has the directory open, when it was
    /// written by a newer Castellan, or when a stored record or policy no longer reads.
    pub fn open(
        dir: impl AsRef<Path>,
        clock: Arc<dyn Clock>,
        rng: impl CryptoRng + Send + 'static,
    ) -> Result<Directory, StoreError> {
        let (db, loaded) = Database::open(dir.as_ref())?;
        let db = Arc::new(db);
        let rng = share_rng(rng);
        let registry = Arc::new(Registry::default());
        let mut accounts = BTreeMap::new();
        for (id, state) in loaded.accounts {
            let account = AccountId::parse(&id).map_err(|e| {
                StoreError::new(
                    ErrorCode::ServiceFailure,
                    format!("The data directory holds an invalid account {id}: {e}"),
                )
            })?;
            let journal = SqliteJournal { db: Arc::clone(&db), account: id.clone() };
            let store = MemoryStore::with_state(
                account,
                Arc::clone(&registry),
                Arc::clone(&clock),
                Arc::clone(&rng),
                state,
                Some(Box::new(journal)),
            )?;
            accounts.insert(id, Arc::new(store));
        }
        Ok(Directory {
            registry,
            clock,
            rng,
            db: Some(db),
            accounts: RwLock::new(accounts),
            organizations: RwLock::new(Arc::new(loaded.organizations.unwrap_or_default())),
            organizations_writer: Mutex::new(()),
            primary_account: RwLock::new(loaded.primary_account),
        })
    }

    /// The SQLite file, for a directory opened from disk.
    pub fn path(&self) -> Option<&Path> {
        self.db.as_deref().map(Database::path)
    }

    /// Creates the account `id`, empty; `EntityAlreadyExists` when it exists.
    pub fn create_account(&self, id: AccountId) -> Result<Arc<dyn Store>, StoreError> {
        Ok(self.create_engine(id)?)
    }

    /// The store of account `id`; `NoSuchEntity` when the directory has no such account.
    pub fn account(&self, id: &str) -> Result<Arc<dyn Store>, StoreError> {
        match self.engine(id) {
            Some(store) => Ok(store),
            None => Err(no_such_account(id)),
        }
    }

    /// The snapshot of account `id` (see [`Store::snapshot`]).
    pub fn snapshot(&self, id: &str) -> Option<Arc<Snapshot>> {
        self.engine(id).map(|store| store.snapshot())
    }

    /// The ids of every account, in order.
    pub fn account_ids(&self) -> Vec<String> {
        self.accounts.read().unwrap_or_else(PoisonError::into_inner).keys().cloned().collect()
    }

    /// The account a deployment treats as its own (set by [`Directory::set_primary_account`];
    /// in a data directory it survives reopening).
    pub fn primary_account(&self) -> Option<String> {
        self.primary_account.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Records `id`, an account of the directory, as the primary account; `NoSuchEntity` when
    /// there is no such account.
    pub fn set_primary_account(&self, id: &str) -> Result<(), StoreError> {
        if self.engine(id).is_none() {
            return Err(no_such_account(id));
        }
        let mut primary = self.primary_account.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(db) = &self.db {
            db.save_primary_account(id)?;
        }
        *primary = Some(id.to_owned());
        Ok(())
    }

    /// The organizations' state (`castellan-org`) as of the last committed change; an `Arc`
    /// clone, never waiting for a writer beyond the swap.
    pub fn organizations(&self) -> Arc<Organizations> {
        Arc::clone(&self.organizations.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Changes the organizations' state: `change` works on a copy (with an RNG seeded from the
    /// directory's, for new ids; it may call the account stores); when it succeeds the copy is persisted in one transaction and published, and
    /// when it fails nothing changes. Changes are serialized.
    pub fn update_organizations<T, E: From<StoreError>>(
        &self,
        change: impl FnOnce(&mut Organizations, &mut dyn CryptoRng) -> Result<T, E>,
    ) -> Result<T, E> {
        let _writer = self.organizations_writer.lock().unwrap_or_else(PoisonError::into_inner);
        let mut next = Organizations::clone(&self.organizations());
        // The change gets an RNG of its own (seeded from the directory's), so that it may call the
        // account stores, which draw from the directory's RNG, without waiting for itself.
        let mut rng = StdRng::from_rng(&mut *self.rng.lock().unwrap_or_else(PoisonError::into_inner));
        let out = change(&mut next, &mut rng)?;
        if let Some(db) = &self.db {
            db.save_organizations(&next)?;
        }
        *self.organizations.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(next);
        Ok(out)
    }

    /// The access key `id` wherever it is, with its account and owner (the lookup of SigV4
    /// authentication); `None` when no account has it.
    pub fn find_access_key(&self, id: &str) -> Option<AccessKey> {
        let account = self.registry.key_account(id)?;
        self.engine(&account)?.access_key(id).ok()
    }

    /// The account whose alias is `alias`.
    pub fn account_by_alias(&self, alias: &str) -> Option<String> {
        self.registry.aliases.lock().unwrap_or_else(PoisonError::into_inner).get(alias).cloned()
    }

    /// The whole directory as of now: every account's records, the organizations' state and the
    /// primary account, read at one moment (no write is half in it).
    pub fn checkpoint(&self) -> Result<Checkpoint, StoreError> {
        let _writer = self.organizations_writer.lock().unwrap_or_else(PoisonError::into_inner);
        let accounts = self.accounts.read().unwrap_or_else(PoisonError::into_inner);
        let guards: Vec<_> = accounts.iter().map(|(id, store)| (id, store.lock_state_read())).collect();
        let mut records = BTreeMap::new();
        for (id, state) in &guards {
            records.insert((*id).clone(), crate::checkpoint::encode(state)?);
        }
        Ok(Checkpoint {
            schema_version: crate::durable::SCHEMA_VERSION,
            accounts: records,
            organizations: Organizations::clone(&self.organizations()),
            primary_account: self.primary_account(),
        })
    }

    /// Returns the directory to `checkpoint`, in one step: the accounts it holds get exactly
    /// their records back (same ids, same credentials), accounts created since are removed
    /// (handles still held to them refuse every call), and the organizations' state and the
    /// primary account are the checkpoint's. In a data directory the whole change is one SQLite
    /// transaction: if it fails, nothing changes, on disk or in memory.
    ///
    /// Writes wait while it runs; snapshots published afterwards have a higher generation than
    /// any before.
    pub fn restore(&self, checkpoint: &Checkpoint) -> Result<(), StoreError> {
        checkpoint.check_version()?;
        let _writer = self.organizations_writer.lock().unwrap_or_else(PoisonError::into_inner);
        let mut accounts = self.accounts.write().unwrap_or_else(PoisonError::into_inner);
        let stores: Vec<(String, Arc<MemoryStore>)> =
            accounts.iter().map(|(id, store)| (id.clone(), Arc::clone(store))).collect();
        let mut guards: BTreeMap<&str, _> =
            stores.iter().map(|(id, store)| (id.as_str(), (store, store.lock_state_write()))).collect();
        // Everything that can fail happens before anything changes.
        let mut restored = Vec::new();
        let mut added = Vec::new();
        for (id, records) in &checkpoint.accounts {
            let account = AccountId::parse(id).map_err(|e| {
                StoreError::new(ErrorCode::ServiceFailure, format!("The checkpoint holds an invalid account {id}: {e}"))
            })?;
            let mut state = crate::checkpoint::decode(id, records)?;
            match guards.get(id.as_str()) {
                Some((_, current)) => {
                    state.generation = current.generation.saturating_add(1);
                    let snapshot = Snapshot::build(&mut state)?;
                    restored.push((id.as_str(), state, snapshot));
                }
                None => {
                    // An account the checkpoint holds but the directory no longer does.
                    let journal: Option<Box<dyn Journal>> = self.db.as_ref().map(|db| {
                        Box::new(SqliteJournal { db: Arc::clone(db), account: id.clone() }) as Box<dyn Journal>
                    });
                    let store = MemoryStore::with_state(
                        account,
                        Arc::clone(&self.registry),
                        Arc::clone(&self.clock),
                        Arc::clone(&self.rng),
                        state,
                        journal,
                    )?;
                    added.push((id.clone(), Arc::new(store)));
                }
            }
        }
        if let Some(db) = &self.db {
            let rows: Vec<(&str, &str, &str, &str)> = checkpoint
                .accounts
                .iter()
                .flat_map(|(id, records)| {
                    records.iter().map(move |r| (id.as_str(), r.kind.as_str(), r.key.as_str(), r.body.as_str()))
                })
                .collect();
            db.replace_all(&rows, &checkpoint.organizations, checkpoint.primary_account.as_deref())?;
        }
        // Committed: memory follows. The key and alias indexes are rebuilt aside and swapped
        // in under their locks, so that a lookup never sees them half filled (a bootstrap key
        // is found before, during and after a restore).
        let mut keys = HashMap::new();
        let mut aliases = HashMap::new();
        for (id, state, _) in &restored {
            Registry::collect(id, state, &mut keys, &mut aliases);
        }
        for (id, store) in &added {
            Registry::collect(id, &store.lock_state_read(), &mut keys, &mut aliases);
        }
        let mut key_index = self.registry.keys.write().unwrap_or_else(PoisonError::into_inner);
        let mut alias_index = self.registry.aliases.lock().unwrap_or_else(PoisonError::into_inner);
        *key_index = keys;
        *alias_index = aliases;
        // Every account stays locked until the organizations' state is swapped too: a write
        // waiting on an account lands after the whole restore, never in its middle.
        let mut held = Vec::new();
        for (id, state, snapshot) in restored {
            if let Some((store, mut guard)) = guards.remove(id) {
                *guard = state;
                store.publish_restored(snapshot);
                held.push(guard);
            }
        }
        for (id, store) in added {
            accounts.insert(id, store);
        }
        for (id, (store, _guard)) in guards {
            store.retire();
            accounts.remove(id);
        }
        *self.organizations.write().unwrap_or_else(PoisonError::into_inner) =
            Arc::new(checkpoint.organizations.clone());
        *self.primary_account.write().unwrap_or_else(PoisonError::into_inner) = checkpoint.primary_account.clone();
        drop((held, key_index, alias_index));
        Ok(())
    }

    pub(crate) fn engine(&self, id: &str) -> Option<Arc<MemoryStore>> {
        self.accounts.read().unwrap_or_else(PoisonError::into_inner).get(id).cloned()
    }

    /// Creates the account `id` and persists its record before it is visible.
    pub(crate) fn create_engine(&self, id: AccountId) -> Result<Arc<MemoryStore>, StoreError> {
        let mut accounts = self.accounts.write().unwrap_or_else(PoisonError::into_inner);
        if accounts.contains_key(id.as_str()) {
            return Err(StoreError::new(
                ErrorCode::EntityAlreadyExists,
                format!("The account {} already exists.", id.as_str()),
            ));
        }
        let state = State::new_account(self.clock.now());
        let journal: Option<Box<dyn Journal>> = match &self.db {
            Some(db) => {
                let journal = SqliteJournal { db: Arc::clone(db), account: id.as_str().to_owned() };
                journal.commit(&state, &[Touched::Account])?;
                Some(Box::new(journal))
            }
            None => None,
        };
        let key = id.as_str().to_owned();
        let store = Arc::new(MemoryStore::with_state(
            id,
            Arc::clone(&self.registry),
            Arc::clone(&self.clock),
            Arc::clone(&self.rng),
            state,
            journal,
        )?);
        accounts.insert(key, Arc::clone(&store));
        Ok(store)
    }
}

fn no_such_account(id: &str) -> StoreError {
    StoreError::new(ErrorCode::NoSuchEntity, format!("The account with id {id} cannot be found."))
}
