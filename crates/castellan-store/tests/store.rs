//! The store's behaviour through its public API, as one suite generic over [`Store`]: every backend runs it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;

use castellan_credentials::FixedClock;
use castellan_policy::AccountId;
use castellan_store::{
    DurableStore, Entity, ErrorCode, MemoryStore, NewPolicy, NewRole, NewUser, PageRequest, PolicyScope, Store,
    StoreError, Tag,
};
use rand::SeedableRng;
use rand::rngs::StdRng;

const ACCOUNT: &str = "123456789012";
const NOW: i64 = 1_700_000_000;

const DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
const DOC2: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#;
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// Generates one `#[test]` per check of the suite for a backend built by `$make`.
macro_rules! store_suite {
    ($backend:ident, $make:expr) => {
        mod $backend {
            use super::*;
            store_suite!(@tests $make;
                users_create_get_list_delete, names_are_unique_without_regard_to_case, name_and_path_validation,
                groups_and_membership, groups_per_user_quota, roles_create_and_rules, trust_policy_is_validated,
                managed_policies_and_versions, policy_versions_quota, policy_size_quota, attach_and_detach,
                attached_policies_quota, inline_policies_and_size_quotas, tags_on_users_and_roles, tags_quota,
                pagination, path_prefix_listing, deletion_preconditions, failed_operations_change_nothing,
                errors_carry_code_status_and_message, unique_ids_and_arns, permissions_boundary,
                aws_managed_policies_read_only, aws_managed_policies_attach_and_quota, aws_managed_policies_listing,
                trust_principals_are_unique_ids, update_assume_role_policy);
        }
    };
    (@tests $make:expr; $($name:ident),*) => {
        $(#[test] fn $name() { super::$name(&$make()); })*
    };
}

fn memory_store() -> MemoryStore {
    MemoryStore::new(AccountId::parse(ACCOUNT).unwrap(), Arc::new(FixedClock::new(NOW)), StdRng::seed_from_u64(7))
}

store_suite!(memory, memory_store);

/// A fresh, unique data directory under the system's temporary directory.
fn temp_dir() -> std::path::PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("castellan-store-suite-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn durable_store() -> DurableStore {
    DurableStore::open(
        temp_dir(),
        AccountId::parse(ACCOUNT).unwrap(),
        Arc::new(FixedClock::new(NOW)),
        StdRng::seed_from_u64(7),
    )
    .unwrap()
}

store_suite!(durable, durable_store);

fn code<T: std::fmt::Debug>(result: Result<T, StoreError>) -> ErrorCode {
    result.expect_err("expected an error").code()
}

fn user(s: &impl Store, name: &str) {
    s.create_user(NewUser { name: name.into(), ..NewUser::default() }).unwrap();
}

fn role(name: &str) -> NewRole {
    NewRole { name: name.into(), assume_role_policy_document: TRUST.into(), ..NewRole::default() }
}

fn policy(s: &impl Store, name: &str) -> String {
    s.create_policy(NewPolicy { name: name.into(), document: DOC.into(), ..NewPolicy::default() }).unwrap().arn
}

fn policy_doc_of_size(size: usize) -> String {
    // The action name pads the document to the size wanted.
    let head = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:"#;
    let tail = r#"","Resource":"*"}]}"#;
    let pad = size - castellan_policy::iam_size(head) - castellan_policy::iam_size(tail);
    let doc = format!("{head}{}{tail}", "a".repeat(pad));
    assert_eq!(castellan_policy::iam_size(&doc), size);
    doc
}

fn users_create_get_list_delete(s: &impl Store) {
    let u = s
        .create_user(NewUser {
            name: "alice".into(),
            path: Some("/eng/".into()),
            tags: vec![Tag::new("team", "a")],
            ..NewUser::default()
        })
        .unwrap();
    assert_eq!(u.arn, "arn:aws:iam::123456789012:user/eng/alice");
    assert_eq!(u.create_date.seconds, NOW);
    assert_eq!(s.user("alice").unwrap(), u);
    assert_eq!(s.user("ALICE").unwrap().name.as_str(), "alice");
    user(s, "bob");
    let names: Vec<_> =
        s.list_users(None, &PageRequest::default()).unwrap().items.into_iter().map(|u| u.name).collect();
    assert_eq!(names.iter().map(|n| n.as_str()).collect::<Vec<_>>(), ["alice", "bob"]);
    s.delete_user("alice").unwrap();
    assert_eq!(code(s.user("alice")), ErrorCode::NoSuchEntity);
    assert_eq!(code(s.delete_user("alice")), ErrorCode::NoSuchEntity);
}

fn names_are_unique_without_regard_to_case(s: &impl Store) {
    user(s, "Alice");
    let e = s.create_user(NewUser { name: "alice".into(), ..NewUser::default() }).unwrap_err();
    assert_eq!(e.code(), ErrorCode::EntityAlreadyExists);
    assert_eq!(e.to_string(), "User with name alice already exists.");
    s.create_group("Admins", None).unwrap();
    assert_eq!(code(s.create_group("ADMINS", None)), ErrorCode::EntityAlreadyExists);
    s.create_role(role("Deployer")).unwrap();
    assert_eq!(code(s.create_role(role("deployer"))), ErrorCode::EntityAlreadyExists);
    policy(s, "ReadOnly");
    assert_eq!(
        code(s.create_policy(NewPolicy { name: "readonly".into(), document: DOC.into(), ..NewPolicy::default() })),
        ErrorCode::EntityAlreadyExists
    );
    // A user and a role may share a name.
    s.create_role(role("Alice")).unwrap();
}

fn name_and_path_validation(s: &impl Store) {
    let long = "a".repeat(65);
    for name in ["", "bad name", "bad/name", long.as_str()] {
        let e = s.create_user(NewUser { name: name.into(), ..NewUser::default() }).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ValidationError, "{name}");
        assert_eq!(e.http_status(), 400);
        assert!(e.message().starts_with("1 validation error detected: Value '"), "{e}");
    }
    user(s, &"a".repeat(64));
    user(s, "a+=,.@-_9");
    s.create_group(&"g".repeat(128), None).unwrap();
    assert_eq!(code(s.create_group(&"g".repeat(129), None)), ErrorCode::ValidationError);
    assert_eq!(code(s.create_role(role(&"r".repeat(65)))), ErrorCode::ValidationError);
    for path in ["eng/", "/eng", "//x", "/a b/", "/é/"] {
        let r = s.create_user(NewUser { name: "p".into(), path: Some(path.into()), ..NewUser::default() });
        assert_eq!(code(r), ErrorCode::ValidationError, "{path}");
    }
    let long_path = format!("/{}/", "x".repeat(511));
    assert_eq!(
        code(s.create_user(NewUser { name: "p".into(), path: Some(long_path), ..NewUser::default() })),
        ErrorCode::ValidationError
    );
    s.create_user(NewUser { name: "p".into(), path: Some("/a/b~!/".into()), ..NewUser::default() }).unwrap();
    let bad_policy_path =
        NewPolicy { name: "p".into(), path: Some("/a~/".into()), document: DOC.into(), ..NewPolicy::default() };
    assert_eq!(code(s.create_policy(bad_policy_path)), ErrorCode::ValidationError);
}

fn groups_and_membership(s: &impl Store) {
    let g = s.create_group("devs", Some("/eng/")).unwrap();
    assert_eq!(g.arn, "arn:aws:iam::123456789012:group/eng/devs");
    user(s, "alice");
    s.add_user_to_group("devs", "alice").unwrap();
    s.add_user_to_group("DEVS", "Alice").unwrap(); // already a member: no change
    let (group, members) = s.group("devs").unwrap();
    assert_eq!(group, g);
    assert_eq!(members.len(), 1);
    assert_eq!(s.list_groups_for_user("alice", &PageRequest::default()).unwrap().items, vec![g.clone()]);
    assert_eq!(s.list_groups(None, &PageRequest::default()).unwrap().items, vec![g]);
    assert_eq!(code(s.add_user_to_group("nope", "alice")), ErrorCode::NoSuchEntity);
    assert_eq!(code(s.add_user_to_group("devs", "nobody")), ErrorCode::NoSuchEntity);
    s.remove_user_from_group("devs", "alice").unwrap();
    assert_eq!(code(s.remove_user_from_group("devs", "alice")), ErrorCode::NoSuchEntity);
    assert!(s.group("devs").unwrap().1.is_empty());
    s.delete_group("devs").unwrap();
    assert_eq!(code(s.group("devs")), ErrorCode::NoSuchEntity);
}

fn groups_per_user_quota(s: &impl Store) {
    user(s, "alice");
    for i in 0..10 {
        s.create_group(&format!("g{i}"), None).unwrap();
        s.add_user_to_group(&format!("g{i}"), "alice").unwrap();
    }
    s.create_group("g10", None).unwrap();
    let e = s.add_user_to_group("g10", "alice").unwrap_err();
    assert_eq!(e.code(), ErrorCode::LimitExceeded);
    assert_eq!(e.http_status(), 409);
    assert_eq!(e.to_string(), "Cannot exceed quota for GroupsPerUser: 10");
    assert!(s.group("g10").unwrap().1.is_empty());
}

fn roles_create_and_rules(s: &impl Store) {
    let r = s
        .create_role(NewRole {
            path: Some("/service-role/".into()),
            description: Some("deploys".into()),
            max_session_duration: Some(43_200),
            ..role("deployer")
        })
        .unwrap();
    assert_eq!(r.arn, "arn:aws:iam::123456789012:role/service-role/deployer");
    assert_eq!(r.max_session_duration, 43_200);
    assert_eq!(s.role("DEPLOYER").unwrap(), r);
    assert_eq!(s.create_role(role("default")).unwrap().max_session_duration, 3600);
    for bad in [3599, 43_201, 0] {
        let e = s.create_role(NewRole { max_session_duration: Some(bad), ..role("x") }).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ValidationError, "{bad}");
    }
    let long = "d".repeat(1001);
    assert_eq!(code(s.create_role(NewRole { description: Some(long), ..role("x") })), ErrorCode::ValidationError);
    s.create_role(NewRole { description: Some("d".repeat(1000)), ..role("x") }).unwrap();
    assert_eq!(s.list_roles(None, &PageRequest::default()).unwrap().items.len(), 3);
    s.delete_role("x").unwrap();
    assert_eq!(code(s.role("x")), ErrorCode::NoSuchEntity);
    assert_eq!(s.role("nobody").unwrap_err().to_string(), "The role with name nobody cannot be found.");
}

fn trust_policy_is_validated(s: &impl Store) {
    // An identity policy is not a trust policy: no Principal, and a Resource.
    assert_eq!(
        code(s.create_role(NewRole { assume_role_policy_document: DOC.into(), ..role("r") })),
        ErrorCode::MalformedPolicyDocument
    );
    assert_eq!(
        code(s.create_role(NewRole { assume_role_policy_document: "{".into(), ..role("r") })),
        ErrorCode::MalformedPolicyDocument
    );
    assert_eq!(code(s.role("r")), ErrorCode::NoSuchEntity);
    // Trust policies have their own quota, 2,048 characters without whitespace.
    let statement = r#"{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}"#;
    let big = format!(r#"{{"Version":"2012-10-17","Statement":[{}]}}"#, vec![statement; 30].join(","));
    assert!(castellan_policy::iam_size(&big) > 2048);
    assert_eq!(
        code(s.create_role(NewRole { assume_role_policy_document: big, ..role("r") })),
        ErrorCode::LimitExceeded
    );
}

fn trusting(principals: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":{principals}}},"Action":"sts:AssumeRole"}}]}}"#
    )
}

fn trust_principals_are_unique_ids(s: &impl Store) {
    // A user or role of this account that does not exist is refused, with AWS's message.
    let missing = "arn:aws:iam::123456789012:user/ghost";
    let doc = trusting(&format!(r#"["arn:aws:iam::123456789012:role/nobody","{missing}"]"#));
    let e = s.create_role(NewRole { assume_role_policy_document: doc, ..role("r") }).unwrap_err();
    assert_eq!(e.code(), ErrorCode::MalformedPolicyDocument);
    assert_eq!(e.message(), r#"Invalid principal in policy: "AWS":"arn:aws:iam::123456789012:role/nobody""#);
    assert_eq!(
        e.message(),
        castellan_policy::messages::invalid_principal("AWS", "arn:aws:iam::123456789012:role/nobody")
    );
    assert_eq!(code(s.role("r")), ErrorCode::NoSuchEntity);
    // The path is part of the ARN.
    s.create_user(NewUser { name: "pathed".into(), path: Some("/team/".into()), ..NewUser::default() }).unwrap();
    let e = s
        .create_role(NewRole {
            assume_role_policy_document: trusting(r#""arn:aws:iam::123456789012:user/pathed""#),
            ..role("r")
        })
        .unwrap_err();
    assert_eq!(e.message(), r#"Invalid principal in policy: "AWS":"arn:aws:iam::123456789012:user/pathed""#);
    assert_eq!(code(s.role("r")), ErrorCode::NoSuchEntity);

    // Existing entities are accepted and shown back as ARNs; other accounts, roots, account ids
    // and services are kept as written.
    user(s, "alice");
    let old_id = s.user("alice").unwrap().user_id;
    s.create_role(role("peer")).unwrap();
    let doc = trusting(
        r#"["arn:aws:iam::123456789012:user/alice","arn:aws:iam::123456789012:role/peer","arn:aws:iam::210987654321:user/elsewhere","arn:aws:iam::210987654321:root","111122223333"]"#,
    );
    let created = s.create_role(NewRole { assume_role_policy_document: doc.clone(), ..role("r") }).unwrap();
    assert_eq!(created.assume_role_policy_document, doc);
    assert_eq!(s.role("r").unwrap().assume_role_policy_document, doc);
    let listed = s.list_roles(None, &PageRequest::first(100)).unwrap();
    assert!(listed.items.iter().any(|r| r.name.as_str() == "r" && r.assume_role_policy_document == doc));

    // Deleting the user shows its raw unique id; creating it again does not restore the grant.
    s.delete_user("alice").unwrap();
    let shown = s.role("r").unwrap().assume_role_policy_document;
    assert!(shown.contains(&old_id), "{shown}");
    assert!(!shown.contains("user/alice"), "{shown}");
    assert!(shown.contains("arn:aws:iam::123456789012:role/peer"), "{shown}");
    assert!(shown.contains("arn:aws:iam::210987654321:user/elsewhere"), "{shown}");
    assert!(shown.contains("arn:aws:iam::210987654321:root"), "{shown}");
    assert!(shown.contains("111122223333"), "{shown}");
    user(s, "alice");
    let new_id = s.user("alice").unwrap().user_id;
    assert_ne!(new_id, old_id);
    let again = s.role("r").unwrap().assume_role_policy_document;
    assert_eq!(again, shown);
    assert!(!again.contains(&new_id));
    // The same for a role.
    let peer_id = s.role("peer").unwrap().role_id;
    s.delete_role("peer").unwrap();
    s.create_role(role("peer")).unwrap();
    let shown = s.role("r").unwrap().assume_role_policy_document;
    assert!(shown.contains(&peer_id) && !shown.contains("role/peer"), "{shown}");
}

fn update_assume_role_policy(s: &impl Store) {
    assert_eq!(code(s.update_assume_role_policy("none", TRUST)), ErrorCode::NoSuchEntity);
    s.create_role(role("r")).unwrap();
    // Invalid documents and principals change nothing.
    assert_eq!(code(s.update_assume_role_policy("r", DOC)), ErrorCode::MalformedPolicyDocument);
    let e = s.update_assume_role_policy("r", &trusting(r#""arn:aws:iam::123456789012:user/bob""#)).unwrap_err();
    assert_eq!(e.code(), ErrorCode::MalformedPolicyDocument);
    assert_eq!(e.message(), r#"Invalid principal in policy: "AWS":"arn:aws:iam::123456789012:user/bob""#);
    assert_eq!(s.role("r").unwrap().assume_role_policy_document, TRUST);
    // A valid one replaces the policy, resolved like CreateRole's.
    user(s, "bob");
    let bob_id = s.user("bob").unwrap().user_id;
    let doc = trusting(r#""arn:aws:iam::123456789012:user/bob""#);
    s.update_assume_role_policy("R", &doc).unwrap();
    assert_eq!(s.role("r").unwrap().assume_role_policy_document, doc);
    s.delete_user("bob").unwrap();
    let shown = s.role("r").unwrap().assume_role_policy_document;
    assert!(shown.contains(&bob_id) && !shown.contains("user/bob"), "{shown}");
    // Replacing it again drops the old mapping.
    s.update_assume_role_policy("r", TRUST).unwrap();
    assert_eq!(s.role("r").unwrap().assume_role_policy_document, TRUST);
}

fn managed_policies_and_versions(s: &impl Store) {
    let p = s
        .create_policy(NewPolicy {
            name: "read".into(),
            path: Some("/team/".into()),
            document: DOC.into(),
            description: Some("reads".into()),
            ..NewPolicy::default()
        })
        .unwrap();
    assert_eq!(p.arn, "arn:aws:iam::123456789012:policy/team/read");
    assert_eq!(p.default_version_id, "v1");
    assert_eq!(s.policy(&p.arn).unwrap(), p);
    let v2 = s.create_policy_version(&p.arn, DOC2, false).unwrap();
    assert_eq!((v2.version_id.as_str(), v2.is_default), ("v2", false));
    let v3 = s.create_policy_version(&p.arn, DOC2, true).unwrap();
    assert_eq!(v3.version_id, "v3");
    assert_eq!(s.policy(&p.arn).unwrap().default_version_id, "v3");
    let ids: Vec<_> =
        s.list_policy_versions(&p.arn).unwrap().into_iter().map(|v| (v.version_id, v.is_default)).collect();
    assert_eq!(ids, [("v3".to_owned(), true), ("v2".to_owned(), false), ("v1".to_owned(), false)]);
    s.set_default_policy_version(&p.arn, "v1").unwrap();
    assert!(s.policy_version(&p.arn, "v1").unwrap().is_default);
    assert_eq!(s.policy_version(&p.arn, "v1").unwrap().document, DOC);
    assert_eq!(code(s.set_default_policy_version(&p.arn, "v9")), ErrorCode::NoSuchEntity);
    assert_eq!(code(s.delete_policy_version(&p.arn, "v1")), ErrorCode::DeleteConflict);
    s.delete_policy_version(&p.arn, "v2").unwrap();
    // Version ids are never reused.
    assert_eq!(s.create_policy_version(&p.arn, DOC, false).unwrap().version_id, "v4");
    assert_eq!(code(s.policy_version(&p.arn, "v2")), ErrorCode::NoSuchEntity);
    assert_eq!(code(s.create_policy_version(&p.arn, "{", false)), ErrorCode::MalformedPolicyDocument);
    // A trust policy is not an identity policy.
    let bad = NewPolicy { name: "t".into(), document: TRUST.into(), ..NewPolicy::default() };
    assert_eq!(code(s.create_policy(bad)), ErrorCode::MalformedPolicyDocument);
    assert_eq!(code(s.policy("arn:aws:iam::123456789012:policy/nope")), ErrorCode::NoSuchEntity);
    assert_eq!(code(s.policy("arn:aws:iam::123456789012:policy/read")), ErrorCode::NoSuchEntity); // wrong path
    assert_eq!(code(s.policy("not-an-arn")), ErrorCode::InvalidInput);
    assert_eq!(code(s.policy("arn:aws")), ErrorCode::InvalidInput);
    assert_eq!(s.list_policies(None, &PageRequest::default()).unwrap().items.len(), 1);
}

fn policy_versions_quota(s: &impl Store) {
    let arn = policy(s, "p");
    for _ in 0..4 {
        s.create_policy_version(&arn, DOC2, false).unwrap();
    }
    let e = s.create_policy_version(&arn, DOC2, true).unwrap_err();
    assert_eq!(e.code(), ErrorCode::LimitExceeded);
    assert_eq!(s.list_policy_versions(&arn).unwrap().len(), 5);
    assert_eq!(s.policy(&arn).unwrap().default_version_id, "v1");
}

fn policy_size_quota(s: &impl Store) {
    let ok = policy_doc_of_size(6144);
    s.create_policy(NewPolicy { name: "big".into(), document: ok, ..NewPolicy::default() }).unwrap();
    let e = s
        .create_policy(NewPolicy { name: "bigger".into(), document: policy_doc_of_size(6145), ..NewPolicy::default() })
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::LimitExceeded);
    assert_eq!(e.to_string(), "Cannot exceed quota for PolicySize: 6144");
    // Whitespace does not count.
    let spaced = policy_doc_of_size(6144).replace(',', " ,  ");
    s.create_policy(NewPolicy { name: "spaced".into(), document: spaced, ..NewPolicy::default() }).unwrap();
}

fn attach_and_detach(s: &impl Store) {
    let arn = policy(s, "p");
    user(s, "alice");
    s.create_group("devs", None).unwrap();
    s.create_role(role("r")).unwrap();
    for entity in [Entity::User("alice"), Entity::Group("devs"), Entity::Role("r")] {
        s.attach_policy(entity, &arn).unwrap();
        s.attach_policy(entity, &arn).unwrap(); // twice is once
        let attached = s.list_attached_policies(entity).unwrap();
        assert_eq!(attached.len(), 1);
        assert_eq!((attached[0].name.as_str(), attached[0].arn.as_str()), ("p", arn.as_str()));
    }
    assert_eq!(s.policy(&arn).unwrap().attachment_count, 3);
    s.detach_policy(Entity::Group("devs"), &arn).unwrap();
    assert_eq!(code(s.detach_policy(Entity::Group("devs"), &arn)), ErrorCode::NoSuchEntity);
    assert_eq!(s.policy(&arn).unwrap().attachment_count, 2);
    assert_eq!(code(s.attach_policy(Entity::User("nobody"), &arn)), ErrorCode::NoSuchEntity);
    assert_eq!(
        code(s.attach_policy(Entity::User("alice"), "arn:aws:iam::123456789012:policy/nope")),
        ErrorCode::NoSuchEntity
    );
}

fn attached_policies_quota(s: &impl Store) {
    user(s, "alice");
    s.create_group("devs", None).unwrap();
    s.create_role(role("r")).unwrap();
    let arns: Vec<String> = (0..11).map(|i| policy(s, &format!("p{i}"))).collect();
    for (entity, quota) in [
        (Entity::User("alice"), "PoliciesPerUser"),
        (Entity::Group("devs"), "PoliciesPerGroup"),
        (Entity::Role("r"), "PoliciesPerRole"),
    ] {
        for arn in &arns[..10] {
            s.attach_policy(entity, arn).unwrap();
        }
        let e = s.attach_policy(entity, &arns[10]).unwrap_err();
        assert_eq!(e.code(), ErrorCode::LimitExceeded);
        assert_eq!(e.to_string(), format!("Cannot exceed quota for {quota}: 10"));
    }
    assert_eq!(s.policy(&arns[10]).unwrap().attachment_count, 0);
}

fn inline_policies_and_size_quotas(s: &impl Store) {
    user(s, "alice");
    s.create_group("devs", None).unwrap();
    s.create_role(role("r")).unwrap();
    for (entity, limit, quota) in [
        (Entity::User("alice"), 2048, "UserPolicySize"),
        (Entity::Group("devs"), 5120, "GroupPolicySize"),
        (Entity::Role("r"), 10_240, "RolePolicySize"),
    ] {
        s.put_inline_policy(entity, "one", DOC).unwrap();
        assert_eq!(s.inline_policy(entity, "one").unwrap().document, DOC);
        // Replacing a policy counts only its new size.
        s.put_inline_policy(entity, "one", &policy_doc_of_size(limit - 100)).unwrap();
        s.put_inline_policy(entity, "two", &policy_doc_of_size(100)).unwrap();
        let e = s.put_inline_policy(entity, "three", &policy_doc_of_size(100)).unwrap_err();
        assert_eq!(e.code(), ErrorCode::LimitExceeded);
        assert_eq!(e.to_string(), format!("Cannot exceed quota for {quota}: {limit}"));
        assert_eq!(s.list_inline_policies(entity).unwrap(), ["one", "two"]);
        assert_eq!(code(s.put_inline_policy(entity, "bad", TRUST)), ErrorCode::MalformedPolicyDocument);
        assert_eq!(code(s.put_inline_policy(entity, "bad name", DOC)), ErrorCode::ValidationError);
        s.delete_inline_policy(entity, "two").unwrap();
        assert_eq!(code(s.delete_inline_policy(entity, "two")), ErrorCode::NoSuchEntity);
        assert_eq!(code(s.inline_policy(entity, "two")), ErrorCode::NoSuchEntity);
    }
    assert_eq!(
        s.inline_policy(Entity::User("alice"), "zzz").unwrap_err().to_string(),
        "The user policy with name zzz cannot be found."
    );
}

fn tags_on_users_and_roles(s: &impl Store) {
    user(s, "alice");
    s.tag_user("alice", vec![Tag::new("Team", "a"), Tag::new("env", "")]).unwrap();
    s.tag_user("alice", vec![Tag::new("TEAM", "b")]).unwrap();
    let tags = s.user("alice").unwrap().tags;
    assert_eq!(tags.len(), 2);
    assert!(tags.contains(&Tag::new("TEAM", "b")));
    s.untag_user("alice", &["team".into()]).unwrap();
    assert_eq!(s.user("alice").unwrap().tags, [Tag::new("env", "")]);
    let dup = s.tag_user("alice", vec![Tag::new("k", "1"), Tag::new("K", "2")]).unwrap_err();
    assert_eq!(dup.code(), ErrorCode::InvalidInput);
    assert_eq!(code(s.tag_user("alice", vec![Tag::new("aws:x", "1")])), ErrorCode::InvalidInput);
    assert_eq!(code(s.tag_user("alice", vec![Tag::new("", "1")])), ErrorCode::ValidationError);
    assert_eq!(code(s.tag_user("alice", vec![Tag::new("k".repeat(129), "1")])), ErrorCode::ValidationError);
    assert_eq!(code(s.tag_user("alice", vec![Tag::new("k", "v".repeat(257))])), ErrorCode::ValidationError);
    assert_eq!(code(s.tag_user("alice", vec![Tag::new("k", "a*b")])), ErrorCode::ValidationError);
    s.tag_user("alice", vec![Tag::new("k".repeat(128), "v".repeat(256)), Tag::new("ünï côde", "a.b:c/d=e+f-g@h_")])
        .unwrap();
    assert_eq!(code(s.tag_user("nobody", vec![Tag::new("k", "v")])), ErrorCode::NoSuchEntity);
    s.create_role(NewRole { tags: vec![Tag::new("a", "1")], ..role("r") }).unwrap();
    s.tag_role("r", vec![Tag::new("A", "2")]).unwrap();
    assert_eq!(s.role("r").unwrap().tags, [Tag::new("A", "2")]);
    s.untag_role("r", &["a".into()]).unwrap();
    assert!(s.role("r").unwrap().tags.is_empty());
}

fn tags_quota(s: &impl Store) {
    let fifty: Vec<Tag> = (0..50).map(|i| Tag::new(format!("k{i}"), "v")).collect();
    s.create_user(NewUser { name: "alice".into(), tags: fifty.clone(), ..NewUser::default() }).unwrap();
    // Overwriting an existing key does not add a tag.
    s.tag_user("alice", vec![Tag::new("K0", "w")]).unwrap();
    let e = s.tag_user("alice", vec![Tag::new("k50", "v")]).unwrap_err();
    assert_eq!(e.code(), ErrorCode::LimitExceeded);
    let mut fifty_one = fifty;
    fifty_one.push(Tag::new("k50", "v"));
    assert_eq!(code(s.create_role(NewRole { tags: fifty_one, ..role("r") })), ErrorCode::LimitExceeded);
    assert_eq!(code(s.role("r")), ErrorCode::NoSuchEntity);
}

fn pagination(s: &impl Store) {
    for i in 0..25 {
        user(s, &format!("user{i:02}"));
    }
    let mut seen = Vec::new();
    let mut request = PageRequest::first(10);
    loop {
        let page = s.list_users(None, &request).unwrap();
        assert!(page.items.len() <= 10);
        seen.extend(page.items.into_iter().map(|u| u.name.to_string()));
        if !page.is_truncated {
            assert!(page.marker.is_none());
            break;
        }
        request.marker = page.marker;
    }
    let expected: Vec<String> = (0..25).map(|i| format!("user{i:02}")).collect();
    assert_eq!(seen, expected);
    let all = s.list_users(None, &PageRequest::default()).unwrap();
    assert_eq!((all.items.len(), all.is_truncated), (25, false));
    for bad in [0, 1001] {
        assert_eq!(code(s.list_users(None, &PageRequest::first(bad))), ErrorCode::ValidationError);
    }
    assert_eq!(s.list_users(None, &PageRequest::first(1000)).unwrap().items.len(), 25);
    let empty_marker = PageRequest { marker: Some(String::new()), max_items: None };
    assert_eq!(code(s.list_users(None, &empty_marker)), ErrorCode::ValidationError);
    // Pagination also works over path-filtered listings and other entities.
    for i in 0..3 {
        s.create_group(&format!("g{i}"), None).unwrap();
    }
    let first = s.list_groups(None, &PageRequest::first(2)).unwrap();
    assert_eq!((first.items.len(), first.is_truncated), (2, true));
    let rest = s.list_groups(None, &PageRequest { marker: first.marker, max_items: Some(2) }).unwrap();
    assert_eq!((rest.items.len(), rest.is_truncated, rest.marker), (1, false, None));
}

fn path_prefix_listing(s: &impl Store) {
    for (name, path) in [("a", "/"), ("b", "/eng/"), ("c", "/eng/web/"), ("d", "/ops/")] {
        s.create_user(NewUser { name: name.into(), path: Some(path.into()), ..NewUser::default() }).unwrap();
        s.create_role(NewRole { path: Some(path.into()), ..role(name) }).unwrap();
        s.create_group(name, Some(path)).unwrap();
    }
    let names = |p: &str| -> Vec<String> {
        s.list_users(Some(p), &PageRequest::default()).unwrap().items.into_iter().map(|u| u.name.to_string()).collect()
    };
    assert_eq!(names("/"), ["a", "b", "c", "d"]);
    assert_eq!(names("/eng/"), ["b", "c"]);
    assert_eq!(names("/eng/web"), ["c"]);
    assert_eq!(s.list_roles(Some("/ops/"), &PageRequest::default()).unwrap().items.len(), 1);
    assert_eq!(s.list_groups(Some("/eng"), &PageRequest::default()).unwrap().items.len(), 2);
    assert_eq!(code(s.list_users(Some("eng"), &PageRequest::default())), ErrorCode::ValidationError);
}

fn deletion_preconditions(s: &impl Store) {
    let arn = policy(s, "p");
    user(s, "alice");
    s.create_group("devs", None).unwrap();
    s.create_role(role("r")).unwrap();

    s.add_user_to_group("devs", "alice").unwrap();
    assert_eq!(code(s.delete_user("alice")), ErrorCode::DeleteConflict);
    assert_eq!(code(s.delete_group("devs")), ErrorCode::DeleteConflict);
    s.remove_user_from_group("devs", "alice").unwrap();

    for entity in [Entity::User("alice"), Entity::Group("devs"), Entity::Role("r")] {
        s.attach_policy(entity, &arn).unwrap();
        s.put_inline_policy(entity, "inline", DOC).unwrap();
    }
    assert_eq!(code(s.delete_policy(&arn)), ErrorCode::DeleteConflict);
    let delete = |entity| match entity {
        Entity::User(n) => s.delete_user(n),
        Entity::Group(n) => s.delete_group(n),
        Entity::Role(n) => s.delete_role(n),
    };
    for entity in [Entity::User("alice"), Entity::Group("devs"), Entity::Role("r")] {
        let e = delete(entity).unwrap_err();
        assert_eq!((e.code(), e.http_status()), (ErrorCode::DeleteConflict, 409));
        s.detach_policy(entity, &arn).unwrap();
        assert_eq!(code(delete(entity)), ErrorCode::DeleteConflict);
        s.delete_inline_policy(entity, "inline").unwrap();
        delete(entity).unwrap();
    }

    s.create_policy_version(&arn, DOC2, false).unwrap();
    assert_eq!(code(s.delete_policy(&arn)), ErrorCode::DeleteConflict);
    s.delete_policy_version(&arn, "v2").unwrap();
    s.delete_policy(&arn).unwrap();
    assert_eq!(code(s.policy(&arn)), ErrorCode::NoSuchEntity);
}

fn failed_operations_change_nothing(s: &impl Store) {
    // One bad tag among good ones: no user.
    let tags = vec![Tag::new("good", "1"), Tag::new("aws:bad", "2")];
    assert_eq!(
        code(s.create_user(NewUser { name: "alice".into(), tags, ..NewUser::default() })),
        ErrorCode::InvalidInput
    );
    assert_eq!(code(s.user("alice")), ErrorCode::NoSuchEntity);
    assert!(s.list_users(None, &PageRequest::default()).unwrap().items.is_empty());

    // A tag call with one bad tag keeps the old tags.
    s.create_user(NewUser { name: "alice".into(), tags: vec![Tag::new("k", "1")], ..NewUser::default() }).unwrap();
    assert!(s.tag_user("alice", vec![Tag::new("k", "2"), Tag::new("x", "*")]).is_err());
    assert_eq!(s.user("alice").unwrap().tags, [Tag::new("k", "1")]);

    // A role whose boundary does not exist is not created.
    let missing = "arn:aws:iam::123456789012:policy/missing";
    let r = s.create_role(NewRole { permissions_boundary: Some(missing.into()), ..role("r") });
    assert_eq!(code(r), ErrorCode::NoSuchEntity);
    assert_eq!(code(s.role("r")), ErrorCode::NoSuchEntity);

    // An invalid version with set_as_default leaves the policy as it was.
    let arn = policy(s, "p");
    let before = s.policy(&arn).unwrap();
    assert!(s.create_policy_version(&arn, "{", true).is_err());
    assert_eq!(s.policy(&arn).unwrap(), before);
    assert_eq!(s.list_policy_versions(&arn).unwrap().len(), 1);

    // A refused inline policy does not replace the old one.
    s.put_inline_policy(Entity::User("alice"), "i", DOC).unwrap();
    assert!(s.put_inline_policy(Entity::User("alice"), "i", &policy_doc_of_size(2049)).is_err());
    assert_eq!(s.inline_policy(Entity::User("alice"), "i").unwrap().document, DOC);

    // A refused deletion deletes nothing.
    s.attach_policy(Entity::User("alice"), &arn).unwrap();
    assert!(s.delete_user("alice").is_err());
    assert_eq!(s.list_attached_policies(Entity::User("alice")).unwrap().len(), 1);
    assert_eq!(s.policy(&arn).unwrap().attachment_count, 1);
}

fn errors_carry_code_status_and_message(s: &impl Store) {
    let e = s.user("alice").unwrap_err();
    assert_eq!((e.code().as_str(), e.http_status()), ("NoSuchEntity", 404));
    assert_eq!(e.to_string(), "The user with name alice cannot be found.");
    assert_eq!(s.group("devs").unwrap_err().to_string(), "The group with name devs cannot be found.");
    s.create_group("devs", None).unwrap();
    let e = s.create_group("devs", None).unwrap_err();
    assert_eq!((e.code().as_str(), e.http_status()), ("EntityAlreadyExists", 409));
    assert_eq!(e.to_string(), "Group with name devs already exists.");
    let e = s.create_user(NewUser { name: "bad name".into(), ..NewUser::default() }).unwrap_err();
    assert_eq!(
        e.to_string(),
        r"1 validation error detected: Value 'bad name' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+"
    );
    let missing = "arn:aws:iam::123456789012:policy/nope";
    assert_eq!(
        s.policy(missing).unwrap_err().to_string(),
        "Policy arn:aws:iam::123456789012:policy/nope does not exist or is not attachable."
    );
    let statuses = [
        (ErrorCode::NoSuchEntity, 404),
        (ErrorCode::EntityAlreadyExists, 409),
        (ErrorCode::LimitExceeded, 409),
        (ErrorCode::DeleteConflict, 409),
        (ErrorCode::MalformedPolicyDocument, 400),
        (ErrorCode::InvalidInput, 400),
        (ErrorCode::ValidationError, 400),
    ];
    for (code, status) in statuses {
        assert_eq!(code.http_status(), status, "{code}");
    }
}

fn unique_ids_and_arns(s: &impl Store) {
    let u = s.create_user(NewUser { name: "alice".into(), ..NewUser::default() }).unwrap();
    let g = s.create_group("devs", None).unwrap();
    let r = s.create_role(role("r")).unwrap();
    let p = s.create_policy(NewPolicy { name: "p".into(), document: DOC.into(), ..NewPolicy::default() }).unwrap();
    for (id, prefix) in [(&u.user_id, "AIDA"), (&g.group_id, "AGPA"), (&r.role_id, "AROA"), (&p.policy_id, "ANPA")] {
        assert!(id.starts_with(prefix), "{id}");
        assert_eq!(id.len(), 21);
    }
    assert_eq!(u.arn, "arn:aws:iam::123456789012:user/alice");
    assert_eq!(g.arn, "arn:aws:iam::123456789012:group/devs");
    assert_eq!(r.arn, "arn:aws:iam::123456789012:role/r");
    assert_eq!(p.arn, "arn:aws:iam::123456789012:policy/p");
    assert_eq!(s.account_id(), ACCOUNT);
    // A user created again under the same name gets a new id.
    s.delete_user("alice").unwrap();
    let again = s.create_user(NewUser { name: "alice".into(), ..NewUser::default() }).unwrap();
    assert_ne!(again.user_id, u.user_id);
}

fn permissions_boundary(s: &impl Store) {
    let arn = policy(s, "boundary");
    let r = s.create_role(NewRole { permissions_boundary: Some(arn.clone()), ..role("r") }).unwrap();
    assert_eq!(r.permissions_boundary.as_deref(), Some(arn.as_str()));
    assert_eq!(s.policy(&arn).unwrap().permissions_boundary_usage_count, 1);
    assert_eq!(code(s.delete_policy(&arn)), ErrorCode::DeleteConflict);
    s.delete_role("r").unwrap();
    assert_eq!(s.policy(&arn).unwrap().permissions_boundary_usage_count, 0);
    s.delete_policy(&arn).unwrap();
    // An AWS managed policy may be a boundary; one that does not exist may not.
    let aws_managed = "arn:aws:iam::aws:policy/PowerUserAccess";
    let r = s.create_role(NewRole { permissions_boundary: Some(aws_managed.into()), ..role("r2") }).unwrap();
    assert_eq!(r.permissions_boundary.as_deref(), Some(aws_managed));
    assert_eq!(s.policy(aws_managed).unwrap().permissions_boundary_usage_count, 1);
    s.delete_role("r2").unwrap();
    assert_eq!(s.policy(aws_managed).unwrap().permissions_boundary_usage_count, 0);
    let missing = "arn:aws:iam::aws:policy/NoSuchPolicyAtAll";
    let r = s.create_role(NewRole { permissions_boundary: Some(missing.into()), ..role("r3") });
    assert_eq!(code(r), ErrorCode::NoSuchEntity);
    assert_eq!(code(s.role("r3")), ErrorCode::NoSuchEntity);
}

const ADMIN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";
const READ_ONLY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";

fn aws_managed_policies_read_only(s: &impl Store) {
    let p = s.policy(ADMIN).unwrap();
    assert_eq!(p.name.as_str(), "AdministratorAccess");
    assert_eq!(p.path.as_str(), "/");
    assert!(p.policy_id.starts_with("ANPA"), "{}", p.policy_id);
    assert_eq!(p.attachment_count, 0);
    let v = s.policy_version(ADMIN, &p.default_version_id).unwrap();
    assert!(v.is_default);
    assert!(v.document.contains(r#""Action":"*""#), "{}", v.document);
    assert_eq!(s.list_policy_versions(ADMIN).unwrap(), vec![v]);
    assert_eq!(code(s.policy_version(ADMIN, "v999")), ErrorCode::NoSuchEntity);
    assert_eq!(code(s.policy("arn:aws:iam::aws:policy/NoSuchPolicyAtAll")), ErrorCode::NoSuchEntity);
    // Nothing about an AWS managed policy can be changed.
    let refused = [
        code(s.delete_policy(ADMIN)),
        code(s.create_policy_version(ADMIN, DOC, true)),
        code(s.delete_policy_version(ADMIN, &p.default_version_id)),
        code(s.set_default_policy_version(ADMIN, &p.default_version_id)),
    ];
    assert_eq!(refused, [ErrorCode::UnmodifiableEntity; 4]);
    assert_eq!(ErrorCode::UnmodifiableEntity.http_status(), 400);
    assert_eq!(s.policy(ADMIN).unwrap(), p);
}

fn aws_managed_policies_attach_and_quota(s: &impl Store) {
    user(s, "u");
    s.create_role(role("r")).unwrap();
    s.create_group("g", None).unwrap();
    s.attach_policy(Entity::User("u"), ADMIN).unwrap();
    s.attach_policy(Entity::User("u"), ADMIN).unwrap();
    s.attach_policy(Entity::Role("r"), ADMIN).unwrap();
    s.attach_policy(Entity::Role("r"), READ_ONLY).unwrap();
    s.attach_policy(Entity::Group("g"), READ_ONLY).unwrap();
    assert_eq!(s.policy(ADMIN).unwrap().attachment_count, 2);
    assert_eq!(s.policy(READ_ONLY).unwrap().attachment_count, 2);
    let attached: Vec<String> =
        s.list_attached_policies(Entity::Role("r")).unwrap().into_iter().map(|p| p.name).collect();
    assert_eq!(attached, ["AdministratorAccess", "ReadOnlyAccess"]);
    assert_eq!(code(s.delete_user("u")), ErrorCode::DeleteConflict);
    // AWS and customer managed policies count together toward the 10 per entity.
    for i in 0..9 {
        let arn = policy(s, &format!("p{i}"));
        s.attach_policy(Entity::User("u"), &arn).unwrap();
    }
    assert_eq!(code(s.attach_policy(Entity::User("u"), READ_ONLY)), ErrorCode::LimitExceeded);
    assert_eq!(s.policy(READ_ONLY).unwrap().attachment_count, 2);
    s.detach_policy(Entity::User("u"), ADMIN).unwrap();
    s.attach_policy(Entity::User("u"), READ_ONLY).unwrap();
    assert_eq!(s.policy(ADMIN).unwrap().attachment_count, 1);
    assert_eq!(s.policy(READ_ONLY).unwrap().attachment_count, 3);
    assert_eq!(code(s.detach_policy(Entity::User("u"), ADMIN)), ErrorCode::NoSuchEntity);
    s.detach_policy(Entity::Role("r"), ADMIN).unwrap();
    assert_eq!(s.policy(ADMIN).unwrap().attachment_count, 0);
}

fn aws_managed_policies_listing(s: &impl Store) {
    policy(s, "mine");
    let all = |scope| {
        let mut items = Vec::new();
        let mut page = PageRequest::first(1000);
        loop {
            let p = s.list_policies_in_scope(scope, None, &page).unwrap();
            items.extend(p.items);
            match p.marker {
                Some(m) => page.marker = Some(m),
                None => return items,
            }
        }
    };
    let aws = all(PolicyScope::Aws);
    assert_eq!(aws.len(), 1582);
    assert!(aws.iter().all(|p| p.arn.starts_with("arn:aws:iam::aws:policy/")));
    assert_eq!(all(PolicyScope::All).len(), 1583);
    let local = all(PolicyScope::Local);
    assert_eq!(local.len(), 1);
    assert_eq!(s.list_policies(None, &PageRequest::default()).unwrap().items, local);
    let service_role = s.list_policies_in_scope(PolicyScope::Aws, Some("/service-role/"), &PageRequest::first(1000));
    assert!(service_role.unwrap().items.iter().all(|p| p.path.as_str().starts_with("/service-role/")));
}
