//! Castellan: an identity and access management engine that behaves like AWS IAM.
//!
//! This crate is the facade: one [`Iam`] handle composing the store (`castellan-store`), the
//! credentials (`castellan-credentials`), STS (`castellan-sts`), organizations (`castellan-org`)
//! and the evaluator (`castellan-eval`). It adds wiring, not logic of its own:
//!
//! - **Authenticate**: [`Iam::authenticate`] turns a SigV4-signed request into a [`Caller`].
//! - **Authorize**: [`Iam::authorize`] decides an [`Access`] for a caller, with every global
//!   condition key AWS fills in filled in.
//! - **Administer**: IAM's operations (`create_user`, `attach_policy`, ...), each authorized
//!   first as AWS does (`AccessDenied` with AWS's message).
//! - **Audit**: one [`AuditEvent`] per call and per decision, to an [`AuditSink`].
//! - **Bootstrap**: opening a new data directory (or an in-memory `Iam`) creates an account and
//!   its root user's access key.
//!
//! ```
//! use castellan::{Access, Caller, Iam};
//! use castellan::store::NewUser;
//!
//! let iam = Iam::builder().seed(1).open()?;
//! let root = Caller::root(iam.bootstrap_account());
//! iam.create_user(&root, NewUser { name: "alice".into(), ..NewUser::default() })?;
//! let alice = Caller::user(iam.bootstrap_account(), "alice");
//! // A user with no policy may do nothing.
//! let decision = iam.authorize(&alice, &Access::new("s3:GetObject", "arn:aws:s3:::bucket/key"))?;
//! assert!(!decision.is_allowed());
//! # Ok::<(), castellan::IamError>(())
//! ```

mod admin;
mod audit;
mod authorize;
mod error;
#[doc = include_str!("../../../docs/guide.md")]
pub mod guide {}
mod iam;
mod last_used;
mod more_admin;
mod org_admin;
mod reset;
mod simulate;
mod sts_api;
mod subject;

pub use admin::{CreatedAccessKey, CreatedMfaDevice};
pub use audit::{AuditEvent, AuditKind, AuditSink, JsonLinesSink, MemorySink, NoAudit};
pub use authorize::{Access, Authorization};
pub use error::IamError;
pub use iam::{
    AUDIT_FILE, BOOTSTRAP_FILE, Iam, IamBuilder, KEYS_FILE, ROOT_CREDENTIALS_FILE, RootCredentials,
    check_root_access_key, shared_credentials,
};
pub use last_used::{AccessKeyLastUsedInfo, RoleLastUsed, ServiceLastAccessed, ServiceLastAccessedDetails};
pub use more_admin::{
    AccountAuthorizationDetails, AuthorizationDetailsFilter, CREDENTIAL_REPORT_COLUMNS, CredentialReport, EntityFilter,
    GroupDetail, ManagedPolicyDetail, PolicyEntities, PolicyEntity, PolicyUsage, ReportState, RoleDetail, UserDetail,
};
pub use org_admin::ORGANIZATION_ACCOUNT_ACCESS_ROLE;
pub use simulate::{
    ContextEntry, ContextKeyType, EvalDecision, EvaluationResult, OrganizationsDecisionDetail,
    PermissionsBoundaryDecisionDetail, PolicySourceType, ResourceSpecificResult, SimulateCustomPolicyRequest,
    SimulatePrincipalPolicyRequest, SimulatedOrgLevel, SimulationExtensions, SimulationResults, SimulationStatement,
    StatementPosition,
};
pub use subject::{Caller, Identity};

/// Credentials: passwords, access keys, MFA, SigV4 (`castellan-credentials`).
pub use castellan_credentials as credentials;
/// The evaluator (`castellan-eval`).
pub use castellan_eval as eval;
/// Organizations (`castellan-org`).
pub use castellan_org as org;
/// The policy language (`castellan-policy`).
pub use castellan_policy as policy;
/// The identity store (`castellan-store`).
pub use castellan_store as store;
/// Temporary sessions (`castellan-sts`).
pub use castellan_sts as sts;
