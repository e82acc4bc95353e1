//! STS through the facade: `castellan-sts` wired to the directory of accounts, the session-token
//! keys, the store's MFA devices and the organization's guardrails; every call audited.

use std::sync::Arc;

use castellan_eval::Context;
use castellan_org::{GuardrailLevel, Organizations};
use castellan_sts::{
    AssumeRoleRequest, AssumeRoleResponse, AssumeRoleWithWebIdentityRequest, AssumeRoleWithWebIdentityResponse,
    CallerIdentity, GetFederationTokenRequest, GetSessionTokenRequest, GuardLevel, Guardrails, StoreMfaVerifier, Sts,
    TokenResponse,
};

use crate::audit::AuditKind;
use crate::error::IamError;
use crate::iam::Iam;
use crate::subject::{Caller, sts_caller};

/// The organization's SCPs and RCPs, as STS reads them.
struct OrgGuardrails(Arc<Organizations>);

fn levels(levels: Vec<GuardrailLevel>) -> Vec<GuardLevel> {
    levels
        .into_iter()
        .map(|l| GuardLevel { id: l.id, policies: l.policies.into_iter().map(|p| (p.id, p.policy)).collect() })
        .collect()
}

impl Guardrails for OrgGuardrails {
    fn scp(&self, account: &str, principal_arn: &str) -> Option<Vec<GuardLevel>> {
        let org = self.0.get()?;
        if !org.is_member(account) {
            return None;
        }
        org.scp_chain_for_principal(principal_arn).map(levels)
    }

    fn rcp(&self, account: &str) -> Option<Vec<GuardLevel>> {
        self.0.get()?.rcp_chain(account).map(levels)
    }
}

impl Iam {
    /// Runs `op` with an `Sts` over this `Iam`, and audits it as `action` on `resource`.
    fn with_sts<T>(
        &self,
        caller: Option<&Caller>,
        action: &str,
        resource: &str,
        op: impl FnOnce(&Sts<'_>, &Context) -> Result<T, IamError>,
    ) -> Result<T, IamError> {
        let guardrails = OrgGuardrails(self.directory.organizations());
        let mfa = StoreMfaVerifier { accounts: &self.directory, sealer: Some(&self.sealer) };
        let tokens = self.session_tokens();
        let sts = Sts {
            accounts: &self.directory,
            tokens: &tokens,
            clock: &*self.clock,
            mfa: Some(&mfa),
            guardrails: Some(&guardrails),
        };
        let context = match caller {
            Some(c) => crate::authorize::request_context(c, self.clock.now()),
            None => Context::new(),
        };
        let result = op(&sts, &context);
        let (decision, error) = match &result {
            Ok(_) => ("Allow", None),
            Err(e) if e.code() == "AccessDenied" => ("Deny", Some(e.code().to_owned())),
            Err(e) => ("Allow", Some(e.code().to_owned())),
        };
        self.record_call(AuditKind::Call, caller, action, resource, decision, error)?;
        result
    }

    /// `AssumeRole`.
    pub fn assume_role(&self, caller: &Caller, request: &AssumeRoleRequest) -> Result<AssumeRoleResponse, IamError> {
        self.with_sts(Some(caller), "sts:AssumeRole", &request.role_arn, |sts, ctx| {
            Ok(self.with_rng(|rng| sts.assume_role(&sts_caller(caller), request, ctx, rng))?)
        })
    }

    /// `AssumeRoleWithWebIdentity` (unsigned: the web identity token is the credential).
    pub fn assume_role_with_web_identity(
        &self,
        request: &AssumeRoleWithWebIdentityRequest,
        source_ip: Option<&str>,
    ) -> Result<AssumeRoleWithWebIdentityResponse, IamError> {
        self.with_sts(None, "sts:AssumeRoleWithWebIdentity", &request.role_arn, |sts, ctx| {
            let mut ctx = ctx.clone();
            if let Some(ip) = source_ip {
                ctx.set("aws:SourceIp", ip);
            }
            Ok(self.with_rng(|rng| sts.assume_role_with_web_identity(request, &ctx, rng))?)
        })
    }

    /// `GetSessionToken`.
    pub fn get_session_token(
        &self,
        caller: &Caller,
        request: &GetSessionTokenRequest,
    ) -> Result<TokenResponse, IamError> {
        self.with_sts(Some(caller), "sts:GetSessionToken", "*", |sts, _| {
            Ok(self.with_rng(|rng| sts.get_session_token(&sts_caller(caller), request, rng))?)
        })
    }

    /// `GetFederationToken`.
    pub fn get_federation_token(
        &self,
        caller: &Caller,
        request: &GetFederationTokenRequest,
    ) -> Result<TokenResponse, IamError> {
        let resource = format!("arn:aws:sts::{}:federated-user/{}", caller.account(), request.name);
        self.with_sts(Some(caller), "sts:GetFederationToken", &resource, |sts, ctx| {
            Ok(self.with_rng(|rng| sts.get_federation_token(&sts_caller(caller), request, ctx, rng))?)
        })
    }

    /// `GetCallerIdentity`: needs no permission and cannot be denied.
    pub fn get_caller_identity(&self, caller: &Caller) -> Result<CallerIdentity, IamError> {
        self.with_sts(Some(caller), "sts:GetCallerIdentity", "*", |sts, _| {
            Ok(sts.get_caller_identity(&sts_caller(caller))?)
        })
    }

    /// `GetAccessKeyInfo`: the account that owns a key.
    pub fn get_access_key_info(&self, caller: &Caller, access_key_id: &str) -> Result<String, IamError> {
        self.with_sts(Some(caller), "sts:GetAccessKeyInfo", "*", |sts, ctx| {
            Ok(sts.get_access_key_info(&sts_caller(caller), access_key_id, ctx)?)
        })
    }

    /// `DecodeAuthorizationMessage`.
    pub fn decode_authorization_message(&self, caller: &Caller, encoded: &str) -> Result<String, IamError> {
        self.with_sts(Some(caller), "sts:DecodeAuthorizationMessage", "*", |sts, ctx| {
            Ok(sts.decode_authorization_message(&sts_caller(caller), encoded, ctx)?)
        })
    }
}
