//! `DecodeAuthorizationMessage`, `GetCallerIdentity` and `GetAccessKeyInfo`.

use castellan_credentials::access_key::AccessKeyRecord;
use castellan_credentials::{AccessKeyKind, Sealer};
use castellan_eval::{Layers, NamedPolicy, Principal, Request, evaluate};
use castellan_policy::{Policy, PolicyKind};
use castellan_store::Owner;
use castellan_sts::{AuthorizationMessage, GetFederationTokenRequest, GetSessionTokenRequest};

use super::*;

fn sts(w: &World) -> Sts<'_> {
    Sts { accounts: &w.accounts, tokens: &w.tokens, clock: &*w.clock, mfa: None, guardrails: None }
}

/// A denial of `s3:GetObject` to alice by an explicit deny, explained and encoded.
fn encoded_denial(w: &mut World) -> (String, serde_json::Value) {
    let alice = w.store(A).user("alice").unwrap();
    let mut principal = Principal::from_arn(&alice.arn, None).unwrap();
    principal.unique_id = Some(alice.user_id.as_str().into());
    let deny = Policy::parse(
        r#"{"Version": "2012-10-17", "Statement": [{"Sid": "NoSecrets", "Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"}]}"#,
        PolicyKind::Identity,
    )
    .unwrap();
    let mut ctx = Context::new();
    ctx.set("aws:SourceIp", "203.0.113.7");
    let req = Request {
        principal: &principal,
        action: "s3:GetObject",
        resource: "arn:aws:s3:::secrets/key",
        resource_account: None,
        context: &ctx,
    };
    let layers =
        Layers { identity: vec![NamedPolicy { id: "user/alice/inline/p", policy: &deny }], ..Layers::default() };
    let decision = evaluate(&req, &layers);
    let message = AuthorizationMessage::new(&decision, &req, &["aws:SourceIp", "aws:NotThere"]);
    let encoded = sts(w).encode_authorization_message(&message, &mut StdRng::seed_from_u64(5)).unwrap();
    let json: serde_json::Value = serde_json::from_str(&message.to_json()).unwrap();
    (encoded, json)
}

#[test]
fn authorization_messages_decode_for_allowed_callers_of_the_account() {
    let mut w = World::new();
    w.user(A, "alice", None);
    let (encoded, expected) = encoded_denial(&mut w);
    assert_eq!(expected["allowed"], false);
    assert_eq!(expected["explicitDeny"], true);
    assert_eq!(expected["matchedStatements"]["items"][0]["statementId"], "NoSecrets");
    assert_eq!(expected["matchedStatements"]["items"][0]["effect"], "DENY");
    assert_eq!(expected["context"]["principal"]["name"], "alice");
    assert!(expected["context"]["principal"]["id"].as_str().unwrap().starts_with("AIDA"));
    assert_eq!(expected["context"]["action"], "s3:GetObject");
    assert_eq!(
        expected["context"]["conditions"]["items"],
        serde_json::json!([{"key": "aws:SourceIp", "values": {"items": [{"value": "203.0.113.7"}]}}])
    );

    let reader = w.user(A, "reader", Some(&allow("\"sts:DecodeAuthorizationMessage\"", "*")));
    let decoded = sts(&w).decode_authorization_message(&reader, &encoded, &Context::new()).unwrap();
    assert_eq!(serde_json::from_str::<serde_json::Value>(&decoded).unwrap(), expected);
    // The root user needs no policy.
    let root = Caller::Root { account: A.to_owned() };
    assert!(sts(&w).decode_authorization_message(&root, &encoded, &Context::new()).is_ok());
    // Without the permission: AccessDenied, before the message is even looked at.
    let nobody = w.user(A, "nobody", None);
    assert_eq!(
        code(sts(&w).decode_authorization_message(&nobody, &encoded, &Context::new())),
        StsErrorCode::AccessDenied
    );
    assert_eq!(
        code(sts(&w).decode_authorization_message(&nobody, "garbage", &Context::new())),
        StsErrorCode::AccessDenied
    );
    // Another account's caller may not read it, allowed or not.
    let stranger = w.user(B, "stranger", Some(&allow("\"sts:DecodeAuthorizationMessage\"", "*")));
    let e = sts(&w).decode_authorization_message(&stranger, &encoded, &Context::new()).unwrap_err();
    assert_eq!((e.code.as_str(), e.status), ("InvalidAuthorizationMessageException", 400));
}

#[test]
fn altered_or_foreign_messages_are_invalid() {
    let mut w = World::new();
    w.user(A, "alice", None);
    let (encoded, _) = encoded_denial(&mut w);
    let reader = w.user(A, "reader", Some(&allow("\"sts:DecodeAuthorizationMessage\"", "*")));
    let invalid = |w: &World, text: &str| {
        let r = sts(w).decode_authorization_message(&reader, text, &Context::new());
        assert_eq!(code(r), StsErrorCode::InvalidAuthorizationMessage, "{text}");
    };
    let mut bytes = encoded.clone().into_bytes();
    let mid = bytes.len() / 2;
    bytes[mid] = if bytes[mid] == b'A' { b'B' } else { b'A' };
    invalid(&w, &String::from_utf8(bytes).unwrap());
    invalid(&w, &encoded[..encoded.len() - 4]);
    invalid(&w, "not base64 at all!");
    // A session token, sealed by the same keys under its own context, is not a message.
    let alice = Caller::User { account: A.to_owned(), name: "alice".to_owned() };
    let t =
        sts(&w).get_session_token(&alice, &GetSessionTokenRequest::default(), &mut StdRng::seed_from_u64(1)).unwrap();
    invalid(&w, t.credentials.session_token.as_str());
    // Keys dropped: the message no longer opens.
    let rotated = w.tokens.clone().rotate(SealingKey::new(2, [9; 32])).drop_key(1);
    let s = Sts { tokens: &rotated, ..sts(&w) };
    assert_eq!(
        code(s.decode_authorization_message(&reader, &encoded, &Context::new())),
        StsErrorCode::InvalidAuthorizationMessage
    );
    // Too long for the API.
    let e = sts(&w).decode_authorization_message(&reader, &"A".repeat(10_241), &Context::new()).unwrap_err();
    assert_eq!(e.code, StsErrorCode::ValidationError);
}

#[test]
fn get_caller_identity_answers_everyone_and_cannot_be_denied() {
    let w = World::new();
    let deny_all = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Action": "*", "Resource": "*"}}"#;
    let alice = w.user(A, "alice", Some(deny_all));
    let user = w.store(A).user("alice").unwrap();
    let who = sts(&w).get_caller_identity(&alice).unwrap();
    assert_eq!((who.user_id, who.account.as_str(), who.arn), (user.user_id.clone(), A, user.arn.clone()));
    let root = sts(&w).get_caller_identity(&Caller::Root { account: A.to_owned() }).unwrap();
    assert_eq!((root.user_id.as_str(), root.arn), (A, format!("arn:aws:iam::{A}:root")));
    // A federated user, whose credentials may call no other STS operation.
    w.store(A).put_inline_policy(Entity::User("alice"), "p", &allow("\"sts:GetFederationToken\"", "*")).unwrap();
    let fed = sts(&w)
        .get_federation_token(
            &alice,
            &GetFederationTokenRequest { name: "fed".into(), ..Default::default() },
            &Context::new(),
            &mut StdRng::seed_from_u64(1),
        )
        .unwrap();
    let fed_caller = w.session_of(&fed.credentials);
    let who = sts(&w).get_caller_identity(&fed_caller).unwrap();
    assert_eq!((who.user_id, who.arn), (format!("{A}:fed"), format!("arn:aws:sts::{A}:federated-user/fed")));
    // An expired session is refused.
    w.clock.advance(43_200);
    assert_eq!(code(sts(&w).get_caller_identity(&fed_caller)), StsErrorCode::ExpiredToken);
    // A user deleted since: refused like an unknown key.
    w.store(A).delete_inline_policy(Entity::User("alice"), "p").unwrap();
    w.store(A).delete_user("alice").unwrap();
    assert_eq!(code(sts(&w).get_caller_identity(&alice)), StsErrorCode::InvalidClientTokenId);
}

#[test]
fn get_access_key_info_finds_long_term_and_temporary_keys() {
    let mut w = World::new();
    let sealer = Sealer::new(SealingKey::new(4, [4; 32]));
    let bob = w.user(B, "bob", None);
    let key = AccessKeyRecord::create(AccessKeyKind::LongTerm, w.clock.now(), &sealer, &mut w.rng).unwrap();
    w.store(B).create_access_key(Owner::User("bob"), key.record.clone()).unwrap();
    let akia = key.record.id.as_str().to_owned();
    let asker = w.user(A, "asker", Some(&allow("\"sts:GetAccessKeyInfo\"", "*")));
    assert_eq!(sts(&w).get_access_key_info(&asker, &akia, &Context::new()).unwrap(), B);
    // A temporary key carries its account: the role's.
    let role = w.role(B, "R", &trust(&format!("arn:aws:iam::{B}:user/bob"), &["sts:AssumeRole"], ""), None, vec![]);
    let _ = bob;
    let s = w.assume(&Caller::User { account: B.to_owned(), name: "bob".to_owned() }, &req(&role, "s1")).unwrap();
    let asia = s.credentials.access_key_id.as_str().to_owned();
    assert!(asia.starts_with("ASIA"));
    assert_eq!(sts(&w).get_access_key_info(&asker, &asia, &Context::new()).unwrap(), B);
    // Unknown and malformed ids; callers without the permission.
    assert_eq!(
        code(sts(&w).get_access_key_info(&asker, "AKIAAAAAAAAAAAAAAAAA", &Context::new())),
        StsErrorCode::ValidationError
    );
    assert_eq!(code(sts(&w).get_access_key_info(&asker, "short", &Context::new())), StsErrorCode::ValidationError);
    assert_eq!(
        code(sts(&w).get_access_key_info(&asker, "AKIA-AAAAAAAAAAAAAAA", &Context::new())),
        StsErrorCode::ValidationError
    );
    let nobody = w.user(A, "nobody", None);
    assert_eq!(code(sts(&w).get_access_key_info(&nobody, &akia, &Context::new())), StsErrorCode::AccessDenied);
    let root = Caller::Root { account: A.to_owned() };
    assert_eq!(sts(&w).get_access_key_info(&root, &akia, &Context::new()).unwrap(), B);
}
