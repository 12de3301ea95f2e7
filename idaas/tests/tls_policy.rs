//! TLS policy: https is enforced except for loopback hosts, certificate verification cannot be
//! turned off through configuration, and a wrong CA, an expired certificate and a wrong host name
//! each fail with a clear TLS error before any HTTP request reaches the server. The emulator is
//! started with certificates generated here (rcgen); a valid certificate from the same CA is the
//! positive control. Loopback only.

mod common;

use common::*;
use idaas::internals::check_url;
use idaas::internals::HttpClient;
use idaas::internals::HttpRequest;
use idaas::internals::Method;
use idaas::pam::PamClient;
use idaas::Config;
use idaas::HttpOptions;
use idaas::ManualClock;
use idaas::StaticProvider;
use idaas::{Client, ErrorKind};
use idaas_emulator::{Emulator, EmulatorOptions, TlsFiles, TOKEN_PATH};
use rcgen::{date_time_ymd, BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
use serde_json::json;
use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::time::Duration;

struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

fn ca(name: &str) -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    Ca {
        cert: p.self_signed(&key).unwrap(),
        key,
    }
}

/// A server certificate for `names` (DNS names; IP literals become IP SANs) issued by `ca`.
fn leaf(ca: &Ca, names: &[&str], expired: bool) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, names[0]);
    for n in names {
        p.subject_alt_names.push(match n.parse::<IpAddr>() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => SanType::DnsName((*n).try_into().unwrap()),
        });
    }
    if expired {
        p.not_before = date_time_ymd(2020, 1, 1);
        p.not_after = date_time_ymd(2021, 1, 1);
    }
    let cert = p.signed_by(&key, &ca.cert, &ca.key).unwrap();
    (cert.pem(), key.serialize_pem())
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("idaas-tls-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// An emulator serving `cert`/`key`, reporting `ca` as its CA.
fn emulator_with(tag: &str, ca: &Ca, cert_key: (String, String)) -> Emulator {
    let d = tmpdir(tag);
    let files = TlsFiles {
        cert: write(&d, "cert.pem", &cert_key.0),
        key: write(&d, "key.pem", &cert_key.1),
        ca: Some(write(&d, "ca.pem", &ca.cert.pem())),
    };
    idaas_emulator::start(EmulatorOptions {
        tls_files: Some(files),
        ..EmulatorOptions::default()
    })
    .unwrap()
}

fn token_client(emu: &Emulator, tweak: impl FnOnce(&mut serde_json::Value)) -> Client {
    let clock = ManualClock::starting_now();
    builder(config_with(emu, tweak), &clock).build().unwrap()
}

fn assert_tls_error(e: &idaas::Error, hint: &[&str]) {
    assert_eq!(e.kind(), ErrorKind::Transport, "{e:?}");
    assert_eq!(e.code(), "TlsError", "{e:?}");
    let text = e.to_string();
    eprintln!("TLS error: {text}");
    assert!(
        hint.iter()
            .any(|h| text.to_lowercase().contains(&h.to_lowercase())),
        "TLS error should say why ({hint:?}): {text}"
    );
}

#[test]
fn valid_certificate_from_our_ca_is_accepted() {
    let ca = ca("idaas test CA");
    let emu = emulator_with("valid", &ca, leaf(&ca, &["127.0.0.1", "localhost"], false));
    let c = token_client(&emu, |_| {});
    assert!(!c.bearer_token().unwrap().is_empty());
    assert!(emu.requests().iter().all(|r| r.tls), "served over TLS");
}

#[test]
fn wrong_ca_is_refused_before_any_request() {
    let emu = Emulator::start_default(); // its own generated CA
    let other = ca("some other CA");
    let d = tmpdir("wrongca");
    let other_path = write(&d, "other-ca.pem", &other.cert.pem());
    let c = token_client(&emu, |v| {
        v["httpConfiguration"]["caCertificatePath"] = json!(other_path.to_string_lossy());
    });
    let e = c.bearer_token().unwrap_err();
    assert_tls_error(&e, &["UnknownIssuer", "unknown issuer", "certificate"]);
    assert_eq!(emu.requests().len(), 0, "no HTTP request got through");
    // No extra CA at all (system roots only): refused as well.
    let c = token_client(&emu, |v| {
        v["httpConfiguration"]
            .as_object_mut()
            .unwrap()
            .remove("caCertificatePath");
    });
    assert_tls_error(
        &c.bearer_token().unwrap_err(),
        &["UnknownIssuer", "unknown issuer"],
    );
    assert_eq!(emu.requests().len(), 0);
}

#[test]
fn expired_certificate_is_refused() {
    let ca = ca("idaas test CA");
    let emu = emulator_with("expired", &ca, leaf(&ca, &["127.0.0.1", "localhost"], true));
    let c = token_client(&emu, |_| {});
    let e = c.bearer_token().unwrap_err();
    assert_tls_error(&e, &["expired", "NotValidYet", "Expired"]);
    assert_eq!(emu.requests().len(), 0);
}

#[test]
fn wrong_host_name_is_refused() {
    let ca = ca("idaas test CA");
    let emu = emulator_with("wronghost", &ca, leaf(&ca, &["idaas.example.com"], false));
    let c = token_client(&emu, |_| {}); // connects to https://127.0.0.1:PORT
    let e = c.bearer_token().unwrap_err();
    assert_tls_error(&e, &["NotValidForName", "not valid for name", "name"]);
    assert_eq!(emu.requests().len(), 0);
    // Same through `localhost`.
    let port = emu.local_addr().port();
    let c = token_client(&emu, |v| {
        v["tokenEndpoint"] = json!(format!("https://localhost:{port}{TOKEN_PATH}"));
    });
    assert_tls_error(&c.bearer_token().unwrap_err(), &["NotValidForName", "name"]);
}

/// The Developer API client applies the same verification (its own default HTTP client: system
/// roots only) — a private-CA server is refused.
#[test]
fn developer_api_client_verifies_certificates_too() {
    let emu = Emulator::start_default();
    let pam = PamClient::builder()
        .endpoint(format!("127.0.0.1:{}", emu.local_addr().port()))
        .instance_id(emu.instance_id())
        .provider(StaticProvider::from_token("t").shared())
        .build()
        .unwrap();
    let e = pam.get_api_key("openai_prod_key").unwrap_err();
    assert_tls_error(&e, &["UnknownIssuer", "unknown issuer"]);
    assert_eq!(emu.requests().len(), 0);
}

#[test]
fn unsafe_ignore_ssl_cert_is_rejected_not_honoured() {
    let emu = Emulator::start_default();
    for key in [
        "unsafeIgnoreSslCert",
        "unsafeIgnoreSSLCert",
        "unsafe_ignore_ssl_cert",
    ] {
        let mut v = emu.client_config(idaas_emulator::AuthMethod::ClientSecretPost);
        v["httpConfiguration"][key] = json!(true);
        let e = Config::from_json_value(&v).unwrap_err();
        assert_eq!(
            (e.kind(), e.code()),
            (ErrorKind::Config, "UnsafeIgnoreSslCertNotSupported"),
            "{key}"
        );
        assert!(
            e.message().contains("caCertificatePath"),
            "says what to do instead: {e}"
        );
        // `false` is accepted and changes nothing.
        v["httpConfiguration"][key] = json!(false);
        assert!(
            !Config::from_json_value(&v)
                .unwrap()
                .http
                .unsafe_ignore_ssl_cert
        );
    }
    // Programmatic configs cannot switch it on either.
    let e = Config::builder()
        .idaas_instance_id("idaas_x")
        .client_id("app_x")
        .issuer("https://idaas.example.com/oauth2")
        .token_endpoint("https://idaas.example.com/oauth2/token")
        .client_secret(idaas::SecretString::new("s"))
        .unsafe_ignore_ssl_cert(true)
        .build()
        .unwrap_err();
    assert_eq!(e.code(), "UnsafeIgnoreSslCertNotSupported");
}

/// Plain http only to loopback. `[::ffff:127.0.0.1]` *is* loopback on the wire but not by the
/// textual rule, so a listener there proves the refusal happens before any connection.
#[test]
fn plain_http_to_non_loopback_is_refused_before_connecting() {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let http = HttpClient::new(HttpOptions::default()).unwrap();
    for url in [
        format!("http://[::ffff:127.0.0.1]:{port}/token"),
        format!("http://0.0.0.0:{port}/token"),
        format!("http://localhost:x@127.0.0.1:{port}/token"),
        format!("ftp://127.0.0.1:{port}/token"),
    ] {
        let e = http
            .send(HttpRequest {
                method: Method::Post,
                url: &url,
                headers: vec![],
                body: Some(b"client_secret=s3cr3t".to_vec()),
            })
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{url}: {e:?}");
        assert!(!e.to_string().contains("s3cr3t"));
        assert!(check_url(&url).is_err());
    }
    // Names are refused by the same rule without any lookup (checked without sending anything).
    for url in [
        "http://127.0.0.1.nip.io/token",
        "http://idaas.example.com/token",
        "http://localhost.evil.example/x",
    ] {
        assert!(check_url(url).is_err(), "{url}");
    }
    std::thread::sleep(Duration::from_millis(50));
    assert!(listener.accept().is_err(), "a connection was attempted");
    // Loopback http is allowed (the emulator without TLS) ...
    assert!(check_url("http://127.0.0.1:1/x").is_ok());
    assert!(check_url("http://[::1]:1/x").is_ok());
    assert!(check_url("http://localhost:1/x").is_ok());
    assert!(
        check_url("HTTP://127.0.0.1:1/x").is_ok(),
        "schemes are case-insensitive"
    );
    // ... and configured http:// endpoints to other hosts become https (D-6).
    let emu = Emulator::start_default();
    let mut v = emu.client_config(idaas_emulator::AuthMethod::ClientSecretPost);
    v["tokenEndpoint"] = json!("http://idaas.example.com/api/v2/iauths_system/oauth2/token");
    v["issuer"] = json!("idaas.example.com/api/v2/iauths_system/oauth2");
    let cfg = Config::from_json_value(&v).unwrap();
    assert_eq!(
        cfg.token_endpoint,
        "https://idaas.example.com/api/v2/iauths_system/oauth2/token"
    );
    assert!(cfg.issuer.starts_with("https://"));
    // A PAM endpoint with http:// to a non-loopback host is used as https.
    let pam = PamClient::builder()
        .endpoint("http://idaas.example.com")
        .instance_id("idaas_x")
        .provider(StaticProvider::from_token("t").shared())
        .build()
        .unwrap();
    assert_eq!(pam.endpoint(), "https://idaas.example.com");
}
