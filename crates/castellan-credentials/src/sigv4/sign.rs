//! Signing: an `Authorization` header or a presigned URL, for tests, tools and clients.

use super::canonical::{CanonicalParts, UriMode, canonical_request, headers_to_sign, string_to_sign, uri_encode};
use super::key::{SigningKey, SigningKeyCache};
use super::request::Request;
use super::time::format_amz_date;
use super::{ALGORITHM, TERMINATOR, UNSIGNED_PAYLOAD};
use crate::{SecretString, UnixTime};

/// Who signs, for what scope and at what time.
#[derive(Debug, Clone)]
pub struct SigningParams {
    /// The access key id (`AKIA...`, `ASIA...`).
    pub access_key_id: String,
    /// The secret access key.
    pub secret: SecretString,
    /// The session token of temporary credentials, sent (and signed) as
    /// `X-Amz-Security-Token`.
    pub session_token: Option<SecretString>,
    /// The region of the credential scope (`us-east-1` for IAM).
    pub region: String,
    /// The service of the credential scope (`iam`, `sts`, ...).
    pub service: String,
    /// The signing time.
    pub time: UnixTime,
    /// How the path is canonicalised.
    pub uri_mode: UriMode,
}

impl SigningParams {
    /// Parameters for long-term credentials and a non-S3 service.
    pub fn new(
        access_key_id: impl Into<String>,
        secret: SecretString,
        region: impl Into<String>,
        service: impl Into<String>,
        time: UnixTime,
    ) -> SigningParams {
        SigningParams {
            access_key_id: access_key_id.into(),
            secret,
            session_token: None,
            region: region.into(),
            service: service.into(),
            time,
            uri_mode: UriMode::Normalized,
        }
    }

    /// Adds the session token of temporary credentials.
    pub fn session_token(mut self, token: SecretString) -> SigningParams {
        self.session_token = Some(token);
        self
    }

    /// Sets how the path is canonicalised.
    pub fn uri_mode(mut self, mode: UriMode) -> SigningParams {
        self.uri_mode = mode;
        self
    }

    fn scope(&self, amz_date: &str) -> String {
        let date = amz_date.get(..8).unwrap_or_default();
        format!("{date}/{}/{}/{TERMINATOR}", self.region, self.service)
    }

    fn key(&self, amz_date: &str, cache: Option<&SigningKeyCache>) -> SigningKey {
        let date = amz_date.get(..8).unwrap_or_default();
        match cache {
            Some(cache) => cache.signing_key(&self.access_key_id, &self.secret, date, &self.region, &self.service),
            None => SigningKey::derive(&self.secret, date, &self.region, &self.service),
        }
    }
}

/// What signing produced, every intermediate step included (the test suite checks each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningOutput {
    /// The canonical request.
    pub canonical_request: String,
    /// The string to sign.
    pub string_to_sign: String,
    /// The lowercase hex signature.
    pub signature: String,
    /// The `Authorization` header value (for a presigned URL: the header the same signature
    /// would have had; it is not added to the request).
    pub authorization: String,
}

/// The payload hash a signer puts on the canonical request: the request's own
/// `x-amz-content-sha256` when it has one, else the hash of the body.
fn payload_hash(request: &Request) -> String {
    match request.first_header("x-amz-content-sha256") {
        Some(declared) => declared.to_owned(),
        None => request.payload.hash(),
    }
}

/// Signs a request with an `Authorization` header. Sets `X-Amz-Date` (replacing any), adds
/// `X-Amz-Security-Token` for temporary credentials, and signs every header the request then
/// has (a `Host` header is the caller's to add). Any earlier `Authorization` header is replaced.
pub fn sign(request: &mut Request, params: &SigningParams, cache: Option<&SigningKeyCache>) -> SigningOutput {
    let amz_date = format_amz_date(params.time.seconds);
    request.headers.retain(|(name, _)| !name.trim().eq_ignore_ascii_case("authorization"));
    request.set_header("X-Amz-Date", amz_date.clone());
    if let Some(token) = &params.session_token {
        request.set_header("X-Amz-Security-Token", token.expose());
    }
    let signed_headers = headers_to_sign(request);
    let payload = payload_hash(request);
    let parts = CanonicalParts {
        signed_headers: &signed_headers,
        payload_hash: &payload,
        uri_mode: params.uri_mode,
        skip_query: &[],
    };
    let output = finish(request, params, &parts, &amz_date, cache);
    request.headers.push(("Authorization".to_owned(), output.authorization.clone()));
    output
}

/// Presigns a request: adds `X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`,
/// `X-Amz-Expires`, `X-Amz-SignedHeaders`, `X-Amz-Security-Token` (temporary credentials) and
/// finally `X-Amz-Signature` to its query. The request's headers are signed as they are
/// (usually only `Host`). Without an `x-amz-content-sha256` header, an S3 URL signs
/// `UNSIGNED-PAYLOAD` and other services the hash of the body. `expires` is in seconds; AWS
/// accepts at most [`MAX_PRESIGNED_EXPIRES`](super::MAX_PRESIGNED_EXPIRES).
pub fn presign(
    request: &mut Request,
    params: &SigningParams,
    expires: u32,
    cache: Option<&SigningKeyCache>,
) -> SigningOutput {
    let amz_date = format_amz_date(params.time.seconds);
    let signed_headers = headers_to_sign(request);
    let credential = format!("{}/{}", params.access_key_id, params.scope(&amz_date));
    let mut added = vec![
        ("X-Amz-Algorithm", ALGORITHM.to_owned()),
        ("X-Amz-Credential", credential),
        ("X-Amz-Date", amz_date.clone()),
        ("X-Amz-Expires", expires.to_string()),
        ("X-Amz-SignedHeaders", signed_headers.join(";")),
    ];
    if let Some(token) = &params.session_token {
        added.push(("X-Amz-Security-Token", token.expose().to_owned()));
    }
    for (name, value) in added {
        if !request.query.is_empty() {
            request.query.push('&');
        }
        request.query.push_str(name);
        request.query.push('=');
        request.query.push_str(&uri_encode(value.as_bytes()));
    }
    let payload = match request.first_header("x-amz-content-sha256") {
        None if params.uri_mode == UriMode::S3 => UNSIGNED_PAYLOAD.to_owned(),
        _ => payload_hash(request),
    };
    let parts = CanonicalParts {
        signed_headers: &signed_headers,
        payload_hash: &payload,
        uri_mode: params.uri_mode,
        skip_query: &[],
    };
    let output = finish(request, params, &parts, &amz_date, cache);
    request.query.push_str("&X-Amz-Signature=");
    request.query.push_str(&output.signature);
    output
}

fn finish(
    request: &Request,
    params: &SigningParams,
    parts: &CanonicalParts<'_>,
    amz_date: &str,
    cache: Option<&SigningKeyCache>,
) -> SigningOutput {
    let scope = params.scope(amz_date);
    let canonical_request = canonical_request(request, parts);
    let string_to_sign = string_to_sign(amz_date, &scope, &canonical_request);
    let signature = params.key(amz_date, cache).sign(&string_to_sign);
    let authorization = format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={}, Signature={signature}",
        params.access_key_id,
        parts.signed_headers.join(";")
    );
    SigningOutput { canonical_request, string_to_sign, signature, authorization }
}
