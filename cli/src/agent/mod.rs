//! `idaas agent`: the host agent (docs/protocol/agent.md). One process holds the core's credential
//! caches and serves them to the local processes of the host over a Unix socket (and optionally a
//! loopback HTTP port).
//!
//! * [`access`]: who may ask (agent.md §3) and where the agent listens (agent.md §1);
//! * [`routes`]: requests and replies (agent.md §2);
//! * [`backend`]: the core clients and their caches (agent.md §4.1);
//! * [`metrics`]: Prometheus text (agent.md §4.4).
//!
//! Runtime (decision D-67): a current-thread tokio runtime runs the listeners and HTTP/1.1 (hyper,
//! decision D-66); core calls, which block, run on tokio's blocking pool (at most
//! [`MAX_BLOCKING_THREADS`] threads). Reload and shutdown: agent.md §5, decision D-68.

pub mod access;
pub mod backend;
pub mod metrics;
pub mod routes;

use access::PeerAllowList;
use backend::{load_config, Backend};
use clap::Args;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use idaas::{Error, SecretString};
use routes::Peer;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::signal::unix::{signal, SignalKind};

/// Threads of the blocking pool that run core calls (decision D-67). Requests beyond wait in its
/// queue; identical uncached requests share one upstream request anyway (agent.md §4.2).
pub const MAX_BLOCKING_THREADS: usize = 16;
/// How long shutdown waits for requests in flight (agent.md §5.2).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// How long a client may take to send a request's head.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// `idaas agent`'s options (agent.md §1).
#[derive(Args, Debug)]
pub struct AgentArgs {
    /// Unix socket to serve on (default: $XDG_RUNTIME_DIR/idaas/agent.sock, else
    /// /run/idaas/agent.sock as root, else /tmp/idaas-<uid>/agent.sock).
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Also serve HTTP on this loopback address: 127.0.0.1:PORT or [::1]:PORT (anything else is
    /// refused). Requests must carry the X-Idaas-Agent-Token header.
    #[arg(long, value_name = "ADDR:PORT")]
    pub http: Option<String>,
    /// The agent token file of the HTTP listener (default: agent.token beside the socket; created
    /// 0600 when missing).
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
    /// Also let this uid use the socket (the agent's own uid and root always may).
    #[arg(long = "allow-uid", value_name = "UID")]
    pub allow_uid: Vec<u32>,
    /// Let peers of this gid use the socket (the socket becomes 0660).
    #[arg(long = "allow-gid", value_name = "GID")]
    pub allow_gid: Vec<u32>,
    /// Most token scopes and most API keys held (each).
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub max_entries: usize,
}

/// What every connection shares.
pub struct Shared {
    backend: RwLock<Arc<Backend>>,
    pub metrics: metrics::Metrics,
    /// The agent token of the HTTP listener (`None`: no HTTP listener).
    pub http_token: Option<SecretString>,
    shutting_down: AtomicBool,
    config_path: Option<PathBuf>,
    max_entries: usize,
}

impl Shared {
    /// The current generation of clients (a reload swaps it; requests keep the one they took).
    pub fn backend(&self) -> Arc<Backend> {
        self.backend
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Relaxed)
    }
}

/// Runs the agent until `SIGTERM`/`SIGINT`.
pub fn run(config: Option<&PathBuf>, args: AgentArgs) -> idaas::Result<()> {
    // The agent never runs in agent mode (agent.md §6): it would ask itself. The variable is
    // meant for the host's other processes; it is dropped here, before any thread starts, and a
    // configuration file that sets `agentSocket` is refused by `backend::load_config`.
    std::env::remove_var(idaas::AGENT_SOCKET_ENV);
    // agent.md §1: refused before anything is bound (exit status 2: invalid_argument).
    let http_addr = args
        .http
        .as_deref()
        .map(access::parse_http_addr)
        .transpose()?;
    if args.max_entries == 0 {
        return Err(Error::invalid_argument("--max-entries must be at least 1"));
    }
    let euid = rustix::process::geteuid().as_raw();
    let socket = args.socket.clone().unwrap_or_else(|| {
        access::default_socket_path(std::env::var_os("XDG_RUNTIME_DIR").as_deref(), euid)
    });
    let group_access = !args.allow_gid.is_empty();
    let dir = socket.parent().map(Path::to_path_buf).unwrap_or_default();

    // agent.md §1: read the configuration and build the clients; no token yet.
    let (cfg, fingerprint) = load_config(config.map(PathBuf::as_path))?;
    let backend = Backend::new(cfg, fingerprint, args.max_entries)?;

    access::ensure_socket_dir(&dir, group_access)?;
    let http_token = match http_addr {
        Some(_) => {
            let path = args
                .token_file
                .clone()
                .unwrap_or_else(|| dir.join("agent.token"));
            Some(access::load_or_create_token(&path, euid)?)
        }
        None => None,
    };
    let shared = Arc::new(Shared {
        backend: RwLock::new(Arc::new(backend)),
        metrics: metrics::Metrics::default(),
        http_token,
        shutting_down: AtomicBool::new(false),
        config_path: config.cloned(),
        max_entries: args.max_entries,
    });
    let allow = PeerAllowList::new(euid, &args.allow_uid, &args.allow_gid);

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .thread_keep_alive(Duration::from_secs(30))
        .thread_name("idaas-agent-worker")
        .build()
        .map_err(|e| Error::internal(format!("cannot start the agent's runtime: {e}")))?;
    let result = rt.block_on(serve(
        shared,
        socket,
        group_access,
        &args.allow_gid,
        allow,
        http_addr,
    ));
    // Blocking calls still running after the grace period are abandoned (the process exits).
    rt.shutdown_timeout(Duration::from_millis(500));
    result
}

/// Binds the Unix socket (agent.md §1): stale file replaced, mode 0600 (0660 with
/// `--allow-gid`), group set when exactly one `--allow-gid` is given.
fn bind_socket(
    path: &Path,
    group_access: bool,
    allow_gid: &[u32],
) -> idaas::Result<tokio::net::UnixListener> {
    access::clear_stale_socket(path)?;
    let mode = if group_access { 0o660 } else { 0o600 };
    // The umask covers the instant between bind and chmod.
    let old = rustix::process::umask(rustix::fs::Mode::from_bits_truncate(0o777 & !mode));
    let bound = std::os::unix::net::UnixListener::bind(path);
    rustix::process::umask(old);
    let std_listener = bound.map_err(|e| {
        Error::config(
            "AgentSocket",
            format!("cannot listen on {}: {e}", path.display()),
        )
    })?;
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
    if let [gid] = allow_gid {
        if let Err(e) = std::os::unix::fs::chown(path, None, Some(*gid)) {
            log::warn!("agent: cannot give the socket to group {gid}: {e}");
        }
    }
    std_listener
        .set_nonblocking(true)
        .and_then(|()| tokio::net::UnixListener::from_std(std_listener))
        .map_err(|e| Error::internal(format!("cannot register the socket: {e}")))
}

async fn serve(
    shared: Arc<Shared>,
    socket: PathBuf,
    group_access: bool,
    allow_gid: &[u32],
    allow: PeerAllowList,
    http_addr: Option<SocketAddr>,
) -> idaas::Result<()> {
    let sig = |k: SignalKind| {
        signal(k).map_err(|e| Error::internal(format!("cannot handle signals: {e}")))
    };
    let (mut hup, mut term, mut int) = (
        sig(SignalKind::hangup())?,
        sig(SignalKind::terminate())?,
        sig(SignalKind::interrupt())?,
    );
    let unix = bind_socket(&socket, group_access, allow_gid)?;
    log::info!("agent: listening on unix socket {}", socket.display());
    let tcp = match http_addr {
        Some(addr) => {
            let l = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
                let _ = std::fs::remove_file(&socket);
                Error::config("AgentHttp", format!("cannot listen on {addr}: {e}"))
            })?;
            let local = l.local_addr().unwrap_or(addr);
            log::info!("agent: listening on http://{local}");
            Some(l)
        }
        None => None,
    };

    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            r = unix.accept() => match r {
                Ok((stream, _)) => {
                    let peer = match stream.peer_cred() {
                        Ok(c) => Peer::Unix { uid: c.uid(), gid: c.gid(), allowed: allow.allows(c.uid(), c.gid()) },
                        // No credentials: refused like a stranger.
                        Err(_) => Peer::Unix { uid: u32::MAX, gid: u32::MAX, allowed: false },
                    };
                    serve_connection(stream, peer, &shared, &graceful);
                }
                Err(e) => { log::warn!("agent: accept on the socket failed: {e}"); tokio::time::sleep(Duration::from_millis(50)).await; }
            },
            r = accept_tcp(tcp.as_ref()) => match r {
                Ok((stream, addr)) => {
                    let _ = stream.set_nodelay(true);
                    serve_connection(stream, Peer::Http { port: addr.port() }, &shared, &graceful);
                }
                Err(e) => { log::warn!("agent: accept on the HTTP port failed: {e}"); tokio::time::sleep(Duration::from_millis(50)).await; }
            },
            _ = hup.recv() => { tokio::spawn(reload(shared.clone())); }
            _ = term.recv() => break,
            _ = int.recv() => break,
        }
    }

    // agent.md §5.2: stop accepting, let requests in flight finish, remove the socket, exit 0.
    log::info!("agent: shutting down");
    shared.shutting_down.store(true, Ordering::Relaxed);
    drop(unix);
    drop(tcp);
    if let Err(e) = std::fs::remove_file(&socket) {
        log::warn!("agent: cannot remove {}: {e}", socket.display());
    }
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        log::warn!(
            "agent: requests still in flight after {}s; exiting anyway",
            SHUTDOWN_GRACE.as_secs()
        );
    }
    log::info!("agent: stopped");
    Ok(())
}

async fn accept_tcp(
    l: Option<&tokio::net::TcpListener>,
) -> std::io::Result<(tokio::net::TcpStream, SocketAddr)> {
    match l {
        Some(l) => l.accept().await,
        None => std::future::pending().await,
    }
}

fn serve_connection<I>(io: I, peer: Peer, shared: &Arc<Shared>, graceful: &GracefulShutdown)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let shared = shared.clone();
    let svc = hyper::service::service_fn(move |req| {
        let shared = shared.clone();
        async move { Ok::<_, std::convert::Infallible>(routes::handle(req, peer, shared).await) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .serve_connection(TokioIo::new(io), svc);
    let conn = graceful.watch(conn);
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            log::debug!("agent: connection from {peer} ended: {e}");
        }
    });
}

/// `SIGHUP` (agent.md §5.1): unchanged configuration → nothing; changed → new clients for new
/// requests, readiness restarts; invalid → keep serving with the old one.
async fn reload(shared: Arc<Shared>) {
    let s = shared.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let (cfg, fp) = load_config(s.config_path.as_deref())?;
        if fp == s.backend().fingerprint {
            return Ok(None);
        }
        Backend::new(cfg, fp, s.max_entries).map(Some)
    })
    .await
    .unwrap_or_else(|e| Err(Error::internal(format!("reload failed: {e}"))));
    match outcome {
        Ok(None) => {
            shared.metrics.reload("unchanged");
            log::info!("agent: reload: configuration unchanged; caches kept");
        }
        Ok(Some(b)) => {
            *shared.backend.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(b);
            shared.metrics.reload("changed");
            log::info!("agent: reload: configuration changed; new clients in use");
        }
        Err(e) => {
            shared.metrics.reload("error");
            log::warn!(
                "agent: reload failed, still serving with the previous configuration: {} ({})",
                e,
                e.kind().as_str()
            );
        }
    }
}
