//! AWS IAM policy evaluation.
//!
//! This crate decides whether policy statements apply to a request: actions (case-insensitive,
//! wildcards), resources (ARN parts matched separately, case-sensitive, policy variables
//! resolved from the request) and conditions (every operator, `IfExists`, `ForAllValues` /
//! `ForAnyValue`, negated operators on missing keys, `Null`).
//!
//! It depends on `castellan-policy` only, does no IO and reads no clock: time is part of the
//! request (`aws:CurrentTime`, `aws:EpochTime`).
//!
//! [`evaluate`] applies AWS's whole order over the layers of a request (explicit deny
//! anywhere; RCP and SCP levels; VPC endpoint policies; the resource policy with AWS's rules for
//! which principal it names; identity policies; the permissions boundary; session policies;
//! cross-account) and explains the result: the statements that decided, the layer that denied
//! in AWS's words, and the context keys the policies looked for and did not find.
//!
//! ```
//! use castellan_eval::{Context, Layers, NamedPolicy, Outcome, Principal, Request, evaluate};
//! use castellan_policy::{Policy, PolicyKind};
//!
//! let policy = Policy::parse(
//!     r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:Get*",
//!         "Resource": "arn:aws:s3:::bucket/${aws:username}/*"}}"#,
//!     PolicyKind::Identity,
//! )?;
//! let alice = Principal::from_arn("arn:aws:iam::111122223333:user/alice", None)?;
//! let mut context = Context::new();
//! alice.fill_context(&mut context);
//! let request = Request {
//!     principal: &alice,
//!     action: "s3:GetObject",
//!     resource: "arn:aws:s3:::bucket/alice/notes.txt",
//!     resource_account: None,
//!     context: &context,
//! };
//! let layers = Layers { identity: vec![NamedPolicy { id: "inline", policy: &policy }], ..Layers::default() };
//! assert_eq!(evaluate(&request, &layers).outcome, Outcome::Allow);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! For many decisions over the same policies, [`Layers::compile`] indexes each layer's
//! statements by action and resource ([`PolicySet`]), and [`CompiledLayers::decide`] answers
//! without building an explanation (and without allocating, for policies without variables).

mod context;
mod decision;
mod evaluate;
mod index;
mod matching;
mod request;

#[cfg(test)]
mod tests;

pub use context::{Context, ContextValue};
pub use decision::{Decision, LayerKind, Layers, MatchedStatement, NamedPolicy, OrgLevel, Outcome};
pub use evaluate::{CompiledLayers, CompiledLevel, evaluate};
pub use index::PolicySet;
pub use matching::{action_matches, condition_matches, conditions_match, resource_matches};
pub use request::{Principal, PrincipalError, PrincipalType, Request};
