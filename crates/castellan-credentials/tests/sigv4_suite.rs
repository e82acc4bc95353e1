//! The AWS SigV4 test suite (`../shared/corpora/sigv4-test-suite`, read in place): every case's
//! canonical request, string to sign and `Authorization` header, verification of its signed
//! request, and verification failing after any of many one-byte changes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use castellan_credentials::sigv4::{
    CanonicalParts, KeyRecord, Request, SigningKeyCache, SigningParams, UriMode, Verifier, canonical_request, sign,
};
use castellan_credentials::{FixedClock, SecretString, UnixTime};

const KEY_ID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const REGION: &str = "us-east-1";
const SERVICE: &str = "service";
/// 2015-08-30T12:36:00Z.
const SUITE_TIME: i64 = 1_440_938_160;

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/sigv4-test-suite")
}

/// Every folder (at any depth) holding a `<folder name>.req`.
fn cases(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.join(format!("{name}.req")).is_file() {
                out.push(path.clone());
            }
            cases(&path, out);
        }
    }
}

fn read(case: &Path, ext: &str) -> Vec<u8> {
    let name = case.file_name().unwrap().to_string_lossy().into_owned();
    std::fs::read(case.join(format!("{name}.{ext}"))).unwrap()
}

fn text(case: &Path, ext: &str) -> String {
    String::from_utf8(read(case, ext)).unwrap()
}

/// Known errata of the 2015 suite, corrected here rather than in the files (which are read in
/// place and never copied). Returns the corrected (request, signed request, expected canonical
/// request).
fn errata(name: &str, mut req: Request, mut sreq: Request, mut creq: String) -> (Request, Request, String) {
    match name {
        // The `.creq` lists `host;x-amz-date` as signed headers although its header block and
        // the `.authz` have `content-type` too (the `.sts` hashes the corrected text), and the
        // `.sreq` lost the `Content-Type` header that was signed.
        "post-x-www-form-urlencoded" => {
            creq = creq.replace("\n\nhost;x-amz-date\n", "\n\ncontent-type;host;x-amz-date\n");
            let content_type = req.first_header("content-type").unwrap().to_owned();
            sreq.headers.insert(0, ("Content-Type".to_owned(), content_type));
        }
        // The `.creq` signs the form body as the query string and the payload as empty (an old
        // SDK behaviour AWS services do not follow); the request is taken as that SDK sent it.
        "post-x-www-form-urlencoded-parameters" => {
            for r in [&mut req, &mut sreq] {
                let castellan_credentials::sigv4::Payload::Bytes(body) = &r.payload else { unreachable!() };
                r.query = String::from_utf8(body.clone()).unwrap();
                r.payload = castellan_credentials::sigv4::Payload::Bytes(Vec::new());
            }
        }
        _ => {}
    }
    (req, sreq, creq)
}

fn lookup_for(sreq: &Request) -> impl Fn(&str) -> Option<KeyRecord> + use<> {
    let token = sreq.first_header("x-amz-security-token").map(SecretString::from);
    move |id: &str| {
        (id == KEY_ID).then(|| KeyRecord { secret: SecretString::from(SECRET), session_token: token.clone() })
    }
}

/// The canonical request a verifier computes for `request` with the signed headers of `sreq`.
fn canonical_of(request: &Request, signed: &[String]) -> String {
    let hash = request.payload.hash();
    canonical_request(
        request,
        &CanonicalParts { signed_headers: signed, payload_hash: &hash, uri_mode: UriMode::Normalized, skip_query: &[] },
    )
}

fn flip(text: &str, at: usize, mask: u8) -> Option<String> {
    let mut bytes = text.as_bytes().to_vec();
    let b = bytes.get_mut(at)?;
    if !b.is_ascii() {
        return None;
    }
    *b ^= mask;
    String::from_utf8(bytes).ok()
}

/// A few positions of a text of `len` bytes: first, second, middle, second-to-last, last.
fn positions(len: usize) -> Vec<usize> {
    let mut p = vec![0, 1, len / 2, len.saturating_sub(2), len.saturating_sub(1)];
    p.retain(|&i| i < len);
    p.sort_unstable();
    p.dedup();
    p
}

/// Runs one case; returns how many mutations were rejected.
fn run_case(case: &Path) -> Result<usize, String> {
    let name = case.file_name().unwrap().to_string_lossy().into_owned();
    let req = Request::parse_raw(&read(case, "req")).map_err(|e| format!(".req: {e}"))?;
    let sreq = Request::parse_raw(&read(case, "sreq")).map_err(|e| format!(".sreq: {e}"))?;
    let (mut req, sreq, creq) = errata(&name, req, sreq, text(case, "creq"));

    let params =
        SigningParams::new(KEY_ID, SecretString::from(SECRET), REGION, SERVICE, UnixTime::from_seconds(SUITE_TIME));
    let signed = sign(&mut req, &params, None);
    if signed.canonical_request != creq {
        return Err(format!("canonical request:\n{}\n--- expected:\n{creq}", signed.canonical_request));
    }
    if signed.string_to_sign != text(case, "sts") {
        return Err(format!("string to sign:\n{}", signed.string_to_sign));
    }
    if signed.authorization != text(case, "authz") {
        return Err(format!("authorization:\n{}", signed.authorization));
    }

    let clock = FixedClock::new(SUITE_TIME);
    let lookup = lookup_for(&sreq);
    let cache = Arc::new(SigningKeyCache::new(16));
    let plain = Verifier::new(REGION, SERVICE);
    let cached = Verifier::new(REGION, SERVICE).with_cache(cache.clone());
    for verifier in [&plain, &cached, &cached] {
        verifier.verify(&sreq, &lookup, &clock).map_err(|e| format!("verify .sreq: {e}"))?;
    }
    if cache.hits() != 1 || cache.misses() != 1 {
        return Err(format!("cache: {} hits, {} misses", cache.hits(), cache.misses()));
    }

    // One-byte changes. A change that leaves the canonical request as it was (a path that
    // normalises the same) must still verify; every other change must not.
    let authz_index = sreq.headers.iter().position(|(n, _)| n.eq_ignore_ascii_case("authorization")).unwrap();
    let authz = sreq.headers[authz_index].1.clone();
    let signed_list: Vec<String> = authz
        .split("SignedHeaders=")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .map(|s| s.split(';').map(str::to_owned).collect())
        .unwrap();
    let original = canonical_of(&sreq, &signed_list);
    let mut mutants: Vec<(String, Request)> = Vec::new();
    let sig_start = authz.find("Signature=").unwrap() + "Signature=".len();
    for at in positions(authz.len() - sig_start) {
        let mut m = sreq.clone();
        m.headers[authz_index].1 = flip(&authz, sig_start + at, 0x01).unwrap();
        mutants.push((format!("signature byte {at}"), m));
    }
    for (index, (header, value)) in sreq.headers.iter().enumerate() {
        if !signed_list.iter().any(|s| s.eq_ignore_ascii_case(header.trim())) {
            continue;
        }
        for at in positions(value.len()) {
            if let Some(changed) = flip(value, at, 0x20) {
                let mut m = sreq.clone();
                m.headers[index].1 = changed;
                mutants.push((format!("header {header} byte {at}"), m));
            }
        }
    }
    for at in positions(sreq.method.len()) {
        let mut m = sreq.clone();
        m.method = flip(&sreq.method, at, 0x20).unwrap();
        mutants.push((format!("method byte {at}"), m));
    }
    for at in positions(sreq.path.len()) {
        if let Some(changed) = flip(&sreq.path, at, 0x20) {
            let mut m = sreq.clone();
            m.path = changed;
            mutants.push((format!("path byte {at}"), m));
        }
    }
    let mut m = sreq.clone();
    m.query.push_str(if m.query.is_empty() { "a" } else { "&a" });
    mutants.push(("query appended".to_owned(), m));
    for at in positions(sreq.query.len()) {
        if let Some(changed) = flip(&sreq.query, at, 0x20) {
            let mut m = sreq.clone();
            m.query = changed;
            mutants.push((format!("query byte {at}"), m));
        }
    }
    let castellan_credentials::sigv4::Payload::Bytes(body) = &sreq.payload else { unreachable!() };
    let mut m = sreq.clone();
    m.payload = castellan_credentials::sigv4::Payload::Bytes([body.as_slice(), b"a"].concat());
    mutants.push(("body appended".to_owned(), m));
    for at in positions(body.len()) {
        let mut changed = body.clone();
        changed[at] ^= 0x01;
        let mut m = sreq.clone();
        m.payload = castellan_credentials::sigv4::Payload::Bytes(changed);
        mutants.push((format!("body byte {at}"), m));
    }

    let mut rejected = 0;
    for (what, mutant) in &mutants {
        let same = !what.starts_with("signature") && canonical_of(mutant, &signed_list) == original;
        let result = plain.verify(mutant, &lookup, &clock);
        match (same, result) {
            (true, Ok(_)) => {}
            (true, Err(e)) => return Err(format!("{what}: same canonical request but {e}")),
            (false, Ok(_)) => return Err(format!("{what}: verification succeeded")),
            (false, Err(_)) => rejected += 1,
        }
    }
    if rejected < 8 {
        return Err(format!("only {rejected} mutations rejected"));
    }
    Ok(rejected)
}

#[test]
fn sigv4_test_suite() {
    let mut found = Vec::new();
    cases(&suite_dir(), &mut found);
    assert!(!found.is_empty(), "no cases under {}", suite_dir().display());
    let mut failures = Vec::new();
    let mut mutations = 0;
    for case in &found {
        match run_case(case) {
            Ok(rejected) => mutations += rejected,
            Err(e) => failures.push(format!("{}: {e}", case.display())),
        }
    }
    println!(
        "sigv4 suite: {} cases, {} passed, {mutations} one-byte changes rejected",
        found.len(),
        found.len() - failures.len()
    );
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), found.len(), failures.join("\n\n"));
}
