//! PLUGIN authentication: application-supplied token sources (core.md §6.4, decision D-17).
//!
//! Decision D-17: instead of the reference's entry-point / ServiceLoader registry, the application
//! registers a [`TokenPlugin`] under a name with [`crate::client::ClientBuilder::plugin`] (the C ABI
//! registers a callback the same way). A configuration with `authnMethod: PLUGIN` and
//! `pluginName: X` uses the plugin registered as `X`. The reference's Alibaba Cloud OpenAPI plugin
//! is built in (D-44, [`crate::alibaba`]): `alibabacloudPluginCredentialProvider` selects it when
//! no plugin is registered under that name. Any other unregistered name fails when the client is
//! built (`PluginNotFound`, naming it).
//!
//! The plugin is asked for a token per scope; its [`Credential`] is cached exactly like a
//! token-endpoint reply (refresh ahead, single flight, backoff). It should set `expires_at`
//! (absolute epoch seconds) or `expires_in`; with neither the token is not cached. A panicking plugin
//! becomes an `Internal` error. PLUGIN is not available for token exchange (§7.1).
//!
//! The token is checked like a server reply, with a looser character set: it must be visible ASCII
//! (no space, no control character, nothing outside ASCII; see [`crate::server_text`]), so it is
//! safe in an `Authorization` header and on a terminal. A token outside it fails the fetch
//! ([`crate::ErrorKind::Credential`], code `InvalidResponseValue`; the value is never shown).
//!
//! **Re-entrancy**: `fetch_token` runs while the scope's refresh is in flight (in the calling thread,
//! or on the background refresh thread). If it asks the same [`crate::Client`] for a token of the
//! same scope, from the thread it runs on, that call would wait for the refresh it is part of,
//! forever; instead it fails at once with [`crate::Error::reentrant_call`] (code `ReentrantCall`,
//! kind [`crate::ErrorKind::InvalidArgument`]; `IDAAS_CODE_REENTRANT_CALL` at the C ABI), and the
//! plugin decides what to do with that error (returning it fails this fetch). Other clients, and
//! other scopes of the same client, are fine. A plugin that hands the call to another thread and
//! waits for it is not detected and still deadlocks: don't.

use crate::error::Result;
use crate::provider::Credential;
use std::sync::Arc;

/// An application token source for `authnMethod: PLUGIN`.
pub trait TokenPlugin: Send + Sync {
    /// A fresh token for `scope` (the scope string verbatim, already validated).
    fn fetch_token(&self, scope: &str) -> Result<Credential>;
}

impl<F> TokenPlugin for F
where
    F: Fn(&str) -> Result<Credential> + Send + Sync,
{
    fn fetch_token(&self, scope: &str) -> Result<Credential> {
        self(scope)
    }
}

/// Shared handle to a plugin.
pub type SharedPlugin = Arc<dyn TokenPlugin>;
