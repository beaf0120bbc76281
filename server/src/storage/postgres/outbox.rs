//! The outbox's rows on PostgreSQL (see [`crate::outbox`]).

use deadpool_postgres::{ClientWrapper, Transaction};
use pyck_vocab::events::Event;

use crate::outbox::{self, Pending};
use crate::storage::{Result, StorageError};

/// Adds a write's events to the outbox, inside its transaction: a row per
/// [`outbox::EVENTS_PER_ROW`] of them, in order.
pub async fn write(tx: &Transaction<'_>, tenant: i64, events: &[Event]) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let stmt = tx
        .prepare_cached("INSERT INTO outbox (tenant, events) VALUES ($1, $2)")
        .await?;
    for row in events.chunks(outbox::EVENTS_PER_ROW) {
        tx.execute(&stmt, &[&tenant, &crate::storage::encode_events(row)?])
            .await?;
    }
    Ok(())
}

/// The oldest `limit` rows not relayed yet. Ids are not commit-ordered
/// across writers, so every row present is taken, whatever its id.
pub async fn pending(client: &ClientWrapper, limit: u32) -> Result<Vec<Pending>> {
    let stmt = client
        .prepare_cached("SELECT id, tenant, events FROM outbox ORDER BY id LIMIT $1")
        .await?;
    let rows = client.query(&stmt, &[&i64::from(limit)]).await?;
    rows.iter()
        .map(|r| {
            let id: i64 = r.try_get(0)?;
            let events: &str = r.try_get(2)?;
            Pending::decode(id, r.try_get(1)?, events)
                .map_err(|e| StorageError::corrupt(format!("outbox row {id}: {e}")))
        })
        .collect()
}

/// Forgets rows whose events were published.
pub async fn relayed(client: &ClientWrapper, ids: &[i64]) -> Result<()> {
    let stmt = client
        .prepare_cached("DELETE FROM outbox WHERE id = ANY($1)")
        .await?;
    client.execute(&stmt, &[&ids]).await?;
    Ok(())
}
