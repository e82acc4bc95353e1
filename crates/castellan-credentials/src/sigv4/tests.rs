//! Unit tests of SigV4: errors with AWS's codes and messages, clock-skew and expiry edges, the
//! key cache.

use std::sync::Arc;

use super::time::{parse_amz_date, parse_http_date};
use super::*;
use crate::{FixedClock, SecretString, UnixTime};

const KEY_ID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
/// 2015-08-30T12:36:00Z.
const T: i64 = 1_440_938_160;

fn params() -> SigningParams {
    SigningParams::new(KEY_ID, SecretString::from(SECRET), "us-east-1", "iam", UnixTime::from_seconds(T))
}

fn request() -> Request {
    Request::new("POST", "/", "")
        .header("Host", "iam.amazonaws.com")
        .header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
        .body("Action=ListUsers&Version=2010-05-08")
}

fn signed() -> Request {
    let mut r = request();
    sign(&mut r, &params(), None);
    r
}

fn keys(id: &str) -> Option<KeyRecord> {
    (id == KEY_ID).then(|| KeyRecord::long_term(SecretString::from(SECRET)))
}

fn verifier() -> Verifier {
    Verifier::new("us-east-1", "iam")
}

fn verify_at(r: &Request, now: i64) -> Result<Verified, SigV4Error> {
    verifier().verify(r, &keys, &FixedClock::new(now))
}

/// Checks an error's code, status and exact message.
fn check(result: Result<Verified, SigV4Error>, code: &str, status: u16, message: &str) {
    let err = result.unwrap_err();
    assert_eq!((err.code(), err.status(), err.message()), (code, status, message), "{err}");
}

fn set_authorization(r: &mut Request, value: &str) {
    r.set_header("Authorization", value);
}

#[test]
fn a_signed_request_verifies() {
    let verified = verify_at(&signed(), T).unwrap();
    assert_eq!(verified.access_key_id, KEY_ID);
    assert_eq!(verified.time, UnixTime::from_seconds(T));
    assert_eq!(verified.signed_headers, ["content-type", "host", "x-amz-date"]);
    assert_eq!(verified.payload, PayloadKind::Signed);
    assert!(!verified.presigned && !verified.session_token);
}

#[test]
fn no_authentication_at_all() {
    check(verify_at(&request(), T), "MissingAuthenticationToken", 403, "Request is missing Authentication Token");
}

#[test]
fn authorization_header_missing_parts() {
    let mut r = signed();
    let header = "AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, Signature=abc";
    set_authorization(&mut r, header);
    check(
        verify_at(&r, T),
        "IncompleteSignature",
        400,
        &format!("Authorization header requires 'Credential' parameter. Authorization={header}"),
    );

    let mut r = signed();
    r.headers.retain(|(n, _)| n != "X-Amz-Date");
    set_authorization(&mut r, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request");
    check(
        verify_at(&r, T),
        "IncompleteSignature",
        400,
        "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' \
         parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. \
         Authorization=AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request",
    );
}

#[test]
fn malformed_credential_and_pairs() {
    let mut r = signed();
    set_authorization(
        &mut r,
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=ab",
    );
    check(
        verify_at(&r, T),
        "IncompleteSignature",
        400,
        "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got \
         'AKIDEXAMPLE/us-east-1/iam/aws4_request'",
    );

    let header = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders";
    set_authorization(&mut r, header);
    check(
        verify_at(&r, T),
        "IncompleteSignature",
        400,
        &format!(
            "'SignedHeaders' not a valid key=value pair (missing equal-sign) in Authorization header: '{header}'."
        ),
    );

    set_authorization(&mut r, "AWS4-HMAC-SHA512 Credential=x, SignedHeaders=host, Signature=ab");
    check(verify_at(&r, T), "IncompleteSignature", 400, "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'");
}

#[test]
fn host_must_be_signed() {
    let mut r = Request::new("GET", "/", "Action=ListUsers").header("Host", "iam.amazonaws.com");
    sign(&mut r, &params(), None);
    let authorization = r.first_header("authorization").unwrap().replace("SignedHeaders=host;", "SignedHeaders=");
    set_authorization(&mut r, &authorization);
    check(
        verify_at(&r, T),
        "IncompleteSignature",
        400,
        "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
    );
}

#[test]
fn unknown_access_key() {
    let mut r = request();
    let mut p = params();
    p.access_key_id = "AKIAUNKNOWN".to_owned();
    sign(&mut r, &p, None);
    check(verify_at(&r, T), "InvalidClientTokenId", 403, "The security token included in the request is invalid.");
}

#[test]
fn wrong_secret_or_changed_request() {
    let mut r = request();
    let mut p = params();
    p.secret = SecretString::from("not the secret");
    sign(&mut r, &p, None);
    let expected = "The request signature we calculated does not match the signature you provided. Check your AWS \
                    Secret Access Key and signing method. Consult the service documentation for details.";
    check(verify_at(&r, T), "SignatureDoesNotMatch", 403, expected);

    let mut r = signed();
    r.payload = Payload::Bytes(b"Action=DeleteUser&Version=2010-05-08".to_vec());
    check(verify_at(&r, T), "SignatureDoesNotMatch", 403, expected);
}

#[test]
fn clock_skew_messages() {
    let r = signed();
    check(
        verify_at(&r, T + 15 * 60),
        "SignatureDoesNotMatch",
        403,
        "Signature expired: 20150830T123600Z is now earlier than 20150830T124600Z (20150830T125100Z - 5 min.)",
    );
    check(
        verify_at(&r, T - 15 * 60),
        "SignatureDoesNotMatch",
        403,
        "Signature not yet current: 20150830T123600Z is still later than 20150830T122600Z (20150830T122100Z + 5 min.)",
    );
}

#[test]
fn clock_skew_edges() {
    let r = signed();
    assert!(verify_at(&r, T + 300).is_ok(), "exactly five minutes late passes");
    assert!(verify_at(&r, T - 300).is_ok(), "exactly five minutes early passes");
    assert_eq!(verify_at(&r, T + 301).unwrap_err().code(), "SignatureDoesNotMatch");
    assert_eq!(verify_at(&r, T - 301).unwrap_err().code(), "SignatureDoesNotMatch");
}

#[test]
fn scope_date_must_match_request_date() {
    let mut r = signed();
    let authorization = r.first_header("authorization").unwrap().replace("/20150830/", "/20150829/");
    set_authorization(&mut r, &authorization);
    check(
        verify_at(&r, T),
        "SignatureDoesNotMatch",
        403,
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20150829' != \
         '20150830', from '20150830T123600Z'.",
    );
}

#[test]
fn scope_region_service_terminator() {
    let r = signed();
    let clock = FixedClock::new(T);
    check(
        Verifier::new("eu-west-1", "iam").verify(&r, &keys, &clock),
        "SignatureDoesNotMatch",
        403,
        "Credential should be scoped to a valid region, not 'us-east-1'. ",
    );
    check(
        Verifier::new("us-east-1", "sts").verify(&r, &keys, &clock),
        "SignatureDoesNotMatch",
        403,
        "Credential should be scoped to correct service: 'sts'. ",
    );
    let mut bad = r.clone();
    let authorization = r.first_header("authorization").unwrap().replace("/aws4_request", "/aws5_request");
    set_authorization(&mut bad, &authorization);
    check(
        verify_at(&bad, T),
        "SignatureDoesNotMatch",
        403,
        "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. ",
    );
}

#[test]
fn date_header_instead_of_x_amz_date() {
    let mut r = Request::new("GET", "/", "Action=ListUsers")
        .header("Host", "iam.amazonaws.com")
        .header("Date", "Sun, 30 Aug 2015 12:36:00 GMT");
    let p = params();
    // Sign by hand: the signer always sets X-Amz-Date, so build the header from the pieces.
    let signed_headers = ["date".to_owned(), "host".to_owned()];
    let hash = r.payload.hash();
    let canonical = canonical_request(
        &r,
        &CanonicalParts {
            signed_headers: &signed_headers,
            payload_hash: &hash,
            uri_mode: UriMode::Normalized,
            skip_query: &[],
        },
    );
    let sts = string_to_sign("20150830T123600Z", "20150830/us-east-1/iam/aws4_request", &canonical);
    let signature = SigningKey::derive(&p.secret, "20150830", "us-east-1", "iam").sign(&sts);
    r = r.header(
        "Authorization",
        format!("AWS4-HMAC-SHA256 Credential={KEY_ID}/20150830/us-east-1/iam/aws4_request, SignedHeaders=date;host, Signature={signature}"),
    );
    assert!(verify_at(&r, T).is_ok());
}

#[test]
fn session_tokens() {
    let token = SecretString::from("FwoGZXIvYXdzEXAMPLETOKEN");
    let mut r = request();
    sign(&mut r, &params().session_token(token.clone()), None);
    assert_eq!(r.first_header("x-amz-security-token"), Some(token.expose()));
    let clock = FixedClock::new(T);
    let with = |expected: Option<&str>| {
        let expected = expected.map(SecretString::from);
        move |id: &str| {
            (id == KEY_ID).then(|| KeyRecord { secret: SecretString::from(SECRET), session_token: expected.clone() })
        }
    };
    let verified = verifier().verify(&r, &with(Some(token.expose())), &clock).unwrap();
    assert!(verified.session_token);
    let invalid = "The security token included in the request is invalid.";
    check(verifier().verify(&r, &with(Some("another token")), &clock), "InvalidClientTokenId", 403, invalid);
    check(verifier().verify(&r, &with(None), &clock), "InvalidClientTokenId", 403, invalid);
    check(verifier().verify(&signed(), &with(Some(token.expose())), &clock), "InvalidClientTokenId", 403, invalid);
}

#[test]
fn payload_markers_and_hashes() {
    for (marker, kind) in [(UNSIGNED_PAYLOAD, PayloadKind::Unsigned), (STREAMING_PAYLOAD, PayloadKind::Streaming)] {
        let mut r = request().header("x-amz-content-sha256", marker);
        let out = sign(&mut r, &params(), None);
        assert!(out.canonical_request.ends_with(&format!("\n{marker}")));
        // The body is not covered: another body still verifies.
        r.payload = Payload::Bytes(b"anything".to_vec());
        assert_eq!(verify_at(&r, T).unwrap().payload, kind);
    }

    let body_hash = request().payload.hash();
    let mut r = request().header("X-Amz-Content-Sha256", body_hash.clone());
    sign(&mut r, &params(), None);
    assert_eq!(verify_at(&r, T).unwrap().payload, PayloadKind::Signed);
    // The caller may hand over only the hash of a streamed body.
    let mut hashed = r.clone();
    hashed.payload = Payload::Hash(body_hash);
    assert!(verify_at(&hashed, T).is_ok());

    r.payload = Payload::Bytes(b"Action=DeleteUser".to_vec());
    check(
        verify_at(&r, T),
        "XAmzContentSHA256Mismatch",
        400,
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
}

fn presigned(expires: u32) -> Request {
    let mut r =
        Request::new("GET", "/", "Action=GetCallerIdentity&Version=2011-06-15").header("Host", "sts.amazonaws.com");
    let mut p = params();
    p.service = "sts".to_owned();
    presign(&mut r, &p, expires, None);
    r
}

fn verify_presigned(r: &Request, now: i64) -> Result<Verified, SigV4Error> {
    Verifier::new("us-east-1", "sts").verify(r, &keys, &FixedClock::new(now))
}

#[test]
fn presigned_urls() {
    let r = presigned(60);
    assert!(r.query.starts_with(
        "Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=\
         AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=60&\
         X-Amz-SignedHeaders=host&X-Amz-Signature="
    ));
    let verified = verify_presigned(&r, T).unwrap();
    assert!(verified.presigned);

    let mut changed = r.clone();
    changed.query = changed.query.replace("GetCallerIdentity", "GetSessionToken");
    assert_eq!(verify_presigned(&changed, T).unwrap_err().code(), "SignatureDoesNotMatch");

    let mut both = r.clone();
    both.headers.push(("Authorization".to_owned(), "AWS4-HMAC-SHA256 Credential=x".to_owned()));
    assert_eq!(verify_presigned(&both, T).unwrap_err().code(), "IncompleteSignature");

    let mut missing = r.clone();
    missing.query = missing.query.split("&X-Amz-Signature=").next().unwrap().to_owned();
    check(
        verify_presigned(&missing, T),
        "IncompleteSignature",
        400,
        "AWS query-string parameters must include 'X-Amz-Signature'. Re-examine the query-string parameters.",
    );
}

#[test]
fn presigned_expiry_edges() {
    let r = presigned(3600);
    assert!(verify_presigned(&r, T + 3600).is_ok(), "the last second is still valid");
    check(verify_presigned(&r, T + 3601), "AccessDenied", 403, "Request has expired");
    assert!(verify_presigned(&r, T - 300).is_ok());
    assert_eq!(verify_presigned(&r, T - 301).unwrap_err().code(), "SignatureDoesNotMatch");

    let week = presigned(MAX_PRESIGNED_EXPIRES);
    assert!(verify_presigned(&week, T + i64::from(MAX_PRESIGNED_EXPIRES)).is_ok());
    check(
        verify_presigned(&presigned(MAX_PRESIGNED_EXPIRES + 1), T),
        "AuthorizationQueryParametersError",
        400,
        "X-Amz-Expires must be less than a week (in seconds) that is 604800",
    );
}

#[test]
fn presigned_session_token_is_signed() {
    let token = SecretString::from("session-token");
    let mut r =
        Request::new("GET", "/", "Action=GetCallerIdentity&Version=2011-06-15").header("Host", "sts.amazonaws.com");
    let mut p = params().session_token(token.clone());
    p.service = "sts".to_owned();
    presign(&mut r, &p, 60, None);
    assert!(r.query.contains("&X-Amz-Security-Token=session-token&"));
    let lookup = |id: &str| {
        (id == KEY_ID).then(|| KeyRecord { secret: SecretString::from(SECRET), session_token: Some(token.clone()) })
    };
    assert!(Verifier::new("us-east-1", "sts").verify(&r, &lookup, &FixedClock::new(T)).unwrap().session_token);
}

#[test]
fn s3_presigned_urls_sign_unsigned_payload() {
    let mut r = Request::new("GET", "/bucket/my-object//example//photo.user", "").header("Host", "s3.amazonaws.com");
    let mut p = params().uri_mode(UriMode::S3);
    p.service = "s3".to_owned();
    let out = presign(&mut r, &p, 60, None);
    assert!(out.canonical_request.starts_with("GET\n/bucket/my-object//example//photo.user\n"));
    assert!(out.canonical_request.ends_with("\nUNSIGNED-PAYLOAD"));
    let verified =
        Verifier::new("us-east-1", "s3").uri_mode(UriMode::S3).verify(&r, &keys, &FixedClock::new(T)).unwrap();
    assert_eq!(verified.payload, PayloadKind::Unsigned);
}

#[test]
fn cache_hits_after_first_use_and_changes_nothing() {
    let cache = Arc::new(SigningKeyCache::new(64));
    let r = signed();
    let cached = verifier().with_cache(cache.clone());
    let clock = FixedClock::new(T);
    cached.verify(&r, &keys, &clock).unwrap();
    assert_eq!((cache.hits(), cache.misses()), (0, 1));
    cached.verify(&r, &keys, &clock).unwrap();
    assert_eq!((cache.hits(), cache.misses()), (1, 1));
    assert_eq!(cache.len(), 1);

    // Signing through the cache gives the same output as without it.
    let mut a = request();
    let mut b = request();
    assert_eq!(sign(&mut a, &params(), Some(&cache)), sign(&mut b, &params(), None));
    assert_eq!(cache.hits(), 2);

    // The same key id with another secret is not served the cached key.
    let other = |id: &str| (id == KEY_ID).then(|| KeyRecord::long_term(SecretString::from("another secret")));
    assert_eq!(cached.verify(&r, &other, &clock).unwrap_err().code(), "SignatureDoesNotMatch");
    assert_eq!(cache.misses(), 2);
    cached.verify(&r, &keys, &clock).unwrap();
}

#[test]
fn cache_is_bounded_and_shared_by_threads() {
    let cache = Arc::new(SigningKeyCache::new(32));
    let secret = SecretString::from(SECRET);
    for i in 0..500 {
        let key = cache.signing_key(&format!("AKID{i}"), &secret, "20150830", "us-east-1", "iam");
        assert_eq!(key, SigningKey::derive(&secret, "20150830", "us-east-1", "iam"));
    }
    assert!(cache.len() <= 32, "{} keys cached", cache.len());

    let r = signed();
    let verifier = verifier().with_cache(Arc::new(SigningKeyCache::default()));
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..50 {
                    verifier.verify(&r, &keys, &FixedClock::new(T)).unwrap();
                }
            });
        }
    });
    let cache = verifier.cache.as_ref().unwrap();
    assert_eq!(cache.hits() + cache.misses(), 200);
    assert!(cache.misses() <= 4);
}

#[test]
fn canonical_uris() {
    assert_eq!(canonical_uri("/a//b/./c/../d%20e/", UriMode::Normalized), "/a/b/d%2520e/");
    assert_eq!(canonical_uri("", UriMode::Normalized), "/");
    assert_eq!(canonical_uri("/a/..", UriMode::Normalized), "/");
    assert_eq!(canonical_uri("/a//b/../c%20d", UriMode::S3), "/a//b/../c%20d");
    assert_eq!(canonical_uri("/key with space+plus", UriMode::S3), "/key%20with%20space%2Bplus");
    assert_eq!(canonical_query("b=2&a=&c&a=1", &[]), "a=&a=1&b=2&c=");
    assert_eq!(canonical_query("x=a+b&y=%7e", &[]), "x=a%2Bb&y=~");
}

#[test]
fn raw_requests() {
    let r = Request::parse_raw(b"POST /p?q=1 HTTP/1.1\r\nHost: h\r\nX-A:1\r\n  2\r\n\r\nbody\r\n").unwrap();
    assert_eq!((r.method.as_str(), r.path.as_str(), r.query.as_str()), ("POST", "/p", "q=1"));
    assert_eq!(r.headers, [("Host".to_owned(), " h".to_owned()), ("X-A".to_owned(), "1,2".to_owned())]);
    assert_eq!(r.payload, Payload::Bytes(b"body\r\n".to_vec()));
    assert_eq!(Request::parse_raw(b"GET / HTTP/1.1\nHost:h\n").unwrap().headers.len(), 1);
    assert_eq!(Request::parse_raw(b"GET /\n"), Err(RawRequestError::RequestLine));
    assert_eq!(Request::parse_raw(b"GET / HTTP/1.1\n no header"), Err(RawRequestError::Header { line: 2 }));
    assert_eq!(Request::parse_raw(b"GET / HTTP/1.1\nbad\xff:1"), Err(RawRequestError::NotUtf8));
    assert_eq!(Request::parse_raw(b""), Err(RawRequestError::RequestLine));
    // A `;` or `,` in a name would corrupt the SignedHeaders list.
    assert_eq!(Request::parse_raw(b"GET / HTTP/1.1\na;b:1"), Err(RawRequestError::Header { line: 2 }));
}

#[test]
fn dates() {
    assert_eq!(format_amz_date(T), "20150830T123600Z");
    assert_eq!(parse_amz_date("20150830T123600Z"), Some(T));
    assert_eq!(parse_http_date("Sun, 30 Aug 2015 12:36:00 GMT"), Some(T));
    assert_eq!(format_amz_date(951_782_400), "20000229T000000Z");
    assert_eq!(parse_amz_date("20150230T000000Z"), None);
    assert_eq!(parse_amz_date("2015-08-30T12:36:00Z"), None);
    assert_eq!(parse_amz_date("+0150830T123600Z"), None);
    for t in [0, T, 4_102_444_799, -86_400] {
        assert_eq!(parse_amz_date(&format_amz_date(t)), Some(t));
    }
}

#[test]
fn secrets_stay_out_of_debug_output() {
    let key = SigningKey::derive(&SecretString::from(SECRET), "20150830", "us-east-1", "iam");
    assert_eq!(format!("{key:?}"), "SigningKey(** redacted **)");
    assert!(!format!("{:?}", params()).contains(SECRET));
}
