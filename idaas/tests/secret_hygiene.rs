//! Secret hygiene, end to end. This binary installs a capturing `log` logger at TRACE level (it is
//! its own test binary, so no other test owns the global logger), runs full flows with known,
//! distinctive secrets — every client-authentication method that has a secret, token exchange, all
//! Developer API operations, and failures (wrong secret, 5xx, resets, malformed replies, 401) — and
//! asserts that no secret appears in any log line (ours, ureq's or rustls'), in any error's Display
//! or Debug, or in the Debug output of any result. Secrets seen on the wire (the emulator's request
//! log: client secrets, client assertions, Authorization headers, subject tokens) are added to the
//! list, so internally generated secrets are covered too.
//!
//! It also checks that `SecretString` (and the token form) zero their heap buffer before freeing it
//! — a scanning global allocator looks for a marker in every freed block — and the config-file
//! permission warning.

// The scanning allocator below is the one piece of `unsafe` outside idaas-ffi: a global allocator
// is an unsafe trait by definition.
#![allow(unsafe_code)]

mod common;

use common::pam::fast_retry;
use common::*;
use idaas::pam::{GenerateJwtOptions, ListAuthenticationTokensOptions, PamClient, SCOPE};
use idaas::Config;
use idaas::ManualClock;
use idaas::TokenExchangeRequest;
use idaas::{Client, SecretString};
use idaas_emulator::{AuthMethod, Emulator, EmulatorOptions, Fault, Fixtures, Route};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

// ---------------------------------------------------------------------------------------------
// Capturing logger

struct Capture;
/// (level, target, text) of every record.
static LINES: Mutex<Vec<(log::Level, String, String)>> = Mutex::new(Vec::new());

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, r: &log::Record) {
        let rec = (r.level(), r.target().to_string(), r.args().to_string());
        LINES.lock().unwrap_or_else(|e| e.into_inner()).push(rec);
    }
    fn flush(&self) {}
}

static LOGGER: Capture = Capture;

fn install_logger() {
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(log::LevelFilter::Trace);
}

fn records() -> Vec<(log::Level, String, String)> {
    LINES.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Lines as `LEVEL target text`.
fn lines() -> Vec<String> {
    records()
        .into_iter()
        .map(|(l, t, m)| format!("{l} {t} {m}"))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Scanning allocator: counts freed blocks that still contain MARKER.

const MARKER: &[u8] = b"ZEROIZE-MARKER-5b1f0c77";
static SCAN: AtomicBool = AtomicBool::new(false);
static MARKER_FREED: AtomicUsize = AtomicUsize::new(0);
/// The scanning tests share the counters: one at a time.
static SCAN_TESTS: Mutex<()> = Mutex::new(());

struct Scanning;

// SAFETY: every call is forwarded to the system allocator with the caller's own arguments; the
// scan only reads a block before it is freed.
unsafe impl GlobalAlloc for Scanning {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract of `GlobalAlloc::alloc`.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if SCAN.load(Ordering::Relaxed) && layout.size() >= MARKER.len() && layout.size() <= 1 << 20
        {
            // SAFETY: the block is still allocated and `layout.size()` bytes long.
            let block = unsafe { std::slice::from_raw_parts(ptr, layout.size()) };
            if block.windows(MARKER.len()).any(|w| w == MARKER) {
                MARKER_FREED.fetch_add(1, Ordering::SeqCst);
            }
        }
        // SAFETY: forwarded contract of `GlobalAlloc::dealloc`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Scanning = Scanning;

// ---------------------------------------------------------------------------------------------

const CLIENT_SECRET: &str = "cs-HYGIENE-4e1d9a7c2b";
const API_KEY: &str = "sk-HYGIENE-API-KEY-77aa01";
const OAUTH_CLIENT_SECRET: &str = "ocs-HYGIENE-5c3b";
const ALIBABA_SECRET: &str = "ak-HYGIENE-SECRET-9f3e1d";
const ALIBABA_STS_SECRET: &str = "sts-HYGIENE-SECRET-27c4";
const ALIBABA_STS_TOKEN: &str = "sts-HYGIENE-TOKEN-b81f3a0e";

fn key_pem() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../emulator/fixtures/keys/ec256_pkcs8.pem"
    ))
    .unwrap()
}

fn emulator() -> Emulator {
    let mut f = Fixtures::builtin();
    for c in &mut f.clients {
        if c.client_secret.is_some() {
            c.client_secret = Some(CLIENT_SECRET.to_string());
        }
    }
    for c in &mut f.credentials {
        if c.api_key.is_some() {
            c.api_key = Some(API_KEY.to_string());
        }
        if c.oauth_client_secret.is_some() {
            c.oauth_client_secret = Some(OAUTH_CLIENT_SECRET.to_string());
        }
    }
    f.alibaba_cloud.access_keys[0].access_key_secret = ALIBABA_SECRET.to_string();
    f.alibaba_cloud.access_keys[1].access_key_secret = ALIBABA_STS_SECRET.to_string();
    f.alibaba_cloud.access_keys[1].security_token = Some(ALIBABA_STS_TOKEN.to_string());
    idaas_emulator::start(EmulatorOptions {
        fixtures: Some(f),
        ..EmulatorOptions::default()
    })
    .unwrap()
}

fn client_for(emu: &Emulator, method: AuthMethod, clock: &Arc<ManualClock>) -> Client {
    let v = emu.client_config(method);
    let mut cfg = Config::from_json_value(&v).unwrap();
    cfg.authn.client_secret_supplier = Some(Arc::new(|| Ok(SecretString::new(CLIENT_SECRET))));
    if method == AuthMethod::PrivateKeyJwt {
        cfg.authn.private_key_pem = Some(SecretString::new(key_pem()));
    }
    builder(cfg, clock).build().unwrap()
}

/// Everything that must never be printed.
struct Secrets(Vec<String>);

impl Secrets {
    fn add(&mut self, s: impl AsRef<str>) {
        let s = s.as_ref().trim();
        if s.len() >= 8 && !self.0.iter().any(|x| x == s) {
            self.0.push(s.to_string());
        }
    }

    /// Wire secrets from the emulator's request log.
    fn add_wire(&mut self, emu: &Emulator) {
        for r in emu.requests() {
            for k in [
                "client_secret",
                "client_assertion",
                "subject_token",
                "actor_token",
            ] {
                if let Some(v) = r.form_param(k) {
                    self.add(v);
                }
            }
            if let Some(t) = r.header("x-acs-security-token") {
                self.add(t);
            }
            if let Some(a) = r.header("authorization") {
                match a.strip_prefix("ACS3-HMAC-SHA256 ") {
                    // An Alibaba Cloud signature: only the signature is secret-derived (the key
                    // id and the header names are not secrets).
                    Some(acs) => {
                        if let Some(sig) = acs.split(",Signature=").nth(1) {
                            self.add(sig);
                        }
                    }
                    // The credential after the scheme (`Basic …`, `Bearer …`).
                    None => self.add(a.split_once(' ').map(|(_, c)| c).unwrap_or(a)),
                }
            }
            if let Some(j) = &r.json {
                for k in ["token", "derivedShortToken"] {
                    if let Some(v) = j.get(k).and_then(|v| v.as_str()) {
                        self.add(v);
                    }
                }
            }
        }
    }

    fn assert_absent(&self, what: &str, text: &str) {
        for s in &self.0 {
            assert!(
                !text.contains(s.as_str()),
                "{what} leaks a secret ({}…): {text}",
                &s[..8]
            );
        }
    }

    /// Every 10-character fragment of every secret (hex dumps split secrets into 16-byte rows, so
    /// whole-secret matching is not enough), minus fragments that are public structure (JWT
    /// header segments, DER/base64 preambles).
    fn fragments(&self) -> std::collections::HashSet<String> {
        let mut set = std::collections::HashSet::new();
        for s in &self.0 {
            if s.len() < FRAGMENT {
                continue;
            }
            for i in 0..=s.len() - FRAGMENT {
                if s.is_char_boundary(i) && s.is_char_boundary(i + FRAGMENT) && !is_public(s, i) {
                    set.insert(s[i..i + FRAGMENT].to_string());
                }
            }
        }
        set
    }
}

const FRAGMENT: usize = 10;

/// The first secret fragment found in `text`.
fn fragment_in(frags: &std::collections::HashSet<String>, text: &str) -> Option<String> {
    if text.len() < FRAGMENT {
        return None;
    }
    (0..=text.len() - FRAGMENT)
        .filter(|&i| text.is_char_boundary(i) && text.is_char_boundary(i + FRAGMENT))
        .map(|i| &text[i..i + FRAGMENT])
        .find(|w| frags.contains(*w))
        .map(str::to_string)
}

/// Fragments of secrets that are not secret by themselves: a JWT's header and payload segments
/// (base64 of public claims such as the issuer, which also appear in certificates and URLs) — only
/// its signature counts, besides the whole token — and the first characters of a base64 DER body.
fn is_public(s: &str, i: usize) -> bool {
    let last_dot = s.rfind('.').map(|d| d + 1).unwrap_or(0);
    (s.starts_with("eyJ") && i < last_dot) || (s.starts_with("MI") && i < 16)
}

#[test]
fn no_secret_in_logs_errors_or_debug_output() {
    install_logger();
    let emu = emulator();
    let clock = ManualClock::starting_now();
    let mut secrets = Secrets(Vec::new());
    secrets.add(CLIENT_SECRET);
    secrets.add(API_KEY);
    secrets.add(OAUTH_CLIENT_SECRET);
    for line in key_pem().lines().filter(|l| !l.starts_with("-----")) {
        secrets.add(line);
    }
    let mut outputs: Vec<(String, String)> = Vec::new();
    let mut out = |what: &str, text: String| outputs.push((what.to_string(), text));

    // Tokens with every method that has a secret.
    let mut clients = Vec::new();
    for m in [
        AuthMethod::ClientSecretBasic,
        AuthMethod::ClientSecretPost,
        AuthMethod::ClientSecretJwt,
        AuthMethod::PrivateKeyJwt,
    ] {
        let c = client_for(&emu, m, &clock);
        let cred = c.credential().unwrap();
        secrets.add(cred.access_token.expose());
        out("credential", format!("{cred:?}"));
        out("client", format!("{c:?}"));
        out("config", format!("{:?}", c.config()));
        clients.push(c);
    }
    let core = clients[1].clone();

    // Token exchange (subject = an OIDC id token).
    let oidc = emu.mint_oidc_token("alice", 600);
    secrets.add(&oidc);
    let req = TokenExchangeRequest::for_id_token(oidc.clone()).scope(SCOPE);
    out("exchange request", format!("{req:?}"));
    let exchanged = core.exchange_token(&req).unwrap();
    secrets.add(exchanged.access_token.expose());
    out("exchanged", format!("{exchanged:?}"));

    // Developer API: every operation.
    let pam = PamClient::builder_from_client(&core, core.provider_for_scope(SCOPE).unwrap())
        .retry_policy(fast_retry())
        .build()
        .unwrap();
    out("pam", format!("{pam:?}"));
    let key = pam.get_api_key("openai_prod_key").unwrap().unwrap();
    assert_eq!(key.expose(), API_KEY);
    out("api key", format!("{key:?} {key}"));
    let g = pam
        .generate_jwt_authentication_token(
            "partner_jwt",
            "agent",
            &["https://api.partner.example".to_string()],
            &GenerateJwtOptions {
                include_derived_short_token: Some(true),
                ..GenerateJwtOptions::default()
            },
        )
        .unwrap();
    let jwt = g.jwt_content.jwt_value.clone();
    secrets.add(jwt.expose());
    let dst = g.jwt_content.derived_short_token.clone().unwrap();
    secrets.add(dst.expose());
    out("generate", format!("{g:?}"));
    let consumer = g.consumer_id.clone().unwrap();
    let token_id = g.authentication_token_id.clone().unwrap();
    out(
        "validate",
        format!("{:?}", pam.validate_authentication_token(&jwt, None)),
    );
    out(
        "obtain",
        format!(
            "{:?}",
            pam.obtain_jwt_authentication_token(&consumer, &token_id)
        ),
    );
    out(
        "obtain dst",
        format!(
            "{:?}",
            pam.obtain_jwt_authentication_token_by_derived_short_token(&dst)
        ),
    );
    out(
        "list",
        format!(
            "{:?}",
            pam.list_authentication_tokens(
                &consumer,
                "partner_jwt",
                &ListAuthenticationTokensOptions::default()
            )
        ),
    );
    let oauth = pam.fetch_oauth_authentication_token_v2(
        "google_drive_reader",
        "m2m",
        &idaas::pam::FetchOAuthOptions::default(),
    );
    if let Ok(o) = &oauth {
        if let Some(c) = &o.oauth_access_token_content {
            secrets.add(c.access_token_value.expose());
        }
    }
    out("oauth", format!("{oauth:?}"));
    out(
        "revoke",
        format!("{:?}", pam.revoke_authentication_token(&jwt, None)),
    );
    out(
        "reinstate",
        format!("{:?}", pam.reinstate_authentication_token(&jwt, None)),
    );

    // Failures.
    let mut errors: Vec<idaas::Error> = Vec::new();
    {
        // Wrong client secret (401 from the token endpoint).
        let v = emu.client_config(AuthMethod::ClientSecretPost);
        let mut cfg = Config::from_json_value(&v).unwrap();
        cfg.authn.client_secret_supplier =
            Some(Arc::new(|| Ok(SecretString::new("cs-HYGIENE-WRONG-0000"))));
        secrets.add("cs-HYGIENE-WRONG-0000");
        let c = builder(cfg, &clock).build().unwrap();
        errors.push(c.bearer_token().unwrap_err());
        errors.push(c.exchange_token(&req).unwrap_err());
    }
    for fault in [
        status(500, None),
        status(429, Some(0)),
        Fault::Reset,
        Fault::Truncate,
        Fault::NonJson,
        Fault::ResetMidBody,
    ] {
        let fresh = client_for(&emu, AuthMethod::ClientSecretJwt, &clock);
        emu.set_fault(rule(Route::Token, fault.clone(), None));
        errors.push(fresh.bearer_token().unwrap_err());
        errors.push(fresh.exchange_token(&req).unwrap_err());
        emu.clear_faults();
        emu.set_fault(rule(Route::DeveloperApi, fault, None));
        errors.push(pam.get_api_key("openai_prod_key").unwrap_err());
        errors.push(pam.validate_authentication_token(&jwt, None).unwrap_err());
        emu.clear_faults();
    }
    // 401 on the Developer API: the refresh path logs.
    emu.set_fault(rule(Route::DeveloperApi, status(401, None), None));
    errors.push(pam.get_api_key("openai_prod_key").unwrap_err());
    emu.clear_faults();
    // A credential of the wrong type, a server error body echoing nothing secret, bad input.
    errors.push(pam.get_api_key("").unwrap_err());
    errors.push(
        pam.validate_authentication_token(&SecretString::new(""), None)
            .unwrap_err(),
    );
    // A PEM that fails to parse.
    {
        let v = emu.client_config(AuthMethod::PrivateKeyJwt);
        let mut cfg = Config::from_json_value(&v).unwrap();
        let broken = key_pem().replace("-----END PRIVATE KEY-----", "");
        cfg.authn.private_key_pem = Some(SecretString::new(broken));
        match builder(cfg, &clock).build() {
            Ok(c) => errors.push(c.bearer_token().unwrap_err()),
            Err(e) => errors.push(e),
        }
    }
    // The ones that kept a retained error in the cache (backoff) print again.
    errors.push(
        clients[0]
            .bearer_token_for_scope("api.example.com|read")
            .err()
            .unwrap_or_else(|| idaas::Error::internal("ok")),
    );

    // The built-in Alibaba Cloud plugin: an AccessKey, an STS token, an OIDC role (with the key STS
    // issues), the ECS RAM role, and a refused secret.
    {
        let ali = emu.alibaba_cloud().clone();
        let (ak, sts) = (&ali.access_keys[0], &ali.access_keys[1]);
        for s in [ALIBABA_SECRET, ALIBABA_STS_SECRET, ALIBABA_STS_TOKEN] {
            secrets.add(s);
        }
        let dir = std::env::temp_dir().join(format!("idaas-hygiene-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let role_token = emu.mint_oidc_token("workload", 600);
        secrets.add(&role_token);
        let token_file = dir.join("oidc-token");
        std::fs::write(&token_file, &role_token).unwrap();
        let plugin = |vars: &[(&str, &str)]| {
            let cfg = Config::from_json_value(&emu.client_config(AuthMethod::Plugin)).unwrap();
            Client::builder(cfg)
                .alibaba_cloud(
                    idaas::AlibabaCloudOptions::new()
                        .sts_endpoint(emu.alibaba_endpoint())
                        .ecs_metadata_endpoint(emu.metadata_base_url())
                        .environment(vars.iter().map(|(k, v)| (k.to_string(), v.to_string()))),
                )
                .retry_policy(fast_token_retry())
                .build()
                .unwrap()
        };
        let file = token_file.to_str().unwrap();
        for vars in [
            vec![
                ("ALIBABA_CLOUD_ACCESS_KEY_ID", ak.access_key_id.as_str()),
                ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", ALIBABA_SECRET),
            ],
            vec![
                ("ALIBABA_CLOUD_ACCESS_KEY_ID", sts.access_key_id.as_str()),
                ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", ALIBABA_STS_SECRET),
                ("ALIBABA_CLOUD_SECURITY_TOKEN", ALIBABA_STS_TOKEN),
            ],
            vec![
                ("ALIBABA_CLOUD_ROLE_ARN", ali.ram_roles[1].role_arn.as_str()),
                (
                    "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
                    ali.oidc_provider_arn.as_str(),
                ),
                ("ALIBABA_CLOUD_OIDC_TOKEN_FILE", file),
            ],
            vec![],
        ] {
            let c = plugin(&vars);
            let cred = c.credential().unwrap();
            secrets.add(cred.access_token.expose());
            out("plugin credential", format!("{cred:?}"));
            out("plugin client", format!("{c:?}"));
        }
        secrets.add("ak-HYGIENE-WRONG-0000");
        let c = plugin(&[
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", ak.access_key_id.as_str()),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ak-HYGIENE-WRONG-0000"),
        ]);
        errors.push(c.bearer_token().unwrap_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    for e in &errors {
        out("error display", e.to_string());
        out("error debug", format!("{e:?}"));
        let mut src = std::error::Error::source(e);
        while let Some(s) = src {
            out("error source", s.to_string());
            src = s.source();
        }
    }

    // Add everything that crossed the wire, then check every output and every log line.
    secrets.add_wire(&emu);
    assert!(
        secrets.0.len() > 20,
        "collected {} secrets",
        secrets.0.len()
    );
    let frags = secrets.fragments();
    for (what, text) in &outputs {
        secrets.assert_absent(what, text);
        let frag = fragment_in(&frags, text);
        assert!(
            frag.is_none(),
            "{what} carries a secret fragment {frag:?}: {text}"
        );
    }
    let logged = lines();
    assert!(
        logged
            .iter()
            .any(|l| l.starts_with("TRACE") || l.starts_with("DEBUG")),
        "the capture saw debug/trace lines ({} lines)",
        logged.len()
    );
    // Every record that is not flagged by `idaas::is_sensitive_log_record` (the filter the
    // C ABI's log forwarder applies) is free of secrets and of secret fragments. The flagged ones —
    // ureq_proto's TRACE hex dumps of raw requests and responses — do carry secrets: counted, and
    // proof that the filter is needed.
    let mut flagged_with_secret = 0;
    for (level, target, text) in records() {
        let frag = fragment_in(&frags, &text);
        if idaas::is_sensitive_log_record(&target, level) {
            flagged_with_secret += frag.is_some() as usize;
            continue;
        }
        secrets.assert_absent("log line", &text);
        assert!(
            frag.is_none(),
            "log record {level} {target} carries a secret fragment {frag:?}: {text}"
        );
    }
    eprintln!(
        "{flagged_with_secret} TRACE records of the HTTP stack carry secret fragments (dropped by is_sensitive_log_record)"
    );
    assert!(
        flagged_with_secret > 0,
        "expected the HTTP stack's TRACE dumps to carry (flagged) secrets, else the filter is untested"
    );
    eprintln!(
        "checked {} secrets against {} outputs, {} errors and {} log lines",
        secrets.0.len(),
        outputs.len(),
        errors.len(),
        logged.len()
    );
}

#[test]
fn secret_buffers_are_zeroed_before_they_are_freed() {
    fn marked() -> String {
        let mut s = String::with_capacity(64);
        s.push_str(std::str::from_utf8(MARKER).unwrap());
        s.push_str("-payload");
        s
    }
    let _g = SCAN_TESTS.lock().unwrap_or_else(|e| e.into_inner());
    SCAN.store(true, Ordering::SeqCst);
    // Control: a plain String is freed with its content (the detector works).
    let before = MARKER_FREED.load(Ordering::SeqCst);
    drop(std::hint::black_box(marked()));
    let control = MARKER_FREED.load(Ordering::SeqCst) - before;
    // SecretString, a Credential holding secrets, a clone, into_inner-free paths, the token form.
    let before = MARKER_FREED.load(Ordering::SeqCst);
    drop(std::hint::black_box(SecretString::new(marked())));
    let s = SecretString::new(marked());
    let s2 = s.clone();
    drop(std::hint::black_box(s));
    drop(std::hint::black_box(s2));
    drop(std::hint::black_box(idaas::Credential {
        access_token: SecretString::new(marked()),
        refresh_token: Some(SecretString::new(marked())),
        id_token: Some(SecretString::new(marked())),
        ..Default::default()
    }));
    let value = SecretString::new(marked()); // the caller's copy is itself a SecretString
    let mut form = idaas::internals::token::Form::new();
    form.push("client_secret", value.expose());
    drop(std::hint::black_box(form));
    drop(value);
    let leaked = MARKER_FREED.load(Ordering::SeqCst) - before;
    SCAN.store(false, Ordering::SeqCst);
    assert!(
        control >= 1,
        "the scanning allocator did not see the control string"
    );
    assert_eq!(
        leaked, 0,
        "{leaked} secret buffer(s) freed without being zeroed"
    );
}

/// The token form (client secret, assertion) grows while it is being built: no reallocation may
/// free a buffer that still holds the secret so far (fixed in ce72afe: the form grows by hand and
/// wipes the old buffer).
#[test]
fn token_form_growth_leaves_no_secret_copies() {
    let _g = SCAN_TESTS.lock().unwrap_or_else(|e| e.into_inner());
    SCAN.store(true, Ordering::SeqCst);
    let before = MARKER_FREED.load(Ordering::SeqCst);
    // A long value makes the form's buffer grow while it already holds a whole marker.
    let long = SecretString::new(std::str::from_utf8(MARKER).unwrap().repeat(8));
    let mut form = idaas::internals::token::Form::new();
    form.push("client_id", "app_x")
        .push("client_secret", long.expose());
    drop(std::hint::black_box(form));
    drop(long);
    let leaked = MARKER_FREED.load(Ordering::SeqCst) - before;
    SCAN.store(false, Ordering::SeqCst);
    assert_eq!(
        leaked, 0,
        "form growth left {leaked} unzeroed buffer(s) holding a secret"
    );
}

#[cfg(unix)]
#[test]
fn config_file_writable_by_others_is_warned_about() {
    use std::os::unix::fs::PermissionsExt;
    install_logger();
    let emu = Emulator::start_default();
    let dir = std::env::temp_dir().join(format!("idaas-hygiene-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = emu.client_config(AuthMethod::ClientSecretPost).to_string();
    let warned = |mode: u32| {
        let p = dir.join(format!("client-config-{mode:o}.json"));
        std::fs::write(&p, &text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        Config::from_path(&p).unwrap();
        let name = p.display().to_string();
        lines()
            .iter()
            .any(|l| l.starts_with("WARN") && l.contains(&name) && l.contains("writable"))
    };
    assert!(warned(0o666), "world-writable config: warning expected");
    assert!(warned(0o620), "group-writable config: warning expected");
    assert!(!warned(0o600), "0600: no warning");
    // The core's decision (src/config.rs "File permissions"): the file names environment variables
    // and holds no secret, so only write access (integrity) is warned about, not read access.
    assert!(!warned(0o644), "0644: no warning by design");
}
