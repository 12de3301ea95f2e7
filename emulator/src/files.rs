//! How the emulator writes files, and the non-loopback bind warning.
//!
//! Rule: no file the emulator writes is ever written through a symbolic link, and files holding
//! secrets are private.
//!
//! * The emulator's own directory (under the system temp dir) is created fresh with mode 0700 and
//!   a random name: an existing path there is an error, never reused.
//! * Every file is created exclusively (`O_CREAT | O_EXCL`, which does not follow a symbolic link
//!   at the final component) and, on Unix, with `O_NOFOLLOW` as well.
//! * Files holding secrets — the ready file (client secret, PCA private key, client configs), the
//!   generated OIDC token (a valid 24 h credential), the request log (raw requests: client secrets,
//!   bearer tokens) — are mode [`PRIVATE`] (0600). CA certificates are public: [`PUBLIC`] (0644).
//! * A file that replaces a path the user named (`--ready-file`, `--ca-cert-out`) is written to a
//!   temporary file with an unpredictable name in the same directory, created exclusively, then
//!   renamed over the target: readers never see a partial file, a symbolic link planted at the
//!   target is replaced rather than followed, and one planted at a guessed temporary name is never
//!   opened (the old fixed `<name>.tmp` was written through).
//! * The request log is appended to (that is its documented behaviour), so it may exist already:
//!   it is opened with `O_NOFOLLOW`, created 0600, and refused if it is not a regular file or if
//!   group or others may read or write it (someone else's file planted in a shared directory).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// Mode of files holding secrets.
pub const PRIVATE: u32 = 0o600;
/// Mode of public files (CA certificates).
pub const PUBLIC: u32 = 0o644;

/// Options that create `path` exclusively with `mode`, never through a symbolic link.
fn exclusive(mode: u32) -> OpenOptions {
    let mut o = OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(mode).custom_flags(libc::O_NOFOLLOW);
    }
    #[cfg(not(unix))]
    let _ = mode;
    o
}

/// Creates the directory `path` (not its parents) with mode 0700; fails if anything exists there.
pub fn create_private_dir(path: &Path) -> io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(path)
}

/// Creates the new file `path` (exclusively, not through a symbolic link) with `mode` and writes
/// `data` to it.
pub fn write_new(path: &Path, data: &[u8], mode: u32) -> io::Result<()> {
    let mut f = exclusive(mode).open(path)?;
    f.write_all(data)?;
    f.sync_all()
}

/// Writes `data` to `path`, replacing what is there (a symbolic link included, never followed),
/// through an exclusively created temporary file with an unpredictable name in the same directory.
pub fn write_replace(path: &Path, data: &[u8], mode: u32) -> io::Result<()> {
    write_replace_with(path, data, mode, || temp_name(path))
}

/// [`write_replace`] with the temporary names drawn from `next_name` (tests plant a symlink at the
/// first one). A name that exists already is skipped, never opened.
fn write_replace_with(
    path: &Path,
    data: &[u8],
    mode: u32,
    mut next_name: impl FnMut() -> PathBuf,
) -> io::Result<()> {
    const ATTEMPTS: usize = 8;
    for _ in 0..ATTEMPTS {
        let tmp = next_name();
        let mut f = match exclusive(mode).open(&tmp) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        };
        let written = f
            .write_all(data)
            .and_then(|_| f.sync_all())
            .and_then(|_| std::fs::rename(&tmp, path));
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        return written;
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!(
            "could not create a temporary file next to {} ({ATTEMPTS} names taken)",
            path.display()
        ),
    ))
}

/// `.<file name>.<random>.tmp` in the directory of `path`.
fn temp_name(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    path.with_file_name(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()))
}

/// Opens the request log for appending (module docs: created 0600, never through a symbolic link,
/// an existing file must be regular and private).
pub fn open_private_append(path: &Path) -> io::Result<File> {
    let mut o = OpenOptions::new();
    o.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(PRIVATE)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let f = o.open(path).map_err(|e| {
        #[cfg(unix)]
        if e.raw_os_error() == Some(libc::ELOOP) {
            return io::Error::new(
                e.kind(),
                format!("{} is a symbolic link; give the real path", path.display()),
            );
        }
        e
    })?;
    let md = f.metadata()?;
    if !md.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a regular file", path.display()),
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = md.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!(
                    "{} is accessible to group or others (mode {mode:o}); the request log holds client secrets and tokens: chmod 600 it or name a new file",
                    path.display()
                ),
            ));
        }
    }
    Ok(f)
}

/// The warning to print before binding `ip`, or `None` for a loopback address. `0.0.0.0` and `::`
/// listen on every interface, so they are warned about too.
pub fn non_loopback_warning(ip: IpAddr) -> Option<String> {
    let loopback = match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    };
    if loopback {
        return None;
    }
    let what = if ip.is_unspecified() {
        format!("{ip} (every network interface)")
    } else {
        format!("{ip}, a non-loopback address")
    };
    Some(format!(
        "idaas-emulator: WARNING: binding {what}. The emulator is insecure by design: well-known \
         client secrets and keys, an unauthenticated control API, fault injection, plain HTTP on \
         the same port. Anyone who can reach this address can mint tokens, read the request log \
         (client secrets, bearer tokens) and reconfigure it. Bind 127.0.0.1 unless the network is \
         yours alone."
    ))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn dir(tag: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("emu-files-{tag}-{}", uuid::Uuid::new_v4().simple()));
        create_private_dir(&d).unwrap();
        d
    }

    #[test]
    fn private_dir_is_0700_and_never_reused() {
        let d = dir("dir");
        assert_eq!(
            std::fs::metadata(&d).unwrap().permissions().mode() & 0o777,
            0o700
        );
        assert_eq!(
            create_private_dir(&d).unwrap_err().kind(),
            io::ErrorKind::AlreadyExists
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn write_new_refuses_an_existing_path_and_a_symlink() {
        let d = dir("new");
        let outside = d.join("outside");
        std::fs::write(&outside, "untouched").unwrap();
        let link = d.join("link");
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        assert!(write_new(&link, b"secret", PRIVATE).is_err());
        assert!(write_new(&outside, b"secret", PRIVATE).is_err());
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "untouched");
        let f = d.join("f");
        write_new(&f, b"secret", PRIVATE).unwrap();
        assert_eq!(
            std::fs::metadata(&f).unwrap().permissions().mode() & 0o777,
            0o600
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_symlink_at_the_temporary_name_is_skipped_not_followed() {
        let d = dir("replace");
        let outside = d.join("outside");
        std::fs::write(&outside, "untouched").unwrap();
        let planted = d.join("planted.tmp");
        std::os::unix::fs::symlink(&outside, &planted).unwrap();
        let target = d.join("ready.json");
        let mut names = vec![d.join("fresh.tmp"), planted.clone()];
        write_replace_with(&target, b"{\"secret\":1}", PRIVATE, || names.pop().unwrap()).unwrap();
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "untouched");
        assert!(std::fs::symlink_metadata(&planted).unwrap().is_symlink());
        let md = std::fs::symlink_metadata(&target).unwrap();
        assert!(md.is_file());
        assert_eq!(md.permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "{\"secret\":1}");
        assert!(!d.join("fresh.tmp").exists(), "renamed away");
        // Every name taken: a clear error, nothing written.
        let e = write_replace_with(&target, b"x", PRIVATE, || planted.clone()).unwrap_err();
        assert!(
            e.to_string().contains("could not create a temporary file"),
            "{e}"
        );
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "untouched");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn request_log_must_be_private_and_regular() {
        let d = dir("log");
        let log = d.join("requests.jsonl");
        drop(open_private_append(&log).unwrap());
        assert_eq!(
            std::fs::metadata(&log).unwrap().permissions().mode() & 0o777,
            0o600
        );
        drop(open_private_append(&log).unwrap()); // appending to our own private file is fine
        std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = open_private_append(&log).unwrap_err();
        assert!(
            e.to_string().contains("accessible to group or others"),
            "{e}"
        );
        let outside = d.join("outside");
        std::fs::write(&outside, "").unwrap();
        std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(0o600)).unwrap();
        let link = d.join("link.jsonl");
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        let e = open_private_append(&link).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        let e = open_private_append(&d).unwrap_err();
        assert!(!e.to_string().is_empty());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn loopback_decision() {
        for ip in ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"] {
            assert_eq!(non_loopback_warning(ip.parse().unwrap()), None, "{ip}");
        }
        for ip in ["0.0.0.0", "::", "10.0.0.1", "192.0.2.1", "fe80::1"] {
            let w = non_loopback_warning(ip.parse().unwrap()).unwrap_or_else(|| panic!("{ip}"));
            assert!(w.contains("WARNING") && w.contains(ip), "{w}");
        }
        assert!(non_loopback_warning("0.0.0.0".parse().unwrap())
            .unwrap()
            .contains("every network interface"));
    }
}
