//! Whether one statement applies to a request: actions, resources and conditions, with policy
//! variables resolved from the request context.

use castellan_policy::wildcard::{self, Case};
use castellan_policy::{
    ActionClause, ArnPattern, BaseOperator, Condition, ConditionKey, ResourceClause, ResourcePattern, Segment,
    SetQualifier, Template, Timestamp, TypedValue, decode_base64, parse_bool, parse_ip,
};

use crate::context::Context;

/// Whether the `Action` / `NotAction` element covers `action` (`service:Name`).
pub fn action_matches(clause: &ActionClause, action: &str) -> bool {
    match clause {
        ActionClause::Action(patterns) => patterns.iter().any(|p| p.matches(action)),
        ActionClause::NotAction(patterns) => !patterns.iter().any(|p| p.matches(action)),
    }
}

/// Whether the `Resource` / `NotResource` element covers `resource` (an ARN, or `*` for
/// actions that take no resource).
pub fn resource_matches(clause: &ResourceClause, resource: &str, context: &Context) -> bool {
    match clause {
        ResourceClause::Resource(patterns) => patterns.iter().any(|p| pattern_matches(p, resource, context)),
        // An entry whose variable cannot be resolved matches nothing, so it excludes nothing.
        ResourceClause::NotResource(patterns) => !patterns.iter().any(|p| pattern_matches(p, resource, context)),
    }
}

fn pattern_matches(pattern: &ResourcePattern, resource: &str, context: &Context) -> bool {
    match pattern {
        ResourcePattern::Any => true,
        ResourcePattern::Arn(arn) => arn_pattern_matches(arn, resource, context),
    }
}

/// Matches the six parts separately; wildcards never cross from one part into another, except
/// within the resource part, which may itself contain colons.
fn arn_pattern_matches(pattern: &ArnPattern, resource: &str, context: &Context) -> bool {
    let Some(parts) = split_arn(resource) else {
        return false;
    };
    let [partition, service, region, account, rest] = parts;
    wildcard::matches(pattern.partition(), partition, Case::Sensitive)
        && pattern.service() == service
        && wildcard::matches(pattern.region(), region, Case::Sensitive)
        && wildcard::matches(pattern.account(), account, Case::Sensitive)
        && template_like(pattern.resource(), rest, Case::Sensitive, context).unwrap_or(false)
}

/// Splits `arn:p:s:r:a:rest` into its five parts after `arn:`.
fn split_arn(text: &str) -> Option<[&str; 5]> {
    let rest = text.strip_prefix("arn:")?;
    let mut it = rest.splitn(5, ':');
    Some([it.next()?, it.next()?, it.next()?, it.next()?, it.next()?])
}

/// A template piece after variables are resolved.
#[derive(Clone, Copy)]
enum Tok {
    Char(char),
    Star,
    One,
}

/// Resolves a template's variables. `None` when a variable has no value and no default: the
/// policy value then matches nothing.
fn resolve(template: &Template, context: &Context) -> Option<String> {
    let mut out = String::with_capacity(template.as_str().len());
    for segment in template.segments() {
        match segment {
            Segment::Text(t) => out.push_str(t),
            Segment::Literal(c) => out.push(*c),
            Segment::Variable(v) => out.push_str(variable_value(&v.key, v.default.as_deref(), context)?),
        }
    }
    Some(out)
}

fn variable_value<'c>(key: &ConditionKey, default: Option<&'c str>, context: &'c Context) -> Option<&'c str> {
    // Only single-valued keys can be variables.
    context.get_lower(key.lower()).and_then(|v| v.as_single()).or(default)
}

/// Matches `text` against a template in which `*` and `?` of the written text are wildcards,
/// and escaped characters and substituted values are literal. `None` when a variable is
/// unresolved.
fn template_like(template: &Template, text: &str, case: Case, context: &Context) -> Option<bool> {
    if let Some(plain) = template.as_plain() {
        return Some(wildcard::matches(plain, text, case));
    }
    let toks = template_toks(template, context)?;
    let text: Vec<char> = text.chars().collect();
    Some(match_toks(&toks, &text, case))
}

/// The template as wildcard pieces: `*` and `?` of the written text are wildcards, escapes and
/// substituted values are literal. `None` when a variable is unresolved.
fn template_toks(template: &Template, context: &Context) -> Option<Vec<Tok>> {
    let mut toks = Vec::with_capacity(template.as_str().len());
    for segment in template.segments() {
        match segment {
            Segment::Text(t) => toks.extend(t.chars().map(|c| match c {
                '*' => Tok::Star,
                '?' => Tok::One,
                c => Tok::Char(c),
            })),
            Segment::Literal(c) => toks.push(Tok::Char(*c)),
            Segment::Variable(v) => {
                toks.extend(variable_value(&v.key, v.default.as_deref(), context)?.chars().map(Tok::Char))
            }
        }
    }
    Some(toks)
}

fn chars_eq(a: char, b: char, case: Case) -> bool {
    a == b || (case == Case::Insensitive && a.to_lowercase().eq(b.to_lowercase()))
}

fn match_toks(pattern: &[Tok], text: &[char], case: Case) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match (pattern.get(p), text.get(t)) {
            (Some(Tok::Star), _) => {
                p += 1;
                star = Some((p, t));
            }
            (Some(Tok::One), Some(_)) => {
                p += 1;
                t += 1;
            }
            (Some(Tok::Char(pc)), Some(&tc)) if chars_eq(*pc, tc, case) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern.get(p..).is_some_and(|rest| rest.iter().all(|t| matches!(t, Tok::Star)))
}

/// Whether every condition holds. Keys the conditions read but the context lacks are added to
/// `missing` (for explanations), whether or not that made a condition fail.
pub fn conditions_match(conditions: &[Condition], context: &Context, missing: &mut Vec<ConditionKey>) -> bool {
    conditions_hold(conditions, context, &mut |key| {
        if !missing.contains(key) {
            missing.push(key.clone());
        }
    })
}

/// Whether every condition holds, calling `on_missing` for each key the context lacks. Every
/// condition is looked at (not only up to the first that fails), so the missing keys are
/// complete.
pub(crate) fn conditions_hold(
    conditions: &[Condition],
    context: &Context,
    on_missing: &mut impl FnMut(&ConditionKey),
) -> bool {
    let mut all = true;
    for condition in conditions {
        if context.get_lower(condition.key.lower()).is_none() {
            on_missing(&condition.key);
        }
        if all && !condition_matches(condition, context) {
            all = false;
        }
    }
    all
}

/// Evaluates one condition (operator, key, values) against the context.
pub fn condition_matches(condition: &Condition, context: &Context) -> bool {
    let op = condition.operator;
    let present = context.get_lower(condition.key.lower());
    if op.base == BaseOperator::Null {
        // `"true"` asks for the key to be absent, `"false"` for it to be present.
        let absent = present.is_none_or(|v| v.values().len() == 0 || v.values().all(str::is_empty));
        return condition.values.iter().any(|v| matches!(v.typed(), TypedValue::Null(want) if *want == absent));
    }
    let negated = op.base.is_negated();
    let Some(present) = present else {
        return match op.qualifier {
            _ if op.if_exists => true,
            Some(SetQualifier::ForAllValues) => true,
            Some(SetQualifier::ForAnyValue) => false,
            None => negated,
        };
    };
    // One request value against the policy values: any matches (positive), none matches
    // (negated).
    let one = |request: &str| {
        let any = condition.values.iter().any(|p| value_matches(op.base, p.typed(), request, context));
        any != negated
    };
    let mut values = present.values();
    match op.qualifier {
        Some(SetQualifier::ForAllValues) => values.all(one),
        Some(SetQualifier::ForAnyValue) => values.any(one),
        None if negated => values.all(one),
        None => values.any(one),
    }
}

/// Whether one request value and one policy value compare as the (positive form of the)
/// operator asks. A request value of the wrong type never compares.
fn value_matches(base: BaseOperator, policy: &TypedValue, request: &str, context: &Context) -> bool {
    use BaseOperator::*;
    match (base, policy) {
        (StringEquals | StringNotEquals, TypedValue::String(t)) => {
            t.as_plain().map_or_else(|| resolve(t, context).is_some_and(|s| s == request), |s| s == request)
        }
        (StringEqualsIgnoreCase | StringNotEqualsIgnoreCase, TypedValue::String(t)) => match t.as_plain() {
            Some(s) => eq_ignore_case(s, request),
            None => resolve(t, context).is_some_and(|s| eq_ignore_case(&s, request)),
        },
        (StringLike | StringNotLike, TypedValue::String(t)) => {
            template_like(t, request, Case::Sensitive, context).unwrap_or(false)
        }
        (_, TypedValue::Arn(t)) => arn_like(t, request, context),
        (_, TypedValue::Numeric(p)) => p.compare_text(request.trim()).is_some_and(|o| compare(base, o)),
        (_, TypedValue::Date(p)) => Timestamp::parse(request.trim()).is_some_and(|r| compare(base, r.cmp(p))),
        (_, TypedValue::Bool(t)) => {
            let policy = match t.as_plain() {
                Some(s) => parse_bool(s),
                None => resolve(t, context).as_deref().and_then(parse_bool),
            };
            matches!((policy, parse_bool(request)), (Some(p), Some(r)) if p == r)
        }
        (_, TypedValue::Binary(p)) => decode_base64(request).is_some_and(|r| *r == **p),
        (_, TypedValue::Ip(net)) => parse_ip(request).is_some_and(|r| net.contains(&r)),
        _ => false,
    }
}

fn eq_ignore_case(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        a.chars().flat_map(char::to_lowercase).eq(b.chars().flat_map(char::to_lowercase))
    }
}

/// `Arn*` operators: both sides split into six parts, each part matched on its own.
fn arn_like(template: &Template, request: &str, context: &Context) -> bool {
    let parts_match = |pattern: &str| match (split_arn(pattern), split_arn(request)) {
        (Some(p), Some(r)) => p.iter().zip(r.iter()).all(|(p, r)| wildcard::matches(p, r, Case::Sensitive)),
        _ => false,
    };
    match template.as_plain() {
        Some(pattern) => parts_match(pattern),
        // Substituted values and escapes (`${*}`, `${?}`) are literal characters, as in
        // `StringLike`; only the written `*` and `?` are wildcards.
        None => template_toks(template, context).is_some_and(|toks| arn_toks_match(&toks, request)),
    }
}

/// [`arn_like`] for a resolved template: the pieces split into six parts at the first five
/// colons, each part matched against the request's part.
fn arn_toks_match(toks: &[Tok], request: &str) -> bool {
    let mut parts: Vec<&[Tok]> = Vec::with_capacity(6);
    let mut rest = toks;
    while parts.len() < 5 {
        let Some(colon) = rest.iter().position(|t| matches!(t, Tok::Char(':'))) else {
            return false;
        };
        parts.push(rest.get(..colon).unwrap_or_default());
        rest = rest.get(colon + 1..).unwrap_or_default();
    }
    parts.push(rest);
    let is_arn = matches!(parts.first(), Some([Tok::Char('a'), Tok::Char('r'), Tok::Char('n')]));
    let Some(request) = split_arn(request) else {
        return false;
    };
    is_arn
        && parts.get(1..).unwrap_or_default().iter().zip(request.iter()).all(|(p, r)| {
            let r: Vec<char> = r.chars().collect();
            match_toks(p, &r, Case::Sensitive)
        })
}

/// Whether an ordering satisfies a comparison operator (in its positive form).
fn compare(base: BaseOperator, ordering: std::cmp::Ordering) -> bool {
    use BaseOperator::*;
    use std::cmp::Ordering::*;
    match base {
        NumericEquals | NumericNotEquals | DateEquals | DateNotEquals => ordering == Equal,
        NumericLessThan | DateLessThan => ordering == Less,
        NumericLessThanEquals | DateLessThanEquals => ordering != Greater,
        NumericGreaterThan | DateGreaterThan => ordering == Greater,
        NumericGreaterThanEquals | DateGreaterThanEquals => ordering != Less,
        _ => false,
    }
}
