//! The HTTP/1.1 server: accept loop, one thread per connection, TLS sniffing, request
//! parsing with `httparse`, responses written by hand (so faults can break them on purpose).

use crate::reqlog::{HeaderInterner, LogEntry};
use crate::util::{now_ms, parse_form, request_id};
use crate::{lock, Fault, Inner, Route};
use serde_json::Value;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// Maximum size of the request line + headers.
pub(crate) const MAX_HEAD: usize = 64 * 1024;
/// Maximum size of a request body.
pub(crate) const MAX_BODY: usize = 1024 * 1024;
/// Maximum number of simultaneous connections.
const MAX_CONNS: usize = 2048;
/// Idle keep-alive connections are closed after this long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// A parsed request.
pub(crate) struct Request {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// Names as sent; equal headers of consecutive requests on a connection share their strings.
    pub headers: Vec<(Arc<str>, Arc<str>)>,
    pub body: Vec<u8>,
    pub keep_alive: bool,
}

impl Request {
    /// A header value (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| &**v)
    }

    /// Decoded query parameters (empty on a malformed query).
    pub fn query_params(&self) -> Result<Vec<(String, String)>, String> {
        match &self.query {
            Some(q) => parse_form(q),
            None => Ok(Vec::new()),
        }
    }
}

/// A response.
pub(crate) struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// A JSON response.
    pub fn json(status: u16, v: &Value) -> Response {
        // The bytes of `v.to_string()`, without going through `fmt`.
        Response::json_bytes(status, serde_json::to_vec(v).unwrap_or_default())
    }

    /// A JSON response from serialised JSON.
    pub fn json_bytes(status: u16, body: Vec<u8>) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body,
        }
    }

    /// A plain-text response.
    pub fn text(status: u16, s: &str) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), "text/plain; charset=utf-8".into())],
            body: s.as_bytes().to_vec(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, k: &str, v: &str) -> Response {
        self.headers.push((k.into(), v.into()));
        self
    }
}

/// The route class of a request (for faults).
pub(crate) enum RouteClass {
    Control,
    Token,
    DeveloperApi(Option<String>),
    Metadata,
    Other,
}

fn classify(req: &Request) -> RouteClass {
    let p = req.path.as_str();
    if p.starts_with("/_emulator/") || p == "/_emulator" {
        RouteClass::Control
    } else if p == crate::TOKEN_PATH {
        RouteClass::Token
    } else if p.starts_with("/v2/") {
        RouteClass::DeveloperApi(req.header("x-acs-action").map(str::to_string))
    } else if p.starts_with("/latest/") {
        RouteClass::Metadata
    } else {
        RouteClass::Other
    }
}

fn route_matches(route: &Route, class: &RouteClass) -> bool {
    match (route, class) {
        (_, RouteClass::Control) => false,
        (Route::Any, _) => true,
        (Route::Token, RouteClass::Token) => true,
        (Route::DeveloperApi, RouteClass::DeveloperApi(_)) => true,
        (Route::DeveloperApiAction(a), RouteClass::DeveloperApi(Some(h))) => a == h,
        (Route::Metadata, RouteClass::Metadata) => true,
        _ => false,
    }
}

/// Takes the first matching fault (consuming one use).
fn take_fault(inner: &Inner, class: &RouteClass) -> Option<Fault> {
    let mut faults = lock(&inner.faults);
    let idx = faults.iter().position(|r| route_matches(&r.route, class))?;
    let fault = faults[idx].fault.clone();
    if let Some(t) = faults[idx].times.as_mut() {
        *t = t.saturating_sub(1);
        if *t == 0 {
            faults.remove(idx);
        }
    }
    Some(fault)
}

/// What to do with the connection after handling a request.
enum Outcome {
    Respond(Response),
    Reset,
    ResetMidBody(Response),
    Truncate(Response),
    Huge(usize),
    Down,
}

/// Accepts connections until shutdown.
pub(crate) fn accept_loop(inner: Arc<Inner>, listener: TcpListener) {
    for stream in listener.incoming() {
        if inner.shutdown.load(Ordering::SeqCst) {
            break;
        }
        let stream = match stream {
            Ok(s) => s,
            Err(_) => {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
        };
        inner.connections_accepted.fetch_add(1, Ordering::Relaxed);
        if inner.conn_count.load(Ordering::SeqCst) >= MAX_CONNS {
            let mut s = stream;
            let _ = s.write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            continue;
        }
        let id = inner.next_conn.fetch_add(1, Ordering::SeqCst);
        if let Ok(c) = stream.try_clone() {
            lock(&inner.conns).insert(id, c);
        }
        inner.conn_count.fetch_add(1, Ordering::SeqCst);
        let conn_inner = inner.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("idaas-emulator-conn-{id}"))
            .stack_size(512 * 1024)
            .spawn(move || {
                // The guard unregisters the connection even if a handler panics.
                let _guard = ConnGuard {
                    inner: conn_inner.clone(),
                    id,
                };
                handle_connection(&conn_inner, stream);
            });
        if spawned.is_err() {
            lock(&inner.conns).remove(&id);
            inner.conn_count.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Unregisters a connection when its thread ends (normally or by panic).
struct ConnGuard {
    inner: Arc<Inner>,
    id: u64,
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        lock(&self.inner.conns).remove(&self.id);
        self.inner.conn_count.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Plain or TLS stream.
enum Conn {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ServerConnection, TcpStream>>),
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf),
            Conn::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(buf),
            Conn::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            Conn::Tls(s) => s.flush(),
        }
    }
}

fn handle_connection(inner: &Inner, stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(IDLE_TIMEOUT));
    let _ = stream.set_write_timeout(Some(IDLE_TIMEOUT));
    let _ = stream.set_nodelay(true);
    let mut first = [0u8; 1];
    match stream.peek(&mut first) {
        Ok(1) => {}
        _ => return,
    }
    let raw = match stream.try_clone() {
        Ok(r) => r,
        Err(_) => return,
    };
    let tls = first[0] == 0x16;
    let mut conn = if tls {
        let Some(cfg) = inner.tls.clone() else {
            return;
        };
        match rustls::ServerConnection::new(cfg) {
            Ok(sc) => Conn::Tls(Box::new(rustls::StreamOwned::new(sc, stream))),
            Err(_) => return,
        }
    } else {
        Conn::Plain(stream)
    };
    let mut buf: Vec<u8> = Vec::new();
    let mut interner = HeaderInterner::default();
    loop {
        if inner.shutdown.load(Ordering::SeqCst) {
            return;
        }
        let req = match read_request(&mut conn, &mut buf, &interner) {
            Ok(Some(r)) => r,
            Ok(None) => return,
            Err(ReadError::Io) => return,
            Err(ReadError::Reply(status, msg)) => {
                let body = serde_json::json!({"error": "invalid_request", "error_description": msg, "request_id": request_id()});
                let mut resp = Response::json(status, &body);
                resp.headers.push(("Connection".into(), "close".into()));
                let _ = write_response(&mut conn, &resp, false, "");
                if let Conn::Tls(s) = &mut conn {
                    s.conn.send_close_notify();
                    let _ = s.flush();
                }
                return;
            }
        };
        interner.remember(&req.headers);
        let keep_alive = req.keep_alive;
        let is_head = req.method == "HEAD";
        let rid = request_id();
        let class = classify(&req);
        let control = matches!(class, RouteClass::Control);
        let fault = take_fault(inner, &class);
        let outcome = run(inner, &req, &class, fault, &rid, tls);
        let status = match &outcome {
            Outcome::Respond(r) => r.status,
            Outcome::ResetMidBody(r) | Outcome::Truncate(r) => r.status,
            Outcome::Huge(_) => 200,
            Outcome::Reset | Outcome::Down => 0,
        };
        if !control {
            inner.record(LogEntry::new(req, status, &rid, tls, now_ms()));
        }
        match outcome {
            Outcome::Respond(mut resp) => {
                if is_head {
                    // Same headers (Content-Length of the GET body), no body.
                    let len = resp.body.len();
                    resp.body.clear();
                    let head = head_bytes(&resp, len, keep_alive, &rid);
                    if conn.write_all(&head).and_then(|_| conn.flush()).is_err() || !keep_alive {
                        close_gracefully(&mut conn, &raw);
                        return;
                    }
                    continue;
                }
                if write_response(&mut conn, &resp, keep_alive, &rid).is_err() || !keep_alive {
                    close_gracefully(&mut conn, &raw);
                    return;
                }
            }
            Outcome::Reset => {
                reset(&raw);
                return;
            }
            Outcome::Down => {
                let _ = raw.shutdown(Shutdown::Both);
                return;
            }
            Outcome::ResetMidBody(resp) => {
                let head = head_bytes(&resp, resp.body.len(), false, &rid);
                let half = resp.body.len() / 2;
                let _ = conn.write_all(&head);
                let _ = conn.write_all(&resp.body[..half]);
                let _ = conn.flush();
                std::thread::sleep(Duration::from_millis(20));
                reset(&raw);
                return;
            }
            Outcome::Truncate(resp) => {
                let head = head_bytes(&resp, resp.body.len() + 100, false, &rid);
                let half = resp.body.len() / 2;
                let _ = conn.write_all(&head);
                let _ = conn.write_all(&resp.body[..half]);
                let _ = conn.flush();
                let _ = raw.shutdown(Shutdown::Both);
                return;
            }
            Outcome::Huge(n) => {
                let resp = Response {
                    status: 200,
                    headers: vec![("Content-Type".into(), "application/json".into())],
                    body: Vec::new(),
                };
                let head = head_bytes(&resp, n, keep_alive, &rid);
                if conn.write_all(&head).is_err() {
                    return;
                }
                let chunk = vec![b' '; 64 * 1024];
                let mut left = n;
                while left > 0 {
                    let k = left.min(chunk.len());
                    if conn.write_all(&chunk[..k]).is_err() {
                        return;
                    }
                    left -= k;
                }
                if conn.flush().is_err() || !keep_alive {
                    close_gracefully(&mut conn, &raw);
                    return;
                }
            }
        }
    }
}

fn close_gracefully(conn: &mut Conn, raw: &TcpStream) {
    if let Conn::Tls(s) = conn {
        s.conn.send_close_notify();
        let _ = s.flush();
    }
    let _ = raw.shutdown(Shutdown::Write);
}

fn reset(raw: &TcpStream) {
    let _ = socket2::SockRef::from(raw).set_linger(Some(Duration::ZERO));
    // Closing the last descriptor (when the caller returns) sends RST; shut down reads now
    // so no thread blocks on this socket meanwhile.
    let _ = raw.shutdown(Shutdown::Read);
}

/// Handles a request, applying `fault`.
fn run(
    inner: &Inner,
    req: &Request,
    class: &RouteClass,
    fault: Option<Fault>,
    rid: &str,
    tls: bool,
) -> Outcome {
    let ctx = Ctx { rid, tls };
    let normal = |inner: &Inner| -> Response {
        match class {
            RouteClass::Control => crate::control::handle(inner, req, &ctx),
            RouteClass::Token => crate::token::handle(inner, req, &ctx),
            RouteClass::DeveloperApi(_) => crate::devapi::handle(inner, req, &ctx),
            RouteClass::Metadata => crate::metadata::handle(inner, req, &ctx),
            RouteClass::Other => crate::token::handle_other(inner, req, &ctx),
        }
    };
    let Some(fault) = fault else {
        return Outcome::Respond(normal(inner));
    };
    match fault {
        Fault::Latency(d) => {
            std::thread::sleep(d);
            Outcome::Respond(normal(inner))
        }
        Fault::Status {
            status,
            retry_after,
            body,
        } => {
            let mut resp = match body {
                Some(b) => {
                    let ct = if b.trim_start().starts_with('{') {
                        "application/json"
                    } else {
                        "text/plain; charset=utf-8"
                    };
                    Response {
                        status,
                        headers: vec![("Content-Type".into(), ct.into())],
                        body: b.into_bytes(),
                    }
                }
                None => {
                    let (code, desc) = match status {
                        429 => ("Throttling", "too many requests (injected fault)"),
                        500..=599 => ("server_error", "injected server error"),
                        _ => ("invalid_request", "injected error"),
                    };
                    match class {
                        RouteClass::DeveloperApi(_) => {
                            crate::devapi::error_response(inner, status, code, desc, rid)
                        }
                        _ => crate::token::oauth_error(status, code, desc, rid),
                    }
                }
            };
            if let Some(s) = retry_after {
                resp.headers.push(("Retry-After".into(), s.to_string()));
                resp.headers
                    .push(("x-acs-retry-after".into(), s.to_string()));
            }
            Outcome::Respond(resp)
        }
        Fault::Reset => Outcome::Reset,
        Fault::Down => Outcome::Down,
        Fault::ResetMidBody => Outcome::ResetMidBody(normal(inner)),
        Fault::Truncate => Outcome::Truncate(normal(inner)),
        Fault::NonJson => Outcome::Respond(Response {
            status: 200,
            headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
            body: b"<html><head><title>Gateway</title></head><body><h1>Welcome</h1></body></html>"
                .to_vec(),
        }),
        Fault::JsonWithout(field) => {
            let mut resp = normal(inner);
            if let Ok(Value::Object(mut m)) = serde_json::from_slice::<Value>(&resp.body) {
                m.remove(&field);
                resp.body = Value::Object(m).to_string().into_bytes();
            }
            Outcome::Respond(resp)
        }
        Fault::ExpiresAtPast => {
            let mut resp = normal(inner);
            if let Ok(Value::Object(mut m)) = serde_json::from_slice::<Value>(&resp.body) {
                if m.contains_key("access_token") || m.contains_key("expires_at") {
                    let past = crate::util::now_secs().saturating_sub(3600);
                    m.insert("expires_at".into(), Value::from(past));
                    resp.body = Value::Object(m).to_string().into_bytes();
                }
            }
            Outcome::Respond(resp)
        }
        Fault::HugeBody(n) => Outcome::Huge(n),
        Fault::NoContent => Outcome::Respond(Response {
            status: 204,
            headers: Vec::new(),
            body: Vec::new(),
        }),
        Fault::Redirect(loc) => Outcome::Respond(Response {
            status: 302,
            headers: vec![
                ("Location".into(), loc),
                ("Content-Type".into(), "text/plain; charset=utf-8".into()),
            ],
            body: b"Found".to_vec(),
        }),
    }
}

/// Per-request context handed to handlers.
pub(crate) struct Ctx<'a> {
    /// The request id (also sent as `x-request-id`).
    pub rid: &'a str,
    /// Whether the request came over TLS.
    #[allow(dead_code)]
    pub tls: bool,
}

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

fn head_bytes(resp: &Response, content_length: usize, keep_alive: bool, rid: &str) -> Vec<u8> {
    use std::fmt::Write as _;
    let mut h = String::with_capacity(256);
    let _ = write!(h, "HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status));
    h.push_str("Server: idaas-emulator\r\n");
    if !rid.is_empty() {
        h.push_str("x-request-id: ");
        h.push_str(rid);
        h.push_str("\r\n");
    }
    for (k, v) in &resp.headers {
        h.push_str(k);
        h.push_str(": ");
        // Never let a header value break the framing.
        if v.contains(['\r', '\n']) {
            h.extend(v.chars().filter(|c| *c != '\r' && *c != '\n'));
        } else {
            h.push_str(v);
        }
        h.push_str("\r\n");
    }
    if resp.status != 204 && resp.status >= 200 {
        let _ = write!(h, "Content-Length: {content_length}\r\n");
    }
    h.push_str(if keep_alive {
        "Connection: keep-alive\r\n"
    } else {
        "Connection: close\r\n"
    });
    h.push_str("\r\n");
    h.into_bytes()
}

fn write_response(conn: &mut Conn, resp: &Response, keep_alive: bool, rid: &str) -> io::Result<()> {
    let mut out = head_bytes(resp, resp.body.len(), keep_alive, rid);
    if resp.status != 204 {
        out.extend_from_slice(&resp.body);
    }
    conn.write_all(&out)?;
    conn.flush()
}

enum ReadError {
    /// Connection failed or timed out: just close.
    Io,
    /// Answer this status and close.
    Reply(u16, String),
}

/// Reads more bytes into `buf`; Ok(false) on EOF.
fn fill(conn: &mut Conn, buf: &mut Vec<u8>) -> Result<bool, ReadError> {
    // One zeroed scratch buffer per connection thread (not 16 KiB zeroed per read).
    thread_local! {
        static SCRATCH: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0; 16 * 1024]);
    }
    SCRATCH.with(|s| fill_from(conn, buf, &mut s.borrow_mut()))
}

fn fill_from(conn: &mut Conn, buf: &mut Vec<u8>, tmp: &mut [u8]) -> Result<bool, ReadError> {
    loop {
        match conn.read(tmp) {
            Ok(0) => return Ok(false),
            Ok(n) => {
                buf.extend_from_slice(&tmp[..n]);
                return Ok(true);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return Err(ReadError::Io),
        }
    }
}

fn read_request(
    conn: &mut Conn,
    buf: &mut Vec<u8>,
    interner: &HeaderInterner,
) -> Result<Option<Request>, ReadError> {
    // Head.
    let (head_len, method, target, headers, minor) = loop {
        if !buf.is_empty() {
            let mut hs = [httparse::EMPTY_HEADER; 128];
            let mut r = httparse::Request::new(&mut hs);
            match r.parse(buf) {
                Ok(httparse::Status::Complete(n)) => {
                    let method = r.method.unwrap_or("").to_string();
                    let target = r.path.unwrap_or("").to_string();
                    let minor = r.version.unwrap_or(1);
                    let mut headers = Vec::with_capacity(r.headers.len());
                    for (i, h) in r.headers.iter().enumerate() {
                        // `from_utf8` first: the same result, much faster than the lossy
                        // decoder on the (valid) ~700-byte Authorization value.
                        let v = match std::str::from_utf8(h.value) {
                            Ok(v) => std::borrow::Cow::Borrowed(v),
                            Err(_) => String::from_utf8_lossy(h.value),
                        };
                        headers.push(interner.intern(i, h.name, &v));
                    }
                    break (n, method, target, headers, minor);
                }
                Ok(httparse::Status::Partial) => {
                    if buf.len() > MAX_HEAD {
                        return Err(ReadError::Reply(
                            431,
                            "request headers exceed 64 KiB".into(),
                        ));
                    }
                }
                Err(httparse::Error::TooManyHeaders) => {
                    return Err(ReadError::Reply(431, "too many request headers".into()))
                }
                Err(e) => {
                    return Err(ReadError::Reply(
                        400,
                        format!("malformed HTTP request: {e}"),
                    ))
                }
            }
        }
        if !fill(conn, buf)? {
            if buf.is_empty() {
                return Ok(None);
            }
            return Err(ReadError::Io);
        }
    };
    if head_len > MAX_HEAD {
        return Err(ReadError::Reply(
            431,
            "request headers exceed 64 KiB".into(),
        ));
    }
    let header = |name: &str| {
        headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string())
            .collect::<Vec<_>>()
    };
    let conn_hdr = header("connection").join(",").to_ascii_lowercase();
    let keep_alive = if minor == 0 {
        conn_hdr.contains("keep-alive")
    } else {
        !conn_hdr.contains("close")
    };
    let chunked = header("transfer-encoding")
        .iter()
        .any(|v| v.to_ascii_lowercase().contains("chunked"));
    let cls = header("content-length");
    let expect_continue = header("expect")
        .iter()
        .any(|v| v.eq_ignore_ascii_case("100-continue"));
    buf.drain(..head_len);
    let mut body = Vec::new();
    if chunked {
        if expect_continue {
            let _ = conn.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
            let _ = conn.flush();
        }
        body = read_chunked(conn, buf)?;
    } else if !cls.is_empty() {
        let first = &cls[0];
        if cls.iter().any(|c| c != first) {
            return Err(ReadError::Reply(
                400,
                "conflicting Content-Length headers".into(),
            ));
        }
        let n: usize = first
            .parse()
            .map_err(|_| ReadError::Reply(400, "invalid Content-Length".into()))?;
        if n > MAX_BODY {
            return Err(ReadError::Reply(413, "request body exceeds 1 MiB".into()));
        }
        if n > 0 && expect_continue && buf.len() < n {
            let _ = conn.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
            let _ = conn.flush();
        }
        while buf.len() < n {
            if !fill(conn, buf)? {
                return Err(ReadError::Io);
            }
        }
        body = buf.drain(..n).collect();
    }
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (target.clone(), None),
    };
    Ok(Some(Request {
        method,
        path,
        query,
        headers,
        body,
        keep_alive,
    }))
}

fn read_line(conn: &mut Conn, buf: &mut Vec<u8>) -> Result<String, ReadError> {
    loop {
        if let Some(pos) = buf.windows(2).position(|w| w == b"\r\n") {
            let line: Vec<u8> = buf.drain(..pos + 2).collect();
            return Ok(String::from_utf8_lossy(&line[..pos]).into_owned());
        }
        if buf.len() > 8192 {
            return Err(ReadError::Reply(400, "chunk line too long".into()));
        }
        if !fill(conn, buf)? {
            return Err(ReadError::Io);
        }
    }
}

fn read_chunked(conn: &mut Conn, buf: &mut Vec<u8>) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::new();
    loop {
        let line = read_line(conn, buf)?;
        let size_txt = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_txt, 16)
            .map_err(|_| ReadError::Reply(400, "invalid chunk size".into()))?;
        if size == 0 {
            // Trailers until an empty line.
            loop {
                let l = read_line(conn, buf)?;
                if l.is_empty() {
                    return Ok(body);
                }
            }
        }
        if body.len() + size > MAX_BODY {
            return Err(ReadError::Reply(413, "request body exceeds 1 MiB".into()));
        }
        while buf.len() < size + 2 {
            if !fill(conn, buf)? {
                return Err(ReadError::Io);
            }
        }
        body.extend(buf.drain(..size));
        if buf.drain(..2).as_slice() != b"\r\n" {
            return Err(ReadError::Reply(400, "malformed chunk".into()));
        }
    }
}
