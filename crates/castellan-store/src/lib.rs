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
//! A [`Directory`] holds the accounts of one Castellan, in memory ([`Directory::in_memory`]) or
//! in a data directory ([`Directory::open`]); each account is a [`Store`]. [`MemoryStore`] and
//! [`DurableStore`] are one account on its own, in memory or in a data directory.
//!
//! # What it holds
//!
//! Accounts (alias, the root user's credentials, the password policy), users, groups and
//! membership, roles (trust policy with principals kept as unique ids, session duration,
//! description, permissions boundary), customer managed policies with versions, AWS managed
//! policies (read-only, shipped in `data/aws-managed-policies.json`), attachments, inline
//! policies, permissions boundaries on users and roles, instance profiles, access keys, login
//! profiles and virtual MFA devices of users and the root user (secrets sealed, passwords hashed),
//! OIDC and SAML providers, tags on every taggable entity, and the organizations' state of
//! `castellan-org`. Every write checks AWS's names, quotas and preconditions first and is one
//! transaction; [`Store::snapshot`] is the authorization read path, an immutable [`Snapshot`] of
//! every principal's parsed policy layers published after each committed write.
//!
//! Not yet: older versions of AWS managed policies, SSH keys, signing and server certificates,
//! service-specific credentials, FIDO devices, the credential report and last-accessed data.

mod aws;
mod checkpoint;
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

pub use checkpoint::Checkpoint;
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
