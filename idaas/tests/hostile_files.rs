//! Hostile files (issue 14, item 3): every file the library reads — the config file,
//! `httpConfiguration.caCertificatePath`, the OIDC token file (also when re-read at a refresh) —
//! must be a regular file of at most 1 MiB. `/dev/zero`, a FIFO, a directory and a 2 MiB file each
//! fail at once with the existing error code and a message naming the path, what it is and the cap.
//!
//! Before the fix a FIFO blocked forever (opening it waits for a writer) and `/dev/zero` allocated
//! until memory ran out. So every test runs under a [`Watchdog`] and the process lowers its own
//! address-space limit: a regression fails (abort) instead of hanging CI or exhausting the machine.
#![cfg(unix)]
// getrlimit/setrlimit and mkfifo through libc: the test's own process set-up, not library code.
#![allow(unsafe_code)]

mod common;

use common::{builder, Watchdog};
use idaas::Config;
use idaas::ErrorKind;
use idaas::ManualClock;
use idaas_emulator::{AuthMethod, Emulator, TOKEN_PATH};
use serde_json::Value;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::{Duration, Instant};

/// Each failing read must return well within this (they take microseconds; the margin is for a
/// loaded CI machine).
const FAST: Duration = Duration::from_secs(5);

/// Cap this test process's address space (only ever lowered): a regression that reads `/dev/zero`
/// to the end then fails an allocation instead of taking the shared machine's memory.
fn limit_memory() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        const LIMIT: libc::rlim_t = 8 << 30;
        let mut cur = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: `cur` is a valid, writable rlimit for the duration of the call.
        if unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut cur) } != 0 {
            return;
        }
        if cur.rlim_cur == libc::RLIM_INFINITY || cur.rlim_cur > LIMIT {
            let new = libc::rlimit {
                rlim_cur: LIMIT,
                rlim_max: cur.rlim_max,
            };
            // SAFETY: `new` is a valid rlimit read for the duration of the call; lowering the soft
            // limit below the hard one is always allowed.
            unsafe { libc::setrlimit(libc::RLIMIT_AS, &new) };
        }
    });
}

/// A private temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let d = std::env::temp_dir().join(format!(
            "idaas-hostile-files-{tag}-{}-{}",
            std::process::id(),
            uuid_like()
        ));
        std::fs::create_dir(&d).unwrap();
        TempDir(d)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn uuid_like() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn mkfifo(p: &Path) {
    let c = CString::new(p.as_os_str().as_bytes()).unwrap();
    // SAFETY: `c` is a valid NUL-terminated path for the duration of the call.
    let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o600) };
    assert_eq!(
        rc,
        0,
        "mkfifo {}: {}",
        p.display(),
        std::io::Error::last_os_error()
    );
}

/// The hostile paths and the words the error must contain for each.
fn hostile(dir: &TempDir) -> Vec<(PathBuf, &'static str)> {
    let fifo = dir.0.join("fifo");
    mkfifo(&fifo);
    let sub = dir.0.join("a-directory");
    std::fs::create_dir(&sub).unwrap();
    let big = dir.0.join("big");
    // Valid JSON / PEM-ish text would not matter: the size alone is refused.
    std::fs::write(&big, vec![b' '; 2 * 1024 * 1024]).unwrap();
    vec![
        (
            PathBuf::from("/dev/zero"),
            "is a character device, not a regular file",
        ),
        (fifo, "is a FIFO (named pipe), not a regular file"),
        (sub, "is a directory, not a regular file"),
        (big, "larger than the 1 MiB limit (1048576 bytes)"),
    ]
}

fn timed<R>(what: &str, f: impl FnOnce() -> R) -> R {
    let t = Instant::now();
    let r = f();
    assert!(t.elapsed() < FAST, "{what} took {:?}", t.elapsed());
    r
}

#[test]
fn config_file_must_be_a_small_regular_file() {
    limit_memory();
    let _w = Watchdog::new(
        "config_file_must_be_a_small_regular_file",
        Duration::from_secs(60),
    );
    let dir = TempDir::new("config");
    for (path, expect) in hostile(&dir) {
        let e = timed(&path.display().to_string(), || Config::from_path(&path)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config, "{path:?}: {e}");
        assert_eq!(e.code(), "LoadConfigFileFailed", "{path:?}: {e}");
        let m = e.message();
        assert!(m.contains("IDaaS config file"), "{m}");
        assert!(m.contains(&path.display().to_string()), "{m}");
        assert!(m.contains(expect), "{path:?}: {m}");
    }
    // `Config::load` (the CLI's entry) goes through the same reader.
    let fifo = dir.0.join("fifo");
    let e = timed("load", || Config::load(Some(&fifo)).map(|_| ())).unwrap_err();
    assert!(e.message().contains("FIFO"), "{e}");
}

#[test]
fn ca_certificate_file_must_be_a_small_regular_file() {
    limit_memory();
    let _w = Watchdog::new(
        "ca_certificate_file_must_be_a_small_regular_file",
        Duration::from_secs(60),
    );
    let dir = TempDir::new("ca");
    let emu = Emulator::start_default();
    for (path, expect) in hostile(&dir) {
        let mut v = emu.client_config(AuthMethod::ClientSecretPost);
        v["httpConfiguration"]["caCertificatePath"] = Value::String(path.display().to_string());
        let cfg = Config::from_json_value(&v).unwrap();
        let e = timed("http_options", || cfg.http_options()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config, "{path:?}: {e}");
        assert_eq!(e.code(), "InvalidCaCertificate", "{path:?}: {e}");
        let m = e.message();
        assert!(m.contains("httpConfiguration.caCertificatePath"), "{m}");
        assert!(m.contains(&path.display().to_string()), "{m}");
        assert!(m.contains(expect), "{path:?}: {m}");
        // Building a client reads it too, with the same error.
        let e = timed("Client::new", || idaas::Client::new(cfg.clone())).unwrap_err();
        assert_eq!(e.code(), "InvalidCaCertificate", "{path:?}: {e}");
    }
    assert!(emu.requests().is_empty(), "nothing was sent");
}

fn token_requests(emu: &Emulator) -> usize {
    emu.requests()
        .iter()
        .filter(|r| r.path == TOKEN_PATH)
        .count()
}

fn oidc_client(
    emu: &Emulator,
    token_file: &Path,
    clock: &std::sync::Arc<ManualClock>,
) -> idaas::Client {
    let mut v = emu.client_config(AuthMethod::Oidc);
    v["authnConfiguration"]["oidcTokenFilePath"] = Value::String(token_file.display().to_string());
    let cfg = Config::from_json_value(&v).unwrap();
    builder(cfg, clock).build().unwrap()
}

#[test]
fn oidc_token_file_must_be_a_small_regular_file() {
    limit_memory();
    let _w = Watchdog::new(
        "oidc_token_file_must_be_a_small_regular_file",
        Duration::from_secs(60),
    );
    let dir = TempDir::new("oidc");
    let emu = Emulator::start_default();
    let clock = ManualClock::starting_now();
    for (path, expect) in hostile(&dir) {
        let c = oidc_client(&emu, &path, &clock);
        let e = timed("bearer_token", || c.bearer_token()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Credential, "{path:?}: {e}");
        assert_eq!(e.code(), "OidcTokenReadFailed", "{path:?}: {e}");
        let m = e.message();
        assert!(m.contains("oidcTokenFilePath"), "{m}");
        assert!(m.contains(&path.display().to_string()), "{m}");
        assert!(m.contains(expect), "{path:?}: {m}");
    }
    assert_eq!(token_requests(&emu), 0, "no token request without a token");
}

#[test]
fn oidc_token_file_replaced_by_a_fifo_fails_at_the_next_refresh() {
    limit_memory();
    let _w = Watchdog::new(
        "oidc_token_file_replaced_by_a_fifo_fails_at_the_next_refresh",
        Duration::from_secs(60),
    );
    let dir = TempDir::new("oidc-reread");
    let emu = Emulator::start_default();
    let clock = ManualClock::starting_now();
    let file = dir.0.join("token");
    std::fs::copy(emu.oidc_token_path(), &file).unwrap();
    let c = oidc_client(&emu, &file, &clock);
    c.bearer_token().expect("a regular token file works");
    assert_eq!(token_requests(&emu), 1);
    // The file is re-read at each refresh: swap it for a FIFO, then move past the token's expiry
    // and the OIDC token's own re-read margin.
    std::fs::remove_file(&file).unwrap();
    mkfifo(&file);
    clock.advance_secs(2 * 86_400);
    let e = timed("refresh", || c.bearer_token()).unwrap_err();
    assert_eq!(e.code(), "OidcTokenReadFailed", "{e}");
    assert!(e.message().contains("is a FIFO (named pipe)"), "{e}");
    assert_eq!(token_requests(&emu), 1, "the refresh sent nothing");
}
