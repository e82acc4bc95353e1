//! Session tokens: the claims of a temporary session, serialized compactly and sealed with
//! XChaCha20-Poly1305 under a rotating server key, as printable base64.
//!
//! A token is self-contained: whoever holds the key opens it and learns everything about the
//! session (its principal, policies, tags, MFA facts and the temporary secret access key) without
//! a lookup. Whoever does not hold the key learns nothing and can change nothing: every bit is
//! authenticated, and the text has exactly one accepted form.

use std::collections::BTreeMap;
use std::fmt;

use castellan_credentials::{
    AccessKeyId, MfaFacts, SealError, SealedSecret, Sealer, SealingKey, SecretString, UnixTime,
};
use castellan_store::Tag;
use rand::{CryptoRng, Rng};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use crate::error::{StsError, StsErrorCode};

/// The claims format version this build writes and reads.
pub const TOKEN_FORMAT_VERSION: u8 = 1;

/// The domain-separation context authenticated with every token, so that nothing else sealed
/// with the same key (an access key's secret, an MFA seed) can pass for a token, or back.
pub const TOKEN_CONTEXT: &[u8] = b"castellan-sts/session-token/v1";

/// The longest token text [`SessionTokenService::open`] reads; anything longer is refused
/// before decoding.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// What kind of session a token stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SessionKind {
    /// A role session (`AssumeRole`).
    #[serde(rename = "R")]
    AssumedRole,
    /// A `GetFederationToken` session.
    #[serde(rename = "F")]
    FederatedUser,
    /// A `GetSessionToken` session of an IAM user.
    #[serde(rename = "U")]
    UserSession,
    /// A `GetSessionToken` session of the root user.
    #[serde(rename = "A")]
    RootSession,
}

/// Everything a session token says about its session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionClaims {
    /// The 12-digit account of the session's principal.
    pub account: String,
    /// The session's kind.
    pub kind: SessionKind,
    /// The session's ARN: `arn:aws:sts::ACCT:assumed-role/ROLE/SESSION`,
    /// `arn:aws:sts::ACCT:federated-user/NAME`, or the user's or root's own ARN.
    pub principal_arn: String,
    /// The caller id `GetCallerIdentity` shows: `AROA...:SESSION`, `ACCT:NAME`, the user's
    /// `AIDA...` id, or the account id for the root user.
    pub principal_id: String,
    /// For a role session, the role's ARN with its path.
    pub role_arn: Option<String>,
    /// For a role session, the role's unique id (`AROA...`).
    pub role_id: Option<String>,
    /// The role session name, or the federated user's name.
    pub session_name: Option<String>,
    /// The temporary access key id (`ASIA...`) the token is bound to.
    pub access_key_id: AccessKeyId,
    /// The temporary secret access key.
    pub secret_access_key: SecretString,
    /// When the session was issued (`aws:TokenIssueTime`).
    pub issued_at: UnixTime,
    /// When the session expires.
    pub expires_at: UnixTime,
    /// The inline session policy, as passed.
    pub policy: Option<String>,
    /// The managed session policies' ARNs.
    pub policy_arns: Vec<String>,
    /// The session tags (passed and inherited transitive tags; role or user tags are not
    /// copied: they are read when the session is used).
    pub tags: Vec<Tag>,
    /// The keys of the session tags that pass on to the next role in a chain.
    pub transitive_tag_keys: Vec<String>,
    /// The source identity, once set (kept along a role chain).
    pub source_identity: Option<String>,
    /// Whether and when MFA authenticated the session.
    pub mfa: MfaFacts,
    /// Whether the session was made from another role session (role chaining).
    pub chained: bool,
    /// The ARN of the long-term identity the session descends from: the user who called
    /// `GetSessionToken` or `GetFederationToken`, or who called `AssumeRole` at the start of a
    /// role chain (for a federated user, whose identity policies the session intersects).
    pub chain_origin: Option<String>,
}

impl SessionClaims {
    /// Whether the session has expired at `now` (it is valid strictly before `expires_at`).
    pub fn is_expired(&self, now: UnixTime) -> bool {
        now >= self.expires_at
    }
}

/// The claims as serialized: short field names, times as whole seconds.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    v: u8,
    a: String,
    k: SessionKind,
    p: String,
    i: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ra: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    n: Option<String>,
    ak: String,
    sk: String,
    it: i64,
    ex: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    po: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pa: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    t: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    tt: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    si: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    m: Option<i64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    c: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    o: Option<String>,
}

impl Drop for Wire {
    fn drop(&mut self) {
        self.sk.zeroize();
    }
}

impl Wire {
    fn from_claims(c: &SessionClaims) -> Wire {
        Wire {
            v: TOKEN_FORMAT_VERSION,
            a: c.account.clone(),
            k: c.kind,
            p: c.principal_arn.clone(),
            i: c.principal_id.clone(),
            ra: c.role_arn.clone(),
            ri: c.role_id.clone(),
            n: c.session_name.clone(),
            ak: c.access_key_id.as_str().to_owned(),
            sk: c.secret_access_key.expose().to_owned(),
            it: c.issued_at.seconds,
            ex: c.expires_at.seconds,
            po: c.policy.clone(),
            pa: c.policy_arns.clone(),
            t: c.tags.iter().map(|t| (t.key.clone(), t.value.clone())).collect(),
            tt: c.transitive_tag_keys.clone(),
            si: c.source_identity.clone(),
            m: c.mfa.present.then_some(c.mfa.authenticated_at.seconds),
            c: c.chained,
            o: c.chain_origin.clone(),
        }
    }

    fn to_claims(&self) -> Result<SessionClaims, TokenError> {
        let access_key_id = AccessKeyId::parse(&self.ak).map_err(|_| TokenError::Malformed)?;
        Ok(SessionClaims {
            account: self.a.clone(),
            kind: self.k,
            principal_arn: self.p.clone(),
            principal_id: self.i.clone(),
            role_arn: self.ra.clone(),
            role_id: self.ri.clone(),
            session_name: self.n.clone(),
            access_key_id,
            secret_access_key: SecretString::new(self.sk.as_str()),
            issued_at: UnixTime::from_seconds(self.it),
            expires_at: UnixTime::from_seconds(self.ex),
            policy: self.po.clone(),
            policy_arns: self.pa.clone(),
            tags: self.t.iter().map(|(k, v)| Tag::new(k.as_str(), v.as_str())).collect(),
            transitive_tag_keys: self.tt.clone(),
            source_identity: self.si.clone(),
            mfa: match self.m {
                Some(at) => MfaFacts::authenticated(UnixTime::from_seconds(at)),
                None => MfaFacts::absent(),
            },
            chained: self.c,
            chain_origin: self.o.clone(),
        })
    }
}

/// A session token as handed to the caller (`Credentials.SessionToken`). It is a bearer
/// credential, so `Debug` prints it redacted; `Display` and [`SessionToken::as_str`] give the
/// text.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    /// The token text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(** redacted **)")
    }
}

/// Why a presented session token is refused. Each maps to AWS's code through
/// [`TokenError::to_sts_error`]: [`TokenError::Expired`] to `ExpiredToken`, every other to
/// `InvalidClientTokenId`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Not base64, too short or too long, or claims that do not read: not a token.
    #[error("session token is malformed")]
    Malformed,
    /// A sealing or claims format version this build does not know.
    #[error("session token has unsupported format version {0}")]
    UnsupportedVersion(u8),
    /// Sealed with a key this service does not hold (rotated out, or never configured).
    #[error("session token was sealed with unknown key {0}")]
    UnknownKey(u32),
    /// Authentication failed: the token was altered or truncated inside its ciphertext.
    #[error("session token failed authentication")]
    Tampered,
    /// Authentic, but past its expiry.
    #[error("session token expired at {} seconds", expired_at.seconds)]
    Expired {
        /// When it expired.
        expired_at: UnixTime,
    },
    /// Authentic, but presented with another access key id than the one it was issued with.
    #[error("session token does not belong to access key `{0}`")]
    AccessKeyMismatch(String),
}

impl TokenError {
    /// The error AWS answers with: `ExpiredToken` (400) for an expired token,
    /// `InvalidClientTokenId` (403) for any other (AWS does not tell a forged token from one it
    /// can no longer open).
    pub fn to_sts_error(&self) -> StsError {
        match self {
            TokenError::Expired { .. } => {
                StsError::new(StsErrorCode::ExpiredToken, "The security token included in the request is expired")
            }
            _ => StsError::new(
                StsErrorCode::InvalidClientTokenId,
                "The security token included in the request is invalid.",
            ),
        }
    }
}

impl From<TokenError> for StsError {
    fn from(e: TokenError) -> StsError {
        e.to_sts_error()
    }
}

/// Issues and opens session tokens. It seals with its current key and opens with the current
/// key and every retired key it still holds, so keys rotate without cutting off live sessions:
/// [`SessionTokenService::rotate`] to a new key, and once the longest session sealed with the
/// old key has expired (36 hours at most), [`SessionTokenService::drop_key`] it.
#[derive(Debug, Clone)]
pub struct SessionTokenService {
    current: SealingKey,
    retired: BTreeMap<u32, SealingKey>,
    sealer: Sealer,
}

impl SessionTokenService {
    /// A service with one key, the current one.
    pub fn new(current: SealingKey) -> SessionTokenService {
        let sealer = Sealer::new(current.clone());
        SessionTokenService { current, retired: BTreeMap::new(), sealer }
    }

    fn rebuild(mut self) -> SessionTokenService {
        self.retired.remove(&self.current.id());
        self.sealer = self.retired.values().fold(Sealer::new(self.current.clone()), |s, k| s.with_old_key(k.clone()));
        self
    }

    /// Adds a retired key: it opens tokens, never seals them.
    pub fn with_retired_key(mut self, key: SealingKey) -> SessionTokenService {
        self.retired.insert(key.id(), key);
        self.rebuild()
    }

    /// Makes `key` the current key; the previous current key is retired (still opens).
    pub fn rotate(mut self, key: SealingKey) -> SessionTokenService {
        let old = std::mem::replace(&mut self.current, key);
        self.retired.insert(old.id(), old);
        self.rebuild()
    }

    /// Forgets the retired key `id`: tokens sealed with it no longer open. The current key
    /// cannot be dropped (rotate first).
    pub fn drop_key(mut self, id: u32) -> SessionTokenService {
        self.retired.remove(&id);
        self.rebuild()
    }

    /// The id of the key new tokens are sealed with.
    pub fn current_key_id(&self) -> u32 {
        self.current.id()
    }

    /// The ids of the retired keys still held.
    pub fn retired_key_ids(&self) -> Vec<u32> {
        self.retired.keys().copied().collect()
    }

    /// Seals `claims` into a token with the current key and a fresh random nonce.
    pub fn issue<R: Rng + CryptoRng + ?Sized>(
        &self,
        claims: &SessionClaims,
        rng: &mut R,
    ) -> Result<SessionToken, StsError> {
        let wire = Wire::from_claims(claims);
        let bytes = Zeroizing::new(serde_json::to_vec(&wire).map_err(|_| service_failure())?);
        let sealed = self.sealer.seal(&bytes, TOKEN_CONTEXT, rng).map_err(|_| service_failure())?;
        Ok(SessionToken(sealed.to_string()))
    }

    /// Opens `token` at `now`: checks its format, key, authenticity, then its expiry. Claims are
    /// returned only for an authentic token that has not expired.
    pub fn open(&self, token: &str, now: UnixTime) -> Result<SessionClaims, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Malformed);
        }
        let sealed = SealedSecret::parse(token).map_err(|_| TokenError::Malformed)?;
        let plaintext = self.sealer.open(&sealed, TOKEN_CONTEXT).map_err(|e| match e {
            SealError::UnknownVersion(v) => TokenError::UnsupportedVersion(v),
            SealError::UnknownKey(id) => TokenError::UnknownKey(id),
            SealError::Tampered => TokenError::Tampered,
            _ => TokenError::Malformed,
        })?;
        let wire: Wire = serde_json::from_slice(&plaintext).map_err(|_| TokenError::Malformed)?;
        if wire.v != TOKEN_FORMAT_VERSION {
            return Err(TokenError::UnsupportedVersion(wire.v));
        }
        let claims = wire.to_claims()?;
        if claims.is_expired(now) {
            return Err(TokenError::Expired { expired_at: claims.expires_at });
        }
        Ok(claims)
    }

    /// Seals `plaintext` with the current key under `context` (another domain than tokens':
    /// authorization messages use their own).
    pub(crate) fn seal_other<R: Rng + CryptoRng + ?Sized>(
        &self,
        plaintext: &[u8],
        context: &[u8],
        rng: &mut R,
    ) -> Option<String> {
        self.sealer.seal(plaintext, context, rng).ok().map(|s| s.to_string())
    }

    /// Opens what [`SessionTokenService::seal_other`] sealed under `context`, with any key held.
    pub(crate) fn open_other(&self, text: &str, context: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        let sealed = SealedSecret::parse(text).ok()?;
        self.sealer.open(&sealed, context).ok()
    }

    /// [`SessionTokenService::open`] for a request signed with `access_key_id`: the token must
    /// have been issued with that key id.
    pub fn open_for(&self, token: &str, access_key_id: &str, now: UnixTime) -> Result<SessionClaims, TokenError> {
        let claims = self.open(token, now)?;
        if claims.access_key_id.as_str() != access_key_id {
            return Err(TokenError::AccessKeyMismatch(access_key_id.to_owned()));
        }
        Ok(claims)
    }
}

fn service_failure() -> StsError {
    StsError::new(StsErrorCode::ServiceFailure, "the session token could not be sealed")
}

#[cfg(test)]
mod tests;
