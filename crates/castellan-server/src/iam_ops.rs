//! IAM's operations (API version 2010-05-08): request parameters to the facade's calls, results
//! to the XML of the API model (policy documents URL-encoded where IAM encodes them, lists as
//! `<member>` elements, `IsTruncated`/`Marker` on lists).

use castellan::credentials::access_key::AccessKeyStatus;
use castellan::credentials::password::{PasswordPolicy, UpdatePasswordPolicy};
use castellan::credentials::{MfaState, SecretString};
use castellan::store::{
    Entity, Group, InstanceProfile, ManagedPolicy, NewPolicy, NewRole, NewUser, Owner, PolicyScope, PolicyVersion,
    Role, Tag, User,
};
use castellan::{Access, IamError, Identity};

use crate::params::{Params, paginate};
use crate::query::{Call, OpResult};
use crate::wire::{Xml, base64, timestamp, url_encode};

/// Runs IAM action `action` (`InvalidAction` when it is not served).
pub(crate) fn dispatch(call: &Call<'_>, action: &str) -> OpResult {
    match action {
        // users
        "CreateUser" => create_user(call),
        "GetUser" => get_user(call),
        "ListUsers" => list_users(call),
        "UpdateUser" => update_user(call),
        "DeleteUser" => done(call.iam.delete_user(call.caller, call.params.required("UserName")?)),
        "TagUser" => tag(call, Kind::User),
        "UntagUser" => untag(call, Kind::User),
        "PutUserPermissionsBoundary" => put_boundary(call, Kind::User),
        "DeleteUserPermissionsBoundary" => delete_boundary(call, Kind::User),
        // groups
        "CreateGroup" => create_group(call),
        "GetGroup" => get_group(call),
        "ListGroups" => list_groups(call),
        "UpdateGroup" => update_group(call),
        "DeleteGroup" => done(call.iam.delete_group(call.caller, call.params.required("GroupName")?)),
        "AddUserToGroup" => {
            let p = call.params;
            done(call.iam.add_user_to_group(call.caller, p.required("GroupName")?, p.required("UserName")?))
        }
        "RemoveUserFromGroup" => {
            let p = call.params;
            done(call.iam.remove_user_from_group(call.caller, p.required("GroupName")?, p.required("UserName")?))
        }
        "ListGroupsForUser" => list_groups_for_user(call),
        // roles
        "CreateRole" => create_role(call),
        "GetRole" => get_role(call),
        "ListRoles" => list_roles(call),
        "UpdateRole" => update_role(call),
        "UpdateAssumeRolePolicy" => {
            let p = call.params;
            done(call.iam.update_assume_role_policy(
                call.caller,
                p.required("RoleName")?,
                p.required("PolicyDocument")?,
            ))
        }
        "DeleteRole" => done(call.iam.delete_role(call.caller, call.params.required("RoleName")?)),
        "TagRole" => tag(call, Kind::Role),
        "UntagRole" => untag(call, Kind::Role),
        "PutRolePermissionsBoundary" => put_boundary(call, Kind::Role),
        "DeleteRolePermissionsBoundary" => delete_boundary(call, Kind::Role),
        // managed policies
        "CreatePolicy" => create_policy(call),
        "GetPolicy" => get_policy(call),
        "ListPolicies" => list_policies(call),
        "DeletePolicy" => done(call.iam.delete_policy(call.caller, call.params.required("PolicyArn")?)),
        "CreatePolicyVersion" => create_policy_version(call),
        "GetPolicyVersion" => get_policy_version(call),
        "ListPolicyVersions" => list_policy_versions(call),
        "SetDefaultPolicyVersion" => {
            let p = call.params;
            done(call.iam.set_default_policy_version(call.caller, p.required("PolicyArn")?, p.required("VersionId")?))
        }
        "DeletePolicyVersion" => {
            let p = call.params;
            done(call.iam.delete_policy_version(call.caller, p.required("PolicyArn")?, p.required("VersionId")?))
        }
        // attachments and inline policies
        "AttachUserPolicy" => attach(call, Kind::User, true),
        "AttachGroupPolicy" => attach(call, Kind::Group, true),
        "AttachRolePolicy" => attach(call, Kind::Role, true),
        "DetachUserPolicy" => attach(call, Kind::User, false),
        "DetachGroupPolicy" => attach(call, Kind::Group, false),
        "DetachRolePolicy" => attach(call, Kind::Role, false),
        "ListAttachedUserPolicies" => list_attached(call, Kind::User),
        "ListAttachedGroupPolicies" => list_attached(call, Kind::Group),
        "ListAttachedRolePolicies" => list_attached(call, Kind::Role),
        "PutUserPolicy" => put_inline(call, Kind::User),
        "PutGroupPolicy" => put_inline(call, Kind::Group),
        "PutRolePolicy" => put_inline(call, Kind::Role),
        "GetUserPolicy" => get_inline(call, Kind::User),
        "GetGroupPolicy" => get_inline(call, Kind::Group),
        "GetRolePolicy" => get_inline(call, Kind::Role),
        "ListUserPolicies" => list_inline(call, Kind::User),
        "ListGroupPolicies" => list_inline(call, Kind::Group),
        "ListRolePolicies" => list_inline(call, Kind::Role),
        "DeleteUserPolicy" => delete_inline(call, Kind::User),
        "DeleteGroupPolicy" => delete_inline(call, Kind::Group),
        "DeleteRolePolicy" => delete_inline(call, Kind::Role),
        // instance profiles
        "CreateInstanceProfile" => create_instance_profile(call),
        "GetInstanceProfile" => get_instance_profile(call),
        "AddRoleToInstanceProfile" => {
            let p = call.params;
            done(call.iam.add_role_to_instance_profile(
                call.caller,
                p.required("InstanceProfileName")?,
                p.required("RoleName")?,
            ))
        }
        "RemoveRoleFromInstanceProfile" => {
            let p = call.params;
            done(call.iam.remove_role_from_instance_profile(
                call.caller,
                p.required("InstanceProfileName")?,
                p.required("RoleName")?,
            ))
        }
        "DeleteInstanceProfile" => {
            done(call.iam.delete_instance_profile(call.caller, call.params.required("InstanceProfileName")?))
        }
        // access keys
        "CreateAccessKey" => create_access_key(call),
        "ListAccessKeys" => list_access_keys(call),
        "UpdateAccessKey" => update_access_key(call),
        "DeleteAccessKey" => {
            let p = call.params;
            done(call.iam.delete_access_key(call.caller, p.get("UserName"), p.required("AccessKeyId")?))
        }
        // login profiles
        "CreateLoginProfile" => create_login_profile(call),
        "GetLoginProfile" => get_login_profile(call),
        "UpdateLoginProfile" => update_login_profile(call),
        "DeleteLoginProfile" => done(call.iam.delete_login_profile(call.caller, call.params.get("UserName"))),
        "ChangePassword" => {
            let p = call.params;
            let old = SecretString::new(p.required("OldPassword")?);
            let new = SecretString::new(p.required("NewPassword")?);
            done(call.iam.change_password(call.caller, &old, &new))
        }
        // MFA
        "CreateVirtualMFADevice" => create_virtual_mfa_device(call),
        "EnableMFADevice" => {
            let p = call.params;
            done(call.iam.enable_mfa_device(
                call.caller,
                p.get("UserName"),
                p.required("SerialNumber")?,
                p.required("AuthenticationCode1")?,
                p.required("AuthenticationCode2")?,
            ))
        }
        "ResyncMFADevice" => {
            let p = call.params;
            done(call.iam.resync_mfa_device(
                call.caller,
                p.get("UserName"),
                p.required("SerialNumber")?,
                p.required("AuthenticationCode1")?,
                p.required("AuthenticationCode2")?,
            ))
        }
        "DeactivateMFADevice" => {
            let p = call.params;
            done(call.iam.deactivate_mfa_device(call.caller, p.get("UserName"), p.required("SerialNumber")?))
        }
        "DeleteVirtualMFADevice" => {
            done(call.iam.delete_virtual_mfa_device(call.caller, call.params.required("SerialNumber")?))
        }
        "ListMFADevices" => list_mfa_devices(call),
        // account
        "GetAccountPasswordPolicy" => get_password_policy(call),
        "UpdateAccountPasswordPolicy" => update_password_policy(call),
        "DeleteAccountPasswordPolicy" => done(call.iam.delete_password_policy(call.caller)),
        "CreateAccountAlias" => done(call.iam.create_account_alias(call.caller, call.params.required("AccountAlias")?)),
        "DeleteAccountAlias" => done(call.iam.delete_account_alias(call.caller, call.params.required("AccountAlias")?)),
        "ListAccountAliases" => list_account_aliases(call),
        _ => match crate::iam_more::dispatch(call, action) {
            Some(result) => result,
            None => match crate::iam_reports::dispatch(call, action) {
                Some(result) => result,
                None => Err(crate::query::invalid_action(action)),
            },
        },
    }
}

/// An operation without output.
fn done(result: Result<(), IamError>) -> OpResult {
    result.map(|()| None)
}

/// The entity kind an operation of the `{User,Group,Role}` families is about.
#[derive(Clone, Copy)]
enum Kind {
    User,
    Group,
    Role,
}

impl Kind {
    fn name_param(self) -> &'static str {
        match self {
            Kind::User => "UserName",
            Kind::Group => "GroupName",
            Kind::Role => "RoleName",
        }
    }

    fn entity(self, params: &Params) -> Result<Entity<'_>, IamError> {
        let name = params.required(self.name_param())?;
        Ok(match self {
            Kind::User => Entity::User(name),
            Kind::Group => Entity::Group(name),
            Kind::Role => Entity::Role(name),
        })
    }
}

pub(crate) fn truncation(xml: &mut Xml, marker: Option<&str>) {
    xml.flag("IsTruncated", marker.is_some());
    xml.opt("Marker", marker);
}

fn tags(xml: &mut Xml, tags: &[Tag]) {
    if !tags.is_empty() {
        xml.members("Tags", tags, |xml, t| {
            xml.leaf("Key", &t.key).leaf("Value", &t.value);
        });
    }
}

fn boundary(xml: &mut Xml, arn: Option<&str>) {
    if let Some(arn) = arn {
        xml.open("PermissionsBoundary")
            .leaf("PermissionsBoundaryType", "Policy")
            .leaf("PermissionsBoundaryArn", arn)
            .close("PermissionsBoundary");
    }
}

pub(crate) fn user_fields(xml: &mut Xml, u: &User, with_tags: bool) {
    xml.leaf("Path", u.path.as_str())
        .leaf("UserName", u.name.as_str())
        .leaf("UserId", &u.user_id)
        .leaf("Arn", &u.arn)
        .leaf("CreateDate", &timestamp(u.create_date));
    boundary(xml, u.permissions_boundary.as_deref());
    if with_tags {
        tags(xml, &u.tags);
    }
}

fn one_user(u: &User) -> Xml {
    let mut xml = Xml::default();
    xml.open("User");
    user_fields(&mut xml, u, true);
    xml.close("User");
    xml
}

pub(crate) fn group_fields(xml: &mut Xml, g: &Group) {
    xml.leaf("Path", g.path.as_str())
        .leaf("GroupName", g.name.as_str())
        .leaf("GroupId", &g.group_id)
        .leaf("Arn", &g.arn)
        .leaf("CreateDate", &timestamp(g.create_date));
}

pub(crate) fn role_fields(xml: &mut Xml, r: &Role, with_tags: bool) {
    xml.leaf("Path", r.path.as_str())
        .leaf("RoleName", r.name.as_str())
        .leaf("RoleId", &r.role_id)
        .leaf("Arn", &r.arn)
        .leaf("CreateDate", &timestamp(r.create_date))
        .leaf("AssumeRolePolicyDocument", &url_encode(&r.assume_role_policy_document))
        .opt("Description", r.description.as_deref())
        .leaf("MaxSessionDuration", &r.max_session_duration.to_string());
    boundary(xml, r.permissions_boundary.as_deref());
    if with_tags {
        tags(xml, &r.tags);
    }
}

pub(crate) fn policy_fields(xml: &mut Xml, p: &ManagedPolicy, with_tags: bool) {
    xml.leaf("PolicyName", p.name.as_str())
        .leaf("PolicyId", &p.policy_id)
        .leaf("Arn", &p.arn)
        .leaf("Path", p.path.as_str())
        .leaf("DefaultVersionId", &p.default_version_id)
        .leaf("AttachmentCount", &p.attachment_count.to_string())
        .leaf("PermissionsBoundaryUsageCount", &p.permissions_boundary_usage_count.to_string())
        .flag("IsAttachable", true)
        .opt("Description", p.description.as_deref())
        .leaf("CreateDate", &timestamp(p.create_date))
        .leaf("UpdateDate", &timestamp(p.update_date));
    if with_tags {
        tags(xml, &p.tags);
    }
}

pub(crate) fn version_fields(xml: &mut Xml, v: &PolicyVersion, with_document: bool) {
    if with_document {
        xml.leaf("Document", &url_encode(&v.document));
    }
    xml.leaf("VersionId", &v.version_id)
        .flag("IsDefaultVersion", v.is_default)
        .leaf("CreateDate", &timestamp(v.create_date));
}

fn instance_profile(xml: &mut Xml, profile: &InstanceProfile, roles: &[Role]) {
    xml.open("InstanceProfile");
    instance_profile_fields(xml, profile, roles);
    xml.close("InstanceProfile");
}

/// The members of an `InstanceProfile` (in `<InstanceProfile>` or a list's `<member>`).
pub(crate) fn instance_profile_fields(xml: &mut Xml, profile: &InstanceProfile, roles: &[Role]) {
    xml.leaf("Path", profile.path.as_str())
        .leaf("InstanceProfileName", &profile.name)
        .leaf("InstanceProfileId", &profile.instance_profile_id)
        .leaf("Arn", &profile.arn)
        .leaf("CreateDate", &timestamp(profile.create_date));
    xml.members("Roles", roles, |xml, r| role_fields(xml, r, false));
    tags(xml, &profile.tags);
}

// ---- users ----

fn create_user(call: &Call<'_>) -> OpResult {
    let p = call.params;
    let request = NewUser {
        name: p.required("UserName")?.to_owned(),
        path: p.get("Path").map(str::to_owned),
        tags: p.tags("Tags"),
        permissions_boundary: p.get("PermissionsBoundary").map(str::to_owned),
    };
    let user = call.iam.create_user(call.caller, request)?;
    Ok(Some(one_user(&user)))
}

fn get_user(call: &Call<'_>) -> OpResult {
    let name = call.params.get("UserName").filter(|n| !n.is_empty());
    if let (None, Identity::Root { account }) = (name, &call.caller.identity) {
        // The root user: AWS answers with the account id as the user id and the root ARN.
        let arn = format!("arn:aws:iam::{account}:root");
        let decision = call.iam.authorize(call.caller, &Access::new("iam:GetUser", &arn))?;
        if !decision.is_allowed() {
            return Err(IamError::access_denied(decision.message));
        }
        let created = call
            .iam
            .directory()
            .account(account)
            .ok()
            .and_then(|s| s.list_access_keys(Owner::Root).ok())
            .and_then(|keys| keys.iter().map(|k| k.created_at).min())
            .unwrap_or_else(|| call.iam.clock().now());
        let mut xml = Xml::default();
        xml.open("User")
            .leaf("UserId", account)
            .leaf("Arn", &arn)
            .leaf("CreateDate", &timestamp(created))
            .close("User");
        return Ok(Some(xml));
    }
    let user = call.iam.get_user(call.caller, name)?;
    Ok(Some(one_user(&user)))
}

fn list_users(call: &Call<'_>) -> OpResult {
    let page = call.iam.list_users(call.caller, call.params.get("PathPrefix"), &call.params.page()?)?;
    let mut xml = Xml::default();
    xml.members("Users", &page.items, |xml, u| user_fields(xml, u, false));
    truncation(&mut xml, page.marker.as_deref().filter(|_| page.is_truncated));
    Ok(Some(xml))
}

fn update_user(call: &Call<'_>) -> OpResult {
    let p = call.params;
    call.iam.update_user(call.caller, p.required("UserName")?, p.get("NewUserName"), p.get("NewPath"))?;
    Ok(None)
}

fn tag(call: &Call<'_>, kind: Kind) -> OpResult {
    let p = call.params;
    let name = p.required(kind.name_param())?;
    let tags = p.tags("Tags");
    match kind {
        Kind::User => call.iam.tag_user(call.caller, name, tags)?,
        Kind::Role => call.iam.tag_role(call.caller, name, tags)?,
        Kind::Group => return Err(IamError::invalid_input("groups cannot be tagged")),
    }
    Ok(None)
}

fn untag(call: &Call<'_>, kind: Kind) -> OpResult {
    let p = call.params;
    let name = p.required(kind.name_param())?;
    let keys = p.list("TagKeys", "");
    match kind {
        Kind::User => call.iam.untag_user(call.caller, name, &keys)?,
        Kind::Role => call.iam.untag_role(call.caller, name, &keys)?,
        Kind::Group => return Err(IamError::invalid_input("groups cannot be tagged")),
    }
    Ok(None)
}

fn put_boundary(call: &Call<'_>, kind: Kind) -> OpResult {
    let arn = call.params.required("PermissionsBoundary")?;
    done(call.iam.put_permissions_boundary(call.caller, kind.entity(call.params)?, arn))
}

fn delete_boundary(call: &Call<'_>, kind: Kind) -> OpResult {
    done(call.iam.delete_permissions_boundary(call.caller, kind.entity(call.params)?))
}

// ---- groups ----

fn create_group(call: &Call<'_>) -> OpResult {
    let p = call.params;
    let group = call.iam.create_group(call.caller, p.required("GroupName")?, p.get("Path"))?;
    let mut xml = Xml::default();
    xml.open("Group");
    group_fields(&mut xml, &group);
    xml.close("Group");
    Ok(Some(xml))
}

fn get_group(call: &Call<'_>) -> OpResult {
    let (group, users) = call.iam.get_group(call.caller, call.params.required("GroupName")?)?;
    let (users, marker) = paginate(users, &call.params.page()?)?;
    let mut xml = Xml::default();
    xml.open("Group");
    group_fields(&mut xml, &group);
    xml.close("Group");
    xml.members("Users", &users, |xml, u| user_fields(xml, u, false));
    truncation(&mut xml, marker.as_deref());
    Ok(Some(xml))
}

fn list_groups(call: &Call<'_>) -> OpResult {
    let page = call.iam.list_groups(call.caller, call.params.get("PathPrefix"), &call.params.page()?)?;
    let mut xml = Xml::default();
    xml.members("Groups", &page.items, group_fields);
    truncation(&mut xml, page.marker.as_deref().filter(|_| page.is_truncated));
    Ok(Some(xml))
}

fn update_group(call: &Call<'_>) -> OpResult {
    let p = call.params;
    call.iam.update_group(call.caller, p.required("GroupName")?, p.get("NewGroupName"), p.get("NewPath"))?;
    Ok(None)
}

fn list_groups_for_user(call: &Call<'_>) -> OpResult {
    let page = call.iam.list_groups_for_user(call.caller, call.params.required("UserName")?, &call.params.page()?)?;
    let mut xml = Xml::default();
    xml.members("Groups", &page.items, group_fields);
    truncation(&mut xml, page.marker.as_deref().filter(|_| page.is_truncated));
    Ok(Some(xml))
}

// ---- roles ----

fn create_role(call: &Call<'_>) -> OpResult {
    let p = call.params;
    let max = match p.int("MaxSessionDuration")? {
        None => None,
        Some(n) => Some(u32::try_from(n).map_err(|_| {
            IamError::new(
                "ValidationError",
                400,
                format!("1 validation error detected: Value '{n}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600"),
            )
        })?),
    };
    let request = NewRole {
        name: p.required("RoleName")?.to_owned(),
        path: p.get("Path").map(str::to_owned),
        assume_role_policy_document: p.required("AssumeRolePolicyDocument")?.to_owned(),
        description: p.get("Description").map(str::to_owned),
        max_session_duration: max,
        permissions_boundary: p.get("PermissionsBoundary").map(str::to_owned),
        tags: p.tags("Tags"),
    };
    let role = call.iam.create_role(call.caller, request)?;
    let mut xml = Xml::default();
    xml.open("Role");
    role_fields(&mut xml, &role, true);
    xml.close("Role");
    Ok(Some(xml))
}

fn get_role(call: &Call<'_>) -> OpResult {
    let role = call.iam.get_role(call.caller, call.params.required("RoleName")?)?;
    let mut xml = Xml::default();
    xml.open("Role");
    role_fields(&mut xml, &role, true);
    crate::iam_reports::role_last_used(&mut xml, &call.iam.role_last_used(&role.arn));
    xml.close("Role");
    Ok(Some(xml))
}

fn list_roles(call: &Call<'_>) -> OpResult {
    let page = call.iam.list_roles(call.caller, call.params.get("PathPrefix"), &call.params.page()?)?;
    let mut xml = Xml::default();
    xml.members("Roles", &page.items, |xml, r| role_fields(xml, r, false));
    truncation(&mut xml, page.marker.as_deref().filter(|_| page.is_truncated));
    Ok(Some(xml))
}

fn update_role(call: &Call<'_>) -> OpResult {
    let p = call.params;
    let max = match p.int("MaxSessionDuration")? {
        None => None,
        Some(n) => Some(u32::try_from(n).map_err(|_| {
            IamError::new(
                "ValidationError",
                400,
                format!("1 validation error detected: Value '{n}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600"),
            )
        })?),
    };
    call.iam.update_role(call.caller, p.required("RoleName")?, p.get("Description"), max)?;
    // The model's output is an empty structure: an empty `UpdateRoleResult`.
    Ok(Some(Xml::default()))
}

// ---- managed policies ----

fn create_policy(call: &Call<'_>) -> OpResult {
    let p = call.params;
    let request = NewPolicy {
        name: p.required("PolicyName")?.to_owned(),
        path: p.get("Path").map(str::to_owned),
        document: p.required("PolicyDocument")?.to_owned(),
        description: p.get("Description").map(str::to_owned),
        tags: p.tags("Tags"),
    };
    let policy = call.iam.create_policy(call.caller, request)?;
    let mut xml = Xml::default();
    xml.open("Policy");
    policy_fields(&mut xml, &policy, true);
    xml.close("Policy");
    Ok(Some(xml))
}

fn get_policy(call: &Call<'_>) -> OpResult {
    let policy = call.iam.get_policy(call.caller, call.params.required("PolicyArn")?)?;
    let mut xml = Xml::default();
    xml.open("Policy");
    policy_fields(&mut xml, &policy, true);
    xml.close("Policy");
    Ok(Some(xml))
}

fn list_policies(call: &Call<'_>) -> OpResult {
    let p = call.params;
    let scope = match p.get("Scope") {
        None | Some("All") => PolicyScope::All,
        Some("AWS") => PolicyScope::Aws,
        Some("Local") => PolicyScope::Local,
        Some(other) => {
            return Err(IamError::new(
                "ValidationError",
                400,
                format!(
                    "1 validation error detected: Value '{other}' at 'scope' failed to satisfy constraint: Member must satisfy enum value set: [All, AWS, Local]"
                ),
            ));
        }
    };
    let only_attached = p.bool("OnlyAttached")?.unwrap_or(false);
    let page = call.iam.list_policies(call.caller, scope, p.get("PathPrefix"), &p.page()?)?;
    let items: Vec<&ManagedPolicy> = page.items.iter().filter(|x| !only_attached || x.attachment_count > 0).collect();
    let mut xml = Xml::default();
    xml.members("Policies", &items, |xml, x| policy_fields(xml, x, false));
    truncation(&mut xml, page.marker.as_deref().filter(|_| page.is_truncated));
    Ok(Some(xml))
}

fn create_policy_version(call: &Call<'_>) -> OpResult {
    let p = call.params;
    let version = call.iam.create_policy_version(
        call.caller,
        p.required("PolicyArn")?,
        p.required("PolicyDocument")?,
        p.bool("SetAsDefault")?.unwrap_or(false),
    )?;
    let mut xml = Xml::default();
    xml.open("PolicyVersion");
    version_fields(&mut xml, &version, false);
    xml.close("PolicyVersion");
    Ok(Some(xml))
}

fn get_policy_version(call: &Call<'_>) -> OpResult {
    let p = call.params;
    let version = call.iam.get_policy_version(call.caller, p.required("PolicyArn")?, p.required("VersionId")?)?;
    let mut xml = Xml::default();
    xml.open("PolicyVersion");
    version_fields(&mut xml, &version, true);
    xml.close("PolicyVersion");
    Ok(Some(xml))
}

fn list_policy_versions(call: &Call<'_>) -> OpResult {
    let versions = call.iam.list_policy_versions(call.caller, call.params.required("PolicyArn")?)?;
    let (versions, marker) = paginate(versions, &call.params.page()?)?;
    let mut xml = Xml::default();
    xml.members("Versions", &versions, |xml, v| version_fields(xml, v, false));
    truncation(&mut xml, marker.as_deref());
    Ok(Some(xml))
}

// ---- attachments and inline policies ----

fn attach(call: &Call<'_>, kind: Kind, attach: bool) -> OpResult {
    let entity = kind.entity(call.params)?;
    let arn = call.params.required("PolicyArn")?;
    if attach {
        done(call.iam.attach_policy(call.caller, entity, arn))
    } else {
        done(call.iam.detach_policy(call.caller, entity, arn))
    }
}

fn list_attached(call: &Call<'_>, kind: Kind) -> OpResult {
    let mut attached = call.iam.list_attached_policies(call.caller, kind.entity(call.params)?)?;
    if let Some(prefix) = call.params.get("PathPrefix").filter(|p| *p != "/") {
        attached.retain(|a| a.arn.split_once(":policy").is_some_and(|(_, rest)| rest.starts_with(prefix)));
    }
    let (attached, marker) = paginate(attached, &call.params.page()?)?;
    let mut xml = Xml::default();
    xml.members("AttachedPolicies", &attached, |xml, a| {
        xml.leaf("PolicyName", &a.name).leaf("PolicyArn", &a.arn);
    });
    truncation(&mut xml, marker.as_deref());
    Ok(Some(xml))
}

fn put_inline(call: &Call<'_>, kind: Kind) -> OpResult {
    let p = call.params;
    let entity = kind.entity(p)?;
    done(call.iam.put_inline_policy(call.caller, entity, p.required("PolicyName")?, p.required("PolicyDocument")?))
}

fn get_inline(call: &Call<'_>, kind: Kind) -> OpResult {
    let p = call.params;
    let entity = kind.entity(p)?;
    let policy = call.iam.get_inline_policy(call.caller, entity, p.required("PolicyName")?)?;
    let mut xml = Xml::default();
    xml.leaf(kind.name_param(), p.required(kind.name_param())?)
        .leaf("PolicyName", policy.name.as_str())
        .leaf("PolicyDocument", &url_encode(&policy.document));
    Ok(Some(xml))
}

fn list_inline(call: &Call<'_>, kind: Kind) -> OpResult {
    let names = call.iam.list_inline_policies(call.caller, kind.entity(call.params)?)?;
    let (names, marker) = paginate(names, &call.params.page()?)?;
    let mut xml = Xml::default();
    xml.members("PolicyNames", &names, |xml, n| {
        crate::wire::escape_into(xml.text_sink(), n);
    });
    truncation(&mut xml, marker.as_deref());
    Ok(Some(xml))
}

fn delete_inline(call: &Call<'_>, kind: Kind) -> OpResult {
    let p = call.params;
    done(call.iam.delete_inline_policy(call.caller, kind.entity(p)?, p.required("PolicyName")?))
}

// ---- instance profiles ----

fn create_instance_profile(call: &Call<'_>) -> OpResult {
    let p = call.params;
    let profile = call.iam.create_instance_profile(
        call.caller,
        p.required("InstanceProfileName")?,
        p.get("Path"),
        p.tags("Tags"),
    )?;
    let mut xml = Xml::default();
    instance_profile(&mut xml, &profile, &[]);
    Ok(Some(xml))
}

fn get_instance_profile(call: &Call<'_>) -> OpResult {
    let (profile, roles) = call.iam.get_instance_profile(call.caller, call.params.required("InstanceProfileName")?)?;
    let mut xml = Xml::default();
    instance_profile(&mut xml, &profile, &roles);
    Ok(Some(xml))
}

// ---- access keys ----

/// The user name a credentials call reports: the named user, or the calling user.
fn subject_user<'a>(call: &'a Call<'_>) -> Option<&'a str> {
    match (call.params.get("UserName"), &call.caller.identity) {
        (Some(name), _) => Some(name),
        (None, Identity::User { name, .. }) => Some(name),
        _ => None,
    }
}

fn create_access_key(call: &Call<'_>) -> OpResult {
    let key = call.iam.create_access_key(call.caller, call.params.get("UserName"))?;
    let mut xml = Xml::default();
    xml.open("AccessKey")
        .opt("UserName", key.user_name.as_deref())
        .leaf("AccessKeyId", &key.access_key_id)
        .leaf("Status", key.status.as_str())
        .leaf("SecretAccessKey", key.secret_access_key.expose())
        .leaf("CreateDate", &timestamp(call.iam.clock().now()))
        .close("AccessKey");
    Ok(Some(xml))
}

fn list_access_keys(call: &Call<'_>) -> OpResult {
    let keys = call.iam.list_access_keys(call.caller, call.params.get("UserName"))?;
    let (keys, marker) = paginate(keys, &call.params.page()?)?;
    let user = subject_user(call);
    let mut xml = Xml::default();
    xml.members("AccessKeyMetadata", &keys, |xml, k| {
        xml.opt("UserName", user)
            .leaf("AccessKeyId", k.id.as_str())
            .leaf("Status", k.status.as_str())
            .leaf("CreateDate", &timestamp(k.created_at));
    });
    truncation(&mut xml, marker.as_deref());
    Ok(Some(xml))
}

fn update_access_key(call: &Call<'_>) -> OpResult {
    let p = call.params;
    let status = AccessKeyStatus::parse(p.required("Status")?)?;
    done(call.iam.update_access_key(call.caller, p.get("UserName"), p.required("AccessKeyId")?, status))
}

// ---- login profiles ----

fn login_profile(xml: &mut Xml, user: Option<&str>, created: castellan::credentials::UnixTime, reset: bool) {
    xml.open("LoginProfile")
        .opt("UserName", user)
        .leaf("CreateDate", &timestamp(created))
        .flag("PasswordResetRequired", reset)
        .close("LoginProfile");
}

fn create_login_profile(call: &Call<'_>) -> OpResult {
    let p = call.params;
    let password = SecretString::new(p.required("Password")?);
    let reset = p.bool("PasswordResetRequired")?.unwrap_or(false);
    let profile = call.iam.create_login_profile(call.caller, p.get("UserName"), &password, reset)?;
    let mut xml = Xml::default();
    login_profile(&mut xml, profile.owner.user_name(), profile.create_date, profile.password_reset_required);
    Ok(Some(xml))
}

fn get_login_profile(call: &Call<'_>) -> OpResult {
    let profile = call.iam.get_login_profile(call.caller, call.params.get("UserName"))?;
    let mut xml = Xml::default();
    login_profile(&mut xml, profile.owner.user_name(), profile.create_date, profile.password_reset_required);
    Ok(Some(xml))
}

fn update_login_profile(call: &Call<'_>) -> OpResult {
    let p = call.params;
    let password = p.get("Password").map(SecretString::new);
    let reset = p.bool("PasswordResetRequired")?;
    done(call.iam.update_login_profile(call.caller, p.get("UserName"), password.as_ref(), reset))
}

// ---- MFA ----

fn create_virtual_mfa_device(call: &Call<'_>) -> OpResult {
    let p = call.params;
    let created = call.iam.create_virtual_mfa_device(
        call.caller,
        p.required("VirtualMFADeviceName")?,
        p.get("Path"),
        p.tags("Tags"),
    )?;
    let mut xml = Xml::default();
    // Blobs are base64 on the wire. `QRCodePNG` carries the otpauth URI's bytes, not a PNG
    // image of it (documented deviation: Castellan renders no images).
    xml.open("VirtualMFADevice")
        .leaf("SerialNumber", &created.serial_number)
        .leaf("Base32StringSeed", &base64(created.base32_seed.expose().as_bytes()))
        .leaf("QRCodePNG", &base64(created.otpauth_uri.expose().as_bytes()))
        .close("VirtualMFADevice");
    Ok(Some(xml))
}

fn list_mfa_devices(call: &Call<'_>) -> OpResult {
    let devices = call.iam.list_mfa_devices(call.caller, call.params.get("UserName"))?;
    let (devices, marker) = paginate(devices, &call.params.page()?)?;
    let fallback = subject_user(call);
    let mut xml = Xml::default();
    xml.members("MFADevices", &devices, |xml, d| {
        let user = d.owner.as_ref().and_then(|o| o.user_name()).or(fallback);
        xml.opt("UserName", user).leaf("SerialNumber", &d.device.serial_number);
        if let MfaState::Enabled { enabled_at } = d.device.state {
            xml.leaf("EnableDate", &timestamp(enabled_at));
        }
    });
    truncation(&mut xml, marker.as_deref());
    Ok(Some(xml))
}

// ---- account ----

fn get_password_policy(call: &Call<'_>) -> OpResult {
    let policy = call.iam.get_password_policy(call.caller)?;
    let mut xml = Xml::default();
    xml.open("PasswordPolicy")
        .leaf("MinimumPasswordLength", &policy.minimum_password_length().to_string())
        .flag("RequireSymbols", policy.require_symbols())
        .flag("RequireNumbers", policy.require_numbers())
        .flag("RequireUppercaseCharacters", policy.require_uppercase_characters())
        .flag("RequireLowercaseCharacters", policy.require_lowercase_characters())
        .flag("AllowUsersToChangePassword", policy.allow_users_to_change_password())
        .flag("ExpirePasswords", policy.expire_passwords());
    if let Some(age) = policy.max_password_age() {
        xml.leaf("MaxPasswordAge", &age.to_string());
    }
    if let Some(reuse) = policy.password_reuse_prevention() {
        xml.leaf("PasswordReusePrevention", &reuse.to_string());
    }
    xml.flag("HardExpiry", policy.hard_expiry()).close("PasswordPolicy");
    Ok(Some(xml))
}

fn update_password_policy(call: &Call<'_>) -> OpResult {
    let p = call.params;
    let update = UpdatePasswordPolicy {
        minimum_password_length: p.int("MinimumPasswordLength")?,
        require_symbols: p.bool("RequireSymbols")?,
        require_numbers: p.bool("RequireNumbers")?,
        require_uppercase_characters: p.bool("RequireUppercaseCharacters")?,
        require_lowercase_characters: p.bool("RequireLowercaseCharacters")?,
        allow_users_to_change_password: p.bool("AllowUsersToChangePassword")?,
        max_password_age: p.int("MaxPasswordAge")?,
        password_reuse_prevention: p.int("PasswordReusePrevention")?,
        hard_expiry: p.bool("HardExpiry")?,
    };
    let policy = PasswordPolicy::from_update(&update)?;
    done(call.iam.update_password_policy(call.caller, policy))
}

fn list_account_aliases(call: &Call<'_>) -> OpResult {
    let aliases = call.iam.list_account_aliases(call.caller)?;
    let mut xml = Xml::default();
    xml.members("AccountAliases", &aliases, |xml, a| {
        crate::wire::escape_into(xml.text_sink(), a);
    });
    truncation(&mut xml, None);
    Ok(Some(xml))
}
