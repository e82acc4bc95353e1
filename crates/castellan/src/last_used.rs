//! What the audit trail of calls teaches about use: an access key's last use, a role's last use
//! and, per principal, the services it last called. Kept in memory (one mutex'd map, a few
//! hundred bytes per key and principal); [`Iam::flush_last_used`] persists access keys' last use
//! to the store, which the server calls periodically.
//!
//! Every authenticated call is noted, allowed or not: AWS reports when a key was last *used* and
//! when a service was last *attempted*, not only successful calls.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, PoisonError};

use castellan_credentials::UnixTime;
use castellan_credentials::access_key::AccessKeyLastUsed;
use castellan_store::OwnerName;
use castellan_sts::SessionKind;

use crate::error::IamError;
use crate::iam::Iam;
use crate::subject::{Caller, Identity};

/// `GetAccessKeyLastUsed`'s answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKeyLastUsedInfo {
    /// The user owning the key (`None` for the root user's key).
    pub user_name: Option<String>,
    /// When, for which service and in which region the key was last used.
    pub access_key_last_used: AccessKeyLastUsed,
}

/// A role's `RoleLastUsed`: when a session of the role last made a call, and where.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleLastUsed {
    /// When; `None` when no session of the role has called yet (or not since this process
    /// started: role use is not persisted).
    pub last_used_date: Option<UnixTime>,
    /// The region of that call, when it had one.
    pub region: Option<String>,
}

/// One service of a `GetServiceLastAccessedDetails` report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceLastAccessed {
    /// The service's name; Castellan uses the namespace (`s3`), not the marketing name.
    pub service_name: String,
    /// The namespace (`s3`, `iam`).
    pub service_namespace: String,
    /// When the entity last attempted a call of the service; `None` when never.
    pub last_authenticated: Option<UnixTime>,
    /// The principal that made that call (the user, or the role for its sessions).
    pub last_authenticated_entity: Option<String>,
    /// The region of that call.
    pub last_authenticated_region: Option<String>,
    /// How many principals called (1 or 0 for a user or role report).
    pub total_authenticated_entities: u32,
}

/// `GetServiceLastAccessedDetails`' answer (`JobStatus` is always `COMPLETED`: Castellan
/// computes the report when it is asked for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceLastAccessedDetails {
    /// `COMPLETED`.
    pub job_status: String,
    /// `SERVICE_LEVEL`.
    pub job_type: String,
    /// When the job was created.
    pub job_creation_date: UnixTime,
    /// When it completed (the same time).
    pub job_completion_date: UnixTime,
    /// The services, by namespace: every service the entity's policies name and every service it
    /// called.
    pub services_last_accessed: Vec<ServiceLastAccessed>,
}

#[derive(Debug, Clone)]
struct KeyUse {
    at: UnixTime,
    service: String,
    region: String,
    /// Not yet persisted.
    dirty: bool,
}

#[derive(Debug, Clone)]
struct ServiceUse {
    at: UnixTime,
    entity: String,
    region: Option<String>,
}

#[derive(Debug)]
struct Job {
    account: String,
    created: UnixTime,
    services: Vec<ServiceLastAccessed>,
}

#[derive(Debug, Default)]
struct State {
    keys: HashMap<String, KeyUse>,
    /// By lowercase role ARN without path (`arn:aws:iam::ACCOUNT:role/name`).
    roles: HashMap<String, (UnixTime, Option<String>)>,
    /// By principal ARN (a user's, or a role's without path, lowercase), then namespace.
    services: HashMap<String, BTreeMap<String, ServiceUse>>,
    jobs: HashMap<String, Job>,
    /// Credential reports by account: when generated and the CSV.
    pub(crate) reports: HashMap<String, (UnixTime, String)>,
}

/// The in-memory activity of one `Iam`.
#[derive(Debug, Default)]
pub(crate) struct Activity {
    state: Mutex<State>,
}

/// `arn:aws:iam::ACCOUNT:role/PATH/NAME` → `arn:aws:iam::account:role/name` (lowercase: role names
/// are unique without regard to case, and a role's path does not name it).
fn role_key(role_arn: &str) -> String {
    let (head, rest) = role_arn.split_once(":role/").unwrap_or((role_arn, ""));
    let name = rest.rsplit('/').next().unwrap_or(rest);
    format!("{head}:role/{name}").to_ascii_lowercase()
}

fn principal_key(arn: &str) -> String {
    if arn.contains(":role/") { role_key(arn) } else { arn.to_ascii_lowercase() }
}

impl Activity {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Notes one call of `action` by `caller` at `now`.
    pub(crate) fn note(&self, caller: &Caller, action: &str, now: UnixTime) {
        let service = action.split_once(':').map_or(action, |(s, _)| s).to_ascii_lowercase();
        let region = caller.requested_region.clone();
        let entity = match &caller.identity {
            Identity::Root { account } => format!("arn:aws:iam::{account}:root"),
            Identity::User { account, name } => format!("arn:aws:iam::{account}:user/{name}"),
            Identity::Session(claims) => match (&claims.kind, &claims.role_arn) {
                (SessionKind::AssumedRole, Some(role)) => role.clone(),
                _ => claims.principal_arn.clone(),
            },
        };
        let mut state = self.lock();
        // Temporary keys (`ASIA...`) are not kept: they have no last-used record in AWS, and a
        // server's sessions would grow the map without bound.
        if let Some(key) = caller.access_key_id.as_ref().filter(|k| !k.starts_with("ASIA")) {
            let used = KeyUse {
                at: now,
                service: service.clone(),
                region: region.clone().unwrap_or_else(|| "N/A".to_owned()),
                dirty: true,
            };
            state.keys.insert(key.clone(), used);
        }
        if entity.contains(":role/") {
            state.roles.insert(role_key(&entity), (now, region.clone()));
        }
        let services = state.services.entry(principal_key(&entity)).or_default();
        services.insert(service, ServiceUse { at: now, entity, region });
    }

    fn key_use(&self, id: &str) -> Option<AccessKeyLastUsed> {
        self.lock().keys.get(id).map(|u| AccessKeyLastUsed::used(u.at, &u.service, &u.region))
    }

    pub(crate) fn report(&self, account: &str) -> Option<(UnixTime, String)> {
        self.lock().reports.get(account).cloned()
    }

    pub(crate) fn save_report(&self, account: &str, at: UnixTime, csv: String) {
        self.lock().reports.insert(account.to_owned(), (at, csv));
    }

    /// Forgets everything (a test reset returns the server to its bootstrap state).
    pub(crate) fn clear(&self) {
        *self.lock() = State::default();
    }
}

impl Iam {
    /// An access key's last use: what this process saw, else what the store has.
    pub(crate) fn access_key_last_used(&self, id: &str, stored: &AccessKeyLastUsed) -> AccessKeyLastUsed {
        match self.activity.key_use(id) {
            Some(seen) if seen.last_used_date >= stored.last_used_date => seen,
            _ => stored.clone(),
        }
    }

    /// `GetAccessKeyLastUsed` (`iam:GetAccessKeyLastUsed` on the key's owner; on the account's
    /// root ARN when the key is unknown). A key of another account is `NoSuchEntity`, as if it did
    /// not exist.
    pub fn get_access_key_last_used(
        &self,
        caller: &Caller,
        access_key_id: &str,
    ) -> Result<AccessKeyLastUsedInfo, IamError> {
        let found = self.directory.find_access_key(access_key_id).filter(|k| k.account_id == caller.account());
        let resource = match found.as_ref().map(|k| &k.owner) {
            Some(OwnerName::User(name)) => self
                .directory
                .account(caller.account())
                .ok()
                .and_then(|s| s.user(name).ok())
                .map_or_else(|| format!("arn:aws:iam::{}:user/{name}", caller.account()), |u| u.arn),
            _ => format!("arn:aws:iam::{}:root", caller.account()),
        };
        self.call(caller, "iam:GetAccessKeyLastUsed", &resource, &[], |_| {
            let key = found.ok_or_else(|| {
                IamError::new("NoSuchEntity", 404, format!("The Access Key with id {access_key_id} cannot be found"))
            })?;
            Ok(AccessKeyLastUsedInfo {
                user_name: key.owner.user_name().map(str::to_owned),
                access_key_last_used: self.access_key_last_used(access_key_id, &key.record.last_used),
            })
        })
    }

    /// The `RoleLastUsed` of the role `role_arn` (its path does not matter), for `GetRole` and
    /// `GetAccountAuthorizationDetails`. Not an API call: it authorizes nothing, so call it only
    /// after the call that returns the role was authorized.
    pub fn role_last_used(&self, role_arn: &str) -> RoleLastUsed {
        match self.activity.lock().roles.get(&role_key(role_arn)) {
            Some((at, region)) => RoleLastUsed { last_used_date: Some(*at), region: region.clone() },
            None => RoleLastUsed::default(),
        }
    }

    /// Persists the access keys' last use seen since the previous flush, one
    /// `Store::record_access_key_use` per key at most; returns how many keys were written.
    /// Deleted keys are skipped and forgotten (temporary keys are never noted). A key whose write
    /// fails stays pending for the next flush; the first error is returned after the others
    /// were tried.
    pub fn flush_last_used(&self) -> Result<usize, IamError> {
        let pending: Vec<(String, KeyUse)> = {
            let mut state = self.activity.lock();
            state
                .keys
                .iter_mut()
                .filter(|(_, u)| u.dirty)
                .map(|(id, u)| {
                    u.dirty = false;
                    (id.clone(), u.clone())
                })
                .collect()
        };
        let mut written = 0;
        let mut first_error = None;
        for (id, used) in pending {
            let Some(key) = self.directory.find_access_key(&id) else {
                // Deleted since: forget it.
                self.activity.lock().keys.remove(&id);
                continue;
            };
            let result = self.directory.account(&key.account_id).map_err(IamError::from).and_then(|store| {
                Ok(store.record_access_key_use(&id, AccessKeyLastUsed::used(used.at, &used.service, &used.region))?)
            });
            match result {
                Ok(()) => written += 1,
                Err(e) => {
                    if let Some(u) = self.activity.lock().keys.get_mut(&id) {
                        u.dirty = true;
                    }
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(written),
        }
    }

    /// `GenerateServiceLastAccessedDetails` for a user or role ARN
    /// (`iam:GenerateServiceLastAccessedDetails` on it); returns the job id. The report is made
    /// now, from what this process saw since it started.
    pub fn generate_service_last_accessed_details(&self, caller: &Caller, arn: &str) -> Result<String, IamError> {
        let now = self.clock.now();
        self.call(caller, "iam:GenerateServiceLastAccessedDetails", arn, &[], |store| {
            let snapshot = store.snapshot();
            let name = arn.rsplit('/').next().unwrap_or_default();
            let policies = if arn.contains(":user/") && arn.starts_with("arn:") {
                snapshot.user(name).cloned()
            } else if arn.contains(":role/") && arn.starts_with("arn:") {
                snapshot.role(name).cloned()
            } else {
                return Err(IamError::invalid_input(format!(
                    "Invalid ARN {arn}: Castellan reports on users and roles only."
                )));
            };
            let policies = policies
                .filter(|p| p.arn == arn)
                .ok_or_else(|| IamError::new("NoSuchEntity", 404, format!("The entity {arn} cannot be found.")))?;
            let mut namespaces: BTreeSet<String> = policies
                .identity
                .iter()
                .flat_map(|p| p.policy.statements.iter())
                .filter(|s| s.effect == castellan_policy::Effect::Allow)
                .flat_map(|s| s.action.patterns().iter())
                .filter_map(|a| a.service_prefix())
                .filter(|s| !s.contains(['*', '?']))
                .map(str::to_ascii_lowercase)
                .collect();
            let state = self.activity.lock();
            let used = state.services.get(&principal_key(arn));
            namespaces.extend(used.into_iter().flat_map(|m| m.keys().cloned()));
            let services = namespaces
                .into_iter()
                .map(|ns| {
                    let seen = used.and_then(|m| m.get(&ns));
                    ServiceLastAccessed {
                        service_name: ns.clone(),
                        service_namespace: ns,
                        last_authenticated: seen.map(|u| u.at),
                        last_authenticated_entity: seen.map(|u| u.entity.clone()),
                        last_authenticated_region: seen.and_then(|u| u.region.clone()),
                        total_authenticated_entities: u32::from(seen.is_some()),
                    }
                })
                .collect();
            drop(state);
            let job_id = self.with_rng(|rng| {
                let bytes: [u8; 16] = rand::Rng::random(rng);
                let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                format!(
                    "{}-{}-{}-{}-{}",
                    hex.get(..8).unwrap_or_default(),
                    hex.get(8..12).unwrap_or_default(),
                    hex.get(12..16).unwrap_or_default(),
                    hex.get(16..20).unwrap_or_default(),
                    hex.get(20..).unwrap_or_default()
                )
            });
            let job = Job { account: store.account_id().to_owned(), created: now, services };
            self.activity.lock().jobs.insert(job_id.clone(), job);
            Ok(job_id)
        })
    }

    /// `GetServiceLastAccessedDetails` (`iam:GetServiceLastAccessedDetails`): the report of a job
    /// of the caller's account.
    pub fn get_service_last_accessed_details(
        &self,
        caller: &Caller,
        job_id: &str,
    ) -> Result<ServiceLastAccessedDetails, IamError> {
        self.call(caller, "iam:GetServiceLastAccessedDetails", "*", &[], |store| {
            let state = self.activity.lock();
            let job = state
                .jobs
                .get(job_id)
                .filter(|j| j.account == store.account_id())
                .ok_or_else(|| IamError::new("NoSuchEntity", 404, format!("The job {job_id} cannot be found.")))?;
            Ok(ServiceLastAccessedDetails {
                job_status: "COMPLETED".to_owned(),
                job_type: "SERVICE_LEVEL".to_owned(),
                job_creation_date: job.created,
                job_completion_date: job.created,
                services_last_accessed: job.services.clone(),
            })
        })
    }
}
