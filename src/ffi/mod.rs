//! The C ABI (`include/idaas.h`): the only module of the crate with `unsafe` code and `extern "C"`
//! functions. Go (cgo), Java (JNI) and Node (N-API) bindings wrap exactly this ABI.
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
#![allow(clippy::missing_safety_doc)]
#![deny(unsafe_op_in_unsafe_fn)]
#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

// Declaration order = order in the generated header.
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

/// A borrowed handle argument; NULL → `IDAAS_CODE_NULL_ARGUMENT`.
///
/// # Safety
/// `p` must be NULL or point to a live `T` created by this library, not freed during `'a`.
#[inline(always)]
pub(crate) unsafe fn handle<'a, T>(p: *const T, name: &str) -> Result<&'a T, FfiError> {
    // SAFETY: guaranteed by the caller (see above).
    unsafe { p.as_ref() }.ok_or_else(|| FfiError::null(name))
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

/// Moves `value` into a new heap handle and stores its pointer in `*out`.
///
/// # Safety
/// `out` must be a non-NULL, writable pointer (checked earlier with [`out_arg`]).
pub(crate) unsafe fn put_handle<T>(out: *mut *mut T, value: T) {
    // SAFETY: guaranteed by the caller.
    unsafe { *out = Box::into_raw(Box::new(value)) };
}

/// Drops a handle created by [`put_handle`]; NULL is a no-op.
///
/// # Safety
/// `p` must be NULL or a pointer from [`put_handle`] of the same `T`, freed only once.
pub(crate) unsafe fn free_handle<T>(p: *mut T) {
    if !p.is_null() {
        // SAFETY: guaranteed by the caller.
        drop(unsafe { Box::from_raw(p) });
    }
}

/// Frees a handle inside `catch_unwind` (a panicking `Drop` must not unwind into C).
pub(crate) fn free_guarded<T>(p: *mut T) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the exported `_free` functions forward their argument, which by contract is NULL or a
        // live handle of type `T` freed exactly once.
        unsafe { free_handle(p) }
    }));
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
