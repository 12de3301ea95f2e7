//! The files the emulator binary writes (issue 14, item 9): secrets are 0600, nothing is written
//! through a symbolic link planted at a target or at a temporary name, and binding a non-loopback
//! address is warned about on stderr.
#![cfg(unix)]

use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const EXE: &str = env!("CARGO_BIN_EXE_idaas-emulator");

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let d = std::env::temp_dir().join(format!(
            "emu-files-it-{tag}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
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

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
}

fn plant(dir: &Path, link: &str, target: &str) -> (PathBuf, PathBuf) {
    let target = dir.join(target);
    std::fs::write(&target, "untouched").unwrap();
    let link = dir.join(link);
    std::os::unix::fs::symlink(&target, &link).unwrap();
    (link, target)
}

#[test]
fn secret_files_are_private_and_planted_symlinks_are_not_followed() {
    let dir = TempDir::new("symlinks");
    let ready = dir.0.join("ready.json");
    // The attack of the issue: a symlink at the temporary name the emulator used to write
    // (`ready.tmp`), pointing outside. Also symlinks at the final names.
    let (_, outside_tmp) = plant(&dir.0, "ready.tmp", "outside-tmp");
    let (_, outside_ready) = plant(&dir.0, "ready.json", "outside-ready");
    let (_, outside_ca) = plant(&dir.0, "ca.pem", "outside-ca");
    let log = dir.0.join("requests.jsonl");
    let mut child = Command::new(EXE)
        .args(["--no-tls", "--exit-on-stdin-eof", "--ready-file"])
        .arg(&ready)
        .arg("--ca-cert-out")
        .arg(dir.0.join("ca.pem"))
        .arg("--request-log")
        .arg(&log)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The ready file appears as a regular file (the planted link replaced, not followed).
    let start = Instant::now();
    let info: Value = loop {
        let md = std::fs::symlink_metadata(&ready).unwrap();
        if md.is_file() {
            break serde_json::from_str(&std::fs::read_to_string(&ready).unwrap()).unwrap();
        }
        for outside in [&outside_tmp, &outside_ready, &outside_ca] {
            let text = std::fs::read_to_string(outside).unwrap();
            assert_eq!(
                text,
                "untouched",
                "{} was written through a symlink",
                outside.display()
            );
        }
        if let Some(st) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
            panic!("emulator exited ({st}) without a ready file: {err}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no ready file after 30 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    for outside in [&outside_tmp, &outside_ready, &outside_ca] {
        assert_eq!(
            std::fs::read_to_string(outside).unwrap(),
            "untouched",
            "{} was written through a symlink",
            outside.display()
        );
    }
    assert!(info["clientSecret"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(info["pcaCredentials"]["keyPem"]
        .as_str()
        .unwrap()
        .contains("PRIVATE KEY"));
    assert_eq!(mode(&ready), 0o600, "the ready file holds secrets");
    // The CA certificate is public, but replaced, not written through the link.
    let ca = PathBuf::from(info["caCertPath"].as_str().unwrap());
    assert_eq!(ca, dir.0.join("ca.pem"));
    assert!(std::fs::symlink_metadata(&ca).unwrap().is_file());
    assert!(std::fs::read_to_string(&ca)
        .unwrap()
        .contains("BEGIN CERTIFICATE"));
    // The generated OIDC token (a valid credential) is 0600 in a fresh 0700 directory.
    let oidc = PathBuf::from(info["oidcTokenFilePath"].as_str().unwrap());
    assert_eq!(mode(&oidc), 0o600);
    assert_eq!(mode(oidc.parent().unwrap()), 0o700);
    assert_eq!(
        mode(Path::new(info["pcaRootCertPath"].as_str().unwrap())),
        0o644
    );
    // The request log (raw requests: secrets) is 0600.
    assert_eq!(mode(&log), 0o600);
    // No temporary file is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
}

#[test]
fn a_request_log_others_can_read_is_refused() {
    let dir = TempDir::new("log");
    let log = dir.0.join("requests.jsonl");
    std::fs::write(&log, "").unwrap();
    std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = Command::new(EXE)
        .args(["--no-tls", "--exit-on-stdin-eof", "--request-log"])
        .arg(&log)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("request_log") && err.contains("accessible to group or others"),
        "{err}"
    );
}

#[test]
fn binding_a_non_loopback_address_is_warned_about() {
    // 192.0.2.1 (TEST-NET-1) is assigned to no host: the bind fails after the warning, so no port
    // is ever opened beyond loopback and no traffic is sent. (0.0.0.0 and :: are covered by the
    // decision function's unit test in src/files.rs.)
    let out = Command::new(EXE)
        .args(["--no-tls", "--exit-on-stdin-eof", "--bind", "192.0.2.1"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("idaas-emulator: WARNING: binding 192.0.2.1, a non-loopback address"),
        "{err}"
    );
    assert!(err.contains("insecure by design"), "{err}");
    // Loopback: no warning.
    let out = Command::new(EXE)
        .args(["--no-tls", "--exit-on-stdin-eof"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("WARNING"), "{err}");
}
