//! `AssumeRoleWithWebIdentity`: a role session for the holder of an OpenID Connect ID token.
//!
//! The request is unsigned: the token is the credential. It must be a JWT signed with RS256 by
//! a key of the JSON Web Key Set registered on the IAM OIDC provider of the role's account whose
//! URL is the token's `iss` (without `https://`); its `exp` must be in the future and its `nbf`
//! and `iat`, when present, not in the future, by the injected clock; one of its audiences must
//! be a client id of the provider. The role's trust policy must then allow
//! `sts:AssumeRoleWithWebIdentity` to the provider's ARN as `Federated` principal, with the
//! token's claims as condition keys (`HOST/PATH:sub`, `HOST/PATH:aud`, `HOST/PATH:amr`) and
//! `aws:FederatedProvider` (the provider's ARN); the role account's RCPs apply.
//!
//! Castellan fetches nothing: a provider without registered signing keys accepts no token.

use castellan_eval::{
    Context, ContextValue, Layers, NamedPolicy, Outcome, Principal, PrincipalType, Request, evaluate,
};
use castellan_policy::AccountId;
use rand::{CryptoRng, Rng};
use serde_json::Value;

use crate::assume_role::{AssumedRoleUser, Credentials, Sts, check_managed_session_policies};
use crate::error::{StsError, StsErrorCode};
use crate::guardrails::GuardPaths;
use crate::jwt::{self, JwtError};
use crate::session::iso8601;
use crate::token::SessionClaims;
use crate::validate::{self, DurationRule};

/// The action trust policies grant.
pub const ACTION: &str = "sts:AssumeRoleWithWebIdentity";

/// `WebIdentityToken`'s length limits (the model's).
pub const TOKEN_LEN: std::ops::RangeInclusive<usize> = 4..=20_000;

/// `AssumeRoleWithWebIdentity`'s parameters.
#[derive(Debug, Clone, Default)]
pub struct AssumeRoleWithWebIdentityRequest {
    /// `RoleArn`.
    pub role_arn: String,
    /// `RoleSessionName`.
    pub role_session_name: String,
    /// `WebIdentityToken`: an OpenID Connect ID token (a JWT).
    pub web_identity_token: String,
    /// `ProviderId`: only for OAuth 2.0 providers (`www.amazon.com`, `graph.facebook.com`),
    /// which Castellan does not support; must be absent.
    pub provider_id: Option<String>,
    /// `PolicyArns`.
    pub policy_arns: Vec<String>,
    /// `Policy`.
    pub policy: Option<String>,
    /// `DurationSeconds`.
    pub duration_seconds: Option<i64>,
}

/// `AssumeRoleWithWebIdentityResult`.
#[derive(Debug, Clone)]
pub struct AssumeRoleWithWebIdentityResponse {
    /// `Credentials`.
    pub credentials: Credentials,
    /// `AssumedRoleUser`.
    pub assumed_role_user: AssumedRoleUser,
    /// `PackedPolicySize`, when session policies were passed.
    pub packed_policy_size: Option<u32>,
    /// `SubjectFromWebIdentityToken`: the token's `sub`.
    pub subject_from_web_identity_token: String,
    /// `Provider`: the token's `iss`.
    pub provider: String,
    /// `Audience`: the token's audience that is a client id of the provider.
    pub audience: String,
    /// What the session token says.
    pub claims: SessionClaims,
}

fn invalid(message: impl Into<String>) -> StsError {
    StsError::new(StsErrorCode::InvalidIdentityToken, message)
}

fn jwt_error(e: JwtError) -> StsError {
    match e {
        JwtError::Malformed => invalid("The web identity token is not a valid JSON Web Token"),
        JwtError::Algorithm => invalid("The web identity token must be signed with RS256"),
        JwtError::NoKey => invalid(
            "Couldn't retrieve verification key from your identity provider, please reference \
             AssumeRoleWithWebIdentity documentation for requirements",
        ),
        JwtError::Signature => invalid("The web identity token's signature is not valid"),
    }
}

/// A claim holding a string or an array of strings, as strings.
fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

/// A NumericDate claim, in whole seconds (fractions are cut).
fn seconds(claims: &serde_json::Map<String, Value>, name: &str) -> Result<Option<i64>, StsError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| invalid(format!("The web identity token's `{name}` is not a time"))),
        Some(_) => Err(invalid(format!("The web identity token's `{name}` is not a time"))),
    }
}

impl Sts<'_> {
    /// `AssumeRoleWithWebIdentity` at the clock's time. `context` holds the request's own keys
    /// (`aws:SourceIp`, ...).
    pub fn assume_role_with_web_identity<R: Rng + CryptoRng + ?Sized>(
        &self,
        request: &AssumeRoleWithWebIdentityRequest,
        context: &Context,
        rng: &mut R,
    ) -> Result<AssumeRoleWithWebIdentityResponse, StsError> {
        let now = self.clock.now();
        // 1. Shapes.
        validate::role_session_name(&request.role_session_name)?;
        let role_arn = validate::role_arn(&request.role_arn)?;
        let token = request.web_identity_token.as_str();
        if !TOKEN_LEN.contains(&token.chars().count()) {
            return Err(StsError::constraint("...", "webIdentityToken", "have length between 4 and 20000"));
        }
        if request.provider_id.is_some() {
            return Err(StsError::validation(
                "ProviderId is for OAuth 2.0 providers, which are not supported; omit it for OpenID Connect",
            ));
        }
        let policies = validate::session_policies(request.policy.as_deref(), &request.policy_arns)?;
        let packed = validate::packed_policy_size(request.policy.as_deref(), &request.policy_arns, &[], &[])?;

        // 2. The token: its provider, then its signature, then what it says.
        let jwt = jwt::parse(token).map_err(jwt_error)?;
        let iss = jwt.claims.get("iss").and_then(Value::as_str).ok_or_else(|| invalid("The token has no issuer"))?;
        let url = iss.strip_prefix("https://").unwrap_or(iss).trim_end_matches('/');
        let role_account = role_arn.account();
        let provider_arn = format!("arn:{}:iam::{role_account}:oidc-provider/{url}", role_arn.partition());
        let no_provider = || invalid(format!("No OpenIDConnect provider found in your account for {iss}"));
        let store = self.accounts.store(role_account).ok_or_else(no_provider)?;
        let provider = store.oidc_provider(&provider_arn).map_err(|_| no_provider())?;
        let jwks = provider.signing_keys.as_deref().ok_or_else(|| jwt_error(JwtError::NoKey))?;
        jwt::verify(&jwt, jwks).map_err(jwt_error)?;

        let exp = seconds(&jwt.claims, "exp")?.ok_or_else(|| invalid("The web identity token has no expiry"))?;
        if now.seconds >= exp {
            return Err(StsError::new(
                StsErrorCode::ExpiredTokenException,
                format!(
                    "Token expired: current date/time {} must be before the expiration date/time {}",
                    now.seconds, exp
                ),
            ));
        }
        if seconds(&jwt.claims, "nbf")?.is_some_and(|nbf| now.seconds < nbf) {
            return Err(invalid("The web identity token is not valid yet"));
        }
        if seconds(&jwt.claims, "iat")?.is_some_and(|iat| now.seconds < iat) {
            return Err(invalid("The web identity token was issued in the future"));
        }
        let audience = strings(jwt.claims.get("aud"))
            .into_iter()
            .find(|a| provider.client_ids.iter().any(|c| c == a))
            .ok_or_else(|| invalid("Incorrect token audience"))?;
        let subject = jwt.claims.get("sub").and_then(Value::as_str).unwrap_or_default().to_owned();
        if !(6..=255).contains(&subject.chars().count()) {
            return Err(invalid("The web identity token's subject must be 6 to 255 characters"));
        }

        // 3. The role, from one snapshot.
        let denied = || StsError::access_denied(format!("Not authorized to perform {ACTION}"));
        let (snapshot, role, trust) = self.target_role(&role_arn, denied)?;
        let role_max = role.max_session_duration.unwrap_or(validate::DEFAULT_ROLE_DURATION);
        let duration =
            validate::duration(DurationRule::AssumeRole { role_max, chained: false }, request.duration_seconds)?;
        check_managed_session_policies(&snapshot, &policies.arns)?;

        // 4. The trust policy, with the claims as condition keys.
        let mut ctx = context.clone();
        ctx.set(&format!("{url}:sub"), &subject);
        ctx.set(&format!("{url}:aud"), &audience);
        let amr = strings(jwt.claims.get("amr"));
        if !amr.is_empty() {
            ctx.insert(&format!("{url}:amr"), ContextValue::multi(amr.iter().map(String::as_str)));
        }
        ctx.set("aws:FederatedProvider", &provider_arn);
        ctx.set("sts:RoleSessionName", &request.role_session_name);
        if let Some(d) = request.duration_seconds {
            ctx.set("sts:DurationSeconds", &d.to_string());
        }
        for t in &role.tags {
            ctx.set(&format!("aws:ResourceTag/{}", t.key), &t.value);
        }
        ctx.set_default("aws:CurrentTime", &iso8601(now));
        ctx.set_default("aws:EpochTime", &now.seconds.to_string());
        let principal = Principal {
            kind: PrincipalType::Federated(provider_arn.as_str().into()),
            arn: None,
            account: None,
            unique_id: None,
            tags: Vec::new(),
        };
        let paths = GuardPaths::new(self.guardrails, None, Some(role_account));
        let layers = Layers {
            resource: vec![NamedPolicy { id: &trust.id, policy: &trust.policy }],
            rcp: paths.rcp_levels(),
            ..Layers::default()
        };
        let req = Request {
            principal: &principal,
            action: ACTION,
            resource: role_arn.as_str(),
            resource_account: AccountId::parse(role_account).ok(),
            context: &ctx,
        };
        if evaluate(&req, &layers).outcome != Outcome::Allow {
            return Err(denied());
        }

        // 5. The session.
        let (credentials, assumed_role_user, claims) = self.issue_role_session(
            &role_arn,
            &role,
            &request.role_session_name,
            duration,
            |c| {
                c.policy = request.policy.clone();
                c.policy_arns = request.policy_arns.clone();
            },
            rng,
        )?;
        Ok(AssumeRoleWithWebIdentityResponse {
            credentials,
            assumed_role_user,
            packed_policy_size: (!policies.is_empty()).then_some(packed),
            subject_from_web_identity_token: subject,
            provider: iss.to_owned(),
            audience,
            claims,
        })
    }
}
