//! The `store` section of the table printer: the identity store's write throughput, how long a
//! write takes to show in `snapshot()`, and memory per principal, for `MemoryStore` and
//! `DurableStore` (SQLite, `synchronous=FULL`, in a directory under `std::env::temp_dir()`).
//!
//! Method: one account is populated with 20 groups, 10 customer managed policies, users and
//! roles; each user is created with one tag and gets one attached policy (AWS managed or customer
//! managed, alternating), every tenth user joins a group, each role gets an AWS managed policy;
//! each group has one AWS managed and one customer managed policy. Every write call is timed
//! alone. Snapshot update latency: a `tag_user` call, then `snapshot()` until the generation has
//! moved (publishing is synchronous, so the first call sees it), timed as one; plus `snapshot()`
//! calls alone. Memory: `VmRSS` of `/proc/self/status` before and after populating, divided by the
//! principals created (an estimate: allocator slack counts too), for `MemoryStore` only (the
//! process's freed memory would hide `DurableStore`'s growth; its state is the same in-memory
//! state plus SQLite's page cache).
//!
//! 1,000 accounts: one `Directory` (in memory, then in a data directory) holding 1,000 accounts,
//! each with 5 users (one AWS managed policy attached each) and 1 role; every account creation and
//! every write is timed alone (accounts are written round-robin, so consecutive writes go to
//! different accounts), and the in-memory directory's RSS growth is divided by 1,000.

use std::sync::Arc;
use std::time::{Duration, Instant};

use castellan_credentials::FixedClock;
use castellan_policy::AccountId;
use castellan_store::{
    Directory, DurableStore, Entity, MemoryStore, NewPolicy, NewRole, NewUser, PageRequest, PolicyScope, Store, Tag,
};
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::Settings;

const ACCOUNT: &str = "123456789012";
const USERS: usize = 5_000;
const ROLES: usize = 1_000;
/// `DurableStore` commits each write with an fsync (kept as constants of their own so that a slow
/// disk can be given fewer).
const DURABLE_USERS: usize = 5_000;
const DURABLE_ROLES: usize = 1_000;
const TAG_WRITES: usize = 1_000;
const DURABLE_TAG_WRITES: usize = 200;
const SNAPSHOT_READS: usize = 100_000;

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// Prints the section's table.
pub(crate) fn store(_: &Settings) {
    println!("## store: writes, snapshot update latency and memory (one account; all AWS managed policies present)");
    println!();
    println!("| backend | principals | operation | calls | calls per second | p50 | p99 |");
    println!("|---|---:|---|---:|---:|---:|---:|");
    let account = || AccountId::parse(ACCOUNT).unwrap_or_else(|e| panic!("{e:?}"));
    let clock = || Arc::new(FixedClock::new(1_700_000_000));

    let before = rss_kib();
    let memory = MemoryStore::new(account(), clock(), StdRng::seed_from_u64(1));
    let empty = rss_kib();
    run("MemoryStore", &memory, USERS, ROLES, TAG_WRITES);
    let full = rss_kib();
    // Measured while the one account is still alive, so that freed pages do not hide growth.
    let accounts_before = rss_kib();
    let directory = Directory::in_memory(clock(), StdRng::seed_from_u64(3));
    let (creates, writes) = populate_accounts(&directory);
    let accounts_after = rss_kib();
    let snapshots: usize =
        directory.account_ids().iter().filter_map(|id| directory.snapshot(id)).map(|s| s.users().count()).sum();
    let label = format!("{ACCOUNTS} accounts × (5 users + 1 role)");
    row("Directory (memory)", &label, "create account", creates);
    row("Directory (memory)", &label, "CreateUser / AttachUserPolicy / CreateRole, round-robin", writes);
    drop(directory);
    drop(memory);

    let dir = std::env::temp_dir().join(format!("castellan-bench-store-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let durable =
        DurableStore::open(&dir, account(), clock(), StdRng::seed_from_u64(2)).unwrap_or_else(|e| panic!("{e}"));
    run("DurableStore", &durable, DURABLE_USERS, DURABLE_ROLES, DURABLE_TAG_WRITES);
    drop(durable);
    let _ = std::fs::remove_dir_all(&dir);
    let directory = Directory::open(&dir, clock(), StdRng::seed_from_u64(4)).unwrap_or_else(|e| panic!("{e}"));
    let (creates, writes) = populate_accounts(&directory);
    drop(directory);
    let reopen =
        timed(|| drop(Directory::open(&dir, clock(), StdRng::seed_from_u64(5)).unwrap_or_else(|e| panic!("{e}"))));
    let _ = std::fs::remove_dir_all(&dir);
    let label = format!("{ACCOUNTS} accounts × (5 users + 1 role)");
    row("Directory (durable)", &label, "create account", creates);
    row("Directory (durable)", &label, "CreateUser / AttachUserPolicy / CreateRole, round-robin", writes);
    row("Directory (durable)", &label, "open the data directory (load every account)", vec![reopen]);

    println!();
    println!("Memory (VmRSS growth, KiB; estimate):");
    println!();
    println!("| what | RSS growth | per unit |");
    println!("|---|---:|---:|");
    let principals = (USERS + ROLES) as f64;
    println!("| MemoryStore, empty store (AWS managed policies) | {} KiB | – |", empty - before);
    println!(
        "| MemoryStore, {USERS} users + {ROLES} roles | {} KiB | {:.2} KiB per principal |",
        full - empty,
        (full - empty) as f64 / principals
    );
    println!(
        "| one Directory of {ACCOUNTS} accounts ({snapshots} users in all, 5 users + 1 role each) | {} KiB | {:.1} KiB per account |",
        accounts_after - accounts_before,
        (accounts_after - accounts_before) as f64 / 1_000.0
    );
    println!();
}

const ACCOUNTS: usize = 1_000;

/// Creates [`ACCOUNTS`] accounts in `directory`, then their users and roles round-robin; returns
/// the account creations' and the writes' times.
fn populate_accounts(directory: &Directory) -> (Vec<Duration>, Vec<Duration>) {
    let mut creates = Vec::with_capacity(ACCOUNTS);
    let mut stores = Vec::with_capacity(ACCOUNTS);
    for i in 0..ACCOUNTS {
        let id = AccountId::parse(&format!("{:012}", 100_000_000_000 + i)).unwrap_or_else(|e| panic!("{e:?}"));
        let start = Instant::now();
        let store = check(directory.create_account(id));
        creates.push(start.elapsed());
        stores.push(store);
    }
    let mut writes = Vec::with_capacity(ACCOUNTS * 11);
    for u in 0..5 {
        for store in &stores {
            writes.push(timed(|| create_user(store.as_ref(), u)));
            writes.push(timed(|| {
                attach(store.as_ref(), Entity::User(&format!("user-{u}")), "arn:aws:iam::aws:policy/ReadOnlyAccess");
            }));
        }
    }
    for store in &stores {
        writes.push(timed(|| {
            check(store.create_role(NewRole {
                name: "role-0".to_owned(),
                assume_role_policy_document: TRUST.to_owned(),
                ..NewRole::default()
            }));
        }));
    }
    (creates, writes)
}

/// Populates `store` and prints its rows.
fn run(backend: &str, store: &dyn Store, users: usize, roles: usize, tag_writes: usize) {
    let aws: Vec<String> = check(store.list_policies_in_scope(PolicyScope::Aws, None, &PageRequest::first(50)))
        .items
        .into_iter()
        .map(|p| p.arn)
        .collect();
    let local: Vec<String> = (0..10)
        .map(|i| {
            check(store.create_policy(NewPolicy {
                name: format!("policy-{i}"),
                document: format!(
                    r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket-{i}/*"}}]}}"#
                ),
                ..NewPolicy::default()
            }))
            .arn
        })
        .collect();
    for g in 0..20 {
        let name = format!("group-{g}");
        check(store.create_group(&name, None));
        attach(store, Entity::Group(&name), pick(&aws, g));
        attach(store, Entity::Group(&name), pick(&local, g));
    }
    let principals = users + roles;
    let mut create = Vec::with_capacity(users);
    let mut attaches = Vec::with_capacity(principals);
    for u in 0..users {
        create.push(timed(|| create_user(store, u)));
        let arn = if u % 2 == 0 { pick(&aws, u) } else { pick(&local, u) };
        attaches.push(timed(|| attach(store, Entity::User(&format!("user-{u}")), arn)));
        if u % 10 == 0 {
            check(store.add_user_to_group(&format!("group-{}", u % 20), &format!("user-{u}")));
        }
    }
    let mut create_roles = Vec::with_capacity(roles);
    for r in 0..roles {
        create_roles.push(timed(|| {
            check(store.create_role(NewRole {
                name: format!("role-{r}"),
                assume_role_policy_document: TRUST.to_owned(),
                tags: vec![Tag::new("team", format!("t{}", r % 7))],
                ..NewRole::default()
            }));
        }));
        attaches.push(timed(|| attach(store, Entity::Role(&format!("role-{r}")), pick(&aws, r))));
    }
    let mut visible = Vec::with_capacity(tag_writes);
    for i in 0..tag_writes {
        let generation = store.snapshot().generation();
        visible.push(timed(|| {
            check(store.tag_user(&format!("user-{}", i % users), vec![Tag::new("round", i.to_string())]));
            while store.snapshot().generation() == generation {}
        }));
    }
    let mut reads = Vec::with_capacity(SNAPSHOT_READS);
    for _ in 0..SNAPSHOT_READS {
        reads.push(timed(|| {
            std::hint::black_box(store.snapshot());
        }));
    }
    let snapshot = store.snapshot();
    assert_eq!(snapshot.users().count(), users);
    assert_eq!(snapshot.roles().count(), roles);
    let label = format!("{users} users + {roles} roles");
    row(backend, &label, "CreateUser (1 tag)", create);
    row(backend, &label, "CreateRole (1 tag)", create_roles);
    row(backend, &label, "AttachUserPolicy / AttachRolePolicy", attaches);
    row(backend, &label, "TagUser until snapshot() shows it", visible);
    row(backend, &label, "snapshot()", reads);
}

fn create_user(store: &dyn Store, u: usize) {
    check(store.create_user(NewUser {
        name: format!("user-{u}"),
        tags: vec![Tag::new("team", format!("t{}", u % 7))],
        ..NewUser::default()
    }));
}

fn attach(store: &dyn Store, entity: Entity<'_>, arn: &str) {
    check(store.attach_policy(entity, arn));
}

/// The `i`-th ARN of `arns`, cycled.
fn pick(arns: &[String], i: usize) -> &str {
    arns.iter().cycle().nth(i % arns.len().max(1)).map_or("", String::as_str)
}

fn check<T>(result: Result<T, castellan_store::StoreError>) -> T {
    result.unwrap_or_else(|e| panic!("{e}"))
}

fn timed(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

fn row(backend: &str, principals: &str, operation: &str, mut times: Vec<Duration>) {
    let total: Duration = times.iter().sum();
    times.sort();
    let at = |q: f64| times.get(((times.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or_default();
    println!(
        "| {backend} | {principals} | {operation} | {} | {:.0} | {} | {} |",
        times.len(),
        times.len() as f64 / total.as_secs_f64().max(1e-12),
        show(at(0.5)),
        show(at(0.99)),
    );
}

fn show(time: Duration) -> String {
    let s = time.as_secs_f64();
    if s >= 1e-3 { format!("{:.2} ms", s * 1e3) } else { format!("{:.2} µs", s * 1e6) }
}

/// The process's resident set, in KiB (`VmRSS` of `/proc/self/status`; 0 where there is none).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
