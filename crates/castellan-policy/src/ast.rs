//! The typed policy document: what a policy means, independent of how its JSON was laid out.
//!
//! Two documents that differ only in layout (whitespace, the order of a policy's or a
//! statement's elements, a scalar written for a one-element array, `true` written for `"true"`)
//! parse to equal values; the canonical printer writes one layout for each value, so
//! `parse(print(p)) == p`. Inside `Principal` and `Condition` the document order is kept (it is
//! the order explanations and the printer use), so reordering those keys gives unequal values
//! with the same meaning.

use std::fmt;

use crate::arn::{AccountId, Arn};
use crate::condition::Condition;
use crate::diagnostic::Position;
use crate::template::Template;
use crate::wildcard::{self, Case};

/// A whole policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// `Version`; `None` when the document has none (AWS then reads it as `2008-10-17`).
    pub version: Option<Version>,
    /// `Id`.
    pub id: Option<String>,
    /// The statements, in document order.
    pub statements: Vec<Statement>,
}

impl Policy {
    /// The version the document is processed under: `2008-10-17` when it names none.
    pub fn effective_version(&self) -> Version {
        self.version.unwrap_or(Version::V2008_10_17)
    }
}

/// The policy language version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// `2008-10-17`: no policy variables.
    V2008_10_17,
    /// `2012-10-17`: the current language, with policy variables.
    V2012_10_17,
}

impl Version {
    /// The version string.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V2008_10_17 => "2008-10-17",
            Version::V2012_10_17 => "2012-10-17",
        }
    }

    /// Whether `${...}` is read as a variable under this version.
    pub fn has_variables(self) -> bool {
        self == Version::V2012_10_17
    }
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    /// The statement grants.
    Allow,
    /// The statement denies, overriding any allow.
    Deny,
}

impl Effect {
    /// `Allow` / `Deny`.
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

/// One statement.
#[derive(Debug, Clone)]
pub struct Statement {
    /// `Sid`.
    pub sid: Option<String>,
    /// `Effect`.
    pub effect: Effect,
    /// `Principal` or `NotPrincipal` (resource-based and trust policies).
    pub principal: Option<PrincipalClause>,
    /// `Action` or `NotAction`.
    pub action: ActionClause,
    /// `Resource` or `NotResource`; trust policies have none.
    pub resource: Option<ResourceClause>,
    /// The `Condition` block flattened: one entry per operator and key, in document order.
    pub conditions: Vec<Condition>,
    /// Where the statement starts and ends in the text it was parsed from. Not part of what the
    /// statement means, so equality ignores it.
    pub span: Option<(Position, Position)>,
}

impl PartialEq for Statement {
    fn eq(&self, other: &Statement) -> bool {
        self.sid == other.sid
            && self.effect == other.effect
            && self.principal == other.principal
            && self.action == other.action
            && self.resource == other.resource
            && self.conditions == other.conditions
    }
}

/// `Action` (the listed actions) or `NotAction` (every action but those).
#[derive(Debug, Clone, PartialEq)]
pub enum ActionClause {
    /// `Action`.
    Action(Vec<ActionPattern>),
    /// `NotAction`.
    NotAction(Vec<ActionPattern>),
}

impl ActionClause {
    /// The patterns, whichever element holds them.
    pub fn patterns(&self) -> &[ActionPattern] {
        match self {
            ActionClause::Action(p) | ActionClause::NotAction(p) => p,
        }
    }
}

/// `Resource` or `NotResource`.
#[derive(Debug, Clone, PartialEq)]
pub enum ResourceClause {
    /// `Resource`.
    Resource(Vec<ResourcePattern>),
    /// `NotResource`.
    NotResource(Vec<ResourcePattern>),
}

impl ResourceClause {
    /// The patterns, whichever element holds them.
    pub fn patterns(&self) -> &[ResourcePattern] {
        match self {
            ResourceClause::Resource(p) | ResourceClause::NotResource(p) => p,
        }
    }
}

/// `Principal` or `NotPrincipal`.
#[derive(Debug, Clone, PartialEq)]
pub enum PrincipalClause {
    /// `Principal`.
    Principal(Principal),
    /// `NotPrincipal`.
    NotPrincipal(Principal),
}

/// An action pattern: `*`, or `service:Name` where the name may hold `*` and `?`. Service and
/// name are compared without regard to case.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ActionPattern {
    text: Box<str>,
    /// Byte index of the colon; `None` for `*`.
    colon: Option<usize>,
}

impl ActionPattern {
    /// `*`: every action.
    pub fn any() -> ActionPattern {
        ActionPattern { text: "*".into(), colon: None }
    }

    /// A `service:Name` pattern; the caller has checked the format.
    pub(crate) fn service(text: &str, colon: usize) -> ActionPattern {
        ActionPattern { text: text.into(), colon: Some(colon) }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether this is `*`.
    pub fn is_any(&self) -> bool {
        self.colon.is_none()
    }

    /// The service prefix as written (`None` for `*`).
    pub fn service_prefix(&self) -> Option<&str> {
        self.colon.and_then(|c| self.text.get(..c))
    }

    /// The action name part as written (`None` for `*`).
    pub fn name(&self) -> Option<&str> {
        self.colon.and_then(|c| self.text.get(c + 1..))
    }

    /// Whether the pattern covers `action` (`service:Name`), ignoring case.
    pub fn matches(&self, action: &str) -> bool {
        self.is_any() || wildcard::matches(&self.text, action, Case::Insensitive)
    }
}

impl fmt::Debug for ActionPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Action({:?})", self.text)
    }
}

/// A resource pattern: `*` or an ARN pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ResourcePattern {
    /// `*`: every resource.
    Any,
    /// An ARN whose parts may hold wildcards, and variables in the resource part.
    Arn(ArnPattern),
}

impl ResourcePattern {
    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        match self {
            ResourcePattern::Any => "*",
            ResourcePattern::Arn(a) => a.as_str(),
        }
    }
}

/// An ARN pattern as IAM reads a `Resource` entry: six parts, each matched on its own.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ArnPattern {
    raw: Box<str>,
    /// Partition, service, region and account as byte ranges of `raw`; `None` for a part the
    /// text does not have (a three-part ARN), which reads as `*`.
    parts: [Option<(u32, u32)>; 4],
    resource: Template,
}

impl ArnPattern {
    /// `parts` must be slices of `raw` (or `"*"` for parts `raw` lacks).
    pub(crate) fn new(raw: &str, parts: [&str; 4], resource: Template) -> ArnPattern {
        let base = raw.as_ptr() as usize;
        let range = |part: &str| {
            let start = (part.as_ptr() as usize).checked_sub(base)?;
            let end = start.checked_add(part.len())?;
            (raw.get(start..end) == Some(part)).then_some((u32::try_from(start).ok()?, u32::try_from(end).ok()?))
        };
        ArnPattern { raw: raw.into(), parts: parts.map(range), resource }
    }

    fn part(&self, index: usize) -> &str {
        match self.parts.get(index).copied().flatten() {
            Some((start, end)) => self.raw.get(start as usize..end as usize).unwrap_or("*"),
            None => "*",
        }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.raw
    }
    /// Partition part (may hold wildcards).
    pub fn partition(&self) -> &str {
        self.part(0)
    }
    /// Service part (never holds wildcards).
    pub fn service(&self) -> &str {
        self.part(1)
    }
    /// Region part.
    pub fn region(&self) -> &str {
        self.part(2)
    }
    /// Account part.
    pub fn account(&self) -> &str {
        self.part(3)
    }
    /// Resource part, with variables where the policy version allows them.
    pub fn resource(&self) -> &Template {
        &self.resource
    }
}

/// The principals a `Principal` / `NotPrincipal` element names.
#[derive(Debug, Clone, PartialEq)]
pub enum Principal {
    /// `"*"`: everyone, anonymous callers included.
    Everyone,
    /// `{"AWS": ..., "Service": ..., ...}`.
    Named(Vec<PrincipalEntry>),
}

/// One key of a principal object with its values.
#[derive(Debug, Clone, PartialEq)]
pub struct PrincipalEntry {
    /// `AWS`, `Service`, `Federated` or `CanonicalUser`.
    pub kind: PrincipalKind,
    /// The values, any of which may match.
    pub values: Vec<PrincipalValue>,
}

/// The key of a principal object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalKind {
    /// `AWS`: accounts, users, roles, sessions.
    Aws,
    /// `Service`: AWS service principals.
    Service,
    /// `Federated`: identity providers.
    Federated,
    /// `CanonicalUser`: S3 canonical user ids.
    CanonicalUser,
}

impl PrincipalKind {
    /// The key as written.
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::Aws => "AWS",
            PrincipalKind::Service => "Service",
            PrincipalKind::Federated => "Federated",
            PrincipalKind::CanonicalUser => "CanonicalUser",
        }
    }

    /// Reads a principal object key (exact spelling).
    pub fn parse(key: &str) -> Option<PrincipalKind> {
        match key {
            "AWS" => Some(PrincipalKind::Aws),
            "Service" => Some(PrincipalKind::Service),
            "Federated" => Some(PrincipalKind::Federated),
            "CanonicalUser" => Some(PrincipalKind::CanonicalUser),
            _ => None,
        }
    }
}

/// One principal value, with the text as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PrincipalValue {
    raw: Box<str>,
    id: PrincipalId,
}

impl PrincipalValue {
    pub(crate) fn new(raw: &str, id: PrincipalId) -> PrincipalValue {
        PrincipalValue { raw: raw.into(), id }
    }

    /// Reads `raw` as a value of a principal element of type `kind` (`AWS`, `Service`, ...),
    /// as the parser does; `None` when it is not a valid value of that type.
    pub fn parse(kind: PrincipalKind, raw: &str) -> Option<PrincipalValue> {
        crate::parse::principal_id(kind, raw).map(|id| PrincipalValue::new(raw, id))
    }
    /// The value as written.
    pub fn as_str(&self) -> &str {
        &self.raw
    }
    /// What it names.
    pub fn id(&self) -> &PrincipalId {
        &self.id
    }
}

/// What a principal value names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PrincipalId {
    /// `*` under `AWS` (or any other key): everyone.
    Any,
    /// An account id, short for `arn:aws:iam::ID:root`: the whole account.
    Account(AccountId),
    /// An account's root ARN `arn:PARTITION:iam::ID:root`: the whole account.
    AccountRoot(Arn),
    /// An IAM user, role, assumed-role session or federated-user session ARN.
    Arn(Arn),
    /// A unique id (`AIDA...` for users, `AROA...` for roles).
    UniqueId(Box<str>),
    /// A service principal such as `ec2.amazonaws.com`.
    Service(Box<str>),
    /// A federated identity provider: a well-known host or a SAML/OIDC provider ARN.
    Federated(Box<str>),
    /// An S3 canonical user id (64 hex digits).
    CanonicalUser(Box<str>),
}
