//! Refresh storm (`harness = false`): 256 threads read the cached bearer token while it enters the
//! prefetch window or expires; the token endpoint answers after an injected latency (200 ms, 100 ms
//! in quick mode) so that "waited for the network" is unmistakable in the latencies.
//!
//! Time is driven with a `ManualClock` (the cache states depend only on the client's clock), so each
//! scenario is one deterministic refresh:
//!
//! * `cold start`  — 256 threads make their first call at once on an empty cache: 1 request, everyone
//!   waits for it (there is nothing to serve);
//! * `prefetch (background refresh, default)` — the clock enters the prefetch window while 256
//!   threads read in a loop (1 ms pause between reads, so the 2 cores are not oversubscribed and the
//!   latencies show waits, not scheduling): 1 request; callers that waited for the network must be 0;
//!   `in-caller refresh-ahead (asyncRefresh false, opt-in)` — the same with in-caller refresh: 1
//!   request, and by design the one caller that refreshes waits (informational row);
//! * `expired` — the clock jumps past expiry; 256 threads call at once: 1 request, everyone waits;
//! * `prefetch window crossed N times` — 256 threads read in a tight loop while the clock crosses the
//!   prefetch window again and again (no injected latency): requests must equal crossings (a reader
//!   that loaded the old entry just before the refreshed one was stored must not fetch again).
//!
//! Prints `BENCH {json}` lines with `token_requests` (per refresh: each scenario is one refresh),
//! `max_ns` (the worst caller) and `network_waiters` (calls slower than half the injected latency).

mod common;

use idaas::CachePolicy;
use idaas::Config;
use idaas::ManualClock;
use idaas::{Client, SecretString};
use idaas_emulator::{AuthMethod, Emulator, Fault, FaultRule, Route, TOKEN_PATH};
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

const THREADS: usize = 256;

struct Setup {
    emu: Emulator,
    cfg: Config,
    latency: Duration,
}

fn client(s: &Setup, clock: Arc<ManualClock>, async_refresh: bool) -> Client {
    let policy = CachePolicy {
        jitter: false,
        ..CachePolicy::default()
    };
    Client::builder(s.cfg.clone())
        .clock(clock)
        .cache_policy(policy)
        .async_refresh(async_refresh)
        .build()
        .unwrap()
}

fn set_latency(s: &Setup) {
    s.emu.clear_faults();
    s.emu.set_fault(FaultRule {
        route: Route::Token,
        fault: Fault::Latency(s.latency),
        times: None,
    });
}

fn report(s: &Setup, variant: &str, mut lat: Vec<f64>, wall: Duration, token_requests: usize) {
    let calls = lat.len();
    let slow = (s.latency.as_nanos() / 2) as f64;
    let waiters = lat.iter().filter(|&&l| l >= slow).count();
    let (median, p99, max) = common::summarize(&mut lat);
    println!(
        "{variant:<28} {THREADS} threads, {calls:>7} calls: token requests {token_requests}, median {:.2} µs, p99 {:.1} µs, worst {:.2} ms, {waiters} call(s) waited for the network ({} ms injected)",
        median / 1e3,
        p99 / 1e3,
        max / 1e6,
        s.latency.as_millis()
    );
    common::emit(
        "refresh_storm",
        "rust",
        variant,
        THREADS,
        median,
        p99,
        calls as f64 / wall.as_secs_f64(),
        json!({
            "token_requests": token_requests,
            "max_ns": (max * 10.0).round() / 10.0,
            "network_waiters": waiters,
            "calls": calls,
            "injected_latency_ms": s.latency.as_millis() as u64,
        }),
    );
}

/// All threads call once, released together by a barrier (after `before`, run on the main thread).
fn burst(c: &Client, before: impl FnOnce()) -> (Vec<f64>, Duration) {
    let barrier = Barrier::new(THREADS + 1);
    let (lat, wall) = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..THREADS)
            .map(|_| {
                let b = &barrier;
                sc.spawn(move || {
                    b.wait();
                    let t = Instant::now();
                    std::hint::black_box(c.bearer_token().unwrap());
                    t.elapsed().as_nanos() as f64
                })
            })
            .collect();
        before();
        let t0 = Instant::now();
        barrier.wait();
        let lat: Vec<f64> = hs.into_iter().map(|h| h.join().unwrap()).collect();
        (lat, t0.elapsed())
    });
    (lat, wall)
}

fn cold_start(s: &Setup) {
    let c = client(s, ManualClock::starting_now(), false);
    set_latency(s);
    let before = s.emu.count_requests(TOKEN_PATH);
    let (lat, wall) = burst(&c, || {});
    report(
        s,
        "cold start",
        lat,
        wall,
        s.emu.count_requests(TOKEN_PATH) - before,
    );
}

fn expired(s: &Setup) {
    let clock = ManualClock::starting_now();
    let c = client(s, clock.clone(), false);
    s.emu.clear_faults();
    c.bearer_token().unwrap();
    set_latency(s);
    let before = s.emu.count_requests(TOKEN_PATH);
    // Past the expiry of the cached token (the emulator's default lifetime is 1,200 s).
    let (lat, wall) = burst(&c, || clock.advance_secs(1_300));
    report(
        s,
        "expired",
        lat,
        wall,
        s.emu.count_requests(TOKEN_PATH) - before,
    );
}

fn prefetch(s: &Setup, async_refresh: bool) {
    let clock = ManualClock::starting_now();
    let c = client(s, clock.clone(), async_refresh);
    s.emu.clear_faults();
    c.bearer_token().unwrap();
    set_latency(s);
    let before = s.emu.count_requests(TOKEN_PATH);
    let stop = AtomicBool::new(false);
    let started = Barrier::new(THREADS + 1);
    let t0 = Instant::now();
    let lat: Vec<f64> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..THREADS)
            .map(|_| {
                let (c, stop, started) = (&c, &stop, &started);
                sc.spawn(move || {
                    let mut v = Vec::with_capacity(1024);
                    started.wait();
                    while !stop.load(Ordering::Relaxed) {
                        let t = Instant::now();
                        std::hint::black_box(c.bearer_token().unwrap());
                        v.push(t.elapsed().as_nanos() as f64);
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    v
                })
            })
            .collect();
        started.wait();
        // Readers run on the fresh token for a moment, then the clock enters the prefetch window
        // (lifetime 1,200 s: prefetch from 800 s, stale from 960 s, without jitter) and stays there
        // for three times the injected network latency.
        std::thread::sleep(s.latency / 2);
        clock.advance_secs(850);
        std::thread::sleep(s.latency * 3);
        stop.store(true, Ordering::Relaxed);
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let wall = t0.elapsed();
    // The no-caller-waits target applies to the default (background refresh, D-32); the opt-in
    // in-caller mode makes exactly one caller wait by design, so its row is informational (its
    // name does not start with "prefetch", which is what bench_report.py keys the target on).
    let variant = if async_refresh {
        "prefetch (background refresh, default)"
    } else {
        "in-caller refresh-ahead (asyncRefresh false, opt-in)"
    };
    report(
        s,
        variant,
        lat,
        wall,
        s.emu.count_requests(TOKEN_PATH) - before,
    );
}

fn crossings(s: &Setup) {
    let clock = ManualClock::starting_now();
    let c = client(s, clock.clone(), false);
    s.emu.clear_faults();
    c.bearer_token().unwrap();
    let before = s.emu.count_requests(TOKEN_PATH);
    let stop = AtomicBool::new(false);
    let max = common::scale(400, 60);
    let budget = Duration::from_secs(common::scale(12, 3) as u64);
    let t0 = Instant::now();
    let mut done = 0usize;
    let reads: usize = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..THREADS)
            .map(|_| {
                let (c, stop) = (&c, &stop);
                sc.spawn(move || {
                    let mut n = 0usize;
                    while !stop.load(Ordering::Relaxed) {
                        for _ in 0..64 {
                            std::hint::black_box(c.bearer_token().unwrap());
                        }
                        n += 64;
                        std::thread::yield_now();
                    }
                    n
                })
            })
            .collect();
        while done < max && t0.elapsed() < budget {
            let old = c.bearer_token().unwrap();
            // Into the prefetch window of the current token (+800 s .. +960 s without jitter).
            clock.advance_secs(850);
            let t = Instant::now();
            while c.with_bearer_token(|tok| tok == old.expose()).unwrap()
                && t.elapsed() < Duration::from_secs(5)
            {
                std::thread::sleep(Duration::from_micros(100));
            }
            done += 1;
        }
        // Let a late duplicate land before counting.
        std::thread::sleep(Duration::from_millis(20));
        stop.store(true, Ordering::Relaxed);
        hs.into_iter().map(|h| h.join().unwrap()).sum()
    });
    let wall = t0.elapsed();
    let requests = s.emu.count_requests(TOKEN_PATH) - before;
    println!(
        "prefetch window crossed {done} times, {THREADS} tight readers ({reads} reads): {requests} token requests ({} duplicate)",
        requests.saturating_sub(done)
    );
    common::emit(
        "refresh_storm",
        "rust",
        "prefetch window crossed repeatedly (tight readers)",
        THREADS,
        f64::NAN,
        f64::NAN,
        reads as f64 / wall.as_secs_f64(),
        json!({
            "token_requests": requests,
            "refreshes": done,
            "duplicates": requests.saturating_sub(done),
            "calls": reads,
        }),
    );
}

fn main() {
    let emu = Emulator::start_default();
    let mut cfg =
        Config::from_json_value(&emu.client_config(AuthMethod::ClientSecretPost)).unwrap();
    let secret = SecretString::new(emu.client_secret());
    cfg.authn.client_secret_supplier = Some(Arc::new(move || Ok(secret.clone())));
    let s = Setup {
        emu,
        cfg,
        latency: Duration::from_millis(common::scale(200, 100) as u64),
    };
    cold_start(&s);
    prefetch(&s, false);
    prefetch(&s, true);
    expired(&s);
    crossings(&s);
    s.emu.clear_faults();
}
