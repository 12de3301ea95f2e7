//! The Developer API operations (pam.md §4).

use super::models::{
    AuthenticationToken, JwtContent, JwtTokenResponse, NextTokenPageableResponse,
    OAuthAuthenticationTokenResponse, OAuthAuthorizationSessionResponse, ObtainCredentialReply,
    ValidateReply,
};
use super::transport::{unexpected, JsonBody, JsonValueRef, JsonWriter, Op, Payload, Transport};
use super::{
    AuthenticationTokens, PamClient, MAX_SCOPE_CHARS, OAUTH_AUTHORIZATION_FLOW_M2M,
    OAUTH_AUTHORIZATION_FLOW_USER_FEDERATION, RESERVED_AUDIENCE_PREFIX,
};
use crate::error::{Error, ErrorKind, Result};
use crate::secret::SecretString;
use crate::server_text::{check_opt, TextRule};

/// The OAuth authorization flow a caller expects (pam.md §4.3). It is checked locally and never sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthorizationFlow {
    /// `m2m`: the provider must hand out a token at once (2LO).
    M2m,
    /// `user_federation`: the user may have to authorize first (3LO).
    UserFederation,
}

impl AuthorizationFlow {
    /// Parse `m2m` / `user_federation`; anything else is the `invalid_authorization_flow` error
    /// ([`ErrorKind::InvalidArgument`]).
    pub fn parse(flow: &str) -> Result<Self> {
        match flow {
            OAUTH_AUTHORIZATION_FLOW_M2M => Ok(AuthorizationFlow::M2m),
            OAUTH_AUTHORIZATION_FLOW_USER_FEDERATION => Ok(AuthorizationFlow::UserFederation),
            _ => Err(Error::new(
                ErrorKind::InvalidArgument,
                "invalid_authorization_flow",
                "authorization_flow must be either 'm2m' or 'user_federation'",
            )),
        }
    }

    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthorizationFlow::M2m => OAUTH_AUTHORIZATION_FLOW_M2M,
            AuthorizationFlow::UserFederation => OAUTH_AUTHORIZATION_FLOW_USER_FEDERATION,
        }
    }
}

/// Optional arguments of [`PamClient::fetch_oauth_authentication_token_v2`] (and of the poll).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FetchOAuthOptions {
    /// OAuth scopes, space-separated (at most 256 characters); the provider's default when `None`.
    pub scope: Option<String>,
    /// Ignore an existing valid token (server default false).
    pub force_authentication: Option<bool>,
    /// Extra parameters the server appends to the provider's authorization URL, sent in this order.
    pub custom_parameters: Option<Vec<(String, String)>>,
}

/// Optional arguments of [`PamClient::generate_jwt_authentication_token`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GenerateJwtOptions {
    /// JWT `iss` (must pass the provider's issuer whitelist, if any).
    pub issuer: Option<String>,
    /// Extra claims (any JSON values), written in this order.
    pub custom_claims: Option<Vec<(String, serde_json::Value)>>,
    /// JWT lifetime in seconds (provider default when `None`; must be > 0).
    pub expiration: Option<u64>,
    /// Also issue a derived short token.
    pub include_derived_short_token: Option<bool>,
}

/// Optional arguments of [`PamClient::list_authentication_tokens`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListAuthenticationTokensOptions {
    /// Cursor from the previous page's `nextToken`.
    pub next_token: Option<String>,
    /// Page size (> 0).
    pub max_results: Option<u32>,
    /// Filter on the revoked flag.
    pub revoked: Option<bool>,
    /// Filter on expiry.
    pub expired: Option<bool>,
}

/// Reject a blank required argument (named by its wire name; the value is never echoed).
pub(crate) fn require(name: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::invalid_argument(format!("{name} must not be empty")));
    }
    Ok(())
}

fn check_scope(scope: Option<&str>) -> Result<()> {
    if let Some(s) = scope {
        require("scope", s)?;
        if s.chars().count() > MAX_SCOPE_CHARS {
            return Err(Error::invalid_argument(format!(
                "scope must be at most {MAX_SCOPE_CHARS} characters"
            )));
        }
    }
    Ok(())
}

fn check_unique_keys<'a>(name: &str, keys: impl Iterator<Item = &'a str>) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for k in keys {
        if k.is_empty() {
            return Err(Error::invalid_argument(format!("{name}: empty key")));
        }
        if !seen.insert(k) {
            return Err(Error::invalid_argument(format!(
                "{name}: duplicate key {k:?}"
            )));
        }
    }
    Ok(())
}

fn fetch_oauth_body(
    id: &str,
    scope: Option<&str>,
    force: Option<bool>,
    params: Option<&[(String, String)]>,
) -> JsonBody {
    JsonWriter::new()
        .str("credentialProviderIdentifier", id)
        .opt_object(
            "customParameters",
            params.map(|p| p.iter().map(|(k, v)| (k.as_str(), JsonValueRef::Str(v)))),
        )
        .opt_bool("forceAuthentication", force)
        .opt_str("scope", scope)
        .finish()
}

fn token_body(token: &SecretString, hint: Option<&str>) -> JsonBody {
    JsonWriter::new()
        .secret("token", token)
        .opt_str("token_type_hint", hint)
        .finish()
}

fn consumer_body(consumer_id: &str, provider_id: &str) -> JsonBody {
    JsonWriter::new()
        .str("consumerId", consumer_id)
        .str("credentialProviderIdentifier", provider_id)
        .finish()
}

/// `ObtainCredential` → the API key, or `None` when the credential has no `apiKeyContent`.
pub(crate) fn obtain_api_key(
    t: &Transport,
    credential_identifier: &str,
) -> Result<Option<SecretString>> {
    require("credentialIdentifier", credential_identifier)?;
    let reply: ObtainCredentialReply = t.call_json(
        Op::ObtainCredential,
        &Payload::Query(vec![(
            "credentialIdentifier",
            credential_identifier.to_string(),
        )]),
    )?;
    let key = reply
        .credential_content
        .and_then(|c| c.api_key_content)
        .and_then(|a| a.api_key);
    check_value(
        Op::ObtainCredential,
        "credentialContent.apiKeyContent.apiKey",
        key.as_ref().map(SecretString::expose),
        TextRule::Visible,
    )?;
    if key.is_none() {
        crate::diag::event!(Info, "credential {credential_identifier:?} has no apiKeyContent (credentialType {:?}); no API key returned",
            reply.credential_type.as_deref().unwrap_or("unknown")
        );
    }
    Ok(key)
}

/// `ObtainCredential` through the host agent (`GET /v1/api-keys/{id}`, agent.md §2.1), with the
/// checks of [`obtain_api_key`].
pub(crate) fn agent_api_key(
    agent: &crate::agent::AgentClient,
    credential_identifier: &str,
) -> Result<Option<SecretString>> {
    require("credentialIdentifier", credential_identifier)?;
    let key = agent.api_key(credential_identifier)?;
    check_value(
        Op::ObtainCredential,
        "apiKey",
        key.as_ref().map(SecretString::expose),
        TextRule::Visible,
    )?;
    Ok(key)
}

impl PamClient {
    /// `ObtainCredential` (pam.md §4.1): the API key of credential `credential_identifier`, or `None`
    /// when that credential has no `apiKeyContent` (e.g. an OAuth-client credential; logged at info
    /// level). Served from the API-key cache when one is enabled
    /// ([`super::PamClientBuilder::api_key_cache`]).
    pub fn get_api_key(&self, credential_identifier: &str) -> Result<Option<SecretString>> {
        require("credentialIdentifier", credential_identifier)?;
        match self.api_key_cache() {
            Some(cache) => cache.get(credential_identifier, || {
                self.fetch_api_key(credential_identifier)
            }),
            None => self.fetch_api_key(credential_identifier),
        }
    }

    /// `FetchOAuthAuthenticationToken`, legacy form (pam.md §4.2): the access token value, or `None`
    /// when the reply carries none (e.g. user authorization is pending).
    #[deprecated(
        note = "use fetch_oauth_authentication_token_v2, which returns the whole reply and checks the flow"
    )]
    pub fn fetch_oauth_authentication_token(
        &self,
        credential_provider_identifier: &str,
        scope: Option<&str>,
    ) -> Result<Option<SecretString>> {
        crate::diag::event!(Warn, "fetch_oauth_authentication_token is deprecated; use fetch_oauth_authentication_token_v2");
        require(
            "credentialProviderIdentifier",
            credential_provider_identifier,
        )?;
        check_scope(scope)?;
        let reply: OAuthAuthenticationTokenResponse = self.transport().call_json(
            Op::FetchOAuthAuthenticationToken,
            &Payload::Json(fetch_oauth_body(
                credential_provider_identifier,
                scope,
                None,
                None,
            )),
        )?;
        check_oauth_token(&reply)?;
        Ok(reply
            .oauth_access_token_content
            .map(|c| c.access_token_value)
            .filter(|v| !v.is_empty()))
    }

    /// `FetchOAuthAuthenticationToken` (pam.md §4.3). `authorization_flow` must be `m2m` or
    /// `user_federation` (checked before any request, never sent). With `m2m`, a reply asking for
    /// user authorization is the `authorization_flow_mismatch` error ([`ErrorKind::Client`]).
    pub fn fetch_oauth_authentication_token_v2(
        &self,
        credential_provider_identifier: &str,
        authorization_flow: &str,
        options: &FetchOAuthOptions,
    ) -> Result<OAuthAuthenticationTokenResponse> {
        let flow = AuthorizationFlow::parse(authorization_flow)?;
        require(
            "credentialProviderIdentifier",
            credential_provider_identifier,
        )?;
        check_scope(options.scope.as_deref())?;
        if let Some(p) = &options.custom_parameters {
            check_unique_keys("customParameters", p.iter().map(|(k, _)| k.as_str()))?;
        }
        if let Some(agent) = self.agent() {
            // Agent mode: flow m2m only, and no forced re-authentication of a shared token
            // (agent.md §2.1); anything else reaches the transport, which refuses it.
            if flow == AuthorizationFlow::M2m && options.force_authentication != Some(true) {
                let reply = agent.oauth_token(
                    credential_provider_identifier,
                    options.scope.as_deref(),
                    options.custom_parameters.as_deref(),
                )?;
                check_oauth_token(&reply)?;
                if reply.has_oauth_authorization_session() {
                    return Err(flow_mismatch());
                }
                return Ok(reply);
            }
            let what = if flow == AuthorizationFlow::M2m {
                "FetchOAuthAuthenticationToken with forceAuthentication"
            } else {
                "FetchOAuthAuthenticationToken with flow user_federation"
            };
            return Err(agent.not_served(what));
        }
        let reply: OAuthAuthenticationTokenResponse = self.transport().call_json(
            Op::FetchOAuthAuthenticationToken,
            &Payload::Json(fetch_oauth_body(
                credential_provider_identifier,
                options.scope.as_deref(),
                options.force_authentication,
                options.custom_parameters.as_deref(),
            )),
        )?;
        check_oauth_token(&reply)?;
        if flow == AuthorizationFlow::M2m && reply.has_oauth_authorization_session() {
            return Err(flow_mismatch());
        }
        Ok(reply)
    }

    /// `GetOAuthAuthorizationSession` (pam.md §4.4).
    pub fn get_oauth_authorization_session(
        &self,
        session_uri: &str,
    ) -> Result<OAuthAuthorizationSessionResponse> {
        require("sessionUri", session_uri)?;
        self.transport().call_json(
            Op::GetOAuthAuthorizationSession,
            &Payload::Json(JsonWriter::new().str("sessionUri", session_uri).finish()),
        )
    }

    /// `GenerateJwtAuthenticationToken` (pam.md §4.6). `audiences` must be non-empty and none may be
    /// blank or start with the reserved prefix `urn:cloud:idaas`. A reply without
    /// `jwtContent.jwtValue` is an [`ErrorKind::UnexpectedResponse`] error (Java behaviour; the Python
    /// reference returns null).
    pub fn generate_jwt_authentication_token(
        &self,
        credential_provider_identifier: &str,
        subject: &str,
        audiences: &[String],
        options: &GenerateJwtOptions,
    ) -> Result<JwtTokenResponse> {
        require(
            "credentialProviderIdentifier",
            credential_provider_identifier,
        )?;
        require("subject", subject)?;
        if audiences.is_empty() {
            return Err(Error::invalid_argument("audiences must not be empty"));
        }
        for a in audiences {
            require("audiences[]", a)?;
            if a.starts_with(RESERVED_AUDIENCE_PREFIX) {
                return Err(Error::invalid_argument(format!(
                    "audience {a:?} uses the reserved prefix {RESERVED_AUDIENCE_PREFIX:?}"
                )));
            }
        }
        if let Some(i) = &options.issuer {
            require("issuer", i)?;
        }
        if options.expiration == Some(0) {
            return Err(Error::invalid_argument(
                "expiration must be a positive number of seconds",
            ));
        }
        if let Some(c) = &options.custom_claims {
            check_unique_keys("customClaims", c.iter().map(|(k, _)| k.as_str()))?;
        }
        let body = JsonWriter::new()
            .str_array("audiences", audiences)
            .str(
                "credentialProviderIdentifier",
                credential_provider_identifier,
            )
            .opt_object(
                "customClaims",
                options
                    .custom_claims
                    .as_ref()
                    .map(|c| c.iter().map(|(k, v)| (k.as_str(), JsonValueRef::Value(v)))),
            )
            .opt_u64("expiration", options.expiration)
            .opt_bool(
                "includeDerivedShortToken",
                options.include_derived_short_token,
            )
            .opt_str("issuer", options.issuer.as_deref())
            .str("subject", subject)
            .finish();
        let op = Op::GenerateJwtAuthenticationToken;
        let reply: JwtTokenResponse = self.transport().call_json(op, &Payload::Json(body))?;
        if reply.jwt_content.jwt_value.is_empty() {
            return Err(missing_jwt(op));
        }
        check_jwt_content(op, &reply.jwt_content)?;
        Ok(reply)
    }

    /// `ObtainJwtAuthenticationToken` (pam.md §4.7): the JWT (and derived short token) of an
    /// existing authentication token.
    pub fn obtain_jwt_authentication_token(
        &self,
        consumer_id: &str,
        authentication_token_id: &str,
    ) -> Result<JwtContent> {
        require("consumerId", consumer_id)?;
        require("authenticationTokenId", authentication_token_id)?;
        if let Some(agent) = self.agent() {
            let op = Op::ObtainJwtAuthenticationToken;
            let content = agent.obtain_jwt(consumer_id, authentication_token_id)?;
            if content.jwt_value.is_empty() {
                return Err(missing_jwt(op));
            }
            check_jwt_content(op, &content)?;
            return Ok(content);
        }
        let body = JsonWriter::new()
            .str("authenticationTokenId", authentication_token_id)
            .str("consumerId", consumer_id)
            .finish();
        self.obtain_jwt(Op::ObtainJwtAuthenticationToken, body)
    }

    /// `ObtainJwtAuthenticationTokenByDerivedShortToken` (pam.md §4.8): exchange a derived short token
    /// for its JWT. Sent without `Authorization` (decision D-30: the short token is the credential).
    pub fn obtain_jwt_authentication_token_by_derived_short_token(
        &self,
        derived_short_token: &SecretString,
    ) -> Result<JwtContent> {
        require("derivedShortToken", derived_short_token.expose())?;
        let body = JsonWriter::new()
            .secret("derivedShortToken", derived_short_token)
            .finish();
        self.obtain_jwt(Op::ObtainJwtAuthenticationTokenByDerivedShortToken, body)
    }

    fn obtain_jwt(&self, op: Op, body: JsonBody) -> Result<JwtContent> {
        let reply: JwtTokenResponse = self.transport().call_json(op, &Payload::Json(body))?;
        if reply.jwt_content.jwt_value.is_empty() {
            return Err(missing_jwt(op));
        }
        check_jwt_content(op, &reply.jwt_content)?;
        Ok(reply.jwt_content)
    }

    /// `ListAuthenticationTokens` (pam.md §4.9): one page. See [`PamClient::list_all`] for every page.
    pub fn list_authentication_tokens(
        &self,
        consumer_id: &str,
        credential_provider_identifier: &str,
        options: &ListAuthenticationTokensOptions,
    ) -> Result<NextTokenPageableResponse<AuthenticationToken>> {
        require("consumerId", consumer_id)?;
        require(
            "credentialProviderIdentifier",
            credential_provider_identifier,
        )?;
        if options.max_results == Some(0) {
            return Err(Error::invalid_argument("maxResults must be positive"));
        }
        // Alphabetical by wire name; only non-null parameters (pam.md §2.3); booleans true/false (D-25).
        let mut q: Vec<(&'static str, String)> = Vec::with_capacity(6);
        q.push(("consumerId", consumer_id.to_string()));
        q.push((
            "credentialProviderIdentifier",
            credential_provider_identifier.to_string(),
        ));
        if let Some(e) = options.expired {
            q.push(("expired", e.to_string()));
        }
        if let Some(m) = options.max_results {
            q.push(("maxResults", m.to_string()));
        }
        if let Some(n) = options.next_token.as_deref().filter(|n| !n.is_empty()) {
            q.push(("nextToken", n.to_string()));
        }
        if let Some(r) = options.revoked {
            q.push(("revoked", r.to_string()));
        }
        self.transport()
            .call_json(Op::ListAuthenticationTokens, &Payload::Query(q))
    }

    /// Every authentication token of `consumer_id` under `credential_provider_identifier`, fetching
    /// pages lazily from `options.next_token` on (decision D-31: an absent or empty `nextToken` ends
    /// the iteration). The first error is yielded and ends the iteration.
    pub fn list_all(
        &self,
        consumer_id: &str,
        credential_provider_identifier: &str,
        options: ListAuthenticationTokensOptions,
    ) -> AuthenticationTokens {
        AuthenticationTokens::new(
            self.clone(),
            consumer_id.to_string(),
            credential_provider_identifier.to_string(),
            options,
        )
    }

    /// `ValidateAuthenticationToken` (pam.md §4.10): whether a JWT or derived short token is active.
    /// Sent without `Authorization`. A reply without `active` is an
    /// [`ErrorKind::UnexpectedResponse`] error.
    pub fn validate_authentication_token(
        &self,
        token: &SecretString,
        token_type_hint: Option<&str>,
    ) -> Result<bool> {
        require("token", token.expose())?;
        if let Some(agent) = self.agent() {
            return agent.validate(token, token_type_hint);
        }
        let op = Op::ValidateAuthenticationToken;
        let reply: ValidateReply = self
            .transport()
            .call_json(op, &Payload::Json(token_body(token, token_type_hint)))?;
        reply
            .active
            .ok_or_else(|| unexpected(op, 200, "InvalidResponseBody"))
    }

    /// `RevokeAuthenticationToken` (pam.md §4.11).
    pub fn revoke_authentication_token(
        &self,
        token: &SecretString,
        token_type_hint: Option<&str>,
    ) -> Result<()> {
        require("token", token.expose())?;
        self.transport().call_void(
            Op::RevokeAuthenticationToken,
            &Payload::Json(token_body(token, token_type_hint)),
        )
    }

    /// `RevokeAuthenticationTokenByConsumer` (pam.md §4.12): revoke every token of a consumer under a
    /// credential provider.
    pub fn revoke_authentication_token_by_consumer(
        &self,
        consumer_id: &str,
        credential_provider_identifier: &str,
    ) -> Result<()> {
        require("consumerId", consumer_id)?;
        require(
            "credentialProviderIdentifier",
            credential_provider_identifier,
        )?;
        self.transport().call_void(
            Op::RevokeAuthenticationTokenByConsumer,
            &Payload::Json(consumer_body(consumer_id, credential_provider_identifier)),
        )
    }

    /// `ReinstateAuthenticationToken` (pam.md §4.13): undo a revoke.
    pub fn reinstate_authentication_token(
        &self,
        token: &SecretString,
        token_type_hint: Option<&str>,
    ) -> Result<()> {
        require("token", token.expose())?;
        self.transport().call_void(
            Op::ReinstateAuthenticationToken,
            &Payload::Json(token_body(token, token_type_hint)),
        )
    }

    /// `ReinstateAuthenticationTokenByConsumer` (pam.md §4.14).
    pub fn reinstate_authentication_token_by_consumer(
        &self,
        consumer_id: &str,
        credential_provider_identifier: &str,
    ) -> Result<()> {
        require("consumerId", consumer_id)?;
        require(
            "credentialProviderIdentifier",
            credential_provider_identifier,
        )?;
        self.transport().call_void(
            Op::ReinstateAuthenticationTokenByConsumer,
            &Payload::Json(consumer_body(consumer_id, credential_provider_identifier)),
        )
    }
}

/// `"Developer API <action> reply"`, the subject of a character-set error.
fn reply_of(op: Op) -> String {
    format!("Developer API {} reply", op.action())
}

/// [`check_opt`] on a value of an HTTP 200 reply of `op` (the error keeps the status).
fn check_value(op: Op, field: &str, value: Option<&str>, rule: TextRule) -> Result<()> {
    check_opt(&reply_of(op), field, value, rule).map_err(|e| e.with_status(200))
}

/// The JWT must be a compact JWT, the derived short token visible ASCII (SECURITY.md "Server text").
fn check_jwt_content(op: Op, c: &JwtContent) -> Result<()> {
    check_value(
        op,
        "jwtContent.jwtValue",
        Some(c.jwt_value.expose()),
        TextRule::Jwt,
    )?;
    check_value(
        op,
        "jwtContent.derivedShortToken",
        c.derived_short_token.as_ref().map(SecretString::expose),
        TextRule::Visible,
    )
}

/// The OAuth access token is sent as `Authorization: Bearer`: an RFC 6750 b64token.
fn check_oauth_token(r: &OAuthAuthenticationTokenResponse) -> Result<()> {
    check_value(
        Op::FetchOAuthAuthenticationToken,
        "oauthAccessTokenContent.accessTokenValue",
        r.oauth_access_token_content
            .as_ref()
            .map(|c| c.access_token_value.expose()),
        TextRule::B64Token,
    )
}

fn flow_mismatch() -> Error {
    Error::new(
        ErrorKind::Client,
        "authorization_flow_mismatch",
        "authorization_flow 'm2m' does not match the CredentialProvider configuration, which requires user authorization (user_federation)",
    )
}

fn missing_jwt(op: Op) -> Error {
    crate::diag::event!(Info, "{}: reply has no jwtContent.jwtValue", op.action());
    unexpected(op, 200, "MissingJwtContent")
}
