//! Configuration (core.md §2): where the file is, what its keys mean, and the checks it passes.
//!
//! One job a file:
//! * `model` — the types ([`Config`], [`AuthnConfig`], [`HttpConfig`], the enums) and limits;
//! * `builder` — [`ConfigBuilder`], a configuration built in code;
//! * `lookup` — which file is read ([`Config::load`]: explicit path, `CLOUD_IDAAS_CONFIG_PATH`,
//!   the default file, `~` expansion, the misspelled-default hint) and its permissions warning;
//! * `parse` — JSON → fields, with errors naming the field path and the types (key spellings,
//!   later-wins, `null` = absent);
//! * `validate` — required keys, ranges, unsupported combinations, endpoint normalisation;
//! * `env` — secrets read from the environment variables the file names.
//!
//! Every way in runs the same pipeline: text → `parse` → `validate`. Error messages start with
//! the file (`<path>: `) when there is one, then the field path.

mod builder;
mod env;
mod lookup;
mod model;
mod parse;
mod validate;

pub use builder::ConfigBuilder;
pub(crate) use env::read_secret_env;
pub use lookup::{CONFIG_PATH_ENV, DEFAULT_CONFIG_RELATIVE};
pub use model::{
    AssertionAudience, AuthnConfig, AuthnMethod, BasicEncoding, Config, DeployEnvironment,
    HttpConfig, IdentityType, SecretSupplier,
};

use crate::error::{Error, Result};
use serde_json::Value;
use std::path::Path;

impl Config {
    /// Parse, validate and normalise configuration JSON text.
    pub fn from_json_str(json: &str) -> Result<Config> {
        from_text(json, None)
    }

    /// Parse, validate and normalise a configuration JSON value.
    pub fn from_json_value(value: &Value) -> Result<Config> {
        from_value(value, None)
    }
}

/// Text (of the file at `path`, if any) → a validated, normalised [`Config`].
fn from_text(text: &str, path: Option<&Path>) -> Result<Config> {
    let value = parse::json_text(text).map_err(|e| {
        Error::config(
            "LoadConfigFileFailed",
            format!(
                "{}the IDaaS config is not valid JSON: {e}",
                file_prefix(path)
            ),
        )
    })?;
    from_value(&value, path)
}

fn from_value(value: &Value, path: Option<&Path>) -> Result<Config> {
    let (cfg, authn_present) = parse::read(value, path)?;
    validate::validate_parsed(cfg, authn_present)
}

/// The prefix of error messages about the file at `path`: `"<path>: "`, or nothing.
fn file_prefix(path: Option<&Path>) -> String {
    path.map(|p| format!("{}: ", p.display()))
        .unwrap_or_default()
}
