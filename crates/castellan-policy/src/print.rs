//! The canonical printer: one stable, readable layout for every policy.
//!
//! Layout: two-space indentation; elements in the order `Version`, `Id`, `Statement`, and in a
//! statement `Sid`, `Effect`, `Principal`, `Action`, `Resource`, `Condition`; `Statement`
//! always an array; any other list of one written as the bare value; condition values always as
//! strings. Parsing the output gives back an equal [`Policy`].

use std::fmt::{self, Write};

use crate::ast::{ActionClause, Policy, Principal, PrincipalClause, ResourceClause, Statement};
use crate::condition::{Condition, Operator};

impl fmt::Display for Policy {
    /// The canonical pretty form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Printer { out: f, depth: 0 }.policy(self)
    }
}

/// The canonical pretty form of `policy`, ending with a newline.
pub fn to_pretty_string(policy: &Policy) -> String {
    let mut out = policy.to_string();
    out.push('\n');
    out
}

struct Printer<'o, W: Write> {
    out: &'o mut W,
    depth: usize,
}

impl<W: Write> Printer<'_, W> {
    fn newline(&mut self) -> fmt::Result {
        self.out.write_char('\n')?;
        for _ in 0..self.depth {
            self.out.write_str("  ")?;
        }
        Ok(())
    }

    fn string(&mut self, s: &str) -> fmt::Result {
        self.out.write_char('"')?;
        for c in s.chars() {
            match c {
                '"' => self.out.write_str("\\\"")?,
                '\\' => self.out.write_str("\\\\")?,
                '\n' => self.out.write_str("\\n")?,
                '\r' => self.out.write_str("\\r")?,
                '\t' => self.out.write_str("\\t")?,
                c if (c as u32) < 0x20 || c == '\u{7f}' => write!(self.out, "\\u{:04x}", c as u32)?,
                c => self.out.write_char(c)?,
            }
        }
        self.out.write_char('"')
    }

    /// Writes `{ "key": value, ... }` with one member per line.
    fn object<T>(&mut self, members: &[T], mut member: impl FnMut(&mut Self, &T) -> fmt::Result) -> fmt::Result {
        if members.is_empty() {
            return self.out.write_str("{}");
        }
        self.out.write_char('{')?;
        self.depth += 1;
        for (i, m) in members.iter().enumerate() {
            if i > 0 {
                self.out.write_char(',')?;
            }
            self.newline()?;
            member(self, m)?;
        }
        self.depth -= 1;
        self.newline()?;
        self.out.write_char('}')
    }

    fn key(&mut self, key: &str) -> fmt::Result {
        self.string(key)?;
        self.out.write_str(": ")
    }

    /// A list of strings: the bare string when there is one, else an array one per line.
    fn list<'s>(&mut self, items: impl ExactSizeIterator<Item = &'s str>) -> fmt::Result {
        let len = items.len();
        let mut items = items.peekable();
        if len == 1
            && let Some(only) = items.next()
        {
            return self.string(only);
        }
        if len == 0 {
            return self.out.write_str("[]");
        }
        self.out.write_char('[')?;
        self.depth += 1;
        let mut first = true;
        for item in items {
            if !first {
                self.out.write_char(',')?;
            }
            first = false;
            self.newline()?;
            self.string(item)?;
        }
        self.depth -= 1;
        self.newline()?;
        self.out.write_char(']')
    }

    fn policy(&mut self, policy: &Policy) -> fmt::Result {
        enum Top<'p> {
            Version(&'static str),
            Id(&'p str),
            Statement(&'p [Statement]),
        }
        let mut members = Vec::with_capacity(3);
        if let Some(v) = policy.version {
            members.push(Top::Version(v.as_str()));
        }
        if let Some(id) = &policy.id {
            members.push(Top::Id(id));
        }
        members.push(Top::Statement(&policy.statements));
        self.object(&members, |p, m| match m {
            Top::Version(v) => {
                p.key("Version")?;
                p.string(v)
            }
            Top::Id(id) => {
                p.key("Id")?;
                p.string(id)
            }
            Top::Statement(statements) => {
                p.key("Statement")?;
                p.statements(statements)
            }
        })
    }

    fn statements(&mut self, statements: &[Statement]) -> fmt::Result {
        self.out.write_char('[')?;
        self.depth += 1;
        for (i, s) in statements.iter().enumerate() {
            if i > 0 {
                self.out.write_char(',')?;
            }
            self.newline()?;
            self.statement(s)?;
        }
        self.depth -= 1;
        self.newline()?;
        self.out.write_char(']')
    }

    fn statement(&mut self, s: &Statement) -> fmt::Result {
        enum Element<'s> {
            Sid(&'s str),
            Effect(&'static str),
            Principal(&'static str, &'s Principal),
            Action(&'static str, &'s ActionClause),
            Resource(&'static str, &'s ResourceClause),
            Condition(&'s [Condition]),
        }
        let mut elements = Vec::with_capacity(6);
        if let Some(sid) = &s.sid {
            elements.push(Element::Sid(sid));
        }
        elements.push(Element::Effect(s.effect.as_str()));
        match &s.principal {
            Some(PrincipalClause::Principal(p)) => elements.push(Element::Principal("Principal", p)),
            Some(PrincipalClause::NotPrincipal(p)) => elements.push(Element::Principal("NotPrincipal", p)),
            None => {}
        }
        let action_name = match s.action {
            ActionClause::Action(_) => "Action",
            ActionClause::NotAction(_) => "NotAction",
        };
        elements.push(Element::Action(action_name, &s.action));
        match &s.resource {
            Some(r @ ResourceClause::Resource(_)) => elements.push(Element::Resource("Resource", r)),
            Some(r @ ResourceClause::NotResource(_)) => elements.push(Element::Resource("NotResource", r)),
            None => {}
        }
        if !s.conditions.is_empty() {
            elements.push(Element::Condition(&s.conditions));
        }
        self.object(&elements, |p, e| match e {
            Element::Sid(sid) => {
                p.key("Sid")?;
                p.string(sid)
            }
            Element::Effect(effect) => {
                p.key("Effect")?;
                p.string(effect)
            }
            Element::Principal(name, principal) => {
                p.key(name)?;
                p.principal(principal)
            }
            Element::Action(name, clause) => {
                p.key(name)?;
                p.list(clause.patterns().iter().map(|a| a.as_str()))
            }
            Element::Resource(name, clause) => {
                p.key(name)?;
                p.list(clause.patterns().iter().map(|r| r.as_str()))
            }
            Element::Condition(conditions) => {
                p.key("Condition")?;
                p.conditions(conditions)
            }
        })
    }

    fn principal(&mut self, principal: &Principal) -> fmt::Result {
        match principal {
            Principal::Everyone => self.string("*"),
            Principal::Named(entries) => self.object(entries, |p, e| {
                p.key(e.kind.as_str())?;
                p.list(e.values.iter().map(|v| v.as_str()))
            }),
        }
    }

    fn conditions(&mut self, conditions: &[Condition]) -> fmt::Result {
        // Group by operator, in order of first appearance.
        let mut operators: Vec<Operator> = Vec::new();
        for c in conditions {
            if !operators.contains(&c.operator) {
                operators.push(c.operator);
            }
        }
        self.object(&operators, |p, op| {
            p.key(&op.to_string())?;
            let keys: Vec<&Condition> = conditions.iter().filter(|c| c.operator == *op).collect();
            p.object(&keys, |p, c| {
                p.key(c.key.as_str())?;
                p.list(c.values.iter().map(|v| v.as_str()))
            })
        })
    }
}
