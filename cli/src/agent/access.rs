//! Who may ask (agent.md §3) and where the agent listens (agent.md §1): the loopback check
//! of `--http`, the agent token file, the Unix peer allow-list and the browser check.
//!
//! Every check here is a plain function of its inputs, so the refusals are unit-tested without
//! sockets (the tests run as one uid; the allow-list is tested on numbers).

use base64::Engine;
use idaas::{Error, SecretString};
use std::fs::OpenOptions;
use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The header that carries the agent token on the HTTP listener (agent.md §3.1).
pub const TOKEN_HEADER: &str = "x-idaas-agent-token";

/// `--http`'s address, refused unless it is a loopback literal (agent.md §1): `127.0.0.1:PORT`
/// (any 127/8 address) or `[::1]:PORT`. Host names are refused too (a name can resolve elsewhere).
pub fn parse_http_addr(s: &str) -> idaas::Result<SocketAddr> {
    let addr: SocketAddr = s.trim().parse().map_err(|_| {
        Error::invalid_argument(format!(
            "--http must be 127.0.0.1:PORT or [::1]:PORT (an IP literal and a port), got {:?}",
            idaas::escape_controls(s)
        ))
    })?;
    if !addr.ip().is_loopback() {
        return Err(Error::invalid_argument(format!(
            "--http {addr}: the agent listens on a loopback address only (127.0.0.1 or ::1)"
        )));
    }
    Ok(addr)
}

/// The default socket path (agent.md §1): `$XDG_RUNTIME_DIR/idaas/agent.sock`, else
/// `/run/idaas/agent.sock` for root, else `/tmp/idaas-<uid>/agent.sock`.
pub fn default_socket_path(xdg_runtime_dir: Option<&std::ffi::OsStr>, euid: u32) -> PathBuf {
    match xdg_runtime_dir {
        Some(d) if !d.is_empty() => Path::new(d).join("idaas").join("agent.sock"),
        _ if euid == 0 => PathBuf::from("/run/idaas/agent.sock"),
        _ => PathBuf::from(format!("/tmp/idaas-{euid}/agent.sock")),
    }
}

/// The peer allow-list of the Unix socket (agent.md §3.2): the agent's own uid, root, every
/// `--allow-uid`, and any peer whose gid is an `--allow-gid`.
#[derive(Clone, Debug)]
pub struct PeerAllowList {
    own_uid: u32,
    uids: Vec<u32>,
    gids: Vec<u32>,
}

impl PeerAllowList {
    pub fn new(own_uid: u32, uids: &[u32], gids: &[u32]) -> Self {
        PeerAllowList {
            own_uid,
            uids: uids.to_vec(),
            gids: gids.to_vec(),
        }
    }

    /// Whether a peer with these credentials may ask.
    pub fn allows(&self, uid: u32, gid: u32) -> bool {
        uid == self.own_uid || uid == 0 || self.uids.contains(&uid) || self.gids.contains(&gid)
    }
}

/// A browser request (agent.md §3.3): an `Origin` header or any `Sec-Fetch-*` header.
pub fn is_browser_request(headers: &hyper::HeaderMap) -> bool {
    headers.keys().any(|name| {
        let n = name.as_str(); // lower case in `http`
        n == "origin" || n.starts_with("sec-fetch-")
    })
}

/// Whether `presented` is the agent token, in time independent of where they differ (agent.md
/// §3.1). The length of the expected token (always 43 characters when the agent made it) is not
/// hidden.
pub fn token_matches(expected: &SecretString, presented: Option<&[u8]>) -> bool {
    use subtle::ConstantTimeEq;
    match presented {
        Some(p) => bool::from(expected.expose().as_bytes().ct_eq(p)),
        None => false,
    }
}

/// Reads the agent token file, or creates it when missing (agent.md §1): 32 random bytes,
/// base64url without padding, mode 0600. An existing file must be a regular file owned by `euid`
/// and not accessible to group or others.
pub fn load_or_create_token(path: &Path, euid: u32) -> idaas::Result<SecretString> {
    let cfg = |msg: String| Error::config("AgentTokenFile", msg);
    match std::fs::symlink_metadata(path) {
        Ok(meta) => {
            if !meta.file_type().is_file() {
                return Err(cfg(format!(
                    "agent token file {} is not a regular file",
                    path.display()
                )));
            }
            if meta.uid() != euid {
                return Err(cfg(format!(
                    "agent token file {} is owned by uid {}, not by the agent's user (uid {euid})",
                    path.display(),
                    meta.uid()
                )));
            }
            if meta.permissions().mode() & 0o077 != 0 {
                return Err(cfg(format!(
                    "agent token file {} is accessible to group or others (mode {:o}); chmod 600 it",
                    path.display(),
                    meta.permissions().mode() & 0o777
                )));
            }
            let bytes = std::fs::read(path).map_err(|e| {
                cfg(format!(
                    "cannot read agent token file {}: {e}",
                    path.display()
                ))
            })?;
            let text = String::from_utf8(bytes)
                .map_err(|_| cfg(format!("agent token file {} is not UTF-8", path.display())))?;
            let mut token = SecretString::new(text);
            let trimmed = token.expose().trim();
            if trimmed.len() != token.expose().len() {
                token = SecretString::new(trimmed.to_string());
            }
            if token.is_empty() {
                return Err(cfg(format!("agent token file {} is empty", path.display())));
            }
            Ok(token)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut raw = [0u8; 32];
            getrandom::getrandom(&mut raw).map_err(|e| {
                Error::internal(format!("no random bytes for the agent token: {e}"))
            })?;
            let token =
                SecretString::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw));
            raw.fill(0);
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
                .open(path)
                .map_err(|e| {
                    cfg(format!(
                        "cannot create agent token file {}: {e}",
                        path.display()
                    ))
                })?;
            f.write_all(token.expose().as_bytes()).map_err(|e| {
                cfg(format!(
                    "cannot write agent token file {}: {e}",
                    path.display()
                ))
            })?;
            log::info!("agent: created the agent token file {}", path.display());
            Ok(token)
        }
        Err(e) => Err(cfg(format!(
            "cannot inspect agent token file {}: {e}",
            path.display()
        ))),
    }
}

/// Creates the socket's parent directory when missing (0700, or 0750 when groups may connect).
pub fn ensure_socket_dir(dir: &Path, group_access: bool) -> idaas::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    let mode = if group_access { 0o750 } else { 0o700 };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(mode)
        .create(dir)
        .map_err(|e| {
            Error::config(
                "AgentSocket",
                format!("cannot create socket directory {}: {e}", dir.display()),
            )
        })?;
    // The umask may have removed bits the mode asked for (never added any).
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode));
    Ok(())
}

/// Makes room for the socket at `path` (agent.md §1): nothing there is fine; a socket nobody
/// listens on (a crashed agent's) is removed; a live socket is a second agent, an error; any
/// other file is an error (never removed).
pub fn clear_stale_socket(path: &Path) -> idaas::Result<()> {
    use std::os::unix::fs::FileTypeExt;
    let err = |msg: String| Error::config("AgentSocket", msg);
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(err(format!("cannot inspect {}: {e}", path.display()))),
        Ok(meta) if !meta.file_type().is_socket() => Err(err(format!(
            "{} exists and is not a socket; remove it or choose another --socket",
            path.display()
        ))),
        Ok(_) => match std::os::unix::net::UnixStream::connect(path) {
            Ok(_) => Err(err(format!(
                "another agent is listening on {}",
                path.display()
            ))),
            Err(_) => {
                log::info!("agent: removing the stale socket {}", path.display());
                std::fs::remove_file(path)
                    .map_err(|e| err(format!("cannot remove stale {}: {e}", path.display())))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use idaas::ErrorKind;

    #[test]
    fn only_loopback_literals_are_accepted() {
        for ok in [
            "127.0.0.1:8080",
            "127.0.0.2:1",
            "[::1]:9000",
            " 127.0.0.1:0 ",
        ] {
            assert!(parse_http_addr(ok).is_ok(), "{ok}");
        }
        for bad in [
            "0.0.0.0:8080",
            "[::]:8080",
            "10.0.0.1:80",
            "192.168.1.2:80",
            "localhost:8080",
            "127.0.0.1",
            "example.com:80",
            "[::ffff:10.0.0.1]:80",
        ] {
            let e = parse_http_addr(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{bad}");
        }
    }

    #[test]
    fn allow_list() {
        let a = PeerAllowList::new(1000, &[1001], &[2000]);
        assert!(a.allows(1000, 1000)); // own uid
        assert!(a.allows(0, 0)); // root
        assert!(a.allows(1001, 1001)); // --allow-uid
        assert!(a.allows(4242, 2000)); // --allow-gid
        assert!(!a.allows(4242, 4242));
        assert!(!a.allows(1002, 1000)); // the agent's gid is not implicitly allowed
        let none = PeerAllowList::new(1000, &[], &[]);
        assert!(!none.allows(65534, 65534));
    }

    #[test]
    fn browser_headers() {
        let mut h = hyper::HeaderMap::new();
        assert!(!is_browser_request(&h));
        h.insert("x-idaas-agent-token", "t".parse().unwrap());
        assert!(!is_browser_request(&h));
        h.insert("Sec-Fetch-Site", "cross-site".parse().unwrap());
        assert!(is_browser_request(&h));
        let mut h = hyper::HeaderMap::new();
        h.insert("Origin", "http://evil.example".parse().unwrap());
        assert!(is_browser_request(&h));
    }

    #[test]
    fn token_compare() {
        let t = SecretString::new("abc");
        assert!(token_matches(&t, Some(b"abc")));
        assert!(!token_matches(&t, Some(b"abd")));
        assert!(!token_matches(&t, Some(b"ab")));
        assert!(!token_matches(&t, Some(b"")));
        assert!(!token_matches(&t, None));
    }

    #[test]
    fn default_socket_paths() {
        use std::ffi::OsStr;
        assert_eq!(
            default_socket_path(Some(OsStr::new("/run/user/1000")), 1000),
            PathBuf::from("/run/user/1000/idaas/agent.sock")
        );
        assert_eq!(
            default_socket_path(None, 0),
            PathBuf::from("/run/idaas/agent.sock")
        );
        assert_eq!(
            default_socket_path(Some(OsStr::new("")), 1000),
            PathBuf::from("/tmp/idaas-1000/agent.sock")
        );
    }

    #[test]
    fn token_file_is_created_private_and_checked() {
        let dir = std::env::temp_dir().join(format!("idaas-agent-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let euid = rustix::process::geteuid().as_raw();
        let p = dir.join("agent.token");
        let t = load_or_create_token(&p, euid).unwrap();
        assert_eq!(t.expose().len(), 43);
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(load_or_create_token(&p, euid).unwrap().expose(), t.expose());
        // Wrong owner.
        let e = load_or_create_token(&p, euid + 1).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        // Readable by others.
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = load_or_create_token(&p, euid).unwrap_err();
        assert!(e.message().contains("group or others"), "{e}");
        // Not a regular file.
        let e = load_or_create_token(&dir, euid).unwrap_err();
        assert!(e.message().contains("not a regular file"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
