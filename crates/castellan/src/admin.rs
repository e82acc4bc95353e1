//! IAM's administrative operations, each authorized first as AWS does: the caller must be
//! allowed the IAM action on the entity's ARN, or gets `AccessDenied` with AWS's message.
//!
//! Requests and responses are the store's types (`NewUser`, `User`, ...), which mirror IAM's
//! API shapes; the facade adds authorization, credentials generation and the audit trail.

use std::sync::Arc;

use castellan_credentials::access_key::{AccessKeyKind, AccessKeyRecord, AccessKeyStatus};
use castellan_credentials::password::{
    PasswordContext, PasswordPolicy, check_new_password, hash_password, verify_password,
};
use castellan_credentials::{MfaDevice, SecretString};
use castellan_store::{
    AttachedPolicy, Entity, Group, IamPath, InlinePolicy, InstanceProfile, LoginProfile, ManagedPolicy, NewPolicy,
    NewRole, NewUser, Owner, Page, PageRequest, PolicyScope, PolicyVersion, Role, Store, Tag, User, VirtualMfaDevice,
};

use crate::error::IamError;
use crate::iam::Iam;
use crate::subject::{Caller, Identity};

/// A new access key: its id and the secret, returned once.
#[derive(Debug, Clone)]
pub struct CreatedAccessKey {
    /// The user it belongs to (`None` for the root user).
    pub user_name: Option<String>,
    /// The access key id.
    pub access_key_id: String,
    /// The secret access key; nothing keeps it in clear.
    pub secret_access_key: SecretString,
    /// `Active`.
    pub status: AccessKeyStatus,
}

/// A new virtual MFA device: its serial number and the seed, returned once.
#[derive(Debug, Clone)]
pub struct CreatedMfaDevice {
    /// The serial number (the device's ARN).
    pub serial_number: String,
    /// The seed in base32 (`Base32StringSeed`).
    pub base32_seed: SecretString,
    /// The `otpauth://` URI an authenticator reads (the content of `QRCodePNG`).
    pub otpauth_uri: SecretString,
}

fn arn(account: &str, kind: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:{kind}{path}{name}")
}

fn path_of(path: Option<&str>) -> &str {
    path.unwrap_or("/")
}

/// The user a credentials call is about: the named one, or (without a name) the caller itself —
/// the root user or the calling user.
fn owner_of<'a>(caller: &'a Caller, user_name: Option<&'a str>) -> Result<Owner<'a>, IamError> {
    match (user_name, &caller.identity) {
        (Some(name), _) => Ok(Owner::User(name)),
        (None, Identity::Root { .. }) => Ok(Owner::Root),
        (None, Identity::User { name, .. }) => Ok(Owner::User(name)),
        (None, Identity::Session(_)) => {
            Err(IamError::new("ValidationError", 400, "Must specify userName when calling with non-User credentials"))
        }
    }
}

impl Iam {
    fn user_arn(&self, caller: &Caller, name: &str) -> String {
        let account = caller.account();
        self.directory
            .account(account)
            .ok()
            .and_then(|s| s.user(name).ok())
            .map_or_else(|| arn(account, "user", "/", name), |u| u.arn)
    }

    fn group_arn(&self, caller: &Caller, name: &str) -> String {
        let account = caller.account();
        self.directory
            .account(account)
            .ok()
            .and_then(|s| s.group(name).ok())
            .map_or_else(|| arn(account, "group", "/", name), |(g, _)| g.arn)
    }

    fn role_arn(&self, caller: &Caller, name: &str) -> String {
        let account = caller.account();
        self.directory
            .account(account)
            .ok()
            .and_then(|s| s.role(name).ok())
            .map_or_else(|| arn(account, "role", "/", name), |r| r.arn)
    }

    fn owner_arn(&self, caller: &Caller, owner: Owner<'_>) -> String {
        match owner {
            Owner::Root => format!("arn:aws:iam::{}:root", caller.account()),
            Owner::User(name) => self.user_arn(caller, name),
        }
    }

    fn entity_arn(&self, caller: &Caller, entity: Entity<'_>) -> String {
        match entity {
            Entity::User(n) => self.user_arn(caller, n),
            Entity::Group(n) => self.group_arn(caller, n),
            Entity::Role(n) => self.role_arn(caller, n),
        }
    }

    // ---- users ----

    /// `CreateUser` (`iam:CreateUser` on the new user's ARN; tags need `iam:TagUser` too, with
    /// `aws:RequestTag` and `aws:TagKeys`).
    pub fn create_user(&self, caller: &Caller, request: NewUser) -> Result<User, IamError> {
        let resource = arn(caller.account(), "user", path_of(request.path.as_deref()), &request.name);
        let ctx = tag_context(&request.tags);
        let ctx: Vec<(&str, &str)> = ctx.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        if !request.tags.is_empty() {
            self.call(caller, "iam:TagUser", &resource, &ctx, |_| Ok(()))?;
        }
        self.call(caller, "iam:CreateUser", &resource, &ctx, |s| Ok(s.create_user(request)?))
    }

    /// `GetUser`: the named user, or the caller itself.
    pub fn get_user(&self, caller: &Caller, name: Option<&str>) -> Result<User, IamError> {
        let name = match (name, &caller.identity) {
            (Some(n), _) => n.to_owned(),
            (None, Identity::User { name, .. }) => name.clone(),
            _ => {
                return Err(IamError::new(
                    "ValidationError",
                    400,
                    "Must specify userName when calling with non-User credentials",
                ));
            }
        };
        let resource = self.user_arn(caller, &name);
        self.call(caller, "iam:GetUser", &resource, &[], |s| Ok(s.user(&name)?))
    }

    /// `ListUsers`.
    pub fn list_users(
        &self,
        caller: &Caller,
        path_prefix: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<User>, IamError> {
        let resource = arn(caller.account(), "user", "/", "*");
        self.call(caller, "iam:ListUsers", &resource, &[], |s| Ok(s.list_users(path_prefix, page)?))
    }

    /// `UpdateUser` (authorized on the current ARN and, when renamed or moved, the new one).
    pub fn update_user(
        &self,
        caller: &Caller,
        name: &str,
        new_name: Option<&str>,
        new_path: Option<&str>,
    ) -> Result<User, IamError> {
        let resource = self.user_arn(caller, name);
        if new_name.is_some() || new_path.is_some() {
            let current = IamPath::parse(resource_path(&resource, "user/")).unwrap_or_else(|_| IamPath::root());
            let target = arn(caller.account(), "user", new_path.unwrap_or(current.as_str()), new_name.unwrap_or(name));
            self.call(caller, "iam:UpdateUser", &target, &[], |_| Ok(()))?;
        }
        self.call(caller, "iam:UpdateUser", &resource, &[], |s| Ok(s.update_user(name, new_name, new_path)?))
    }

    /// `DeleteUser`.
    pub fn delete_user(&self, caller: &Caller, name: &str) -> Result<(), IamError> {
        let resource = self.user_arn(caller, name);
        self.call(caller, "iam:DeleteUser", &resource, &[], |s| Ok(s.delete_user(name)?))
    }

    /// `TagUser`.
    pub fn tag_user(&self, caller: &Caller, name: &str, tags: Vec<Tag>) -> Result<(), IamError> {
        let resource = self.user_arn(caller, name);
        let ctx = tag_context(&tags);
        let ctx: Vec<(&str, &str)> = ctx.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        self.call(caller, "iam:TagUser", &resource, &ctx, |s| Ok(s.tag_user(name, tags)?))
    }

    /// `UntagUser`.
    pub fn untag_user(&self, caller: &Caller, name: &str, keys: &[String]) -> Result<(), IamError> {
        let resource = self.user_arn(caller, name);
        let ctx: Vec<(&str, &str)> = keys.iter().map(|k| ("aws:TagKeys", k.as_str())).collect();
        self.call(caller, "iam:UntagUser", &resource, &ctx, |s| Ok(s.untag_user(name, keys)?))
    }

    // ---- groups ----

    /// `CreateGroup`.
    pub fn create_group(&self, caller: &Caller, name: &str, path: Option<&str>) -> Result<Group, IamError> {
        let resource = arn(caller.account(), "group", path_of(path), name);
        self.call(caller, "iam:CreateGroup", &resource, &[], |s| Ok(s.create_group(name, path)?))
    }

    /// `GetGroup`: the group and its members.
    pub fn get_group(&self, caller: &Caller, name: &str) -> Result<(Group, Vec<User>), IamError> {
        let resource = self.group_arn(caller, name);
        self.call(caller, "iam:GetGroup", &resource, &[], |s| Ok(s.group(name)?))
    }

    /// `ListGroups`.
    pub fn list_groups(
        &self,
        caller: &Caller,
        path_prefix: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Group>, IamError> {
        let resource = arn(caller.account(), "group", "/", "*");
        self.call(caller, "iam:ListGroups", &resource, &[], |s| Ok(s.list_groups(path_prefix, page)?))
    }

    /// `UpdateGroup`.
    pub fn update_group(
        &self,
        caller: &Caller,
        name: &str,
        new_name: Option<&str>,
        new_path: Option<&str>,
    ) -> Result<Group, IamError> {
        let resource = self.group_arn(caller, name);
        self.call(caller, "iam:UpdateGroup", &resource, &[], |s| Ok(s.update_group(name, new_name, new_path)?))
    }

    /// `DeleteGroup`.
    pub fn delete_group(&self, caller: &Caller, name: &str) -> Result<(), IamError> {
        let resource = self.group_arn(caller, name);
        self.call(caller, "iam:DeleteGroup", &resource, &[], |s| Ok(s.delete_group(name)?))
    }

    /// `AddUserToGroup` (authorized on the group).
    pub fn add_user_to_group(&self, caller: &Caller, group: &str, user: &str) -> Result<(), IamError> {
        let resource = self.group_arn(caller, group);
        self.call(caller, "iam:AddUserToGroup", &resource, &[], |s| Ok(s.add_user_to_group(group, user)?))
    }

    /// `RemoveUserFromGroup`.
    pub fn remove_user_from_group(&self, caller: &Caller, group: &str, user: &str) -> Result<(), IamError> {
        let resource = self.group_arn(caller, group);
        self.call(caller, "iam:RemoveUserFromGroup", &resource, &[], |s| Ok(s.remove_user_from_group(group, user)?))
    }

    /// `ListGroupsForUser`.
    pub fn list_groups_for_user(
        &self,
        caller: &Caller,
        user: &str,
        page: &PageRequest,
    ) -> Result<Page<Group>, IamError> {
        let resource = self.user_arn(caller, user);
        self.call(caller, "iam:ListGroupsForUser", &resource, &[], |s| Ok(s.list_groups_for_user(user, page)?))
    }

    // ---- roles ----

    /// `CreateRole` (a permissions boundary in the request is in `iam:PermissionsBoundary`).
    pub fn create_role(&self, caller: &Caller, request: NewRole) -> Result<Role, IamError> {
        let resource = arn(caller.account(), "role", path_of(request.path.as_deref()), &request.name);
        let mut ctx = tag_context(&request.tags);
        if let Some(b) = &request.permissions_boundary {
            ctx.push(("iam:PermissionsBoundary".to_owned(), b.clone()));
        }
        let ctx: Vec<(&str, &str)> = ctx.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        if !request.tags.is_empty() {
            self.call(caller, "iam:TagRole", &resource, &ctx, |_| Ok(()))?;
        }
        self.call(caller, "iam:CreateRole", &resource, &ctx, |s| Ok(s.create_role(request)?))
    }

    /// `GetRole`.
    pub fn get_role(&self, caller: &Caller, name: &str) -> Result<Role, IamError> {
        let resource = self.role_arn(caller, name);
        self.call(caller, "iam:GetRole", &resource, &[], |s| Ok(s.role(name)?))
    }

    /// `ListRoles`.
    pub fn list_roles(
        &self,
        caller: &Caller,
        path_prefix: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Role>, IamError> {
        let resource = arn(caller.account(), "role", "/", "*");
        self.call(caller, "iam:ListRoles", &resource, &[], |s| Ok(s.list_roles(path_prefix, page)?))
    }

    /// `UpdateRole`.
    pub fn update_role(
        &self,
        caller: &Caller,
        name: &str,
        description: Option<&str>,
        max_session_duration: Option<u32>,
    ) -> Result<(), IamError> {
        let resource = self.role_arn(caller, name);
        self.call(caller, "iam:UpdateRole", &resource, &[], |s| {
            Ok(s.update_role(name, description, max_session_duration)?)
        })
    }

    /// `UpdateAssumeRolePolicy`.
    pub fn update_assume_role_policy(&self, caller: &Caller, name: &str, document: &str) -> Result<(), IamError> {
        let resource = self.role_arn(caller, name);
        self.call(caller, "iam:UpdateAssumeRolePolicy", &resource, &[], |s| {
            Ok(s.update_assume_role_policy(name, document)?)
        })
    }

    /// `DeleteRole`.
    pub fn delete_role(&self, caller: &Caller, name: &str) -> Result<(), IamError> {
        let resource = self.role_arn(caller, name);
        self.call(caller, "iam:DeleteRole", &resource, &[], |s| Ok(s.delete_role(name)?))
    }

    /// `TagRole`.
    pub fn tag_role(&self, caller: &Caller, name: &str, tags: Vec<Tag>) -> Result<(), IamError> {
        let resource = self.role_arn(caller, name);
        let ctx = tag_context(&tags);
        let ctx: Vec<(&str, &str)> = ctx.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        self.call(caller, "iam:TagRole", &resource, &ctx, |s| Ok(s.tag_role(name, tags)?))
    }

    /// `UntagRole`.
    pub fn untag_role(&self, caller: &Caller, name: &str, keys: &[String]) -> Result<(), IamError> {
        let resource = self.role_arn(caller, name);
        let ctx: Vec<(&str, &str)> = keys.iter().map(|k| ("aws:TagKeys", k.as_str())).collect();
        self.call(caller, "iam:UntagRole", &resource, &ctx, |s| Ok(s.untag_role(name, keys)?))
    }

    /// `Put{User,Role}PermissionsBoundary` (the boundary's ARN is in `iam:PermissionsBoundary`).
    pub fn put_permissions_boundary(
        &self,
        caller: &Caller,
        entity: Entity<'_>,
        policy_arn: &str,
    ) -> Result<(), IamError> {
        let (action, resource) = match entity {
            Entity::User(n) => ("iam:PutUserPermissionsBoundary", self.user_arn(caller, n)),
            Entity::Role(n) => ("iam:PutRolePermissionsBoundary", self.role_arn(caller, n)),
            Entity::Group(_) => return Err(IamError::invalid_input("A group cannot have a permissions boundary.")),
        };
        self.call(caller, action, &resource, &[("iam:PermissionsBoundary", policy_arn)], |s| {
            Ok(s.put_permissions_boundary(entity, policy_arn)?)
        })
    }

    /// `Delete{User,Role}PermissionsBoundary`.
    pub fn delete_permissions_boundary(&self, caller: &Caller, entity: Entity<'_>) -> Result<(), IamError> {
        let (action, resource) = match entity {
            Entity::User(n) => ("iam:DeleteUserPermissionsBoundary", self.user_arn(caller, n)),
            Entity::Role(n) => ("iam:DeleteRolePermissionsBoundary", self.role_arn(caller, n)),
            Entity::Group(_) => return Err(IamError::invalid_input("A group cannot have a permissions boundary.")),
        };
        self.call(caller, action, &resource, &[], |s| Ok(s.delete_permissions_boundary(entity)?))
    }

    // ---- managed policies ----

    /// `CreatePolicy`.
    pub fn create_policy(&self, caller: &Caller, request: NewPolicy) -> Result<ManagedPolicy, IamError> {
        let resource = arn(caller.account(), "policy", path_of(request.path.as_deref()), &request.name);
        self.call(caller, "iam:CreatePolicy", &resource, &[], |s| Ok(s.create_policy(request)?))
    }

    /// `GetPolicy`.
    pub fn get_policy(&self, caller: &Caller, policy_arn: &str) -> Result<ManagedPolicy, IamError> {
        self.call(caller, "iam:GetPolicy", policy_arn, &[], |s| Ok(s.policy(policy_arn)?))
    }

    /// `ListPolicies`.
    pub fn list_policies(
        &self,
        caller: &Caller,
        scope: PolicyScope,
        path_prefix: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<ManagedPolicy>, IamError> {
        let resource = arn(caller.account(), "policy", "/", "*");
        self.call(caller, "iam:ListPolicies", &resource, &[], |s| {
            Ok(s.list_policies_in_scope(scope, path_prefix, page)?)
        })
    }

    /// `DeletePolicy`.
    pub fn delete_policy(&self, caller: &Caller, policy_arn: &str) -> Result<(), IamError> {
        self.call(caller, "iam:DeletePolicy", policy_arn, &[], |s| Ok(s.delete_policy(policy_arn)?))
    }

    /// `CreatePolicyVersion`.
    pub fn create_policy_version(
        &self,
        caller: &Caller,
        policy_arn: &str,
        document: &str,
        set_as_default: bool,
    ) -> Result<PolicyVersion, IamError> {
        self.call(caller, "iam:CreatePolicyVersion", policy_arn, &[], |s| {
            Ok(s.create_policy_version(policy_arn, document, set_as_default)?)
        })
    }

    /// `GetPolicyVersion`.
    pub fn get_policy_version(
        &self,
        caller: &Caller,
        policy_arn: &str,
        version_id: &str,
    ) -> Result<PolicyVersion, IamError> {
        self.call(caller, "iam:GetPolicyVersion", policy_arn, &[], |s| Ok(s.policy_version(policy_arn, version_id)?))
    }

    /// `ListPolicyVersions`.
    pub fn list_policy_versions(&self, caller: &Caller, policy_arn: &str) -> Result<Vec<PolicyVersion>, IamError> {
        self.call(caller, "iam:ListPolicyVersions", policy_arn, &[], |s| Ok(s.list_policy_versions(policy_arn)?))
    }

    /// `SetDefaultPolicyVersion`.
    pub fn set_default_policy_version(
        &self,
        caller: &Caller,
        policy_arn: &str,
        version_id: &str,
    ) -> Result<(), IamError> {
        self.call(caller, "iam:SetDefaultPolicyVersion", policy_arn, &[], |s| {
            Ok(s.set_default_policy_version(policy_arn, version_id)?)
        })
    }

    /// `DeletePolicyVersion`.
    pub fn delete_policy_version(&self, caller: &Caller, policy_arn: &str, version_id: &str) -> Result<(), IamError> {
        self.call(caller, "iam:DeletePolicyVersion", policy_arn, &[], |s| {
            Ok(s.delete_policy_version(policy_arn, version_id)?)
        })
    }

    /// `Attach{User,Group,Role}Policy` (the policy's ARN is in `iam:PolicyARN`).
    pub fn attach_policy(&self, caller: &Caller, entity: Entity<'_>, policy_arn: &str) -> Result<(), IamError> {
        let action = match entity {
            Entity::User(_) => "iam:AttachUserPolicy",
            Entity::Group(_) => "iam:AttachGroupPolicy",
            Entity::Role(_) => "iam:AttachRolePolicy",
        };
        let resource = self.entity_arn(caller, entity);
        self.call(caller, action, &resource, &[("iam:PolicyARN", policy_arn)], |s| {
            Ok(s.attach_policy(entity, policy_arn)?)
        })
    }

    /// `Detach{User,Group,Role}Policy`.
    pub fn detach_policy(&self, caller: &Caller, entity: Entity<'_>, policy_arn: &str) -> Result<(), IamError> {
        let action = match entity {
            Entity::User(_) => "iam:DetachUserPolicy",
            Entity::Group(_) => "iam:DetachGroupPolicy",
            Entity::Role(_) => "iam:DetachRolePolicy",
        };
        let resource = self.entity_arn(caller, entity);
        self.call(caller, action, &resource, &[("iam:PolicyARN", policy_arn)], |s| {
            Ok(s.detach_policy(entity, policy_arn)?)
        })
    }

    /// `ListAttached{User,Group,Role}Policies`.
    pub fn list_attached_policies(&self, caller: &Caller, entity: Entity<'_>) -> Result<Vec<AttachedPolicy>, IamError> {
        let action = match entity {
            Entity::User(_) => "iam:ListAttachedUserPolicies",
            Entity::Group(_) => "iam:ListAttachedGroupPolicies",
            Entity::Role(_) => "iam:ListAttachedRolePolicies",
        };
        let resource = self.entity_arn(caller, entity);
        self.call(caller, action, &resource, &[], |s| Ok(s.list_attached_policies(entity)?))
    }

    /// `Put{User,Group,Role}Policy`.
    pub fn put_inline_policy(
        &self,
        caller: &Caller,
        entity: Entity<'_>,
        name: &str,
        document: &str,
    ) -> Result<(), IamError> {
        let action = match entity {
            Entity::User(_) => "iam:PutUserPolicy",
            Entity::Group(_) => "iam:PutGroupPolicy",
            Entity::Role(_) => "iam:PutRolePolicy",
        };
        let resource = self.entity_arn(caller, entity);
        self.call(caller, action, &resource, &[], |s| Ok(s.put_inline_policy(entity, name, document)?))
    }

    /// `Get{User,Group,Role}Policy`.
    pub fn get_inline_policy(&self, caller: &Caller, entity: Entity<'_>, name: &str) -> Result<InlinePolicy, IamError> {
        let action = match entity {
            Entity::User(_) => "iam:GetUserPolicy",
            Entity::Group(_) => "iam:GetGroupPolicy",
            Entity::Role(_) => "iam:GetRolePolicy",
        };
        let resource = self.entity_arn(caller, entity);
        self.call(caller, action, &resource, &[], |s| Ok(s.inline_policy(entity, name)?))
    }

    /// `List{User,Group,Role}Policies`.
    pub fn list_inline_policies(&self, caller: &Caller, entity: Entity<'_>) -> Result<Vec<String>, IamError> {
        let action = match entity {
            Entity::User(_) => "iam:ListUserPolicies",
            Entity::Group(_) => "iam:ListGroupPolicies",
            Entity::Role(_) => "iam:ListRolePolicies",
        };
        let resource = self.entity_arn(caller, entity);
        self.call(caller, action, &resource, &[], |s| Ok(s.list_inline_policies(entity)?))
    }

    /// `Delete{User,Group,Role}Policy`.
    pub fn delete_inline_policy(&self, caller: &Caller, entity: Entity<'_>, name: &str) -> Result<(), IamError> {
        let action = match entity {
            Entity::User(_) => "iam:DeleteUserPolicy",
            Entity::Group(_) => "iam:DeleteGroupPolicy",
            Entity::Role(_) => "iam:DeleteRolePolicy",
        };
        let resource = self.entity_arn(caller, entity);
        self.call(caller, action, &resource, &[], |s| Ok(s.delete_inline_policy(entity, name)?))
    }

    // ---- instance profiles ----

    /// `CreateInstanceProfile`.
    pub fn create_instance_profile(
        &self,
        caller: &Caller,
        name: &str,
        path: Option<&str>,
        tags: Vec<Tag>,
    ) -> Result<InstanceProfile, IamError> {
        let resource = arn(caller.account(), "instance-profile", path_of(path), name);
        self.call(caller, "iam:CreateInstanceProfile", &resource, &[], |s| {
            Ok(s.create_instance_profile(name, path, tags)?)
        })
    }

    /// `AddRoleToInstanceProfile` (authorized on the profile; passing the role needs
    /// `iam:PassRole` on it).
    pub fn add_role_to_instance_profile(&self, caller: &Caller, profile: &str, role: &str) -> Result<(), IamError> {
        let role_arn = self.role_arn(caller, role);
        self.call(caller, "iam:PassRole", &role_arn, &[], |_| Ok(()))?;
        let resource = arn(caller.account(), "instance-profile", "/", profile);
        self.call(caller, "iam:AddRoleToInstanceProfile", &resource, &[], |s| {
            Ok(s.add_role_to_instance_profile(profile, role)?)
        })
    }

    /// `RemoveRoleFromInstanceProfile`.
    pub fn remove_role_from_instance_profile(
        &self,
        caller: &Caller,
        profile: &str,
        role: &str,
    ) -> Result<(), IamError> {
        let resource = arn(caller.account(), "instance-profile", "/", profile);
        self.call(caller, "iam:RemoveRoleFromInstanceProfile", &resource, &[], |s| {
            Ok(s.remove_role_from_instance_profile(profile, role)?)
        })
    }

    /// `DeleteInstanceProfile`.
    pub fn delete_instance_profile(&self, caller: &Caller, name: &str) -> Result<(), IamError> {
        let resource = arn(caller.account(), "instance-profile", "/", name);
        self.call(caller, "iam:DeleteInstanceProfile", &resource, &[], |s| Ok(s.delete_instance_profile(name)?))
    }

    /// `GetInstanceProfile`.
    pub fn get_instance_profile(&self, caller: &Caller, name: &str) -> Result<(InstanceProfile, Vec<Role>), IamError> {
        let resource = arn(caller.account(), "instance-profile", "/", name);
        self.call(caller, "iam:GetInstanceProfile", &resource, &[], |s| Ok(s.instance_profile(name)?))
    }

    // ---- credentials ----

    /// `CreateAccessKey`: for the named user, or (without a name) the caller itself.
    pub fn create_access_key(&self, caller: &Caller, user_name: Option<&str>) -> Result<CreatedAccessKey, IamError> {
        let owner = owner_of(caller, user_name)?;
        let resource = self.owner_arn(caller, owner);
        let now = self.clock.now();
        self.call(caller, "iam:CreateAccessKey", &resource, &[], |s| {
            let made = self.with_rng(|rng| AccessKeyRecord::create(AccessKeyKind::LongTerm, now, &self.sealer, rng))?;
            let id = made.record.id.as_str().to_owned();
            s.create_access_key(owner, made.record)?;
            Ok(CreatedAccessKey {
                user_name: user_name.map(str::to_owned).or_else(|| match owner {
                    Owner::User(n) => Some(n.to_owned()),
                    Owner::Root => None,
                }),
                access_key_id: id,
                secret_access_key: made.secret,
                status: AccessKeyStatus::Active,
            })
        })
    }

    /// `ListAccessKeys`.
    pub fn list_access_keys(&self, caller: &Caller, user_name: Option<&str>) -> Result<Vec<AccessKeyRecord>, IamError> {
        let owner = owner_of(caller, user_name)?;
        let resource = self.owner_arn(caller, owner);
        self.call(caller, "iam:ListAccessKeys", &resource, &[], |s| Ok(s.list_access_keys(owner)?))
    }

    /// `UpdateAccessKey`.
    pub fn update_access_key(
        &self,
        caller: &Caller,
        user_name: Option<&str>,
        access_key_id: &str,
        status: AccessKeyStatus,
    ) -> Result<(), IamError> {
        let owner = owner_of(caller, user_name)?;
        let resource = self.owner_arn(caller, owner);
        self.call(caller, "iam:UpdateAccessKey", &resource, &[], |s| {
            Ok(s.update_access_key(owner, access_key_id, status)?)
        })
    }

    /// `DeleteAccessKey`.
    pub fn delete_access_key(
        &self,
        caller: &Caller,
        user_name: Option<&str>,
        access_key_id: &str,
    ) -> Result<(), IamError> {
        let owner = owner_of(caller, user_name)?;
        let resource = self.owner_arn(caller, owner);
        self.call(caller, "iam:DeleteAccessKey", &resource, &[], |s| Ok(s.delete_access_key(owner, access_key_id)?))
    }

    /// `GetAccountPasswordPolicy`.
    pub fn get_password_policy(&self, caller: &Caller) -> Result<PasswordPolicy, IamError> {
        self.call(caller, "iam:GetAccountPasswordPolicy", "*", &[], |s| Ok(s.password_policy()?))
    }

    /// `UpdateAccountPasswordPolicy`.
    pub fn update_password_policy(&self, caller: &Caller, policy: PasswordPolicy) -> Result<(), IamError> {
        self.call(caller, "iam:UpdateAccountPasswordPolicy", "*", &[], |s| Ok(s.update_password_policy(policy)?))
    }

    /// `DeleteAccountPasswordPolicy`.
    pub fn delete_password_policy(&self, caller: &Caller) -> Result<(), IamError> {
        self.call(caller, "iam:DeleteAccountPasswordPolicy", "*", &[], |s| Ok(s.delete_password_policy()?))
    }

    /// `CreateLoginProfile`: the password is checked against the account's password policy
    /// (AWS's default rules when none is set) and kept only as a hash.
    pub fn create_login_profile(
        &self,
        caller: &Caller,
        user_name: Option<&str>,
        password: &SecretString,
        password_reset_required: bool,
    ) -> Result<LoginProfile, IamError> {
        let owner = owner_of(caller, user_name)?;
        let resource = self.owner_arn(caller, owner);
        self.call(caller, "iam:CreateLoginProfile", &resource, &[], |s| {
            let policy = s.password_policy().ok();
            check_new_password(policy.as_ref(), password, &PasswordContext::default())?;
            let hash = self.with_rng(|rng| hash_password(password, self.password_iterations, rng))?;
            Ok(s.create_login_profile(owner, &hash, password_reset_required)?)
        })
    }

    /// `UpdateLoginProfile`: an administrator sets a new password and/or the reset flag.
    pub fn update_login_profile(
        &self,
        caller: &Caller,
        user_name: Option<&str>,
        password: Option<&SecretString>,
        password_reset_required: Option<bool>,
    ) -> Result<(), IamError> {
        let owner = owner_of(caller, user_name)?;
        let resource = self.owner_arn(caller, owner);
        self.call(caller, "iam:UpdateLoginProfile", &resource, &[], |s| {
            let hash = match password {
                Some(p) => Some(self.checked_hash(s, owner, p)?),
                None => None,
            };
            Ok(s.update_login_profile(owner, hash.as_ref(), password_reset_required)?)
        })
    }

    /// `ChangePassword`: the calling user changes its own password, giving the old one.
    pub fn change_password(&self, caller: &Caller, old: &SecretString, new: &SecretString) -> Result<(), IamError> {
        let Identity::User { name, .. } = &caller.identity else {
            return Err(IamError::invalid_input("Only IAM users can change their password with ChangePassword."));
        };
        let owner = Owner::User(name);
        let resource = self.owner_arn(caller, owner);
        self.call(caller, "iam:ChangePassword", &resource, &[], |s| {
            let profile = s.login_profile(owner)?;
            if !verify_password(old, &profile.password_hash, 0).matched {
                return Err(IamError::new("InvalidUserType", 400, "The old password is incorrect."));
            }
            let hash = self.checked_hash(s, owner, new)?;
            Ok(s.update_login_profile(owner, Some(&hash), Some(false))?)
        })
    }

    fn checked_hash(
        &self,
        store: &Arc<dyn Store>,
        owner: Owner<'_>,
        password: &SecretString,
    ) -> Result<castellan_credentials::password::PasswordHash, IamError> {
        let policy = store.password_policy().ok();
        let history = store.login_profile(owner).map(|p| p.history()).unwrap_or_default();
        check_new_password(
            policy.as_ref(),
            password,
            &PasswordContext { previous: &history, ..PasswordContext::default() },
        )?;
        Ok(self.with_rng(|rng| hash_password(password, self.password_iterations, rng))?)
    }

    /// `GetLoginProfile`.
    pub fn get_login_profile(&self, caller: &Caller, user_name: Option<&str>) -> Result<LoginProfile, IamError> {
        let owner = owner_of(caller, user_name)?;
        let resource = self.owner_arn(caller, owner);
        self.call(caller, "iam:GetLoginProfile", &resource, &[], |s| Ok(s.login_profile(owner)?))
    }

    /// `DeleteLoginProfile`.
    pub fn delete_login_profile(&self, caller: &Caller, user_name: Option<&str>) -> Result<(), IamError> {
        let owner = owner_of(caller, user_name)?;
        let resource = self.owner_arn(caller, owner);
        self.call(caller, "iam:DeleteLoginProfile", &resource, &[], |s| Ok(s.delete_login_profile(owner)?))
    }

    /// `CreateVirtualMFADevice`: the seed is sealed in the store and returned once.
    pub fn create_virtual_mfa_device(
        &self,
        caller: &Caller,
        name: &str,
        path: Option<&str>,
        tags: Vec<Tag>,
    ) -> Result<CreatedMfaDevice, IamError> {
        let serial = arn(caller.account(), "mfa", path_of(path), name);
        let account = caller.account().to_owned();
        self.call(caller, "iam:CreateVirtualMFADevice", &serial, &[], |s| {
            let made = self.with_rng(|rng| MfaDevice::create_virtual(serial.clone(), Some(&self.sealer), rng))?;
            s.create_virtual_mfa_device(made.device, tags)?;
            Ok(CreatedMfaDevice {
                base32_seed: made.seed.base32(),
                otpauth_uri: made.seed.otpauth_uri(name, None, &account),
                serial_number: serial.clone(),
            })
        })
    }

    /// `EnableMFADevice`: two consecutive codes.
    pub fn enable_mfa_device(
        &self,
        caller: &Caller,
        user_name: Option<&str>,
        serial_number: &str,
        code1: &str,
        code2: &str,
    ) -> Result<(), IamError> {
        let owner = owner_of(caller, user_name)?;
        let resource = self.owner_arn(caller, owner);
        self.call(caller, "iam:EnableMFADevice", &resource, &[], |s| {
            let mut device = s.mfa_device(serial_number)?.device;
            let checked = device.enable(Some(&self.sealer), code1, code2, &*self.clock);
            if let Err(e) = checked {
                // The failed attempt is counted.
                if !device.is_enabled() {
                    let _ = s.save_mfa_device(device);
                }
                return Err(e.into());
            }
            Ok(s.enable_mfa_device(owner, device)?)
        })
    }

    /// `ResyncMFADevice`.
    pub fn resync_mfa_device(
        &self,
        caller: &Caller,
        user_name: Option<&str>,
        serial_number: &str,
        code1: &str,
        code2: &str,
    ) -> Result<(), IamError> {
        let owner = owner_of(caller, user_name)?;
        let resource = self.owner_arn(caller, owner);
        self.call(caller, "iam:ResyncMFADevice", &resource, &[], |s| {
            let mut device = s.mfa_device(serial_number)?.device;
            let checked = device.resync(Some(&self.sealer), code1, code2, &*self.clock);
            s.save_mfa_device(device)?;
            Ok(checked?)
        })
    }

    /// `DeactivateMFADevice`.
    pub fn deactivate_mfa_device(
        &self,
        caller: &Caller,
        user_name: Option<&str>,
        serial_number: &str,
    ) -> Result<(), IamError> {
        let owner = owner_of(caller, user_name)?;
        let resource = self.owner_arn(caller, owner);
        self.call(caller, "iam:DeactivateMFADevice", &resource, &[], |s| {
            Ok(s.deactivate_mfa_device(owner, serial_number)?)
        })
    }

    /// `DeleteVirtualMFADevice`.
    pub fn delete_virtual_mfa_device(&self, caller: &Caller, serial_number: &str) -> Result<(), IamError> {
        self.call(caller, "iam:DeleteVirtualMFADevice", serial_number, &[], |s| {
            Ok(s.delete_virtual_mfa_device(serial_number)?)
        })
    }

    /// `ListMFADevices`.
    pub fn list_mfa_devices(
        &self,
        caller: &Caller,
        user_name: Option<&str>,
    ) -> Result<Vec<VirtualMfaDevice>, IamError> {
        let owner = owner_of(caller, user_name)?;
        let resource = self.owner_arn(caller, owner);
        self.call(caller, "iam:ListMFADevices", &resource, &[], |s| Ok(s.list_mfa_devices(owner)?))
    }

    /// `CreateAccountAlias`.
    pub fn create_account_alias(&self, caller: &Caller, alias: &str) -> Result<(), IamError> {
        self.call(caller, "iam:CreateAccountAlias", "*", &[], |s| Ok(s.create_account_alias(alias)?))
    }

    /// `DeleteAccountAlias`.
    pub fn delete_account_alias(&self, caller: &Caller, alias: &str) -> Result<(), IamError> {
        self.call(caller, "iam:DeleteAccountAlias", "*", &[], |s| Ok(s.delete_account_alias(alias)?))
    }

    /// `ListAccountAliases`.
    pub fn list_account_aliases(&self, caller: &Caller) -> Result<Vec<String>, IamError> {
        self.call(caller, "iam:ListAccountAliases", "*", &[], |s| Ok(s.account_alias()?.into_iter().collect()))
    }
}

/// The path part of an entity ARN after `kind` (`user/`), with its slashes: `/a/b/`.
fn resource_path<'a>(arn: &'a str, kind: &str) -> &'a str {
    let resource = arn.split_once(kind).map_or("", |(_, rest)| rest);
    match resource.rfind('/') {
        Some(i) => arn.get(arn.len() - resource.len() - 1..arn.len() - resource.len() + i + 1).unwrap_or("/"),
        None => "/",
    }
}

/// `aws:RequestTag/KEY` for each tag, and `aws:TagKeys` once per key (a key repeated in a
/// context list is one multivalued key).
fn tag_context(tags: &[Tag]) -> Vec<(String, String)> {
    let mut ctx: Vec<(String, String)> =
        tags.iter().map(|t| (format!("aws:RequestTag/{}", t.key), t.value.clone())).collect();
    ctx.extend(tags.iter().map(|t| ("aws:TagKeys".to_owned(), t.key.clone())));
    ctx
}
