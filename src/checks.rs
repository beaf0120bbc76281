//! What the terminal refuses at the point of action (SPEC §4).
//!
//! A fact is recorded once a person has done it; the moment before is the
//! last one where a mistake is cheap to undo: the wrong lot can still go back
//! on the shelf. These rules say what the device's own view knows is wrong.
//! They are pure: the commands and the scanner UI gather the facts (from the
//! store, or through the UI's lookup) and ask the same questions here, so a
//! scan and a script are refused for the same reasons with the same words.
//!
//! The server applies such facts anyway when a stale device sends them, and
//! raises exceptions: these checks are for people, not for the ledger.

use chrono::NaiveDate;
use pyck_vocab::operation::Kind;
use pyck_vocab::records::{AsnLineRecord, OrderStatus, Temperature};

use crate::store::view::StockRow;

/// Something the device knows is wrong with what is about to be recorded.
/// The messages are shown full screen on a scanner and as the error of a
/// command: each says what is wrong and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Wrong {
    #[error("lot {lot} is not in {bin}: {}", held_lots(.held))]
    LotNotInBin {
        lot: String,
        bin: String,
        held: Vec<String>,
    },
    #[error("{sku} is lot-tracked: scan the lot's label (or type the lot)")]
    LotMissing { sku: String },
    #[error("lot {lot} EXPIRED on {expiry}: do not pick it; put it back and tell a supervisor")]
    ExpiredAtPick { lot: String, expiry: NaiveDate },
    #[error(
        "lot {lot} EXPIRED on {expiry}: it cannot be received as stock; record it as rejected (expired)"
    )]
    ExpiredAtReceipt { lot: String, expiry: NaiveDate },
    #[error("{qty} is more than the task asks for: pick at most {remaining}")]
    OverPick { qty: i64, remaining: i64 },
    #[error(
        "{sku} is {} goods and {bin} is {} {} bin: take it to {} {} bin",
        item.as_str(),
        article(bin_temperature.as_str()),
        bin_temperature.as_str(),
        article(item.as_str()),
        item.as_str(),
    )]
    WrongTemperature {
        sku: String,
        item: Temperature,
        bin: String,
        bin_temperature: Temperature,
    },
    #[error("order {order} has {open} open pick(s): pick or short-pick them before packing")]
    OpenPicks { order: String, open: usize },
    #[error("order {order} is not packed: pack it before shipping")]
    NotPacked { order: String },
    #[error("order {order} is already {status}: nothing to {action}")]
    OrderDone {
        order: String,
        status: OrderStatus,
        action: &'static str,
    },
    #[error("ASN {asn} is closed: nothing more can be received on it; ask a supervisor")]
    AsnClosed { asn: String },
}

/// The device's date, for expiry: the local calendar day, or `PYCK_TODAY`
/// (YYYY-MM-DD) when set — training on a fixed day, and tests whose fixture
/// lots must not expire as the calendar moves on.
pub fn today() -> NaiveDate {
    std::env::var("PYCK_TODAY")
        .ok()
        .and_then(|d| NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok())
        .unwrap_or_else(|| chrono::Local::now().date_naive())
}

fn held_lots(held: &[String]) -> String {
    match held {
        [] => "the bin holds none of this item".to_owned(),
        [one] => format!("the bin holds lot {one}"),
        many => format!("the bin holds lots {}", many.join(", ")),
    }
}

/// "a" or "an" before a word (an ambient bin, a chilled bin).
fn article(word: &str) -> &'static str {
    match word.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
        _ => "a",
    }
}

/// A pick of `lot` at `bin`, where the local view holds `rows`: the item's
/// stock there. A lot without stock among them is not on that shelf.
pub fn lot_in_bin(lot: &str, bin: &str, rows: &[StockRow]) -> Result<(), Wrong> {
    let held = rows
        .iter()
        .filter(|r| r.qty > 0)
        .filter_map(|r| r.lot.as_deref());
    if held.clone().any(|l| l == lot) {
        return Ok(());
    }
    Err(Wrong::LotNotInBin {
        lot: lot.to_owned(),
        bin: bin.to_owned(),
        held: held.map(str::to_owned).collect(),
    })
}

/// What is about to be done with a lot, for the expiry rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    Pick,
    Receipt,
}

/// A lot past its expiry date (from the label's AI 17 or the lot as known
/// here) is neither picked for an order nor received as stock. It expires at
/// the end of its date. Moving it stays allowed: that is how it is cleared.
pub fn not_expired(
    lot: &str,
    expiry: Option<NaiveDate>,
    today: NaiveDate,
    usage: Use,
) -> Result<(), Wrong> {
    match expiry {
        Some(expiry) if expiry < today => Err(match usage {
            Use::Pick => Wrong::ExpiredAtPick {
                lot: lot.to_owned(),
                expiry,
            },
            Use::Receipt => Wrong::ExpiredAtReceipt {
                lot: lot.to_owned(),
                expiry,
            },
        }),
        _ => Ok(()),
    }
}

/// A pick takes at most what its task still asks for.
pub fn within_task(qty: i64, remaining: i64) -> Result<(), Wrong> {
    if qty > remaining {
        return Err(Wrong::OverPick {
            qty,
            remaining: remaining.max(0),
        });
    }
    Ok(())
}

/// Goods go only into a bin of their temperature (a dock takes anything).
pub fn bin_temperature(
    sku: &str,
    item: Temperature,
    bin: &str,
    bin_temperature: Temperature,
) -> Result<(), Wrong> {
    if pyck_vocab::rules::temperature_breach(item, bin_temperature) {
        return Err(Wrong::WrongTemperature {
            sku: sku.to_owned(),
            item,
            bin: bin.to_owned(),
            bin_temperature,
        });
    }
    Ok(())
}

/// An order as this device sees it: its status with pending packs and
/// ships on top, and its pick tasks still open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderState {
    pub order: String,
    pub status: OrderStatus,
    pub open_picks: usize,
}

/// Pack only when every pick is done or short; ship only what was packed.
pub fn order_ready(kind: Kind, state: &OrderState) -> Result<(), Wrong> {
    let order = state.order.clone();
    let action = if kind == Kind::Ship { "ship" } else { "pack" };
    let done =
        state.status.is_closed() || (kind == Kind::Pack && state.status == OrderStatus::Packed);
    if done {
        return Err(Wrong::OrderDone {
            order,
            status: state.status,
            action,
        });
    }
    if state.open_picks > 0 {
        return Err(Wrong::OpenPicks {
            order,
            open: state.open_picks,
        });
    }
    if kind == Kind::Ship && state.status != OrderStatus::Packed {
        return Err(Wrong::NotPacked { order });
    }
    Ok(())
}

/// Nothing is received on a closed ASN.
pub fn asn_open(asn: &str, lines: &[AsnLineRecord]) -> Result<(), Wrong> {
    if !lines.is_empty() && lines.iter().all(|l| l.closed) {
        return Err(Wrong::AsnClosed {
            asn: asn.to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_lot_must_be_in_the_bin_with_stock() {
        let row = |lot: &str, qty| StockRow {
            location: "C-01-03".into(),
            sku: "SKU-10040".into(),
            lot: Some(lot.into()),
            expiry: None,
            qty,
        };
        let held = vec![row("L2644H", 30), row("L1", 0)];
        assert!(lot_in_bin("L2644H", "C-01-03", &held).is_ok());
        let e = lot_in_bin("L9999X", "C-01-03", &held).unwrap_err();
        assert_eq!(
            e.to_string(),
            "lot L9999X is not in C-01-03: the bin holds lot L2644H"
        );
        assert!(lot_in_bin("L1", "C-01-03", &held).is_err(), "an empty row");
    }

    #[test]
    fn expired_is_before_today_and_only_for_picks_and_receipts() {
        let today = day("2026-12-07");
        assert!(not_expired("L", Some(day("2026-12-07")), today, Use::Pick).is_ok());
        assert!(not_expired("L", None, today, Use::Pick).is_ok());
        let e = not_expired("L", Some(day("2026-10-31")), today, Use::Pick).unwrap_err();
        assert!(e.to_string().contains("EXPIRED on 2026-10-31"), "{e}");
        let e = not_expired("L", Some(day("2026-12-06")), today, Use::Receipt).unwrap_err();
        assert!(e.to_string().contains("rejected (expired)"), "{e}");
    }

    #[test]
    fn temperatures_and_articles() {
        let e = bin_temperature(
            "SKU-1",
            Temperature::Chilled,
            "A-01-01",
            Temperature::Ambient,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "SKU-1 is chilled goods and A-01-01 is an ambient bin: take it to a chilled bin"
        );
        assert!(bin_temperature("S", Temperature::Frozen, "DOCK", Temperature::Dock).is_ok());
    }

    #[test]
    fn the_order_state_machine_at_the_device() {
        let state = |status: OrderStatus, open| OrderState {
            order: "SO-1".into(),
            status,
            open_picks: open,
        };
        assert!(order_ready(Kind::Pack, &state(OrderStatus::Allocated, 0)).is_ok());
        assert!(matches!(
            order_ready(Kind::Pack, &state(OrderStatus::Allocated, 3)),
            Err(Wrong::OpenPicks { open: 3, .. })
        ));
        assert!(matches!(
            order_ready(Kind::Ship, &state(OrderStatus::Allocated, 0)),
            Err(Wrong::NotPacked { .. })
        ));
        assert!(order_ready(Kind::Ship, &state(OrderStatus::Packed, 0)).is_ok());
        assert!(order_ready(Kind::Pack, &state(OrderStatus::Packed, 0)).is_err());
        assert!(order_ready(Kind::Ship, &state(OrderStatus::Shipped, 0)).is_err());
        assert!(order_ready(Kind::Pack, &state(OrderStatus::Cancelled, 0)).is_err());
        assert!(within_task(12, 12).is_ok());
        assert!(within_task(13, 12).is_err());
    }
}
