//! The Query protocol of IAM and STS: which service a request is for, its authentication, the
//! dispatch of `Action`, and the XML envelopes of results and errors.

use std::net::SocketAddr;

use castellan::credentials::Clock;
use castellan::credentials::sigv4::Request as SignedRequest;
use castellan::{Caller, Iam, IamError};

use crate::Reply;
use crate::params::Params;
use crate::partition::Partition;
use crate::wire::Xml;
use crate::{iam_ops, sts_ops};

/// IAM's XML namespace.
pub(crate) const IAM_NS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";
/// STS's XML namespace.
pub(crate) const STS_NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// What an operation returns: the inside of `<{Op}Result>`, or nothing (operations without
/// output answer with only `ResponseMetadata`).
pub(crate) type OpResult = Result<Option<Xml>, IamError>;

/// One request's inputs, for the operations.
pub(crate) struct Call<'a> {
    pub(crate) iam: &'a Iam,
    pub(crate) caller: &'a Caller,
    pub(crate) params: &'a Params,
}

/// The credential scope a request is signed for: `(region, service)`, from the
/// `Authorization` header or a presigned URL's `X-Amz-Credential`. `None` when unsigned.
pub(crate) fn credential_scope(request: &SignedRequest) -> Option<(String, String)> {
    let credential = credential(request)?;
    // AKID/DATE/REGION/SERVICE/aws4_request
    let mut parts = credential.rsplit('/');
    let _terminator = parts.next()?;
    let service = parts.next()?;
    let region = parts.next()?;
    Some((region.to_owned(), service.to_owned()))
}

/// The `Credential` of a signed request: `AKID/DATE/REGION/SERVICE/aws4_request`.
fn credential(request: &SignedRequest) -> Option<String> {
    let credential = match request.first_header("authorization") {
        Some(auth) => {
            let start = auth.find("Credential=")? + "Credential=".len();
            let rest = auth.get(start..)?;
            rest.split([',', ' ']).next()?.to_owned()
        }
        None => request.query_param("X-Amz-Credential")?,
    };
    Some(credential)
}

/// Authenticates through the facade (which answers `ExpiredToken` for an expired session); with
/// `signing_clock`, the request's signing time is checked against it rather than the facade's
/// clock (see [`Iam::authenticate_with_signing_clock`]).
pub(crate) fn authenticate(
    iam: &Iam,
    request: &SignedRequest,
    service: &str,
    region: &str,
    signing_clock: Option<&dyn Clock>,
) -> Result<Caller, IamError> {
    match signing_clock {
        Some(clock) => iam.authenticate_with_signing_clock(request, service, region, clock),
        None => iam.authenticate(request, service, region),
    }
}

/// Whether the request carries any SigV4 authentication at all.
fn is_signed(request: &SignedRequest) -> bool {
    request.first_header("authorization").is_some()
        || request.query.split('&').any(|p| p.starts_with("X-Amz-Signature=") || p.starts_with("X-Amz-Credential="))
}

/// The STS actions, which tell an STS request from an IAM one when the scope cannot.
const STS_ACTIONS: &[&str] = &[
    "AssumeRole",
    "AssumeRoleWithWebIdentity",
    "AssumeRoleWithSAML",
    "GetCallerIdentity",
    "GetSessionToken",
    "GetFederationToken",
    "GetAccessKeyInfo",
    "DecodeAuthorizationMessage",
];

/// Processes an IAM or STS request.
pub(crate) fn process(
    iam: &Iam,
    request: &SignedRequest,
    peer: SocketAddr,
    request_id: &str,
    signing_clock: Option<&dyn Clock>,
) -> Reply {
    let body = match &request.payload {
        castellan::credentials::sigv4::Payload::Bytes(bytes) => String::from_utf8_lossy(bytes),
        castellan::credentials::sigv4::Payload::Hash(_) => "".into(),
    };
    let form = crate::is_form(request);
    let sources: Vec<&str> = if form { vec![request.query.as_str(), &body] } else { vec![request.query.as_str()] };
    let scope = credential_scope(request);
    // The partition of the region the request is signed for: its ARNs in, ours out.
    let partition = scope.as_ref().map_or(Partition::Aws, |(region, _)| Partition::of_region(region));
    let mut params = match Params::parse(&sources) {
        Ok(p) => p,
        Err(e) => return error_reply(scope_service(scope.as_ref(), None), "", &e, request_id),
    };
    params.canonicalize(partition);
    let action = params.get("Action").unwrap_or_default().to_owned();
    let service = scope_service(scope.as_ref(), Some(&params));
    let result = run(iam, request, peer, &params, &action, scope.as_ref(), service, signing_clock);
    let mut reply = match result {
        Ok(inner) => success_reply(service, &action, inner, request_id),
        Err(e) => error_reply(service, &action, &e, request_id),
    };
    reply.body = partition.localize(reply.body);
    reply
}

/// The service a Query request is for: the credential scope's (`iam` or `sts`), else guessed
/// from `Version` and `Action` (unsigned requests).
fn scope_service(scope: Option<&(String, String)>, params: Option<&Params>) -> &'static str {
    match scope.map(|(_, s)| s.as_str()) {
        Some("sts") => "sts",
        Some("iam") => "iam",
        _ => match params {
            Some(p)
                if p.get("Version") == Some("2011-06-15")
                    || p.get("Action").is_some_and(|a| STS_ACTIONS.contains(&a)) =>
            {
                "sts"
            }
            _ => "iam",
        },
    }
}

#[allow(clippy::too_many_arguments)]
fn run(
    iam: &Iam,
    request: &SignedRequest,
    peer: SocketAddr,
    params: &Params,
    action: &str,
    scope: Option<&(String, String)>,
    service: &'static str,
    signing_clock: Option<&dyn Clock>,
) -> OpResult {
    if action.is_empty() {
        return Err(IamError::new("MissingAction", 400, "Could not find operation: the request has no Action."));
    }
    if !is_signed(request) {
        // AWS lets these STS calls through unsigned: the token they carry is the credential.
        if service == "sts" && action == "AssumeRoleWithWebIdentity" {
            return sts_ops::assume_role_with_web_identity(iam, params, &peer.ip().to_string());
        }
        if service == "sts" && action == "AssumeRoleWithSAML" {
            // Also unsigned at AWS; not served here yet, and saying so beats asking for a
            // signature the call never needs.
            return Err(invalid_action(action));
        }
        return Err(IamError::new("MissingAuthenticationToken", 403, "Request is missing Authentication Token"));
    }
    let Some((region, scope_service)) = scope else {
        return Err(IamError::new("IncompleteSignature", 400, "Authorization header requires 'Credential' parameter."));
    };
    if scope_service != "iam" && scope_service != "sts" {
        return Err(IamError::new(
            "InvalidAction",
            400,
            format!("Requests signed for the service `{scope_service}` are not served by this endpoint."),
        ));
    }
    let mut caller = authenticate(iam, request, scope_service, region, signing_clock)?;
    caller.source_ip = Some(peer.ip().to_string());
    caller.secure_transport = Some(false);
    let call = Call { iam, caller: &caller, params };
    if service == "sts" { sts_ops::dispatch(&call, action) } else { iam_ops::dispatch(&call, action) }
}

/// `InvalidAction`: an action this endpoint does not serve.
pub(crate) fn invalid_action(action: &str) -> IamError {
    IamError::new("InvalidAction", 400, format!("The action {action} is not valid for this web service."))
}

fn namespace(service: &str) -> &'static str {
    if service == "sts" { STS_NS } else { IAM_NS }
}

/// `<{Op}Response><{Op}Result>...</{Op}Result><ResponseMetadata>...`.
pub(crate) fn success_reply(service: &'static str, action: &str, inner: Option<Xml>, request_id: &str) -> Reply {
    let mut xml = Xml::new();
    let response = format!("{action}Response");
    xml.open_ns(&response, namespace(service));
    if let Some(inner) = inner {
        let result = format!("{action}Result");
        xml.open(&result);
        xml.raw(&inner);
        xml.close(&result);
    }
    xml.open("ResponseMetadata").leaf("RequestId", request_id).close("ResponseMetadata");
    xml.close(&response);
    Reply {
        status: 200,
        content_type: "text/xml",
        body: xml.finish(),
        service,
        action: action.to_owned(),
        error_code: None,
    }
}

/// `<ErrorResponse><Error><Type>Sender</Type><Code>..</Code><Message>..</Message></Error>...`
/// with the error's HTTP status.
pub(crate) fn error_reply(service: &'static str, action: &str, error: &IamError, request_id: &str) -> Reply {
    let mut xml = Xml::new();
    xml.open_ns("ErrorResponse", namespace(service))
        .open("Error")
        .leaf("Type", if error.status() >= 500 { "Receiver" } else { "Sender" })
        .leaf("Code", error.code())
        .leaf("Message", error.message())
        .close("Error")
        .leaf("RequestId", request_id)
        .close("ErrorResponse");
    Reply {
        status: error.status(),
        content_type: "text/xml",
        body: xml.finish(),
        service,
        action: action.to_owned(),
        error_code: Some(error.code().to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_scope_from_a_header_and_a_presigned_url() {
        let header = SignedRequest::new("POST", "/", "").header(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=x",
        );
        assert_eq!(credential_scope(&header), Some(("us-east-1".into(), "iam".into())));
        let presigned = SignedRequest::new(
            "GET",
            "/",
            "Action=GetCallerIdentity&X-Amz-Credential=AKID%2F20150830%2Feu-west-1%2Fsts%2Faws4_request",
        );
        assert_eq!(credential_scope(&presigned), Some(("eu-west-1".into(), "sts".into())));
        assert_eq!(credential_scope(&SignedRequest::new("GET", "/", "")), None);
    }

    #[test]
    fn error_messages_are_escaped() {
        let reply = error_reply("iam", "X", &IamError::new("InvalidInput", 400, "<&>"), "id");
        assert!(reply.body.contains("<Message>&lt;&amp;&gt;</Message>"));
        assert!(reply.body.contains("<Type>Sender</Type>"));
    }
}
