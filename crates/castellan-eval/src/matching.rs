//! Whether one statement applies to a request: actions, resources and conditions, with policy
//! variables resolved from the request context.

use std::cell::OnceCell;
use std::net::IpAddr;

use castellan_policy::wildcard::{self, Case};
use castellan_policy::{
    ActionClause, ActionPattern, ArnPattern, BaseOperator, Condition, ConditionKey, ResourceClause, ResourcePattern,
    Segment, SetQualifier, Template, Timestamp, TypedValue, decode_base64, parse_bool, parse_ip,
};

use ipnet::IpNet;

use crate::context::{Context, ContextValue};

/// Whether the `Action` / `NotAction` element covers `action` (`service:Name`).
pub fn action_matches(clause: &ActionClause, action: &str) -> bool {
    match clause {
        ActionClause::Action(patterns) => patterns.iter().any(|p| pattern_covers(p, action)),
        ActionClause::NotAction(patterns) => !patterns.iter().any(|p| pattern_covers(p, action)),
    }
}

/// [`ActionPattern::matches`], rejecting at once most patterns of other services: a pattern
/// that starts with a literal character covers only actions that start with the same one
/// (ignoring case; for ASCII characters, ASCII case), and the action's service is its first
/// word.
fn pattern_covers(pattern: &ActionPattern, action: &str) -> bool {
    if let (Some(&p), Some(&a)) = (pattern.as_str().as_bytes().first(), action.as_bytes().first())
        && p.is_ascii()
        && a.is_ascii()
        && p != b'*'
        && p != b'?'
        && !p.eq_ignore_ascii_case(&a)
    {
        return false;
    }
    pattern.matches(action)
}

/// Whether the `Resource` / `NotResource` element covers `resource` (an ARN, or `*` for
/// actions that take no resource).
pub fn resource_matches(clause: &ResourceClause, resource: &str, context: &Context) -> bool {
    resource_parts_match(clause, split_arn(resource), context)
}

/// [`resource_matches`] for a resource already split by [`split_arn`] (`None`: not an ARN), so
/// that a decision splits the request's resource once for all its statements.
pub(crate) fn resource_parts_match(clause: &ResourceClause, resource: Option<[&str; 5]>, context: &Context) -> bool {
    match clause {
        ResourceClause::Resource(patterns) => patterns.iter().any(|p| pattern_matches(p, resource, context)),
        // An entry whose variable cannot be resolved matches nothing, so it excludes nothing.
        ResourceClause::NotResource(patterns) => !patterns.iter().any(|p| pattern_matches(p, resource, context)),
    }
}

fn pattern_matches(pattern: &ResourcePattern, resource: Option<[&str; 5]>, context: &Context) -> bool {
    match pattern {
        ResourcePattern::Any => true,
        ResourcePattern::Arn(arn) => arn_pattern_matches(arn, resource, context),
    }
}

/// Matches the six parts separately; wildcards never cross from one part into another, except
/// within the resource part, which may itself contain colons.
fn arn_pattern_matches(pattern: &ArnPattern, resource: Option<[&str; 5]>, context: &Context) -> bool {
    let Some(parts) = resource else {
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
pub(crate) fn split_arn(text: &str) -> Option<[&str; 5]> {
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

impl wildcard::Unit for Tok {
    fn is_star(self) -> bool {
        matches!(self, Tok::Star)
    }
    fn is_question(self) -> bool {
        matches!(self, Tok::One)
    }
}

fn match_toks(pattern: &[Tok], text: &[char], case: Case) -> bool {
    wildcard::match_units(pattern, text, |p, t| matches!(p, Tok::Char(c) if wildcard::eq_char(c, t, case)))
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
        // One lookup serves both the missing-key report and the condition.
        let present = context.get_lower(condition.key.lower());
        if present.is_none() {
            on_missing(&condition.key);
        }
        if all && !condition_holds(condition, present, context) {
            all = false;
        }
    }
    all
}

/// Evaluates one condition (operator, key, values) against the context.
pub fn condition_matches(condition: &Condition, context: &Context) -> bool {
    condition_holds(condition, context.get_lower(condition.key.lower()), context)
}

/// [`condition_matches`], given the context's value of the condition's key (`present`).
fn condition_holds(condition: &Condition, present: Option<&ContextValue>, context: &Context) -> bool {
    let op = condition.operator;
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
    // (negated). An IP address is read once for all the policy's ranges.
    let one = |request: &str| {
        let ip = OnceCell::new();
        let any = condition.values.iter().any(|p| match p.typed() {
            TypedValue::Ip(net) => ip.get_or_init(|| request_ip(request)).is_some_and(|r| net.contains(&r)),
            typed => value_matches(op.base, typed, request, context),
        });
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
        (_, TypedValue::Ip(net)) => request_ip(request).is_some_and(|r| net.contains(&r)),
        _ => false,
    }
}

/// [`parse_ip`] of a request value. Most are plain addresses, which `parse_ip` reads only after
/// failing to read a range (`a.b.c.d/n`, which always has a `/`); this reads them directly.
fn request_ip(text: &str) -> Option<IpNet> {
    if text.contains('/') { parse_ip(text) } else { text.parse::<IpAddr>().ok().map(IpNet::from) }
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

/// The shortcuts of this module give exactly the answers of the general code they skip.
#[cfg(test)]
mod shortcut_tests {
    use castellan_policy::{ActionClause, Policy, parse_ip};
    use proptest::prelude::*;

    use super::{pattern_covers, request_ip};

    fn patterns(action: &str) -> Vec<castellan_policy::ActionPattern> {
        let text = format!(
            r#"{{"Version": "2012-10-17", "Statement": {{"Effect": "Allow", "Action": "{action}", "Resource": "*"}}}}"#
        );
        match Policy::parse_grammar(&text) {
            Ok(policy) => match policy.statements.into_iter().next().map(|s| s.action) {
                Some(ActionClause::Action(patterns)) => patterns,
                _ => Vec::new(),
            },
            Err(_) => Vec::new(),
        }
    }

    proptest! {
        #[test]
        fn pattern_covers_is_the_matcher(
            pattern in "\\*|[a-zA-Z0-9K]{1,4}:[a-zA-Z*?K\u{212A}é]{0,6}",
            action in "[a-zA-Z0-9:*?Kk\u{212A}é]{0,10}",
        ) {
            for p in patterns(&pattern) {
                prop_assert_eq!(pattern_covers(&p, &action), p.matches(&action), "{} ~ {}", pattern, action);
            }
        }

        #[test]
        fn request_ip_is_parse_ip(text in "[0-9a-f.:/ ]{0,20}|[0-9]{1,3}(\\.[0-9]{1,3}){3}(/[0-9]{1,2})?") {
            prop_assert_eq!(request_ip(&text), parse_ip(&text));
        }
    }

    #[test]
    fn examples() {
        for (pattern, action, covered) in [
            ("s3:*", "S3:GetObject", true),
            ("s3:*", "sqs:SendMessage", false),
            ("kms:Decrypt", "\u{212A}ms:Decrypt", true),
            ("ec2:Describe*", "dynamodb:Scan", false),
            ("*", "anything", true),
        ] {
            let p = patterns(pattern).pop().unwrap();
            assert_eq!(pattern_covers(&p, action), covered, "{pattern} ~ {action}");
            assert_eq!(p.matches(action), covered, "{pattern} ~ {action}");
        }
        for text in ["10.1.2.3", "10.0.0.0/8", "::1", "2001:db8::/32", "10.1.2.3 ", "", "x"] {
            assert_eq!(request_ip(text), parse_ip(text), "{text}");
        }
    }
}
