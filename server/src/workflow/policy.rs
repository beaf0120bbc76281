//! How often and how long a workflow step is retried, and how long the
//! floor has for its picks.

use std::time::Duration;

/// Retries of a step that can fail (reserve, compensate, notify), and the
/// timers of the waiting steps.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Attempts of a failing step before it fails for good.
    pub max_attempts: u32,
    /// Delay before the second attempt; each further attempt doubles it.
    pub base_delay: Duration,
    /// No delay grows beyond this.
    pub max_delay: Duration,
    /// Picks not done this long after the order was reserved raise a
    /// `pick_overdue` exception for a supervisor (once).
    pub pick_deadline: Duration,
    /// How long one step attempt may take (the webhook's request timeout).
    pub step_timeout: Duration,
    /// How often a waiting step (pick, pack, ship) looks again when nothing
    /// nudged it.
    pub poll: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(300),
            pick_deadline: Duration::from_secs(4 * 3600),
            step_timeout: Duration::from_secs(10),
            poll: Duration::from_secs(2),
        }
    }
}

impl Policy {
    /// The delay before attempt `attempt + 1` after attempt `attempt`
    /// (1-based) failed: exponential, capped, with "full jitter" — a uniform
    /// share of the exponential delay given by `jitter` in [0, 1) — so
    /// replicas that failed together do not retry together. Never below a
    /// tenth of the un-jittered delay, so a retry is never immediate.
    pub fn backoff(&self, attempt: u32, jitter: f64) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
            .min(self.max_delay);
        let floor = exp / 10;
        let jitter = jitter.clamp(0.0, 1.0);
        floor + (exp - floor).mul_f64(jitter)
    }
}
