//! The built-in PLUGIN `alibabacloudPluginCredentialProvider`: IDaaS tokens from Alibaba Cloud
//! credentials (the protocol as implemented: `docs/protocol/alibaba-plugin.md`; decisions D-44 to
//! D-52).
//!
//! A configuration with `authnMethod: PLUGIN`, `pluginName: alibabacloudPluginCredentialProvider`
//! and `openApiEndpoint` gets its tokens from the EIAM OpenAPI (`GenerateOauthToken`, signed with
//! an Alibaba Cloud key) instead of the token endpoint — in every language, with no application
//! code (D-44). A plugin the application registers under that name wins over the built-in one.
//!
//! Per client, built once when the client is built ([`AlibabaPlugin::new`]):
//! * the **credential chain** ([`chain`]), from a snapshot of the environment taken then (D-46):
//!   environment AccessKey or STS token, OIDC role (RRSA), aliyun CLI profile, credentials file,
//!   ECS RAM role, credentials URI;
//! * a [`RefreshCache`] of the resolved key: temporary credentials are refreshed ahead of their
//!   `Expiration` by the rules of the token cache (D-19); a key without an expiry is looked up
//!   again every [`LONG_TERM_RECHECK`], so a rotated profile file is picked up; after a 4xx from
//!   the OpenAPI the key is dropped so the next fetch asks the chain again (D-46);
//! * the **OpenAPI call** ([`openapi`]) with its retries (D-50).
//!
//! Each token fetch for a scope = the cached key (the chain is not walked again while it is
//! valid) + one `GenerateOauthToken`; the token is cached per scope like a token-endpoint reply.
//!
//! Errors (D-50): an OpenAPI 4xx is an [`ErrorKind::Auth`] error (429: [`ErrorKind::Client`]) with
//! the service's `Code`, `Message` and `RequestId`; a 5xx an [`ErrorKind::Server`] error (retried
//! first); anything else — no key in the chain, a transport failure, a reply without a token — an
//! [`ErrorKind::Credential`] error. No error, log line or `Debug` output shows a secret: AccessKey
//! secrets, security tokens, OIDC and metadata tokens are [`SecretString`]s, wiped after use and
//! redacted from server text.
//!
//! The services the chain reaches can be moved (tests, the emulator): STS by
//! [`STS_ENDPOINT_ENV`], the metadata service by [`ECS_METADATA_ENDPOINT_ENV`], both also by
//! [`AlibabaCloudOptions`] given to [`crate::ClientBuilder::alibaba_cloud`] (D-52).

pub(crate) mod chain;
mod env;
pub(crate) mod openapi;
mod profile;
mod remote;
pub(crate) mod sign;
pub(crate) mod time;

use crate::cache::{CachePolicy, Fetched, RefreshCache};
use crate::clock::SharedClock;
use crate::config::Config;
use crate::diag::Diag;
use crate::error::{Error, ErrorKind, Result};
use crate::http::HttpClient;
use crate::plugin::TokenPlugin;
use crate::provider::Credential;
use crate::retry::RetryPolicy;
use crate::secret::SecretString;
use chain::{AlibabaCredential, Chain, Endpoints};
use std::sync::Arc;
use std::time::Duration;

/// The `pluginName` of the built-in Alibaba Cloud plugin.
pub const PLUGIN_NAME: &str = "alibabacloudPluginCredentialProvider";
/// Environment variable moving STS (a base URL, e.g. `https://127.0.0.1:8443`).
pub const STS_ENDPOINT_ENV: &str = "IDAAS_ALIBABA_CLOUD_STS_ENDPOINT";
/// Environment variable moving the ECS metadata service (a base URL; default
/// `http://100.100.100.200`).
pub const ECS_METADATA_ENDPOINT_ENV: &str = "IDAAS_ALIBABA_CLOUD_ECS_METADATA_ENDPOINT";
/// How long a key without an expiry (an AccessKey, or an STS token given without one) is used
/// before the chain is asked again.
pub const LONG_TERM_RECHECK: Duration = Duration::from_secs(3600);

/// Options of the built-in Alibaba Cloud plugin ([`crate::ClientBuilder::alibaba_cloud`]). Each
/// option left unset comes from the environment when the client is built.
#[derive(Clone, Default)]
pub struct AlibabaCloudOptions {
    sts_endpoint: Option<String>,
    ecs_metadata_endpoint: Option<String>,
    credentials_uri: Option<String>,
    environment: Option<Vec<(String, SecretString)>>,
}

impl std::fmt::Debug for AlibabaCloudOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlibabaCloudOptions")
            .field("sts_endpoint", &self.sts_endpoint)
            .field("ecs_metadata_endpoint", &self.ecs_metadata_endpoint)
            .field(
                "credentials_uri",
                &self.credentials_uri.as_ref().map(|_| "<set>"),
            )
            .field(
                "environment",
                &self
                    .environment
                    .as_ref()
                    .map(|v| v.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>()),
            )
            .finish()
    }
}

impl AlibabaCloudOptions {
    /// No options: everything from the environment.
    pub fn new() -> Self {
        Self::default()
    }

    /// Base URL of STS for `AssumeRoleWithOIDC` (default: [`STS_ENDPOINT_ENV`], else derived
    /// from `ALIBABA_CLOUD_STS_REGION`, else `https://sts.aliyuncs.com`). Plain `http://` only to a
    /// loopback host.
    pub fn sts_endpoint(mut self, base_url: impl Into<String>) -> Self {
        self.sts_endpoint = Some(base_url.into());
        self
    }

    /// Base URL of the ECS metadata service (default: [`ECS_METADATA_ENDPOINT_ENV`], else
    /// `http://100.100.100.200`), e.g. the emulator's `metadata_base_url()`.
    pub fn ecs_metadata_endpoint(mut self, base_url: impl Into<String>) -> Self {
        self.ecs_metadata_endpoint = Some(base_url.into());
        self
    }

    /// The credentials URI (default: `ALIBABA_CLOUD_CREDENTIALS_URI`): `https://`, or plain
    /// `http://` to a loopback host only.
    pub fn credentials_uri(mut self, url: impl Into<String>) -> Self {
        self.credentials_uri = Some(url.into());
        self
    }

    /// Read the chain's variables (`ALIBABA_CLOUD_*`, `IDAAS_ALIBABA_CLOUD_*`, `HOME`,
    /// `HOMEPATH`) from `vars` instead of the process environment, which is then not read at all
    /// (the home directory too must come from `HOME` or `HOMEPATH` here). Values are kept as
    /// secrets.
    pub fn environment<I, K, V>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<SecretString>,
    {
        self.environment = Some(
            vars.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        );
        self
    }
}

/// A trimmed, non-blank URL without a trailing `/`.
fn base_url(s: &str) -> Option<String> {
    let t = s.trim().trim_end_matches('/');
    (!t.is_empty()).then(|| t.to_string())
}

/// The built-in plugin (module docs).
pub(crate) struct AlibabaPlugin {
    api: openapi::OpenApi,
    chain: Arc<Chain>,
    credentials: RefreshCache<AlibabaCredential>,
}

impl std::fmt::Debug for AlibabaPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlibabaPlugin")
            .field("api", &self.api)
            .field("chain", &self.chain)
            .finish_non_exhaustive()
    }
}

impl AlibabaPlugin {
    /// The plugin for `config`: checks `openApiEndpoint` (D-44) and builds the chain from the
    /// environment as it is now (D-46). No network I/O.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        config: &Config,
        opts: &AlibabaCloudOptions,
        http: &HttpClient,
        clock: &SharedClock,
        retry: &RetryPolicy,
        policy: &CachePolicy,
        diag: &Diag,
    ) -> Result<AlibabaPlugin> {
        let raw = config
            .open_api_endpoint
            .as_deref()
            .filter(|e| !e.trim().is_empty())
            .ok_or_else(|| {
                Error::config(
                    "OpenApiEndpointNotFound",
                    format!(
                        "openApiEndpoint: required by the built-in PLUGIN {PLUGIN_NAME} (the EIAM OpenAPI host, e.g. eiam.cn-hangzhou.aliyuncs.com)"
                    ),
                )
            })?;
        let endpoint = openapi::parse_endpoint(raw)?;
        let env = match &opts.environment {
            Some(vars) => env::ChainEnv::from_vars(vars.iter().cloned()),
            None => env::ChainEnv::from_process(),
        };
        let endpoints = Endpoints {
            sts: opts
                .sts_endpoint
                .as_deref()
                .or_else(|| env.get(STS_ENDPOINT_ENV))
                .and_then(base_url),
            metadata: opts
                .ecs_metadata_endpoint
                .as_deref()
                .or_else(|| env.get(ECS_METADATA_ENDPOINT_ENV))
                .and_then(base_url)
                .unwrap_or_else(|| chain::DEFAULT_METADATA_ENDPOINT.to_string()),
            credentials_uri: opts
                .credentials_uri
                .as_deref()
                .or_else(|| env.get("ALIBABA_CLOUD_CREDENTIALS_URI"))
                .map(|u| u.trim().to_string())
                .filter(|u| !u.is_empty()),
        };
        let chain = Arc::new(Chain::new(env, endpoints, http.clone(), clock.clone()));
        let (c2, clock2) = (chain.clone(), clock.clone());
        let credentials = RefreshCache::with_diag(
            "Alibaba Cloud credentials",
            move || {
                let c = c2.resolve()?;
                let expires_at_ms = match c.expiration {
                    Some(secs) => secs.saturating_mul(1000),
                    None => clock2
                        .now_millis()
                        .saturating_add(LONG_TERM_RECHECK.as_millis() as u64),
                };
                Ok(Fetched {
                    value: c,
                    expires_at_ms,
                })
            },
            clock.clone(),
            policy.clone(),
            diag.clone(),
        );
        Ok(AlibabaPlugin {
            api: openapi::OpenApi {
                http: http.clone(),
                endpoint,
                application_id: config.client_id.clone(),
                instance_id: config.idaas_instance_id.clone(),
                retry: retry.clone(),
                clock: clock.clone(),
            },
            chain,
            credentials,
        })
    }

    fn fetch(&self, scope: &str) -> Result<Credential> {
        let (audience, values) = openapi::scope_params(scope)?;
        let cred = self.credentials.get()?;
        let result = self.api.generate_oauth_token(&cred, &audience, &values);
        if let Err(e) = &result {
            if e.kind() == ErrorKind::Auth {
                // The service refused the key (unknown, wrong secret, expired token …): ask the
                // chain again next time instead of reusing it until it expires.
                let id = cred.access_key_id.clone();
                self.credentials.invalidate_if(|c| c.access_key_id == id);
            }
        }
        result
    }
}

impl TokenPlugin for AlibabaPlugin {
    fn fetch_token(&self, scope: &str) -> Result<Credential> {
        self.fetch(scope).map_err(|e| match e.kind() {
            // D-50: the service's refusals and failures keep their kind …
            ErrorKind::Auth
            | ErrorKind::Client
            | ErrorKind::Server
            | ErrorKind::InvalidArgument => e,
            // … everything else is a credential failure.
            _ => e.with_kind(ErrorKind::Credential),
        })
    }
}
