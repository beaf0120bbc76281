//! Tasks and exceptions as this device sees them: the pulled records with
//! this device's not-yet-pulled operations applied on top (a task picked
//! offline shows as done at once).

use std::collections::HashMap;

use pyck_vocab::operation::Payload;
use pyck_vocab::records::{
    AsnLineRecord, ExceptionRecord, ExceptionStatus, OrderStatus, TaskKind, TaskRecord, TaskStatus,
    walk_key,
};

use super::view::{at_one_moment, overlay};
use crate::checks::OrderState;
use rusqlite::Connection;

fn records<T: serde::de::DeserializeOwned>(
    conn: &Connection,
    entity: &str,
) -> anyhow::Result<Vec<T>> {
    let mut stmt = conn.prepare_cached("SELECT data FROM records WHERE entity = ?1")?;
    let rows = stmt.query_map([entity], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for row in rows {
        out.push(serde_json::from_str(&row?)?);
    }
    Ok(out)
}

/// Tasks of a kind, in walking order (zone, then location code).
pub fn tasks(conn: &Connection, kind: TaskKind) -> anyhow::Result<Vec<TaskRecord>> {
    at_one_moment(conn, || tasks_now(conn, kind))
}

fn tasks_now(conn: &Connection, kind: TaskKind) -> anyhow::Result<Vec<TaskRecord>> {
    let mut all: HashMap<String, TaskRecord> = records::<TaskRecord>(conn, "task")?
        .into_iter()
        .map(|t| (t.id.clone(), t))
        .collect();
    for p in overlay(conn)? {
        match p {
            Payload::Pick(pk) => {
                if let Some(t) = all.get_mut(&pk.task) {
                    t.done_qty += pk.qty;
                    if t.done_qty >= t.qty {
                        t.status = TaskStatus::Done;
                    }
                }
            }
            Payload::ShortPick(pk) => {
                if let Some(t) = all.get_mut(&pk.task) {
                    t.done_qty += pk.qty;
                    t.status = TaskStatus::Short;
                }
            }
            Payload::Putaway(m) | Payload::Move(m) => {
                if let Some(t) = m.task.as_ref().and_then(|id| all.get_mut(id)) {
                    t.done_qty += m.qty;
                    if t.done_qty >= t.qty {
                        t.status = TaskStatus::Done;
                    }
                }
            }
            Payload::Count(c) => {
                if let Some(t) = c.task.as_ref().and_then(|id| all.get_mut(id)) {
                    t.status = TaskStatus::Done;
                }
            }
            _ => {}
        }
    }
    let mut list: Vec<TaskRecord> = all.into_values().filter(|t| t.kind == kind).collect();
    list.sort_by(|a, b| {
        a.zone
            .cmp(&b.zone)
            .then_with(|| walk_key(&a.location).cmp(&walk_key(&b.location)))
            .then(a.sequence.cmp(&b.sequence))
    });
    Ok(list)
}

pub fn task(conn: &Connection, id: &str) -> anyhow::Result<Option<TaskRecord>> {
    for kind in [TaskKind::Pick, TaskKind::Putaway, TaskKind::Count] {
        if let Some(t) = tasks(conn, kind)?.into_iter().find(|t| t.id == id) {
            return Ok(Some(t));
        }
    }
    Ok(None)
}

/// Exceptions of the warehouse, with resolutions recorded here on top.
pub fn exceptions(conn: &Connection) -> anyhow::Result<Vec<ExceptionRecord>> {
    at_one_moment(conn, || exceptions_now(conn))
}

fn exceptions_now(conn: &Connection) -> anyhow::Result<Vec<ExceptionRecord>> {
    let mut all: Vec<ExceptionRecord> = records(conn, "exception")?;
    for p in overlay(conn)? {
        if let Payload::ResolveException(r) = p
            && let Some(e) = all.iter_mut().find(|e| e.id == r.exception)
        {
            e.status = ExceptionStatus::Resolved;
        }
    }
    all.sort_by(|a, b| a.raised_at.cmp(&b.raised_at).then(a.id.cmp(&b.id)));
    Ok(all)
}

/// An order as this device sees it (None: not known here): the status the
/// last pull brought with this device's packs and ships on top, and its pick
/// tasks still open.
pub fn order_state(conn: &Connection, order: &str) -> anyhow::Result<Option<OrderState>> {
    at_one_moment(conn, || order_state_now(conn, order))
}

fn order_state_now(conn: &Connection, order: &str) -> anyhow::Result<Option<OrderState>> {
    let mut stmt = conn.prepare_cached("SELECT status FROM order_lines WHERE order_no = ?1")?;
    let statuses: Vec<String> = stmt
        .query_map([order], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    // Lines share their order's status; the furthest along wins if a pull
    // stopped half-way.
    let mut status: Option<OrderStatus> = None;
    for text in &statuses {
        let line = OrderStatus::parse(text).ok_or_else(|| {
            anyhow::anyhow!("order {order}: unknown status {text:?} in the store")
        })?;
        if status.is_none_or(|s| line.progress() > s.progress()) {
            status = Some(line);
        }
    }
    let Some(mut status) = status else {
        return Ok(None);
    };
    for p in overlay(conn)? {
        let recorded = match p {
            Payload::Pack(o) if o.order == order => OrderStatus::Packed,
            Payload::Ship(o) if o.order == order => OrderStatus::Shipped,
            _ => continue,
        };
        if recorded.progress() > status.progress() {
            status = recorded;
        }
    }
    let open_picks = tasks(conn, TaskKind::Pick)?
        .iter()
        .filter(|t| t.status == TaskStatus::Open && t.order.as_deref() == Some(order))
        .count();
    Ok(Some(OrderState {
        order: order.to_owned(),
        status,
        open_picks,
    }))
}

/// The lines of an ASN as this device sees them: received and damaged
/// quantities and the closed flag with this device's receipts and closes on
/// top (a line received offline shows what is still expected).
pub fn asn(conn: &Connection, asn: &str) -> anyhow::Result<Vec<AsnLineRecord>> {
    at_one_moment(conn, || asn_now(conn, asn))
}

fn asn_now(conn: &Connection, asn: &str) -> anyhow::Result<Vec<AsnLineRecord>> {
    let mut lines = super::replica::asn_lines(conn, asn)?;
    if lines.is_empty() {
        return Ok(lines);
    }
    for p in overlay(conn)? {
        match p {
            Payload::Receive(r) if r.asn == asn => {
                if let Some(l) = lines.iter_mut().find(|l| l.sku == r.sku) {
                    l.received_qty += r.qty;
                    l.damaged_qty += r.damaged;
                }
            }
            Payload::CloseAsn(c) if c.asn == asn => {
                for l in &mut lines {
                    l.closed = true;
                }
            }
            _ => {}
        }
    }
    Ok(lines)
}
