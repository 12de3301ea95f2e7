//! The `idaas` binary as a subprocess against the emulator: stdout, stderr and exit codes.

use idaas_emulator::{AuthMethod, Emulator};
use serde_json::Value;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

static N: AtomicUsize = AtomicUsize::new(0);

struct Cli {
    emu: Emulator,
    config: PathBuf,
    env_var: String,
    secret: String,
}

impl Cli {
    fn start() -> Cli {
        Self::start_with(|_| {})
    }

    fn start_with(edit: impl FnOnce(&mut Value)) -> Cli {
        let emu = Emulator::start_default();
        let n = N.fetch_add(1, Ordering::SeqCst);
        let env_var = format!("IDAAS_CLI_TEST_SECRET_{}_{n}", std::process::id());
        let mut cfg = emu.client_config(AuthMethod::ClientSecretPost);
        cfg["authnConfiguration"]["clientSecretEnvVarName"] = Value::String(env_var.clone());
        edit(&mut cfg);
        let config =
            std::env::temp_dir().join(format!("idaas-cli-test-{}-{n}.json", std::process::id()));
        std::fs::write(&config, cfg.to_string()).unwrap();
        // Private whatever the umask: a group-writable file would add a warning to stderr.
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
        let secret = emu.client_secret().to_string();
        Cli {
            emu,
            config,
            env_var,
            secret,
        }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_idaas"));
        c.arg("--config")
            .arg(&self.config)
            .args(args)
            .env(&self.env_var, &self.secret)
            .env_remove("CLOUD_IDAAS_CONFIG_PATH");
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    fn run_stdin(&self, args: &[&str], input: &str) -> Output {
        let mut child = self
            .cmd(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }
}

impl Drop for Cli {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.config);
    }
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}, stderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

#[test]
fn help_and_usage_errors() {
    let o = Command::new(env!("CARGO_BIN_EXE_idaas"))
        .arg("--help")
        .output()
        .unwrap();
    let out = ok(&o);
    assert!(out.contains("Exit codes:") && out.contains("api-key") && out.contains("jwt"));
    for sub in [
        vec!["token", "--help"],
        vec!["exchange", "--help"],
        vec!["api-key", "--help"],
        vec!["oauth-token", "--help"],
        vec!["jwt", "generate", "--help"],
        vec!["jwt", "list", "--help"],
        vec!["jwt", "revoke", "--help"],
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_idaas"))
            .args(&sub)
            .output()
            .unwrap();
        assert!(ok(&o).contains("Usage:"), "{sub:?}");
    }
    let o = Command::new(env!("CARGO_BIN_EXE_idaas"))
        .arg("api-key")
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    assert!(o.stdout.is_empty());
    let o = Command::new(env!("CARGO_BIN_EXE_idaas"))
        .args(["jwt", "revoke"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
}

#[test]
fn config_errors_exit_3() {
    let o = Command::new(env!("CARGO_BIN_EXE_idaas"))
        .args(["--config", "/nonexistent/idaas.json", "token"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 3);
    assert!(String::from_utf8_lossy(&o.stderr).contains("config"));
    // The env var is used when --config is absent.
    let o = Command::new(env!("CARGO_BIN_EXE_idaas"))
        .args(["token"])
        .env("CLOUD_IDAAS_CONFIG_PATH", "/nonexistent/env.json")
        .output()
        .unwrap();
    assert_eq!(code(&o), 3);
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/env.json"));
}

#[test]
fn token_exchange_and_api_key() {
    let cli = Cli::start();
    let token = ok(&cli.run(&["token"]));
    assert_eq!(token.trim().split('.').count(), 3);
    assert!(token.ends_with('\n'));
    let json: Value = serde_json::from_str(&ok(&cli.run(&["--output", "json", "token"]))).unwrap();
    assert_eq!(json["token_type"], "Bearer");
    assert!(json["expires_at"].as_u64().unwrap() > 0);

    let oidc = cli.emu.mint_oidc_token("alice", 600);
    let issued = ok(&cli.run(&[
        "exchange",
        &oidc,
        "--subject-token-type",
        "urn:ietf:params:oauth:token-type:id_token",
    ]));
    assert_eq!(issued.trim().split('.').count(), 3);
    let issued = ok(&cli.run_stdin(
        &[
            "--output",
            "json",
            "exchange",
            "-",
            "--subject-token-type",
            "urn:ietf:params:oauth:token-type:jwt",
        ],
        &format!("{oidc}\n"),
    ));
    let v: Value = serde_json::from_str(&issued).unwrap();
    assert_eq!(
        v["issued_token_type"],
        "urn:ietf:params:oauth:token-type:access_token"
    );

    assert_eq!(
        ok(&cli.run(&["api-key", "openai_prod_key"])),
        "sk-EXAMPLE0123456789abcdef\n"
    );
    let v: Value = serde_json::from_str(&ok(&cli.run(&[
        "api-key",
        "openai_prod_key",
        "--output",
        "json",
    ])))
    .unwrap();
    assert_eq!(v["apiKey"], "sk-EXAMPLE0123456789abcdef");

    // No API key content: exit 1, nothing on stdout.
    let o = cli.run(&["api-key", "partner_oauth_client"]);
    assert_eq!(code(&o), 1);
    assert!(o.stdout.is_empty());
    // Unknown credential: 404 → exit 5, error on stderr only.
    let o = cli.run(&["api-key", "no_such_credential"]);
    assert_eq!(code(&o), 5);
    assert!(o.stdout.is_empty());
    assert!(String::from_utf8_lossy(&o.stderr).contains("404"));
    let o = cli.run(&["--output", "json", "api-key", "no_such_credential"]);
    let e: Value = serde_json::from_slice(&o.stderr).unwrap();
    assert_eq!(e["error"]["httpStatus"], 404);
    assert_eq!(e["error"]["kind"], "client");
    // Blank argument: exit 2.
    assert_eq!(code(&cli.run(&["api-key", " "])), 2);
}

#[test]
fn auth_and_network_failures() {
    let mut cli = Cli::start();
    cli.secret = "wrong-secret".into();
    let o = cli.run(&["token"]);
    assert_eq!(code(&o), 4, "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!String::from_utf8_lossy(&o.stderr).contains("wrong-secret"));
    // Missing secret env var: credential error → 4.
    let o = cli
        .cmd(&["token"])
        .env_remove(&cli.env_var)
        .output()
        .unwrap();
    assert_eq!(code(&o), 4);

    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let cli = Cli::start_with(|cfg| {
        cfg["developerApiEndpoint"] = Value::String(format!("http://127.0.0.1:{port}"));
    });
    let o = cli.run(&["api-key", "openai_prod_key"]);
    assert_eq!(code(&o), 6, "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn oauth_token_m2m() {
    let cli = Cli::start();
    let t = ok(&cli.run(&["oauth-token", "google_drive_reader"]));
    assert!(!t.trim().is_empty());
    let v: Value = serde_json::from_str(&ok(&cli.run(&[
        "oauth-token",
        "google_drive_reader",
        "--output",
        "json",
        "--scope",
        "https://www.googleapis.com/auth/drive.readonly",
    ])))
    .unwrap();
    assert!(v["oauthAccessTokenContent"]["accessTokenValue"].is_string());
    assert_eq!(
        code(&cli.run(&["oauth-token", "google_drive_reader", "--flow", "sideways"])),
        2
    );
}

#[test]
fn jwt_lifecycle() {
    let cli = Cli::start();
    let out = ok(&cli.run(&[
        "jwt",
        "generate",
        "--provider",
        "partner_jwt",
        "--subject",
        "billing-agent",
        "--audience",
        "https://api.partner.example",
        "--claim",
        "tier=2",
        "--claim",
        "tenant=acme",
        "--expiration",
        "900",
        "--derived-short-token",
        "--output",
        "json",
    ]));
    let v: Value = serde_json::from_str(&out).unwrap();
    let jwt = v["jwtContent"]["jwtValue"].as_str().unwrap().to_string();
    let dst = v["jwtContent"]["derivedShortToken"]
        .as_str()
        .unwrap()
        .to_string();
    let id = v["authenticationTokenId"].as_str().unwrap().to_string();
    let consumer = v["consumerId"].as_str().unwrap().to_string();
    let body = cli
        .emu
        .requests()
        .into_iter()
        .find(|r| r.header("x-acs-action") == Some("GenerateJwtAuthenticationToken"))
        .unwrap()
        .body;
    assert!(
        body.contains(r#""customClaims":{"tier":2,"tenant":"acme"}"#),
        "{body}"
    );

    // Text output: the JWT, then the derived short token.
    let text = ok(&cli.run(&[
        "jwt",
        "generate",
        "--provider",
        "partner_jwt",
        "--subject",
        "s2",
        "--audience",
        "https://api.partner.example",
        "--derived-short-token",
    ]));
    assert_eq!(text.lines().count(), 2);

    assert_eq!(ok(&cli.run(&["jwt", "validate", &jwt])), "true\n");
    assert_eq!(
        ok(&cli.run_stdin(&["jwt", "validate", "-"], &dst)),
        "true\n"
    );
    assert_eq!(
        ok(&cli.run(&[
            "jwt",
            "obtain",
            "--consumer-id",
            &consumer,
            "--token-id",
            &id
        ]))
        .lines()
        .next()
        .unwrap(),
        jwt
    );
    assert_eq!(
        ok(&cli.run_stdin(&["jwt", "obtain-by-short-token", "-"], &dst))
            .lines()
            .next()
            .unwrap(),
        jwt
    );

    assert_eq!(ok(&cli.run(&["jwt", "revoke", &jwt])), "");
    assert_eq!(ok(&cli.run(&["jwt", "validate", &jwt])), "false\n");
    ok(&cli.run(&["jwt", "reinstate", &jwt, "--token-type-hint", "jwt"]));
    assert_eq!(ok(&cli.run(&["jwt", "validate", &jwt])), "true\n");
    ok(&cli.run(&[
        "jwt",
        "revoke",
        "--consumer-id",
        &consumer,
        "--provider",
        "partner_jwt",
    ]));
    assert_eq!(
        ok(&cli.run(&["jwt", "validate", &jwt, "--output", "json"])),
        "{\"active\":false}\n"
    );
    ok(&cli.run(&[
        "jwt",
        "reinstate",
        "--consumer-id",
        &consumer,
        "--provider",
        "partner_jwt",
    ]));
    assert_eq!(ok(&cli.run(&["jwt", "validate", &jwt])), "true\n");

    let all: Value = serde_json::from_str(&ok(&cli.run(&[
        "jwt",
        "list",
        "--consumer-id",
        &consumer,
        "--provider",
        "partner_jwt",
        "--max-results",
        "1",
        "--all",
        "--output",
        "json",
    ])))
    .unwrap();
    assert_eq!(all.as_array().unwrap().len(), 2);
    let page: Value = serde_json::from_str(&ok(&cli.run(&[
        "jwt",
        "list",
        "--consumer-id",
        &consumer,
        "--provider",
        "partner_jwt",
        "--max-results",
        "1",
        "--revoked",
        "false",
        "--expired",
        "false",
        "--output",
        "json",
    ])))
    .unwrap();
    assert_eq!(page["entities"].as_array().unwrap().len(), 1);
    let text = ok(&cli.run(&[
        "jwt",
        "list",
        "--consumer-id",
        &consumer,
        "--provider",
        "partner_jwt",
        "--all",
    ]));
    assert_eq!(text.lines().count(), 2);
    // Reserved audience: invalid argument.
    let o = cli.run(&[
        "jwt",
        "generate",
        "--provider",
        "partner_jwt",
        "--subject",
        "s",
        "--audience",
        "urn:cloud:idaas:x",
    ]);
    assert_eq!(code(&o), 2);
}

#[test]
fn oauth_token_3lo_with_user_token_and_poll() {
    use std::io::{BufRead, BufReader};
    let cli = Cli::start();
    let user = cli.emu.mint_oidc_token("erin", 600);
    let mut child = cli
        .cmd(&[
            "oauth-token",
            "google_drive_user",
            "--flow",
            "user_federation",
            "--user-token",
            "-",
            "--poll-interval",
            "0.05",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(user.as_bytes())
        .unwrap();
    // The authorization URL is shown on stderr; "approve" once it appears.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let mut line = String::new();
    while stderr.read_line(&mut line).unwrap() > 0 {
        seen.push_str(&line);
        if line.trim_start().starts_with("http") {
            break;
        }
        line.clear();
    }
    assert!(seen.contains("authorize"), "{seen}");
    let session = cli.emu.session_ids().last().cloned().expect("a session");
    cli.emu.set_session_status(&session, "completed");
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "exit {:?}", out.status.code());
    let token = String::from_utf8(out.stdout).unwrap();
    assert!(!token.trim().is_empty());
    assert!(!token.contains("http"));
}

// ---------------------------------------------------------------------------------------------
// Hostile files and stdin (issue 14, item 3)

/// Runs the binary with a 4 GiB address-space limit and a 20 s timeout (coreutils `timeout`), so
/// a regression that reads `/dev/zero` to the end or blocks on a FIFO fails instead of exhausting
/// the machine or hanging CI. Returns the output and the elapsed time.
fn run_bounded(args: &[&str], stdin: Stdio) -> (Output, std::time::Duration) {
    let t = std::time::Instant::now();
    let o = Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -v 4194304 && exec timeout 20 "$@""#)
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_idaas"))
        .args(args)
        .env_remove("CLOUD_IDAAS_CONFIG_PATH")
        .env_remove("IDAAS_LOG")
        .stdin(stdin)
        .output()
        .unwrap();
    (o, t.elapsed())
}

#[test]
fn config_that_is_not_a_regular_file_fails_fast() {
    let dir = std::env::temp_dir().join(format!(
        "idaas-cli-fifo-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("config.fifo");
    let st = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(st.success());
    let fifo_s = fifo.to_str().unwrap();
    for (path, what) in [
        ("/dev/zero", "is a character device, not a regular file"),
        (fifo_s, "is a FIFO (named pipe), not a regular file"),
    ] {
        let (o, took) = run_bounded(&["--config", path, "token"], Stdio::null());
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(3), "{path}: {err}");
        assert!(o.stdout.is_empty());
        assert!(
            err.contains("IDaaS config file") && err.contains(path) && err.contains(what),
            "{err}"
        );
        assert!(
            took < std::time::Duration::from_secs(10),
            "{path}: {took:?}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn secret_from_stdin_is_capped() {
    let f = std::fs::File::open("/dev/zero").unwrap();
    let (o, took) = run_bounded(&["jwt", "validate", "-"], Stdio::from(f));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("TOKEN read from stdin is larger than the 1 MiB limit"),
        "{err}"
    );
    assert!(took < std::time::Duration::from_secs(10), "{took:?}");
}

// ---------------------------------------------------------------------------------------------
// Logging (issue 14, item 8)

const WRITABLE_WARNING: &str = "writable by group or others";

#[test]
fn group_writable_config_is_warned_about_on_stderr() {
    let cli = Cli::start();
    std::fs::set_permissions(&cli.config, std::fs::Permissions::from_mode(0o664)).unwrap();
    let o = cli
        .cmd(&["token"])
        .env_remove("IDAAS_LOG")
        .output()
        .unwrap();
    let token = ok(&o);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("idaas: warning: IDaaS config file"), "{err}");
    assert!(err.contains(WRITABLE_WARNING), "{err}");
    assert!(
        !token.contains(WRITABLE_WARNING),
        "warnings stay off stdout"
    );
    // IDAAS_LOG=off silences it; error silences warnings too.
    for level in ["off", "error", "OFF"] {
        let o = cli
            .cmd(&["token"])
            .env("IDAAS_LOG", level)
            .output()
            .unwrap();
        ok(&o);
        assert!(
            o.stderr.is_empty(),
            "{level}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    // A -v flag wins over IDAAS_LOG.
    let o = cli
        .cmd(&["-v", "token"])
        .env("IDAAS_LOG", "off")
        .output()
        .unwrap();
    ok(&o);
    assert!(String::from_utf8_lossy(&o.stderr).contains(WRITABLE_WARNING));
    // With --output json every stderr line is a JSON document.
    let o = cli
        .cmd(&["--output", "json", "token"])
        .env_remove("IDAAS_LOG")
        .output()
        .unwrap();
    ok(&o);
    let lines: Vec<Value> = String::from_utf8_lossy(&o.stderr)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["log"]["level"], "warn");
    assert!(lines[0]["log"]["message"]
        .as_str()
        .unwrap()
        .contains(WRITABLE_WARNING));
    // A private file: no warning.
    std::fs::set_permissions(&cli.config, std::fs::Permissions::from_mode(0o600)).unwrap();
    let o = cli
        .cmd(&["token"])
        .env_remove("IDAAS_LOG")
        .output()
        .unwrap();
    ok(&o);
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn unknown_log_level_is_a_usage_error() {
    let cli = Cli::start();
    let o = cli
        .cmd(&["token"])
        .env("IDAAS_LOG", "loud")
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    assert!(o.stdout.is_empty());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("IDAAS_LOG must be one of off, error, warn, info, debug, trace"),
        "{err}"
    );
}

/// Length of the secret fragments looked for in log output. The HTTP stack's TRACE records
/// hex-dump raw requests 16 bytes per line, so a secret appears there cut into short pieces.
const FRAGMENT: usize = 10;

/// Every `FRAGMENT`-byte window of the secret part of `s`: the whole value, or for a JWT its
/// signature only (its header and payload are base64 of public claims).
fn fragments(s: &str, into: &mut Vec<String>) {
    let secret = match s.rfind('.') {
        Some(i) if s.starts_with("eyJ") => &s[i + 1..],
        _ => s,
    };
    let b = secret.as_bytes();
    for w in b.windows(FRAGMENT.min(b.len())) {
        into.push(String::from_utf8_lossy(w).into_owned());
    }
}

#[test]
fn trace_logging_prints_no_secret() {
    let cli = Cli::start();
    for (args, env) in [
        (vec!["-vvv", "token"], None),
        (vec!["token"], Some("trace")),
        (vec!["--output", "json", "-vvv", "token"], None),
        (vec!["api-key", "openai_prod_key", "--verbose", "-vv"], None),
        (vec!["api-key", "openai_prod_key"], Some("trace")),
    ] {
        cli.emu.clear_requests();
        let mut c = cli.cmd(&args);
        match env {
            Some(v) => c.env("IDAAS_LOG", v),
            None => c.env_remove("IDAAS_LOG"),
        };
        let o = c.output().unwrap();
        let out = ok(&o);
        let err = String::from_utf8_lossy(&o.stderr);
        // The logger is on: the HTTP stack's debug records are there.
        assert!(err.contains("ureq"), "{args:?}: no debug output: {err}");
        // The secrets of this run: the client secret, what was printed (token or API key), and
        // every credential the emulator received (Authorization headers, secret form fields).
        let mut secrets = vec![cli.secret.clone()];
        let printed = out.trim();
        match serde_json::from_str::<Value>(printed) {
            Ok(v) => secrets.push(v["access_token"].as_str().unwrap().to_string()),
            Err(_) => secrets.push(printed.to_string()),
        }
        for r in cli.emu.requests() {
            if let Some(a) = r.header("authorization") {
                secrets.push(a.split_once(' ').map_or(a, |(_, v)| v).to_string());
            }
            for f in ["client_secret", "client_assertion", "subject_token"] {
                if let Some(v) = r.form_param(f) {
                    secrets.push(v.to_string());
                }
            }
        }
        assert!(secrets.len() >= 3, "{args:?}: {secrets:?}");
        let mut frags = Vec::new();
        for s in &secrets {
            assert!(
                !err.contains(s.as_str()),
                "{args:?}: a secret on stderr:\n{err}"
            );
            fragments(s, &mut frags);
        }
        for f in &frags {
            assert!(
                !err.contains(f.as_str()),
                "{args:?}: secret fragment {f:?} on stderr:\n{err}"
            );
        }
        assert!(!err.contains("client_secret="), "{args:?}: {err}");
    }
}

#[path = "../../idaas/tests/core_mock/mod.rs"]
mod core_mock;

/// A config file for a CLIENT_SECRET_POST client of the scripted server `s`, with the secret in the
/// environment variable returned.
fn mock_config(s: &core_mock::MockServer, tag: &str) -> (PathBuf, String) {
    let n = N.fetch_add(1, Ordering::SeqCst);
    let env_var = format!("IDAAS_CLI_TEST_SECRET_{tag}_{}_{n}", std::process::id());
    let cfg = serde_json::json!({
        "idaasInstanceId": "idaas_cli",
        "clientId": "app_cli",
        "issuer": s.url("/oauth2"),
        "tokenEndpoint": s.url("/oauth2/token"),
        "scope": "api.example.com|read",
        "authnConfiguration": {"authnMethod": "CLIENT_SECRET_POST",
                               "clientSecretEnvVarName": env_var},
    });
    let path = std::env::temp_dir().join(format!(
        "idaas-cli-mock-{tag}-{}-{n}.json",
        std::process::id()
    ));
    std::fs::write(&path, cfg.to_string()).unwrap();
    (path, env_var)
}

/// A hostile token endpoint: terminal escape sequences in its error text, our client secret echoed
/// back, and (second server) a token with a newline and ESC. Nothing reaches the terminal raw, no
/// secret is printed, and the bad token is never printed (SECURITY.md "Server text").
#[test]
fn hostile_server_text_is_never_printed_raw() {
    const SECRET: &str = "cli-SECRET-value-42";
    let s = core_mock::MockServer::start(|r, _| {
        core_mock::Reply::json(
            401,
            &serde_json::json!({
                "error": "invalid_client\u{1b}[5m",
                "error_description": format!("\u{1b}[31mdenied\u{1b}[0m\r\n\u{9b}2J you sent {}", r.body),
                "request_id": "rid\u{1b}]0;pwned\u{7}",
            })
            .to_string(),
        )
    });
    let (config, env_var) = mock_config(&s, "esc");
    for output in ["text", "json"] {
        let o = Command::new(env!("CARGO_BIN_EXE_idaas"))
            .args(["--output", output, "--config"])
            .arg(&config)
            .arg("token")
            .env(&env_var, SECRET)
            .env_remove("CLOUD_IDAAS_CONFIG_PATH")
            .output()
            .unwrap();
        assert_eq!(code(&o), 4, "{output}");
        let err = String::from_utf8(o.stderr.clone()).unwrap();
        assert!(o.stdout.is_empty());
        assert!(
            !err.lines().any(|l| l.chars().any(char::is_control)),
            "{output}: raw control character on stderr: {err:?}"
        );
        assert!(!err.contains(SECRET), "{output}: secret on stderr: {err}");
        assert!(err.contains("** redacted **"), "{output}: {err}");
        match output {
            "text" => assert!(err.contains("\\u{1b}[31mdenied"), "{err}"),
            _ => {
                let v: Value = serde_json::from_str(&err).unwrap();
                let msg = v["error"]["message"].as_str().unwrap();
                assert!(
                    msg.starts_with("\\u{1b}[31mdenied\\u{1b}[0m\\r\\n\\u{9b}2J"),
                    "{msg}"
                );
            }
        }
    }
    let _ = std::fs::remove_file(&config);

    let s = core_mock::MockServer::start(|_, _| {
        core_mock::Reply::json(
            200,
            r#"{"access_token":"tok\n\u001b[2Jen","token_type":"Bearer","expires_in":600}"#,
        )
    });
    let (config, env_var) = mock_config(&s, "tok");
    let o = Command::new(env!("CARGO_BIN_EXE_idaas"))
        .arg("--config")
        .arg(&config)
        .arg("token")
        .env(&env_var, SECRET)
        .env_remove("CLOUD_IDAAS_CONFIG_PATH")
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&config);
    let err = String::from_utf8(o.stderr.clone()).unwrap();
    assert_eq!(code(&o), 5, "{err}");
    assert!(o.stdout.is_empty(), "token printed");
    assert!(
        err.contains("InvalidResponseValue") && err.contains("access_token"),
        "{err}"
    );
    assert!(!err.contains("[2J"), "the token value is shown: {err}");
    assert!(
        !err.trim_end_matches('\n').chars().any(char::is_control),
        "{err:?}"
    );
}

/// `idaas token` with the built-in PLUGIN `alibabacloudPluginCredentialProvider`: the emulator's
/// PLUGIN configuration plus the variables it prints, and nothing else.
#[test]
fn token_with_the_alibaba_cloud_plugin() {
    let emu = Emulator::start_default();
    let n = N.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("idaas-cli-plugin-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("plugin.json");
    std::fs::write(&config, emu.client_config(AuthMethod::Plugin).to_string()).unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    let run = |env: &[(String, String)], args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_idaas"));
        c.arg("--config").arg(&config).args(args);
        // Only what the test gives: no Alibaba Cloud variable or profile of the machine.
        for (k, _) in std::env::vars() {
            if k.starts_with("ALIBABA_CLOUD_")
                || k.starts_with("IDAAS_")
                || k == "CLOUD_IDAAS_CONFIG_PATH"
            {
                c.env_remove(k);
            }
        }
        c.env("HOME", &dir);
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let env = emu.alibaba_cloud_env();
    let token = ok(&run(&env, &["token"]));
    assert_eq!(token.trim().split('.').count(), 3, "a JWT: {token}");
    let sent: Vec<_> = emu
        .requests()
        .into_iter()
        .filter(|r| r.header("x-acs-action") == Some("GenerateOauthToken"))
        .collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].status, 200);
    let json: Value =
        serde_json::from_str(&ok(&run(&env, &["--output", "json", "token"]))).unwrap();
    assert_eq!(json["token_type"], "Bearer", "{json}");
    assert_eq!(json["expires_in"], 1200, "{json}");
    // A wrong secret: the service's refusal, exit 4, the secret not shown.
    let mut wrong = env.clone();
    wrong[1].1 = "wrong-secret-not-to-be-printed".into();
    let o = run(&wrong, &["token"]);
    assert_eq!(code(&o), 4);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("SignatureDoesNotMatch"), "{err}");
    assert!(!err.contains("wrong-secret-not-to-be-printed"), "{err}");
    // No credentials anywhere: exit 4 and every source of the chain named.
    let o = run(
        &[("ALIBABA_CLOUD_ECS_METADATA_DISABLED".into(), "true".into())],
        &["token"],
    );
    assert_eq!(code(&o), 4);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("AlibabaCloudCredentialsNotFound"), "{err}");
    assert!(
        err.contains("ALIBABA_CLOUD_ACCESS_KEY_ID is not set"),
        "{err}"
    );
    assert!(err.contains("credentials URI"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
