//! Benchmarks of the host agent (`idaas agent`, docs/protocol/agent.md), run by scripts/bench.sh
//! (member `agent`); prints `BENCH {json}` lines for scripts/bench_report.py (decision D-78).
//!
//! An in-process emulator with a short token lifetime (30 s, `--quick` 8 s) so that a run spans
//! several refreshes, and the `idaas` binary of this build (the bench profile: the release
//! settings) as the agent, on a Unix socket and 127.0.0.1:0. Three parts:
//!
//! 1. Fleet on one host: 64 client processes (this program again, in its child mode) × 8 threads,
//!    each process a core `Client` in agent mode (`{"agentSocket": …}`) reading `bearer_token()`
//!    and `PamClient::get_api_key("openai_prod_key")` in a paced loop for a few token lifetimes.
//!    Expected token requests at the emulator: one per token the clients saw (each distinct token
//!    is one refresh of the agent's cache), per scope; observed: the emulator's request log.
//! 2. Latency of a cached read: `GET /v1/token` (and `GET /v1/api-keys/…`) on keep-alive
//!    connections, a raw HTTP/1.1 client, over the Unix socket and over loopback HTTP, 1 and 8
//!    concurrent clients: the agent's round trip itself (a core client in agent mode answers most
//!    reads from its own cache and would not measure the agent).
//! 3. The agent's RSS (`/proc/<pid>/status` VmRSS) with 1,000 cached token scopes (a second agent
//!    with `--max-entries 1000`).

use idaas_emulator::{AuthMethod, Emulator, EmulatorOptions};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

/// The first argument of this program in its child mode (one client process of part 1).
const CHILD: &str = "--agent-bench-child";
const PROCESSES: usize = 64;
const THREADS: usize = 8;
/// Each client thread's pause between iterations, and how often it reads the API key: 512 threads
/// reading flat out would measure the machine's scheduler, not the agent (2 cores here).
const PACE: Duration = Duration::from_millis(5);
const API_KEY_EVERY: u64 = 10;
const API_KEY_ID: &str = "openai_prod_key";
const API_KEY: &str = "sk-EXAMPLE0123456789abcdef";
const SECRET_ENV: &str = "IDAAS_AGENT_BENCH_SECRET";

fn bench(rec: Value) {
    println!("BENCH {rec}");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(CHILD) {
        child(&args[2..]);
        return;
    }
    let quick = std::env::var_os("IDAAS_BENCH_QUICK").is_some();
    let (lifetime, run_secs, lat_n) = if quick {
        (8u64, 16u64, 5_000usize)
    } else {
        (30, 100, 50_000)
    };
    let t0 = Instant::now();
    let load_before = loadavg();
    let emu = idaas_emulator::start(EmulatorOptions {
        token_lifetime_secs: lifetime,
        ..EmulatorOptions::default()
    })
    .expect("emulator");
    let env = Env::new(&emu);

    // 1. Fleet on one host.
    let agent = env.start(&["--http", "127.0.0.1:0"]);
    fleet(&emu, &env, &agent, lifetime, run_secs);
    eprintln!(
        "agent bench: fleet done at {:.1} s",
        t0.elapsed().as_secs_f64()
    );

    // 2. Latency of a cached read.
    latency(&agent, lat_n, load_before);
    drop(agent);
    eprintln!(
        "agent bench: latency done at {:.1} s",
        t0.elapsed().as_secs_f64()
    );

    // 3. RSS with 1,000 cached entries.
    rss(&env);
    eprintln!("agent bench: done in {:.1} s", t0.elapsed().as_secs_f64());
}

// --- the agent and its environment ---------------------------------------------------------------

struct Env<'a> {
    emu: &'a Emulator,
    dir: PathBuf,
    config: PathBuf,
}

impl<'a> Env<'a> {
    fn new(emu: &'a Emulator) -> Env<'a> {
        let dir = std::env::temp_dir().join(format!("idaas-agent-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        let mut cfg = emu.client_config(AuthMethod::ClientSecretPost);
        cfg["authnConfiguration"]["clientSecretEnvVarName"] = Value::String(SECRET_ENV.into());
        let config = dir.join("client-config.json");
        std::fs::write(&config, cfg.to_string()).unwrap();
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
        Env { emu, dir, config }
    }

    /// Starts an agent (its own run directory) with `extra` options; waits until it listens.
    fn start(&self, extra: &[&str]) -> Agent {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let run = self.dir.join(format!(
            "run{}",
            N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        ));
        let socket = run.join("agent.sock");
        let mut child = Command::new(env!("CARGO_BIN_EXE_idaas"))
            .arg("--config")
            .arg(&self.config)
            .arg("-v")
            .arg("agent")
            .arg("--socket")
            .arg(&socket)
            .args(extra)
            .env(SECRET_ENV, self.emu.client_secret())
            .env_remove("CLOUD_IDAAS_CONFIG_PATH")
            .env_remove("IDAAS_LOG")
            .env_remove(idaas::AGENT_SOCKET_ENV)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the agent");
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().unwrap();
        let l = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let mut g = l.lock().unwrap();
                g.push_str(&line);
                g.push('\n');
            }
        });
        let mut agent = Agent {
            child,
            log,
            socket,
            http: None,
            token: String::new(),
        };
        agent.wait_log("listening on unix socket");
        if extra.contains(&"--http") {
            let line = agent.wait_log("listening on http://");
            let addr = line.split("http://").nth(1).unwrap().trim();
            agent.http = Some(addr.parse().unwrap());
            agent.token = std::fs::read_to_string(run.join("agent.token")).unwrap();
        }
        agent
    }

    /// Token-endpoint requests by `scope` form parameter.
    fn token_requests(&self) -> BTreeMap<String, usize> {
        let url = self.emu.token_endpoint();
        let rest = &url[url.find("://").unwrap() + 3..];
        let path = &rest[rest.find('/').unwrap()..];
        let mut by_scope = BTreeMap::new();
        for r in self.emu.requests().iter().filter(|r| r.path == path) {
            let scope = r
                .form
                .iter()
                .find(|(k, _)| k == "scope")
                .map_or("(none)", |(_, v)| v.as_str());
            *by_scope.entry(scope.to_string()).or_default() += 1;
        }
        by_scope
    }
}

impl Drop for Env<'_> {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

struct Agent {
    child: Child,
    log: Arc<Mutex<String>>,
    socket: PathBuf,
    http: Option<SocketAddr>,
    token: String,
}

impl Agent {
    fn wait_log(&mut self, what: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(l) = self.log.lock().unwrap().lines().find(|l| l.contains(what)) {
                return l.to_string();
            }
            if let Ok(Some(st)) = self.child.try_wait() {
                panic!("agent exited ({st}):\n{}", self.log.lock().unwrap());
            }
            assert!(Instant::now() < deadline, "agent: no {what:?} in its log");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn unix(&self) -> Conn<UnixStream> {
        Conn::new(UnixStream::connect(&self.socket).unwrap(), "")
    }

    fn tcp(&self) -> Conn<TcpStream> {
        let s = TcpStream::connect(self.http.unwrap()).unwrap();
        s.set_nodelay(true).unwrap();
        Conn::new(
            s,
            &format!("X-Idaas-Agent-Token: {}\r\n", self.token.trim()),
        )
    }

    fn rss_kib(&self) -> (u64, u64) {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let field = |name: &str| -> u64 {
            let line = s.lines().find(|l| l.starts_with(name)).unwrap();
            line.split_whitespace().nth(1).unwrap().parse().unwrap()
        };
        (field("VmRSS:"), field("VmHWM:"))
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A keep-alive HTTP/1.1 connection: one request at a time, replies with a Content-Length.
struct Conn<S> {
    s: S,
    extra_headers: String,
    buf: Vec<u8>,
}

impl<S: Read + Write> Conn<S> {
    fn new(s: S, extra_headers: &str) -> Self {
        Conn {
            s,
            extra_headers: extra_headers.to_string(),
            buf: Vec::with_capacity(16 * 1024),
        }
    }

    fn request(&self, path: &str) -> Vec<u8> {
        format!(
            "GET {path} HTTP/1.1\r\nHost: agent\r\n{}\r\n",
            self.extra_headers
        )
        .into_bytes()
    }

    /// Sends `req`, reads the reply; returns its status and body.
    fn round_trip(&mut self, req: &[u8]) -> (u16, &[u8]) {
        self.s.write_all(req).unwrap();
        self.buf.clear();
        let mut chunk = [0u8; 16 * 1024];
        loop {
            let n = self.s.read(&mut chunk).unwrap();
            assert!(n > 0, "the agent closed the connection");
            self.buf.extend_from_slice(&chunk[..n]);
            let Some(h) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            let head = std::str::from_utf8(&self.buf[..h]).unwrap();
            let len: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().unwrap())
                })
                .expect("a Content-Length");
            if self.buf.len() >= h + 4 + len {
                let status = head.split(' ').nth(1).unwrap().parse().unwrap();
                return (status, &self.buf[h + 4..h + 4 + len]);
            }
        }
    }

    fn get_json(&mut self, path: &str) -> Value {
        let req = self.request(path);
        let (status, body) = self.round_trip(&req);
        assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(body));
        serde_json::from_slice(body).unwrap()
    }
}

fn hash(s: &str) -> u64 {
    // DefaultHasher::new() has fixed keys: the same hash in every process.
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

// --- 1. fleet on one host --------------------------------------------------------------------------

/// Child mode: `CHILD <socket> <seconds> <threads>`; prints one `CHILD {json}` line.
fn child(args: &[String]) {
    let socket = &args[0];
    let secs: f64 = args[1].parse().unwrap();
    let threads: usize = args[2].parse().unwrap();
    let cfg = idaas::Config::from_json_str(&json!({ "agentSocket": socket }).to_string()).unwrap();
    let client = idaas::Client::new(cfg).unwrap();
    let pam = idaas::pam::PamClient::from_client(&client).unwrap();
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let results: Vec<Value> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let (mut reads, mut key_reads, mut errors) = (0u64, 0u64, 0u64);
                    let mut first_error = None;
                    let mut tokens = HashSet::new();
                    let mut worst = Duration::ZERO;
                    let mut i = 0u64;
                    while Instant::now() < deadline {
                        let t = Instant::now();
                        match client.bearer_token() {
                            Ok(tok) => {
                                tokens.insert(hash(tok.expose()));
                                reads += 1;
                            }
                            Err(e) => {
                                errors += 1;
                                first_error.get_or_insert_with(|| e.to_string());
                            }
                        }
                        worst = worst.max(t.elapsed());
                        if i % API_KEY_EVERY == 0 {
                            match pam.get_api_key(API_KEY_ID) {
                                Ok(Some(k)) if k.expose() == API_KEY => key_reads += 1,
                                Ok(_) => {
                                    errors += 1;
                                    first_error.get_or_insert_with(|| "wrong API key".into());
                                }
                                Err(e) => {
                                    errors += 1;
                                    first_error.get_or_insert_with(|| e.to_string());
                                }
                            }
                        }
                        i += 1;
                        std::thread::sleep(PACE);
                    }
                    json!({"reads": reads, "key_reads": key_reads, "errors": errors,
                           "first_error": first_error, "tokens": tokens.into_iter().collect::<Vec<_>>(),
                           "worst_token_read_ns": worst.as_nanos() as u64})
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let sum = |k: &str| results.iter().map(|r| r[k].as_u64().unwrap()).sum::<u64>();
    let tokens: HashSet<u64> = results
        .iter()
        .flat_map(|r| r["tokens"].as_array().unwrap().iter())
        .map(|v| v.as_u64().unwrap())
        .collect();
    let out = json!({
        "reads": sum("reads"), "key_reads": sum("key_reads"), "errors": sum("errors"),
        "first_error": results.iter().find_map(|r| r["first_error"].as_str()),
        "tokens": tokens,
        "worst_token_read_ns": results.iter().map(|r| r["worst_token_read_ns"].as_u64().unwrap()).max(),
    });
    println!("CHILD {out}");
}

fn fleet(emu: &Emulator, env: &Env, agent: &Agent, lifetime: u64, run_secs: u64) {
    let started = Instant::now();
    let me = std::env::current_exe().unwrap();
    let children: Vec<Child> = (0..PROCESSES)
        .map(|_| {
            Command::new(&me)
                .arg(CHILD)
                .arg(&agent.socket)
                .arg(run_secs.to_string())
                .arg(THREADS.to_string())
                .env_remove(idaas::AGENT_SOCKET_ENV)
                .env_remove("CLOUD_IDAAS_CONFIG_PATH")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .spawn()
                .expect("a client process")
        })
        .collect();
    let (mut reads, mut key_reads, mut errors, mut worst) = (0u64, 0u64, 0u64, 0u64);
    let mut first_error = None;
    let mut tokens = HashSet::new();
    let mut failed = 0;
    for c in children {
        let out = c.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let Some(line) = text.lines().find_map(|l| l.strip_prefix("CHILD ")) else {
            failed += 1;
            continue;
        };
        let v: Value = serde_json::from_str(line).unwrap();
        reads += v["reads"].as_u64().unwrap();
        key_reads += v["key_reads"].as_u64().unwrap();
        errors += v["errors"].as_u64().unwrap();
        worst = worst.max(v["worst_token_read_ns"].as_u64().unwrap_or(0));
        if first_error.is_none() {
            first_error = v["first_error"].as_str().map(str::to_string);
        }
        tokens.extend(
            v["tokens"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_u64().unwrap()),
        );
    }
    let elapsed = started.elapsed().as_secs_f64();
    // The agent may have refreshed in the last instants, after the clients stopped: one more read
    // sees that token too.
    let last = agent.unix().get_json("/v1/token");
    tokens.insert(hash(last["access_token"].as_str().unwrap()));

    let by_scope = env.token_requests();
    let default_scope = emu.client_config(AuthMethod::ClientSecretPost)["scope"]
        .as_str()
        .unwrap_or("(none)")
        .to_string();
    let observed = by_scope.get(&default_scope).copied().unwrap_or(0);
    // The emulator's configuration asks for the PAM scope itself: then the agent's PAM client and
    // its token route share one token (one cache), and the API-key fetches add no token request.
    let pam_requests = if default_scope == idaas::pam::SCOPE {
        0
    } else {
        by_scope.get(idaas::pam::SCOPE).copied().unwrap_or(0)
    };
    let other: usize = by_scope
        .iter()
        .filter(|(k, _)| **k != default_scope && *k != idaas::pam::SCOPE)
        .map(|(_, v)| v)
        .sum();
    let api_key_fetches = emu.count_requests("/credentials/");
    let refreshes = tokens.len();
    println!(
        "fleet: {PROCESSES} processes x {THREADS} threads for {elapsed:.1} s (token lifetime {lifetime} s): \
         {reads} token reads, {key_reads} API-key reads, {errors} errors{}, {failed} processes without a result; \
         default scope: {refreshes} distinct tokens seen (expected token requests) vs {observed} token requests at the emulator; \
         {api_key_fetches} API-key fetch(es) at the emulator, {pam_requests} token request(s) for a separate PAM scope, {other} for other scopes; \
         slowest token read {:.2} ms",
        first_error.as_deref().map(|e| format!(" (first: {e})")).unwrap_or_default(),
        worst as f64 / 1e6
    );
    bench(json!({
        "name": "agent_fleet", "impl": "agent",
        "variant": format!("{PROCESSES} processes × {THREADS} threads, bearer_token + get_api_key via one agent"),
        "threads": PROCESSES * THREADS,
        "value": if refreshes > 0 { observed as f64 / refreshes as f64 } else { 0.0 },
        "unit": "token requests per refresh",
        "token_requests": observed, "refreshes": refreshes,
        "pam_token_requests": pam_requests, "api_key_fetches": api_key_fetches,
        "other_token_requests": other,
        "token_requests_by_scope": by_scope,
        "reads": reads, "api_key_reads": key_reads, "errors": errors, "first_error": first_error,
        "failed_processes": failed,
        "seconds": (elapsed * 10.0).round() / 10.0, "token_lifetime_s": lifetime,
        "pace_ms": PACE.as_millis() as u64, "api_key_every": API_KEY_EVERY,
        "worst_token_read_ns": worst,
        "ops_per_sec": ((reads + key_reads) as f64 / elapsed).round(),
    }));
}

// --- 2. latency ------------------------------------------------------------------------------------

fn percentiles(mut v: Vec<u64>) -> (u64, u64, u64) {
    v.sort_unstable();
    (v[v.len() / 2], v[v.len() * 99 / 100], v[v.len() - 1])
}

/// `n` round trips of GET `path` on each of `clients` keep-alive connections made by `conn`.
fn measure<S, F>(conn: F, path: &str, clients: usize, n: usize) -> (Vec<u64>, f64)
where
    S: Read + Write,
    F: Fn() -> Conn<S> + Sync,
{
    let barrier = Barrier::new(clients);
    let results: Vec<(Vec<u64>, Duration)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..clients)
            .map(|_| {
                s.spawn(|| {
                    let mut c = conn();
                    let req = c.request(path);
                    for _ in 0..n / 10 {
                        assert_eq!(c.round_trip(&req).0, 200);
                    }
                    let mut lat = Vec::with_capacity(n);
                    barrier.wait();
                    let start = Instant::now();
                    for _ in 0..n {
                        let t = Instant::now();
                        let (status, _) = c.round_trip(&req);
                        lat.push(t.elapsed().as_nanos() as u64);
                        assert_eq!(status, 200);
                    }
                    (lat, start.elapsed())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let wall = results.iter().map(|r| r.1).max().unwrap().as_secs_f64();
    let all: Vec<u64> = results.into_iter().flat_map(|r| r.0).collect();
    let ops = all.len() as f64 / wall;
    (all, ops)
}

fn loadavg() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn latency(agent: &Agent, n: usize, load_before: Option<f64>) {
    // Warm the caches (token of the configured scope, the API key).
    agent.unix().get_json("/v1/token");
    agent.unix().get_json(&format!("/v1/api-keys/{API_KEY_ID}"));
    let key_path = format!("/v1/api-keys/{API_KEY_ID}");
    let cases: [(&str, &str, &str, usize); 6] = [
        ("unix", "GET /v1/token", "/v1/token", 1),
        ("unix", "GET /v1/token", "/v1/token", 8),
        ("http", "GET /v1/token", "/v1/token", 1),
        ("http", "GET /v1/token", "/v1/token", 8),
        ("unix", "GET /v1/api-keys/{id}", &key_path, 1),
        ("http", "GET /v1/api-keys/{id}", &key_path, 1),
    ];
    for (transport, what, path, clients) in cases {
        let per_client = if clients == 1 { n } else { n / 2 };
        let (lat, ops) = if transport == "unix" {
            measure(|| agent.unix(), path, clients, per_client)
        } else {
            measure(|| agent.tcp(), path, clients, per_client)
        };
        let count = lat.len();
        let (p50, p99, max) = percentiles(lat);
        let variant = format!(
            "{what}, {}, keep-alive",
            if transport == "unix" {
                "Unix socket"
            } else {
                "loopback HTTP (127.0.0.1)"
            }
        );
        println!(
            "latency: {variant}, {clients} client(s): p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs, {ops:.0} req/s",
            p50 as f64 / 1e3,
            p99 as f64 / 1e3,
            max as f64 / 1e3
        );
        bench(json!({
            "name": "agent_cached_read", "impl": "agent", "variant": variant,
            "transport": transport, "route": what,
            "threads": clients, "median_ns": p50, "p99_ns": p99, "max_ns": max,
            "ops_per_sec": ops.round(), "samples": count,
            // Other work on the machine shows in the tail: the 1-minute load average before this
            // program started anything (later, its own 512 client threads would still weigh in it).
            "loadavg_1m": load_before,
        }));
    }
}

// --- 3. RSS ------------------------------------------------------------------------------------------

fn rss(env: &Env) {
    const ENTRIES: usize = 1000;
    let agent = env.start(&["--max-entries", &ENTRIES.to_string()]);
    let (start_kib, _) = agent.rss_kib();
    let mut c = agent.unix();
    c.get_json("/v1/token");
    let (first_kib, _) = agent.rss_kib();
    // 999 more token scopes: 1,000 cached tokens with the configured scope's.
    for i in 1..ENTRIES {
        c.get_json(&format!(
            "/v1/token?scope=urn%3Acloud%3Aidaas%3Apam%7Cbench_scope_{i}"
        ));
    }
    let (after_kib, hwm_kib) = agent.rss_kib();
    let metrics = {
        let req = c.request("/metrics");
        let (status, body) = c.round_trip(&req);
        assert_eq!(status, 200);
        String::from_utf8_lossy(body).into_owned()
    };
    let entries: u64 = metrics
        .lines()
        .find(|l| l.starts_with("idaas_agent_cache_entries{kind=\"token\"}"))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0);
    let threads = std::fs::read_to_string(format!("/proc/{}/status", agent.child.id()))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Threads:").map(|t| t.trim().to_string()))
        .unwrap_or_default();
    println!(
        "rss: {start_kib} KiB at start, {first_kib} KiB after the first token, {after_kib} KiB with {entries} cached tokens (peak {hwm_kib} KiB, {threads} threads)"
    );
    let mib = |k: u64| (k as f64 / 1024.0 * 100.0).round() / 100.0;
    bench(json!({
        "name": "agent_rss", "impl": "agent",
        "variant": format!("{entries} cached token scopes"),
        "threads": 1, "value": mib(after_kib), "unit": "MiB", "entries": entries,
        "rss_start_mib": mib(start_kib), "rss_first_token_mib": mib(first_kib), "vm_hwm_mib": mib(hwm_kib),
        "agent_threads": threads.parse::<u64>().ok(),
        "binary": Path::new(env!("CARGO_BIN_EXE_idaas")).file_name().unwrap().to_string_lossy(),
    }));
}
