//! PLUGIN authentication at the C ABI (decision D-17): a named callback, added to a configuration
//! with `idaas_config_add_plugin`, that produces tokens.

use std::ffi::{c_char, c_void};

use idaas_core::Credential;
use idaas_core::Error;
use idaas_core::SecretString;
use idaas_core::TokenPlugin;

use super::error::lossy_cstring;
use super::{
    guard, handle_mut, idaas_code, idaas_error, str_arg, FfiError, Handle, HeldUserData,
    LentByLibrary,
};

/// The result slot a plugin callback fills: call `idaas_plugin_result_set_token` (success) or
/// `idaas_plugin_result_set_error` (failure) on it. Owned by the library and valid only during the
/// callback; the strings passed to the setters are copied.
pub struct idaas_plugin_result {
    token: Option<SecretString>,
    expires_in: u64,
    error: Option<String>,
}

impl Handle for idaas_plugin_result {
    type Ownership = LentByLibrary;
}

/// A token plugin callback: produce a token for `scope` (the scope string verbatim, already
/// validated) and store it with `idaas_plugin_result_set_token(result, token, expires_in_secs)`.
/// Return 0 on success; any other value is a failure (`IDAAS_CODE_CREDENTIAL`, server code
/// `PluginFailed`, with the message from `idaas_plugin_result_set_error` if given). Called when the
/// client needs a new token (first use, refresh ahead of expiry), from any thread, possibly
/// concurrently for different scopes; blocking inside it is fine. It must not unwind. Asking the
/// client that invoked it for a token of the same scope fails at once with
/// `IDAAS_CODE_REENTRANT_CALL` (its cache is waiting for this very result); from another thread
/// such a call would wait, and gives up with `IDAAS_CODE_TIMEOUT` after twice the call budget.
pub type idaas_plugin_callback = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        scope: *const c_char,
        result: *mut idaas_plugin_result,
    ) -> i32,
>;

/// A plugin callback given to `idaas_config_add_plugin`, as the core's [`TokenPlugin`].
pub(crate) struct FfiPlugin {
    name: String,
    callback: unsafe extern "C" fn(*mut c_void, *const c_char, *mut idaas_plugin_result) -> i32,
    /// Released (through the caller's `free_user_data`) with the last handle using the plugin.
    user_data: HeldUserData,
}

impl FfiPlugin {
    pub(crate) fn new(
        name: &str,
        callback: unsafe extern "C" fn(*mut c_void, *const c_char, *mut idaas_plugin_result) -> i32,
        user_data: HeldUserData,
    ) -> Self {
        FfiPlugin {
            name: name.to_owned(),
            callback,
            user_data,
        }
    }
}

impl TokenPlugin for FfiPlugin {
    fn fetch_token(&self, scope: &str) -> idaas_core::Result<Credential> {
        let scope_c = lossy_cstring(scope.to_owned());
        let mut result = idaas_plugin_result {
            token: None,
            expires_in: 0,
            error: None,
        };
        // SAFETY: the callback and user data were given to `idaas_config_add_plugin`, whose
        // contract makes them callable from any thread while the library holds them; `scope_c` and
        // `result` outlive the call.
        let rc = unsafe { (self.callback)(self.user_data.ptr.0, scope_c.as_ptr(), &mut result) };
        let name = &self.name;
        if rc != 0 {
            let msg = result
                .error
                .unwrap_or_else(|| format!("plugin callback returned {rc}"));
            return Err(Error::credential(
                "PluginFailed",
                format!("plugin {name} failed: {msg}"),
            ));
        }
        let Some(token) = result.token else {
            return Err(Error::credential(
                "PluginFailed",
                format!("plugin {name} returned 0 without calling idaas_plugin_result_set_token"),
            ));
        };
        // The core turns `expires_in` into an expiry (and refuses an unusable token).
        Ok(Credential {
            access_token: token,
            token_type: "Bearer".to_owned(),
            expires_in: result.expires_in,
            ..Credential::default()
        })
    }
}

/// Called by a plugin callback: the token for the requested scope (copied) and its lifetime in
/// seconds (`expires_in_secs` > 0: the token is cached and refreshed ahead of expiry like a
/// token-endpoint reply; 0: unknown lifetime, not cached — the plugin is called on every use).
/// Errors: `IDAAS_CODE_NULL_ARGUMENT`, `IDAAS_CODE_INVALID_UTF8`, `IDAAS_CODE_INVALID_ARGUMENT`
/// (blank token).
#[no_mangle]
pub unsafe extern "C" fn idaas_plugin_result_set_token(
    result: *mut idaas_plugin_result,
    token: *const c_char,
    expires_in_secs: u64,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    guard(err_out, || {
        // SAFETY: `result` is NULL or the live result lent to the running callback (contract).
        let result = unsafe { handle_mut(result, "result") }?;
        // SAFETY: NULL or a NUL-terminated string (header contract).
        let token = unsafe { str_arg(token, "token") }?;
        if token.trim().is_empty() {
            return Err(FfiError::invalid("token is blank"));
        }
        result.token = Some(SecretString::from(token));
        result.expires_in = expires_in_secs;
        Ok(())
    })
}

/// Called by a plugin callback before returning non-zero: a message (copied; no secrets) for the
/// error the client reports. Errors: `IDAAS_CODE_NULL_ARGUMENT`, `IDAAS_CODE_INVALID_UTF8`.
#[no_mangle]
pub unsafe extern "C" fn idaas_plugin_result_set_error(
    result: *mut idaas_plugin_result,
    message: *const c_char,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    guard(err_out, || {
        // SAFETY: `result` is NULL or the live result lent to the running callback (contract).
        let result = unsafe { handle_mut(result, "result") }?;
        // SAFETY: NULL or a NUL-terminated string (header contract).
        let message = unsafe { str_arg(message, "message") }?;
        result.error = Some(message.to_owned());
        Ok(())
    })
}
