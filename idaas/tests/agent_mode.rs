//! Agent mode (agent.md §6, core.md §2.9): the client asks a host agent over its Unix socket.
//! The agent here is a small stand-in: a thread answering the routes of agent.md §2.1 with fixed
//! replies and recording every request.

#![cfg(unix)]

use idaas::pam::{FetchOAuthOptions, GenerateJwtOptions, PamClient};
use idaas::{
    CachePolicy, Client, Clock, Config, ErrorKind, ManualClock, SecretString, TokenExchangeRequest,
};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// One request the stand-in received.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    target: String,
    body: String,
    headers: Vec<(String, String)>,
}

type Handler = dyn Fn(&Seen, u64) -> (u16, String) + Send + Sync;

/// The agent stand-in.
struct StandIn {
    dir: PathBuf,
    socket: PathBuf,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

static NEXT: AtomicU64 = AtomicU64::new(0);

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "idaas-agent-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl StandIn {
    /// A stand-in answering with `handler(request, n)` (`n`: the request's number, from 1).
    fn start(handler: impl Fn(&Seen, u64) -> (u16, String) + Send + Sync + 'static) -> StandIn {
        let dir = temp_dir();
        let socket = dir.join("agent.sock");
        let listener = UnixListener::bind(&socket).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let s = seen.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let (s, h) = (s.clone(), handler.clone());
                std::thread::spawn(move || serve(conn, &s, &*h));
            }
        });
        StandIn { dir, socket, seen }
    }

    /// The standard agent: every route of agent.md §2.1 with a fixed reply; tokens numbered.
    fn standard(clock: Option<Arc<ManualClock>>) -> StandIn {
        StandIn::start(move |r, n| {
            let now = clock
                .as_ref()
                .map(|c| c.now_secs())
                .unwrap_or_else(|| idaas::SystemClock.now_secs());
            let path = r.target.split('?').next().unwrap();
            match (r.method.as_str(), path) {
                ("GET", "/v1/token") => (
                    200,
                    json!({"access_token": format!("agent-token-{n}"), "token_type": "Bearer",
                           "expires_in": 3600, "expires_at": now + 600})
                    .to_string(),
                ),
                ("POST", "/v1/token/exchange") => (
                    200,
                    json!({"access_token": "exchanged-token", "token_type": "Bearer",
                           "expires_in": 300, "expires_at": now + 300,
                           "issued_token_type": "urn:ietf:params:oauth:token-type:access_token"})
                    .to_string(),
                ),
                ("GET", "/v1/api-keys/no-key") => (
                    200,
                    json!({"credentialIdentifier": "no-key", "apiKey": null}).to_string(),
                ),
                ("GET", p) if p.starts_with("/v1/api-keys/") => (
                    200,
                    json!({"credentialIdentifier": "x", "apiKey": "sk-agent-key"}).to_string(),
                ),
                ("POST", p) if p.starts_with("/v1/oauth-tokens/") => (
                    200,
                    json!({"credentialProviderId": "atp_1", "authenticationTokenType": "oauth_access_token",
                           "oauthAccessTokenContent": {"accessTokenValue": "oauth-at", "tokenType": "Bearer"}})
                    .to_string(),
                ),
                ("POST", "/v1/jwt/validate") => (200, json!({"active": true}).to_string()),
                ("POST", "/v1/jwt/obtain") => (
                    200,
                    json!({"jwtValue": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", "derivedShortToken": "dst_1"})
                        .to_string(),
                ),
                _ => (
                    404,
                    json!({"error": {"kind": "client", "class": "SERVER_REPLY", "code": "agent_not_found",
                           "message": "no such route", "httpStatus": null, "requestId": null, "retryable": false}})
                    .to_string(),
                ),
            }
        })
    }

    fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn config(&self) -> Config {
        agent_config(&self.socket)
    }

    fn client(&self) -> Client {
        Client::new(self.config()).unwrap()
    }
}

/// Serve one connection (keep-alive) until the client closes it.
fn serve(conn: UnixStream, seen: &Mutex<Vec<Seen>>, handler: &Handler) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut out = conn;
    loop {
        let mut head = Vec::new();
        loop {
            let mut line = Vec::new();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            head.extend_from_slice(&line);
            if line == b"\r\n" {
                break;
            }
        }
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut req = httparse::Request::new(&mut headers);
        assert!(req.parse(&head).unwrap().is_complete());
        let headers: Vec<(String, String)> = req
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_ascii_lowercase(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect();
        let len = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .map(|(_, v)| v.parse::<usize>().unwrap())
            .unwrap_or(0);
        let mut body = vec![0u8; len];
        reader.read_exact(&mut body).unwrap();
        let r = Seen {
            method: req.method.unwrap().to_string(),
            target: req.path.unwrap().to_string(),
            body: String::from_utf8(body).unwrap(),
            headers,
        };
        let n = {
            let mut s = seen.lock().unwrap();
            s.push(r.clone());
            s.len() as u64
        };
        let (status, body) = handler(&r, n);
        let ctype = if body.starts_with('{') {
            "application/json"
        } else {
            "text/plain"
        };
        let reply = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nCache-Control: no-store\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        if out.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

/// A configuration in agent mode that also names a token endpoint no request may reach.
fn agent_config(socket: &Path) -> Config {
    Config::from_json_value(&json!({
        "idaasInstanceId": "idaas_test",
        "clientId": "app_test",
        "issuer": "https://idaas.invalid/oauth",
        "tokenEndpoint": "https://idaas.invalid/oauth/token",
        "developerApiEndpoint": "devapi.invalid",
        "agentSocket": socket.to_str().unwrap(),
        "authnConfiguration": {
            "authnMethod": "CLIENT_SECRET_POST",
            "clientSecretEnvVarName": "IDAAS_AGENT_TEST_SECRET_NOT_SET"
        }
    }))
    .unwrap()
}

fn query_scope(target: &str) -> String {
    let q = target.split_once("?scope=").unwrap().1;
    // Undo the percent-encoding of the few characters a scope has.
    q.replace("%3A", ":")
        .replace("%7C", "|")
        .replace("%20", " ")
}

fn error_body(kind: &str, code: &str, msg: &str, status: Value, request_id: Value) -> String {
    json!({"error": {"kind": kind, "class": "X", "code": code, "message": msg,
                     "httpStatus": status, "requestId": request_id, "retryable": false}})
    .to_string()
}

#[test]
fn token_fetched_once_then_cached_and_no_request_to_the_token_endpoint() {
    let agent = StandIn::standard(None);
    let c = agent.client();
    assert!(c.is_agent_mode());
    let first = c.bearer_token().unwrap();
    assert_eq!(first.expose(), "agent-token-1");
    for _ in 0..10 {
        assert_eq!(c.bearer_token().unwrap().expose(), "agent-token-1");
        c.with_bearer_token(|t| assert_eq!(t, "agent-token-1"))
            .unwrap();
    }
    let cred = c.credential().unwrap();
    assert_eq!(cred.token_type, "Bearer");
    let reqs = agent.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert_eq!(reqs[0].method, "GET");
    assert_eq!(query_scope(&reqs[0].target), idaas::DEFAULT_SCOPE);
    // No authorization of ours travels to the agent: it authenticates.
    assert!(reqs[0].headers.iter().all(|(k, _)| k != "authorization"));
}

#[test]
fn per_scope_query_and_cache() {
    let agent = StandIn::standard(None);
    let c = agent.client();
    let a = c.bearer_token_for_scope("urn:x:y|read").unwrap();
    let b = c
        .bearer_token_for_scope("urn:x:y|read urn:x:y|write")
        .unwrap();
    assert_ne!(a.expose(), b.expose());
    assert_eq!(
        c.bearer_token_for_scope("urn:x:y|read").unwrap().expose(),
        a.expose()
    );
    let reqs = agent.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].target, "/v1/token?scope=urn%3Ax%3Ay%7Cread");
    assert_eq!(query_scope(&reqs[1].target), "urn:x:y|read urn:x:y|write");
    // A scope the core refuses never reaches the agent.
    assert_eq!(
        c.bearer_token_for_scope("").unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(agent.requests().len(), 2);
}

#[test]
fn expires_at_is_honoured() {
    let clock = ManualClock::starting_now();
    let agent = StandIn::standard(Some(clock.clone()));
    let c = Client::builder(agent.config())
        .clock(clock.clone())
        .async_refresh(false)
        .cache_policy(CachePolicy {
            jitter: false,
            ..CachePolicy::default()
        })
        .build()
        .unwrap();
    assert_eq!(c.bearer_token().unwrap().expose(), "agent-token-1");
    clock.advance_secs(300); // 600 s token: fresh until 400 s (prefetch margin L/3)
    assert_eq!(c.bearer_token().unwrap().expose(), "agent-token-1");
    assert_eq!(agent.requests().len(), 1);
    // Past expires_at (though `expires_in` says 3600): asked again.
    clock.advance_secs(301);
    assert_eq!(c.bearer_token().unwrap().expose(), "agent-token-2");
    assert_eq!(agent.requests().len(), 2);
    // In the prefetch window of the new token (from 400 s of 600): refreshed in the caller.
    clock.advance_secs(450);
    assert_eq!(c.bearer_token().unwrap().expose(), "agent-token-3");
    assert_eq!(agent.requests().len(), 3);
}

#[test]
fn exchange_goes_to_the_agent() {
    let agent = StandIn::standard(None);
    let c = agent.client();
    let mut req = TokenExchangeRequest::for_access_token(SecretString::new("subject-tok"));
    req.actor_token = Some(SecretString::new("actor-tok"));
    req.actor_token_type = Some(idaas::TOKEN_TYPE_JWT.to_string());
    let cred = c.exchange_token(&req).unwrap();
    assert_eq!(cred.access_token.expose(), "exchanged-token");
    assert_eq!(
        cred.issued_token_type.as_deref(),
        Some(idaas::TOKEN_TYPE_ACCESS_TOKEN)
    );
    // Never cached: a second exchange is a second request.
    c.exchange_token(&req).unwrap();
    let reqs = agent.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        (reqs[0].method.as_str(), reqs[0].target.as_str()),
        ("POST", "/v1/token/exchange")
    );
    let body: Value = serde_json::from_str(&reqs[0].body).unwrap();
    assert_eq!(
        body,
        json!({"subjectToken": "subject-tok", "subjectTokenType": idaas::TOKEN_TYPE_ACCESS_TOKEN,
               "scope": idaas::DEFAULT_SCOPE, "actorToken": "actor-tok",
               "actorTokenType": idaas::TOKEN_TYPE_JWT})
    );
    let ctype = reqs[0].headers.iter().find(|(k, _)| k == "content-type");
    assert_eq!(ctype.unwrap().1, "application/json");
}

#[test]
fn pam_routes() {
    let agent = StandIn::standard(None);
    let c = agent.client();
    let pam = PamClient::from_client(&c).unwrap();
    assert!(pam.is_agent_mode());
    let key = pam.get_api_key("openai prod/key").unwrap().unwrap();
    assert_eq!(key.expose(), "sk-agent-key");
    assert_eq!(pam.get_api_key("no-key").unwrap(), None);
    let r = pam
        .fetch_oauth_authentication_token_v2(
            "atp/1",
            "m2m",
            &FetchOAuthOptions {
                scope: Some("read".into()),
                force_authentication: None,
                custom_parameters: Some(vec![("aud".into(), "x".into())]),
            },
        )
        .unwrap();
    assert_eq!(
        r.oauth_access_token_content
            .unwrap()
            .access_token_value
            .expose(),
        "oauth-at"
    );
    assert!(pam
        .validate_authentication_token(&SecretString::new("eyJ.x.y"), Some("jwt"))
        .unwrap());
    let jwt = pam
        .obtain_jwt_authentication_token("app_1", "atntkn_1")
        .unwrap();
    assert!(jwt.jwt_value.expose().starts_with("eyJ"));
    assert_eq!(jwt.derived_short_token.unwrap().expose(), "dst_1");

    let reqs = agent.requests();
    let lines: Vec<(String, String)> = reqs
        .iter()
        .map(|r| (r.method.clone(), r.target.clone()))
        .collect();
    let want = [
        ("GET", "/v1/api-keys/openai%20prod%2Fkey"),
        ("GET", "/v1/api-keys/no-key"),
        ("POST", "/v1/oauth-tokens/atp%2F1"),
        ("POST", "/v1/jwt/validate"),
        ("POST", "/v1/jwt/obtain"),
    ];
    assert_eq!(
        lines,
        want.map(|(m, t)| (m.to_string(), t.to_string())).to_vec()
    );
    let body = |i: usize| serde_json::from_str::<Value>(&reqs[i].body).unwrap();
    assert_eq!(
        body(2),
        json!({"scope": "read", "customParameters": {"aud": "x"}})
    );
    assert_eq!(body(3), json!({"token": "eyJ.x.y", "tokenTypeHint": "jwt"}));
    assert_eq!(
        body(4),
        json!({"consumerId": "app_1", "authenticationTokenId": "atntkn_1"})
    );
    // No token was fetched for the PAM calls: the agent authenticates them.
    assert!(reqs.iter().all(|r| !r.target.starts_with("/v1/token")));
}

#[test]
fn unserved_pam_operations_are_config_errors() {
    let agent = StandIn::standard(None);
    let pam = PamClient::from_client(&agent.client()).unwrap();
    let check = |e: idaas::Error, what: &str| {
        assert_eq!(e.kind(), ErrorKind::Config, "{e}");
        assert_eq!(e.code(), "NotServedByAgent", "{e}");
        assert!(e.message().contains(what), "{e}");
        assert!(e.message().contains("agent"), "{e}");
    };
    check(
        pam.generate_jwt_authentication_token(
            "atp_1",
            "sub",
            &["aud".to_string()],
            &GenerateJwtOptions::default(),
        )
        .unwrap_err(),
        "GenerateJwtAuthenticationToken",
    );
    check(
        pam.revoke_authentication_token(&SecretString::new("t"), None)
            .unwrap_err(),
        "RevokeAuthenticationToken",
    );
    check(
        pam.reinstate_authentication_token_by_consumer("c", "p")
            .unwrap_err(),
        "ReinstateAuthenticationTokenByConsumer",
    );
    check(
        pam.list_authentication_tokens("c", "p", &Default::default())
            .unwrap_err(),
        "ListAuthenticationTokens",
    );
    check(
        pam.get_oauth_authorization_session("urn:x").unwrap_err(),
        "GetOAuthAuthorizationSession",
    );
    check(
        pam.obtain_jwt_authentication_token_by_derived_short_token(&SecretString::new("dst"))
            .unwrap_err(),
        "DerivedShortToken",
    );
    check(
        pam.fetch_oauth_authentication_token_v2(
            "p",
            "user_federation",
            &FetchOAuthOptions::default(),
        )
        .unwrap_err(),
        "user_federation",
    );
    check(
        pam.fetch_oauth_authentication_token_v2(
            "p",
            "m2m",
            &FetchOAuthOptions {
                force_authentication: Some(true),
                ..Default::default()
            },
        )
        .unwrap_err(),
        "forceAuthentication",
    );
    assert!(agent.requests().is_empty());
}

#[test]
fn agent_errors_become_the_same_core_errors() {
    let agent = StandIn::start(|r, _| {
        let scope = query_scope(&r.target);
        match scope.as_str() {
            "s:refused|x" => (
                401,
                error_body(
                    "auth",
                    "agent_unauthorized",
                    "peer not allowed",
                    Value::Null,
                    Value::Null,
                ),
            ),
            "s:upstream|x" => (
                502,
                error_body(
                    "auth",
                    "invalid_client",
                    "Client authentication failed",
                    json!(401),
                    json!("req-123"),
                ),
            ),
            "s:slow|x" => (
                504,
                error_body(
                    "timeout",
                    "ReadTimeOut",
                    "timeout talking to the token endpoint",
                    Value::Null,
                    Value::Null,
                ),
            ),
            "s:server|x" => (
                502,
                error_body(
                    "server",
                    "InternalError",
                    "upstream 503",
                    json!(503),
                    Value::Null,
                ),
            ),
            "s:garbage|x" => (200, "secret-looking garbage sk-123".to_string()),
            "s:badjson|x" => (200, r#"{"token_type":"Bearer"}"#.to_string()),
            _ => (502, "<html>bad gateway sk-456</html>".to_string()),
        }
    });
    let c = agent.client();
    let e = c.bearer_token_for_scope("s:refused|x").unwrap_err();
    assert_eq!(
        (e.kind(), e.code(), e.message(), e.http_status()),
        (
            ErrorKind::Auth,
            "agent_unauthorized",
            "peer not allowed",
            None
        )
    );
    let e = c.bearer_token_for_scope("s:upstream|x").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert_eq!(e.code(), "invalid_client");
    assert_eq!(e.message(), "Client authentication failed");
    assert_eq!(e.http_status(), Some(401));
    assert_eq!(e.request_id(), Some("req-123"));
    assert!(!e.is_retryable());
    let e = c.bearer_token_for_scope("s:slow|x").unwrap_err();
    assert_eq!((e.kind(), e.code()), (ErrorKind::Timeout, "ReadTimeOut"));
    assert!(e.is_retryable());
    let e = c.bearer_token_for_scope("s:server|x").unwrap_err();
    assert_eq!((e.kind(), e.http_status()), (ErrorKind::Server, Some(503)));
    for scope in ["s:garbage|x", "s:badjson|x", "s:other|x"] {
        let e = c.bearer_token_for_scope(scope).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnexpectedResponse, "{scope}: {e}");
        assert_eq!(e.code(), "InvalidAgentReply", "{scope}: {e}");
        let text = format!("{e} {e:?}");
        assert!(!text.contains("sk-"), "{text}");
        assert!(text.contains(agent.socket.to_str().unwrap()), "{text}");
    }
}

#[test]
fn missing_socket_is_a_transport_error_naming_the_path() {
    let dir = temp_dir();
    let socket = dir.join("nobody.sock");
    let c = Client::new(agent_config(&socket)).unwrap();
    let e = c.bearer_token().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transport, "{e}");
    assert_eq!(e.code(), "AgentUnreachable", "{e}");
    assert!(e.message().contains(socket.to_str().unwrap()), "{e}");
    assert!(e.is_retryable());
    // A stale socket file (nobody listening) is the same.
    drop(UnixListener::bind(&socket).unwrap());
    let pam = PamClient::from_client(&c).unwrap();
    let e = pam.get_api_key("k").unwrap_err();
    assert_eq!(
        (e.kind(), e.code()),
        (ErrorKind::Transport, "AgentUnreachable"),
        "{e}"
    );
    assert!(e.message().contains(socket.to_str().unwrap()), "{e}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn minimal_configuration_and_socket_rules() {
    let agent = StandIn::standard(None);
    let path = agent.socket.to_str().unwrap();
    // Nothing but the socket: the agent holds the identity and the authentication.
    let cfg = Config::from_json_str(&format!(r#"{{"agentSocket": "{path}"}}"#)).unwrap();
    assert_eq!(cfg.agent_socket.as_deref(), Some(agent.socket.as_path()));
    let c = Client::new(cfg).unwrap();
    assert_eq!(c.bearer_token().unwrap().expose(), "agent-token-1");
    // snake_case spelling (D-1) and the builder.
    let cfg = Config::from_json_str(&format!(r#"{{"agent_socket": "{path}"}}"#)).unwrap();
    assert!(cfg.is_agent_mode());
    let cfg = Config::builder().agent_socket(path).build().unwrap();
    assert!(cfg.is_agent_mode());
    // A relative path, a wrong type.
    let e = Config::from_json_str(r#"{"agentSocket": "run/agent.sock"}"#).unwrap_err();
    assert_eq!(
        (e.kind(), e.code()),
        (ErrorKind::Config, "InvalidAgentSocket")
    );
    assert!(e.message().contains("agentSocket"), "{e}");
    let e = Config::from_json_str(r#"{"agentSocket": 5}"#).unwrap_err();
    assert!(
        e.message().contains("agentSocket: expected a string"),
        "{e}"
    );
    // Keys that are present are still checked.
    let e = Config::from_json_str(&format!(
        r#"{{"agentSocket": "{path}", "scope": "bad scope"}}"#
    ))
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    let e = Config::from_json_str(&format!(
        r#"{{"agentSocket": "{path}", "httpConfiguration": {{"readTimeout": 1}}}}"#
    ))
    .unwrap_err();
    assert_eq!(e.code(), "ReadTimeoutNotValid");
}

/// The only test that sets `IDAAS_AGENT_SOCKET`: every other configuration of this file names its
/// socket itself, which wins over the variable (core.md §2.9), so they are not disturbed.
#[test]
fn environment_variable_and_member_precedence() {
    let env_agent = StandIn::standard(None);
    let member_agent = StandIn::standard(None);
    let direct = json!({
        "idaasInstanceId": "idaas_test", "clientId": "app_test",
        "issuer": "https://idaas.invalid/oauth", "tokenEndpoint": "https://idaas.invalid/oauth/token",
        "authnConfiguration": {"authnMethod": "CLIENT_SECRET_POST", "clientSecretEnvVarName": "X_NOT_SET"}
    });
    std::env::remove_var(idaas::AGENT_SOCKET_ENV);
    let e = Config::from_json_str("{}").unwrap_err();
    assert_eq!(e.code(), "IDaaSInstanceIdNotFound");
    assert!(!Config::from_json_value(&direct).unwrap().is_agent_mode());

    std::env::set_var(idaas::AGENT_SOCKET_ENV, &env_agent.socket);
    // The variable turns a configuration without the member into agent mode …
    let cfg = Config::from_json_value(&direct).unwrap();
    assert_eq!(
        cfg.agent_socket.as_deref(),
        Some(env_agent.socket.as_path())
    );
    let c = Client::new(cfg).unwrap();
    assert_eq!(c.bearer_token().unwrap().expose(), "agent-token-1");
    assert_eq!(env_agent.requests().len(), 1);
    let cfg = Config::from_json_str("{}").unwrap();
    assert!(cfg.is_agent_mode());
    let cfg = Config::builder().build().unwrap();
    assert!(cfg.is_agent_mode());
    // … the member wins over it …
    let mut with_member = direct.clone();
    with_member["agentSocket"] = json!(member_agent.socket.to_str().unwrap());
    let c = Client::new(Config::from_json_value(&with_member).unwrap()).unwrap();
    c.bearer_token().unwrap();
    assert_eq!(member_agent.requests().len(), 1);
    assert_eq!(env_agent.requests().len(), 1);
    // … and "" turns agent mode off.
    with_member["agentSocket"] = json!("");
    let cfg = Config::from_json_value(&with_member).unwrap();
    assert!(!cfg.is_agent_mode());
    assert!(!Client::new(cfg).unwrap().is_agent_mode());
    let cfg = Config::builder()
        .agent_socket("")
        .idaas_instance_id("idaas_x")
        .client_id("app_x")
        .issuer("https://idaas.invalid")
        .token_endpoint("https://idaas.invalid/token")
        .authn_method(idaas::AuthnMethod::ClientSecretPost)
        .build()
        .unwrap();
    assert!(!cfg.is_agent_mode());
    // A relative path in the variable is named as such.
    std::env::set_var(idaas::AGENT_SOCKET_ENV, "relative.sock");
    let e = Config::from_json_value(&direct).unwrap_err();
    assert_eq!(e.code(), "InvalidAgentSocket");
    assert!(e.message().contains(idaas::AGENT_SOCKET_ENV), "{e}");
    // Empty: unset.
    std::env::set_var(idaas::AGENT_SOCKET_ENV, "");
    assert!(!Config::from_json_value(&direct).unwrap().is_agent_mode());
    std::env::remove_var(idaas::AGENT_SOCKET_ENV);
}
