//! `idaas agent` as a subprocess against the emulator (docs/protocol/agent.md): caching, every
//! refusal, reload, shutdown and upstream faults. Clients talk to the agent over a Unix socket in a
//! temporary directory or over 127.0.0.1 only.

use idaas_emulator::{AuthMethod, Emulator, Fault, FaultRule, Route};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

static N: AtomicUsize = AtomicUsize::new(0);

/// An emulator, a configuration for it and a temporary directory for the agent's files.
struct Env {
    emu: Emulator,
    dir: PathBuf,
    config: PathBuf,
    env_var: String,
}

impl Env {
    fn new() -> Env {
        let emu = Emulator::start_default();
        let n = N.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("idaas-agent-test-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        let env_var = format!("IDAAS_AGENT_TEST_SECRET_{}_{n}", std::process::id());
        let config = dir.join("client-config.json");
        let env = Env {
            emu,
            dir,
            config,
            env_var,
        };
        env.write_config(|_| {});
        env
    }

    fn write_config(&self, edit: impl FnOnce(&mut Value)) {
        let mut cfg = self.emu.client_config(AuthMethod::ClientSecretPost);
        cfg["authnConfiguration"]["clientSecretEnvVarName"] = Value::String(self.env_var.clone());
        edit(&mut cfg);
        std::fs::write(&self.config, cfg.to_string()).unwrap();
        std::fs::set_permissions(&self.config, std::fs::Permissions::from_mode(0o600)).unwrap();
    }

    fn socket(&self) -> PathBuf {
        self.dir.join("run").join("agent.sock")
    }

    fn token_requests(&self) -> usize {
        let url = self.emu.token_endpoint();
        let rest = &url[url.find("://").unwrap() + 3..];
        self.emu.count_requests(&rest[rest.find('/').unwrap()..])
    }

    fn command(&self, extra: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_idaas"));
        c.arg("--config")
            .arg(&self.config)
            .arg("-vv")
            .arg("agent")
            .arg("--socket")
            .arg(self.socket())
            .args(extra)
            .env(&self.env_var, self.emu.client_secret())
            .env_remove("CLOUD_IDAAS_CONFIG_PATH")
            .env_remove("IDAAS_LOG");
        c
    }

    fn start(&self, extra: &[&str]) -> Agent {
        self.spawn(self.command(extra), extra)
    }

    /// Starts `command` (made by [`Env::command`] with `extra`) and waits until it listens.
    fn spawn(&self, mut command: Command, extra: &[&str]) -> Agent {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
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
            socket: self.socket(),
            http: None,
            token: None,
        };
        agent.wait_log("listening on unix socket");
        if extra.contains(&"--http") {
            let line = agent.wait_log("listening on http://");
            let addr = line.split("http://").nth(1).unwrap().trim();
            agent.http = Some(addr.parse().unwrap());
            agent.token =
                Some(std::fs::read_to_string(self.dir.join("run").join("agent.token")).unwrap());
        }
        agent
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

struct Agent {
    child: Child,
    log: Arc<Mutex<String>>,
    socket: PathBuf,
    http: Option<SocketAddr>,
    token: Option<String>,
}

impl Agent {
    /// Waits until a log line contains `what`; returns that line.
    fn wait_log(&mut self, what: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(l) = self.log.lock().unwrap().lines().find(|l| l.contains(what)) {
                return l.to_string();
            }
            if let Ok(Some(st)) = self.child.try_wait() {
                panic!(
                    "agent exited ({st}) before logging {what:?}:\n{}",
                    self.log.lock().unwrap()
                );
            }
            assert!(
                Instant::now() < deadline,
                "no {what:?} in the agent's log:\n{}",
                self.log.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn count_log(&self, what: &str) -> usize {
        self.log.lock().unwrap().matches(what).count()
    }

    fn signal(&self, sig: rustix::process::Signal) {
        let pid = rustix::process::Pid::from_raw(self.child.id() as i32).expect("a child pid");
        rustix::process::kill_process(pid, sig).expect("kill");
    }

    fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st;
            }
            assert!(Instant::now() < deadline, "agent did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A request on the Unix socket.
    fn unix(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
        let s = UnixStream::connect(&self.socket).unwrap();
        exchange(s, method, path, headers, body)
    }

    fn get(&self, path: &str) -> Reply {
        self.unix("GET", path, &[], "")
    }

    /// A request on the HTTP listener, with the agent token unless `headers` names one.
    fn http(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
        let s = TcpStream::connect(self.http.unwrap()).unwrap();
        exchange(s, method, path, headers, body)
    }

    fn http_token(&self) -> &str {
        self.token.as_deref().unwrap()
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
struct Reply {
    status: u16,
    head: String,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.body))
    }

    fn error_code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }
}

/// One HTTP/1.1 request with `Connection: close`; the reply read to the end.
fn exchange<S: Read + Write>(
    mut s: S,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: agent\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no reply: {text:?}"));
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    Reply {
        status,
        head: head.to_ascii_lowercase(),
        body: body.to_string(),
    }
}

fn metric(agent: &Agent, line_start: &str) -> Option<u64> {
    let m = agent.get("/metrics");
    assert_eq!(m.status, 200);
    m.body
        .lines()
        .find(|l| l.starts_with(line_start))
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
}

#[test]
fn tokens_are_served_from_one_cache() {
    let env = Env::new();
    let agent = env.start(&[]);
    let mode = std::fs::metadata(&agent.socket)
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600, "socket mode");
    let dir_mode = std::fs::metadata(agent.socket.parent().unwrap())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(dir_mode, 0o700, "socket directory mode");
    // Start-up fetches nothing; not ready yet.
    assert_eq!(env.token_requests(), 0);
    let r = agent.get("/readyz");
    assert_eq!(
        (r.status, r.json()["ready"].clone()),
        (503, Value::Bool(false))
    );
    assert_eq!(agent.get("/healthz").json()["status"], "ok");

    // 24 requests from 8 threads: one token request upstream.
    let agent = Arc::new(agent);
    let tokens: Vec<String> = (0..8)
        .map(|_| {
            let a = agent.clone();
            std::thread::spawn(move || {
                (0..3)
                    .map(|_| {
                        let r = a.get("/v1/token");
                        assert_eq!(r.status, 200, "{}", r.body);
                        assert!(r.head.contains("content-type: application/json"));
                        assert!(r.head.contains("cache-control: no-store"));
                        r.json()["access_token"].as_str().unwrap().to_string()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .flat_map(|t| t.join().unwrap())
        .collect();
    assert_eq!(tokens.len(), 24);
    assert!(tokens.iter().all(|t| *t == tokens[0]));
    assert_eq!(env.token_requests(), 1);
    let v = agent.get("/v1/token").json();
    assert_eq!(v["token_type"], "Bearer");
    assert!(v["expires_at"].as_u64().unwrap() > 1_700_000_000);
    assert!(v["expires_in"].as_u64().unwrap() > 0);
    assert_eq!(agent.get("/readyz").json()["ready"], true);

    // Another scope: its own cache entry.
    let r = agent.get(
        "/v1/token?scope=urn%3Acloud%3Aidaas%3Apam%7Ccloud_account%3Aobtain_access_credential",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let _ = agent.get(
        "/v1/token?scope=urn%3Acloud%3Aidaas%3Apam%7Ccloud_account%3Aobtain_access_credential",
    );
    assert_eq!(env.token_requests(), 2);
    // An invalid scope: 400 invalid_argument.
    let r = agent.get("/v1/token?scope=%20");
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["error"]["kind"], "invalid_argument");
    assert_eq!(r.json()["error"]["class"], "ARGUMENT");

    assert!(metric(&agent, "idaas_agent_cache_hits_total{kind=\"token\"}").unwrap() >= 23);
    assert_eq!(
        metric(&agent, "idaas_agent_cache_entries{kind=\"token\"}"),
        Some(2)
    );
    assert!(
        metric(
            &agent,
            "idaas_agent_requests_total{route=\"token\",status=\"200\"}"
        )
        .unwrap()
            >= 26
    );
    // No secret in the metrics or the logs.
    let m = agent.get("/metrics").body;
    assert!(!m.contains(&tokens[0]) && !m.contains("cloud_account"));
    assert!(agent.log.lock().unwrap().contains("agent: GET token 200"));
    assert!(!agent.log.lock().unwrap().contains(&tokens[0]));
}

#[test]
fn token_scopes_are_bounded() {
    let env = Env::new();
    let agent = env.start(&["--max-entries", "1"]);
    assert_eq!(agent.get("/v1/token").status, 200);
    let r = agent.get(
        "/v1/token?scope=urn%3Acloud%3Aidaas%3Apam%7Ccloud_account%3Aobtain_access_credential",
    );
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.error_code(), "agent_cache_full");
    assert_eq!(agent.get("/v1/token").status, 200);
}

#[test]
fn api_keys_are_cached() {
    let env = Env::new();
    let agent = env.start(&[]);
    for _ in 0..3 {
        let r = agent.get("/v1/api-keys/openai_prod_key");
        assert_eq!(r.status, 200, "{}", r.body);
        let v = r.json();
        assert_eq!(v["credentialIdentifier"], "openai_prod_key");
        assert_eq!(v["apiKey"], "sk-EXAMPLE0123456789abcdef");
    }
    assert_eq!(env.emu.count_alibaba_action("ObtainCredential"), 1);
    assert_eq!(
        metric(&agent, "idaas_agent_cache_hits_total{kind=\"api_key\"}"),
        Some(2)
    );
    assert_eq!(
        metric(&agent, "idaas_agent_cache_misses_total{kind=\"api_key\"}"),
        Some(1)
    );
    // A credential without API key content: null.
    let r = agent.get("/v1/api-keys/partner_oauth_client");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["apiKey"], Value::Null);
    // Unknown credential: the Developer API's 404, as the core's error.
    let r = agent.get("/v1/api-keys/no_such_credential");
    assert_eq!(r.status, 404, "{}", r.body);
    let e = &r.json()["error"];
    assert_eq!(e["kind"], "client");
    assert_eq!(e["class"], "SERVER_REPLY");
    assert_eq!(e["httpStatus"], 404);
    assert!(e["requestId"].is_string(), "{e}");
    assert_eq!(e["retryable"], false);
}

#[test]
fn other_routes() {
    let env = Env::new();
    let agent = env.start(&[]);
    // Token exchange: never cached.
    let subject = env.emu.mint_oidc_token("workload", 600);
    let token = agent.get("/v1/token").json()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let body = serde_json::json!({ "subjectToken": token }).to_string();
    let r = agent.unix("POST", "/v1/token/exchange", &[], &body);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json()["issued_token_type"],
        "urn:ietf:params:oauth:token-type:access_token"
    );
    let _ = subject;
    // Unknown member, missing member, not JSON: 400 without echoing values.
    let r = agent.unix(
        "POST",
        "/v1/token/exchange",
        &[],
        r#"{"subjectToken":"secret-value","subjectTokn":"x"}"#,
    );
    assert_eq!(r.status, 400);
    assert!(!r.body.contains("secret-value"));
    assert_eq!(r.json()["error"]["kind"], "invalid_argument");
    let r = agent.unix("POST", "/v1/jwt/validate", &[], "{not json secret-value");
    assert_eq!(r.status, 400);
    assert!(!r.body.contains("secret-value"));
    // Body too large.
    let big = format!("{{\"token\":\"{}\"}}", "a".repeat(70 * 1024));
    let r = agent.unix("POST", "/v1/jwt/validate", &[], &big);
    assert_eq!(r.status, 413, "{}", r.body);
    // Unknown route, wrong method.
    let r = agent.get("/v1/nothing");
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (404, "agent_not_found")
    );
    let r = agent.unix("POST", "/v1/token", &[], "");
    assert_eq!(r.status, 405);
    assert!(r.head.contains("allow: get"));
    let r = agent.get("/v1/jwt/validate");
    assert_eq!(r.status, 405);
    // OAuth token of a credential provider (m2m).
    let r = agent.unix("POST", "/v1/oauth-tokens/no_such_provider", &[], "{}");
    assert!(r.json()["error"].is_object(), "{}", r.body);
    // JWT validate of garbage: active false or an error body, never a crash.
    let r = agent.unix("POST", "/v1/jwt/validate", &[], r#"{"token":"not.a.jwt"}"#);
    assert!(
        r.status == 200 || r.json()["error"].is_object(),
        "{}",
        r.body
    );
    if r.status == 200 {
        assert_eq!(r.json()["active"], false);
    }
    let r = agent.unix(
        "POST",
        "/v1/jwt/obtain",
        &[],
        r#"{"consumerId":"c","authenticationTokenId":"none"}"#,
    );
    assert!(r.json()["error"].is_object() || r.json()["jwtValue"].is_string());
}

#[test]
fn http_needs_the_agent_token_and_browsers_are_refused() {
    let env = Env::new();
    let agent = env.start(&["--http", "127.0.0.1:0"]);
    let token_file = env.dir.join("run").join("agent.token");
    let mode = std::fs::metadata(&token_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let tok = agent.http_token().to_string();
    assert_eq!(tok.len(), 43);

    // Liveness needs no token; nothing else is served without it.
    assert_eq!(agent.http("GET", "/healthz", &[], "").status, 200);
    for (headers, what) in [
        (vec![], "no header"),
        (vec![("X-Idaas-Agent-Token", "wrong")], "wrong header"),
        (vec![("X-Idaas-Agent-Token", &tok[..42])], "prefix"),
    ] {
        for path in [
            "/v1/token",
            "/v1/api-keys/openai_prod_key",
            "/readyz",
            "/metrics",
        ] {
            let r = agent.http("GET", path, &headers, "");
            assert_eq!(r.status, 401, "{what} {path}: {}", r.body);
            let e = &r.json()["error"];
            assert_eq!(e["kind"], "auth");
            assert_eq!(e["code"], "agent_unauthorized");
            assert_eq!(e["class"], "AUTHENTICATION");
        }
    }
    let r = agent.http(
        "POST",
        "/v1/token/exchange",
        &[],
        r#"{"subjectToken":"a.b"}"#,
    );
    assert_eq!(r.status, 401);
    assert_eq!(
        env.token_requests(),
        0,
        "a refused request reached upstream"
    );
    assert_eq!(env.emu.count_alibaba_action("ObtainCredential"), 0);

    // Browser requests: 403 on both listeners, even with the token.
    let with_token = ("X-Idaas-Agent-Token", tok.as_str());
    for h in [
        ("Origin", "http://evil.example"),
        ("Sec-Fetch-Site", "cross-site"),
        ("Sec-Fetch-Mode", "no-cors"),
    ] {
        let r = agent.http("GET", "/v1/token", &[with_token, h], "");
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (403, "agent_forbidden_origin")
        );
        let r = agent.unix("GET", "/v1/token", &[h], "");
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (403, "agent_forbidden_origin")
        );
    }
    assert_eq!(
        env.token_requests(),
        0,
        "a refused request reached upstream"
    );

    let r = agent.http("GET", "/v1/token", &[with_token], "");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(env.token_requests(), 1);
    assert!(metric(&agent, "idaas_agent_refused_total{reason=\"token\"}").unwrap() >= 13);
    assert_eq!(
        metric(&agent, "idaas_agent_refused_total{reason=\"origin\"}"),
        Some(6)
    );
    assert!(!agent.log.lock().unwrap().contains(&tok));
}

#[test]
fn a_second_start_keeps_the_token_file_and_refuses_a_loose_one() {
    let env = Env::new();
    let first = env
        .start(&["--http", "127.0.0.1:0"])
        .http_token()
        .to_string();
    // (The first agent was killed; its socket file is stale and is replaced.)
    let again = env.start(&["--http", "127.0.0.1:0"]);
    assert_eq!(again.http_token(), first);
    // A second agent on a live socket is refused.
    let out = env.command(&[]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("another agent"));
    drop(again);
    let token_file = env.dir.join("run").join("agent.token");
    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = env.command(&["--http", "127.0.0.1:0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("group or others"));
}

#[test]
fn non_loopback_http_is_refused_before_binding() {
    let env = Env::new();
    for addr in ["0.0.0.0:0", "[::]:0", "10.1.2.3:8080", "localhost:8080"] {
        let out = env.command(&["--http", addr]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{addr}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("loopback")
                || String::from_utf8_lossy(&out.stderr).contains("--http must be"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!env.socket().exists(), "{addr}: socket created");
        assert!(!env.dir.join("run").exists(), "{addr}: directory created");
    }
}

#[test]
fn upstream_faults() {
    let env = Env::new();
    let agent = env.start(&[]);
    // Latency: answered once the emulator answers.
    env.emu.set_fault(FaultRule {
        route: Route::Token,
        fault: Fault::Latency(Duration::from_millis(400)),
        times: Some(1),
    });
    let t = Instant::now();
    let r = agent.get("/v1/token");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(t.elapsed() >= Duration::from_millis(400));
    assert_eq!(agent.get("/readyz").status, 200);

    // The token endpoint fails (503): a 502 with the core's error (another scope: the configured
    // one is cached).
    env.emu.set_fault(FaultRule {
        route: Route::Token,
        fault: Fault::Status {
            status: 503,
            retry_after: None,
            body: None,
        },
        times: None,
    });
    let r = agent.get(
        "/v1/token?scope=urn%3Acloud%3Aidaas%3Apam%7Ccloud_account%3Aobtain_access_credential",
    );
    assert_eq!(r.status, 502, "{}", r.body);
    let e = &r.json()["error"];
    assert_eq!(e["kind"], "server");
    assert_eq!(e["class"], "SERVER_REPLY");
    assert_eq!(e["httpStatus"], 503);
    assert_eq!(e["retryable"], true);
    assert!(
        e["message"].is_string() && e["requestId"].is_string(),
        "{e}"
    );
    assert!(e["code"].is_string(), "{e}");
    assert!(metric(&agent, "idaas_agent_upstream_errors_total{kind=\"server\"}").unwrap() >= 1);
    // The cached token is still served.
    assert_eq!(agent.get("/v1/token").status, 200);

    // The Developer API fails: a 502 with the upstream status.
    env.emu.clear_faults();
    env.emu.set_fault(FaultRule {
        route: Route::DeveloperApi,
        fault: Fault::Status {
            status: 500,
            retry_after: None,
            body: None,
        },
        times: None,
    });
    let r = agent.get("/v1/api-keys/openai_prod_key");
    assert_eq!(r.status, 502, "{}", r.body);
    assert_eq!(r.json()["error"]["httpStatus"], 500);
    // The network fails: 504.
    env.emu.set_fault(FaultRule {
        route: Route::DeveloperApi,
        fault: Fault::Reset,
        times: None,
    });
    let r = agent.get("/v1/api-keys/other_key");
    assert!(
        r.status == 504 || r.status == 502,
        "{} {}",
        r.status,
        r.body
    );
    if r.status == 504 {
        assert_eq!(r.json()["error"]["class"], "NETWORK");
    }
}

#[test]
fn a_not_ready_agent_reports_the_upstream_error() {
    let env = Env::new();
    let agent = env.start(&[]);
    env.emu.set_fault(FaultRule {
        route: Route::Token,
        fault: Fault::Status {
            status: 503,
            retry_after: None,
            body: None,
        },
        times: None,
    });
    let r = agent.get("/v1/token");
    assert_eq!(r.status, 502, "{}", r.body);
    assert_eq!(r.json()["error"]["httpStatus"], 503);
    assert_eq!(agent.get("/readyz").status, 503);
}

#[test]
fn reload_keeps_caches_when_unchanged_and_swaps_clients_when_changed() {
    let env = Env::new();
    let mut agent = env.start(&[]);
    assert_eq!(agent.get("/v1/token").status, 200);
    assert_eq!(env.token_requests(), 1);

    agent.signal(rustix::process::Signal::HUP);
    agent.wait_log("configuration unchanged");
    assert_eq!(agent.get("/readyz").status, 200);
    assert_eq!(agent.get("/v1/token").status, 200);
    assert_eq!(
        env.token_requests(),
        1,
        "unchanged reload dropped the cache"
    );

    // A changed configuration: new clients, readiness restarts, a new token request.
    env.write_config(|c| {
        c["httpConfiguration"]["readTimeout"] = serde_json::json!(9000);
    });
    agent.signal(rustix::process::Signal::HUP);
    agent.wait_log("configuration changed");
    assert_eq!(agent.get("/readyz").status, 503);
    assert_eq!(agent.get("/v1/token").status, 200);
    assert_eq!(env.token_requests(), 2);
    assert_eq!(agent.get("/readyz").status, 200);

    // An invalid configuration: logged, the previous one keeps serving.
    std::fs::write(&env.config, "{ not json").unwrap();
    agent.signal(rustix::process::Signal::HUP);
    agent.wait_log("reload failed");
    assert_eq!(agent.get("/v1/token").status, 200);
    assert_eq!(env.token_requests(), 2);
    assert_eq!(
        metric(&agent, "idaas_agent_reloads_total{result=\"unchanged\"}"),
        Some(1)
    );
    assert_eq!(
        metric(&agent, "idaas_agent_reloads_total{result=\"changed\"}"),
        Some(1)
    );
    assert_eq!(
        metric(&agent, "idaas_agent_reloads_total{result=\"error\"}"),
        Some(1)
    );
    assert_eq!(agent.count_log("reload failed"), 1);
}

#[test]
fn shutdown_lets_requests_in_flight_finish() {
    let env = Env::new();
    let mut agent = env.start(&[]);
    env.emu.set_fault(FaultRule {
        route: Route::Token,
        fault: Fault::Latency(Duration::from_millis(1500)),
        times: Some(1),
    });
    let socket = agent.socket.clone();
    let inflight = std::thread::spawn(move || {
        let s = UnixStream::connect(&socket).unwrap();
        exchange(s, "GET", "/v1/token", &[], "")
    });
    // Wait until the request is at the emulator.
    let deadline = Instant::now() + Duration::from_secs(10);
    while env.token_requests() == 0 && env.emu.requests().is_empty() {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    agent.signal(rustix::process::Signal::TERM);
    agent.wait_log("shutting down");
    // No new connections.
    assert!(UnixStream::connect(&agent.socket).is_err());
    let r = inflight.join().unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.json()["access_token"].is_string());
    let st = agent.wait();
    assert_eq!(st.code(), Some(0), "{}", agent.log.lock().unwrap());
    assert!(
        !Path::new(&agent.socket).exists(),
        "socket file left behind"
    );
}

/// A request on the socket from another uid (a child process run as `uid`:`gid`; needs root).
/// `close`: ask for `Connection: close` (else the reply must end the connection by itself).
fn request_as(socket: &Path, uid: u32, gid: u32, close: bool) -> Option<String> {
    use std::os::unix::process::CommandExt;
    let script = r#"
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
close = b"Connection: close\r\n" if sys.argv[2] == "close" else b""
s.sendall(b"GET /v1/token HTTP/1.1\r\nHost: agent\r\n" + close + b"\r\n")
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
sys.stdout.write(data.decode())
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(socket)
        .arg(if close { "close" } else { "keep-alive" })
        .uid(uid)
        .gid(gid)
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap())
}

#[test]
fn peers_outside_the_allow_list_are_refused() {
    // SAFETY: geteuid cannot fail.
    if !rustix::process::geteuid().is_root() || Command::new("python3").arg("-V").output().is_err()
    {
        eprintln!("skipped: needs root (to run a client as another uid) and python3");
        return;
    }
    let env = Env::new();
    // Open the file-mode barrier so that the peer check is what is tested.
    std::fs::set_permissions(&env.dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let open_up = |agent: &Agent| {
        let dir = agent.socket.parent().unwrap();
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&agent.socket, std::fs::Permissions::from_mode(0o666)).unwrap();
    };
    {
        let agent = env.start(&["--allow-uid", "65533", "--allow-gid", "65532"]);
        open_up(&agent);
        // A stranger: 401, the connection closed (the reply ends the stream), nothing upstream.
        let reply = request_as(&agent.socket, 65534, 65534, false).unwrap();
        assert!(reply.starts_with("HTTP/1.1 401"), "{reply}");
        assert!(
            reply.to_ascii_lowercase().contains("connection: close"),
            "{reply}"
        );
        assert!(reply.contains("agent_unauthorized"), "{reply}");
        assert_eq!(env.token_requests(), 0);
        // An allowed uid, an allowed gid.
        for (uid, gid) in [(65533, 65534), (65534, 65532)] {
            let reply = request_as(&agent.socket, uid, gid, true).unwrap();
            assert!(reply.starts_with("HTTP/1.1 200"), "{uid}:{gid}: {reply}");
        }
        assert_eq!(
            metric(&agent, "idaas_agent_refused_total{reason=\"peer\"}"),
            Some(1)
        );
    }
}

/// The agent's resident memory with 1,000 cached token scopes (decision D-67's target: ≤ 16 MiB
/// for a release build). Ignored by default (slow in debug builds); run with `--ignored
/// --nocapture` to see the figure.
#[test]
#[ignore]
fn rss_with_many_cached_entries() {
    let env = Env::new();
    let agent = env.start(&["--max-entries", "1000"]);
    let rss = |pid: u32| -> u64 {
        let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let line = s.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    let before = rss(agent.child.id());
    for i in 0..1000 {
        let r = agent.get(&format!(
            "/v1/token?scope=urn%3Acloud%3Aidaas%3Apam%7Cscope_{i}"
        ));
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let after = rss(agent.child.id());
    let status = std::fs::read_to_string(format!("/proc/{}/status", agent.child.id())).unwrap();
    let threads = status.lines().find(|l| l.starts_with("Threads:")).unwrap();
    eprintln!("agent RSS: {before} KiB at start, {after} KiB with 1000 cached scopes; {threads}");
    assert_eq!(
        metric(&agent, "idaas_agent_cache_entries{kind=\"token\"}"),
        Some(1000)
    );
}

/// A core client in agent mode (agent.md §6) against the real agent: same tokens, same API key,
/// same errors; 8 threads × 50 reads make one token request at the emulator.
#[test]
fn clients_in_agent_mode_use_the_agent() {
    let env = Env::new();
    let agent = env.start(&[]);
    let cfg = idaas::Config::from_json_str(
        &serde_json::json!({ "agentSocket": agent.socket.to_str().unwrap() }).to_string(),
    )
    .unwrap();
    assert!(cfg.is_agent_mode());
    let client = idaas::Client::new(cfg).unwrap();
    let tokens: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    let mut last = String::new();
                    for _ in 0..50 {
                        last = client.bearer_token().unwrap().expose().to_owned();
                    }
                    last
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(tokens.iter().all(|t| t == &tokens[0] && !t.is_empty()));
    assert_eq!(
        env.token_requests(),
        1,
        "one token request for the whole host"
    );

    let pam = idaas::pam::PamClient::from_client(&client).unwrap();
    assert!(pam.is_agent_mode());
    let key = pam.get_api_key("openai_prod_key").unwrap().unwrap();
    assert_eq!(key.expose(), "sk-EXAMPLE0123456789abcdef");
    let e = pam.get_api_key("no_such_credential").unwrap_err();
    assert_eq!(e.kind(), idaas::ErrorKind::Client);
    assert_eq!(e.http_status(), Some(404));
    assert!(e.request_id().is_some());

    // An upstream failure comes back as the same kind of error, with the upstream's status.
    env.emu.set_fault(FaultRule {
        route: Route::Token,
        fault: Fault::Status {
            status: 400,
            retry_after: None,
            body: None,
        },
        times: None,
    });
    let e = client
        .bearer_token_for_scope("api.example.com|read:file")
        .unwrap_err();
    assert_eq!(e.http_status(), Some(400), "{e}");
    assert!(!e.to_string().contains(env.emu.client_secret()));
}

/// The agent never asks itself: `IDAAS_AGENT_SOCKET` in its environment is ignored, and a
/// configuration that sets `agentSocket` is refused at start.
#[test]
fn the_agent_never_runs_in_agent_mode() {
    let env = Env::new();
    let mut command = env.command(&[]);
    command.env(idaas::AGENT_SOCKET_ENV, env.dir.join("elsewhere.sock"));
    let agent = env.spawn(command, &[]);
    let r = agent.get("/v1/token");
    assert_eq!(r.status, 200, "{}", r.body);
    drop(agent);

    env.write_config(|cfg| cfg["agentSocket"] = Value::String("/run/idaas/agent.sock".into()));
    let out = env.command(&[]).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("agentSocket"), "{stderr}");
}
