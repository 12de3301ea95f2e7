//! No secret (client secret, private key, token) appears in any `Debug`/`Display` output of the
//! public types, nor in error messages.

#[allow(dead_code)]
mod core_mock;

use idaas::internals::auth::ClientAuth;
use idaas::internals::auth::PrivateKey;
use idaas::internals::auth::SecretSource;
use idaas::internals::token::Form;
use idaas::internals::token::TokenRequest;
use idaas::AuthnMethod;
use idaas::Config;
use idaas::Credential;
use idaas::CredentialProvider;
use idaas::StaticProvider;
use idaas::TokenExchangeRequest;
use idaas::{Client, SecretString};
use std::sync::Arc;

const CLIENT_SECRET: &str = "cs-TOPSECRET-9f8e7d";
const ACCESS_TOKEN: &str = "at-TOPSECRET-eyJhbGciOi";
const REFRESH_TOKEN: &str = "rt-TOPSECRET-abc";
// A compact JWT, as the token endpoint must send (SECURITY.md "Server text").
const ID_TOKEN: &str = "it-TOPSECRET-xyz.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";

fn key_pem() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../emulator/fixtures/keys/ec256_pkcs8.pem"
    ))
    .unwrap()
}

fn key_body_fragment() -> String {
    // a distinctive piece of the base64 body
    key_pem().lines().nth(1).unwrap()[..32].to_string()
}

fn assert_clean(what: &str, text: &str) {
    assert!(
        !text.contains("TOPSECRET"),
        "{what} leaks a secret fragment: {text}"
    );
    for s in [
        CLIENT_SECRET,
        ACCESS_TOKEN,
        REFRESH_TOKEN,
        ID_TOKEN,
        &key_body_fragment(),
    ] {
        assert!(!text.contains(s), "{what} leaks a secret: {text}");
    }
}

fn credential() -> Credential {
    Credential {
        access_token: SecretString::new(ACCESS_TOKEN),
        token_type: "Bearer".into(),
        expires_in: 1200,
        expires_at: 4_000_000_000,
        id_token: Some(SecretString::new(ID_TOKEN)),
        refresh_token: Some(SecretString::new(REFRESH_TOKEN)),
        issued_token_type: None,
        scope: None,
    }
}

#[test]
fn debug_of_every_public_type_is_clean() {
    let cfg = Config::builder()
        .idaas_instance_id("idaas_x")
        .client_id("app_x")
        .issuer("https://i")
        .token_endpoint("https://t/token")
        .authn_method(AuthnMethod::PrivateKeyJwt)
        .private_key_pem(SecretString::new(key_pem()))
        .client_secret(SecretString::new(CLIENT_SECRET))
        .build()
        .unwrap();
    assert_clean("Config", &format!("{cfg:?}"));
    assert_clean("AuthnConfig", &format!("{:?}", cfg.authn));

    let plugin_cfg = Config::builder()
        .idaas_instance_id("idaas_x")
        .client_id("app_x")
        .issuer("https://i")
        .token_endpoint("https://t/token")
        .authn_method(AuthnMethod::Plugin)
        .plugin_name("p")
        .build()
        .unwrap();
    let builder = Client::builder(plugin_cfg).plugin(
        "p",
        Arc::new(|_: &str| -> idaas::Result<Credential> { Ok(credential()) }),
    );
    assert_clean("ClientBuilder", &format!("{builder:?}"));
    let client = builder.build().unwrap();
    assert_eq!(client.bearer_token().unwrap().expose(), ACCESS_TOKEN);
    let tok = client.bearer_token().unwrap();
    assert_clean("SecretString", &format!("{tok:?} {tok}"));
    assert_clean("Client", &format!("{client:?}"));
    let p = client.default_cached_provider().unwrap();
    assert_clean("CachedProvider", &format!("{p:?}"));
    assert_clean("Credential", &format!("{:?}", p.credential().unwrap()));
    assert_clean("Credential", &format!("{:?}", credential()));
    let sp = StaticProvider::new(credential());
    assert_clean("StaticProvider", &format!("{sp:?}"));

    let req = TokenExchangeRequest::for_access_token(ACCESS_TOKEN).actor(ID_TOKEN, "t");
    assert_clean("TokenExchangeRequest", &format!("{req:?}"));

    let mut form = Form::new();
    form.push("client_secret", CLIENT_SECRET);
    assert_clean("Form", &format!("{form:?}"));
    let tr = TokenRequest {
        headers: vec![("Authorization", SecretString::new(CLIENT_SECRET))],
        form,
        secrets: Default::default(),
    };
    assert_clean("TokenRequest", &format!("{tr:?}"));

    let key = PrivateKey::from_pem(&key_pem()).unwrap();
    assert_clean("PrivateKey", &format!("{key:?}"));
    let auth = ClientAuth::PrivateKeyJwt(Arc::new(key));
    assert_clean("ClientAuth", &format!("{auth:?}"));
    let src = SecretSource::Supplier(Arc::new(|| Ok(SecretString::new(CLIENT_SECRET))));
    assert_clean("SecretSource", &format!("{src:?}"));
}

#[test]
fn errors_do_not_carry_secrets() {
    // A key whose text is garbage around a secret-looking body.
    let bad = format!("-----BEGIN PRIVATE KEY-----\n{CLIENT_SECRET}\n-----END PRIVATE KEY-----");
    let e = PrivateKey::from_pem(&bad).unwrap_err();
    assert_clean("key error", &format!("{e} {e:?}"));
    // A truncated real key.
    let pem = key_pem();
    let truncated = pem.replacen(&key_body_fragment(), "AAAA", 1);
    let e = PrivateKey::from_pem(&truncated).unwrap_err();
    assert_clean("key error", &format!("{e} {e:?}"));
    // Unsupported label with a secret inside.
    let e = PrivateKey::from_pem(&format!(
        "-----BEGIN FOO-----\n{CLIENT_SECRET}\n-----END FOO-----"
    ))
    .unwrap_err();
    assert_clean("key error", &format!("{e} {e:?}"));
    // Exchange validation errors.
    let e = TokenExchangeRequest::new(ACCESS_TOKEN, "")
        .validate()
        .unwrap_err();
    assert_clean("exchange error", &format!("{e} {e:?}"));
}

struct Capture(std::sync::Mutex<Vec<String>>);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, r: &log::Record) {
        // What every forwarding logger must do (see idaas::http module docs).
        if idaas::is_sensitive_log_record(r.target(), r.level()) {
            return;
        }
        self.0
            .lock()
            .unwrap()
            .push(format!("{} {}: {}", r.level(), r.target(), r.args()));
    }
    fn flush(&self) {}
}

#[test]
fn log_lines_do_not_carry_secrets() {
    static CAPTURE: Capture = Capture(std::sync::Mutex::new(Vec::new()));
    log::set_logger(&CAPTURE).unwrap();
    log::set_max_level(log::LevelFilter::Trace);

    use core_mock::{MockServer, Reply};
    use idaas::Clock;
    use idaas::ManualClock;
    let clock = ManualClock::new(1_760_000_000_000);
    let c2 = clock.clone();
    let fail = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let f2 = fail.clone();
    let s = MockServer::start(move |_, _| {
        if f2.load(std::sync::atomic::Ordering::SeqCst) {
            Reply::json(503, r#"{"error":"temporarily_unavailable"}"#)
        } else {
            Reply::json(
                200,
                &format!(
                    r#"{{"access_token":"{ACCESS_TOKEN}","refresh_token":"{REFRESH_TOKEN}","id_token":"{ID_TOKEN}","expires_in":600,"expires_at":{}}}"#,
                    c2.now_secs() + 600
                ),
            )
        }
    });
    let cfg = Config::builder()
        .idaas_instance_id("idaas_x")
        .client_id("app_x")
        .issuer("https://i")
        .token_endpoint(s.url("/token"))
        .authn_method(AuthnMethod::ClientSecretBasic)
        .client_secret(SecretString::new(CLIENT_SECRET))
        .build()
        .unwrap();
    let c = Client::builder(cfg)
        .clock(clock.clone())
        .async_refresh(true)
        .build()
        .unwrap();
    assert_eq!(c.bearer_token().unwrap().expose(), ACCESS_TOKEN);
    fail.store(true, std::sync::atomic::Ordering::SeqCst);
    clock.advance_secs(500); // stale: refresh fails, cached token served with a warning
    assert_eq!(c.bearer_token().unwrap().expose(), ACCESS_TOKEN);
    clock.advance_secs(200); // expired
    assert!(c.bearer_token().is_err());
    let lines = CAPTURE.0.lock().unwrap().clone();
    assert!(
        lines.iter().any(|l| l.starts_with("WARN")),
        "a warning was logged: {lines:?}"
    );
    for l in &lines {
        assert_clean("log line", l);
    }
}
