//! What the floor dashboard reads (`Storage::floor_facts`) on SQLite.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use uuid::Uuid;

use super::push::{TASK_COLUMNS, task_row};
use super::queries::{EXCEPTION_COLUMNS, exception_row};
use super::{parse_ts, ts};
use crate::storage::{DeviceContact, FloorFacts, PickFact, Result, StorageError};

pub fn facts(
    c: &Connection,
    tenant: i64,
    warehouse: i64,
    since: DateTime<Utc>,
) -> Result<FloorFacts> {
    // One read transaction: the four parts describe the same moment.
    let tx = c.unchecked_transaction()?;
    let open_tasks = tx
        .prepare(&format!(
            "{TASK_COLUMNS} WHERE tenant_id = ?1 AND warehouse_id = ?2 AND status = 'open' \
             ORDER BY sequence, id"
        ))?
        .query_map(params![tenant, warehouse], task_row)?
        .collect::<rusqlite::Result<_>>()?;

    let exceptions = tx
        .prepare(&format!(
            "{EXCEPTION_COLUMNS} WHERE tenant_id = ?1 AND warehouse_id = ?2 AND status = 'open' \
             ORDER BY raised_at, id"
        ))?
        .query_map(params![tenant, warehouse], exception_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let open_exceptions = exceptions
        .into_iter()
        .map(|(mut e, at)| {
            e.raised_at = parse_ts(&at)?;
            Ok(e)
        })
        .collect::<Result<_>>()?;

    let rows = tx
        .prepare(
            "SELECT id, name, last_contact, backlog, revoked_at IS NOT NULL FROM devices \
         WHERE tenant_id = ?1 AND warehouse_id = ?2 ORDER BY name, id",
        )?
        .query_map(params![tenant, warehouse], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, bool>(4)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let devices = rows
        .into_iter()
        .map(|(id, name, last_contact, backlog, revoked)| {
            Ok(DeviceContact {
                id: Uuid::parse_str(&id)
                    .map_err(|e| StorageError::corrupt(format!("bad device id {id:?}: {e}")))?,
                name,
                last_contact: last_contact.as_deref().map(parse_ts).transpose()?,
                backlog: u64::try_from(backlog).unwrap_or(0),
                revoked,
            })
        })
        .collect::<Result<_>>()?;

    let rows = tx
        .prepare(
            "SELECT operator, at FROM operations WHERE tenant_id = ?1 AND warehouse_id = ?2 \
         AND kind IN ('pick', 'short_pick') AND refusal_code IS NULL AND at >= ?3 ORDER BY at",
        )?
        .query_map(params![tenant, warehouse, ts(since)], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let picks = rows
        .into_iter()
        .map(|(operator, at)| {
            Ok(PickFact {
                operator,
                at: parse_ts(&at)?,
            })
        })
        .collect::<Result<_>>()?;
    tx.finish()?;

    Ok(FloorFacts {
        open_tasks,
        open_exceptions,
        devices,
        picks,
    })
}
