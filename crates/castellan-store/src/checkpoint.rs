//! Checkpoints of a whole [`Directory`](crate::Directory): every account's records, the
//! organizations' state and the primary account, taken at one moment and restored later in one
//! step — what a test endpoint's reset returns to.
//!
//! A checkpoint holds the records in the form the durable backend stores them (JSON per record,
//! keyed by account, kind and key): secrets stay sealed and passwords hashed, so a checkpoint
//! may be written to a file beside the data directory's other files. It serializes with serde.

use std::collections::BTreeMap;

use castellan_org::Organizations;
use serde::{Deserialize, Serialize};

use crate::durable::{SCHEMA_VERSION, failure};
use crate::error::StoreError;
use crate::memory::State;

/// The whole state of a directory at one moment (see [`Directory::checkpoint`] and
/// [`Directory::restore`]).
///
/// [`Directory::checkpoint`]: crate::Directory::checkpoint
/// [`Directory::restore`]: crate::Directory::restore
#[derive(Clone, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The store schema its records are in ([`SCHEMA_VERSION`] when taken; 0 when a file
    /// does not say): records of another version are refused rather than misread.
    #[serde(default)]
    pub(crate) schema_version: i64,
    /// Each account's records, by account id.
    pub(crate) accounts: BTreeMap<String, Vec<Record>>,
    /// The organizations' state.
    pub(crate) organizations: Organizations,
    /// The primary account.
    pub(crate) primary_account: Option<String>,
}

impl std::fmt::Debug for Checkpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpoint")
            .field("accounts", &self.account_ids())
            .field("primary_account", &self.primary_account)
            .finish_non_exhaustive()
    }
}

impl Checkpoint {
    /// The store schema version its records are in.
    pub fn schema_version(&self) -> i64 {
        self.schema_version
    }

    /// Refuses a checkpoint whose records are of another store schema than this one's.
    pub fn check_version(&self) -> Result<(), StoreError> {
        if self.schema_version == SCHEMA_VERSION {
            Ok(())
        } else {
            Err(StoreError::new(
                crate::error::ErrorCode::ServiceFailure,
                format!(
                    "The checkpoint's records are of store schema version {}, this Castellan's are of version {SCHEMA_VERSION}",
                    self.schema_version
                ),
            ))
        }
    }

    /// The ids of the accounts it holds, in order.
    pub fn account_ids(&self) -> Vec<String> {
        self.accounts.keys().cloned().collect()
    }

    /// The primary account it holds, if one was set.
    pub fn primary_account(&self) -> Option<&str> {
        self.primary_account.as_deref()
    }

    /// The organizations' state it holds.
    pub fn organizations(&self) -> &Organizations {
        &self.organizations
    }
}

/// One record, as the durable backend stores it.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct Record {
    pub(crate) kind: String,
    pub(crate) key: String,
    pub(crate) body: String,
}

fn record<T: Serialize>(kind: &str, key: &str, value: &T) -> Result<Record, StoreError> {
    let body = serde_json::to_string(value).map_err(|e| failure("cannot encode a record", e))?;
    Ok(Record { kind: kind.to_owned(), key: key.to_owned(), body })
}

/// Every record of one account's state.
pub(crate) fn encode(state: &State) -> Result<Vec<Record>, StoreError> {
    let mut out = Vec::new();
    if let Some(account) = &state.account {
        out.push(record("account", "", account)?);
    }
    for (k, v) in &state.users {
        out.push(record("user", k, v)?);
    }
    for (k, v) in &state.groups {
        out.push(record("group", k, v)?);
    }
    for (k, v) in &state.roles {
        out.push(record("role", k, v)?);
    }
    for (k, v) in &state.policies {
        out.push(record("policy", k, v)?);
    }
    for (k, v) in &state.aws_usage {
        out.push(record("aws-policy", k, v)?);
    }
    for (k, v) in &state.mfa {
        out.push(record("mfa", k, v)?);
    }
    for (k, v) in &state.instance_profiles {
        out.push(record("instance-profile", k, v)?);
    }
    for (k, v) in &state.oidc {
        out.push(record("oidc-provider", k, v)?);
    }
    for (k, v) in &state.saml {
        out.push(record("saml-provider", k, v)?);
    }
    Ok(out)
}

/// Adds one record of `account` (as the durable backend stores it: kind, key, JSON body) to its
/// state. The one reading of records, for the data directory's loader and for checkpoints.
pub(crate) fn insert_record(
    state: &mut State,
    account: &str,
    kind: &str,
    key: &str,
    body: &str,
) -> Result<(), StoreError> {
    fn read<T: serde::de::DeserializeOwned>(account: &str, kind: &str, key: &str, body: &str) -> Result<T, StoreError> {
        serde_json::from_str(body).map_err(|e| failure(&format!("corrupt {kind} record {key} of account {account}"), e))
    }
    let owned = key.to_owned();
    match kind {
        "account" => state.account = Some(read(account, kind, key, body)?),
        "user" => drop(state.users.insert(owned, read(account, kind, key, body)?)),
        "group" => drop(state.groups.insert(owned, read(account, kind, key, body)?)),
        "role" => drop(state.roles.insert(owned, read(account, kind, key, body)?)),
        "policy" => drop(state.policies.insert(owned, read(account, kind, key, body)?)),
        "aws-policy" => drop(state.aws_usage.insert(owned, read(account, kind, key, body)?)),
        "mfa" => drop(state.mfa.insert(owned, read(account, kind, key, body)?)),
        "instance-profile" => drop(state.instance_profiles.insert(owned, read(account, kind, key, body)?)),
        "oidc-provider" => drop(state.oidc.insert(owned, read(account, kind, key, body)?)),
        "saml-provider" => drop(state.saml.insert(owned, read(account, kind, key, body)?)),
        other => return Err(failure("unknown record kind", other)),
    }
    Ok(())
}

/// One account's state from its records (the inverse of [`encode`]).
pub(crate) fn decode(account: &str, records: &[Record]) -> Result<State, StoreError> {
    let mut state = State::default();
    for r in records {
        insert_record(&mut state, account, &r.kind, &r.key, &r.body)?;
    }
    Ok(state)
}
