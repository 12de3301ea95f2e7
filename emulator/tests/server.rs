//! Server robustness: concurrency, keep-alive, bad HTTP, size limits, chunked bodies,
//! fixtures errors, the binary.
mod common;
use common::*;
use idaas_emulator::{Emulator, Fixtures};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Barrier};
use std::time::Duration;

fn read_response(r: &mut BufReader<TcpStream>) -> (u16, String) {
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .unwrap_or("0")
        .parse()
        .unwrap();
    let mut len = 0;
    loop {
        let mut h = String::new();
        r.read_line(&mut h).unwrap();
        if h == "\r\n" || h.is_empty() {
            break;
        }
        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap();
        }
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[test]
fn two_hundred_concurrent_keep_alive_connections() {
    let emu = Emulator::start_default();
    let body = form(&[
        ("client_id", "app_secret"),
        ("client_secret", emu.client_secret()),
        ("grant_type", "client_credentials"),
        ("scope", PAM),
    ]);
    let n = 200;
    let barrier = Arc::new(Barrier::new(n));
    let addr = emu.local_addr();
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let barrier = barrier.clone();
            let body = body.clone();
            std::thread::spawn(move || {
                let s = TcpStream::connect(addr).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
                barrier.wait(); // all 200 connections open at once
                let mut w = s.try_clone().unwrap();
                let mut r = BufReader::new(s);
                for _ in 0..3 {
                    let req = format!("POST /api/v2/iauths_system/oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}", body.len());
                    w.write_all(req.as_bytes()).unwrap();
                    let (st, b) = read_response(&mut r);
                    assert_eq!(st, 200, "{b}");
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(emu.count_requests("/token"), 3 * n);
}

#[test]
fn connections_accepted_counts_tcp_connections_not_requests() {
    let emu = Emulator::start_default();
    assert_eq!(emu.connections_accepted(), 0);
    // Three keep-alive connections, four requests on each.
    for _ in 0..3 {
        let s = TcpStream::connect(emu.local_addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut w = s.try_clone().unwrap();
        let mut r = BufReader::new(s);
        for _ in 0..4 {
            w.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            assert_eq!(read_response(&mut r).0, 200);
        }
    }
    assert_eq!(emu.connections_accepted(), 3);
    assert_eq!(emu.info()["connectionsAccepted"], 3);
    // The control API reports it too (this request opens connection number 4).
    let mut s = TcpStream::connect(emu.local_addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET /_emulator/info HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let (st, body) = read_response(&mut BufReader::new(s));
    assert_eq!(st, 200);
    let info: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(info["connectionsAccepted"], 4);
}

#[test]
fn concurrent_tls_clients() {
    let emu = Emulator::start_default();
    let handles: Vec<_> = (0..20)
        .map(|_| {
            let a = agent(&emu);
            let url = format!("{}/health", emu.https_base_url());
            std::thread::spawn(move || {
                for _ in 0..5 {
                    assert_eq!(a.get(&url).call().unwrap().status().as_u16(), 200);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

fn raw(emu: &Emulator, bytes: &[u8]) -> String {
    let mut s = TcpStream::connect(emu.local_addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = s.write_all(bytes);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn bad_http_and_limits() {
    let emu = Emulator::start_default();
    assert!(raw(&emu, b"GARBAGE\x01\x02 / HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 400"));
    let mut big = b"GET / HTTP/1.1\r\nX-Big: ".to_vec();
    big.extend(std::iter::repeat_n(b'a', 70 * 1024));
    big.extend_from_slice(b"\r\n\r\n");
    assert!(raw(&emu, &big).starts_with("HTTP/1.1 431"));
    let r = raw(
        &emu,
        b"POST /api/v2/iauths_system/oauth2/token HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n",
    );
    assert!(r.starts_with("HTTP/1.1 413"), "{r}");
    assert!(
        raw(&emu, b"POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n").starts_with("HTTP/1.1 400")
    );
    // Chunked body is decoded.
    let body = form(&[
        ("client_id", "app_secret"),
        ("client_secret", emu.client_secret()),
        ("grant_type", "client_credentials"),
        ("scope", PAM),
    ]);
    let (a, b) = body.split_at(10);
    let req = format!("POST /api/v2/iauths_system/oauth2/token HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n", a.len(), b.len());
    assert!(raw(&emu, req.as_bytes()).starts_with("HTTP/1.1 200"));
    // Unknown route: 404 JSON with request id; the server still works afterwards.
    let r = raw(&emu, b"GET /nowhere HTTP/1.1\r\nConnection: close\r\n\r\n");
    assert!(r.starts_with("HTTP/1.1 404") && r.contains("x-request-id") && r.contains("\"error\""));
    // HEAD: headers only.
    let r = raw(&emu, b"HEAD /health HTTP/1.1\r\nConnection: close\r\n\r\n");
    assert!(
        r.starts_with("HTTP/1.1 200") && r.ends_with("\r\n\r\n"),
        "{r}"
    );
    // A client that connects and sends nothing does not block others.
    let _idle = TcpStream::connect(emu.local_addr()).unwrap();
    assert!(
        raw(&emu, b"GET /health HTTP/1.1\r\nConnection: close\r\n\r\n").starts_with("HTTP/1.1 200")
    );
}

#[test]
fn a_chunk_size_beyond_the_body_limit_is_413() {
    let emu = Emulator::start_default();
    // After a first chunk, sizes near usize::MAX must be refused, not overflow the length sum.
    for size in ["ffffffffffffffff", "fffffffffffffffe", "100000"] {
        let req = format!(
            "POST /health HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n1\r\na\r\n{size}\r\n"
        );
        let r = raw(&emu, req.as_bytes());
        assert!(r.starts_with("HTTP/1.1 413"), "{size}: {r}");
        assert!(r.contains("request body exceeds 1 MiB"), "{r}");
    }
    assert!(
        raw(&emu, b"GET /health HTTP/1.1\r\nConnection: close\r\n\r\n").starts_with("HTTP/1.1 200")
    );
}

#[test]
fn shutdown_closes_the_port() {
    let emu = Emulator::start_default();
    let addr = emu.local_addr();
    emu.shutdown();
    assert!(TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_err());
}

#[test]
fn fixtures_errors_name_the_field() {
    let cases = [
        (
            r#"{"clients":[{"clientId":"a","bogus":1}]}"#,
            "clients[0].bogus",
        ),
        (
            r#"{"clients":[{"clientSecret":"x"}]}"#,
            "clients[0].clientId",
        ),
        (
            r#"{"clients":[{"clientId":"a","publicKeys":["nope"]}]}"#,
            "clients[0].publicKeys[0]",
        ),
        (
            r#"{"clients":[{"clientId":"a","grantedScopes":["noscope"]}]}"#,
            "clients[0].grantedScopes[0]",
        ),
        (
            r#"{"clients":[{"clientId":"a","federatedCredentials":[{"name":"f","type":"saml"}]}]}"#,
            "clients[0].federatedCredentials[0].type",
        ),
        (
            r#"{"credentialProviders":[{"identifier":"p","type":"oauth","authorizationFlow":"x"}]}"#,
            "credentialProviders[0].authorizationFlow",
        ),
        (
            r#"{"credentials":[{"identifier":"c","type":"api_key"}]}"#,
            "credentials[0].apiKey",
        ),
        (r#"{"instanceId": 5}"#, "instanceId"),
        ("not json", "<json>"),
    ];
    for (text, field) in cases {
        let e = Fixtures::from_json_str(text).unwrap_err().to_string();
        assert!(e.contains(field), "{text}: {e}");
    }
    let f = Fixtures::builtin();
    assert_eq!(f.instance_id, "idaas_emulator00000000000000000");
    assert_eq!(
        f.clients
            .iter()
            .find(|c| c.client_id == "app_pkjwt")
            .unwrap()
            .public_keys
            .len(),
        5
    );
}

#[test]
fn binary_ready_file_and_flag_errors() {
    let exe = env!("CARGO_BIN_EXE_idaas-emulator");
    let out = std::process::Command::new(exe)
        .args(["--fault", "token=bogus"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--fault"));
    let dir = std::env::temp_dir().join(format!("emu-bin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"{"clients":[{"clientId":"a","oops":true}]}"#).unwrap();
    let out = std::process::Command::new(exe)
        .args(["--fixtures", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("clients[0].oops"));

    let mut child = std::process::Command::new(exe)
        .args([
            "--ready-file",
            "-",
            "--exit-on-stdin-eof",
            "--fault",
            "token=status/503:1",
            "--error-style",
            "pop",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut text = String::new();
    loop {
        let mut l = String::new();
        if stdout.read_line(&mut l).unwrap() == 0 {
            break;
        }
        text.push_str(&l);
        if l.starts_with('}') {
            break;
        }
    }
    let info: serde_json::Value = serde_json::from_str(&text).unwrap();
    let te = info["tokenEndpoint"].as_str().unwrap();
    let ca = std::fs::read_to_string(info["caCertPath"].as_str().unwrap()).unwrap();
    let cert = ureq::tls::Certificate::from_pem(ca.as_bytes()).unwrap();
    let a: ureq::Agent = ureq::Agent::config_builder()
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::Specific(Arc::new(vec![cert])))
                .build(),
        )
        .http_status_as_error(false)
        .build()
        .into();
    let body = form(&[
        ("client_id", "app_secret"),
        ("client_secret", info["clientSecret"].as_str().unwrap()),
        ("grant_type", "client_credentials"),
        ("scope", PAM),
    ]);
    assert_eq!(post_form(&a, te, &body, None).status, 503);
    assert_eq!(post_form(&a, te, &body, None).status, 200);
    assert_eq!(
        info["clientConfigs"]["PCA"]["authnConfiguration"]["authnMethod"],
        "PCA"
    );
    drop(child.stdin.take());
    let status = child.wait().unwrap();
    assert!(status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn no_tls_mode_request_log_file_and_user_tls_files() {
    let dir = std::env::temp_dir().join(format!("emu-opts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("requests.jsonl");
    let emu = idaas_emulator::start(idaas_emulator::EmulatorOptions {
        tls: false,
        request_log: Some(log.clone()),
        ..Default::default()
    })
    .unwrap();
    assert!(emu.token_endpoint().starts_with("http://"));
    assert!(
        emu.client_config(idaas_emulator::AuthMethod::ClientSecretPost)["tokenEndpoint"]
            .as_str()
            .unwrap()
            .starts_with("http://")
    );
    let a = agent(&emu);
    let body = form(&[
        ("client_id", "app_secret"),
        ("client_secret", emu.client_secret()),
        ("grant_type", "client_credentials"),
        ("scope", PAM),
    ]);
    assert_eq!(
        post_form(&a, &emu.token_endpoint(), &body, None).status,
        200
    );
    assert!(
        a.get(&format!("{}/health", emu.https_base_url()))
            .call()
            .is_err(),
        "no TLS served"
    );
    let lines = std::fs::read_to_string(&log).unwrap();
    let first: serde_json::Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
    assert_eq!(first["path"], "/api/v2/iauths_system/oauth2/token");
    assert_eq!(first["status"], 200);
    drop(emu);

    // User-supplied TLS files.
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let mut p = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    p.subject_alt_names
        .push(rcgen::SanType::IpAddress("127.0.0.1".parse().unwrap()));
    let cert = p.signed_by(&key, &ca, &ca_key).unwrap();
    let (cf, kf, caf) = (
        dir.join("cert.pem"),
        dir.join("key.pem"),
        dir.join("ca.pem"),
    );
    std::fs::write(&cf, cert.pem()).unwrap();
    std::fs::write(&kf, key.serialize_pem()).unwrap();
    std::fs::write(&caf, ca.pem()).unwrap();
    let emu = idaas_emulator::start(idaas_emulator::EmulatorOptions {
        tls_files: Some(idaas_emulator::TlsFiles {
            cert: cf,
            key: kf.clone(),
            ca: Some(caf),
        }),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(emu.ca_cert_pem(), ca.pem());
    let a = agent(&emu);
    assert_eq!(
        a.get(&format!("{}/health", emu.https_base_url()))
            .call()
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    drop(emu);
    // A missing file is an error naming the option.
    let e = idaas_emulator::start(idaas_emulator::EmulatorOptions {
        tls_files: Some(idaas_emulator::TlsFiles {
            cert: dir.join("nope.pem"),
            key: kf,
            ca: None,
        }),
        ..Default::default()
    })
    .unwrap_err();
    assert!(e.to_string().contains("tls_files.cert"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn odd_authorization_headers_do_not_break_the_server() {
    let emu = Emulator::start_default();
    for h in [
        "Basicé",
        "Bearer",
        "B\u{e9}arer x",
        "Basic !!!",
        "Basic ",
        "Bearer é",
    ] {
        let req = format!("POST /api/v2/iauths_system/oauth2/token HTTP/1.1\r\nAuthorization: {h}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 29\r\nConnection: close\r\n\r\ngrant_type=client_credentials");
        let r = raw(&emu, req.as_bytes());
        assert!(
            r.starts_with("HTTP/1.1 401") || r.starts_with("HTTP/1.1 400"),
            "{h}: {r}"
        );
        let req = format!("GET /v2/{}/credentials/_/actions/obtain?credentialIdentifier=x HTTP/1.1\r\nAuthorization: {h}\r\nx-acs-version: 2022-02-25\r\nx-acs-action: ObtainCredential\r\nConnection: close\r\n\r\n", emu.instance_id());
        assert!(raw(&emu, req.as_bytes()).starts_with("HTTP/1.1 401"), "{h}");
    }
}

/// The request log reads the same whatever is shared between the requests of one keep-alive
/// connection: every entry has its own header values (names lower-cased, in order), body, decoded
/// form and parsed JSON.
#[test]
fn request_log_entries_of_one_keep_alive_connection() {
    let emu = Emulator::start_default();
    let s = TcpStream::connect(emu.local_addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    let reqs = [
        "GET /health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer one\r\nX-Seq: 1\r\n\r\n".to_string(),
        "GET /health?a=b HTTP/1.1\r\nX-Seq: 2\r\nHost: x\r\nAuthorization: Bearer one\r\n\r\n".to_string(),
        "POST /health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer two\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n{\"k\":[1]}".to_string(),
        "POST /health HTTP/1.1\r\nHost: x\r\nContent-Type: Application/X-WWW-Form-Urlencoded\r\nContent-Length: 7\r\n\r\na=1&b=%".to_string(),
        "POST /health HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 9\r\n\r\na=1&b=x+y".to_string(),
    ];
    for q in &reqs {
        w.write_all(q.as_bytes()).unwrap();
        read_response(&mut r);
    }
    let log = emu.requests();
    assert_eq!(log.len(), reqs.len());
    let h = |i: usize| -> Vec<(String, String)> { log[i].headers.clone() };
    let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    assert_eq!(
        h(0),
        pairs(&[
            ("host", "x"),
            ("authorization", "Bearer one"),
            ("x-seq", "1")
        ])
    );
    assert_eq!(
        h(1),
        pairs(&[
            ("x-seq", "2"),
            ("host", "x"),
            ("authorization", "Bearer one")
        ])
    );
    assert_eq!(log[1].query.as_deref(), Some("a=b"));
    assert_eq!(log[2].header("Authorization"), Some("Bearer two"));
    assert_eq!(log[2].json, Some(serde_json::json!({"k": [1]})));
    assert_eq!(log[2].body, "{\"k\":[1]}");
    assert!(log[2].form.is_empty());
    // A malformed form body decodes to nothing; a good one to its pairs.
    assert!(log[3].form.is_empty());
    assert_eq!(log[3].body, "a=1&b=%");
    assert_eq!(log[4].form_param("b"), Some("x y"));
    assert!(log[4].json.is_none());
    assert!(log.iter().all(|e| e.status == 200 && !e.tls));
    let ids: std::collections::HashSet<_> = log.iter().map(|e| e.request_id.clone()).collect();
    assert_eq!(ids.len(), reqs.len());
}
