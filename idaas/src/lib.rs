//! # idaas
//!
//! Machine credentials from an IDaaS (Identity as a Service) instance: OAuth 2.0 client
//! authentication with every method of the reference SDKs, federated credentials (Kubernetes OIDC
//! tokens, Alibaba Cloud ECS attested documents, application plugins), RFC 8693 token exchange, a
//! refresh-ahead token cache, and the PAM client of the IDaaS Developer API (API keys, OAuth tokens,
//! JWT authentication tokens).
//!
//! This crate is the safe core; the C ABI (`libidaas`, wrapped by the Go, Java and Node bindings)
//! is the `idaas-ffi` crate built on it. The wire protocol as implemented and every decision taken
//! (`D-n` in these docs) are described in the repository's `docs/` folder.
//!
//! ## Getting a token
//!
//! A [`Client`] is built from the JSON configuration file of the reference SDKs
//! ([`Config::load`]: an explicit path, else `CLOUD_IDAAS_CONFIG_PATH`, else
//! `~/.cloud_idaas/client-config.json`). It does no network I/O until the first token is asked for;
//! tokens are cached per scope and refreshed ahead of expiry on a background thread, so every later
//! call is a lock-free read.
//!
//! ```no_run
//! # fn main() -> idaas::Result<()> {
//! let client = idaas::Client::new(idaas::Config::load(None)?)?;
//! let token = client.bearer_token()?; // cached; refreshed ahead of expiry
//! println!("Authorization: Bearer {}", token.expose());
//! # Ok(()) }
//! ```
//!
//! The example below runs against the local emulator that ships with the repository (the
//! `idaas-emulator` crate), with a configuration built in code rather than read from a file.
//!
//! ```
//! # fn main() -> idaas::Result<()> {
//! use idaas_emulator::{AuthMethod, Emulator};
//!
//! let emulator = Emulator::start_default();
//! let config = idaas::Config::builder()
//!     .idaas_instance_id(emulator.instance_id())
//!     .client_id(emulator.client_id(AuthMethod::ClientSecretPost))
//!     .issuer(emulator.issuer())
//!     .token_endpoint(emulator.token_endpoint())
//!     .authn_method(idaas::AuthnMethod::ClientSecretPost)
//!     .client_secret(idaas::SecretString::new(emulator.client_secret()))
//!     .ca_certificate_path(emulator.ca_cert_path())
//!     .build()?;
//! let client = idaas::Client::new(config)?;
//! let token = client.bearer_token()?;
//! assert!(!token.is_empty());
//! // A second read is served from the cache: no request.
//! assert_eq!(client.bearer_token()?, token);
//! # Ok(()) }
//! ```
//!
//! ## Other scopes, token exchange, providers
//!
//! [`Client::bearer_token_for_scope`] keeps one cache per scope; [`Client::exchange_token`]
//! performs an RFC 8693 exchange ([`TokenExchangeRequest`]); [`Client::provider_for_scope`] hands
//! out a [`CredentialProvider`] sharing the client's cache, which is what a [`pam::PamClient`] uses.
//!
//! ## The Developer API
//!
//! ```no_run
//! # fn main() -> idaas::Result<()> {
//! let client = idaas::Client::new(idaas::Config::load(None)?)?;
//! let pam = idaas::pam::PamClient::from_client(&client)?;
//! let api_key = pam.get_api_key("openai_prod_key")?;
//! # let _ = api_key;
//! # Ok(()) }
//! ```
//!
//! ## PLUGIN `alibabacloudPluginCredentialProvider`
//!
//! The reference SDKs' Alibaba Cloud plugin is built in: a configuration with `authnMethod:
//! PLUGIN`, `pluginName: alibabacloudPluginCredentialProvider` and `openApiEndpoint` gets its tokens
//! from the EIAM OpenAPI, signed with a key from the Alibaba Cloud credential chain (environment,
//! OIDC role, profile files, ECS RAM role, credentials URI). [`ClientBuilder::alibaba_cloud`] takes
//! [`AlibabaCloudOptions`] (where STS and the metadata service are, or the chain's variables).
//!
//! ## Secrets and errors
//!
//! Every secret is a [`SecretString`]: `Debug`/`Display` print `** redacted **` and the bytes are
//! zeroed when the last copy is dropped. Every failure is one [`Error`] with an [`ErrorKind`], a
//! catalogue code, the HTTP status and the server's request id where there was one — and never a
//! secret ([`Error::is_retryable`] says whether trying again can help).
//!
//! ## Logging
//!
//! The crate logs through the [`log`](https://docs.rs/log) facade, or to a [`LogSink`] given to
//! [`ClientBuilder::log_sink`] (per client). Forward the records of the HTTP stack only when
//! [`is_sensitive_log_record`] is false: at `TRACE` level they dump raw requests.
#![deny(unsafe_code)]

mod agent;
mod alibaba;
mod auth;
mod cache;
mod client;
mod clock;
mod config;
mod diag;
mod endpoint;
mod error;
mod exchange;
mod fsread;
mod http;
pub mod json;
pub mod pam;
mod plugin;
mod provider;
mod retry;
mod scope;
mod secret;
mod server_text;
mod token;

pub use agent::AGENT_SOCKET_ENV;
pub use alibaba::{
    AlibabaCloudOptions, ECS_METADATA_ENDPOINT_ENV as ALIBABA_CLOUD_ECS_METADATA_ENDPOINT_ENV,
    PLUGIN_NAME as ALIBABA_CLOUD_PLUGIN_NAME, STS_ENDPOINT_ENV as ALIBABA_CLOUD_STS_ENDPOINT_ENV,
};
pub use cache::{CachePolicy, CacheTimes, MAX_LIFETIME};
pub use client::{Client, ClientBuilder};
pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use config::{
    AssertionAudience, AuthnConfig, AuthnMethod, BasicEncoding, Config, ConfigBuilder,
    DeployEnvironment, HttpConfig, IdentityType, SecretSupplier, CONFIG_PATH_ENV,
    DEFAULT_CONFIG_RELATIVE,
};
pub use diag::LogSink;
pub use error::{Error, ErrorKind, Result};
pub use exchange::{
    TokenExchangeRequest, TOKEN_TYPE_ACCESS_TOKEN, TOKEN_TYPE_ID_TOKEN, TOKEN_TYPE_JWT,
    TOKEN_TYPE_REFRESH_TOKEN,
};
pub use http::{is_sensitive_log_record, HttpOptions};
pub use plugin::{SharedPlugin, TokenPlugin};
pub use provider::{
    CachedProvider, Credential, CredentialProvider, SharedProvider, StaticProvider,
};
pub use retry::RetryPolicy;
pub use scope::{validate as validate_scope, DEFAULT_SCOPE};
pub use secret::SecretString;
pub use server_text::escape_controls;

/// The crate version (`CARGO_PKG_VERSION`), also returned by `idaas_version()` at the C ABI.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Internals for this repository's own tests, fuzz targets and benchmarks. **Not part of the API**:
/// anything here may change or disappear in any release.
#[doc(hidden)]
pub mod internals {
    pub use crate::cache::{compute_times, Fetched, RefreshCache};
    pub use crate::http::{check_url, HttpClient, HttpRequest, HttpResponse, Method};
    /// The built-in Alibaba Cloud plugin: signing and time formats.
    pub mod alibaba {
        pub use crate::alibaba::sign::*;
        pub use crate::alibaba::time::{format_utc, parse_utc};
    }
    /// Client authentication, keys and assertions.
    pub mod auth {
        pub use crate::auth::*;
    }
    /// Scope syntax.
    pub mod scope {
        pub use crate::scope::*;
    }
    /// Server text: character sets, escaping, redaction.
    pub mod server_text {
        pub use crate::server_text::*;
    }
    /// Token requests and replies.
    pub mod token {
        pub use crate::token::*;
    }
}
