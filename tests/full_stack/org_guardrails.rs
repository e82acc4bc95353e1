//! An organization three OU levels deep, built through the facade, and a table of requests
//! checked against the decisions its SCPs and RCPs should give (root → Workloads → Prod →
//! Payments).

use castellan::org::{NewPolicy, PolicyType};
use castellan::policy::{Policy, PolicyKind};
use castellan::store::{Entity, NewUser, Tag};
use castellan::{Access, Caller};

use crate::common::World;

const MGMT: &str = "111111111111";

fn policy(w: &World, kind: PolicyType, name: &str, content: &str) -> String {
    let new = NewPolicy { name: name.into(), description: String::new(), content: content.into(), policy_type: kind };
    w.iam.create_org_policy(&w.root(), new).unwrap().id
}

fn scp(w: &World, name: &str, content: &str, target: &str) {
    let id = policy(w, PolicyType::ServiceControlPolicy, name, content);
    w.iam.attach_org_policy(&w.root(), &id, target).unwrap();
}

/// An administrator user in `account`, tagged `team=TEAM`.
fn admin(w: &World, account: &str, team: &str) -> Caller {
    let root = Caller::root(account);
    w.iam
        .create_user(&root, NewUser { name: "admin".into(), tags: vec![Tag::new("team", team)], ..NewUser::default() })
        .unwrap();
    w.iam.attach_policy(&root, Entity::User("admin"), "arn:aws:iam::aws:policy/AdministratorAccess").unwrap();
    Caller::user(account, "admin")
}

struct Org {
    w: World,
    org_id: String,
    pay: String,
    top: String,
    sandbox: String,
    /// (pay admin tagged payments, pay dev tagged web, prod, work, top, sandbox, external, mgmt).
    admins: [Caller; 8],
}

fn organization() -> Org {
    let w = World::with_account(MGMT);
    let m = w.root();
    let org_id = w.iam.create_organization(&m).unwrap().id;
    let root = w.iam.list_roots(&m).unwrap()[0].id.clone();
    let workloads = w.iam.create_organizational_unit(&m, &root, "Workloads").unwrap().id;
    let prod_ou = w.iam.create_organizational_unit(&m, &workloads, "Prod").unwrap().id;
    let payments = w.iam.create_organizational_unit(&m, &prod_ou, "Payments").unwrap().id;
    let sandbox_ou = w.iam.create_organizational_unit(&m, &root, "Sandbox").unwrap().id;
    let account = |name: &str, parent: &str| {
        let id = w.iam.create_account(&m, name, &format!("{name}@example.com")).unwrap().id;
        if parent != root {
            w.iam.move_account(&m, &id, &root, parent).unwrap();
        }
        id
    };
    let pay = account("pay", &payments);
    let prod = account("prod", &prod_ou);
    let work = account("work", &workloads);
    let top = account("top", &root);
    let sandbox = account("sandbox", &sandbox_ou);
    let external = account("external", &root);
    w.iam.remove_account_from_organization(&m, &external).unwrap();
    // The users come first: once the SCPs are attached, the sandbox's root may not create them.
    let admins = [
        admin(&w, &pay, "payments"),
        {
            let root = Caller::root(&pay);
            w.iam
                .create_user(
                    &root,
                    NewUser { name: "dev".into(), tags: vec![Tag::new("team", "web")], ..NewUser::default() },
                )
                .unwrap();
            w.iam.attach_policy(&root, Entity::User("dev"), "arn:aws:iam::aws:policy/AdministratorAccess").unwrap();
            Caller::user(&pay, "dev")
        },
        admin(&w, &prod, "web"),
        admin(&w, &work, "web"),
        admin(&w, &top, "web"),
        admin(&w, &sandbox, "web"),
        admin(&w, &external, "web"),
        admin(&w, MGMT, "web"),
    ];

    // Root: nobody leaves the organization.
    scp(
        &w,
        "deny-leave",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}"#,
        &root,
    );
    // Workloads: two regions only, global services excepted.
    scp(
        &w,
        "regions",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":["iam:*","sts:*","organizations:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1","us-east-1"]}}}]}"#,
        &workloads,
    );
    // Prod: an allow list instead of FullAWSAccess.
    scp(
        &w,
        "prod-allow",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","ec2:*","iam:*","sts:*","dynamodb:*"],"Resource":"*"}]}"#,
        &prod_ou,
    );
    w.iam.detach_org_policy(&m, castellan::org::FULL_AWS_ACCESS_ID, &prod_ou).unwrap();
    // Payments: no bucket deletion; EC2 only for the payments team.
    scp(
        &w,
        "payments",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"},{"Effect":"Deny","Action":"ec2:*","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalTag/team":"payments"}}}]}"#,
        &payments,
    );
    // Sandbox: EC2 only.
    scp(
        &w,
        "sandbox-ec2",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}"#,
        &sandbox_ou,
    );
    w.iam.detach_org_policy(&m, castellan::org::FULL_AWS_ACCESS_ID, &sandbox_ou).unwrap();
    // RCPs: the payments accounts' S3 data stays inside the organization.
    w.iam.enable_policy_type(&m, &root, PolicyType::ResourceControlPolicy).unwrap();
    let rcp = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{{"StringNotEqualsIfExists":{{"aws:PrincipalOrgID":"{org_id}"}}}}}}]}}"#
    );
    let rcp_id = policy(&w, PolicyType::ResourceControlPolicy, "org-only-s3", &rcp);
    w.iam.attach_org_policy(&m, &rcp_id, &payments).unwrap();
    Org { w, org_id, pay, top, sandbox, admins }
}

#[test]
fn a_three_level_organization_decides_as_its_scps_and_rcps_say() {
    let o = organization();
    let w = &o.w;
    let [pay_admin, pay_other, prod_admin, work_admin, top_admin, sandbox_admin, external_admin, mgmt_admin] =
        o.admins.clone();
    let bucket = format!("arn:aws:s3:::payments-data-{}", o.pay);

    let eu = |c: &Caller| c.clone().in_region("eu-west-1");
    let ap = |c: &Caller| c.clone().in_region("ap-southeast-2");
    let ue = |c: &Caller| c.clone().in_region("us-east-1");
    // (who, action, resource, allowed?)
    let cases: Vec<(Caller, &str, &str, bool)> = vec![
        // Payments (root → Workloads → Prod → Payments → account).
        (eu(&pay_admin), "s3:GetObject", "arn:aws:s3:::b/k", true),
        (eu(&pay_admin), "s3:PutObject", "arn:aws:s3:::b/k", true),
        (eu(&pay_admin), "s3:DeleteBucket", "arn:aws:s3:::b", false),
        (eu(&pay_admin), "ec2:RunInstances", "*", true),
        (eu(&pay_other), "ec2:RunInstances", "*", false),
        (eu(&pay_other), "s3:GetObject", "arn:aws:s3:::b/k", true),
        (eu(&pay_admin), "dynamodb:GetItem", "*", true),
        (eu(&pay_admin), "lambda:InvokeFunction", "*", false),
        (eu(&pay_admin), "sqs:SendMessage", "*", false),
        (ap(&pay_admin), "s3:GetObject", "arn:aws:s3:::b/k", false),
        (ap(&pay_admin), "iam:CreateUser", "*", true),
        (ue(&pay_admin), "ec2:DescribeInstances", "*", true),
        (eu(&pay_admin), "organizations:LeaveOrganization", "*", false),
        (eu(&Caller::root(&o.pay)), "s3:DeleteBucket", "arn:aws:s3:::b", false),
        (eu(&Caller::root(&o.pay)), "lambda:InvokeFunction", "*", false),
        (eu(&Caller::root(&o.pay)), "s3:ListBucket", "arn:aws:s3:::b", true),
        // Prod (root → Workloads → Prod → account).
        (eu(&prod_admin), "s3:DeleteBucket", "arn:aws:s3:::b", true),
        (eu(&prod_admin), "ec2:RunInstances", "*", true),
        (eu(&prod_admin), "lambda:InvokeFunction", "*", false),
        (eu(&prod_admin), "dynamodb:PutItem", "*", true),
        (ap(&prod_admin), "ec2:RunInstances", "*", false),
        (ap(&prod_admin), "sts:GetSessionToken", "*", true),
        (eu(&prod_admin), "organizations:LeaveOrganization", "*", false),
        // Workloads (root → Workloads → account).
        (eu(&work_admin), "lambda:InvokeFunction", "*", true),
        (ue(&work_admin), "sqs:SendMessage", "*", true),
        (ap(&work_admin), "sqs:SendMessage", "*", false),
        (ap(&work_admin), "iam:ListUsers", "*", true),
        (eu(&work_admin), "organizations:LeaveOrganization", "*", false),
        (eu(&work_admin), "s3:DeleteBucket", "arn:aws:s3:::b", true),
        // Directly under the root.
        (ap(&top_admin), "lambda:InvokeFunction", "*", true),
        (ap(&top_admin), "s3:DeleteBucket", "arn:aws:s3:::b", true),
        (eu(&top_admin), "organizations:LeaveOrganization", "*", false),
        // Sandbox: EC2 only.
        (eu(&sandbox_admin), "ec2:RunInstances", "*", true),
        (ap(&sandbox_admin), "ec2:RunInstances", "*", true),
        (eu(&sandbox_admin), "s3:GetObject", "arn:aws:s3:::b/k", false),
        (eu(&sandbox_admin), "iam:CreateUser", "*", false),
        (eu(&Caller::root(&o.sandbox)), "s3:GetObject", "arn:aws:s3:::b/k", false),
        // The management account is not bound by SCPs.
        (ap(&mgmt_admin), "lambda:InvokeFunction", "*", true),
        (eu(&mgmt_admin), "organizations:LeaveOrganization", "*", true),
        (ap(&Caller::root(MGMT)), "s3:DeleteBucket", "arn:aws:s3:::b", true),
        // Outside the organization: nothing applies.
        (ap(&external_admin), "lambda:InvokeFunction", "*", true),
        (eu(&external_admin), "organizations:LeaveOrganization", "*", true),
    ];
    assert!(cases.len() >= 40);
    let mut wrong = Vec::new();
    for (i, (caller, action, resource, allowed)) in cases.iter().enumerate() {
        let decision = w.iam.authorize(caller, &Access::new(action, resource)).unwrap();
        if decision.is_allowed() != *allowed {
            wrong.push(format!(
                "#{i} {} {action} on {resource}: {:?} {}",
                caller.arn(),
                decision.decision.outcome,
                decision.message
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    // RCP: the payments bucket (a resource of the payments account) with a bucket policy open to
    // any principal; the RCP keeps principals outside the organization out.
    let open = Policy::parse(
        &format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"{bucket}/*"}}]}}"#),
        PolicyKind::Resource,
    )
    .unwrap();
    let object = format!("{bucket}/report.csv");
    let get = |caller: &Caller| {
        let access = Access {
            resource_policy: Some(&open),
            resource_account: Some(&o.pay),
            ..Access::new("s3:GetObject", &object)
        };
        w.iam.authorize(&caller.clone().in_region("eu-west-1"), &access).unwrap()
    };
    let outside = get(&external_admin);
    assert!(!outside.is_allowed());
    assert!(outside.message.contains("resource control policy"), "{}", outside.message);
    assert!(get(&prod_admin).is_allowed(), "an organization member from another account");
    assert!(get(&pay_admin).is_allowed());
    // The org keys reach conditions: the member's principal org id.
    let keyed = Policy::parse(
        &format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{{"StringEquals":{{"aws:PrincipalOrgID":"{}"}}}}}}]}}"#, o.org_id),
        PolicyKind::Resource,
    )
    .unwrap();
    let in_top = Access {
        resource_policy: Some(&keyed),
        resource_account: Some(&o.top),
        ..Access::new("s3:GetObject", "arn:aws:s3:::top-bucket/k")
    };
    assert!(w.iam.authorize(&eu(&prod_admin), &in_top).unwrap().is_allowed());
    assert!(!w.iam.authorize(&eu(&external_admin), &in_top).unwrap().is_allowed());
}
