//! The store's errors: AWS's error code, its HTTP status and AWS's message text.

use std::fmt;

/// The AWS error codes the store answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// `NoSuchEntity` (404): the named entity does not exist.
    NoSuchEntity,
    /// `EntityAlreadyExists` (409): an entity of that kind already has the name.
    EntityAlreadyExists,
    /// `LimitExceeded` (409): a quota would be exceeded.
    LimitExceeded,
    /// `DeleteConflict` (409): the entity still has something attached.
    DeleteConflict,
    /// `MalformedPolicyDocument` (400): a policy document is not valid for its kind.
    MalformedPolicyDocument,
    /// `InvalidInput` (400): a value breaks a rule beyond the API's shape constraints.
    InvalidInput,
    /// `ValidationError` (400): a parameter breaks the API's shape constraints.
    ValidationError,
    /// `UnmodifiableEntity` (400): the entity cannot be changed or deleted (an AWS managed
    /// policy).
    UnmodifiableEntity,
    /// `ServiceFailure` (500): the store could not complete the request (storage failure).
    ServiceFailure,
}

impl ErrorCode {
    /// The code as AWS spells it on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NoSuchEntity => "NoSuchEntity",
            ErrorCode::EntityAlreadyExists => "EntityAlreadyExists",
            ErrorCode::LimitExceeded => "LimitExceeded",
            ErrorCode::DeleteConflict => "DeleteConflict",
            ErrorCode::MalformedPolicyDocument => "MalformedPolicyDocument",
            ErrorCode::InvalidInput => "InvalidInput",
            ErrorCode::ValidationError => "ValidationError",
            ErrorCode::UnmodifiableEntity => "UnmodifiableEntity",
            ErrorCode::ServiceFailure => "ServiceFailure",
        }
    }

    /// The HTTP status AWS answers with for this code.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::NoSuchEntity => 404,
            ErrorCode::EntityAlreadyExists | ErrorCode::LimitExceeded | ErrorCode::DeleteConflict => 409,
            ErrorCode::MalformedPolicyDocument
            | ErrorCode::InvalidInput
            | ErrorCode::ValidationError
            | ErrorCode::UnmodifiableEntity => 400,
            ErrorCode::ServiceFailure => 500,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused store operation. `Display` prints AWS's message (clients match on it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError {
    code: ErrorCode,
    message: String,
}

impl StoreError {
    /// An error with `code` and AWS's `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> StoreError {
        StoreError { code, message: message.into() }
    }

    /// The AWS error code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The HTTP status of the code.
    pub fn http_status(&self) -> u16 {
        self.code.http_status()
    }

    /// AWS's message text.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn no_such(kind: &str, name: &str) -> StoreError {
        StoreError::new(ErrorCode::NoSuchEntity, format!("The {kind} with name {name} cannot be found."))
    }

    pub(crate) fn no_such_policy(arn: &str) -> StoreError {
        StoreError::new(ErrorCode::NoSuchEntity, format!("Policy {arn} does not exist or is not attachable."))
    }

    pub(crate) fn already_exists(kind: &str, name: &str) -> StoreError {
        StoreError::new(ErrorCode::EntityAlreadyExists, format!("{kind} with name {name} already exists."))
    }

    pub(crate) fn quota(quota: &str, limit: usize) -> StoreError {
        StoreError::new(ErrorCode::LimitExceeded, format!("Cannot exceed quota for {quota}: {limit}"))
    }

    pub(crate) fn conflict(message: &str) -> StoreError {
        StoreError::new(ErrorCode::DeleteConflict, message)
    }

    pub(crate) fn invalid(message: impl Into<String>) -> StoreError {
        StoreError::new(ErrorCode::InvalidInput, message)
    }

    /// AWS's shape-constraint message: `1 validation error detected: Value 'v' at 'field' failed
    /// to satisfy constraint: Member must ...`.
    pub(crate) fn validation(value: &str, field: &str, constraint: &str) -> StoreError {
        StoreError::new(
            ErrorCode::ValidationError,
            format!(
                "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: Member must {constraint}"
            ),
        )
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for StoreError {}
