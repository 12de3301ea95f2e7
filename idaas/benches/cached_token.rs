//! Cost of a cached `Client::bearer_token()` (the hot path) and of the zero-copy
//! `Client::with_bearer_token`: criterion (1 thread), then a custom loop printing the median and p99
//! per call for 1 and 8 threads.
//!
//! The token comes from a PLUGIN source (no network); after the first call every read is a cache hit,
//! which is exactly the path a token-endpoint-backed client takes. The token is 1,100 bytes, like a
//! real IDaaS JWT.
//!
//! Each per-call figure is also printed as a `BENCH {json}` line (see `benches/common`), collected by
//! `scripts/bench.sh`. `IDAAS_BENCH_QUICK=1` skips criterion and runs fewer batches.
// `criterion_group!` defines an undocumented public function.
#![allow(missing_docs)]

mod common;

use criterion::{criterion_group, Criterion};
use idaas::AuthnMethod;
use idaas::Config;
use idaas::Credential;
use idaas::{Client, SecretString};
use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

fn client() -> Client {
    let cfg = Config::builder()
        .idaas_instance_id("idaas_bench")
        .client_id("app_bench")
        .issuer("https://idp.example.com")
        .token_endpoint("https://idp.example.com/token")
        .authn_method(AuthnMethod::Plugin)
        .plugin_name("bench")
        .build()
        .expect("config");
    let token = "x".repeat(1100);
    Client::builder(cfg)
        .plugin(
            "bench",
            Arc::new(move |_: &str| -> idaas::Result<Credential> {
                Ok(Credential {
                    access_token: SecretString::new(token.clone()),
                    token_type: "Bearer".into(),
                    expires_in: 86_400,
                    ..Credential::default()
                })
            }),
        )
        .build()
        .expect("client")
}

fn bench_single(c: &mut Criterion) {
    let client = client();
    client.bearer_token().expect("first fetch");
    c.bench_function("bearer_token (cached, 1 thread)", |b| {
        b.iter(|| black_box(client.bearer_token().unwrap()))
    });
    let mut buf = vec![0u8; 2048];
    c.bench_function(
        "with_bearer_token copy into buffer (cached, 1 thread)",
        |b| {
            b.iter(|| {
                client
                    .with_bearer_token(|t| {
                        buf[..t.len()].copy_from_slice(t.as_bytes());
                        black_box(&mut buf);
                        t.len()
                    })
                    .unwrap()
            })
        },
    );
}

/// Per-call latency with `threads` threads: each thread times batches of 64 calls (clock overhead
/// amortised) and records ns/call per batch; prints the median and p99 over all batches. Medians of
/// batches are robust against the noise of a shared 2-core machine.
fn per_call(threads: usize, zero_copy: bool) {
    let batches = common::scale(20_000, 2_000);
    const BATCH: u32 = 64;
    let client = client();
    client.bearer_token().expect("first fetch");
    let t0 = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let c = client.clone();
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 2048];
                let mut samples = Vec::with_capacity(batches);
                for _ in 0..batches {
                    let t = Instant::now();
                    for _ in 0..BATCH {
                        if zero_copy {
                            c.with_bearer_token(|tok| {
                                buf[..tok.len()].copy_from_slice(tok.as_bytes());
                                black_box(tok.len())
                            })
                            .unwrap();
                        } else {
                            black_box(c.bearer_token().unwrap());
                        }
                    }
                    samples.push(t.elapsed().as_nanos() as f64 / BATCH as f64);
                }
                samples
            })
        })
        .collect();
    let mut all: Vec<f64> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let wall = t0.elapsed().as_secs_f64();
    let calls = all.len() as f64 * BATCH as f64;
    let (median, p99, _) = common::summarize(&mut all);
    println!(
        "{} (cached, {threads} thread{}): median {:.1} ns/call, p99 {:.1} ns/call ({} batches of {BATCH})",
        if zero_copy { "with_bearer_token copy into buffer" } else { "bearer_token" },
        if threads == 1 { "" } else { "s" },
        median,
        p99,
        all.len()
    );
    common::emit(
        "cached_token",
        "rust",
        if zero_copy {
            "with_bearer_token (copy into buffer)"
        } else {
            "bearer_token() -> SecretString"
        },
        threads,
        median,
        p99,
        calls / wall,
        serde_json::json!({"batch": BATCH, "token_bytes": 1100}),
    );
}

criterion_group!(benches, bench_single);

fn main() {
    if !common::quick() {
        benches();
        Criterion::default().configure_from_args().final_summary();
    }
    per_call(1, false);
    per_call(1, true);
    per_call(8, false);
    per_call(8, true);
}
