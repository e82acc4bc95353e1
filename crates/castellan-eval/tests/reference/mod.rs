//! A deliberately simple reference evaluator for the differential test, written from
//! `shared/reference/iam-behaviour.md` (sections cited as §n) and nothing else.
//!
//! It reads the policies as JSON values (not through `castellan-policy`'s AST) and the request
//! as the plain [`Case`] types below, and it shares no matching code with `castellan-eval`:
//! wildcards are a dynamic-programming table, values are parsed by small functions here, and
//! the evaluation order is §4.2-§4.4 and §9 spelled out step by step. It favours being obviously
//! right over being fast.
//!
//! Where the reference text is silent or ambiguous, the reading taken here is marked
//! `AMBIGUOUS:` in a comment.

use std::collections::BTreeMap;

use castellan_eval::Outcome;
use serde_json::Value;

pub const ACCOUNT_A: &str = "111122223333";
pub const ACCOUNT_B: &str = "444455556666";

/// The caller of a generated request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// An account's root user.
    Root { account: String },
    /// An IAM user; `path` is empty or ends with `/`.
    User { account: String, path: String, name: String, unique_id: Option<String> },
    /// A role session; `role_path` is empty or ends with `/`.
    Session { account: String, role_path: String, role: String, session: String, role_id: Option<String> },
    /// A `GetFederationToken` session.
    FederatedUser { account: String, name: String },
    /// An AWS service principal.
    Service { name: String },
    /// An unsigned request.
    Anonymous,
}

impl Caller {
    /// The ARN the caller signs as (`None` for services and anonymous callers).
    pub fn arn(&self) -> Option<String> {
        match self {
            Caller::Root { account } => Some(format!("arn:aws:iam::{account}:root")),
            Caller::User { account, path, name, .. } => Some(format!("arn:aws:iam::{account}:user/{path}{name}")),
            Caller::Session { account, role, session, .. } => {
                Some(format!("arn:aws:sts::{account}:assumed-role/{role}/{session}"))
            }
            Caller::FederatedUser { account, name } => Some(format!("arn:aws:sts::{account}:federated-user/{name}")),
            Caller::Service { .. } | Caller::Anonymous => None,
        }
    }

    /// The role's ARN, with its path, for a session.
    pub fn role_arn(&self) -> Option<String> {
        match self {
            Caller::Session { account, role_path, role, .. } => {
                Some(format!("arn:aws:iam::{account}:role/{role_path}{role}"))
            }
            _ => None,
        }
    }

    pub fn account(&self) -> Option<&str> {
        match self {
            Caller::Root { account }
            | Caller::User { account, .. }
            | Caller::Session { account, .. }
            | Caller::FederatedUser { account, .. } => Some(account),
            Caller::Service { .. } | Caller::Anonymous => None,
        }
    }

    /// Whether the caller is an IAM principal of an account (has identity policies, SCPs).
    pub fn is_iam(&self) -> bool {
        self.account().is_some()
    }

    pub fn is_session(&self) -> bool {
        matches!(self, Caller::Session { .. } | Caller::FederatedUser { .. })
    }
}

/// The values of one context key: a string, or a list for a multivalued key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CtxValue {
    Single(String),
    Multi(Vec<String>),
}

impl CtxValue {
    fn values(&self) -> Vec<String> {
        match self {
            CtxValue::Single(v) => vec![v.clone()],
            CtxValue::Multi(vs) => vs.clone(),
        }
    }
}

/// One generated authorization question with every policy that bears on it.
#[derive(Debug, Clone)]
pub struct Case {
    pub caller: Caller,
    pub action: String,
    pub resource: String,
    /// `None`: the caller's own account.
    pub resource_account: Option<String>,
    /// Keys as written (no two equal ignoring case), in order.
    pub context: Vec<(String, CtxValue)>,
    pub identity: Vec<Value>,
    pub resource_policies: Vec<Value>,
    pub boundary: Option<Value>,
    pub session: Vec<Value>,
    /// The SCP path of the caller's account, root first; each level's policies.
    pub scp: Option<Vec<Vec<Value>>>,
    /// The RCP path of the resource's account.
    pub rcp: Option<Vec<Vec<Value>>>,
}

// ---------------------------------------------------------------------------------------------
// The request context (§1.8 principal table, §3)
// ---------------------------------------------------------------------------------------------

/// The request context with lowercase keys (§1.7: key names are case-insensitive), including
/// the keys that follow from the caller where the case does not give them.
fn full_context(case: &Case) -> BTreeMap<String, CtxValue> {
    let mut ctx: BTreeMap<String, CtxValue> = case.context.iter().map(|(k, v)| (k.to_lowercase(), v.clone())).collect();
    let mut default = |key: &str, value: String| {
        ctx.entry(key.to_lowercase()).or_insert(CtxValue::Single(value));
    };
    let caller = &case.caller;
    // aws:PrincipalArn: for a role session, the role's ARN with its path (§3).
    if let Some(arn) = caller.role_arn().or_else(|| caller.arn()) {
        default("aws:PrincipalArn", arn);
    }
    match caller {
        Caller::Anonymous => default("aws:PrincipalAccount", "anonymous".into()),
        _ => {
            if let Some(account) = caller.account() {
                default("aws:PrincipalAccount", account.into());
            }
        }
    }
    // AMBIGUOUS: §3 says aws:PrincipalType is "always" present, but the §1.8 table gives no
    // value for a service principal; it is left absent for services.
    let principal_type = match caller {
        Caller::Root { .. } => Some("Account"),
        Caller::User { .. } => Some("User"),
        Caller::Session { .. } => Some("AssumedRole"),
        Caller::FederatedUser { .. } => Some("FederatedUser"),
        Caller::Anonymous => Some("Anonymous"),
        Caller::Service { .. } => None,
    };
    if let Some(t) = principal_type {
        default("aws:PrincipalType", t.into());
    }
    match caller {
        Caller::Root { account } => default("aws:userid", account.clone()),
        Caller::User { name, unique_id, .. } => {
            default("aws:username", name.clone());
            if let Some(id) = unique_id {
                default("aws:userid", id.clone());
            }
        }
        Caller::Session { session, role_id: Some(id), .. } => default("aws:userid", format!("{id}:{session}")),
        Caller::FederatedUser { account, name } => default("aws:userid", format!("{account}:{name}")),
        Caller::Anonymous => default("aws:userid", "anonymous".into()),
        Caller::Session { role_id: None, .. } | Caller::Service { .. } => {}
    }
    // aws:PrincipalIsAWSService: "all signed requests" (§3), so not for anonymous callers.
    match caller {
        Caller::Anonymous => {}
        Caller::Service { name } => {
            default("aws:PrincipalIsAWSService", "true".into());
            default("aws:PrincipalServiceName", name.clone());
        }
        _ => default("aws:PrincipalIsAWSService", "false".into()),
    }
    ctx
}

// ---------------------------------------------------------------------------------------------
// Wildcards
// ---------------------------------------------------------------------------------------------

/// One piece of a pattern: a character that must be equal, `*` or `?`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Lit(char),
    Star,
    One,
}

/// A pattern in which `*` and `?` are wildcards.
fn wild_toks(text: &str) -> Vec<Tok> {
    text.chars()
        .map(|c| match c {
            '*' => Tok::Star,
            '?' => Tok::One,
            c => Tok::Lit(c),
        })
        .collect()
}

/// Text in which every character is itself.
fn lit_toks(text: &str) -> Vec<Tok> {
    text.chars().map(Tok::Lit).collect()
}

/// `matches[i][j]`: the first `i` pattern pieces match the first `j` characters.
fn wild_match(pattern: &[Tok], text: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    let (n, m) = (pattern.len(), text.len());
    let mut matches = vec![vec![false; m + 1]; n + 1];
    matches[0][0] = true;
    for i in 1..=n {
        for j in 0..=m {
            matches[i][j] = match pattern[i - 1] {
                // `*` matches nothing (drop it) or one more character (keep it).
                Tok::Star => matches[i - 1][j] || (j > 0 && matches[i][j - 1]),
                Tok::One => j > 0 && matches[i - 1][j - 1],
                Tok::Lit(c) => j > 0 && matches[i - 1][j - 1] && text[j - 1] == c,
            };
        }
    }
    matches[n][m]
}

// ---------------------------------------------------------------------------------------------
// Policy variables (§1.8)
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Piece {
    /// Text as written.
    Text(String),
    /// `${*}`, `${?}`, `${$}`: the character itself, never a wildcard.
    Escaped(char),
    /// `${key}` or `${key, 'default'}`.
    Var { key: String, default: Option<String> },
}

/// Splits text into pieces; with `variables` false (version 2008-10-17) it is all text.
fn pieces(text: &str, variables: bool) -> Vec<Piece> {
    if !variables {
        return vec![Piece::Text(text.to_owned())];
    }
    let mut out = Vec::new();
    let mut pending = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        pending.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let piece = after.find('}').and_then(|end| reference(&after[..end]).map(|p| (p, end)));
        match piece {
            Some((piece, end)) => {
                if !pending.is_empty() {
                    out.push(Piece::Text(std::mem::take(&mut pending)));
                }
                out.push(piece);
                rest = &after[end + 1..];
            }
            None => {
                pending.push_str("${");
                rest = after;
            }
        }
    }
    pending.push_str(rest);
    if !pending.is_empty() {
        out.push(Piece::Text(pending));
    }
    out
}

/// The inside of `${...}`.
fn reference(inner: &str) -> Option<Piece> {
    match inner {
        "*" => return Some(Piece::Escaped('*')),
        "?" => return Some(Piece::Escaped('?')),
        "$" => return Some(Piece::Escaped('$')),
        _ => {}
    }
    let (key, default) = match inner.split_once(',') {
        Some((key, default)) => {
            let default = default.trim();
            let default = default.strip_prefix('\'')?.strip_suffix('\'')?;
            (key.trim(), Some(default.to_owned()))
        }
        None => (inner.trim(), None),
    };
    if key.is_empty() || key.contains(|c: char| c.is_whitespace() || c == '$' || c == '{' || c == '\'') {
        return None;
    }
    Some(Piece::Var { key: key.to_owned(), default })
}

/// The value of a variable: only a single-valued key has one (§1.8); else the default.
fn variable_value(key: &str, default: &Option<String>, ctx: &BTreeMap<String, CtxValue>) -> Option<String> {
    // AMBIGUOUS: §1.8 says multivalued keys cannot be variables; a key given as a list is
    // taken to have no value here, so the default (if any) applies.
    match ctx.get(&key.to_lowercase()) {
        Some(CtxValue::Single(v)) => Some(v.clone()),
        _ => default.clone(),
    }
}

/// The pieces as a pattern: written `*`/`?` are wildcards when `wildcards`, substituted values
/// and escapes are literal. `None` when a variable has no value and no default.
fn resolve_toks(pieces: &[Piece], wildcards: bool, ctx: &BTreeMap<String, CtxValue>) -> Option<Vec<Tok>> {
    let mut toks = Vec::new();
    for piece in pieces {
        match piece {
            Piece::Text(t) if wildcards => toks.extend(wild_toks(t)),
            Piece::Text(t) => toks.extend(lit_toks(t)),
            Piece::Escaped(c) => toks.push(Tok::Lit(*c)),
            Piece::Var { key, default } => toks.extend(lit_toks(&variable_value(key, default, ctx)?)),
        }
    }
    Some(toks)
}

/// The pieces as plain text (for `StringEquals`, `Bool`, ...).
fn resolve_text(pieces: &[Piece], ctx: &BTreeMap<String, CtxValue>) -> Option<String> {
    let toks = resolve_toks(pieces, false, ctx)?;
    Some(
        toks.into_iter()
            .map(|t| match t {
                Tok::Lit(c) => c,
                Tok::Star => '*',
                Tok::One => '?',
            })
            .collect(),
    )
}

// ---------------------------------------------------------------------------------------------
// Typed values (§2.2)
// ---------------------------------------------------------------------------------------------

/// A decimal number as an integer count of billionths.
fn parse_number(text: &str) -> Option<i128> {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
        || int.len() > 20
        || frac.trim_end_matches('0').len() > 9
    {
        return None;
    }
    let int: i128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut frac_digits: String = frac.chars().take(9).collect();
    while frac_digits.len() < 9 {
        frac_digits.push('0');
    }
    let value = int * 1_000_000_000 + frac_digits.parse::<i128>().ok()?;
    Some(if negative { -value } else { value })
}

/// A date as (seconds since the epoch, nanoseconds): epoch seconds, or the W3C profile of ISO
/// 8601 (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`, then `Thh:mm[:ss[.s]]` and a zone `Z` / `±hh:mm`).
fn parse_date(text: &str) -> Option<(i64, u32)> {
    if let Ok(seconds) = text.parse::<i64>() {
        return Some((seconds, 0));
    }
    let (date, time) = match text.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (text, None),
    };
    let mut parts = date.split('-');
    let year: i64 = number_of(parts.next()?, 4)?;
    let month: i64 = parts.next().map_or(Some(1), |m| number_of(m, 2))?;
    let day: i64 = parts.next().map_or(Some(1), |d| number_of(d, 2))?;
    if parts.next().is_some() || !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut seconds = days_since_epoch(year, month, day) * 86_400;
    let mut nanos = 0u32;
    if let Some(time) = time {
        // A time needs a zone: `Z` or `±hh:mm`.
        let (clock, offset) = if let Some(clock) = time.strip_suffix('Z') {
            (clock, 0)
        } else {
            let at = time.rfind(['+', '-'])?;
            let (clock, zone) = time.split_at(at);
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let (hh, mm) = zone[1..].split_once(':')?;
            let (hh, mm): (i64, i64) = (number_of(hh, 2)?, number_of(mm, 2)?);
            (clock, sign * (hh * 3600 + mm * 60))
        };
        let mut fields = clock.split(':');
        let hour: i64 = number_of(fields.next()?, 2)?;
        let minute: i64 = number_of(fields.next()?, 2)?;
        let mut second = 0;
        if let Some(s) = fields.next() {
            let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
            second = number_of(whole, 2)?;
            if !frac.is_empty() {
                if frac.len() > 9 || !frac.chars().all(|c| c.is_ascii_digit()) {
                    return None;
                }
                nanos = format!("{frac:0<9}").parse().ok()?;
            }
        }
        if fields.next().is_some() || hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        seconds += hour * 3600 + minute * 60 + second - offset;
    }
    Some((seconds, nanos))
}

/// Exactly `width` digits.
fn number_of(text: &str, width: usize) -> Option<i64> {
    (text.len() == width && text.chars().all(|c| c.is_ascii_digit())).then(|| text.parse().ok())?
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01, counted year by year and month by month.
fn days_since_epoch(year: i64, month: i64, day: i64) -> i64 {
    let mut days = 0;
    if year >= 1970 {
        for y in 1970..year {
            days += if is_leap(y) { 366 } else { 365 };
        }
    } else {
        for y in year..1970 {
            days -= if is_leap(y) { 366 } else { 365 };
        }
    }
    for m in 1..month {
        days += days_in_month(year, m);
    }
    days + day - 1
}

/// An address, or a CIDR range (an address alone is a one-address range, §2.2), as
/// (address bits, prefix length, is IPv6).
fn parse_cidr(text: &str) -> Option<(u128, u32, bool)> {
    let (addr, prefix) = match text.split_once('/') {
        Some((a, p)) => (a, Some(p.parse::<u32>().ok()?)),
        None => (text, None),
    };
    let (bits, v6) = parse_address(addr)?;
    let max = if v6 { 128 } else { 32 };
    let prefix = prefix.unwrap_or(max);
    (prefix <= max).then_some((bits, prefix, v6))
}

fn parse_address(text: &str) -> Option<(u128, bool)> {
    match text.parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(a) => Some((u128::from(u32::from(a)), false)),
        std::net::IpAddr::V6(a) => Some((u128::from(a), true)),
    }
}

fn cidr_contains((net, prefix, net_v6): (u128, u32, bool), (addr, addr_v6): (u128, bool)) -> bool {
    if net_v6 != addr_v6 {
        return false;
    }
    let width = if net_v6 { 128 } else { 32 };
    let shift = width - prefix;
    let top = |x: u128| if shift >= 128 { 0 } else { x >> shift };
    top(net) == top(addr)
}

/// Standard base64 with optional `=` padding.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let body = text.trim_end_matches('=');
    if text.len() - body.len() > 2 || body.len() % 4 == 1 {
        return None;
    }
    let mut bits = Vec::new();
    for c in body.chars() {
        let v = ALPHABET.find(c)?;
        for i in (0..6).rev() {
            bits.push((v >> i) & 1 == 1);
        }
    }
    Some(bits.chunks_exact(8).map(|byte| byte.iter().fold(0u8, |acc, b| (acc << 1) | u8::from(*b))).collect())
}

fn parse_bool(text: &str) -> Option<bool> {
    // AMBIGUOUS: §2.2 writes `"true"`/`"false"`; other letter cases are accepted on both sides.
    match text.to_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Conditions (§2)
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Qualifier {
    ForAllValues,
    ForAnyValue,
}

/// `[ForAllValues:|ForAnyValue:]Base[IfExists]`.
fn split_operator(name: &str) -> (Option<Qualifier>, &str, bool) {
    let (qualifier, rest) = if let Some(rest) = name.strip_prefix("ForAllValues:") {
        (Some(Qualifier::ForAllValues), rest)
    } else if let Some(rest) = name.strip_prefix("ForAnyValue:") {
        (Some(Qualifier::ForAnyValue), rest)
    } else {
        (None, name)
    };
    match rest.strip_suffix("IfExists") {
        Some(base) => (qualifier, base, true),
        None => (qualifier, rest, false),
    }
}

fn is_negated(base: &str) -> bool {
    matches!(
        base,
        "StringNotEquals"
            | "StringNotEqualsIgnoreCase"
            | "StringNotLike"
            | "NumericNotEquals"
            | "DateNotEquals"
            | "NotIpAddress"
            | "ArnNotEquals"
            | "ArnNotLike"
    )
}

/// A JSON scalar as text (§1.1: numbers and booleans may be written unquoted).
fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A string or a list of strings.
fn list(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items.iter().map(scalar_text).collect(),
        other => vec![scalar_text(other)],
    }
}

/// Whether one request value and one policy value match, for the positive form of `base`.
fn value_matches(base: &str, policy: &str, request: &str, variables: bool, ctx: &BTreeMap<String, CtxValue>) -> bool {
    let p = pieces(policy, variables);
    match base {
        "StringEquals" | "StringNotEquals" => resolve_text(&p, ctx).is_some_and(|v| v == request),
        "StringEqualsIgnoreCase" | "StringNotEqualsIgnoreCase" => {
            resolve_text(&p, ctx).is_some_and(|v| v.to_lowercase() == request.to_lowercase())
        }
        "StringLike" | "StringNotLike" => resolve_toks(&p, true, ctx).is_some_and(|t| wild_match(&t, request)),
        "NumericEquals" | "NumericNotEquals" => compare(parse_number(policy), parse_number(request), |o| o.is_eq()),
        "NumericLessThan" => compare(parse_number(policy), parse_number(request), |o| o.is_lt()),
        "NumericLessThanEquals" => compare(parse_number(policy), parse_number(request), |o| o.is_le()),
        "NumericGreaterThan" => compare(parse_number(policy), parse_number(request), |o| o.is_gt()),
        "NumericGreaterThanEquals" => compare(parse_number(policy), parse_number(request), |o| o.is_ge()),
        "DateEquals" | "DateNotEquals" => compare(parse_date(policy), parse_date(request), |o| o.is_eq()),
        "DateLessThan" => compare(parse_date(policy), parse_date(request), |o| o.is_lt()),
        "DateLessThanEquals" => compare(parse_date(policy), parse_date(request), |o| o.is_le()),
        "DateGreaterThan" => compare(parse_date(policy), parse_date(request), |o| o.is_gt()),
        "DateGreaterThanEquals" => compare(parse_date(policy), parse_date(request), |o| o.is_ge()),
        "Bool" => match (resolve_text(&p, ctx).as_deref().and_then(parse_bool), parse_bool(request)) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        },
        // AMBIGUOUS: §2.2 "compared byte-for-byte with the key's bytes"; the request value is
        // taken to be base64 text like the policy value.
        "BinaryEquals" => match (decode_base64(policy), decode_base64(request)) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        },
        "IpAddress" | "NotIpAddress" => match (parse_cidr(policy), parse_address(request)) {
            (Some(net), Some(addr)) => cidr_contains(net, addr),
            _ => false,
        },
        "ArnEquals" | "ArnLike" | "ArnNotEquals" | "ArnNotLike" => match resolve_toks(&p, true, ctx) {
            Some(toks) => arn_like(&toks, request),
            None => false,
        },
        other => panic!("not an operator the generator writes: {other}"),
    }
}

/// Compares the request value with the policy value (request on the left).
fn compare<T: Ord>(policy: Option<T>, request: Option<T>, want: impl Fn(std::cmp::Ordering) -> bool) -> bool {
    match (policy, request) {
        (Some(p), Some(r)) => want(r.cmp(&p)),
        // A request value that is not of the operator's type never compares.
        _ => false,
    }
}

/// `Arn*` (§2.2): both sides split into six colon-separated components, each matched on its
/// own; the last component is the rest of the ARN.
fn arn_like(pattern: &[Tok], request: &str) -> bool {
    let mut pattern_parts: Vec<Vec<Tok>> = vec![Vec::new()];
    for &t in pattern {
        if t == Tok::Lit(':') && pattern_parts.len() < 6 {
            pattern_parts.push(Vec::new());
        } else {
            pattern_parts.last_mut().unwrap().push(t);
        }
    }
    let request_parts: Vec<&str> = request.splitn(6, ':').collect();
    pattern_parts.len() == 6
        && request_parts.len() == 6
        && pattern_parts.iter().zip(&request_parts).all(|(p, r)| wild_match(p, r))
}

/// "Null" for §2.1 and §2.3: no value at all, or only empty strings.
fn is_null(values: &[String]) -> bool {
    values.iter().all(String::is_empty)
}

/// One operator applied to one key with its policy values (§2.1-§2.3).
fn condition_holds(
    operator: &str,
    key: &str,
    policy_values: &[String],
    variables: bool,
    ctx: &BTreeMap<String, CtxValue>,
) -> bool {
    let request = ctx.get(&key.to_lowercase()).map(CtxValue::values);
    if operator == "Null" {
        // `"true"`: the key is absent (or null); `"false"`: present and not null.
        let absent = request.as_deref().is_none_or(is_null);
        return policy_values.iter().any(|v| parse_bool(v) == Some(absent));
    }
    let (qualifier, base, if_exists) = split_operator(operator);
    let negated = is_negated(base);
    let Some(request) = request else {
        // The missing-key rule.
        if if_exists {
            return true;
        }
        return match qualifier {
            Some(Qualifier::ForAllValues) => true,
            Some(Qualifier::ForAnyValue) => false,
            None => negated,
        };
    };
    // Some policy value matches this request value (positive form of the operator).
    let matches_some = |r: &String| policy_values.iter().any(|p| value_matches(base, p, r, variables, ctx));
    match qualifier {
        // Negated operators apply per request value against the whole policy list (§2.3).
        Some(Qualifier::ForAllValues) => request.iter().all(|r| matches_some(r) != negated),
        Some(Qualifier::ForAnyValue) => request.iter().any(|r| matches_some(r) != negated),
        // AMBIGUOUS: a plain operator on a key with several values is not described; the
        // positive form holds when any request value matches, the negated form is its negation
        // (so the values act as NOR, as §2.1 says of several policy values).
        None => request.iter().any(matches_some) != negated,
    }
}

/// The whole `Condition` block: every operator, every key (§2.1: AND).
fn conditions_hold(statement: &Value, variables: bool, ctx: &BTreeMap<String, CtxValue>) -> bool {
    let Some(block) = statement.get("Condition") else {
        return true;
    };
    let block = block.as_object().expect("Condition is an object");
    block.iter().all(|(operator, keys)| {
        keys.as_object()
            .expect("operator block is an object")
            .iter()
            .all(|(key, values)| condition_holds(operator, key, &list(values), variables, ctx))
    })
}

// ---------------------------------------------------------------------------------------------
// Action, Resource, Principal (§1.3-§1.6)
// ---------------------------------------------------------------------------------------------

/// §1.5: case-insensitive, `*` and `?` anywhere.
fn action_matches(pattern: &str, action: &str) -> bool {
    wild_match(&wild_toks(&pattern.to_lowercase()), &action.to_lowercase())
}

fn action_applies(statement: &Value, action: &str) -> bool {
    if let Some(actions) = statement.get("Action") {
        list(actions).iter().any(|p| action_matches(p, action))
    } else {
        let not = statement.get("NotAction").expect("Action or NotAction");
        !list(not).iter().any(|p| action_matches(p, action))
    }
}

/// §1.6: `*`, or an ARN whose six parts are matched separately (case-sensitive); the service
/// must be equal; variables only in the resource part (§1.8).
fn resource_entry_matches(pattern: &str, resource: &str, variables: bool, ctx: &BTreeMap<String, CtxValue>) -> bool {
    if pattern == "*" {
        return true;
    }
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    let r: Vec<&str> = resource.splitn(6, ':').collect();
    assert_eq!(p.len(), 6, "the generator writes six-part ARNs: {pattern}");
    if r.len() != 6 || r[0] != "arn" || p[0] != "arn" {
        return false;
    }
    // AMBIGUOUS: §1.6 says current docs let a `*` at the end of a segment expand across the
    // following colons; how that combines with the following segments is not said, so each
    // segment is matched on its own here, as castellan-eval does (the two readings differ
    // only for requests with colons in their resource part).
    wild_match(&wild_toks(p[1]), r[1])
        && p[2] == r[2]
        && wild_match(&wild_toks(p[3]), r[3])
        && wild_match(&wild_toks(p[4]), r[4])
        && resolve_toks(&pieces(p[5], variables), true, ctx).is_some_and(|t| wild_match(&t, r[5]))
}

fn resource_applies(statement: &Value, resource: &str, variables: bool, ctx: &BTreeMap<String, CtxValue>) -> bool {
    if let Some(patterns) = statement.get("Resource") {
        list(patterns).iter().any(|p| resource_entry_matches(p, resource, variables, ctx))
    } else if let Some(patterns) = statement.get("NotResource") {
        // An entry with an unresolved variable matches nothing, so it excludes nothing.
        !list(patterns).iter().any(|p| resource_entry_matches(p, resource, variables, ctx))
    } else {
        // Trust policies normally have no Resource (§1.2): the statement is about the role.
        true
    }
}

/// One identity the caller has, as a principal value can name it. Deny+NotPrincipal checks
/// them one by one (§1.4).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Facet {
    Account(String),
    User { arn: String, id: Option<String> },
    Role { arn: String, id: Option<String> },
    Session(String),
    FederatedUser(String),
    Service(String),
    Anonymous,
}

fn facets(caller: &Caller) -> Vec<Facet> {
    let arn = caller.arn().unwrap_or_default();
    match caller {
        Caller::Root { account } => vec![Facet::Account(account.clone())],
        Caller::User { account, unique_id, .. } => {
            vec![Facet::Account(account.clone()), Facet::User { arn, id: unique_id.clone() }]
        }
        Caller::Session { account, role_id, .. } => vec![
            Facet::Account(account.clone()),
            Facet::Role { arn: caller.role_arn().unwrap_or_default(), id: role_id.clone() },
            Facet::Session(arn),
        ],
        Caller::FederatedUser { account, .. } => {
            vec![Facet::Account(account.clone()), Facet::FederatedUser(arn)]
        }
        Caller::Service { name } => vec![Facet::Service(name.clone())],
        Caller::Anonymous => vec![Facet::Anonymous],
    }
}

/// Whether one principal value (under `AWS` or `Service`) names one facet (§1.3).
fn value_names(kind: &str, value: &str, facet: &Facet) -> bool {
    if value == "*" {
        return true;
    }
    match (kind, facet) {
        ("AWS", Facet::Account(account)) => value == account || value == format!("arn:aws:iam::{account}:root"),
        ("AWS", Facet::User { arn, id }) => value == arn || id.as_deref() == Some(value),
        ("AWS", Facet::Role { arn, id }) => value == arn || id.as_deref() == Some(value),
        ("AWS", Facet::Session(arn) | Facet::FederatedUser(arn)) => value == arn,
        ("Service", Facet::Service(name)) => value == name,
        _ => false,
    }
}

/// Whether a `Principal` / `NotPrincipal` value names a facet.
fn principal_names(principal: &Value, facet: &Facet) -> bool {
    match principal {
        Value::String(s) => {
            assert_eq!(s, "*", "the generator writes only `*` as a bare principal");
            true
        }
        Value::Object(map) => map.iter().any(|(kind, values)| list(values).iter().any(|v| value_names(kind, v, facet))),
        other => panic!("not a principal: {other}"),
    }
}

/// What an applicable resource-policy Allow is worth (§4.2 table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Grant {
    /// Names the caller's account: delegates to the account's identity policies.
    Account,
    /// Names the role of the calling session: counts like an identity-policy allow.
    Role,
    /// Names the user, the session, the service, or everyone: enough on its own.
    Direct,
}

/// How the statement's `Principal` / `NotPrincipal` covers the caller; `None` if it does not.
fn principal_grant(statement: &Value, caller: &Caller, has_boundary: bool) -> Option<Grant> {
    let caller_facets = facets(caller);
    if let Some(principal) = statement.get("Principal") {
        if principal == "*" || principal.get("AWS").is_some_and(|v| list(v).iter().any(|x| x == "*")) {
            return Some(Grant::Direct);
        }
        return caller_facets
            .iter()
            .filter(|f| principal_names(principal, f))
            .map(|f| match f {
                Facet::Account(_) => Grant::Account,
                Facet::Role { .. } => Grant::Role,
                _ => Grant::Direct,
            })
            .max();
    }
    if let Some(not) = statement.get("NotPrincipal") {
        // §1.4: a Deny+NotPrincipal statement always applies to an IAM user or role that has a
        // permissions boundary.
        let boundary_caller = matches!(caller, Caller::User { .. } | Caller::Session { .. });
        if has_boundary && boundary_caller && statement["Effect"] == "Deny" {
            return Some(Grant::Direct);
        }
        // §1.4: the caller is exempt only when every one of its identities is listed (the
        // account, then the role, then the session; or the account and the user).
        // AMBIGUOUS: for a federated user the facets are taken as the account and the
        // federated-user ARN, by analogy with a user.
        let exempt = caller_facets.iter().all(|f| principal_names(not, f));
        return (!exempt).then_some(Grant::Direct);
    }
    // The generator always writes a principal into resource policies and RCPs.
    None
}

// ---------------------------------------------------------------------------------------------
// Statements and layers
// ---------------------------------------------------------------------------------------------

fn statements(policy: &Value) -> Vec<&Value> {
    match &policy["Statement"] {
        Value::Array(items) => items.iter().collect(),
        one => vec![one],
    }
}

/// §1.1: only `2012-10-17` substitutes variables; a missing version is `2008-10-17`.
fn has_variables(policy: &Value) -> bool {
    policy.get("Version").and_then(Value::as_str) == Some("2012-10-17")
}

struct Evaluator<'c> {
    case: &'c Case,
    ctx: BTreeMap<String, CtxValue>,
}

impl Evaluator<'_> {
    /// §4.1: action, resource and every condition (the principal is checked by the caller).
    fn applies(&self, statement: &Value, variables: bool) -> bool {
        action_applies(statement, &self.case.action)
            && resource_applies(statement, &self.case.resource, variables, &self.ctx)
            && conditions_hold(statement, variables, &self.ctx)
    }

    /// The applicable statements of `policies` with the given effect, with what their
    /// principal element makes of the caller (`Direct` where there is none).
    fn applicable(&self, policies: &[&Value], effect: &str) -> Vec<Grant> {
        let has_boundary = self.case.boundary.is_some();
        let mut out = Vec::new();
        for policy in policies {
            let variables = has_variables(policy);
            for s in statements(policy) {
                if s["Effect"] != effect {
                    continue;
                }
                let covers = if s.get("Principal").is_some() || s.get("NotPrincipal").is_some() {
                    principal_grant(s, &self.case.caller, has_boundary)
                } else {
                    Some(Grant::Direct)
                };
                if let Some(grant) = covers
                    && self.applies(s, variables)
                {
                    out.push(grant);
                }
            }
        }
        out
    }

    fn allows(&self, policies: &[&Value]) -> bool {
        !self.applicable(policies, "Allow").is_empty()
    }

    fn denies(&self, policies: &[&Value]) -> bool {
        !self.applicable(policies, "Deny").is_empty()
    }
}

fn refs(policies: &[Value]) -> Vec<&Value> {
    policies.iter().collect()
}

/// The decision, following §4.2 step by step (with §4.3, §4.4 and §9).
pub fn evaluate(case: &Case) -> Outcome {
    let ev = Evaluator { case, ctx: full_context(case) };
    let caller = &case.caller;
    let identity = refs(&case.identity);
    let resource = refs(&case.resource_policies);
    let boundary: Vec<&Value> = case.boundary.iter().collect();
    let session = refs(&case.session);
    let scp_levels: Vec<Vec<&Value>> = case.scp.iter().flatten().map(|l| refs(l)).collect();
    let rcp_levels: Vec<Vec<&Value>> = case.rcp.iter().flatten().map(|l| refs(l)).collect();

    // 1. Deny evaluation over every policy.
    let every_layer = [&identity, &resource, &boundary, &session].into_iter().chain(&scp_levels).chain(&rcp_levels);
    for layer in every_layer {
        if ev.denies(layer) {
            return Outcome::ExplicitDeny;
        }
    }
    // 2. RCPs of the resource's account: every level must allow (§9.3, like SCPs).
    if rcp_levels.iter().any(|level| !ev.allows(level)) {
        return Outcome::ImplicitDeny;
    }
    // 3. SCPs of the caller's account: every level root -> OUs -> account must allow (§9.2).
    if scp_levels.iter().any(|level| !ev.allows(level)) {
        return Outcome::ImplicitDeny;
    }

    // 4. The resource-based policy, by the strongest way an applicable Allow names the caller.
    let grant = ev.applicable(&resource, "Allow").into_iter().max();

    // Anonymous callers and services have no identity policies: only a resource policy grants.
    if !caller.is_iam() {
        return if grant.is_some() { Outcome::Allow } else { Outcome::ImplicitDeny };
    }

    // Role trust policies and KMS key policies must allow explicitly, in every case.
    // AMBIGUOUS (input convention, not §4.2): a role always has a trust policy, so a case
    // without a resource policy has none that allows; a KMS key always has a key policy too,
    // but a case that gives none is read as not modelling it, and then the rule is skipped.
    let action = case.action.to_lowercase();
    let key_policy_given = !case.resource_policies.is_empty();
    if (action.starts_with("sts:assumerole") || (action.starts_with("kms:") && key_policy_given)) && grant.is_none() {
        return Outcome::ImplicitDeny;
    }

    let same_account = case.resource_account.as_deref().is_none_or(|a| Some(a) == caller.account());
    let identity_allows = ev.allows(&identity);
    let caller_side_with = |identity_ok: bool| {
        // 5. Identity policies (the root user needs none, §4.1).
        if !identity_ok && !matches!(caller, Caller::Root { .. }) {
            return Outcome::ImplicitDeny;
        }
        // 6. The permissions boundary, if set.
        if !boundary.is_empty() && !ev.allows(&boundary) {
            return Outcome::ImplicitDeny;
        }
        // 7. Session policies: present -> must allow; absent -> a federated-user session gets
        // nothing. AMBIGUOUS: several session policies are taken as one layer (any may allow).
        if caller.is_session() {
            if !session.is_empty() && !ev.allows(&session) {
                return Outcome::ImplicitDeny;
            }
            if session.is_empty() && matches!(caller, Caller::FederatedUser { .. }) {
                return Outcome::ImplicitDeny;
            }
        }
        Outcome::Allow
    };

    if !same_account {
        // §4.4: the resource's account must allow (resource policy) and so must the caller's.
        if grant.is_none() {
            return Outcome::ImplicitDeny;
        }
        return caller_side_with(identity_allows);
    }
    match grant {
        // A grant to the user, the session ARN or everyone is not limited by the identity
        // policies, the boundary or session policies (§4.2 table, §4.3, §1.3).
        Some(Grant::Direct) => Outcome::Allow,
        // A grant to the role counts like an identity-policy allow, still within the
        // boundary and the session policies.
        Some(Grant::Role) => caller_side_with(true),
        // Naming the account only delegates to the account's own policies.
        Some(Grant::Account) | None => caller_side_with(identity_allows),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wild_match(&wild_toks("bucket/*/test/*"), "bucket/1/2/test/3/x.jpg"));
        assert!(wild_match(&wild_toks("a?c"), "abc"));
        assert!(!wild_match(&wild_toks("a?c"), "ac"));
        assert!(wild_match(&wild_toks("*"), ""));
        assert!(!wild_match(&lit_toks("a*"), "ab"));
    }

    #[test]
    fn values() {
        assert_eq!(parse_number("10.00"), parse_number("10"));
        assert_eq!(parse_number("011"), parse_number("11"));
        assert_eq!(parse_date("2026-11-28T13:00:00+01:00"), parse_date("2026-11-28T12:00:00Z"));
        assert_eq!(parse_date("1970-01-02"), Some((86_400, 0)));
        assert_eq!(parse_date("2026-01").map(|d| d.0), parse_date("2026-01-01T00:00Z").map(|d| d.0));
        assert_eq!(decode_base64("aGVsbG8="), Some(b"hello".to_vec()));
        assert_eq!(decode_base64("aGVsbG8"), Some(b"hello".to_vec()));
        assert!(cidr_contains(parse_cidr("203.0.113.0/24").unwrap(), parse_address("203.0.113.7").unwrap()));
        assert!(!cidr_contains(parse_cidr("10.0.0.0/8").unwrap(), parse_address("2001:db8::1").unwrap()));
        assert!(cidr_contains(parse_cidr("0.0.0.0/0").unwrap(), parse_address("10.1.2.3").unwrap()));
    }
}
