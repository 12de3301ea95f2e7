//! Shared by the benchmark programs (`benches/*.rs`): the quick switch and the one-line
//! machine-readable result format that `scripts/bench_report.py` collects:
//!
//! ```text
//! BENCH {"name":"cached_token","impl":"rust","threads":1,"median_ns":41.2,"p99_ns":55.0,"ops_per_sec":2.4e7,...}
//! ```
#![allow(dead_code)]

use serde_json::{json, Map, Value};

/// `IDAAS_BENCH_QUICK=1` (set by `scripts/bench.sh --quick`): fewer iterations, no criterion.
pub fn quick() -> bool {
    std::env::var("IDAAS_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// `full` normally, `quick` under `IDAAS_BENCH_QUICK`.
pub fn scale(full: usize, quick_n: usize) -> usize {
    if quick() {
        quick_n
    } else {
        full
    }
}

/// The value at quantile `p` (0..=1) of an ascending slice (nearest rank, rounded).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Sorts `samples` (ns) and returns (median, p99, max).
pub fn summarize(samples: &mut [f64]) -> (f64, f64, f64) {
    samples.sort_by(|a, b| a.total_cmp(b));
    (
        percentile(samples, 0.5),
        percentile(samples, 0.99),
        samples.last().copied().unwrap_or(f64::NAN),
    )
}

fn round(v: f64) -> Value {
    if v.is_finite() {
        json!((v * 10.0).round() / 10.0)
    } else {
        Value::Null
    }
}

/// Prints one `BENCH {json}` line. `extra` (a JSON object) adds fields, e.g. `{"connections":8}`.
#[allow(clippy::too_many_arguments)]
pub fn emit(
    name: &str,
    implementation: &str,
    variant: &str,
    threads: usize,
    median_ns: f64,
    p99_ns: f64,
    ops_per_sec: f64,
    extra: Value,
) {
    let mut m = Map::new();
    m.insert("name".into(), json!(name));
    m.insert("impl".into(), json!(implementation));
    m.insert("variant".into(), json!(variant));
    m.insert("threads".into(), json!(threads));
    m.insert("median_ns".into(), round(median_ns));
    m.insert("p99_ns".into(), round(p99_ns));
    m.insert("ops_per_sec".into(), round(ops_per_sec));
    if let Value::Object(e) = extra {
        for (k, v) in e {
            m.insert(k, v);
        }
    }
    println!("BENCH {}", Value::Object(m));
}
