//! Trust-policy principals kept as unique ids, as IAM does (reference §1.3, "ARN→ID rewriting").
//!
//! A role record keeps its trust policy as submitted plus a mapping from each `AWS` principal
//! value that names a user or role ARN of the store's own account to that entity's unique id
//! (`AIDA...`, `AROA...`), resolved when the policy is written; a value naming no existing entity
//! refuses the write with `MalformedPolicyDocument: Invalid principal in policy`. ARNs of other
//! accounts, account ids, root ARNs, services and `*` are kept as written.
//!
//! The render step gives the policy as it currently means: while every mapped entity still
//! exists under its ARN with the same id, the submitted document itself; otherwise the canonical
//! printing of the policy in which each value whose entity is gone is replaced by the raw unique
//! id. An entity created again under the same name has a new id, so it does not get the grant
//! back. Reads (`GetRole`) and the snapshot's trust layer both use the rendered form.

use std::collections::BTreeMap;

use castellan_policy::{
    Arn, Policy, PolicyKind, Principal, PrincipalClause, PrincipalId, PrincipalKind, PrincipalValue,
};

use crate::error::{ErrorCode, StoreError};
use crate::memory::{RoleRec, State};
use crate::names::{RoleName, UserName};
use crate::store::Role;

fn parse(text: &str) -> Result<Policy, StoreError> {
    Policy::parse(text, PolicyKind::Trust)
        .map_err(|e| StoreError::new(ErrorCode::MalformedPolicyDocument, e.to_string()))
}

/// The `AWS` principal values of every statement's `Principal` / `NotPrincipal`.
fn aws_values(policy: &mut Policy) -> impl Iterator<Item = &mut PrincipalValue> {
    policy
        .statements
        .iter_mut()
        .filter_map(|s| match &mut s.principal {
            Some(
                PrincipalClause::Principal(Principal::Named(e)) | PrincipalClause::NotPrincipal(Principal::Named(e)),
            ) => Some(e),
            _ => None,
        })
        .flatten()
        .filter(|e| e.kind == PrincipalKind::Aws)
        .flat_map(|e| e.values.iter_mut())
}

/// The user or role ARN of `account` that `value` names, if it names one.
fn local_entity_arn<'v>(value: &'v PrincipalValue, account: &str) -> Option<&'v Arn> {
    match value.id() {
        PrincipalId::Arn(arn)
            if arn.service() == "iam"
                && arn.account() == account
                && (arn.resource().starts_with("user/") || arn.resource().starts_with("role/")) =>
        {
            Some(arn)
        }
        _ => None,
    }
}

/// The unique id of the user or role whose ARN is exactly `arn`, if it exists.
fn current_id(state: &State, arn: &Arn) -> Option<String> {
    let resource = arn.resource();
    let name = resource.rsplit('/').next()?;
    if resource.starts_with("user/") {
        let rec = state.users.get(&UserName::parse(name).ok()?.key())?;
        (rec.user.arn == arn.as_str()).then(|| rec.user.user_id.clone())
    } else {
        let rec = state.roles.get(&RoleName::parse(name).ok()?.key())?;
        (rec.role.arn == arn.as_str()).then(|| rec.role.role_id.clone())
    }
}

/// Resolves the user and role ARNs of `account` that the (already checked) trust policy `text`
/// names to unique ids; refused with `MalformedPolicyDocument` when one names no existing entity.
pub(crate) fn resolve(state: &State, account: &str, text: &str) -> Result<BTreeMap<String, String>, StoreError> {
    let mut policy = parse(text)?;
    let mut ids = BTreeMap::new();
    for value in aws_values(&mut policy) {
        let Some(arn) = local_entity_arn(value, account) else { continue };
        match current_id(state, arn) {
            Some(id) => drop(ids.insert(arn.as_str().to_owned(), id)),
            None => {
                return Err(StoreError::new(
                    ErrorCode::MalformedPolicyDocument,
                    castellan_policy::messages::invalid_principal("AWS", value.as_str()),
                ));
            }
        }
    }
    Ok(ids)
}

/// Whether the trust policy of `rec` names the entity with unique id `id`.
pub(crate) fn names_id(rec: &RoleRec, id: &str) -> bool {
    rec.trust_ids.values().any(|v| v == id)
}

/// A principal value holding the raw unique id `id` (the parser is the only way to build one).
fn unique_id_value(id: &str) -> Result<PrincipalValue, StoreError> {
    PrincipalValue::parse(PrincipalKind::Aws, id)
        .ok_or_else(|| StoreError::new(ErrorCode::ServiceFailure, format!("cannot express the principal {id}")))
}

/// The trust policy of `rec` as it currently means (see the module documentation).
pub(crate) fn render(state: &State, rec: &RoleRec) -> Result<String, StoreError> {
    let document = &rec.role.assume_role_policy_document;
    let gone: BTreeMap<&str, &str> = rec
        .trust_ids
        .iter()
        .filter(|(arn, id)| Arn::parse(arn).ok().and_then(|a| current_id(state, &a)).as_deref() != Some(id.as_str()))
        .map(|(arn, id)| (arn.as_str(), id.as_str()))
        .collect();
    if gone.is_empty() {
        return Ok(document.clone());
    }
    let mut policy = parse(document)?;
    for value in aws_values(&mut policy) {
        let id = match value.id() {
            PrincipalId::Arn(arn) => gone.get(arn.as_str()).copied(),
            _ => None,
        };
        if let Some(id) = id {
            *value = unique_id_value(id)?;
        }
    }
    Ok(policy.to_string())
}

/// The role of `rec` as reads show it: with its trust policy rendered.
pub(crate) fn shown(state: &State, rec: &RoleRec) -> Result<Role, StoreError> {
    Ok(Role { assume_role_policy_document: render(state, rec)?, ..rec.role.clone() })
}
