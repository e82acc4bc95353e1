//! The request context: condition keys and their values, as a request carries them.

use crate::index::FastMap;

/// The values of one condition key in a request. Most keys have one value; some (such as
/// `aws:TagKeys`) have several. Values are text, as AWS receives them; each operator reads them
/// as its own type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextValue {
    values: Vec<Box<str>>,
    multi: bool,
}

impl ContextValue {
    /// A single-valued key.
    pub fn single(value: &str) -> ContextValue {
        ContextValue { values: vec![value.into()], multi: false }
    }

    /// A multivalued key (possibly with no values at all).
    pub fn multi<'a>(values: impl IntoIterator<Item = &'a str>) -> ContextValue {
        ContextValue { values: values.into_iter().map(Into::into).collect(), multi: true }
    }

    /// The values.
    pub fn values(&self) -> impl ExactSizeIterator<Item = &str> {
        self.values.iter().map(|v| &**v)
    }

    /// The value of a single-valued key (`None` for multivalued keys and empty sets).
    pub fn as_single(&self) -> Option<&str> {
        match (&*self.values, self.multi) {
            ([only], false) => Some(only),
            _ => None,
        }
    }

    /// Whether the key was given as a list.
    pub fn is_multi(&self) -> bool {
        self.multi
    }
}

/// Condition keys and values of one request. Key names are compared without regard to case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    entries: FastMap<Box<str>, ContextValue>,
}

impl Context {
    /// An empty context.
    pub fn new() -> Context {
        Context::default()
    }

    /// Sets `key` (replacing any value it had).
    pub fn insert(&mut self, key: &str, value: ContextValue) -> &mut Context {
        self.entries.insert(key.to_ascii_lowercase().into(), value);
        self
    }

    /// Sets a single-valued key.
    pub fn set(&mut self, key: &str, value: &str) -> &mut Context {
        self.insert(key, ContextValue::single(value))
    }

    /// Sets `key` only if it has no value yet.
    pub fn set_default(&mut self, key: &str, value: &str) {
        self.entries.entry(key.to_ascii_lowercase().into()).or_insert_with(|| ContextValue::single(value));
    }

    /// Sets `PREFIXKEY` for each tag, unless already set: `aws:PrincipalTag/` for the
    /// principal's tags, `aws:ResourceTag/` for the resource's, `aws:RequestTag/` for tags in
    /// the request. Tag keys are compared without regard to case, like all key names.
    pub fn set_tags(&mut self, prefix: &str, tags: &[(Box<str>, Box<str>)]) {
        for (key, value) in tags {
            self.set_default(&format!("{prefix}{key}"), value);
        }
    }

    /// Looks `key` up; `lower_key` must already be lowercase (as `ConditionKey::lower` is).
    pub fn get_lower(&self, lower_key: &str) -> Option<&ContextValue> {
        self.entries.get(lower_key)
    }

    /// Looks `key` up in any case.
    pub fn get(&self, key: &str) -> Option<&ContextValue> {
        if key.bytes().any(|b| b.is_ascii_uppercase()) {
            self.entries.get(key.to_ascii_lowercase().as_str())
        } else {
            self.entries.get(key)
        }
    }

    /// Whether the context has no keys.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
