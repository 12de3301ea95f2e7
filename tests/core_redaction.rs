//! No secret (client secret, private key, token) appears in any `Debug`/`Display` output of the
//! public types, nor in error messages.

use idaas::auth::{ClientAuth, PrivateKey, SecretSource};
use idaas::config::{AuthnMethod, Config};
use idaas::exchange::TokenExchangeRequest;
use idaas::provider::{Credential, CredentialProvider, StaticProvider};
use idaas::token::{Form, TokenRequest};
use idaas::{Client, SecretString};
use std::sync::Arc;

const CLIENT_SECRET: &str = "cs-TOPSECRET-9f8e7d";
const ACCESS_TOKEN: &str = "at-TOPSECRET-eyJhbGciOi";
const REFRESH_TOKEN: &str = "rt-TOPSECRET-abc";
const ID_TOKEN: &str = "it-TOPSECRET-xyz";

fn key_pem() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/keys/ec256_pkcs8.pem"
    ))
    .unwrap()
}

fn key_body_fragment() -> String {
    // a distinctive piece of the base64 body
    key_pem().lines().nth(1).unwrap()[..32].to_string()
}

fn assert_clean(what: &str, text: &str) {
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
