//! The HTTP/1.1 server: accept loop, one thread per connection, TLS sniffing, and the
//! keep-alive loop that reads a request, routes it, applies a fault, logs it and writes the
//! outcome. Responses are written by hand so that faults can break them on purpose.

use super::message::{head_bytes, Ctx, Request, Response};
use super::read::{read_request, ReadError};
use crate::faults::{self, Outcome};
use crate::reqlog::{HeaderInterner, LogEntry};
use crate::router::{self, Target};
use crate::state::State;
use crate::util::lock;
use crate::util::{now_ms, request_id};
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// Maximum number of simultaneous connections.
const MAX_CONNS: usize = 2048;
/// Idle keep-alive connections are closed after this long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// Stack of a connection thread: handlers are shallow, and thousands of connections must fit.
const CONN_STACK: usize = 512 * 1024;

/// Accepts connections until shutdown.
pub(crate) fn accept_loop(st: Arc<State>, listener: TcpListener) {
    let server = &st.server;
    for stream in listener.incoming() {
        if server.shutdown.load(Ordering::SeqCst) {
            break;
        }
        let stream = match stream {
            Ok(s) => s,
            Err(_) => {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
        };
        server.accepted.fetch_add(1, Ordering::Relaxed);
        if server.conn_count.load(Ordering::SeqCst) >= MAX_CONNS {
            let mut s = stream;
            let _ = s.write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            continue;
        }
        let id = server.next_conn.fetch_add(1, Ordering::SeqCst);
        if let Ok(c) = stream.try_clone() {
            lock(&server.conns).insert(id, c);
        }
        server.conn_count.fetch_add(1, Ordering::SeqCst);
        let conn_st = st.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("idaas-emulator-conn-{id}"))
            .stack_size(CONN_STACK)
            .spawn(move || {
                // The guard unregisters the connection even if a handler panics.
                let _guard = ConnGuard {
                    st: conn_st.clone(),
                    id,
                };
                handle_connection(&conn_st, stream);
            });
        if spawned.is_err() {
            lock(&server.conns).remove(&id);
            server.conn_count.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Unregisters a connection when its thread ends (normally or by panic).
struct ConnGuard {
    st: Arc<State>,
    id: u64,
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        lock(&self.st.server.conns).remove(&self.id);
        self.st.server.conn_count.fetch_sub(1, Ordering::SeqCst);
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

fn handle_connection(st: &State, stream: TcpStream) {
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
    // 0x16: a TLS handshake record (ClientHello); anything else is read as plain HTTP.
    let tls = first[0] == 0x16;
    let mut conn = if tls {
        let Some(cfg) = st.server.tls.clone() else {
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
        if st.server.shutdown.load(Ordering::SeqCst) {
            return;
        }
        let req = match read_request(&mut conn, &mut buf, &interner) {
            Ok(Some(r)) => r,
            Ok(None) | Err(ReadError::Io) => return,
            Err(ReadError::Reply(status, msg)) => {
                let body = serde_json::json!({"error": "invalid_request", "error_description": msg, "request_id": request_id()});
                let resp = Response::json(status, &body).with_header("Connection", "close");
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
        let target = router::classify(&req);
        let outcome = respond(st, &req, &target, &Ctx { rid: &rid });
        let status = match &outcome {
            Outcome::Respond(r) => r.status,
            Outcome::ResetMidBody(r) | Outcome::Truncate(r) => r.status,
            Outcome::Huge(_) => 200,
            Outcome::Reset | Outcome::Down => 0,
        };
        if !target.is_control() {
            st.log
                .record(LogEntry::new(req, status, &rid, tls, now_ms()));
        }
        if !write_outcome(&mut conn, &raw, outcome, keep_alive, is_head, &rid) {
            return;
        }
    }
}

/// The outcome of a request: the handler's response, or what the first matching fault makes
/// of it. Control-API requests are never faulted.
fn respond(st: &State, req: &Request, target: &Target, ctx: &Ctx) -> Outcome {
    let fault = faults::take(st, target);
    faults::apply(st, fault, target, ctx, || {
        router::handle(st, req, target, ctx)
    })
}

/// Writes an outcome; false when the connection is finished (closed, reset or failed).
fn write_outcome(
    conn: &mut Conn,
    raw: &TcpStream,
    outcome: Outcome,
    keep_alive: bool,
    is_head: bool,
    rid: &str,
) -> bool {
    match outcome {
        Outcome::Respond(mut resp) => {
            if is_head {
                // Same headers (Content-Length of the GET body), no body.
                let len = resp.body.len();
                resp.body.clear();
                let head = head_bytes(&resp, len, keep_alive, rid);
                if conn.write_all(&head).and_then(|_| conn.flush()).is_err() || !keep_alive {
                    close_gracefully(conn, raw);
                    return false;
                }
                return true;
            }
            if write_response(conn, &resp, keep_alive, rid).is_err() || !keep_alive {
                close_gracefully(conn, raw);
                return false;
            }
            true
        }
        Outcome::Reset => {
            reset(raw);
            false
        }
        Outcome::Down => {
            let _ = raw.shutdown(Shutdown::Both);
            false
        }
        Outcome::ResetMidBody(resp) => {
            let head = head_bytes(&resp, resp.body.len(), false, rid);
            let half = resp.body.len() / 2;
            let _ = conn.write_all(&head);
            let _ = conn.write_all(&resp.body[..half]);
            let _ = conn.flush();
            // Let the half body reach the peer before the RST discards what is unsent.
            std::thread::sleep(Duration::from_millis(20));
            reset(raw);
            false
        }
        Outcome::Truncate(resp) => {
            let head = head_bytes(&resp, resp.body.len() + 100, false, rid);
            let half = resp.body.len() / 2;
            let _ = conn.write_all(&head);
            let _ = conn.write_all(&resp.body[..half]);
            let _ = conn.flush();
            let _ = raw.shutdown(Shutdown::Both);
            false
        }
        Outcome::Huge(n) => {
            let resp = Response::json_bytes(200, Vec::new());
            let head = head_bytes(&resp, n, keep_alive, rid);
            if conn.write_all(&head).is_err() {
                return false;
            }
            let chunk = vec![b' '; 64 * 1024];
            let mut left = n;
            while left > 0 {
                let k = left.min(chunk.len());
                if conn.write_all(&chunk[..k]).is_err() {
                    return false;
                }
                left -= k;
            }
            if conn.flush().is_err() || !keep_alive {
                close_gracefully(conn, raw);
                return false;
            }
            true
        }
    }
}

fn write_response(conn: &mut Conn, resp: &Response, keep_alive: bool, rid: &str) -> io::Result<()> {
    let mut out = head_bytes(resp, resp.body.len(), keep_alive, rid);
    if resp.status != 204 {
        out.extend_from_slice(&resp.body);
    }
    conn.write_all(&out)?;
    conn.flush()
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
