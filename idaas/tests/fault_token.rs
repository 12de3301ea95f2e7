//! Fault suite, token side: the token endpoint misbehaves (error statuses, resets, truncated or
//! malformed bodies, slow or unreachable servers) and the client must fail cleanly, in bounded time,
//! with a bounded number of requests — and keep serving a still-valid cached token meanwhile.
//!
//! Time is driven by a `ManualClock` (token windows of a 1200 s token without jitter: prefetch
//! +800 s, stale +960 s, expiry +1200 s); only the timeout tests wait for real (2 s each).

mod common;

use common::*;
use idaas::ManualClock;
use idaas::RetryPolicy;
use idaas::{Client, ErrorKind};
use idaas_emulator::{Emulator, Fault, Route, TOKEN_PATH};
use serde_json::json;
use std::time::Duration;

fn bearer(c: &Client) -> idaas::Result<String> {
    c.bearer_token().map(|t| t.expose().to_string())
}

/// Request ids of the token requests the emulator answered, in order.
fn token_request_ids(emu: &Emulator) -> Vec<String> {
    emu.requests()
        .into_iter()
        .filter(|r| r.path == TOKEN_PATH)
        .map(|r| r.request_id)
        .collect()
}

/// 500 / 503 / 429 while a valid token is cached: callers keep the cached token, the refresh is
/// retried (3 attempts per fetch) and then backs off (no request per call), and the first refresh
/// after the endpoint recovers replaces the token.
#[test]
fn outage_while_a_valid_token_is_cached_serves_it_and_backs_off() {
    for (status_code, retry_after) in [(500u16, None), (503, None), (429, Some(1u32))] {
        let emu = Emulator::start_default();
        let clock = ManualClock::starting_now();
        let c = client(&emu, &clock);
        let t1 = bearer(&c).unwrap();
        assert_eq!(token_requests(&emu), 1);

        emu.set_fault(rule(Route::Token, status(status_code, retry_after), None));
        let mut calls = 0usize;
        // Prefetch window (+900 s): one caller tries to refresh, everyone gets the cached token.
        clock.advance_secs(900);
        for _ in 0..100 {
            assert_eq!(
                bearer(&c).unwrap(),
                t1,
                "HTTP {status_code}: cached token served"
            );
            calls += 1;
        }
        // The refresh runs in the background (D-32): wait for its 3 attempts, then make sure the
        // callers during and after it added none.
        wait_token_requests(&emu, 1 + 3);
        std::thread::sleep(Duration::from_millis(50));
        for _ in 0..100 {
            assert_eq!(bearer(&c).unwrap(), t1);
            calls += 1;
        }
        let after_prefetch = token_requests(&emu);
        assert_eq!(
            after_prefetch,
            1 + 3,
            "HTTP {status_code}: one refresh of 3 attempts, then backoff (no request per call)"
        );
        // Stale window (+1000 s .. +1060 s): still valid, so still served; refreshes only when
        // the backoff (1 s doubling to 30 s, jittered) has passed.
        clock.advance_secs(100);
        let mut advances = 0usize;
        for _ in 0..60 {
            for _ in 0..10 {
                assert_eq!(
                    bearer(&c).unwrap(),
                    t1,
                    "HTTP {status_code}: stale but valid"
                );
                calls += 1;
            }
            clock.advance_secs(1);
            advances += 1;
        }
        let during_stale = token_requests(&emu) - after_prefetch;
        assert!(
            during_stale >= 3 && during_stale % 3 == 0,
            "HTTP {status_code}: each refresh makes 3 attempts ({during_stale})"
        );
        let refreshes = during_stale / 3;
        // Exponential backoff: with 1 s steps over 60 s, far fewer refreshes than steps
        // (1+2+4+8+16+30 s, halved by jitter at worst: at most ~12).
        assert!(
            refreshes <= 12 && refreshes < advances,
            "HTTP {status_code}: {refreshes} refreshes in {advances} s: backoff not applied"
        );
        assert!(
            token_requests(&emu) < calls / 10,
            "HTTP {status_code}: requests bounded, not one per call"
        );

        // Recovery: the first attempt after the backoff gets a new token; then no more requests.
        emu.clear_faults();
        clock.advance_secs(31); // now +1091 s, still before expiry; past any backoff (≤ 30 s)
        let t2 = bearer(&c).unwrap();
        assert_ne!(t2, t1, "HTTP {status_code}: recovered with a new token");
        let n = token_requests(&emu);
        for _ in 0..100 {
            assert_eq!(bearer(&c).unwrap(), t2);
        }
        assert_eq!(token_requests(&emu), n, "HTTP {status_code}: fresh again");
    }
}

/// Past expiry during an outage: an error (never the expired token), and still no request storm.
#[test]
fn outage_after_expiry_is_an_error_not_the_expired_token() {
    let emu = Emulator::start_default();
    let clock = ManualClock::starting_now();
    let c = client(&emu, &clock);
    let t1 = bearer(&c).unwrap();
    emu.set_fault(rule(Route::Token, status(503, None), None));
    clock.advance_secs(1201);
    let e = c.bearer_token().unwrap_err();
    assert_eq!((e.kind(), e.http_status()), (ErrorKind::Server, Some(503)));
    let n = token_requests(&emu);
    for _ in 0..200 {
        let e = c.bearer_token().unwrap_err();
        assert_eq!(
            e.http_status(),
            Some(503),
            "the last error is repeated during backoff"
        );
        assert!(!e.to_string().contains(&t1));
    }
    assert_eq!(token_requests(&emu), n, "no request during backoff");
}

/// 500 / 503 / 429 with no valid token: a clear error carrying the HTTP status and the request id
/// of the server's reply, after a bounded number of attempts and in bounded time.
#[test]
fn error_status_without_a_cached_token_is_a_clear_error() {
    for (status_code, retry_after, kind) in [
        (500u16, None, ErrorKind::Server),
        (503, None, ErrorKind::Server),
        (502, None, ErrorKind::Server),
        (429, Some(1u32), ErrorKind::Client),
    ] {
        let emu = Emulator::start_default();
        let clock = ManualClock::starting_now();
        let c = client(&emu, &clock);
        emu.set_fault(rule(Route::Token, status(status_code, retry_after), None));
        let (r, took) = timed(|| c.bearer_token());
        let e = r.unwrap_err();
        assert_eq!(e.http_status(), Some(status_code), "{e}");
        assert!(e.is_retryable(), "{e}");
        let ids = token_request_ids(&emu);
        assert_eq!(ids.len(), 3, "HTTP {status_code}: 3 attempts");
        assert_eq!(
            e.request_id(),
            Some(ids[2].as_str()),
            "HTTP {status_code}: the request id of the last reply"
        );
        let text = e.to_string();
        assert!(
            text.contains(&status_code.to_string()) && text.contains(&ids[2]),
            "Display names status and request id: {text}"
        );
        assert!(
            took < Duration::from_secs(2),
            "HTTP {status_code}: took {took:?}"
        );
        assert_eq!(e.kind(), kind, "HTTP {status_code}: kind ({e:?})");
    }
}

/// `ErrorKind::Auth` means "the server refused our credentials" (error.rs); a 429 from the token
/// endpoint is throttling, documented as `ErrorKind::Client`.
#[test]
fn token_endpoint_429_is_a_client_error_not_auth() {
    let emu = Emulator::start_default();
    let clock = ManualClock::starting_now();
    let c = client(&emu, &clock);
    emu.set_fault(rule(Route::Token, status(429, Some(1)), None));
    let e = c.bearer_token().unwrap_err();
    assert_eq!(
        (e.kind(), e.http_status()),
        (ErrorKind::Client, Some(429)),
        "{e:?}"
    );
    assert!(e.is_retryable());
}

/// A 429's Retry-After is honoured (up to the retry cap) between two attempts of one fetch.
#[test]
fn retry_after_of_429_is_honoured() {
    let emu = Emulator::start_default();
    let clock = ManualClock::starting_now();
    let c = builder(config_with(&emu, |_| {}), &clock)
        .retry_policy(RetryPolicy::default()) // 2 s cap
        .build()
        .unwrap();
    emu.set_fault(rule(Route::Token, status(429, Some(1)), Some(1)));
    bearer(&c).unwrap();
    let reqs: Vec<_> = emu
        .requests()
        .into_iter()
        .filter(|r| r.path == TOKEN_PATH)
        .collect();
    assert_eq!(reqs.len(), 2);
    assert_eq!((reqs[0].status, reqs[1].status), (429, 200));
    let gap = reqs[1].time_ms - reqs[0].time_ms;
    assert!(gap >= 950, "waited {gap} ms, Retry-After was 1 s");
}

/// Transport-level faults: each gives a typed error after bounded attempts, and a one-off fault is
/// absorbed by the retry.
#[test]
fn resets_truncation_and_dropped_connections() {
    for (name, fault) in [
        ("reset", Fault::Reset),
        ("reset-mid-body", Fault::ResetMidBody),
        ("truncate", Fault::Truncate),
        ("down", Fault::Down),
    ] {
        let emu = Emulator::start_default();
        let clock = ManualClock::starting_now();
        let c = client(&emu, &clock);
        emu.set_fault(rule(Route::Token, fault.clone(), None));
        let (r, took) = timed(|| c.bearer_token());
        let e = r.unwrap_err();
        assert!(
            matches!(e.kind(), ErrorKind::Transport | ErrorKind::Timeout),
            "{name}: {e:?}"
        );
        assert!(e.is_retryable(), "{name}");
        assert_eq!(token_requests(&emu), 3, "{name}: retried, 3 attempts");
        assert!(took < Duration::from_secs(3), "{name}: {took:?}");
        eprintln!("{name}: {} / {} / {}", e.kind().as_str(), e.code(), e);

        // A single fault is absorbed by the retry.
        let emu = Emulator::start_default();
        let c = client(&emu, &clock);
        emu.set_fault(rule(Route::Token, fault, Some(1)));
        assert!(!bearer(&c).unwrap().is_empty(), "{name} once: recovered");
        assert_eq!(token_requests(&emu), 2, "{name} once");
    }
}

#[test]
fn connection_refused_is_a_fast_transport_error() {
    let emu = Emulator::start_default();
    let port = closed_port();
    let cfg = config_with(&emu, |v| {
        v["tokenEndpoint"] = json!(format!("http://127.0.0.1:{port}{TOKEN_PATH}"));
    });
    let clock = ManualClock::starting_now();
    let c = builder(cfg, &clock).build().unwrap();
    let (r, took) = timed(|| c.bearer_token());
    let e = r.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transport, "{e:?}");
    assert_eq!(e.code(), "ConnectionRefused", "{e:?}");
    assert!(e.http_status().is_none());
    assert!(took < Duration::from_secs(1), "{took:?}");
    assert!(
        e.to_string().contains(&port.to_string()),
        "names the target: {e}"
    );
}

/// A 200 reply the client cannot use: never retried (the server answered), typed error.
#[test]
fn malformed_success_replies() {
    let emu = Emulator::start_default();
    let clock = ManualClock::starting_now();
    let c = client(&emu, &clock);

    emu.set_fault(rule(Route::Token, Fault::NonJson, Some(1)));
    let e = c.bearer_token().unwrap_err();
    assert_eq!(
        (e.kind(), e.code(), e.http_status()),
        (ErrorKind::UnexpectedResponse, "InvalidResponse", Some(200))
    );
    assert_eq!(token_requests(&emu), 1, "non-JSON 200 is not retried");

    emu.set_fault(rule(Route::Token, Fault::NoContent, Some(1)));
    clock.advance_secs(60); // past the backoff of the previous failure
    let e = c.bearer_token().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnexpectedResponse, "204: {e:?}");
    assert_eq!(e.http_status(), Some(204));

    emu.set_fault(rule(
        Route::Token,
        Fault::Redirect("https://127.0.0.1:1/elsewhere".into()),
        Some(1),
    ));
    clock.advance_secs(60);
    let e = c.bearer_token().unwrap_err();
    assert_eq!((e.kind(), e.code()), (ErrorKind::UnexpectedResponse, "302"));
    assert_eq!(token_requests(&emu), 3, "redirects are not followed");
}

/// A 200 JSON reply without `access_token` must not become an empty bearer token.
#[test]
fn json_without_access_token_is_an_error() {
    let emu = Emulator::start_default();
    let clock = ManualClock::starting_now();
    let c = client(&emu, &clock);
    emu.set_fault(rule(
        Route::Token,
        Fault::JsonWithout("access_token".into()),
        Some(1),
    ));
    let r = c.bearer_token();
    let e = match r {
        Ok(t) => panic!("got a token {:?} (len {})", t, t.len()),
        Err(e) => e,
    };
    assert_eq!(e.kind(), ErrorKind::UnexpectedResponse, "{e:?}");
    assert_eq!(e.code(), "AccessTokenNotFound");
    assert_eq!(e.http_status(), Some(200));
    // The next call (after the backoff) fetches a real token.
    clock.advance_secs(60);
    assert!(!bearer(&c).unwrap().is_empty());
}

/// A reply whose `expires_at` is already past: the caller must not be handed a token the server
/// says is expired, and repeated calls must not turn into one request per call.
#[test]
fn expires_at_in_the_past_is_not_served() {
    let emu = Emulator::start_default();
    let clock = ManualClock::starting_now();
    let c = client(&emu, &clock);
    emu.set_fault(rule(Route::Token, Fault::ExpiresAtPast, None));
    for _ in 0..20 {
        match c.credential() {
            Ok(cred) => assert!(
                cred.expires_at * 1000 > idaas::Clock::now_millis(&*clock),
                "served a token that expired at {} (now {})",
                cred.expires_at,
                idaas::Clock::now_secs(&*clock)
            ),
            Err(e) => assert_eq!(e.kind(), ErrorKind::UnexpectedResponse, "{e:?}"),
        }
    }
    assert!(
        token_requests(&emu) <= 3,
        "{} token requests for 20 calls",
        token_requests(&emu)
    );
}

/// Read timeout honoured: a reply delayed past `readTimeout` fails each attempt with a timeout after
/// about `readTimeout`; the call budget, `2 × (connectTimeout + readTimeout)` = 8 s, admits a
/// second attempt (a whole attempt of 4 s still fits after the first) but not a third.
#[test]
fn read_timeout_is_honoured() {
    let emu = Emulator::start_default();
    let cfg = config_with(&emu, |v| {
        v["httpConfiguration"]["connectTimeout"] = json!(2000);
        v["httpConfiguration"]["readTimeout"] = json!(2000);
    });
    let clock = ManualClock::starting_now();
    let c = builder(cfg, &clock).build().unwrap();
    emu.set_fault(rule(
        Route::Token,
        Fault::Latency(Duration::from_millis(3000)),
        None,
    ));
    let (r, took) = timed(|| c.bearer_token());
    let e = r.unwrap_err();
    assert_eq!(
        (e.kind(), e.code()),
        (ErrorKind::Timeout, "ReadTimeOut"),
        "{e:?}"
    );
    assert!(
        took >= Duration::from_millis(3800) && took < Duration::from_millis(5500),
        "took {took:?} with readTimeout 2000 ms (two attempts)"
    );
    // The emulator logs a request when its (delayed) reply is written: wait for it.
    let t = std::time::Instant::now();
    while token_requests(&emu) < 2 && t.elapsed() < Duration::from_secs(4) {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        token_requests(&emu),
        2,
        "no attempt beyond what fits in the call budget"
    );
}

/// Connect timeout honoured against a loopback listener whose accept queue is full: two attempts
/// of about `connectTimeout` fit in the call budget, a third does not.
#[test]
fn connect_timeout_is_honoured() {
    let hole = Blackhole::start();
    let emu = Emulator::start_default();
    let cfg = config_with(&emu, |v| {
        v["tokenEndpoint"] = json!(hole.url(TOKEN_PATH));
        v["httpConfiguration"]["connectTimeout"] = json!(2000);
        v["httpConfiguration"]["readTimeout"] = json!(2000);
    });
    let clock = ManualClock::starting_now();
    let c = builder(cfg, &clock).build().unwrap();
    let (r, took) = timed(|| c.bearer_token());
    let e = r.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e:?}");
    assert_eq!(e.code(), "ConnectTimeOut", "{e:?}");
    assert!(
        took >= Duration::from_millis(3800) && took < Duration::from_millis(5500),
        "took {took:?} with connectTimeout 2000 ms (two attempts)"
    );
}

/// Token exchange (never cached) under the same faults: typed errors, bounded attempts.
#[test]
fn token_exchange_under_faults() {
    let emu = Emulator::start_default();
    let clock = ManualClock::starting_now();
    let c = client(&emu, &clock);
    let oidc = emu.mint_oidc_token("alice", 600);
    let req = idaas::TokenExchangeRequest::for_id_token(oidc).scope(idaas_emulator::PAM_SCOPE);
    emu.set_fault(rule(Route::Token, status(503, None), None));
    let e = c.exchange_token(&req).unwrap_err();
    assert_eq!((e.kind(), e.http_status()), (ErrorKind::Server, Some(503)));
    assert_eq!(token_requests(&emu), 3);
    emu.set_fault(rule(Route::Token, Fault::NonJson, Some(1)));
    emu.clear_faults();
    emu.set_fault(rule(Route::Token, Fault::NonJson, Some(1)));
    let e = c.exchange_token(&req).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnexpectedResponse);
    assert!(c.exchange_token(&req).is_ok(), "recovers");
}

/// A server that closes the connection without answering is a transport failure of its own kind,
/// not a TLS failure (which would send operators to check certificates).
#[test]
fn dropped_connection_is_not_reported_as_a_tls_failure() {
    let emu = Emulator::start_default();
    let clock = ManualClock::starting_now();
    for base in [emu.https_base_url(), emu.http_base_url()] {
        let cfg = config_with(&emu, |v| {
            v["tokenEndpoint"] = json!(format!("{base}{TOKEN_PATH}"));
        });
        let c = builder(cfg, &clock).build().unwrap();
        emu.set_fault(rule(Route::Token, Fault::Down, None));
        let e = c.bearer_token().unwrap_err();
        emu.clear_faults();
        eprintln!("{base}: {} {}", e.code(), e);
        assert_eq!(e.kind(), ErrorKind::Transport, "{e:?}");
        assert_ne!(e.code(), "TlsError", "{base}: {e}");
    }
}
