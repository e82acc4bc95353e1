//! The errors of the Organizations API: AWS's exception names, reasons and messages.

use std::fmt;

/// The exception an Organizations operation answers with, named as on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrgErrorCode {
    /// `AWSOrganizationsNotInUseException`: there is no organization.
    OrganizationsNotInUse,
    /// `AccessDeniedException`: the operation is not permitted on this entity.
    AccessDenied,
    /// `AccountNotFoundException`.
    AccountNotFound,
    /// `AlreadyInOrganizationException`.
    AlreadyInOrganization,
    /// `ChildNotFoundException`.
    ChildNotFound,
    /// `ConstraintViolationException`, with a [`ConstraintReason`].
    ConstraintViolation,
    /// `DestinationParentNotFoundException`.
    DestinationParentNotFound,
    /// `DuplicateAccountException`.
    DuplicateAccount,
    /// `DuplicateOrganizationalUnitException`.
    DuplicateOrganizationalUnit,
    /// `DuplicatePolicyAttachmentException`.
    DuplicatePolicyAttachment,
    /// `DuplicatePolicyException`.
    DuplicatePolicy,
    /// `HandshakeConstraintViolationException` (an invited account already belongs to an organization).
    HandshakeConstraintViolation,
    /// `InvalidInputException`, with an [`InvalidInputReason`].
    InvalidInput,
    /// `MalformedPolicyDocumentException`.
    MalformedPolicyDocument,
    /// `MasterCannotLeaveOrganizationException`.
    MasterCannotLeaveOrganization,
    /// `OrganizationNotEmptyException`.
    OrganizationNotEmpty,
    /// `OrganizationalUnitNotEmptyException`.
    OrganizationalUnitNotEmpty,
    /// `OrganizationalUnitNotFoundException`.
    OrganizationalUnitNotFound,
    /// `ParentNotFoundException`.
    ParentNotFound,
    /// `PolicyInUseException`.
    PolicyInUse,
    /// `PolicyNotAttachedException`.
    PolicyNotAttached,
    /// `PolicyNotFoundException`.
    PolicyNotFound,
    /// `PolicyTypeAlreadyEnabledException`.
    PolicyTypeAlreadyEnabled,
    /// `PolicyTypeNotAvailableForOrganizationException`.
    PolicyTypeNotAvailableForOrganization,
    /// `PolicyTypeNotEnabledException`.
    PolicyTypeNotEnabled,
    /// `RootNotFoundException`.
    RootNotFound,
    /// `SourceParentNotFoundException`.
    SourceParentNotFound,
    /// `TargetNotFoundException`.
    TargetNotFound,
}

impl OrgErrorCode {
    /// The exception name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            OrgErrorCode::OrganizationsNotInUse => "AWSOrganizationsNotInUseException",
            OrgErrorCode::AccessDenied => "AccessDeniedException",
            OrgErrorCode::AccountNotFound => "AccountNotFoundException",
            OrgErrorCode::AlreadyInOrganization => "AlreadyInOrganizationException",
            OrgErrorCode::ChildNotFound => "ChildNotFoundException",
            OrgErrorCode::ConstraintViolation => "ConstraintViolationException",
            OrgErrorCode::DestinationParentNotFound => "DestinationParentNotFoundException",
            OrgErrorCode::DuplicateAccount => "DuplicateAccountException",
            OrgErrorCode::DuplicateOrganizationalUnit => "DuplicateOrganizationalUnitException",
            OrgErrorCode::DuplicatePolicyAttachment => "DuplicatePolicyAttachmentException",
            OrgErrorCode::DuplicatePolicy => "DuplicatePolicyException",
            OrgErrorCode::HandshakeConstraintViolation => "HandshakeConstraintViolationException",
            OrgErrorCode::InvalidInput => "InvalidInputException",
            OrgErrorCode::MalformedPolicyDocument => "MalformedPolicyDocumentException",
            OrgErrorCode::MasterCannotLeaveOrganization => "MasterCannotLeaveOrganizationException",
            OrgErrorCode::OrganizationNotEmpty => "OrganizationNotEmptyException",
            OrgErrorCode::OrganizationalUnitNotEmpty => "OrganizationalUnitNotEmptyException",
            OrgErrorCode::OrganizationalUnitNotFound => "OrganizationalUnitNotFoundException",
            OrgErrorCode::ParentNotFound => "ParentNotFoundException",
            OrgErrorCode::PolicyInUse => "PolicyInUseException",
            OrgErrorCode::PolicyNotAttached => "PolicyNotAttachedException",
            OrgErrorCode::PolicyNotFound => "PolicyNotFoundException",
            OrgErrorCode::PolicyTypeAlreadyEnabled => "PolicyTypeAlreadyEnabledException",
            OrgErrorCode::PolicyTypeNotAvailableForOrganization => "PolicyTypeNotAvailableForOrganizationException",
            OrgErrorCode::PolicyTypeNotEnabled => "PolicyTypeNotEnabledException",
            OrgErrorCode::RootNotFound => "RootNotFoundException",
            OrgErrorCode::SourceParentNotFound => "SourceParentNotFoundException",
            OrgErrorCode::TargetNotFound => "TargetNotFoundException",
        }
    }

    /// The HTTP status. The Organizations model gives none of its client exceptions a status
    /// of its own, so the JSON protocol's default, 400, applies to all of them.
    pub fn status(self) -> u16 {
        400
    }
}

impl fmt::Display for OrgErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `Reason` of a `ConstraintViolationException`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConstraintReason {
    /// `OU_NUMBER_LIMIT_EXCEEDED`: the organization has its maximum number of OUs.
    OuNumberLimitExceeded,
    /// `OU_DEPTH_LIMIT_EXCEEDED`: an OU would sit more than five levels below the root.
    OuDepthLimitExceeded,
    /// `POLICY_NUMBER_LIMIT_EXCEEDED`: the organization has its maximum number of policies of a type.
    PolicyNumberLimitExceeded,
    /// `POLICY_CONTENT_LIMIT_EXCEEDED`: the document is over 5,120 characters.
    PolicyContentLimitExceeded,
    /// `MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED`: a target would hold more than five policies of a type.
    MaxPolicyTypeAttachmentLimitExceeded,
    /// `MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED`: a target would hold no SCP.
    MinPolicyTypeAttachmentLimitExceeded,
    /// `ACCOUNT_NUMBER_LIMIT_EXCEEDED`: the organization has its maximum number of accounts.
    AccountNumberLimitExceeded,
}

impl ConstraintReason {
    /// The reason as AWS spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ConstraintReason::OuNumberLimitExceeded => "OU_NUMBER_LIMIT_EXCEEDED",
            ConstraintReason::OuDepthLimitExceeded => "OU_DEPTH_LIMIT_EXCEEDED",
            ConstraintReason::PolicyNumberLimitExceeded => "POLICY_NUMBER_LIMIT_EXCEEDED",
            ConstraintReason::PolicyContentLimitExceeded => "POLICY_CONTENT_LIMIT_EXCEEDED",
            ConstraintReason::MaxPolicyTypeAttachmentLimitExceeded => "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
            ConstraintReason::MinPolicyTypeAttachmentLimitExceeded => "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
            ConstraintReason::AccountNumberLimitExceeded => "ACCOUNT_NUMBER_LIMIT_EXCEEDED",
        }
    }
}

/// The `Reason` of an `InvalidInputException`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InvalidInputReason {
    /// `INVALID_PATTERN`: an id or other value does not match its pattern.
    InvalidPattern,
    /// `INVALID_PATTERN_TARGET_ID`: a target id is not a root, OU or account id.
    InvalidPatternTargetId,
    /// `INVALID_SYNTAX_POLICY_ID`: a policy id does not match `p-...`.
    InvalidSyntaxPolicyId,
    /// `INVALID_ENUM_POLICY_TYPE`: not a policy type.
    InvalidEnumPolicyType,
    /// `MIN_LENGTH_EXCEEDED`: a value is too short.
    MinLengthExceeded,
    /// `MAX_LENGTH_EXCEEDED`: a value is too long.
    MaxLengthExceeded,
    /// `IMMUTABLE_POLICY`: an AWS managed policy cannot be changed or deleted.
    ImmutablePolicy,
    /// `NON_DETACHABLE_POLICY`: `RCPFullAWSAccess` cannot be detached.
    NonDetachablePolicy,
}

impl InvalidInputReason {
    /// The reason as AWS spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            InvalidInputReason::InvalidPattern => "INVALID_PATTERN",
            InvalidInputReason::InvalidPatternTargetId => "INVALID_PATTERN_TARGET_ID",
            InvalidInputReason::InvalidSyntaxPolicyId => "INVALID_SYNTAX_POLICY_ID",
            InvalidInputReason::InvalidEnumPolicyType => "INVALID_ENUM_POLICY_TYPE",
            InvalidInputReason::MinLengthExceeded => "MIN_LENGTH_EXCEEDED",
            InvalidInputReason::MaxLengthExceeded => "MAX_LENGTH_EXCEEDED",
            InvalidInputReason::ImmutablePolicy => "IMMUTABLE_POLICY",
            InvalidInputReason::NonDetachablePolicy => "NON_DETACHABLE_POLICY",
        }
    }
}

/// A refused Organizations operation: exception, reason where the exception has one, and
/// AWS's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgError {
    /// The exception.
    pub code: OrgErrorCode,
    /// The `Reason` member (`ConstraintViolationException`, `InvalidInputException`,
    /// `HandshakeConstraintViolationException`).
    pub reason: Option<&'static str>,
    /// The message.
    pub message: String,
}

impl OrgError {
    /// An error with AWS's message for `code`.
    pub fn new(code: OrgErrorCode, message: impl Into<String>) -> OrgError {
        OrgError { code, reason: None, message: message.into() }
    }

    /// A `ConstraintViolationException` with `reason`.
    pub fn constraint(reason: ConstraintReason, message: impl Into<String>) -> OrgError {
        OrgError { code: OrgErrorCode::ConstraintViolation, reason: Some(reason.as_str()), message: message.into() }
    }

    /// An `InvalidInputException` with `reason`.
    pub fn invalid_input(reason: InvalidInputReason, message: impl Into<String>) -> OrgError {
        OrgError { code: OrgErrorCode::InvalidInput, reason: Some(reason.as_str()), message: message.into() }
    }

    /// The HTTP status (400 for every exception this crate raises).
    pub fn status(&self) -> u16 {
        self.code.status()
    }

    pub(crate) fn not_in_use() -> OrgError {
        OrgError::new(
            OrgErrorCode::OrganizationsNotInUse,
            "Your account is not a member of an organization. To make this request, you must use the credentials of an account that belongs to an organization.",
        )
    }

    pub(crate) fn account_not_found() -> OrgError {
        OrgError::new(
            OrgErrorCode::AccountNotFound,
            "You specified an account that doesn't exist or isn't a member of your organization.",
        )
    }

    pub(crate) fn ou_not_found() -> OrgError {
        OrgError::new(
            OrgErrorCode::OrganizationalUnitNotFound,
            "We can't find an OU with the OrganizationalUnitId that you specified.",
        )
    }

    pub(crate) fn parent_not_found() -> OrgError {
        OrgError::new(OrgErrorCode::ParentNotFound, "We can't find a root or OU with the ParentId that you specified.")
    }

    pub(crate) fn policy_not_found() -> OrgError {
        OrgError::new(OrgErrorCode::PolicyNotFound, "We can't find a policy with the PolicyId that you specified.")
    }

    pub(crate) fn target_not_found() -> OrgError {
        OrgError::new(
            OrgErrorCode::TargetNotFound,
            "We can't find a root, OU, account, or policy with the TargetId that you specified.",
        )
    }

    pub(crate) fn root_not_found() -> OrgError {
        OrgError::new(OrgErrorCode::RootNotFound, "We can't find a root with the RootId that you specified.")
    }

    pub(crate) fn type_not_enabled() -> OrgError {
        OrgError::new(
            OrgErrorCode::PolicyTypeNotEnabled,
            "The specified policy type isn't currently enabled in this root. You can't attach policies of the specified type to entities in a root until you enable that type in the root.",
        )
    }
}

impl fmt::Display for OrgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason {
            Some(reason) => write!(f, "{} ({reason}): {}", self.code, self.message),
            None => write!(f, "{}: {}", self.code, self.message),
        }
    }
}

impl std::error::Error for OrgError {}
