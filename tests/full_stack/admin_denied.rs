//! Every administrative operation is denied to a principal without the permission, with AWS's
//! message, and changes nothing; the same call by an administrator succeeds (so the denial is
//! the policy's doing).

use castellan::credentials::SecretString;
use castellan::credentials::access_key::AccessKeyStatus;
use castellan::credentials::password::PasswordPolicy;
use castellan::store::{Entity, NewPolicy, NewRole, NewUser, PageRequest, PolicyScope, Tag};

use crate::common::{denied, world};

const DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

#[test]
fn users() {
    let (w, admin, nobody) = world();
    let iam = &w.iam;
    denied(&nobody, "iam:CreateUser", iam.create_user(&nobody, NewUser { name: "x".into(), ..NewUser::default() }));
    assert!(iam.get_user(&admin, Some("x")).is_err(), "a denied create changes nothing");
    iam.create_user(&admin, NewUser { name: "x".into(), ..NewUser::default() }).unwrap();
    denied(&nobody, "iam:GetUser", iam.get_user(&nobody, Some("x")));
    denied(&nobody, "iam:ListUsers", iam.list_users(&nobody, None, &PageRequest::default()));
    denied(&nobody, "iam:UpdateUser", iam.update_user(&nobody, "x", Some("y"), None));
    denied(&nobody, "iam:TagUser", iam.tag_user(&nobody, "x", vec![Tag::new("k", "v")]));
    denied(&nobody, "iam:UntagUser", iam.untag_user(&nobody, "x", &["k".into()]));
    denied(&nobody, "iam:DeleteUser", iam.delete_user(&nobody, "x"));
    assert_eq!(iam.get_user(&admin, Some("x")).unwrap().name.as_str(), "x");
    iam.tag_user(&admin, "x", vec![Tag::new("k", "v")]).unwrap();
    iam.update_user(&admin, "x", Some("y"), None).unwrap();
    iam.delete_user(&admin, "y").unwrap();
}

#[test]
fn groups() {
    let (w, admin, nobody) = world();
    let iam = &w.iam;
    denied(&nobody, "iam:CreateGroup", iam.create_group(&nobody, "g", None));
    iam.create_group(&admin, "g", None).unwrap();
    denied(&nobody, "iam:GetGroup", iam.get_group(&nobody, "g"));
    denied(&nobody, "iam:ListGroups", iam.list_groups(&nobody, None, &PageRequest::default()));
    denied(&nobody, "iam:AddUserToGroup", iam.add_user_to_group(&nobody, "g", "nobody"));
    assert!(iam.get_group(&admin, "g").unwrap().1.is_empty());
    iam.add_user_to_group(&admin, "g", "nobody").unwrap();
    denied(&nobody, "iam:ListGroupsForUser", iam.list_groups_for_user(&nobody, "nobody", &PageRequest::default()));
    denied(&nobody, "iam:RemoveUserFromGroup", iam.remove_user_from_group(&nobody, "g", "nobody"));
    denied(&nobody, "iam:UpdateGroup", iam.update_group(&nobody, "g", Some("h"), None));
    denied(&nobody, "iam:DeleteGroup", iam.delete_group(&nobody, "g"));
    iam.remove_user_from_group(&admin, "g", "nobody").unwrap();
    iam.delete_group(&admin, "g").unwrap();
}

#[test]
fn roles() {
    let (w, admin, nobody) = world();
    let iam = &w.iam;
    let role = || NewRole { name: "r".into(), assume_role_policy_document: TRUST.into(), ..NewRole::default() };
    denied(&nobody, "iam:CreateRole", iam.create_role(&nobody, role()));
    iam.create_role(&admin, role()).unwrap();
    denied(&nobody, "iam:GetRole", iam.get_role(&nobody, "r"));
    denied(&nobody, "iam:ListRoles", iam.list_roles(&nobody, None, &PageRequest::default()));
    denied(&nobody, "iam:UpdateRole", iam.update_role(&nobody, "r", Some("d"), None));
    denied(&nobody, "iam:UpdateAssumeRolePolicy", iam.update_assume_role_policy(&nobody, "r", TRUST));
    denied(&nobody, "iam:TagRole", iam.tag_role(&nobody, "r", vec![Tag::new("k", "v")]));
    denied(&nobody, "iam:UntagRole", iam.untag_role(&nobody, "r", &["k".into()]));
    denied(
        &nobody,
        "iam:PutRolePermissionsBoundary",
        iam.put_permissions_boundary(&nobody, Entity::Role("r"), "arn:aws:iam::aws:policy/ReadOnlyAccess"),
    );
    denied(&nobody, "iam:DeleteRolePermissionsBoundary", iam.delete_permissions_boundary(&nobody, Entity::Role("r")));
    denied(&nobody, "iam:DeleteRole", iam.delete_role(&nobody, "r"));
    assert_eq!(iam.get_role(&admin, "r").unwrap().description, None);
    iam.update_role(&admin, "r", Some("d"), None).unwrap();
    iam.delete_role(&admin, "r").unwrap();
}

#[test]
fn managed_and_inline_policies() {
    let (w, admin, nobody) = world();
    let iam = &w.iam;
    let new = || NewPolicy { name: "p".into(), document: DOC.into(), ..NewPolicy::default() };
    denied(&nobody, "iam:CreatePolicy", iam.create_policy(&nobody, new()));
    let arn = iam.create_policy(&admin, new()).unwrap().arn;
    denied(&nobody, "iam:GetPolicy", iam.get_policy(&nobody, &arn));
    denied(&nobody, "iam:ListPolicies", iam.list_policies(&nobody, PolicyScope::Local, None, &PageRequest::default()));
    denied(&nobody, "iam:CreatePolicyVersion", iam.create_policy_version(&nobody, &arn, DOC, true));
    denied(&nobody, "iam:GetPolicyVersion", iam.get_policy_version(&nobody, &arn, "v1"));
    denied(&nobody, "iam:ListPolicyVersions", iam.list_policy_versions(&nobody, &arn));
    denied(&nobody, "iam:SetDefaultPolicyVersion", iam.set_default_policy_version(&nobody, &arn, "v1"));
    denied(&nobody, "iam:DeletePolicyVersion", iam.delete_policy_version(&nobody, &arn, "v1"));
    denied(&nobody, "iam:AttachUserPolicy", iam.attach_policy(&nobody, Entity::User("nobody"), &arn));
    // The user could not grant itself the policy.
    assert!(iam.list_attached_policies(&admin, Entity::User("nobody")).unwrap().is_empty());
    denied(&nobody, "iam:AttachRolePolicy", iam.attach_policy(&nobody, Entity::Role("r"), &arn));
    denied(&nobody, "iam:AttachGroupPolicy", iam.attach_policy(&nobody, Entity::Group("g"), &arn));
    iam.attach_policy(&admin, Entity::User("nobody"), &arn).unwrap();
    denied(&nobody, "iam:ListAttachedUserPolicies", iam.list_attached_policies(&nobody, Entity::User("nobody")));
    denied(&nobody, "iam:DetachUserPolicy", iam.detach_policy(&nobody, Entity::User("nobody"), &arn));
    denied(&nobody, "iam:PutUserPolicy", iam.put_inline_policy(&nobody, Entity::User("nobody"), "i", DOC));
    assert!(iam.list_inline_policies(&admin, Entity::User("nobody")).unwrap().is_empty());
    iam.put_inline_policy(&admin, Entity::User("nobody"), "i", DOC).unwrap();
    denied(&nobody, "iam:GetUserPolicy", iam.get_inline_policy(&nobody, Entity::User("nobody"), "i"));
    denied(&nobody, "iam:ListUserPolicies", iam.list_inline_policies(&nobody, Entity::User("nobody")));
    denied(&nobody, "iam:DeleteUserPolicy", iam.delete_inline_policy(&nobody, Entity::User("nobody"), "i"));
    denied(&nobody, "iam:PutGroupPolicy", iam.put_inline_policy(&nobody, Entity::Group("g"), "i", DOC));
    denied(&nobody, "iam:PutRolePolicy", iam.put_inline_policy(&nobody, Entity::Role("r"), "i", DOC));
    denied(&nobody, "iam:DeletePolicy", iam.delete_policy(&nobody, &arn));
    iam.detach_policy(&admin, Entity::User("nobody"), &arn).unwrap();
    iam.delete_policy(&admin, &arn).unwrap();
}

#[test]
fn instance_profiles() {
    let (w, admin, nobody) = world();
    let iam = &w.iam;
    denied(&nobody, "iam:CreateInstanceProfile", iam.create_instance_profile(&nobody, "ip", None, vec![]));
    iam.create_instance_profile(&admin, "ip", None, vec![]).unwrap();
    iam.create_role(
        &admin,
        NewRole { name: "r".into(), assume_role_policy_document: TRUST.into(), ..NewRole::default() },
    )
    .unwrap();
    denied(&nobody, "iam:GetInstanceProfile", iam.get_instance_profile(&nobody, "ip"));
    denied(&nobody, "iam:PassRole", iam.add_role_to_instance_profile(&nobody, "ip", "r"));
    iam.add_role_to_instance_profile(&admin, "ip", "r").unwrap();
    denied(&nobody, "iam:RemoveRoleFromInstanceProfile", iam.remove_role_from_instance_profile(&nobody, "ip", "r"));
    denied(&nobody, "iam:DeleteInstanceProfile", iam.delete_instance_profile(&nobody, "ip"));
    assert_eq!(iam.get_instance_profile(&admin, "ip").unwrap().1.len(), 1);
}

#[test]
fn access_keys() {
    let (w, admin, nobody) = world();
    let iam = &w.iam;
    denied(&nobody, "iam:CreateAccessKey", iam.create_access_key(&nobody, Some("admin")));
    // Not even its own key without a permission.
    denied(&nobody, "iam:CreateAccessKey", iam.create_access_key(&nobody, None));
    assert!(iam.list_access_keys(&admin, Some("nobody")).unwrap().is_empty());
    let key = iam.create_access_key(&admin, Some("nobody")).unwrap();
    denied(&nobody, "iam:ListAccessKeys", iam.list_access_keys(&nobody, None));
    denied(
        &nobody,
        "iam:UpdateAccessKey",
        iam.update_access_key(&nobody, None, &key.access_key_id, AccessKeyStatus::Inactive),
    );
    denied(&nobody, "iam:DeleteAccessKey", iam.delete_access_key(&nobody, None, &key.access_key_id));
    assert_eq!(iam.list_access_keys(&admin, Some("nobody")).unwrap()[0].status, AccessKeyStatus::Active);
}

#[test]
fn passwords_and_login_profiles() {
    let (w, admin, nobody) = world();
    let iam = &w.iam;
    let password = SecretString::new("A-long-enough-passw0rd!");
    denied(&nobody, "iam:UpdateAccountPasswordPolicy", iam.update_password_policy(&nobody, PasswordPolicy::default()));
    denied(&nobody, "iam:GetAccountPasswordPolicy", iam.get_password_policy(&nobody));
    denied(&nobody, "iam:DeleteAccountPasswordPolicy", iam.delete_password_policy(&nobody));
    denied(&nobody, "iam:CreateLoginProfile", iam.create_login_profile(&nobody, None, &password, false));
    iam.create_login_profile(&admin, Some("nobody"), &password, false).unwrap();
    denied(&nobody, "iam:GetLoginProfile", iam.get_login_profile(&nobody, None));
    denied(&nobody, "iam:UpdateLoginProfile", iam.update_login_profile(&nobody, None, None, Some(true)));
    denied(
        &nobody,
        "iam:ChangePassword",
        iam.change_password(&nobody, &password, &SecretString::new("Another-passw0rd!")),
    );
    denied(&nobody, "iam:DeleteLoginProfile", iam.delete_login_profile(&nobody, None));
    assert!(!iam.get_login_profile(&admin, Some("nobody")).unwrap().password_reset_required);
}

#[test]
fn mfa_devices_and_alias() {
    let (w, admin, nobody) = world();
    let iam = &w.iam;
    denied(&nobody, "iam:CreateVirtualMFADevice", iam.create_virtual_mfa_device(&nobody, "d", None, vec![]));
    let device = iam.create_virtual_mfa_device(&admin, "d", None, vec![]).unwrap();
    denied(
        &nobody,
        "iam:EnableMFADevice",
        iam.enable_mfa_device(&nobody, None, &device.serial_number, "123456", "654321"),
    );
    denied(
        &nobody,
        "iam:ResyncMFADevice",
        iam.resync_mfa_device(&nobody, None, &device.serial_number, "123456", "654321"),
    );
    denied(&nobody, "iam:DeactivateMFADevice", iam.deactivate_mfa_device(&nobody, None, &device.serial_number));
    denied(&nobody, "iam:ListMFADevices", iam.list_mfa_devices(&nobody, None));
    denied(&nobody, "iam:DeleteVirtualMFADevice", iam.delete_virtual_mfa_device(&nobody, &device.serial_number));
    denied(&nobody, "iam:CreateAccountAlias", iam.create_account_alias(&nobody, "my-alias"));
    denied(&nobody, "iam:ListAccountAliases", iam.list_account_aliases(&nobody));
    iam.create_account_alias(&admin, "my-alias").unwrap();
    denied(&nobody, "iam:DeleteAccountAlias", iam.delete_account_alias(&nobody, "my-alias"));
    assert_eq!(iam.list_account_aliases(&admin).unwrap(), ["my-alias"]);
    iam.delete_virtual_mfa_device(&admin, &device.serial_number).unwrap();
}
