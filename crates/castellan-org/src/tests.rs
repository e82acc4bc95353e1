//! Unit tests of every operation, limit and error.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::*;

const MGMT: &str = "111111111111";
const MEMBER: &str = "222222222222";
const OTHER: &str = "333333333333";

const DENY_S3: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#;
const ALLOW_S3: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
const RCP_DENY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-aaaaaaaaaa"}}}]}"#;

fn rng() -> StdRng {
    StdRng::seed_from_u64(7)
}

fn org() -> (Organization, StdRng) {
    let mut rng = rng();
    let org = Organization::create(MGMT, &mut rng).unwrap();
    (org, rng)
}

fn account(id: &str, method: JoinedMethod) -> NewAccount {
    NewAccount {
        id: id.to_owned(),
        name: format!("acct-{id}"),
        email: format!("a{id}@example.com"),
        joined_method: method,
    }
}

fn scp(name: &str, content: &str) -> NewPolicy {
    NewPolicy {
        name: name.to_owned(),
        description: String::new(),
        content: content.to_owned(),
        policy_type: PolicyType::ServiceControlPolicy,
    }
}

fn rcp(name: &str, content: &str) -> NewPolicy {
    NewPolicy { policy_type: PolicyType::ResourceControlPolicy, ..scp(name, content) }
}

/// The exception and reason of a failed call.
#[track_caller]
fn err<T: std::fmt::Debug>(result: Result<T, OrgError>) -> (&'static str, Option<&'static str>) {
    let e = result.expect_err("the operation should fail");
    assert_eq!(e.status(), 400);
    assert!(!e.message.is_empty());
    (e.code.as_str(), e.reason)
}

fn root_id(org: &Organization) -> String {
    org.root().id.clone()
}

// ----- ids ----------------------------------------------------------------------------------

#[test]
fn id_patterns_accept_and_reject() {
    assert!(is_organization_id("o-abcdef1234"));
    assert!(!is_organization_id("o-abc"));
    assert!(!is_organization_id("o-ABCDEF1234"));
    assert!(is_root_id("r-ab12"));
    assert!(!is_root_id("r-ab1"));
    assert!(is_ou_id("ou-ab12-abcd1234"));
    assert!(!is_ou_id("ou-ab12-abc"));
    assert!(!is_ou_id("ou-ab12abcd1234"));
    assert!(is_account_id("123456789012"));
    assert!(!is_account_id("12345678901a"));
    assert!(is_policy_id("p-FullAWSAccess"));
    assert!(is_policy_id("p-abc_DEF1"));
    assert!(!is_policy_id("p-short"));
}

#[test]
fn generated_ids_match_their_patterns() {
    let (mut org, mut rng) = org();
    assert!(is_organization_id(org.id()), "{}", org.id());
    assert_eq!(org.id().len(), 12);
    let root = root_id(&org);
    assert!(is_root_id(&root) && root.len() == 6, "{root}");
    let ou = org.create_organizational_unit(&root, "A", &mut rng).unwrap();
    assert!(is_ou_id(&ou.id), "{}", ou.id);
    assert!(ou.id.starts_with(&format!("ou-{}-", root.trim_start_matches("r-"))));
    let p = org.create_policy(scp("deny", DENY_S3), &mut rng).unwrap();
    assert!(is_policy_id(&p.id) && p.id.len() == 10, "{}", p.id);
}

#[test]
fn the_injected_rng_decides_the_ids() {
    let a = Organization::create(MGMT, &mut StdRng::seed_from_u64(1)).unwrap();
    let b = Organization::create(MGMT, &mut StdRng::seed_from_u64(1)).unwrap();
    let c = Organization::create(MGMT, &mut StdRng::seed_from_u64(2)).unwrap();
    assert_eq!(a.id(), b.id());
    assert_ne!(a.id(), c.id());
}

// ----- organization -------------------------------------------------------------------------

#[test]
fn create_organization_enables_scps_and_places_the_management_account() {
    let (org, _) = org();
    let d = org.describe();
    assert_eq!(d.feature_set, "ALL");
    assert_eq!(d.master_account_id, MGMT);
    assert_eq!(d.arn, format!("arn:aws:organizations::{MGMT}:organization/{}", org.id()));
    assert_eq!(d.master_account_arn, format!("arn:aws:organizations::{MGMT}:account/{}/{MGMT}", org.id()));
    assert_eq!(org.root().policy_types, vec![PolicyType::ServiceControlPolicy]);
    assert!(org.is_enabled(PolicyType::ServiceControlPolicy));
    assert!(!org.is_enabled(PolicyType::ResourceControlPolicy));
    assert!(org.is_attached(FULL_AWS_ACCESS_ID, &root_id(&org)));
    assert!(org.is_attached(FULL_AWS_ACCESS_ID, MGMT));
    assert_eq!(org.describe_account(MGMT).unwrap().parent_id, root_id(&org));
    assert_eq!(org.root().name, "Root");
}

#[test]
fn create_organization_rejects_a_bad_account_id() {
    assert_eq!(err(Organization::create("12345", &mut rng())), ("InvalidInputException", Some("INVALID_PATTERN")));
}

#[test]
fn organizations_holder_create_get_delete() {
    let mut orgs = Organizations::new();
    assert_eq!(err(orgs.organization()), ("AWSOrganizationsNotInUseException", None));
    assert_eq!(err(orgs.delete_organization()), ("AWSOrganizationsNotInUseException", None));
    assert!(orgs.scp_chain(MEMBER).is_none());
    assert!(orgs.org_keys(MEMBER).is_none());
    assert!(orgs.root_credentials_allowed(MEMBER));
    let mut rng = rng();
    orgs.create_organization(MGMT, &mut rng).unwrap();
    assert_eq!(err(orgs.create_organization(OTHER, &mut rng).map(|_| ())), ("AlreadyInOrganizationException", None));
    orgs.organization_mut().unwrap().add_account(account(MEMBER, JoinedMethod::Invited)).unwrap();
    assert!(orgs.scp_chain(MEMBER).is_some());
    assert_eq!(err(orgs.delete_organization()), ("OrganizationNotEmptyException", None));
    orgs.organization_mut().unwrap().remove_account(MEMBER).unwrap();
    orgs.delete_organization().unwrap();
    assert!(orgs.get().is_none());
}

// ----- organizational units -----------------------------------------------------------------

#[test]
fn create_ou_checks_parent_and_name() {
    let (mut org, mut rng) = org();
    let root = root_id(&org);
    assert_eq!(
        err(org.create_organizational_unit("x-1", "A", &mut rng)),
        ("InvalidInputException", Some("INVALID_PATTERN"))
    );
    assert_eq!(err(org.create_organizational_unit("r-zzzz", "A", &mut rng)), ("ParentNotFoundException", None));
    assert_eq!(
        err(org.create_organizational_unit(&root, "", &mut rng)),
        ("InvalidInputException", Some("MIN_LENGTH_EXCEEDED"))
    );
    let long = "n".repeat(129);
    assert_eq!(
        err(org.create_organizational_unit(&root, &long, &mut rng)),
        ("InvalidInputException", Some("MAX_LENGTH_EXCEEDED"))
    );
    org.create_organizational_unit(&root, &"n".repeat(128), &mut rng).unwrap();
    let a = org.create_organizational_unit(&root, "A", &mut rng).unwrap();
    assert_eq!(a.parent_id, root);
    assert_eq!(a.arn, format!("arn:aws:organizations::{MGMT}:ou/{}/{}", org.id(), a.id));
    assert_eq!(
        err(org.create_organizational_unit(&root, "A", &mut rng)),
        ("DuplicateOrganizationalUnitException", None)
    );
    // The same name under another parent, and another case, are fine.
    org.create_organizational_unit(&a.id, "A", &mut rng).unwrap();
    org.create_organizational_unit(&root, "a", &mut rng).unwrap();
    assert!(org.is_attached(FULL_AWS_ACCESS_ID, &a.id));
}

#[test]
fn ous_nest_five_levels_below_the_root_and_no_more() {
    let (mut org, mut rng) = org();
    let mut parent = root_id(&org);
    for level in 1..=MAX_OU_DEPTH {
        parent = org.create_organizational_unit(&parent, &format!("L{level}"), &mut rng).unwrap().id;
    }
    assert_eq!(
        err(org.create_organizational_unit(&parent, "L6", &mut rng)),
        ("ConstraintViolationException", Some("OU_DEPTH_LIMIT_EXCEEDED"))
    );
    // A sibling at depth five is still allowed.
    let parent_of_last = org.list_parents(&parent).unwrap()[0].id.clone();
    org.create_organizational_unit(&parent_of_last, "L5b", &mut rng).unwrap();
}

#[test]
fn rename_ou() {
    let (mut org, mut rng) = org();
    let root = root_id(&org);
    let a = org.create_organizational_unit(&root, "A", &mut rng).unwrap();
    org.create_organizational_unit(&root, "B", &mut rng).unwrap();
    assert_eq!(err(org.update_organizational_unit(&a.id, "B")), ("DuplicateOrganizationalUnitException", None));
    assert_eq!(err(org.update_organizational_unit(&a.id, "")), ("InvalidInputException", Some("MIN_LENGTH_EXCEEDED")));
    assert_eq!(
        err(org.update_organizational_unit("ou-zzzz-zzzzzzzz", "C")),
        ("OrganizationalUnitNotFoundException", None)
    );
    assert_eq!(err(org.update_organizational_unit("r-zzzz", "C")), ("InvalidInputException", Some("INVALID_PATTERN")));
    // Renaming to its own name is not a duplicate.
    org.update_organizational_unit(&a.id, "A").unwrap();
    assert_eq!(org.update_organizational_unit(&a.id, "C").unwrap().name, "C");
    assert_eq!(org.describe_organizational_unit(&a.id).unwrap().name, "C");
}

#[test]
fn delete_ou_only_when_empty() {
    let (mut org, mut rng) = org();
    let root = root_id(&org);
    let a = org.create_organizational_unit(&root, "A", &mut rng).unwrap();
    let b = org.create_organizational_unit(&a.id, "B", &mut rng).unwrap();
    assert_eq!(err(org.delete_organizational_unit(&a.id)), ("OrganizationalUnitNotEmptyException", None));
    org.add_account(account(MEMBER, JoinedMethod::Invited)).unwrap();
    org.move_account(MEMBER, &root, &b.id).unwrap();
    assert_eq!(err(org.delete_organizational_unit(&b.id)), ("OrganizationalUnitNotEmptyException", None));
    org.move_account(MEMBER, &b.id, &root).unwrap();
    let p = org.create_policy(scp("deny", DENY_S3), &mut rng).unwrap();
    org.attach_policy(&p.id, &b.id).unwrap();
    org.delete_organizational_unit(&b.id).unwrap();
    assert!(org.list_targets_for_policy(&p.id).unwrap().is_empty());
    org.delete_policy(&p.id).unwrap();
    org.delete_organizational_unit(&a.id).unwrap();
    assert_eq!(err(org.delete_organizational_unit(&a.id)), ("OrganizationalUnitNotFoundException", None));
    assert_eq!(err(org.describe_organizational_unit(&a.id)), ("OrganizationalUnitNotFoundException", None));
}

// ----- accounts -----------------------------------------------------------------------------

#[test]
fn add_account_records_membership_under_the_root() {
    let (mut org, _) = org();
    let a = org.add_account(account(MEMBER, JoinedMethod::Created)).unwrap();
    assert_eq!(a.parent_id, root_id(&org));
    assert_eq!(a.joined_method, JoinedMethod::Created);
    assert!(org.is_member(MEMBER));
    assert!(org.is_attached(FULL_AWS_ACCESS_ID, MEMBER));
    assert_eq!(
        err(org.add_account(account(MEMBER, JoinedMethod::Invited))),
        ("HandshakeConstraintViolationException", Some("ALREADY_IN_AN_ORGANIZATION"))
    );
    assert_eq!(
        err(org.add_account(account(MGMT, JoinedMethod::Invited))),
        ("HandshakeConstraintViolationException", Some("ALREADY_IN_AN_ORGANIZATION"))
    );
    assert_eq!(
        err(org.add_account(account("12", JoinedMethod::Invited))),
        ("InvalidInputException", Some("INVALID_PATTERN"))
    );
    let nameless = NewAccount { name: String::new(), ..account(OTHER, JoinedMethod::Invited) };
    assert_eq!(err(org.add_account(nameless)), ("InvalidInputException", Some("MIN_LENGTH_EXCEEDED")));
    let long = NewAccount { name: "n".repeat(51), ..account(OTHER, JoinedMethod::Invited) };
    assert_eq!(err(org.add_account(long)), ("InvalidInputException", Some("MAX_LENGTH_EXCEEDED")));
    let bad_email = NewAccount { email: "no-at-sign".to_owned(), ..account(OTHER, JoinedMethod::Invited) };
    assert_eq!(err(org.add_account(bad_email)), ("InvalidInputException", Some("INVALID_PATTERN")));
    let short_email = NewAccount { email: "a@b.c".to_owned(), ..account(OTHER, JoinedMethod::Invited) };
    assert_eq!(err(org.add_account(short_email)), ("InvalidInputException", Some("MIN_LENGTH_EXCEEDED")));
    assert_eq!(err(org.describe_account(OTHER)), ("AccountNotFoundException", None));
    assert_eq!(org.list_accounts().len(), 2);
}

#[test]
fn move_account_checks_source_and_destination() {
    let (mut org, mut rng) = org();
    let root = root_id(&org);
    let a = org.create_organizational_unit(&root, "A", &mut rng).unwrap().id;
    let b = org.create_organizational_unit(&root, "B", &mut rng).unwrap().id;
    org.add_account(account(MEMBER, JoinedMethod::Invited)).unwrap();
    assert_eq!(err(org.move_account(OTHER, &root, &a)), ("AccountNotFoundException", None));
    assert_eq!(err(org.move_account(MEMBER, "ou-zzzz-zzzzzzzz", &a)), ("SourceParentNotFoundException", None));
    assert_eq!(err(org.move_account(MEMBER, &root, "ou-zzzz-zzzzzzzz")), ("DestinationParentNotFoundException", None));
    assert_eq!(err(org.move_account(MEMBER, &b, &a)), ("AccountNotFoundException", None));
    assert_eq!(err(org.move_account(MEMBER, &root, &root)), ("DuplicateAccountException", None));
    assert_eq!(err(org.move_account(MEMBER, "bad", &a)), ("InvalidInputException", Some("INVALID_PATTERN")));
    org.move_account(MEMBER, &root, &a).unwrap();
    assert_eq!(org.describe_account(MEMBER).unwrap().parent_id, a);
    assert_eq!(
        org.list_parents(MEMBER).unwrap(),
        vec![Node { id: a.clone(), node_type: TargetType::OrganizationalUnit }]
    );
    org.move_account(MEMBER, &a, &b).unwrap();
    assert_eq!(org.list_accounts_for_parent(&b).unwrap().len(), 1);
    assert!(org.list_accounts_for_parent(&a).unwrap().is_empty());
}

#[test]
fn remove_account_but_not_the_management_account() {
    let (mut org, mut rng) = org();
    org.add_account(account(MEMBER, JoinedMethod::Invited)).unwrap();
    let p = org.create_policy(scp("deny", DENY_S3), &mut rng).unwrap();
    org.attach_policy(&p.id, MEMBER).unwrap();
    assert_eq!(err(org.remove_account(MGMT)), ("MasterCannotLeaveOrganizationException", None));
    org.remove_account(MEMBER).unwrap();
    assert!(!org.is_member(MEMBER));
    assert!(org.list_targets_for_policy(&p.id).unwrap().is_empty());
    assert_eq!(err(org.remove_account(MEMBER)), ("AccountNotFoundException", None));
    // Re-adding starts from the full-access policy only.
    org.add_account(account(MEMBER, JoinedMethod::Invited)).unwrap();
    let attached: Vec<_> = org
        .list_policies_for_target(MEMBER, PolicyType::ServiceControlPolicy)
        .unwrap()
        .into_iter()
        .map(|s| s.id.clone())
        .collect();
    assert_eq!(attached, vec![FULL_AWS_ACCESS_ID.to_owned()]);
}

// ----- policies -----------------------------------------------------------------------------

#[test]
fn create_policy_validates_name_description_and_type() {
    let (mut org, mut rng) = org();
    let p = org.create_policy(scp("deny-s3", DENY_S3), &mut rng).unwrap();
    assert!(!p.aws_managed);
    assert_eq!(p.arn, format!("arn:aws:organizations::{MGMT}:policy/{}/service_control_policy/{}", org.id(), p.id));
    assert_eq!(org.describe_policy(&p.id).unwrap().content, DENY_S3);
    assert!(org.parsed_policy(&p.id).is_some());
    assert_eq!(
        err(org.create_policy(scp("", DENY_S3), &mut rng)),
        ("InvalidInputException", Some("MIN_LENGTH_EXCEEDED"))
    );
    assert_eq!(
        err(org.create_policy(scp(&"n".repeat(129), DENY_S3), &mut rng)),
        ("InvalidInputException", Some("MAX_LENGTH_EXCEEDED"))
    );
    let described = NewPolicy { description: "d".repeat(512), ..scp("described", DENY_S3) };
    org.create_policy(described, &mut rng).unwrap();
    let too_long = NewPolicy { description: "d".repeat(513), ..scp("described2", DENY_S3) };
    assert_eq!(err(org.create_policy(too_long, &mut rng)), ("InvalidInputException", Some("MAX_LENGTH_EXCEEDED")));
    assert_eq!(err(org.create_policy(scp("deny-s3", ALLOW_S3), &mut rng)), ("DuplicatePolicyException", None));
    assert_eq!(err(org.create_policy(scp("FullAWSAccess", ALLOW_S3), &mut rng)), ("DuplicatePolicyException", None));
    // Names are unique per type.
    org.create_policy(rcp("deny-s3", RCP_DENY), &mut rng).unwrap();
}

#[test]
fn create_policy_validates_the_document_for_its_type() {
    let (mut org, mut rng) = org();
    assert_eq!(
        err(org.create_policy(scp("empty", ""), &mut rng)),
        ("InvalidInputException", Some("MIN_LENGTH_EXCEEDED"))
    );
    assert_eq!(err(org.create_policy(scp("junk", "{not json"), &mut rng)), ("MalformedPolicyDocumentException", None));
    // SCPs have no Principal.
    assert_eq!(
        err(org.create_policy(scp("principal", RCP_DENY), &mut rng)),
        ("MalformedPolicyDocumentException", None)
    );
    // RCPs only deny, and need a Principal.
    assert_eq!(err(org.create_policy(rcp("allow", ALLOW_S3), &mut rng)), ("MalformedPolicyDocumentException", None));
    assert_eq!(
        err(org.create_policy(rcp("noprincipal", DENY_S3), &mut rng)),
        ("MalformedPolicyDocumentException", None)
    );
    org.create_policy(rcp("ok", RCP_DENY), &mut rng).unwrap();
}

/// `DENY_S3` padded with spaces to exactly `len` characters.
fn padded(len: usize) -> String {
    let mut text = DENY_S3.to_owned();
    text.insert_str(1, &" ".repeat(len - DENY_S3.len()));
    assert_eq!(text.chars().count(), len);
    text
}

#[test]
fn documents_hold_at_most_5120_characters_whitespace_included() {
    let (mut org, mut rng) = org();
    org.create_policy(scp("max", &padded(MAX_POLICY_CONTENT)), &mut rng).unwrap();
    assert_eq!(
        err(org.create_policy(scp("over", &padded(MAX_POLICY_CONTENT + 1)), &mut rng)),
        ("ConstraintViolationException", Some("POLICY_CONTENT_LIMIT_EXCEEDED"))
    );
}

#[test]
fn update_policy_changes_customer_policies_only() {
    let (mut org, mut rng) = org();
    let p = org.create_policy(scp("deny", DENY_S3), &mut rng).unwrap();
    org.create_policy(scp("other", DENY_S3), &mut rng).unwrap();
    let before = org.parsed_policy(&p.id).unwrap().clone();
    let updated = org
        .update_policy(
            &p.id,
            PolicyUpdate {
                name: Some("allow".to_owned()),
                description: Some("now allows".to_owned()),
                content: Some(ALLOW_S3.to_owned()),
            },
        )
        .unwrap();
    assert_eq!(updated.summary.name, "allow");
    assert_eq!(updated.summary.description, "now allows");
    assert_eq!(updated.content, ALLOW_S3);
    assert_ne!(*org.parsed_policy(&p.id).unwrap(), before);
    let rename = |n: &str| PolicyUpdate { name: Some(n.to_owned()), ..PolicyUpdate::default() };
    assert_eq!(err(org.update_policy(&p.id, rename("other"))), ("DuplicatePolicyException", None));
    assert_eq!(err(org.update_policy(&p.id, rename(""))), ("InvalidInputException", Some("MIN_LENGTH_EXCEEDED")));
    let bad = PolicyUpdate { content: Some("[]".to_owned()), ..PolicyUpdate::default() };
    assert_eq!(err(org.update_policy(&p.id, bad)), ("MalformedPolicyDocumentException", None));
    assert_eq!(org.describe_policy(&p.id).unwrap().content, ALLOW_S3);
    assert_eq!(
        err(org.update_policy(FULL_AWS_ACCESS_ID, rename("x"))),
        ("InvalidInputException", Some("IMMUTABLE_POLICY"))
    );
    assert_eq!(err(org.update_policy("p-nothere12", rename("x"))), ("PolicyNotFoundException", None));
}

#[test]
fn delete_policy_refused_while_attached_or_managed() {
    let (mut org, mut rng) = org();
    let root = root_id(&org);
    let p = org.create_policy(scp("deny", DENY_S3), &mut rng).unwrap();
    org.attach_policy(&p.id, &root).unwrap();
    assert_eq!(err(org.delete_policy(&p.id)), ("PolicyInUseException", None));
    org.detach_policy(&p.id, &root).unwrap();
    org.delete_policy(&p.id).unwrap();
    assert_eq!(err(org.delete_policy(&p.id)), ("PolicyNotFoundException", None));
    assert!(org.parsed_policy(&p.id).is_none());
    assert_eq!(err(org.delete_policy(FULL_AWS_ACCESS_ID)), ("InvalidInputException", Some("IMMUTABLE_POLICY")));
    assert_eq!(err(org.delete_policy(RCP_FULL_AWS_ACCESS_ID)), ("InvalidInputException", Some("IMMUTABLE_POLICY")));
    assert_eq!(err(org.delete_policy("policy")), ("InvalidInputException", Some("INVALID_SYNTAX_POLICY_ID")));
}

#[test]
fn policy_type_names() {
    assert_eq!(PolicyType::parse("SERVICE_CONTROL_POLICY").unwrap(), PolicyType::ServiceControlPolicy);
    assert_eq!(PolicyType::parse("RESOURCE_CONTROL_POLICY").unwrap(), PolicyType::ResourceControlPolicy);
    assert_eq!(err(PolicyType::parse("TAG_POLICY")), ("PolicyTypeNotAvailableForOrganizationException", None));
    assert_eq!(err(PolicyType::parse("scp")), ("InvalidInputException", Some("INVALID_ENUM_POLICY_TYPE")));
    for t in PolicyType::ALL {
        assert_eq!(PolicyType::parse(t.as_str()).unwrap(), t);
    }
}

// ----- attachments --------------------------------------------------------------------------

#[test]
fn attach_checks_policy_target_type_and_duplicates() {
    let (mut org, mut rng) = org();
    let root = root_id(&org);
    let p = org.create_policy(scp("deny", DENY_S3), &mut rng).unwrap();
    let r = org.create_policy(rcp("rdeny", RCP_DENY), &mut rng).unwrap();
    assert_eq!(err(org.attach_policy("p-nothere12", &root)), ("PolicyNotFoundException", None));
    assert_eq!(err(org.attach_policy(&p.id, "r-zzzz")), ("TargetNotFoundException", None));
    assert_eq!(err(org.attach_policy(&p.id, OTHER)), ("TargetNotFoundException", None));
    assert_eq!(err(org.attach_policy(&p.id, "o-1")), ("InvalidInputException", Some("INVALID_PATTERN_TARGET_ID")));
    assert_eq!(err(org.attach_policy(&r.id, &root)), ("PolicyTypeNotEnabledException", None));
    org.attach_policy(&p.id, &root).unwrap();
    assert_eq!(err(org.attach_policy(&p.id, &root)), ("DuplicatePolicyAttachmentException", None));
    assert_eq!(err(org.attach_policy(FULL_AWS_ACCESS_ID, &root)), ("DuplicatePolicyAttachmentException", None));
    let targets = org.list_targets_for_policy(&p.id).unwrap();
    let expected = PolicyTargetSummary {
        target_id: root.clone(),
        arn: org.root().arn.clone(),
        name: "Root".to_owned(),
        target_type: TargetType::Root,
    };
    assert_eq!(targets, vec![expected]);
    org.add_account(account(MEMBER, JoinedMethod::Invited)).unwrap();
    org.attach_policy(&p.id, MEMBER).unwrap();
    let member = org.list_targets_for_policy(&p.id).unwrap().into_iter().find(|t| t.target_id == MEMBER).unwrap();
    assert_eq!((member.name.as_str(), member.target_type), ("acct-222222222222", TargetType::Account));
    assert_eq!(member.arn, format!("arn:aws:organizations::{MGMT}:account/{}/{MEMBER}", org.id()));
}

#[test]
fn at_most_five_policies_of_a_type_per_target() {
    let (mut org, mut rng) = org();
    org.add_account(account(MEMBER, JoinedMethod::Invited)).unwrap();
    // FullAWSAccess is the first of the five.
    for i in 0..4 {
        let p = org.create_policy(scp(&format!("p{i}"), DENY_S3), &mut rng).unwrap();
        org.attach_policy(&p.id, MEMBER).unwrap();
    }
    let sixth = org.create_policy(scp("p5", DENY_S3), &mut rng).unwrap();
    assert_eq!(
        err(org.attach_policy(&sixth.id, MEMBER)),
        ("ConstraintViolationException", Some("MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"))
    );
    // The limit is per type: RCPs have their own five.
    org.enable_policy_type(&root_id(&org), PolicyType::ResourceControlPolicy).unwrap();
    let r = org.create_policy(rcp("r", RCP_DENY), &mut rng).unwrap();
    org.attach_policy(&r.id, MEMBER).unwrap();
    // And per target.
    org.attach_policy(&sixth.id, &root_id(&org)).unwrap();
}

#[test]
fn detach_keeps_one_scp_and_rcp_full_access() {
    let (mut org, mut rng) = org();
    let root = root_id(&org);
    org.add_account(account(MEMBER, JoinedMethod::Invited)).unwrap();
    assert_eq!(
        err(org.detach_policy(FULL_AWS_ACCESS_ID, MEMBER)),
        ("ConstraintViolationException", Some("MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"))
    );
    let p = org.create_policy(scp("allow-s3", ALLOW_S3), &mut rng).unwrap();
    assert_eq!(err(org.detach_policy(&p.id, MEMBER)), ("PolicyNotAttachedException", None));
    org.attach_policy(&p.id, MEMBER).unwrap();
    org.detach_policy(FULL_AWS_ACCESS_ID, MEMBER).unwrap();
    assert!(!org.is_attached(FULL_AWS_ACCESS_ID, MEMBER));
    assert_eq!(
        err(org.detach_policy(&p.id, MEMBER)),
        ("ConstraintViolationException", Some("MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"))
    );
    assert_eq!(err(org.detach_policy(&p.id, "ou-zzzz-zzzzzzzz")), ("TargetNotFoundException", None));
    assert_eq!(err(org.detach_policy(RCP_FULL_AWS_ACCESS_ID, &root)), ("PolicyTypeNotEnabledException", None));
    org.enable_policy_type(&root, PolicyType::ResourceControlPolicy).unwrap();
    assert_eq!(
        err(org.detach_policy(RCP_FULL_AWS_ACCESS_ID, &root)),
        ("InvalidInputException", Some("NON_DETACHABLE_POLICY"))
    );
    let r = org.create_policy(rcp("r", RCP_DENY), &mut rng).unwrap();
    org.attach_policy(&r.id, &root).unwrap();
    // A custom RCP may be detached; the managed one stays.
    org.detach_policy(&r.id, &root).unwrap();
    assert_eq!(
        err(org.detach_policy(RCP_FULL_AWS_ACCESS_ID, MEMBER)),
        ("InvalidInputException", Some("NON_DETACHABLE_POLICY"))
    );
}

#[test]
fn enable_policy_type_attaches_full_access_everywhere() {
    let (mut org, mut rng) = org();
    let root = root_id(&org);
    let a = org.create_organizational_unit(&root, "A", &mut rng).unwrap().id;
    let b = org.create_organizational_unit(&a, "B", &mut rng).unwrap().id;
    org.add_account(account(MEMBER, JoinedMethod::Invited)).unwrap();
    assert_eq!(
        err(org.enable_policy_type("r-zzzz", PolicyType::ResourceControlPolicy)),
        ("RootNotFoundException", None)
    );
    assert_eq!(
        err(org.enable_policy_type("root", PolicyType::ResourceControlPolicy)),
        ("InvalidInputException", Some("INVALID_PATTERN"))
    );
    assert_eq!(
        err(org.enable_policy_type(&root, PolicyType::ServiceControlPolicy)),
        ("PolicyTypeAlreadyEnabledException", None)
    );
    let after = org.enable_policy_type(&root, PolicyType::ResourceControlPolicy).unwrap();
    assert_eq!(after.policy_types, PolicyType::ALL.to_vec());
    for target in [root.as_str(), &a, &b, MEMBER, MGMT] {
        assert!(org.is_attached(RCP_FULL_AWS_ACCESS_ID, target), "{target}");
    }
    // New entities get it too.
    let c = org.create_organizational_unit(&b, "C", &mut rng).unwrap().id;
    assert!(org.is_attached(RCP_FULL_AWS_ACCESS_ID, &c) && org.is_attached(FULL_AWS_ACCESS_ID, &c));
}

#[test]
fn disable_policy_type_detaches_every_policy_of_the_type() {
    let (mut org, mut rng) = org();
    let root = root_id(&org);
    org.add_account(account(MEMBER, JoinedMethod::Invited)).unwrap();
    let p = org.create_policy(scp("deny", DENY_S3), &mut rng).unwrap();
    org.attach_policy(&p.id, MEMBER).unwrap();
    org.enable_policy_type(&root, PolicyType::ResourceControlPolicy).unwrap();
    let r = org.create_policy(rcp("r", RCP_DENY), &mut rng).unwrap();
    org.attach_policy(&r.id, MEMBER).unwrap();
    org.disable_policy_type(&root, PolicyType::ServiceControlPolicy).unwrap();
    assert!(!org.is_enabled(PolicyType::ServiceControlPolicy));
    assert!(org.list_targets_for_policy(&p.id).unwrap().is_empty());
    assert!(org.list_targets_for_policy(FULL_AWS_ACCESS_ID).unwrap().is_empty());
    // The other type is untouched.
    assert_eq!(org.list_targets_for_policy(&r.id).unwrap().len(), 1);
    assert_eq!(
        err(org.disable_policy_type(&root, PolicyType::ServiceControlPolicy)),
        ("PolicyTypeNotEnabledException", None)
    );
    assert_eq!(err(org.attach_policy(&p.id, MEMBER)), ("PolicyTypeNotEnabledException", None));
    // Enabling again starts from FullAWSAccess alone.
    org.enable_policy_type(&root, PolicyType::ServiceControlPolicy).unwrap();
    let ids: Vec<_> = org
        .list_policies_for_target(MEMBER, PolicyType::ServiceControlPolicy)
        .unwrap()
        .into_iter()
        .map(|s| s.id.clone())
        .collect();
    assert_eq!(ids, vec![FULL_AWS_ACCESS_ID.to_owned()]);
}

// ----- listings -----------------------------------------------------------------------------

#[test]
fn list_children_parents_and_policies() {
    let (mut org, mut rng) = org();
    let root = root_id(&org);
    let a = org.create_organizational_unit(&root, "A", &mut rng).unwrap().id;
    let b = org.create_organizational_unit(&a, "B", &mut rng).unwrap().id;
    org.add_account(account(MEMBER, JoinedMethod::Invited)).unwrap();
    org.move_account(MEMBER, &root, &b).unwrap();
    let ous = org.list_children(&root, ChildType::OrganizationalUnit).unwrap();
    assert_eq!(ous, vec![Node { id: a.clone(), node_type: TargetType::OrganizationalUnit }]);
    let accounts = org.list_children(&root, ChildType::Account).unwrap();
    assert_eq!(accounts, vec![Node { id: MGMT.to_owned(), node_type: TargetType::Account }]);
    assert_eq!(org.list_children(&b, ChildType::Account).unwrap().len(), 1);
    assert_eq!(err(org.list_children("ou-zzzz-zzzzzzzz", ChildType::Account)), ("ParentNotFoundException", None));
    assert_eq!(org.list_organizational_units_for_parent(&a).unwrap().len(), 1);
    assert_eq!(org.list_parents(&a).unwrap(), vec![Node { id: root.clone(), node_type: TargetType::Root }]);
    assert_eq!(org.list_parents(&b).unwrap()[0].id, a);
    assert_eq!(err(org.list_parents(OTHER)), ("ChildNotFoundException", None));
    assert_eq!(err(org.list_parents(&root)), ("InvalidInputException", Some("INVALID_PATTERN")));
    let scps: Vec<_> =
        org.list_policies(PolicyType::ServiceControlPolicy).into_iter().map(|s| s.name.clone()).collect();
    assert_eq!(scps, vec!["FullAWSAccess".to_owned()]);
    let rcps = org.list_policies(PolicyType::ResourceControlPolicy);
    assert_eq!(rcps.len(), 1);
    assert!(rcps[0].aws_managed && rcps[0].id == RCP_FULL_AWS_ACCESS_ID);
    assert_eq!(
        err(org.list_policies_for_target(OTHER, PolicyType::ServiceControlPolicy)),
        ("TargetNotFoundException", None)
    );
    assert_eq!(err(org.list_targets_for_policy("p-nothere12")), ("PolicyNotFoundException", None));
    let targets = org.list_targets_for_policy(FULL_AWS_ACCESS_ID).unwrap();
    assert_eq!(targets.len(), 5, "{targets:?}");
}

// ----- guardrails ---------------------------------------------------------------------------

#[test]
fn scp_chain_runs_root_ous_account() {
    let (mut org, mut rng) = org();
    let root = root_id(&org);
    let a = org.create_organizational_unit(&root, "A", &mut rng).unwrap().id;
    let b = org.create_organizational_unit(&a, "B", &mut rng).unwrap().id;
    org.add_account(account(MEMBER, JoinedMethod::Invited)).unwrap();
    org.move_account(MEMBER, &root, &b).unwrap();
    let p = org.create_policy(scp("deny", DENY_S3), &mut rng).unwrap();
    org.attach_policy(&p.id, &a).unwrap();
    let chain = org.scp_chain(MEMBER).unwrap();
    let ids: Vec<_> = chain.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(ids, vec![root.as_str(), &a, &b, MEMBER]);
    let at_a: Vec<_> = chain[1].policies.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(at_a, vec!["FullAWSAccess", "deny"]);
    assert!(std::sync::Arc::ptr_eq(&chain[1].policies[1].policy, org.parsed_policy(&p.id).unwrap()));
    // Not for the management account, outsiders, or a disabled type.
    assert!(org.scp_chain(MGMT).is_none());
    assert!(org.scp_chain(OTHER).is_none());
    assert!(org.rcp_chain(MEMBER).is_none());
    org.enable_policy_type(&root, PolicyType::ResourceControlPolicy).unwrap();
    assert_eq!(org.rcp_chain(MEMBER).unwrap().len(), 4);
    assert!(org.rcp_chain(MGMT).is_none());
    org.disable_policy_type(&root, PolicyType::ServiceControlPolicy).unwrap();
    assert!(org.scp_chain(MEMBER).is_none());
}

#[test]
fn a_level_without_policies_is_empty_in_the_chain() {
    let (mut org, mut rng) = org();
    org.add_account(account(MEMBER, JoinedMethod::Invited)).unwrap();
    let p = org.create_policy(scp("allow", ALLOW_S3), &mut rng).unwrap();
    org.attach_policy(&p.id, MEMBER).unwrap();
    org.detach_policy(FULL_AWS_ACCESS_ID, MEMBER).unwrap();
    let chain = org.scp_chain(MEMBER).unwrap();
    assert_eq!(chain.last().unwrap().policies.len(), 1);
    assert_eq!(chain.last().unwrap().policies[0].id, p.id);
}

#[test]
fn service_linked_roles_are_exempt_from_scps() {
    let (mut org, _) = org();
    org.add_account(account(MEMBER, JoinedMethod::Invited)).unwrap();
    let slr =
        format!("arn:aws:iam::{MEMBER}:role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForELB");
    assert!(is_service_linked_role(&slr));
    assert!(org.scp_chain_for_principal(&slr).is_none());
    let user = format!("arn:aws:iam::{MEMBER}:user/alice");
    assert!(!is_service_linked_role(&user));
    assert!(!is_service_linked_role(&format!("arn:aws:iam::{MEMBER}:role/my-aws-service-role/x")));
    assert_eq!(org.scp_chain_for_principal(&user).unwrap().len(), 2);
    let session = format!("arn:aws:sts::{MEMBER}:assumed-role/R/s");
    assert!(org.scp_chain_for_principal(&session).is_some());
    assert!(org.scp_chain_for_principal("not an arn").is_none());
}

#[test]
fn org_paths_end_with_the_parent() {
    let (mut org, mut rng) = org();
    let root = root_id(&org);
    let a = org.create_organizational_unit(&root, "A", &mut rng).unwrap().id;
    let b = org.create_organizational_unit(&a, "B", &mut rng).unwrap().id;
    org.add_account(account(MEMBER, JoinedMethod::Invited)).unwrap();
    assert_eq!(org.org_path(MEMBER).unwrap(), format!("{}/{root}/", org.id()));
    org.move_account(MEMBER, &root, &b).unwrap();
    let keys = org.org_keys(MEMBER).unwrap();
    assert_eq!(keys.org_path, format!("{}/{root}/{a}/{b}/", org.id()));
    assert_eq!(keys.org_id, org.id());
    assert_eq!(keys.principal_entries()[0], (PRINCIPAL_ORG_ID, org.id()));
    assert_eq!(keys.resource_entries()[1], (RESOURCE_ORG_PATHS, keys.org_path.as_str()));
    // The management account is in the organization too.
    assert!(org.org_keys(MGMT).is_some());
    assert!(org.org_keys(OTHER).is_none());
}

// ----- centralized root access --------------------------------------------------------------

#[test]
fn root_credentials_can_be_removed_only_with_the_feature() {
    let (mut org, _) = org();
    org.add_account(account(MEMBER, JoinedMethod::Invited)).unwrap();
    assert_eq!(err(org.remove_root_credentials(MEMBER)), ("AccessDeniedException", None));
    org.enable_root_credentials_management();
    assert!(org.root_credentials_management_enabled());
    assert_eq!(err(org.remove_root_credentials(MGMT)), ("AccessDeniedException", None));
    assert_eq!(err(org.remove_root_credentials(OTHER)), ("AccountNotFoundException", None));
    assert!(org.root_credentials_allowed(MEMBER));
    org.remove_root_credentials(MEMBER).unwrap();
    assert!(!org.root_credentials_allowed(MEMBER));
    assert!(org.root_credentials_allowed(MGMT));
    org.allow_root_credentials_recovery(MEMBER).unwrap();
    assert!(org.root_credentials_allowed(MEMBER));
    org.remove_root_credentials(MEMBER).unwrap();
    org.disable_root_credentials_management();
    assert!(org.root_credentials_allowed(MEMBER));
    org.enable_root_credentials_management();
    assert!(!org.root_credentials_allowed(MEMBER));
    org.remove_account(MEMBER).unwrap();
    assert!(org.root_credentials_allowed(MEMBER));
}

#[test]
fn accounts_created_under_centralized_root_access_start_without_root_credentials() {
    let (mut org, _) = org();
    org.enable_root_credentials_management();
    org.add_account(account(MEMBER, JoinedMethod::Created)).unwrap();
    org.add_account(account(OTHER, JoinedMethod::Invited)).unwrap();
    assert!(!org.root_credentials_allowed(MEMBER));
    assert!(org.root_credentials_allowed(OTHER));
}

// ----- persistence --------------------------------------------------------------------------

#[test]
fn state_round_trips_through_serde_and_reparses_policies() {
    let (mut org, mut rng) = org();
    let root = root_id(&org);
    let a = org.create_organizational_unit(&root, "A", &mut rng).unwrap().id;
    org.add_account(account(MEMBER, JoinedMethod::Invited)).unwrap();
    org.move_account(MEMBER, &root, &a).unwrap();
    let p = org.create_policy(scp("deny", DENY_S3), &mut rng).unwrap();
    org.attach_policy(&p.id, &a).unwrap();
    org.enable_root_credentials_management();
    org.remove_root_credentials(MEMBER).unwrap();
    let json = serde_json::to_string(&org).unwrap();
    let back: Organization = serde_json::from_str(&json).unwrap();
    assert_eq!(back, org);
    assert_eq!(back.parsed_policy(&p.id), org.parsed_policy(&p.id));
    assert_eq!(back.scp_chain(MEMBER).unwrap()[1].policies.len(), 2);
    assert!(!back.root_credentials_allowed(MEMBER));

    let mut orgs = Organizations::new();
    orgs.create_organization(MGMT, &mut rng).unwrap();
    let back: Organizations = serde_json::from_str(&serde_json::to_string(&orgs).unwrap()).unwrap();
    assert_eq!(back, orgs);
}

#[test]
fn loading_a_corrupted_document_fails() {
    let (mut org, mut rng) = org();
    org.create_policy(scp("deny", DENY_S3), &mut rng).unwrap();
    let json = serde_json::to_string(&org).unwrap();
    let broken = json.replace(r#"\"Effect\":\"Deny\""#, r#"\"Effect\":\"Maybe\""#);
    assert_ne!(broken, json);
    assert!(serde_json::from_str::<Organization>(&broken).is_err());
}

#[test]
fn error_display_names_code_and_reason() {
    let e = OrgError::constraint(ConstraintReason::OuDepthLimitExceeded, "too deep");
    assert_eq!(e.to_string(), "ConstraintViolationException (OU_DEPTH_LIMIT_EXCEEDED): too deep");
    let e = OrgError::new(OrgErrorCode::PolicyNotFound, "gone");
    assert_eq!(e.to_string(), "PolicyNotFoundException: gone");
    assert_eq!(e.status(), 400);
}

/// The crate depends on castellan-policy and no other castellan crate (castellan-eval only
/// as a dev-dependency), as ARCHITECTURE.md states.
#[test]
fn dependencies_stay_minimal() {
    let manifest = include_str!("../Cargo.toml");
    let deps = manifest.split("[dependencies]").nth(1).unwrap().split("\n[").next().unwrap();
    let names: Vec<&str> =
        deps.lines().filter_map(|l| l.split(['.', '=', ' ']).next()).filter(|n| !n.is_empty()).collect();
    assert_eq!(names, vec!["castellan-policy", "serde", "rand"]);
}
