//! IAM's policy simulator: `SimulatePrincipalPolicy`, `SimulateCustomPolicy` and the context-key
//! helpers, answered by `castellan-eval`'s [`evaluate`] over the layers the request describes,
//! in AWS's result shape.
//!
//! Castellan extensions ([`SimulationExtensions`]): SCP and RCP levels given in the request, the
//! source account's actual SCP/RCP chain from its organization, session policies, and a resource
//! policy for role and group sources too (AWS simulates it for users only). Without them a
//! simulation is what AWS's is: identity policies, the permissions boundary and the resource
//! policy.
//!
//! Statement positions come from `castellan-policy`'s statement spans (1-based line and column,
//! the column counted in characters) of the text each policy was parsed from.

use std::collections::BTreeMap;
use std::sync::Arc;

use castellan_eval::{
    Context, ContextValue, Decision, LayerKind, Layers, NamedPolicy, OrgLevel, Outcome, Principal, PrincipalType,
    Request, evaluate,
};
use castellan_policy::{AccountId, Arn, Policy, PolicyKind};
use castellan_store::{PrincipalPolicies, Store};

use crate::error::IamError;
use crate::iam::Iam;
use crate::subject::Caller;

/// `ContextKeyType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContextKeyType {
    /// `string`.
    String,
    /// `stringList`.
    StringList,
    /// `numeric`.
    Numeric,
    /// `numericList`.
    NumericList,
    /// `boolean`.
    Boolean,
    /// `booleanList`.
    BooleanList,
    /// `ip`.
    Ip,
    /// `ipList`.
    IpList,
    /// `binary`.
    Binary,
    /// `binaryList`.
    BinaryList,
    /// `date`.
    Date,
    /// `dateList`.
    DateList,
}

impl ContextKeyType {
    const ALL: [(ContextKeyType, &'static str); 12] = [
        (ContextKeyType::String, "string"),
        (ContextKeyType::StringList, "stringList"),
        (ContextKeyType::Numeric, "numeric"),
        (ContextKeyType::NumericList, "numericList"),
        (ContextKeyType::Boolean, "boolean"),
        (ContextKeyType::BooleanList, "booleanList"),
        (ContextKeyType::Ip, "ip"),
        (ContextKeyType::IpList, "ipList"),
        (ContextKeyType::Binary, "binary"),
        (ContextKeyType::BinaryList, "binaryList"),
        (ContextKeyType::Date, "date"),
        (ContextKeyType::DateList, "dateList"),
    ];

    /// The type from its API name (`stringList`).
    pub fn parse(name: &str) -> Option<ContextKeyType> {
        ContextKeyType::ALL.iter().find(|(_, n)| *n == name).map(|(t, _)| *t)
    }

    /// The API name.
    pub fn as_str(self) -> &'static str {
        ContextKeyType::ALL.iter().find(|(t, _)| *t == self).map_or("string", |(_, n)| n)
    }

    /// Whether the key is multivalued.
    pub fn is_list(self) -> bool {
        self.as_str().ends_with("List")
    }
}

/// `ContextEntry`: a key's values for the simulation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextEntry {
    /// `ContextKeyName`.
    pub context_key_name: String,
    /// `ContextKeyValues`; an empty list makes the key absent (as AWS ignores it).
    pub context_key_values: Vec<String>,
    /// `ContextKeyType`.
    pub context_key_type: ContextKeyType,
}

/// One level of an organization path given to the simulator (Castellan extension).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimulatedOrgLevel {
    /// The level's id (`r-...`, `ou-...`, an account id; any label).
    pub id: String,
    /// The policy documents attached at that level; a level with none allows nothing.
    pub policies: Vec<String>,
}

/// Castellan's extensions of a simulation request (none of them exists in AWS).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimulationExtensions {
    /// SCP levels, root first, applied to the principal.
    pub scp_levels: Option<Vec<SimulatedOrgLevel>>,
    /// RCP levels, root first, applied to the resources.
    pub rcp_levels: Option<Vec<SimulatedOrgLevel>>,
    /// Session policies, as if the principal were a session created with them.
    pub session_policies: Vec<String>,
    /// Applies the organization's actual SCP chain of the source's account and RCP chain of the
    /// resource owner's account (where levels are not given explicitly).
    pub include_organization_policies: bool,
}

/// `SimulatePrincipalPolicy`'s request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimulatePrincipalPolicyRequest {
    /// `PolicySourceArn`: a user (with its groups' policies), group or role of the caller's
    /// account.
    pub policy_source_arn: String,
    /// `PolicyInputList`: more identity policies.
    pub policy_input_list: Vec<String>,
    /// `PermissionsBoundaryPolicyInputList` (at most one): replaces the entity's boundary.
    pub permissions_boundary_policy_input_list: Vec<String>,
    /// `ActionNames`.
    pub action_names: Vec<String>,
    /// `ResourceArns` (empty: `*`).
    pub resource_arns: Vec<String>,
    /// `ResourcePolicy`.
    pub resource_policy: Option<String>,
    /// `ResourceOwner`: the account of resources whose ARN names none.
    pub resource_owner: Option<String>,
    /// `CallerArn`: simulate as this IAM user instead of the source.
    pub caller_arn: Option<String>,
    /// `ContextEntries`.
    pub context_entries: Vec<ContextEntry>,
    /// `MaxItems` (default 100, at most 1,000).
    pub max_items: Option<u32>,
    /// `Marker`.
    pub marker: Option<String>,
    /// Castellan extensions.
    pub extensions: SimulationExtensions,
}

/// `SimulateCustomPolicy`'s request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimulateCustomPolicyRequest {
    /// `PolicyInputList`: identity policies.
    pub policy_input_list: Vec<String>,
    /// `PermissionsBoundaryPolicyInputList` (at most one).
    pub permissions_boundary_policy_input_list: Vec<String>,
    /// `ActionNames` (no wildcards).
    pub action_names: Vec<String>,
    /// `ResourceArns` (empty: `*`).
    pub resource_arns: Vec<String>,
    /// `ResourcePolicy` (needs `CallerArn`).
    pub resource_policy: Option<String>,
    /// `ResourceOwner`.
    pub resource_owner: Option<String>,
    /// `CallerArn`: an IAM user ARN.
    pub caller_arn: Option<String>,
    /// `ContextEntries`.
    pub context_entries: Vec<ContextEntry>,
    /// `MaxItems`.
    pub max_items: Option<u32>,
    /// `Marker`.
    pub marker: Option<String>,
    /// Castellan extensions (`include_organization_policies` uses the caller's account).
    pub extensions: SimulationExtensions,
}

/// `PolicyEvaluationDecisionType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvalDecision {
    /// `allowed`.
    Allowed,
    /// `explicitDeny`.
    ExplicitDeny,
    /// `implicitDeny`.
    ImplicitDeny,
}

impl EvalDecision {
    /// `allowed`, `explicitDeny`, `implicitDeny`.
    pub fn as_str(self) -> &'static str {
        match self {
            EvalDecision::Allowed => "allowed",
            EvalDecision::ExplicitDeny => "explicitDeny",
            EvalDecision::ImplicitDeny => "implicitDeny",
        }
    }

    fn of(outcome: Outcome) -> EvalDecision {
        match outcome {
            Outcome::Allow => EvalDecision::Allowed,
            Outcome::ExplicitDeny => EvalDecision::ExplicitDeny,
            Outcome::ImplicitDeny => EvalDecision::ImplicitDeny,
        }
    }
}

/// `PolicySourceType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicySourceType {
    /// `user`: a user's inline policy.
    User,
    /// `group`: a group's inline policy.
    Group,
    /// `role`: a role's inline policy.
    Role,
    /// `aws-managed`.
    AwsManaged,
    /// `user-managed`: a customer managed policy.
    UserManaged,
    /// `resource`: the request's `ResourcePolicy`.
    Resource,
    /// `none`: a policy of the request (`PolicyInputList`, extensions).
    None,
}

impl PolicySourceType {
    /// The API name.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicySourceType::User => "user",
            PolicySourceType::Group => "group",
            PolicySourceType::Role => "role",
            PolicySourceType::AwsManaged => "aws-managed",
            PolicySourceType::UserManaged => "user-managed",
            PolicySourceType::Resource => "resource",
            PolicySourceType::None => "none",
        }
    }
}

/// `Position`: 1-based line and column in the policy text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatementPosition {
    /// `Line`.
    pub line: u32,
    /// `Column`.
    pub column: u32,
}

/// `Statement`: a statement that decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulationStatement {
    /// `SourcePolicyId`: the policy name (inline or managed), or `PolicyInputList.N`,
    /// `PermissionsBoundaryPolicyInputList.1`, `ResourcePolicy`, and for extensions
    /// `SessionPolicy.N`, `LEVEL/ScpInput.N`, `LEVEL/RcpInput.N` or the organization policy's name.
    pub source_policy_id: String,
    /// `SourcePolicyType`.
    pub source_policy_type: PolicySourceType,
    /// `StartPosition`.
    pub start_position: Option<StatementPosition>,
    /// `EndPosition`.
    pub end_position: Option<StatementPosition>,
}

/// `OrganizationsDecisionDetail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrganizationsDecisionDetail {
    /// `AllowedByOrganizations`.
    pub allowed_by_organizations: bool,
}

/// `PermissionsBoundaryDecisionDetail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PermissionsBoundaryDecisionDetail {
    /// `AllowedByPermissionsBoundary`.
    pub allowed_by_permissions_boundary: bool,
}

/// `ResourceSpecificResult`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceSpecificResult {
    /// `EvalResourceName`.
    pub eval_resource_name: String,
    /// `EvalResourceDecision`.
    pub eval_resource_decision: EvalDecision,
    /// `MatchedStatements`.
    pub matched_statements: Vec<SimulationStatement>,
    /// `MissingContextValues`.
    pub missing_context_values: Vec<String>,
    /// `PermissionsBoundaryDecisionDetail`.
    pub permissions_boundary_decision_detail: Option<PermissionsBoundaryDecisionDetail>,
}

/// `EvaluationResult`: one action on one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvaluationResult {
    /// `EvalActionName`.
    pub eval_action_name: String,
    /// `EvalResourceName`.
    pub eval_resource_name: String,
    /// `EvalDecision`.
    pub eval_decision: EvalDecision,
    /// `MatchedStatements`: the matching deny statements when one denied, else the allow
    /// statements that applied.
    pub matched_statements: Vec<SimulationStatement>,
    /// `MissingContextValues`.
    pub missing_context_values: Vec<String>,
    /// `OrganizationsDecisionDetail`, when SCPs or RCPs were simulated.
    pub organizations_decision_detail: Option<OrganizationsDecisionDetail>,
    /// `PermissionsBoundaryDecisionDetail`, when a boundary was simulated.
    pub permissions_boundary_decision_detail: Option<PermissionsBoundaryDecisionDetail>,
    /// `EvalDecisionDetails` (policy type → decision); Castellan leaves it empty.
    pub eval_decision_details: BTreeMap<String, EvalDecision>,
    /// `ResourceSpecificResults`, when `ResourceArns` were given.
    pub resource_specific_results: Vec<ResourceSpecificResult>,
}

/// `SimulatePrincipalPolicy`'s and `SimulateCustomPolicy`'s answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulationResults {
    /// `EvaluationResults`, action by action, each over the resources in order.
    pub evaluation_results: Vec<EvaluationResult>,
    /// `IsTruncated`.
    pub is_truncated: bool,
    /// `Marker`.
    pub marker: Option<String>,
}

/// A policy taking part in a simulation.
struct Source {
    /// The evaluator's id (unique in the simulation).
    eval_id: String,
    id: String,
    kind: PolicySourceType,
    policy: Arc<Policy>,
}

struct Levels {
    levels: Vec<(String, Vec<Source>)>,
}

/// Everything a simulation evaluates.
struct Plan {
    principal: Principal,
    fill_principal: bool,
    identity: Vec<Source>,
    boundary: Option<Source>,
    session: Vec<Source>,
    resource: Option<Source>,
    scp: Option<Levels>,
    rcp: Option<Levels>,
    context: Context,
    default_account: String,
}

fn malformed(what: &str, e: &castellan_policy::PolicyError) -> IamError {
    IamError::new("MalformedPolicyDocument", 400, format!("{what}: {}", e.message()))
}

fn parse(text: &str, kind: PolicyKind, id: String, source: PolicySourceType, n: usize) -> Result<Source, IamError> {
    let policy = Policy::parse(text, kind).map_err(|e| malformed(&id, &e))?;
    Ok(Source { eval_id: format!("#{n}"), id, kind: source, policy: Arc::new(policy) })
}

/// How the store's policy ids (`ARN`, `user/NAME/inline/POLICY`, ...) read in a simulation.
fn stored_source(id: &str) -> (String, PolicySourceType) {
    let last = id.rsplit('/').next().unwrap_or(id).to_owned();
    if id.starts_with("arn:aws:iam::aws:policy/") {
        (last, PolicySourceType::AwsManaged)
    } else if id.starts_with("arn:") {
        (last, PolicySourceType::UserManaged)
    } else if id.starts_with("user/") {
        (last, PolicySourceType::User)
    } else if id.starts_with("group/") {
        (last, PolicySourceType::Group)
    } else {
        (last, PolicySourceType::Role)
    }
}

/// A stateful counter of evaluator ids.
struct Ids(usize);

impl Ids {
    fn next(&mut self) -> usize {
        self.0 += 1;
        self.0
    }

    fn stored(&mut self, p: &castellan_store::NamedPolicy) -> Source {
        let (id, kind) = stored_source(&p.id);
        Source { eval_id: format!("#{}", self.next()), id, kind, policy: Arc::clone(&p.policy) }
    }
}

fn check_actions(actions: &[String], wildcards: bool) -> Result<(), IamError> {
    if actions.is_empty() {
        return Err(IamError::invalid_input("ActionNames must name at least one action."));
    }
    for a in actions {
        let ok = a.split_once(':').is_some_and(|(s, n)| !s.is_empty() && !n.is_empty());
        if !ok {
            return Err(IamError::invalid_input(format!("Invalid action name: {a}. Use the form service:Action.")));
        }
        if !wildcards && a.contains(['*', '?']) {
            return Err(IamError::invalid_input(format!(
                "Actions or resources cannot contain wildcards when calling SimulateCustomPolicy: {a}"
            )));
        }
    }
    Ok(())
}

/// The context the entries describe; values are checked against their type.
fn entries_context(entries: &[ContextEntry]) -> Result<Context, IamError> {
    let mut ctx = Context::new();
    for e in entries {
        let t = e.context_key_type;
        let bad = |v: &str| {
            IamError::invalid_input(format!(
                "Invalid value {v} for context key {} of type {}",
                e.context_key_name,
                t.as_str()
            ))
        };
        for v in &e.context_key_values {
            let ok = match t {
                ContextKeyType::Numeric | ContextKeyType::NumericList => v.parse::<f64>().is_ok(),
                ContextKeyType::Boolean | ContextKeyType::BooleanList => {
                    v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("false")
                }
                _ => true,
            };
            if !ok {
                return Err(bad(v));
            }
        }
        match (t.is_list(), e.context_key_values.as_slice()) {
            (_, []) => {}
            (false, [one]) => drop(ctx.set(&e.context_key_name, one)),
            (false, _) => {
                return Err(IamError::invalid_input(format!(
                    "Context key {} of type {} takes one value",
                    e.context_key_name,
                    t.as_str()
                )));
            }
            (true, many) => drop(ctx.insert(&e.context_key_name, ContextValue::multi(many.iter().map(String::as_str)))),
        }
    }
    Ok(ctx)
}

fn statement_of(sources: &[&Source], m: &castellan_eval::MatchedStatement) -> Option<SimulationStatement> {
    let source = sources.iter().find(|s| s.eval_id == m.policy_id)?;
    let span = source.policy.statements.get(m.index).and_then(|s| s.span);
    Some(SimulationStatement {
        source_policy_id: source.id.clone(),
        source_policy_type: source.kind,
        start_position: span.map(|(a, _)| StatementPosition { line: a.line, column: a.column }),
        end_position: span.map(|(_, b)| StatementPosition { line: b.line, column: b.column }),
    })
}

/// The account of `resource`: its ARN's, else the owner, else `default`.
fn account_of<'a>(resource: &'a str, owner: Option<&'a str>, default: &'a str) -> &'a str {
    match resource.split(':').nth(4) {
        Some(a) if resource.starts_with("arn:") && AccountId::parse(a).is_ok() => a,
        _ => owner.unwrap_or(default),
    }
}

fn level_sources(levels: Option<&Levels>) -> Vec<&Source> {
    levels.iter().flat_map(|l| l.levels.iter().flat_map(|(_, s)| s.iter())).collect()
}

fn named(s: &Source) -> NamedPolicy<'_> {
    NamedPolicy { id: &s.eval_id, policy: &s.policy }
}

fn level(levels: Option<&Levels>) -> Option<Vec<OrgLevel<'_>>> {
    levels.map(|l| l.levels.iter().map(|(id, s)| OrgLevel { id, policies: s.iter().map(named).collect() }).collect())
}

impl Plan {
    fn sources(&self) -> Vec<&Source> {
        self.identity
            .iter()
            .chain(self.boundary.iter())
            .chain(self.session.iter())
            .chain(self.resource.iter())
            .chain(level_sources(self.scp.as_ref()))
            .chain(level_sources(self.rcp.as_ref()))
            .collect()
    }

    fn run(
        &self,
        actions: &[String],
        resources: &[String],
        owner: Option<&str>,
        max_items: Option<u32>,
        marker: Option<&str>,
    ) -> Result<SimulationResults, IamError> {
        let layers = Layers {
            identity: self.identity.iter().map(named).collect(),
            resource: self.resource.iter().map(named).collect(),
            permissions_boundary: self.boundary.as_ref().map(named),
            session: self.session.iter().map(named).collect(),
            scp: level(self.scp.as_ref()),
            rcp: level(self.rcp.as_ref()),
            vpc_endpoint: Vec::new(),
        };
        let sources = self.sources();
        let explicit = !resources.is_empty();
        let star = ["*".to_owned()];
        let resources = if explicit { resources } else { &star[..] };
        let start: usize = match marker {
            Some(m) => m.parse().map_err(|_| IamError::invalid_input(format!("Invalid marker: {m}")))?,
            None => 0,
        };
        let max = usize::try_from(max_items.unwrap_or(100).clamp(1, 1000)).unwrap_or(100);
        let total = actions.len() * resources.len();
        let mut results = Vec::new();
        for n in start..total.min(start.saturating_add(max)) {
            let (Some(action), Some(resource)) = (actions.get(n / resources.len()), resources.get(n % resources.len()))
            else {
                break;
            };
            let account = account_of(resource, owner, &self.default_account);
            let mut ctx = self.context.clone();
            ctx.set_default("aws:ResourceAccount", account);
            if self.fill_principal {
                self.principal.fill_context(&mut ctx);
            }
            let request = Request {
                principal: &self.principal,
                action,
                resource,
                resource_account: AccountId::parse(account).ok(),
                context: &ctx,
            };
            let decision = evaluate(&request, &layers);
            results.push(self.result(&sources, action, resource, explicit, &decision));
        }
        let end = start.saturating_add(results.len());
        let is_truncated = end < total;
        Ok(SimulationResults {
            evaluation_results: results,
            is_truncated,
            marker: is_truncated.then(|| end.to_string()),
        })
    }

    fn result(
        &self,
        sources: &[&Source],
        action: &str,
        resource: &str,
        explicit: bool,
        decision: &Decision,
    ) -> EvaluationResult {
        let matched: Vec<SimulationStatement> =
            decision.matched.iter().filter_map(|m| statement_of(sources, m)).collect();
        let mut missing: Vec<String> = Vec::new();
        for k in &decision.missing_context_keys {
            if !missing.iter().any(|m| m.eq_ignore_ascii_case(k.as_str())) {
                missing.push(k.as_str().to_owned());
            }
        }
        let eval_decision = EvalDecision::of(decision.outcome);
        let boundary = self.boundary.as_ref().map(|_| PermissionsBoundaryDecisionDetail {
            allowed_by_permissions_boundary: decision.denied_by != Some(LayerKind::PermissionsBoundary),
        });
        let organizations = (self.scp.is_some() || self.rcp.is_some()).then_some(OrganizationsDecisionDetail {
            allowed_by_organizations: !matches!(decision.denied_by, Some(LayerKind::Scp | LayerKind::Rcp)),
        });
        let specific = explicit.then(|| ResourceSpecificResult {
            eval_resource_name: resource.to_owned(),
            eval_resource_decision: eval_decision,
            matched_statements: matched.clone(),
            missing_context_values: missing.clone(),
            permissions_boundary_decision_detail: boundary,
        });
        EvaluationResult {
            eval_action_name: action.to_owned(),
            eval_resource_name: resource.to_owned(),
            eval_decision,
            matched_statements: matched,
            missing_context_values: missing,
            organizations_decision_detail: organizations,
            permissions_boundary_decision_detail: boundary,
            eval_decision_details: BTreeMap::new(),
            resource_specific_results: specific.into_iter().collect(),
        }
    }
}

/// What a simulation request adds to its source's policies.
struct Inputs<'a> {
    policy_input_list: &'a [String],
    boundary_input: &'a [String],
    resource_policy: Option<&'a str>,
    context_entries: &'a [ContextEntry],
    extensions: &'a SimulationExtensions,
    /// `ResourceOwner`.
    owner: Option<&'a str>,
    /// The ARN whose SCP chain applies (extension).
    scp_principal: &'a str,
}

/// The simulated principal and the policies it brings.
struct Origin {
    principal: Principal,
    /// Whether the principal's keys go into the context.
    fill_principal: bool,
    identity: Vec<Source>,
    boundary: Option<Source>,
}

impl Iam {
    /// A user principal for `CallerArn`, with its id and tags when it is a user of `store`.
    fn caller_principal(store: &Arc<dyn Store>, arn: &str) -> Result<Principal, IamError> {
        let mut principal = Principal::from_arn(arn, None)
            .ok()
            .filter(|p| p.kind == PrincipalType::User)
            .ok_or_else(|| IamError::invalid_input(format!("CallerArn {arn} is not an IAM user ARN.")))?;
        if let Some(user) = store.snapshot().user(arn.rsplit('/').next().unwrap_or_default()).filter(|u| u.arn == arn) {
            principal.unique_id = Some(user.unique_id.as_str().into());
            principal.tags = user.tags.iter().map(|t| (t.key.as_str().into(), t.value.as_str().into())).collect();
        }
        Ok(principal)
    }

    /// Builds the plan: the given identity sources and principal, plus the request's inputs.
    fn plan(
        &self,
        store: &Arc<dyn Store>,
        origin: Origin,
        inputs: &Inputs<'_>,
        ids: &mut Ids,
    ) -> Result<Plan, IamError> {
        let Origin { principal, fill_principal, mut identity, boundary } = origin;
        let owner = inputs.owner;
        for (i, text) in inputs.policy_input_list.iter().enumerate() {
            let id = format!("PolicyInputList.{}", i + 1);
            identity.push(parse(text, PolicyKind::Identity, id, PolicySourceType::None, ids.next())?);
        }
        let boundary = match inputs.boundary_input {
            [] => boundary,
            [one] => Some(parse(
                one,
                PolicyKind::PermissionsBoundary,
                "PermissionsBoundaryPolicyInputList.1".to_owned(),
                PolicySourceType::None,
                ids.next(),
            )?),
            _ => {
                return Err(IamError::invalid_input("PermissionsBoundaryPolicyInputList takes at most one policy."));
            }
        };
        let mut session = Vec::new();
        for (i, text) in inputs.extensions.session_policies.iter().enumerate() {
            let id = format!("SessionPolicy.{}", i + 1);
            session.push(parse(text, PolicyKind::Session, id, PolicySourceType::None, ids.next())?);
        }
        // Session policies bind sessions only: a user (or notional principal) with session
        // policies is simulated as its federated-user session (`GetFederationToken`'s).
        let mut principal = principal;
        if !session.is_empty() && !principal.is_session() {
            let name = principal.arn.as_ref().map(|a| a.resource().rsplit('/').next().unwrap_or_default().to_owned());
            let arn = format!("arn:aws:sts::{}:federated-user/{}", store.account_id(), name.unwrap_or_default());
            let mut federated = Principal::from_arn(&arn, None).map_err(|e| IamError::invalid_input(e.0))?;
            federated.tags = std::mem::take(&mut principal.tags);
            principal = federated;
        }
        let resource = match inputs.resource_policy {
            Some(text) => Some(parse(
                text,
                PolicyKind::Resource,
                "ResourcePolicy".to_owned(),
                PolicySourceType::Resource,
                ids.next(),
            )?),
            None => None,
        };
        let account = store.account_id().to_owned();
        let org = self.directory.organizations();
        let given = |levels: &[SimulatedOrgLevel], kind: PolicyKind, label: &str, ids: &mut Ids| {
            let mut out = Vec::new();
            for l in levels {
                let mut policies = Vec::new();
                for (j, text) in l.policies.iter().enumerate() {
                    let id = format!("{}/{label}.{}", l.id, j + 1);
                    policies.push(parse(text, kind, id, PolicySourceType::None, ids.next())?);
                }
                out.push((l.id.clone(), policies));
            }
            Ok::<Levels, IamError>(Levels { levels: out })
        };
        let actual = |chain: Option<Vec<castellan_org::GuardrailLevel>>, ids: &mut Ids| {
            chain.map(|levels| Levels {
                levels: levels
                    .into_iter()
                    .map(|l| {
                        let policies = l
                            .policies
                            .into_iter()
                            .map(|p| Source {
                                eval_id: format!("#{}", ids.next()),
                                id: p.name,
                                kind: PolicySourceType::None,
                                policy: p.policy,
                            })
                            .collect();
                        (l.id, policies)
                    })
                    .collect(),
            })
        };
        let ext = inputs.extensions;
        let scp = match &ext.scp_levels {
            Some(levels) => Some(given(levels, PolicyKind::Scp, "ScpInput", ids)?),
            None if ext.include_organization_policies => {
                let chain = org
                    .get()
                    .filter(|o| o.is_member(&account))
                    .and_then(|o| o.scp_chain_for_principal(inputs.scp_principal));
                actual(chain, ids)
            }
            None => None,
        };
        let rcp = match &ext.rcp_levels {
            Some(levels) => Some(given(levels, PolicyKind::Rcp, "RcpInput", ids)?),
            None if ext.include_organization_policies => actual(org.rcp_chain(owner.unwrap_or(&account)), ids),
            None => None,
        };
        Ok(Plan {
            principal,
            fill_principal,
            identity,
            boundary,
            session,
            resource,
            scp,
            rcp,
            context: entries_context(inputs.context_entries)?,
            default_account: account,
        })
    }

    /// The source entity of `SimulatePrincipalPolicy` / `GetContextKeysForPrincipalPolicy`: its
    /// principal, identity policies, boundary and (for a user or role) its snapshot record.
    fn source_entity(
        store: &Arc<dyn Store>,
        arn: &str,
        ids: &mut Ids,
    ) -> Result<(Principal, Vec<Source>, Option<Source>), IamError> {
        let snapshot = store.snapshot();
        let missing = || IamError::new("NoSuchEntity", 404, format!("The entity {arn} cannot be found."));
        let parsed = Arn::parse(arn).map_err(|e| IamError::invalid_input(format!("Invalid ARN {arn}: {e}")))?;
        let resource = parsed.resource();
        let name = resource.rsplit('/').next().unwrap_or_default();
        let from = |p: &PrincipalPolicies, principal: Principal, ids: &mut Ids| {
            let mut principal = principal;
            principal.unique_id = Some(p.unique_id.as_str().into());
            principal.tags = p.tags.iter().map(|t| (t.key.as_str().into(), t.value.as_str().into())).collect();
            let identity = p.identity.iter().map(|n| ids.stored(n)).collect();
            let boundary = p.boundary.as_ref().map(|b| ids.stored(b));
            (principal, identity, boundary)
        };
        let bad_principal = |e: castellan_eval::PrincipalError| IamError::invalid_input(e.0);
        if parsed.service() != "iam" || parsed.account() != store.account_id() {
            return Err(missing());
        }
        if resource.starts_with("user/") {
            let p = snapshot.user(name).filter(|p| p.arn == arn).ok_or_else(missing)?;
            let principal = Principal::from_arn(arn, None).map_err(bad_principal)?;
            Ok(from(p, principal, ids))
        } else if resource.starts_with("role/") {
            let p = snapshot.role(name).filter(|p| p.arn == arn).ok_or_else(missing)?;
            // A role acts through its sessions: the principal is a session of the role.
            let session = format!("arn:aws:sts::{}:assumed-role/{name}/simulation", parsed.account());
            let principal = Principal::from_arn(&session, Some(arn)).map_err(bad_principal)?;
            Ok(from(p, principal, ids))
        } else if resource.starts_with("group/") {
            let g = snapshot.group(name).ok_or_else(missing)?;
            let (group, _) = store.group(name)?;
            if group.arn != arn {
                return Err(missing());
            }
            // A group is no principal: its policies are simulated for a notional member, with
            // the group's ARN and no user keys.
            let principal = Principal {
                kind: PrincipalType::User,
                arn: Some(parsed.clone()),
                account: AccountId::parse(parsed.account()).ok(),
                unique_id: Some(group.group_id.as_str().into()),
                tags: Vec::new(),
            };
            Ok((principal, g.policies.iter().map(|n| ids.stored(n)).collect(), None))
        } else {
            Err(IamError::invalid_input(format!("PolicySourceArn {arn} must be a user, group or role ARN.")))
        }
    }

    /// `SimulatePrincipalPolicy` (`iam:SimulatePrincipalPolicy` on the source ARN): the
    /// decision for each action on each resource, with the source's policies (a user's include
    /// its groups') and the request's.
    pub fn simulate_principal_policy(
        &self,
        caller: &Caller,
        request: SimulatePrincipalPolicyRequest,
    ) -> Result<SimulationResults, IamError> {
        let r = &request;
        self.call(caller, "iam:SimulatePrincipalPolicy", &r.policy_source_arn, &[], |store| {
            check_actions(&r.action_names, true)?;
            let mut ids = Ids(0);
            let (principal, identity, boundary) = Iam::source_entity(store, &r.policy_source_arn, &mut ids)?;
            let principal = match &r.caller_arn {
                Some(arn) => Iam::caller_principal(store, arn)?,
                None => principal,
            };
            let inputs = Inputs {
                policy_input_list: &r.policy_input_list,
                boundary_input: &r.permissions_boundary_policy_input_list,
                resource_policy: r.resource_policy.as_deref(),
                context_entries: &r.context_entries,
                extensions: &r.extensions,
                owner: r.resource_owner.as_deref(),
                scp_principal: &r.policy_source_arn,
            };
            let origin = Origin { principal, fill_principal: true, identity, boundary };
            let plan = self.plan(store, origin, &inputs, &mut ids)?;
            plan.run(&r.action_names, &r.resource_arns, r.resource_owner.as_deref(), r.max_items, r.marker.as_deref())
        })
    }

    /// `SimulateCustomPolicy` (`iam:SimulateCustomPolicy` on `*`): the request's policies only.
    /// Wildcards in `ActionNames` are `InvalidInput`; a `ResourcePolicy` needs a `CallerArn`.
    pub fn simulate_custom_policy(
        &self,
        caller: &Caller,
        request: SimulateCustomPolicyRequest,
    ) -> Result<SimulationResults, IamError> {
        let r = &request;
        self.call(caller, "iam:SimulateCustomPolicy", "*", &[], |store| {
            check_actions(&r.action_names, false)?;
            if r.policy_input_list.is_empty() {
                return Err(IamError::invalid_input("PolicyInputList must hold at least one policy."));
            }
            if r.resource_policy.is_some() && r.caller_arn.is_none() {
                return Err(IamError::invalid_input("CallerArn is required when a ResourcePolicy is given."));
            }
            let (principal, fill) = match &r.caller_arn {
                Some(arn) => (Iam::caller_principal(store, arn)?, true),
                // A notional user of the account whose keys are not filled: the policies'
                // principal keys are missing values, as AWS reports them.
                None => {
                    let notional = format!("arn:aws:iam::{}:user/SimulatedUser", store.account_id());
                    let principal = Principal::from_arn(&notional, None).map_err(|e| IamError::service_failure(e.0))?;
                    (principal, false)
                }
            };
            let scp_principal =
                r.caller_arn.clone().unwrap_or_else(|| format!("arn:aws:iam::{}:root", store.account_id()));
            let inputs = Inputs {
                policy_input_list: &r.policy_input_list,
                boundary_input: &r.permissions_boundary_policy_input_list,
                resource_policy: r.resource_policy.as_deref(),
                context_entries: &r.context_entries,
                extensions: &r.extensions,
                owner: r.resource_owner.as_deref(),
                scp_principal: &scp_principal,
            };
            let mut ids = Ids(0);
            let origin = Origin { principal, fill_principal: fill, identity: Vec::new(), boundary: None };
            let plan = self.plan(store, origin, &inputs, &mut ids)?;
            plan.run(&r.action_names, &r.resource_arns, r.resource_owner.as_deref(), r.max_items, r.marker.as_deref())
        })
    }

    /// `GetContextKeysForPrincipalPolicy` (`iam:GetContextKeysForPrincipalPolicy` on the source
    /// ARN): the condition keys of the entity's policies (a user's include its groups' and its
    /// boundary) and of `policy_input_list`, each once, in order of appearance.
    pub fn get_context_keys_for_principal_policy(
        &self,
        caller: &Caller,
        policy_source_arn: &str,
        policy_input_list: &[String],
    ) -> Result<Vec<String>, IamError> {
        self.call(caller, "iam:GetContextKeysForPrincipalPolicy", policy_source_arn, &[], |store| {
            let mut ids = Ids(0);
            let (_, mut sources, boundary) = Iam::source_entity(store, policy_source_arn, &mut ids)?;
            sources.extend(boundary);
            for (i, text) in policy_input_list.iter().enumerate() {
                let id = format!("PolicyInputList.{}", i + 1);
                sources.push(parse(text, PolicyKind::Identity, id, PolicySourceType::None, ids.next())?);
            }
            Ok(context_keys(sources.iter().map(|s| &*s.policy)))
        })
    }

    /// `GetContextKeysForCustomPolicy` (`iam:GetContextKeysForCustomPolicy` on `*`).
    pub fn get_context_keys_for_custom_policy(
        &self,
        caller: &Caller,
        policy_input_list: &[String],
    ) -> Result<Vec<String>, IamError> {
        self.call(caller, "iam:GetContextKeysForCustomPolicy", "*", &[], |_| {
            let mut policies = Vec::new();
            for (i, text) in policy_input_list.iter().enumerate() {
                // Any kind of policy may be asked about: parse by grammar only.
                let policy =
                    Policy::parse_grammar(text).map_err(|e| malformed(&format!("PolicyInputList.{}", i + 1), &e))?;
                policies.push(policy);
            }
            Ok(context_keys(policies.iter()))
        })
    }
}

/// The condition keys of `policies`, each once (without regard to case), in order.
fn context_keys<'a>(policies: impl Iterator<Item = &'a Policy>) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for condition in policies.flat_map(|p| p.statements.iter()).flat_map(|s| s.conditions.iter()) {
        let key = condition.key.as_str();
        if !keys.iter().any(|k| k.eq_ignore_ascii_case(key)) {
            keys.push(key.to_owned());
        }
    }
    keys
}
