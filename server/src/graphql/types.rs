//! GraphQL shapes. The sync documents (`PushRequest`, `PushResponse`,
//! `PullRequest`, `PullPage`) are JSON scalars whose shape `pyck-vocab` owns
//! (docs/PROTOCOL.md); supervisor data are ordinary typed objects.

use async_graphql::{ID, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use pyck_vocab::records;
use serde::{Deserialize, Serialize};

/// A push batch, as defined by `pyck_vocab::protocol::PushRequest`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PushRequest(pub pyck_vocab::protocol::PushRequest);
async_graphql::scalar!(
    PushRequest,
    "PushRequest",
    "A batch of one device's operations (see docs/PROTOCOL.md)"
);

/// The outcome of a push, as defined by `pyck_vocab::protocol::PushResponse`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PushResponse(pub pyck_vocab::protocol::PushResponse);
async_graphql::scalar!(
    PushResponse,
    "PushResponse",
    "One result per pushed operation (see docs/PROTOCOL.md)"
);

#[derive(Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PullRequest(pub pyck_vocab::protocol::PullRequest);
async_graphql::scalar!(
    PullRequest,
    "PullRequest",
    "A cursor and a page size (see docs/PROTOCOL.md)"
);

#[derive(Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PullPage(pub pyck_vocab::protocol::PullPage);
async_graphql::scalar!(
    PullPage,
    "PullPage",
    "Changes after a cursor (see docs/PROTOCOL.md)"
);

#[derive(Debug, SimpleObject)]
pub struct ServerInfo {
    /// pyck-server's version.
    pub version: String,
    /// The newest sync protocol version the server speaks.
    pub protocol: u32,
    /// The oldest sync protocol version the server still accepts.
    pub min_protocol: u32,
}

/// An operator whose PIN the server has just checked.
#[derive(Debug, SimpleObject)]
pub struct VerifiedOperator {
    pub badge: String,
    /// `picker`, `receiver`, `supervisor` or `admin`.
    pub role: String,
}

/// The calling device, as its token identifies it.
#[derive(Debug, SimpleObject)]
pub struct Device {
    pub id: ID,
    pub tenant: i64,
    pub warehouse: i64,
}

#[derive(Debug, SimpleObject)]
pub struct Stock {
    pub location: String,
    pub sku: String,
    pub lot: Option<String>,
    pub expiry: Option<NaiveDate>,
    pub qty: i64,
}

impl From<records::StockRecord> for Stock {
    fn from(r: records::StockRecord) -> Self {
        Self {
            location: r.location,
            sku: r.sku,
            lot: r.lot,
            expiry: r.expiry,
            qty: r.qty,
        }
    }
}

#[derive(Debug, SimpleObject)]
pub struct Item {
    pub sku: String,
    pub gtins: Vec<String>,
    pub description: String,
    pub uom: String,
    pub lot_tracked: bool,
    pub expiry_tracked: bool,
    pub temperature: String,
}

impl From<records::ItemRecord> for Item {
    fn from(r: records::ItemRecord) -> Self {
        Self {
            sku: r.sku,
            gtins: r.gtins,
            description: r.description,
            uom: r.uom,
            lot_tracked: r.lot_tracked,
            expiry_tracked: r.expiry_tracked,
            temperature: r.temperature.as_str().to_owned(),
        }
    }
}

#[derive(Debug, SimpleObject)]
pub struct Location {
    pub code: String,
    pub zone: String,
    pub temperature: String,
}

impl From<records::LocationRecord> for Location {
    fn from(r: records::LocationRecord) -> Self {
        Self {
            code: r.code,
            zone: r.zone,
            temperature: r.temperature.as_str().to_owned(),
        }
    }
}

#[derive(Debug, SimpleObject)]
#[graphql(complex)]
pub struct Exception {
    pub id: ID,
    pub kind: String,
    pub status: String,
    pub message: String,
    pub order: Option<String>,
    pub asn: Option<String>,
    pub location: Option<String>,
    pub sku: Option<String>,
    pub lot: Option<String>,
    pub raised_at: DateTime<Utc>,
}

impl From<records::ExceptionRecord> for Exception {
    fn from(r: records::ExceptionRecord) -> Self {
        Self {
            id: ID(r.id),
            kind: r.kind.as_str().to_owned(),
            status: r.status.as_str().to_owned(),
            message: r.message,
            order: r.order,
            asn: r.asn,
            location: r.location,
            sku: r.sku,
            lot: r.lot,
            raised_at: r.raised_at,
        }
    }
}

#[async_graphql::ComplexObject]
impl Exception {
    /// Photos documenting it (docs/ATTACHMENTS.md): linked to it, to the
    /// operation that raised it, or to the receipts of its ASN line.
    async fn attachments(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> async_graphql::Result<Vec<Attachment>> {
        let a = super::auth(ctx)?;
        let rows = super::storage(ctx)
            .exception_attachments(a.tenant, a.warehouse, &self.id)
            .await
            .map_err(super::storage_error)?;
        Ok(rows.into_iter().map(Attachment::from).collect())
    }
}

/// A stored photo; `url` (relative to the server) serves its bytes to the
/// same tenant's device tokens.
#[derive(Debug, SimpleObject)]
pub struct Attachment {
    pub sha256: String,
    pub size: u64,
    pub content_type: String,
    pub url: String,
}

impl From<crate::storage::Attachment> for Attachment {
    fn from(a: crate::storage::Attachment) -> Self {
        Self {
            url: format!("/attachments/{}", a.sha256),
            sha256: a.sha256,
            size: a.size,
            content_type: a.content_type,
        }
    }
}

/// An operation as the server settled it.
#[derive(Debug, SimpleObject)]
pub struct StoredOperation {
    pub id: ID,
    pub seq: u64,
    pub kind: String,
    pub operator: String,
    pub at: DateTime<Utc>,
    pub payload: async_graphql::Json<serde_json::Value>,
    /// `applied` or `refused`.
    pub status: String,
    pub refusal_code: Option<String>,
    pub refusal_message: Option<String>,
}

impl From<crate::storage::StoredOperation> for StoredOperation {
    fn from(o: crate::storage::StoredOperation) -> Self {
        Self {
            id: ID(o.id.to_string()),
            seq: o.seq,
            kind: o.kind,
            operator: o.operator,
            at: o.at,
            payload: async_graphql::Json(o.payload),
            status: if o.refusal.is_some() {
                "refused"
            } else {
                "applied"
            }
            .to_owned(),
            refusal_code: o.refusal.as_ref().map(|r| r.code.as_str().to_owned()),
            refusal_message: o.refusal.map(|r| r.message),
        }
    }
}

/// A pick, putaway or count task.
#[derive(Debug, SimpleObject)]
pub struct Task {
    pub id: ID,
    /// `pick`, `putaway` or `count`.
    pub kind: String,
    /// `open`, `done`, `short` or `cancelled`.
    pub status: String,
    pub order: Option<String>,
    pub line: Option<u32>,
    pub sku: Option<String>,
    pub lot: Option<String>,
    pub location: String,
    pub to: Option<String>,
    pub qty: i64,
    pub done_qty: i64,
    pub zone: String,
    pub sequence: u64,
}

impl From<records::TaskRecord> for Task {
    fn from(t: records::TaskRecord) -> Self {
        Self {
            id: ID(t.id),
            kind: t.kind.as_str().to_owned(),
            status: t.status.as_str().to_owned(),
            order: t.order,
            line: t.line,
            sku: t.sku,
            lot: t.lot,
            location: t.location,
            to: t.to,
            qty: t.qty,
            done_qty: t.done_qty,
            zone: t.zone,
            sequence: t.sequence,
        }
    }
}

/// An order's fulfilment workflow (docs/WORKFLOW.md).
#[derive(Debug, SimpleObject)]
pub struct Workflow {
    pub order: String,
    /// `running`, `completed`, `compensating`, `compensated` or `failed`.
    pub state: String,
    /// The step it is at: `reserve`, `pick`, `pack`, `ship`, `compensate`
    /// or `notify`.
    pub step: String,
    /// One row per step attempt, oldest first (empty in lists).
    pub history: Vec<WorkflowAttempt>,
}

/// One attempt of a workflow step.
#[derive(Debug, SimpleObject)]
pub struct WorkflowAttempt {
    pub step: String,
    /// `done`, `failed`, `cancelled` or `overdue`.
    pub status: String,
    pub attempt: u32,
    pub at: DateTime<Utc>,
    pub error: Option<String>,
    /// The device operation the step rests on (the last pick, the pack,
    /// the ship): its id in the device's journal.
    pub operation: Option<String>,
}

impl From<crate::workflow::Report> for Workflow {
    fn from(r: crate::workflow::Report) -> Self {
        Self {
            order: r.order,
            state: r.state,
            step: r.step,
            history: r
                .history
                .into_iter()
                .map(|h| WorkflowAttempt {
                    step: h.step,
                    status: h.status,
                    attempt: h.attempt,
                    at: h.at,
                    error: h.error,
                    operation: h.operation,
                })
                .collect(),
        }
    }
}

/// A warehouse's settings (docs/SETTINGS.md); null fields are the defaults.
#[derive(Debug, SimpleObject)]
pub struct WarehouseSettings {
    pub count_threshold: Option<i64>,
    pub pick_deadline: Option<i64>,
    pub step_attempts: Option<i64>,
    pub retry_base_ms: Option<i64>,
    /// `warn` or `refuse`.
    pub fefo: String,
}

impl From<crate::settings::Settings> for WarehouseSettings {
    fn from(s: crate::settings::Settings) -> Self {
        Self {
            count_threshold: s.count_threshold,
            pick_deadline: s.pick_deadline,
            step_attempts: s.step_attempts,
            retry_base_ms: s.retry_base_ms,
            fefo: s.fefo.as_str().to_owned(),
        }
    }
}

/// One audited settings change.
#[derive(Debug, SimpleObject)]
pub struct SettingChange {
    pub key: String,
    pub old: Option<String>,
    pub new: Option<String>,
    pub by: String,
    pub at: DateTime<Utc>,
}

impl From<crate::settings::Change> for SettingChange {
    fn from(c: crate::settings::Change) -> Self {
        Self {
            key: c.key,
            old: c.old,
            new: c.new,
            by: c.by,
            at: c.at,
        }
    }
}

/// Order cycle times (docs/REPORTS.md): one row per order, and the median
/// and p90 over the shipped ones.
#[derive(SimpleObject)]
pub struct CycleTimeReport {
    pub orders: Vec<crate::reports::cycle_time::Row>,
    pub summary: crate::reports::cycle_time::CycleTimeSummary,
}

/// The supervisor's floor dashboard (docs/FLOOR.md): open work by zone, the
/// open exceptions, picks per hour per operator over the shift and every
/// device with its last contact and reported backlog.
#[derive(SimpleObject)]
#[graphql(name = "Floor")]
pub struct FloorView {
    /// Server time of this snapshot.
    pub at: DateTime<Utc>,
    /// Start of the first hour in `operators.perHour`.
    pub shift_start: DateTime<Utc>,
    pub tasks: Vec<crate::floor::ZoneTasks>,
    pub exceptions: Vec<Exception>,
    pub operators: Vec<crate::floor::OperatorPicks>,
    pub devices: Vec<crate::floor::DeviceStatus>,
}

impl From<crate::floor::Floor> for FloorView {
    fn from(f: crate::floor::Floor) -> Self {
        Self {
            at: f.at,
            shift_start: f.shift_start,
            tasks: f.tasks,
            exceptions: f.exceptions.into_iter().map(Exception::from).collect(),
            operators: f.operators,
            devices: f.devices,
        }
    }
}
