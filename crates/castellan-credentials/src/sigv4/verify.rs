//! Verification: parse the `Authorization` header or the presigned query, check the
//! credential scope and the request time, look the secret up, recompute the signature and
//! compare it in constant time.

use std::sync::Arc;

use subtle::ConstantTimeEq;

use super::canonical::{CanonicalParts, UriMode, canonical_request, string_to_sign};
use super::error::{
    CONTENT_SHA256_MISMATCH, INVALID_CLIENT_TOKEN_ID, MISSING_AUTHENTICATION_TOKEN, REQUEST_HAS_EXPIRED,
    SIGNATURE_DOES_NOT_MATCH, SigV4Error,
};
use super::key::{SigningKey, SigningKeyCache};
use super::request::{Payload, Request};
use super::time::{format_amz_date, parse_amz_date, parse_http_date};
use super::{ALGORITHM, MAX_PRESIGNED_EXPIRES, STREAMING_PAYLOAD, TERMINATOR, UNSIGNED_PAYLOAD};
use crate::{Clock, SecretString, UnixTime};

/// What a key lookup knows of an access key.
#[derive(Debug, Clone)]
pub struct KeyRecord {
    /// The secret access key.
    pub secret: SecretString,
    /// For temporary credentials, the session token the request must carry as
    /// `X-Amz-Security-Token`; `None` for long-term keys (which must carry none).
    pub session_token: Option<SecretString>,
}

impl KeyRecord {
    /// The record of a long-term access key.
    pub fn long_term(secret: SecretString) -> KeyRecord {
        KeyRecord { secret, session_token: None }
    }
}

/// Finds the secret of an access key id. Implemented for every `Fn(&str) -> Option<KeyRecord>`.
pub trait KeyLookup {
    /// The record of `access_key_id`, or `None` when the key is unknown (or inactive).
    fn lookup(&self, access_key_id: &str) -> Option<KeyRecord>;
}

impl<F: Fn(&str) -> Option<KeyRecord>> KeyLookup for F {
    fn lookup(&self, access_key_id: &str) -> Option<KeyRecord> {
        self(access_key_id)
    }
}

/// What the signature covered of the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadKind {
    /// The hash of the body.
    Signed,
    /// `UNSIGNED-PAYLOAD`: the body is not covered.
    Unsigned,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: the chunk signatures (not checked here) cover it.
    Streaming,
}

/// A request that authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The access key id that signed.
    pub access_key_id: String,
    /// The request time (`X-Amz-Date`, else `Date`).
    pub time: UnixTime,
    /// The signed header names, as listed by the request.
    pub signed_headers: Vec<String>,
    /// Whether the signature came in a presigned query rather than a header.
    pub presigned: bool,
    /// Whether the request carried a (matching) session token.
    pub session_token: bool,
    /// What the signature covered of the payload.
    pub payload: PayloadKind,
}

/// Checks SigV4 signatures for one service and region.
#[derive(Debug, Clone)]
pub struct Verifier {
    /// The region requests must be scoped to (`us-east-1` for IAM).
    pub region: String,
    /// The service requests must be scoped to (`iam`, `sts`).
    pub service: String,
    /// How paths are canonicalised.
    pub uri_mode: UriMode,
    /// How far, in seconds, the request time may be from the clock (300: five minutes).
    pub max_skew: i64,
    /// The signing-key cache, shared by every clone of this verifier.
    pub cache: Option<Arc<SigningKeyCache>>,
}

/// The parts of the signature, from a header or a presigned query.
struct Auth {
    credential: String,
    signed_headers: Vec<String>,
    signature: String,
    /// The date text, and whether it came from `X-Amz-Date` (else `Date`).
    date: Option<(String, bool)>,
    /// `X-Amz-Expires` of a presigned URL.
    expires: Option<i64>,
    token: Option<String>,
    presigned: bool,
}

fn incomplete(message: impl Into<String>) -> SigV4Error {
    SigV4Error::IncompleteSignature(message.into())
}

fn mismatch(message: impl Into<String>) -> SigV4Error {
    SigV4Error::SignatureDoesNotMatch(message.into())
}

impl Verifier {
    /// A verifier for a non-S3 service, with the five-minute window and no cache.
    pub fn new(region: impl Into<String>, service: impl Into<String>) -> Verifier {
        Verifier {
            region: region.into(),
            service: service.into(),
            uri_mode: UriMode::Normalized,
            max_skew: 300,
            cache: None,
        }
    }

    /// Uses (and shares) a signing-key cache.
    pub fn with_cache(mut self, cache: Arc<SigningKeyCache>) -> Verifier {
        self.cache = Some(cache);
        self
    }

    /// Sets how paths are canonicalised.
    pub fn uri_mode(mut self, mode: UriMode) -> Verifier {
        self.uri_mode = mode;
        self
    }

    /// Verifies a request: the signature, its scope, the request time against `clock`, the
    /// session token and the payload hash.
    pub fn verify(&self, request: &Request, keys: &dyn KeyLookup, clock: &dyn Clock) -> Result<Verified, SigV4Error> {
        // Decoding the query only matters when it may name an `X-Amz-*` parameter (possibly
        // percent-encoded); most header-signed requests skip that work.
        let query = if request.query.contains("X-Amz-") || request.query.contains('%') {
            request.query_params()
        } else {
            Vec::new()
        };
        let header = request.first_header("authorization");
        let algorithm = query.iter().find(|(name, _)| name == "X-Amz-Algorithm").map(|(_, v)| v.as_str());
        let auth = match (header, algorithm) {
            (None, None) => {
                return Err(SigV4Error::MissingAuthenticationToken(MISSING_AUTHENTICATION_TOKEN.to_owned()));
            }
            (Some(_), Some(_)) => {
                return Err(incomplete(
                    "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query \
                     string parameter or the Authorization header should be specified",
                ));
            }
            (Some(header), None) => parse_header(header, request)?,
            (None, Some(algorithm)) => parse_query(algorithm, &query, request)?,
        };

        // The credential scope: keyid/date/region/service/aws4_request.
        let scope: Vec<&str> = auth.credential.split('/').collect();
        let [key_id, scope_date, region, service, terminator] = scope.as_slice() else {
            return Err(incomplete(format!(
                "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{}'",
                auth.credential
            )));
        };
        let Some((date_text, amz)) = &auth.date else {
            return Err(incomplete(missing_date_message(request)));
        };
        let parsed = if *amz { parse_amz_date(date_text) } else { parse_http_date(date_text) };
        let Some(time) = parsed else {
            return Err(incomplete(format!(
                "Date must be in ISO-8601 'basic format'. Got '{date_text}'. See http://en.wikipedia.org/wiki/ISO_8601"
            )));
        };
        let amz_date = format_amz_date(time);
        let request_day = amz_date.get(..8).unwrap_or_default();
        if *scope_date != request_day {
            return Err(mismatch(format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: \
                 '{scope_date}' != '{request_day}', from '{amz_date}'."
            )));
        }
        if *region != self.region {
            return Err(mismatch(format!("Credential should be scoped to a valid region, not '{region}'. ")));
        }
        if *service != self.service {
            return Err(mismatch(format!("Credential should be scoped to correct service: '{}'. ", self.service)));
        }
        if *terminator != TERMINATOR {
            return Err(mismatch(format!(
                "Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{terminator}'. "
            )));
        }

        self.check_time(time, auth.expires, clock)?;

        let Some(record) = keys.lookup(key_id) else {
            return Err(SigV4Error::InvalidClientTokenId(INVALID_CLIENT_TOKEN_ID.to_owned()));
        };
        let token_ok = match (&record.session_token, &auth.token) {
            (None, None) => true,
            (Some(expected), Some(given)) => bool::from(expected.expose().as_bytes().ct_eq(given.as_bytes())),
            _ => false,
        };
        if !token_ok {
            return Err(SigV4Error::InvalidClientTokenId(INVALID_CLIENT_TOKEN_ID.to_owned()));
        }

        let (payload_hash, payload) = self.payload(request, auth.presigned)?;
        let skip: &[&str] = if auth.presigned { &["X-Amz-Signature"] } else { &[] };
        let parts = CanonicalParts {
            signed_headers: &auth.signed_headers,
            payload_hash: &payload_hash,
            uri_mode: self.uri_mode,
            skip_query: skip,
        };
        let canonical = canonical_request(request, &parts);
        let scope_text = format!("{scope_date}/{region}/{service}/{TERMINATOR}");
        let to_sign = string_to_sign(&amz_date, &scope_text, &canonical);
        let key = match &self.cache {
            Some(cache) => cache.signing_key(key_id, &record.secret, scope_date, region, service),
            None => SigningKey::derive(&record.secret, scope_date, region, service),
        };
        let expected = key.sign(&to_sign);
        if !bool::from(expected.as_bytes().ct_eq(auth.signature.as_bytes())) {
            return Err(mismatch(SIGNATURE_DOES_NOT_MATCH));
        }
        Ok(Verified {
            access_key_id: (*key_id).to_owned(),
            time: UnixTime::from_seconds(time),
            signed_headers: auth.signed_headers,
            presigned: auth.presigned,
            session_token: auth.token.is_some(),
            payload,
        })
    }

    /// The request time must be within `max_skew` of the clock; a presigned URL must also not
    /// be past its expiry (the last valid second is `X-Amz-Date + X-Amz-Expires`).
    fn check_time(&self, time: i64, expires: Option<i64>, clock: &dyn Clock) -> Result<(), SigV4Error> {
        let now = clock.now().seconds;
        let minutes = self.max_skew / 60;
        if let Some(expires) = expires {
            if now > time.saturating_add(expires) {
                return Err(SigV4Error::AccessDenied(REQUEST_HAS_EXPIRED.to_owned()));
            }
        } else if time < now.saturating_sub(self.max_skew) {
            return Err(mismatch(format!(
                "Signature expired: {} is now earlier than {} ({} - {minutes} min.)",
                format_amz_date(time),
                format_amz_date(now.saturating_sub(self.max_skew)),
                format_amz_date(now)
            )));
        }
        if time > now.saturating_add(self.max_skew) {
            return Err(mismatch(format!(
                "Signature not yet current: {} is still later than {} ({} + {minutes} min.)",
                format_amz_date(time),
                format_amz_date(now.saturating_add(self.max_skew)),
                format_amz_date(now)
            )));
        }
        Ok(())
    }

    /// The payload hash to put on the canonical request, after checking a declared
    /// `x-amz-content-sha256` against the body.
    fn payload(&self, request: &Request, presigned: bool) -> Result<(String, PayloadKind), SigV4Error> {
        match request.first_header("x-amz-content-sha256") {
            Some(UNSIGNED_PAYLOAD) => Ok((UNSIGNED_PAYLOAD.to_owned(), PayloadKind::Unsigned)),
            Some(STREAMING_PAYLOAD) => Ok((STREAMING_PAYLOAD.to_owned(), PayloadKind::Streaming)),
            Some(declared) => {
                let actual = request.payload.hash();
                if bool::from(declared.as_bytes().ct_eq(actual.as_bytes())) {
                    Ok((actual, PayloadKind::Signed))
                } else {
                    Err(SigV4Error::XAmzContentSHA256Mismatch(CONTENT_SHA256_MISMATCH.to_owned()))
                }
            }
            None if presigned && self.uri_mode == UriMode::S3 => {
                Ok((UNSIGNED_PAYLOAD.to_owned(), PayloadKind::Unsigned))
            }
            None => match &request.payload {
                Payload::Hash(hash) if hash == UNSIGNED_PAYLOAD => Ok((hash.clone(), PayloadKind::Unsigned)),
                Payload::Hash(hash) if hash == STREAMING_PAYLOAD => Ok((hash.clone(), PayloadKind::Streaming)),
                payload => Ok((payload.hash(), PayloadKind::Signed)),
            },
        }
    }
}

/// The request's date: `X-Amz-Date`, else `Date`.
fn request_date(request: &Request) -> Option<(String, bool)> {
    if let Some(date) = request.first_header("x-amz-date") {
        return Some((date.to_owned(), true));
    }
    request.first_header("date").map(|date| (date.to_owned(), false))
}

fn missing_date_message(request: &Request) -> String {
    format!(
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization={}",
        request.first_header("authorization").unwrap_or_default()
    )
}

/// Reads `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`.
fn parse_header(header: &str, request: &Request) -> Result<Auth, SigV4Error> {
    let (algorithm, rest) = header.split_once([' ', '\t']).unwrap_or((header, ""));
    if algorithm != ALGORITHM {
        return Err(incomplete(format!("Unsupported AWS 'algorithm': '{algorithm}'")));
    }
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((name, value)) = part.split_once('=') else {
            return Err(incomplete(format!(
                "'{part}' not a valid key=value pair (missing equal-sign) in Authorization header: '{header}'."
            )));
        };
        match name.trim() {
            "Credential" => credential = Some(value.trim().to_owned()),
            "SignedHeaders" => signed_headers = Some(value.trim().to_owned()),
            "Signature" => signature = Some(value.trim().to_owned()),
            _ => {}
        }
    }
    let date = request_date(request);
    let mut missing = String::new();
    for (present, name) in [
        (credential.is_some(), "Credential"),
        (signature.is_some(), "Signature"),
        (signed_headers.is_some(), "SignedHeaders"),
    ] {
        if !present {
            missing.push_str(&format!("Authorization header requires '{name}' parameter. "));
        }
    }
    if date.is_none() {
        missing.push_str("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ");
    }
    let (Some(credential), Some(signed_headers), Some(signature), true) =
        (credential, signed_headers, signature, missing.is_empty())
    else {
        return Err(incomplete(format!("{missing}Authorization={header}")));
    };
    let signed_headers = signed_header_list(&signed_headers)?;
    Ok(Auth {
        credential,
        signed_headers,
        signature,
        date,
        expires: None,
        token: request.first_header("x-amz-security-token").map(str::to_owned),
        presigned: false,
    })
}

/// Reads the `X-Amz-*` parameters of a presigned URL.
fn parse_query(algorithm: &str, query: &[(String, String)], request: &Request) -> Result<Auth, SigV4Error> {
    let get = |name: &str| query.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    if algorithm != ALGORITHM {
        return Err(incomplete(format!("Unsupported AWS 'algorithm': '{algorithm}'")));
    }
    let require = |name: &str| {
        get(name).ok_or_else(|| {
            incomplete(format!(
                "AWS query-string parameters must include '{name}'. Re-examine the query-string parameters."
            ))
        })
    };
    let credential = require("X-Amz-Credential")?;
    let signed_headers = require("X-Amz-SignedHeaders")?;
    let signature = require("X-Amz-Signature")?;
    let date = require("X-Amz-Date")?;
    let expires = require("X-Amz-Expires")?;
    let expires: i64 = expires
        .parse()
        .map_err(|_| SigV4Error::AuthorizationQueryParametersError("X-Amz-Expires should be a number".to_owned()))?;
    if expires < 0 {
        return Err(SigV4Error::AuthorizationQueryParametersError("X-Amz-Expires must be non-negative".to_owned()));
    }
    if expires > i64::from(MAX_PRESIGNED_EXPIRES) {
        return Err(SigV4Error::AuthorizationQueryParametersError(format!(
            "X-Amz-Expires must be less than a week (in seconds) that is {MAX_PRESIGNED_EXPIRES}"
        )));
    }
    Ok(Auth {
        credential,
        signed_headers: signed_header_list(&signed_headers)?,
        signature,
        date: Some((date, true)),
        expires: Some(expires),
        token: get("X-Amz-Security-Token").or_else(|| request.first_header("x-amz-security-token").map(str::to_owned)),
        presigned: true,
    })
}

/// The `;`-separated signed header names; `host` (or `:authority`) must be among them.
fn signed_header_list(text: &str) -> Result<Vec<String>, SigV4Error> {
    let names: Vec<String> = text.split(';').map(str::to_owned).collect();
    if !names.iter().any(|n| n == "host" || n == ":authority") {
        return Err(incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."));
    }
    Ok(names)
}
