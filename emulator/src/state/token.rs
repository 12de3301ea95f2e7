//! State of the token endpoint: token lifetime, reply and strictness options, and the client
//! assertion `jti`s already used.

use crate::util::lock;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Above this many remembered `jti`s, the expired ones are forgotten.
const JTI_PRUNE_ABOVE: usize = 10_000;

/// State of the token endpoint.
pub(crate) struct TokenState {
    /// Lifetime of tokens issued from now on (seconds).
    lifetime: AtomicU64,
    /// Leave `expires_at` out of replies.
    pub omit_expires_at: bool,
    /// Form-decode Basic credentials strictly (RFC 6749 §2.3.1).
    pub strict_basic_encoding: bool,
    /// Require the issuer as `aud` of client assertions.
    pub strict_assertion_audience: bool,
    /// `client_id NUL jti` → `exp` of assertions already used.
    jtis: Mutex<HashMap<String, u64>>,
}

impl TokenState {
    /// The state at start.
    pub fn new(
        lifetime: u64,
        omit_expires_at: bool,
        strict_basic_encoding: bool,
        strict_assertion_audience: bool,
    ) -> TokenState {
        TokenState {
            lifetime: AtomicU64::new(lifetime),
            omit_expires_at,
            strict_basic_encoding,
            strict_assertion_audience,
            jtis: Mutex::new(HashMap::new()),
        }
    }

    /// Lifetime of tokens issued now.
    pub fn lifetime(&self) -> u64 {
        self.lifetime.load(Ordering::Relaxed)
    }

    /// Sets the lifetime of tokens issued from now on.
    pub fn set_lifetime(&self, secs: u64) {
        self.lifetime.store(secs, Ordering::Relaxed);
    }

    /// Records the `jti` of a client assertion expiring at `exp`; false when that client used it
    /// before (a replay). Entries expired more than `skew` seconds before `now` may be forgotten.
    pub fn first_use_of_jti(
        &self,
        client_id: &str,
        jti: &str,
        exp: i64,
        now: i64,
        skew: i64,
    ) -> bool {
        let mut seen = lock(&self.jtis);
        let now_u = now as u64;
        if seen.len() > JTI_PRUNE_ABOVE {
            seen.retain(|_, e| *e + skew as u64 >= now_u);
        }
        let key = format!("{client_id}\u{0}{jti}");
        if seen.contains_key(&key) {
            return false;
        }
        seen.insert(key, exp.max(0) as u64);
        true
    }
}
