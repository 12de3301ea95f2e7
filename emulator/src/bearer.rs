//! Verified bearer tokens of the Developer API.
//!
//! A client sends the same access token with every Developer API request for as long as it caches
//! it, and verifying the token's ES256 signature is most of the emulator's work per request.
//! [`BearerCache`] keeps the claims of tokens whose signature has been verified, keyed by the
//! whole compact token (header, payload *and* signature), so a token's base64/JSON decoding and
//! signature check are done once.
//!
//! What is cached is only what depends on the token's bytes and the emulator's signing key, which
//! never changes for the life of an emulator: "this exact string decodes to these claims and carries
//! a valid signature". Everything else — `iss`, `exp` against the current time, the presence of
//! `client_id`/`scope`, the operation's scope — is checked by the caller on every request
//! (`handlers::devapi::auth`). A token whose signature does not verify is never inserted (a
//! tampered token is a different key, so it always misses and is verified, and refused). The
//! cache is bounded ([`CAPACITY`]): when full, expired entries are dropped, and if that is not
//! enough the cache is emptied.

use crate::jwt::{EcSigner, Jwt};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Maximum number of cached tokens.
pub(crate) const CAPACITY: usize = 4096;

/// The claims of a verified access token that the Developer API's authorisation reads.
#[derive(Debug, PartialEq)]
pub(crate) struct BearerClaims {
    /// `iss` (when a string).
    pub iss: Option<String>,
    /// `exp` as integer seconds (floats truncated), 0 when absent or not a number.
    pub exp: i64,
    /// `client_id` (when a string).
    pub client_id: Option<String>,
    /// `scope` (when a string).
    pub scope: Option<String>,
    /// `sub` (when a string).
    pub sub: Option<String>,
    /// Whether the token has an `act` claim (token exchange: user-bound).
    pub user_bound: bool,
}

impl BearerClaims {
    fn from_jwt(jwt: &Jwt) -> BearerClaims {
        let s = |n: &str| jwt.str_claim(n).map(str::to_string);
        BearerClaims {
            iss: s("iss"),
            exp: jwt.num_claim("exp").unwrap_or(0),
            client_id: s("client_id"),
            scope: s("scope"),
            sub: s("sub"),
            user_bound: jwt.claims.get("act").is_some(),
        }
    }
}

/// Why a bearer token was refused before its claims were looked at.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum BearerError {
    /// Not a compact JWS with JSON header and payload.
    Malformed,
    /// The signature is not an ES256 signature by the emulator's token key.
    BadSignature,
}

/// Claims of bearer tokens whose signature has been verified (see the module documentation).
#[derive(Default)]
pub(crate) struct BearerCache {
    map: RwLock<HashMap<Box<str>, Arc<BearerClaims>>>,
}

impl BearerCache {
    /// The claims of `token` if its signature by `key` is valid: from the cache, or decoded and
    /// verified now (and then cached). `now` (epoch seconds) only decides which entries to drop
    /// when the cache is full; it is not an expiry check.
    pub fn verify(
        &self,
        key: &EcSigner,
        token: &str,
        now: i64,
    ) -> Result<Arc<BearerClaims>, BearerError> {
        if let Some(c) = self
            .map
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(token)
        {
            return Ok(c.clone());
        }
        let jwt = Jwt::decode(token).map_err(|_| BearerError::Malformed)?;
        if !key.verify(&jwt) {
            return Err(BearerError::BadSignature);
        }
        let claims = Arc::new(BearerClaims::from_jwt(&jwt));
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        if map.len() >= CAPACITY && !map.contains_key(token) {
            map.retain(|_, c| c.exp > now);
            if map.len() >= CAPACITY {
                map.clear();
            }
        }
        map.insert(token.into(), claims.clone());
        Ok(claims)
    }

    /// Number of cached tokens.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.map.read().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether `token` is cached.
    #[cfg(test)]
    pub fn contains(&self, token: &str) -> bool {
        self.map
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::{b64url, now_secs, B64URL};
    use base64::Engine;
    use serde_json::json;

    fn token(key: &EcSigner, exp: i64, jti: usize) -> String {
        key.sign(
            "at+jwt",
            &json!({"iss": "https://x/iss", "sub": "app", "client_id": "app", "scope": "a|b", "exp": exp, "jti": jti}),
        )
    }

    /// `token` with one byte of its (decoded) signature flipped.
    fn tamper(token: &str) -> String {
        let (input, sig) = token.rsplit_once('.').unwrap();
        let mut sig = B64URL.decode(sig).unwrap();
        sig[10] ^= 0x01;
        format!("{input}.{}", b64url(&sig))
    }

    #[test]
    fn verifies_once_and_returns_the_same_claims() {
        let key = EcSigner::generate("k").unwrap();
        let cache = BearerCache::default();
        let now = now_secs() as i64;
        let t = token(&key, now + 60, 1);
        let a = cache.verify(&key, &t, now).unwrap();
        assert!(cache.contains(&t));
        let b = cache.verify(&key, &t, now).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(a.exp, now + 60);
        assert_eq!(a.client_id.as_deref(), Some("app"));
        assert_eq!(a.scope.as_deref(), Some("a|b"));
        assert!(!a.user_bound);
    }

    #[test]
    fn a_bad_signature_is_refused_and_never_cached() {
        let key = EcSigner::generate("k").unwrap();
        let other = EcSigner::generate("k").unwrap();
        let cache = BearerCache::default();
        let now = now_secs() as i64;
        let t = token(&key, now + 60, 1);
        cache.verify(&key, &t, now).unwrap();
        // Same header and payload as the cached token, tampered signature.
        let forged = tamper(&t);
        assert_ne!(forged, t);
        for _ in 0..2 {
            assert_eq!(
                cache.verify(&key, &forged, now).unwrap_err(),
                BearerError::BadSignature
            );
        }
        assert!(!cache.contains(&forged));
        // A valid signature of another payload grafted on, and a token signed by another key.
        let t2 = token(&key, now + 60, 2);
        let grafted = format!(
            "{}.{}",
            t.rsplit_once('.').unwrap().0,
            t2.rsplit_once('.').unwrap().1
        );
        assert_eq!(
            cache.verify(&key, &grafted, now).unwrap_err(),
            BearerError::BadSignature
        );
        let foreign = token(&other, now + 60, 1);
        assert_eq!(
            cache.verify(&key, &foreign, now).unwrap_err(),
            BearerError::BadSignature
        );
        assert_eq!(
            cache.verify(&key, "not.a.jwt", now).unwrap_err(),
            BearerError::Malformed
        );
        assert_eq!(cache.len(), 1);
        assert!(cache.verify(&key, &t, now).is_ok());
    }

    #[test]
    fn stays_bounded() {
        let key = EcSigner::generate("k").unwrap();
        let cache = BearerCache::default();
        let now = now_secs() as i64;
        // Unexpired tokens: when full, the cache is emptied.
        for i in 0..CAPACITY + 10 {
            cache.verify(&key, &token(&key, now + 60, i), now).unwrap();
            assert!(cache.len() <= CAPACITY);
        }
        assert_eq!(cache.len(), 10);
        // Mostly expired tokens: when full, the expired ones are dropped first.
        let cache = BearerCache::default();
        for i in 0..CAPACITY - 1 {
            cache.verify(&key, &token(&key, now - 1, i), now).unwrap();
        }
        let live = token(&key, now + 60, 0);
        cache.verify(&key, &live, now).unwrap();
        assert_eq!(cache.len(), CAPACITY);
        cache.verify(&key, &token(&key, now + 60, 1), now).unwrap();
        assert_eq!(cache.len(), 2);
        assert!(cache.contains(&live));
    }
}
