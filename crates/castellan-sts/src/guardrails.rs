//! Organization guardrails for STS decisions: the SCPs of the caller's account and the RCPs of
//! the role's account, supplied by the layer above that knows the organization (this crate does
//! not depend on `castellan-org`).

use std::sync::Arc;

use castellan_eval::{NamedPolicy, OrgLevel};
use castellan_policy::Policy;

/// One level of an organization path (the root, an OU, or the account) with the SCPs or RCPs
/// attached there, owned.
#[derive(Debug, Clone, Default)]
pub struct GuardLevel {
    /// `r-...`, `ou-...` or the account id.
    pub id: String,
    /// The policies attached at this level, by id (`p-...`) with their parsed documents.
    pub policies: Vec<(String, Arc<Policy>)>,
}

/// The SCP and RCP paths of accounts. `None` means the account is outside an organization or
/// exempt (the management account; for SCPs also service-linked roles): no guardrail applies.
pub trait Guardrails {
    /// The SCP path, root first, that applies to `principal_arn` (the value of
    /// `aws:PrincipalArn`: the role's ARN for a role session) of `account`.
    fn scp(&self, account: &str, principal_arn: &str) -> Option<Vec<GuardLevel>>;
    /// The RCP path, root first, of `account`, the owner of the resource.
    fn rcp(&self, account: &str) -> Option<Vec<GuardLevel>>;
}

/// The guardrail paths of one decision, owned so that `Layers` can borrow them.
#[derive(Debug, Clone, Default)]
pub(crate) struct GuardPaths {
    pub(crate) scp: Option<Vec<GuardLevel>>,
    pub(crate) rcp: Option<Vec<GuardLevel>>,
}

impl GuardPaths {
    /// The SCPs of `caller_account` for `principal_arn` (when `Some`) and the RCPs of
    /// `resource_account` (when `Some`).
    pub(crate) fn new(
        guardrails: Option<&dyn Guardrails>,
        scp_of: Option<(&str, &str)>,
        rcp_of: Option<&str>,
    ) -> GuardPaths {
        let Some(g) = guardrails else { return GuardPaths::default() };
        GuardPaths {
            scp: scp_of.and_then(|(account, arn)| g.scp(account, arn)),
            rcp: rcp_of.and_then(|account| g.rcp(account)),
        }
    }

    pub(crate) fn scp_levels(&self) -> Option<Vec<OrgLevel<'_>>> {
        levels(self.scp.as_deref())
    }

    pub(crate) fn rcp_levels(&self) -> Option<Vec<OrgLevel<'_>>> {
        levels(self.rcp.as_deref())
    }
}

fn levels(path: Option<&[GuardLevel]>) -> Option<Vec<OrgLevel<'_>>> {
    path.map(|levels| {
        levels
            .iter()
            .map(|l| OrgLevel {
                id: &l.id,
                policies: l.policies.iter().map(|(id, p)| NamedPolicy { id, policy: p }).collect(),
            })
            .collect()
    })
}
