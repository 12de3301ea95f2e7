//! Client start-up (`harness = false`): config file load + `Client::new` + the first bearer token
//! against the in-process emulator over HTTPS on loopback (a fresh client, hence a fresh TCP + TLS
//! connection, each iteration), with the phases timed separately, and the floor it is measured
//! against: the emulator's own response time to the same token request from a bare `ureq` agent on a
//! fresh connection (TLS handshake + POST).
//!
//! Target: start-up to first token ≤ 5 ms plus the emulator's own response time, i.e.
//! `overhead_ns = median(start-up) − median(bare request)` ≤ 5 ms. The cold start of a whole C
//! process (and its RSS) is measured by `benches/c/startup_rss.c`.

mod common;

use idaas::Client;
use idaas::Config;
use idaas_emulator::{AuthMethod, Emulator, CLIENT_SECRET_ENV};
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;

fn ns(t: Instant) -> f64 {
    t.elapsed().as_nanos() as f64
}

fn main() {
    let emu = Emulator::start_default();
    // The config names the env var holding the secret, as a deployed client's does.
    std::env::set_var(CLIENT_SECRET_ENV, emu.client_secret());
    let dir = std::env::temp_dir().join(format!("idaas-bench-startup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("client-config.json");
    std::fs::write(
        &path,
        serde_json::to_vec_pretty(&emu.client_config(AuthMethod::ClientSecretPost)).unwrap(),
    )
    .unwrap();

    let n = common::scale(60, 12);
    let (mut total, mut load, mut new, mut first) = (vec![], vec![], vec![], vec![]);
    for _ in 0..n {
        let t0 = Instant::now();
        let cfg = Config::from_path(&path).unwrap();
        let t1 = Instant::now();
        let client = Client::new(cfg).unwrap();
        let t2 = Instant::now();
        std::hint::black_box(client.bearer_token().unwrap());
        first.push(ns(t2));
        new.push((t2 - t1).as_nanos() as f64);
        load.push((t1 - t0).as_nanos() as f64);
        total.push(ns(t0));
    }

    // The floor: the same token request from a bare ureq agent, fresh connection each time.
    let roots: Vec<_> = ureq::tls::parse_pem(emu.ca_cert_pem().as_bytes())
        .filter_map(|i| match i {
            Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect();
    let roots = Arc::new(roots);
    let client_id = emu.client_id(AuthMethod::ClientSecretPost);
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", client_id.as_str()),
        ("client_secret", emu.client_secret()),
        ("scope", idaas::pam::SCOPE),
    ];
    let mut bare = vec![];
    for _ in 0..n {
        let t0 = Instant::now();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(ureq::tls::RootCerts::Specific(roots.clone()))
                    .build(),
            )
            .build()
            .into();
        let body = agent
            .post(emu.token_endpoint())
            .send_form(form)
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        assert!(body.contains("access_token"));
        bare.push(ns(t0));
    }

    let (b_med, b_p99, _) = common::summarize(&mut bare);
    let (l_med, ..) = common::summarize(&mut load);
    let (n_med, ..) = common::summarize(&mut new);
    let (f_med, ..) = common::summarize(&mut first);
    let (t_med, t_p99, _) = common::summarize(&mut total);
    println!(
        "start-up, {n} runs: total median {:.2} ms (p99 {:.2}) = config load {:.3} ms + Client::new {:.3} ms + first token {:.2} ms; \
         emulator token request from a bare client on a fresh connection: median {:.2} ms; overhead {:.2} ms",
        t_med / 1e6,
        t_p99 / 1e6,
        l_med / 1e6,
        n_med / 1e6,
        f_med / 1e6,
        b_med / 1e6,
        (t_med - b_med) / 1e6
    );
    common::emit(
        "startup",
        "rust",
        "config file + Client::new + first token (HTTPS, fresh connection)",
        1,
        t_med,
        t_p99,
        1e9 / t_med,
        json!({
            "runs": n,
            "config_load_ns": l_med,
            "client_new_ns": n_med,
            "first_token_ns": f_med,
            "emulator_baseline_ns": b_med,
            "overhead_ns": t_med - b_med,
        }),
    );
    common::emit(
        "startup_baseline",
        "ureq",
        "bare token request on a fresh TLS connection (the emulator's response time)",
        1,
        b_med,
        b_p99,
        1e9 / b_med,
        json!({"runs": n}),
    );
    let _ = std::fs::remove_dir_all(&dir);
    emu.shutdown();
}
