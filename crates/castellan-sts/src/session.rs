//! The session as a principal: the `castellan_eval::Principal` and the condition keys of a
//! temporary session, session ARNs and ids, and `GetCallerIdentity`.

use castellan_credentials::UnixTime;
use castellan_eval::{Context, Principal, PrincipalType};
use castellan_policy::{AccountId, Arn};
use castellan_store::{PrincipalPolicies, Tag};

use crate::error::{StsError, StsErrorCode};
use crate::token::{SessionClaims, SessionKind};

/// `arn:PARTITION:sts::ACCT:assumed-role/ROLE_NAME/SESSION` for a session of `role_arn`: the
/// role's name without its path (a role `/a/b/R` gives `assumed-role/R/SESSION`).
pub fn assumed_role_arn(role_arn: &Arn, session_name: &str) -> String {
    let name = role_arn.resource().rsplit('/').next().unwrap_or_default();
    format!("arn:{}:sts::{}:assumed-role/{name}/{session_name}", role_arn.partition(), role_arn.account())
}

/// `arn:PARTITION:sts::ACCT:federated-user/NAME`.
pub fn federated_user_arn(partition: &str, account: &str, name: &str) -> String {
    format!("arn:{partition}:sts::{account}:federated-user/{name}")
}

/// `arn:PARTITION:iam::ACCT:root`.
pub fn root_arn(partition: &str, account: &str) -> String {
    format!("arn:{partition}:iam::{account}:root")
}

/// `time` in ISO 8601 as AWS writes times (`2026-11-28T16:57:42Z`), for `aws:TokenIssueTime`,
/// `aws:CurrentTime` and `Credentials.Expiration`.
pub fn iso8601(time: UnixTime) -> String {
    let days = time.seconds.div_euclid(86_400);
    let secs = time.seconds.rem_euclid(86_400);
    // Days to civil date (proleptic Gregorian), after Howard Hinnant's `civil_from_days`.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// `base` overridden by `overrides`, keys compared without regard to case: a key in both keeps
/// the override's spelling and value, at the place of the base's tag; new keys follow in order.
pub fn merge_tags(base: &[Tag], overrides: &[Tag]) -> Vec<Tag> {
    let mut out: Vec<Tag> = base.to_vec();
    for t in overrides {
        match out.iter_mut().find(|b| b.key.eq_ignore_ascii_case(&t.key)) {
            Some(slot) => *slot = t.clone(),
            None => out.push(t.clone()),
        }
    }
    out
}

fn eval_tags(tags: &[Tag]) -> Vec<(Box<str>, Box<str>)> {
    tags.iter().map(|t| (t.key.as_str().into(), t.value.as_str().into())).collect()
}

fn internal(why: &str) -> StsError {
    StsError::new(StsErrorCode::ServiceFailure, format!("session principal cannot be built: {why}"))
}

/// An IAM user as a principal, from its snapshot entry (ARN, `AIDA...` id, tags).
pub fn user_principal(user: &PrincipalPolicies) -> Result<Principal, StsError> {
    let mut p = Principal::from_arn(&user.arn, None).map_err(|e| internal(&e.0))?;
    p.unique_id = Some(user.unique_id.as_str().into());
    p.tags = eval_tags(&user.tags);
    Ok(p)
}

/// The root user of `account` as a principal.
pub fn root_principal(partition: &str, account: &str) -> Result<Principal, StsError> {
    Principal::from_arn(&root_arn(partition, account), None).map_err(|e| internal(&e.0))
}

impl SessionClaims {
    /// The session as the evaluator's principal. `base_tags` are the tags of the entity behind
    /// the session as they are now (the role's for a role session, the federating user's for a
    /// federated user, the user's for a `GetSessionToken` session); the session's own tags
    /// override them, keys compared without regard to case.
    ///
    /// For a role session, `unique_id` is the role's id: the evaluator appends `:SESSION` for
    /// `aws:userid`, and [`caller_identity`] does the same for `UserId`.
    pub fn principal(&self, base_tags: &[Tag]) -> Result<Principal, StsError> {
        let role_arn = match self.kind {
            SessionKind::AssumedRole => Some(self.role_arn.as_deref().ok_or_else(|| internal("no role ARN"))?),
            _ => None,
        };
        let mut p = Principal::from_arn(&self.principal_arn, role_arn).map_err(|e| internal(&e.0))?;
        p.unique_id = match self.kind {
            SessionKind::AssumedRole => self.role_id.as_deref().map(Into::into),
            SessionKind::UserSession => Some(self.principal_id.as_str().into()),
            SessionKind::FederatedUser | SessionKind::RootSession => None,
        };
        p.tags = eval_tags(&merge_tags(base_tags, &self.tags));
        Ok(p)
    }

    /// Sets the keys that only temporary credentials carry: `aws:TokenIssueTime`,
    /// `aws:MultiFactorAuthPresent` (always, `true` or `false`), `aws:MultiFactorAuthAge` (when
    /// MFA was used, seconds since then at `now`; left absent otherwise) and `aws:SourceIdentity` (when set). They
    /// replace whatever the context had: the token is their only source.
    pub fn fill_context(&self, now: UnixTime, context: &mut Context) {
        context.set("aws:TokenIssueTime", &iso8601(self.issued_at));
        context.set("aws:MultiFactorAuthPresent", if self.mfa.multi_factor_auth_present() { "true" } else { "false" });
        if let Some(age) = self.mfa.multi_factor_auth_age(now) {
            context.set("aws:MultiFactorAuthAge", &age.to_string());
        }
        if let Some(si) = &self.source_identity {
            context.set("aws:SourceIdentity", si);
        }
    }
}

/// `GetCallerIdentity`'s answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    /// `UserId`: `AIDA...` for a user, `AROA...:SESSION` for a role session, `ACCT:NAME` for a
    /// federated user, the account id for the root user.
    pub user_id: String,
    /// `Account`: the 12-digit account id.
    pub account: String,
    /// `Arn`: the caller's ARN (the session's ARN for a session, `arn:aws:iam::ACCT:root` for
    /// the root user).
    pub arn: String,
}

/// `GetCallerIdentity` for `principal` (it needs no permission and cannot be denied). `None`
/// for callers that have no identity to show (services, providers, anonymous callers) or whose
/// unique id is unknown.
pub fn caller_identity(principal: &Principal) -> Option<CallerIdentity> {
    let account: &AccountId = principal.account.as_ref()?;
    let arn = principal.arn.as_ref()?;
    let user_id = match &principal.kind {
        PrincipalType::Root => account.as_str().to_owned(),
        PrincipalType::User => principal.unique_id.as_deref()?.to_owned(),
        PrincipalType::AssumedRole { session_name, .. } => {
            format!("{}:{session_name}", principal.unique_id.as_deref()?)
        }
        PrincipalType::FederatedUser => {
            format!("{account}:{}", arn.resource().strip_prefix("federated-user/").unwrap_or_default())
        }
        PrincipalType::Service(_) | PrincipalType::Federated(_) | PrincipalType::Anonymous => return None,
    };
    Some(CallerIdentity { user_id, account: account.as_str().to_owned(), arn: arn.as_str().to_owned() })
}

#[cfg(test)]
mod tests;
