//! PAM client against the emulator: every operation, exact wire bytes, pagination, 3LO polling.

mod pam_support;

use idaas::pam::{
    CancelToken, FetchOAuthOptions, GenerateJwtOptions, ListAuthenticationTokensOptions,
    PollOptions,
};
use idaas::{ErrorKind, SecretString};
use pam_support::Env;
use serde_json::json;
use std::time::{Duration, Instant};

const API_KEY: &str = "sk-EXAMPLE0123456789abcdef";

#[test]
fn get_api_key_over_https_and_plain_http() {
    let env = Env::start();
    let key = env.pam().get_api_key("openai_prod_key").unwrap().unwrap();
    assert_eq!(key.expose(), API_KEY);
    let key = env
        .pam_http()
        .get_api_key("openai_prod_key")
        .unwrap()
        .unwrap();
    assert_eq!(key.expose(), API_KEY);
    let reqs = env.devapi_requests();
    assert_eq!(reqs.len(), 2);
    assert!(reqs[0].tls && !reqs[1].tls);
    // An OAuth-client credential has no apiKeyContent: None, not an error.
    assert!(env
        .pam()
        .get_api_key("partner_oauth_client")
        .unwrap()
        .is_none());
}

#[test]
fn obtain_credential_wire_format() {
    let env = Env::start();
    let pam = env.pam();
    pam.get_api_key("openai_prod_key").unwrap();
    pam.get_api_key("openai_prod_key").unwrap();
    let reqs = env.devapi_requests();
    let r = &reqs[0];
    assert_eq!(r.method, "GET");
    assert_eq!(
        r.path,
        format!("/v2/{}/credentials/_/actions/obtain", env.emu.instance_id())
    );
    assert_eq!(
        r.query.as_deref(),
        Some("credentialIdentifier=openai_prod_key")
    );
    // The header set of pam.md §2.2, in this order.
    let expected = [
        "date",
        "host",
        "accept",
        "x-acs-signature-nonce",
        "x-acs-signature-method",
        "x-acs-signature-version",
        "x-acs-version",
        "x-acs-action",
        "user-agent",
        "authorization",
    ];
    let names: Vec<&str> = r
        .headers
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| expected.contains(k))
        .collect();
    assert_eq!(
        names,
        expected,
        "headers: {:?}",
        r.headers.iter().map(|h| &h.0).collect::<Vec<_>>()
    );
    assert!(
        r.header("content-type").is_none(),
        "GET has no content-type"
    );
    assert!(httpdate::parse_http_date(r.header("date").unwrap()).is_ok());
    assert!(r.header("date").unwrap().ends_with(" GMT"));
    assert_eq!(
        r.header("host"),
        Some(env.emu.developer_api_endpoint().as_str())
    );
    assert_eq!(r.header("accept"), Some("application/json"));
    let nonce = r.header("x-acs-signature-nonce").unwrap();
    assert_eq!(nonce.len(), 32);
    assert!(nonce
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    assert_ne!(
        Some(nonce),
        reqs[1].header("x-acs-signature-nonce"),
        "nonce is unique"
    );
    assert_eq!(r.header("x-acs-signature-method"), Some("HMAC-SHA1"));
    assert_eq!(r.header("x-acs-signature-version"), Some("1.0"));
    assert_eq!(r.header("x-acs-version"), Some("2022-02-25"));
    assert_eq!(r.header("x-acs-action"), Some("ObtainCredential"));
    let ua = r.header("user-agent").unwrap();
    assert_eq!(
        ua,
        format!(
            "AlibabaCloud ({}; {}) Rust idaas/{}",
            std::env::consts::OS,
            std::env::consts::ARCH,
            idaas::VERSION
        )
    );
    assert!(r.header("authorization").unwrap().starts_with("Bearer ey"));
}

#[test]
fn generate_jwt_body_is_byte_exact_and_lifecycle_works() {
    let env = Env::start();
    let pam = env.pam();
    let opts = GenerateJwtOptions {
        issuer: Some("https://issuer.acme.example".into()),
        custom_claims: Some(vec![
            ("tenant".into(), json!("acme")),
            ("tier".into(), json!(2)),
            ("region".into(), json!("zürich")),
        ]),
        expiration: Some(900),
        include_derived_short_token: Some(true),
    };
    let r = pam
        .generate_jwt_authentication_token(
            "partner_jwt",
            "billing-agent",
            &["https://api.partner.example".to_string()],
            &opts,
        )
        .unwrap();
    let req = env
        .devapi_requests()
        .into_iter()
        .find(|r| r.header("x-acs-action") == Some("GenerateJwtAuthenticationToken"))
        .unwrap();
    assert_eq!(req.method, "POST");
    assert!(req
        .path
        .ends_with("/authenticationTokens/_/actions/generateJwt"));
    assert_eq!(
        req.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(
        req.body,
        r#"{"audiences":["https://api.partner.example"],"credentialProviderIdentifier":"partner_jwt","customClaims":{"tenant":"acme","tier":2,"region":"zürich"},"expiration":900,"includeDerivedShortToken":true,"issuer":"https://issuer.acme.example","subject":"billing-agent"}"#
    );
    assert!(req.query.is_none());

    // Result fields, Debug redaction, JSON serialization with wire names.
    let jwt = r.jwt_content.jwt_value.clone();
    let dst = r
        .jwt_content
        .derived_short_token
        .clone()
        .expect("derived short token");
    assert_eq!(jwt.expose().split('.').count(), 3);
    let token_id = r.authentication_token_id.clone().unwrap();
    let consumer = r.consumer_id.clone().unwrap();
    let dbg = format!("{r:?}");
    assert!(!dbg.contains(jwt.expose()) && !dbg.contains(dst.expose()));
    let ser = serde_json::to_value(&r).unwrap();
    assert_eq!(ser["jwtContent"]["jwtValue"], json!(jwt.expose()));
    assert_eq!(ser["authenticationTokenId"], json!(token_id));

    // validate (no Authorization header), obtain, obtain by short token (no Authorization: D-30).
    assert!(pam.validate_authentication_token(&jwt, None).unwrap());
    assert!(pam
        .validate_authentication_token(&dst, Some("derived_short_token"))
        .unwrap());
    let c = pam
        .obtain_jwt_authentication_token(&consumer, &token_id)
        .unwrap();
    assert_eq!(c.jwt_value, jwt);
    let c = pam
        .obtain_jwt_authentication_token_by_derived_short_token(&dst)
        .unwrap();
    assert_eq!(c.jwt_value, jwt);
    for r in env.devapi_requests() {
        let action = r.header("x-acs-action").unwrap().to_string();
        let bearer = r.header("authorization").is_some();
        match action.as_str() {
            "ValidateAuthenticationToken" | "ObtainJwtAuthenticationTokenByDerivedShortToken" => {
                assert!(!bearer, "{action} must not carry Authorization")
            }
            _ => assert!(bearer, "{action} must carry Authorization"),
        }
        if action == "ObtainJwtAuthenticationToken" {
            assert_eq!(
                r.body,
                format!(r#"{{"authenticationTokenId":"{token_id}","consumerId":"{consumer}"}}"#)
            );
        }
        if action == "ValidateAuthenticationToken" && r.body.contains("token_type_hint") {
            assert_eq!(
                r.body,
                format!(
                    r#"{{"token":"{}","token_type_hint":"derived_short_token"}}"#,
                    dst.expose()
                )
            );
        }
    }

    // revoke → false → reinstate → true; by consumer likewise.
    pam.revoke_authentication_token(&jwt, None).unwrap();
    assert!(!pam.validate_authentication_token(&jwt, None).unwrap());
    pam.reinstate_authentication_token(&jwt, None).unwrap();
    assert!(pam.validate_authentication_token(&jwt, None).unwrap());
    pam.revoke_authentication_token_by_consumer(&consumer, "partner_jwt")
        .unwrap();
    assert!(!pam.validate_authentication_token(&jwt, None).unwrap());
    assert!(!pam.validate_authentication_token(&dst, None).unwrap());
    pam.reinstate_authentication_token_by_consumer(&consumer, "partner_jwt")
        .unwrap();
    assert!(pam.validate_authentication_token(&jwt, None).unwrap());
    let by_consumer = env
        .devapi_requests()
        .into_iter()
        .find(|r| r.header("x-acs-action") == Some("RevokeAuthenticationTokenByConsumer"))
        .unwrap();
    assert_eq!(
        by_consumer.body,
        format!(r#"{{"consumerId":"{consumer}","credentialProviderIdentifier":"partner_jwt"}}"#)
    );
    // Unknown tokens are simply inactive.
    assert!(!pam
        .validate_authentication_token(&SecretString::new("not-a-token"), None)
        .unwrap());
}

#[test]
fn minimal_generate_body_and_list_pages() {
    let env = Env::start();
    let pam = env.pam();
    let aud = vec![
        "https://a.example".to_string(),
        "https://b.example".to_string(),
    ];
    let mut consumer = String::new();
    for i in 0..5 {
        let r = pam
            .generate_jwt_authentication_token(
                "partner_jwt",
                &format!("agent-{i}"),
                &aud,
                &GenerateJwtOptions::default(),
            )
            .unwrap();
        consumer = r.consumer_id.unwrap();
        assert!(r.jwt_content.derived_short_token.is_none());
    }
    let first = env.devapi_requests()[0].body.clone();
    assert_eq!(
        first,
        r#"{"audiences":["https://a.example","https://b.example"],"credentialProviderIdentifier":"partner_jwt","subject":"agent-0"}"#
    );

    // One page, with every query parameter (alphabetical, true/false: D-25).
    let page = pam
        .list_authentication_tokens(
            &consumer,
            "partner_jwt",
            &ListAuthenticationTokensOptions {
                next_token: None,
                max_results: Some(2),
                revoked: Some(false),
                expired: Some(false),
            },
        )
        .unwrap();
    assert_eq!(page.entities.len(), 2);
    assert!(page.total_count.unwrap() >= 5);
    assert!(page.next_page_token().is_some());
    let req = env.devapi_requests().pop().unwrap();
    assert_eq!(req.method, "GET");
    assert!(req.path.ends_with("/authenticationTokens"));
    assert_eq!(
        req.query.as_deref(),
        Some(format!("consumerId={consumer}&credentialProviderIdentifier=partner_jwt&expired=false&maxResults=2&revoked=false").as_str())
    );

    // All pages through the iterator.
    let mut it = pam.list_all(
        &consumer,
        "partner_jwt",
        ListAuthenticationTokensOptions {
            max_results: Some(2),
            ..Default::default()
        },
    );
    let all: Vec<_> = it.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(all.len(), 5);
    assert_eq!(it.pages_fetched(), 3);
    let mut ids: Vec<_> = all
        .iter()
        .map(|t| t.authentication_token_id.clone().unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5, "no token listed twice");
    assert!(all
        .iter()
        .all(|t| t.authentication_token_type.as_deref() == Some("jwt")));
    let q = env.devapi_requests().pop().unwrap().query.unwrap();
    assert!(q.contains("nextToken="), "{q}");
}

#[test]
fn oauth_2lo_and_flow_checks() {
    let env = Env::start();
    let pam = env.pam();
    let r = pam
        .fetch_oauth_authentication_token_v2(
            "google_drive_reader",
            "m2m",
            &FetchOAuthOptions::default(),
        )
        .unwrap();
    let c = r.oauth_access_token_content.clone().expect("token");
    assert!(!c.access_token_value.is_empty());
    assert!(!format!("{r:?}").contains(c.access_token_value.expose()));
    assert!(!r.has_oauth_authorization_session());
    #[allow(deprecated)]
    let legacy = pam
        .fetch_oauth_authentication_token(
            "google_drive_reader",
            Some("https://www.googleapis.com/auth/drive.readonly"),
        )
        .unwrap();
    assert!(legacy.is_some());

    // Body with every option; the flow is never sent.
    let _ = pam.fetch_oauth_authentication_token_v2(
        "google_drive_reader",
        "m2m",
        &FetchOAuthOptions {
            scope: Some("openid https://www.googleapis.com/auth/drive.readonly".into()),
            force_authentication: Some(true),
            custom_parameters: Some(vec![
                ("prompt".into(), "consent".into()),
                ("access_type".into(), "offline".into()),
            ]),
        },
    );
    let req = env.devapi_requests().pop().unwrap();
    assert_eq!(
        req.body,
        r#"{"credentialProviderIdentifier":"google_drive_reader","customParameters":{"prompt":"consent","access_type":"offline"},"forceAuthentication":true,"scope":"openid https://www.googleapis.com/auth/drive.readonly"}"#
    );

    // Invalid flow: rejected before any request.
    let before = env.devapi_requests().len();
    let e = pam
        .fetch_oauth_authentication_token_v2(
            "google_drive_reader",
            "M2M",
            &FetchOAuthOptions::default(),
        )
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.code()),
        (ErrorKind::InvalidArgument, "invalid_authorization_flow")
    );
    assert_eq!(env.devapi_requests().len(), before);

    // m2m against a 3LO provider (user-bound token): authorization_flow_mismatch.
    let user = env.pam_for_user("alice");
    let e = user
        .fetch_oauth_authentication_token_v2(
            "google_drive_user",
            "m2m",
            &FetchOAuthOptions::default(),
        )
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.code()),
        (ErrorKind::Client, "authorization_flow_mismatch")
    );
}

fn fast_poll() -> PollOptions {
    PollOptions {
        interval: Duration::from_millis(30),
        max_polls: 100,
        ..Default::default()
    }
}

#[test]
fn poll_3lo_user_approves() {
    let env = Env::start();
    let pam = env.pam_for_user("alice");
    let mut seen_url = None;
    let r = std::thread::scope(|s| {
        pam.poll_oauth_authentication_token(
            "google_drive_user",
            |url| {
                seen_url = Some(url.to_string());
                let emu = &env.emu;
                let session = emu.session_ids().last().cloned().expect("a session");
                emu.set_session_status(&session, "callback_received");
                s.spawn(move || {
                    std::thread::sleep(Duration::from_millis(150));
                    emu.set_session_status(&session, "completed");
                });
                Ok(())
            },
            &PollOptions {
                force_authentication: Some(true),
                ..fast_poll()
            },
        )
    })
    .unwrap();
    assert!(seen_url.unwrap().starts_with("http"));
    assert!(r.has_oauth_access_token_content());
    let gets = env.count_action("GetOAuthAuthorizationSession");
    assert!(gets >= 2, "polled {gets} times");
    // First fetch sent forceAuthentication, the final one did not.
    let fetches: Vec<_> = env
        .devapi_requests()
        .into_iter()
        .filter(|r| r.header("x-acs-action") == Some("FetchOAuthAuthenticationToken"))
        .collect();
    assert_eq!(fetches.len(), 2);
    assert!(fetches[0].body.contains(r#""forceAuthentication":true"#));
    assert_eq!(
        fetches[1].body,
        r#"{"credentialProviderIdentifier":"google_drive_user"}"#
    );

    // Already authorized: token at once, no callback.
    let r = pam
        .poll_oauth_authentication_token(
            "google_drive_user",
            |_| panic!("no callback expected"),
            &fast_poll(),
        )
        .unwrap();
    assert!(r.has_oauth_access_token_content());
}

#[test]
fn poll_3lo_denied_expired_timeout_cancel() {
    let env = Env::start();
    let pam = env.pam_for_user("bob");
    let set = |status: &'static str| {
        let emu = &env.emu;
        move |_: &str| {
            let id = emu.session_ids().last().cloned().unwrap();
            emu.set_session_status(&id, status);
            Ok(())
        }
    };
    let e = pam
        .poll_oauth_authentication_token("google_drive_user", set("failed"), &fast_poll())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert!(!e.code().is_empty());
    let e = pam
        .poll_oauth_authentication_token("google_drive_user", set("expired"), &fast_poll())
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.code()),
        (ErrorKind::Auth, "authorization_session_expired")
    );

    // Out of polls.
    let e = pam
        .poll_oauth_authentication_token(
            "google_drive_user",
            |_| Ok(()),
            &PollOptions {
                max_polls: 3,
                ..fast_poll()
            },
        )
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.code()),
        (ErrorKind::Timeout, "polling_timeout")
    );
    assert!(e.message().contains("after 3 retries"), "{}", e.message());

    // Out of time (hard limit).
    let e = pam
        .poll_oauth_authentication_token(
            "google_drive_user",
            |_| Ok(()),
            &PollOptions {
                max_duration: Duration::from_millis(100),
                ..fast_poll()
            },
        )
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.code()),
        (ErrorKind::Timeout, "polling_timeout")
    );

    // The callback's error propagates unchanged.
    let e = pam
        .poll_oauth_authentication_token(
            "google_drive_user",
            |_| {
                Err(idaas::Error::new(
                    ErrorKind::Cancelled,
                    "user_closed",
                    "closed",
                ))
            },
            &fast_poll(),
        )
        .unwrap_err();
    assert_eq!(e.code(), "user_closed");

    // Cancel wakes a long sleep at once.
    let cancel = CancelToken::new();
    let c2 = cancel.clone();
    let t0 = Instant::now();
    let e = std::thread::scope(|s| {
        s.spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            c2.cancel();
        });
        pam.poll_oauth_authentication_token(
            "google_drive_user",
            |_| Ok(()),
            &PollOptions {
                interval: Duration::from_secs(30),
                cancel: Some(cancel.clone()),
                ..Default::default()
            },
        )
    })
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cancelled);
    assert!(t0.elapsed() < Duration::from_secs(5));
}

#[test]
fn get_session_unknown_is_not_found() {
    let env = Env::start();
    let pam = env.pam_for_user("carol");
    let e = pam
        .get_oauth_authorization_session("urn:ietf:params:oauth:request_uri:oas_nope")
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Client);
    assert_eq!(e.http_status(), Some(404));
}
