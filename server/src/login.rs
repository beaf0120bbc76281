//! Online PIN checks, for the roles whose PIN hash never leaves the server
//! ([`Role::checked_online`]): a device asks, the server answers.
//!
//! Offline, a device can only slow down a guesser at its own keypad; a
//! stolen device's file is attacked elsewhere. Online, every guess costs a
//! request and the count is kept here, in the database, so every replica
//! sees it: after [`MAX_FAILURES`] wrong PINs in a row the badge is locked
//! for [`LOCKOUT`], which holds a guesser to at most 480 tries a day per
//! badge. The decisions are pure; storage only loads and writes them.

use chrono::{DateTime, Duration, Utc};
use pyck_vocab::records::Role;

/// Wrong PINs in a row before the badge is locked.
pub const MAX_FAILURES: i64 = 5;
/// How long a locked badge stays locked.
pub const LOCKOUT: Duration = Duration::minutes(15);

/// What the server knows of an operator for an online check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorLogin {
    pub role: Role,
    pub pin_hash: String,
    pub failed_logins: i64,
    pub locked_until: Option<DateTime<Utc>>,
}

/// The failure count and lock to store after a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failures {
    pub count: i64,
    pub locked_until: Option<DateTime<Utc>>,
}

/// The answer to one online check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Accepted(Role),
    WrongPin { left: i64 },
    Locked { until: DateTime<Utc> },
}

/// Whether the badge is locked right now; a lock that has run out is not.
pub fn locked(op: &OperatorLogin, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    op.locked_until.filter(|until| *until > now)
}

/// Decides a check whose PIN was (or was not) `matched`, and the failures
/// to store. Call only when [`locked`] is `None`: a locked badge is refused
/// without hashing, so guessing it costs the server nothing.
pub fn decide(op: &OperatorLogin, matched: bool, now: DateTime<Utc>) -> (Verdict, Failures) {
    if matched {
        let cleared = Failures {
            count: 0,
            locked_until: None,
        };
        return (Verdict::Accepted(op.role), cleared);
    }
    // A lock that has run out starts a fresh count.
    let count = if op.locked_until.is_some() {
        1
    } else {
        op.failed_logins + 1
    };
    if count >= MAX_FAILURES {
        let until = now + LOCKOUT;
        let failures = Failures {
            count,
            locked_until: Some(until),
        };
        (Verdict::Locked { until }, failures)
    } else {
        let failures = Failures {
            count,
            locked_until: None,
        };
        (
            Verdict::WrongPin {
                left: MAX_FAILURES - count,
            },
            failures,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(failed_logins: i64, locked_until: Option<DateTime<Utc>>) -> OperatorLogin {
        OperatorLogin {
            role: Role::Supervisor,
            pin_hash: String::new(),
            failed_logins,
            locked_until,
        }
    }

    #[test]
    fn the_fifth_wrong_pin_locks_and_a_right_one_clears() {
        let now = Utc::now();
        let mut state = op(0, None);
        for left in (1..MAX_FAILURES).rev() {
            let (verdict, f) = decide(&state, false, now);
            assert_eq!(verdict, Verdict::WrongPin { left });
            state.failed_logins = f.count;
        }
        let (verdict, f) = decide(&state, false, now);
        assert_eq!(
            verdict,
            Verdict::Locked {
                until: now + LOCKOUT
            }
        );
        state.locked_until = f.locked_until;
        assert_eq!(locked(&state, now), Some(now + LOCKOUT));
        // Once the lock has run out, the count starts again.
        let later = now + LOCKOUT + Duration::seconds(1);
        assert_eq!(locked(&state, later), None);
        let (verdict, f) = decide(&state, false, later);
        assert_eq!(
            verdict,
            Verdict::WrongPin {
                left: MAX_FAILURES - 1
            }
        );
        assert_eq!(f.locked_until, None);
        let (verdict, f) = decide(&op(3, None), true, now);
        assert_eq!(verdict, Verdict::Accepted(Role::Supervisor));
        assert_eq!(f.count, 0);
    }
}
