//! Policy sets compiled for fast decisions: statements indexed by the actions and resources
//! they can match, so a decision visits only statements that can apply.
//!
//! Two keys narrow the candidates:
//! - the action: an exact action name (`s3:getobject`, lowercased), else the service prefix
//!   (`s3`) for patterns with wildcards in the name, else everything (`*`, `NotAction`);
//! - the resource anchor: the ARN up to the first `/` of its resource part, when the pattern
//!   has no wildcard or variable before it (`arn:aws:s3:::bucket` for
//!   `arn:aws:s3:::bucket/*`). A pattern matches a resource only if both anchors are equal, so
//!   resources with another anchor are never visited. Other patterns (`*`, `NotResource`,
//!   wildcards early in the ARN) are always candidates.
//!
//! Small sets are not indexed: walking a handful of statements is faster than hashing.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use castellan_policy::{ActionClause, ResourceClause, ResourcePattern, Statement};

use crate::decision::NamedPolicy;

/// Sets with at most this many statements are walked, not indexed.
const INDEX_THRESHOLD: usize = 8;

/// FNV-1a: the keys are short and not attacker-chosen at compile time; lookups hash request
/// strings, so a fast hash matters more than flood resistance here.
#[derive(Default, Clone, Copy)]
pub(crate) struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;

/// A statement's place: (policy index, statement index).
type Slot = (u32, u32);

/// Candidates for one action key, split by resource anchor.
#[derive(Debug, Default, Clone)]
struct ByResource {
    anchored: FastMap<Box<str>, Vec<Slot>>,
    other: Vec<Slot>,
}

impl ByResource {
    fn insert(&mut self, statement: &Statement, slot: Slot) {
        match statement.resource.as_ref().map(anchors) {
            Some(Some(list)) => {
                for anchor in list {
                    let entry = self.anchored.entry(anchor.into()).or_default();
                    if entry.last() != Some(&slot) {
                        entry.push(slot);
                    }
                }
            }
            _ => self.other.push(slot),
        }
    }

    fn visit(&self, resource_anchor: &str, f: &mut impl FnMut(Slot)) {
        if let Some(slots) = self.anchored.get(resource_anchor) {
            slots.iter().copied().for_each(&mut *f);
        }
        self.other.iter().copied().for_each(f);
    }
}

#[derive(Debug, Default, Clone)]
struct Index {
    exact: FastMap<Box<str>, ByResource>,
    service: FastMap<Box<str>, ByResource>,
    any: ByResource,
}

/// The anchors of every pattern of a `Resource` element, or `None` if any pattern has none
/// (then the statement is a candidate for every resource).
fn anchors(clause: &ResourceClause) -> Option<Vec<&str>> {
    let ResourceClause::Resource(patterns) = clause else {
        return None;
    };
    patterns
        .iter()
        .map(|p| match p {
            ResourcePattern::Any => None,
            ResourcePattern::Arn(arn) => {
                let fixed = [arn.partition(), arn.region(), arn.account()].iter().all(|part| !has_special(part));
                if !fixed || arn.as_str().splitn(6, ':').count() < 6 {
                    return None;
                }
                let anchor = resource_anchor(arn.as_str());
                (!has_special(anchor)).then_some(anchor)
            }
        })
        .collect()
}

fn has_special(s: &str) -> bool {
    s.bytes().any(|b| matches!(b, b'*' | b'?' | b'$'))
}

/// The ARN up to the first `/` of its resource part (the whole ARN if there is none).
pub(crate) fn resource_anchor(arn: &str) -> &str {
    let mut colons = 0;
    for (i, b) in arn.bytes().enumerate() {
        match b {
            b':' => colons += 1,
            b'/' if colons >= 5 => return arn.get(..i).unwrap_or(arn),
            _ => {}
        }
    }
    arn
}

/// Policies of one layer, ready for fast decisions.
#[derive(Debug, Clone, Default)]
pub struct PolicySet<'p> {
    policies: Vec<NamedPolicy<'p>>,
    index: Option<Index>,
}

impl<'p> PolicySet<'p> {
    /// Compiles `policies`, indexing them when there are enough statements to gain from it.
    pub fn new(policies: Vec<NamedPolicy<'p>>) -> PolicySet<'p> {
        let count: usize = policies.iter().map(|p| p.policy.statements.len()).sum();
        let index = (count > INDEX_THRESHOLD).then(|| build_index(&policies));
        PolicySet { policies, index }
    }

    /// A set that is walked statement by statement.
    pub(crate) fn unindexed(policies: Vec<NamedPolicy<'p>>) -> PolicySet<'p> {
        PolicySet { policies, index: None }
    }

    /// The policies.
    pub fn policies(&self) -> &[NamedPolicy<'p>] {
        &self.policies
    }

    /// Whether the set holds no policy.
    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }

    /// Calls `f` for each statement that may apply to `action` on `resource` (possibly twice
    /// for a statement listed under several keys; the caller's checks are idempotent).
    ///
    /// `f`'s last argument tells that the statement's `Action` element is known to cover the
    /// action: it was found under the action's exact name, so one of its patterns is that name
    /// (without wildcards, in another case at most), and the caller need not match it again.
    pub(crate) fn candidates(
        &self,
        action: &str,
        resource: &str,
        mut f: impl FnMut(&NamedPolicy<'p>, usize, &'p Statement, bool),
    ) {
        let mut visit = |(p, s): Slot, action_known: bool| {
            if let Some(policy) = self.policies.get(p as usize) {
                let statements: &'p [Statement] = &policy.policy.statements;
                if let Some(statement) = statements.get(s as usize) {
                    f(policy, s as usize, statement, action_known);
                }
            }
        };
        let Some(index) = &self.index else {
            for (p, policy) in self.policies.iter().enumerate() {
                for s in 0..policy.policy.statements.len() {
                    visit((p as u32, s as u32), false);
                }
            }
            return;
        };
        let anchor = resource_anchor(resource);
        let mut buf = [0u8; 128];
        let lower = lowercase(action, &mut buf);
        if let Some(by) = lower.and_then(|l| index.exact.get(l)) {
            by.visit(anchor, &mut |slot| visit(slot, true));
        }
        let service = lower.and_then(|l| l.split_once(':')).map(|(s, _)| s);
        if let Some(by) = service.and_then(|s| index.service.get(s)) {
            by.visit(anchor, &mut |slot| visit(slot, false));
        }
        index.any.visit(anchor, &mut |slot| visit(slot, false));
    }
}

/// ASCII-lowercases `text` into `buf` without allocating; `None` if it does not fit or is not
/// ASCII (such actions exist in no service, so only the catch-all candidates are visited).
fn lowercase<'b>(text: &str, buf: &'b mut [u8; 128]) -> Option<&'b str> {
    let bytes = text.as_bytes();
    if bytes.len() > buf.len() || !text.is_ascii() {
        return None;
    }
    let out = buf.get_mut(..bytes.len())?;
    for (o, b) in out.iter_mut().zip(bytes) {
        *o = b.to_ascii_lowercase();
    }
    std::str::from_utf8(out).ok()
}

fn build_index(policies: &[NamedPolicy<'_>]) -> Index {
    let mut index = Index::default();
    for (p, policy) in policies.iter().enumerate() {
        for (s, statement) in policy.policy.statements.iter().enumerate() {
            let slot = (p as u32, s as u32);
            match &statement.action {
                ActionClause::NotAction(_) => index.any.insert(statement, slot),
                ActionClause::Action(patterns) => {
                    if patterns.iter().any(|a| a.is_any()) {
                        index.any.insert(statement, slot);
                        continue;
                    }
                    for pattern in patterns {
                        let text = pattern.as_str().to_ascii_lowercase();
                        let name_has_wildcard = pattern.name().is_some_and(|n| n.contains(['*', '?']));
                        if name_has_wildcard {
                            let service = pattern.service_prefix().unwrap_or_default().to_ascii_lowercase();
                            index.service.entry(service.into()).or_default().insert(statement, slot);
                        } else {
                            index.exact.entry(text.into()).or_default().insert(statement, slot);
                        }
                    }
                }
            }
        }
    }
    index
}

/// Indexed sets decide and explain as the same statements walked one by one.
#[cfg(test)]
mod equivalence_tests {
    use castellan_policy::{Policy, PolicyKind};
    use proptest::prelude::*;

    use crate::{Context, Layers, NamedPolicy, Principal, Request, evaluate};

    const ACTIONS: &[&str] = &[
        "*",
        "s3:GetObject",
        "S3:getobject",
        "s3:Get*",
        "s3:*",
        "s3:Get?bject",
        "s3:*Object",
        "s3:PutObject",
        "ec2:Describe*",
        "ec2:DescribeInstances",
        "sqs:SendMessage",
        "kms:*",
        "Kms:Decrypt",
        "dynamodb:Scan",
    ];
    const RESOURCES: &[&str] = &[
        "*",
        "arn:aws:s3:::bucket",
        "arn:aws:s3:::bucket/*",
        "arn:aws:s3:::bucket/a/*",
        "arn:aws:s3:::other/*",
        "arn:aws:s3:::buck*",
        "arn:aws:s3:::bucket/${aws:username}/*",
        "arn:aws:ec2:*:123456789012:instance/*",
        "arn:aws:ec2:us-east-1:123456789012:instance/i-1",
        "arn:aws:sqs:us-east-1:123456789012:queue1",
        "arn:aws:kms:us-east-1:123456789012:key/k1",
        "arn:aws:s3:*:*:bucket/*",
        "arn:*:sqs:us-east-1:123456789012:*",
    ];
    const CONDITIONS: &[&str] = &[
        r#"{"StringEquals": {"aws:username": "alice"}}"#,
        r#"{"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}"#,
        r#"{"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]}}"#,
        r#"{"Bool": {"aws:SecureTransport": "true"}}"#,
    ];
    const REQUEST_ACTIONS: &[&str] = &[
        "s3:GetObject",
        "S3:GETOBJECT",
        "s3:PutObject",
        "s3:ListBucket",
        "ec2:DescribeInstances",
        "sqs:SendMessage",
        "kms:Decrypt",
        "dynamodb:Scan",
    ];
    const REQUEST_RESOURCES: &[&str] = &[
        "*",
        "arn:aws:s3:::bucket",
        "arn:aws:s3:::bucket/a/b.txt",
        "arn:aws:s3:::bucket/alice/x",
        "arn:aws:s3:::other/x",
        "arn:aws:ec2:us-east-1:123456789012:instance/i-1",
        "arn:aws:sqs:us-east-1:123456789012:queue1",
        "arn:aws:kms:us-east-1:123456789012:key/k1",
    ];

    fn pick(list: &'static [&'static str]) -> impl Strategy<Value = &'static str> {
        prop::sample::select(list)
    }

    fn quoted(items: &[&str]) -> String {
        let items: Vec<String> = items.iter().map(|i| format!("\"{i}\"")).collect();
        format!("[{}]", items.join(", "))
    }

    fn statement() -> impl Strategy<Value = String> {
        (
            any::<bool>(),
            prop::bool::weighted(0.15),
            prop::collection::vec(pick(ACTIONS), 1..=3),
            prop::bool::weighted(0.15),
            prop::collection::vec(pick(RESOURCES), 1..=2),
            prop::option::weighted(0.3, pick(CONDITIONS)),
        )
            .prop_map(|(allow, not_action, actions, not_resource, resources, condition)| {
                format!(
                    r#"{{"Effect": "{}", "{}": {}, "{}": {}{}}}"#,
                    if allow { "Allow" } else { "Deny" },
                    if not_action { "NotAction" } else { "Action" },
                    quoted(&actions),
                    if not_resource { "NotResource" } else { "Resource" },
                    quoted(&resources),
                    condition.map(|c| format!(r#", "Condition": {c}"#)).unwrap_or_default(),
                )
            })
    }

    fn policies() -> impl Strategy<Value = Vec<Policy>> {
        prop::collection::vec(prop::collection::vec(statement(), 3..=12), 1..=4).prop_map(|policies| {
            policies
                .into_iter()
                .map(|statements| {
                    let text = format!(r#"{{"Version": "2012-10-17", "Statement": [{}]}}"#, statements.join(", "));
                    Policy::parse(&text, PolicyKind::Identity).unwrap_or_else(|e| panic!("{e}: {text}"))
                })
                .collect()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn indexed_sets_decide_as_walked_ones(
            identity in policies(),
            session in prop::option::of(policies()),
            action in pick(REQUEST_ACTIONS),
            resource in pick(REQUEST_RESOURCES),
            ip in pick(&["10.1.2.3", "8.8.8.8"]),
        ) {
            fn named(policies: &[Policy]) -> Vec<NamedPolicy<'_>> {
                const IDS: &[&str] = &["p0", "p1", "p2", "p3"];
                policies.iter().zip(IDS).map(|(policy, id)| NamedPolicy { id, policy }).collect()
            }
            let session_arn = "arn:aws:sts::123456789012:assumed-role/role/alice";
            let user_arn = "arn:aws:iam::123456789012:user/alice";
            let caller = Principal::from_arn(if session.is_some() { session_arn } else { user_arn }, None).unwrap();
            let mut context = Context::new();
            context.set("aws:SourceIp", ip).set("aws:username", "alice").set("aws:SecureTransport", "true");
            caller.fill_context(&mut context);
            let request = Request { principal: &caller, action, resource, resource_account: None, context: &context };
            let layers = Layers {
                identity: named(&identity),
                session: session.as_deref().map(named).unwrap_or_default(),
                ..Layers::default()
            };
            let walked = evaluate(&request, &layers);
            let compiled = layers.compile();
            prop_assert_eq!(compiled.decide(&request), walked.outcome);
            let explained = compiled.evaluate(&request);
            prop_assert_eq!(explained.outcome, walked.outcome);
            prop_assert_eq!(explained.denied_by, walked.denied_by);
            let key = |m: &crate::MatchedStatement| (m.layer.as_str(), m.level, m.index, m.policy_id.clone());
            let mut got: Vec<_> = explained.matched.iter().map(key).collect();
            let mut want: Vec<_> = walked.matched.iter().map(key).collect();
            got.sort();
            want.sort();
            prop_assert_eq!(got, want);
        }
    }
}
