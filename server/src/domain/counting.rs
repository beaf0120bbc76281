//! Counting a bin: accept the count, or ask a supervisor.

/// What a count does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountOutcome {
    /// The difference is within the threshold: stock is set to the count.
    Set,
    /// The difference is above the threshold: stock stays, a supervisor
    /// looks at it (`count_difference`).
    Exception { difference: i64 },
}

/// `threshold` is the largest difference accepted without a supervisor;
/// the default, `None`, accepts none (any difference is an exception).
pub fn outcome(counted: i64, expected: i64, threshold: Option<i64>) -> CountOutcome {
    // The rule lives in pyck-vocab: the terminal's local view applies it too.
    if pyck_vocab::rules::count_sets_stock(counted, expected, threshold) {
        CountOutcome::Set
    } else {
        CountOutcome::Exception {
            difference: counted - expected,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds() {
        assert_eq!(outcome(10, 10, None), CountOutcome::Set);
        assert_eq!(
            outcome(9, 10, None),
            CountOutcome::Exception { difference: -1 }
        );
        assert_eq!(outcome(8, 10, Some(2)), CountOutcome::Set);
        assert_eq!(
            outcome(13, 10, Some(2)),
            CountOutcome::Exception { difference: 3 }
        );
        assert_eq!(outcome(0, 0, Some(0)), CountOutcome::Set);
    }
}
