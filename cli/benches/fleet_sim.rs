//! Fleet simulation (no network): token requests per minute at the IdP for N hosts, with and
//! without one `idaas agent` per host (decision D-79).
//!
//! Model, per host:
//! * M long-lived processes (default 64), all started at t = 0 (every host at once: the cold
//!   start). Each fetches a token at start and then refreshes it at its prefetch instant: the
//!   instant the core's own [`compute_times`] gives (the processes read their token often enough
//!   that a read falls right after it; the refresh runs on the core's background thread).
//! * short-lived processes (cron/CGI style), `--short-per-sec` per host (default 1, evenly spaced):
//!   each fetches one token at start and exits.
//! * without the agent, every process asks the IdP itself; with the agent, they all ask the host's
//!   agent, which holds one token (one scope) and refreshes it on the same policy: one request at
//!   its first read and one per refresh.
//!
//! Refresh instants: `compute_times(now, now + lifetime, &policy)` with the default `CachePolicy`
//! but `jitter: false`, minus a jitter drawn here, uniform in [0, lifetime / 10) — exactly what
//! `compute_times` subtracts with `jitter: true` (idaas/src/cache.rs), but from a seeded generator
//! so that runs are reproducible (the core draws from the system's random source).
//!
//! Output: per N, `BENCH {json}` lines (scripts/bench_report.py renders the "Fleet simulation"
//! table): requests per minute at the IdP, mean and peak over the steady window (after the first
//! hour), and in the cold-start minute (minute 0).
//!
//! Usage: cargo bench -p idaas-cli --bench fleet_sim [-- --hosts 1,10,100 --procs 64
//!        --short-per-sec 1 --lifetime 1200 --hours 4 --seed 1]

use idaas::internals::compute_times;
use idaas::CachePolicy;

/// splitmix64: a small, seeded, well-mixed generator (no dependency).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
}

/// The core's refresh instant of a token fetched at `now` (ms), with a seeded jitter.
fn refresh_at(now: u64, lifetime_ms: u64, policy: &CachePolicy, rng: &mut Rng) -> u64 {
    let t = compute_times(now, now + lifetime_ms, policy);
    // compute_times with jitter subtracts random_below(l / 10) from both instants and clamps the
    // prefetch instant to [now, stale - 1]; the same here, with the jitter drawn from `rng`.
    let j = rng.below(lifetime_ms / 10);
    let stale = t.stale_at_ms.saturating_sub(j).max(now);
    t.prefetch_at_ms
        .saturating_sub(j)
        .min(stale.saturating_sub(1))
        .max(now)
}

/// Adds one token holder's requests (first at `start`, then at every refresh) to `per_min`.
fn holder(
    start: u64,
    horizon: u64,
    lifetime_ms: u64,
    policy: &CachePolicy,
    rng: &mut Rng,
    per_min: &mut [u64],
) {
    let mut t = start;
    while t < horizon {
        per_min[(t / 60_000) as usize] += 1;
        t = refresh_at(t, lifetime_ms, policy, rng).max(t + 1);
    }
}

struct Stats {
    cold: u64,
    mean: f64,
    peak: u64,
}

fn stats(per_min: &[u64], steady_from: usize) -> Stats {
    let w = &per_min[steady_from..];
    Stats {
        cold: per_min[0],
        mean: w.iter().sum::<u64>() as f64 / w.len() as f64,
        peak: w.iter().copied().max().unwrap_or(0),
    }
}

fn main() {
    let mut hosts: Vec<u64> = vec![1, 10, 100, 1_000, 10_000];
    let (mut procs, mut short_per_sec, mut lifetime_s, mut hours, mut seed) =
        (64u64, 1u64, 1200u64, 4u64, 1u64);
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let v = || args.get(i + 1).expect("a value").clone();
        match args[i].as_str() {
            "--hosts" => hosts = v().split(',').map(|s| s.parse().expect("hosts")).collect(),
            "--procs" => procs = v().parse().expect("procs"),
            "--short-per-sec" => short_per_sec = v().parse().expect("short-per-sec"),
            "--lifetime" => lifetime_s = v().parse().expect("lifetime"),
            "--hours" => hours = v().parse().expect("hours"),
            "--seed" => seed = v().parse().expect("seed"),
            _ => {
                i += 1; // cargo bench's own `--bench`
                continue;
            }
        }
        i += 2;
    }
    assert!(
        hours >= 2,
        "--hours: at least 2 (the first hour is the warm-up)"
    );
    let policy = CachePolicy {
        jitter: false,
        ..CachePolicy::default()
    };
    let lifetime_ms = lifetime_s * 1000;
    let horizon = hours * 3_600_000;
    let minutes = (hours * 60) as usize;
    let steady_from = 60;
    println!(
        "fleet simulation: {procs} long-lived processes + {short_per_sec} short-lived process(es)/s per host, token lifetime {lifetime_s} s, {hours} h, seed {seed}; steady window: minutes {steady_from}..{minutes}"
    );
    for &n in &hosts {
        let started = std::time::Instant::now();
        let mut rng = Rng(seed ^ n.wrapping_mul(0x2545_F491_4F6C_DD1D));
        let mut without = vec![0u64; minutes];
        let mut with = vec![0u64; minutes];
        for _host in 0..n {
            for _p in 0..procs {
                holder(0, horizon, lifetime_ms, &policy, &mut rng, &mut without);
            }
            // One agent per host: its first read is at t = 0 (the processes start then).
            holder(0, horizon, lifetime_ms, &policy, &mut rng, &mut with);
        }
        // Short-lived processes without the agent: one token request each, evenly spaced.
        for m in without.iter_mut() {
            *m += n * short_per_sec * 60;
        }
        let (a, b) = (stats(&without, steady_from), stats(&with, steady_from));
        let secs = started.elapsed().as_secs_f64();
        println!(
            "N={n:>6}: without the agent cold {:>9} /min, mean {:>11.1} /min, peak {:>9} /min | with the agent cold {:>6} /min, mean {:>9.1} /min, peak {:>6} /min ({secs:.2} s)",
            a.cold, a.mean, a.peak, b.cold, b.mean, b.peak
        );
        println!(
            "BENCH {}",
            serde_json::json!({
                "name": "fleet_sim",
                "impl": "sim",
                "variant": format!("{n} hosts"),
                "threads": 1,
                "hosts": n,
                "processes_per_host": procs,
                "short_lived_per_sec_per_host": short_per_sec,
                "token_lifetime_s": lifetime_s,
                "hours": hours,
                "steady_from_minute": steady_from,
                "seed": seed,
                "without_agent": {"cold_start_per_min": a.cold, "mean_per_min": (a.mean * 10.0).round() / 10.0, "peak_per_min": a.peak},
                "with_agent": {"cold_start_per_min": b.cold, "mean_per_min": (b.mean * 10.0).round() / 10.0, "peak_per_min": b.peak},
                "reduction": if b.mean > 0.0 { (a.mean / b.mean * 10.0).round() / 10.0 } else { 0.0 },
                "seconds": (secs * 1000.0).round() / 1000.0,
            })
        );
    }
}
