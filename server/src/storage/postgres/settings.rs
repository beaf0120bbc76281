//! Warehouse settings and their audit on PostgreSQL.

use chrono::Utc;
use deadpool_postgres::ClientWrapper;

use super::admin::start;
use crate::settings::{Change, Key, Settings, Value};
use crate::storage::{Result, StorageError, named};

const SETTINGS: &str = "SELECT count_threshold, pick_deadline_secs, step_attempts, retry_base_ms, fefo \
     FROM warehouses WHERE id = $1 AND tenant_id = $2";

fn settings(r: &tokio_postgres::Row) -> Result<Settings> {
    Ok(Settings {
        count_threshold: r.try_get(0)?,
        pick_deadline: r.try_get(1)?,
        step_attempts: r.try_get(2)?,
        retry_base_ms: r.try_get(3)?,
        fefo: named(r.try_get(4)?)?,
    })
}

pub async fn get(client: &ClientWrapper, tenant: i64, wh: i64) -> Result<Settings> {
    let stmt = client.prepare_cached(SETTINGS).await?;
    match client.query_opt(&stmt, &[&wh, &tenant]).await? {
        Some(r) => settings(&r),
        None => Err(StorageError::UnknownWarehouse(wh.to_string())),
    }
}

pub async fn set(
    client: &mut ClientWrapper,
    tenant: i64,
    wh: i64,
    key: Key,
    value: &Value,
    by: &str,
) -> Result<Change> {
    let tx = start(client).await?;
    let stmt = tx.prepare_cached(&format!("{SETTINGS} FOR UPDATE")).await?;
    let old = match tx.query_opt(&stmt, &[&wh, &tenant]).await? {
        Some(r) => settings(&r)?.get(key),
        None => return Err(StorageError::UnknownWarehouse(wh.to_string())),
    };
    let sql = format!(
        "UPDATE warehouses SET {} = $1 WHERE id = $2 AND tenant_id = $3",
        key.column()
    );
    match value {
        Value::Int(v) => tx.execute(&sql, &[v, &wh, &tenant]).await?,
        Value::Text(v) => tx.execute(&sql, &[v, &wh, &tenant]).await?,
    };
    let at = Utc::now();
    let new = value.text();
    tx.execute(
        "INSERT INTO settings_audit (tenant_id, warehouse_id, key, old_value, new_value, changed_by, changed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[&tenant, &wh, &key.as_str(), &old, &new, &by, &at],
    )
    .await?;
    tx.commit().await?;
    Ok(Change {
        key: key.as_str().to_owned(),
        old,
        new,
        by: by.to_owned(),
        at,
    })
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
