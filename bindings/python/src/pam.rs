//! `idaas.PamClient`: the IDaaS Developer API (API keys, OAuth tokens, JWT authentication tokens).
//! Every operation is the core's `idaas::pam::PamClient` method of the same name, called with the
//! GIL released; results are the dataclasses of `idaas._types`.

use crate::client::result;
use crate::{detached, errors};
use arc_swap::ArcSwapOption;
use idaas::pam::{
    ApiKeyCacheOptions, FetchOAuthOptions, GenerateJwtOptions, ListAuthenticationTokensOptions,
    PollOptions,
};
use idaas::SecretString;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyType};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The Developer API client of one identity; made by `Client.pam()`. Safe to share between
/// threads; a context manager (`close()` on exit).
#[pyclass(module = "idaas", name = "PamClient", frozen, weakref)]
pub(crate) struct PamClient {
    inner: ArcSwapOption<idaas::pam::PamClient>,
}

/// Cancels a running `poll_oauth_authentication_token` from another thread.
#[pyclass(module = "idaas", name = "CancelToken", frozen)]
#[derive(Default)]
pub(crate) struct CancelToken(idaas::pam::CancelToken);

#[pymethods]
impl CancelToken {
    #[new]
    fn new() -> Self {
        CancelToken::default()
    }

    /// Cancel: the poll stops at its next check with `idaas.CancelledError`.
    fn cancel(&self) {
        self.0.cancel();
    }

    /// True once cancelled.
    #[getter]
    fn cancelled(&self) -> bool {
        self.0.is_cancelled()
    }
}

/// `api_key_cache` of `Client.pam()`: None/False, True, or an object with `ttl`, `grace`,
/// `retry_interval` (seconds) and `max_entries`.
pub(crate) fn cache_options(v: Option<Bound<'_, PyAny>>) -> PyResult<Option<ApiKeyCacheOptions>> {
    let Some(v) = v.filter(|v| !v.is_none()) else {
        return Ok(None);
    };
    if v.is_instance_of::<pyo3::types::PyBool>() {
        return Ok(v.is_truthy()?.then(ApiKeyCacheOptions::default));
    }
    let secs = |name: &str| -> PyResult<Duration> {
        let s: f64 = v.getattr(name)?.extract()?;
        Duration::try_from_secs_f64(s).map_err(|_| {
            pyo3::exceptions::PyValueError::new_err(format!(
                "api_key_cache.{name} must be a non-negative number of seconds"
            ))
        })
    };
    Ok(Some(ApiKeyCacheOptions {
        ttl: secs("ttl")?,
        grace: secs("grace")?,
        retry_interval: secs("retry_interval")?,
        max_entries: v.getattr("max_entries")?.extract()?,
    }))
}

/// An ordered `dict[str, str]` as the core's ordered pairs.
fn pairs(d: Option<Bound<'_, PyDict>>) -> PyResult<Option<Vec<(String, String)>>> {
    d.map(|d| {
        d.iter()
            .map(|(k, v)| Ok((k.extract()?, v.extract()?)))
            .collect()
    })
    .transpose()
}

/// An ordered `dict[str, JSON value]` as the core's ordered claims.
fn claims(d: Option<Bound<'_, PyDict>>) -> PyResult<Option<Vec<(String, serde_json::Value)>>> {
    let Some(d) = d else { return Ok(None) };
    let dumps = d.py().import("json")?.getattr("dumps")?;
    d.iter()
        .map(|(k, v)| {
            let key: String = k.extract()?;
            let text: String = dumps.call1((v,))?.extract()?;
            let value = serde_json::from_str(&text).map_err(|_| {
                pyo3::exceptions::PyValueError::new_err(format!(
                    "custom_claims[{key:?}] is not a JSON value"
                ))
            })?;
            Ok((key, value))
        })
        .collect::<PyResult<_>>()
        .map(Some)
}

fn seconds(name: &str, s: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(s).map_err(|_| {
        pyo3::exceptions::PyValueError::new_err(format!(
            "{name} must be a non-negative number of seconds"
        ))
    })
}

impl PamClient {
    pub(crate) fn new(pam: idaas::pam::PamClient) -> Self {
        PamClient {
            inner: ArcSwapOption::from_pointee(pam),
        }
    }

    fn core(&self, py: Python<'_>) -> PyResult<Arc<idaas::pam::PamClient>> {
        self.inner
            .load_full()
            .ok_or_else(|| errors::closed(py, "PAM client"))
    }

    /// A token operation (validate, revoke, reinstate) with the GIL released.
    fn token_op<T: Send>(
        &self,
        py: Python<'_>,
        token: &str,
        hint: Option<&str>,
        op: fn(&idaas::pam::PamClient, &SecretString, Option<&str>) -> idaas::Result<T>,
    ) -> PyResult<T> {
        let pam = self.core(py)?;
        let token = SecretString::new(token);
        detached(py, || op(&pam, &token, hint))
    }

    /// A by-consumer operation (revoke, reinstate) with the GIL released.
    fn consumer_op(
        &self,
        py: Python<'_>,
        consumer_id: &str,
        provider: &str,
        op: fn(&idaas::pam::PamClient, &str, &str) -> idaas::Result<()>,
    ) -> PyResult<()> {
        let pam = self.core(py)?;
        detached(py, || op(&pam, consumer_id, provider))
    }

    /// Run `op` on the core client with the GIL released; its JSON result as `type_name`.
    fn call_json<'py, T, F>(
        &self,
        py: Python<'py>,
        type_name: &str,
        op: F,
    ) -> PyResult<Bound<'py, PyAny>>
    where
        T: serde::Serialize,
        F: FnOnce(&idaas::pam::PamClient) -> idaas::Result<T> + Send,
    {
        let pam = self.core(py)?;
        let json = detached(py, || idaas::json::to_secret_json(&op(&pam)?))?;
        result(py, type_name, &json)
    }
}

#[pymethods]
impl PamClient {
    /// The API key `credential_identifier`, or None when the server has none (GetApiKey). Served
    /// from the opt-in API-key cache when the client has one.
    fn get_api_key(&self, py: Python<'_>, credential_identifier: &str) -> PyResult<Option<String>> {
        let pam = self.core(py)?;
        let key = detached(py, || pam.get_api_key(credential_identifier))?;
        Ok(key.map(|k| k.expose().to_owned()))
    }

    /// Forget the cached API key `credential_identifier` (no-op without a cache).
    fn invalidate_api_key(&self, py: Python<'_>, credential_identifier: &str) -> PyResult<()> {
        let pam = self.core(py)?;
        // Detached: the cache's lock may be held by a fetch that logs (and so needs the GIL).
        py.detach(|| pam.invalidate_api_key(credential_identifier));
        Ok(())
    }

    /// Forget every cached API key (no-op without a cache).
    fn invalidate_all_api_keys(&self, py: Python<'_>) -> PyResult<()> {
        let pam = self.core(py)?;
        py.detach(|| pam.invalidate_all_api_keys());
        Ok(())
    }

    /// Deprecated FetchOAuthAuthenticationToken (v1): the access token, or None when the provider
    /// handed out none. Use `fetch_oauth_authentication_token_v2`.
    #[pyo3(signature = (credential_provider_identifier, scope=None))]
    #[allow(deprecated)] // kept for the reference SDK's callers (and the compat layer)
    fn fetch_oauth_authentication_token(
        &self,
        py: Python<'_>,
        credential_provider_identifier: &str,
        scope: Option<&str>,
    ) -> PyResult<Option<String>> {
        let pam = self.core(py)?;
        let token = detached(py, || {
            pam.fetch_oauth_authentication_token(credential_provider_identifier, scope)
        })?;
        Ok(token.map(|t| t.expose().to_owned()))
    }

    /// FetchOAuthAuthenticationToken: a token (m2m) or an authorization session
    /// (user_federation), as an `idaas.OAuthAuthenticationTokenResponse`.
    #[pyo3(signature = (credential_provider_identifier, authorization_flow, *, scope=None, force_authentication=None, custom_parameters=None))]
    fn fetch_oauth_authentication_token_v2<'py>(
        &self,
        py: Python<'py>,
        credential_provider_identifier: &str,
        authorization_flow: &str,
        scope: Option<String>,
        force_authentication: Option<bool>,
        custom_parameters: Option<Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let options = FetchOAuthOptions {
            scope,
            force_authentication,
            custom_parameters: pairs(custom_parameters)?,
        };
        self.call_json(py, "OAuthAuthenticationTokenResponse", |pam| {
            pam.fetch_oauth_authentication_token_v2(
                credential_provider_identifier,
                authorization_flow,
                &options,
            )
        })
    }

    /// GetOAuthAuthorizationSession: the state of an authorization session.
    fn get_oauth_authorization_session<'py>(
        &self,
        py: Python<'py>,
        session_uri: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.call_json(py, "OAuthAuthorizationSessionResponse", |pam| {
            pam.get_oauth_authorization_session(session_uri)
        })
    }

    /// A user-delegated OAuth token: fetch, and when the user must authorize first, call
    /// `on_authorization_url(url)` once and poll the session (every `interval` seconds, at most
    /// `max_polls` times within `max_duration`) until it completes. Cancel from another thread
    /// with `cancel` (an `idaas.CancelToken`). An exception raised by `on_authorization_url` ends
    /// the poll and is raised as it is.
    #[pyo3(signature = (credential_provider_identifier, on_authorization_url, *, scope=None, force_authentication=None, custom_parameters=None, max_polls=60, interval=3.0, max_duration=180.0, cancel=None))]
    #[allow(clippy::too_many_arguments)]
    fn poll_oauth_authentication_token<'py>(
        &self,
        py: Python<'py>,
        credential_provider_identifier: &str,
        on_authorization_url: Bound<'py, PyAny>,
        scope: Option<String>,
        force_authentication: Option<bool>,
        custom_parameters: Option<Bound<'py, PyDict>>,
        max_polls: u32,
        interval: f64,
        max_duration: f64,
        cancel: Option<Bound<'py, CancelToken>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if !on_authorization_url.is_callable() {
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "on_authorization_url must be callable",
            ));
        }
        let options = PollOptions {
            scope,
            force_authentication,
            custom_parameters: pairs(custom_parameters)?,
            max_polls,
            interval: seconds("interval", interval)?,
            max_duration: seconds("max_duration", max_duration)?,
            cancel: cancel.map(|c| c.get().0.clone()),
            deadline: None,
        };
        let callback = on_authorization_url.unbind();
        // The callback's own exception is what the caller gets back, unchanged (the core sees a
        // `callback_failed` error that ends the poll).
        let raised: Mutex<Option<PyErr>> = Mutex::new(None);
        let r = self.call_json(py, "OAuthAuthenticationTokenResponse", |pam| {
            pam.poll_oauth_authentication_token(
                credential_provider_identifier,
                |url| {
                    Python::attach(|py| {
                        callback.bind(py).call1((url,)).map(drop).map_err(|e| {
                            let core = errors::from_callback(
                                py,
                                e.clone_ref(py),
                                idaas::ErrorKind::Internal,
                                "callback_failed",
                                "on_authorization_url",
                            );
                            *raised.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                            core
                        })
                    })
                },
                &options,
            )
        });
        match raised.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(e) if r.is_err() => Err(e),
            _ => r,
        }
    }

    /// GenerateJwtAuthenticationToken: a JWT for `subject` and `audiences`.
    #[pyo3(signature = (credential_provider_identifier, subject, audiences, *, issuer=None, custom_claims=None, expiration=None, include_derived_short_token=None))]
    #[allow(clippy::too_many_arguments)]
    fn generate_jwt_authentication_token<'py>(
        &self,
        py: Python<'py>,
        credential_provider_identifier: &str,
        subject: &str,
        audiences: Vec<String>,
        issuer: Option<String>,
        custom_claims: Option<Bound<'py, PyDict>>,
        expiration: Option<u64>,
        include_derived_short_token: Option<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let options = GenerateJwtOptions {
            issuer,
            custom_claims: claims(custom_claims)?,
            expiration,
            include_derived_short_token,
        };
        self.call_json(py, "JwtTokenResponse", |pam| {
            pam.generate_jwt_authentication_token(
                credential_provider_identifier,
                subject,
                &audiences,
                &options,
            )
        })
    }

    /// ObtainJwtAuthenticationToken: the JWT `authentication_token_id` of `consumer_id`.
    fn obtain_jwt_authentication_token<'py>(
        &self,
        py: Python<'py>,
        consumer_id: &str,
        authentication_token_id: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.call_json(py, "JwtContent", |pam| {
            pam.obtain_jwt_authentication_token(consumer_id, authentication_token_id)
        })
    }

    /// ObtainJwtAuthenticationTokenByDerivedShortToken: the JWT a derived short token stands for.
    fn obtain_jwt_authentication_token_by_derived_short_token<'py>(
        &self,
        py: Python<'py>,
        derived_short_token: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let token = SecretString::new(derived_short_token);
        self.call_json(py, "JwtContent", |pam| {
            pam.obtain_jwt_authentication_token_by_derived_short_token(&token)
        })
    }

    /// ListAuthenticationTokens: one page (`next_token` is the cursor of the next one).
    #[pyo3(signature = (consumer_id, credential_provider_identifier, *, next_token=None, max_results=None, revoked=None, expired=None))]
    #[allow(clippy::too_many_arguments)]
    fn list_authentication_tokens<'py>(
        &self,
        py: Python<'py>,
        consumer_id: &str,
        credential_provider_identifier: &str,
        next_token: Option<String>,
        max_results: Option<u32>,
        revoked: Option<bool>,
        expired: Option<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let options = ListAuthenticationTokensOptions {
            next_token,
            max_results,
            revoked,
            expired,
        };
        self.call_json(py, "AuthenticationTokenPage", |pam| {
            pam.list_authentication_tokens(consumer_id, credential_provider_identifier, &options)
        })
    }

    /// Every authentication token of `consumer_id`, page after page, as an iterator of
    /// `idaas.AuthenticationToken` (a page is fetched when the previous one is used up).
    #[pyo3(signature = (consumer_id, credential_provider_identifier, *, max_results=None, revoked=None, expired=None))]
    fn list_all_authentication_tokens(
        &self,
        py: Python<'_>,
        consumer_id: &str,
        credential_provider_identifier: &str,
        max_results: Option<u32>,
        revoked: Option<bool>,
        expired: Option<bool>,
    ) -> PyResult<AuthenticationTokenIter> {
        let pam = self.core(py)?;
        let options = ListAuthenticationTokensOptions {
            next_token: None,
            max_results,
            revoked,
            expired,
        };
        Ok(AuthenticationTokenIter(Mutex::new(pam.list_all(
            consumer_id,
            credential_provider_identifier,
            options,
        ))))
    }

    /// ValidateAuthenticationToken: whether `token` is valid.
    #[pyo3(signature = (token, token_type_hint=None))]
    fn validate_authentication_token(
        &self,
        py: Python<'_>,
        token: &str,
        token_type_hint: Option<&str>,
    ) -> PyResult<bool> {
        self.token_op(
            py,
            token,
            token_type_hint,
            idaas::pam::PamClient::validate_authentication_token,
        )
    }

    /// RevokeAuthenticationToken.
    #[pyo3(signature = (token, token_type_hint=None))]
    fn revoke_authentication_token(
        &self,
        py: Python<'_>,
        token: &str,
        token_type_hint: Option<&str>,
    ) -> PyResult<()> {
        self.token_op(
            py,
            token,
            token_type_hint,
            idaas::pam::PamClient::revoke_authentication_token,
        )
    }

    /// RevokeAuthenticationTokenByConsumer: every token of `consumer_id` from the provider.
    fn revoke_authentication_token_by_consumer(
        &self,
        py: Python<'_>,
        consumer_id: &str,
        credential_provider_identifier: &str,
    ) -> PyResult<()> {
        self.consumer_op(
            py,
            consumer_id,
            credential_provider_identifier,
            idaas::pam::PamClient::revoke_authentication_token_by_consumer,
        )
    }

    /// ReinstateAuthenticationToken.
    #[pyo3(signature = (token, token_type_hint=None))]
    fn reinstate_authentication_token(
        &self,
        py: Python<'_>,
        token: &str,
        token_type_hint: Option<&str>,
    ) -> PyResult<()> {
        self.token_op(
            py,
            token,
            token_type_hint,
            idaas::pam::PamClient::reinstate_authentication_token,
        )
    }

    /// ReinstateAuthenticationTokenByConsumer.
    fn reinstate_authentication_token_by_consumer(
        &self,
        py: Python<'_>,
        consumer_id: &str,
        credential_provider_identifier: &str,
    ) -> PyResult<()> {
        self.consumer_op(
            py,
            consumer_id,
            credential_provider_identifier,
            idaas::pam::PamClient::reinstate_authentication_token_by_consumer,
        )
    }

    /// The Developer API origin in use.
    #[getter]
    fn endpoint(&self, py: Python<'_>) -> PyResult<String> {
        Ok(self.core(py)?.endpoint().to_owned())
    }

    /// True once `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.inner.load().is_none()
    }

    /// Drop the client and its API-key cache (idempotent); later calls raise `idaas.ClosedError`.
    fn close(&self) {
        drop(self.inner.swap(None));
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (_exc_type=None, _exc=None, _tb=None))]
    fn __exit__(
        &self,
        _exc_type: Option<Bound<'_, PyType>>,
        _exc: Option<Bound<'_, PyAny>>,
        _tb: Option<Bound<'_, PyAny>>,
    ) -> bool {
        self.close();
        false
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        match self.core(py) {
            Ok(p) => format!("idaas.PamClient(endpoint={:?})", p.endpoint()),
            Err(_) => "idaas.PamClient(closed)".to_owned(),
        }
    }
}

/// The iterator of `PamClient.list_all_authentication_tokens`.
#[pyclass(module = "idaas", name = "AuthenticationTokenIterator", frozen)]
pub(crate) struct AuthenticationTokenIter(Mutex<idaas::pam::AuthenticationTokens>);

#[pymethods]
impl AuthenticationTokenIter {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let item = py.detach(|| {
            let mut it = self.0.lock().unwrap_or_else(|e| e.into_inner());
            it.next()
                .map(|r| r.and_then(|t| idaas::json::to_secret_json(&t)))
        });
        match item {
            None => Ok(None),
            Some(Ok(json)) => result(py, "AuthenticationToken", &json).map(Some),
            Some(Err(e)) => Err(errors::to_py(py, &e)),
        }
    }
}
