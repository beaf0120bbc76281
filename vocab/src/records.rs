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

/// Storage temperature of a zone, a location or an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Temperature {
    Ambient,
    Chilled,
    Frozen,
    /// Dock locations: goods pass through, whatever their temperature.
    Dock,
}

impl Temperature {
    pub fn as_str(self) -> &'static str {
        match self {
            Temperature::Ambient => "ambient",
            Temperature::Chilled => "chilled",
            Temperature::Frozen => "frozen",
            Temperature::Dock => "dock",
        }
    }

    pub fn parse(s: &str) -> Option<Temperature> {
        match s {
            "ambient" => Some(Temperature::Ambient),
            "chilled" => Some(Temperature::Chilled),
            "frozen" => Some(Temperature::Frozen),
            "dock" => Some(Temperature::Dock),
            _ => None,
        }
    }
}

/// What an operator may do on a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Picker,
    Receiver,
    Supervisor,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Picker => "picker",
            Role::Receiver => "receiver",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "picker" => Some(Role::Picker),
            "receiver" => Some(Role::Receiver),
            "supervisor" => Some(Role::Supervisor),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

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

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLineRecord {
    pub order: String,
    pub line: u32,
    pub sku: String,
    pub qty: i64,
    pub customer: String,
    pub status: String,
}

/// What a task asks someone to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// Take `qty` from `location` for an order line.
    Pick,
    /// Carry `qty` from `location` (a dock, a staging area) to `to`.
    Putaway,
    /// Count what is at `location` (blind: no expected quantity).
    Count,
}

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Open,
    Done,
    Short,
    Cancelled,
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

/// Every kind of exception, in one table. The names are stable: scripts and
/// dashboards match on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionKind {
    /// Stock taken from a bin where the server had less.
    NegativeStock,
    /// A pick found fewer units than its task asked for.
    ShortPick,
    /// A count differs from the books by more than the threshold.
    CountDifference,
    /// Goods put into a bin of the wrong temperature.
    TemperatureBreach,
    /// A pick of a lot that expires later than the allocated one.
    FefoBreach,
    /// A pick for an order cancelled while the picker was offline.
    CancelledOrderPicked,
    /// Goods received on an ASN that does not list them.
    UnexpectedItem,
    /// More received than the ASN line expected.
    OverReceipt,
    /// Less received than the ASN line expected.
    UnderReceipt,
    /// Units that arrived damaged.
    DamagedReceipt,
    /// An order line that stock could not cover when it was allocated.
    AllocationShort,
    /// An order's picks not done by the warehouse's pick deadline.
    PickOverdue,
    /// A pack or ship of an order whose pick tasks were still open (a stale
    /// device); the order's workflow waits for the picks or a supervisor.
    PackedWithOpenPicks,
    /// A ship of an order that was never packed.
    ShippedUnpacked,
    /// A pick for an order that had already shipped: the goods wait at its
    /// staging location for a return-to-stock task.
    PickedAfterShip,
    /// A ship of an order that was cancelled: the staged goods left.
    CancelledOrderShipped,
    /// Goods received on an ASN line that was already closed.
    ReceiptOnClosedAsn,
}

impl ExceptionKind {
    pub const ALL: [ExceptionKind; 17] = [
        ExceptionKind::NegativeStock,
        ExceptionKind::ShortPick,
        ExceptionKind::CountDifference,
        ExceptionKind::TemperatureBreach,
        ExceptionKind::FefoBreach,
        ExceptionKind::CancelledOrderPicked,
        ExceptionKind::UnexpectedItem,
        ExceptionKind::OverReceipt,
        ExceptionKind::UnderReceipt,
        ExceptionKind::DamagedReceipt,
        ExceptionKind::AllocationShort,
        ExceptionKind::PickOverdue,
        ExceptionKind::PackedWithOpenPicks,
        ExceptionKind::ShippedUnpacked,
        ExceptionKind::PickedAfterShip,
        ExceptionKind::CancelledOrderShipped,
        ExceptionKind::ReceiptOnClosedAsn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ExceptionKind::NegativeStock => "negative_stock",
            ExceptionKind::ShortPick => "short_pick",
            ExceptionKind::CountDifference => "count_difference",
            ExceptionKind::TemperatureBreach => "temperature_breach",
            ExceptionKind::FefoBreach => "fefo_breach",
            ExceptionKind::CancelledOrderPicked => "cancelled_order_picked",
            ExceptionKind::UnexpectedItem => "unexpected_item",
            ExceptionKind::OverReceipt => "over_receipt",
            ExceptionKind::UnderReceipt => "under_receipt",
            ExceptionKind::DamagedReceipt => "damaged_receipt",
            ExceptionKind::AllocationShort => "allocation_short",
            ExceptionKind::PickOverdue => "pick_overdue",
            ExceptionKind::PackedWithOpenPicks => "packed_with_open_picks",
            ExceptionKind::ShippedUnpacked => "shipped_unpacked",
            ExceptionKind::PickedAfterShip => "picked_after_ship",
            ExceptionKind::CancelledOrderShipped => "cancelled_order_shipped",
            ExceptionKind::ReceiptOnClosedAsn => "receipt_on_closed_asn",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionRecord {
    pub id: String,
    pub kind: String,
    pub status: String,
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
    fn exception_kinds_have_their_wire_names() {
        for k in ExceptionKind::ALL {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
    }

    #[test]
    fn names_round_trip() {
        for t in [
            Temperature::Ambient,
            Temperature::Chilled,
            Temperature::Frozen,
            Temperature::Dock,
        ] {
            assert_eq!(Temperature::parse(t.as_str()), Some(t));
        }
        for r in [Role::Picker, Role::Receiver, Role::Supervisor, Role::Admin] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
    }
}
