//! Property tests of the emulator's JWT verification and form parsing, through HTTP (its JWT code is
//! private): arbitrary `client_assertion` strings, JWT-shaped strings with random headers, claims
//! and signatures, and arbitrary request bodies are POSTed to the token endpoint. The emulator must
//! answer every one with a 4xx OAuth error (JSON with `error`), never a 5xx, a dropped connection
//! or a hang, and must keep serving valid requests afterwards.

mod common;

use common::prop::{config, json};
use idaas::internals::token::form_encode;
use idaas::internals::HttpClient;
use idaas::internals::HttpRequest;
use idaas::internals::Method;
use idaas::HttpOptions;
use idaas_emulator::{AuthMethod, Emulator, TOKEN_PATH};
use proptest::prelude::*;
use serde_json::Value;

const VOCAB: &[&str] = &[
    "alg", "typ", "kid", "iss", "sub", "aud", "exp", "iat", "nbf", "jti", "HS256", "RS256",
    "ES256", "ES384", "PS256", "none", "JWT", "x5c", "crit",
];

fn b64(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn jwt_like(client_ids: Vec<String>) -> impl Strategy<Value = String> {
    prop_oneof![
        ".*",
        "[A-Za-z0-9_.=-]{0,200}",
        (
            json(VOCAB),
            json(VOCAB),
            prop::collection::vec(any::<u8>(), 0..80)
        )
            .prop_map(|(h, p, s)| format!(
                "{}.{}.{}",
                b64(h.to_string().as_bytes()),
                b64(p.to_string().as_bytes()),
                b64(&s)
            )),
        // Structurally right claims for the emulator's clients with random alg and signature.
        (
            prop::sample::select(vec![
                "HS256", "RS256", "ES256", "ES384", "none", "PS256", ""
            ]),
            prop::sample::select(client_ids),
            -100_000i64..100_000,
            prop::collection::vec(any::<u8>(), 0..96),
        )
            .prop_map(|(alg, cid, skew, sig)| {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs() as i64;
                let h = serde_json::json!({"alg": alg, "typ": "JWT"});
                let p = serde_json::json!({"iss": cid, "sub": cid, "aud": "x",
                    "iat": now + skew, "exp": now + skew + 300, "jti": format!("j{skew}")});
                format!(
                    "{}.{}.{}",
                    b64(h.to_string().as_bytes()),
                    b64(p.to_string().as_bytes()),
                    b64(&sig)
                )
            }),
    ]
}

fn assert_oauth_4xx(status: u16, body: &[u8]) -> Result<(), TestCaseError> {
    prop_assert!(
        (400..500).contains(&status),
        "HTTP {status}: {}",
        String::from_utf8_lossy(body)
    );
    let v: Value = serde_json::from_slice(body).map_err(|_| {
        TestCaseError::fail(format!(
            "non-JSON error body: {}",
            String::from_utf8_lossy(body)
        ))
    })?;
    prop_assert!(
        v.get("error").and_then(Value::as_str).is_some(),
        "no error field: {v}"
    );
    Ok(())
}

#[test]
fn token_endpoint_rejects_any_bad_assertion_or_body_cleanly() {
    let emu = Emulator::start_default();
    let url = format!("{}{TOKEN_PATH}", emu.http_base_url());
    let http = HttpClient::new(HttpOptions::default()).unwrap();
    let post = |body: Vec<u8>| {
        http.send(HttpRequest {
            method: Method::Post,
            url: &url,
            headers: vec![(
                "Content-Type",
                "application/x-www-form-urlencoded".to_string(),
            )],
            body: Some(body),
        })
    };
    let clients = [
        emu.client_id(AuthMethod::ClientSecretJwt),
        emu.client_id(AuthMethod::PrivateKeyJwt),
        emu.client_id(AuthMethod::Pca),
        emu.client_id(AuthMethod::Oidc),
    ];
    let mut runner = proptest::test_runner::TestRunner::new(config("prop_emulator_jwt", 16384));
    let strategy = (
        0..clients.len(),
        jwt_like(clients.to_vec()),
        prop::sample::select(vec![
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "urn:cloud:idaas:params:oauth:client-assertion-type:x509-jwt-bearer",
            "urn:cloud:idaas:params:oauth:client-assertion-type:id-token-bearer",
            "bogus",
        ]),
    );
    runner
        .run(&strategy, |(ci, assertion, atype)| {
            let body = format!(
                "client_id={}&client_assertion_type={}&client_assertion={}&grant_type=client_credentials&scope={}",
                form_encode(&clients[ci]),
                form_encode(atype),
                form_encode(&assertion),
                form_encode(idaas_emulator::PAM_SCOPE)
            );
            let resp = post(body.into_bytes())
                .map_err(|e| TestCaseError::fail(format!("transport failure: {e}")))?;
            assert_oauth_4xx(resp.status, &resp.body)
        })
        .unwrap();

    let mut runner = proptest::test_runner::TestRunner::new(config("prop_emulator_form", 2048));
    let strategy = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..400),
        "([a-z_]{0,20}=[%A-Za-z0-9+&=._-]{0,40}&?){0,8}".prop_map(String::into_bytes),
    ];
    runner
        .run(&strategy, |body| {
            let resp =
                post(body).map_err(|e| TestCaseError::fail(format!("transport failure: {e}")))?;
            assert_oauth_4xx(resp.status, &resp.body)
        })
        .unwrap();

    // Still alive and correct: a real client gets a token.
    let mut cfg =
        idaas::Config::from_json_value(&emu.client_config(AuthMethod::ClientSecretPost)).unwrap();
    let secret = idaas::SecretString::new(emu.client_secret());
    cfg.authn.client_secret_supplier = Some(std::sync::Arc::new(move || Ok(secret.clone())));
    let client = idaas::Client::new(cfg).unwrap();
    assert!(!client.bearer_token().unwrap().is_empty());
}
