//! The request model: who asks, for what, on which resource, with which context.

use castellan_policy::{AccountId, Arn};

use crate::context::Context;

/// What kind of caller a principal is (the values of `aws:PrincipalType`, plus services).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalType {
    /// An account's root user (`arn:aws:iam::ACCOUNT:root`).
    Root,
    /// An IAM user.
    User,
    /// A role session (`AssumeRole`, `AssumeRoleWithWebIdentity`, `AssumeRoleWithSAML`).
    AssumedRole {
        /// The role's ARN, with its path (`aws:PrincipalArn`).
        role_arn: Arn,
        /// The role session name.
        session_name: Box<str>,
    },
    /// A `GetFederationToken` session.
    FederatedUser,
    /// An AWS service calling with its service principal (`ec2.amazonaws.com`).
    Service(Box<str>),
    /// A federated identity provider in a web-identity or SAML role assumption.
    Federated(Box<str>),
    /// An unsigned request.
    Anonymous,
}

/// The caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// What kind of caller.
    pub kind: PrincipalType,
    /// The caller's ARN: the user, the root, the session (`assumed-role/ROLE/SESSION`) or the
    /// federated user. `None` for services, providers and anonymous callers.
    pub arn: Option<Arn>,
    /// The account the caller belongs to.
    pub account: Option<AccountId>,
    /// The unique id of the user or role (`AIDA...`, `AROA...`), where known.
    pub unique_id: Option<Box<str>>,
    /// The principal's tags: a user's tags, or a session's tags (the role's tags overridden by
    /// session tags). They become `aws:PrincipalTag/KEY`.
    pub tags: Vec<(Box<str>, Box<str>)>,
}

/// Why a principal ARN cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalError(pub String);

impl std::fmt::Display for PrincipalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PrincipalError {}

impl Principal {
    /// Reads a caller from its ARN: a user, the root, an assumed-role session or a federated
    /// user. For a session, `role_arn` is the role's ARN with its path when known (else it is
    /// derived without a path).
    pub fn from_arn(arn: &str, role_arn: Option<&str>) -> Result<Principal, PrincipalError> {
        let err = |why: &str| PrincipalError(format!("`{arn}` is not a principal ARN: {why}"));
        let parsed = Arn::parse(arn).map_err(|e| PrincipalError(e.to_string()))?;
        let account = AccountId::parse(parsed.account()).map_err(|_| err("the account is not 12 digits"))?;
        let resource = parsed.resource();
        let kind = match parsed.service() {
            "iam" if resource == "root" => PrincipalType::Root,
            "iam" if resource.starts_with("user/") => PrincipalType::User,
            "sts" if resource.starts_with("assumed-role/") => {
                let rest = resource.get("assumed-role/".len()..).unwrap_or_default();
                let (role, session) = rest.split_once('/').ok_or_else(|| err("no session name"))?;
                let role_arn = match role_arn {
                    Some(r) => Arn::parse(r).map_err(|e| PrincipalError(e.to_string()))?,
                    None => Arn::parse(&format!("arn:{}:iam::{}:role/{role}", parsed.partition(), account))
                        .map_err(|e| PrincipalError(e.to_string()))?,
                };
                PrincipalType::AssumedRole { role_arn, session_name: session.into() }
            }
            "sts" if resource.starts_with("federated-user/") => PrincipalType::FederatedUser,
            _ => {
                return Err(err("expected a root, user, assumed-role or federated-user ARN"));
            }
        };
        Ok(Principal { kind, arn: Some(parsed), account: Some(account), unique_id: None, tags: Vec::new() })
    }

    /// An AWS service principal such as `s3.amazonaws.com`.
    pub fn service(name: &str) -> Principal {
        Principal {
            kind: PrincipalType::Service(name.into()),
            arn: None,
            account: None,
            unique_id: None,
            tags: Vec::new(),
        }
    }

    /// An unsigned caller.
    pub fn anonymous() -> Principal {
        Principal { kind: PrincipalType::Anonymous, arn: None, account: None, unique_id: None, tags: Vec::new() }
    }

    /// The value of `aws:PrincipalType`, where the caller has one.
    pub fn type_name(&self) -> Option<&'static str> {
        match self.kind {
            PrincipalType::Root => Some("Account"),
            PrincipalType::User => Some("User"),
            PrincipalType::AssumedRole { .. } => Some("AssumedRole"),
            PrincipalType::FederatedUser => Some("FederatedUser"),
            PrincipalType::Anonymous => Some("Anonymous"),
            PrincipalType::Service(_) | PrincipalType::Federated(_) => None,
        }
    }

    /// The value of `aws:PrincipalArn`: for a role session, the role's ARN.
    pub fn principal_arn(&self) -> Option<&Arn> {
        match &self.kind {
            PrincipalType::AssumedRole { role_arn, .. } => Some(role_arn),
            _ => self.arn.as_ref(),
        }
    }

    /// Whether the caller is a temporary session.
    pub fn is_session(&self) -> bool {
        matches!(self.kind, PrincipalType::AssumedRole { .. } | PrincipalType::FederatedUser)
    }

    /// Fills the global keys that follow from the principal into `context`, leaving keys the
    /// caller set alone: `aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:PrincipalType`,
    /// `aws:username`, `aws:userid`, `aws:PrincipalIsAWSService`, `aws:PrincipalTag/KEY`.
    pub fn fill_context(&self, context: &mut Context) {
        context.set_tags("aws:PrincipalTag/", &self.tags);
        if let Some(arn) = self.principal_arn() {
            context.set_default("aws:PrincipalArn", arn.as_str());
        }
        if let Some(account) = &self.account {
            context.set_default("aws:PrincipalAccount", account.as_str());
        }
        if let PrincipalType::Anonymous = self.kind {
            context.set_default("aws:PrincipalAccount", "anonymous");
            context.set_default("aws:userid", "anonymous");
        }
        if let Some(t) = self.type_name() {
            context.set_default("aws:PrincipalType", t);
        }
        match (&self.kind, &self.arn) {
            (PrincipalType::User, Some(arn)) => {
                let name = arn.resource().rsplit('/').next().unwrap_or_default();
                context.set_default("aws:username", name);
                if let Some(id) = &self.unique_id {
                    context.set_default("aws:userid", id);
                }
            }
            (PrincipalType::Root, _) => {
                if let Some(account) = &self.account {
                    context.set_default("aws:userid", account.as_str());
                }
            }
            (PrincipalType::AssumedRole { session_name, .. }, _) => {
                if let Some(id) = &self.unique_id {
                    context.set_default("aws:userid", &format!("{id}:{session_name}"));
                }
            }
            (PrincipalType::FederatedUser, Some(arn)) => {
                if let Some(account) = &self.account {
                    let name = arn.resource().strip_prefix("federated-user/").unwrap_or_default();
                    context.set_default("aws:userid", &format!("{account}:{name}"));
                }
            }
            _ => {}
        }
        let is_service = matches!(self.kind, PrincipalType::Service(_));
        if !matches!(self.kind, PrincipalType::Anonymous) {
            context.set_default("aws:PrincipalIsAWSService", if is_service { "true" } else { "false" });
        }
        if let PrincipalType::Service(name) = &self.kind {
            context.set_default("aws:PrincipalServiceName", name);
        }
    }
}

/// One authorization question.
#[derive(Debug, Clone, Copy)]
pub struct Request<'r> {
    /// The caller.
    pub principal: &'r Principal,
    /// `service:Action`.
    pub action: &'r str,
    /// The resource ARN, or `*` for actions that take none.
    pub resource: &'r str,
    /// The account that owns the resource; `None` means the caller's own account.
    pub resource_account: Option<AccountId>,
    /// The condition keys of the request (with the principal's keys filled in).
    pub context: &'r Context,
}

impl Request<'_> {
    /// Whether the resource belongs to another account than the caller's.
    pub fn is_cross_account(&self) -> bool {
        match (self.resource_account, self.principal.account) {
            (Some(resource), Some(principal)) => resource != principal,
            // Anonymous callers and services belong to no account.
            (Some(_), None) => true,
            (None, _) => false,
        }
    }
}
