//! The canonical request: URI encoding, path normalisation, the canonical query string and
//! header block, and the string to sign.

use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use super::request::Request;
use super::{ALGORITHM, hex};

/// How the path becomes the canonical URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UriMode {
    /// Every service but S3: remove `.` and `..` segments and empty segments, then encode each
    /// segment of the raw path. A raw path that was already percent-encoded is so encoded
    /// twice (`%20` becomes `%2520`), as AWS does.
    #[default]
    Normalized,
    /// S3: the path is not normalised (`a//b/../c` stays as it is) and is encoded once: the raw
    /// path is percent-decoded, then encoded.
    S3,
}

/// Appends `bytes` URI-encoded: every byte but `A-Z a-z 0-9 - _ . ~` becomes `%XY` (uppercase
/// hex); `/` is kept when `keep_slash`.
pub(crate) fn uri_encode_into(out: &mut String, bytes: &[u8], keep_slash: bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') || (keep_slash && b == b'/') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0')));
            out.push(char::from(HEX.get(usize::from(b & 0x0f)).copied().unwrap_or(b'0')));
        }
    }
}

/// `bytes` URI-encoded, `/` included.
pub fn uri_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    uri_encode_into(&mut out, bytes, false);
    out
}

/// Decodes `%XY` escapes (RFC 3986); a `%` not followed by two hex digits stays as it is. `+`
/// stays a `+` (form decoding, where it is a space, replaces it first).
pub fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hi = bytes.get(i + 1).and_then(|&h| hex_value(h));
            let lo = bytes.get(i + 2).and_then(|&l| hex_value(l));
            if let (Some(hi), Some(lo)) = (hi, lo) {
                out.push(hi << 4 | lo);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    out
}

fn hex_value(b: u8) -> Option<u8> {
    char::from(b).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// The canonical URI of a raw path.
pub fn canonical_uri(path: &str, mode: UriMode) -> String {
    let mut out = String::with_capacity(path.len() + 8);
    match mode {
        UriMode::S3 => {
            if !path.starts_with('/') {
                out.push('/');
            }
            uri_encode_into(&mut out, &percent_decode(path), true);
        }
        UriMode::Normalized => {
            let mut segments: Vec<&str> = Vec::new();
            for segment in path.split('/') {
                match segment {
                    "" | "." => {}
                    ".." => {
                        segments.pop();
                    }
                    _ => segments.push(segment),
                }
            }
            for segment in &segments {
                out.push('/');
                uri_encode_into(&mut out, segment.as_bytes(), false);
            }
            let trailing = path.ends_with('/') || path.ends_with("/.") || path.ends_with("/..");
            if out.is_empty() || trailing {
                out.push('/');
            }
        }
    }
    out
}

/// The canonical query string of a raw query: each `name=value` pair percent-decoded and
/// re-encoded, a missing value written `name=`, sorted by name then value, joined by `&`.
/// Parameters named in `skip` (exact, after decoding) are left out: `X-Amz-Signature` when
/// verifying a presigned URL. `+` is taken literally (it becomes `%2B`).
pub fn canonical_query(query: &str, skip: &[&str]) -> String {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for param in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = param.split_once('=').unwrap_or((param, ""));
        let name = percent_decode(name);
        if skip.iter().any(|s| s.as_bytes() == name.as_slice()) {
            continue;
        }
        pairs.push((uri_encode(&name), uri_encode(&percent_decode(value))));
    }
    pairs.sort_unstable();
    let mut out = String::with_capacity(query.len() + 16);
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// Trims a header value and collapses each run of spaces and tabs to one space.
fn push_trimmed(out: &mut String, value: &str) {
    let mut space = false;
    for c in value.trim_matches([' ', '\t']).chars() {
        if c == ' ' || c == '\t' {
            space = true;
        } else {
            if space {
                out.push(' ');
                space = false;
            }
            out.push(c);
        }
    }
}

/// The signed headers of a request when signing: every header but `Authorization`, lowercase,
/// sorted, without duplicates.
pub(crate) fn headers_to_sign(request: &Request) -> Vec<String> {
    let mut names: Vec<String> = request
        .headers
        .iter()
        .map(|(name, _)| name.trim().to_ascii_lowercase())
        .filter(|name| name != "authorization")
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// The parts of a canonical request that the caller decides.
#[derive(Debug, Clone, Copy)]
pub struct CanonicalParts<'a> {
    /// The lowercase header names to sign, sorted.
    pub signed_headers: &'a [String],
    /// The hex hash (or marker) on the last line.
    pub payload_hash: &'a str,
    /// How the path is canonicalised.
    pub uri_mode: UriMode,
    /// Query parameters left out (`X-Amz-Signature` for presigned URLs).
    pub skip_query: &'a [&'a str],
}

/// The canonical request: `METHOD\nURI\nQUERY\nHEADERS\n\nSIGNED\nPAYLOAD`.
pub fn canonical_request(request: &Request, parts: &CanonicalParts<'_>) -> String {
    let mut out = String::with_capacity(256 + request.path.len() + request.query.len());
    out.push_str(&request.method);
    out.push('\n');
    out.push_str(&canonical_uri(&request.path, parts.uri_mode));
    out.push('\n');
    out.push_str(&canonical_query(&request.query, parts.skip_query));
    out.push('\n');
    for name in parts.signed_headers {
        out.push_str(name);
        out.push(':');
        let mut first = true;
        for (_, value) in request.headers.iter().filter(|(n, _)| n.trim().eq_ignore_ascii_case(name)) {
            if !first {
                out.push(',');
            }
            first = false;
            push_trimmed(&mut out, value);
        }
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&parts.signed_headers.join(";"));
    out.push('\n');
    out.push_str(parts.payload_hash);
    out
}

/// The string to sign: algorithm, request time, credential scope and the hex SHA-256 of the
/// canonical request, one per line.
pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    let mut out = String::with_capacity(ALGORITHM.len() + amz_date.len() + scope.len() + 67);
    let _ = write!(out, "{ALGORITHM}\n{amz_date}\n{scope}\n{}", hex(&Sha256::digest(canonical_request.as_bytes())));
    out
}
