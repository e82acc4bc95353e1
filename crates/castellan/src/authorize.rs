//! Authorization: a caller, an action, a resource and the request's facts → the decision, with
//! every global condition key AWS fills in filled in.

use castellan_credentials::UnixTime;
use castellan_eval::{Context, ContextValue, Decision, Layers, NamedPolicy, OrgLevel, Principal, Request};
use castellan_org::{GuardrailLevel, Organizations};
use castellan_policy::{AccountId, Policy};
use castellan_sts::session::iso8601;

use crate::error::IamError;
use crate::subject::{Caller, Subject};

/// One authorization question about a caller.
#[derive(Debug, Clone, Copy, Default)]
pub struct Access<'a> {
    /// The action (`s3:GetObject`).
    pub action: &'a str,
    /// The resource's ARN (or `*`).
    pub resource: &'a str,
    /// The account that owns the resource; by default the resource ARN's account, else the
    /// caller's.
    pub resource_account: Option<&'a str>,
    /// The resource's own policy (a bucket policy, a key policy, a role's trust policy).
    pub resource_policy: Option<&'a Policy>,
    /// The resource's tags (`aws:ResourceTag/KEY`).
    pub resource_tags: &'a [(&'a str, &'a str)],
    /// Keys of this request (`s3:prefix`, `aws:RequestTag/KEY`, `aws:TagKeys`, ...); a key listed
    /// more than once is one multivalued key. A key the facade fills (the principal's, the
    /// session's, the organization's, time, transport, source IP, region) is ignored here, so a
    /// caller cannot forge it.
    pub context: &'a [(&'a str, &'a str)],
}

impl<'a> Access<'a> {
    /// `action` on `resource`.
    pub fn new(action: &'a str, resource: &'a str) -> Access<'a> {
        Access { action, resource, ..Access::default() }
    }
}

/// A decision and, for a denial, AWS's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The decision with its explanation.
    pub decision: Decision,
    /// `User: ARN is not authorized to perform: ACTION on resource: RES because ...` (empty
    /// when allowed).
    pub message: String,
}

impl Authorization {
    /// Whether the request is allowed.
    pub fn is_allowed(&self) -> bool {
        self.decision.outcome == castellan_eval::Outcome::Allow
    }
}

/// The keys the facade fills; a request's own context cannot set them.
const FILLED: &[&str] = &[
    "aws:currenttime",
    "aws:epochtime",
    "aws:securetransport",
    "aws:sourceip",
    "aws:requestedregion",
    "aws:useragent",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:resourceorgid",
    "aws:resourceorgpaths",
    "aws:resourceaccount",
    "aws:multifactorauthpresent",
    "aws:multifactorauthage",
    "aws:tokenissuetime",
    "aws:sourceidentity",
    "aws:principalarn",
    "aws:principalaccount",
    "aws:principaltype",
    "aws:username",
    "aws:userid",
    "aws:principalisawsservice",
];

fn is_filled(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    FILLED.contains(&lower.as_str()) || lower.starts_with("aws:principaltag/") || lower.starts_with("aws:resourcetag/")
}

/// The account a resource belongs to: its ARN's account field when that is an account id, else
/// `default`.
fn resource_account<'a>(resource: &'a str, default: &'a str) -> &'a str {
    match resource.split(':').nth(4) {
        Some(a) if resource.starts_with("arn:") && AccountId::parse(a).is_ok() => a,
        _ => default,
    }
}

fn org_level(level: &GuardrailLevel) -> OrgLevel<'_> {
    OrgLevel {
        id: &level.id,
        policies: level.policies.iter().map(|p| NamedPolicy { id: &p.name, policy: &p.policy }).collect(),
    }
}

/// The request context of `access` by `subject`.
pub(crate) fn context(
    caller: &Caller,
    subject: &Subject,
    organizations: &Organizations,
    access: &Access<'_>,
    resource_account: &str,
    now: UnixTime,
) -> Context {
    let mut ctx = request_context(caller, now);
    subject.resolved.principal.fill_context(&mut ctx);
    if let Some(claims) = &subject.resolved.claims {
        claims.fill_context(now, &mut ctx);
    }
    if let Some(keys) = &subject.org_keys {
        ctx.set("aws:PrincipalOrgID", &keys.org_id);
        ctx.insert("aws:PrincipalOrgPaths", ContextValue::multi([keys.org_path.as_str()]));
    }
    if let Some(keys) = organizations.get().and_then(|org| org.org_keys(resource_account)) {
        ctx.set("aws:ResourceOrgID", &keys.org_id);
        ctx.insert("aws:ResourceOrgPaths", ContextValue::multi([keys.org_path.as_str()]));
    }
    ctx.set("aws:ResourceAccount", resource_account);
    for (k, v) in access.resource_tags {
        ctx.set(&format!("aws:ResourceTag/{k}"), v);
    }
    own_keys(&mut ctx, access.context);
    ctx
}

/// The keys that follow from the request itself, whoever makes it: time, transport, source IP,
/// region, user agent.
pub(crate) fn request_context(caller: &Caller, now: UnixTime) -> Context {
    let mut ctx = Context::new();
    ctx.set("aws:CurrentTime", &iso8601(now));
    ctx.set("aws:EpochTime", &now.seconds.to_string());
    if let Some(secure) = caller.secure_transport {
        ctx.set("aws:SecureTransport", if secure { "true" } else { "false" });
    }
    if let Some(ip) = &caller.source_ip {
        ctx.set("aws:SourceIp", ip);
    }
    if let Some(region) = &caller.requested_region {
        ctx.set("aws:RequestedRegion", region);
    }
    if let Some(agent) = &caller.user_agent {
        ctx.set("aws:UserAgent", agent);
    }
    ctx
}

/// Adds a request's own keys to `ctx`: those the facade fills are ignored, and a key listed more
/// than once is one multivalued key.
fn own_keys(ctx: &mut Context, keys: &[(&str, &str)]) {
    let mut own: Vec<(&str, Vec<&str>)> = Vec::new();
    for (k, v) in keys.iter().filter(|(k, _)| !is_filled(k)) {
        match own.iter_mut().find(|(key, _)| key.eq_ignore_ascii_case(k)) {
            Some((_, values)) => values.push(v),
            None => own.push((k, vec![v])),
        }
    }
    for (k, values) in own {
        match values.as_slice() {
            [one] => drop(ctx.set(k, one)),
            many => drop(ctx.insert(k, ContextValue::multi(many.iter().copied()))),
        }
    }
}

/// Decides `access` for the resolved `subject`.
pub(crate) fn decide(
    caller: &Caller,
    subject: &Subject,
    organizations: &Organizations,
    access: &Access<'_>,
    now: UnixTime,
) -> Result<Authorization, IamError> {
    let account = resource_account(access.resource, caller.account());
    let account = access.resource_account.unwrap_or(account);
    let ctx = context(caller, subject, organizations, access, account, now);
    let rcp: Option<Vec<GuardrailLevel>> = organizations.get().and_then(|org| org.rcp_chain(account));
    let identity: Vec<NamedPolicy<'_>> = subject
        .resolved
        .policies
        .iter()
        .flat_map(|p| p.identity.iter())
        .map(|p| NamedPolicy { id: &p.id, policy: &p.policy })
        .collect();
    let layers = Layers {
        identity,
        resource: access
            .resource_policy
            .map(|p| NamedPolicy { id: "resource-policy", policy: p })
            .into_iter()
            .collect(),
        permissions_boundary: subject
            .resolved
            .policies
            .as_ref()
            .and_then(|p| p.boundary.as_ref())
            .map(|b| NamedPolicy { id: &b.id, policy: &b.policy }),
        session: subject.resolved.session.iter().map(|(id, p)| NamedPolicy { id, policy: p }).collect(),
        scp: subject.scp.as_ref().map(|levels| levels.iter().map(org_level).collect()),
        rcp: rcp.as_ref().map(|levels| levels.iter().map(org_level).collect()),
        vpc_endpoint: Vec::new(),
    };
    let resource_account = AccountId::parse(account).ok();
    let principal: &Principal = &subject.resolved.principal;
    let request =
        Request { principal, action: access.action, resource: access.resource, resource_account, context: &ctx };
    let decision = castellan_eval::evaluate(&request, &layers);
    let message = decision.message(&request);
    Ok(Authorization { decision, message })
}
