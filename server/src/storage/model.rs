//! Plain data the storage layer hands out and takes in.

use chrono::{DateTime, Utc};
use pyck_sync::refusal::Refusal;
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
