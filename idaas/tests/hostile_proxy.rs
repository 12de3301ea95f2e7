//! Hostile-server suite, proxies (SECURITY.md "Proxies"): with every proxy variable pointing at a
//! listener of ours, plain-http and loopback requests must go direct (a proxy would see the client
//! secret in clear text), https to other hosts must keep using the proxy, and `NO_PROXY` must be
//! honoured. The proxy variables are process-wide, so this file holds one test that runs its
//! scenarios in order (a test binary of its own: no other test sees the variables).

mod common;

use common::*;
use idaas::pam::PamClient;
use idaas::Config;
use idaas::{Client, ErrorKind, SecretString};
use idaas_emulator::{AuthMethod, Emulator, TOKEN_PATH};
use serde_json::json;
use std::io::Read;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A "proxy" that records what it is sent and then closes the connection.
struct FakeProxy {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
}

impl FakeProxy {
    fn start() -> FakeProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let s2 = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { continue };
                let _ = s.set_read_timeout(Some(Duration::from_millis(300)));
                let mut got = Vec::new();
                let mut buf = [0u8; 1024];
                while !got.ends_with(b"\r\n\r\n") {
                    match s.read(&mut buf) {
                        Ok(n) if n > 0 => got.extend_from_slice(&buf[..n]),
                        _ => break,
                    }
                }
                s2.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&got).into_owned());
            }
        });
        FakeProxy { port, seen }
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

const VARS: [&str; 6] = [
    "ALL_PROXY",
    "all_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
];

fn emulator_client(emu: &Emulator, token_endpoint: &str) -> Client {
    let mut v = emu.client_config(AuthMethod::ClientSecretPost);
    v["tokenEndpoint"] = json!(token_endpoint);
    let mut cfg = Config::from_json_value(&v).unwrap();
    let secret = SecretString::new(emu.client_secret());
    cfg.authn.client_secret_supplier = Some(Arc::new(move || Ok(secret.clone())));
    Client::builder(cfg)
        .retry_policy(fast_token_retry())
        .build()
        .unwrap()
}

#[test]
fn proxy_policy() {
    let proxy = FakeProxy::start();
    let proxy_url = format!("http://127.0.0.1:{}", proxy.port);
    // SAFETY of the environment edits: this binary has only this test, so no other thread reads
    // the environment while it is changed.
    for v in VARS {
        std::env::set_var(v, &proxy_url);
    }
    std::env::remove_var("NO_PROXY");
    std::env::remove_var("no_proxy");

    let emu = Emulator::start_default();
    let port = emu.local_addr().port();

    // 1. Plain http to a loopback token endpoint: direct, the proxy sees nothing.
    let http_client = emulator_client(&emu, &format!("http://127.0.0.1:{port}{TOKEN_PATH}"));
    http_client.bearer_token().expect("direct plain-http token");
    // 2. https to a loopback host: direct too.
    let https_client = emulator_client(&emu, &emu.token_endpoint());
    https_client.bearer_token().expect("direct https token");
    // 3. The Developer API on a plain-http loopback endpoint: direct.
    let mut v = emu.client_config(AuthMethod::ClientSecretPost);
    v["developerApiEndpoint"] = json!(format!("http://127.0.0.1:{port}"));
    let mut cfg = Config::from_json_value(&v).unwrap();
    let secret = SecretString::new(emu.client_secret());
    cfg.authn.client_secret_supplier = Some(Arc::new(move || Ok(secret.clone())));
    let pam = PamClient::from_client(&Client::new(cfg).unwrap()).unwrap();
    pam.get_api_key("openai_prod_key")
        .expect("direct Developer API call");
    assert!(
        proxy.seen().is_empty(),
        "loopback traffic went through the proxy: {:?}",
        proxy.seen()
    );

    // 4. https to another host keeps the proxy: the proxy is asked to CONNECT, and sees no secret
    //    (the request itself would travel inside TLS).
    let remote = emulator_client(&emu, "https://idaas.invalid/oauth2/token");
    let err = remote.bearer_token().unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Transport | ErrorKind::Timeout),
        "{err}"
    );
    let seen = proxy.seen();
    assert!(!seen.is_empty());
    for s in &seen {
        assert!(s.starts_with("CONNECT idaas.invalid:443 "), "{seen:?}");
        assert!(!s.contains(emu.client_secret()));
    }
    let proxied = seen.len();

    // 5. NO_PROXY is honoured: the same request goes direct (and fails to resolve `.invalid`).
    std::env::set_var("NO_PROXY", "localhost,.invalid");
    let direct = emulator_client(&emu, "https://idaas.invalid/oauth2/token");
    let err = direct.bearer_token().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert_eq!(
        proxy.seen().len(),
        proxied,
        "NO_PROXY ignored: {:?}",
        proxy.seen()
    );

    for v in VARS {
        std::env::remove_var(v);
    }
    std::env::remove_var("NO_PROXY");
}
