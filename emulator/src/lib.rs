//! `idaas-emulator`: a local IDaaS server for tests and offline development.
//!
//! One loopback port serves HTTPS and plain HTTP (the first byte of each connection decides):
//! the OAuth 2.0 token endpoint with every client-authentication method of the IDaaS M2M core
//! and RFC 8693 token exchange, JWKS and OIDC discovery, the PAM Developer API (version
//! 2022-02-25), an ECS instance-metadata stand-in, and a control API under `/_emulator/`.
//! Faults (latency, error statuses, resets, truncated or malformed bodies, ...) can be injected
//! per route. See `emulator/README.md` for the wire details and the decisions taken.
//!
//! ```no_run
//! let emu = idaas_emulator::Emulator::start_default();
//! println!("token endpoint: {}", emu.token_endpoint());
//! ```
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod bearer;
mod control;
mod devapi;
mod faults;
pub mod files;
mod fixtures;
mod http;
mod jwt;
mod metadata;
mod pki;
mod reqlog;
mod token;
mod util;

pub use faults::parse_fault_spec;
pub use fixtures::{
    ClientFixture, CredentialFixture, FederatedCredential, FederatedKind, Fixtures,
    ProviderFixture, ProviderKind,
};

use serde_json::{json, Value};
use std::collections::HashMap;
use std::fmt;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

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

/// Client-authentication methods of the core (core.md §5.2), minus PLUGIN.
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
}

impl AuthMethod {
    /// Every method.
    pub const ALL: [AuthMethod; 7] = [
        AuthMethod::ClientSecretBasic,
        AuthMethod::ClientSecretPost,
        AuthMethod::ClientSecretJwt,
        AuthMethod::PrivateKeyJwt,
        AuthMethod::Oidc,
        AuthMethod::Pkcs7,
        AuthMethod::Pca,
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
    /// The ECS metadata stand-in (`/latest/...`).
    Metadata,
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

/// Locks a mutex, ignoring poisoning (a panicking handler must not wedge the server).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

type ClientPredicate = Box<dyn Fn(&ClientFixture) -> bool>;

/// Shared server state.
pub(crate) struct Inner {
    pub instance_id: String,
    pub port: u16,
    pub https_base: String,
    pub http_base: String,
    /// `issuer()`, computed once (it is compared on every Developer API request).
    pub issuer_url: String,
    pub tls_enabled: bool,
    pub tls: Option<Arc<rustls::ServerConfig>>,
    pub token_key: jwt::EcSigner,
    pub oidc_key: jwt::EcSigner,
    pub metadata_key: jwt::EcSigner,
    pub pca: pki::Pca,
    pub fixtures: Fixtures,
    pub token_lifetime: AtomicU64,
    pub error_style: AtomicU8,
    pub omit_expires_at: bool,
    pub strict_basic_encoding: bool,
    pub strict_assertion_audience: bool,
    pub faults: Mutex<Vec<FaultRule>>,
    pub log: Mutex<reqlog::RequestLog>,
    pub log_file: Option<Mutex<std::fs::File>>,
    pub jtis: Mutex<HashMap<String, u64>>,
    pub metadata_tokens: Mutex<HashMap<String, (u64, u64)>>,
    pub dev: Mutex<devapi::DevState>,
    /// Developer API bearer tokens whose signature has been verified (see `bearer`).
    pub bearer: bearer::BearerCache,
    pub shutdown: AtomicBool,
    pub conns: Mutex<HashMap<u64, TcpStream>>,
    pub conn_count: AtomicUsize,
    pub next_conn: AtomicU64,
    /// TCP connections accepted since start (including ones refused with 503 at the limit).
    pub connections_accepted: AtomicU64,
    pub ca_cert_pem: String,
    pub ca_cert_path: PathBuf,
    pub oidc_token_path: PathBuf,
    pub default_pca: PcaCredentials,
    pub pca_root_path: PathBuf,
}

impl Inner {
    /// The base URL used in issued tokens and configs (https unless TLS is off).
    pub fn public_base(&self) -> &str {
        if self.tls_enabled {
            &self.https_base
        } else {
            &self.http_base
        }
    }

    /// The issuer URL.
    pub fn issuer(&self) -> String {
        self.issuer_url.clone()
    }

    /// `host:port` of the Developer API (no scheme).
    pub fn devapi_endpoint(&self) -> String {
        self.https_base
            .strip_prefix("https://")
            .unwrap_or(&self.https_base)
            .to_string()
    }

    /// The trusted OIDC issuer URL.
    pub fn oidc_issuer(&self) -> String {
        format!("{}/oidc", self.public_base())
    }

    pub fn error_style(&self) -> ErrorStyle {
        if self.error_style.load(Ordering::Relaxed) == 1 {
            ErrorStyle::Pop
        } else {
            ErrorStyle::OAuth
        }
    }

    pub fn set_error_style(&self, s: ErrorStyle) {
        self.error_style
            .store(if s == ErrorStyle::Pop { 1 } else { 0 }, Ordering::Relaxed);
    }

    /// Mints a token from the trusted OIDC issuer.
    pub fn mint_oidc(&self, subject: &str, lifetime: u64) -> String {
        let now = util::now_secs();
        self.oidc_key.sign(
            "JWT",
            &json!({
                "iss": self.oidc_issuer(), "sub": subject, "aud": "idaas-emulator",
                "iat": now, "nbf": now, "exp": now + lifetime, "jti": uuid::Uuid::new_v4().to_string(),
            }),
        )
    }

    /// The client used for a method.
    pub fn client_for(&self, method: AuthMethod) -> Option<&ClientFixture> {
        let (preferred, pred): (&str, ClientPredicate) = match method {
            AuthMethod::ClientSecretBasic
            | AuthMethod::ClientSecretPost
            | AuthMethod::ClientSecretJwt => {
                ("app_secret", Box::new(|c| c.client_secret.is_some()))
            }
            AuthMethod::PrivateKeyJwt => ("app_pkjwt", Box::new(|c| !c.public_keys.is_empty())),
            AuthMethod::Oidc | AuthMethod::Pkcs7 | AuthMethod::Pca => {
                let kind = match method {
                    AuthMethod::Oidc => FederatedKind::Oidc,
                    AuthMethod::Pkcs7 => FederatedKind::Pkcs7,
                    _ => FederatedKind::Pca,
                };
                (
                    "app_federated",
                    Box::new(move |c| c.federated_credentials.iter().any(|f| f.kind == kind)),
                )
            }
        };
        let cs = &self.fixtures.clients;
        cs.iter()
            .find(|c| c.client_id == preferred && pred(c))
            .or_else(|| cs.iter().find(|c| pred(c)))
    }

    /// The client config JSON for a method.
    pub fn client_config(&self, method: AuthMethod) -> Value {
        let client = self.client_for(method);
        let client_id = client.map(|c| c.client_id.clone()).unwrap_or_default();
        let fed_name = |kind: FederatedKind| {
            client
                .and_then(|c| c.federated_credentials.iter().find(|f| f.kind == kind))
                .map(|f| f.name.clone())
                .unwrap_or_default()
        };
        let mut authn = serde_json::Map::new();
        authn.insert("identityType".into(), json!("CLIENT"));
        authn.insert("authnMethod".into(), json!(method.as_config_str()));
        match method {
            AuthMethod::ClientSecretBasic
            | AuthMethod::ClientSecretPost
            | AuthMethod::ClientSecretJwt => {
                authn.insert("clientSecretEnvVarName".into(), json!(CLIENT_SECRET_ENV));
            }
            AuthMethod::PrivateKeyJwt => {
                authn.insert("privateKeyEnvVarName".into(), json!(PRIVATE_KEY_ENV));
            }
            AuthMethod::Oidc => {
                authn.insert(
                    "applicationFederatedCredentialName".into(),
                    json!(fed_name(FederatedKind::Oidc)),
                );
                authn.insert("clientDeployEnvironment".into(), json!("KUBERNETES"));
                authn.insert(
                    "oidcTokenFilePath".into(),
                    json!(self.oidc_token_path.to_string_lossy()),
                );
            }
            AuthMethod::Pkcs7 => {
                authn.insert(
                    "applicationFederatedCredentialName".into(),
                    json!(fed_name(FederatedKind::Pkcs7)),
                );
                authn.insert("clientDeployEnvironment".into(), json!("ALIBABA_CLOUD_ECS"));
            }
            AuthMethod::Pca => {
                authn.insert(
                    "applicationFederatedCredentialName".into(),
                    json!(fed_name(FederatedKind::Pca)),
                );
                authn.insert(
                    "clientX509Certificate".into(),
                    json!(self.default_pca.cert_pem),
                );
                authn.insert("x509CertChains".into(), json!(self.default_pca.chain_pem));
                authn.insert("privateKeyEnvVarName".into(), json!(PRIVATE_KEY_ENV));
            }
        }
        json!({
            "idaasInstanceId": self.instance_id,
            "clientId": client_id,
            "issuer": self.issuer(),
            "tokenEndpoint": format!("{}{TOKEN_PATH}", self.public_base()),
            "scope": PAM_SCOPE,
            "developerApiEndpoint": self.devapi_endpoint(),
            "authnConfiguration": Value::Object(authn),
            "httpConfiguration": {"caCertificatePath": self.ca_cert_path.to_string_lossy()},
        })
    }

    /// Everything a test suite needs to know (ready file, `GET /_emulator/info`).
    pub fn info(&self) -> Value {
        let mut configs = serde_json::Map::new();
        let mut clients = serde_json::Map::new();
        for m in AuthMethod::ALL {
            configs.insert(m.as_config_str().into(), self.client_config(m));
            clients.insert(
                m.as_config_str().into(),
                json!(self.client_for(m).map(|c| c.client_id.clone())),
            );
        }
        json!({
            "httpsBaseUrl": self.https_base,
            "httpBaseUrl": self.http_base,
            "issuer": self.issuer(),
            "tokenEndpoint": format!("{}{TOKEN_PATH}", self.public_base()),
            "jwksUri": format!("{}/jwks", self.issuer()),
            "developerApiEndpoint": self.devapi_endpoint(),
            "metadataBaseUrl": self.http_base,
            "instanceId": self.instance_id,
            "caCertPath": self.ca_cert_path.to_string_lossy(),
            "pcaRootCertPath": self.pca_root_path.to_string_lossy(),
            "clientSecret": self.client_for(AuthMethod::ClientSecretBasic).and_then(|c| c.client_secret.clone()),
            "oidcTokenFilePath": self.oidc_token_path.to_string_lossy(),
            "pcaCredentials": {
                "certPem": self.default_pca.cert_pem,
                "chainPem": self.default_pca.chain_pem,
                "keyPem": self.default_pca.key_pem,
            },
            "clientIds": clients,
            "clientConfigs": configs,
            "connectionsAccepted": self.connections_accepted.load(Ordering::Relaxed),
        })
    }

    /// Appends to the request log (memory + file).
    pub fn record(&self, e: reqlog::LogEntry) {
        if let Some(f) = &self.log_file {
            if let Ok(line) = serde_json::to_string(&e.recorded()) {
                let mut f = lock(f);
                let _ = writeln!(f, "{line}");
            }
        }
        // Bounded: keeps the newest 100k entries.
        lock(&self.log).push(e);
    }
}

/// A running emulator. Dropping it (or [`Emulator::shutdown`]) stops it and closes the port.
pub struct Emulator {
    inner: Arc<Inner>,
    addr: SocketAddr,
    accept: Option<JoinHandle<()>>,
    temp_dir: Option<PathBuf>,
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("addr", &self.addr)
            .field("instance_id", &self.inner.instance_id)
            .finish()
    }
}

/// Starts an emulator on a background thread.
pub fn start(opts: EmulatorOptions) -> Result<Emulator, EmulatorError> {
    let fixtures = opts.fixtures.clone().unwrap_or_else(Fixtures::builtin);
    if opts.token_lifetime_secs == 0 {
        return Err(opt_err("token_lifetime_secs", "must be positive"));
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
    let port = addr.port();
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
        Some(p) => Some(Mutex::new(files::open_private_append(p).map_err(|e| {
            opt_err("request_log", format!("cannot open {}: {e}", p.display()))
        })?)),
        None => None,
    };
    let key = |kid: &str| jwt::EcSigner::generate(kid).map_err(|m| opt_err("keys", m));
    let oidc_token_path = opts
        .oidc_token_file
        .clone()
        .unwrap_or_else(|| temp_dir.join("oidc-token.jwt"));
    let dev = devapi::DevState::new(&fixtures);
    let https_base = format!("https://{host}:{port}");
    let http_base = format!("http://{host}:{port}");
    let inner = Arc::new(Inner {
        instance_id: fixtures.instance_id.clone(),
        port,
        issuer_url: format!(
            "{}{ISSUER_PATH}",
            if opts.tls { &https_base } else { &http_base }
        ),
        https_base,
        http_base,
        tls_enabled: opts.tls,
        tls: if opts.tls {
            Some(tls_material.config.clone())
        } else {
            None
        },
        token_key: key("emulator-es256-1")?,
        oidc_key: key("emulator-oidc-1")?,
        metadata_key: key("emulator-ecs-1")?,
        pca,
        fixtures,
        token_lifetime: AtomicU64::new(opts.token_lifetime_secs),
        error_style: AtomicU8::new(0),
        omit_expires_at: opts.omit_expires_at,
        strict_basic_encoding: opts.strict_basic_encoding,
        strict_assertion_audience: opts.strict_assertion_audience,
        faults: Mutex::new(opts.faults.clone()),
        log: Mutex::new(reqlog::RequestLog::default()),
        log_file,
        jtis: Mutex::new(HashMap::new()),
        metadata_tokens: Mutex::new(HashMap::new()),
        dev: Mutex::new(dev),
        bearer: bearer::BearerCache::default(),
        shutdown: AtomicBool::new(false),
        conns: Mutex::new(HashMap::new()),
        conn_count: AtomicUsize::new(0),
        next_conn: AtomicU64::new(1),
        connections_accepted: AtomicU64::new(0),
        ca_cert_pem: tls_material.ca_pem,
        ca_cert_path,
        oidc_token_path,
        default_pca,
        pca_root_path,
    });
    inner.set_error_style(opts.error_style);
    if opts.oidc_token_file.is_none() {
        let tok = inner.mint_oidc("workload", 86_400);
        files::write_new(&inner.oidc_token_path, tok.as_bytes(), files::PRIVATE).map_err(io(
            format!("cannot write {}", inner.oidc_token_path.display()),
        ))?;
    }
    let accept_inner = inner.clone();
    let accept = std::thread::Builder::new()
        .name("idaas-emulator-accept".into())
        .spawn(move || http::accept_loop(accept_inner, listener))
        .map_err(io("cannot spawn the accept thread".into()))?;
    Ok(Emulator {
        inner,
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
        self.inner.https_base.clone()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn http_base_url(&self) -> String {
        self.inner.http_base.clone()
    }

    /// The issuer (`<https base>/api/v2/iauths_system/oauth2`).
    pub fn issuer(&self) -> String {
        self.inner.issuer()
    }

    /// The token endpoint (`<issuer>/token`).
    pub fn token_endpoint(&self) -> String {
        format!("{}{TOKEN_PATH}", self.inner.public_base())
    }

    /// `127.0.0.1:PORT` (no scheme), for `developerApiEndpoint`.
    pub fn developer_api_endpoint(&self) -> String {
        self.inner.devapi_endpoint()
    }

    /// `http://127.0.0.1:PORT`: the ECS metadata stand-in.
    pub fn metadata_base_url(&self) -> String {
        self.inner.http_base.clone()
    }

    /// The instance id.
    pub fn instance_id(&self) -> &str {
        &self.inner.instance_id
    }

    /// PEM of the CA that signed the TLS server certificate.
    pub fn ca_cert_pem(&self) -> &str {
        &self.inner.ca_cert_pem
    }

    /// Path of that PEM on disk.
    pub fn ca_cert_path(&self) -> &Path {
        &self.inner.ca_cert_path
    }

    /// PEM of the PCA root CA (trust anchor of `x509-jwt-bearer`).
    pub fn pca_root_pem(&self) -> String {
        self.inner.pca.root_pem()
    }

    /// Path of the OIDC token file used by `client_config(AuthMethod::Oidc)`.
    pub fn oidc_token_path(&self) -> &Path {
        &self.inner.oidc_token_path
    }

    /// The PCA credentials used by `client_config(AuthMethod::Pca)` (issued at start).
    pub fn default_pca_credentials(&self) -> &PcaCredentials {
        &self.inner.default_pca
    }

    /// The seeded client for a method.
    pub fn client_id(&self, method: AuthMethod) -> String {
        self.inner
            .client_for(method)
            .map(|c| c.client_id.clone())
            .unwrap_or_default()
    }

    /// The secret of the secret-based clients.
    pub fn client_secret(&self) -> &str {
        self.inner
            .client_for(AuthMethod::ClientSecretBasic)
            .and_then(|c| c.client_secret.as_deref())
            .unwrap_or("")
    }

    /// A ready-to-use client config (core.md §2 format) for `method`: https endpoints, scope
    /// `urn:cloud:idaas:pam|.all`, `developerApiEndpoint`, and
    /// `"httpConfiguration": {"caCertificatePath": <ca path>}` (extension: extra CA file).
    /// Secrets and keys come from the env vars [`CLIENT_SECRET_ENV`] / [`PRIVATE_KEY_ENV`],
    /// which the caller sets (for PCA: the key of [`Emulator::default_pca_credentials`]).
    pub fn client_config(&self, method: AuthMethod) -> Value {
        self.inner.client_config(method)
    }

    /// Everything about this instance as JSON (the `--ready-file` content).
    pub fn info(&self) -> Value {
        self.inner.info()
    }

    /// TCP connections accepted since start (plain and TLS, including connections refused with 503
    /// at the connection limit). A keep-alive client opens one per thread; benchmarks check that.
    pub fn connections_accepted(&self) -> u64 {
        self.inner.connections_accepted.load(Ordering::Relaxed)
    }

    /// Adds a fault rule (rules are checked in insertion order; the first match applies).
    pub fn set_fault(&self, rule: FaultRule) {
        lock(&self.inner.faults).push(rule);
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        lock(&self.inner.faults).clear();
    }

    /// The request log (control-API requests are not recorded).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.inner.log)
            .iter()
            .map(reqlog::LogEntry::recorded)
            .collect()
    }

    /// Empties the request log.
    pub fn clear_requests(&self) {
        lock(&self.inner.log).clear();
    }

    /// Number of logged requests whose path contains `path_contains`.
    pub fn count_requests(&self, path_contains: &str) -> usize {
        lock(&self.inner.log)
            .iter()
            .filter(|r| r.path.contains(path_contains))
            .count()
    }

    /// A JWT from the trusted OIDC issuer (ES256, `iss` = `<base>/oidc`).
    pub fn mint_oidc_token(&self, subject: &str, lifetime_secs: u64) -> String {
        self.inner.mint_oidc(subject, lifetime_secs)
    }

    /// Issues a client certificate chained leaf <- intermediate <- PCA root.
    pub fn issue_pca_credentials(&self, common_name: &str) -> PcaCredentials {
        match self.inner.pca.issue(common_name) {
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
        lock(&self.inner.dev).set_session_status(session_id, status)
    }

    /// The ids of all 3LO sessions, oldest first.
    pub fn session_ids(&self) -> Vec<String> {
        lock(&self.inner.dev).session_ids()
    }

    /// Sets the lifetime of access tokens issued from now on.
    pub fn set_token_lifetime(&self, secs: u64) {
        self.inner
            .token_lifetime
            .store(secs.max(1), Ordering::Relaxed);
    }

    /// Sets the shape of Developer API error bodies.
    pub fn set_error_style(&self, style: ErrorStyle) {
        self.inner.set_error_style(style);
    }

    /// Stops accepting, closes every connection and the port.
    pub fn shutdown(self) {
        drop(self);
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.inner.shutdown.store(true, Ordering::SeqCst);
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
        for (_, s) in lock(&self.inner.conns).drain() {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
        if let Some(d) = self.temp_dir.take() {
            // Keep files the user asked for (they live outside the temp dir anyway).
            let _ = std::fs::remove_dir_all(d);
        }
    }
}
