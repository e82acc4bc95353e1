//! The credential records of the root user and of IAM users, as `castellan-credentials` makes
//! them: access keys (the secret sealed), login profiles (a password hash), virtual MFA devices
//! (the seed sealed), and the account's password policy.
//!
//! The store keeps only sealed secrets and hashes: it refuses an MFA device whose seed is in the
//! clear. It decides nothing about codes or passwords; it enforces the quotas and the records'
//! relations (a device enabled for one owner at a time, the deletion preconditions of a user).

use castellan_credentials::access_key::{
    AccessKeyId, AccessKeyLastUsed, AccessKeyRecord, AccessKeyStatus, SealedSecret,
};
use castellan_credentials::password::{PasswordHash, PasswordPolicy, UpdatePasswordPolicy};
use castellan_credentials::{MfaDevice, MfaState, StoredSeed, UnixTime};
use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, StoreError};
use crate::names::Tag;

/// Access keys per user and per root user.
pub const MAX_ACCESS_KEYS: usize = 2;
/// MFA devices per user and per root user.
pub const MAX_MFA_DEVICES: usize = 8;
/// Previous password hashes kept per login profile (the largest `PasswordReusePrevention`).
pub const PASSWORD_HISTORY: usize = 24;

/// Whose credentials an operation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner<'a> {
    /// The account's root user.
    Root,
    /// The IAM user of this name.
    User(&'a str),
}

/// Whose credentials a record is, in results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnerName {
    /// The account's root user.
    Root,
    /// The IAM user of this name (case preserved).
    User(String),
}

impl OwnerName {
    /// The user name, `None` for the root user.
    pub fn user_name(&self) -> Option<&str> {
        match self {
            OwnerName::Root => None,
            OwnerName::User(name) => Some(name),
        }
    }
}

/// An access key with its owner (`GetAccessKeyLastUsed`, and the key lookup of authentication).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKey {
    /// The 12-digit account that owns the key.
    pub account_id: String,
    /// The root user or the user the key belongs to.
    pub owner: OwnerName,
    /// The record (the secret sealed).
    pub record: AccessKeyRecord,
}

/// A login profile (`GetLoginProfile`): the password hash and its history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginProfile {
    /// The owner.
    pub owner: OwnerName,
    /// When the profile was created.
    pub create_date: UnixTime,
    /// Whether the password must be changed at the next sign-in.
    pub password_reset_required: bool,
    /// The current password's hash.
    pub password_hash: PasswordHash,
    /// When the current password was set (for `MaxPasswordAge`).
    pub password_set_at: UnixTime,
    /// When the password was last used to sign in.
    pub password_last_used: Option<UnixTime>,
    /// Earlier hashes, most recent first (at most [`PASSWORD_HISTORY`]), for reuse prevention.
    pub previous: Vec<PasswordHash>,
}

impl LoginProfile {
    /// The current and earlier hashes, most recent first: what
    /// `castellan_credentials::password::PasswordContext::previous` takes.
    pub fn history(&self) -> Vec<PasswordHash> {
        std::iter::once(self.password_hash.clone()).chain(self.previous.iter().cloned()).collect()
    }
}

/// A virtual MFA device and its assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualMfaDevice {
    /// The device record (its serial number is the device's ARN; the seed sealed).
    pub device: MfaDevice,
    /// Who the device is enabled for; `None` while unassigned.
    pub owner: Option<OwnerName>,
    /// The tags (keys compared with regard to case, as for other resources than users and roles).
    pub tags: Vec<Tag>,
}

/// `ListVirtualMFADevices`' `AssignmentStatus`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AssignmentStatus {
    /// Enabled for a user or the root user.
    Assigned,
    /// Not enabled for anyone.
    Unassigned,
    /// Both.
    #[default]
    Any,
}

/// The credentials the root user or a user holds (persisted with the owner's record).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Credentials {
    #[serde(default)]
    pub(crate) access_keys: Vec<StoredKey>,
    #[serde(default)]
    pub(crate) login_profile: Option<StoredLoginProfile>,
    /// Keys (lowercase serial numbers) of the MFA devices enabled for the owner, in order.
    #[serde(default)]
    pub(crate) mfa: Vec<String>,
}

type Time = (i64, u32);

fn time(t: UnixTime) -> Time {
    (t.seconds, t.nanos)
}

fn untime((seconds, nanos): Time) -> UnixTime {
    UnixTime { seconds, nanos }
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::new(ErrorCode::ServiceFailure, format!("stored {what} is corrupt: {e}"))
}

/// An access key as persisted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredKey {
    pub(crate) id: String,
    pub(crate) status: String,
    pub(crate) created: Time,
    pub(crate) last_used: Option<(Time, String, String)>,
    pub(crate) sealed: String,
}

impl StoredKey {
    pub(crate) fn from_record(r: &AccessKeyRecord) -> StoredKey {
        StoredKey {
            id: r.id.as_str().to_owned(),
            status: r.status.as_str().to_owned(),
            created: time(r.created_at),
            last_used: r
                .last_used
                .last_used_date
                .map(|at| (time(at), r.last_used.service_name.clone(), r.last_used.region.clone())),
            sealed: r.sealed_secret.to_string(),
        }
    }

    pub(crate) fn record(&self) -> Result<AccessKeyRecord, StoreError> {
        Ok(AccessKeyRecord {
            id: AccessKeyId::parse(&self.id).map_err(|e| corrupt("access key id", e))?,
            status: AccessKeyStatus::parse(&self.status).map_err(|e| corrupt("access key status", e))?,
            created_at: untime(self.created),
            last_used: match &self.last_used {
                Some((at, service, region)) => AccessKeyLastUsed::used(untime(*at), service.clone(), region.clone()),
                None => AccessKeyLastUsed::never(),
            },
            sealed_secret: SealedSecret::parse(&self.sealed).map_err(|e| corrupt("access key secret", e))?,
        })
    }
}

/// A login profile as persisted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredLoginProfile {
    pub(crate) created: Time,
    pub(crate) reset_required: bool,
    pub(crate) hash: String,
    pub(crate) set_at: Time,
    pub(crate) last_used: Option<Time>,
    pub(crate) previous: Vec<String>,
}

impl StoredLoginProfile {
    pub(crate) fn profile(&self, owner: OwnerName) -> Result<LoginProfile, StoreError> {
        let parse = |h: &str| PasswordHash::parse(h).map_err(|e| corrupt("password hash", e));
        Ok(LoginProfile {
            owner,
            create_date: untime(self.created),
            password_reset_required: self.reset_required,
            password_hash: parse(&self.hash)?,
            password_set_at: untime(self.set_at),
            password_last_used: self.last_used.map(untime),
            previous: self.previous.iter().map(|h| parse(h)).collect::<Result<_, _>>()?,
        })
    }

    pub(crate) fn new(hash: &PasswordHash, reset_required: bool, now: UnixTime) -> StoredLoginProfile {
        StoredLoginProfile {
            created: time(now),
            reset_required,
            hash: hash.to_string(),
            set_at: time(now),
            last_used: None,
            previous: Vec::new(),
        }
    }

    /// Sets a new password, keeping the old hash in the history.
    pub(crate) fn set_password(&mut self, hash: &PasswordHash, now: UnixTime) {
        let old = std::mem::replace(&mut self.hash, hash.to_string());
        self.previous.insert(0, old);
        self.previous.truncate(PASSWORD_HISTORY);
        self.set_at = time(now);
    }

    pub(crate) fn mark_used(&mut self, at: UnixTime) {
        self.last_used = Some(time(at));
    }
}

/// Which owner an MFA device is enabled for, as persisted: `""` for the root user, else the
/// user's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredMfa {
    pub(crate) serial: String,
    pub(crate) sealed_seed: String,
    pub(crate) enabled_at: Option<Time>,
    pub(crate) last_accepted_step: Option<u64>,
    pub(crate) drift_steps: i64,
    pub(crate) failed_attempts: u32,
    /// `None` when unassigned; `Some("")` for the root user; else the user's key.
    pub(crate) owner: Option<String>,
    pub(crate) tags: Vec<Tag>,
}

impl StoredMfa {
    /// Persists `device`; a seed in the clear is refused: the store holds no secret in clear.
    pub(crate) fn from_device(
        device: &MfaDevice,
        owner: Option<String>,
        tags: Vec<Tag>,
    ) -> Result<StoredMfa, StoreError> {
        let StoredSeed::Sealed(sealed) = &device.seed else {
            return Err(StoreError::new(
                ErrorCode::InvalidInput,
                "The MFA device's seed must be sealed; the store keeps no secret in the clear.",
            ));
        };
        Ok(StoredMfa {
            serial: device.serial_number.clone(),
            sealed_seed: sealed.to_string(),
            enabled_at: match device.state {
                MfaState::Enabled { enabled_at } => Some(time(enabled_at)),
                MfaState::Unassigned => None,
            },
            last_accepted_step: device.last_accepted_step,
            drift_steps: device.drift_steps,
            failed_attempts: device.failed_attempts,
            owner,
            tags,
        })
    }

    pub(crate) fn device(&self) -> Result<MfaDevice, StoreError> {
        Ok(MfaDevice {
            serial_number: self.serial.clone(),
            seed: StoredSeed::Sealed(SealedSecret::parse(&self.sealed_seed).map_err(|e| corrupt("MFA seed", e))?),
            state: match self.enabled_at {
                Some(at) => MfaState::Enabled { enabled_at: untime(at) },
                None => MfaState::Unassigned,
            },
            last_accepted_step: self.last_accepted_step,
            drift_steps: self.drift_steps,
            failed_attempts: self.failed_attempts,
        })
    }
}

/// The account's password policy as persisted (the fields of `UpdateAccountPasswordPolicy`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredPasswordPolicy {
    minimum_password_length: u8,
    require_symbols: bool,
    require_numbers: bool,
    require_uppercase_characters: bool,
    require_lowercase_characters: bool,
    allow_users_to_change_password: bool,
    max_password_age: Option<u16>,
    password_reuse_prevention: Option<u8>,
    hard_expiry: bool,
}

impl StoredPasswordPolicy {
    pub(crate) fn from_policy(p: &PasswordPolicy) -> StoredPasswordPolicy {
        StoredPasswordPolicy {
            minimum_password_length: p.minimum_password_length(),
            require_symbols: p.require_symbols(),
            require_numbers: p.require_numbers(),
            require_uppercase_characters: p.require_uppercase_characters(),
            require_lowercase_characters: p.require_lowercase_characters(),
            allow_users_to_change_password: p.allow_users_to_change_password(),
            max_password_age: p.max_password_age(),
            password_reuse_prevention: p.password_reuse_prevention(),
            hard_expiry: p.hard_expiry(),
        }
    }

    pub(crate) fn policy(&self) -> Result<PasswordPolicy, StoreError> {
        PasswordPolicy::from_update(&UpdatePasswordPolicy {
            minimum_password_length: Some(i64::from(self.minimum_password_length)),
            require_symbols: Some(self.require_symbols),
            require_numbers: Some(self.require_numbers),
            require_uppercase_characters: Some(self.require_uppercase_characters),
            require_lowercase_characters: Some(self.require_lowercase_characters),
            allow_users_to_change_password: Some(self.allow_users_to_change_password),
            max_password_age: self.max_password_age.map(i64::from),
            password_reuse_prevention: self.password_reuse_prevention.map(i64::from),
            hard_expiry: Some(self.hard_expiry),
        })
        .map_err(|e| corrupt("password policy", e))
    }
}

/// Checks an account alias: 3–63 characters of lowercase letters, digits and single hyphens,
/// starting and ending with a letter or digit, and not twelve digits (an account id).
pub(crate) fn check_alias(alias: &str) -> Result<(), StoreError> {
    let bytes = alias.as_bytes();
    let shape = (3..=63).contains(&bytes.len())
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes.first().is_some_and(|b| *b != b'-')
        && bytes.last().is_some_and(|b| *b != b'-')
        && !alias.contains("--");
    if !shape {
        return Err(StoreError::new(
            ErrorCode::ValidationError,
            format!(
                "1 validation error detected: Value '{alias}' at 'accountAlias' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-z0-9]([a-z0-9]|-(?!-)){{1,61}}[a-z0-9]$"
            ),
        ));
    }
    if bytes.len() == 12 && bytes.iter().all(u8::is_ascii_digit) {
        return Err(StoreError::invalid("The account alias cannot be a 12-digit number."));
    }
    Ok(())
}
