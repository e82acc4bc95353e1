//! The request model SigV4 works on, independent of any HTTP library, and a reader of the raw
//! HTTP/1.1 text the SigV4 test suite's `.req` and `.sreq` files hold.

use std::fmt;

use sha2::{Digest, Sha256};

use super::canonical::percent_decode;
use super::hex;

/// An HTTP request as SigV4 sees it: the method, the raw target split at the first `?`, the
/// headers in the order received (duplicates allowed) and the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method, as sent (`GET`, `POST`, ...).
    pub method: String,
    /// The path as it appeared on the request line: raw, possibly percent-encoded, not
    /// normalised.
    pub path: String,
    /// The query string as it appeared on the request line, without the `?`.
    pub query: String,
    /// Header names and values in order; a name may repeat.
    pub headers: Vec<(String, String)>,
    /// The body, or only its hash.
    pub payload: Payload,
}

/// The payload of a request: the bytes, or a hash a caller computed (or a marker such as
/// `UNSIGNED-PAYLOAD`) when the body is streamed and not held in memory.
#[derive(Clone, PartialEq, Eq)]
pub enum Payload {
    /// The body itself.
    Bytes(Vec<u8>),
    /// The lowercase hex SHA-256 of the body, or a payload marker.
    Hash(String),
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Payload::Bytes(bytes) => write!(f, "Bytes({} bytes)", bytes.len()),
            Payload::Hash(hash) => f.debug_tuple("Hash").field(hash).finish(),
        }
    }
}

impl Payload {
    /// The value that goes on the last line of the canonical request.
    pub fn hash(&self) -> String {
        match self {
            Payload::Bytes(bytes) => hex(&Sha256::digest(bytes)),
            Payload::Hash(hash) => hash.clone(),
        }
    }
}

impl Request {
    /// A request with no headers and an empty body.
    pub fn new(method: impl Into<String>, path: impl Into<String>, query: impl Into<String>) -> Request {
        Request {
            method: method.into(),
            path: path.into(),
            query: query.into(),
            headers: Vec::new(),
            payload: Payload::Bytes(Vec::new()),
        }
    }

    /// Adds a header (keeping any earlier one of the same name).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Request {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Request {
        self.payload = Payload::Bytes(body.into());
        self
    }

    /// The values of a header (names compare without regard to case), in order.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers.iter().filter(move |(n, _)| n.trim().eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The query's parameters, names and values percent-decoded (lossily to UTF-8), in order.
    pub fn query_params(&self) -> Vec<(String, String)> {
        self.query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|param| {
                let (name, value) = param.split_once('=').unwrap_or((param, ""));
                (
                    String::from_utf8_lossy(&percent_decode(name)).into_owned(),
                    String::from_utf8_lossy(&percent_decode(value)).into_owned(),
                )
            })
            .collect()
    }

    /// The first query parameter named `name` (compared after decoding), decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query_params().into_iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The first value of a header, trimmed.
    pub fn first_header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.trim().eq_ignore_ascii_case(name)).map(|(_, v)| v.trim())
    }

    /// Replaces every header of this name by one header with this value (added at the end
    /// when the request had none).
    pub fn set_header(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        let mut found = false;
        self.headers.retain_mut(|(n, v)| {
            if !n.eq_ignore_ascii_case(name) {
                return true;
            }
            if found {
                return false;
            }
            found = true;
            *v = value.clone();
            true
        });
        if !found {
            self.headers.push((name.to_owned(), value));
        }
    }

    /// The request target: the path, then `?` and the query when there is one.
    pub fn target(&self) -> String {
        if self.query.is_empty() { self.path.clone() } else { format!("{}?{}", self.path, self.query) }
    }

    /// Reads the raw HTTP/1.1 text of a request: a request line `METHOD TARGET HTTP/1.1` (the
    /// target may hold spaces, as in the suite's `get-space`), header lines `Name:value`, a
    /// blank line, and the body. Lines end with LF or CRLF; the last header line may end the
    /// input without a newline.
    ///
    /// A line that starts with a space or tab continues the previous header; as the SigV4 test
    /// suite expects (`get-header-value-multiline`), each continuation line becomes one more
    /// comma-separated value of that header.
    pub fn parse_raw(bytes: &[u8]) -> Result<Request, RawRequestError> {
        let (head, body) = split_head(bytes);
        let head = std::str::from_utf8(head).map_err(|_| RawRequestError::NotUtf8)?;
        let mut lines = head.split('\n').map(|line| line.strip_suffix('\r').unwrap_or(line));
        let request_line = lines.next().unwrap_or_default();
        let (method, rest) = request_line.split_once(' ').ok_or(RawRequestError::RequestLine)?;
        let (target, version) = rest.rsplit_once(' ').ok_or(RawRequestError::RequestLine)?;
        if method.is_empty() || target.is_empty() || !version.starts_with("HTTP/") {
            return Err(RawRequestError::RequestLine);
        }
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let mut headers: Vec<(String, String)> = Vec::new();
        for (index, line) in lines.enumerate() {
            if line.is_empty() {
                // Only the end of the input can give an empty line here (a final newline).
                continue;
            }
            if line.starts_with([' ', '\t']) {
                let (_, value) = headers.last_mut().ok_or(RawRequestError::Header { line: index + 2 })?;
                value.push(',');
                value.push_str(line.trim());
                continue;
            }
            let (name, value) = line.split_once(':').ok_or(RawRequestError::Header { line: index + 2 })?;
            if name.is_empty() || !name.bytes().all(is_token_byte) {
                return Err(RawRequestError::Header { line: index + 2 });
            }
            headers.push((name.to_owned(), value.to_owned()));
        }
        Ok(Request {
            method: method.to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
            headers,
            payload: Payload::Bytes(body.to_vec()),
        })
    }
}

/// Whether a byte may appear in a header name (an RFC 9110 `tchar`).
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Splits raw request text at the first empty line: (request line and headers, body).
fn split_head(bytes: &[u8]) -> (&[u8], &[u8]) {
    let mut start = 0;
    while start < bytes.len() {
        let rest = bytes.get(start..).unwrap_or_default();
        let end = rest.iter().position(|&b| b == b'\n').map_or(bytes.len(), |p| start + p);
        let line = bytes.get(start..end).unwrap_or_default();
        if start > 0 && (line.is_empty() || line == b"\r") {
            let head = bytes.get(..start.saturating_sub(1)).unwrap_or_default();
            let head = head.strip_suffix(b"\r").unwrap_or(head);
            return (head, bytes.get(end.saturating_add(1)..).unwrap_or_default());
        }
        start = end.saturating_add(1);
    }
    (bytes, &[])
}

/// Why raw request text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RawRequestError {
    /// The request line and headers are not UTF-8.
    #[error("the request line and headers are not UTF-8")]
    NotUtf8,
    /// The first line is not `METHOD TARGET HTTP/x`.
    #[error("the request line is not `METHOD TARGET HTTP/version`")]
    RequestLine,
    /// A header line has no `:`, a name that is empty or not an HTTP token, or continues
    /// nothing.
    #[error("line {line}: not a header")]
    Header {
        /// The 1-based line number.
        line: usize,
    },
}
