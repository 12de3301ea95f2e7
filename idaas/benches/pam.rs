//! PAM client benchmark (timed loops, `harness = false`): `get_api_key` and
//! `generate_jwt_authentication_token` against the in-process emulator over loopback HTTP and HTTPS
//! with keep-alive (sequential and 8 threads), a bare `ureq` GET of the same route as the floor, and
//! the cached API-key read.
//!
//! ```sh
//! cargo bench --bench pam            # release build; prints median / p99 latency and requests/s
//! PAM_BENCH_REQUESTS=200 cargo bench --bench pam   # a quicker run
//! PAM_BENCH_FILTER=get_api_key/https/1 cargo bench --bench pam   # only the matching rows (profiling)
//! ```
//!
//! `PAM_BENCH_FILTER` keeps the rows whose `name/transport/threads` (e.g. `bare_http_get/http/8`)
//! contains one of its comma-separated items; the cached read is `cached_api_key/-/N`.
//!
//! Every row uses a fresh client (fresh connection pool) and reports the TCP connections the
//! emulator accepted for it (`Emulator::connections_accepted`): keep-alive means one connection per
//! thread (+1 when the token endpoint and the Developer API use different schemes), and none opened
//! during the measured phase. Each figure is also printed as a `BENCH {json}` line (see
//! `benches/common`).
//!
//! The emulator shares the machine's cores with the client, so the network figures measure the
//! pair; they are an upper bound on client overhead, not a server benchmark.

mod common;

use idaas::pam::{ApiKeyCacheOptions, GenerateJwtOptions, PamClient, API_VERSION, SCOPE};
use idaas::Config;
use idaas::ManualClock;
use idaas::{Client, SecretString};
use idaas_emulator::{AuthMethod, Emulator};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CREDENTIAL: &str = "openai_prod_key";

fn report(
    name: &str,
    variant: &str,
    threads: usize,
    mut lat: Vec<f64>,
    wall: Duration,
    conns: (u64, u64),
) {
    let n = lat.len();
    let (median, p99, _) = common::summarize(&mut lat);
    let rps = n as f64 / wall.as_secs_f64();
    println!(
        "{name:<14} {variant:<6} {threads} thr  n={n:<6} median={:>8.1} µs p99={:>8.1} µs {:>7.0} req/s  connections {} ({} during the run)",
        median / 1e3,
        p99 / 1e3,
        rps,
        conns.0,
        conns.1
    );
    common::emit(
        name,
        "rust",
        variant,
        threads,
        median,
        p99,
        rps,
        json!({"requests": n, "connections": conns.0, "connections_during_run": conns.1}),
    );
}

/// Runs `op` `requests` times over `threads` threads after a concurrent warm-up, with the connection
/// counts: (opened since `conn_base`, opened during the measured phase).
fn run_rows(
    emu: &Emulator,
    conn_base: u64,
    requests: usize,
    threads: usize,
    op: &(dyn Fn() + Sync),
) -> (Vec<f64>, Duration, (u64, u64)) {
    // Warm-up on every thread at once: token fetch, TLS handshakes, one pooled connection each.
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for _ in 0..10 {
                    op();
                }
            });
        }
    });
    let warm = emu.connections_accepted();
    let per = requests / threads;
    let t0 = Instant::now();
    let lat: Vec<f64> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut v = Vec::with_capacity(per);
                    for _ in 0..per {
                        let t = Instant::now();
                        op();
                        v.push(t.elapsed().as_nanos() as f64);
                    }
                    v
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let wall = t0.elapsed();
    let end = emu.connections_accepted();
    (lat, wall, (end - conn_base, end - warm))
}

/// Whether the row `name/transport/threads` is selected by `PAM_BENCH_FILTER` (all when unset).
fn selected(name: &str, transport: &str, threads: usize) -> bool {
    let Ok(filter) = std::env::var("PAM_BENCH_FILTER") else {
        return true;
    };
    let row = format!("{name}/{transport}/{threads}");
    filter
        .split(',')
        .map(str::trim)
        .any(|f| !f.is_empty() && row.contains(f))
}

fn client(cfg: &Config) -> Client {
    Client::new(cfg.clone()).unwrap()
}

fn pam_for(client: &Client, endpoint: &str) -> PamClient {
    let provider = client.provider_for_scope(SCOPE).unwrap();
    PamClient::builder_from_client(client, provider)
        .endpoint(endpoint)
        .build()
        .unwrap()
}

fn main() {
    // `cargo bench` passes `--bench`; ignore arguments.
    let requests: usize = std::env::var("PAM_BENCH_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(common::scale(4000, 400));
    let emu = Emulator::start_default();
    let mut cfg =
        Config::from_json_value(&emu.client_config(AuthMethod::ClientSecretPost)).unwrap();
    let secret = SecretString::new(emu.client_secret());
    cfg.authn.client_secret_supplier = Some(Arc::new(move || Ok(secret.clone())));
    let audiences = vec!["https://api.partner.example".to_string()];
    let jwt_opts = GenerateJwtOptions::default();

    println!(
        "PAM operations against the emulator on loopback (keep-alive), {requests} requests per row"
    );
    // Rows are repeated in rounds (the collector takes the median of the rounds' medians): on a
    // 2-core machine a row's figure depends on where the scheduler puts client and server threads.
    let rounds = common::scale(3, 1);
    for round in 0..rounds {
        if rounds > 1 {
            println!("round {}/{rounds}", round + 1);
        }
        for (transport, base) in [
            ("http", emu.http_base_url()),
            ("https", emu.https_base_url()),
        ] {
            for threads in [1usize, 8] {
                // get_api_key
                if selected("get_api_key", transport, threads) {
                    let base_conns = emu.connections_accepted();
                    let c = client(&cfg);
                    let pam = pam_for(&c, &base);
                    let (lat, wall, conns) = run_rows(&emu, base_conns, requests, threads, &|| {
                        assert!(pam.get_api_key(CREDENTIAL).unwrap().is_some());
                    });
                    report("get_api_key", transport, threads, lat, wall, conns);
                    drop((pam, c));
                }

                // generate_jwt
                if selected("generate_jwt", transport, threads) {
                    let base_conns = emu.connections_accepted();
                    let c = client(&cfg);
                    let pam = pam_for(&c, &base);
                    let (lat, wall, conns) = run_rows(&emu, base_conns, requests, threads, &|| {
                        let r = pam
                            .generate_jwt_authentication_token(
                                "partner_jwt",
                                "bench",
                                &audiences,
                                &jwt_opts,
                            )
                            .unwrap();
                        std::hint::black_box(r);
                    });
                    report("generate_jwt", transport, threads, lat, wall, conns);
                    drop((pam, c));
                }
                let bare = selected("bare_http_get", transport, threads);
                let health = threads == 1 && selected("bare_http_get_health", transport, threads);
                if !bare && !health {
                    continue;
                }

                // The floor: a bare ureq GET of the same request — route, bearer token and the
                // header set the SDK sends (the reference's), with a date and a nonce made once —
                // and no SDK around it (no model, no checks, no retries). The gap is the SDK's cost.
                let token = client(&cfg).bearer_token_for_scope(SCOPE).unwrap();
                let base_conns = emu.connections_accepted();
                let auth = format!("Bearer {}", token.expose());
                let date = httpdate::fmt_http_date(std::time::SystemTime::now());
                let host = base
                    .split_once("://")
                    .map(|(_, h)| h.to_string())
                    .unwrap_or_default();
                let ua = idaas::pam::user_agent();
                let roots: Vec<_> = ureq::tls::parse_pem(emu.ca_cert_pem().as_bytes())
                    .filter_map(|i| match i {
                        Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                        _ => None,
                    })
                    .collect();
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .tls_config(
                        ureq::tls::TlsConfig::builder()
                            .root_certs(ureq::tls::RootCerts::Specific(Arc::new(roots)))
                            .build(),
                    )
                    .max_idle_connections_per_host(64)
                    .build()
                    .into();
                let url = format!(
                    "{base}/v2/{}/credentials/_/actions/obtain?credentialIdentifier={CREDENTIAL}",
                    emu.instance_id()
                );
                if bare {
                    let (lat, wall, conns) = run_rows(&emu, base_conns, requests, threads, &|| {
                        let body = agent
                            .get(&url)
                            .header("date", &date)
                            .header("host", &host)
                            .header("accept", "application/json")
                            .header("x-acs-signature-nonce", "0f1e2d3c4b5a69788796a5b4c3d2e1f0")
                            .header("x-acs-signature-method", "HMAC-SHA1")
                            .header("x-acs-signature-version", "1.0")
                            .header("x-acs-version", API_VERSION)
                            .header("x-acs-action", "ObtainCredential")
                            .header("user-agent", &ua)
                            .header("authorization", &auth)
                            .call()
                            .unwrap()
                            .body_mut()
                            .read_to_string()
                            .unwrap();
                        assert!(body.contains("apiKey"));
                    });
                    report("bare_http_get", transport, threads, lat, wall, conns);
                }

                // The emulator's floor without its Developer API work (bearer JWT ES256 verification,
                // JSON): a bare GET of /health on the same kind of connection.
                if health {
                    let base_conns = emu.connections_accepted();
                    let health = format!("{base}/health");
                    let (lat, wall, conns) = run_rows(&emu, base_conns, requests, threads, &|| {
                        let mut r = agent.get(&health).call().unwrap();
                        assert_eq!(r.status().as_u16(), 200);
                        std::hint::black_box(r.body_mut().read_to_string().unwrap());
                    });
                    report("bare_http_get_health", transport, threads, lat, wall, conns);
                }
            }
        }
    }

    // Cached read: ManualClock so the entry never expires during the run.
    let c = client(&cfg);
    let provider = c.provider_for_scope(SCOPE).unwrap();
    let cached = PamClient::builder_from_client(&c, provider)
        .endpoint(emu.http_base_url())
        .clock(ManualClock::starting_now())
        .api_key_cache(ApiKeyCacheOptions::default())
        .build()
        .unwrap();
    cached.get_api_key(CREDENTIAL).unwrap();
    const BATCH: u32 = 1000;
    let batches = common::scale(500, 100);
    for threads in [1usize, 8] {
        if !selected("cached_api_key", "-", threads) {
            continue;
        }
        let t0 = Instant::now();
        let lat: Vec<f64> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..threads)
                .map(|_| {
                    s.spawn(|| {
                        let mut v = Vec::with_capacity(batches);
                        for _ in 0..batches {
                            let t = Instant::now();
                            for _ in 0..BATCH {
                                std::hint::black_box(cached.get_api_key(CREDENTIAL).unwrap());
                            }
                            v.push(t.elapsed().as_nanos() as f64 / BATCH as f64);
                        }
                        v
                    })
                })
                .collect();
            hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
        });
        let wall = t0.elapsed();
        let mut lat = lat;
        let reads = (threads * batches) as f64 * BATCH as f64;
        let (median, p99, _) = common::summarize(&mut lat);
        println!(
            "cached get_api_key {threads} thread(s): median {median:.1} ns/read p99 {p99:.1} ns/read {:.0} reads/s",
            reads / wall.as_secs_f64()
        );
        common::emit(
            "cached_api_key",
            "rust",
            "get_api_key with ApiKeyCacheOptions",
            threads,
            median,
            p99,
            reads / wall.as_secs_f64(),
            json!({"batch": BATCH}),
        );
    }
    emu.shutdown();
}
