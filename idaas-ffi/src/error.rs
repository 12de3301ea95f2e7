//! Status codes and the owned error handle of the C ABI.
//!
//! Every fallible function returns an [`idaas_code`]; on failure it also hands the caller an owned
//! [`idaas_error`] through its last parameter (`idaas_error **err_out`, which may be NULL). There is no
//! thread-local "last error": a goroutine may move between OS threads between two cgo calls.

use std::ffi::{c_char, CStr, CString};
use std::ptr;

use idaas_core::{Error, ErrorKind};

use super::{Handle, OwnedByCaller};

/// The status of a call. `IDAAS_CODE_OK` (0) is success; every other value is a failure whose details
/// are in the `idaas_error` written to `*err_out`.
///
/// Values are grouped by hundreds and never renumbered; new codes may be added, so handle a code by
/// its class (`idaas_code_class`, which also classifies codes this library does not know).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(non_camel_case_types)]
pub enum idaas_code {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullArgument = 100,
    /// A string argument was not valid UTF-8.
    InvalidUtf8 = 101,
    /// An argument was invalid (empty identifier, bad scope, malformed `options_json` ...).
    InvalidArgument = 102,
    /// The caller's buffer is too small; the required size was written to the length out-parameter.
    BufferTooSmall = 103,
    /// A token source (a PLUGIN callback) asked its own client for the token it is fetching (same
    /// scope), from inside its callback. That call would wait for itself forever, so it fails at once
    /// with this code; ask another client, or the same client for another scope.
    ReentrantCall = 104,
    /// The configuration (file, JSON) is missing, unreadable or invalid.
    Config = 200,
    /// A local credential could not be produced (missing secret environment variable, unreadable
    /// private key, plugin failure ...).
    Credential = 300,
    /// A server refused authentication or authorization (token endpoint `invalid_client`,
    /// `invalid_scope` ..., Developer API 401/403).
    Auth = 301,
    /// A server rejected the request for another client-side reason (other 4xx: 400, 404, 429 ...).
    ClientError = 400,
    /// A server failed (5xx).
    ServerError = 401,
    /// A server answered with something unusable (unexpected status, malformed body ...).
    UnexpectedResponse = 402,
    /// The network failed (connection refused or reset, DNS, TLS).
    Transport = 500,
    /// A connect or read timeout, or a deadline, expired.
    Timeout = 501,
    /// The call was cancelled through an `idaas_cancel`.
    Cancelled = 600,
    /// A bug or unexpected state inside the library.
    Internal = 900,
    /// A panic was caught at the boundary (a bug in the library); the process is unaffected.
    Panic = 901,
    /// The operation is not supported by this build or configuration.
    Unsupported = 902,
}

impl idaas_code {
    /// The lower-case name of the code (also `idaas_error_kind_name`).
    pub(crate) fn name(self) -> &'static CStr {
        match self {
            idaas_code::Ok => c"ok",
            idaas_code::NullArgument => c"null_argument",
            idaas_code::InvalidUtf8 => c"invalid_utf8",
            idaas_code::InvalidArgument => c"invalid_argument",
            idaas_code::BufferTooSmall => c"buffer_too_small",
            idaas_code::ReentrantCall => c"reentrant_call",
            idaas_code::Config => c"config",
            idaas_code::Credential => c"credential",
            idaas_code::Auth => c"auth",
            idaas_code::ClientError => c"client",
            idaas_code::ServerError => c"server",
            idaas_code::UnexpectedResponse => c"unexpected_response",
            idaas_code::Transport => c"transport",
            idaas_code::Timeout => c"timeout",
            idaas_code::Cancelled => c"cancelled",
            idaas_code::Internal => c"internal",
            idaas_code::Panic => c"panic",
            idaas_code::Unsupported => c"unsupported",
        }
    }
}

/// The ABI code of a core error: its kind's code ([`code_of_kind`]), except for the errors that have
/// a code of their own (a re-entrant call).
pub(crate) fn code_of_error(e: &Error) -> idaas_code {
    if e.is_reentrant_call() {
        idaas_code::ReentrantCall
    } else {
        code_of_kind(e.kind())
    }
}

/// The one place where a core [`ErrorKind`] becomes an ABI code.
pub(crate) fn code_of_kind(kind: ErrorKind) -> idaas_code {
    match kind {
        ErrorKind::InvalidArgument => idaas_code::InvalidArgument,
        ErrorKind::Config => idaas_code::Config,
        ErrorKind::Credential => idaas_code::Credential,
        ErrorKind::Auth => idaas_code::Auth,
        ErrorKind::Client => idaas_code::ClientError,
        ErrorKind::Server => idaas_code::ServerError,
        ErrorKind::UnexpectedResponse => idaas_code::UnexpectedResponse,
        ErrorKind::Transport => idaas_code::Transport,
        ErrorKind::Timeout => idaas_code::Timeout,
        ErrorKind::Cancelled => idaas_code::Cancelled,
        ErrorKind::Internal => idaas_code::Internal,
        #[allow(unreachable_patterns)]
        _ => idaas_code::Internal,
    }
}

/// An error returned through `idaas_error **err_out`. Owned by the caller; free it with
/// `idaas_error_free`. All strings read from it are borrowed and valid until it is freed. Messages
/// never contain a secret.
pub struct idaas_error {
    code: idaas_code,
    message: CString,
    http_status: u16,
    server_code: Option<CString>,
    request_id: Option<CString>,
    retryable: bool,
}

impl Handle for idaas_error {
    type Ownership = OwnedByCaller;
}

/// A failure inside the FFI layer, on its way to becoming an [`idaas_error`].
pub(crate) struct FfiError {
    pub(crate) code: idaas_code,
    pub(crate) message: String,
    pub(crate) http_status: u16,
    pub(crate) server_code: Option<String>,
    pub(crate) request_id: Option<String>,
    /// The core's verdict ([`Error::is_retryable`]); errors of the FFI layer itself never are.
    pub(crate) retryable: bool,
}

impl FfiError {
    /// An error with only a code and a message.
    pub(crate) fn new(code: idaas_code, message: impl Into<String>) -> Self {
        FfiError {
            code,
            message: message.into(),
            http_status: 0,
            server_code: None,
            request_id: None,
            retryable: false,
        }
    }

    /// `name` was NULL.
    pub(crate) fn null(name: &str) -> Self {
        Self::new(
            idaas_code::NullArgument,
            format!("argument `{name}` must not be NULL"),
        )
    }

    /// An invalid argument.
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(idaas_code::InvalidArgument, message)
    }
}

impl From<Error> for FfiError {
    fn from(e: Error) -> Self {
        let mut message = e.to_string();
        // Append the cause chain: causes are written by us or by the transport and hold no secret;
        // their control characters are escaped like the error's own text.
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            let text = idaas_core::escape_controls(&s.to_string()).into_owned();
            if !text.is_empty() && !message.contains(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            source = s.source();
        }
        FfiError {
            code: code_of_error(&e),
            message,
            http_status: e.http_status().unwrap_or(0),
            server_code: Some(e.code().to_owned()).filter(|c| !c.is_empty()),
            request_id: e.request_id().map(str::to_owned),
            retryable: e.is_retryable(),
        }
    }
}

/// A C string from Rust text; interior NUL bytes (never expected in messages) become U+FFFD.
pub(crate) fn lossy_cstring(s: String) -> CString {
    match CString::new(s) {
        Ok(c) => c,
        Err(e) => {
            let s = String::from_utf8_lossy(&e.into_vec()).replace('\0', "\u{fffd}");
            CString::new(s).unwrap_or_default()
        }
    }
}

impl FfiError {
    pub(crate) fn into_handle(self) -> Box<idaas_error> {
        Box::new(idaas_error {
            code: self.code,
            message: lossy_cstring(self.message),
            http_status: self.http_status,
            server_code: self.server_code.map(lossy_cstring),
            request_id: self.request_id.map(lossy_cstring),
            retryable: self.retryable,
        })
    }
}

/// The code of `err`; `IDAAS_CODE_OK` when `err` is NULL.
#[no_mangle]
pub unsafe extern "C" fn idaas_error_code(err: *const idaas_error) -> idaas_code {
    // SAFETY: the caller passes NULL or a live error handle from this library.
    match unsafe { err.as_ref() } {
        Some(e) => e.code,
        None => idaas_code::Ok,
    }
}

/// The human-readable message of `err`: the server's or the library's description, followed by the
/// server code, HTTP status and request id when there were any. Never contains a secret. Borrowed:
/// valid until `idaas_error_free(err)`. Returns "" when `err` is NULL (never NULL).
#[no_mangle]
pub unsafe extern "C" fn idaas_error_message(err: *const idaas_error) -> *const c_char {
    // SAFETY: the caller passes NULL or a live error handle from this library.
    match unsafe { err.as_ref() } {
        Some(e) => e.message.as_ptr(),
        None => c"".as_ptr(),
    }
}

/// The HTTP status of the server reply that caused `err`, or 0 when no server answered (or `err` is
/// NULL).
#[no_mangle]
pub unsafe extern "C" fn idaas_error_http_status(err: *const idaas_error) -> u16 {
    // SAFETY: the caller passes NULL or a live error handle from this library.
    match unsafe { err.as_ref() } {
        Some(e) => e.http_status,
        None => 0,
    }
}

/// The machine-readable code of `err`: the server's `error`/`Code` (`invalid_client`,
/// `EntityNotExists.Credential` ...) or a library catalogue code (`InvalidScope`,
/// `ClientSecretEnvVarNameNotFound` ...). NULL when there is none (or `err` is NULL). Borrowed: valid
/// until `idaas_error_free(err)`.
#[no_mangle]
pub unsafe extern "C" fn idaas_error_server_code(err: *const idaas_error) -> *const c_char {
    // SAFETY: the caller passes NULL or a live error handle from this library.
    match unsafe { err.as_ref() } {
        Some(e) => e.server_code.as_ref().map_or(ptr::null(), |c| c.as_ptr()),
        None => ptr::null(),
    }
}

/// The request id the server sent with the failed reply; NULL when there is none (or `err` is NULL).
/// Borrowed: valid until `idaas_error_free(err)`.
#[no_mangle]
pub unsafe extern "C" fn idaas_error_request_id(err: *const idaas_error) -> *const c_char {
    // SAFETY: the caller passes NULL or a live error handle from this library.
    match unsafe { err.as_ref() } {
        Some(e) => e.request_id.as_ref().map_or(ptr::null(), |c| c.as_ptr()),
        None => ptr::null(),
    }
}

/// The lower-case name of the error's code (`"auth"`, `"timeout"`, `"null_argument"` ...; `"ok"` when
/// `err` is NULL). Static: never freed, never NULL.
#[no_mangle]
pub unsafe extern "C" fn idaas_error_kind_name(err: *const idaas_error) -> *const c_char {
    // SAFETY: forwarded contract: `err` is NULL or a live error handle.
    unsafe { idaas_error_code(err) }.name().as_ptr()
}

/// Whether trying the failed call again may succeed: a server failure (5xx), a throttled request
/// (HTTP 429), a transport failure or a timeout. The library decides (it has already retried within
/// its call budget); bindings expose this rather than re-deriving it. False for NULL.
#[no_mangle]
pub unsafe extern "C" fn idaas_error_is_retryable(err: *const idaas_error) -> bool {
    // SAFETY: the caller passes NULL or a live error handle from this library.
    unsafe { err.as_ref() }.is_some_and(|e| e.retryable)
}

/// The class of a code: its hundreds group, which is how callers should treat a code they do not
/// know. Bindings map classes to their error types.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum idaas_class {
    /// `IDAAS_CODE_OK`.
    Ok = 0,
    /// 1xx: an argument was rejected locally (NULL, bad UTF-8, invalid value, re-entrant call).
    Argument = 1,
    /// 2xx: the configuration is missing, unreadable or invalid.
    Config = 2,
    /// 3xx: authentication failed (a local credential could not be made, or the server refused it).
    Authentication = 3,
    /// 4xx: the server answered with a refusal, a failure or something unusable.
    ServerReply = 4,
    /// 5xx: the network failed or a time bound expired.
    Network = 5,
    /// 6xx: the caller cancelled the call.
    Cancelled = 6,
    /// 9xx and any code outside the groups above: a bug or an unsupported operation.
    Internal = 9,
}

/// The class of `code` (an `idaas_code` value; it is `uint32_t` so that codes of newer library
/// versions can be classified too).
#[no_mangle]
pub extern "C" fn idaas_code_class(code: u32) -> idaas_class {
    match code / 100 {
        0 if code == 0 => idaas_class::Ok,
        1 => idaas_class::Argument,
        2 => idaas_class::Config,
        3 => idaas_class::Authentication,
        4 => idaas_class::ServerReply,
        5 => idaas_class::Network,
        6 => idaas_class::Cancelled,
        _ => idaas_class::Internal,
    }
}

/// The lower-case name of `code` (`"ok"`, `"auth"`, `"timeout"` ...), `"unknown"` for a value this
/// library does not know. Static: never freed, never NULL. (`code` is an `idaas_code` value; it is
/// declared `uint32_t` so that any value coming from C is valid.)
#[no_mangle]
pub extern "C" fn idaas_code_name(code: u32) -> *const c_char {
    ALL_CODES
        .iter()
        .find(|c| **c as u32 == code)
        .map_or(c"unknown".as_ptr(), |c| c.name().as_ptr())
}

/// Every code, for lookups by raw value.
const ALL_CODES: [idaas_code; 18] = [
    idaas_code::Ok,
    idaas_code::NullArgument,
    idaas_code::InvalidUtf8,
    idaas_code::InvalidArgument,
    idaas_code::BufferTooSmall,
    idaas_code::ReentrantCall,
    idaas_code::Config,
    idaas_code::Credential,
    idaas_code::Auth,
    idaas_code::ClientError,
    idaas_code::ServerError,
    idaas_code::UnexpectedResponse,
    idaas_code::Transport,
    idaas_code::Timeout,
    idaas_code::Cancelled,
    idaas_code::Internal,
    idaas_code::Panic,
    idaas_code::Unsupported,
];

/// Free an error returned through `err_out`. `idaas_error_free(NULL)` is a no-op.
#[no_mangle]
pub unsafe extern "C" fn idaas_error_free(err: *mut idaas_error) {
    if err.is_null() {
        return;
    }
    // SAFETY: a non-NULL `err` was produced by `Box::into_raw` in this library and, per the
    // documented contract, is freed exactly once.
    drop(unsafe { Box::from_raw(err) });
}
