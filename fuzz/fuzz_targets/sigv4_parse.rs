//! Fuzz target `sigv4_parse`: any bytes through the raw HTTP request reader of
//! `castellan_credentials::sigv4`; whatever it accepts goes on through canonicalisation (both
//! URI modes), signing and verification (as sent, and after signing). Nothing may panic, and a
//! request this crate signed must verify.

#![no_main]

use castellan_credentials::sigv4::{
    CanonicalParts, KeyRecord, Request, SigningKeyCache, SigningParams, UriMode, Verifier, canonical_request, sign,
};
use castellan_credentials::{FixedClock, SecretString, UnixTime};
use libfuzzer_sys::fuzz_target;

const KEY_ID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
/// 2015-08-30T12:36:00Z, the time of the SigV4 test suite.
const SUITE_TIME: i64 = 1_440_938_160;

fn lookup(id: &str) -> Option<KeyRecord> {
    (id == KEY_ID).then(|| KeyRecord::long_term(SecretString::from(SECRET)))
}

fuzz_target!(|data: &[u8]| {
    let Ok(request) = Request::parse_raw(data) else { return };
    let signed_headers: Vec<String> =
        request.headers.iter().map(|(name, _)| name.trim().to_ascii_lowercase()).collect();
    let hash = request.payload.hash();
    for uri_mode in [UriMode::Normalized, UriMode::S3] {
        let parts = CanonicalParts { signed_headers: &signed_headers, payload_hash: &hash, uri_mode, skip_query: &[] };
        let _ = canonical_request(&request, &parts);
    }

    let clock = FixedClock::new(SUITE_TIME);
    let cache = SigningKeyCache::new(8);
    let verifier = Verifier::new("us-east-1", "service");
    let _ = verifier.verify(&request, &lookup, &clock);

    // A request this crate signs must verify. It may fail only as an incomplete signature (the
    // input also carried presigned query parameters, or no `Host` header), or when it sent a
    // session token or an `x-amz-content-sha256` of its own.
    let mut signed = request.clone();
    let params = SigningParams::new(
        KEY_ID,
        SecretString::from(SECRET),
        "us-east-1",
        "service",
        UnixTime::from_seconds(SUITE_TIME),
    );
    let _ = sign(&mut signed, &params, Some(&cache));
    let result = verifier.verify(&signed, &lookup, &clock);
    let own_hash_or_token =
        signed.first_header("x-amz-content-sha256").is_some() || signed.first_header("x-amz-security-token").is_some();
    if let Err(error) = result {
        assert!(
            own_hash_or_token || error.code() == "IncompleteSignature",
            "a request signed here does not verify: {error}\n{signed:?}"
        );
    }
});
