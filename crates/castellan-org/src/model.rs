//! The plain data of an organization: policy types, entities as the API describes them, and
//! the inputs of the operations that create them.

use castellan_policy::PolicyKind;
use serde::{Deserialize, Serialize};

use crate::error::{InvalidInputReason, OrgError, OrgErrorCode};
use crate::id::{FULL_AWS_ACCESS_ID, RCP_FULL_AWS_ACCESS_ID};

/// The authorization policy types this crate manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum PolicyType {
    /// `SERVICE_CONTROL_POLICY`.
    #[serde(rename = "SERVICE_CONTROL_POLICY")]
    ServiceControlPolicy,
    /// `RESOURCE_CONTROL_POLICY`.
    #[serde(rename = "RESOURCE_CONTROL_POLICY")]
    ResourceControlPolicy,
}

/// Policy types AWS defines that this crate does not manage (they are not authorization
/// policies); naming one is `PolicyTypeNotAvailableForOrganizationException`.
const OTHER_POLICY_TYPES: &[&str] = &[
    "TAG_POLICY",
    "BACKUP_POLICY",
    "AISERVICES_OPT_OUT_POLICY",
    "CHATBOT_POLICY",
    "DECLARATIVE_POLICY_EC2",
    "SECURITYHUB_POLICY",
    "SECURITYHUB_CSPM_POLICY",
    "INSPECTOR_POLICY",
    "UPGRADE_ROLLOUT_POLICY",
    "BEDROCK_POLICY",
    "S3_POLICY",
    "NETWORK_SECURITY_DIRECTOR_POLICY",
    "GUARDDUTY_POLICY",
];

impl PolicyType {
    /// Both types.
    pub const ALL: [PolicyType; 2] = [PolicyType::ServiceControlPolicy, PolicyType::ResourceControlPolicy];

    /// The type as AWS spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyType::ServiceControlPolicy => "SERVICE_CONTROL_POLICY",
            PolicyType::ResourceControlPolicy => "RESOURCE_CONTROL_POLICY",
        }
    }

    /// Reads a type from its AWS spelling: an unknown word is `InvalidInputException`
    /// (`INVALID_ENUM_POLICY_TYPE`), a type AWS has but this crate does not manage is
    /// `PolicyTypeNotAvailableForOrganizationException`.
    pub fn parse(text: &str) -> Result<PolicyType, OrgError> {
        match text {
            "SERVICE_CONTROL_POLICY" => Ok(PolicyType::ServiceControlPolicy),
            "RESOURCE_CONTROL_POLICY" => Ok(PolicyType::ResourceControlPolicy),
            other if OTHER_POLICY_TYPES.contains(&other) => Err(OrgError::new(
                OrgErrorCode::PolicyTypeNotAvailableForOrganization,
                format!("The policy type `{other}` is not available for this organization."),
            )),
            other => Err(OrgError::invalid_input(
                InvalidInputReason::InvalidEnumPolicyType,
                format!("You specified an invalid value for the policy type: `{other}`."),
            )),
        }
    }

    /// The policy-language rules documents of this type follow.
    pub fn kind(self) -> PolicyKind {
        match self {
            PolicyType::ServiceControlPolicy => PolicyKind::Scp,
            PolicyType::ResourceControlPolicy => PolicyKind::Rcp,
        }
    }

    /// The id of the AWS managed full-access policy of this type.
    pub fn full_access_id(self) -> &'static str {
        match self {
            PolicyType::ServiceControlPolicy => FULL_AWS_ACCESS_ID,
            PolicyType::ResourceControlPolicy => RCP_FULL_AWS_ACCESS_ID,
        }
    }

    /// The default quota of policies of this type in one organization (AWS managed ones included).
    pub fn max_policies(self) -> usize {
        match self {
            PolicyType::ServiceControlPolicy => 10_000,
            PolicyType::ResourceControlPolicy => 1_000,
        }
    }

    /// The lowercase word AWS uses in policy ARNs.
    pub(crate) fn arn_word(self) -> &'static str {
        match self {
            PolicyType::ServiceControlPolicy => "service_control_policy",
            PolicyType::ResourceControlPolicy => "resource_control_policy",
        }
    }
}

/// What a policy can be attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TargetType {
    /// `ROOT`.
    #[serde(rename = "ROOT")]
    Root,
    /// `ORGANIZATIONAL_UNIT`.
    #[serde(rename = "ORGANIZATIONAL_UNIT")]
    OrganizationalUnit,
    /// `ACCOUNT`.
    #[serde(rename = "ACCOUNT")]
    Account,
}

impl TargetType {
    /// The type as AWS spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetType::Root => "ROOT",
            TargetType::OrganizationalUnit => "ORGANIZATIONAL_UNIT",
            TargetType::Account => "ACCOUNT",
        }
    }
}

/// What `ListChildren` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ChildType {
    /// `ACCOUNT`.
    #[serde(rename = "ACCOUNT")]
    Account,
    /// `ORGANIZATIONAL_UNIT`.
    #[serde(rename = "ORGANIZATIONAL_UNIT")]
    OrganizationalUnit,
}

/// One entry of `ListChildren`, `ListParents` or `ListTargetsForPolicy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    /// The root, OU or account id.
    pub id: String,
    /// What it is.
    pub node_type: TargetType,
}

/// One entry of `ListTargetsForPolicy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyTargetSummary {
    /// The root, OU or account id.
    pub target_id: String,
    /// Its ARN.
    pub arn: String,
    /// Its name.
    pub name: String,
    /// What it is.
    pub target_type: TargetType,
}

/// How an account came into the organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum JoinedMethod {
    /// `INVITED`: an existing account accepted a handshake.
    #[serde(rename = "INVITED")]
    Invited,
    /// `CREATED`: the organization created the account.
    #[serde(rename = "CREATED")]
    Created,
}

/// `DescribeOrganization`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationDescription {
    /// `o-...`.
    pub id: String,
    /// `arn:aws:organizations::<management>:organization/o-...`.
    pub arn: String,
    /// Always `ALL`: SCPs and RCPs need all features.
    pub feature_set: String,
    /// The management account.
    pub master_account_id: String,
    /// `arn:aws:organizations::<management>:account/o-.../<management>`.
    pub master_account_arn: String,
}

/// The root of the organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Root {
    /// `r-...`.
    pub id: String,
    /// `arn:aws:organizations::<management>:root/o-.../r-...`.
    pub arn: String,
    /// Always `Root`.
    pub name: String,
    /// The policy types enabled in the root.
    pub policy_types: Vec<PolicyType>,
}

/// An organizational unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationalUnit {
    /// `ou-<root suffix>-<8 characters>`.
    pub id: String,
    /// `arn:aws:organizations::<management>:ou/o-.../ou-...`.
    pub arn: String,
    /// 1 to 128 characters, unique among its siblings.
    pub name: String,
    /// The root or OU it sits in.
    pub parent_id: String,
}

/// A member account (or the management account).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Twelve digits.
    pub id: String,
    /// `arn:aws:organizations::<management>:account/o-.../<id>`.
    pub arn: String,
    /// The account name.
    pub name: String,
    /// The account's email address.
    pub email: String,
    /// The root or OU it sits in.
    pub parent_id: String,
    /// How it joined.
    pub joined_method: JoinedMethod,
}

/// An account to record as a member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount {
    /// Twelve digits, chosen by the caller (this crate creates no IAM account).
    pub id: String,
    /// 1 to 50 characters.
    pub name: String,
    /// The account's email address (6 to 64 characters).
    pub email: String,
    /// `INVITED` or `CREATED`.
    pub joined_method: JoinedMethod,
}

/// `PolicySummary`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicySummary {
    /// `p-...`.
    pub id: String,
    /// The policy ARN (AWS managed policies have the account `aws` and no organization).
    pub arn: String,
    /// 1 to 128 characters, unique among the policies of its type.
    pub name: String,
    /// At most 512 characters.
    pub description: String,
    /// SCP or RCP.
    pub policy_type: PolicyType,
    /// Whether AWS manages it (`FullAWSAccess`, `RCPFullAWSAccess`).
    pub aws_managed: bool,
}

/// A policy with its document, as `DescribePolicy` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgPolicy {
    /// The summary.
    pub summary: PolicySummary,
    /// The JSON document, as given.
    pub content: String,
}

/// The input of `CreatePolicy`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPolicy {
    /// 1 to 128 characters.
    pub name: String,
    /// At most 512 characters.
    pub description: String,
    /// The JSON document (at most 5,120 characters, whitespace counted).
    pub content: String,
    /// SCP or RCP.
    pub policy_type: PolicyType,
}

/// The input of `UpdatePolicy`: what is `None` stays as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyUpdate {
    /// A new name.
    pub name: Option<String>,
    /// A new description.
    pub description: Option<String>,
    /// A new document.
    pub content: Option<String>,
}
