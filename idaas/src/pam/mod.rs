//! The PAM client for the IDaaS Developer API (pam.md): API keys, OAuth access tokens held by IDaaS
//! (2LO and 3LO), and JWT authentication tokens (generate, obtain, list, validate, revoke, reinstate).
//!
//! ```no_run
//! # fn main() -> idaas::Result<()> {
//! # let provider: idaas::SharedProvider = unimplemented!();
//! use idaas::pam::PamClient;
//! let pam = PamClient::builder()
//!     .endpoint("eiam-developerapi.cn-hangzhou.aliyuncs.com")
//!     .instance_id("idaas_ue2jvisn35ea5lmthk267xxxxx")
//!     .provider(provider)
//!     .build()?;
//! let key = pam.get_api_key("openai_prod_key")?; // Option<SecretString>
//! # Ok(()) }
//! ```
//!
//! [`PamClient`] is cheap to clone (an `Arc` inside), `Send + Sync`, and shares one keep-alive HTTP
//! pool across clones and threads.
//!
//! # Decisions (recorded in docs/decisions.md)
//!
//! * Decision D-23: the endpoint must be `host[:port]`, optionally prefixed by `https://` or
//!   `http://`; a blank endpoint or one with a path, query, fragment or user info is rejected at
//!   construction ([`crate::ErrorKind::Config`]). The scheme is always https, except that an explicit
//!   `http://` is kept for loopback hosts (127.0.0.0/8, `::1`, `localhost`) so the emulator can run
//!   without TLS (core D-6).
//! * Decision D-24: every request carries the full header set of pam.md §2.2 in its order, with the
//!   user agent `AlibabaCloud (<os>; <arch>) Rust idaas/<version>`.
//! * Decision D-25: booleans in query strings are sent as `true` / `false`.
//! * Decision D-26: operations with a result require status 200 and a JSON object body; void
//!   operations (revoke/reinstate) accept any 2xx and do not read the body.
//! * Decision D-27: redirects are never followed; a 3xx is an [`crate::ErrorKind::UnexpectedResponse`]
//!   error (code `UnexpectedRedirect`).
//! * Decision D-28: errors are mapped by HTTP status (401/403 → `Auth`, other 4xx → `Client`, 5xx →
//!   `Server`), reading both the OAuth (`error`, `error_description`, `request_id`) and the POP
//!   (`Code`/`code`, `Message`/`message`, `RequestId`/`requestId`/`requestid`) body shapes; the
//!   request id also comes from `x-acs-request-id` / `x-request-id`; a non-JSON body gives code = the
//!   status as text and message = the (truncated) body.
//! * Decision D-29: the 3LO poll ([`PamClient::poll_oauth_authentication_token`]) keeps the
//!   reference algorithm but is cancellable ([`CancelToken`]), takes an optional caller deadline, and
//!   its interval is configurable (default 3 s).
//! * Decision D-30: `ObtainJwtAuthenticationTokenByDerivedShortToken` is sent without
//!   `Authorization` (as `ValidateAuthenticationToken`).
//! * Decision D-31: an absent or empty `nextToken` marks the last page of a list.
//!
//! # Reliability (beyond the references, which never retry)
//!
//! * **401 refresh.** When the server answers 401 to a request that carried a bearer token, the
//!   client calls [`crate::CredentialProvider::invalidate`] with that token, fetches a fresh one and
//!   retries **once**; a second 401 is returned. A 401 means the request was not processed, so this
//!   applies to every operation. When the provider hands out the same token again (a static
//!   provider, e.g. a token-exchange result), the 401 is returned without a pointless retry.
//! * **Retries.** Transport failures, timeouts, 429 and 5xx are retried with capped, jittered
//!   exponential backoff (at most 3 attempts in all, [`RetryPolicy`]; `Retry-After` /
//!   `x-acs-retry-after` honoured up to the cap) **only** for operations that are safe to repeat:
//!   `ObtainCredential`, `ListAuthenticationTokens`, `ValidateAuthenticationToken`,
//!   `GetOAuthAuthorizationSession`, `ObtainJwtAuthenticationToken`,
//!   `ObtainJwtAuthenticationTokenByDerivedShortToken`. The others — `GenerateJwtAuthenticationToken`,
//!   `FetchOAuthAuthenticationToken`, `RevokeAuthenticationToken(ByConsumer)`,
//!   `ReinstateAuthenticationToken(ByConsumer)` — create or change server state and are sent once.
//!
//! # SDK-side errors
//!
//! The references raise a `ClientException` or `IDaaSUnexpectedException` for checks made by the
//! SDK itself; here they map to error kinds as follows (codes as in pam.md):
//!
//! | Situation | Kind | Code |
//! |---|---|---|
//! | blank identifier, scope > 256 chars, audience with the `urn:cloud:idaas` prefix, … | `InvalidArgument` | `InvalidArgument` |
//! | flow other than `m2m` / `user_federation` | `InvalidArgument` | `invalid_authorization_flow` |
//! | `m2m` but the reply asks for user authorization | `Client` | `authorization_flow_mismatch` |
//! | 3LO session `failed` / `expired` | `Auth` | the session's `errorCode` or `authorization_failed` / `authorization_session_expired` |
//! | poll out of time or polls | `Timeout` | `polling_timeout` |
//! | poll cancelled | `Cancelled` | `polling_cancelled` |
//! | reply without the session / token / `jwtContent` / `active` the call exists for | `UnexpectedResponse` | `MissingAuthorizationSession`, `MissingAccessToken`, `MissingJwtContent`, `InvalidResponseBody` |
//!
//! Where the Python reference returns `None` for a missing `jwtContent` or `active`, this client
//! returns the error (as the Java reference does); `get_api_key` keeps `None` for a credential
//! without `apiKeyContent`, which is a normal case.
//!
//! # Secrets
//!
//! API keys, JWTs, derived short tokens and OAuth access tokens are [`SecretString`]s: never logged,
//! redacted in `Debug`, zeroed on drop. Error messages never contain them.

mod cache;
mod iter;
mod models;
mod ops;
mod poll;
mod transport;

pub use cache::{ApiKeyCache, ApiKeyCacheOptions};
pub use iter::AuthenticationTokens;
pub use models::{
    AuthenticationToken, JwtContent, JwtTokenResponse, NextTokenPageableResponse,
    OAuthAccessTokenContent, OAuthAuthenticationTokenResponse, OAuthAuthorizationSession,
    OAuthAuthorizationSessionResponse,
};
pub use ops::{
    AuthorizationFlow, FetchOAuthOptions, GenerateJwtOptions, ListAuthenticationTokensOptions,
};
pub use poll::{CancelToken, PollOptions};
pub use transport::{RetryPolicy, API_VERSION};

use crate::clock::{system_clock, SharedClock};
use crate::diag::Diag;
use crate::error::{Error, Result};
use crate::http::{is_loopback_url, HttpClient, HttpOptions};
use crate::provider::SharedProvider;
use crate::secret::SecretString;
use std::sync::Arc;
use transport::Transport;

/// The scope of the bearer token the PAM client uses by default (`PamClientConstants.SCOPE`).
pub const SCOPE: &str = "urn:cloud:idaas:pam|.all";
/// Authorization flow `m2m` (2LO).
pub const OAUTH_AUTHORIZATION_FLOW_M2M: &str = "m2m";
/// Authorization flow `user_federation` (3LO).
pub const OAUTH_AUTHORIZATION_FLOW_USER_FEDERATION: &str = "user_federation";
/// Session status `pending`.
pub const SESSION_STATUS_PENDING: &str = "pending";
/// Session status `callback_received` (transient).
pub const SESSION_STATUS_CALLBACK_RECEIVED: &str = "callback_received";
/// Session status `completed`.
pub const SESSION_STATUS_COMPLETED: &str = "completed";
/// Session status `failed`.
pub const SESSION_STATUS_FAILED: &str = "failed";
/// Session status `expired`.
pub const SESSION_STATUS_EXPIRED: &str = "expired";
/// The reserved audience prefix that JWT audiences must not start with (pam.md §4.6).
pub const RESERVED_AUDIENCE_PREFIX: &str = "urn:cloud:idaas";
/// Longest accepted OAuth `scope` argument (characters, pam.md §4.2).
pub const MAX_SCOPE_CHARS: usize = 256;

/// The PAM user agent: `AlibabaCloud (<os>; <arch>) Rust idaas/<version>` (decision D-24).
pub fn user_agent() -> String {
    format!(
        "AlibabaCloud ({}; {}) Rust idaas/{}",
        std::env::consts::OS,
        std::env::consts::ARCH,
        env!("CARGO_PKG_VERSION")
    )
}

/// Client of the IDaaS Developer API. See the [module docs](self).
#[derive(Clone)]
pub struct PamClient {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Transport,
    instance_id: String,
    endpoint: String,
    api_key_cache: Option<ApiKeyCache>,
}

impl std::fmt::Debug for PamClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PamClient")
            .field("endpoint", &self.inner.endpoint)
            .field("instance_id", &self.inner.instance_id)
            .field("api_key_cache", &self.inner.api_key_cache.is_some())
            .finish()
    }
}

/// Builder of a [`PamClient`] (pam.md §1).
#[derive(Default)]
pub struct PamClientBuilder {
    endpoint: Option<String>,
    instance_id: Option<String>,
    provider: Option<SharedProvider>,
    http: Option<HttpClient>,
    http_options: Option<HttpOptions>,
    clock: Option<SharedClock>,
    retry: Option<RetryPolicy>,
    api_key_cache: Option<ApiKeyCacheOptions>,
    user_agent: Option<String>,
    diag: Diag,
    agent: Option<crate::agent::AgentClient>,
}

impl PamClientBuilder {
    /// The Developer API endpoint, `host[:port]` (an `https://` prefix is accepted; `http://` only
    /// stays plain http for loopback hosts; decision D-23).
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// The IDaaS instance id (`idaas_…`), used in every path.
    pub fn instance_id(mut self, instance_id: impl Into<String>) -> Self {
        self.instance_id = Some(instance_id.into());
        self
    }

    /// The bearer-token provider (normally one for scope [`SCOPE`]).
    pub fn provider(mut self, provider: SharedProvider) -> Self {
        self.provider = Some(provider);
        self
    }

    /// HTTP options of the client's own connection pool (default [`HttpOptions::default`]: 5 s
    /// connect and 10 s read timeouts, system roots). A PAM client made from a core client
    /// ([`PamClient::from_client`]) shares that client's pool and options instead.
    pub fn http_options(mut self, options: HttpOptions) -> Self {
        self.http_options = Some(options);
        self
    }

    /// Send this client's log records to `sink` (as [`crate::ClientBuilder::log_sink`]; a PAM client
    /// made from a core client inherits its sink).
    pub fn log_sink(mut self, sink: Arc<dyn crate::LogSink>) -> Self {
        self.diag = Diag::new(Some(sink));
        self
    }

    /// Share a core client's HTTP agent.
    pub(crate) fn shared_http(mut self, http: HttpClient) -> Self {
        self.http = Some(http);
        self
    }

    /// The clock (for the `date` header and the API-key cache; default: the system clock).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The retry policy of safe operations (default [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = Some(retry);
        self
    }

    /// Enable the API-key cache (off by default) with these options.
    pub fn api_key_cache(mut self, options: ApiKeyCacheOptions) -> Self {
        self.api_key_cache = Some(options);
        self
    }

    /// Override the `user-agent` header (default [`user_agent()`]).
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = Some(ua.into());
        self
    }

    /// Build the client. Errors ([`crate::ErrorKind::Config`]): missing or invalid endpoint, missing
    /// or blank instance id, missing provider; an unusable default HTTP client.
    pub fn build(mut self) -> Result<PamClient> {
        if self.agent.is_some() {
            // Agent mode (core.md §2.9): the agent knows the endpoint and the instance; the
            // transport below only ever refuses the operations the agent does not serve.
            // (A configuration in agent mode may leave both out, or blank.)
            if self.endpoint.as_deref().is_none_or(|e| e.trim().is_empty()) {
                self.endpoint = Some("localhost".to_string());
            }
            if self
                .instance_id
                .as_deref()
                .is_none_or(|i| i.trim().is_empty())
            {
                self.instance_id = Some("agent-mode".to_string());
            }
        }
        let endpoint = self.endpoint.ok_or_else(|| {
            Error::config(
                "DeveloperApiEndpointNotFound",
                "DeveloperApiEndpoint can not be empty",
            )
        })?;
        let (origin, host) = parse_endpoint(&endpoint)?;
        let instance_id = self
            .instance_id
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| {
                Error::config(
                    "IDaaSInstanceIdNotFound",
                    "IDaasInstanceId can not be empty",
                )
            })?;
        let provider = self.provider.ok_or_else(|| {
            Error::config(
                "CredentialProviderNotFound",
                "CredentialProvider can not be empty",
            )
        })?;
        let http = match self.http {
            Some(h) => h,
            None => HttpClient::new(self.http_options.unwrap_or_default())?,
        };
        let clock = self.clock.unwrap_or_else(system_clock);
        let mut path_prefix = String::from("/v2/");
        transport::path_encode_into(&mut path_prefix, &instance_id);
        if let Some(o) = &self.api_key_cache {
            if o.ttl.is_zero() || o.max_entries == 0 {
                return Err(Error::invalid_argument(
                    "apiKeyCache: ttl and maxEntries must be > 0 (leave the API-key cache off instead)",
                ));
            }
        }
        let api_key_cache = self
            .api_key_cache
            .map(|o| ApiKeyCache::new(o, clock.clone()));
        Ok(PamClient {
            inner: Arc::new(Inner {
                transport: Transport {
                    origin: origin.clone(),
                    host,
                    path_prefix,
                    provider,
                    http,
                    clock,
                    user_agent: self.user_agent.unwrap_or_else(user_agent),
                    retry: self.retry.unwrap_or_default(),
                    diag: self.diag,
                    agent: self.agent,
                },
                instance_id,
                endpoint: origin,
                api_key_cache,
            }),
        })
    }
}

/// Parse a Developer API endpoint into (`scheme://host[:port]`, `host[:port]`) (decision D-23).
fn parse_endpoint(raw: &str) -> Result<(String, String)> {
    let t = raw.trim();
    if t.is_empty() {
        return Err(Error::config(
            "DeveloperApiEndpointNotFound",
            "DeveloperApiEndpoint can not be empty",
        ));
    }
    let (explicit_http, rest) = if let Some(r) = t.strip_prefix("https://") {
        (false, r)
    } else if let Some(r) = t.strip_prefix("http://") {
        (true, r)
    } else {
        (false, t)
    };
    let host = rest.strip_suffix('/').unwrap_or(rest);
    let bad = |why: &str| {
        Error::config(
            "InvalidDeveloperApiEndpoint",
            format!("DeveloperApiEndpoint must be host[:port] ({why}): {t:?}"),
        )
    };
    if host.is_empty() {
        return Err(bad("no host"));
    }
    if host
        .chars()
        .any(|c| matches!(c, '/' | '?' | '#' | '@' | '\\') || c.is_whitespace() || c.is_control())
    {
        return Err(bad(
            "no scheme other than https://, path, query, fragment or user info allowed",
        ));
    }
    // A port, when present, must be a number (IPv6 literals are bracketed).
    let port = if host.starts_with('[') {
        host.rsplit_once("]:").map(|(_, p)| p)
    } else {
        host.rsplit_once(':').map(|(_, p)| p)
    };
    if let Some(p) = port {
        if p.parse::<u16>().is_err() {
            return Err(bad("invalid port"));
        }
    }
    let scheme = if explicit_http && is_loopback_url(&format!("http://{host}/")) {
        "http"
    } else {
        "https"
    };
    Ok((format!("{scheme}://{host}"), host.to_string()))
}

impl PamClient {
    /// A builder (endpoint, instance id and provider are required).
    pub fn builder() -> PamClientBuilder {
        PamClientBuilder::default()
    }

    /// A PAM client configured from a core [`Client`](crate::client::Client): endpoint and instance
    /// id from its configuration (`developerApiEndpoint`, `idaasInstanceId`), bearer tokens from its
    /// provider for scope [`SCOPE`] (`urn:cloud:idaas:pam|.all`), and its HTTP agent (keep-alive pool,
    /// timeouts and CA settings of the configuration) and clock. No network I/O: the first token is
    /// fetched by the first call. Error [`crate::ErrorKind::Config`] when the configuration has no
    /// `developerApiEndpoint`.
    pub fn from_client(client: &crate::client::Client) -> Result<PamClient> {
        let provider = client.provider_for_scope(SCOPE)?;
        Self::from_client_with_provider(client, provider)
    }

    /// Like [`PamClient::from_client`] with an explicit provider, e.g. a
    /// [`StaticProvider`](crate::provider::StaticProvider) wrapping a token-exchange result — the
    /// user-bound token the 3LO operations need.
    pub fn from_client_with_provider(
        client: &crate::client::Client,
        provider: SharedProvider,
    ) -> Result<PamClient> {
        Self::builder_from_client(client, provider).build()
    }

    /// A builder preset from a core client (see [`PamClient::from_client`]) for further options, e.g.
    /// the API-key cache.
    pub fn builder_from_client(
        client: &crate::client::Client,
        provider: SharedProvider,
    ) -> PamClientBuilder {
        let config = client.config();
        let mut b = PamClient::builder()
            .instance_id(config.idaas_instance_id.clone())
            .provider(provider)
            .shared_http(client.http().clone())
            .clock(client.clock().clone());
        b.diag = client.diag().clone();
        b.agent = client.agent().cloned();
        if let Some(e) = &config.developer_api_endpoint {
            b = b.endpoint(e.clone());
        }
        b
    }

    /// The Developer API origin in use (`https://host[:port]`).
    pub fn endpoint(&self) -> &str {
        &self.inner.endpoint
    }

    /// The instance id in use.
    pub fn instance_id(&self) -> &str {
        &self.inner.instance_id
    }

    /// The API-key cache, when enabled.
    pub fn api_key_cache(&self) -> Option<&ApiKeyCache> {
        self.inner.api_key_cache.as_ref()
    }

    /// Drop one cached API key (no-op without a cache).
    pub fn invalidate_api_key(&self, credential_identifier: &str) {
        if let Some(c) = &self.inner.api_key_cache {
            c.invalidate(credential_identifier);
        }
    }

    /// Drop every cached API key (no-op without a cache).
    pub fn invalidate_all_api_keys(&self) {
        if let Some(c) = &self.inner.api_key_cache {
            c.invalidate_all();
        }
    }

    pub(crate) fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    /// `get_api_key` without the cache.
    pub(crate) fn fetch_api_key(
        &self,
        credential_identifier: &str,
    ) -> Result<Option<SecretString>> {
        if let Some(agent) = self.agent() {
            return ops::agent_api_key(agent, credential_identifier);
        }
        ops::obtain_api_key(self.transport(), credential_identifier)
    }

    /// The host agent in agent mode (a client made from a core client in agent mode).
    pub(crate) fn agent(&self) -> Option<&crate::agent::AgentClient> {
        self.inner.transport.agent.as_ref()
    }

    /// True when this client asks the host agent (agent.md §6): only `get_api_key`,
    /// `fetch_oauth_authentication_token_v2` with flow `m2m`, `validate_authentication_token` and
    /// `obtain_jwt_authentication_token` are served; the others fail with an
    /// [`crate::ErrorKind::Config`] error (code `NotServedByAgent`).
    pub fn is_agent_mode(&self) -> bool {
        self.agent().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_rules() {
        let ok = |s: &str| parse_endpoint(s).unwrap().0;
        assert_eq!(
            ok("eiam-developerapi.cn-hangzhou.aliyuncs.com"),
            "https://eiam-developerapi.cn-hangzhou.aliyuncs.com"
        );
        assert_eq!(ok("https://h.example:8443/"), "https://h.example:8443");
        assert_eq!(ok("http://h.example"), "https://h.example");
        assert_eq!(ok("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(ok("127.0.0.1:8080"), "https://127.0.0.1:8080");
        assert_eq!(
            parse_endpoint("https://h.example:8443").unwrap().1,
            "h.example:8443"
        );
        for bad in [
            "",
            "   ",
            "https://",
            "h.example/v2",
            "https://h/x",
            "h?x=1",
            "u@h",
            "h:port",
            "ftp://h",
        ] {
            let e = parse_endpoint(bad).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Config, "{bad}");
        }
    }
}
