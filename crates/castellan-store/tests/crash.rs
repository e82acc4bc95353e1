//! The crash test: a child process (this test binary, re-executed) writes to a durable store and
//! is killed with SIGKILL at random moments; after each kill the store must reopen without
//! repair, hold every acknowledged write, and hold no write in part.
//!
//! CI runs a few kills; `CASTELLAN_CRASH_ITERATIONS=N` (or `cargo xtask crash --iterations N`)
//! runs more.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use castellan_credentials::FixedClock;
use castellan_policy::AccountId;
use castellan_store::{DATA_FILE, DurableStore, Entity, ErrorCode, NewPolicy, NewUser, PageRequest, Store, Tag};
use rand::SeedableRng;
use rand::rngs::StdRng;

const ACCOUNT: &str = "123456789012";
const DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
/// Tells the re-executed test binary to act as the writer, in this data directory.
const WRITER_DIR: &str = "CASTELLAN_CRASH_WRITER_DIR";
/// The number of the writer's first write.
const WRITER_START: &str = "CASTELLAN_CRASH_WRITER_START";
const DEFAULT_ITERATIONS: usize = 5;

fn open(dir: &Path, seed: u64) -> DurableStore {
    DurableStore::open(
        dir,
        AccountId::parse(ACCOUNT).unwrap(),
        Arc::new(FixedClock::new(1_700_000_000)),
        StdRng::seed_from_u64(seed),
    )
    .expect("the store opens without repair")
}

fn policy_arn() -> String {
    format!("arn:aws:iam::{ACCOUNT}:policy/P")
}

fn tags(n: u64) -> Vec<Tag> {
    (1..=3).map(|i| Tag::new(format!("t{i}"), n.to_string())).collect()
}

/// Write number `n`: 0 creates policy `P`; then, in turn (by `n % 3` = 1, 2, 0), create user
/// `u{n}` with three tags, attach `P` to `u{n-1}` (two records: the user and the policy's
/// count), put inline policy `p{n}` on `u{n-2}`.
fn write(s: &impl Store, n: u64) {
    match (n, n % 3) {
        (0, _) => {
            drop(s.create_policy(NewPolicy { name: "P".into(), document: DOC.into(), ..NewPolicy::default() }).unwrap())
        }
        (_, 1) => drop(s.create_user(NewUser { name: format!("u{n}"), tags: tags(n), ..NewUser::default() }).unwrap()),
        (_, 2) => s.attach_policy(Entity::User(&format!("u{}", n - 1)), &policy_arn()).unwrap(),
        _ => s.put_inline_policy(Entity::User(&format!("u{}", n - 2)), &format!("p{n}"), DOC).unwrap(),
    }
}

/// Whether write `n` is in the store.
fn present(s: &impl Store, n: u64) -> bool {
    let arn = policy_arn();
    match (n, n % 3) {
        (0, _) => s.policy(&arn).is_ok(),
        (_, 1) => s.user(&format!("u{n}")).is_ok(),
        (_, 2) => {
            s.list_attached_policies(Entity::User(&format!("u{}", n - 1))).is_ok_and(|a| a.iter().any(|p| p.arn == arn))
        }
        _ => s.inline_policy(Entity::User(&format!("u{}", n - 2)), &format!("p{n}")).is_ok(),
    }
}

/// The invariants no half-applied write could keep: every user has its three tags, and the
/// policy's attachment count is the number of users it is attached to.
fn check_whole(s: &impl Store) {
    let mut users = Vec::new();
    let mut page = PageRequest::first(1000);
    loop {
        let listed = s.list_users(None, &page).unwrap();
        users.extend(listed.items);
        match listed.marker {
            Some(m) => page.marker = Some(m),
            None => break,
        }
    }
    let mut attached = 0;
    for u in &users {
        let n: u64 = u.name.as_str()[1..].parse().unwrap();
        assert_eq!(u.tags, tags(n), "user {} is whole", u.name);
        attached += s.list_attached_policies(Entity::User(u.name.as_str())).unwrap().len();
    }
    if let Ok(p) = s.policy(&policy_arn()) {
        assert_eq!(p.attachment_count, attached, "attachment count matches the attachments");
    } else {
        assert!(users.is_empty());
    }
}

/// The child: writes from `CASTELLAN_CRASH_WRITER_START` on, printing `ack N` after each
/// acknowledged write, until killed (or a bound, should the parent be gone).
#[test]
fn crash_writer() {
    let Ok(dir) = std::env::var(WRITER_DIR) else { return };
    let start: u64 = std::env::var(WRITER_START).unwrap().parse().unwrap();
    let s = open(Path::new(&dir), start ^ u64::from(std::process::id()));
    let mut out = std::io::stdout();
    for n in start..start + 100_000 {
        write(&s, n);
        writeln!(out, "ack {n}").unwrap();
        out.flush().unwrap();
    }
}

/// A small xorshift64 generator: enough to pick kill points.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn temp_dir() -> PathBuf {
    let dir =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("castellan-store-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    if std::env::var_os(WRITER_DIR).is_some() {
        return;
    }
    let iterations = std::env::var("CASTELLAN_CRASH_ITERATIONS")
        .map(|v| v.parse().expect("CASTELLAN_CRASH_ITERATIONS is a number"))
        .unwrap_or(DEFAULT_ITERATIONS);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let seed = (u64::from(nanos) << 16) ^ u64::from(std::process::id()) | 1;
    eprintln!("crash test: seed {seed}, {iterations} kills");
    let mut rng = XorShift(seed);
    let dir = temp_dir();
    let exe = std::env::current_exe().unwrap();
    let mut next = 0_u64;
    let mut acked_total = 0_u64;
    for iteration in 0..iterations {
        let kill_after = 1 + rng.next() % 40;
        let mut child = Command::new(&exe)
            .args(["--exact", "crash_writer", "--nocapture", "--test-threads=1"])
            .env(WRITER_DIR, &dir)
            .env(WRITER_START, next.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut last_ack = None;
        let mut seen = 0;
        let mut killed = false;
        for line in lines.by_ref() {
            let Some(n) = line.unwrap().strip_prefix("ack ").map(|n| n.parse::<u64>().unwrap()) else { continue };
            last_ack = Some(n);
            seen += 1;
            if seen == kill_after {
                // Some spin so the kill lands anywhere in the next write.
                for _ in 0..rng.next() % 20_000 {
                    std::hint::spin_loop();
                }
                child.kill().unwrap();
                killed = true;
                break;
            }
        }
        // Acknowledgements already in the pipe when the kill landed count too.
        for line in lines {
            if let Some(n) = line.unwrap().strip_prefix("ack ").map(|n| n.parse::<u64>().unwrap()) {
                last_ack = Some(n);
            }
        }
        let status = child.wait().unwrap();
        assert!(killed && !status.success(), "iteration {iteration}: the writer was killed ({status})");
        let Some(last_ack) = last_ack else { panic!("iteration {iteration}: no write acknowledged") };

        let conn = rusqlite::Connection::open(dir.join(DATA_FILE)).unwrap();
        let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(integrity, "ok");
        drop(conn);
        let s = open(&dir, 0);
        for n in 0..=last_ack {
            assert!(present(&s, n), "iteration {iteration}: acknowledged write {n} is present");
        }
        check_whole(&s);
        // The write in flight when killed may or may not have committed; later ones cannot have.
        next = if present(&s, last_ack + 1) { last_ack + 2 } else { last_ack + 1 };
        assert!(!present(&s, next), "iteration {iteration}: write {next} was never made");
        acked_total = last_ack + 1;
        drop(s);
    }
    // The store still takes writes after all the kills.
    assert_eq!(open(&dir, 0).create_group("after", None).map(|_| ()).map_err(|e| e.code()), Ok::<(), ErrorCode>(()));
    eprintln!(
        "crash test: {iterations} kills; writes 0..{acked_total} acknowledged, each checked after every later kill"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
