//! The OAuth 2.0 token endpoint: client credentials and RFC 8693 token exchange.
//!
//! Order of checks (each failure answers at once): method, `Content-Type`, form body (no
//! repeated parameter), `grant_type`, client authentication ([`client_auth`]), scope, then the
//! exchange parameters ([`exchange`]).

mod client_auth;
mod exchange;

use crate::fixtures::ClientFixture;
use crate::http::{Ctx, Request, Response};
use crate::state::State;
use crate::util::{now_secs, parse_form};
use serde_json::{json, Value};

/// `grant_type` of a token exchange.
pub(crate) const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// An OAuth error reply.
pub(crate) fn oauth_error(status: u16, code: &str, desc: &str, rid: &str) -> Response {
    let mut r = Response::json(
        status,
        &json!({"error": code, "error_description": desc, "request_id": rid}),
    )
    .with_header("Cache-Control", "no-store");
    if status == 401 {
        r = r.with_header("WWW-Authenticate", "Basic realm=\"idaas-emulator\"");
    }
    r
}

/// A refusal: status, OAuth error code, description.
struct E(u16, &'static str, String);

fn bad(desc: impl Into<String>) -> E {
    E(400, "invalid_request", desc.into())
}

fn unauthorized(desc: impl Into<String>) -> E {
    E(401, "invalid_client", desc.into())
}

/// Answers the token endpoint.
pub(crate) fn handle(st: &State, req: &Request, ctx: &Ctx) -> Response {
    if req.method != "POST" {
        return oauth_error(
            405,
            "invalid_request",
            "the token endpoint only accepts POST",
            ctx.rid,
        )
        .with_header("Allow", "POST");
    }
    match token(st, req) {
        Ok(v) => Response::json(200, &v)
            .with_header("Cache-Control", "no-store")
            .with_header("Pragma", "no-cache"),
        Err(E(status, code, desc)) => oauth_error(status, code, &desc, ctx.rid),
    }
}

/// The decoded form body.
struct Form(Vec<(String, String)>);

impl Form {
    /// Reads a form body: `application/x-www-form-urlencoded`, UTF-8, no repeated parameter.
    fn read(req: &Request) -> Result<Form, E> {
        let ct = req
            .header("content-type")
            .unwrap_or("")
            .to_ascii_lowercase();
        if !ct.starts_with("application/x-www-form-urlencoded") {
            return Err(bad(
                "Content-Type must be application/x-www-form-urlencoded",
            ));
        }
        let body = std::str::from_utf8(&req.body).map_err(|_| bad("request body is not UTF-8"))?;
        let pairs = parse_form(body).map_err(|e| bad(format!("malformed form body: {e}")))?;
        for (i, (k, _)) in pairs.iter().enumerate() {
            if pairs[..i].iter().any(|(o, _)| o == k) {
                return Err(bad(format!("parameter {k} is repeated")));
            }
        }
        Ok(Form(pairs))
    }

    fn get(&self, k: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }

    fn req(&self, k: &str) -> Result<&str, E> {
        match self.get(k) {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(bad(format!("missing required parameter {k}"))),
        }
    }
}

/// The token reply of a valid request.
fn token(st: &State, req: &Request) -> Result<Value, E> {
    let form = Form::read(req)?;
    let grant = form.req("grant_type")?;
    if grant != "client_credentials" && grant != TOKEN_EXCHANGE {
        return Err(E(
            400,
            "unsupported_grant_type",
            format!("grant_type {grant} is not supported"),
        ));
    }
    let client = client_auth::authenticate(st, req, &form)?;
    let (audience, scope) = check_scope(client, form.get("scope"))?;
    let now = now_secs();
    let lifetime = st.token.lifetime();
    let issued = if grant == TOKEN_EXCHANGE {
        Some(exchange::exchange(st, &form)?)
    } else {
        None
    };
    // RFC 8693 §2.2.1: the issued token is `access_token` whatever its type; `token_type` is
    // `N_A` for a token that is not an access token.
    let (token, token_type) = match &issued {
        Some(x) if x.requested == exchange::Requested::IdToken => (
            exchange::id_token(st, client, &x.subject, now, lifetime),
            "N_A",
        ),
        _ => {
            let subject = issued.as_ref().map(|x| x.subject.as_str());
            let claims = access_token_claims(st, client, &audience, &scope, subject, now, lifetime);
            (st.keys.token.sign("at+jwt", &claims), "Bearer")
        }
    };
    let mut out = json!({
        "access_token": token,
        "token_type": token_type,
        "expires_in": lifetime,
    });
    if !st.token.omit_expires_at {
        out["expires_at"] = json!(now + lifetime);
    }
    out["scope"] = json!(scope);
    if let Some(x) = issued {
        out["issued_token_type"] = json!(x.requested.urn());
    }
    Ok(out)
}

/// The claims of an access token; with an exchange `subject`, the token is user-bound: `sub`
/// is the subject, `act` names the client.
pub(crate) fn access_token_claims(
    st: &State,
    client: &ClientFixture,
    audience: &str,
    scope: &str,
    subject: Option<&str>,
    now: u64,
    lifetime: u64,
) -> Value {
    let mut claims = json!({
        "iss": st.site.issuer,
        "sub": subject.unwrap_or(client.client_id.as_str()),
        "aud": audience,
        "scope": scope,
        "client_id": client.client_id,
        "iat": now,
        "exp": now + lifetime,
        "jti": uuid::Uuid::new_v4().to_string(),
    });
    if subject.is_some() {
        claims["act"] = json!({"sub": client.client_id});
        claims["user_bound"] = json!(true);
    }
    claims
}

/// Splits and checks the requested scope against the client's grants: (audience, scope).
fn check_scope(client: &ClientFixture, scope: Option<&str>) -> Result<(String, String), E> {
    let scope = scope.unwrap_or("");
    let items: Vec<&str> = scope.split_whitespace().collect();
    if items.is_empty() {
        return Err(E(400, "invalid_scope", "scope is required".into()));
    }
    let mut audience: Option<&str> = None;
    for it in &items {
        if !crate::fixtures::valid_scope_item(it) {
            return Err(E(400, "invalid_scope", format!("invalid scope item {it}")));
        }
        let (aud, _) = it.split_once('|').unwrap_or((it, ""));
        match audience {
            None => audience = Some(aud),
            Some(a) if a != aud => {
                return Err(E(
                    400,
                    "invalid_scope",
                    "multiple audiences are not supported".into(),
                ))
            }
            _ => {}
        }
        let all = format!("{aud}|.all");
        if !client.granted_scopes.iter().any(|g| g == it || *g == all) {
            return Err(E(
                400,
                "invalid_scope",
                format!("scope {it} is not granted to client {}", client.client_id),
            ));
        }
    }
    Ok((audience.unwrap_or("").to_string(), items.join(" ")))
}
