//! Retry policy shared by the token endpoint ([`crate::token`]) and the Developer API
//! ([`crate::pam`]): capped exponential backoff with "equal jitter" (half the capped delay fixed,
//! half random), a server's `Retry-After` honoured up to the cap. Which failures are retried is
//! decided by the caller (token requests: transport errors, 429, 5xx; Developer API: the same, for
//! safe operations only).

use std::time::Duration;

/// How many times to try and how long to wait between tries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, including the first (1 = no retry).
    pub max_attempts: u32,
    /// Delay before the first retry (doubled for each further retry).
    pub base_delay: Duration,
    /// Upper bound of one delay (also caps a server's `Retry-After`).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 3 attempts, 100 ms base delay, 2 s cap.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries (the references' behaviour).
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The delay before retry number `retry_no` (1 = the first retry): `min(base·2^(n−1), cap)`,
    /// half of it fixed and half random, and never less than the server's `retry_after` (capped).
    pub fn delay(&self, retry_no: u32, retry_after: Option<Duration>) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << retry_no.saturating_sub(1).min(16))
            .min(self.max_delay);
        let half = exp / 2;
        let d = half + half.mul_f64(random_unit());
        match retry_after {
            Some(ra) => d.max(ra.min(self.max_delay)),
            None => d,
        }
    }
}

/// Parse a `Retry-After` (or `x-acs-retry-after`) value: delay-seconds or an HTTP date.
/// Zero, past dates and garbage give `None`.
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return (secs > 0).then(|| Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    when.duration_since(std::time::SystemTime::now()).ok()
}

/// A uniform random number in `[0, 1]` (from the OS RNG through ring).
fn random_unit() -> f64 {
    let mut b = [0u8; 4];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
    u32::from_le_bytes(b) as f64 / u32::MAX as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_are_capped_and_honour_retry_after() {
        let p = RetryPolicy::default();
        for n in 1..20 {
            let d = p.delay(n, None);
            assert!(d <= p.max_delay, "{d:?}");
            assert!(d >= p.base_delay.min(p.max_delay) / 2, "{d:?}");
        }
        assert_eq!(p.delay(1, Some(Duration::from_secs(60))), p.max_delay);
        assert!(p.delay(1, Some(Duration::from_millis(900))) >= Duration::from_millis(900));
    }

    #[test]
    fn retry_after_values() {
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("0"), None);
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(parse_retry_after("Tue, 07 Oct 2000 08:15:30 GMT"), None);
        let future =
            httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(30));
        let d = parse_retry_after(&future).expect("future date");
        assert!(
            d <= Duration::from_secs(30) && d >= Duration::from_secs(28),
            "{d:?}"
        );
    }
}
