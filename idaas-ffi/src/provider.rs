//! `idaas_provider`: a credential provider (a client scope's cached provider, or a static token).

use std::ffi::c_char;
use std::sync::Arc;

use idaas_core::SecretString;
use idaas_core::{CachedProvider, Credential, SharedProvider, StaticProvider};

use super::{
    alloc_string, copy_if_changed, copy_into, free_guarded, guard, handle, idaas_code, idaas_error,
    out_arg, put_handle, str_arg, FfiError, Handle, OwnedByCaller,
};

/// A credential provider: hands out bearer tokens. Either bound to a client scope
/// (`idaas_client_get_provider`: cached, refreshed ahead of expiry) or static
/// (`idaas_provider_new_static`, `idaas_provider_new_from_credential_json`: one token forever, e.g.
/// the result of a token exchange for the PAM client). Thread-safe; free with `idaas_provider_free`.
pub struct idaas_provider {
    pub(crate) kind: ProviderKind,
}

impl Handle for idaas_provider {
    type Ownership = OwnedByCaller;
}

pub(crate) enum ProviderKind {
    /// A client scope's provider (hot path without an intermediate copy).
    Cached(Arc<CachedProvider>),
    /// Any other provider.
    Shared(SharedProvider),
}

impl idaas_provider {
    /// The provider as the core's shared trait object (for the PAM client).
    pub(crate) fn shared(&self) -> SharedProvider {
        match &self.kind {
            ProviderKind::Cached(p) => p.clone(),
            ProviderKind::Shared(p) => p.clone(),
        }
    }

    /// Calls `f` with the current token and its version (0 for providers without versions).
    #[inline]
    fn with_token_versioned<R>(&self, f: impl FnOnce(&str, u64) -> R) -> Result<R, FfiError> {
        match &self.kind {
            ProviderKind::Cached(p) => Ok(p.with_bearer_token_versioned(f)?),
            ProviderKind::Shared(p) => {
                let c = p.credential()?;
                Ok(f(c.access_token.expose(), 0))
            }
        }
    }

    /// Calls `f` with the current token.
    #[inline]
    fn with_token<R>(&self, f: impl FnOnce(&str) -> R) -> Result<R, FfiError> {
        self.with_token_versioned(|t, _| f(t))
    }
}

/// A static provider that returns `access_token` (token type `Bearer`) forever, never refreshing;
/// `expires_at_epoch_secs` is its expiry in epoch seconds (0 = unknown), informational only (the
/// token is returned even after it, and the server will reject it). Errors: `IDAAS_CODE_INVALID_ARGUMENT`
/// for a blank token or one outside the RFC 6750 token characters (it is sent as `Bearer`).
#[no_mangle]
pub unsafe extern "C" fn idaas_provider_new_static(
    access_token: *const c_char,
    expires_at_epoch_secs: u64,
    provider_out: *mut *mut idaas_provider,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    guard(err_out, || {
        // SAFETY: NULL or a NUL-terminated string (header contract).
        let token = unsafe { str_arg(access_token, "access_token") }?;
        out_arg(provider_out, "provider_out")?;
        let credential = Credential {
            expires_at: expires_at_epoch_secs,
            ..Credential::from_access_token(SecretString::from(token))?
        };
        let provider = idaas_provider {
            kind: ProviderKind::Shared(StaticProvider::new(credential).shared()),
        };
        // SAFETY: `provider_out` checked non-NULL above.
        unsafe { put_handle(provider_out, provider) };
        Ok(())
    })
}

/// A static provider from a credential JSON as returned by `idaas_client_exchange_token` /
/// `idaas_exchange_provider_exchange` (`access_token` required, in the RFC 6750 token character
/// set; `token_type`, `expires_in`, `expires_at`, `issued_token_type`, `scope` optional; other keys
/// ignored). The usual way to give the PAM client a user-delegated token. Errors:
/// `IDAAS_CODE_INVALID_ARGUMENT` for malformed JSON or a missing, blank or malformed
/// `access_token`.
#[no_mangle]
pub unsafe extern "C" fn idaas_provider_new_from_credential_json(
    credential_json: *const c_char,
    provider_out: *mut *mut idaas_provider,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    guard(err_out, || {
        // SAFETY: NULL or a NUL-terminated string (header contract).
        let json = unsafe { str_arg(credential_json, "credential_json") }?;
        out_arg(provider_out, "provider_out")?;
        let credential = idaas_core::json::parse_credential(json)?;
        let provider = idaas_provider {
            kind: ProviderKind::Shared(StaticProvider::new(credential).shared()),
        };
        // SAFETY: `provider_out` checked non-NULL above.
        unsafe { put_handle(provider_out, provider) };
        Ok(())
    })
}

/// The provider's current bearer token (cached providers refresh as needed: errors as for
/// `idaas_client_get_token`). Release `*token_out` with `idaas_string_free`.
#[no_mangle]
pub unsafe extern "C" fn idaas_provider_get_token(
    provider: *const idaas_provider,
    token_out: *mut *mut c_char,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    guard(err_out, || {
        // SAFETY: `provider` is NULL or a live provider handle (header contract).
        let provider = unsafe { handle(provider, "provider") }?;
        out_arg(token_out, "token_out")?;
        let p = provider.with_token(alloc_string)??;
        // SAFETY: `token_out` checked non-NULL above.
        unsafe { *token_out = p };
        Ok(())
    })
}

/// Zero-allocation variant of `idaas_provider_get_token` (same buffer rules as
/// `idaas_client_get_token_into`).
#[no_mangle]
pub unsafe extern "C" fn idaas_provider_get_token_into(
    provider: *const idaas_provider,
    buf: *mut c_char,
    cap: usize,
    len_out: *mut usize,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    guard(err_out, || {
        // SAFETY: `provider` is NULL or a live provider handle (header contract).
        let provider = unsafe { handle(provider, "provider") }?;
        out_arg(len_out, "len_out")?;
        // SAFETY: `buf` is NULL or writable for `cap` bytes; `len_out` checked non-NULL.
        provider.with_token(|t| unsafe { copy_into(t, buf, cap, len_out) })?
    })
}

/// Version-aware `idaas_provider_get_token_into`; the contract of
/// `idaas_client_get_token_versioned`, except that a provider without versions (a static or
/// token-exchange provider) always copies and sets `*version_inout` to 0.
#[no_mangle]
pub unsafe extern "C" fn idaas_provider_get_token_versioned(
    provider: *const idaas_provider,
    version_inout: *mut u64,
    buf: *mut c_char,
    cap: usize,
    len_out: *mut usize,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    guard(err_out, || {
        // SAFETY: `provider` is NULL or a live provider handle (header contract).
        let provider = unsafe { handle(provider, "provider") }?;
        out_arg(len_out, "len_out")?;
        out_arg(version_inout, "version_inout")?;
        // SAFETY: checked non-NULL above; readable and writable (header contract).
        let known = unsafe { *version_inout };
        provider.with_token_versioned(|t, v| {
            // SAFETY: `buf` is NULL or writable for `cap` bytes; `len_out` and `version_inout`
            // checked non-NULL.
            unsafe { copy_if_changed(t, v, known, buf, cap, len_out, version_inout) }
        })?
    })
}

/// Frees a provider. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn idaas_provider_free(provider: *mut idaas_provider) {
    free_guarded(provider);
}
