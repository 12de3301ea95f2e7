//! `idaas-ffi`: the C ABI of idaas (`include/idaas.h`, `libidaas.so`, `libidaas.a`) — the only crate
//! of the workspace with `unsafe` code and `extern "C"` functions. It marshals between C and the safe
//! core (`idaas`, named `idaas_core` here); policy lives in the core. Go (cgo), Java (JNI) and Node
//! (N-API) bindings wrap exactly this ABI.
//!
//! Conventions (models: rustls-ffi `librustls/src/*.rs`, wasmtime `crates/c-api`):
//!
//! * everything is named `idaas_<noun>_<verb>` (types `idaas_*`, constants `IDAAS_*`);
//! * handles are opaque (`typedef struct idaas_client idaas_client;` on the C side); every constructor
//!   has exactly one `_free`, and `_free(NULL)` is a no-op;
//! * a fallible function returns an [`idaas_code`], takes its inputs first, then its out-parameters
//!   (written only on success), then `idaas_error **err_out` last (may be NULL; set to NULL on success
//!   and to an owned [`idaas_error`] on failure) — no thread-local last error, because a goroutine may
//!   change OS threads between two cgo calls;
//! * input strings are borrowed NUL-terminated UTF-8; output strings are `malloc`ed copies freed only by
//!   [`idaas_string_free`], which zeroes them first;
//! * every body runs inside `guard` (`catch_unwind`): no panic crosses the boundary.
//!
//! The design notes of the individual functions live in their doc comments, which cbindgen copies into
//! the header. The header's preamble (ownership, errors, thread safety, JSON schemas) is in
//! `cbindgen.toml`.

// The exported functions are `unsafe extern "C"`: their pointer arguments must satisfy the contracts in
// their doc comments and the header's preamble, which is their `# Safety` documentation. Every
// `unsafe` operation inside them is still in an explicit block with a `// SAFETY:` comment.
#![allow(unsafe_code)]
#![allow(clippy::missing_safety_doc)]
#![deny(unsafe_op_in_unsafe_fn)]
#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_void, CStr};
use std::path::Path;

use idaas_core::{Client, Config};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

// cbindgen emits this file's items first (so `idaas_init` opens the header), then the modules in
// the order of their file names.
mod cancel;
mod client;
mod config;
mod error;
mod exchange;
mod log;
mod pam;
mod plugin;
mod provider;
mod strings;
#[cfg(test)]
mod tests;

pub use cancel::*;
pub use client::*;
pub use config::*;
pub use error::*;
pub use exchange::*;
pub use log::*;
pub use pam::*;
pub use plugin::*;
pub use provider::*;
pub use strings::*;

pub(crate) use error::FfiError;

/// Runs an exported function body: catches panics (→ `IDAAS_CODE_PANIC`), turns an [`FfiError`] into
/// its code and an owned [`idaas_error`] in `*err_out` (when `err_out` is not NULL), and stores NULL
/// in `*err_out` on success.
#[inline(always)]
pub(crate) fn guard<F>(err_out: *mut *mut idaas_error, f: F) -> idaas_code
where
    F: FnOnce() -> Result<(), FfiError>,
{
    let failure = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => {
            if !err_out.is_null() {
                // SAFETY: a non-NULL `err_out` points to writable `idaas_error *` storage (contract).
                unsafe { *err_out = ptr::null_mut() };
            }
            return idaas_code::Ok;
        }
        Ok(Err(e)) => e,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic payload".to_owned());
            // Dropping the payload could itself panic (a payload with a panicking Drop): contain it.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
            FfiError::new(
                idaas_code::Panic,
                format!("internal panic caught at the C boundary (a bug in idaas): {what}"),
            )
        }
    };
    report(err_out, failure)
}

/// Stores `e` in `*err_out` (when not NULL) and returns its code. Never panics across the boundary:
/// a panic while building the handle (allocation failure aborts anyway) yields the bare code.
#[cold]
fn report(err_out: *mut *mut idaas_error, e: FfiError) -> idaas_code {
    let code = e.code;
    if !err_out.is_null() {
        let handle = catch_unwind(AssertUnwindSafe(|| Box::into_raw(e.into_handle())))
            .unwrap_or(ptr::null_mut());
        // SAFETY: a non-NULL `err_out` points to writable `idaas_error *` storage (contract).
        unsafe { *err_out = handle };
    }
    code
}

/// How a handle type crosses the boundary (the model is rustls-ffi's `Castable`): every opaque type
/// of the header implements [`Handle`] with one of these markers, and the helpers below accept only
/// the matching kind, so handing a library-lent pointer to a `_free`, or freeing one kind of handle
/// as another, does not compile.
pub(crate) trait Handle: Sized + 'static {
    /// [`OwnedByCaller`] or [`LentByLibrary`].
    type Ownership;
}

/// Created by a constructor as a `Box`, owned by the caller, released by exactly one `_free`.
pub(crate) struct OwnedByCaller;

/// Lent by the library to a callback, valid during that call only; never freed by the caller.
pub(crate) struct LentByLibrary;

/// A borrowed handle argument; NULL → `IDAAS_CODE_NULL_ARGUMENT`.
///
/// # Safety
/// `p` must be NULL or point to a live `T` created (or lent) by this library, not freed during `'a`.
#[inline(always)]
pub(crate) unsafe fn handle<'a, T: Handle>(p: *const T, name: &str) -> Result<&'a T, FfiError> {
    // SAFETY: guaranteed by the caller (see above).
    unsafe { p.as_ref() }.ok_or_else(|| FfiError::null(name))
}

/// A mutably borrowed handle argument (the caller promises no concurrent use); NULL →
/// `IDAAS_CODE_NULL_ARGUMENT`.
///
/// # Safety
/// `p` must be NULL or point to a live `T` of this library that no other thread uses during `'a`.
#[inline]
pub(crate) unsafe fn handle_mut<'a, T: Handle>(
    p: *mut T,
    name: &str,
) -> Result<&'a mut T, FfiError> {
    // SAFETY: guaranteed by the caller (see above).
    unsafe { p.as_mut() }.ok_or_else(|| FfiError::null(name))
}

/// Checks that an out-parameter is not NULL (before any work is done).
#[inline(always)]
pub(crate) fn out_arg<T>(p: *mut T, name: &str) -> Result<(), FfiError> {
    if p.is_null() {
        Err(FfiError::null(name))
    } else {
        Ok(())
    }
}

/// Moves `value` into a new caller-owned handle and stores its pointer in `*out`.
///
/// # Safety
/// `out` must be a non-NULL, writable pointer (checked earlier with [`out_arg`]).
pub(crate) unsafe fn put_handle<T: Handle<Ownership = OwnedByCaller>>(out: *mut *mut T, value: T) {
    // SAFETY: guaranteed by the caller.
    unsafe { *out = Box::into_raw(Box::new(value)) };
}

/// Frees a caller-owned handle made by [`put_handle`], inside `catch_unwind` (a panicking `Drop`
/// must not unwind into C). NULL is a no-op.
pub(crate) fn free_guarded<T: Handle<Ownership = OwnedByCaller>>(p: *mut T) {
    if p.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the exported `_free` functions forward their argument, which by contract is a
        // live handle of type `T` from `put_handle`, freed exactly once.
        drop(unsafe { Box::from_raw(p) })
    }));
}

/// Creates a client from the configuration file at `config_path`, or — when `config_path` is NULL —
/// from the reference SDKs' lookup: the file named by `CLOUD_IDAAS_CONFIG_PATH`, else
/// `~/.cloud_idaas/client-config.json`. No network I/O: the first token is fetched by the first
/// `idaas_client_get_token`. Free the client with `idaas_client_free`.
///
/// For plugins, a logger of the client's own, or options, load the configuration with
/// `idaas_config_load`, add them to it, and call `idaas_client_new`.
///
/// Errors: `IDAAS_CODE_CONFIG` (no file, unreadable, invalid content; the message says which check
/// failed and, when the default file is missing but `~/.cloud_idaas/client_config.json` exists,
/// that it must be renamed).
#[no_mangle]
pub unsafe extern "C" fn idaas_init(
    config_path: *const c_char,
    client_out: *mut *mut idaas_client,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    guard(err_out, || {
        // SAFETY: `config_path` is NULL or a NUL-terminated string (header contract).
        let path = unsafe { opt_str_arg(config_path, "config_path") }?;
        out_arg(client_out, "client_out")?;
        let inner = Client::new(Config::load(path.map(Path::new))?)?;
        // SAFETY: `client_out` checked non-NULL above.
        unsafe { put_handle(client_out, idaas_client { inner }) };
        Ok(())
    })
}

/// The library version (`CARGO_PKG_VERSION`, e.g. `"0.1.0"`). Static: never freed, never NULL.
#[no_mangle]
pub extern "C" fn idaas_version() -> *const c_char {
    const V: &CStr =
        match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
            Ok(v) => v,
            Err(_) => c"unknown",
        };
    V.as_ptr()
}

/// Test hook: provokes a panic inside the boundary, which comes back as `IDAAS_CODE_PANIC` with an
/// error. Only in builds with the `test-hooks` cargo feature; otherwise returns
/// `IDAAS_CODE_UNSUPPORTED`.
#[no_mangle]
pub unsafe extern "C" fn idaas_debug_panic(err_out: *mut *mut idaas_error) -> idaas_code {
    guard(err_out, || {
        #[cfg(feature = "test-hooks")]
        {
            panic!("idaas_debug_panic called (test-hooks build)");
        }
        #[cfg(not(feature = "test-hooks"))]
        {
            Err(FfiError::new(
                idaas_code::Unsupported,
                "idaas_debug_panic is only available in builds with the `test-hooks` feature",
            ))
        }
    })
}

/// Callback user data crossing threads: the C contract says it may be used from any thread.
#[derive(Clone, Copy)]
pub(crate) struct UserData(pub(crate) *mut c_void);

// SAFETY: the header documents that user_data pointers given to the library must be usable from any
// thread; the library never dereferences them, it only hands them back to the caller's callback.
unsafe impl Send for UserData {}
// SAFETY: as above.
unsafe impl Sync for UserData {}

/// Releases a callback's `user_data` when the library no longer needs it (NULL: nothing to do).
/// Called once, from any thread, after the last call of the callback has returned.
pub type idaas_free_callback = Option<unsafe extern "C" fn(user_data: *mut c_void)>;

/// Callback user data the library holds until it calls the caller's `free_user_data` on it, when the
/// last handle using the callback is gone.
pub(crate) struct HeldUserData {
    pub(crate) ptr: UserData,
    free: idaas_free_callback,
}

impl HeldUserData {
    pub(crate) fn new(ptr: *mut c_void, free: idaas_free_callback) -> Self {
        HeldUserData {
            ptr: UserData(ptr),
            free,
        }
    }
}

impl Drop for HeldUserData {
    fn drop(&mut self) {
        if let Some(free) = self.free {
            let ptr = self.ptr;
            let _ = catch_unwind(AssertUnwindSafe(move || {
                // SAFETY: the caller gave `free` for this `user_data` (header contract) and the
                // library calls it exactly once, here, after its last use of the pointer.
                unsafe { free(ptr.0) }
            }));
        }
    }
}

/// Parses an optional `options_json` argument into `T`: NULL, "" or "{}" give `T::default()`;
/// malformed JSON, a wrong type or an unknown key is `IDAAS_CODE_INVALID_ARGUMENT` naming the problem.
///
/// # Safety
/// `p` must be NULL or a NUL-terminated string valid for the call.
pub(crate) unsafe fn options_arg<T>(p: *const c_char, name: &str) -> Result<T, FfiError>
where
    T: serde::de::DeserializeOwned + Default,
{
    // SAFETY: forwarded contract.
    let Some(text) = (unsafe { opt_str_arg(p, name) })? else {
        return Ok(T::default());
    };
    if text.trim().is_empty() {
        return Ok(T::default());
    }
    serde_json::from_str(text)
        .map_err(|e| FfiError::invalid(format!("argument `{name}` is not valid: {e}")))
}
