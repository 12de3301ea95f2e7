//! `idaas_pam`: the PAM client for the IDaaS Developer API (all 14 operations of pam.md).
//!
//! Structured results cross as owned JSON strings with the wire (camelCase) field names of the
//! Developer API (the `Serialize` of `idaas_core::pam` result types); optional arguments as
//! `options_json`.

use std::ffi::{c_char, c_void};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use zeroize::Zeroize;

use idaas_core::pam::{
    ApiKeyCacheOptions, FetchOAuthOptions, GenerateJwtOptions, ListAuthenticationTokensOptions,
    PamClient, PollOptions,
};
use idaas_core::SecretString;

use super::client::idaas_client;
use super::error::lossy_cstring;
use super::provider::idaas_provider;
use super::{
    alloc_string, free_guarded, guard, handle, idaas_cancel, idaas_code, idaas_error, opt_str_arg,
    options_arg, out_arg, put_handle, put_opt_string, str_arg, FfiError, Handle, OwnedByCaller,
    UserData,
};

/// The PAM client (IDaaS Developer API: API keys, OAuth tokens held by IDaaS, JWT authentication
/// tokens). Made from a client (`idaas_pam_new`: bearer tokens for scope
/// `urn:cloud:idaas:pam|.all`) or from a client plus an explicit provider
/// (`idaas_pam_new_with_provider`, e.g. a token-exchange result for the user-bound 3LO
/// operations). It shares the client's connection pool, timeouts and CA settings but not its
/// lifetime. Thread-safe; free with `idaas_pam_free`.
pub struct idaas_pam {
    inner: PamClient,
}

impl Handle for idaas_pam {
    type Ownership = OwnedByCaller;
}

/// `apiKeyCache` of the PAM `options_json`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ApiKeyCacheIn {
    ttl_secs: Option<u64>,
    grace_secs: Option<u64>,
    retry_interval_secs: Option<u64>,
    max_entries: Option<usize>,
}

/// `options_json` of the PAM client constructors.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PamOptions {
    api_key_cache: Option<ApiKeyCacheIn>,
}

fn build_pam(
    client: &idaas_client,
    provider: idaas_core::SharedProvider,
    options: PamOptions,
) -> Result<idaas_pam, FfiError> {
    let mut b = PamClient::builder_from_client(&client.inner, provider);
    if let Some(c) = options.api_key_cache {
        let d = ApiKeyCacheOptions::default();
        // The core checks the values (PamClientBuilder::build).
        b = b.api_key_cache(ApiKeyCacheOptions {
            ttl: c.ttl_secs.map_or(d.ttl, Duration::from_secs),
            grace: c.grace_secs.map_or(d.grace, Duration::from_secs),
            retry_interval: c
                .retry_interval_secs
                .map_or(d.retry_interval, Duration::from_secs),
            max_entries: c.max_entries.unwrap_or(d.max_entries),
        });
    }
    Ok(idaas_pam { inner: b.build()? })
}

/// Creates a PAM client from `client`: Developer API endpoint and instance id from its configuration
/// (`developerApiEndpoint`, `idaasInstanceId`), bearer tokens from its provider for scope
/// `urn:cloud:idaas:pam|.all`. No network I/O.
///
/// `options_json` (nullable) — `{"apiKeyCache": {"ttlSecs": int, "graceSecs": int,
/// "retryIntervalSecs": int, "maxEntries": int}}`: when `apiKeyCache` is present (`{}` = defaults:
/// ttl 3600 s, grace 900 s, retry interval 5 s, 1024 entries), `idaas_pam_get_api_key` serves keys
/// from memory for `ttlSecs` (single flight per identifier; a key younger than ttl + grace is served
/// while refreshes fail with a retryable error). Absent: no cache, every call asks the server.
///
/// Errors: `IDAAS_CODE_CONFIG` (no `developerApiEndpoint`, or one with a path),
/// `IDAAS_CODE_INVALID_ARGUMENT` (bad options).
#[no_mangle]
pub unsafe extern "C" fn idaas_pam_new(
    client: *const idaas_client,
    options_json: *const c_char,
    pam_out: *mut *mut idaas_pam,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    guard(err_out, || {
        // SAFETY: `client` is NULL or a live client handle (header contract).
        let client = unsafe { handle(client, "client") }?;
        // SAFETY: NULL or a NUL-terminated string (header contract).
        let options = unsafe { options_arg::<PamOptions>(options_json, "options_json") }?;
        out_arg(pam_out, "pam_out")?;
        let provider = client.inner.provider_for_scope(idaas_core::pam::SCOPE)?;
        let pam = build_pam(client, provider, options)?;
        // SAFETY: `pam_out` checked non-NULL above.
        unsafe { put_handle(pam_out, pam) };
        Ok(())
    })
}

/// Like `idaas_pam_new`, with bearer tokens from `provider` instead (e.g.
/// `idaas_provider_new_from_credential_json` over a token-exchange result: the user-bound token the
/// 3LO operations need). The provider is shared, not borrowed: it may be freed afterwards.
#[no_mangle]
pub unsafe extern "C" fn idaas_pam_new_with_provider(
    client: *const idaas_client,
    provider: *const idaas_provider,
    options_json: *const c_char,
    pam_out: *mut *mut idaas_pam,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    guard(err_out, || {
        // SAFETY: NULL or live handles (header contract).
        let client = unsafe { handle(client, "client") }?;
        // SAFETY: as above.
        let provider = unsafe { handle(provider, "provider") }?;
        // SAFETY: NULL or a NUL-terminated string (header contract).
        let options = unsafe { options_arg::<PamOptions>(options_json, "options_json") }?;
        out_arg(pam_out, "pam_out")?;
        let pam = build_pam(client, provider.shared(), options)?;
        // SAFETY: `pam_out` checked non-NULL above.
        unsafe { put_handle(pam_out, pam) };
        Ok(())
    })
}

/// Frees a PAM client. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn idaas_pam_free(pam: *mut idaas_pam) {
    free_guarded(pam);
}

/// Serializes `value` to a `malloc`ed JSON string; the intermediate Rust string (results often hold
/// secrets) is zeroed.
fn json_string<T: Serialize>(value: &T) -> Result<*mut c_char, FfiError> {
    let mut text = serde_json::to_string(value)
        .map_err(|e| FfiError::new(idaas_code::Internal, format!("cannot encode result: {e}")))?;
    let p = alloc_string(&text);
    text.zeroize();
    p
}

/// Stores the JSON of `value` in `*out`.
///
/// # Safety
/// `out` non-NULL and writable (checked with `out_arg`).
unsafe fn put_json<T: Serialize>(out: *mut *mut c_char, value: &T) -> Result<(), FfiError> {
    let p = json_string(value)?;
    // SAFETY: guaranteed by the caller.
    unsafe { *out = p };
    Ok(())
}

/// `{"k": "v", ...}` → ordered string pairs (values must be strings).
fn string_pairs(m: Map<String, Value>, what: &str) -> Result<Vec<(String, String)>, FfiError> {
    m.into_iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k, s)),
            _ => Err(FfiError::invalid(format!(
                "options_json: {what}.{k} must be a string"
            ))),
        })
        .collect()
}

/// API key of the credential `credential_identifier` (`ObtainCredential`). `*api_key_out` receives
/// the key (release with `idaas_string_free`), or NULL — with `IDAAS_CODE_OK` — when the credential
/// has no API key (e.g. an OAuth-client credential). Served from the API-key cache when enabled.
/// Errors: `IDAAS_CODE_INVALID_ARGUMENT` (blank identifier), `IDAAS_CODE_AUTH` (401/403),
/// `IDAAS_CODE_CLIENT_ERROR` (404 unknown credential ...), `IDAAS_CODE_SERVER_ERROR`,
/// `IDAAS_CODE_UNEXPECTED_RESPONSE`, `IDAAS_CODE_TRANSPORT`, `IDAAS_CODE_TIMEOUT`, and the token
/// errors of the client.
#[no_mangle]
pub unsafe extern "C" fn idaas_pam_get_api_key(
    pam: *const idaas_pam,
    credential_identifier: *const c_char,
    api_key_out: *mut *mut c_char,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    guard(err_out, || {
        // SAFETY: `pam` is NULL or a live handle (header contract).
        let pam = unsafe { handle(pam, "pam") }?;
        // SAFETY: NULL or a NUL-terminated string (header contract).
        let id = unsafe { str_arg(credential_identifier, "credential_identifier") }?;
        out_arg(api_key_out, "api_key_out")?;
        let key = pam.inner.get_api_key(id)?;
        // SAFETY: `api_key_out` checked non-NULL above.
        unsafe { put_opt_string(api_key_out, key.as_ref().map(SecretString::expose)) }
    })
}

/// Drops the cached API key of `credential_identifier` (nullable: every cached key), so the next
/// `idaas_pam_get_api_key` asks the server. A no-op without an API-key cache.
#[no_mangle]
pub unsafe extern "C" fn idaas_pam_invalidate_api_key(
    pam: *const idaas_pam,
    credential_identifier: *const c_char,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    guard(err_out, || {
        // SAFETY: `pam` is NULL or a live handle (header contract).
        let pam = unsafe { handle(pam, "pam") }?;
        // SAFETY: NULL or a NUL-terminated string (header contract).
        match unsafe { opt_str_arg(credential_identifier, "credential_identifier") }? {
            Some(id) => pam.inner.invalidate_api_key(id),
            None => pam.inner.invalidate_all_api_keys(),
        }
        Ok(())
    })
}

/// Deprecated (`fetch_oauth_authentication_token` v1; use `idaas_pam_fetch_oauth_token_v2`):
/// the OAuth access token of the credential provider `credential_provider_identifier` with `scope`
/// (nullable: the provider's configured scopes; space-separated, at most 256 characters).
/// `*access_token_out` receives the token, or NULL with `IDAAS_CODE_OK` when the reply carries none
/// (e.g. user authorization is needed). Errors as for `idaas_pam_get_api_key`.
#[no_mangle]
pub unsafe extern "C" fn idaas_pam_fetch_oauth_token(
    pam: *const idaas_pam,
    credential_provider_identifier: *const c_char,
    scope: *const c_char,
    access_token_out: *mut *mut c_char,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    guard(err_out, || {
        // SAFETY: `pam` is NULL or a live handle (header contract).
        let pam = unsafe { handle(pam, "pam") }?;
        // SAFETY: NULL or NUL-terminated strings (header contract).
        let (id, scope) = unsafe {
            (
                str_arg(
                    credential_provider_identifier,
                    "credential_provider_identifier",
                )?,
                opt_str_arg(scope, "scope")?,
            )
        };
        out_arg(access_token_out, "access_token_out")?;
        #[allow(deprecated)]
        let token = pam.inner.fetch_oauth_authentication_token(id, scope)?;
        // SAFETY: `access_token_out` checked non-NULL above.
        unsafe { put_opt_string(access_token_out, token.as_ref().map(SecretString::expose)) }
    })
}

/// `options_json` of `idaas_pam_fetch_oauth_token_v2`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct FetchOptionsIn {
    scope: Option<String>,
    force_authentication: Option<bool>,
    custom_parameters: Option<Map<String, Value>>,
}

/// `FetchOAuthAuthenticationToken` (2LO and 3LO): `authorization_flow` must be `"m2m"` or
/// `"user_federation"` (checked locally, never sent; with `"m2m"`, a reply that asks for user
/// authorization is the `authorization_flow_mismatch` error, `IDAAS_CODE_CLIENT_ERROR`).
///
/// `options_json` (nullable) — `{"scope": string, "forceAuthentication": bool,
/// "customParameters": {string: string}}`: OAuth scopes (space-separated, at most 256 characters),
/// ignore an existing valid token, extra parameters for the provider's authorization URL.
///
/// `*result_json_out` receives an `OAuthAuthenticationTokenResponse` (see "JSON schemas"): either
/// `oauthAccessTokenContent` (the token) or `oauthAuthorizationSession` (show `authorizationUrl` to
/// the user, then `idaas_pam_get_oauth_session` / `idaas_pam_poll_oauth_token`). It may hold a
/// secret: release with `idaas_string_free`. Errors: `IDAAS_CODE_INVALID_ARGUMENT`
/// (`invalid_authorization_flow`, blank identifier, bad options), and as for `idaas_pam_get_api_key`.
#[no_mangle]
pub unsafe extern "C" fn idaas_pam_fetch_oauth_token_v2(
    pam: *const idaas_pam,
    credential_provider_identifier: *const c_char,
    authorization_flow: *const c_char,
    options_json: *const c_char,
    result_json_out: *mut *mut c_char,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    guard(err_out, || {
        // SAFETY: `pam` is NULL or a live handle (header contract).
        let pam = unsafe { handle(pam, "pam") }?;
        // SAFETY: NULL or NUL-terminated strings (header contract).
        let (id, flow, o) = unsafe {
            (
                str_arg(
                    credential_provider_identifier,
                    "credential_provider_identifier",
                )?,
                str_arg(authorization_flow, "authorization_flow")?,
                options_arg::<FetchOptionsIn>(options_json, "options_json")?,
            )
        };
        out_arg(result_json_out, "result_json_out")?;
        let options = FetchOAuthOptions {
            scope: o.scope,
            force_authentication: o.force_authentication,
            custom_parameters: o
                .custom_parameters
                .map(|m| string_pairs(m, "customParameters"))
                .transpose()?,
        };
        let r = pam
            .inner
            .fetch_oauth_authentication_token_v2(id, flow, &options)?;
        // SAFETY: `result_json_out` checked non-NULL above.
        unsafe { put_json(result_json_out, &r) }
    })
}

/// `GetOAuthAuthorizationSession`: the state of the 3LO session `session_uri`
/// (`urn:ietf:params:oauth:request_uri:...`, from `oauthAuthorizationSession.sessionUri`).
/// `*result_json_out` receives an `OAuthAuthorizationSessionResponse` (see "JSON schemas";
/// `sessionStatus` is `pending`, `callback_received`, `completed`, `failed` or `expired`). Errors as
/// for `idaas_pam_get_api_key` (an unknown session is `IDAAS_CODE_CLIENT_ERROR`, HTTP 404).
#[no_mangle]
pub unsafe extern "C" fn idaas_pam_get_oauth_session(
    pam: *const idaas_pam,
    session_uri: *const c_char,
    result_json_out: *mut *mut c_char,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    guard(err_out, || {
        // SAFETY: `pam` is NULL or a live handle (header contract).
        let pam = unsafe { handle(pam, "pam") }?;
        // SAFETY: NULL or a NUL-terminated string (header contract).
        let uri = unsafe { str_arg(session_uri, "session_uri") }?;
        out_arg(result_json_out, "result_json_out")?;
        let r = pam.inner.get_oauth_authorization_session(uri)?;
        // SAFETY: `result_json_out` checked non-NULL above.
        unsafe { put_json(result_json_out, &r) }
    })
}

/// The authorization-URL callback of `idaas_pam_poll_oauth_token`: show `url` to the user (open a
/// browser, print it ...). `url` is borrowed for the call. Called at most once, on the thread that
/// called `idaas_pam_poll_oauth_token`, before polling starts. Return 0 to continue polling; any other
/// value aborts the poll with `IDAAS_CODE_CANCELLED`. It must not unwind.
pub type idaas_url_callback =
    Option<unsafe extern "C" fn(url: *const c_char, user_data: *mut c_void) -> i32>;

/// `options_json` of `idaas_pam_poll_oauth_token`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PollOptionsIn {
    scope: Option<String>,
    force_authentication: Option<bool>,
    custom_parameters: Option<Map<String, Value>>,
    max_polling_retries: Option<u32>,
    interval_ms: Option<u64>,
    timeout_ms: Option<u64>,
}

/// Fetches a user-delegated OAuth token, walking the user through authorization if needed (the
/// reference `poll_oauth_authentication_token`): fetch (`user_federation`); a reply with a token is
/// returned at once (the callback is not called); otherwise `on_url(authorizationUrl, user_data)` is
/// called once, then the session is polled every `intervalMs` until `completed` (then a final fetch
/// returns the token), `failed` / `expired` (`IDAAS_CODE_AUTH`, server code = the session's
/// `errorCode` or `authorization_failed` / `authorization_session_expired`), out of polls or time
/// (`IDAAS_CODE_TIMEOUT`, `polling_timeout`), or `cancel` (nullable) is cancelled
/// (`IDAAS_CODE_CANCELLED`, promptly: a sleeping poll wakes at once). BLOCKS the calling thread up to
/// 180 s: run it off event loops (N-API async work, a goroutine).
///
/// `options_json` (nullable) — `{"scope": string, "forceAuthentication": bool, "customParameters":
/// {string: string}, "maxPollingRetries": int (default 60), "intervalMs": int (default 3000),
/// "timeoutMs": int (overall deadline of the polling phase; the hard limit stays 180000)}`.
///
/// `*result_json_out` receives the final `OAuthAuthenticationTokenResponse` (with
/// `oauthAccessTokenContent`; holds a secret: release with `idaas_string_free`).
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn idaas_pam_poll_oauth_token(
    pam: *const idaas_pam,
    credential_provider_identifier: *const c_char,
    options_json: *const c_char,
    on_url: idaas_url_callback,
    user_data: *mut c_void,
    cancel: *const idaas_cancel,
    result_json_out: *mut *mut c_char,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    guard(err_out, || {
        // SAFETY: `pam` is NULL or a live handle (header contract).
        let pam = unsafe { handle(pam, "pam") }?;
        // SAFETY: NULL or NUL-terminated strings (header contract).
        let (id, o) = unsafe {
            (
                str_arg(
                    credential_provider_identifier,
                    "credential_provider_identifier",
                )?,
                options_arg::<PollOptionsIn>(options_json, "options_json")?,
            )
        };
        let on_url = on_url.ok_or_else(|| FfiError::null("on_url"))?;
        // SAFETY: `cancel` is NULL or a live cancel handle (header contract).
        let cancel = unsafe { cancel.as_ref() }.map(|c| c.token.clone());
        out_arg(result_json_out, "result_json_out")?;
        let d = PollOptions::default();
        if o.max_polling_retries == Some(0) || o.interval_ms == Some(0) {
            return Err(FfiError::invalid(
                "options_json: maxPollingRetries and intervalMs must be > 0",
            ));
        }
        let options = PollOptions {
            scope: o.scope,
            force_authentication: o.force_authentication,
            custom_parameters: o
                .custom_parameters
                .map(|m| string_pairs(m, "customParameters"))
                .transpose()?,
            max_polls: o.max_polling_retries.unwrap_or(d.max_polls),
            interval: o.interval_ms.map_or(d.interval, Duration::from_millis),
            max_duration: d.max_duration,
            cancel,
            deadline: o
                .timeout_ms
                .map(|ms| Instant::now() + Duration::from_millis(ms)),
        };
        let user_data = UserData(user_data);
        let r = pam.inner.poll_oauth_authentication_token(
            id,
            |url| {
                let url_c = lossy_cstring(url.to_owned());
                // SAFETY: `on_url` and `user_data` come from the caller for this call; `url_c`
                // outlives the call.
                let rc = unsafe { on_url(url_c.as_ptr(), user_data.0) };
                if rc == 0 {
                    Ok(())
                } else {
                    Err(idaas_core::Error::new(
                        idaas_core::ErrorKind::Cancelled,
                        "polling_cancelled",
                        format!("the on_url callback returned {rc}: polling aborted"),
                    ))
                }
            },
            &options,
        )?;
        // SAFETY: `result_json_out` checked non-NULL above.
        unsafe { put_json(result_json_out, &r) }
    })
}

/// `options_json` of `idaas_pam_generate_jwt`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct GenerateJwtIn {
    issuer: Option<String>,
    custom_claims: Option<Map<String, Value>>,
    expiration: Option<u64>,
    include_derived_short_token: Option<bool>,
}

/// `GenerateJwtAuthenticationToken`: a JWT from the JWT credential provider
/// `credential_provider_identifier` for `subject` and `audiences_json` (a JSON array of strings,
/// e.g. `["https://api.partner.example"]`; none may start with `urn:cloud:idaas`).
///
/// `options_json` (nullable) — `{"issuer": string, "customClaims": {string: any JSON},
/// "expiration": int (lifetime in seconds, > 0), "includeDerivedShortToken": bool}`.
///
/// `*result_json_out` receives a `JwtTokenResponse` (see "JSON schemas"; `jwtContent.jwtValue` and
/// `jwtContent.derivedShortToken` are secrets: release with `idaas_string_free`). Errors as for
/// `idaas_pam_get_api_key`.
#[no_mangle]
pub unsafe extern "C" fn idaas_pam_generate_jwt(
    pam: *const idaas_pam,
    credential_provider_identifier: *const c_char,
    subject: *const c_char,
    audiences_json: *const c_char,
    options_json: *const c_char,
    result_json_out: *mut *mut c_char,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    guard(err_out, || {
        // SAFETY: `pam` is NULL or a live handle (header contract).
        let pam = unsafe { handle(pam, "pam") }?;
        // SAFETY: NULL or NUL-terminated strings (header contract).
        let (id, subject, audiences, o) = unsafe {
            (
                str_arg(
                    credential_provider_identifier,
                    "credential_provider_identifier",
                )?,
                str_arg(subject, "subject")?,
                str_arg(audiences_json, "audiences_json")?,
                options_arg::<GenerateJwtIn>(options_json, "options_json")?,
            )
        };
        out_arg(result_json_out, "result_json_out")?;
        let audiences: Vec<String> = serde_json::from_str(audiences_json_text(audiences)?)
            .map_err(|e| {
                FfiError::invalid(format!(
                    "audiences_json must be a JSON array of strings: {e}"
                ))
            })?;
        let options = GenerateJwtOptions {
            issuer: o.issuer,
            custom_claims: o.custom_claims.map(|m| m.into_iter().collect()),
            expiration: o.expiration,
            include_derived_short_token: o.include_derived_short_token,
        };
        let r = pam
            .inner
            .generate_jwt_authentication_token(id, subject, &audiences, &options)?;
        // SAFETY: `result_json_out` checked non-NULL above.
        unsafe { put_json(result_json_out, &r) }
    })
}

fn audiences_json_text(s: &str) -> Result<&str, FfiError> {
    if s.trim().is_empty() {
        return Err(FfiError::invalid(
            "audiences_json must be a JSON array of strings",
        ));
    }
    Ok(s)
}

/// `ObtainJwtAuthenticationToken`: the JWT of an existing authentication token
/// (`authentication_token_id`, `atntkn_...`) of `consumer_id`. `*result_json_out` receives a
/// `JwtContent` (`{"jwtValue", "derivedShortToken"?}`; secrets: release with `idaas_string_free`).
/// Errors as for `idaas_pam_get_api_key`.
#[no_mangle]
pub unsafe extern "C" fn idaas_pam_obtain_jwt(
    pam: *const idaas_pam,
    consumer_id: *const c_char,
    authentication_token_id: *const c_char,
    result_json_out: *mut *mut c_char,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    guard(err_out, || {
        // SAFETY: `pam` is NULL or a live handle (header contract).
        let pam = unsafe { handle(pam, "pam") }?;
        // SAFETY: NULL or NUL-terminated strings (header contract).
        let (consumer, token_id) = unsafe {
            (
                str_arg(consumer_id, "consumer_id")?,
                str_arg(authentication_token_id, "authentication_token_id")?,
            )
        };
        out_arg(result_json_out, "result_json_out")?;
        let r = pam
            .inner
            .obtain_jwt_authentication_token(consumer, token_id)?;
        // SAFETY: `result_json_out` checked non-NULL above.
        unsafe { put_json(result_json_out, &r) }
    })
}

/// `ObtainJwtAuthenticationTokenByDerivedShortToken`: the JWT behind a derived short token (sent
/// without `Authorization`: the short token is the credential). `*result_json_out` receives a
/// `JwtContent` (secrets: release with `idaas_string_free`). Errors as for `idaas_pam_get_api_key`.
#[no_mangle]
pub unsafe extern "C" fn idaas_pam_obtain_jwt_by_short_token(
    pam: *const idaas_pam,
    derived_short_token: *const c_char,
    result_json_out: *mut *mut c_char,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    guard(err_out, || {
        // SAFETY: `pam` is NULL or a live handle (header contract).
        let pam = unsafe { handle(pam, "pam") }?;
        // SAFETY: NULL or a NUL-terminated string (header contract).
        let short = unsafe { str_arg(derived_short_token, "derived_short_token") }?;
        out_arg(result_json_out, "result_json_out")?;
        let r = pam
            .inner
            .obtain_jwt_authentication_token_by_derived_short_token(&SecretString::from(short))?;
        // SAFETY: `result_json_out` checked non-NULL above.
        unsafe { put_json(result_json_out, &r) }
    })
}

/// `options_json` of `idaas_pam_list_tokens`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ListIn {
    next_token: Option<String>,
    max_results: Option<u32>,
    revoked: Option<bool>,
    expired: Option<bool>,
}

/// `ListAuthenticationTokens`: ONE page of the authentication tokens of `consumer_id` under the
/// credential provider `credential_provider_identifier` (no token material is returned).
///
/// `options_json` (nullable) — `{"nextToken": string, "maxResults": int (> 0), "revoked": bool,
/// "expired": bool}`.
///
/// `*page_json_out` receives an `AuthenticationTokenPage` (see "JSON schemas"). To iterate, call
/// again with `{"nextToken": <page.nextToken>}` (plus the same filters) until `nextToken` is null or
/// `""` (the last page). Errors as for `idaas_pam_get_api_key`.
#[no_mangle]
pub unsafe extern "C" fn idaas_pam_list_tokens(
    pam: *const idaas_pam,
    consumer_id: *const c_char,
    credential_provider_identifier: *const c_char,
    options_json: *const c_char,
    page_json_out: *mut *mut c_char,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    guard(err_out, || {
        // SAFETY: `pam` is NULL or a live handle (header contract).
        let pam = unsafe { handle(pam, "pam") }?;
        // SAFETY: NULL or NUL-terminated strings (header contract).
        let (consumer, id, o) = unsafe {
            (
                str_arg(consumer_id, "consumer_id")?,
                str_arg(
                    credential_provider_identifier,
                    "credential_provider_identifier",
                )?,
                options_arg::<ListIn>(options_json, "options_json")?,
            )
        };
        out_arg(page_json_out, "page_json_out")?;
        let options = ListAuthenticationTokensOptions {
            next_token: o.next_token,
            max_results: o.max_results,
            revoked: o.revoked,
            expired: o.expired,
        };
        let page = pam
            .inner
            .list_authentication_tokens(consumer, id, &options)?;
        // SAFETY: `page_json_out` checked non-NULL above.
        unsafe { put_json(page_json_out, &page) }
    })
}

/// `ValidateAuthenticationToken` (sent without `Authorization`): `*active_out` is true when `token`
/// (a JWT or derived short token) is active, false when unknown, revoked or expired.
/// `token_type_hint` is nullable. Errors as for `idaas_pam_get_api_key`.
#[no_mangle]
pub unsafe extern "C" fn idaas_pam_validate_token(
    pam: *const idaas_pam,
    token: *const c_char,
    token_type_hint: *const c_char,
    active_out: *mut bool,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    guard(err_out, || {
        // SAFETY: `pam` is NULL or a live handle (header contract).
        let pam = unsafe { handle(pam, "pam") }?;
        // SAFETY: NULL or NUL-terminated strings (header contract).
        let (token, hint) = unsafe {
            (
                str_arg(token, "token")?,
                opt_str_arg(token_type_hint, "token_type_hint")?,
            )
        };
        out_arg(active_out, "active_out")?;
        let active = pam
            .inner
            .validate_authentication_token(&SecretString::from(token), hint)?;
        // SAFETY: `active_out` checked non-NULL above.
        unsafe { *active_out = active };
        Ok(())
    })
}

/// `RevokeAuthenticationToken`: revokes `token` (a JWT or derived short token; `token_type_hint`
/// nullable). Sent once (not retried). Errors as for `idaas_pam_get_api_key`.
#[no_mangle]
pub unsafe extern "C" fn idaas_pam_revoke_token(
    pam: *const idaas_pam,
    token: *const c_char,
    token_type_hint: *const c_char,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    // SAFETY: forwarded as received (header contract of this function).
    unsafe {
        token_op(
            pam,
            token,
            token_type_hint,
            err_out,
            PamClient::revoke_authentication_token,
        )
    }
}

/// `RevokeAuthenticationTokenByConsumer`: revokes every token of `consumer_id` under the credential
/// provider `credential_provider_identifier`. Errors as for `idaas_pam_get_api_key`.
#[no_mangle]
pub unsafe extern "C" fn idaas_pam_revoke_tokens_by_consumer(
    pam: *const idaas_pam,
    consumer_id: *const c_char,
    credential_provider_identifier: *const c_char,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    // SAFETY: forwarded as received (header contract of this function).
    unsafe {
        consumer_op(
            pam,
            consumer_id,
            credential_provider_identifier,
            err_out,
            PamClient::revoke_authentication_token_by_consumer,
        )
    }
}

/// `ReinstateAuthenticationToken`: undoes a revoke of `token` (`token_type_hint` nullable). Errors
/// as for `idaas_pam_get_api_key`.
#[no_mangle]
pub unsafe extern "C" fn idaas_pam_reinstate_token(
    pam: *const idaas_pam,
    token: *const c_char,
    token_type_hint: *const c_char,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    // SAFETY: forwarded as received (header contract of this function).
    unsafe {
        token_op(
            pam,
            token,
            token_type_hint,
            err_out,
            PamClient::reinstate_authentication_token,
        )
    }
}

/// `ReinstateAuthenticationTokenByConsumer`: undoes `idaas_pam_revoke_tokens_by_consumer` for
/// `consumer_id` and `credential_provider_identifier`. Errors as for `idaas_pam_get_api_key`.
#[no_mangle]
pub unsafe extern "C" fn idaas_pam_reinstate_tokens_by_consumer(
    pam: *const idaas_pam,
    consumer_id: *const c_char,
    credential_provider_identifier: *const c_char,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    // SAFETY: forwarded as received (header contract of this function).
    unsafe {
        consumer_op(
            pam,
            consumer_id,
            credential_provider_identifier,
            err_out,
            PamClient::reinstate_authentication_token_by_consumer,
        )
    }
}

/// The body of the revoke/reinstate entry points that take one token.
///
/// # Safety
/// As for `idaas_pam_revoke_token`: `pam` NULL or live, `token` and `token_type_hint` NULL or
/// NUL-terminated, `err_out` NULL or writable.
unsafe fn token_op(
    pam: *const idaas_pam,
    token: *const c_char,
    token_type_hint: *const c_char,
    err_out: *mut *mut idaas_error,
    op: fn(&PamClient, &SecretString, Option<&str>) -> idaas_core::Result<()>,
) -> idaas_code {
    guard(err_out, || {
        // SAFETY: `pam` is NULL or a live handle (the caller's contract).
        let pam = unsafe { handle(pam, "pam") }?;
        // SAFETY: NULL or NUL-terminated strings (the caller's contract).
        let (token, hint) = unsafe {
            (
                str_arg(token, "token")?,
                opt_str_arg(token_type_hint, "token_type_hint")?,
            )
        };
        op(&pam.inner, &SecretString::from(token), hint)?;
        Ok(())
    })
}

/// The body of the revoke/reinstate entry points that take a consumer and a credential provider.
///
/// # Safety
/// As for `idaas_pam_revoke_tokens_by_consumer`: `pam` NULL or live, both strings NULL or
/// NUL-terminated, `err_out` NULL or writable.
unsafe fn consumer_op(
    pam: *const idaas_pam,
    consumer_id: *const c_char,
    credential_provider_identifier: *const c_char,
    err_out: *mut *mut idaas_error,
    op: fn(&PamClient, &str, &str) -> idaas_core::Result<()>,
) -> idaas_code {
    guard(err_out, || {
        // SAFETY: `pam` is NULL or a live handle (the caller's contract).
        let pam = unsafe { handle(pam, "pam") }?;
        // SAFETY: NULL or NUL-terminated strings (the caller's contract).
        let (consumer, id) = unsafe {
            (
                str_arg(consumer_id, "consumer_id")?,
                str_arg(
                    credential_provider_identifier,
                    "credential_provider_identifier",
                )?,
            )
        };
        op(&pam.inner, consumer, id)?;
        Ok(())
    })
}
