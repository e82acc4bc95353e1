//! Why a request did not authenticate, in AWS's words: the error code, the HTTP status and the
//! message AWS sends.

use std::fmt;

/// A SigV4 verification failure. Each variant is an AWS error code and carries AWS's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigV4Error {
    /// 403: the request carries no authentication at all.
    MissingAuthenticationToken(String),
    /// 400: the `Authorization` header (or the presigned query) is malformed or incomplete.
    IncompleteSignature(String),
    /// 403: the access key id is unknown, or the session token does not belong to it.
    InvalidClientTokenId(String),
    /// 403: the signature differs from the one computed, the request time is too far from the
    /// clock, or the credential scope is wrong.
    SignatureDoesNotMatch(String),
    /// 403: a presigned URL has expired.
    AccessDenied(String),
    /// 400: a presigned URL's `X-Amz-Expires` is not a number or is out of range.
    AuthorizationQueryParametersError(String),
    /// 400: `x-amz-content-sha256` is not the hash of the body.
    XAmzContentSHA256Mismatch(String),
}

/// The message of `MissingAuthenticationToken`.
pub const MISSING_AUTHENTICATION_TOKEN: &str = "Request is missing Authentication Token";
/// The message of `InvalidClientTokenId`.
pub const INVALID_CLIENT_TOKEN_ID: &str = "The security token included in the request is invalid.";
/// The message of `SignatureDoesNotMatch` when the signatures differ.
pub const SIGNATURE_DOES_NOT_MATCH: &str = "The request signature we calculated does not match the signature you \
                                            provided. Check your AWS Secret Access Key and signing method. Consult \
                                            the service documentation for details.";
/// The message of `AccessDenied` for an expired presigned URL.
pub const REQUEST_HAS_EXPIRED: &str = "Request has expired";
/// The message of `XAmzContentSHA256Mismatch`.
pub const CONTENT_SHA256_MISMATCH: &str =
    "The provided 'x-amz-content-sha256' header does not match what was computed.";

impl SigV4Error {
    /// The AWS error code (`SignatureDoesNotMatch`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            SigV4Error::MissingAuthenticationToken(_) => "MissingAuthenticationToken",
            SigV4Error::IncompleteSignature(_) => "IncompleteSignature",
            SigV4Error::InvalidClientTokenId(_) => "InvalidClientTokenId",
            SigV4Error::SignatureDoesNotMatch(_) => "SignatureDoesNotMatch",
            SigV4Error::AccessDenied(_) => "AccessDenied",
            SigV4Error::AuthorizationQueryParametersError(_) => "AuthorizationQueryParametersError",
            SigV4Error::XAmzContentSHA256Mismatch(_) => "XAmzContentSHA256Mismatch",
        }
    }

    /// The HTTP status AWS answers with.
    pub fn status(&self) -> u16 {
        match self {
            SigV4Error::IncompleteSignature(_)
            | SigV4Error::AuthorizationQueryParametersError(_)
            | SigV4Error::XAmzContentSHA256Mismatch(_) => 400,
            SigV4Error::MissingAuthenticationToken(_)
            | SigV4Error::InvalidClientTokenId(_)
            | SigV4Error::SignatureDoesNotMatch(_)
            | SigV4Error::AccessDenied(_) => 403,
        }
    }

    /// The message AWS sends.
    pub fn message(&self) -> &str {
        match self {
            SigV4Error::MissingAuthenticationToken(m)
            | SigV4Error::IncompleteSignature(m)
            | SigV4Error::InvalidClientTokenId(m)
            | SigV4Error::SignatureDoesNotMatch(m)
            | SigV4Error::AccessDenied(m)
            | SigV4Error::AuthorizationQueryParametersError(m)
            | SigV4Error::XAmzContentSHA256Mismatch(m) => m,
        }
    }
}

impl fmt::Display for SigV4Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.code(), self.status(), self.message())
    }
}

impl std::error::Error for SigV4Error {}
