//! Allocating stock to order lines: FEFO (first expiry, first out) for
//! expiry-tracked items, never from expired lots, never from dock locations;
//! the result is pick work in walking order.
//!
//! Pure: the caller passes what is on hand (minus what open tasks already
//! reserve) and the server's today.

use chrono::NaiveDate;

use crate::settings::Fefo;

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
    /// An earlier-expiring lot that waits where it cannot be picked (a
    /// dock) while a later one was allocated (FEFO `warn`), or kept the
    /// later ones from being allocated (FEFO `refuse`).
    pub waiting: Option<Waiting>,
}

/// Stock of the item that expires before what can be picked, but is not
/// pickable yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub location: String,
    pub lot: Option<String>,
    pub expiry: NaiveDate,
}

/// Allocates `qty` of one item. `expiry_tracked` items go first-expiry-first;
/// others by walking order. Ties (same expiry) go by walking order, then lot,
/// so the result is deterministic. For expiry-tracked items, an unexpired
/// lot waiting at a dock that expires before pickable stock is reported
/// (`fefo` warn) or keeps that later stock from being allocated (`fefo`
/// refuse).
pub fn allocate(
    qty: i64,
    expiry_tracked: bool,
    candidates: &[Candidate],
    today: NaiveDate,
    fefo: Fefo,
) -> Allocation {
    let waiting = expiry_tracked
        .then(|| {
            candidates
                .iter()
                .filter(|c| c.is_dock && c.available > 0)
                .filter_map(|c| c.expiry.filter(|e| *e >= today).map(|e| (e, c)))
                .min_by(|(a, x), (b, y)| a.cmp(b).then_with(|| x.location.cmp(&y.location)))
                .map(|(expiry, c)| Waiting {
                    location: c.location.clone(),
                    lot: c.lot.clone(),
                    expiry,
                })
        })
        .flatten();
    let later = |c: &Candidate| {
        waiting
            .as_ref()
            .is_some_and(|w| c.expiry.is_none_or(|e| e > w.expiry))
    };
    let mut usable: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| c.available > 0 && !c.is_dock)
        .filter(|c| c.expiry.is_none_or(|e| e >= today))
        .filter(|c| fefo == Fefo::Warn || !later(c))
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
    let breached = picks.iter().any(|p| {
        waiting
            .as_ref()
            .is_some_and(|w| p.expiry.is_none_or(|e| e > w.expiry))
    });
    let held_back = fefo == Fefo::Refuse && left > 0;
    Allocation {
        picks,
        short: left,
        waiting: waiting.filter(|_| breached || held_back),
    }
}

pub use pyck_vocab::records::walk_key;

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
        let a = allocate(90, true, &stock, today(), Fefo::Warn);
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
        let a = allocate(10, true, &stock, today(), Fefo::Warn);
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
        let a = allocate(25, true, &stock, today(), Fefo::Warn);
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
        let a = allocate(6, false, &stock, today(), Fefo::Warn);
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
            Fefo::Warn,
        );
        assert!(a.picks.is_empty());
        assert_eq!(a.short, 7);
    }

    #[test]
    fn an_earlier_lot_waiting_at_a_dock_is_reported_or_holds_the_later_ones_back() {
        let stock = [
            c("DOCK-01", "L1", Some("2026-12-01"), 20),
            c("C-01-02", "L2", Some("2027-01-15"), 8),
            c("C-01-03", "L0", Some("2026-11-30"), 3),
        ];
        // warn: the pickable lots are allocated, FEFO first, and the lot at
        // the dock is reported because L2 expires after it.
        let warn = allocate(10, true, &stock, today(), Fefo::Warn);
        let lots: Vec<_> = warn
            .picks
            .iter()
            .map(|p| (p.lot.clone().unwrap(), p.qty))
            .collect();
        assert_eq!(lots, [("L0".to_owned(), 3), ("L2".to_owned(), 7)]);
        assert_eq!(warn.short, 0);
        let w = warn.waiting.unwrap();
        assert_eq!(
            (w.location.as_str(), w.lot.as_deref()),
            ("DOCK-01", Some("L1"))
        );
        // refuse: only what expires no later than the waiting lot.
        let refuse = allocate(10, true, &stock, today(), Fefo::Refuse);
        let lots: Vec<_> = refuse
            .picks
            .iter()
            .map(|p| (p.lot.clone().unwrap(), p.qty))
            .collect();
        assert_eq!(lots, [("L0".to_owned(), 3)]);
        assert_eq!(refuse.short, 7);
        assert!(refuse.waiting.is_some());
        // Nothing later was needed: nothing to report either way.
        assert_eq!(allocate(3, true, &stock, today(), Fefo::Warn).waiting, None);
        assert_eq!(
            allocate(3, true, &stock, today(), Fefo::Refuse).waiting,
            None
        );
        // Untracked items ignore expiry altogether.
        assert_eq!(allocate(10, false, &stock, today(), Fefo::Refuse).short, 0);
    }

    #[test]
    fn fefo_breach_only_for_a_later_lot() {
        assert!(breaks_fefo(Some(d("2027-02-01")), Some(d("2027-01-01"))));
        assert!(!breaks_fefo(Some(d("2027-01-01")), Some(d("2027-01-01"))));
        assert!(!breaks_fefo(Some(d("2026-12-01")), Some(d("2027-01-01"))));
        assert!(!breaks_fefo(None, None));
    }
}
