//! Live events: what the server tells subscribers after something happened in
//! a warehouse. Shared by the server (which publishes them, in-process or
//! through NATS) and the terminal (`pyck feed`, the nudge to pull).
//!
//! An event is a hint, never a source of truth: a terminal that receives one
//! pulls; a subscriber that falls behind gets [`EventKind::Lagged`] and pulls
//! too. The names (`type` and the field names) are stable: scripts read them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One event of one warehouse, as a subscriber receives it: one JSON object,
/// e.g. `{"at":"…","warehouse":1,"type":"stock_changed","location":"A-01",
/// "sku":"SKU-1","lot":null,"qty":12}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Unique, e.g. `"019aff3c-…-8d2e.3"` (the 4th event of a committed
    /// write, named by a UUIDv7). Delivery is at least once: after a relay restart a
    /// subscriber may get an event again and drops the repeat by this id.
    /// Absent on `lagged`, which is no event. (Not `id`: several kinds
    /// name their record by `id`.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// When the change was committed.
    pub at: DateTime<Utc>,
    /// The server's id of the warehouse it happened in (every subscriber
    /// sees only its own warehouse).
    pub warehouse: i64,
    #[serde(flatten)]
    pub kind: EventKind,
    /// The operation that caused it (the last one in its batch to touch the
    /// record), as the device's journal knows it: a trace from the scan to
    /// the event. Absent for events of the server's own doing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<uuid::Uuid>,
    /// The id of the request that caused it (`x-request-id`, the same in
    /// the server's log).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// The quantity at a location (and lot) is now `qty` (0: gone).
    StockChanged {
        location: String,
        sku: String,
        lot: Option<String>,
        qty: i64,
    },
    /// A new task (pick, putaway, count); its id, e.g. `T12`.
    TaskCreated {
        task: String,
    },
    /// A task was cancelled (e.g. its order was cancelled).
    TaskCancelled {
        id: String,
    },
    /// An exception was raised; `kind` is its stable name.
    ExceptionRaised {
        id: String,
        kind: String,
        message: String,
    },
    ExceptionResolved {
        id: String,
    },
    /// A step of an order's fulfilment workflow finished (or failed).
    WorkflowStep {
        order: String,
        step: String,
        status: String,
        attempt: u32,
        error: Option<String>,
    },
    /// Not an event: this subscriber fell behind and missed `missed` events.
    /// Pull to catch up. Never published, only delivered.
    Lagged {
        missed: u64,
    },
}

impl EventKind {
    /// The stable snake_case name (the JSON `type`), also the last token of
    /// the NATS subject.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::StockChanged { .. } => "stock_changed",
            EventKind::TaskCreated { .. } => "task_created",
            EventKind::TaskCancelled { .. } => "task_cancelled",
            EventKind::ExceptionRaised { .. } => "exception_raised",
            EventKind::ExceptionResolved { .. } => "exception_resolved",
            EventKind::WorkflowStep { .. } => "workflow_step",
            EventKind::Lagged { .. } => "lagged",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape_is_flat_and_snake_case() {
        let event = Event {
            event_id: None,
            at: DateTime::parse_from_rfc3339("2026-11-23T10:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            warehouse: 3,
            kind: EventKind::StockChanged {
                location: "A-01".into(),
                sku: "SKU-1".into(),
                lot: None,
                qty: 12,
            },
            operation: None,
            request: None,
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "at": "2026-11-23T10:00:00Z", "warehouse": 3, "type": "stock_changed",
                "location": "A-01", "sku": "SKU-1", "lot": null, "qty": 12
            })
        );
        let back: Event = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
        assert_eq!(event.kind.name(), "stock_changed");
        // With its cause: two more fields, older readers ignore them.
        let op = uuid::Uuid::nil();
        let caused = Event {
            event_id: Some("019aff3c-5f2e-7a51-9b7e-0c1d2e3f8d2e.3".into()),
            operation: Some(op),
            request: Some("r-1".into()),
            ..event
        };
        let json = serde_json::to_value(&caused).unwrap();
        assert_eq!(json["operation"], op.to_string());
        assert_eq!(json["request"], "r-1");
        assert_eq!(json["event_id"], "019aff3c-5f2e-7a51-9b7e-0c1d2e3f8d2e.3");
    }
}
