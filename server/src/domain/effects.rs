//! What applying operations does, as data. Storage writes it; it decides
//! nothing.

use chrono::{DateTime, NaiveDate, Utc};
use pyck_vocab::records::{
    AsnLineRecord, ExceptionKind, ExceptionRecord, ExceptionStatus, OrderStatus, TaskRecord,
};
use uuid::Uuid;

use super::view::StockKey;

/// One line of the append-only movement ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movement {
    pub op: Uuid,
    /// Position of this movement within its operation (a move has two).
    pub line: u32,
    pub key: StockKey,
    pub delta: i64,
    pub at: DateTime<Utc>,
}

/// An exception for a supervisor, raised by an applied operation or by the
/// server's own write (an allocation short of stock).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewException {
    pub id: Uuid,
    /// The operation that raised it; none for the server's own writes.
    pub op: Option<Uuid>,
    pub kind: ExceptionKind,
    pub message: String,
    pub order: Option<String>,
    pub asn: Option<String>,
    pub location: Option<String>,
    pub sku: Option<String>,
    pub lot: Option<String>,
    pub at: DateTime<Utc>,
}

impl NewException {
    /// The exception as stored and pulled, open.
    pub fn record(&self) -> ExceptionRecord {
        ExceptionRecord {
            id: self.id.to_string(),
            kind: self.kind,
            status: ExceptionStatus::Open,
            message: self.message.clone(),
            order: self.order.clone(),
            asn: self.asn.clone(),
            location: self.location.clone(),
            sku: self.sku.clone(),
            lot: self.lot.clone(),
            raised_at: self.at,
        }
    }
}

/// An ASN line as it stood when it was closed: what had arrived by then.
/// `verify` compares what arrived after it with the
/// `receipt_on_closed_asn` exceptions raised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsnClosure {
    pub asn: String,
    pub line: u32,
    pub received_qty: i64,
    pub damaged_qty: i64,
}

/// Everything one operation changes.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Effects {
    pub movements: Vec<Movement>,
    /// Lots seen for the first time: (sku, lot, expiry).
    pub new_lots: Vec<(String, String, Option<NaiveDate>)>,
    pub asn_lines: Vec<AsnLineRecord>,
    /// ASN lines closed by this operation, as they stood.
    pub asn_closures: Vec<AsnClosure>,
    pub exceptions: Vec<NewException>,
    /// New tasks and tasks whose state changed, in their final state.
    pub tasks: Vec<TaskRecord>,
    /// Orders whose status changed: (order, new status).
    pub orders: Vec<(String, OrderStatus)>,
    /// Exceptions resolved, in their final state, with the note.
    pub resolved: Vec<(ExceptionRecord, String)>,
}
