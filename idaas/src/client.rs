//! The client: a configuration, one HTTP agent, one provider per scope (core.md §11).
//!
//! A [`Client`] replaces the reference's process-wide factory singleton: build one per
//! configuration and share it (it is `Clone` + `Send` + `Sync`, clones share everything). Creating
//! it does no network I/O. Providers are created lazily, one per **exact** scope string (core.md §3.3: `a|x
//! a|y` and `a|y a|x` are two providers), and shared; the first token is fetched on first use (the
//! reference fetches eagerly in `init()`; a lazy fetch keeps construction infallible on the
//! network and the first call reports the error).
//!
//! The default-scope provider lives in a `OnceLock`, so [`Client::bearer_token`] /
//! [`Client::with_bearer_token`] take no lock: one `OnceLock` read, one `ArcSwap` load, one clock
//! read, and (for `bearer_token`) one `String` copy.
//!
//! The private key (PRIVATE_KEY_JWT, PCA) is read from its environment variable once, when the
//! client first needs its authentication (first provider or first exchange); rotating the key needs
//! a new client. The client secret is read at every token request.
//!
//! # Decisions D-1 … D-22, D-32, D-44 (recorded in docs/decisions.md) and where they are implemented
//!
//! | # | Decision taken | Module |
//! |---|---|---|
//! | D-1 | camelCase keys plus snake_case aliases; wrong JSON types rejected naming key, expected and actual type | [`crate::config`] |
//! | D-2 | default scope `urn:cloud:idaas:pam\|.all` (Java; matches PAM) | [`crate::scope`] |
//! | D-3 | unknown enum values rejected, listing the allowed values | [`crate::config`] |
//! | D-4 | configured connect/read timeouts applied | [`crate::config`], [`crate::http`] |
//! | D-5 | `unsafeIgnoreSslCert: true` rejected (`UnsafeIgnoreSslCertNotSupported`); trust a CA with `caCertificatePath` instead | [`crate::config`] |
//! | D-6 | `http://` kept for loopback hosts only (emulator); everything else normalised to https | [`crate::config`], [`crate::http`] |
//! | D-7 | PKCS#8 RSA/EC, PKCS#1 RSA, SEC1 EC; encrypted keys refused; literal `\n` accepted; P-521 refused (`NotSupportedWebKey`, ring cannot sign it) | [`crate::auth::keys`] |
//! | D-8 | HS256 with any secret length, no warning | [`crate::auth::jwt`] |
//! | D-9 | JWT header `{"alg":…,"typ":"JWT"}` | [`crate::auth::jwt`] |
//! | D-10 | Basic credentials = base64 of raw `id:secret` (the default; `clientSecretBasicEncoding: form` form-encodes both first) | [`crate::auth`] |
//! | D-11 | `expires_at`, else `now + expires_in`, else not cached | [`crate::token`], [`crate::cache`] |
//! | D-12 | redirects never followed (3xx → `UnexpectedResponse` with `Location`) | [`crate::http`], [`crate::token`] |
//! | D-13 | `authorization_pending`/`slow_down` are ordinary errors (no device flow) | [`crate::token`] |
//! | D-14 | OIDC token file: trailing whitespace stripped | [`crate::auth::oidc`] |
//! | D-15 | ECS audience: compact JSON, percent-encoded | [`crate::auth::ecs`] |
//! | D-16 | unsupported method/environment combinations rejected at load | [`crate::config`] |
//! | D-17 | PLUGIN = application-registered [`crate::plugin::TokenPlugin`] (C ABI: callback) | [`crate::plugin`] |
//! | D-18 | token exchange `requested_token_type` defaults to the access-token URN | [`crate::exchange`] |
//! | D-19 | prefetch < stale < expiry, real prefetch, single flight, serve-while-valid, backoff | [`crate::cache`] |
//! | D-20 | system roots + `SSL_CERT_FILE` + `httpConfiguration.caCertificatePath` | [`crate::http`], [`crate::config`] |
//! | D-21 | `IDaaS core/<ver> Rust OS(<os>; <arch>)` + optional suffix ([`ClientBuilder::user_agent_suffix`]) | [`crate::http`] |
//! | D-22 | one [`crate::Error`]: kind, code, message, HTTP status, request id, cause; no secrets | [`crate::error`] |
//! | D-32 | refresh-ahead runs on a background thread by default (the reference refreshes in the caller): no caller waits for the network while the cached token is still served; [`ClientBuilder::async_refresh`]`(false)` restores in-caller refresh | [`crate::cache`] |
//! | D-44 | PLUGIN `alibabacloudPluginCredentialProvider` is built in (a registered plugin of that name wins); `openApiEndpoint` required when the client is built | [`crate::alibaba`] |
//!
//! Beyond the references: token requests are retried (≤ 3 attempts, jittered backoff, within the
//! read-timeout budget) on transport errors, 429 and 5xx ([`crate::token`]).

use crate::agent::AgentClient;
use crate::alibaba::AlibabaCloudOptions;
use crate::auth::ClientAuth;
use crate::cache::{CachePolicy, Fetched, RefreshCache};
use crate::clock::SharedClock;
use crate::config::{AuthnMethod, Config};
use crate::diag::{Diag, LogSink};
use crate::error::{Error, Result};
use crate::exchange::TokenExchangeRequest;
use crate::http::HttpClient;
use crate::plugin::SharedPlugin;
use crate::provider::{CachedProvider, Credential, CredentialProvider, SharedProvider};
use crate::secret::SecretString;
use crate::token::{post_with_retries, RetryPolicy, TokenRequest, GRANT_CLIENT_CREDENTIALS};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

struct Inner {
    config: Config,
    /// Agent mode (agent.md §6, core.md §2.9): the host agent, instead of the token endpoint.
    agent: Option<AgentClient>,
    diag: Diag,
    http: HttpClient,
    clock: SharedClock,
    cache_policy: CachePolicy,
    retry: RetryPolicy,
    plugin: Option<SharedPlugin>,
    ecs_metadata_base: Option<String>,
    auth: OnceLock<ClientAuth>,
    auth_init: Mutex<()>,
    default_provider: OnceLock<Arc<CachedProvider>>,
    providers: RwLock<HashMap<String, Arc<CachedProvider>>>,
}

/// The IDaaS M2M client (module docs). Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .field("http", &self.inner.http)
            .field("plugin", &self.inner.plugin.as_ref().map(|_| "<plugin>"))
            .finish_non_exhaustive()
    }
}

/// Builder of a [`Client`].
pub struct ClientBuilder {
    config: Config,
    clock: Option<SharedClock>,
    async_refresh: Option<bool>,
    ua_suffix: Option<String>,
    plugins: HashMap<String, SharedPlugin>,
    retry: RetryPolicy,
    cache_policy: CachePolicy,
    ecs_metadata_base: Option<String>,
    alibaba: AlibabaCloudOptions,
    log_sink: Option<Arc<dyn LogSink>>,
    prefetch: bool,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("config", &self.config)
            .field("async_refresh", &self.async_refresh)
            .field("ua_suffix", &self.ua_suffix)
            .field("plugins", &self.plugins.keys().collect::<Vec<_>>())
            .field("retry", &self.retry)
            .field("cache_policy", &self.cache_policy)
            .field("alibaba", &self.alibaba)
            .field("log_sink", &self.log_sink.as_ref().map(|_| "<sink>"))
            .field("prefetch", &self.prefetch)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// Send this client's log records (and those of the PAM clients, caches and providers made
    /// from it) to `sink` instead of the `log` facade. The records of the HTTP stack still go to the
    /// facade.
    pub fn log_sink(mut self, sink: Arc<dyn LogSink>) -> Self {
        self.log_sink = Some(sink);
        self
    }

    /// Fetch the default-scope token in [`ClientBuilder::build`] (network I/O), so that credential
    /// and server errors surface there — the reference SDK's `init()` behaviour. Off by default:
    /// building does no I/O and the first call reports any error.
    pub fn prefetch(mut self, on: bool) -> Self {
        self.prefetch = on;
        self
    }

    /// Inject a clock (tests drive time with [`crate::clock::ManualClock`]).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Refresh in the prefetch window on a background thread (`true`, the default: no caller waits
    /// for the network while a refresh-ahead runs) or in the first caller that enters the window
    /// (`false`: that one caller waits for the refresh, everyone else is served the cached token;
    /// no background threads). Overrides [`CachePolicy::async_refresh`] of
    /// [`ClientBuilder::cache_policy`].
    pub fn async_refresh(mut self, on: bool) -> Self {
        self.async_refresh = Some(on);
        self
    }

    /// Append ` <suffix>` to the User-Agent (D-21), e.g. `Go/1.22`.
    pub fn user_agent_suffix(mut self, suffix: &str) -> Self {
        let s = suffix.trim();
        self.ua_suffix = if s.is_empty() {
            None
        } else {
            Some(s.to_string())
        };
        self
    }

    /// Register a token plugin under `name` (for `authnMethod: PLUGIN`, `pluginName: name`).
    pub fn plugin(mut self, name: impl Into<String>, plugin: SharedPlugin) -> Self {
        self.plugins.insert(name.into(), plugin);
        self
    }

    /// Token-request retry policy (default: 3 attempts, see [`crate::token`]).
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Cache tuning (jitter, backoff, background refresh). `async_refresh` set here is overridden by
    /// [`ClientBuilder::async_refresh`] when that was called.
    pub fn cache_policy(mut self, policy: CachePolicy) -> Self {
        self.cache_policy = policy;
        self
    }

    /// Base URL of the ECS metadata service for `PKCS7` (default: the environment variable
    /// `IDAAS_ECS_METADATA_ENDPOINT`, else `http://100.100.100.200`); e.g. the emulator's
    /// `metadata_base_url()`.
    pub fn ecs_metadata_endpoint(mut self, base_url: impl Into<String>) -> Self {
        self.ecs_metadata_base = Some(base_url.into());
        self
    }

    /// Options of the built-in PLUGIN `alibabacloudPluginCredentialProvider` (where STS, the ECS
    /// metadata service and the credentials URI are; the variables of its credential chain). Unset
    /// options come from the environment when the client is built (D-52).
    pub fn alibaba_cloud(mut self, options: AlibabaCloudOptions) -> Self {
        self.alibaba = options;
        self
    }

    /// Validate and build (no network).
    pub fn build(self) -> Result<Client> {
        let config = self.config.validate()?;
        let mut opts = config.http_options()?;
        if let Some(s) = &self.ua_suffix {
            opts.user_agent.push(' ');
            opts.user_agent.push_str(s);
        }
        let http = HttpClient::new(opts)?;
        let mut cache_policy = self.cache_policy;
        if let Some(on) = self.async_refresh {
            cache_policy.async_refresh = on;
        }
        if cache_policy.max_wait.is_none() {
            cache_policy.max_wait = Some(http.options().call_budget().saturating_mul(2));
        }
        let diag = Diag::new(self.log_sink);
        let clock = self.clock.unwrap_or_else(crate::clock::system_clock);
        let agent = config
            .agent_socket
            .as_deref()
            .map(|p| AgentClient::new(p, http.options().clone()));
        // In agent mode the agent authenticates: no plugin is needed or used (D-71).
        let plugin: Option<SharedPlugin> = if agent.is_some() {
            None
        } else if config.authn.authn_method == AuthnMethod::Plugin {
            let name = config.authn.plugin_name.clone().unwrap_or_default();
            match self.plugins.get(&name) {
                // A plugin the application registered wins, also under the built-in name (D-44).
                Some(p) => Some(p.clone()),
                None if name == crate::alibaba::PLUGIN_NAME => {
                    Some(Arc::new(crate::alibaba::AlibabaPlugin::new(
                        &config,
                        &self.alibaba,
                        &http,
                        &clock,
                        &self.retry,
                        &cache_policy,
                        &diag,
                    )?))
                }
                None => {
                    return Err(Error::config(
                        "PluginNotFound",
                        format!(
                            "authnConfiguration.pluginName: Plugin {name} not found; register it with ClientBuilder::plugin (or idaas_config_add_plugin at the C ABI) before building the client; the built-in plugin is {}",
                            crate::alibaba::PLUGIN_NAME
                        ),
                    ))
                }
            }
        } else {
            None
        };
        if diag.has_sink() {
            // Logged to the facade when the file was read, before this sink existed.
            for w in &config.load_warnings {
                diag.log(log::Level::Warn, "idaas::config", format_args!("{w}"));
            }
        }
        let client = Client {
            inner: Arc::new(Inner {
                config,
                agent,
                diag,
                http,
                clock,
                cache_policy,
                retry: self.retry,
                plugin,
                ecs_metadata_base: self.ecs_metadata_base,
                auth: OnceLock::new(),
                auth_init: Mutex::new(()),
                default_provider: OnceLock::new(),
                providers: RwLock::new(HashMap::new()),
            }),
        };
        if self.prefetch {
            client.with_bearer_token(|_| ())?;
        }
        Ok(client)
    }
}

impl Client {
    /// Validate `config` and build a client with one HTTP agent; no network I/O.
    pub fn new(config: Config) -> Result<Client> {
        Self::builder(config).build()
    }

    /// A builder for more options.
    pub fn builder(config: Config) -> ClientBuilder {
        ClientBuilder {
            config,
            clock: None,
            async_refresh: None,
            ua_suffix: None,
            plugins: HashMap::new(),
            retry: RetryPolicy::default(),
            cache_policy: CachePolicy::default(),
            ecs_metadata_base: None,
            alibaba: AlibabaCloudOptions::default(),
            log_sink: None,
            prefetch: false,
        }
    }

    /// A client from [`Config::load`]`(None)` (env var `CLOUD_IDAAS_CONFIG_PATH` or the default path).
    pub fn from_default() -> Result<Client> {
        Self::new(Config::load(None)?)
    }

    /// The validated, normalised configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The client's HTTP agent (shared keep-alive pool; the PAM client reuses it).
    pub(crate) fn http(&self) -> &HttpClient {
        &self.inner.http
    }

    /// The host agent in agent mode (the PAM client asks it too).
    pub(crate) fn agent(&self) -> Option<&AgentClient> {
        self.inner.agent.as_ref()
    }

    /// True when this client asks the host agent instead of the IDaaS endpoints (agent.md §6,
    /// core.md §2.9: `agentSocket` or `IDAAS_AGENT_SOCKET`).
    pub fn is_agent_mode(&self) -> bool {
        self.inner.agent.is_some()
    }

    /// The client's log sink (the PAM client logs to it too).
    pub(crate) fn diag(&self) -> &Diag {
        &self.inner.diag
    }

    /// The client's clock.
    pub fn clock(&self) -> &SharedClock {
        &self.inner.clock
    }

    /// The provider for the configured default scope.
    pub fn provider(&self) -> Result<SharedProvider> {
        Ok(self.default_provider()?.clone())
    }

    /// The concrete provider of the default scope (exposes [`CachedProvider::with_bearer_token`]).
    pub fn default_cached_provider(&self) -> Result<Arc<CachedProvider>> {
        Ok(self.default_provider()?.clone())
    }

    /// The provider for `scope` (validated first, core.md §3.2), created once per exact string and shared.
    pub fn provider_for_scope(&self, scope: &str) -> Result<SharedProvider> {
        Ok(self.cached_provider_for_scope(scope)?)
    }

    /// The concrete provider for `scope`.
    ///
    /// Lookup of an existing provider takes a shared read lock only (the map holds validated scopes
    /// only, so a hit needs no re-validation); creation validates (core.md §3.2) and takes the write lock.
    pub fn cached_provider_for_scope(&self, scope: &str) -> Result<Arc<CachedProvider>> {
        if scope == self.inner.config.scope {
            return Ok(self.default_provider()?.clone());
        }
        if let Some(p) = self
            .inner
            .providers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(scope)
        {
            return Ok(p.clone());
        }
        crate::scope::validate(scope)?;
        let mut map = self
            .inner
            .providers
            .write()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(p) = map.get(scope) {
            return Ok(p.clone());
        }
        let p = Arc::new(self.make_provider(scope)?);
        map.insert(scope.to_string(), p.clone());
        Ok(p)
    }

    /// The bearer token for the default scope (cached; refreshed ahead of expiry). The hot path.
    #[inline]
    pub fn bearer_token(&self) -> Result<SecretString> {
        self.default_provider()?.bearer_token()
    }

    /// Call `f` with the default-scope bearer token without copying it (the C ABI copies it into
    /// its own buffer from here).
    #[inline]
    pub fn with_bearer_token<R>(&self, f: impl FnOnce(&str) -> R) -> Result<R> {
        self.default_provider()?.with_bearer_token(f)
    }

    /// Call `f` with the bearer token for `scope` (`None`: the default scope) and its version (≥ 1;
    /// changes whenever a new token is cached), without copying it.
    #[inline]
    pub fn with_bearer_token_versioned<R>(
        &self,
        scope: Option<&str>,
        f: impl FnOnce(&str, u64) -> R,
    ) -> Result<R> {
        match scope {
            None => self.default_provider()?.with_bearer_token_versioned(f),
            Some(s) => self
                .cached_provider_for_scope(s)?
                .with_bearer_token_versioned(f),
        }
    }

    /// The bearer token for `scope` (`None`: the default scope) and its version, only when it is
    /// cached and fresh: `Some(f(token, version))`. `None` whenever the full call
    /// ([`Client::with_bearer_token_versioned`]) would have to initialise the scope, fetch, wait for
    /// a refresh or fail. Never blocks and does no I/O (decision D-59).
    #[inline]
    pub fn try_fresh_bearer_token<R>(
        &self,
        scope: Option<&str>,
        f: impl FnOnce(&str, u64) -> R,
    ) -> Option<R> {
        let fresh = |p: &CachedProvider| p.cache().with_fresh(|c, v| f(c.access_token.expose(), v));
        match scope {
            None => fresh(self.inner.default_provider.get()?),
            Some(s) if s == self.inner.config.scope => fresh(self.inner.default_provider.get()?),
            Some(s) => {
                // try_read: a writer may be creating a scope's provider (reading a key file,
                // logging); waiting for it here could wait on the caller's own lock.
                let map = match self.inner.providers.try_read() {
                    Ok(map) => map,
                    Err(std::sync::TryLockError::Poisoned(e)) => e.into_inner(),
                    Err(std::sync::TryLockError::WouldBlock) => return None,
                };
                fresh(map.get(s)?)
            }
        }
    }

    /// The bearer token for `scope`.
    pub fn bearer_token_for_scope(&self, scope: &str) -> Result<SecretString> {
        self.cached_provider_for_scope(scope)?.bearer_token()
    }

    /// Call `f` with the bearer token for `scope` without copying it.
    pub fn with_bearer_token_for_scope<R>(
        &self,
        scope: &str,
        f: impl FnOnce(&str) -> R,
    ) -> Result<R> {
        self.cached_provider_for_scope(scope)?.with_bearer_token(f)
    }

    /// The full credential for the default scope.
    pub fn credential(&self) -> Result<Arc<Credential>> {
        self.default_provider()?.credential()
    }

    /// RFC 8693 token exchange (core.md §7): one request, never cached.
    pub fn exchange_token(&self, req: &TokenExchangeRequest) -> Result<Credential> {
        req.validate()?;
        if let Some(agent) = &self.inner.agent {
            // Agent mode: `POST /v1/token/exchange` (agent.md §2.1), never cached either.
            return agent.exchange(req, &self.inner.config.scope);
        }
        if self.inner.config.authn.authn_method == AuthnMethod::Plugin {
            return Err(Error::config(
                "UnsupportedAuthenticationMethod",
                "Unsupported authentication method: PLUGIN for token exchange",
            ));
        }
        let auth = self.auth()?;
        let inner = &self.inner;
        let clock = inner.clock.clone();
        let now = move || clock.now_secs();
        post_with_retries(
            &inner.http,
            &inner.config.token_endpoint,
            &inner.retry,
            &now,
            &|| {
                crate::exchange::build_request(
                    auth,
                    &inner.config.client_id,
                    inner.config.client_assertion_audience(),
                    inner.clock.now_secs(),
                    req,
                    &inner.config.scope,
                )
            },
        )
    }

    #[inline]
    fn default_provider(&self) -> Result<&Arc<CachedProvider>> {
        if let Some(p) = self.inner.default_provider.get() {
            return Ok(p);
        }
        self.init_default_provider()
    }

    #[cold]
    fn init_default_provider(&self) -> Result<&Arc<CachedProvider>> {
        // Serialise creation so the private key is read once.
        let _g = self
            .inner
            .auth_init
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(p) = self.inner.default_provider.get() {
            return Ok(p);
        }
        let p = Arc::new(self.make_provider_locked(&self.inner.config.scope)?);
        let _ = self.inner.default_provider.set(p);
        self.inner
            .default_provider
            .get()
            .ok_or_else(|| Error::internal("default provider vanished"))
    }

    fn auth(&self) -> Result<&ClientAuth> {
        if let Some(a) = self.inner.auth.get() {
            return Ok(a);
        }
        let _g = self
            .inner
            .auth_init
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        self.auth_locked()
    }

    fn auth_locked(&self) -> Result<&ClientAuth> {
        if let Some(a) = self.inner.auth.get() {
            return Ok(a);
        }
        let i = &self.inner;
        let a = ClientAuth::from_config(
            &i.config,
            &i.http,
            &i.clock,
            &i.cache_policy,
            i.ecs_metadata_base.as_deref(),
        )?;
        let _ = i.auth.set(a);
        i.auth
            .get()
            .ok_or_else(|| Error::internal("client authentication vanished"))
    }

    fn make_provider(&self, scope: &str) -> Result<CachedProvider> {
        let _g = self
            .inner
            .auth_init
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        self.make_provider_locked(scope)
    }

    fn make_provider_locked(&self, scope: &str) -> Result<CachedProvider> {
        let i = &self.inner;
        let name = format!("IDaaS token for scope {scope}");
        let scope_owned = scope.to_string();
        let cache = if let Some(agent) = &i.agent {
            // Agent mode (agent.md §2.2, D-73): what the agent returns is cached here until this
            // client's own refresh-ahead instants, computed from the token's absolute expiry.
            let agent = agent.clone();
            let clock = i.clock.clone();
            RefreshCache::with_diag(
                name,
                move || {
                    let c = agent.token(&scope_owned)?;
                    let expires_at_ms = agent_expiry_ms(&c, clock.now_millis());
                    Ok(Fetched {
                        value: c,
                        expires_at_ms,
                    })
                },
                i.clock.clone(),
                i.cache_policy.clone(),
                i.diag.clone(),
            )
        } else if let Some(plugin) = &i.plugin {
            let plugin = plugin.clone();
            let clock = i.clock.clone();
            RefreshCache::with_diag(
                name,
                move || {
                    let mut c = plugin.fetch_token(&scope_owned)?;
                    let now = clock.now_secs();
                    c.expires_at =
                        crate::token::effective_expires_at(c.expires_at, c.expires_in, now);
                    crate::token::check_credential(&c, now, "token plugin").map_err(|e| {
                        Error::credential(e.code().to_string(), e.message().to_string())
                    })?;
                    let expires_at_ms = cache_expiry_ms(&c, clock.now_millis());
                    Ok(Fetched {
                        value: c,
                        expires_at_ms,
                    })
                },
                i.clock.clone(),
                i.cache_policy.clone(),
                i.diag.clone(),
            )
        } else {
            let auth = self.auth_locked()?.clone();
            let http = i.http.clone();
            let endpoint = i.config.token_endpoint.clone();
            let aud = i.config.client_assertion_audience().to_string();
            let client_id = i.config.client_id.clone();
            let retry = i.retry.clone();
            let clock = i.clock.clone();
            RefreshCache::with_diag(
                name,
                move || {
                    let now = || clock.now_secs();
                    let c = post_with_retries(&http, &endpoint, &retry, &now, &|| {
                        client_credentials_request(
                            &auth,
                            &client_id,
                            &aud,
                            clock.now_secs(),
                            &scope_owned,
                        )
                    })?;
                    let expires_at_ms = cache_expiry_ms(&c, clock.now_millis());
                    Ok(Fetched {
                        value: c,
                        expires_at_ms,
                    })
                },
                i.clock.clone(),
                i.cache_policy.clone(),
                i.diag.clone(),
            )
        };
        Ok(CachedProvider::new(scope, cache))
    }
}

/// When the cache must consider a credential expired, in ms since the epoch (decision D-11 plus
/// clock-skew protection): the server's `expires_at`, but never later than `now + expires_in` (a
/// client clock behind the server's would otherwise serve expired tokens); when `expires_at` is
/// already past by our clock but `expires_in` is positive (our clock ahead of the server's),
/// `now + expires_in`; only `expires_in` → `now + expires_in`; neither → 0 (not cached).
pub fn cache_expiry_ms(c: &Credential, now_ms: u64) -> u64 {
    let rel = (c.expires_in > 0).then(|| now_ms.saturating_add(c.expires_in.saturating_mul(1000)));
    let abs = (c.expires_at > 0).then(|| c.expires_at.saturating_mul(1000));
    match (abs, rel) {
        (Some(a), Some(r)) if a <= now_ms => r,
        (Some(a), Some(r)) => a.min(r),
        (Some(a), None) => a,
        (None, Some(r)) => r,
        (None, None) => 0,
    }
}

/// When the cache must consider a credential from the host agent expired, in ms since the epoch
/// (D-73): its `expires_at`, which the agent computed on this host's clock, so no skew correction
/// applies (its `expires_in` is the lifetime the server first gave, not what is left); without
/// one, `now + expires_in`; neither → 0 (not cached).
fn agent_expiry_ms(c: &Credential, now_ms: u64) -> u64 {
    if c.expires_at > 0 {
        c.expires_at.saturating_mul(1000)
    } else if c.expires_in > 0 {
        now_ms.saturating_add(c.expires_in.saturating_mul(1000))
    } else {
        0
    }
}

/// The client-credentials request of core.md §5.2: authentication fields, `grant_type`, `scope`.
/// `aud` is the audience of client assertions ([`Config::client_assertion_audience`]).
pub fn client_credentials_request(
    auth: &ClientAuth,
    client_id: &str,
    aud: &str,
    now_secs: u64,
    scope: &str,
) -> Result<TokenRequest> {
    let mut req = TokenRequest::default();
    auth.apply(client_id, aud, now_secs, &mut req)?;
    req.form
        .push("grant_type", GRANT_CLIENT_CREDENTIALS)
        .push("scope", scope);
    Ok(req)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_with_skew() {
        let c = |at, inn| Credential {
            expires_at: at,
            expires_in: inn,
            ..Credential::default()
        };
        let now = 1_000_000_000;
        assert_eq!(cache_expiry_ms(&c(1_000_600, 600), now), 1_000_600_000);
        // our clock 5 min behind the server: capped at now + expires_in
        assert_eq!(cache_expiry_ms(&c(1_000_900, 600), now), 1_000_600_000);
        // our clock ahead: expires_at already past → relative lifetime
        assert_eq!(cache_expiry_ms(&c(999_000, 600), now), 1_000_600_000);
        assert_eq!(cache_expiry_ms(&c(1_000_600, 0), now), 1_000_600_000);
        assert_eq!(cache_expiry_ms(&c(0, 60), now), 1_000_060_000);
        assert_eq!(cache_expiry_ms(&c(0, 0), now), 0);
        assert_eq!(cache_expiry_ms(&c(999_000, 0), now), 999_000_000);
    }

    #[test]
    fn client_is_send_sync_clone() {
        fn check<T: Send + Sync + Clone>() {}
        check::<Client>();
    }
}
