//! The parameters of a Query-protocol request (`Action=...&Version=...&Name.member.1=...`), read
//! from a form-encoded body and the URL's query string, and the typed reads each operation
//! makes of them: required strings, numbers, booleans, lists (`Name.member.N`), tags and
//! policy ARNs, with AWS's error codes when they are missing or malformed.

use std::collections::BTreeMap;

use castellan::IamError;
use castellan::store::{PageRequest, Tag};

use crate::partition::Partition;
use crate::wire::form_decode;

/// The most parameters one request may carry; more is `InvalidParameterValue`.
const MAX_PARAMS: usize = 10_000;

/// Query parameters: name to value (the last of a repeated name wins, as AWS's parsers do).
#[derive(Debug, Default, Clone)]
pub(crate) struct Params {
    values: BTreeMap<String, String>,
}

/// The parameters SigV4 presigning adds to a URL, which are no operation's input.
fn is_signing_param(name: &str) -> bool {
    name.starts_with("X-Amz-")
}

impl Params {
    /// Reads `name=value&...` pairs from each of `sources` (a query string, a form body).
    pub(crate) fn parse(sources: &[&str]) -> Result<Params, IamError> {
        let mut values = BTreeMap::new();
        for source in sources {
            for pair in source.split('&').filter(|p| !p.is_empty()) {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                let name = form_decode(name);
                if is_signing_param(&name) {
                    continue;
                }
                values.insert(name, form_decode(value));
                if values.len() > MAX_PARAMS {
                    return Err(IamError::new("InvalidParameterValue", 400, "too many parameters in the request"));
                }
            }
        }
        Ok(Params { values })
    }

    /// Reads `partition`'s ARNs in every value as the one state's (see `partition`).
    pub(crate) fn canonicalize(&mut self, partition: Partition) {
        for value in self.values.values_mut() {
            if let std::borrow::Cow::Owned(canonical) = partition.canonical(value) {
                *value = canonical;
            }
        }
    }

    /// A parameter, if present.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// A parameter that must be present (and, as AWS's model says, not empty).
    pub(crate) fn required(&self, name: &str) -> Result<&str, IamError> {
        match self.get(name) {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(IamError::new(
                "ValidationError",
                400,
                format!(
                    "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
                    lower_first(name)
                ),
            )),
        }
    }

    /// An integer parameter.
    pub(crate) fn int(&self, name: &str) -> Result<Option<i64>, IamError> {
        match self.get(name) {
            None | Some("") => Ok(None),
            Some(text) => text.trim().parse().map(Some).map_err(|_| {
                IamError::new("InvalidParameterValue", 400, format!("Value ({text}) for parameter {name} is invalid."))
            }),
        }
    }

    /// A boolean parameter (`true`/`false`, case-insensitive).
    pub(crate) fn bool(&self, name: &str) -> Result<Option<bool>, IamError> {
        match self.get(name) {
            None | Some("") => Ok(None),
            Some(text) if text.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(text) if text.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(text) => Err(IamError::new(
                "InvalidParameterValue",
                400,
                format!("Value ({text}) for parameter {name} is invalid. Expected: 'true' or 'false'."),
            )),
        }
    }

    /// The list `name.member.1`, `name.member.2`, ... (stopping at the first gap), with
    /// `suffix` after the index (`.arn` for `PolicyArns`).
    pub(crate) fn list(&self, name: &str, suffix: &str) -> Vec<String> {
        (1..).map_while(|i| self.get(&format!("{name}.member.{i}{suffix}")).map(str::to_owned)).collect()
    }

    /// The tag list `name.member.N.Key` / `.Value`.
    pub(crate) fn tags(&self, name: &str) -> Vec<Tag> {
        (1..)
            .map_while(|i| {
                let key = self.get(&format!("{name}.member.{i}.Key"))?;
                let value = self.get(&format!("{name}.member.{i}.Value")).unwrap_or_default();
                Some(Tag { key: key.to_owned(), value: value.to_owned() })
            })
            .collect()
    }

    /// `Marker` and `MaxItems` (1–1000).
    pub(crate) fn page(&self) -> Result<PageRequest, IamError> {
        let max_items = match self.int("MaxItems")? {
            None => None,
            Some(n) if (1..=1000).contains(&n) => u32::try_from(n).ok(),
            Some(n) => {
                return Err(IamError::new(
                    "ValidationError",
                    400,
                    format!(
                        "1 validation error detected: Value '{n}' at 'maxItems' failed to satisfy constraint: Member must have value {}",
                        if n < 1 { "greater than or equal to 1" } else { "less than or equal to 1000" }
                    ),
                ));
            }
        };
        let marker = self.get("Marker").filter(|m| !m.is_empty()).map(str::to_owned);
        Ok(PageRequest { marker, max_items })
    }
}

/// `UserName` -> `userName`, as AWS names members in validation messages.
fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Pages a whole list the facade returns in one piece: the marker is the index of the next item.
pub(crate) fn paginate<T>(items: Vec<T>, page: &PageRequest) -> Result<(Vec<T>, Option<String>), IamError> {
    let start = match &page.marker {
        None => 0,
        Some(m) => m
            .parse::<usize>()
            .ok()
            .filter(|&n| n <= items.len())
            .ok_or_else(|| IamError::new("InvalidInput", 400, "Invalid Marker."))?,
    };
    let max = page.max_items.map_or(100, |n| n as usize);
    let end = start.saturating_add(max).min(items.len());
    let next = (end < items.len()).then(|| end.to_string());
    let items = items.into_iter().skip(start).take(end - start).collect();
    Ok((items, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lists_tags_and_policy_arns() {
        let p = Params::parse(&[
            "Action=TagUser&Tags.member.1.Key=a&Tags.member.1.Value=1&Tags.member.2.Key=b",
            "PolicyArns.member.1.arn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FX&ActionNames.member.1=s3%3AGet&ActionNames.member.3=gap",
        ])
        .unwrap();
        assert_eq!(p.get("Action"), Some("TagUser"));
        assert_eq!(p.tags("Tags").len(), 2);
        assert_eq!(p.list("PolicyArns", ".arn"), ["arn:aws:iam::aws:policy/X"]);
        assert_eq!(p.list("ActionNames", ""), ["s3:Get"]);
    }

    #[test]
    fn signing_parameters_are_not_inputs() {
        let p = Params::parse(&["X-Amz-Signature=abc&Action=GetUser"]).unwrap();
        assert_eq!(p.get("X-Amz-Signature"), None);
    }

    #[test]
    fn bad_numbers_and_pages_are_refused() {
        let p = Params::parse(&["MaxItems=0&DurationSeconds=x"]).unwrap();
        assert_eq!(p.page().unwrap_err().code(), "ValidationError");
        assert_eq!(p.int("DurationSeconds").unwrap_err().code(), "InvalidParameterValue");
    }

    #[test]
    fn paginates_by_index() {
        let page = PageRequest { marker: None, max_items: Some(2) };
        let (items, next) = paginate(vec![1, 2, 3], &page).unwrap();
        assert_eq!((items, next.as_deref()), (vec![1, 2], Some("2")));
        let page = PageRequest { marker: Some("2".into()), max_items: Some(2) };
        assert_eq!(paginate(vec![1, 2, 3], &page).unwrap(), (vec![3], None));
        let page = PageRequest { marker: Some("9".into()), max_items: None };
        assert!(paginate(vec![1], &page).is_err());
    }
}
