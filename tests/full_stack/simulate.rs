//! The policy simulator through the facade: `SimulatePrincipalPolicy`, `SimulateCustomPolicy`,
//! the context-key helpers, and Castellan's extensions (SCP levels, session policies).

use castellan::store::{Entity, NewPolicy, NewRole, PageRequest};
use castellan::{
    ContextEntry, ContextKeyType, EvalDecision, PolicySourceType, SimulateCustomPolicyRequest,
    SimulatePrincipalPolicyRequest, SimulatedOrgLevel, SimulationExtensions, StatementPosition,
};

use crate::common::{World, allow};

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// A deny on line 4 (the statement starts at column 5 and ends at line 4, column 80).
const DENY_DELETE: &str = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Deny\", \"Action\": \"s3:DeleteObject\", \"Resource\": \"*\"}\n  ]\n}";

fn principal(source: &str, actions: &[&str]) -> SimulatePrincipalPolicyRequest {
    SimulatePrincipalPolicyRequest {
        policy_source_arn: source.to_owned(),
        action_names: actions.iter().map(|a| (*a).to_owned()).collect(),
        ..SimulatePrincipalPolicyRequest::default()
    }
}

fn custom(policies: &[&str], actions: &[&str]) -> SimulateCustomPolicyRequest {
    SimulateCustomPolicyRequest {
        policy_input_list: policies.iter().map(|p| (*p).to_owned()).collect(),
        action_names: actions.iter().map(|a| (*a).to_owned()).collect(),
        ..SimulateCustomPolicyRequest::default()
    }
}

#[test]
fn a_user_is_simulated_with_its_groups_policies_and_a_deny_is_reported_alone_with_its_position() {
    let w = World::new();
    let admin = w.admin("admin");
    let root = w.root();
    w.user("bob", Some(&allow(&["s3:GetObject", "s3:DeleteObject"], "*")));
    w.iam.create_group(&root, "ops", None).unwrap();
    w.iam.add_user_to_group(&root, "ops", "bob").unwrap();
    w.iam.put_inline_policy(&root, Entity::Group("ops"), "no-delete", DENY_DELETE).unwrap();
    w.iam.attach_policy(&root, Entity::Group("ops"), "arn:aws:iam::aws:policy/ReadOnlyAccess").unwrap();
    let bob = format!("arn:aws:iam::{}:user/bob", w.account);
    let out = w
        .iam
        .simulate_principal_policy(&admin, principal(&bob, &["s3:GetObject", "s3:DeleteObject", "s3:PutObject"]))
        .unwrap();
    assert!(!out.is_truncated);
    let r = &out.evaluation_results;
    assert_eq!(r.len(), 3);
    assert_eq!((r[0].eval_action_name.as_str(), r[0].eval_resource_name.as_str()), ("s3:GetObject", "*"));
    assert_eq!(r[0].eval_decision, EvalDecision::Allowed);
    let ids: Vec<(&str, PolicySourceType)> =
        r[0].matched_statements.iter().map(|s| (s.source_policy_id.as_str(), s.source_policy_type)).collect();
    assert!(ids.contains(&("inline", PolicySourceType::User)), "{ids:?}");
    assert!(ids.contains(&("ReadOnlyAccess", PolicySourceType::AwsManaged)), "{ids:?}");
    // The group's deny wins and is the only statement listed, with its position in the text.
    assert_eq!(r[1].eval_decision, EvalDecision::ExplicitDeny);
    assert_eq!(r[1].eval_decision.as_str(), "explicitDeny");
    assert_eq!(r[1].matched_statements.len(), 1);
    let deny = &r[1].matched_statements[0];
    assert_eq!((deny.source_policy_id.as_str(), deny.source_policy_type), ("no-delete", PolicySourceType::Group));
    assert_eq!(deny.start_position, Some(StatementPosition { line: 4, column: 5 }));
    assert_eq!(deny.end_position.map(|p| p.line), Some(4));
    assert_eq!(r[2].eval_decision, EvalDecision::ImplicitDeny);
    assert!(r[2].matched_statements.is_empty());
    assert!(r[0].resource_specific_results.is_empty(), "no ResourceArns: no resource-specific results");
    assert!(r[0].permissions_boundary_decision_detail.is_none());
}

#[test]
fn resources_context_entries_missing_keys_and_pages() {
    let w = World::new();
    let admin = w.admin("admin");
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*","Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"},"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}"#;
    w.user("carol", Some(doc));
    let carol = format!("arn:aws:iam::{}:user/carol", w.account);
    let resources = vec!["arn:aws:s3:::data/a".to_owned(), "arn:aws:s3:::other/b".to_owned()];
    let request = SimulatePrincipalPolicyRequest {
        resource_arns: resources.clone(),
        context_entries: vec![ContextEntry {
            context_key_name: "aws:RequestedRegion".into(),
            context_key_values: vec!["eu-west-1".into()],
            context_key_type: ContextKeyType::String,
        }],
        ..principal(&carol, &["s3:GetObject"])
    };
    let out = w.iam.simulate_principal_policy(&admin, request.clone()).unwrap();
    let r = &out.evaluation_results;
    assert_eq!(r.len(), 2);
    // MFA is not in the context: the allow does not apply, and the key is reported missing.
    assert_eq!(r[0].eval_decision, EvalDecision::ImplicitDeny);
    assert_eq!(r[0].missing_context_values, ["aws:MultiFactorAuthPresent"]);
    assert_eq!(r[0].resource_specific_results.len(), 1);
    assert_eq!(r[0].resource_specific_results[0].eval_resource_name, "arn:aws:s3:::data/a");
    let with_mfa = SimulatePrincipalPolicyRequest {
        context_entries: [
            request.context_entries.clone(),
            vec![ContextEntry {
                context_key_name: "aws:MultiFactorAuthPresent".into(),
                context_key_values: vec!["true".into()],
                context_key_type: ContextKeyType::Boolean,
            }],
        ]
        .concat(),
        ..request.clone()
    };
    let out = w.iam.simulate_principal_policy(&admin, with_mfa.clone()).unwrap();
    let decisions: Vec<EvalDecision> = out.evaluation_results.iter().map(|r| r.eval_decision).collect();
    assert_eq!(decisions, [EvalDecision::Allowed, EvalDecision::ImplicitDeny]);
    assert!(out.evaluation_results[0].missing_context_values.is_empty());
    // One result per page.
    let first = w
        .iam
        .simulate_principal_policy(&admin, SimulatePrincipalPolicyRequest { max_items: Some(1), ..with_mfa.clone() })
        .unwrap();
    assert!(first.is_truncated);
    assert_eq!(first.evaluation_results.len(), 1);
    let second = w
        .iam
        .simulate_principal_policy(
            &admin,
            SimulatePrincipalPolicyRequest { max_items: Some(1), marker: first.marker.clone(), ..with_mfa },
        )
        .unwrap();
    assert!(!second.is_truncated);
    assert_eq!(second.evaluation_results[0].eval_resource_name, "arn:aws:s3:::other/b");
    // A mistyped value is refused.
    let bad = SimulatePrincipalPolicyRequest {
        context_entries: vec![ContextEntry {
            context_key_name: "aws:MultiFactorAuthPresent".into(),
            context_key_values: vec!["maybe".into()],
            context_key_type: ContextKeyType::Boolean,
        }],
        ..request
    };
    assert_eq!(w.iam.simulate_principal_policy(&admin, bad).unwrap_err().code(), "InvalidInput");
}

#[test]
fn a_role_with_a_boundary_and_policy_inputs() {
    let w = World::new();
    let admin = w.admin("admin");
    let root = w.root();
    let role = w
        .iam
        .create_role(
            &root,
            NewRole {
                name: "app".into(),
                assume_role_policy_document: TRUST.into(),
                permissions_boundary: Some("arn:aws:iam::aws:policy/ReadOnlyAccess".into()),
                ..NewRole::default()
            },
        )
        .unwrap();
    w.iam.attach_policy(&root, Entity::Role("app"), "arn:aws:iam::aws:policy/AdministratorAccess").unwrap();
    let out =
        w.iam.simulate_principal_policy(&admin, principal(&role.arn, &["s3:GetObject", "iam:CreateUser"])).unwrap();
    let r = &out.evaluation_results;
    assert_eq!(r[0].eval_decision, EvalDecision::Allowed);
    assert!(r[0].permissions_boundary_decision_detail.unwrap().allowed_by_permissions_boundary);
    assert_eq!(r[1].eval_decision, EvalDecision::ImplicitDeny);
    assert!(!r[1].permissions_boundary_decision_detail.unwrap().allowed_by_permissions_boundary);
    // A boundary given in the request replaces the role's; a policy input adds a deny.
    let request = SimulatePrincipalPolicyRequest {
        permissions_boundary_policy_input_list: vec![allow(&["iam:*"], "*")],
        policy_input_list: vec![DENY_DELETE.to_owned()],
        ..principal(&role.arn, &["s3:GetObject", "iam:CreateUser", "s3:DeleteObject"])
    };
    let out = w.iam.simulate_principal_policy(&admin, request).unwrap();
    let decisions: Vec<EvalDecision> = out.evaluation_results.iter().map(|r| r.eval_decision).collect();
    assert_eq!(decisions, [EvalDecision::ImplicitDeny, EvalDecision::Allowed, EvalDecision::ExplicitDeny]);
    let deny = &out.evaluation_results[2].matched_statements[0];
    assert_eq!(
        (deny.source_policy_id.as_str(), deny.source_policy_type),
        ("PolicyInputList.1", PolicySourceType::None)
    );
    // An unknown source is NoSuchEntity.
    let ghost = format!("arn:aws:iam::{}:role/ghost", w.account);
    assert_eq!(
        w.iam.simulate_principal_policy(&admin, principal(&ghost, &["s3:GetObject"])).unwrap_err().code(),
        "NoSuchEntity"
    );
}

#[test]
fn custom_policies_refuse_wildcards_and_take_a_resource_policy_and_extensions() {
    let w = World::new();
    let admin = w.admin("admin");
    let read = allow(&["s3:GetObject"], "*");
    let e = w.iam.simulate_custom_policy(&admin, custom(&[&read], &["s3:Get*"])).unwrap_err();
    assert_eq!((e.code(), e.status()), ("InvalidInput", 400), "{e}");
    let out = w.iam.simulate_custom_policy(&admin, custom(&[&read], &["s3:GetObject", "s3:PutObject"])).unwrap();
    let decisions: Vec<EvalDecision> = out.evaluation_results.iter().map(|r| r.eval_decision).collect();
    assert_eq!(decisions, [EvalDecision::Allowed, EvalDecision::ImplicitDeny]);
    let m = &out.evaluation_results[0].matched_statements[0];
    assert_eq!((m.source_policy_id.as_str(), m.source_policy_type), ("PolicyInputList.1", PolicySourceType::None));
    // A malformed policy is MalformedPolicyDocument.
    let e = w.iam.simulate_custom_policy(&admin, custom(&["{"], &["s3:GetObject"])).unwrap_err();
    assert_eq!(e.code(), "MalformedPolicyDocument");
    // A resource policy needs a caller; with one, it grants on its own (same account).
    let bucket = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/admin"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*"}]}"#;
    let with_resource = SimulateCustomPolicyRequest {
        resource_policy: Some(bucket.to_owned()),
        resource_arns: vec!["arn:aws:s3:::b/k".into()],
        ..custom(&[&read], &["s3:PutObject"])
    };
    assert_eq!(w.iam.simulate_custom_policy(&admin, with_resource.clone()).unwrap_err().code(), "InvalidInput");
    let as_admin = SimulateCustomPolicyRequest {
        caller_arn: Some(format!("arn:aws:iam::{}:user/admin", w.account)),
        ..with_resource
    };
    let out = w.iam.simulate_custom_policy(&admin, as_admin).unwrap();
    assert_eq!(out.evaluation_results[0].eval_decision, EvalDecision::Allowed);
    assert_eq!(out.evaluation_results[0].matched_statements[0].source_policy_type, PolicySourceType::Resource);
    // Extensions: an SCP level without the action denies; a session policy caps.
    let scp = SimulateCustomPolicyRequest {
        extensions: SimulationExtensions {
            scp_levels: Some(vec![SimulatedOrgLevel { id: "r-root".into(), policies: vec![allow(&["ec2:*"], "*")] }]),
            ..SimulationExtensions::default()
        },
        ..custom(&[&read], &["s3:GetObject"])
    };
    let out = w.iam.simulate_custom_policy(&admin, scp).unwrap();
    assert_eq!(out.evaluation_results[0].eval_decision, EvalDecision::ImplicitDeny);
    assert!(!out.evaluation_results[0].organizations_decision_detail.unwrap().allowed_by_organizations);
    let session = SimulateCustomPolicyRequest {
        extensions: SimulationExtensions {
            session_policies: vec![allow(&["s3:PutObject"], "*")],
            ..Default::default()
        },
        ..custom(&[&read], &["s3:GetObject"])
    };
    assert_eq!(
        w.iam.simulate_custom_policy(&admin, session).unwrap().evaluation_results[0].eval_decision,
        EvalDecision::ImplicitDeny
    );
}

#[test]
fn context_keys_of_principal_and_custom_policies() {
    let w = World::new();
    let admin = w.admin("admin");
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1","s3:prefix":"home/"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}"#;
    w.user("dan", Some(doc));
    let dan = format!("arn:aws:iam::{}:user/dan", w.account);
    let extra = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"},"StringEquals":{"aws:requestedregion":"x"}}}]}"#;
    let keys = w.iam.get_context_keys_for_principal_policy(&admin, &dan, &[extra.to_owned()]).unwrap();
    assert_eq!(keys, ["aws:RequestedRegion", "s3:prefix", "aws:SourceIp", "aws:SecureTransport"]);
    let keys = w.iam.get_context_keys_for_custom_policy(&admin, &[extra.to_owned()]).unwrap();
    assert_eq!(keys, ["aws:SecureTransport", "aws:requestedregion"]);
    assert_eq!(
        w.iam.get_context_keys_for_custom_policy(&admin, &["nope".to_owned()]).unwrap_err().code(),
        "MalformedPolicyDocument"
    );
}

#[test]
fn simulation_is_denied_without_permission_and_allowed_with_it() {
    let w = World::new();
    let nobody = w.user("nobody", None);
    let only_custom =
        w.user("tester", Some(&allow(&["iam:SimulateCustomPolicy", "iam:GetContextKeysForCustomPolicy"], "*")));
    let root = w.root();
    w.iam
        .create_policy(
            &root,
            NewPolicy { name: "p".into(), document: allow(&["s3:GetObject"], "*"), ..NewPolicy::default() },
        )
        .unwrap();
    let user = format!("arn:aws:iam::{}:user/nobody", w.account);
    let read = allow(&["s3:GetObject"], "*");
    for caller in [&nobody, &only_custom] {
        let e = w.iam.simulate_principal_policy(caller, principal(&user, &["s3:GetObject"])).unwrap_err();
        assert_eq!(e.code(), "AccessDenied");
        assert_eq!(
            e.message(),
            format!(
                "User: {} is not authorized to perform: iam:SimulatePrincipalPolicy on resource: {user} because no identity-based policy allows the iam:SimulatePrincipalPolicy action",
                caller.arn()
            )
        );
        let e = w.iam.get_context_keys_for_principal_policy(caller, &user, &[]).unwrap_err();
        assert_eq!(e.code(), "AccessDenied");
    }
    let e = w.iam.simulate_custom_policy(&nobody, custom(&[&read], &["s3:GetObject"])).unwrap_err();
    assert!(
        e.message().ends_with("because no identity-based policy allows the iam:SimulateCustomPolicy action"),
        "{e}"
    );
    assert_eq!(
        w.iam.get_context_keys_for_custom_policy(&nobody, std::slice::from_ref(&read)).unwrap_err().code(),
        "AccessDenied"
    );
    assert!(w.iam.simulate_custom_policy(&only_custom, custom(&[&read], &["s3:GetObject"])).is_ok());
    assert!(w.iam.get_context_keys_for_custom_policy(&only_custom, &[read]).is_ok());
    // The simulator changed nothing.
    assert_eq!(w.iam.list_users(&root, None, &PageRequest::default()).unwrap().items.len(), 2);
}

#[test]
fn the_organizations_actual_scp_chain_is_simulated_on_request() {
    use castellan::Caller;
    use castellan::org::{NewPolicy as OrgPolicy, PolicyType};
    let w = World::new();
    let mgmt = w.root();
    w.iam.create_organization(&mgmt).unwrap();
    let root_id = w.iam.list_roots(&mgmt).unwrap()[0].id.clone();
    let member = w.iam.create_account(&mgmt, "prod", "prod@example.com").unwrap();
    let deny_s3 = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#;
    let scp = w
        .iam
        .create_org_policy(
            &mgmt,
            OrgPolicy {
                name: "no-s3".into(),
                description: String::new(),
                content: deny_s3.into(),
                policy_type: PolicyType::ServiceControlPolicy,
            },
        )
        .unwrap();
    w.iam.attach_org_policy(&mgmt, &scp.id, &root_id).unwrap();
    let member_root = Caller::root(&member.id);
    let user =
        w.iam.create_user(&member_root, castellan::store::NewUser { name: "u".into(), ..Default::default() }).unwrap();
    w.iam.put_inline_policy(&member_root, Entity::User("u"), "all", &allow(&["*"], "*")).unwrap();
    let plain = principal(&user.arn, &["s3:GetObject"]);
    let out = w.iam.simulate_principal_policy(&member_root, plain.clone()).unwrap();
    assert_eq!(out.evaluation_results[0].eval_decision, EvalDecision::Allowed);
    assert!(out.evaluation_results[0].organizations_decision_detail.is_none());
    let with_org = SimulatePrincipalPolicyRequest {
        extensions: SimulationExtensions { include_organization_policies: true, ..Default::default() },
        ..plain
    };
    let out = w.iam.simulate_principal_policy(&member_root, with_org).unwrap();
    let r = &out.evaluation_results[0];
    assert_eq!(r.eval_decision, EvalDecision::ExplicitDeny);
    assert_eq!(r.matched_statements[0].source_policy_id, "no-s3");
    assert!(!r.organizations_decision_detail.unwrap().allowed_by_organizations);
}

#[test]
fn a_session_policy_that_allows_lets_the_identity_policy_through() {
    let w = World::new();
    let admin = w.admin("admin");
    let read = allow(&["s3:GetObject"], "*");
    let session = SimulateCustomPolicyRequest {
        extensions: SimulationExtensions { session_policies: vec![allow(&["s3:*"], "*")], ..Default::default() },
        ..custom(&[&read], &["s3:GetObject", "s3:PutObject"])
    };
    let out = w.iam.simulate_custom_policy(&admin, session).unwrap();
    let decisions: Vec<EvalDecision> = out.evaluation_results.iter().map(|r| r.eval_decision).collect();
    assert_eq!(decisions, [EvalDecision::Allowed, EvalDecision::ImplicitDeny]);
}
