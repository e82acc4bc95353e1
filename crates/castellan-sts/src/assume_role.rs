//! `AssumeRole`: who may assume which role, and the credentials of the new session.
//!
//! The decision is one evaluation by `castellan-eval` of `sts:AssumeRole` on the role's ARN,
//! with the caller as principal, the caller's identity policies, boundary, session policies and
//! its account's SCPs on one side and the role's trust policy and its account's RCPs on the
//! other. The evaluator
//! applies AWS's rules for trust policies: the trust policy must always allow; in the same
//! account a grant naming the caller (user or session ARN) suffices, a grant naming the role the
//! calling session belongs to counts with its identity policies, and a grant naming the account
//! only delegates to the caller's identity policies; across accounts both sides must allow.
//! Passing tags also needs `sts:TagSession`, and a session with a source identity (set now or
//! carried along a chain) needs `sts:SetSourceIdentity`, each evaluated the same way.

use std::collections::BTreeMap;
use std::sync::Arc;

use castellan_credentials::{
    AccessKeyId, Clock, MfaFacts, SecretString, UnixTime, access_key::generate_secret_access_key,
};
use castellan_eval::{Context, ContextValue, Layers, NamedPolicy, Outcome, Principal, Request, evaluate};
use castellan_policy::{AccountId, Arn, Policy, PolicyKind};
use castellan_store::{PrincipalPolicies, Snapshot, Store, Tag};
use rand::{CryptoRng, Rng};

use crate::error::{StsError, StsErrorCode};
use crate::guardrails::{GuardPaths, Guardrails};
use crate::mfa::MfaVerifier;
use crate::session::{assumed_role_arn, iso8601, merge_tags, root_principal, user_principal};
use crate::token::{SessionClaims, SessionKind, SessionToken, SessionTokenService, TokenError};
use crate::validate::{self, DurationRule};

/// The stores of the accounts this service knows, by 12-digit account id: implemented by
/// `castellan_store::Directory`, and by a map of stores for tests.
pub trait Accounts {
    /// The store of `account_id`, if the account exists.
    fn store(&self, account_id: &str) -> Option<Arc<dyn Store>>;
    /// The account that owns the long-term access key `access_key_id` (`AKIA...`), if any.
    fn access_key_account(&self, access_key_id: &str) -> Option<String>;
}

impl Accounts for castellan_store::Directory {
    fn store(&self, account_id: &str) -> Option<Arc<dyn Store>> {
        self.account(account_id).ok()
    }

    fn access_key_account(&self, access_key_id: &str) -> Option<String> {
        self.find_access_key(access_key_id).map(|k| k.account_id)
    }
}

impl Accounts for BTreeMap<String, Arc<dyn Store>> {
    fn store(&self, account_id: &str) -> Option<Arc<dyn Store>> {
        self.get(account_id).cloned()
    }

    fn access_key_account(&self, access_key_id: &str) -> Option<String> {
        self.iter().find(|(_, s)| s.access_key(access_key_id).is_ok()).map(|(id, _)| id.clone())
    }
}

/// Who calls `AssumeRole`, as authenticated by the request's signature.
#[derive(Debug, Clone)]
pub enum Caller {
    /// An IAM user signing with a long-term access key.
    User {
        /// The user's account.
        account: String,
        /// The user's name.
        name: String,
    },
    /// The root user signing with a long-term access key.
    Root {
        /// The account.
        account: String,
    },
    /// A temporary session, from its opened token.
    Session(Box<SessionClaims>),
}

/// `AssumeRole`'s parameters.
#[derive(Debug, Clone, Default)]
pub struct AssumeRoleRequest {
    /// `RoleArn`.
    pub role_arn: String,
    /// `RoleSessionName`.
    pub role_session_name: String,
    /// `PolicyArns`.
    pub policy_arns: Vec<String>,
    /// `Policy`.
    pub policy: Option<String>,
    /// `DurationSeconds`.
    pub duration_seconds: Option<i64>,
    /// `Tags`.
    pub tags: Vec<Tag>,
    /// `TransitiveTagKeys`.
    pub transitive_tag_keys: Vec<String>,
    /// `ExternalId`.
    pub external_id: Option<String>,
    /// `SerialNumber`.
    pub serial_number: Option<String>,
    /// `TokenCode`.
    pub token_code: Option<String>,
    /// `SourceIdentity`.
    pub source_identity: Option<String>,
}

/// `Credentials`: a temporary key pair and its session token.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// `AccessKeyId` (`ASIA...`).
    pub access_key_id: AccessKeyId,
    /// `SecretAccessKey`.
    pub secret_access_key: SecretString,
    /// `SessionToken`.
    pub session_token: SessionToken,
    /// `Expiration`.
    pub expiration: UnixTime,
}

impl Credentials {
    /// `Expiration` in ISO 8601, as the response writes it.
    pub fn expiration_iso8601(&self) -> String {
        iso8601(self.expiration)
    }
}

/// `AssumedRoleUser`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumedRoleUser {
    /// `AssumedRoleId`: `AROA...:SESSION`.
    pub assumed_role_id: String,
    /// `Arn`: `arn:aws:sts::ACCT:assumed-role/ROLE/SESSION`.
    pub arn: String,
}

/// `AssumeRoleResult`, with the claims sealed in the token (for auditing and tests).
#[derive(Debug, Clone)]
pub struct AssumeRoleResponse {
    /// `Credentials`.
    pub credentials: Credentials,
    /// `AssumedRoleUser`.
    pub assumed_role_user: AssumedRoleUser,
    /// `PackedPolicySize`: present when session policies or session tags were passed or
    /// inherited.
    pub packed_policy_size: Option<u32>,
    /// `SourceIdentity`, when the session has one.
    pub source_identity: Option<String>,
    /// What the session token says.
    pub claims: SessionClaims,
}

/// The STS service over a set of accounts: the stores, the token keys, the clock, an MFA
/// verifier and the organization's guardrails.
#[derive(Clone, Copy)]
pub struct Sts<'a> {
    /// The accounts' stores.
    pub accounts: &'a dyn Accounts,
    /// The session token keys (they also seal authorization messages, under another context).
    pub tokens: &'a SessionTokenService,
    /// The clock.
    pub clock: &'a dyn Clock,
    /// The MFA verifier (usually [`crate::StoreMfaVerifier`]); without one, any `TokenCode` is
    /// refused.
    pub mfa: Option<&'a dyn MfaVerifier>,
    /// SCPs and RCPs; `None` when no account is in an organization.
    pub guardrails: Option<&'a dyn Guardrails>,
}

/// Resolves `caller` at `now` against its account's current snapshot: the principal with its
/// identity layer and boundary (a user's or a role's; none for the root user), the session
/// policies of a session, and the claims. The user, role or account must still exist (a session of
/// an entity deleted since, even if created again under the same name, is `InvalidClientTokenId`)
/// and a session must not have expired (`ExpiredToken`). A federated user's identity layer is that
/// of the user who called `GetFederationToken`, which its session policies intersect.
pub fn resolve_caller(accounts: &dyn Accounts, caller: &Caller, now: UnixTime) -> Result<Subject, StsError> {
    let snapshot_of = |account: &str| accounts.store(account).map(|s| s.snapshot());
    match caller {
        Caller::Root { account } => {
            accounts.store(account).ok_or_else(invalid_token)?;
            let principal = root_principal("aws", account)?;
            let arn = principal.arn.as_ref().map(|a| a.as_str().to_owned());
            Ok(Subject {
                principal,
                policies: None,
                session: Vec::new(),
                claims: None,
                account: account.clone(),
                mfa_owner: arn,
            })
        }
        Caller::User { account, name } => {
            let snapshot = snapshot_of(account).ok_or_else(invalid_token)?;
            let policies = Arc::clone(snapshot.user(name).ok_or_else(invalid_token)?);
            let principal = user_principal(&policies)?;
            Ok(Subject {
                principal,
                mfa_owner: Some(policies.arn.clone()),
                policies: Some(policies),
                session: Vec::new(),
                claims: None,
                account: account.clone(),
            })
        }
        Caller::Session(claims) => {
            if claims.is_expired(now) {
                return Err(TokenError::Expired { expired_at: claims.expires_at }.to_sts_error());
            }
            let snapshot = snapshot_of(&claims.account).ok_or_else(invalid_token)?;
            let (policies, mfa_owner) = match claims.kind {
                SessionKind::RootSession => (None, Some(claims.principal_arn.clone())),
                SessionKind::FederatedUser => {
                    let origin = claims.chain_origin.as_deref().ok_or_else(invalid_token)?;
                    let p = snapshot.user(entity_name(origin)).ok_or_else(invalid_token)?;
                    if p.arn != origin {
                        return Err(invalid_token());
                    }
                    (Some(Arc::clone(p)), Some(origin.to_owned()))
                }
                SessionKind::UserSession => {
                    let p = snapshot.user(entity_name(&claims.principal_arn)).ok_or_else(invalid_token)?;
                    // A user deleted and created again is another user: its old sessions end.
                    if p.unique_id != claims.principal_id {
                        return Err(invalid_token());
                    }
                    (Some(Arc::clone(p)), Some(claims.principal_arn.clone()))
                }
                SessionKind::AssumedRole => {
                    let role_arn = claims.role_arn.as_deref().unwrap_or_default();
                    let p = snapshot.role(entity_name(role_arn)).ok_or_else(invalid_token)?;
                    if Some(p.unique_id.as_str()) != claims.role_id.as_deref() {
                        return Err(invalid_token());
                    }
                    (Some(Arc::clone(p)), claims.chain_origin.clone())
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
            let tags = policies.as_ref().map(|p| p.tags.as_slice()).unwrap_or_default();
            let principal = claims.principal(tags)?;
            Ok(Subject {
                principal,
                policies,
                session,
                claims: Some((**claims).clone()),
                account: claims.account.clone(),
                mfa_owner,
            })
        }
    }
}

/// A caller resolved for a decision: what it brings, owned so that `Layers` can borrow it.
#[derive(Debug, Clone)]
pub struct Subject {
    /// The principal, as the evaluator sees it.
    pub principal: Principal,
    /// The user's or role's layers (identity and boundary); `None` for the root user.
    pub policies: Option<Arc<PrincipalPolicies>>,
    /// A session's policies (inline, then managed), by name.
    pub session: Vec<(String, Arc<Policy>)>,
    /// A session's claims.
    pub claims: Option<SessionClaims>,
    /// The caller's account.
    pub account: String,
    /// The ARN of the user or root whose MFA devices a `TokenCode` is checked against: the
    /// caller itself, or for a role session the identity its chain started from.
    pub mfa_owner: Option<String>,
}

impl Subject {
    /// The caller's ARN (the session's for a session).
    pub(crate) fn arn(&self) -> String {
        self.principal.arn.as_ref().map(|a| a.as_str().to_owned()).unwrap_or_default()
    }

    /// The caller-side layers (identity, boundary, session) and the guardrails given.
    pub(crate) fn layers<'p>(&'p self, paths: &'p GuardPaths) -> Layers<'p> {
        let named = |p: &'p castellan_store::NamedPolicy| NamedPolicy { id: &p.id, policy: &p.policy };
        Layers {
            identity: self.policies.as_ref().map(|p| p.identity.iter().map(named).collect()).unwrap_or_default(),
            permissions_boundary: self.policies.as_ref().and_then(|p| p.boundary.as_ref()).map(named),
            session: self.session.iter().map(|(id, p)| NamedPolicy { id, policy: p }).collect(),
            scp: paths.scp_levels(),
            rcp: paths.rcp_levels(),
            ..Layers::default()
        }
    }

    /// The guardrails that bear on this caller acting on a resource of `resource_account`
    /// (`None`: a resource without RCPs).
    pub(crate) fn guard_paths(
        &self,
        guardrails: Option<&dyn Guardrails>,
        resource_account: Option<&str>,
    ) -> GuardPaths {
        let principal_arn = self.principal.principal_arn().map(|a| a.as_str().to_owned()).unwrap_or_default();
        GuardPaths::new(guardrails, Some((&self.account, &principal_arn)), resource_account)
    }
}

fn not_authorized(caller: &str, role_arn: &str) -> StsError {
    StsError::access_denied(format!(
        "User: {caller} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
    ))
}

pub(crate) fn invalid_token() -> StsError {
    TokenError::Tampered.to_sts_error()
}

/// The last segment of an entity ARN's resource (`role/a/b/R` → `R`).
fn entity_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or_default()
}

impl Sts<'_> {
    pub(crate) fn snapshot(&self, account: &str) -> Option<Arc<Snapshot>> {
        self.accounts.store(account).map(|s| s.snapshot())
    }

    /// The caller of an STS operation as a [`Subject`]; a federated user's credentials may
    /// call no STS operation but `GetCallerIdentity` (`AccessDenied` for `action` on
    /// `resource`).
    pub(crate) fn caller_side(&self, caller: &Caller, action: &str, resource: &str) -> Result<Subject, StsError> {
        if let Caller::Session(claims) = caller
            && claims.kind == SessionKind::FederatedUser
        {
            if claims.is_expired(self.clock.now()) {
                return Err(TokenError::Expired { expired_at: claims.expires_at }.to_sts_error());
            }
            return Err(StsError::access_denied(format!(
                "User: {} is not authorized to perform: {action} on resource: {resource}",
                claims.principal_arn
            )));
        }
        resolve_caller(self.accounts, caller, self.clock.now())
    }

    /// The role `role_arn` names, from one snapshot of its account: its layers, trust policy and
    /// longest session are read together. A missing role, or one whose ARN differs (another
    /// path), is `AccessDenied` as `denied` says, like a forbidden one.
    pub(crate) fn target_role(
        &self,
        role_arn: &Arn,
        denied: impl Fn() -> StsError,
    ) -> Result<(Arc<Snapshot>, Arc<PrincipalPolicies>, castellan_store::NamedPolicy), StsError> {
        let snapshot = self.snapshot(role_arn.account()).ok_or_else(&denied)?;
        let role = snapshot
            .role(entity_name(role_arn.resource()))
            .filter(|r| r.arn == role_arn.as_str())
            .cloned()
            .ok_or_else(&denied)?;
        let trust = role.trust.clone().ok_or_else(&denied)?;
        Ok((snapshot, role, trust))
    }

    /// Seals a new role session of `role` for `claims`' other fields and builds the response.
    pub(crate) fn issue_role_session<R: Rng + CryptoRng + ?Sized>(
        &self,
        role_arn: &Arn,
        role: &PrincipalPolicies,
        session_name: &str,
        duration: u32,
        fill: impl FnOnce(&mut SessionClaims),
        rng: &mut R,
    ) -> Result<(Credentials, AssumedRoleUser, SessionClaims), StsError> {
        let now = self.clock.now();
        let access_key_id = crate::identity::temporary_access_key_id(role_arn.account(), rng);
        let secret = generate_secret_access_key(rng);
        let session_arn = assumed_role_arn(role_arn, session_name);
        let assumed_role_id = format!("{}:{session_name}", role.unique_id);
        let expiration = UnixTime::from_seconds(now.seconds.saturating_add(i64::from(duration)));
        let mut claims = SessionClaims {
            account: role_arn.account().to_owned(),
            kind: SessionKind::AssumedRole,
            principal_arn: session_arn.clone(),
            principal_id: assumed_role_id.clone(),
            role_arn: Some(role.arn.clone()),
            role_id: Some(role.unique_id.clone()),
            session_name: Some(session_name.to_owned()),
            access_key_id: access_key_id.clone(),
            secret_access_key: secret.clone(),
            issued_at: now,
            expires_at: expiration,
            policy: None,
            policy_arns: Vec::new(),
            tags: Vec::new(),
            transitive_tag_keys: Vec::new(),
            source_identity: None,
            mfa: MfaFacts::absent(),
            chained: false,
            chain_origin: None,
        };
        fill(&mut claims);
        let session_token = self.tokens.issue(&claims, rng)?;
        Ok((
            Credentials { access_key_id, secret_access_key: secret, session_token, expiration },
            AssumedRoleUser { assumed_role_id, arn: session_arn },
            claims,
        ))
    }

    /// Checks that `caller`'s own policies (identity, boundary, session policies, SCPs) allow
    /// `action` on `*` — the STS operations that act on no resource — and returns the caller's
    /// side. `context` holds the request's own keys.
    pub(crate) fn authorize_own(&self, caller: &Caller, action: &str, context: &Context) -> Result<Subject, StsError> {
        let side = self.caller_side(caller, action, "*")?;
        let paths = side.guard_paths(self.guardrails, None);
        let layers = side.layers(&paths);
        let now = self.clock.now();
        let mut ctx = context.clone();
        if let Some(c) = &side.claims {
            c.fill_context(now, &mut ctx);
        }
        side.principal.fill_context(&mut ctx);
        ctx.set_default("aws:CurrentTime", &iso8601(now));
        ctx.set_default("aws:EpochTime", &now.seconds.to_string());
        let req = Request { principal: &side.principal, action, resource: "*", resource_account: None, context: &ctx };
        if evaluate(&req, &layers).outcome != Outcome::Allow {
            return Err(StsError::access_denied(format!(
                "User: {} is not authorized to perform: {action}",
                side.arn()
            )));
        }
        Ok(side)
    }

    /// `AssumeRole` by `caller` at the clock's time. `context` holds the request's own keys
    /// (`aws:SourceIp`, `aws:SecureTransport`, ...); the principal's, the session's and STS's
    /// keys are added here.
    pub fn assume_role<R: Rng + CryptoRng + ?Sized>(
        &self,
        caller: &Caller,
        request: &AssumeRoleRequest,
        context: &Context,
        rng: &mut R,
    ) -> Result<AssumeRoleResponse, StsError> {
        let now = self.clock.now();
        // 1. Shapes, before anything is looked up.
        validate::role_session_name(&request.role_session_name)?;
        let role_arn = validate::role_arn(&request.role_arn)?;
        if let Some(id) = &request.external_id {
            validate::external_id(id)?;
        }
        validate::mfa_parameters(request.serial_number.as_deref(), request.token_code.as_deref())?;
        if let Some(si) = &request.source_identity {
            validate::source_identity(si)?;
        }
        let policies = validate::session_policies(request.policy.as_deref(), &request.policy_arns)?;
        validate::session_tags(&request.tags)?;
        validate::transitive_tag_keys(&request.transitive_tag_keys, &request.tags)?;

        // 2. The caller: the root user may not assume roles, whether or not it exists.
        let root = matches!(caller, Caller::Root { .. })
            || matches!(caller, Caller::Session(c) if c.kind == SessionKind::RootSession);
        if root {
            if let Caller::Root { account } = caller {
                self.accounts.store(account).ok_or_else(invalid_token)?;
            }
            return Err(StsError::access_denied("Roles may not be assumed by root accounts."));
        }
        let side = self.caller_side(caller, "sts:AssumeRole", role_arn.as_str())?;
        let caller_arn = side.arn();
        let parent = side.claims.as_ref();
        let chained = parent.is_some_and(|c| c.kind == SessionKind::AssumedRole);

        // 3. The role, from one snapshot: unknown roles are refused like forbidden ones, so
        // callers learn nothing.
        let role_account = role_arn.account();
        let (role_snapshot, role, trust) =
            self.target_role(&role_arn, || not_authorized(&caller_arn, role_arn.as_str()))?;

        // 4. Rules that depend on the caller and the role.
        let role_max = role.max_session_duration.unwrap_or(validate::DEFAULT_ROLE_DURATION);
        let duration = validate::duration(DurationRule::AssumeRole { role_max, chained }, request.duration_seconds)?;
        let source_identity = validate::source_identity_along_chain(
            parent.and_then(|c| c.source_identity.as_deref()),
            request.source_identity.as_deref(),
        )?;
        let (inherited_tags, inherited_keys) = match parent {
            Some(c) if c.kind == SessionKind::AssumedRole => {
                let keys = c.transitive_tag_keys.clone();
                let tags: Vec<Tag> =
                    c.tags.iter().filter(|t| keys.iter().any(|k| k.eq_ignore_ascii_case(&t.key))).cloned().collect();
                (tags, keys)
            }
            _ => (Vec::new(), Vec::new()),
        };
        validate::inherited_transitive_tags(&request.tags, &inherited_keys)?;
        let session_tags = merge_tags(&inherited_tags, &request.tags);
        let mut transitive_keys = inherited_keys.clone();
        for k in &request.transitive_tag_keys {
            if !transitive_keys.iter().any(|t| t.eq_ignore_ascii_case(k)) {
                transitive_keys.push(k.clone());
            }
        }
        let packed = validate::packed_policy_size(
            request.policy.as_deref(),
            &request.policy_arns,
            &session_tags,
            &transitive_keys,
        )?;
        let packed_policy_size = (!policies.is_empty() || !session_tags.is_empty()).then_some(packed);
        // Managed session policies must exist in the role's account, or be AWS managed.
        check_managed_session_policies(&role_snapshot, &policies.arns)?;

        // 5. MFA: a code in the request, or the calling session's own MFA.
        let mfa = match (&request.serial_number, &request.token_code) {
            (Some(serial), Some(code)) => {
                let owner = side.mfa_owner.as_deref().unwrap_or_default();
                if !self.mfa.is_some_and(|v| v.verify(owner, serial, code, self.clock)) {
                    return Err(mfa_failed());
                }
                MfaFacts::authenticated(now)
            }
            _ => parent.map_or_else(MfaFacts::absent, |c| c.mfa),
        };

        // 6. The request context.
        let mut ctx = context.clone();
        if let Some(c) = parent {
            c.fill_context(now, &mut ctx);
        }
        if mfa.present {
            ctx.set("aws:MultiFactorAuthPresent", "true");
            if let Some(age) = mfa.multi_factor_auth_age(now) {
                ctx.set("aws:MultiFactorAuthAge", &age.to_string());
            }
        }
        side.principal.fill_context(&mut ctx);
        ctx.set_default("aws:CurrentTime", &iso8601(now));
        ctx.set_default("aws:EpochTime", &now.seconds.to_string());
        ctx.set("sts:RoleSessionName", &request.role_session_name);
        if let Some(id) = &request.external_id {
            ctx.set("sts:ExternalId", id);
        }
        if let Some(si) = &source_identity {
            ctx.set("sts:SourceIdentity", si);
        }
        if let Some(d) = request.duration_seconds {
            ctx.set("sts:DurationSeconds", &d.to_string());
        }
        if !request.tags.is_empty() {
            for t in &request.tags {
                ctx.set(&format!("aws:RequestTag/{}", t.key), &t.value);
            }
            ctx.insert("aws:TagKeys", ContextValue::multi(request.tags.iter().map(|t| t.key.as_str())));
        }
        if !request.transitive_tag_keys.is_empty() {
            ctx.insert(
                "sts:TransitiveTagKeys",
                ContextValue::multi(request.transitive_tag_keys.iter().map(String::as_str)),
            );
        }
        // Transitive tags of the calling session override the role's tags of the same key.
        for t in merge_tags(&role.tags, &inherited_tags) {
            ctx.set(&format!("aws:ResourceTag/{}", t.key), &t.value);
        }

        // 7. The decisions: the caller's side with its account's SCPs, the trust policy with
        // the role account's RCPs.
        let paths = side.guard_paths(self.guardrails, Some(role_account));
        let mut layers = side.layers(&paths);
        layers.resource = vec![NamedPolicy { id: &trust.id, policy: &trust.policy }];
        let resource_account = AccountId::parse(role_account).ok();
        let decide = |action: &str| {
            let req = Request {
                principal: &side.principal,
                action,
                resource: role_arn.as_str(),
                resource_account,
                context: &ctx,
            };
            evaluate(&req, &layers)
        };
        let mut actions = vec!["sts:AssumeRole"];
        if !request.tags.is_empty() {
            actions.push("sts:TagSession");
        }
        if source_identity.is_some() {
            actions.push("sts:SetSourceIdentity");
        }
        for action in actions {
            if decide(action).outcome != Outcome::Allow {
                return Err(StsError::access_denied(format!(
                    "User: {caller_arn} is not authorized to perform: {action} on resource: {}",
                    role_arn.as_str()
                )));
            }
        }

        // 8. The session.
        let chain_origin = match parent {
            Some(c) => c.chain_origin.clone().or_else(|| Some(c.principal_arn.clone())),
            None => Some(caller_arn.clone()),
        };
        let (credentials, assumed_role_user, claims) = self.issue_role_session(
            &role_arn,
            &role,
            &request.role_session_name,
            duration,
            |c| {
                c.policy = request.policy.clone();
                c.policy_arns = request.policy_arns.clone();
                c.tags = session_tags;
                c.transitive_tag_keys = transitive_keys;
                c.source_identity = source_identity.clone();
                c.mfa = mfa;
                c.chained = chained;
                c.chain_origin = chain_origin;
            },
            rng,
        )?;
        Ok(AssumeRoleResponse { credentials, assumed_role_user, packed_policy_size, source_identity, claims })
    }
}

/// `AccessDenied` for a `TokenCode` that did not pass.
pub(crate) fn mfa_failed() -> StsError {
    StsError::access_denied("MultiFactorAuthentication failed with invalid MFA one time pass code.")
}

/// Managed session policies must exist in `snapshot`'s account or be AWS managed policies
/// (`MalformedPolicyDocument` otherwise).
pub(crate) fn check_managed_session_policies(snapshot: &Snapshot, arns: &[String]) -> Result<(), StsError> {
    for arn in arns {
        if snapshot.managed_policy(arn).is_none() {
            return Err(StsError::new(
                StsErrorCode::MalformedPolicyDocument,
                format!("Policy {arn} does not exist or is not attachable."),
            ));
        }
    }
    Ok(())
}
