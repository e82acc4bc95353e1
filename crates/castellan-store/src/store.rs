//! The storage trait and the records it returns. Backends differ only in where the state lives;
//! the rules are the same, and one test suite runs against each.

use castellan_credentials::access_key::{AccessKeyLastUsed, AccessKeyRecord, AccessKeyStatus};
use castellan_credentials::password::{PasswordHash, PasswordPolicy};
use castellan_credentials::{MfaDevice, UnixTime};

use serde::{Deserialize, Serialize};

use std::sync::Arc;

use crate::credentials::{AccessKey, AssignmentStatus, LoginProfile, Owner, VirtualMfaDevice};
use crate::error::StoreError;
use crate::names::{GroupName, IamPath, PolicyName, RoleName, Tag, UserName};
use crate::providers::{NewOidcProvider, OidcProvider, SamlProvider, Taggable};
use crate::snapshot::Snapshot;

/// An IAM user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The name (case preserved).
    pub name: UserName,
    /// The path.
    pub path: IamPath,
    /// The unique id (`AIDA...`), never reused.
    pub user_id: String,
    /// `arn:aws:iam::ACCOUNT:user/PATH/NAME`.
    pub arn: String,
    /// When the user was created.
    #[serde(with = "unix_time")]
    pub create_date: UnixTime,
    /// The tags, in the order they were added.
    pub tags: Vec<Tag>,
    /// The ARN of the managed policy used as permissions boundary.
    #[serde(default)]
    pub permissions_boundary: Option<String>,
}

/// An IAM group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// The name (case preserved).
    pub name: GroupName,
    /// The path.
    pub path: IamPath,
    /// The unique id (`AGPA...`).
    pub group_id: String,
    /// `arn:aws:iam::ACCOUNT:group/PATH/NAME`.
    pub arn: String,
    /// When the group was created.
    #[serde(with = "unix_time")]
    pub create_date: UnixTime,
}

/// An IAM role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    /// The name (case preserved).
    pub name: RoleName,
    /// The path.
    pub path: IamPath,
    /// The unique id (`AROA...`).
    pub role_id: String,
    /// `arn:aws:iam::ACCOUNT:role/PATH/NAME`.
    pub arn: String,
    /// The trust policy: as given while every user and role it names exists; otherwise with
    /// the unique id of each deleted one in place of its ARN (canonically printed).
    pub assume_role_policy_document: String,
    /// The description (at most 1,000 characters).
    pub description: Option<String>,
    /// The longest session, in seconds (3,600–43,200).
    pub max_session_duration: u32,
    /// The ARN of the managed policy used as permissions boundary.
    pub permissions_boundary: Option<String>,
    /// When the role was created.
    #[serde(with = "unix_time")]
    pub create_date: UnixTime,
    /// The tags, in the order they were added.
    pub tags: Vec<Tag>,
}

/// An instance profile: the container that passes one role to an EC2 instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceProfile {
    /// The name (case preserved).
    pub name: String,
    /// The path.
    pub path: IamPath,
    /// The unique id (`AIPA...`).
    pub instance_profile_id: String,
    /// `arn:aws:iam::ACCOUNT:instance-profile/PATH/NAME`.
    pub arn: String,
    /// When the profile was created.
    #[serde(with = "unix_time")]
    pub create_date: UnixTime,
    /// The tags (keys compared with regard to case).
    pub tags: Vec<Tag>,
}

/// A customer managed policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedPolicy {
    /// The name (case preserved).
    pub name: PolicyName,
    /// The path.
    pub path: IamPath,
    /// The unique id (`ANPA...`).
    pub policy_id: String,
    /// `arn:aws:iam::ACCOUNT:policy/PATH/NAME`.
    pub arn: String,
    /// The description (at most 1,000 characters).
    pub description: Option<String>,
    /// The id of the default version (`v1`, `v2`, ...).
    pub default_version_id: String,
    /// How many users, groups and roles the policy is attached to.
    pub attachment_count: usize,
    /// How many users and roles use the policy as permissions boundary.
    pub permissions_boundary_usage_count: usize,
    /// When the policy was created.
    #[serde(with = "unix_time")]
    pub create_date: UnixTime,
    /// When a version was last added or made default.
    #[serde(with = "unix_time")]
    pub update_date: UnixTime,
    /// The tags (none on AWS managed policies).
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// One version of a managed policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyVersion {
    /// `v1`, `v2`, ... (never reused within a policy).
    pub version_id: String,
    /// The document, as given.
    pub document: String,
    /// Whether this is the version in effect.
    pub is_default: bool,
    /// When the version was created.
    #[serde(with = "unix_time")]
    pub create_date: UnixTime,
}

/// A managed policy as attached to an entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachedPolicy {
    /// The policy's name.
    pub name: String,
    /// The policy's ARN.
    pub arn: String,
}

/// An inline policy of a user, group or role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InlinePolicy {
    /// The name, unique within the entity.
    pub name: PolicyName,
    /// The document, as given.
    pub document: String,
}

/// The entity a policy operation applies to, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity<'a> {
    /// A user.
    User(&'a str),
    /// A group.
    Group(&'a str),
    /// A role.
    Role(&'a str),
}

/// What `CreateUser` takes.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    /// The name.
    pub name: String,
    /// The path (default `/`).
    pub path: Option<String>,
    /// The tags.
    pub tags: Vec<Tag>,
    /// The ARN of a managed policy to use as permissions boundary.
    pub permissions_boundary: Option<String>,
}

/// What `CreateRole` takes.
#[derive(Debug, Clone, Default)]
pub struct NewRole {
    /// The name.
    pub name: String,
    /// The path (default `/`).
    pub path: Option<String>,
    /// The trust policy.
    pub assume_role_policy_document: String,
    /// The description.
    pub description: Option<String>,
    /// The longest session in seconds (default 3,600).
    pub max_session_duration: Option<u32>,
    /// The ARN of a managed policy to use as permissions boundary.
    pub permissions_boundary: Option<String>,
    /// The tags.
    pub tags: Vec<Tag>,
}

/// What `CreatePolicy` takes.
#[derive(Debug, Clone, Default)]
pub struct NewPolicy {
    /// The name.
    pub name: String,
    /// The path (default `/`).
    pub path: Option<String>,
    /// The document of version `v1`.
    pub document: String,
    /// The description.
    pub description: Option<String>,
    /// The tags.
    pub tags: Vec<Tag>,
}

/// `ListPolicies`' `Scope`: which managed policies to list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PolicyScope {
    /// Customer managed and AWS managed policies.
    #[default]
    All,
    /// AWS managed policies (`arn:aws:iam::aws:policy/...`).
    Aws,
    /// The account's customer managed policies.
    Local,
}

/// A `List*` request's pagination parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// The marker a previous truncated page returned.
    pub marker: Option<String>,
    /// How many items at most (1–1,000; default 100).
    pub max_items: Option<u32>,
}

impl PageRequest {
    /// The first page with at most `max_items` items.
    pub fn first(max_items: u32) -> PageRequest {
        PageRequest { marker: None, max_items: Some(max_items) }
    }
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items, in IAM's order (by name, without regard to case).
    pub items: Vec<T>,
    /// Whether more items follow.
    pub is_truncated: bool,
    /// The marker to ask for the next page with, when truncated.
    pub marker: Option<String>,
}

/// The store of one account's IAM entities. Every operation is atomic: it validates everything
/// first and either applies completely or changes nothing.
pub trait Store: Send + Sync + std::fmt::Debug {
    /// The 12-digit account id.
    fn account_id(&self) -> &str;

    /// The authorization read path: the immutable snapshot published by the last committed
    /// write (or when the store opened). Never waits for a writer beyond an `Arc` clone.
    fn snapshot(&self) -> Arc<Snapshot>;

    /// `CreateUser`.
    fn create_user(&self, user: NewUser) -> Result<User, StoreError>;
    /// `GetUser`.
    fn user(&self, name: &str) -> Result<User, StoreError>;
    /// `ListUsers`, optionally under a path prefix.
    fn list_users(&self, path_prefix: Option<&str>, page: &PageRequest) -> Result<Page<User>, StoreError>;
    /// `DeleteUser`: refused while the user has groups or policies.
    fn delete_user(&self, name: &str) -> Result<(), StoreError>;
    /// `TagUser`: adds tags, overwriting keys already present (compared without regard to case).
    fn tag_user(&self, name: &str, tags: Vec<Tag>) -> Result<(), StoreError>;
    /// `UntagUser`.
    fn untag_user(&self, name: &str, keys: &[String]) -> Result<(), StoreError>;

    /// `CreateGroup`.
    fn create_group(&self, name: &str, path: Option<&str>) -> Result<Group, StoreError>;
    /// `GetGroup` (the group and its members).
    fn group(&self, name: &str) -> Result<(Group, Vec<User>), StoreError>;
    /// `ListGroups`.
    fn list_groups(&self, path_prefix: Option<&str>, page: &PageRequest) -> Result<Page<Group>, StoreError>;
    /// `DeleteGroup`: refused while the group has members or policies.
    fn delete_group(&self, name: &str) -> Result<(), StoreError>;
    /// `AddUserToGroup` (a user belongs to at most 10 groups).
    fn add_user_to_group(&self, group: &str, user: &str) -> Result<(), StoreError>;
    /// `RemoveUserFromGroup`.
    fn remove_user_from_group(&self, group: &str, user: &str) -> Result<(), StoreError>;
    /// `ListGroupsForUser`.
    fn list_groups_for_user(&self, user: &str, page: &PageRequest) -> Result<Page<Group>, StoreError>;

    /// `CreateRole`.
    fn create_role(&self, role: NewRole) -> Result<Role, StoreError>;
    /// `GetRole`.
    fn role(&self, name: &str) -> Result<Role, StoreError>;
    /// `ListRoles`.
    fn list_roles(&self, path_prefix: Option<&str>, page: &PageRequest) -> Result<Page<Role>, StoreError>;
    /// `DeleteRole`: refused while the role has policies.
    fn delete_role(&self, name: &str) -> Result<(), StoreError>;
    /// `UpdateAssumeRolePolicy`: replaces the trust policy. Every user or role ARN of this
    /// account it names must exist (else `MalformedPolicyDocument: Invalid principal in policy`).
    fn update_assume_role_policy(&self, role: &str, document: &str) -> Result<(), StoreError>;
    /// `TagRole`.
    fn tag_role(&self, name: &str, tags: Vec<Tag>) -> Result<(), StoreError>;
    /// `UntagRole`.
    fn untag_role(&self, name: &str, keys: &[String]) -> Result<(), StoreError>;

    /// `CreatePolicy`: the policy and its version `v1`.
    fn create_policy(&self, policy: NewPolicy) -> Result<ManagedPolicy, StoreError>;
    /// `GetPolicy`.
    fn policy(&self, arn: &str) -> Result<ManagedPolicy, StoreError>;
    /// `ListPolicies` (customer managed policies of the account).
    fn list_policies(&self, path_prefix: Option<&str>, page: &PageRequest) -> Result<Page<ManagedPolicy>, StoreError>;
    /// `ListPolicies` with its `Scope`: the account's customer managed policies (`Local`), the
    /// AWS managed policies (`AWS`) or both (`All`).
    fn list_policies_in_scope(
        &self,
        scope: PolicyScope,
        path_prefix: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<ManagedPolicy>, StoreError>;
    /// `DeletePolicy`: refused while attached or while it has versions besides the default.
    fn delete_policy(&self, arn: &str) -> Result<(), StoreError>;
    /// `CreatePolicyVersion` (at most 5 versions).
    fn create_policy_version(
        &self,
        arn: &str,
        document: &str,
        set_as_default: bool,
    ) -> Result<PolicyVersion, StoreError>;
    /// `GetPolicyVersion`.
    fn policy_version(&self, arn: &str, version_id: &str) -> Result<PolicyVersion, StoreError>;
    /// `ListPolicyVersions` (newest first).
    fn list_policy_versions(&self, arn: &str) -> Result<Vec<PolicyVersion>, StoreError>;
    /// `SetDefaultPolicyVersion`.
    fn set_default_policy_version(&self, arn: &str, version_id: &str) -> Result<(), StoreError>;
    /// `DeletePolicyVersion`: the default version cannot be deleted.
    fn delete_policy_version(&self, arn: &str, version_id: &str) -> Result<(), StoreError>;

    /// `Attach{User,Group,Role}Policy` (at most 10 per entity; attaching twice is a no-op).
    fn attach_policy(&self, entity: Entity<'_>, arn: &str) -> Result<(), StoreError>;
    /// `Detach{User,Group,Role}Policy`.
    fn detach_policy(&self, entity: Entity<'_>, arn: &str) -> Result<(), StoreError>;
    /// `ListAttached{User,Group,Role}Policies`.
    fn list_attached_policies(&self, entity: Entity<'_>) -> Result<Vec<AttachedPolicy>, StoreError>;

    /// `Put{User,Group,Role}Policy`: creates or replaces an inline policy.
    fn put_inline_policy(&self, entity: Entity<'_>, name: &str, document: &str) -> Result<(), StoreError>;
    /// `Get{User,Group,Role}Policy`.
    fn inline_policy(&self, entity: Entity<'_>, name: &str) -> Result<InlinePolicy, StoreError>;
    /// `List{User,Group,Role}Policies` (names, sorted).
    fn list_inline_policies(&self, entity: Entity<'_>) -> Result<Vec<String>, StoreError>;
    /// `Delete{User,Group,Role}Policy`.
    fn delete_inline_policy(&self, entity: Entity<'_>, name: &str) -> Result<(), StoreError>;

    /// `UpdateUser`: a new name and/or path. Groups, credentials and trust policies naming the
    /// user follow it.
    fn update_user(&self, name: &str, new_name: Option<&str>, new_path: Option<&str>) -> Result<User, StoreError>;
    /// `UpdateGroup`: a new name and/or path.
    fn update_group(&self, name: &str, new_name: Option<&str>, new_path: Option<&str>) -> Result<Group, StoreError>;
    /// `UpdateRole`: the description and/or the longest session.
    fn update_role(
        &self,
        name: &str,
        description: Option<&str>,
        max_session_duration: Option<u32>,
    ) -> Result<(), StoreError>;
    /// `Put{User,Role}PermissionsBoundary` (a group has none: `InvalidInput`).
    fn put_permissions_boundary(&self, entity: Entity<'_>, arn: &str) -> Result<(), StoreError>;
    /// `Delete{User,Role}PermissionsBoundary`.
    fn delete_permissions_boundary(&self, entity: Entity<'_>) -> Result<(), StoreError>;

    /// `CreateInstanceProfile`.
    fn create_instance_profile(
        &self,
        name: &str,
        path: Option<&str>,
        tags: Vec<Tag>,
    ) -> Result<InstanceProfile, StoreError>;
    /// `GetInstanceProfile`: the profile and its role (at most one).
    fn instance_profile(&self, name: &str) -> Result<(InstanceProfile, Vec<Role>), StoreError>;
    /// `ListInstanceProfiles`.
    fn list_instance_profiles(
        &self,
        path_prefix: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<InstanceProfile>, StoreError>;
    /// `DeleteInstanceProfile`: refused while it holds a role.
    fn delete_instance_profile(&self, name: &str) -> Result<(), StoreError>;
    /// `AddRoleToInstanceProfile` (one role per profile).
    fn add_role_to_instance_profile(&self, profile: &str, role: &str) -> Result<(), StoreError>;
    /// `RemoveRoleFromInstanceProfile`.
    fn remove_role_from_instance_profile(&self, profile: &str, role: &str) -> Result<(), StoreError>;
    /// `ListInstanceProfilesForRole`.
    fn list_instance_profiles_for_role(&self, role: &str) -> Result<Vec<InstanceProfile>, StoreError>;

    /// `CreateOpenIDConnectProvider` (at most 100 per account; one per URL).
    fn create_oidc_provider(&self, provider: NewOidcProvider) -> Result<OidcProvider, StoreError>;
    /// `GetOpenIDConnectProvider`.
    fn oidc_provider(&self, arn: &str) -> Result<OidcProvider, StoreError>;
    /// `ListOpenIDConnectProviders`, by ARN.
    fn list_oidc_providers(&self) -> Result<Vec<OidcProvider>, StoreError>;
    /// `DeleteOpenIDConnectProvider`.
    fn delete_oidc_provider(&self, arn: &str) -> Result<(), StoreError>;
    /// `AddClientIDToOpenIDConnectProvider` (adding one present is a no-op).
    fn add_oidc_client_id(&self, arn: &str, client_id: &str) -> Result<(), StoreError>;
    /// `RemoveClientIDFromOpenIDConnectProvider` (removing one absent is a no-op).
    fn remove_oidc_client_id(&self, arn: &str, client_id: &str) -> Result<(), StoreError>;
    /// `UpdateOpenIDConnectProviderThumbprint`: replaces the list.
    fn update_oidc_thumbprints(&self, arn: &str, thumbprints: Vec<String>) -> Result<(), StoreError>;
    /// Registers (or, with `None`, removes) the provider's signing keys, a JSON Web Key Set: a
    /// Castellan extension, since Castellan never fetches keys from the issuer.
    fn set_oidc_signing_keys(&self, arn: &str, jwks: Option<&str>) -> Result<(), StoreError>;

    /// `CreateSAMLProvider` (at most 100 per account).
    fn create_saml_provider(&self, name: &str, metadata: &str, tags: Vec<Tag>) -> Result<SamlProvider, StoreError>;
    /// `GetSAMLProvider`.
    fn saml_provider(&self, arn: &str) -> Result<SamlProvider, StoreError>;
    /// `ListSAMLProviders`, by ARN.
    fn list_saml_providers(&self) -> Result<Vec<SamlProvider>, StoreError>;
    /// `UpdateSAMLProvider`: replaces the metadata document.
    fn update_saml_provider(&self, arn: &str, metadata: &str) -> Result<(), StoreError>;
    /// `DeleteSAMLProvider`.
    fn delete_saml_provider(&self, arn: &str) -> Result<(), StoreError>;

    /// `Tag{Policy,InstanceProfile,MFADevice,OpenIDConnectProvider,SAMLProvider}`: adds tags,
    /// overwriting keys present (compared with regard to case, unlike users' and roles').
    fn tag_resource(&self, resource: Taggable<'_>, tags: Vec<Tag>) -> Result<(), StoreError>;
    /// `Untag...`.
    fn untag_resource(&self, resource: Taggable<'_>, keys: &[String]) -> Result<(), StoreError>;
    /// `List...Tags`.
    fn resource_tags(&self, resource: Taggable<'_>) -> Result<Vec<Tag>, StoreError>;

    /// `ListAccountAliases`: the account's alias, if it has one.
    fn account_alias(&self) -> Result<Option<String>, StoreError>;
    /// `CreateAccountAlias`: sets the alias (an account has at most one, so a new alias
    /// replaces the old); aliases are unique across the accounts of a directory.
    fn create_account_alias(&self, alias: &str) -> Result<(), StoreError>;
    /// `DeleteAccountAlias`.
    fn delete_account_alias(&self, alias: &str) -> Result<(), StoreError>;

    /// `GetAccountPasswordPolicy`: `NoSuchEntity` while no custom policy is set.
    fn password_policy(&self) -> Result<PasswordPolicy, StoreError>;
    /// `UpdateAccountPasswordPolicy` (the policy replaces the previous one whole).
    fn update_password_policy(&self, policy: PasswordPolicy) -> Result<(), StoreError>;
    /// `DeleteAccountPasswordPolicy`.
    fn delete_password_policy(&self) -> Result<(), StoreError>;

    /// `CreateAccessKey`: stores a key made by `castellan-credentials` (at most 2 per owner).
    fn create_access_key(&self, owner: Owner<'_>, record: AccessKeyRecord) -> Result<(), StoreError>;
    /// `ListAccessKeys`, in creation order.
    fn list_access_keys(&self, owner: Owner<'_>) -> Result<Vec<AccessKeyRecord>, StoreError>;
    /// The access key `id` of this account with its owner.
    fn access_key(&self, id: &str) -> Result<AccessKey, StoreError>;
    /// `UpdateAccessKey`: sets the status.
    fn update_access_key(&self, owner: Owner<'_>, id: &str, status: AccessKeyStatus) -> Result<(), StoreError>;
    /// `DeleteAccessKey`.
    fn delete_access_key(&self, owner: Owner<'_>, id: &str) -> Result<(), StoreError>;
    /// Records a use of key `id` (what `GetAccessKeyLastUsed` reports).
    fn record_access_key_use(&self, id: &str, used: AccessKeyLastUsed) -> Result<(), StoreError>;

    /// `CreateLoginProfile`: the hash of a password already checked against the policy.
    fn create_login_profile(
        &self,
        owner: Owner<'_>,
        hash: &PasswordHash,
        password_reset_required: bool,
    ) -> Result<LoginProfile, StoreError>;
    /// `GetLoginProfile`.
    fn login_profile(&self, owner: Owner<'_>) -> Result<LoginProfile, StoreError>;
    /// `UpdateLoginProfile` / `ChangePassword`: a new password hash (the old one goes into the
    /// history) and/or the reset flag.
    fn update_login_profile(
        &self,
        owner: Owner<'_>,
        hash: Option<&PasswordHash>,
        password_reset_required: Option<bool>,
    ) -> Result<(), StoreError>;
    /// Records a sign-in with the password (`PasswordLastUsed`).
    fn record_password_use(&self, owner: Owner<'_>, at: UnixTime) -> Result<(), StoreError>;
    /// `DeleteLoginProfile`.
    fn delete_login_profile(&self, owner: Owner<'_>) -> Result<(), StoreError>;

    /// `CreateVirtualMFADevice`: stores a device made by `castellan-credentials`, whose serial
    /// number is its ARN in this account (`arn:aws:iam::ACCOUNT:mfa/PATH/NAME`) and whose seed
    /// is sealed.
    fn create_virtual_mfa_device(&self, device: MfaDevice, tags: Vec<Tag>) -> Result<VirtualMfaDevice, StoreError>;
    /// The device with this serial number.
    fn mfa_device(&self, serial_number: &str) -> Result<VirtualMfaDevice, StoreError>;
    /// `EnableMFADevice`: stores `device` (already enabled by `MfaDevice::enable`) as the owner's;
    /// refused when the device is enabled for anyone, or the owner has 8 devices.
    fn enable_mfa_device(&self, owner: Owner<'_>, device: MfaDevice) -> Result<(), StoreError>;
    /// Stores a device's state after a code check (`ResyncMFADevice`, authentication), keeping
    /// its assignment.
    fn save_mfa_device(&self, device: MfaDevice) -> Result<(), StoreError>;
    /// `DeactivateMFADevice`: the device leaves its owner and is unassigned.
    fn deactivate_mfa_device(&self, owner: Owner<'_>, serial_number: &str) -> Result<(), StoreError>;
    /// `DeleteVirtualMFADevice`: refused while the device is enabled.
    fn delete_virtual_mfa_device(&self, serial_number: &str) -> Result<(), StoreError>;
    /// `ListMFADevices`: the owner's devices, in the order they were enabled.
    fn list_mfa_devices(&self, owner: Owner<'_>) -> Result<Vec<VirtualMfaDevice>, StoreError>;
    /// `ListVirtualMFADevices`, by serial number.
    fn list_virtual_mfa_devices(&self, status: AssignmentStatus) -> Result<Vec<VirtualMfaDevice>, StoreError>;
}

/// `UnixTime` as `[seconds, nanos]` in the durable backend's records.
pub(crate) mod unix_time {
    use castellan_credentials::UnixTime;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(crate) fn serialize<S: Serializer>(time: &UnixTime, serializer: S) -> Result<S::Ok, S::Error> {
        (time.seconds, time.nanos).serialize(serializer)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<UnixTime, D::Error> {
        let (seconds, nanos) = <(i64, u32)>::deserialize(deserializer)?;
        Ok(UnixTime { seconds, nanos })
    }
}
