//! OIDC token from a file, for `OIDC` + `KUBERNETES` (core.md §6.1).
//!
//! Path (resolved once, when the source is created): `oidcTokenFilePath` if non-empty, else the
//! value of the env var named by `oidcTokenFilePathEnvVarName` if non-empty, else
//! `/var/run/secrets/kubernetes.io/serviceaccount/token`.
//!
//! Decision D-14: trailing ASCII whitespace (the usual final newline) is stripped. The file has its
//! own tiny cache: it is re-read when nothing is cached, when the token's `exp` (read from the JWT
//! payload without verification) is unknown, or when `exp − now < 600 s`.
//!
//! Every read (also each re-read at refresh) goes through `fsread`: the path must be a regular file
//! of at most 1 MiB, so a FIFO or a device put there fails with `OidcTokenReadFailed` at once.

use crate::clock::SharedClock;
use crate::config::AuthnConfig;
use crate::error::{Error, ErrorKind, Result};
use crate::secret::SecretString;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The Kubernetes default service-account token path.
pub const DEFAULT_OIDC_TOKEN_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";
/// Re-read the file when the cached token expires within this many seconds.
pub const OIDC_REREAD_MARGIN_SECS: u64 = 600;

/// Reads (and briefly caches) an OIDC token file. `Debug` shows the path only.
pub struct OidcFileSource {
    path: PathBuf,
    clock: SharedClock,
    cached: Mutex<Option<(SecretString, Option<u64>)>>,
}

impl std::fmt::Debug for OidcFileSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcFileSource")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl OidcFileSource {
    /// A source reading `path`.
    pub fn new(path: impl Into<PathBuf>, clock: SharedClock) -> Self {
        OidcFileSource {
            path: path.into(),
            clock,
            cached: Mutex::new(None),
        }
    }

    /// Resolve the path from the configuration (module docs).
    pub fn from_config(authn: &AuthnConfig, clock: SharedClock) -> Self {
        let path = authn
            .oidc_token_file_path
            .as_deref()
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                authn
                    .oidc_token_file_path_env_var_name
                    .as_deref()
                    .filter(|n| !n.is_empty())
                    .and_then(|n| std::env::var(n).ok())
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from)
            })
            .unwrap_or_else(|| PathBuf::from(DEFAULT_OIDC_TOKEN_PATH));
        Self::new(path, clock)
    }

    /// The file path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The current OIDC token (re-reading the file as needed).
    pub fn token(&self) -> Result<SecretString> {
        let now = self.clock.now_secs();
        let mut guard = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((tok, Some(exp))) = guard.as_ref() {
            if *exp > now + OIDC_REREAD_MARGIN_SECS {
                return Ok(tok.clone());
            }
        }
        // Regular file, at most 1 MiB (src/fsread.rs): a FIFO or a device here fails at once
        // instead of blocking every refresh. The buffer holds a secret: wiped on every path.
        let bytes = crate::fsread::read_regular_file(
            &self.path,
            "OIDC token file (authnConfiguration.oidcTokenFilePath)",
        )
        .map_err(|e| {
            let what = if e.is_not_found() {
                format!("File does not exist: {}", self.path.display())
            } else {
                e.to_string()
            };
            Error::new(
                ErrorKind::Credential,
                "OidcTokenReadFailed",
                format!("Failed to read or parse OIDC token: {what}"),
            )
        })?;
        let mut text = String::from_utf8(bytes).map_err(|e| {
            crate::secret::wipe_bytes(e.into_bytes());
            Error::new(
                ErrorKind::Credential,
                "OidcTokenReadFailed",
                format!(
                    "Failed to read or parse OIDC token: file {} is not valid UTF-8",
                    self.path.display()
                ),
            )
        })?;
        // Trim in place: no second, unwiped copy of the token.
        text.truncate(text.trim_end().len());
        let tok = SecretString::new(text);
        if tok.is_empty() {
            return Err(Error::new(
                ErrorKind::Credential,
                "OidcTokenReadFailed",
                format!(
                    "Failed to read or parse OIDC token: file {} is empty",
                    self.path.display()
                ),
            ));
        }
        let exp = super::jwt::decode_payload_unverified(tok.expose())
            .and_then(|c| c.get("exp").and_then(|v| v.as_u64()));
        *guard = Some((tok.clone(), exp));
        Ok(tok)
    }
}
