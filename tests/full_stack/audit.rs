//! The audit sink receives one event per call and per decision, with its fields.

use castellan::store::NewUser;
use castellan::{Access, AuditKind};

use crate::common::{World, allow};

#[test]
fn one_event_per_call_and_per_decision() {
    let w = World::new();
    let alice = w.user("alice", Some(&allow(&["s3:GetObject"], "arn:aws:s3:::bucket/*")));
    let before = w.audit.events().len();
    let alice = alice.from_ip("192.0.2.10");
    // A call that is denied, a call that fails after authorization, a call that succeeds.
    assert!(w.iam.create_user(&alice, NewUser { name: "x".into(), ..NewUser::default() }).is_err());
    assert!(w.iam.get_user(&w.root(), Some("nobody-here")).is_err());
    w.iam.get_user(&w.root(), Some("alice")).unwrap();
    // Two decisions.
    assert!(w.iam.authorize(&alice, &Access::new("s3:GetObject", "arn:aws:s3:::bucket/k")).unwrap().is_allowed());
    assert!(!w.iam.authorize(&alice, &Access::new("s3:PutObject", "arn:aws:s3:::bucket/k")).unwrap().is_allowed());
    let events = w.audit.events();
    assert_eq!(events.len() - before, 5, "{events:#?}");
    let new = &events[before..];
    let denied = &new[0];
    assert_eq!(denied.kind, AuditKind::Call);
    assert_eq!(denied.principal.as_deref(), Some("arn:aws:iam::111122223333:user/alice"));
    assert_eq!(denied.account.as_deref(), Some("111122223333"));
    assert_eq!(denied.action, "iam:CreateUser");
    assert_eq!(denied.resource, "arn:aws:iam::111122223333:user/x");
    assert_eq!(denied.source_ip.as_deref(), Some("192.0.2.10"));
    assert_eq!((denied.decision.as_str(), denied.error_code.as_deref()), ("Deny", Some("AccessDenied")));
    assert_eq!(denied.time, "2024-01-01T00:00:00Z");
    assert_eq!((new[1].decision.as_str(), new[1].error_code.as_deref()), ("Allow", Some("NoSuchEntity")));
    assert_eq!((new[2].decision.as_str(), new[2].error_code.as_deref()), ("Allow", None));
    assert_eq!(new[2].principal.as_deref(), Some("arn:aws:iam::111122223333:root"));
    assert_eq!(
        (new[3].kind, new[3].decision.as_str(), new[3].action.as_str()),
        (AuditKind::Decision, "Allow", "s3:GetObject")
    );
    assert_eq!((new[4].kind, new[4].decision.as_str()), (AuditKind::Decision, "ImplicitDeny"));
}

#[test]
fn a_data_directory_keeps_a_json_lines_audit_log() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("castellan-audit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    {
        let iam = castellan::Iam::builder().data_dir(&dir).seed(1).open().unwrap();
        let root = castellan::Caller::root(iam.bootstrap_account());
        iam.create_user(&root, NewUser { name: "alice".into(), ..NewUser::default() }).unwrap();
    }
    let log = std::fs::read_to_string(dir.join(castellan::AUDIT_FILE)).unwrap();
    let lines: Vec<serde_json::Value> = log.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1, "{log}");
    assert_eq!(lines[0]["action"], "iam:CreateUser");
    assert_eq!(lines[0]["kind"], "call");
    assert_eq!(lines[0]["decision"], "Allow");
    let _ = std::fs::remove_dir_all(&dir);
}
