//! Issuer discovery and JWKS, the trusted OIDC issuer (its discovery, JWKS and the tokens it
//! mints), health, and the 404 for every path no other area owns.

use crate::http::{Ctx, Request, Response};
use crate::state::State;
use crate::util::now_secs;
use crate::ISSUER_PATH;
use serde_json::json;

use super::token::{oauth_error, TOKEN_EXCHANGE};

/// What a request outside the other areas asks for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Action {
    IssuerJwks,
    IssuerConfiguration,
    OidcJwks,
    OidcConfiguration,
    Health,
    NotFound,
}

/// Routes a path no other area owns. Discovery documents answer GET and HEAD only.
pub(crate) fn route(method: &str, path: &str) -> Action {
    let get = method == "GET" || method == "HEAD";
    match (get, path.strip_prefix(ISSUER_PATH), path) {
        (true, Some("/jwks"), _) => Action::IssuerJwks,
        (true, Some("/.well-known/openid-configuration"), _) => Action::IssuerConfiguration,
        (true, _, "/oidc/jwks") => Action::OidcJwks,
        (true, _, "/oidc/.well-known/openid-configuration") => Action::OidcConfiguration,
        (_, _, "/" | "/health" | "/healthz") => Action::Health,
        _ => Action::NotFound,
    }
}

/// Answers a routed request.
pub(crate) fn handle(st: &State, req: &Request, action: &Action, ctx: &Ctx) -> Response {
    match action {
        Action::IssuerJwks => Response::json(200, &json!({"keys": [st.keys.token.jwk()]})),
        Action::IssuerConfiguration => {
            let issuer = &st.site.issuer;
            Response::json(
                200,
                &json!({
                    "issuer": issuer,
                    "token_endpoint": st.site.token_endpoint(),
                    "jwks_uri": format!("{issuer}/jwks"),
                    "grant_types_supported": ["client_credentials", TOKEN_EXCHANGE],
                    "token_endpoint_auth_methods_supported": [
                        "client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt",
                        "urn:cloud:idaas:params:oauth:client-assertion-type:id-token-bearer",
                        "urn:cloud:idaas:params:oauth:client-assertion-type:pkcs7-bearer",
                        "urn:cloud:idaas:params:oauth:client-assertion-type:x509-jwt-bearer"
                    ],
                    "token_endpoint_auth_signing_alg_values_supported": ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384"],
                    "id_token_signing_alg_values_supported": ["ES256"],
                    "response_types_supported": ["token"],
                    "subject_types_supported": ["public"],
                }),
            )
        }
        Action::OidcJwks => Response::json(200, &json!({"keys": [st.keys.oidc.jwk()]})),
        Action::OidcConfiguration => {
            let iss = st.site.oidc_issuer();
            Response::json(
                200,
                &json!({"issuer": iss, "jwks_uri": format!("{iss}/jwks"), "id_token_signing_alg_values_supported": ["ES256"], "response_types_supported": ["id_token"], "subject_types_supported": ["public"]}),
            )
        }
        Action::Health => {
            Response::json(200, &json!({"status": "ok", "service": "idaas-emulator"}))
        }
        Action::NotFound => oauth_error(
            404,
            "not_found",
            &format!("no route for {} {}", req.method, req.path),
            ctx.rid,
        ),
    }
}

/// A token from the trusted OIDC issuer (ES256, `iss` = `<base>/oidc`, `aud` `idaas-emulator`).
pub(crate) fn mint_oidc_token(st: &State, subject: &str, lifetime: u64) -> String {
    let now = now_secs();
    st.keys.oidc.sign(
        "JWT",
        &json!({
            "iss": st.site.oidc_issuer(), "sub": subject, "aud": "idaas-emulator",
            "iat": now, "nbf": now, "exp": now + lifetime, "jti": uuid::Uuid::new_v4().to_string(),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let jwks = format!("{ISSUER_PATH}/jwks");
        assert_eq!(route("GET", &jwks), Action::IssuerJwks);
        assert_eq!(route("HEAD", &jwks), Action::IssuerJwks);
        assert_eq!(route("POST", &jwks), Action::NotFound);
        assert_eq!(route("DELETE", "/health"), Action::Health);
        assert_eq!(route("GET", ISSUER_PATH), Action::NotFound);
        assert_eq!(route("GET", "/oidc/jwks/"), Action::NotFound);
    }
}
