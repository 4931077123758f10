//! Per-connection rate limits and rate-limited logging.
//!
//! The rate limits hold a connection back rather than drop its data: when a device sends faster
//! than its bytes or packets per second allow, the receiver stops reading from its socket until
//! the budget refills, and TCP flow control slows the sender down. A flood costs the receiver no
//! more than the limit, and a device catching up on a backlog loses nothing.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A token bucket that may run into debt: `take` always succeeds, and [`wait`](Self::wait) says
/// how long until the debt is paid. The bucket holds at most one second of budget.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: f64,
    capacity: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket refilling at `per_second`; `None` for 0 (no limit).
    #[must_use]
    pub fn new(per_second: u64, now: Instant) -> Option<TokenBucket> {
        let rate = per_second as f64;
        (per_second > 0).then_some(TokenBucket {
            rate,
            capacity: rate,
            tokens: rate,
            last: now,
        })
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.capacity);
        self.last = now;
    }

    /// Spends `n` tokens.
    pub fn take(&mut self, n: u64, now: Instant) {
        self.refill(now);
        self.tokens -= n as f64;
    }

    /// How long to wait before spending more, or `None` when the bucket is not in debt.
    #[must_use]
    pub fn wait(&mut self, now: Instant) -> Option<Duration> {
        self.refill(now);
        (self.tokens < 0.0).then(|| Duration::from_secs_f64(-self.tokens / self.rate))
    }
}

/// Allows a burst of log lines and then a steady trickle; what is held back is counted and
/// mentioned with the next line that passes, so a flood of bad input cannot flood the log.
#[derive(Debug)]
pub struct LogLimiter {
    bucket: Mutex<TokenBucket>,
    suppressed: AtomicU64,
}

impl LogLimiter {
    /// `per_minute` lines a minute on average, at most `per_minute` at once.
    #[must_use]
    pub fn new(per_minute: u32) -> LogLimiter {
        let per_minute = f64::from(per_minute.max(1));
        LogLimiter {
            bucket: Mutex::new(TokenBucket {
                rate: per_minute / 60.0,
                capacity: per_minute,
                tokens: per_minute,
                last: Instant::now(),
            }),
            suppressed: AtomicU64::new(0),
        }
    }

    /// Whether a line may be logged now; if so, how many were suppressed since the last one.
    pub fn admit(&self) -> Option<u64> {
        let now = Instant::now();
        let mut bucket = self.bucket.lock().ok()?;
        bucket.refill(now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Some(self.suppressed.swap(0, Relaxed))
        } else {
            self.suppressed.fetch_add(1, Relaxed);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_means_no_limit() {
        assert!(TokenBucket::new(0, Instant::now()).is_none());
    }

    #[test]
    fn a_bucket_allows_one_second_then_makes_the_sender_wait() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(1000, t0).unwrap();
        bucket.take(1000, t0);
        assert_eq!(bucket.wait(t0), None, "one second's worth at once is fine");
        bucket.take(500, t0);
        let wait = bucket.wait(t0).unwrap();
        assert!((wait.as_secs_f64() - 0.5).abs() < 1e-9, "{wait:?}");
        // Half a second later the debt is paid.
        assert_eq!(bucket.wait(t0 + Duration::from_millis(500)), None);
        // The budget never exceeds one second, however long the sender was quiet.
        let later = t0 + Duration::from_secs(60);
        bucket.take(1001, later);
        assert!(bucket.wait(later).is_some());
    }

    #[test]
    fn a_steady_sender_at_the_limit_is_never_held_back_for_long() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(100, t0).unwrap();
        let mut waited = Duration::ZERO;
        let mut now = t0;
        for _ in 0..1000 {
            bucket.take(1, now);
            if let Some(w) = bucket.wait(now) {
                waited += w;
                now += w;
            }
            now += Duration::from_millis(10);
        }
        assert!(waited < Duration::from_millis(1), "{waited:?}");
        // Twice the rate: held back to the limit, about 1000 packets in 10 s.
        let mut bucket = TokenBucket::new(100, t0).unwrap();
        let mut now = t0;
        for _ in 0..1000 {
            bucket.take(1, now);
            if let Some(w) = bucket.wait(now) {
                now += w;
            }
            now += Duration::from_millis(5);
        }
        let took = now.duration_since(t0).as_secs_f64();
        assert!((8.9..=10.1).contains(&took), "{took}");
    }

    #[test]
    fn the_log_limiter_counts_what_it_holds_back() {
        let limiter = LogLimiter::new(3);
        assert_eq!(limiter.admit(), Some(0));
        assert_eq!(limiter.admit(), Some(0));
        assert_eq!(limiter.admit(), Some(0));
        assert_eq!(limiter.admit(), None);
        assert_eq!(limiter.admit(), None);
        assert_eq!(limiter.suppressed.load(Relaxed), 2);
    }
}
