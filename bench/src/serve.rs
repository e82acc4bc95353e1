//! The `serve` section of the table printer: `castellan serve` driven over loopback by a load
//! generator that signs every request, side by side with moto's server on the same calls.
//!
//! Method: the server under test runs as its own process, as users run it — `castellan serve`
//! (the release build named by `CASTELLAN_BIN`) on a fresh data directory with its default
//! settings (durable store, audit log, one log line per request written to a file), and, when
//! `MOTO_SERVER` names moto's `moto_server`, moto on another port. Setup calls (made through the
//! same client) create a caller user with an access key and an inline policy, and a user the
//! decisions are about. Then, for each call, the generator opens [`CONNECTIONS`] HTTP/1.1
//! keep-alive connections and on each one sends requests back to back: every request is built
//! and signed anew (SigV4, the current time, the caller's key; the derived signing key cached
//! per connection, as some SDKs keep it), and its response
//! is read in full and checked (HTTP 200 and the field the call must return). The first
//! [`WARMUP`] is not counted; requests are counted over the next [`MEASURE`]; latency is from
//! the request's signing to its response's last byte. The generator runs in this process on a
//! tokio runtime of [`CLIENT_THREADS`] threads, so on a 2-core machine it shares the cores with
//! the server: the figures are for the whole loop, client included.
//!
//! Calls: STS `GetCallerIdentity` (authentication only), IAM `GetUser` (authentication, an
//! authorization of `iam:GetUser` against the caller's policies, a store read), and Castellan's
//! decision endpoint `POST /v1/authorize` (authentication, the `castellan:Authorize` check, and a
//! decision about another user against their policies). moto has no decision endpoint, so that
//! row is Castellan's alone.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use castellan_credentials::sigv4::{Payload, Request, SigningKeyCache, SigningParams, sign, uri_encode};
use castellan_credentials::{SecretString, UnixTime};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::Settings;

/// Concurrent connections, each with one request in flight.
const CONNECTIONS: usize = 64;
/// How long each call runs before requests are counted.
const WARMUP: Duration = Duration::from_secs(2);
/// How long requests are counted.
const MEASURE: Duration = Duration::from_secs(8);
/// The load generator's runtime threads.
const CLIENT_THREADS: usize = 1;

/// The caller's inline policy on Castellan.
const CALLER_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":["iam:GetUser","iam:ListUsers","castellan:Authorize"],"Resource":"*"}]}"#;

/// The policy of the user `/v1/authorize` decides about: an allow with a condition, a deny.
const SUBJECT_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[
 {"Sid":"Read","Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::team-data","arn:aws:s3:::team-data/*"],
  "Condition":{"StringEquals":{"aws:PrincipalTag/team":"payments"}}},
 {"Sid":"NoSecrets","Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::team-data/secret/*"}]}"#;

/// Long-term credentials.
#[derive(Clone)]
struct Credentials {
    access_key_id: String,
    secret: String,
}

/// One call the generator makes: what to send and what a good answer contains.
#[derive(Clone)]
struct Call {
    /// The credential scope's service.
    service: &'static str,
    /// The request target (`/` or `/v1/authorize`).
    path: &'static str,
    content_type: &'static str,
    body: Arc<str>,
    /// A string every good response body contains.
    expect: &'static str,
}

/// What one run of a call measured.
struct Load {
    per_second: f64,
    /// The server process's CPU time (user + system, all threads) per counted request, when
    /// it could be read; robust to other load on the machine, unlike requests per second.
    cpu_per_request: Option<Duration>,
    p50: Duration,
    p99: Duration,
    errors: u64,
}

/// A server process, stopped when dropped.
struct Process {
    child: Child,
    address: SocketAddr,
}

impl Drop for Process {
    fn drop(&mut self) {
        // SIGTERM first (a graceful shutdown), then make sure.
        let _ = Command::new("kill").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Prints the section's table.
pub(crate) fn serve(_: &Settings) {
    let castellan_bin = std::env::var_os("CASTELLAN_BIN").map(PathBuf::from).unwrap_or_else(|| {
        panic!("`serve` needs CASTELLAN_BIN: a release build of `castellan` (cargo xtask bench sets it)")
    });
    let moto_bin = std::env::var_os("MOTO_SERVER").map(PathBuf::from);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(CLIENT_THREADS)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("cannot start the load generator's runtime: {e}"));
    let work = std::env::temp_dir().join(format!("castellan-bench-serve-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap_or_else(|e| panic!("cannot create {}: {e}", work.display()));

    let castellan = start_castellan(&castellan_bin, &work);
    let castellan_calls = runtime.block_on(setup_castellan(castellan.address, &work));
    let mut rows: Vec<(&str, Load, Option<Load>)> = Vec::new();
    let moto = moto_bin.as_deref().map(|bin| start_moto(bin, &work));
    let moto_calls = moto.as_ref().map(|m| runtime.block_on(setup_moto(m.address)));

    let calls: [(&str, Pick); 3] = [
        ("STS GetCallerIdentity", |c| Some(&c.caller_identity)),
        ("IAM GetUser", |c| Some(&c.get_user)),
        ("POST /v1/authorize", |c| c.authorize.as_ref()),
    ];
    for (name, pick) in calls {
        let Some(call) = pick(&castellan_calls) else { continue };
        let ours = runtime.block_on(drive(&castellan, &castellan_calls.credentials, call));
        let theirs = match (&moto, &moto_calls) {
            (Some(m), Some(calls)) => pick(calls).map(|c| runtime.block_on(drive(m, &calls.credentials, c))),
            _ => None,
        };
        rows.push((name, ours, theirs));
    }
    drop(moto);
    drop(castellan);
    let _ = std::fs::remove_dir_all(&work);

    println!(
        "## serve: signed requests over loopback, {CONNECTIONS} connections, {} s counted after {} s warm-up",
        MEASURE.as_secs(),
        WARMUP.as_secs()
    );
    println!();
    println!(
        "Load generator on the same machine, in this process: a tokio runtime of {CLIENT_THREADS} thread(s), signing every request."
    );
    if moto_bin.is_none() {
        println!("moto was not measured (MOTO_SERVER unset).");
    }
    println!();
    println!(
        "| call | castellan req/s | p50 ms | p99 ms | server CPU µs/req | errors | moto req/s | p50 ms | p99 ms | server CPU µs/req | errors | req/s castellan / moto |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (name, ours, theirs) in &rows {
        let (moto_cells, ratio) = match theirs {
            Some(t) => (cells(t), format!("{:.0}x", ours.per_second / t.per_second.max(f64::MIN_POSITIVE))),
            None => ("— | — | — | — | —".to_owned(), "—".to_owned()),
        };
        println!("| {name} | {} | {moto_cells} | {ratio} |", cells(ours));
    }
    println!();
}

/// A run's cells: requests per second, p50, p99, CPU per request, errors.
fn cells(load: &Load) -> String {
    let cpu = load.cpu_per_request.map_or_else(|| "—".to_owned(), |c| format!("{:.0}", c.as_secs_f64() * 1e6));
    format!("{:.0} | {:.2} | {:.2} | {cpu} | {}", load.per_second, ms(load.p50), ms(load.p99), load.errors)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// A free loopback port (bound, read, released).
fn free_port() -> SocketAddr {
    let listener = StdListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("cannot bind loopback: {e}"));
    listener.local_addr().unwrap_or_else(|e| panic!("{e}"))
}

/// Waits until `address` accepts connections, or panics with the server's log.
fn wait_ready(process: &mut Child, address: SocketAddr, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(address).is_ok() {
            return;
        }
        if let Ok(Some(status)) = process.try_wait() {
            panic!("the server exited ({status}): {}", std::fs::read_to_string(log).unwrap_or_default());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the server did not listen on {address} within 60 s");
}

fn start_castellan(bin: &Path, work: &Path) -> Process {
    let address = free_port();
    let log = work.join("castellan.log");
    let log_file = std::fs::File::create(&log).unwrap_or_else(|e| panic!("{e}"));
    let mut child = Command::new(bin)
        .arg("serve")
        .arg("--listen")
        .arg(address.to_string())
        .arg("--data-dir")
        .arg(work.join("castellan-data"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_file)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    wait_ready(&mut child, address, &log);
    Process { child, address }
}

fn start_moto(bin: &Path, work: &Path) -> Process {
    let address = free_port();
    let log = work.join("moto.log");
    let log_file = std::fs::File::create(&log).unwrap_or_else(|e| panic!("{e}"));
    let mut child = Command::new(bin)
        .arg("-H")
        .arg("127.0.0.1")
        .arg("-p")
        .arg(address.port().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_file)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    wait_ready(&mut child, address, &log);
    Process { child, address }
}

/// Picks one of the calls (`None`: the server has no such call).
type Pick = fn(&Calls) -> Option<&Call>;

/// The calls, with the credentials that sign them.
struct Calls {
    credentials: Credentials,
    caller_identity: Call,
    get_user: Call,
    /// The decision endpoint (Castellan only).
    authorize: Option<Call>,
}

const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";

fn query_call(service: &'static str, body: String, expect: &'static str) -> Call {
    Call { service, path: "/", content_type: FORM, body: body.into(), expect }
}

/// Creates the caller (a user with an access key and an inline policy) and the subject user
/// as the bootstrap root user, and returns the calls.
async fn setup_castellan(address: SocketAddr, work: &Path) -> Calls {
    let root = root_credentials(&work.join("castellan-data").join("root-credentials"));
    let mut client = Client::connect(address).await;
    let admin = |body: &str| query_call("iam", format!("{body}&Version=2010-05-08"), "");
    client.expect_ok(&root, &admin("Action=CreateUser&UserName=bench-caller")).await;
    client
        .expect_ok(
            &root,
            &admin(&format!(
                "Action=PutUserPolicy&UserName=bench-caller&PolicyName=bench&PolicyDocument={}",
                uri_encode(CALLER_POLICY.as_bytes())
            )),
        )
        .await;
    let key = client.expect_ok(&root, &admin("Action=CreateAccessKey&UserName=bench-caller")).await;
    let credentials =
        Credentials { access_key_id: element(&key, "AccessKeyId"), secret: element(&key, "SecretAccessKey") };
    client
        .expect_ok(
            &root,
            &admin("Action=CreateUser&UserName=alice&Tags.member.1.Key=team&Tags.member.1.Value=payments"),
        )
        .await;
    client
        .expect_ok(
            &root,
            &admin(&format!(
                "Action=PutUserPolicy&UserName=alice&PolicyName=read&PolicyDocument={}",
                uri_encode(SUBJECT_POLICY.as_bytes())
            )),
        )
        .await;
    let user = client.expect_ok(&root, &admin("Action=GetUser&UserName=alice")).await;
    let alice = element(&user, "Arn");
    let decision = serde_json::json!({
        "principal": alice,
        "action": "s3:GetObject",
        "resource": "arn:aws:s3:::team-data/reports/2026.csv",
        "sourceIp": "10.0.0.7",
        "secureTransport": true,
    });
    Calls {
        credentials,
        caller_identity: query_call("sts", "Action=GetCallerIdentity&Version=2011-06-15".to_owned(), "<Arn>"),
        get_user: query_call("iam", "Action=GetUser&UserName=alice&Version=2010-05-08".to_owned(), "<UserId>"),
        authorize: Some(Call {
            service: "castellan",
            path: "/v1/authorize",
            content_type: "application/json",
            body: decision.to_string().into(),
            expect: "\"decision\":\"Allow\"",
        }),
    }
}

/// moto accepts any key; creates the user `GetUser` reads.
async fn setup_moto(address: SocketAddr) -> Calls {
    let credentials = Credentials {
        access_key_id: "AKIAIOSFODNN7EXAMPLE".to_owned(),
        secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_owned(),
    };
    let mut client = Client::connect(address).await;
    client
        .expect_ok(
            &credentials,
            &query_call("iam", "Action=CreateUser&UserName=alice&Version=2010-05-08".to_owned(), ""),
        )
        .await;
    Calls {
        credentials,
        caller_identity: query_call("sts", "Action=GetCallerIdentity&Version=2011-06-15".to_owned(), "<Arn>"),
        get_user: query_call("iam", "Action=GetUser&UserName=alice&Version=2010-05-08".to_owned(), "<UserId>"),
        authorize: None,
    }
}

/// Reads the `[default]` profile of a shared-credentials file.
fn root_credentials(path: &Path) -> Credentials {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut values = BTreeMap::new();
    let mut in_default = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_default = line == "[default]";
        } else if let (true, Some((name, value))) = (in_default, line.split_once('=')) {
            values.insert(name.trim().to_owned(), value.trim().to_owned());
        }
    }
    match (values.remove("aws_access_key_id"), values.remove("aws_secret_access_key")) {
        (Some(access_key_id), Some(secret)) => Credentials { access_key_id, secret },
        _ => panic!("{} has no [default] profile with a key", path.display()),
    }
}

/// The text of the first `<name>` element of an XML body.
fn element(xml: &str, name: &str) -> String {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    xml.split_once(&open)
        .and_then(|(_, rest)| rest.split_once(&close))
        .map(|(value, _)| value.to_owned())
        .unwrap_or_else(|| panic!("no <{name}> in {xml}"))
}

/// One keep-alive connection.
struct Client {
    sender: SendRequest<Full<Bytes>>,
    /// Derived signing keys, as SDKs that cache them keep (one per day, region and service).
    keys: Arc<SigningKeyCache>,
    address: SocketAddr,
    host: String,
}

impl Client {
    async fn connect(address: SocketAddr) -> Client {
        let stream = TcpStream::connect(address).await.unwrap_or_else(|e| panic!("cannot connect to {address}: {e}"));
        let _ = stream.set_nodelay(true);
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap_or_else(|e| panic!("HTTP handshake with {address}: {e}"));
        tokio::spawn(connection);
        Client { sender, keys: Arc::new(SigningKeyCache::new(16)), address, host: address.to_string() }
    }

    /// Signs `call` with `credentials` at the current time, sends it, and returns the status and
    /// the body.
    async fn send(&mut self, credentials: &Credentials, call: &Call) -> Result<(u16, String), String> {
        // A server that closes connections after each response (moto's) gets a new one, as any
        // client would open: its cost is part of the request's.
        if self.sender.ready().await.is_err() {
            let keys = Arc::clone(&self.keys);
            *self = Client::connect(self.address).await;
            self.keys = keys;
        }
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
        let params = SigningParams::new(
            credentials.access_key_id.as_str(),
            SecretString::from(credentials.secret.as_str()),
            "us-east-1",
            call.service,
            UnixTime::from_seconds(i64::try_from(now).unwrap_or(i64::MAX)),
        );
        let mut request = Request::new("POST", call.path, "")
            .header("host", self.host.as_str())
            .header("content-type", call.content_type)
            .body(call.body.as_bytes());
        sign(&mut request, &params, Some(&self.keys));
        let body = match request.payload {
            Payload::Bytes(bytes) => bytes,
            Payload::Hash(_) => Vec::new(),
        };
        let mut builder = hyper::Request::builder().method("POST").uri(call.path);
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let request = builder.body(Full::new(Bytes::from(body))).map_err(|e| e.to_string())?;
        let response = self.sender.send_request(request).await.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }

    /// Sends a setup call that must succeed; returns its body.
    async fn expect_ok(&mut self, credentials: &Credentials, call: &Call) -> String {
        match self.send(credentials, call).await {
            Ok((200, body)) => body,
            Ok((status, body)) => panic!("setup call {} answered {status}: {body}", call.body),
            Err(e) => panic!("setup call {} failed: {e}", call.body),
        }
    }
}

/// Runs `call` on [`CONNECTIONS`] connections to `address` for [`WARMUP`] + [`MEASURE`].
async fn drive(server: &Process, credentials: &Credentials, call: &Call) -> Load {
    let address = server.address;
    let start = Instant::now();
    let counted_from = start + WARMUP;
    let until = counted_from + MEASURE;
    let pid = server.child.id();
    let cpu = tokio::spawn(async move {
        tokio::time::sleep_until(counted_from.into()).await;
        let before = cpu_time(pid);
        tokio::time::sleep_until(until.into()).await;
        Some(cpu_time(pid)? - before?)
    });
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CONNECTIONS {
        let credentials = credentials.clone();
        let call = call.clone();
        tasks.spawn(async move {
            let mut client = Client::connect(address).await;
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            loop {
                let sent = Instant::now();
                if sent >= until {
                    break;
                }
                let good = match client.send(&credentials, &call).await {
                    Ok((200, body)) => body.contains(call.expect),
                    Ok(_) => false,
                    Err(_) => {
                        // The connection is gone: count it and open another.
                        client = Client::connect(address).await;
                        false
                    }
                };
                let done = Instant::now();
                if sent >= counted_from && done <= until {
                    if good {
                        latencies.push(done - sent);
                    } else {
                        errors += 1;
                    }
                }
            }
            (latencies, errors)
        });
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    while let Some(joined) = tasks.join_next().await {
        let (mut l, e) = joined.unwrap_or_else(|e| panic!("a connection task failed: {e}"));
        latencies.append(&mut l);
        errors += e;
    }
    let cpu = cpu.await.ok().flatten();
    latencies.sort();
    let at = |q: f64| {
        let index = ((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1));
        latencies.get(index).copied().unwrap_or_default()
    };
    let count = u32::try_from(latencies.len()).unwrap_or(u32::MAX).max(1);
    Load {
        per_second: latencies.len() as f64 / MEASURE.as_secs_f64(),
        cpu_per_request: cpu.map(|c| c / count),
        p50: at(0.50),
        p99: at(0.99),
        errors,
    }
}

/// A process's CPU time so far (user + system, all its threads), from `/proc` (Linux; `None`
/// elsewhere). The kernel counts in ticks of 1/100 s.
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let (_, rest) = stat.rsplit_once(')')?;
    let mut fields = rest.split_whitespace();
    // state is field 3; utime and stime are fields 14 and 15.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}
