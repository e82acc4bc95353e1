//! IAM's wildcard matching: `*` matches any run of characters (including none, and across `:`
//! and `/`), `?` matches exactly one character; everything else matches itself.
//!
//! The matcher is the classic two-cursor algorithm with a single backtrack point, so it runs in
//! O(pattern × text) in the worst case and allocates nothing for ASCII input.

/// Whether letter case matters when comparing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// `A` and `a` differ (resources, `StringLike`).
    Sensitive,
    /// `A` and `a` are the same (actions).
    Insensitive,
}

/// Matches `text` against a wildcard `pattern`.
pub fn matches(pattern: &str, text: &str, case: Case) -> bool {
    if pattern.is_ascii() && text.is_ascii() {
        match_units(pattern.as_bytes(), text.as_bytes(), |p, t| eq_byte(p, t, case))
    } else {
        let pattern: Vec<char> = pattern.chars().collect();
        let text: Vec<char> = text.chars().collect();
        match_units(&pattern, &text, |p, t| eq_char(p, t, case))
    }
}

/// Whether `pattern` contains a wildcard character.
pub fn has_wildcard(pattern: &str) -> bool {
    pattern.bytes().any(|b| b == b'*' || b == b'?')
}

fn eq_byte(p: u8, t: u8, case: Case) -> bool {
    match case {
        Case::Sensitive => p == t,
        Case::Insensitive => p.eq_ignore_ascii_case(&t),
    }
}

/// Whether two characters are equal under `case` (Unicode lowercase for [`Case::Insensitive`]).
pub fn eq_char(p: char, t: char, case: Case) -> bool {
    match case {
        Case::Sensitive => p == t,
        Case::Insensitive => p == t || p.to_lowercase().eq(t.to_lowercase()),
    }
}

/// One unit of a wildcard pattern: bytes and chars, where `*` and `?` are wildcards, or a
/// caller's own tokens (for patterns in which some `*` are literal).
pub trait Unit: Copy {
    /// Whether this unit matches any run of text units.
    fn is_star(self) -> bool;
    /// Whether this unit matches exactly one text unit.
    fn is_question(self) -> bool;
}

impl Unit for u8 {
    fn is_star(self) -> bool {
        self == b'*'
    }
    fn is_question(self) -> bool {
        self == b'?'
    }
}

impl Unit for char {
    fn is_star(self) -> bool {
        self == '*'
    }
    fn is_question(self) -> bool {
        self == '?'
    }
}

/// Matches `text` against `pattern` unit by unit; `eq` compares a pattern unit that is not a
/// wildcard with a text unit.
pub fn match_units<P: Unit, T: Copy>(pattern: &[P], text: &[T], eq: impl Fn(P, T) -> bool) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    // Position in the pattern just after the last `*`, and the text position it resumes from.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match (pattern.get(p), text.get(t)) {
            (Some(&pc), _) if pc.is_star() => {
                p += 1;
                star = Some((p, t));
            }
            (Some(&pc), Some(&tc)) if pc.is_question() || eq(pc, tc) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern.get(p..).is_some_and(|rest| rest.iter().all(|u| u.is_star()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pattern: &str, text: &str, expected: bool) {
        assert_eq!(matches(pattern, text, Case::Sensitive), expected, "{pattern} ~ {text}");
    }

    #[test]
    fn star_and_question() {
        check("*", "", true);
        check("*", "anything/at:all", true);
        check("s3:Get*", "s3:GetObject", true);
        check("s3:Get*", "s3:PutObject", false);
        check("bucket/*/test/*", "bucket/1/2/test/3/x.jpg", true);
        check("bucket/*/test/*", "bucket//test/x", true);
        check("bucket/*/test/*", "bucket/1/test/", true);
        check("a?c", "abc", true);
        check("a?c", "ac", false);
        check("a?c", "abbc", false);
        check("*a*b*c*", "xxaxxbxxcxx", true);
        check("*a*b*c*", "xxaxxcxxbxx", false);
        check("", "", true);
        check("", "a", false);
        check("abc", "abc", true);
        check("abc", "abd", false);
        check("ab*", "a", false);
    }

    #[test]
    fn case_rules() {
        assert!(matches("IAM:list*", "iam:ListUsers", Case::Insensitive));
        assert!(!matches("IAM:list*", "iam:ListUsers", Case::Sensitive));
        assert!(matches("caf\u{e9}*", "CAF\u{c9}s", Case::Insensitive));
    }

    #[test]
    fn latin1_text_counts_characters() {
        check("?", "\u{e9}", true);
        check("a?b", "a\u{e9}b", true);
    }
}
