//! Unit tests of the `token` module: round trip, refusals with distinct errors, rotation.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use castellan_credentials::access_key::generate_secret_access_key;
use castellan_credentials::{AccessKeyId, AccessKeyKind, MfaFacts, SealedSecret, SealingKey, UnixTime};
use castellan_store::Tag;
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::*;

const T0: i64 = 1_800_000_000;

fn rng() -> StdRng {
    StdRng::seed_from_u64(7)
}

fn claims(rng: &mut StdRng) -> SessionClaims {
    SessionClaims {
        account: "111122223333".to_owned(),
        kind: SessionKind::AssumedRole,
        principal_arn: "arn:aws:sts::111122223333:assumed-role/Admin/alice".to_owned(),
        principal_id: "AROAEXAMPLEEXAMPLE123:alice".to_owned(),
        role_arn: Some("arn:aws:iam::111122223333:role/ops/Admin".to_owned()),
        role_id: Some("AROAEXAMPLEEXAMPLE123".to_owned()),
        session_name: Some("alice".to_owned()),
        access_key_id: AccessKeyId::generate(AccessKeyKind::Temporary, rng),
        secret_access_key: generate_secret_access_key(rng),
        issued_at: UnixTime::from_seconds(T0),
        expires_at: UnixTime::from_seconds(T0 + 3600),
        policy: Some(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#.to_owned(),
        ),
        policy_arns: vec!["arn:aws:iam::111122223333:policy/Read".to_owned()],
        tags: vec![Tag::new("Project", "blue"), Tag::new("CostCenter", "")],
        transitive_tag_keys: vec!["Project".to_owned()],
        source_identity: Some("alice@example.com".to_owned()),
        mfa: MfaFacts::authenticated(UnixTime::from_seconds(T0 - 60)),
        chained: true,
        chain_origin: Some("arn:aws:iam::111122223333:user/alice".to_owned()),
    }
}

fn service(id: u32, seed: u8) -> SessionTokenService {
    SessionTokenService::new(SealingKey::new(id, [seed; 32]))
}

#[test]
fn round_trip_keeps_every_claim() {
    let mut rng = rng();
    let c = claims(&mut rng);
    let svc = service(1, 1);
    let token = svc.issue(&c, &mut rng).unwrap();
    let opened = svc.open(token.as_str(), UnixTime::from_seconds(T0)).unwrap();
    assert_eq!(opened, c);
    assert_eq!(opened.secret_access_key.expose(), c.secret_access_key.expose());
}

#[test]
fn token_is_printable_base64_and_hides_the_secret() {
    let mut rng = rng();
    let c = claims(&mut rng);
    let token = service(1, 1).issue(&c, &mut rng).unwrap();
    assert!(token.as_str().bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/'));
    assert!(!token.as_str().contains(c.access_key_id.as_str()));
    assert_eq!(format!("{token:?}"), "SessionToken(** redacted **)");
    // Two tokens of the same claims differ (fresh nonce).
    let again = service(1, 1).issue(&c, &mut rng).unwrap();
    assert_ne!(token, again);
}

#[test]
fn expired_token_is_refused_as_expired_token() {
    let mut rng = rng();
    let c = claims(&mut rng);
    let svc = service(1, 1);
    let token = svc.issue(&c, &mut rng).unwrap();
    // Valid one second before expiry, refused at it.
    assert!(svc.open(token.as_str(), UnixTime::from_seconds(T0 + 3599)).is_ok());
    let err = svc.open(token.as_str(), UnixTime::from_seconds(T0 + 3600)).unwrap_err();
    assert_eq!(err, TokenError::Expired { expired_at: UnixTime::from_seconds(T0 + 3600) });
    let sts = err.to_sts_error();
    assert_eq!(sts.code.as_str(), "ExpiredToken");
    assert_eq!(sts.status, 400);
}

#[test]
fn tampered_token_is_refused() {
    let mut rng = rng();
    let c = claims(&mut rng);
    let svc = service(1, 1);
    let token = svc.issue(&c, &mut rng).unwrap();
    let mut bytes = SealedSecret::parse(token.as_str()).unwrap().as_bytes().to_vec();
    let last = bytes.len() - 20;
    bytes[last] ^= 0x01;
    let altered = SealedSecret::from_bytes(bytes).to_string();
    let err = svc.open(&altered, UnixTime::from_seconds(T0)).unwrap_err();
    assert_eq!(err, TokenError::Tampered);
    assert_eq!(err.to_sts_error().code.as_str(), "InvalidClientTokenId");
    assert_eq!(err.to_sts_error().status, 403);
}

#[test]
fn truncated_token_is_refused() {
    let mut rng = rng();
    let c = claims(&mut rng);
    let svc = service(1, 1);
    let token = svc.issue(&c, &mut rng).unwrap();
    let text = token.as_str();
    for cut in [0, 1, 10, 38, 39, 40, 60, text.len() / 2, text.len() - 4, text.len() - 1] {
        let err = svc.open(&text[..cut], UnixTime::from_seconds(T0)).unwrap_err();
        assert!(matches!(err, TokenError::Malformed | TokenError::Tampered), "cut at {cut}: {err:?}");
        assert_eq!(err.to_sts_error().code.as_str(), "InvalidClientTokenId");
    }
}

#[test]
fn garbage_and_oversized_tokens_are_malformed() {
    let svc = service(1, 1);
    assert_eq!(svc.open("not a token!", UnixTime::from_seconds(T0)).unwrap_err(), TokenError::Malformed);
    let huge = "A".repeat(MAX_TOKEN_LEN + 4);
    assert_eq!(svc.open(&huge, UnixTime::from_seconds(T0)).unwrap_err(), TokenError::Malformed);
}

#[test]
fn token_of_another_key_is_unknown_key() {
    let mut rng = rng();
    let c = claims(&mut rng);
    let token = service(9, 9).issue(&c, &mut rng).unwrap();
    let err = service(1, 1).open(token.as_str(), UnixTime::from_seconds(T0)).unwrap_err();
    assert_eq!(err, TokenError::UnknownKey(9));
    // Same key id, other key bytes: authentication fails.
    let err = service(9, 8).open(token.as_str(), UnixTime::from_seconds(T0)).unwrap_err();
    assert_eq!(err, TokenError::Tampered);
}

#[test]
fn rotation_keeps_old_tokens_until_the_key_is_dropped() {
    let mut rng = rng();
    let c = claims(&mut rng);
    let svc = service(1, 1);
    let old = svc.issue(&c, &mut rng).unwrap();
    let svc = svc.rotate(SealingKey::new(2, [2; 32]));
    assert_eq!(svc.current_key_id(), 2);
    assert_eq!(svc.retired_key_ids(), vec![1]);
    let new = svc.issue(&c, &mut rng).unwrap();
    let now = UnixTime::from_seconds(T0);
    assert_eq!(svc.open(old.as_str(), now).unwrap(), c);
    assert_eq!(svc.open(new.as_str(), now).unwrap(), c);
    assert_eq!(SealedSecret::parse(new.as_str()).unwrap().key_id(), Some(2));
    let svc = svc.drop_key(1);
    assert_eq!(svc.open(old.as_str(), now).unwrap_err(), TokenError::UnknownKey(1));
    assert_eq!(svc.open(new.as_str(), now).unwrap(), c);
    // The current key cannot be dropped.
    let svc = svc.drop_key(2);
    assert_eq!(svc.open(new.as_str(), now).unwrap(), c);
}

#[test]
fn retired_key_opens_but_never_seals() {
    let mut rng = rng();
    let c = claims(&mut rng);
    let old = service(1, 1).issue(&c, &mut rng).unwrap();
    let svc = service(2, 2).with_retired_key(SealingKey::new(1, [1; 32]));
    assert!(svc.open(old.as_str(), UnixTime::from_seconds(T0)).is_ok());
    let fresh = svc.issue(&c, &mut rng).unwrap();
    assert_eq!(SealedSecret::parse(fresh.as_str()).unwrap().key_id(), Some(2));
}

#[test]
fn token_is_bound_to_its_access_key_id() {
    let mut rng = rng();
    let c = claims(&mut rng);
    let svc = service(1, 1);
    let token = svc.issue(&c, &mut rng).unwrap();
    let now = UnixTime::from_seconds(T0);
    assert!(svc.open_for(token.as_str(), c.access_key_id.as_str(), now).is_ok());
    let other = AccessKeyId::generate(AccessKeyKind::Temporary, &mut rng);
    let err = svc.open_for(token.as_str(), other.as_str(), now).unwrap_err();
    assert_eq!(err, TokenError::AccessKeyMismatch(other.as_str().to_owned()));
    assert_eq!(err.to_sts_error().code.as_str(), "InvalidClientTokenId");
}

#[test]
fn something_else_sealed_with_the_same_key_is_not_a_token() {
    // Domain separation: a secret sealed for an access key record does not open as a token.
    let mut rng = rng();
    let sealer = castellan_credentials::Sealer::new(SealingKey::new(1, [1; 32]));
    let sealed = sealer.seal(b"{\"v\":1}", b"ASIAEXAMPLEEXAMPLE12", &mut rng).unwrap();
    let err = service(1, 1).open(&sealed.to_string(), UnixTime::from_seconds(T0)).unwrap_err();
    assert_eq!(err, TokenError::Tampered);
}

#[test]
fn minimal_claims_round_trip() {
    let mut rng = rng();
    let c = SessionClaims {
        account: "111122223333".to_owned(),
        kind: SessionKind::RootSession,
        principal_arn: "arn:aws:iam::111122223333:root".to_owned(),
        principal_id: "111122223333".to_owned(),
        role_arn: None,
        role_id: None,
        session_name: None,
        access_key_id: AccessKeyId::generate(AccessKeyKind::Temporary, &mut rng),
        secret_access_key: generate_secret_access_key(&mut rng),
        issued_at: UnixTime::from_seconds(T0),
        expires_at: UnixTime::from_seconds(T0 + 900),
        policy: None,
        policy_arns: Vec::new(),
        tags: Vec::new(),
        transitive_tag_keys: Vec::new(),
        source_identity: None,
        mfa: MfaFacts::absent(),
        chained: false,
        chain_origin: None,
    };
    let svc = service(1, 1);
    let token = svc.issue(&c, &mut rng).unwrap();
    assert_eq!(svc.open(token.as_str(), UnixTime::from_seconds(T0)).unwrap(), c);
    assert!(token.as_str().len() < 400, "compact: {} chars", token.as_str().len());
}

#[test]
fn claims_debug_does_not_show_the_secret() {
    let mut rng = rng();
    let c = claims(&mut rng);
    let shown = format!("{c:?}");
    assert!(!shown.contains(c.secret_access_key.expose()));
    assert!(shown.contains("** redacted **"));
}
