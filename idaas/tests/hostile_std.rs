//! Standard-server compatibility: the client against the emulator in its strict modes, which
//! behave like a certified OpenID provider that follows the RFCs to the letter.
//!
//! * `clientSecretBasicEncoding`: a secret containing `+ % : space` sent raw (the reference's
//!   encoding, our default) fails at a strict RFC 6749 §2.3.1 server and works at the default
//!   emulator; sent form-encoded it works at both.
//! * `clientAssertionAudience`: the token endpoint as `aud` (default) is refused by a server that
//!   requires the issuer (FAPI 2.0, the RFC 7523 update); `issuer` is accepted, for every
//!   assertion method and for token exchange.
//! * Unknown values of both keys are configuration errors naming the key and the allowed values.
//!
//! The default request bytes are pinned by `tests/core_protocol.rs` and `tests/core_emulator.rs`.

mod common;

use base64::Engine;
use idaas::AssertionAudience;
use idaas::AuthnMethod;
use idaas::BasicEncoding;
use idaas::Config;
use idaas::TokenExchangeRequest;
use idaas::{Client, ErrorKind, SecretString};
use idaas_emulator::{AuthMethod, Emulator, EmulatorOptions, Fixtures, TOKEN_PATH};
use serde_json::{json, Value};
use std::sync::Arc;

/// Every character that the raw and the form encodings of a Basic header spell differently.
const SPECIAL_SECRET: &str = "p+q %r:s";

/// An emulator whose secret-based clients use `secret`, with the strict modes as given.
fn emulator(secret: &str, strict_basic: bool, strict_audience: bool) -> Emulator {
    let mut fx = Fixtures::builtin();
    for c in &mut fx.clients {
        if c.client_secret.is_some() {
            c.client_secret = Some(secret.to_string());
        }
    }
    idaas_emulator::start(EmulatorOptions {
        fixtures: Some(fx),
        strict_basic_encoding: strict_basic,
        strict_assertion_audience: strict_audience,
        ..Default::default()
    })
    .expect("emulator")
}

fn key_fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../emulator/fixtures/keys/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// The emulator's config for `method` with `authn` keys added, the secret or key handed over
/// directly (no process environment involved).
fn config(emu: &Emulator, method: AuthMethod, authn: &[(&str, &str)]) -> Config {
    let mut v = emu.client_config(method);
    for (k, val) in authn {
        v["authnConfiguration"][*k] = json!(val);
    }
    let mut cfg = Config::from_json_value(&v).expect("config");
    if cfg.authn.authn_method.uses_client_secret() {
        let secret = SecretString::new(emu.client_secret());
        cfg.authn.client_secret_supplier = Some(Arc::new(move || Ok(secret.clone())));
    }
    match cfg.authn.authn_method {
        AuthnMethod::PrivateKeyJwt => {
            cfg.authn.private_key_pem = Some(SecretString::new(key_fixture("ec256_pkcs8.pem")))
        }
        AuthnMethod::Pca => {
            cfg.authn.private_key_pem = Some(SecretString::new(
                emu.default_pca_credentials().key_pem.clone(),
            ))
        }
        _ => {}
    }
    cfg
}

fn client(cfg: Config) -> Client {
    Client::builder(cfg)
        .retry_policy(common::fast_token_retry())
        .build()
        .expect("client")
}

fn token(emu: &Emulator, method: AuthMethod, authn: &[(&str, &str)]) -> idaas::Result<()> {
    client(config(emu, method, authn)).bearer_token().map(drop)
}

/// The last token request the emulator received.
fn last_token_request(emu: &Emulator) -> idaas_emulator::RecordedRequest {
    emu.requests()
        .into_iter()
        .rev()
        .find(|r| r.path == TOKEN_PATH)
        .expect("a token request")
}

fn basic_credentials(r: &idaas_emulator::RecordedRequest) -> String {
    let h = r.header("authorization").expect("Authorization header");
    let b64 = h.strip_prefix("Basic ").expect("Basic scheme");
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
    )
    .unwrap()
}

fn assert_invalid_client(r: idaas::Result<()>, what: &str) {
    let e = r.expect_err(what);
    assert_eq!(e.kind(), ErrorKind::Auth, "{what}: {e}");
    assert_eq!(e.code(), "invalid_client", "{what}: {e}");
}

#[test]
fn basic_raw_fails_at_a_strict_server_and_form_succeeds() {
    let strict = emulator(SPECIAL_SECRET, true, false);
    let lenient = emulator(SPECIAL_SECRET, false, false);
    let basic = AuthMethod::ClientSecretBasic;
    let id = strict.client_id(basic);

    // Default (raw): the reference's bytes; a strict server refuses them.
    assert_invalid_client(token(&strict, basic, &[]), "raw at the strict server");
    assert_eq!(
        basic_credentials(&last_token_request(&strict)),
        format!("{id}:{SPECIAL_SECRET}")
    );
    assert_invalid_client(
        token(&strict, basic, &[("clientSecretBasicEncoding", "raw")]),
        "explicit raw at the strict server",
    );
    // ... and the default server accepts them.
    token(&lenient, basic, &[]).expect("raw at the default server");

    // form: RFC 6749 §2.3.1 bytes, accepted by both.
    token(&strict, basic, &[("clientSecretBasicEncoding", "form")])
        .expect("form at the strict server");
    assert_eq!(
        basic_credentials(&last_token_request(&strict)),
        format!("{id}:p%2Bq+%25r%3As")
    );
    token(&lenient, basic, &[("clientSecretBasicEncoding", "form")])
        .expect("form at the default server");
    // The snake_case alias and the builder say the same.
    token(&strict, basic, &[("client_secret_basic_encoding", "form")]).expect("snake_case alias");
    let built = Config::builder()
        .idaas_instance_id(strict.instance_id())
        .client_id(&id)
        .issuer(strict.issuer())
        .token_endpoint(strict.token_endpoint())
        .ca_certificate_path(strict.ca_cert_path())
        .authn_method(AuthnMethod::ClientSecretBasic)
        .client_secret(SecretString::new(SPECIAL_SECRET))
        .client_secret_basic_encoding(BasicEncoding::Form)
        .build()
        .unwrap();
    client(built).bearer_token().expect("builder, form");

    // Token exchange authenticates with the same header.
    let c = client(config(
        &strict,
        basic,
        &[("clientSecretBasicEncoding", "form")],
    ));
    let subject = c.bearer_token().unwrap();
    c.exchange_token(&TokenExchangeRequest::for_access_token(subject))
        .expect("exchange with form-encoded Basic");
}

/// The `aud` claim of the client assertion of a recorded request.
fn assertion_aud(r: &idaas_emulator::RecordedRequest) -> String {
    let jwt = r.form_param("client_assertion").expect("client_assertion");
    let payload = jwt.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    claims["aud"].as_str().expect("aud is a string").to_string()
}

#[test]
fn assertion_audience_issuer_is_accepted_by_a_strict_server() {
    let strict = emulator("emulator-client-secret-0123456789abcdef", false, true);
    let lenient = Emulator::start_default();
    for method in [
        AuthMethod::ClientSecretJwt,
        AuthMethod::PrivateKeyJwt,
        AuthMethod::Pca,
    ] {
        // Default: the token endpoint, refused by the strict server, accepted by the default one.
        assert_invalid_client(
            token(&strict, method, &[]),
            &format!("{method:?} tokenEndpoint at the strict server"),
        );
        assert_eq!(
            assertion_aud(&last_token_request(&strict)),
            strict.token_endpoint()
        );
        assert_invalid_client(
            token(
                &strict,
                method,
                &[("clientAssertionAudience", "tokenEndpoint")],
            ),
            &format!("{method:?} explicit tokenEndpoint at the strict server"),
        );
        token(&lenient, method, &[]).expect("tokenEndpoint at the default server");

        // issuer: accepted by the strict server, refused by the default one.
        token(&strict, method, &[("clientAssertionAudience", "issuer")])
            .unwrap_or_else(|e| panic!("{method:?} issuer at the strict server: {e}"));
        assert_eq!(assertion_aud(&last_token_request(&strict)), strict.issuer());
        assert_invalid_client(
            token(&lenient, method, &[("clientAssertionAudience", "issuer")]),
            &format!("{method:?} issuer at the default server"),
        );
    }

    // Token exchange signs its assertion with the configured audience too.
    let c = client(config(
        &strict,
        AuthMethod::PrivateKeyJwt,
        &[("client_assertion_audience", "issuer")],
    ));
    let subject = c.bearer_token().unwrap();
    c.exchange_token(&TokenExchangeRequest::for_access_token(subject))
        .expect("exchange with the issuer as audience");
    assert_eq!(assertion_aud(&last_token_request(&strict)), strict.issuer());

    // The builder spelling.
    let mut cfg = config(&strict, AuthMethod::ClientSecretJwt, &[]);
    cfg.authn.client_assertion_audience = AssertionAudience::Issuer;
    client(cfg)
        .bearer_token()
        .expect("issuer set on the Config");
}

fn load_error(authn: Value) -> idaas::Error {
    let v = json!({
        "idaasInstanceId": "idaas_x",
        "clientId": "app_x",
        "issuer": "https://issuer.example",
        "tokenEndpoint": "https://issuer.example/token",
        "authnConfiguration": authn,
    });
    Config::from_json_value(&v).expect_err("config must be refused")
}

#[test]
fn unknown_values_name_the_key_and_the_allowed_ones() {
    for (authn, key, allowed) in [
        (
            json!({"authnMethod": "CLIENT_SECRET_BASIC", "clientSecretEnvVarName": "S", "clientSecretBasicEncoding": "Form"}),
            "authnConfiguration.clientSecretBasicEncoding",
            "allowed values: raw, form",
        ),
        (
            json!({"authnMethod": "CLIENT_SECRET_BASIC", "clientSecretEnvVarName": "S", "client_secret_basic_encoding": "urlencoded"}),
            "authnConfiguration.clientSecretBasicEncoding",
            "allowed values: raw, form",
        ),
        (
            json!({"authnMethod": "PRIVATE_KEY_JWT", "privateKeyEnvVarName": "K", "clientAssertionAudience": "token_endpoint"}),
            "authnConfiguration.clientAssertionAudience",
            "allowed values: tokenEndpoint, issuer",
        ),
    ] {
        let e = load_error(authn);
        assert_eq!(e.kind(), ErrorKind::Config, "{e}");
        assert_eq!(e.code(), "InvalidConfigValue", "{e}");
        assert!(e.message().contains(key), "{e}");
        assert!(e.message().contains(allowed), "{e}");
    }
    // A value of the wrong JSON type names the key and the expected type.
    let e = load_error(
        json!({"authnMethod": "CLIENT_SECRET_JWT", "clientSecretEnvVarName": "S", "clientAssertionAudience": 1}),
    );
    assert!(
        e.message()
            .contains("authnConfiguration.clientAssertionAudience: expected a string"),
        "{e}"
    );
}
