//! Property tests of token-endpoint replies: arbitrary statuses, headers and bodies through the
//! public parser (`idaas::internals::token::parse_token_response`, many cases) and through a real loopback
//! HTTP stub and a `Client` (fewer cases: each builds a client and makes requests).
//!
//! Properties: never a panic; 2xx + JSON object with a string `access_token` within its character
//! set (and the other string fields within theirs, SECURITY.md "Server text") → that token, with the
//! D-11 expiry rule; anything else → a typed error whose kind follows the status, which keeps the
//! status, whose message stays short whatever the body size, and whose text has no raw control
//! character.

mod common;
#[allow(dead_code)]
mod core_mock;

use common::prop::{body, config};
use core_mock::{MockServer, Reply};
use idaas::escape_controls;
use idaas::internals::server_text::violation;
use idaas::internals::server_text::TextRule;
use idaas::internals::token::parse_token_response;
use idaas::internals::HttpResponse;
use idaas::{Client, ErrorKind};
use proptest::prelude::*;
use serde_json::Value;
use std::sync::{Arc, Mutex};

const VOCAB: &[&str] = &[
    "access_token",
    "token_type",
    "expires_in",
    "expires_at",
    "id_token",
    "refresh_token",
    "issued_token_type",
    "scope",
    "error",
    "error_description",
    "request_id",
    "Code",
    "Message",
    "RequestId",
    "Bearer",
    "1200",
    "0",
    "-1",
    "1e309",
];

/// Longest acceptable error message, whatever the body size.
const MAX_MESSAGE: usize = 1024;

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![
        4 => Just(200u16),
        1 => 200u16..300,
        1 => 300u16..400,
        2 => prop::sample::select(vec![400u16, 401, 403, 404, 429]),
        1 => 400u16..500,
        2 => 500u16..600,
    ]
}

fn headers() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(
        (
            prop::sample::select(vec![
                "retry-after",
                "location",
                "x-request-id",
                "content-type",
            ]),
            common::prop::nasty_string(),
        )
            .prop_map(|(k, v)| (k.to_string(), v)),
        0..4,
    )
}

fn big_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        8 => body(VOCAB),
        1 => (1usize..200_000).prop_map(|n| vec![b'x'; n]),
        1 => (1usize..50_000).prop_map(|n| format!(r#"{{"error":"e","error_description":"{}"}}"#, "d".repeat(n)).into_bytes()),
    ]
}

/// True when a string field of the reply breaks its character-set rule (SECURITY.md "Server text").
fn breaks_a_rule(obj: &serde_json::Map<String, Value>) -> bool {
    [
        ("access_token", TextRule::B64Token),
        ("refresh_token", TextRule::VsChar),
        ("id_token", TextRule::Jwt),
        ("token_type", TextRule::NoControl),
        ("scope", TextRule::NoControl),
        ("issued_token_type", TextRule::NoControl),
    ]
    .iter()
    .any(|(k, rule)| match obj.get(*k).and_then(Value::as_str) {
        Some(v) if !v.is_empty() => violation(v, *rule).is_some(),
        _ => false,
    })
}

/// The expected outcome, from the raw reply.
/// `now`: the parser's clock, when known exactly (the HTTP path reads a real clock).
fn check(
    status: u16,
    body: &[u8],
    r: idaas::Result<idaas::Credential>,
    now: Option<u64>,
) -> Result<(), TestCaseError> {
    let json: Option<serde_json::Map<String, Value>> = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| match v {
            Value::Object(m) => Some(m),
            _ => None,
        });
    match r {
        Ok(c) => {
            prop_assert!((200..300).contains(&status), "Ok for HTTP {status}");
            let obj = json.as_ref();
            prop_assert!(obj.is_some(), "Ok for a body that is not a JSON object");
            let obj = obj.unwrap();
            // A usable token: a non-empty string access_token, handed out verbatim.
            match obj.get("access_token") {
                Some(Value::String(t)) if !t.is_empty() => {
                    prop_assert_eq!(c.access_token.expose(), t.as_str())
                }
                other => prop_assert!(false, "Ok without a usable access_token: {other:?}"),
            }
            prop_assert!(
                !breaks_a_rule(obj),
                "Ok for a value outside its character set"
            );
            // D-11 + clock-skew rule, checked where both fields are plain integers (or absent).
            let plain = |k: &str| {
                obj.get(k)
                    .map(|v| v.is_u64() || v.is_null())
                    .unwrap_or(true)
            };
            let at = obj.get("expires_at").and_then(Value::as_u64).unwrap_or(0);
            let inn = obj.get("expires_in").and_then(Value::as_u64).unwrap_or(0);
            if let (Some(now), true) = (now, plain("expires_at") && plain("expires_in")) {
                let expected = if at > now || inn == 0 { at } else { now + inn };
                prop_assert_eq!(c.expires_at, expected);
                prop_assert!(
                    c.expires_at == 0 || c.expires_at > now,
                    "expired token served"
                );
            }
        }
        Err(e) => {
            // Our own text and body snippets are bounded; the server's `error_description` /
            // `Message` is kept verbatim (bounded only by the 1 MiB body limit; see SECURITY.md).
            let server_text = json.as_ref().and_then(|o| {
                ["error_description", "Message"]
                    .iter()
                    .find_map(|k| o.get(*k).and_then(Value::as_str))
            });
            prop_assert!(
                e.message().chars().count() <= MAX_MESSAGE
                    || Some(e.message()) == server_text.map(escape_controls).as_deref(),
                "message of {} chars",
                e.message().len()
            );
            let shown = e.to_string();
            prop_assert!(
                !shown.chars().any(char::is_control),
                "raw control character in {shown:?}"
            );
            prop_assert_ne!(e.kind(), ErrorKind::Internal);
            if (200..300).contains(&status) {
                prop_assert_eq!(e.kind(), ErrorKind::UnexpectedResponse);
                if let Some(obj) = &json {
                    // A JSON object is refused only for a missing/empty access_token, a value
                    // outside its character set, or a token that is already expired with no
                    // expires_in to fall back on (in that order).
                    let has_token =
                        matches!(obj.get("access_token"), Some(Value::String(t)) if !t.is_empty());
                    let expected = if !has_token {
                        "AccessTokenNotFound"
                    } else if breaks_a_rule(obj) {
                        "InvalidResponseValue"
                    } else {
                        "TokenAlreadyExpired"
                    };
                    prop_assert_eq!(e.code(), expected, "{:?}", e);
                }
            } else {
                let kind = match status {
                    300..=399 => ErrorKind::UnexpectedResponse,
                    429 => ErrorKind::Client,
                    400..=499 => ErrorKind::Auth,
                    _ => ErrorKind::Server,
                };
                prop_assert_eq!(e.kind(), kind);
            }
            prop_assert_eq!(e.http_status(), Some(status));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config("prop_token", 20000))]

    #[test]
    fn parser_handles_any_reply(status in status(), headers in headers(), body in big_body(), now in 0u64..4_000_000_000) {
        let resp = HttpResponse { status, headers, body: body.clone() };
        let r = parse_token_response(&resp, now);
        check(status, &body, r, Some(now))?;
    }
}

#[test]
fn client_handles_any_reply_over_http() {
    // One stub for all cases; each case sets the reply it serves.
    let reply: Arc<Mutex<Reply>> = Arc::new(Mutex::new(Reply::json(200, "{}")));
    let r2 = reply.clone();
    let server = MockServer::start(move |_, _| r2.lock().unwrap().clone());
    let cfg = serde_json::json!({
        "idaasInstanceId": "idaas_prop",
        "clientId": "app_prop",
        "issuer": server.url("/oauth2"),
        "tokenEndpoint": server.url("/oauth2/token"),
        "scope": "api.example.com|read",
        "authnConfiguration": {"identityType": "CLIENT", "authnMethod": "CLIENT_SECRET_POST",
                               "clientSecretEnvVarName": "UNUSED_PROP_SECRET"},
    });
    let mut runner = proptest::test_runner::TestRunner::new(config("prop_token_http", 256));
    let strategy = (
        prop::sample::select(vec![
            200u16, 201, 204, 302, 400, 401, 404, 429, 500, 502, 503,
        ]),
        body(VOCAB).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    );
    runner
        .run(&strategy, |(status, text)| {
            *reply.lock().unwrap() = Reply::json(status, &text).header("x-request-id", "RID-PROP");
            let mut c = idaas::Config::from_json_value(&cfg).unwrap();
            c.authn.client_secret_supplier =
                Some(Arc::new(|| Ok(idaas::SecretString::new("s3cr3t"))));
            let client = Client::builder(c)
                .retry_policy(idaas::RetryPolicy {
                    max_attempts: 3,
                    base_delay: std::time::Duration::from_millis(1),
                    max_delay: std::time::Duration::from_millis(2),
                })
                .build()
                .unwrap();
            let before = server.count();
            let r = client.credential().map(|c| (*c).clone());
            let sent = server.count() - before;
            prop_assert!((1..=3).contains(&sent), "{sent} requests");
            // 204 has no body on the wire, whatever the stub was told.
            let wire_body = if status == 204 { "" } else { text.as_str() };
            if let Err(e) = &r {
                prop_assert!(!e.to_string().contains("s3cr3t"));
                if status >= 400 {
                    prop_assert_eq!(e.request_id().is_some(), true, "request id kept: {:?}", e);
                }
            }
            check(status, wire_body.as_bytes(), r, None)
        })
        .unwrap();
}
