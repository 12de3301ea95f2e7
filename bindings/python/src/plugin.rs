//! Python callables as token sources: `authnMethod: PLUGIN` plugins (`plugin(scope) -> str |
//! Mapping`) and PAM credential providers (`provider() -> str | Mapping`).
//!
//! A string is the access token (not cached: its lifetime is unknown); a mapping is a credential
//! (`access_token`, optional `expires_in`/`expires_at`/`token_type`/`scope`), read by the core's
//! [`idaas::json::parse_credential`]. The callable runs with the interpreter attached, on the
//! calling thread or on the core's refresh thread; an exception it raises becomes a credential
//! error naming the plugin and the exception type.

use pyo3::prelude::*;
use pyo3::types::{PyMapping, PyString};

/// One Python callable as a [`idaas::TokenPlugin`].
pub(crate) struct PyPlugin {
    name: String,
    callable: Py<PyAny>,
}

impl PyPlugin {
    pub(crate) fn new(name: String, callable: Py<PyAny>) -> Self {
        PyPlugin { name, callable }
    }

    fn fetch(&self, py: Python<'_>, scope: &str) -> idaas::Result<idaas::Credential> {
        let what = format!("plugin {:?}", self.name);
        let value = self.callable.bind(py).call1((scope,)).map_err(|e| {
            crate::errors::from_callback(
                py,
                e,
                idaas::ErrorKind::Credential,
                "plugin_failed",
                &what,
            )
        })?;
        credential_from(py, &value, &what)
    }
}

/// What a plugin or provider callable returned, as a credential: a token string, or a mapping read
/// by [`idaas::json::parse_credential`].
fn credential_from(
    py: Python<'_>,
    value: &Bound<'_, PyAny>,
    what: &str,
) -> idaas::Result<idaas::Credential> {
    if value.cast::<PyString>().is_ok() {
        let token: String = value
            .extract()
            .map_err(|_| returned(what, "a string that is not UTF-8"))?;
        return idaas::Credential::from_access_token(idaas::SecretString::new(token))
            .map_err(|e| returned(what, e.message()));
    }
    if value.cast::<PyMapping>().is_ok() {
        let text: String = py
            .import("json")
            .and_then(|json| json.call_method1("dumps", (value,)))
            .and_then(|s| s.extract())
            .map_err(|_| returned(what, "a mapping that is not JSON"))?;
        let text = idaas::SecretString::new(text);
        return idaas::json::parse_credential(text.expose())
            .map_err(|e| returned(what, e.message()));
    }
    Err(returned(
        what,
        "neither a token string nor a credential mapping",
    ))
}

/// A Python callable `() -> str | Mapping` as the bearer-token source of a PAM client
/// (`Client.pam(provider=...)`): asked before every Developer API request, so it decides itself
/// what to cache.
pub(crate) struct PyProvider {
    callable: Py<PyAny>,
}

impl PyProvider {
    pub(crate) fn new(callable: Py<PyAny>) -> Self {
        PyProvider { callable }
    }
}

impl idaas::CredentialProvider for PyProvider {
    fn credential(&self) -> idaas::Result<std::sync::Arc<idaas::Credential>> {
        Python::try_attach(|py| {
            let value = self.callable.bind(py).call0().map_err(|e| {
                crate::errors::from_callback(
                    py,
                    e,
                    idaas::ErrorKind::Credential,
                    "provider_failed",
                    "the credential provider",
                )
            })?;
            credential_from(py, &value, "the credential provider")
        })
        .unwrap_or_else(|| {
            Err(idaas::Error::credential(
                "provider_failed",
                "the Python interpreter is shutting down",
            ))
        })
        .map(std::sync::Arc::new)
    }
}

fn returned(what: &str, problem: &str) -> idaas::Error {
    idaas::Error::credential("plugin_failed", format!("{what} returned {problem}"))
}

impl idaas::TokenPlugin for PyPlugin {
    fn fetch_token(&self, scope: &str) -> idaas::Result<idaas::Credential> {
        Python::try_attach(|py| self.fetch(py, scope)).unwrap_or_else(|| {
            Err(idaas::Error::credential(
                "plugin_failed",
                "the Python interpreter is shutting down",
            ))
        })
    }
}
