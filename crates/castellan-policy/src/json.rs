//! A small JSON reader that keeps what policy diagnostics need and `serde_json::Value` drops:
//! the byte offset of every value and key, and every key of an object, duplicates included.
//!
//! Strings borrow from the input unless they contain escapes. Nesting is bounded so that hostile
//! input cannot exhaust the stack.

use std::borrow::Cow;

/// Deepest nesting of arrays and objects accepted; policies never come close.
const MAX_DEPTH: usize = 64;

/// A JSON value with the byte offset where it starts in the source text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node<'a> {
    pub(crate) offset: usize,
    /// Byte offset just past the value.
    pub(crate) end: usize,
    pub(crate) value: Value<'a>,
}

/// A JSON value; numbers keep their source text so nothing is lost in conversion.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value<'a> {
    Null,
    Bool(bool),
    Number(&'a str),
    String(Cow<'a, str>),
    Array(Vec<Node<'a>>),
    Object(Vec<Member<'a>>),
}

/// One `"key": value` pair of an object, in source order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Member<'a> {
    pub(crate) key_offset: usize,
    pub(crate) key: Cow<'a, str>,
    pub(crate) value: Node<'a>,
}

impl Value<'_> {
    /// The name of this value's JSON type, for messages.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }
}

/// Why the text is not JSON, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub(crate) offset: usize,
    pub(crate) detail: String,
}

/// Parses one JSON document (surrounding whitespace allowed).
pub(crate) fn parse(text: &str) -> Result<Node<'_>, SyntaxError> {
    let mut reader = Reader {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        depth: 0,
        // Room for the usual policy, so that the stacks seldom grow: about one array item in
        // each 50 bytes of pretty-printed policy text, and one object member in each 100.
        items: Vec::with_capacity((text.len() / 50).min(64)),
        members: Vec::with_capacity((text.len() / 100).min(32)),
    };
    reader.skip_ws();
    let node = reader.value()?;
    reader.skip_ws();
    if reader.pos < reader.bytes.len() {
        return Err(reader.error("unexpected text after the JSON document"));
    }
    Ok(node)
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
    /// The items of the arrays being read, innermost last. Each array is collected here and
    /// moved into a vector of its exact length when it ends: one allocation per array instead
    /// of one per doubling.
    items: Vec<Node<'a>>,
    /// The same for the members of the objects being read.
    members: Vec<Member<'a>>,
}

impl<'a> Reader<'a> {
    fn error(&self, detail: impl Into<String>) -> SyntaxError {
        SyntaxError { offset: self.pos, detail: detail.into() }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn value(&mut self) -> Result<Node<'a>, SyntaxError> {
        let offset = self.pos;
        let value = match self.peek() {
            Some(b'{') => self.object()?,
            Some(b'[') => self.array()?,
            Some(b'"') => Value::String(self.string()?),
            Some(b't') => self.literal("true", Value::Bool(true))?,
            Some(b'f') => self.literal("false", Value::Bool(false))?,
            Some(b'n') => self.literal("null", Value::Null)?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(_) => return Err(self.error("expected a JSON value")),
            None => return Err(self.error("unexpected end of text, expected a JSON value")),
        };
        Ok(Node { offset, end: self.pos, value })
    }

    fn literal(&mut self, word: &'static str, value: Value<'a>) -> Result<Value<'a>, SyntaxError> {
        if self.bytes.get(self.pos..self.pos + word.len()) == Some(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.error("expected a JSON value"))
        }
    }

    fn enter(&mut self) -> Result<(), SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    fn object(&mut self) -> Result<Value<'a>, SyntaxError> {
        self.enter()?;
        self.pos += 1;
        let base = self.members.len();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(Value::Object(Vec::new()));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a string key"));
            }
            let key_offset = self.pos;
            let key = self.string()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.error("expected `:` after an object key"));
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.value()?;
            self.members.push(Member { key_offset, key, value });
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.error("expected `,` or `}` in an object")),
            }
        }
        self.depth -= 1;
        Ok(Value::Object(self.members.split_off(base)))
    }

    fn array(&mut self) -> Result<Value<'a>, SyntaxError> {
        self.enter()?;
        self.pos += 1;
        let base = self.items.len();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(Value::Array(Vec::new()));
        }
        loop {
            self.skip_ws();
            let item = self.value()?;
            self.items.push(item);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.error("expected `,` or `]` in an array")),
            }
        }
        self.depth -= 1;
        Ok(Value::Array(self.items.split_off(base)))
    }

    fn number(&mut self) -> Result<Value<'a>, SyntaxError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.error("expected a digit")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error("expected a digit after `.`"));
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error("expected a digit in the exponent"));
            }
            self.digits();
        }
        // The scanned range is ASCII, so it always lies on character boundaries.
        let text = self.text.get(start..self.pos).unwrap_or_default();
        Ok(Value::Number(text))
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    /// Reads a string starting at the opening quote; borrows when there is no escape.
    fn string(&mut self) -> Result<Cow<'a, str>, SyntaxError> {
        self.pos += 1;
        let start = self.pos;
        loop {
            match self.peek() {
                Some(b'"') => {
                    let s = self.text.get(start..self.pos).unwrap_or_default();
                    self.pos += 1;
                    return Ok(Cow::Borrowed(s));
                }
                Some(b'\\') => break,
                Some(0x00..=0x1f) => return Err(self.error("control character in a string")),
                Some(_) => self.pos += 1,
                None => return Err(self.error("unterminated string")),
            }
        }
        let mut owned = String::from(self.text.get(start..self.pos).unwrap_or_default());
        loop {
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(Cow::Owned(owned));
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let escaped = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.pos += 1;
                            let c = self.unicode_escape()?;
                            owned.push(c);
                            continue;
                        }
                        _ => return Err(self.error("invalid escape in a string")),
                    };
                    self.pos += 1;
                    owned.push(escaped);
                }
                Some(0x00..=0x1f) => return Err(self.error("control character in a string")),
                Some(_) => {
                    // Copy the run of plain bytes up to the next quote or backslash at once.
                    let run_start = self.pos;
                    while let Some(b) = self.peek() {
                        if b == b'"' || b == b'\\' || b < 0x20 {
                            break;
                        }
                        self.pos += 1;
                    }
                    owned.push_str(self.text.get(run_start..self.pos).unwrap_or_default());
                }
                None => return Err(self.error("unterminated string")),
            }
        }
    }

    /// Reads the four hex digits after `\u` (and a low surrogate after a high one).
    fn unicode_escape(&mut self) -> Result<char, SyntaxError> {
        let first = self.hex4()?;
        if (0xD800..0xDC00).contains(&first) {
            if self.bytes.get(self.pos..self.pos + 2) != Some(b"\\u") {
                return Err(self.error("unpaired surrogate in a `\\u` escape"));
            }
            self.pos += 2;
            let second = self.hex4()?;
            if !(0xDC00..0xE000).contains(&second) {
                return Err(self.error("unpaired surrogate in a `\\u` escape"));
            }
            let code = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
            return char::from_u32(code).ok_or_else(|| self.error("invalid `\\u` escape"));
        }
        char::from_u32(first).ok_or_else(|| self.error("unpaired surrogate in a `\\u` escape"))
    }

    fn hex4(&mut self) -> Result<u32, SyntaxError> {
        let mut code = 0u32;
        for _ in 0..4 {
            let digit = match self.peek() {
                Some(b @ b'0'..=b'9') => b - b'0',
                Some(b @ b'a'..=b'f') => b - b'a' + 10,
                Some(b @ b'A'..=b'F') => b - b'A' + 10,
                _ => return Err(self.error("expected four hex digits in a `\\u` escape")),
            };
            code = code * 16 + u32::from(digit);
            self.pos += 1;
        }
        Ok(code)
    }
}

/// Converts a byte offset into a 1-based line and a 1-based column counted in characters.
pub(crate) fn line_column(text: &str, offset: usize) -> (u32, u32) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = text.get(..offset).unwrap_or(text);
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (u32::try_from(line).unwrap_or(u32::MAX), u32::try_from(column).unwrap_or(u32::MAX))
}

/// Converts byte offsets into lines and columns exactly as [`line_column`] does, remembering
/// the last answer: offsets asked for in increasing order (the spans of successive statements)
/// cost only the text between them, instead of a scan from the start each time.
#[derive(Debug, Clone)]
pub(crate) struct Locator<'a> {
    text: &'a str,
    /// The last offset located (a character boundary) and its 1-based line and column.
    offset: usize,
    line: usize,
    column: usize,
}

impl<'a> Locator<'a> {
    pub(crate) fn new(text: &'a str) -> Locator<'a> {
        Locator { text, offset: 0, line: 1, column: 1 }
    }

    /// The 1-based line and column (in characters) of `offset`, as [`line_column`] gives them.
    pub(crate) fn locate(&mut self, offset: usize) -> (u32, u32) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        if offset < self.offset {
            *self = Locator::new(self.text);
        }
        let between = self.text.as_bytes().get(self.offset..offset).unwrap_or_default();
        // Every byte but a UTF-8 continuation byte starts a character.
        let characters = |bytes: &[u8]| count_bytes(bytes, |b| b & 0xC0 != 0x80);
        match between.iter().rposition(|&b| b == b'\n') {
            Some(last) => {
                self.line += count_bytes(between, |b| b == b'\n');
                self.column = 1 + characters(between.get(last + 1..).unwrap_or_default());
            }
            None => self.column += characters(between),
        }
        self.offset = offset;
        (u32::try_from(self.line).unwrap_or(u32::MAX), u32::try_from(self.column).unwrap_or(u32::MAX))
    }
}

/// How many bytes satisfy `test`, counted in blocks with byte-sized counters so that the
/// compiler vectorizes the loop (`test` should be free of branches).
pub(crate) fn count_bytes(bytes: &[u8], test: impl Fn(u8) -> bool) -> usize {
    bytes
        .chunks(255)
        .map(|block| {
            let count = block.iter().fold(0u8, |n, &b| n.wrapping_add(u8::from(test(b))));
            usize::from(count)
        })
        .sum()
}

#[cfg(test)]
mod scan_tests {
    //! The fast scans agree with their plain definitions.

    use proptest::prelude::*;

    use super::{Locator, count_bytes, line_column};

    /// Text with many newlines, multi-byte characters and ASCII.
    fn text() -> impl Strategy<Value = String> {
        "[a-z \n\t\"é€😀\u{85}\u{a0}]{0,600}"
    }

    proptest! {
        #[test]
        fn locator_agrees_with_line_column(text in text(), offsets in proptest::collection::vec(0usize..700, 0..20)) {
            let mut locator = Locator::new(&text);
            for offset in offsets {
                prop_assert_eq!(locator.locate(offset), line_column(&text, offset), "offset {}", offset);
            }
        }

        #[test]
        fn count_bytes_agrees_with_filter(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let expected = bytes.iter().filter(|&&b| b == b'\n').count();
            prop_assert_eq!(count_bytes(&bytes, |b| b == b'\n'), expected);
        }
    }
}
