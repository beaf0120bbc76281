//! Warehouse settings and their audit on SQLite.

use rusqlite::{Connection, TransactionBehavior, params};

use super::{named_column, now, parse_ts};
use crate::settings::{Change, Key, Settings, Value};
use crate::storage::{Result, StorageError};

pub fn get(conn: &Connection, tenant: i64, wh: i64) -> Result<Settings> {
    conn.query_row(
        "SELECT count_threshold, pick_deadline_secs, step_attempts, retry_base_ms, fefo FROM warehouses \
         WHERE id = ?1 AND tenant_id = ?2",
        params![wh, tenant],
        |r| {
            Ok(Settings {
                count_threshold: r.get(0)?,
                pick_deadline: r.get(1)?,
                step_attempts: r.get(2)?,
                retry_base_ms: r.get(3)?,
                fefo: named_column(r, 4)?,
            })
        },
    )
    .map_err(|e| match e {
        rusqlite::Error::QueryReturnedNoRows => StorageError::UnknownWarehouse(wh.to_string()),
        other => other.into(),
    })
}

pub fn set(
    conn: &mut Connection,
    tenant: i64,
    wh: i64,
    key: Key,
    value: &Value,
    by: &str,
) -> Result<Change> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let old = get(&tx, tenant, wh)?.get(key);
    let sql = format!(
        "UPDATE warehouses SET {} = ?1 WHERE id = ?2 AND tenant_id = ?3",
        key.column()
    );
    match value {
        Value::Int(v) => tx.execute(&sql, params![v, wh, tenant])?,
        Value::Text(v) => tx.execute(&sql, params![v, wh, tenant])?,
    };
    let at = now();
    let new = value.text();
    tx.execute(
        "INSERT INTO settings_audit (tenant_id, warehouse_id, key, old_value, new_value, changed_by, changed_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![tenant, wh, key.as_str(), old, new, by, at],
    )?;
    tx.commit()?;
    Ok(Change {
        key: key.as_str().to_owned(),
        old,
        new,
        by: by.to_owned(),
        at: parse_ts(&at)?,
    })
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
