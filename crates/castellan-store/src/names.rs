//! Validated names, paths and tags, with AWS's `ValidationError` messages (reference §5.3, §5.5).

use std::fmt;

use crate::error::{ErrorCode, StoreError};

const NAME_PATTERN: &str = r"satisfy regular expression pattern: [\w+=,.@-]+";

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)
}

fn check_length(text: &str, field: &str, min: usize, max: usize) -> Result<(), StoreError> {
    let len = text.chars().count();
    if len < min {
        return Err(StoreError::validation(text, field, &format!("have length greater than or equal to {min}")));
    }
    if len > max {
        return Err(StoreError::validation(text, field, &format!("have length less than or equal to {max}")));
    }
    Ok(())
}

fn check_name(text: &str, field: &str, max: usize) -> Result<(), StoreError> {
    check_length(text, field, 1, max)?;
    if !text.chars().all(is_name_char) {
        return Err(StoreError::validation(text, field, NAME_PATTERN));
    }
    Ok(())
}

macro_rules! name_type {
    ($(#[$doc:meta])* $ty:ident, $field:literal, $max:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub struct $ty(String);

        impl $ty {
            /// The longest name accepted.
            pub const MAX_LEN: usize = $max;

            /// Parses a name: 1 to `MAX_LEN` characters of `[\w+=,.@-]`.
            pub fn parse(text: &str) -> Result<$ty, StoreError> {
                check_name(text, $field, $max)?;
                Ok($ty(text.to_owned()))
            }

            /// The name as given (case preserved).
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The key names are unique under: IAM compares names without regard to case.
            pub fn key(&self) -> String {
                self.0.to_ascii_lowercase()
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

name_type!(
    /// A user's name (1–64 characters).
    UserName,
    "userName",
    64
);
name_type!(
    /// A group's name (1–128 characters).
    GroupName,
    "groupName",
    128
);
name_type!(
    /// A role's name (1–64 characters).
    RoleName,
    "roleName",
    64
);
name_type!(
    /// A managed or inline policy's name (1–128 characters).
    PolicyName,
    "policyName",
    128
);

/// An entity's path: `/` alone, or beginning and ending with `/`, at most 512 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct IamPath(String);

impl IamPath {
    /// The longest path accepted.
    pub const MAX_LEN: usize = 512;

    /// The default path, `/`.
    pub fn root() -> IamPath {
        IamPath("/".to_owned())
    }

    /// Parses a user, group or role path: `/` or `/` + U+0021–U+007E characters + `/`.
    pub fn parse(text: &str) -> Result<IamPath, StoreError> {
        check_length(text, "path", 1, Self::MAX_LEN)?;
        let ok = text == "/"
            || (text.len() >= 3
                && text.starts_with('/')
                && text.ends_with('/')
                && text.chars().all(|c| ('\u{21}'..='\u{7e}').contains(&c)));
        if ok {
            Ok(IamPath(text.to_owned()))
        } else {
            Err(StoreError::validation(
                text,
                "path",
                r"satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)",
            ))
        }
    }

    /// Parses a managed policy's path: `((/[A-Za-z0-9\.,\+@=_-]+)*)/`.
    pub fn parse_policy(text: &str) -> Result<IamPath, StoreError> {
        check_length(text, "path", 1, Self::MAX_LEN)?;
        let segments_ok = text
            .strip_suffix('/')
            .map(|body| body.is_empty() || (body.starts_with('/') && body.split('/').skip(1).all(is_policy_segment)));
        if segments_ok == Some(true) {
            Ok(IamPath(text.to_owned()))
        } else {
            Err(StoreError::validation(
                text,
                "path",
                r"satisfy regular expression pattern: ((/[A-Za-z0-9\.,\+@=_-]+)*)/",
            ))
        }
    }

    /// The path as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_policy_segment(segment: &str) -> bool {
    !segment.is_empty() && segment.chars().all(|c| c.is_ascii_alphanumeric() || ".,+@=_-".contains(c))
}

impl fmt::Display for IamPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Validates a `PathPrefix` of a `List*` call: `/` followed by U+0021–U+007F, 1–512 characters.
pub(crate) fn check_path_prefix(text: &str) -> Result<(), StoreError> {
    check_length(text, "pathPrefix", 1, IamPath::MAX_LEN)?;
    if text.starts_with('/') && text.chars().all(|c| ('\u{21}'..='\u{7f}').contains(&c)) {
        Ok(())
    } else {
        Err(StoreError::validation(text, "pathPrefix", r"satisfy regular expression pattern: \u002F[\u0021-\u007F]*"))
    }
}

/// A tag on a user or role.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Tag {
    /// The key: 1–128 characters, not beginning with `aws:`.
    pub key: String,
    /// The value: 0–256 characters.
    pub value: String,
}

impl Tag {
    /// The most tags an entity may carry.
    pub const MAX_PER_ENTITY: usize = 50;

    /// A tag (validated when the store receives it).
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Tag {
        Tag { key: key.into(), value: value.into() }
    }

    /// Checks the key and value against AWS's lengths, characters and reserved prefix.
    pub fn validate(&self) -> Result<(), StoreError> {
        check_length(&self.key, "tags.member.1.member.key", 1, 128)?;
        check_length(&self.value, "tags.member.1.member.value", 0, 256)?;
        let pattern = r"satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]*";
        if !self.key.chars().all(is_tag_char) {
            return Err(StoreError::validation(&self.key, "tags.member.1.member.key", &format!("{pattern}+")));
        }
        if !self.value.chars().all(is_tag_char) {
            return Err(StoreError::validation(&self.value, "tags.member.1.member.value", pattern));
        }
        if self.key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:")) {
            return Err(StoreError::new(ErrorCode::InvalidInput, "User tag keys cannot start with \"aws:\"."));
        }
        Ok(())
    }
}

fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || (c.is_whitespace() && !c.is_control()) || "_.:/=+-@".contains(c)
}
