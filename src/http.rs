//! The HTTP layer: one `ureq` agent per client (keep-alive pool), timeouts applied (D-4), TLS through
//! rustls with the system roots plus `SSL_CERT_FILE` plus an optional extra CA file (D-20), no
//! redirects followed (D-12, D-27), bounded body reads, and https enforced except for loopback hosts
//! (D-6: plain `http://` is accepted only for 127.0.0.0/8, `::1` and `localhost`, so the emulator can
//! be used without TLS; anything else must be https).
//!
//! Retries are not done here: the callers (token fetch, Developer API) decide what is safe to retry.
//!
//! # Logging and secrets
//! At `TRACE` level, `ureq`'s protocol crate (`ureq_proto`) hex-dumps every request and response
//! **including the `Authorization` header, form bodies with client secrets and assertions, and token
//! replies**. `DEBUG` and above are safe (ureq redacts `Authorization` there). The core never logs a
//! secret itself, but it cannot stop an application logger from enabling `TRACE` for those targets:
//! loggers that forward this crate's logs (e.g. the C ABI's log callback) must drop the records for
//! which [`is_sensitive_log_record`] is true.

use crate::error::{Error, ErrorKind, Result};
use std::sync::Arc;
use std::time::Duration;

/// Largest response body we read (1 MiB); a larger one is an [`ErrorKind::UnexpectedResponse`].
pub const MAX_BODY_BYTES: u64 = 1024 * 1024;

/// Options of an [`HttpClient`].
#[derive(Clone, Debug)]
pub struct HttpOptions {
    /// TCP + TLS connect timeout.
    pub connect_timeout: Duration,
    /// Timeout waiting for the response (headers and body).
    pub read_timeout: Duration,
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
            extra_ca_pem: None,
            user_agent: default_user_agent(),
            max_body_bytes: MAX_BODY_BYTES,
        }
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
        let tls = ureq::tls::TlsConfig::builder()
            .root_certs(ureq::tls::RootCerts::Specific(Arc::new(roots)))
            .build();
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .timeout_connect(Some(opts.connect_timeout))
            .timeout_recv_response(Some(opts.read_timeout))
            .timeout_recv_body(Some(opts.read_timeout))
            .user_agent(opts.user_agent.as_str())
            .accept(ureq::config::AutoHeaderValue::None)
            .tls_config(tls)
            .max_idle_connections_per_host(64)
            .build();
        Ok(HttpClient {
            agent: config.into(),
            opts: Arc::new(opts),
        })
    }

    /// The options this client was built with.
    pub fn options(&self) -> &HttpOptions {
        &self.opts
    }

    /// Send a request and read the whole (bounded) response. Any status is `Ok`; only transport
    /// failures, timeouts and over-long bodies are errors.
    pub fn send(&self, req: HttpRequest<'_>) -> Result<HttpResponse> {
        check_url(req.url)?;
        self.send_unchecked(req)
    }

    /// Like [`HttpClient::send`] but also allows plain `http://` to any host. Only for link-local
    /// metadata services that have no TLS (the ECS metadata service `http://100.100.100.200`,
    /// core.md §6.2); never for the token endpoint or the Developer API.
    pub fn send_allow_plain_http(&self, req: HttpRequest<'_>) -> Result<HttpResponse> {
        if !(req.url.starts_with("http://") || req.url.starts_with("https://")) {
            return Err(Error::invalid_argument(format!(
                "unsupported URL (expected http:// or https://): {}",
                url_without_query(req.url)
            )));
        }
        self.send_unchecked(req)
    }

    fn send_unchecked(&self, req: HttpRequest<'_>) -> Result<HttpResponse> {
        let result = match req.method {
            Method::Get => {
                let mut b = self.agent.get(req.url);
                for (k, v) in &req.headers {
                    b = b.header(*k, v.as_str());
                }
                b.call()
            }
            Method::Post | Method::Put => {
                let mut b = if req.method == Method::Post {
                    self.agent.post(req.url)
                } else {
                    self.agent.put(req.url)
                };
                for (k, v) in &req.headers {
                    b = b.header(*k, v.as_str());
                }
                match &req.body {
                    Some(body) => b.send(&body[..]),
                    None => b.send_empty(),
                }
            }
        };
        // The body and header values may carry secrets (client secret, assertion, API key): zero
        // our copies now that they are sent.
        let HttpRequest {
            url,
            mut headers,
            body,
            ..
        } = req;
        if let Some(mut b) = body {
            zeroize::Zeroize::zeroize(&mut b);
        }
        for (_, v) in headers.iter_mut() {
            zeroize::Zeroize::zeroize(v);
        }
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

/// Refuse URLs that are not https, except plain http to a loopback host (decision D-6).
pub fn check_url(url: &str) -> Result<()> {
    if url.starts_with("https://") {
        return Ok(());
    }
    if let Some(rest) = url.strip_prefix("http://") {
        if is_loopback_authority(rest) {
            return Ok(());
        }
        return Err(Error::invalid_argument(format!(
            "refusing plain http to a non-loopback host: {}; use https",
            url_without_query(url)
        )));
    }
    Err(Error::invalid_argument(format!(
        "unsupported URL (expected https://...): {}",
        url_without_query(url)
    )))
}

/// True when the authority at the start of `rest` (`host[:port]/...`) is a loopback host.
pub fn is_loopback_authority(rest: &str) -> bool {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        authority
            .rsplit_once(':')
            .map(|(h, _)| h)
            .unwrap_or(authority)
    };
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => false,
    }
}

fn url_without_query(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
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
    let target = url_without_query(url).to_string();
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
    }
}
