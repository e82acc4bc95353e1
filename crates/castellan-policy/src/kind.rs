//! The seven kinds of policy document and the rules that differ between them.

use std::fmt;
use std::str::FromStr;

/// Where a policy document is used; each kind has its own required and forbidden elements,
/// version rule and size quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// Identity-based: inline or managed policies of users, groups and roles.
    Identity,
    /// Resource-based: a resource's own policy (bucket, queue, key, ...).
    Resource,
    /// A role's trust policy (`AssumeRolePolicyDocument`).
    Trust,
    /// A managed policy used as a user's or role's permissions boundary.
    PermissionsBoundary,
    /// A session policy passed to `AssumeRole*` or `GetFederationToken`.
    Session,
    /// An AWS Organizations service control policy.
    Scp,
    /// An AWS Organizations resource control policy.
    Rcp,
}

/// Whether a kind requires, allows or forbids an element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Presence {
    Required,
    Optional,
    Forbidden,
}

/// How a kind's size quota is counted and what exceeding it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizeQuota {
    /// The largest size accepted.
    pub limit: usize,
    /// Whether whitespace counts (IAM leaves it out; Organizations counts every character).
    pub counts_whitespace: bool,
    /// Whether exceeding it rejects the document (else it is a warning, because the quota
    /// depends on where the document is stored).
    pub enforced: bool,
}

impl PolicyKind {
    /// Every kind.
    pub const ALL: [PolicyKind; 7] = [
        PolicyKind::Identity,
        PolicyKind::Resource,
        PolicyKind::Trust,
        PolicyKind::PermissionsBoundary,
        PolicyKind::Session,
        PolicyKind::Scp,
        PolicyKind::Rcp,
    ];

    /// The kind's name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyKind::Identity => "identity",
            PolicyKind::Resource => "resource",
            PolicyKind::Trust => "trust",
            PolicyKind::PermissionsBoundary => "permissions-boundary",
            PolicyKind::Session => "session",
            PolicyKind::Scp => "scp",
            PolicyKind::Rcp => "rcp",
        }
    }

    /// Whether IAM itself stores and validates this kind (as opposed to another service or
    /// AWS Organizations): IAM's character set, `Sid` rule and whitespace-free sizes apply.
    pub fn is_iam(self) -> bool {
        matches!(self, PolicyKind::Identity | PolicyKind::Trust | PolicyKind::PermissionsBoundary | PolicyKind::Session)
    }

    /// Whether the document must say `"Version": "2012-10-17"`.
    pub fn requires_current_version(self) -> bool {
        matches!(self, PolicyKind::Identity | PolicyKind::PermissionsBoundary | PolicyKind::Rcp)
    }

    pub(crate) fn principal(self) -> Presence {
        match self {
            PolicyKind::Resource | PolicyKind::Trust | PolicyKind::Rcp => Presence::Required,
            _ => Presence::Forbidden,
        }
    }

    pub(crate) fn not_principal(self) -> Presence {
        match self {
            PolicyKind::Resource => Presence::Optional,
            _ => Presence::Forbidden,
        }
    }

    pub(crate) fn resource(self) -> Presence {
        match self {
            PolicyKind::Trust => Presence::Forbidden,
            _ => Presence::Required,
        }
    }

    /// The size quota, where the kind has one of its own.
    ///
    /// Identity policies and boundaries have no fixed quota of their own: a customer managed
    /// policy may hold 6,144 characters, inline policies share a per-entity quota, and AWS
    /// managed policies are larger still. The 6,144 figure is reported as a warning.
    pub fn size_quota(self) -> Option<SizeQuota> {
        let quota = |limit, counts_whitespace, enforced| Some(SizeQuota { limit, counts_whitespace, enforced });
        match self {
            PolicyKind::Identity | PolicyKind::PermissionsBoundary => quota(6_144, false, false),
            PolicyKind::Trust => quota(2_048, false, true),
            PolicyKind::Session => quota(2_048, true, true),
            PolicyKind::Scp | PolicyKind::Rcp => quota(5_120, true, true),
            PolicyKind::Resource => None,
        }
    }
}

impl fmt::Display for PolicyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a string does not name a policy kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a policy kind (identity, resource, trust, permissions-boundary, session, scp, rcp)")]
pub struct UnknownKind(pub String);

impl FromStr for PolicyKind {
    type Err = UnknownKind;
    fn from_str(s: &str) -> Result<PolicyKind, UnknownKind> {
        PolicyKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| UnknownKind(s.to_owned()))
    }
}

/// The size of a document as IAM counts it: every character except whitespace.
pub fn iam_size(text: &str) -> usize {
    text.chars().filter(|c| !c.is_whitespace()).count()
}
