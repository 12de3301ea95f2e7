//! Optional in-process cache of API keys (model: the AWS Secrets Manager caching clients).
//!
//! * Opt-in ([`super::PamClientBuilder::api_key_cache`]); one entry per credential identifier.
//! * A value is **fresh** for `ttl` after it was fetched (default 1 h) and served from memory without
//!   a lock or a shared write: the identifier map is copy-on-write behind an `ArcSwap` (identifiers
//!   are added rarely, read constantly), then an `ArcSwap` load of the entry, one clock read and a
//!   striped clone of the key ([`SecretString::clone_striped`]).
//! * **Single flight**: when an entry is missing or expired, one caller fetches while concurrent
//!   callers for the same identifier wait for that one result (success or failure) instead of
//!   sending their own request.
//! * **Stale on error**: when a refresh fails with a retryable error (transport, timeout, 5xx, 429)
//!   and the old value is younger than `ttl + grace`, the old value is served (logged as a warning)
//!   and no new attempt is made for `retry_interval`. Non-retryable errors (401/403/404 …) and
//!   failures past the grace period are returned: a revoked or deleted key is not served on.
//! * `None` results (credential without `apiKeyContent`) are cached like values; errors are not.
//! * [`ApiKeyCache::invalidate`] / [`ApiKeyCache::invalidate_all`] drop entries; the clock is
//!   injectable (tests use [`crate::clock::ManualClock`]).

use crate::clock::SharedClock;
use crate::error::{Error, Result};
use crate::secret::SecretString;
use arc_swap::{ArcSwap, ArcSwapOption};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Options of the API-key cache.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKeyCacheOptions {
    /// How long a fetched key is served without asking the server again (default 1 h).
    pub ttl: Duration,
    /// How long past `ttl` a key may still be served while refreshes fail (default 15 min).
    pub grace: Duration,
    /// While serving a stale key, the pause between two refresh attempts (default 5 s).
    pub retry_interval: Duration,
    /// Most identifiers kept (default 1024); when full, expired entries are dropped first, then an
    /// arbitrary one.
    pub max_entries: usize,
}

impl Default for ApiKeyCacheOptions {
    fn default() -> Self {
        ApiKeyCacheOptions {
            ttl: Duration::from_secs(3600),
            grace: Duration::from_secs(900),
            retry_interval: Duration::from_secs(5),
            max_entries: 1024,
        }
    }
}

struct Entry {
    key: Option<SecretString>,
    fetched_ms: u64,
}

#[derive(Default)]
struct SlotState {
    /// When a stale value is being served after a failed refresh: no new attempt before this time.
    next_attempt_ms: u64,
    /// The outcome of the last fetch that failed (handed to callers that waited for it).
    last_error: Option<Error>,
}

/// Identifier → its slot.
type SlotMap = HashMap<String, Arc<Slot>>;

#[derive(Default)]
struct Slot {
    value: ArcSwapOption<Entry>,
    generation: AtomicU64,
    state: Mutex<SlotState>,
}

/// Optional in-process cache of API keys (model: the AWS Secrets Manager caching clients).
///
/// * Opt-in ([`super::PamClientBuilder::api_key_cache`]); one entry per credential identifier.
/// * A value is **fresh** for `ttl` after it was fetched (default 1 h) and served from memory without
///   a lock (copy-on-write identifier map, `ArcSwap` loads, a striped clone of the key).
/// * **Single flight**: when an entry is missing or expired, one caller fetches while concurrent
///   callers for the same identifier wait for that one result (success or failure) instead of
///   sending their own request.
/// * **Stale on error**: when a refresh fails with a retryable error (transport, timeout, 5xx, 429)
///   and the old value is younger than `ttl + grace`, the old value is served (logged as a warning)
///   and no new attempt is made for `retry_interval`. Non-retryable errors (401/403/404 …) and
///   failures past the grace period are returned: a revoked or deleted key is not served on.
/// * `None` results (credential without `apiKeyContent`) are cached like values; errors are not.
/// * [`ApiKeyCache::invalidate`] / [`ApiKeyCache::invalidate_all`] drop entries; the clock is
///   injectable (tests use [`crate::clock::ManualClock`]).
///
/// Cheap to clone (shared state).
#[derive(Clone)]
pub struct ApiKeyCache {
    inner: Arc<CacheInner>,
}

struct CacheInner {
    opts: ApiKeyCacheOptions,
    ttl_ms: u64,
    grace_ms: u64,
    clock: SharedClock,
    /// Copy-on-write: readers load it lock-free; writers (new identifier, invalidation) hold
    /// `map_write`, copy, change and store.
    map: ArcSwap<SlotMap>,
    map_write: Mutex<()>,
    fetches: AtomicU64,
}

impl std::fmt::Debug for ApiKeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyCache")
            .field("options", &self.inner.opts)
            .field("entries", &self.len())
            .finish()
    }
}

impl ApiKeyCache {
    /// A cache with `options`, reading time from `clock`.
    pub fn new(options: ApiKeyCacheOptions, clock: SharedClock) -> Self {
        ApiKeyCache {
            inner: Arc::new(CacheInner {
                ttl_ms: options.ttl.as_millis() as u64,
                grace_ms: options.grace.as_millis() as u64,
                opts: options,
                clock,
                map: ArcSwap::from_pointee(HashMap::new()),
                map_write: Mutex::new(()),
                fetches: AtomicU64::new(0),
            }),
        }
    }

    /// The options in use.
    pub fn options(&self) -> &ApiKeyCacheOptions {
        &self.inner.opts
    }

    /// Number of identifiers held.
    pub fn len(&self) -> usize {
        self.read_map().len()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many fetches the cache started (successful or not) since it was created.
    pub fn fetch_count(&self) -> u64 {
        self.inner.fetches.load(Ordering::Relaxed)
    }

    /// Drop the entry of `credential_identifier` (the next read fetches).
    pub fn invalidate(&self, credential_identifier: &str) {
        let _w = self.write_lock();
        if self.read_map().contains_key(credential_identifier) {
            let mut map = SlotMap::clone(&self.read_map());
            map.remove(credential_identifier);
            self.inner.map.store(Arc::new(map));
        }
    }

    /// Drop every entry.
    pub fn invalidate_all(&self) {
        let _w = self.write_lock();
        self.inner.map.store(Arc::new(HashMap::new()));
    }

    fn read_map(&self) -> arc_swap::Guard<Arc<SlotMap>> {
        self.inner.map.load()
    }

    fn write_lock(&self) -> MutexGuard<'_, ()> {
        self.inner
            .map_write
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    fn slot(&self, id: &str, now: u64) -> Arc<Slot> {
        if let Some(s) = self.read_map().get(id) {
            return s.clone();
        }
        let _w = self.write_lock();
        if let Some(s) = self.read_map().get(id) {
            return s.clone();
        }
        let mut map = SlotMap::clone(&self.read_map());
        if map.len() >= self.inner.opts.max_entries.max(1) {
            let limit = self.inner.ttl_ms.saturating_add(self.inner.grace_ms);
            map.retain(|_, s| {
                s.value
                    .load()
                    .as_ref()
                    .is_some_and(|e| now < e.fetched_ms.saturating_add(limit))
            });
            if map.len() >= self.inner.opts.max_entries.max(1) {
                if let Some(k) = map.keys().next().cloned() {
                    map.remove(&k);
                }
            }
        }
        let s = Arc::new(Slot::default());
        map.insert(id.to_string(), s.clone());
        self.inner.map.store(Arc::new(map));
        s
    }

    fn fresh(&self, e: &Entry, now: u64) -> bool {
        now < e.fetched_ms.saturating_add(self.inner.ttl_ms)
    }

    fn usable_stale(&self, e: &Entry, now: u64) -> bool {
        now < e
            .fetched_ms
            .saturating_add(self.inner.ttl_ms)
            .saturating_add(self.inner.grace_ms)
    }

    /// The cached key of `id`, or the result of `fetch` (single flight; see the module docs).
    pub fn get<F>(&self, id: &str, fetch: F) -> Result<Option<SecretString>>
    where
        F: FnOnce() -> Result<Option<SecretString>>,
    {
        let now = self.inner.clock.now_millis();
        // Hot path: two `ArcSwap` loads, a hash lookup and a striped clone of the key; no lock and
        // no write to memory shared with other threads.
        if let Some(slot) = self.read_map().get(id) {
            if let Some(e) = slot.value.load().as_ref() {
                if self.fresh(e, now) {
                    return Ok(e.key.as_ref().map(SecretString::clone_striped));
                }
            }
        }
        let slot = self.slot(id, now);
        let generation = slot.generation.load(Ordering::Acquire);
        let mut st = slot.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = self.inner.clock.now_millis();
        let current = slot.value.load_full();
        if let Some(e) = current.as_ref() {
            if self.fresh(e, now) {
                return Ok(e.key.clone());
            }
        }
        let stale = current.as_ref().filter(|e| self.usable_stale(e, now));
        if slot.generation.load(Ordering::Acquire) != generation {
            // Another caller fetched while we waited for the lock, and it failed (else the value
            // would be fresh): share its outcome instead of sending another request.
            if let Some(e) = stale {
                return Ok(e.key.clone());
            }
            if let Some(err) = &st.last_error {
                return Err(err.clone());
            }
        }
        if let Some(e) = stale {
            if now < st.next_attempt_ms {
                return Ok(e.key.clone());
            }
        }
        self.inner.fetches.fetch_add(1, Ordering::Relaxed);
        let result = fetch();
        slot.generation.fetch_add(1, Ordering::AcqRel);
        match result {
            Ok(key) => {
                st.last_error = None;
                st.next_attempt_ms = 0;
                slot.value.store(Some(Arc::new(Entry {
                    key: key.clone(),
                    fetched_ms: self.inner.clock.now_millis(),
                })));
                Ok(key)
            }
            Err(err) => {
                let stale = stale.filter(|_| err.is_retryable());
                st.last_error = Some(err.clone());
                match stale {
                    Some(e) => {
                        crate::diag::event!(
                            Warn,
                            "refreshing API key {id:?} failed ({}); serving the cached value",
                            err.code()
                        );
                        st.next_attempt_ms =
                            now.saturating_add(self.inner.opts.retry_interval.as_millis() as u64);
                        Ok(e.key.clone())
                    }
                    None => Err(err),
                }
            }
        }
    }
}
