//! Prometheus metrics of the agent (agent.md §4.4), text format 0.0.4, written by hand: a few
//! counters and one histogram do not justify a metrics library (decision D-69).
//!
//! Label values come from fixed sets only (route names, status codes, error kinds, refusal
//! reasons): never a secret, identifier, scope or URL.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the duration histogram's buckets, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0, 5.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(&'static str, u16), u64>,
    hits: BTreeMap<&'static str, u64>,
    misses: BTreeMap<&'static str, u64>,
    upstream_errors: BTreeMap<&'static str, u64>,
    refused: BTreeMap<&'static str, u64>,
    reloads: BTreeMap<&'static str, u64>,
    durations: BTreeMap<&'static str, Histogram>,
}

/// The agent's counters; cheap to update (one uncontended mutex on a current-thread runtime).
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        f(&mut self.inner.lock().unwrap_or_else(|e| e.into_inner()))
    }

    pub fn request(&self, route: &'static str, status: u16, took: Duration) {
        self.with(|m| {
            *m.requests.entry((route, status)).or_default() += 1;
            let h = m.durations.entry(route).or_default();
            let s = took.as_secs_f64();
            for (i, b) in BUCKETS.iter().enumerate() {
                if s <= *b {
                    h.counts[i] += 1;
                }
            }
            h.count += 1;
            h.sum += s;
        });
    }

    /// A cache lookup of `kind` (`token`, `api_key`).
    pub fn cache(&self, kind: &'static str, hit: bool) {
        self.with(|m| {
            let map = if hit { &mut m.hits } else { &mut m.misses };
            *map.entry(kind).or_default() += 1;
        });
    }

    pub fn upstream_error(&self, kind: &'static str) {
        self.with(|m| *m.upstream_errors.entry(kind).or_default() += 1);
    }

    /// A refused request; `reason`: `token`, `peer`, `origin`.
    pub fn refused(&self, reason: &'static str) {
        self.with(|m| *m.refused.entry(reason).or_default() += 1);
    }

    /// A reload; `result`: `unchanged`, `changed`, `error`.
    pub fn reload(&self, result: &'static str) {
        self.with(|m| *m.reloads.entry(result).or_default() += 1);
    }

    /// The exposition text; `entries`: the current cache sizes by kind.
    pub fn render(&self, entries: &[(&'static str, usize)]) -> String {
        let mut out = String::with_capacity(4096);
        self.with(|m| {
            let counter = |out: &mut String, name: &str, help: &str| {
                let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            };
            counter(
                &mut out,
                "idaas_agent_requests_total",
                "Requests answered, by route and HTTP status.",
            );
            for ((route, status), n) in &m.requests {
                let _ = writeln!(
                    out,
                    "idaas_agent_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
            for (name, help, label, map) in [
                (
                    "idaas_agent_cache_hits_total",
                    "Requests served from a cache.",
                    "kind",
                    &m.hits,
                ),
                (
                    "idaas_agent_cache_misses_total",
                    "Requests that needed an upstream request.",
                    "kind",
                    &m.misses,
                ),
                (
                    "idaas_agent_upstream_errors_total",
                    "Failed core operations, by error kind.",
                    "kind",
                    &m.upstream_errors,
                ),
                (
                    "idaas_agent_refused_total",
                    "Refused requests, by reason.",
                    "reason",
                    &m.refused,
                ),
                (
                    "idaas_agent_reloads_total",
                    "Configuration reloads, by result.",
                    "result",
                    &m.reloads,
                ),
            ] {
                counter(&mut out, name, help);
                for (v, n) in map {
                    let _ = writeln!(out, "{name}{{{label}=\"{v}\"}} {n}");
                }
            }
            let name = "idaas_agent_request_duration_seconds";
            let _ = writeln!(
                out,
                "# HELP {name} Time to answer a request, by route.\n# TYPE {name} histogram"
            );
            for (route, h) in &m.durations {
                for (i, b) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "{name}_bucket{{route=\"{route}\",le=\"{b}\"}} {}",
                        h.counts[i]
                    );
                }
                let _ = writeln!(
                    out,
                    "{name}_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                    h.count
                );
                let _ = writeln!(out, "{name}_sum{{route=\"{route}\"}} {}", h.sum);
                let _ = writeln!(out, "{name}_count{{route=\"{route}\"}} {}", h.count);
            }
        });
        let name = "idaas_agent_cache_entries";
        let _ = writeln!(
            out,
            "# HELP {name} Entries held, by cache kind.\n# TYPE {name} gauge"
        );
        for (kind, n) in entries {
            let _ = writeln!(out, "{name}{{kind=\"{kind}\"}} {n}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition() {
        let m = Metrics::default();
        m.request("token", 200, Duration::from_millis(3));
        m.request("token", 200, Duration::from_millis(700));
        m.cache("token", true);
        m.cache("api_key", false);
        m.refused("origin");
        m.upstream_error("server");
        m.reload("unchanged");
        let t = m.render(&[("token", 1), ("api_key", 0)]);
        assert!(t.contains("idaas_agent_requests_total{route=\"token\",status=\"200\"} 2\n"));
        assert!(t.contains("idaas_agent_cache_hits_total{kind=\"token\"} 1\n"));
        assert!(t.contains("idaas_agent_cache_misses_total{kind=\"api_key\"} 1\n"));
        assert!(t.contains("idaas_agent_refused_total{reason=\"origin\"} 1\n"));
        assert!(t.contains("idaas_agent_upstream_errors_total{kind=\"server\"} 1\n"));
        assert!(t.contains("idaas_agent_reloads_total{result=\"unchanged\"} 1\n"));
        assert!(t.contains(
            "idaas_agent_request_duration_seconds_bucket{route=\"token\",le=\"0.005\"} 1\n"
        ));
        assert!(t.contains(
            "idaas_agent_request_duration_seconds_bucket{route=\"token\",le=\"+Inf\"} 2\n"
        ));
        assert!(t.contains("idaas_agent_cache_entries{kind=\"token\"} 1\n"));
        assert!(t.contains("# TYPE idaas_agent_request_duration_seconds histogram\n"));
    }
}
