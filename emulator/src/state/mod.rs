//! The emulator's state: a small top-level [`State`] owning one part per job.
//!
//! What every area reads — the addresses ([`Site`]), the signing keys ([`Keys`]) and the
//! fixtures — is fixed at start-up and needs no lock. What changes belongs to one area and has
//! its own struct and locks: the token endpoint ([`token::TokenState`]), the Developer API
//! ([`devapi::DevApiState`]), the ECS metadata stand-in ([`metadata::MetadataState`]), the Alibaba
//! Cloud stand-ins ([`alibaba::AlibabaState`]), the fault
//! rules ([`FaultRules`]), the request log and the connections ([`ServerState`]). Handlers
//! depend on this module; it depends on no handler.

pub(crate) mod alibaba;
pub(crate) mod devapi;
pub(crate) mod metadata;
pub(crate) mod token;

use crate::fixtures::Fixtures;
use crate::jwt::EcSigner;
use crate::pki::Pca;
use crate::reqlog::RequestLog;
use crate::util::lock;
use crate::{Fault, FaultRule, PcaCredentials, Route, ISSUER_PATH, TOKEN_PATH};
use std::collections::HashMap;
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex};

/// Shared server state (one per emulator, behind an `Arc`).
pub(crate) struct State {
    pub site: Site,
    pub keys: Keys,
    pub fixtures: Fixtures,
    pub token: token::TokenState,
    pub devapi: devapi::DevApiState,
    pub metadata: metadata::MetadataState,
    pub alibaba: alibaba::AlibabaState,
    pub faults: FaultRules,
    pub log: RequestLog,
    pub server: ServerState,
    pub setup: ClientSetup,
}

/// Where the emulator is reached, and the URLs derived from that.
pub(crate) struct Site {
    /// The IDaaS instance id (Developer API path segment, PKCS7 audience).
    pub instance_id: String,
    pub port: u16,
    pub https_base: String,
    pub http_base: String,
    /// Whether TLS is served (the advertised URLs then use https).
    pub tls: bool,
    /// Computed once: it is compared on every Developer API request.
    pub issuer: String,
}

impl Site {
    /// The addresses of an emulator on `host:port`.
    pub fn new(instance_id: String, host: &str, port: u16, tls: bool) -> Site {
        let https_base = format!("https://{host}:{port}");
        let http_base = format!("http://{host}:{port}");
        let issuer = format!(
            "{}{ISSUER_PATH}",
            if tls { &https_base } else { &http_base }
        );
        Site {
            instance_id,
            port,
            https_base,
            http_base,
            tls,
            issuer,
        }
    }

    /// The base URL used in issued tokens and configs (https unless TLS is off).
    pub fn public_base(&self) -> &str {
        if self.tls {
            &self.https_base
        } else {
            &self.http_base
        }
    }

    /// The token endpoint URL.
    pub fn token_endpoint(&self) -> String {
        format!("{}{TOKEN_PATH}", self.public_base())
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
}

/// Keys and CAs generated at start.
pub(crate) struct Keys {
    /// Signs access tokens, exchanged ID tokens and Developer API JWTs (the issuer's JWKS).
    pub token: EcSigner,
    /// The trusted OIDC issuer's key (`OIDC` client authentication, exchange subjects).
    pub oidc: EcSigner,
    /// Signs the ECS metadata stand-in's attested documents.
    pub metadata: EcSigner,
    /// The PCA hierarchy (`x509-jwt-bearer`).
    pub pca: Pca,
}

/// What a client needs to be pointed at this emulator (client configs, ready file).
pub(crate) struct ClientSetup {
    pub ca_cert_pem: String,
    pub ca_cert_path: PathBuf,
    pub pca_root_path: PathBuf,
    pub oidc_token_path: PathBuf,
    /// The PCA credentials of `client_config(AuthMethod::Pca)`.
    pub default_pca: PcaCredentials,
}

/// The fault rules, checked in insertion order.
pub(crate) struct FaultRules(Mutex<Vec<FaultRule>>);

impl FaultRules {
    /// Rules active from the start.
    pub fn new(rules: Vec<FaultRule>) -> FaultRules {
        FaultRules(Mutex::new(rules))
    }

    /// Adds a rule after the others.
    pub fn push(&self, rule: FaultRule) {
        lock(&self.0).push(rule);
    }

    /// Removes every rule.
    pub fn clear(&self) {
        lock(&self.0).clear();
    }

    /// The rules, in order.
    pub fn list(&self) -> Vec<FaultRule> {
        lock(&self.0).clone()
    }

    /// The fault of the first rule whose route `matches`, consuming one use of it.
    pub fn take(&self, matches: impl Fn(&Route) -> bool) -> Option<Fault> {
        let mut faults = lock(&self.0);
        let idx = faults.iter().position(|r| matches(&r.route))?;
        let fault = faults[idx].fault.clone();
        if let Some(t) = faults[idx].times.as_mut() {
            *t = t.saturating_sub(1);
            if *t == 0 {
                faults.remove(idx);
            }
        }
        Some(fault)
    }
}

/// The listener's state: TLS configuration, open connections, shutdown flag.
pub(crate) struct ServerState {
    /// `None` when TLS is off: a TLS ClientHello is then dropped.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    pub shutdown: AtomicBool,
    /// Open connections, so shutdown can close them.
    pub conns: Mutex<HashMap<u64, TcpStream>>,
    pub conn_count: AtomicUsize,
    pub next_conn: AtomicU64,
    /// TCP connections accepted since start (including ones refused with 503 at the limit).
    pub accepted: AtomicU64,
}

impl ServerState {
    /// A server with no connection yet.
    pub fn new(tls: Option<Arc<rustls::ServerConfig>>) -> ServerState {
        ServerState {
            tls,
            shutdown: AtomicBool::new(false),
            conns: Mutex::new(HashMap::new()),
            conn_count: AtomicUsize::new(0),
            next_conn: AtomicU64::new(1),
            accepted: AtomicU64::new(0),
        }
    }
}
