//! Secret strings: redacted in `Debug`/`Display`, zeroed on drop.

use std::fmt;
use std::sync::Arc;

/// A secret text (client secret, private key PEM, access token, API key, JWT).
///
/// `Debug` and `Display` print `** redacted **`; the bytes are zeroed when the last clone is dropped.
/// Read it with [`SecretString::expose`] only where it is put on the wire or handed to the caller.
///
/// Clones share one immutable buffer (reference-counted): handing out the cached bearer token is a
/// reference-count increment, not an allocation + copy + wipe of ~1 KB, and no extra copies of the
/// secret exist in memory.
#[derive(Clone, Default)]
pub struct SecretString(Arc<Wiped>);

/// The buffer behind a [`SecretString`]: zeroed (whole allocation) when dropped.
#[derive(Default)]
struct Wiped(String);

impl Drop for Wiped {
    fn drop(&mut self) {
        wipe(std::mem::take(&mut self.0));
    }
}

impl SecretString {
    /// Wrap a secret.
    pub fn new(s: impl Into<String>) -> Self {
        SecretString(Arc::new(Wiped(s.into())))
    }

    /// The secret text.
    pub fn expose(&self) -> &str {
        &self.0 .0
    }

    /// Take the secret text out; the caller becomes responsible for it. (A copy when other clones
    /// of this secret are alive.)
    pub fn into_inner(self) -> String {
        match Arc::try_unwrap(self.0) {
            Ok(mut w) => std::mem::take(&mut w.0),
            Err(shared) => shared.0.clone(),
        }
    }

    /// True when the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0 .0.is_empty()
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0 .0.len()
    }
}

impl PartialEq for SecretString {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for SecretString {}

impl From<String> for SecretString {
    fn from(s: String) -> Self {
        SecretString::new(s)
    }
}

impl From<&str> for SecretString {
    fn from(s: &str) -> Self {
        SecretString::new(s.to_owned())
    }
}

/// Zero a string's whole allocation (its length and spare capacity), then free it.
///
/// `zeroize` writes byte by byte through volatile stores (≈ 230 ns for a 1.1 KB token, see
/// ARCHITECTURE.md), which dominated the cached `bearer_token()` hot path. Here the buffer is
/// overwritten with an ordinary (vectorised, memset-speed) fill, and `black_box` on the buffer plus a
/// compiler fence keep the compiler from treating the writes as dead before the free. Safe Rust,
/// same guarantee in practice as `zeroize` for heap buffers.
pub(crate) fn wipe(s: String) {
    let mut v = s.into_bytes();
    if v.capacity() == 0 {
        return;
    }
    let cap = v.capacity();
    v.clear();
    v.resize(cap, 0);
    std::hint::black_box(&mut v);
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("** redacted **")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("** redacted **")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacted_in_debug_and_display() {
        let s = SecretString::new("hunter2-very-secret");
        assert_eq!(format!("{s:?}"), "** redacted **");
        assert_eq!(format!("{s}"), "** redacted **");
        assert_eq!(s.expose(), "hunter2-very-secret");
    }

    #[test]
    fn wipe_handles_every_shape() {
        wipe(String::new());
        wipe(String::with_capacity(64));
        let mut s = String::with_capacity(100);
        s.push_str("secret");
        wipe(s);
        drop(SecretString::new("x".repeat(1100)));
        assert_eq!(SecretString::new("abc").into_inner(), "abc");
        let a = SecretString::new("shared");
        let b = a.clone();
        assert_eq!(a, b);
        assert_eq!(a.into_inner(), "shared"); // copied: `b` still holds the buffer
        assert_eq!(b.expose(), "shared");
        assert_eq!(b.into_inner(), "shared"); // moved out: last reference
        assert!(SecretString::default().is_empty());
    }
}
