//! The organization's state and the Organizations operations on it, with AWS's checks, limits
//! and errors.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use castellan_policy::Policy;
use rand::{CryptoRng, Rng};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{ConstraintReason, InvalidInputReason, OrgError, OrgErrorCode};
use crate::id::{self, RCP_FULL_AWS_ACCESS_ID};
use crate::model::{
    Account, ChildType, JoinedMethod, NewAccount, NewPolicy, Node, OrgPolicy, OrganizationDescription,
    OrganizationalUnit, PolicySummary, PolicyTargetSummary, PolicyType, PolicyUpdate, Root, TargetType,
};

/// OUs may nest at most this many levels below the root.
pub const MAX_OU_DEPTH: usize = 5;
/// The default quota of OUs in an organization.
pub const MAX_OUS: usize = 2_000;
/// At most this many policies of one type may be attached to one target.
pub const MAX_ATTACHMENTS_PER_TYPE: usize = 5;
/// The longest SCP or RCP document, in characters, whitespace included.
pub const MAX_POLICY_CONTENT: usize = 5_120;

/// The document of `FullAWSAccess`.
pub const FULL_AWS_ACCESS_CONTENT: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
/// The document of `RCPFullAWSAccess`.
pub const RCP_FULL_AWS_ACCESS_CONTENT: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#;

/// What is persisted: everything except the parsed documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct State {
    id: String,
    management_account_id: String,
    root: Root,
    organizational_units: BTreeMap<String, OrganizationalUnit>,
    accounts: BTreeMap<String, Account>,
    policies: BTreeMap<String, OrgPolicy>,
    /// Target id to the ids of the policies attached to it.
    attachments: BTreeMap<String, BTreeSet<String>>,
    root_credentials_management: bool,
    root_credentials_removed: BTreeSet<String>,
}

/// One organization: its root, OUs, accounts, policies and attachments.
///
/// Serializing writes the state without the parsed policy documents; deserializing parses
/// every stored document again (so a stored organization cannot hold a document this build
/// would reject without the load failing loudly).
#[derive(Debug, Clone)]
pub struct Organization {
    state: State,
    parsed: BTreeMap<String, Arc<Policy>>,
}

impl PartialEq for Organization {
    fn eq(&self, other: &Organization) -> bool {
        self.state == other.state
    }
}

impl Serialize for Organization {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.state.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Organization {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Organization, D::Error> {
        let state = State::deserialize(deserializer)?;
        Organization::restore(state).map_err(serde::de::Error::custom)
    }
}

fn length_error(field: &str, min: usize, max: usize, value: &str) -> Option<OrgError> {
    let n = value.chars().count();
    if n < min {
        Some(OrgError::invalid_input(
            InvalidInputReason::MinLengthExceeded,
            format!("You provided a value for {field} that is shorter than the minimum length of {min}."),
        ))
    } else if n > max {
        Some(OrgError::invalid_input(
            InvalidInputReason::MaxLengthExceeded,
            format!("You provided a value for {field} that is longer than the maximum length of {max}."),
        ))
    } else {
        None
    }
}

/// AWS's email pattern, `[^\s@]+@[^\s@]+\.[^\s@]+`.
fn is_email(text: &str) -> bool {
    let plain = |s: &str| !s.is_empty() && !s.chars().any(|c| c.is_whitespace() || c == '@');
    text.split_once('@').is_some_and(|(local, domain)| {
        plain(local) && domain.rsplit_once('.').is_some_and(|(host, tld)| plain(host) && plain(tld))
    })
}

fn check_length(field: &str, min: usize, max: usize, value: &str) -> Result<(), OrgError> {
    length_error(field, min, max, value).map_or(Ok(()), Err)
}

/// Parses `content` as a policy of `policy_type`, with Organizations' errors.
fn parse_content(content: &str, policy_type: PolicyType) -> Result<Policy, OrgError> {
    check_length("Content", 1, usize::MAX, content)?;
    if content.chars().count() > MAX_POLICY_CONTENT {
        return Err(content_too_long());
    }
    let checked = castellan_policy::check(content, policy_type.kind());
    if let Some(d) = checked.errors().next() {
        return Err(match d.code {
            castellan_policy::ErrorCode::ConstraintViolation | castellan_policy::ErrorCode::LimitExceeded => {
                content_too_long()
            }
            _ => OrgError::new(
                OrgErrorCode::MalformedPolicyDocument,
                format!(
                    "The provided policy document does not meet the requirements of the specified policy type: {d}"
                ),
            ),
        });
    }
    checked.policy.ok_or_else(|| {
        OrgError::new(
            OrgErrorCode::MalformedPolicyDocument,
            "The provided policy document does not meet the requirements of the specified policy type.",
        )
    })
}

fn content_too_long() -> OrgError {
    OrgError::constraint(
        ConstraintReason::PolicyContentLimitExceeded,
        format!("The policy content exceeds the maximum size of {MAX_POLICY_CONTENT} characters."),
    )
}

fn managed_policy(policy_type: PolicyType) -> OrgPolicy {
    let (name, description, content) = match policy_type {
        PolicyType::ServiceControlPolicy => {
            ("FullAWSAccess", "Allows access to every operation", FULL_AWS_ACCESS_CONTENT)
        }
        PolicyType::ResourceControlPolicy => {
            ("RCPFullAWSAccess", "Allows access to every operation", RCP_FULL_AWS_ACCESS_CONTENT)
        }
    };
    let id = policy_type.full_access_id();
    OrgPolicy {
        summary: PolicySummary {
            id: id.to_owned(),
            arn: format!("arn:aws:organizations::aws:policy/{}/{id}", policy_type.arn_word()),
            name: name.to_owned(),
            description: description.to_owned(),
            policy_type,
            aws_managed: true,
        },
        content: content.to_owned(),
    }
}

impl Organization {
    /// `CreateOrganization` with all features: `management_account_id` becomes the management
    /// account, under a new root in which SCPs are enabled (`FullAWSAccess` attached to the
    /// root and the management account). RCPs start disabled.
    pub fn create<R: Rng + CryptoRng + ?Sized>(
        management_account_id: &str,
        rng: &mut R,
    ) -> Result<Organization, OrgError> {
        id::check_account_id(management_account_id)?;
        let org_id = id::new_organization_id(rng);
        let root_id = id::new_root_id(rng);
        let root = Root {
            arn: format!("arn:aws:organizations::{management_account_id}:root/{org_id}/{root_id}"),
            id: root_id.clone(),
            name: "Root".to_owned(),
            policy_types: Vec::new(),
        };
        let policies = PolicyType::ALL.map(|t| (t.full_access_id().to_owned(), managed_policy(t))).into();
        let state = State {
            id: org_id,
            management_account_id: management_account_id.to_owned(),
            root,
            organizational_units: BTreeMap::new(),
            accounts: BTreeMap::new(),
            policies,
            attachments: BTreeMap::new(),
            root_credentials_management: false,
            root_credentials_removed: BTreeSet::new(),
        };
        let mut org = Organization::restore(state)?;
        let management = Account {
            arn: org.account_arn(management_account_id),
            id: management_account_id.to_owned(),
            name: management_account_id.to_owned(),
            email: String::new(),
            parent_id: root_id.clone(),
            joined_method: JoinedMethod::Invited,
        };
        org.state.accounts.insert(management_account_id.to_owned(), management);
        org.enable_policy_type(&root_id, PolicyType::ServiceControlPolicy)?;
        Ok(org)
    }

    /// Rebuilds the parsed documents of a deserialized state.
    fn restore(mut state: State) -> Result<Organization, OrgError> {
        for t in PolicyType::ALL {
            state.policies.entry(t.full_access_id().to_owned()).or_insert_with(|| managed_policy(t));
        }
        let mut parsed = BTreeMap::new();
        for (id, policy) in &state.policies {
            let document = parse_content(&policy.content, policy.summary.policy_type)?;
            parsed.insert(id.clone(), Arc::new(document));
        }
        Ok(Organization { state, parsed })
    }

    // ----- descriptions -------------------------------------------------------------------

    /// The organization id (`o-...`).
    pub fn id(&self) -> &str {
        &self.state.id
    }

    /// The management account id.
    pub fn management_account_id(&self) -> &str {
        &self.state.management_account_id
    }

    /// `DescribeOrganization`.
    pub fn describe(&self) -> OrganizationDescription {
        let management = &self.state.management_account_id;
        OrganizationDescription {
            id: self.state.id.clone(),
            arn: format!("arn:aws:organizations::{management}:organization/{}", self.state.id),
            feature_set: "ALL".to_owned(),
            master_account_id: management.clone(),
            master_account_arn: self.account_arn(management),
        }
    }

    /// The root (`ListRoots` has exactly this one entry).
    pub fn root(&self) -> &Root {
        &self.state.root
    }

    /// Whether `policy_type` is enabled in the root.
    pub fn is_enabled(&self, policy_type: PolicyType) -> bool {
        self.state.root.policy_types.contains(&policy_type)
    }

    /// `DescribeOrganizationalUnit`.
    pub fn describe_organizational_unit(&self, ou_id: &str) -> Result<&OrganizationalUnit, OrgError> {
        id::check_ou_id(ou_id)?;
        self.state.organizational_units.get(ou_id).ok_or_else(OrgError::ou_not_found)
    }

    /// `DescribeAccount`.
    pub fn describe_account(&self, account_id: &str) -> Result<&Account, OrgError> {
        id::check_account_id(account_id)?;
        self.state.accounts.get(account_id).ok_or_else(OrgError::account_not_found)
    }

    /// `DescribePolicy`.
    pub fn describe_policy(&self, policy_id: &str) -> Result<&OrgPolicy, OrgError> {
        id::check_policy_id(policy_id)?;
        self.state.policies.get(policy_id).ok_or_else(OrgError::policy_not_found)
    }

    /// The parsed document of a policy.
    pub fn parsed_policy(&self, policy_id: &str) -> Option<&Arc<Policy>> {
        self.parsed.get(policy_id)
    }

    /// Whether `account_id` is in the organization (the management account included).
    pub fn is_member(&self, account_id: &str) -> bool {
        self.state.accounts.contains_key(account_id)
    }

    fn account_arn(&self, account_id: &str) -> String {
        format!("arn:aws:organizations::{}:account/{}/{account_id}", self.state.management_account_id, self.state.id)
    }

    fn is_parent(&self, parent_id: &str) -> bool {
        parent_id == self.state.root.id || self.state.organizational_units.contains_key(parent_id)
    }

    fn target_type(&self, target_id: &str) -> Option<TargetType> {
        if target_id == self.state.root.id {
            Some(TargetType::Root)
        } else if self.state.organizational_units.contains_key(target_id) {
            Some(TargetType::OrganizationalUnit)
        } else if self.state.accounts.contains_key(target_id) {
            Some(TargetType::Account)
        } else {
            None
        }
    }

    fn parent_of(&self, id: &str) -> Option<&str> {
        if let Some(ou) = self.state.organizational_units.get(id) {
            Some(&ou.parent_id)
        } else {
            self.state.accounts.get(id).map(|a| a.parent_id.as_str())
        }
    }

    /// The OUs from the root down to `parent_id` (included when it is an OU), root excluded.
    pub(crate) fn ou_path(&self, parent_id: &str) -> Vec<&str> {
        let mut path = Vec::new();
        let mut current = parent_id;
        // The bound guards against a corrupted (cyclic) stored tree.
        while let Some(ou) = self.state.organizational_units.get(current) {
            if path.len() > MAX_OU_DEPTH {
                break;
            }
            path.push(ou.id.as_str());
            current = &ou.parent_id;
        }
        path.reverse();
        path
    }

    // ----- organizational units -----------------------------------------------------------

    fn check_ou_name(&self, parent_id: &str, name: &str, except: Option<&str>) -> Result<(), OrgError> {
        check_length("Name", 1, 128, name)?;
        let taken = self
            .state
            .organizational_units
            .values()
            .any(|ou| ou.parent_id == parent_id && ou.name == name && Some(ou.id.as_str()) != except);
        if taken {
            return Err(OrgError::new(
                OrgErrorCode::DuplicateOrganizationalUnit,
                "An OU with the same name already exists.",
            ));
        }
        Ok(())
    }

    /// `CreateOrganizationalUnit`: a new OU under a root or OU, at most five levels below the
    /// root, its name unique among its siblings. Every enabled type's full-access policy is
    /// attached to it.
    pub fn create_organizational_unit<R: Rng + CryptoRng + ?Sized>(
        &mut self,
        parent_id: &str,
        name: &str,
        rng: &mut R,
    ) -> Result<OrganizationalUnit, OrgError> {
        id::check_parent_id(parent_id)?;
        check_length("Name", 1, 128, name)?;
        if !self.is_parent(parent_id) {
            return Err(OrgError::parent_not_found());
        }
        if self.ou_path(parent_id).len() >= MAX_OU_DEPTH {
            return Err(OrgError::constraint(
                ConstraintReason::OuDepthLimitExceeded,
                format!(
                    "You attempted to create an OU tree that is too many levels deep (the maximum is {MAX_OU_DEPTH} levels below the root)."
                ),
            ));
        }
        if self.state.organizational_units.len() >= MAX_OUS {
            return Err(OrgError::constraint(
                ConstraintReason::OuNumberLimitExceeded,
                format!("You attempted to exceed the number of OUs that you can have in an organization ({MAX_OUS})."),
            ));
        }
        self.check_ou_name(parent_id, name, None)?;
        let mut ou_id = id::new_ou_id(rng, &self.state.root.id);
        while self.state.organizational_units.contains_key(&ou_id) {
            ou_id = id::new_ou_id(rng, &self.state.root.id);
        }
        let ou = OrganizationalUnit {
            arn: format!("arn:aws:organizations::{}:ou/{}/{ou_id}", self.state.management_account_id, self.state.id),
            id: ou_id.clone(),
            name: name.to_owned(),
            parent_id: parent_id.to_owned(),
        };
        self.state.organizational_units.insert(ou_id.clone(), ou.clone());
        self.attach_full_access(&ou_id);
        Ok(ou)
    }

    /// `UpdateOrganizationalUnit`: renames an OU.
    pub fn update_organizational_unit(&mut self, ou_id: &str, name: &str) -> Result<OrganizationalUnit, OrgError> {
        id::check_ou_id(ou_id)?;
        check_length("Name", 1, 128, name)?;
        let parent_id = self.describe_organizational_unit(ou_id)?.parent_id.clone();
        self.check_ou_name(&parent_id, name, Some(ou_id))?;
        let ou = self.state.organizational_units.get_mut(ou_id).ok_or_else(OrgError::ou_not_found)?;
        name.clone_into(&mut ou.name);
        Ok(ou.clone())
    }

    /// `DeleteOrganizationalUnit`: only an OU with no child OU and no account; its
    /// attachments go with it.
    pub fn delete_organizational_unit(&mut self, ou_id: &str) -> Result<(), OrgError> {
        self.describe_organizational_unit(ou_id)?;
        let has_children = self.state.organizational_units.values().any(|ou| ou.parent_id == ou_id)
            || self.state.accounts.values().any(|a| a.parent_id == ou_id);
        if has_children {
            return Err(OrgError::new(
                OrgErrorCode::OrganizationalUnitNotEmpty,
                "The specified OU is not empty. Move all accounts to another root or to other OUs, remove all child OUs, and try the operation again.",
            ));
        }
        self.state.organizational_units.remove(ou_id);
        self.state.attachments.remove(ou_id);
        Ok(())
    }

    // ----- accounts -----------------------------------------------------------------------

    /// Records an invited or created account as a member, under the root. Every enabled
    /// type's full-access policy is attached to it; an account created while centralized
    /// root access is enabled starts without root credentials.
    pub fn add_account(&mut self, account: NewAccount) -> Result<Account, OrgError> {
        id::check_account_id(&account.id)?;
        check_length("AccountName", 1, 50, &account.name)?;
        check_length("Email", 6, 64, &account.email)?;
        if !is_email(&account.email) {
            return Err(OrgError::invalid_input(
                InvalidInputReason::InvalidPattern,
                format!(
                    "You provided a value that does not match the required pattern: `{}` is not an email address.",
                    account.email
                ),
            ));
        }
        if self.state.accounts.contains_key(&account.id) {
            return Err(OrgError {
                code: OrgErrorCode::HandshakeConstraintViolation,
                reason: Some("ALREADY_IN_AN_ORGANIZATION"),
                message: "The account is already a member of an organization.".to_owned(),
            });
        }
        let record = Account {
            arn: self.account_arn(&account.id),
            parent_id: self.state.root.id.clone(),
            id: account.id,
            name: account.name,
            email: account.email,
            joined_method: account.joined_method,
        };
        if record.joined_method == JoinedMethod::Created && self.state.root_credentials_management {
            self.state.root_credentials_removed.insert(record.id.clone());
        }
        self.state.accounts.insert(record.id.clone(), record.clone());
        self.attach_full_access(&record.id);
        Ok(record)
    }

    /// `MoveAccount` from `source_parent_id` to `destination_parent_id`.
    pub fn move_account(
        &mut self,
        account_id: &str,
        source_parent_id: &str,
        destination_parent_id: &str,
    ) -> Result<(), OrgError> {
        id::check_account_id(account_id)?;
        id::check_parent_id(source_parent_id)?;
        id::check_parent_id(destination_parent_id)?;
        let current = self.describe_account(account_id)?.parent_id.clone();
        if !self.is_parent(source_parent_id) {
            return Err(OrgError::new(
                OrgErrorCode::SourceParentNotFound,
                "We can't find a source root or OU with the ParentId that you specified.",
            ));
        }
        if !self.is_parent(destination_parent_id) {
            return Err(OrgError::new(
                OrgErrorCode::DestinationParentNotFound,
                "We can't find the destination container (a root or OU) with the ParentId that you specified.",
            ));
        }
        if current != source_parent_id {
            return Err(OrgError::new(
                OrgErrorCode::AccountNotFound,
                "You specified an account that doesn't exist in the specified source parent.",
            ));
        }
        if current == destination_parent_id {
            return Err(OrgError::new(
                OrgErrorCode::DuplicateAccount,
                "That account is already present in the specified destination.",
            ));
        }
        let account = self.state.accounts.get_mut(account_id).ok_or_else(OrgError::account_not_found)?;
        destination_parent_id.clone_into(&mut account.parent_id);
        Ok(())
    }

    /// `RemoveAccountFromOrganization`: not the management account; the account's
    /// attachments and root-credential flag go with it.
    pub fn remove_account(&mut self, account_id: &str) -> Result<(), OrgError> {
        self.describe_account(account_id)?;
        if account_id == self.state.management_account_id {
            return Err(OrgError::new(
                OrgErrorCode::MasterCannotLeaveOrganization,
                "You can't remove a management account from an organization. If you want the management account to become a member account in another organization, you must first delete the current organization of the management account.",
            ));
        }
        self.state.accounts.remove(account_id);
        self.state.attachments.remove(account_id);
        self.state.root_credentials_removed.remove(account_id);
        Ok(())
    }

    /// `ListAccounts`.
    pub fn list_accounts(&self) -> Vec<&Account> {
        self.state.accounts.values().collect()
    }

    /// `ListAccountsForParent`.
    pub fn list_accounts_for_parent(&self, parent_id: &str) -> Result<Vec<&Account>, OrgError> {
        self.existing_parent(parent_id)?;
        Ok(self.state.accounts.values().filter(|a| a.parent_id == parent_id).collect())
    }

    /// `ListOrganizationalUnitsForParent`.
    pub fn list_organizational_units_for_parent(&self, parent_id: &str) -> Result<Vec<&OrganizationalUnit>, OrgError> {
        self.existing_parent(parent_id)?;
        Ok(self.state.organizational_units.values().filter(|ou| ou.parent_id == parent_id).collect())
    }

    /// `ListChildren`.
    pub fn list_children(&self, parent_id: &str, child_type: ChildType) -> Result<Vec<Node>, OrgError> {
        Ok(match child_type {
            ChildType::Account => self
                .list_accounts_for_parent(parent_id)?
                .into_iter()
                .map(|a| Node { id: a.id.clone(), node_type: TargetType::Account })
                .collect(),
            ChildType::OrganizationalUnit => self
                .list_organizational_units_for_parent(parent_id)?
                .into_iter()
                .map(|ou| Node { id: ou.id.clone(), node_type: TargetType::OrganizationalUnit })
                .collect(),
        })
    }

    /// `ListParents`: the one parent of an OU or account.
    pub fn list_parents(&self, child_id: &str) -> Result<Vec<Node>, OrgError> {
        id::check_child_id(child_id)?;
        let parent = self.parent_of(child_id).ok_or_else(|| {
            OrgError::new(
                OrgErrorCode::ChildNotFound,
                "We can't find an organizational unit (OU) or Amazon Web Services account with the ChildId that you specified.",
            )
        })?;
        let node_type = if parent == self.state.root.id { TargetType::Root } else { TargetType::OrganizationalUnit };
        Ok(vec![Node { id: parent.to_owned(), node_type }])
    }

    fn existing_parent(&self, parent_id: &str) -> Result<(), OrgError> {
        id::check_parent_id(parent_id)?;
        if self.is_parent(parent_id) { Ok(()) } else { Err(OrgError::parent_not_found()) }
    }

    // ----- policies -----------------------------------------------------------------------

    fn check_policy_name(&self, name: &str, policy_type: PolicyType, except: Option<&str>) -> Result<(), OrgError> {
        let taken = self.state.policies.values().any(|p| {
            p.summary.policy_type == policy_type && p.summary.name == name && Some(p.summary.id.as_str()) != except
        });
        if taken {
            return Err(OrgError::new(OrgErrorCode::DuplicatePolicy, "A policy with the same name already exists."));
        }
        Ok(())
    }

    fn customer_policy(&self, policy_id: &str) -> Result<&OrgPolicy, OrgError> {
        let policy = self.describe_policy(policy_id)?;
        if policy.summary.aws_managed {
            return Err(OrgError::invalid_input(
                InvalidInputReason::ImmutablePolicy,
                "You specified a policy that is managed by AWS and can't be modified.",
            ));
        }
        Ok(policy)
    }

    /// `CreatePolicy`: name 1–128 characters (unique per type), description at most 512, a
    /// document valid for the type and at most 5,120 characters.
    pub fn create_policy<R: Rng + CryptoRng + ?Sized>(
        &mut self,
        new: NewPolicy,
        rng: &mut R,
    ) -> Result<PolicySummary, OrgError> {
        check_length("Name", 1, 128, &new.name)?;
        check_length("Description", 0, 512, &new.description)?;
        let count = self.state.policies.values().filter(|p| p.summary.policy_type == new.policy_type).count();
        if count >= new.policy_type.max_policies() {
            return Err(OrgError::constraint(
                ConstraintReason::PolicyNumberLimitExceeded,
                "You attempted to exceed the number of policies of this type that you can have in an organization.",
            ));
        }
        self.check_policy_name(&new.name, new.policy_type, None)?;
        let document = parse_content(&new.content, new.policy_type)?;
        let mut policy_id = id::new_policy_id(rng);
        while self.state.policies.contains_key(&policy_id) {
            policy_id = id::new_policy_id(rng);
        }
        let summary = PolicySummary {
            arn: format!(
                "arn:aws:organizations::{}:policy/{}/{}/{policy_id}",
                self.state.management_account_id,
                self.state.id,
                new.policy_type.arn_word()
            ),
            id: policy_id.clone(),
            name: new.name,
            description: new.description,
            policy_type: new.policy_type,
            aws_managed: false,
        };
        self.state.policies.insert(policy_id.clone(), OrgPolicy { summary: summary.clone(), content: new.content });
        self.parsed.insert(policy_id, Arc::new(document));
        Ok(summary)
    }

    /// `UpdatePolicy`: name, description and document of a customer policy; AWS managed
    /// policies are immutable.
    pub fn update_policy(&mut self, policy_id: &str, update: PolicyUpdate) -> Result<OrgPolicy, OrgError> {
        let policy_type = self.customer_policy(policy_id)?.summary.policy_type;
        if let Some(name) = &update.name {
            check_length("Name", 1, 128, name)?;
        }
        if let Some(description) = &update.description {
            check_length("Description", 0, 512, description)?;
        }
        if let Some(name) = &update.name {
            self.check_policy_name(name, policy_type, Some(policy_id))?;
        }
        let document = update.content.as_deref().map(|c| parse_content(c, policy_type)).transpose()?;
        let policy = self.state.policies.get_mut(policy_id).ok_or_else(OrgError::policy_not_found)?;
        if let Some(name) = update.name {
            policy.summary.name = name;
        }
        if let Some(description) = update.description {
            policy.summary.description = description;
        }
        if let Some(content) = update.content {
            policy.content = content;
        }
        let result = policy.clone();
        if let Some(document) = document {
            self.parsed.insert(policy_id.to_owned(), Arc::new(document));
        }
        Ok(result)
    }

    /// `DeletePolicy`: only a customer policy attached nowhere.
    pub fn delete_policy(&mut self, policy_id: &str) -> Result<(), OrgError> {
        self.customer_policy(policy_id)?;
        if self.state.attachments.values().any(|set| set.contains(policy_id)) {
            return Err(OrgError::new(
                OrgErrorCode::PolicyInUse,
                "The policy is attached to one or more entities. You must detach it from all roots, OUs, and accounts before performing this operation.",
            ));
        }
        self.state.policies.remove(policy_id);
        self.parsed.remove(policy_id);
        Ok(())
    }

    /// `ListPolicies` of one type (AWS managed ones included).
    pub fn list_policies(&self, policy_type: PolicyType) -> Vec<&PolicySummary> {
        self.state.policies.values().map(|p| &p.summary).filter(|s| s.policy_type == policy_type).collect()
    }

    /// `ListPoliciesForTarget`: the policies of a type attached directly to a root, OU or account.
    pub fn list_policies_for_target(
        &self,
        target_id: &str,
        policy_type: PolicyType,
    ) -> Result<Vec<&PolicySummary>, OrgError> {
        id::check_target_id(target_id)?;
        if self.target_type(target_id).is_none() {
            return Err(OrgError::target_not_found());
        }
        Ok(self.attached(target_id, policy_type).map(|p| &p.summary).collect())
    }

    /// `ListTargetsForPolicy`.
    pub fn list_targets_for_policy(&self, policy_id: &str) -> Result<Vec<PolicyTargetSummary>, OrgError> {
        self.describe_policy(policy_id)?;
        Ok(self
            .state
            .attachments
            .iter()
            .filter(|(_, set)| set.contains(policy_id))
            .filter_map(|(target, _)| self.target_summary(target))
            .collect())
    }

    fn target_summary(&self, target_id: &str) -> Option<PolicyTargetSummary> {
        let (arn, name, target_type) = if target_id == self.state.root.id {
            (&self.state.root.arn, &self.state.root.name, TargetType::Root)
        } else if let Some(ou) = self.state.organizational_units.get(target_id) {
            (&ou.arn, &ou.name, TargetType::OrganizationalUnit)
        } else {
            let account = self.state.accounts.get(target_id)?;
            (&account.arn, &account.name, TargetType::Account)
        };
        Some(PolicyTargetSummary { target_id: target_id.to_owned(), arn: arn.clone(), name: name.clone(), target_type })
    }

    /// The policies of `policy_type` attached directly to `target_id`.
    pub(crate) fn attached(&self, target_id: &str, policy_type: PolicyType) -> impl Iterator<Item = &OrgPolicy> {
        self.state
            .attachments
            .get(target_id)
            .into_iter()
            .flatten()
            .filter_map(|id| self.state.policies.get(id))
            .filter(move |p| p.summary.policy_type == policy_type)
    }

    /// `AttachPolicy`: the type must be enabled, the policy not yet attached there, and the
    /// target must hold fewer than five policies of the type.
    pub fn attach_policy(&mut self, policy_id: &str, target_id: &str) -> Result<(), OrgError> {
        id::check_policy_id(policy_id)?;
        id::check_target_id(target_id)?;
        let policy_type = self.describe_policy(policy_id)?.summary.policy_type;
        if self.target_type(target_id).is_none() {
            return Err(OrgError::target_not_found());
        }
        if !self.is_enabled(policy_type) {
            return Err(OrgError::type_not_enabled());
        }
        if self.state.attachments.get(target_id).is_some_and(|set| set.contains(policy_id)) {
            return Err(OrgError::new(
                OrgErrorCode::DuplicatePolicyAttachment,
                "The selected policy is already attached to the specified target.",
            ));
        }
        if self.attached(target_id, policy_type).count() >= MAX_ATTACHMENTS_PER_TYPE {
            return Err(OrgError::constraint(
                ConstraintReason::MaxPolicyTypeAttachmentLimitExceeded,
                format!(
                    "You attempted to attach more than {MAX_ATTACHMENTS_PER_TYPE} policies of type {} to the target.",
                    policy_type.as_str()
                ),
            ));
        }
        self.state.attachments.entry(target_id.to_owned()).or_default().insert(policy_id.to_owned());
        Ok(())
    }

    /// `DetachPolicy`: `RCPFullAWSAccess` never; the last SCP of a target never.
    pub fn detach_policy(&mut self, policy_id: &str, target_id: &str) -> Result<(), OrgError> {
        id::check_policy_id(policy_id)?;
        id::check_target_id(target_id)?;
        let policy_type = self.describe_policy(policy_id)?.summary.policy_type;
        if self.target_type(target_id).is_none() {
            return Err(OrgError::target_not_found());
        }
        if !self.is_enabled(policy_type) {
            return Err(OrgError::type_not_enabled());
        }
        if !self.state.attachments.get(target_id).is_some_and(|set| set.contains(policy_id)) {
            return Err(OrgError::new(
                OrgErrorCode::PolicyNotAttached,
                "The policy isn't attached to the specified target in the specified root.",
            ));
        }
        if policy_id == RCP_FULL_AWS_ACCESS_ID {
            return Err(OrgError::invalid_input(
                InvalidInputReason::NonDetachablePolicy,
                "You can't detach the RCPFullAWSAccess policy from a root, OU or account.",
            ));
        }
        if policy_type == PolicyType::ServiceControlPolicy && self.attached(target_id, policy_type).count() <= 1 {
            return Err(OrgError::constraint(
                ConstraintReason::MinPolicyTypeAttachmentLimitExceeded,
                "You attempted to detach a policy from an entity that would leave the entity with fewer than the minimum number of policies of that type required (1).",
            ));
        }
        if let Some(set) = self.state.attachments.get_mut(target_id) {
            set.remove(policy_id);
        }
        Ok(())
    }

    /// Attaches the full-access policy of every enabled type to a new target.
    fn attach_full_access(&mut self, target_id: &str) {
        let enabled = self.state.root.policy_types.clone();
        let set = self.state.attachments.entry(target_id.to_owned()).or_default();
        for t in enabled {
            set.insert(t.full_access_id().to_owned());
        }
    }

    /// `EnablePolicyType`: attaches the type's full-access policy to the root, every OU and
    /// every account.
    pub fn enable_policy_type(&mut self, root_id: &str, policy_type: PolicyType) -> Result<Root, OrgError> {
        self.existing_root(root_id)?;
        if self.is_enabled(policy_type) {
            return Err(OrgError::new(
                OrgErrorCode::PolicyTypeAlreadyEnabled,
                "The specified policy type is already enabled in the specified root.",
            ));
        }
        self.state.root.policy_types.push(policy_type);
        self.state.root.policy_types.sort();
        let targets: Vec<String> = std::iter::once(self.state.root.id.clone())
            .chain(self.state.organizational_units.keys().cloned())
            .chain(self.state.accounts.keys().cloned())
            .collect();
        for target in targets {
            self.state.attachments.entry(target).or_default().insert(policy_type.full_access_id().to_owned());
        }
        Ok(self.state.root.clone())
    }

    /// `DisablePolicyType`: detaches every policy of the type from every target.
    pub fn disable_policy_type(&mut self, root_id: &str, policy_type: PolicyType) -> Result<Root, OrgError> {
        self.existing_root(root_id)?;
        if !self.is_enabled(policy_type) {
            return Err(OrgError::new(
                OrgErrorCode::PolicyTypeNotEnabled,
                "The specified policy type isn't currently enabled in this root.",
            ));
        }
        self.state.root.policy_types.retain(|t| *t != policy_type);
        let policies = &self.state.policies;
        for set in self.state.attachments.values_mut() {
            set.retain(|id| policies.get(id).is_some_and(|p| p.summary.policy_type != policy_type));
        }
        Ok(self.state.root.clone())
    }

    fn existing_root(&self, root_id: &str) -> Result<(), OrgError> {
        id::check_root_id(root_id)?;
        if root_id == self.state.root.id { Ok(()) } else { Err(OrgError::root_not_found()) }
    }

    // ----- centralized root access --------------------------------------------------------

    /// Enables centralized root access (`iam:EnableOrganizationsRootCredentialsManagement`):
    /// the management account may then remove member accounts' root credentials, and accounts
    /// created afterwards start without them. Enabling twice is harmless.
    pub fn enable_root_credentials_management(&mut self) {
        self.state.root_credentials_management = true;
    }

    /// Disables centralized root access: member accounts manage their root credentials
    /// again (the recorded removals are kept and apply if it is enabled again).
    pub fn disable_root_credentials_management(&mut self) {
        self.state.root_credentials_management = false;
    }

    /// Whether centralized root access is enabled.
    pub fn root_credentials_management_enabled(&self) -> bool {
        self.state.root_credentials_management
    }

    fn centrally_managed_member(&self, account_id: &str) -> Result<(), OrgError> {
        self.describe_account(account_id)?;
        if !self.state.root_credentials_management {
            return Err(OrgError::new(
                OrgErrorCode::AccessDenied,
                "Centralized root access is not enabled for this organization.",
            ));
        }
        if account_id == self.state.management_account_id {
            return Err(OrgError::new(
                OrgErrorCode::AccessDenied,
                "The root credentials of the management account cannot be managed centrally.",
            ));
        }
        Ok(())
    }

    /// Removes a member account's root credentials and forbids recreating them.
    pub fn remove_root_credentials(&mut self, account_id: &str) -> Result<(), OrgError> {
        self.centrally_managed_member(account_id)?;
        self.state.root_credentials_removed.insert(account_id.to_owned());
        Ok(())
    }

    /// Lets a member account recover its root credentials (AWS: "allow password recovery").
    pub fn allow_root_credentials_recovery(&mut self, account_id: &str) -> Result<(), OrgError> {
        self.centrally_managed_member(account_id)?;
        self.state.root_credentials_removed.remove(account_id);
        Ok(())
    }

    /// Whether the root user of `account_id` may have (or recreate) credentials: false only
    /// for a member account whose root credentials the management account removed while
    /// centralized root access is enabled.
    pub fn root_credentials_allowed(&self, account_id: &str) -> bool {
        !(self.state.root_credentials_management && self.state.root_credentials_removed.contains(account_id))
    }

    /// The accounts other than the management account.
    pub(crate) fn member_count(&self) -> usize {
        self.state.accounts.keys().filter(|id| **id != self.state.management_account_id).count()
    }

    /// The ids of the targets on the path root → OUs → `account_id`.
    pub(crate) fn target_path(&self, account_id: &str) -> Option<Vec<&str>> {
        let account = self.state.accounts.get(account_id)?;
        let mut path = vec![self.state.root.id.as_str()];
        path.extend(self.ou_path(&account.parent_id));
        path.push(account.id.as_str());
        Some(path)
    }

    /// Whether `policy_id` is attached directly to `target_id`.
    pub fn is_attached(&self, policy_id: &str, target_id: &str) -> bool {
        self.state.attachments.get(target_id).is_some_and(|s| s.contains(policy_id))
    }
}

/// The organization of an installation, if there is one: what `CreateOrganization` and
/// `DeleteOrganization` change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Organizations {
    organization: Option<Organization>,
}

impl Organizations {
    /// No organization.
    pub fn new() -> Organizations {
        Organizations::default()
    }

    /// `CreateOrganization`; `AlreadyInOrganizationException` when one exists.
    pub fn create_organization<R: Rng + CryptoRng + ?Sized>(
        &mut self,
        management_account_id: &str,
        rng: &mut R,
    ) -> Result<&mut Organization, OrgError> {
        if self.organization.is_some() {
            return Err(OrgError::new(
                OrgErrorCode::AlreadyInOrganization,
                "This account is already a member of an organization. An account can belong to only one organization at a time.",
            ));
        }
        Ok(self.organization.insert(Organization::create(management_account_id, rng)?))
    }

    /// The organization, or `AWSOrganizationsNotInUseException`.
    pub fn organization(&self) -> Result<&Organization, OrgError> {
        self.organization.as_ref().ok_or_else(OrgError::not_in_use)
    }

    /// The organization to change, or `AWSOrganizationsNotInUseException`.
    pub fn organization_mut(&mut self) -> Result<&mut Organization, OrgError> {
        self.organization.as_mut().ok_or_else(OrgError::not_in_use)
    }

    /// The organization, if there is one.
    pub fn get(&self) -> Option<&Organization> {
        self.organization.as_ref()
    }

    /// `DeleteOrganization`: only when no account but the management account is left.
    pub fn delete_organization(&mut self) -> Result<(), OrgError> {
        if self.organization()?.member_count() > 0 {
            return Err(OrgError::new(
                OrgErrorCode::OrganizationNotEmpty,
                "The organization isn't empty. To delete an organization, you must first remove all accounts except the management account.",
            ));
        }
        self.organization = None;
        Ok(())
    }
}
