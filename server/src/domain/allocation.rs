//! Allocating stock to order lines: FEFO (first expiry, first out) for
//! expiry-tracked items, never from expired lots, never from dock locations;
//! the result is pick work in walking order.
//!
//! Pure: the caller passes what is on hand (minus what open tasks already
//! reserve) and the server's today.

use chrono::NaiveDate;

/// Stock that could be picked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub location: String,
    pub zone: String,
    pub is_dock: bool,
    pub lot: Option<String>,
    pub expiry: Option<NaiveDate>,
    /// On hand minus what open tasks already reserve.
    pub available: i64,
}

/// One pick: take `qty` of the line's item from `location` (and `lot`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pick {
    pub location: String,
    pub zone: String,
    pub lot: Option<String>,
    pub expiry: Option<NaiveDate>,
    pub qty: i64,
}

/// What allocating one line found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Allocation {
    pub picks: Vec<Pick>,
    /// Units no stock could cover.
    pub short: i64,
}

/// Allocates `qty` of one item. `expiry_tracked` items go first-expiry-first;
/// others by walking order. Ties (same expiry) go by walking order, then lot,
/// so the result is deterministic.
pub fn allocate(
    qty: i64,
    expiry_tracked: bool,
    candidates: &[Candidate],
    today: NaiveDate,
) -> Allocation {
    let mut usable: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| c.available > 0 && !c.is_dock)
        .filter(|c| c.expiry.is_none_or(|e| e >= today))
        .collect();
    usable.sort_by(|a, b| {
        let by_expiry = if expiry_tracked {
            // No expiry recorded sorts last: known-dated stock goes first.
            match (a.expiry, b.expiry) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            }
        } else {
            std::cmp::Ordering::Equal
        };
        by_expiry
            .then_with(|| walk_key(&a.location).cmp(&walk_key(&b.location)))
            .then_with(|| a.lot.cmp(&b.lot))
    });
    let mut left = qty;
    let mut picks = Vec::new();
    for c in usable {
        if left == 0 {
            break;
        }
        let take = left.min(c.available);
        picks.push(Pick {
            location: c.location.clone(),
            zone: c.zone.clone(),
            lot: c.lot.clone(),
            expiry: c.expiry,
            qty: take,
        });
        left -= take;
    }
    Allocation { picks, short: left }
}

pub use pyck_sync::records::walk_key;

/// Whether picking `lot` (with `expiry`) instead of the allocated one breaks
/// FEFO: a strictly earlier-expiring, unexpired lot was available.
pub fn breaks_fefo(
    picked_expiry: Option<NaiveDate>,
    earliest_available: Option<NaiveDate>,
) -> bool {
    match (picked_expiry, earliest_available) {
        (Some(p), Some(e)) => p > e,
        (None, Some(_)) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn c(location: &str, lot: &str, expiry: Option<&str>, available: i64) -> Candidate {
        Candidate {
            location: location.into(),
            zone: location[..1].into(),
            is_dock: location.starts_with("DOCK"),
            lot: (!lot.is_empty()).then(|| lot.into()),
            expiry: expiry.map(d),
            available,
        }
    }

    fn today() -> NaiveDate {
        d("2026-11-23")
    }

    #[test]
    fn first_expiry_first_across_lots_with_partial_availability() {
        let stock = [
            c("C-01-02", "L3", Some("2027-03-01"), 100),
            c("C-02-01", "L1", Some("2026-12-01"), 30),
            c("C-01-05", "L2", Some("2027-01-15"), 40),
        ];
        let a = allocate(90, true, &stock, today());
        let got: Vec<_> = a
            .picks
            .iter()
            .map(|p| (p.lot.clone().unwrap(), p.qty))
            .collect();
        assert_eq!(
            got,
            vec![("L1".into(), 30), ("L2".into(), 40), ("L3".into(), 20)]
        );
        assert_eq!(a.short, 0);
    }

    #[test]
    fn expired_lots_and_docks_are_never_allocated() {
        let stock = [
            c("C-01-01", "OLD", Some("2026-11-22"), 500),
            c("DOCK-01", "NEW", Some("2026-12-01"), 500),
            c("C-03-01", "OK", Some("2026-11-23"), 5),
        ];
        let a = allocate(10, true, &stock, today());
        assert_eq!(a.picks.len(), 1);
        assert_eq!(
            a.picks[0].lot.as_deref(),
            Some("OK"),
            "expiring today is still good today"
        );
        assert_eq!(a.short, 5);
    }

    #[test]
    fn ties_on_expiry_go_by_walking_order_then_lot() {
        let stock = [
            c("C-10-01", "B", Some("2027-01-01"), 10),
            c("C-2-01", "C", Some("2027-01-01"), 10),
            c("C-2-01", "A", Some("2027-01-01"), 10),
        ];
        let a = allocate(25, true, &stock, today());
        let got: Vec<_> = a
            .picks
            .iter()
            .map(|p| (p.location.as_str(), p.lot.as_deref().unwrap(), p.qty))
            .collect();
        assert_eq!(
            got,
            vec![
                ("C-2-01", "A", 10),
                ("C-2-01", "C", 10),
                ("C-10-01", "B", 5)
            ]
        );
    }

    #[test]
    fn untracked_items_go_by_walking_order() {
        let stock = [c("A-03-01", "", None, 5), c("A-01-09", "", None, 5)];
        let a = allocate(6, false, &stock, today());
        assert_eq!(a.picks[0].location, "A-01-09");
        assert_eq!(a.picks[1].qty, 1);
    }

    #[test]
    fn nothing_available_is_all_short() {
        let a = allocate(
            7,
            true,
            &[c("C-01-01", "L", Some("2027-01-01"), 0)],
            today(),
        );
        assert!(a.picks.is_empty());
        assert_eq!(a.short, 7);
    }

    #[test]
    fn fefo_breach_only_for_a_later_lot() {
        assert!(breaks_fefo(Some(d("2027-02-01")), Some(d("2027-01-01"))));
        assert!(!breaks_fefo(Some(d("2027-01-01")), Some(d("2027-01-01"))));
        assert!(!breaks_fefo(Some(d("2026-12-01")), Some(d("2027-01-01"))));
        assert!(!breaks_fefo(None, None));
    }
}
