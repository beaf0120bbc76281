//! Warehouse settings and their audit on PostgreSQL: the reads. A change is
//! a server write through `transact` (`push::write_plan` stores it).

use deadpool_postgres::{ClientWrapper, Transaction};

use crate::settings::{Change, SettingWrite, Settings, Value};
use crate::storage::{Result, StorageError, named};

/// A warehouse's settings, as [`settings`] reads them from its first
/// columns.
pub(super) const COLUMNS: &str =
    "count_threshold, pick_deadline_secs, step_attempts, retry_base_ms, fefo";

/// The settings in a row's first columns, [`COLUMNS`].
pub(super) fn settings(r: &tokio_postgres::Row) -> Result<Settings> {
    Ok(Settings {
        count_threshold: r.try_get(0)?,
        pick_deadline: r.try_get(1)?,
        step_attempts: r.try_get(2)?,
        retry_base_ms: r.try_get(3)?,
        fefo: named(r.try_get(4)?)?,
    })
}

pub async fn get(client: &ClientWrapper, tenant: i64, wh: i64) -> Result<Settings> {
    let stmt = client
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM warehouses WHERE id = $1 AND tenant_id = $2"
        ))
        .await?;
    match client.query_opt(&stmt, &[&wh, &tenant]).await? {
        Some(r) => settings(&r),
        None => Err(StorageError::UnknownWarehouse(wh.to_string())),
    }
}

/// Stores a setting's new value in the warehouse's row and its audit row.
pub(super) async fn write(
    tx: &Transaction<'_>,
    tenant: i64,
    wh: i64,
    s: &SettingWrite,
) -> Result<()> {
    let sql = format!(
        "UPDATE warehouses SET {} = $1 WHERE id = $2 AND tenant_id = $3",
        s.key.column()
    );
    match &s.value {
        Value::Int(v) => tx.execute(&sql, &[v, &wh, &tenant]).await?,
        Value::Text(v) => tx.execute(&sql, &[v, &wh, &tenant]).await?,
    };
    tx.execute(
        "INSERT INTO settings_audit (tenant_id, warehouse_id, key, old_value, new_value, changed_by, changed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[&tenant, &wh, &s.key.as_str(), &s.old, &s.value.text(), &s.by, &s.at],
    )
    .await?;
    Ok(())
}

pub async fn history(client: &ClientWrapper, tenant: i64, wh: i64) -> Result<Vec<Change>> {
    let stmt = client
        .prepare_cached(
            "SELECT key, old_value, new_value, changed_by, changed_at FROM settings_audit \
             WHERE tenant_id = $1 AND warehouse_id = $2 ORDER BY id",
        )
        .await?;
    client
        .query(&stmt, &[&tenant, &wh])
        .await?
        .iter()
        .map(|r| {
            Ok(Change {
                key: r.try_get(0)?,
                old: r.try_get(1)?,
                new: r.try_get(2)?,
                by: r.try_get(3)?,
                at: r.try_get(4)?,
            })
        })
        .collect()
}
