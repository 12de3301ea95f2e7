//! RFC 8693 token exchange (core.md §7).
//!
//! Request form (§7.2), in order: the client-authentication fields of the configured method (as in
//! §5.2, without `grant_type`/`scope`), `grant_type=urn:ietf:params:oauth:grant-type:token-exchange`,
//! `subject_token`, `subject_token_type`, `requested_token_type`, `scope`, then `actor_token` and
//! `actor_token_type` when an actor is given.
//!
//! * Decision D-18: `requested_token_type` defaults to `urn:ietf:params:oauth:token-type:access_token`.
//! * `scope` defaults to the client's configured scope; a given scope is validated (§3.2).
//! * A blank `subject_token` or `subject_token_type` is an [`crate::ErrorKind::InvalidArgument`]
//!   (`subject_token is blank` / `subject_token_type is blank`) and nothing is sent; an actor token
//!   needs its type and vice versa.
//! * The subject and actor tokens are secrets of the request: redacted from the server's error
//!   text ([`crate::server_text`]).
//! * Exchanges are never cached; each call is one request (with the retries of [`crate::token`])
//!   with fresh client authentication. Not available for `PLUGIN` (`UnsupportedAuthenticationMethod`).

use crate::auth::ClientAuth;
use crate::error::{Error, Result};
use crate::secret::SecretString;
use crate::token::TokenRequest;

/// `grant_type` of a token exchange.
pub const GRANT_TYPE_TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// Token type URN of an access token.
pub const TOKEN_TYPE_ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
/// Token type URN of a JWT.
pub const TOKEN_TYPE_JWT: &str = "urn:ietf:params:oauth:token-type:jwt";
/// Token type URN of an ID token.
pub const TOKEN_TYPE_ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";
/// Token type URN of a refresh token.
pub const TOKEN_TYPE_REFRESH_TOKEN: &str = "urn:ietf:params:oauth:token-type:refresh_token";

/// One RFC 8693 exchange. `Debug` redacts the tokens.
#[derive(Clone, Debug)]
pub struct TokenExchangeRequest {
    /// The token to exchange.
    pub subject_token: SecretString,
    /// Its type URN (e.g. [`TOKEN_TYPE_ACCESS_TOKEN`]).
    pub subject_token_type: String,
    /// Requested type URN; `None` → [`TOKEN_TYPE_ACCESS_TOKEN`] (D-18).
    pub requested_token_type: Option<String>,
    /// Scope; `None` → the client's configured scope.
    pub scope: Option<String>,
    /// Optional actor token.
    pub actor_token: Option<SecretString>,
    /// Type URN of the actor token (required with it).
    pub actor_token_type: Option<String>,
}

impl TokenExchangeRequest {
    /// An exchange of `subject_token` of type `subject_token_type`.
    pub fn new(
        subject_token: impl Into<SecretString>,
        subject_token_type: impl Into<String>,
    ) -> Self {
        TokenExchangeRequest {
            subject_token: subject_token.into(),
            subject_token_type: subject_token_type.into(),
            requested_token_type: None,
            scope: None,
            actor_token: None,
            actor_token_type: None,
        }
    }

    /// An exchange of an access token.
    pub fn for_access_token(subject_token: impl Into<SecretString>) -> Self {
        Self::new(subject_token, TOKEN_TYPE_ACCESS_TOKEN)
    }

    /// An exchange of a JWT.
    pub fn for_jwt(subject_token: impl Into<SecretString>) -> Self {
        Self::new(subject_token, TOKEN_TYPE_JWT)
    }

    /// An exchange of an ID token.
    pub fn for_id_token(subject_token: impl Into<SecretString>) -> Self {
        Self::new(subject_token, TOKEN_TYPE_ID_TOKEN)
    }

    /// Set the requested token type.
    pub fn requested_token_type(mut self, t: impl Into<String>) -> Self {
        self.requested_token_type = Some(t.into());
        self
    }

    /// Set the scope.
    pub fn scope(mut self, s: impl Into<String>) -> Self {
        self.scope = Some(s.into());
        self
    }

    /// Set the actor token and its type.
    pub fn actor(mut self, token: impl Into<SecretString>, token_type: impl Into<String>) -> Self {
        self.actor_token = Some(token.into());
        self.actor_token_type = Some(token_type.into());
        self
    }

    /// Check the arguments (module docs) without sending anything.
    pub fn validate(&self) -> Result<()> {
        if self.subject_token.expose().trim().is_empty() {
            return Err(Error::invalid_argument("subject_token is blank"));
        }
        if self.subject_token_type.trim().is_empty() {
            return Err(Error::invalid_argument("subject_token_type is blank"));
        }
        if let Some(t) = &self.requested_token_type {
            if t.trim().is_empty() {
                return Err(Error::invalid_argument(
                    "requested_token_type is blank (omit it for the access-token default)",
                ));
            }
        }
        let actor = self
            .actor_token
            .as_ref()
            .is_some_and(|t| !t.expose().trim().is_empty());
        let actor_type = self
            .actor_token_type
            .as_ref()
            .is_some_and(|t| !t.trim().is_empty());
        if actor != actor_type {
            return Err(Error::invalid_argument(
                "actor_token and actor_token_type must be given together",
            ));
        }
        if let Some(s) = &self.scope {
            crate::scope::validate(s)?;
        }
        Ok(())
    }
}

/// Build the exchange form (§7.2) with fresh client authentication; `aud` is the audience of
/// client assertions ([`crate::config::Config::client_assertion_audience`]).
pub(crate) fn build_request(
    auth: &ClientAuth,
    client_id: &str,
    aud: &str,
    now_secs: u64,
    req: &TokenExchangeRequest,
    default_scope: &str,
) -> Result<TokenRequest> {
    let mut out = TokenRequest::default();
    auth.apply(client_id, aud, now_secs, &mut out)?;
    out.form.push("grant_type", GRANT_TYPE_TOKEN_EXCHANGE);
    out.push_secret("subject_token", &req.subject_token);
    out.form
        .push("subject_token_type", &req.subject_token_type)
        .push(
            "requested_token_type",
            req.requested_token_type
                .as_deref()
                .unwrap_or(TOKEN_TYPE_ACCESS_TOKEN),
        )
        .push("scope", req.scope.as_deref().unwrap_or(default_scope));
    if let (Some(t), Some(tt)) = (&req.actor_token, &req.actor_token_type) {
        if !t.expose().trim().is_empty() {
            out.push_secret("actor_token", t);
            out.form.push("actor_token_type", tt);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation() {
        assert_eq!(
            TokenExchangeRequest::for_access_token("")
                .validate()
                .unwrap_err()
                .message(),
            "subject_token is blank"
        );
        assert_eq!(
            TokenExchangeRequest::new("t", " ")
                .validate()
                .unwrap_err()
                .message(),
            "subject_token_type is blank"
        );
        let mut r = TokenExchangeRequest::for_jwt("t");
        r.actor_token = Some("a".into());
        assert!(r.validate().is_err());
        assert!(TokenExchangeRequest::for_jwt("t")
            .actor("a", TOKEN_TYPE_JWT)
            .validate()
            .is_ok());
        assert!(TokenExchangeRequest::for_jwt("t")
            .scope("a|b c|d")
            .validate()
            .is_err());
        assert!(
            !format!("{:?}", TokenExchangeRequest::for_jwt("supersecret")).contains("supersecret")
        );
    }

    #[test]
    fn form_order() {
        let auth = ClientAuth::SecretPost(crate::auth::SecretSource::Supplier(
            std::sync::Arc::new(|| Ok(SecretString::new("s3cr3t"))),
        ));
        let r = TokenExchangeRequest::for_access_token(
            "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyMSJ9.c2ln",
        );
        let t = build_request(
            &auth,
            "app_abc",
            "https://h/t",
            0,
            &r,
            "urn:cloud:idaas:pam|.all",
        )
        .unwrap();
        assert_eq!(t.form.as_str(), "client_id=app_abc&client_secret=s3cr3t&grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&subject_token=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyMSJ9.c2ln&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token&requested_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token&scope=urn%3Acloud%3Aidaas%3Apam%7C.all");
    }
}
