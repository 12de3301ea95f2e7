//! # idaas
//!
//! Machine credentials from an IDaaS instance: OAuth2 client authentication with every method of the
//! reference SDKs, federated credentials, RFC 8693 token exchange, a refresh-ahead token cache, and
//! the PAM client for the IDaaS Developer API (API keys, OAuth tokens, JWT authentication tokens).
//!
//! The crate is a safe Rust core (`config`, `auth`, `cache`, `http`, `pam` ...) that knows nothing of
//! FFI, plus one thin `ffi` module that owns every `unsafe extern "C"` function of the C ABI
//! (`include/idaas.h`) wrapped by the Go, Java and Node bindings.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod auth;
pub mod cache;
pub mod client;
pub mod clock;
pub mod config;
mod endpoint;
pub mod error;
pub mod exchange;
#[allow(unsafe_code)]
pub mod ffi;
mod fsread;
pub mod http;
pub mod pam;
pub mod plugin;
pub mod provider;
pub mod retry;
pub mod scope;
pub mod secret;
pub mod server_text;
pub mod token;

pub use error::{Error, ErrorKind, Result};
pub use provider::{Credential, CredentialProvider, SharedProvider};
pub use secret::SecretString;

pub use client::{Client, ClientBuilder};
pub use config::{AuthnMethod, Config, ConfigBuilder};
pub use exchange::TokenExchangeRequest;
pub use pam::PamClient;
pub use plugin::TokenPlugin;
pub use provider::{CachedProvider, StaticProvider};

/// The crate version (`CARGO_PKG_VERSION`), also returned by `idaas_version()` at the C ABI.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
