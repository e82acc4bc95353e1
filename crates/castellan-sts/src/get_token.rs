//! `GetSessionToken` and `GetFederationToken`: sessions of an IAM user or the root user, made
//! from long-term credentials.
//!
//! `GetSessionToken` needs no permission and carries the caller's own identity (with MFA facts
//! when a code was given). `GetFederationToken` needs an identity-policy allow of
//! `sts:GetFederationToken` on the federated user's ARN (and `sts:TagSession` to pass tags); the
//! root user needs none. Neither may be called with session credentials.

use castellan_credentials::{MfaFacts, UnixTime, access_key::generate_secret_access_key};
use castellan_eval::{Context, ContextValue, Layers, NamedPolicy, Outcome, Principal, Request, evaluate};
use castellan_store::Tag;
use rand::{CryptoRng, Rng};

use crate::assume_role::{Caller, Credentials, Sts, check_managed_session_policies, invalid_token, mfa_failed};
use crate::error::StsError;
use crate::guardrails::GuardPaths;
use crate::session::{federated_user_arn, iso8601, root_arn, root_principal, user_principal};
use crate::token::{SessionClaims, SessionKind};
use crate::validate::{self, DurationRule};

/// `GetSessionToken`'s parameters.
#[derive(Debug, Clone, Default)]
pub struct GetSessionTokenRequest {
    /// `DurationSeconds`.
    pub duration_seconds: Option<i64>,
    /// `SerialNumber`.
    pub serial_number: Option<String>,
    /// `TokenCode`.
    pub token_code: Option<String>,
}

/// `GetFederationToken`'s parameters.
#[derive(Debug, Clone, Default)]
pub struct GetFederationTokenRequest {
    /// `Name`.
    pub name: String,
    /// `Policy`.
    pub policy: Option<String>,
    /// `PolicyArns`.
    pub policy_arns: Vec<String>,
    /// `DurationSeconds`.
    pub duration_seconds: Option<i64>,
    /// `Tags` (never transitive).
    pub tags: Vec<Tag>,
}

/// `FederatedUser`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederatedUser {
    /// `FederatedUserId`: `ACCT:NAME`.
    pub federated_user_id: String,
    /// `Arn`: `arn:aws:sts::ACCT:federated-user/NAME`.
    pub arn: String,
}

/// A `GetSessionToken` or `GetFederationToken` result.
#[derive(Debug, Clone)]
pub struct TokenResponse {
    /// `Credentials`.
    pub credentials: Credentials,
    /// `FederatedUser` (for `GetFederationToken`).
    pub federated_user: Option<FederatedUser>,
    /// `PackedPolicySize` (for `GetFederationToken` with policies or tags).
    pub packed_policy_size: Option<u32>,
    /// What the session token says.
    pub claims: SessionClaims,
}

/// The long-term caller: its principal, and its policies when it is a user.
struct LongTerm {
    principal: Principal,
    arn: String,
    id: String,
    account: String,
    policies: Option<std::sync::Arc<castellan_store::PrincipalPolicies>>,
}

impl Sts<'_> {
    fn long_term(&self, caller: &Caller, operation: &str) -> Result<LongTerm, StsError> {
        match caller {
            Caller::Session(_) => {
                Err(StsError::access_denied(format!("Cannot call {operation} with session credentials")))
            }
            Caller::Root { account } => Ok(LongTerm {
                // The account must exist: a root key of a closed account authenticates nothing.
                principal: {
                    self.accounts.store(account).ok_or_else(invalid_token)?;
                    root_principal("aws", account)?
                },
                arn: root_arn("aws", account),
                id: account.clone(),
                account: account.clone(),
                policies: None,
            }),
            Caller::User { account, name } => {
                let store = self.accounts.store(account).ok_or_else(invalid_token)?;
                let snapshot = store.snapshot();
                let policies = std::sync::Arc::clone(snapshot.user(name).ok_or_else(invalid_token)?);
                Ok(LongTerm {
                    principal: user_principal(&policies)?,
                    arn: policies.arn.clone(),
                    id: policies.unique_id.clone(),
                    account: account.clone(),
                    policies: Some(policies),
                })
            }
        }
    }

    fn mfa_facts(
        &self,
        caller_arn: &str,
        serial: Option<&str>,
        code: Option<&str>,
        now: UnixTime,
    ) -> Result<MfaFacts, StsError> {
        validate::mfa_parameters(serial, code)?;
        match (serial, code) {
            (Some(serial), Some(code)) => {
                if self.mfa.is_some_and(|v| v.verify(caller_arn, serial, code, self.clock)) {
                    Ok(MfaFacts::authenticated(now))
                } else {
                    Err(mfa_failed())
                }
            }
            _ => Ok(MfaFacts::absent()),
        }
    }

    #[expect(clippy::too_many_arguments, reason = "one private constructor of the claims both operations share")]
    fn issue_session<R: Rng + CryptoRng + ?Sized>(
        &self,
        caller: &LongTerm,
        kind: SessionKind,
        principal: (String, String, Option<String>),
        duration: u32,
        policies: (Option<String>, Vec<String>),
        tags: Vec<Tag>,
        mfa: MfaFacts,
        rng: &mut R,
    ) -> Result<(Credentials, SessionClaims), StsError> {
        let now = self.clock.now();
        let access_key_id = crate::identity::temporary_access_key_id(&caller.account, rng);
        let secret = generate_secret_access_key(rng);
        let expiration = UnixTime::from_seconds(now.seconds.saturating_add(i64::from(duration)));
        let (principal_arn, principal_id, session_name) = principal;
        let claims = SessionClaims {
            account: caller.account.clone(),
            kind,
            principal_arn,
            principal_id,
            role_arn: None,
            role_id: None,
            session_name,
            access_key_id: access_key_id.clone(),
            secret_access_key: secret.clone(),
            issued_at: now,
            expires_at: expiration,
            policy: policies.0,
            policy_arns: policies.1,
            tags,
            transitive_tag_keys: Vec::new(),
            source_identity: None,
            mfa,
            chained: false,
            chain_origin: Some(caller.arn.clone()),
        };
        let session_token = self.tokens.issue(&claims, rng)?;
        Ok((Credentials { access_key_id, secret_access_key: secret, session_token, expiration }, claims))
    }

    /// `GetSessionToken` by a user or the root user (session credentials are refused).
    pub fn get_session_token<R: Rng + CryptoRng + ?Sized>(
        &self,
        caller: &Caller,
        request: &GetSessionTokenRequest,
        rng: &mut R,
    ) -> Result<TokenResponse, StsError> {
        let now = self.clock.now();
        let lt = self.long_term(caller, "GetSessionToken")?;
        let root = matches!(caller, Caller::Root { .. });
        let duration = validate::duration(DurationRule::UserSession { root }, request.duration_seconds)?;
        let mfa = self.mfa_facts(&lt.arn, request.serial_number.as_deref(), request.token_code.as_deref(), now)?;
        let kind = if root { SessionKind::RootSession } else { SessionKind::UserSession };
        let principal = (lt.arn.clone(), lt.id.clone(), None);
        let (credentials, claims) =
            self.issue_session(&lt, kind, principal, duration, (None, Vec::new()), Vec::new(), mfa, rng)?;
        Ok(TokenResponse { credentials, federated_user: None, packed_policy_size: None, claims })
    }

    /// `GetFederationToken` by a user (with `sts:GetFederationToken` allowed) or the root user.
    /// `context` holds the request's own keys.
    pub fn get_federation_token<R: Rng + CryptoRng + ?Sized>(
        &self,
        caller: &Caller,
        request: &GetFederationTokenRequest,
        context: &Context,
        rng: &mut R,
    ) -> Result<TokenResponse, StsError> {
        let now = self.clock.now();
        validate::federated_user_name(&request.name)?;
        let policies = validate::session_policies(request.policy.as_deref(), &request.policy_arns)?;
        validate::session_tags(&request.tags)?;
        let lt = self.long_term(caller, "GetFederationToken")?;
        let root = matches!(caller, Caller::Root { .. });
        let duration = validate::duration(DurationRule::UserSession { root }, request.duration_seconds)?;
        let packed = validate::packed_policy_size(request.policy.as_deref(), &request.policy_arns, &request.tags, &[])?;
        let snapshot = self.accounts.store(&lt.account).ok_or_else(invalid_token)?.snapshot();
        check_managed_session_policies(&snapshot, &policies.arns)?;
        let arn = federated_user_arn("aws", &lt.account, &request.name);
        // The account's SCPs apply to users and to a member account's root user alike.
        let paths = GuardPaths::new(self.guardrails, Some((&lt.account, &lt.arn)), None);
        if lt.policies.is_none() && paths.scp.is_some() {
            let layers = Layers { scp: paths.scp_levels(), ..Layers::default() };
            let mut ctx = context.clone();
            lt.principal.fill_context(&mut ctx);
            let req = Request {
                principal: &lt.principal,
                action: "sts:GetFederationToken",
                resource: &arn,
                resource_account: None,
                context: &ctx,
            };
            if evaluate(&req, &layers).outcome != Outcome::Allow {
                return Err(StsError::access_denied(format!(
                    "User: {} is not authorized to perform: sts:GetFederationToken on resource: {arn}",
                    lt.arn
                )));
            }
        }
        if let Some(user) = &lt.policies {
            let mut ctx = context.clone();
            lt.principal.fill_context(&mut ctx);
            ctx.set_default("aws:CurrentTime", &iso8601(now));
            ctx.set_default("aws:EpochTime", &now.seconds.to_string());
            if !request.tags.is_empty() {
                for t in &request.tags {
                    ctx.set(&format!("aws:RequestTag/{}", t.key), &t.value);
                }
                ctx.insert("aws:TagKeys", ContextValue::multi(request.tags.iter().map(|t| t.key.as_str())));
            }
            let layers = Layers {
                identity: user.identity.iter().map(|p| NamedPolicy { id: &p.id, policy: &p.policy }).collect(),
                permissions_boundary: user.boundary.as_ref().map(|p| NamedPolicy { id: &p.id, policy: &p.policy }),
                scp: paths.scp_levels(),
                ..Layers::default()
            };
            let mut actions = vec!["sts:GetFederationToken"];
            if !request.tags.is_empty() {
                actions.push("sts:TagSession");
            }
            for action in actions {
                let req =
                    Request { principal: &lt.principal, action, resource: &arn, resource_account: None, context: &ctx };
                if evaluate(&req, &layers).outcome != Outcome::Allow {
                    return Err(StsError::access_denied(format!(
                        "User: {} is not authorized to perform: {action} on resource: {arn}",
                        lt.arn
                    )));
                }
            }
        }
        let federated_user_id = format!("{}:{}", lt.account, request.name);
        let principal = (arn.clone(), federated_user_id.clone(), Some(request.name.clone()));
        let policy_pair = (request.policy.clone(), request.policy_arns.clone());
        let (credentials, claims) = self.issue_session(
            &lt,
            SessionKind::FederatedUser,
            principal,
            duration,
            policy_pair,
            request.tags.clone(),
            MfaFacts::absent(),
            rng,
        )?;
        let packed_policy_size = (!policies.is_empty() || !request.tags.is_empty()).then_some(packed);
        Ok(TokenResponse {
            credentials,
            federated_user: Some(FederatedUser { federated_user_id, arn }),
            packed_policy_size,
            claims,
        })
    }
}
