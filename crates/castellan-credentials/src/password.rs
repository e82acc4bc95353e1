//! Passwords: hashing with PBKDF2-HMAC-SHA256, the account password policy
//! (`UpdateAccountPasswordPolicy`), checks of a new password against it, and password expiry.
//!
//! A stored hash names its own parameters (`pbkdf2-sha256$ITERATIONS$SALT$HASH`, salt and hash in
//! unpadded standard base64), so the iteration count can be raised later: [`verify_password`]
//! reports a hash made with fewer iterations than the caller's current count, and the caller
//! re-hashes the password it has just seen at that successful login.

use std::fmt;

use pbkdf2::pbkdf2_hmac;
use rand::{CryptoRng, Rng};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::encoding::{base64_decode, base64_encode};
use crate::{Clock, CredentialError, ErrorCode, SecretString, UnixTime};

/// The iteration count new hashes use unless the caller says otherwise (OWASP's 2023 figure for
/// PBKDF2-HMAC-SHA256).
pub const DEFAULT_ITERATIONS: u32 = 600_000;

/// Bytes of random salt in each hash.
pub const SALT_LEN: usize = 16;

/// Bytes of derived key stored (the output size of SHA-256).
pub const HASH_LEN: usize = 32;

/// The scheme tag that starts every stored hash.
const SCHEME: &str = "pbkdf2-sha256";

/// A stored hash claiming more iterations than this is treated as corrupt rather than run, so a
/// damaged record cannot stall a login for hours.
const MAX_ITERATIONS: u32 = 100_000_000;

/// The symbols AWS counts for `RequireSymbols` and for the default policy.
pub const SYMBOLS: &str = "!@#$%^&*()_+-=[]{}|'";

/// The longest password IAM accepts, in characters.
pub const MAX_PASSWORD_LENGTH: usize = 128;

/// A password hash with its parameters. `Display` gives the stored form, [`PasswordHash::parse`]
/// reads it back; `Debug` shows the iteration count only.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash {
    iterations: u32,
    salt: [u8; SALT_LEN],
    hash: [u8; HASH_LEN],
}

impl PasswordHash {
    /// Reads a stored hash. A malformed one is the store's fault: `ServiceFailure`.
    pub fn parse(text: &str) -> Result<PasswordHash, CredentialError> {
        let corrupt = || CredentialError::service_failure("stored password hash is malformed");
        let mut parts = text.split('$');
        let (Some(scheme), Some(iterations), Some(salt), Some(hash), None) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(corrupt());
        };
        if scheme != SCHEME {
            return Err(corrupt());
        }
        // Digits only, no leading zero: `u32::from_str` would also take `+600000` or `0600000`,
        // and every hash should have one text form.
        if !iterations.bytes().all(|b| b.is_ascii_digit()) || iterations.starts_with('0') {
            return Err(corrupt());
        }
        let iterations: u32 = iterations.parse().map_err(|_| corrupt())?;
        if iterations > MAX_ITERATIONS {
            return Err(corrupt());
        }
        let salt = base64_decode(salt).and_then(|s| <[u8; SALT_LEN]>::try_from(s).ok()).ok_or_else(corrupt)?;
        let hash = base64_decode(hash).and_then(|h| <[u8; HASH_LEN]>::try_from(h).ok()).ok_or_else(corrupt)?;
        Ok(PasswordHash { iterations, salt, hash })
    }

    /// The PBKDF2 iteration count this hash was made with.
    pub fn iterations(&self) -> u32 {
        self.iterations
    }
}

impl fmt::Display for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SCHEME}${}${}${}", self.iterations, base64_encode(&self.salt), base64_encode(&self.hash))
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHash").field("iterations", &self.iterations).finish_non_exhaustive()
    }
}

fn derive(password: &str, salt: &[u8; SALT_LEN], iterations: u32) -> Zeroizing<[u8; HASH_LEN]> {
    let mut out = Zeroizing::new([0u8; HASH_LEN]);
    pbkdf2_hmac::<Sha256>(password.as_bytes(), salt, iterations, out.as_mut());
    out
}

/// Hashes `password` with a fresh random salt and `iterations` rounds (use
/// [`DEFAULT_ITERATIONS`] unless there is a reason not to). Zero iterations is `InvalidInput`.
pub fn hash_password<R: Rng + CryptoRng + ?Sized>(
    password: &SecretString,
    iterations: u32,
    rng: &mut R,
) -> Result<PasswordHash, CredentialError> {
    if iterations == 0 || iterations > MAX_ITERATIONS {
        return Err(CredentialError::invalid_input(format!(
            "password hash iterations must be between 1 and {MAX_ITERATIONS}, not {iterations}"
        )));
    }
    let mut salt = [0u8; SALT_LEN];
    rng.fill_bytes(&mut salt);
    let hash = derive(password.expose(), &salt, iterations);
    Ok(PasswordHash { iterations, salt, hash: *hash })
}

/// The outcome of [`verify_password`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verification {
    /// The password matched the hash.
    pub matched: bool,
    /// The password matched and the hash used fewer iterations than the current count: hash the
    /// password again (with [`hash_password`]) and store the new hash.
    pub needs_upgrade: bool,
}

/// Checks `password` against `stored`, comparing the derived keys in constant time.
/// `current_iterations` is the count new hashes use today (normally [`DEFAULT_ITERATIONS`]).
pub fn verify_password(password: &SecretString, stored: &PasswordHash, current_iterations: u32) -> Verification {
    let derived = derive(password.expose(), &stored.salt, stored.iterations);
    let matched: bool = derived.as_slice().ct_eq(stored.hash.as_slice()).into();
    Verification { matched, needs_upgrade: matched && stored.iterations < current_iterations }
}

/// An `UpdateAccountPasswordPolicy` request as received: every field optional, values not yet
/// range-checked (integers are wide so that out-of-range input can be reported as given).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdatePasswordPolicy {
    /// `MinimumPasswordLength`, 6–128; omitted means 6.
    pub minimum_password_length: Option<i64>,
    /// `RequireSymbols`; omitted means false.
    pub require_symbols: Option<bool>,
    /// `RequireNumbers`; omitted means false.
    pub require_numbers: Option<bool>,
    /// `RequireUppercaseCharacters`; omitted means false.
    pub require_uppercase_characters: Option<bool>,
    /// `RequireLowercaseCharacters`; omitted means false.
    pub require_lowercase_characters: Option<bool>,
    /// `AllowUsersToChangePassword`; omitted means false.
    pub allow_users_to_change_password: Option<bool>,
    /// `MaxPasswordAge` in days, 1–1095; omitted means passwords never expire.
    pub max_password_age: Option<i64>,
    /// `PasswordReusePrevention`, 1–24; omitted means no reuse check.
    pub password_reuse_prevention: Option<i64>,
    /// `HardExpiry`; omitted means false.
    pub hard_expiry: Option<bool>,
}

/// The account's custom password policy. Built only by [`PasswordPolicy::from_update`] (or
/// `Default`), so its values are always in AWS's ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    minimum_password_length: u8,
    require_symbols: bool,
    require_numbers: bool,
    require_uppercase_characters: bool,
    require_lowercase_characters: bool,
    allow_users_to_change_password: bool,
    max_password_age: Option<u16>,
    password_reuse_prevention: Option<u8>,
    hard_expiry: bool,
}

impl Default for PasswordPolicy {
    /// The policy an `UpdateAccountPasswordPolicy` with no parameters sets: minimum length 6,
    /// nothing required, no expiry, no reuse check.
    fn default() -> PasswordPolicy {
        PasswordPolicy {
            minimum_password_length: 6,
            require_symbols: false,
            require_numbers: false,
            require_uppercase_characters: false,
            require_lowercase_characters: false,
            allow_users_to_change_password: false,
            max_password_age: None,
            password_reuse_prevention: None,
            hard_expiry: false,
        }
    }
}

impl PasswordPolicy {
    /// The policy an `UpdateAccountPasswordPolicy` request sets. The update is **not partial**:
    /// every omitted field takes its default, whatever the previous policy said.
    ///
    /// Out-of-range values are `ValidationError` (HTTP 400), the code AWS gives for shape
    /// constraints of the API model, with AWS's message form, every violation listed:
    /// `1 validation error detected: Value '5' at 'minimumPasswordLength' failed to satisfy
    /// constraint: Member must have value greater than or equal to 6`.
    pub fn from_update(request: &UpdatePasswordPolicy) -> Result<PasswordPolicy, CredentialError> {
        let mut problems = Vec::new();
        let mut ranged = |value: Option<i64>, member: &str, min: i64, max: i64| -> Option<i64> {
            let value = value?;
            if value < min {
                problems.push(format!(
                    "Value '{value}' at '{member}' failed to satisfy constraint: \
                     Member must have value greater than or equal to {min}"
                ));
            } else if value > max {
                problems.push(format!(
                    "Value '{value}' at '{member}' failed to satisfy constraint: \
                     Member must have value less than or equal to {max}"
                ));
            }
            Some(value)
        };
        let length = ranged(request.minimum_password_length, "minimumPasswordLength", 6, 128);
        let age = ranged(request.max_password_age, "maxPasswordAge", 1, 1095);
        let reuse = ranged(request.password_reuse_prevention, "passwordReusePrevention", 1, 24);
        if !problems.is_empty() {
            let n = problems.len();
            let plural = if n == 1 { "" } else { "s" };
            return Err(CredentialError::validation(format!(
                "{n} validation error{plural} detected: {}",
                problems.join("; ")
            )));
        }
        let flag = |value: Option<bool>| value.unwrap_or(false);
        // The ranges were checked above, so these conversions cannot fail; a failure would
        // fall back to the default rather than panic.
        Ok(PasswordPolicy {
            minimum_password_length: length.and_then(|v| u8::try_from(v).ok()).unwrap_or(6),
            require_symbols: flag(request.require_symbols),
            require_numbers: flag(request.require_numbers),
            require_uppercase_characters: flag(request.require_uppercase_characters),
            require_lowercase_characters: flag(request.require_lowercase_characters),
            allow_users_to_change_password: flag(request.allow_users_to_change_password),
            max_password_age: age.and_then(|v| u16::try_from(v).ok()),
            password_reuse_prevention: reuse.and_then(|v| u8::try_from(v).ok()),
            hard_expiry: flag(request.hard_expiry),
        })
    }

    /// `MinimumPasswordLength`, 6–128.
    pub fn minimum_password_length(&self) -> u8 {
        self.minimum_password_length
    }

    /// `RequireSymbols`: at least one of [`SYMBOLS`].
    pub fn require_symbols(&self) -> bool {
        self.require_symbols
    }

    /// `RequireNumbers`: at least one of `0`–`9`.
    pub fn require_numbers(&self) -> bool {
        self.require_numbers
    }

    /// `RequireUppercaseCharacters`: at least one of `A`–`Z`.
    pub fn require_uppercase_characters(&self) -> bool {
        self.require_uppercase_characters
    }

    /// `RequireLowercaseCharacters`: at least one of `a`–`z`.
    pub fn require_lowercase_characters(&self) -> bool {
        self.require_lowercase_characters
    }

    /// `AllowUsersToChangePassword`: every IAM user may change their own password.
    pub fn allow_users_to_change_password(&self) -> bool {
        self.allow_users_to_change_password
    }

    /// `MaxPasswordAge` in days (1–1095), `None` when passwords never expire.
    pub fn max_password_age(&self) -> Option<u16> {
        self.max_password_age
    }

    /// `PasswordReusePrevention` (1–24), `None` when reuse is not checked.
    pub fn password_reuse_prevention(&self) -> Option<u8> {
        self.password_reuse_prevention
    }

    /// `HardExpiry`: after expiry only an administrator can set a new password.
    pub fn hard_expiry(&self) -> bool {
        self.hard_expiry
    }

    /// `ExpirePasswords` (read-only in `GetAccountPasswordPolicy`): whether `MaxPasswordAge` is set.
    pub fn expire_passwords(&self) -> bool {
        self.max_password_age.is_some()
    }
}

/// One rule a new password broke. `Display` gives AWS's message for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordViolation {
    /// Shorter than the minimum length (in characters).
    MinimumLength(u8),
    /// No `A`–`Z`.
    Uppercase,
    /// No `a`–`z`.
    Lowercase,
    /// No `0`–`9`.
    Number,
    /// None of [`SYMBOLS`].
    Symbol,
    /// Default policy: fewer than three of uppercase, lowercase, numbers, symbols.
    ThreeCategories,
    /// Default policy: the same as the account name or email address.
    SameAsAccountName,
    /// One of the previous `n` passwords.
    Reused(u8),
}

impl fmt::Display for PasswordViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PasswordViolation::MinimumLength(n) => write!(f, "Password should have a minimum length of {n}"),
            PasswordViolation::Uppercase => f.write_str("Password should have at least one uppercase letter"),
            PasswordViolation::Lowercase => f.write_str("Password should have at least one lowercase letter"),
            PasswordViolation::Number => f.write_str("Password should have at least one number"),
            PasswordViolation::Symbol => f.write_str("Password should have at least one symbol"),
            PasswordViolation::ThreeCategories => f.write_str(
                "Password should include at least three of the following: \
                 uppercase letters, lowercase letters, numbers and symbols",
            ),
            PasswordViolation::SameAsAccountName => {
                f.write_str("Password should not be the same as the account name or email address")
            }
            PasswordViolation::Reused(n) => write!(f, "Password should not be one of your previous {n} passwords"),
        }
    }
}

/// What a new password is checked against besides the policy.
#[derive(Debug, Clone, Copy, Default)]
pub struct PasswordContext<'a> {
    /// The AWS account name (the default policy refuses a password equal to it).
    pub account_name: Option<&'a str>,
    /// The account's email address (likewise).
    pub email: Option<&'a str>,
    /// The user's password hashes, **most recent first** and including the current one; the
    /// first `PasswordReusePrevention` of them are checked.
    pub previous: &'a [PasswordHash],
}

/// Checks the shape IAM's API model gives every password: 1–128 characters, each a TAB, LF, CR
/// or in U+0020–U+00FF. A violation is `ValidationError` (as AWS answers model-constraint
/// violations), the value itself not echoed since it is secret.
pub fn check_password_shape(password: &SecretString) -> Result<(), CredentialError> {
    let text = password.expose();
    let length = text.chars().count();
    let constraint = if length == 0 {
        "Member must have length greater than or equal to 1".to_owned()
    } else if length > MAX_PASSWORD_LENGTH {
        format!("Member must have length less than or equal to {MAX_PASSWORD_LENGTH}")
    } else if !text.chars().all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}')) {
        "Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+".to_owned()
    } else {
        return Ok(());
    };
    Err(CredentialError::validation(format!(
        "1 validation error detected: Value at 'password' failed to satisfy constraint: {constraint}"
    )))
}

/// The rules of `policy` (or, with `None`, of AWS's default policy) that `password` breaks,
/// reuse excepted (that needs the key derivation; see [`check_new_password`]).
///
/// With no custom policy AWS's default applies: at least 8 characters, at least three of
/// uppercase, lowercase, numbers and symbols, not equal to the account name or email address
/// (compared ignoring ASCII case).
pub fn policy_violations(
    policy: Option<&PasswordPolicy>,
    password: &SecretString,
    context: &PasswordContext<'_>,
) -> Vec<PasswordViolation> {
    let text = password.expose();
    let length = text.chars().count();
    let upper = text.chars().any(|c| c.is_ascii_uppercase());
    let lower = text.chars().any(|c| c.is_ascii_lowercase());
    let number = text.chars().any(|c| c.is_ascii_digit());
    let symbol = text.chars().any(|c| SYMBOLS.contains(c));
    let mut violations = Vec::new();
    match policy {
        Some(policy) => {
            if length < usize::from(policy.minimum_password_length) {
                violations.push(PasswordViolation::MinimumLength(policy.minimum_password_length));
            }
            if policy.require_uppercase_characters && !upper {
                violations.push(PasswordViolation::Uppercase);
            }
            if policy.require_lowercase_characters && !lower {
                violations.push(PasswordViolation::Lowercase);
            }
            if policy.require_numbers && !number {
                violations.push(PasswordViolation::Number);
            }
            if policy.require_symbols && !symbol {
                violations.push(PasswordViolation::Symbol);
            }
        }
        None => {
            if length < 8 {
                violations.push(PasswordViolation::MinimumLength(8));
            }
            if [upper, lower, number, symbol].iter().filter(|&&b| b).count() < 3 {
                violations.push(PasswordViolation::ThreeCategories);
            }
            let same = |other: Option<&str>| other.is_some_and(|o| o.eq_ignore_ascii_case(text));
            if same(context.account_name) || same(context.email) {
                violations.push(PasswordViolation::SameAsAccountName);
            }
        }
    }
    violations
}

/// Checks a password a user or administrator is setting: its shape ([`check_password_shape`],
/// `ValidationError`), then the policy's rules ([`policy_violations`]), then reuse of the last
/// `PasswordReusePrevention` hashes in `context.previous`. Rule and reuse failures are
/// `PasswordPolicyViolation` (HTTP 400), the message each failed rule's AWS message joined by
/// `; `.
///
/// Reuse is checked only when every other rule passes: each comparison runs the full key
/// derivation (up to 24 of them), which is not worth spending on a password refused anyway.
pub fn check_new_password(
    policy: Option<&PasswordPolicy>,
    password: &SecretString,
    context: &PasswordContext<'_>,
) -> Result<(), CredentialError> {
    check_password_shape(password)?;
    let mut violations = policy_violations(policy, password, context);
    if violations.is_empty() {
        let reuse = policy.and_then(PasswordPolicy::password_reuse_prevention);
        if let Some(n) = reuse {
            let previous = context.previous.iter().take(usize::from(n));
            if previous.fold(false, |hit, old| verify_password(password, old, 0).matched | hit) {
                violations.push(PasswordViolation::Reused(n));
            }
        }
    }
    if violations.is_empty() {
        return Ok(());
    }
    let message = violations.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
    Err(CredentialError::new(ErrorCode::PasswordPolicyViolation, message))
}

/// Seconds in a day.
const DAY: i64 = 86_400;

/// Days before expiry in which the console warns (AWS: days 75–89 of 90).
pub const EXPIRY_WARNING_DAYS: u32 = 15;

/// Where a password stands against `MaxPasswordAge`, from [`password_expiry`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordExpiry {
    /// When the password expires; `None` when passwords do not expire.
    pub expires_at: Option<UnixTime>,
    /// The password has expired (expiry applies at once to existing passwords when a policy
    /// sets `MaxPasswordAge`).
    pub expired: bool,
    /// Whole days left, rounded up (so 0 only once expired); `None` when passwords do not expire.
    pub days_remaining: Option<u32>,
    /// Within the last [`EXPIRY_WARNING_DAYS`] days before expiry.
    pub warn: bool,
    /// The user may set a new password themselves. Before expiry: `AllowUsersToChangePassword`
    /// (otherwise only a permission granting `iam:ChangePassword` lets them, which is the
    /// evaluator's business, not this). After expiry: the sign-in page requires a new password
    /// unless `HardExpiry` is set, in which case only an administrator can reset it.
    pub may_change: bool,
}

/// The expiry state of a password set at `set_at`, under `policy` (`None`: no custom policy,
/// and AWS's default policy never expires passwords), at `clock`'s time.
pub fn password_expiry(policy: Option<&PasswordPolicy>, set_at: UnixTime, clock: &dyn Clock) -> PasswordExpiry {
    let allow = policy.is_some_and(PasswordPolicy::allow_users_to_change_password);
    let Some((age, hard)) = policy.and_then(|p| Some((p.max_password_age?, p.hard_expiry))) else {
        return PasswordExpiry {
            expires_at: None,
            expired: false,
            days_remaining: None,
            warn: false,
            may_change: allow,
        };
    };
    let expires_at = UnixTime::from_seconds(set_at.seconds.saturating_add(i64::from(age) * DAY));
    let now = clock.now();
    let expired = now >= expires_at;
    // Whole days left, rounded up; when not expired at least one second is left.
    let left = expires_at.seconds.saturating_sub(now.seconds).max(0);
    let days = if expired { 0 } else { u32::try_from((left + DAY - 1) / DAY).unwrap_or(u32::MAX) };
    PasswordExpiry {
        expires_at: Some(expires_at),
        expired,
        days_remaining: Some(days),
        warn: !expired && days <= EXPIRY_WARNING_DAYS,
        may_change: if expired { !hard } else { allow },
    }
}
