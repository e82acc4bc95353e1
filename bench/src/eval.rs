//! The evaluation workloads: the policies and requests of `../shared/benchmarks/workload`, ready
//! for Castellan's evaluator and for Cedar, and the decisions both are timed on.
//!
//! Everything a decision needs is built before any timing: the parsed and compiled policies, each
//! request's context (for Castellan: `Principal::from_arn`, `fill_context` and the request's keys;
//! for Cedar: its `Context` and `Request`). A timed decision is one call of
//! [`CompiledLayers::decide`] (or [`CompiledLayers::evaluate`]) or of Cedar's
//! `Authorizer::is_authorized`.

// Request indices always come from the request list itself (`0..len()`).
#![allow(clippy::indexing_slicing)]

use std::fs;
use std::path::Path;
use std::str::FromStr;

use castellan_eval::{CompiledLayers, Context, Decision, Layers, NamedPolicy, OrgLevel, Outcome, Principal, Request};
use castellan_policy::{Policy, PolicyKind};
use cedar_policy::{
    Authorizer, Context as CedarContext, Decision as CedarDecision, Entities, EntityId, EntityTypeName, EntityUid,
    PolicySet as CedarPolicySet, Request as CedarRequest, RestrictedExpression,
};
use serde_json::Value;

use crate::shared;

/// Context keys whose values the Cedar policies compare as IP addresses (`isInRange`).
const CEDAR_IP_KEYS: &[&str] = &["aws:SourceIp"];
/// Context keys whose values the Cedar policies compare as booleans (`== true`).
const CEDAR_BOOL_KEYS: &[&str] = &["aws:SecureTransport"];

fn workload_dir() -> std::path::PathBuf {
    shared().join("benchmarks/workload")
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn text<'v>(value: &'v Value, key: &str, what: &str) -> &'v str {
    value.get(key).and_then(Value::as_str).unwrap_or_else(|| panic!("{what}: no string `{key}`"))
}

fn list<'v>(value: &'v Value, key: &str, what: &str) -> &'v [Value] {
    value.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_else(|| panic!("{what}: no list `{key}`"))
}

/// A policy with the name the explanations give it.
#[derive(Debug)]
pub struct Named {
    /// Its ARN or name.
    pub name: String,
    /// The parsed policy.
    pub policy: Policy,
}

impl Named {
    /// Parses `{"name" or "arn": ..., "doc": {...}}` as a policy of `kind`.
    fn from_json(value: &Value, kind: PolicyKind, what: &str) -> Named {
        let name = value.get("arn").or_else(|| value.get("name")).and_then(Value::as_str).unwrap_or(what).to_owned();
        let doc = value.get("doc").unwrap_or_else(|| panic!("{what}: no `doc`"));
        let policy = Policy::parse(&doc.to_string(), kind)
            .unwrap_or_else(|e| panic!("{what} `{name}` is not a valid {kind:?} policy: {}", e.message()));
        Named { name, policy }
    }

    fn named(&self) -> NamedPolicy<'_> {
        NamedPolicy { id: &self.name, policy: &self.policy }
    }
}

/// One request of `requests.json`.
#[derive(Debug, Clone)]
pub struct RequestSpec {
    /// `service:Action`.
    pub action: String,
    /// The resource ARN, or `*`.
    pub resource: String,
    /// The request's context keys and values, in file order.
    pub context: Vec<(String, String)>,
    /// The decision the workload expects.
    pub expected: Outcome,
}

/// The requests of `requests.json`, in file order.
pub fn requests() -> Vec<RequestSpec> {
    let path = workload_dir().join("requests.json");
    let json = read_json(&path);
    let items = json.as_array().unwrap_or_else(|| panic!("{}: not a list", path.display()));
    items
        .iter()
        .map(|item| {
            let expected = match text(item, "expected", "request") {
                "Allow" => Outcome::Allow,
                "ExplicitDeny" => Outcome::ExplicitDeny,
                "ImplicitDeny" => Outcome::ImplicitDeny,
                other => panic!("request: unknown expected decision `{other}`"),
            };
            let context = item
                .get("context")
                .and_then(Value::as_object)
                .map(|map| {
                    map.iter()
                        .map(|(k, v)| {
                            let v = v.as_str().unwrap_or_else(|| panic!("request: context key `{k}` is not a string"));
                            (k.clone(), v.to_owned())
                        })
                        .collect()
                })
                .unwrap_or_default();
            RequestSpec {
                action: text(item, "action", "request").to_owned(),
                resource: text(item, "resource", "request").to_owned(),
                context,
                expected,
            }
        })
        .collect()
}

/// A principal and its identity policies (`iam_small.json`, `iam_large.json`).
#[derive(Debug)]
pub struct IamWorkload {
    /// The principal's ARN.
    pub principal: String,
    /// Its identity policies.
    pub policies: Vec<Named>,
}

impl IamWorkload {
    /// Reads `file` of the shared workload folder.
    pub fn load(file: &str) -> IamWorkload {
        let path = workload_dir().join(file);
        let json = read_json(&path);
        let what = path.display().to_string();
        let policies =
            list(&json, "policies", &what).iter().map(|p| Named::from_json(p, PolicyKind::Identity, &what)).collect();
        IamWorkload { principal: text(&json, "principal", &what).to_owned(), policies }
    }

    /// How many statements the policies hold.
    pub fn statements(&self) -> usize {
        self.policies.iter().map(|p| p.policy.statements.len()).sum()
    }

    /// The policies as the identity layer, alone.
    pub fn layers(&self) -> Layers<'_> {
        Layers { identity: self.policies.iter().map(Named::named).collect(), ..Layers::default() }
    }
}

/// The full-chain workload (`bench/workload/full_chain.json`): `iam_small.json`'s policies as a
/// role's identity policies, called through a role session, with a permissions boundary, two SCP
/// levels, the resource's own policy (where it has one) and a session policy.
#[derive(Debug)]
pub struct ChainWorkload {
    /// The role session's ARN.
    pub principal: String,
    /// The identity policies (those of `iam_small.json`).
    pub identity: Vec<Named>,
    /// The permissions boundary.
    pub boundary: Named,
    /// The SCP path, root first: (level id, policies).
    pub scp: Vec<(String, Vec<Named>)>,
    /// Resource policies, each for the resources whose ARN starts with its prefix.
    pub resource: Vec<(String, Named)>,
    /// The session policy.
    pub session: Named,
}

impl ChainWorkload {
    /// Reads `bench/workload/full_chain.json` and the identity policies of `iam_small.json`.
    pub fn load() -> ChainWorkload {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("workload/full_chain.json");
        let json = read_json(&path);
        let what = path.display().to_string();
        let field = |key: &str| json.get(key).unwrap_or_else(|| panic!("{what}: no `{key}`"));
        let scp = list(&json, "scp", &what)
            .iter()
            .map(|level| {
                let policies = list(level, "policies", &what)
                    .iter()
                    .map(|p| Named::from_json(p, PolicyKind::Scp, &what))
                    .collect();
                (text(level, "id", &what).to_owned(), policies)
            })
            .collect();
        let resource = list(&json, "resource_policies", &what)
            .iter()
            .map(|p| (text(p, "resource_prefix", &what).to_owned(), Named::from_json(p, PolicyKind::Resource, &what)))
            .collect();
        ChainWorkload {
            principal: text(&json, "principal", &what).to_owned(),
            identity: IamWorkload::load("iam_small.json").policies,
            boundary: Named::from_json(field("permissions_boundary"), PolicyKind::PermissionsBoundary, &what),
            scp,
            resource,
            session: Named::from_json(field("session"), PolicyKind::Session, &what),
        }
    }

    /// Every layer for a request on `resource`: the resource policy is the one whose prefix the
    /// resource starts with, if any.
    pub fn layers(&self, resource: &str) -> Layers<'_> {
        Layers {
            identity: self.identity.iter().map(Named::named).collect(),
            resource: self
                .resource
                .iter()
                .filter(|(prefix, _)| resource.starts_with(prefix.as_str()))
                .map(|(_, p)| p.named())
                .collect(),
            permissions_boundary: Some(self.boundary.named()),
            session: vec![self.session.named()],
            scp: Some(
                self.scp
                    .iter()
                    .map(|(id, policies)| OrgLevel { id, policies: policies.iter().map(Named::named).collect() })
                    .collect(),
            ),
            rcp: None,
            vpc_endpoint: Vec::new(),
        }
    }

    /// How many policies the layers hold (all resource policies counted).
    pub fn policy_count(&self) -> usize {
        self.identity.len() + 2 + self.scp.iter().map(|(_, ps)| ps.len()).sum::<usize>() + self.resource.len()
    }

    /// How many statements the layers hold (all resource policies counted).
    pub fn statements(&self) -> usize {
        let count = |p: &Named| p.policy.statements.len();
        self.identity.iter().map(count).sum::<usize>()
            + count(&self.boundary)
            + self.scp.iter().flat_map(|(_, ps)| ps).map(count).sum::<usize>()
            + self.resource.iter().map(|(_, p)| count(p)).sum::<usize>()
            + count(&self.session)
    }
}

/// The caller and the requests' contexts, built once.
#[derive(Debug)]
pub struct Subject {
    /// The caller.
    pub principal: Principal,
    /// The requests.
    pub specs: Vec<RequestSpec>,
    /// Each request's context: the principal's keys (`fill_context`) and the request's own.
    pub contexts: Vec<Context>,
}

impl Subject {
    /// The caller `principal_arn` making each request of `specs`.
    pub fn new(principal_arn: &str, specs: &[RequestSpec]) -> Subject {
        let principal =
            Principal::from_arn(principal_arn, None).unwrap_or_else(|e| panic!("principal `{principal_arn}`: {e}"));
        let contexts = specs
            .iter()
            .map(|spec| {
                let mut context = Context::new();
                for (key, value) in &spec.context {
                    context.set(key, value);
                }
                principal.fill_context(&mut context);
                context
            })
            .collect();
        Subject { principal, specs: specs.to_vec(), contexts }
    }

    /// Request `i`.
    pub fn request(&self, i: usize) -> Request<'_> {
        let (spec, context) = (&self.specs[i], &self.contexts[i]);
        Request {
            principal: &self.principal,
            action: &spec.action,
            resource: &spec.resource,
            resource_account: None,
            context,
        }
    }
}

/// Castellan on one workload: each request with the compiled layers it is decided against.
pub struct Castellan<'a> {
    cases: Vec<(Request<'a>, &'a CompiledLayers<'a>, Outcome)>,
}

impl<'a> Castellan<'a> {
    /// Request `i` of `subject` is decided against `layers[i]`, or `layers[0]` if there is only one.
    pub fn new(subject: &'a Subject, layers: &'a [CompiledLayers<'a>]) -> Castellan<'a> {
        let cases = (0..subject.specs.len())
            .map(|i| {
                let compiled = if layers.len() == 1 { &layers[0] } else { &layers[i] };
                (subject.request(i), compiled, subject.specs[i].expected)
            })
            .collect();
        Castellan { cases }
    }

    /// How many requests.
    pub fn len(&self) -> usize {
        self.cases.len()
    }

    /// Whether there are no requests.
    pub fn is_empty(&self) -> bool {
        self.cases.is_empty()
    }

    /// The fast decision of request `i`.
    #[inline]
    pub fn decide(&self, i: usize) -> Outcome {
        let (request, layers, _) = &self.cases[i];
        layers.decide(request)
    }

    /// The explained decision of request `i`.
    #[inline]
    pub fn evaluate(&self, i: usize) -> Decision {
        let (request, layers, _) = &self.cases[i];
        layers.evaluate(request)
    }

    /// Checks both paths against each request's expected decision; the problems, if any.
    pub fn check(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        for (i, (request, _, expected)) in self.cases.iter().enumerate() {
            let (fast, explained) = (self.decide(i), self.evaluate(i).outcome);
            if fast != *expected || explained != *expected {
                problems.push(format!(
                    "request {} ({} on {}): expected {expected}, decide gave {fast}, evaluate gave {explained}",
                    i + 1,
                    request.action,
                    request.resource
                ));
            }
        }
        if problems.is_empty() { Ok(()) } else { Err(problems.join("\n")) }
    }
}

/// Cedar on one policy file, with the requests translated to Cedar's model.
pub struct Cedar {
    authorizer: Authorizer,
    policies: CedarPolicySet,
    entities: Entities,
    requests: Vec<CedarRequest>,
    /// Whether each request should be allowed.
    expected: Vec<bool>,
}

impl Cedar {
    /// Loads `file` of the shared workload folder. The principal is `User::"NAME"` (the IAM
    /// user's name), the action `Action::"service:Action"`, the resource `Resource::"ARN"`; the
    /// context holds `resource` and `action` as strings (the Cedar files match IAM wildcards with
    /// `like` on them) and every context key of the request: IP addresses as `ip(...)`, Booleans
    /// as Booleans, the rest as strings. No entities (the policies read none).
    pub fn load(file: &str, principal_arn: &str, specs: &[RequestSpec]) -> Cedar {
        let path = workload_dir().join(file);
        let policies = CedarPolicySet::from_str(&read(&path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let user = principal_arn.rsplit('/').next().unwrap_or(principal_arn);
        let uid = |kind: &str, id: &str| {
            let kind = EntityTypeName::from_str(kind).unwrap_or_else(|e| panic!("entity type `{kind}`: {e}"));
            EntityUid::from_type_name_and_id(kind, EntityId::new(id))
        };
        let requests = specs
            .iter()
            .map(|spec| {
                let mut pairs = vec![
                    ("resource".to_owned(), RestrictedExpression::new_string(spec.resource.clone())),
                    ("action".to_owned(), RestrictedExpression::new_string(spec.action.clone())),
                ];
                for (key, value) in &spec.context {
                    let expr = if CEDAR_IP_KEYS.contains(&key.as_str()) {
                        RestrictedExpression::new_ip(value)
                    } else if CEDAR_BOOL_KEYS.contains(&key.as_str()) {
                        RestrictedExpression::new_bool(value.eq_ignore_ascii_case("true"))
                    } else {
                        RestrictedExpression::new_string(value.clone())
                    };
                    pairs.push((key.clone(), expr));
                }
                let context = CedarContext::from_pairs(pairs).unwrap_or_else(|e| panic!("Cedar context: {e}"));
                CedarRequest::new(
                    uid("User", user),
                    uid("Action", &spec.action),
                    uid("Resource", &spec.resource),
                    context,
                    None,
                )
                .unwrap_or_else(|e| panic!("Cedar request: {e}"))
            })
            .collect();
        Cedar {
            authorizer: Authorizer::new(),
            policies,
            entities: Entities::empty(),
            requests,
            expected: specs.iter().map(|s| s.expected == Outcome::Allow).collect(),
        }
    }

    /// How many policies the file holds.
    pub fn policy_count(&self) -> usize {
        self.policies.policies().count()
    }

    /// Whether Cedar allows request `i`.
    #[inline]
    pub fn allows(&self, i: usize) -> bool {
        let response = self.authorizer.is_authorized(&self.requests[i], &self.policies, &self.entities);
        response.decision() == CedarDecision::Allow
    }

    /// Checks Allow against Deny for each request; the problems, if any.
    pub fn check(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        for (i, &expected) in self.expected.iter().enumerate() {
            let response = self.authorizer.is_authorized(&self.requests[i], &self.policies, &self.entities);
            let allowed = response.decision() == CedarDecision::Allow;
            let errors: Vec<String> = response.diagnostics().errors().map(ToString::to_string).collect();
            if allowed != expected {
                problems.push(format!(
                    "request {}: expected {}, Cedar {} (errors: {errors:?})",
                    i + 1,
                    if expected { "Allow" } else { "Deny" },
                    if allowed { "allowed" } else { "denied" },
                ));
            }
        }
        if problems.is_empty() { Ok(()) } else { Err(problems.join("\n")) }
    }
}

/// The compiled layers of every workload, and what each is measured on.
pub struct Workloads {
    /// The requests of `requests.json`.
    pub specs: Vec<RequestSpec>,
    /// `iam_small.json`.
    pub small: IamWorkload,
    /// `iam_large.json`.
    pub large: IamWorkload,
    /// `bench/workload/full_chain.json`.
    pub chain: ChainWorkload,
    /// The caller of the small and large workloads (`iam_small.principal`).
    pub user: Subject,
    /// The caller of the full chain (a role session).
    pub session: Subject,
}

impl Workloads {
    /// Reads every workload.
    pub fn load() -> Workloads {
        let specs = requests();
        let small = IamWorkload::load("iam_small.json");
        let large = IamWorkload::load("iam_large.json");
        let chain = ChainWorkload::load();
        let user = Subject::new(&small.principal, &specs);
        let session = Subject::new(&chain.principal, &specs);
        Workloads { specs, small, large, chain, user, session }
    }

    /// The full chain's compiled layers, one per request (each with its resource's policy).
    pub fn chain_layers(&self) -> Vec<CompiledLayers<'_>> {
        self.specs.iter().map(|spec| self.chain.layers(&spec.resource).compile()).collect()
    }

    /// Cedar on `file`, with the small and large workloads' caller.
    pub fn cedar(&self, file: &str) -> Cedar {
        Cedar::load(file, &self.small.principal, &self.specs)
    }
}
