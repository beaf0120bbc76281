//! Plain data the storage layer hands out and takes in.

use chrono::{DateTime, Utc};
use pyck_vocab::refusal::Refusal;
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tenant {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warehouse {
    pub id: i64,
    pub tenant: i64,
    pub code: String,
}

/// An operator as `pyck-server user list` shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OperatorInfo {
    pub badge: String,
    pub role: pyck_vocab::records::Role,
    pub active: bool,
    /// Codes of the warehouses whose devices receive the operator; empty
    /// for every warehouse of the tenant.
    pub warehouses: Vec<String>,
    /// Set while the badge is locked after wrong PINs checked online.
    pub locked_until: Option<DateTime<Utc>>,
}

/// A registered device as `pyck-server device-token list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceInfo {
    pub id: Uuid,
    pub name: String,
    pub warehouse: String,
    pub created_at: DateTime<Utc>,
    /// When it last pushed; `None` before its first push.
    pub last_contact: Option<DateTime<Utc>>,
    /// Operations it still had to send, as it reported at its last push.
    pub backlog: u64,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Who is calling: what a device token resolves to. Every request is scoped
/// by it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceAuth {
    pub device: Uuid,
    pub tenant: i64,
    pub warehouse: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    pub items: usize,
    pub locations: usize,
    pub stock_rows: usize,
    /// Opening-stock rows that changed a quantity (0 on a re-run).
    pub movements: usize,
    pub asn_lines: usize,
    pub order_lines: usize,
}

/// One broken invariant, as `verify` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Discrepancy {
    pub check: &'static str,
    pub detail: String,
}

impl std::fmt::Display for Discrepancy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.check, self.detail)
    }
}

#[derive(Debug, Clone, Default)]
pub struct StockFilter {
    pub location: Option<String>,
    pub sku: Option<String>,
}

/// An operation as the server stored it, with how it was settled.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredOperation {
    pub id: Uuid,
    pub seq: u64,
    pub kind: String,
    pub operator: String,
    pub at: DateTime<Utc>,
    pub payload: serde_json::Value,
    pub refusal: Option<Refusal>,
}

/// What a report covers: one tenant (the method's argument), optionally one
/// warehouse, and a `[from, to)` window of operation times (UTC).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportScope {
    pub warehouse: Option<i64>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl ReportScope {
    /// Whether `at` falls in `[from, to)`.
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.from.is_none_or(|f| at >= f) && self.to.is_none_or(|t| at < t)
    }
}

/// The raw facts the reports are computed from (`crate::reports`): read
/// from the operations, the ledger, the ASN lines, the exceptions and the
/// workflow history, never from counters kept for the purpose.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportFacts {
    /// Applied (never refused) `pick`, `short_pick`, `receive`, `close_asn`
    /// and `count` operations whose time is in the window.
    pub operations: Vec<FactOperation>,
    /// Every pick task of the scope's warehouses with its order line, so a
    /// pick can be traced to the line it serves.
    pub pick_tasks: Vec<FactPickTask>,
    /// Every ASN line of the scope's warehouses.
    pub asn_lines: Vec<FactAsnLine>,
    /// Exceptions raised in the window.
    pub exceptions: Vec<FactException>,
    /// Every workflow history row of the scope's warehouses (the window is
    /// applied to an order's first row by the report).
    pub workflow_history: Vec<FactHistory>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FactOperation {
    pub warehouse: String,
    pub kind: String,
    pub operator: String,
    pub at: DateTime<Utc>,
    pub payload: serde_json::Value,
    /// For a `count`: the book quantity of the counted stock key, the sum of
    /// its ledger movements timed before the count. `None` for other kinds.
    pub book: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactPickTask {
    pub warehouse: String,
    pub task: String,
    pub order: String,
    pub line: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactAsnLine {
    pub warehouse: String,
    pub asn: String,
    pub line: i64,
    pub expected: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactException {
    pub warehouse: String,
    pub kind: String,
    pub raised_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactHistory {
    pub warehouse: String,
    pub order: String,
    pub n: i64,
    pub step: String,
    pub status: String,
    pub at: DateTime<Utc>,
}

/// What the supervisor's floor dashboard shows of one warehouse, read in one
/// snapshot (`Storage::floor_facts`): the dashboard's figures are computed
/// from these by `crate::floor`, never kept as counters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FloorFacts {
    /// Tasks with status `open`, in walking order.
    pub open_tasks: Vec<pyck_vocab::records::TaskRecord>,
    /// Exceptions with status `open`, oldest first.
    pub open_exceptions: Vec<pyck_vocab::records::ExceptionRecord>,
    /// Every device of the warehouse, revoked ones included, by name.
    pub devices: Vec<DeviceContact>,
    /// Applied `pick` and `short_pick` operations timed at or after `since`.
    pub picks: Vec<PickFact>,
}

/// A device as its last sync left it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceContact {
    pub id: Uuid,
    pub name: String,
    /// When it last pushed (a push with nothing to send counts); `None`
    /// before its first push.
    pub last_contact: Option<DateTime<Utc>>,
    /// Operations it still had to send, as it reported at its last push.
    pub backlog: u64,
    pub revoked: bool,
}

/// One applied pick: who and when (the operator's time of the scan).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickFact {
    pub operator: String,
    pub at: DateTime<Utc>,
}

/// What `pyck-server backup` wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackupSummary {
    pub pages: u64,
    pub bytes: u64,
    /// The schema version the backup carries (`migrate` brings a restored
    /// copy forward).
    pub schema_version: i64,
}

/// A stored photo (docs/ATTACHMENTS.md); its bytes are in the object store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attachment {
    pub sha256: String,
    pub size: u64,
    pub content_type: String,
}

/// What `Storage::link_attachment` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkOutcome {
    /// Linked now, or already linked.
    Linked,
    /// No complete photo with that hash in the tenant.
    UnknownAttachment,
    /// No such exception or operation in the caller's warehouse.
    UnknownTarget,
}
