//! Who calls: the [`Caller`] authentication establishes, and what the facade makes of it for a
//! decision — the evaluator's principal and the policies the caller brings (identity layer,
//! permissions boundary, session policies, the SCP path of its account).

use std::sync::Arc;

use castellan_credentials::UnixTime;
use castellan_eval::Principal;
use castellan_org::{GuardrailLevel, OrgKeys, Organizations};
use castellan_policy::{Policy, PolicyKind};
use castellan_store::{Directory, PrincipalPolicies, Snapshot};
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

/// The caller resolved against a snapshot: what a decision about it reads.
pub(crate) struct Subject {
    pub(crate) principal: Principal,
    /// The identity layer and boundary (a user's or a role's); `None` for the root user.
    pub(crate) policies: Option<Arc<PrincipalPolicies>>,
    /// Session policies (inline, then managed), by name.
    pub(crate) session: Vec<(String, Arc<Policy>)>,
    pub(crate) claims: Option<SessionClaims>,
    /// The SCP path of the caller's account; `None` where SCPs do not apply.
    pub(crate) scp: Option<Vec<GuardrailLevel>>,
    pub(crate) org_keys: Option<OrgKeys>,
}

fn invalid_token() -> IamError {
    IamError::new("InvalidClientTokenId", 403, "The security token included in the request is invalid.")
}

fn entity_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or_default()
}

fn eval_principal(arn: &str, p: Option<&PrincipalPolicies>) -> Result<Principal, IamError> {
    let mut principal = Principal::from_arn(arn, None).map_err(|e| IamError::service_failure(e.0))?;
    if let Some(p) = p {
        principal.unique_id = Some(p.unique_id.as_str().into());
        principal.tags = p.tags.iter().map(|t| (t.key.as_str().into(), t.value.as_str().into())).collect();
    }
    Ok(principal)
}

/// Resolves `caller` at `now`: the user, role or root must still exist (a session of an entity
/// deleted since, even if created again under the same name, is refused), and the session must
/// not have expired.
pub(crate) fn resolve(
    directory: &Directory,
    organizations: &Organizations,
    caller: &Caller,
    now: UnixTime,
) -> Result<Subject, IamError> {
    let account = caller.account();
    let snapshot: Arc<Snapshot> = directory.snapshot(account).ok_or_else(invalid_token)?;
    let (principal, policies, session, claims) = match &caller.identity {
        Identity::Root { account } => {
            (eval_principal(&format!("arn:aws:iam::{account}:root"), None)?, None, Vec::new(), None)
        }
        Identity::User { name, .. } => {
            let p = Arc::clone(snapshot.user(name).ok_or_else(invalid_token)?);
            (eval_principal(&p.arn, Some(&p))?, Some(p), Vec::new(), None)
        }
        Identity::Session(claims) => {
            if claims.is_expired(now) {
                return Err(IamError::new(
                    "ExpiredToken",
                    400,
                    "The security token included in the request is expired",
                ));
            }
            let policies = match claims.kind {
                SessionKind::RootSession => None,
                SessionKind::UserSession => {
                    let p = snapshot.user(entity_name(&claims.principal_arn)).ok_or_else(invalid_token)?;
                    if p.unique_id != claims.principal_id {
                        return Err(invalid_token());
                    }
                    Some(Arc::clone(p))
                }
                SessionKind::FederatedUser => {
                    let origin = claims.chain_origin.as_deref().ok_or_else(invalid_token)?;
                    Some(Arc::clone(snapshot.user(entity_name(origin)).ok_or_else(invalid_token)?))
                }
                SessionKind::AssumedRole => {
                    let role_arn = claims.role_arn.as_deref().unwrap_or_default();
                    let p = snapshot.role(entity_name(role_arn)).ok_or_else(invalid_token)?;
                    if Some(p.unique_id.as_str()) != claims.role_id.as_deref() {
                        return Err(invalid_token());
                    }
                    Some(Arc::clone(p))
                }
            };
            let mut session = Vec::new();
            if let Some(text) = &claims.policy {
                let policy = Policy::parse(text, PolicyKind::Session).map_err(|_| invalid_token())?;
                session.push(("session-policy".to_owned(), Arc::new(policy)));
            }
            for arn in &claims.policy_arns {
                // A managed session policy deleted since the session began allows nothing.
                let policy = snapshot
                    .managed_policy(arn)
                    .map(|p| Arc::clone(&p.policy))
                    .unwrap_or_else(|| Arc::new(Policy { version: None, id: None, statements: Vec::new() }));
                session.push((arn.clone(), policy));
            }
            let base_tags = policies.as_ref().map(|p| p.tags.clone()).unwrap_or_default();
            let principal = claims.principal(&base_tags)?;
            (principal, policies, session, Some((**claims).clone()))
        }
    };
    // SCPs bind the principals of member accounts; for a role session the role's ARN decides
    // whether it is a service-linked role.
    let scp_arn = match &claims {
        Some(c) if c.kind == SessionKind::AssumedRole => c.role_arn.clone().unwrap_or_default(),
        _ => caller.arn(),
    };
    let scp = organizations
        .get()
        .and_then(|org| if org.is_member(account) { org.scp_chain_for_principal(&scp_arn) } else { None });
    let org_keys = organizations.get().and_then(|org| org.org_keys(account));
    Ok(Subject { principal, policies, session, claims, scp, org_keys })
}
