//! `idaas.Client`: one configured machine identity with its token caches.

use crate::{
    detached, errors,
    logging::PyLogSink,
    pam::PamClient,
    plugin::{PyPlugin, PyProvider},
};
use arc_swap::ArcSwapOption;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyModule, PyString, PyType};
use std::path::PathBuf;
use std::sync::Arc;

/// A machine identity of an IDaaS instance: bearer tokens (cached per scope, refreshed ahead of
/// expiry), RFC 8693 token exchange and the Developer API client (`pam()`).
///
/// `Client()` reads the configuration file of the reference SDKs from the default lookup
/// (`CLOUD_IDAAS_CONFIG_PATH`, else `~/.cloud_idaas/client-config.json`); `Client(path)`,
/// `Client.from_file`, `Client.from_dict` and `Client.from_json` take it explicitly. No network
/// I/O happens before the first token is asked for.
///
/// One client is safe to share between threads. Network calls release the GIL; a cached token is
/// read without releasing it. `close()` (or leaving a `with` block) drops the caches; later calls
/// raise `idaas.ClosedError`.
#[pyclass(module = "idaas", name = "Client", frozen, weakref)]
pub(crate) struct Client {
    inner: ArcSwapOption<idaas::Client>,
    label: String,
}

/// Construction options shared by every constructor.
struct Options<'py> {
    plugins: Option<Bound<'py, PyAny>>,
    logger: Option<Bound<'py, PyAny>>,
    prefetch: Option<bool>,
}

static DEFAULT_LOGGER: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static TYPES: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// `idaas._types.<type_name>._from_json(json)`: a result dataclass from the core's contract JSON.
pub(crate) fn result<'py>(
    py: Python<'py>,
    type_name: &str,
    json: &idaas::SecretString,
) -> PyResult<Bound<'py, PyAny>> {
    let types = TYPES.get_or_try_init(py, || py.import("idaas._types").map(Bound::unbind))?;
    types
        .bind(py)
        .getattr(type_name)?
        .call_method1("_from_json", (json.expose(),))
}

/// [`Options`] checked and converted, before any configuration is read: a wrong argument is a
/// `TypeError` at once, whatever the configuration.
struct Prepared {
    sink: Option<Arc<dyn idaas::LogSink>>,
    plugins: Vec<(String, Arc<PyPlugin>)>,
    prefetch: Option<bool>,
}

impl Options<'_> {
    fn prepare(self, py: Python<'_>) -> PyResult<Prepared> {
        let sink: Option<Arc<dyn idaas::LogSink>> = match self.logger {
            Some(l) if l.is_instance_of::<pyo3::types::PyBool>() => {
                if l.is_truthy()? {
                    return Err(pyo3::exceptions::PyTypeError::new_err(
                        "logger must be a logging.Logger, None (the \"idaas\" logger) or False (none)",
                    ));
                }
                None
            }
            Some(l) if !l.is_none() => {
                if !l.hasattr("log")? || !l.hasattr("isEnabledFor")? {
                    return Err(pyo3::exceptions::PyTypeError::new_err(
                        "logger must be a logging.Logger, None (the \"idaas\" logger) or False (none)",
                    ));
                }
                Some(Arc::new(PyLogSink::new(l.unbind())))
            }
            _ => {
                let l = DEFAULT_LOGGER.get_or_try_init(py, || {
                    py.import("logging")?
                        .call_method1("getLogger", ("idaas",))
                        .map(Bound::unbind)
                })?;
                Some(Arc::new(PyLogSink::new(l.clone_ref(py))))
            }
        };
        let mut plugins = Vec::new();
        if let Some(p) = self.plugins.filter(|p| !p.is_none()) {
            let p = p.cast::<PyDict>().map_err(|_| {
                pyo3::exceptions::PyTypeError::new_err(
                    "plugins must be a dict of plugin name -> callable(scope)",
                )
            })?;
            for (name, callable) in p.iter() {
                let name: String = name.extract().map_err(|_| {
                    pyo3::exceptions::PyTypeError::new_err("plugin names must be strings")
                })?;
                if !callable.is_callable() {
                    return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                        "plugin {name:?} is not callable"
                    )));
                }
                plugins.push((
                    name.clone(),
                    Arc::new(PyPlugin::new(name, callable.unbind())),
                ));
            }
        }
        Ok(Prepared {
            sink,
            plugins,
            prefetch: self.prefetch,
        })
    }
}

impl Client {
    fn build(
        py: Python<'_>,
        prepared: Prepared,
        config: impl FnOnce() -> idaas::Result<idaas::Config> + Send,
    ) -> PyResult<Self> {
        let config = detached(py, config)?;
        let label = format!(
            "instance_id={:?}, client_id={:?}",
            config.idaas_instance_id, config.client_id
        );
        let mut builder = idaas::Client::builder(config);
        if let Some(p) = prepared.prefetch {
            builder = builder.prefetch(p);
        }
        if let Some(sink) = prepared.sink {
            builder = builder.log_sink(sink);
        }
        for (name, plugin) in prepared.plugins {
            builder = builder.plugin(name, plugin);
        }
        let client = builder.build().map_err(|e| errors::to_py(py, &e))?;
        Ok(Client {
            inner: ArcSwapOption::from_pointee(client),
            label,
        })
    }

    /// The live core client, or `ClosedError`.
    pub(crate) fn core(&self, py: Python<'_>) -> PyResult<Arc<idaas::Client>> {
        self.inner
            .load_full()
            .ok_or_else(|| errors::closed(py, "client"))
    }
}

#[pymethods]
impl Client {
    /// `Client(path=None, *, plugins=None, logger=None, prefetch=None)`: the configuration file at
    /// `path`, or the default lookup when `path` is None.
    ///
    /// `plugins` maps a `pluginName` to a callable `(scope) -> str | Mapping` (`authnMethod:
    /// PLUGIN`); `logger` is a `logging.Logger` for the library's records (default
    /// `logging.getLogger("idaas")`; `False`: none); `prefetch` overrides refresh-ahead.
    #[new]
    #[pyo3(signature = (path=None, *, plugins=None, logger=None, prefetch=None))]
    fn new<'py>(
        py: Python<'py>,
        path: Option<PathBuf>,
        plugins: Option<Bound<'py, PyAny>>,
        logger: Option<Bound<'py, PyAny>>,
        prefetch: Option<bool>,
    ) -> PyResult<Self> {
        let o = Options {
            plugins,
            logger,
            prefetch,
        }
        .prepare(py)?;
        Self::build(py, o, || idaas::Config::load(path.as_deref()))
    }

    /// The client of the configuration file at `path` (see `Client`).
    #[staticmethod]
    #[pyo3(signature = (path, *, plugins=None, logger=None, prefetch=None))]
    fn from_file<'py>(
        py: Python<'py>,
        path: PathBuf,
        plugins: Option<Bound<'py, PyAny>>,
        logger: Option<Bound<'py, PyAny>>,
        prefetch: Option<bool>,
    ) -> PyResult<Self> {
        let o = Options {
            plugins,
            logger,
            prefetch,
        }
        .prepare(py)?;
        Self::build(py, o, || idaas::Config::from_path(&path))
    }

    /// The client of the default lookup: `CLOUD_IDAAS_CONFIG_PATH`, else
    /// `~/.cloud_idaas/client-config.json`.
    #[staticmethod]
    #[pyo3(signature = (*, plugins=None, logger=None, prefetch=None))]
    fn from_default<'py>(
        py: Python<'py>,
        plugins: Option<Bound<'py, PyAny>>,
        logger: Option<Bound<'py, PyAny>>,
        prefetch: Option<bool>,
    ) -> PyResult<Self> {
        let o = Options {
            plugins,
            logger,
            prefetch,
        }
        .prepare(py)?;
        Self::build(py, o, || idaas::Config::load(None))
    }

    /// The client of a configuration given as JSON text (the file's format).
    #[staticmethod]
    #[pyo3(signature = (text, *, plugins=None, logger=None, prefetch=None))]
    fn from_json<'py>(
        py: Python<'py>,
        text: &str,
        plugins: Option<Bound<'py, PyAny>>,
        logger: Option<Bound<'py, PyAny>>,
        prefetch: Option<bool>,
    ) -> PyResult<Self> {
        let o = Options {
            plugins,
            logger,
            prefetch,
        }
        .prepare(py)?;
        Self::build(py, o, || idaas::Config::from_json_str(text))
    }

    /// The client of a configuration given as a dict (the file's members, e.g. `idaasInstanceId`).
    #[staticmethod]
    #[pyo3(signature = (config, *, plugins=None, logger=None, prefetch=None))]
    fn from_dict<'py>(
        py: Python<'py>,
        config: Bound<'py, PyAny>,
        plugins: Option<Bound<'py, PyAny>>,
        logger: Option<Bound<'py, PyAny>>,
        prefetch: Option<bool>,
    ) -> PyResult<Self> {
        let o = Options {
            plugins,
            logger,
            prefetch,
        }
        .prepare(py)?;
        // A dict that json cannot serialize is json's TypeError, as for any JSON API.
        let text: String = py
            .import("json")?
            .call_method1("dumps", (config,))?
            .extract()?;
        let text = idaas::SecretString::new(text);
        Self::build(py, o, || idaas::Config::from_json_str(text.expose()))
    }

    /// The bearer token for `scope` (default: the configured scope). Served from the cache when
    /// fresh; fetched (GIL released) otherwise.
    #[pyo3(signature = (scope=None))]
    fn bearer_token<'py>(
        &self,
        py: Python<'py>,
        scope: Option<&str>,
    ) -> PyResult<Bound<'py, PyString>> {
        let guard = self.inner.load();
        let client = guard.as_ref().ok_or_else(|| errors::closed(py, "client"))?;
        // The hot path (D-59): a fresh cached token is copied into a str without releasing the
        // GIL: releasing and re-taking it costs more than the read and lets other threads in.
        if let Some(s) = client.try_fresh_bearer_token(scope, |t, _| PyString::new(py, t)) {
            return Ok(s);
        }
        let token = detached(py, || {
            client.with_bearer_token_versioned(scope, |t, _| idaas::SecretString::new(t))
        })?;
        Ok(PyString::new(py, token.expose()))
    }

    /// The bearer token of `scope` when it is cached and fresh, else None. Never blocks and never
    /// does I/O: what `idaas.aio` tries before handing a call to a thread.
    #[pyo3(signature = (scope=None))]
    fn cached_bearer_token<'py>(
        &self,
        py: Python<'py>,
        scope: Option<&str>,
    ) -> PyResult<Option<Bound<'py, PyString>>> {
        let guard = self.inner.load();
        let client = guard.as_ref().ok_or_else(|| errors::closed(py, "client"))?;
        Ok(client.try_fresh_bearer_token(scope, |t, _| PyString::new(py, t)))
    }

    /// The full credential of `scope` (token, type, expiry) as an `idaas.Credential`.
    #[pyo3(signature = (scope=None))]
    fn credential<'py>(&self, py: Python<'py>, scope: Option<&str>) -> PyResult<Bound<'py, PyAny>> {
        let client = self.core(py)?;
        let json = detached(py, || {
            let c = match scope {
                None => client.credential()?,
                Some(s) => idaas::CredentialProvider::credential(&*client.provider_for_scope(s)?)?,
            };
            idaas::json::credential_json(&c)
        })?;
        result(py, "Credential", &json)
    }

    /// RFC 8693 token exchange of `subject_token` (one request, never cached). The default types
    /// are access tokens; the default scope is the configured one.
    #[pyo3(signature = (subject_token, subject_token_type=None, *, requested_token_type=None, scope=None, actor_token=None, actor_token_type=None))]
    #[allow(clippy::too_many_arguments)]
    fn exchange_token<'py>(
        &self,
        py: Python<'py>,
        subject_token: &str,
        subject_token_type: Option<String>,
        requested_token_type: Option<String>,
        scope: Option<String>,
        actor_token: Option<&str>,
        actor_token_type: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client = self.core(py)?;
        let req = idaas::TokenExchangeRequest {
            subject_token: idaas::SecretString::new(subject_token),
            subject_token_type: subject_token_type
                .unwrap_or_else(|| idaas::TOKEN_TYPE_ACCESS_TOKEN.to_owned()),
            requested_token_type,
            scope,
            actor_token: actor_token.map(idaas::SecretString::new),
            actor_token_type,
        };
        let json = detached(py, || {
            client
                .exchange_token(&req)
                .and_then(|c| idaas::json::credential_json(&c))
        })?;
        result(py, "Credential", &json)
    }

    /// The Developer API client (PAM) of this identity, sharing its token cache.
    ///
    /// `api_key_cache`: `None`/`False` (default) asks the server on every `get_api_key`; `True`
    /// caches keys with the defaults; an `idaas.ApiKeyCacheOptions` sets ttl, grace, retry
    /// interval and size. The Developer API is called with the client's own token unless
    /// `access_token` (a fixed token, e.g. a token exchange's result for the user-delegated
    /// operations) or `provider` (a callable `() -> str | Mapping`, asked before every request)
    /// is given.
    #[pyo3(signature = (*, api_key_cache=None, access_token=None, provider=None))]
    fn pam(
        &self,
        py: Python<'_>,
        api_key_cache: Option<Bound<'_, PyAny>>,
        access_token: Option<&str>,
        provider: Option<Bound<'_, PyAny>>,
    ) -> PyResult<PamClient> {
        let client = self.core(py)?;
        let cache = crate::pam::cache_options(api_key_cache)?;
        let provider: Option<idaas::SharedProvider> = match (access_token, provider) {
            (Some(_), Some(p)) if !p.is_none() => {
                return Err(pyo3::exceptions::PyTypeError::new_err(
                    "give access_token or provider, not both",
                ))
            }
            (_, Some(p)) if !p.is_none() => {
                if !p.is_callable() {
                    return Err(pyo3::exceptions::PyTypeError::new_err(
                        "provider must be a callable returning a token or a credential mapping",
                    ));
                }
                Some(Arc::new(PyProvider::new(p.unbind())))
            }
            (Some(t), _) => {
                let credential = idaas::Credential::from_access_token(idaas::SecretString::new(t))
                    .map_err(|e| errors::to_py(py, &e))?;
                Some(Arc::new(idaas::StaticProvider::new(credential)))
            }
            _ => None,
        };
        let pam = detached(py, || {
            let provider = match provider {
                Some(p) => p,
                None => client.provider_for_scope(idaas::pam::SCOPE)?,
            };
            let mut b = idaas::pam::PamClient::builder_from_client(&client, provider);
            if let Some(o) = cache {
                b = b.api_key_cache(o);
            }
            b.build()
        })?;
        Ok(PamClient::new(pam))
    }

    /// The `idaasInstanceId` of the configuration.
    #[getter]
    fn instance_id(&self, py: Python<'_>) -> PyResult<String> {
        Ok(self.core(py)?.config().idaas_instance_id.clone())
    }

    /// The `clientId` of the configuration.
    #[getter]
    fn client_id(&self, py: Python<'_>) -> PyResult<String> {
        Ok(self.core(py)?.config().client_id.clone())
    }

    /// The configured default scope.
    #[getter]
    fn scope(&self, py: Python<'_>) -> PyResult<String> {
        Ok(self.core(py)?.config().scope.clone())
    }

    /// True once `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.inner.load().is_none()
    }

    /// Drop the token caches (idempotent). Calls in flight finish; later calls raise
    /// `idaas.ClosedError`. PAM clients made from this client keep working until closed.
    fn close(&self, py: Python<'_>) {
        let _ = py;
        // Dropping the core client never waits (its refresh threads are detached), so it is
        // dropped here, GIL held, which also frees plugin callables at once.
        drop(self.inner.swap(None));
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (_exc_type=None, _exc=None, _tb=None))]
    fn __exit__(
        &self,
        py: Python<'_>,
        _exc_type: Option<Bound<'_, PyType>>,
        _exc: Option<Bound<'_, PyAny>>,
        _tb: Option<Bound<'_, PyAny>>,
    ) -> bool {
        self.close(py);
        false
    }

    fn __repr__(&self) -> String {
        let state = if self.closed() { ", closed" } else { "" };
        format!("idaas.Client({}{state})", self.label)
    }
}
