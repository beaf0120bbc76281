//! The outbox's rows on SQLite (see [`crate::outbox`]).

use pyck_vocab::events::Event;
use rusqlite::{Connection, Transaction, params};

use crate::outbox::{self, Pending};
use crate::storage::{Result, StorageError};

/// Adds a write's events to the outbox, inside its transaction: a row per
/// [`outbox::EVENTS_PER_ROW`] of them, in order.
pub fn write(tx: &Transaction<'_>, tenant: i64, events: &[Event]) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let mut insert = tx.prepare_cached("INSERT INTO outbox (tenant, events) VALUES (?1, ?2)")?;
    for row in events.chunks(outbox::EVENTS_PER_ROW) {
        insert.execute(params![tenant, crate::storage::encode_events(row)?])?;
    }
    Ok(())
}

/// The oldest `limit` rows not relayed yet.
pub fn pending(conn: &Connection, limit: u32) -> Result<Vec<Pending>> {
    let mut stmt =
        conn.prepare_cached("SELECT id, tenant, events FROM outbox ORDER BY id LIMIT ?1")?;
    let rows = stmt.query_map([limit], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    let mut pending = Vec::new();
    for row in rows {
        let (id, tenant, events) = row?;
        pending.push(
            Pending::decode(id, tenant, &events)
                .map_err(|e| StorageError::corrupt(format!("outbox row {id}: {e}")))?,
        );
    }
    Ok(pending)
}

/// Forgets rows whose events were published.
pub fn relayed(conn: &mut Connection, ids: &[i64]) -> Result<()> {
    let tx = conn.transaction()?;
    {
        let mut delete = tx.prepare_cached("DELETE FROM outbox WHERE id = ?1")?;
        for id in ids {
            delete.execute([id])?;
        }
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use pyck_vocab::events::EventKind;

    use super::*;

    /// A write of more events than a row holds takes several rows, each
    /// within the bound, and the relay reads them back in the write's order.
    #[test]
    fn a_huge_write_takes_rows_of_bounded_size_in_order() {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::MIGRATIONS.to_latest(&mut conn).unwrap();
        let n = 2 * outbox::EVENTS_PER_ROW + 1;
        let events = outbox::stamp(
            1,
            (0..n).map(|i| {
                let kind = EventKind::TaskCreated {
                    task: format!("T{i}"),
                };
                (kind, None)
            }),
        );
        let tx = conn.transaction().unwrap();
        write(&tx, 7, &events).unwrap();
        tx.commit().unwrap();
        let rows = pending(&conn, 100).unwrap();
        let sizes: Vec<usize> = rows.iter().map(|p| p.events.len()).collect();
        assert_eq!(sizes, [outbox::EVENTS_PER_ROW, outbox::EVENTS_PER_ROW, 1]);
        assert!(rows.iter().all(|p| p.tenant == 7));
        let back: Vec<Event> = rows.into_iter().flat_map(|p| p.events).collect();
        assert_eq!(back, events);
    }
}
