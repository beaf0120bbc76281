//! Workflows on PostgreSQL: the same rules as on SQLite; claims take
//! `FOR UPDATE SKIP LOCKED`, so replicas claiming at once never wait on or
//! take each other's workflows.

use chrono::{DateTime, Utc};
use deadpool_postgres::{ClientWrapper, Transaction};
use tokio_postgres::Row;

use crate::storage::{Result, StorageError, named};
use crate::workflow::machine::{Facts, State, Step, Workflow};
use crate::workflow::{HistoryRow, Report};

/// A new order's workflow, due at once (its reserve step).
pub async fn start(tx: &Transaction<'_>, tenant: i64, wh: i64, order: &str) -> Result<()> {
    let stmt = tx
        .prepare_cached(
            "INSERT INTO workflows (tenant_id, warehouse_id, order_no, state, step, step_started_at, next_run_at) \
             VALUES ($1, $2, $3, 'running', 'reserve', now(), now()) ON CONFLICT DO NOTHING",
        )
        .await?;
    tx.execute(&stmt, &[&tenant, &wh, &order]).await?;
    Ok(())
}

const COLUMNS: &str = "tenant_id, warehouse_id, order_no, state, step, attempt, step_started_at, cancel_requested, pick_overdue_raised";

fn workflow(r: &Row) -> Result<Workflow> {
    let order: String = r.try_get(2)?;
    let state: String = r.try_get(3)?;
    let step: String = r.try_get(4)?;
    let bad = |what: &str, v: &str| {
        StorageError::corrupt(format!("workflow of {order}: unknown {what} {v:?}"))
    };
    Ok(Workflow {
        tenant: r.try_get(0)?,
        warehouse: r.try_get(1)?,
        state: State::parse(&state).ok_or_else(|| bad("state", &state))?,
        step: Step::parse(&step).ok_or_else(|| bad("step", &step))?,
        attempt: r.try_get::<_, i32>(5)? as u32,
        step_started_at: r.try_get(6)?,
        cancel_requested: r.try_get(7)?,
        pick_overdue_raised: r.try_get(8)?,
        order,
    })
}

pub async fn claim(
    client: &ClientWrapper,
    owner: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<Workflow>> {
    let stmt = client
        .prepare_cached(&format!(
            "UPDATE workflows w SET lease_owner = $1, lease_until = $2 FROM ( \
             SELECT tenant_id, warehouse_id, order_no FROM workflows WHERE next_run_at IS NOT NULL AND next_run_at <= $3 \
             AND (lease_until IS NULL OR lease_until < $3) ORDER BY next_run_at LIMIT $4 FOR UPDATE SKIP LOCKED) due \
             WHERE w.tenant_id = due.tenant_id AND w.warehouse_id = due.warehouse_id AND w.order_no = due.order_no \
             RETURNING {}",
            COLUMNS
                .split(", ")
                .map(|c| format!("w.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .await?;
    client
        .query(&stmt, &[&owner, &until, &now, &i64::from(limit)])
        .await?
        .iter()
        .map(workflow)
        .collect()
}

pub async fn facts(client: &ClientWrapper, tenant: i64, wh: i64, order: &str) -> Result<Facts> {
    let stmt = client
        .prepare_cached(
            "SELECT (SELECT MIN(status) FROM order_lines WHERE tenant_id = $1 AND warehouse_id = $2 AND order_no = $3), \
             (SELECT COUNT(*) FROM tasks WHERE tenant_id = $1 AND warehouse_id = $2 AND order_no = $3 AND kind = 'pick'), \
             (SELECT COUNT(*) FROM tasks WHERE tenant_id = $1 AND warehouse_id = $2 AND order_no = $3 AND kind = 'pick' \
              AND status = 'open'), \
             (SELECT COUNT(*) FROM tasks WHERE tenant_id = $1 AND warehouse_id = $2 AND order_no = $3 AND kind = 'pick' \
              AND status = 'cancelled')",
        )
        .await?;
    let r = client.query_one(&stmt, &[&tenant, &wh, &order]).await?;
    let mut facts = Facts {
        status: r.try_get::<_, Option<&str>>(0)?.map(named).transpose()?,
        pick_tasks: r.try_get::<_, i64>(1)? as u32,
        open_picks: r.try_get::<_, i64>(2)? as u32,
        cancelled_picks: r.try_get::<_, i64>(3)? as u32,
        ..Facts::default()
    };
    let stmt = client
        .prepare_cached(
            "SELECT kind, COUNT(*) FILTER (WHERE status = 'open'), \
             COUNT(*) FILTER (WHERE status = 'resolved') FROM exceptions \
             WHERE tenant_id = $1 AND warehouse_id = $2 AND order_no = $3 \
             AND kind IN ('packed_with_open_picks', 'shipped_unpacked') GROUP BY kind",
        )
        .await?;
    for r in client.query(&stmt, &[&tenant, &wh, &order]).await? {
        facts.gate(
            r.try_get(0)?,
            r.try_get::<_, i64>(1)? as u32,
            r.try_get::<_, i64>(2)? as u32,
        );
    }
    Ok(facts)
}

/// Workflows whose step is due at `now`, taken by a replica or not.
pub async fn due(client: &ClientWrapper, now: DateTime<Utc>) -> Result<u64> {
    let stmt = client
        .prepare_cached(
            "SELECT COUNT(*) FROM workflows WHERE next_run_at IS NOT NULL AND next_run_at <= $1",
        )
        .await?;
    let n: i64 = client.query_one(&stmt, &[&now]).await?.get(0);
    Ok(u64::try_from(n).unwrap_or(0))
}

pub async fn release(client: &ClientWrapper, owner: &str) -> Result<()> {
    let stmt = client
        .prepare_cached(
            "UPDATE workflows SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1",
        )
        .await?;
    client.execute(&stmt, &[&owner]).await?;
    Ok(())
}

pub async fn cancel(client: &ClientWrapper, tenant: i64, order: &str) -> Result<Option<String>> {
    let stmt = client
        .prepare_cached(
            "UPDATE workflows SET cancel_requested = TRUE, \
             next_run_at = CASE WHEN next_run_at IS NULL THEN NULL ELSE now() END \
             WHERE tenant_id = $1 AND order_no = $2 RETURNING state",
        )
        .await?;
    Ok(client
        .query(&stmt, &[&tenant, &order])
        .await?
        .first()
        .map(|r| r.try_get(0))
        .transpose()?)
}

pub async fn report(
    client: &ClientWrapper,
    tenant: i64,
    warehouse: Option<i64>,
    order: &str,
) -> Result<Option<Report>> {
    let stmt = client
        .prepare_cached(
            "SELECT warehouse_id, state, step FROM workflows WHERE tenant_id = $1 AND order_no = $2 \
             AND ($3::BIGINT IS NULL OR warehouse_id = $3) ORDER BY warehouse_id LIMIT 1",
        )
        .await?;
    let Some(head) = client
        .query_opt(&stmt, &[&tenant, &order, &warehouse])
        .await?
    else {
        return Ok(None);
    };
    let wh: i64 = head.try_get(0)?;
    let stmt = client
        .prepare_cached(
            "SELECT step, status, attempt, at, error, operation::text FROM workflow_history \
             WHERE tenant_id = $1 AND warehouse_id = $2 AND order_no = $3 ORDER BY n",
        )
        .await?;
    let history = client
        .query(&stmt, &[&tenant, &wh, &order])
        .await?
        .iter()
        .map(|r| {
            Ok(HistoryRow {
                step: r.try_get(0)?,
                status: r.try_get(1)?,
                attempt: r.try_get::<_, i32>(2)? as u32,
                at: r.try_get(3)?,
                error: r.try_get(4)?,
                operation: r.try_get(5)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(Report {
        order: order.to_owned(),
        state: head.try_get(1)?,
        step: head.try_get(2)?,
        history,
    }))
}

pub async fn list(
    client: &ClientWrapper,
    tenant: i64,
    warehouse: Option<i64>,
) -> Result<Vec<Report>> {
    let stmt = client
        .prepare_cached(
            "SELECT order_no, state, step FROM workflows WHERE tenant_id = $1 \
             AND ($2::BIGINT IS NULL OR warehouse_id = $2) ORDER BY created_at DESC, order_no",
        )
        .await?;
    client
        .query(&stmt, &[&tenant, &warehouse])
        .await?
        .iter()
        .map(|r| {
            Ok(Report {
                order: r.try_get(0)?,
                state: r.try_get(1)?,
                step: r.try_get(2)?,
                history: Vec::new(),
            })
        })
        .collect()
}

/// The latest applied operation of `kinds` on `order` (uses the
/// `operations_by_order` index).
pub async fn order_operation(
    client: &ClientWrapper,
    tenant: i64,
    warehouse: i64,
    order: &str,
    kinds: &[&str],
) -> Result<Option<uuid::Uuid>> {
    let kinds: Vec<String> = kinds.iter().map(|k| (*k).to_owned()).collect();
    let row = client
        .query_opt(
            "SELECT id FROM operations WHERE tenant_id = $1 AND warehouse_id = $2 \
             AND (payload::jsonb) ->> 'order' = $3 \
             AND kind IN ('pick', 'short_pick', 'pack', 'ship') AND refusal_code IS NULL \
             AND kind = ANY($4) ORDER BY at DESC, seq DESC LIMIT 1",
            &[&tenant, &warehouse, &order, &kinds],
        )
        .await?;
    row.map(|r| r.try_get(0)).transpose().map_err(Into::into)
}
