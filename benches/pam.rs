//! PAM client benchmark (timed loops, `harness = false`): `get_api_key` against the in-process
//! emulator over loopback HTTP and HTTPS with keep-alive (sequential and 8 threads), and the cached
//! API-key read.
//!
//! ```sh
//! cargo bench --bench pam            # release build; prints median / p99 latency and requests/s
//! PAM_BENCH_REQUESTS=200 cargo bench --bench pam   # a quicker run
//! ```
//!
//! The emulator shares the machine's cores with the client, so the network figures measure the
//! pair; they are an upper bound on client overhead, not a server benchmark.

use idaas::clock::ManualClock;
use idaas::config::Config;
use idaas::pam::{ApiKeyCacheOptions, PamClient, SCOPE};
use idaas::{Client, SecretString};
use idaas_emulator::{AuthMethod, Emulator};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn report(name: &str, mut lat: Vec<Duration>, wall: Duration) {
    lat.sort();
    let n = lat.len();
    println!(
        "{name:<34} n={n:<6} median={:>9.1?} p99={:>9.1?} {:>9.0} req/s",
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        n as f64 / wall.as_secs_f64()
    );
}

fn run_network(name: &str, pam: &PamClient, requests: usize, threads: usize) {
    // Warm up: token fetch, TLS handshakes, pool.
    for _ in 0..20 {
        pam.get_api_key("openai_prod_key").unwrap();
    }
    let per = requests / threads;
    let t0 = Instant::now();
    let lat: Vec<Duration> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut v = Vec::with_capacity(per);
                    for _ in 0..per {
                        let t = Instant::now();
                        let k = pam.get_api_key("openai_prod_key").unwrap();
                        v.push(t.elapsed());
                        assert!(k.is_some());
                    }
                    v
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    report(name, lat, t0.elapsed());
}

fn main() {
    // `cargo bench` passes `--bench`; ignore arguments.
    let requests: usize = std::env::var("PAM_BENCH_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let emu = Emulator::start_default();
    let mut cfg =
        Config::from_json_value(&emu.client_config(AuthMethod::ClientSecretPost)).unwrap();
    let secret = SecretString::new(emu.client_secret());
    cfg.authn.client_secret_supplier = Some(Arc::new(move || Ok(secret.clone())));
    let client = Client::new(cfg).unwrap();
    let provider = client.provider_for_scope(SCOPE).unwrap();
    let https = PamClient::from_client(&client).unwrap();
    let http = PamClient::builder_from_client(&client, provider.clone())
        .endpoint(emu.http_base_url())
        .build()
        .unwrap();

    println!(
        "get_api_key against the emulator on loopback (keep-alive), {requests} requests per row"
    );
    run_network("http  sequential", &http, requests, 1);
    run_network("http  8 threads", &http, requests, 8);
    run_network("https sequential", &https, requests, 1);
    run_network("https 8 threads", &https, requests, 8);

    // Cached read: ManualClock so the entry never expires during the run.
    let cached = PamClient::builder_from_client(&client, provider)
        .endpoint(emu.http_base_url())
        .clock(ManualClock::starting_now())
        .api_key_cache(ApiKeyCacheOptions::default())
        .build()
        .unwrap();
    cached.get_api_key("openai_prod_key").unwrap();
    const BATCH: u32 = 1000;
    for (label, threads) in [
        ("cached get_api_key  1 thread", 1usize),
        ("cached get_api_key  8 threads", 8),
    ] {
        let batches = 500usize;
        let t0 = Instant::now();
        let lat: Vec<Duration> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..threads)
                .map(|_| {
                    s.spawn(|| {
                        let mut v = Vec::with_capacity(batches);
                        for _ in 0..batches {
                            let t = Instant::now();
                            for _ in 0..BATCH {
                                std::hint::black_box(
                                    cached.get_api_key("openai_prod_key").unwrap(),
                                );
                            }
                            v.push(t.elapsed() / BATCH);
                        }
                        v
                    })
                })
                .collect();
            hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
        });
        let wall = t0.elapsed();
        let mut lat = lat;
        lat.sort();
        let reads = (threads * batches) as f64 * BATCH as f64;
        println!(
            "{label:<34} n={:<8} median={:>7.1?}/read p99={:>7.1?}/read {:>12.0} reads/s",
            reads as u64,
            percentile(&lat, 0.5),
            percentile(&lat, 0.99),
            reads / wall.as_secs_f64()
        );
    }
    emu.shutdown();
}
