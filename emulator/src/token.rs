//! The OAuth 2.0 token endpoint, JWKS and discovery.

use crate::fixtures::{ClientFixture, FederatedKind};
use crate::http::{Ctx, Request, Response};
use crate::jwt::{Jwt, PublicKeyInfo};
use crate::util::{now_secs, parse_form, B64STD_LENIENT};
use crate::{lock, Inner, ISSUER_PATH, TOKEN_PATH};
use base64::Engine;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const X509_BEARER: &str = "urn:cloud:idaas:params:oauth:client-assertion-type:x509-jwt-bearer";
const PKCS7_BEARER: &str = "urn:cloud:idaas:params:oauth:client-assertion-type:pkcs7-bearer";
const OIDC_BEARER: &str = "urn:cloud:idaas:params:oauth:client-assertion-type:id-token-bearer";
const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const TT_ACCESS: &str = "urn:ietf:params:oauth:token-type:access_token";
const TT_JWT: &str = "urn:ietf:params:oauth:token-type:jwt";
const TT_ID: &str = "urn:ietf:params:oauth:token-type:id_token";
/// Clock skew tolerated on `exp`/`iat`/`nbf`.
const SKEW: i64 = 60;
/// Maximum lifetime of a client assertion (`exp - now`).
const MAX_ASSERTION_LIFETIME: i64 = 3600;

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

struct E(u16, &'static str, String);

fn bad(desc: impl Into<String>) -> E {
    E(400, "invalid_request", desc.into())
}

fn unauthorized(desc: impl Into<String>) -> E {
    E(401, "invalid_client", desc.into())
}

/// JWKS, discovery and unknown paths.
pub(crate) fn handle_other(inner: &Inner, req: &Request, ctx: &Ctx) -> Response {
    let p = req.path.as_str();
    let get = req.method == "GET" || req.method == "HEAD";
    if get && p == format!("{ISSUER_PATH}/jwks") {
        return Response::json(200, &json!({"keys": [inner.token_key.jwk()]}));
    }
    if get && p == format!("{ISSUER_PATH}/.well-known/openid-configuration") {
        let issuer = inner.issuer();
        return Response::json(
            200,
            &json!({
                "issuer": issuer,
                "token_endpoint": format!("{}{TOKEN_PATH}", inner.public_base()),
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
        );
    }
    if get && p == "/oidc/jwks" {
        return Response::json(200, &json!({"keys": [inner.oidc_key.jwk()]}));
    }
    if get && p == "/oidc/.well-known/openid-configuration" {
        let iss = inner.oidc_issuer();
        return Response::json(
            200,
            &json!({"issuer": iss, "jwks_uri": format!("{iss}/jwks"), "id_token_signing_alg_values_supported": ["ES256"], "response_types_supported": ["id_token"], "subject_types_supported": ["public"]}),
        );
    }
    if p == "/" || p == "/health" || p == "/healthz" {
        return Response::json(200, &json!({"status": "ok", "service": "idaas-emulator"}));
    }
    oauth_error(
        404,
        "not_found",
        &format!("no route for {} {}", req.method, p),
        ctx.rid,
    )
}

/// The token endpoint.
pub(crate) fn handle(inner: &Inner, req: &Request, ctx: &Ctx) -> Response {
    if req.method != "POST" {
        return oauth_error(
            405,
            "invalid_request",
            "the token endpoint only accepts POST",
            ctx.rid,
        )
        .with_header("Allow", "POST");
    }
    match token(inner, req) {
        Ok(v) => Response::json(200, &v)
            .with_header("Cache-Control", "no-store")
            .with_header("Pragma", "no-cache"),
        Err(E(status, code, desc)) => oauth_error(status, code, &desc, ctx.rid),
    }
}

struct Form(Vec<(String, String)>);

impl Form {
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

fn token(inner: &Inner, req: &Request) -> Result<Value, E> {
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
    let form = Form(pairs);
    let grant = form.req("grant_type")?;
    if grant != "client_credentials" && grant != TOKEN_EXCHANGE {
        return Err(E(
            400,
            "unsupported_grant_type",
            format!("grant_type {grant} is not supported"),
        ));
    }
    let client = authenticate(inner, req, &form)?;
    let (audience, scope) = check_scope(client, form.get("scope"))?;
    let now = now_secs();
    let lifetime = inner.token_lifetime.load(Ordering::Relaxed);
    let mut claims = json!({
        "iss": inner.issuer(),
        "sub": client.client_id,
        "aud": audience,
        "scope": scope,
        "client_id": client.client_id,
        "iat": now,
        "exp": now + lifetime,
        "jti": uuid::Uuid::new_v4().to_string(),
    });
    let mut issued_type = None;
    if grant == TOKEN_EXCHANGE {
        let subject_token = form.req("subject_token")?;
        let stt = form.req("subject_token_type")?;
        if ![TT_ACCESS, TT_JWT, TT_ID].contains(&stt) {
            return Err(bad(format!("unsupported subject_token_type {stt}")));
        }
        let rtt = form.get("requested_token_type").unwrap_or(TT_ACCESS);
        let rtt = if rtt.is_empty() { TT_ACCESS } else { rtt };
        if rtt != TT_ACCESS && rtt != TT_JWT {
            return Err(bad(format!("unsupported requested_token_type {rtt}")));
        }
        if form.get("actor_token").is_some() != form.get("actor_token_type").is_some() {
            return Err(bad("actor_token and actor_token_type go together"));
        }
        let sub = verify_subject_token(inner, subject_token)
            .map_err(|e| E(400, "invalid_grant", format!("subject_token: {e}")))?;
        claims["sub"] = json!(sub);
        claims["act"] = json!({"sub": client.client_id});
        claims["user_bound"] = json!(true);
        issued_type = Some(rtt.to_string());
    }
    let token = inner.token_key.sign("at+jwt", &claims);
    let mut out = json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": lifetime,
    });
    if !inner.omit_expires_at {
        out["expires_at"] = json!(now + lifetime);
    }
    out["scope"] = json!(scope);
    if let Some(t) = issued_type {
        out["issued_token_type"] = json!(t);
    }
    Ok(out)
}

/// Verifies an exchange subject token: an emulator access token or a trusted OIDC token.
fn verify_subject_token(inner: &Inner, t: &str) -> Result<String, String> {
    let jwt = Jwt::decode(t)?;
    let ok = inner.token_key.verify(&jwt) || inner.oidc_key.verify(&jwt);
    if !ok {
        return Err("signature is not from the emulator or its trusted OIDC issuer".into());
    }
    let exp = jwt.num_claim("exp").ok_or("no exp claim")?;
    if exp <= now_secs() as i64 {
        return Err("token is expired".into());
    }
    jwt.str_claim("sub")
        .map(str::to_string)
        .ok_or_else(|| "no sub claim".into())
}

/// Splits and checks the requested scope against the client's grants.
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

fn find_client<'a>(inner: &'a Inner, id: &str) -> Result<&'a ClientFixture, E> {
    inner
        .fixtures
        .clients
        .iter()
        .find(|c| c.client_id == id)
        .ok_or_else(|| unauthorized(format!("unknown client {id}")))
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A byte that a form encoder (RFC 6749 appendix B; Python's `quote_plus`, Java's `URLEncoder`)
/// may leave in its output: unreserved characters, `*`, `+` (a space) and `%` (an escape).
fn form_encoded_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'*' | b'+' | b'%')
}

fn authenticate<'a>(inner: &'a Inner, req: &Request, form: &Form) -> Result<&'a ClientFixture, E> {
    let basic = req.header("authorization").and_then(|h| {
        let h = h.trim();
        match (h.get(..6), h.get(6..)) {
            (Some(scheme), Some(rest)) if scheme.eq_ignore_ascii_case("basic ") => {
                Some(rest.trim().to_string())
            }
            _ => None,
        }
    });
    let body_id = form.get("client_id").filter(|s| !s.is_empty());
    let assertion_type = form.get("client_assertion_type");
    if let Some(b64) = basic {
        if form.get("client_secret").is_some() || assertion_type.is_some() {
            return Err(bad("more than one client authentication method"));
        }
        let raw = B64STD_LENIENT
            .decode(b64.as_bytes())
            .map_err(|_| unauthorized("Basic credentials are not valid base64"))?;
        let raw =
            String::from_utf8(raw).map_err(|_| unauthorized("Basic credentials are not UTF-8"))?;
        let (id, secret) = raw
            .split_once(':')
            .ok_or_else(|| unauthorized("Basic credentials lack a ':'"))?;
        let decode = |s: &str| crate::util::percent_decode(s, true);
        let candidates = if inner.strict_basic_encoding {
            // RFC 6749 §2.3.1, read strictly: id and secret are form-encoded, so each must be
            // in the alphabet of that encoding and is decoded before comparison. A raw secret
            // with `+` or `%` then decodes to something else (or is a bad escape), and one with
            // `:` or a space is not form-encoded at all.
            let strict = |part: &str| {
                if !part.bytes().all(form_encoded_byte) {
                    return Err(unauthorized(
                        "Basic credentials are not form-encoded (RFC 6749 section 2.3.1): a character other than A-Z a-z 0-9 - . _ ~ * + % was sent as is",
                    ));
                }
                decode(part).map_err(|e| {
                    unauthorized(format!(
                        "Basic credentials are not form-encoded (RFC 6749 section 2.3.1): {e}"
                    ))
                })
            };
            vec![(strict(id)?, strict(secret)?)]
        } else {
            // D-10: accept raw and form-url-encoded credentials.
            vec![
                (id.to_string(), secret.to_string()),
                (
                    decode(id).unwrap_or_default(),
                    decode(secret).unwrap_or_default(),
                ),
            ]
        };
        for (cid, sec) in &candidates {
            if let Some(c) = inner.fixtures.clients.iter().find(|c| &c.client_id == cid) {
                if let Some(bid) = body_id {
                    if bid != c.client_id {
                        return Err(unauthorized(
                            "client_id in the body does not match the Basic credentials",
                        ));
                    }
                }
                match &c.client_secret {
                    Some(s) if ct_eq(s.as_bytes(), sec.as_bytes()) => return Ok(c),
                    _ => {}
                }
            }
        }
        return Err(unauthorized("client authentication failed"));
    }
    if let Some(at) = assertion_type {
        if form.get("client_secret").is_some() {
            return Err(bad("more than one client authentication method"));
        }
        let assertion = form.req("client_assertion")?;
        return match at {
            JWT_BEARER => auth_jwt_bearer(inner, req, body_id, assertion),
            X509_BEARER => auth_pca(inner, req, form, body_id, assertion),
            PKCS7_BEARER => auth_pkcs7(inner, form, body_id, assertion),
            OIDC_BEARER => auth_oidc(inner, form, body_id, assertion),
            other => Err(unauthorized(format!(
                "unsupported client_assertion_type {other}"
            ))),
        };
    }
    if let Some(secret) = form.get("client_secret") {
        let id = body_id.ok_or_else(|| bad("missing required parameter client_id"))?;
        let c = find_client(inner, id)?;
        return match &c.client_secret {
            Some(s) if ct_eq(s.as_bytes(), secret.as_bytes()) => Ok(c),
            _ => Err(unauthorized("client authentication failed")),
        };
    }
    Err(unauthorized(
        "no client authentication (Basic, client_secret or client_assertion) was given",
    ))
}

/// URLs accepted as `aud` of client assertions: the token endpoint URL, or the issuer in strict
/// audience mode (each under every loopback name of this port, over https and http).
fn accepted_audiences(inner: &Inner) -> Vec<String> {
    let path = if inner.strict_assertion_audience {
        ISSUER_PATH
    } else {
        TOKEN_PATH
    };
    let mut v = Vec::new();
    for scheme in ["https", "http"] {
        for host in ["127.0.0.1", "localhost", "[::1]"] {
            v.push(format!("{scheme}://{host}:{}{path}", inner.port));
        }
    }
    v.push(format!("{}{path}", inner.https_base));
    v.push(format!("{}{path}", inner.http_base));
    v
}

/// Checks iss/sub/aud/exp/iat/nbf/jti of a client assertion.
fn check_assertion_claims(inner: &Inner, jwt: &Jwt, client_id: &str) -> Result<(), E> {
    if jwt.str_claim("iss") != Some(client_id) {
        return Err(unauthorized("client assertion iss must equal client_id"));
    }
    if jwt.str_claim("sub") != Some(client_id) {
        return Err(unauthorized("client assertion sub must equal client_id"));
    }
    let auds = accepted_audiences(inner);
    let aud_ok = match jwt.claims.get("aud") {
        Some(Value::String(s)) => auds.contains(s),
        Some(Value::Array(a)) => a.iter().any(|v| {
            v.as_str()
                .map(|s| auds.iter().any(|x| x == s))
                .unwrap_or(false)
        }),
        _ => false,
    };
    if !aud_ok {
        return Err(unauthorized(if inner.strict_assertion_audience {
            "client assertion aud must be the issuer (strict audience mode)"
        } else {
            "client assertion aud must be this token endpoint URL"
        }));
    }
    let now = now_secs() as i64;
    let exp = jwt
        .num_claim("exp")
        .ok_or_else(|| unauthorized("client assertion has no exp"))?;
    if exp <= now - SKEW {
        return Err(unauthorized("client assertion is expired"));
    }
    if exp > now + MAX_ASSERTION_LIFETIME + SKEW {
        return Err(unauthorized(
            "client assertion exp is more than one hour ahead",
        ));
    }
    if let Some(iat) = jwt.num_claim("iat") {
        if iat > now + SKEW {
            return Err(unauthorized("client assertion iat is in the future"));
        }
    }
    if let Some(nbf) = jwt.num_claim("nbf") {
        if nbf > now + SKEW {
            return Err(unauthorized("client assertion is not yet valid (nbf)"));
        }
    }
    let jti = match jwt.str_claim("jti") {
        Some(j) if !j.is_empty() => j.to_string(),
        _ => return Err(unauthorized("client assertion has no jti")),
    };
    let mut seen = lock(&inner.jtis);
    let now_u = now as u64;
    if seen.len() > 10_000 {
        seen.retain(|_, e| *e + SKEW as u64 >= now_u);
    }
    let key = format!("{client_id}\u{0}{jti}");
    if seen.contains_key(&key) {
        return Err(unauthorized("jti already used"));
    }
    seen.insert(key, exp.max(0) as u64);
    Ok(())
}

fn assertion_client_id<'a>(jwt: &'a Jwt, body_id: Option<&'a str>) -> Result<&'a str, E> {
    match (body_id, jwt.str_claim("iss")) {
        (Some(b), _) => Ok(b),
        (None, Some(i)) => Ok(i),
        (None, None) => Err(bad("missing required parameter client_id")),
    }
}

fn auth_jwt_bearer<'a>(
    inner: &'a Inner,
    _req: &Request,
    body_id: Option<&str>,
    assertion: &str,
) -> Result<&'a ClientFixture, E> {
    let jwt = Jwt::decode(assertion).map_err(|e| unauthorized(format!("client_assertion: {e}")))?;
    let id = assertion_client_id(&jwt, body_id)?;
    let c = find_client(inner, id)?;
    let alg = jwt.alg().unwrap_or("");
    if alg.starts_with("HS") {
        let secret = c
            .client_secret
            .as_ref()
            .ok_or_else(|| unauthorized("client has no secret for an HMAC assertion"))?;
        jwt.verify_hmac(secret.as_bytes()).map_err(unauthorized)?;
    } else {
        if c.public_keys.is_empty() {
            return Err(unauthorized("client has no registered public key"));
        }
        let ok = c.public_keys.iter().any(|pem| {
            PublicKeyInfo::from_pem(pem)
                .map(|k| jwt.verify_with(&k).is_ok())
                .unwrap_or(false)
        });
        if !ok {
            return Err(unauthorized(format!(
                "client assertion signature ({alg}) does not verify with any registered key"
            )));
        }
    }
    check_assertion_claims(inner, &jwt, &c.client_id)?;
    Ok(c)
}

fn federated<'a>(
    c: &'a ClientFixture,
    form: &Form,
    kind: FederatedKind,
) -> Result<&'a crate::fixtures::FederatedCredential, E> {
    let name = form.req("application_federated_credential_name")?;
    c.federated_credentials
        .iter()
        .find(|f| f.name == name && f.kind == kind)
        .ok_or_else(|| {
            unauthorized(format!(
                "client {} has no {kind:?} federated credential named {name}",
                c.client_id
            ))
        })
}

fn auth_oidc<'a>(
    inner: &'a Inner,
    form: &Form,
    body_id: Option<&str>,
    assertion: &str,
) -> Result<&'a ClientFixture, E> {
    let id = body_id.ok_or_else(|| bad("missing required parameter client_id"))?;
    let c = find_client(inner, id)?;
    let fed = federated(c, form, FederatedKind::Oidc)?;
    let jwt = Jwt::decode(assertion).map_err(|e| unauthorized(format!("client_assertion: {e}")))?;
    if !inner.oidc_key.verify(&jwt) {
        return Err(unauthorized(
            "OIDC token is not signed by the trusted issuer",
        ));
    }
    if jwt.str_claim("iss") != Some(inner.oidc_issuer().as_str()) {
        return Err(unauthorized("OIDC token iss is not the trusted issuer"));
    }
    let exp = jwt
        .num_claim("exp")
        .ok_or_else(|| unauthorized("OIDC token has no exp"))?;
    if exp <= now_secs() as i64 {
        return Err(unauthorized("OIDC token is expired"));
    }
    if let Some(s) = &fed.subject {
        if jwt.str_claim("sub") != Some(s.as_str()) {
            return Err(unauthorized(
                "OIDC token sub does not match the federated credential",
            ));
        }
    }
    Ok(c)
}

fn auth_pkcs7<'a>(
    inner: &'a Inner,
    form: &Form,
    body_id: Option<&str>,
    assertion: &str,
) -> Result<&'a ClientFixture, E> {
    let id = body_id.ok_or_else(|| bad("missing required parameter client_id"))?;
    let c = find_client(inner, id)?;
    federated(c, form, FederatedKind::Pkcs7)?;
    crate::metadata::verify_document(inner, assertion).map_err(unauthorized)?;
    Ok(c)
}

fn auth_pca<'a>(
    inner: &'a Inner,
    _req: &Request,
    form: &Form,
    body_id: Option<&str>,
    assertion: &str,
) -> Result<&'a ClientFixture, E> {
    let id = body_id.ok_or_else(|| bad("missing required parameter client_id"))?;
    let c = find_client(inner, id)?;
    let fed = federated(c, form, FederatedKind::Pca)?;
    let leaf = form.req("client_x509")?;
    let chain = form.get("client_x509_chain").unwrap_or("");
    let (key, cn) = inner.pca.verify_chain(leaf, chain).map_err(unauthorized)?;
    if let Some(s) = &fed.subject {
        if &cn != s {
            return Err(unauthorized(
                "client certificate CN does not match the federated credential",
            ));
        }
    }
    let jwt = Jwt::decode(assertion).map_err(|e| unauthorized(format!("client_assertion: {e}")))?;
    jwt.verify_with(&key).map_err(|e| {
        unauthorized(format!(
            "client assertion: {e} (must be signed by the certificate's key)"
        ))
    })?;
    check_assertion_claims(inner, &jwt, &c.client_id)?;
    Ok(c)
}
