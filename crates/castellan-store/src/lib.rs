//! Castellan's identity store: the entities IAM keeps in an account, with AWS's rules enforced
//! on every write.
//!
//! The [`Store`] trait is the contract; backends implement it and one test suite
//! (`tests/store.rs`) runs against each. Names are parsed into newtypes ([`UserName`],
//! [`IamPath`], ...) whose errors carry AWS's `ValidationError` text; every refusal is a
//! [`StoreError`] with AWS's code, HTTP status and message, because clients match on them.
//! Each operation validates everything before it changes anything, so a refused call leaves the
//! store as it was. Time comes from an injected `Clock` and unique ids from an injected RNG.
//!
//! # Status
//!
//! This is the first step of the store (issue 4). Done: users, groups and membership, roles
//! (trust policy, session duration, description, permissions boundary, tags), customer managed
//! policies with versions, AWS managed policies (read-only, shipped in
//! `data/aws-managed-policies.json`; attachable, usable as boundaries, listed with
//! [`PolicyScope`], in snapshots as layers), attachments, inline policies, tags on users and roles, quotas,
//! deletion preconditions, listing with path prefixes and pagination, in two backends (one account
//! per store) sharing one state and one copy of the rules: in memory ([`MemoryStore`]) and
//! durable ([`DurableStore`], SQLite in a data directory, each write one transaction committed
//! before it is acknowledged); the authorization read path ([`Store::snapshot`]: an immutable
//! [`Snapshot`] of every principal's parsed policy layers, published after each committed write,
//! rebuilt only for the principals the write touched) and its concurrency test; trust-policy
//! principals stored as unique ids and shown as ARNs (`Invalid principal in policy` for a user
//! or role of the account that does not exist; a deleted entity shows its raw id and its
//! recreation does not match), with [`Store::update_assume_role_policy`]. Not yet: accounts
//! and the root user, older versions of AWS managed policies, access key, login profile and MFA records, instance profiles, OIDC and SAML providers,
//! organizations, permissions boundaries on users, update operations (`UpdateRole`,
//! `UpdateUser`, ...), benchmarks (snapshot update latency, memory per principal).

mod aws;
mod credentials;
mod directory;
mod durable;
mod error;
mod memory;
mod names;
mod providers;
mod snapshot;
mod store;
mod trust;

pub use credentials::{
    AccessKey, AssignmentStatus, LoginProfile, MAX_ACCESS_KEYS, MAX_MFA_DEVICES, Owner, OwnerName, PASSWORD_HISTORY,
    VirtualMfaDevice,
};
pub use directory::Directory;
pub use durable::{DATA_FILE, DurableStore, LOCK_FILE, SCHEMA_VERSION};
pub use error::{ErrorCode, StoreError};
pub use memory::{
    MAX_ATTACHED_POLICIES, MAX_GROUP_INLINE_SIZE, MAX_GROUPS, MAX_GROUPS_PER_USER, MAX_INSTANCE_PROFILES,
    MAX_MANAGED_POLICY_SIZE, MAX_POLICIES, MAX_POLICY_VERSIONS, MAX_ROLE_INLINE_SIZE, MAX_ROLES, MAX_USER_INLINE_SIZE,
    MAX_USERS, MemoryStore,
};
pub use names::{GroupName, IamPath, PolicyName, RoleName, Tag, UserName};
pub use providers::{
    MAX_CLIENT_IDS, MAX_OIDC_PROVIDERS, MAX_SAML_PROVIDERS, MAX_THUMBPRINTS, NewOidcProvider, OidcProvider,
    SamlProvider, Taggable,
};
pub use snapshot::{GroupPolicies, NamedPolicy, PrincipalPolicies, Snapshot};
pub use store::{
    AttachedPolicy, Entity, Group, InlinePolicy, InstanceProfile, ManagedPolicy, NewPolicy, NewRole, NewUser, Page,
    PageRequest, PolicyScope, PolicyVersion, Role, Store, User,
};
