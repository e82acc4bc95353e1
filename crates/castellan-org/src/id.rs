//! Identifiers of organizations, roots, OUs, accounts and policies: their patterns (from the
//! Organizations API model) and their generation from an injected random source.

use rand::{CryptoRng, Rng};

use crate::error::{InvalidInputReason, OrgError};

const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const POLICY_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// The id of the AWS managed SCP `FullAWSAccess`.
pub const FULL_AWS_ACCESS_ID: &str = "p-FullAWSAccess";
/// The id of the AWS managed RCP `RCPFullAWSAccess`.
pub const RCP_FULL_AWS_ACCESS_ID: &str = "p-RCPFullAWSAccess";

/// `count` characters drawn uniformly from `alphabet` (rejection sampling, so no bias).
fn random_chars<R: Rng + CryptoRng + ?Sized>(rng: &mut R, alphabet: &[u8], count: usize) -> String {
    (0..count)
        .map(|_| {
            let index = rng.random_range(0..alphabet.len());
            char::from(alphabet.get(index).copied().unwrap_or(b'0'))
        })
        .collect()
}

/// A new organization id: `o-` and ten lowercase letters or digits.
pub(crate) fn new_organization_id<R: Rng + CryptoRng + ?Sized>(rng: &mut R) -> String {
    format!("o-{}", random_chars(rng, LOWER_ALNUM, 10))
}

/// A new root id: `r-` and four lowercase letters or digits.
pub(crate) fn new_root_id<R: Rng + CryptoRng + ?Sized>(rng: &mut R) -> String {
    format!("r-{}", random_chars(rng, LOWER_ALNUM, 4))
}

/// A new OU id: `ou-`, the root's suffix, `-` and eight lowercase letters or digits.
pub(crate) fn new_ou_id<R: Rng + CryptoRng + ?Sized>(rng: &mut R, root_id: &str) -> String {
    let suffix = root_id.strip_prefix("r-").unwrap_or(root_id);
    format!("ou-{suffix}-{}", random_chars(rng, LOWER_ALNUM, 8))
}

/// A new policy id: `p-` and eight letters or digits.
pub(crate) fn new_policy_id<R: Rng + CryptoRng + ?Sized>(rng: &mut R) -> String {
    format!("p-{}", random_chars(rng, POLICY_ALPHABET, 8))
}

fn all(text: &str, ok: impl Fn(u8) -> bool) -> bool {
    text.bytes().all(ok)
}

fn lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// Whether `text` matches `^r-[0-9a-z]{4,32}$`.
pub fn is_root_id(text: &str) -> bool {
    text.strip_prefix("r-").is_some_and(|s| (4..=32).contains(&s.len()) && all(s, lower_alnum))
}

/// Whether `text` matches `^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`.
pub fn is_ou_id(text: &str) -> bool {
    text.strip_prefix("ou-").and_then(|s| s.split_once('-')).is_some_and(|(root, own)| {
        (4..=32).contains(&root.len())
            && all(root, lower_alnum)
            && (8..=32).contains(&own.len())
            && all(own, lower_alnum)
    })
}

/// Whether `text` matches `^\d{12}$`.
pub fn is_account_id(text: &str) -> bool {
    text.len() == 12 && all(text, |b| b.is_ascii_digit())
}

/// Whether `text` matches `^p-[0-9a-zA-Z_]{8,128}$`.
pub fn is_policy_id(text: &str) -> bool {
    text.strip_prefix("p-")
        .is_some_and(|s| (8..=128).contains(&s.len()) && all(s, |b| b.is_ascii_alphanumeric() || b == b'_'))
}

/// Whether `text` matches `^o-[a-z0-9]{10,32}$`.
pub fn is_organization_id(text: &str) -> bool {
    text.strip_prefix("o-").is_some_and(|s| (10..=32).contains(&s.len()) && all(s, lower_alnum))
}

fn pattern_error(field: &str, value: &str) -> OrgError {
    OrgError::invalid_input(
        InvalidInputReason::InvalidPattern,
        format!("You provided a value that does not match the required pattern: `{value}` is not a valid {field}."),
    )
}

pub(crate) fn check_account_id(value: &str) -> Result<(), OrgError> {
    if is_account_id(value) { Ok(()) } else { Err(pattern_error("AccountId", value)) }
}

pub(crate) fn check_ou_id(value: &str) -> Result<(), OrgError> {
    if is_ou_id(value) { Ok(()) } else { Err(pattern_error("OrganizationalUnitId", value)) }
}

pub(crate) fn check_root_id(value: &str) -> Result<(), OrgError> {
    if is_root_id(value) { Ok(()) } else { Err(pattern_error("RootId", value)) }
}

pub(crate) fn check_parent_id(value: &str) -> Result<(), OrgError> {
    if is_root_id(value) || is_ou_id(value) { Ok(()) } else { Err(pattern_error("ParentId", value)) }
}

pub(crate) fn check_child_id(value: &str) -> Result<(), OrgError> {
    if is_account_id(value) || is_ou_id(value) { Ok(()) } else { Err(pattern_error("ChildId", value)) }
}

pub(crate) fn check_target_id(value: &str) -> Result<(), OrgError> {
    if is_root_id(value) || is_ou_id(value) || is_account_id(value) {
        Ok(())
    } else {
        Err(OrgError::invalid_input(
            InvalidInputReason::InvalidPatternTargetId,
            format!("You specified a policy target ID that doesn't match the required pattern: `{value}`."),
        ))
    }
}

pub(crate) fn check_policy_id(value: &str) -> Result<(), OrgError> {
    if is_policy_id(value) {
        Ok(())
    } else {
        Err(OrgError::invalid_input(
            InvalidInputReason::InvalidSyntaxPolicyId,
            format!("You provided a policy ID that doesn't match the required pattern: `{value}`."),
        ))
    }
}
