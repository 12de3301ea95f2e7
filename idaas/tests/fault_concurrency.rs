//! Fault suite under concurrency: 1,000 operations (core bearer tokens and Developer API calls)
//! from 64 threads while a seeded chaos thread injects random faults on the token endpoint and the
//! Developer API and moves the manual clock across refresh windows.
//!
//! Asserted: no panic, no deadlock (a watchdog aborts the process after 120 s), every call returns
//! within the deadline derived from the configured timeouts and retry budgets, errors are typed
//! (never `Internal`), and the emulator's request log shows no duplicated refresh: successful token
//! replies ≤ 1 + clock advances + 401 replies (each can cause at most one refresh), and token
//! requests ≤ 3 × that (3 attempts per refresh).
//!
//! Seed: `FAULT_SEED` (default below); the seed is printed so a failure can be replayed.

mod common;

use common::pam::fast_retry;
use common::*;
use idaas::pam::{GenerateJwtOptions, ListAuthenticationTokensOptions, PamClient, SCOPE};
use idaas::ErrorKind;
use idaas::ManualClock;
use idaas_emulator::{EmulatorOptions, Fault, Route, TOKEN_PATH};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const THREADS: usize = 64;
const OPS: usize = 1000;
/// Token lifetime (the emulator's default). The emulator runs with `omit_expires_at`, so the client
/// computes expiry as manual-clock now + `expires_in` (D-11) and the manual clock can be moved
/// freely across prefetch (+800 s), stale (+960 s) and expiry (+1200 s) without drifting away from
/// the server's real-time `exp` check.
const LIFETIME_SECS: u64 = 1200;

const CONNECT_MS: u64 = 2000;
const READ_MS: u64 = 2000;
/// One HTTP exchange: connect + response headers + body.
const EXCHANGE_MS: u64 = CONNECT_MS + 2 * READ_MS;
/// One token fetch: retries only within the read-timeout budget, then at most one more exchange.
const TOKEN_FETCH_MS: u64 = READ_MS + EXCHANGE_MS;
/// Deadline of `bearer_token()`: one fetch (own or awaited), plus scheduling slack.
const BEARER_DEADLINE: Duration = Duration::from_millis(TOKEN_FETCH_MS + 2000);
/// Deadline of a Developer API call: 3 attempts + one 401 retry, each possibly awaiting a token
/// fetch, plus retry delays (≤ 20 ms each) and slack.
const PAM_DEADLINE: Duration = Duration::from_millis(4 * (TOKEN_FETCH_MS + EXCHANGE_MS) + 2000);

/// A random fault. With `distinguishable`, only faults whose log entry cannot be mistaken for a
/// successful token reply (status ≠ 200, or a normal reply after a delay) are used on the token
/// route, so the strict refresh accounting can read successes from the log.
fn random_fault(rng: &mut Rng, token_route: bool, distinguishable: bool) -> Fault {
    let n = match (token_route, distinguishable) {
        (false, _) => 10,
        (true, false) => 9,
        (true, true) => 5,
    };
    match rng.below(n) {
        0 => status(500, None),
        1 => status(503, None),
        2 => status(429, Some(0)),
        3 => Fault::Reset,
        4 => Fault::Latency(Duration::from_millis(10 + rng.below(190))),
        5 => Fault::Down,
        6 => Fault::ResetMidBody,
        7 => Fault::Truncate,
        8 => Fault::NonJson,
        _ => status(401, None),
    }
}

fn seed() -> u64 {
    let seed: u64 = std::env::var("FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x1DAA_5EED);
    eprintln!("FAULT_SEED={seed}");
    seed
}

/// Every fault kind on both routes; refresh accounting: token requests ≤ 3 attempts per due
/// refresh (faulted replies such as truncated or non-JSON 200s are in the log as 200s, so the
/// strict per-refresh check is done by the next test).
#[test]
fn thousand_operations_from_64_threads_under_random_faults() {
    chaos_run(seed(), false);
}

/// As above with the token-route faults restricted to the distinguishable ones, plus the strict
/// check: between two successful token replies there is a clock jump or a 401.
#[test]
fn thousand_operations_no_duplicated_refresh() {
    chaos_run(seed().wrapping_add(1), true);
}

fn chaos_run(seed: u64, strict: bool) {
    let _watchdog = Watchdog::new("fault_concurrency", Duration::from_secs(120));

    let emu = Arc::new(
        idaas_emulator::start(EmulatorOptions {
            omit_expires_at: true,
            token_lifetime_secs: LIFETIME_SECS,
            ..EmulatorOptions::default()
        })
        .unwrap(),
    );
    let clock = ManualClock::starting_now();
    let cfg = config_with(&emu, |v| {
        v["httpConfiguration"]["connectTimeout"] = json!(CONNECT_MS);
        v["httpConfiguration"]["readTimeout"] = json!(READ_MS);
    });
    let core = builder(cfg, &clock).build().unwrap();
    let pam = PamClient::builder_from_client(&core, core.provider_for_scope(SCOPE).unwrap())
        .retry_policy(fast_retry())
        .build()
        .unwrap();
    // The core default scope is the PAM scope, so one provider (one cache) serves both: every
    // token request counts against one refresh budget.
    assert_eq!(core.config().scope, SCOPE);
    // The first token, so the Developer API calls below have real resources to hit.
    let first = pam
        .generate_jwt_authentication_token(
            "partner_jwt",
            "agent",
            &["https://api.partner.example".to_string()],
            &GenerateJwtOptions::default(),
        )
        .unwrap();
    let jwt = first.jwt_content.jwt_value.clone();
    let consumer = first.consumer_id.clone().unwrap();

    let done = Arc::new(AtomicBool::new(false));
    let advances = Arc::new(AtomicUsize::new(0));
    // Real time (ms) of each clock jump: the only moments a refresh can become due, besides a 401.
    let jumps: Arc<Mutex<Vec<u64>>> = Arc::default();
    let injected = Arc::new(AtomicUsize::new(0));

    // Chaos thread: random faults (1..3 uses each), occasional clears, clock jumps.
    let chaos = {
        let (emu, done, advances, injected, clock, jumps) = (
            emu.clone(),
            done.clone(),
            advances.clone(),
            injected.clone(),
            clock.clone(),
            jumps.clone(),
        );
        std::thread::spawn(move || {
            let mut rng = Rng::new(seed ^ 0xC4A0_5000);
            let mut last_jump = Instant::now();
            while !done.load(Ordering::SeqCst) {
                if last_jump.elapsed() >= Duration::from_millis(25) {
                    // Every 25 ms, jump 50 .. 700 s: into the prefetch or stale window, past
                    // expiry, past backoff deadlines. At most one refresh is due per jump.
                    jumps.lock().unwrap().push(real_ms());
                    clock.advance_secs(50 + rng.below(650));
                    advances.fetch_add(1, Ordering::SeqCst);
                    last_jump = Instant::now();
                }
                match rng.below(100) {
                    0..=19 => {
                        let token_route = rng.chance(40);
                        let f = random_fault(&mut rng, token_route, strict);
                        let route = if token_route {
                            Route::Token
                        } else {
                            Route::DeveloperApi
                        };
                        let times = 1 + rng.below(3) as u32;
                        emu.set_fault(rule(route, f, Some(times)));
                        injected.fetch_add(1, Ordering::SeqCst);
                    }
                    20..=24 => emu.clear_faults(),
                    _ => {}
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            emu.clear_faults();
        })
    };

    // Workers.
    let next = Arc::new(AtomicUsize::new(0));
    let outcomes: Arc<Mutex<BTreeMap<String, usize>>> = Arc::default();
    let slowest: Arc<Mutex<(Duration, String)>> = Arc::default();
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (core, pam, next, outcomes, slowest) = (
                core.clone(),
                pam.clone(),
                next.clone(),
                outcomes.clone(),
                slowest.clone(),
            );
            let (jwt, consumer) = (jwt.clone(), consumer.clone());
            std::thread::spawn(move || {
                let mut rng = Rng::new(seed.wrapping_add(t as u64 * 0x9E37_79B9));
                while next.fetch_add(1, Ordering::SeqCst) < OPS {
                    // Pace the callers a little so faults and clock jumps interleave with them.
                    std::thread::sleep(Duration::from_micros(rng.below(4000)));
                    let pick = rng.below(100);
                    let (name, deadline) = match pick {
                        0..=39 => ("bearer_token", BEARER_DEADLINE),
                        40..=64 => ("get_api_key", PAM_DEADLINE),
                        65..=79 => ("list_authentication_tokens", PAM_DEADLINE),
                        80..=94 => ("validate_authentication_token", PAM_DEADLINE),
                        _ => ("generate_jwt_authentication_token", PAM_DEADLINE),
                    };
                    let started = Instant::now();
                    let r: idaas::Result<()> = match name {
                        "bearer_token" => core.bearer_token().map(|t| {
                            assert!(!t.is_empty(), "empty bearer token");
                        }),
                        "get_api_key" => pam.get_api_key("openai_prod_key").map(|k| {
                            assert_eq!(k.unwrap().expose(), "sk-EXAMPLE0123456789abcdef");
                        }),
                        "list_authentication_tokens" => pam
                            .list_authentication_tokens(
                                &consumer,
                                "partner_jwt",
                                &ListAuthenticationTokensOptions::default(),
                            )
                            .map(|_| ()),
                        "validate_authentication_token" => pam
                            .validate_authentication_token(&jwt, None)
                            .map(|ok| assert!(ok, "the JWT is valid")),
                        _ => pam
                            .generate_jwt_authentication_token(
                                "partner_jwt",
                                "agent",
                                &["https://api.partner.example".to_string()],
                                &GenerateJwtOptions::default(),
                            )
                            .map(|_| ()),
                    };
                    let took = started.elapsed();
                    assert!(
                        took <= deadline,
                        "{name} took {took:?}, deadline {deadline:?}"
                    );
                    {
                        let mut s = slowest.lock().unwrap();
                        if took > s.0 {
                            *s = (took, name.to_string());
                        }
                    }
                    let key = match &r {
                        Ok(()) => format!("{name}: ok"),
                        Err(e) => {
                            assert_ne!(e.kind(), ErrorKind::Internal, "{name}: {e:?}");
                            assert!(!e.to_string().contains(jwt.expose()), "secret in error");
                            format!("{name}: {} {}", e.kind().as_str(), e.code())
                        }
                    };
                    *outcomes.lock().unwrap().entry(key).or_default() += 1;
                }
            })
        })
        .collect();
    let mut panicked = 0;
    for w in workers {
        if w.join().is_err() {
            panicked += 1;
        }
    }
    done.store(true, Ordering::SeqCst);
    chaos.join().expect("chaos thread");
    assert_eq!(panicked, 0, "worker threads panicked");

    let outcomes = outcomes.lock().unwrap().clone();
    let total: usize = outcomes.values().sum();
    assert_eq!(total, OPS);
    for (k, n) in &outcomes {
        eprintln!("  {n:>4}  {k}");
    }
    let (slow, slow_name) = slowest.lock().unwrap().clone();
    eprintln!("slowest call: {slow_name} {slow:?}");

    // Refresh accounting from the emulator's log.
    let log = emu.requests();
    let token: Vec<_> = log.iter().filter(|r| r.path == TOKEN_PATH).collect();
    let token_ok = token.iter().filter(|r| r.status == 200).count();
    let devapi_401 = log
        .iter()
        .filter(|r| r.path.starts_with("/v2/") && r.status == 401)
        .count();
    let adv = advances.load(Ordering::SeqCst);
    if std::env::var("FAULT_DEBUG").is_ok() {
        for r in &log {
            eprintln!("    {} {} {}", r.time_ms, r.status, r.path);
        }
    }
    eprintln!(
        "faults injected={} clock advances={adv} token requests={} (200: {token_ok}) devapi requests={} (401: {devapi_401})",
        injected.load(Ordering::SeqCst),
        token.len(),
        log.len() - token.len()
    );
    let refresh_budget = 1 + adv + devapi_401;
    assert!(
        token_ok <= refresh_budget,
        "{token_ok} successful token fetches > 1 + {adv} window crossings + {devapi_401} forced refreshes: duplicated refreshes"
    );
    assert!(
        token.len() <= 3 * refresh_budget,
        "{} token requests > 3 attempts x {refresh_budget} refreshes",
        token.len()
    );
    assert!(
        outcomes.keys().any(|k| k.ends_with(": ok")),
        "some calls succeeded"
    );

    // Stricter: between two successful token fetches there must be a trigger (a clock jump or a
    // 401 reply) after the first one was answered. Two fetches with no trigger in between are a
    // duplicated refresh.
    let mut triggers: Vec<u64> = jumps.lock().unwrap().clone();
    triggers.extend(
        log.iter()
            .filter(|r| r.path.starts_with("/v2/") && r.status == 401)
            .map(|r| r.time_ms),
    );
    triggers.sort_unstable();
    let ok_times: Vec<u64> = token
        .iter()
        .filter(|r| r.status == 200)
        .map(|r| r.time_ms)
        .collect();
    if !strict {
        return;
    }
    let mut duplicated = Vec::new();
    for w in ok_times.windows(2) {
        if !triggers.iter().any(|&t| t >= w[0] && t <= w[1]) {
            duplicated.push((w[0], w[1]));
        }
    }
    assert!(
        duplicated.is_empty(),
        "duplicated refreshes (successful token fetches with no clock jump or 401 in between): {duplicated:?}"
    );
}

fn real_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// The prefetch window is crossed thousands of times while 6 threads read the cache in a tight
/// loop: each crossing must cause exactly one fetch. (A reader that loaded the old entry just
/// before another thread stored the refreshed one must not start a second refresh.)
#[test]
fn prefetch_window_crossing_refreshes_exactly_once() {
    use idaas::internals::Fetched;
    use idaas::internals::RefreshCache;
    use idaas::CachePolicy;
    use idaas::Clock;
    let _watchdog = Watchdog::new("prefetch_window_crossing", Duration::from_secs(120));
    let clock = ManualClock::new(1_760_000_000_000);
    let fetches = Arc::new(AtomicUsize::new(0));
    let cache = {
        let (fetches, fetch_clock) = (fetches.clone(), clock.clone());
        RefreshCache::new(
            "race",
            move || {
                fetches.fetch_add(1, Ordering::SeqCst);
                Ok(Fetched {
                    value: 1u64,
                    expires_at_ms: fetch_clock.now_millis() + 60_000,
                })
            },
            clock.clone(),
            CachePolicy {
                jitter: false,
                ..CachePolicy::default()
            },
        )
    };
    cache.with(|v| *v).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..6)
        .map(|_| {
            let (c, stop) = (cache.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    c.with(|v| *v).unwrap();
                }
            })
        })
        .collect();
    // Up to 5,000 crossings, at most ~8 s (the machine may be busy).
    let started = Instant::now();
    let mut cycles = 0;
    let mut duplicates = 0;
    while cycles < 5000 && started.elapsed() < Duration::from_secs(8) {
        cycles += 1;
        let before = fetches.load(Ordering::SeqCst);
        // A 60 s token prefetches from +24 s and is stale from +30 s: +25 s is in the window.
        clock.advance_millis(25_000);
        let t = Instant::now();
        while fetches.load(Ordering::SeqCst) == before && t.elapsed() < Duration::from_secs(1) {
            std::hint::spin_loop();
        }
        std::thread::sleep(Duration::from_micros(200));
        duplicates += (fetches.load(Ordering::SeqCst) - before).saturating_sub(1);
    }
    stop.store(true, Ordering::SeqCst);
    for r in readers {
        r.join().unwrap();
    }
    eprintln!("{cycles} prefetch-window crossings, {duplicates} duplicate fetches");
    assert!(
        cycles >= 200,
        "only {cycles} crossings: machine too busy to test"
    );
    assert_eq!(
        duplicates, 0,
        "{duplicates} duplicate fetches in {cycles} prefetch-window crossings"
    );
}
