//! Requests and replies (agent.md §2): the checks of agent.md §3 first, then the route, then the
//! core operation on the blocking pool, then the reply (JSON, `Cache-Control: no-store`).

use super::access::{is_browser_request, token_matches, TOKEN_HEADER};
use super::backend::{Backend, Reply};
use super::Shared;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, CACHE_CONTROL, CONNECTION, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use idaas::pam::FetchOAuthOptions;
use idaas::{Error, ErrorKind, SecretString, TokenExchangeRequest, TOKEN_TYPE_ACCESS_TOKEN};
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::Instant;

/// The largest request body (agent.md §2.1).
pub const MAX_BODY: usize = 64 * 1024;

/// Who is asking, as far as the listener knows.
#[derive(Clone, Copy, Debug)]
pub enum Peer {
    /// A Unix-socket peer (`SO_PEERCRED`) and whether the allow-list admits it.
    Unix { uid: u32, gid: u32, allowed: bool },
    /// A loopback TCP peer (its port, for the logs).
    Http { port: u16 },
}

impl std::fmt::Display for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Peer::Unix { uid, gid, .. } => write!(f, "uid={uid} gid={gid}"),
            Peer::Http { port } => write!(f, "port={port}"),
        }
    }
}

type Resp = Response<Full<Bytes>>;

/// A route's core call, run on the blocking pool.
type Operation = Box<dyn FnOnce(&Backend) -> idaas::Result<Reply> + Send>;

/// A route: its metrics label and the method it takes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Route {
    Token,
    Exchange,
    ApiKey,
    OauthToken,
    JwtValidate,
    JwtObtain,
    Healthz,
    Readyz,
    Metrics,
    Unknown,
}

impl Route {
    fn of(path: &str) -> (Route, Option<&str>) {
        let one_segment = |rest: &str| !rest.is_empty() && !rest.contains('/');
        match path {
            "/v1/token" => (Route::Token, None),
            "/v1/token/exchange" => (Route::Exchange, None),
            "/v1/jwt/validate" => (Route::JwtValidate, None),
            "/v1/jwt/obtain" => (Route::JwtObtain, None),
            "/healthz" => (Route::Healthz, None),
            "/readyz" => (Route::Readyz, None),
            "/metrics" => (Route::Metrics, None),
            p => {
                if let Some(rest) = p.strip_prefix("/v1/api-keys/").filter(|r| one_segment(r)) {
                    (Route::ApiKey, Some(rest))
                } else if let Some(rest) = p
                    .strip_prefix("/v1/oauth-tokens/")
                    .filter(|r| one_segment(r))
                {
                    (Route::OauthToken, Some(rest))
                } else {
                    (Route::Unknown, None)
                }
            }
        }
    }

    /// The label of `idaas_agent_requests_total{route}` (a fixed set, never a path).
    fn label(self) -> &'static str {
        match self {
            Route::Token => "token",
            Route::Exchange => "token_exchange",
            Route::ApiKey => "api_key",
            Route::OauthToken => "oauth_token",
            Route::JwtValidate => "jwt_validate",
            Route::JwtObtain => "jwt_obtain",
            Route::Healthz => "healthz",
            Route::Readyz => "readyz",
            Route::Metrics => "metrics",
            Route::Unknown => "unknown",
        }
    }

    fn method(self) -> Option<Method> {
        match self {
            Route::Exchange | Route::OauthToken | Route::JwtValidate | Route::JwtObtain => {
                Some(Method::POST)
            }
            Route::Unknown => None,
            _ => Some(Method::GET),
        }
    }
}

/// Answers one request, counts and logs it (agent.md §4.4, §4.5).
pub async fn handle(req: Request<Incoming>, peer: Peer, shared: Arc<Shared>) -> Resp {
    let start = Instant::now();
    let (route, _) = Route::of(req.uri().path());
    let method = req.method().clone();
    let resp = dispatch(req, peer, &shared).await;
    let status = resp.status().as_u16();
    let took = start.elapsed();
    shared.metrics.request(route.label(), status, took);
    log::debug!(
        "agent: {method} {} {status} {:.1}ms {peer}",
        route.label(),
        took.as_secs_f64() * 1000.0
    );
    resp
}

async fn dispatch(req: Request<Incoming>, peer: Peer, shared: &Arc<Shared>) -> Resp {
    let (route, param) = Route::of(req.uri().path());
    // agent.md §3: the listener's check, then the browser check, before anything else.
    match peer {
        Peer::Unix { allowed: false, .. } => {
            shared.metrics.refused("peer");
            log::info!("agent: refused a request from {peer}: not in the allow-list");
            let mut r = agent_error(
                StatusCode::UNAUTHORIZED,
                ErrorKind::Auth,
                "agent_unauthorized",
                "this user may not use the agent (peer credentials not in the allow-list)",
            );
            r.headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
            return r;
        }
        Peer::Unix { .. } => {}
        Peer::Http { .. } => {
            let exempt = route == Route::Healthz && req.method() == Method::GET;
            let presented = req.headers().get(TOKEN_HEADER).map(|v| v.as_bytes());
            let expected = shared.http_token.as_ref();
            if !exempt && !expected.is_some_and(|t| token_matches(t, presented)) {
                shared.metrics.refused("token");
                log::info!(
                    "agent: refused a request from {peer}: {} agent token",
                    if presented.is_some() { "wrong" } else { "no" }
                );
                return agent_error(
                    StatusCode::UNAUTHORIZED,
                    ErrorKind::Auth,
                    "agent_unauthorized",
                    "missing or wrong X-Idaas-Agent-Token header",
                );
            }
        }
    }
    if is_browser_request(req.headers()) {
        shared.metrics.refused("origin");
        log::info!("agent: refused a browser request from {peer} (Origin or Sec-Fetch-*)");
        return agent_error(
            StatusCode::FORBIDDEN,
            ErrorKind::Auth,
            "agent_forbidden_origin",
            "requests from a browser (Origin or Sec-Fetch-* header) are refused",
        );
    }
    let Some(method) = route.method() else {
        return agent_error(
            StatusCode::NOT_FOUND,
            ErrorKind::Client,
            "agent_not_found",
            "no such route (see agent.md §2.1)",
        );
    };
    if req.method() != method {
        let mut r = agent_error(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorKind::Client,
            "agent_method_not_allowed",
            format!("this route takes {method}"),
        );
        r.headers_mut()
            .insert(ALLOW, HeaderValue::from_str(method.as_str()).unwrap());
        return r;
    }

    match route {
        Route::Healthz => return json_reply(StatusCode::OK, json!({"status": "ok"})),
        Route::Readyz => {
            let ready = !shared.is_shutting_down() && shared.backend().is_ready();
            let status = if ready {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            return json_reply(status, json!({ "ready": ready }));
        }
        Route::Metrics => {
            let (tokens, keys) = shared.backend().entries();
            let text = shared
                .metrics
                .render(&[("token", tokens), ("api_key", keys)]);
            return Response::builder()
                .status(StatusCode::OK)
                .header(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")
                .header(CACHE_CONTROL, "no-store")
                .body(Full::new(Bytes::from(text)))
                .unwrap();
        }
        _ => {}
    }
    if shared.is_shutting_down() {
        return agent_error(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Server,
            "agent_shutting_down",
            "the agent is shutting down",
        );
    }

    let query = req.uri().query().map(str::to_string);
    let param = match param.map(percent_decode).transpose() {
        Ok(p) => p,
        Err(e) => return error_reply(shared, &e, false),
    };
    let body = if method == Method::POST {
        match read_body(req).await {
            Ok(b) => Some(b),
            Err(r) => return r,
        }
    } else {
        drop(req);
        None
    };

    // Parse on the runtime thread (cheap, bounded), run the core call on the blocking pool.
    let op: Operation = match route {
        Route::Token => match token_query(query.as_deref()) {
            Ok(scope) => Box::new(move |b: &Backend| b.token(scope.as_deref())),
            Err(e) => return error_reply(shared, &e, false),
        },
        Route::ApiKey => {
            let id = param.unwrap_or_default();
            Box::new(move |b: &Backend| b.api_key(&id))
        }
        Route::Exchange => match exchange_request(body.as_deref()) {
            Ok(req) => Box::new(move |b: &Backend| b.exchange(&req)),
            Err(e) => return error_reply(shared, &e, false),
        },
        Route::OauthToken => match oauth_options(body.as_deref()) {
            Ok(opts) => {
                let id = param.unwrap_or_default();
                Box::new(move |b: &Backend| b.oauth_token(&id, &opts))
            }
            Err(e) => return error_reply(shared, &e, false),
        },
        Route::JwtValidate => match validate_request(body.as_deref()) {
            Ok((token, hint)) => {
                Box::new(move |b: &Backend| b.jwt_validate(&token, hint.as_deref()))
            }
            Err(e) => return error_reply(shared, &e, false),
        },
        Route::JwtObtain => match obtain_request(body.as_deref()) {
            Ok((consumer, token_id)) => {
                Box::new(move |b: &Backend| b.jwt_obtain(&consumer, &token_id))
            }
            Err(e) => return error_reply(shared, &e, false),
        },
        _ => unreachable!("answered above"),
    };
    let backend = shared.backend();
    let result = tokio::task::spawn_blocking(move || op(&backend))
        .await
        .unwrap_or_else(|e| Err(Error::internal(format!("the agent's worker failed: {e}"))));
    match result {
        Ok(reply) => {
            if let Some(hit) = reply.cache_hit {
                let kind = if route == Route::ApiKey {
                    "api_key"
                } else {
                    "token"
                };
                shared.metrics.cache(kind, hit);
            }
            let text = reply.json;
            Response::builder()
                .status(StatusCode::OK)
                .header(CONTENT_TYPE, "application/json")
                .header(CACHE_CONTROL, "no-store")
                .body(Full::new(Bytes::copy_from_slice(text.expose().as_bytes())))
                .unwrap()
        }
        Err(e) => error_reply(shared, &e, true),
    }
}

/// The request body, at most [`MAX_BODY`] bytes (413 beyond, agent.md §2.3).
async fn read_body(req: Request<Incoming>) -> Result<Bytes, Resp> {
    match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(agent_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::InvalidArgument,
            "agent_body_too_large",
            format!("the request body is larger than {MAX_BODY} bytes"),
        )),
        Err(_) => Err(agent_error(
            StatusCode::BAD_REQUEST,
            ErrorKind::InvalidArgument,
            "agent_bad_body",
            "cannot read the request body",
        )),
    }
}

/// The agent's HTTP status for a core error (agent.md §2.3).
pub fn status_of(e: &Error) -> StatusCode {
    match e.kind() {
        ErrorKind::InvalidArgument => StatusCode::BAD_REQUEST,
        ErrorKind::Client if e.http_status() == Some(404) => StatusCode::NOT_FOUND,
        ErrorKind::Auth
        | ErrorKind::Client
        | ErrorKind::Server
        | ErrorKind::UnexpectedResponse
        | ErrorKind::Credential => StatusCode::BAD_GATEWAY,
        ErrorKind::Timeout | ErrorKind::Transport => StatusCode::GATEWAY_TIMEOUT,
        ErrorKind::Cancelled => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The error body of agent.md §2.3.
pub fn error_body(e: &Error) -> Value {
    json!({"error": {
        "kind": e.kind().as_str(),
        "class": e.kind().class_name(),
        "code": (!e.code().is_empty()).then(|| e.code()),
        "message": e.message(),
        "httpStatus": e.http_status(),
        "requestId": e.request_id(),
        "retryable": e.is_retryable(),
    }})
}

/// A core error's reply; `upstream`: it came from a core operation (counted and logged).
fn error_reply(shared: &Shared, e: &Error, upstream: bool) -> Resp {
    let status = if e.code() == "agent_cache_full" {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        status_of(e)
    };
    if upstream && e.kind() != ErrorKind::InvalidArgument {
        shared.metrics.upstream_error(e.kind().as_str());
        // The core's messages and codes hold no secret (core.md); no identifier or scope is added.
        log::warn!(
            "agent: upstream error: {} {} (HTTP {}, request id {})",
            e.kind().as_str(),
            e.code(),
            e.http_status().map_or("-".into(), |s| s.to_string()),
            e.request_id().unwrap_or("-")
        );
    }
    json_reply(status, error_body(e))
}

/// An error of the agent itself (not of the core).
fn agent_error(
    status: StatusCode,
    kind: ErrorKind,
    code: &str,
    message: impl Into<String>,
) -> Resp {
    json_reply(status, error_body(&Error::new(kind, code, message)))
}

fn json_reply(status: StatusCode, v: Value) -> Resp {
    Response::builder()
        .status(status)
        .header(CONTENT_TYPE, "application/json")
        .header(CACHE_CONTROL, "no-store")
        .body(Full::new(Bytes::from(v.to_string())))
        .unwrap()
}

fn bad(msg: impl Into<String>) -> Error {
    Error::invalid_argument(msg)
}

/// `%XX` decoding of a path segment or query component (`plus`: `+` is a space, query only).
fn decode(s: &str, plus: bool) -> idaas::Result<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = b
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| bad("a bad %-escape in the request URL"))?;
                out.push(hex);
                i += 3;
            }
            b'+' if plus => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| bad("the request URL is not UTF-8 once decoded"))
}

fn percent_decode(s: &str) -> idaas::Result<String> {
    decode(s, false)
}

/// `?scope=S` of `GET /v1/token`; any other parameter is an error.
fn token_query(query: Option<&str>) -> idaas::Result<Option<String>> {
    let mut scope = None;
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match decode(k, true)?.as_str() {
            "scope" if scope.is_none() => scope = Some(decode(v, true)?),
            "scope" => return Err(bad("scope given twice")),
            other => {
                return Err(bad(format!(
                    "unknown query parameter {:?} (only scope)",
                    idaas::escape_controls(other)
                )))
            }
        }
    }
    Ok(scope)
}

/// A POST body: a JSON object with only `allowed` members (agent.md §2.1). serde_json's messages
/// may quote values (secrets), so only the error's category and position are reported.
fn object(body: Option<&[u8]>, allowed: &[&str]) -> idaas::Result<Map<String, Value>> {
    let body = body.unwrap_or_default();
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        bad(format!(
            "the request body is not JSON ({:?} error at line {} column {})",
            e.classify(),
            e.line(),
            e.column()
        ))
    })?;
    let Value::Object(map) = v else {
        return Err(bad("the request body is not a JSON object"));
    };
    if let Some(k) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(bad(format!(
            "unknown member {:?} in the request body (allowed: {})",
            idaas::escape_controls(k),
            allowed.join(", ")
        )));
    }
    Ok(map)
}

/// A string member (`null` counts as absent); never quotes the value.
fn string(
    map: &mut Map<String, Value>,
    name: &str,
    required: bool,
) -> idaas::Result<Option<String>> {
    match map.remove(name) {
        Some(Value::String(s)) => Ok(Some(s)),
        Some(Value::Null) | None if required => Err(bad(format!("{name} is required"))),
        Some(Value::Null) | None => Ok(None),
        Some(_) => Err(bad(format!("{name} must be a string"))),
    }
}

fn exchange_request(body: Option<&[u8]>) -> idaas::Result<TokenExchangeRequest> {
    let mut m = object(
        body,
        &[
            "subjectToken",
            "subjectTokenType",
            "requestedTokenType",
            "scope",
            "actorToken",
            "actorTokenType",
        ],
    )?;
    let subject = SecretString::new(string(&mut m, "subjectToken", true)?.unwrap_or_default());
    let subject_type = string(&mut m, "subjectTokenType", false)?
        .unwrap_or_else(|| TOKEN_TYPE_ACCESS_TOKEN.to_string());
    let mut req = TokenExchangeRequest::new(subject, subject_type);
    if let Some(t) = string(&mut m, "requestedTokenType", false)? {
        req = req.requested_token_type(t);
    }
    if let Some(s) = string(&mut m, "scope", false)? {
        req = req.scope(s);
    }
    let actor = string(&mut m, "actorToken", false)?.map(SecretString::new);
    let actor_type = string(&mut m, "actorTokenType", false)?;
    match (actor, actor_type) {
        (Some(a), Some(t)) => req = req.actor(a, t),
        (None, None) => {}
        _ => return Err(bad("actorToken and actorTokenType go together")),
    }
    req.validate()?;
    Ok(req)
}

fn oauth_options(body: Option<&[u8]>) -> idaas::Result<FetchOAuthOptions> {
    // An empty body is the same as `{}` (every member is optional).
    let body = body.filter(|b| !b.iter().all(u8::is_ascii_whitespace));
    let mut m = match body {
        Some(b) => object(Some(b), &["scope", "customParameters"])?,
        None => Map::new(),
    };
    let scope = string(&mut m, "scope", false)?;
    let custom_parameters = match m.remove("customParameters") {
        None | Some(Value::Null) => None,
        Some(Value::Object(o)) => Some(
            o.into_iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k, s)),
                    _ => Err(bad("customParameters must be an object of strings")),
                })
                .collect::<idaas::Result<Vec<_>>>()?,
        ),
        Some(_) => return Err(bad("customParameters must be an object of strings")),
    };
    Ok(FetchOAuthOptions {
        scope,
        force_authentication: None,
        custom_parameters,
    })
}

fn validate_request(body: Option<&[u8]>) -> idaas::Result<(SecretString, Option<String>)> {
    let mut m = object(body, &["token", "tokenTypeHint"])?;
    let token = SecretString::new(string(&mut m, "token", true)?.unwrap_or_default());
    Ok((token, string(&mut m, "tokenTypeHint", false)?))
}

fn obtain_request(body: Option<&[u8]>) -> idaas::Result<(String, String)> {
    let mut m = object(body, &["consumerId", "authenticationTokenId"])?;
    Ok((
        string(&mut m, "consumerId", true)?.unwrap_or_default(),
        string(&mut m, "authenticationTokenId", true)?.unwrap_or_default(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(Route::of("/v1/token").0, Route::Token);
        assert_eq!(Route::of("/v1/api-keys/abc"), (Route::ApiKey, Some("abc")));
        assert_eq!(Route::of("/v1/api-keys/").0, Route::Unknown);
        assert_eq!(Route::of("/v1/api-keys/a/b").0, Route::Unknown);
        assert_eq!(
            Route::of("/v1/oauth-tokens/p1"),
            (Route::OauthToken, Some("p1"))
        );
        assert_eq!(Route::of("/v2/token").0, Route::Unknown);
    }

    #[test]
    fn query_and_decoding() {
        assert_eq!(token_query(None).unwrap(), None);
        assert_eq!(
            token_query(Some("scope=urn%3Ax%7Cy+z")).unwrap().as_deref(),
            Some("urn:x|y z")
        );
        assert!(token_query(Some("scopes=x")).is_err());
        assert!(token_query(Some("scope=a&scope=b")).is_err());
        assert!(token_query(Some("scope=%zz")).is_err());
        assert_eq!(percent_decode("a%2Fb").unwrap(), "a/b");
    }

    #[test]
    fn bodies_never_echo_values() {
        let e = exchange_request(Some(br#"{"subjectToken": 5}"#)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        let e = exchange_request(Some(br#"{"subjectToken":"secret-x","bogus":1}"#)).unwrap_err();
        assert!(
            e.message().contains("bogus") && !e.message().contains("secret-x"),
            "{e}"
        );
        let e = exchange_request(Some(br#"{"subjectToken":"secret-x""#)).unwrap_err();
        assert!(!e.message().contains("secret-x"), "{e}");
        assert!(exchange_request(Some(b"{}")).is_err());
        assert!(exchange_request(Some(br#"{"subjectToken":"a.b"}"#)).is_ok());
        assert!(validate_request(Some(br#"{"tokenTypeHint":"jwt"}"#)).is_err());
        assert!(obtain_request(Some(br#"{"consumerId":"c"}"#)).is_err());
        let o = oauth_options(Some(br#"{"customParameters":{"a":"b"}}"#)).unwrap();
        assert_eq!(o.custom_parameters, Some(vec![("a".into(), "b".into())]));
        assert!(oauth_options(None).unwrap().scope.is_none());
        assert!(oauth_options(Some(br#"{"customParameters":{"a":1}}"#)).is_err());
    }

    #[test]
    fn statuses_and_body() {
        let e = Error::new(ErrorKind::Server, "server_error", "x").with_status(503);
        assert_eq!(status_of(&e), StatusCode::BAD_GATEWAY);
        let e404 = Error::new(ErrorKind::Client, "NotFound", "x").with_status(404);
        assert_eq!(status_of(&e404), StatusCode::NOT_FOUND);
        assert_eq!(
            status_of(&Error::new(ErrorKind::Timeout, "t", "x")),
            StatusCode::GATEWAY_TIMEOUT
        );
        assert_eq!(
            status_of(&Error::invalid_argument("x")),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            status_of(&Error::config("c", "x")),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        let b = error_body(&e.with_request_id("rid"));
        assert_eq!(b["error"]["kind"], "server");
        assert_eq!(b["error"]["class"], "SERVER_REPLY");
        assert_eq!(b["error"]["code"], "server_error");
        assert_eq!(b["error"]["httpStatus"], 503);
        assert_eq!(b["error"]["requestId"], "rid");
        assert!(b["error"]["retryable"].is_boolean());
    }
}
