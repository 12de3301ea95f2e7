//! Property tests of Developer API replies: a loopback HTTP stub answers every operation of the
//! PAM client with an arbitrary status and body (JSON built from the real field names, truncated
//! JSON, garbage). Never a panic; 2xx results parse or give `UnexpectedResponse`; errors follow the
//! status (D-28), keep it, stay short for non-JSON bodies, never contain the bearer token, and
//! never contain a raw control character.

mod common;
#[allow(dead_code)]
mod core_mock;

use common::prop::{body, config};
use core_mock::{MockServer, Reply};
use idaas::pam::{
    FetchOAuthOptions, GenerateJwtOptions, ListAuthenticationTokensOptions, PamClient, RetryPolicy,
};
use idaas::StaticProvider;
use idaas::{ErrorKind, SecretString};
use proptest::prelude::*;
use serde_json::Value;
use std::sync::{Arc, Mutex};

const BEARER: &str = "bearer-PROP-SECRET-7f3a";

const VOCAB: &[&str] = &[
    "credential",
    "credentialContent",
    "apiKeyContent",
    "apiKey",
    "credentialIdentifier",
    "jwtContent",
    "jwtValue",
    "derivedShortToken",
    "authenticationTokenId",
    "consumerId",
    "consumerType",
    "revoked",
    "createTime",
    "expirationTime",
    "entities",
    "totalCount",
    "maxResults",
    "nextToken",
    "oauthAccessTokenContent",
    "accessTokenValue",
    "tokenType",
    "scope",
    "oauthAuthorizationSession",
    "sessionId",
    "sessionUri",
    "sessionStatus",
    "authorizationUrl",
    "valid",
    "active",
    "error",
    "error_description",
    "request_id",
    "Code",
    "Message",
    "RequestId",
    "code",
    "message",
    "requestId",
    "pending",
    "completed",
    "m2m",
];

type Call = fn(&PamClient) -> idaas::Result<()>;

fn ops() -> Vec<(&'static str, bool, Call)> {
    // (name, void operation, call)
    vec![
        ("get_api_key", false, |p| p.get_api_key("k").map(|_| ())),
        ("fetch_oauth_v2", false, |p| {
            p.fetch_oauth_authentication_token_v2("cp", "m2m", &FetchOAuthOptions::default())
                .map(|_| ())
        }),
        ("get_session", false, |p| {
            p.get_oauth_authorization_session("urn:x").map(|_| ())
        }),
        ("generate_jwt", false, |p| {
            p.generate_jwt_authentication_token(
                "cp",
                "sub",
                &["https://aud.example".to_string()],
                &GenerateJwtOptions::default(),
            )
            .map(|_| ())
        }),
        ("obtain_jwt", false, |p| {
            p.obtain_jwt_authentication_token("c", "t").map(|_| ())
        }),
        ("obtain_by_dst", false, |p| {
            p.obtain_jwt_authentication_token_by_derived_short_token(&SecretString::new("d"))
                .map(|_| ())
        }),
        ("list", false, |p| {
            p.list_authentication_tokens("c", "cp", &ListAuthenticationTokensOptions::default())
                .map(|_| ())
        }),
        ("validate", false, |p| {
            p.validate_authentication_token(&SecretString::new("a.b.c"), None)
                .map(|_| ())
        }),
        ("revoke", true, |p| {
            p.revoke_authentication_token(&SecretString::new("a.b.c"), None)
        }),
        ("revoke_by_consumer", true, |p| {
            p.revoke_authentication_token_by_consumer("c", "cp")
        }),
        ("reinstate", true, |p| {
            p.reinstate_authentication_token(&SecretString::new("a.b.c"), None)
        }),
        ("reinstate_by_consumer", true, |p| {
            p.reinstate_authentication_token_by_consumer("c", "cp")
        }),
    ]
}

#[test]
fn every_operation_handles_any_reply() {
    let reply: Arc<Mutex<Reply>> = Arc::new(Mutex::new(Reply::json(200, "{}")));
    let r2 = reply.clone();
    let server = MockServer::start(move |_, _| r2.lock().unwrap().clone());
    let pam = PamClient::builder()
        .endpoint(format!("http://127.0.0.1:{}", server.port))
        .instance_id("idaas_prop")
        .provider(StaticProvider::from_token(BEARER).shared())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let ops = ops();
    let mut runner = proptest::test_runner::TestRunner::new(config("prop_devapi", 16384));
    let strategy = (
        0..ops.len(),
        prop_oneof![
            5 => Just(200u16),
            1 => prop::sample::select(vec![201u16, 202, 204, 206, 299]),
            1 => prop::sample::select(vec![301u16, 302, 304, 307]),
            2 => prop::sample::select(vec![400u16, 401, 403, 404, 409, 429]),
            2 => prop::sample::select(vec![500u16, 502, 503, 504]),
        ],
        body(VOCAB).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    );
    runner
        .run(&strategy, |(i, status, text)| {
            let (name, void, call) = ops[i];
            // A 401 takes the refresh-and-retry path, but a static provider hands out the same
            // token again, so the request is not repeated.
            *reply.lock().unwrap() = Reply::json(status, &text).header("x-acs-request-id", "RID-P");
            let before = server.count();
            let r = call(&pam);
            let sent = server.count() - before;
            let wire = if status == 204 || status == 304 {
                ""
            } else {
                text.as_str()
            };
            let json: Option<Value> = serde_json::from_str(wire).ok();
            match r {
                Ok(()) => {
                    prop_assert!((200..300).contains(&status), "{name}: Ok for HTTP {status}");
                    if !void {
                        prop_assert_eq!(status, 200, "{}: result from HTTP {}", name, status);
                        prop_assert!(json.as_ref().map(Value::is_object).unwrap_or(false));
                    }
                    prop_assert_eq!(sent, 1);
                }
                Err(e) => {
                    let text_all = format!("{e} {e:?}");
                    prop_assert!(
                        !text_all.contains(BEARER),
                        "{name}: bearer token in {text_all}"
                    );
                    // Server text is kept with its control characters escaped (SECURITY.md
                    // "Server text"): the error can be printed to a terminal as it is.
                    let shown = e.to_string();
                    prop_assert!(
                        !shown.chars().any(char::is_control),
                        "{name}: raw control character in {shown:?}"
                    );
                    prop_assert_ne!(e.kind(), ErrorKind::Internal, "{}: {:?}", name, e);
                    prop_assert!(
                        !(void && (200..300).contains(&status)),
                        "{name}: void op refused {status}"
                    );
                    // SDK-side validation of a well-formed 2xx reply (pam.md §3.2): a session where
                    // the m2m flow expects a token.
                    if (200..300).contains(&status) && e.code() == "authorization_flow_mismatch" {
                        prop_assert_eq!(e.kind(), ErrorKind::Client);
                        prop_assert_eq!(name, "fetch_oauth_v2");
                        return Ok(());
                    }
                    let expected = match status {
                        200..=299 => ErrorKind::UnexpectedResponse,
                        300..=399 => ErrorKind::UnexpectedResponse,
                        401 | 403 => ErrorKind::Auth,
                        400..=499 => ErrorKind::Client,
                        _ => ErrorKind::Server,
                    };
                    prop_assert_eq!(e.kind(), expected, "{}: HTTP {} {:?}", name, status, e);
                    prop_assert_eq!(e.http_status(), Some(status));
                    if json.is_none() {
                        prop_assert!(
                            e.message().chars().count() <= 400,
                            "{name}: {} chars",
                            e.message().len()
                        );
                    }
                    if status >= 400 {
                        prop_assert!(e.request_id().is_some(), "{name}: request id");
                    }
                    prop_assert_eq!(sent, 1, "{}", name);
                }
            }
            Ok(())
        })
        .unwrap();
}
