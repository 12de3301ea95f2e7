//! Secrets from environment variables (core.md §2.6).
//!
//! The file holds no secret: `clientSecretEnvVarName` / `privateKeyEnvVarName` name environment
//! variables. The client secret is read at every token request (rotation takes effect at the next
//! refresh); the private key is read once, when the client first needs it. Programmatic configs may
//! supply both directly through [`super::ConfigBuilder::client_secret_supplier`] /
//! [`super::ConfigBuilder::private_key_pem`].

use crate::error::{Error, ErrorKind, Result};
use crate::secret::SecretString;

/// Environment variable used for the client secret when a programmatic config names no source
/// (core.md §2.6, both references).
pub const FALLBACK_CLIENT_SECRET_ENV: &str = "ALIBABA_CLOUD_EIAM_APP_CLIENT_SECRET";

/// Read an environment variable named by the configuration key `field` (for error messages).
/// Unset, empty or non-UTF-8 → [`ErrorKind::Credential`] error `EnvironmentVariableNotSet`. The
/// messages name the key and the variable, never its value.
pub(crate) fn read_secret_env(field: &str, name: &str) -> Result<SecretString> {
    let problem = match std::env::var(name) {
        Ok(v) if !v.is_empty() => return Ok(SecretString::new(v)),
        Ok(_) => "is empty; set it to the secret value",
        Err(std::env::VarError::NotPresent) => "is not set",
        Err(std::env::VarError::NotUnicode(_)) => "is not valid UTF-8",
    };
    Err(Error::new(
        ErrorKind::Credential,
        "EnvironmentVariableNotSet",
        format!("{field}: environment variable {name} {problem}"),
    ))
}

/// The agent socket in effect (core.md §2.9, decision D-71): the configuration's `agentSocket`
/// when it has the member (`""` turns agent mode off whatever the environment says), else the
/// environment variable [`crate::agent::AGENT_SOCKET_ENV`] when set and not empty; `~` expanded.
pub(crate) fn agent_socket(member: Option<String>) -> Option<std::path::PathBuf> {
    let raw = match member {
        Some(m) => m,
        None => std::env::var(crate::agent::AGENT_SOCKET_ENV).unwrap_or_default(),
    };
    let raw = raw.trim();
    (!raw.is_empty()).then(|| super::lookup::expand_tilde(std::path::Path::new(raw)))
}
