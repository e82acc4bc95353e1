//! Passwords and the password policy, access keys and sealing, TOTP MFA: behaviour against the
//! IAM reference (§5.2, §6.1–§6.3), with a fixed clock and a seeded generator.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::HashSet;

use castellan_credentials::access_key::{
    ACCESS_KEY_ID_LEN, ID_ALPHABET, SECRET_ACCESS_KEY_LEN, SECRET_ALPHABET, UNIQUE_ID_LEN, generate_secret_access_key,
    generate_unique_id,
};
use castellan_credentials::mfa::{RESYNC_WINDOW_STEPS, STEP_SECONDS};
use castellan_credentials::password::{
    DEFAULT_ITERATIONS, SYMBOLS, check_new_password, check_password_shape, hash_password, password_expiry,
    policy_violations, verify_password,
};
use castellan_credentials::*;
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

fn rng() -> StdRng {
    StdRng::seed_from_u64(0x00ca_57e1)
}

fn secret(s: &str) -> SecretString {
    SecretString::new(s)
}

// ---------------------------------------------------------------------------------------------
// Password hashing

/// Low iterations keep debug-build tests fast; the format and logic do not depend on the count.
const TEST_ITERATIONS: u32 = 1_000;

#[test]
fn hash_is_self_describing_and_round_trips() {
    let mut rng = rng();
    let hash = hash_password(&secret("correct horse"), TEST_ITERATIONS, &mut rng).unwrap();
    let text = hash.to_string();
    let parts: Vec<&str> = text.split('$').collect();
    assert_eq!(parts.len(), 4);
    assert_eq!(parts[0], "pbkdf2-sha256");
    assert_eq!(parts[1], "1000");
    assert_eq!(parts[2].len(), 22, "16 bytes of salt in unpadded base64");
    assert_eq!(parts[3].len(), 43, "32 bytes of hash in unpadded base64");
    let parsed = PasswordHash::parse(&text).unwrap();
    assert_eq!(parsed, hash);
    assert_eq!(parsed.iterations(), TEST_ITERATIONS);
    assert!(!format!("{hash:?}").contains(parts[3]), "Debug does not show the hash");
    // A fresh salt every time.
    let again = hash_password(&secret("correct horse"), TEST_ITERATIONS, &mut rng).unwrap();
    assert_ne!(again.to_string(), text);
    assert_eq!(DEFAULT_ITERATIONS, 600_000);
}

#[test]
fn verify_matches_only_the_password() {
    let mut rng = rng();
    let hash = hash_password(&secret("correct horse"), TEST_ITERATIONS, &mut rng).unwrap();
    let ok = verify_password(&secret("correct horse"), &hash, TEST_ITERATIONS);
    assert_eq!(ok, Verification { matched: true, needs_upgrade: false });
    // Same length, one character different: the constant-time comparison says no.
    let wrong = verify_password(&secret("correct horsf"), &hash, TEST_ITERATIONS);
    assert_eq!(wrong, Verification { matched: false, needs_upgrade: false });
    assert!(!verify_password(&secret(""), &hash, TEST_ITERATIONS).matched);
    assert!(!verify_password(&secret("correct horse "), &hash, TEST_ITERATIONS).matched);
}

#[test]
fn kdf_upgrade_at_login() {
    let mut rng = rng();
    let old = hash_password(&secret("hunter2!A"), TEST_ITERATIONS, &mut rng).unwrap();
    let current = 2 * TEST_ITERATIONS;
    let seen = verify_password(&secret("hunter2!A"), &old, current);
    assert_eq!(seen, Verification { matched: true, needs_upgrade: true });
    // A failed login never asks for an upgrade.
    assert!(!verify_password(&secret("hunter3!A"), &old, current).needs_upgrade);
    // The caller re-hashes with the current count.
    let new = hash_password(&secret("hunter2!A"), current, &mut rng).unwrap();
    assert_eq!(new.iterations(), current);
    assert_eq!(
        verify_password(&secret("hunter2!A"), &new, current),
        Verification { matched: true, needs_upgrade: false }
    );
    // A hash stronger than today's count is not "upgraded" down.
    assert!(!verify_password(&secret("hunter2!A"), &new, TEST_ITERATIONS).needs_upgrade);
}

#[test]
fn malformed_stored_hashes_are_service_failures() {
    let mut rng = rng();
    let good = hash_password(&secret("x"), TEST_ITERATIONS, &mut rng).unwrap().to_string();
    let parts: Vec<&str> = good.split('$').collect();
    let bad = [
        String::new(),
        "pbkdf2-sha256".to_owned(),
        good.replace("pbkdf2-sha256", "pbkdf2-sha512"),
        format!("{}$0${}${}", parts[0], parts[2], parts[3]),
        format!("{}$01000${}${}", parts[0], parts[2], parts[3]),
        format!("{}$+1000${}${}", parts[0], parts[2], parts[3]),
        format!("{}$999999999999${}${}", parts[0], parts[2], parts[3]),
        format!("{}$1000${}A${}", parts[0], parts[2], parts[3]),
        format!("{}$1000${}${}", parts[0], parts[2], &parts[3][..40]),
        format!("{}$1000$!!!${}", parts[0], parts[3]),
        format!("{good}$extra"),
    ];
    for text in bad {
        let err = PasswordHash::parse(&text).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ServiceFailure, "{text}");
        assert_eq!(err.http_status(), 500);
    }
    let err = hash_password(&secret("x"), 0, &mut rng).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
}

// ---------------------------------------------------------------------------------------------
// Password policy: defaults, ranges, full replacement

#[test]
fn omitted_fields_take_defaults() {
    let policy = PasswordPolicy::from_update(&UpdatePasswordPolicy::default()).unwrap();
    assert_eq!(policy, PasswordPolicy::default());
    assert_eq!(policy.minimum_password_length(), 6);
    assert!(!policy.require_symbols());
    assert!(!policy.require_numbers());
    assert!(!policy.require_uppercase_characters());
    assert!(!policy.require_lowercase_characters());
    assert!(!policy.allow_users_to_change_password());
    assert_eq!(policy.max_password_age(), None);
    assert_eq!(policy.password_reuse_prevention(), None);
    assert!(!policy.hard_expiry());
    assert!(!policy.expire_passwords());
}

#[test]
fn update_is_a_full_replacement() {
    let first = PasswordPolicy::from_update(&UpdatePasswordPolicy {
        minimum_password_length: Some(14),
        require_symbols: Some(true),
        require_numbers: Some(true),
        require_uppercase_characters: Some(true),
        require_lowercase_characters: Some(true),
        allow_users_to_change_password: Some(true),
        max_password_age: Some(90),
        password_reuse_prevention: Some(24),
        hard_expiry: Some(true),
    })
    .unwrap();
    assert_eq!(first.minimum_password_length(), 14);
    assert!(first.require_symbols() && first.require_numbers() && first.hard_expiry());
    assert!(first.require_uppercase_characters() && first.require_lowercase_characters());
    assert!(first.allow_users_to_change_password());
    assert_eq!(first.max_password_age(), Some(90));
    assert!(first.expire_passwords());
    assert_eq!(first.password_reuse_prevention(), Some(24));
    // The next update names only the length: everything else reverts, nothing is merged.
    let second = PasswordPolicy::from_update(&UpdatePasswordPolicy {
        minimum_password_length: Some(10),
        ..UpdatePasswordPolicy::default()
    })
    .unwrap();
    assert_eq!(second.minimum_password_length(), 10);
    assert_eq!(
        second,
        PasswordPolicy::from_update(&UpdatePasswordPolicy {
            minimum_password_length: Some(10),
            require_symbols: Some(false),
            ..UpdatePasswordPolicy::default()
        })
        .unwrap()
    );
    assert!(!second.require_symbols() && !second.hard_expiry() && !second.expire_passwords());
    assert_eq!(second.password_reuse_prevention(), None);
}

fn update_error(request: UpdatePasswordPolicy) -> CredentialError {
    PasswordPolicy::from_update(&request).unwrap_err()
}

#[test]
fn ranges_are_validation_errors() {
    let ok = |request: UpdatePasswordPolicy| PasswordPolicy::from_update(&request).unwrap();
    let length = |n| UpdatePasswordPolicy { minimum_password_length: Some(n), ..Default::default() };
    let age = |n| UpdatePasswordPolicy { max_password_age: Some(n), ..Default::default() };
    let reuse = |n| UpdatePasswordPolicy { password_reuse_prevention: Some(n), ..Default::default() };
    assert_eq!(ok(length(6)).minimum_password_length(), 6);
    assert_eq!(ok(length(128)).minimum_password_length(), 128);
    assert_eq!(ok(age(1)).max_password_age(), Some(1));
    assert_eq!(ok(age(1095)).max_password_age(), Some(1095));
    assert_eq!(ok(reuse(1)).password_reuse_prevention(), Some(1));
    assert_eq!(ok(reuse(24)).password_reuse_prevention(), Some(24));

    let err = update_error(length(5));
    assert_eq!(err.code(), ErrorCode::ValidationError);
    assert_eq!(err.code().as_str(), "ValidationError");
    assert_eq!(err.http_status(), 400);
    assert_eq!(
        err.to_string(),
        "1 validation error detected: Value '5' at 'minimumPasswordLength' failed to satisfy constraint: \
         Member must have value greater than or equal to 6"
    );
    assert_eq!(
        update_error(length(129)).to_string(),
        "1 validation error detected: Value '129' at 'minimumPasswordLength' failed to satisfy constraint: \
         Member must have value less than or equal to 128"
    );
    for bad in [age(0), age(1096), age(-1), reuse(0), reuse(25)] {
        assert_eq!(update_error(bad).code(), ErrorCode::ValidationError);
    }
    let both = update_error(UpdatePasswordPolicy {
        max_password_age: Some(0),
        password_reuse_prevention: Some(25),
        ..Default::default()
    });
    assert_eq!(
        both.message(),
        "2 validation errors detected: Value '0' at 'maxPasswordAge' failed to satisfy constraint: \
         Member must have value greater than or equal to 1; Value '25' at 'passwordReusePrevention' failed to \
         satisfy constraint: Member must have value less than or equal to 24"
    );
}

// ---------------------------------------------------------------------------------------------
// Password policy: rules

fn custom(request: UpdatePasswordPolicy) -> PasswordPolicy {
    PasswordPolicy::from_update(&request).unwrap()
}

fn strict() -> PasswordPolicy {
    custom(UpdatePasswordPolicy {
        minimum_password_length: Some(8),
        require_symbols: Some(true),
        require_numbers: Some(true),
        require_uppercase_characters: Some(true),
        require_lowercase_characters: Some(true),
        ..Default::default()
    })
}

fn violation(policy: Option<&PasswordPolicy>, password: &str) -> CredentialError {
    check_new_password(policy, &secret(password), &PasswordContext::default()).unwrap_err()
}

#[test]
fn each_rule_names_what_failed() {
    let policy = strict();
    let p = Some(&policy);
    check_new_password(p, &secret("Abcdef1!"), &PasswordContext::default()).unwrap();
    let cases = [
        ("abcdef1!", "Password should have at least one uppercase letter"),
        ("ABCDEF1!", "Password should have at least one lowercase letter"),
        ("Abcdefg!", "Password should have at least one number"),
        ("Abcdefg1", "Password should have at least one symbol"),
        ("Abcde1!", "Password should have a minimum length of 8"),
    ];
    for (password, message) in cases {
        let err = violation(p, password);
        assert_eq!(err.code(), ErrorCode::PasswordPolicyViolation, "{password}");
        assert_eq!(err.code().as_str(), "PasswordPolicyViolation");
        assert_eq!(err.http_status(), 400);
        assert_eq!(err.message(), message, "{password}");
    }
    // Several failures: every one named.
    assert_eq!(
        violation(p, "abc").message(),
        "Password should have a minimum length of 8; Password should have at least one uppercase letter; \
         Password should have at least one number; Password should have at least one symbol"
    );
    assert_eq!(
        policy_violations(p, &secret("abc"), &PasswordContext::default()),
        vec![
            PasswordViolation::MinimumLength(8),
            PasswordViolation::Uppercase,
            PasswordViolation::Number,
            PasswordViolation::Symbol
        ]
    );
}

#[test]
fn length_counts_characters_not_bytes() {
    let policy = custom(UpdatePasswordPolicy { minimum_password_length: Some(6), ..Default::default() });
    // Five characters, ten bytes.
    assert_eq!(violation(Some(&policy), "ééééé").message(), "Password should have a minimum length of 6");
    check_new_password(Some(&policy), &secret("éééééé"), &PasswordContext::default()).unwrap();
}

#[test]
fn the_aws_symbol_set() {
    let policy = custom(UpdatePasswordPolicy { require_symbols: Some(true), ..Default::default() });
    for symbol in SYMBOLS.chars() {
        let password = format!("abcdef{symbol}");
        check_new_password(Some(&policy), &secret(&password), &PasswordContext::default()).unwrap();
    }
    assert_eq!(SYMBOLS.chars().count(), 20);
    for not_symbol in ['~', '.', ',', '"', '`', '<', '>', '?', '/', ':', ';', '\\', ' ', 'é'] {
        let password = format!("abcdef{not_symbol}");
        assert_eq!(
            violation(Some(&policy), &password).message(),
            "Password should have at least one symbol",
            "{not_symbol:?}"
        );
    }
}

#[test]
fn the_default_policy_applies_without_a_custom_one() {
    let ctx = PasswordContext { account_name: Some("Example-Corp"), email: Some("admin@example.com"), previous: &[] };
    let check = |p: &str| check_new_password(None, &secret(p), &ctx);
    // Three of four categories, 8 characters: enough.
    check("Abcdefg1").unwrap();
    check("abcdef1!").unwrap();
    check("ABCDEF1!").unwrap();
    check("Abcdefg!").unwrap();
    // Two categories.
    let err = check("abcdefg1").unwrap_err();
    assert_eq!(err.code(), ErrorCode::PasswordPolicyViolation);
    assert_eq!(
        err.message(),
        "Password should include at least three of the following: uppercase letters, lowercase letters, numbers \
         and symbols"
    );
    assert_eq!(check("Ab1!").unwrap_err().message(), "Password should have a minimum length of 8");
    // The account name and email, ignoring case.
    let same = "Password should not be the same as the account name or email address";
    assert_eq!(check("example-CORP").unwrap_err().message(), same);
    assert_eq!(check("Admin@Example.com").unwrap_err().message(), same);
    // A custom policy replaces the default entirely (length 6, nothing required).
    let lax = PasswordPolicy::default();
    check_new_password(Some(&lax), &secret("abcdef"), &ctx).unwrap();
}

#[test]
fn password_shape_is_a_validation_error() {
    let lax = PasswordPolicy::default();
    let shape = |p: &str| check_password_shape(&secret(p));
    shape("a").unwrap();
    shape("tab\there\nand\rreturns ÿ").unwrap();
    shape(&"a".repeat(128)).unwrap();
    for bad in ["", "a".repeat(129).as_str(), "snowman ☃", "nul \u{0}", "bell \u{7}", "Ā is U+0100"] {
        let err = shape(bad).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ValidationError, "{bad:?}");
        assert!(err.message().starts_with("1 validation error detected: Value at 'password'"), "{}", err.message());
        assert!(!err.message().contains(bad) || bad.is_empty(), "the password is not echoed");
        let via_check = check_new_password(Some(&lax), &secret(bad), &PasswordContext::default()).unwrap_err();
        assert_eq!(via_check.code(), ErrorCode::ValidationError);
    }
    assert!(shape(&"a".repeat(129)).unwrap_err().message().ends_with("less than or equal to 128"));
    // 128 characters of two bytes each are fine: the limit is on characters.
    shape(&"é".repeat(128)).unwrap();
}

#[test]
fn reuse_prevention_checks_the_last_n_hashes() {
    let mut rng = rng();
    let policy = custom(UpdatePasswordPolicy { password_reuse_prevention: Some(2), ..Default::default() });
    // Most recent first: current, then older.
    let history: Vec<PasswordHash> = ["third-pw", "second-pw", "first-pw"]
        .iter()
        .map(|p| hash_password(&secret(p), TEST_ITERATIONS, &mut rng).unwrap())
        .collect();
    let ctx = PasswordContext { previous: &history, ..Default::default() };
    let check = |p: &str| check_new_password(Some(&policy), &secret(p), &ctx);
    for reused in ["third-pw", "second-pw"] {
        let err = check(reused).unwrap_err();
        assert_eq!(err.code(), ErrorCode::PasswordPolicyViolation);
        assert_eq!(err.message(), "Password should not be one of your previous 2 passwords");
    }
    // Three passwords ago is outside the last two.
    check("first-pw").unwrap();
    check("fourth-pw").unwrap();
    // Without reuse prevention, history is ignored.
    let none = PasswordPolicy::default();
    check_new_password(Some(&none), &secret("third-pw"), &ctx).unwrap();
    // The default policy has no reuse rule either.
    check_new_password(None, &secret("Third-pw1"), &ctx).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Password expiry

const DAY: i64 = 86_400;
const SET_AT: i64 = 1_700_000_000;

fn expiring(allow: bool, hard: bool) -> PasswordPolicy {
    custom(UpdatePasswordPolicy {
        max_password_age: Some(90),
        allow_users_to_change_password: Some(allow),
        hard_expiry: Some(hard),
        ..Default::default()
    })
}

#[test]
fn expiry_counts_down_and_expires() {
    let policy = expiring(true, false);
    let clock = FixedClock::new(SET_AT);
    let set = UnixTime::from_seconds(SET_AT);
    let at = |offset: i64| {
        clock.set(SET_AT + offset);
        password_expiry(Some(&policy), set, &clock)
    };
    let fresh = at(0);
    assert_eq!(fresh.expires_at, Some(UnixTime::from_seconds(SET_AT + 90 * DAY)));
    assert_eq!(fresh.days_remaining, Some(90));
    assert!(!fresh.expired && !fresh.warn && fresh.may_change);
    assert_eq!(at(1).days_remaining, Some(90), "rounded up");
    assert_eq!(at(74 * DAY).days_remaining, Some(16));
    assert!(!at(74 * DAY).warn);
    assert_eq!(at(75 * DAY).days_remaining, Some(15));
    assert!(at(75 * DAY).warn, "the console warns in the last 15 days");
    assert_eq!(at(90 * DAY - 1).days_remaining, Some(1));
    assert!(!at(90 * DAY - 1).expired);
    let expired = at(90 * DAY);
    assert!(expired.expired);
    assert_eq!(expired.days_remaining, Some(0));
    assert!(!expired.warn);
    assert!(expired.may_change, "without HardExpiry the user sets a new password at sign-in");
    assert!(at(400 * DAY).expired);
}

#[test]
fn hard_expiry_blocks_self_service_change_after_expiry() {
    let set = UnixTime::from_seconds(SET_AT);
    let clock = FixedClock::new(SET_AT + DAY);
    let policy = expiring(true, true);
    assert!(password_expiry(Some(&policy), set, &clock).may_change, "before expiry HardExpiry changes nothing");
    clock.set(SET_AT + 90 * DAY);
    let after = password_expiry(Some(&policy), set, &clock);
    assert!(after.expired && !after.may_change, "only an administrator can reset it");
    // AllowUsersToChangePassword governs self-service change before expiry.
    let no_change = expiring(false, false);
    clock.set(SET_AT + DAY);
    assert!(!password_expiry(Some(&no_change), set, &clock).may_change);
}

#[test]
fn no_expiry_without_max_password_age() {
    let set = UnixTime::from_seconds(SET_AT);
    let clock = FixedClock::new(SET_AT + 10_000 * DAY);
    let none = password_expiry(None, set, &clock);
    assert_eq!(
        none,
        PasswordExpiry { expires_at: None, expired: false, days_remaining: None, warn: false, may_change: false }
    );
    let allow = custom(UpdatePasswordPolicy { allow_users_to_change_password: Some(true), ..Default::default() });
    let open = password_expiry(Some(&allow), set, &clock);
    assert!(!open.expired && open.may_change && open.days_remaining.is_none());
    // Expiry applies at once to passwords set long before the policy.
    let policy = expiring(false, false);
    assert!(password_expiry(Some(&policy), set, &clock).expired);
}

// ---------------------------------------------------------------------------------------------
// Access keys and ids

fn assert_id_chars(text: &str) {
    assert!(text.bytes().all(|b| ID_ALPHABET.contains(&b)), "{text}");
}

#[test]
fn access_key_ids_have_aws_format_and_are_unique() {
    let mut rng = rng();
    let mut seen = HashSet::new();
    let mut chars = HashSet::new();
    for kind in [AccessKeyKind::LongTerm, AccessKeyKind::Temporary] {
        for _ in 0..2_000 {
            let id = AccessKeyId::generate(kind, &mut rng);
            let text = id.as_str();
            assert_eq!(text.len(), ACCESS_KEY_ID_LEN);
            assert_eq!(&text[..4], kind.prefix());
            assert_id_chars(&text[4..]);
            chars.extend(text[4..].bytes());
            assert_eq!(id.kind(), kind);
            assert_eq!(AccessKeyId::parse(text).unwrap(), id);
            assert!(seen.insert(text.to_owned()), "duplicate {text}");
        }
    }
    assert_eq!(chars.len(), 32, "the whole alphabet is used");
    assert_eq!(AccessKeyKind::LongTerm.prefix(), "AKIA");
    assert_eq!(AccessKeyKind::Temporary.prefix(), "ASIA");
    // AWS's documentation example has this shape (and `0`/`1` are outside the alphabet, so
    // its `7` and letters pass while a lowercase or `0` would not).
    AccessKeyId::parse("AKIAIOSFODNN7EXAMPLE").unwrap();
    for bad in
        ["", "AKIA", "AKIAIOSFODNN7EXAMPL", "AKIAIOSFODNN7EXAMPLEX", "AKIAIOSFODNN0EXAMPLE", "akiaiosfodnn7example"]
    {
        assert_eq!(AccessKeyId::parse(bad).unwrap_err().code(), ErrorCode::InvalidInput, "{bad}");
    }
    assert_eq!(AccessKeyId::parse("ABIAIOSFODNN7EXAMPLE").unwrap_err().code(), ErrorCode::InvalidInput);
}

#[test]
fn secret_access_keys_have_aws_format_are_unique_and_redacted() {
    let mut rng = rng();
    let mut seen = HashSet::new();
    let mut chars = HashSet::new();
    for _ in 0..2_000 {
        let key = generate_secret_access_key(&mut rng);
        let text = key.expose();
        assert_eq!(text.len(), SECRET_ACCESS_KEY_LEN);
        assert!(text.bytes().all(|b| SECRET_ALPHABET.contains(&b)), "{text}");
        chars.extend(text.bytes());
        assert!(seen.insert(text.to_owned()));
        assert_eq!(format!("{key:?}"), "** redacted **");
        assert_eq!(format!("{key}"), "** redacted **");
    }
    assert_eq!(chars.len(), 64, "A-Z a-z 0-9 + / all occur");
}

#[test]
fn unique_ids_have_aws_prefixes() {
    let mut rng = rng();
    let kinds = [
        (UniqueIdKind::User, "AIDA"),
        (UniqueIdKind::Group, "AGPA"),
        (UniqueIdKind::Role, "AROA"),
        (UniqueIdKind::ManagedPolicy, "ANPA"),
        (UniqueIdKind::PolicyVersion, "ANVA"),
        (UniqueIdKind::InstanceProfile, "AIPA"),
        (UniqueIdKind::BearerToken, "ABIA"),
        (UniqueIdKind::ContextCredential, "ACCA"),
        (UniqueIdKind::PublicKey, "APKA"),
        (UniqueIdKind::Certificate, "ASCA"),
    ];
    let mut seen = HashSet::new();
    for (kind, prefix) in kinds {
        assert_eq!(kind.prefix(), prefix);
        for _ in 0..500 {
            let id = generate_unique_id(kind, &mut rng);
            assert_eq!(id.len(), UNIQUE_ID_LEN);
            assert!(id.starts_with(prefix));
            assert_id_chars(&id);
            assert!(seen.insert(id));
        }
    }
}

#[test]
fn status_and_last_used() {
    for status in [AccessKeyStatus::Active, AccessKeyStatus::Inactive, AccessKeyStatus::Expired] {
        assert_eq!(AccessKeyStatus::parse(status.as_str()).unwrap(), status);
    }
    let err = AccessKeyStatus::parse("active").unwrap_err();
    assert_eq!(err.code(), ErrorCode::ValidationError);
    let never = AccessKeyLastUsed::never();
    assert_eq!(never.last_used_date, None);
    assert_eq!(never.service_name, "N/A");
    assert_eq!(never.region, "N/A");
    let used = AccessKeyLastUsed::used(UnixTime::from_seconds(5), "iam", "us-east-1");
    assert_eq!(used.last_used_date, Some(UnixTime::from_seconds(5)));
    assert_eq!((used.service_name.as_str(), used.region.as_str()), ("iam", "us-east-1"));
}

#[test]
fn created_keys_are_active_unused_and_sealed() {
    let mut rng = rng();
    let sealer = Sealer::new(SealingKey::generate(1, &mut rng));
    let now = UnixTime::from_seconds(SET_AT);
    let NewAccessKey { record, secret } =
        AccessKeyRecord::create(AccessKeyKind::LongTerm, now, &sealer, &mut rng).unwrap();
    assert_eq!(record.status, AccessKeyStatus::Active);
    assert_eq!(record.created_at, now);
    assert_eq!(record.last_used, AccessKeyLastUsed::never());
    assert_eq!(record.id.kind(), AccessKeyKind::LongTerm);
    assert!(!record.sealed_secret.as_bytes().windows(40).any(|w| w == secret.expose().as_bytes()));
    assert_eq!(record.secret(&sealer).unwrap(), secret);
    // The sealed secret is bound to its key id: moved to another record, it does not open.
    let mut moved = record.clone();
    moved.id = AccessKeyId::generate(AccessKeyKind::LongTerm, &mut rng);
    let err = moved.secret(&sealer).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ServiceFailure);
    assert_eq!(err.message(), "sealed secret failed authentication");
}

// ---------------------------------------------------------------------------------------------
// Sealing

#[test]
fn seal_round_trip_and_text_form() {
    let mut rng = rng();
    let sealer = Sealer::new(SealingKey::generate(7, &mut rng));
    let sealed = sealer.seal(b"the secret", b"AKIAEXAMPLE", &mut rng).unwrap();
    assert_eq!(sealed.key_id(), Some(7));
    assert_eq!(sealed.as_bytes()[0], 1, "format version");
    assert_eq!(sealed.as_bytes().len(), 1 + 4 + 24 + 10 + 16);
    assert_eq!(&*sealer.open(&sealed, b"AKIAEXAMPLE").unwrap(), b"the secret");
    let text = sealed.to_string();
    assert_eq!(SealedSecret::parse(&text).unwrap(), sealed);
    assert_eq!(SealedSecret::parse("not base64!"), Err(SealError::Malformed));
    // Random nonces: the same plaintext seals differently.
    let again = sealer.seal(b"the secret", b"AKIAEXAMPLE", &mut rng).unwrap();
    assert_ne!(again, sealed);
    assert_eq!(sealer.open(&sealed, b"AKIAOTHER"), Err(SealError::Tampered));
    assert_eq!(sealer.open_string(&sealed, b"AKIAEXAMPLE").unwrap().expose(), "the secret");
    let binary = sealer.seal(&[0xff, 0xfe], b"", &mut rng).unwrap();
    assert_eq!(sealer.open_string(&binary, b""), Err(SealError::NotText));
    assert!(!format!("{:?}", SealingKey::new(3, [9; 32])).contains('9'), "key bytes redacted");
}

#[test]
fn rotation_opens_old_seals_with_new_current_key() {
    let mut rng = rng();
    let old_key = SealingKey::generate(1, &mut rng);
    let new_key = SealingKey::generate(2, &mut rng);
    let before = Sealer::new(old_key.clone());
    let old_blob = before.seal(b"s1", b"ctx", &mut rng).unwrap();

    let after = Sealer::new(old_key.clone()).rotate(new_key.clone());
    assert_eq!(after.current_key_id(), 2);
    assert_eq!(&*after.open(&old_blob, b"ctx").unwrap(), b"s1", "the old key still opens");
    assert!(after.needs_reseal(&old_blob));
    let new_blob = after.seal(b"s2", b"ctx", &mut rng).unwrap();
    assert_eq!(new_blob.key_id(), Some(2), "new seals use the new key");
    assert!(!after.needs_reseal(&new_blob));

    // The same with the constructor for retired keys.
    let configured = Sealer::new(new_key.clone()).with_old_key(old_key);
    assert_eq!(&*configured.open(&old_blob, b"ctx").unwrap(), b"s1");
    assert_eq!(&*configured.open(&new_blob, b"ctx").unwrap(), b"s2");

    // Once the old key is dropped, its blobs report an unknown key.
    let retired = Sealer::new(new_key);
    assert_eq!(retired.open(&old_blob, b"ctx"), Err(SealError::UnknownKey(1)));
    let err: CredentialError = SealError::UnknownKey(1).into();
    assert_eq!((err.code(), err.http_status()), (ErrorCode::ServiceFailure, 500));
}

#[test]
fn truncated_tampered_and_foreign_blobs_are_refused() {
    let mut rng = rng();
    let sealer = Sealer::new(SealingKey::generate(1, &mut rng));
    let blob = sealer.seal(b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", b"ctx", &mut rng).unwrap();
    let bytes = blob.as_bytes();
    for len in 0..bytes.len() {
        let cut = SealedSecret::from_bytes(bytes[..len].to_vec());
        let err = sealer.open(&cut, b"ctx").unwrap_err();
        assert!(matches!(err, SealError::Malformed | SealError::Tampered), "{len}: {err:?}");
    }
    for i in 0..bytes.len() {
        for bit in 0..8 {
            let mut flipped = bytes.to_vec();
            flipped[i] ^= 1 << bit;
            assert!(sealer.open(&SealedSecret::from_bytes(flipped), b"ctx").is_err(), "byte {i} bit {bit}");
        }
    }
    let mut version = bytes.to_vec();
    version[0] = 2;
    assert_eq!(sealer.open(&SealedSecret::from_bytes(version), b"ctx"), Err(SealError::UnknownVersion(2)));
    let mut extended = bytes.to_vec();
    extended.push(0);
    assert_eq!(sealer.open(&SealedSecret::from_bytes(extended), b"ctx"), Err(SealError::Tampered));
    // Same key id, different key: authentication fails.
    let impostor = Sealer::new(SealingKey::generate(1, &mut rng));
    assert_eq!(impostor.open(&blob, b"ctx"), Err(SealError::Tampered));
}

proptest! {
    #[test]
    fn no_bit_flip_or_cut_opens(flips in prop::collection::vec((0usize..200, 0u8..8), 1..4), cut in 0usize..200) {
        let mut rng = rng();
        let sealer = Sealer::new(SealingKey::generate(1, &mut rng));
        let blob = sealer.seal(b"secret access key", b"AKIA", &mut rng).unwrap();
        let mut bytes = blob.as_bytes().to_vec();
        let len = bytes.len();
        let mut changed = false;
        for (i, bit) in flips {
            bytes[i % len] ^= 1 << bit;
            changed = true;
        }
        if bytes != blob.as_bytes() {
            prop_assert!(sealer.open(&SealedSecret::from_bytes(bytes.clone()), b"AKIA").is_err());
        }
        prop_assert!(changed);
        let short = blob.as_bytes()[..cut.min(len - 1)].to_vec();
        prop_assert!(sealer.open(&SealedSecret::from_bytes(short), b"AKIA").is_err());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..120)) {
        let sealer = Sealer::new(SealingKey::new(1, [7; 32]));
        let _ = sealer.open(&SealedSecret::from_bytes(bytes), b"");
    }

    #[test]
    fn arbitrary_hash_text_never_panics(text in ".{0,120}") {
        let _ = PasswordHash::parse(&text);
    }
}

// ---------------------------------------------------------------------------------------------
// MFA

fn rfc_seed() -> MfaSeed {
    MfaSeed::from_bytes(b"12345678901234567890").unwrap()
}

/// The code an authenticator shows in `step`.
fn code(seed: &MfaSeed, step: i64) -> String {
    seed.code_at(u64::try_from(step).unwrap() * STEP_SECONDS).expose().to_owned()
}

/// A clock in the middle of step `NOW_STEP`.
const NOW_STEP: i64 = 56_666_667;

fn clock() -> FixedClock {
    FixedClock::new(NOW_STEP * 30 + 13)
}

/// An unassigned device with the RFC seed, stored plain.
fn device() -> MfaDevice {
    MfaDevice {
        serial_number: "arn:aws:iam::123456789012:mfa/alice".to_owned(),
        seed: StoredSeed::Plain(rfc_seed()),
        state: MfaState::Unassigned,
        last_accepted_step: None,
        drift_steps: 0,
        failed_attempts: 0,
    }
}

fn enabled(clock: &FixedClock) -> MfaDevice {
    let seed = rfc_seed();
    let mut d = device();
    // Enabled two steps ago, so the window around now is unspent.
    clock.advance(-60);
    d.enable(None, &code(&seed, NOW_STEP - 3), &code(&seed, NOW_STEP - 2), clock).unwrap();
    clock.advance(60);
    d
}

#[test]
fn rfc_6238_sha1_vectors() {
    let seed = rfc_seed();
    // RFC 6238 Appendix B, SHA-1, the last six of the eight digits.
    for (t, eight) in [
        (59u64, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ] {
        assert_eq!(seed.code_at(t).expose(), &eight[2..], "T={t}");
    }
    assert_eq!(seed.base32().expose(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    assert_eq!(MfaSeed::from_base32(&seed.base32()).unwrap(), seed);
    assert_eq!(format!("{seed:?}"), "** redacted **");
}

#[test]
fn seeds_and_the_otpauth_uri() {
    let mut rng = rng();
    let a = MfaSeed::generate(&mut rng);
    let b = MfaSeed::generate(&mut rng);
    assert_ne!(a, b);
    assert_eq!(a.base32().expose().len(), 32, "20 bytes are 32 base32 characters");
    let seed = rfc_seed();
    let uri = seed.otpauth_uri("alice-phone", Some("alice"), "123456789012");
    assert_eq!(uri.expose(), "otpauth://totp/alice-phone@alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    assert_eq!(format!("{uri}"), "** redacted **");
    let no_user = seed.otpauth_uri("root-mfa", None, "123456789012");
    assert_eq!(no_user.expose(), "otpauth://totp/root-mfa@123456789012?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    let odd = seed.otpauth_uri("my device/1", Some("a+b=c,d.e@f_g-h"), "1");
    assert!(odd.expose().starts_with("otpauth://totp/my%20device%2F1@a+b=c,d.e@f_g-h?secret="));
    assert_eq!(MfaSeed::from_bytes(&[0; 15]).unwrap_err().code(), ErrorCode::InvalidInput);
    assert_eq!(MfaSeed::from_bytes(&[0; 65]).unwrap_err().code(), ErrorCode::InvalidInput);
    assert_eq!(MfaSeed::from_base32(&secret("not base32!")).unwrap_err().code(), ErrorCode::InvalidInput);
}

#[test]
fn enabling_needs_two_consecutive_codes() {
    let seed = rfc_seed();
    let clock = clock();
    let pair = |first: i64, second: i64| {
        let mut d = device();
        let result = d.enable(None, &code(&seed, first), &code(&seed, second), &clock);
        (d, result)
    };
    // The usual pair: the previous step, then the current one.
    let (d, result) = pair(NOW_STEP - 1, NOW_STEP);
    result.unwrap();
    assert_eq!(d.state, MfaState::Enabled { enabled_at: clock.now() });
    assert!(d.is_enabled());
    assert_eq!(d.last_accepted_step, Some(u64::try_from(NOW_STEP).unwrap()));
    assert_eq!(d.failed_attempts, 0);
    // The second code may be one step either side of the clock.
    pair(NOW_STEP - 2, NOW_STEP - 1).1.unwrap();
    pair(NOW_STEP, NOW_STEP + 1).1.unwrap();
    // Two steps away, not consecutive, or swapped: refused.
    for (first, second) in [
        (NOW_STEP - 3, NOW_STEP - 2),
        (NOW_STEP + 1, NOW_STEP + 2),
        (NOW_STEP - 2, NOW_STEP),
        (NOW_STEP, NOW_STEP - 1),
        (NOW_STEP, NOW_STEP),
    ] {
        let (d, result) = pair(first, second);
        let err = result.unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidAuthenticationCode, "{first} {second}");
        assert_eq!(err.code().as_str(), "InvalidAuthenticationCode");
        assert_eq!(err.http_status(), 403);
        assert_eq!(err.message(), "Authentication code for device is not valid.");
        assert_eq!(d.state, MfaState::Unassigned);
        assert_eq!(d.failed_attempts, 1);
        assert_eq!(d.last_accepted_step, None);
    }
    // Enabling twice.
    let (mut d, _) = pair(NOW_STEP - 1, NOW_STEP);
    let err = d.enable(None, &code(&seed, NOW_STEP), &code(&seed, NOW_STEP + 1), &clock).unwrap_err();
    assert_eq!((err.code(), err.http_status()), (ErrorCode::EntityAlreadyExists, 409));
}

#[test]
fn malformed_codes_are_invalid_authentication_codes() {
    let seed = rfc_seed();
    let clock = clock();
    let good = code(&seed, NOW_STEP);
    let spaced = format!("{good} ");
    let mut d = device();
    for bad in ["", "12345", "1234567", "abcdef", "12 345", "１２３４５６", spaced.as_str()] {
        let err = d.enable(None, &code(&seed, NOW_STEP - 1), bad, &clock).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidAuthenticationCode, "{bad:?}");
    }
    assert_eq!(d.failed_attempts, 7);
    let mut e = enabled(&clock);
    for bad in ["", "12345", "abcdef", "0000000"] {
        assert_eq!(e.authenticate(None, bad, &clock).unwrap_err().code(), ErrorCode::InvalidAuthenticationCode);
    }
}

#[test]
fn authentication_window_edges() {
    let seed = rfc_seed();
    let clock = clock();
    for (offset, accepted) in [(-2, false), (-1, true), (0, true), (1, true), (2, false)] {
        let mut d = enabled(&clock);
        let result = d.authenticate(None, &code(&seed, NOW_STEP + offset), &clock);
        assert_eq!(result.is_ok(), accepted, "offset {offset}");
        if accepted {
            assert_eq!(d.last_accepted_step, Some(u64::try_from(NOW_STEP + offset).unwrap()));
        } else {
            assert_eq!(result.unwrap_err().code(), ErrorCode::InvalidAuthenticationCode);
        }
    }
    // The window edges of the step itself: first and last second.
    let mut d = enabled(&clock);
    clock.set(NOW_STEP * 30);
    d.authenticate(None, &code(&seed, NOW_STEP - 1), &clock).unwrap();
    clock.set(NOW_STEP * 30 + 29);
    d.authenticate(None, &code(&seed, NOW_STEP + 1), &clock).unwrap();
}

#[test]
fn a_code_is_accepted_once() {
    let seed = rfc_seed();
    let clock = clock();
    let mut d = enabled(&clock);
    let now_code = code(&seed, NOW_STEP);
    let facts = d.authenticate(None, &now_code, &clock).unwrap();
    assert_eq!(facts, MfaFacts::authenticated(clock.now()));
    // Replay within the window (same step, and ten seconds later).
    let err = d.authenticate(None, &now_code, &clock).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidAuthenticationCode);
    clock.advance(10);
    assert!(d.authenticate(None, &now_code, &clock).is_err());
    // An older code, still in the window, is spent too: steps only move forward.
    assert!(d.authenticate(None, &code(&seed, NOW_STEP - 1), &clock).is_err());
    assert_eq!(d.failed_attempts, 3);
    // The next step's code works, and resets the failure count.
    d.authenticate(None, &code(&seed, NOW_STEP + 1), &clock).unwrap();
    assert_eq!(d.failed_attempts, 0);
    // Enabling spends its codes as well.
    let mut e = device();
    e.enable(None, &code(&seed, NOW_STEP - 1), &code(&seed, NOW_STEP), &clock).unwrap();
    assert!(e.authenticate(None, &code(&seed, NOW_STEP), &clock).is_err());
    assert!(e.authenticate(None, &code(&seed, NOW_STEP - 1), &clock).is_err());
    e.authenticate(None, &code(&seed, NOW_STEP + 1), &clock).unwrap();
}

#[test]
fn resync_learns_the_drift() {
    let seed = rfc_seed();
    let clock = clock();
    let mut d = enabled(&clock);
    // The device's clock runs five steps ahead.
    let drift = 5;
    assert!(d.authenticate(None, &code(&seed, NOW_STEP + drift), &clock).is_err());
    d.resync(None, &code(&seed, NOW_STEP + drift - 1), &code(&seed, NOW_STEP + drift), &clock).unwrap();
    assert_eq!(d.drift_steps, drift);
    assert_eq!(d.failed_attempts, 0);
    // A step later, the device's current code is accepted.
    clock.advance(30);
    d.authenticate(None, &code(&seed, NOW_STEP + 1 + drift), &clock).unwrap();
    // Resync refuses non-consecutive pairs and pairs beyond its window.
    let mut e = enabled(&clock);
    assert!(e.resync(None, &code(&seed, NOW_STEP + 2), &code(&seed, NOW_STEP + 4), &clock).is_err());
    let far = RESYNC_WINDOW_STEPS + 2;
    let err = e.resync(None, &code(&seed, NOW_STEP + far - 1), &code(&seed, NOW_STEP + far), &clock).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidAuthenticationCode);
    // A device running behind (enabled ten minutes ago, so those steps are unspent).
    let clock = self::clock();
    let mut behind = device();
    clock.advance(-600);
    behind.enable(None, &code(&seed, NOW_STEP - 21), &code(&seed, NOW_STEP - 20), &clock).unwrap();
    clock.advance(600);
    behind.resync(None, &code(&seed, NOW_STEP - 8), &code(&seed, NOW_STEP - 7), &clock).unwrap();
    assert_eq!(behind.drift_steps, -7);
    behind.authenticate(None, &code(&seed, NOW_STEP - 6), &clock).unwrap();
    // Resync needs an enabled device.
    let err = device().resync(None, &code(&seed, NOW_STEP - 1), &code(&seed, NOW_STEP), &clock).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
}

#[test]
fn deactivation_and_reenabling() {
    let seed = rfc_seed();
    let clock = clock();
    let mut d = enabled(&clock);
    d.authenticate(None, &code(&seed, NOW_STEP), &clock).unwrap();
    d.deactivate();
    assert_eq!(d.state, MfaState::Unassigned);
    let err = d.authenticate(None, &code(&seed, NOW_STEP + 1), &clock).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    // Codes already spent stay spent.
    assert!(d.enable(None, &code(&seed, NOW_STEP - 1), &code(&seed, NOW_STEP), &clock).is_err());
    assert!(d.enable(None, &code(&seed, NOW_STEP), &code(&seed, NOW_STEP + 1), &clock).is_err());
    clock.advance(30);
    d.enable(None, &code(&seed, NOW_STEP + 1), &code(&seed, NOW_STEP + 2), &clock).unwrap();
    assert!(d.is_enabled());
}

#[test]
fn sealed_seeds() {
    let mut rng = rng();
    let clock = clock();
    let sealer = Sealer::new(SealingKey::generate(1, &mut rng));
    let NewMfaDevice { device: mut d, seed } =
        MfaDevice::create_virtual("arn:aws:iam::123456789012:mfa/bob", Some(&sealer), &mut rng).unwrap();
    assert!(matches!(d.seed, StoredSeed::Sealed(_)));
    assert_eq!(d.state, MfaState::Unassigned);
    assert_eq!(d.seed(Some(&sealer)).unwrap(), seed);
    assert_eq!(d.seed(None).unwrap_err().code(), ErrorCode::ServiceFailure);
    d.enable(Some(&sealer), &code(&seed, NOW_STEP - 1), &code(&seed, NOW_STEP), &clock).unwrap();
    d.authenticate(Some(&sealer), &code(&seed, NOW_STEP + 1), &clock).unwrap();
    // Another device's sealed seed does not open under this serial number.
    let other = MfaDevice::create_virtual("arn:aws:iam::123456789012:mfa/eve", Some(&sealer), &mut rng).unwrap();
    let mut swapped = d.clone();
    swapped.seed = other.device.seed;
    assert_eq!(swapped.seed(Some(&sealer)).unwrap_err().code(), ErrorCode::ServiceFailure);
    // Plain storage is the caller's other choice.
    let plain = MfaDevice::create_virtual("arn:aws:iam::123456789012:mfa/carol", None, &mut rng).unwrap();
    assert_eq!(plain.device.seed, StoredSeed::Plain(plain.seed.clone()));
}

#[test]
fn mfa_condition_values() {
    let at = UnixTime::from_seconds(1_000);
    let facts = MfaFacts::authenticated(at);
    assert!(facts.multi_factor_auth_present());
    assert_eq!(facts.multi_factor_auth_age(UnixTime::from_seconds(1_000)), Some(0));
    assert_eq!(facts.multi_factor_auth_age(UnixTime::from_seconds(4_600)), Some(3_600));
    assert_eq!(facts.multi_factor_auth_age(UnixTime::from_seconds(10)), Some(0), "never negative");
    let none = MfaFacts::absent();
    assert!(!none.multi_factor_auth_present());
    assert_eq!(none.multi_factor_auth_age(UnixTime::from_seconds(4_600)), None);
}

// ---------------------------------------------------------------------------------------------
// Errors

#[test]
fn errors_carry_code_status_and_message() {
    let e = CredentialError::new(ErrorCode::PasswordPolicyViolation, "Password should have at least one number");
    assert_eq!(e.to_string(), "Password should have at least one number");
    assert_eq!(e.code().to_string(), "PasswordPolicyViolation");
    assert_eq!(e.http_status(), 400);
    let sealed: CredentialError = SealError::Tampered.into();
    assert_eq!(sealed.to_string(), "sealed secret failed authentication");
    assert!(std::error::Error::source(&sealed).is_none());
}
