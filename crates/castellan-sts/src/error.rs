//! The error of every STS operation: AWS's error code, its HTTP status and a message, ready for
//! the Query API layer to render as `<ErrorResponse>`.

use std::fmt;

/// The AWS error codes STS answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StsErrorCode {
    /// `ValidationError` (400): a parameter breaks the API's shape constraints or a rule on it.
    ValidationError,
    /// `MalformedPolicyDocument` (400): a session policy is not a valid policy.
    MalformedPolicyDocument,
    /// `PackedPolicyTooLarge` (400): session policies and tags do not fit in a session.
    PackedPolicyTooLarge,
    /// `AccessDenied` (403): the caller may not do this.
    AccessDenied,
    /// `ExpiredToken` (400): the session token presented is past its expiry.
    ExpiredToken,
    /// `ExpiredTokenException` (400): the web identity token passed to
    /// `AssumeRoleWithWebIdentity` is past its `exp`.
    ExpiredTokenException,
    /// `InvalidAuthorizationMessageException` (400): the message passed to
    /// `DecodeAuthorizationMessage` is not one this service encoded and can open.
    InvalidAuthorizationMessage,
    /// `InvalidClientTokenId` (403): the session token presented is not one this service
    /// issued and can open (altered, truncated, sealed with a key no longer held, or presented
    /// with another access key id).
    InvalidClientTokenId,
    /// `InvalidIdentityToken` (400): a web identity token could not be validated.
    InvalidIdentityToken,
    /// `IDPRejectedClaim` (403): the identity provider rejected the claim.
    IdpRejectedClaim,
    /// `RegionDisabledException` (403): STS is not activated in the region for the account.
    RegionDisabled,
    /// `ServiceFailure` (500): the service could not complete the request (a cipher failed).
    ServiceFailure,
}

impl StsErrorCode {
    /// The code as AWS spells it on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            StsErrorCode::ValidationError => "ValidationError",
            StsErrorCode::MalformedPolicyDocument => "MalformedPolicyDocument",
            StsErrorCode::PackedPolicyTooLarge => "PackedPolicyTooLarge",
            StsErrorCode::AccessDenied => "AccessDenied",
            StsErrorCode::ExpiredToken => "ExpiredToken",
            StsErrorCode::ExpiredTokenException => "ExpiredTokenException",
            StsErrorCode::InvalidAuthorizationMessage => "InvalidAuthorizationMessageException",
            StsErrorCode::InvalidClientTokenId => "InvalidClientTokenId",
            StsErrorCode::InvalidIdentityToken => "InvalidIdentityToken",
            StsErrorCode::IdpRejectedClaim => "IDPRejectedClaim",
            StsErrorCode::RegionDisabled => "RegionDisabledException",
            StsErrorCode::ServiceFailure => "ServiceFailure",
        }
    }

    /// The HTTP status AWS answers with for this code.
    pub fn http_status(self) -> u16 {
        match self {
            StsErrorCode::ValidationError
            | StsErrorCode::MalformedPolicyDocument
            | StsErrorCode::PackedPolicyTooLarge
            | StsErrorCode::ExpiredToken
            | StsErrorCode::ExpiredTokenException
            | StsErrorCode::InvalidAuthorizationMessage
            | StsErrorCode::InvalidIdentityToken => 400,
            StsErrorCode::AccessDenied
            | StsErrorCode::InvalidClientTokenId
            | StsErrorCode::IdpRejectedClaim
            | StsErrorCode::RegionDisabled => 403,
            StsErrorCode::ServiceFailure => 500,
        }
    }
}

impl fmt::Display for StsErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused STS request. `Display` prints the message only (the code travels separately in
/// AWS's error body).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct StsError {
    /// The AWS error code.
    pub code: StsErrorCode,
    /// The HTTP status (always `code.http_status()`).
    pub status: u16,
    /// The message, as it goes in the `<Message>` element.
    pub message: String,
}

impl StsError {
    /// An error with `code` and `message`.
    pub fn new(code: StsErrorCode, message: impl Into<String>) -> StsError {
        StsError { code, status: code.http_status(), message: message.into() }
    }

    /// `ValidationError` with `message`.
    pub fn validation(message: impl Into<String>) -> StsError {
        StsError::new(StsErrorCode::ValidationError, message)
    }

    /// `AccessDenied` with `message`.
    pub fn access_denied(message: impl Into<String>) -> StsError {
        StsError::new(StsErrorCode::AccessDenied, message)
    }

    /// AWS's shape-constraint message: `1 validation error detected: Value 'V' at 'FIELD'
    /// failed to satisfy constraint: Member must CONSTRAINT`.
    pub fn constraint(value: &str, field: &str, constraint: &str) -> StsError {
        StsError::validation(format!(
            "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: Member must \
             {constraint}"
        ))
    }
}
