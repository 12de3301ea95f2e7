//! State of the Alibaba Cloud stand-ins: the keys that may sign OpenAPI requests (seeded ones and
//! the temporary ones STS, the metadata service and the credentials URI issued), the signature
//! nonces already used, and the lifetime of newly issued temporary keys.

use crate::fixtures::AlibabaCloudFixture;
use crate::util::lock;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// How long a signature nonce is remembered: the `x-acs-date` window on both sides.
pub(crate) const NONCE_WINDOW_SECS: u64 = 2 * 900;
/// Above this many remembered nonces, the old ones are forgotten.
const NONCE_PRUNE_ABOVE: usize = 50_000;
/// Above this many temporary keys, the expired ones are forgotten.
const KEY_PRUNE_ABOVE: usize = 10_000;

/// A key the OpenAPI stand-in knows.
#[derive(Clone, Debug)]
pub(crate) struct KnownKey {
    pub secret: String,
    /// STS keys must come with this token.
    pub security_token: Option<String>,
    /// Epoch seconds; `None` for seeded keys.
    pub expires_at: Option<u64>,
}

/// A temporary key as issued.
#[derive(Clone, Debug)]
pub(crate) struct IssuedKey {
    pub id: String,
    pub secret: String,
    pub token: String,
    pub expires_at: u64,
}

/// State of the Alibaba Cloud stand-ins.
pub(crate) struct AlibabaState {
    keys: Mutex<HashMap<String, KnownKey>>,
    /// `AccessKeyId NUL nonce` → time first seen.
    nonces: Mutex<HashMap<String, u64>>,
    /// Lifetime of temporary keys issued from now on (seconds; `DurationSeconds` may ask less).
    sts_lifetime: AtomicU64,
}

impl AlibabaState {
    /// The seeded keys of the fixtures.
    pub fn new(f: &AlibabaCloudFixture, sts_lifetime: u64) -> AlibabaState {
        let keys = f
            .access_keys
            .iter()
            .map(|k| {
                (
                    k.access_key_id.clone(),
                    KnownKey {
                        secret: k.access_key_secret.clone(),
                        security_token: k.security_token.clone(),
                        expires_at: None,
                    },
                )
            })
            .collect();
        AlibabaState {
            keys: Mutex::new(keys),
            nonces: Mutex::new(HashMap::new()),
            sts_lifetime: AtomicU64::new(sts_lifetime),
        }
    }

    /// The key `id`, if known (expired temporary keys included: the caller says why it refuses).
    pub fn key(&self, id: &str) -> Option<KnownKey> {
        lock(&self.keys).get(id).cloned()
    }

    /// Issues a temporary key valid for `min(duration, lifetime)` seconds from `now`.
    pub fn issue(&self, now: u64, duration: Option<u64>) -> IssuedKey {
        let lifetime = self.sts_lifetime();
        let secs = duration.map_or(lifetime, |d| d.min(lifetime));
        let key = IssuedKey {
            id: format!("STS.{}", uuid::Uuid::new_v4().simple()),
            secret: format!("{}", uuid::Uuid::new_v4().simple()),
            token: format!(
                "CAIS{}{}",
                uuid::Uuid::new_v4().simple(),
                uuid::Uuid::new_v4().simple()
            ),
            expires_at: now + secs,
        };
        let mut keys = lock(&self.keys);
        if keys.len() > KEY_PRUNE_ABOVE {
            keys.retain(|_, k| k.expires_at.is_none_or(|e| e > now));
        }
        keys.insert(
            key.id.clone(),
            KnownKey {
                secret: key.secret.clone(),
                security_token: Some(key.token.clone()),
                expires_at: Some(key.expires_at),
            },
        );
        key
    }

    /// Records a signature nonce of `key_id`; false when it was used before (a replay).
    pub fn first_use_of_nonce(&self, key_id: &str, nonce: &str, now: u64) -> bool {
        let mut seen = lock(&self.nonces);
        if seen.len() > NONCE_PRUNE_ABOVE {
            seen.retain(|_, t| *t + NONCE_WINDOW_SECS >= now);
        }
        let k = format!("{key_id}\u{0}{nonce}");
        if seen.contains_key(&k) {
            return false;
        }
        seen.insert(k, now);
        true
    }

    /// Lifetime of temporary keys issued now.
    pub fn sts_lifetime(&self) -> u64 {
        self.sts_lifetime.load(Ordering::Relaxed)
    }

    /// Sets the lifetime of temporary keys issued from now on.
    pub fn set_sts_lifetime(&self, secs: u64) {
        self.sts_lifetime.store(secs.max(1), Ordering::Relaxed);
    }
}
