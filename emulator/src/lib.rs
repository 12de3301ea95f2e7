//! `idaas-emulator`: a local IDaaS server for tests and offline development.
//!
//! One loopback port serves HTTPS and plain HTTP (the first byte of each connection decides):
//! the OAuth 2.0 token endpoint with every client-authentication method of the IDaaS M2M core
//! and RFC 8693 token exchange, JWKS and OIDC discovery, the PAM Developer API (version
//! 2022-02-25), an ECS instance-metadata stand-in, the Alibaba Cloud services of the PLUGIN
//! `alibabacloudPluginCredentialProvider` (EIAM OpenAPI `GenerateOauthToken` with signature
//! verification, STS `AssumeRoleWithOIDC`, the metadata RAM role, a credentials URI), and a
//! control API under `/_emulator/`.
//! Faults (latency, error statuses, resets, truncated or malformed bodies, ...) can be injected
//! per route. See `emulator/README.md` for the wire details, the decisions taken and the module
//! map.
//!
//! ```no_run
//! let emu = idaas_emulator::Emulator::start_default();
//! println!("token endpoint: {}", emu.token_endpoint());
//! ```
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod bearer;
mod client_config;
mod faults;
pub mod files;
mod fixtures;
mod handlers;
mod http;
mod jwt;
mod pki;
mod reqlog;
mod router;
mod state;
mod util;

pub use faults::parse_fault_spec;
pub use fixtures::{
    AccessKeyFixture, AlibabaCloudFixture, ClientFixture, CredentialFixture, FederatedCredential,
    FederatedKind, Fixtures, ProviderFixture, ProviderKind, RamRoleFixture,
};

use serde_json::Value;
use state::{ClientSetup, Keys, ServerState, Site, State};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use util::lock;

/// Path of the issuer (relative to the base URL).
pub const ISSUER_PATH: &str = "/api/v2/iauths_system/oauth2";
/// Path of the token endpoint.
pub const TOKEN_PATH: &str = "/api/v2/iauths_system/oauth2/token";
/// The PAM scope that covers every Developer API operation.
pub const PAM_SCOPE: &str = "urn:cloud:idaas:pam|.all";
/// Env var name used by [`Emulator::client_config`] for client secrets.
pub const CLIENT_SECRET_ENV: &str = "IDAAS_CLIENT_SECRET";
/// Env var name used by [`Emulator::client_config`] for private keys.
pub const PRIVATE_KEY_ENV: &str = "IDAAS_PRIVATE_KEY";
/// The `pluginName` of the PLUGIN configuration ([`AuthMethod::Plugin`]).
pub const ALIBABA_CLOUD_PLUGIN_NAME: &str = "alibabacloudPluginCredentialProvider";
/// Path of the credentials URI document (see [`Emulator::alibaba_credentials_uri`]).
pub const ALIBABA_CREDENTIALS_URI_PATH: &str = "/alibabacloud/credentials";

/// Shape of Developer API error bodies (pam.md §3.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ErrorStyle {
    /// `{"error","error_description","request_id"}`.
    #[default]
    OAuth,
    /// `{"Code","Message","RequestId"}` (Alibaba Cloud POP style).
    Pop,
}

impl ErrorStyle {
    /// Parses `oauth` / `pop` (case-insensitive).
    pub fn parse(s: &str) -> Option<ErrorStyle> {
        match s.to_ascii_lowercase().as_str() {
            "oauth" => Some(ErrorStyle::OAuth),
            "pop" => Some(ErrorStyle::Pop),
            _ => None,
        }
    }
}

/// Client-authentication methods of the core (core.md §5.2); PLUGIN is the built-in
/// `alibabacloudPluginCredentialProvider`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuthMethod {
    /// `CLIENT_SECRET_BASIC`.
    ClientSecretBasic,
    /// `CLIENT_SECRET_POST`.
    ClientSecretPost,
    /// `CLIENT_SECRET_JWT` (HS256 assertion).
    ClientSecretJwt,
    /// `PRIVATE_KEY_JWT` (RS*/ES* assertion).
    PrivateKeyJwt,
    /// `OIDC` (id-token-bearer).
    Oidc,
    /// `PKCS7` (pkcs7-bearer, attested document from the ECS metadata stand-in).
    Pkcs7,
    /// `PCA` (x509-jwt-bearer).
    Pca,
    /// `PLUGIN` `alibabacloudPluginCredentialProvider`: EIAM OpenAPI `GenerateOauthToken` signed
    /// with an Alibaba Cloud key (see [`Emulator::alibaba_cloud_env`]).
    Plugin,
}

impl AuthMethod {
    /// Every method.
    pub const ALL: [AuthMethod; 8] = [
        AuthMethod::ClientSecretBasic,
        AuthMethod::ClientSecretPost,
        AuthMethod::ClientSecretJwt,
        AuthMethod::PrivateKeyJwt,
        AuthMethod::Oidc,
        AuthMethod::Pkcs7,
        AuthMethod::Pca,
        AuthMethod::Plugin,
    ];

    /// The config-file spelling (`authnMethod`), e.g. `CLIENT_SECRET_BASIC`.
    pub fn as_config_str(self) -> &'static str {
        match self {
            AuthMethod::ClientSecretBasic => "CLIENT_SECRET_BASIC",
            AuthMethod::ClientSecretPost => "CLIENT_SECRET_POST",
            AuthMethod::ClientSecretJwt => "CLIENT_SECRET_JWT",
            AuthMethod::PrivateKeyJwt => "PRIVATE_KEY_JWT",
            AuthMethod::Oidc => "OIDC",
            AuthMethod::Pkcs7 => "PKCS7",
            AuthMethod::Pca => "PCA",
            AuthMethod::Plugin => "PLUGIN",
        }
    }

    /// Parses the config-file spelling (case-insensitive, `-` accepted for `_`).
    pub fn parse(s: &str) -> Option<AuthMethod> {
        let u = s.to_ascii_uppercase().replace('-', "_");
        AuthMethod::ALL.into_iter().find(|m| m.as_config_str() == u)
    }
}

/// Which requests a fault applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// The token endpoint.
    Token,
    /// Every Developer API request.
    DeveloperApi,
    /// Developer API requests whose `x-acs-action` header equals this action name.
    DeveloperApiAction(String),
    /// The ECS metadata stand-in (`/latest/...`), the RAM role routes included.
    Metadata,
    /// The EIAM OpenAPI (`GenerateOauthToken`, and requests naming unknown actions).
    OpenApi,
    /// STS (`AssumeRoleWithOIDC`).
    Sts,
    /// The credentials URI document.
    CredentialsUri,
    /// Every request except the control API.
    Any,
}

/// What a fault does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Wait, then answer normally.
    Latency(Duration),
    /// Answer this status (with `Retry-After`/`x-acs-retry-after` and a body when given;
    /// default body: an error JSON in the route's style).
    Status {
        /// HTTP status.
        status: u16,
        /// `Retry-After` seconds.
        retry_after: Option<u32>,
        /// Body text (sent as is).
        body: Option<String>,
    },
    /// Close the connection with SO_LINGER 0 (TCP RST) before answering.
    Reset,
    /// Send the headers and part of the body, then RST.
    ResetMidBody,
    /// Send a Content-Length larger than the bytes sent, then close.
    Truncate,
    /// 200 with a `text/html` body.
    NonJson,
    /// 200 (or the normal status) with the normal JSON minus this top-level field.
    JsonWithout(String),
    /// The normal token reply with `expires_at` one hour in the past.
    ExpiresAtPast,
    /// 200 with a body of this many bytes.
    HugeBody(usize),
    /// 204 No Content.
    NoContent,
    /// 302 with this `Location`.
    Redirect(String),
    /// Close the connection without any response.
    Down,
}

/// A fault and where/how often it applies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultRule {
    /// Which requests.
    pub route: Route,
    /// What happens.
    pub fault: Fault,
    /// Apply to the next N matching requests; `None` = until cleared.
    pub times: Option<u32>,
}

/// One request as received (the request log).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// Raw query string.
    pub query: Option<String>,
    /// Headers with lower-case names, in order.
    pub headers: Vec<(String, String)>,
    /// Body (lossy UTF-8).
    pub body: String,
    /// Decoded form parameters (form bodies, e.g. token requests).
    pub form: Vec<(String, String)>,
    /// Parsed JSON body.
    pub json: Option<Value>,
    /// Status answered; 0 when the connection was closed without a response (faults).
    pub status: u16,
    /// Time of receipt, epoch milliseconds.
    pub time_ms: u64,
    /// The `x-request-id` answered.
    pub request_id: String,
    /// Whether the request came over TLS.
    pub tls: bool,
}

impl RecordedRequest {
    /// A header value (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        let n = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == n)
            .map(|(_, v)| v.as_str())
    }

    /// A form parameter.
    pub fn form_param(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A PCA client certificate issued by the emulator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PcaCredentials {
    /// Leaf certificate PEM (`clientX509Certificate`).
    pub cert_pem: String,
    /// Intermediate certificate PEM (`x509CertChains`).
    pub chain_pem: String,
    /// Leaf private key, PKCS#8 PEM, P-256.
    pub key_pem: String,
}

/// TLS files given by the user instead of the generated CA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// Server certificate chain PEM file.
    pub cert: PathBuf,
    /// Server private key PEM file (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// CA PEM reported by [`Emulator::ca_cert_pem`]; defaults to the certificate file.
    pub ca: Option<PathBuf>,
}

/// Start-up options.
#[derive(Clone, Debug)]
pub struct EmulatorOptions {
    /// Address to bind (default 127.0.0.1).
    pub bind: IpAddr,
    /// Port (0 = chosen by the OS).
    pub port: u16,
    /// Access-token lifetime in seconds (default 1200).
    pub token_lifetime_secs: u64,
    /// Fixtures; `None` = built-in defaults.
    pub fixtures: Option<Fixtures>,
    /// Where to write the CA PEM; `None` = a file in the emulator's temp directory.
    pub ca_cert_out: Option<PathBuf>,
    /// Shape of Developer API error bodies.
    pub error_style: ErrorStyle,
    /// Serve TLS (default true). When false only plain HTTP is served and every URL of the
    /// API (issuer, token endpoint, client configs) uses `http://`.
    pub tls: bool,
    /// Omit `expires_at` from token replies (to test clients against servers without it).
    pub omit_expires_at: bool,
    /// Strict RFC 6749 §2.3.1 Basic credentials: the id and secret of `Authorization: Basic` are
    /// form-decoded before comparison, so a raw secret containing `+`, `%`, `:` or a space fails
    /// (default false: raw and form-encoded credentials are both accepted, D-10).
    pub strict_basic_encoding: bool,
    /// Strict client-assertion audience (FAPI 2.0, the RFC 7523 update): the `aud` of a JWT client
    /// assertion must be the issuer; the token endpoint URL is refused (default false: the token
    /// endpoint URL is required, as IDaaS does).
    pub strict_assertion_audience: bool,
    /// Faults active from the start.
    pub faults: Vec<FaultRule>,
    /// Append every request as a JSON line to this file.
    pub request_log: Option<PathBuf>,
    /// Use these TLS files instead of generating a CA.
    pub tls_files: Option<TlsFiles>,
    /// OIDC token file referenced by `client_config(AuthMethod::Oidc)`; `None` = a file in the
    /// temp directory, pre-filled with a token minted for subject `workload` valid 24 h.
    pub oidc_token_file: Option<PathBuf>,
    /// Lifetime in seconds of the temporary Alibaba Cloud keys issued by STS, the metadata RAM
    /// role and the credentials URI (default 3600; `DurationSeconds` may ask less).
    pub alibaba_sts_lifetime_secs: u64,
}

impl Default for EmulatorOptions {
    fn default() -> Self {
        EmulatorOptions {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            token_lifetime_secs: 1200,
            fixtures: None,
            ca_cert_out: None,
            error_style: ErrorStyle::OAuth,
            tls: true,
            omit_expires_at: false,
            strict_basic_encoding: false,
            strict_assertion_audience: false,
            faults: Vec::new(),
            request_log: None,
            tls_files: None,
            oidc_token_file: None,
            alibaba_sts_lifetime_secs: 3600,
        }
    }
}

/// A start-up failure; `Display` names the offending field or flag.
#[derive(Debug)]
#[non_exhaustive]
pub enum EmulatorError {
    /// The fixtures are invalid.
    Fixtures {
        /// Field path, e.g. `clients[0].publicKeys[1]`.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// An option is invalid.
    Option {
        /// Option name (`bind`, `port`, `tls_files`, ...).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// An I/O failure (binding the port, writing the CA file, ...).
    Io {
        /// What was being done.
        context: String,
        /// The error.
        source: std::io::Error,
    },
}

impl fmt::Display for EmulatorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EmulatorError::Fixtures { message, .. } => write!(f, "invalid fixtures: {message}"),
            EmulatorError::Option { field, message } => {
                write!(f, "invalid option {field}: {message}")
            }
            EmulatorError::Io { context, source } => write!(f, "{context}: {source}"),
        }
    }
}

impl std::error::Error for EmulatorError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            EmulatorError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

fn opt_err(field: &str, message: impl Into<String>) -> EmulatorError {
    EmulatorError::Option {
        field: field.into(),
        message: message.into(),
    }
}

/// A running emulator. Dropping it (or [`Emulator::shutdown`]) stops it and closes the port.
pub struct Emulator {
    state: Arc<State>,
    addr: SocketAddr,
    accept: Option<JoinHandle<()>>,
    temp_dir: Option<PathBuf>,
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("addr", &self.addr)
            .field("instance_id", &self.state.site.instance_id)
            .finish()
    }
}

/// Starts an emulator on a background thread.
pub fn start(opts: EmulatorOptions) -> Result<Emulator, EmulatorError> {
    let fixtures = opts.fixtures.clone().unwrap_or_else(Fixtures::builtin);
    if opts.token_lifetime_secs == 0 {
        return Err(opt_err("token_lifetime_secs", "must be positive"));
    }
    if opts.alibaba_sts_lifetime_secs == 0 {
        return Err(opt_err("alibaba_sts_lifetime_secs", "must be positive"));
    }
    // Before binding, so the warning is there even when the bind fails.
    if let Some(w) = files::non_loopback_warning(opts.bind) {
        eprintln!("{w}");
    }
    let listener = TcpListener::bind((opts.bind, opts.port)).map_err(|e| EmulatorError::Io {
        context: format!("cannot bind {}:{}", opts.bind, opts.port),
        source: e,
    })?;
    let addr = listener.local_addr().map_err(|e| EmulatorError::Io {
        context: "cannot read the bound address".into(),
        source: e,
    })?;
    let host = match opts.bind {
        IpAddr::V4(v4) if v4.is_unspecified() => "127.0.0.1".to_string(),
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) if v6.is_unspecified() => "[::1]".to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    };
    let io = |context: String| move |e| EmulatorError::Io { context, source: e };
    // Fresh, random, 0700: never an existing (possibly planted) directory (files.rs).
    let temp_dir = std::env::temp_dir().join(format!("idaas-emulator-{}", uuid::Uuid::new_v4()));
    files::create_private_dir(&temp_dir)
        .map_err(io(format!("cannot create {}", temp_dir.display())))?;

    let tls_material = match &opts.tls_files {
        Some(files) => {
            let read = |p: &Path, field: &str| {
                std::fs::read_to_string(p)
                    .map_err(|e| opt_err(field, format!("cannot read {}: {e}", p.display())))
            };
            let cert = read(&files.cert, "tls_files.cert")?;
            let key = read(&files.key, "tls_files.key")?;
            let ca = match &files.ca {
                Some(p) => Some(read(p, "tls_files.ca")?),
                None => None,
            };
            pki::load_tls(&cert, &key, ca).map_err(|m| opt_err("tls_files", m))?
        }
        None => pki::generate_tls(opts.bind).map_err(|m| opt_err("tls", m))?,
    };
    // Files: exclusive create, never through a symbolic link, secrets 0600 (files.rs).
    let ca_cert_path = match &opts.ca_cert_out {
        Some(p) => {
            files::write_replace(p, tls_material.ca_pem.as_bytes(), files::PUBLIC).map_err(
                |e| opt_err("ca_cert_out", format!("cannot write {}: {e}", p.display())),
            )?;
            p.clone()
        }
        None => {
            let p = temp_dir.join("ca.pem");
            files::write_new(&p, tls_material.ca_pem.as_bytes(), files::PUBLIC)
                .map_err(io(format!("cannot write {}", p.display())))?;
            p
        }
    };
    let pca = pki::Pca::generate().map_err(|m| opt_err("pca", m))?;
    let pca_root_path = temp_dir.join("pca-root.pem");
    files::write_new(&pca_root_path, pca.root_pem().as_bytes(), files::PUBLIC)
        .map_err(io(format!("cannot write {}", pca_root_path.display())))?;
    let default_pca = pca.issue("app_federated").map_err(|m| opt_err("pca", m))?;
    let log_file = match &opts.request_log {
        Some(p) => Some(
            files::open_private_append(p)
                .map_err(|e| opt_err("request_log", format!("cannot open {}: {e}", p.display())))?,
        ),
        None => None,
    };
    let key = |kid: &str| jwt::EcSigner::generate(kid).map_err(|m| opt_err("keys", m));
    let oidc_token_path = opts
        .oidc_token_file
        .clone()
        .unwrap_or_else(|| temp_dir.join("oidc-token.jwt"));
    let state = Arc::new(State {
        site: Site::new(fixtures.instance_id.clone(), &host, addr.port(), opts.tls),
        keys: Keys {
            token: key("emulator-es256-1")?,
            oidc: key("emulator-oidc-1")?,
            metadata: key("emulator-ecs-1")?,
            pca,
        },
        token: state::token::TokenState::new(
            opts.token_lifetime_secs,
            opts.omit_expires_at,
            opts.strict_basic_encoding,
            opts.strict_assertion_audience,
        ),
        devapi: state::devapi::DevApiState::new(&fixtures, opts.error_style),
        metadata: state::metadata::MetadataState::default(),
        alibaba: state::alibaba::AlibabaState::new(
            &fixtures.alibaba_cloud,
            opts.alibaba_sts_lifetime_secs,
        ),
        fixtures,
        faults: state::FaultRules::new(opts.faults.clone()),
        log: reqlog::RequestLog::new(log_file),
        server: ServerState::new(opts.tls.then(|| tls_material.config.clone())),
        setup: ClientSetup {
            ca_cert_pem: tls_material.ca_pem,
            ca_cert_path,
            pca_root_path,
            oidc_token_path,
            default_pca,
        },
    });
    if opts.oidc_token_file.is_none() {
        let path = &state.setup.oidc_token_path;
        let tok = handlers::discovery::mint_oidc_token(&state, "workload", 86_400);
        files::write_new(path, tok.as_bytes(), files::PRIVATE)
            .map_err(io(format!("cannot write {}", path.display())))?;
    }
    let accept_state = state.clone();
    let accept = std::thread::Builder::new()
        .name("idaas-emulator-accept".into())
        .spawn(move || http::server::accept_loop(accept_state, listener))
        .map_err(io("cannot spawn the accept thread".into()))?;
    Ok(Emulator {
        state,
        addr,
        accept: Some(accept),
        temp_dir: Some(temp_dir),
    })
}

impl Emulator {
    /// `start(EmulatorOptions::default())`, panicking on failure (for tests).
    pub fn start_default() -> Emulator {
        match start(EmulatorOptions::default()) {
            Ok(e) => e,
            Err(e) => panic!("cannot start the IDaaS emulator: {e}"),
        }
    }

    /// The bound socket address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://127.0.0.1:PORT`.
    pub fn https_base_url(&self) -> String {
        self.state.site.https_base.clone()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn http_base_url(&self) -> String {
        self.state.site.http_base.clone()
    }

    /// The issuer (`<https base>/api/v2/iauths_system/oauth2`).
    pub fn issuer(&self) -> String {
        self.state.site.issuer.clone()
    }

    /// The token endpoint (`<issuer>/token`).
    pub fn token_endpoint(&self) -> String {
        self.state.site.token_endpoint()
    }

    /// `127.0.0.1:PORT` (no scheme), for `developerApiEndpoint`.
    pub fn developer_api_endpoint(&self) -> String {
        self.state.site.devapi_endpoint()
    }

    /// `http://127.0.0.1:PORT`: the ECS metadata stand-in.
    pub fn metadata_base_url(&self) -> String {
        self.state.site.http_base.clone()
    }

    /// The instance id.
    pub fn instance_id(&self) -> &str {
        &self.state.site.instance_id
    }

    /// PEM of the CA that signed the TLS server certificate.
    pub fn ca_cert_pem(&self) -> &str {
        &self.state.setup.ca_cert_pem
    }

    /// Path of that PEM on disk.
    pub fn ca_cert_path(&self) -> &Path {
        &self.state.setup.ca_cert_path
    }

    /// PEM of the PCA root CA (trust anchor of `x509-jwt-bearer`).
    pub fn pca_root_pem(&self) -> String {
        self.state.keys.pca.root_pem()
    }

    /// Path of the OIDC token file used by `client_config(AuthMethod::Oidc)`.
    pub fn oidc_token_path(&self) -> &Path {
        &self.state.setup.oidc_token_path
    }

    /// The PCA credentials used by `client_config(AuthMethod::Pca)` (issued at start).
    pub fn default_pca_credentials(&self) -> &PcaCredentials {
        &self.state.setup.default_pca
    }

    /// The seeded client for a method.
    pub fn client_id(&self, method: AuthMethod) -> String {
        client_config::client_for(&self.state, method)
            .map(|c| c.client_id.clone())
            .unwrap_or_default()
    }

    /// The secret of the secret-based clients.
    pub fn client_secret(&self) -> &str {
        client_config::client_for(&self.state, AuthMethod::ClientSecretBasic)
            .and_then(|c| c.client_secret.as_deref())
            .unwrap_or("")
    }

    /// A ready-to-use client config (core.md §2 format) for `method`: https endpoints, scope
    /// `urn:cloud:idaas:pam|.all`, `developerApiEndpoint`, and
    /// `"httpConfiguration": {"caCertificatePath": <ca path>}` (extension: extra CA file).
    /// Secrets and keys come from the env vars [`CLIENT_SECRET_ENV`] / [`PRIVATE_KEY_ENV`],
    /// which the caller sets (for PCA: the key of [`Emulator::default_pca_credentials`]).
    pub fn client_config(&self, method: AuthMethod) -> Value {
        client_config::client_config(&self.state, method)
    }

    /// Everything about this instance as JSON (the `--ready-file` content).
    pub fn info(&self) -> Value {
        client_config::info(&self.state)
    }

    /// TCP connections accepted since start (plain and TLS, including connections refused with 503
    /// at the connection limit). A keep-alive client opens one per thread; benchmarks check that.
    pub fn connections_accepted(&self) -> u64 {
        self.state.server.accepted.load(Ordering::Relaxed)
    }

    /// Adds a fault rule (rules are checked in insertion order; the first match applies).
    pub fn set_fault(&self, rule: FaultRule) {
        self.state.faults.push(rule);
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.state.faults.clear();
    }

    /// The request log (control-API requests are not recorded).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.log.recorded(None)
    }

    /// Empties the request log.
    pub fn clear_requests(&self) {
        self.state.log.clear();
    }

    /// Number of logged requests whose path contains `path_contains`.
    pub fn count_requests(&self, path_contains: &str) -> usize {
        self.state.log.count(path_contains)
    }

    /// A JWT from the trusted OIDC issuer (ES256, `iss` = `<base>/oidc`).
    pub fn mint_oidc_token(&self, subject: &str, lifetime_secs: u64) -> String {
        handlers::discovery::mint_oidc_token(&self.state, subject, lifetime_secs)
    }

    /// Issues a client certificate chained leaf <- intermediate <- PCA root.
    pub fn issue_pca_credentials(&self, common_name: &str) -> PcaCredentials {
        match self.state.keys.pca.issue(common_name) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    /// Sets a 3LO session's status (`pending`, `callback_received`, `completed`, `failed`,
    /// `expired`); accepts the session id or its `urn:ietf:params:oauth:request_uri:` URI.
    /// Unknown sessions or statuses are ignored (see [`Emulator::try_set_session_status`]).
    pub fn set_session_status(&self, session_id: &str, status: &str) {
        let _ = self.try_set_session_status(session_id, status);
    }

    /// Like [`Emulator::set_session_status`], reporting an unknown session or status.
    pub fn try_set_session_status(&self, session_id: &str, status: &str) -> Result<(), String> {
        self.state.devapi.set_session_status(session_id, status)
    }

    /// The ids of all 3LO sessions, oldest first.
    pub fn session_ids(&self) -> Vec<String> {
        self.state.devapi.session_ids()
    }

    /// Sets the lifetime of access tokens issued from now on.
    pub fn set_token_lifetime(&self, secs: u64) {
        self.state.token.set_lifetime(secs.max(1));
    }

    /// `https://127.0.0.1:PORT` (`http://` without TLS): the `openApiEndpoint` of the PLUGIN
    /// config and the STS endpoint (`IDAAS_ALIBABA_CLOUD_STS_ENDPOINT`).
    pub fn alibaba_endpoint(&self) -> String {
        self.state.site.public_base().to_string()
    }

    /// The credentials URI (`ALIBABA_CLOUD_CREDENTIALS_URI`): every GET issues a temporary key.
    pub fn alibaba_credentials_uri(&self) -> String {
        format!(
            "{}{ALIBABA_CREDENTIALS_URI_PATH}",
            self.state.site.public_base()
        )
    }

    /// The fixtures' Alibaba Cloud side (AccessKeys, RAM roles, OIDC provider).
    pub fn alibaba_cloud(&self) -> &AlibabaCloudFixture {
        &self.state.fixtures.alibaba_cloud
    }

    /// The environment variables that make the PLUGIN config of [`Emulator::client_config`] work:
    /// the first long-term AccessKey of the fixtures (`ALIBABA_CLOUD_ACCESS_KEY_ID`,
    /// `ALIBABA_CLOUD_ACCESS_KEY_SECRET`) and the emulator as STS and ECS metadata service
    /// (`IDAAS_ALIBABA_CLOUD_STS_ENDPOINT`, `IDAAS_ALIBABA_CLOUD_ECS_METADATA_ENDPOINT`).
    pub fn alibaba_cloud_env(&self) -> Vec<(String, String)> {
        client_config::alibaba_env(&self.state)
    }

    /// Sets the lifetime of temporary Alibaba Cloud keys issued from now on.
    pub fn set_alibaba_sts_lifetime(&self, secs: u64) {
        self.state.alibaba.set_sts_lifetime(secs);
    }

    /// Number of logged requests for an Alibaba Cloud action (`x-acs-action` header or `Action`
    /// query parameter), e.g. `GenerateOauthToken` or `AssumeRoleWithOIDC`.
    pub fn count_alibaba_action(&self, action: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| {
                r.header("x-acs-action") == Some(action)
                    || r.query
                        .as_deref()
                        .is_some_and(|q| q.split('&').any(|p| p == format!("Action={action}")))
            })
            .count()
    }

    /// Sets the shape of Developer API error bodies.
    pub fn set_error_style(&self, style: ErrorStyle) {
        self.state.devapi.set_error_style(style);
    }

    /// Stops accepting, closes every connection and the port.
    pub fn shutdown(self) {
        drop(self);
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.state.server.shutdown.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let wake = match self.addr.ip() {
            IpAddr::V4(v) if v.is_unspecified() => {
                SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), self.addr.port())
            }
            IpAddr::V6(v) if v.is_unspecified() => {
                SocketAddr::new("::1".parse().expect("literal"), self.addr.port())
            }
            _ => self.addr,
        };
        let _ = TcpStream::connect_timeout(&wake, Duration::from_millis(500));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
        for (_, s) in lock(&self.state.server.conns).drain() {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
        if let Some(d) = self.temp_dir.take() {
            // Keep files the user asked for (they live outside the temp dir anyway).
            let _ = std::fs::remove_dir_all(d);
        }
    }
}
