//! The rest of IAM's administrative operations: identity providers, tags of the resources other
//! than users and roles, listings, the account summary, the authorization details and the
//! credential report. Each is authorized first, like `admin.rs`: the caller must be allowed the
//! IAM action on the resource's ARN (`*` where AWS names no resource), or gets `AccessDenied`.

use std::collections::BTreeMap;
use std::sync::Arc;

use castellan_credentials::UnixTime;
use castellan_store::{
    AssignmentStatus, AttachedPolicy, Entity, Group, InlinePolicy, InstanceProfile, ManagedPolicy, NewOidcProvider,
    OidcProvider, Owner, Page, PageRequest, PolicyScope, PolicyVersion, Role, SamlProvider, Store, Tag, Taggable, User,
    VirtualMfaDevice,
};
use castellan_sts::session::iso8601;

use crate::error::IamError;
use crate::iam::Iam;
use crate::last_used::RoleLastUsed;
use crate::subject::Caller;

/// A user, group or role a managed policy is attached to (`PolicyUser`, `PolicyGroup`,
/// `PolicyRole`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyEntity {
    /// The name.
    pub name: String,
    /// The unique id.
    pub id: String,
}

/// `ListEntitiesForPolicy`' answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyEntities {
    /// `PolicyGroups`.
    pub policy_groups: Vec<PolicyEntity>,
    /// `PolicyUsers`.
    pub policy_users: Vec<PolicyEntity>,
    /// `PolicyRoles`.
    pub policy_roles: Vec<PolicyEntity>,
}

/// `ListEntitiesForPolicy`' `EntityFilter` (the kinds of entity to list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntityFilter {
    /// `User`.
    User,
    /// `Group`.
    Group,
    /// `Role`.
    Role,
}

/// `ListEntitiesForPolicy`' `PolicyUsageFilter`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PolicyUsage {
    /// `PermissionsPolicy`: attachments (the default).
    #[default]
    PermissionsPolicy,
    /// `PermissionsBoundary`: users and roles using it as boundary.
    PermissionsBoundary,
}

/// A user with its policies (`UserDetail`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDetail {
    /// The user.
    pub user: User,
    /// `UserPolicyList`.
    pub user_policy_list: Vec<InlinePolicy>,
    /// `GroupList` (names).
    pub group_list: Vec<String>,
    /// `AttachedManagedPolicies`.
    pub attached_managed_policies: Vec<AttachedPolicy>,
}

/// A group with its policies (`GroupDetail`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDetail {
    /// The group.
    pub group: Group,
    /// `GroupPolicyList`.
    pub group_policy_list: Vec<InlinePolicy>,
    /// `AttachedManagedPolicies`.
    pub attached_managed_policies: Vec<AttachedPolicy>,
}

/// A role with its policies (`RoleDetail`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleDetail {
    /// The role.
    pub role: Role,
    /// `InstanceProfileList`.
    pub instance_profile_list: Vec<InstanceProfile>,
    /// `RolePolicyList`.
    pub role_policy_list: Vec<InlinePolicy>,
    /// `AttachedManagedPolicies`.
    pub attached_managed_policies: Vec<AttachedPolicy>,
    /// `RoleLastUsed`.
    pub role_last_used: RoleLastUsed,
}

/// A managed policy with its versions (`ManagedPolicyDetail`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedPolicyDetail {
    /// The policy.
    pub policy: ManagedPolicy,
    /// `PolicyVersionList`.
    pub policy_version_list: Vec<PolicyVersion>,
}

/// `GetAccountAuthorizationDetails`' `Filter` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorizationDetailsFilter {
    /// `User`.
    User,
    /// `Role`.
    Role,
    /// `Group`.
    Group,
    /// `LocalManagedPolicy`.
    LocalManagedPolicy,
    /// `AWSManagedPolicy`: AWS managed policies in use (attached or as boundary) in the account.
    AwsManagedPolicy,
}

/// `GetAccountAuthorizationDetails`' answer (never truncated).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountAuthorizationDetails {
    /// `UserDetailList`.
    pub user_detail_list: Vec<UserDetail>,
    /// `GroupDetailList`.
    pub group_detail_list: Vec<GroupDetail>,
    /// `RoleDetailList`.
    pub role_detail_list: Vec<RoleDetail>,
    /// `Policies`.
    pub policies: Vec<ManagedPolicyDetail>,
}

/// `GetCredentialReport`'s answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialReport {
    /// The report, CSV text (the API base64-encodes it).
    pub content: String,
    /// `text/csv`.
    pub report_format: String,
    /// When it was generated.
    pub generated_time: UnixTime,
}

/// `GenerateCredentialReport`'s `State`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportState {
    /// `STARTED`: Castellan never answers it (reports are made at once).
    Started,
    /// `INPROGRESS`: never answered either.
    InProgress,
    /// `COMPLETE`.
    Complete,
}

impl ReportState {
    /// `STARTED`, `INPROGRESS`, `COMPLETE`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportState::Started => "STARTED",
            ReportState::InProgress => "INPROGRESS",
            ReportState::Complete => "COMPLETE",
        }
    }
}

/// The CSV header of the credential report, AWS's columns in AWS's order.
pub const CREDENTIAL_REPORT_COLUMNS: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

/// How long a credential report is served before `GetCredentialReport` says it expired (AWS:
/// four hours).
const REPORT_LIFETIME_SECONDS: i64 = 4 * 3600;

fn iam_arn(account: &str, resource: &str) -> String {
    format!("arn:aws:iam::{account}:{resource}")
}

/// The ARN suffix of an OIDC provider URL (`HOST/PATH`).
fn oidc_arn(account: &str, url: &str) -> String {
    let rest = url.strip_prefix("https://").unwrap_or(url).trim_end_matches('/');
    iam_arn(account, &format!("oidc-provider/{rest}"))
}

fn tag_ctx(tags: &[Tag]) -> Vec<(String, String)> {
    let mut ctx: Vec<(String, String)> =
        tags.iter().map(|t| (format!("aws:RequestTag/{}", t.key), t.value.clone())).collect();
    ctx.extend(tags.iter().map(|t| ("aws:TagKeys".to_owned(), t.key.clone())));
    ctx
}

fn borrow(ctx: &[(String, String)]) -> Vec<(&str, &str)> {
    ctx.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// Every item of a paginated listing.
fn all<T>(list: impl Fn(&PageRequest) -> Result<Page<T>, castellan_store::StoreError>) -> Result<Vec<T>, IamError> {
    let mut items = Vec::new();
    let mut page = PageRequest { marker: None, max_items: Some(1000) };
    loop {
        let got = list(&page)?;
        items.extend(got.items);
        match (got.is_truncated, got.marker) {
            (true, Some(marker)) => page.marker = Some(marker),
            _ => return Ok(items),
        }
    }
}

/// A CSV field, quoted when it holds a comma or a quote (IAM user names may hold commas).
fn csv_field(text: &str) -> String {
    if text.contains([',', '"']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_owned() }
}

/// The time in the credential report's format (`2024-01-01T00:00:00+00:00`).
fn report_time(t: UnixTime) -> String {
    let text = iso8601(t);
    match text.strip_suffix('Z') {
        Some(base) => format!("{}+00:00", base.split('.').next().unwrap_or(base)),
        None => text,
    }
}

impl Iam {
    fn tag_action(
        &self,
        caller: &Caller,
        action: &str,
        resource: &str,
        target: Taggable<'_>,
        tags: Vec<Tag>,
    ) -> Result<(), IamError> {
        let ctx = tag_ctx(&tags);
        self.call(caller, action, resource, &borrow(&ctx), |s| Ok(s.tag_resource(target, tags)?))
    }

    fn untag_action(
        &self,
        caller: &Caller,
        action: &str,
        resource: &str,
        target: Taggable<'_>,
        keys: &[String],
    ) -> Result<(), IamError> {
        let ctx: Vec<(&str, &str)> = keys.iter().map(|k| ("aws:TagKeys", k.as_str())).collect();
        self.call(caller, action, resource, &ctx, |s| Ok(s.untag_resource(target, keys)?))
    }

    fn list_tags_action(
        &self,
        caller: &Caller,
        action: &str,
        resource: &str,
        target: Taggable<'_>,
    ) -> Result<Vec<Tag>, IamError> {
        self.call(caller, action, resource, &[], |s| Ok(s.resource_tags(target)?))
    }

    // ---- OpenID Connect providers ----

    /// `CreateOpenIDConnectProvider` (tags need `iam:TagOpenIDConnectProvider` too).
    pub fn create_open_id_connect_provider(
        &self,
        caller: &Caller,
        request: NewOidcProvider,
    ) -> Result<OidcProvider, IamError> {
        let resource = oidc_arn(caller.account(), &request.url);
        let ctx = tag_ctx(&request.tags);
        let ctx = borrow(&ctx);
        if !request.tags.is_empty() {
            self.call(caller, "iam:TagOpenIDConnectProvider", &resource, &ctx, |_| Ok(()))?;
        }
        self.call(caller, "iam:CreateOpenIDConnectProvider", &resource, &ctx, |s| Ok(s.create_oidc_provider(request)?))
    }

    /// `GetOpenIDConnectProvider`.
    pub fn get_open_id_connect_provider(&self, caller: &Caller, arn: &str) -> Result<OidcProvider, IamError> {
        self.call(caller, "iam:GetOpenIDConnectProvider", arn, &[], |s| Ok(s.oidc_provider(arn)?))
    }

    /// `ListOpenIDConnectProviders`.
    pub fn list_open_id_connect_providers(&self, caller: &Caller) -> Result<Vec<OidcProvider>, IamError> {
        self.call(caller, "iam:ListOpenIDConnectProviders", "*", &[], |s| Ok(s.list_oidc_providers()?))
    }

    /// `DeleteOpenIDConnectProvider`.
    pub fn delete_open_id_connect_provider(&self, caller: &Caller, arn: &str) -> Result<(), IamError> {
        self.call(caller, "iam:DeleteOpenIDConnectProvider", arn, &[], |s| Ok(s.delete_oidc_provider(arn)?))
    }

    /// `AddClientIDToOpenIDConnectProvider`.
    pub fn add_client_id_to_open_id_connect_provider(
        &self,
        caller: &Caller,
        arn: &str,
        client_id: &str,
    ) -> Result<(), IamError> {
        self.call(caller, "iam:AddClientIDToOpenIDConnectProvider", arn, &[], |s| {
            Ok(s.add_oidc_client_id(arn, client_id)?)
        })
    }

    /// `RemoveClientIDFromOpenIDConnectProvider`.
    pub fn remove_client_id_from_open_id_connect_provider(
        &self,
        caller: &Caller,
        arn: &str,
        client_id: &str,
    ) -> Result<(), IamError> {
        self.call(caller, "iam:RemoveClientIDFromOpenIDConnectProvider", arn, &[], |s| {
            Ok(s.remove_oidc_client_id(arn, client_id)?)
        })
    }

    /// `UpdateOpenIDConnectProviderThumbprint` (the list replaces the previous one).
    pub fn update_open_id_connect_provider_thumbprint(
        &self,
        caller: &Caller,
        arn: &str,
        thumbprints: Vec<String>,
    ) -> Result<(), IamError> {
        self.call(caller, "iam:UpdateOpenIDConnectProviderThumbprint", arn, &[], |s| {
            Ok(s.update_oidc_thumbprints(arn, thumbprints)?)
        })
    }

    /// Castellan extension `UpdateOpenIDConnectProviderSigningKeys`
    /// (`iam:UpdateOpenIDConnectProviderSigningKeys`): registers the provider's signing keys (a
    /// JSON Web Key Set), which AWS would fetch from the issuer; `None` removes them.
    pub fn update_open_id_connect_provider_signing_keys(
        &self,
        caller: &Caller,
        arn: &str,
        jwks: Option<&str>,
    ) -> Result<(), IamError> {
        self.call(caller, "iam:UpdateOpenIDConnectProviderSigningKeys", arn, &[], |s| {
            Ok(s.set_oidc_signing_keys(arn, jwks)?)
        })
    }

    /// `TagOpenIDConnectProvider`.
    pub fn tag_open_id_connect_provider(&self, caller: &Caller, arn: &str, tags: Vec<Tag>) -> Result<(), IamError> {
        self.tag_action(caller, "iam:TagOpenIDConnectProvider", arn, Taggable::OidcProvider(arn), tags)
    }

    /// `UntagOpenIDConnectProvider`.
    pub fn untag_open_id_connect_provider(&self, caller: &Caller, arn: &str, keys: &[String]) -> Result<(), IamError> {
        self.untag_action(caller, "iam:UntagOpenIDConnectProvider", arn, Taggable::OidcProvider(arn), keys)
    }

    /// `ListOpenIDConnectProviderTags`.
    pub fn list_open_id_connect_provider_tags(&self, caller: &Caller, arn: &str) -> Result<Vec<Tag>, IamError> {
        self.list_tags_action(caller, "iam:ListOpenIDConnectProviderTags", arn, Taggable::OidcProvider(arn))
    }

    // ---- SAML providers ----

    /// `CreateSAMLProvider` (tags need `iam:TagSAMLProvider` too).
    pub fn create_saml_provider(
        &self,
        caller: &Caller,
        name: &str,
        saml_metadata_document: &str,
        tags: Vec<Tag>,
    ) -> Result<SamlProvider, IamError> {
        let resource = iam_arn(caller.account(), &format!("saml-provider/{name}"));
        let ctx = tag_ctx(&tags);
        let ctx = borrow(&ctx);
        if !tags.is_empty() {
            self.call(caller, "iam:TagSAMLProvider", &resource, &ctx, |_| Ok(()))?;
        }
        self.call(caller, "iam:CreateSAMLProvider", &resource, &ctx, |s| {
            Ok(s.create_saml_provider(name, saml_metadata_document, tags)?)
        })
    }

    /// `GetSAMLProvider`.
    pub fn get_saml_provider(&self, caller: &Caller, arn: &str) -> Result<SamlProvider, IamError> {
        self.call(caller, "iam:GetSAMLProvider", arn, &[], |s| Ok(s.saml_provider(arn)?))
    }

    /// `ListSAMLProviders`.
    pub fn list_saml_providers(&self, caller: &Caller) -> Result<Vec<SamlProvider>, IamError> {
        self.call(caller, "iam:ListSAMLProviders", "*", &[], |s| Ok(s.list_saml_providers()?))
    }

    /// `UpdateSAMLProvider` (a new metadata document).
    pub fn update_saml_provider(
        &self,
        caller: &Caller,
        arn: &str,
        saml_metadata_document: &str,
    ) -> Result<(), IamError> {
        self.call(caller, "iam:UpdateSAMLProvider", arn, &[], |s| {
            Ok(s.update_saml_provider(arn, saml_metadata_document)?)
        })
    }

    /// `DeleteSAMLProvider`.
    pub fn delete_saml_provider(&self, caller: &Caller, arn: &str) -> Result<(), IamError> {
        self.call(caller, "iam:DeleteSAMLProvider", arn, &[], |s| Ok(s.delete_saml_provider(arn)?))
    }

    /// `TagSAMLProvider`.
    pub fn tag_saml_provider(&self, caller: &Caller, arn: &str, tags: Vec<Tag>) -> Result<(), IamError> {
        self.tag_action(caller, "iam:TagSAMLProvider", arn, Taggable::SamlProvider(arn), tags)
    }

    /// `UntagSAMLProvider`.
    pub fn untag_saml_provider(&self, caller: &Caller, arn: &str, keys: &[String]) -> Result<(), IamError> {
        self.untag_action(caller, "iam:UntagSAMLProvider", arn, Taggable::SamlProvider(arn), keys)
    }

    /// `ListSAMLProviderTags`.
    pub fn list_saml_provider_tags(&self, caller: &Caller, arn: &str) -> Result<Vec<Tag>, IamError> {
        self.list_tags_action(caller, "iam:ListSAMLProviderTags", arn, Taggable::SamlProvider(arn))
    }

    // ---- tags of policies, instance profiles, MFA devices, users and roles ----

    /// `TagPolicy`.
    pub fn tag_policy(&self, caller: &Caller, policy_arn: &str, tags: Vec<Tag>) -> Result<(), IamError> {
        self.tag_action(caller, "iam:TagPolicy", policy_arn, Taggable::Policy(policy_arn), tags)
    }

    /// `UntagPolicy`.
    pub fn untag_policy(&self, caller: &Caller, policy_arn: &str, keys: &[String]) -> Result<(), IamError> {
        self.untag_action(caller, "iam:UntagPolicy", policy_arn, Taggable::Policy(policy_arn), keys)
    }

    /// `ListPolicyTags`.
    pub fn list_policy_tags(&self, caller: &Caller, policy_arn: &str) -> Result<Vec<Tag>, IamError> {
        self.list_tags_action(caller, "iam:ListPolicyTags", policy_arn, Taggable::Policy(policy_arn))
    }

    fn instance_profile_arn(&self, caller: &Caller, name: &str) -> String {
        self.directory
            .account(caller.account())
            .ok()
            .and_then(|s| s.instance_profile(name).ok())
            .map_or_else(|| iam_arn(caller.account(), &format!("instance-profile/{name}")), |(p, _)| p.arn)
    }

    /// `TagInstanceProfile`.
    pub fn tag_instance_profile(&self, caller: &Caller, name: &str, tags: Vec<Tag>) -> Result<(), IamError> {
        let resource = self.instance_profile_arn(caller, name);
        self.tag_action(caller, "iam:TagInstanceProfile", &resource, Taggable::InstanceProfile(name), tags)
    }

    /// `UntagInstanceProfile`.
    pub fn untag_instance_profile(&self, caller: &Caller, name: &str, keys: &[String]) -> Result<(), IamError> {
        let resource = self.instance_profile_arn(caller, name);
        self.untag_action(caller, "iam:UntagInstanceProfile", &resource, Taggable::InstanceProfile(name), keys)
    }

    /// `ListInstanceProfileTags`.
    pub fn list_instance_profile_tags(&self, caller: &Caller, name: &str) -> Result<Vec<Tag>, IamError> {
        let resource = self.instance_profile_arn(caller, name);
        self.list_tags_action(caller, "iam:ListInstanceProfileTags", &resource, Taggable::InstanceProfile(name))
    }

    /// `TagMFADevice`.
    pub fn tag_mfa_device(&self, caller: &Caller, serial_number: &str, tags: Vec<Tag>) -> Result<(), IamError> {
        self.tag_action(caller, "iam:TagMFADevice", serial_number, Taggable::MfaDevice(serial_number), tags)
    }

    /// `UntagMFADevice`.
    pub fn untag_mfa_device(&self, caller: &Caller, serial_number: &str, keys: &[String]) -> Result<(), IamError> {
        self.untag_action(caller, "iam:UntagMFADevice", serial_number, Taggable::MfaDevice(serial_number), keys)
    }

    /// `ListMFADeviceTags`.
    pub fn list_mfa_device_tags(&self, caller: &Caller, serial_number: &str) -> Result<Vec<Tag>, IamError> {
        self.list_tags_action(caller, "iam:ListMFADeviceTags", serial_number, Taggable::MfaDevice(serial_number))
    }

    /// `ListUserTags`.
    pub fn list_user_tags(&self, caller: &Caller, name: &str) -> Result<Vec<Tag>, IamError> {
        let resource = self.user_arn_of(caller, name);
        self.call(caller, "iam:ListUserTags", &resource, &[], |s| Ok(s.user(name)?.tags))
    }

    /// `ListRoleTags`.
    pub fn list_role_tags(&self, caller: &Caller, name: &str) -> Result<Vec<Tag>, IamError> {
        let resource = self.role_arn_of(caller, name);
        self.call(caller, "iam:ListRoleTags", &resource, &[], |s| Ok(s.role(name)?.tags))
    }

    fn user_arn_of(&self, caller: &Caller, name: &str) -> String {
        self.directory
            .account(caller.account())
            .ok()
            .and_then(|s| s.user(name).ok())
            .map_or_else(|| iam_arn(caller.account(), &format!("user/{name}")), |u| u.arn)
    }

    fn role_arn_of(&self, caller: &Caller, name: &str) -> String {
        self.directory
            .account(caller.account())
            .ok()
            .and_then(|s| s.role(name).ok())
            .map_or_else(|| iam_arn(caller.account(), &format!("role/{name}")), |r| r.arn)
    }

    // ---- listings ----

    /// `ListInstanceProfiles`.
    pub fn list_instance_profiles(
        &self,
        caller: &Caller,
        path_prefix: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<InstanceProfile>, IamError> {
        let resource = iam_arn(caller.account(), "instance-profile/*");
        self.call(caller, "iam:ListInstanceProfiles", &resource, &[], |s| {
            Ok(s.list_instance_profiles(path_prefix, page)?)
        })
    }

    /// `ListInstanceProfilesForRole` (authorized on the role).
    pub fn list_instance_profiles_for_role(
        &self,
        caller: &Caller,
        role: &str,
    ) -> Result<Vec<InstanceProfile>, IamError> {
        let resource = self.role_arn_of(caller, role);
        self.call(caller, "iam:ListInstanceProfilesForRole", &resource, &[], |s| {
            Ok(s.list_instance_profiles_for_role(role)?)
        })
    }

    /// `ListVirtualMFADevices`, by assignment status.
    pub fn list_virtual_mfa_devices(
        &self,
        caller: &Caller,
        status: AssignmentStatus,
    ) -> Result<Vec<VirtualMfaDevice>, IamError> {
        self.call(caller, "iam:ListVirtualMFADevices", "*", &[], |s| Ok(s.list_virtual_mfa_devices(status)?))
    }

    /// `ListEntitiesForPolicy` (authorized on the policy): the groups, users and roles that
    /// attach it, or (`PolicyUsage::PermissionsBoundary`) the users and roles using it as
    /// boundary; in IAM's order (by name).
    pub fn list_entities_for_policy(
        &self,
        caller: &Caller,
        policy_arn: &str,
        filter: Option<EntityFilter>,
        usage: PolicyUsage,
    ) -> Result<PolicyEntities, IamError> {
        self.call(caller, "iam:ListEntitiesForPolicy", policy_arn, &[], |s| {
            s.policy(policy_arn)?;
            let wants = |f: EntityFilter| filter.is_none_or(|x| x == f);
            let attaches = |entity: Entity<'_>| -> Result<bool, IamError> {
                Ok(s.list_attached_policies(entity)?.iter().any(|p| p.arn == policy_arn))
            };
            let boundary = usage == PolicyUsage::PermissionsBoundary;
            let mut out = PolicyEntities::default();
            if wants(EntityFilter::User) {
                for u in all(|p| s.list_users(None, p))? {
                    let hit = if boundary {
                        u.permissions_boundary.as_deref() == Some(policy_arn)
                    } else {
                        attaches(Entity::User(u.name.as_str()))?
                    };
                    if hit {
                        out.policy_users.push(PolicyEntity { name: u.name.as_str().to_owned(), id: u.user_id });
                    }
                }
            }
            if wants(EntityFilter::Group) && !boundary {
                for g in all(|p| s.list_groups(None, p))? {
                    if attaches(Entity::Group(g.name.as_str()))? {
                        out.policy_groups.push(PolicyEntity { name: g.name.as_str().to_owned(), id: g.group_id });
                    }
                }
            }
            if wants(EntityFilter::Role) {
                for r in all(|p| s.list_roles(None, p))? {
                    let hit = if boundary {
                        r.permissions_boundary.as_deref() == Some(policy_arn)
                    } else {
                        attaches(Entity::Role(r.name.as_str()))?
                    };
                    if hit {
                        out.policy_roles.push(PolicyEntity { name: r.name.as_str().to_owned(), id: r.role_id });
                    }
                }
            }
            Ok(out)
        })
    }

    // ---- account-wide reports ----

    /// `GetAccountSummary`: counts from the store's listings and the account's quotas, keyed like
    /// AWS's `SummaryMap`.
    pub fn get_account_summary(&self, caller: &Caller) -> Result<BTreeMap<String, i64>, IamError> {
        self.call(caller, "iam:GetAccountSummary", "*", &[], |s| {
            let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
            let users = all(|p| s.list_users(None, p))?;
            let groups = all(|p| s.list_groups(None, p))?;
            let roles = all(|p| s.list_roles(None, p))?;
            let policies = all(|p| s.list_policies_in_scope(PolicyScope::Local, None, p))?;
            let profiles = all(|p| s.list_instance_profiles(None, p))?;
            let devices = s.list_virtual_mfa_devices(AssignmentStatus::Any)?;
            let in_use = devices.iter().filter(|d| d.owner.is_some()).count();
            let mut versions = 0;
            for p in &policies {
                versions += s.list_policy_versions(&p.arn)?.len();
            }
            let providers = s.list_oidc_providers()?.len() + s.list_saml_providers()?.len();
            let root_mfa = !s.list_mfa_devices(Owner::Root)?.is_empty();
            let root_keys = !s.list_access_keys(Owner::Root)?.is_empty();
            let root_password = s.login_profile(Owner::Root).is_ok();
            let mut map = BTreeMap::new();
            let mut put = |k: &str, v: i64| {
                map.insert(k.to_owned(), v);
            };
            put("Users", count(users.len()));
            put("UsersQuota", count(castellan_store::MAX_USERS));
            put("Groups", count(groups.len()));
            put("GroupsQuota", count(castellan_store::MAX_GROUPS));
            put("Roles", count(roles.len()));
            put("RolesQuota", count(castellan_store::MAX_ROLES));
            put("Policies", count(policies.len()));
            put("PoliciesQuota", count(castellan_store::MAX_POLICIES));
            put("PolicyVersionsInUse", count(versions));
            put("PolicyVersionsInUseQuota", 10_000);
            put("VersionsPerPolicyQuota", count(castellan_store::MAX_POLICY_VERSIONS));
            put("PolicySizeQuota", count(castellan_store::MAX_MANAGED_POLICY_SIZE));
            put("UserPolicySizeQuota", count(castellan_store::MAX_USER_INLINE_SIZE));
            put("GroupPolicySizeQuota", count(castellan_store::MAX_GROUP_INLINE_SIZE));
            put("RolePolicySizeQuota", count(castellan_store::MAX_ROLE_INLINE_SIZE));
            put("AssumeRolePolicySizeQuota", 2048);
            put("GroupsPerUserQuota", count(castellan_store::MAX_GROUPS_PER_USER));
            put("AttachedPoliciesPerUserQuota", count(castellan_store::MAX_ATTACHED_POLICIES));
            put("AttachedPoliciesPerGroupQuota", count(castellan_store::MAX_ATTACHED_POLICIES));
            put("AttachedPoliciesPerRoleQuota", count(castellan_store::MAX_ATTACHED_POLICIES));
            put("AccessKeysPerUserQuota", count(castellan_store::MAX_ACCESS_KEYS));
            put("SigningCertificatesPerUserQuota", 2);
            put("ServerCertificates", 0);
            put("ServerCertificatesQuota", 20);
            put("InstanceProfiles", count(profiles.len()));
            put("InstanceProfilesQuota", count(castellan_store::MAX_INSTANCE_PROFILES));
            put("MFADevices", count(devices.len()));
            put("MFADevicesInUse", count(in_use));
            put("Providers", count(providers));
            put("AccountMFAEnabled", i64::from(root_mfa));
            put("AccountAccessKeysPresent", i64::from(root_keys));
            put("AccountPasswordPresent", i64::from(root_password));
            put("AccountSigningCertificatesPresent", 0);
            put("GlobalEndpointTokenVersion", 1);
            Ok(map)
        })
    }

    /// `GetAccountAuthorizationDetails`: users, groups, roles and managed policies with their
    /// policies; `filter` empty means everything. Managed policies listed are the account's
    /// own (`LocalManagedPolicy`) and the AWS managed policies attached or used as boundary in
    /// the account (`AWSManagedPolicy`).
    pub fn get_account_authorization_details(
        &self,
        caller: &Caller,
        filter: &[AuthorizationDetailsFilter],
    ) -> Result<AccountAuthorizationDetails, IamError> {
        let wants = |f: AuthorizationDetailsFilter| filter.is_empty() || filter.contains(&f);
        self.call(caller, "iam:GetAccountAuthorizationDetails", "*", &[], |s| {
            let inline = |e: Entity<'_>| -> Result<Vec<InlinePolicy>, IamError> {
                let mut out = Vec::new();
                for name in s.list_inline_policies(e)? {
                    out.push(s.inline_policy(e, &name)?);
                }
                Ok(out)
            };
            let mut out = AccountAuthorizationDetails::default();
            let mut aws_in_use: Vec<String> = Vec::new();
            let mut note_aws = |arn: &str| {
                if arn.starts_with("arn:aws:iam::aws:") && !aws_in_use.iter().any(|a| a == arn) {
                    aws_in_use.push(arn.to_owned());
                }
            };
            for user in all(|p| s.list_users(None, p))? {
                let e = Entity::User(user.name.as_str());
                let attached = s.list_attached_policies(e)?;
                attached.iter().for_each(|a| note_aws(&a.arn));
                if let Some(b) = &user.permissions_boundary {
                    note_aws(b);
                }
                if wants(AuthorizationDetailsFilter::User) {
                    let groups = all(|p| s.list_groups_for_user(user.name.as_str(), p))?;
                    out.user_detail_list.push(UserDetail {
                        user_policy_list: inline(e)?,
                        group_list: groups.into_iter().map(|g| g.name.as_str().to_owned()).collect(),
                        attached_managed_policies: attached,
                        user,
                    });
                }
            }
            for group in all(|p| s.list_groups(None, p))? {
                let e = Entity::Group(group.name.as_str());
                let attached = s.list_attached_policies(e)?;
                attached.iter().for_each(|a| note_aws(&a.arn));
                if wants(AuthorizationDetailsFilter::Group) {
                    out.group_detail_list.push(GroupDetail {
                        group_policy_list: inline(e)?,
                        attached_managed_policies: attached,
                        group,
                    });
                }
            }
            for role in all(|p| s.list_roles(None, p))? {
                let e = Entity::Role(role.name.as_str());
                let attached = s.list_attached_policies(e)?;
                attached.iter().for_each(|a| note_aws(&a.arn));
                if let Some(b) = &role.permissions_boundary {
                    note_aws(b);
                }
                if wants(AuthorizationDetailsFilter::Role) {
                    out.role_detail_list.push(RoleDetail {
                        instance_profile_list: s.list_instance_profiles_for_role(role.name.as_str())?,
                        role_policy_list: inline(e)?,
                        attached_managed_policies: attached,
                        role_last_used: self.role_last_used(&role.arn),
                        role,
                    });
                }
            }
            let detail = |policy: ManagedPolicy| -> Result<ManagedPolicyDetail, IamError> {
                let policy_version_list = s.list_policy_versions(&policy.arn)?;
                Ok(ManagedPolicyDetail { policy, policy_version_list })
            };
            if wants(AuthorizationDetailsFilter::LocalManagedPolicy) {
                for p in all(|p| s.list_policies_in_scope(PolicyScope::Local, None, p))? {
                    out.policies.push(detail(p)?);
                }
            }
            if wants(AuthorizationDetailsFilter::AwsManagedPolicy) {
                aws_in_use.sort();
                for arn in aws_in_use {
                    out.policies.push(detail(s.policy(&arn)?)?);
                }
            }
            Ok(out)
        })
    }

    /// `GenerateCredentialReport`: makes the report now (so the state is always `COMPLETE`).
    /// A report younger than four hours is kept, as AWS does.
    pub fn generate_credential_report(&self, caller: &Caller) -> Result<ReportState, IamError> {
        let now = self.clock.now();
        self.call(caller, "iam:GenerateCredentialReport", "*", &[], |s| {
            if let Some((at, _)) = self.activity.report(s.account_id())
                && now.seconds - at.seconds < REPORT_LIFETIME_SECONDS
            {
                return Ok(ReportState::Complete);
            }
            let csv = self.credential_report_csv(s)?;
            self.activity.save_report(s.account_id(), now, csv);
            Ok(ReportState::Complete)
        })
    }

    /// `GetCredentialReport`: the CSV text (AWS's columns; the API base64-encodes it).
    /// `ReportNotPresent` (410) before a `GenerateCredentialReport`, `ReportExpired` (410) four
    /// hours after it.
    pub fn get_credential_report(&self, caller: &Caller) -> Result<CredentialReport, IamError> {
        let now = self.clock.now();
        self.call(caller, "iam:GetCredentialReport", "*", &[], |s| {
            let (at, content) = self.activity.report(s.account_id()).ok_or_else(|| {
                IamError::new(
                    "ReportNotPresent",
                    410,
                    "Credential report does not exist. Use GenerateCredentialReport to generate a credential report.",
                )
            })?;
            if now.seconds - at.seconds >= REPORT_LIFETIME_SECONDS {
                return Err(IamError::new(
                    "ReportExpired",
                    410,
                    "Credential report is expired. Use GenerateCredentialReport to generate a new credential report.",
                ));
            }
            Ok(CredentialReport { content, report_format: "text/csv".to_owned(), generated_time: at })
        })
    }

    fn credential_report_csv(&self, s: &Arc<dyn Store>) -> Result<String, IamError> {
        let policy = s.password_policy().ok();
        let mut csv = String::from(CREDENTIAL_REPORT_COLUMNS);
        csv.push('\n');
        let account = s.account_id().to_owned();
        let mut rows: Vec<(String, String, String, Owner<'_>)> =
            vec![("<root_account>".to_owned(), iam_arn(&account, "root"), "N/A".to_owned(), Owner::Root)];
        let users = all(|p| s.list_users(None, p))?;
        for u in &users {
            rows.push((
                u.name.as_str().to_owned(),
                u.arn.clone(),
                report_time(u.create_date),
                Owner::User(u.name.as_str()),
            ));
        }
        for (name, arn, created, owner) in rows {
            let profile = s.login_profile(owner).ok();
            let root = owner == Owner::Root;
            let password_enabled = match (&profile, root) {
                (Some(_), _) => "true",
                (None, true) => "not_supported",
                (None, false) => "false",
            };
            let last_used = profile.as_ref().and_then(|p| p.password_last_used).map_or_else(
                || if profile.is_some() { "no_information".to_owned() } else { "N/A".to_owned() },
                report_time,
            );
            let changed = profile.as_ref().map_or_else(|| "N/A".to_owned(), |p| report_time(p.password_set_at));
            let next_rotation = match (&profile, policy.as_ref().and_then(|p| p.max_password_age())) {
                (Some(p), Some(days)) => {
                    report_time(UnixTime::from_seconds(p.password_set_at.seconds + i64::from(days) * 86_400))
                }
                _ => "N/A".to_owned(),
            };
            let mfa = !s.list_mfa_devices(owner)?.is_empty();
            let mut fields = vec![
                name,
                arn,
                created,
                password_enabled.to_owned(),
                last_used,
                changed,
                next_rotation,
                mfa.to_string(),
            ];
            let mut keys = s.list_access_keys(owner)?;
            keys.sort_by_key(|k| k.created_at);
            for slot in 0..2 {
                match keys.get(slot) {
                    Some(k) => {
                        let used = self.access_key_last_used(k.id.as_str(), &k.last_used);
                        let active = k.status == castellan_credentials::access_key::AccessKeyStatus::Active;
                        fields.push(active.to_string());
                        fields.push(report_time(k.created_at));
                        fields.push(used.last_used_date.map_or_else(|| "N/A".to_owned(), report_time));
                        fields.push(used.region);
                        fields.push(used.service_name);
                    }
                    None => {
                        fields.push("false".to_owned());
                        fields.extend(std::iter::repeat_n("N/A".to_owned(), 4));
                    }
                }
            }
            fields.extend(["false", "N/A", "false", "N/A"].map(str::to_owned));
            let fields: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
            csv.push_str(&fields.join(","));
            csv.push('\n');
        }
        Ok(csv)
    }
}
