//! PAM client error classes against the emulator (pam.md §3.4, D-26/D-27/D-28) and the
//! reliability rules (401 refresh + one retry, retries of safe operations only).

mod pam_support;

use idaas::pam::{GenerateJwtOptions, PamClient, RetryPolicy};
use idaas::{ErrorKind, SecretString};
use idaas_emulator::{ErrorStyle, Fault, FaultRule, Route};
use pam_support::Env;
use std::sync::Arc;

fn fault(action: &str, fault: Fault, times: Option<u32>) -> FaultRule {
    FaultRule {
        route: Route::DeveloperApiAction(action.into()),
        fault,
        times,
    }
}

fn status(status: u16) -> Fault {
    Fault::Status {
        status,
        retry_after: None,
        body: None,
    }
}

fn generate(pam: &PamClient) -> idaas::Result<idaas::pam::JwtTokenResponse> {
    pam.generate_jwt_authentication_token(
        "partner_jwt",
        "agent",
        &["https://api.partner.example".to_string()],
        &GenerateJwtOptions::default(),
    )
}

#[test]
fn unauthorized_refreshes_the_token_and_retries_once() {
    let env = Env::start();
    let pam = env.pam();
    pam.get_api_key("openai_prod_key").unwrap();
    let tokens_before = env.token_requests();
    assert_eq!(tokens_before, 1);

    env.emu
        .set_fault(fault("ObtainCredential", status(401), Some(1)));
    let key = pam.get_api_key("openai_prod_key").unwrap().unwrap();
    assert_eq!(key.expose(), "sk-EXAMPLE0123456789abcdef");
    assert_eq!(env.count_action("ObtainCredential"), 3);
    assert_eq!(
        env.token_requests(),
        tokens_before + 1,
        "a fresh token was fetched"
    );
    let reqs = env.devapi_requests();
    let auth = |i: usize| reqs[i].header("authorization").unwrap().to_string();
    assert_eq!(
        auth(0),
        auth(1),
        "the rejected request used the cached token"
    );
    assert_ne!(auth(1), auth(2), "the retry used a new token");

    // Non-idempotent operations get the same single retry (a 401 was not processed).
    env.emu.set_fault(fault(
        "GenerateJwtAuthenticationToken",
        status(401),
        Some(1),
    ));
    generate(&pam).unwrap();
    assert_eq!(env.count_action("GenerateJwtAuthenticationToken"), 2);

    // A second 401 is returned: exactly two attempts.
    env.emu
        .set_fault(fault("ObtainCredential", status(401), Some(2)));
    let e = pam.get_api_key("openai_prod_key").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert_eq!(e.http_status(), Some(401));
    assert!(!e.code().is_empty());
    assert_eq!(env.count_action("ObtainCredential"), 5);
}

#[test]
fn forbidden_not_found_and_both_body_styles() {
    let env = Env::start();
    let pam = env.pam();
    env.emu
        .set_fault(fault("ObtainCredential", status(403), Some(1)));
    let e = pam.get_api_key("openai_prod_key").unwrap_err();
    assert_eq!((e.kind(), e.http_status()), (ErrorKind::Auth, Some(403)));
    assert_eq!(
        env.count_action("ObtainCredential"),
        1,
        "403 is not retried"
    );

    // OAuth-style body (default).
    let e = pam.get_api_key("no_such_credential").unwrap_err();
    assert_eq!((e.kind(), e.http_status()), (ErrorKind::Client, Some(404)));
    assert!(
        !e.code().is_empty() && e.code() != "404",
        "code from the body: {e:?}"
    );
    assert!(!e.message().is_empty());
    assert!(e.request_id().is_some(), "{e:?}");
    let oauth_code = e.code().to_string();

    // POP-style body.
    env.emu.set_error_style(ErrorStyle::Pop);
    let e = pam.get_api_key("no_such_credential").unwrap_err();
    assert_eq!((e.kind(), e.http_status()), (ErrorKind::Client, Some(404)));
    assert!(!e.code().is_empty() && e.code() != "404", "{e:?}");
    assert!(e.request_id().is_some(), "{e:?}");
    assert!(!e.message().is_empty());
    let _ = oauth_code;

    // Explicit bodies of both shapes (incl. lower-case POP keys) through a fault.
    env.emu.set_fault(fault(
        "ObtainCredential",
        Fault::Status {
            status: 400,
            retry_after: None,
            body: Some(
                r#"{"code":"InvalidParameter","message":"bad id","requestId":"rid-1"}"#.into(),
            ),
        },
        Some(1),
    ));
    let e = pam.get_api_key("x").unwrap_err();
    assert_eq!(
        (e.kind(), e.code(), e.message(), e.request_id()),
        (
            ErrorKind::Client,
            "InvalidParameter",
            "bad id",
            Some("rid-1")
        )
    );
    env.emu.set_fault(fault(
        "ObtainCredential",
        Fault::Status {
            status: 400,
            retry_after: None,
            body: Some(
                r#"{"error":"invalid_request","error_description":"nope","request_id":"rid-2"}"#
                    .into(),
            ),
        },
        Some(1),
    ));
    let e = pam.get_api_key("x").unwrap_err();
    assert_eq!(
        (e.code(), e.message(), e.request_id()),
        ("invalid_request", "nope", Some("rid-2"))
    );
    assert!(e.to_string().contains("HTTP 400"));
}

#[test]
fn server_errors_retry_only_safe_operations() {
    let env = Env::start();
    let pam = env.pam();
    // Safe: one 503 is retried transparently.
    env.emu
        .set_fault(fault("ObtainCredential", status(503), Some(1)));
    assert!(pam.get_api_key("openai_prod_key").unwrap().is_some());
    assert_eq!(env.count_action("ObtainCredential"), 2);
    // Safe but persistent: 3 attempts, then the error.
    env.emu
        .set_fault(fault("ObtainCredential", status(500), None));
    let e = pam.get_api_key("openai_prod_key").unwrap_err();
    assert_eq!((e.kind(), e.http_status()), (ErrorKind::Server, Some(500)));
    assert_eq!(env.count_action("ObtainCredential"), 5);
    env.emu.clear_faults();
    // 429 is retried (Retry-After honoured up to the cap).
    env.emu.set_fault(fault(
        "ObtainCredential",
        Fault::Status {
            status: 429,
            retry_after: Some(1),
            body: None,
        },
        Some(1),
    ));
    assert!(pam.get_api_key("openai_prod_key").unwrap().is_some());
    // Not safe: GenerateJwt is sent once.
    env.emu.set_fault(fault(
        "GenerateJwtAuthenticationToken",
        status(503),
        Some(1),
    ));
    let e = generate(&pam).unwrap_err();
    assert_eq!((e.kind(), e.http_status()), (ErrorKind::Server, Some(503)));
    assert_eq!(env.count_action("GenerateJwtAuthenticationToken"), 1);
    // Revoke likewise.
    env.emu
        .set_fault(fault("RevokeAuthenticationToken", status(502), Some(1)));
    let e = pam
        .revoke_authentication_token(&SecretString::new("x.y.z"), None)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Server);
    assert_eq!(env.count_action("RevokeAuthenticationToken"), 1);
    // With RetryPolicy::none() even safe operations are sent once.
    let once = env
        .pam_builder()
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    env.emu
        .set_fault(fault("ObtainCredential", status(503), Some(1)));
    let before = env.count_action("ObtainCredential");
    assert_eq!(
        once.get_api_key("openai_prod_key").unwrap_err().kind(),
        ErrorKind::Server
    );
    assert_eq!(env.count_action("ObtainCredential"), before + 1);
}

#[test]
fn non_json_204_redirect_and_bad_bodies() {
    let env = Env::start();
    let pam = env
        .pam_builder()
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    // Non-JSON error body: code = status, message = the body (truncated).
    env.emu.set_fault(fault(
        "ObtainCredential",
        Fault::Status {
            status: 502,
            retry_after: None,
            body: Some("<html>bad gateway</html>".into()),
        },
        Some(1),
    ));
    let e = pam.get_api_key("openai_prod_key").unwrap_err();
    assert_eq!(
        (e.kind(), e.code(), e.http_status()),
        (ErrorKind::Server, "502", Some(502))
    );
    assert!(e.message().contains("bad gateway"));

    // 204 on an operation with a result → unexpected response.
    env.emu
        .set_fault(fault("ObtainCredential", Fault::NoContent, Some(1)));
    let e = pam.get_api_key("openai_prod_key").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnexpectedResponse);
    assert_eq!(e.message(), "Failed to obtain credential, status code: 204");
    // 204 on a void operation is success (D-26).
    env.emu.set_fault(fault(
        "RevokeAuthenticationToken",
        Fault::NoContent,
        Some(1),
    ));
    pam.revoke_authentication_token(&SecretString::new("x.y.z"), None)
        .unwrap();

    // 3xx is not followed (D-27).
    let target = format!("{}/v2/elsewhere", env.emu.https_base_url());
    env.emu
        .set_fault(fault("ObtainCredential", Fault::Redirect(target), Some(1)));
    let before = env.devapi_requests().len();
    let e = pam.get_api_key("openai_prod_key").unwrap_err();
    assert_eq!(
        (e.kind(), e.code()),
        (ErrorKind::UnexpectedResponse, "UnexpectedRedirect")
    );
    assert_eq!(e.message(), "Failed to obtain credential, status code: 302");
    assert_eq!(
        env.devapi_requests().len(),
        before + 1,
        "redirect not followed"
    );

    // 200 with HTML.
    env.emu.set_fault(fault(
        "ValidateAuthenticationToken",
        Fault::NonJson,
        Some(1),
    ));
    let e = pam
        .validate_authentication_token(&SecretString::new("x"), None)
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.code()),
        (ErrorKind::UnexpectedResponse, "InvalidResponseBody")
    );
    assert_eq!(
        e.message(),
        "Failed to validate authentication token, status code: 200"
    );

    // 200 with a field of the wrong type: the value is not echoed in the error.
    env.emu.set_fault(fault(
        "ValidateAuthenticationToken",
        Fault::Status {
            status: 200,
            retry_after: None,
            body: Some(r#"{"active":"sk-LEAKED-SECRET"}"#.into()),
        },
        Some(1),
    ));
    let e = pam
        .validate_authentication_token(&SecretString::new("x"), None)
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.code()),
        (ErrorKind::UnexpectedResponse, "InvalidResponseBody")
    );
    let text = format!(
        "{e} {e:?} {}",
        std::error::Error::source(&e)
            .map(|s| s.to_string())
            .unwrap_or_default()
    );
    assert!(!text.contains("LEAKED"), "{text}");

    // 200 without the payload field.
    env.emu.set_fault(fault(
        "ObtainCredential",
        Fault::JsonWithout("credentialContent".into()),
        Some(1),
    ));
    assert!(pam.get_api_key("openai_prod_key").unwrap().is_none());
    env.emu.set_fault(fault(
        "GenerateJwtAuthenticationToken",
        Fault::JsonWithout("jwtContent".into()),
        Some(1),
    ));
    let e = generate(&pam).unwrap_err();
    assert_eq!(
        (e.kind(), e.code()),
        (ErrorKind::UnexpectedResponse, "MissingJwtContent")
    );
}

#[test]
fn transport_failures() {
    let env = Env::start();
    // A dropped connection on a safe operation is retried.
    let pam = env.pam();
    pam.get_api_key("openai_prod_key").unwrap();
    env.emu
        .set_fault(fault("ObtainCredential", Fault::Down, Some(1)));
    assert!(pam.get_api_key("openai_prod_key").unwrap().is_some());
    // Nothing listening: a transport error.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dead = env
        .pam_builder()
        .endpoint(format!("http://127.0.0.1:{port}"))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let e = dead.get_api_key("openai_prod_key").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transport, "{e:?}");
}

#[test]
fn invalid_arguments_are_rejected_before_any_request() {
    let env = Env::start();
    let pam = env.pam();
    let aud = |a: &str| vec![a.to_string()];
    let errs = vec![
        pam.get_api_key("").unwrap_err(),
        pam.get_api_key("   ").unwrap_err(),
        pam.generate_jwt_authentication_token(
            "partner_jwt",
            "s",
            &[],
            &GenerateJwtOptions::default(),
        )
        .unwrap_err(),
        pam.generate_jwt_authentication_token(
            "partner_jwt",
            "s",
            &aud("urn:cloud:idaas:x"),
            &GenerateJwtOptions::default(),
        )
        .unwrap_err(),
        pam.generate_jwt_authentication_token(
            "partner_jwt",
            "",
            &aud("https://a"),
            &GenerateJwtOptions::default(),
        )
        .unwrap_err(),
        pam.generate_jwt_authentication_token(
            "partner_jwt",
            "s",
            &aud("https://a"),
            &GenerateJwtOptions {
                custom_claims: Some(vec![("a".into(), 1.into()), ("a".into(), 2.into())]),
                ..Default::default()
            },
        )
        .unwrap_err(),
        pam.fetch_oauth_authentication_token_v2(
            "google_drive_reader",
            "m2m",
            &idaas::pam::FetchOAuthOptions {
                scope: Some("s".repeat(257)),
                ..Default::default()
            },
        )
        .unwrap_err(),
        pam.validate_authentication_token(&SecretString::new(""), None)
            .unwrap_err(),
        pam.obtain_jwt_authentication_token("c", "").unwrap_err(),
        pam.list_authentication_tokens("", "partner_jwt", &Default::default())
            .unwrap_err(),
        pam.revoke_authentication_token_by_consumer("c", " ")
            .unwrap_err(),
        pam.get_oauth_authorization_session("").unwrap_err(),
    ];
    for e in errs {
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e:?}");
    }
    assert!(env.devapi_requests().is_empty());
    assert_eq!(env.token_requests(), 0);
}

#[test]
fn construction_rules_and_no_secrets_in_debug() {
    let env = Env::start();
    let provider = env.client.provider_for_scope(idaas::pam::SCOPE).unwrap();
    let build = |endpoint: &str| {
        PamClient::builder()
            .endpoint(endpoint)
            .instance_id("idaas_x")
            .provider(provider.clone())
            .build()
    };
    assert_eq!(build("").unwrap_err().kind(), ErrorKind::Config);
    assert_eq!(
        build("https://h.example/path").unwrap_err().kind(),
        ErrorKind::Config
    );
    assert_eq!(
        build("http://h.example").unwrap().endpoint(),
        "https://h.example"
    );
    assert_eq!(
        build("http://127.0.0.1:9").unwrap().endpoint(),
        "http://127.0.0.1:9"
    );
    let e = PamClient::builder()
        .endpoint("h")
        .provider(provider.clone())
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    let e = PamClient::builder()
        .endpoint("h")
        .instance_id("i")
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    // Instance ids are percent-encoded in the path.
    let odd = env.pam_builder().instance_id("odd id/x").build().unwrap();
    let _ = odd.get_api_key("openai_prod_key");
    let r = env.devapi_requests().pop().unwrap();
    assert!(r.path.starts_with("/v2/odd%20id%2Fx/"), "{}", r.path);

    let pam = env
        .pam_builder()
        .api_key_cache(Default::default())
        .build()
        .unwrap();
    let key = pam.get_api_key("openai_prod_key").unwrap().unwrap();
    let dbg = format!("{pam:?} {key:?} {:?}", pam.api_key_cache());
    assert!(!dbg.contains(key.expose()));
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<PamClient>();
    let _ = Arc::new(pam);
}

#[test]
fn other_2xx_statuses_oversized_and_truncated_bodies() {
    let env = Env::start();
    let pam = env
        .pam_builder()
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    // 201 on an operation with a result: unexpected (D-26); on a void operation: success.
    env.emu.set_fault(fault(
        "ObtainCredential",
        Fault::Status {
            status: 201,
            retry_after: None,
            body: Some("{}".into()),
        },
        Some(1),
    ));
    let e = pam.get_api_key("openai_prod_key").unwrap_err();
    assert_eq!(
        (e.kind(), e.code()),
        (ErrorKind::UnexpectedResponse, "UnexpectedStatus")
    );
    assert_eq!(e.message(), "Failed to obtain credential, status code: 201");
    env.emu.set_fault(fault(
        "ReinstateAuthenticationToken",
        Fault::Status {
            status: 202,
            retry_after: None,
            body: Some("accepted".into()),
        },
        Some(1),
    ));
    pam.reinstate_authentication_token(&SecretString::new("x.y.z"), None)
        .unwrap();
    // A body over the 1 MiB limit.
    env.emu.set_fault(fault(
        "ObtainCredential",
        Fault::HugeBody(2 * 1024 * 1024),
        Some(1),
    ));
    let e = pam.get_api_key("openai_prod_key").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnexpectedResponse, "{e:?}");
    // A truncated body is a transport failure; a safe operation retries it.
    env.emu
        .set_fault(fault("ObtainCredential", Fault::Truncate, Some(1)));
    let e = pam.get_api_key("openai_prod_key").unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Transport | ErrorKind::Timeout),
        "{e:?}"
    );
    env.emu
        .set_fault(fault("ObtainCredential", Fault::ResetMidBody, Some(1)));
    assert!(env.pam().get_api_key("openai_prod_key").unwrap().is_some());
}

#[test]
fn token_without_the_pam_scope_is_forbidden() {
    let env = Env::start();
    let provider = env
        .client
        .provider_for_scope("api.example.com|read:file")
        .unwrap();
    let pam = PamClient::builder_from_client(&env.client, provider)
        .build()
        .unwrap();
    let e = pam.get_api_key("openai_prod_key").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e:?}");
    assert_eq!(e.http_status(), Some(403));
    assert_eq!(env.count_action("ObtainCredential"), 1);
}

#[test]
fn unauthorized_with_a_static_token_is_not_retried() {
    let env = Env::start();
    let pam = env.pam_for_user("dave");
    env.emu
        .set_fault(fault("ObtainCredential", status(401), Some(1)));
    let e = pam.get_api_key("openai_prod_key").unwrap_err();
    assert_eq!((e.kind(), e.http_status()), (ErrorKind::Auth, Some(401)));
    assert_eq!(env.count_action("ObtainCredential"), 1);
}
