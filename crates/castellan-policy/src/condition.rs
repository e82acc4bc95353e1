//! Condition operators and typed condition values.

use std::fmt;
use std::str::FromStr;

use ipnet::IpNet;

use crate::template::{ConditionKey, Template};
use crate::value::{Decimal, Timestamp};

/// The 27 base condition operators of IAM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(missing_docs)] // Each variant is named exactly as the operator it stands for.
pub enum BaseOperator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

/// The value type an operator compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OperatorFamily {
    /// `String*`.
    String,
    /// `Numeric*`.
    Numeric,
    /// `Date*`.
    Date,
    /// `Bool`.
    Bool,
    /// `BinaryEquals`.
    Binary,
    /// `IpAddress`, `NotIpAddress`.
    Ip,
    /// `Arn*`.
    Arn,
    /// `Null`.
    Null,
}

impl BaseOperator {
    /// Every base operator, in documentation order.
    pub const ALL: [BaseOperator; 27] = {
        use BaseOperator::*;
        [
            StringEquals,
            StringNotEquals,
            StringEqualsIgnoreCase,
            StringNotEqualsIgnoreCase,
            StringLike,
            StringNotLike,
            NumericEquals,
            NumericNotEquals,
            NumericLessThan,
            NumericLessThanEquals,
            NumericGreaterThan,
            NumericGreaterThanEquals,
            DateEquals,
            DateNotEquals,
            DateLessThan,
            DateLessThanEquals,
            DateGreaterThan,
            DateGreaterThanEquals,
            Bool,
            BinaryEquals,
            IpAddress,
            NotIpAddress,
            ArnEquals,
            ArnLike,
            ArnNotEquals,
            ArnNotLike,
            Null,
        ]
    };

    /// The operator's name as written in policies.
    pub fn as_str(self) -> &'static str {
        use BaseOperator::*;
        match self {
            StringEquals => "StringEquals",
            StringNotEquals => "StringNotEquals",
            StringEqualsIgnoreCase => "StringEqualsIgnoreCase",
            StringNotEqualsIgnoreCase => "StringNotEqualsIgnoreCase",
            StringLike => "StringLike",
            StringNotLike => "StringNotLike",
            NumericEquals => "NumericEquals",
            NumericNotEquals => "NumericNotEquals",
            NumericLessThan => "NumericLessThan",
            NumericLessThanEquals => "NumericLessThanEquals",
            NumericGreaterThan => "NumericGreaterThan",
            NumericGreaterThanEquals => "NumericGreaterThanEquals",
            DateEquals => "DateEquals",
            DateNotEquals => "DateNotEquals",
            DateLessThan => "DateLessThan",
            DateLessThanEquals => "DateLessThanEquals",
            DateGreaterThan => "DateGreaterThan",
            DateGreaterThanEquals => "DateGreaterThanEquals",
            Bool => "Bool",
            BinaryEquals => "BinaryEquals",
            IpAddress => "IpAddress",
            NotIpAddress => "NotIpAddress",
            ArnEquals => "ArnEquals",
            ArnLike => "ArnLike",
            ArnNotEquals => "ArnNotEquals",
            ArnNotLike => "ArnNotLike",
            Null => "Null",
        }
    }

    /// The value type the operator compares.
    pub fn family(self) -> OperatorFamily {
        use BaseOperator::*;
        match self {
            StringEquals
            | StringNotEquals
            | StringEqualsIgnoreCase
            | StringNotEqualsIgnoreCase
            | StringLike
            | StringNotLike => OperatorFamily::String,
            NumericEquals
            | NumericNotEquals
            | NumericLessThan
            | NumericLessThanEquals
            | NumericGreaterThan
            | NumericGreaterThanEquals => OperatorFamily::Numeric,
            DateEquals
            | DateNotEquals
            | DateLessThan
            | DateLessThanEquals
            | DateGreaterThan
            | DateGreaterThanEquals => OperatorFamily::Date,
            Bool => OperatorFamily::Bool,
            BinaryEquals => OperatorFamily::Binary,
            IpAddress | NotIpAddress => OperatorFamily::Ip,
            ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => OperatorFamily::Arn,
            Null => OperatorFamily::Null,
        }
    }

    /// Whether the operator is a negation (`...Not...`): it matches when the key is missing and
    /// its values combine as NOR.
    pub fn is_negated(self) -> bool {
        use BaseOperator::*;
        matches!(
            self,
            StringNotEquals
                | StringNotEqualsIgnoreCase
                | StringNotLike
                | NumericNotEquals
                | DateNotEquals
                | NotIpAddress
                | ArnNotEquals
                | ArnNotLike
        )
    }

    /// Whether policy values may contain `${...}` variables.
    pub fn allows_variables(self) -> bool {
        matches!(self.family(), OperatorFamily::String | OperatorFamily::Arn | OperatorFamily::Bool)
    }
}

impl FromStr for BaseOperator {
    type Err = ();
    fn from_str(s: &str) -> Result<BaseOperator, ()> {
        BaseOperator::ALL.into_iter().find(|op| op.as_str() == s).ok_or(())
    }
}

/// `ForAllValues:` or `ForAnyValue:`, for keys with several values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetQualifier {
    /// Every request value must match some policy value; true when the key is missing.
    ForAllValues,
    /// Some request value must match some policy value; false when the key is missing.
    ForAnyValue,
}

impl SetQualifier {
    /// The prefix as written, without the colon.
    pub fn as_str(self) -> &'static str {
        match self {
            SetQualifier::ForAllValues => "ForAllValues",
            SetQualifier::ForAnyValue => "ForAnyValue",
        }
    }
}

/// A complete operator: optional set qualifier, base operator, optional `IfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Operator {
    /// `ForAllValues:` / `ForAnyValue:`.
    pub qualifier: Option<SetQualifier>,
    /// The comparison.
    pub base: BaseOperator,
    /// `...IfExists`: a missing key makes the condition true.
    pub if_exists: bool,
}

/// Why an operator name is not one IAM knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a condition operator")]
pub struct UnknownOperator(pub String);

impl Operator {
    /// Parses an operator name such as `ForAnyValue:StringLikeIfExists`. Names are matched
    /// exactly as AWS documents them; `Null` takes neither a qualifier nor `IfExists`.
    pub fn parse(name: &str) -> Result<Operator, UnknownOperator> {
        let unknown = || UnknownOperator(name.to_owned());
        let (qualifier, rest) = if let Some(rest) = name.strip_prefix("ForAllValues:") {
            (Some(SetQualifier::ForAllValues), rest)
        } else if let Some(rest) = name.strip_prefix("ForAnyValue:") {
            (Some(SetQualifier::ForAnyValue), rest)
        } else {
            (None, name)
        };
        let (base, if_exists) = match rest.strip_suffix("IfExists") {
            Some(base) => (base, true),
            None => (rest, false),
        };
        let base: BaseOperator = base.parse().map_err(|()| unknown())?;
        if base == BaseOperator::Null && (if_exists || qualifier.is_some()) {
            return Err(unknown());
        }
        Ok(Operator { qualifier, base, if_exists })
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(q) = self.qualifier {
            write!(f, "{}:", q.as_str())?;
        }
        f.write_str(self.base.as_str())?;
        if self.if_exists {
            f.write_str("IfExists")?;
        }
        Ok(())
    }
}

/// One condition value, typed by its operator, with the text as written.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionValue {
    raw: Box<str>,
    typed: TypedValue,
}

/// What a condition value means for its operator.
#[derive(Debug, Clone, PartialEq)]
pub enum TypedValue {
    /// `String*`: text, possibly with variables; wildcards count only for `*Like`.
    String(Template),
    /// `Arn*`: an ARN pattern, compared part by part.
    Arn(Template),
    /// `Numeric*`.
    Numeric(Decimal),
    /// `Date*`.
    Date(Timestamp),
    /// `Bool`: `true` / `false` (case-insensitive), possibly from a variable.
    Bool(Template),
    /// `BinaryEquals`: the decoded bytes.
    Binary(Box<[u8]>),
    /// `IpAddress` / `NotIpAddress`.
    Ip(IpNet),
    /// `Null`: `true` means "the key must be absent".
    Null(bool),
}

impl ConditionValue {
    pub(crate) fn new(raw: &str, typed: TypedValue) -> ConditionValue {
        ConditionValue { raw: raw.into(), typed }
    }

    /// Reads `raw` as a value of `base`'s family. Variables are honoured only when
    /// `variables` is true (policy version `2012-10-17`). `None` when the text is not a value of
    /// that type.
    pub fn parse(raw: &str, base: BaseOperator, variables: bool) -> Option<ConditionValue> {
        let template = |raw: &str| {
            if variables { Template::parse(raw) } else { Template::literal(raw) }
        };
        let typed = match base.family() {
            OperatorFamily::String => TypedValue::String(template(raw)),
            OperatorFamily::Arn => TypedValue::Arn(template(raw)),
            OperatorFamily::Bool => TypedValue::Bool(template(raw)),
            OperatorFamily::Numeric => TypedValue::Numeric(Decimal::parse(raw)?),
            OperatorFamily::Date => TypedValue::Date(Timestamp::parse(raw)?),
            OperatorFamily::Binary => TypedValue::Binary(crate::value::decode_base64(raw)?.into()),
            OperatorFamily::Ip => TypedValue::Ip(crate::value::parse_ip(raw)?),
            OperatorFamily::Null => TypedValue::Null(parse_bool(raw)?),
        };
        Some(ConditionValue::new(raw, typed))
    }

    /// The value as written (JSON numbers and booleans as their text).
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The typed meaning.
    pub fn typed(&self) -> &TypedValue {
        &self.typed
    }
}

/// `true` / `false` in any letter case.
pub fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// One test of a `Condition` block: an operator applied to one key with its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The operator.
    pub operator: Operator,
    /// The request key it reads.
    pub key: ConditionKey,
    /// The policy values; any may match (all must not, for negated operators).
    pub values: Vec<ConditionValue>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operator_round_trips_with_every_qualifier() {
        for base in BaseOperator::ALL {
            for qualifier in [None, Some(SetQualifier::ForAllValues), Some(SetQualifier::ForAnyValue)] {
                for if_exists in [false, true] {
                    let op = Operator { qualifier, base, if_exists };
                    let parsed = Operator::parse(&op.to_string());
                    if base == BaseOperator::Null && (if_exists || qualifier.is_some()) {
                        assert!(parsed.is_err(), "{op}");
                    } else {
                        assert_eq!(parsed, Ok(op));
                    }
                }
            }
        }
    }

    #[test]
    fn unknown_operators() {
        for name in [
            "",
            "stringequals",
            "StringEqual",
            "ForAnyValue::StringEqualsIfExists",
            "ForSomeValues:StringEquals",
            "StringEqualsIfExistsIfExists",
            "NullIfExists",
            "ForAllValues:Null",
            "IfExists",
        ] {
            assert!(Operator::parse(name).is_err(), "{name}");
        }
    }

    #[test]
    fn families_and_negation() {
        assert_eq!(BaseOperator::NotIpAddress.family(), OperatorFamily::Ip);
        assert!(BaseOperator::NotIpAddress.is_negated());
        assert!(BaseOperator::ArnNotLike.is_negated());
        assert!(!BaseOperator::StringLike.is_negated());
        assert!(!BaseOperator::Null.is_negated());
        assert!(BaseOperator::Bool.allows_variables());
        assert!(!BaseOperator::NumericEquals.allows_variables());
        assert_eq!(BaseOperator::ALL.iter().filter(|o| o.is_negated()).count(), 8);
    }

    #[test]
    fn typed_values() {
        use BaseOperator::*;
        let v = ConditionValue::parse("10.5", NumericLessThan, true).unwrap();
        assert_eq!(v.typed(), &TypedValue::Numeric(Decimal::parse("10.50").unwrap()));
        assert!(ConditionValue::parse("ten", NumericLessThan, true).is_none());
        assert!(ConditionValue::parse("2020-13-01", DateLessThan, true).is_none());
        assert!(ConditionValue::parse("10.0.0.0/8", IpAddress, true).is_some());
        assert!(ConditionValue::parse("10.0.0.0/40", IpAddress, true).is_none());
        assert!(ConditionValue::parse("aGk=", BinaryEquals, true).is_some());
        assert!(ConditionValue::parse("a", BinaryEquals, true).is_none());
        assert_eq!(ConditionValue::parse("TRUE", Null, true).unwrap().typed(), &TypedValue::Null(true));
        assert!(ConditionValue::parse("yes", Null, true).is_none());
        let TypedValue::String(t) =
            ConditionValue::parse("${aws:username}", StringEquals, true).unwrap().typed().clone()
        else {
            panic!("string operator gives a string value")
        };
        assert!(t.has_variables());
        let TypedValue::String(t) =
            ConditionValue::parse("${aws:username}", StringEquals, false).unwrap().typed().clone()
        else {
            panic!("string operator gives a string value")
        };
        assert!(!t.has_variables());
    }
}
