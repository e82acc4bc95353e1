//! The server over a real loopback TCP connection: SigV4-signed requests in, the XML and JSON
//! of the services' API models out, and every error path (unsigned, bad signature, unknown key,
//! unknown action, access denied, missing entity, oversized body, malformed input).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use castellan::Iam;
use castellan::credentials::sigv4::{Payload, Request as SignedRequest, SigningParams, presign, sign};
use castellan::credentials::{FixedClock, MfaSeed, SecretString, UnixTime};
use castellan_server::{Server, ServerConfig};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// 2026-01-01T00:00:00Z: the fake clock's start, which signing uses too.
const START: i64 = 1_767_225_600;

struct Harness {
    addr: SocketAddr,
    clock: Arc<FixedClock>,
    key: (String, SecretString),
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

struct Reply {
    status: u16,
    content_type: String,
    body: String,
}

impl Reply {
    /// The text of the first `<tag>` element.
    fn field(&self, tag: &str) -> Option<String> {
        let open = format!("<{tag}>");
        let start = self.body.find(&open)? + open.len();
        let end = self.body[start..].find(&format!("</{tag}>"))? + start;
        Some(self.body[start..end].to_owned())
    }

    fn code(&self) -> Option<String> {
        self.field("Code")
    }
}

async fn start_with(config: ServerConfig) -> Harness {
    let clock = Arc::new(FixedClock::new(START));
    let iam = Iam::builder()
        .seed(7)
        .account_id("111122223333")
        .clock(clock.clone())
        .password_hash_iterations(1)
        .open()
        .unwrap();
    let root = iam.root_credentials().unwrap().clone();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let server = Server::new(Arc::new(iam), config);
    let task = tokio::spawn(server.serve(listener, async move {
        let _ = rx.await;
    }));
    Harness { addr, clock, key: (root.access_key_id, root.secret_access_key), stop: Some(tx), task: Some(task) }
}

async fn start() -> Harness {
    start_with(ServerConfig::default()).await
}

impl Harness {
    fn now(&self) -> UnixTime {
        UnixTime::from_seconds(START.max(self.clock_seconds()))
    }

    fn clock_seconds(&self) -> i64 {
        use castellan::credentials::Clock;
        self.clock.now().seconds
    }

    fn params(&self, service: &str, key: &(String, SecretString)) -> SigningParams {
        SigningParams::new(key.0.clone(), key.1.clone(), "us-east-1", service, self.now())
    }

    /// A form-encoded POST of `body`, unsigned.
    fn form(&self, body: &str) -> SignedRequest {
        SignedRequest::new("POST", "/", "")
            .header("host", self.addr.to_string())
            .header("content-type", "application/x-www-form-urlencoded; charset=utf-8")
            .body(body.as_bytes().to_vec())
    }

    /// `body` signed for `service` with the root key.
    async fn call(&self, service: &str, body: &str) -> Reply {
        self.call_as(service, body, &self.key.clone(), None).await
    }

    async fn call_as(&self, service: &str, body: &str, key: &(String, SecretString), token: Option<&str>) -> Reply {
        let mut request = self.form(body);
        let mut params = self.params(service, key);
        if let Some(token) = token {
            params = params.session_token(SecretString::new(token));
        }
        sign(&mut request, &params, None);
        send(self.addr, &request).await
    }

    async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(10), task).await.unwrap().unwrap().unwrap();
        }
    }
}

/// Sends one request on a new connection.
async fn send(addr: SocketAddr, request: &SignedRequest) -> Reply {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.unwrap();
    tokio::spawn(connection);
    send_on(&mut sender, request).await
}

async fn send_on(sender: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>, request: &SignedRequest) -> Reply {
    let body = match &request.payload {
        Payload::Bytes(b) => b.clone(),
        Payload::Hash(_) => Vec::new(),
    };
    let target = request.target();
    let mut builder = hyper::Request::builder().method(request.method.as_str()).uri(target);
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let response = sender.send_request(builder.body(Full::new(Bytes::from(body))).unwrap()).await.unwrap();
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Reply { status, content_type, body: String::from_utf8(body.to_vec()).unwrap() }
}

fn enc(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn pct_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn base64_decode(text: &str) -> Vec<u8> {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in text.bytes().filter(|c| *c != b'=') {
        bits = (bits << 6) | A.iter().position(|a| *a == c).unwrap() as u32;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    out
}

const TRUST_ANYONE_IN_ACCOUNT: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":["sts:AssumeRole","sts:TagSession"]}]}"#;

#[tokio::test]
async fn get_caller_identity_as_root_answers_in_the_sts_shape() {
    let h = start().await;
    let r = h.call("sts", "Action=GetCallerIdentity&Version=2011-06-15").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.content_type, "text/xml");
    assert!(r.body.contains(r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">"#));
    assert!(r.body.contains("<GetCallerIdentityResult>"));
    assert_eq!(r.field("Arn").as_deref(), Some("arn:aws:iam::111122223333:root"));
    assert_eq!(r.field("Account").as_deref(), Some("111122223333"));
    assert_eq!(r.field("RequestId").map(|id| id.len()), Some(36));
    h.stop().await;
}

#[tokio::test]
async fn users_are_created_read_listed_and_paginated() {
    let h = start().await;
    let r = h
        .call("iam", "Action=CreateUser&Version=2010-05-08&UserName=alice&Path=%2Fteam%2F&Tags.member.1.Key=k&Tags.member.1.Value=v%3Dx")
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains(r#"<CreateUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">"#));
    assert_eq!(r.field("UserName").as_deref(), Some("alice"));
    assert_eq!(r.field("Path").as_deref(), Some("/team/"));
    assert_eq!(r.field("Arn").as_deref(), Some("arn:aws:iam::111122223333:user/team/alice"));
    assert_eq!(r.field("CreateDate").as_deref(), Some("2026-01-01T00:00:00.000Z"));
    assert_eq!(r.field("Value").as_deref(), Some("v=x"));
    for name in ["bob", "carol"] {
        assert_eq!(h.call("iam", &format!("Action=CreateUser&UserName={name}")).await.status, 200);
    }
    let r = h.call("iam", "Action=GetUser&UserName=alice").await;
    assert_eq!(r.field("UserId").map(|id| id.starts_with("AIDA")), Some(true));
    let page1 = h.call("iam", "Action=ListUsers&MaxItems=2").await;
    assert_eq!(page1.field("IsTruncated").as_deref(), Some("true"), "{}", page1.body);
    let marker = page1.field("Marker").unwrap();
    assert_eq!(page1.body.matches("<member>").count(), 2);
    let page2 = h.call("iam", &format!("Action=ListUsers&MaxItems=2&Marker={}", enc(&marker))).await;
    assert_eq!(page2.field("IsTruncated").as_deref(), Some("false"));
    assert_eq!(page2.body.matches("<member>").count(), 1);
    assert!(page2.field("Marker").is_none());
    h.stop().await;
}

#[tokio::test]
async fn get_user_without_a_name_is_the_root_user_for_root() {
    let h = start().await;
    let r = h.call("iam", "Action=GetUser").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.field("Arn").as_deref(), Some("arn:aws:iam::111122223333:root"));
    assert_eq!(r.field("UserId").as_deref(), Some("111122223333"));
    h.stop().await;
}

#[tokio::test]
async fn errors_have_aws_codes_statuses_and_shape() {
    let h = start().await;
    assert_eq!(h.call("iam", "Action=CreateUser&UserName=dup").await.status, 200);
    let r = h.call("iam", "Action=CreateUser&UserName=dup").await;
    assert_eq!((r.status, r.code().as_deref()), (409, Some("EntityAlreadyExists")));
    assert!(
        r.body
            .contains(r#"<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type>"#)
    );
    assert!(r.field("RequestId").is_some());
    let r = h.call("iam", "Action=GetUser&UserName=nobody").await;
    assert_eq!((r.status, r.code().as_deref()), (404, Some("NoSuchEntity")));
    let r = h.call("iam", "Action=FlyToTheMoon").await;
    assert_eq!((r.status, r.code().as_deref()), (400, Some("InvalidAction")));
    let r = h.call("iam", "Version=2010-05-08").await;
    assert_eq!((r.status, r.code().as_deref()), (400, Some("MissingAction")));
    let r = h.call("iam", "Action=CreateUser").await;
    assert_eq!((r.status, r.code().as_deref()), (400, Some("ValidationError")));
    let r = h.call("iam", "Action=ListUsers&MaxItems=5000").await;
    assert_eq!((r.status, r.code().as_deref()), (400, Some("ValidationError")));
    let r = h.call("iam", "Action=CreatePolicy&PolicyName=p&PolicyDocument=%7Bnot+json").await;
    assert_eq!((r.status, r.code().as_deref()), (400, Some("MalformedPolicyDocument")));
    let r = h.call("sts", "Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Fnone").await;
    assert_eq!((r.status, r.code().as_deref()), (400, Some("ValidationError")));
    assert!(r.body.contains("https://sts.amazonaws.com/doc/2011-06-15/"));
    h.stop().await;
}

#[tokio::test]
async fn unsigned_requests_are_refused() {
    let h = start().await;
    let r = send(h.addr, &h.form("Action=ListUsers&Version=2010-05-08")).await;
    assert_eq!((r.status, r.code().as_deref()), (403, Some("MissingAuthenticationToken")));
    // AssumeRoleWithWebIdentity needs no signature: it gets as far as checking its token.
    let r = send(
        h.addr,
        &h.form("Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Fweb&RoleSessionName=s&WebIdentityToken=not.a.jwt"),
    )
    .await;
    assert_ne!(r.code().as_deref(), Some("MissingAuthenticationToken"), "{}", r.body);
    assert!(r.status >= 400);
    // Nor does AssumeRoleWithSAML, which is not served: said so, not a demand for a signature.
    let r = send(
        h.addr,
        &h.form("Action=AssumeRoleWithSAML&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Fsaml&PrincipalArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Asaml-provider%2Fidp&SAMLAssertion=PHNhbWw%2B"),
    )
    .await;
    assert_eq!((r.status, r.code().as_deref()), (400, Some("InvalidAction")), "{}", r.body);
    h.stop().await;
}

#[tokio::test]
async fn bad_signatures_and_unknown_keys_are_refused() {
    let h = start().await;
    let wrong_secret = (h.key.0.clone(), SecretString::new("not-the-secret"));
    let r = h.call_as("iam", "Action=ListUsers", &wrong_secret, None).await;
    assert_eq!((r.status, r.code().as_deref()), (403, Some("SignatureDoesNotMatch")));
    let unknown = ("AKIAAAAAAAAAAAAAAAAA".to_owned(), SecretString::new("x"));
    let r = h.call_as("iam", "Action=ListUsers", &unknown, None).await;
    assert_eq!((r.status, r.code().as_deref()), (403, Some("InvalidClientTokenId")));
    // A body changed after signing.
    let mut request = h.form("Action=ListUsers");
    sign(&mut request, &h.params("iam", &h.key), None);
    let request = request.body(b"Action=DeleteUser&UserName=x".to_vec());
    let r = send(h.addr, &request).await;
    assert_eq!((r.status, r.code().as_deref()), (403, Some("SignatureDoesNotMatch")));
    // Signed for a service this endpoint does not serve.
    let r = h.call("s3", "Action=ListUsers").await;
    assert_eq!(r.status, 400);
    h.stop().await;
}

#[tokio::test]
async fn presigned_get_requests_authenticate() {
    let h = start().await;
    let mut request = SignedRequest::new("GET", "/", "Action=GetCallerIdentity&Version=2011-06-15")
        .header("host", h.addr.to_string());
    presign(&mut request, &h.params("sts", &h.key), 300, None);
    let r = send(h.addr, &request).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.field("Account").as_deref(), Some("111122223333"));
    h.stop().await;
}

#[tokio::test]
async fn a_user_without_permissions_is_denied_and_may_see_itself() {
    let h = start().await;
    h.call("iam", "Action=CreateUser&UserName=dave").await;
    let r = h.call("iam", "Action=CreateAccessKey&UserName=dave").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.field("Status").as_deref(), Some("Active"));
    let dave = (r.field("AccessKeyId").unwrap(), SecretString::new(r.field("SecretAccessKey").unwrap()));
    let r = h.call_as("iam", "Action=ListUsers", &dave, None).await;
    assert_eq!((r.status, r.code().as_deref()), (403, Some("AccessDenied")));
    assert!(r.field("Message").unwrap().contains("iam:ListUsers"));
    let r = h.call_as("sts", "Action=GetCallerIdentity", &dave, None).await;
    assert_eq!(r.field("Arn").as_deref(), Some("arn:aws:iam::111122223333:user/dave"));
    let r = h.call("iam", "Action=ListAccessKeys&UserName=dave").await;
    assert_eq!(r.field("UserName").as_deref(), Some("dave"));
    assert_eq!(r.field("AccessKeyId").as_deref(), Some(dave.0.as_str()));
    h.stop().await;
}

#[tokio::test]
async fn policy_documents_come_back_url_encoded() {
    let h = start().await;
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
    let r = h.call("iam", &format!("Action=CreatePolicy&PolicyName=read&PolicyDocument={}", enc(doc))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let arn = r.field("Arn").unwrap();
    assert_eq!(r.field("DefaultVersionId").as_deref(), Some("v1"));
    let r = h.call("iam", &format!("Action=GetPolicyVersion&PolicyArn={}&VersionId=v1", enc(&arn))).await;
    let encoded = r.field("Document").unwrap();
    assert!(!encoded.contains('{'));
    assert_eq!(pct_decode(&encoded), doc);
    assert_eq!(r.field("IsDefaultVersion").as_deref(), Some("true"));
    let r = h
        .call(
            "iam",
            &format!(
                "Action=CreateRole&RoleName=app&Description={}&AssumeRolePolicyDocument={}",
                enc("<b> & 'c'"),
                enc(TRUST_ANYONE_IN_ACCOUNT)
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.field("Description").as_deref(), Some("&lt;b&gt; &amp; &apos;c&apos;"), "text is escaped");
    assert_eq!(pct_decode(&r.field("AssumeRolePolicyDocument").unwrap()), TRUST_ANYONE_IN_ACCOUNT);
    h.call("iam", &format!("Action=PutRolePolicy&RoleName=app&PolicyName=inline&PolicyDocument={}", enc(doc))).await;
    let r = h.call("iam", "Action=GetRolePolicy&RoleName=app&PolicyName=inline").await;
    assert_eq!(r.field("RoleName").as_deref(), Some("app"));
    assert_eq!(pct_decode(&r.field("PolicyDocument").unwrap()), doc);
    let r = h.call("iam", &format!("Action=AttachRolePolicy&RoleName=app&PolicyArn={}", enc(&arn))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!r.body.contains("Result>"), "no output, no result element");
    let r = h.call("iam", "Action=ListAttachedRolePolicies&RoleName=app").await;
    assert_eq!(r.field("PolicyArn").as_deref(), Some(arn.as_str()));
    let r = h.call("iam", "Action=DeleteRole&RoleName=app").await;
    assert_eq!((r.status, r.code().as_deref()), (409, Some("DeleteConflict")));
    h.stop().await;
}

#[tokio::test]
async fn assumed_role_sessions_call_with_their_token_and_expire() {
    let h = start().await;
    h.call("iam", &format!("Action=CreateRole&RoleName=ops&AssumeRolePolicyDocument={}", enc(TRUST_ANYONE_IN_ACCOUNT)))
        .await;
    // The root user may not assume roles: an administrator user does.
    h.call("iam", "Action=CreateUser&UserName=admin").await;
    h.call(
        "iam",
        "Action=AttachUserPolicy&UserName=admin&PolicyArn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FAdministratorAccess",
    )
    .await;
    let r = h.call("iam", "Action=CreateAccessKey&UserName=admin").await;
    let admin = (r.field("AccessKeyId").unwrap(), SecretString::new(r.field("SecretAccessKey").unwrap()));
    let r = h
        .call_as(
            "sts",
            "Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Fops&RoleSessionName=s1&DurationSeconds=900&Tags.member.1.Key=team&Tags.member.1.Value=red&TransitiveTagKeys.member.1=team",
            &admin,
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.field("Arn").as_deref(), Some("arn:aws:sts::111122223333:assumed-role/ops/s1"));
    assert_eq!(r.field("Expiration").as_deref(), Some("2026-01-01T00:15:00Z"));
    let key = (r.field("AccessKeyId").unwrap(), SecretString::new(r.field("SecretAccessKey").unwrap()));
    let token = r.field("SessionToken").unwrap();
    assert!(key.0.starts_with("ASIA"));
    let r = h.call_as("sts", "Action=GetCallerIdentity", &key, Some(&token)).await;
    assert_eq!(r.field("Arn").as_deref(), Some("arn:aws:sts::111122223333:assumed-role/ops/s1"), "{}", r.body);
    h.clock.advance(901);
    let r = h.call_as("sts", "Action=GetCallerIdentity", &key, Some(&token)).await;
    assert_eq!((r.status, r.code().as_deref()), (403, Some("ExpiredToken")), "{}", r.body);
    h.stop().await;
}

#[tokio::test]
async fn virtual_mfa_devices_are_created_enabled_and_listed() {
    let h = start().await;
    h.call("iam", "Action=CreateUser&UserName=erin").await;
    let r = h.call("iam", "Action=CreateVirtualMFADevice&VirtualMFADeviceName=erin-phone").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let serial = r.field("SerialNumber").unwrap();
    assert_eq!(serial, "arn:aws:iam::111122223333:mfa/erin-phone");
    let base32 = String::from_utf8(base64_decode(&r.field("Base32StringSeed").unwrap())).unwrap();
    let uri = String::from_utf8(base64_decode(&r.field("QRCodePNG").unwrap())).unwrap();
    assert!(uri.starts_with("otpauth://totp/"));
    let seed = MfaSeed::from_base32(&SecretString::new(base32)).unwrap();
    let t = START as u64;
    let (c1, c2) = (seed.code_at(t - 30), seed.code_at(t));
    let r = h
        .call(
            "iam",
            &format!(
                "Action=EnableMFADevice&UserName=erin&SerialNumber={}&AuthenticationCode1={}&AuthenticationCode2={}",
                enc(&serial),
                c1.expose(),
                c2.expose()
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = h.call("iam", "Action=ListMFADevices&UserName=erin").await;
    assert_eq!(r.field("SerialNumber").as_deref(), Some(serial.as_str()));
    assert_eq!(r.field("UserName").as_deref(), Some("erin"));
    assert!(r.field("EnableDate").is_some());
    let r = h
        .call("iam", &format!("Action=EnableMFADevice&UserName=erin&SerialNumber={}&AuthenticationCode1=000000&AuthenticationCode2=111111", enc(&serial)))
        .await;
    assert!(r.status >= 400);
    h.stop().await;
}

#[tokio::test]
async fn password_policy_round_trips() {
    let h = start().await;
    let r = h.call("iam", "Action=GetAccountPasswordPolicy").await;
    assert_eq!((r.status, r.code().as_deref()), (404, Some("NoSuchEntity")));
    let r = h
        .call(
            "iam",
            "Action=UpdateAccountPasswordPolicy&MinimumPasswordLength=12&RequireNumbers=true&MaxPasswordAge=90",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = h.call("iam", "Action=GetAccountPasswordPolicy").await;
    assert_eq!(r.field("MinimumPasswordLength").as_deref(), Some("12"));
    assert_eq!(r.field("RequireNumbers").as_deref(), Some("true"));
    assert_eq!(r.field("ExpirePasswords").as_deref(), Some("true"));
    let r = h.call("iam", "Action=UpdateAccountPasswordPolicy&MinimumPasswordLength=3").await;
    assert_eq!((r.status, r.code().as_deref()), (400, Some("ValidationError")));
    h.stop().await;
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_413() {
    let h = start_with(ServerConfig { max_body: 1024, ..ServerConfig::default() }).await;
    let body = format!("Action=CreateUser&UserName={}", "a".repeat(4096));
    let r = h.call("iam", &body).await;
    assert_eq!((r.status, r.code().as_deref()), (413, Some("RequestEntityTooLarge")));
    h.stop().await;
}

#[tokio::test]
async fn malformed_bodies_do_not_break_the_server() {
    let h = start().await;
    for body in [
        "%%%&&&==&Action",
        "Action=%ZZ%&UserName=%",
        "Action=CreateUser&UserName=%00%01%FF%FE",
        "Action=ListUsers&MaxItems=abc",
        "Action=CreateUser&UserName=<x>&Tags.member.1.Key=%3C%26",
    ] {
        let r = h.call("iam", body).await;
        assert!((400..500).contains(&r.status), "{body}: {} {}", r.status, r.body);
        assert!(r.body.starts_with("<?xml"), "{}", r.body);
    }
    let mut request = h.form("");
    request = request.body(vec![0xff, 0xfe, 0x00, b'=', b'&']);
    sign(&mut request, &h.params("iam", &h.key), None);
    let r = send(h.addr, &request).await;
    assert_eq!((r.status, r.code().as_deref()), (400, Some("MissingAction")));
    // Still serving.
    assert_eq!(h.call("sts", "Action=GetCallerIdentity").await.status, 200);
    h.stop().await;
}

#[tokio::test]
async fn one_connection_serves_many_requests() {
    let h = start().await;
    let stream = TcpStream::connect(h.addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.unwrap();
    tokio::spawn(connection);
    for _ in 0..3 {
        let mut request = h.form("Action=GetCallerIdentity");
        sign(&mut request, &h.params("sts", &h.key), None);
        assert_eq!(send_on(&mut sender, &request).await.status, 200);
    }
    h.stop().await;
}

#[tokio::test]
async fn get_requests_carry_parameters_in_the_query() {
    let h = start().await;
    let mut request =
        SignedRequest::new("GET", "/", "Action=ListRoles&Version=2010-05-08").header("host", h.addr.to_string());
    sign(&mut request, &h.params("iam", &h.key), None);
    let r = send(h.addr, &request).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.field("IsTruncated").as_deref(), Some("false"));
    h.stop().await;
}

/// An Organizations JSON 1.1 request signed with the root key.
async fn org(h: &Harness, op: &str, body: &str) -> Reply {
    let mut request = SignedRequest::new("POST", "/", "")
        .header("host", h.addr.to_string())
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", format!("AWSOrganizationsV20161128.{op}"))
        .body(body.as_bytes().to_vec());
    sign(&mut request, &h.params("organizations", &h.key), None);
    send(h.addr, &request).await
}

#[tokio::test]
async fn organizations_speak_json() {
    let h = start().await;
    let r = org(&h, "DescribeOrganization", "{}").await;
    assert_eq!(r.status, 400);
    let error: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(error["__type"], "AWSOrganizationsNotInUseException");
    let r = org(&h, "CreateOrganization", r#"{"FeatureSet":"ALL"}"#).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.content_type, "application/x-amz-json-1.1");
    let created: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(created["Organization"]["MasterAccountId"], "111122223333");
    let r = org(&h, "ListRoots", "{}").await;
    let roots: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let root_id = roots["Roots"][0]["Id"].as_str().unwrap().to_owned();
    let r = org(&h, "CreateAccount", r#"{"AccountName":"dev","Email":"dev@example.com"}"#).await;
    let status: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(status["CreateAccountStatus"]["State"], "SUCCEEDED", "{}", r.body);
    let r = org(&h, "CreateOrganizationalUnit", &format!(r#"{{"ParentId":"{root_id}","Name":"prod"}}"#)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = org(&h, "ListAccounts", "{}").await;
    let accounts: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(accounts["Accounts"].as_array().unwrap().len(), 2);
    let r = org(&h, "NoSuchOperation", "{}").await;
    assert_eq!(r.status, 400);
    let r = org(&h, "CreatePolicy", "{not json").await;
    let error: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(error["__type"], "SerializationException");
    h.stop().await;
}

#[tokio::test]
async fn the_simulator_answers_with_evaluation_results() {
    let h = start().await;
    h.call("iam", "Action=CreateUser&UserName=sim").await;
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
    h.call("iam", &format!("Action=PutUserPolicy&UserName=sim&PolicyName=read&PolicyDocument={}", enc(doc))).await;
    let r = h
        .call(
            "iam",
            "Action=SimulatePrincipalPolicy&PolicySourceArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Auser%2Fsim&ActionNames.member.1=s3%3AGetObject&ActionNames.member.2=s3%3APutObject",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("<EvalActionName>s3:GetObject</EvalActionName><EvalResourceName>*</EvalResourceName><EvalDecision>allowed</EvalDecision>"), "{}", r.body);
    assert!(r.body.contains("<EvalDecision>implicitDeny</EvalDecision>"));
    assert!(r.body.contains("<SourcePolicyId>read</SourcePolicyId><SourcePolicyType>user</SourcePolicyType>"));
    let deny = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:username":"x"}}}]}"#;
    let r = h
        .call(
            "iam",
            &format!(
                "Action=SimulateCustomPolicy&PolicyInputList.member.1={}&ActionNames.member.1=s3%3AGetObject&ContextEntries.member.1.ContextKeyName=aws%3Ausername&ContextEntries.member.1.ContextKeyType=string&ContextEntries.member.1.ContextKeyValues.member.1=x",
                enc(deny)
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.field("EvalDecision").as_deref(), Some("explicitDeny"), "{}", r.body);
    let r =
        h.call("iam", &format!("Action=GetContextKeysForCustomPolicy&PolicyInputList.member.1={}", enc(deny))).await;
    assert!(r.body.contains("<ContextKeyNames><member>aws:username</member></ContextKeyNames>"), "{}", r.body);
    h.stop().await;
}

#[tokio::test]
async fn tag_listings_and_the_account_summary() {
    let h = start().await;
    h.call("iam", "Action=CreateUser&UserName=tagged&Tags.member.1.Key=a&Tags.member.1.Value=1").await;
    let r = h.call("iam", "Action=ListUserTags&UserName=tagged").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("<Tags><member><Key>a</Key><Value>1</Value></member></Tags><IsTruncated>false</IsTruncated>")
    );
    let r = h.call("iam", "Action=GetAccountSummary").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("<entry><key>Users</key><value>1</value></entry>"), "{}", r.body);
    h.stop().await;
}

// ---- POST /v1/authorize and the clock control ----

/// A JSON POST to `path`, signed for the `castellan` service with `key`.
async fn castellan_post(h: &Harness, path: &str, body: &str, key: &(String, SecretString)) -> (u16, serde_json::Value) {
    let mut request = SignedRequest::new("POST", path, "")
        .header("host", h.addr.to_string())
        .header("content-type", "application/json")
        .body(body.as_bytes().to_vec());
    sign(&mut request, &h.params("castellan", key), None);
    let r = send(h.addr, &request).await;
    assert_eq!(r.content_type, "application/json", "{}", r.body);
    (r.status, serde_json::from_str(&r.body).unwrap())
}

/// A user with an inline policy and an access key.
async fn user_with_policy(h: &Harness, name: &str, policy: &str) -> (String, SecretString) {
    let r = h.call("iam", &format!("Action=CreateUser&UserName={name}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = h
        .call("iam", &format!("Action=PutUserPolicy&UserName={name}&PolicyName=p&PolicyDocument={}", enc(policy)))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = h.call("iam", &format!("Action=CreateAccessKey&UserName={name}")).await;
    (r.field("AccessKeyId").unwrap(), SecretString::new(r.field("SecretAccessKey").unwrap()))
}

const PDP_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Pdp","Effect":"Allow","Action":"castellan:Authorize","Resource":"*"}]}"#;
const READER_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*","Condition":{"StringEquals":{"s3:ExistingObjectTag/team":"red"}}},{"Sid":"NoSecrets","Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::bucket/secret/*"}]}"#;

#[tokio::test]
async fn authorize_decides_for_a_principal_arn_with_explanations() {
    let h = start().await;
    let service = user_with_policy(&h, "pdp", PDP_POLICY).await;
    user_with_policy(&h, "reader", READER_POLICY).await;
    let ask = |resource: &str, context: &str| {
        format!(
            r#"{{"principal":"arn:aws:iam::111122223333:user/reader","action":"s3:GetObject","resource":"{resource}","context":{context}}}"#
        )
    };
    let (status, d) = castellan_post(
        &h,
        "/v1/authorize",
        &ask("arn:aws:s3:::bucket/a", r#"{"s3:ExistingObjectTag/team":"red"}"#),
        &service,
    )
    .await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["decision"], "Allow");
    assert_eq!(d["allowed"], true);
    assert_eq!(d["principal"], "arn:aws:iam::111122223333:user/reader");
    assert_eq!(d["matchedStatements"][0]["sid"], "Read");
    assert_eq!(d["matchedStatements"][0]["effect"], "Allow");
    assert!(d["deniedBy"].is_null());
    let (_, d) = castellan_post(&h, "/v1/authorize", &ask("arn:aws:s3:::bucket/a", "{}"), &service).await;
    assert_eq!(d["decision"], "ImplicitDeny");
    assert_eq!(
        d["missingContextKeys"][0].as_str().map(str::to_ascii_lowercase).as_deref(),
        Some("s3:existingobjecttag/team")
    );
    assert!(d["message"].as_str().unwrap().contains("is not authorized to perform: s3:GetObject"), "{d}");
    let (_, d) = castellan_post(
        &h,
        "/v1/authorize",
        &ask("arn:aws:s3:::bucket/secret/x", r#"{"s3:ExistingObjectTag/team":["red"]}"#),
        &service,
    )
    .await;
    assert_eq!(d["decision"], "ExplicitDeny");
    assert_eq!(d["matchedStatements"][0]["sid"], "NoSecrets");
    assert!(d["deniedBy"].is_string());
    // A resource policy grants what the identity policy does not.
    let resource_policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/reader"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::bucket/*"}]}"#;
    let body = serde_json::json!({
        "principal": "arn:aws:iam::111122223333:user/reader",
        "action": "s3:PutObject",
        "resource": "arn:aws:s3:::bucket/a",
        "resourcePolicy": resource_policy,
        "resourceAccount": "111122223333",
        "resourceTags": {"team": "red"},
        "sourceIp": "10.0.0.1",
        "secureTransport": true,
    });
    let (status, d) = castellan_post(&h, "/v1/authorize", &body.to_string(), &service).await;
    assert_eq!((status, d["decision"].as_str()), (200, Some("Allow")), "{d}");
    h.stop().await;
}

#[tokio::test]
async fn authorize_refuses_callers_and_inputs_it_should() {
    let h = start().await;
    let nobody = user_with_policy(&h, "nobody", READER_POLICY).await;
    let service = user_with_policy(&h, "pdp", PDP_POLICY).await;
    let body = r#"{"principal":"arn:aws:iam::111122223333:root","action":"s3:GetObject","resource":"*"}"#;
    let (status, e) = castellan_post(&h, "/v1/authorize", body, &nobody).await;
    assert_eq!((status, e["__type"].as_str()), (403, Some("AccessDenied")), "{e}");
    assert!(e["message"].as_str().unwrap().contains("castellan:Authorize"));
    // Unsigned.
    let mut unsigned = SignedRequest::new("POST", "/v1/authorize", "")
        .header("host", h.addr.to_string())
        .body(body.as_bytes().to_vec());
    unsigned.headers.push(("content-type".into(), "application/json".into()));
    let r = send(h.addr, &unsigned).await;
    let e: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!((r.status, e["__type"].as_str()), (403, Some("MissingAuthenticationToken")));
    // Signed for another service.
    let mut wrong = SignedRequest::new("POST", "/v1/authorize", "")
        .header("host", h.addr.to_string())
        .body(body.as_bytes().to_vec());
    sign(&mut wrong, &h.params("iam", &service), None);
    let r = send(h.addr, &wrong).await;
    assert_eq!(r.status, 403, "{}", r.body);
    for (bad, code) in [
        (
            r#"{"principal":"arn:aws:sts::111122223333:assumed-role/r/s","action":"s3:GetObject","resource":"*"}"#,
            "InvalidInput",
        ),
        (r#"{"principal":"arn:aws:iam::111122223333:root","resource":"*"}"#, "InvalidInput"),
        (r#"{"action":"s3:GetObject","resource":"*"}"#, "InvalidInput"),
        (
            r#"{"principal":"arn:aws:iam::111122223333:root","action":"s3:GetObject","resource":"*","resourcePolicy":"{nope"}"#,
            "MalformedPolicyDocument",
        ),
        (
            r#"{"principal":"arn:aws:iam::111122223333:root","action":"s3:GetObject","resource":"*","context":{"k":1}}"#,
            "InvalidInput",
        ),
        ("[1]", "InvalidInput"),
        ("{nope", "SerializationException"),
    ] {
        let (status, e) = castellan_post(&h, "/v1/authorize", bad, &service).await;
        assert_eq!((status, e["__type"].as_str()), (400, Some(code)), "{bad}: {e}");
    }
    let (status, e) = castellan_post(
        &h,
        "/v1/authorize",
        r#"{"principal":"arn:aws:iam::111122223333:user/ghost","action":"s3:GetObject","resource":"*"}"#,
        &service,
    )
    .await;
    assert_eq!((status, e["__type"].as_str()), (404, Some("NoSuchEntity")), "{e}");
    h.stop().await;
}

/// Encodes bytes in standard base64.
fn b64(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[tokio::test]
async fn authorize_verifies_a_signed_request_including_sessions() {
    let h = start().await;
    let service = user_with_policy(&h, "pdp", PDP_POLICY).await;
    let reader = user_with_policy(&h, "reader", READER_POLICY).await;
    // The request a client sent to the service (an S3-like GET), signed by `reader`.
    let mut client = SignedRequest::new("PUT", "/bucket/a", "x-id=PutObject")
        .header("host", "storage.example.com")
        .body(b"hello".to_vec());
    sign(&mut client, &h.params("s3", &reader), None);
    let describe = |req: &SignedRequest, body: &str| {
        let headers: Vec<Vec<String>> = req.headers.iter().map(|(n, v)| vec![n.clone(), v.clone()]).collect();
        serde_json::json!({
            "request": {"method": req.method, "path": req.path, "query": req.query, "headers": headers,
                        "body": b64(body.as_bytes()), "service": "s3"},
            "action": "s3:GetObject",
            "resource": "arn:aws:s3:::bucket/a",
            "context": {"s3:ExistingObjectTag/team": "red"},
        })
        .to_string()
    };
    let (status, d) = castellan_post(&h, "/v1/authorize", &describe(&client, "hello"), &service).await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(
        (d["decision"].as_str(), d["principal"].as_str()),
        (Some("Allow"), Some("arn:aws:iam::111122223333:user/reader")),
        "{d}"
    );
    // A body that is not the one signed: not authentic, denied with the reason.
    let (status, d) = castellan_post(&h, "/v1/authorize", &describe(&client, "HELLO"), &service).await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["allowed"], false);
    assert_eq!(d["authenticationError"]["code"], "SignatureDoesNotMatch", "{d}");
    // A role session through its signed request, and the same after it expired.
    h.call("iam", &format!("Action=CreateRole&RoleName=ops&AssumeRolePolicyDocument={}", enc(TRUST_ANYONE_IN_ACCOUNT)))
        .await;
    h.call("iam", &format!("Action=PutRolePolicy&RoleName=ops&PolicyName=p&PolicyDocument={}", enc(READER_POLICY)))
        .await;
    let admin = user_with_policy(
        &h,
        "admin",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    )
    .await;
    let r = h
        .call_as(
            "sts",
            "Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Fops&RoleSessionName=s1&DurationSeconds=900",
            &admin,
            None,
        )
        .await;
    let key = (r.field("AccessKeyId").unwrap(), SecretString::new(r.field("SecretAccessKey").unwrap()));
    let token = r.field("SessionToken").unwrap();
    let mut session_request = SignedRequest::new("GET", "/bucket/a", "").header("host", "storage.example.com");
    sign(&mut session_request, &h.params("s3", &key).session_token(SecretString::new(token.clone())), None);
    let mut body: serde_json::Value = serde_json::from_str(&describe(&session_request, "")).unwrap();
    body["request"].as_object_mut().unwrap().remove("body");
    body["request"]["bodySha256"] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".into();
    let (_, d) = castellan_post(&h, "/v1/authorize", &body.to_string(), &service).await;
    assert_eq!(d["decision"], "Allow", "{d}");
    assert_eq!(d["principal"], "arn:aws:sts::111122223333:assumed-role/ops/s1");
    h.clock.advance(901);
    let mut late = SignedRequest::new("GET", "/bucket/a", "").header("host", "storage.example.com");
    sign(&mut late, &h.params("s3", &key).session_token(SecretString::new(token)), None);
    let mut body: serde_json::Value = serde_json::from_str(&describe(&late, "")).unwrap();
    body["request"]["body"] = "".into();
    let service_now = h.call("iam", "Action=CreateAccessKey&UserName=pdp").await;
    let service_now =
        (service_now.field("AccessKeyId").unwrap(), SecretString::new(service_now.field("SecretAccessKey").unwrap()));
    let (_, d) = castellan_post(&h, "/v1/authorize", &body.to_string(), &service_now).await;
    assert_eq!(d["authenticationError"]["code"], "ExpiredToken", "{d}");
    assert_eq!(d["decision"], "ImplicitDeny");
    h.stop().await;
}

/// A server whose facade runs on an offset clock over the fixed one, with clock control on.
async fn start_clock_controlled() -> (Harness, Arc<castellan_server::OffsetClock>) {
    let clock = Arc::new(FixedClock::new(START));
    let offset = Arc::new(castellan_server::OffsetClock::new(clock.clone()));
    let iam = Iam::builder()
        .seed(7)
        .account_id("111122223333")
        .clock(offset.clone())
        .password_hash_iterations(1)
        .open()
        .unwrap();
    let root = iam.root_credentials().unwrap().clone();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let server = Server::new(Arc::new(iam), ServerConfig::default()).with_clock_control(offset.clone());
    let task = tokio::spawn(server.serve(listener, async move {
        let _ = rx.await;
    }));
    let h =
        Harness { addr, clock, key: (root.access_key_id, root.secret_access_key), stop: Some(tx), task: Some(task) };
    (h, offset)
}

#[tokio::test]
async fn the_clock_control_is_off_unless_enabled() {
    let h = start().await;
    let (status, e) = castellan_post(&h, "/_castellan/clock", r#"{"advanceSeconds":901}"#, &h.key.clone()).await;
    assert_eq!((status, e["__type"].as_str()), (404, Some("NotFound")));
    h.stop().await;
}

#[tokio::test]
async fn the_clock_control_expires_sessions_and_only_root_may_use_it() {
    let (h, offset) = start_clock_controlled().await;
    let root = h.key.clone();
    let admin = user_with_policy(
        &h,
        "admin",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    )
    .await;
    let r = h.call_as("sts", "Action=GetSessionToken&DurationSeconds=900", &admin, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let key = (r.field("AccessKeyId").unwrap(), SecretString::new(r.field("SecretAccessKey").unwrap()));
    let token = r.field("SessionToken").unwrap();
    // An administrator user is not the root user.
    let (status, e) = castellan_post(&h, "/_castellan/clock", r#"{"advanceSeconds":901}"#, &admin).await;
    assert_eq!((status, e["__type"].as_str()), (403, Some("AccessDenied")), "{e}");
    for bad in [r#"{"advanceSeconds":-1}"#, r#"{"advanceSeconds":"901"}"#, "{}"] {
        let (status, _) = castellan_post(&h, "/_castellan/clock", bad, &root).await;
        assert_eq!(status, 400, "{bad}");
    }
    let (status, d) = castellan_post(&h, "/_castellan/clock", r#"{"advanceSeconds":901}"#, &root).await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["offsetSeconds"], 901);
    assert_eq!(offset.offset(), 901);
    assert_eq!(d["now"], "2026-01-01T00:15:01Z");
    // Requests signed with the real (inner) time still authenticate; the session has expired.
    let r = h.call("sts", "Action=GetCallerIdentity").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = h.call_as("sts", "Action=GetCallerIdentity", &key, Some(&token)).await;
    assert_eq!((r.status, r.code().as_deref()), (403, Some("ExpiredToken")), "{}", r.body);
    h.stop().await;
}

// ---- the operations of the second round ----

#[tokio::test]
async fn saml_providers_round_trip() {
    let h = start().await;
    // The model wants 1,000 characters at least.
    let metadata = format!(
        "<EntityDescriptor xmlns=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"https://idp.example.com\"><!-- {} --></EntityDescriptor>",
        "x".repeat(1000)
    );
    let metadata = metadata.as_str();
    let r = h
        .call(
            "iam",
            &format!(
                "Action=CreateSAMLProvider&Name=corp&SAMLMetadataDocument={}&Tags.member.1.Key=k&Tags.member.1.Value=v",
                enc(metadata)
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let arn = r.field("SAMLProviderArn").unwrap();
    assert_eq!(arn, "arn:aws:iam::111122223333:saml-provider/corp");
    let r = h.call("iam", &format!("Action=GetSAMLProvider&SAMLProviderArn={}", enc(&arn))).await;
    assert_eq!(
        r.field("SAMLMetadataDocument")
            .map(|d| d.replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">"))
            .as_deref(),
        Some(metadata)
    );
    assert!(r.body.contains("<Key>k</Key>"));
    let r = h.call("iam", "Action=ListSAMLProviders").await;
    assert!(r.body.contains(&format!("<SAMLProviderList><member><Arn>{arn}</Arn>")), "{}", r.body);
    let r = h
        .call(
            "iam",
            &format!(
                "Action=UpdateSAMLProvider&SAMLProviderArn={}&SAMLMetadataDocument={}",
                enc(&arn),
                enc(&metadata.replace("idp.example.com", "idp2.example.com"))
            ),
        )
        .await;
    assert_eq!(r.field("SAMLProviderArn").as_deref(), Some(arn.as_str()), "{}", r.body);
    let r = h.call("iam", &format!("Action=DeleteSAMLProvider&SAMLProviderArn={}", enc(&arn))).await;
    assert_eq!(r.status, 200);
    let r = h.call("iam", &format!("Action=GetSAMLProvider&SAMLProviderArn={}", enc(&arn))).await;
    assert_eq!((r.status, r.code().as_deref()), (404, Some("NoSuchEntity")));
    h.stop().await;
}

#[tokio::test]
async fn reports_and_authorization_details_have_the_model_shapes() {
    let h = start().await;
    user_with_policy(&h, "alice", READER_POLICY).await;
    h.call("iam", &format!("Action=CreateRole&RoleName=ops&AssumeRolePolicyDocument={}", enc(TRUST_ANYONE_IN_ACCOUNT)))
        .await;
    let r = h.call("iam", "Action=GetRole&RoleName=ops").await;
    assert!(r.body.contains("<RoleLastUsed></RoleLastUsed>") || r.body.contains("<RoleLastUsed/>"), "{}", r.body);
    let r = h.call("iam", "Action=GetCredentialReport").await;
    assert_eq!((r.status, r.code().as_deref()), (410, Some("ReportNotPresent")));
    let r = h.call("iam", "Action=GenerateCredentialReport").await;
    assert_eq!(r.field("State").as_deref(), Some("COMPLETE"), "{}", r.body);
    let r = h.call("iam", "Action=GetCredentialReport").await;
    let csv = String::from_utf8(base64_decode(&r.field("Content").unwrap())).unwrap();
    assert!(csv.starts_with("user,arn,user_creation_time,"), "{csv}");
    assert!(csv.contains("\nalice,arn:aws:iam::111122223333:user/alice,"), "{csv}");
    assert_eq!(r.field("ReportFormat").as_deref(), Some("text/csv"));
    let r = h.call("iam", "Action=GetAccountAuthorizationDetails").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("<UserDetailList><member>"), "{}", r.body);
    assert!(r.body.contains("<UserPolicyList><member><PolicyName>p</PolicyName><PolicyDocument>%7B"), "{}", r.body);
    assert!(r.body.contains("<RoleDetailList><member>"));
    assert!(r.body.contains("<IsTruncated>false</IsTruncated>"));
    let r = h.call("iam", "Action=GetAccountAuthorizationDetails&Filter.member.1=Role&MaxItems=1").await;
    assert!(!r.body.contains("<UserName>alice</UserName>"), "{}", r.body);
    assert!(r.body.contains("<RoleName>ops</RoleName>"));
    let r = h.call("iam", "Action=GetAccountAuthorizationDetails&Filter.member.1=Users").await;
    assert_eq!((r.status, r.code().as_deref()), (400, Some("ValidationError")));
    let r = h
        .call("iam", "Action=GenerateServiceLastAccessedDetails&Arn=arn%3Aaws%3Aiam%3A%3A111122223333%3Auser%2Falice")
        .await;
    let job = r.field("JobId").unwrap();
    let r = h.call("iam", &format!("Action=GetServiceLastAccessedDetails&JobId={job}")).await;
    assert_eq!(r.field("JobStatus").as_deref(), Some("COMPLETED"), "{}", r.body);
    assert!(r.body.contains("<ServiceNamespace>s3</ServiceNamespace>"), "{}", r.body);
    let r = h.call("iam", "Action=GetServiceLastAccessedDetails&JobId=nope").await;
    assert_eq!(r.code().as_deref(), Some("NoSuchEntity"));
    h.stop().await;
}

#[tokio::test]
async fn organizations_policies_and_ous_are_managed() {
    let h = start().await;
    org(&h, "CreateOrganization", r#"{"FeatureSet":"ALL"}"#).await;
    let roots: serde_json::Value = serde_json::from_str(&org(&h, "ListRoots", "{}").await.body).unwrap();
    let root_id = roots["Roots"][0]["Id"].as_str().unwrap().to_owned();
    org(&h, "EnablePolicyType", &format!(r#"{{"RootId":"{root_id}","PolicyType":"SERVICE_CONTROL_POLICY"}}"#)).await;
    let content = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#;
    let body = serde_json::json!({"Name": "deny-s3", "Description": "d", "Type": "SERVICE_CONTROL_POLICY", "Content": content});
    let r = org(&h, "CreatePolicy", &body.to_string()).await;
    let created: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let policy_id = created["Policy"]["PolicySummary"]["Id"].as_str().unwrap().to_owned();
    let r = org(&h, "CreateOrganizationalUnit", &format!(r#"{{"ParentId":"{root_id}","Name":"prod"}}"#)).await;
    let ou: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let ou_id = ou["OrganizationalUnit"]["Id"].as_str().unwrap().to_owned();
    let r = org(&h, "AttachPolicy", &format!(r#"{{"PolicyId":"{policy_id}","TargetId":"{ou_id}"}}"#)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = org(&h, "ListTargetsForPolicy", &format!(r#"{{"PolicyId":"{policy_id}"}}"#)).await;
    let targets: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(targets["Targets"][0]["TargetId"], ou_id.as_str(), "{}", r.body);
    assert_eq!(targets["Targets"][0]["Type"], "ORGANIZATIONAL_UNIT");
    let r = org(&h, "ListPoliciesForTarget", &format!(r#"{{"TargetId":"{ou_id}","Filter":"SERVICE_CONTROL_POLICY"}}"#))
        .await;
    let policies: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert!(policies["Policies"].as_array().unwrap().iter().any(|p| p["Id"] == policy_id.as_str()), "{}", r.body);
    let r = org(&h, "UpdatePolicy", &format!(r#"{{"PolicyId":"{policy_id}","Name":"deny-s3-v2"}}"#)).await;
    let updated: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(updated["Policy"]["PolicySummary"]["Name"], "deny-s3-v2", "{}", r.body);
    assert_eq!(updated["Policy"]["Content"], content);
    let r = org(&h, "DescribePolicy", &format!(r#"{{"PolicyId":"{policy_id}"}}"#)).await;
    let described: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(described["Policy"]["PolicySummary"]["Description"], "d");
    let r =
        org(&h, "UpdateOrganizationalUnit", &format!(r#"{{"OrganizationalUnitId":"{ou_id}","Name":"production"}}"#))
            .await;
    let renamed: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(renamed["OrganizationalUnit"]["Name"], "production", "{}", r.body);
    let r = org(&h, "DeletePolicy", &format!(r#"{{"PolicyId":"{policy_id}"}}"#)).await;
    assert_eq!(r.status, 400, "an attached policy cannot be deleted: {}", r.body);
    org(&h, "DetachPolicy", &format!(r#"{{"PolicyId":"{policy_id}","TargetId":"{ou_id}"}}"#)).await;
    let r = org(&h, "DeletePolicy", &format!(r#"{{"PolicyId":"{policy_id}"}}"#)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = org(&h, "DescribePolicy", &format!(r#"{{"PolicyId":"{policy_id}"}}"#)).await;
    let e: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(e["__type"], "PolicyNotFoundException", "{}", r.body);
    let r = org(&h, "DeleteOrganizationalUnit", &format!(r#"{{"OrganizationalUnitId":"{ou_id}"}}"#)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = org(&h, "CreateAccount", r#"{"AccountName":"dev","Email":"dev@example.com"}"#).await;
    let status: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let account_id = status["CreateAccountStatus"]["AccountId"].as_str().unwrap().to_owned();
    let r = org(&h, "DescribeAccount", &format!(r#"{{"AccountId":"{account_id}"}}"#)).await;
    let account: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(account["Account"]["Name"], "dev", "{}", r.body);
    let r = org(&h, "RemoveAccountFromOrganization", &format!(r#"{{"AccountId":"{account_id}"}}"#)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = org(&h, "ListAccounts", "{}").await;
    let accounts: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(accounts["Accounts"].as_array().unwrap().len(), 1);
    h.stop().await;
}

/// `body` signed for `service` in `region` with `key`.
async fn call_in(h: &Harness, region: &str, service: &str, body: &str, key: &(String, SecretString)) -> Reply {
    let mut request = h.form(body);
    sign(&mut request, &SigningParams::new(key.0.clone(), key.1.clone(), region, service, h.now()), None);
    send(h.addr, &request).await
}

#[tokio::test]
async fn requests_signed_for_another_partition_see_its_arns() {
    let h = start().await;
    let root = h.key.clone();
    let me = call_in(&h, "cn-north-1", "sts", "Action=GetCallerIdentity&Version=2011-06-15", &root).await;
    assert_eq!(me.field("Arn").as_deref(), Some("arn:aws-cn:iam::111122223333:root"), "{}", me.body);
    for (region, partition) in
        [("us-gov-west-1", "aws-us-gov"), ("us-iso-east-1", "aws-iso"), ("us-isob-east-1", "aws-iso-b")]
    {
        let me = call_in(&h, region, "sts", "Action=GetCallerIdentity&Version=2011-06-15", &root).await;
        assert_eq!(me.field("Arn"), Some(format!("arn:{partition}:iam::111122223333:root")), "{region}");
    }
    let made = call_in(&h, "cn-north-1", "iam", "Action=CreateUser&UserName=alice&Version=2010-05-08", &root).await;
    assert_eq!(made.field("Arn").as_deref(), Some("arn:aws-cn:iam::111122223333:user/alice"), "{}", made.body);
    // A policy written with the partition's ARNs decides in its terms, and reads back as written.
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws-cn:iam::111122223333:user/alice"}]}"#;
    let put = format!(
        "Action=PutUserPolicy&UserName=alice&PolicyName=self&PolicyDocument={}&Version=2010-05-08",
        enc(policy)
    );
    assert_eq!(call_in(&h, "cn-north-1", "iam", &put, &root).await.status, 200);
    let read = call_in(
        &h,
        "cn-north-1",
        "iam",
        "Action=GetUserPolicy&UserName=alice&PolicyName=self&Version=2010-05-08",
        &root,
    )
    .await;
    assert_eq!(pct_decode(&read.field("PolicyDocument").unwrap()), policy);
    let key = call_in(&h, "cn-north-1", "iam", "Action=CreateAccessKey&UserName=alice&Version=2010-05-08", &root).await;
    let alice = (key.field("AccessKeyId").unwrap(), SecretString::new(key.field("SecretAccessKey").unwrap()));
    let own = call_in(&h, "cn-north-1", "iam", "Action=GetUser&UserName=alice&Version=2010-05-08", &alice).await;
    assert_eq!(own.status, 200, "{}", own.body);
    let other = call_in(&h, "cn-north-1", "iam", "Action=ListUsers&Version=2010-05-08", &alice).await;
    assert_eq!(other.code().as_deref(), Some("AccessDenied"));
    assert!(other.body.contains("User: arn:aws-cn:iam::111122223333:user/alice is not authorized"), "{}", other.body);
    // AWS managed policies by the partition's ARN.
    let attach = "Action=AttachUserPolicy&UserName=alice&PolicyArn=arn%3Aaws-cn%3Aiam%3A%3Aaws%3Apolicy%2FReadOnlyAccess&Version=2010-05-08";
    assert_eq!(call_in(&h, "cn-north-1", "iam", attach, &root).await.status, 200);
    let listed =
        call_in(&h, "cn-north-1", "iam", "Action=ListAttachedUserPolicies&UserName=alice&Version=2010-05-08", &root)
            .await;
    assert_eq!(listed.field("PolicyArn").as_deref(), Some("arn:aws-cn:iam::aws:policy/ReadOnlyAccess"));
    // The same user, asked about in the aws partition.
    let plain = h.call("iam", "Action=GetUser&UserName=alice&Version=2010-05-08").await;
    assert_eq!(plain.field("Arn").as_deref(), Some("arn:aws:iam::111122223333:user/alice"));
    h.stop().await;
}
