//! `idaas_config`: a validated configuration and the callbacks that clients made from it use — token
//! plugins and a log callback — so that every callback belongs to a handle and goes away with it.

use std::collections::HashMap;
use std::ffi::{c_char, c_void};
use std::path::Path;
use std::sync::Arc;

use idaas_core::{Config, LogSink, SharedPlugin};

use super::log::{idaas_log_callback, level_filter, CallbackSink};
use super::plugin::{idaas_plugin_callback, FfiPlugin};
use super::{
    free_guarded, guard, handle, handle_mut, idaas_code, idaas_error, idaas_free_callback,
    opt_str_arg, out_arg, put_handle, str_arg, FfiError, Handle, HeldUserData, OwnedByCaller,
};

/// A validated configuration (the JSON of the IDaaS `client-config.json`) plus the token plugins
/// and log callback of the clients made from it. Create clients with `idaas_client_new`; free with
/// `idaas_config_free` (clients made from it stay valid and keep their callbacks). Functions that
/// change it (`idaas_config_add_plugin`, `idaas_config_set_logger`) must not race with other calls
/// on it.
pub struct idaas_config {
    pub(crate) inner: Config,
    pub(crate) plugins: HashMap<String, SharedPlugin>,
    pub(crate) log_sink: Option<Arc<dyn LogSink>>,
}

impl Handle for idaas_config {
    type Ownership = OwnedByCaller;
}

impl idaas_config {
    fn new(inner: Config) -> Self {
        idaas_config {
            inner,
            plugins: HashMap::new(),
            log_sink: None,
        }
    }
}

/// Loads the configuration the way the reference SDKs' `init()` does: the file at `path` when it is
/// not NULL (a leading `~` is expanded), else the file named by the environment variable
/// `CLOUD_IDAAS_CONFIG_PATH` (when set and not blank), else `~/.cloud_idaas/client-config.json`.
/// The file must be a regular file of at most 1 MiB. Errors: `IDAAS_CODE_CONFIG`
/// (`LoadConfigFileFailed`: no file, unreadable, not a regular file; invalid content: the catalogue
/// code of the failed check, e.g. `ClientIdNotFound`, `InvalidScope`).
#[no_mangle]
pub unsafe extern "C" fn idaas_config_load(
    path: *const c_char,
    config_out: *mut *mut idaas_config,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    guard(err_out, || {
        // SAFETY: `path` is NULL or a NUL-terminated string (header contract).
        let path = unsafe { opt_str_arg(path, "path") }?;
        out_arg(config_out, "config_out")?;
        let inner = Config::load(path.map(Path::new))?;
        // SAFETY: `config_out` checked non-NULL above.
        unsafe { put_handle(config_out, idaas_config::new(inner)) };
        Ok(())
    })
}

/// Parses, validates and normalises configuration JSON text (the content of a `client-config.json`:
/// camelCase keys, snake_case aliases accepted). Errors: `IDAAS_CODE_CONFIG`.
#[no_mangle]
pub unsafe extern "C" fn idaas_config_from_json(
    json: *const c_char,
    config_out: *mut *mut idaas_config,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    guard(err_out, || {
        // SAFETY: `json` is NULL or a NUL-terminated string (header contract).
        let json = unsafe { str_arg(json, "json") }?;
        out_arg(config_out, "config_out")?;
        let inner = Config::from_json_str(json)?;
        // SAFETY: `config_out` checked non-NULL above.
        unsafe { put_handle(config_out, idaas_config::new(inner)) };
        Ok(())
    })
}

/// Adds the token plugin `name` for clients made from this configuration afterwards: a
/// configuration with `"authnMethod": "PLUGIN", "pluginName": name` gets its tokens from `callback`
/// (see `idaas_plugin_callback`). Adding a name again replaces it for later clients. `user_data` is
/// handed back to every call; when neither this configuration nor any client made from it needs
/// the plugin any more, `free_user_data(user_data)` is called once (when not NULL). PLUGIN clients
/// cannot do token exchange. Without a plugin added under it, the name
/// `alibabacloudPluginCredentialProvider` selects the built-in Alibaba Cloud plugin: the
/// configuration needs `openApiEndpoint`, and the key comes from the Alibaba Cloud credential chain
/// (`ALIBABA_CLOUD_*` environment variables, profile files, ECS RAM role ..., read when the client
/// is made); adding a plugin under that name replaces it. Errors: `IDAAS_CODE_NULL_ARGUMENT`, `IDAAS_CODE_INVALID_UTF8`,
/// `IDAAS_CODE_INVALID_ARGUMENT` (blank name). On error `free_user_data` is not called.
#[no_mangle]
pub unsafe extern "C" fn idaas_config_add_plugin(
    config: *mut idaas_config,
    name: *const c_char,
    callback: idaas_plugin_callback,
    user_data: *mut c_void,
    free_user_data: idaas_free_callback,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    guard(err_out, || {
        // SAFETY: `config` is NULL or a live config handle not used concurrently (header contract).
        let config = unsafe { handle_mut(config, "config") }?;
        // SAFETY: NULL or a NUL-terminated string (header contract).
        let name = unsafe { str_arg(name, "name") }?;
        let callback = callback.ok_or_else(|| FfiError::null("callback"))?;
        if name.trim().is_empty() {
            return Err(FfiError::invalid("plugin name is blank"));
        }
        let plugin = FfiPlugin::new(name, callback, HeldUserData::new(user_data, free_user_data));
        config.plugins.insert(name.to_owned(), Arc::new(plugin));
        Ok(())
    })
}

/// Sends the log records of the clients made from this configuration afterwards (and of the PAM
/// clients, providers and caches made from them) to `callback` instead of the process-wide
/// callback of `idaas_log_set_callback`. `max_level` is the most verbose level delivered
/// (`IDAAS_LOG_LEVEL_OFF` .. `IDAAS_LOG_LEVEL_TRACE`). A NULL `callback` removes the logger for
/// later clients (`user_data` and `free_user_data` are then ignored). The callback may run on any thread, also the library's refresh thread, and may
/// call back into the library. `free_user_data(user_data)` is called once when neither this
/// configuration nor any client made from it needs the logger any more. Records of the HTTP stack
/// are not per client: they go to the process-wide callback only. Errors:
/// `IDAAS_CODE_NULL_ARGUMENT`, `IDAAS_CODE_INVALID_ARGUMENT` (`max_level` above TRACE); on error
/// `free_user_data` is not called.
#[no_mangle]
pub unsafe extern "C" fn idaas_config_set_logger(
    config: *mut idaas_config,
    callback: idaas_log_callback,
    user_data: *mut c_void,
    max_level: u32,
    free_user_data: idaas_free_callback,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    guard(err_out, || {
        // SAFETY: `config` is NULL or a live config handle not used concurrently (header contract).
        let config = unsafe { handle_mut(config, "config") }?;
        let filter = level_filter(max_level)?;
        config.log_sink = match callback {
            // Nothing to hold: `user_data` and `free_user_data` are ignored.
            None => None,
            Some(cb) => Some(Arc::new(CallbackSink::new(
                cb,
                HeldUserData::new(user_data, free_user_data),
                filter,
            ))),
        };
        Ok(())
    })
}

/// Frees a configuration. Clients created from it are not affected. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn idaas_config_free(config: *mut idaas_config) {
    free_guarded(config);
}

/// Borrow a config handle (helper for other modules).
///
/// # Safety
/// As [`handle`].
pub(crate) unsafe fn config_ref<'a>(
    p: *const idaas_config,
    name: &str,
) -> Result<&'a idaas_config, FfiError> {
    // SAFETY: forwarded contract.
    unsafe { handle(p, name) }
}
