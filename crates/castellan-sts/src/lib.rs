//! Temporary sessions: `AssumeRole` and its siblings, the session tokens they issue, and the
//! session as a principal.
//!
//! - [`token`]: session tokens, sealed and opened by a [`SessionTokenService`].
//! - [`session`]: a session's principal and condition keys, session ARNs, `GetCallerIdentity`.
//! - [`validate`]: request validation with AWS's error codes and messages.
//! - [`assume_role`]: the `AssumeRole` decision over one or more accounts' stores.
//! - [`get_token`]: `GetSessionToken` and `GetFederationToken`.
//!
//! Time and randomness are injected: operations take a [`castellan_credentials::Clock`] and a
//! random number generator; nothing here reads the system clock.
//!
//! # Session tokens
//!
//! A token is self-contained, so that any server holding the key can verify a request without
//! a lookup. Its claims (format version, account, session kind, principal ARN and id, role ARN
//! and id, session name, the `ASIA...` access key id, the temporary secret access key, issue and
//! expiry times, session policies, session tags and transitive keys, source identity, MFA facts,
//! whether the session came from role chaining and the ARN the chain started from) are
//! serialized as JSON with one- and two-letter field names and sealed with
//! [`castellan_credentials::Sealer`] (XChaCha20-Poly1305, random 192-bit nonce) under the fixed
//! domain-separation context [`token::TOKEN_CONTEXT`]. The sealed bytes are
//! `version (1) | key id (4, big-endian) | nonce (24) | ciphertext | tag (16)`, the version and
//! key id authenticated with the ciphertext, and the token is their unpadded standard base64
//! (AWS's tokens are base64 too). Base64 decoding accepts exactly one text per byte string, so
//! any change to a token's text either fails to decode or fails authentication.
//!
//! Opening checks, in order: length and base64 (`Malformed`), the sealing version, the key id
//! (`UnknownKey` when the key has been dropped), authentication (`Tampered`), the claims' format,
//! then expiry (`Expired`), and, for a signed request, that the token belongs to the access key
//! id that signed it (`AccessKeyMismatch`). Expiry maps to `ExpiredToken` (400); every other
//! refusal maps to `InvalidClientTokenId` (403, "The security token included in the request is
//! invalid."), as AWS does not tell a forged token from one it can no longer read. Expiry is
//! checked only after authentication, so an attacker cannot learn anything from an altered
//! expiry.
//!
//! ```
//! use castellan_credentials::{SealingKey, UnixTime};
//! use castellan_sts::{SessionTokenService, StsErrorCode, TokenError};
//! # use castellan_sts::{SessionClaims, SessionKind};
//! # use castellan_credentials::{AccessKeyId, AccessKeyKind, MfaFacts, access_key::generate_secret_access_key};
//! # let mut rng = rand::rng();
//! # let claims = SessionClaims {
//! #     account: "111122223333".into(), kind: SessionKind::UserSession,
//! #     principal_arn: "arn:aws:iam::111122223333:user/alice".into(), principal_id: "AIDAEXAMPLE".into(),
//! #     role_arn: None, role_id: None, session_name: None,
//! #     access_key_id: AccessKeyId::generate(AccessKeyKind::Temporary, &mut rng),
//! #     secret_access_key: generate_secret_access_key(&mut rng),
//! #     issued_at: UnixTime::from_seconds(1_000), expires_at: UnixTime::from_seconds(4_600),
//! #     policy: None, policy_arns: vec![], tags: vec![], transitive_tag_keys: vec![], source_identity: None,
//! #     mfa: MfaFacts::absent(), chained: false, chain_origin: Some("arn:aws:iam::111122223333:user/alice".into()),
//! # };
//! let service = SessionTokenService::new(SealingKey::new(1, [7; 32]));
//! let token = service.issue(&claims, &mut rng)?;
//! let opened = service.open_for(token.as_str(), claims.access_key_id.as_str(), UnixTime::from_seconds(2_000))?;
//! assert_eq!(opened, claims);
//!
//! // Rotated out: refused as `InvalidClientTokenId`.
//! let service = service.rotate(SealingKey::new(2, [8; 32])).drop_key(1);
//! let refused = service.open(token.as_str(), UnixTime::from_seconds(2_000)).unwrap_err();
//! assert_eq!(refused, TokenError::UnknownKey(1));
//! assert_eq!(refused.to_sts_error().code, StsErrorCode::InvalidClientTokenId);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Key rotation
//!
//! [`SessionTokenService`] seals with its current key and opens with the current key and every
//! retired key it holds. To rotate: [`SessionTokenService::rotate`] to a new key (the old one is
//! retired and keeps opening live sessions); after the longest session lifetime (36 hours) has
//! passed, [`SessionTokenService::drop_key`] the old one; tokens sealed with it are then refused
//! as `InvalidClientTokenId`.
//!
//! # Choices where AWS is silent
//!
//! - Token content and format are Castellan's own (AWS's are opaque); their size stays well
//!   under 4 KB for sessions with a full inline policy.
//! - The packing measure behind `PackedPolicySize` ([`validate::packed_bytes`]): the inline
//!   policy's characters other than whitespace, plus the managed policy ARNs' lengths, plus
//!   every session tag's key and value lengths (passed and inherited), plus the transitive tag
//!   keys' lengths, against a limit of [`validate::PACKED_LIMIT`] (4,096) bytes; the response
//!   reports the percentage rounded up, and above 100 the request fails with
//!   `PackedPolicyTooLarge`. AWS compresses and does not publish its format.
//! - A role session's principal tags are the role's tags as they are when the session is used,
//!   overridden by the session's tags (keys compared without regard to case); the token carries
//!   only the session's own tags.
//! - A role session made from a session that had MFA keeps that session's MFA facts (present,
//!   and the original authentication time, so `aws:MultiFactorAuthAge` keeps growing); a code
//!   passed in the request sets them to the request's time.
//! - Changing the source identity along a chain is `AccessDenied` (AWS documents that the
//!   attempt is denied); passing the same value again is accepted. `sts:SetSourceIdentity` is
//!   required whenever the new session has a source identity, set now or carried along a chain.
//!   `sts:SourceIdentity` in the request context is the new session's source identity.
//! - `SourceIdentity` is 2–64 characters as AWS's guide says, though the model's shape allows
//!   256.
//! - Transitive tag keys that name no passed tag, duplicate tag keys, and tags that reuse an
//!   inherited transitive key are `ValidationError` with Castellan's wording.
//! - A role that does not exist, or whose ARN differs from the requested one (another path), is
//!   refused as `AccessDenied` exactly like a forbidden one.
//! - `GetFederationToken` by a user needs an identity-policy allow of `sts:GetFederationToken`
//!   on `arn:aws:sts::ACCT:federated-user/NAME` (and `sts:TagSession` with tags); the root user
//!   needs none. Sessions record the user they descend from (`chain_origin`), whose identity
//!   policies a federated user's permissions intersect.
//! - `GetSessionToken` and `GetFederationToken` called with session credentials answer
//!   `AccessDenied` "Cannot call OPERATION with session credentials".
//! - Only the `aws` partition is issued for root and federated-user ARNs; role sessions take
//!   the partition of the role's ARN.
//! - `ExpiredToken` is answered with HTTP 400, as the STS model's `ExpiredTokenException` says
//!   (to verify against the live service, which may answer 403 for signed requests).
//! - A session whose user or role has been deleted (or deleted and created again, with a new
//!   unique id) is refused as `InvalidClientTokenId`.

pub mod assume_role;
mod error;
pub mod get_token;
pub mod session;
pub mod token;
pub mod validate;

pub use assume_role::{
    Accounts, AssumeRoleRequest, AssumeRoleResponse, AssumedRoleUser, Caller, Credentials, MfaVerifier, Sts,
};
pub use error::{StsError, StsErrorCode};
pub use get_token::{FederatedUser, GetFederationTokenRequest, GetSessionTokenRequest, TokenResponse};
pub use session::{CallerIdentity, caller_identity};
pub use token::{SessionClaims, SessionKind, SessionToken, SessionTokenService, TokenError};
