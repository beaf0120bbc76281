//! Warehouse settings and their audit on SQLite: the reads. A change is a
//! server write through `transact` (`push::write_plan` stores it).

use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};

use super::{named_column, parse_ts, ts};
use crate::settings::{Change, SettingWrite, Settings, Value};
use crate::storage::{Result, StorageError};

/// A warehouse's settings, as [`row`] reads them from its first columns.
pub(super) const COLUMNS: &str =
    "count_threshold, pick_deadline_secs, step_attempts, retry_base_ms, fefo";

/// The settings in a row's first columns, [`COLUMNS`].
pub(super) fn row(r: &Row<'_>) -> rusqlite::Result<Settings> {
    Ok(Settings {
        count_threshold: r.get(0)?,
        pick_deadline: r.get(1)?,
        step_attempts: r.get(2)?,
        retry_base_ms: r.get(3)?,
        fefo: named_column(r, 4)?,
    })
}

pub fn get(conn: &Connection, tenant: i64, wh: i64) -> Result<Settings> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM warehouses WHERE id = ?1 AND tenant_id = ?2"
    ))?
    .query_row(params![wh, tenant], row)
    .optional()?
    .ok_or_else(|| StorageError::UnknownWarehouse(wh.to_string()))
}

/// Stores a setting's new value in the warehouse's row and its audit row.
pub(super) fn write(tx: &Transaction<'_>, tenant: i64, wh: i64, s: &SettingWrite) -> Result<()> {
    let sql = format!(
        "UPDATE warehouses SET {} = ?1 WHERE id = ?2 AND tenant_id = ?3",
        s.key.column()
    );
    match &s.value {
        Value::Int(v) => tx.execute(&sql, params![v, wh, tenant])?,
        Value::Text(v) => tx.execute(&sql, params![v, wh, tenant])?,
    };
    tx.execute(
        "INSERT INTO settings_audit (tenant_id, warehouse_id, key, old_value, new_value, changed_by, changed_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![tenant, wh, s.key.as_str(), s.old, s.value.text(), s.by, ts(s.at)],
    )?;
    Ok(())
}

pub fn history(conn: &Connection, tenant: i64, wh: i64) -> Result<Vec<Change>> {
    conn.prepare_cached(
        "SELECT key, old_value, new_value, changed_by, changed_at FROM settings_audit \
         WHERE tenant_id = ?1 AND warehouse_id = ?2 ORDER BY id",
    )?
    .query_map(params![tenant, wh], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get::<_, String>(4)?,
        ))
    })?
    .map(|row| {
        let (key, old, new, by, at) = row?;
        Ok(Change {
            key,
            old,
            new,
            by,
            at: parse_ts(&at)?,
        })
    })
    .collect()
}
