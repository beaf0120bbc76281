//! What the floor dashboard reads (`Storage::floor_facts`) on PostgreSQL.

use chrono::{DateTime, Utc};
use tokio_postgres::IsolationLevel;
use uuid::Uuid;

use super::push::task_row;
use super::queries::exception_row;
use crate::storage::{DeviceContact, FloorFacts, PickFact, Result};

pub async fn facts(
    c: &mut deadpool_postgres::Client,
    tenant: i64,
    warehouse: i64,
    since: DateTime<Utc>,
) -> Result<FloorFacts> {
    // One snapshot: the four parts describe the same moment.
    let tx = c
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    let open_tasks = tx
        .query(
            "SELECT id, kind, status, order_no, line, sku, lot, location, to_location, qty, \
                    done_qty, zone, sequence FROM tasks \
             WHERE tenant_id = $1 AND warehouse_id = $2 AND status = 'open' ORDER BY sequence, id",
            &[&tenant, &warehouse],
        )
        .await?
        .iter()
        .map(task_row)
        .collect::<Result<_>>()?;
    let open_exceptions = tx
        .query(
            "SELECT id::text, kind, status, message, order_no, asn, location, sku, lot, raised_at \
             FROM exceptions WHERE tenant_id = $1 AND warehouse_id = $2 AND status = 'open' \
             ORDER BY raised_at, id",
            &[&tenant, &warehouse],
        )
        .await?
        .iter()
        .map(exception_row)
        .collect::<Result<_>>()?;
    let devices = tx
        .query(
            "SELECT id, name, last_contact, backlog, revoked_at IS NOT NULL FROM devices \
             WHERE tenant_id = $1 AND warehouse_id = $2 ORDER BY name, id",
            &[&tenant, &warehouse],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(DeviceContact {
                id: r.try_get::<_, Uuid>(0)?,
                name: r.try_get(1)?,
                last_contact: r.try_get(2)?,
                backlog: u64::try_from(r.try_get::<_, i64>(3)?).unwrap_or(0),
                revoked: r.try_get(4)?,
            })
        })
        .collect::<Result<_>>()?;
    let picks = tx
        .query(
            "SELECT operator, at FROM operations WHERE tenant_id = $1 AND warehouse_id = $2 \
             AND kind IN ('pick', 'short_pick') AND refusal_code IS NULL AND at >= $3 ORDER BY at",
            &[&tenant, &warehouse, &since],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(PickFact {
                operator: r.try_get(0)?,
                at: r.try_get(1)?,
            })
        })
        .collect::<Result<_>>()?;
    tx.commit().await?;
    Ok(FloorFacts {
        open_tasks,
        open_exceptions,
        devices,
        picks,
    })
}
