//! Request validation for the STS operations, with AWS's error codes and messages: names,
//! durations, external ids, MFA parameters, source identity, session policies, session tags and
//! transitive tag keys, and the packed size of policies and tags.
//!
//! Shape constraints come from the STS API model (`sts/2011-06-15/service-2.json`) and answer
//! `ValidationError` with AWS's `1 validation error detected: ...` text; rules beyond the shapes
//! answer with the code AWS documents for them.

use castellan_policy::{Arn, Policy, PolicyKind, iam_size};
use castellan_store::Tag;

use crate::error::{StsError, StsErrorCode};

/// The shortest session of every operation, in seconds.
pub const MIN_DURATION: u32 = 900;
/// `AssumeRole`'s default session, in seconds.
pub const DEFAULT_ROLE_DURATION: u32 = 3_600;
/// The longest `DurationSeconds` `AssumeRole`'s shape accepts (the largest role maximum).
pub const MAX_ROLE_DURATION: u32 = 43_200;
/// The longest session of a role assumed by a role session (role chaining), in seconds.
pub const ROLE_CHAINING_MAX_DURATION: u32 = 3_600;
/// The longest `GetSessionToken` / `GetFederationToken` session of an IAM user, in seconds.
pub const MAX_USER_SESSION_DURATION: u32 = 129_600;
/// The default `GetSessionToken` / `GetFederationToken` session of an IAM user, in seconds.
pub const DEFAULT_USER_SESSION_DURATION: u32 = 43_200;
/// The longest (and default) `GetSessionToken` / `GetFederationToken` session of the root user.
pub const ROOT_SESSION_DURATION: u32 = 3_600;
/// The most characters of an inline session policy.
pub const MAX_SESSION_POLICY_LEN: usize = 2_048;
/// The most managed session policy ARNs.
pub const MAX_POLICY_ARNS: usize = 10;
/// The most session tags and the most transitive tag keys.
pub const MAX_SESSION_TAGS: usize = 50;
/// The limit of the packing measure ([`packed_policy_size`]), in bytes.
pub const PACKED_LIMIT: usize = 4_096;

/// `[\w+=,.@-]`: the characters of role session names, federated user names and source
/// identities (`\w` is ASCII letters, digits and `_`, as in AWS's Java patterns).
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)
}

/// Checks `value` against a length range and a character class, with AWS's messages.
fn check_shape(
    value: &str,
    field: &str,
    min: usize,
    max: usize,
    pattern: &str,
    ok: impl Fn(char) -> bool,
) -> Result<(), StsError> {
    let len = value.chars().count();
    if len < min {
        return Err(StsError::constraint(value, field, &format!("have length greater than or equal to {min}")));
    }
    if len > max {
        return Err(StsError::constraint(value, field, &format!("have length less than or equal to {max}")));
    }
    if !value.chars().all(ok) {
        return Err(StsError::constraint(value, field, &format!("satisfy regular expression pattern: {pattern}")));
    }
    Ok(())
}

/// `RoleSessionName`: 2–64 characters of `[\w+=,.@-]`.
pub fn role_session_name(name: &str) -> Result<(), StsError> {
    check_shape(name, "roleSessionName", 2, 64, r"[\w+=,.@-]*", is_name_char)
}

/// `GetFederationToken`'s `Name`: 2–32 characters of `[\w+=,.@-]`.
pub fn federated_user_name(name: &str) -> Result<(), StsError> {
    check_shape(name, "name", 2, 32, r"[\w+=,.@-]*", is_name_char)
}

/// `ExternalId`: 2–1,224 characters of `[\w+=,.@:/-]`.
pub fn external_id(id: &str) -> Result<(), StsError> {
    check_shape(id, "externalId", 2, 1_224, r"[\w+=,.@:\/-]*", |c| is_name_char(c) || c == ':' || c == '/')
}

/// `SerialNumber`: 9–256 characters of `[\w+=/:,.@-]` (a virtual device's ARN or a hardware
/// device's serial).
pub fn serial_number(serial: &str) -> Result<(), StsError> {
    check_shape(serial, "serialNumber", 9, 256, r"[\w+=/:,.@-]*", |c| is_name_char(c) || c == ':' || c == '/')
}

/// `TokenCode`: exactly six digits.
pub fn token_code(code: &str) -> Result<(), StsError> {
    check_shape(code, "tokenCode", 6, 6, r"[\d]*", |c| c.is_ascii_digit())
}

/// `SerialNumber` and `TokenCode` together: each shaped, and neither without the other.
pub fn mfa_parameters(serial: Option<&str>, code: Option<&str>) -> Result<(), StsError> {
    if let Some(s) = serial {
        serial_number(s)?;
    }
    if let Some(c) = code {
        token_code(c)?;
    }
    match (serial, code) {
        (Some(_), None) => Err(StsError::access_denied("MultiFactorAuthentication failed, must provide MFA code.")),
        (None, Some(_)) => Err(StsError::validation("SerialNumber is required when TokenCode is provided.")),
        _ => Ok(()),
    }
}

/// `SourceIdentity`: 2–64 characters of `[\w+=,.@-]`, not beginning with `aws:` (the model's
/// shape says 256; AWS's guide and the service say 64).
pub fn source_identity(value: &str) -> Result<(), StsError> {
    check_shape(value, "sourceIdentity", 2, 64, r"[\w+=,.@-]*", is_name_char)?;
    if value.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:")) {
        return Err(StsError::validation("SourceIdentity cannot start with the reserved prefix 'aws:'"));
    }
    Ok(())
}

/// The source identity of a new session made by a caller whose session has `inherited` (if
/// any): once set it persists along a role chain and cannot change. Passing the same value
/// again is accepted; another value is `AccessDenied`.
pub fn source_identity_along_chain(
    inherited: Option<&str>,
    requested: Option<&str>,
) -> Result<Option<String>, StsError> {
    if let Some(r) = requested {
        source_identity(r)?;
    }
    match (inherited, requested) {
        (Some(i), Some(r)) if i != r => Err(StsError::access_denied(format!(
            "the source identity `{i}` of the calling session cannot be changed to `{r}`"
        ))),
        (Some(i), _) => Ok(Some(i.to_owned())),
        (None, r) => Ok(r.map(str::to_owned)),
    }
}

/// `RoleArn`: 20–2,048 characters, an ARN of an IAM role.
pub fn role_arn(text: &str) -> Result<Arn, StsError> {
    let len = text.chars().count();
    if len < 20 {
        return Err(StsError::constraint(text, "roleArn", "have length greater than or equal to 20"));
    }
    if len > 2_048 {
        return Err(StsError::constraint(text, "roleArn", "have length less than or equal to 2048"));
    }
    let arn = Arn::parse(text).map_err(|_| StsError::validation(format!("{text} is invalid")))?;
    if arn.service() != "iam" || !arn.resource().starts_with("role/") || arn.account().len() != 12 {
        return Err(StsError::validation(format!("{text} is invalid")));
    }
    Ok(arn)
}

/// Which operation's `DurationSeconds` rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DurationRule {
    /// `AssumeRole`: 900 up to the role's `MaxSessionDuration`, default 3,600; a chained
    /// session at most 3,600 (a longer request fails).
    AssumeRole {
        /// The role's `MaxSessionDuration`.
        role_max: u32,
        /// Whether the caller is a role session (role chaining).
        chained: bool,
    },
    /// `GetSessionToken` and `GetFederationToken`: 900–129,600, default 43,200; for the root
    /// user a longer request is cut to 3,600 (AWS documents "defaults to one hour").
    UserSession {
        /// Whether the caller is the root user.
        root: bool,
    },
}

/// The session length in seconds for `requested` under `rule`.
pub fn duration(rule: DurationRule, requested: Option<i64>) -> Result<u32, StsError> {
    let max_shape = match rule {
        DurationRule::AssumeRole { .. } => MAX_ROLE_DURATION,
        DurationRule::UserSession { .. } => MAX_USER_SESSION_DURATION,
    };
    let requested = match requested {
        None => None,
        Some(r) if r < i64::from(MIN_DURATION) => {
            return Err(StsError::constraint(
                &r.to_string(),
                "durationSeconds",
                &format!("have value greater than or equal to {MIN_DURATION}"),
            ));
        }
        Some(r) if r > i64::from(max_shape) => {
            return Err(StsError::constraint(
                &r.to_string(),
                "durationSeconds",
                &format!("have value less than or equal to {max_shape}"),
            ));
        }
        Some(r) => Some(u32::try_from(r).unwrap_or(max_shape)),
    };
    match rule {
        DurationRule::AssumeRole { role_max, chained } => {
            let d = requested.unwrap_or(DEFAULT_ROLE_DURATION);
            if chained && d > ROLE_CHAINING_MAX_DURATION {
                return Err(StsError::validation(
                    "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
                ));
            }
            if d > role_max {
                return Err(StsError::validation(
                    "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
                ));
            }
            Ok(d)
        }
        DurationRule::UserSession { root: true } => {
            Ok(requested.unwrap_or(ROOT_SESSION_DURATION).min(ROOT_SESSION_DURATION))
        }
        DurationRule::UserSession { root: false } => Ok(requested.unwrap_or(DEFAULT_USER_SESSION_DURATION)),
    }
}

/// Session policies that passed validation: the inline policy parsed as a session policy, and
/// the managed policies' ARNs (resolved against the role's account by the caller).
#[derive(Debug, Clone, PartialEq)]
pub struct SessionPolicies {
    /// The inline policy's text and parsed form.
    pub inline: Option<(String, Policy)>,
    /// The managed policies' ARNs, in the order given.
    pub arns: Vec<String>,
}

impl SessionPolicies {
    /// Whether any session policy was passed.
    pub fn is_empty(&self) -> bool {
        self.inline.is_none() && self.arns.is_empty()
    }
}

fn is_policy_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}')
}

/// `Policy` and `PolicyArns`: the inline policy 1–2,048 characters of TAB, LF, CR and
/// U+0020–U+00FF, a valid session policy (else `MalformedPolicyDocument` with the parser's
/// first error); at most 10 ARNs, each an IAM policy ARN.
pub fn session_policies(policy: Option<&str>, arns: &[String]) -> Result<SessionPolicies, StsError> {
    let inline = match policy {
        None => None,
        Some(text) => {
            check_shape(
                text,
                "policy",
                1,
                MAX_SESSION_POLICY_LEN,
                r"[\u0009\u000A\u000D\u0020-\u00FF]+",
                is_policy_char,
            )?;
            let parsed = Policy::parse(text, PolicyKind::Session).map_err(|e| {
                let message = e.first().map_or_else(|| "Syntax errors in policy.".to_owned(), |d| d.message.clone());
                StsError::new(StsErrorCode::MalformedPolicyDocument, message)
            })?;
            Some((text.to_owned(), parsed))
        }
    };
    if arns.len() > MAX_POLICY_ARNS {
        return Err(StsError::constraint(
            &format!("[{}]", arns.join(", ")),
            "policyArns",
            &format!("have length less than or equal to {MAX_POLICY_ARNS}"),
        ));
    }
    for arn in arns {
        let len = arn.chars().count();
        if !(20..=2_048).contains(&len) {
            return Err(StsError::constraint(arn, "policyArns.member.arn", "have length between 20 and 2048"));
        }
        let ok = Arn::parse(arn).is_ok_and(|a| a.service() == "iam" && a.resource().starts_with("policy/"));
        if !ok {
            return Err(StsError::validation(format!("{arn} is invalid")));
        }
    }
    Ok(SessionPolicies { inline, arns: arns.to_vec() })
}

/// `[\p{L}\p{Z}\p{N}_.:/=+\-@]`: the characters of tag keys and values.
fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || (c.is_whitespace() && !c.is_control()) || "_.:/=+-@".contains(c)
}

/// `Tags`: at most 50; keys 1–128 and values 0–256 characters of IAM's tag character set;
/// keys not beginning with `aws:`; no key twice (compared without regard to case).
pub fn session_tags(tags: &[Tag]) -> Result<(), StsError> {
    if tags.len() > MAX_SESSION_TAGS {
        return Err(StsError::constraint(
            &format!("{} tags", tags.len()),
            "tags",
            &format!("have length less than or equal to {MAX_SESSION_TAGS}"),
        ));
    }
    let pattern = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*";
    for (i, t) in tags.iter().enumerate() {
        let n = i + 1;
        check_shape(&t.key, &format!("tags.{n}.member.key"), 1, 128, &format!("{pattern}+"), is_tag_char)?;
        check_shape(&t.value, &format!("tags.{n}.member.value"), 0, 256, pattern, is_tag_char)?;
        if t.key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:")) {
            return Err(StsError::validation("Tag keys cannot start with the reserved prefix 'aws:'"));
        }
        if tags.iter().take(i).any(|o| o.key.eq_ignore_ascii_case(&t.key)) {
            return Err(StsError::validation(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
            ));
        }
    }
    Ok(())
}

/// `TransitiveTagKeys`: at most 50, each the key of a tag passed in the same request
/// (compared without regard to case).
pub fn transitive_tag_keys(keys: &[String], tags: &[Tag]) -> Result<(), StsError> {
    if keys.len() > MAX_SESSION_TAGS {
        return Err(StsError::constraint(
            &format!("{} keys", keys.len()),
            "transitiveTagKeys",
            &format!("have length less than or equal to {MAX_SESSION_TAGS}"),
        ));
    }
    for k in keys {
        if !tags.iter().any(|t| t.key.eq_ignore_ascii_case(k)) {
            return Err(StsError::validation(format!(
                "The transitive tag key {k} must be one of the session tags passed in the request."
            )));
        }
    }
    Ok(())
}

/// Tags passed in a role-chaining request must not reuse a key that the calling session passes
/// on as transitive (compared without regard to case).
pub fn inherited_transitive_tags(passed: &[Tag], inherited_keys: &[String]) -> Result<(), StsError> {
    match passed.iter().find(|t| inherited_keys.iter().any(|k| k.eq_ignore_ascii_case(&t.key))) {
        Some(t) => Err(StsError::validation(format!(
            "The session tag key {} cannot be passed: the calling session already carries it as a transitive tag.",
            t.key
        ))),
        None => Ok(()),
    }
}

/// The packing measure of a session's policies and tags, in bytes: the inline policy's
/// characters other than whitespace (as IAM sizes policies), plus each managed policy ARN's
/// length, plus each session tag's key and value lengths (passed and inherited), plus each
/// transitive tag key's length. [`PACKED_LIMIT`] bytes is 100 %.
pub fn packed_bytes(policy: Option<&str>, arns: &[String], tags: &[Tag], transitive_keys: &[String]) -> usize {
    policy.map_or(0, iam_size)
        + arns.iter().map(String::len).sum::<usize>()
        + tags.iter().map(|t| t.key.len() + t.value.len()).sum::<usize>()
        + transitive_keys.iter().map(String::len).sum::<usize>()
}

/// `PackedPolicySize`: the packing measure as a percentage of [`PACKED_LIMIT`], rounded up;
/// above 100 the request fails with `PackedPolicyTooLarge`.
pub fn packed_policy_size(
    policy: Option<&str>,
    arns: &[String],
    tags: &[Tag],
    transitive_keys: &[String],
) -> Result<u32, StsError> {
    let bytes = packed_bytes(policy, arns, tags, transitive_keys);
    let percent = (bytes * 100).div_ceil(PACKED_LIMIT);
    if percent > 100 {
        return Err(StsError::new(
            StsErrorCode::PackedPolicyTooLarge,
            format!(
                "Packed size of consolidated session policies and session tags exceeds 100% of allowed value ({percent}%)."
            ),
        ));
    }
    Ok(u32::try_from(percent).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests;
