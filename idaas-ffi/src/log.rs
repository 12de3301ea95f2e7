//! Log records to C callbacks: per configuration (`idaas_config_set_logger`, the records of the
//! clients made from it) and process-wide (`idaas_log_set_callback`, everything else: clients
//! without a logger of their own, and the HTTP stack).

use std::cell::Cell;
use std::ffi::{c_char, c_void};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Once, RwLock};

use ::log::{Level, LevelFilter, Log, Metadata, Record};

use super::error::lossy_cstring;
use super::{guard, idaas_code, idaas_error, FfiError, HeldUserData, UserData};

/// Log level: no logging (only as a `max_level`).
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

/// A log callback: `level` is one of `IDAAS_LOG_LEVEL_ERROR` .. `IDAAS_LOG_LEVEL_TRACE`; `target` is
/// the emitting module (e.g. `"idaas::cache"`, `"ureq::run"`); `message` the text (never a secret:
/// the HTTP stack's TRACE records, which dump raw requests and replies, are never delivered). Both
/// strings are borrowed for the duration of the call only. May be invoked from any thread, also
/// concurrently; it must never unwind (no C++ exceptions, no longjmp).
pub type idaas_log_callback = Option<
    unsafe extern "C" fn(
        level: u32,
        target: *const c_char,
        message: *const c_char,
        user_data: *mut c_void,
    ),
>;

/// `max_level` → filter; above TRACE is an invalid argument.
pub(crate) fn level_filter(max_level: u32) -> Result<LevelFilter, FfiError> {
    Ok(match max_level {
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
    })
}

fn level_value(level: Level) -> u32 {
    match level {
        Level::Error => IDAAS_LOG_LEVEL_ERROR,
        Level::Warn => IDAAS_LOG_LEVEL_WARN,
        Level::Info => IDAAS_LOG_LEVEL_INFO,
        Level::Debug => IDAAS_LOG_LEVEL_DEBUG,
        Level::Trace => IDAAS_LOG_LEVEL_TRACE,
    }
}

type RawLogCallback = unsafe extern "C" fn(u32, *const c_char, *const c_char, *mut c_void);

/// Calls `callback` with C strings made from `target` and `message`.
fn call(callback: RawLogCallback, user_data: UserData, level: Level, target: &str, message: &str) {
    let target = lossy_cstring(target.to_owned());
    let message = lossy_cstring(message.to_owned());
    // SAFETY: the callback and user data were given through `idaas_config_set_logger` or
    // `idaas_log_set_callback`, whose contract makes them callable from any thread while held by
    // the library; both strings outlive the call.
    unsafe {
        callback(
            level_value(level),
            target.as_ptr(),
            message.as_ptr(),
            user_data.0,
        )
    };
}

/// The log callback of one configuration, as the core's per-client [`idaas_core::LogSink`].
pub(crate) struct CallbackSink {
    callback: RawLogCallback,
    user_data: HeldUserData,
    filter: LevelFilter,
}

impl CallbackSink {
    pub(crate) fn new(
        callback: RawLogCallback,
        user_data: HeldUserData,
        filter: LevelFilter,
    ) -> Self {
        CallbackSink {
            callback,
            user_data,
            filter,
        }
    }
}

impl idaas_core::LogSink for CallbackSink {
    fn enabled(&self, level: Level) -> bool {
        level <= self.filter
    }

    fn log(&self, level: Level, target: &str, message: &str) {
        call(self.callback, self.user_data.ptr, level, target, message);
    }
}

// ------------------------------------------------------------------------------------------------
// The process-wide callback: a `log` facade logger.

#[derive(Clone, Copy)]
struct GlobalSink {
    callback: RawLogCallback,
    user_data: UserData,
}

static GLOBAL: RwLock<Option<GlobalSink>> = RwLock::new(None);
static INSTALL: Once = Once::new();
static INSTALLED_OK: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// Set while this thread runs the process-wide callback: records logged from inside it are
    /// dropped (the facade logger would re-enter itself), and `idaas_log_set_callback` from inside
    /// it is refused (it would deadlock on the registration lock).
    static IN_CALLBACK: Cell<bool> = const { Cell::new(false) };
}

struct FacadeLogger;

impl Log for FacadeLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= ::log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) || IN_CALLBACK.with(Cell::get) {
            return;
        }
        // TRACE records of the HTTP stack dump raw requests and replies (client secrets, bearer
        // tokens): never delivered.
        if idaas_core::is_sensitive_log_record(record.target(), record.level()) {
            return;
        }
        let sink = GLOBAL.read().unwrap_or_else(|p| p.into_inner());
        let Some(sink) = *sink else { return };
        IN_CALLBACK.with(|c| c.set(true));
        call(
            sink.callback,
            sink.user_data,
            record.level(),
            record.target(),
            &record.args().to_string(),
        );
        IN_CALLBACK.with(|c| c.set(false));
    }

    fn flush(&self) {}
}

static LOGGER: FacadeLogger = FacadeLogger;

/// Installs (or, with a NULL `callback`, removes) the process-wide log callback: it receives the
/// records of clients that have no logger of their own (`idaas_config_set_logger`) and those of
/// the HTTP stack — a convenience for programs with one logger. Nothing is logged until a callback
/// is set. `max_level` as for `idaas_config_set_logger`.
///
/// `user_data` is handed back to every call and must stay valid, and be usable from any thread,
/// until the callback is replaced or removed: when this function returns, the previous callback is
/// no longer running and will not be called again. Records logged from inside the callback are
/// dropped. Returns `IDAAS_CODE_UNSUPPORTED` when called from inside the callback, or when the
/// process already has another Rust `log` logger (only possible when the Rust crate is linked
/// directly).
#[no_mangle]
pub unsafe extern "C" fn idaas_log_set_callback(
    callback: idaas_log_callback,
    user_data: *mut c_void,
    max_level: u32,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    guard(err_out, || {
        let filter = level_filter(max_level)?;
        if IN_CALLBACK.with(Cell::get) {
            return Err(FfiError::new(
                idaas_code::Unsupported,
                "idaas_log_set_callback cannot be called from inside the log callback",
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
        let mut sink = GLOBAL.write().unwrap_or_else(|p| p.into_inner());
        match callback {
            Some(cb) => {
                *sink = Some(GlobalSink {
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
