//! The credentials Castellan accepts, as pure logic: passwords and the account password policy,
//! access keys and sealed secrets, TOTP MFA devices, and AWS Signature Version 4.
//!
//! The crate stores nothing: it produces records (password hashes, sealed secrets, MFA device
//! state) that `castellan-store` keeps, and checks what a caller presents against them. It
//! depends on no other Castellan crate.
//!
//! Time and randomness are injected: every check that depends on the time takes a [`Clock`],
//! every generator takes a random number generator, so tests use a fake clock and a seeded
//! generator and never sleep.

pub mod access_key;
mod clock;
mod encoding;
mod error;
pub mod mfa;
pub mod password;
mod secret;
pub mod sigv4;

pub use access_key::{
    AccessKeyId, AccessKeyKind, AccessKeyLastUsed, AccessKeyRecord, AccessKeyStatus, NewAccessKey, SealError,
    SealedSecret, Sealer, SealingKey, UniqueIdKind,
};
pub use clock::{Clock, FixedClock, SystemClock, UnixTime};
pub use error::{CredentialError, ErrorCode};
pub use mfa::{MfaDevice, MfaFacts, MfaSeed, MfaState, NewMfaDevice, StoredSeed};
pub use password::{
    PasswordContext, PasswordExpiry, PasswordHash, PasswordPolicy, PasswordViolation, UpdatePasswordPolicy,
    Verification,
};
pub use secret::SecretString;
