//! `idaas._native`: the extension module of the `idaas` Python package, built on the Rust core
//! directly with PyO3 (decision D-59).
//!
//! It only marshals: every rule (configuration, caching, retries, the Developer API, secrets in
//! errors) is the core's. What lives here is what a Python binding must own:
//!
//! * the interpreter lock: a cached token is read while holding it (the core's non-blocking
//!   [`idaas::Client::try_fresh_bearer_token`]); everything that may touch the network or wait runs
//!   with it released ([`detached`]);
//! * Python objects for results: the core serializes them to the contract's JSON
//!   ([`idaas::json`]) and `idaas._types` (generated from the same schema) makes dataclasses;
//! * Python exceptions (`idaas._errors`), plugins as Python callables and Python's `logging`.
#![deny(unsafe_code)]

mod client;
mod errors;
mod logging;
mod pam;
mod plugin;

use pyo3::prelude::*;

/// Run `f` (a core call that may block) with the interpreter lock released, then turn its error
/// into the matching Python exception. A panic inside the core (a bug) becomes
/// `idaas.InternalError`, which `except Exception` catches, rather than PyO3's `PanicException`.
pub(crate) fn detached<T, F>(py: Python<'_>, f: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce() -> idaas::Result<T> + Send,
{
    match py.detach(|| std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(errors::to_py(py, &e)),
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic payload".to_owned());
            let e = idaas::Error::internal(format!(
                "internal panic caught at the Python boundary (a bug in idaas): {what}"
            ));
            Err(errors::to_py(py, &e))
        }
    }
}

/// Test hook (feature `test-hooks`, on in `make test` builds only): a panic inside a detached call.
#[cfg(feature = "test-hooks")]
#[pyfunction]
fn _debug_panic(py: Python<'_>) -> PyResult<()> {
    detached(py, || -> idaas::Result<()> {
        panic!("_debug_panic called (test-hooks build)")
    })
}

/// The module: `Client`, `PamClient`, `CancelToken` (re-exported by `idaas`) and the version.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<client::Client>()?;
    m.add_class::<pam::PamClient>()?;
    m.add_class::<pam::CancelToken>()?;
    m.add_class::<pam::AuthenticationTokenIter>()?;
    // setattr, not add_function: a test hook stays out of `__all__`.
    #[cfg(feature = "test-hooks")]
    m.setattr("_debug_panic", wrap_pyfunction!(_debug_panic, m)?)?;
    m.add("__version__", idaas::VERSION)?;
    m.add("TOKEN_TYPE_ACCESS_TOKEN", idaas::TOKEN_TYPE_ACCESS_TOKEN)?;
    m.add("TOKEN_TYPE_ID_TOKEN", idaas::TOKEN_TYPE_ID_TOKEN)?;
    m.add("TOKEN_TYPE_JWT", idaas::TOKEN_TYPE_JWT)?;
    m.add("TOKEN_TYPE_REFRESH_TOKEN", idaas::TOKEN_TYPE_REFRESH_TOKEN)?;
    m.add("DEFAULT_SCOPE", idaas::DEFAULT_SCOPE)?;
    // The core's API-key cache defaults, for `idaas.ApiKeyCacheOptions`.
    let d = idaas::pam::ApiKeyCacheOptions::default();
    m.add(
        "API_KEY_CACHE_DEFAULTS",
        (
            d.ttl.as_secs_f64(),
            d.grace.as_secs_f64(),
            d.retry_interval.as_secs_f64(),
            d.max_entries,
        ),
    )?;
    Ok(())
}
