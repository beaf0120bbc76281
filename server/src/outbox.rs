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

use chrono::{DateTime, Utc};
use pyck_vocab::events::{Event, EventKind};
use serde::{Deserialize, Serialize};
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
    /// A stored row, in either stored form.
    pub fn decode(id: i64, tenant: i64, events: &str) -> serde_json::Result<Pending> {
        let events = if events.trim_start().starts_with('[') {
            serde_json::from_str(events)?
        } else {
            serde_json::from_str::<Stored<EventKind>>(events)?.events()
        };
        Ok(Pending { id, tenant, events })
    }
}

/// The stored form of a write's events: what they share (the write's id,
/// time, warehouse and request) once, then each event's own kind and
/// operation. A push of 10,000 moves raises 2,000 stock events; written
/// whole, each repeated about 140 bytes of the others', which was 4 % of
/// the pages the push wrote to SQLite's log (issue 21). Rows written before
/// this form, and events that share nothing, are a plain JSON array of
/// [`Event`]s, which [`Pending::decode`] reads as well.
#[derive(Serialize, Deserialize)]
struct Stored<K> {
    /// The first event's id is `<write>.<first>`, the next `<write>.<first + 1>`…
    write: Uuid,
    first: usize,
    at: DateTime<Utc>,
    warehouse: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    request: Option<String>,
    events: Vec<Own<K>>,
}

/// What one stored event has of its own.
#[derive(Serialize, Deserialize)]
struct Own<K> {
    #[serde(flatten)]
    kind: K,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    operation: Option<Uuid>,
}

impl Stored<EventKind> {
    fn events(self) -> Vec<Event> {
        let Stored {
            write,
            first,
            at,
            warehouse,
            request,
            events,
        } = self;
        events
            .into_iter()
            .zip(first..)
            .map(|(own, n)| Event {
                event_id: Some(format!("{write}.{n}")),
                at,
                warehouse,
                kind: own.kind,
                operation: own.operation,
                request: request.clone(),
            })
            .collect()
    }
}

impl<'a> Stored<&'a EventKind> {
    /// The shared form of `events`, if they are consecutive events of one
    /// write, as [`stamp`] makes them.
    fn of(events: &'a [Event]) -> Option<Self> {
        let head = events.first()?;
        let (prefix, first) = head.event_id.as_deref()?.split_once('.')?;
        let (write, first): (Uuid, usize) = (prefix.parse().ok()?, index(first)?);
        // `<prefix>.<n>`, read rather than written out for each event.
        let numbered = |id: Option<&str>, n: usize| {
            id.and_then(|id| index(id.strip_prefix(prefix)?.strip_prefix('.')?)) == Some(n)
        };
        let shared = events.iter().zip(first..).all(|(e, n)| {
            e.at == head.at
                && e.warehouse == head.warehouse
                && e.request == head.request
                && numbered(e.event_id.as_deref(), n)
        });
        shared.then(|| Stored {
            write,
            first,
            at: head.at,
            warehouse: head.warehouse,
            request: head.request.clone(),
            events: events
                .iter()
                .map(|e| Own {
                    kind: &e.kind,
                    operation: e.operation,
                })
                .collect(),
        })
    }
}

/// An event's number as [`stamp`] writes it (decimal digits, no sign, no
/// leading zero): only such ids are stored in the shared form, which
/// writes them out again the same way.
fn index(n: &str) -> Option<usize> {
    let canonical = n.bytes().all(|b| b.is_ascii_digit()) && (n == "0" || !n.starts_with('0'));
    canonical.then(|| n.parse().ok()).flatten()
}

/// The stored form of a write's events.
pub fn encode(events: &[Event]) -> serde_json::Result<String> {
    match Stored::of(events) {
        Some(stored) => serde_json::to_string(&stored),
        None => serde_json::to_string(events),
    }
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

    /// A write's events are stored with what they share once, and read back
    /// as they were made, also for a row that starts past the first event;
    /// a row in the older form (a JSON array of whole events) still reads.
    #[test]
    fn events_are_stored_with_what_they_share_once_and_old_rows_still_read() {
        let kinds = (0..6).map(|n| {
            let kind = EventKind::StockChanged {
                location: format!("A-{n:02}"),
                sku: "SKU-1".into(),
                lot: None,
                qty: n,
            };
            (kind, Some(Uuid::now_v7()))
        });
        let events = stamp(3, kinds);
        let tail = &events[2..];
        let stored = encode(tail).unwrap();
        assert!(stored.starts_with('{'), "{stored}");
        assert_eq!(stored.matches("\"at\"").count(), 1, "{stored}");
        assert_eq!(Pending::decode(1, 1, &stored).unwrap().events, tail);
        let whole = serde_json::to_string(tail).unwrap();
        assert!(
            stored.len() * 4 < whole.len() * 3,
            "{} of {}",
            stored.len(),
            whole.len()
        );
        assert_eq!(Pending::decode(1, 1, &whole).unwrap().events, tail);

        // An id numbered otherwise than `stamp` numbers is kept as it is.
        let mut odd = tail.to_vec();
        let id = odd[1].event_id.clone().unwrap();
        let (write, n) = id.split_once('.').unwrap();
        odd[1].event_id = Some(format!("{write}.+{n}"));
        let stored = encode(&odd).unwrap();
        assert_eq!(Pending::decode(1, 1, &stored).unwrap().events, odd);

        // Events of different writes share nothing: stored whole.
        let mut mixed = events[..1].to_vec();
        mixed.extend(stamp(
            4,
            [(EventKind::TaskCreated { task: "T1".into() }, None)],
        ));
        let stored = encode(&mixed).unwrap();
        assert!(stored.starts_with('['), "{stored}");
        assert_eq!(Pending::decode(1, 1, &stored).unwrap().events, mixed);
    }
}
