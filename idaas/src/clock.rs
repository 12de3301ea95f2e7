//! Time sources. The cache reads the clock once per cached read, so the default clock is a coarse
//! wall clock rather than `SystemTime::now()`: token expiry has second granularity, so a clock with
//! a few milliseconds of resolution is more than enough.
//!
//! [`SystemClock`] reads `CLOCK_REALTIME_COARSE` on Linux/Android through `rustix` (a safe wrapper
//! that uses the vDSO, so it is much cheaper than `SystemTime::now()`).
//! Note that `coarsetime::Clock::now_since_epoch()` is *not* coarse (it calls `SystemTime::now()`
//! and panics on a clock before 1970), so it is not used. Other platforms use `SystemTime::now()`.
//! A clock before the epoch reads as 0 (never a panic).
//!
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
        coarse_now_millis()
    }
}

/// Wall-clock milliseconds since the epoch from the coarse real-time clock (see the module docs).
#[cfg(any(target_os = "linux", target_os = "android"))]
#[inline]
pub fn coarse_now_millis() -> u64 {
    let ts = rustix::time::clock_gettime(rustix::time::ClockId::RealtimeCoarse);
    if ts.tv_sec < 0 {
        return 0;
    }
    (ts.tv_sec as u64) * 1000 + (ts.tv_nsec as u64) / 1_000_000
}

/// Wall-clock milliseconds since the epoch (`SystemTime::now()` on this platform).
#[cfg(not(any(target_os = "linux", target_os = "android")))]
#[inline]
pub fn coarse_now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_clock_tracks_real_time() {
        let sys = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let c = SystemClock.now_millis();
        // The coarse clock ticks every few ms (one jiffy at most).
        assert!(c.abs_diff(sys) < 50, "coarse {c} vs system {sys}");
        let m = ManualClock::new(1_000);
        m.advance_secs(2);
        assert_eq!(m.now_secs(), 3);
    }
}
