//! The raw facts of the reports (`Storage::report_facts`) on SQLite.

use rusqlite::{Connection, OptionalExtension, params};

use super::{parse_ts, ts};
use crate::storage::{
    FactAsnLine, FactException, FactHistory, FactOperation, FactPickTask, ReportFacts, ReportScope,
    Result, StorageError,
};

pub fn facts(c: &Connection, tenant: i64, scope: &ReportScope) -> Result<ReportFacts> {
    let wh = scope.warehouse;
    let from = scope.from.map(ts);
    let to = scope.to.map(ts);
    let mut out = ReportFacts::default();

    let mut stmt = c.prepare(
        "SELECT w.code, o.warehouse_id, o.kind, o.operator, o.at, o.payload FROM operations o \
         JOIN warehouses w ON w.id = o.warehouse_id \
         WHERE o.tenant_id = ?1 AND (?2 IS NULL OR o.warehouse_id = ?2) \
           AND o.refusal_code IS NULL \
           AND o.kind IN ('pick', 'short_pick', 'receive', 'close_asn', 'count') \
           AND (?3 IS NULL OR o.at >= ?3) AND (?4 IS NULL OR o.at < ?4)",
    )?;
    let mut book = c.prepare(
        "SELECT COALESCE(SUM(delta), 0) FROM movements WHERE tenant_id = ?1 AND warehouse_id = ?2 \
         AND location = ?3 AND sku = ?4 AND lot = ?5 AND at < ?6",
    )?;
    let mut rows = stmt.query(params![tenant, wh, from, to])?;
    while let Some(r) = rows.next()? {
        let warehouse_id: i64 = r.get(1)?;
        let kind: String = r.get(2)?;
        let at: String = r.get(4)?;
        let payload: serde_json::Value = serde_json::from_str(&r.get::<_, String>(5)?)
            .map_err(|e| StorageError::corrupt(format!("bad operation payload: {e}")))?;
        let book = if kind == "count" {
            let field = |name: &str| payload[name].as_str().unwrap_or_default().to_owned();
            Some(
                book.query_row(
                    params![
                        tenant,
                        warehouse_id,
                        field("location"),
                        field("sku"),
                        field("lot"),
                        at
                    ],
                    |r| r.get::<_, i64>(0),
                )
                .optional()?
                .unwrap_or(0),
            )
        } else {
            None
        };
        out.operations.push(FactOperation {
            warehouse: r.get(0)?,
            kind,
            operator: r.get(3)?,
            at: parse_ts(&at)?,
            payload,
            book,
        });
    }

    let mut stmt = c.prepare(
        "SELECT w.code, t.id, t.order_no, t.line FROM tasks t JOIN warehouses w ON w.id = t.warehouse_id \
         WHERE t.tenant_id = ?1 AND (?2 IS NULL OR t.warehouse_id = ?2) AND t.kind = 'pick' \
           AND t.order_no IS NOT NULL AND t.line IS NOT NULL",
    )?;
    out.pick_tasks = stmt
        .query_map(params![tenant, wh], |r| {
            Ok(FactPickTask {
                warehouse: r.get(0)?,
                task: r.get(1)?,
                order: r.get(2)?,
                line: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;

    let mut stmt = c.prepare(
        "SELECT w.code, a.asn, a.line, a.expected_qty FROM asn_lines a JOIN warehouses w ON w.id = a.warehouse_id \
         WHERE a.tenant_id = ?1 AND (?2 IS NULL OR a.warehouse_id = ?2)",
    )?;
    out.asn_lines = stmt
        .query_map(params![tenant, wh], |r| {
            Ok(FactAsnLine {
                warehouse: r.get(0)?,
                asn: r.get(1)?,
                line: r.get(2)?,
                expected: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;

    let mut stmt = c.prepare(
        "SELECT w.code, e.kind, e.raised_at, e.resolved_at FROM exceptions e JOIN warehouses w ON w.id = e.warehouse_id \
         WHERE e.tenant_id = ?1 AND (?2 IS NULL OR e.warehouse_id = ?2) \
           AND (?3 IS NULL OR e.raised_at >= ?3) AND (?4 IS NULL OR e.raised_at < ?4)",
    )?;
    let raw: Vec<(String, String, String, Option<String>)> = stmt
        .query_map(params![tenant, wh, from, to], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    for (warehouse, kind, raised, resolved) in raw {
        out.exceptions.push(FactException {
            warehouse,
            kind,
            raised_at: parse_ts(&raised)?,
            resolved_at: resolved.as_deref().map(parse_ts).transpose()?,
        });
    }

    let mut stmt = c.prepare(
        "SELECT w.code, h.order_no, h.n, h.step, h.status, h.at FROM workflow_history h \
         JOIN warehouses w ON w.id = h.warehouse_id \
         WHERE h.tenant_id = ?1 AND (?2 IS NULL OR h.warehouse_id = ?2)",
    )?;
    let raw: Vec<(String, String, i64, String, String, String)> = stmt
        .query_map(params![tenant, wh], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    for (warehouse, order, n, step, status, at) in raw {
        out.workflow_history.push(FactHistory {
            warehouse,
            order,
            n,
            step,
            status,
            at: parse_ts(&at)?,
        });
    }
    Ok(out)
}
