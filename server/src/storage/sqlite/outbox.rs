//! The outbox's rows on SQLite (see [`crate::outbox`]).

use pyck_sync::events::Event;
use rusqlite::{Connection, Transaction, params};

use crate::outbox::Pending;
use crate::storage::{Result, StorageError};

/// Adds a write's events to the outbox, inside its transaction.
pub fn write(tx: &Transaction<'_>, tenant: i64, events: &[Event]) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    tx.prepare_cached("INSERT INTO outbox (tenant, events) VALUES (?1, ?2)")?
        .execute(params![tenant, crate::storage::encode_events(events)?])?;
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
                .map_err(|e| StorageError::Backend(format!("outbox row {id}: {e}")))?,
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
