//! The credential-provider abstraction shared by the core, the PAM client and the C ABI.

use crate::error::Result;
use crate::secret::SecretString;
use std::sync::Arc;

/// A token response from the token endpoint (or a plugin), as cached and handed out.
///
/// `expires_at` is absolute (epoch seconds): the server's `expires_at` when present, else
/// `now + expires_in` (decision D-11); `0` only when the server sent neither (not cacheable).
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
