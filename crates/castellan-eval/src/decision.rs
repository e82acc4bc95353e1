//! The policy layers a decision reads, and the decision with its explanation.

use std::fmt;

use castellan_policy::{ConditionKey, Effect, Policy};

use crate::request::Request;

/// A policy with the name the explanation uses for it (an ARN, a policy name, a file name).
#[derive(Debug, Clone, Copy)]
pub struct NamedPolicy<'p> {
    /// How the explanation names the policy.
    pub id: &'p str,
    /// The policy.
    pub policy: &'p Policy,
}

/// One level of an organization's path (the root, an OU, or the account) with the SCPs or RCPs
/// attached there. A level with no policy allows nothing.
#[derive(Debug, Clone, Default)]
pub struct OrgLevel<'p> {
    /// `r-...`, `ou-...` or the account id.
    pub id: &'p str,
    /// The policies attached at this level.
    pub policies: Vec<NamedPolicy<'p>>,
}

/// Every policy that bears on one request, by layer.
#[derive(Debug, Clone, Default)]
pub struct Layers<'p> {
    /// The principal's identity-based policies (a user's inline, attached and groups'
    /// policies, or a role's). Any may allow.
    pub identity: Vec<NamedPolicy<'p>>,
    /// The resource's own policy (for `sts:AssumeRole*`, the role's trust policy).
    pub resource: Vec<NamedPolicy<'p>>,
    /// The principal's permissions boundary, if it has one.
    pub permissions_boundary: Option<NamedPolicy<'p>>,
    /// Session policies of a temporary session.
    pub session: Vec<NamedPolicy<'p>>,
    /// The SCP path of the principal's account, root first; `None` when the account is
    /// outside an organization or exempt (the management account, service-linked roles).
    pub scp: Option<Vec<OrgLevel<'p>>>,
    /// The RCP path of the resource's account, root first; `None` when outside an
    /// organization or exempt.
    pub rcp: Option<Vec<OrgLevel<'p>>>,
    /// VPC endpoint policies the request passed through.
    pub vpc_endpoint: Vec<NamedPolicy<'p>>,
}

/// The three outcomes of IAM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Allowed.
    Allow,
    /// A matching `Deny` statement.
    ExplicitDeny,
    /// Nothing (or not every required layer) allowed.
    ImplicitDeny,
}

impl Outcome {
    /// `Allow`, `ExplicitDeny`, `ImplicitDeny`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allow => "Allow",
            Outcome::ExplicitDeny => "ExplicitDeny",
            Outcome::ImplicitDeny => "ImplicitDeny",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of policy a statement came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LayerKind {
    /// Identity-based policy.
    Identity,
    /// Resource-based policy (or trust policy).
    Resource,
    /// Permissions boundary.
    PermissionsBoundary,
    /// Session policy.
    Session,
    /// Service control policy.
    Scp,
    /// Resource control policy.
    Rcp,
    /// VPC endpoint policy.
    VpcEndpoint,
}

impl LayerKind {
    /// The layer in the words of AWS's access-denied messages.
    pub fn aws_name(self) -> &'static str {
        match self {
            LayerKind::Identity => "identity-based policy",
            LayerKind::Resource => "resource-based policy",
            LayerKind::PermissionsBoundary => "permissions boundary",
            LayerKind::Session => "session policy",
            LayerKind::Scp => "service control policy",
            LayerKind::Rcp => "resource control policy",
            LayerKind::VpcEndpoint => "VPC endpoint policy",
        }
    }

    /// The layer's name in the decision-case format (`identity`, `resource`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            LayerKind::Identity => "identity",
            LayerKind::Resource => "resource",
            LayerKind::PermissionsBoundary => "permissions_boundary",
            LayerKind::Session => "session",
            LayerKind::Scp => "scp",
            LayerKind::Rcp => "rcp",
            LayerKind::VpcEndpoint => "vpc_endpoint",
        }
    }
}

/// A statement that applied to the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedStatement {
    /// Its layer.
    pub layer: LayerKind,
    /// The policy's name.
    pub policy_id: String,
    /// For SCPs and RCPs, the level (0 = root).
    pub level: Option<usize>,
    /// The statement's position in its policy (0-based).
    pub index: usize,
    /// Its `Sid`.
    pub sid: Option<String>,
    /// Its effect.
    pub effect: Effect,
}

impl fmt::Display for MatchedStatement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} `{}`", self.effect.as_str(), self.layer.as_str(), self.policy_id)?;
        if let Some(level) = self.level {
            write!(f, " (level {level})")?;
        }
        match &self.sid {
            Some(sid) if !sid.is_empty() => write!(f, " statement `{sid}`"),
            _ => write!(f, " statement #{}", self.index + 1),
        }
    }
}

/// The decision and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Allow, explicit deny or implicit deny.
    pub outcome: Outcome,
    /// The statements that decided: the matching `Deny` statements for an explicit deny, else
    /// the `Allow` statements that applied.
    pub matched: Vec<MatchedStatement>,
    /// For a denial, the layer that denied.
    pub denied_by: Option<LayerKind>,
    /// Condition keys the policies read that the request does not have.
    pub missing_context_keys: Vec<ConditionKey>,
}

impl Decision {
    /// AWS's access-denied message for this decision (empty for `Allow`):
    /// `User: ARN is not authorized to perform: ACTION on resource: RES because ...`.
    pub fn message(&self, request: &Request<'_>) -> String {
        let Some(layer) = self.denied_by else {
            return String::new();
        };
        let who = match request.principal.arn.as_ref() {
            Some(arn) => format!("User: {arn}"),
            None => "Anonymous user".to_owned(),
        };
        let why = match self.outcome {
            Outcome::ExplicitDeny => {
                let name = layer.aws_name();
                let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
                format!("with an explicit deny in {article} {name}")
            }
            _ => format!("because no {} allows the {} action", layer.aws_name(), request.action),
        };
        format!("{who} is not authorized to perform: {} on resource: {} {why}", request.action, request.resource)
    }
}
