//! The opt-in API-key cache against the emulator, time driven by a ManualClock (no sleeps).

mod pam_support;

use idaas::pam::{ApiKeyCacheOptions, PamClient, RetryPolicy};
use idaas::ErrorKind;
use idaas::ManualClock;
use idaas_emulator::{Fault, FaultRule, Route};
use pam_support::Env;
use std::sync::{Arc, Barrier};
use std::time::Duration;

const KEY: &str = "sk-EXAMPLE0123456789abcdef";

fn cached(env: &Env, clock: &Arc<ManualClock>) -> PamClient {
    env.pam_builder()
        .clock(clock.clone())
        .retry_policy(RetryPolicy::none())
        .api_key_cache(ApiKeyCacheOptions {
            ttl: Duration::from_secs(60),
            grace: Duration::from_secs(30),
            retry_interval: Duration::from_secs(5),
            max_entries: 16,
        })
        .build()
        .unwrap()
}

fn fail_obtain(env: &Env, status: u16) {
    env.emu.set_fault(FaultRule {
        route: Route::DeveloperApiAction("ObtainCredential".into()),
        fault: Fault::Status {
            status,
            retry_after: None,
            body: None,
        },
        times: None,
    });
}

#[test]
fn hit_miss_ttl_and_invalidate() {
    let env = Env::start();
    let clock = ManualClock::starting_now();
    let pam = cached(&env, &clock);
    assert_eq!(
        pam.get_api_key("openai_prod_key")
            .unwrap()
            .unwrap()
            .expose(),
        KEY
    );
    assert_eq!(
        pam.get_api_key("openai_prod_key")
            .unwrap()
            .unwrap()
            .expose(),
        KEY
    );
    assert_eq!(
        env.count_action("ObtainCredential"),
        1,
        "second read is a hit"
    );
    // None (credential without apiKeyContent) is cached too.
    assert!(pam.get_api_key("partner_oauth_client").unwrap().is_none());
    assert!(pam.get_api_key("partner_oauth_client").unwrap().is_none());
    assert_eq!(env.count_action("ObtainCredential"), 2);
    // Errors are not cached.
    assert!(pam.get_api_key("missing").is_err());
    assert!(pam.get_api_key("missing").is_err());
    assert_eq!(env.count_action("ObtainCredential"), 4);

    clock.advance_secs(59);
    pam.get_api_key("openai_prod_key").unwrap();
    assert_eq!(
        env.count_action("ObtainCredential"),
        4,
        "still fresh at ttl - 1 s"
    );
    clock.advance_secs(1);
    pam.get_api_key("openai_prod_key").unwrap();
    assert_eq!(env.count_action("ObtainCredential"), 5, "expired at ttl");

    pam.invalidate_api_key("openai_prod_key");
    pam.get_api_key("openai_prod_key").unwrap();
    assert_eq!(env.count_action("ObtainCredential"), 6);
    pam.invalidate_all_api_keys();
    assert!(pam.api_key_cache().unwrap().is_empty());
    pam.get_api_key("openai_prod_key").unwrap();
    assert_eq!(env.count_action("ObtainCredential"), 7);
    assert_eq!(pam.api_key_cache().unwrap().fetch_count(), 7);

    // Without the cache every call is a request.
    let plain = env.pam();
    plain.get_api_key("openai_prod_key").unwrap();
    plain.get_api_key("openai_prod_key").unwrap();
    assert_eq!(env.count_action("ObtainCredential"), 9);
}

#[test]
fn single_flight_with_32_threads() {
    let env = Env::start();
    let clock = ManualClock::starting_now();
    let pam = cached(&env, &clock);
    // Slow the first reply so every thread arrives while the fetch is in flight.
    env.emu.set_fault(FaultRule {
        route: Route::DeveloperApiAction("ObtainCredential".into()),
        fault: Fault::Latency(Duration::from_millis(300)),
        times: Some(1),
    });
    let barrier = Barrier::new(32);
    std::thread::scope(|s| {
        for _ in 0..32 {
            s.spawn(|| {
                barrier.wait();
                let k = pam.get_api_key("openai_prod_key").unwrap().unwrap();
                assert_eq!(k.expose(), KEY);
            });
        }
    });
    assert_eq!(env.count_action("ObtainCredential"), 1);

    // After expiry and invalidation: again exactly one request for 32 concurrent readers.
    clock.advance_secs(3600);
    env.emu.set_fault(FaultRule {
        route: Route::DeveloperApiAction("ObtainCredential".into()),
        fault: Fault::Latency(Duration::from_millis(300)),
        times: Some(1),
    });
    pam.invalidate_api_key("openai_prod_key");
    std::thread::scope(|s| {
        for _ in 0..32 {
            s.spawn(|| {
                barrier.wait();
                pam.get_api_key("openai_prod_key").unwrap();
            });
        }
    });
    assert_eq!(env.count_action("ObtainCredential"), 2);
}

#[test]
fn stale_value_served_while_refresh_fails_within_grace() {
    let env = Env::start();
    let clock = ManualClock::starting_now();
    let pam = cached(&env, &clock);
    pam.get_api_key("openai_prod_key").unwrap();
    assert_eq!(env.count_action("ObtainCredential"), 1);

    fail_obtain(&env, 503);
    clock.advance_secs(61); // expired, within ttl + grace
    assert_eq!(
        pam.get_api_key("openai_prod_key")
            .unwrap()
            .unwrap()
            .expose(),
        KEY
    );
    assert_eq!(
        env.count_action("ObtainCredential"),
        2,
        "one refresh attempt"
    );
    // Within retry_interval: stale served without another attempt.
    assert_eq!(
        pam.get_api_key("openai_prod_key")
            .unwrap()
            .unwrap()
            .expose(),
        KEY
    );
    assert_eq!(env.count_action("ObtainCredential"), 2);
    clock.advance_secs(5);
    assert_eq!(
        pam.get_api_key("openai_prod_key")
            .unwrap()
            .unwrap()
            .expose(),
        KEY
    );
    assert_eq!(
        env.count_action("ObtainCredential"),
        3,
        "retried after retry_interval"
    );

    // Past ttl + grace the error surfaces.
    clock.advance_secs(30);
    let e = pam.get_api_key("openai_prod_key").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Server);

    // Recovery: the next read fetches and caches again.
    env.emu.clear_faults();
    assert_eq!(
        pam.get_api_key("openai_prod_key")
            .unwrap()
            .unwrap()
            .expose(),
        KEY
    );
    let n = env.count_action("ObtainCredential");
    pam.get_api_key("openai_prod_key").unwrap();
    assert_eq!(env.count_action("ObtainCredential"), n);
}

#[test]
fn non_retryable_refresh_errors_are_not_masked() {
    let env = Env::start();
    let clock = ManualClock::starting_now();
    let pam = cached(&env, &clock);
    pam.get_api_key("openai_prod_key").unwrap();
    fail_obtain(&env, 404);
    clock.advance_secs(61);
    let e = pam.get_api_key("openai_prod_key").unwrap_err();
    assert_eq!((e.kind(), e.http_status()), (ErrorKind::Client, Some(404)));
}
