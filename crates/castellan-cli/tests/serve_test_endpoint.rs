//! `castellan serve` as a test endpoint: `--in-memory`, `--account-id`, the root key options
//! (and their environment variables), `--accounts` and `--test-reset`, against the real binary
//! on a loopback port.

// A panic is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use castellan::credentials::sigv4::{Payload, Request, SigningParams, sign};
use castellan::credentials::{Clock, SecretString, SystemClock};

const KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn temp_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("castellan-serve-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `castellan serve ARGS` expecting it to refuse to start.
fn refused(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_castellan"));
    command
        .arg("serve")
        .args(args)
        .env_remove("CASTELLAN_ROOT_ACCESS_KEY_ID")
        .env_remove("CASTELLAN_ROOT_SECRET_ACCESS_KEY");
    for (k, v) in env {
        command.env(k, v);
    }
    let out: Output = command.current_dir(temp_dir("refused")).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    stderr
}

/// A running `castellan serve`, killed on drop.
struct Served {
    child: Child,
    addr: SocketAddr,
    /// Standard error up to the "serving" line.
    stderr: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(args: &[&str], env: &[(&str, &str)], cwd: &Path) -> Served {
    let mut command = Command::new(env!("CARGO_BIN_EXE_castellan"));
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .env_remove("CASTELLAN_ROOT_ACCESS_KEY_ID")
        .env_remove("CASTELLAN_ROOT_SECRET_ACCESS_KEY")
        .env("CASTELLAN_LOG", "warn")
        .current_dir(cwd)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    // Killed and waited for on drop, whatever happens below.
    let mut served = Served { child: command.spawn().unwrap(), addr: ([0, 0, 0, 0], 0).into(), stderr: String::new() };
    let stderr = served.child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    loop {
        let Ok(line) = rx.recv_timeout(Duration::from_secs(30)) else {
            panic!("castellan serve did not start: {}", served.stderr);
        };
        served.stderr.push_str(&line);
        served.stderr.push('\n');
        if let Some(at) = line.split("serving IAM, STS and Organizations at http://").nth(1) {
            served.addr = at.trim().parse().unwrap();
            // Keep draining standard error so the server never blocks on it.
            std::thread::spawn(move || while rx.recv().is_ok() {});
            return served;
        }
    }
}

struct Reply {
    status: u16,
    body: String,
}

impl Reply {
    fn field(&self, tag: &str) -> Option<String> {
        let open = format!("<{tag}>");
        let start = self.body.find(&open)? + open.len();
        let end = self.body[start..].find(&format!("</{tag}>"))? + start;
        Some(self.body[start..end].to_owned())
    }
}

/// Sends `request` on a new connection (HTTP/1.1, `Connection: close`).
fn send(addr: SocketAddr, request: &Request) -> Reply {
    let body = match &request.payload {
        Payload::Bytes(b) => b.clone(),
        Payload::Hash(_) => Vec::new(),
    };
    let mut head = format!("{} {} HTTP/1.1\r\n", request.method, request.target());
    for (name, value) in &request.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("content-length: {}\r\nconnection: close\r\n\r\n", body.len()));
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&body).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text.split(' ').nth(1).unwrap().parse().unwrap();
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Reply { status, body }
}

/// `body` (a Query API call) signed for `service` with `key`.
fn call(addr: SocketAddr, service: &str, key: (&str, &str), body: &str) -> Reply {
    let mut request = Request::new("POST", "/", "")
        .header("host", addr.to_string())
        .header("content-type", "application/x-www-form-urlencoded; charset=utf-8")
        .body(body.as_bytes().to_vec());
    let params = SigningParams::new(key.0, SecretString::new(key.1), "us-east-1", service, SystemClock.now());
    sign(&mut request, &params, None);
    send(addr, &request)
}

fn post_reset(addr: SocketAddr) -> Reply {
    send(addr, &Request::new("POST", "/_castellan/reset", "").header("host", addr.to_string()))
}

/// The profiles an in-memory server printed: (profile, key id, secret), in order.
fn printed_credentials(stderr: &str) -> Vec<(String, String, String)> {
    let block = stderr
        .split("-----BEGIN CASTELLAN ROOT CREDENTIALS-----\n")
        .nth(1)
        .and_then(|rest| rest.split("-----END CASTELLAN ROOT CREDENTIALS-----").next())
        .unwrap_or_else(|| panic!("no credentials printed: {stderr}"));
    let mut out = Vec::new();
    let mut lines = block.lines();
    while let Some(header) = lines.next() {
        let profile = header.trim_matches(['[', ']']).to_owned();
        let id = lines.next().unwrap().split(" = ").nth(1).unwrap().to_owned();
        // A secret given on the command line is not printed again: a comment stands for it.
        let line = lines.next().unwrap();
        let secret = line.split(" = ").nth(1).map_or_else(|| line.to_owned(), str::to_owned);
        out.push((profile, id, secret));
    }
    out
}

#[test]
fn bad_options_are_usage_errors() {
    let e = refused(&["--in-memory", "--data-dir", "x"], &[]);
    assert!(e.contains("cannot be used with"), "{e}");
    let e = refused(&["--in-memory", "--account-id", "12345678901"], &[]);
    assert!(e.contains("is not an AWS account id (12 digits)"), "{e}");
    let e = refused(&["--in-memory", "--account-id", "12345678901a"], &[]);
    assert!(e.contains("12 digits"), "{e}");
    let e = refused(&["--in-memory", "--root-access-key-id", KEY_ID], &[]);
    assert!(e.contains("--root-secret-access-key"), "{e}");
    let e = refused(&["--in-memory", "--root-secret-access-key", SECRET], &[]);
    assert!(e.contains("--root-access-key-id"), "{e}");
    let e = refused(&["--in-memory", "--root-access-key-id", "AKIA1234", "--root-secret-access-key", SECRET], &[]);
    assert!(e.contains("not a long-term access key id"), "{e}");
    let e = refused(
        &["--in-memory"],
        &[("CASTELLAN_ROOT_ACCESS_KEY_ID", KEY_ID), ("CASTELLAN_ROOT_SECRET_ACCESS_KEY", "tooshort")],
    );
    assert!(e.contains("not a secret access key"), "{e}");
    assert!(!e.contains("tooshort"), "the secret is never echoed: {e}");
    let e = refused(&["--in-memory", "--accounts", "0"], &[]);
    assert!(e.contains("--accounts"), "{e}");
}

#[test]
fn an_in_memory_test_endpoint_with_fixed_identities_resets() {
    let cwd = temp_dir("in-memory");
    let served = serve(
        &["--in-memory", "--account-id", "210987654321", "--accounts", "2", "--test-reset"],
        &[("CASTELLAN_ROOT_ACCESS_KEY_ID", KEY_ID), ("CASTELLAN_ROOT_SECRET_ACCESS_KEY", SECRET)],
        &cwd,
    );
    assert!(served.stderr.contains("WARNING: test resets enabled"), "{}", served.stderr);
    let profiles = printed_credentials(&served.stderr);
    assert_eq!(profiles.len(), 2, "{}", served.stderr);
    assert_eq!((profiles[0].0.as_str(), profiles[0].1.as_str()), ("default", KEY_ID));
    assert!(profiles[0].2.starts_with("# aws_secret_access_key: the one given"), "{}", profiles[0].2);
    assert!(!served.stderr.contains(SECRET), "the given secret is not echoed");
    assert_eq!(profiles[1].0, "account-2");
    let addr = served.addr;
    let root = (KEY_ID, SECRET);
    // As the root user: GetCallerIdentity and GetUser without a name, as AWS answers them.
    let me = call(addr, "sts", root, "Action=GetCallerIdentity&Version=2011-06-15");
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.field("UserId").as_deref(), Some("210987654321"));
    assert_eq!(me.field("Account").as_deref(), Some("210987654321"));
    assert_eq!(me.field("Arn").as_deref(), Some("arn:aws:iam::210987654321:root"));
    let user = call(addr, "iam", root, "Action=GetUser&Version=2010-05-08");
    assert_eq!(user.status, 200, "{}", user.body);
    assert_eq!(user.field("UserId").as_deref(), Some("210987654321"));
    assert_eq!(user.field("Arn").as_deref(), Some("arn:aws:iam::210987654321:root"));
    // The member's root.
    let member_key = (profiles[1].1.as_str(), profiles[1].2.as_str());
    let member = call(addr, "sts", member_key, "Action=GetCallerIdentity&Version=2011-06-15");
    let member_id = member.field("Account").unwrap();
    assert_ne!(member_id, "210987654321");
    assert_eq!(member.field("Arn"), Some(format!("arn:aws:iam::{member_id}:root")));
    // Work, then a reset: only the bootstrap state remains.
    for key in [root, member_key] {
        let made = call(addr, "iam", key, "Action=CreateUser&UserName=alice&Version=2010-05-08");
        assert_eq!(made.status, 200, "{}", made.body);
    }
    let reset = post_reset(addr);
    assert_eq!(reset.status, 200, "{}", reset.body);
    assert!(reset.body.contains("210987654321") && reset.body.contains(&member_id), "{}", reset.body);
    for key in [root, member_key] {
        let gone = call(addr, "iam", key, "Action=GetUser&UserName=alice&Version=2010-05-08");
        assert_eq!(gone.status, 404, "{}", gone.body);
        assert_eq!(gone.field("Code").as_deref(), Some("NoSuchEntity"));
    }
    let role =
        call(addr, "iam", member_key, "Action=GetRole&RoleName=OrganizationAccountAccessRole&Version=2010-05-08");
    assert_eq!(role.status, 200, "{}", role.body);
    // Nothing was written to disk.
    drop(served);
    assert_eq!(std::fs::read_dir(&cwd).unwrap().count(), 0, "--in-memory wrote to {}", cwd.display());
}

#[test]
fn without_test_reset_the_reset_path_is_not_served() {
    let cwd = temp_dir("no-reset");
    let served = serve(&["--in-memory"], &[], &cwd);
    assert!(!served.stderr.contains("test resets enabled"), "{}", served.stderr);
    let reply = post_reset(served.addr);
    assert_eq!(reply.status, 404, "{}", reply.body);
    assert!(reply.body.contains("NotFound"), "{}", reply.body);
}

#[test]
fn a_data_directory_keeps_its_bootstrap_identities() {
    let cwd = temp_dir("data-dir");
    let data = cwd.join("data");
    let data_arg = data.to_str().unwrap();
    let served = serve(
        &["--data-dir", data_arg, "--account-id", "123456789012", "--accounts", "2", "--test-reset"],
        &[("CASTELLAN_ROOT_ACCESS_KEY_ID", KEY_ID), ("CASTELLAN_ROOT_SECRET_ACCESS_KEY", SECRET)],
        &cwd,
    );
    assert!(!served.stderr.contains("BEGIN CASTELLAN ROOT CREDENTIALS"), "secrets stay in the file");
    let made = call(served.addr, "iam", (KEY_ID, SECRET), "Action=CreateUser&UserName=bob&Version=2010-05-08");
    assert_eq!(made.status, 200, "{}", made.body);
    assert_eq!(post_reset(served.addr).status, 200);
    drop(served);
    let text = std::fs::read_to_string(data.join("root-credentials")).unwrap();
    assert!(text.starts_with(&format!("[default]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n")));
    assert!(text.contains("\n[account-2]\n"), "{text}");
    // Another account id for the same directory is refused with a clear message.
    let e = refused(&["--data-dir", data_arg, "--account-id", "999988887777"], &[]);
    assert!(e.contains("bootstrapped with account 123456789012, not 999988887777"), "{e}");
    // The directory as it was bootstrapped serves again, without the user the reset removed.
    let served = serve(&["--data-dir", data_arg, "--account-id", "123456789012"], &[], &cwd);
    let gone = call(served.addr, "iam", (KEY_ID, SECRET), "Action=GetUser&UserName=bob&Version=2010-05-08");
    assert_eq!(gone.status, 404, "{}", gone.body);
}
