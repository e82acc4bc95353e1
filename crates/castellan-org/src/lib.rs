//! Organizations: the tree of a root, organizational units and accounts, the SCPs and RCPs
//! attached in it, and what they mean for each account.
//!
//! # Model
//!
//! An [`Organization`] is one AWS organization with all features: an id (`o-` and ten
//! lowercase letters or digits), one [`Root`] (`r-` and four), [`OrganizationalUnit`]s
//! (`ou-<root suffix>-<eight>`) nested at most [`MAX_OU_DEPTH`] levels below the root, member
//! [`Account`]s (twelve digits, each with one parent) and one management account. Policies
//! ([`OrgPolicy`], `p-` and eight or more characters) are service control policies or resource
//! control policies ([`PolicyType`]); the AWS managed `FullAWSAccess` (`p-FullAWSAccess`) and
//! `RCPFullAWSAccess` (`p-RCPFullAWSAccess`) always exist. [`Organizations`] holds the
//! organization of an installation, if any, for `CreateOrganization` / `DeleteOrganization`.
//!
//! Each Organizations operation is a method returning `Result<_, OrgError>`; [`OrgError`]
//! carries the exception name, the `Reason` where the exception has one, AWS's message and the
//! HTTP status (400 for every client exception: the API model gives them no status of their
//! own). Ids come from an injected random source (`rand::Rng + rand::CryptoRng`); the crate
//! keeps no timestamps and reads no clock. It records membership only: it creates no IAM
//! account, and it does not authorize callers (the facade checks that the caller is the
//! management account).
//!
//! Policy documents are validated with `castellan-policy`'s `Scp` and `Rcp` kinds and kept
//! parsed (`Arc<Policy>`). Serialization writes the plain state only; deserialization parses
//! every stored document again.
//!
//! # Guardrails
//!
//! [`Organization::scp_chain`] and [`Organization::rcp_chain`] give, for an account, the path
//! root → each OU → the account as [`GuardrailLevel`]s with their attached, parsed policies
//! — or `None` when the layer does not apply (the account is outside the organization, the
//! type is disabled, or it is the management account). Service-linked roles are not subject
//! to SCPs: [`Organization::scp_chain_for_principal`] returns `None` for them, and
//! [`is_service_linked_role`] is the test. `castellan-eval` is not a dependency: the facade
//! turns each level into an `OrgLevel { id: &level.id, policies }` with one
//! `NamedPolicy { id: &p.id, policy: &p.policy }` per attached policy.
//!
//! [`Organization::org_keys`] gives `aws:PrincipalOrgID` / `aws:ResourceOrgID` (the
//! organization id) and `aws:PrincipalOrgPaths` / `aws:ResourceOrgPaths` (the account's parent
//! chain, `o-.../r-.../ou-.../`, ending in `/`).
//!
//! ```
//! use castellan_eval::{NamedPolicy, OrgLevel};
//! use castellan_org::{JoinedMethod, NewAccount, Organization};
//! use rand::SeedableRng;
//!
//! let mut rng = rand::rngs::StdRng::seed_from_u64(1);
//! let mut org = Organization::create("111111111111", &mut rng)?;
//! let dev = org.create_organizational_unit(&org.root().id.clone(), "Dev", &mut rng)?;
//! org.add_account(NewAccount {
//!     id: "222222222222".into(),
//!     name: "dev".into(),
//!     email: "dev@example.com".into(),
//!     joined_method: JoinedMethod::Created,
//! })?;
//! org.move_account("222222222222", &org.root().id.clone(), &dev.id)?;
//!
//! let chain = org.scp_chain("222222222222").unwrap_or_default();
//! let levels: Vec<OrgLevel<'_>> = chain
//!     .iter()
//!     .map(|level| OrgLevel {
//!         id: &level.id,
//!         policies: level.policies.iter().map(|p| NamedPolicy { id: &p.id, policy: &p.policy }).collect(),
//!     })
//!     .collect();
//! assert_eq!(levels.len(), 3); // the root, Dev, the account: each with FullAWSAccess
//! assert!(org.scp_chain("111111111111").is_none()); // the management account
//! let keys = org.org_keys("222222222222").unwrap_or_else(|| unreachable!());
//! assert_eq!(keys.org_path, format!("{}/{}/{}/", org.id(), org.root().id, dev.id));
//! # Ok::<(), castellan_org::OrgError>(())
//! ```
//!
//! # Centralized root access
//!
//! [`Organization::enable_root_credentials_management`] turns the feature on; the management
//! account may then [`Organization::remove_root_credentials`] of a member account (and
//! [`Organization::allow_root_credentials_recovery`]); accounts created while it is on start
//! without root credentials. [`Organization::root_credentials_allowed`] is what IAM asks
//! before creating a root login profile, access key or MFA device.
//!
//! # Choices where AWS is silent
//!
//! - Adding an account that is already a member is `HandshakeConstraintViolationException`
//!   (`ALREADY_IN_AN_ORGANIZATION`), whether the account was invited or created.
//! - `MoveAccount` with a source parent that exists but is not the account's parent is
//!   `AccountNotFoundException`; checks run in the order: id patterns, account, source,
//!   destination, account in source, destination equal to source (`DuplicateAccountException`).
//! - OU names are compared exactly (case-sensitive) among siblings; policy names are unique
//!   per policy type, exactly compared, AWS managed names included.
//! - The management account joins with `JoinedMethod::Invited` and is named by its id.
//! - `DetachPolicy` on a disabled type is `PolicyTypeNotEnabledException`; detaching
//!   `RCPFullAWSAccess` is `InvalidInputException` (`NON_DETACHABLE_POLICY`), checked after
//!   `PolicyNotAttachedException`.
//! - Policy types AWS has but this crate does not manage (tag, backup, ... policies) are
//!   `PolicyTypeNotAvailableForOrganizationException`.
//! - `AttachPolicy` / `DetachPolicy` check, in order: id patterns, policy, target, type
//!   enabled, then duplicate / not attached, then the non-detachable and count limits.
//! - An account email must match AWS's pattern `[^\s@]+@[^\s@]+\.[^\s@]+` (6–64 characters);
//!   a mismatch is `InvalidInputException` (`INVALID_PATTERN`).
//! - Malformed SCP/RCP documents are `MalformedPolicyDocumentException` whose message is AWS's
//!   sentence followed by castellan-policy's first diagnostic (with line and column); an
//!   over-long document is `ConstraintViolationException` (`POLICY_CONTENT_LIMIT_EXCEEDED`),
//!   tested before the grammar.
//! - No quota on the number of accounts (AWS's default of 10 is adjustable and mostly
//!   raised); 2,000 OUs, 10,000 SCPs and 1,000 RCPs are enforced.
//! - Centralized root access: removing or restoring credentials while the feature is off, or
//!   for the management account, is `AccessDeniedException`; disabling the feature keeps the
//!   recorded removals but stops enforcing them.

mod error;
mod guardrails;
mod id;
mod model;
mod org;

#[cfg(test)]
mod tests;

pub use error::{ConstraintReason, InvalidInputReason, OrgError, OrgErrorCode};
pub use guardrails::{
    AttachedPolicy, GuardrailLevel, OrgKeys, PRINCIPAL_ORG_ID, PRINCIPAL_ORG_PATHS, RESOURCE_ORG_ID,
    RESOURCE_ORG_PATHS, is_service_linked_role,
};
pub use id::{
    FULL_AWS_ACCESS_ID, RCP_FULL_AWS_ACCESS_ID, is_account_id, is_organization_id, is_ou_id, is_policy_id, is_root_id,
};
pub use model::{
    Account, ChildType, JoinedMethod, NewAccount, NewPolicy, Node, OrgPolicy, OrganizationDescription,
    OrganizationalUnit, PolicySummary, PolicyTargetSummary, PolicyType, PolicyUpdate, Root, TargetType,
};
pub use org::{
    FULL_AWS_ACCESS_CONTENT, MAX_ATTACHMENTS_PER_TYPE, MAX_OU_DEPTH, MAX_OUS, MAX_POLICY_CONTENT, Organization,
    Organizations, RCP_FULL_AWS_ACCESS_CONTENT,
};
