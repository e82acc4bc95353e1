//! Access keys and unique ids: generation in AWS's formats, the access-key record a store keeps,
//! and the [`Sealer`] that encrypts secrets at rest (XChaCha20-Poly1305, rotating keys).
//!
//! A secret access key must be recoverable (SigV4 verification recomputes the HMAC with it), so
//! it is sealed, not hashed; the sealing keys live outside the store.

use std::collections::BTreeMap;
use std::fmt;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use rand::{CryptoRng, Rng};
use zeroize::Zeroizing;

use crate::encoding::{base64_decode, base64_encode};
use crate::{CredentialError, SecretString, UnixTime};

/// The characters of key ids and unique ids after their prefix: `A`–`Z` and `2`–`7` (the RFC 4648
/// base32 alphabet), as in AWS's ids.
pub const ID_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// The characters of secret access keys: `A`–`Z`, `a`–`z`, `0`–`9`, `+` and `/`.
pub const SECRET_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Characters in an access key id (`AKIA` or `ASIA` and 16 more).
pub const ACCESS_KEY_ID_LEN: usize = 20;

/// Characters in a secret access key.
pub const SECRET_ACCESS_KEY_LEN: usize = 40;

/// Characters in a unique id (a four-letter prefix and 17 more).
pub const UNIQUE_ID_LEN: usize = 21;

/// `count` characters drawn uniformly from a 32-symbol alphabet (5 random bits each).
fn random_id_chars<R: Rng + CryptoRng + ?Sized>(rng: &mut R, count: usize) -> String {
    (0..count)
        .map(|_| char::from(ID_ALPHABET.get(usize::from(rng.random::<u8>() & 31)).copied().unwrap_or(b'A')))
        .collect()
}

fn is_id_char(b: u8) -> bool {
    ID_ALPHABET.contains(&b)
}

/// Whether an access key is long-term (an IAM user's) or temporary (issued by STS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccessKeyKind {
    /// `AKIA…`: a user's or the root user's key.
    LongTerm,
    /// `ASIA…`: an STS session's key, valid only with its session token.
    Temporary,
}

impl AccessKeyKind {
    /// The four-character prefix.
    pub fn prefix(self) -> &'static str {
        match self {
            AccessKeyKind::LongTerm => "AKIA",
            AccessKeyKind::Temporary => "ASIA",
        }
    }
}

/// An access key id: `AKIA` or `ASIA` followed by 16 characters of [`ID_ALPHABET`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccessKeyId(String);

impl AccessKeyId {
    /// A fresh random id of `kind`. Ids are random, not checked for uniqueness: 80 random bits
    /// make a collision negligible, and the store's unique index catches one anyway.
    pub fn generate<R: Rng + CryptoRng + ?Sized>(kind: AccessKeyKind, rng: &mut R) -> AccessKeyId {
        AccessKeyId(format!("{}{}", kind.prefix(), random_id_chars(rng, ACCESS_KEY_ID_LEN - 4)))
    }

    /// Reads an id in Castellan's format; anything else is `InvalidInput`. (AWS's API accepts
    /// 16–128 word characters; an id of any other shape simply matches no key.)
    pub fn parse(text: &str) -> Result<AccessKeyId, CredentialError> {
        let ok = text.len() == ACCESS_KEY_ID_LEN
            && (text.starts_with("AKIA") || text.starts_with("ASIA"))
            && text.bytes().all(is_id_char);
        if ok {
            Ok(AccessKeyId(text.to_owned()))
        } else {
            Err(CredentialError::invalid_input(format!("`{text}` is not a valid access key id")))
        }
    }

    /// Long-term or temporary, from the prefix.
    pub fn kind(&self) -> AccessKeyKind {
        if self.0.starts_with("ASIA") { AccessKeyKind::Temporary } else { AccessKeyKind::LongTerm }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccessKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A fresh 40-character secret access key of [`SECRET_ALPHABET`] characters (6 random bits each,
/// 240 bits in all). It prints `** redacted **` and is zeroed on drop.
pub fn generate_secret_access_key<R: Rng + CryptoRng + ?Sized>(rng: &mut R) -> SecretString {
    let mut bytes = Zeroizing::new([0u8; SECRET_ACCESS_KEY_LEN]);
    rng.fill_bytes(bytes.as_mut());
    let text: String =
        bytes.iter().map(|&b| char::from(SECRET_ALPHABET.get(usize::from(b & 63)).copied().unwrap_or(b'A'))).collect();
    SecretString::new(text)
}

/// The kinds of entity that carry a unique id, each with AWS's four-character prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UniqueIdKind {
    /// `AIDA`: an IAM user.
    User,
    /// `AGPA`: a group.
    Group,
    /// `AROA`: a role.
    Role,
    /// `ANPA`: a managed policy.
    ManagedPolicy,
    /// `ANVA`: a managed policy version.
    PolicyVersion,
    /// `AIPA`: an EC2 instance profile.
    InstanceProfile,
    /// `ABIA`: an STS service bearer token.
    BearerToken,
    /// `ACCA`: a context-specific credential.
    ContextCredential,
    /// `APKA`: a public key.
    PublicKey,
    /// `ASCA`: a certificate.
    Certificate,
}

impl UniqueIdKind {
    /// The four-character prefix.
    pub fn prefix(self) -> &'static str {
        match self {
            UniqueIdKind::User => "AIDA",
            UniqueIdKind::Group => "AGPA",
            UniqueIdKind::Role => "AROA",
            UniqueIdKind::ManagedPolicy => "ANPA",
            UniqueIdKind::PolicyVersion => "ANVA",
            UniqueIdKind::InstanceProfile => "AIPA",
            UniqueIdKind::BearerToken => "ABIA",
            UniqueIdKind::ContextCredential => "ACCA",
            UniqueIdKind::PublicKey => "APKA",
            UniqueIdKind::Certificate => "ASCA",
        }
    }
}

/// A fresh unique id (`UserId`, `RoleId`, ...): the kind's prefix and 17 characters of
/// [`ID_ALPHABET`], 21 in all. IAM never reuses ids; 85 random bits make a repeat negligible.
pub fn generate_unique_id<R: Rng + CryptoRng + ?Sized>(kind: UniqueIdKind, rng: &mut R) -> String {
    format!("{}{}", kind.prefix(), random_id_chars(rng, UNIQUE_ID_LEN - 4))
}

/// An access key's status (`UpdateAccessKey` sets `Active` or `Inactive`; the model also lists
/// `Expired`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccessKeyStatus {
    /// Usable.
    Active,
    /// Disabled by its owner or an administrator.
    Inactive,
    /// Past its lifetime.
    Expired,
}

impl AccessKeyStatus {
    /// The status as AWS spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessKeyStatus::Active => "Active",
            AccessKeyStatus::Inactive => "Inactive",
            AccessKeyStatus::Expired => "Expired",
        }
    }

    /// Reads a status (case-sensitive, as AWS's enum is); anything else is `ValidationError`.
    pub fn parse(text: &str) -> Result<AccessKeyStatus, CredentialError> {
        match text {
            "Active" => Ok(AccessKeyStatus::Active),
            "Inactive" => Ok(AccessKeyStatus::Inactive),
            "Expired" => Ok(AccessKeyStatus::Expired),
            _ => Err(CredentialError::validation(format!(
                "1 validation error detected: Value '{text}' at 'status' failed to satisfy constraint: \
                 Member must satisfy enum value set: [Active, Expired, Inactive]"
            ))),
        }
    }
}

/// `GetAccessKeyLastUsed`'s `AccessKeyLastUsed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKeyLastUsed {
    /// When the key was last used; `None` (the element absent) when never.
    pub last_used_date: Option<UnixTime>,
    /// The service last called, or `N/A`.
    pub service_name: String,
    /// The region last called, or `N/A`.
    pub region: String,
}

impl AccessKeyLastUsed {
    /// A key never used: no date, service and region `N/A`.
    pub fn never() -> AccessKeyLastUsed {
        AccessKeyLastUsed { last_used_date: None, service_name: "N/A".to_owned(), region: "N/A".to_owned() }
    }

    /// A use at `at` of `service` in `region`.
    pub fn used(at: UnixTime, service: impl Into<String>, region: impl Into<String>) -> AccessKeyLastUsed {
        AccessKeyLastUsed { last_used_date: Some(at), service_name: service.into(), region: region.into() }
    }
}

/// What a store keeps for an access key. The secret is sealed ([`Sealer`]), bound to the key id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKeyRecord {
    /// The key id.
    pub id: AccessKeyId,
    /// Its status; new keys are `Active`.
    pub status: AccessKeyStatus,
    /// When it was created.
    pub created_at: UnixTime,
    /// Its last use.
    pub last_used: AccessKeyLastUsed,
    /// The secret access key, sealed with the key id as associated data.
    pub sealed_secret: SealedSecret,
}

/// A new access key: the record to store and the secret, which `CreateAccessKey` returns once and
/// nothing keeps in the clear.
#[derive(Debug)]
pub struct NewAccessKey {
    /// The record for the store.
    pub record: AccessKeyRecord,
    /// The secret access key, for the caller only.
    pub secret: SecretString,
}

impl AccessKeyRecord {
    /// Generates a key of `kind` created at `now`: id, secret, sealed secret; `Active`, never used.
    pub fn create<R: Rng + CryptoRng + ?Sized>(
        kind: AccessKeyKind,
        now: UnixTime,
        sealer: &Sealer,
        rng: &mut R,
    ) -> Result<NewAccessKey, CredentialError> {
        let id = AccessKeyId::generate(kind, rng);
        let secret = generate_secret_access_key(rng);
        let sealed_secret = sealer.seal(secret.expose().as_bytes(), id.as_str().as_bytes(), rng)?;
        let record = AccessKeyRecord {
            id,
            status: AccessKeyStatus::Active,
            created_at: now,
            last_used: AccessKeyLastUsed::never(),
            sealed_secret,
        };
        Ok(NewAccessKey { record, secret })
    }

    /// The secret access key, unsealed (for SigV4 verification).
    pub fn secret(&self, sealer: &Sealer) -> Result<SecretString, CredentialError> {
        Ok(sealer.open_string(&self.sealed_secret, self.id.as_str().as_bytes())?)
    }
}

/// Why a sealed secret could not be opened (or, rarely, sealed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// Too short, or a field out of place: not a sealed secret.
    #[error("sealed secret is malformed")]
    Malformed,
    /// A format version this build does not know.
    #[error("sealed secret has unknown format version {0}")]
    UnknownVersion(u8),
    /// Sealed with a key this sealer does not hold (retired, or never configured).
    #[error("sealed secret names unknown sealing key {0}")]
    UnknownKey(u32),
    /// Authentication failed: the blob was altered, or sealed for other associated data.
    #[error("sealed secret failed authentication")]
    Tampered,
    /// The plaintext was not UTF-8 where text was expected.
    #[error("sealed secret is not text")]
    NotText,
    /// Encryption failed (the plaintext exceeds the cipher's limit).
    #[error("sealing failed")]
    Encrypt,
}

impl From<SealError> for CredentialError {
    /// A secret the service cannot open is the service's fault: `ServiceFailure` (HTTP 500).
    fn from(e: SealError) -> CredentialError {
        CredentialError::service_failure(e.to_string())
    }
}

/// The sealed-secret format version this build writes.
const SEAL_VERSION: u8 = 1;
/// Bytes of XChaCha20 nonce.
const NONCE_LEN: usize = 24;
/// Bytes of Poly1305 tag.
const TAG_LEN: usize = 16;
/// Version, key id, nonce.
const HEADER_LEN: usize = 1 + 4 + NONCE_LEN;

/// A sealed secret: `version (1 byte) | key id (4 bytes, big-endian) | nonce (24 bytes) |
/// ciphertext and tag`. The version and key id are authenticated as associated data along with
/// the caller's context. `Display`/[`SealedSecret::parse`] give an unpadded base64 text form.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedSecret(Vec<u8>);

impl SealedSecret {
    /// The stored bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Wraps stored bytes; checked when opened.
    pub fn from_bytes(bytes: Vec<u8>) -> SealedSecret {
        SealedSecret(bytes)
    }

    /// Reads the base64 text form.
    pub fn parse(text: &str) -> Result<SealedSecret, SealError> {
        base64_decode(text).map(SealedSecret).ok_or(SealError::Malformed)
    }

    /// The id of the key that sealed it, if the header is whole.
    pub fn key_id(&self) -> Option<u32> {
        let bytes: [u8; 4] = self.0.get(1..5)?.try_into().ok()?;
        Some(u32::from_be_bytes(bytes))
    }
}

impl fmt::Display for SealedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&base64_encode(&self.0))
    }
}

impl fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedSecret").field("key_id", &self.key_id()).field("len", &self.0.len()).finish()
    }
}

/// A 256-bit sealing key with its id. Prints redacted; zeroed on drop.
#[derive(Clone)]
pub struct SealingKey {
    id: u32,
    key: Zeroizing<[u8; 32]>,
}

impl SealingKey {
    /// A key from its bytes (from a secrets manager or a key file).
    pub fn new(id: u32, key: [u8; 32]) -> SealingKey {
        SealingKey { id, key: Zeroizing::new(key) }
    }

    /// A fresh random key.
    pub fn generate<R: Rng + CryptoRng + ?Sized>(id: u32, rng: &mut R) -> SealingKey {
        let mut key = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(key.as_mut());
        SealingKey { id, key }
    }

    /// The key's id.
    pub fn id(&self) -> u32 {
        self.id
    }
}

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealingKey").field("id", &self.id).field("key", &"** redacted **").finish()
    }
}

/// Seals secrets with its current key and opens them with any key it holds, so keys rotate: add
/// a new current key, keep the old ones until every record has been re-sealed
/// ([`Sealer::needs_reseal`]), then drop them.
#[derive(Clone, Debug)]
pub struct Sealer {
    current: u32,
    keys: BTreeMap<u32, SealingKey>,
}

impl Sealer {
    /// A sealer with one key, the current one.
    pub fn new(current: SealingKey) -> Sealer {
        let id = current.id;
        Sealer { current: id, keys: BTreeMap::from([(id, current)]) }
    }

    /// Adds a key that only opens (a retired key). A key with the current key's id is ignored.
    pub fn with_old_key(mut self, key: SealingKey) -> Sealer {
        if key.id != self.current {
            self.keys.insert(key.id, key);
        }
        self
    }

    /// Makes `key` the current key; the previous current key stays, for opening.
    pub fn rotate(mut self, key: SealingKey) -> Sealer {
        self.current = key.id;
        self.keys.insert(key.id, key);
        self
    }

    /// The id of the key new seals use.
    pub fn current_key_id(&self) -> u32 {
        self.current
    }

    /// Whether `sealed` was sealed with a key other than the current one (re-seal it).
    pub fn needs_reseal(&self, sealed: &SealedSecret) -> bool {
        sealed.key_id() != Some(self.current)
    }

    fn cipher(&self, key_id: u32) -> Result<XChaCha20Poly1305, SealError> {
        let key = self.keys.get(&key_id).ok_or(SealError::UnknownKey(key_id))?;
        Ok(XChaCha20Poly1305::new(Key::from_slice(key.key.as_slice())))
    }

    /// Seals `plaintext` with the current key and a random nonce. `context` (an access key id, an
    /// MFA serial number) is authenticated too: opening needs the same context, so a sealed
    /// secret cannot be moved to another record.
    pub fn seal<R: Rng + CryptoRng + ?Sized>(
        &self,
        plaintext: &[u8],
        context: &[u8],
        rng: &mut R,
    ) -> Result<SealedSecret, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
        out.push(SEAL_VERSION);
        out.extend_from_slice(&self.current.to_be_bytes());
        out.extend_from_slice(&nonce);
        let aad = associated_data(&out, context);
        let ciphertext = self
            .cipher(self.current)?
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad: &aad })
            .map_err(|_| SealError::Encrypt)?;
        out.extend_from_slice(&ciphertext);
        Ok(SealedSecret(out))
    }

    /// Opens `sealed` (with the `context` it was sealed with). A truncated or altered blob, an
    /// unknown version or key id, or another context is a [`SealError`], never a panic.
    pub fn open(&self, sealed: &SealedSecret, context: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealError> {
        let bytes = sealed.as_bytes();
        let (header, ciphertext) = bytes.split_at_checked(HEADER_LEN).ok_or(SealError::Malformed)?;
        if ciphertext.len() < TAG_LEN {
            return Err(SealError::Malformed);
        }
        let (version, rest) = header.split_first().ok_or(SealError::Malformed)?;
        if *version != SEAL_VERSION {
            return Err(SealError::UnknownVersion(*version));
        }
        let (key_id, nonce) = rest.split_at_checked(4).ok_or(SealError::Malformed)?;
        let key_id = u32::from_be_bytes(key_id.try_into().map_err(|_| SealError::Malformed)?);
        let aad = associated_data(header, context);
        let plaintext = self
            .cipher(key_id)?
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: &aad })
            .map_err(|_| SealError::Tampered)?;
        Ok(Zeroizing::new(plaintext))
    }

    /// [`Sealer::open`] for text secrets.
    pub fn open_string(&self, sealed: &SealedSecret, context: &[u8]) -> Result<SecretString, SealError> {
        let bytes = self.open(sealed, context)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| SealError::NotText)?;
        Ok(SecretString::new(text))
    }
}

/// The associated data: the header, then the caller's context (the header has a fixed length,
/// so the two cannot be confused).
fn associated_data(header: &[u8], context: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(header.len() + context.len());
    aad.extend_from_slice(header);
    aad.extend_from_slice(context);
    aad
}
