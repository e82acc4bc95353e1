//! Castellan's own JSON endpoints, beside the AWS APIs: `POST /v1/authorize` (the decision
//! endpoint for services that use Castellan as their policy decision point, see
//! `docs/authorize.md`) and the test-only `POST /_castellan/clock`.
//!
//! Both are SigV4-signed for the service [`SERVICE`] (`castellan`) and answer JSON; errors are
//! `{"__type": CODE, "message": ...}` with the error's HTTP status.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use castellan::credentials::sigv4::{Payload, Request as SignedRequest};
use castellan::credentials::{Clock, UnixTime};
use castellan::policy::{Policy, PolicyKind};
use castellan::{Access, Caller, Iam, IamError, Identity};
use serde_json::{Map, Value, json};

use crate::Reply;
use crate::partition::Partition;
use crate::query::credential_scope;

/// The path of the decision endpoint.
pub(crate) const AUTHORIZE_PATH: &str = "/v1/authorize";
/// The path of the clock control.
pub(crate) const CLOCK_PATH: &str = "/_castellan/clock";
/// The service name of the credential scope Castellan's own endpoints are signed for.
pub const SERVICE: &str = "castellan";
/// The action a caller of `/v1/authorize` must be allowed (on `*`).
pub const AUTHORIZE_ACTION: &str = "castellan:Authorize";

const CONTENT_TYPE: &str = "application/json";
/// The furthest one call may move the clock: ten years.
const MAX_ADVANCE: i64 = 10 * 366 * 86_400;

/// A clock a fixed, growing offset ahead of another: the server's clock when
/// `castellan serve --allow-clock-control` lets tests move time forward.
pub struct OffsetClock {
    inner: Arc<dyn Clock>,
    offset: AtomicI64,
}

impl std::fmt::Debug for OffsetClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OffsetClock").field("offset", &self.offset()).finish_non_exhaustive()
    }
}

impl OffsetClock {
    /// `inner`, not moved yet.
    pub fn new(inner: Arc<dyn Clock>) -> OffsetClock {
        OffsetClock { inner, offset: AtomicI64::new(0) }
    }

    /// The clock this one runs ahead of (the real time, for checking when requests were signed).
    pub fn inner(&self) -> &Arc<dyn Clock> {
        &self.inner
    }

    /// Moves the clock `seconds` forward; returns the whole offset.
    pub fn advance(&self, seconds: i64) -> i64 {
        self.offset.fetch_add(seconds, Ordering::SeqCst).saturating_add(seconds)
    }

    /// How far ahead of the inner clock this one is, in seconds.
    pub fn offset(&self) -> i64 {
        self.offset.load(Ordering::SeqCst)
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> UnixTime {
        let now = self.inner.now();
        UnixTime { seconds: now.seconds.saturating_add(self.offset()), nanos: now.nanos }
    }
}

/// A JSON reply.
fn reply(status: u16, action: &str, body: &Value, error_code: Option<String>) -> Reply {
    Reply {
        status,
        content_type: CONTENT_TYPE,
        body: body.to_string(),
        service: SERVICE,
        action: action.to_owned(),
        error_code,
    }
}

/// `{"__type": CODE, "message": ...}` with the error's status.
pub(crate) fn error_reply(action: &str, e: &IamError) -> Reply {
    reply(e.status(), action, &json!({"__type": e.code(), "message": e.message()}), Some(e.code().to_owned()))
}

fn invalid(message: impl Into<String>) -> IamError {
    IamError::new("InvalidInput", 400, message)
}

/// Authenticates a request to one of these endpoints: signed for [`SERVICE`], in any region.
fn authenticate(
    iam: &Iam,
    request: &SignedRequest,
    signing_clock: Option<&dyn Clock>,
    peer: SocketAddr,
) -> Result<Caller, IamError> {
    let Some((region, service)) = credential_scope(request) else {
        return Err(IamError::new("MissingAuthenticationToken", 403, "Request is missing Authentication Token"));
    };
    if service != SERVICE {
        return Err(IamError::new(
            "SignatureDoesNotMatch",
            403,
            format!("Credential should be scoped to correct service: '{SERVICE}'."),
        ));
    }
    let mut caller = crate::query::authenticate(iam, request, &service, &region, signing_clock)?;
    caller.source_ip = Some(peer.ip().to_string());
    caller.secure_transport = Some(false);
    Ok(caller)
}

/// The request body as a JSON object.
fn body_object(request: &SignedRequest) -> Result<Map<String, Value>, IamError> {
    let bytes = match &request.payload {
        Payload::Bytes(bytes) => bytes.as_slice(),
        Payload::Hash(_) => &[],
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(invalid("the request body must be a JSON object"));
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(invalid("the request body must be a JSON object")),
        Err(e) => Err(IamError::new("SerializationException", 400, format!("the request body is not JSON: {e}"))),
    }
}

fn method_not_allowed(path: &str) -> IamError {
    IamError::new("MethodNotAllowed", 405, format!("{path} accepts only POST"))
}

// ---- POST /v1/authorize ----

/// `POST /v1/authorize`.
pub(crate) fn authorize(
    iam: &Iam,
    request: &SignedRequest,
    peer: SocketAddr,
    signing_clock: Option<&dyn Clock>,
) -> Reply {
    const ACTION: &str = "Authorize";
    // The partition of the region the question is signed for: its ARNs in, ours out.
    let partition = Partition::of_request(request);
    let mut answer = match authorize_inner(iam, request, peer, partition, signing_clock) {
        Ok(value) => reply(200, ACTION, &value, None),
        Err(e) => error_reply(ACTION, &e),
    };
    answer.body = partition.localize(answer.body);
    answer
}

fn authorize_inner(
    iam: &Iam,
    request: &SignedRequest,
    peer: SocketAddr,
    partition: Partition,
    signing_clock: Option<&dyn Clock>,
) -> Result<Value, IamError> {
    if request.method != "POST" {
        return Err(method_not_allowed(AUTHORIZE_PATH));
    }
    let service = authenticate(iam, request, signing_clock, peer)?;
    let allowed = iam.authorize(&service, &Access::new(AUTHORIZE_ACTION, "*"))?;
    if !allowed.is_allowed() {
        return Err(IamError::access_denied(allowed.message));
    }
    let mut input = body_object(request)?;
    for (name, value) in input.iter_mut() {
        // A signed request to verify is read as sent: its signature covers it.
        if name != "request" {
            partition.canonical_json(value);
        }
    }
    let question = Question::parse(&input)?;
    let by_arn = input.contains_key("principal");
    let caller = match (input.get("request"), input.get("principal")) {
        (Some(_), Some(_)) => return Err(invalid("give either `request` or `principal`, not both")),
        (None, None) => return Err(invalid("give either `request` (a signed request) or `principal` (an ARN)")),
        (Some(signed), None) => match verify_signed(iam, signed, signing_clock)? {
            Ok(caller) => caller,
            Err(e) => {
                // The request to decide on is not authentic: denied, and why.
                return Ok(json!({
                    "decision": "ImplicitDeny",
                    "allowed": false,
                    "message": e.message(),
                    "matchedStatements": [],
                    "deniedBy": Value::Null,
                    "missingContextKeys": [],
                    "authenticationError": {"code": e.code(), "message": e.message()},
                }));
            }
        },
        (None, Some(principal)) => {
            let arn = principal.as_str().ok_or_else(|| invalid("`principal` must be an ARN string"))?;
            principal_caller(arn)?
        }
    };
    let mut caller = caller;
    if let Some(ip) = &question.source_ip {
        caller.source_ip = Some(ip.clone());
    }
    if let Some(secure) = question.secure_transport {
        caller.secure_transport = Some(secure);
    }
    let tags: Vec<(&str, &str)> = question.resource_tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let context: Vec<(&str, &str)> = question.context.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let access = Access {
        action: &question.action,
        resource: &question.resource,
        resource_account: question.resource_account.as_deref(),
        resource_policy: question.resource_policy.as_ref(),
        resource_tags: &tags,
        context: &context,
    };
    let authorization = iam.authorize(&caller, &access).map_err(|e| {
        if by_arn && e.code() == "InvalidClientTokenId" {
            // The facade's word for a principal that no longer exists, meant for a signed
            // request; for an ARN, the entity is simply not there.
            IamError::new("NoSuchEntity", 404, format!("The principal {} cannot be found.", caller.arn()))
        } else {
            e
        }
    })?;
    Ok(decision_json(&caller, &authorization))
}

/// The answer for a decision.
fn decision_json(caller: &Caller, authorization: &castellan::Authorization) -> Value {
    let decision = &authorization.decision;
    let matched: Vec<Value> = decision
        .matched
        .iter()
        .map(|m| {
            json!({
                "effect": m.effect.as_str(),
                "layer": m.layer.as_str(),
                "policyId": m.policy_id,
                "statementIndex": m.index,
                "sid": m.sid,
                "level": m.level,
            })
        })
        .collect();
    let missing: Vec<&str> = decision.missing_context_keys.iter().map(|k| k.as_str()).collect();
    json!({
        "decision": decision.outcome.as_str(),
        "allowed": authorization.is_allowed(),
        "message": authorization.message,
        "principal": caller.arn(),
        "matchedStatements": matched,
        "deniedBy": decision.denied_by.map(|l| l.as_str()),
        "missingContextKeys": missing,
    })
}

/// What is asked about: the action, the resource and their facts.
struct Question {
    action: String,
    resource: String,
    resource_policy: Option<Policy>,
    resource_account: Option<String>,
    resource_tags: Vec<(String, String)>,
    context: Vec<(String, String)>,
    source_ip: Option<String>,
    secure_transport: Option<bool>,
}

fn string_member(input: &Map<String, Value>, name: &str) -> Result<Option<String>, IamError> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(format!("`{name}` must be a string"))),
    }
}

fn required_member(input: &Map<String, Value>, name: &str) -> Result<String, IamError> {
    match string_member(input, name)? {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(invalid(format!("`{name}` is required"))),
    }
}

impl Question {
    fn parse(input: &Map<String, Value>) -> Result<Question, IamError> {
        let action = required_member(input, "action")?;
        let resource = required_member(input, "resource")?;
        let resource_policy = match string_member(input, "resourcePolicy")? {
            Some(text) => Some(
                Policy::parse(&text, PolicyKind::Resource)
                    .map_err(|e| IamError::new("MalformedPolicyDocument", 400, format!("resourcePolicy: {e}")))?,
            ),
            None => None,
        };
        let mut resource_tags = Vec::new();
        match input.get("resourceTags") {
            None | Some(Value::Null) => {}
            Some(Value::Object(tags)) => {
                for (k, v) in tags {
                    let v = v.as_str().ok_or_else(|| invalid(format!("resourceTags.{k} must be a string")))?;
                    resource_tags.push((k.clone(), v.to_owned()));
                }
            }
            Some(_) => return Err(invalid("`resourceTags` must be an object of strings")),
        }
        let mut context = Vec::new();
        match input.get("context") {
            None | Some(Value::Null) => {}
            Some(Value::Object(keys)) => {
                for (k, v) in keys {
                    match v {
                        Value::String(s) => context.push((k.clone(), s.clone())),
                        Value::Array(items) => {
                            for item in items {
                                let s = item
                                    .as_str()
                                    .ok_or_else(|| invalid(format!("context.{k} must be a string or strings")))?;
                                context.push((k.clone(), s.to_owned()));
                            }
                        }
                        _ => return Err(invalid(format!("context.{k} must be a string or a list of strings"))),
                    }
                }
            }
            Some(_) => return Err(invalid("`context` must be an object")),
        }
        let secure_transport = match input.get("secureTransport") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => return Err(invalid("`secureTransport` must be true or false")),
        };
        Ok(Question {
            action,
            resource,
            resource_policy,
            resource_account: string_member(input, "resourceAccount")?,
            resource_tags,
            context,
            source_ip: string_member(input, "sourceIp")?,
            secure_transport,
        })
    }
}

/// A principal ARN as a caller: an account's root user or an IAM user. A session's ARN is not
/// enough to act as the session (its claims live in its token): that takes its signed request.
pub(crate) fn principal_caller(arn: &str) -> Result<Caller, IamError> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_partition), Some(service), Some(_region), Some(account), Some(resource)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid(format!("`{arn}` is not an ARN")));
    };
    if castellan::policy::AccountId::parse(account).is_err() {
        return Err(invalid(format!("`{arn}` has no account id")));
    }
    match (service, resource) {
        ("iam", "root") => Ok(Caller::root(account)),
        ("iam", user) if user.starts_with("user/") => {
            let name = user.rsplit('/').next().unwrap_or_default();
            if name.is_empty() {
                return Err(invalid(format!("`{arn}` names no user")));
            }
            Ok(Caller::user(account, name))
        }
        ("sts", _) => Err(invalid(format!(
            "`{arn}` is a session: a session's decisions need its signed request (`request`), not its ARN"
        ))),
        _ => Err(invalid(format!("`{arn}` is not the ARN of a user or an account's root user"))),
    }
}

/// Verifies the signed request of `value`: `Ok(Ok(caller))` when authentic, `Ok(Err(why))`
/// when not, `Err` when the description itself is malformed.
fn verify_signed(
    iam: &Iam,
    value: &Value,
    signing_clock: Option<&dyn Clock>,
) -> Result<Result<Caller, IamError>, IamError> {
    let Value::Object(r) = value else {
        return Err(invalid("`request` must be an object"));
    };
    let method = required_member(r, "method")?;
    let path = string_member(r, "path")?.unwrap_or_else(|| "/".to_owned());
    let query = string_member(r, "query")?.unwrap_or_default();
    let service = required_member(r, "service")?;
    let mut headers = Vec::new();
    match r.get("headers") {
        Some(Value::Object(map)) => {
            for (name, v) in map {
                match v {
                    Value::String(s) => headers.push((name.clone(), s.clone())),
                    Value::Array(items) => {
                        for item in items {
                            let s = item.as_str().ok_or_else(|| invalid(format!("request.headers.{name}")))?;
                            headers.push((name.clone(), s.to_owned()));
                        }
                    }
                    _ => return Err(invalid(format!("request.headers.{name} must be a string or strings"))),
                }
            }
        }
        Some(Value::Array(pairs)) => {
            for pair in pairs {
                match pair.as_array().map(Vec::as_slice) {
                    Some([Value::String(n), Value::String(v)]) => headers.push((n.clone(), v.clone())),
                    _ => return Err(invalid("request.headers pairs must be [name, value]")),
                }
            }
        }
        _ => return Err(invalid("`request.headers` is required: an object or a list of [name, value]")),
    }
    let payload = match (string_member(r, "body")?, string_member(r, "bodySha256")?) {
        (Some(_), Some(_)) => return Err(invalid("give `request.body` or `request.bodySha256`, not both")),
        (Some(b64), None) => {
            Payload::Bytes(crate::wire::base64_decode(&b64).ok_or_else(|| invalid("`request.body` is not base64"))?)
        }
        (None, Some(hash)) => Payload::Hash(hash.to_ascii_lowercase()),
        (None, None) => Payload::Bytes(Vec::new()),
    };
    let signed = SignedRequest { method, path, query, headers, payload };
    let region = match string_member(r, "region")? {
        Some(region) => region,
        None => match credential_scope(&signed) {
            Some((region, _)) => region,
            None => {
                return Ok(Err(IamError::new(
                    "MissingAuthenticationToken",
                    403,
                    "Request is missing Authentication Token",
                )));
            }
        },
    };
    Ok(crate::query::authenticate(iam, &signed, &service, &region, signing_clock))
}

// ---- POST /_castellan/clock ----

/// `POST /_castellan/clock` (only when enabled): moves `clock` forward.
pub(crate) fn clock(iam: &Iam, request: &SignedRequest, peer: SocketAddr, clock: Option<&OffsetClock>) -> Reply {
    const ACTION: &str = "AdvanceClock";
    let result = (|| {
        let Some(clock) = clock else {
            return Err(IamError::new("NotFound", 404, format!("{CLOCK_PATH} is not served")));
        };
        if !peer.ip().to_canonical().is_loopback() {
            return Err(IamError::new("AccessDenied", 403, "the clock control answers loopback callers only"));
        }
        if request.method != "POST" {
            return Err(method_not_allowed(CLOCK_PATH));
        }
        let caller = authenticate(iam, request, Some(clock.inner().as_ref()), peer)?;
        let is_bootstrap_root =
            matches!(&caller.identity, Identity::Root { account } if *account == iam.bootstrap_account());
        if !is_bootstrap_root {
            return Err(IamError::access_denied(format!(
                "User: {} is not authorized to move the clock: only the root user of account {} is",
                caller.arn(),
                iam.bootstrap_account()
            )));
        }
        let input = body_object(request)?;
        let seconds = match input.get("advanceSeconds") {
            Some(Value::Number(n)) => n.as_i64().ok_or_else(|| invalid("`advanceSeconds` must be an integer"))?,
            _ => return Err(invalid("`advanceSeconds` (an integer number of seconds) is required")),
        };
        if !(0..=MAX_ADVANCE).contains(&seconds) {
            return Err(invalid(format!("`advanceSeconds` must be between 0 and {MAX_ADVANCE}")));
        }
        let offset = clock.advance(seconds);
        tracing::warn!(advanced = seconds, offset, "clock control: the server's clock moved forward");
        let now = clock.now();
        Ok(json!({
            "offsetSeconds": offset,
            "now": castellan::sts::session::iso8601(now),
        }))
    })();
    match result {
        Ok(value) => reply(200, ACTION, &value, None),
        Err(e) => error_reply(ACTION, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principal_arns_become_callers() {
        assert_eq!(principal_caller("arn:aws:iam::111122223333:root").ok(), Some(Caller::root("111122223333")));
        assert_eq!(
            principal_caller("arn:aws:iam::111122223333:user/dev/alice").ok(),
            Some(Caller::user("111122223333", "alice"))
        );
        for bad in [
            "arn:aws:sts::111122223333:assumed-role/r/s",
            "arn:aws:iam::111122223333:role/r",
            "arn:aws:iam::notanaccount:root",
            "alice",
            "arn:aws:iam::111122223333:user/",
        ] {
            assert!(principal_caller(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn questions_read_lists_tags_and_flags() {
        let input = json!({
            "action": "s3:GetObject",
            "resource": "arn:aws:s3:::b/k",
            "resourceTags": {"team": "a"},
            "context": {"s3:prefix": ["x", "y"], "s3:delimiter": "/"},
            "secureTransport": true,
        });
        let q = Question::parse(input.as_object().unwrap_or(&Map::new())).ok();
        let q = q.as_ref();
        assert_eq!(q.map(|q| q.context.len()), Some(3));
        assert_eq!(q.map(|q| q.resource_tags.clone()), Some(vec![("team".to_owned(), "a".to_owned())]));
        assert_eq!(q.and_then(|q| q.secure_transport), Some(true));
        let missing = json!({"action": "s3:GetObject"});
        assert!(Question::parse(missing.as_object().unwrap_or(&Map::new())).is_err());
    }

    #[test]
    fn the_offset_clock_only_moves_forward_by_what_it_is_told() {
        let inner: Arc<dyn Clock> = Arc::new(castellan::credentials::FixedClock::new(1000));
        let clock = OffsetClock::new(inner);
        assert_eq!(clock.now().seconds, 1000);
        assert_eq!(clock.advance(901), 901);
        assert_eq!(clock.advance(1), 902);
        assert_eq!(clock.now().seconds, 1902);
    }
}
