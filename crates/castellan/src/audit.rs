//! The audit trail: one structured event per administrative call and per authorization decision,
//! to a sink the user chooses (a JSON-lines file by default).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;

use crate::error::IamError;

/// What an event records: a CloudTrail-like record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    /// When (ISO 8601, UTC).
    pub time: String,
    /// `call` for an API call (administrative or STS), `decision` for an authorization asked of
    /// [`crate::Iam::authorize`].
    pub kind: AuditKind,
    /// The caller's ARN (`None` for an unsigned call).
    pub principal: Option<String>,
    /// The caller's account.
    pub account: Option<String>,
    /// The access key the caller signed with, when it signed.
    pub access_key_id: Option<String>,
    /// The action (`iam:CreateUser`, `s3:GetObject`, ...).
    pub action: String,
    /// The resource.
    pub resource: String,
    /// The caller's source IP, when known.
    pub source_ip: Option<String>,
    /// `Allow`, `ExplicitDeny` or `ImplicitDeny`.
    pub decision: String,
    /// The error code when the call failed (`AccessDenied`, `NoSuchEntity`, ...).
    pub error_code: Option<String>,
}

/// An event's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditKind {
    /// An API call.
    Call,
    /// An authorization decision.
    Decision,
}

/// Where events go. A sink that fails to record makes the call fail with `ServiceFailure`
/// (nothing happens unrecorded).
pub trait AuditSink: Send + Sync {
    /// Records `event`.
    fn record(&self, event: &AuditEvent) -> Result<(), IamError>;
}

/// Appends each event as one JSON line to a file (created with mode 0600).
#[derive(Debug)]
pub struct JsonLinesSink {
    file: Mutex<File>,
}

impl JsonLinesSink {
    /// Opens `path` for appending.
    pub fn open(path: impl AsRef<Path>) -> Result<JsonLinesSink, IamError> {
        let path = path.as_ref();
        let mut options = OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options
            .open(path)
            .map_err(|e| IamError::service_failure(format!("cannot open the audit log {}: {e}", path.display())))?;
        Ok(JsonLinesSink { file: Mutex::new(file) })
    }
}

impl AuditSink for JsonLinesSink {
    fn record(&self, event: &AuditEvent) -> Result<(), IamError> {
        let mut line = serde_json::to_vec(event).map_err(|e| IamError::service_failure(e.to_string()))?;
        line.push(b'\n');
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        file.write_all(&line).map_err(|e| IamError::service_failure(format!("cannot write the audit log: {e}")))
    }
}

/// Keeps events in memory (tests, and callers that forward them elsewhere).
#[derive(Debug, Clone, Default)]
pub struct MemorySink {
    events: Arc<Mutex<Vec<AuditEvent>>>,
}

impl MemorySink {
    /// An empty sink.
    pub fn new() -> MemorySink {
        MemorySink::default()
    }

    /// The events recorded so far.
    pub fn events(&self) -> Vec<AuditEvent> {
        self.events.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl AuditSink for MemorySink {
    fn record(&self, event: &AuditEvent) -> Result<(), IamError> {
        self.events.lock().unwrap_or_else(PoisonError::into_inner).push(event.clone());
        Ok(())
    }
}

/// Records nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAudit;

impl AuditSink for NoAudit {
    fn record(&self, _: &AuditEvent) -> Result<(), IamError> {
        Ok(())
    }
}
