//! State of the ECS metadata stand-in: the session tokens it handed out.

use crate::util::lock;
use std::collections::HashMap;
use std::sync::Mutex;

/// State of the ECS metadata stand-in.
#[derive(Default)]
pub(crate) struct MetadataState {
    /// Session token → (expiry in epoch seconds, TTL it was requested with).
    tokens: Mutex<HashMap<String, (u64, u64)>>,
}

/// Why a session token was refused.
pub(crate) enum TokenRefusal {
    Expired,
    Unknown,
}

impl MetadataState {
    /// Hands out a random session token valid for `ttl` seconds from `now`, forgetting expired ones.
    pub fn issue(&self, ttl: u64, now: u64) -> String {
        let token = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let mut toks = lock(&self.tokens);
        toks.retain(|_, (exp, _)| *exp > now);
        toks.insert(token.clone(), (now + ttl, ttl));
        token
    }

    /// The TTL a live session token was requested with.
    pub fn ttl_of(&self, token: &str, now: u64) -> Result<u64, TokenRefusal> {
        match lock(&self.tokens).get(token) {
            Some((exp, ttl)) if *exp > now => Ok(*ttl),
            Some(_) => Err(TokenRefusal::Expired),
            None => Err(TokenRefusal::Unknown),
        }
    }
}
