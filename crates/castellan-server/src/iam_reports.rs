//! IAM's SAML providers, the account's authorization details, the credential report and the
//! service-last-accessed reports.

use castellan::store::{AttachedPolicy, InlinePolicy, SamlProvider, Tag};
use castellan::{AuthorizationDetailsFilter, IamError, RoleLastUsed, ServiceLastAccessed};

use crate::iam_ops::{group_fields, instance_profile_fields, policy_fields, role_fields, user_fields, version_fields};
use crate::params::paginate;
use crate::query::{Call, OpResult};
use crate::wire::{Xml, base64, timestamp, url_encode};

/// Runs one of these actions; `None` when `action` is none of them.
pub(crate) fn dispatch(call: &Call<'_>, action: &str) -> Option<OpResult> {
    let iam = call.iam;
    let caller = call.caller;
    let p = call.params;
    Some(match action {
        "CreateSAMLProvider" => create_saml_provider(call),
        "GetSAMLProvider" => get_saml_provider(call),
        "ListSAMLProviders" => list_saml_providers(call),
        "UpdateSAMLProvider" => update_saml_provider(call),
        "DeleteSAMLProvider" => {
            p.required("SAMLProviderArn").and_then(|a| iam.delete_saml_provider(caller, a).map(|()| None))
        }
        "TagSAMLProvider" => {
            p.required("SAMLProviderArn").and_then(|a| iam.tag_saml_provider(caller, a, p.tags("Tags")).map(|()| None))
        }
        "UntagSAMLProvider" => p
            .required("SAMLProviderArn")
            .and_then(|a| iam.untag_saml_provider(caller, a, &p.list("TagKeys", "")).map(|()| None)),
        "ListSAMLProviderTags" => p.required("SAMLProviderArn").and_then(|a| {
            let all = iam.list_saml_provider_tags(caller, a)?;
            let (items, marker) = paginate(all, &p.page()?)?;
            let mut xml = Xml::default();
            xml.members("Tags", &items, |xml, t| {
                xml.leaf("Key", &t.key).leaf("Value", &t.value);
            });
            crate::iam_ops::truncation(&mut xml, marker.as_deref());
            Ok(Some(xml))
        }),
        "GetAccountAuthorizationDetails" => get_account_authorization_details(call),
        "GenerateCredentialReport" => generate_credential_report(call),
        "GetCredentialReport" => get_credential_report(call),
        "GenerateServiceLastAccessedDetails" => generate_service_last_accessed_details(call),
        "GetServiceLastAccessedDetails" => get_service_last_accessed_details(call),
        _ => return None,
    })
}

// ---- SAML providers ----

fn tag_members(xml: &mut Xml, list: &[Tag]) {
    if !list.is_empty() {
        xml.members("Tags", list, |xml, t| {
            xml.leaf("Key", &t.key).leaf("Value", &t.value);
        });
    }
}

fn create_saml_provider(call: &Call<'_>) -> OpResult {
    let p = call.params;
    let provider = call.iam.create_saml_provider(
        call.caller,
        p.required("Name")?,
        p.required("SAMLMetadataDocument")?,
        p.tags("Tags"),
    )?;
    let mut xml = Xml::default();
    xml.leaf("SAMLProviderArn", &provider.arn);
    tag_members(&mut xml, &provider.tags);
    Ok(Some(xml))
}

fn get_saml_provider(call: &Call<'_>) -> OpResult {
    let provider: SamlProvider = call.iam.get_saml_provider(call.caller, call.params.required("SAMLProviderArn")?)?;
    let mut xml = Xml::default();
    xml.leaf("SAMLMetadataDocument", &provider.metadata_document).leaf("CreateDate", &timestamp(provider.create_date));
    tag_members(&mut xml, &provider.tags);
    Ok(Some(xml))
}

fn list_saml_providers(call: &Call<'_>) -> OpResult {
    let providers = call.iam.list_saml_providers(call.caller)?;
    let mut xml = Xml::default();
    xml.members("SAMLProviderList", &providers, |xml, provider| {
        xml.leaf("Arn", &provider.arn).leaf("CreateDate", &timestamp(provider.create_date));
    });
    Ok(Some(xml))
}

fn update_saml_provider(call: &Call<'_>) -> OpResult {
    let p = call.params;
    let arn = p.required("SAMLProviderArn")?;
    call.iam.update_saml_provider(call.caller, arn, p.required("SAMLMetadataDocument")?)?;
    let mut xml = Xml::default();
    xml.leaf("SAMLProviderArn", arn);
    Ok(Some(xml))
}

// ---- authorization details ----

/// `<RoleLastUsed>`: empty when the role was never used (as AWS answers).
pub(crate) fn role_last_used(xml: &mut Xml, last: &RoleLastUsed) {
    xml.open("RoleLastUsed");
    if let Some(at) = last.last_used_date {
        xml.leaf("LastUsedDate", &timestamp(at));
    }
    xml.opt("Region", last.region.as_deref());
    xml.close("RoleLastUsed");
}

fn inline_list(xml: &mut Xml, name: &str, policies: &[InlinePolicy]) {
    xml.members(name, policies, |xml, p| {
        xml.leaf("PolicyName", p.name.as_str()).leaf("PolicyDocument", &url_encode(&p.document));
    });
}

fn attached_list(xml: &mut Xml, policies: &[AttachedPolicy]) {
    xml.members("AttachedManagedPolicies", policies, |xml, p| {
        xml.leaf("PolicyName", &p.name).leaf("PolicyArn", &p.arn);
    });
}

fn parse_filter(value: &str) -> Result<AuthorizationDetailsFilter, IamError> {
    Ok(match value {
        "User" => AuthorizationDetailsFilter::User,
        "Role" => AuthorizationDetailsFilter::Role,
        "Group" => AuthorizationDetailsFilter::Group,
        "LocalManagedPolicy" => AuthorizationDetailsFilter::LocalManagedPolicy,
        "AWSManagedPolicy" => AuthorizationDetailsFilter::AwsManagedPolicy,
        other => {
            return Err(IamError::new(
                "ValidationError",
                400,
                format!(
                    "1 validation error detected: Value '[{other}]' at 'filter' failed to satisfy constraint: \
                     Member must satisfy constraint: [Member must satisfy enum value set: \
                     [User, Role, LocalManagedPolicy, Group, AWSManagedPolicy]]"
                ),
            ));
        }
    })
}

/// `GetAccountAuthorizationDetails`: the facade answers in full; the server pages over the
/// entities of all four lists together (users, groups, roles, then policies), `MaxItems` per
/// page.
fn get_account_authorization_details(call: &Call<'_>) -> OpResult {
    let p = call.params;
    let filter = p.list("Filter", "").iter().map(|f| parse_filter(f)).collect::<Result<Vec<_>, _>>()?;
    let details = call.iam.get_account_authorization_details(call.caller, &filter)?;
    enum Item<'a> {
        User(&'a castellan::UserDetail),
        Group(&'a castellan::GroupDetail),
        Role(&'a castellan::RoleDetail),
        Policy(&'a castellan::ManagedPolicyDetail),
    }
    let items: Vec<Item<'_>> = details
        .user_detail_list
        .iter()
        .map(Item::User)
        .chain(details.group_detail_list.iter().map(Item::Group))
        .chain(details.role_detail_list.iter().map(Item::Role))
        .chain(details.policies.iter().map(Item::Policy))
        .collect();
    let (page, marker) = paginate(items, &p.page()?)?;
    let mut users = Xml::default();
    let mut groups = Xml::default();
    let mut roles = Xml::default();
    let mut policies = Xml::default();
    for item in &page {
        match item {
            Item::User(d) => {
                users.open("member");
                user_fields(&mut users, &d.user, true);
                inline_list(&mut users, "UserPolicyList", &d.user_policy_list);
                users.open("GroupList");
                for g in &d.group_list {
                    users.leaf("member", g);
                }
                users.close("GroupList");
                attached_list(&mut users, &d.attached_managed_policies);
                users.close("member");
            }
            Item::Group(d) => {
                groups.open("member");
                group_fields(&mut groups, &d.group);
                inline_list(&mut groups, "GroupPolicyList", &d.group_policy_list);
                attached_list(&mut groups, &d.attached_managed_policies);
                groups.close("member");
            }
            Item::Role(d) => {
                roles.open("member");
                role_fields(&mut roles, &d.role, true);
                roles.open("InstanceProfileList");
                for profile in &d.instance_profile_list {
                    roles.open("member");
                    instance_profile_fields(&mut roles, profile, std::slice::from_ref(&d.role));
                    roles.close("member");
                }
                roles.close("InstanceProfileList");
                inline_list(&mut roles, "RolePolicyList", &d.role_policy_list);
                attached_list(&mut roles, &d.attached_managed_policies);
                role_last_used(&mut roles, &d.role_last_used);
                roles.close("member");
            }
            Item::Policy(d) => {
                policies.open("member");
                policy_fields(&mut policies, &d.policy, false);
                policies.members("PolicyVersionList", &d.policy_version_list, |xml, v| version_fields(xml, v, true));
                policies.close("member");
            }
        }
    }
    let mut xml = Xml::default();
    for (name, inner) in
        [("UserDetailList", users), ("GroupDetailList", groups), ("RoleDetailList", roles), ("Policies", policies)]
    {
        xml.open(name).raw(&inner).close(name);
    }
    crate::iam_ops::truncation(&mut xml, marker.as_deref());
    Ok(Some(xml))
}

// ---- credential report ----

fn generate_credential_report(call: &Call<'_>) -> OpResult {
    let state = call.iam.generate_credential_report(call.caller)?;
    let mut xml = Xml::default();
    xml.leaf("State", state.as_str()).leaf(
        "Description",
        match state {
            castellan::ReportState::Complete => "Credential report generated",
            _ => "No report exists. Starting a new report generation task",
        },
    );
    Ok(Some(xml))
}

fn get_credential_report(call: &Call<'_>) -> OpResult {
    let report = call.iam.get_credential_report(call.caller)?;
    let mut xml = Xml::default();
    xml.leaf("Content", &base64(report.content.as_bytes()))
        .leaf("ReportFormat", &report.report_format)
        .leaf("GeneratedTime", &timestamp(report.generated_time));
    Ok(Some(xml))
}

// ---- service last accessed ----

fn generate_service_last_accessed_details(call: &Call<'_>) -> OpResult {
    let p = call.params;
    match p.get("Granularity") {
        None | Some("SERVICE_LEVEL") => {}
        Some(other) => {
            return Err(IamError::invalid_input(format!(
                "Granularity {other}: Castellan reports at SERVICE_LEVEL only."
            )));
        }
    }
    let job_id = call.iam.generate_service_last_accessed_details(call.caller, p.required("Arn")?)?;
    let mut xml = Xml::default();
    xml.leaf("JobId", &job_id);
    Ok(Some(xml))
}

fn get_service_last_accessed_details(call: &Call<'_>) -> OpResult {
    let p = call.params;
    let details = call.iam.get_service_last_accessed_details(call.caller, p.required("JobId")?)?;
    let (services, marker) = paginate(details.services_last_accessed, &p.page()?)?;
    let mut xml = Xml::default();
    xml.leaf("JobStatus", &details.job_status)
        .leaf("JobType", &details.job_type)
        .leaf("JobCreationDate", &timestamp(details.job_creation_date))
        .leaf("JobCompletionDate", &timestamp(details.job_completion_date));
    xml.members("ServicesLastAccessed", &services, |xml, s: &ServiceLastAccessed| {
        xml.leaf("ServiceName", &s.service_name).leaf("ServiceNamespace", &s.service_namespace);
        if let Some(at) = s.last_authenticated {
            xml.leaf("LastAuthenticated", &timestamp(at));
        }
        xml.opt("LastAuthenticatedEntity", s.last_authenticated_entity.as_deref())
            .opt("LastAuthenticatedRegion", s.last_authenticated_region.as_deref())
            .leaf("TotalAuthenticatedEntities", &s.total_authenticated_entities.to_string());
    });
    crate::iam_ops::truncation(&mut xml, marker.as_deref());
    Ok(Some(xml))
}
