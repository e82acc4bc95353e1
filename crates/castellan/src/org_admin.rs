//! AWS Organizations' operations: authorized like every call (`organizations:ACTION` on the
//! organization's resource ARNs), and, as AWS requires, made from the management account except
//! `CreateOrganization` and `DescribeOrganization`.

use castellan_org::{
    Account, JoinedMethod, NewAccount, NewPolicy as NewOrgPolicy, OrgPolicy, OrganizationDescription,
    OrganizationalUnit, Organizations, PolicySummary, PolicyTargetSummary, PolicyType, PolicyUpdate, Root,
};
use castellan_policy::AccountId;
use castellan_store::{Entity, NewRole};
use rand::Rng;

use crate::authorize::Access;
use crate::error::IamError;
use crate::iam::Iam;
use crate::subject::Caller;

/// The role `CreateAccount` makes in each new member account, which the management account may
/// assume.
pub const ORGANIZATION_ACCOUNT_ACCESS_ROLE: &str = "OrganizationAccountAccessRole";

fn not_in_use() -> IamError {
    IamError::new("AWSOrganizationsNotInUseException", 400, "Your account is not a member of an organization.")
}

fn not_management() -> IamError {
    IamError::new("AccessDeniedException", 400, "You don't have permissions to access this resource.")
}

/// `arn:aws:organizations::MGMT:KIND/o-ID[/REST]`.
fn org_arn(orgs: &Organizations, kind: &str, rest: Option<&str>) -> String {
    match orgs.get() {
        Some(org) => {
            let base = format!("arn:aws:organizations::{}:{kind}/{}", org.management_account_id(), org.id());
            match rest {
                Some(rest) => format!("{base}/{rest}"),
                None => base,
            }
        }
        None => "*".to_owned(),
    }
}

/// The ARN of a target (root, OU or account) of the organization.
fn target_arn(orgs: &Organizations, target: &str) -> String {
    if target.starts_with("r-") {
        org_arn(orgs, "root", Some(target))
    } else if target.starts_with("ou-") {
        org_arn(orgs, "ou", Some(target))
    } else {
        org_arn(orgs, "account", Some(target))
    }
}

fn policy_arn(orgs: &Organizations, policy_id: &str) -> String {
    let kind = orgs.get().and_then(|org| org.describe_policy(policy_id).ok()).map_or("service_control_policy", |p| {
        match p.summary.policy_type {
            PolicyType::ServiceControlPolicy => "service_control_policy",
            PolicyType::ResourceControlPolicy => "resource_control_policy",
        }
    });
    if policy_id.starts_with("p-FullAWSAccess") || policy_id == castellan_org::RCP_FULL_AWS_ACCESS_ID {
        return format!("arn:aws:organizations::aws:policy/{kind}/{policy_id}");
    }
    org_arn(orgs, "policy", Some(&format!("{kind}/{policy_id}")))
}

/// An Organizations question: its resources are governed by the calling account's own policies
/// (the organization's ARNs name the management account, but a member account's call is refused
/// by the management-account rule, not as a cross-account request).
fn org_access<'a>(caller: &'a Caller, action: &'a str, resource: &'a str) -> Access<'a> {
    Access { resource_account: Some(caller.account()), ..Access::new(action, resource) }
}

impl Iam {
    /// Runs an Organizations call: authorizes `action` on the resource `resource` names, checks
    /// the caller is the management account (when `management_only`), then applies `change` to
    /// the organization's state (persisted and published only if it succeeds).
    fn org_change<T>(
        &self,
        caller: &Caller,
        action: &str,
        resource: impl FnOnce(&Organizations) -> String,
        change: impl FnOnce(&mut Organizations, &mut dyn rand::CryptoRng) -> Result<T, IamError>,
    ) -> Result<T, IamError> {
        let current = self.directory.organizations();
        let resource = resource(&current);
        self.call_on(caller, &org_access(caller, action, &resource), |_| {
            self.directory.update_organizations(|orgs, rng| {
                if action != "organizations:CreateOrganization" {
                    let org = orgs.get().ok_or_else(not_in_use)?;
                    if org.management_account_id() != caller.account() {
                        return Err(not_management());
                    }
                }
                change(orgs, rng)
            })
        })
    }

    /// Runs a read-only Organizations call from the management account.
    fn org_read<T>(
        &self,
        caller: &Caller,
        action: &str,
        resource: impl FnOnce(&Organizations) -> String,
        read: impl FnOnce(&castellan_org::Organization) -> Result<T, IamError>,
    ) -> Result<T, IamError> {
        let current = self.directory.organizations();
        let resource = resource(&current);
        self.call_on(caller, &org_access(caller, action, &resource), |_| {
            let org = current.get().ok_or_else(not_in_use)?;
            if org.management_account_id() != caller.account() {
                return Err(not_management());
            }
            read(org)
        })
    }

    /// `CreateOrganization`: the caller's account becomes the management account of a new
    /// organization with all features and SCPs enabled.
    pub fn create_organization(&self, caller: &Caller) -> Result<OrganizationDescription, IamError> {
        let account = caller.account().to_owned();
        self.org_change(
            caller,
            "organizations:CreateOrganization",
            |_| "*".to_owned(),
            |orgs, rng| Ok(orgs.create_organization(&account, rng)?.describe()),
        )
    }

    /// `DescribeOrganization` (any member account may call it).
    pub fn describe_organization(&self, caller: &Caller) -> Result<OrganizationDescription, IamError> {
        let current = self.directory.organizations();
        let resource = org_arn(&current, "organization", None);
        self.call_on(caller, &org_access(caller, "organizations:DescribeOrganization", &resource), |_| {
            let org = current.get().ok_or_else(not_in_use)?;
            if !org.is_member(caller.account()) {
                return Err(not_in_use());
            }
            Ok(org.describe())
        })
    }

    /// The organization's root (`ListRoots`).
    pub fn list_roots(&self, caller: &Caller) -> Result<Vec<Root>, IamError> {
        self.org_read(
            caller,
            "organizations:ListRoots",
            |o| org_arn(o, "organization", None),
            |org| Ok(vec![org.root().clone()]),
        )
    }

    /// `CreateOrganizationalUnit`.
    pub fn create_organizational_unit(
        &self,
        caller: &Caller,
        parent_id: &str,
        name: &str,
    ) -> Result<OrganizationalUnit, IamError> {
        self.org_change(
            caller,
            "organizations:CreateOrganizationalUnit",
            |o| target_arn(o, parent_id),
            |orgs, rng| Ok(orgs.organization_mut()?.create_organizational_unit(parent_id, name, rng)?),
        )
    }

    /// `UpdateOrganizationalUnit` (rename).
    pub fn update_organizational_unit(
        &self,
        caller: &Caller,
        ou_id: &str,
        name: &str,
    ) -> Result<OrganizationalUnit, IamError> {
        self.org_change(
            caller,
            "organizations:UpdateOrganizationalUnit",
            |o| target_arn(o, ou_id),
            |orgs, _| Ok(orgs.organization_mut()?.update_organizational_unit(ou_id, name)?),
        )
    }

    /// `DeleteOrganizationalUnit` (it must be empty).
    pub fn delete_organizational_unit(&self, caller: &Caller, ou_id: &str) -> Result<(), IamError> {
        self.org_change(
            caller,
            "organizations:DeleteOrganizationalUnit",
            |o| target_arn(o, ou_id),
            |orgs, _| Ok(orgs.organization_mut()?.delete_organizational_unit(ou_id)?),
        )
    }

    /// `CreateAccount`: a new account in this Castellan, a member of the organization under its
    /// root, with an `OrganizationAccountAccessRole` (trusting the management account, with
    /// `AdministratorAccess`), created synchronously.
    pub fn create_account(&self, caller: &Caller, name: &str, email: &str) -> Result<Account, IamError> {
        let management = caller.account().to_owned();
        self.org_change(caller, "organizations:CreateAccount", |o| org_arn(o, "organization", None), |orgs, rng| {
            let id = loop {
                let id = format!("{:012}", rng.random_range(100_000_000_000u64..1_000_000_000_000));
                if self.directory.snapshot(&id).is_none() {
                    break id;
                }
            };
            let account = orgs.organization_mut()?.add_account(NewAccount {
                id: id.clone(),
                name: name.to_owned(),
                email: email.to_owned(),
                joined_method: JoinedMethod::Created,
            })?;
            let account_id = AccountId::parse(&id).map_err(|e| IamError::service_failure(e.to_string()))?;
            let store = self.directory.create_account(account_id)?;
            let trust = format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{management}:root"}},"Action":"sts:AssumeRole"}}]}}"#
            );
            store.create_role(NewRole {
                name: ORGANIZATION_ACCOUNT_ACCESS_ROLE.to_owned(),
                assume_role_policy_document: trust,
                ..NewRole::default()
            })?;
            store.attach_policy(Entity::Role(ORGANIZATION_ACCOUNT_ACCESS_ROLE), "arn:aws:iam::aws:policy/AdministratorAccess")?;
            Ok(account)
        })
    }

    /// `MoveAccount`.
    pub fn move_account(
        &self,
        caller: &Caller,
        account_id: &str,
        source: &str,
        destination: &str,
    ) -> Result<(), IamError> {
        self.org_change(
            caller,
            "organizations:MoveAccount",
            |o| target_arn(o, account_id),
            |orgs, _| Ok(orgs.organization_mut()?.move_account(account_id, source, destination)?),
        )
    }

    /// `RemoveAccountFromOrganization`.
    pub fn remove_account_from_organization(&self, caller: &Caller, account_id: &str) -> Result<(), IamError> {
        self.org_change(
            caller,
            "organizations:RemoveAccountFromOrganization",
            |o| target_arn(o, account_id),
            |orgs, _| Ok(orgs.organization_mut()?.remove_account(account_id)?),
        )
    }

    /// `ListAccounts`.
    pub fn list_accounts(&self, caller: &Caller) -> Result<Vec<Account>, IamError> {
        self.org_read(
            caller,
            "organizations:ListAccounts",
            |o| org_arn(o, "organization", None),
            |org| Ok(org.list_accounts().into_iter().cloned().collect()),
        )
    }

    /// `CreatePolicy` (SCP or RCP).
    pub fn create_org_policy(&self, caller: &Caller, policy: NewOrgPolicy) -> Result<PolicySummary, IamError> {
        self.org_change(
            caller,
            "organizations:CreatePolicy",
            |o| org_arn(o, "organization", None),
            |orgs, rng| Ok(orgs.organization_mut()?.create_policy(policy, rng)?),
        )
    }

    /// `UpdatePolicy`.
    pub fn update_org_policy(
        &self,
        caller: &Caller,
        policy_id: &str,
        update: PolicyUpdate,
    ) -> Result<OrgPolicy, IamError> {
        self.org_change(
            caller,
            "organizations:UpdatePolicy",
            |o| policy_arn(o, policy_id),
            |orgs, _| Ok(orgs.organization_mut()?.update_policy(policy_id, update)?),
        )
    }

    /// `DeletePolicy`.
    pub fn delete_org_policy(&self, caller: &Caller, policy_id: &str) -> Result<(), IamError> {
        self.org_change(
            caller,
            "organizations:DeletePolicy",
            |o| policy_arn(o, policy_id),
            |orgs, _| Ok(orgs.organization_mut()?.delete_policy(policy_id)?),
        )
    }

    /// `AttachPolicy`.
    pub fn attach_org_policy(&self, caller: &Caller, policy_id: &str, target_id: &str) -> Result<(), IamError> {
        self.org_change(
            caller,
            "organizations:AttachPolicy",
            |o| policy_arn(o, policy_id),
            |orgs, _| Ok(orgs.organization_mut()?.attach_policy(policy_id, target_id)?),
        )
    }

    /// `DetachPolicy`.
    pub fn detach_org_policy(&self, caller: &Caller, policy_id: &str, target_id: &str) -> Result<(), IamError> {
        self.org_change(
            caller,
            "organizations:DetachPolicy",
            |o| policy_arn(o, policy_id),
            |orgs, _| Ok(orgs.organization_mut()?.detach_policy(policy_id, target_id)?),
        )
    }

    /// `EnablePolicyType`.
    pub fn enable_policy_type(
        &self,
        caller: &Caller,
        root_id: &str,
        policy_type: PolicyType,
    ) -> Result<Root, IamError> {
        self.org_change(
            caller,
            "organizations:EnablePolicyType",
            |o| target_arn(o, root_id),
            |orgs, _| Ok(orgs.organization_mut()?.enable_policy_type(root_id, policy_type)?),
        )
    }

    /// `DisablePolicyType`.
    pub fn disable_policy_type(
        &self,
        caller: &Caller,
        root_id: &str,
        policy_type: PolicyType,
    ) -> Result<Root, IamError> {
        self.org_change(
            caller,
            "organizations:DisablePolicyType",
            |o| target_arn(o, root_id),
            |orgs, _| Ok(orgs.organization_mut()?.disable_policy_type(root_id, policy_type)?),
        )
    }

    /// `ListPolicies` of a type.
    pub fn list_org_policies(&self, caller: &Caller, policy_type: PolicyType) -> Result<Vec<PolicySummary>, IamError> {
        self.org_read(
            caller,
            "organizations:ListPolicies",
            |o| org_arn(o, "organization", None),
            |org| Ok(org.list_policies(policy_type).into_iter().cloned().collect()),
        )
    }

    /// `ListPoliciesForTarget`.
    pub fn list_org_policies_for_target(
        &self,
        caller: &Caller,
        target_id: &str,
        policy_type: PolicyType,
    ) -> Result<Vec<PolicySummary>, IamError> {
        self.org_read(
            caller,
            "organizations:ListPoliciesForTarget",
            |o| target_arn(o, target_id),
            |org| Ok(org.list_policies_for_target(target_id, policy_type)?.into_iter().cloned().collect()),
        )
    }

    /// `ListTargetsForPolicy`.
    pub fn list_targets_for_org_policy(
        &self,
        caller: &Caller,
        policy_id: &str,
    ) -> Result<Vec<PolicyTargetSummary>, IamError> {
        self.org_read(
            caller,
            "organizations:ListTargetsForPolicy",
            |o| policy_arn(o, policy_id),
            |org| Ok(org.list_targets_for_policy(policy_id)?),
        )
    }

    /// `DescribePolicy`: a policy with its content (from the management account).
    pub fn describe_org_policy(&self, caller: &Caller, policy_id: &str) -> Result<OrgPolicy, IamError> {
        self.org_read(
            caller,
            "organizations:DescribePolicy",
            |o| policy_arn(o, policy_id),
            |org| Ok(org.describe_policy(policy_id)?.clone()),
        )
    }

    /// `DescribeAccount`: an account of the organization (from the management account).
    pub fn describe_org_account(&self, caller: &Caller, account_id: &str) -> Result<Account, IamError> {
        self.org_read(
            caller,
            "organizations:DescribeAccount",
            |o| target_arn(o, account_id),
            |org| Ok(org.describe_account(account_id)?.clone()),
        )
    }
}
