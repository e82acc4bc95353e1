//! What the organization means for one request: the SCP and RCP chains an evaluator applies,
//! and the organization condition keys of principals and resources.

use std::sync::Arc;

use castellan_policy::Policy;

use crate::model::PolicyType;
use crate::org::{Organization, Organizations};

/// `aws:PrincipalOrgID`.
pub const PRINCIPAL_ORG_ID: &str = "aws:PrincipalOrgID";
/// `aws:PrincipalOrgPaths` (multivalued).
pub const PRINCIPAL_ORG_PATHS: &str = "aws:PrincipalOrgPaths";
/// `aws:ResourceOrgID`.
pub const RESOURCE_ORG_ID: &str = "aws:ResourceOrgID";
/// `aws:ResourceOrgPaths` (multivalued).
pub const RESOURCE_ORG_PATHS: &str = "aws:ResourceOrgPaths";

/// A policy attached at one level, parsed.
#[derive(Debug, Clone)]
pub struct AttachedPolicy {
    /// `p-...`.
    pub id: String,
    /// The policy name (`FullAWSAccess`, ...).
    pub name: String,
    /// The parsed document.
    pub policy: Arc<Policy>,
}

/// One level of a chain: the root, an OU or the account, with the policies of one type
/// attached directly there. A level without policies allows nothing.
#[derive(Debug, Clone)]
pub struct GuardrailLevel {
    /// `r-...`, `ou-...` or the account id.
    pub id: String,
    /// The attached policies.
    pub policies: Vec<AttachedPolicy>,
}

/// The organization condition keys of one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgKeys {
    /// The organization id: the value of `aws:PrincipalOrgID` / `aws:ResourceOrgID`.
    pub org_id: String,
    /// `o-.../r-.../ou-.../.../`: the account's parent chain, ending in `/`; the one value of
    /// `aws:PrincipalOrgPaths` / `aws:ResourceOrgPaths` (multivalued keys).
    pub org_path: String,
}

impl OrgKeys {
    /// The principal-side keys: `(aws:PrincipalOrgID, id)` and `(aws:PrincipalOrgPaths, path)`.
    pub fn principal_entries(&self) -> [(&'static str, &str); 2] {
        [(PRINCIPAL_ORG_ID, &self.org_id), (PRINCIPAL_ORG_PATHS, &self.org_path)]
    }

    /// The resource-side keys: `(aws:ResourceOrgID, id)` and `(aws:ResourceOrgPaths, path)`.
    pub fn resource_entries(&self) -> [(&'static str, &str); 2] {
        [(RESOURCE_ORG_ID, &self.org_id), (RESOURCE_ORG_PATHS, &self.org_path)]
    }
}

/// Whether `principal_arn` is a service-linked role (`arn:...:iam::<account>:role/aws-service-role/...`),
/// which SCPs do not restrict.
pub fn is_service_linked_role(principal_arn: &str) -> bool {
    let mut parts = principal_arn.splitn(6, ':');
    let service = parts.nth(2);
    let resource = parts.nth(2);
    service == Some("iam") && resource.is_some_and(|r| r.starts_with("role/aws-service-role/"))
}

/// The account of an ARN (its fifth field), when it is twelve digits.
fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| crate::id::is_account_id(a))
}

impl Organization {
    fn chain(&self, account_id: &str, policy_type: PolicyType) -> Option<Vec<GuardrailLevel>> {
        if account_id == self.management_account_id() || !self.is_enabled(policy_type) {
            return None;
        }
        let path = self.target_path(account_id)?;
        Some(
            path.into_iter()
                .map(|target| GuardrailLevel {
                    id: target.to_owned(),
                    policies: self
                        .attached(target, policy_type)
                        .filter_map(|p| {
                            self.parsed_policy(&p.summary.id).map(|policy| AttachedPolicy {
                                id: p.summary.id.clone(),
                                name: p.summary.name.clone(),
                                policy: Arc::clone(policy),
                            })
                        })
                        .collect(),
                })
                .collect(),
        )
    }

    /// The SCPs that cap the principals of `account_id`, root first, then each OU, then the
    /// account; `None` when SCPs do not apply (the account is not a member, it is the
    /// management account, or SCPs are disabled). Service-linked roles are exempt too: see
    /// [`Organization::scp_chain_for_principal`].
    pub fn scp_chain(&self, account_id: &str) -> Option<Vec<GuardrailLevel>> {
        self.chain(account_id, PolicyType::ServiceControlPolicy)
    }

    /// [`Organization::scp_chain`] for the account of `principal_arn`, `None` for
    /// service-linked roles and for ARNs without an account. Pass the value of
    /// `aws:PrincipalArn` (for a role session, the role's ARN with its path): a session ARN
    /// (`assumed-role/...`) does not show the `aws-service-role/` path.
    pub fn scp_chain_for_principal(&self, principal_arn: &str) -> Option<Vec<GuardrailLevel>> {
        if is_service_linked_role(principal_arn) {
            return None;
        }
        self.scp_chain(arn_account(principal_arn)?)
    }

    /// The RCPs that cap access to the resources of `account_id`, root first; `None` when
    /// RCPs do not apply (the account is not a member, it is the management account, or
    /// RCPs are disabled).
    pub fn rcp_chain(&self, account_id: &str) -> Option<Vec<GuardrailLevel>> {
        self.chain(account_id, PolicyType::ResourceControlPolicy)
    }

    /// The path `o-.../r-.../ou-.../` of the account's parent chain, ending in `/`.
    pub fn org_path(&self, account_id: &str) -> Option<String> {
        let account = self.describe_account(account_id).ok()?;
        let mut path = format!("{}/{}/", self.id(), self.root().id);
        for ou in self.ou_path(&account.parent_id) {
            path.push_str(ou);
            path.push('/');
        }
        Some(path)
    }

    /// The organization keys of `account_id` (the management account included); `None` when
    /// it is not a member.
    pub fn org_keys(&self, account_id: &str) -> Option<OrgKeys> {
        Some(OrgKeys { org_id: self.id().to_owned(), org_path: self.org_path(account_id)? })
    }
}

impl Organizations {
    /// [`Organization::scp_chain`], `None` without an organization.
    pub fn scp_chain(&self, account_id: &str) -> Option<Vec<GuardrailLevel>> {
        self.get()?.scp_chain(account_id)
    }

    /// [`Organization::rcp_chain`], `None` without an organization.
    pub fn rcp_chain(&self, account_id: &str) -> Option<Vec<GuardrailLevel>> {
        self.get()?.rcp_chain(account_id)
    }

    /// [`Organization::org_keys`], `None` without an organization.
    pub fn org_keys(&self, account_id: &str) -> Option<OrgKeys> {
        self.get()?.org_keys(account_id)
    }

    /// [`Organization::root_credentials_allowed`]; always true without an organization.
    pub fn root_credentials_allowed(&self, account_id: &str) -> bool {
        self.get().is_none_or(|org| org.root_credentials_allowed(account_id))
    }
}
