//! The error of password, access-key and MFA operations: an AWS error code, its HTTP status and
//! a message, ready for the Query API layer to render.

use std::fmt;

/// The AWS error codes this crate's operations produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// A request value violated a shape constraint (range, length, pattern): HTTP 400.
    ValidationError,
    /// A request value is well-formed but not acceptable: HTTP 400.
    InvalidInput,
    /// A new password does not satisfy the password policy: HTTP 400.
    PasswordPolicyViolation,
    /// An MFA code is wrong, malformed, stale or already used: HTTP 403.
    InvalidAuthenticationCode,
    /// The MFA device is already enabled (AWS: "MFA Device is already in use"): HTTP 409.
    EntityAlreadyExists,
    /// A stored record (password hash, sealed secret) could not be read, or a cryptographic
    /// primitive failed: the service's fault, HTTP 500.
    ServiceFailure,
}

impl ErrorCode {
    /// The code as AWS spells it on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::ValidationError => "ValidationError",
            ErrorCode::InvalidInput => "InvalidInput",
            ErrorCode::PasswordPolicyViolation => "PasswordPolicyViolation",
            ErrorCode::InvalidAuthenticationCode => "InvalidAuthenticationCode",
            ErrorCode::EntityAlreadyExists => "EntityAlreadyExists",
            ErrorCode::ServiceFailure => "ServiceFailure",
        }
    }

    /// The HTTP status AWS answers with for this code.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::ValidationError | ErrorCode::InvalidInput | ErrorCode::PasswordPolicyViolation => 400,
            ErrorCode::InvalidAuthenticationCode => 403,
            ErrorCode::EntityAlreadyExists => 409,
            ErrorCode::ServiceFailure => 500,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed credential operation. `Display` prints the message only (the code travels
/// separately in AWS's error body); no foreign error type is exposed or repeated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CredentialError {
    code: ErrorCode,
    message: String,
}

impl CredentialError {
    /// An error with `code` and `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> CredentialError {
        CredentialError { code, message: message.into() }
    }

    /// The AWS error code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The HTTP status of the code.
    pub fn http_status(&self) -> u16 {
        self.code.http_status()
    }

    /// The message, as it goes in the `<Message>` element.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn validation(message: impl Into<String>) -> CredentialError {
        CredentialError::new(ErrorCode::ValidationError, message)
    }

    pub(crate) fn invalid_input(message: impl Into<String>) -> CredentialError {
        CredentialError::new(ErrorCode::InvalidInput, message)
    }

    pub(crate) fn service_failure(message: impl Into<String>) -> CredentialError {
        CredentialError::new(ErrorCode::ServiceFailure, message)
    }
}
