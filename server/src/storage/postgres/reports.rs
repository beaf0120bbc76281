//! The raw facts of the reports (`Storage::report_facts`) on PostgreSQL.

use chrono::{DateTime, Utc};
use deadpool_postgres::ClientWrapper;

use crate::storage::{
    FactAsnLine, FactException, FactHistory, FactOperation, FactPickTask, ReportFacts, ReportScope,
    Result, StorageError,
};

pub async fn facts(c: &ClientWrapper, tenant: i64, scope: &ReportScope) -> Result<ReportFacts> {
    let wh = scope.warehouse;
    let from: Option<DateTime<Utc>> = scope.from;
    let to: Option<DateTime<Utc>> = scope.to;
    let mut out = ReportFacts::default();

    let ops = c
        .query(
            "SELECT w.code, o.warehouse_id, o.kind, o.operator, o.at, o.payload FROM operations o \
             JOIN warehouses w ON w.id = o.warehouse_id \
             WHERE o.tenant_id = $1 AND ($2::BIGINT IS NULL OR o.warehouse_id = $2) \
               AND o.refusal_code IS NULL \
               AND o.kind IN ('pick', 'short_pick', 'receive', 'close_asn', 'count') \
               AND ($3::TIMESTAMPTZ IS NULL OR o.at >= $3) AND ($4::TIMESTAMPTZ IS NULL OR o.at < $4)",
            &[&tenant, &wh, &from, &to],
        )
        .await?;
    let book = c
        .prepare(
            "SELECT COALESCE(SUM(delta), 0)::BIGINT FROM movements WHERE tenant_id = $1 AND warehouse_id = $2 \
             AND location = $3 AND sku = $4 AND lot = $5 AND at < $6",
        )
        .await?;
    for r in ops {
        let warehouse_id: i64 = r.try_get(1)?;
        let kind: String = r.try_get(2)?;
        let at: DateTime<Utc> = r.try_get(4)?;
        let payload: serde_json::Value = serde_json::from_str(r.try_get::<_, &str>(5)?)
            .map_err(|e| StorageError::corrupt(format!("bad operation payload: {e}")))?;
        let book_qty = if kind == "count" {
            let field = |name: &str| payload[name].as_str().unwrap_or_default().to_owned();
            let row = c
                .query_one(
                    &book,
                    &[
                        &tenant,
                        &warehouse_id,
                        &field("location"),
                        &field("sku"),
                        &field("lot"),
                        &at,
                    ],
                )
                .await?;
            Some(row.try_get::<_, i64>(0)?)
        } else {
            None
        };
        out.operations.push(FactOperation {
            warehouse: r.try_get(0)?,
            kind,
            operator: r.try_get(3)?,
            at,
            payload,
            book: book_qty,
        });
    }

    for r in c
        .query(
            "SELECT w.code, t.id, t.order_no, t.line FROM tasks t JOIN warehouses w ON w.id = t.warehouse_id \
             WHERE t.tenant_id = $1 AND ($2::BIGINT IS NULL OR t.warehouse_id = $2) AND t.kind = 'pick' \
               AND t.order_no IS NOT NULL AND t.line IS NOT NULL",
            &[&tenant, &wh],
        )
        .await?
    {
        out.pick_tasks.push(FactPickTask {
            warehouse: r.try_get(0)?,
            task: r.try_get(1)?,
            order: r.try_get(2)?,
            line: r.try_get(3)?,
        });
    }

    for r in c
        .query(
            "SELECT w.code, a.asn, a.line, a.expected_qty FROM asn_lines a JOIN warehouses w ON w.id = a.warehouse_id \
             WHERE a.tenant_id = $1 AND ($2::BIGINT IS NULL OR a.warehouse_id = $2)",
            &[&tenant, &wh],
        )
        .await?
    {
        out.asn_lines.push(FactAsnLine {
            warehouse: r.try_get(0)?,
            asn: r.try_get(1)?,
            line: r.try_get(2)?,
            expected: r.try_get(3)?,
        });
    }

    for r in c
        .query(
            "SELECT w.code, e.kind, e.raised_at, e.resolved_at FROM exceptions e JOIN warehouses w ON w.id = e.warehouse_id \
             WHERE e.tenant_id = $1 AND ($2::BIGINT IS NULL OR e.warehouse_id = $2) \
               AND ($3::TIMESTAMPTZ IS NULL OR e.raised_at >= $3) AND ($4::TIMESTAMPTZ IS NULL OR e.raised_at < $4)",
            &[&tenant, &wh, &from, &to],
        )
        .await?
    {
        out.exceptions.push(FactException {
            warehouse: r.try_get(0)?,
            kind: r.try_get(1)?,
            raised_at: r.try_get(2)?,
            resolved_at: r.try_get(3)?,
        });
    }

    for r in c
        .query(
            "SELECT w.code, h.order_no, h.n, h.step, h.status, h.at FROM workflow_history h \
             JOIN warehouses w ON w.id = h.warehouse_id \
             WHERE h.tenant_id = $1 AND ($2::BIGINT IS NULL OR h.warehouse_id = $2)",
            &[&tenant, &wh],
        )
        .await?
    {
        out.workflow_history.push(FactHistory {
            warehouse: r.try_get(0)?,
            order: r.try_get(1)?,
            n: i64::from(r.try_get::<_, i32>(2)?),
            step: r.try_get(3)?,
            status: r.try_get(4)?,
            at: r.try_get(5)?,
        });
    }
    Ok(out)
}
