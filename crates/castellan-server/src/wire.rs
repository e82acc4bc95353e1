//! The small encodings of the wire protocols, written here rather than pulled in: an XML writer
//! that escapes every text it is given, RFC 3986 percent-encoding and decoding, base64, request
//! ids, and ISO 8601 timestamps.

use castellan::credentials::UnixTime;
use castellan::credentials::sigv4::percent_decode;

/// An XML document built element by element; text and attribute values are always escaped.
#[derive(Debug, Default)]
pub(crate) struct Xml {
    out: String,
}

impl Xml {
    /// A document with the XML declaration.
    pub(crate) fn new() -> Xml {
        Xml { out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n") }
    }

    /// `<name xmlns="namespace">`.
    pub(crate) fn open_ns(&mut self, name: &str, namespace: &str) -> &mut Xml {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push_str(" xmlns=\"");
        escape_into(&mut self.out, namespace);
        self.out.push_str("\">");
        self
    }

    /// `<name>`.
    pub(crate) fn open(&mut self, name: &str) -> &mut Xml {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    /// `</name>`.
    pub(crate) fn close(&mut self, name: &str) -> &mut Xml {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    /// `<name>text</name>`, the text escaped.
    pub(crate) fn leaf(&mut self, name: &str, text: &str) -> &mut Xml {
        self.open(name);
        escape_into(&mut self.out, text);
        self.close(name)
    }

    /// [`Xml::leaf`] when `text` is `Some`.
    pub(crate) fn opt(&mut self, name: &str, text: Option<&str>) -> &mut Xml {
        if let Some(text) = text {
            self.leaf(name, text);
        }
        self
    }

    /// `<name>true|false</name>`.
    pub(crate) fn flag(&mut self, name: &str, value: bool) -> &mut Xml {
        self.leaf(name, if value { "true" } else { "false" })
    }

    /// `<name>` with each item written by `item` inside a `<member>`.
    pub(crate) fn members<T>(&mut self, name: &str, items: &[T], mut item: impl FnMut(&mut Xml, &T)) -> &mut Xml {
        self.open(name);
        for i in items {
            self.open("member");
            item(self, i);
            self.close("member");
        }
        self.close(name)
    }

    /// Appends another document's content (a fragment built without a declaration).
    pub(crate) fn raw(&mut self, other: &Xml) -> &mut Xml {
        self.out.push_str(&other.out);
        self
    }

    /// The document's text so far, to append escaped text to (see [`escape_into`]).
    pub(crate) fn text_sink(&mut self) -> &mut String {
        &mut self.out
    }

    /// The document.
    pub(crate) fn finish(self) -> String {
        self.out
    }
}

/// Appends `text` escaped for XML text and attribute values. Characters XML 1.0 cannot carry
/// at all (most control characters) become U+FFFD, so that no input makes a document a client
/// cannot parse.
pub(crate) fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#xD;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// `text` percent-encoded as RFC 3986 asks (unreserved characters kept), as IAM encodes the
/// policy documents it returns.
pub(crate) fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3 / 2);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(hex_digit(b >> 4));
            out.push(hex_digit(b & 0xf));
        }
    }
    out
}

fn hex_digit(nibble: u8) -> char {
    char::from_digit(u32::from(nibble), 16).map_or('0', |c| c.to_ascii_uppercase())
}

/// Decodes `application/x-www-form-urlencoded` text: `+` is a space, `%XY` a byte; a `%` not
/// followed by two hex digits stays as it is. Invalid UTF-8 becomes U+FFFD.
pub(crate) fn form_decode(text: &str) -> String {
    String::from_utf8_lossy(&percent_decode(&text.replace('+', " "))).into_owned()
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (the wire form of blobs such as `Base32StringSeed`).
pub(crate) fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    let symbol = |index: u32| char::from(BASE64.get((index & 63) as usize).copied().unwrap_or(b'A'));
    for chunk in bytes.chunks(3) {
        let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (b(0) << 16) | (b(1) << 8) | b(2);
        out.push(symbol(n >> 18));
        out.push(symbol(n >> 12));
        out.push(if chunk.len() > 1 { symbol(n >> 6) } else { '=' });
        out.push(if chunk.len() > 2 { symbol(n) } else { '=' });
    }
    out
}

/// Decodes standard base64 (padding optional, whitespace ignored); `None` when `text` is not
/// base64.
pub(crate) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut acc: u32 = 0;
    let mut bits = 0;
    let mut padding = 0;
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace()) {
        if c == b'=' {
            padding += 1;
            continue;
        }
        if padding > 0 {
            return None;
        }
        let value = u32::try_from(BASE64.iter().position(|&b| b == c)?).ok()?;
        acc = (acc << 6) | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).ok()?);
        }
    }
    if padding > 2 || bits >= 6 {
        return None;
    }
    Some(out)
}

/// A random request id in the UUID v4 form AWS uses.
pub(crate) fn request_id() -> String {
    let n: u128 = rand::random();
    let n = (n & !(0xf << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62);
    let hex = format!("{n:032x}");
    let part = |a: usize, b: usize| hex.get(a..b).unwrap_or_default();
    format!("{}-{}-{}-{}-{}", part(0, 8), part(8, 12), part(12, 16), part(16, 20), part(20, 32))
}

/// `time` in ISO 8601 UTC with milliseconds, as IAM writes `CreateDate`.
pub(crate) fn timestamp(time: UnixTime) -> String {
    let whole = castellan::sts::session::iso8601(time);
    match whole.strip_suffix('Z') {
        Some(base) => format!("{base}.{:03}Z", time.nanos / 1_000_000),
        None => whole,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_special_character() {
        let mut out = String::new();
        escape_into(&mut out, "<a href=\"x\">&'\u{1}</a>");
        assert_eq!(out, "&lt;a href=&quot;x&quot;&gt;&amp;&apos;\u{FFFD}&lt;/a&gt;");
    }

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (input, expected) in
            [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("foobar", "Zm9vYmFy")]
        {
            assert_eq!(base64(input.as_bytes()), expected);
        }
    }

    #[test]
    fn base64_decoding_inverts_encoding() {
        for input in ["", "f", "fo", "foo", "foob", "fooba", "foobar", "\u{0}\u{ff}é"] {
            assert_eq!(base64_decode(&base64(input.as_bytes())), Some(input.as_bytes().to_vec()));
        }
        assert_eq!(base64_decode("Zm9v\nYmFy"), Some(b"foobar".to_vec()));
        assert_eq!(base64_decode("Zm9v!"), None);
        assert_eq!(base64_decode("Z"), None);
        assert_eq!(base64_decode("Zg==Zg"), None);
    }

    #[test]
    fn url_encoding_round_trips_through_form_decoding() {
        let doc = r#"{"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]} é+%"#;
        let encoded = url_encode(doc);
        assert!(!encoded.contains(' ') && !encoded.contains('"'));
        assert_eq!(form_decode(&encoded), doc);
    }

    #[test]
    fn form_decoding_keeps_broken_escapes() {
        assert_eq!(form_decode("a%2"), "a%2");
        assert_eq!(form_decode("%zz+%41"), "%zz A");
        assert_eq!(form_decode("%ff"), "\u{FFFD}");
    }

    #[test]
    fn request_ids_look_like_uuid_v4() {
        let id = request_id();
        assert_eq!(id.len(), 36);
        assert_eq!(id.get(14..15), Some("4"));
    }
}
