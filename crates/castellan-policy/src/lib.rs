//! The AWS IAM policy language: JSON policy text in, a typed and validated [`Policy`] out, and
//! back again through a canonical printer.
//!
//! ```
//! use castellan_policy::{Policy, PolicyKind};
//!
//! let text = r#"{"Version": "2012-10-17",
//!   "Statement": {"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::bucket/*"}}"#;
//! let policy = Policy::parse(text, PolicyKind::Identity)?;
//! assert!(policy.statements[0].action.patterns()[0].matches("S3:GetObject"));
//! assert_eq!(Policy::parse(&policy.to_string(), PolicyKind::Identity)?, policy);
//! # Ok::<(), castellan_policy::PolicyError>(())
//! ```
//!
//! # Design
//!
//! - **One pass, all problems.** The JSON is read into a tree that keeps positions and
//!   duplicate keys (which `serde_json` drops), then walked once; every problem becomes a
//!   [`Diagnostic`] with line and column. AWS reports one problem per document, chosen by the
//!   order of its validator's checks; diagnostics are sorted in that order, so the first is
//!   AWS's answer, with AWS's error code and message text.
//! - **Parse, don't validate.** What survives parsing is typed: [`ActionPattern`],
//!   [`ResourcePattern`] with its ARN parts, [`Principal`] values, [`Operator`]s as a closed
//!   enum, condition values already read as numbers, dates, CIDRs, bytes or templates with
//!   policy variables. Evaluation never re-parses text.
//! - **Kinds are rules, not types.** The seven [`PolicyKind`]s share one grammar and one
//!   [`Policy`] type; a kind only adds rules (required and forbidden elements, version, size).
//! - **Layout is not meaning.** [`Policy`] equality ignores layout and positions, and the
//!   canonical printer writes each policy one way, so `parse(print(p)) == p`.

mod arn;
mod ast;
mod condition;
mod diagnostic;
mod json;
mod kind;
mod parse;
mod print;
mod template;
mod value;
pub mod wildcard;

#[cfg(test)]
mod tests;

use std::fmt;

pub use arn::{AccountId, AccountIdError, Arn, ArnError, PARTITIONS, is_partition};
pub use ast::{
    ActionClause, ActionPattern, ArnPattern, Effect, Policy, Principal, PrincipalClause, PrincipalEntry, PrincipalId,
    PrincipalKind, PrincipalValue, ResourceClause, ResourcePattern, Statement, Version,
};
pub use condition::{
    BaseOperator, Condition, ConditionValue, Operator, OperatorFamily, SetQualifier, TypedValue, UnknownOperator,
    parse_bool,
};
pub use diagnostic::{Diagnostic, ErrorCode, Position, Severity, messages};
pub use kind::{PolicyKind, SizeQuota, UnknownKind, iam_size};
pub use parse::{Checked, check, check_grammar};
pub use print::to_pretty_string;
pub use template::{ConditionKey, Segment, Template, Variable};
pub use value::{Decimal, Timestamp, decode_base64, parse_ip};

/// A rejected policy document: every error, the first being the one AWS reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    /// The errors, in the order AWS's validator would find them (never empty).
    pub errors: Vec<Diagnostic>,
}

impl PolicyError {
    /// The error AWS reports for the document.
    pub fn first(&self) -> Option<&Diagnostic> {
        self.errors.first()
    }

    /// The AWS error code of the reported error.
    pub fn code(&self) -> ErrorCode {
        self.first().map_or(ErrorCode::MalformedPolicyDocument, |d| d.code)
    }

    /// AWS's message text for the reported error.
    pub fn message(&self) -> &str {
        self.first().map_or(messages::SYNTAX, |d| d.message.as_str())
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.first() {
            Some(d) => write!(f, "{d}"),
            None => f.write_str(messages::SYNTAX),
        }
    }
}

impl std::error::Error for PolicyError {}

impl Policy {
    /// Parses `text` as a policy of `kind`; warnings are dropped (use [`check`] to see them).
    pub fn parse(text: &str, kind: PolicyKind) -> Result<Policy, PolicyError> {
        into_result(check(text, kind))
    }

    /// Parses `text` with only the grammar every kind shares.
    pub fn parse_grammar(text: &str) -> Result<Policy, PolicyError> {
        into_result(check_grammar(text))
    }
}

fn into_result(checked: Checked) -> Result<Policy, PolicyError> {
    match checked.policy {
        Some(policy) => Ok(policy),
        None => Err(PolicyError { errors: checked.errors().cloned().collect() }),
    }
}
