//! Core errors → the exceptions of `idaas._errors` (one class per error kind, grouped by the C
//! ABI's classes; the mapping lives in Python next to the classes).

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

static FACTORY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The Python exception for `e`. Its fields are the core's (never a secret, decision D-37).
pub(crate) fn to_py(py: Python<'_>, e: &idaas::Error) -> PyErr {
    raise(
        py,
        e.kind().as_str(),
        e.is_reentrant_call(),
        e.code(),
        e.message(),
        e.http_status(),
        e.request_id(),
        e.is_retryable(),
    )
}

/// The exception raised by a call on a closed client.
pub(crate) fn closed(py: Python<'_>, what: &str) -> PyErr {
    raise(
        py,
        "closed",
        false,
        "closed",
        &format!("this {what} is closed"),
        None,
        None,
        false,
    )
}

#[allow(clippy::too_many_arguments)]
fn raise(
    py: Python<'_>,
    kind: &str,
    reentrant: bool,
    code: &str,
    message: &str,
    http_status: Option<u16>,
    request_id: Option<&str>,
    retryable: bool,
) -> PyErr {
    let factory = match FACTORY.get_or_try_init(py, || {
        py.import("idaas._errors")?
            .getattr("_from_native")
            .map(Bound::unbind)
    }) {
        Ok(f) => f,
        Err(e) => return e,
    };
    let code = (!code.is_empty()).then_some(code);
    match factory.bind(py).call1((
        kind,
        reentrant,
        code,
        message,
        http_status,
        request_id,
        retryable,
    )) {
        Ok(exc) => PyErr::from_value(exc),
        Err(e) => e,
    }
}

/// A Python exception raised inside a callback (plugin, authorization-URL handler) as a core error
/// of `kind`: its type name and text, with control characters escaped (it becomes part of an error
/// message printed by the caller).
pub(crate) fn from_callback(
    py: Python<'_>,
    err: PyErr,
    kind: idaas::ErrorKind,
    code: &str,
    what: &str,
) -> idaas::Error {
    let type_name = err
        .get_type(py)
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "Exception".to_owned());
    let text = err
        .value(py)
        .str()
        .map(|s| s.to_string())
        .unwrap_or_default();
    idaas::Error::new(
        kind,
        code,
        format!(
            "{what} raised {type_name}: {}",
            idaas::escape_controls(&text)
        ),
    )
}
