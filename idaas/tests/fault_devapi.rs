//! Fault suite, Developer API side: every one of the 12 operations under 503, 429, connection
//! reset and 401, with the number of requests the emulator saw.
//!
//! Retry rules asserted (src/pam/mod.rs "Reliability"): transport failures, 429 and 5xx are retried
//! (3 attempts) only for the operations that are safe to repeat — ObtainCredential,
//! ListAuthenticationTokens, ValidateAuthenticationToken, GetOAuthAuthorizationSession,
//! ObtainJwtAuthenticationToken, ObtainJwtAuthenticationTokenByDerivedShortToken; the others
//! (GenerateJwt, FetchOAuthAccessToken, Revoke/Reinstate and their ByConsumer forms) are sent once.
//! A 401 on a request that carried a bearer token forces one token refresh and one retry (every
//! operation: a 401 was not processed), then the error is returned.

mod common;

use common::pam::{fast_retry, Env};
use common::*;
use idaas::pam::{
    FetchOAuthOptions, GenerateJwtOptions, ListAuthenticationTokensOptions, PamClient, SCOPE,
};
use idaas::ManualClock;
use idaas::{ErrorKind, SecretString};
use idaas_emulator::{Emulator, Fault, Route};
use std::time::Duration;

type OpFn = fn(&PamClient) -> idaas::Result<()>;

/// (action, safe to retry, sends a bearer token, call)
const OPS: [(&str, bool, bool, OpFn); 12] = [
    ("ObtainCredential", true, true, |p| {
        p.get_api_key("openai_prod_key").map(|_| ())
    }),
    ("FetchOAuthAuthenticationToken", false, true, |p| {
        p.fetch_oauth_authentication_token_v2(
            "google_drive_reader",
            "m2m",
            &FetchOAuthOptions::default(),
        )
        .map(|_| ())
    }),
    ("GetOAuthAuthorizationSession", true, true, |p| {
        p.get_oauth_authorization_session("urn:ietf:params:oauth:request_uri:oas_x")
            .map(|_| ())
    }),
    ("GenerateJwtAuthenticationToken", false, true, |p| {
        p.generate_jwt_authentication_token(
            "partner_jwt",
            "agent",
            &["https://api.partner.example".to_string()],
            &GenerateJwtOptions::default(),
        )
        .map(|_| ())
    }),
    ("ObtainJwtAuthenticationToken", true, true, |p| {
        p.obtain_jwt_authentication_token("consumer_x", "at_x")
            .map(|_| ())
    }),
    (
        "ObtainJwtAuthenticationTokenByDerivedShortToken",
        true,
        false,
        |p| {
            p.obtain_jwt_authentication_token_by_derived_short_token(&SecretString::new("dst_x"))
                .map(|_| ())
        },
    ),
    ("ListAuthenticationTokens", true, true, |p| {
        p.list_authentication_tokens(
            "consumer_x",
            "partner_jwt",
            &ListAuthenticationTokensOptions::default(),
        )
        .map(|_| ())
    }),
    ("ValidateAuthenticationToken", true, false, |p| {
        p.validate_authentication_token(&SecretString::new("a.b.c"), None)
            .map(|_| ())
    }),
    ("RevokeAuthenticationToken", false, true, |p| {
        p.revoke_authentication_token(&SecretString::new("a.b.c"), None)
    }),
    ("RevokeAuthenticationTokenByConsumer", false, true, |p| {
        p.revoke_authentication_token_by_consumer("consumer_x", "partner_jwt")
    }),
    ("ReinstateAuthenticationToken", false, true, |p| {
        p.reinstate_authentication_token(&SecretString::new("a.b.c"), None)
    }),
    ("ReinstateAuthenticationTokenByConsumer", false, true, |p| {
        p.reinstate_authentication_token_by_consumer("consumer_x", "partner_jwt")
    }),
];

fn on(action: &str, fault: Fault) -> idaas_emulator::FaultRule {
    rule(Route::DeveloperApiAction(action.into()), fault, None)
}

#[test]
fn server_errors_throttling_and_resets_are_retried_only_for_safe_operations() {
    let env = Env::start();
    let pam = env.pam();
    pam.get_api_key("openai_prod_key").unwrap(); // token cached, connection warm
    for (fault_name, fault, kind) in [
        ("503", status(503, None), ErrorKind::Server),
        ("500", status(500, None), ErrorKind::Server),
        ("429", status(429, Some(0)), ErrorKind::Client),
        ("reset", Fault::Reset, ErrorKind::Transport),
    ] {
        for (action, safe, _, call) in OPS {
            env.emu.clear_faults();
            env.emu.set_fault(on(action, fault.clone()));
            let before = env.count_action(action);
            let (r, took) = timed(|| call(&pam));
            let e = r.unwrap_err();
            let sent = env.count_action(action) - before;
            eprintln!(
                "{fault_name:>5} {action:<48} requests={sent} kind={} code={} status={:?} ({took:?})",
                e.kind().as_str(),
                e.code(),
                e.http_status()
            );
            assert_eq!(e.kind(), kind, "{fault_name} {action}: {e:?}");
            assert_eq!(
                sent,
                if safe { 3 } else { 1 },
                "{fault_name} {action}: safe={safe}"
            );
            if kind != ErrorKind::Transport {
                assert_eq!(e.http_status(), fault_status(&fault), "{action}");
                assert!(e.request_id().is_some(), "{action}: request id kept");
            }
            assert!(took < Duration::from_secs(2), "{action}: {took:?}");
        }
    }
    env.emu.clear_faults();
    assert_eq!(
        env.token_requests(),
        1,
        "no token refresh for non-401 failures"
    );
}

fn fault_status(f: &Fault) -> Option<u16> {
    match f {
        Fault::Status { status, .. } => Some(*status),
        _ => None,
    }
}

/// A persistent 401: exactly one forced token refresh and one retry per call for operations that
/// send a bearer token, then an `Auth` error; none for the two operations without one.
#[test]
fn persistent_401_forces_one_refresh_and_one_retry_then_errors() {
    let env = Env::start();
    let pam = env.pam();
    pam.get_api_key("openai_prod_key").unwrap();
    for (action, _, bearer, call) in OPS {
        env.emu.clear_faults();
        env.emu.set_fault(on(action, status(401, None)));
        let (tokens, before) = (env.token_requests(), env.count_action(action));
        let e = call(&pam).unwrap_err();
        let sent = env.count_action(action) - before;
        let refreshed = env.token_requests() - tokens;
        eprintln!(
            "  401 {action:<48} requests={sent} token_refreshes={refreshed} kind={}",
            e.kind().as_str()
        );
        assert_eq!(
            (e.kind(), e.http_status()),
            (ErrorKind::Auth, Some(401)),
            "{action}"
        );
        if bearer {
            assert_eq!(
                (sent, refreshed),
                (2, 1),
                "{action}: one refresh, one retry"
            );
        } else {
            assert_eq!(
                (sent, refreshed),
                (1, 0),
                "{action}: no bearer, nothing to refresh"
            );
        }
    }
}

/// A really expired bearer token (the emulator checks `exp` in real time, the client's manual clock
/// still thinks the token fresh): the 401 triggers one refresh and the retry succeeds.
#[test]
fn expired_bearer_token_is_refreshed_once_and_the_call_succeeds() {
    let emu = Emulator::start_default();
    emu.set_token_lifetime(2);
    let clock = ManualClock::starting_now();
    let core = client(&emu, &clock);
    let pam = PamClient::builder_from_client(&core, core.provider_for_scope(SCOPE).unwrap())
        .retry_policy(fast_retry())
        .build()
        .unwrap();
    pam.get_api_key("openai_prod_key").unwrap().unwrap();
    assert_eq!(token_requests(&emu), 1);
    std::thread::sleep(Duration::from_millis(2100));
    let key = pam.get_api_key("openai_prod_key").unwrap().unwrap();
    assert_eq!(key.expose(), "sk-EXAMPLE0123456789abcdef");
    assert_eq!(token_requests(&emu), 2, "one forced refresh");
    let reqs: Vec<_> = emu
        .requests()
        .into_iter()
        .filter(|r| r.header("x-acs-action") == Some("ObtainCredential"))
        .collect();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[1].status, 401);
    assert_eq!(
        reqs[0].header("authorization"),
        reqs[1].header("authorization")
    );
    assert_ne!(
        reqs[1].header("authorization"),
        reqs[2].header("authorization"),
        "the retry carries the new token"
    );
}

/// The token endpoint fails while the Developer API needs a token: a clear token-side error, no
/// Developer API request at all.
#[test]
fn token_endpoint_down_fails_developer_api_calls_before_sending() {
    let env = Env::start();
    env.emu
        .set_fault(rule(Route::Token, status(503, None), None));
    let pam = env.pam();
    let e = pam.get_api_key("openai_prod_key").unwrap_err();
    assert_eq!((e.kind(), e.http_status()), (ErrorKind::Server, Some(503)));
    assert_eq!(env.devapi_requests().len(), 0);
}

/// Read timeout on the Developer API (readTimeout 2000 ms, replies delayed 3 s): a state-changing
/// operation fails after one attempt (~2 s); a safe one after the attempts that fit in the call budget (2 × (connect + read) = 8 s: two of ~2 s, since a third would not fit whole).
#[test]
fn read_timeout_bounds_developer_api_calls() {
    let emu = Emulator::start_default();
    let clock = ManualClock::starting_now();
    let cfg = config_with(&emu, |v| {
        v["httpConfiguration"]["connectTimeout"] = serde_json::json!(2000);
        v["httpConfiguration"]["readTimeout"] = serde_json::json!(2000);
    });
    let core = builder(cfg, &clock).build().unwrap();
    let pam = PamClient::builder_from_client(&core, core.provider_for_scope(SCOPE).unwrap())
        .retry_policy(fast_retry())
        .build()
        .unwrap();
    core.bearer_token().unwrap(); // token cached before the Developer API slows down
    emu.set_fault(rule(
        Route::DeveloperApi,
        Fault::Latency(Duration::from_millis(3000)),
        None,
    ));
    let p2 = pam.clone();
    let unsafe_op = std::thread::spawn(move || {
        timed(|| {
            p2.generate_jwt_authentication_token(
                "partner_jwt",
                "agent",
                &["https://api.partner.example".to_string()],
                &GenerateJwtOptions::default(),
            )
        })
    });
    let (r, safe_took) = timed(|| pam.get_api_key("openai_prod_key"));
    let e = r.unwrap_err();
    assert_eq!(
        (e.kind(), e.code()),
        (ErrorKind::Timeout, "ReadTimeOut"),
        "{e:?}"
    );
    let (r, unsafe_took) = unsafe_op.join().unwrap();
    let e2 = r.unwrap_err();
    assert_eq!(e2.kind(), ErrorKind::Timeout, "{e2:?}");
    // The safe operation is retried while a whole attempt (connect + read = 4 s) still fits in
    // the call budget of 2 × 4 s: two attempts of 2 s, then the third would not fit.
    eprintln!("read timeout: GenerateJwt {unsafe_took:?} (1 attempt), ObtainCredential {safe_took:?} (2 attempts)");
    assert!(
        unsafe_took >= Duration::from_millis(1900) && unsafe_took < Duration::from_millis(3500),
        "{unsafe_took:?}"
    );
    assert!(
        safe_took >= Duration::from_millis(3800) && safe_took < Duration::from_millis(5500),
        "{safe_took:?}"
    );
    emu.clear_faults();
}
