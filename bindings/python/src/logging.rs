//! The core's log records → a Python `logging.Logger` (by default `logging.getLogger("idaas")`).
//!
//! Records never hold a secret (the core's rule, D-37). They may come from the core's background
//! refresh thread, which attaches to the interpreter for the call; while the interpreter is
//! shutting down, records are dropped instead.

use pyo3::prelude::*;

/// A [`idaas::LogSink`] writing to one Python logger.
pub(crate) struct PyLogSink {
    logger: Py<PyAny>,
}

impl PyLogSink {
    pub(crate) fn new(logger: Py<PyAny>) -> Self {
        PyLogSink { logger }
    }
}

/// Python's numeric level of a `log` level (`TRACE` below `DEBUG`, as 5).
fn py_level(level: log::Level) -> u8 {
    match level {
        log::Level::Error => 40,
        log::Level::Warn => 30,
        log::Level::Info => 20,
        log::Level::Debug => 10,
        log::Level::Trace => 5,
    }
}

impl idaas::LogSink for PyLogSink {
    fn enabled(&self, level: log::Level) -> bool {
        Python::try_attach(|py| {
            self.logger
                .bind(py)
                .call_method1("isEnabledFor", (py_level(level),))
                .and_then(|r| r.is_truthy())
                .unwrap_or(false)
        })
        .unwrap_or(false)
    }

    fn log(&self, level: log::Level, target: &str, message: &str) {
        Python::try_attach(|py| {
            let logger = self.logger.bind(py);
            let extra = pyo3::types::PyDict::new(py);
            let _ = extra.set_item("idaas_target", target);
            let kwargs = pyo3::types::PyDict::new(py);
            let _ = kwargs.set_item("extra", extra);
            if let Err(e) =
                logger.call_method("log", (py_level(level), "%s", message), Some(&kwargs))
            {
                // A failing handler must not break the call that logged; Python reports it.
                e.write_unraisable(py, Some(logger));
            }
        });
    }
}
