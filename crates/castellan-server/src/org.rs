//! AWS Organizations (JSON 1.1, `X-Amz-Target: AWSOrganizationsV20161128.{Op}`): the request's
//! JSON members to the facade's Organizations calls, results to the model's JSON shapes, errors
//! as `{"__type": ..., "message": ...}`.

use std::net::SocketAddr;

use castellan::credentials::Clock;
use castellan::credentials::sigv4::{Payload, Request as SignedRequest};
use castellan::org::{
    Account, NewPolicy, OrgPolicy, OrganizationDescription, PolicySummary, PolicyType, PolicyUpdate, Root,
};
use castellan::{Caller, Iam, IamError};
use serde_json::{Map, Value, json};

use crate::Reply;
use crate::partition::Partition;
use crate::query::credential_scope;

/// The `X-Amz-Target` prefix of Organizations' operations.
pub(crate) const TARGET_PREFIX: &str = "AWSOrganizationsV20161128.";

const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// Processes an Organizations request.
pub(crate) fn process(
    iam: &Iam,
    request: &SignedRequest,
    peer: SocketAddr,
    _request_id: &str,
    signing_clock: Option<&dyn Clock>,
) -> Reply {
    let action = request.first_header("x-amz-target").and_then(|t| t.strip_prefix(TARGET_PREFIX)).unwrap_or_default();
    let partition = Partition::of_request(request);
    let result = run(iam, request, peer, action, partition, signing_clock);
    let mut reply = match result {
        Ok(value) => Reply {
            status: 200,
            content_type: CONTENT_TYPE,
            body: value.to_string(),
            service: "organizations",
            action: action.to_owned(),
            error_code: None,
        },
        Err(e) => error_reply(action, &e),
    };
    // The partition of the region the request is signed for: its ARNs in, ours out.
    reply.body = partition.localize(reply.body);
    reply
}

/// An Organizations error: the exception's name in `__type`.
fn error_reply(action: &str, e: &IamError) -> Reply {
    let code = match e.code() {
        // The query protocol's generic codes, in Organizations' exception names.
        "AccessDenied" => "AccessDeniedException",
        "InvalidInput" | "ValidationError" => "InvalidInputException",
        other => other,
    };
    Reply {
        status: e.status(),
        content_type: CONTENT_TYPE,
        body: json!({"__type": code, "message": e.message()}).to_string(),
        service: "organizations",
        action: action.to_owned(),
        error_code: Some(code.to_owned()),
    }
}

fn run(
    iam: &Iam,
    request: &SignedRequest,
    peer: SocketAddr,
    action: &str,
    partition: Partition,
    signing_clock: Option<&dyn Clock>,
) -> Result<Value, IamError> {
    let Some((region, service)) = credential_scope(request) else {
        return Err(IamError::new(
            "MissingAuthenticationTokenException",
            403,
            "Request is missing Authentication Token",
        ));
    };
    if service != "organizations" {
        return Err(IamError::new(
            "InvalidSignatureException",
            403,
            format!("Credential should be scoped to correct service: 'organizations', not `{service}`."),
        ));
    }
    let mut caller = crate::query::authenticate(iam, request, &service, &region, signing_clock).map_err(|e| {
        let code = match e.code() {
            "SignatureDoesNotMatch" => "InvalidSignatureException",
            "InvalidClientTokenId" => "UnrecognizedClientException",
            "ExpiredToken" => "ExpiredTokenException",
            other => other,
        };
        IamError::new(code, e.status(), e.message())
    })?;
    caller.source_ip = Some(peer.ip().to_string());
    caller.secure_transport = Some(false);
    let input = match &request.payload {
        Payload::Bytes(bytes) if bytes.iter().any(|b| !b.is_ascii_whitespace()) => {
            serde_json::from_slice::<Value>(bytes).map_err(|e| {
                IamError::new("SerializationException", 400, format!("the request body is not JSON: {e}"))
            })?
        }
        _ => Value::Object(Map::new()),
    };
    let mut input = input;
    partition.canonical_json(&mut input);
    let input = Input(input.as_object().cloned().unwrap_or_default());
    dispatch(iam, &caller, action, &input)
}

struct Input(Map<String, Value>);

impl Input {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(Value::as_str)
    }

    fn required(&self, name: &str) -> Result<&str, IamError> {
        self.get(name).ok_or_else(|| {
            IamError::new("InvalidInputException", 400, format!("You must specify a value for the `{name}` parameter."))
        })
    }

    fn policy_type(&self, name: &str) -> Result<PolicyType, IamError> {
        Ok(PolicyType::parse(self.required(name)?)?)
    }
}

fn dispatch(iam: &Iam, caller: &Caller, action: &str, input: &Input) -> Result<Value, IamError> {
    Ok(match action {
        "CreateOrganization" => json!({"Organization": organization(&iam.create_organization(caller)?)}),
        "DescribeOrganization" => json!({"Organization": organization(&iam.describe_organization(caller)?)}),
        "ListRoots" => {
            let roots: Vec<Value> = iam.list_roots(caller)?.iter().map(root).collect();
            json!({"Roots": roots})
        }
        "CreateOrganizationalUnit" => {
            let ou = iam.create_organizational_unit(caller, input.required("ParentId")?, input.required("Name")?)?;
            json!({"OrganizationalUnit": {"Id": ou.id, "Arn": ou.arn, "Name": ou.name}})
        }
        "CreateAccount" => {
            let name = input.required("AccountName")?;
            let account = iam.create_account(caller, name, input.required("Email")?)?;
            let now = iam.clock().now().seconds;
            json!({"CreateAccountStatus": {
                "Id": format!("car-{}", account.id),
                "AccountName": account.name,
                "State": "SUCCEEDED",
                "RequestedTimestamp": now,
                "CompletedTimestamp": now,
                "AccountId": account.id,
            }})
        }
        "MoveAccount" => {
            iam.move_account(
                caller,
                input.required("AccountId")?,
                input.required("SourceParentId")?,
                input.required("DestinationParentId")?,
            )?;
            json!({})
        }
        "ListAccounts" => {
            let accounts: Vec<Value> = iam.list_accounts(caller)?.iter().map(account).collect();
            json!({"Accounts": accounts})
        }
        "CreatePolicy" => {
            let content = input.required("Content")?.to_owned();
            let summary = iam.create_org_policy(
                caller,
                NewPolicy {
                    name: input.required("Name")?.to_owned(),
                    description: input.get("Description").unwrap_or_default().to_owned(),
                    content: content.clone(),
                    policy_type: input.policy_type("Type")?,
                },
            )?;
            json!({"Policy": {"PolicySummary": policy_summary(&summary), "Content": content}})
        }
        "AttachPolicy" => {
            iam.attach_org_policy(caller, input.required("PolicyId")?, input.required("TargetId")?)?;
            json!({})
        }
        "DetachPolicy" => {
            iam.detach_org_policy(caller, input.required("PolicyId")?, input.required("TargetId")?)?;
            json!({})
        }
        "ListPolicies" => {
            let policies: Vec<Value> =
                iam.list_org_policies(caller, input.policy_type("Filter")?)?.iter().map(policy_summary).collect();
            json!({"Policies": policies})
        }
        "DescribePolicy" => {
            json!({"Policy": org_policy(&iam.describe_org_policy(caller, input.required("PolicyId")?)?)})
        }
        "UpdatePolicy" => {
            let update = PolicyUpdate {
                name: input.get("Name").map(str::to_owned),
                description: input.get("Description").map(str::to_owned),
                content: input.get("Content").map(str::to_owned),
            };
            json!({"Policy": org_policy(&iam.update_org_policy(caller, input.required("PolicyId")?, update)?)})
        }
        "DeletePolicy" => {
            iam.delete_org_policy(caller, input.required("PolicyId")?)?;
            json!({})
        }
        "ListTargetsForPolicy" => {
            let targets: Vec<Value> = iam
                .list_targets_for_org_policy(caller, input.required("PolicyId")?)?
                .iter()
                .map(|t| json!({"TargetId": t.target_id, "Arn": t.arn, "Name": t.name, "Type": t.target_type.as_str()}))
                .collect();
            json!({"Targets": targets})
        }
        "ListPoliciesForTarget" => {
            let policies: Vec<Value> = iam
                .list_org_policies_for_target(caller, input.required("TargetId")?, input.policy_type("Filter")?)?
                .iter()
                .map(policy_summary)
                .collect();
            json!({"Policies": policies})
        }
        "UpdateOrganizationalUnit" => {
            let ou_id = input.required("OrganizationalUnitId")?;
            // Without a new name the OU stays as it is (AWS: the name is optional).
            let ou = match input.get("Name") {
                Some(name) => iam.update_organizational_unit(caller, ou_id, name)?,
                None => {
                    return Err(IamError::new(
                        "InvalidInputException",
                        400,
                        "You must specify a value for the `Name` parameter.",
                    ));
                }
            };
            json!({"OrganizationalUnit": {"Id": ou.id, "Arn": ou.arn, "Name": ou.name}})
        }
        "DeleteOrganizationalUnit" => {
            iam.delete_organizational_unit(caller, input.required("OrganizationalUnitId")?)?;
            json!({})
        }
        "RemoveAccountFromOrganization" => {
            iam.remove_account_from_organization(caller, input.required("AccountId")?)?;
            json!({})
        }
        "DescribeAccount" => {
            json!({"Account": account(&iam.describe_org_account(caller, input.required("AccountId")?)?)})
        }
        "EnablePolicyType" => {
            json!({"Root": root(&iam.enable_policy_type(caller, input.required("RootId")?, input.policy_type("PolicyType")?)?)})
        }
        "DisablePolicyType" => {
            json!({"Root": root(&iam.disable_policy_type(caller, input.required("RootId")?, input.policy_type("PolicyType")?)?)})
        }
        _ => {
            return Err(IamError::new(
                "UnknownOperationException",
                400,
                format!("The operation `{action}` is not served by this endpoint."),
            ));
        }
    })
}

fn organization(o: &OrganizationDescription) -> Value {
    json!({
        "Id": o.id,
        "Arn": o.arn,
        "FeatureSet": o.feature_set,
        "MasterAccountArn": o.master_account_arn,
        "MasterAccountId": o.master_account_id,
        "AvailablePolicyTypes": [],
    })
}

fn root(r: &Root) -> Value {
    let types: Vec<Value> = r.policy_types.iter().map(|t| json!({"Type": t.as_str(), "Status": "ENABLED"})).collect();
    json!({"Id": r.id, "Arn": r.arn, "Name": r.name, "PolicyTypes": types})
}

fn account(a: &Account) -> Value {
    let joined = match a.joined_method {
        castellan::org::JoinedMethod::Created => "CREATED",
        castellan::org::JoinedMethod::Invited => "INVITED",
    };
    json!({
        "Id": a.id,
        "Arn": a.arn,
        "Email": a.email,
        "Name": a.name,
        "Status": "ACTIVE",
        "State": "ACTIVE",
        "JoinedMethod": joined,
    })
}

fn org_policy(p: &OrgPolicy) -> Value {
    json!({"PolicySummary": policy_summary(&p.summary), "Content": p.content})
}

fn policy_summary(p: &PolicySummary) -> Value {
    json!({
        "Id": p.id,
        "Arn": p.arn,
        "Name": p.name,
        "Description": p.description,
        "Type": p.policy_type.as_str(),
        "AwsManaged": p.aws_managed,
    })
}
