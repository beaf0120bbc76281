//! The wire protocol: push a batch of operations, pull pages of changes.
//!
//! Both travel inside the GraphQL API (`push` mutation, `pull` query) as JSON
//! documents of the shapes below. Every request carries the protocol version
//! it speaks; a server that does not speak it refuses the request with the
//! `protocol_version` code and says which versions it does speak.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::operation::Operation;
use crate::refusal::Refusal;

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// The oldest protocol version this build still accepts.
pub const MIN_PROTOCOL_VERSION: u32 = 1;

/// Whether this build can talk to a peer speaking `version`.
pub fn supports(version: u32) -> bool {
    (MIN_PROTOCOL_VERSION..=PROTOCOL_VERSION).contains(&version)
}

/// The message both sides show when versions do not meet.
pub fn mismatch_message(peer: u32) -> String {
    format!(
        "protocol version mismatch: this side speaks {MIN_PROTOCOL_VERSION}..={PROTOCOL_VERSION}, \
         the other side speaks {peer}; update the older of the two"
    )
}

/// Most operations one push may carry. The server refuses more
/// (`pyck-server`'s `graphql::sync`), and the terminal sends batches of
/// this size: each batch is one durable commit on the server, so fewer,
/// larger batches are faster (issue 21).
pub const MAX_PUSH_OPS: usize = 20_000;

/// A batch of one device's operations, in sequence order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushRequest {
    pub protocol: u32,
    pub ops: Vec<Operation>,
    /// Operations the device still holds unsent beyond this batch; the server
    /// keeps it so a supervisor sees a stuck backlog.
    #[serde(default)]
    pub backlog: u64,
}

/// What the server did with each operation of a batch, in the same order.
/// Sent only after the batch is committed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResponse {
    pub protocol: u32,
    pub results: Vec<OpResult>,
    /// The highest sequence number of this device the server has settled
    /// (applied or refused); the device may forget everything up to it.
    pub last_seq: u64,
}

/// The outcome for one operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpResult {
    pub id: Uuid,
    pub seq: u64,
    #[serde(flatten)]
    pub outcome: PushOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum PushOutcome {
    /// Applied now; `exceptions` counts the exceptions it raised.
    Applied {
        #[serde(default)]
        exceptions: u32,
    },
    /// Already settled by an earlier push; nothing was done again.
    Duplicate,
    /// Cannot be a fact. The sequence number is consumed all the same, so the
    /// device goes on with the next one; a re-send gets the same refusal.
    Refused(Refusal),
    /// An earlier sequence number is missing: nothing from here on was looked
    /// at. The device must send from `expected`.
    Gap { expected: u64 },
}

impl PushOutcome {
    /// Whether the device may mark the operation as settled.
    pub fn is_settled(&self) -> bool {
        !matches!(self, PushOutcome::Gap { .. })
    }
}

/// Ask for the changes after `cursor` (0 for everything).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequest {
    pub protocol: u32,
    pub cursor: u64,
    /// At most this many changes; the server may cap it.
    pub limit: u32,
}

/// One page of changes, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullPage {
    pub protocol: u32,
    pub changes: Vec<Change>,
    /// The cursor to send next: the position of the last change in this page
    /// (or the request's cursor when the page is empty).
    pub cursor: u64,
    pub has_more: bool,
    /// The request's cursor was beyond anything the server has logged: it
    /// was restored from an older backup. This page starts from the
    /// beginning; the device drops its replica before applying it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reset: bool,
}

/// The latest state of one record the device may need. The change log keeps
/// only the latest change per record, so a long-offline device pulls each
/// record once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub position: u64,
    pub entity: Entity,
    /// The record's key within its entity (a SKU, a location code, …).
    pub key: String,
    /// The record (see [`crate::records`]); `null` when it was deleted.
    pub data: Option<serde_json::Value>,
}

crate::named! {
    /// The kinds of records a pull carries.
    pub enum Entity {
        Item = "item",
        Location = "location",
        Stock = "stock",
        Operator = "operator",
        AsnLine = "asn_line",
        Order = "order",
        Task = "task",
        Exception = "exception",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::refusal::RefusalCode;
    use serde_json::json;

    #[test]
    fn outcomes_have_a_flat_wire_shape() {
        let id = Uuid::nil();
        let applied = OpResult {
            id,
            seq: 1,
            outcome: PushOutcome::Applied { exceptions: 0 },
        };
        let v = serde_json::to_value(&applied).unwrap();
        assert_eq!(v["result"], "applied");
        let refused = OpResult {
            id,
            seq: 2,
            outcome: PushOutcome::Refused(Refusal::new(RefusalCode::UnknownItem, "no SKU X")),
        };
        let v = serde_json::to_value(&refused).unwrap();
        assert_eq!(v["result"], "refused");
        assert_eq!(v["code"], "unknown_item");
        assert_eq!(v["message"], "no SKU X");
        let gap: OpResult =
            serde_json::from_value(json!({"id": id, "seq": 9, "result": "gap", "expected": 4}))
                .unwrap();
        assert_eq!(gap.outcome, PushOutcome::Gap { expected: 4 });
        assert!(!gap.outcome.is_settled());
    }

    #[test]
    fn versions() {
        assert!(supports(PROTOCOL_VERSION));
        assert!(!supports(PROTOCOL_VERSION + 1));
        assert!(mismatch_message(9).contains("speaks 9"));
    }

    #[test]
    fn entities_round_trip() {
        for e in Entity::ALL {
            assert_eq!(Entity::parse(e.as_str()), Some(e));
            assert_eq!(serde_json::to_value(e).unwrap(), e.as_str());
        }
    }
}
