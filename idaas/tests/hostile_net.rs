//! Hostile-server suite, network side (SECURITY.md "TLS and plain HTTP", "Time bounds"): endpoint
//! spellings that try to smuggle the client secret over plain http to another host, servers that
//! drip their replies to stretch a call, and absurd token lifetimes. Every server here is ours, on
//! 127.0.0.1; hosts under `.invalid` stand for "somewhere else" and are never reached.

mod common;
mod core_mock;

use common::*;
use core_mock::{MockServer, Reply};
use idaas::internals::check_url;
use idaas::internals::HttpClient;
use idaas::internals::HttpRequest;
use idaas::internals::Method;
use idaas::pam::PamClient;
use idaas::Config;
use idaas::HttpOptions;
use idaas::ManualClock;
use idaas::StaticProvider;
use idaas::{Client, ErrorKind, SecretString};
use idaas_emulator::{AuthMethod, Emulator, TOKEN_PATH};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SECRET: &str = "hostile-net-client-secret-4242";

/// A listener on 127.0.0.1 that records every byte it receives and answers nothing useful: it
/// proves what reached the port (nothing, a TLS hello, a CONNECT line …).
struct Trap {
    port: u16,
    bytes: Arc<Mutex<Vec<u8>>>,
    connections: Arc<AtomicUsize>,
}

impl Trap {
    fn start() -> Trap {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let bytes: Arc<Mutex<Vec<u8>>> = Arc::default();
        let connections = Arc::new(AtomicUsize::new(0));
        let (b, c) = (bytes.clone(), connections.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { continue };
                c.fetch_add(1, Ordering::SeqCst);
                let b = b.clone();
                std::thread::spawn(move || {
                    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
                    let mut buf = [0u8; 4096];
                    while let Ok(n) = s.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        b.lock().unwrap().extend_from_slice(&buf[..n]);
                    }
                    let _ = s.shutdown(Shutdown::Both);
                });
            }
        });
        Trap {
            port,
            bytes,
            connections,
        }
    }

    fn received(&self) -> Vec<u8> {
        self.bytes.lock().unwrap().clone()
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// A CLIENT_SECRET_POST (or BASIC) configuration whose token endpoint is `endpoint`, with the
/// secret from a supplier.
fn config_json(endpoint: &str, method: &str) -> Value {
    json!({
        "idaasInstanceId": "idaas_hostile",
        "clientId": "app_hostile",
        "issuer": "https://issuer.invalid/oauth2",
        "tokenEndpoint": endpoint,
        "authnConfiguration": {"authnMethod": method, "clientSecretEnvVarName": "HOSTILE_NET_UNUSED"},
        "httpConfiguration": {"connectTimeout": 2000, "readTimeout": 2000}
    })
}

fn client_for(cfg: &Value) -> idaas::Result<Client> {
    let mut cfg = Config::from_json_value(cfg)?;
    let secret = SecretString::new(SECRET);
    cfg.authn.client_secret_supplier = Some(Arc::new(move || Ok(secret.clone())));
    Client::builder(cfg)
        .retry_policy(fast_token_retry())
        .build()
}

// ---------------------------------------------------------------------------------------------
// Item 1: the loopback exception for plain http.

/// Endpoints that carry user information are refused at load time with a config error that names
/// the field, for every URL field, and nothing is sent anywhere (the trap on the loopback port the
/// userinfo names sees no connection).
#[test]
fn userinfo_in_any_endpoint_is_a_config_error() {
    let trap = Trap::start();
    let p = trap.port;
    let spellings = [
        // The reviewed attacks, verbatim.
        "http://localhost:x@evil.invalid/token".to_string(),
        "http://[::1]@evil.invalid:8080/token".to_string(),
        "http://127.0.0.1:@evil.invalid/token".to_string(),
        format!("http://localhost:x@evil.invalid:{p}/token"),
        format!("http://[::1]@evil.invalid:{p}/token"),
        format!("http://127.0.0.1:@evil.invalid:{p}/token"),
        format!("http://127.0.0.1:{p}@evil.invalid/token"),
        format!("HTTP://localhost:x@evil.invalid:{p}/token"),
        format!("https://user:pw@evil.invalid:{p}/token"),
        // The real host here is loopback, but credentials in a URL are refused anyway.
        format!("http://user:pw@127.0.0.1:{p}/token"),
    ];
    for bad in &spellings {
        for field in ["tokenEndpoint", "issuer", "developerApiEndpoint"] {
            let mut cfg = config_json(&format!("http://127.0.0.1:{p}/token"), "CLIENT_SECRET_POST");
            cfg[field] = json!(bad);
            let err = client_for(&cfg)
                .err()
                .unwrap_or_else(|| panic!("{field} = {bad} accepted"));
            let msg = err.to_string();
            if field == "developerApiEndpoint" && bad.starts_with("https://") {
                // Refused by the Developer API endpoint rule too; either code names the field.
                assert_eq!(err.kind(), ErrorKind::Config, "{bad}: {msg}");
            } else {
                assert_eq!(err.code(), "InvalidEndpointUrl", "{field} = {bad}: {msg}");
            }
            assert!(msg.contains(field), "{field} not named: {msg}");
            assert!(!msg.contains("pw@"), "user information echoed: {msg}");
        }
    }
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(trap.connections(), 0, "a connection reached the trap");
}

/// Spellings of "loopback" that are not a literal loopback host are upgraded to https by the
/// configuration (as every non-loopback http endpoint is); the ones that resolve to this machine
/// reach our trap only as a TLS handshake, so the secret never crosses in clear text.
#[test]
fn odd_loopback_spellings_never_carry_the_secret_in_clear() {
    let trap = Trap::start();
    let p = trap.port;
    let cases = [
        format!("http://2130706433:{p}/token"),
        format!("http://0x7f000001:{p}/token"),
        format!("http://0177.0.0.1:{p}/token"),
        format!("http://127.1:{p}/token"),
        format!("http://[::ffff:127.0.0.1]:{p}/token"),
        format!("http://localhost.:{p}/token"),
        format!("http://127.0.0.1.evil.invalid:{p}/token"),
        format!("http://%6cocalhost:{p}/token"),
        format!("http://0.0.0.0:{p}/token"),
        format!("HTTP://evil.invalid:{p}/token"),
    ];
    for url in &cases {
        let cfg = match Config::from_json_value(&config_json(url, "CLIENT_SECRET_BASIC")) {
            Ok(c) => c,
            // Unparseable spellings are refused outright: also fine.
            Err(e) => {
                assert_eq!(e.code(), "InvalidEndpointUrl", "{url}: {e}");
                continue;
            }
        };
        assert!(
            cfg.token_endpoint.starts_with("https://"),
            "{url} kept as {} (plain http to a non-literal loopback host)",
            cfg.token_endpoint
        );
        // A plain-http request to the same spelling is refused before any connection.
        let err = check_url(url).unwrap_err();
        assert!(
            matches!(err.code(), "PlainHttpNotLoopback" | "InvalidUrl"),
            "{url}: {err}"
        );
    }
    // Fetch a token through the spellings that do resolve to 127.0.0.1 (std resolves decimal and
    // hex forms like inet_aton): only TLS reaches the trap. `0.0.0.0` is not connected to.
    for url in [
        format!("http://2130706433:{p}/token"),
        format!("http://0x7f000001:{p}/token"),
        format!("http://[::ffff:127.0.0.1]:{p}/token"),
    ] {
        let client = client_for(&config_json(&url, "CLIENT_SECRET_POST")).unwrap();
        let err = client.bearer_token().unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Transport | ErrorKind::Timeout),
            "{url}: {err}"
        );
    }
    let got = trap.received();
    assert!(
        !contains(&got, SECRET),
        "secret reached the trap in clear text"
    );
    assert!(
        !contains(&got, "POST "),
        "a plain HTTP request reached the trap"
    );
}

/// The HTTP layer applies the same rules to every request, whatever the caller: user information
/// and non-literal loopback hosts are refused before a connection is attempted.
#[test]
fn http_layer_refuses_before_connecting() {
    let trap = Trap::start();
    let p = trap.port;
    let http = HttpClient::new(HttpOptions::default()).unwrap();
    for url in [
        format!("http://localhost:x@127.0.0.1:{p}/token"),
        format!("http://2130706433:{p}/token"),
        format!("http://[::ffff:127.0.0.1]:{p}/token"),
        format!("http://localhost.:{p}/token"),
    ] {
        let err = http
            .send(HttpRequest {
                method: Method::Post,
                url: &url,
                headers: vec![("Authorization", format!("Basic {SECRET}"))],
                body: Some(format!("client_secret={SECRET}").into_bytes()),
            })
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{url}: {err}");
        assert!(!err.to_string().contains(SECRET));
        // The metadata-service path allows plain http to other hosts, but never user information.
        if url.contains('@') {
            let err = http
                .send_allow_plain_http(HttpRequest {
                    method: Method::Get,
                    url: &url,
                    headers: vec![],
                    body: None,
                })
                .unwrap_err();
            assert_eq!(err.code(), "InvalidUrl", "{url}: {err}");
        }
    }
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(trap.connections(), 0);
}

/// The accepted literal spellings keep working over plain http, in any scheme case.
#[test]
fn literal_loopback_spellings_work() {
    let emu = Emulator::start_default();
    let port = emu.local_addr().port();
    for ep in [
        format!("http://127.0.0.1:{port}{TOKEN_PATH}"),
        format!("HTTP://127.0.0.1:{port}{TOKEN_PATH}"),
        format!("http://localhost:{port}{TOKEN_PATH}"),
    ] {
        let mut v = emu.client_config(AuthMethod::ClientSecretPost);
        v["tokenEndpoint"] = json!(ep);
        let mut cfg = Config::from_json_value(&v).unwrap();
        assert_eq!(cfg.token_endpoint, ep, "loopback endpoint rewritten");
        let secret = SecretString::new(emu.client_secret());
        cfg.authn.client_secret_supplier = Some(Arc::new(move || Ok(secret.clone())));
        let client = Client::new(cfg).unwrap();
        client
            .bearer_token()
            .unwrap_or_else(|e| panic!("{ep}: {e}"));
    }
}

// ---------------------------------------------------------------------------------------------
// Item 4: time bounds. A server that drips its reply: the status line at once, then the headers
// over `head`, then the body over `body`, then a 503. Each phase stays under the read timeout, so
// only a bound on the whole attempt and a budget for the whole call can stop it.

struct Drip {
    port: u16,
    requests: Arc<AtomicUsize>,
}

impl Drip {
    fn start(head: Duration, body: Duration) -> Drip {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(AtomicUsize::new(0));
        let r = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(s) = stream else { continue };
                let r = r.clone();
                std::thread::spawn(move || drip(s, r, head, body));
            }
        });
        Drip { port, requests }
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

fn drip(mut s: TcpStream, requests: Arc<AtomicUsize>, head: Duration, body: Duration) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    loop {
        // Read one request head (and ignore any body: the client's requests are small).
        let mut seen = Vec::new();
        let mut b = [0u8; 1];
        while !seen.ends_with(b"\r\n\r\n") {
            match s.read(&mut b) {
                Ok(1) => seen.push(b[0]),
                _ => return,
            }
        }
        let text = String::from_utf8_lossy(&seen).to_ascii_lowercase();
        let len: usize = text
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        let mut rest = vec![0u8; len];
        if s.read_exact(&mut rest).is_err() {
            return;
        }
        requests.fetch_add(1, Ordering::SeqCst);
        let body_text =
            r#"{"error":"temporarily_unavailable","error_description":"slow and failing"}"#;
        let headers = format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\nX-Pad: {}\r\n\r\n",
            body_text.len(),
            "p".repeat(16)
        );
        if s.write_all(b"HTTP/1.1 503 Service Unavailable\r\n")
            .is_err()
        {
            return;
        }
        for (chunk, total) in [(headers.as_bytes(), head), (body_text.as_bytes(), body)] {
            // Byte i leaves at start + (i + 1) × step: each sleep aims at that instant, so the
            // oversleeps of a loaded machine do not add up and the phase lasts `total`.
            let start = Instant::now();
            let step = total / chunk.len() as u32;
            for (i, byte) in chunk.iter().enumerate() {
                let due = start + step * (i as u32 + 1);
                std::thread::sleep(due.saturating_duration_since(Instant::now()));
                if s.write_all(&[*byte]).is_err() {
                    return;
                }
            }
        }
    }
}

fn timed_err<T: std::fmt::Debug>(f: impl FnOnce() -> idaas::Result<T>) -> (idaas::Error, Duration) {
    let t = Instant::now();
    let e = f().expect_err("the call should fail");
    (e, t.elapsed())
}

/// Token endpoint: each attempt drips 1.6 s of headers and 1.6 s of body (each phase under the
/// 2 s read timeout). With `callTimeout` 3000 ms the call ends at 3 s; before the budget existed it
/// ran its whole first attempt (3.2 s) and more.
#[test]
fn token_call_respects_call_timeout() {
    let srv = Drip::start(Duration::from_millis(1600), Duration::from_millis(1600));
    let mut cfg = config_json(
        &format!("http://127.0.0.1:{}/token", srv.port),
        "CLIENT_SECRET_POST",
    );
    cfg["httpConfiguration"]["callTimeout"] = json!(3000);
    let client = client_for(&cfg).unwrap();
    let (err, took) = timed_err(|| client.bearer_token());
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(took < Duration::from_millis(3400), "took {took:?}");
    assert!(took >= Duration::from_millis(2900), "took {took:?}");
    assert_eq!(srv.requests(), 1);
}

/// Token endpoint with the default budget, `2 × (connectTimeout + readTimeout)` = 8 s: a 503 that
/// takes 3.2 s per attempt is tried twice (the third attempt would not fit) and the call ends well
/// inside the budget, with the server's error.
#[test]
fn token_call_default_budget_two_slow_attempts() {
    let srv = Drip::start(Duration::from_millis(1600), Duration::from_millis(1600));
    let client = client_for(&config_json(
        &format!("http://127.0.0.1:{}/token", srv.port),
        "CLIENT_SECRET_POST",
    ))
    .unwrap();
    let (err, took) = timed_err(|| client.bearer_token());
    assert_eq!(err.kind(), ErrorKind::Server, "{err}");
    assert!(took <= Duration::from_millis(8000), "took {took:?}");
    assert_eq!(srv.requests(), 2);
}

/// One attempt is bounded as a whole by `connectTimeout + readTimeout` (2 s + 3 s here) although
/// no single phase exceeds the read timeout: 2.8 s of headers then 2.8 s of body is cut at 5 s.
#[test]
fn attempt_is_bounded_end_to_end() {
    let srv = Drip::start(Duration::from_millis(2800), Duration::from_millis(2800));
    let mut cfg = config_json(
        &format!("http://127.0.0.1:{}/token", srv.port),
        "CLIENT_SECRET_POST",
    );
    cfg["httpConfiguration"]["readTimeout"] = json!(3000);
    cfg["httpConfiguration"]["callTimeout"] = json!(6000);
    let client = client_for(&cfg).unwrap();
    let (err, took) = timed_err(|| client.bearer_token());
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(took < Duration::from_millis(5400), "took {took:?}");
    assert!(took >= Duration::from_millis(4900), "took {took:?}");
    assert_eq!(srv.requests(), 1);
}

fn pam_for(port: u16, http: HttpOptions) -> PamClient {
    PamClient::builder()
        .endpoint(format!("http://127.0.0.1:{port}"))
        .instance_id("idaas_hostile")
        .provider(StaticProvider::from_token(SecretString::new("at.hostile")).shared())
        .http_options(http)
        .build()
        .unwrap()
}

fn short_timeouts(call: Option<Duration>) -> HttpOptions {
    HttpOptions {
        connect_timeout: Duration::from_millis(2000),
        read_timeout: Duration::from_millis(2000),
        call_timeout: call,
        ..HttpOptions::default()
    }
}

/// Developer API, a read-only operation (retried up to 3 times): the reviewed attack took 11.7 s
/// with three slow 503 attempts; now the default budget (8 s) admits two.
#[test]
fn devapi_call_default_budget() {
    let srv = Drip::start(Duration::from_millis(1600), Duration::from_millis(1600));
    let pam = pam_for(srv.port, short_timeouts(None));
    let (err, took) = timed_err(|| pam.get_api_key("openai_prod_key"));
    assert_eq!(err.kind(), ErrorKind::Server, "{err}");
    assert!(took <= Duration::from_millis(8000), "took {took:?}");
    assert_eq!(srv.requests(), 2);
}

/// Developer API with an explicit 3 s budget: one attempt, cut at the budget.
#[test]
fn devapi_call_respects_call_timeout() {
    let srv = Drip::start(Duration::from_millis(1600), Duration::from_millis(1600));
    let pam = pam_for(srv.port, short_timeouts(Some(Duration::from_millis(3000))));
    let (err, took) = timed_err(|| pam.get_api_key("openai_prod_key"));
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(took < Duration::from_millis(3400), "took {took:?}");
    assert_eq!(srv.requests(), 1);
}

/// `callTimeout` is validated like the other timeouts and named in the error.
#[test]
fn call_timeout_is_validated() {
    for bad in [
        json!(1999),
        json!(600_001),
        json!(-1),
        json!(2.5),
        json!("3000"),
    ] {
        let mut cfg = config_json("https://idaas.invalid/token", "CLIENT_SECRET_POST");
        cfg["httpConfiguration"]["callTimeout"] = bad.clone();
        let err = Config::from_json_value(&cfg).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config, "{bad}: {err}");
        assert!(err.to_string().contains("callTimeout"), "{bad}: {err}");
    }
    let mut cfg = config_json("https://idaas.invalid/token", "CLIENT_SECRET_POST");
    cfg["httpConfiguration"]["call_timeout"] = json!(2500);
    let opts = Config::from_json_value(&cfg)
        .unwrap()
        .http_options()
        .unwrap();
    assert_eq!(opts.call_budget(), Duration::from_millis(2500));
    let cfg = config_json("https://idaas.invalid/token", "CLIENT_SECRET_POST");
    let opts = Config::from_json_value(&cfg)
        .unwrap()
        .http_options()
        .unwrap();
    assert_eq!(opts.call_budget(), Duration::from_millis(8000));
}

// ---------------------------------------------------------------------------------------------
// Item 6: an absurd lifetime is clamped.

/// `expires_in: 1e30` (and a matching absurd `expires_at`) used to cache the token forever; the
/// cache now keeps it at most 24 hours (decision D-35), then fetches again.
#[test]
fn absurd_expires_in_is_clamped_to_a_day() {
    let clock = ManualClock::new(1_760_000_000_000);
    let now_s = 1_760_000_000u64;
    let count = Arc::new(AtomicUsize::new(0));
    let c2 = count.clone();
    let srv = MockServer::start(move |_, _| {
        let n = c2.fetch_add(1, Ordering::SeqCst);
        Reply::json(
            200,
            &format!(
                r#"{{"access_token":"at.absurd.{n}","token_type":"Bearer","expires_in":1e30,"expires_at":1e30}}"#
            ),
        )
    });
    let cfg = client_for(&config_json(&srv.url("/token"), "CLIENT_SECRET_POST")).unwrap();
    let client = Client::builder(cfg.config().clone())
        .clock(clock.clone())
        .async_refresh(false)
        .retry_policy(fast_token_retry())
        .build()
        .unwrap();
    assert_eq!(client.bearer_token().unwrap().expose(), "at.absurd.0");
    let times = client
        .default_cached_provider()
        .unwrap()
        .cache()
        .times()
        .unwrap();
    assert_eq!(times.expires_at_ms, (now_s + 24 * 3600) * 1000);
    clock.advance_secs(24 * 3600 - 1);
    assert_eq!(client.bearer_token().unwrap().expose(), "at.absurd.1");
    assert_eq!(count.load(Ordering::SeqCst), 2);
}
