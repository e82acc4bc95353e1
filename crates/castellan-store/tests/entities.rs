//! Update operations, permissions boundaries on users, instance profiles and account-wide
//! quotas through the public API, on both backends.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;

use castellan_credentials::FixedClock;
use castellan_policy::AccountId;
use castellan_store::{
    DurableStore, Entity, ErrorCode, MAX_GROUPS, MAX_INSTANCE_PROFILES, MAX_OIDC_PROVIDERS, MAX_POLICIES, MAX_ROLES,
    MAX_SAML_PROVIDERS, MAX_USERS, MemoryStore, NewOidcProvider, NewPolicy, NewRole, NewUser, Owner, PageRequest,
    Store, StoreError, Tag, Taggable,
};
use rand::SeedableRng;
use rand::rngs::StdRng;

const ACCOUNT: &str = "123456789012";
const NOW: i64 = 1_700_000_000;
const DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

macro_rules! suite {
    ($backend:ident, $make:expr) => {
        mod $backend {
            use super::*;
            suite!(@tests $make;
                rename_user, rename_group, update_role, user_permissions_boundary, role_permissions_boundary,
                instance_profiles, groups_per_account_quota, oidc_providers, saml_providers, resource_tags,
                snapshot_lookups, account_quotas);
        }
    };
    (@tests $make:expr; $($name:ident),*) => {
        $(#[test] fn $name() { super::$name(&$make()); })*
    };
}

fn memory_store() -> MemoryStore {
    MemoryStore::new(AccountId::parse(ACCOUNT).unwrap(), Arc::new(FixedClock::new(NOW)), StdRng::seed_from_u64(7))
}

fn durable_store() -> DurableStore {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("castellan-store-entities-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    DurableStore::open(
        dir,
        AccountId::parse(ACCOUNT).unwrap(),
        Arc::new(FixedClock::new(NOW)),
        StdRng::seed_from_u64(7),
    )
    .unwrap()
}

suite!(memory, memory_store);
suite!(durable, durable_store);

fn code<T: std::fmt::Debug>(result: Result<T, StoreError>) -> ErrorCode {
    result.expect_err("expected an error").code()
}

fn user(s: &dyn Store, name: &str) {
    s.create_user(NewUser { name: name.into(), ..NewUser::default() }).unwrap();
}

fn role(s: &dyn Store, name: &str, trust: &str) {
    s.create_role(NewRole { name: name.into(), assume_role_policy_document: trust.into(), ..NewRole::default() })
        .unwrap();
}

fn rename_user(s: &dyn Store) {
    user(s, "alice");
    user(s, "carol");
    s.create_group("devs", None).unwrap();
    s.add_user_to_group("devs", "alice").unwrap();
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/alice"},"Action":"sts:AssumeRole"}]}"#;
    role(s, "r", trust);
    let id = s.user("alice").unwrap().user_id;
    assert_eq!(code(s.update_user("alice", Some("CAROL"), None)), ErrorCode::EntityAlreadyExists);
    let renamed = s.update_user("alice", Some("alicia"), Some("/eng/")).unwrap();
    assert_eq!(
        (renamed.arn.as_str(), renamed.user_id.as_str()),
        ("arn:aws:iam::123456789012:user/eng/alicia", id.as_str())
    );
    assert_eq!(code(s.user("alice")), ErrorCode::NoSuchEntity);
    assert_eq!(s.user("alicia").unwrap(), renamed);
    // Membership follows.
    let (_, members) = s.group("devs").unwrap();
    assert_eq!(members.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(), ["alicia"]);
    assert_eq!(s.list_groups_for_user("alicia", &PageRequest::default()).unwrap().items.len(), 1);
    // The trust policy names the user by its new ARN: principals are kept by unique id.
    let shown = s.role("r").unwrap().assume_role_policy_document;
    assert!(shown.contains("user/eng/alicia") && !shown.contains("user/alice\""), "{shown}");
    let snap = s.snapshot();
    assert!(snap.user("alice").is_none());
    assert_eq!(snap.user("alicia").unwrap().arn, renamed.arn);
    assert!(snap.role("r").unwrap().trust.as_ref().unwrap().policy.to_string().contains("user/eng/alicia"));
    // Only the path.
    assert_eq!(s.update_user("alicia", None, Some("/")).unwrap().arn, "arn:aws:iam::123456789012:user/alicia");
    assert_eq!(code(s.update_user("nobody", Some("x"), None)), ErrorCode::NoSuchEntity);
    assert_eq!(code(s.update_user("alicia", None, Some("no-slashes"))), ErrorCode::ValidationError);
}

fn rename_group(s: &dyn Store) {
    user(s, "alice");
    s.create_group("devs", None).unwrap();
    s.create_group("ops", None).unwrap();
    s.add_user_to_group("devs", "alice").unwrap();
    s.put_inline_policy(Entity::Group("devs"), "read", DOC).unwrap();
    assert_eq!(code(s.update_group("devs", Some("OPS"), None)), ErrorCode::EntityAlreadyExists);
    let g = s.update_group("devs", Some("developers"), Some("/teams/")).unwrap();
    assert_eq!(g.arn, "arn:aws:iam::123456789012:group/teams/developers");
    let groups = s.list_groups_for_user("alice", &PageRequest::default()).unwrap().items;
    assert_eq!(groups.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(), ["developers"]);
    // The member's identity layer still carries the group's policy.
    let alice = s.snapshot().user("alice").unwrap().clone();
    assert_eq!(alice.groups, ["developers"]);
    assert!(alice.identity.iter().any(|p| p.id.contains("developers")), "{:?}", alice.identity);
}

fn update_role(s: &dyn Store) {
    role(s, "r", TRUST);
    s.update_role("r", Some("the app role"), Some(7200)).unwrap();
    let r = s.role("r").unwrap();
    assert_eq!((r.description.as_deref(), r.max_session_duration), (Some("the app role"), 7200));
    s.update_role("r", None, None).unwrap();
    assert_eq!(s.role("r").unwrap().max_session_duration, 7200);
    let e = s.update_role("r", None, Some(43_201)).unwrap_err();
    assert_eq!(e.code(), ErrorCode::ValidationError);
    assert!(e.message().contains("less than or equal to 43200"), "{e}");
    assert_eq!(code(s.update_role("r", None, Some(3599))), ErrorCode::ValidationError);
    assert_eq!(code(s.update_role("r", Some(&"x".repeat(1001)), None)), ErrorCode::ValidationError);
    assert_eq!(code(s.update_role("nobody", None, Some(3600))), ErrorCode::NoSuchEntity);
    assert_eq!(s.role("r").unwrap().max_session_duration, 7200);
}

fn user_permissions_boundary(s: &dyn Store) {
    let arn =
        s.create_policy(NewPolicy { name: "b".into(), document: DOC.into(), ..NewPolicy::default() }).unwrap().arn;
    s.create_user(NewUser { name: "alice".into(), permissions_boundary: Some(arn.clone()), ..NewUser::default() })
        .unwrap();
    assert_eq!(s.user("alice").unwrap().permissions_boundary.as_deref(), Some(arn.as_str()));
    assert_eq!(s.policy(&arn).unwrap().permissions_boundary_usage_count, 1);
    assert_eq!(s.snapshot().user("alice").unwrap().boundary.as_ref().unwrap().id, arn);
    // A new default version reaches the user's boundary layer.
    let deny = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#;
    s.create_policy_version(&arn, deny, true).unwrap();
    let layer = s.snapshot().user("alice").unwrap().boundary.clone().unwrap();
    assert!(layer.policy.to_string().contains("Deny"));
    assert_eq!(code(s.delete_policy(&arn)), ErrorCode::DeleteConflict);
    s.delete_permissions_boundary(Entity::User("alice")).unwrap();
    assert!(s.snapshot().user("alice").unwrap().boundary.is_none());
    assert_eq!(s.policy(&arn).unwrap().permissions_boundary_usage_count, 0);
    s.put_permissions_boundary(Entity::User("alice"), "arn:aws:iam::aws:policy/ReadOnlyAccess").unwrap();
    assert_eq!(s.policy("arn:aws:iam::aws:policy/ReadOnlyAccess").unwrap().permissions_boundary_usage_count, 1);
    assert_eq!(code(s.put_permissions_boundary(Entity::Group("g"), &arn)), ErrorCode::InvalidInput);
    assert_eq!(
        code(s.put_permissions_boundary(Entity::User("alice"), "arn:aws:iam::123456789012:policy/none")),
        ErrorCode::NoSuchEntity
    );
    // Deleting the user releases its boundary.
    s.delete_user("alice").unwrap();
    assert_eq!(s.policy("arn:aws:iam::aws:policy/ReadOnlyAccess").unwrap().permissions_boundary_usage_count, 0);
}

fn role_permissions_boundary(s: &dyn Store) {
    let arn =
        s.create_policy(NewPolicy { name: "b".into(), document: DOC.into(), ..NewPolicy::default() }).unwrap().arn;
    role(s, "r", TRUST);
    s.put_permissions_boundary(Entity::Role("r"), &arn).unwrap();
    assert_eq!(s.role("r").unwrap().permissions_boundary.as_deref(), Some(arn.as_str()));
    assert_eq!(s.snapshot().role("r").unwrap().boundary.as_ref().unwrap().id, arn);
    // Replacing it moves the count.
    let other = "arn:aws:iam::aws:policy/PowerUserAccess";
    s.put_permissions_boundary(Entity::Role("r"), other).unwrap();
    assert_eq!(s.policy(&arn).unwrap().permissions_boundary_usage_count, 0);
    assert_eq!(s.policy(other).unwrap().permissions_boundary_usage_count, 1);
    s.delete_permissions_boundary(Entity::Role("r")).unwrap();
    assert_eq!(s.role("r").unwrap().permissions_boundary, None);
    assert_eq!(s.policy(other).unwrap().permissions_boundary_usage_count, 0);
}

fn instance_profiles(s: &dyn Store) {
    role(s, "web", TRUST);
    role(s, "worker", TRUST);
    let p = s.create_instance_profile("web-profile", Some("/apps/"), vec![Tag::new("k", "v")]).unwrap();
    assert_eq!(p.arn, "arn:aws:iam::123456789012:instance-profile/apps/web-profile");
    assert!(p.instance_profile_id.starts_with("AIPA"), "{}", p.instance_profile_id);
    assert_eq!(code(s.create_instance_profile("WEB-PROFILE", None, vec![])), ErrorCode::EntityAlreadyExists);
    assert_eq!(code(s.create_instance_profile("bad name", None, vec![])), ErrorCode::ValidationError);
    s.add_role_to_instance_profile("web-profile", "web").unwrap();
    let over = s.add_role_to_instance_profile("web-profile", "worker").unwrap_err();
    assert_eq!((over.code(), over.http_status()), (ErrorCode::LimitExceeded, 409));
    let (got, roles) = s.instance_profile("web-profile").unwrap();
    assert_eq!((got, roles.iter().map(|r| r.name.as_str()).collect::<Vec<_>>()), (p.clone(), vec!["web"]));
    assert_eq!(s.list_instance_profiles_for_role("web").unwrap(), std::slice::from_ref(&p));
    assert!(s.list_instance_profiles_for_role("worker").unwrap().is_empty());
    assert_eq!(
        s.list_instance_profiles(Some("/apps/"), &PageRequest::default()).unwrap().items,
        std::slice::from_ref(&p)
    );
    assert!(s.list_instance_profiles(Some("/other/"), &PageRequest::default()).unwrap().items.is_empty());
    let conflict = s.delete_role("web").unwrap_err();
    assert_eq!(conflict.code(), ErrorCode::DeleteConflict);
    assert!(conflict.message().contains("instance profile"), "{conflict}");
    assert_eq!(code(s.delete_instance_profile("web-profile")), ErrorCode::DeleteConflict);
    assert_eq!(code(s.remove_role_from_instance_profile("web-profile", "worker")), ErrorCode::NoSuchEntity);
    s.remove_role_from_instance_profile("web-profile", "web").unwrap();
    s.delete_instance_profile("web-profile").unwrap();
    s.delete_role("web").unwrap();
    assert_eq!(code(s.instance_profile("web-profile")), ErrorCode::NoSuchEntity);
    assert_eq!(code(s.add_role_to_instance_profile("web-profile", "worker")), ErrorCode::NoSuchEntity);
    // Deleting a user that still has credentials is unaffected by profiles; sanity of Owner use.
    user(s, "u");
    assert!(s.list_access_keys(Owner::User("u")).unwrap().is_empty());
}

fn groups_per_account_quota(s: &dyn Store) {
    for i in 0..MAX_GROUPS {
        s.create_group(&format!("g{i}"), None).unwrap();
    }
    let e = s.create_group("one-more", None).unwrap_err();
    assert_eq!((e.code(), e.http_status()), (ErrorCode::LimitExceeded, 409));
    assert!(e.message().contains("GroupsPerAccount: 300"), "{e}");
    s.delete_group("g0").unwrap();
    s.create_group("one-more", None).unwrap();
}

const JWKS: &str = r#"{"keys":[{"kty":"RSA","kid":"k1","n":"AQAB","e":"AQAB"}]}"#;

fn oidc_providers(s: &dyn Store) {
    let thumb = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280".to_owned();
    let p = s
        .create_oidc_provider(NewOidcProvider {
            url: "https://token.example.com/tenant/".into(),
            client_ids: vec!["app".into(), "app".into()],
            thumbprints: vec![thumb.clone()],
            signing_keys: None,
            tags: vec![],
        })
        .unwrap();
    assert_eq!(p.arn, "arn:aws:iam::123456789012:oidc-provider/token.example.com/tenant");
    assert_eq!(
        (p.url.as_str(), p.client_ids.as_slice()),
        ("https://token.example.com/tenant", ["app".to_owned()].as_slice())
    );
    let dup = NewOidcProvider { url: "https://token.example.com/tenant".into(), ..NewOidcProvider::default() };
    assert_eq!(code(s.create_oidc_provider(dup)), ErrorCode::EntityAlreadyExists);
    let http = NewOidcProvider { url: "http://insecure.example.com".into(), ..NewOidcProvider::default() };
    assert_eq!(code(s.create_oidc_provider(http)), ErrorCode::InvalidInput);
    let bad_thumb = NewOidcProvider {
        url: "https://a.example.com".into(),
        thumbprints: vec!["xyz".into()],
        ..NewOidcProvider::default()
    };
    assert_eq!(code(s.create_oidc_provider(bad_thumb)), ErrorCode::ValidationError);
    s.add_oidc_client_id(&p.arn, "other").unwrap();
    s.add_oidc_client_id(&p.arn, "other").unwrap();
    s.remove_oidc_client_id(&p.arn, "app").unwrap();
    assert_eq!(s.oidc_provider(&p.arn).unwrap().client_ids, ["other"]);
    assert_eq!(code(s.update_oidc_thumbprints(&p.arn, vec![thumb.clone(); 6])), ErrorCode::LimitExceeded);
    s.update_oidc_thumbprints(&p.arn, vec![]).unwrap();
    assert!(s.oidc_provider(&p.arn).unwrap().thumbprints.is_empty());
    assert_eq!(code(s.set_oidc_signing_keys(&p.arn, Some("{\"no\":1}"))), ErrorCode::InvalidInput);
    s.set_oidc_signing_keys(&p.arn, Some(JWKS)).unwrap();
    assert_eq!(s.oidc_provider(&p.arn).unwrap().signing_keys.as_deref(), Some(JWKS));
    assert_eq!(s.list_oidc_providers().unwrap().len(), 1);
    s.delete_oidc_provider(&p.arn).unwrap();
    assert_eq!(code(s.oidc_provider(&p.arn)), ErrorCode::NoSuchEntity);
    assert_eq!(code(s.delete_oidc_provider(&p.arn)), ErrorCode::NoSuchEntity);
}

fn saml_metadata(entity: &str) -> String {
    format!(
        r#"<?xml version="1.0"?><EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity}"><IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">{}</IDPSSODescriptor></EntityDescriptor>"#,
        "<!-- padding -->".repeat(70)
    )
}

fn saml_providers(s: &dyn Store) {
    let p = s.create_saml_provider("corp-idp", &saml_metadata("https://idp.example.com"), vec![]).unwrap();
    assert_eq!(p.arn, "arn:aws:iam::123456789012:saml-provider/corp-idp");
    assert_eq!(code(s.create_saml_provider("corp-idp", &saml_metadata("x"), vec![])), ErrorCode::EntityAlreadyExists);
    assert_eq!(code(s.create_saml_provider("bad name", &saml_metadata("x"), vec![])), ErrorCode::ValidationError);
    assert_eq!(code(s.create_saml_provider("short", "<EntityDescriptor/>", vec![])), ErrorCode::ValidationError);
    s.update_saml_provider(&p.arn, &saml_metadata("https://idp2.example.com")).unwrap();
    assert!(s.saml_provider(&p.arn).unwrap().metadata_document.contains("idp2"));
    assert_eq!(s.list_saml_providers().unwrap().len(), 1);
    s.delete_saml_provider(&p.arn).unwrap();
    assert_eq!(code(s.saml_provider(&p.arn)), ErrorCode::NoSuchEntity);
}

fn resource_tags(s: &dyn Store) {
    let arn = s
        .create_policy(NewPolicy {
            name: "p".into(),
            document: DOC.into(),
            tags: vec![Tag::new("a", "1")],
            ..NewPolicy::default()
        })
        .unwrap()
        .arn;
    s.create_instance_profile("ip", None, vec![]).unwrap();
    let oidc = s
        .create_oidc_provider(NewOidcProvider { url: "https://o.example.com".into(), ..NewOidcProvider::default() })
        .unwrap()
        .arn;
    let saml = s.create_saml_provider("idp", &saml_metadata("e"), vec![]).unwrap().arn;
    for r in [
        Taggable::Policy(&arn),
        Taggable::InstanceProfile("IP"),
        Taggable::OidcProvider(&oidc),
        Taggable::SamlProvider(&saml),
    ] {
        // Keys are case-sensitive on these resources: `Env` and `env` are two tags.
        s.tag_resource(r, vec![Tag::new("Env", "prod"), Tag::new("env", "x")]).unwrap();
        s.tag_resource(r, vec![Tag::new("Env", "dev")]).unwrap();
        let tags = s.resource_tags(r).unwrap();
        assert!(tags.contains(&Tag::new("Env", "dev")) && tags.contains(&Tag::new("env", "x")), "{r:?}: {tags:?}");
        s.untag_resource(r, &["env".to_owned()]).unwrap();
        assert!(!s.resource_tags(r).unwrap().iter().any(|t| t.key == "env"), "{r:?}");
        let too_many: Vec<Tag> = (0..51).map(|i| Tag::new(format!("k{i}"), "v")).collect();
        assert_eq!(code(s.tag_resource(r, too_many)), ErrorCode::LimitExceeded, "{r:?}");
    }
    assert!(s.resource_tags(Taggable::Policy(&arn)).unwrap().contains(&Tag::new("a", "1")));
    assert_eq!(s.policy(&arn).unwrap().tags, s.resource_tags(Taggable::Policy(&arn)).unwrap());
    assert_eq!(
        code(s.tag_resource(Taggable::Policy("arn:aws:iam::aws:policy/ReadOnlyAccess"), vec![Tag::new("a", "b")])),
        ErrorCode::UnmodifiableEntity
    );
    assert_eq!(code(s.tag_resource(Taggable::InstanceProfile("none"), vec![])), ErrorCode::NoSuchEntity);
    assert_eq!(
        code(s.resource_tags(Taggable::MfaDevice("arn:aws:iam::123456789012:mfa/none"))),
        ErrorCode::NoSuchEntity
    );
}

fn snapshot_lookups(s: &dyn Store) {
    let arn =
        s.create_policy(NewPolicy { name: "Mine".into(), document: DOC.into(), ..NewPolicy::default() }).unwrap().arn;
    s.create_role(NewRole {
        name: "r".into(),
        assume_role_policy_document: TRUST.into(),
        max_session_duration: Some(7200),
        ..NewRole::default()
    })
    .unwrap();
    let snap = s.snapshot();
    assert_eq!(snap.managed_policy(&arn).unwrap().id, arn);
    assert!(snap.managed_policy("arn:aws:iam::123456789012:policy/other/Mine").is_none());
    let aws = "arn:aws:iam::aws:policy/ReadOnlyAccess";
    assert_eq!(snap.managed_policy(aws).unwrap().id, aws);
    assert_eq!(snap.role("r").unwrap().max_session_duration, Some(7200));
}

/// Fills `quota` items with `create`, then checks the next is `LimitExceeded` naming `name`.
fn fill(quota: usize, name: &str, create: impl Fn(usize) -> Result<(), StoreError>) {
    for i in 0..quota {
        create(i).unwrap();
    }
    let e = create(quota).unwrap_err();
    assert_eq!((e.code(), e.http_status()), (ErrorCode::LimitExceeded, 409), "{name}: {e}");
    assert!(e.message().contains(&format!("{name}: ")), "{e}");
}

fn account_quotas(s: &dyn Store) {
    fill(MAX_USERS, "UsersPerAccount", |i| {
        s.create_user(NewUser { name: format!("u{i}"), ..NewUser::default() }).map(drop)
    });
    fill(MAX_ROLES, "RolesPerAccount", |i| {
        s.create_role(NewRole {
            name: format!("r{i}"),
            assume_role_policy_document: TRUST.into(),
            ..NewRole::default()
        })
        .map(drop)
    });
    fill(MAX_POLICIES, "PoliciesPerAccount", |i| {
        s.create_policy(NewPolicy { name: format!("p{i}"), document: DOC.into(), ..NewPolicy::default() }).map(drop)
    });
    fill(MAX_INSTANCE_PROFILES, "InstanceProfilesPerAccount", |i| {
        s.create_instance_profile(&format!("ip{i}"), None, vec![]).map(drop)
    });
    fill(MAX_OIDC_PROVIDERS, "OpenIdConnectProvidersPerAccount", |i| {
        s.create_oidc_provider(NewOidcProvider {
            url: format!("https://idp{i}.example.com"),
            ..NewOidcProvider::default()
        })
        .map(drop)
    });
    fill(MAX_SAML_PROVIDERS, "SamlProvidersPerAccount", |i| {
        s.create_saml_provider(&format!("idp{i}"), &saml_metadata("e"), vec![]).map(drop)
    });
}
