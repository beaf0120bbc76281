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
