//! Differential testing: `castellan_eval::evaluate` against a deliberately simple reference
//! evaluator (`reference/mod.rs`) on generated policies and requests, plus the invariants
//! (adding a Deny never grants; removing an Allow never grants; adding an Allow never removes
//! access).
//!
//! Generated cases are small but nasty: two accounts; root, users (with paths and unique
//! ids), role sessions (with role paths and ids), federated users, services and anonymous
//! callers; actions from a small mixed-case vocabulary; resource patterns with `*`, `?`, policy
//! variables and escapes; conditions with operators of every family, `IfExists`,
//! `ForAllValues` / `ForAnyValue`, over keys that the context sometimes lacks, sometimes holds
//! with a value of the wrong type, and sometimes holds with several values; and identity,
//! resource, boundary, session, SCP and RCP layers, each sometimes present. Policies are written
//! as JSON text and read with `Policy::parse_grammar`, so the parser is exercised too.
//!
//! A disagreement is printed as a decision case (`shared/formats/decision-cases.md`) whose
//! `expected` is the reference's answer, to replay with `castellan simulate --cases FILE`.
//!
//! The number of cases per property is `CASTELLAN_PROPTEST_CASES` (default 1000); a long run:
//! `CASTELLAN_PROPTEST_CASES=1000000 cargo test --release -p castellan-eval --test differential`.

// A panic is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod reference;

use castellan_eval::{Context, ContextValue, Layers, NamedPolicy, OrgLevel, Outcome, Principal, Request, evaluate};
use castellan_policy::{AccountId, Policy};
use proptest::prelude::*;
use proptest::sample::{Index, select};
use serde_json::{Value, json};

use reference::{ACCOUNT_A, ACCOUNT_B, Caller, Case, CtxValue};

const DEFAULT_CASES: u32 = 1000;

fn config() -> ProptestConfig {
    let cases = std::env::var("CASTELLAN_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_CASES);
    ProptestConfig { cases, ..ProptestConfig::default() }
}

// ---------------------------------------------------------------------------------------------
// Vocabularies
// ---------------------------------------------------------------------------------------------

const ACTIONS: &[&str] = &[
    "s3:GetObject",
    "S3:getobject",
    "s3:PutObject",
    "s3:ListBucket",
    "iam:ListUsers",
    "IAM:CreateAccessKey",
    "iam:createaccesskey",
    "sts:AssumeRole",
    "STS:assumerole",
    "sts:AssumeRoleWithSAML",
    "kms:Decrypt",
    "KMS:encrypt",
    "ec2:RunInstances",
    "sqs:SendMessage",
];

const ACTION_PATTERNS: &[&str] = &[
    "*",
    "s3:*",
    "S3:Get*",
    "s3:get?bject",
    "s3:*Object",
    "s3:GetObject",
    "s3:Put?bject",
    "iam:*",
    "iam:*AccessKey*",
    "IAM:List*",
    "iam:List?sers",
    "sts:AssumeRole",
    "sts:Assume*",
    "sts:AssumeRole*",
    "kms:*",
    "KMS:Decrypt",
    "ec2:*",
    "sqs:Send*",
];

const RESOURCES: &[&str] = &[
    "arn:aws:s3:::bucket/alice/notes.txt",
    "arn:aws:s3:::bucket/Alice/notes.txt",
    "arn:aws:s3:::bucket/team-a/x",
    "arn:aws:s3:::bucket",
    "arn:aws:s3:::bucket/*",
    "arn:aws:s3:::bucket/a:b",
    "arn:aws:s3:::other/*",
    "arn:aws:s3:::other/x",
    "arn:aws:iam::111122223333:user/alice",
    "arn:aws:iam::111122223333:user/dev/bob",
    "arn:aws:iam::111122223333:role/team/dev",
    "arn:aws:iam::444455556666:role/team/dev",
    "arn:aws:kms:us-east-1:111122223333:key/k1",
    "arn:aws:kms:eu-west-1:444455556666:key/k2",
    "arn:aws:sqs:us-east-1:444455556666:queue1",
    "arn:aws:logs:us-east-1:111122223333:log-group:g:log-stream:s",
    "*",
];

const RESOURCE_PATTERNS: &[&str] = &[
    "*",
    "arn:aws:s3:::bucket/*",
    "arn:aws:s3:::bucket",
    "arn:aws:s3:::bucket*",
    "arn:aws:s3:::bucket/${aws:username}/*",
    "arn:aws:s3:::bucket/${aws:PrincipalTag/team, 'alice'}/*",
    "arn:aws:s3:::bucket/${AWS:principaltag/TEAM}/*",
    "arn:aws:s3:::bucket/${*}",
    "arn:aws:s3:::other/${*}",
    "arn:aws:s3:::other/*",
    "arn:aws:s3:::*",
    "arn:aws:s3:::bucket/?lice/*",
    "arn:aws:s3:::bucket/a:*",
    "arn:*:s3:::bucket/*",
    "arn:aws:iam::*:user/*",
    "arn:aws:iam::111122223333:user/${aws:username}",
    "arn:aws:iam::111122223333:user/dev/*",
    "arn:aws:iam::????????????:role/*",
    "arn:aws:iam::111122223333:role/team/dev",
    "arn:aws:iam::*:*",
    "arn:aws:kms:*:111122223333:key/*",
    "arn:aws:kms:us-*:*:key/k?",
    "arn:aws:sqs:*:*:queue1",
    "arn:aws:sqs:*:444455556666:*",
    "arn:aws:logs:*:*:log-group:*",
    "arn:aws:logs:us-east-1:111122223333:log-group:g:*",
];

/// Values under `AWS` in a `Principal` / `NotPrincipal`.
const AWS_PRINCIPALS: &[&str] = &[
    "*",
    "111122223333",
    "444455556666",
    "arn:aws:iam::111122223333:root",
    "arn:aws:iam::444455556666:root",
    "arn:aws:iam::111122223333:user/alice",
    "arn:aws:iam::111122223333:user/dev/bob",
    "arn:aws:iam::444455556666:user/alice",
    "arn:aws:iam::111122223333:role/team/dev",
    "arn:aws:iam::111122223333:role/dev",
    "arn:aws:iam::111122223333:role/ops",
    "arn:aws:iam::444455556666:role/team/dev",
    "arn:aws:sts::111122223333:assumed-role/dev/alice",
    "arn:aws:sts::111122223333:assumed-role/ops/s1",
    "arn:aws:sts::111122223333:federated-user/carol",
    "AIDAALICE0000000000001",
    "AROADEV00000000000001",
];

const SERVICES: &[&str] = &["s3.amazonaws.com", "lambda.amazonaws.com"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    String,
    Numeric,
    Date,
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

const FAMILIES: &[Family] = &[
    Family::String,
    Family::Numeric,
    Family::Date,
    Family::Bool,
    Family::Binary,
    Family::Ip,
    Family::Arn,
    Family::Null,
];

fn operators(family: Family) -> &'static [&'static str] {
    match family {
        Family::String => &[
            "StringEquals",
            "StringNotEquals",
            "StringEqualsIgnoreCase",
            "StringNotEqualsIgnoreCase",
            "StringLike",
            "StringNotLike",
        ],
        Family::Numeric => &[
            "NumericEquals",
            "NumericNotEquals",
            "NumericLessThan",
            "NumericLessThanEquals",
            "NumericGreaterThan",
            "NumericGreaterThanEquals",
        ],
        Family::Date => &[
            "DateEquals",
            "DateNotEquals",
            "DateLessThan",
            "DateLessThanEquals",
            "DateGreaterThan",
            "DateGreaterThanEquals",
        ],
        Family::Bool => &["Bool"],
        Family::Binary => &["BinaryEquals"],
        Family::Ip => &["IpAddress", "NotIpAddress"],
        Family::Arn => &["ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"],
        Family::Null => &["Null"],
    }
}

/// Policy values for an operator family (valid for it, so that the policy parses).
fn policy_values(family: Family) -> Vec<Value> {
    let strings = |v: &[&str]| v.iter().map(|s| json!(s)).collect::<Vec<_>>();
    match family {
        Family::String => strings(&[
            "alice",
            "Alice",
            "bob",
            "team-a",
            "User",
            "AssumedRole",
            "Account",
            "anonymous",
            "111122223333",
            "team",
            "env",
            "key1*",
            "key2:audit",
            "a*",
            "al?ce",
            "*",
            "",
            "caf\u{e9}",
            "CAF\u{c9}",
            "true",
            "${aws:username}",
            "${aws:PrincipalTag/team, 'alice'}",
            "${aws:principaltag/Team}",
            "${aws:PrincipalAccount}",
            "x${*}",
            "${?}lice",
            "AIDAALICE0000000000001",
            "AROADEV00000000000001:*",
            "111122223333:carol",
            "arn:aws:iam::111122223333:*",
            "arn:aws:iam::111122223333:user/alice",
        ])
        .into_iter()
        // Unquoted scalars are read as their text (§1.1).
        .chain([json!(10), json!(true)])
        .collect(),
        Family::Numeric => {
            let mut v = strings(&["10", "10.0", "9.5", "-1", "0", "100", "11", "1795867200"]);
            v.push(json!(10));
            v
        }
        Family::Date => strings(&[
            "2026-11-28T12:00:00Z",
            "2026-11-28",
            "2026-11",
            "2026-11-28T12:00Z",
            "2026-11-28T13:00:00+01:00",
            "2026-11-28T12:00:00.5Z",
            "1795867200",
            "2030-01-01T00:00:00Z",
            "2020-01-01T00:00:01Z",
            "2026",
        ]),
        Family::Bool => {
            let mut v = strings(&["true", "false", "TRUE", "${aws:PrincipalTag/team, 'true'}"]);
            v.extend([json!(true), json!(false)]);
            v
        }
        Family::Binary => strings(&["aGVsbG8=", "aGVsbG8", "AAEC"]),
        Family::Ip => strings(&[
            "203.0.113.0/24",
            "203.0.113.7",
            "10.0.0.0/8",
            "2001:db8::/32",
            "0.0.0.0/0",
            "203.0.113.7/32",
            "::/0",
        ]),
        Family::Arn => strings(&[
            "arn:aws:iam::111122223333:user/alice",
            "arn:aws:iam::*:user/*",
            "arn:aws:iam::111122223333:*",
            "arn:aws:iam::111122223333:role/team/dev",
            "arn:aws:iam::111122223333:user/${aws:username}",
            "arn:aws:iam::${aws:PrincipalAccount}:*",
            "${aws:PrincipalArn}",
            "arn:aws:sns:*:111122223333:*",
            "arn:aws:s3:::bucket/${*}",
            "arn:aws:s3:::bucket/*",
            "arn:aws:someservice:*:111122223333:finance/*",
            "arn:aws:*:*:111122223333:*",
            "arn:aws:s?s:*:*:*",
        ]),
        Family::Null => {
            let mut v = strings(&["true", "false"]);
            v.extend([json!(true), json!(false)]);
            v
        }
    }
}

/// A condition key: its spellings (key names are case-insensitive), the families it is usually
/// tested with, and policy values likely to meet its request values (valid for each of those
/// families except `Null`).
struct KeySpec {
    spellings: &'static [&'static str],
    families: &'static [Family],
    likely: &'static [&'static str],
}

const CONDITION_KEYS: &[KeySpec] = &[
    KeySpec {
        spellings: &["aws:username", "AWS:UserName"],
        families: &[Family::String],
        likely: &["alice", "ALICE", "Alice", "bob", "al*", "?lice", "${aws:PrincipalTag/team, 'alice'}"],
    },
    KeySpec {
        spellings: &["aws:PrincipalType"],
        families: &[Family::String],
        likely: &["User", "user", "AssumedRole", "Account", "FederatedUser", "Anonymous", "*Role"],
    },
    KeySpec {
        spellings: &["aws:PrincipalArn", "aws:principalarn"],
        families: &[Family::Arn, Family::String],
        likely: &[
            "arn:aws:iam::111122223333:user/alice",
            "arn:aws:iam::111122223333:role/team/dev",
            "arn:aws:iam::111122223333:role/*",
            "arn:aws:iam::*:user/*",
            "arn:aws:iam::111122223333:root",
            "arn:aws:sts::111122223333:federated-user/carol",
            "arn:aws:iam::111122223333:ROLE/team/dev",
            "arn:aws:iam::${aws:PrincipalAccount}:role/team/${*}",
        ],
    },
    KeySpec {
        spellings: &["aws:PrincipalAccount"],
        families: &[Family::String],
        likely: &["111122223333", "444455556666", "anonymous", "1111*", "${aws:PrincipalAccount}"],
    },
    KeySpec {
        spellings: &["aws:userid"],
        families: &[Family::String],
        likely: &[
            "AIDAALICE0000000000001",
            "AROADEV00000000000001:*",
            "AROADEV00000000000001:alice",
            "111122223333",
            "111122223333:carol",
            "anonymous",
        ],
    },
    KeySpec {
        spellings: &["aws:PrincipalTag/team", "aws:principaltag/TEAM", "AWS:PrincipalTag/Team"],
        families: &[Family::String, Family::Null],
        likely: &["alice", "ALICE", "team-a", "", "CAF\u{c9}", "caf\u{e9}", "${aws:username}", "t*"],
    },
    KeySpec {
        spellings: &["aws:TagKeys", "aws:tagkeys"],
        families: &[Family::String, Family::Null],
        likely: &["team", "env", "key1*", "key2:audit", "TEAM", "*", ""],
    },
    KeySpec { spellings: &["aws:SourceIp", "aws:sourceip"], families: &[Family::Ip], likely: &[] },
    KeySpec { spellings: &["aws:CurrentTime"], families: &[Family::Date], likely: &[] },
    KeySpec {
        spellings: &["aws:EpochTime"],
        families: &[Family::Date, Family::Numeric],
        likely: &["1795867200", "1795867199", "1795867201", "10", "2026"],
    },
    KeySpec { spellings: &["aws:SecureTransport"], families: &[Family::Bool], likely: &[] },
    KeySpec { spellings: &["aws:MultiFactorAuthPresent"], families: &[Family::Bool, Family::Null], likely: &[] },
    KeySpec { spellings: &["aws:PrincipalIsAWSService"], families: &[Family::Bool], likely: &[] },
    KeySpec {
        spellings: &["s3:max-keys", "S3:Max-Keys"],
        families: &[Family::Numeric],
        likely: &["10", "10.0", "9.99", "11", "-1", "0011", "10.000000001", "+10"],
    },
    KeySpec {
        spellings: &["aws:SourceArn"],
        families: &[Family::Arn, Family::String],
        likely: &[
            "arn:aws:sns:us-east-1:111122223333:topic",
            "arn:aws:sns:*:111122223333:*",
            "arn:aws:s3:::bucket/${*}",
            "arn:aws:s3:::bucket/*",
            "arn:aws:someservice:*:111122223333:finance/*",
            "arn:aws:sns:us-east-?:*:top*",
            "arn:aws:iam::111122223333:user/${aws:username}",
        ],
    },
    KeySpec { spellings: &["test:bytes"], families: &[Family::Binary], likely: &[] },
];

/// A request key the generator may put in the context: spellings, values (of the right type
/// and not), and whether it is naturally multivalued.
struct ContextSpec {
    spellings: &'static [&'static str],
    values: &'static [&'static str],
    multi: bool,
}

const CONTEXT_KEYS: &[ContextSpec] = &[
    ContextSpec {
        spellings: &["aws:PrincipalTag/team", "aws:principaltag/TEAM"],
        values: &["alice", "Alice", "team-a", "", "caf\u{e9}", "x", "true"],
        multi: false,
    },
    ContextSpec {
        spellings: &["aws:TagKeys", "AWS:TAGKEYS"],
        values: &["team", "env", "key1:legal", "key2:audit", "Team", ""],
        multi: true,
    },
    ContextSpec {
        spellings: &["aws:SourceIp"],
        values: &["203.0.113.7", "10.1.2.3", "2001:db8::1", "not-an-ip", "203.0.114.1"],
        multi: false,
    },
    ContextSpec {
        spellings: &["aws:CurrentTime", "aws:currenttime"],
        values: &[
            "2026-11-28T12:00:00Z",
            "2026-11-28T12:00:00.000Z",
            "2020-01-01T00:00:01Z",
            "2026-11-28",
            "1795867200",
            "garbage",
        ],
        multi: false,
    },
    ContextSpec {
        spellings: &["aws:EpochTime"],
        values: &["1795867200", "1795000000", "10", "2026", "abc"],
        multi: false,
    },
    ContextSpec { spellings: &["aws:SecureTransport"], values: &["true", "false", "TRUE", "yes"], multi: false },
    ContextSpec { spellings: &["aws:MultiFactorAuthPresent"], values: &["true", "false"], multi: false },
    ContextSpec {
        spellings: &["s3:max-keys"],
        values: &["10", "9.5", "10.00", "011", "-1", "abc", "100"],
        multi: false,
    },
    ContextSpec {
        spellings: &["aws:SourceArn", "AWS:SOURCEARN"],
        values: &[
            "arn:aws:sns:us-east-1:111122223333:topic",
            "arn:aws:iam::111122223333:user/alice",
            "arn:aws:s3:::bucket/*",
            "arn:aws:s3:::bucket/x",
            "not-an-arn",
            "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt",
        ],
        multi: false,
    },
    ContextSpec { spellings: &["test:bytes"], values: &["aGVsbG8=", "aGVsbG8", "AAEC", "!!"], multi: false },
];

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

/// Which shape a statement must have for its layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Identity, boundary, session, SCP: no principal.
    Plain,
    /// Resource-based (and trust) policies: `Principal` or `NotPrincipal`, `Resource` optional.
    Resource,
    /// RCP: `Principal: "*"`.
    Rcp,
}

fn callers() -> Vec<Caller> {
    let user = |account: &str, path: &str, name: &str, id: Option<&str>| Caller::User {
        account: account.into(),
        path: path.into(),
        name: name.into(),
        unique_id: id.map(Into::into),
    };
    let session = |account: &str, role_path: &str, role: &str, session: &str, id: Option<&str>| Caller::Session {
        account: account.into(),
        role_path: role_path.into(),
        role: role.into(),
        session: session.into(),
        role_id: id.map(Into::into),
    };
    vec![
        Caller::Root { account: ACCOUNT_A.into() },
        Caller::Root { account: ACCOUNT_B.into() },
        user(ACCOUNT_A, "", "alice", None),
        user(ACCOUNT_A, "", "alice", Some("AIDAALICE0000000000001")),
        user(ACCOUNT_A, "dev/", "bob", None),
        user(ACCOUNT_B, "", "alice", None),
        session(ACCOUNT_A, "team/", "dev", "alice", None),
        session(ACCOUNT_A, "team/", "dev", "alice", Some("AROADEV00000000000001")),
        session(ACCOUNT_A, "", "ops", "s1", None),
        session(ACCOUNT_B, "team/", "dev", "alice", None),
        Caller::FederatedUser { account: ACCOUNT_A.into(), name: "carol".into() },
        Caller::Service { name: SERVICES[0].into() },
        Caller::Service { name: SERVICES[1].into() },
        Caller::Anonymous,
    ]
}

/// A list written as a scalar when it has one element (both are valid, §1.1).
fn scalar_or_list(values: Vec<Value>, scalar: bool) -> Value {
    if values.len() == 1 && scalar { values.into_iter().next().unwrap() } else { Value::Array(values) }
}

fn strings(values: &[&str]) -> Vec<Value> {
    values.iter().map(|v| json!(v)).collect()
}

fn action_clause() -> impl Strategy<Value = (&'static str, Value)> {
    let patterns = prop::collection::vec(select(ACTION_PATTERNS), 1..=3);
    (prop::bool::weighted(0.2), patterns, any::<bool>()).prop_map(|(not, patterns, scalar)| {
        (if not { "NotAction" } else { "Action" }, scalar_or_list(strings(&patterns), scalar))
    })
}

fn resource_clause() -> impl Strategy<Value = (&'static str, Value)> {
    let patterns = prop::collection::vec(select(RESOURCE_PATTERNS), 1..=3);
    (prop::bool::weighted(0.2), patterns, any::<bool>()).prop_map(|(not, patterns, scalar)| {
        (if not { "NotResource" } else { "Resource" }, scalar_or_list(strings(&patterns), scalar))
    })
}

fn principal_value() -> impl Strategy<Value = Value> {
    let aws = prop::collection::vec(select(AWS_PRINCIPALS), 1..=3);
    let service = prop::option::weighted(0.3, prop::collection::vec(select(SERVICES), 1..=2));
    prop_oneof![
        1 => Just(json!("*")),
        6 => (aws, service, any::<bool>(), prop::bool::weighted(0.1), prop::bool::weighted(0.1)).prop_map(
            |(aws, service, scalar, only_service, federated)| {
                let mut map = serde_json::Map::new();
                if !(only_service && service.is_some()) {
                    map.insert("AWS".into(), scalar_or_list(strings(&aws), scalar));
                }
                if let Some(service) = service {
                    map.insert("Service".into(), scalar_or_list(strings(&service), scalar));
                }
                if federated {
                    // Names an identity provider: no generated caller.
                    map.insert("Federated".into(), json!("cognito-identity.amazonaws.com"));
                }
                Value::Object(map)
            }
        ),
    ]
}

/// One condition: operator, key as written, values.
fn condition() -> impl Strategy<Value = (String, String, Value)> {
    (0..CONDITION_KEYS.len(), prop::bool::weighted(0.8)).prop_flat_map(|(key, natural)| {
        let spec = &CONDITION_KEYS[key];
        let family = if natural { select(spec.families) } else { select(FAMILIES) };
        (select(spec.spellings), family).prop_flat_map(move |(spelling, family)| {
            let qualifier = prop_oneof![6 => Just(""), 2 => Just("ForAllValues:"), 2 => Just("ForAnyValue:")];
            let mut vocabulary = policy_values(family);
            if spec.families.contains(&family) && family != Family::Null && !spec.likely.is_empty() {
                // Values likely to meet the key's request values, twice as often as the rest.
                let likely: Vec<Value> = spec.likely.iter().map(|v| json!(v)).collect();
                vocabulary = likely.iter().chain(&likely).chain(&likely).cloned().chain(vocabulary).collect();
            }
            let values = prop::collection::vec(select(vocabulary), 1..=3);
            (select(operators(family)), qualifier, prop::bool::weighted(0.25), values, any::<bool>()).prop_map(
                move |(base, qualifier, if_exists, values, scalar)| {
                    // `Null` takes neither a qualifier nor `IfExists`.
                    let operator = if base == "Null" {
                        base.to_owned()
                    } else {
                        format!("{qualifier}{base}{}", if if_exists { "IfExists" } else { "" })
                    };
                    (operator, spelling.to_owned(), scalar_or_list(values, scalar))
                },
            )
        })
    })
}

/// A `Condition` block from conditions; a second condition on the same operator and key (in
/// any letter case) is dropped, as one JSON object cannot hold it twice.
fn condition_block(conditions: Vec<(String, String, Value)>) -> Option<Value> {
    let mut block = serde_json::Map::new();
    for (operator, key, values) in conditions {
        let keys = block.entry(operator).or_insert_with(|| json!({})).as_object_mut().unwrap();
        if !keys.keys().any(|k| k.eq_ignore_ascii_case(&key)) {
            keys.insert(key, values);
        }
    }
    (!block.is_empty()).then_some(Value::Object(block))
}

fn statement(kind: Kind, effect: Option<&'static str>) -> BoxedStrategy<Value> {
    let effect = match effect {
        Some(e) => Just(e).boxed(),
        None => prop_oneof![3 => Just("Allow"), 1 => Just("Deny")].boxed(),
    };
    let conditions = prop_oneof![
        5 => Just(Vec::new()),
        4 => prop::collection::vec(condition(), 1..=3),
    ];
    (
        effect,
        action_clause(),
        if kind == Kind::Resource {
            prop::option::weighted(0.85, resource_clause()).boxed()
        } else {
            resource_clause().prop_map(Some).boxed()
        },
        principal_value(),
        prop::bool::weighted(0.25),
        conditions,
        prop::bool::weighted(0.35),
    )
        .prop_map(move |(effect, (action_key, actions), resource, principal, not_principal, conditions, broad)| {
            let mut s = serde_json::Map::new();
            s.insert("Effect".into(), json!(effect));
            match kind {
                Kind::Plain => {}
                Kind::Rcp => {
                    s.insert("Principal".into(), json!("*"));
                }
                // NotPrincipal is supported with Deny only (§1.4).
                Kind::Resource if not_principal && effect == "Deny" => {
                    s.insert("NotPrincipal".into(), principal);
                }
                Kind::Resource => {
                    s.insert("Principal".into(), principal);
                }
            }
            if broad && effect == "Allow" {
                // Broad grants keep the layers from denying nearly everything.
                s.insert("Action".into(), json!("*"));
                s.insert("Resource".into(), json!("*"));
            } else {
                s.insert(action_key.into(), actions);
                // Every kind but a trust policy needs a resource (§1.2).
                let (resource_key, resources) = resource.unwrap_or(("", Value::Null));
                if !resource_key.is_empty() {
                    s.insert(resource_key.into(), resources);
                }
            }
            if let Some(block) = condition_block(conditions) {
                s.insert("Condition".into(), block);
            }
            Value::Object(s)
        })
        .boxed()
}

fn policy(kind: Kind) -> BoxedStrategy<Value> {
    let version = prop_oneof![8 => Just(Some("2012-10-17")), 1 => Just(Some("2008-10-17")), 1 => Just(None)];
    (version, prop::collection::vec(statement(kind, None), 1..=3), any::<bool>(), any::<bool>())
        .prop_map(|(version, statements, as_object, sids)| {
            let mut p = serde_json::Map::new();
            if let Some(v) = version {
                p.insert("Version".into(), json!(v));
            }
            let mut statements = statements;
            if sids {
                for (i, s) in statements.iter_mut().enumerate() {
                    s.as_object_mut().unwrap().insert("Sid".into(), json!(format!("S{i}")));
                }
            }
            p.insert("Statement".into(), scalar_or_list(statements, as_object));
            Value::Object(p)
        })
        .boxed()
}

/// `FullAWSAccess` / `RCPFullAWSAccess` (§9.2, §9.3).
fn full_access(kind: Kind) -> Value {
    let mut s = json!({"Effect": "Allow", "Action": "*", "Resource": "*"});
    if kind == Kind::Rcp {
        s["Principal"] = json!("*");
    }
    json!({"Version": "2012-10-17", "Statement": [s]})
}

/// The levels of an organization path: each usually with the full-access policy, sometimes
/// with custom policies, rarely with none.
fn org_path(kind: Kind) -> impl Strategy<Value = Option<Vec<Vec<Value>>>> {
    let one = prop_oneof![3 => Just(full_access(kind)), 2 => policy(kind)];
    let level = prop_oneof![1 => Just(Vec::new()), 8 => prop::collection::vec(one, 1..=2)];
    prop::option::weighted(0.4, prop::collection::vec(level, 1..=3))
}

fn context_entry(spec: &'static ContextSpec) -> impl Strategy<Value = Option<(String, CtxValue)>> {
    let single = select(spec.values).prop_map(|v| CtxValue::Single(v.to_owned()));
    let multi = prop::collection::vec(select(spec.values), 0..=3)
        .prop_map(|vs| CtxValue::Multi(vs.into_iter().map(str::to_owned).collect()));
    let value = if spec.multi {
        prop_oneof![1 => single, 4 => multi].boxed()
    } else {
        prop_oneof![4 => single, 1 => multi].boxed()
    };
    prop::option::weighted(0.6, (select(spec.spellings), value).prop_map(|(k, v)| (k.to_owned(), v)))
}

fn context() -> impl Strategy<Value = Vec<(String, CtxValue)>> {
    CONTEXT_KEYS
        .iter()
        .map(context_entry)
        .collect::<Vec<_>>()
        .prop_map(|entries| entries.into_iter().flatten().collect())
}

/// The keys a case gives about its caller (as the decision-case format lets it): the role's
/// ARN with its path for a session, and the unique id where the caller has one.
fn caller_context(caller: &Caller) -> Vec<(String, CtxValue)> {
    let mut out = Vec::new();
    if let Some(role_arn) = caller.role_arn() {
        out.push(("aws:PrincipalArn".to_owned(), CtxValue::Single(role_arn)));
    }
    match caller {
        Caller::User { unique_id: Some(id), .. } => out.push(("aws:userid".to_owned(), CtxValue::Single(id.clone()))),
        Caller::Session { role_id: Some(id), session, .. } => {
            out.push(("aws:userid".to_owned(), CtxValue::Single(format!("{id}:{session}"))));
        }
        _ => {}
    }
    out
}

fn case() -> impl Strategy<Value = Case> {
    let layers = (
        prop::collection::vec(policy(Kind::Plain), 1..=2),
        prop::collection::vec(policy(Kind::Resource), 0..=2),
        prop::option::weighted(0.3, policy(Kind::Plain)),
        prop_oneof![2 => Just(Vec::new()), 1 => prop::collection::vec(policy(Kind::Plain), 1..=2)],
        org_path(Kind::Plain),
        org_path(Kind::Rcp),
    );
    let request = (
        select(callers()),
        select(ACTIONS),
        select(RESOURCES),
        prop_oneof![2 => Just(None), 1 => Just(Some(ACCOUNT_A)), 1 => Just(Some(ACCOUNT_B))],
        context(),
    );
    (request, layers).prop_map(
        |(
            (caller, action, resource, resource_account, context),
            (identity, resource_policies, boundary, session, scp, rcp),
        )| {
            let mut full_context = caller_context(&caller);
            full_context.extend(context);
            // Each layer only where the caller can have it.
            let iam = caller.is_iam();
            let has_identity = iam && !matches!(caller, Caller::Root { .. });
            Case {
                identity: if has_identity { identity } else { Vec::new() },
                resource_policies,
                boundary: boundary.filter(|_| has_identity),
                session: if caller.is_session() { session } else { Vec::new() },
                scp: scp.filter(|_| iam),
                rcp,
                action: action.to_owned(),
                resource: resource.to_owned(),
                resource_account: resource_account.map(str::to_owned),
                context: full_context,
                caller,
            }
        },
    )
}

// ---------------------------------------------------------------------------------------------
// Running castellan-eval on a case
// ---------------------------------------------------------------------------------------------

fn parse(policy: &Value) -> Result<Policy, String> {
    let text = serde_json::to_string(policy).unwrap();
    Policy::parse_grammar(&text).map_err(|e| format!("the parser rejects a generated policy: {e}\n{text}"))
}

fn named(policy: &Policy) -> NamedPolicy<'_> {
    NamedPolicy { id: "policy", policy }
}

fn levels(path: &Option<Vec<Vec<Policy>>>) -> Option<Vec<OrgLevel<'_>>> {
    path.as_ref().map(|levels| {
        levels.iter().map(|policies| OrgLevel { id: "level", policies: policies.iter().map(named).collect() }).collect()
    })
}

/// The case through `castellan_eval::evaluate`, built the way `castellan simulate` reads a
/// decision case.
fn fast(case: &Case) -> Result<Outcome, String> {
    let parse_all = |ps: &[Value]| ps.iter().map(parse).collect::<Result<Vec<_>, _>>();
    let parse_path = |levels: &Option<Vec<Vec<Value>>>| {
        levels.as_ref().map(|ls| ls.iter().map(|l| parse_all(l)).collect::<Result<Vec<_>, _>>()).transpose()
    };
    let identity = parse_all(&case.identity)?;
    let resource = parse_all(&case.resource_policies)?;
    let boundary = case.boundary.as_ref().map(parse).transpose()?;
    let session = parse_all(&case.session)?;
    let scp = parse_path(&case.scp)?;
    let rcp = parse_path(&case.rcp)?;

    let mut context = Context::new();
    for (key, value) in &case.context {
        let value = match value {
            CtxValue::Single(v) => ContextValue::single(v),
            CtxValue::Multi(vs) => ContextValue::multi(vs.iter().map(String::as_str)),
        };
        context.insert(key, value);
    }
    let principal = match &case.caller {
        Caller::Anonymous => Principal::anonymous(),
        Caller::Service { name } => Principal::service(name),
        caller => {
            let role_arn = context.get("aws:PrincipalArn").and_then(|v| v.as_single()).filter(|a| a.contains(":role/"));
            let mut principal = Principal::from_arn(&caller.arn().unwrap(), role_arn).map_err(|e| e.to_string())?;
            if let Some(userid) = context.get("aws:userid").and_then(|v| v.as_single()) {
                let id = userid.split(':').next().unwrap_or_default();
                if id.starts_with("AIDA") || id.starts_with("AROA") {
                    principal.unique_id = Some(id.into());
                }
            }
            principal
        }
    };
    principal.fill_context(&mut context);

    let layers = Layers {
        identity: identity.iter().map(named).collect(),
        resource: resource.iter().map(named).collect(),
        permissions_boundary: boundary.as_ref().map(named),
        session: session.iter().map(named).collect(),
        scp: levels(&scp),
        rcp: levels(&rcp),
        vpc_endpoint: Vec::new(),
    };
    let resource_account = case.resource_account.as_deref().map(|a| AccountId::parse(a).unwrap());
    let request = Request {
        principal: &principal,
        action: &case.action,
        resource: &case.resource,
        resource_account,
        context: &context,
    };
    let outcome = evaluate(&request, &layers).outcome;
    // The compiled (indexed) layers must decide the same way.
    let compiled = layers.compile();
    let (decided, explained) = (compiled.decide(&request), compiled.evaluate(&request).outcome);
    if decided != outcome || explained != outcome {
        return Err(format!(
            "`evaluate` says {outcome}, `CompiledLayers::decide` says {decided}, `CompiledLayers::evaluate` says {explained}"
        ));
    }
    Ok(outcome)
}

/// The case as a decision case (`shared/formats/decision-cases.md`), expecting `expected`.
fn decision_case(case: &Case, name: &str, expected: Outcome, note: &str) -> Value {
    let mut policies = Vec::new();
    let mut add = |kind: &str, document: &Value| policies.push(json!({"type": kind, "document": document}));
    case.identity.iter().for_each(|p| add("identity", p));
    case.resource_policies.iter().for_each(|p| add("resource", p));
    case.boundary.iter().for_each(|p| add("permissions_boundary", p));
    case.session.iter().for_each(|p| add("session", p));
    let mut org = serde_json::Map::new();
    for (kind, path, account) in [
        ("scp", &case.scp, case.caller.account().unwrap_or(ACCOUNT_A)),
        ("rcp", &case.rcp, case.resource_account.as_deref().or(case.caller.account()).unwrap_or(ACCOUNT_A)),
    ] {
        let Some(levels) = path else { continue };
        let mut listed = Vec::new();
        for (level, level_policies) in levels.iter().enumerate() {
            let id = if level == 0 {
                "r-abcd".to_owned()
            } else if level + 1 == levels.len() {
                account.to_owned()
            } else {
                format!("ou-abcd-{level:08}")
            };
            listed.push(json!({"level": level, "org_identifier": id, "policy_count": level_policies.len()}));
            for document in level_policies {
                policies.push(json!({"type": kind, "level": level, "org_identifier": id, "document": document}));
            }
        }
        org.insert(format!("{kind}_levels"), Value::Array(listed));
    }
    let principal = match &case.caller {
        Caller::Anonymous => json!({"type": "Anonymous"}),
        Caller::Service { name } => json!(name),
        caller => json!(caller.arn()),
    };
    let context: serde_json::Map<String, Value> = case
        .context
        .iter()
        .map(|(k, v)| {
            let v = match v {
                CtxValue::Single(s) => json!(s),
                CtxValue::Multi(vs) => json!(vs),
            };
            (k.clone(), v)
        })
        .collect();
    let mut request = json!({
        "principal": principal,
        "action": case.action,
        "resource": case.resource,
        "context": context,
    });
    if let Some(account) = &case.resource_account {
        request["resource_account"] = json!(account);
    }
    let mut out =
        json!({"name": name, "note": note, "policies": policies, "request": request, "expected": expected.as_str()});
    if !org.is_empty() {
        out["org"] = Value::Object(org);
    }
    out
}

/// Runs both evaluators; `Err` with a replayable case when they disagree.
fn check_agreement(case: &Case, name: &str) -> Result<Outcome, TestCaseError> {
    let want = reference::evaluate(case);
    let problem = match fast(case) {
        Ok(got) if got == want => return Ok(got),
        Ok(got) => format!("castellan-eval says {got}, the reference evaluator says {want}"),
        Err(problem) => problem,
    };
    let replay = serde_json::to_string_pretty(&json!([decision_case(case, name, want, &problem)])).unwrap();
    Err(TestCaseError::fail(format!("{problem}; replay with `castellan simulate --cases`:\n{replay}")))
}

// ---------------------------------------------------------------------------------------------
// Edits for the invariants
// ---------------------------------------------------------------------------------------------

/// Where a policy sits in a case.
#[derive(Debug, Clone, Copy)]
enum Slot {
    Identity(usize),
    Resource(usize),
    Boundary,
    Session(usize),
    Scp(usize, usize),
    Rcp(usize, usize),
}

impl Slot {
    fn kind(self) -> Kind {
        match self {
            Slot::Resource(_) => Kind::Resource,
            Slot::Rcp(..) => Kind::Rcp,
            _ => Kind::Plain,
        }
    }
}

fn slots(case: &Case) -> Vec<Slot> {
    let mut out: Vec<Slot> = (0..case.identity.len()).map(Slot::Identity).collect();
    out.extend((0..case.resource_policies.len()).map(Slot::Resource));
    out.extend(case.boundary.iter().map(|_| Slot::Boundary));
    out.extend((0..case.session.len()).map(Slot::Session));
    for (i, level) in case.scp.iter().flatten().enumerate() {
        out.extend((0..level.len()).map(|j| Slot::Scp(i, j)));
    }
    for (i, level) in case.rcp.iter().flatten().enumerate() {
        out.extend((0..level.len()).map(|j| Slot::Rcp(i, j)));
    }
    out
}

fn policy_mut(case: &mut Case, slot: Slot) -> &mut Value {
    match slot {
        Slot::Identity(i) => &mut case.identity[i],
        Slot::Resource(i) => &mut case.resource_policies[i],
        Slot::Boundary => case.boundary.as_mut().unwrap(),
        Slot::Session(i) => &mut case.session[i],
        Slot::Scp(i, j) => &mut case.scp.as_mut().unwrap()[i][j],
        Slot::Rcp(i, j) => &mut case.rcp.as_mut().unwrap()[i][j],
    }
}

/// The statements of a policy as a list (a single statement object becomes a list of one).
fn statement_list(policy: &mut Value) -> &mut Vec<Value> {
    if !policy["Statement"].is_array() {
        let one = policy["Statement"].take();
        policy["Statement"] = json!([one]);
    }
    policy["Statement"].as_array_mut().unwrap()
}

/// A statement of the same effect for each kind of layer.
#[derive(Debug, Clone)]
struct Extra {
    plain: Value,
    resource: Value,
    rcp: Value,
}

impl Extra {
    fn for_kind(&self, kind: Kind) -> Value {
        let mut s = match kind {
            Kind::Plain => self.plain.clone(),
            Kind::Resource => self.resource.clone(),
            Kind::Rcp => self.rcp.clone(),
        };
        // A `Sid` could collide with the policy's own.
        s.as_object_mut().unwrap().remove("Sid");
        s
    }
}

fn extra(effect: &'static str) -> impl Strategy<Value = Extra> {
    (statement(Kind::Plain, Some(effect)), statement(Kind::Resource, Some(effect)), statement(Kind::Rcp, Some(effect)))
        .prop_map(|(plain, resource, rcp)| Extra { plain, resource, rcp })
}

/// Adds the statement to an existing policy of any layer, or as a new identity policy, or (with
/// `new_resource_policy`) as a new resource policy.
///
/// A new resource policy is not a pure addition of a statement for a KMS action: a case without
/// any resource policy does not model the key policy, and a key policy that is given must allow
/// (castellan-eval's convention, see `reference::evaluate`), so it is left out where the
/// invariant is about adding an Allow.
fn add_statement(case: &Case, extra: &Extra, at: Index, new_resource_policy: bool) -> Case {
    let mut out = case.clone();
    let slots = slots(case);
    let choice = at.index(slots.len() + 1 + usize::from(new_resource_policy));
    match slots.get(choice) {
        Some(&slot) => statement_list(policy_mut(&mut out, slot)).push(extra.for_kind(slot.kind())),
        None if choice == slots.len() => {
            out.identity.push(json!({"Version": "2012-10-17", "Statement": extra.for_kind(Kind::Plain)}));
        }
        None => {
            out.resource_policies.push(json!({"Version": "2012-10-17", "Statement": extra.for_kind(Kind::Resource)}));
        }
    }
    out
}

/// Removes one `Allow` statement; `None` when there is none. A policy left without statements
/// keeps one that never applies, so that the layer stays present (an absent boundary or
/// session policy would mean something else).
fn remove_allow(case: &Case, at: Index) -> Option<Case> {
    let mut out = case.clone();
    let mut allows = Vec::new();
    for slot in slots(case) {
        let list = statement_list(policy_mut(&mut out, slot));
        for (i, s) in list.iter().enumerate() {
            if s["Effect"] == "Allow" {
                allows.push((slot, i));
            }
        }
    }
    if allows.is_empty() {
        return None;
    }
    let (slot, i) = allows[at.index(allows.len())];
    let list = statement_list(policy_mut(&mut out, slot));
    list.remove(i);
    if list.is_empty() {
        let mut never = json!({"Effect": "Allow", "Action": "castellan:NeverRequested", "Resource": "*"});
        if slot.kind() != Kind::Plain {
            never["Principal"] = json!("*");
        }
        list.push(never);
    }
    Some(out)
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    /// (a) castellan-eval agrees with the reference evaluator.
    #[test]
    fn evaluate_agrees_with_the_reference(case in case()) {
        check_agreement(&case, "differential: evaluate vs reference")?;
    }

    /// (b) Adding a Deny statement to any layer never turns a denial into Allow, and keeps an
    /// explicit deny explicit.
    #[test]
    fn adding_a_deny_never_grants(case in case(), deny in extra("Deny"), at in any::<Index>()) {
        let before = check_agreement(&case, "before adding a Deny")?;
        let edited = add_statement(&case, &deny, at, true);
        let after = check_agreement(&edited, "after adding a Deny")?;
        if (before != Outcome::Allow && after == Outcome::Allow) || (before == Outcome::ExplicitDeny && after != before) {
            let pair = json!([
                decision_case(&case, "before adding a Deny", before, ""),
                decision_case(&edited, "after adding a Deny", after, "adding a Deny changed the decision this way"),
            ]);
            prop_assert!(false, "{before} became {after}:\n{}", serde_json::to_string_pretty(&pair).unwrap());
        }
    }

    /// (c) Removing an Allow statement never turns a denial into Allow, and never makes or
    /// unmakes an explicit deny.
    #[test]
    fn removing_an_allow_never_grants(case in case(), at in any::<Index>()) {
        let Some(edited) = remove_allow(&case, at) else { return Ok(()) };
        let before = check_agreement(&case, "before removing an Allow")?;
        let after = check_agreement(&edited, "after removing an Allow")?;
        let explicit = |o: Outcome| o == Outcome::ExplicitDeny;
        if (before != Outcome::Allow && after == Outcome::Allow) || explicit(before) != explicit(after) {
            let pair = json!([
                decision_case(&case, "before removing an Allow", before, ""),
                decision_case(&edited, "after removing an Allow", after, "removing an Allow changed the decision this way"),
            ]);
            prop_assert!(false, "{before} became {after}:\n{}", serde_json::to_string_pretty(&pair).unwrap());
        }
    }

    /// (d) Adding an Allow statement never removes access: Allow stays Allow (and an explicit
    /// deny stays explicit, since no Deny was added).
    #[test]
    fn adding_an_allow_never_removes_access(case in case(), allow in extra("Allow"), at in any::<Index>()) {
        let before = check_agreement(&case, "before adding an Allow")?;
        let edited = add_statement(&case, &allow, at, false);
        let after = check_agreement(&edited, "after adding an Allow")?;
        if (before == Outcome::Allow || before == Outcome::ExplicitDeny) && after != before {
            let pair = json!([
                decision_case(&case, "before adding an Allow", before, ""),
                decision_case(&edited, "after adding an Allow", after, "adding an Allow changed the decision this way"),
            ]);
            prop_assert!(false, "{before} became {after}:\n{}", serde_json::to_string_pretty(&pair).unwrap());
        }
    }
}

/// The generator is not vacuous: it produces every outcome, and often enough.
#[test]
fn generated_cases_reach_every_outcome() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = case();
    let mut counts = std::collections::BTreeMap::new();
    let total = 400;
    for _ in 0..total {
        let case = strategy.new_tree(&mut runner).unwrap().current();
        *counts.entry(reference::evaluate(&case).as_str()).or_insert(0) += 1;
    }
    println!("outcomes of {total} generated cases: {counts:?}");
    for outcome in ["Allow", "ExplicitDeny", "ImplicitDeny"] {
        let n = counts.get(outcome).copied().unwrap_or(0);
        assert!(n * 20 >= total, "{outcome} in only {n} of {total} cases: {counts:?}");
    }
}
