//! The core clients the agent serves from (agent.md §4.1) and the blocking operations of the
//! routes (agent.md §2.1). Everything here runs on tokio's blocking pool (decision D-67), never on
//! the runtime thread.

use idaas::json::{credential_json, to_secret_json};
use idaas::pam::{ApiKeyCacheOptions, FetchOAuthOptions, PamClient};
use idaas::{
    Client, Config, CredentialProvider, Error, ErrorKind, SecretString, TokenExchangeRequest,
};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// What identifies a configuration for reload (agent.md §5.1): the file's bytes and the parsed
/// configuration's description (which covers what the file names, e.g. environment variables).
#[derive(PartialEq, Eq)]
pub struct Fingerprint(Vec<u8>, String);

/// The path [`Config::load`] reads (core.md §2.1): explicit, else `CLOUD_IDAAS_CONFIG_PATH`, else
/// `~/.cloud_idaas/client-config.json`. Only used to notice a change; `Config::load` stays the
/// authority on loading.
fn config_path(explicit: Option<&Path>) -> Option<PathBuf> {
    let expand = |p: &Path| -> PathBuf {
        match (p.strip_prefix("~"), std::env::var_os("HOME")) {
            (Ok(rest), Some(home)) => Path::new(&home).join(rest),
            _ => p.to_path_buf(),
        }
    };
    if let Some(p) = explicit.filter(|p| !p.as_os_str().is_empty()) {
        return Some(expand(p));
    }
    if let Ok(v) = std::env::var(idaas::CONFIG_PATH_ENV) {
        if !v.trim().is_empty() {
            return Some(expand(Path::new(&v)));
        }
    }
    std::env::var_os("HOME").map(|h| Path::new(&h).join(".cloud_idaas/client-config.json"))
}

/// Loads the configuration and its fingerprint.
pub fn load_config(explicit: Option<&Path>) -> idaas::Result<(Config, Fingerprint)> {
    let config = Config::load(explicit)?;
    if config.is_agent_mode() {
        return Err(Error::config(
            "AgentConfigInAgentMode",
            "the agent's configuration sets agentSocket: the agent would send its own requests to \
             itself; remove agentSocket from the configuration the agent reads",
        ));
    }
    let bytes = config_path(explicit)
        .and_then(|p| std::fs::read(p).ok())
        .unwrap_or_default();
    let described = format!("{config:?}");
    Ok((config, Fingerprint(bytes, described)))
}

/// One generation of clients: replaced as a whole by a reload that changed the configuration.
pub struct Backend {
    pub client: Client,
    /// The PAM client with the API-key cache; its error when the configuration cannot make one
    /// (e.g. no `developerApiEndpoint`): the token routes still work.
    pam: Result<PamClient, Error>,
    pub fingerprint: Fingerprint,
    /// Scopes served so far (agent.md §4.1: at most `max_entries`).
    scopes: Mutex<HashSet<String>>,
    max_entries: usize,
    /// A token of the configured scope was obtained by this generation (agent.md §4.3).
    ready: AtomicBool,
}

/// The result of a route's core operation: the JSON reply (a secret) and whether a cache answered
/// (`None`: the route has no cache).
pub struct Reply {
    pub json: SecretString,
    pub cache_hit: Option<bool>,
}

impl Backend {
    pub fn new(
        config: Config,
        fingerprint: Fingerprint,
        max_entries: usize,
    ) -> idaas::Result<Self> {
        let client = Client::new(config)?;
        let pam =
            PamClient::builder_from_client(&client, client.provider_for_scope(idaas::pam::SCOPE)?)
                .api_key_cache(ApiKeyCacheOptions {
                    max_entries,
                    ..ApiKeyCacheOptions::default()
                })
                .build();
        Ok(Backend {
            client,
            pam,
            fingerprint,
            scopes: Mutex::new(HashSet::new()),
            max_entries,
            ready: AtomicBool::new(false),
        })
    }

    fn pam(&self) -> idaas::Result<&PamClient> {
        self.pam.as_ref().map_err(copy_error)
    }

    /// Ready (agent.md §4.3): a token of the configured scope was obtained, by a request or by the
    /// PAM client when it shares the default scope.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
            || self
                .client
                .try_fresh_bearer_token(None, |_, _| ())
                .is_some()
    }

    /// Number of token scopes and API keys held.
    pub fn entries(&self) -> (usize, usize) {
        let scopes = self.scopes.lock().unwrap_or_else(|e| e.into_inner()).len();
        let keys = self
            .pam
            .as_ref()
            .ok()
            .and_then(|p| p.api_key_cache())
            .map_or(0, |c| c.len());
        (scopes, keys)
    }

    /// `GET /v1/token[?scope=S]`.
    pub fn token(&self, scope: Option<&str>) -> idaas::Result<Reply> {
        let configured = self.client.config().scope.clone();
        let scope = scope.unwrap_or(&configured);
        let provider = {
            let mut scopes = self.scopes.lock().unwrap_or_else(|e| e.into_inner());
            if !scopes.contains(scope) && scopes.len() >= self.max_entries {
                return Err(Error::new(
                    ErrorKind::Server,
                    "agent_cache_full",
                    format!(
                        "the agent holds tokens for {} scopes (--max-entries); a new scope is refused",
                        self.max_entries
                    ),
                ));
            }
            // Validates the scope (invalid_argument) and makes its cache; no I/O.
            let p = self.client.cached_provider_for_scope(scope)?;
            scopes.insert(scope.to_string());
            p
        };
        let hit = self
            .client
            .try_fresh_bearer_token(Some(scope), |_, _| ())
            .is_some();
        let credential = provider.credential()?;
        if scope == configured {
            self.ready.store(true, Ordering::Relaxed);
        }
        Ok(Reply {
            json: credential_json(&credential)?,
            cache_hit: Some(hit),
        })
    }

    /// `POST /v1/token/exchange` (never cached).
    pub fn exchange(&self, req: &TokenExchangeRequest) -> idaas::Result<Reply> {
        let c = self.client.exchange_token(req)?;
        Ok(Reply {
            json: credential_json(&c)?,
            cache_hit: None,
        })
    }

    /// `GET /v1/api-keys/{credentialIdentifier}`.
    pub fn api_key(&self, id: &str) -> idaas::Result<Reply> {
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct ApiKeyJson<'a> {
            credential_identifier: &'a str,
            api_key: Option<&'a str>,
        }
        let pam = self.pam()?;
        let fetches = |p: &PamClient| p.api_key_cache().map_or(0, |c| c.fetch_count());
        let before = fetches(pam);
        let key = pam.get_api_key(id)?;
        let hit = fetches(pam) == before;
        Ok(Reply {
            json: to_secret_json(&ApiKeyJson {
                credential_identifier: id,
                api_key: key.as_ref().map(|k| k.expose()),
            })?,
            cache_hit: Some(hit),
        })
    }

    /// `POST /v1/oauth-tokens/{credentialProviderIdentifier}` (flow `m2m`).
    pub fn oauth_token(&self, provider: &str, options: &FetchOAuthOptions) -> idaas::Result<Reply> {
        let r = self
            .pam()?
            .fetch_oauth_authentication_token_v2(provider, "m2m", options)?;
        Ok(Reply {
            json: to_secret_json(&r)?,
            cache_hit: None,
        })
    }

    /// `POST /v1/jwt/validate`.
    pub fn jwt_validate(&self, token: &SecretString, hint: Option<&str>) -> idaas::Result<Reply> {
        let active = self.pam()?.validate_authentication_token(token, hint)?;
        Ok(Reply {
            json: SecretString::new(format!("{{\"active\":{active}}}")),
            cache_hit: None,
        })
    }

    /// `POST /v1/jwt/obtain`.
    pub fn jwt_obtain(&self, consumer_id: &str, token_id: &str) -> idaas::Result<Reply> {
        let c = self
            .pam()?
            .obtain_jwt_authentication_token(consumer_id, token_id)?;
        Ok(Reply {
            json: to_secret_json(&c)?,
            cache_hit: None,
        })
    }
}

/// A copy of `e` (the core's error is not `Clone`; its source is not needed for a reply).
fn copy_error(e: &Error) -> Error {
    let mut c = Error::new(e.kind(), e.code(), e.message());
    if let Some(s) = e.http_status() {
        c = c.with_status(s);
    }
    if let Some(r) = e.request_id() {
        c = c.with_request_id(r);
    }
    c
}
