//! The HTTP layer: one `ureq` agent per client (keep-alive pool), timeouts applied (D-4), TLS through
//! rustls with the system roots plus `SSL_CERT_FILE` plus an optional extra CA file (D-20), no
//! redirects followed (D-12, D-27), bounded body reads, and https enforced except for loopback hosts
//! (D-6, rules in [`crate::endpoint`]).
//!
//! Retries are not done here: the callers (token fetch, Developer API) decide what is safe to retry.
//!
//! # Time bounds
//! One *attempt* (connect, send, receive headers and body) is bounded as a whole by
//! `connect_timeout + read_timeout`; within it, connecting is bounded by `connect_timeout` and
//! waiting for the reply to start by `read_timeout`, so a slow body cannot add a second read
//! timeout to a slow start. One
//! *call* — every attempt and back-off of one operation — has a budget, [`HttpOptions::call_timeout`]
//! (default `2 × (connect_timeout + read_timeout)`): callers take a [`Deadline`] from
//! [`HttpClient::deadline`] when the call starts, send with [`HttpClient::send_before`], and start a
//! further attempt only when [`HttpClient::fits`] says its back-off and a whole attempt fit in what is
//! left. No call outlives its budget.
//!
//! # Proxies
//! A plain-`http://` request (loopback hosts, the ECS metadata service) and a request to a loopback
//! host are always sent directly, never through a proxy: a proxy would see the secret in clear text,
//! or could answer for "localhost" itself. `https://` requests to other hosts use the proxy of the
//! environment as `ureq` reads it (`ALL_PROXY`, then `HTTPS_PROXY`, then `HTTP_PROXY`, lower-case
//! spellings too) and honour `NO_PROXY`; TLS stays end to end through the proxy.
//!
//! # Logging and secrets
//! At `TRACE` level, `ureq`'s protocol crate (`ureq_proto`) hex-dumps every request and response
//! **including the `Authorization` header, form bodies with client secrets and assertions, and token
//! replies**. `DEBUG` and above are safe (ureq redacts `Authorization` there). The core never logs a
//! secret itself, but it cannot stop an application logger from enabling `TRACE` for those targets:
//! loggers that forward this crate's logs (e.g. the C ABI's log callback) must drop the records for
//! which [`is_sensitive_log_record`] is true.

use crate::endpoint::{self, Scheme};
use crate::error::{Error, ErrorKind, Result};
use std::sync::Arc;
use std::time::{Duration, Instant};
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

/// Largest response body we read (1 MiB); a larger one is an [`ErrorKind::UnexpectedResponse`].
pub const MAX_BODY_BYTES: u64 = 1024 * 1024;

/// Options of an [`HttpClient`].
#[derive(Clone, Debug)]
pub struct HttpOptions {
    /// TCP + TLS connect timeout.
    pub connect_timeout: Duration,
    /// Time allowed for the reply to start once the request is sent; the whole attempt is
    /// bounded by `connect_timeout + read_timeout`.
    pub read_timeout: Duration,
    /// Budget of one call: every attempt and back-off of one operation. `None`: twice one
    /// attempt's bound, `2 × (connect_timeout + read_timeout)`.
    pub call_timeout: Option<Duration>,
    /// PEM text of extra trusted CA certificates (e.g. the emulator's CA), added to the system roots.
    pub extra_ca_pem: Option<String>,
    /// The `User-Agent` header value.
    pub user_agent: String,
    /// Largest accepted response body in bytes.
    pub max_body_bytes: u64,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            connect_timeout: Duration::from_millis(5000),
            read_timeout: Duration::from_millis(10000),
            call_timeout: None,
            extra_ca_pem: None,
            user_agent: default_user_agent(),
            max_body_bytes: MAX_BODY_BYTES,
        }
    }
}

impl HttpOptions {
    /// The bound of one attempt: `connect_timeout + read_timeout`.
    pub fn attempt_timeout(&self) -> Duration {
        self.connect_timeout.saturating_add(self.read_timeout)
    }

    /// The budget of one call ([`HttpOptions::call_timeout`] or its default).
    pub fn call_budget(&self) -> Duration {
        self.call_timeout
            .unwrap_or_else(|| self.attempt_timeout().saturating_mul(2))
    }
}

/// The instant by which a call (all its attempts and back-offs) must be over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Deadline(Instant);

impl Deadline {
    /// A deadline `budget` from now.
    pub fn after(budget: Duration) -> Self {
        let now = Instant::now();
        Deadline(
            now.checked_add(budget)
                .unwrap_or(now + Duration::from_secs(86_400)),
        )
    }

    /// Time left (zero once passed).
    pub fn remaining(&self) -> Duration {
        self.0.saturating_duration_since(Instant::now())
    }
}

/// `IDaaS core/<crate version> Rust OS(<os>; <arch>)` (decision D-21). A binding may append a token
/// of its own (e.g. ` Go/1.22`) through [`HttpOptions::user_agent`].
pub fn default_user_agent() -> String {
    format!(
        "IDaaS core/{} Rust OS({}; {})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

/// HTTP method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
}

/// One request. Header names are sent as given.
#[derive(Debug)]
pub struct HttpRequest<'a> {
    /// Method.
    pub method: Method,
    /// Absolute URL (checked by [`check_url`]).
    pub url: &'a str,
    /// Headers, in order.
    pub headers: Vec<(&'a str, String)>,
    /// Body (POST/PUT); `None` sends no body.
    pub body: Option<Vec<u8>>,
}

/// One response, body fully read (bounded).
#[derive(Debug)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers (lower-case names).
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as (lossy) UTF-8 text, cut to `max` characters, for error messages.
    pub fn body_snippet(&self, max: usize) -> String {
        let s = String::from_utf8_lossy(&self.body);
        let s = s.trim();
        if s.chars().count() > max {
            let cut: String = s.chars().take(max).collect();
            format!("{cut}…")
        } else {
            s.to_string()
        }
    }
}

/// A pooled, keep-alive HTTP client. Cheap to clone (the pool is shared).
#[derive(Clone)]
pub struct HttpClient {
    agent: ureq::Agent,
    opts: Arc<HttpOptions>,
    /// The environment named a proxy when the client was built.
    proxied: bool,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("opts", &self.opts)
            .finish()
    }
}

impl HttpClient {
    /// Build a client. Fails when the extra CA PEM holds no usable certificate.
    pub fn new(opts: HttpOptions) -> Result<Self> {
        let roots = root_certs(opts.extra_ca_pem.as_deref())?;
        let proxy = ureq::Proxy::try_from_env();
        let tls = ureq::tls::TlsConfig::builder()
            .root_certs(ureq::tls::RootCerts::Specific(Arc::new(roots)))
            .build();
        let config = base_config(&opts)
            .tls_config(tls)
            // Read once, here; plain-http and loopback requests switch it off per request.
            .proxy(proxy.clone())
            .build();
        let agent =
            ureq::Agent::with_parts(config, DefaultConnector::new(), LoopbackGuard::default());
        Ok(HttpClient {
            agent,
            opts: Arc::new(opts),
            proxied: proxy.is_some(),
        })
    }

    /// A client whose every request goes to the Unix socket at `path`, whatever the URL's host
    /// (agent mode, agent.md §6, decision D-72): no name lookup, no proxy, no TLS; the timeouts and
    /// bounds of `opts` apply as to any client. Send requests to `http://localhost/…`.
    pub(crate) fn over_unix_socket(opts: HttpOptions, path: &std::path::Path) -> Self {
        let config = base_config(&opts).proxy(None).build();
        let agent = ureq::Agent::with_parts(
            config,
            crate::agent::UnixConnector::new(path),
            crate::agent::NoLookup,
        );
        HttpClient {
            agent,
            opts: Arc::new(opts),
            proxied: false,
        }
    }

    /// The options this client was built with.
    pub fn options(&self) -> &HttpOptions {
        &self.opts
    }

    /// A deadline for a call starting now ([`HttpOptions::call_budget`] away).
    pub fn deadline(&self) -> Deadline {
        Deadline::after(self.opts.call_budget())
    }

    /// Whether another attempt, after waiting `delay`, fits before `deadline`: an attempt is not
    /// started unless its whole bound (`connect_timeout + read_timeout`) fits, so a retry never
    /// ends as a timeout cut short by the call budget.
    pub fn fits(&self, deadline: Deadline, delay: Duration) -> bool {
        deadline.remaining() >= delay.saturating_add(self.opts.attempt_timeout())
    }

    /// Send a request and read the whole (bounded) response. Any status is `Ok`; only transport
    /// failures, timeouts, over-long bodies and URLs refused by the rules of [`crate::endpoint`]
    /// are errors. The request is one attempt and one call: it lasts at most
    /// `connect_timeout + read_timeout`.
    pub fn send(&self, req: HttpRequest<'_>) -> Result<HttpResponse> {
        self.send_before(req, self.deadline())
    }

    /// [`HttpClient::send`] as one attempt of a call that must be over by `deadline`.
    pub fn send_before(&self, req: HttpRequest<'_>, deadline: Deadline) -> Result<HttpResponse> {
        let facts = checked(req.url)?;
        if facts.scheme == Scheme::Http && !facts.loopback {
            return Err(plain_http_refused(req.url));
        }
        self.send_checked(
            req,
            facts.loopback || facts.scheme == Scheme::Http,
            deadline,
        )
    }

    /// Like [`HttpClient::send`] but also allows plain `http://` to any host. Only for link-local
    /// metadata services that have no TLS (the ECS metadata service `http://100.100.100.200`,
    /// core.md §6.2); never for the token endpoint or the Developer API. Never proxied.
    pub fn send_allow_plain_http(&self, req: HttpRequest<'_>) -> Result<HttpResponse> {
        self.send_allow_plain_http_before(req, self.deadline())
    }

    /// [`HttpClient::send_allow_plain_http`] as one attempt that must be over by `deadline`. A
    /// metadata service answers at once where it exists; a short deadline keeps a machine without
    /// one from waiting out the whole connect timeout (the Alibaba Cloud credential chain).
    pub fn send_allow_plain_http_before(
        &self,
        req: HttpRequest<'_>,
        deadline: Deadline,
    ) -> Result<HttpResponse> {
        let facts = checked(req.url)?;
        let direct = facts.loopback || facts.scheme == Scheme::Http;
        self.send_checked(req, direct, deadline)
    }

    fn send_checked(
        &self,
        req: HttpRequest<'_>,
        direct: bool,
        deadline: Deadline,
    ) -> Result<HttpResponse> {
        let remaining = deadline.remaining();
        let result = if remaining.is_zero() {
            Err(call_timed_out(req.url))
        } else {
            self.call(&req, direct, remaining.min(self.opts.attempt_timeout()))
        };
        // The body and header values may carry secrets (client secret, assertion, API key): zero
        // our copies now that they are sent.
        let HttpRequest {
            mut headers, body, ..
        } = req;
        if let Some(mut b) = body {
            zeroize::Zeroize::zeroize(&mut b);
        }
        for (_, v) in headers.iter_mut() {
            zeroize::Zeroize::zeroize(v);
        }
        result
    }

    /// The request-level settings a request needs beyond the agent's: a shorter bound than a whole
    /// attempt (the call's budget is running out), and no proxy for a direct request when the agent
    /// has one. Most requests need neither, and skip the copy of the agent's configuration.
    fn per_request<B>(
        &self,
        b: ureq::RequestBuilder<B>,
        direct: bool,
        bound: Duration,
    ) -> ureq::RequestBuilder<B> {
        let shorter = bound < self.opts.attempt_timeout();
        let unproxy = direct && self.proxied;
        if !shorter && !unproxy {
            return b;
        }
        let mut c = b.config();
        if shorter {
            c = c.timeout_global(Some(bound));
        }
        if unproxy {
            c = c.proxy(None);
        }
        c.build()
    }

    /// One attempt, bounded by `bound` as a whole (headers and body).
    fn call(&self, req: &HttpRequest<'_>, direct: bool, bound: Duration) -> Result<HttpResponse> {
        let url = req.url;
        let result = match req.method {
            Method::Get => {
                let mut b = self.agent.get(url);
                for (k, v) in &req.headers {
                    b = b.header(*k, v.as_str());
                }
                self.per_request(b, direct, bound).call()
            }
            Method::Post | Method::Put => {
                let mut b = if req.method == Method::Post {
                    self.agent.post(url)
                } else {
                    self.agent.put(url)
                };
                for (k, v) in &req.headers {
                    b = b.header(*k, v.as_str());
                }
                let b = self.per_request(b, direct, bound);
                match &req.body {
                    Some(body) => b.send(&body[..]),
                    None => b.send_empty(),
                }
            }
        };
        let mut resp = result.map_err(|e| map_ureq_error(e, url))?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = resp
            .body_mut()
            .with_config()
            .limit(self.opts.max_body_bytes)
            .read_to_vec()
            .map_err(|e| map_ureq_error(e, url).with_status(status))?;
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

/// The settings every client's agent shares (TLS and proxy are set by the caller): status codes are
/// not errors, no redirects (D-12), the timeouts of `opts` (D-4), the User-Agent (D-21).
fn base_config(opts: &HttpOptions) -> ureq::config::ConfigBuilder<ureq::typestate::AgentScope> {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .timeout_connect(Some(opts.connect_timeout))
        // The reply must start within the read timeout, and the body may not take longer
        // either; the whole attempt is bounded again by `timeout_global` (set per request).
        .timeout_recv_response(Some(opts.read_timeout))
        .timeout_recv_body(Some(opts.read_timeout))
        .timeout_global(Some(opts.attempt_timeout()))
        .user_agent(opts.user_agent.as_str())
        .accept(ureq::config::AutoHeaderValue::None)
        .max_idle_connections_per_host(64)
}

/// The name resolver of every client: for a plain-`http://` URL whose host is a name (only
/// `localhost` passes [`check_url`]), keep only the loopback addresses it resolves to, and refuse
/// the request when there are none — so the address actually connected to is loopback whatever the
/// resolver (`/etc/hosts`, DNS) says. Other URLs resolve as usual.
#[derive(Debug, Default)]
struct LoopbackGuard(DefaultResolver);

/// The guard's refusal, carried through `ureq::Error::Other` to [`map_ureq_error`].
#[derive(Debug)]
struct NoLoopbackAddress(String);

impl std::fmt::Display for NoLoopbackAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "refusing plain http to {}: the name resolves to no loopback address",
            self.0
        )
    }
}

impl std::error::Error for NoLoopbackAddress {}

impl Resolver for LoopbackGuard {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> std::result::Result<ResolvedSocketAddrs, ureq::Error> {
        // An IP literal needs no lookup. ureq's resolver would still run it on a new thread
        // whenever the request has a time bound (every request of ours), once per request, even
        // on a pooled connection.
        if let Some(addr) = literal_socket_addr(uri) {
            let mut one = self.empty();
            one.push(addr);
            return Ok(one);
        }
        let addrs = self.0.resolve(uri, config, timeout)?;
        keep_loopback_for_plain_http(uri, addrs, self.empty())
    }
}

/// The socket address of a URI whose host is an IP literal (`127.0.0.1`, `[::1]`), with the
/// scheme's default port when none is given.
fn literal_socket_addr(uri: &ureq::http::Uri) -> Option<std::net::SocketAddr> {
    let host = uri.host()?;
    let ip: std::net::IpAddr = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
        .parse()
        .ok()?;
    let port = uri.port_u16().or_else(|| match uri.scheme_str() {
        Some(s) if s.eq_ignore_ascii_case("https") => Some(443),
        Some(s) if s.eq_ignore_ascii_case("http") => Some(80),
        _ => None,
    })?;
    Some(std::net::SocketAddr::new(ip, port))
}

/// The guard's rule (see [`LoopbackGuard`]): `kept` starts empty and receives the loopback
/// addresses of a plain-http name.
fn keep_loopback_for_plain_http(
    uri: &ureq::http::Uri,
    addrs: ResolvedSocketAddrs,
    mut kept: ResolvedSocketAddrs,
) -> std::result::Result<ResolvedSocketAddrs, ureq::Error> {
    let host = uri.host().unwrap_or("");
    let by_name = host.parse::<std::net::Ipv4Addr>().is_err() && !host.starts_with('[');
    if uri.scheme() != Some(&ureq::http::uri::Scheme::HTTP) || !by_name {
        return Ok(addrs);
    }
    for a in addrs.iter().filter(|a| a.ip().is_loopback()) {
        kept.push(*a);
    }
    if kept.is_empty() {
        return Err(ureq::Error::Other(Box::new(NoLoopbackAddress(
            host.to_string(),
        ))));
    }
    Ok(kept)
}

/// True for log records that may carry secrets: `TRACE` records of the HTTP stack (`ureq`,
/// `ureq_proto`, `rustls`), which dump raw request/response bytes. Loggers forwarding this crate's
/// records should drop them (see the module docs).
pub fn is_sensitive_log_record(target: &str, level: log::Level) -> bool {
    level == log::Level::Trace
        && ["ureq", "ureq_proto", "rustls"].iter().any(|p| {
            target == *p
                || target
                    .strip_prefix(p)
                    .is_some_and(|rest| rest.starts_with("::"))
        })
}

/// Refuse a URL the client must not connect to: not http(s), carrying user information, or plain
/// `http://` to a host that is not a literal loopback host (decision D-6; rules in
/// [`crate::endpoint`]).
pub fn check_url(url: &str) -> Result<()> {
    let facts = checked(url)?;
    if facts.scheme == Scheme::Http && !facts.loopback {
        return Err(plain_http_refused(url));
    }
    Ok(())
}

/// True when `url` is a valid URL without user information whose host is a loopback host spelled
/// literally (`127.0.0.0/8` dotted-decimal, `[::1]`, `localhost`).
pub fn is_loopback_url(url: &str) -> bool {
    endpoint::is_loopback_url(url)
}

fn checked(url: &str) -> Result<endpoint::UrlFacts> {
    endpoint::inspect(url).map_err(|why| {
        Error::new(
            ErrorKind::InvalidArgument,
            "InvalidUrl",
            format!("refusing URL {}: {why}", endpoint::display_url(url)),
        )
    })
}

fn plain_http_refused(url: &str) -> Error {
    Error::new(
        ErrorKind::InvalidArgument,
        "PlainHttpNotLoopback",
        format!(
            "refusing plain http to a host that is not a literal loopback address (127.0.0.0/8, [::1], localhost): {}; use https",
            endpoint::display_url(url)
        ),
    )
}

fn call_timed_out(url: &str) -> Error {
    Error::new(
        ErrorKind::Timeout,
        "CallTimeout",
        format!(
            "the call's time budget ran out before a request to {} could be sent",
            endpoint::display_url(url)
        ),
    )
}

fn root_certs(extra_ca_pem: Option<&str>) -> Result<Vec<ureq::tls::Certificate<'static>>> {
    // System roots; rustls-native-certs honours SSL_CERT_FILE / SSL_CERT_DIR.
    let native = rustls_native_certs::load_native_certs();
    let mut roots: Vec<ureq::tls::Certificate<'static>> = native
        .certs
        .into_iter()
        .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
        .collect();
    if let Some(pem) = extra_ca_pem {
        let before = roots.len();
        for item in ureq::tls::parse_pem(pem.as_bytes()) {
            match item {
                Ok(ureq::tls::PemItem::Certificate(c)) => roots.push(c),
                Ok(_) => {}
                Err(e) => {
                    return Err(Error::config(
                        "InvalidCaCertificate",
                        format!("extra CA certificate PEM could not be parsed: {e}"),
                    ))
                }
            }
        }
        if roots.len() == before {
            return Err(Error::config(
                "InvalidCaCertificate",
                "extra CA certificate PEM holds no certificate",
            ));
        }
    }
    Ok(roots)
}

fn map_ureq_error(e: ureq::Error, url: &str) -> Error {
    let target = endpoint::display_url(url);
    match e {
        ureq::Error::Timeout(t) => Error::new(
            ErrorKind::Timeout,
            match t {
                ureq::Timeout::Connect | ureq::Timeout::Resolve => "ConnectTimeOut",
                _ => "ReadTimeOut",
            },
            format!("timeout ({t:?}) talking to {target}"),
        ),
        ureq::Error::BodyExceedsLimit(n) => Error::new(
            ErrorKind::UnexpectedResponse,
            "ResponseTooLarge",
            format!("response body from {target} exceeds the {n}-byte limit"),
        ),
        ureq::Error::HostNotFound => Error::new(
            ErrorKind::Transport,
            "HostNotFound",
            format!("host not found: {target}"),
        ),
        ureq::Error::Rustls(err) => Error::new(
            ErrorKind::Transport,
            "TlsError",
            format!("TLS failure talking to {target}: {err}"),
        ),
        ureq::Error::Tls(msg) => Error::new(
            ErrorKind::Transport,
            "TlsError",
            format!("TLS failure talking to {target}: {msg}"),
        ),
        ureq::Error::Io(io)
            if io
                .get_ref()
                .is_some_and(|i| i.is::<crate::agent::AgentUnreachable>()) =>
        {
            // The host agent's socket (agent mode, D-74): the message names the socket path.
            Error::new(ErrorKind::Transport, "AgentUnreachable", io.to_string())
        }
        ureq::Error::Io(io) => {
            let kind = if io.kind() == std::io::ErrorKind::TimedOut
                || io.kind() == std::io::ErrorKind::WouldBlock
            {
                ErrorKind::Timeout
            } else {
                ErrorKind::Transport
            };
            let code = match io.kind() {
                std::io::ErrorKind::ConnectionRefused => "ConnectionRefused",
                std::io::ErrorKind::ConnectionReset => "ConnectionReset",
                std::io::ErrorKind::UnexpectedEof => "TruncatedResponse",
                _ => "HttpError",
            };
            // rustls errors arrive wrapped in io::Error; name them as TLS failures.
            let msg = io.to_string();
            let code = if msg.contains("close_notify") {
                // rustls' "peer closed connection without sending TLS close_notify": the server
                // dropped the connection (no reply, or a cut reply), not a TLS/certificate problem.
                "ConnectionClosed"
            } else if msg.contains("certificate") || msg.contains("TLS") || msg.contains("tls") {
                "TlsError"
            } else {
                code
            };
            Error::new(kind, code, format!("{msg} ({target})"))
        }
        ureq::Error::Other(inner) if inner.is::<NoLoopbackAddress>() => Error::new(
            ErrorKind::InvalidArgument,
            "PlainHttpNotLoopback",
            inner.to_string(),
        ),
        ureq::Error::ConnectionFailed => Error::new(
            ErrorKind::Transport,
            "ConnectionFailed",
            format!("connection failed: {target}"),
        ),
        other => Error::new(
            ErrorKind::Transport,
            "HttpError",
            format!("HTTP error talking to {target}: {other}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_log_targets() {
        use log::Level;
        assert!(is_sensitive_log_record("ureq_proto::util", Level::Trace));
        assert!(is_sensitive_log_record("ureq::run", Level::Trace));
        assert!(is_sensitive_log_record("ureq", Level::Trace));
        assert!(!is_sensitive_log_record("ureq::run", Level::Debug));
        assert!(!is_sensitive_log_record("ureqx::y", Level::Trace));
        assert!(!is_sensitive_log_record("idaas::cache", Level::Trace));
    }

    fn addrs(list: &[&str]) -> ResolvedSocketAddrs {
        let mut v = LoopbackGuard::default().empty();
        for a in list {
            v.push(a.parse().unwrap());
        }
        v
    }

    #[test]
    fn resolver_guard_keeps_only_loopback_for_plain_http_names() {
        let empty = || LoopbackGuard::default().empty();
        let uri = |u: &str| u.parse::<ureq::http::Uri>().unwrap();
        // `localhost` mapped elsewhere by a hostile resolver: refused, nothing to connect to.
        let err = keep_loopback_for_plain_http(
            &uri("http://localhost:8080/t"),
            addrs(&["10.0.0.1:8080", "[2001:db8::1]:8080"]),
            empty(),
        )
        .unwrap_err();
        let e = map_ureq_error(err, "http://localhost:8080/t");
        assert_eq!(e.code(), "PlainHttpNotLoopback");
        // Mixed answers: only the loopback ones are kept.
        let kept = keep_loopback_for_plain_http(
            &uri("http://localhost:8080/t"),
            addrs(&["10.0.0.1:8080", "127.0.0.1:8080", "[::1]:8080"]),
            empty(),
        )
        .unwrap();
        assert_eq!(
            kept.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
            ["127.0.0.1:8080", "[::1]:8080"]
        );
        // https and IP literals are left alone (TLS, or already decided by check_url).
        for u in ["https://idaas.example/t", "http://100.100.100.200/latest"] {
            let kept =
                keep_loopback_for_plain_http(&uri(u), addrs(&["100.100.100.200:80"]), empty())
                    .unwrap();
            assert_eq!(kept.len(), 1, "{u}");
        }
    }

    #[test]
    fn loopback_rules() {
        assert!(check_url("https://example.com/x").is_ok());
        assert!(check_url("http://127.0.0.1:8080/x").is_ok());
        assert!(check_url("http://127.5.0.1/x").is_ok());
        assert!(check_url("http://localhost:1/x").is_ok());
        assert!(check_url("http://[::1]:9/x").is_ok());
        assert!(check_url("http://example.com/x").is_err());
        assert!(check_url("http://127.0.0.1.example.com/x").is_err());
        assert!(check_url("ftp://127.0.0.1/x").is_err());
        assert!(check_url("HTTP://127.0.0.1/x").is_ok());
        assert!(check_url("http://localhost:x@evil.invalid/token").is_err());
        assert!(check_url("http://[::1]@evil.invalid:8080/token").is_err());
        assert!(check_url("http://127.0.0.1:@evil.invalid/token").is_err());
    }

    #[test]
    fn literal_hosts_need_no_lookup() {
        let a = |u: &str| literal_socket_addr(&u.parse::<ureq::http::Uri>().unwrap());
        assert_eq!(
            a("http://127.0.0.1:8080/x"),
            Some("127.0.0.1:8080".parse().unwrap())
        );
        assert_eq!(a("https://[::1]/x"), Some("[::1]:443".parse().unwrap()));
        assert_eq!(a("HTTP://10.1.2.3/x"), Some("10.1.2.3:80".parse().unwrap()));
        assert_eq!(a("https://localhost:9/x"), None);
        assert_eq!(a("https://idaas.example/x"), None);
    }

    #[test]
    fn budgets() {
        let o = HttpOptions {
            connect_timeout: Duration::from_secs(2),
            read_timeout: Duration::from_secs(3),
            ..HttpOptions::default()
        };
        assert_eq!(o.attempt_timeout(), Duration::from_secs(5));
        assert_eq!(o.call_budget(), Duration::from_secs(10));
        let o = HttpOptions {
            call_timeout: Some(Duration::from_secs(4)),
            ..o
        };
        assert_eq!(o.call_budget(), Duration::from_secs(4));
        let http = HttpClient::new(o).unwrap();
        let d = Deadline::after(Duration::from_secs(6));
        assert!(http.fits(d, Duration::from_millis(500)));
        assert!(!http.fits(d, Duration::from_millis(1500)));
        assert!(!http.fits(Deadline::after(Duration::ZERO), Duration::ZERO));
    }
}
