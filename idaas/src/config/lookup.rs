//! Where the configuration file is (core.md §2.1) and how it is read.
//!
//! [`Config::load`] takes the first of: the explicit path, the environment variable
//! `CLOUD_IDAAS_CONFIG_PATH` (ignored when unset or blank), `~/.cloud_idaas/client-config.json`.
//! A leading `~` is expanded in every path; relative paths are relative to the working directory.
//! When the default file is missing but `~/.cloud_idaas/client_config.json` (the spelling of the
//! PAM SDK's README, which no SDK reads) exists, the error says so.
//!
//! # File permissions
//! The file names environment variables, never secrets, so it need not be private; but whoever can
//! write it can point the token endpoint (and the client secret sent to it) elsewhere. On Unix a
//! warning is logged when the file is writable by group or others (mode & 0o022); nothing is
//! refused.

use super::model::Config;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// Environment variable naming the config file (core.md §2.1 rule 3).
pub const CONFIG_PATH_ENV: &str = "CLOUD_IDAAS_CONFIG_PATH";
/// Default config file, relative to the home directory (core.md §2.1 rule 4).
pub const DEFAULT_CONFIG_RELATIVE: &str = ".cloud_idaas/client-config.json";
/// The default file's spelling in the PAM SDK's README (with an underscore), which no SDK reads;
/// [`Config::load`] names it in its error when it exists.
const MISSPELLED_CONFIG_RELATIVE: &str = ".cloud_idaas/client_config.json";

impl Config {
    /// Locate, read, parse, validate and normalise the configuration (core.md §2.1): `explicit`, else
    /// `CLOUD_IDAAS_CONFIG_PATH`, else `~/.cloud_idaas/client-config.json`.
    pub fn load(explicit: Option<&Path>) -> Result<Config> {
        if let Some(p) = explicit {
            if !p.as_os_str().is_empty() {
                return from_path_with_hint(&expand_tilde(p), true);
            }
        }
        if let Ok(v) = std::env::var(CONFIG_PATH_ENV) {
            if !v.trim().is_empty() {
                return from_path_with_hint(&expand_tilde(Path::new(&v)), true);
            }
        }
        let home = home_dir().ok_or_else(|| {
            Error::config(
                "LoadConfigFileFailed",
                format!(
                    "IDaaS config not specified: no explicit path, {CONFIG_PATH_ENV} is not set and the home directory is unknown"
                ),
            )
        })?;
        let path = home.join(DEFAULT_CONFIG_RELATIVE);
        if !path.exists() {
            let mut msg = format!(
                "IDaaS config not specified: {} does not exist; pass a path or set {CONFIG_PATH_ENV}",
                path.display()
            );
            // The PAM SDK's README spells the file with an underscore; the SDKs read the hyphen.
            let underscore = home.join(MISSPELLED_CONFIG_RELATIVE);
            if underscore.exists() {
                msg.push_str(&format!(
                    ". Found {} instead: the file must be named client-config.json (with a hyphen); rename it",
                    underscore.display()
                ));
            }
            return Err(Error::config("LoadConfigFileFailed", msg));
        }
        from_path_with_hint(&path, false)
    }

    /// Read, parse, validate and normalise the file at `path`.
    pub fn from_path(path: &Path) -> Result<Config> {
        from_path_with_hint(&expand_tilde(path), true)
    }
}

/// Read the file at `path` (already expanded); `hint`: a missing file's error suggests
/// `CLOUD_IDAAS_CONFIG_PATH` (not when the default file was the last resort).
fn from_path_with_hint(path: &Path, hint: bool) -> Result<Config> {
    // Regular files only, at most 1 MiB (src/fsread.rs): `/dev/zero` or a FIFO fails at once.
    let text = match crate::fsread::read_regular_file(path, "IDaaS config file") {
        Ok(bytes) => String::from_utf8(bytes).map_err(|_| {
            Error::config(
                "LoadConfigFileFailed",
                format!("IDaaS config file {} is not valid UTF-8", path.display()),
            )
        })?,
        Err(e) if e.is_not_found() => {
            let mut msg = format!("IDaaS config file not found at path: {}.", path.display());
            if hint {
                msg.push_str(&format!(
                    " Please ensure the config file exists or set the environment variable {CONFIG_PATH_ENV} to specify the config path."
                ));
            }
            return Err(Error::config("LoadConfigFileFailed", msg).with_source(e));
        }
        Err(e) => return Err(Error::config("LoadConfigFileFailed", e.to_string()).with_source(e)),
    };
    let warning = writable_by_others_warning(path);
    let mut cfg = super::from_text(&text, Some(path))?;
    cfg.source = Some(path.to_path_buf());
    if let Some(w) = warning {
        crate::diag::event!(Warn, "{w}");
        cfg.load_warnings.push(w);
    }
    Ok(cfg)
}

fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// Expand a leading `~` (alone or followed by `/`) to the home directory.
pub fn expand_tilde(p: &Path) -> PathBuf {
    let s = p.to_string_lossy();
    if s == "~" {
        return home_dir().unwrap_or_else(|| p.to_path_buf());
    }
    if let Some(rest) = s.strip_prefix("~/") {
        if let Some(h) = home_dir() {
            return h.join(rest);
        }
    }
    p.to_path_buf()
}

#[cfg(unix)]
fn writable_by_others_warning(path: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (mode & 0o022 != 0).then(|| {
        format!(
            "IDaaS config file {} is writable by group or others (mode {:o}); anyone who can change it can redirect the token endpoint. Consider chmod 600.",
            path.display(),
            mode & 0o777
        )
    })
}

#[cfg(not(unix))]
fn writable_by_others_warning(_path: &Path) -> Option<String> {
    None
}
