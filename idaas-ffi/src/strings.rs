//! Strings across the boundary: borrowed NUL-terminated UTF-8 inputs, `malloc`ed outputs freed by
//! [`idaas_string_free`] (which zeroes them first), and the copy into a caller buffer.

use std::ffi::{c_char, c_void, CStr};
use std::ptr;

use super::{idaas_code, FfiError};

/// A required string argument: NULL → `NULL_ARGUMENT`, invalid UTF-8 → `INVALID_UTF8`.
///
/// # Safety
/// `p` must be NULL or point to a NUL-terminated string that stays valid and unchanged during `'a`.
#[inline]
pub(crate) unsafe fn str_arg<'a>(p: *const c_char, name: &str) -> Result<&'a str, FfiError> {
    if p.is_null() {
        return Err(FfiError::null(name));
    }
    // SAFETY: non-NULL and NUL-terminated per the caller's contract.
    let bytes = unsafe { CStr::from_ptr(p) }.to_bytes();
    std::str::from_utf8(bytes).map_err(|_| {
        FfiError::new(
            idaas_code::InvalidUtf8,
            format!("argument `{name}` is not valid UTF-8"),
        )
    })
}

/// An optional (nullable) string argument.
///
/// # Safety
/// As [`str_arg`].
#[inline]
pub(crate) unsafe fn opt_str_arg<'a>(
    p: *const c_char,
    name: &str,
) -> Result<Option<&'a str>, FfiError> {
    if p.is_null() {
        Ok(None)
    } else {
        // SAFETY: forwarded contract.
        unsafe { str_arg(p, name) }.map(Some)
    }
}

/// True when `bytes` contains a NUL byte (glibc's vectorised `memchr`).
#[inline(always)]
pub(crate) fn has_nul(bytes: &[u8]) -> bool {
    // SAFETY: `bytes` is a valid slice of `bytes.len()` readable bytes.
    !unsafe { libc::memchr(bytes.as_ptr().cast(), 0, bytes.len()) }.is_null()
}

/// A `malloc`ed NUL-terminated copy of `s`, to be freed with [`idaas_string_free`]. A value holding a
/// NUL byte is refused (it would be silently truncated in C): tokens and JSON never contain one.
#[inline]
pub(crate) fn alloc_string(s: &str) -> Result<*mut c_char, FfiError> {
    if has_nul(s.as_bytes()) {
        return Err(nul_error());
    }
    alloc_string_prechecked(s)
}

/// The error for a value holding a NUL byte.
#[cold]
pub(crate) fn nul_error() -> FfiError {
    FfiError::new(
        idaas_code::UnexpectedResponse,
        "the value contains a NUL byte and cannot be returned as a C string",
    )
}

/// [`alloc_string`] for a value already known to hold no NUL byte (a NUL would only truncate the C
/// string: the copy is always terminated within its allocation).
#[inline]
pub(crate) fn alloc_string_prechecked(s: &str) -> Result<*mut c_char, FfiError> {
    let bytes = s.as_bytes();
    // SAFETY: malloc with a non-zero size; the result is checked for NULL before use.
    let p = unsafe { libc::malloc(bytes.len() + 1) }.cast::<u8>();
    if p.is_null() {
        return Err(FfiError::new(idaas_code::Internal, "out of memory"));
    }
    // SAFETY: `p` has room for len + 1 bytes and does not overlap `bytes`.
    unsafe {
        ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len());
        *p.add(bytes.len()) = 0;
    }
    Ok(p.cast())
}

/// Stores a `malloc`ed copy of `s` in `*out`.
///
/// # Safety
/// `out` must be non-NULL and writable (checked earlier with `out_arg`).
#[inline]
pub(crate) unsafe fn put_string(out: *mut *mut c_char, s: &str) -> Result<(), FfiError> {
    let p = alloc_string(s)?;
    // SAFETY: guaranteed by the caller.
    unsafe { *out = p };
    Ok(())
}

/// Stores a `malloc`ed copy of `s`, or NULL for `None`, in `*out`.
///
/// # Safety
/// As [`put_string`].
pub(crate) unsafe fn put_opt_string(
    out: *mut *mut c_char,
    s: Option<&str>,
) -> Result<(), FfiError> {
    match s {
        // SAFETY: forwarded contract.
        Some(s) => unsafe { put_string(out, s) },
        None => {
            // SAFETY: guaranteed by the caller.
            unsafe { *out = ptr::null_mut() };
            Ok(())
        }
    }
}

/// Copies `s` and a terminating NUL into the caller's buffer `buf` of `cap` bytes and stores the length
/// (without the NUL) in `*len_out`. When `cap < len + 1`, stores the required size `len + 1` in
/// `*len_out` and fails with `BUFFER_TOO_SMALL` (nothing is written to `buf`).
///
/// # Safety
/// `buf` must be NULL with `cap == 0`, or writable for `cap` bytes; `len_out` non-NULL and writable.
#[inline]
pub(crate) unsafe fn copy_into(
    s: &str,
    buf: *mut c_char,
    cap: usize,
    len_out: *mut usize,
) -> Result<(), FfiError> {
    if has_nul(s.as_bytes()) {
        return Err(nul_error());
    }
    // SAFETY: forwarded contract.
    unsafe { copy_into_prechecked(s, buf, cap, len_out) }
}

/// Shared tail of the `*_get_token_versioned` functions: nothing to do when `version == known`
/// (and not 0), else [`copy_into`] and store `version`.
///
/// # Safety
/// As [`copy_into`]; `version_inout` non-NULL and writable.
#[inline]
pub(crate) unsafe fn copy_if_changed(
    token: &str,
    version: u64,
    known: u64,
    buf: *mut c_char,
    cap: usize,
    len_out: *mut usize,
    version_inout: *mut u64,
) -> Result<(), FfiError> {
    if version != 0 && version == known {
        // SAFETY: non-NULL and writable (caller's contract).
        unsafe { *len_out = 0 };
        return Ok(());
    }
    // SAFETY: forwarded contract.
    unsafe { copy_into(token, buf, cap, len_out) }?;
    // SAFETY: non-NULL and writable (caller's contract).
    unsafe { *version_inout = version };
    Ok(())
}

/// [`copy_into`] for a value already known to hold no NUL byte.
///
/// # Safety
/// As [`copy_into`].
#[inline]
pub(crate) unsafe fn copy_into_prechecked(
    s: &str,
    buf: *mut c_char,
    cap: usize,
    len_out: *mut usize,
) -> Result<(), FfiError> {
    let bytes = s.as_bytes();
    let needed = bytes.len() + 1;
    if cap < needed || buf.is_null() {
        // SAFETY: `len_out` is non-NULL and writable (caller's contract).
        unsafe { *len_out = needed };
        return Err(FfiError::new(
            idaas_code::BufferTooSmall,
            format!("buffer too small: {needed} bytes needed, {cap} given"),
        ));
    }
    // SAFETY: `buf` is writable for `cap >= len + 1` bytes and cannot overlap our string.
    unsafe {
        ptr::copy_nonoverlapping(bytes.as_ptr(), buf.cast::<u8>(), bytes.len());
        *buf.add(bytes.len()) = 0;
        *len_out = bytes.len();
    }
    Ok(())
}

/// Overwrites `len` bytes at `p` with zeros in a way the optimiser cannot remove.
///
/// # Safety
/// `p` must be writable for `len` bytes.
#[inline]
pub(crate) unsafe fn secure_zero(p: *mut u8, len: usize) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: guaranteed by the caller.
        unsafe { libc::explicit_bzero(p.cast::<c_void>(), len) };
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        for i in 0..len {
            // SAFETY: guaranteed by the caller; volatile so the stores are not elided.
            unsafe { ptr::write_volatile(p.add(i), 0) };
        }
        std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
    }
}

/// Frees a string returned by this library (tokens, JSON results, API keys ...), zeroing its bytes
/// first. Use it for every `char *` the library gives you, and for nothing else (never `free()` them).
/// `idaas_string_free(NULL)` is a no-op.
#[no_mangle]
pub unsafe extern "C" fn idaas_string_free(s: *mut c_char) {
    if s.is_null() {
        return;
    }
    // SAFETY: a non-NULL `s` is a NUL-terminated buffer `malloc`ed by `alloc_string` (contract), so
    // `strlen` stays inside it, zeroing `strlen` bytes is in bounds, and `free` matches `malloc`.
    unsafe {
        let len = libc::strlen(s);
        secure_zero(s.cast::<u8>(), len);
        libc::free(s.cast::<c_void>());
    }
}

/// Overwrites `len` bytes at `buf` with zeros (not optimised away): use it to wipe a buffer filled by
/// an `_into` function once the secret in it is no longer needed. `buf` may be NULL when `len` is 0.
#[no_mangle]
pub unsafe extern "C" fn idaas_buffer_wipe(buf: *mut c_void, len: usize) {
    if buf.is_null() || len == 0 {
        return;
    }
    // SAFETY: the caller guarantees `buf` is writable for `len` bytes.
    unsafe { secure_zero(buf.cast::<u8>(), len) };
}
