//! The `sts` section of the table printer: `AssumeRole` calls per second and the latency of
//! opening a session token.
//!
//! Method: one account (`MemoryStore`) with 50 users, 50 roles and AWS managed policies
//! present. The caller is a user whose identity policies (one inline, one customer managed)
//! allow `sts:AssumeRole` on `role/deploy-*` among other statements; the role's trust policy
//! names the account and requires `aws:SecureTransport` and a `aws:PrincipalTag/team` condition;
//! the role has tags and its own identity policy. Rows: a user calling `AssumeRole` (validation,
//! one snapshot read per side, one evaluation, key generation, sealing the token), the same
//! with a session policy and two session tags (two evaluations: `sts:TagSession` too), and a
//! role session chaining to a second role (the token's session policies re-parsed). Every call
//! is timed alone (`Instant` around it); calls per second is calls over the summed time.
//! Token open: `SessionTokenService::open_for` on the tokens the first row issued (base64,
//! XChaCha20-Poly1305, JSON), each timed alone.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use castellan_credentials::{Clock, FixedClock, SealingKey};
use castellan_eval::Context;
use castellan_policy::AccountId;
use castellan_store::{Entity, MemoryStore, NewPolicy, NewRole, NewUser, Store, Tag};
use castellan_sts::{AssumeRoleRequest, Caller, SessionTokenService, Sts};
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::Settings;

const ACCOUNT: &str = "123456789012";
const CALLS: usize = 20_000;

const IDENTITY: &str = r#"{"Version":"2012-10-17","Statement":[
 {"Sid":"ReadBuckets","Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::team-data","arn:aws:s3:::team-data/*"]},
 {"Sid":"AssumeDeploy","Effect":"Allow","Action":["sts:AssumeRole","sts:TagSession"],"Resource":"arn:aws:iam::123456789012:role/deploy-*"},
 {"Sid":"NoIam","Effect":"Deny","Action":"iam:*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}}]}"#;

const MANAGED: &str = r#"{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":["ec2:Describe*","cloudwatch:Get*","logs:FilterLogEvents"],"Resource":"*"},
 {"Effect":"Deny","Action":"sts:AssumeRole","Resource":"arn:aws:iam::123456789012:role/admin-*"}]}"#;

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[
 {"Sid":"Team","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":["sts:AssumeRole","sts:TagSession"],
  "Condition":{"Bool":{"aws:SecureTransport":"true"},"StringEquals":{"aws:PrincipalTag/team":"payments"}}},
 {"Sid":"Chain","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/deploy-app"},"Action":"sts:AssumeRole"},
 {"Sid":"NoOutsiders","Effect":"Deny","Principal":{"AWS":"*"},"Action":"sts:AssumeRole",
  "Condition":{"StringNotEquals":{"aws:PrincipalAccount":"123456789012"}}}]}"#;

const SERVICE_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

const SESSION_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","sts:AssumeRole"],"Resource":"*"}]}"#;

/// Prints the section's table.
pub(crate) fn sts(_: &Settings) {
    let clock = Arc::new(FixedClock::new(1_800_000_000));
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let account = AccountId::parse(ACCOUNT).unwrap_or_else(|e| panic!("{e:?}"));
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new(account, dyn_clock, StdRng::seed_from_u64(1)));
    populate(&*store);
    let mut accounts: std::collections::BTreeMap<String, Arc<dyn Store>> = std::collections::BTreeMap::new();
    accounts.insert(ACCOUNT.to_owned(), Arc::clone(&store));
    let tokens = SessionTokenService::new(SealingKey::new(1, [7; 32]));
    let sts = Sts { accounts: &accounts, tokens: &tokens, clock: &*clock, mfa: None, guardrails: None };
    let mut ctx = Context::new();
    ctx.set("aws:SecureTransport", "true");
    ctx.set("aws:SourceIp", "203.0.113.7");
    let mut rng = StdRng::seed_from_u64(9);

    let alice = Caller::User { account: ACCOUNT.to_owned(), name: "user-7".to_owned() };
    let plain = AssumeRoleRequest {
        role_arn: format!("arn:aws:iam::{ACCOUNT}:role/deploy-app"),
        role_session_name: "bench".to_owned(),
        ..AssumeRoleRequest::default()
    };
    let tagged = AssumeRoleRequest {
        policy: Some(SESSION_POLICY.to_owned()),
        tags: vec![Tag::new("project", "castellan"), Tag::new("cost-center", "42")],
        transitive_tag_keys: vec!["project".to_owned()],
        ..plain.clone()
    };
    let chained_request = AssumeRoleRequest {
        role_arn: format!("arn:aws:iam::{ACCOUNT}:role/deploy-web"),
        role_session_name: "chained".to_owned(),
        ..AssumeRoleRequest::default()
    };

    println!("## sts: AssumeRole and session token opening (one account, MemoryStore, 50 users and 50 roles)");
    println!();
    println!("| operation | calls | calls per second | p50 | p99 |");
    println!("|---|---:|---:|---:|---:|");

    let mut issued = Vec::with_capacity(CALLS);
    let mut times = Vec::with_capacity(CALLS);
    for _ in 0..CALLS {
        let start = Instant::now();
        let r = sts.assume_role(&alice, black_box(&plain), &ctx, &mut rng);
        times.push(start.elapsed());
        issued.push(r.unwrap_or_else(|e| panic!("AssumeRole refused: {e}")));
    }
    row("AssumeRole, user → role (trust names the account; identity allow)", times);

    let times = timed_calls(|| {
        sts.assume_role(&alice, black_box(&tagged), &ctx, &mut rng).map(|r| r.packed_policy_size).is_ok()
    });
    row("AssumeRole, user → role, session policy + 2 session tags", times);

    let session = issued.first().map(|r| Caller::Session(Box::new(r.claims.clone()))).unwrap_or_else(|| panic!());
    let times = timed_calls(|| sts.assume_role(&session, black_box(&chained_request), &ctx, &mut rng).is_ok());
    row("AssumeRole, role session → role (chaining)", times);

    let now = clock.now();
    let mut times = Vec::with_capacity(issued.len());
    for r in &issued {
        let token = r.credentials.session_token.as_str();
        let key = r.credentials.access_key_id.as_str();
        let start = Instant::now();
        let opened = tokens.open_for(black_box(token), black_box(key), now);
        times.push(start.elapsed());
        if opened.is_err() {
            panic!("a token did not open");
        }
    }
    let size = issued.first().map_or(0, |r| r.credentials.session_token.as_str().len());
    row(&format!("SessionTokenService::open_for ({size}-byte token)"), times);
    println!();
}

/// Times `CALLS` calls of `f` alone; every call must succeed.
fn timed_calls(mut f: impl FnMut() -> bool) -> Vec<Duration> {
    (0..CALLS)
        .map(|_| {
            let start = Instant::now();
            let ok = f();
            let elapsed = start.elapsed();
            if !ok {
                panic!("a call was refused");
            }
            elapsed
        })
        .collect()
}

fn populate(store: &dyn Store) {
    let check = |r: Result<(), castellan_store::StoreError>| r.unwrap_or_else(|e| panic!("{e}"));
    let managed = store
        .create_policy(NewPolicy { name: "TeamOps".into(), document: MANAGED.into(), ..NewPolicy::default() })
        .unwrap_or_else(|e| panic!("{e}"))
        .arn;
    for u in 0..50 {
        let name = format!("user-{u}");
        let tags = vec![Tag::new("team", if u % 2 == 1 { "payments" } else { "search" })];
        store.create_user(NewUser { name: name.clone(), tags, ..NewUser::default() }).unwrap_or_else(|e| panic!("{e}"));
        check(store.put_inline_policy(Entity::User(&name), "base", IDENTITY));
        check(store.attach_policy(Entity::User(&name), &managed));
    }
    for r in 0..50 {
        let name = match r {
            0 => "deploy-app".to_owned(),
            1 => "deploy-web".to_owned(),
            _ => format!("service-{r}"),
        };
        store
            .create_role(NewRole {
                name: name.clone(),
                // The trust names `deploy-app`, which must exist first: set below.
                assume_role_policy_document: SERVICE_TRUST.into(),
                max_session_duration: Some(7_200),
                tags: vec![Tag::new("env", "prod"), Tag::new("owner", "platform")],
                ..NewRole::default()
            })
            .unwrap_or_else(|e| panic!("{e}"));
        check(store.attach_policy(Entity::Role(&name), "arn:aws:iam::aws:policy/ReadOnlyAccess"));
        check(store.put_inline_policy(Entity::Role(&name), "chain", SESSION_POLICY));
    }
    for r in 0..50 {
        let name = match r {
            0 => "deploy-app".to_owned(),
            1 => "deploy-web".to_owned(),
            _ => format!("service-{r}"),
        };
        check(store.update_assume_role_policy(&name, TRUST));
    }
}

fn row(operation: &str, mut times: Vec<Duration>) {
    let total: Duration = times.iter().sum();
    times.sort();
    let at = |q: f64| times.get(((times.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or_default();
    println!(
        "| {operation} | {} | {:.0} | {} | {} |",
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
