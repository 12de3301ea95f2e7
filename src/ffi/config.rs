//! `idaas_config`: a parsed, validated and normalised configuration.

use std::ffi::c_char;
use std::path::Path;

use crate::config::Config;

use super::{free_guarded, guard, handle, idaas_code, idaas_error, out_arg, put_handle, str_arg};

/// A validated configuration (the JSON of the IDaaS `client-config.json`). Immutable; create clients
/// from it with `idaas_client_new`. Free with `idaas_config_free` (clients made from it stay valid).
pub struct idaas_config {
    pub(crate) inner: Config,
}

/// Reads, parses, validates and normalises the configuration file at `path` (a leading `~` is
/// expanded). Errors: `IDAAS_CODE_CONFIG` (file missing or unreadable: server code
/// `LoadConfigFileFailed`; invalid content: the catalogue code of the failed check, e.g.
/// `ClientIdNotFound`, `InvalidScope`).
#[no_mangle]
pub unsafe extern "C" fn idaas_config_from_file(
    path: *const c_char,
    config_out: *mut *mut idaas_config,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    guard(err_out, || {
        // SAFETY: `path` is NULL or a NUL-terminated string (header contract).
        let path = unsafe { str_arg(path, "path") }?;
        out_arg(config_out, "config_out")?;
        let inner = Config::from_path(Path::new(path))?;
        // SAFETY: `config_out` checked non-NULL above.
        unsafe { put_handle(config_out, idaas_config { inner }) };
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
        unsafe { put_handle(config_out, idaas_config { inner }) };
        Ok(())
    })
}

/// Loads the configuration the way the reference SDKs' `init()` does: the file named by the
/// environment variable `CLOUD_IDAAS_CONFIG_PATH` (when set and not blank), else
/// `~/.cloud_idaas/client-config.json`. Errors: `IDAAS_CODE_CONFIG` (`LoadConfigFileFailed` when no
/// file is found).
#[no_mangle]
pub unsafe extern "C" fn idaas_config_load_default(
    config_out: *mut *mut idaas_config,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    guard(err_out, || {
        out_arg(config_out, "config_out")?;
        let inner = Config::load(None)?;
        // SAFETY: `config_out` checked non-NULL above.
        unsafe { put_handle(config_out, idaas_config { inner }) };
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
) -> Result<&'a idaas_config, super::FfiError> {
    // SAFETY: forwarded contract.
    unsafe { handle(p, name) }
}
