//! `idaas_client`: the M2M client (token cache per scope, token exchange) and its hot path.

use std::ffi::c_char;

use serde::Deserialize;

use idaas_core::Client;

use super::config::{config_ref, idaas_config};
use super::exchange::{credential_json, idaas_exchange_provider};
use super::provider::{idaas_provider, ProviderKind};
use super::{
    alloc_string_prechecked, copy_if_changed, copy_into_prechecked, free_guarded, guard, handle,
    idaas_code, idaas_error, opt_str_arg, options_arg, out_arg, put_handle, str_arg, FfiError,
    Handle, OwnedByCaller,
};

/// The IDaaS M2M client: one HTTP connection pool and one refresh-ahead token cache per scope.
/// Creating it does no network I/O unless asked to; the first token of a scope is fetched on first
/// use. Share one client between threads (all functions taking `const idaas_client *` are
/// thread-safe). Free with `idaas_client_free` after every call using it has returned; providers,
/// exchange providers and PAM clients made from it stay valid.
pub struct idaas_client {
    pub(crate) inner: Client,
}

impl Handle for idaas_client {
    type Ownership = OwnedByCaller;
}

/// `options_json` of `idaas_client_new`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ClientOptions {
    /// Appended to the User-Agent (bindings send e.g. `"go/1.22 idaas-go/0.1.0"`).
    user_agent_suffix: Option<String>,
    /// Refresh in the prefetch window on a background thread (default) or inline (`false`).
    async_refresh: Option<bool>,
    /// Fetch the default-scope token during construction.
    prefetch: Option<bool>,
}

/// A client from a configuration handle: its plugins and logger go with it.
fn build_client(config: &idaas_config, options: ClientOptions) -> Result<idaas_client, FfiError> {
    let mut b = Client::builder(config.inner.clone());
    if let Some(s) = &options.user_agent_suffix {
        b = b.user_agent_suffix(s);
    }
    if let Some(on) = options.async_refresh {
        b = b.async_refresh(on);
    }
    if let Some(sink) = &config.log_sink {
        b = b.log_sink(sink.clone());
    }
    for (name, plugin) in &config.plugins {
        b = b.plugin(name.clone(), plugin.clone());
    }
    let inner = b.prefetch(options.prefetch == Some(true)).build()?;
    Ok(idaas_client { inner })
}

/// Creates a client from `config` (copied, with its plugins and logger: the config may be freed
/// afterwards).
///
/// `options_json` (nullable) — `{"userAgentSuffix": string, "asyncRefresh": bool, "prefetch": bool}`:
/// `userAgentSuffix` is appended to the User-Agent (bindings identify themselves here);
/// `asyncRefresh` refreshes tokens in the prefetch window on a background thread (default true: no
/// caller waits for the network while the cached token is still served; `false`: the first caller in
/// the window refreshes in its own thread while others are served the cached token — no library
/// threads, and PLUGIN callbacks only ever run in calling threads);
/// `prefetch` fetches the default-scope token now (network I/O) so that credential and server errors
/// surface from the constructor, as the reference `init()` does (default false: no I/O here).
///
/// A configuration with `authnMethod: PLUGIN` needs its `pluginName` added with
/// `idaas_config_add_plugin` before this call. Errors: `IDAAS_CODE_CONFIG` (e.g. unreadable
/// `caCertificatePath`, plugin not added), `IDAAS_CODE_INVALID_ARGUMENT` (bad options); with
/// `prefetch`, any error of `idaas_client_get_token`.
#[no_mangle]
pub unsafe extern "C" fn idaas_client_new(
    config: *const idaas_config,
    options_json: *const c_char,
    client_out: *mut *mut idaas_client,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    guard(err_out, || {
        // SAFETY: `config` is NULL or a live config handle (header contract).
        let config = unsafe { config_ref(config, "config") }?;
        // SAFETY: `options_json` is NULL or a NUL-terminated string (header contract).
        let options = unsafe { options_arg::<ClientOptions>(options_json, "options_json") }?;
        out_arg(client_out, "client_out")?;
        let client = build_client(config, options)?;
        // SAFETY: `client_out` checked non-NULL above.
        unsafe { put_handle(client_out, client) };
        Ok(())
    })
}

/// Frees a client. Must not race with other calls on it. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn idaas_client_free(client: *mut idaas_client) {
    free_guarded(client);
}

/// The hot path: the bearer token for `scope` (nullable: NULL = the configured default scope, the
/// fastest path), served from the cache and refreshed ahead of expiry (blocking network I/O only when
/// no valid token is cached). `*token_out` receives an owned copy: release it with
/// `idaas_string_free`.
///
/// Errors: `IDAAS_CODE_INVALID_ARGUMENT` (`InvalidScope`, `MultipleAudienceNotSupported`),
/// `IDAAS_CODE_CREDENTIAL` (e.g. the client-secret environment variable is not set),
/// `IDAAS_CODE_AUTH` (token endpoint refused: `invalid_client`, `invalid_scope` ...),
/// `IDAAS_CODE_CLIENT_ERROR`, `IDAAS_CODE_SERVER_ERROR`, `IDAAS_CODE_UNEXPECTED_RESPONSE`,
/// `IDAAS_CODE_TRANSPORT`, `IDAAS_CODE_TIMEOUT`.
#[no_mangle]
pub unsafe extern "C" fn idaas_client_get_token(
    client: *const idaas_client,
    scope: *const c_char,
    token_out: *mut *mut c_char,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    guard(err_out, || {
        // SAFETY: `client` is NULL or a live client handle (header contract).
        let client = unsafe { handle(client, "client") }?;
        out_arg(token_out, "token_out")?;
        // SAFETY: NULL or a NUL-terminated string (header contract).
        let scope = unsafe { opt_str_arg(scope, "scope") }?;
        // A cached token holds no NUL byte: the core refuses tokens outside the RFC 6750
        // character set (and plugin tokens outside visible ASCII) before caching them.
        let p = match scope {
            None => client.inner.with_bearer_token(alloc_string_prechecked)??,
            Some(s) => client
                .inner
                .with_bearer_token_for_scope(s, alloc_string_prechecked)??,
        };
        // SAFETY: `token_out` checked non-NULL above.
        unsafe { *token_out = p };
        Ok(())
    })
}

/// Zero-allocation variant of `idaas_client_get_token`: copies the token and a terminating NUL into
/// `buf` (`cap` bytes) and stores its length (without the NUL) in `*len_out`. When `cap` is too small
/// (or `buf` is NULL) nothing is copied, `*len_out` receives the required size in bytes (length + 1)
/// and the result is `IDAAS_CODE_BUFFER_TOO_SMALL` (the token is still cached: retry with a bigger
/// buffer; 2048 bytes fit typical tokens). Wipe the buffer with `idaas_buffer_wipe` when done.
#[no_mangle]
pub unsafe extern "C" fn idaas_client_get_token_into(
    client: *const idaas_client,
    scope: *const c_char,
    buf: *mut c_char,
    cap: usize,
    len_out: *mut usize,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    guard(err_out, || {
        // SAFETY: `client` is NULL or a live client handle (header contract).
        let client = unsafe { handle(client, "client") }?;
        out_arg(len_out, "len_out")?;
        // SAFETY: NULL or a NUL-terminated string (header contract).
        let scope = unsafe { opt_str_arg(scope, "scope") }?;
        // No NUL check: see `idaas_client_get_token`.
        client.inner.with_bearer_token_versioned(scope, |t, _| {
            // SAFETY: `buf` is NULL or writable for `cap` bytes; `len_out` checked non-NULL.
            unsafe { copy_into_prechecked(t, buf, cap, len_out) }
        })?
    })
}

/// Version-aware `idaas_client_get_token_into`, for callers that keep a copy of the token (language
/// bindings caching a string): the hot path copies nothing when the caller's copy is current.
///
/// `*version_inout` is the version of the caller's copy (0 = no copy). The token is looked up (and
/// refreshed as needed) exactly as by `idaas_client_get_token`. When it still has that version,
/// nothing is copied, `*len_out` is 0 and the result is `IDAAS_CODE_OK`: the caller's copy is
/// current. Otherwise the token and a NUL are copied into `buf` as by `idaas_client_get_token_into`,
/// `*len_out` receives its length and `*version_inout` its version (≥ 1; it changes whenever a new
/// token is cached; versions are per client and scope). When `buf` is NULL or `cap` too small:
/// `IDAAS_CODE_BUFFER_TOO_SMALL`, `*len_out` = bytes needed, `*version_inout` unchanged.
#[no_mangle]
pub unsafe extern "C" fn idaas_client_get_token_versioned(
    client: *const idaas_client,
    scope: *const c_char,
    version_inout: *mut u64,
    buf: *mut c_char,
    cap: usize,
    len_out: *mut usize,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    guard(err_out, || {
        // SAFETY: `client` is NULL or a live client handle (header contract).
        let client = unsafe { handle(client, "client") }?;
        out_arg(len_out, "len_out")?;
        out_arg(version_inout, "version_inout")?;
        // SAFETY: NULL or a NUL-terminated string (header contract).
        let scope = unsafe { opt_str_arg(scope, "scope") }?;
        // SAFETY: checked non-NULL above; readable and writable (header contract).
        let known = unsafe { *version_inout };
        client.inner.with_bearer_token_versioned(scope, |t, v| {
            // SAFETY: `buf` is NULL or writable for `cap` bytes; `len_out` and `version_inout`
            // checked non-NULL.
            unsafe { copy_if_changed(t, v, known, buf, cap, len_out, version_inout) }
        })?
    })
}

/// The credential provider for `scope` (nullable: the configured default scope). It shares the
/// client's cache for that scope and stays valid after `idaas_client_free`. No network I/O here.
/// Errors: `IDAAS_CODE_INVALID_ARGUMENT` for an invalid scope.
#[no_mangle]
pub unsafe extern "C" fn idaas_client_get_provider(
    client: *const idaas_client,
    scope: *const c_char,
    provider_out: *mut *mut idaas_provider,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    guard(err_out, || {
        // SAFETY: `client` is NULL or a live client handle (header contract).
        let client = unsafe { handle(client, "client") }?;
        // SAFETY: NULL or a NUL-terminated string (header contract).
        let scope = unsafe { opt_str_arg(scope, "scope") }?;
        out_arg(provider_out, "provider_out")?;
        let cached = match scope {
            None => client.inner.default_cached_provider()?,
            Some(s) => client.inner.cached_provider_for_scope(s)?,
        };
        let provider = idaas_provider {
            kind: ProviderKind::Cached(cached),
        };
        // SAFETY: `provider_out` checked non-NULL above.
        unsafe { put_handle(provider_out, provider) };
        Ok(())
    })
}

/// A token-exchange provider bound to `scope` (nullable: the configured default scope). Stays valid
/// after `idaas_client_free`. No network I/O here. Errors: `IDAAS_CODE_INVALID_ARGUMENT` for an
/// invalid scope; `IDAAS_CODE_CONFIG` (`UnsupportedAuthenticationMethod`) for a PLUGIN client.
#[no_mangle]
pub unsafe extern "C" fn idaas_client_get_exchange_provider(
    client: *const idaas_client,
    scope: *const c_char,
    provider_out: *mut *mut idaas_exchange_provider,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    guard(err_out, || {
        // SAFETY: `client` is NULL or a live client handle (header contract).
        let client = unsafe { handle(client, "client") }?;
        // SAFETY: NULL or a NUL-terminated string (header contract).
        let scope = unsafe { opt_str_arg(scope, "scope") }?;
        out_arg(provider_out, "provider_out")?;
        let provider = idaas_exchange_provider::new(&client.inner, scope)?;
        // SAFETY: `provider_out` checked non-NULL above.
        unsafe { put_handle(provider_out, provider) };
        Ok(())
    })
}

/// RFC 8693 token exchange (one request, never cached): exchanges `subject_token` of type
/// `subject_token_type` (a URN such as `urn:ietf:params:oauth:token-type:access_token`,
/// `...:jwt`, `...:id_token`) for a token of `requested_token_type` (nullable: the access-token URN)
/// with `scope` (nullable: the configured default scope). `*credential_json_out` receives the
/// credential JSON `{"access_token","token_type","expires_in","expires_at","issued_token_type"}`
/// (see "JSON schemas"; it holds a secret: release with `idaas_string_free`). Wrap it for the PAM
/// client with `idaas_provider_new_from_credential_json`.
///
/// Errors: `IDAAS_CODE_INVALID_ARGUMENT` (blank token or type, invalid scope),
/// `IDAAS_CODE_CONFIG` (PLUGIN clients cannot exchange), and those of `idaas_client_get_token`.
#[no_mangle]
pub unsafe extern "C" fn idaas_client_exchange_token(
    client: *const idaas_client,
    subject_token: *const c_char,
    subject_token_type: *const c_char,
    requested_token_type: *const c_char,
    scope: *const c_char,
    credential_json_out: *mut *mut c_char,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    guard(err_out, || {
        // SAFETY: `client` is NULL or a live client handle (header contract).
        let client = unsafe { handle(client, "client") }?;
        // SAFETY: NULL or NUL-terminated strings (header contract).
        let (subject_token, subject_token_type, requested, scope) = unsafe {
            (
                str_arg(subject_token, "subject_token")?,
                str_arg(subject_token_type, "subject_token_type")?,
                opt_str_arg(requested_token_type, "requested_token_type")?,
                opt_str_arg(scope, "scope")?,
            )
        };
        out_arg(credential_json_out, "credential_json_out")?;
        let ep = idaas_exchange_provider::new(&client.inner, scope)?;
        let credential = ep.exchange(subject_token, subject_token_type, requested)?;
        let p = credential_json(&credential)?;
        // SAFETY: `credential_json_out` checked non-NULL above.
        unsafe { *credential_json_out = p };
        Ok(())
    })
}
