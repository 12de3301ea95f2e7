//! State of the Developer API: the error style, the verified-bearer cache and the in-memory
//! store of authentication tokens, 3LO sessions and consents.

use crate::bearer::BearerCache;
use crate::fixtures::{Fixtures, ProviderFixture};
use crate::util::lock;
use crate::util::{now_ms, random_id};
use crate::ErrorStyle;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Mutex;

/// Prefix of a session URI (`sessionUri` = prefix + session id).
pub(crate) const SESSION_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";
/// A pending session expires after this long.
pub(crate) const SESSION_LIFETIME_MS: u64 = 10 * 60 * 1000;

/// State of the Developer API.
pub(crate) struct DevApiState {
    /// [`ErrorStyle`] as a number, so it can change while requests are served.
    error_style: AtomicU8,
    /// Claims of bearer tokens whose signature has been verified.
    pub bearer: BearerCache,
    pub store: Mutex<DevStore>,
}

impl DevApiState {
    /// The state at start.
    pub fn new(fixtures: &Fixtures, style: ErrorStyle) -> DevApiState {
        let s = DevApiState {
            error_style: AtomicU8::new(0),
            bearer: BearerCache::default(),
            store: Mutex::new(DevStore::new(fixtures)),
        };
        s.set_error_style(style);
        s
    }

    /// The current shape of error bodies.
    pub fn error_style(&self) -> ErrorStyle {
        if self.error_style.load(Ordering::Relaxed) == 1 {
            ErrorStyle::Pop
        } else {
            ErrorStyle::OAuth
        }
    }

    /// Sets the shape of error bodies.
    pub fn set_error_style(&self, s: ErrorStyle) {
        self.error_style
            .store(if s == ErrorStyle::Pop { 1 } else { 0 }, Ordering::Relaxed);
    }

    /// Sets a session's status (control API, library); see [`DevStore::set_session_status`].
    pub fn set_session_status(&self, id_or_uri: &str, status: &str) -> Result<(), String> {
        lock(&self.store).set_session_status(id_or_uri, status)
    }

    /// All session ids, oldest first.
    pub fn session_ids(&self) -> Vec<String> {
        lock(&self.store)
            .sessions
            .iter()
            .map(|s| s.id.clone())
            .collect()
    }
}

/// A token issued by the Developer API (JWT or OAuth access token).
#[derive(Clone, Debug)]
pub(crate) struct AuthToken {
    pub id: String,
    pub provider: String,
    pub provider_id: String,
    /// `jwt` or `oauth_access_token`.
    pub kind: &'static str,
    pub consumer_type: String,
    pub consumer_id: String,
    pub creator_id: String,
    pub jwt: Option<String>,
    /// Derived short token of a JWT.
    pub dst: Option<String>,
    pub access_token: Option<String>,
    pub scope: String,
    pub revoked: bool,
    pub create_ms: u64,
    pub update_ms: u64,
    pub exp_ms: u64,
}

/// A 3LO authorisation session.
#[derive(Clone, Debug)]
pub(crate) struct Session {
    pub id: String,
    pub provider: String,
    pub consumer_type: String,
    pub consumer_id: String,
    pub creator_id: String,
    pub status: String,
    pub exp_ms: u64,
    pub token_id: Option<String>,
    pub scope: Option<String>,
    pub auth_url: String,
    pub error_code: Option<String>,
    pub error_desc: Option<String>,
}

/// Tokens, sessions and consents.
pub(crate) struct DevStore {
    providers: Vec<ProviderFixture>,
    provider_ids: HashMap<String, String>,
    pub credential_ids: HashMap<String, String>,
    pub tokens: Vec<AuthToken>,
    pub sessions: Vec<Session>,
    /// (consumer id, provider identifier) pairs a user consented to (3LO).
    pub consents: HashSet<(String, String)>,
    /// Creation and update time of every credential.
    pub created_ms: u64,
}

impl DevStore {
    /// Initial state from the fixtures.
    fn new(f: &Fixtures) -> DevStore {
        DevStore {
            providers: f.credential_providers.clone(),
            provider_ids: f
                .credential_providers
                .iter()
                .map(|p| (p.identifier.clone(), random_id("atp_")))
                .collect(),
            credential_ids: f
                .credentials
                .iter()
                .map(|c| (c.identifier.clone(), random_id("cred_")))
                .collect(),
            tokens: Vec::new(),
            sessions: Vec::new(),
            consents: HashSet::new(),
            created_ms: now_ms(),
        }
    }

    /// A session by id or session URI; a pending session past its expiry becomes `expired`.
    pub fn session_mut(&mut self, id_or_uri: &str) -> Option<&mut Session> {
        let id = id_or_uri
            .strip_prefix(SESSION_URI_PREFIX)
            .unwrap_or(id_or_uri);
        let now = now_ms();
        let s = self.sessions.iter_mut().find(|s| s.id == id)?;
        if s.status == "pending" && now > s.exp_ms {
            s.status = "expired".into();
        }
        Some(s)
    }

    /// Sets a session's status. `completed` records the consent and issues the OAuth token;
    /// `failed` withdraws the consent and records `access_denied`.
    pub fn set_session_status(&mut self, id_or_uri: &str, status: &str) -> Result<(), String> {
        if ![
            "pending",
            "callback_received",
            "completed",
            "failed",
            "expired",
        ]
        .contains(&status)
        {
            return Err(format!(
                "unknown status {status:?} (expected pending, callback_received, completed, failed or expired)"
            ));
        }
        let s = self
            .session_mut(id_or_uri)
            .ok_or_else(|| format!("unknown session {id_or_uri}"))?;
        s.status = status.to_string();
        let (consumer_type, consumer, creator, provider, scope) = (
            s.consumer_type.clone(),
            s.consumer_id.clone(),
            s.creator_id.clone(),
            s.provider.clone(),
            s.scope.clone(),
        );
        match status {
            "completed" => {
                self.consents.insert((consumer.clone(), provider.clone()));
                let p = self
                    .provider(&provider)
                    .ok_or("session provider vanished")?;
                let id = self
                    .issue_oauth_token(&p, &consumer_type, &consumer, &creator, scope)
                    .id
                    .clone();
                if let Some(s) = self.session_mut(id_or_uri) {
                    s.token_id = Some(id);
                    s.error_code = None;
                    s.error_desc = None;
                }
            }
            "failed" => {
                self.consents.remove(&(consumer, provider));
                if let Some(s) = self.session_mut(id_or_uri) {
                    s.error_code = Some("access_denied".into());
                    s.error_desc = Some("the user denied the authorization request".into());
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// A credential provider of the fixtures.
    pub fn provider(&self, identifier: &str) -> Option<ProviderFixture> {
        self.providers
            .iter()
            .find(|p| p.identifier == identifier)
            .cloned()
    }

    /// The `credentialProviderId` of a provider.
    pub fn provider_id(&self, identifier: &str) -> String {
        self.provider_ids
            .get(identifier)
            .cloned()
            .unwrap_or_default()
    }

    /// Issues (stores) a fresh OAuth access token of provider `p`.
    pub fn issue_oauth_token(
        &mut self,
        p: &ProviderFixture,
        consumer_type: &str,
        consumer: &str,
        creator: &str,
        scope: Option<String>,
    ) -> &AuthToken {
        let now = now_ms();
        let t = AuthToken {
            id: random_id("atntkn_"),
            provider: p.identifier.clone(),
            provider_id: self.provider_id(&p.identifier),
            kind: "oauth_access_token",
            consumer_type: consumer_type.to_string(),
            consumer_id: consumer.to_string(),
            creator_id: creator.to_string(),
            jwt: None,
            dst: None,
            access_token: Some(format!("emu_oauth_{}", uuid::Uuid::new_v4().simple())),
            scope: scope.unwrap_or_else(|| p.scope.clone()),
            revoked: false,
            create_ms: now,
            update_ms: now,
            exp_ms: now + p.token_lifetime_secs * 1000,
        };
        self.push_token(t)
    }

    /// Stores a token.
    pub fn push_token(&mut self, t: AuthToken) -> &AuthToken {
        self.tokens.push(t);
        &self.tokens[self.tokens.len() - 1]
    }

    /// A token by its value: the JWT, its derived short token or the OAuth access token.
    pub fn token_by_value(&mut self, token: &str) -> Option<&mut AuthToken> {
        self.tokens.iter_mut().find(|t| {
            t.jwt.as_deref() == Some(token)
                || t.dst.as_deref() == Some(token)
                || t.access_token.as_deref() == Some(token)
        })
    }
}
