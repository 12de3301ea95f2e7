//! A tiny scripted HTTP/1.1 server on 127.0.0.1 for protocol tests that need exact control over
//! replies (retries, 429, redirects, non-JSON bodies). Records every request.
//! Include it with `mod core_mock;` (items carry their own `#[allow(dead_code)]`, so an outer
//! `#[allow(dead_code)]` is not needed).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// One recorded request.
#[allow(dead_code)]
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

#[allow(dead_code)]
impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A reply.
#[allow(dead_code)]
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

#[allow(dead_code)]
impl Reply {
    pub fn json(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.into(),
        }
    }
    pub fn header(mut self, k: &str, v: &str) -> Reply {
        self.headers.push((k.into(), v.into()));
        self
    }
    pub fn token(access: &str, expires_in: u64, now_secs: u64) -> Reply {
        Reply::json(
            200,
            &format!(
                r#"{{"access_token":"{access}","token_type":"Bearer","expires_in":{expires_in},"expires_at":{}}}"#,
                now_secs + expires_in
            ),
        )
    }
}

#[allow(dead_code)]
type Handler = dyn Fn(&Recorded, usize) -> Reply + Send + Sync;

#[allow(dead_code)]
pub struct MockServer {
    pub port: u16,
    pub requests: Arc<Mutex<Vec<Recorded>>>,
}

#[allow(dead_code)]
impl MockServer {
    /// Start a server answering with `handler(request, index)`.
    pub fn start(
        handler: impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static,
    ) -> MockServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests: Arc<Mutex<Vec<Recorded>>> = Arc::default();
        let handler: Arc<Handler> = Arc::new(handler);
        let reqs = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let reqs = reqs.clone();
                let handler = handler.clone();
                std::thread::spawn(move || serve(stream, reqs, handler));
            }
        });
        MockServer { port, requests }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }

    pub fn recorded(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

fn serve(stream: TcpStream, reqs: Arc<Mutex<Vec<Recorded>>>, handler: Arc<Handler>) {
    let mut out = stream.try_clone().unwrap();
    let mut r = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let path = parts.next().unwrap_or("").to_string();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if r.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_string(), v.trim().to_string()));
            }
        }
        let len: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0u8; len];
        if r.read_exact(&mut body).is_err() {
            return;
        }
        let rec = Recorded {
            method,
            path,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        };
        let idx = {
            let mut g = reqs.lock().unwrap();
            g.push(rec.clone());
            g.len() - 1
        };
        let reply = handler(&rec, idx);
        let mut text = format!(
            "HTTP/1.1 {} X\r\nContent-Length: {}\r\n",
            reply.status,
            reply.body.len()
        );
        for (k, v) in &reply.headers {
            text.push_str(&format!("{k}: {v}\r\n"));
        }
        text.push_str("\r\n");
        text.push_str(&reply.body);
        if out.write_all(text.as_bytes()).is_err() {
            return;
        }
    }
}
