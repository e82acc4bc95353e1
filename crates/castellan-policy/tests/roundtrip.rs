//! Property tests of the policy grammar and the canonical printer.
//!
//! Random valid policy documents are generated as a small model, then written out as JSON text
//! with a random layout: key order, whitespace, `\u` escapes, a bare value or a one-element
//! array, a number or a string holding it. The grammar must accept every such document, read
//! back what the model holds, print it so that parsing the print gives the same policy, and
//! print that the same way again. Arbitrary text, random JSON built from policy words, and
//! random mutations of valid documents must never make any check panic, and what the checks
//! return must be consistent.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use castellan_policy::{
    BaseOperator, Operator, Policy, PolicyKind, Position, PrincipalClause, ResourceClause, SetQualifier, Severity,
    check, check_grammar,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;

// ---------------------------------------------------------------------------------------------
// The model of a valid document
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Doc {
    version: Option<&'static str>,
    id: Option<String>,
    statements: Vec<Stmt>,
    /// Write a lone statement as an object rather than a one-element array.
    single_object: bool,
}

#[derive(Debug, Clone)]
struct Stmt {
    sid: Option<String>,
    effect: &'static str,
    /// `(is NotPrincipal, principal)`.
    principal: Option<(bool, Prin)>,
    /// `(is NotAction, actions)`.
    action: (bool, Vec<String>),
    /// `(is NotResource, entries)`; `None` entries are JSON `null`s, which IAM skips.
    resource: Option<(bool, Vec<Option<String>>)>,
    /// Operator name, then keys with their values.
    condition: Option<Vec<Block>>,
    /// An unknown operator with an empty block, which is dropped with a warning.
    unknown_empty_operator: bool,
}

type Block = (String, Vec<(String, Vec<Val>)>);

#[derive(Debug, Clone)]
enum Prin {
    Everyone,
    Named(Vec<(&'static str, Vec<String>)>),
}

/// A condition value: its text, and whether that text is also a JSON number or boolean, so
/// that it may be written without quotes.
#[derive(Debug, Clone)]
struct Val {
    text: String,
    bare: bool,
}

// ---------------------------------------------------------------------------------------------
// JSON text with a random layout
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum J {
    Str(String),
    /// A number or boolean, written bare or as a string.
    Bare(String),
    Null,
    /// A list: written as the bare value when it has one element, or as an array.
    List(Vec<J>),
    Array(Vec<J>),
    /// An object; `kept` when the typed policy records its key order (principal objects and
    /// `Condition` blocks), so that layout-only comparisons must not reorder it.
    Object(Vec<(String, J)>, bool),
}

const WHITESPACE: &[&str] = &["", "", " ", "  ", "\n", "\n    ", "\t", "\r\n", " \n\t "];

struct Writer {
    state: u64,
    /// Reorder the keys of `kept` objects too.
    shuffle_kept: bool,
    out: String,
}

impl Writer {
    fn new(seed: u64, shuffle_kept: bool) -> Writer {
        Writer { state: seed | 1, shuffle_kept, out: String::new() }
    }

    /// xorshift64*.
    fn next(&mut self) -> u64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn one_in(&mut self, n: u64) -> bool {
        self.next().is_multiple_of(n)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn ws(&mut self) {
        let w = WHITESPACE[self.below(WHITESPACE.len())];
        self.out.push_str(w);
    }

    fn string(&mut self, s: &str) {
        self.out.push('"');
        for c in s.chars() {
            match c {
                '"' => self.out.push_str("\\\""),
                '\\' => self.out.push_str("\\\\"),
                '\n' => {
                    let escaped = if self.one_in(2) { "\\n" } else { "\\u000a" };
                    self.out.push_str(escaped);
                }
                '\t' => self.out.push_str("\\t"),
                '\r' => self.out.push_str("\\r"),
                '\u{8}' => self.out.push_str("\\b"),
                '\u{c}' => self.out.push_str("\\f"),
                '/' if self.one_in(4) => self.out.push_str("\\/"),
                c if (c as u32) < 0x20 || self.one_in(24) => {
                    let mut units = [0u16; 2];
                    for unit in c.encode_utf16(&mut units) {
                        let escaped = if self.one_in(2) { format!("\\u{unit:04x}") } else { format!("\\u{unit:04X}") };
                        self.out.push_str(&escaped);
                    }
                }
                c => self.out.push(c),
            }
        }
        self.out.push('"');
    }

    fn sequence(&mut self, items: &[J]) {
        self.out.push('[');
        self.ws();
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.ws();
                self.out.push(',');
                self.ws();
            }
            self.value(item);
        }
        self.ws();
        self.out.push(']');
    }

    fn value(&mut self, j: &J) {
        match j {
            J::Str(s) => self.string(s),
            J::Bare(t) => {
                if self.one_in(2) {
                    self.out.push_str(t);
                } else {
                    self.string(t);
                }
            }
            J::Null => self.out.push_str("null"),
            J::List(items) if items.len() == 1 && self.one_in(2) => self.value(&items[0]),
            J::List(items) | J::Array(items) => self.sequence(items),
            J::Object(members, kept) => {
                let mut order: Vec<usize> = (0..members.len()).collect();
                if !kept || self.shuffle_kept {
                    for i in (1..order.len()).rev() {
                        let j = self.below(i + 1);
                        order.swap(i, j);
                    }
                }
                self.out.push('{');
                self.ws();
                for (n, &i) in order.iter().enumerate() {
                    if n > 0 {
                        self.ws();
                        self.out.push(',');
                        self.ws();
                    }
                    let (key, value) = &members[i];
                    self.string(key);
                    self.ws();
                    self.out.push(':');
                    self.ws();
                    self.value(value);
                }
                self.ws();
                self.out.push('}');
            }
        }
    }
}

fn strings(items: &[String]) -> J {
    J::List(items.iter().map(|s| J::Str(s.clone())).collect())
}

impl Doc {
    fn to_json(&self) -> J {
        let mut top = Vec::new();
        if let Some(v) = self.version {
            top.push(("Version".to_owned(), J::Str(v.to_owned())));
        }
        if let Some(id) = &self.id {
            top.push(("Id".to_owned(), J::Str(id.clone())));
        }
        let statements: Vec<J> = self.statements.iter().map(Stmt::to_json).collect();
        let statement = if self.single_object && statements.len() == 1 {
            statements.into_iter().next().unwrap()
        } else {
            J::Array(statements)
        };
        top.push(("Statement".to_owned(), statement));
        J::Object(top, false)
    }

    fn render(&self, seed: u64, shuffle_kept: bool) -> String {
        let mut w = Writer::new(seed, shuffle_kept);
        w.ws();
        w.value(&self.to_json());
        w.ws();
        w.out
    }
}

impl Stmt {
    fn to_json(&self) -> J {
        let mut members = Vec::new();
        if let Some(sid) = &self.sid {
            members.push(("Sid".to_owned(), J::Str(sid.clone())));
        }
        members.push(("Effect".to_owned(), J::Str(self.effect.to_owned())));
        if let Some((not, principal)) = &self.principal {
            let value = match principal {
                Prin::Everyone => J::Str("*".to_owned()),
                Prin::Named(entries) => {
                    J::Object(entries.iter().map(|(k, values)| ((*k).to_owned(), strings(values))).collect(), true)
                }
            };
            members.push((if *not { "NotPrincipal" } else { "Principal" }.to_owned(), value));
        }
        let (not, actions) = &self.action;
        members.push((if *not { "NotAction" } else { "Action" }.to_owned(), strings(actions)));
        if let Some((not, entries)) = &self.resource {
            let items = entries.iter().map(|e| e.as_ref().map_or(J::Null, |s| J::Str(s.clone()))).collect();
            members.push((if *not { "NotResource" } else { "Resource" }.to_owned(), J::List(items)));
        }
        if let Some(blocks) = &self.condition {
            let mut object: Vec<(String, J)> = blocks
                .iter()
                .map(|(op, keys)| {
                    let keys = keys
                        .iter()
                        .map(|(key, values)| {
                            let values = values
                                .iter()
                                .map(|v| if v.bare { J::Bare(v.text.clone()) } else { J::Str(v.text.clone()) })
                                .collect();
                            (key.clone(), J::List(values))
                        })
                        .collect();
                    (op.clone(), J::Object(keys, true))
                })
                .collect();
            if self.unknown_empty_operator {
                object.push(("StringEqualsAnything".to_owned(), J::Object(Vec::new(), true)));
            }
            members.push(("Condition".to_owned(), J::Object(object, true)));
        }
        J::Object(members, false)
    }
}

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

fn real_partition() -> impl Strategy<Value = &'static str> {
    select(vec!["aws", "aws-cn", "aws-us-gov", "aws-iso-b"])
}

fn partition() -> impl Strategy<Value = &'static str> {
    prop_oneof![4 => real_partition(), 1 => Just("*")]
}

fn account() -> impl Strategy<Value = String> {
    "[0-9]{12}"
}

fn name() -> impl Strategy<Value = String> {
    "[A-Za-z0-9+=,.@_-]{1,12}"
}

fn path() -> impl Strategy<Value = String> {
    "([A-Za-z0-9_-]{1,6}/){0,2}"
}

fn aws_principal() -> BoxedStrategy<String> {
    prop_oneof![
        Just("*".to_owned()),
        account(),
        (real_partition(), account()).prop_map(|(p, a)| format!("arn:{p}:iam::{a}:root")),
        (real_partition(), account(), select(vec!["user", "role"]), path(), name())
            .prop_map(|(p, a, t, path, n)| format!("arn:{p}:iam::{a}:{t}/{path}{n}")),
        (real_partition(), account(), name(), name())
            .prop_map(|(p, a, r, s)| format!("arn:{p}:sts::{a}:assumed-role/{r}/{s}")),
        (real_partition(), account(), name()).prop_map(|(p, a, n)| format!("arn:{p}:sts::{a}:federated-user/{n}")),
        "(AIDA|AROA)[A-Z0-9]{12,20}",
    ]
    .boxed()
}

fn host() -> impl Strategy<Value = String> {
    "[a-z0-9-]{1,12}(\\.[a-z0-9-]{1,8}){1,3}"
}

fn service_principal() -> BoxedStrategy<String> {
    prop_oneof![Just("*".to_owned()), "[a-z0-9-]{1,16}\\.amazonaws\\.com", host()].boxed()
}

fn federated_principal() -> BoxedStrategy<String> {
    prop_oneof![
        select(vec!["cognito-identity.amazonaws.com", "www.amazon.com", "graph.facebook.com", "accounts.google.com"])
            .prop_map(str::to_owned),
        (real_partition(), account(), name()).prop_map(|(p, a, n)| format!("arn:{p}:iam::{a}:saml-provider/{n}")),
        (real_partition(), account(), host(), path())
            .prop_map(|(p, a, h, path)| format!("arn:{p}:iam::{a}:oidc-provider/{path}{h}")),
    ]
    .boxed()
}

fn principal() -> impl Strategy<Value = Prin> {
    let named = (
        proptest::sample::subsequence(vec![0usize, 1, 2, 3], 1..=4).prop_shuffle(),
        vec(aws_principal(), 1..4),
        vec(service_principal(), 1..3),
        vec(federated_principal(), 1..3),
        vec("[0-9a-f]{64}", 1..3),
    )
        .prop_map(|(kinds, aws, service, federated, canonical)| {
            let entries = kinds
                .into_iter()
                .map(|k| match k {
                    0 => ("AWS", aws.clone()),
                    1 => ("Service", service.clone()),
                    2 => ("Federated", federated.clone()),
                    _ => ("CanonicalUser", canonical.clone()),
                })
                .collect();
            Prin::Named(entries)
        });
    prop_oneof![1 => Just(Prin::Everyone), 4 => named]
}

fn action() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => Just("*".to_owned()),
        8 => ("[a-z][a-z0-9-]{0,9}", "[A-Za-z*?]{1,14}").prop_map(|(s, n)| format!("{s}:{n}")),
    ]
}

/// Text of a resource part or a string value: wildcards, variables, escapes, stray `${`.
fn pieces(extra: &'static [&'static str]) -> impl Strategy<Value = String> {
    let mut all = vec![
        "bucket",
        "Key",
        "photos",
        "*",
        "?",
        "/",
        "-",
        ".",
        ":",
        "${aws:username}",
        "${aws:PrincipalTag/team, 'company-wide'}",
        "${aws:userid}",
        "${*}",
        "${?}",
        "${$}",
        "${",
        "}",
        "\u{e9}",
    ];
    all.extend_from_slice(extra);
    vec(select(all), 1..6).prop_map(|v| v.concat())
}

fn resource() -> BoxedStrategy<String> {
    let services = vec!["ec2", "sqs", "dynamodb", "lambda", "kms", "sns", "execute-api"];
    prop_oneof![
        1 => Just("*".to_owned()),
        3 => (partition(), pieces(&[])).prop_map(|(p, r)| format!("arn:{p}:s3:::{r}")),
        3 => (
            partition(),
            select(services.clone()),
            select(vec!["", "*", "us-east-1", "eu-west-?"]),
            select(vec!["", "*", "123456789012", "1234567890??"]),
            pieces(&[]),
        )
            .prop_map(|(p, s, region, account, r)| format!("arn:{p}:{s}:{region}:{account}:{r}")),
        2 => (
            partition(),
            select(vec!["", "*", "123456789012", "aws"]),
            select(vec!["user/", "role/", "group/", "policy/", "instance-profile/", "mfa/", "oidc-provider/", "saml-provider/"]),
            pieces(&[]),
        )
            .prop_map(|(p, a, t, r)| format!("arn:{p}:iam::{a}:{t}{r}")),
        1 => (partition(), select(vec!["123456789012", "*"]), select(vec!["root", "*"]))
            .prop_map(|(p, a, r)| format!("arn:{p}:iam::{a}:{r}")),
        1 => (partition(), select(services)).prop_map(|(p, s)| format!("arn:{p}:{s}")),
    ]
    .boxed()
}

fn resources() -> impl Strategy<Value = (bool, Vec<Option<String>>)> {
    (any::<bool>(), vec(resource(), 1..4), 0..3usize).prop_map(|(not, entries, nulls)| {
        let mut entries: Vec<Option<String>> = entries.into_iter().map(Some).collect();
        // `null` entries are skipped: one at the front, one at the back.
        if nulls >= 1 {
            entries.insert(0, None);
        }
        if nulls >= 2 {
            entries.push(None);
        }
        (not, entries)
    })
}

fn quoted(text: String) -> Val {
    Val { text, bare: false }
}

fn bare(text: String) -> Val {
    Val { text, bare: true }
}

fn json_number() -> impl Strategy<Value = String> {
    ("-?", "0|[1-9][0-9]{0,20}", proptest::option::of("[0-9]{1,6}")).prop_map(|(sign, int, frac)| match frac {
        Some(f) => format!("{sign}{int}.{f}"),
        None => format!("{sign}{int}"),
    })
}

fn base64(bytes: &[u8], pad: bool) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
        if pad {
            for _ in chunk.len()..3 {
                out.push('=');
            }
        }
    }
    out
}

fn value(base: BaseOperator) -> BoxedStrategy<Val> {
    use castellan_policy::OperatorFamily as F;
    match base.family() {
        F::String => prop_oneof![
            4 => pieces(&["\"", "\\", "\n", " ", "\t", "\u{1f600}", "\u{7f}"]).prop_map(quoted),
            1 => json_number().prop_map(bare),
            1 => select(vec!["true", "false"]).prop_map(|s| bare(s.to_owned())),
            1 => Just(quoted(String::new())),
        ]
        .boxed(),
        F::Arn => prop_oneof![3 => resource().prop_map(quoted), 1 => pieces(&[]).prop_map(quoted)].boxed(),
        F::Numeric => prop_oneof![
            4 => json_number().prop_map(bare),
            1 => ("[+-]?", "[0-9]{0,4}", "[0-9]{1,4}").prop_map(|(s, i, f)| quoted(format!("{s}{i}.{f}"))),
            1 => "[+-]?0[0-9]{1,5}".prop_map(quoted),
        ]
        .boxed(),
        F::Date => prop_oneof![
            2 => (any::<bool>(), 0..=4_000_000_000i64)
                .prop_map(|(neg, n)| bare(if neg && n != 0 { format!("-{n}") } else { n.to_string() })),
            3 => (
                1000..=9999i64,
                1..=12u32,
                1..=28u32,
                0..24u32,
                0..60u32,
                0..60u32,
                proptest::option::of("[0-9]{1,9}"),
                select(vec!["Z", "z", "+01:00", "-0530", "+05", "-23:59", ""]),
            )
                .prop_map(|(y, mo, d, h, mi, s, frac, zone)| {
                    let frac = frac.map(|f| format!(".{f}")).unwrap_or_default();
                    quoted(format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{frac}{zone}"))
                }),
            1 => (1000..=9999i64, 1..=12u32, 1..=28u32).prop_map(|(y, m, d)| quoted(format!("{y:04}-{m:02}-{d:02}"))),
        ]
        .boxed(),
        F::Bool => prop_oneof![
            3 => select(vec!["true", "false"]).prop_map(|s| bare(s.to_owned())),
            1 => select(vec!["True", "FALSE", "${aws:SecureTransport}"]).prop_map(|s| quoted(s.to_owned())),
        ]
        .boxed(),
        F::Binary => (vec(any::<u8>(), 0..16), any::<bool>()).prop_map(|(b, pad)| quoted(base64(&b, pad))).boxed(),
        F::Ip => prop_oneof![
            (any::<[u8; 4]>(), proptest::option::of(0..=32u8)).prop_map(|(a, len)| {
                let ip = std::net::Ipv4Addr::from(a);
                quoted(len.map_or(ip.to_string(), |l| format!("{ip}/{l}")))
            }),
            (any::<[u16; 8]>(), proptest::option::of(0..=128u8)).prop_map(|(a, len)| {
                let ip = std::net::Ipv6Addr::from(a);
                quoted(len.map_or(ip.to_string(), |l| format!("{ip}/{l}")))
            }),
        ]
        .boxed(),
        F::Null => prop_oneof![
            3 => select(vec!["true", "false"]).prop_map(|s| bare(s.to_owned())),
            1 => select(vec!["TRUE", "False"]).prop_map(|s| quoted(s.to_owned())),
        ]
        .boxed(),
    }
}

fn condition_key() -> impl Strategy<Value = String> {
    prop_oneof![
        select(vec![
            "aws:username",
            "aws:SourceIp",
            "aws:CurrentTime",
            "aws:SecureTransport",
            "s3:prefix",
            "aws:TagKeys"
        ])
        .prop_map(str::to_owned),
        "[a-z0-9]{1,6}:[A-Za-z]{1,10}(/[A-Za-z0-9]{1,5})?",
    ]
}

fn operator_block() -> impl Strategy<Value = Block> {
    (select(BaseOperator::ALL.to_vec()), 0..3u8, any::<bool>()).prop_flat_map(|(base, q, if_exists)| {
        let null = base == BaseOperator::Null;
        let qualifier = match q {
            _ if null => None,
            0 => None,
            1 => Some(SetQualifier::ForAllValues),
            _ => Some(SetQualifier::ForAnyValue),
        };
        let operator = Operator { qualifier, base, if_exists: if_exists && !null };
        // Keys with their values; a block may be empty, and so may a list of values.
        let keys = vec((condition_key(), vec(value(base), 0..4)), 0..4).prop_map(|keys| {
            let mut seen = std::collections::HashSet::new();
            keys.into_iter().filter(|(k, _)| seen.insert(k.clone())).collect::<Vec<_>>()
        });
        (Just(operator.to_string()), keys)
    })
}

fn condition() -> impl Strategy<Value = Vec<Block>> {
    vec(operator_block(), 0..4).prop_map(|blocks| {
        let mut seen = std::collections::HashSet::new();
        blocks.into_iter().filter(|(op, _)| seen.insert(op.clone())).collect()
    })
}

fn statement() -> impl Strategy<Value = Stmt> {
    (
        proptest::option::of("[A-Za-z0-9]{0,8}"),
        select(vec!["Allow", "Deny"]),
        proptest::option::weighted(0.5, (any::<bool>(), principal())),
        (any::<bool>(), vec(action(), 1..4)),
        proptest::option::weighted(0.8, resources()),
        proptest::option::weighted(0.6, condition()),
        proptest::bool::weighted(0.1),
    )
        .prop_map(|(sid, effect, principal, action, resource, condition, unknown_empty_operator)| Stmt {
            sid,
            effect,
            principal,
            action,
            resource,
            unknown_empty_operator: unknown_empty_operator && condition.is_some(),
            condition,
        })
}

fn any_text(max: usize) -> impl Strategy<Value = String> {
    vec(any::<char>(), 0..max).prop_map(String::from_iter)
}

fn document() -> impl Strategy<Value = Doc> {
    (
        select(vec![Some("2012-10-17"), Some("2008-10-17"), None]),
        proptest::option::weighted(0.3, any_text(12)),
        vec(statement(), 1..4),
        any::<bool>(),
    )
        .prop_map(|(version, id, mut statements, single_object)| {
            // Non-empty Sids must differ.
            for (i, s) in statements.iter_mut().enumerate() {
                if let Some(sid) = &mut s.sid
                    && !sid.is_empty()
                {
                    sid.push_str(&i.to_string());
                }
            }
            Doc { version, id, statements, single_object }
        })
}

// ---------------------------------------------------------------------------------------------
// What every check must satisfy, whatever the input
// ---------------------------------------------------------------------------------------------

/// Checks that `p` is a character boundary of `text` with the right 1-based line and column.
fn located(text: &str, p: Position) -> Result<(), TestCaseError> {
    prop_assert!(p.offset <= text.len());
    prop_assert!(text.is_char_boundary(p.offset));
    let before = &text[..p.offset];
    prop_assert_eq!(p.line as usize, before.matches('\n').count() + 1);
    let line = before.rsplit('\n').next().unwrap_or_default();
    prop_assert_eq!(p.column as usize, line.chars().count() + 1);
    Ok(())
}

/// Runs the grammar and every kind on `text` and checks that the answers are consistent.
fn consistent(text: &str) -> Result<(), TestCaseError> {
    let grammar = check_grammar(text);
    let mut all = vec![("grammar", grammar.clone())];
    all.extend(PolicyKind::ALL.iter().map(|&k| (k.as_str(), check(text, k))));
    for (name, checked) in &all {
        prop_assert_eq!(checked.is_valid(), checked.errors().next().is_none(), "{}", name);
        // Errors first, then warnings.
        let warnings_from = checked
            .diagnostics
            .iter()
            .position(|d| d.severity == Severity::Warning)
            .unwrap_or(checked.diagnostics.len());
        prop_assert!(checked.diagnostics[warnings_from..].iter().all(|d| d.severity == Severity::Warning));
        for d in &checked.diagnostics {
            located(text, d.position).map_err(|e| TestCaseError::fail(format!("{name}: {d:?}: {e}")))?;
            prop_assert!(!d.message.is_empty());
        }
        // Statement spans start at `{`, end after `}`, and are located like diagnostics.
        for s in checked.policy.iter().flat_map(|p| &p.statements) {
            let (start, end) = s.span.unwrap();
            located(text, start)?;
            located(text, end)?;
            prop_assert!(start.offset < end.offset);
            prop_assert_eq!(text.as_bytes()[start.offset], b'{');
            prop_assert_eq!(text.as_bytes()[end.offset - 1], b'}');
        }
        if let Some(policy) = &checked.policy {
            // A kind only adds rules to the shared grammar.
            prop_assert_eq!(Some(policy), grammar.policy.as_ref(), "{}", name);
            let printed = policy.to_string();
            let again = Policy::parse_grammar(&printed);
            prop_assert_eq!(again.as_ref(), Ok(policy), "{}: printed\n{}", name, printed);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

/// The flattened conditions of the model, in document order: operator, key, value texts.
fn model_conditions(s: &Stmt) -> Vec<(String, String, Vec<String>)> {
    let mut out = Vec::new();
    for (op, keys) in s.condition.iter().flatten() {
        for (key, values) in keys {
            out.push((op.clone(), key.clone(), values.iter().map(|v| v.text.clone()).collect()));
        }
    }
    out
}

/// Checks that `policy` holds what the model holds (when its keys were written in model order).
fn matches_model(policy: &Policy, doc: &Doc) -> Result<(), TestCaseError> {
    prop_assert_eq!(policy.version.map(|v| v.as_str()), doc.version);
    prop_assert_eq!(&policy.id, &doc.id);
    prop_assert_eq!(policy.statements.len(), doc.statements.len());
    for (got, want) in policy.statements.iter().zip(&doc.statements) {
        prop_assert_eq!(&got.sid, &want.sid);
        prop_assert_eq!(got.effect.as_str(), want.effect);
        let actions: Vec<&str> = got.action.patterns().iter().map(|a| a.as_str()).collect();
        prop_assert_eq!(&actions, &want.action.1);
        prop_assert_eq!(matches!(got.action, castellan_policy::ActionClause::NotAction(_)), want.action.0);
        match (&got.resource, &want.resource) {
            (None, None) => {}
            (Some(clause), Some((not, entries))) => {
                prop_assert_eq!(matches!(clause, ResourceClause::NotResource(_)), *not);
                let got: Vec<&str> = clause.patterns().iter().map(|r| r.as_str()).collect();
                let want: Vec<&str> = entries.iter().flatten().map(String::as_str).collect();
                prop_assert_eq!(got, want);
            }
            (got, want) => prop_assert!(false, "resource {:?} vs {:?}", got, want),
        }
        match (&got.principal, &want.principal) {
            (None, None) => {}
            (Some(clause), Some((not, principal))) => {
                let (is_not, p) = match clause {
                    PrincipalClause::Principal(p) => (false, p),
                    PrincipalClause::NotPrincipal(p) => (true, p),
                };
                prop_assert_eq!(is_not, *not);
                match (p, principal) {
                    (castellan_policy::Principal::Everyone, Prin::Everyone) => {}
                    (castellan_policy::Principal::Named(entries), Prin::Named(want)) => {
                        let got: Vec<(&str, Vec<&str>)> = entries
                            .iter()
                            .map(|e| (e.kind.as_str(), e.values.iter().map(|v| v.as_str()).collect()))
                            .collect();
                        let want: Vec<(&str, Vec<&str>)> =
                            want.iter().map(|(k, v)| (*k, v.iter().map(String::as_str).collect())).collect();
                        prop_assert_eq!(got, want);
                    }
                    (got, want) => prop_assert!(false, "principal {:?} vs {:?}", got, want),
                }
            }
            (got, want) => prop_assert!(false, "principal {:?} vs {:?}", got, want),
        }
        let conditions: Vec<(String, String, Vec<String>)> = got
            .conditions
            .iter()
            .map(|c| {
                (
                    c.operator.to_string(),
                    c.key.as_str().to_owned(),
                    c.values.iter().map(|v| v.as_str().to_owned()).collect(),
                )
            })
            .collect();
        prop_assert_eq!(conditions, model_conditions(want));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Valid documents are accepted, read as generated, and survive printing.
    #[test]
    fn valid_documents_round_trip(doc in document(), seeds in any::<[u64; 3]>()) {
        let text = doc.render(seeds[0], true);
        let checked = check_grammar(&text);
        prop_assert!(
            checked.is_valid(),
            "rejected:\n{}\n{:?}",
            text,
            checked.errors().map(ToString::to_string).collect::<Vec<_>>()
        );
        let policy = checked.policy.clone().unwrap();
        prop_assert_eq!(policy.statements.len(), doc.statements.len());

        // Printing, parsing and printing again changes nothing.
        let printed = policy.to_string();
        let again = Policy::parse_grammar(&printed);
        prop_assert_eq!(again.as_ref(), Ok(&policy), "printed:\n{}", printed);
        prop_assert_eq!(again.unwrap().to_string(), printed.clone());
        prop_assert!(check_grammar(&printed).warnings().count() <= checked.warnings().count());

        // Layout does not matter: two other layouts of the same document read the same, and
        // read what the model holds.
        let a = Policy::parse_grammar(&doc.render(seeds[1], false));
        let b = Policy::parse_grammar(&doc.render(seeds[2], false));
        prop_assert!(a.is_ok());
        prop_assert_eq!(&a, &b);
        matches_model(&a.unwrap(), &doc)?;

        consistent(&text)?;
    }

    /// The same documents, shaped for a kind, are valid documents of that kind.
    #[test]
    fn documents_shaped_for_a_kind_are_valid(doc in document(), seed in any::<u64>()) {
        let latin1 = |s: &String| s.chars().filter(|&c| ('\u{20}'..='\u{ff}').contains(&c)).collect::<String>();
        // Identity: version 2012-10-17, no principal, a resource, IAM's characters.
        let mut identity = doc.clone();
        identity.version = Some("2012-10-17");
        identity.id = doc.id.as_ref().map(latin1);
        for s in &mut identity.statements {
            s.principal = None;
            if s.resource.is_none() {
                s.resource = Some((false, vec![Some("*".to_owned())]));
            }
            for (_, keys) in s.condition.iter_mut().flatten() {
                for (_, values) in keys {
                    for v in values {
                        v.text = latin1(&v.text);
                    }
                }
            }
        }
        let text = identity.render(seed, true);
        let checked = check(&text, PolicyKind::Identity);
        prop_assert!(checked.is_valid(), "{}\n{:?}", text, checked.errors().map(ToString::to_string).collect::<Vec<_>>());

        // Resource-based: a principal and a resource; any version.
        let mut resource = doc;
        for s in &mut resource.statements {
            if s.principal.is_none() {
                s.principal = Some((false, Prin::Everyone));
            }
            if s.resource.is_none() {
                s.resource = Some((true, vec![Some("arn:aws:s3:::b/*".to_owned())]));
            }
        }
        let text = resource.render(seed, true);
        let checked = check(&text, PolicyKind::Resource);
        prop_assert!(checked.is_valid(), "{}\n{:?}", text, checked.errors().map(ToString::to_string).collect::<Vec<_>>());
    }

    /// Random mutations of valid documents never make a check panic or contradict itself.
    #[test]
    fn mutated_documents_never_panic(
        doc in document(),
        seed in any::<u64>(),
        edits in vec(
            (
                0..6u8,
                any::<proptest::sample::Index>(),
                any::<proptest::sample::Index>(),
                select(vec!['{', '}', '[', ']', '"', ':', ',', '\\', 'u', 'd', '8', '0', 'a', '*', '$', ' ', '\n', '-', '.', 'e', '\u{e9}', '\u{20ac}', '\u{1f600}', '\u{0}']),
            ),
            1..5,
        ),
    ) {
        let mut chars: Vec<char> = doc.render(seed, true).chars().collect();
        for (op, i, j, c) in edits {
            let len = chars.len();
            let at = if len == 0 { 0 } else { i.index(len) };
            let other = if len == 0 { 0 } else { j.index(len) };
            let (lo, hi) = (at.min(other), at.max(other));
            match op {
                0 if len > 0 => {
                    chars.remove(at);
                }
                1 => chars.insert(at.min(len), c),
                2 if len > 0 => chars[at] = c,
                3 => {
                    chars.drain(lo..hi);
                }
                4 => {
                    let slice: Vec<char> = chars[lo..hi].to_vec();
                    chars.splice(lo..lo, slice);
                }
                _ => chars.truncate(at),
            }
        }
        let text: String = chars.into_iter().collect();
        consistent(&text)?;
    }

    /// Arbitrary text never makes a check panic or contradict itself.
    #[test]
    fn arbitrary_text_never_panics(text in any_text(200)) {
        consistent(&text)?;
    }

    /// Nor does text made of JSON's own characters.
    #[test]
    fn json_like_text_never_panics(text in "[{}\\[\\]\":, a-zA-Z0-9\\\\*$?/.\\-\n\u{e9}]{0,300}") {
        consistent(&text)?;
    }

    /// Nor do random JSON trees made of policy words, which reach the typed checks.
    #[test]
    fn random_json_of_policy_words_never_panics(tree in policy_words_json(), seed in any::<u64>()) {
        let mut w = Writer::new(seed, true);
        w.value(&tree);
        consistent(&w.out)?;
    }
}

/// Random JSON whose keys and strings are the words of the policy language.
fn policy_words_json() -> impl Strategy<Value = J> {
    let keys = vec![
        "Version",
        "Id",
        "Statement",
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "AWS",
        "Service",
        "Federated",
        "CanonicalUser",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
        "StringEquals",
        "ForAnyValue:StringLike",
        "NumericLessThanIfExists",
        "DateGreaterThan",
        "Bool",
        "Null",
        "IpAddress",
        "BinaryEquals",
        "ArnLike",
        "aws:username",
        "x",
    ];
    let words = vec![
        "2012-10-17",
        "2008-10-17",
        "Allow",
        "Deny",
        "allow",
        "*",
        "s3:GetObject",
        "sts:AssumeRole",
        "a:b:c",
        "arn:aws:s3:::b/${aws:username}",
        "arn:aws:iam::123456789012:root",
        "arn:aws:iam:us-east-1::user/x",
        "arn:aws",
        "123456789012",
        "ec2.amazonaws.com",
        "true",
        "10",
        "2020-01-01T00:00:00Z",
        "10.0.0.0/8",
        "aGk=",
        "${aws:username}",
        "",
    ];
    let leaf = prop_oneof![
        Just(J::Null),
        select(vec!["true", "false", "0", "-1.5", "1e3", "12345678901234567890"]).prop_map(|s| J::Bare(s.to_owned())),
        select(words).prop_map(|s| J::Str(s.to_owned())),
    ];
    let tree = leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(J::Array),
            vec((select(keys.clone()).prop_map(str::to_owned), inner), 0..6).prop_map(|m| J::Object(m, false)),
        ]
    });
    // A policy is an object; most of the time, give it the top-level keys.
    (tree.clone(), tree.clone(), tree).prop_map(|(v, s, extra)| {
        J::Object(vec![("Version".to_owned(), v), ("Statement".to_owned(), s), ("Id".to_owned(), extra)], false)
    })
}
