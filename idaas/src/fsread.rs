//! The one way the library reads a file: the configuration file, `caCertificatePath` and the OIDC
//! token file all go through [`read_regular_file`].
//!
//! Rule: a file the library reads must be a regular file, and at most [`MAX_FILE_BYTES`] of it is
//! ever read or allocated. Without this, `--config /dev/zero` allocates until memory runs out and a
//! FIFO as config, CA or token file blocks the caller forever (opening a FIFO for reading waits for
//! a writer).
//!
//! How:
//! * On Unix the file is opened with `O_NONBLOCK` (opening a FIFO then returns at once instead of
//!   waiting for a writer) and `O_NOCTTY` (a terminal device never becomes our controlling
//!   terminal). `O_NONBLOCK` has no effect on reads of regular files, so it is left set.
//! * The type check is an `fstat` of the *opened* handle, not a `stat` of the path before opening,
//!   so the path cannot be swapped for a FIFO between the check and the read.
//! * The read stops at the cap plus one byte; a file over the cap is an error naming the cap. The
//!   buffer starts at the size `fstat` reports (bounded by the cap) and, if the file grows meanwhile,
//!   grows by hand: new allocation, copy, wipe of the old one — so a secret file (the OIDC token)
//!   never leaves an unzeroed copy behind in freed memory.
//!
//! Callers turn a [`FileReadError`] into their own error code (`LoadConfigFileFailed`,
//! `InvalidCaCertificate`, `OidcTokenReadFailed`) and keep its text, which names the path, what the
//! path is and what the file is for.

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::secret::wipe_bytes as wipe;

/// The most bytes read from any file (1 MiB). Config files, CA bundles and service-account tokens
/// are a few KiB; the largest public CA bundles are well under this.
pub(crate) const MAX_FILE_BYTES: usize = 1024 * 1024;

/// Why a file could not be read.
#[derive(Debug)]
pub(crate) enum FileReadError {
    /// The open or a read failed (`NotFound`, `PermissionDenied` …).
    Io {
        /// What the file is for (e.g. `httpConfiguration.caCertificatePath`).
        what: String,
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The path is not a regular file.
    NotRegular {
        /// What the file is for.
        what: String,
        /// The path.
        path: PathBuf,
        /// What the path is instead ("a FIFO (named pipe)", "a directory" …).
        file_type: &'static str,
    },
    /// The file holds more than the cap.
    TooLarge {
        /// What the file is for.
        what: String,
        /// The path.
        path: PathBuf,
        /// The cap in bytes.
        cap: usize,
    },
}

impl FileReadError {
    /// The underlying I/O error, if the failure was one.
    pub(crate) fn io_error(&self) -> Option<&std::io::Error> {
        match self {
            FileReadError::Io { source, .. } => Some(source),
            _ => None,
        }
    }

    /// True when the path does not exist.
    pub(crate) fn is_not_found(&self) -> bool {
        self.io_error()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::NotFound)
    }
}

impl fmt::Display for FileReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileReadError::Io { what, path, source } => {
                write!(f, "{what}: cannot read {}: {source}", path.display())
            }
            FileReadError::NotRegular {
                what,
                path,
                file_type,
            } => write!(
                f,
                "{what}: {} is {file_type}, not a regular file; only regular files are read",
                path.display()
            ),
            FileReadError::TooLarge { what, path, cap } => write!(
                f,
                "{what}: {} is larger than the {} limit ({cap} bytes) for files read by the library",
                path.display(),
                human_size(*cap)
            ),
        }
    }
}

impl std::error::Error for FileReadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FileReadError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

fn human_size(n: usize) -> String {
    if n % (1024 * 1024) == 0 {
        format!("{} MiB", n / (1024 * 1024))
    } else if n % 1024 == 0 {
        format!("{} KiB", n / 1024)
    } else {
        format!("{n}-byte")
    }
}

/// Read the regular file at `path`, at most [`MAX_FILE_BYTES`]. `what` names the file's purpose
/// (a configuration field) for the error message.
pub(crate) fn read_regular_file(path: &Path, what: &str) -> Result<Vec<u8>, FileReadError> {
    read_regular_file_capped(path, what, MAX_FILE_BYTES)
}

/// [`read_regular_file`] with an explicit cap (unit tests use a small one).
pub(crate) fn read_regular_file_capped(
    path: &Path,
    what: &str,
    cap: usize,
) -> Result<Vec<u8>, FileReadError> {
    let io_err = |source| FileReadError::Io {
        what: what.to_string(),
        path: path.to_path_buf(),
        source,
    };
    let mut file = open_nonblocking(path).map_err(io_err)?;
    let md = file.metadata().map_err(io_err)?;
    if !md.is_file() {
        return Err(FileReadError::NotRegular {
            what: what.to_string(),
            path: path.to_path_buf(),
            file_type: describe(&md.file_type()),
        });
    }
    let too_large = || FileReadError::TooLarge {
        what: what.to_string(),
        path: path.to_path_buf(),
        cap,
    };
    if md.len() > cap as u64 {
        return Err(too_large());
    }
    // +1: room to see the end of file (a read of 0) without growing; fstat's size is only a hint.
    let initial = (md.len() as usize).min(cap) + 1;
    match read_capped(&mut file, initial, cap) {
        Ok(Some(buf)) => Ok(buf),
        Ok(None) => Err(too_large()),
        Err(e) => Err(io_err(e)),
    }
}

/// Read to end of file into a buffer that never exceeds `cap + 1` bytes of capacity. `Ok(None)`
/// when there is more than `cap` bytes. Every buffer given up (on growth or failure) is wiped.
fn read_capped(file: &mut File, initial: usize, cap: usize) -> std::io::Result<Option<Vec<u8>>> {
    let limit = cap + 1;
    let mut buf = vec![0u8; initial.clamp(1, limit)];
    let mut filled = 0;
    loop {
        if filled == buf.len() {
            if buf.len() >= limit {
                wipe(buf);
                return Ok(None);
            }
            let mut bigger = vec![0u8; buf.len().saturating_mul(2).max(4096).min(limit)];
            bigger[..filled].copy_from_slice(&buf[..filled]);
            wipe(buf);
            buf = bigger;
        }
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                wipe(buf);
                return Err(e);
            }
        }
    }
    if filled > cap {
        wipe(buf);
        return Ok(None);
    }
    buf.truncate(filled);
    Ok(Some(buf))
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    File::open(path)
}

/// What a non-regular path is, for the error message.
fn describe(t: &std::fs::FileType) -> &'static str {
    if t.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_symlink() {
        return "a symbolic link";
    }
    "not a regular file"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "idaas-fsread-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4()
        ));
        std::fs::create_dir_all(&d).unwrap();
        d.join(name)
    }

    #[test]
    fn reads_small_and_empty_files() {
        let p = temp("a.txt");
        std::fs::write(&p, b"hello").unwrap();
        assert_eq!(read_regular_file(&p, "test").unwrap(), b"hello");
        std::fs::write(&p, b"").unwrap();
        assert_eq!(read_regular_file(&p, "test").unwrap(), b"");
        let _ = std::fs::remove_dir_all(p.parent().unwrap());
    }

    #[test]
    fn cap_is_exact() {
        let p = temp("b.txt");
        std::fs::write(&p, vec![b'x'; 100]).unwrap();
        assert_eq!(read_regular_file_capped(&p, "t", 100).unwrap().len(), 100);
        let e = read_regular_file_capped(&p, "t", 99).unwrap_err();
        assert!(matches!(e, FileReadError::TooLarge { cap: 99, .. }), "{e}");
        assert!(e.to_string().contains("99 bytes"), "{e}");
        let _ = std::fs::remove_dir_all(p.parent().unwrap());
    }

    #[test]
    fn growth_beyond_the_fstat_size_is_capped() {
        // /proc files report size 0 yet have content: the buffer grows by hand, up to the cap.
        let p = Path::new("/proc/self/status");
        if p.exists() {
            let v = read_regular_file(p, "t").unwrap();
            assert!(v.starts_with(b"Name:"));
            let e = read_regular_file_capped(p, "t", 8).unwrap_err();
            assert!(matches!(e, FileReadError::TooLarge { .. }), "{e}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn special_files_are_named() {
        let e = read_regular_file(Path::new("/dev/null"), "field.x").unwrap_err();
        assert_eq!(
            e.to_string(),
            "field.x: /dev/null is a character device, not a regular file; only regular files are read"
        );
        let e = read_regular_file(Path::new("/"), "field.x").unwrap_err();
        assert!(e.to_string().contains("is a directory"), "{e}");
        assert_eq!(human_size(MAX_FILE_BYTES), "1 MiB");
    }
}
