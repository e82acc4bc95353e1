//! `DecodeAuthorizationMessage`: the explanation of a denial, sealed by the service that denied
//! and opened for a caller of the same account who may read it.
//!
//! [`Sts::encode_authorization_message`] seals an [`AuthorizationMessage`] with the session
//! token service's keys under its own context ([`MESSAGE_CONTEXT`]), so that neither a token nor
//! anything else sealed with those keys can pass for a message, or back. The sealed text is
//! base64. [`Sts::decode_authorization_message`] opens it for a caller whose identity policies
//! allow `sts:DecodeAuthorizationMessage` (the root user needs none) and who belongs to the
//! account of the denied principal; anything it cannot open, or a message of another account,
//! is `InvalidAuthorizationMessageException`. A message lives as long as the key that sealed it.

use castellan_eval::{Context, Decision, LayerKind, Outcome, PrincipalType, Request};
use castellan_policy::Effect;
use rand::{CryptoRng, Rng};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::assume_role::{Caller, Sts};
use crate::error::{StsError, StsErrorCode};

/// The domain-separation context of authorization messages.
pub const MESSAGE_CONTEXT: &[u8] = b"castellan-sts/authorization-message/v1";

/// The longest `EncodedMessage` (the model's limit).
pub const MAX_ENCODED_MESSAGE_LEN: usize = 10_240;

/// One condition key of the request and its values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageCondition {
    /// The key (`aws:SourceIp`).
    pub key: String,
    /// Its values.
    pub values: Vec<String>,
}

/// A statement that decided, as the message shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageStatement {
    /// The policy's id (an ARN, or `KIND/NAME/inline/POLICY`).
    pub policy: String,
    /// The layer (`identity`, `resource`, `scp`, ...).
    pub policy_type: String,
    /// The statement's `Sid`, or its 1-based position.
    pub statement_id: String,
    /// `ALLOW` or `DENY`.
    pub effect: String,
}

/// The explanation of an authorization decision, as `DecodeAuthorizationMessage` returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationMessage {
    /// Whether the request was allowed.
    pub allowed: bool,
    /// Whether an explicit deny decided.
    pub explicit_deny: bool,
    /// The statements that decided.
    pub matched_statements: Vec<MessageStatement>,
    /// Why the decision could not be made fully (e.g. condition keys the request lacked).
    pub failures: Vec<String>,
    /// The principal's unique id (`AIDA...`, `AROA...:SESSION`, the account id for root).
    pub principal_id: String,
    /// The principal's name (user name, role session name, federated user name; empty for root).
    pub principal_name: String,
    /// The principal's ARN.
    pub principal_arn: String,
    /// The action.
    pub action: String,
    /// The resource.
    pub resource: String,
    /// The request's condition keys the caller chose to show.
    pub conditions: Vec<MessageCondition>,
}

impl AuthorizationMessage {
    /// The message for `decision` on `request`; `keys` are the condition keys to show, read
    /// from the request's context (keys it does not have are left out).
    pub fn new(decision: &Decision, request: &Request<'_>, keys: &[&str]) -> AuthorizationMessage {
        let p = request.principal;
        let arn = p.arn.as_ref().map(|a| a.as_str().to_owned()).unwrap_or_default();
        let name = match &p.kind {
            PrincipalType::AssumedRole { session_name, .. } => session_name.to_string(),
            PrincipalType::Root => String::new(),
            _ => arn.rsplit('/').next().unwrap_or_default().to_owned(),
        };
        let id = match &p.kind {
            PrincipalType::Root => p.account.as_ref().map(|a| a.as_str().to_owned()).unwrap_or_default(),
            PrincipalType::AssumedRole { session_name, .. } => {
                format!("{}:{session_name}", p.unique_id.as_deref().unwrap_or_default())
            }
            _ => p.unique_id.as_deref().unwrap_or_default().to_owned(),
        };
        let matched_statements = decision
            .matched
            .iter()
            .map(|m| MessageStatement {
                policy: m.policy_id.clone(),
                policy_type: layer_name(m.layer).to_owned(),
                statement_id: m.sid.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| (m.index + 1).to_string()),
                effect: match m.effect {
                    Effect::Allow => "ALLOW".to_owned(),
                    Effect::Deny => "DENY".to_owned(),
                },
            })
            .collect();
        let failures = decision.missing_context_keys.iter().map(|k| format!("missing context key {k}")).collect();
        let conditions = keys
            .iter()
            .filter_map(|k| {
                let v = request.context.get(k)?;
                Some(MessageCondition { key: (*k).to_owned(), values: v.values().map(str::to_owned).collect() })
            })
            .collect();
        AuthorizationMessage {
            allowed: decision.outcome == Outcome::Allow,
            explicit_deny: decision.outcome == Outcome::ExplicitDeny,
            matched_statements,
            failures,
            principal_id: id,
            principal_name: name,
            principal_arn: arn,
            action: request.action.to_owned(),
            resource: request.resource.to_owned(),
            conditions,
        }
    }

    /// The JSON `DecodedMessage` holds, in AWS's shape: lists as `{"items": [...]}`, condition
    /// values as `{"items": [{"value": V}]}`.
    pub fn to_json(&self) -> String {
        let statements: Vec<Value> = self
            .matched_statements
            .iter()
            .map(|s| {
                json!({"statementId": s.statement_id, "effect": s.effect, "policy": s.policy,
                       "policyType": s.policy_type})
            })
            .collect();
        let conditions: Vec<Value> = self
            .conditions
            .iter()
            .map(|c| {
                let values: Vec<Value> = c.values.iter().map(|v| json!({"value": v})).collect();
                json!({"key": c.key, "values": {"items": values}})
            })
            .collect();
        json!({
            "allowed": self.allowed,
            "explicitDeny": self.explicit_deny,
            "matchedStatements": {"items": statements},
            "failures": {"items": self.failures},
            "context": {
                "principal": {"id": self.principal_id, "name": self.principal_name, "arn": self.principal_arn},
                "action": self.action,
                "resource": self.resource,
                "conditions": {"items": conditions},
            },
        })
        .to_string()
    }

    /// The account of the principal, read from its ARN.
    fn account(&self) -> Option<&str> {
        self.principal_arn.split(':').nth(4).filter(|a| !a.is_empty())
    }
}

fn layer_name(layer: LayerKind) -> &'static str {
    layer.as_str()
}

/// What is sealed: the principal's account (only its callers may decode) and the JSON.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Sealed {
    a: String,
    m: String,
}

fn invalid_message() -> StsError {
    StsError::new(StsErrorCode::InvalidAuthorizationMessage, "The message provided is not a valid encoded message.")
}

impl Sts<'_> {
    /// Seals `message` into an `EncodedMessage`. Should the text exceed
    /// [`MAX_ENCODED_MESSAGE_LEN`], the conditions, then the matched statements, are left out.
    pub fn encode_authorization_message<R: Rng + CryptoRng + ?Sized>(
        &self,
        message: &AuthorizationMessage,
        rng: &mut R,
    ) -> Result<String, StsError> {
        let account = message.account().unwrap_or_default().to_owned();
        let mut m = message.clone();
        for step in 0..3 {
            match step {
                1 => m.conditions.clear(),
                2 => m.matched_statements.clear(),
                _ => {}
            }
            let sealed = serde_json::to_vec(&Sealed { a: account.clone(), m: m.to_json() })
                .map_err(|_| StsError::new(StsErrorCode::ServiceFailure, "the message could not be encoded"))?;
            let text = self
                .tokens
                .seal_other(&sealed, MESSAGE_CONTEXT, rng)
                .ok_or_else(|| StsError::new(StsErrorCode::ServiceFailure, "the message could not be sealed"))?;
            if text.len() <= MAX_ENCODED_MESSAGE_LEN {
                return Ok(text);
            }
        }
        Err(StsError::new(StsErrorCode::ServiceFailure, "the message is too long to encode"))
    }

    /// `DecodeAuthorizationMessage` by `caller`: the message's JSON. `context` holds the
    /// request's own keys.
    pub fn decode_authorization_message(
        &self,
        caller: &Caller,
        encoded: &str,
        context: &Context,
    ) -> Result<String, StsError> {
        let len = encoded.chars().count();
        if !(1..=MAX_ENCODED_MESSAGE_LEN).contains(&len) {
            return Err(StsError::constraint(
                "...",
                "encodedMessage",
                &format!("have length between 1 and {MAX_ENCODED_MESSAGE_LEN}"),
            ));
        }
        let side = self.authorize_own(caller, "sts:DecodeAuthorizationMessage", context)?;
        let plain = self.tokens.open_other(encoded, MESSAGE_CONTEXT).ok_or_else(invalid_message)?;
        let sealed: Sealed = serde_json::from_slice(&plain).map_err(|_| invalid_message())?;
        if sealed.a != side.account {
            return Err(invalid_message());
        }
        Ok(sealed.m)
    }
}
