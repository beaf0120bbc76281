//! Rules both sides apply, so the terminal's local view agrees with what the
//! server will do with the same operation.

use crate::records::Temperature;

/// Whether a count sets the stock to what was counted: when it differs from
/// the books (`book`) by no more than the warehouse's threshold. Without a
/// threshold (the default) any difference goes to a supervisor and the stock
/// stays as it was.
///
/// ```
/// use pyck_vocab::rules::count_sets_stock;
/// assert!(count_sets_stock(10, 10, None));
/// assert!(!count_sets_stock(9, 10, None));
/// assert!(count_sets_stock(8, 10, Some(2)));
/// assert!(!count_sets_stock(13, 10, Some(2)));
/// ```
pub fn count_sets_stock(counted: i64, book: i64, threshold: Option<i64>) -> bool {
    let difference = counted.saturating_sub(book);
    match threshold {
        Some(t) => difference.unsigned_abs() <= t.max(0).unsigned_abs(),
        None => difference == 0,
    }
}

/// Whether goods of `item` temperature put into a `bin` of another
/// temperature break the cold chain. Dock locations hold anything in
/// passing. The terminal refuses such a putaway; the server, which may hear
/// of it from a stale device, raises `temperature_breach`.
///
/// ```
/// use pyck_vocab::records::Temperature::*;
/// use pyck_vocab::rules::temperature_breach;
/// assert!(temperature_breach(Frozen, Ambient));
/// assert!(!temperature_breach(Frozen, Dock));
/// assert!(!temperature_breach(Chilled, Chilled));
/// ```
pub fn temperature_breach(item: Temperature, bin: Temperature) -> bool {
    bin != Temperature::Dock && bin != item
}

/// What an item tracks beyond its SKU: lots, and for each lot its expiry.
/// An expiry belongs to a lot, so an item that tracks expiry but no lots
/// has none to record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tracking {
    pub lots: bool,
    pub expiry: bool,
}

/// How the lot and expiry given with an item break [`lot_problem`]'s rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LotProblem {
    /// The item is lot-tracked and no lot was given.
    LotMissing,
    /// A lot was given for an item that tracks none.
    LotUntracked,
    /// A lot new to the warehouse, of an expiry-tracked item, without its
    /// expiry.
    ExpiryMissing,
    /// An expiry was given for an item whose lots carry none.
    ExpiryUntracked,
}

impl LotProblem {
    /// The field at fault, as commands and files name it.
    pub fn field(self) -> &'static str {
        match self {
            LotProblem::LotMissing | LotProblem::LotUntracked => "lot",
            LotProblem::ExpiryMissing | LotProblem::ExpiryUntracked => "expiry",
        }
    }

    /// What is wrong with `sku` (and its `lot`) and what to do, in the
    /// words every way in uses.
    pub fn message(self, sku: &str, lot: Option<&str>) -> String {
        match self {
            LotProblem::LotMissing => format!("{sku} is lot-tracked: give its lot"),
            LotProblem::LotUntracked => format!("{sku} is not lot-tracked: leave the lot empty"),
            LotProblem::ExpiryMissing => format!(
                "{sku} is expiry-tracked and lot {} is new here: give its expiry YYYY-MM-DD",
                lot.unwrap_or("-")
            ),
            LotProblem::ExpiryUntracked => {
                format!("{sku} is not expiry-tracked: leave the expiry empty")
            }
        }
    }
}

/// The lot rule, one for every way stock enters the books (a scan, a
/// command, a CSV file, an import, a push):
/// - a lot-tracked item needs a lot, and an item that tracks no lots takes
///   none;
/// - an expiry is given only for an expiry-tracked, lot-tracked item, and a
///   lot new to the warehouse (`lot_is_new`, asked only then) needs one; a
///   known lot keeps the expiry it has.
///
/// What a way in does with a problem is its own: the terminal and the
/// import refuse, since a person is there to correct it; the server, which
/// may hear from a device whose catalogue was stale, refuses a missing lot
/// or expiry (it cannot book what it does not know) but books a lot or
/// expiry the item does not track without it, since the goods did move.
///
/// ```
/// use pyck_vocab::rules::{LotProblem, Tracking, lot_problem};
/// let lots = Tracking { lots: true, expiry: true };
/// let known = |_: &str| Ok::<_, ()>(false);
/// let new = |_: &str| Ok::<_, ()>(true);
/// assert_eq!(lot_problem(lots, Some("L1"), false, known), Ok(None));
/// assert_eq!(lot_problem(lots, Some("L1"), false, new), Ok(Some(LotProblem::ExpiryMissing)));
/// assert_eq!(lot_problem(lots, None, false, new), Ok(Some(LotProblem::LotMissing)));
/// let plain = Tracking::default();
/// assert_eq!(lot_problem(plain, Some("L1"), false, new), Ok(Some(LotProblem::LotUntracked)));
/// assert_eq!(lot_problem(plain, None, true, new), Ok(Some(LotProblem::ExpiryUntracked)));
/// ```
pub fn lot_problem<E>(
    item: Tracking,
    lot: Option<&str>,
    expiry_given: bool,
    lot_is_new: impl FnOnce(&str) -> Result<bool, E>,
) -> Result<Option<LotProblem>, E> {
    Ok(match (item.lots, lot) {
        (true, None) => Some(LotProblem::LotMissing),
        (false, Some(_)) => Some(LotProblem::LotUntracked),
        _ if expiry_given && !(item.lots && item.expiry) => Some(LotProblem::ExpiryUntracked),
        (true, Some(lot)) if item.expiry && !expiry_given && lot_is_new(lot)? => {
            Some(LotProblem::ExpiryMissing)
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether a lot is new costs the terminal a query: it is asked only
    /// when the answer decides.
    #[test]
    fn a_lot_is_looked_up_only_when_its_expiry_is_missing() {
        let dated = Tracking {
            lots: true,
            expiry: true,
        };
        let undated = Tracking {
            lots: true,
            expiry: false,
        };
        let asked = |_: &str| -> Result<bool, ()> { panic!("asked whether the lot is new") };
        assert_eq!(lot_problem(dated, Some("L1"), true, asked), Ok(None));
        assert_eq!(lot_problem(undated, Some("L1"), false, asked), Ok(None));
        assert_eq!(
            lot_problem(undated, Some("L1"), true, asked),
            Ok(Some(LotProblem::ExpiryUntracked))
        );
        let failed = |_: &str| Err("disk");
        assert_eq!(lot_problem(dated, Some("L1"), false, failed), Err("disk"));
    }
}
