//! From JSON text to a typed [`Policy`], with every problem reported in AWS's words.
//!
//! The reader walks the spanned JSON tree once, building the typed document and collecting
//! diagnostics as it goes. Each diagnostic carries the stage of AWS's validator that reports
//! it; sorting by stage puts first the message AWS itself would answer.

use std::borrow::Cow;
use std::collections::HashSet;

use crate::arn::{AccountId, Arn, is_partition};
use crate::ast::{
    ActionClause, ActionPattern, ArnPattern, Effect, Policy, Principal, PrincipalClause, PrincipalEntry, PrincipalId,
    PrincipalKind, PrincipalValue, ResourceClause, ResourcePattern, Statement, Version,
};
use crate::condition::{Condition, ConditionValue, Operator, TypedValue, parse_bool};
use crate::diagnostic::{Diagnostic, ErrorCode, Position, Severity, Stage, messages};
use crate::json::{self, Member, Node, Value};
use crate::kind::{PolicyKind, Presence, iam_size};
use crate::template::{ConditionKey, Template};

/// The result of checking a document: the typed policy when there is no error, and every
/// diagnostic, errors first in the order AWS would report them, then warnings.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The document, when it has no errors.
    pub policy: Option<Policy>,
    /// Errors and warnings.
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    /// The errors; the first is the one AWS reports.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.severity == Severity::Error)
    }

    /// The warnings.
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.severity == Severity::Warning)
    }

    /// Whether the document has no errors.
    pub fn is_valid(&self) -> bool {
        self.policy.is_some()
    }
}

/// Checks `text` as a policy of `kind`: grammar, element types, values, and the kind's rules.
pub fn check(text: &str, kind: PolicyKind) -> Checked {
    Reader::new(text, Some(kind)).run()
}

/// Checks only what every kind shares: the grammar, element types and values. Used where the
/// kind is not known or not relevant, such as formatting.
pub fn check_grammar(text: &str) -> Checked {
    Reader::new(text, None).run()
}

struct Reader<'t> {
    text: &'t str,
    kind: Option<PolicyKind>,
    variables: bool,
    diagnostics: Vec<Diagnostic>,
    /// Lines and columns of statement spans, found without rescanning the text each time.
    locator: json::Locator<'t>,
}

/// An element present in a statement, with where it was.
struct Element<'n, 'a> {
    name: &'static str,
    key_offset: usize,
    node: &'n Node<'a>,
}

impl<'t> Reader<'t> {
    fn new(text: &'t str, kind: Option<PolicyKind>) -> Reader<'t> {
        Reader { text, kind, variables: false, diagnostics: Vec::new(), locator: json::Locator::new(text) }
    }

    /// The position of `offset`; the same as `Position::at`, faster for increasing offsets.
    fn position(&mut self, offset: usize) -> Position {
        let (line, column) = self.locator.locate(offset);
        Position { line, column, offset }
    }

    fn push(
        &mut self,
        severity: Severity,
        stage: Stage,
        code: ErrorCode,
        offset: usize,
        message: String,
        detail: String,
    ) {
        let position = Position::at(self.text, offset);
        self.diagnostics.push(Diagnostic { severity, code, message, detail, position, stage });
    }

    fn error(&mut self, stage: Stage, offset: usize, message: impl Into<String>, detail: impl Into<String>) {
        self.push(Severity::Error, stage, ErrorCode::MalformedPolicyDocument, offset, message.into(), detail.into());
    }

    fn syntax(&mut self, offset: usize, detail: impl Into<String>) {
        self.error(Stage::Syntax, offset, messages::SYNTAX, detail);
    }

    fn warn(&mut self, offset: usize, detail: impl Into<String>) {
        let detail = detail.into();
        self.push(Severity::Warning, Stage::Kind, ErrorCode::MalformedPolicyDocument, offset, detail.clone(), detail);
    }

    fn run(mut self) -> Checked {
        if self.kind.is_some_and(PolicyKind::is_iam) {
            self.check_characters();
        }
        let policy = match json::parse(self.text) {
            Ok(root) => self.policy(&root),
            Err(e) => {
                self.syntax(e.offset, e.detail);
                None
            }
        };
        self.check_size();
        // Stable sort: within a stage, document order is kept.
        self.diagnostics.sort_by_key(|d| (d.severity == Severity::Warning, d.stage, d.position.offset));
        let has_errors = self.diagnostics.iter().any(|d| d.severity == Severity::Error);
        Checked { policy: if has_errors { None } else { policy }, diagnostics: self.diagnostics }
    }

    fn check_characters(&mut self) {
        // Printable ASCII, tab, LF and CR are accepted; only from the first other byte (always
        // the start of a character) must characters be decoded.
        let start = accepted_ascii_prefix(self.text.as_bytes());
        let rest = self.text.get(start..).unwrap_or_default();
        let bad = rest
            .char_indices()
            .find(|&(_, c)| !(matches!(c, '\t' | '\n' | '\r') || ('\u{20}'..='\u{ff}').contains(&c)))
            .map(|(offset, c)| (start + offset, c));
        if let Some((offset, c)) = bad {
            self.push(
                Severity::Error,
                Stage::Characters,
                ErrorCode::ValidationError,
                offset,
                messages::CHARACTERS.to_owned(),
                format!("character U+{:04X} is outside the characters IAM accepts in policies", u32::from(c)),
            );
        }
    }

    fn check_size(&mut self) {
        let Some(kind) = self.kind else { return };
        let Some(quota) = kind.size_quota() else {
            return;
        };
        // A document has no more characters than bytes: a short one needs no counting.
        if self.text.len() <= quota.limit {
            return;
        }
        let size = if quota.counts_whitespace {
            self.text.chars().count()
        } else if self.text.is_ascii() {
            ascii_non_whitespace(self.text.as_bytes())
        } else {
            iam_size(self.text)
        };
        if size <= quota.limit {
            return;
        }
        let counted = if quota.counts_whitespace { "characters" } else { "characters, whitespace excluded" };
        if !quota.enforced {
            self.warn(
                0,
                format!(
                    "the document has {size} {counted}, more than the {} a customer managed policy may hold",
                    quota.limit
                ),
            );
            return;
        }
        let (code, message) = match kind {
            PolicyKind::Trust => {
                (ErrorCode::LimitExceeded, format!("Cannot exceed quota for ACLSizePerRole: {}", quota.limit))
            }
            PolicyKind::Session => (
                ErrorCode::ValidationError,
                format!(
                    "1 validation error detected: Value at 'policy' failed to satisfy constraint: Member must have length less than or equal to {}",
                    quota.limit
                ),
            ),
            _ => (
                ErrorCode::ConstraintViolation,
                format!("The provided policy document exceeds the maximum size of {} characters.", quota.limit),
            ),
        };
        let detail = format!("the document has {size} {counted}; {kind} policies may have {}", quota.limit);
        self.push(Severity::Error, Stage::Size, code, 0, message, detail);
    }

    /// Reports duplicate keys of an object; JSON allows them, IAM does not.
    fn check_duplicates(&mut self, members: &[Member<'_>]) {
        if members.len() <= 16 {
            for (i, m) in members.iter().enumerate() {
                if members.get(..i).is_some_and(|before| before.iter().any(|b| b.key == m.key)) {
                    self.syntax(m.key_offset, format!("duplicate key `{}`", m.key));
                }
            }
        } else {
            let mut seen = HashSet::with_capacity(members.len());
            for m in members {
                if !seen.insert(&m.key) {
                    self.syntax(m.key_offset, format!("duplicate key `{}`", m.key));
                }
            }
        }
    }

    fn policy(&mut self, root: &Node<'_>) -> Option<Policy> {
        let Value::Object(members) = &root.value else {
            self.syntax(root.offset, format!("a policy must be a JSON object, not {}", root.value.type_name()));
            return None;
        };
        self.check_duplicates(members);
        let mut version = None;
        let mut version_offset = root.offset;
        let mut id = None;
        let mut statement = None;
        let mut ok = true;
        for m in members {
            match &*m.key {
                "Version" => {
                    version_offset = m.value.offset;
                    match &m.value.value {
                        Value::String(s) if s == "2012-10-17" => version = Some(Version::V2012_10_17),
                        Value::String(s) if s == "2008-10-17" => version = Some(Version::V2008_10_17),
                        other => {
                            ok = false;
                            let shown = match other {
                                Value::String(s) => format!("`{s}`"),
                                other => other.type_name().to_owned(),
                            };
                            self.syntax(
                                m.value.offset,
                                format!("`Version` must be `2012-10-17` or `2008-10-17`, not {shown}"),
                            );
                        }
                    }
                }
                "Id" => match &m.value.value {
                    Value::String(s) => id = Some(s.to_string()),
                    other => {
                        ok = false;
                        self.syntax(m.value.offset, format!("`Id` must be a string, not {}", other.type_name()));
                    }
                },
                "Statement" => statement = Some(&m.value),
                other => {
                    ok = false;
                    self.syntax(m.key_offset, format!("unknown element `{other}` in the policy"));
                }
            }
        }
        self.variables = version.is_some_and(Version::has_variables);
        if self.kind.is_some_and(PolicyKind::requires_current_version) && version != Some(Version::V2012_10_17) {
            let detail = match version {
                None => format!("{} policies must say `\"Version\": \"2012-10-17\"`", self.kind_name()),
                Some(v) => format!("{} policies must use version `2012-10-17`, not `{}`", self.kind_name(), v.as_str()),
            };
            self.error(Stage::Version, version_offset, messages::VERSION, detail);
        }
        let Some(statement) = statement else {
            self.syntax(root.offset, "the policy has no `Statement`");
            return None;
        };
        let nodes: Vec<&Node<'_>> = match &statement.value {
            Value::Object(_) => vec![statement],
            Value::Array(items) if items.is_empty() => {
                self.syntax(statement.offset, "`Statement` is an empty array");
                return None;
            }
            Value::Array(items) => items.iter().collect(),
            other => {
                self.syntax(
                    statement.offset,
                    format!("`Statement` must be an object or an array of objects, not {}", other.type_name()),
                );
                return None;
            }
        };
        let mut statements = Vec::with_capacity(nodes.len());
        let mut sids: Vec<(&str, usize)> = Vec::new();
        for node in nodes {
            if let Value::Object(members) = &node.value {
                for m in members.iter().filter(|m| m.key == "Sid") {
                    if let Value::String(s) = &m.value.value
                        && !s.is_empty()
                    {
                        sids.push((s, m.value.offset));
                    }
                }
            }
            match self.statement(node) {
                Some(s) => statements.push(s),
                None => ok = false,
            }
        }
        self.check_sid_uniqueness(&sids);
        ok.then_some(Policy { version, id, statements })
    }

    fn kind_name(&self) -> &'static str {
        self.kind.map_or("", PolicyKind::as_str)
    }

    fn check_sid_uniqueness(&mut self, sids: &[(&str, usize)]) {
        let mut seen = HashSet::with_capacity(sids.len());
        for &(sid, offset) in sids {
            if !seen.insert(sid) {
                self.error(Stage::Sid, offset, messages::SID_UNIQUE, format!("`Sid` `{sid}` is used twice"));
            }
        }
    }

    fn statement(&mut self, node: &Node<'_>) -> Option<Statement> {
        let Value::Object(members) = &node.value else {
            self.syntax(node.offset, format!("a statement must be a JSON object, not {}", node.value.type_name()));
            return None;
        };
        self.check_duplicates(members);
        let mut ok = true;
        let mut sid = None;
        let mut effect = None;
        let mut principal: Option<Element<'_, '_>> = None;
        let mut action: Option<Element<'_, '_>> = None;
        let mut resource: Option<Element<'_, '_>> = None;
        let mut condition = None;
        for m in members {
            let slot = match &*m.key {
                "Sid" => {
                    match &m.value.value {
                        Value::String(s) => {
                            // IAM's documentation asks for letters and digits only, but IAM
                            // accepts other characters (the accepted corpus has `_`), so this
                            // only advises.
                            if self.kind.is_some_and(PolicyKind::is_iam)
                                && !s.bytes().all(|b| b.is_ascii_alphanumeric())
                            {
                                self.warn(
                                    m.value.offset,
                                    format!("`Sid` `{s}` has characters other than letters and digits, which IAM's documentation asks for"),
                                );
                            }
                            sid = Some(s.to_string());
                        }
                        other => {
                            ok = false;
                            self.syntax(m.value.offset, format!("`Sid` must be a string, not {}", other.type_name()));
                        }
                    }
                    continue;
                }
                "Effect" => {
                    effect = self.effect(&m.value);
                    ok &= effect.is_some();
                    continue;
                }
                "Condition" => {
                    condition = Some(&m.value);
                    continue;
                }
                "Principal" | "NotPrincipal" => (&mut principal, &m.key),
                "Action" | "NotAction" => (&mut action, &m.key),
                "Resource" | "NotResource" => (&mut resource, &m.key),
                other => {
                    ok = false;
                    self.syntax(m.key_offset, format!("unknown element `{other}` in a statement"));
                    continue;
                }
            };
            let (slot, key) = slot;
            let name = element_name(key);
            if let Some(previous) = slot {
                ok = false;
                let (first, second) = (previous.name, name);
                self.syntax(m.key_offset, format!("a statement cannot have both `{first}` and `{second}`"));
            } else {
                *slot = Some(Element { name, key_offset: m.key_offset, node: &m.value });
            }
        }
        if effect.is_none() && !members.iter().any(|m| m.key == "Effect") {
            ok = false;
            self.syntax(node.offset, "a statement must have an `Effect`");
        }

        let principal = match principal {
            Some(e) => self.principal_clause(&e, effect),
            None => {
                if self.kind.is_some_and(|k| k.principal() == Presence::Required) {
                    self.error(
                        Stage::Kind,
                        node.offset,
                        messages::missing_field("Principal"),
                        format!("{} policy statements must name a `Principal`", self.kind_name()),
                    );
                }
                Ok(None)
            }
        };
        let action = match action {
            Some(e) => self.actions(&e),
            None => {
                self.error(
                    Stage::ActionsPresent,
                    node.offset,
                    messages::NO_ACTIONS,
                    "the statement has no `Action` or `NotAction`",
                );
                None
            }
        };
        let resource = match resource {
            Some(e) => self.resources(&e),
            None => {
                if self.kind.is_some_and(|k| k.resource() == Presence::Required) {
                    self.error(
                        Stage::ResourcesPresent,
                        node.offset,
                        messages::NO_RESOURCES,
                        "the statement has no `Resource` or `NotResource`",
                    );
                }
                Ok(None)
            }
        };
        let conditions = match condition {
            Some(c) => self.conditions(c),
            None => Some(Vec::new()),
        };
        let (Ok(principal), Some(action), Ok(resource), Some(conditions), Some(effect), true) =
            (principal, action, resource, conditions, effect, ok)
        else {
            return None;
        };
        let statement = Statement {
            sid,
            effect,
            principal,
            action,
            resource,
            conditions,
            span: Some((self.position(node.offset), self.position(node.end))),
        };
        self.kind_rules(&statement, node.offset);
        Some(statement)
    }

    fn effect(&mut self, node: &Node<'_>) -> Option<Effect> {
        match &node.value {
            Value::String(s) if s == "Allow" => Some(Effect::Allow),
            Value::String(s) if s == "Deny" => Some(Effect::Deny),
            Value::String(s) if s.eq_ignore_ascii_case("allow") || s.eq_ignore_ascii_case("deny") => {
                let proper = if s.eq_ignore_ascii_case("allow") { "Allow" } else { "Deny" };
                self.error(
                    Stage::Legacy,
                    node.offset,
                    messages::LEGACY,
                    format!("`Effect` is case-sensitive: write `{proper}`, not `{s}`"),
                );
                None
            }
            Value::String(s) => {
                self.syntax(node.offset, format!("`Effect` must be `Allow` or `Deny`, not `{s}`"));
                None
            }
            other => {
                self.syntax(node.offset, format!("`Effect` must be `Allow` or `Deny`, not {}", other.type_name()));
                None
            }
        }
    }

    /// Reads a string or an array of strings. `null` entries are skipped with a warning where
    /// `allow_null` (IAM accepts them in `Resource`).
    fn strings<'n, 'a>(&mut self, name: &str, node: &'n Node<'a>, allow_null: bool) -> Option<Strings<'n, 'a>> {
        match &node.value {
            Value::String(_) => Some(Strings { nodes: std::slice::from_ref(node) }),
            Value::Array(items) => {
                let mut ok = true;
                for item in items {
                    match &item.value {
                        Value::String(_) => {}
                        Value::Null if allow_null => self.warn(item.offset, format!("`null` in `{name}` is ignored")),
                        other => {
                            ok = false;
                            self.syntax(
                                item.offset,
                                format!("`{name}` entries must be strings, not {}", other.type_name()),
                            );
                        }
                    }
                }
                ok.then_some(Strings { nodes: items })
            }
            other => {
                self.syntax(
                    node.offset,
                    format!("`{name}` must be a string or an array of strings, not {}", other.type_name()),
                );
                None
            }
        }
    }

    fn actions(&mut self, element: &Element<'_, '_>) -> Option<ActionClause> {
        let entries = self.strings(element.name, element.node, false)?;
        if entries.is_empty() {
            self.error(
                Stage::ActionsPresent,
                element.node.offset,
                messages::NO_ACTIONS,
                format!("`{}` is empty", element.name),
            );
            return None;
        }
        let mut patterns = Vec::with_capacity(entries.len());
        let mut ok = true;
        for (offset, text) in entries {
            match self.action(offset, text) {
                Some(p) => patterns.push(p),
                None => ok = false,
            }
        }
        if !ok {
            return None;
        }
        Some(if element.name == "Action" { ActionClause::Action(patterns) } else { ActionClause::NotAction(patterns) })
    }

    fn action(&mut self, offset: usize, text: &str) -> Option<ActionPattern> {
        if text == "*" {
            return Some(ActionPattern::any());
        }
        let Some(colon) = text.find(':') else {
            self.error(
                Stage::ActionFormat,
                offset,
                messages::NO_VENDOR,
                format!("action `{text}` has no `service:` prefix"),
            );
            return None;
        };
        if text.get(colon + 1..).is_some_and(|rest| rest.contains(':')) {
            self.error(
                Stage::ActionFormat,
                offset,
                messages::ONE_COLON,
                format!("action `{text}` has more than one `:`"),
            );
            return None;
        }
        let vendor = text.get(..colon).unwrap_or_default();
        if vendor.is_empty() || !vendor.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')) {
            self.error(
                Stage::ActionFormat,
                offset,
                messages::bad_vendor(vendor),
                format!("service prefix `{vendor}` may only hold letters, digits, `-`, `_` and `.`"),
            );
            return None;
        }
        Some(ActionPattern::service(text, colon))
    }

    /// `Ok(None)` is a resource element the kind forbids (already reported as an error).
    fn resources(&mut self, element: &Element<'_, '_>) -> Result<Option<ResourceClause>, ()> {
        if self.kind.is_some_and(|k| k.resource() == Presence::Forbidden) {
            self.error(
                Stage::Kind,
                element.key_offset,
                messages::prohibited_field(element.name),
                format!("{} policies cannot have `{}`", self.kind_name(), element.name),
            );
        }
        let entries = self.strings(element.name, element.node, true).ok_or(())?;
        if entries.is_empty() {
            self.error(
                Stage::ResourcesPresent,
                element.node.offset,
                messages::NO_RESOURCES,
                format!("`{}` is empty", element.name),
            );
            return Err(());
        }
        let mut patterns = Vec::with_capacity(entries.len());
        let mut ok = true;
        for (offset, text) in entries {
            match self.resource(offset, text) {
                Some(p) => patterns.push(p),
                None => ok = false,
            }
        }
        if !ok {
            return Err(());
        }
        Ok(Some(if element.name == "Resource" {
            ResourceClause::Resource(patterns)
        } else {
            ResourceClause::NotResource(patterns)
        }))
    }

    fn resource(&mut self, offset: usize, text: &str) -> Option<ResourcePattern> {
        if text == "*" {
            return Some(ResourcePattern::Any);
        }
        // At most six parts: kept in an array rather than a vector, saving an allocation.
        let mut split = [""; 6];
        let mut count = 0;
        for (slot, part) in split.iter_mut().zip(text.splitn(6, ':')) {
            *slot = part;
            count += 1;
        }
        let parts = split.get(..count).unwrap_or_default();
        let format_error = |r: &mut Self, message: String, detail: String| {
            r.error(Stage::ResourceFormat, offset, message, detail);
            None
        };
        let (Some(&first), Some(&partition)) = (parts.first(), parts.get(1)) else {
            return format_error(self, messages::not_arn(text), format!("resource `{text}` is neither `*` nor an ARN"));
        };
        if !(is_partition(partition) || partition == "*") {
            // AWS shows the entry as the ARN it was read as: `arn:` and the parts after the
            // first, padded with `*` to six.
            let mut shown = vec!["arn"];
            shown.extend(parts.iter().skip(1));
            while shown.len() < 6 {
                shown.push("*");
            }
            let normalized = shown.join(":");
            return format_error(
                self,
                messages::bad_partition(partition, &normalized),
                format!("`{partition}` is not an AWS partition"),
            );
        }
        if first != "arn" {
            return format_error(
                self,
                messages::not_arn(text),
                format!("resource `{text}` does not start with `arn:`"),
            );
        }
        let Some(&service) = parts.get(2) else {
            return format_error(
                self,
                messages::RESOURCE_VENDOR.to_owned(),
                format!("resource `{text}` names no service"),
            );
        };
        if service.is_empty() {
            self.error(Stage::Legacy, offset, messages::LEGACY, format!("resource `{text}` has an empty service"));
            return None;
        }
        if service.contains(['*', '?']) {
            return format_error(
                self,
                messages::RESOURCE_VENDOR.to_owned(),
                format!("the service of `{text}` cannot hold wildcards"),
            );
        }
        let (region, account, resource_part) = match parts.len() {
            3 => {
                self.warn(offset, format!("resource `{text}` is not a full ARN; it is read as `{text}:*:*:*`"));
                ("*", "*", "*")
            }
            6 => (
                parts.get(3).copied().unwrap_or_default(),
                parts.get(4).copied().unwrap_or_default(),
                parts.get(5).copied().unwrap_or_default(),
            ),
            _ => {
                self.error(
                    Stage::Legacy,
                    offset,
                    messages::LEGACY,
                    format!("resource `{text}` must have six parts `arn:partition:service:region:account:resource`"),
                );
                return None;
            }
        };
        if service == "iam" {
            if !region.is_empty() && region != "*" {
                return format_error(
                    self,
                    messages::iam_region(text),
                    format!("IAM is global: `{region}` cannot be the region"),
                );
            }
            if !iam_resource_path_ok(resource_part) {
                return format_error(
                    self,
                    messages::IAM_PATH.to_owned(),
                    format!("`{resource_part}` is not an IAM resource type"),
                );
            }
        }
        if service == "s3" && !region.is_empty() && account.is_empty() {
            return format_error(self, messages::s3_region(text), "bucket and object ARNs have no region".to_owned());
        }
        let resource = if self.variables { Template::parse(resource_part) } else { Template::literal(resource_part) };
        if self.variables && resource.has_stray_reference() {
            self.warn(
                offset,
                format!("`${{` in `{text}` does not begin a well-formed policy variable; it is literal text"),
            );
        }
        Some(ResourcePattern::Arn(ArnPattern::new(text, [partition, service, region, account], resource)))
    }

    /// `Err` when the element is malformed; `Ok(None)` never occurs for a present element.
    fn principal_clause(
        &mut self,
        element: &Element<'_, '_>,
        effect: Option<Effect>,
    ) -> Result<Option<PrincipalClause>, ()> {
        let not = element.name == "NotPrincipal";
        if let Some(kind) = self.kind {
            let presence = if not { kind.not_principal() } else { kind.principal() };
            if presence == Presence::Forbidden {
                let message = if kind.principal() == Presence::Forbidden {
                    messages::NO_PRINCIPAL.to_owned()
                } else {
                    messages::prohibited_field(element.name)
                };
                self.error(
                    Stage::Kind,
                    element.key_offset,
                    message,
                    format!("{kind} policies cannot have `{}`", element.name),
                );
            } else if not && effect == Some(Effect::Allow) {
                self.warn(
                    element.key_offset,
                    "`NotPrincipal` with `Allow` grants to everyone not listed, anonymous callers included; AWS supports `NotPrincipal` only with `Deny`",
                );
            }
        }
        // Read after the kind's rule, so that a malformed principal in a kind that forbids
        // principals still reports the element itself.
        let principal = self.principal(element)?;
        Ok(Some(if not { PrincipalClause::NotPrincipal(principal) } else { PrincipalClause::Principal(principal) }))
    }

    fn principal(&mut self, element: &Element<'_, '_>) -> Result<Principal, ()> {
        let node = element.node;
        let members = match &node.value {
            Value::String(s) if s == "*" => return Ok(Principal::Everyone),
            Value::Object(members) if !members.is_empty() => members,
            Value::String(s) => {
                self.syntax(
                    node.offset,
                    format!("`{}` must be `*` or an object such as {{\"AWS\": ...}}, not `{s}`", element.name),
                );
                return Err(());
            }
            other => {
                self.syntax(
                    node.offset,
                    format!("`{}` must be `*` or a non-empty object, not {}", element.name, other.type_name()),
                );
                return Err(());
            }
        };
        self.check_duplicates(members);
        let mut entries = Vec::with_capacity(members.len());
        let mut ok = true;
        for m in members {
            let Some(kind) = PrincipalKind::parse(&m.key) else {
                ok = false;
                self.error(
                    Stage::Kind,
                    m.key_offset,
                    messages::invalid_principal(&m.key, ""),
                    format!("`{}` is not a principal type (AWS, Service, Federated, CanonicalUser)", m.key),
                );
                continue;
            };
            let Some(values) = self.strings(element.name, &m.value, false) else {
                ok = false;
                continue;
            };
            if values.is_empty() {
                ok = false;
                self.error(
                    Stage::Kind,
                    m.value.offset,
                    messages::invalid_principal(kind.as_str(), ""),
                    "the principal list is empty",
                );
                continue;
            }
            let mut parsed = Vec::with_capacity(values.len());
            for (offset, raw) in values {
                match principal_id(kind, raw) {
                    Some(id) => parsed.push(PrincipalValue::new(raw, id)),
                    None => {
                        ok = false;
                        self.error(
                            Stage::Kind,
                            offset,
                            messages::invalid_principal(kind.as_str(), raw),
                            format!("`{raw}` is not a valid `{}` principal", kind.as_str()),
                        );
                    }
                }
            }
            entries.push(PrincipalEntry { kind, values: parsed });
        }
        if ok { Ok(Principal::Named(entries)) } else { Err(()) }
    }

    fn conditions(&mut self, node: &Node<'_>) -> Option<Vec<Condition>> {
        let Value::Object(blocks) = &node.value else {
            self.syntax(node.offset, format!("`Condition` must be an object, not {}", node.value.type_name()));
            return None;
        };
        self.check_duplicates(blocks);
        let mut out = Vec::new();
        let mut ok = true;
        for block in blocks {
            let Value::Object(keys) = &block.value.value else {
                ok = false;
                self.syntax(
                    block.value.offset,
                    format!(
                        "the `{}` block must be an object of keys and values, not {}",
                        block.key,
                        block.value.value.type_name()
                    ),
                );
                continue;
            };
            let operator = match Operator::parse(&block.key) {
                Ok(op) => op,
                Err(e) if keys.is_empty() => {
                    self.warn(block.key_offset, format!("{e}; the block is empty, so it is ignored"));
                    continue;
                }
                Err(e) => {
                    ok = false;
                    self.syntax(block.key_offset, e.to_string());
                    continue;
                }
            };
            self.check_duplicates(keys);
            for k in keys {
                // The values are read from the JSON tree in place, after the checks.
                let items: &[Node<'_>] = match &k.value.value {
                    Value::Array(items) => {
                        for item in items {
                            if scalar_text(&item.value).is_none() {
                                ok = false;
                                self.syntax(
                                    item.offset,
                                    format!(
                                        "condition values must be strings, numbers or booleans, not {}",
                                        item.value.type_name()
                                    ),
                                );
                            }
                        }
                        items
                    }
                    other => {
                        if scalar_text(other).is_none() {
                            ok = false;
                            self.syntax(
                                k.value.offset,
                                format!(
                                    "condition values must be strings, numbers or booleans, not {}",
                                    other.type_name()
                                ),
                            );
                            continue;
                        }
                        std::slice::from_ref(&k.value)
                    }
                };
                let raws = items.iter().filter_map(|item| Some((item.offset, scalar_text(&item.value)?)));
                let mut values = Vec::with_capacity(items.len());
                for (offset, raw) in raws {
                    match ConditionValue::parse(raw, operator.base, self.variables) {
                        Some(v) => {
                            self.value_warnings(offset, &operator, &v);
                            values.push(v);
                        }
                        None => {
                            ok = false;
                            self.error(
                                Stage::Legacy,
                                offset,
                                messages::LEGACY,
                                format!("`{raw}` is not a valid value for `{}`", operator.base.as_str()),
                            );
                        }
                    }
                }
                out.push(Condition { operator, key: ConditionKey::new(&k.key), values });
            }
        }
        ok.then_some(out)
    }

    fn value_warnings(&mut self, offset: usize, operator: &Operator, value: &ConditionValue) {
        match value.typed() {
            TypedValue::Bool(t) if !t.has_variables() && parse_bool(t.as_str()).is_none() => {
                self.warn(
                    offset,
                    format!("`{}` is neither `true` nor `false`, so `Bool` never matches it", t.as_str()),
                );
            }
            TypedValue::String(t) | TypedValue::Arn(t) | TypedValue::Bool(t)
                if self.variables && t.has_stray_reference() =>
            {
                self.warn(
                    offset,
                    format!(
                        "`${{` in `{}` does not begin a well-formed policy variable; it is literal text",
                        t.as_str()
                    ),
                );
            }
            _ => {}
        }
        let _ = operator;
    }

    fn kind_rules(&mut self, statement: &Statement, offset: usize) {
        let Some(kind) = self.kind else { return };
        match kind {
            PolicyKind::Trust => {
                let non_sts = statement
                    .action
                    .patterns()
                    .iter()
                    .find(|p| !p.service_prefix().is_some_and(|s| s.eq_ignore_ascii_case("sts")));
                if let Some(p) = non_sts {
                    let detail = format!(
                        "`{}` is not an STS action; a trust policy governs only `sts:AssumeRole*`, `sts:TagSession`, `sts:SetSourceIdentity` and the like",
                        p.as_str()
                    );
                    self.error(Stage::Kind, offset, messages::TRUST_ACTIONS, detail);
                }
            }
            PolicyKind::Rcp => {
                let everyone = matches!(&statement.principal, Some(PrincipalClause::Principal(Principal::Everyone)))
                    || matches!(&statement.principal, Some(PrincipalClause::Principal(Principal::Named(entries)))
                        if entries.iter().all(|e| e.kind == PrincipalKind::Aws && e.values.iter().all(|v| v.id() == &PrincipalId::Any)));
                if statement.principal.is_some() && !everyone {
                    self.error(Stage::Kind, offset, messages::invalid_principal("AWS", ""), "a resource control policy's `Principal` must be `*`; scope it with conditions such as `aws:PrincipalOrgID`");
                }
                if matches!(statement.action, ActionClause::NotAction(_)) {
                    self.error(
                        Stage::Kind,
                        offset,
                        messages::prohibited_field("NotAction"),
                        "resource control policies do not support `NotAction`",
                    );
                }
                if statement.effect == Effect::Allow && !is_full_access(statement) {
                    self.error(Stage::Kind, offset, messages::SYNTAX, "resource control policies only deny: an `Allow` statement is only the built-in `RCPFullAWSAccess`");
                }
            }
            _ => {}
        }
    }
}

/// The length of the longest prefix of `bytes` made of the ASCII characters IAM accepts
/// (printable ASCII, tab, LF, CR), tested a block at a time so that the compiler vectorizes it.
fn accepted_ascii_prefix(bytes: &[u8]) -> usize {
    // Without short-circuits, so that the test has no branches.
    let accepted = |b: u8| (b.wrapping_sub(0x20) < 0x60) | (b == b'\t') | (b == b'\n') | (b == b'\r');
    let mut start = 0;
    for block in bytes.chunks_exact(32) {
        if block.iter().fold(0, |rejected, &b| rejected | u8::from(!accepted(b))) != 0 {
            break;
        }
        start += block.len();
    }
    let rest = bytes.get(start..).unwrap_or_default();
    start + rest.iter().position(|&b| !accepted(b)).unwrap_or(rest.len())
}

/// [`iam_size`] of ASCII text: the bytes that are not `char::is_whitespace` (tab, LF, VT, FF,
/// CR, space), counted a block at a time so that the compiler vectorizes it.
fn ascii_non_whitespace(bytes: &[u8]) -> usize {
    bytes.len() - json::count_bytes(bytes, |b| (b.wrapping_sub(b'\t') < 5) | (b == b' '))
}

/// The entries of an element that [`Reader::strings`] accepted: its strings with their
/// offsets, `null`s left out. They are read from the JSON tree in place rather than collected.
#[derive(Clone, Copy)]
struct Strings<'n, 'a> {
    /// The array's items (or the lone string): only strings and skipped `null`s.
    nodes: &'n [Node<'a>],
}

/// The offset and text of a string node; `None` for any other node.
type StringEntry<'n, 'a> = fn(&'n Node<'a>) -> Option<(usize, &'n Cow<'a, str>)>;

impl<'n, 'a> Strings<'n, 'a> {
    fn is_empty(self) -> bool {
        self.into_iter().next().is_none()
    }

    fn len(self) -> usize {
        self.into_iter().count()
    }
}

impl<'n, 'a> IntoIterator for Strings<'n, 'a> {
    type Item = (usize, &'n Cow<'a, str>);
    type IntoIter = std::iter::FilterMap<std::slice::Iter<'n, Node<'a>>, StringEntry<'n, 'a>>;

    fn into_iter(self) -> Self::IntoIter {
        let entry: StringEntry<'n, 'a> = |node| match &node.value {
            Value::String(s) => Some((node.offset, s)),
            _ => None,
        };
        self.nodes.iter().filter_map(entry)
    }
}

/// The statement of `RCPFullAWSAccess`: allow everything to everyone, unconditionally.
fn is_full_access(statement: &Statement) -> bool {
    statement.conditions.is_empty()
        && matches!(&statement.action, ActionClause::Action(a) if a.iter().any(ActionPattern::is_any))
        && matches!(&statement.resource, Some(ResourceClause::Resource(r)) if r.contains(&ResourcePattern::Any))
}

fn element_name(key: &str) -> &'static str {
    match key {
        "Principal" => "Principal",
        "NotPrincipal" => "NotPrincipal",
        "Action" => "Action",
        "NotAction" => "NotAction",
        "Resource" => "Resource",
        _ => "NotResource",
    }
}

/// The text of a scalar condition value: strings as they are, numbers and booleans as written.
fn scalar_text<'v>(value: &'v Value<'_>) -> Option<&'v str> {
    match value {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n),
        Value::Bool(true) => Some("true"),
        Value::Bool(false) => Some("false"),
        _ => None,
    }
}

/// The resource types IAM accepts after the account in an IAM resource ARN.
const IAM_RESOURCE_TYPES: &[&str] = &[
    "user/",
    "federated-user/",
    "role/",
    "group/",
    "instance-profile/",
    "mfa/",
    "server-certificate/",
    "policy/",
    "sms-mfa/",
    "saml-provider/",
    "oidc-provider/",
    "report/",
    "access-report/",
    "role-template/",
];

fn iam_resource_path_ok(resource: &str) -> bool {
    resource == "*" || resource == "root" || IAM_RESOURCE_TYPES.iter().any(|t| resource.starts_with(t))
}

/// Reads one principal value of the given type.
pub(crate) fn principal_id(kind: PrincipalKind, raw: &str) -> Option<PrincipalId> {
    if raw == "*" {
        return Some(PrincipalId::Any);
    }
    match kind {
        PrincipalKind::Aws => {
            if let Ok(account) = AccountId::parse(raw) {
                return Some(PrincipalId::Account(account));
            }
            if raw.starts_with("arn:") {
                let arn = Arn::parse(raw).ok()?;
                if raw.contains(['*', '?'])
                    || !is_partition(arn.partition())
                    || AccountId::parse(arn.account()).is_err()
                {
                    return None;
                }
                let resource = arn.resource();
                return match arn.service() {
                    "iam" if resource == "root" => Some(PrincipalId::AccountRoot(arn)),
                    "iam" if named_path(resource, "user/") || named_path(resource, "role/") => {
                        Some(PrincipalId::Arn(arn))
                    }
                    "sts" if session_arn(resource) => Some(PrincipalId::Arn(arn)),
                    _ => None,
                };
            }
            is_unique_id(raw).then(|| PrincipalId::UniqueId(raw.into()))
        }
        PrincipalKind::Service => is_host(raw).then(|| PrincipalId::Service(raw.into())),
        PrincipalKind::Federated => {
            if raw.starts_with("arn:") {
                let arn = Arn::parse(raw).ok()?;
                let ok = arn.service() == "iam"
                    && is_partition(arn.partition())
                    && AccountId::parse(arn.account()).is_ok()
                    && (named_path(arn.resource(), "saml-provider/") || named_path(arn.resource(), "oidc-provider/"));
                return ok.then(|| PrincipalId::Federated(raw.into()));
            }
            is_host(raw).then(|| PrincipalId::Federated(raw.into()))
        }
        PrincipalKind::CanonicalUser => (raw.len() == 64 && raw.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| PrincipalId::CanonicalUser(raw.into())),
    }
}

/// `user/NAME` or `user/path/NAME` with a non-empty name.
fn named_path(resource: &str, prefix: &str) -> bool {
    resource.strip_prefix(prefix).is_some_and(|rest| !rest.is_empty() && !rest.ends_with('/'))
}

/// `assumed-role/ROLE/SESSION` or `federated-user/NAME`.
fn session_arn(resource: &str) -> bool {
    if let Some(rest) = resource.strip_prefix("assumed-role/") {
        return rest.split_once('/').is_some_and(|(role, session)| !role.is_empty() && !session.is_empty());
    }
    named_path(resource, "federated-user/")
}

/// A unique id of a user (`AIDA`) or role (`AROA`): upper-case letters and digits.
fn is_unique_id(raw: &str) -> bool {
    (raw.starts_with("AIDA") || raw.starts_with("AROA"))
        && (16..=128).contains(&raw.len())
        && raw.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// A DNS-style name such as `ec2.amazonaws.com` or `accounts.google.com`.
fn is_host(raw: &str) -> bool {
    !raw.is_empty()
        && raw.len() <= 253
        && raw.contains('.')
        && raw
            .split('.')
            .all(|label| !label.is_empty() && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

#[cfg(test)]
mod scan_tests {
    //! The fast character scans agree with their plain definitions.

    use proptest::prelude::*;

    use super::{accepted_ascii_prefix, ascii_non_whitespace};
    use crate::kind::iam_size;

    proptest! {
        #[test]
        fn accepted_prefix_stops_at_the_first_other_character(text in "[ -~\t\n\r\u{0}-\u{1f}é€]{0,300}") {
            let expected = text
                .bytes()
                .position(|b| !(matches!(b, b'\t' | b'\n' | b'\r') || (0x20..0x80).contains(&b)))
                .unwrap_or(text.len());
            prop_assert_eq!(accepted_ascii_prefix(text.as_bytes()), expected);
        }

        #[test]
        fn ascii_non_whitespace_is_iam_size(text in "[\u{0}-\u{7f}]{0,1000}") {
            prop_assert_eq!(ascii_non_whitespace(text.as_bytes()), iam_size(&text));
        }
    }
}
