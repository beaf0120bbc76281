//! The transactional outbox: a write's live events are rows committed in the
//! same transaction as the write, and [`crate::events::Events::relay`]
//! publishes them after commit. A full queue, a dead NATS or a crash between
//! commit and publish delays events; it never loses them, and a rolled-back
//! write has none to lose.
//!
//! One row per committed write holds all its events (a push of 10,000 moves
//! is one insert, not 10,000). Each event has an `event_id` unique across
//! servers and databases (`"<UUIDv7 of the write>.<n>"`; row ids are not:
//! a restored database or a second deployment on the same NATS counts from
//! the same numbers). Delivery is at least once (a relay that dies after
//! publishing and before deleting publishes again), and a subscriber drops
//! a repeat by that id; NATS JetStream drops it itself (`Nats-Msg-Id`).
//!
//! Where events come from: a push's from its plan ([`crate::push::Plan::events`],
//! with the operation that caused each); every other write's derived from
//! the change-log rows it writes ([`derived`]), so a write that changes a
//! task, an exception or stock cannot forget to tell subscribers.

use chrono::Utc;
use pyck_sync::events::{Event, EventKind};
use pyck_sync::protocol::Entity;
use pyck_sync::records::{ExceptionRecord, StockRecord, TaskRecord, TaskStatus};
use uuid::Uuid;

use crate::push::ChangeRow;

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
pub fn encode(events: &[Event]) -> crate::storage::Result<String> {
    serde_json::to_string(events)
        .map_err(|e| crate::storage::StorageError::Backend(format!("outbox: {e}")))
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

/// The events a write's change-log rows stand for: stock now at a quantity,
/// a task created (open) or cancelled, an exception raised or resolved.
/// Outside a push a write touches a task only to create or cancel it (the
/// push's plan tells a changed task from a new one itself).
pub fn derived(warehouse: i64, changes: &[ChangeRow]) -> Vec<Event> {
    stamp(
        warehouse,
        changes.iter().filter_map(event_of).map(|k| (k, None)),
    )
}

fn event_of(row: &ChangeRow) -> Option<EventKind> {
    match row.entity {
        Entity::Stock => {
            let Some(data) = row.data.as_deref() else {
                let mut parts = row.key.splitn(3, '|');
                let (location, sku, lot) = (parts.next()?, parts.next()?, parts.next()?);
                return Some(EventKind::StockChanged {
                    location: location.to_owned(),
                    sku: sku.to_owned(),
                    lot: (!lot.is_empty()).then(|| lot.to_owned()),
                    qty: 0,
                });
            };
            let s: StockRecord = serde_json::from_str(data).ok()?;
            Some(EventKind::StockChanged {
                location: s.location,
                sku: s.sku,
                lot: s.lot,
                qty: s.qty,
            })
        }
        Entity::Task => {
            let t: TaskRecord = serde_json::from_str(row.data.as_deref()?).ok()?;
            match t.status {
                TaskStatus::Open => Some(EventKind::TaskCreated { task: t.id }),
                TaskStatus::Cancelled => Some(EventKind::TaskCancelled { id: t.id }),
                TaskStatus::Done | TaskStatus::Short => None,
            }
        }
        Entity::Exception => {
            let e: ExceptionRecord = serde_json::from_str(row.data.as_deref()?).ok()?;
            if e.status == "open" {
                Some(EventKind::ExceptionRaised {
                    id: e.id,
                    kind: e.kind,
                    message: e.message,
                })
            } else {
                Some(EventKind::ExceptionResolved { id: e.id })
            }
        }
        Entity::Item | Entity::Location | Entity::Operator | Entity::AsnLine | Entity::Order => {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(id: &str, status: TaskStatus) -> TaskRecord {
        TaskRecord {
            id: id.into(),
            kind: pyck_sync::records::TaskKind::Pick,
            status,
            order: Some("SO-1".into()),
            line: Some(1),
            sku: Some("SKU-1".into()),
            lot: None,
            location: "A-01".into(),
            to: None,
            qty: 3,
            done_qty: 0,
            zone: "A".into(),
            sequence: 1,
        }
    }

    #[test]
    fn change_rows_stand_for_their_events() {
        let rows = [
            ChangeRow::task(&task("T1", TaskStatus::Open)),
            ChangeRow::task(&task("T2", TaskStatus::Cancelled)),
            ChangeRow::task(&task("T3", TaskStatus::Done)),
            ChangeRow {
                entity: Entity::Stock,
                key: StockRecord::key("A-01", "SKU-1", Some("L1")),
                data: None,
            },
            ChangeRow {
                entity: Entity::Item,
                key: "SKU-1".into(),
                data: Some("{}".into()),
            },
        ];
        let kinds: Vec<EventKind> = derived(7, &rows).into_iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            vec![
                EventKind::TaskCreated { task: "T1".into() },
                EventKind::TaskCancelled { id: "T2".into() },
                EventKind::StockChanged {
                    location: "A-01".into(),
                    sku: "SKU-1".into(),
                    lot: Some("L1".into()),
                    qty: 0
                },
            ]
        );
    }

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
