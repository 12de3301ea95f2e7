//! Forwarding the library's `log` records to a C callback.

use std::cell::Cell;
use std::ffi::{c_char, c_void};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Once, RwLock};

use ::log::{Level, LevelFilter, Log, Metadata, Record};

use super::error::lossy_cstring;
use super::{guard, idaas_code, idaas_error, FfiError, UserData};

/// Log level: no logging (only as `max_level` of `idaas_set_logger`).
pub const IDAAS_LOG_LEVEL_OFF: u32 = 0;
/// Log level: errors.
pub const IDAAS_LOG_LEVEL_ERROR: u32 = 1;
/// Log level: warnings (e.g. a failed background refresh while the cached token is still valid).
pub const IDAAS_LOG_LEVEL_WARN: u32 = 2;
/// Log level: informational messages.
pub const IDAAS_LOG_LEVEL_INFO: u32 = 3;
/// Log level: debugging messages (requests and replies without their secrets).
pub const IDAAS_LOG_LEVEL_DEBUG: u32 = 4;
/// Log level: very verbose tracing.
pub const IDAAS_LOG_LEVEL_TRACE: u32 = 5;

/// A log callback: `level` is one of `IDAAS_LOG_LEVEL_ERROR` .. `IDAAS_LOG_LEVEL_TRACE`; `target` is the
/// emitting module (e.g. `"idaas::cache"`, `"ureq::run"`); `message` the text (never a secret: the
/// HTTP stack's TRACE records, which dump raw requests and replies, are never forwarded). Both
/// strings are borrowed for the duration of the call only. May be invoked from any thread, also
/// concurrently, sometimes while the library holds internal locks: keep it quick, do not call other
/// idaas functions from it (records logged meanwhile are dropped), never unwind out of it (no C++
/// exceptions, no longjmp).
pub type idaas_log_callback = Option<
    unsafe extern "C" fn(
        level: u32,
        target: *const c_char,
        message: *const c_char,
        user_data: *mut c_void,
    ),
>;

#[derive(Clone, Copy)]
struct Sink {
    callback: unsafe extern "C" fn(u32, *const c_char, *const c_char, *mut c_void),
    user_data: UserData,
}

static SINK: RwLock<Option<Sink>> = RwLock::new(None);
static INSTALL: Once = Once::new();
static INSTALLED_OK: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// Set while this thread runs the log callback: records logged from inside it are dropped, and
    /// `idaas_set_logger` from inside it is refused (it would deadlock).
    static IN_CALLBACK: Cell<bool> = const { Cell::new(false) };
}

struct FfiLogger;

impl Log for FfiLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= ::log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) || IN_CALLBACK.with(Cell::get) {
            return;
        }
        // TRACE records of the HTTP stack dump raw requests and replies (client secrets, bearer
        // tokens): never forwarded.
        if crate::http::is_sensitive_log_record(record.target(), record.level()) {
            return;
        }
        let sink = SINK.read().unwrap_or_else(|p| p.into_inner());
        let Some(sink) = *sink else { return };
        let level = match record.level() {
            Level::Error => IDAAS_LOG_LEVEL_ERROR,
            Level::Warn => IDAAS_LOG_LEVEL_WARN,
            Level::Info => IDAAS_LOG_LEVEL_INFO,
            Level::Debug => IDAAS_LOG_LEVEL_DEBUG,
            Level::Trace => IDAAS_LOG_LEVEL_TRACE,
        };
        let target = lossy_cstring(record.target().to_owned());
        let message = lossy_cstring(record.args().to_string());
        IN_CALLBACK.with(|c| c.set(true));
        // SAFETY: the callback and user data were registered through `idaas_set_logger`, whose contract
        // makes them callable from any thread while registered; the read guard held here keeps them
        // registered until the call returns; both strings outlive the call.
        unsafe { (sink.callback)(level, target.as_ptr(), message.as_ptr(), sink.user_data.0) };
        IN_CALLBACK.with(|c| c.set(false));
    }

    fn flush(&self) {}
}

static LOGGER: FfiLogger = FfiLogger;

/// Installs (or, with a NULL `callback`, removes) the process-wide log callback. Nothing is logged
/// until a callback is set. `max_level` is the most verbose level forwarded (`IDAAS_LOG_LEVEL_OFF` ..
/// `IDAAS_LOG_LEVEL_TRACE`); values above TRACE are an `IDAAS_CODE_INVALID_ARGUMENT` error.
///
/// `user_data` is handed back to every call of `callback` and must stay valid, and be usable from any
/// thread, until the callback is replaced or removed. When `idaas_set_logger` returns, the previous
/// callback is no longer running and will not be called again, so its user data may be released.
/// Returns `IDAAS_CODE_UNSUPPORTED` when called from inside the callback, or when the process already
/// has another Rust `log` logger (only possible when the Rust crate is linked directly).
#[no_mangle]
pub unsafe extern "C" fn idaas_set_logger(
    callback: idaas_log_callback,
    user_data: *mut c_void,
    max_level: u32,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    guard(err_out, || {
        let filter = match max_level {
            IDAAS_LOG_LEVEL_OFF => LevelFilter::Off,
            IDAAS_LOG_LEVEL_ERROR => LevelFilter::Error,
            IDAAS_LOG_LEVEL_WARN => LevelFilter::Warn,
            IDAAS_LOG_LEVEL_INFO => LevelFilter::Info,
            IDAAS_LOG_LEVEL_DEBUG => LevelFilter::Debug,
            IDAAS_LOG_LEVEL_TRACE => LevelFilter::Trace,
            other => {
                return Err(FfiError::invalid(format!(
                    "max_level {other} is not an IDAAS_LOG_LEVEL_* value (0..=5)"
                )))
            }
        };
        if IN_CALLBACK.with(Cell::get) {
            return Err(FfiError::new(
                idaas_code::Unsupported,
                "idaas_set_logger cannot be called from inside the log callback",
            ));
        }
        INSTALL.call_once(|| {
            let ok = ::log::set_logger(&LOGGER).is_ok();
            INSTALLED_OK.store(ok, Ordering::Release);
        });
        if !INSTALLED_OK.load(Ordering::Acquire) {
            return Err(FfiError::new(
                idaas_code::Unsupported,
                "another `log` logger is already installed in this process",
            ));
        }
        let mut sink = SINK.write().unwrap_or_else(|p| p.into_inner());
        match callback {
            Some(cb) => {
                *sink = Some(Sink {
                    callback: cb,
                    user_data: UserData(user_data),
                });
                ::log::set_max_level(filter);
            }
            None => {
                *sink = None;
                ::log::set_max_level(LevelFilter::Off);
            }
        }
        Ok(())
    })
}
