//! AWS's evaluation order over all policy layers.
//!
//! 1. A matching `Deny` in any layer: explicit deny.
//! 2. RCPs of the resource's account: every level must allow.
//! 3. SCPs of the principal's account: every level must allow.
//! 4. VPC endpoint policies, when the request passed through one: must allow.
//! 5. Resource policy: in the same account, a grant naming the user, the session or everyone
//!    is enough on its own; a grant naming the role counts with the identity policies (and stays
//!    subject to the boundary and session policies); a grant naming the account only delegates.
//!    Across accounts the resource policy must allow and so must the caller's side. Trust and
//!    key policies must allow in every case.
//! 6. Identity policies must allow (the root user needs none).
//! 7. The permissions boundary, if any, must allow.
//! 8. Session policies, for sessions: must allow; a federated-user session without one gets
//!    nothing.

use castellan_policy::{
    ConditionKey, Effect, Principal as PolicyPrincipal, PrincipalClause, PrincipalId, PrincipalKind, Statement,
};

use crate::decision::{Decision, LayerKind, Layers, MatchedStatement, NamedPolicy, OrgLevel, Outcome};
use crate::index::PolicySet;
use crate::matching::{action_matches, conditions_hold, resource_parts_match, split_arn};
use crate::request::{Principal, PrincipalType, Request};

/// How a resource-policy statement names the caller, which decides what its grant is worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Grant {
    /// Names the caller's account: only delegates to the account's own policies.
    Account,
    /// Names the role whose session calls: counts with identity policies, limited by the
    /// boundary and session policies.
    Role,
    /// Names the user, the session, the service or everyone: a grant on its own.
    Direct,
}

/// What one layer's statements say about the request.
#[derive(Debug, Default, Clone, Copy)]
struct Verdict {
    allow: bool,
    deny: bool,
}

/// One organization level, compiled.
#[derive(Debug, Clone, Default)]
pub struct CompiledLevel<'p> {
    /// `r-...`, `ou-...` or the account id.
    pub id: &'p str,
    /// The policies attached there.
    pub policies: PolicySet<'p>,
}

/// [`Layers`] compiled once for many decisions: each layer's statements indexed by the
/// actions and resources they can match.
#[derive(Debug, Clone, Default)]
pub struct CompiledLayers<'p> {
    identity: PolicySet<'p>,
    resource: PolicySet<'p>,
    permissions_boundary: Option<PolicySet<'p>>,
    session: PolicySet<'p>,
    scp: Option<Vec<CompiledLevel<'p>>>,
    rcp: Option<Vec<CompiledLevel<'p>>>,
    vpc_endpoint: PolicySet<'p>,
}

impl<'p> Layers<'p> {
    /// Compiles the layers for fast, repeated decisions.
    pub fn compile(&self) -> CompiledLayers<'p> {
        self.convert(PolicySet::new)
    }

    fn convert(&self, set: impl Fn(Vec<NamedPolicy<'p>>) -> PolicySet<'p>) -> CompiledLayers<'p> {
        let levels = |levels: &Option<Vec<OrgLevel<'p>>>| {
            levels.as_ref().map(|levels| {
                levels.iter().map(|l| CompiledLevel { id: l.id, policies: set(l.policies.clone()) }).collect()
            })
        };
        CompiledLayers {
            identity: set(self.identity.clone()),
            resource: set(self.resource.clone()),
            permissions_boundary: self.permissions_boundary.map(|b| set(vec![b])),
            session: set(self.session.clone()),
            scp: levels(&self.scp),
            rcp: levels(&self.rcp),
            vpc_endpoint: set(self.vpc_endpoint.clone()),
        }
    }
}

impl CompiledLayers<'_> {
    /// The decision alone, without explanation; allocates nothing unless a policy uses
    /// variables or escapes.
    pub fn decide(&self, request: &Request<'_>) -> Outcome {
        run(request, self, &mut ()).0
    }

    /// The decision with its explanation.
    pub fn evaluate(&self, request: &Request<'_>) -> Decision {
        let mut explain = Explain::default();
        let (outcome, denied_by) = run(request, self, &mut explain);
        explain.finish(outcome, denied_by)
    }
}

/// Decides `request` against `layers` and explains the decision.
///
/// For many decisions over the same policies, [`Layers::compile`] once and use
/// [`CompiledLayers::decide`] or [`CompiledLayers::evaluate`].
pub fn evaluate(request: &Request<'_>, layers: &Layers<'_>) -> Decision {
    layers.convert(PolicySet::unindexed).evaluate(request)
}

/// What the evaluation reports besides the outcome. The unit recorder reports nothing, so
/// fast decisions pay nothing for explanations.
trait Recorder {
    fn statement(
        &mut self,
        layer: LayerKind,
        policy: &NamedPolicy<'_>,
        level: Option<usize>,
        index: usize,
        s: &Statement,
    );
    fn missing(&mut self, key: &ConditionKey);
}

impl Recorder for () {
    fn statement(&mut self, _: LayerKind, _: &NamedPolicy<'_>, _: Option<usize>, _: usize, _: &Statement) {}
    fn missing(&mut self, _: &ConditionKey) {}
}

#[derive(Default)]
struct Explain {
    allows: Vec<MatchedStatement>,
    denies: Vec<MatchedStatement>,
    missing: Vec<ConditionKey>,
}

impl Recorder for Explain {
    fn statement(
        &mut self,
        layer: LayerKind,
        policy: &NamedPolicy<'_>,
        level: Option<usize>,
        index: usize,
        s: &Statement,
    ) {
        let list = match s.effect {
            Effect::Allow => &mut self.allows,
            Effect::Deny => &mut self.denies,
        };
        // An indexed statement may be visited under several keys; list it once.
        if list.iter().any(|m| m.layer == layer && m.level == level && m.index == index && m.policy_id == policy.id) {
            return;
        }
        list.push(MatchedStatement {
            layer,
            policy_id: policy.id.to_owned(),
            level,
            index,
            sid: s.sid.clone(),
            effect: s.effect,
        });
    }

    fn missing(&mut self, key: &ConditionKey) {
        if !self.missing.contains(key) {
            self.missing.push(key.clone());
        }
    }
}

impl Explain {
    fn finish(self, outcome: Outcome, denied_by: Option<LayerKind>) -> Decision {
        let matched = match outcome {
            Outcome::ExplicitDeny => self.denies,
            _ => self.allows,
        };
        Decision { outcome, matched, denied_by, missing_context_keys: self.missing }
    }
}

fn run<R: Recorder>(request: &Request<'_>, layers: &CompiledLayers<'_>, rec: &mut R) -> (Outcome, Option<LayerKind>) {
    let mut ev = Evaluation {
        request: *request,
        has_boundary: layers.permissions_boundary.is_some(),
        resource_parts: None,
        rec,
    };
    let identity = ev.layer(LayerKind::Identity, &layers.identity, None);
    let boundary = match &layers.permissions_boundary {
        Some(set) => ev.layer(LayerKind::PermissionsBoundary, set, None),
        None => Verdict::default(),
    };
    let session = ev.layer(LayerKind::Session, &layers.session, None);
    let endpoint = ev.layer(LayerKind::VpcEndpoint, &layers.vpc_endpoint, None);
    let (resource, grant) = ev.resource_layer(&layers.resource);
    let scp = ev.org_levels(LayerKind::Scp, layers.scp.as_deref());
    let rcp = ev.org_levels(LayerKind::Rcp, layers.rcp.as_deref());

    // 1. Explicit deny, anywhere.
    let deny_order = [
        (LayerKind::Rcp, rcp.deny),
        (LayerKind::Scp, scp.deny),
        (LayerKind::VpcEndpoint, endpoint.deny),
        (LayerKind::Resource, resource.deny),
        (LayerKind::Identity, identity.deny),
        (LayerKind::PermissionsBoundary, boundary.deny),
        (LayerKind::Session, session.deny),
    ];
    if let Some((layer, _)) = deny_order.iter().find(|(_, denied)| *denied) {
        return (Outcome::ExplicitDeny, Some(*layer));
    }
    // 2-4. Guardrails: every level of each organization path, and the endpoint.
    if !rcp.allow {
        return (Outcome::ImplicitDeny, Some(LayerKind::Rcp));
    }
    if !scp.allow {
        return (Outcome::ImplicitDeny, Some(LayerKind::Scp));
    }
    if !layers.vpc_endpoint.is_empty() && !endpoint.allow {
        return (Outcome::ImplicitDeny, Some(LayerKind::VpcEndpoint));
    }

    let principal = request.principal;
    // Callers outside IAM have no identity policies: only a resource policy can grant.
    if matches!(principal.kind, PrincipalType::Anonymous | PrincipalType::Service(_) | PrincipalType::Federated(_)) {
        return if resource.allow {
            (Outcome::Allow, None)
        } else {
            (Outcome::ImplicitDeny, Some(LayerKind::Resource))
        };
    }

    // 5. The resource policy.
    if needs_resource_allow(request.action, !layers.resource.is_empty()) && !resource.allow {
        return (Outcome::ImplicitDeny, Some(LayerKind::Resource));
    }
    let cross_account = request.is_cross_account();
    let mut identity_allows = identity.allow || principal.kind == PrincipalType::Root;
    if cross_account {
        if !resource.allow {
            return (Outcome::ImplicitDeny, Some(LayerKind::Resource));
        }
    } else {
        match grant {
            Some(Grant::Direct) => return (Outcome::Allow, None),
            Some(Grant::Role) => identity_allows = true,
            Some(Grant::Account) | None => {}
        }
    }
    // 6-8. The caller's own side.
    if !identity_allows {
        return (Outcome::ImplicitDeny, Some(LayerKind::Identity));
    }
    if layers.permissions_boundary.is_some() && !boundary.allow {
        return (Outcome::ImplicitDeny, Some(LayerKind::PermissionsBoundary));
    }
    if principal.is_session() {
        let needs_session_policy = principal.kind == PrincipalType::FederatedUser;
        if (!layers.session.is_empty() && !session.allow) || (layers.session.is_empty() && needs_session_policy) {
            return (Outcome::ImplicitDeny, Some(LayerKind::Session));
        }
    }
    (Outcome::Allow, None)
}

fn is_assume_role(action: &str) -> bool {
    action.get(..14).is_some_and(|p| p.eq_ignore_ascii_case("sts:AssumeRole"))
}

fn is_kms(action: &str) -> bool {
    action.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("kms:"))
}

/// Whether the resource policy must allow whatever the identity policies say: role trust
/// policies (`sts:AssumeRole*`: a role always has one, so none given means none allows) and
/// KMS key policies (when the caller supplies one; without it the key is taken to have AWS's
/// default key policy, which delegates to the account's IAM policies).
fn needs_resource_allow(action: &str, resource_policy_given: bool) -> bool {
    is_assume_role(action) || (resource_policy_given && is_kms(action))
}

struct Evaluation<'r, 'x, R> {
    request: Request<'r>,
    /// Whether the caller has a permissions boundary (a `Deny` + `NotPrincipal` statement then
    /// covers it whatever it lists).
    has_boundary: bool,
    /// The request's resource split into its parts, once a statement needs them (`None`
    /// inside: not an ARN).
    resource_parts: Option<Option<[&'r str; 5]>>,
    rec: &'x mut R,
}

impl<R: Recorder> Evaluation<'_, '_, R> {
    /// Whether `s` applies, leaving the principal aside; `action_known`: its `Action` element is
    /// known to cover the request's action.
    fn applies(&mut self, s: &Statement, action_known: bool) -> bool {
        let r = &self.request;
        if !action_known && !action_matches(&s.action, r.action) {
            return false;
        }
        if let Some(clause) = &s.resource {
            let parts = *self.resource_parts.get_or_insert_with(|| split_arn(r.resource));
            if !resource_parts_match(clause, parts, r.context) {
                return false;
            }
        }
        let rec = &mut *self.rec;
        conditions_hold(&s.conditions, r.context, &mut |k| rec.missing(k))
    }

    fn layer(&mut self, layer: LayerKind, set: &PolicySet<'_>, level: Option<usize>) -> Verdict {
        let mut verdict = Verdict::default();
        let (action, resource) = (self.request.action, self.request.resource);
        set.candidates(action, resource, |policy, index, s, action_known| {
            // Principals in identity-side layers are rejected by their kinds; an RCP's is `*`.
            let principal_ok = match &s.principal {
                None => true,
                Some(clause) => {
                    principal_clause_grant(clause, s.effect, self.request.principal, self.has_boundary).is_some()
                }
            };
            if principal_ok && self.applies(s, action_known) {
                self.rec.statement(layer, policy, level, index, s);
                match s.effect {
                    Effect::Allow => verdict.allow = true,
                    Effect::Deny => verdict.deny = true,
                }
            }
        });
        verdict
    }

    /// All levels of an organization path: `allow` when every level allows (or there is no
    /// path), `deny` when any level denies.
    fn org_levels(&mut self, layer: LayerKind, levels: Option<&[CompiledLevel<'_>]>) -> Verdict {
        let mut all = Verdict { allow: true, deny: false };
        for (i, level) in levels.unwrap_or_default().iter().enumerate() {
            let v = self.layer(layer, &level.policies, Some(i));
            all.allow &= v.allow;
            all.deny |= v.deny;
        }
        all
    }

    /// The resource layer, with the strongest grant among its matching Allow statements.
    fn resource_layer(&mut self, set: &PolicySet<'_>) -> (Verdict, Option<Grant>) {
        let mut verdict = Verdict::default();
        let mut best: Option<Grant> = None;
        let (action, resource) = (self.request.action, self.request.resource);
        set.candidates(action, resource, |policy, index, s, action_known| {
            let Some(clause) = &s.principal else { return };
            let Some(grant) = principal_clause_grant(clause, s.effect, self.request.principal, self.has_boundary)
            else {
                return;
            };
            if !self.applies(s, action_known) {
                return;
            }
            self.rec.statement(LayerKind::Resource, policy, None, index, s);
            match s.effect {
                Effect::Allow => {
                    verdict.allow = true;
                    best = best.max(Some(grant));
                }
                Effect::Deny => verdict.deny = true,
            }
        });
        (verdict, best)
    }
}

/// Whether a `Principal` / `NotPrincipal` element covers the caller, and with what grant.
fn principal_clause_grant(
    clause: &PrincipalClause,
    effect: Effect,
    caller: &Principal,
    has_boundary: bool,
) -> Option<Grant> {
    match clause {
        PrincipalClause::Principal(p) => principal_grant(p, caller),
        PrincipalClause::NotPrincipal(p) => {
            // A `Deny` + `NotPrincipal` statement always covers an IAM user or role that has a
            // permissions boundary, whatever it lists (iam-behaviour.md §1.4).
            let bounded =
                has_boundary && matches!(caller.kind, PrincipalType::User | PrincipalType::AssumedRole { .. });
            if effect == Effect::Deny && bounded {
                return Some(Grant::Direct);
            }
            (!not_principal_exempts(p, caller)).then_some(Grant::Direct)
        }
    }
}

/// Whether a `NotPrincipal` list exempts the caller. AWS may check the caller's account, its
/// role and its session (or user) separately, so the list must name each of them: a user
/// through its ARN (or unique id) and its account, a role session through its session ARN, its
/// role (ARN or unique id) and its account, a federated user through its ARN and its account,
/// the root user through its account (iam-behaviour.md §1.4).
fn not_principal_exempts(p: &PolicyPrincipal, caller: &Principal) -> bool {
    let entries = match p {
        PolicyPrincipal::Everyone => return true,
        PolicyPrincipal::Named(entries) => entries,
    };
    let (mut account, mut role, mut direct) = (false, false, false);
    for entry in entries {
        for value in &entry.values {
            if matches!(value.id(), PrincipalId::Any) {
                return true;
            }
            match value_grant(entry.kind, value.id(), caller) {
                Some(Grant::Account) => account = true,
                Some(Grant::Role) => role = true,
                Some(Grant::Direct) => direct = true,
                None => {}
            }
        }
    }
    match caller.kind {
        PrincipalType::Root => account,
        PrincipalType::User | PrincipalType::FederatedUser => direct && account,
        PrincipalType::AssumedRole { .. } => direct && role && account,
        PrincipalType::Service(_) | PrincipalType::Federated(_) | PrincipalType::Anonymous => direct,
    }
}

fn principal_grant(p: &PolicyPrincipal, caller: &Principal) -> Option<Grant> {
    let entries = match p {
        PolicyPrincipal::Everyone => return Some(Grant::Direct),
        PolicyPrincipal::Named(entries) => entries,
    };
    let mut best = None;
    for entry in entries {
        for value in &entry.values {
            let grant = value_grant(entry.kind, value.id(), caller);
            best = best.max(grant);
        }
    }
    best
}

fn value_grant(kind: PrincipalKind, id: &PrincipalId, caller: &Principal) -> Option<Grant> {
    let caller_account = caller.account.as_ref().map(|a| a.as_str());
    match (kind, id) {
        (_, PrincipalId::Any) => Some(Grant::Direct),
        (PrincipalKind::Aws, PrincipalId::Account(account)) => {
            (caller_account == Some(account.as_str())).then_some(Grant::Account)
        }
        (PrincipalKind::Aws, PrincipalId::AccountRoot(arn)) => {
            (caller_account == Some(arn.account()) && caller.arn.is_some()).then_some(Grant::Account)
        }
        (PrincipalKind::Aws, PrincipalId::Arn(arn)) => {
            if caller.arn.as_ref() == Some(arn) {
                return Some(Grant::Direct);
            }
            match &caller.kind {
                PrincipalType::AssumedRole { role_arn, .. } if role_arn == arn => Some(Grant::Role),
                _ => None,
            }
        }
        (PrincipalKind::Aws, PrincipalId::UniqueId(id)) => match (&caller.kind, &caller.unique_id) {
            (PrincipalType::User, Some(uid)) if uid == id => Some(Grant::Direct),
            (PrincipalType::AssumedRole { .. }, Some(uid)) if uid == id => Some(Grant::Role),
            _ => None,
        },
        (PrincipalKind::Service, PrincipalId::Service(name)) => {
            matches!(&caller.kind, PrincipalType::Service(s) if s == name).then_some(Grant::Direct)
        }
        (PrincipalKind::Federated, PrincipalId::Federated(provider)) => {
            matches!(&caller.kind, PrincipalType::Federated(p) if p == provider).then_some(Grant::Direct)
        }
        _ => None,
    }
}
