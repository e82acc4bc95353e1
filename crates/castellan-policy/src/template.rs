//! Policy variables: text such as `home/${aws:username}/*` split into literal text and
//! `${...}` references, resolved later from the request.
//!
//! Forms: `${key}`, `${key, 'default'}`, and the escapes `${*}`, `${?}`, `${$}` that stand for a
//! literal `*`, `?` and `$`. Under `Version: 2008-10-17` nothing is a variable.

use std::fmt;

use nom::branch::alt;
use nom::bytes::complete::{tag, take_till, take_while1};
use nom::character::complete::{char as nom_char, space0};
use nom::combinator::{map, opt, value};
use nom::sequence::{delimited, preceded};
use nom::{IResult, Parser};

/// A condition key name such as `aws:SourceIp` or `aws:PrincipalTag/team`. IAM compares key
/// names without regard to case, so the lowercase form is kept beside the text as written (only
/// when it differs, which saves an allocation for keys already written in lowercase).
#[derive(Clone)]
pub struct ConditionKey {
    text: Box<str>,
    lower: Option<Box<str>>,
}

impl ConditionKey {
    /// A key as written in a policy or a request.
    pub fn new(text: &str) -> ConditionKey {
        let lower = text.bytes().any(|b| b.is_ascii_uppercase()).then(|| text.to_ascii_lowercase().into());
        ConditionKey { text: text.into(), lower }
    }
    /// The key as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
    /// The lowercase form, for comparisons.
    pub fn lower(&self) -> &str {
        self.lower.as_deref().unwrap_or(&self.text)
    }
}

impl PartialEq for ConditionKey {
    /// Keys are equal when written the same way (equality of what a policy says, not of what it
    /// matches; compare [`ConditionKey::lower`] for that).
    fn eq(&self, other: &ConditionKey) -> bool {
        self.text == other.text
    }
}

impl Eq for ConditionKey {}

impl std::hash::Hash for ConditionKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.text.hash(state);
    }
}

impl PartialOrd for ConditionKey {
    fn partial_cmp(&self, other: &ConditionKey) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ConditionKey {
    fn cmp(&self, other: &ConditionKey) -> std::cmp::Ordering {
        self.text.cmp(&other.text)
    }
}

impl fmt::Display for ConditionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for ConditionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ConditionKey({:?})", self.text)
    }
}

/// A `${...}` reference to a request value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Variable {
    /// The key whose value replaces the reference.
    pub key: ConditionKey,
    /// The text used when the request has no value for the key (`${key, 'default'}`).
    pub default: Option<Box<str>>,
}

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    /// Text as written; in wildcard contexts its `*` and `?` are wildcards.
    Text(Box<str>),
    /// A character written as `${*}`, `${?}` or `${$}`: always itself, never a wildcard.
    Literal(char),
    /// A reference to a request value.
    Variable(Variable),
}

/// Text that may contain policy variables.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Template {
    raw: Box<str>,
    segments: Box<[Segment]>,
}

impl Template {
    /// Text in which nothing is a variable (as under `Version: 2008-10-17`).
    pub fn literal(text: &str) -> Template {
        let segments: Box<[Segment]> =
            if text.is_empty() { Box::new([]) } else { Box::new([Segment::Text(text.into())]) };
        Template { raw: text.into(), segments }
    }

    /// Splits `text` into literal text and variables. A `${` that does not begin a well-formed
    /// reference stays literal text.
    pub fn parse(text: &str) -> Template {
        if !text.contains("${") {
            return Template::literal(text);
        }
        let mut segments = Vec::new();
        let mut pending = String::new();
        let mut rest = text;
        while let Some(at) = rest.find("${") {
            let (before, from) = rest.split_at(at);
            pending.push_str(before);
            match reference(from) {
                Ok((after, segment)) => {
                    if !pending.is_empty() {
                        segments.push(Segment::Text(std::mem::take(&mut pending).into()));
                    }
                    segments.push(segment);
                    rest = after;
                }
                Err(_) => {
                    pending.push_str("${");
                    rest = from.get(2..).unwrap_or_default();
                }
            }
        }
        pending.push_str(rest);
        if !pending.is_empty() {
            segments.push(Segment::Text(pending.into()));
        }
        Template { raw: text.into(), segments: segments.into() }
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The pieces, in order.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Whether any piece is a variable reference.
    pub fn has_variables(&self) -> bool {
        self.segments.iter().any(|s| matches!(s, Segment::Variable(_)))
    }

    /// Whether the text is one plain piece (no variables, no escapes).
    pub fn as_plain(&self) -> Option<&str> {
        match &*self.segments {
            [] => Some(""),
            [Segment::Text(t)] => Some(t),
            _ => None,
        }
    }

    /// The variables referenced, in order.
    pub fn variables(&self) -> impl Iterator<Item = &Variable> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Variable(v) => Some(v),
            _ => None,
        })
    }

    /// Whether a `${` was left as text because it did not begin a well-formed reference.
    pub fn has_stray_reference(&self) -> bool {
        self.segments.iter().any(|s| matches!(s, Segment::Text(t) if t.contains("${")))
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

/// `${*}`, `${?}`, `${$}`, `${key}` or `${key, 'default'}`.
fn reference(input: &str) -> IResult<&str, Segment> {
    delimited(tag("${"), alt((escape, variable)), nom_char('}')).parse(input)
}

fn escape(input: &str) -> IResult<&str, Segment> {
    alt((
        value(Segment::Literal('*'), nom_char('*')),
        value(Segment::Literal('?'), nom_char('?')),
        value(Segment::Literal('$'), nom_char('$')),
    ))
    .parse(input)
}

fn variable(input: &str) -> IResult<&str, Segment> {
    let key = take_while1(|c: char| !matches!(c, '}' | ',' | '$' | '{') && !c.is_whitespace());
    let default =
        preceded((space0, nom_char(','), space0), delimited(nom_char('\''), take_till(|c| c == '\''), nom_char('\'')));
    map((key, opt(default), space0), |(key, default, _): (&str, Option<&str>, _)| {
        Segment::Variable(Variable { key: ConditionKey::new(key), default: default.map(Into::into) })
    })
    .parse(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(key: &str, default: Option<&str>) -> Segment {
        Segment::Variable(Variable { key: ConditionKey::new(key), default: default.map(Into::into) })
    }

    #[test]
    fn plain_text_has_one_segment() {
        let t = Template::parse("home/alice/*");
        assert_eq!(t.segments(), &[Segment::Text("home/alice/*".into())]);
        assert!(!t.has_variables());
        assert_eq!(t.as_plain(), Some("home/alice/*"));
    }

    #[test]
    fn variables_and_escapes() {
        let t = Template::parse("home/${aws:username}/${*}x${?}${$}");
        assert_eq!(
            t.segments(),
            &[
                Segment::Text("home/".into()),
                var("aws:username", None),
                Segment::Text("/".into()),
                Segment::Literal('*'),
                Segment::Text("x".into()),
                Segment::Literal('?'),
                Segment::Literal('$'),
            ]
        );
        assert!(t.has_variables());
        assert_eq!(t.as_str(), "home/${aws:username}/${*}x${?}${$}");
    }

    #[test]
    fn default_values() {
        let t = Template::parse("${aws:PrincipalTag/team, 'company-wide'}");
        assert_eq!(t.segments(), &[var("aws:PrincipalTag/team", Some("company-wide"))]);
        let t = Template::parse("${aws:PrincipalTag/team,''}");
        assert_eq!(t.segments(), &[var("aws:PrincipalTag/team", Some(""))]);
    }

    #[test]
    fn malformed_references_stay_text() {
        for text in ["${", "${aws:username", "a${}b", "${a b}", "$aws:username"] {
            let t = Template::parse(text);
            assert!(!t.has_variables(), "{text}");
            assert_eq!(t.as_plain(), Some(text), "{text}");
        }
        assert!(Template::parse("x${").has_stray_reference());
    }

    #[test]
    fn key_names_are_case_insensitive() {
        assert_eq!(ConditionKey::new("AWS:UserName").lower(), "aws:username");
    }

    #[test]
    fn literal_ignores_references() {
        let t = Template::literal("home/${aws:username}");
        assert!(!t.has_variables());
    }
}
