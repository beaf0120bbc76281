//! The records a pull carries to a device, one type per [`Entity`], and the
//! small enums they use.
//!
//! [`Entity`]: crate::protocol::Entity

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::operation::Kind;

/// The walking order of location codes: aisle, bay and level compared as
/// numbers where they are numbers (`A-2-10` before `A-10-1`), as text
/// otherwise. Pick lists and task numbering follow it on both sides.
pub fn walk_key(code: &str) -> Vec<(u8, u64, String)> {
    code.split(['-', '.', '/'])
        .map(|part| match part.parse::<u64>() {
            Ok(n) => (0, n, String::new()),
            Err(_) => (1, 0, part.to_owned()),
        })
        .collect()
}

crate::named! {
    /// Storage temperature of a zone, a location or an item.
    #[derive(PartialOrd, Ord)]
    pub enum Temperature {
        Ambient = "ambient",
        Chilled = "chilled",
        Frozen = "frozen",
        /// Dock locations: goods pass through, whatever their temperature.
        Dock = "dock",
    }
}

crate::named! {
    /// What an operator may do on a device.
    pub enum Role {
        Picker = "picker",
        Receiver = "receiver",
        Supervisor = "supervisor",
        Admin = "admin",
    }
}

impl Role {
    /// Whether the server keeps this role's PIN to itself and checks it
    /// online. A stolen device yields the PIN hashes it holds, and a short
    /// PIN falls to an offline brute force; the roles that may adjust stock
    /// and resolve exceptions are not put at that risk (docs/SECURITY.md).
    pub fn checked_online(self) -> bool {
        matches!(self, Role::Supervisor | Role::Admin)
    }

    /// The permission matrix, in one place for the terminal (which refuses
    /// before recording) and the server (which refuses on push).
    ///
    /// Everyone moves and counts stock; receiving is for receivers, picking
    /// and packing for pickers; supervisors and admins may do everything,
    /// and only they adjust.
    pub fn may(self, kind: Kind) -> bool {
        match self {
            Role::Supervisor | Role::Admin => true,
            _ if kind == Kind::ResolveException => false,
            Role::Receiver => matches!(
                kind,
                Kind::Receive | Kind::CloseAsn | Kind::Putaway | Kind::Move | Kind::Count
            ),
            Role::Picker => matches!(
                kind,
                Kind::Pick
                    | Kind::ShortPick
                    | Kind::Pack
                    | Kind::Ship
                    | Kind::Putaway
                    | Kind::Move
                    | Kind::Count
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemRecord {
    pub sku: String,
    pub gtins: Vec<String>,
    pub description: String,
    pub uom: String,
    pub lot_tracked: bool,
    pub expiry_tracked: bool,
    #[serde(default)]
    pub serial_tracked: bool,
    pub temperature: Temperature,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationRecord {
    pub code: String,
    pub zone: String,
    pub temperature: Temperature,
}

/// Quantity of an item (and lot) at a location, as the server knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockRecord {
    pub location: String,
    pub sku: String,
    pub lot: Option<String>,
    pub expiry: Option<NaiveDate>,
    pub qty: i64,
}

impl StockRecord {
    /// The change-log key of a stock record.
    pub fn key(location: &str, sku: &str, lot: Option<&str>) -> String {
        format!("{location}|{sku}|{}", lot.unwrap_or(""))
    }
}

/// An operator, with the PIN hash so a device can log them in offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorRecord {
    pub badge: String,
    pub role: Role,
    /// Argon2id PHC string; empty for a role whose PIN only the server
    /// checks ([`Role::checked_online`]).
    pub pin_hash: String,
    #[serde(default)]
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AsnLineRecord {
    pub asn: String,
    pub line: u32,
    pub sku: String,
    pub supplier: String,
    pub expected_qty: i64,
    pub received_qty: i64,
    pub damaged_qty: i64,
    pub closed: bool,
}

crate::named! {
    /// Where an order stands; every line of it shares the status. A new
    /// status is a new protocol version: a terminal that cannot read a
    /// record's status cannot apply the page.
    pub enum OrderStatus {
        /// Imported or created, not yet allocated.
        Open = "open",
        /// Pick tasks hold its stock.
        Allocated = "allocated",
        Packed = "packed",
        Shipped = "shipped",
        Cancelled = "cancelled",
    }
}

impl OrderStatus {
    /// How far along the order is, for a terminal merging what it pulled
    /// with what it recorded since: a later status wins.
    pub fn progress(self) -> u8 {
        match self {
            OrderStatus::Open | OrderStatus::Allocated => 1,
            OrderStatus::Packed => 2,
            OrderStatus::Shipped => 3,
            OrderStatus::Cancelled => 4,
        }
    }

    /// Shipped or cancelled: nothing more happens to it.
    pub fn is_closed(self) -> bool {
        matches!(self, OrderStatus::Shipped | OrderStatus::Cancelled)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLineRecord {
    pub order: String,
    pub line: u32,
    pub sku: String,
    pub qty: i64,
    pub customer: String,
    pub status: OrderStatus,
}

crate::named! {
    /// What a task asks someone to do.
    pub enum TaskKind {
        /// Take `qty` from `location` for an order line.
        Pick = "pick",
        /// Carry `qty` from `location` (a dock, a staging area) to `to`.
        Putaway = "putaway",
        /// Count what is at `location` (blind: no expected quantity).
        Count = "count",
    }
}

crate::named! {
    /// Where a task stands.
    pub enum TaskStatus {
        Open = "open",
        Done = "done",
        Short = "short",
        Cancelled = "cancelled",
    }
}

/// A task as devices see it. Count tasks carry no expected quantity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRecord {
    pub id: String,
    pub kind: TaskKind,
    pub status: TaskStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lot: Option<String>,
    pub location: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Units to pick or put away; 0 for count tasks.
    pub qty: i64,
    /// Units done so far.
    #[serde(default)]
    pub done_qty: i64,
    pub zone: String,
    /// Walking order within the warehouse (picks: along the location codes,
    /// grouped by zone).
    pub sequence: u64,
}

crate::named! {
    /// Every kind of exception, in one table. The names are stable: scripts and
    /// dashboards match on them.
    pub enum ExceptionKind {
        /// Stock taken from a bin where the server had less.
        NegativeStock = "negative_stock",
        /// A pick found fewer units than its task asked for.
        ShortPick = "short_pick",
        /// A count differs from the books by more than the threshold.
        CountDifference = "count_difference",
        /// Goods put into a bin of the wrong temperature.
        TemperatureBreach = "temperature_breach",
        /// A pick of a lot that expires later than the allocated one.
        FefoBreach = "fefo_breach",
        /// A pick for an order cancelled while the picker was offline.
        CancelledOrderPicked = "cancelled_order_picked",
        /// Goods received on an ASN that does not list them.
        UnexpectedItem = "unexpected_item",
        /// More received than the ASN line expected.
        OverReceipt = "over_receipt",
        /// Less received than the ASN line expected.
        UnderReceipt = "under_receipt",
        /// Units that arrived damaged.
        DamagedReceipt = "damaged_receipt",
        /// An order line that stock could not cover when it was allocated.
        AllocationShort = "allocation_short",
        /// An order's picks not done by the warehouse's pick deadline.
        PickOverdue = "pick_overdue",
        /// A pack or ship of an order whose pick tasks were still open (a stale
        /// device); the order's workflow waits for the picks or a supervisor.
        PackedWithOpenPicks = "packed_with_open_picks",
        /// A ship of an order that was never packed.
        ShippedUnpacked = "shipped_unpacked",
        /// A pick for an order that had already shipped: the goods wait at its
        /// staging location for a return-to-stock task.
        PickedAfterShip = "picked_after_ship",
        /// A ship of an order that was cancelled: the staged goods left.
        CancelledOrderShipped = "cancelled_order_shipped",
        /// Goods received on an ASN line that was already closed.
        ReceiptOnClosedAsn = "receipt_on_closed_asn",
    }
}

crate::named! {
    /// Where an exception stands.
    pub enum ExceptionStatus {
        Open = "open",
        Resolved = "resolved",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionRecord {
    pub id: String,
    pub kind: ExceptionKind,
    pub status: ExceptionStatus,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lot: Option<String>,
    pub raised_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_supervisors_and_admins_adjust() {
        for role in [Role::Picker, Role::Receiver] {
            assert!(!role.may(Kind::Adjust), "{role}");
            assert!(!role.may(Kind::ResolveException), "{role}");
        }
        for role in [Role::Supervisor, Role::Admin] {
            for kind in Kind::ALL {
                assert!(role.may(kind));
            }
        }
        assert!(!Role::Picker.may(Kind::Receive));
        assert!(!Role::Receiver.may(Kind::Pick));
    }

    #[test]
    fn names_round_trip_and_are_the_wire_names() {
        fn check<T: Copy + PartialEq + std::fmt::Debug + serde::Serialize>(
            all: &[T],
            as_str: fn(T) -> &'static str,
            parse: fn(&str) -> Option<T>,
        ) {
            for &v in all {
                assert_eq!(parse(as_str(v)), Some(v));
                assert_eq!(serde_json::to_value(v).unwrap(), as_str(v));
            }
        }
        check(&Temperature::ALL, Temperature::as_str, Temperature::parse);
        check(&Role::ALL, Role::as_str, Role::parse);
        check(&TaskKind::ALL, TaskKind::as_str, TaskKind::parse);
        check(&TaskStatus::ALL, TaskStatus::as_str, TaskStatus::parse);
        check(
            &ExceptionKind::ALL,
            ExceptionKind::as_str,
            ExceptionKind::parse,
        );
        check(&OrderStatus::ALL, OrderStatus::as_str, OrderStatus::parse);
        check(
            &ExceptionStatus::ALL,
            ExceptionStatus::as_str,
            ExceptionStatus::parse,
        );
        assert_eq!(ExceptionKind::parse("not_a_kind"), None);
    }
}
