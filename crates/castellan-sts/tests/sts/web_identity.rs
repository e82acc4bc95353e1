//! `AssumeRoleWithWebIdentity` with tokens signed here, by one RSA key per test binary.

use std::sync::OnceLock;

use castellan_store::NewOidcProvider;
use castellan_sts::{AssumeRoleWithWebIdentityRequest, AssumeRoleWithWebIdentityResponse, SessionKind};
use rsa::RsaPrivateKey;
use rsa::pkcs1v15::Pkcs1v15Sign;
use rsa::traits::PublicKeyParts;
use sha2::{Digest, Sha256};

use super::*;

const HOST: &str = "idp.example.com/tenant";
const CLIENT: &str = "castellan-app";

/// rand 0.9's generator, seen through the rand_core 0.6 traits the `rsa` crate asks for.
struct Rng06(StdRng);

impl rsa::rand_core::RngCore for Rng06 {
    fn next_u32(&mut self) -> u32 {
        rand::RngCore::next_u32(&mut self.0)
    }
    fn next_u64(&mut self) -> u64 {
        rand::RngCore::next_u64(&mut self.0)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        rand::RngCore::fill_bytes(&mut self.0, dest)
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        rand::RngCore::fill_bytes(&mut self.0, dest);
        Ok(())
    }
}

impl rsa::rand_core::CryptoRng for Rng06 {}

/// The identity provider's keys: the signing key and another the provider does not list.
fn keys() -> &'static [RsaPrivateKey; 2] {
    static KEYS: OnceLock<[RsaPrivateKey; 2]> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut rng = Rng06(StdRng::seed_from_u64(2048));
        [RsaPrivateKey::new(&mut rng, 2048).unwrap(), RsaPrivateKey::new(&mut rng, 2048).unwrap()]
    })
}

fn b64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

fn jwks(kid: &str) -> String {
    let k = keys()[0].to_public_key();
    serde_json::json!({"keys": [
        {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"},
        {"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": b64url(&k.n().to_bytes_be()), "e": b64url(&k.e().to_bytes_be())},
    ]})
    .to_string()
}

fn sign(header: &serde_json::Value, claims: &serde_json::Value, key: &RsaPrivateKey) -> String {
    let input = format!("{}.{}", b64url(header.to_string().as_bytes()), b64url(claims.to_string().as_bytes()));
    let sig = key.sign(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(input.as_bytes())).unwrap();
    format!("{input}.{}", b64url(&sig))
}

fn claims() -> serde_json::Value {
    serde_json::json!({"iss": format!("https://{HOST}"), "sub": "user-123456", "aud": CLIENT,
        "iat": T0 - 10, "nbf": T0 - 10, "exp": T0 + 300, "amr": ["pwd", "mfa"]})
}

fn token(claims: &serde_json::Value) -> String {
    sign(&serde_json::json!({"alg": "RS256", "kid": "k1", "typ": "JWT"}), claims, &keys()[0])
}

fn provider_arn() -> String {
    format!("arn:aws:iam::{A}:oidc-provider/{HOST}")
}

/// A world with the provider in A and a role trusting it for subject `sub` with MFA in `amr`.
fn world() -> (World, String) {
    let w = World::new();
    w.store(A)
        .create_oidc_provider(NewOidcProvider {
            url: format!("https://{HOST}"),
            client_ids: vec!["other".into(), CLIENT.into()],
            thumbprints: vec!["a".repeat(40)],
            signing_keys: Some(jwks("k1")),
            tags: vec![],
        })
        .unwrap();
    let trust = format!(
        r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Principal": {{"Federated": "{}"}},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {{"StringEquals": {{"{HOST}:sub": "user-123456", "{HOST}:aud": "{CLIENT}",
                "aws:FederatedProvider": "{}"}},
                "ForAnyValue:StringEquals": {{"{HOST}:amr": "mfa"}}}}}}]}}"#,
        provider_arn(),
        provider_arn()
    );
    let arn = w.role(A, "Web", &trust, None, vec![]);
    (w, arn)
}

fn wreq(role_arn: &str, token: String) -> AssumeRoleWithWebIdentityRequest {
    AssumeRoleWithWebIdentityRequest {
        role_arn: role_arn.to_owned(),
        role_session_name: "web".to_owned(),
        web_identity_token: token,
        ..Default::default()
    }
}

fn web(w: &mut World, r: &AssumeRoleWithWebIdentityRequest) -> Result<AssumeRoleWithWebIdentityResponse, StsError> {
    let sts = Sts { accounts: &w.accounts, tokens: &w.tokens, clock: &*w.clock, mfa: None, guardrails: None };
    sts.assume_role_with_web_identity(r, &Context::new(), &mut w.rng)
}

#[test]
fn a_valid_token_gets_a_role_session() {
    let (mut w, arn) = world();
    let r = web(&mut w, &wreq(&arn, token(&claims()))).unwrap();
    assert_eq!(r.assumed_role_user.arn, format!("arn:aws:sts::{A}:assumed-role/Web/web"));
    assert_eq!(r.subject_from_web_identity_token, "user-123456");
    assert_eq!(r.provider, format!("https://{HOST}"));
    assert_eq!(r.audience, CLIENT);
    assert_eq!(r.credentials.expiration, UnixTime::from_seconds(T0 + 3_600));
    assert_eq!(r.claims.kind, SessionKind::AssumedRole);
    assert_eq!(r.packed_policy_size, None);
    // The credentials work: the session can be presented like any role session.
    let session = w.session_of(&r.credentials);
    let sts = Sts { accounts: &w.accounts, tokens: &w.tokens, clock: &*w.clock, mfa: None, guardrails: None };
    assert_eq!(sts.get_caller_identity(&session).unwrap().arn, r.assumed_role_user.arn);
    // An audience list is accepted when one of them is a client id.
    let mut c = claims();
    c["aud"] = serde_json::json!(["nobody", CLIENT]);
    assert_eq!(web(&mut w, &wreq(&arn, token(&c))).unwrap().audience, CLIENT);
}

#[test]
fn the_trust_policy_reads_the_claims() {
    let (mut w, arn) = world();
    let mut c = claims();
    c["sub"] = serde_json::json!("someone-else");
    let e = web(&mut w, &wreq(&arn, token(&c))).unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        (StsErrorCode::AccessDenied, "Not authorized to perform sts:AssumeRoleWithWebIdentity")
    );
    let mut c = claims();
    c["amr"] = serde_json::json!("pwd");
    assert_eq!(code(web(&mut w, &wreq(&arn, token(&c)))), StsErrorCode::AccessDenied);
    // A trust policy that names the provider for another action, or an AWS principal, does not do.
    let other_action = format!(
        r#"{{"Version": "2012-10-17", "Statement": {{"Effect": "Allow", "Principal": {{"Federated": "{}"}}, "Action": "sts:AssumeRole"}}}}"#,
        provider_arn()
    );
    let r2 = w.role(A, "Other", &other_action, None, vec![]);
    assert_eq!(code(web(&mut w, &wreq(&r2, token(&claims())))), StsErrorCode::AccessDenied);
    let aws = w.role(A, "Aws", &trust(A, &["sts:AssumeRoleWithWebIdentity"], ""), None, vec![]);
    assert_eq!(code(web(&mut w, &wreq(&aws, token(&claims())))), StsErrorCode::AccessDenied);
    // A role that does not exist: the same refusal.
    let ghost = format!("arn:aws:iam::{A}:role/Ghost");
    assert_eq!(code(web(&mut w, &wreq(&ghost, token(&claims())))), StsErrorCode::AccessDenied);
}

#[test]
fn bad_tokens_are_invalid_identity_tokens() {
    let (mut w, arn) = world();
    let good = token(&claims());
    let check = |w: &mut World, t: String, expected: StsErrorCode| {
        let e = web(w, &wreq(&arn, t.clone())).unwrap_err();
        assert_eq!(e.code, expected, "{t}: {}", e.message);
        assert_eq!(e.status, 400);
        e.message
    };
    // Altered payload, signature of another key, unknown kid.
    let (input, sig) = good.rsplit_once('.').unwrap();
    let (header, _) = input.split_once('.').unwrap();
    let mut c = claims();
    c["sub"] = serde_json::json!("user-999999");
    check(&mut w, format!("{header}.{}.{sig}", b64url(c.to_string().as_bytes())), StsErrorCode::InvalidIdentityToken);
    check(
        &mut w,
        sign(&serde_json::json!({"alg": "RS256", "kid": "k1"}), &claims(), &keys()[1]),
        StsErrorCode::InvalidIdentityToken,
    );
    let m = check(
        &mut w,
        sign(&serde_json::json!({"alg": "RS256", "kid": "k2"}), &claims(), &keys()[0]),
        StsErrorCode::InvalidIdentityToken,
    );
    assert!(m.starts_with("Couldn't retrieve verification key"), "{m}");
    // Without a kid, the set's only RSA signing key is used; with two, none is.
    let no_kid = sign(&serde_json::json!({"alg": "RS256"}), &claims(), &keys()[0]);
    assert!(web(&mut w, &wreq(&arn, no_kid.clone())).is_ok());
    let mut two: serde_json::Value = serde_json::from_str(&jwks("k1")).unwrap();
    let mut again = two["keys"][1].clone();
    again["kid"] = serde_json::json!("k9");
    two["keys"].as_array_mut().unwrap().push(again);
    w.store(A).set_oidc_signing_keys(&provider_arn(), Some(&two.to_string())).unwrap();
    check(&mut w, no_kid, StsErrorCode::InvalidIdentityToken);
    assert!(web(&mut w, &wreq(&arn, good.clone())).is_ok(), "a kid still picks its key");
    // Other algorithms and shapes.
    check(
        &mut w,
        format!("{}.{}.", b64url(br#"{"alg":"none"}"#), b64url(claims().to_string().as_bytes())),
        StsErrorCode::InvalidIdentityToken,
    );
    check(&mut w, format!("{good}.x"), StsErrorCode::InvalidIdentityToken);
    check(&mut w, good.replace('.', ".="), StsErrorCode::InvalidIdentityToken);
    // Audience, issuer.
    let mut c = claims();
    c["aud"] = serde_json::json!("someone-else");
    assert_eq!(check(&mut w, token(&c), StsErrorCode::InvalidIdentityToken), "Incorrect token audience");
    let mut c = claims();
    c["iss"] = serde_json::json!("https://evil.example.com");
    let m = check(&mut w, token(&c), StsErrorCode::InvalidIdentityToken);
    assert_eq!(m, "No OpenIDConnect provider found in your account for https://evil.example.com");
    // Times, by the injected clock.
    let mut c = claims();
    c["nbf"] = serde_json::json!(T0 + 60);
    check(&mut w, token(&c), StsErrorCode::InvalidIdentityToken);
    let mut c = claims();
    c["iat"] = serde_json::json!(T0 + 60);
    check(&mut w, token(&c), StsErrorCode::InvalidIdentityToken);
    let mut c = claims();
    c.as_object_mut().unwrap().remove("exp");
    check(&mut w, token(&c), StsErrorCode::InvalidIdentityToken);
    w.clock.advance(300);
    let m = check(&mut w, good.clone(), StsErrorCode::ExpiredTokenException);
    assert!(m.starts_with("Token expired: current date/time"), "{m}");
    // An altered token is refused as invalid even once expired: the signature comes first.
    check(&mut w, format!("{header}.{}.{sig}", b64url(c.to_string().as_bytes())), StsErrorCode::InvalidIdentityToken);
}

#[test]
fn the_provider_must_be_in_the_roles_account_with_keys() {
    let (mut w, _) = world();
    // Same trust in account B, which has no provider.
    let trust_b = format!(
        r#"{{"Version": "2012-10-17", "Statement": {{"Effect": "Allow", "Principal": {{"Federated": "arn:aws:iam::{B}:oidc-provider/{HOST}"}}, "Action": "sts:AssumeRoleWithWebIdentity"}}}}"#
    );
    let in_b = w.role(B, "Web", &trust_b, None, vec![]);
    assert_eq!(code(web(&mut w, &wreq(&in_b, token(&claims())))), StsErrorCode::InvalidIdentityToken);
    // Registered without signing keys: nothing to verify with.
    w.store(B)
        .create_oidc_provider(NewOidcProvider {
            url: format!("https://{HOST}"),
            client_ids: vec![CLIENT.into()],
            thumbprints: vec!["b".repeat(40)],
            signing_keys: None,
            tags: vec![],
        })
        .unwrap();
    assert_eq!(code(web(&mut w, &wreq(&in_b, token(&claims())))), StsErrorCode::InvalidIdentityToken);
    w.store(B).set_oidc_signing_keys(&format!("arn:aws:iam::{B}:oidc-provider/{HOST}"), Some(&jwks("k1"))).unwrap();
    assert!(web(&mut w, &wreq(&in_b, token(&claims()))).is_ok());
}

#[test]
fn session_policies_durations_and_shapes() {
    let (mut w, arn) = world();
    let mut r = wreq(&arn, token(&claims()));
    r.policy = Some(allow("\"s3:GetObject\"", "*"));
    r.policy_arns = vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".into()];
    r.duration_seconds = Some(900);
    let ok = web(&mut w, &r).unwrap();
    assert!(ok.packed_policy_size.is_some());
    assert_eq!(ok.credentials.expiration, UnixTime::from_seconds(T0 + 900));
    r.duration_seconds = Some(43_201);
    assert_eq!(code(web(&mut w, &r)), StsErrorCode::ValidationError);
    let mut r = wreq(&arn, "abc".into());
    assert_eq!(code(web(&mut w, &r)), StsErrorCode::ValidationError);
    r.web_identity_token = token(&claims());
    r.provider_id = Some("www.amazon.com".into());
    assert_eq!(code(web(&mut w, &r)), StsErrorCode::ValidationError);
}
