//! Token-endpoint protocol and cache behaviour against a scripted loopback server (tests/core_mock):
//! exact bytes on the wire, retries, error mapping, secret re-reading, assertions, and the cache
//! driven by a ManualClock (no sleeps for time).

#[allow(dead_code)]
mod core_mock;

use base64::Engine;
use core_mock::{MockServer, Recorded, Reply};
use idaas::AuthnMethod;
use idaas::CachePolicy;
use idaas::Clock;
use idaas::Config;
use idaas::ConfigBuilder;
use idaas::ManualClock;
use idaas::RetryPolicy;
use idaas::TokenExchangeRequest;
use idaas::TOKEN_TYPE_ID_TOKEN;
use idaas::TOKEN_TYPE_JWT;
use idaas::{Client, ClientBuilder, ErrorKind, SecretString};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const T0: u64 = 1_760_000_000_000;

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
    }
}

fn cfg(server: &MockServer, method: AuthnMethod) -> ConfigBuilder {
    Config::builder()
        .idaas_instance_id("idaas_abc")
        .client_id("app_abc")
        .issuer("https://issuer.example")
        .token_endpoint(server.url("/api/v2/iauths_system/oauth2/token"))
        .scope("api.example.com|read:file api.example.com|write:file")
        .authn_method(method)
}

fn client(c: ConfigBuilder, clock: Arc<ManualClock>) -> Client {
    client_builder(c, clock).build().unwrap()
}

/// The builder behind [`client`]: manual clock, fast retries, no jitter.
fn client_builder(c: ConfigBuilder, clock: Arc<ManualClock>) -> ClientBuilder {
    Client::builder(c.build().unwrap())
        .clock(clock)
        .retry_policy(fast_retry())
        .cache_policy(CachePolicy {
            jitter: false,
            ..CachePolicy::default()
        })
}

/// A server issuing tokens `tok-<n>` valid `lifetime` seconds by `clock`.
fn token_server(clock: Arc<ManualClock>, lifetime: u64) -> MockServer {
    MockServer::start(move |_, i| Reply::token(&format!("tok-{i}"), lifetime, clock.now_secs()))
}

#[test]
fn client_secret_post_exact_bytes() {
    let clock = ManualClock::new(T0);
    let s = token_server(clock.clone(), 1200);
    let c = client(
        cfg(&s, AuthnMethod::ClientSecretPost)
            .client_secret(SecretString::new("s3cr3t:with/special+chars")),
        clock,
    );
    assert_eq!(c.bearer_token().unwrap().expose(), "tok-0");
    let r = &s.recorded()[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/api/v2/iauths_system/oauth2/token");
    assert_eq!(
        r.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(r.header("authorization"), None);
    assert_eq!(r.header("accept"), None);
    assert!(r.header("user-agent").unwrap().starts_with("IDaaS core/"));
    assert_eq!(r.body, "client_id=app_abc&client_secret=s3cr3t%3Awith%2Fspecial%2Bchars&grant_type=client_credentials&scope=api.example.com%7Cread%3Afile+api.example.com%7Cwrite%3Afile");
    assert_eq!(r.header("content-length"), Some("160"));
}

#[test]
fn client_secret_basic_exact_bytes() {
    let clock = ManualClock::new(T0);
    let s = token_server(clock.clone(), 1200);
    let c = client(
        cfg(&s, AuthnMethod::ClientSecretBasic)
            .client_secret(SecretString::new("s3cr3t:with/special+chars")),
        clock,
    );
    c.bearer_token().unwrap();
    let r = &s.recorded()[0];
    assert_eq!(
        r.header("authorization"),
        Some("Basic YXBwX2FiYzpzM2NyM3Q6d2l0aC9zcGVjaWFsK2NoYXJz")
    );
    assert_eq!(r.body, "client_id=app_abc&grant_type=client_credentials&scope=api.example.com%7Cread%3Afile+api.example.com%7Cwrite%3Afile");
}

#[test]
fn user_agent_suffix() {
    let clock = ManualClock::new(T0);
    let s = token_server(clock.clone(), 1200);
    let c = Client::builder(
        cfg(&s, AuthnMethod::ClientSecretPost)
            .client_secret(SecretString::new("x"))
            .build()
            .unwrap(),
    )
    .user_agent_suffix("Go/1.22")
    .build()
    .unwrap();
    c.bearer_token().unwrap();
    let ua = s.recorded()[0].header("user-agent").unwrap().to_string();
    assert!(
        ua.starts_with("IDaaS core/") && ua.ends_with(") Go/1.22"),
        "{ua}"
    );
}

#[test]
fn client_secret_is_read_at_every_request() {
    let var = "IDAAS_CORE_TEST_SECRET_ROTATION";
    std::env::set_var(var, "first-secret");
    let s = MockServer::start(|_, i| Reply::json(200, &format!(r#"{{"access_token":"t{i}"}}"#)));
    let c = Client::builder(
        cfg(&s, AuthnMethod::ClientSecretPost)
            .client_secret_env_var_name(var)
            .build()
            .unwrap(),
    )
    .retry_policy(RetryPolicy::none())
    .build()
    .unwrap();
    // No expiry in the reply (D-11): not cached, so every call fetches.
    assert_eq!(c.bearer_token().unwrap().expose(), "t0");
    std::env::set_var(var, "second-secret");
    assert_eq!(c.bearer_token().unwrap().expose(), "t1");
    let r = s.recorded();
    assert!(r[0].body.contains("client_secret=first-secret"));
    assert!(r[1].body.contains("client_secret=second-secret"));
    std::env::remove_var(var);
    let e = c.bearer_token().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Credential);
    assert_eq!(
        e.message(),
        format!("authnConfiguration.clientSecretEnvVarName: environment variable {var} is not set")
    );
    assert_eq!(s.count(), 2, "no request without a secret");
}

#[test]
fn retries_on_5xx_then_succeeds() {
    let clock = ManualClock::new(T0);
    let c2 = clock.clone();
    let s = MockServer::start(move |_, i| {
        if i < 2 {
            Reply::json(503, r#"{"error":"unavailable"}"#)
        } else {
            Reply::token("ok", 1200, c2.now_secs())
        }
    });
    let c = client(
        cfg(&s, AuthnMethod::ClientSecretPost).client_secret("x".into()),
        clock,
    );
    assert_eq!(c.bearer_token().unwrap().expose(), "ok");
    assert_eq!(s.count(), 3);
}

#[test]
fn retries_exhausted_reports_server_error() {
    let s = MockServer::start(|_, _| {
        Reply::json(
            500,
            r#"{"Code":"InternalError","Message":"oops","RequestId":"RID-5"}"#,
        )
    });
    let c = client(
        cfg(&s, AuthnMethod::ClientSecretPost).client_secret("x".into()),
        ManualClock::new(T0),
    );
    let e = c.bearer_token().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Server);
    assert_eq!(
        (e.code(), e.message(), e.request_id(), e.http_status()),
        ("InternalError", "oops", Some("RID-5"), Some(500))
    );
    assert_eq!(s.count(), 3, "at most 3 attempts");
}

#[test]
fn no_retry_on_4xx_and_error_fields() {
    let s = MockServer::start(|_, _| {
        Reply::json(
            401,
            r#"{"error":"invalid_client","error_description":"client authentication failed","request_id":"5F1C"}"#,
        )
    });
    let c = client(
        cfg(&s, AuthnMethod::ClientSecretPost).client_secret("x".into()),
        ManualClock::new(T0),
    );
    let e = c.bearer_token().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert_eq!(e.code(), "invalid_client");
    assert_eq!(e.message(), "client authentication failed");
    assert_eq!(e.request_id(), Some("5F1C"));
    assert_eq!(e.http_status(), Some(401));
    assert_eq!(s.count(), 1);
}

#[test]
fn retry_after_on_429_is_honoured() {
    let clock = ManualClock::new(T0);
    let c2 = clock.clone();
    let s = MockServer::start(move |_, i| {
        if i == 0 {
            Reply::json(429, r#"{"error":"throttled"}"#).header("Retry-After", "0")
        } else {
            Reply::token("ok", 1200, c2.now_secs())
        }
    });
    let c = client(
        cfg(&s, AuthnMethod::ClientSecretPost).client_secret("x".into()),
        clock,
    );
    assert_eq!(c.bearer_token().unwrap().expose(), "ok");
    assert_eq!(s.count(), 2);
}

#[test]
fn redirect_is_not_followed() {
    let s = MockServer::start(|_, _| {
        Reply::json(302, "").header("Location", "https://elsewhere.example/token")
    });
    let c = client(
        cfg(&s, AuthnMethod::ClientSecretPost).client_secret("x".into()),
        ManualClock::new(T0),
    );
    let e = c.bearer_token().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnexpectedResponse);
    assert_eq!(e.code(), "302");
    assert!(
        e.message()
            .contains("Redirect to: https://elsewhere.example/token"),
        "{e}"
    );
    assert_eq!(s.count(), 1);
}

#[test]
fn non_json_error_body() {
    let s = MockServer::start(|_, _| Reply::json(404, "Not Found here"));
    let c = client(
        cfg(&s, AuthnMethod::ClientSecretPost).client_secret("x".into()),
        ManualClock::new(T0),
    );
    let e = c.bearer_token().unwrap_err();
    assert_eq!((e.code(), e.message()), ("404", "Not Found here"));
}

#[test]
fn non_json_success_body() {
    let s = MockServer::start(|_, _| Reply::json(200, "<html>"));
    let c = client(
        cfg(&s, AuthnMethod::ClientSecretPost).client_secret("x".into()),
        ManualClock::new(T0),
    );
    assert_eq!(
        c.bearer_token().unwrap_err().kind(),
        ErrorKind::UnexpectedResponse
    );
}

#[test]
fn connection_refused_is_transport_error() {
    let s = MockServer::start(|_, _| Reply::json(200, "{}"));
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c = Client::builder(
        cfg(&s, AuthnMethod::ClientSecretPost)
            .token_endpoint(format!("http://127.0.0.1:{port}/token"))
            .client_secret("x".into())
            .build()
            .unwrap(),
    )
    .retry_policy(RetryPolicy::none())
    .build()
    .unwrap();
    let e = c.bearer_token().unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Transport | ErrorKind::Timeout),
        "{e:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Assertions: every key format signs verifiable JWTs with the right alg.

fn key(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../emulator/fixtures/keys/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn form_value(body: &str, name: &str) -> Option<String> {
    body.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| {
            let v = v.replace('+', " ");
            let mut out = Vec::new();
            let b = v.as_bytes();
            let mut i = 0;
            while i < b.len() {
                if b[i] == b'%' {
                    out.push(
                        u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap(), 16)
                            .unwrap(),
                    );
                    i += 3;
                } else {
                    out.push(b[i]);
                    i += 1;
                }
            }
            String::from_utf8(out).unwrap()
        })
    })
}

fn b64d(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap()
}

fn check_assertion(r: &Recorded, endpoint: &str, alg: &str, verify: &dyn Fn(&[u8], &[u8])) {
    assert_eq!(
        form_value(&r.body, "client_assertion_type").as_deref(),
        Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    );
    let jwt = form_value(&r.body, "client_assertion").unwrap();
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3);
    assert_eq!(
        String::from_utf8(b64d(parts[0])).unwrap(),
        format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#)
    );
    let claims: serde_json::Value = serde_json::from_slice(&b64d(parts[1])).unwrap();
    assert_eq!(claims["aud"], endpoint);
    assert_eq!(claims["iss"], "app_abc");
    assert_eq!(claims["sub"], "app_abc");
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        600
    );
    assert_eq!(claims["iat"].as_u64().unwrap(), T0 / 1000);
    let jti = claims["jti"].as_str().unwrap();
    assert_eq!(jti.len(), 36);
    assert_eq!(&jti[14..15], "4", "uuid v4");
    let keys: Vec<&str> = claims
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(keys.len(), 6);
    assert!(form_value(&r.body, "client_secret").is_none());
    verify(
        format!("{}.{}", parts[0], parts[1]).as_bytes(),
        &b64d(parts[2]),
    );
}

#[test]
fn private_key_jwt_with_every_key_format() {
    use ring::signature as sig;
    for (file, alg) in [
        ("rsa2048_pkcs1.pem", "RS256"),
        ("rsa2048_pkcs8.pem", "RS256"),
        ("rsa3072_pkcs8.pem", "RS384"),
        ("rsa4096_pkcs8.pem", "RS512"),
        ("ec256_sec1.pem", "ES256"),
        ("ec256_pkcs8.pem", "ES256"),
        ("ec384_sec1.pem", "ES384"),
        ("ec384_pkcs8.pem", "ES384"),
    ] {
        let clock = ManualClock::new(T0);
        let s = token_server(clock.clone(), 1200);
        let pem = key(file);
        let pk = idaas::internals::auth::PrivateKey::from_pem(&pem)
            .unwrap()
            .public_key_bytes();
        let c = client(
            cfg(&s, AuthnMethod::PrivateKeyJwt).private_key_pem(SecretString::new(pem)),
            clock,
        );
        c.bearer_token().unwrap_or_else(|e| panic!("{file}: {e}"));
        let r = &s.recorded()[0];
        assert!(
            r.body
                .starts_with("client_id=app_abc&client_assertion_type="),
            "{}",
            r.body
        );
        assert!(r.body.ends_with("&grant_type=client_credentials&scope=api.example.com%7Cread%3Afile+api.example.com%7Cwrite%3Afile"));
        let ver: &'static dyn sig::VerificationAlgorithm = match alg {
            "RS256" => &sig::RSA_PKCS1_2048_8192_SHA256,
            "RS384" => &sig::RSA_PKCS1_2048_8192_SHA384,
            "RS512" => &sig::RSA_PKCS1_2048_8192_SHA512,
            "ES256" => &sig::ECDSA_P256_SHA256_FIXED,
            _ => &sig::ECDSA_P384_SHA384_FIXED,
        };
        check_assertion(
            r,
            &s.url("/api/v2/iauths_system/oauth2/token"),
            alg,
            &|msg, sg| {
                sig::UnparsedPublicKey::new(ver, &pk)
                    .verify(msg, sg)
                    .unwrap_or_else(|_| panic!("{file}: bad signature"))
            },
        );
    }
}

#[test]
fn private_key_from_env_var_read_once_and_errors() {
    let var = "IDAAS_CORE_TEST_PK_ONCE";
    std::env::set_var(var, key("ec256_pkcs8.pem"));
    let clock = ManualClock::new(T0);
    let s = token_server(clock.clone(), 1);
    let c = client(
        cfg(&s, AuthnMethod::PrivateKeyJwt).private_key_env_var_name(var),
        clock.clone(),
    );
    c.bearer_token().unwrap();
    std::env::set_var(var, "garbage");
    clock.advance_secs(5);
    c.bearer_token().unwrap(); // key was read once, at provider creation
    assert_eq!(s.count(), 2);
    std::env::remove_var(var);

    let var2 = "IDAAS_CORE_TEST_PK_ENCRYPTED";
    std::env::set_var(var2, key("rsa2048_encrypted.pem"));
    let c = client(
        cfg(&s, AuthnMethod::PrivateKeyJwt).private_key_env_var_name(var2),
        ManualClock::new(T0),
    );
    let e = c.bearer_token().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Credential);
    assert!(e.message().contains("encrypted"), "{e}");
    assert!(e.message().contains(var2), "{e}");
    let var3 = "IDAAS_CORE_TEST_PK_UNSET";
    let c = client(
        cfg(&s, AuthnMethod::PrivateKeyJwt).private_key_env_var_name(var3),
        ManualClock::new(T0),
    );
    let e = c.bearer_token().unwrap_err();
    assert_eq!(
        e.message(),
        format!("authnConfiguration.privateKeyEnvVarName: environment variable {var3} is not set")
    );
    assert_eq!(s.count(), 2, "no request without a key");
}

#[test]
fn client_secret_jwt_hs256() {
    let clock = ManualClock::new(T0);
    let s = token_server(clock.clone(), 1200);
    let c = client(
        cfg(&s, AuthnMethod::ClientSecretJwt).client_secret("short".into()),
        clock,
    );
    c.bearer_token().unwrap();
    check_assertion(
        &s.recorded()[0],
        &s.url("/api/v2/iauths_system/oauth2/token"),
        "HS256",
        &|msg, sg| {
            let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"short");
            ring::hmac::verify(&k, msg, sg).unwrap();
        },
    );
}

#[test]
fn pca_form() {
    let clock = ManualClock::new(T0);
    let s = token_server(clock.clone(), 1200);
    let cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
    let chain = "-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nBBB\n-----END CERTIFICATE-----";
    let c = client(
        cfg(&s, AuthnMethod::Pca)
            .application_federated_credential_name("fed_pca")
            .client_x509_certificate(cert)
            .x509_cert_chains(chain)
            .private_key_pem(SecretString::new(key("ec256_sec1.pem"))),
        clock,
    );
    c.bearer_token().unwrap();
    let b = &s.recorded()[0].body;
    let names: Vec<&str> = b
        .split('&')
        .map(|kv| kv.split('=').next().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "client_id",
            "application_federated_credential_name",
            "client_assertion_type",
            "client_assertion",
            "client_x509",
            "client_x509_chain",
            "grant_type",
            "scope"
        ]
    );
    assert!(
        b.contains("&client_x509=-----BEGIN+CERTIFICATE-----%0AMIIB%0A-----END+CERTIFICATE-----&")
    );
    assert_eq!(form_value(b, "client_x509_chain").unwrap(), chain);
    assert_eq!(
        form_value(b, "client_assertion_type").unwrap(),
        "urn:cloud:idaas:params:oauth:client-assertion-type:x509-jwt-bearer"
    );
}

#[test]
fn oidc_file_form_and_reread() {
    let dir = std::env::temp_dir().join(format!("idaas-core-oidc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("token");
    let jwt = |exp: u64| {
        format!(
            "{}.{}.sig\n",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256"}"#),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(
                r#"{{"sub":"system:serviceaccount:x","exp":{exp}}}"#
            ))
        )
    };
    std::fs::write(&file, jwt(T0 / 1000 + 3600)).unwrap();
    let clock = ManualClock::new(T0);
    let s = token_server(clock.clone(), 60);
    let c = client(
        cfg(&s, AuthnMethod::Oidc)
            .application_federated_credential_name("fed_k8s")
            .client_deploy_environment(idaas::DeployEnvironment::Kubernetes)
            .oidc_token_file_path(file.to_string_lossy()),
        clock.clone(),
    );
    c.bearer_token().unwrap();
    let b = s.recorded()[0].body.clone();
    let names: Vec<&str> = b
        .split('&')
        .map(|kv| kv.split('=').next().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "client_id",
            "application_federated_credential_name",
            "client_assertion_type",
            "client_assertion",
            "grant_type",
            "scope"
        ]
    );
    assert_eq!(
        form_value(&b, "client_assertion").unwrap(),
        jwt(T0 / 1000 + 3600).trim_end(),
        "D-14: trailing newline stripped"
    );
    // The file changes; the cached OIDC token (exp far away) is still used for the next refresh.
    std::fs::write(&file, jwt(T0 / 1000 + 7200)).unwrap();
    clock.advance_secs(61);
    c.bearer_token().unwrap();
    assert_eq!(
        form_value(&s.recorded()[1].body, "client_assertion").unwrap(),
        jwt(T0 / 1000 + 3600).trim_end()
    );
    // Within 600 s of its exp the file is re-read.
    clock.advance_secs(3000);
    c.bearer_token().unwrap();
    assert_eq!(
        form_value(&s.recorded()[2].body, "client_assertion").unwrap(),
        jwt(T0 / 1000 + 7200).trim_end()
    );
    // Missing file
    std::fs::remove_file(&file).unwrap();
    let c = client(
        cfg(&s, AuthnMethod::Oidc)
            .application_federated_credential_name("fed_k8s")
            .client_deploy_environment(idaas::DeployEnvironment::Kubernetes)
            .oidc_token_file_path(file.to_string_lossy()),
        ManualClock::new(T0),
    );
    let e = c.bearer_token().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Credential);
    assert!(e.message().contains("File does not exist"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Token exchange

#[test]
fn token_exchange_default_and_custom_types() {
    let s = MockServer::start(|_, i| {
        Reply::json(
            200,
            &format!(
                r#"{{"access_token":"x{i}","issued_token_type":"urn:ietf:params:oauth:token-type:access_token","token_type":"Bearer","expires_in":600}}"#
            ),
        )
    });
    let c = client(
        cfg(&s, AuthnMethod::ClientSecretPost).client_secret("s3cr3t".into()),
        ManualClock::new(T0),
    );
    let cred = c
        .exchange_token(&TokenExchangeRequest::for_access_token(
            "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyMSJ9.c2ln",
        ))
        .unwrap();
    assert_eq!(cred.access_token.expose(), "x0");
    assert_eq!(
        cred.issued_token_type.as_deref(),
        Some("urn:ietf:params:oauth:token-type:access_token")
    );
    assert_eq!(cred.expires_at, T0 / 1000 + 600);
    assert_eq!(s.recorded()[0].body, "client_id=app_abc&client_secret=s3cr3t&grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&subject_token=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyMSJ9.c2ln&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token&requested_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token&scope=api.example.com%7Cread%3Afile+api.example.com%7Cwrite%3Afile");
    // never cached
    c.exchange_token(&TokenExchangeRequest::for_access_token("a"))
        .unwrap();
    assert_eq!(s.count(), 2);
    // custom types, scope and actor
    let req = TokenExchangeRequest::new("idt", TOKEN_TYPE_ID_TOKEN)
        .requested_token_type(TOKEN_TYPE_JWT)
        .scope("other|x")
        .actor("act", TOKEN_TYPE_JWT);
    c.exchange_token(&req).unwrap();
    let b = &s.recorded()[2].body;
    assert!(b.ends_with("&subject_token=idt&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aid_token&requested_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Ajwt&scope=other%7Cx&actor_token=act&actor_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Ajwt"), "{b}");
    // blank arguments → InvalidArgument, no request
    let e = c
        .exchange_token(&TokenExchangeRequest::for_access_token(" "))
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.message()),
        (ErrorKind::InvalidArgument, "subject_token is blank")
    );
    let e = c
        .exchange_token(&TokenExchangeRequest::new("t", ""))
        .unwrap_err();
    assert_eq!(e.message(), "subject_token_type is blank");
    assert_eq!(s.count(), 3);
}

#[test]
fn token_exchange_basic_auth() {
    let s = MockServer::start(|_, _| Reply::json(200, r#"{"access_token":"x","expires_in":600}"#));
    let c = client(
        cfg(&s, AuthnMethod::ClientSecretBasic).client_secret("sec".into()),
        ManualClock::new(T0),
    );
    c.exchange_token(&TokenExchangeRequest::for_jwt("j"))
        .unwrap();
    let r = &s.recorded()[0];
    assert!(r.header("authorization").unwrap().starts_with("Basic "));
    assert!(
        r.body
            .starts_with("client_id=app_abc&grant_type=urn%3Aietf"),
        "{}",
        r.body
    );
}

#[test]
fn token_exchange_not_for_plugin() {
    let c = Client::builder(
        Config::builder()
            .idaas_instance_id("i")
            .client_id("c")
            .issuer("https://i")
            .token_endpoint("https://t")
            .authn_method(AuthnMethod::Plugin)
            .plugin_name("p")
            .build()
            .unwrap(),
    )
    .plugin(
        "p",
        Arc::new(|_: &str| -> idaas::Result<idaas::Credential> { unreachable!() }),
    )
    .build()
    .unwrap();
    let e = c
        .exchange_token(&TokenExchangeRequest::for_jwt("j"))
        .unwrap_err();
    assert_eq!(e.code(), "UnsupportedAuthenticationMethod");
    assert!(e.message().contains("PLUGIN"));
}

// ---------------------------------------------------------------------------------------------
// Cache behaviour with a ManualClock

#[test]
fn single_flight_64_threads_at_expiry() {
    let clock = ManualClock::new(T0);
    let c2 = clock.clone();
    let s = MockServer::start(move |_, i| {
        std::thread::sleep(Duration::from_millis(50));
        Reply::token(&format!("tok-{i}"), 1200, c2.now_secs())
    });
    let c = client(
        cfg(&s, AuthnMethod::ClientSecretPost).client_secret("x".into()),
        clock.clone(),
    );
    assert_eq!(c.bearer_token().unwrap().expose(), "tok-0");
    clock.advance_secs(1200); // expired
    let barrier = Arc::new(std::sync::Barrier::new(64));
    let hs: Vec<_> = (0..64)
        .map(|_| {
            let c = c.clone();
            let b = barrier.clone();
            std::thread::spawn(move || {
                b.wait();
                c.bearer_token().unwrap().expose().to_string()
            })
        })
        .collect();
    for h in hs {
        assert_eq!(h.join().unwrap(), "tok-1");
    }
    assert_eq!(
        s.count(),
        2,
        "exactly one token request for 64 concurrent callers"
    );
}

#[test]
fn single_flight_shares_the_error() {
    let clock = ManualClock::new(T0);
    let s = MockServer::start(|_, _| {
        std::thread::sleep(Duration::from_millis(50));
        Reply::json(
            401,
            r#"{"error":"invalid_client","error_description":"nope"}"#,
        )
    });
    let c = client(
        cfg(&s, AuthnMethod::ClientSecretPost).client_secret("x".into()),
        clock,
    );
    let barrier = Arc::new(std::sync::Barrier::new(16));
    let hs: Vec<_> = (0..16)
        .map(|_| {
            let c = c.clone();
            let b = barrier.clone();
            std::thread::spawn(move || {
                b.wait();
                c.bearer_token().unwrap_err().code().to_string()
            })
        })
        .collect();
    for h in hs {
        assert_eq!(h.join().unwrap(), "invalid_client");
    }
    assert_eq!(s.count(), 1);
}

#[test]
fn prefetch_refreshes_before_stale() {
    let clock = ManualClock::new(T0);
    let s = token_server(clock.clone(), 1200);
    // In-caller refresh (`async_refresh(false)`), so the refresh is observable in this thread; the
    // default background refresh is tested below.
    let c = client_builder(
        cfg(&s, AuthnMethod::ClientSecretPost).client_secret("x".into()),
        clock.clone(),
    )
    .async_refresh(false)
    .build()
    .unwrap();
    let p = c.default_cached_provider().unwrap();
    assert_eq!(c.bearer_token().unwrap().expose(), "tok-0");
    let t = p.cache().times().unwrap();
    assert_eq!((t.prefetch_at_ms - T0) / 1000, 800);
    assert_eq!((t.stale_at_ms - T0) / 1000, 960);
    clock.advance_secs(799);
    assert_eq!(c.bearer_token().unwrap().expose(), "tok-0");
    assert_eq!(s.count(), 1);
    clock.advance_secs(2); // 801 s: prefetch window, well before stale (960 s)
    assert_eq!(c.bearer_token().unwrap().expose(), "tok-1");
    assert_eq!(s.count(), 2);
    assert_eq!(c.bearer_token().unwrap().expose(), "tok-1");
    assert_eq!(s.count(), 2);
}

#[test]
fn async_prefetch_serves_cached_and_refreshes_in_background() {
    let clock = ManualClock::new(T0);
    let c2 = clock.clone();
    let gate = Arc::new(AtomicBool::new(false));
    let g2 = gate.clone();
    let s = MockServer::start(move |_, i| {
        if i > 0 {
            while !g2.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        Reply::token(&format!("tok-{i}"), 1200, c2.now_secs())
    });
    let c = Client::builder(
        cfg(&s, AuthnMethod::ClientSecretPost)
            .client_secret("x".into())
            .build()
            .unwrap(),
    )
    .clock(clock.clone())
    // No async_refresh(..) call: background refresh is the default (D-32).
    .cache_policy(CachePolicy {
        jitter: false,
        ..CachePolicy::default()
    })
    .build()
    .unwrap();
    assert_eq!(c.bearer_token().unwrap().expose(), "tok-0");
    clock.advance_secs(850);
    // The background refresh is blocked in the server: callers are served immediately.
    for _ in 0..10 {
        assert_eq!(c.bearer_token().unwrap().expose(), "tok-0");
    }
    gate.store(true, Ordering::SeqCst);
    let mut ok = false;
    for _ in 0..400 {
        if c.bearer_token().unwrap().expose() == "tok-1" {
            ok = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(ok, "background refresh landed");
    assert_eq!(s.count(), 2, "one background refresh");
}

#[test]
fn sixty_second_token_refreshes_before_expiry() {
    let clock = ManualClock::new(T0);
    let s = token_server(clock.clone(), 60);
    let c = Client::builder(
        cfg(&s, AuthnMethod::ClientSecretPost)
            .client_secret("x".into())
            .build()
            .unwrap(),
    )
    .clock(clock.clone())
    .build() // default policy, WITH jitter
    .unwrap();
    assert_eq!(c.bearer_token().unwrap().expose(), "tok-0");
    let t = c
        .default_cached_provider()
        .unwrap()
        .cache()
        .times()
        .unwrap();
    assert!(t.prefetch_at_ms < t.stale_at_ms && t.stale_at_ms < t.expires_at_ms);
    assert!(
        t.stale_at_ms <= T0 + 30_000 && t.stale_at_ms > T0 + 23_000,
        "{t:?}"
    );
    clock.advance_secs(31); // past stale, 29 s before expiry
    assert_eq!(c.bearer_token().unwrap().expose(), "tok-1");
    assert_eq!(s.count(), 2);
}

#[test]
fn outage_serves_cached_until_expiry_with_backoff_then_errors() {
    let clock = ManualClock::new(T0);
    let c2 = clock.clone();
    let down = Arc::new(AtomicBool::new(false));
    let d2 = down.clone();
    let s = MockServer::start(move |_, i| {
        if d2.load(Ordering::SeqCst) {
            Reply::json(
                503,
                r#"{"error":"temporarily_unavailable","error_description":"maintenance"}"#,
            )
        } else {
            Reply::token(&format!("tok-{i}"), 1200, c2.now_secs())
        }
    });
    let c = Client::builder(
        cfg(&s, AuthnMethod::ClientSecretPost)
            .client_secret("x".into())
            .build()
            .unwrap(),
    )
    .clock(clock.clone())
    .retry_policy(RetryPolicy::none())
    .cache_policy(CachePolicy {
        jitter: false,
        ..CachePolicy::default()
    })
    .build()
    .unwrap();
    assert_eq!(c.bearer_token().unwrap().expose(), "tok-0");
    down.store(true, Ordering::SeqCst);
    clock.advance_secs(1000); // stale (960), valid until 1200
    for _ in 0..200 {
        assert_eq!(c.bearer_token().unwrap().expose(), "tok-0");
    }
    assert_eq!(
        s.count(),
        2,
        "one failed attempt, then backoff: no request storm"
    );
    // Each backoff period allows one attempt; the delays grow.
    let mut attempts = vec![s.count()];
    for _ in 0..60 {
        clock.advance_secs(1);
        assert_eq!(c.bearer_token().unwrap().expose(), "tok-0");
        attempts.push(s.count());
    }
    let made = s.count() - 2;
    assert!(
        (3..=10).contains(&made),
        "exponential backoff: {made} attempts in 60 s"
    );
    // After expiry: the underlying error, never the expired token.
    clock.advance_secs(200);
    let e = c.bearer_token().unwrap_err();
    assert_eq!(e.code(), "temporarily_unavailable");
    assert_eq!(e.kind(), ErrorKind::Server);
    // Recovery.
    down.store(false, Ordering::SeqCst);
    clock.advance_secs(60);
    assert!(c.bearer_token().unwrap().expose().starts_with("tok-"));
}

#[test]
fn providers_per_exact_scope_string() {
    let clock = ManualClock::new(T0);
    let s = token_server(clock.clone(), 1200);
    let c = client(
        cfg(&s, AuthnMethod::ClientSecretPost).client_secret("x".into()),
        clock,
    );
    let a = c.provider_for_scope("a|x a|y").unwrap();
    let b = c.provider_for_scope("a|y a|x").unwrap();
    let a2 = c.provider_for_scope("a|x a|y").unwrap();
    assert!(Arc::ptr_eq(&a, &a2));
    assert!(!Arc::ptr_eq(&a, &b));
    a.bearer_token().unwrap();
    b.bearer_token().unwrap();
    assert_eq!(s.count(), 2);
    assert!(s.recorded()[0].body.ends_with("&scope=a%7Cx+a%7Cy"));
    let e = c.provider_for_scope("a|x b|y").err().unwrap();
    assert_eq!(e.code(), "MultipleAudienceNotSupported");
    let e = c.bearer_token_for_scope("nope").unwrap_err();
    assert_eq!(e.code(), "InvalidScope");
    assert_eq!(s.count(), 2);
    // default scope via provider_for_scope is the default provider
    let d = c.provider().unwrap();
    let d2 = c.provider_for_scope(&c.config().scope.clone()).unwrap();
    assert!(Arc::ptr_eq(&d, &d2));
}

#[test]
fn invalidate_forces_refetch() {
    let clock = ManualClock::new(T0);
    let s = token_server(clock.clone(), 1200);
    let c = client(
        cfg(&s, AuthnMethod::ClientSecretPost).client_secret("x".into()),
        clock,
    );
    let p = c.provider().unwrap();
    let t = p.bearer_token().unwrap();
    p.invalidate("some-other-token");
    assert_eq!(p.bearer_token().unwrap().expose(), "tok-0");
    p.invalidate(t.expose());
    assert_eq!(p.bearer_token().unwrap().expose(), "tok-1");
}

#[test]
fn plugin_tokens_are_cached() {
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let clock = ManualClock::new(T0);
    let c = Client::builder(
        Config::builder()
            .idaas_instance_id("i")
            .client_id("c")
            .issuer("https://i")
            .token_endpoint("https://t")
            .authn_method(AuthnMethod::Plugin)
            .plugin_name("mine")
            .build()
            .unwrap(),
    )
    .clock(clock.clone())
    .plugin(
        "mine",
        Arc::new(move |scope: &str| -> idaas::Result<idaas::Credential> {
            let k = n2.fetch_add(1, Ordering::SeqCst);
            Ok(idaas::Credential {
                access_token: SecretString::new(format!("{scope}#{k}")),
                expires_in: 600,
                ..Default::default()
            })
        }),
    )
    .build()
    .unwrap();
    assert_eq!(
        c.bearer_token().unwrap().expose(),
        "urn:cloud:idaas:pam|.all#0"
    );
    assert_eq!(
        c.bearer_token().unwrap().expose(),
        "urn:cloud:idaas:pam|.all#0"
    );
    assert_eq!(c.credential().unwrap().expires_at, T0 / 1000 + 600);
    clock.advance_secs(590);
    assert_eq!(
        c.bearer_token().unwrap().expose(),
        "urn:cloud:idaas:pam|.all#1"
    );
    assert_eq!(
        c.with_bearer_token(|t| t.len()).unwrap(),
        "urn:cloud:idaas:pam|.all#1".len()
    );
    assert_eq!(n.load(Ordering::SeqCst), 2);
}

#[test]
fn pkcs7_metadata_calls_and_document_cache() {
    let clock = ManualClock::new(T0);
    let c2 = clock.clone();
    let s = MockServer::start(move |r, i| match (r.method.as_str(), r.path.as_str()) {
        ("PUT", "/latest/api/token") => Reply::json(200, "meta-token-1"),
        ("GET", p) if p.starts_with("/latest/dynamic/instance-identity/pkcs7?") => {
            Reply::json(200, &format!("PKCS7-DOC-{i}"))
        }
        _ => Reply::token(&format!("tok-{i}"), 600, c2.now_secs()),
    });
    let c = Client::builder(
        cfg(&s, AuthnMethod::Pkcs7)
            .application_federated_credential_name("fed_ecs")
            .client_deploy_environment(idaas::DeployEnvironment::AlibabaCloudEcs)
            .build()
            .unwrap(),
    )
    .clock(clock.clone())
    .ecs_metadata_endpoint(s.url(""))
    .cache_policy(CachePolicy {
        jitter: false,
        ..CachePolicy::default()
    })
    .build()
    .unwrap();
    c.bearer_token().unwrap();
    let r = s.recorded();
    assert_eq!(r.len(), 3);
    assert_eq!(
        (r[0].method.as_str(), r[0].path.as_str()),
        ("PUT", "/latest/api/token")
    );
    assert_eq!(
        r[0].header("x-aliyun-ecs-metadata-token-ttl-seconds"),
        Some("3600")
    );
    assert_eq!(r[0].body, "");
    assert_eq!(
        r[1].path,
        format!(
            "/latest/dynamic/instance-identity/pkcs7?audience=%7B%22aud%22%3A%22idaas_abc%22%2C%22signingTime%22%3A{}%7D",
            T0 / 1000
        ),
        "D-15: compact JSON, percent-encoded"
    );
    assert_eq!(
        r[1].header("x-aliyun-ecs-metadata-token"),
        Some("meta-token-1")
    );
    let names: Vec<&str> = r[2]
        .body
        .split('&')
        .map(|kv| kv.split('=').next().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "client_id",
            "application_federated_credential_name",
            "client_assertion_type",
            "client_assertion",
            "grant_type",
            "scope"
        ]
    );
    assert!(r[2].body.contains("&client_assertion=PKCS7-DOC-1&"));
    // Token refresh (600 s token) reuses the cached document (valid 3600 s).
    clock.advance_secs(600);
    c.bearer_token().unwrap();
    assert_eq!(s.count(), 4);
    assert!(s.recorded()[3]
        .body
        .contains("&client_assertion=PKCS7-DOC-1&"));
    // After the document's prefetch point (~2/3 of 3600 s) it is fetched again.
    clock.advance_secs(2000);
    c.bearer_token().unwrap();
    let r = s.recorded();
    assert_eq!(r.len(), 7);
    assert!(r[6].body.contains("&client_assertion=PKCS7-DOC-5&"));
}

#[test]
fn pkcs7_metadata_failure_is_reported() {
    let s = MockServer::start(|r, _| {
        if r.path.starts_with("/latest/") {
            Reply::json(403, "forbidden")
        } else {
            Reply::json(200, "{}")
        }
    });
    let c = Client::builder(
        cfg(&s, AuthnMethod::Pkcs7)
            .application_federated_credential_name("fed_ecs")
            .client_deploy_environment(idaas::DeployEnvironment::AlibabaCloudEcs)
            .build()
            .unwrap(),
    )
    .ecs_metadata_endpoint(s.url(""))
    .build()
    .unwrap();
    let e = c.bearer_token().unwrap_err();
    assert_eq!((e.code(), e.http_status()), ("403", Some(403)), "{e}");
    assert!(s.recorded().iter().all(|r| r.path.starts_with("/latest/")));
}
