//! The credential-provider abstraction shared by the core, the PAM client and the C ABI.

use crate::error::Result;
use crate::secret::SecretString;
use std::sync::Arc;

/// A token response from the token endpoint (or a plugin), as cached and handed out.
///
/// `expires_at` is absolute (epoch seconds): the server's `expires_at` when present, else
/// `now + expires_in` (decision D-11; also when the server's value is already past by the local
/// clock, see [`crate::token::effective_expires_at`]); `0` only when the server sent neither (not
/// cacheable).
#[derive(Clone, Debug, Default)]
pub struct Credential {
    /// The bearer token (`access_token`).
    pub access_token: SecretString,
    /// `token_type` as sent (normally `Bearer`); empty when absent.
    pub token_type: String,
    /// `expires_in` in seconds as sent (0 when absent).
    pub expires_in: u64,
    /// Absolute expiry in epoch seconds (see the type's docs).
    pub expires_at: u64,
    /// `id_token`, when sent.
    pub id_token: Option<SecretString>,
    /// `refresh_token`, when sent.
    pub refresh_token: Option<SecretString>,
    /// `issued_token_type` (token exchange replies).
    pub issued_token_type: Option<String>,
    /// `scope`, when the server echoed it (informational).
    pub scope: Option<String>,
}

impl Credential {
    /// A `Bearer` credential for an access token obtained elsewhere (a token exchange's result, a
    /// token handed over by another process), checked like a token reply's: not blank and in the
    /// RFC 6750 token characters, since it is sent as `Authorization: Bearer`. The token is never
    /// quoted in the error ([`crate::ErrorKind::InvalidArgument`]).
    pub fn from_access_token(access_token: SecretString) -> Result<Credential> {
        if access_token.expose().trim().is_empty() {
            return Err(crate::Error::invalid_argument("access_token is blank"));
        }
        crate::server_text::check(
            "the given credential",
            "access_token",
            access_token.expose(),
            crate::server_text::TextRule::B64Token,
        )
        .map_err(|e| crate::Error::invalid_argument(e.message().to_string()))?;
        Ok(Credential {
            access_token,
            token_type: "Bearer".to_owned(),
            ..Credential::default()
        })
    }
}

/// Something that hands out bearer tokens: a cached, self-refreshing machine provider, a static
/// provider wrapping a token-exchange result, or an application plugin.
///
/// Implementations are thread-safe; `bearer_token` is the hot path and must be cheap when cached.
pub trait CredentialProvider: Send + Sync {
    /// The current credential (refreshed as needed).
    fn credential(&self) -> Result<Arc<Credential>>;

    /// The current bearer token (refreshed as needed).
    fn bearer_token(&self) -> Result<SecretString> {
        Ok(self.credential()?.access_token.clone())
    }

    /// Tell the provider the server rejected `token` as invalid or expired (HTTP 401), so the next
    /// call fetches a new one instead of serving the cached one. A no-op for static providers.
    fn invalidate(&self, _token: &str) {}
}

/// Shared handle to a provider.
pub type SharedProvider = Arc<dyn CredentialProvider>;

/// A provider that returns one credential forever and never refreshes (e.g. a token-exchange
/// result handed to the PAM client). Once the credential's `expires_at` (if non-zero) has passed
/// it still returns it: the server will reject it, and the caller decides what to do.
#[derive(Clone, Debug)]
pub struct StaticProvider {
    credential: Arc<Credential>,
}

impl StaticProvider {
    /// Wrap `credential`.
    pub fn new(credential: Credential) -> Self {
        StaticProvider {
            credential: Arc::new(credential),
        }
    }

    /// A provider for a bare bearer token (no expiry known).
    pub fn from_token(token: impl Into<SecretString>) -> Self {
        Self::new(Credential {
            access_token: token.into(),
            token_type: "Bearer".to_string(),
            ..Credential::default()
        })
    }

    /// Shared handle.
    pub fn shared(self) -> SharedProvider {
        Arc::new(self)
    }
}

impl CredentialProvider for StaticProvider {
    fn credential(&self) -> Result<Arc<Credential>> {
        Ok(self.credential.clone())
    }
}

/// A provider backed by a [`crate::cache::RefreshCache`] of credentials: the token-endpoint provider
/// of a [`crate::Client`] scope, or a PLUGIN provider. Created by the client.
pub struct CachedProvider {
    scope: String,
    cache: crate::cache::RefreshCache<Credential>,
}

impl std::fmt::Debug for CachedProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedProvider")
            .field("scope", &self.scope)
            .field("cache", &self.cache)
            .finish()
    }
}

impl CachedProvider {
    /// A provider for `scope` over `cache`.
    pub fn new(scope: impl Into<String>, cache: crate::cache::RefreshCache<Credential>) -> Self {
        CachedProvider {
            scope: scope.into(),
            cache,
        }
    }

    /// The scope this provider fetches tokens for.
    pub fn scope(&self) -> &str {
        &self.scope
    }

    /// The underlying cache (timing inspection, tests).
    pub fn cache(&self) -> &crate::cache::RefreshCache<Credential> {
        &self.cache
    }

    /// Call `f` with the current bearer token without copying it (the hot path of the C ABI).
    #[inline]
    pub fn with_bearer_token<R>(&self, f: impl FnOnce(&str) -> R) -> Result<R> {
        self.cache.with(|c| f(c.access_token.expose()))
    }

    /// [`CachedProvider::with_bearer_token`], also passing the token's version (≥ 1; changes
    /// whenever the cache stores a new token, see [`crate::cache::RefreshCache::with_versioned`]).
    #[inline]
    pub fn with_bearer_token_versioned<R>(&self, f: impl FnOnce(&str, u64) -> R) -> Result<R> {
        self.cache
            .with_versioned(|c, v| f(c.access_token.expose(), v))
    }
}

impl CredentialProvider for CachedProvider {
    fn credential(&self) -> Result<Arc<Credential>> {
        self.cache.get()
    }

    /// The hot path: a striped clone ([`SecretString::clone_striped`]) so that many threads reading
    /// the cached token do not contend on one reference count.
    #[inline]
    fn bearer_token(&self) -> Result<SecretString> {
        self.cache.with(|c| c.access_token.clone_striped())
    }

    fn invalidate(&self, token: &str) {
        self.cache
            .invalidate_if(|c| c.access_token.expose() == token);
    }
}
