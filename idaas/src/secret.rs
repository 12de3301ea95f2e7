//! Secret strings: redacted in `Debug`/`Display`, zeroed on drop.

use std::cell::Cell;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

/// A secret text (client secret, private key PEM, access token, API key, JWT).
///
/// `Debug` and `Display` print `** redacted **`; the bytes are zeroed when the last clone is dropped.
/// Read it with [`SecretString::expose`] only where it is put on the wire or handed to the caller.
///
/// Clones share one immutable buffer (reference-counted): handing out the cached bearer token is a
/// reference-count increment, not an allocation + copy + wipe of ~1 KB, and no extra copies of the
/// secret exist in memory. [`SecretString::clone_striped`] is the clone for hot paths read by many
/// threads at once: it spreads the reference counting over per-thread-group handles (still one copy
/// of the bytes).
#[derive(Clone, Default)]
pub struct SecretString(Arc<Handle>);

/// Number of striped handles per secret (see [`SecretString::clone_striped`]).
const STRIPES: usize = 16;

/// One reference-counted handle on a secret buffer. Aligned to a cache line so that the reference
/// counts of two handles (which sit just before it in the `Arc` allocation) never share a line.
#[derive(Default)]
#[repr(align(64))]
struct Handle {
    buf: Arc<Wiped>,
    /// Lazily created sibling handles over the same buffer; only set on the primary handle.
    stripes: OnceLock<Box<[OnceLock<SecretString>; STRIPES]>>,
}

/// The buffer behind a [`SecretString`]: zeroed (whole allocation) when dropped.
#[derive(Default)]
struct Wiped(String);

impl Drop for Wiped {
    fn drop(&mut self) {
        wipe(std::mem::take(&mut self.0));
    }
}

/// This thread's stripe: threads are numbered round-robin on first use.
#[inline]
fn stripe_index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static INDEX: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    INDEX.with(|c| {
        let v = c.get();
        if v != usize::MAX {
            return v;
        }
        let v = NEXT.fetch_add(1, Ordering::Relaxed) % STRIPES;
        c.set(v);
        v
    })
}

impl SecretString {
    /// Wrap a secret.
    pub fn new(s: impl Into<String>) -> Self {
        SecretString(Arc::new(Handle {
            buf: Arc::new(Wiped(s.into())),
            stripes: OnceLock::new(),
        }))
    }

    /// A clone for hot paths that many threads call at once (the cached bearer token).
    ///
    /// A plain [`Clone`] increments one shared reference count: with many threads reading the same
    /// cached token, that cache line bounces between cores and the read costs several times more
    /// (figures in BENCHMARKS.md, "Mechanisms kept"). This returns one of up to 16 sibling handles
    /// over the *same* buffer (chosen by the calling thread), each with its own reference count on
    /// its own cache line; the bytes are never copied and are wiped when the last handle of any kind
    /// is dropped. The siblings are created on first use and live as long as this secret.
    #[inline]
    pub fn clone_striped(&self) -> SecretString {
        let i = stripe_index();
        if i == 0 {
            return self.clone();
        }
        let stripes = self.0.stripes.get_or_init(Default::default);
        stripes[i]
            .get_or_init(|| {
                SecretString(Arc::new(Handle {
                    buf: self.0.buf.clone(),
                    stripes: OnceLock::new(),
                }))
            })
            .clone()
    }

    /// The secret text.
    pub fn expose(&self) -> &str {
        &self.0.buf.0
    }

    /// Take the secret text out; the caller becomes responsible for it. (A copy when other clones
    /// of this secret are alive.)
    pub fn into_inner(self) -> String {
        match Arc::try_unwrap(self.0) {
            Ok(h) => {
                // Drop the siblings first: they hold the buffer too.
                drop(h.stripes);
                match Arc::try_unwrap(h.buf) {
                    Ok(mut w) => std::mem::take(&mut w.0),
                    Err(shared) => shared.0.clone(),
                }
            }
            Err(shared) => shared.buf.0.clone(),
        }
    }

    /// True when the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.expose().is_empty()
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.expose().len()
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
/// `zeroize` writes byte by byte through volatile stores (slow even for a token-sized buffer),
/// which dominated the cached `bearer_token()` hot path. Here the buffer is
/// overwritten with an ordinary (vectorised, memset-speed) fill, and `black_box` on the buffer plus a
/// compiler fence keep the compiler from treating the writes as dead before the free. Safe Rust,
/// same guarantee in practice as `zeroize` for heap buffers.
pub(crate) fn wipe(s: String) {
    wipe_bytes(s.into_bytes());
}

/// [`wipe`] for a byte buffer (file contents that may not be UTF-8).
pub(crate) fn wipe_bytes(mut v: Vec<u8>) {
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

/// serde helpers for `SecretString` fields (the type itself is serde-agnostic).
pub(crate) mod secret_serde {
    use super::SecretString;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serialize a required secret as its plain value.
    pub fn serialize<S: Serializer>(v: &SecretString, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v.expose())
    }

    /// Deserialize a required secret (JSON null → empty).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SecretString, D::Error> {
        Ok(Option::<String>::deserialize(d)?
            .map(SecretString::new)
            .unwrap_or_default())
    }

    /// serde helpers for `Option<SecretString>`.
    pub mod option {
        use super::*;

        /// Serialize an optional secret as its plain value or `null`.
        pub fn serialize<S: Serializer>(v: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
            match v {
                Some(v) => s.serialize_some(v.expose()),
                None => s.serialize_none(),
            }
        }

        /// Deserialize an optional secret.
        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<SecretString>, D::Error> {
            Ok(Option::<String>::deserialize(d)?.map(SecretString::new))
        }
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

    #[test]
    fn striped_clones_share_one_buffer_with_separate_counts() {
        let secret = SecretString::new("striped-token-value");
        let buf_ptr = secret.expose().as_ptr() as usize;
        // Threads get stripes round-robin: 20 threads cover every stripe at least once.
        let handles: Vec<_> = (0..20)
            .map(|_| {
                let s = secret.clone();
                std::thread::spawn(move || {
                    let a = s.clone_striped();
                    let b = s.clone_striped();
                    // The same thread always gets the same handle.
                    assert!(Arc::ptr_eq(&a.0, &b.0));
                    assert_eq!(a.expose(), "striped-token-value");
                    // Never a copy of the bytes.
                    assert_eq!(a.expose().as_ptr() as usize, buf_ptr);
                    (stripe_index(), Arc::as_ptr(&a.0) as usize)
                })
            })
            .collect();
        let got: Vec<(usize, usize)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        for &(i, p) in &got {
            for &(j, q) in &got {
                // Different stripes have different handles (and so different reference counts).
                assert_eq!(i == j, p == q, "stripe {i} vs {j}");
            }
        }
        let distinct: std::collections::HashSet<usize> = got.iter().map(|g| g.0).collect();
        assert!(distinct.len() > 1);
        // The siblings keep the buffer alive after the primary handle's other clones are gone,
        // and into_inner still returns the text (copied, since siblings hold the buffer).
        let sib = std::thread::spawn({
            let s = secret.clone();
            move || {
                let mut last = s.clone_striped();
                for _ in 0..STRIPES {
                    last = s.clone_striped();
                }
                last
            }
        })
        .join()
        .unwrap();
        assert_eq!(secret.into_inner(), "striped-token-value");
        assert_eq!(sib.expose(), "striped-token-value");
        assert_eq!(sib.into_inner(), "striped-token-value");
    }

    #[test]
    fn handles_do_not_share_cache_lines() {
        assert_eq!(std::mem::align_of::<Handle>(), 64);
        assert_eq!(std::mem::size_of::<Handle>() % 64, 0);
    }
}
