//! One error for every call of the facade: AWS's error code, HTTP status and message, whichever
//! crate refused.

use std::fmt;

use castellan_credentials::CredentialError;
use castellan_credentials::sigv4::SigV4Error;
use castellan_org::OrgError;
use castellan_store::StoreError;
use castellan_sts::StsError;

/// A refusal, as AWS words it: the code clients match on, the HTTP status and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamError {
    code: String,
    status: u16,
    message: String,
}

impl IamError {
    /// An error with `code`, `status` and `message`.
    pub fn new(code: impl Into<String>, status: u16, message: impl Into<String>) -> IamError {
        IamError { code: code.into(), status, message: message.into() }
    }

    /// `AccessDenied` (403) with `message`.
    pub fn access_denied(message: impl Into<String>) -> IamError {
        IamError::new("AccessDenied", 403, message)
    }

    /// `InvalidInput` (400) with `message`.
    pub fn invalid_input(message: impl Into<String>) -> IamError {
        IamError::new("InvalidInput", 400, message)
    }

    /// `ServiceFailure` (500) with `message`.
    pub fn service_failure(message: impl Into<String>) -> IamError {
        IamError::new("ServiceFailure", 500, message)
    }

    /// The AWS error code (`NoSuchEntity`, `AccessDenied`, ...).
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for IamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for IamError {}

impl From<StoreError> for IamError {
    fn from(e: StoreError) -> IamError {
        IamError::new(e.code().as_str(), e.http_status(), e.message())
    }
}

impl From<StsError> for IamError {
    fn from(e: StsError) -> IamError {
        IamError::new(e.code.as_str(), e.status, e.message)
    }
}

impl From<OrgError> for IamError {
    fn from(e: OrgError) -> IamError {
        IamError::new(e.code.as_str(), e.status(), e.message)
    }
}

impl From<CredentialError> for IamError {
    fn from(e: CredentialError) -> IamError {
        IamError::new(e.code().as_str(), e.http_status(), e.message())
    }
}

impl From<SigV4Error> for IamError {
    fn from(e: SigV4Error) -> IamError {
        IamError::new(e.code(), e.status(), e.message())
    }
}
