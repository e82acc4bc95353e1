//! Organizations through the facade: an SCP that denies a region, inheritance through OUs, the
//! management account unaffected, member accounts refused organization changes.

use castellan::org::{NewPolicy, PolicyType};
use castellan::{Access, Caller};

use crate::common::World;

const DENY_OUTSIDE_EU: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"EuOnly","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1"]}}}]}"#;

#[test]
fn an_scp_denies_a_region_in_member_accounts_only() {
    let w = World::new();
    let mgmt_root = w.root();
    let org = w.iam.create_organization(&mgmt_root).unwrap();
    assert_eq!(org.master_account_id, w.account);
    let root_id = w.iam.list_roots(&mgmt_root).unwrap()[0].id.clone();
    let workloads = w.iam.create_organizational_unit(&mgmt_root, &root_id, "Workloads").unwrap();
    let member = w.iam.create_account(&mgmt_root, "prod", "prod@example.com").unwrap();
    w.iam.move_account(&mgmt_root, &member.id, &root_id, &workloads.id).unwrap();
    let scp = w
        .iam
        .create_org_policy(
            &mgmt_root,
            NewPolicy {
                name: "eu-only".into(),
                description: String::new(),
                content: DENY_OUTSIDE_EU.into(),
                policy_type: PolicyType::ServiceControlPolicy,
            },
        )
        .unwrap();
    w.iam.attach_org_policy(&mgmt_root, &scp.id, &workloads.id).unwrap();

    // The member's root user may do anything its account allows, but only in eu-west-1.
    let run = Access::new("ec2:RunInstances", "*");
    let member_root = Caller::root(&member.id);
    assert!(w.iam.authorize(&member_root.clone().in_region("eu-west-1"), &run).unwrap().is_allowed());
    let denied = w.iam.authorize(&member_root.clone().in_region("us-east-1"), &run).unwrap();
    assert!(!denied.is_allowed());
    assert!(denied.message.ends_with("with an explicit deny in a service control policy"), "{}", denied.message);
    // The management account is not bound by SCPs.
    assert!(w.iam.authorize(&mgmt_root.clone().in_region("us-east-1"), &run).unwrap().is_allowed());
    // Moving the account out of the OU lifts the deny.
    w.iam.move_account(&mgmt_root, &member.id, &workloads.id, &root_id).unwrap();
    assert!(w.iam.authorize(&member_root.clone().in_region("us-east-1"), &run).unwrap().is_allowed());
    // The org keys are filled in for the member.
    let keyed = w.iam.directory().organizations().get().unwrap().org_keys(&member.id).unwrap();
    assert_eq!(keyed.org_id, org.id);
}

#[test]
fn create_account_makes_an_account_with_an_access_role() {
    let w = World::new();
    let mgmt_root = w.root();
    w.iam.create_organization(&mgmt_root).unwrap();
    let member = w.iam.create_account(&mgmt_root, "dev", "dev@example.com").unwrap();
    assert!(w.iam.directory().account(&member.id).is_ok());
    let role = w.iam.get_role(&Caller::root(&member.id), castellan::ORGANIZATION_ACCOUNT_ACCESS_ROLE).unwrap();
    assert!(role.assume_role_policy_document.contains(&format!("arn:aws:iam::{}:root", w.account)));
    assert_eq!(w.iam.list_accounts(&mgmt_root).unwrap().len(), 2);
}

#[test]
fn organization_calls_are_authorized_and_reserved_to_the_management_account() {
    let w = World::new();
    let mgmt_root = w.root();
    w.iam.create_organization(&mgmt_root).unwrap();
    let root_id = w.iam.list_roots(&mgmt_root).unwrap()[0].id.clone();
    // A user of the management account without permission.
    let nobody = w.user("nobody", None);
    let e = w.iam.create_organizational_unit(&nobody, &root_id, "x").unwrap_err();
    assert_eq!(e.code(), "AccessDenied", "{e}");
    assert!(e.message().contains("organizations:CreateOrganizationalUnit"), "{e}");
    let e = w.iam.create_account(&nobody, "x", "x@example.com").unwrap_err();
    assert_eq!(e.code(), "AccessDenied", "{e}");
    assert_eq!(w.iam.list_accounts(&mgmt_root).unwrap().len(), 1);
    // A member account's root may not change the organization.
    let member = w.iam.create_account(&mgmt_root, "m", "m@example.com").unwrap();
    let e = w.iam.create_organizational_unit(&Caller::root(&member.id), &root_id, "x").unwrap_err();
    assert_eq!(e.code(), "AccessDeniedException", "{e}");
    assert!(w.iam.describe_organization(&Caller::root(&member.id)).is_ok());
    // Outside any organization.
    let other = World::with_account("999988887777");
    let e = other.iam.list_accounts(&other.root()).unwrap_err();
    assert_eq!(e.code(), "AWSOrganizationsNotInUseException");
}
