//! Time sources. The cache reads the clock once per cached read, so the default clock is a coarse
//! wall clock (`CLOCK_REALTIME_COARSE` through `coarsetime`, a few ns) rather than `SystemTime::now()`;
//! token expiry has second granularity, so millisecond-coarse time is more than enough.
//! Tests inject a [`ManualClock`] to drive time without sleeping.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A source of wall-clock time in milliseconds since the Unix epoch.
pub trait Clock: Send + Sync + 'static {
    /// Now, in milliseconds since 1970-01-01T00:00:00Z.
    fn now_millis(&self) -> u64;

    /// Now, in whole seconds since the epoch.
    fn now_secs(&self) -> u64 {
        self.now_millis() / 1000
    }
}

/// The default clock: the coarse real-time clock of the OS.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[inline]
    fn now_millis(&self) -> u64 {
        coarsetime::Clock::now_since_epoch().as_millis()
    }
}

/// A clock that moves only when told to; for tests.
#[derive(Debug, Default)]
pub struct ManualClock {
    millis: AtomicU64,
}

impl ManualClock {
    /// A manual clock set to `millis` since the epoch.
    pub fn new(millis: u64) -> Arc<Self> {
        Arc::new(ManualClock {
            millis: AtomicU64::new(millis),
        })
    }

    /// A manual clock set to the current real time.
    pub fn starting_now() -> Arc<Self> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        Self::new(now)
    }

    /// Move the clock forward by `millis`.
    pub fn advance_millis(&self, millis: u64) {
        self.millis.fetch_add(millis, Ordering::SeqCst);
    }

    /// Move the clock forward by `secs` seconds.
    pub fn advance_secs(&self, secs: u64) {
        self.advance_millis(secs * 1000);
    }

    /// Set the clock.
    pub fn set_millis(&self, millis: u64) {
        self.millis.store(millis, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_millis(&self) -> u64 {
        self.millis.load(Ordering::SeqCst)
    }
}

/// Shared handle to a clock.
pub type SharedClock = Arc<dyn Clock>;

/// The default shared clock.
pub fn system_clock() -> SharedClock {
    Arc::new(SystemClock)
}
