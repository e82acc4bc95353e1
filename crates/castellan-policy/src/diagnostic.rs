//! Diagnostics: what is wrong with a policy document, in AWS's words and in ours, and where.

use std::fmt;

/// The AWS error code a diagnostic maps to when an API rejects the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// `MalformedPolicyDocument` (HTTP 400): the document breaks the policy grammar or a rule.
    MalformedPolicyDocument,
    /// `LimitExceeded` (HTTP 409): the document is larger than the quota for its kind.
    LimitExceeded,
    /// `ValidationError` (HTTP 400): the text breaks the API's constraint on characters.
    ValidationError,
    /// `ConstraintViolationException` (AWS Organizations): an SCP or RCP is over its size.
    ConstraintViolation,
}

impl ErrorCode {
    /// The code as AWS spells it on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::MalformedPolicyDocument => "MalformedPolicyDocument",
            ErrorCode::LimitExceeded => "LimitExceeded",
            ErrorCode::ValidationError => "ValidationError",
            ErrorCode::ConstraintViolation => "ConstraintViolationException",
        }
    }

    /// The HTTP status AWS answers with for this code.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::LimitExceeded => 409,
            ErrorCode::MalformedPolicyDocument | ErrorCode::ValidationError | ErrorCode::ConstraintViolation => 400,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A position in the policy text: 1-based line and column (in characters), and byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Position {
    /// 1-based line number.
    pub line: u32,
    /// 1-based column, counted in characters.
    pub column: u32,
    /// Byte offset into the text.
    pub offset: usize,
}

impl Position {
    pub(crate) fn at(text: &str, offset: usize) -> Position {
        let (line, column) = crate::json::line_column(text, offset);
        Position { line, column, offset }
    }
}

/// The order in which AWS's validator looks at a document. When a document has several
/// problems, AWS reports one: the one whose check comes first. Diagnostics are sorted by stage
/// so that the first one is what AWS would answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Stage {
    /// Characters outside the API's allowed set.
    Characters,
    /// JSON, element names and types, required structure.
    Syntax,
    /// The `Version` a kind requires.
    Version,
    /// Checks AWS reports as "The policy failed legacy parsing".
    Legacy,
    /// `Sid` characters and uniqueness.
    Sid,
    /// Every statement has `Action` or `NotAction` with at least one entry.
    ActionsPresent,
    /// ARN format of `Resource` / `NotResource` entries.
    ResourceFormat,
    /// `service:Action` format of actions and condition keys.
    ActionFormat,
    /// Every statement that needs one has `Resource` or `NotResource`.
    ResourcesPresent,
    /// Rules of the policy kind (principals, elements a kind forbids).
    Kind,
    /// The size quota of the kind.
    Size,
}

/// Whether a diagnostic rejects the document or only advises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    /// The document is rejected.
    Error,
    /// The document is accepted, but something in it is probably not what its author meant.
    Warning,
}

/// One problem found in a policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The AWS error code (for warnings, the code the problem would have if it were an error).
    pub code: ErrorCode,
    /// AWS's own message text where AWS has one, exactly as the IAM API returns it.
    pub message: String,
    /// Castellan's precise explanation of what is wrong at this position.
    pub detail: String,
    /// Where the problem is.
    pub position: Position,
    pub(crate) stage: Stage,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}: {}", self.position.line, self.position.column, self.code, self.message)?;
        if !self.detail.is_empty() && self.detail != self.message {
            write!(f, " ({})", self.detail)?;
        }
        Ok(())
    }
}

/// AWS's message texts, kept in one place so that tests and callers agree on them.
pub mod messages {
    /// Any JSON or structural error.
    pub const SYNTAX: &str = "Syntax errors in policy.";
    /// A kind that needs `2012-10-17` got another version or none.
    pub const VERSION: &str = "Policy document must be version 2012-10-17 or greater.";
    /// Effect in the wrong case, short ARNs, bad condition values.
    pub const LEGACY: &str = "The policy failed legacy parsing";
    /// Two statements share a non-empty `Sid`.
    pub const SID_UNIQUE: &str = "Statement IDs (SID) in a single policy must be unique.";
    /// A statement without actions.
    pub const NO_ACTIONS: &str = "Policy statement must contain actions.";
    /// A statement without resources.
    pub const NO_RESOURCES: &str = "Policy statement must contain resources.";
    /// An action or condition key without `vendor:`.
    pub const NO_VENDOR: &str = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.";
    /// An action or condition key with more than one colon.
    pub const ONE_COLON: &str = "Actions/Condition can contain only one colon.";
    /// A resource ARN without a plain service.
    pub const RESOURCE_VENDOR: &str = "Resource vendor must be fully qualified and cannot contain regexes.";
    /// An IAM resource whose path does not start with a known resource type.
    pub const IAM_PATH: &str = "IAM resource path must either be \"*\" or start with user/, federated-user/, role/, group/, instance-profile/, mfa/, server-certificate/, policy/, sms-mfa/, saml-provider/, oidc-provider/, report/, access-report/.";
    /// A principal in a policy kind that cannot have one.
    pub const NO_PRINCIPAL: &str = "Policy document should not specify a principal.";
    /// A trust policy with an action outside STS.
    pub const TRUST_ACTIONS: &str = "AssumeRole policy may only specify STS AssumeRole actions.";
    /// The API's character constraint on policy documents.
    pub const CHARACTERS: &str = "1 validation error detected: Value at 'policyDocument' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+";

    /// `Vendor X is not valid`.
    pub fn bad_vendor(vendor: &str) -> String {
        format!("Vendor {vendor} is not valid")
    }

    /// `Resource X must be in ARN format or "*".`
    pub fn not_arn(resource: &str) -> String {
        format!("Resource {resource} must be in ARN format or \"*\".")
    }

    /// `Partition "P" is not valid for resource "arn:...".`
    pub fn bad_partition(partition: &str, normalized: &str) -> String {
        format!("Partition \"{partition}\" is not valid for resource \"{normalized}\".")
    }

    /// IAM resources carry no region.
    pub fn iam_region(resource: &str) -> String {
        format!("IAM resource {resource} cannot contain region information.")
    }

    /// S3 bucket and object resources carry no region.
    pub fn s3_region(resource: &str) -> String {
        format!("Resource {resource} can not contain region information.")
    }

    /// A principal value that names nothing valid.
    pub fn invalid_principal(kind: &str, value: &str) -> String {
        format!("Invalid principal in policy: \"{kind}\":\"{value}\"")
    }

    /// An element the kind must have.
    pub fn missing_field(field: &str) -> String {
        format!("Missing required field {field}")
    }

    /// An element the kind must not have.
    pub fn prohibited_field(field: &str) -> String {
        format!("Has prohibited field {field}")
    }
}
