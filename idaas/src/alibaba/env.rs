//! The environment the credential chain reads: a snapshot taken when the client is built
//! (alibaba-plugin.md §2.1), or variables given by the application instead of the process
//! environment ([`crate::AlibabaCloudOptions::environment`]).
//!
//! Values may be secrets (`ALIBABA_CLOUD_ACCESS_KEY_SECRET`, `ALIBABA_CLOUD_SECURITY_TOKEN`), so
//! every value is a [`SecretString`] and `Debug` shows only the names.

use crate::secret::SecretString;
use std::collections::HashMap;
use std::path::PathBuf;

/// Prefixes of the variables kept in a snapshot of the process environment.
const PREFIXES: [&str; 2] = ["ALIBABA_CLOUD_", "IDAAS_ALIBABA_CLOUD_"];
/// Other variables kept (the home directory, for the profile files).
const OTHERS: [&str; 2] = ["HOME", "HOMEPATH"];

/// A snapshot of the variables the chain reads.
#[derive(Clone, Default)]
pub(crate) struct ChainEnv {
    vars: HashMap<String, SecretString>,
    /// Taken from the process: the operating system's user database may then supply the home
    /// directory when neither `HOME` nor `HOMEPATH` is set.
    from_process: bool,
}

impl std::fmt::Debug for ChainEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.vars.keys().collect();
        names.sort();
        f.debug_struct("ChainEnv")
            .field("names", &names)
            .field("from_process", &self.from_process)
            .finish()
    }
}

impl ChainEnv {
    /// The relevant variables of the process environment, now. Variables whose name or value is
    /// not Unicode are ignored.
    pub fn from_process() -> ChainEnv {
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .filter(|(k, _)| {
                PREFIXES.iter().any(|p| k.starts_with(p)) || OTHERS.contains(&k.as_str())
            })
            .map(|(k, v)| (k, SecretString::new(v)))
            .collect();
        ChainEnv {
            vars,
            from_process: true,
        }
    }

    /// Exactly these variables, nothing from the process.
    pub fn from_vars(vars: impl IntoIterator<Item = (String, SecretString)>) -> ChainEnv {
        ChainEnv {
            vars: vars.into_iter().collect(),
            from_process: false,
        }
    }

    /// The value of `name` when set and not blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(SecretString::expose)
            .filter(|v| !v.trim().is_empty())
    }

    /// The value of `name` as a secret, when set and not blank.
    pub fn secret(&self, name: &str) -> Option<SecretString> {
        self.vars
            .get(name)
            .filter(|v| !v.expose().trim().is_empty())
            .cloned()
    }

    /// True when `name` is `true` in any letter case (surrounding blanks ignored).
    pub fn is_true(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    }

    /// The home directory: `HOME`, else `HOMEPATH`, else (for a snapshot of the process) the
    /// operating system's idea of the user's home.
    pub fn home(&self) -> Option<PathBuf> {
        if let Some(h) = self.get("HOME").or_else(|| self.get("HOMEPATH")) {
            return Some(PathBuf::from(h));
        }
        if self.from_process {
            // Deprecated only for its Windows behaviour (it reads HOME there too), which is the
            // rule wanted here anyway; on Unix it asks the user database.
            #[allow(deprecated)]
            return std::env::home_dir();
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> ChainEnv {
        ChainEnv::from_vars(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), SecretString::new(*v))),
        )
    }

    #[test]
    fn values_flags_and_home() {
        let e = env(&[
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", "id"),
            ("ALIBABA_CLOUD_SECURITY_TOKEN", "  "),
            ("ALIBABA_CLOUD_ECS_METADATA_DISABLED", " TRUE "),
            ("ALIBABA_CLOUD_IMDSV1_DISABLED", "yes"),
            ("HOMEPATH", "/home/hp"),
        ]);
        assert_eq!(e.get("ALIBABA_CLOUD_ACCESS_KEY_ID"), Some("id"));
        assert_eq!(e.get("ALIBABA_CLOUD_SECURITY_TOKEN"), None);
        assert!(e.secret("ALIBABA_CLOUD_SECURITY_TOKEN").is_none());
        assert!(e.is_true("ALIBABA_CLOUD_ECS_METADATA_DISABLED"));
        assert!(!e.is_true("ALIBABA_CLOUD_IMDSV1_DISABLED"));
        assert!(!e.is_true("ALIBABA_CLOUD_CLI_PROFILE_DISABLED"));
        assert_eq!(e.home(), Some(PathBuf::from("/home/hp")));
        let e = env(&[("HOME", "/h"), ("HOMEPATH", "/hp")]);
        assert_eq!(e.home(), Some(PathBuf::from("/h")));
        // Given variables never fall back to the process's home.
        assert_eq!(env(&[]).home(), None);
        // Debug never shows values.
        let d = format!(
            "{:?}",
            env(&[("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "s3cr3t-value")])
        );
        assert!(
            d.contains("ALIBABA_CLOUD_ACCESS_KEY_SECRET") && !d.contains("s3cr3t"),
            "{d}"
        );
    }
}
