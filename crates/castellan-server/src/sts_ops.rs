//! STS's operations (API version 2011-06-15): request parameters to the facade's STS calls,
//! results to the XML of the API model.

use castellan::Iam;
use castellan::sts::{
    AssumeRoleRequest, AssumeRoleWithWebIdentityRequest, AssumedRoleUser, Credentials, GetFederationTokenRequest,
    GetSessionTokenRequest,
};

use crate::params::Params;
use crate::query::{Call, OpResult};
use crate::wire::Xml;

/// Runs STS action `action` (`InvalidAction` when it is not served).
pub(crate) fn dispatch(call: &Call<'_>, action: &str) -> OpResult {
    match action {
        "GetCallerIdentity" => get_caller_identity(call),
        "AssumeRole" => assume_role(call),
        "GetSessionToken" => get_session_token(call),
        "GetFederationToken" => get_federation_token(call),
        "AssumeRoleWithWebIdentity" => {
            let ip = call.caller.source_ip.clone().unwrap_or_default();
            assume_role_with_web_identity(call.iam, call.params, &ip)
        }
        "GetAccessKeyInfo" => get_access_key_info(call),
        "DecodeAuthorizationMessage" => decode_authorization_message(call),
        _ => Err(crate::query::invalid_action(action)),
    }
}

fn credentials(xml: &mut Xml, c: &Credentials) {
    xml.open("Credentials")
        .leaf("AccessKeyId", c.access_key_id.as_str())
        .leaf("SecretAccessKey", c.secret_access_key.expose())
        .leaf("SessionToken", c.session_token.as_str())
        .leaf("Expiration", &c.expiration_iso8601())
        .close("Credentials");
}

fn assumed_role_user(xml: &mut Xml, user: &AssumedRoleUser) {
    xml.open("AssumedRoleUser")
        .leaf("AssumedRoleId", &user.assumed_role_id)
        .leaf("Arn", &user.arn)
        .close("AssumedRoleUser");
}

fn packed_policy_size(xml: &mut Xml, size: Option<u32>) {
    if let Some(size) = size {
        xml.leaf("PackedPolicySize", &size.to_string());
    }
}

fn get_caller_identity(call: &Call<'_>) -> OpResult {
    let identity = call.iam.get_caller_identity(call.caller)?;
    let mut xml = Xml::default();
    xml.leaf("UserId", &identity.user_id).leaf("Account", &identity.account).leaf("Arn", &identity.arn);
    Ok(Some(xml))
}

fn assume_role(call: &Call<'_>) -> OpResult {
    let p = call.params;
    let request = AssumeRoleRequest {
        role_arn: p.required("RoleArn")?.to_owned(),
        role_session_name: p.required("RoleSessionName")?.to_owned(),
        policy_arns: p.list("PolicyArns", ".arn"),
        policy: p.get("Policy").map(str::to_owned),
        duration_seconds: p.int("DurationSeconds")?,
        tags: p.tags("Tags"),
        transitive_tag_keys: p.list("TransitiveTagKeys", ""),
        external_id: p.get("ExternalId").map(str::to_owned),
        serial_number: p.get("SerialNumber").map(str::to_owned),
        token_code: p.get("TokenCode").map(str::to_owned),
        source_identity: p.get("SourceIdentity").map(str::to_owned),
    };
    let response = call.iam.assume_role(call.caller, &request)?;
    let mut xml = Xml::default();
    credentials(&mut xml, &response.credentials);
    assumed_role_user(&mut xml, &response.assumed_role_user);
    packed_policy_size(&mut xml, response.packed_policy_size);
    xml.opt("SourceIdentity", response.source_identity.as_deref());
    Ok(Some(xml))
}

fn get_session_token(call: &Call<'_>) -> OpResult {
    let p = call.params;
    let request = GetSessionTokenRequest {
        duration_seconds: p.int("DurationSeconds")?,
        serial_number: p.get("SerialNumber").map(str::to_owned),
        token_code: p.get("TokenCode").map(str::to_owned),
    };
    let response = call.iam.get_session_token(call.caller, &request)?;
    let mut xml = Xml::default();
    credentials(&mut xml, &response.credentials);
    Ok(Some(xml))
}

fn get_federation_token(call: &Call<'_>) -> OpResult {
    let p = call.params;
    let request = GetFederationTokenRequest {
        name: p.required("Name")?.to_owned(),
        policy: p.get("Policy").map(str::to_owned),
        policy_arns: p.list("PolicyArns", ".arn"),
        duration_seconds: p.int("DurationSeconds")?,
        tags: p.tags("Tags"),
    };
    let response = call.iam.get_federation_token(call.caller, &request)?;
    let mut xml = Xml::default();
    credentials(&mut xml, &response.credentials);
    if let Some(user) = &response.federated_user {
        xml.open("FederatedUser")
            .leaf("FederatedUserId", &user.federated_user_id)
            .leaf("Arn", &user.arn)
            .close("FederatedUser");
    }
    packed_policy_size(&mut xml, response.packed_policy_size);
    Ok(Some(xml))
}

/// `AssumeRoleWithWebIdentity`, which needs no signature.
pub(crate) fn assume_role_with_web_identity(iam: &Iam, p: &Params, source_ip: &str) -> OpResult {
    let request = AssumeRoleWithWebIdentityRequest {
        role_arn: p.required("RoleArn")?.to_owned(),
        role_session_name: p.required("RoleSessionName")?.to_owned(),
        web_identity_token: p.required("WebIdentityToken")?.to_owned(),
        provider_id: p.get("ProviderId").map(str::to_owned),
        policy_arns: p.list("PolicyArns", ".arn"),
        policy: p.get("Policy").map(str::to_owned),
        duration_seconds: p.int("DurationSeconds")?,
    };
    let ip = (!source_ip.is_empty()).then_some(source_ip);
    let response = iam.assume_role_with_web_identity(&request, ip)?;
    let mut xml = Xml::default();
    credentials(&mut xml, &response.credentials);
    xml.leaf("SubjectFromWebIdentityToken", &response.subject_from_web_identity_token);
    assumed_role_user(&mut xml, &response.assumed_role_user);
    packed_policy_size(&mut xml, response.packed_policy_size);
    xml.leaf("Provider", &response.provider).leaf("Audience", &response.audience);
    Ok(Some(xml))
}

fn get_access_key_info(call: &Call<'_>) -> OpResult {
    let key = call.params.required("AccessKeyId")?;
    let account = call.iam.get_access_key_info(call.caller, key)?;
    let mut xml = Xml::default();
    xml.leaf("Account", &account);
    Ok(Some(xml))
}

fn decode_authorization_message(call: &Call<'_>) -> OpResult {
    let encoded = call.params.required("EncodedMessage")?;
    let decoded = call.iam.decode_authorization_message(call.caller, encoded)?;
    let mut xml = Xml::default();
    xml.leaf("DecodedMessage", &decoded);
    Ok(Some(xml))
}
