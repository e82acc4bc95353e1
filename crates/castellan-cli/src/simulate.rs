//! `castellan simulate --cases FILE`: runs decision cases (the format of
//! `formats/decision-cases.md`) through the evaluator and compares with their expectations.

use std::io::Write;
use std::path::Path;

use castellan_eval::{
    Context, ContextValue, Decision, Layers, NamedPolicy, OrgLevel, Outcome, Principal, Request, evaluate,
};
use castellan_policy::{AccountId, Policy};
use serde_json::{Value, json};

use crate::Outcome as Exit;

/// One case, read and checked, owning its policies.
struct Case {
    name: String,
    expected: Outcome,
    policies: Vec<CasePolicy>,
    /// Each level of the SCP path, root first: its number and its identifier.
    scp_levels: Option<Vec<(usize, String)>>,
    /// The same for the RCP path.
    rcp_levels: Option<Vec<(usize, String)>>,
    principal: Principal,
    action: String,
    resource: String,
    resource_account: Option<AccountId>,
    context: Context,
}

struct CasePolicy {
    layer: String,
    id: String,
    level: Option<usize>,
    policy: Policy,
}

/// `castellan simulate`.
pub(crate) fn simulate(path: &Path, json_output: bool) -> Exit {
    let cases = match load(path) {
        Ok(cases) => cases,
        Err(message) => {
            eprintln!("castellan: {}: {message}", path.display());
            return Exit::Usage;
        }
    };
    let (mut passed, mut failed) = (0usize, 0usize);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for case in &cases {
        let layers = layers(case);
        let request = Request {
            principal: &case.principal,
            action: &case.action,
            resource: &case.resource,
            resource_account: case.resource_account,
            context: &case.context,
        };
        let decision = evaluate(&request, &layers);
        let pass = decision.outcome == case.expected;
        if pass {
            passed += 1;
        } else {
            failed += 1;
        }
        let written = if json_output {
            let record = json!({
                "name": case.name,
                "decision": decision.outcome.as_str(),
                "expected": case.expected.as_str(),
                "pass": pass,
                "matched": decision.matched.iter().map(|m| json!({
                    "policy_type": m.layer.as_str(),
                    "policy_id": m.policy_id,
                    "level": m.level,
                    "statement_index": m.index,
                    "sid": m.sid,
                    "effect": m.effect.as_str(),
                })).collect::<Vec<_>>(),
                "explanation": explanation(&decision, &request),
                "missing_context_keys": decision.missing_context_keys.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
            });
            writeln!(out, "{record}")
        } else {
            write_human(&mut out, case, &decision, &request, pass)
        };
        if written.is_err() {
            break;
        }
    }
    // A closed pipe here only loses the summary.
    let _ = writeln!(out, "{passed} passed, {failed} failed");
    if failed > 0 { Exit::Findings } else { Exit::Clean }
}

fn explanation(decision: &Decision, request: &Request<'_>) -> String {
    match decision.outcome {
        Outcome::Allow => {
            let by: Vec<String> = decision.matched.iter().map(ToString::to_string).collect();
            format!("allowed by {}", by.join(", "))
        }
        _ => decision.message(request),
    }
}

fn write_human(
    out: &mut impl Write,
    case: &Case,
    decision: &Decision,
    request: &Request<'_>,
    pass: bool,
) -> std::io::Result<()> {
    if pass {
        return writeln!(out, "PASS {} ({})", case.name, decision.outcome);
    }
    writeln!(out, "FAIL {}: expected {}, got {}", case.name, case.expected, decision.outcome)?;
    writeln!(out, "     {}", explanation(decision, request))?;
    if decision.outcome != Outcome::Allow {
        for m in &decision.matched {
            writeln!(out, "     matched: {m}")?;
        }
    }
    if !decision.missing_context_keys.is_empty() {
        let keys: Vec<&str> = decision.missing_context_keys.iter().map(|k| k.as_str()).collect();
        writeln!(out, "     context keys the policies read but the request lacks: {}", keys.join(", "))?;
    }
    Ok(())
}

fn named(p: &CasePolicy) -> NamedPolicy<'_> {
    NamedPolicy { id: p.id.as_str(), policy: &p.policy }
}

/// The levels of one organization path, with the case's policies placed at their levels.
fn org_levels<'c>(case: &'c Case, ids: Option<&'c Vec<(usize, String)>>, layer: &str) -> Option<Vec<OrgLevel<'c>>> {
    let ids = ids?;
    let levels = ids.iter().map(|(number, id)| OrgLevel {
        id: id.as_str(),
        policies: case.policies.iter().filter(|p| p.layer == layer && p.level == Some(*number)).map(named).collect(),
    });
    Some(levels.collect())
}

fn layers(case: &Case) -> Layers<'_> {
    let mut layers = Layers {
        scp: org_levels(case, case.scp_levels.as_ref(), "scp"),
        rcp: org_levels(case, case.rcp_levels.as_ref(), "rcp"),
        ..Layers::default()
    };
    for p in &case.policies {
        match p.layer.as_str() {
            "identity" => layers.identity.push(named(p)),
            "resource" => layers.resource.push(named(p)),
            "permissions_boundary" => layers.permissions_boundary = Some(named(p)),
            "session" => layers.session.push(named(p)),
            "vpc_endpoint" => layers.vpc_endpoint.push(named(p)),
            _ => {}
        }
    }
    layers
}

fn load(path: &Path) -> Result<Vec<Case>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let value: Value = serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))?;
    let items = value.as_array().ok_or("a decision-case file is a JSON array")?;
    items.iter().enumerate().map(|(i, item)| read_case(item).map_err(|e| format!("case {}: {e}", i + 1))).collect()
}

fn read_case(item: &Value) -> Result<Case, String> {
    let name = item.get("name").and_then(Value::as_str).ok_or("no `name`")?.to_owned();
    let fail = |e: String| format!("`{name}`: {e}");
    let expected = match item.get("expected").and_then(Value::as_str) {
        Some("Allow") => Outcome::Allow,
        Some("ExplicitDeny") => Outcome::ExplicitDeny,
        Some("ImplicitDeny") => Outcome::ImplicitDeny,
        other => {
            return Err(fail(format!("`expected` must be Allow, ExplicitDeny or ImplicitDeny, not {other:?}")));
        }
    };
    let mut policies = Vec::new();
    for (i, p) in item.get("policies").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let layer = p.get("type").and_then(Value::as_str).ok_or_else(|| fail(format!("policy {i}: no `type`")))?;
        if !matches!(
            layer,
            "identity" | "resource" | "permissions_boundary" | "session" | "scp" | "rcp" | "vpc_endpoint"
        ) {
            return Err(fail(format!("policy {i}: unknown type `{layer}`")));
        }
        let document = p.get("document").ok_or_else(|| fail(format!("policy {i}: no `document`")))?;
        let text = serde_json::to_string(document).map_err(|e| fail(e.to_string()))?;
        // Cases exercise evaluation, so documents need only the shared grammar (an identity
        // policy under version 2008-10-17 is a legitimate case).
        let policy = Policy::parse_grammar(&text).map_err(|e| fail(format!("policy {i} ({layer}): {e}")))?;
        let level = p.get("level").and_then(Value::as_u64).map(|l| l as usize);
        if matches!(layer, "scp" | "rcp") && level.is_none() {
            return Err(fail(format!("policy {i}: an {layer} needs a `level`")));
        }
        let id = match p.get("org_identifier").and_then(Value::as_str) {
            Some(org) => format!("{layer}-{i}@{org}"),
            None => format!("{layer}-{i}"),
        };
        policies.push(CasePolicy { layer: layer.to_owned(), id, level, policy });
    }
    let org = item.get("org");
    // The levels of a path: as the `org` block lists them, else those the policies name.
    let levels = |key: &str, layer: &str| -> Option<Vec<(usize, String)>> {
        if let Some(listed) = org.and_then(|o| o.get(key)).and_then(Value::as_array) {
            let mut levels: Vec<(usize, String)> = listed
                .iter()
                .map(|l| {
                    let level = l.get("level").and_then(Value::as_u64).unwrap_or_default() as usize;
                    let id = l.get("org_identifier").and_then(Value::as_str).unwrap_or_default().to_owned();
                    (level, id)
                })
                .collect();
            levels.sort();
            return Some(levels);
        }
        let mut named: Vec<(usize, String)> = policies
            .iter()
            .filter(|p| p.layer == layer)
            .filter_map(|p| p.level.map(|l| (l, format!("level-{l}"))))
            .collect();
        named.sort();
        named.dedup();
        (!named.is_empty()).then_some(named)
    };
    let scp_levels = levels("scp_levels", "scp");
    let rcp_levels = levels("rcp_levels", "rcp");

    let request = item.get("request").ok_or_else(|| fail("no `request`".into()))?;
    let action = request.get("action").and_then(Value::as_str).ok_or_else(|| fail("no `request.action`".into()))?;
    let resource = request.get("resource").and_then(Value::as_str).unwrap_or("*");
    let resource_account = match request.get("resource_account").and_then(Value::as_str) {
        Some(a) => Some(AccountId::parse(a).map_err(|e| fail(e.to_string()))?),
        None => None,
    };
    let mut context = Context::new();
    if let Some(map) = request.get("context").and_then(Value::as_object) {
        for (key, value) in map {
            let value = match value {
                Value::String(s) => ContextValue::single(s),
                Value::Array(items) => ContextValue::multi(items.iter().filter_map(Value::as_str)),
                Value::Bool(b) => ContextValue::single(if *b { "true" } else { "false" }),
                Value::Number(n) => ContextValue::single(&n.to_string()),
                _ => {
                    return Err(fail(format!("context key `{key}` has an unsupported value")));
                }
            };
            context.insert(key, value);
        }
    }
    let principal = read_principal(request.get("principal"), &context).map_err(fail)?;
    principal.fill_context(&mut context);
    Ok(Case {
        name,
        expected,
        policies,
        scp_levels,
        rcp_levels,
        principal,
        action: action.to_owned(),
        resource: resource.to_owned(),
        resource_account,
        context,
    })
}

fn read_principal(value: Option<&Value>, context: &Context) -> Result<Principal, String> {
    match value {
        Some(Value::Object(o)) if o.get("type").and_then(Value::as_str) == Some("Anonymous") => {
            Ok(Principal::anonymous())
        }
        Some(Value::String(s)) if s.starts_with("arn:") => {
            let role_arn = context.get("aws:PrincipalArn").and_then(|v| v.as_single());
            let role_arn = role_arn.filter(|a| a.contains(":role/"));
            let mut principal = Principal::from_arn(s, role_arn).map_err(|e| e.to_string())?;
            // The unique id, when the case gives `aws:userid` (`AIDA...`, or `AROA...:session`).
            if let Some(userid) = context.get("aws:userid").and_then(|v| v.as_single()) {
                let id = userid.split(':').next().unwrap_or_default();
                if id.starts_with("AIDA") || id.starts_with("AROA") {
                    principal.unique_id = Some(id.into());
                }
            }
            Ok(principal)
        }
        Some(Value::String(s)) => Ok(Principal::service(s)),
        _ => Err("`request.principal` must be an ARN, a service principal or {\"type\": \"Anonymous\"}".to_owned()),
    }
}
