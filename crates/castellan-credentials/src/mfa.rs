//! Virtual MFA devices: TOTP seeds (RFC 6238 with AWS's parameters: HMAC-SHA1, 6 digits, 30-second
//! steps), the `otpauth://` URI, enabling and resynchronising with two consecutive codes,
//! authentication with one code accepted at most once, and the facts the evaluator needs
//! (`aws:MultiFactorAuthPresent`, `aws:MultiFactorAuthAge`).
//!
//! The QR code PNG of `CreateVirtualMFADevice` is not produced here: it only encodes
//! [`MfaSeed::otpauth_uri`], and an image encoder is the API layer's choice.
//!
//! Windows, in 30-second steps around the clock's step `now`:
//! - authentication: a code for a step in `now + drift - 1 ..= now + drift + 1`;
//! - enabling: `AuthenticationCode2` for a step in `now - 1 ..= now + 1` and
//!   `AuthenticationCode1` for the step just before it;
//! - resync: the same pair, `AuthenticationCode2` within [`RESYNC_WINDOW_STEPS`] of `now`; the
//!   offset found becomes the device's drift.
//!
//! In every case the accepted steps must be later than the last step the device accepted, so a
//! code works once, even while it is still inside its window.

use std::fmt;

use rand::{CryptoRng, Rng};
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Secret, TOTP};
use zeroize::Zeroizing;

use crate::access_key::{SealedSecret, Sealer};
use crate::{Clock, CredentialError, ErrorCode, SecretString, UnixTime};

/// Seconds in a TOTP step.
pub const STEP_SECONDS: u64 = 30;

/// Digits in a code.
pub const DIGITS: usize = 6;

/// Bytes in a generated seed (160 bits, RFC 4226's recommendation).
pub const SEED_LEN: usize = 20;

/// Steps either side of the expected one accepted when authenticating.
pub const WINDOW_STEPS: i64 = 1;

/// Steps either side of the clock searched by [`MfaDevice::resync`] (10 minutes).
pub const RESYNC_WINDOW_STEPS: i64 = 20;

/// The shortest seed TOTP accepts (RFC 4226: 128 bits).
const MIN_SEED_LEN: usize = 16;

/// The longest seed accepted (the HMAC-SHA1 block size).
const MAX_SEED_LEN: usize = 64;

fn invalid_code() -> CredentialError {
    CredentialError::new(ErrorCode::InvalidAuthenticationCode, "Authentication code for device is not valid.")
}

/// A TOTP seed. Prints redacted; zeroed on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct MfaSeed(Zeroizing<Vec<u8>>);

impl MfaSeed {
    /// A fresh seed of [`SEED_LEN`] random bytes.
    pub fn generate<R: Rng + CryptoRng + ?Sized>(rng: &mut R) -> MfaSeed {
        let mut bytes = Zeroizing::new(vec![0u8; SEED_LEN]);
        rng.fill_bytes(bytes.as_mut_slice());
        MfaSeed(bytes)
    }

    /// A seed from its bytes (16–64 of them; otherwise `InvalidInput`).
    pub fn from_bytes(bytes: &[u8]) -> Result<MfaSeed, CredentialError> {
        if !(MIN_SEED_LEN..=MAX_SEED_LEN).contains(&bytes.len()) {
            return Err(CredentialError::invalid_input(format!(
                "an MFA seed must have {MIN_SEED_LEN} to {MAX_SEED_LEN} bytes, not {}",
                bytes.len()
            )));
        }
        Ok(MfaSeed(Zeroizing::new(bytes.to_vec())))
    }

    /// A seed from its base32 text (RFC 4648, no padding), as an authenticator shows it.
    pub fn from_base32(text: &SecretString) -> Result<MfaSeed, CredentialError> {
        let bytes = Zeroizing::new(
            Secret::Encoded(text.expose().to_owned())
                .to_bytes()
                .map_err(|_| CredentialError::invalid_input("an MFA seed must be base32 text"))?,
        );
        MfaSeed::from_bytes(&bytes)
    }

    /// The seed in base32 (RFC 4648, no padding): `CreateVirtualMFADevice`'s `Base32StringSeed`
    /// before the API's base64 wrapping.
    pub fn base32(&self) -> SecretString {
        SecretString::new(self.totp().get_secret_base32())
    }

    /// The URI an authenticator scans: `otpauth://totp/NAME@ACCOUNT?secret=BASE32`, where
    /// ACCOUNT is the user name if given, else the account id. It holds the seed, so it is secret.
    /// Characters IAM names allow pass unchanged; any other is percent-encoded.
    pub fn otpauth_uri(&self, device_name: &str, user_name: Option<&str>, account_id: &str) -> SecretString {
        let account = user_name.unwrap_or(account_id);
        SecretString::new(format!(
            "otpauth://totp/{}@{}?secret={}",
            percent_encode(device_name),
            percent_encode(account),
            self.base32().expose()
        ))
    }

    /// The code for the step holding `unix_seconds` (what an authenticator shows then).
    pub fn code_at(&self, unix_seconds: u64) -> SecretString {
        SecretString::new(self.totp().generate(unix_seconds))
    }

    fn code_for_step(&self, step: u64) -> Zeroizing<String> {
        Zeroizing::new(self.totp().generate(step.saturating_mul(STEP_SECONDS)))
    }

    fn totp(&self) -> TOTP {
        // `new_unchecked`: the length was checked when the seed was made, and TOTP's own skew is
        // unused (windows are applied here, per step).
        TOTP::new_unchecked(Algorithm::SHA1, DIGITS, 0, STEP_SECONDS, self.0.to_vec())
    }

    /// Whether `code` is the code of `step`, compared in constant time.
    fn matches(&self, code: &str, step: u64) -> bool {
        self.code_for_step(step).as_bytes().ct_eq(code.as_bytes()).into()
    }
}

impl fmt::Debug for MfaSeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("** redacted **")
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters and those IAM names allow
/// (`+ = , . @ -` and `_`), so an IAM name passes unchanged.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~+=,@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Whether `code` is six ASCII digits.
fn well_formed(code: &str) -> bool {
    code.len() == DIGITS && code.bytes().all(|b| b.is_ascii_digit())
}

/// The TOTP step holding `now`; `None` before the epoch.
fn step_of(now: UnixTime) -> Option<u64> {
    u64::try_from(now.seconds).ok().map(|s| s / STEP_SECONDS)
}

/// How a device's seed is kept: the caller chooses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredSeed {
    /// In the clear (tests, or a store that encrypts as a whole).
    Plain(MfaSeed),
    /// Sealed with a [`Sealer`], the serial number as context.
    Sealed(SealedSecret),
}

/// Whether a device is in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MfaState {
    /// Created (or deactivated) and not enabled for anyone.
    Unassigned,
    /// Enabled for a user at `enabled_at`.
    Enabled {
        /// When `EnableMFADevice` succeeded.
        enabled_at: UnixTime,
    },
}

/// What a store keeps for a virtual MFA device. Every operation that checks codes updates it
/// (the last accepted step, the drift, the failure count): the caller stores it back after each,
/// success or failure, with a compare-and-swap if requests can race.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaDevice {
    /// The serial number (for a virtual device, its ARN).
    pub serial_number: String,
    /// The seed.
    pub seed: StoredSeed,
    /// Enabled or not.
    pub state: MfaState,
    /// The last step whose code was accepted; no code of this step or earlier is accepted again.
    pub last_accepted_step: Option<u64>,
    /// The device's clock offset in steps, learned by [`MfaDevice::resync`].
    pub drift_steps: i64,
    /// Codes refused since the last accepted one. Castellan does not lock devices out itself
    /// (AWS documents no lockout); a caller can refuse early above a threshold.
    pub failed_attempts: u32,
}

/// A new virtual device: the record to store and the seed, which `CreateVirtualMFADevice`
/// returns once.
#[derive(Debug)]
pub struct NewMfaDevice {
    /// The record for the store.
    pub device: MfaDevice,
    /// The seed, for the caller only.
    pub seed: MfaSeed,
}

impl MfaDevice {
    /// A new unassigned virtual device with a fresh seed, sealed when `sealer` is given.
    pub fn create_virtual<R: Rng + CryptoRng + ?Sized>(
        serial_number: impl Into<String>,
        sealer: Option<&Sealer>,
        rng: &mut R,
    ) -> Result<NewMfaDevice, CredentialError> {
        let serial_number = serial_number.into();
        let seed = MfaSeed::generate(rng);
        let stored = match sealer {
            Some(sealer) => StoredSeed::Sealed(sealer.seal(&seed.0, serial_number.as_bytes(), rng)?),
            None => StoredSeed::Plain(seed.clone()),
        };
        let device = MfaDevice {
            serial_number,
            seed: stored,
            state: MfaState::Unassigned,
            last_accepted_step: None,
            drift_steps: 0,
            failed_attempts: 0,
        };
        Ok(NewMfaDevice { device, seed })
    }

    /// The seed, unsealed if need be. A sealed seed without a sealer, or one that does not open,
    /// is `ServiceFailure`.
    pub fn seed(&self, sealer: Option<&Sealer>) -> Result<MfaSeed, CredentialError> {
        match (&self.seed, sealer) {
            (StoredSeed::Plain(seed), _) => Ok(seed.clone()),
            (StoredSeed::Sealed(sealed), Some(sealer)) => {
                let bytes = sealer.open(sealed, self.serial_number.as_bytes())?;
                MfaSeed::from_bytes(&bytes)
                    .map_err(|_| CredentialError::service_failure("stored MFA seed is malformed"))
            }
            (StoredSeed::Sealed(_), None) => {
                Err(CredentialError::service_failure("MFA seed is sealed and no sealer was given"))
            }
        }
    }

    /// Whether the device is enabled.
    pub fn is_enabled(&self) -> bool {
        matches!(self.state, MfaState::Enabled { .. })
    }

    /// `EnableMFADevice`: two consecutive codes, the second within one step of the clock. An
    /// enabled device is `EntityAlreadyExists`; wrong, malformed or already-used codes are
    /// `InvalidAuthenticationCode` (and count as a failure).
    pub fn enable(
        &mut self,
        sealer: Option<&Sealer>,
        code1: &str,
        code2: &str,
        clock: &dyn Clock,
    ) -> Result<(), CredentialError> {
        if self.is_enabled() {
            return Err(CredentialError::new(ErrorCode::EntityAlreadyExists, "MFA Device is already in use."));
        }
        let seed = self.seed(sealer)?;
        let now = clock.now();
        let found = self.find_pair(&seed, code1, code2, now, 0, WINDOW_STEPS);
        let second = self.record(found)?;
        self.drift_steps = 0;
        self.last_accepted_step = Some(second);
        self.state = MfaState::Enabled { enabled_at: now };
        Ok(())
    }

    /// `ResyncMFADevice`: two consecutive codes searched within [`RESYNC_WINDOW_STEPS`] of the
    /// clock; the offset found becomes the drift later authentications allow for. The device
    /// must be enabled (else `InvalidInput`).
    pub fn resync(
        &mut self,
        sealer: Option<&Sealer>,
        code1: &str,
        code2: &str,
        clock: &dyn Clock,
    ) -> Result<(), CredentialError> {
        if !self.is_enabled() {
            return Err(CredentialError::invalid_input(format!("MFA device `{}` is not enabled", self.serial_number)));
        }
        let seed = self.seed(sealer)?;
        let now = clock.now();
        let found = self.find_pair(&seed, code1, code2, now, 0, RESYNC_WINDOW_STEPS);
        let second = self.record(found)?;
        let now_step = step_of(now).unwrap_or(0);
        self.drift_steps = i64::try_from(second).unwrap_or(i64::MAX).saturating_sub_unsigned(now_step);
        self.last_accepted_step = Some(second);
        Ok(())
    }

    /// `DeactivateMFADevice`: back to unassigned. The last accepted step is kept, so codes seen
    /// before stay spent if the device is enabled again.
    pub fn deactivate(&mut self) {
        self.state = MfaState::Unassigned;
        self.drift_steps = 0;
        self.failed_attempts = 0;
    }

    /// Checks one code at sign-in or for STS (`TokenCode`). On success the step is spent and the
    /// facts for the session are returned. The device must be enabled (else `InvalidInput`); a
    /// wrong, malformed, stale or already-used code is `InvalidAuthenticationCode`.
    pub fn authenticate(
        &mut self,
        sealer: Option<&Sealer>,
        code: &str,
        clock: &dyn Clock,
    ) -> Result<MfaFacts, CredentialError> {
        if !self.is_enabled() {
            return Err(CredentialError::invalid_input(format!("MFA device `{}` is not enabled", self.serial_number)));
        }
        let seed = self.seed(sealer)?;
        let now = clock.now();
        let found = if well_formed(code) {
            self.candidate_steps(now, self.drift_steps, WINDOW_STEPS, 0).find(|&step| seed.matches(code, step))
        } else {
            None
        };
        self.record(found)?;
        Ok(MfaFacts::authenticated(now))
    }

    /// Steps from `center - window` to `center + window` (center = the clock's step + `drift`,
    /// shifted by `offset`) that are later than the last accepted step, oldest first.
    fn candidate_steps(&self, now: UnixTime, drift: i64, window: i64, offset: i64) -> impl Iterator<Item = u64> {
        let center =
            step_of(now).and_then(|s| i64::try_from(s).ok()).map(|s| s.saturating_add(drift).saturating_add(offset));
        let last = self.last_accepted_step;
        (-window..=window)
            .filter_map(move |d| center.and_then(|c| u64::try_from(c.checked_add(d)?).ok()))
            .filter(move |&step| last.is_none_or(|last| step > last))
    }

    /// The step of `code2` when `code1` and `code2` are the codes of two consecutive steps, the
    /// second within `window` of the clock's step + `drift`, both later than the last accepted.
    fn find_pair(
        &self,
        seed: &MfaSeed,
        code1: &str,
        code2: &str,
        now: UnixTime,
        drift: i64,
        window: i64,
    ) -> Option<u64> {
        if !well_formed(code1) || !well_formed(code2) {
            return None;
        }
        // First steps one before each possible second step; the first must itself be unspent.
        self.candidate_steps(now, drift, window, -1)
            .find(|&first| {
                seed.matches(code1, first) && first.checked_add(1).is_some_and(|next| seed.matches(code2, next))
            })
            .and_then(|first| first.checked_add(1))
    }

    /// Counts a refusal or resets the count, and turns `found` into the result.
    fn record(&mut self, found: Option<u64>) -> Result<u64, CredentialError> {
        match found {
            Some(step) => {
                self.failed_attempts = 0;
                self.last_accepted_step = Some(step);
                Ok(step)
            }
            None => {
                self.failed_attempts = self.failed_attempts.saturating_add(1);
                Err(invalid_code())
            }
        }
    }
}

/// The MFA facts of a session, for the evaluator's condition keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MfaFacts {
    /// MFA was used to obtain the session.
    pub present: bool,
    /// When it was used (meaningless unless `present`).
    pub authenticated_at: UnixTime,
}

impl MfaFacts {
    /// A session without MFA.
    pub fn absent() -> MfaFacts {
        MfaFacts { present: false, authenticated_at: UnixTime::from_seconds(0) }
    }

    /// A session authenticated with MFA at `at`.
    pub fn authenticated(at: UnixTime) -> MfaFacts {
        MfaFacts { present: true, authenticated_at: at }
    }

    /// `aws:MultiFactorAuthPresent`. AWS sets the key only for temporary credentials; for a
    /// request signed with a long-term key the caller leaves the key absent rather than `false`.
    pub fn multi_factor_auth_present(&self) -> bool {
        self.present
    }

    /// `aws:MultiFactorAuthAge` at `now`: whole seconds since MFA, never negative; `None` (the key
    /// absent) when MFA was not used.
    pub fn multi_factor_auth_age(&self, now: UnixTime) -> Option<u64> {
        self.present.then(|| u64::try_from(now.seconds.saturating_sub(self.authenticated_at.seconds)).unwrap_or(0))
    }
}
