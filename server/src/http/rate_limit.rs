//! Per-token request limits: a token bucket per device, refilled at a
//! steady rate, so one runaway script cannot starve the other devices. A
//! request over the limit gets 429 with `Retry-After` (the terminal waits
//! that long before it retries). The defaults sit far above a shift's
//! traffic: a device syncs a few requests at a time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use uuid::Uuid;

#[derive(Debug)]
pub struct RateLimit {
    /// Requests per second a token earns; 0 turns the limit off.
    rate: f64,
    /// Requests a token may make at once.
    burst: f64,
    buckets: Mutex<HashMap<Uuid, (f64, Instant)>>,
}

impl RateLimit {
    pub fn new(rate: u32, burst: u32) -> Self {
        Self {
            rate: f64::from(rate),
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request of `device` at `now`; how long to wait when over.
    pub fn take(&self, device: Uuid, now: Instant) -> Result<(), Duration> {
        if self.rate <= 0.0 {
            return Ok(());
        }
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(()); // a poisoned lock must not stop the service
        };
        let (tokens, last) = buckets.entry(device).or_insert((self.burst, now));
        let earned = now.saturating_duration_since(*last).as_secs_f64() * self.rate;
        *tokens = (*tokens + earned).min(self.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - *tokens) / self.rate))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_rate_per_token() {
        let limit = RateLimit::new(2, 3);
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limit.take(a, t0), Ok(()));
        }
        let wait = limit.take(a, t0).unwrap_err();
        assert!(wait > Duration::from_millis(400) && wait <= Duration::from_millis(500));
        // Another token is not held back.
        assert_eq!(limit.take(b, t0), Ok(()));
        // Half a second earns one request at 2 per second.
        assert_eq!(limit.take(a, t0 + Duration::from_millis(500)), Ok(()));
        assert!(limit.take(a, t0 + Duration::from_millis(500)).is_err());
        // Off.
        let off = RateLimit::new(0, 1);
        for _ in 0..100 {
            assert_eq!(off.take(a, t0), Ok(()));
        }
    }
}
