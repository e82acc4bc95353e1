//! The rest of IAM's administration through the facade: identity providers, tags, listings, the
//! account summary and authorization details, the credential report, and last-used data. Each
//! family is denied to a principal without permission (AWS's message, nothing changed) and
//! works for an administrator.

use castellan::credentials::access_key::AccessKeyStatus;
use castellan::store::{AssignmentStatus, Entity, NewOidcProvider, NewPolicy, NewRole, PageRequest, Tag};
use castellan::{Access, AuthorizationDetailsFilter, Caller, EntityFilter, PolicyUsage, ReportState};

use crate::common::{allow, denied, world};

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
const JWKS: &str = r#"{"keys":[{"kty":"RSA","kid":"k1","n":"AQAB","e":"AQAB"}]}"#;

fn saml_metadata() -> String {
    format!(
        r#"<?xml version="1.0"?><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.com"><!-- {} --></md:EntityDescriptor>"#,
        "x".repeat(1000)
    )
}

#[test]
fn oidc_providers() {
    let (w, admin, nobody) = world();
    let iam = &w.iam;
    let new = || NewOidcProvider {
        url: "https://token.example.com/app".into(),
        client_ids: vec!["sts.amazonaws.com".into()],
        ..NewOidcProvider::default()
    };
    let arn = format!("arn:aws:iam::{}:oidc-provider/token.example.com/app", w.account);
    denied(&nobody, "iam:CreateOpenIDConnectProvider", iam.create_open_id_connect_provider(&nobody, new()));
    assert!(iam.list_open_id_connect_providers(&admin).unwrap().is_empty(), "a denied create changes nothing");
    // Tags on create need the tag permission too.
    let tagger = w.user("creator", Some(&allow(&["iam:CreateOpenIDConnectProvider"], "*")));
    let tagged = NewOidcProvider { tags: vec![Tag::new("k", "v")], ..new() };
    denied(&tagger, "iam:TagOpenIDConnectProvider", iam.create_open_id_connect_provider(&tagger, tagged));
    let created = iam.create_open_id_connect_provider(&admin, new()).unwrap();
    assert_eq!(created.arn, arn);
    denied(&nobody, "iam:GetOpenIDConnectProvider", iam.get_open_id_connect_provider(&nobody, &arn));
    denied(&nobody, "iam:ListOpenIDConnectProviders", iam.list_open_id_connect_providers(&nobody));
    denied(
        &nobody,
        "iam:AddClientIDToOpenIDConnectProvider",
        iam.add_client_id_to_open_id_connect_provider(&nobody, &arn, "web"),
    );
    denied(
        &nobody,
        "iam:RemoveClientIDFromOpenIDConnectProvider",
        iam.remove_client_id_from_open_id_connect_provider(&nobody, &arn, "sts.amazonaws.com"),
    );
    denied(
        &nobody,
        "iam:UpdateOpenIDConnectProviderThumbprint",
        iam.update_open_id_connect_provider_thumbprint(&nobody, &arn, vec!["a".repeat(40)]),
    );
    denied(
        &nobody,
        "iam:UpdateOpenIDConnectProviderSigningKeys",
        iam.update_open_id_connect_provider_signing_keys(&nobody, &arn, Some(JWKS)),
    );
    denied(
        &nobody,
        "iam:TagOpenIDConnectProvider",
        iam.tag_open_id_connect_provider(&nobody, &arn, vec![Tag::new("k", "v")]),
    );
    denied(&nobody, "iam:DeleteOpenIDConnectProvider", iam.delete_open_id_connect_provider(&nobody, &arn));
    let unchanged = iam.get_open_id_connect_provider(&admin, &arn).unwrap();
    assert_eq!(unchanged.client_ids, ["sts.amazonaws.com"]);
    assert!(unchanged.signing_keys.is_none() && unchanged.thumbprints.is_empty() && unchanged.tags.is_empty());
    iam.add_client_id_to_open_id_connect_provider(&admin, &arn, "web").unwrap();
    iam.remove_client_id_from_open_id_connect_provider(&admin, &arn, "sts.amazonaws.com").unwrap();
    iam.update_open_id_connect_provider_thumbprint(&admin, &arn, vec!["a".repeat(40)]).unwrap();
    iam.update_open_id_connect_provider_signing_keys(&admin, &arn, Some(JWKS)).unwrap();
    iam.tag_open_id_connect_provider(&admin, &arn, vec![Tag::new("k", "v")]).unwrap();
    denied(&nobody, "iam:ListOpenIDConnectProviderTags", iam.list_open_id_connect_provider_tags(&nobody, &arn));
    denied(&nobody, "iam:UntagOpenIDConnectProvider", iam.untag_open_id_connect_provider(&nobody, &arn, &["k".into()]));
    assert_eq!(iam.list_open_id_connect_provider_tags(&admin, &arn).unwrap(), [Tag::new("k", "v")]);
    let got = iam.get_open_id_connect_provider(&admin, &arn).unwrap();
    assert_eq!((got.client_ids.as_slice(), got.signing_keys.as_deref()), (&["web".to_owned()][..], Some(JWKS)));
    iam.untag_open_id_connect_provider(&admin, &arn, &["k".into()]).unwrap();
    assert_eq!(iam.list_open_id_connect_providers(&admin).unwrap().len(), 1);
    iam.delete_open_id_connect_provider(&admin, &arn).unwrap();
    assert_eq!(iam.get_open_id_connect_provider(&admin, &arn).unwrap_err().code(), "NoSuchEntity");
}

#[test]
fn saml_providers() {
    let (w, admin, nobody) = world();
    let iam = &w.iam;
    let metadata = saml_metadata();
    let arn = format!("arn:aws:iam::{}:saml-provider/corp", w.account);
    denied(&nobody, "iam:CreateSAMLProvider", iam.create_saml_provider(&nobody, "corp", &metadata, vec![]));
    assert!(iam.list_saml_providers(&admin).unwrap().is_empty());
    assert_eq!(iam.create_saml_provider(&admin, "corp", &metadata, vec![]).unwrap().arn, arn);
    denied(&nobody, "iam:GetSAMLProvider", iam.get_saml_provider(&nobody, &arn));
    denied(&nobody, "iam:ListSAMLProviders", iam.list_saml_providers(&nobody));
    let updated = metadata.replace("idp.example.com", "idp2.example.com");
    denied(&nobody, "iam:UpdateSAMLProvider", iam.update_saml_provider(&nobody, &arn, &updated));
    denied(&nobody, "iam:TagSAMLProvider", iam.tag_saml_provider(&nobody, &arn, vec![Tag::new("k", "v")]));
    denied(&nobody, "iam:ListSAMLProviderTags", iam.list_saml_provider_tags(&nobody, &arn));
    denied(&nobody, "iam:UntagSAMLProvider", iam.untag_saml_provider(&nobody, &arn, &["k".into()]));
    denied(&nobody, "iam:DeleteSAMLProvider", iam.delete_saml_provider(&nobody, &arn));
    assert_eq!(iam.get_saml_provider(&admin, &arn).unwrap().metadata_document, metadata);
    iam.update_saml_provider(&admin, &arn, &updated).unwrap();
    iam.tag_saml_provider(&admin, &arn, vec![Tag::new("k", "v")]).unwrap();
    assert_eq!(iam.list_saml_provider_tags(&admin, &arn).unwrap(), [Tag::new("k", "v")]);
    iam.untag_saml_provider(&admin, &arn, &["k".into()]).unwrap();
    assert_eq!(iam.get_saml_provider(&admin, &arn).unwrap().metadata_document, updated);
    iam.delete_saml_provider(&admin, &arn).unwrap();
    assert!(iam.list_saml_providers(&admin).unwrap().is_empty());
}

#[test]
fn tags_of_policies_instance_profiles_mfa_devices_users_and_roles() {
    let (w, admin, nobody) = world();
    let iam = &w.iam;
    let policy = iam
        .create_policy(&admin, NewPolicy { name: "p".into(), document: DOC.into(), ..NewPolicy::default() })
        .unwrap();
    iam.create_instance_profile(&admin, "ip", None, vec![]).unwrap();
    let device = iam.create_virtual_mfa_device(&admin, "d", None, vec![]).unwrap();
    iam.create_role(
        &admin,
        NewRole {
            name: "r".into(),
            assume_role_policy_document: TRUST.into(),
            tags: vec![Tag::new("env", "prod")],
            ..NewRole::default()
        },
    )
    .unwrap();
    let tag = || vec![Tag::new("k", "v")];
    let keys = ["k".to_owned()];
    denied(&nobody, "iam:TagPolicy", iam.tag_policy(&nobody, &policy.arn, tag()));
    denied(&nobody, "iam:TagInstanceProfile", iam.tag_instance_profile(&nobody, "ip", tag()));
    denied(&nobody, "iam:TagMFADevice", iam.tag_mfa_device(&nobody, &device.serial_number, tag()));
    assert!(iam.list_policy_tags(&admin, &policy.arn).unwrap().is_empty());
    assert!(iam.list_instance_profile_tags(&admin, "ip").unwrap().is_empty());
    assert!(iam.list_mfa_device_tags(&admin, &device.serial_number).unwrap().is_empty());
    iam.tag_policy(&admin, &policy.arn, tag()).unwrap();
    iam.tag_instance_profile(&admin, "ip", tag()).unwrap();
    iam.tag_mfa_device(&admin, &device.serial_number, tag()).unwrap();
    denied(&nobody, "iam:ListPolicyTags", iam.list_policy_tags(&nobody, &policy.arn));
    denied(&nobody, "iam:ListInstanceProfileTags", iam.list_instance_profile_tags(&nobody, "ip"));
    denied(&nobody, "iam:ListMFADeviceTags", iam.list_mfa_device_tags(&nobody, &device.serial_number));
    denied(&nobody, "iam:UntagPolicy", iam.untag_policy(&nobody, &policy.arn, &keys));
    denied(&nobody, "iam:UntagInstanceProfile", iam.untag_instance_profile(&nobody, "ip", &keys));
    denied(&nobody, "iam:UntagMFADevice", iam.untag_mfa_device(&nobody, &device.serial_number, &keys));
    denied(&nobody, "iam:ListUserTags", iam.list_user_tags(&nobody, "nobody"));
    denied(&nobody, "iam:ListRoleTags", iam.list_role_tags(&nobody, "r"));
    assert_eq!(iam.list_policy_tags(&admin, &policy.arn).unwrap(), tag());
    assert_eq!(iam.list_instance_profile_tags(&admin, "ip").unwrap(), tag());
    assert_eq!(iam.list_mfa_device_tags(&admin, &device.serial_number).unwrap(), tag());
    assert_eq!(iam.list_user_tags(&admin, "nobody").unwrap(), [Tag::new("team", "blue")]);
    assert_eq!(iam.list_role_tags(&admin, "r").unwrap(), [Tag::new("env", "prod")]);
    iam.untag_policy(&admin, &policy.arn, &keys).unwrap();
    iam.untag_instance_profile(&admin, "ip", &keys).unwrap();
    iam.untag_mfa_device(&admin, &device.serial_number, &keys).unwrap();
    assert!(iam.list_policy_tags(&admin, &policy.arn).unwrap().is_empty());
    // A tag condition on the request is honoured: only `team` tags may be added.
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:TagPolicy","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["team"]}}}]}"#;
    let tagger = w.user("tagger", Some(doc));
    denied(&tagger, "iam:TagPolicy", iam.tag_policy(&tagger, &policy.arn, tag()));
    iam.tag_policy(&tagger, &policy.arn, vec![Tag::new("team", "red")]).unwrap();
}

#[test]
fn listings_and_entities_for_policy() {
    let (w, admin, nobody) = world();
    let iam = &w.iam;
    iam.create_role(
        &admin,
        NewRole { name: "r".into(), assume_role_policy_document: TRUST.into(), ..NewRole::default() },
    )
    .unwrap();
    iam.create_instance_profile(&admin, "ip", None, vec![]).unwrap();
    iam.create_instance_profile(&admin, "ip2", None, vec![]).unwrap();
    iam.add_role_to_instance_profile(&admin, "ip", "r").unwrap();
    let unassigned = iam.create_virtual_mfa_device(&admin, "spare", None, vec![]).unwrap();
    denied(&nobody, "iam:ListInstanceProfiles", iam.list_instance_profiles(&nobody, None, &PageRequest::default()));
    denied(&nobody, "iam:ListInstanceProfilesForRole", iam.list_instance_profiles_for_role(&nobody, "r"));
    denied(&nobody, "iam:ListVirtualMFADevices", iam.list_virtual_mfa_devices(&nobody, AssignmentStatus::Any));
    let ro = "arn:aws:iam::aws:policy/ReadOnlyAccess";
    iam.create_group(&admin, "g", None).unwrap();
    iam.attach_policy(&admin, Entity::Group("g"), ro).unwrap();
    iam.attach_policy(&admin, Entity::Role("r"), ro).unwrap();
    iam.put_permissions_boundary(&admin, Entity::User("nobody"), ro).unwrap();
    denied(
        &nobody,
        "iam:ListEntitiesForPolicy",
        iam.list_entities_for_policy(&nobody, ro, None, PolicyUsage::PermissionsPolicy),
    );
    assert_eq!(iam.list_instance_profiles(&admin, None, &PageRequest::default()).unwrap().items.len(), 2);
    let for_role = iam.list_instance_profiles_for_role(&admin, "r").unwrap();
    assert_eq!(for_role.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["ip"]);
    let spare = iam.list_virtual_mfa_devices(&admin, AssignmentStatus::Unassigned).unwrap();
    assert_eq!(
        spare.iter().map(|d| d.device.serial_number.as_str()).collect::<Vec<_>>(),
        [unassigned.serial_number.as_str()]
    );
    assert!(iam.list_virtual_mfa_devices(&admin, AssignmentStatus::Assigned).unwrap().is_empty());
    let attached = iam.list_entities_for_policy(&admin, ro, None, PolicyUsage::PermissionsPolicy).unwrap();
    assert_eq!(attached.policy_groups.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["g"]);
    assert_eq!(attached.policy_roles.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["r"]);
    assert!(attached.policy_users.is_empty());
    let roles_only =
        iam.list_entities_for_policy(&admin, ro, Some(EntityFilter::Role), PolicyUsage::PermissionsPolicy).unwrap();
    assert!(roles_only.policy_groups.is_empty() && roles_only.policy_roles.len() == 1);
    let boundary = iam.list_entities_for_policy(&admin, ro, None, PolicyUsage::PermissionsBoundary).unwrap();
    assert_eq!(boundary.policy_users.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["nobody"]);
    assert!(boundary.policy_roles.is_empty());
}

#[test]
fn account_summary_and_authorization_details() {
    let (w, admin, nobody) = world();
    let iam = &w.iam;
    iam.create_role(
        &admin,
        NewRole { name: "r".into(), assume_role_policy_document: TRUST.into(), ..NewRole::default() },
    )
    .unwrap();
    iam.create_group(&admin, "g", None).unwrap();
    iam.add_user_to_group(&admin, "g", "nobody").unwrap();
    iam.put_inline_policy(&admin, Entity::Group("g"), "gi", DOC).unwrap();
    let p = iam
        .create_policy(&admin, NewPolicy { name: "p".into(), document: DOC.into(), ..NewPolicy::default() })
        .unwrap();
    iam.attach_policy(&admin, Entity::Role("r"), &p.arn).unwrap();
    denied(&nobody, "iam:GetAccountSummary", iam.get_account_summary(&nobody));
    denied(&nobody, "iam:GetAccountAuthorizationDetails", iam.get_account_authorization_details(&nobody, &[]));
    let summary = iam.get_account_summary(&admin).unwrap();
    assert_eq!(summary["Users"], 2);
    assert_eq!(summary["UsersQuota"], 5000);
    assert_eq!(summary["Groups"], 1);
    assert_eq!(summary["Roles"], 1);
    assert_eq!(summary["Policies"], 1);
    assert_eq!(summary["PolicyVersionsInUse"], 1);
    assert_eq!(summary["AccountAccessKeysPresent"], 1, "the bootstrap root key");
    assert_eq!(summary["AccountMFAEnabled"], 0);
    let details = iam.get_account_authorization_details(&admin, &[]).unwrap();
    let nobody_detail = details.user_detail_list.iter().find(|u| u.user.name.as_str() == "nobody").unwrap();
    assert_eq!(nobody_detail.group_list, ["g"]);
    let admin_detail = details.user_detail_list.iter().find(|u| u.user.name.as_str() == "admin").unwrap();
    assert_eq!(admin_detail.attached_managed_policies[0].name, "AdministratorAccess");
    assert_eq!(details.group_detail_list[0].group_policy_list[0].name.as_str(), "gi");
    assert_eq!(details.role_detail_list[0].attached_managed_policies[0].arn, p.arn);
    let arns: Vec<&str> = details.policies.iter().map(|d| d.policy.arn.as_str()).collect();
    assert!(
        arns.contains(&p.arn.as_str()) && arns.contains(&"arn:aws:iam::aws:policy/AdministratorAccess"),
        "{arns:?}"
    );
    assert_eq!(details.policies.iter().find(|d| d.policy.arn == p.arn).unwrap().policy_version_list.len(), 1);
    let roles = iam.get_account_authorization_details(&admin, &[AuthorizationDetailsFilter::Role]).unwrap();
    assert!(roles.user_detail_list.is_empty() && roles.policies.is_empty() && roles.role_detail_list.len() == 1);
}

#[test]
fn credential_report() {
    let (w, admin, nobody) = world();
    let iam = &w.iam;
    iam.create_access_key(&admin, Some("nobody")).unwrap();
    denied(&nobody, "iam:GenerateCredentialReport", iam.generate_credential_report(&nobody));
    assert_eq!(iam.get_credential_report(&admin).unwrap_err().code(), "ReportNotPresent", "nothing generated");
    assert_eq!(iam.generate_credential_report(&admin).unwrap(), ReportState::Complete);
    denied(&nobody, "iam:GetCredentialReport", iam.get_credential_report(&nobody));
    let report = iam.get_credential_report(&admin).unwrap();
    assert_eq!(report.report_format, "text/csv");
    let lines: Vec<&str> = report.content.lines().collect();
    assert_eq!(lines[0], castellan::CREDENTIAL_REPORT_COLUMNS);
    assert_eq!(lines[0].split(',').count(), 22);
    assert!(lines[1].starts_with(&format!("<root_account>,arn:aws:iam::{}:root,", w.account)), "{}", lines[1]);
    let row = lines.iter().find(|l| l.starts_with("nobody,")).unwrap();
    let fields: Vec<&str> = row.split(',').collect();
    assert_eq!(fields.len(), 22);
    assert_eq!(fields[2], "2024-01-01T00:00:00+00:00");
    assert_eq!((fields[3], fields[7], fields[8], fields[13]), ("false", "false", "true", "false"));
    // Four hours later the report has expired.
    w.clock.advance(4 * 3600);
    assert_eq!(iam.get_credential_report(&admin).unwrap_err().code(), "ReportExpired");
}

#[test]
fn access_key_and_role_last_used_come_from_calls_and_are_flushed_once() {
    let (w, admin, nobody) = world();
    let iam = &w.iam;
    let key = iam.create_access_key(&admin, Some("nobody")).unwrap();
    let fresh = iam.get_access_key_last_used(&admin, &key.access_key_id).unwrap();
    assert_eq!(fresh.user_name.as_deref(), Some("nobody"));
    assert_eq!(fresh.access_key_last_used.last_used_date, None);
    assert_eq!(fresh.access_key_last_used.service_name, "N/A");
    denied(&nobody, "iam:GetAccessKeyLastUsed", iam.get_access_key_last_used(&nobody, &key.access_key_id));
    // A call signed with the key, ten seconds later, in eu-west-1.
    w.clock.advance(10);
    let signed = Caller { access_key_id: Some(key.access_key_id.clone()), ..nobody.clone() }.in_region("eu-west-1");
    let _ = iam.authorize(&signed, &Access::new("s3:GetObject", "arn:aws:s3:::b/k")).unwrap();
    let used = iam.get_access_key_last_used(&admin, &key.access_key_id).unwrap().access_key_last_used;
    assert_eq!(used.last_used_date.map(|t| t.seconds), Some(w.clock_now()));
    assert_eq!((used.service_name.as_str(), used.region.as_str()), ("s3", "eu-west-1"));
    // Flushed to the store once; nothing is pending afterwards.
    assert_eq!(iam.flush_last_used().unwrap(), 1);
    assert_eq!(iam.flush_last_used().unwrap(), 0);
    let stored = iam.list_access_keys(&admin, Some("nobody")).unwrap();
    assert_eq!(stored[0].last_used.service_name, "s3");
    assert_eq!(stored[0].status, AccessKeyStatus::Active);
    // A role's last use comes from its sessions' calls.
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{}:root"}},"Action":"sts:AssumeRole"}}]}}"#,
        w.account
    );
    let role = iam
        .create_role(
            &admin,
            NewRole { name: "deployer".into(), assume_role_policy_document: trust, ..NewRole::default() },
        )
        .unwrap();
    assert_eq!(iam.role_last_used(&role.arn).last_used_date, None);
    let assumed = iam
        .assume_role(
            &admin,
            &castellan::sts::AssumeRoleRequest {
                role_arn: role.arn.clone(),
                role_session_name: "deploy".into(),
                ..Default::default()
            },
        )
        .unwrap();
    w.clock.advance(5);
    let session = Caller::session(assumed.claims).in_region("us-west-2");
    let _ = iam.authorize(&session, &Access::new("ec2:RunInstances", "*")).unwrap();
    let last = iam.role_last_used(&role.arn);
    assert_eq!(
        (last.last_used_date.map(|t| t.seconds), last.region.as_deref()),
        (Some(w.clock_now()), Some("us-west-2"))
    );
}

#[test]
fn service_last_accessed_details() {
    let (w, admin, nobody) = world();
    let iam = &w.iam;
    let reader = w.user("reader", Some(&allow(&["s3:GetObject", "dynamodb:GetItem"], "*")));
    let reader_arn = reader.arn();
    w.clock.advance(60);
    let _ = iam
        .authorize(&reader.clone().in_region("eu-west-1"), &Access::new("s3:GetObject", "arn:aws:s3:::b/k"))
        .unwrap();
    denied(
        &nobody,
        "iam:GenerateServiceLastAccessedDetails",
        iam.generate_service_last_accessed_details(&nobody, &reader_arn),
    );
    let job = iam.generate_service_last_accessed_details(&admin, &reader_arn).unwrap();
    denied(&nobody, "iam:GetServiceLastAccessedDetails", iam.get_service_last_accessed_details(&nobody, &job));
    let details = iam.get_service_last_accessed_details(&admin, &job).unwrap();
    assert_eq!(details.job_status, "COMPLETED");
    let s: Vec<(&str, Option<i64>)> = details
        .services_last_accessed
        .iter()
        .map(|s| (s.service_namespace.as_str(), s.last_authenticated.map(|t| t.seconds)))
        .collect();
    assert_eq!(s, [("dynamodb", None), ("s3", Some(w.clock_now()))]);
    let s3 = &details.services_last_accessed[1];
    assert_eq!(s3.last_authenticated_entity.as_deref(), Some(reader_arn.as_str()));
    assert_eq!(s3.last_authenticated_region.as_deref(), Some("eu-west-1"));
    assert_eq!(iam.get_service_last_accessed_details(&admin, "no-such-job").unwrap_err().code(), "NoSuchEntity");
}
