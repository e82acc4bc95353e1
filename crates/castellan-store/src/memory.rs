//! The in-memory backend: one account's state behind a `RwLock`. Every write takes the write
//! lock, checks every rule against the current state, and only then changes anything, so a
//! refused operation leaves no trace.
//!
//! The same state and rules serve the durable backend: a successful write names the records it
//! changed ([`Touched`]) and, while it still holds the write lock, hands them to the store's
//! [`Journal`] (none for [`MemoryStore`]; SQLite for `DurableStore`) before it returns. If the
//! journal fails, the write is not acknowledged and the store refuses every further call: memory
//! may then hold a change the disk does not, and reopening the data directory recovers.
//!
//! Still under the write lock, each committed write builds the next [`Snapshot`] from the
//! previous one and the touched records, and publishes it in a cell locked only to swap the
//! `Arc`; [`Store::snapshot`] only clones it, so readers of the authorization path never wait
//! for a writer.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use castellan_credentials::Clock;
use castellan_credentials::access_key::{AccessKeyLastUsed, AccessKeyRecord, AccessKeyStatus};
use castellan_credentials::access_key::{UniqueIdKind, generate_unique_id};
use castellan_credentials::password::{PasswordHash, PasswordPolicy};
use castellan_policy::{AccountId, PolicyKind, iam_size};
use rand::CryptoRng;
use serde::{Deserialize, Serialize};

use crate::aws;
use crate::credentials::{
    AccessKey, AssignmentStatus, Credentials, LoginProfile, MAX_ACCESS_KEYS, MAX_MFA_DEVICES, Owner, OwnerName,
    StoredKey, StoredLoginProfile, StoredMfa, StoredPasswordPolicy, VirtualMfaDevice, check_alias,
};
use crate::error::{ErrorCode, StoreError};
use crate::names::{GroupName, IamPath, PolicyName, RoleName, Tag, UserName, check_path_prefix};
use crate::providers::{
    MAX_OIDC_PROVIDERS, MAX_SAML_PROVIDERS, NewOidcProvider, OidcProvider, SamlProvider, Taggable, check_client_ids,
    check_saml_metadata, check_saml_name, check_signing_keys, check_thumbprints, no_such_provider, oidc_url,
};
use crate::snapshot::{Parsed, Snapshot};
use crate::store::{
    AttachedPolicy, Entity, Group, InlinePolicy, InstanceProfile, ManagedPolicy, NewPolicy, NewRole, NewUser, Page,
    PageRequest, PolicyScope, PolicyVersion, Role, Store, User,
};
use crate::trust;

/// Managed policies attached per user, group or role.
pub const MAX_ATTACHED_POLICIES: usize = 10;
/// Groups a user may belong to.
pub const MAX_GROUPS_PER_USER: usize = 10;
/// Versions kept per managed policy.
pub const MAX_POLICY_VERSIONS: usize = 5;
/// A managed policy document's size, whitespace excluded.
pub const MAX_MANAGED_POLICY_SIZE: usize = 6_144;
/// Aggregate inline policy size per user.
pub const MAX_USER_INLINE_SIZE: usize = 2_048;
/// Aggregate inline policy size per group.
pub const MAX_GROUP_INLINE_SIZE: usize = 5_120;
/// Aggregate inline policy size per role.
pub const MAX_ROLE_INLINE_SIZE: usize = 10_240;
/// Users per account.
pub const MAX_USERS: usize = 5_000;
/// Groups per account.
pub const MAX_GROUPS: usize = 300;
/// Roles per account.
pub const MAX_ROLES: usize = 1_000;
/// Customer managed policies per account.
pub const MAX_POLICIES: usize = 1_500;
/// Instance profiles per account.
pub const MAX_INSTANCE_PROFILES: usize = 1_000;

const DEFAULT_MAX_ITEMS: u32 = 100;

#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Policies {
    /// Keys of the attached managed policies, in attachment order: the lowercase name of a
    /// customer managed policy, the ARN of an AWS managed one.
    pub(crate) attached: Vec<String>,
    /// Inline policies by name (case-sensitive, as IAM keeps them).
    pub(crate) inline: BTreeMap<String, InlinePolicy>,
}

impl Policies {
    fn is_empty(&self) -> bool {
        self.attached.is_empty() && self.inline.is_empty()
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct UserRec {
    pub(crate) user: User,
    pub(crate) groups: BTreeSet<String>,
    pub(crate) policies: Policies,
    /// Access keys, login profile and MFA devices.
    #[serde(default)]
    pub(crate) credentials: Credentials,
    /// The key of the permissions boundary policy.
    #[serde(default)]
    pub(crate) boundary: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct InstanceProfileRec {
    pub(crate) profile: InstanceProfile,
    /// The key of its role.
    pub(crate) role: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct GroupRec {
    pub(crate) group: Group,
    pub(crate) members: BTreeSet<String>,
    pub(crate) policies: Policies,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct RoleRec {
    /// The role; its trust policy as submitted (reads show [`trust::render`]'s form).
    pub(crate) role: Role,
    pub(crate) boundary: Option<String>,
    pub(crate) policies: Policies,
    /// The user and role ARNs of this account the trust policy names, mapped to the unique ids
    /// they had when it was written (absent in records written before this mapping existed).
    #[serde(default)]
    pub(crate) trust_ids: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct PolicyRec {
    policy: ManagedPolicy,
    /// Oldest first.
    versions: Vec<PolicyVersion>,
    next_version: u32,
}

/// How one account uses one AWS managed policy (the policy itself is shared and read-only).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AwsUsage {
    /// Users, groups and roles it is attached to.
    pub(crate) attachments: usize,
    /// Roles using it as permissions boundary.
    pub(crate) boundaries: usize,
}

/// The account itself: when it was created and its alias.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AccountRec {
    #[serde(with = "crate::store::unix_time")]
    pub(crate) create_date: castellan_credentials::UnixTime,
    pub(crate) alias: Option<String>,
    /// The root user's access keys, password and MFA devices.
    #[serde(default)]
    pub(crate) root: Credentials,
    /// The custom password policy, when one is set.
    #[serde(default)]
    pub(crate) password_policy: Option<StoredPasswordPolicy>,
}

/// One account's entities, keyed by lowercase name.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// The account's own record (absent only in data written before accounts had one).
    pub(crate) account: Option<AccountRec>,
    pub(crate) users: BTreeMap<String, UserRec>,
    pub(crate) groups: BTreeMap<String, GroupRec>,
    pub(crate) roles: BTreeMap<String, RoleRec>,
    pub(crate) policies: BTreeMap<String, PolicyRec>,
    /// This account's use of AWS managed policies, by ARN; absent when unused.
    pub(crate) aws_usage: BTreeMap<String, AwsUsage>,
    /// Virtual MFA devices by lowercase serial number.
    pub(crate) mfa: BTreeMap<String, StoredMfa>,
    /// Instance profiles by lowercase name.
    pub(crate) instance_profiles: BTreeMap<String, InstanceProfileRec>,
    /// OIDC providers by ARN.
    pub(crate) oidc: BTreeMap<String, OidcProvider>,
    /// SAML providers by ARN.
    pub(crate) saml: BTreeMap<String, SamlProvider>,
    /// Committed writes since the store was opened (the snapshots' generation).
    pub(crate) generation: u64,
    /// Parsed inline and trust policies, reused by the next snapshot.
    pub(crate) parsed: Parsed,
    /// The version id of each managed policy's parsed default in the current snapshot.
    pub(crate) parsed_versions: BTreeMap<String, String>,
}

impl State {
    /// The id of every access key of the account.
    pub(crate) fn key_ids(&self) -> impl Iterator<Item = String> + '_ {
        let root = self.account.iter().flat_map(|a| a.root.access_keys.iter());
        let users = self.users.values().flat_map(|u| u.credentials.access_keys.iter());
        root.chain(users).map(|k| k.id.clone())
    }

    /// The state of an account created at `now`.
    pub(crate) fn new_account(now: castellan_credentials::UnixTime) -> State {
        State {
            account: Some(AccountRec {
                create_date: now,
                alias: None,
                root: Credentials::default(),
                password_policy: None,
            }),
            ..State::default()
        }
    }
}

impl PolicyRec {
    /// The ARN, default version id and document of the version in effect.
    pub(crate) fn default_document(&self) -> Option<(String, String, String)> {
        let id = &self.policy.default_version_id;
        let v = self.versions.iter().find(|v| v.version_id == *id)?;
        Some((self.policy.arn.clone(), id.clone(), v.document.clone()))
    }
}

/// A record a successful write changed, by kind and key: present in the state afterwards means
/// written, absent means deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Touched {
    /// The account's own record.
    Account,
    User(String),
    Group(String),
    Role(String),
    Policy(String),
    /// This account's usage counters of an AWS managed policy, by ARN.
    AwsPolicy(String),
    /// A virtual MFA device, by lowercase serial number.
    Mfa(String),
    /// An instance profile, by lowercase name.
    InstanceProfile(String),
    /// An OIDC provider, by ARN.
    Oidc(String),
    /// A SAML provider, by ARN.
    Saml(String),
}

/// Where a backend makes writes durable. `commit` runs under the write lock after the state has
/// changed and before the write is acknowledged; it applies every touched record or none.
pub(crate) trait Journal: Send + Sync {
    fn commit(&self, state: &State, touched: &[Touched]) -> Result<(), StoreError>;
}

fn store_failed() -> StoreError {
    StoreError::new(
        ErrorCode::ServiceFailure,
        "The store could not persist a write and refuses further requests; reopen it.",
    )
}

/// A random number generator shared by the stores of several accounts.
pub(crate) type SharedRng = Arc<Mutex<Box<dyn CryptoRng + Send>>>;

/// Wraps `rng` to be shared.
pub(crate) fn share_rng(rng: impl CryptoRng + Send + 'static) -> SharedRng {
    Arc::new(Mutex::new(Box::new(rng)))
}

/// What the stores of one directory share: the owner of every access key id and of every
/// account alias (both unique across accounts).
#[derive(Debug, Default)]
pub(crate) struct Registry {
    /// Access key id → account id.
    pub(crate) keys: RwLock<HashMap<String, String>>,
    /// Account alias → account id.
    pub(crate) aliases: Mutex<HashMap<String, String>>,
}

impl Registry {
    /// Records the keys and alias of `state`, the state of `account` as loaded.
    pub(crate) fn register(&self, account: &str, state: &State) {
        let mut keys = self.keys.write().unwrap_or_else(PoisonError::into_inner);
        let mut aliases = self.aliases.lock().unwrap_or_else(PoisonError::into_inner);
        Registry::collect(account, state, &mut keys, &mut aliases);
    }

    /// Adds the keys and alias of `state`, the state of `account`, to `keys` and `aliases`.
    pub(crate) fn collect(
        account: &str,
        state: &State,
        keys: &mut HashMap<String, String>,
        aliases: &mut HashMap<String, String>,
    ) {
        for id in state.key_ids() {
            keys.insert(id, account.to_owned());
        }
        if let Some(alias) = state.account.as_ref().and_then(|a| a.alias.clone()) {
            aliases.insert(alias, account.to_owned());
        }
    }

    /// The account that owns access key `id`.
    pub(crate) fn key_account(&self, id: &str) -> Option<String> {
        self.keys.read().unwrap_or_else(PoisonError::into_inner).get(id).cloned()
    }
}

/// The in-memory [`Store`] of one account.
pub struct MemoryStore {
    account: AccountId,
    registry: Arc<Registry>,
    clock: Arc<dyn Clock>,
    rng: SharedRng,
    state: RwLock<State>,
    /// The snapshot of the last committed write; locked only to clone or swap the `Arc`.
    published: RwLock<Arc<Snapshot>>,
    journal: Option<Box<dyn Journal>>,
    failed: AtomicBool,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore").field("account", &self.account.as_str()).finish_non_exhaustive()
    }
}

impl MemoryStore {
    /// An empty store for `account`, reading the time from `clock` and drawing unique ids from
    /// `rng`.
    pub fn new(account: AccountId, clock: Arc<dyn Clock>, rng: impl CryptoRng + Send + 'static) -> MemoryStore {
        let state = State::new_account(clock.now());
        let registry = Arc::new(Registry::default());
        MemoryStore::assemble(account, registry, clock, share_rng(rng), state, Snapshot::default(), None)
    }

    /// A store over `state`, making each write durable through `journal` when there is one.
    /// Refused when a stored policy document no longer parses.
    pub(crate) fn with_state(
        account: AccountId,
        registry: Arc<Registry>,
        clock: Arc<dyn Clock>,
        rng: SharedRng,
        mut state: State,
        journal: Option<Box<dyn Journal>>,
    ) -> Result<MemoryStore, StoreError> {
        let snapshot = Snapshot::build(&mut state)?;
        registry.register(account.as_str(), &state);
        Ok(MemoryStore::assemble(account, registry, clock, rng, state, snapshot, journal))
    }

    fn assemble(
        account: AccountId,
        registry: Arc<Registry>,
        clock: Arc<dyn Clock>,
        rng: SharedRng,
        state: State,
        snapshot: Snapshot,
        journal: Option<Box<dyn Journal>>,
    ) -> MemoryStore {
        MemoryStore {
            account,
            registry,
            clock,
            rng,
            state: RwLock::new(state),
            published: RwLock::new(Arc::new(snapshot)),
            journal,
            failed: AtomicBool::new(false),
        }
    }

    /// The state's read lock, whatever the store's health (a checkpoint reads it whole).
    pub(crate) fn lock_state_read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The state's write lock, whatever the store's health (a restore replaces it whole).
    pub(crate) fn lock_state_write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// After a restore has replaced the whole state (under [`MemoryStore::lock_state_write`])
    /// and persisted it: publishes its snapshot and clears a past journal failure, since memory
    /// and disk agree again.
    pub(crate) fn publish_restored(&self, snapshot: Snapshot) {
        *self.published.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(snapshot);
        self.failed.store(false, Ordering::SeqCst);
    }

    /// Refuses every further call: the account is no longer part of its directory (a restore
    /// removed it), so a handle still held elsewhere must not write to it.
    pub(crate) fn retire(&self) {
        self.failed.store(true, Ordering::SeqCst);
    }

    fn read(&self) -> Result<RwLockReadGuard<'_, State>, StoreError> {
        // Writes validate before they change anything, so a panic elsewhere never leaves the
        // state half-written: a poisoned lock still guards consistent data.
        let guard = self.state.read().unwrap_or_else(PoisonError::into_inner);
        if self.failed.load(Ordering::SeqCst) {
            return Err(store_failed());
        }
        Ok(guard)
    }

    fn write(&self) -> Result<RwLockWriteGuard<'_, State>, StoreError> {
        let guard = self.state.write().unwrap_or_else(PoisonError::into_inner);
        if self.failed.load(Ordering::SeqCst) {
            return Err(store_failed());
        }
        Ok(guard)
    }

    /// Makes a successful write durable before it is acknowledged.
    fn commit(&self, state: &mut State, touched: &[Touched]) -> Result<(), StoreError> {
        state.generation += 1;
        let current = self.snapshot();
        let next = current.next(state, touched).inspect_err(|_| self.failed.store(true, Ordering::SeqCst))?;
        if let Some(journal) = &self.journal {
            journal.commit(state, touched).inspect_err(|_| self.failed.store(true, Ordering::SeqCst))?;
        }
        *self.published.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(next);
        Ok(())
    }

    fn new_id(&self, kind: UniqueIdKind) -> String {
        let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
        generate_unique_id(kind, &mut **rng)
    }

    fn arn(&self, kind: &str, path: &IamPath, name: &str) -> String {
        format!("arn:aws:iam::{}:{kind}{path}{name}", self.account.as_str())
    }

    /// The key of the customer managed policy `arn` names.
    fn policy_key(&self, state: &State, arn: &str) -> Result<String, StoreError> {
        if castellan_policy::Arn::parse(arn).is_err() {
            return Err(StoreError::invalid(format!("ARN {arn} is not valid.")));
        }
        if aws::get(arn).is_some() {
            return Ok(arn.to_owned());
        }
        let name = arn.rsplit('/').next().unwrap_or_default().to_ascii_lowercase();
        match state.policies.get(&name) {
            Some(rec) if rec.policy.arn == arn => Ok(name),
            _ => Err(StoreError::no_such_policy(arn)),
        }
    }
}

fn is_aws(key: &str) -> bool {
    key.starts_with(aws::ARN_PREFIX)
}

/// AWS managed policies cannot be changed or deleted. AWS answers such calls with an
/// authorization error (`AccessDenied`), which is not the store's to decide; the store refuses
/// with `UnmodifiableEntity`, IAM's code for entities that cannot be modified.
fn unmodifiable(arn: &str) -> StoreError {
    StoreError::new(
        ErrorCode::UnmodifiableEntity,
        format!("Policy {arn} is an AWS managed policy and cannot be modified or deleted."),
    )
}

/// Changes the usage of the policy `key` (customer or AWS managed) by `delta` attachments and
/// boundary uses, returning the record touched.
fn count_use(state: &mut State, key: &str, attachments: isize, boundaries: isize) -> Touched {
    let add = |n: &mut usize, d: isize| *n = n.saturating_add_signed(d);
    if is_aws(key) {
        let usage = state.aws_usage.entry(key.to_owned()).or_default();
        add(&mut usage.attachments, attachments);
        add(&mut usage.boundaries, boundaries);
        if *usage == AwsUsage::default() {
            state.aws_usage.remove(key);
        }
        return Touched::AwsPolicy(key.to_owned());
    }
    if let Some(p) = state.policies.get_mut(key) {
        add(&mut p.policy.attachment_count, attachments);
        add(&mut p.policy.permissions_boundary_usage_count, boundaries);
    }
    Touched::Policy(key.to_owned())
}

/// The record of the AWS managed policy `arn` with this account's counters.
fn aws_record(state: &State, policy: &aws::AwsPolicy) -> ManagedPolicy {
    let usage = state.aws_usage.get(&policy.policy.arn).copied().unwrap_or_default();
    ManagedPolicy {
        attachment_count: usage.attachments,
        permissions_boundary_usage_count: usage.boundaries,
        ..policy.policy.clone()
    }
}

fn document_error(checked: &castellan_policy::Checked) -> Option<StoreError> {
    checked.errors().next().map(|d| {
        let code = match d.code {
            castellan_policy::ErrorCode::LimitExceeded => ErrorCode::LimitExceeded,
            castellan_policy::ErrorCode::ValidationError => ErrorCode::ValidationError,
            _ => ErrorCode::MalformedPolicyDocument,
        };
        StoreError::new(code, d.message.clone())
    })
}

fn check_document(text: &str, kind: PolicyKind) -> Result<(), StoreError> {
    match document_error(&castellan_policy::check(text, kind)) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn check_managed_document(text: &str) -> Result<(), StoreError> {
    check_document(text, PolicyKind::Identity)?;
    if iam_size(text) > MAX_MANAGED_POLICY_SIZE {
        return Err(StoreError::quota("PolicySize", MAX_MANAGED_POLICY_SIZE));
    }
    Ok(())
}

fn check_description(text: Option<&str>) -> Result<(), StoreError> {
    match text {
        Some(d) if d.chars().count() > 1000 => {
            Err(StoreError::validation(d, "description", "have length less than or equal to 1000"))
        }
        _ => Ok(()),
    }
}

fn parse_path(path: Option<&str>) -> Result<IamPath, StoreError> {
    path.map_or_else(|| Ok(IamPath::root()), IamPath::parse)
}

/// The tags after adding `new` to `existing`: keys compared without regard to case, a new value
/// overwriting an old one; the whole request refused if any tag is invalid.
/// Adds `new` tags to `existing`, a new value replacing an old one of the same key: keys compared
/// without regard to case (users and roles) or exactly (every other taggable resource).
fn merge_tags(existing: &[Tag], new: Vec<Tag>) -> Result<Vec<Tag>, StoreError> {
    merge_tags_with(existing, new, |k| k.to_lowercase())
}

fn merge_tags_exact(existing: &[Tag], new: Vec<Tag>) -> Result<Vec<Tag>, StoreError> {
    merge_tags_with(existing, new, str::to_owned)
}

fn merge_tags_with(existing: &[Tag], new: Vec<Tag>, key: impl Fn(&str) -> String) -> Result<Vec<Tag>, StoreError> {
    let mut seen = BTreeSet::new();
    for tag in &new {
        tag.validate()?;
        if !seen.insert(key(&tag.key)) {
            return Err(StoreError::invalid(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
            ));
        }
    }
    let mut merged: Vec<Tag> = existing.iter().filter(|t| !seen.contains(&key(&t.key))).cloned().collect();
    merged.extend(new);
    if merged.len() > Tag::MAX_PER_ENTITY {
        return Err(StoreError::new(ErrorCode::LimitExceeded, "The number of tags has reached the maximum limit."));
    }
    Ok(merged)
}

fn remove_tags(tags: &mut Vec<Tag>, keys: &[String]) {
    let keys: BTreeSet<String> = keys.iter().map(|k| k.to_lowercase()).collect();
    tags.retain(|t| !keys.contains(&t.key.to_lowercase()));
}

fn page_size(page: &PageRequest) -> Result<usize, StoreError> {
    let max = page.max_items.unwrap_or(DEFAULT_MAX_ITEMS);
    if max == 0 {
        return Err(StoreError::validation(&max.to_string(), "maxItems", "have value greater than or equal to 1"));
    }
    if max > 1000 {
        return Err(StoreError::validation(&max.to_string(), "maxItems", "have value less than or equal to 1000"));
    }
    Ok(usize::try_from(max).unwrap_or(1000))
}

/// One page of `items` (sorted by key). The marker is the key of the first item not returned.
fn paginate<'a, T: Clone + 'a>(
    items: impl Iterator<Item = (&'a String, &'a T)>,
    page: &PageRequest,
) -> Result<Page<T>, StoreError> {
    let max = page_size(page)?;
    if let Some(m) = &page.marker {
        if m.is_empty() {
            return Err(StoreError::validation(m, "marker", "have length greater than or equal to 1"));
        }
        if m.chars().count() > 320 {
            return Err(StoreError::validation(m, "marker", "have length less than or equal to 320"));
        }
    }
    let mut out = Vec::new();
    let mut next = None;
    for (key, item) in items.filter(|(k, _)| page.marker.as_ref().is_none_or(|m| k.as_str() >= m.as_str())) {
        if out.len() == max {
            next = Some(key.clone());
            break;
        }
        out.push(item.clone());
    }
    Ok(Page { items: out, is_truncated: next.is_some(), marker: next })
}

fn prefix_filter(prefix: Option<&str>) -> Result<impl Fn(&IamPath) -> bool + '_, StoreError> {
    if let Some(p) = prefix {
        check_path_prefix(p)?;
    }
    Ok(move |path: &IamPath| prefix.is_none_or(|p| path.as_str().starts_with(p)))
}

/// Which quotas and messages apply to an entity's policies.
struct EntityRules {
    kind: &'static str,
    attached_quota: &'static str,
    inline_quota: &'static str,
    inline_limit: usize,
}

fn rules(entity: Entity<'_>) -> EntityRules {
    match entity {
        Entity::User(_) => EntityRules {
            kind: "user",
            attached_quota: "PoliciesPerUser",
            inline_quota: "UserPolicySize",
            inline_limit: MAX_USER_INLINE_SIZE,
        },
        Entity::Group(_) => EntityRules {
            kind: "group",
            attached_quota: "PoliciesPerGroup",
            inline_quota: "GroupPolicySize",
            inline_limit: MAX_GROUP_INLINE_SIZE,
        },
        Entity::Role(_) => EntityRules {
            kind: "role",
            attached_quota: "PoliciesPerRole",
            inline_quota: "RolePolicySize",
            inline_limit: MAX_ROLE_INLINE_SIZE,
        },
    }
}

fn entity_policies<'s>(state: &'s State, entity: Entity<'_>) -> Result<&'s Policies, StoreError> {
    let found = match entity {
        Entity::User(n) => state.users.get(&UserName::parse(n)?.key()).map(|r| &r.policies),
        Entity::Group(n) => state.groups.get(&GroupName::parse(n)?.key()).map(|r| &r.policies),
        Entity::Role(n) => state.roles.get(&RoleName::parse(n)?.key()).map(|r| &r.policies),
    };
    let (Entity::User(name) | Entity::Group(name) | Entity::Role(name)) = entity;
    found.ok_or_else(|| StoreError::no_such(rules(entity).kind, name))
}

fn entity_policies_mut<'s>(state: &'s mut State, entity: Entity<'_>) -> Result<&'s mut Policies, StoreError> {
    let found = match entity {
        Entity::User(n) => state.users.get_mut(&UserName::parse(n)?.key()).map(|r| &mut r.policies),
        Entity::Group(n) => state.groups.get_mut(&GroupName::parse(n)?.key()).map(|r| &mut r.policies),
        Entity::Role(n) => state.roles.get_mut(&RoleName::parse(n)?.key()).map(|r| &mut r.policies),
    };
    let (Entity::User(name) | Entity::Group(name) | Entity::Role(name)) = entity;
    found.ok_or_else(|| StoreError::no_such(rules(entity).kind, name))
}

fn entity_touched(entity: Entity<'_>) -> Result<Touched, StoreError> {
    Ok(match entity {
        Entity::User(n) => Touched::User(UserName::parse(n)?.key()),
        Entity::Group(n) => Touched::Group(GroupName::parse(n)?.key()),
        Entity::Role(n) => Touched::Role(RoleName::parse(n)?.key()),
    })
}

/// The roles whose trust policy names the entity with unique id `id`: deleting that entity
/// changes what their trust policy means, so their snapshot entries are rebuilt.
fn trusting_roles(state: &State, id: &str) -> Vec<Touched> {
    state.roles.iter().filter(|(_, r)| trust::names_id(r, id)).map(|(k, _)| Touched::Role(k.clone())).collect()
}

fn no_such_version(arn: &str, version_id: &str) -> StoreError {
    StoreError::new(
        ErrorCode::NoSuchEntity,
        format!("Policy {arn} version {version_id} does not exist or is not attachable."),
    )
}

/// The key of `owner` in MFA assignments: `""` for the root user, else the user's key.
fn owner_key(owner: Owner<'_>) -> Result<String, StoreError> {
    match owner {
        Owner::Root => Ok(String::new()),
        Owner::User(name) => Ok(UserName::parse(name)?.key()),
    }
}

fn owner_touched(key: &str) -> Touched {
    if key.is_empty() { Touched::Account } else { Touched::User(key.to_owned()) }
}

/// The owner named by an owner key, in results.
fn owner_name(state: &State, key: &str) -> OwnerName {
    match state.users.get(key) {
        Some(rec) if !key.is_empty() => OwnerName::User(rec.user.name.to_string()),
        _ => OwnerName::Root,
    }
}

fn credentials<'s>(state: &'s State, key: &str, name: &str) -> Result<&'s Credentials, StoreError> {
    if key.is_empty() {
        return state.account.as_ref().map(|a| &a.root).ok_or_else(|| StoreError::no_such("account", name));
    }
    state.users.get(key).map(|u| &u.credentials).ok_or_else(|| StoreError::no_such("user", name))
}

fn credentials_mut<'s>(state: &'s mut State, key: &str, name: &str) -> Result<&'s mut Credentials, StoreError> {
    if key.is_empty() {
        return state.account.as_mut().map(|a| &mut a.root).ok_or_else(|| StoreError::no_such("account", name));
    }
    state.users.get_mut(key).map(|u| &mut u.credentials).ok_or_else(|| StoreError::no_such("user", name))
}

fn owner_label(owner: Owner<'_>) -> &str {
    match owner {
        Owner::Root => "root",
        Owner::User(name) => name,
    }
}

fn no_such_key(id: &str) -> StoreError {
    StoreError::new(ErrorCode::NoSuchEntity, format!("The Access Key with id {id} cannot be found."))
}

fn no_such_mfa(serial: &str) -> StoreError {
    StoreError::new(ErrorCode::NoSuchEntity, format!("MFA Device with serial number {serial} does not exist."))
}

fn no_login_profile(owner: Owner<'_>) -> StoreError {
    StoreError::new(ErrorCode::NoSuchEntity, format!("Login Profile for User {} cannot be found.", owner_label(owner)))
}

impl MemoryStore {
    fn virtual_device(state: &State, rec: &StoredMfa) -> Result<VirtualMfaDevice, StoreError> {
        Ok(VirtualMfaDevice {
            device: rec.device()?,
            owner: rec.owner.as_deref().map(|k| owner_name(state, k)),
            tags: rec.tags.clone(),
        })
    }

    /// Checks that `serial` is the ARN of a virtual MFA device of this account and returns its
    /// key.
    fn mfa_key(&self, serial: &str) -> Result<String, StoreError> {
        let prefix = format!("arn:aws:iam::{}:mfa/", self.account.as_str());
        let rest = serial.strip_prefix(&prefix).ok_or_else(|| {
            StoreError::invalid(format!("The serial number {serial} is not a virtual MFA device ARN of this account."))
        })?;
        let (path, name) = match rest.rfind('/') {
            Some(i) => (rest.get(..=i).map(|p| format!("/{p}")), rest.get(i + 1..).unwrap_or_default()),
            None => (None, rest),
        };
        parse_path(path.as_deref())?;
        let valid =
            (1..=226).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
        if !valid {
            return Err(StoreError::validation(
                name,
                "virtualMFADeviceName",
                "satisfy regular expression pattern: [\\w+=,.@-]+",
            ));
        }
        Ok(serial.to_ascii_lowercase())
    }
}

/// Checks `MaxSessionDuration`: 3,600–43,200 seconds.
fn check_max_session_duration(seconds: u32) -> Result<(), StoreError> {
    if (3600..=43200).contains(&seconds) {
        return Ok(());
    }
    let (bound, constraint) =
        if seconds < 3600 { (3600, "greater than or equal to") } else { (43200, "less than or equal to") };
    Err(StoreError::validation(&seconds.to_string(), "maxSessionDuration", &format!("have value {constraint} {bound}")))
}

/// A name error reported under another parameter's name.
fn rename_field(error: StoreError, from: &str, to: &str) -> StoreError {
    StoreError::new(error.code(), error.message().replace(from, to))
}

/// After a user or role is renamed, the trust policies that named its old ARN name the new one
/// (IAM keeps principals by unique id, so they follow the entity).
fn rename_in_trust_policies(state: &mut State, old_arn: &str, new_arn: &str) -> Vec<Touched> {
    let mut touched = Vec::new();
    for (key, rec) in &mut state.roles {
        if let Some(id) = rec.trust_ids.remove(old_arn) {
            let doc = &mut rec.role.assume_role_policy_document;
            *doc = doc.replace(&format!("\"{old_arn}\""), &format!("\"{new_arn}\""));
            rec.trust_ids.insert(new_arn.to_owned(), id);
            touched.push(Touched::Role(key.clone()));
        }
    }
    touched
}

impl MemoryStore {
    /// Applies `change` to the OIDC provider `arn` and commits it, or changes nothing.
    fn change_oidc(
        &self,
        arn: &str,
        change: impl FnOnce(&mut OidcProvider) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut state = self.write()?;
        let current = state.oidc.get(arn).ok_or_else(|| no_such_provider(arn))?;
        let mut next = current.clone();
        change(&mut next)?;
        state.oidc.insert(arn.to_owned(), next);
        self.commit(&mut state, &[Touched::Oidc(arn.to_owned())])
    }

    /// Replaces the tags of `resource` with what `change` makes of them, and commits.
    fn change_tags(
        &self,
        resource: Taggable<'_>,
        change: impl FnOnce(&[Tag]) -> Result<Vec<Tag>, StoreError>,
    ) -> Result<(), StoreError> {
        let mut state = self.write()?;
        let (tags, touched) = resource_tags_mut(&mut state, resource, self)?;
        *tags = change(tags)?;
        self.commit(&mut state, &[touched])
    }
}

/// The tags of `resource` and the record they live in.
fn resource_tags_mut<'s>(
    state: &'s mut State,
    resource: Taggable<'_>,
    store: &MemoryStore,
) -> Result<(&'s mut Vec<Tag>, Touched), StoreError> {
    match resource {
        Taggable::Policy(arn) => {
            if aws::get(arn).is_some() {
                return Err(unmodifiable(arn));
            }
            let key = store.policy_key(state, arn)?;
            let rec = state.policies.get_mut(&key).ok_or_else(|| StoreError::no_such_policy(arn))?;
            Ok((&mut rec.policy.tags, Touched::Policy(key)))
        }
        Taggable::InstanceProfile(name) => {
            let key = name.to_ascii_lowercase();
            let rec =
                state.instance_profiles.get_mut(&key).ok_or_else(|| StoreError::no_such("instance profile", name))?;
            Ok((&mut rec.profile.tags, Touched::InstanceProfile(key)))
        }
        Taggable::MfaDevice(serial) => {
            let key = serial.to_ascii_lowercase();
            let rec = state.mfa.get_mut(&key).ok_or_else(|| no_such_mfa(serial))?;
            Ok((&mut rec.tags, Touched::Mfa(key)))
        }
        Taggable::OidcProvider(arn) => {
            let rec = state.oidc.get_mut(arn).ok_or_else(|| no_such_provider(arn))?;
            Ok((&mut rec.tags, Touched::Oidc(arn.to_owned())))
        }
        Taggable::SamlProvider(arn) => {
            let rec = state.saml.get_mut(arn).ok_or_else(|| no_such_provider(arn))?;
            Ok((&mut rec.tags, Touched::Saml(arn.to_owned())))
        }
    }
}

impl Store for MemoryStore {
    fn account_id(&self) -> &str {
        self.account.as_str()
    }

    fn snapshot(&self) -> Arc<Snapshot> {
        Arc::clone(&self.published.read().unwrap_or_else(PoisonError::into_inner))
    }

    fn create_user(&self, new: NewUser) -> Result<User, StoreError> {
        let name = UserName::parse(&new.name)?;
        let path = parse_path(new.path.as_deref())?;
        let tags = merge_tags(&[], new.tags)?;
        let mut state = self.write()?;
        if state.users.contains_key(&name.key()) {
            return Err(StoreError::already_exists("User", name.as_str()));
        }
        if state.users.len() >= MAX_USERS {
            return Err(StoreError::quota("UsersPerAccount", MAX_USERS));
        }
        let boundary = match &new.permissions_boundary {
            Some(arn) => Some(self.policy_key(&state, arn)?),
            None => None,
        };
        let user = User {
            arn: self.arn("user", &path, name.as_str()),
            user_id: self.new_id(UniqueIdKind::User),
            create_date: self.clock.now(),
            name,
            path,
            tags,
            permissions_boundary: new.permissions_boundary,
        };
        let mut touched = vec![Touched::User(user.name.key())];
        touched.extend(boundary.as_deref().map(|k| count_use(&mut state, k, 0, 1)));
        state.users.insert(
            user.name.key(),
            UserRec {
                user: user.clone(),
                groups: BTreeSet::new(),
                policies: Policies::default(),
                credentials: Credentials::default(),
                boundary,
            },
        );
        self.commit(&mut state, &touched)?;
        Ok(user)
    }

    fn user(&self, name: &str) -> Result<User, StoreError> {
        let key = UserName::parse(name)?.key();
        self.read()?.users.get(&key).map(|r| r.user.clone()).ok_or_else(|| StoreError::no_such("user", name))
    }

    fn list_users(&self, path_prefix: Option<&str>, page: &PageRequest) -> Result<Page<User>, StoreError> {
        let keep = prefix_filter(path_prefix)?;
        let state = self.read()?;
        paginate(state.users.iter().map(|(k, r)| (k, &r.user)).filter(|(_, u)| keep(&u.path)), page)
    }

    fn delete_user(&self, name: &str) -> Result<(), StoreError> {
        let key = UserName::parse(name)?.key();
        let mut state = self.write()?;
        let rec = state.users.get(&key).ok_or_else(|| StoreError::no_such("user", name))?;
        if !rec.groups.is_empty() {
            return Err(StoreError::conflict("Cannot delete entity, must remove user from all groups first."));
        }
        if !rec.policies.attached.is_empty() {
            return Err(StoreError::conflict("Cannot delete entity, must detach all policies first."));
        }
        if !rec.policies.inline.is_empty() {
            return Err(StoreError::conflict("Cannot delete entity, must delete policies first."));
        }
        if rec.credentials.login_profile.is_some() {
            return Err(StoreError::conflict("Cannot delete entity, must delete login profile first."));
        }
        if !rec.credentials.access_keys.is_empty() {
            return Err(StoreError::conflict("Cannot delete entity, must delete access keys first."));
        }
        if !rec.credentials.mfa.is_empty() {
            return Err(StoreError::conflict("Cannot delete entity, must delete MFA device first."));
        }
        let mut touched = vec![Touched::User(key.clone())];
        if let Some(rec) = state.users.remove(&key) {
            touched.extend(trusting_roles(&state, &rec.user.user_id));
            touched.extend(rec.boundary.as_deref().map(|k| count_use(&mut state, k, 0, -1)));
        }
        self.commit(&mut state, &touched)
    }

    fn tag_user(&self, name: &str, tags: Vec<Tag>) -> Result<(), StoreError> {
        let key = UserName::parse(name)?.key();
        let mut state = self.write()?;
        let rec = state.users.get_mut(&key).ok_or_else(|| StoreError::no_such("user", name))?;
        rec.user.tags = merge_tags(&rec.user.tags, tags)?;
        self.commit(&mut state, &[Touched::User(key)])
    }

    fn untag_user(&self, name: &str, keys: &[String]) -> Result<(), StoreError> {
        let key = UserName::parse(name)?.key();
        let mut state = self.write()?;
        let rec = state.users.get_mut(&key).ok_or_else(|| StoreError::no_such("user", name))?;
        remove_tags(&mut rec.user.tags, keys);
        self.commit(&mut state, &[Touched::User(key)])
    }

    fn create_group(&self, name: &str, path: Option<&str>) -> Result<Group, StoreError> {
        let name = GroupName::parse(name)?;
        let path = parse_path(path)?;
        let mut state = self.write()?;
        if state.groups.contains_key(&name.key()) {
            return Err(StoreError::already_exists("Group", name.as_str()));
        }
        if state.groups.len() >= MAX_GROUPS {
            return Err(StoreError::quota("GroupsPerAccount", MAX_GROUPS));
        }
        let group = Group {
            arn: self.arn("group", &path, name.as_str()),
            group_id: self.new_id(UniqueIdKind::Group),
            create_date: self.clock.now(),
            name,
            path,
        };
        state.groups.insert(
            group.name.key(),
            GroupRec { group: group.clone(), members: BTreeSet::new(), policies: Policies::default() },
        );
        self.commit(&mut state, &[Touched::Group(group.name.key())])?;
        Ok(group)
    }

    fn group(&self, name: &str) -> Result<(Group, Vec<User>), StoreError> {
        let key = GroupName::parse(name)?.key();
        let state = self.read()?;
        let rec = state.groups.get(&key).ok_or_else(|| StoreError::no_such("group", name))?;
        let members = rec.members.iter().filter_map(|m| state.users.get(m)).map(|u| u.user.clone()).collect();
        Ok((rec.group.clone(), members))
    }

    fn list_groups(&self, path_prefix: Option<&str>, page: &PageRequest) -> Result<Page<Group>, StoreError> {
        let keep = prefix_filter(path_prefix)?;
        let state = self.read()?;
        paginate(state.groups.iter().map(|(k, r)| (k, &r.group)).filter(|(_, g)| keep(&g.path)), page)
    }

    fn delete_group(&self, name: &str) -> Result<(), StoreError> {
        let key = GroupName::parse(name)?.key();
        let mut state = self.write()?;
        let rec = state.groups.get(&key).ok_or_else(|| StoreError::no_such("group", name))?;
        if !rec.members.is_empty() {
            return Err(StoreError::conflict("Cannot delete entity, must remove users from group first."));
        }
        if !rec.policies.is_empty() {
            return Err(StoreError::conflict("Cannot delete entity, must delete policies first."));
        }
        state.groups.remove(&key);
        self.commit(&mut state, &[Touched::Group(key)])
    }

    fn add_user_to_group(&self, group: &str, user: &str) -> Result<(), StoreError> {
        let group_key = GroupName::parse(group)?.key();
        let user_key = UserName::parse(user)?.key();
        let mut state = self.write()?;
        if !state.groups.contains_key(&group_key) {
            return Err(StoreError::no_such("group", group));
        }
        let urec = state.users.get_mut(&user_key).ok_or_else(|| StoreError::no_such("user", user))?;
        if urec.groups.contains(&group_key) {
            return Ok(());
        }
        if urec.groups.len() >= MAX_GROUPS_PER_USER {
            return Err(StoreError::quota("GroupsPerUser", MAX_GROUPS_PER_USER));
        }
        urec.groups.insert(group_key.clone());
        if let Some(g) = state.groups.get_mut(&group_key) {
            g.members.insert(user_key.clone());
        }
        self.commit(&mut state, &[Touched::User(user_key), Touched::Group(group_key)])
    }

    fn remove_user_from_group(&self, group: &str, user: &str) -> Result<(), StoreError> {
        let group_key = GroupName::parse(group)?.key();
        let user_key = UserName::parse(user)?.key();
        let mut state = self.write()?;
        if !state.groups.contains_key(&group_key) {
            return Err(StoreError::no_such("group", group));
        }
        let urec = state.users.get_mut(&user_key).ok_or_else(|| StoreError::no_such("user", user))?;
        if !urec.groups.remove(&group_key) {
            return Err(StoreError::new(
                ErrorCode::NoSuchEntity,
                format!("The user with name {user} is not in group {group}."),
            ));
        }
        if let Some(g) = state.groups.get_mut(&group_key) {
            g.members.remove(&user_key);
        }
        self.commit(&mut state, &[Touched::User(user_key), Touched::Group(group_key)])
    }

    fn list_groups_for_user(&self, user: &str, page: &PageRequest) -> Result<Page<Group>, StoreError> {
        let user_key = UserName::parse(user)?.key();
        let state = self.read()?;
        let urec = state.users.get(&user_key).ok_or_else(|| StoreError::no_such("user", user))?;
        paginate(urec.groups.iter().filter_map(|k| state.groups.get(k).map(|g| (k, &g.group))), page)
    }

    fn create_role(&self, new: NewRole) -> Result<Role, StoreError> {
        let name = RoleName::parse(&new.name)?;
        let path = parse_path(new.path.as_deref())?;
        check_description(new.description.as_deref())?;
        let max_session_duration = new.max_session_duration.unwrap_or(3600);
        check_max_session_duration(max_session_duration)?;
        check_document(&new.assume_role_policy_document, PolicyKind::Trust)?;
        let tags = merge_tags(&[], new.tags)?;
        let mut state = self.write()?;
        if state.roles.contains_key(&name.key()) {
            return Err(StoreError::already_exists("Role", name.as_str()));
        }
        if state.roles.len() >= MAX_ROLES {
            return Err(StoreError::quota("RolesPerAccount", MAX_ROLES));
        }
        let trust_ids = trust::resolve(&state, self.account_id(), &new.assume_role_policy_document)?;
        let boundary = match &new.permissions_boundary {
            Some(arn) => Some(self.policy_key(&state, arn)?),
            None => None,
        };
        let role = Role {
            arn: self.arn("role", &path, name.as_str()),
            role_id: self.new_id(UniqueIdKind::Role),
            assume_role_policy_document: new.assume_role_policy_document,
            description: new.description,
            max_session_duration,
            permissions_boundary: new.permissions_boundary,
            create_date: self.clock.now(),
            name,
            path,
            tags,
        };
        let mut touched = vec![Touched::Role(role.name.key())];
        touched.extend(boundary.as_deref().map(|k| count_use(&mut state, k, 0, 1)));
        let rec = RoleRec { role, boundary, policies: Policies::default(), trust_ids };
        let shown = trust::shown(&state, &rec)?;
        state.roles.insert(rec.role.name.key(), rec);
        self.commit(&mut state, &touched)?;
        Ok(shown)
    }

    fn role(&self, name: &str) -> Result<Role, StoreError> {
        let key = RoleName::parse(name)?.key();
        let state = self.read()?;
        let rec = state.roles.get(&key).ok_or_else(|| StoreError::no_such("role", name))?;
        trust::shown(&state, rec)
    }

    fn list_roles(&self, path_prefix: Option<&str>, page: &PageRequest) -> Result<Page<Role>, StoreError> {
        let keep = prefix_filter(path_prefix)?;
        let state = self.read()?;
        let mut listed = paginate(state.roles.iter().map(|(k, r)| (k, &r.role)).filter(|(_, r)| keep(&r.path)), page)?;
        for role in &mut listed.items {
            if let Some(rec) = state.roles.get(&role.name.key()) {
                *role = trust::shown(&state, rec)?;
            }
        }
        Ok(listed)
    }

    fn update_assume_role_policy(&self, name: &str, document: &str) -> Result<(), StoreError> {
        let key = RoleName::parse(name)?.key();
        check_document(document, PolicyKind::Trust)?;
        let mut state = self.write()?;
        if !state.roles.contains_key(&key) {
            return Err(StoreError::no_such("role", name));
        }
        let trust_ids = trust::resolve(&state, self.account_id(), document)?;
        if let Some(rec) = state.roles.get_mut(&key) {
            rec.role.assume_role_policy_document = document.to_owned();
            rec.trust_ids = trust_ids;
        }
        self.commit(&mut state, &[Touched::Role(key)])
    }

    fn delete_role(&self, name: &str) -> Result<(), StoreError> {
        let key = RoleName::parse(name)?.key();
        let mut state = self.write()?;
        let rec = state.roles.get(&key).ok_or_else(|| StoreError::no_such("role", name))?;
        if !rec.policies.attached.is_empty() {
            return Err(StoreError::conflict("Cannot delete entity, must detach all policies first."));
        }
        if !rec.policies.inline.is_empty() {
            return Err(StoreError::conflict("Cannot delete entity, must delete policies first."));
        }
        if state.instance_profiles.values().any(|p| p.role.as_deref() == Some(key.as_str())) {
            return Err(StoreError::conflict("Cannot delete entity, must remove roles from instance profile first."));
        }
        let removed = state.roles.remove(&key);
        let mut touched = vec![Touched::Role(key)];
        if let Some(rec) = &removed {
            touched.extend(trusting_roles(&state, &rec.role.role_id));
        }
        let boundary = removed.and_then(|rec| rec.boundary);
        touched.extend(boundary.as_deref().map(|k| count_use(&mut state, k, 0, -1)));
        self.commit(&mut state, &touched)
    }

    fn tag_role(&self, name: &str, tags: Vec<Tag>) -> Result<(), StoreError> {
        let key = RoleName::parse(name)?.key();
        let mut state = self.write()?;
        let rec = state.roles.get_mut(&key).ok_or_else(|| StoreError::no_such("role", name))?;
        rec.role.tags = merge_tags(&rec.role.tags, tags)?;
        self.commit(&mut state, &[Touched::Role(key)])
    }

    fn untag_role(&self, name: &str, keys: &[String]) -> Result<(), StoreError> {
        let key = RoleName::parse(name)?.key();
        let mut state = self.write()?;
        let rec = state.roles.get_mut(&key).ok_or_else(|| StoreError::no_such("role", name))?;
        remove_tags(&mut rec.role.tags, keys);
        self.commit(&mut state, &[Touched::Role(key)])
    }

    fn create_policy(&self, new: NewPolicy) -> Result<ManagedPolicy, StoreError> {
        let name = PolicyName::parse(&new.name)?;
        let path = new.path.as_deref().map_or_else(|| Ok(IamPath::root()), IamPath::parse_policy)?;
        check_description(new.description.as_deref())?;
        check_managed_document(&new.document)?;
        let tags = merge_tags_exact(&[], new.tags)?;
        let mut state = self.write()?;
        if state.policies.contains_key(&name.key()) {
            return Err(StoreError::new(
                ErrorCode::EntityAlreadyExists,
                format!("A policy called {name} already exists. Duplicate names are not allowed."),
            ));
        }
        if state.policies.len() >= MAX_POLICIES {
            return Err(StoreError::quota("PoliciesPerAccount", MAX_POLICIES));
        }
        let now = self.clock.now();
        let policy = ManagedPolicy {
            arn: self.arn("policy", &path, name.as_str()),
            policy_id: self.new_id(UniqueIdKind::ManagedPolicy),
            description: new.description,
            default_version_id: "v1".to_owned(),
            attachment_count: 0,
            permissions_boundary_usage_count: 0,
            create_date: now,
            update_date: now,
            name,
            path,
            tags,
        };
        let v1 =
            PolicyVersion { version_id: "v1".to_owned(), document: new.document, is_default: true, create_date: now };
        state
            .policies
            .insert(policy.name.key(), PolicyRec { policy: policy.clone(), versions: vec![v1], next_version: 2 });
        self.commit(&mut state, &[Touched::Policy(policy.name.key())])?;
        Ok(policy)
    }

    fn policy(&self, arn: &str) -> Result<ManagedPolicy, StoreError> {
        let state = self.read()?;
        let key = self.policy_key(&state, arn)?;
        if let Some(p) = aws::get(&key) {
            return Ok(aws_record(&state, p));
        }
        state.policies.get(&key).map(|p| p.policy.clone()).ok_or_else(|| StoreError::no_such_policy(arn))
    }

    fn list_policies(&self, path_prefix: Option<&str>, page: &PageRequest) -> Result<Page<ManagedPolicy>, StoreError> {
        self.list_policies_in_scope(PolicyScope::Local, path_prefix, page)
    }

    fn list_policies_in_scope(
        &self,
        scope: PolicyScope,
        path_prefix: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<ManagedPolicy>, StoreError> {
        let keep = prefix_filter(path_prefix)?;
        let state = self.read()?;
        let local = state.policies.iter().map(|(k, r)| (k.clone(), r.policy.clone()));
        let managed = aws::catalogue().values().map(|p| (p.policy.name.key(), aws_record(&state, p)));
        // Keys sort by lowercase name; in `All`, a suffix orders an AWS and a customer policy of
        // the same name (AWS first) so that markers stay unique.
        let mut items: Vec<(String, ManagedPolicy)> = match scope {
            PolicyScope::Local => local.collect(),
            PolicyScope::Aws => managed.collect(),
            PolicyScope::All => managed
                .map(|(k, p)| (format!("{k} aws"), p))
                .chain(local.map(|(k, p)| (format!("{k} local"), p)))
                .collect(),
        };
        items.retain(|(_, p)| keep(&p.path));
        items.sort_by(|a, b| a.0.cmp(&b.0));
        paginate(items.iter().map(|(k, p)| (k, p)), page)
    }

    fn delete_policy(&self, arn: &str) -> Result<(), StoreError> {
        let mut state = self.write()?;
        let key = self.policy_key(&state, arn)?;
        if is_aws(&key) {
            return Err(unmodifiable(arn));
        }
        let rec = state.policies.get(&key).ok_or_else(|| StoreError::no_such_policy(arn))?;
        if rec.policy.attachment_count > 0 || rec.policy.permissions_boundary_usage_count > 0 {
            return Err(StoreError::conflict("Cannot delete a policy attached to entities."));
        }
        if rec.versions.len() > 1 {
            return Err(StoreError::conflict(
                "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.",
            ));
        }
        state.policies.remove(&key);
        self.commit(&mut state, &[Touched::Policy(key)])
    }

    fn create_policy_version(
        &self,
        arn: &str,
        document: &str,
        set_as_default: bool,
    ) -> Result<PolicyVersion, StoreError> {
        let mut state = self.write()?;
        let key = self.policy_key(&state, arn)?;
        if is_aws(&key) {
            return Err(unmodifiable(arn));
        }
        check_managed_document(document)?;
        let rec = state.policies.get_mut(&key).ok_or_else(|| StoreError::no_such_policy(arn))?;
        if rec.versions.len() >= MAX_POLICY_VERSIONS {
            return Err(StoreError::new(
                ErrorCode::LimitExceeded,
                "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.",
            ));
        }
        let now = self.clock.now();
        let version = PolicyVersion {
            version_id: format!("v{}", rec.next_version),
            document: document.to_owned(),
            is_default: set_as_default,
            create_date: now,
        };
        rec.next_version += 1;
        if set_as_default {
            rec.versions.iter_mut().for_each(|v| v.is_default = false);
            rec.policy.default_version_id.clone_from(&version.version_id);
        }
        rec.policy.update_date = now;
        rec.versions.push(version.clone());
        self.commit(&mut state, &[Touched::Policy(key)])?;
        Ok(version)
    }

    fn policy_version(&self, arn: &str, version_id: &str) -> Result<PolicyVersion, StoreError> {
        let state = self.read()?;
        let key = self.policy_key(&state, arn)?;
        if let Some(p) = aws::get(&key) {
            let version = p.version();
            return if version.version_id == version_id { Ok(version) } else { Err(no_such_version(arn, version_id)) };
        }
        state
            .policies
            .get(&key)
            .and_then(|p| p.versions.iter().find(|v| v.version_id == version_id))
            .cloned()
            .ok_or_else(|| no_such_version(arn, version_id))
    }

    fn list_policy_versions(&self, arn: &str) -> Result<Vec<PolicyVersion>, StoreError> {
        let state = self.read()?;
        let key = self.policy_key(&state, arn)?;
        if let Some(p) = aws::get(&key) {
            return Ok(vec![p.version()]);
        }
        Ok(state.policies.get(&key).map(|p| p.versions.iter().rev().cloned().collect()).unwrap_or_default())
    }

    fn set_default_policy_version(&self, arn: &str, version_id: &str) -> Result<(), StoreError> {
        let mut state = self.write()?;
        let key = self.policy_key(&state, arn)?;
        if is_aws(&key) {
            return Err(unmodifiable(arn));
        }
        let now = self.clock.now();
        let rec = state.policies.get_mut(&key).ok_or_else(|| StoreError::no_such_policy(arn))?;
        if !rec.versions.iter().any(|v| v.version_id == version_id) {
            return Err(no_such_version(arn, version_id));
        }
        rec.versions.iter_mut().for_each(|v| v.is_default = v.version_id == version_id);
        rec.policy.default_version_id = version_id.to_owned();
        rec.policy.update_date = now;
        self.commit(&mut state, &[Touched::Policy(key)])
    }

    fn delete_policy_version(&self, arn: &str, version_id: &str) -> Result<(), StoreError> {
        let mut state = self.write()?;
        let key = self.policy_key(&state, arn)?;
        if is_aws(&key) {
            return Err(unmodifiable(arn));
        }
        let rec = state.policies.get_mut(&key).ok_or_else(|| StoreError::no_such_policy(arn))?;
        let index = rec
            .versions
            .iter()
            .position(|v| v.version_id == version_id)
            .ok_or_else(|| no_such_version(arn, version_id))?;
        if rec.policy.default_version_id == version_id {
            return Err(StoreError::conflict("Cannot delete the default version of a policy."));
        }
        rec.versions.remove(index);
        self.commit(&mut state, &[Touched::Policy(key)])
    }

    fn attach_policy(&self, entity: Entity<'_>, arn: &str) -> Result<(), StoreError> {
        let mut state = self.write()?;
        let key = self.policy_key(&state, arn)?;
        let rules = rules(entity);
        let policies = entity_policies_mut(&mut state, entity)?;
        if policies.attached.contains(&key) {
            return Ok(());
        }
        if policies.attached.len() >= MAX_ATTACHED_POLICIES {
            return Err(StoreError::quota(rules.attached_quota, MAX_ATTACHED_POLICIES));
        }
        policies.attached.push(key.clone());
        let policy = count_use(&mut state, &key, 1, 0);
        self.commit(&mut state, &[entity_touched(entity)?, policy])
    }

    fn detach_policy(&self, entity: Entity<'_>, arn: &str) -> Result<(), StoreError> {
        let mut state = self.write()?;
        let key = self.policy_key(&state, arn)?;
        let policies = entity_policies_mut(&mut state, entity)?;
        let Some(index) = policies.attached.iter().position(|k| *k == key) else {
            return Err(StoreError::new(ErrorCode::NoSuchEntity, format!("Policy {arn} was not found.")));
        };
        policies.attached.remove(index);
        let policy = count_use(&mut state, &key, -1, 0);
        self.commit(&mut state, &[entity_touched(entity)?, policy])
    }

    fn list_attached_policies(&self, entity: Entity<'_>) -> Result<Vec<AttachedPolicy>, StoreError> {
        let state = self.read()?;
        let policies = entity_policies(&state, entity)?;
        Ok(policies
            .attached
            .iter()
            .filter_map(|k| state.policies.get(k).map(|p| &p.policy).or_else(|| aws::get(k).map(|p| &p.policy)))
            .map(|p| AttachedPolicy { name: p.name.to_string(), arn: p.arn.clone() })
            .collect())
    }

    fn put_inline_policy(&self, entity: Entity<'_>, name: &str, document: &str) -> Result<(), StoreError> {
        let name = PolicyName::parse(name)?;
        check_document(document, PolicyKind::Identity)?;
        let rules = rules(entity);
        let mut state = self.write()?;
        let policies = entity_policies_mut(&mut state, entity)?;
        let others: usize = policies.inline.values().filter(|p| p.name != name).map(|p| iam_size(&p.document)).sum();
        if others + iam_size(document) > rules.inline_limit {
            return Err(StoreError::quota(rules.inline_quota, rules.inline_limit));
        }
        policies.inline.insert(name.to_string(), InlinePolicy { name, document: document.to_owned() });
        self.commit(&mut state, &[entity_touched(entity)?])
    }

    fn inline_policy(&self, entity: Entity<'_>, name: &str) -> Result<InlinePolicy, StoreError> {
        let state = self.read()?;
        let policies = entity_policies(&state, entity)?;
        policies
            .inline
            .get(name)
            .cloned()
            .ok_or_else(|| StoreError::no_such(&format!("{} policy", rules(entity).kind), name))
    }

    fn list_inline_policies(&self, entity: Entity<'_>) -> Result<Vec<String>, StoreError> {
        let state = self.read()?;
        Ok(entity_policies(&state, entity)?.inline.keys().cloned().collect())
    }

    fn delete_inline_policy(&self, entity: Entity<'_>, name: &str) -> Result<(), StoreError> {
        let mut state = self.write()?;
        let policies = entity_policies_mut(&mut state, entity)?;
        if policies.inline.remove(name).is_none() {
            return Err(StoreError::no_such(&format!("{} policy", rules(entity).kind), name));
        }
        self.commit(&mut state, &[entity_touched(entity)?])
    }
    fn update_user(&self, name: &str, new_name: Option<&str>, new_path: Option<&str>) -> Result<User, StoreError> {
        let key = UserName::parse(name)?.key();
        let new_name = new_name.map(UserName::parse).transpose()?;
        let new_path = new_path.map(|p| parse_path(Some(p))).transpose()?;
        let mut state = self.write()?;
        let rec = state.users.get(&key).ok_or_else(|| StoreError::no_such("user", name))?;
        let name = new_name.unwrap_or_else(|| rec.user.name.clone());
        let path = new_path.unwrap_or_else(|| rec.user.path.clone());
        let new_key = name.key();
        if new_key != key && state.users.contains_key(&new_key) {
            return Err(StoreError::already_exists("User", name.as_str()));
        }
        let old_arn = rec.user.arn.clone();
        let new_arn = self.arn("user", &path, name.as_str());
        let mut rec = state.users.remove(&key).ok_or_else(|| StoreError::no_such("user", name.as_str()))?;
        rec.user.name = name;
        rec.user.path = path;
        rec.user.arn = new_arn.clone();
        let user = rec.user.clone();
        let mut touched = vec![Touched::User(key.clone()), Touched::User(new_key.clone())];
        for g in &rec.groups {
            if let Some(group) = state.groups.get_mut(g) {
                group.members.remove(&key);
                group.members.insert(new_key.clone());
                touched.push(Touched::Group(g.clone()));
            }
        }
        for serial in &rec.credentials.mfa {
            if let Some(device) = state.mfa.get_mut(serial) {
                device.owner = Some(new_key.clone());
                touched.push(Touched::Mfa(serial.clone()));
            }
        }
        state.users.insert(new_key, rec);
        touched.extend(rename_in_trust_policies(&mut state, &old_arn, &new_arn));
        self.commit(&mut state, &touched)?;
        Ok(user)
    }

    fn update_group(&self, name: &str, new_name: Option<&str>, new_path: Option<&str>) -> Result<Group, StoreError> {
        let key = GroupName::parse(name)?.key();
        let new_name = new_name.map(GroupName::parse).transpose()?;
        let new_path = new_path.map(|p| parse_path(Some(p))).transpose()?;
        let mut state = self.write()?;
        let rec = state.groups.get(&key).ok_or_else(|| StoreError::no_such("group", name))?;
        let name = new_name.unwrap_or_else(|| rec.group.name.clone());
        let path = new_path.unwrap_or_else(|| rec.group.path.clone());
        let new_key = name.key();
        if new_key != key && state.groups.contains_key(&new_key) {
            return Err(StoreError::already_exists("Group", name.as_str()));
        }
        let new_arn = self.arn("group", &path, name.as_str());
        let mut rec = state.groups.remove(&key).ok_or_else(|| StoreError::no_such("group", name.as_str()))?;
        rec.group.name = name;
        rec.group.path = path;
        rec.group.arn = new_arn;
        let group = rec.group.clone();
        let mut touched = vec![Touched::Group(key.clone()), Touched::Group(new_key.clone())];
        for u in &rec.members {
            if let Some(user) = state.users.get_mut(u) {
                user.groups.remove(&key);
                user.groups.insert(new_key.clone());
                touched.push(Touched::User(u.clone()));
            }
        }
        state.groups.insert(new_key, rec);
        self.commit(&mut state, &touched)?;
        Ok(group)
    }

    fn update_role(
        &self,
        name: &str,
        description: Option<&str>,
        max_session_duration: Option<u32>,
    ) -> Result<(), StoreError> {
        let key = RoleName::parse(name)?.key();
        check_description(description)?;
        if let Some(d) = max_session_duration {
            check_max_session_duration(d)?;
        }
        let mut state = self.write()?;
        let rec = state.roles.get_mut(&key).ok_or_else(|| StoreError::no_such("role", name))?;
        if let Some(d) = description {
            rec.role.description = Some(d.to_owned());
        }
        if let Some(d) = max_session_duration {
            rec.role.max_session_duration = d;
        }
        self.commit(&mut state, &[Touched::Role(key)])
    }

    fn put_permissions_boundary(&self, entity: Entity<'_>, arn: &str) -> Result<(), StoreError> {
        let mut state = self.write()?;
        let policy = self.policy_key(&state, arn)?;
        let (old, touched) = match entity {
            Entity::User(name) => {
                let key = UserName::parse(name)?.key();
                let rec = state.users.get_mut(&key).ok_or_else(|| StoreError::no_such("user", name))?;
                rec.user.permissions_boundary = Some(arn.to_owned());
                (rec.boundary.replace(policy.clone()), Touched::User(key))
            }
            Entity::Role(name) => {
                let key = RoleName::parse(name)?.key();
                let rec = state.roles.get_mut(&key).ok_or_else(|| StoreError::no_such("role", name))?;
                rec.role.permissions_boundary = Some(arn.to_owned());
                (rec.boundary.replace(policy.clone()), Touched::Role(key))
            }
            Entity::Group(_) => return Err(StoreError::invalid("A group cannot have a permissions boundary.")),
        };
        let mut touched = vec![touched];
        touched.extend(old.as_deref().map(|k| count_use(&mut state, k, 0, -1)));
        touched.push(count_use(&mut state, &policy, 0, 1));
        self.commit(&mut state, &touched)
    }

    fn delete_permissions_boundary(&self, entity: Entity<'_>) -> Result<(), StoreError> {
        let mut state = self.write()?;
        let (old, touched) = match entity {
            Entity::User(name) => {
                let key = UserName::parse(name)?.key();
                let rec = state.users.get_mut(&key).ok_or_else(|| StoreError::no_such("user", name))?;
                rec.user.permissions_boundary = None;
                (rec.boundary.take(), Touched::User(key))
            }
            Entity::Role(name) => {
                let key = RoleName::parse(name)?.key();
                let rec = state.roles.get_mut(&key).ok_or_else(|| StoreError::no_such("role", name))?;
                rec.role.permissions_boundary = None;
                (rec.boundary.take(), Touched::Role(key))
            }
            Entity::Group(_) => return Err(StoreError::invalid("A group cannot have a permissions boundary.")),
        };
        let mut touched = vec![touched];
        touched.extend(old.as_deref().map(|k| count_use(&mut state, k, 0, -1)));
        self.commit(&mut state, &touched)
    }

    fn create_instance_profile(
        &self,
        name: &str,
        path: Option<&str>,
        tags: Vec<Tag>,
    ) -> Result<InstanceProfile, StoreError> {
        let name = GroupName::parse(name).map_err(|e| rename_field(e, "groupName", "instanceProfileName"))?;
        let path = parse_path(path)?;
        let tags = merge_tags_exact(&[], tags)?;
        let mut state = self.write()?;
        if state.instance_profiles.contains_key(&name.key()) {
            return Err(StoreError::already_exists("Instance Profile", name.as_str()));
        }
        if state.instance_profiles.len() >= MAX_INSTANCE_PROFILES {
            return Err(StoreError::quota("InstanceProfilesPerAccount", MAX_INSTANCE_PROFILES));
        }
        let profile = InstanceProfile {
            arn: self.arn("instance-profile", &path, name.as_str()),
            instance_profile_id: self.new_id(UniqueIdKind::InstanceProfile),
            create_date: self.clock.now(),
            name: name.to_string(),
            path,
            tags,
        };
        state.instance_profiles.insert(name.key(), InstanceProfileRec { profile: profile.clone(), role: None });
        self.commit(&mut state, &[Touched::InstanceProfile(name.key())])?;
        Ok(profile)
    }

    fn instance_profile(&self, name: &str) -> Result<(InstanceProfile, Vec<Role>), StoreError> {
        let state = self.read()?;
        let rec = state
            .instance_profiles
            .get(&name.to_ascii_lowercase())
            .ok_or_else(|| StoreError::no_such("instance profile", name))?;
        let roles = rec
            .role
            .iter()
            .filter_map(|r| state.roles.get(r))
            .map(|r| trust::shown(&state, r))
            .collect::<Result<_, _>>()?;
        Ok((rec.profile.clone(), roles))
    }

    fn list_instance_profiles(
        &self,
        path_prefix: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<InstanceProfile>, StoreError> {
        let keep = prefix_filter(path_prefix)?;
        let state = self.read()?;
        let items = state.instance_profiles.iter().filter(|(_, r)| keep(&r.profile.path)).map(|(k, r)| (k, &r.profile));
        paginate(items, page)
    }

    fn delete_instance_profile(&self, name: &str) -> Result<(), StoreError> {
        let key = name.to_ascii_lowercase();
        let mut state = self.write()?;
        let rec = state.instance_profiles.get(&key).ok_or_else(|| StoreError::no_such("instance profile", name))?;
        if rec.role.is_some() {
            return Err(StoreError::conflict("Cannot delete entity, must remove roles from instance profile first."));
        }
        state.instance_profiles.remove(&key);
        self.commit(&mut state, &[Touched::InstanceProfile(key)])
    }

    fn add_role_to_instance_profile(&self, profile: &str, role: &str) -> Result<(), StoreError> {
        let key = profile.to_ascii_lowercase();
        let role_key = RoleName::parse(role)?.key();
        let mut state = self.write()?;
        if !state.roles.contains_key(&role_key) {
            return Err(StoreError::no_such("role", role));
        }
        let rec =
            state.instance_profiles.get_mut(&key).ok_or_else(|| StoreError::no_such("instance profile", profile))?;
        if rec.role.is_some() {
            return Err(StoreError::quota("InstanceSessionsPerInstanceProfile", 1));
        }
        rec.role = Some(role_key);
        self.commit(&mut state, &[Touched::InstanceProfile(key)])
    }

    fn remove_role_from_instance_profile(&self, profile: &str, role: &str) -> Result<(), StoreError> {
        let key = profile.to_ascii_lowercase();
        let role_key = RoleName::parse(role)?.key();
        let mut state = self.write()?;
        let rec =
            state.instance_profiles.get_mut(&key).ok_or_else(|| StoreError::no_such("instance profile", profile))?;
        if rec.role.as_deref() != Some(role_key.as_str()) {
            return Err(StoreError::no_such("role", role));
        }
        rec.role = None;
        self.commit(&mut state, &[Touched::InstanceProfile(key)])
    }

    fn list_instance_profiles_for_role(&self, role: &str) -> Result<Vec<InstanceProfile>, StoreError> {
        let role_key = RoleName::parse(role)?.key();
        let state = self.read()?;
        if !state.roles.contains_key(&role_key) {
            return Err(StoreError::no_such("role", role));
        }
        Ok(state
            .instance_profiles
            .values()
            .filter(|p| p.role.as_deref() == Some(role_key.as_str()))
            .map(|p| p.profile.clone())
            .collect())
    }

    fn create_oidc_provider(&self, new: NewOidcProvider) -> Result<OidcProvider, StoreError> {
        let suffix = oidc_url(&new.url)?;
        check_client_ids(&new.client_ids)?;
        check_thumbprints(&new.thumbprints)?;
        if let Some(jwks) = &new.signing_keys {
            check_signing_keys(jwks)?;
        }
        let tags = merge_tags_exact(&[], new.tags)?;
        let arn = format!("arn:aws:iam::{}:oidc-provider/{suffix}", self.account.as_str());
        let mut state = self.write()?;
        if state.oidc.contains_key(&arn) {
            return Err(StoreError::new(
                ErrorCode::EntityAlreadyExists,
                format!("Provider with url {} already exists.", new.url),
            ));
        }
        if state.oidc.len() >= MAX_OIDC_PROVIDERS {
            return Err(StoreError::quota("OpenIdConnectProvidersPerAccount", MAX_OIDC_PROVIDERS));
        }
        let mut client_ids = Vec::new();
        for id in new.client_ids {
            if !client_ids.contains(&id) {
                client_ids.push(id);
            }
        }
        let provider = OidcProvider {
            arn: arn.clone(),
            url: format!("https://{suffix}"),
            client_ids,
            thumbprints: new.thumbprints,
            signing_keys: new.signing_keys,
            create_date: self.clock.now(),
            tags,
        };
        state.oidc.insert(arn.clone(), provider.clone());
        self.commit(&mut state, &[Touched::Oidc(arn)])?;
        Ok(provider)
    }

    fn oidc_provider(&self, arn: &str) -> Result<OidcProvider, StoreError> {
        self.read()?.oidc.get(arn).cloned().ok_or_else(|| no_such_provider(arn))
    }

    fn list_oidc_providers(&self) -> Result<Vec<OidcProvider>, StoreError> {
        Ok(self.read()?.oidc.values().cloned().collect())
    }

    fn delete_oidc_provider(&self, arn: &str) -> Result<(), StoreError> {
        let mut state = self.write()?;
        state.oidc.remove(arn).ok_or_else(|| no_such_provider(arn))?;
        self.commit(&mut state, &[Touched::Oidc(arn.to_owned())])
    }

    fn add_oidc_client_id(&self, arn: &str, client_id: &str) -> Result<(), StoreError> {
        self.change_oidc(arn, |p| {
            if !p.client_ids.iter().any(|c| c == client_id) {
                p.client_ids.push(client_id.to_owned());
            }
            check_client_ids(&p.client_ids)
        })
    }

    fn remove_oidc_client_id(&self, arn: &str, client_id: &str) -> Result<(), StoreError> {
        self.change_oidc(arn, |p| {
            p.client_ids.retain(|c| c != client_id);
            Ok(())
        })
    }

    fn update_oidc_thumbprints(&self, arn: &str, thumbprints: Vec<String>) -> Result<(), StoreError> {
        check_thumbprints(&thumbprints)?;
        self.change_oidc(arn, |p| {
            p.thumbprints = thumbprints;
            Ok(())
        })
    }

    fn set_oidc_signing_keys(&self, arn: &str, jwks: Option<&str>) -> Result<(), StoreError> {
        if let Some(jwks) = jwks {
            check_signing_keys(jwks)?;
        }
        self.change_oidc(arn, |p| {
            p.signing_keys = jwks.map(str::to_owned);
            Ok(())
        })
    }

    fn create_saml_provider(&self, name: &str, metadata: &str, tags: Vec<Tag>) -> Result<SamlProvider, StoreError> {
        check_saml_name(name)?;
        check_saml_metadata(metadata)?;
        let tags = merge_tags_exact(&[], tags)?;
        let arn = format!("arn:aws:iam::{}:saml-provider/{name}", self.account.as_str());
        let mut state = self.write()?;
        if state.saml.contains_key(&arn) {
            return Err(StoreError::already_exists("SAMLProvider", name));
        }
        if state.saml.len() >= MAX_SAML_PROVIDERS {
            return Err(StoreError::quota("SamlProvidersPerAccount", MAX_SAML_PROVIDERS));
        }
        let provider = SamlProvider {
            arn: arn.clone(),
            name: name.to_owned(),
            metadata_document: metadata.to_owned(),
            create_date: self.clock.now(),
            tags,
        };
        state.saml.insert(arn.clone(), provider.clone());
        self.commit(&mut state, &[Touched::Saml(arn)])?;
        Ok(provider)
    }

    fn saml_provider(&self, arn: &str) -> Result<SamlProvider, StoreError> {
        self.read()?.saml.get(arn).cloned().ok_or_else(|| no_such_provider(arn))
    }

    fn list_saml_providers(&self) -> Result<Vec<SamlProvider>, StoreError> {
        Ok(self.read()?.saml.values().cloned().collect())
    }

    fn update_saml_provider(&self, arn: &str, metadata: &str) -> Result<(), StoreError> {
        check_saml_metadata(metadata)?;
        let mut state = self.write()?;
        let provider = state.saml.get_mut(arn).ok_or_else(|| no_such_provider(arn))?;
        provider.metadata_document = metadata.to_owned();
        self.commit(&mut state, &[Touched::Saml(arn.to_owned())])
    }

    fn delete_saml_provider(&self, arn: &str) -> Result<(), StoreError> {
        let mut state = self.write()?;
        state.saml.remove(arn).ok_or_else(|| no_such_provider(arn))?;
        self.commit(&mut state, &[Touched::Saml(arn.to_owned())])
    }

    fn tag_resource(&self, resource: Taggable<'_>, tags: Vec<Tag>) -> Result<(), StoreError> {
        self.change_tags(resource, |existing| merge_tags_exact(existing, tags))
    }

    fn untag_resource(&self, resource: Taggable<'_>, keys: &[String]) -> Result<(), StoreError> {
        self.change_tags(resource, |existing| Ok(existing.iter().filter(|t| !keys.contains(&t.key)).cloned().collect()))
    }

    fn resource_tags(&self, resource: Taggable<'_>) -> Result<Vec<Tag>, StoreError> {
        let state = self.read()?;
        match resource {
            Taggable::Policy(arn) => {
                if aws::get(arn).is_some() {
                    return Ok(Vec::new());
                }
                let key = self.policy_key(&state, arn)?;
                state.policies.get(&key).map(|r| r.policy.tags.clone()).ok_or_else(|| StoreError::no_such_policy(arn))
            }
            Taggable::InstanceProfile(name) => state
                .instance_profiles
                .get(&name.to_ascii_lowercase())
                .map(|r| r.profile.tags.clone())
                .ok_or_else(|| StoreError::no_such("instance profile", name)),
            Taggable::MfaDevice(serial) => {
                state.mfa.get(&serial.to_ascii_lowercase()).map(|r| r.tags.clone()).ok_or_else(|| no_such_mfa(serial))
            }
            Taggable::OidcProvider(arn) => {
                state.oidc.get(arn).map(|r| r.tags.clone()).ok_or_else(|| no_such_provider(arn))
            }
            Taggable::SamlProvider(arn) => {
                state.saml.get(arn).map(|r| r.tags.clone()).ok_or_else(|| no_such_provider(arn))
            }
        }
    }

    fn account_alias(&self) -> Result<Option<String>, StoreError> {
        Ok(self.read()?.account.as_ref().and_then(|a| a.alias.clone()))
    }

    fn create_account_alias(&self, alias: &str) -> Result<(), StoreError> {
        check_alias(alias)?;
        let mut state = self.write()?;
        let mut aliases = self.registry.aliases.lock().unwrap_or_else(PoisonError::into_inner);
        match aliases.get(alias) {
            Some(owner) if owner == self.account.as_str() => return Ok(()),
            Some(_) => {
                return Err(StoreError::new(
                    ErrorCode::EntityAlreadyExists,
                    format!("The account alias {alias} already exists."),
                ));
            }
            None => {}
        }
        let account = state.account.as_mut().ok_or_else(|| StoreError::no_such("account", self.account.as_str()))?;
        let old = account.alias.replace(alias.to_owned());
        self.commit(&mut state, &[Touched::Account])?;
        if let Some(old) = old {
            aliases.remove(&old);
        }
        aliases.insert(alias.to_owned(), self.account.as_str().to_owned());
        Ok(())
    }

    fn delete_account_alias(&self, alias: &str) -> Result<(), StoreError> {
        let mut state = self.write()?;
        let account = state.account.as_mut().ok_or_else(|| StoreError::no_such("account", self.account.as_str()))?;
        if account.alias.as_deref() != Some(alias) {
            return Err(StoreError::new(
                ErrorCode::NoSuchEntity,
                format!("The account alias {alias} cannot be found."),
            ));
        }
        account.alias = None;
        self.commit(&mut state, &[Touched::Account])?;
        self.registry.aliases.lock().unwrap_or_else(PoisonError::into_inner).remove(alias);
        Ok(())
    }

    fn password_policy(&self) -> Result<PasswordPolicy, StoreError> {
        let state = self.read()?;
        match state.account.as_ref().and_then(|a| a.password_policy.as_ref()) {
            Some(policy) => policy.policy(),
            None => Err(StoreError::new(
                ErrorCode::NoSuchEntity,
                format!("The Password Policy with domain name {} cannot be found.", self.account.as_str()),
            )),
        }
    }

    fn update_password_policy(&self, policy: PasswordPolicy) -> Result<(), StoreError> {
        let mut state = self.write()?;
        let account = state.account.as_mut().ok_or_else(|| StoreError::no_such("account", self.account.as_str()))?;
        account.password_policy = Some(StoredPasswordPolicy::from_policy(&policy));
        self.commit(&mut state, &[Touched::Account])
    }

    fn delete_password_policy(&self) -> Result<(), StoreError> {
        let mut state = self.write()?;
        let account = state.account.as_mut().ok_or_else(|| StoreError::no_such("account", self.account.as_str()))?;
        if account.password_policy.take().is_none() {
            return Err(StoreError::new(
                ErrorCode::NoSuchEntity,
                format!("The Password Policy with domain name {} cannot be found.", self.account.as_str()),
            ));
        }
        self.commit(&mut state, &[Touched::Account])
    }

    fn create_access_key(&self, owner: Owner<'_>, record: AccessKeyRecord) -> Result<(), StoreError> {
        let key = owner_key(owner)?;
        let id = record.id.as_str().to_owned();
        let mut state = self.write()?;
        let creds = credentials_mut(&mut state, &key, owner_label(owner))?;
        if creds.access_keys.len() >= MAX_ACCESS_KEYS {
            return Err(StoreError::quota("AccessKeysPerUser", MAX_ACCESS_KEYS));
        }
        if self.registry.key_account(&id).is_some() {
            return Err(StoreError::new(
                ErrorCode::EntityAlreadyExists,
                format!("The Access Key with id {id} already exists."),
            ));
        }
        creds.access_keys.push(StoredKey::from_record(&record));
        self.commit(&mut state, &[owner_touched(&key)])?;
        self.registry.keys.write().unwrap_or_else(PoisonError::into_inner).insert(id, self.account.as_str().to_owned());
        Ok(())
    }

    fn list_access_keys(&self, owner: Owner<'_>) -> Result<Vec<AccessKeyRecord>, StoreError> {
        let key = owner_key(owner)?;
        let state = self.read()?;
        credentials(&state, &key, owner_label(owner))?.access_keys.iter().map(StoredKey::record).collect()
    }

    fn access_key(&self, id: &str) -> Result<AccessKey, StoreError> {
        let state = self.read()?;
        let root = state.account.iter().flat_map(|a| a.root.access_keys.iter().map(|k| (String::new(), k)));
        let users = state.users.iter().flat_map(|(u, rec)| rec.credentials.access_keys.iter().map(|k| (u.clone(), k)));
        let (owner, stored) = root.chain(users).find(|(_, k)| k.id == id).ok_or_else(|| no_such_key(id))?;
        Ok(AccessKey {
            account_id: self.account.as_str().to_owned(),
            owner: owner_name(&state, &owner),
            record: stored.record()?,
        })
    }

    fn update_access_key(&self, owner: Owner<'_>, id: &str, status: AccessKeyStatus) -> Result<(), StoreError> {
        let key = owner_key(owner)?;
        let mut state = self.write()?;
        let creds = credentials_mut(&mut state, &key, owner_label(owner))?;
        let stored = creds.access_keys.iter_mut().find(|k| k.id == id).ok_or_else(|| no_such_key(id))?;
        stored.status = status.as_str().to_owned();
        self.commit(&mut state, &[owner_touched(&key)])
    }

    fn delete_access_key(&self, owner: Owner<'_>, id: &str) -> Result<(), StoreError> {
        let key = owner_key(owner)?;
        let mut state = self.write()?;
        let creds = credentials_mut(&mut state, &key, owner_label(owner))?;
        let before = creds.access_keys.len();
        creds.access_keys.retain(|k| k.id != id);
        if creds.access_keys.len() == before {
            return Err(no_such_key(id));
        }
        self.commit(&mut state, &[owner_touched(&key)])?;
        self.registry.keys.write().unwrap_or_else(PoisonError::into_inner).remove(id);
        Ok(())
    }

    fn record_access_key_use(&self, id: &str, used: AccessKeyLastUsed) -> Result<(), StoreError> {
        let mut state = self.write()?;
        let owner = {
            let root = state.account.iter().flat_map(|a| a.root.access_keys.iter().map(|k| (String::new(), k)));
            let users =
                state.users.iter().flat_map(|(u, rec)| rec.credentials.access_keys.iter().map(|k| (u.clone(), k)));
            root.chain(users).find(|(_, k)| k.id == id).map(|(o, _)| o).ok_or_else(|| no_such_key(id))?
        };
        let creds = credentials_mut(&mut state, &owner, id)?;
        if let Some(stored) = creds.access_keys.iter_mut().find(|k| k.id == id) {
            let mut record = stored.record()?;
            record.last_used = used;
            *stored = StoredKey::from_record(&record);
        }
        self.commit(&mut state, &[owner_touched(&owner)])
    }

    fn create_login_profile(
        &self,
        owner: Owner<'_>,
        hash: &PasswordHash,
        password_reset_required: bool,
    ) -> Result<LoginProfile, StoreError> {
        let key = owner_key(owner)?;
        let now = self.clock.now();
        let mut state = self.write()?;
        let creds = credentials_mut(&mut state, &key, owner_label(owner))?;
        if creds.login_profile.is_some() {
            return Err(StoreError::new(
                ErrorCode::EntityAlreadyExists,
                format!("Login Profile for user {} already exists.", owner_label(owner)),
            ));
        }
        let stored = StoredLoginProfile::new(hash, password_reset_required, now);
        creds.login_profile = Some(stored.clone());
        self.commit(&mut state, &[owner_touched(&key)])?;
        stored.profile(owner_name(&state, &key))
    }

    fn login_profile(&self, owner: Owner<'_>) -> Result<LoginProfile, StoreError> {
        let key = owner_key(owner)?;
        let state = self.read()?;
        let creds = credentials(&state, &key, owner_label(owner))?;
        creds.login_profile.as_ref().ok_or_else(|| no_login_profile(owner))?.profile(owner_name(&state, &key))
    }

    fn update_login_profile(
        &self,
        owner: Owner<'_>,
        hash: Option<&PasswordHash>,
        password_reset_required: Option<bool>,
    ) -> Result<(), StoreError> {
        let key = owner_key(owner)?;
        let now = self.clock.now();
        let mut state = self.write()?;
        let creds = credentials_mut(&mut state, &key, owner_label(owner))?;
        let profile = creds.login_profile.as_mut().ok_or_else(|| no_login_profile(owner))?;
        if let Some(hash) = hash {
            profile.set_password(hash, now);
        }
        if let Some(reset) = password_reset_required {
            profile.reset_required = reset;
        }
        self.commit(&mut state, &[owner_touched(&key)])
    }

    fn record_password_use(&self, owner: Owner<'_>, at: castellan_credentials::UnixTime) -> Result<(), StoreError> {
        let key = owner_key(owner)?;
        let mut state = self.write()?;
        let creds = credentials_mut(&mut state, &key, owner_label(owner))?;
        creds.login_profile.as_mut().ok_or_else(|| no_login_profile(owner))?.mark_used(at);
        self.commit(&mut state, &[owner_touched(&key)])
    }

    fn delete_login_profile(&self, owner: Owner<'_>) -> Result<(), StoreError> {
        let key = owner_key(owner)?;
        let mut state = self.write()?;
        let creds = credentials_mut(&mut state, &key, owner_label(owner))?;
        if creds.login_profile.take().is_none() {
            return Err(no_login_profile(owner));
        }
        self.commit(&mut state, &[owner_touched(&key)])
    }

    fn create_virtual_mfa_device(
        &self,
        device: castellan_credentials::MfaDevice,
        tags: Vec<Tag>,
    ) -> Result<VirtualMfaDevice, StoreError> {
        let key = self.mfa_key(&device.serial_number)?;
        let tags = merge_tags_exact(&[], tags)?;
        if device.is_enabled() {
            return Err(StoreError::invalid("A new virtual MFA device cannot be enabled already."));
        }
        let stored = StoredMfa::from_device(&device, None, tags)?;
        let mut state = self.write()?;
        if state.mfa.contains_key(&key) {
            return Err(StoreError::new(
                ErrorCode::EntityAlreadyExists,
                "MFADevice entity at the same path and name already exists.",
            ));
        }
        state.mfa.insert(key.clone(), stored);
        self.commit(&mut state, &[Touched::Mfa(key.clone())])?;
        let rec = state.mfa.get(&key).ok_or_else(|| no_such_mfa(&device.serial_number))?;
        MemoryStore::virtual_device(&state, rec)
    }

    fn mfa_device(&self, serial_number: &str) -> Result<VirtualMfaDevice, StoreError> {
        let state = self.read()?;
        let rec = state.mfa.get(&serial_number.to_ascii_lowercase()).ok_or_else(|| no_such_mfa(serial_number))?;
        MemoryStore::virtual_device(&state, rec)
    }

    fn enable_mfa_device(&self, owner: Owner<'_>, device: castellan_credentials::MfaDevice) -> Result<(), StoreError> {
        let key = owner_key(owner)?;
        let serial_key = device.serial_number.to_ascii_lowercase();
        if !device.is_enabled() {
            return Err(StoreError::invalid("The MFA device must be enabled with two authentication codes first."));
        }
        let mut state = self.write()?;
        let rec = state.mfa.get(&serial_key).ok_or_else(|| no_such_mfa(&device.serial_number))?;
        if rec.owner.is_some() {
            return Err(StoreError::new(ErrorCode::EntityAlreadyExists, "MFA Device is already in use."));
        }
        let tags = rec.tags.clone();
        let creds = credentials_mut(&mut state, &key, owner_label(owner))?;
        if creds.mfa.len() >= MAX_MFA_DEVICES {
            return Err(StoreError::quota("MFADevicesPerUser", MAX_MFA_DEVICES));
        }
        creds.mfa.push(serial_key.clone());
        let stored = StoredMfa::from_device(&device, Some(key.clone()), tags)?;
        state.mfa.insert(serial_key.clone(), stored);
        self.commit(&mut state, &[owner_touched(&key), Touched::Mfa(serial_key)])
    }

    fn save_mfa_device(&self, device: castellan_credentials::MfaDevice) -> Result<(), StoreError> {
        let serial_key = device.serial_number.to_ascii_lowercase();
        let mut state = self.write()?;
        let rec = state.mfa.get(&serial_key).ok_or_else(|| no_such_mfa(&device.serial_number))?;
        if rec.owner.is_some() != device.is_enabled() {
            return Err(StoreError::invalid(
                "Enabling or deactivating an MFA device goes through EnableMFADevice or DeactivateMFADevice.",
            ));
        }
        let stored = StoredMfa::from_device(&device, rec.owner.clone(), rec.tags.clone())?;
        state.mfa.insert(serial_key.clone(), stored);
        self.commit(&mut state, &[Touched::Mfa(serial_key)])
    }

    fn deactivate_mfa_device(&self, owner: Owner<'_>, serial_number: &str) -> Result<(), StoreError> {
        let key = owner_key(owner)?;
        let serial_key = serial_number.to_ascii_lowercase();
        let mut state = self.write()?;
        credentials(&state, &key, owner_label(owner))?;
        let rec = state.mfa.get(&serial_key).ok_or_else(|| no_such_mfa(serial_number))?;
        if rec.owner.as_deref() != Some(key.as_str()) {
            return Err(StoreError::new(
                ErrorCode::NoSuchEntity,
                format!("MFA Device with serial number {serial_number} is not enabled for {}.", owner_label(owner)),
            ));
        }
        let mut device = rec.device()?;
        device.deactivate();
        let stored = StoredMfa::from_device(&device, None, rec.tags.clone())?;
        state.mfa.insert(serial_key.clone(), stored);
        credentials_mut(&mut state, &key, owner_label(owner))?.mfa.retain(|s| *s != serial_key);
        self.commit(&mut state, &[owner_touched(&key), Touched::Mfa(serial_key)])
    }

    fn delete_virtual_mfa_device(&self, serial_number: &str) -> Result<(), StoreError> {
        let serial_key = serial_number.to_ascii_lowercase();
        let mut state = self.write()?;
        let rec = state.mfa.get(&serial_key).ok_or_else(|| no_such_mfa(serial_number))?;
        if rec.owner.is_some() {
            return Err(StoreError::conflict("MFA VirtualDevice in use. Must deactivate first."));
        }
        state.mfa.remove(&serial_key);
        self.commit(&mut state, &[Touched::Mfa(serial_key)])
    }

    fn list_mfa_devices(&self, owner: Owner<'_>) -> Result<Vec<VirtualMfaDevice>, StoreError> {
        let key = owner_key(owner)?;
        let state = self.read()?;
        let creds = credentials(&state, &key, owner_label(owner))?;
        creds
            .mfa
            .iter()
            .filter_map(|serial| state.mfa.get(serial))
            .map(|rec| MemoryStore::virtual_device(&state, rec))
            .collect()
    }

    fn list_virtual_mfa_devices(&self, status: AssignmentStatus) -> Result<Vec<VirtualMfaDevice>, StoreError> {
        let state = self.read()?;
        state
            .mfa
            .values()
            .filter(|rec| match status {
                AssignmentStatus::Any => true,
                AssignmentStatus::Assigned => rec.owner.is_some(),
                AssignmentStatus::Unassigned => rec.owner.is_none(),
            })
            .map(|rec| MemoryStore::virtual_device(&state, rec))
            .collect()
    }
}
