//! SCP and RCP chains of a three-level organization, evaluated with castellan-eval.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use castellan_eval::{Context, ContextValue, Layers, NamedPolicy, OrgLevel, Outcome, Principal, Request, evaluate};
use castellan_org::{
    FULL_AWS_ACCESS_ID, GuardrailLevel, JoinedMethod, NewAccount, NewPolicy, Organization, PolicyType,
    RCP_FULL_AWS_ACCESS_ID,
};
use castellan_policy::{AccountId, Policy, PolicyKind};
use rand::SeedableRng;
use rand::rngs::StdRng;

const MGMT: &str = "111111111111";
/// Root → Workloads → Prod → Payments → account.
const PAY: &str = "222222222222";
/// Root → Workloads → Prod → account.
const PROD: &str = "333333333333";
/// Root → Workloads → account.
const WORK: &str = "444444444444";
/// Root → account.
const TOP: &str = "555555555555";
/// Root → Sandbox → account (its own SCPs allow only EC2).
const SANDBOX: &str = "666666666666";
/// Outside the organization.
const EXTERNAL: &str = "999999999999";

const ADMIN: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

fn deny(action: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Action":"{action}","Resource":"*"}}]}}"#)
}

struct World {
    org: Organization,
    rng: StdRng,
    workloads: String,
    prod: String,
    payments: String,
    admin: Policy,
}

impl World {
    fn policy(&mut self, policy_type: PolicyType, name: &str, content: &str) -> String {
        let new = NewPolicy {
            name: name.to_owned(),
            description: format!("test policy {name}"),
            content: content.to_owned(),
            policy_type,
        };
        self.org.create_policy(new, &mut self.rng).unwrap().id
    }

    fn attach(&mut self, policy_type: PolicyType, name: &str, content: &str, target: &str) -> String {
        let id = self.policy(policy_type, name, content);
        self.org.attach_policy(&id, target).unwrap();
        id
    }

    fn add(&mut self, account: &str, parent: &str) {
        let new = NewAccount {
            id: account.to_owned(),
            name: format!("acct-{account}"),
            email: format!("a{account}@example.com"),
            joined_method: JoinedMethod::Created,
        };
        self.org.add_account(new).unwrap();
        let root = self.org.root().id.clone();
        if parent != root {
            self.org.move_account(account, &root, parent).unwrap();
        }
    }

    fn path(&self, account: &str) -> String {
        self.org.org_path(account).unwrap()
    }
}

fn world() -> World {
    let mut rng = StdRng::seed_from_u64(2024);
    let mut org = Organization::create(MGMT, &mut rng).unwrap();
    let root = org.root().id.clone();
    let workloads = org.create_organizational_unit(&root, "Workloads", &mut rng).unwrap().id;
    let prod = org.create_organizational_unit(&workloads, "Prod", &mut rng).unwrap().id;
    let payments = org.create_organizational_unit(&prod, "Payments", &mut rng).unwrap().id;
    let sandbox = org.create_organizational_unit(&root, "Sandbox", &mut rng).unwrap().id;
    let admin = Policy::parse(ADMIN, PolicyKind::Identity).unwrap();
    let mut w = World { org, rng, workloads: workloads.clone(), prod: prod.clone(), payments: payments.clone(), admin };
    w.add(PAY, &payments);
    w.add(PROD, &prod);
    w.add(WORK, &workloads);
    w.add(TOP, &root);
    w.add(SANDBOX, &sandbox);
    let org_id = w.org.id().to_owned();
    let scp = PolicyType::ServiceControlPolicy;

    // Root: nobody leaves the organization.
    w.attach(scp, "DenyLeave", &deny("organizations:LeaveOrganization"), &root);
    // Workloads: no IAM users, and no writes to buckets outside the organization.
    w.attach(scp, "DenyIamUsers", &deny("iam:CreateUser"), &workloads);
    let perimeter = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Action":"s3:PutObject","Resource":"*",
        "Condition":{{"StringNotEqualsIfExists":{{"aws:ResourceOrgID":"{org_id}"}}}}}}]}}"#
    );
    w.attach(scp, "DataPerimeter", &perimeter, &workloads);
    // Prod: an allow list instead of FullAWSAccess.
    let allow_list = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","ec2:*","kms:*","sts:*","iam:*","organizations:*","dynamodb:*"],"Resource":"*"}]}"#;
    w.attach(scp, "ProdAllowList", allow_list, &prod);
    w.org.detach_policy(FULL_AWS_ACCESS_ID, &prod).unwrap();
    // Payments: buckets are never deleted.
    w.attach(scp, "DenyBucketDelete", &deny("s3:DeleteBucket"), &payments);
    // Sandbox: EC2 in us-east-1 only; the sandbox account itself allows only EC2.
    let region = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ec2:*","Resource":"*",
        "Condition":{"StringNotEquals":{"aws:RequestedRegion":"us-east-1"}}}]}"#;
    w.attach(scp, "DenyOtherRegions", region, &sandbox);
    let ec2_only = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}"#;
    w.attach(scp, "AllowEc2Only", ec2_only, SANDBOX);
    w.org.detach_policy(FULL_AWS_ACCESS_ID, SANDBOX).unwrap();

    // RCPs: S3 only for principals of the organization; KMS keys of Payments only for
    // principals under Payments.
    let rcp = PolicyType::ResourceControlPolicy;
    w.org.enable_policy_type(&root, rcp).unwrap();
    let enforce_org = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*",
        "Condition":{{"StringNotEqualsIfExists":{{"aws:PrincipalOrgID":"{org_id}"}}}}}}]}}"#
    );
    w.attach(rcp, "EnforceOrgIdentities", &enforce_org, &root);
    let pay_path = w.path(PAY);
    let kms_path = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*",
        "Condition":{{"ForAllValues:StringNotLike":{{"aws:PrincipalOrgPaths":"{pay_path}*"}}}}}}]}}"#
    );
    w.attach(rcp, "PaymentsKeysStayInPayments", &kms_path, &payments);
    w
}

/// Who may use a resource, by its resource-based policy.
#[derive(Clone, Copy)]
enum Rp {
    /// No resource policy (same-account access through identity policies).
    None,
    /// Allows the root of one account.
    Account(&'static str),
    /// Allows every principal of the organization (`aws:PrincipalOrgID`).
    Org,
}

fn resource_arn(action: &str, account: &str) -> String {
    match action.split(':').next().unwrap() {
        "s3" => format!("arn:aws:s3:::bucket-{account}/object"),
        "kms" => format!("arn:aws:kms:us-east-1:{account}:key/k1"),
        "sqs" => format!("arn:aws:sqs:us-east-1:{account}:queue"),
        "dynamodb" => format!("arn:aws:dynamodb:us-east-1:{account}:table/t"),
        "lambda" => format!("arn:aws:lambda:us-east-1:{account}:function:f"),
        "ec2" => format!("arn:aws:ec2:us-east-1:{account}:instance/*"),
        "iam" => format!("arn:aws:iam::{account}:user/new"),
        _ => "*".to_owned(),
    }
}

fn resource_policy(rp: Rp, org_id: &str) -> Option<Policy> {
    let text = match rp {
        Rp::None => return None,
        Rp::Account(account) => format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":"*","Resource":"*"}}]}}"#
        ),
        Rp::Org => format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*",
            "Condition":{{"StringEquals":{{"aws:PrincipalOrgID":"{org_id}"}}}}}}]}}"#
        ),
    };
    Some(Policy::parse(&text, PolicyKind::Resource).unwrap())
}

fn levels(chain: &Option<Vec<GuardrailLevel>>) -> Option<Vec<OrgLevel<'_>>> {
    chain.as_ref().map(|levels| {
        levels
            .iter()
            .map(|level| OrgLevel {
                id: &level.id,
                policies: level.policies.iter().map(|p| NamedPolicy { id: &p.id, policy: &p.policy }).collect(),
            })
            .collect()
    })
}

/// A request by `principal_arn` (with `role_arn` for sessions) on the resource of
/// `resource_account`, with the organization's chains and keys, evaluated.
fn decide_as(
    w: &World,
    principal_arn: &str,
    role_arn: Option<&str>,
    action: &str,
    resource_account: &str,
    rp: Rp,
    region: &str,
) -> Outcome {
    let principal = Principal::from_arn(principal_arn, role_arn).unwrap();
    let principal_account = principal.account.unwrap().to_string();
    let mut context = Context::new();
    principal.fill_context(&mut context);
    context.set("aws:RequestedRegion", region);
    context.set("aws:ResourceAccount", resource_account);
    if let Some(keys) = w.org.org_keys(&principal_account) {
        context.set("aws:PrincipalOrgID", &keys.org_id);
        context.insert("aws:PrincipalOrgPaths", ContextValue::multi([keys.org_path.as_str()]));
    }
    if let Some(keys) = w.org.org_keys(resource_account) {
        context.set("aws:ResourceOrgID", &keys.org_id);
        context.insert("aws:ResourceOrgPaths", ContextValue::multi([keys.org_path.as_str()]));
    }
    let resource = resource_arn(action, resource_account);
    let request = Request {
        principal: &principal,
        action,
        resource: &resource,
        resource_account: Some(AccountId::parse(resource_account).unwrap()),
        context: &context,
    };
    let scp_arn = principal.principal_arn().map(|a| a.as_str().to_owned()).unwrap();
    let scp = w.org.scp_chain_for_principal(&scp_arn);
    let rcp = w.org.rcp_chain(resource_account);
    let rp_policy = resource_policy(rp, w.org.id());
    let layers = Layers {
        identity: vec![NamedPolicy { id: "admin", policy: &w.admin }],
        resource: rp_policy.iter().map(|p| NamedPolicy { id: "resource", policy: p }).collect(),
        scp: levels(&scp),
        rcp: levels(&rcp),
        ..Layers::default()
    };
    evaluate(&request, &layers).outcome
}

fn user(account: &str) -> String {
    format!("arn:aws:iam::{account}:user/alice")
}

fn decide(w: &World, account: &str, action: &str, resource_account: &str, rp: Rp) -> Outcome {
    decide_as(w, &user(account), None, action, resource_account, rp, "us-east-1")
}

use Outcome::{Allow, ExplicitDeny, ImplicitDeny};

/// (principal account, action, resource account, resource policy, expected)
type Case = (&'static str, &'static str, &'static str, Rp, Outcome);

const CASES: &[Case] = &[
    // Payments account: every level allows what the Prod allow list names.
    (PAY, "s3:GetObject", PAY, Rp::None, Allow),
    (PAY, "s3:DeleteBucket", PAY, Rp::None, ExplicitDeny),
    (PAY, "organizations:LeaveOrganization", PAY, Rp::None, ExplicitDeny),
    (PAY, "iam:CreateUser", PAY, Rp::None, ExplicitDeny),
    (PAY, "sqs:SendMessage", PAY, Rp::None, ImplicitDeny),
    (PAY, "ec2:RunInstances", PAY, Rp::None, Allow),
    (PAY, "kms:Decrypt", PAY, Rp::None, Allow),
    (PAY, "s3:PutObject", PAY, Rp::None, Allow),
    (PAY, "s3:PutObject", EXTERNAL, Rp::Account(PAY), ExplicitDeny),
    (PAY, "dynamodb:GetItem", PAY, Rp::None, Allow),
    (PAY, "lambda:InvokeFunction", PAY, Rp::None, ImplicitDeny),
    // Prod account: the allow list, but not the Payments deny nor the Payments RCP.
    (PROD, "sqs:SendMessage", PROD, Rp::None, ImplicitDeny),
    (PROD, "s3:DeleteBucket", PROD, Rp::None, Allow),
    (PROD, "s3:GetObject", PROD, Rp::None, Allow),
    (PROD, "iam:CreateUser", PROD, Rp::None, ExplicitDeny),
    (PROD, "kms:Decrypt", PAY, Rp::Account(PROD), ExplicitDeny),
    (PROD, "kms:Decrypt", PROD, Rp::None, Allow),
    (PROD, "s3:GetObject", PAY, Rp::Org, Allow),
    // Workloads account: FullAWSAccess at every level.
    (WORK, "sqs:SendMessage", WORK, Rp::None, Allow),
    (WORK, "iam:CreateUser", WORK, Rp::None, ExplicitDeny),
    (WORK, "s3:PutObject", WORK, Rp::None, Allow),
    (WORK, "s3:PutObject", EXTERNAL, Rp::Account(WORK), ExplicitDeny),
    (WORK, "s3:PutObject", TOP, Rp::Org, Allow),
    (WORK, "organizations:LeaveOrganization", WORK, Rp::None, ExplicitDeny),
    (WORK, "s3:GetObject", PAY, Rp::Org, Allow),
    (WORK, "lambda:InvokeFunction", WORK, Rp::None, Allow),
    // An account directly under the root.
    (TOP, "sqs:SendMessage", TOP, Rp::None, Allow),
    (TOP, "iam:CreateUser", TOP, Rp::None, Allow),
    (TOP, "s3:PutObject", EXTERNAL, Rp::Account(TOP), Allow),
    (TOP, "organizations:LeaveOrganization", TOP, Rp::None, ExplicitDeny),
    // The sandbox account allows only EC2 at its own level.
    (SANDBOX, "ec2:RunInstances", SANDBOX, Rp::None, Allow),
    (SANDBOX, "s3:GetObject", SANDBOX, Rp::None, ImplicitDeny),
    (SANDBOX, "sqs:SendMessage", SANDBOX, Rp::None, ImplicitDeny),
    (SANDBOX, "organizations:LeaveOrganization", SANDBOX, Rp::None, ExplicitDeny),
    // The management account: no SCP applies, and RCPs do not protect its resources.
    (MGMT, "organizations:LeaveOrganization", MGMT, Rp::None, Allow),
    (MGMT, "iam:CreateUser", MGMT, Rp::None, Allow),
    (MGMT, "sqs:SendMessage", MGMT, Rp::None, Allow),
    (MGMT, "s3:GetObject", PAY, Rp::Org, Allow),
    // ... but the RCPs of member accounts do apply to its principals.
    (MGMT, "kms:Decrypt", PAY, Rp::Account(MGMT), ExplicitDeny),
    (MGMT, "kms:Decrypt", PROD, Rp::Account(MGMT), Allow),
    // External principals: RCPs deny S3 on every member account's buckets.
    (EXTERNAL, "s3:GetObject", PAY, Rp::Account(EXTERNAL), ExplicitDeny),
    (EXTERNAL, "s3:GetObject", TOP, Rp::Account(EXTERNAL), ExplicitDeny),
    (EXTERNAL, "s3:GetObject", MGMT, Rp::Account(EXTERNAL), Allow),
    (EXTERNAL, "sqs:SendMessage", PAY, Rp::Account(EXTERNAL), Allow),
    (EXTERNAL, "s3:GetObject", EXTERNAL, Rp::None, Allow),
    (EXTERNAL, "kms:Decrypt", PAY, Rp::Account(EXTERNAL), ExplicitDeny),
    // The RCP's deny comes first, whatever the bucket policy says.
    (EXTERNAL, "s3:GetObject", PAY, Rp::Org, ExplicitDeny),
    // Outside the RCP's services, the org-only queue policy just does not grant.
    (EXTERNAL, "sqs:SendMessage", PAY, Rp::Org, ImplicitDeny),
    (TOP, "sqs:SendMessage", PAY, Rp::Org, Allow),
];

#[test]
fn requests_across_the_tree() {
    let w = world();
    assert!(CASES.len() >= 40);
    let mut failures = Vec::new();
    for (i, &(account, action, resource_account, rp, expected)) in CASES.iter().enumerate() {
        let got = decide(&w, account, action, resource_account, rp);
        if got != expected {
            failures
                .push(format!("case {i}: {account} {action} on {resource_account}: expected {expected}, got {got}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn chains_follow_the_tree() {
    let w = world();
    let chain = w.org.scp_chain(PAY).unwrap();
    let ids: Vec<_> = chain.iter().map(|l| l.id.clone()).collect();
    assert_eq!(ids, vec![w.org.root().id.clone(), w.workloads.clone(), w.prod.clone(), w.payments.clone(), PAY.into()]);
    let prod_names: Vec<_> = chain[2].policies.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(prod_names, vec!["ProdAllowList"]);
    let rcp = w.org.rcp_chain(PAY).unwrap();
    assert_eq!(rcp.len(), 5);
    assert!(rcp.iter().all(|l| l.policies.iter().any(|p| p.id == RCP_FULL_AWS_ACCESS_ID)));
    assert!(w.org.scp_chain(MGMT).is_none() && w.org.rcp_chain(MGMT).is_none());
    assert!(w.org.scp_chain(EXTERNAL).is_none() && w.org.rcp_chain(EXTERNAL).is_none());
    let root = &w.org.root().id;
    assert_eq!(w.path(PAY), format!("{}/{root}/{}/{}/{}/", w.org.id(), w.workloads, w.prod, w.payments));
}

#[test]
fn region_condition_in_an_ou_scp() {
    let w = world();
    let arn = user(SANDBOX);
    assert_eq!(decide_as(&w, &arn, None, "ec2:RunInstances", SANDBOX, Rp::None, "eu-west-1"), ExplicitDeny);
    assert_eq!(decide_as(&w, &arn, None, "ec2:RunInstances", SANDBOX, Rp::None, "us-east-1"), Allow);
    // The region rule is the Sandbox OU's alone.
    assert_eq!(decide_as(&w, &user(PAY), None, "ec2:RunInstances", PAY, Rp::None, "eu-west-1"), Allow);
}

#[test]
fn member_root_users_and_roles_are_capped_but_service_linked_roles_are_not() {
    let w = world();
    let root = format!("arn:aws:iam::{PAY}:root");
    assert_eq!(decide_as(&w, &root, None, "s3:GetObject", PAY, Rp::None, "us-east-1"), Allow);
    assert_eq!(decide_as(&w, &root, None, "iam:CreateUser", PAY, Rp::None, "us-east-1"), ExplicitDeny);
    assert_eq!(decide_as(&w, &root, None, "sqs:SendMessage", PAY, Rp::None, "us-east-1"), ImplicitDeny);
    let session = format!("arn:aws:sts::{PAY}:assumed-role/Deployer/s1");
    let role = format!("arn:aws:iam::{PAY}:role/Deployer");
    assert_eq!(decide_as(&w, &session, Some(&role), "sqs:SendMessage", PAY, Rp::None, "us-east-1"), ImplicitDeny);
    let slr_session = format!("arn:aws:sts::{PAY}:assumed-role/AWSServiceRoleForQueues/s1");
    let slr = format!("arn:aws:iam::{PAY}:role/aws-service-role/sqs.amazonaws.com/AWSServiceRoleForQueues");
    assert_eq!(decide_as(&w, &slr_session, Some(&slr), "sqs:SendMessage", PAY, Rp::None, "us-east-1"), Allow);
    assert_eq!(decide_as(&w, &slr_session, Some(&slr), "iam:CreateUser", PAY, Rp::None, "us-east-1"), Allow);
}

#[test]
fn detaching_full_aws_access_at_one_ou() {
    let mut w = world();
    let workloads = w.workloads.clone();
    let s3_only = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
    w.attach(PolicyType::ServiceControlPolicy, "WorkloadsS3Only", s3_only, &workloads);
    assert_eq!(decide(&w, WORK, "sqs:SendMessage", WORK, Rp::None), Allow);
    w.org.detach_policy(FULL_AWS_ACCESS_ID, &workloads).unwrap();
    // Below Workloads, only S3 is left.
    assert_eq!(decide(&w, WORK, "sqs:SendMessage", WORK, Rp::None), ImplicitDeny);
    assert_eq!(decide(&w, WORK, "s3:GetObject", WORK, Rp::None), Allow);
    assert_eq!(decide(&w, PAY, "ec2:RunInstances", PAY, Rp::None), ImplicitDeny);
    assert_eq!(decide(&w, PAY, "s3:GetObject", PAY, Rp::None), Allow);
    // Elsewhere nothing changed.
    assert_eq!(decide(&w, TOP, "sqs:SendMessage", TOP, Rp::None), Allow);
    assert_eq!(decide(&w, SANDBOX, "ec2:RunInstances", SANDBOX, Rp::None), Allow);
    // Attaching it again restores the access.
    w.org.attach_policy(FULL_AWS_ACCESS_ID, &workloads).unwrap();
    assert_eq!(decide(&w, WORK, "sqs:SendMessage", WORK, Rp::None), Allow);
}

#[test]
fn a_deny_at_the_root_cannot_touch_the_management_account() {
    let mut w = world();
    let root = w.org.root().id.clone();
    w.attach(PolicyType::ServiceControlPolicy, "DenyAll", &deny("*"), &root);
    w.attach(PolicyType::ServiceControlPolicy, "DenyAllHere", &deny("*"), MGMT);
    assert_eq!(decide(&w, MGMT, "sqs:SendMessage", MGMT, Rp::None), Allow);
    assert_eq!(decide(&w, TOP, "sqs:SendMessage", TOP, Rp::None), ExplicitDeny);
    assert_eq!(decide(&w, PAY, "s3:GetObject", PAY, Rp::None), ExplicitDeny);
}

#[test]
fn moving_an_account_changes_its_chain_and_paths() {
    let mut w = world();
    assert_eq!(decide(&w, PROD, "sqs:SendMessage", PROD, Rp::None), ImplicitDeny);
    let (prod, root) = (w.prod.clone(), w.org.root().id.clone());
    w.org.move_account(PROD, &prod, &root).unwrap();
    assert_eq!(decide(&w, PROD, "sqs:SendMessage", PROD, Rp::None), Allow);
    assert_eq!(decide(&w, PROD, "iam:CreateUser", PROD, Rp::None), Allow);
    // Moved under Payments, its principals may use Payments keys.
    let payments = w.payments.clone();
    assert_eq!(decide(&w, PROD, "kms:Decrypt", PAY, Rp::Account(PROD)), ExplicitDeny);
    w.org.move_account(PROD, &root, &payments).unwrap();
    assert_eq!(decide(&w, PROD, "kms:Decrypt", PAY, Rp::Account(PROD)), Allow);
}

#[test]
fn disabling_rcps_lifts_the_resource_guardrails() {
    let mut w = world();
    assert_eq!(decide(&w, EXTERNAL, "s3:GetObject", PAY, Rp::Account(EXTERNAL)), ExplicitDeny);
    let root = w.org.root().id.clone();
    w.org.disable_policy_type(&root, PolicyType::ResourceControlPolicy).unwrap();
    assert!(w.org.rcp_chain(PAY).is_none());
    assert_eq!(decide(&w, EXTERNAL, "s3:GetObject", PAY, Rp::Account(EXTERNAL)), Allow);
    assert_eq!(decide(&w, PROD, "kms:Decrypt", PAY, Rp::Account(PROD)), Allow);
    // SCPs still apply.
    assert_eq!(decide(&w, PAY, "sqs:SendMessage", PAY, Rp::None), ImplicitDeny);
}

#[test]
fn a_removed_account_leaves_the_guardrails() {
    let mut w = world();
    assert_eq!(decide(&w, SANDBOX, "sqs:SendMessage", SANDBOX, Rp::None), ImplicitDeny);
    w.org.remove_account(SANDBOX).unwrap();
    assert_eq!(decide(&w, SANDBOX, "sqs:SendMessage", SANDBOX, Rp::None), Allow);
    // It is now outside: member buckets refuse it.
    assert_eq!(decide(&w, SANDBOX, "s3:GetObject", PAY, Rp::Account(SANDBOX)), ExplicitDeny);
}

#[test]
fn the_organization_survives_a_round_trip() {
    let w = world();
    let json = serde_json::to_string(&w.org).unwrap();
    let org: Organization = serde_json::from_str(&json).unwrap();
    let restored = World { org, ..w };
    for &(account, action, resource_account, rp, expected) in CASES {
        assert_eq!(decide(&restored, account, action, resource_account, rp), expected, "{account} {action}");
    }
}
