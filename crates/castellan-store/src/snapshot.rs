//! The authorization read path: an immutable snapshot of an account's principals and their
//! policy layers, published after every committed write.
//!
//! The writer builds the next [`Snapshot`] while it holds the state's write lock, from the
//! previous snapshot and the records the write touched, and swaps it into a cell whose lock is
//! held only to clone or replace an `Arc`: readers never wait for writers beyond an `Arc` clone.
//! A snapshot never changes once published; a reader holding one sees one committed state.
//!
//! Policies are parsed once: the parsed default version of each managed policy and each inline
//! and trust policy is cached (`Parsed`) beside the state, so building a snapshot re-parses only
//! documents the write changed, and every unchanged policy and principal is shared by `Arc` with
//! the previous snapshot. What a write rebuilds:
//! - a touched user or role: that principal;
//! - a touched group (its policies or members): the group and its members before and after;
//! - a touched managed policy whose default document changed (created, new default version,
//!   deleted): every group, user and role that attaches it or uses it as permissions boundary
//!   (found by scanning the account's principals), and nothing when only its counters changed.
//!
//! Policy ids, used to explain decisions: a managed policy is named by its ARN; an inline policy
//! by `user/NAME/inline/POLICY`, `group/NAME/inline/POLICY` or `role/NAME/inline/POLICY`; a role's
//! trust policy by `role/NAME/trust` (names case preserved). The facade compiles these layers
//! for `castellan-eval`; this crate does not depend on the evaluator.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use castellan_policy::{Policy, PolicyKind};

use crate::aws;
use crate::error::{ErrorCode, StoreError};
use crate::memory::{GroupRec, Policies, State, Touched};
use crate::names::{GroupName, RoleName, Tag, UserName};

/// One policy of a principal's layers, with the id that names it in explanations.
#[derive(Debug, Clone)]
pub struct NamedPolicy {
    /// The policy ARN for a managed policy, `KIND/NAME/inline/POLICY` for an inline policy,
    /// `role/NAME/trust` for a trust policy.
    pub id: String,
    /// The parsed document.
    pub policy: Arc<Policy>,
}

/// A user's or role's policy layers as of one snapshot.
#[derive(Debug, Clone)]
pub struct PrincipalPolicies {
    /// The name (case preserved).
    pub name: String,
    /// The ARN.
    pub arn: String,
    /// The unique id (`AIDA...` or `AROA...`).
    pub unique_id: String,
    /// The tags.
    pub tags: Vec<Tag>,
    /// For a user, the keys (lowercase names) of its groups, sorted; empty for a role.
    pub groups: Vec<String>,
    /// The identity layer: for a user its inline policies (by name), its attached managed
    /// policies (in attachment order), then for each group (by name) the group's inline and
    /// attached policies; for a role its inline and attached policies.
    pub identity: Vec<NamedPolicy>,
    /// The permissions boundary, when set (a customer or AWS managed policy).
    pub boundary: Option<NamedPolicy>,
    /// A role's trust policy; `None` for a user.
    pub trust: Option<NamedPolicy>,
    /// A role's longest session in seconds; `None` for a user.
    pub max_session_duration: Option<u32>,
}

/// A group as of one snapshot.
#[derive(Debug, Clone)]
pub struct GroupPolicies {
    /// The name (case preserved).
    pub name: String,
    /// The keys (lowercase names) of its members, sorted.
    pub members: Vec<String>,
    /// Its inline policies (by name) then attached managed policies (in attachment order).
    pub policies: Vec<NamedPolicy>,
}

/// An immutable view of one account's principals and their policy layers after one committed
/// write.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    generation: u64,
    users: Sharded<Arc<PrincipalPolicies>>,
    roles: Sharded<Arc<PrincipalPolicies>>,
    groups: Sharded<Arc<GroupPolicies>>,
    managed: Sharded<NamedPolicy>,
}

/// Shards per map of a snapshot.
const SHARDS: usize = 64;

/// A map split into shards by a hash of the key, each shard shared by `Arc` between snapshots: the
/// next snapshot copies the shard pointers and then only the shards a write touches, so a write
/// costs what it touched rather than the size of the account.
#[derive(Debug, Clone)]
pub(crate) struct Sharded<V> {
    shards: Vec<Arc<BTreeMap<String, V>>>,
}

impl<V> Default for Sharded<V> {
    /// Every shard starts as the same empty map (one allocation; a write copies what it fills).
    fn default() -> Self {
        let empty = Arc::new(BTreeMap::new());
        Sharded { shards: vec![empty; SHARDS] }
    }
}

/// FNV-1a of the key, reduced to a shard index.
fn shard_of(key: &str) -> usize {
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    usize::try_from(hash % SHARDS as u64).unwrap_or(0)
}

impl<V: Clone> Sharded<V> {
    pub(crate) fn get(&self, key: &str) -> Option<&V> {
        self.shards.get(shard_of(key)).and_then(|s| s.get(key))
    }

    pub(crate) fn insert(&mut self, key: String, value: V) {
        if let Some(shard) = self.shards.get_mut(shard_of(&key)) {
            Arc::make_mut(shard).insert(key, value);
        }
    }

    pub(crate) fn remove(&mut self, key: &str) -> Option<V> {
        let shard = self.shards.get_mut(shard_of(key))?;
        if !shard.contains_key(key) {
            return None;
        }
        Arc::make_mut(shard).remove(key)
    }

    /// Every entry, by key.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&String, &V)> {
        let mut all: Vec<(&String, &V)> = self.shards.iter().flat_map(|s| s.iter()).collect();
        all.sort_unstable_by(|a, b| a.0.cmp(b.0));
        all.into_iter()
    }
}

impl Snapshot {
    /// How many writes had been committed when this snapshot was published (0 when the store
    /// was opened); strictly increasing from one published snapshot to the next.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The user `name` (without regard to case) and its layers.
    pub fn user(&self, name: &str) -> Option<&Arc<PrincipalPolicies>> {
        self.users.get(&UserName::parse(name).ok()?.key())
    }

    /// The role `name` (without regard to case) and its layers.
    pub fn role(&self, name: &str) -> Option<&Arc<PrincipalPolicies>> {
        self.roles.get(&RoleName::parse(name).ok()?.key())
    }

    /// The group `name` (without regard to case).
    pub fn group(&self, name: &str) -> Option<&Arc<GroupPolicies>> {
        self.groups.get(&GroupName::parse(name).ok()?.key())
    }

    /// Every user, by key (lowercase name).
    pub fn users(&self) -> impl Iterator<Item = (&str, &Arc<PrincipalPolicies>)> {
        self.users.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Every role, by key (lowercase name).
    pub fn roles(&self) -> impl Iterator<Item = (&str, &Arc<PrincipalPolicies>)> {
        self.roles.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Every group, by key (lowercase name).
    pub fn groups(&self) -> impl Iterator<Item = (&str, &Arc<GroupPolicies>)> {
        self.groups.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The default version of the managed policy `arn` (of this account, or AWS managed), when
    /// it exists in this snapshot.
    pub fn managed_policy(&self, arn: &str) -> Option<&NamedPolicy> {
        if let Some(aws) = crate::aws::get(arn) {
            return Some(&aws.named);
        }
        let key = arn.rsplit('/').next()?.to_ascii_lowercase();
        self.managed.get(&key).filter(|p| p.id == arn)
    }

    /// Every customer managed policy's default version, by key (lowercase name).
    pub fn managed_policies(&self) -> impl Iterator<Item = (&str, &NamedPolicy)> {
        self.managed.iter().map(|(k, v)| (k.as_str(), v))
    }
}

/// Parsed inline and trust policies, by id, with the text they were parsed from.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    documents: BTreeMap<String, (String, Arc<Policy>)>,
}

impl Parsed {
    fn get(&mut self, id: &str, text: &str, kind: PolicyKind) -> Result<Arc<Policy>, StoreError> {
        if let Some((cached, policy)) = self.documents.get(id)
            && cached == text
        {
            return Ok(Arc::clone(policy));
        }
        let policy = Arc::new(
            Policy::parse(text, kind)
                .map_err(|e| StoreError::new(ErrorCode::MalformedPolicyDocument, e.to_string()))?,
        );
        self.documents.insert(id.to_owned(), (text.to_owned(), Arc::clone(&policy)));
        Ok(policy)
    }

    /// Forgets the documents under `prefix` whose id is not in `keep`.
    fn retain_under(&mut self, prefix: &str, keep: &BTreeSet<String>) {
        let stale: Vec<String> = self
            .documents
            .range(prefix.to_owned()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .filter(|(k, _)| !keep.contains(*k))
            .map(|(k, _)| k.clone())
            .collect();
        for k in stale {
            self.documents.remove(&k);
        }
    }
}

fn entity_layers(
    parsed: &mut Parsed,
    managed: &Sharded<NamedPolicy>,
    kind: &str,
    name: &str,
    policies: &Policies,
) -> Result<Vec<NamedPolicy>, StoreError> {
    let prefix = format!("{kind}/{name}/inline/");
    let mut out = Vec::new();
    let mut ids = BTreeSet::new();
    for (policy_name, inline) in &policies.inline {
        let id = format!("{prefix}{policy_name}");
        let policy = parsed.get(&id, &inline.document, PolicyKind::Identity)?;
        ids.insert(id.clone());
        out.push(NamedPolicy { id, policy });
    }
    parsed.retain_under(&prefix, &ids);
    out.extend(policies.attached.iter().filter_map(|k| managed_layer(managed, k)));
    Ok(out)
}

/// The managed policy `key`: a customer managed policy of the snapshot or an AWS managed one.
fn managed_layer(managed: &Sharded<NamedPolicy>, key: &str) -> Option<NamedPolicy> {
    managed.get(key).or_else(|| aws::get(key).map(|p| &p.named)).cloned()
}

fn group_entry(
    parsed: &mut Parsed,
    managed: &Sharded<NamedPolicy>,
    rec: &GroupRec,
) -> Result<GroupPolicies, StoreError> {
    let name = rec.group.name.to_string();
    Ok(GroupPolicies {
        policies: entity_layers(parsed, managed, "group", &name, &rec.policies)?,
        members: rec.members.iter().cloned().collect(),
        name,
    })
}

impl Snapshot {
    /// The snapshot of `state` built from nothing (when a store opens).
    pub(crate) fn build(state: &mut State) -> Result<Snapshot, StoreError> {
        let all: Vec<Touched> = state
            .policies
            .keys()
            .cloned()
            .map(Touched::Policy)
            .chain(state.groups.keys().cloned().map(Touched::Group))
            .chain(state.users.keys().cloned().map(Touched::User))
            .chain(state.roles.keys().cloned().map(Touched::Role))
            .collect();
        Snapshot::default().next(state, &all)
    }

    /// The snapshot after a write that changed `touched`, sharing everything else with `self`.
    pub(crate) fn next(&self, state: &mut State, touched: &[Touched]) -> Result<Snapshot, StoreError> {
        let mut next = self.clone();
        next.generation = state.generation;
        let mut users = BTreeSet::new();
        let mut roles = BTreeSet::new();
        let mut groups = BTreeSet::new();
        let mut changed_policies = BTreeSet::new();
        for t in touched {
            match t {
                Touched::User(k) => drop(users.insert(k.clone())),
                Touched::Role(k) => drop(roles.insert(k.clone())),
                Touched::Group(k) => drop(groups.insert(k.clone())),
                // AWS managed policies never change; only their counters did.
                Touched::AwsPolicy(_)
                | Touched::Account
                | Touched::Mfa(_)
                | Touched::InstanceProfile(_)
                | Touched::Oidc(_)
                | Touched::Saml(_) => {}
                Touched::Policy(k) => {
                    let current = state.policies.get(k).and_then(|rec| rec.default_document());
                    let unchanged = match (next.managed.get(k), &current) {
                        (Some(old), Some((arn, version, _))) => {
                            old.id == *arn && state.parsed_versions.get(k) == Some(version)
                        }
                        (None, None) => true,
                        _ => false,
                    };
                    if unchanged {
                        continue;
                    }
                    match current {
                        Some((arn, version, text)) => {
                            let policy = Policy::parse(&text, PolicyKind::Identity)
                                .map_err(|e| StoreError::new(ErrorCode::MalformedPolicyDocument, e.to_string()))?;
                            next.managed.insert(k.clone(), NamedPolicy { id: arn, policy: Arc::new(policy) });
                            state.parsed_versions.insert(k.clone(), version);
                        }
                        None => {
                            next.managed.remove(k);
                            state.parsed_versions.remove(k);
                        }
                    }
                    changed_policies.insert(k.clone());
                }
            }
        }
        if !changed_policies.is_empty() {
            let uses = |p: &Policies| p.attached.iter().any(|k| changed_policies.contains(k));
            groups.extend(state.groups.iter().filter(|(_, g)| uses(&g.policies)).map(|(k, _)| k.clone()));
            users.extend(
                state
                    .users
                    .iter()
                    .filter(|(_, u)| {
                        uses(&u.policies) || u.boundary.as_ref().is_some_and(|b| changed_policies.contains(b))
                    })
                    .map(|(k, _)| k.clone()),
            );
            roles.extend(
                state
                    .roles
                    .iter()
                    .filter(|(_, r)| {
                        uses(&r.policies) || r.boundary.as_ref().is_some_and(|b| changed_policies.contains(b))
                    })
                    .map(|(k, _)| k.clone()),
            );
        }
        for g in &groups {
            if let Some(old) = next.groups.get(g) {
                users.extend(old.members.iter().cloned());
            }
            match state.groups.get(g) {
                Some(rec) => {
                    users.extend(rec.members.iter().cloned());
                    let entry = group_entry(&mut state.parsed, &next.managed, rec)?;
                    next.groups.insert(g.clone(), Arc::new(entry));
                }
                None => {
                    if let Some(old) = next.groups.remove(g) {
                        state.parsed.retain_under(&format!("group/{}/inline/", old.name), &BTreeSet::new());
                    }
                }
            }
        }
        for u in &users {
            let Some(rec) = state.users.get(u) else {
                if let Some(old) = next.users.remove(u) {
                    state.parsed.retain_under(&format!("user/{}/inline/", old.name), &BTreeSet::new());
                }
                continue;
            };
            let user = &rec.user;
            let name = user.name.to_string();
            let mut identity = entity_layers(&mut state.parsed, &next.managed, "user", &name, &rec.policies)?;
            for g in &rec.groups {
                if let Some(group) = next.groups.get(g) {
                    identity.extend(group.policies.iter().cloned());
                }
            }
            let entry = PrincipalPolicies {
                name,
                arn: user.arn.clone(),
                unique_id: user.user_id.clone(),
                tags: user.tags.clone(),
                groups: rec.groups.iter().cloned().collect(),
                identity,
                boundary: rec.boundary.as_ref().and_then(|b| managed_layer(&next.managed, b)),
                trust: None,
                max_session_duration: None,
            };
            next.users.insert(u.clone(), Arc::new(entry));
        }
        for r in &roles {
            let Some(rec) = state.roles.get(r) else {
                if let Some(old) = next.roles.remove(r) {
                    state.parsed.retain_under(&format!("role/{}/", old.name), &BTreeSet::new());
                }
                continue;
            };
            let role = &rec.role;
            let name = role.name.to_string();
            let identity = entity_layers(&mut state.parsed, &next.managed, "role", &name, &rec.policies)?;
            let trust_id = format!("role/{name}/trust");
            let trust_text = crate::trust::render(state, rec)?;
            let trust = state.parsed.get(&trust_id, &trust_text, PolicyKind::Trust)?;
            let entry = PrincipalPolicies {
                arn: role.arn.clone(),
                unique_id: role.role_id.clone(),
                tags: role.tags.clone(),
                groups: Vec::new(),
                identity,
                boundary: rec.boundary.as_ref().and_then(|b| managed_layer(&next.managed, b)),
                trust: Some(NamedPolicy { id: trust_id, policy: trust }),
                max_session_duration: Some(role.max_session_duration),
                name,
            };
            next.roles.insert(r.clone(), Arc::new(entry));
        }
        Ok(next)
    }
}
