//! Agent mode: the client side of the host agent (agent.md §6, core.md §2.9).
//!
//! A configuration with `agentSocket`, or the environment variable [`AGENT_SOCKET_ENV`], makes a
//! [`crate::Client`] and a [`crate::pam::PamClient`] made from it ask the host agent (`idaas agent`)
//! over its Unix socket instead of the IDaaS endpoints: `GET /v1/token?scope=S`,
//! `POST /v1/token/exchange`, `GET /v1/api-keys/{id}`, `POST /v1/oauth-tokens/{id}`,
//! `POST /v1/jwt/validate`, `POST /v1/jwt/obtain` (agent.md §2.1). The client keeps its own
//! refresh-ahead cache of the tokens the agent returns (agent.md §2.2).
//!
//! * **Transport (D-72).** HTTP/1.1 over the socket with ureq 3: a [`UnixConnector`] of ureq's
//!   `unversioned::transport` API opens a [`std::os::unix::net::UnixStream`] for every connection
//!   of one ureq agent (keep-alive pool as for TCP), and [`NoLookup`] stands in for the name
//!   resolver (there is no name to look up). Everything above the connection — request framing,
//!   timeouts (`httpConfiguration`), the bounded body read, zeroing of sent bodies — is the core's
//!   [`HttpClient`]. Requests go to `http://localhost/…`; the host only fills the `Host` header.
//! * **One attempt (D-73).** A call to the agent is not retried: the agent retries upstream, and a
//!   failed local connection means the agent is not running, which a retry within the same call
//!   does not fix. The refresh-ahead cache still serves a valid token while the agent is away.
//! * **Errors (D-74).** An agent error body (agent.md §2.3) becomes the core [`Error`] of the same
//!   kind, code, message, HTTP status (`httpStatus`, the upstream's) and request id. A socket that
//!   is missing or refuses connections is a [`ErrorKind::Transport`] error naming the socket path;
//!   a reply that is not the expected JSON is [`ErrorKind::UnexpectedResponse`] (its body is never
//!   quoted: it could hold a secret).

use crate::error::{Error, ErrorKind, Result};
use crate::exchange::TokenExchangeRequest;
use crate::http::{HttpClient, HttpOptions, HttpRequest, HttpResponse, Method};
use crate::pam::{JwtContent, OAuthAuthenticationTokenResponse};
use crate::provider::Credential;
use crate::secret::SecretString;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, LazyBuffers, NextTimeout, Transport,
};

/// The environment variable naming the host agent's socket (agent.md §6): agent mode for every
/// configuration that does not set `agentSocket` itself (core.md §2.9, decision D-71).
pub const AGENT_SOCKET_ENV: &str = "IDAAS_AGENT_SOCKET";

/// The base of every request URL; the connector ignores the host.
const BASE: &str = "http://localhost";

// ---------------------------------------------------------------------------------------------
// The ureq transport over a Unix socket (D-72).

/// A ureq connector that connects every request to one Unix socket.
#[derive(Debug)]
pub(crate) struct UnixConnector {
    path: PathBuf,
}

impl UnixConnector {
    pub(crate) fn new(path: &Path) -> Self {
        UnixConnector {
            path: path.to_path_buf(),
        }
    }
}

/// The error of a failed connection to the socket, carried through `ureq::Error::Io` to
/// `http::map_ureq_error` (code `AgentUnreachable`).
#[derive(Debug)]
pub(crate) struct AgentUnreachable {
    pub(crate) path: PathBuf,
    pub(crate) cause: std::io::Error,
}

impl std::fmt::Display for AgentUnreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cannot connect to the host agent at unix socket {}: {}; is `idaas agent` running, or is {AGENT_SOCKET_ENV} / agentSocket wrong?",
            self.path.display(),
            self.cause
        )
    }
}

impl std::error::Error for AgentUnreachable {}

impl<In: Transport> Connector<In> for UnixConnector {
    type Out = UnixTransport;

    fn connect(
        &self,
        details: &ConnectionDetails,
        _chained: Option<In>,
    ) -> std::result::Result<Option<UnixTransport>, ureq::Error> {
        // A local connect does not wait for a peer: it succeeds, or fails at once (no socket
        // file, nobody listening, no permission). The connect timeout has nothing to bound.
        let stream = UnixStream::connect(&self.path).map_err(|cause| {
            ureq::Error::Io(std::io::Error::new(
                cause.kind(),
                AgentUnreachable {
                    path: self.path.clone(),
                    cause,
                },
            ))
        })?;
        let config = details.config;
        Ok(Some(UnixTransport {
            stream,
            buffers: LazyBuffers::new(config.input_buffer_size(), config.output_buffer_size()),
        }))
    }
}

/// One connection to the agent's socket.
#[derive(Debug)]
pub(crate) struct UnixTransport {
    stream: UnixStream,
    buffers: LazyBuffers,
}

/// The time left of `t`: `Err(timeout)` when none is, `None` when unbounded.
fn time_left(t: NextTimeout) -> std::result::Result<Option<Duration>, ureq::Error> {
    if t.after.is_zero() {
        return Err(ureq::Error::Timeout(t.reason));
    }
    Ok(t.not_zero().map(|d| *d))
}

fn io_error(e: std::io::Error, t: NextTimeout) -> ureq::Error {
    match e.kind() {
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
            ureq::Error::Timeout(t.reason)
        }
        _ => ureq::Error::Io(e),
    }
}

impl Transport for UnixTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(
        &mut self,
        amount: usize,
        timeout: NextTimeout,
    ) -> std::result::Result<(), ureq::Error> {
        let t = timeout.for_write();
        self.stream.set_write_timeout(time_left(t)?)?;
        let output = &self.buffers.output()[..amount];
        (&self.stream).write_all(output).map_err(|e| io_error(e, t))
    }

    fn await_input(&mut self, timeout: NextTimeout) -> std::result::Result<bool, ureq::Error> {
        let t = timeout.for_read();
        self.stream.set_read_timeout(time_left(t)?)?;
        let input = self.buffers.input_append_buf();
        let n = loop {
            match (&self.stream).read(input) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                other => break other.map_err(|e| io_error(e, t))?,
            }
        };
        self.buffers.input_appended(n);
        Ok(n > 0)
    }

    fn is_open(&mut self) -> bool {
        // Open when a read would block: no bytes the agent sent unasked, no end of stream.
        if self.stream.set_nonblocking(true).is_err() {
            return false;
        }
        let mut buf = [0u8; 1];
        let open = matches!(
            (&self.stream).read(&mut buf),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock
        );
        open && self.stream.set_nonblocking(false).is_ok()
    }
}

/// The resolver of the socket's ureq agent: there is no name to look up, so it answers with a
/// placeholder address the [`UnixConnector`] never uses.
#[derive(Debug)]
pub(crate) struct NoLookup;

impl Resolver for NoLookup {
    fn resolve(
        &self,
        _uri: &ureq::http::Uri,
        _config: &ureq::config::Config,
        _timeout: NextTimeout,
    ) -> std::result::Result<ResolvedSocketAddrs, ureq::Error> {
        let mut one = self.empty();
        one.push(std::net::SocketAddr::from(([127, 0, 0, 1], 80)));
        Ok(one)
    }
}

// ---------------------------------------------------------------------------------------------
// The agent's routes (agent.md §2.1).

/// The client of the host agent shared by a [`crate::Client`] and the PAM clients made from it.
#[derive(Clone, Debug)]
pub(crate) struct AgentClient {
    path: PathBuf,
    http: HttpClient,
}

/// The error body of agent.md §2.3.
#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorFields,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorFields {
    kind: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    http_status: Option<u16>,
    #[serde(default)]
    request_id: Option<String>,
}

/// The kind of an agent error whose `kind` this version does not know, from the agent's status
/// (the table of agent.md §2.3 read backwards).
fn kind_of_status(status: u16) -> ErrorKind {
    match status {
        400 | 413 => ErrorKind::InvalidArgument,
        401 | 403 => ErrorKind::Auth,
        504 => ErrorKind::Timeout,
        500 => ErrorKind::Internal,
        s if (400..500).contains(&s) => ErrorKind::Client,
        _ => ErrorKind::Server,
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExchangeBody<'a> {
    subject_token: &'a str,
    subject_token_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    requested_token_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    actor_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    actor_token_type: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OAuthBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    custom_parameters: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ValidateBody<'a> {
    token: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    token_type_hint: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ObtainBody<'a> {
    consumer_id: &'a str,
    authentication_token_id: &'a str,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiKeyReply {
    #[serde(default, with = "crate::secret::secret_serde::option")]
    api_key: Option<SecretString>,
}

#[derive(Deserialize)]
struct ValidateReply {
    active: bool,
}

/// `s` as one percent-encoded path segment or query value (RFC 3986 unreserved kept).
pub(crate) fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl AgentClient {
    /// A client of the agent at `path`, with the timeouts of `opts`. No I/O.
    pub(crate) fn new(path: &Path, opts: HttpOptions) -> Self {
        AgentClient {
            path: path.to_path_buf(),
            http: HttpClient::over_unix_socket(opts, path),
        }
    }

    /// One request to `route` (path and query); the body of a 200 reply.
    fn call(&self, method: Method, route: &str, body: Option<SecretString>) -> Result<Vec<u8>> {
        let what = route.split('?').next().unwrap_or(route);
        let what = format!(
            "{} {what}",
            if method == Method::Get { "GET" } else { "POST" }
        );
        let url = format!("{BASE}{route}");
        let mut headers = vec![("Accept", "application/json".to_string())];
        if body.is_some() {
            headers.push(("Content-Type", "application/json".to_string()));
        }
        let req = HttpRequest {
            method,
            url: &url,
            headers,
            // Zeroed by the HTTP layer once sent; `body` itself is zeroed when dropped.
            body: body.map(|b| b.expose().as_bytes().to_vec()),
        };
        let resp = self.http.send(req).map_err(|e| self.local_error(e))?;
        if resp.status == 200 {
            return Ok(resp.body);
        }
        Err(self.error_reply(&what, &resp))
    }

    /// A failure of the local connection, naming the socket (no secret: the request is ours).
    fn local_error(&self, e: Error) -> Error {
        match e.kind() {
            ErrorKind::Transport | ErrorKind::Timeout if !e.code().starts_with("Agent") => {
                let msg = format!(
                    "host agent at unix socket {}: {}",
                    self.path.display(),
                    e.message()
                );
                let out = Error::new(e.kind(), e.code().to_string(), msg);
                match e.http_status() {
                    Some(s) => out.with_status(s),
                    None => out,
                }
            }
            _ => e,
        }
    }

    /// The core error of a reply other than 200 (agent.md §2.3, D-74).
    fn error_reply(&self, what: &str, resp: &HttpResponse) -> Error {
        match serde_json::from_slice::<ErrorBody>(&resp.body) {
            Ok(ErrorBody { error: f }) => {
                let kind =
                    ErrorKind::from_name(&f.kind).unwrap_or_else(|| kind_of_status(resp.status));
                let message = f.message.filter(|m| !m.is_empty()).unwrap_or_else(|| {
                    format!("the host agent refused {what} (HTTP {})", resp.status)
                });
                let mut e = Error::new(kind, f.code.unwrap_or_default(), message);
                if let Some(s) = f.http_status {
                    e = e.with_status(s);
                }
                if let Some(id) = f.request_id {
                    e = e.with_request_id(id);
                }
                e
            }
            Err(_) => self.unexpected(what, resp, "not an error body of agent.md §2.3"),
        }
    }

    /// A reply that is not what the route promises. The body is never quoted.
    fn unexpected(&self, what: &str, resp: &HttpResponse, why: &str) -> Error {
        Error::new(
            ErrorKind::UnexpectedResponse,
            "InvalidAgentReply",
            format!(
                "the host agent at unix socket {} answered {what} with HTTP {} and {} bytes of {}: {why}",
                self.path.display(),
                resp.status,
                resp.body.len(),
                resp.header("content-type").unwrap_or("no content type"),
            ),
        )
        .with_status(resp.status)
    }

    fn invalid_reply(&self, what: &str, why: impl std::fmt::Display) -> Error {
        Error::new(
            ErrorKind::UnexpectedResponse,
            "InvalidAgentReply",
            format!(
                "the host agent at unix socket {} answered {what} with a body that is not the expected JSON: {why}",
                self.path.display()
            ),
        )
        .with_status(200)
    }

    /// The reply of `what` as `T`. serde's message names the position and the expectation only
    /// for syntax errors; a type error could quote a value, so only its category is kept.
    fn parse<T: serde::de::DeserializeOwned>(&self, what: &str, body: Vec<u8>) -> Result<T> {
        let r = serde_json::from_slice::<T>(&body).map_err(|e| {
            self.invalid_reply(
                what,
                format_args!(
                    "{:?} error at line {} column {}",
                    e.classify(),
                    e.line(),
                    e.column()
                ),
            )
        });
        crate::secret::wipe_bytes(body);
        r
    }

    fn credential(&self, what: &str, body: Vec<u8>) -> Result<Credential> {
        let text = match String::from_utf8(body) {
            Ok(t) => SecretString::new(t),
            Err(e) => {
                crate::secret::wipe_bytes(e.into_bytes());
                return Err(self.invalid_reply(what, "not UTF-8"));
            }
        };
        crate::json::parse_credential(text.expose())
            .map_err(|e| self.invalid_reply(what, e.message()))
    }

    /// `GET /v1/token?scope=S`.
    pub(crate) fn token(&self, scope: &str) -> Result<Credential> {
        let route = format!("/v1/token?scope={}", encode_component(scope));
        let body = self.call(Method::Get, &route, None)?;
        self.credential("GET /v1/token", body)
    }

    /// `POST /v1/token/exchange`; `scope` is the request's or else the client's configured one.
    pub(crate) fn exchange(&self, req: &TokenExchangeRequest, scope: &str) -> Result<Credential> {
        let body = crate::json::to_secret_json(&ExchangeBody {
            subject_token: req.subject_token.expose(),
            subject_token_type: &req.subject_token_type,
            requested_token_type: req.requested_token_type.as_deref(),
            scope: Some(req.scope.as_deref().unwrap_or(scope)),
            actor_token: req.actor_token.as_ref().map(SecretString::expose),
            actor_token_type: req.actor_token_type.as_deref(),
        })?;
        let reply = self.call(Method::Post, "/v1/token/exchange", Some(body))?;
        self.credential("POST /v1/token/exchange", reply)
    }

    /// `GET /v1/api-keys/{id}`.
    pub(crate) fn api_key(&self, credential_identifier: &str) -> Result<Option<SecretString>> {
        let route = format!("/v1/api-keys/{}", encode_component(credential_identifier));
        let body = self.call(Method::Get, &route, None)?;
        let reply: ApiKeyReply = self.parse("GET /v1/api-keys/{id}", body)?;
        Ok(reply.api_key)
    }

    /// `POST /v1/oauth-tokens/{id}` (flow `m2m`).
    pub(crate) fn oauth_token(
        &self,
        credential_provider_identifier: &str,
        scope: Option<&str>,
        custom_parameters: Option<&[(String, String)]>,
    ) -> Result<OAuthAuthenticationTokenResponse> {
        let route = format!(
            "/v1/oauth-tokens/{}",
            encode_component(credential_provider_identifier)
        );
        let custom_parameters = custom_parameters.map(|p| {
            p.iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect()
        });
        let body = crate::json::to_secret_json(&OAuthBody {
            scope,
            custom_parameters,
        })?;
        let reply = self.call(Method::Post, &route, Some(body))?;
        self.parse("POST /v1/oauth-tokens/{id}", reply)
    }

    /// `POST /v1/jwt/validate`.
    pub(crate) fn validate(&self, token: &SecretString, hint: Option<&str>) -> Result<bool> {
        let body = crate::json::to_secret_json(&ValidateBody {
            token: token.expose(),
            token_type_hint: hint,
        })?;
        let reply = self.call(Method::Post, "/v1/jwt/validate", Some(body))?;
        Ok(self
            .parse::<ValidateReply>("POST /v1/jwt/validate", reply)?
            .active)
    }

    /// `POST /v1/jwt/obtain`.
    pub(crate) fn obtain_jwt(
        &self,
        consumer_id: &str,
        authentication_token_id: &str,
    ) -> Result<JwtContent> {
        let body = crate::json::to_secret_json(&ObtainBody {
            consumer_id,
            authentication_token_id,
        })?;
        let reply = self.call(Method::Post, "/v1/jwt/obtain", Some(body))?;
        self.parse("POST /v1/jwt/obtain", reply)
    }

    /// The [`ErrorKind::Config`] error of a PAM operation the agent does not serve (agent.md §2.1).
    pub(crate) fn not_served(&self, operation: &str) -> Error {
        Error::config(
            "NotServedByAgent",
            format!(
                "{operation} is not served by the host agent (agent.md §2.1: operations that change server state belong to the application that owns them, not to a shared cache); this client is in agent mode (unix socket {}): use a client configured without agentSocket / {AGENT_SOCKET_ENV} for it",
                self.path.display()
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_are_encoded() {
        assert_eq!(encode_component("openai_prod-key.1~"), "openai_prod-key.1~");
        assert_eq!(encode_component("a/b c?d#%"), "a%2Fb%20c%3Fd%23%25");
        assert_eq!(
            encode_component("urn:cloud:idaas:pam|.all"),
            "urn%3Acloud%3Aidaas%3Apam%7C.all"
        );
        assert_eq!(encode_component("é"), "%C3%A9");
    }

    #[test]
    fn kinds_round_trip() {
        for k in ["auth", "client", "server", "timeout", "transport", "config"] {
            assert_eq!(ErrorKind::from_name(k).unwrap().as_str(), k);
        }
        assert_eq!(ErrorKind::from_name("nope"), None);
        assert_eq!(kind_of_status(504), ErrorKind::Timeout);
    }
}
