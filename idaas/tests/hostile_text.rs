//! Hostile-server suite, server-controlled text (SECURITY.md "Server text"): small scripted servers
//! on 127.0.0.1 (tests/core_mock) that send tokens outside their character sets, terminal escape
//! sequences in error text, and echo our whole request (body and headers) back in their errors.
//!
//! * A token, API key or JWT outside its set is refused (`UnexpectedResponse`,
//!   `InvalidResponseValue`), the field named, the value never shown (Display and Debug).
//! * Control characters in server text are escaped in the error (`\u{1b}`, `\n`).
//! * The secrets of the failed request are redacted from the server's error text, for every
//!   client-authentication method, token exchange and the Developer API.

#[allow(dead_code)]
mod core_mock;

use base64::Engine;
use core_mock::{MockServer, Recorded, Reply};
use idaas::pam::{PamClient, RetryPolicy};
use idaas::AuthnMethod;
use idaas::Config;
use idaas::ConfigBuilder;
use idaas::RetryPolicy as TokenRetry;
use idaas::StaticProvider;
use idaas::TokenExchangeRequest;
use idaas::TOKEN_TYPE_JWT;
use idaas::{Client, Credential, Error, ErrorKind, SecretString};
use serde_json::json;
use std::sync::Arc;

/// A marker inside every hostile token value: it must never appear in an error.
const MARK: &str = "HOSTILEVALUE";

fn cfg(server: &MockServer, method: AuthnMethod) -> ConfigBuilder {
    Config::builder()
        .idaas_instance_id("idaas_abc")
        .client_id("app_abc")
        .issuer("https://issuer.example")
        .token_endpoint(server.url("/oauth2/token"))
        .scope("api.example.com|read")
        .authn_method(method)
}

fn client(c: ConfigBuilder) -> Client {
    Client::builder(c.build().unwrap())
        .retry_policy(TokenRetry::none())
        .build()
        .unwrap()
}

fn secret_client(server: &MockServer, method: AuthnMethod, secret: &str) -> Client {
    client(cfg(server, method).client_secret(SecretString::new(secret)))
}

/// Display and Debug of `e`, where nothing must leak.
fn shown(e: &Error) -> String {
    format!("{e}\n{e:?}")
}

fn assert_no_control(e: &Error) {
    for text in [e.to_string(), e.message().to_string(), e.code().to_string()] {
        assert!(
            !text.chars().any(char::is_control),
            "raw control character in {text:?}"
        );
    }
}

/// A token reply carrying `fields` (merged over a valid 600 s reply).
fn token_reply(fields: serde_json::Value) -> Reply {
    let mut v = json!({"access_token": "good-token", "token_type": "Bearer", "expires_in": 600});
    for (k, val) in fields.as_object().unwrap() {
        v[k] = val.clone();
    }
    Reply::json(200, &v.to_string())
}

fn assert_refused(e: &Error, field: &str) {
    assert_eq!(e.kind(), ErrorKind::UnexpectedResponse, "{e:?}");
    assert_eq!(e.code(), "InvalidResponseValue", "{e:?}");
    assert!(e.message().contains(field), "field not named: {e}");
    assert!(!shown(e).contains(MARK), "value shown: {}", shown(e));
    assert_no_control(e);
}

// ---- (a) character sets --------------------------------------------------------------------------

#[test]
fn access_tokens_outside_b64token_are_refused_and_never_shown() {
    for (bad, reason) in [
        (format!("{MARK}\nInjected: header"), "control character"),
        (format!("{MARK}\u{1b}[2J"), "control character"),
        (format!("{MARK} with-space"), "space"),
        (format!("{MARK}é"), "non-ASCII"),
        (format!("{MARK}\u{9b}31m"), "control character"),
        (format!("{MARK}:colon"), "b64token"),
    ] {
        let reply = token_reply(json!({ "access_token": bad }));
        let s = MockServer::start(move |_, _| reply.clone());
        let c = secret_client(&s, AuthnMethod::ClientSecretPost, "s3cr3t-value");
        let e = c.bearer_token().expect_err(&format!("accepted {bad:?}"));
        assert_refused(&e, "access_token");
        assert!(e.message().contains(reason), "{bad:?}: {e}");
        assert_eq!(e.http_status(), Some(200));
        assert_eq!(s.count(), 1, "not retried");
    }
}

#[test]
fn other_token_fields_are_checked() {
    for (fields, field) in [
        (
            json!({"refresh_token": format!("{MARK}\u{7}")}),
            "refresh_token",
        ),
        (json!({"id_token": format!("{MARK}-not-a-jwt")}), "id_token"),
        (json!({"id_token": format!("{MARK}.e30.c2ln=")}), "id_token"),
        (
            json!({"token_type": format!("Bearer\u{1b}[1m{MARK}")}),
            "token_type",
        ),
        (json!({"scope": format!("read\n{MARK}")}), "scope"),
    ] {
        let reply = token_reply(fields);
        let s = MockServer::start(move |_, _| reply.clone());
        let e = secret_client(&s, AuthnMethod::ClientSecretPost, "s3cr3t-value")
            .credential()
            .unwrap_err();
        assert_refused(&e, field);
    }
    // What the rules allow: b64token with padding, a JWT id token, a refresh token with a space.
    let reply = token_reply(json!({
        "access_token": "a-B.c_d~e+f/g==",
        "id_token": "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln",
        "refresh_token": "rt with space",
        "scope": "api.example.com|read api.example.com|write",
    }));
    let s = MockServer::start(move |_, _| reply.clone());
    let cred = secret_client(&s, AuthnMethod::ClientSecretPost, "s3cr3t-value")
        .credential()
        .unwrap();
    assert_eq!(cred.access_token.expose(), "a-B.c_d~e+f/g==");
}

#[test]
fn token_exchange_results_are_checked() {
    let reply = token_reply(json!({
        "access_token": format!("{MARK}\r\nX: y"),
        "issued_token_type": TOKEN_TYPE_JWT,
    }));
    let s = MockServer::start(move |_, _| reply.clone());
    let e = secret_client(&s, AuthnMethod::ClientSecretPost, "s3cr3t-value")
        .exchange_token(&TokenExchangeRequest::for_jwt("eyJh.eyJi.c2ln"))
        .unwrap_err();
    assert_refused(&e, "access_token");
}

#[test]
fn plugin_tokens_must_be_visible_ascii() {
    let build = |token: &'static str| {
        Client::builder(
            Config::builder()
                .idaas_instance_id("idaas_abc")
                .client_id("app_abc")
                .issuer("https://issuer.example")
                .token_endpoint("https://issuer.example/token")
                .authn_method(AuthnMethod::Plugin)
                .plugin_name("p")
                .build()
                .unwrap(),
        )
        .plugin(
            "p",
            Arc::new(move |_: &str| -> idaas::Result<Credential> {
                Ok(Credential {
                    access_token: SecretString::new(token),
                    expires_in: 600,
                    ..Default::default()
                })
            }),
        )
        .build()
        .unwrap()
    };
    let e = build("HOSTILEVALUE\nX").bearer_token().unwrap_err();
    assert_eq!(
        (e.kind(), e.code()),
        (ErrorKind::Credential, "InvalidResponseValue")
    );
    assert!(!shown(&e).contains(MARK) && e.message().contains("access_token"));
    // Outside b64token but visible ASCII: a plugin may hand out such tokens.
    assert_eq!(
        build("scope|x:y#1").bearer_token().unwrap().expose(),
        "scope|x:y#1"
    );
}

fn pam_client(s: &MockServer, bearer: &str) -> PamClient {
    PamClient::builder()
        .endpoint(format!("http://127.0.0.1:{}", s.port))
        .instance_id("idaas_abc")
        .provider(StaticProvider::from_token(bearer).shared())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
}

#[test]
fn developer_api_secrets_are_checked() {
    let api_key = |key: &str| {
        let body = json!({"credentialType": "api_key",
            "credentialContent": {"apiKeyContent": {"apiKey": key}}})
        .to_string();
        let s = MockServer::start(move |_, _| Reply::json(200, &body));
        pam_client(&s, "bearer-token").get_api_key("cred_1")
    };
    for bad in [
        format!("sk-{MARK}\n"),
        format!("sk-{MARK}\u{1b}]0;title\u{7}"),
        format!("sk {MARK}"),
    ] {
        let e = api_key(&bad).expect_err(&format!("accepted {bad:?}"));
        assert_refused(&e, "apiKey");
        assert_eq!(e.http_status(), Some(200));
    }
    // Visible ASCII, including punctuation, is a valid API key.
    assert_eq!(
        api_key("sk-!#$%&()*+,:;<=>?@[]^_{|}~")
            .unwrap()
            .unwrap()
            .expose(),
        "sk-!#$%&()*+,:;<=>?@[]^_{|}~"
    );

    let jwt_reply = |jwt: String, dst: &str| {
        let body = json!({"authenticationTokenId": "atntkn_1",
            "jwtContent": {"jwtValue": jwt, "derivedShortToken": dst}})
        .to_string();
        let s = MockServer::start(move |_, _| Reply::json(200, &body));
        pam_client(&s, "bearer-token").obtain_jwt_authentication_token("c", "atntkn_1")
    };
    for bad in [
        format!("{MARK}.eyJi.c2ln\n"),
        format!("{MARK}.eyJi"),
        format!("{MARK}.eyJi.c2ln+"),
    ] {
        assert_refused(&jwt_reply(bad, "dst_1").unwrap_err(), "jwtValue");
    }
    assert_refused(
        &jwt_reply("eyJh.eyJi.c2ln".into(), &format!("dst_{MARK}\u{1b}")).unwrap_err(),
        "derivedShortToken",
    );
    assert!(jwt_reply("eyJh.eyJi.c2ln".into(), "dst_1").is_ok());

    let body = json!({"oauthAccessTokenContent":
        {"accessTokenValue": format!("{MARK} x"), "tokenType": "Bearer"}})
    .to_string();
    let s = MockServer::start(move |_, _| Reply::json(200, &body));
    let e = pam_client(&s, "bearer-token")
        .fetch_oauth_authentication_token_v2("cp", "m2m", &Default::default())
        .unwrap_err();
    assert_refused(&e, "accessTokenValue");
}

// ---- (b) escaping --------------------------------------------------------------------------------

#[test]
fn escape_sequences_in_server_errors_are_escaped() {
    let s = MockServer::start(|_, _| {
        Reply::json(
            401,
            &json!({
                "error": "invalid_client\u{1b}[8m",
                "error_description": "\u{1b}[31mred\u{1b}[0m\nforged line\r\u{9b}2J\u{7f}",
                "request_id": "rid\u{1b}]0;owned\u{7}",
            })
            .to_string(),
        )
    });
    let e = secret_client(&s, AuthnMethod::ClientSecretPost, "s3cr3t-value")
        .bearer_token()
        .unwrap_err();
    assert_no_control(&e);
    assert_eq!(e.code(), "invalid_client\\u{1b}[8m");
    assert_eq!(
        e.message(),
        "\\u{1b}[31mred\\u{1b}[0m\\nforged line\\r\\u{9b}2J\\u{7f}"
    );
    assert_eq!(e.request_id(), Some("rid\\u{1b}]0;owned\\u{7}"));
    assert!(e.to_string().contains("\\u{1b}[31mred"), "{e}");

    // A non-JSON body (snippet) and a redirect's Location (a C1 CSI in UTF-8).
    let s = MockServer::start(|_, i| {
        if i == 0 {
            Reply::json(502, "<h1>\u{1b}[5mdown</h1>\n")
        } else {
            Reply::json(302, "").header("Location", "https://elsewhere.invalid/\u{9b}2J")
        }
    });
    let c = secret_client(&s, AuthnMethod::ClientSecretPost, "s3cr3t-value");
    let e = c.bearer_token().unwrap_err();
    assert_no_control(&e);
    assert!(e.message().contains("\\u{1b}[5mdown"), "{e}");
    let e = c
        .exchange_token(&TokenExchangeRequest::for_jwt("a.b.c"))
        .unwrap_err();
    assert_no_control(&e);
    assert!(e.message().contains("elsewhere.invalid/\\u{9b}2J"), "{e}");

    // The Developer API error mapping.
    let s = MockServer::start(|_, _| {
        Reply::json(
            404,
            &json!({"Code": "NotFound\u{1b}[1m", "Message": "gone\u{1b}[2K\n", "RequestId": "r\u{85}"})
                .to_string(),
        )
    });
    let e = pam_client(&s, "bearer-token").get_api_key("k").unwrap_err();
    assert_no_control(&e);
    assert_eq!(e.message(), "gone\\u{1b}[2K\\n");
    assert_eq!(e.request_id(), Some("r\\u{85}"));
}

// ---- (c) redaction -------------------------------------------------------------------------------

/// The whole request as text: method and path, the `Authorization` header, the body, the other
/// headers (secrets first, so that the 200-300 character body snippets of non-JSON errors hold them).
fn echo(r: &Recorded) -> String {
    let mut s = format!("{} {}\n", r.method, r.path);
    if let Some(a) = r.header("authorization") {
        s.push_str(&format!("Authorization: {a}\n"));
    }
    s.push_str(&r.body);
    s.push('\n');
    for (k, v) in &r.headers {
        if !k.eq_ignore_ascii_case("authorization") {
            s.push_str(&format!("{k}: {v}\n"));
        }
    }
    s
}

/// A server that echoes the request in every text field of a JSON error (`status`), or as a plain
/// text body when `json` is false.
fn echo_server(status: u16, json: bool) -> MockServer {
    MockServer::start(move |r, _| {
        let text = echo(r);
        if json {
            Reply::json(
                status,
                &json!({"error": "invalid_request", "error_description": text,
                        "Code": "Bad", "Message": text, "request_id": text})
                .to_string(),
            )
        } else {
            Reply::json(status, &text)
        }
    })
}

/// The request's form field `name`, decoded.
fn form_field(r: &Recorded, name: &str) -> String {
    let raw = r
        .body
        .split('&')
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} in {}", r.body));
    let bytes = raw.replace('+', " ");
    let mut out = Vec::new();
    let b = bytes.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push(u8::from_str_radix(&bytes[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// `e` (and the request as echoed) must contain none of `secrets`, and show the redaction marker.
fn assert_redacted(e: &Error, recorded: &Recorded, secrets: &[String]) {
    let text = shown(e);
    let echoed = echo(recorded);
    for s in secrets {
        assert!(echoed.contains(s.as_str()), "the server did not echo {s:?}");
        assert!(!text.contains(s.as_str()), "secret {s:?} in error: {text}");
    }
    assert!(text.contains("** redacted **"), "{text}");
    assert_no_control(e);
}

/// A client secret with characters that form- and percent-encoding change.
const CLIENT_SECRET: &str = "cs+SECRET/7:x y%z";

#[test]
fn client_secret_post_is_redacted_from_echoed_requests() {
    for json in [true, false] {
        let s = echo_server(400, json);
        let e = secret_client(&s, AuthnMethod::ClientSecretPost, CLIENT_SECRET)
            .bearer_token()
            .unwrap_err();
        let r = &s.recorded()[0];
        let encoded = idaas::internals::token::form_encode(CLIENT_SECRET);
        assert!(r.body.contains(&encoded));
        assert_redacted(&e, r, &[encoded]);
        assert!(!shown(&e).contains("SECRET/7"));
    }
}

#[test]
fn client_secret_basic_is_redacted_from_echoed_requests() {
    for json in [true, false] {
        let s = echo_server(401, json);
        let e = secret_client(&s, AuthnMethod::ClientSecretBasic, CLIENT_SECRET)
            .bearer_token()
            .unwrap_err();
        let r = &s.recorded()[0];
        let b64 = base64::engine::general_purpose::STANDARD
            .encode(format!("app_abc:{CLIENT_SECRET}").as_bytes());
        assert_eq!(
            r.header("authorization"),
            Some(format!("Basic {b64}").as_str())
        );
        assert_redacted(&e, r, &[b64]);
    }
    // A server that decodes the credential and quotes it.
    let s = MockServer::start(|r, _| {
        let b64 = r
            .header("authorization")
            .unwrap()
            .trim_start_matches("Basic ");
        let raw = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        let raw = String::from_utf8(raw).unwrap();
        Reply::json(401, &json!({"error": "invalid_client", "error_description": format!("bad credentials {raw}")}).to_string())
    });
    let e = secret_client(&s, AuthnMethod::ClientSecretBasic, CLIENT_SECRET)
        .bearer_token()
        .unwrap_err();
    assert!(!shown(&e).contains(CLIENT_SECRET), "{e}");
    assert_eq!(e.message(), "bad credentials app_abc:** redacted **");
}

#[test]
fn client_assertions_are_redacted_from_echoed_requests() {
    let key = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../emulator/fixtures/keys/ec256_pkcs8.pem"
    ))
    .unwrap();
    for method in [AuthnMethod::ClientSecretJwt, AuthnMethod::PrivateKeyJwt] {
        let s = echo_server(400, true);
        let c = match method {
            AuthnMethod::ClientSecretJwt => secret_client(&s, method, CLIENT_SECRET),
            _ => client(cfg(&s, method).private_key_pem(SecretString::new(key.clone()))),
        };
        let e = c.bearer_token().unwrap_err();
        let r = &s.recorded()[0];
        let assertion = form_field(r, "client_assertion");
        assert_eq!(assertion.split('.').count(), 3);
        assert_redacted(&e, r, &[assertion]);
    }
}

#[test]
fn exchanged_tokens_are_redacted_from_echoed_requests() {
    let subject = "eyJTUBJECT0.eyJzdWIiOiJ1c2VyMSJ9.c2lnU1VCSkVDVA";
    let actor = "eyJBQ1RPUg0.eyJhY3QiOiJ4In0.c2lnQUNUT1I";
    for json in [true, false] {
        let s = echo_server(400, json);
        let e = secret_client(&s, AuthnMethod::ClientSecretPost, CLIENT_SECRET)
            .exchange_token(&TokenExchangeRequest::for_jwt(subject).actor(actor, TOKEN_TYPE_JWT))
            .unwrap_err();
        let r = &s.recorded()[0];
        assert_redacted(
            &e,
            r,
            &[
                subject.to_string(),
                actor.to_string(),
                idaas::internals::token::form_encode(CLIENT_SECRET),
            ],
        );
    }
}

#[test]
fn developer_api_tokens_are_redacted_from_echoed_requests() {
    let bearer = "bearer-SECRET-eyJhbGciOiJSUzI1NiJ9";
    let jwt = SecretString::new("eyJWALIDATE0.eyJzdWIiOiJ4In0.c2lnVkFMSURBVEU");
    for (status, json) in [(400, true), (401, true), (403, false), (500, false)] {
        let s = echo_server(status, json);
        let pam = pam_client(&s, bearer);
        type Op<'a> = Box<dyn Fn(&PamClient) -> idaas::Result<()> + 'a>;
        let ops: Vec<(&str, Op, bool)> = vec![
            (
                "get_api_key",
                Box::new(|p| p.get_api_key("cred_1").map(|_| ())),
                true,
            ),
            (
                "validate",
                Box::new(|p| p.validate_authentication_token(&jwt, None).map(|_| ())),
                false,
            ),
            (
                "revoke",
                Box::new(|p| p.revoke_authentication_token(&jwt, None)),
                true,
            ),
            (
                "reinstate",
                Box::new(|p| p.reinstate_authentication_token(&jwt, None)),
                true,
            ),
            (
                "by_short_token",
                Box::new(|p| {
                    p.obtain_jwt_authentication_token_by_derived_short_token(&jwt)
                        .map(|_| ())
                }),
                false,
            ),
        ];
        for (name, op, sends_bearer) in ops {
            let before = s.count();
            let e = op(&pam).expect_err(name);
            let r = &s.recorded()[before];
            let mut secrets = vec![];
            if sends_bearer {
                secrets.push(bearer.to_string());
            }
            if name != "get_api_key" {
                secrets.push(jwt.expose().to_string());
            }
            assert_redacted(&e, r, &secrets);
        }
    }
}
