//! The transactional outbox: a write's live events are rows committed in the
//! same transaction as the write, and [`crate::events::Events::relay`]
//! publishes them after commit. A full queue, a dead NATS or a crash between
//! commit and publish delays events; it never loses them, and a rolled-back
//! write has none to lose.
//!
//! One row per committed write holds its events (a push of 10,000 moves is
//! one insert, not 10,000), up to [`EVENTS_PER_ROW`] a row. Each event has an `event_id` unique across
//! servers and databases (`"<UUIDv7 of the write>.<n>"`; row ids are not:
//! a restored database or a second deployment on the same NATS counts from
//! the same numbers). Delivery is at least once (a relay that dies after
//! publishing and before deleting publishes again), and a subscriber drops
//! a repeat by that id; NATS JetStream drops it itself (`Nats-Msg-Id`).
//!
//! Where events come from: every write's plan ([`crate::push::Plan::events`],
//! beside the change-log rows of [`crate::push::Plan::changes`], with the
//! operation that caused each where there is one): a push, a server write
//! through [`crate::storage::Storage::transact`] and a workflow step alike,
//! so a write that changes a task, an exception or stock cannot forget to
//! tell subscribers.

use chrono::Utc;
use pyck_vocab::events::{Event, EventKind};
use uuid::Uuid;

/// The most events one outbox row holds; a write with more (an import of a
/// whole warehouse's stock) takes several rows, in order. A row is decoded
/// and published as one piece, so this bounds what the relay holds at once
/// and lets it make progress on a huge write a row at a time.
pub const EVENTS_PER_ROW: usize = 5_000;

/// A committed write's events not relayed yet.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    /// The outbox row.
    pub id: i64,
    pub tenant: i64,
    /// In the order they happened.
    pub events: Vec<Event>,
}

impl Pending {
    /// A stored row.
    pub fn decode(id: i64, tenant: i64, events: &str) -> serde_json::Result<Pending> {
        let events = serde_json::from_str(events)?;
        Ok(Pending { id, tenant, events })
    }
}

/// The stored form of a write's events.
pub fn encode(events: &[Event]) -> serde_json::Result<String> {
    serde_json::to_string(events)
}

/// Events of `warehouse` happening now, in the request under way.
pub fn stamp(
    warehouse: i64,
    kinds: impl IntoIterator<Item = (EventKind, Option<Uuid>)>,
) -> Vec<Event> {
    let at = Utc::now();
    let request = crate::request::current();
    let write = Uuid::now_v7();
    kinds
        .into_iter()
        .enumerate()
        .map(|(n, (kind, operation))| Event {
            event_id: Some(format!("{write}.{n}")),
            at,
            warehouse,
            kind,
            operation,
            request: request.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_event_has_an_id_of_its_own() {
        let events = stamp(
            3,
            [
                (EventKind::TaskCreated { task: "T1".into() }, None),
                (EventKind::ExceptionResolved { id: "x".into() }, None),
            ],
        );
        let pending = Pending::decode(4711, 1, &encode(&events).unwrap()).unwrap();
        assert_eq!(pending.events, events, "stored as they were made");
        let ids: Vec<&str> = events
            .iter()
            .filter_map(|e| e.event_id.as_deref())
            .collect();
        let write = &ids[0][..36];
        assert_eq!(ids, [format!("{write}.0"), format!("{write}.1")]);
        let again = stamp(3, [(EventKind::TaskCreated { task: "T1".into() }, None)]);
        assert_ne!(again[0].event_id, events[0].event_id, "another write");
        assert!(events.iter().all(|e| e.warehouse == 3));
    }
}
