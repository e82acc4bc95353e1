//! AWS Signature Version 4: signing requests (for tests, tools and clients) and verifying the
//! signatures of incoming requests.
//!
//! The pieces follow the published algorithm step by step:
//!
//! 1. [`Request`] models a request without any HTTP library: method, raw path, raw query,
//!    headers in order and the body (or its hash). [`Request::parse_raw`] reads the raw text of
//!    the SigV4 test suite's `.req` files.
//! 2. [`canonical_request`] builds the canonical request ([`UriMode::Normalized`] for every
//!    service but S3, [`UriMode::S3`] for S3), and [`string_to_sign`] the string to sign.
//! 3. [`SigningKey::derive`] is the HMAC chain; a [`SigningKeyCache`] shared by threads keeps
//!    derived keys for a day.
//! 4. [`sign`] adds an `Authorization` header, [`presign`] builds a presigned URL query.
//! 5. [`Verifier::verify`] checks a signed request against a caller's key lookup and a
//!    [`Clock`](crate::Clock), answering [`SigV4Error`]s with AWS's codes and messages.
//!
//! Payloads: `x-amz-content-sha256` may hold the hex SHA-256 of the body (which must match it),
//! `UNSIGNED-PAYLOAD`, or `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`. With the two markers the
//! signature covers the marker, not the body; the chunk signatures of a streaming upload are
//! **not** verified here — whoever reads the chunks must check them.

mod canonical;
mod error;
mod key;
mod request;
mod sign;
mod time;
mod verify;

#[cfg(test)]
mod tests;

pub use canonical::{
    CanonicalParts, UriMode, canonical_query, canonical_request, canonical_uri, percent_decode, string_to_sign,
    uri_encode,
};
pub use error::{
    CONTENT_SHA256_MISMATCH, INVALID_CLIENT_TOKEN_ID, MISSING_AUTHENTICATION_TOKEN, REQUEST_HAS_EXPIRED,
    SIGNATURE_DOES_NOT_MATCH, SigV4Error,
};
pub use key::{SigningKey, SigningKeyCache};
pub use request::{Payload, RawRequestError, Request};
pub use sign::{SigningOutput, SigningParams, presign, sign};
pub use time::format_amz_date;
pub use verify::{KeyLookup, KeyRecord, PayloadKind, Verified, Verifier};

/// The only algorithm SigV4 defines.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The last element of every credential scope.
pub const TERMINATOR: &str = "aws4_request";
/// The `x-amz-content-sha256` marker of a payload the signature does not cover.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// The `x-amz-content-sha256` marker of a chunk-signed streaming upload.
pub const STREAMING_PAYLOAD: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
/// The longest validity of a presigned URL, in seconds (seven days).
pub const MAX_PRESIGNED_EXPIRES: u32 = 604_800;

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS.get(usize::from(b >> 4)).copied().unwrap_or(b'0')));
        out.push(char::from(DIGITS.get(usize::from(b & 0x0f)).copied().unwrap_or(b'0')));
    }
    out
}
