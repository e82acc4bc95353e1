//! The signing key (an HMAC-SHA256 chain over date, region, service and `aws4_request`) and a
//! bounded cache of signing keys that many threads can share.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::{TERMINATOR, hex};
use crate::SecretString;

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256 of `data` under `key`.
pub(crate) fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail; the fallback keeps the
    // library free of panics all the same.
    match HmacSha256::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            mac.finalize().into_bytes().into()
        }
        Err(_) => [0; 32],
    }
}

/// A derived signing key: secret material, zeroed on drop and never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey(Zeroizing<[u8; 32]>);

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(** redacted **)")
    }
}

impl SigningKey {
    /// Derives the key: `kDate = HMAC("AWS4" + secret, date)`, `kRegion = HMAC(kDate, region)`,
    /// `kService = HMAC(kRegion, service)`, `kSigning = HMAC(kService, "aws4_request")`.
    pub fn derive(secret: &SecretString, date: &str, region: &str, service: &str) -> SigningKey {
        let mut first = Zeroizing::new(Vec::with_capacity(4 + secret.expose().len()));
        first.extend_from_slice(b"AWS4");
        first.extend_from_slice(secret.expose().as_bytes());
        let k_date = Zeroizing::new(hmac_sha256(&first, date.as_bytes()));
        let k_region = Zeroizing::new(hmac_sha256(k_date.as_slice(), region.as_bytes()));
        let k_service = Zeroizing::new(hmac_sha256(k_region.as_slice(), service.as_bytes()));
        SigningKey(Zeroizing::new(hmac_sha256(k_service.as_slice(), TERMINATOR.as_bytes())))
    }

    /// The signature of a string to sign: lowercase hex HMAC-SHA256.
    pub fn sign(&self, string_to_sign: &str) -> String {
        hex(&hmac_sha256(self.0.as_slice(), string_to_sign.as_bytes()))
    }
}

/// One cached key, with the secret it was derived from: a hit requires the same secret, so a
/// changed secret can never be served a stale key.
struct Entry {
    secret: SecretString,
    date: String,
    key: SigningKey,
}

const SHARDS: usize = 16;

/// A bounded cache of signing keys, keyed by (access key id, date, region, service).
///
/// A signing key is valid for one day, region and service, so a busy verifier derives it once
/// a day per key instead of four HMACs per request. The cache is split into shards, each behind
/// its own mutex, so threads verifying requests of different keys rarely wait on each other.
/// When a shard is full, keys of other days go first, then an arbitrary entry.
pub struct SigningKeyCache {
    shards: Vec<Mutex<HashMap<String, Entry>>>,
    per_shard: usize,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl fmt::Debug for SigningKeyCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeyCache")
            .field("capacity", &(self.per_shard * SHARDS))
            .field("hits", &self.hits())
            .field("misses", &self.misses())
            .finish_non_exhaustive()
    }
}

impl Default for SigningKeyCache {
    fn default() -> SigningKeyCache {
        SigningKeyCache::new(4096)
    }
}

impl SigningKeyCache {
    /// A cache holding about `capacity` keys (at least one per shard).
    pub fn new(capacity: usize) -> SigningKeyCache {
        SigningKeyCache {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            per_shard: capacity.div_ceil(SHARDS).max(1),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The signing key of (access key id, date, region, service), derived from `secret` unless
    /// a key derived from the same secret is cached.
    pub fn signing_key(
        &self,
        access_key_id: &str,
        secret: &SecretString,
        date: &str,
        region: &str,
        service: &str,
    ) -> SigningKey {
        let parts = [access_key_id, date, region, service];
        if parts.iter().any(|p| p.contains('\0')) {
            // The NUL separates the parts of the cache key; such a part is never cached.
            self.misses.fetch_add(1, Ordering::Relaxed);
            return SigningKey::derive(secret, date, region, service);
        }
        let id = parts.join("\0");
        let Some(shard) = self.shards.get(shard_of(&id)) else {
            return SigningKey::derive(secret, date, region, service);
        };
        // A poisoned shard only means another thread panicked while holding it; the map is
        // still consistent (every write is a single insert or removal).
        let mut map = shard.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(entry) = map.get(&id) {
            let same = entry.secret.expose().as_bytes().ct_eq(secret.expose().as_bytes());
            if bool::from(same) {
                self.hits.fetch_add(1, Ordering::Relaxed);
                return entry.key.clone();
            }
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let key = SigningKey::derive(secret, date, region, service);
        if map.len() >= self.per_shard && !map.contains_key(&id) {
            map.retain(|_, entry| entry.date == date);
            if map.len() >= self.per_shard {
                let victim = map.keys().next().cloned();
                if let Some(victim) = victim {
                    map.remove(&victim);
                }
            }
        }
        map.insert(id, Entry { secret: secret.clone(), date: date.to_owned(), key: key.clone() });
        key
    }

    /// How many lookups found their key cached.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// How many lookups derived their key.
    pub fn misses(&self) -> u64 {
        self.misses.load(Ordering::Relaxed)
    }

    /// How many keys are cached.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().unwrap_or_else(std::sync::PoisonError::into_inner).len()).sum()
    }

    /// Whether no key is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// FNV-1a of the cache key, reduced to a shard index.
fn shard_of(id: &str) -> usize {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    usize::try_from(hash % SHARDS as u64).unwrap_or(0)
}
