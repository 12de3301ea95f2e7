//! Reading one request from a connection: the head with `httparse`, then a `Content-Length` or
//! chunked body, within fixed limits.

use super::message::Request;
use crate::reqlog::HeaderInterner;
use std::io::{self, Read, Write};

/// Maximum size of the request line + headers.
pub(crate) const MAX_HEAD: usize = 64 * 1024;
/// Maximum size of a request body.
pub(crate) const MAX_BODY: usize = 1024 * 1024;
/// Maximum number of request headers.
const MAX_HEADERS: usize = 128;
/// Maximum length of a chunk-size or trailer line.
const MAX_CHUNK_LINE: usize = 8192;

/// Why no request was read.
pub(crate) enum ReadError {
    /// Connection failed or timed out: just close.
    Io,
    /// Answer this status and close.
    Reply(u16, String),
}

fn reply(status: u16, msg: impl Into<String>) -> ReadError {
    ReadError::Reply(status, msg.into())
}

/// Reads more bytes into `buf`; Ok(false) on EOF.
fn fill(conn: &mut impl Read, buf: &mut Vec<u8>) -> Result<bool, ReadError> {
    // One scratch buffer per connection thread, zeroed once rather than on every read.
    thread_local! {
        static SCRATCH: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0; 16 * 1024]);
    }
    SCRATCH.with(|s| {
        let tmp = &mut s.borrow_mut()[..];
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
    })
}

/// Reads the next request of the connection; `Ok(None)` when the peer closed between requests.
/// `buf` keeps bytes read past this request (pipelining) for the next call.
pub(crate) fn read_request(
    conn: &mut (impl Read + Write),
    buf: &mut Vec<u8>,
    interner: &HeaderInterner,
) -> Result<Option<Request>, ReadError> {
    let (head_len, method, target, headers, minor) = loop {
        if !buf.is_empty() {
            let mut hs = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut r = httparse::Request::new(&mut hs);
            match r.parse(buf) {
                Ok(httparse::Status::Complete(n)) => {
                    let method = r.method.unwrap_or("").to_string();
                    let target = r.path.unwrap_or("").to_string();
                    let minor = r.version.unwrap_or(1);
                    let mut headers = Vec::with_capacity(r.headers.len());
                    for (i, h) in r.headers.iter().enumerate() {
                        // Valid UTF-8 (nearly every value) is borrowed; only the rest goes
                        // through the lossy decoder, which always copies.
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
                        return Err(reply(431, "request headers exceed 64 KiB"));
                    }
                }
                Err(httparse::Error::TooManyHeaders) => {
                    return Err(reply(431, "too many request headers"))
                }
                Err(e) => return Err(reply(400, format!("malformed HTTP request: {e}"))),
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
        return Err(reply(431, "request headers exceed 64 KiB"));
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
            send_continue(conn);
        }
        body = read_chunked(conn, buf)?;
    } else if !cls.is_empty() {
        let first = &cls[0];
        if cls.iter().any(|c| c != first) {
            return Err(reply(400, "conflicting Content-Length headers"));
        }
        let n: usize = first
            .parse()
            .map_err(|_| reply(400, "invalid Content-Length"))?;
        if n > MAX_BODY {
            return Err(reply(413, "request body exceeds 1 MiB"));
        }
        if n > 0 && expect_continue && buf.len() < n {
            send_continue(conn);
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

fn send_continue(conn: &mut impl Write) {
    let _ = conn.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
    let _ = conn.flush();
}

fn read_line(conn: &mut impl Read, buf: &mut Vec<u8>) -> Result<String, ReadError> {
    loop {
        if let Some(pos) = buf.windows(2).position(|w| w == b"\r\n") {
            let line: Vec<u8> = buf.drain(..pos + 2).collect();
            return Ok(String::from_utf8_lossy(&line[..pos]).into_owned());
        }
        if buf.len() > MAX_CHUNK_LINE {
            return Err(reply(400, "chunk line too long"));
        }
        if !fill(conn, buf)? {
            return Err(ReadError::Io);
        }
    }
}

fn read_chunked(conn: &mut impl Read, buf: &mut Vec<u8>) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::new();
    loop {
        let line = read_line(conn, buf)?;
        let size_txt = line.split(';').next().unwrap_or("").trim();
        let size =
            usize::from_str_radix(size_txt, 16).map_err(|_| reply(400, "invalid chunk size"))?;
        if size == 0 {
            // Trailers until an empty line.
            loop {
                let l = read_line(conn, buf)?;
                if l.is_empty() {
                    return Ok(body);
                }
            }
        }
        // `body` never exceeds MAX_BODY, so this cannot underflow; `body.len() + size` could
        // overflow for a hostile size.
        if size > MAX_BODY - body.len() {
            return Err(reply(413, "request body exceeds 1 MiB"));
        }
        while buf.len() < size + 2 {
            if !fill(conn, buf)? {
                return Err(ReadError::Io);
            }
        }
        body.extend(buf.drain(..size));
        if buf.drain(..2).as_slice() != b"\r\n" {
            return Err(reply(400, "malformed chunk"));
        }
    }
}
