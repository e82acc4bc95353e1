//! Who calls: the [`Caller`] authentication establishes, and what the facade makes of it for a
//! decision — the evaluator's principal and the policies the caller brings (identity layer,
//! permissions boundary, session policies, the SCP path of its account).

use castellan_credentials::UnixTime;
use castellan_org::{GuardrailLevel, OrgKeys, Organizations};
use castellan_store::Directory;
use castellan_sts::{SessionClaims, SessionKind};

use crate::error::IamError;

/// Who a request comes from, as its signature established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// An account's root user, with a long-term key.
    Root {
        /// The account.
        account: String,
    },
    /// An IAM user, with a long-term key.
    User {
        /// The user's account.
        account: String,
        /// The user's name.
        name: String,
    },
    /// A temporary session, from its opened token.
    Session(Box<SessionClaims>),
}

/// An authenticated caller and the facts of its request that global condition keys report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Who.
    pub identity: Identity,
    /// The access key the request was signed with.
    pub access_key_id: Option<String>,
    /// The client's IP address (`aws:SourceIp`).
    pub source_ip: Option<String>,
    /// Whether the request came over TLS (`aws:SecureTransport`).
    pub secure_transport: Option<bool>,
    /// The region the request was signed for (`aws:RequestedRegion`).
    pub requested_region: Option<String>,
    /// The client's user agent (`aws:UserAgent`).
    pub user_agent: Option<String>,
}

impl Caller {
    fn with(identity: Identity) -> Caller {
        Caller {
            identity,
            access_key_id: None,
            source_ip: None,
            secure_transport: None,
            requested_region: None,
            user_agent: None,
        }
    }

    /// The root user of `account`.
    pub fn root(account: impl Into<String>) -> Caller {
        Caller::with(Identity::Root { account: account.into() })
    }

    /// The IAM user `name` of `account`.
    pub fn user(account: impl Into<String>, name: impl Into<String>) -> Caller {
        Caller::with(Identity::User { account: account.into(), name: name.into() })
    }

    /// A session.
    pub fn session(claims: SessionClaims) -> Caller {
        let key = claims.access_key_id.as_str().to_owned();
        Caller { access_key_id: Some(key), ..Caller::with(Identity::Session(Box::new(claims))) }
    }

    /// The same caller, from `ip`.
    pub fn from_ip(mut self, ip: impl Into<String>) -> Caller {
        self.source_ip = Some(ip.into());
        self
    }

    /// The same caller, signing for `region`.
    pub fn in_region(mut self, region: impl Into<String>) -> Caller {
        self.requested_region = Some(region.into());
        self
    }

    /// The same caller, over TLS or not.
    pub fn secure(mut self, secure: bool) -> Caller {
        self.secure_transport = Some(secure);
        self
    }

    /// The caller's account.
    pub fn account(&self) -> &str {
        match &self.identity {
            Identity::Root { account } | Identity::User { account, .. } => account,
            Identity::Session(claims) => &claims.account,
        }
    }

    /// The caller's ARN.
    pub fn arn(&self) -> String {
        match &self.identity {
            Identity::Root { account } => format!("arn:aws:iam::{account}:root"),
            Identity::User { account, name } => format!("arn:aws:iam::{account}:user/{name}"),
            Identity::Session(claims) => claims.principal_arn.clone(),
        }
    }
}

/// The caller resolved for a decision: what STS resolves (principal, layers, session policies,
/// claims) and what the organization adds (the SCP path and the org keys of its account).
pub(crate) struct Subject {
    pub(crate) resolved: castellan_sts::Subject,
    /// The SCP path of the caller's account; `None` where SCPs do not apply.
    pub(crate) scp: Option<Vec<GuardrailLevel>>,
    pub(crate) org_keys: Option<OrgKeys>,
}

/// The caller as STS sees it.
pub(crate) fn sts_caller(caller: &Caller) -> castellan_sts::Caller {
    match &caller.identity {
        Identity::Root { account } => castellan_sts::Caller::Root { account: account.clone() },
        Identity::User { account, name } => {
            castellan_sts::Caller::User { account: account.clone(), name: name.clone() }
        }
        Identity::Session(claims) => castellan_sts::Caller::Session(claims.clone()),
    }
}

/// Resolves `caller` at `now` (see [`castellan_sts::resolve_caller`]: the entity must still exist
/// and a session must not have expired) and adds its organization's guardrails and keys.
pub(crate) fn resolve(
    directory: &Directory,
    organizations: &Organizations,
    caller: &Caller,
    now: UnixTime,
) -> Result<Subject, IamError> {
    let resolved = castellan_sts::resolve_caller(directory, &sts_caller(caller), now)?;
    let account = caller.account();
    // SCPs bind the principals of member accounts; for a role session the role's ARN decides
    // whether it is a service-linked role.
    let scp_arn = match &resolved.claims {
        Some(c) if c.kind == SessionKind::AssumedRole => c.role_arn.clone().unwrap_or_default(),
        _ => caller.arn(),
    };
    let org = organizations.get().filter(|org| org.is_member(account));
    let scp = org.and_then(|org| org.scp_chain_for_principal(&scp_arn));
    let org_keys = org.and_then(|org| org.org_keys(account));
    Ok(Subject { resolved, scp, org_keys })
}
