//! JSON Web Tokens signed with RS256 (RSASSA-PKCS1-v1_5 with SHA-256, RFC 7515/7518), verified
//! with a key of a JSON Web Key Set (RFC 7517): what `AssumeRoleWithWebIdentity` reads.
//!
//! Only compact serialization and RS256 are accepted (AWS accepts only RS256-signed tokens);
//! `alg: none`, HMAC, and tokens with a `crit` header are refused. Base64url is decoded
//! strictly: no padding, no other alphabet, and unused trailing bits must be zero, so that each
//! token has exactly one text.

use rsa::pkcs1v15::Pkcs1v15Sign;
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, RsaPublicKey};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The smallest RSA modulus accepted, in bytes (2,048 bits).
pub const MIN_RSA_BYTES: usize = 256;

/// A token's parts, before its signature is checked.
#[derive(Debug)]
pub(crate) struct Jwt<'t> {
    /// The header's `kid`, if any.
    pub(crate) kid: Option<String>,
    /// The claims (the payload's members).
    pub(crate) claims: Map<String, Value>,
    /// `BASE64URL(header) "." BASE64URL(payload)`: what was signed.
    pub(crate) signing_input: &'t str,
    /// The signature bytes.
    pub(crate) signature: Vec<u8>,
}

/// Why a token is refused (all map to `InvalidIdentityToken`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JwtError {
    /// Not three base64url parts of JSON objects.
    Malformed,
    /// An algorithm other than RS256, or a critical header.
    Algorithm,
    /// No key of the set matches the token's `kid`, or the set does not read.
    NoKey,
    /// The signature does not verify.
    Signature,
}

/// Strict unpadded base64url (RFC 4648 §5).
pub(crate) fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    fn value(b: u8) -> Option<u32> {
        match b {
            b'A'..=b'Z' => Some(u32::from(b - b'A')),
            b'a'..=b'z' => Some(u32::from(b - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(b - b'0') + 52),
            b'-' => Some(62),
            b'_' => Some(63),
            _ => None,
        }
    }
    if text.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for chunk in text.as_bytes().chunks(4) {
        let mut acc: u32 = 0;
        for &b in chunk {
            acc = (acc << 6) | value(b)?;
        }
        match chunk.len() {
            4 => out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]),
            3 => {
                // 18 bits: 2 bytes and 2 unused bits, which must be zero.
                if acc & 0b11 != 0 {
                    return None;
                }
                out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]);
            }
            2 => {
                // 12 bits: 1 byte and 4 unused bits.
                if acc & 0b1111 != 0 {
                    return None;
                }
                out.push((acc >> 4) as u8);
            }
            _ => return None,
        }
    }
    Some(out)
}

fn json_object(part: &str) -> Result<Map<String, Value>, JwtError> {
    let bytes = base64url_decode(part).ok_or(JwtError::Malformed)?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(JwtError::Malformed),
    }
}

/// Splits and decodes a compact JWS; the header must say `alg: RS256` and nothing critical.
pub(crate) fn parse(token: &str) -> Result<Jwt<'_>, JwtError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed);
    };
    let header_map = json_object(header)?;
    let claims = json_object(payload)?;
    let signature = base64url_decode(signature).ok_or(JwtError::Malformed)?;
    if header_map.get("alg").and_then(Value::as_str) != Some("RS256") || header_map.contains_key("crit") {
        return Err(JwtError::Algorithm);
    }
    let kid = match header_map.get("kid") {
        None => None,
        Some(Value::String(k)) => Some(k.clone()),
        Some(_) => return Err(JwtError::Malformed),
    };
    let signing_input = token.get(..header.len() + 1 + payload.len()).ok_or(JwtError::Malformed)?;
    Ok(Jwt { kid, claims, signing_input, signature })
}

/// The RSA signing keys of `jwks` a token with `kid` may be checked with: keys with that `kid`,
/// or when the token has none, the set's only RSA signing key. Keys marked for another use or
/// algorithm, or smaller than 2,048 bits, are skipped.
fn candidate_keys(jwks: &str, kid: Option<&str>) -> Result<Vec<RsaPublicKey>, JwtError> {
    let set: Value = serde_json::from_str(jwks).map_err(|_| JwtError::NoKey)?;
    let keys = set.get("keys").and_then(Value::as_array).ok_or(JwtError::NoKey)?;
    let field = |k: &Value, name: &str| k.get(name).and_then(Value::as_str).map(str::to_owned);
    let usable: Vec<&Value> = keys
        .iter()
        .filter(|k| field(k, "kty").as_deref() == Some("RSA"))
        .filter(|k| field(k, "use").is_none_or(|u| u == "sig"))
        .filter(|k| field(k, "alg").is_none_or(|a| a == "RS256"))
        .collect();
    let chosen: Vec<&Value> = match kid {
        Some(kid) => usable.into_iter().filter(|k| field(k, "kid").as_deref() == Some(kid)).collect(),
        None if usable.len() == 1 => usable,
        None => Vec::new(),
    };
    let out: Vec<RsaPublicKey> = chosen
        .into_iter()
        .filter_map(|k| {
            let n = base64url_decode(&field(k, "n")?)?;
            let e = base64url_decode(&field(k, "e")?)?;
            let key = RsaPublicKey::new(BigUint::from_bytes_be(&n), BigUint::from_bytes_be(&e)).ok()?;
            (key.size() >= MIN_RSA_BYTES).then_some(key)
        })
        .collect();
    if out.is_empty() { Err(JwtError::NoKey) } else { Ok(out) }
}

/// Verifies `jwt`'s RS256 signature with a key of `jwks`.
pub(crate) fn verify(jwt: &Jwt<'_>, jwks: &str) -> Result<(), JwtError> {
    let keys = candidate_keys(jwks, jwt.kid.as_deref())?;
    let digest = Sha256::digest(jwt.signing_input.as_bytes());
    let ok = keys.iter().any(|key| key.verify(Pkcs1v15Sign::new::<Sha256>(), &digest, &jwt.signature).is_ok());
    if ok { Ok(()) } else { Err(JwtError::Signature) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_is_strict() {
        assert_eq!(base64url_decode("").as_deref(), Some(&b""[..]));
        assert_eq!(base64url_decode("Zg").as_deref(), Some(&b"f"[..]));
        assert_eq!(base64url_decode("Zm8").as_deref(), Some(&b"fo"[..]));
        assert_eq!(base64url_decode("Zm9v").as_deref(), Some(&b"foo"[..]));
        assert_eq!(base64url_decode("-_-_").as_deref(), Some(&[0xfb, 0xff, 0xbf][..]));
        // Padding, the standard alphabet, a lone character and non-zero spare bits are refused.
        for bad in ["Zg==", "Zm+v", "Zm9v/", "Z", "Zh", "Zm9"] {
            assert_eq!(base64url_decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn only_rs256_compact_tokens_parse() {
        let enc = |v: &str| {
            // Test-only encoder over the decoder's alphabet.
            const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let bytes = v.as_bytes();
            let mut out = String::new();
            for chunk in bytes.chunks(3) {
                let n = chunk.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b)) << (8 * (3 - chunk.len()));
                for i in 0..=chunk.len() {
                    out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
                }
            }
            out
        };
        let claims = enc(r#"{"sub":"x"}"#);
        let ok = format!("{}.{claims}.AAAA", enc(r#"{"alg":"RS256","kid":"k1"}"#));
        let jwt = parse(&ok).unwrap();
        assert_eq!(jwt.kid.as_deref(), Some("k1"));
        assert_eq!(jwt.signature, vec![0, 0, 0]);
        assert_eq!(jwt.signing_input, ok.rsplit_once('.').unwrap().0);
        for header in [r#"{"alg":"none"}"#, r#"{"alg":"HS256"}"#, r#"{"alg":"RS256","crit":["x"]}"#] {
            assert_eq!(parse(&format!("{}.{claims}.AAAA", enc(header))).unwrap_err(), JwtError::Algorithm);
        }
        for bad in [format!("{}.{claims}", enc(r#"{"alg":"RS256"}"#)), "a.b.c.d".to_owned(), "x".to_owned()] {
            assert_eq!(parse(&bad).unwrap_err(), JwtError::Malformed);
        }
        assert_eq!(candidate_keys("not json", None).unwrap_err(), JwtError::NoKey);
        assert_eq!(candidate_keys(r#"{"keys":[]}"#, Some("k1")).unwrap_err(), JwtError::NoKey);
    }
}
