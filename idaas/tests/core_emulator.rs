//! End-to-end tests against the local IDaaS emulator (HTTPS with the emulator's CA through
//! `httpConfiguration.caCertificatePath`): every authentication method accepted and refused, every
//! key format, exact form bytes from the emulator's request log, token exchange, and the cache
//! (single flight, outage handling, backoff) driven by a ManualClock.
//!
//! Secrets reach the client through environment variables whose NAMES are unique per test (tests run
//! in parallel threads of one process), instead of the emulator's default `IDAAS_CLIENT_SECRET`.

use idaas::CachePolicy;
use idaas::Clock;
use idaas::Config;
use idaas::ManualClock;
use idaas::RetryPolicy;
use idaas::TokenExchangeRequest;
use idaas::TOKEN_TYPE_ACCESS_TOKEN;
use idaas::TOKEN_TYPE_ID_TOKEN;
use idaas::TOKEN_TYPE_JWT;
use idaas::{Client, ClientBuilder, ErrorKind};
use idaas_emulator::{AuthMethod, Emulator, Fault, FaultRule, Route, TOKEN_PATH};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

static N: AtomicUsize = AtomicUsize::new(0);

fn unique_var(what: &str) -> String {
    format!(
        "IDAAS_CORE_EMU_{what}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

fn fixture_key(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../emulator/fixtures/keys/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// The emulator's config for `method`, with the secret / key env vars renamed to unique names
/// holding `secret` / `key_pem`.
fn config_for(
    emu: &Emulator,
    method: AuthMethod,
    secret: Option<&str>,
    key_pem: Option<&str>,
) -> Value {
    let mut v = emu.client_config(method);
    let authn = v["authnConfiguration"].as_object_mut().unwrap();
    if authn.contains_key("clientSecretEnvVarName") {
        let var = unique_var("SECRET");
        std::env::set_var(&var, secret.unwrap_or(emu.client_secret()));
        authn.insert("clientSecretEnvVarName".into(), json!(var));
    }
    if authn.contains_key("privateKeyEnvVarName") {
        let var = unique_var("KEY");
        let pem = match key_pem {
            Some(k) => k.to_string(),
            None if method == AuthMethod::Pca => emu.default_pca_credentials().key_pem.clone(),
            None => fixture_key("ec256_pkcs8.pem"),
        };
        std::env::set_var(&var, pem);
        authn.insert("privateKeyEnvVarName".into(), json!(var));
    }
    v
}

fn builder(emu: &Emulator, v: &Value) -> ClientBuilder {
    Client::builder(Config::from_json_value(v).unwrap())
        .ecs_metadata_endpoint(emu.metadata_base_url())
        .retry_policy(RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
        })
}

fn client(emu: &Emulator, method: AuthMethod) -> Client {
    builder(emu, &config_for(emu, method, None, None))
        .build()
        .unwrap()
}

fn token_requests(emu: &Emulator) -> Vec<idaas_emulator::RecordedRequest> {
    emu.requests()
        .into_iter()
        .filter(|r| r.path == TOKEN_PATH)
        .collect()
}

#[test]
fn every_method_is_accepted() {
    let emu = Emulator::start_default();
    for (method, assertion_type) in [
        (AuthMethod::ClientSecretBasic, None),
        (AuthMethod::ClientSecretPost, None),
        (
            AuthMethod::ClientSecretJwt,
            Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
        ),
        (
            AuthMethod::PrivateKeyJwt,
            Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
        ),
        (
            AuthMethod::Oidc,
            Some("urn:cloud:idaas:params:oauth:client-assertion-type:id-token-bearer"),
        ),
        (
            AuthMethod::Pca,
            Some("urn:cloud:idaas:params:oauth:client-assertion-type:x509-jwt-bearer"),
        ),
    ] {
        emu.clear_requests();
        let c = client(&emu, method);
        let tok = c
            .bearer_token()
            .unwrap_or_else(|e| panic!("{method:?} refused: {e}"));
        assert!(!tok.is_empty(), "{method:?}");
        let cred = c.credential().unwrap();
        assert_eq!(cred.token_type, "Bearer");
        assert!(cred.expires_at > 0);
        let reqs = token_requests(&emu);
        assert_eq!(reqs.len(), 1, "{method:?}");
        let r = &reqs[0];
        assert!(r.tls, "https with the emulator CA");
        assert_eq!(r.form_param("grant_type"), Some("client_credentials"));
        assert_eq!(r.form_param("scope"), Some("urn:cloud:idaas:pam|.all"));
        assert_eq!(
            r.form_param("client_assertion_type"),
            assertion_type,
            "{method:?}"
        );
        // cached
        assert_eq!(c.bearer_token().unwrap().expose(), tok.expose());
        assert_eq!(token_requests(&emu).len(), 1);
    }
}

#[test]
fn pkcs7_on_ecs_with_the_metadata_stand_in() {
    let emu = Emulator::start_default();
    let c = client(&emu, AuthMethod::Pkcs7);
    c.bearer_token().unwrap();
    let reqs = emu.requests();
    let put = reqs
        .iter()
        .find(|r| r.path == "/latest/api/token")
        .expect("metadata token request");
    assert_eq!(put.method, "PUT");
    assert_eq!(
        put.header("x-aliyun-ecs-metadata-token-ttl-seconds"),
        Some("3600")
    );
    let get = reqs
        .iter()
        .find(|r| r.path == "/latest/dynamic/instance-identity/pkcs7")
        .expect("document request");
    assert_eq!(get.method, "GET");
    assert!(get.header("x-aliyun-ecs-metadata-token").is_some());
    let q = get.query.clone().unwrap_or_default();
    let prefix = format!(
        "audience=%7B%22aud%22%3A%22{}%22%2C%22signingTime%22%3A",
        emu.instance_id()
    );
    assert!(q.starts_with(&prefix), "D-15 compact JSON: {q}");
    let tok = token_requests(&emu);
    assert_eq!(
        tok[0].form_param("client_assertion_type"),
        Some("urn:cloud:idaas:params:oauth:client-assertion-type:pkcs7-bearer")
    );
    // The document is cached: a second scope reuses it.
    c.bearer_token_for_scope("api.example.com|read:file").ok();
    assert_eq!(emu.count_requests("/latest/api/token"), 1);
}

#[test]
fn every_key_format_is_accepted() {
    let emu = Emulator::start_default();
    for f in [
        "rsa2048_pkcs1.pem",
        "rsa2048_pkcs8.pem",
        "rsa3072_pkcs8.pem",
        "rsa4096_pkcs8.pem",
        "ec256_sec1.pem",
        "ec256_pkcs8.pem",
        "ec384_sec1.pem",
        "ec384_pkcs8.pem",
    ] {
        let v = config_for(&emu, AuthMethod::PrivateKeyJwt, None, Some(&fixture_key(f)));
        let c = builder(&emu, &v).build().unwrap();
        c.bearer_token().unwrap_or_else(|e| panic!("{f}: {e}"));
    }
}

#[test]
fn encrypted_key_is_refused_without_a_request() {
    let emu = Emulator::start_default();
    let v = config_for(
        &emu,
        AuthMethod::PrivateKeyJwt,
        None,
        Some(&fixture_key("rsa2048_encrypted.pem")),
    );
    let c = builder(&emu, &v).build().unwrap();
    let e = c.bearer_token().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Credential);
    assert!(e.message().contains("encrypted"), "{e}");
    assert_eq!(emu.count_requests(TOKEN_PATH), 0);
}

#[test]
fn wrong_secret_is_refused() {
    let emu = Emulator::start_default();
    for m in [
        AuthMethod::ClientSecretBasic,
        AuthMethod::ClientSecretPost,
        AuthMethod::ClientSecretJwt,
    ] {
        let v = config_for(&emu, m, Some("definitely-not-the-secret"), None);
        let c = builder(&emu, &v).build().unwrap();
        let e = c.bearer_token().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Auth, "{m:?}: {e}");
        assert_eq!(e.code(), "invalid_client", "{m:?}");
        assert_eq!(e.http_status(), Some(401));
        assert!(e.request_id().is_some());
        assert!(!e.to_string().contains("definitely-not-the-secret"));
    }
    // 4xx is not retried: one request per method
    assert_eq!(emu.count_requests(TOKEN_PATH), 3);
}

#[test]
fn wrong_key_is_refused() {
    let emu = Emulator::start_default();
    // A valid P-256 key that is not registered for the PRIVATE_KEY_JWT client.
    let other = emu.issue_pca_credentials("intruder").key_pem;
    let v = config_for(&emu, AuthMethod::PrivateKeyJwt, None, Some(&other));
    let e = builder(&emu, &v)
        .build()
        .unwrap()
        .bearer_token()
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.code()),
        (ErrorKind::Auth, "invalid_client"),
        "{e}"
    );
    // PCA with a key that does not match the certificate.
    let v = config_for(
        &emu,
        AuthMethod::Pca,
        None,
        Some(&fixture_key("ec256_pkcs8.pem")),
    );
    let e = builder(&emu, &v)
        .build()
        .unwrap()
        .bearer_token()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
}

#[test]
fn exact_form_bytes_basic_and_post() {
    let emu = Emulator::start_default();
    let id = emu.client_id(AuthMethod::ClientSecretPost);
    let secret = emu.client_secret().to_string();
    let enc = idaas::internals::token::form_encode;

    let c = client(&emu, AuthMethod::ClientSecretPost);
    c.bearer_token().unwrap();
    let r = &token_requests(&emu)[0];
    assert_eq!(
        r.body,
        format!(
            "client_id={}&client_secret={}&grant_type=client_credentials&scope=urn%3Acloud%3Aidaas%3Apam%7C.all",
            enc(&id),
            enc(&secret)
        )
    );
    assert_eq!(
        r.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(r.header("authorization"), None);
    assert!(r.header("user-agent").unwrap().starts_with("IDaaS core/"));

    emu.clear_requests();
    let c = client(&emu, AuthMethod::ClientSecretBasic);
    c.bearer_token_for_scope("api.example.com|read:file api.example.com|write:file")
        .unwrap();
    let r = &token_requests(&emu)[0];
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
    assert_eq!(
        r.header("authorization"),
        Some(format!("Basic {basic}").as_str())
    );
    assert_eq!(
        r.body,
        format!(
            "client_id={}&grant_type=client_credentials&scope=api.example.com%7Cread%3Afile+api.example.com%7Cwrite%3Afile",
            enc(&id)
        )
    );
}

#[test]
fn token_exchange_against_the_emulator() {
    let emu = Emulator::start_default();
    let c = client(&emu, AuthMethod::ClientSecretPost);
    let subject = c.bearer_token().unwrap();
    emu.clear_requests();
    let cred = c
        .exchange_token(&TokenExchangeRequest::for_access_token(subject.clone()))
        .unwrap();
    assert!(!cred.access_token.is_empty());
    assert_ne!(cred.access_token.expose(), subject.expose());
    assert_eq!(
        cred.issued_token_type.as_deref(),
        Some(TOKEN_TYPE_ACCESS_TOKEN)
    );
    let r = &token_requests(&emu)[0];
    assert_eq!(
        r.form_param("grant_type"),
        Some("urn:ietf:params:oauth:grant-type:token-exchange")
    );
    assert_eq!(
        r.form_param("requested_token_type"),
        Some(TOKEN_TYPE_ACCESS_TOKEN),
        "D-18 default"
    );
    assert_eq!(r.form_param("scope"), Some("urn:cloud:idaas:pam|.all"));
    let names: Vec<&str> = r.form.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "client_id",
            "client_secret",
            "grant_type",
            "subject_token",
            "subject_token_type",
            "requested_token_type",
            "scope"
        ]
    );
    // Custom requested type.
    let cred = c
        .exchange_token(
            &TokenExchangeRequest::for_access_token(subject.clone())
                .requested_token_type(TOKEN_TYPE_JWT),
        )
        .unwrap();
    assert_eq!(cred.issued_token_type.as_deref(), Some(TOKEN_TYPE_JWT));
    assert_eq!(
        token_requests(&emu)[1].form_param("requested_token_type"),
        Some(TOKEN_TYPE_JWT)
    );
    // Never cached.
    c.exchange_token(&TokenExchangeRequest::for_access_token(subject.clone()))
        .unwrap();
    assert_eq!(token_requests(&emu).len(), 3);
    // An invalid subject token is refused by the server.
    let e = c
        .exchange_token(&TokenExchangeRequest::for_access_token("not-a-token"))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    // Blank → no request.
    assert_eq!(
        c.exchange_token(&TokenExchangeRequest::for_access_token(""))
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(token_requests(&emu).len(), 4);
}

#[test]
fn token_exchange_for_an_id_token() {
    use base64::Engine;
    let emu = Emulator::start_default();
    let c = client(&emu, AuthMethod::ClientSecretPost);
    let client_id = emu.client_id(AuthMethod::ClientSecretPost);
    let subject = c.bearer_token().unwrap();
    emu.clear_requests();
    let cred = c
        .exchange_token(
            &TokenExchangeRequest::for_access_token(subject.clone())
                .requested_token_type(TOKEN_TYPE_ID_TOKEN),
        )
        .unwrap();
    assert_eq!(cred.issued_token_type.as_deref(), Some(TOKEN_TYPE_ID_TOKEN));
    assert_eq!(cred.token_type, "N_A");
    let payload = cred
        .access_token
        .expose()
        .split('.')
        .nth(1)
        .unwrap()
        .to_string();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["iss"], emu.issuer());
    assert_eq!(claims["sub"], client_id.as_str(), "the subject token's sub");
    assert_eq!(claims["aud"], client_id.as_str());
    assert_eq!(claims["exp"].as_u64(), Some(cred.expires_at));
    let r = token_requests(&emu);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].status, 200);
    assert_eq!(
        r[0].form_param("requested_token_type"),
        Some(TOKEN_TYPE_ID_TOKEN)
    );
}

#[test]
fn token_exchange_with_private_key_jwt() {
    let emu = Emulator::start_default();
    let c = client(&emu, AuthMethod::PrivateKeyJwt);
    let subject = c.bearer_token().unwrap();
    let cred = c
        .exchange_token(&TokenExchangeRequest::for_access_token(subject))
        .unwrap();
    assert!(!cred.access_token.is_empty());
}

fn cached_client(emu: &Emulator, clock: Arc<ManualClock>) -> Client {
    cached_client_builder(emu, clock).build().unwrap()
}

/// The builder behind [`cached_client`]: CLIENT_SECRET_POST, manual clock, no retries, no jitter.
fn cached_client_builder(emu: &Emulator, clock: Arc<ManualClock>) -> ClientBuilder {
    builder(
        emu,
        &config_for(emu, AuthMethod::ClientSecretPost, None, None),
    )
    .clock(clock)
    .retry_policy(RetryPolicy::none())
    .cache_policy(CachePolicy {
        jitter: false,
        ..CachePolicy::default()
    })
}

#[test]
fn single_flight_64_threads_at_expiry() {
    let emu = Emulator::start_default();
    emu.set_token_lifetime(1200);
    let clock = ManualClock::starting_now();
    let c = cached_client(&emu, clock.clone());
    let first = c.bearer_token().unwrap();
    clock.advance_secs(1200); // expired
    emu.set_fault(FaultRule {
        route: Route::Token,
        fault: Fault::Latency(Duration::from_millis(100)),
        times: Some(1),
    });
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
    let toks: Vec<String> = hs.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(toks.iter().all(|t| t == &toks[0] && t != first.expose()));
    assert_eq!(
        emu.count_requests(TOKEN_PATH),
        2,
        "exactly one token request for 64 concurrent callers"
    );
}

#[test]
fn prefetch_and_short_tokens_refresh_before_expiry() {
    let emu = Emulator::start_default();
    emu.set_token_lifetime(60);
    let clock = ManualClock::starting_now();
    let c = cached_client(&emu, clock.clone());
    let t0 = c.bearer_token().unwrap();
    clock.advance_secs(20);
    assert_eq!(c.bearer_token().unwrap().expose(), t0.expose(), "fresh");
    clock.advance_secs(5); // 25 s: prefetch window (24 s) of a 60 s token
                           // Default (D-32): the caller is served the cached token at once, the refresh runs in the
                           // background and lands shortly after.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let t1 = loop {
        let t = c.bearer_token().unwrap();
        if t.expose() != t0.expose() {
            break t;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "prefetch never refreshed"
        );
        std::thread::sleep(Duration::from_millis(2));
    };
    assert_eq!(emu.count_requests(TOKEN_PATH), 2);
    // The new token is fresh again.
    assert_eq!(c.bearer_token().unwrap().expose(), t1.expose());
    assert_eq!(emu.count_requests(TOKEN_PATH), 2);
}

#[test]
fn prefetch_inline_when_async_refresh_is_off() {
    let emu = Emulator::start_default();
    emu.set_token_lifetime(60);
    let clock = ManualClock::starting_now();
    let c = cached_client_builder(&emu, clock.clone())
        .async_refresh(false)
        .build()
        .unwrap();
    let t0 = c.bearer_token().unwrap();
    clock.advance_secs(25); // prefetch window
                            // The first caller in the window refreshes inline and gets the new token.
    let t1 = c.bearer_token().unwrap();
    assert_ne!(t1.expose(), t0.expose(), "prefetch refreshed inline");
    assert_eq!(emu.count_requests(TOKEN_PATH), 2);
    assert_eq!(c.bearer_token().unwrap().expose(), t1.expose());
    assert_eq!(emu.count_requests(TOKEN_PATH), 2);
}

#[test]
fn outage_served_from_cache_while_valid_then_error_and_backoff() {
    let emu = Emulator::start_default();
    emu.set_token_lifetime(1200);
    let clock = ManualClock::starting_now();
    let c = cached_client(&emu, clock.clone());
    let t0 = c.bearer_token().unwrap();
    emu.set_fault(FaultRule {
        route: Route::Token,
        fault: Fault::Status {
            status: 503,
            retry_after: None,
            body: None,
        },
        times: None,
    });
    clock.advance_secs(1000); // past stale (960 s), before expiry
    for _ in 0..100 {
        assert_eq!(c.bearer_token().unwrap().expose(), t0.expose());
    }
    assert_eq!(
        emu.count_requests(TOKEN_PATH),
        2,
        "one failed refresh, then backoff: no storm"
    );
    clock.advance_secs(2);
    assert_eq!(c.bearer_token().unwrap().expose(), t0.expose());
    assert_eq!(
        emu.count_requests(TOKEN_PATH),
        3,
        "retried after the backoff"
    );
    clock.advance_secs(300); // expired
    let e = c.bearer_token().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Server, "{e}");
    assert_eq!(e.http_status(), Some(503));
    emu.clear_faults();
    clock.advance_secs(60);
    let t1 = c.bearer_token().unwrap();
    assert_ne!(t1.expose(), t0.expose());
}

#[test]
fn retries_transient_failures() {
    let emu = Emulator::start_default();
    emu.set_fault(FaultRule {
        route: Route::Token,
        fault: Fault::Status {
            status: 502,
            retry_after: None,
            body: Some("<html>bad gateway</html>".into()),
        },
        times: Some(1),
    });
    emu.set_fault(FaultRule {
        route: Route::Token,
        fault: Fault::Reset,
        times: Some(1),
    });
    let c = client(&emu, AuthMethod::ClientSecretPost);
    c.bearer_token().unwrap();
    assert_eq!(emu.count_requests(TOKEN_PATH), 3);
}

#[test]
fn redirect_and_non_json() {
    let emu = Emulator::start_default();
    emu.set_fault(FaultRule {
        route: Route::Token,
        fault: Fault::Redirect("https://elsewhere.example/token".into()),
        times: Some(1),
    });
    let c = client(&emu, AuthMethod::ClientSecretPost);
    let e = c.bearer_token().unwrap_err();
    assert_eq!((e.kind(), e.code()), (ErrorKind::UnexpectedResponse, "302"));
    assert!(e.message().contains("https://elsewhere.example/token"));
    emu.set_fault(FaultRule {
        route: Route::Token,
        fault: Fault::NonJson,
        times: Some(1),
    });
    let c = client(&emu, AuthMethod::ClientSecretPost);
    assert_eq!(
        c.bearer_token().unwrap_err().kind(),
        ErrorKind::UnexpectedResponse
    );
}

#[test]
fn missing_expires_at_falls_back_to_expires_in() {
    let emu = Emulator::start_default();
    emu.set_fault(FaultRule {
        route: Route::Token,
        fault: Fault::JsonWithout("expires_at".into()),
        times: Some(1),
    });
    let clock = ManualClock::starting_now();
    let c = cached_client(&emu, clock.clone());
    c.bearer_token().unwrap();
    let cred = c.credential().unwrap();
    assert_eq!(cred.expires_at, clock.now_secs() + cred.expires_in);
    c.bearer_token().unwrap();
    assert_eq!(emu.count_requests(TOKEN_PATH), 1, "D-11: cached");
}

#[test]
fn try_fresh_bearer_token_never_fetches() {
    let emu = Emulator::start_default();
    let clock = ManualClock::new(1_700_000_000_000);
    let c = cached_client(&emu, clock.clone());
    let other = "api.example.com|read:file";
    assert!(
        c.try_fresh_bearer_token(None, |_, _| ()).is_none(),
        "not yet initialised"
    );
    assert!(token_requests(&emu).is_empty());
    let token = c.bearer_token().unwrap();
    let (fresh, version) = c
        .try_fresh_bearer_token(None, |t, v| (t.to_owned(), v))
        .unwrap();
    assert_eq!(fresh, token.expose());
    let configured = c.config().scope.clone();
    assert_eq!(
        c.try_fresh_bearer_token(Some(&configured), |_, v| v),
        Some(version)
    );
    assert!(c.try_fresh_bearer_token(Some(other), |_, _| ()).is_none());
    let scoped = c.bearer_token_for_scope(other).unwrap();
    assert_eq!(
        c.try_fresh_bearer_token(Some(other), |t, _| t.to_owned()),
        Some(scoped.expose().to_owned())
    );
    assert_eq!(token_requests(&emu).len(), 2);
    // Past the refresh-ahead instant: only the full read may refresh.
    clock.advance_millis(1_200_000);
    assert!(c.try_fresh_bearer_token(None, |_, _| ()).is_none());
    assert_eq!(token_requests(&emu).len(), 2, "never fetches");
}
