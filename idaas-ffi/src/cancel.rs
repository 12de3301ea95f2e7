//! Cancellation tokens for blocking calls (the 3LO poll): cancelled from any thread, they wake a
//! sleeping poll at once.

use idaas_core::pam::CancelToken;

use super::{guard, idaas_code, idaas_error, out_arg, put_handle, Handle, OwnedByCaller};

/// A cancellation token. Create it with `idaas_cancel_new`, pass it (const) to a blocking call such as
/// `idaas_pam_poll_oauth_token`, and call `idaas_cancel_cancel` from any thread to make that call return
/// `IDAAS_CODE_CANCELLED` promptly. Once cancelled it stays cancelled; use a new token per operation.
/// Free it with `idaas_cancel_free` after the calls using it have returned.
pub struct idaas_cancel {
    pub(crate) token: CancelToken,
}

impl Handle for idaas_cancel {
    type Ownership = OwnedByCaller;
}

/// Creates a cancellation token (not cancelled). Free it with `idaas_cancel_free`.
#[no_mangle]
pub unsafe extern "C" fn idaas_cancel_new(
    cancel_out: *mut *mut idaas_cancel,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    guard(err_out, || {
        out_arg(cancel_out, "cancel_out")?;
        // SAFETY: `cancel_out` checked non-NULL above.
        unsafe {
            put_handle(
                cancel_out,
                idaas_cancel {
                    token: CancelToken::new(),
                },
            )
        };
        Ok(())
    })
}

/// Cancels: every call using `cancel` returns `IDAAS_CODE_CANCELLED` as soon as it notices (a sleeping
/// poll wakes at once; an HTTP request in flight is finished first). Thread-safe; idempotent; NULL is a
/// no-op.
#[no_mangle]
pub unsafe extern "C" fn idaas_cancel_cancel(cancel: *const idaas_cancel) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: `cancel` is NULL or a live token (contract).
        if let Some(c) = unsafe { cancel.as_ref() } {
            c.token.cancel();
        }
    }));
}

/// True once `idaas_cancel_cancel` was called on `cancel` (false for NULL).
#[no_mangle]
pub unsafe extern "C" fn idaas_cancel_is_cancelled(cancel: *const idaas_cancel) -> bool {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: `cancel` is NULL or a live token (contract).
        unsafe { cancel.as_ref() }.is_some_and(|c| c.token.is_cancelled())
    }))
    .unwrap_or(false)
}

/// Frees a cancellation token. It must not be in use by a running call. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn idaas_cancel_free(cancel: *mut idaas_cancel) {
    super::free_guarded(cancel);
}
