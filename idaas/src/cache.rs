//! The refresh-ahead token cache (core.md §8, decision D-19).
//!
//! [`RefreshCache<T>`] holds one value (a token response, an ECS attested document, a PAM API key …)
//! produced by a fetch function that also says when the value expires. It is generic so other
//! modules can reuse it.
//!
//! # States (decision D-19, core.md §8.6)
//! After each successful fetch at time `now` with expiry `expires_at` (lifetime `L = expires_at - now`):
//!
//! * `stale_margin    = min(max(L/5, 30 s), L/2)`
//! * `prefetch_margin = max(L/3, stale_margin + L/10)` (so prefetch comes at least `L/10` before stale)
//! * one random jitter `j` in `[0, L/10)` is **subtracted** from both instants (never added: the
//!   reference's added jitter served expired tokens):
//!   `stale_at = expires_at - stale_margin - j`, `prefetch_at = expires_at - prefetch_margin - j`.
//!
//! Hence `now < prefetch_at < stale_at < expires_at` always, also for short tokens (a 60 s token
//! prefetches after ~24 s and is stale after ~30 s). The states and what [`RefreshCache::with`] does:
//!
//! | state | time | behaviour |
//! |---|---|---|
//! | fresh | `< prefetch_at` | lock-free: one `ArcSwap` load and one clock read |
//! | prefetch | `prefetch_at ..< stale_at` | exactly one refresh starts: on a background thread (`async_refresh`, the default, D-32: *every* caller gets the cached value immediately) or inline in the first caller (`async_refresh: false`: that caller waits, everyone else gets the cached value immediately); if the thread cannot be spawned the refresh runs inline |
//! | stale | `stale_at ..< expires_at` | single flight: one caller fetches, concurrent callers wait for *its* result; if it fails the still-valid cached value is served (with a `log::warn!`, no secrets) |
//! | expired / empty | `≥ expires_at` | single flight; a failure is returned to the fetching caller *and every waiter* (the same error, one request); an expired value is never returned |
//!
//! A lifetime is capped at [`CachePolicy::max_lifetime`] (24 h by default, decision D-35): the
//! instants above are computed as if the value expired then.
//!
//! # Failures and backoff
//! After a failed fetch no new fetch is attempted before a capped, jittered exponential backoff has
//! passed (`base · 2^(n-1)` capped at `max`, then a uniformly random value in `[d/2, d)`; defaults
//! 1 s and 30 s). During the backoff callers get the cached value while it is valid, else the last
//! error, without a request: an outage never turns into a request storm. A success resets it.
//!
//! # Uncacheable values
//! A fetch result whose expiry is not in the future (e.g. a token reply with neither `expires_at` nor
//! `expires_in`, decision D-11) is handed to the callers of that fetch but is refetched on the next call.
//!
//! # Re-entrancy
//! The fetch function must not read the same cache: in the stale and expired states that read would
//! wait for the refresh it is part of, forever (and in the prefetch window it would be served the old
//! value or not, depending on timing). Such a read is detected and fails at once with
//! [`Error::reentrant_call`] (code `ReentrantCall`, kind [`ErrorKind::InvalidArgument`]): while a
//! thread runs a fetch function, a thread-local list holds the caches it is fetching for, and every
//! read that is not served from the fresh path checks it. The fresh path never sees such a read (a
//! fetch only runs when the value is not fresh) and stays lock-free. Reading *another* cache from a
//! fetch function is fine (a plugin asking its client for another scope). A fetch function that hands
//! the read to another thread and waits for it is not detected (it deadlocks as before).
//!
//! # Panics in the fetch function
//! A panicking fetch function (e.g. an application plugin) is caught and becomes an
//! [`ErrorKind::Internal`] error, so waiters are never left blocked.

use crate::clock::SharedClock;
use crate::diag::Diag;
use crate::error::{Error, ErrorKind, Result};
use arc_swap::ArcSwapOption;
use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

thread_local! {
    /// The caches (addresses of their shared state) whose fetch function this thread is running,
    /// innermost last. Several when one fetch reads another cache that fetches in turn.
    static FETCHING: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// Marks the current thread as running the fetch of one cache, for as long as it lives (also when
/// the fetch panics).
struct FetchMarker(usize);

impl FetchMarker {
    fn enter(id: usize) -> FetchMarker {
        FETCHING.with(|f| f.borrow_mut().push(id));
        FetchMarker(id)
    }

    /// True when this thread is inside the fetch of cache `id`.
    fn active(id: usize) -> bool {
        FETCHING.with(|f| f.borrow().contains(&id))
    }
}

impl Drop for FetchMarker {
    fn drop(&mut self) {
        FETCHING.with(|f| {
            let mut f = f.borrow_mut();
            if let Some(i) = f.iter().rposition(|x| *x == self.0) {
                f.remove(i);
            }
        });
    }
}

/// What a fetch function returns: the value and its absolute expiry.
#[derive(Debug)]
pub struct Fetched<T> {
    /// The value.
    pub value: T,
    /// Absolute expiry in milliseconds since the epoch; `0` (or any time not in the future) means
    /// "not cacheable".
    pub expires_at_ms: u64,
}

/// Tuning of a [`RefreshCache`].
#[derive(Clone, Debug)]
pub struct CachePolicy {
    /// Subtract a random jitter (< 10 % of the lifetime) from the prefetch and stale instants.
    pub jitter: bool,
    /// Refresh in the prefetch window on a background thread instead of in the calling thread
    /// (default `true`, decision D-32: no caller waits for the network while a value is still fresh
    /// enough to serve).
    pub async_refresh: bool,
    /// First backoff delay after a failed fetch.
    pub backoff_base: Duration,
    /// Largest backoff delay.
    pub backoff_max: Duration,
    /// Smallest stale margin (time before expiry when the value becomes stale), clamped to half
    /// the lifetime.
    pub min_stale_margin: Duration,
    /// Longest time a caller waits for a refresh that another caller (or the background thread)
    /// is running, before it gets a `Timeout` error (`RefreshWaitTimeout`) instead. `None`: a
    /// client sets twice its HTTP call budget; a bare cache waits without limit. It turns a refresh
    /// that never ends — a token plugin that, from another thread, waits for its own client — into
    /// an error instead of a hang.
    pub max_wait: Option<Duration>,
    /// Longest time a value is kept (default [`MAX_LIFETIME`]): a value whose expiry lies further
    /// ahead is treated as expiring then, so a server's absurd `expires_in` (say `1e30`) cannot pin
    /// a token in the cache forever (decision D-35).
    pub max_lifetime: Duration,
}

/// The default [`CachePolicy::max_lifetime`]: 24 hours.
pub const MAX_LIFETIME: Duration = Duration::from_secs(24 * 3600);

impl Default for CachePolicy {
    fn default() -> Self {
        CachePolicy {
            jitter: true,
            async_refresh: true,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(30),
            min_stale_margin: Duration::from_secs(30),
            max_wait: None,
            max_lifetime: MAX_LIFETIME,
        }
    }
}

/// The instants of a cached value, in milliseconds since the epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheTimes {
    /// When the value was stored.
    pub fetched_at_ms: u64,
    /// Start of the prefetch window.
    pub prefetch_at_ms: u64,
    /// Start of the stale window.
    pub stale_at_ms: u64,
    /// Expiry.
    pub expires_at_ms: u64,
}

struct Entry<T> {
    value: Arc<T>,
    times: CacheTimes,
    /// Version of the value: 1 for the first fetched value, +1 for each later one (never 0).
    version: u64,
}

struct Flight<T> {
    running: bool,
    generation: u64,
    outcome: Option<Result<Arc<Entry<T>>>>,
    failures: u32,
    next_attempt_ms: u64,
    last_error: Option<Error>,
}

type FetchFn<T> = dyn Fn() -> Result<Fetched<T>> + Send + Sync;

struct Inner<T> {
    current: ArcSwapOption<Entry<T>>,
    fetch: Box<FetchFn<T>>,
    clock: SharedClock,
    policy: CachePolicy,
    flight: Mutex<Flight<T>>,
    cv: Condvar,
    // Lock-free hints mirroring `flight`, so the prefetch window does not take the mutex per call.
    running_hint: AtomicBool,
    next_attempt_hint: AtomicU64,
    name: String,
    /// Version of the last stored value (see [`RefreshCache::with_versioned`]).
    versions: AtomicU64,
    /// Where this cache's log records (and those of its fetch) go.
    diag: Diag,
}

/// A single cached value with refresh-ahead, single-flight refresh and backoff (module docs).
/// Cheap to clone (shared state).
pub struct RefreshCache<T: Send + Sync + 'static> {
    inner: Arc<Inner<T>>,
}

impl<T: Send + Sync + 'static> Clone for RefreshCache<T> {
    fn clone(&self) -> Self {
        RefreshCache {
            inner: self.inner.clone(),
        }
    }
}

impl<T: Send + Sync + 'static> std::fmt::Debug for RefreshCache<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshCache")
            .field("name", &self.inner.name)
            .field("times", &self.times())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn random_below(n: u64) -> u64 {
    if n == 0 {
        return 0;
    }
    let mut b = [0u8; 8];
    if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b).is_err() {
        return n / 2;
    }
    u64::from_le_bytes(b) % n
}

impl<T: Send + Sync + 'static> RefreshCache<T> {
    /// A cache named `name` (for log lines) around `fetch`, logging to the `log` facade.
    pub fn new(
        name: impl Into<String>,
        fetch: impl Fn() -> Result<Fetched<T>> + Send + Sync + 'static,
        clock: SharedClock,
        policy: CachePolicy,
    ) -> Self {
        Self::with_diag(name, fetch, clock, policy, Diag::default())
    }

    /// [`RefreshCache::new`] logging to `diag` (a client's log sink).
    pub(crate) fn with_diag(
        name: impl Into<String>,
        fetch: impl Fn() -> Result<Fetched<T>> + Send + Sync + 'static,
        clock: SharedClock,
        policy: CachePolicy,
        diag: Diag,
    ) -> Self {
        RefreshCache {
            inner: Arc::new(Inner {
                current: ArcSwapOption::empty(),
                fetch: Box::new(fetch),
                clock,
                policy,
                flight: Mutex::new(Flight {
                    running: false,
                    generation: 0,
                    outcome: None,
                    failures: 0,
                    next_attempt_ms: 0,
                    last_error: None,
                }),
                cv: Condvar::new(),
                running_hint: AtomicBool::new(false),
                next_attempt_hint: AtomicU64::new(0),
                versions: AtomicU64::new(0),
                name: name.into(),
                diag,
            }),
        }
    }

    /// Call `f` with the current value, refreshing first as the state requires (module docs).
    /// The fresh path is lock-free and allocation-free.
    #[inline]
    pub fn with<R>(&self, f: impl FnOnce(&T) -> R) -> Result<R> {
        self.with_versioned(|v, _| f(v))
    }

    /// [`RefreshCache::with`], also passing the value's version: a number ≥ 1 that changes whenever
    /// a new value is stored (equal versions of one cache mean the same value). Lets a caller that
    /// kept a copy skip copying the value again (the C ABI's `idaas_client_get_token_versioned`).
    #[inline]
    pub fn with_versioned<R>(&self, f: impl FnOnce(&T, u64) -> R) -> Result<R> {
        let now = self.inner.clock.now_millis();
        {
            let guard = self.inner.current.load();
            if let Some(e) = guard.as_ref() {
                if now < e.times.prefetch_at_ms {
                    return Ok(f(&e.value, e.version));
                }
            }
        }
        let e = self.inner.slow(now)?;
        Ok(f(&e.value, e.version))
    }

    /// `Some(f(value, version))` when a value is cached and fresh (before its refresh-ahead
    /// instant), else `None`. Never refreshes, waits or blocks: a caller holding a lock of its own
    /// (a binding's interpreter lock) tries this first and releases its lock only for the full
    /// [`RefreshCache::with_versioned`].
    #[inline]
    pub fn with_fresh<R>(&self, f: impl FnOnce(&T, u64) -> R) -> Option<R> {
        let now = self.inner.clock.now_millis();
        let guard = self.inner.current.load();
        let e = guard.as_ref()?;
        (now < e.times.prefetch_at_ms).then(|| f(&e.value, e.version))
    }

    /// The current value (refreshed as needed), as a shared pointer.
    pub fn get(&self) -> Result<Arc<T>> {
        let now = self.inner.clock.now_millis();
        if let Some(e) = self.inner.current.load().as_ref() {
            if now < e.times.prefetch_at_ms {
                return Ok(e.value.clone());
            }
        }
        Ok(self.inner.slow(now)?.value.clone())
    }

    /// The cached value, if any, without refreshing (may be expired).
    pub fn peek(&self) -> Option<Arc<T>> {
        self.inner.current.load().as_ref().map(|e| e.value.clone())
    }

    /// The instants of the cached value, if any.
    pub fn times(&self) -> Option<CacheTimes> {
        self.inner.current.load().as_ref().map(|e| e.times)
    }

    /// Drop the cached value when `pred` holds for it, so the next call fetches (e.g. the server
    /// rejected the token).
    pub fn invalidate_if(&self, pred: impl Fn(&T) -> bool) {
        let cur = self.inner.current.load_full();
        if let Some(e) = cur {
            if pred(&e.value) {
                let _ = self
                    .inner
                    .current
                    .compare_and_swap(&Some(e), None::<Arc<Entry<T>>>);
            }
        }
    }

    /// Drop the cached value and any backoff.
    pub fn clear(&self) {
        self.inner.current.store(None);
        let mut st = lock(&self.inner.flight);
        st.next_attempt_ms = 0;
        st.failures = 0;
        self.inner.next_attempt_hint.store(0, Ordering::Relaxed);
    }
}

impl<T: Send + Sync + 'static> Inner<T> {
    /// The identity of this cache in [`FETCHING`].
    fn id(&self) -> usize {
        self as *const Self as usize
    }

    fn slow(self: &Arc<Self>, now: u64) -> Result<Arc<Entry<T>>> {
        let _diag = self.diag.enter();
        if FetchMarker::active(self.id()) {
            // A read from inside our own fetch function (module docs, "Re-entrancy").
            return Err(Error::reentrant_call(&self.name));
        }
        match self.current.load_full() {
            Some(e) if now < e.times.stale_at_ms => {
                // Prefetch window.
                Ok(self.prefetch(now).unwrap_or(e))
            }
            Some(e) if now < e.times.expires_at_ms => {
                // Stale but valid: single flight; serve the cached value if the refresh fails.
                match self.refresh_blocking(now) {
                    Ok(n) => Ok(n),
                    Err(_) => {
                        let now2 = self.clock.now_millis();
                        match self.current.load_full() {
                            Some(c) if now2 < c.times.expires_at_ms => Ok(c),
                            _ if now2 < e.times.expires_at_ms => Ok(e),
                            _ => Err(self.last_error_or_generic()),
                        }
                    }
                }
            }
            _ => self.refresh_blocking(now),
        }
    }

    fn last_error_or_generic(&self) -> Error {
        lock(&self.flight).last_error.clone().unwrap_or_else(|| {
            Error::new(
                ErrorKind::Internal,
                "ConcurrentOperationFailed",
                format!("{}: no value after a refresh attempt", self.name),
            )
        })
    }

    /// One caller starts a refresh; returns the new entry when it ran inline and succeeded.
    fn prefetch(self: &Arc<Self>, now: u64) -> Option<Arc<Entry<T>>> {
        if self.running_hint.load(Ordering::Relaxed)
            || now < self.next_attempt_hint.load(Ordering::Relaxed)
        {
            return None;
        }
        {
            let mut st = lock(&self.flight);
            if st.running || now < st.next_attempt_ms {
                return None;
            }
            // Double-check under the lock: another caller may have stored a refreshed value since
            // our caller loaded the old one (a refresher stores before it clears `running`, so a
            // fresh value is visible here). Without this a second, duplicate refresh starts.
            if let Some(cur) = self.current.load().as_ref() {
                if now < cur.times.prefetch_at_ms {
                    return None;
                }
            }
            st.running = true;
            self.running_hint.store(true, Ordering::Relaxed);
        }
        if self.policy.async_refresh {
            let me = self.clone();
            let spawned = std::thread::Builder::new()
                .name("idaas-refresh".into())
                .spawn(move || {
                    // run_fetch logs a failure itself.
                    let _ = me.run_fetch();
                });
            match spawned {
                Ok(_) => return None,
                Err(e) => crate::diag::event!(
                    Warn,
                    "{}: cannot spawn refresh thread ({e}); refreshing inline",
                    self.name
                ),
            }
        }
        self.run_fetch().ok()
    }

    fn refresh_blocking(&self, now: u64) -> Result<Arc<Entry<T>>> {
        let mut st = lock(&self.flight);
        if st.running {
            let gen = st.generation;
            let give_up = self.policy.max_wait.map(|d| std::time::Instant::now() + d);
            while st.running && st.generation == gen {
                st = match give_up {
                    None => self.cv.wait(st).unwrap_or_else(|e| e.into_inner()),
                    Some(at) => {
                        let left = at.saturating_duration_since(std::time::Instant::now());
                        if left.is_zero() {
                            return Err(self.wait_timed_out());
                        }
                        self.cv
                            .wait_timeout(st, left)
                            .unwrap_or_else(|e| e.into_inner())
                            .0
                    }
                };
            }
            return match &st.outcome {
                Some(Ok(e)) => Ok(e.clone()),
                Some(Err(e)) => Err(e.clone()),
                None => Err(Error::internal("refresh finished without an outcome")),
            };
        }
        // Double-check: another caller may have refreshed since our load.
        if let Some(e) = self.current.load_full() {
            if self.clock.now_millis() < e.times.stale_at_ms {
                return Ok(e);
            }
        }
        if now < st.next_attempt_ms {
            return Err(st.last_error.clone().unwrap_or_else(|| {
                Error::internal(format!("{}: refresh backing off", self.name))
            }));
        }
        st.running = true;
        self.running_hint.store(true, Ordering::Relaxed);
        drop(st);
        self.run_fetch()
    }

    #[cold]
    fn wait_timed_out(&self) -> Error {
        Error::new(
            ErrorKind::Timeout,
            "RefreshWaitTimeout",
            format!(
                "{}: gave up waiting for the refresh in progress after {:?} (a token plugin waiting, from another thread, for its own client never finishes its refresh)",
                self.name,
                self.policy.max_wait.unwrap_or_default()
            ),
        )
    }

    /// Run the fetch function (the caller has set `running`), store and publish the outcome.
    fn run_fetch(&self) -> Result<Arc<Entry<T>>> {
        // The fetch and this cache's own records go to the client's sink, also on the background
        // refresh thread.
        let _diag = self.diag.enter();
        let marker = FetchMarker::enter(self.id());
        let res = catch_unwind(AssertUnwindSafe(|| (self.fetch)()));
        drop(marker);
        let res = res.unwrap_or_else(|_| {
            Err(Error::internal(format!(
                "{}: the token source panicked",
                self.name
            )))
        });
        let now = self.clock.now_millis();
        let result = res.map(|f| {
            let times = self.times_for(now, f.expires_at_ms);
            let e = Arc::new(Entry {
                times,
                value: Arc::new(f.value),
                version: self.versions.fetch_add(1, Ordering::Relaxed) + 1,
            });
            self.current.store(Some(e.clone()));
            e
        });
        let mut st = lock(&self.flight);
        // The failure's log line is written after the lock is released: a log sink may call back
        // into this cache.
        let mut failure_line = None;
        match &result {
            Ok(e) => {
                st.failures = 0;
                st.next_attempt_ms = 0;
                st.last_error = None;
                st.outcome = Some(Ok(e.clone()));
            }
            Err(err) => {
                st.failures = st.failures.saturating_add(1);
                let backoff = self.backoff_ms(st.failures);
                st.next_attempt_ms = now + backoff;
                let valid_for = self
                    .current
                    .load()
                    .as_ref()
                    .filter(|cur| now < cur.times.expires_at_ms)
                    .map(|cur| (cur.times.expires_at_ms - now) / 1000);
                failure_line = Some((st.failures, backoff, valid_for));
                st.last_error = Some(err.clone());
                st.outcome = Some(Err(err.clone()));
            }
        }
        self.next_attempt_hint
            .store(st.next_attempt_ms, Ordering::Relaxed);
        st.running = false;
        self.running_hint.store(false, Ordering::Relaxed);
        st.generation = st.generation.wrapping_add(1);
        drop(st);
        self.cv.notify_all();
        // Log lines are written once the fetch is published and the lock released: a log sink may
        // call back into this cache. One line per fetch, never per waiting caller; no secrets.
        if let Ok(e) = &result {
            if e.times.expires_at_ms > now {
                crate::diag::event!(
                    Debug,
                    "{}: refreshed; valid for {} s (prefetch in {} s)",
                    self.name,
                    (e.times.expires_at_ms - now) / 1000,
                    e.times.prefetch_at_ms.saturating_sub(now) / 1000
                );
            } else {
                crate::diag::event!(
                    Debug,
                    "{}: fetched a value without a future expiry (not cached)",
                    self.name
                );
            }
        }
        if let (Some((failures, backoff, valid_for)), Err(err)) = (failure_line, &result) {
            match valid_for {
                Some(secs) => crate::diag::event!(
                    Warn,
                    "{}: refresh failed (attempt {failures}); serving the cached value, valid for {secs} s more; next attempt in {backoff} ms: {err}",
                    self.name
                ),
                // No cached value: the callers receive this error themselves, so it is only worth a
                // debug line (a warning would repeat it, e.g. on the CLI's stderr).
                None => crate::diag::event!(
                    Debug,
                    "{}: fetch failed (attempt {failures}); no valid cached value; next attempt in {backoff} ms: {err}",
                    self.name
                ),
            }
        }
        result
    }

    fn backoff_ms(&self, failures: u32) -> u64 {
        let base = self.policy.backoff_base.as_millis() as u64;
        let max = self.policy.backoff_max.as_millis() as u64;
        let exp = failures.saturating_sub(1).min(30);
        let d = base.saturating_mul(1u64 << exp).min(max).max(1);
        d / 2 + random_below(d - d / 2)
    }

    fn times_for(&self, now: u64, expires_at: u64) -> CacheTimes {
        compute_times(now, expires_at, &self.policy)
    }
}

/// The instants of a value fetched at `now` expiring at `expires_at` (module docs).
pub fn compute_times(now: u64, expires_at: u64, policy: &CachePolicy) -> CacheTimes {
    if expires_at <= now {
        return CacheTimes {
            fetched_at_ms: now,
            prefetch_at_ms: 0,
            stale_at_ms: 0,
            expires_at_ms: 0,
        };
    }
    let max_lifetime = u64::try_from(policy.max_lifetime.as_millis()).unwrap_or(u64::MAX);
    let expires_at = expires_at.min(now.saturating_add(max_lifetime.max(1)));
    let l = expires_at - now;
    let min_stale = policy.min_stale_margin.as_millis() as u64;
    let stale_margin = (l / 5).max(min_stale).min(l / 2);
    let prefetch_margin = (l / 3).max(stale_margin + l / 10);
    let j = if policy.jitter {
        random_below(l / 10)
    } else {
        0
    };
    let mut stale = expires_at - stale_margin - j;
    let mut prefetch = expires_at - prefetch_margin - j;
    // Degenerate lifetimes of a few ms: keep the ordering anyway.
    stale = stale.min(expires_at - 1).max(now);
    prefetch = prefetch.min(stale.saturating_sub(1)).max(now);
    CacheTimes {
        fetched_at_ms: now,
        prefetch_at_ms: prefetch,
        stale_at_ms: stale,
        expires_at_ms: expires_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};
    use std::sync::atomic::AtomicUsize;

    const T0: u64 = 1_760_000_000_000;

    #[test]
    fn ordering_holds_for_all_lifetimes() {
        let p = CachePolicy::default();
        for l in [
            2u64, 10, 999, 1_000, 10_000, 60_000, 300_000, 1_200_000, 3_600_000, 86_400_000,
        ] {
            for _ in 0..50 {
                let t = compute_times(T0, T0 + l, &p);
                assert!(T0 <= t.prefetch_at_ms, "{l}");
                assert!(t.prefetch_at_ms < t.stale_at_ms, "{l}: {t:?}");
                assert!(t.stale_at_ms < t.expires_at_ms, "{l}: {t:?}");
                if l >= 1000 {
                    assert!(T0 < t.prefetch_at_ms);
                    // jitter is at most 10% of the lifetime
                    let nj = compute_times(
                        T0,
                        T0 + l,
                        &CachePolicy {
                            jitter: false,
                            ..p.clone()
                        },
                    );
                    assert!(nj.stale_at_ms - t.stale_at_ms < l / 10 + 1);
                }
            }
        }
        let t = compute_times(T0, T0 + 60_000, &CachePolicy { jitter: false, ..p });
        assert_eq!(t.stale_at_ms - T0, 30_000);
        assert_eq!(t.prefetch_at_ms - T0, 24_000);
    }

    /// A cache counting its fetches, refreshing inline (`async_refresh: false`) so the test can
    /// observe each refresh in the calling thread.
    fn counting(
        clock: Arc<ManualClock>,
        lifetime_ms: u64,
        fail: Arc<AtomicBool>,
    ) -> (RefreshCache<u64>, Arc<AtomicUsize>) {
        let n = Arc::new(AtomicUsize::new(0));
        let n2 = n.clone();
        let c2 = clock.clone();
        let cache = RefreshCache::new(
            "test",
            move || {
                let k = n2.fetch_add(1, Ordering::SeqCst) as u64 + 1;
                if fail.load(Ordering::SeqCst) {
                    return Err(Error::new(ErrorKind::Server, "boom", "down"));
                }
                Ok(Fetched {
                    value: k,
                    expires_at_ms: c2.now_millis() + lifetime_ms,
                })
            },
            clock,
            CachePolicy {
                jitter: false,
                async_refresh: false,
                ..CachePolicy::default()
            },
        );
        (cache, n)
    }

    #[test]
    fn default_prefetch_refreshes_in_background_and_no_caller_waits() {
        assert!(CachePolicy::default().async_refresh, "D-32");
        let clock = ManualClock::new(T0);
        let n = Arc::new(AtomicUsize::new(0));
        // The second fetch blocks until the test releases it: a caller that waited for it would
        // hang the test (bounded by recv_timeout below).
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let release_rx = Mutex::new(release_rx);
        let (started_tx, started_rx) = std::sync::mpsc::channel::<std::thread::ThreadId>();
        let started_tx = Mutex::new(started_tx);
        let (n2, c2) = (n.clone(), clock.clone());
        let cache = RefreshCache::new(
            "bg",
            move || {
                let k = n2.fetch_add(1, Ordering::SeqCst) as u64 + 1;
                if k == 2 {
                    lock(&started_tx).send(std::thread::current().id()).unwrap();
                    lock(&release_rx)
                        .recv_timeout(Duration::from_secs(10))
                        .unwrap();
                }
                Ok(Fetched {
                    value: k,
                    expires_at_ms: c2.now_millis() + 60_000,
                })
            },
            clock.clone(),
            CachePolicy {
                jitter: false,
                ..CachePolicy::default()
            },
        );
        assert_eq!(cache.with(|v| *v).unwrap(), 1);
        clock.advance_millis(25_000); // prefetch window (24 s .. 30 s)
        let t = std::time::Instant::now();
        for _ in 0..1000 {
            // Every caller, including the one that started the refresh, gets the cached value.
            assert_eq!(cache.with(|v| *v).unwrap(), 1);
        }
        assert!(t.elapsed() < Duration::from_secs(5));
        let refresher = started_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_ne!(refresher, std::thread::current().id(), "refreshed inline");
        assert_eq!(n.load(Ordering::SeqCst), 2, "exactly one refresh started");
        release_tx.send(()).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while cache.with(|v| *v).unwrap() != 2 {
            assert!(std::time::Instant::now() < deadline, "refresh never landed");
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(n.load(Ordering::SeqCst), 2);
        // The new value is fresh again: no further refresh.
        assert_eq!(cache.with(|v| *v).unwrap(), 2);
        assert_eq!(n.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn fresh_prefetch_stale_expired() {
        let clock = ManualClock::new(T0);
        let fail = Arc::new(AtomicBool::new(false));
        let (c, n) = counting(clock.clone(), 60_000, fail.clone());
        assert_eq!(c.with(|v| *v).unwrap(), 1);
        assert_eq!(c.with(|v| *v).unwrap(), 1);
        assert_eq!(n.load(Ordering::SeqCst), 1);
        clock.advance_millis(25_000); // prefetch window
        assert_eq!(c.with(|v| *v).unwrap(), 2);
        assert_eq!(n.load(Ordering::SeqCst), 2);
        // Failure while stale but valid: serve cached, then back off.
        fail.store(true, Ordering::SeqCst);
        clock.advance_millis(31_000); // 31 s after the 2nd fetch: stale (30 s)
        assert_eq!(c.with(|v| *v).unwrap(), 2);
        assert_eq!(n.load(Ordering::SeqCst), 3);
        for _ in 0..100 {
            assert_eq!(c.with(|v| *v).unwrap(), 2);
        }
        assert_eq!(n.load(Ordering::SeqCst), 3, "no storm during backoff");
        clock.advance_millis(1_000);
        assert_eq!(c.with(|v| *v).unwrap(), 2);
        assert_eq!(n.load(Ordering::SeqCst), 4);
        // After expiry: the error, never the expired value.
        clock.advance_millis(30_000);
        let e = c.with(|v| *v).unwrap_err();
        assert_eq!(e.code(), "boom");
        fail.store(false, Ordering::SeqCst);
        clock.advance_millis(10_000);
        assert_eq!(c.with(|v| *v).unwrap(), n.load(Ordering::SeqCst) as u64);
    }

    #[test]
    fn with_fresh_reads_only_a_fresh_value_and_never_fetches() {
        let clock = ManualClock::new(T0);
        let (c, n) = counting(clock.clone(), 60_000, Arc::new(AtomicBool::new(false)));
        assert_eq!(c.with_fresh(|v, _| *v), None, "nothing cached: no fetch");
        assert_eq!(n.load(Ordering::SeqCst), 0);
        assert_eq!(c.with(|v| *v).unwrap(), 1);
        let (value, version) = c.with_fresh(|v, ver| (*v, ver)).unwrap();
        assert_eq!(value, 1);
        assert_eq!(c.with_versioned(|_, ver| ver).unwrap(), version);
        clock.advance_millis(25_000); // refresh-ahead window: the full read must refresh
        assert_eq!(c.with_fresh(|v, _| *v), None);
        assert_eq!(n.load(Ordering::SeqCst), 1, "with_fresh never fetches");
        assert_eq!(c.with(|v| *v).unwrap(), 2);
        assert_eq!(c.with_fresh(|v, _| *v), Some(2));
    }

    #[test]
    fn single_flight_shares_errors_and_values() {
        let clock = ManualClock::new(T0);
        let calls = Arc::new(AtomicUsize::new(0));
        let calls2 = calls.clone();
        let c2 = clock.clone();
        let cache = RefreshCache::new(
            "sf",
            move || {
                calls2.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(100));
                Ok(Fetched {
                    value: 7u64,
                    expires_at_ms: c2.now_millis() + 1_000_000,
                })
            },
            clock,
            CachePolicy::default(),
        );
        let handles: Vec<_> = (0..32)
            .map(|_| {
                let c = cache.clone();
                std::thread::spawn(move || c.with(|v| *v).unwrap())
            })
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), 7);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    /// What the inner reads of a self-reading fetch function returned.
    type Seen = Arc<Mutex<Vec<Result<u64>>>>;

    /// A cache whose fetch function reads the cache itself (through `me`), recording what that read
    /// returned.
    fn self_reading(clock: Arc<ManualClock>, async_refresh: bool) -> (RefreshCache<u64>, Seen) {
        let me: Arc<std::sync::OnceLock<RefreshCache<u64>>> = Arc::default();
        let seen: Seen = Arc::default();
        let (me2, seen2, c2) = (me.clone(), seen.clone(), clock.clone());
        let n = AtomicUsize::new(0);
        let cache = RefreshCache::new(
            "reentrant",
            move || {
                let k = n.fetch_add(1, Ordering::SeqCst) as u64 + 1;
                if k > 1 {
                    let inner = me2.get().unwrap().with(|v| *v);
                    lock(&seen2).push(inner);
                }
                Ok(Fetched {
                    value: k,
                    expires_at_ms: c2.now_millis() + 60_000,
                })
            },
            clock,
            CachePolicy {
                jitter: false,
                async_refresh,
                ..CachePolicy::default()
            },
        );
        me.set(cache.clone()).ok().unwrap();
        (cache, seen)
    }

    /// Run `f` on another thread; fail (instead of hanging the suite) if it does not finish.
    fn within_5s<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx.recv_timeout(Duration::from_secs(5))
            .expect("re-entrant read deadlocked")
    }

    fn assert_reentrant(seen: &Mutex<Vec<Result<u64>>>) {
        let seen = lock(seen);
        assert_eq!(seen.len(), 1, "{seen:?}");
        let e = seen[0].as_ref().unwrap_err();
        assert!(e.is_reentrant_call(), "{e:?}");
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(e.message().contains("re-entrant call"), "{e}");
    }

    #[test]
    fn reentrant_read_fails_at_once_in_caller_refresh() {
        for advance in [31_000u64, 61_000] {
            // stale (a waiting read) and expired (a blocking refresh) windows, refreshed in-caller
            let clock = ManualClock::new(T0);
            let (cache, seen) = self_reading(clock.clone(), false);
            assert_eq!(cache.with(|v| *v).unwrap(), 1);
            clock.advance_millis(advance);
            let c = cache.clone();
            let r = within_5s(move || c.with(|v| *v));
            assert_eq!(r.unwrap(), 2, "the outer fetch itself succeeds");
            assert_reentrant(&seen);
            // The marker is gone: reads from this thread work again.
            assert_eq!(cache.with(|v| *v).unwrap(), 2);
        }
    }

    #[test]
    fn reentrant_read_fails_at_once_in_background_refresh() {
        let clock = ManualClock::new(T0);
        let (cache, seen) = self_reading(clock.clone(), true);
        assert_eq!(cache.with(|v| *v).unwrap(), 1);
        clock.advance_millis(25_000); // prefetch window: the refresh runs on a background thread
        assert_eq!(cache.with(|v| *v).unwrap(), 1);
        let c = cache.clone();
        within_5s(move || {
            while c.with(|v| *v).unwrap() != 2 {
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        assert_reentrant(&seen);
    }

    #[test]
    fn a_fetch_may_read_another_cache() {
        let clock = ManualClock::new(T0);
        let (other, _) = self_reading(clock.clone(), false);
        let c2 = clock.clone();
        let outer = RefreshCache::new(
            "outer",
            move || {
                let v = other.with(|v| *v)?;
                Ok(Fetched {
                    value: v + 100,
                    expires_at_ms: c2.now_millis() + 60_000,
                })
            },
            clock,
            CachePolicy::default(),
        );
        assert_eq!(within_5s(move || outer.with(|v| *v)).unwrap(), 101);
    }

    #[test]
    fn uncacheable_and_panics() {
        let clock = ManualClock::new(T0);
        let n = Arc::new(AtomicUsize::new(0));
        let n2 = n.clone();
        let cache = RefreshCache::new(
            "u",
            move || {
                let k = n2.fetch_add(1, Ordering::SeqCst);
                if k == 2 {
                    panic!("plugin bug");
                }
                Ok(Fetched {
                    value: k,
                    expires_at_ms: 0,
                })
            },
            clock,
            CachePolicy::default(),
        );
        assert_eq!(cache.with(|v| *v).unwrap(), 0);
        assert_eq!(cache.with(|v| *v).unwrap(), 1);
        let e = cache.with(|v| *v).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Internal);
    }
}
