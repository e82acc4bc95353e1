//! Temporary sessions: `AssumeRole` and its siblings, the session tokens they issue, and the
//! session as a principal.
//!
//! - [`token`]: session tokens, sealed and opened by a [`SessionTokenService`].
//! - [`session`]: a session's principal and condition keys, session ARNs, `GetCallerIdentity`.
//! - [`validate`]: request validation with AWS's error codes and messages.
//! - [`assume_role`]: the `AssumeRole` decision over one or more accounts' stores.
//! - [`get_token`]: `GetSessionToken` and `GetFederationToken`.
//! - [`web_identity`]: `AssumeRoleWithWebIdentity` (OpenID Connect ID tokens, RS256).
//! - [`decode`]: `DecodeAuthorizationMessage` and the encoding of denials it reads.
//! - [`identity`]: `GetCallerIdentity`, `GetAccessKeyInfo`, temporary key ids.
//! - [`mfa`]: MFA codes checked against the store's virtual devices ([`StoreMfaVerifier`]).
//! - [`guardrails`]: the SCP and RCP paths the layer above supplies ([`Guardrails`]).
//!
//! Time and randomness are injected: operations take a [`castellan_credentials::Clock`] and a
//! random number generator; nothing here reads the system clock or the network.
//!
//! # Where the data comes from
//!
//! Everything is read from the accounts' stores ([`Accounts`], implemented by
//! `castellan_store::Directory`): users, roles and their policy layers (identity policies,
//! permissions boundaries, a role's trust policy and longest session, all from one snapshot of
//! the account, so that a decision never mixes two states), managed session policies (customer
//! managed in the role's account, or AWS managed), virtual MFA devices (looked up by serial in
//! the owner's account, enabled for that user or root, the new device state saved after every
//! check), access keys (`GetAccessKeyInfo`) and OIDC providers (`AssumeRoleWithWebIdentity`).
//! A user, account or role that does not exist refuses its callers as `InvalidClientTokenId`.
//! SCPs and RCPs come from an optional [`Guardrails`] implementation, since this crate does not
//! depend on `castellan-org`: `AssumeRole` is bound by the SCPs of the caller's account and the
//! RCPs of the role's account, `AssumeRoleWithWebIdentity` by the role account's RCPs,
//! `GetFederationToken`, `DecodeAuthorizationMessage` and `GetAccessKeyInfo` by the caller's
//! SCPs.
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
//! - MFA codes (`SerialNumber`, `TokenCode`) are checked against the devices of the IAM user or
//!   root user making the call; for a role session, of the user (or root) its role chain started
//!   from. The device must be in that identity's account. Codes are accepted within one 30-second
//!   step of the clock and only once; a failure is counted on the device but locks nothing out.
//!   Two concurrent requests with the same code may both pass: the store's device update is not a
//!   compare-and-swap.
//! - Guardrails: SCPs are asked for with the caller's `aws:PrincipalArn` (the role's ARN for a
//!   role session), so that an implementation can exempt service-linked roles and the
//!   management account by returning `None`. `GetSessionToken` and `GetCallerIdentity` are not
//!   subject to them.
//! - `AssumeRoleWithWebIdentity`: the provider is the IAM OIDC provider of the role's account
//!   whose URL equals the token's `iss` without `https://` and trailing `/`; its signing keys
//!   must be registered with it (a JSON Web Key Set), as Castellan fetches nothing. The header's
//!   `kid` selects the key; a token without `kid` is checked with the set's only RSA signing key
//!   and refused when there are several. Keys under 2,048 bits, or marked for another `use` or
//!   `alg`, are ignored. `exp` is required; the token is expired from `exp` on (no leeway), and
//!   a `nbf` or `iat` later than the clock refuses it. `sub` must be 6–255 characters (the
//!   model's `SubjectFromWebIdentityToken`). Signature comes before times, so an altered token
//!   is `InvalidIdentityToken` even when its `exp` has passed; an authentic expired one is
//!   `ExpiredTokenException` (400). A trust policy that does not allow is `AccessDenied` "Not
//!   authorized to perform sts:AssumeRoleWithWebIdentity" (what AWS answers when a trust
//!   condition on a claim fails); `IDPRejectedClaim` is not used. Condition keys:
//!   `HOST/PATH:sub`, `HOST/PATH:aud` (the audience that matched a client id), `HOST/PATH:amr`
//!   (multivalued), `aws:FederatedProvider` (the provider's ARN), `sts:RoleSessionName`,
//!   `sts:DurationSeconds`, `aws:ResourceTag/*` of the role. `ProviderId` (OAuth 2.0 providers)
//!   is refused as `ValidationError`.
//! - Authorization messages: sealed with the session token keys under their own context, they
//!   open only for callers of the denied principal's account whose identity policies allow
//!   `sts:DecodeAuthorizationMessage` (root needs none), and live as long as the key that sealed
//!   them. The JSON follows the shape of decoded AWS messages (`{"items": [...]}` lists,
//!   booleans for `allowed` and `explicitDeny`); matched statements show the policy, its layer,
//!   the `Sid` (or 1-based position) and `ALLOW`/`DENY`; failures name the condition keys the
//!   request lacked. Only the condition keys the encoder names are shown.
//! - `GetAccessKeyInfo` needs `sts:GetAccessKeyInfo` allowed by the caller's identity policies
//!   (root needs none). A temporary key id carries its account (first 40 of its 80 bits) so that
//!   it is answered without a lookup; a long-term key is looked up among the accounts; an
//!   unknown or deleted key is `ValidationError`.
//! - `GetCallerIdentity` needs no permission, but refuses callers that no longer exist and
//!   expired sessions, as any signed request would be.

pub mod assume_role;
pub mod decode;
mod error;
pub mod get_token;
pub mod guardrails;
pub mod identity;
mod jwt;
pub mod mfa;
pub mod session;
pub mod token;
pub mod validate;
pub mod web_identity;

pub use assume_role::{
    Accounts, AssumeRoleRequest, AssumeRoleResponse, AssumedRoleUser, Caller, Credentials, Sts, Subject, resolve_caller,
};
pub use decode::{AuthorizationMessage, MessageCondition, MessageStatement};
pub use error::{StsError, StsErrorCode};
pub use get_token::{FederatedUser, GetFederationTokenRequest, GetSessionTokenRequest, TokenResponse};
pub use guardrails::{GuardLevel, Guardrails};
pub use mfa::{MfaVerifier, StoreMfaVerifier};
pub use session::{CallerIdentity, caller_identity};
pub use token::{SessionClaims, SessionKind, SessionToken, SessionTokenService, TokenError};
pub use web_identity::{AssumeRoleWithWebIdentityRequest, AssumeRoleWithWebIdentityResponse};
