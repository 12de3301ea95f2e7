//! PLUGIN authentication at the C ABI (decision D-17): a named callback that produces tokens.

use std::collections::HashMap;
use std::ffi::{c_char, c_void};
use std::sync::{Arc, Mutex};

use crate::error::Error;
use crate::plugin::{SharedPlugin, TokenPlugin};
use crate::provider::Credential;
use crate::secret::SecretString;

use super::error::lossy_cstring;
use super::{guard, idaas_code, idaas_error, str_arg, FfiError, UserData};

/// The result slot a plugin callback fills: call `idaas_plugin_result_set_token` (success) or
/// `idaas_plugin_result_set_error` (failure) on it. Owned by the library and valid only during the
/// callback; the strings passed to the setters are copied.
pub struct idaas_plugin_result {
    token: Option<SecretString>,
    expires_in: u64,
    error: Option<String>,
}

/// A token plugin callback: produce a token for `scope` (the scope string verbatim, already
/// validated) and store it with `idaas_plugin_result_set_token(result, token, expires_in_secs)`.
/// Return 0 on success; any other value is a failure (`IDAAS_CODE_CREDENTIAL`, server code
/// `PluginFailed`, with the message from `idaas_plugin_result_set_error` if given). Called when the
/// client needs a new token (first use, refresh ahead of expiry), from any thread, possibly
/// concurrently for different scopes; blocking inside it is fine. It must not unwind, and must not
/// call back into the client that invoked it (its token cache is waiting for this result).
pub type idaas_plugin_callback = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        scope: *const c_char,
        result: *mut idaas_plugin_result,
    ) -> i32,
>;

struct FfiPlugin {
    name: String,
    callback: unsafe extern "C" fn(*mut c_void, *const c_char, *mut idaas_plugin_result) -> i32,
    user_data: UserData,
}

impl TokenPlugin for FfiPlugin {
    fn fetch_token(&self, scope: &str) -> crate::Result<Credential> {
        let scope_c = lossy_cstring(scope.to_owned());
        let mut result = idaas_plugin_result {
            token: None,
            expires_in: 0,
            error: None,
        };
        // SAFETY: the callback and user data were registered with `idaas_register_plugin`, whose
        // contract makes them callable from any thread for the life of the process; `scope_c` and
        // `result` outlive the call.
        let rc = unsafe { (self.callback)(self.user_data.0, scope_c.as_ptr(), &mut result) };
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
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Ok(Credential {
            access_token: token,
            token_type: "Bearer".to_owned(),
            expires_in: result.expires_in,
            expires_at: if result.expires_in > 0 {
                now + result.expires_in
            } else {
                0
            },
            ..Credential::default()
        })
    }
}

static PLUGINS: Mutex<Option<HashMap<String, SharedPlugin>>> = Mutex::new(None);

/// The plugins registered so far (cloned handles), for a new client.
pub(crate) fn registered_plugins() -> Vec<(String, SharedPlugin)> {
    let map = PLUGINS.lock().unwrap_or_else(|p| p.into_inner());
    map.as_ref().map_or_else(Vec::new, |m| {
        m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    })
}

/// Registers `callback` as the token plugin `name` for clients created afterwards whose configuration
/// says `"authnMethod": "PLUGIN", "pluginName": name`. Registering a name again replaces it for later
/// clients (existing clients keep the plugin they were built with). `user_data` is handed back to
/// every call; it must stay valid, and be usable from any thread, as long as any client created after
/// this call lives (in practice: for the life of the process). PLUGIN clients cannot do token exchange.
/// Errors: `IDAAS_CODE_NULL_ARGUMENT`, `IDAAS_CODE_INVALID_UTF8`, `IDAAS_CODE_INVALID_ARGUMENT` (blank
/// name).
#[no_mangle]
pub unsafe extern "C" fn idaas_register_plugin(
    name: *const c_char,
    callback: idaas_plugin_callback,
    user_data: *mut c_void,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    guard(err_out, || {
        // SAFETY: NULL or a NUL-terminated string (header contract).
        let name = unsafe { str_arg(name, "name") }?;
        let callback = callback.ok_or_else(|| FfiError::null("callback"))?;
        if name.trim().is_empty() {
            return Err(FfiError::invalid("plugin name is blank"));
        }
        let plugin: SharedPlugin = Arc::new(FfiPlugin {
            name: name.to_owned(),
            callback,
            user_data: UserData(user_data),
        });
        let mut map = PLUGINS.lock().unwrap_or_else(|p| p.into_inner());
        map.get_or_insert_with(HashMap::new)
            .insert(name.to_owned(), plugin);
        Ok(())
    })
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
        // SAFETY: `result` is NULL or the live result passed to the running callback (contract).
        let result = unsafe { result.as_mut() }.ok_or_else(|| FfiError::null("result"))?;
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
        // SAFETY: `result` is NULL or the live result passed to the running callback (contract).
        let result = unsafe { result.as_mut() }.ok_or_else(|| FfiError::null("result"))?;
        // SAFETY: NULL or a NUL-terminated string (header contract).
        let message = unsafe { str_arg(message, "message") }?;
        result.error = Some(message.to_owned());
        Ok(())
    })
}
