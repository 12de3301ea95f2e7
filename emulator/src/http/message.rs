//! Request and response types, status reasons and the response head.
//!
//! This module knows nothing about handlers, routing or the emulator's state: handlers build
//! [`Response`]s from [`Request`]s, the server writes them with [`head_bytes`].

use serde_json::Value;
use std::sync::Arc;

/// A parsed request.
pub(crate) struct Request {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// Names as sent; equal headers of consecutive requests on a connection share their strings
    /// (see `reqlog::HeaderInterner`).
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

    /// Decoded query parameters (empty without a query).
    pub fn query_params(&self) -> Result<Vec<(String, String)>, String> {
        match &self.query {
            Some(q) => crate::util::parse_form(q),
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
        Response::with_type(status, "application/json", body)
    }

    /// A plain-text response.
    pub fn text(status: u16, s: &str) -> Response {
        Response::with_type(status, "text/plain; charset=utf-8", s.as_bytes().to_vec())
    }

    /// A response with this `Content-Type`.
    pub fn with_type(status: u16, content_type: &str, body: Vec<u8>) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body,
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, k: &str, v: &str) -> Response {
        self.headers.push((k.into(), v.into()));
        self
    }
}

/// Per-request context handed to handlers.
pub(crate) struct Ctx<'a> {
    /// The request id (also sent as `x-request-id`).
    pub rid: &'a str,
}

/// The reason phrase of a status.
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

/// The status line and headers of `resp`, announcing `content_length` body bytes (faults
/// announce more or fewer than they send).
pub(crate) fn head_bytes(
    resp: &Response,
    content_length: usize,
    keep_alive: bool,
    rid: &str,
) -> Vec<u8> {
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
