//! Castellan's HTTP server: IAM (Query protocol, 2010-05-08), STS (Query, 2011-06-15) and AWS
//! Organizations (JSON 1.1) on one endpoint, so that the AWS CLI and SDKs work against Castellan
//! with nothing changed but `--endpoint-url`.
//!
//! The server adds no access-control logic of its own: every request goes through
//! [`Iam::authenticate`] (SigV4, header or presigned, long-term keys or session tokens) and then
//! one facade call, which authorizes and audits. What it does own is the wire: reading
//! form-encoded and JSON requests, telling the three services apart (the credential scope's
//! service, and `X-Amz-Target` for Organizations), and writing responses and errors in the exact
//! shapes of the services' API models, which SDKs parse strictly.
//!
//! Beside the AWS APIs it serves Castellan's own JSON endpoints (`pdp`): `POST /v1/authorize`,
//! the decision endpoint for services that use Castellan as their policy decision point
//! (`docs/authorize.md`), and two test-only paths: `POST /_castellan/clock`, only when
//! [`Server::with_clock_control`] enables it, and `POST /_castellan/reset`, only when the facade
//! was opened with test resets (`IamBuilder::test_reset`).
//!
//! Request flow: [`Server::serve`] accepts connections (HTTP/1.1, keep-alive) → the body is read
//! with a size limit and a timeout → reads are answered on the runtime's worker, and calls
//! that may write (and so wait on the durable store's fsync) run on tokio's blocking pool (see
//! `reads_only`) → `pdp` (by path), `query` (IAM and STS) or `org`
//! (Organizations) dispatches the action and writes the response → one `tracing` line per
//! request (service, action, status, latency).

mod iam_more;
mod iam_ops;
mod iam_reports;
mod org;
mod params;
mod partition;
mod pdp;
mod query;
mod sts_ops;
mod test_reset;
mod wire;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use castellan::Iam;
use castellan::credentials::sigv4::{Payload, Request as SignedRequest};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

pub use pdp::{AUTHORIZE_ACTION, OffsetClock, SERVICE};

/// The largest request body accepted by default (1 MiB); larger is `413`.
pub const DEFAULT_MAX_BODY: usize = 1 << 20;
/// How long a client may take to send a request's head or body by default.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The server's limits.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The largest request body, in bytes.
    pub max_body: usize,
    /// How long a client may take to send a request's head, and then its body.
    pub read_timeout: Duration,
    /// How long a graceful shutdown waits for requests in flight.
    pub shutdown_grace: Duration,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            max_body: DEFAULT_MAX_BODY,
            read_timeout: DEFAULT_READ_TIMEOUT,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// The IAM, STS and Organizations endpoint over one [`Iam`].
#[derive(Debug, Clone)]
pub struct Server {
    iam: Arc<Iam>,
    config: Arc<ServerConfig>,
    /// The facade's clock when tests may move it (`POST /_castellan/clock`); `None`: the path
    /// answers 404.
    clock_control: Option<Arc<OffsetClock>>,
}

/// What processing a request produced, before it becomes an HTTP response.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) content_type: &'static str,
    pub(crate) body: String,
    /// For the log: the service and the action.
    pub(crate) service: &'static str,
    pub(crate) action: String,
    pub(crate) error_code: Option<String>,
}

impl Server {
    /// A server over `iam` with `config`.
    pub fn new(iam: Arc<Iam>, config: ServerConfig) -> Server {
        Server { iam, config: Arc::new(config), clock_control: None }
    }

    /// Enables `POST /_castellan/clock`, which moves `clock` forward: `clock` must be the clock
    /// `iam` was opened with. Signatures are then checked against the clock's inner (real)
    /// time, so that clients signing with the real time keep working after a move. For tests
    /// only: loopback callers signed by the bootstrap account's root user may use it.
    pub fn with_clock_control(mut self, clock: Arc<OffsetClock>) -> Server {
        self.clock_control = Some(clock);
        self
    }

    /// Serves connections from `listener` until `shutdown` completes; then stops accepting,
    /// lets requests in flight finish (up to [`ServerConfig::shutdown_grace`]) and returns.
    /// Every write the facade acknowledged is already durable when its response is sent.
    pub async fn serve(self, listener: TcpListener, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut connections = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => {
                    let (stream, peer) = match accepted {
                        Ok(pair) => pair,
                        Err(e) => {
                            // Running out of file descriptors and the like: log, pause, go on.
                            tracing::warn!(error = %e, "accept failed");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    let _ = stream.set_nodelay(true);
                    let server = self.clone();
                    let read_timeout = self.config.read_timeout;
                    let mut stop = stop_rx.clone();
                    connections.spawn(async move {
                        let service = service_fn(move |request| {
                            let server = server.clone();
                            async move { Ok::<_, Infallible>(server.handle(request, peer).await) }
                        });
                        let connection = hyper::server::conn::http1::Builder::new()
                            .timer(TokioTimer::new())
                            .header_read_timeout(read_timeout)
                            .keep_alive(true)
                            .serve_connection(TokioIo::new(stream), service);
                        tokio::pin!(connection);
                        tokio::select! {
                            result = &mut connection => log_connection_end(result),
                            () = stopped(&mut stop) => {
                                connection.as_mut().graceful_shutdown();
                                log_connection_end(connection.await);
                            }
                        }
                    });
                }
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
        let _ = stop_tx.send(true);
        let drain = async { while connections.join_next().await.is_some() {} };
        if tokio::time::timeout(self.config.shutdown_grace, drain).await.is_err() {
            tracing::warn!("shutdown: connections still open after the grace period were closed");
            connections.abort_all();
        }
        Ok(())
    }

    /// Answers one HTTP request.
    async fn handle(&self, request: Request<Incoming>, peer: SocketAddr) -> Response<Full<Bytes>> {
        let started = Instant::now();
        let request_id = wire::request_id();
        let reply = match self.read(request).await {
            Ok(signed) => {
                if reads_only(&signed) {
                    // Nothing to wait for: answered on this worker, without a thread hop.
                    process(&self.iam, self.clock_control.as_deref(), &signed, peer, &request_id)
                } else {
                    let iam = Arc::clone(&self.iam);
                    let clock = self.clock_control.clone();
                    let id = request_id.clone();
                    match tokio::task::spawn_blocking(move || process(&iam, clock.as_deref(), &signed, peer, &id)).await
                    {
                        Ok(reply) => reply,
                        Err(_) => query::error_reply(
                            "iam",
                            "",
                            &castellan::IamError::new("InternalFailure", 500, "internal failure"),
                            &request_id,
                        ),
                    }
                }
            }
            Err(reply) => *reply,
        };
        let latency = started.elapsed();
        tracing::info!(
            target: "castellan_server::request",
            request_id = %request_id,
            peer = %peer,
            service = reply.service,
            action = %reply.action,
            status = reply.status,
            error = reply.error_code.as_deref().unwrap_or(""),
            latency_us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
            "request"
        );
        let mut response = Response::new(Full::new(Bytes::from(reply.body)));
        *response.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(reply.content_type));
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            response.headers_mut().insert("x-amzn-requestid", value);
        }
        response
    }

    /// Reads the whole request (within the size limit and the read timeout) into the model SigV4
    /// verifies.
    async fn read(&self, request: Request<Incoming>) -> Result<SignedRequest, Box<Reply>> {
        let too_large = || {
            Box::new(query::error_reply(
                "iam",
                "",
                &castellan::IamError::new(
                    "RequestEntityTooLarge",
                    413,
                    format!("Request body exceeds the limit of {} bytes", self.config.max_body),
                ),
                &wire::request_id(),
            ))
        };
        let declared = request
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.config.max_body as u64) {
            return Err(too_large());
        }
        let (parts, body) = request.into_parts();
        let collected =
            tokio::time::timeout(self.config.read_timeout, Limited::new(body, self.config.max_body).collect());
        let body = match collected.await {
            Ok(Ok(body)) => body.to_bytes(),
            Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => return Err(too_large()),
            Ok(Err(_)) => {
                return Err(Box::new(query::error_reply(
                    "iam",
                    "",
                    &castellan::IamError::new("MalformedQueryString", 400, "the request body could not be read"),
                    &wire::request_id(),
                )));
            }
            Err(_) => {
                return Err(Box::new(query::error_reply(
                    "iam",
                    "",
                    &castellan::IamError::new("RequestTimeout", 408, "the request body was not received in time"),
                    &wire::request_id(),
                )));
            }
        };
        let (path, query) = match parts.uri.path_and_query() {
            Some(pq) => (pq.path().to_owned(), pq.query().unwrap_or_default().to_owned()),
            None => ("/".to_owned(), String::new()),
        };
        let headers = parts
            .headers
            .iter()
            .map(|(name, value)| (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
            .collect();
        Ok(SignedRequest {
            method: parts.method.as_str().to_owned(),
            path,
            query,
            headers,
            payload: Payload::Bytes(body.to_vec()),
        })
    }
}

/// Whether a request only reads — the store's published snapshot and the facade's in-memory
/// caches — so that it can be answered on the runtime's worker thread. Anything that may write
/// to the store (and wait for its fsync), hash a password or check an MFA code (which records
/// the code as used) runs on tokio's blocking pool instead. The audit record every request
/// writes is an append to a file, not synced, and is made on either.
fn reads_only(request: &SignedRequest) -> bool {
    if request.path == pdp::AUTHORIZE_PATH {
        return true;
    }
    if request.path != "/" {
        // Castellan's own paths (the test-only clock and reset among them).
        return false;
    }
    if let Some(target) = request.first_header("x-amz-target") {
        return target
            .strip_prefix(org::TARGET_PREFIX)
            .is_some_and(|action| action.starts_with("Describe") || action.starts_with("List"));
    }
    let body = match &request.payload {
        Payload::Bytes(bytes) if is_form(request) => bytes.as_slice(),
        _ => &[],
    };
    let action = request
        .query
        .as_bytes()
        .split(|&b| b == b'&')
        .chain(body.split(|&b| b == b'&'))
        .find_map(|pair| pair.strip_prefix(b"Action="));
    match action {
        // STS calls that issue tokens may check an MFA code.
        Some(b"GetSessionToken" | b"GetFederationToken") | None => false,
        Some(action) => [b"Get".as_slice(), b"List", b"Simulate"].iter().any(|prefix| action.starts_with(prefix)),
    }
}

/// Whether the request's body is a form (the Query protocol's POST).
pub(crate) fn is_form(request: &SignedRequest) -> bool {
    request
        .first_header("content-type")
        .is_none_or(|ct| ct.get(..33).is_some_and(|p| p.eq_ignore_ascii_case("application/x-www-form-urlencoded")))
}

/// Completes when the server is told to stop.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    loop {
        let stop_now = *stop.borrow_and_update();
        if stop_now || stop.changed().await.is_err() {
            return;
        }
    }
}

fn log_connection_end(result: Result<(), hyper::Error>) {
    if let Err(e) = result {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}

/// Processes a request read in full: Castellan's own JSON endpoints by path, Organizations
/// when `X-Amz-Target` names it, the Query protocol (IAM or STS) otherwise.
fn process(
    iam: &Iam,
    clock: Option<&OffsetClock>,
    request: &SignedRequest,
    peer: SocketAddr,
    request_id: &str,
) -> Reply {
    let signing_clock = clock.map(|c| c.inner().as_ref());
    match request.path.as_str() {
        pdp::AUTHORIZE_PATH => return pdp::authorize(iam, request, peer, signing_clock),
        pdp::CLOCK_PATH => return pdp::clock(iam, request, peer, clock),
        test_reset::RESET_PATH => return test_reset::reset(iam, request, peer),
        _ => {}
    }
    match request.first_header("x-amz-target") {
        Some(target) if target.starts_with(org::TARGET_PREFIX) => {
            org::process(iam, request, peer, request_id, signing_clock)
        }
        _ => query::process(iam, request, peer, request_id, signing_clock),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(body: &str) -> SignedRequest {
        SignedRequest::new("POST", "/", "")
            .header("content-type", "application/x-www-form-urlencoded; charset=utf-8")
            .body(body.as_bytes())
    }

    #[test]
    fn only_reads_skip_the_blocking_pool() {
        assert!(reads_only(&query("Action=GetUser&UserName=a&Version=2010-05-08")));
        assert!(reads_only(&query("Version=2011-06-15&Action=GetCallerIdentity")));
        assert!(reads_only(&query("Action=SimulatePrincipalPolicy&Version=2010-05-08")));
        assert!(reads_only(&SignedRequest::new("GET", "/", "Action=ListUsers&Version=2010-05-08")));
        assert!(!reads_only(&query("Action=CreateUser&UserName=a&Version=2010-05-08")));
        assert!(!reads_only(&query("Action=ChangePassword&Version=2010-05-08")));
        // Token-issuing calls may check an MFA code, which records the code as used.
        assert!(!reads_only(&query("Action=GetSessionToken&Version=2011-06-15")));
        assert!(!reads_only(&query("Action=GetFederationToken&Name=f&Version=2011-06-15")));
        assert!(!reads_only(&query("Version=2010-05-08")));
        // A JSON body is not read for a form's `Action`.
        let json =
            SignedRequest::new("POST", "/", "").header("content-type", "application/json").body("Action=GetUser");
        assert!(!reads_only(&json));
        assert!(reads_only(&SignedRequest::new("POST", pdp::AUTHORIZE_PATH, "")));
        assert!(!reads_only(&SignedRequest::new("POST", pdp::CLOCK_PATH, "")));
        let reset = SignedRequest::new("POST", test_reset::RESET_PATH, "")
            .header("x-amz-target", format!("{}ListAccounts", org::TARGET_PREFIX));
        assert!(!reads_only(&reset));
        let org = |action: &str| {
            SignedRequest::new("POST", "/", "").header("x-amz-target", format!("{}{action}", org::TARGET_PREFIX))
        };
        assert!(reads_only(&org("ListAccounts")));
        assert!(reads_only(&org("DescribeOrganization")));
        assert!(!reads_only(&org("CreateAccount")));
        assert!(!reads_only(&org("AttachPolicy")));
    }
}
