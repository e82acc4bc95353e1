//! IAM's operations beyond the entities' basics: the policy simulator and context keys, tag
//! listings and tags of policies, instance profiles and MFA devices, more listings, and access
//! key last-used data.

use castellan::store::{AssignmentStatus, NewOidcProvider, Tag};
use castellan::{
    ContextEntry, ContextKeyType, EntityFilter, EvaluationResult, IamError, PolicyEntity, PolicyUsage,
    SimulateCustomPolicyRequest, SimulatePrincipalPolicyRequest, SimulationResults, SimulationStatement,
};

use crate::iam_ops::{instance_profile_fields, truncation};
use crate::params::{Params, paginate};
use crate::query::{Call, OpResult};
use crate::wire::{Xml, escape_into, timestamp};

/// Runs one of these actions; `None` when `action` is none of them.
pub(crate) fn dispatch(call: &Call<'_>, action: &str) -> Option<OpResult> {
    let iam = call.iam;
    let caller = call.caller;
    let p = call.params;
    Some(match action {
        "SimulatePrincipalPolicy" => simulate_principal_policy(call),
        "SimulateCustomPolicy" => simulate_custom_policy(call),
        "GetContextKeysForPrincipalPolicy" => p.required("PolicySourceArn").and_then(|arn| {
            context_keys(iam.get_context_keys_for_principal_policy(caller, arn, &p.list("PolicyInputList", ""))?)
        }),
        "GetContextKeysForCustomPolicy" => {
            context_keys_result(iam.get_context_keys_for_custom_policy(caller, &p.list("PolicyInputList", "")))
        }
        "ListUserTags" => p.required("UserName").and_then(|n| tag_list(iam.list_user_tags(caller, n)?, p)),
        "ListRoleTags" => p.required("RoleName").and_then(|n| tag_list(iam.list_role_tags(caller, n)?, p)),
        "ListPolicyTags" => p.required("PolicyArn").and_then(|a| tag_list(iam.list_policy_tags(caller, a)?, p)),
        "ListInstanceProfileTags" => {
            p.required("InstanceProfileName").and_then(|n| tag_list(iam.list_instance_profile_tags(caller, n)?, p))
        }
        "ListMFADeviceTags" => {
            p.required("SerialNumber").and_then(|s| tag_list(iam.list_mfa_device_tags(caller, s)?, p))
        }
        "TagPolicy" => p.required("PolicyArn").and_then(|a| none(iam.tag_policy(caller, a, p.tags("Tags")))),
        "UntagPolicy" => {
            p.required("PolicyArn").and_then(|a| none(iam.untag_policy(caller, a, &p.list("TagKeys", ""))))
        }
        "TagInstanceProfile" => {
            p.required("InstanceProfileName").and_then(|n| none(iam.tag_instance_profile(caller, n, p.tags("Tags"))))
        }
        "UntagInstanceProfile" => p
            .required("InstanceProfileName")
            .and_then(|n| none(iam.untag_instance_profile(caller, n, &p.list("TagKeys", "")))),
        "TagMFADevice" => p.required("SerialNumber").and_then(|s| none(iam.tag_mfa_device(caller, s, p.tags("Tags")))),
        "UntagMFADevice" => {
            p.required("SerialNumber").and_then(|s| none(iam.untag_mfa_device(caller, s, &p.list("TagKeys", ""))))
        }
        "ListInstanceProfiles" => list_instance_profiles(call),
        "ListInstanceProfilesForRole" => list_instance_profiles_for_role(call),
        "ListVirtualMFADevices" => list_virtual_mfa_devices(call),
        "GetAccessKeyLastUsed" => get_access_key_last_used(call),
        "GetAccountSummary" => get_account_summary(call),
        "ListEntitiesForPolicy" => list_entities_for_policy(call),
        "CreateOpenIDConnectProvider" => create_oidc_provider(call),
        "GetOpenIDConnectProvider" => get_oidc_provider(call),
        "ListOpenIDConnectProviders" => list_oidc_providers(call),
        "DeleteOpenIDConnectProvider" => {
            p.required("OpenIDConnectProviderArn").and_then(|a| none(iam.delete_open_id_connect_provider(caller, a)))
        }
        "AddClientIDToOpenIDConnectProvider" => p
            .required("OpenIDConnectProviderArn")
            .and_then(|a| none(iam.add_client_id_to_open_id_connect_provider(caller, a, p.required("ClientID")?))),
        "RemoveClientIDFromOpenIDConnectProvider" => p
            .required("OpenIDConnectProviderArn")
            .and_then(|a| none(iam.remove_client_id_from_open_id_connect_provider(caller, a, p.required("ClientID")?))),
        "UpdateOpenIDConnectProviderThumbprint" => p.required("OpenIDConnectProviderArn").and_then(|a| {
            none(iam.update_open_id_connect_provider_thumbprint(caller, a, p.list("ThumbprintList", "")))
        }),
        "TagOpenIDConnectProvider" => p
            .required("OpenIDConnectProviderArn")
            .and_then(|a| none(iam.tag_open_id_connect_provider(caller, a, p.tags("Tags")))),
        "UntagOpenIDConnectProvider" => p
            .required("OpenIDConnectProviderArn")
            .and_then(|a| none(iam.untag_open_id_connect_provider(caller, a, &p.list("TagKeys", "")))),
        "ListOpenIDConnectProviderTags" => p
            .required("OpenIDConnectProviderArn")
            .and_then(|a| tag_list(iam.list_open_id_connect_provider_tags(caller, a)?, p)),
        _ => return None,
    })
}

fn none(result: Result<(), IamError>) -> OpResult {
    result.map(|()| None)
}

fn tag_list(tags: Vec<Tag>, p: &Params) -> OpResult {
    let (tags, marker) = paginate(tags, &p.page()?)?;
    let mut xml = Xml::default();
    xml.members("Tags", &tags, |xml, t| {
        xml.leaf("Key", &t.key).leaf("Value", &t.value);
    });
    truncation(&mut xml, marker.as_deref());
    Ok(Some(xml))
}

fn context_keys_result(keys: Result<Vec<String>, IamError>) -> OpResult {
    context_keys(keys?)
}

fn context_keys(keys: Vec<String>) -> OpResult {
    let mut xml = Xml::default();
    xml.members("ContextKeyNames", &keys, |xml, k| escape_into(xml.text_sink(), k));
    Ok(Some(xml))
}

/// `ContextEntries.member.N.{ContextKeyName,ContextKeyType,ContextKeyValues.member.M}`.
fn context_entries(p: &Params) -> Result<Vec<ContextEntry>, IamError> {
    let mut entries = Vec::new();
    for i in 1.. {
        let prefix = format!("ContextEntries.member.{i}");
        let Some(name) = p.get(&format!("{prefix}.ContextKeyName")) else { break };
        let type_name = p.get(&format!("{prefix}.ContextKeyType")).unwrap_or("string");
        let context_key_type = ContextKeyType::parse(type_name).ok_or_else(|| {
            IamError::new(
                "ValidationError",
                400,
                format!("1 validation error detected: Value '{type_name}' at 'contextEntries.{i}.member.contextKeyType' failed to satisfy constraint: Member must satisfy enum value set"),
            )
        })?;
        entries.push(ContextEntry {
            context_key_name: name.to_owned(),
            context_key_values: p.list(&format!("{prefix}.ContextKeyValues"), ""),
            context_key_type,
        });
    }
    Ok(entries)
}

fn simulate_principal_policy(call: &Call<'_>) -> OpResult {
    let p = call.params;
    let page = p.page()?;
    let request = SimulatePrincipalPolicyRequest {
        policy_source_arn: p.required("PolicySourceArn")?.to_owned(),
        policy_input_list: p.list("PolicyInputList", ""),
        permissions_boundary_policy_input_list: p.list("PermissionsBoundaryPolicyInputList", ""),
        action_names: p.list("ActionNames", ""),
        resource_arns: p.list("ResourceArns", ""),
        resource_policy: p.get("ResourcePolicy").map(str::to_owned),
        resource_owner: p.get("ResourceOwner").map(str::to_owned),
        caller_arn: p.get("CallerArn").map(str::to_owned),
        context_entries: context_entries(p)?,
        max_items: page.max_items,
        marker: page.marker,
        ..SimulatePrincipalPolicyRequest::default()
    };
    simulation(&call.iam.simulate_principal_policy(call.caller, request)?)
}

fn simulate_custom_policy(call: &Call<'_>) -> OpResult {
    let p = call.params;
    let page = p.page()?;
    let request = SimulateCustomPolicyRequest {
        policy_input_list: p.list("PolicyInputList", ""),
        permissions_boundary_policy_input_list: p.list("PermissionsBoundaryPolicyInputList", ""),
        action_names: p.list("ActionNames", ""),
        resource_arns: p.list("ResourceArns", ""),
        resource_policy: p.get("ResourcePolicy").map(str::to_owned),
        resource_owner: p.get("ResourceOwner").map(str::to_owned),
        caller_arn: p.get("CallerArn").map(str::to_owned),
        context_entries: context_entries(p)?,
        max_items: page.max_items,
        marker: page.marker,
        ..SimulateCustomPolicyRequest::default()
    };
    simulation(&call.iam.simulate_custom_policy(call.caller, request)?)
}

fn statements(xml: &mut Xml, statements: &[SimulationStatement]) {
    xml.members("MatchedStatements", statements, |xml, s| {
        xml.leaf("SourcePolicyId", &s.source_policy_id).leaf("SourcePolicyType", s.source_policy_type.as_str());
        for (tag, position) in [("StartPosition", s.start_position), ("EndPosition", s.end_position)] {
            if let Some(position) = position {
                xml.open(tag)
                    .leaf("Line", &position.line.to_string())
                    .leaf("Column", &position.column.to_string())
                    .close(tag);
            }
        }
    });
}

fn strings(xml: &mut Xml, name: &str, items: &[String]) {
    xml.members(name, items, |xml, s| escape_into(xml.text_sink(), s));
}

fn evaluation_result(xml: &mut Xml, r: &EvaluationResult) {
    xml.leaf("EvalActionName", &r.eval_action_name)
        .leaf("EvalResourceName", &r.eval_resource_name)
        .leaf("EvalDecision", r.eval_decision.as_str());
    statements(xml, &r.matched_statements);
    strings(xml, "MissingContextValues", &r.missing_context_values);
    if let Some(detail) = r.organizations_decision_detail {
        xml.open("OrganizationsDecisionDetail")
            .flag("AllowedByOrganizations", detail.allowed_by_organizations)
            .close("OrganizationsDecisionDetail");
    }
    if let Some(detail) = r.permissions_boundary_decision_detail {
        xml.open("PermissionsBoundaryDecisionDetail")
            .flag("AllowedByPermissionsBoundary", detail.allowed_by_permissions_boundary)
            .close("PermissionsBoundaryDecisionDetail");
    }
    if !r.eval_decision_details.is_empty() {
        xml.open("EvalDecisionDetails");
        for (key, decision) in &r.eval_decision_details {
            xml.open("entry").leaf("key", key).leaf("value", decision.as_str()).close("entry");
        }
        xml.close("EvalDecisionDetails");
    }
    if !r.resource_specific_results.is_empty() {
        xml.members("ResourceSpecificResults", &r.resource_specific_results, |xml, s| {
            xml.leaf("EvalResourceName", &s.eval_resource_name)
                .leaf("EvalResourceDecision", s.eval_resource_decision.as_str());
            statements(xml, &s.matched_statements);
            strings(xml, "MissingContextValues", &s.missing_context_values);
            if let Some(detail) = s.permissions_boundary_decision_detail {
                xml.open("PermissionsBoundaryDecisionDetail")
                    .flag("AllowedByPermissionsBoundary", detail.allowed_by_permissions_boundary)
                    .close("PermissionsBoundaryDecisionDetail");
            }
        });
    }
}

fn simulation(results: &SimulationResults) -> OpResult {
    let mut xml = Xml::default();
    xml.members("EvaluationResults", &results.evaluation_results, evaluation_result);
    truncation(&mut xml, results.marker.as_deref().filter(|_| results.is_truncated));
    Ok(Some(xml))
}

fn list_instance_profiles(call: &Call<'_>) -> OpResult {
    let page = call.iam.list_instance_profiles(call.caller, call.params.get("PathPrefix"), &call.params.page()?)?;
    let mut xml = Xml::default();
    let iam = call.iam;
    let caller = call.caller;
    xml.members("InstanceProfiles", &page.items, |xml, profile| {
        let roles = iam.get_instance_profile(caller, &profile.name).map(|(_, roles)| roles).unwrap_or_default();
        instance_profile_fields(xml, profile, &roles);
    });
    truncation(&mut xml, page.marker.as_deref().filter(|_| page.is_truncated));
    Ok(Some(xml))
}

fn list_instance_profiles_for_role(call: &Call<'_>) -> OpResult {
    let role_name = call.params.required("RoleName")?;
    let profiles = call.iam.list_instance_profiles_for_role(call.caller, role_name)?;
    let (profiles, marker) = paginate(profiles, &call.params.page()?)?;
    let role = call.iam.get_role(call.caller, role_name).ok();
    let mut xml = Xml::default();
    xml.members("InstanceProfiles", &profiles, |xml, profile| {
        instance_profile_fields(xml, profile, role.as_slice());
    });
    truncation(&mut xml, marker.as_deref());
    Ok(Some(xml))
}

fn list_virtual_mfa_devices(call: &Call<'_>) -> OpResult {
    let status = match call.params.get("AssignmentStatus") {
        None | Some("Any") => AssignmentStatus::Any,
        Some("Assigned") => AssignmentStatus::Assigned,
        Some("Unassigned") => AssignmentStatus::Unassigned,
        Some(other) => {
            return Err(IamError::new(
                "ValidationError",
                400,
                format!(
                    "1 validation error detected: Value '{other}' at 'assignmentStatus' failed to satisfy constraint: Member must satisfy enum value set: [Unassigned, Any, Assigned]"
                ),
            ));
        }
    };
    let devices = call.iam.list_virtual_mfa_devices(call.caller, status)?;
    let (devices, marker) = paginate(devices, &call.params.page()?)?;
    let account = call.caller.account();
    let mut xml = Xml::default();
    xml.members("VirtualMFADevices", &devices, |xml, d| {
        xml.leaf("SerialNumber", &d.device.serial_number);
        if let Some(owner) = &d.owner {
            xml.open("User");
            match owner.user_name() {
                Some(name) => {
                    xml.leaf("UserName", name).leaf("Arn", &format!("arn:aws:iam::{account}:user/{name}"));
                }
                None => {
                    xml.leaf("UserId", account).leaf("Arn", &format!("arn:aws:iam::{account}:root"));
                }
            }
            xml.close("User");
        }
        if let castellan::credentials::MfaState::Enabled { enabled_at } = d.device.state {
            xml.leaf("EnableDate", &timestamp(enabled_at));
        }
    });
    truncation(&mut xml, marker.as_deref());
    Ok(Some(xml))
}

fn get_access_key_last_used(call: &Call<'_>) -> OpResult {
    let info = call.iam.get_access_key_last_used(call.caller, call.params.required("AccessKeyId")?)?;
    let used = &info.access_key_last_used;
    let mut xml = Xml::default();
    xml.opt("UserName", info.user_name.as_deref()).open("AccessKeyLastUsed");
    if let Some(date) = used.last_used_date {
        xml.leaf("LastUsedDate", &timestamp(date));
    }
    xml.leaf("ServiceName", &used.service_name).leaf("Region", &used.region).close("AccessKeyLastUsed");
    Ok(Some(xml))
}

fn get_account_summary(call: &Call<'_>) -> OpResult {
    let summary = call.iam.get_account_summary(call.caller)?;
    let mut xml = Xml::default();
    xml.open("SummaryMap");
    for (key, value) in &summary {
        xml.open("entry").leaf("key", key).leaf("value", &value.to_string()).close("entry");
    }
    xml.close("SummaryMap");
    Ok(Some(xml))
}

fn list_entities_for_policy(call: &Call<'_>) -> OpResult {
    let p = call.params;
    let filter = match p.get("EntityFilter") {
        None | Some("") => None,
        Some("User") => Some(EntityFilter::User),
        Some("Group") => Some(EntityFilter::Group),
        Some("Role") => Some(EntityFilter::Role),
        // `LocalManagedPolicy` and `AWSManagedPolicy` name no entity: nothing matches.
        Some("LocalManagedPolicy" | "AWSManagedPolicy") => {
            let mut xml = Xml::default();
            xml.open("PolicyGroups").close("PolicyGroups");
            xml.open("PolicyUsers").close("PolicyUsers");
            xml.open("PolicyRoles").close("PolicyRoles");
            truncation(&mut xml, None);
            return Ok(Some(xml));
        }
        Some(other) => {
            return Err(IamError::new(
                "ValidationError",
                400,
                format!(
                    "1 validation error detected: Value '{other}' at 'entityFilter' failed to satisfy constraint: Member must satisfy enum value set: [User, Role, LocalManagedPolicy, Group, AWSManagedPolicy]"
                ),
            ));
        }
    };
    let usage = match p.get("PolicyUsageFilter") {
        Some("PermissionsBoundary") => PolicyUsage::PermissionsBoundary,
        _ => PolicyUsage::PermissionsPolicy,
    };
    let entities = call.iam.list_entities_for_policy(call.caller, p.required("PolicyArn")?, filter, usage)?;
    let mut xml = Xml::default();
    let write = |xml: &mut Xml, list: &str, name: &str, id: &str, items: &[PolicyEntity]| {
        xml.members(list, items, |xml, e| {
            xml.leaf(name, &e.name).leaf(id, &e.id);
        });
    };
    write(&mut xml, "PolicyGroups", "GroupName", "GroupId", &entities.policy_groups);
    write(&mut xml, "PolicyUsers", "UserName", "UserId", &entities.policy_users);
    write(&mut xml, "PolicyRoles", "RoleName", "RoleId", &entities.policy_roles);
    truncation(&mut xml, None);
    Ok(Some(xml))
}

fn create_oidc_provider(call: &Call<'_>) -> OpResult {
    let p = call.params;
    let request = NewOidcProvider {
        url: p.required("Url")?.to_owned(),
        client_ids: p.list("ClientIDList", ""),
        thumbprints: p.list("ThumbprintList", ""),
        signing_keys: None,
        tags: p.tags("Tags"),
    };
    let provider = call.iam.create_open_id_connect_provider(call.caller, request)?;
    let mut xml = Xml::default();
    xml.leaf("OpenIDConnectProviderArn", &provider.arn);
    if !provider.tags.is_empty() {
        xml.members("Tags", &provider.tags, |xml, t| {
            xml.leaf("Key", &t.key).leaf("Value", &t.value);
        });
    }
    Ok(Some(xml))
}

fn get_oidc_provider(call: &Call<'_>) -> OpResult {
    let provider =
        call.iam.get_open_id_connect_provider(call.caller, call.params.required("OpenIDConnectProviderArn")?)?;
    let mut xml = Xml::default();
    xml.leaf("Url", &provider.url);
    strings(&mut xml, "ClientIDList", &provider.client_ids);
    strings(&mut xml, "ThumbprintList", &provider.thumbprints);
    xml.leaf("CreateDate", &timestamp(provider.create_date));
    if !provider.tags.is_empty() {
        xml.members("Tags", &provider.tags, |xml, t| {
            xml.leaf("Key", &t.key).leaf("Value", &t.value);
        });
    }
    Ok(Some(xml))
}

fn list_oidc_providers(call: &Call<'_>) -> OpResult {
    let providers = call.iam.list_open_id_connect_providers(call.caller)?;
    let mut xml = Xml::default();
    xml.members("OpenIDConnectProviderList", &providers, |xml, provider| {
        xml.leaf("Arn", &provider.arn);
    });
    Ok(Some(xml))
}
