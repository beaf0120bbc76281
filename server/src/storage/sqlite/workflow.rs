//! Workflows on SQLite: claiming with a lease, the order's facts, the
//! reserve and compensate effects, and storing a transition.
//!
//! SQLite has one writer, so a claim is a plain `UPDATE … RETURNING` in an
//! immediate transaction; the lease still matters, because a second server
//! process may open the same file.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use super::{now, parse_ts, ts};
use crate::storage::{Result, StorageError, named};
use crate::workflow::machine::{Facts, State, Step, Workflow};
use crate::workflow::{HistoryRow, Report};

/// A new order's workflow, due at once (its reserve step).
pub fn start(tx: &Transaction<'_>, tenant: i64, wh: i64, order: &str) -> Result<()> {
    let at = now();
    tx.execute(
        "INSERT OR IGNORE INTO workflows (tenant_id, warehouse_id, order_no, state, step, step_started_at, next_run_at, created_at) \
         VALUES (?1, ?2, ?3, 'running', 'reserve', ?4, ?4, ?4)",
        params![tenant, wh, order, at],
    )?;
    Ok(())
}

const COLUMNS: &str = "tenant_id, warehouse_id, order_no, state, step, attempt, step_started_at, cancel_requested, pick_overdue_raised";

/// A workflow row as stored, before its names and times are checked.
struct Stored {
    tenant: i64,
    warehouse: i64,
    order: String,
    state: String,
    step: String,
    attempt: u32,
    step_started_at: String,
    cancel_requested: bool,
    pick_overdue_raised: bool,
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Stored> {
    Ok(Stored {
        tenant: r.get(0)?,
        warehouse: r.get(1)?,
        order: r.get(2)?,
        state: r.get(3)?,
        step: r.get(4)?,
        attempt: r.get(5)?,
        step_started_at: r.get(6)?,
        cancel_requested: r.get(7)?,
        pick_overdue_raised: r.get(8)?,
    })
}

fn workflow(s: Stored) -> Result<Workflow> {
    let bad = |what: &str, v: &str| {
        StorageError::corrupt(format!("workflow of {}: unknown {what} {v:?}", s.order))
    };
    Ok(Workflow {
        state: State::parse(&s.state).ok_or_else(|| bad("state", &s.state))?,
        step: Step::parse(&s.step).ok_or_else(|| bad("step", &s.step))?,
        tenant: s.tenant,
        warehouse: s.warehouse,
        attempt: s.attempt,
        step_started_at: parse_ts(&s.step_started_at)?,
        cancel_requested: s.cancel_requested,
        pick_overdue_raised: s.pick_overdue_raised,
        order: s.order,
    })
}

/// Claims up to `limit` due workflows whose lease is free or expired.
pub fn claim(
    conn: &mut Connection,
    owner: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<Workflow>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let rows = tx
        .prepare_cached(&format!(
            "UPDATE workflows SET lease_owner = ?1, lease_until = ?2 WHERE (tenant_id, warehouse_id, order_no) IN ( \
             SELECT tenant_id, warehouse_id, order_no FROM workflows WHERE next_run_at IS NOT NULL AND next_run_at <= ?3 \
             AND (lease_until IS NULL OR lease_until < ?3) ORDER BY next_run_at LIMIT ?4) RETURNING {COLUMNS}"
        ))?
        .query_map(params![owner, ts(until), ts(now), limit], row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    tx.commit()?;
    rows.into_iter().map(workflow).collect()
}

/// Workflows whose step is due at `now`, taken by a replica or not.
pub fn due(conn: &Connection, now: DateTime<Utc>) -> Result<u64> {
    let n: i64 = conn
        .prepare_cached(
            "SELECT COUNT(*) FROM workflows WHERE next_run_at IS NOT NULL AND next_run_at <= ?1",
        )?
        .query_row(params![ts(now)], |r| r.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The order's status and its pick tasks.
pub fn facts(conn: &Connection, tenant: i64, wh: i64, order: &str) -> Result<Facts> {
    let status: Option<String> = conn
        .query_row(
            "SELECT MIN(status) FROM order_lines WHERE tenant_id = ?1 AND warehouse_id = ?2 AND order_no = ?3",
            params![tenant, wh, order],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    let status = status.as_deref().map(named).transpose()?;
    let (pick_tasks, open_picks, cancelled_picks): (u32, u32, u32) = conn.query_row(
        "SELECT COUNT(*), COALESCE(SUM(status = 'open'), 0), COALESCE(SUM(status = 'cancelled'), 0) FROM tasks \
         WHERE tenant_id = ?1 AND warehouse_id = ?2 AND order_no = ?3 AND kind = 'pick'",
        params![tenant, wh, order],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let mut gates = conn.prepare_cached(
        "SELECT kind, COALESCE(SUM(status = 'open'), 0), COALESCE(SUM(status = 'resolved'), 0) FROM exceptions \
         WHERE tenant_id = ?1 AND warehouse_id = ?2 AND order_no = ?3 \
         AND kind IN ('packed_with_open_picks', 'shipped_unpacked') GROUP BY kind",
    )?;
    let mut facts = Facts {
        status,
        pick_tasks,
        open_picks,
        cancelled_picks,
        ..Facts::default()
    };
    let rows = gates.query_map(params![tenant, wh, order], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, u32>(1)?,
            r.get::<_, u32>(2)?,
        ))
    })?;
    for row in rows {
        let (kind, open, resolved) = row?;
        facts.gate(&kind, open, resolved);
    }
    Ok(facts)
}

/// Frees every lease `owner` holds.
pub fn release(conn: &mut Connection, owner: &str) -> Result<()> {
    conn.execute(
        "UPDATE workflows SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?1",
        [owner],
    )?;
    Ok(())
}

/// Asks for an order's compensation; the engine picks it up at once.
/// `None` if the tenant has no such order.
pub fn cancel(conn: &mut Connection, tenant: i64, order: &str) -> Result<Option<String>> {
    let state: Option<String> = conn
        .query_row(
            "UPDATE workflows SET cancel_requested = 1, next_run_at = CASE WHEN next_run_at IS NULL THEN NULL ELSE ?3 END \
             WHERE tenant_id = ?1 AND order_no = ?2 RETURNING state",
            params![tenant, order, now()],
            |r| r.get(0),
        )
        .optional()?;
    Ok(state)
}

/// One order's workflow with its history.
pub fn report(
    conn: &Connection,
    tenant: i64,
    warehouse: Option<i64>,
    order: &str,
) -> Result<Option<Report>> {
    let head: Option<(i64, String, String)> = conn
        .query_row(
            "SELECT warehouse_id, state, step FROM workflows WHERE tenant_id = ?1 AND order_no = ?2 \
             AND (?3 IS NULL OR warehouse_id = ?3) ORDER BY warehouse_id LIMIT 1",
            params![tenant, order, warehouse],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((wh, state, step)) = head else {
        return Ok(None);
    };
    let history = conn
        .prepare_cached(
            "SELECT step, status, attempt, at, error, operation FROM workflow_history \
             WHERE tenant_id = ?1 AND warehouse_id = ?2 AND order_no = ?3 ORDER BY n",
        )?
        .query_map(params![tenant, wh, order], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, u32>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, Option<String>>(5)?,
            ))
        })?
        .map(|row| {
            let (step, status, attempt, at, error, operation) = row?;
            Ok(HistoryRow {
                step,
                status,
                attempt,
                at: parse_ts(&at)?,
                error,
                operation,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(Report {
        order: order.to_owned(),
        state,
        step,
        history,
    }))
}

/// Every workflow of a tenant, newest first, without history.
pub fn list(conn: &Connection, tenant: i64, warehouse: Option<i64>) -> Result<Vec<Report>> {
    let rows = conn
        .prepare_cached(
            "SELECT order_no, state, step FROM workflows WHERE tenant_id = ?1 \
             AND (?2 IS NULL OR warehouse_id = ?2) ORDER BY created_at DESC, order_no",
        )?
        .query_map(params![tenant, warehouse], |r| {
            Ok(Report {
                order: r.get(0)?,
                state: r.get(1)?,
                step: r.get(2)?,
                history: Vec::new(),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// The statement of [`order_operation`]: `?4` is a JSON array of kinds.
pub(super) const ORDER_OPERATION: &str = "SELECT id FROM operations WHERE tenant_id = ?1 AND warehouse_id = ?2 \
     AND json_extract(payload, '$.order') = ?3 \
     AND (kind = 'pick' OR kind = 'short_pick' OR kind = 'pack' OR kind = 'ship') AND refusal_code IS NULL \
     AND kind IN (SELECT value FROM json_each(?4)) ORDER BY at DESC, seq DESC LIMIT 1";

/// The latest applied operation of `kinds` on `order` (uses the
/// `operations_by_order` index, whose predicate the query repeats exactly).
pub fn order_operation(
    conn: &Connection,
    tenant: i64,
    warehouse: i64,
    order: &str,
    kinds: &[&str],
) -> Result<Option<uuid::Uuid>> {
    let kinds = serde_json::to_string(kinds).map_err(|e| StorageError::Internal(e.to_string()))?;
    let id: Option<String> = conn
        .prepare_cached(ORDER_OPERATION)?
        .query_row(params![tenant, warehouse, order, kinds], |r| r.get(0))
        .optional()?;
    id.map(|id| uuid::Uuid::parse_str(&id).map_err(StorageError::corrupt))
        .transpose()
}
