//! Reads on SQLite: the pull, `verify`, and the supervisor queries.

use chrono::NaiveDate;
use pyck_vocab::protocol::{Change, Entity, PROTOCOL_VERSION, PullPage};
use pyck_vocab::records::{ExceptionRecord, ItemRecord, LocationRecord, StockRecord};
use rusqlite::{Connection, params};
use uuid::Uuid;

use super::{named_column, parse_ts};
use crate::storage::{
    DeviceAuth, Discrepancy, Result, StockFilter, StorageError, StoredOperation, stored_refusal,
};

pub fn pull(conn: &Connection, auth: &DeviceAuth, cursor: u64, limit: u32) -> Result<PullPage> {
    // A cursor past the end of the log: this database was restored from an
    // older backup. Start the device over.
    let high: Option<i64> = conn
        .prepare_cached("SELECT MAX(position) FROM change_log WHERE tenant_id = ?1")?
        .query_row([auth.tenant], |r| r.get(0))?;
    let reset = cursor > high.map_or(0, |h| h as u64);
    let cursor = if reset { 0 } else { cursor };
    // The log in order, each entry with its record's state where the entry
    // is the record's latest; a stale entry (the record changed again later)
    // finds no state and is skipped. CROSS JOIN keeps the log the outer loop.
    let mut stmt = conn.prepare_cached(
        "SELECT l.position, l.entity, l.key, c.data FROM change_log AS l CROSS JOIN changes AS c \
             ON c.tenant_id = l.tenant_id AND c.warehouse_id = l.warehouse_id \
             AND c.entity = l.entity AND c.key = l.key AND c.position = l.position \
         WHERE l.tenant_id = ?1 AND l.position > ?2 AND l.warehouse_id IN (0, ?3) \
         ORDER BY l.position LIMIT ?4",
    )?;
    let mut rows = stmt.query(params![
        auth.tenant,
        cursor as i64,
        auth.warehouse,
        i64::from(limit) + 1
    ])?;
    let mut changes = Vec::with_capacity(limit as usize);
    let mut has_more = false;
    while let Some(r) = rows.next()? {
        if changes.len() == limit as usize {
            has_more = true;
            break;
        }
        let entity: String = r.get(1)?;
        let data: Option<String> = r.get(3)?;
        changes.push(Change {
            position: r.get::<_, i64>(0)? as u64,
            entity: Entity::parse(&entity).ok_or_else(|| {
                StorageError::corrupt(format!("unknown entity {entity:?} in change log"))
            })?,
            key: r.get(2)?,
            data: data
                .map(|d| serde_json::from_str(&d))
                .transpose()
                .map_err(StorageError::corrupt)?,
        });
    }
    let cursor = changes.last().map_or(cursor, |c| c.position);
    Ok(PullPage {
        protocol: PROTOCOL_VERSION,
        changes,
        cursor,
        has_more,
        reset,
    })
}

pub fn verify(conn: &Connection, tenant: i64) -> Result<Vec<Discrepancy>> {
    let mut out = Vec::new();
    // Stock rows and movements in one stream, summed per key: one sort of
    // the ledger. (A FULL OUTER JOIN of the two grouped sides has no index
    // to join on and compares every pair: minutes at 100,000 stock rows.)
    let mut stmt = conn.prepare(
        "SELECT w.code, d.location, d.sku, d.lot, d.stock, d.total FROM ( \
         SELECT warehouse_id, location, sku, lot, SUM(stock) AS stock, SUM(total) AS total FROM ( \
         SELECT warehouse_id, location, sku, lot, qty AS stock, 0 AS total FROM stock WHERE tenant_id = ?1 \
         UNION ALL \
         SELECT warehouse_id, location, sku, lot, 0, delta FROM movements WHERE tenant_id = ?1) \
         GROUP BY warehouse_id, location, sku, lot HAVING SUM(stock) <> SUM(total)) d \
         JOIN warehouses w ON w.id = d.warehouse_id ORDER BY 1, 2, 3, 4",
    )?;
    let rows = stmt.query_map([tenant], |r| {
        Ok(Discrepancy {
            check: "stock_equals_ledger",
            detail: format!(
                "warehouse {} location {} sku {}{}: stock says {}, movements sum to {}",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                lot_suffix(&r.get::<_, String>(3)?),
                r.get::<_, i64>(4)?,
                r.get::<_, i64>(5)?
            ),
        })
    })?;
    for row in rows {
        out.push(row?);
    }
    let mut stmt = conn.prepare(
        "SELECT d.id, d.last_seq, COUNT(o.seq), COALESCE(MAX(o.seq), 0), COALESCE(MIN(o.seq), 1) \
         FROM devices d LEFT JOIN operations o ON o.device_id = d.id \
         WHERE d.tenant_id = ?1 GROUP BY d.id, d.last_seq \
         HAVING COUNT(o.seq) <> d.last_seq OR COALESCE(MAX(o.seq), 0) <> d.last_seq OR COALESCE(MIN(o.seq), 1) <> 1",
    )?;
    let rows = stmt.query_map([tenant], |r| {
        Ok(Discrepancy {
            check: "device_sequence_gap_free",
            detail: format!(
                "device {}: last settled seq {}, but {} operations stored with seq {}..={}",
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(4)?,
                r.get::<_, i64>(3)?
            ),
        })
    })?;
    for row in rows {
        out.push(row?);
    }
    let mut stmt = conn.prepare(
        "SELECT m.op_id, COUNT(*), COUNT(DISTINCT m.line), MAX(o.id IS NULL), MAX(o.refusal_code IS NOT NULL) \
         FROM movements m LEFT JOIN operations o ON o.tenant_id = m.tenant_id AND o.id = m.op_id WHERE m.tenant_id = ?1 \
         GROUP BY m.op_id HAVING COUNT(*) <> COUNT(DISTINCT m.line) OR MAX(o.id IS NULL) OR MAX(o.refusal_code IS NOT NULL)",
    )?;
    let rows = stmt.query_map([tenant], |r| {
        let (op, n, distinct, orphan, refused): (String, i64, i64, bool, bool) =
            (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
        let why = if orphan {
            "movements name an operation that does not exist".to_owned()
        } else if refused {
            "movements of an operation that was refused".to_owned()
        } else {
            format!("{n} movements but only {distinct} distinct lines: applied more than once")
        };
        Ok(Discrepancy {
            check: "operation_applied_once",
            detail: format!("operation {op}: {why}"),
        })
    })?;
    for row in rows {
        out.push(row?);
    }
    out.extend(crate::storage::invariants::check(&business_facts(
        conn, tenant,
    )?));
    Ok(out)
}

/// The rows of `verify`'s business invariants
/// ([`crate::storage::invariants`]).
fn business_facts(
    conn: &Connection,
    tenant: i64,
) -> Result<crate::storage::invariants::BusinessFacts> {
    use crate::storage::invariants::{AsnArrivals, ClosedOrder, OpenTask, Staged};
    let closed_orders = conn
        .prepare(
            "SELECT w.code, o.order_no, MIN(o.status) FROM order_lines o JOIN warehouses w ON w.id = o.warehouse_id \
             WHERE o.tenant_id = ?1 GROUP BY o.warehouse_id, o.order_no HAVING MIN(o.status) IN ('shipped', 'cancelled')",
        )?
        .query_map([tenant], |r| {
            Ok(ClosedOrder {
                warehouse: r.get(0)?,
                order: r.get(1)?,
                status: named_column(r, 2)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let open_tasks = conn
        .prepare(
            "SELECT w.code, t.id, t.kind, t.order_no, t.location, COALESCE(t.sku, ''), COALESCE(t.lot, ''), t.qty - t.done_qty \
             FROM tasks t JOIN warehouses w ON w.id = t.warehouse_id WHERE t.tenant_id = ?1 AND t.status = 'open' \
             AND (t.location LIKE 'STAGE:%' OR EXISTS (SELECT 1 FROM order_lines o WHERE o.tenant_id = t.tenant_id \
             AND o.warehouse_id = t.warehouse_id AND o.order_no = t.order_no AND o.status IN ('shipped', 'cancelled')))",
        )?
        .query_map([tenant], |r| {
            Ok(OpenTask {
                warehouse: r.get(0)?,
                id: r.get(1)?,
                kind: r.get(2)?,
                order: r.get(3)?,
                location: r.get(4)?,
                sku: r.get(5)?,
                lot: r.get(6)?,
                remaining: r.get(7)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let staged = conn
        .prepare(
            "SELECT w.code, s.location, s.sku, s.lot, s.qty FROM stock s JOIN warehouses w ON w.id = s.warehouse_id \
             WHERE s.tenant_id = ?1 AND s.location LIKE 'STAGE:%' AND s.qty <> 0",
        )?
        .query_map([tenant], |r| {
            Ok(Staged {
                warehouse: r.get(0)?,
                location: r.get(1)?,
                sku: r.get(2)?,
                lot: r.get(3)?,
                qty: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let arrivals = |r: &rusqlite::Row<'_>| {
        Ok(AsnArrivals {
            warehouse: r.get(0)?,
            asn: r.get(1)?,
            sku: r.get(2)?,
            units: r.get(3)?,
        })
    };
    let after_close = conn
        .prepare(
            "SELECT w.code, a.asn, a.sku, SUM(a.received_qty + a.damaged_qty \
             - COALESCE(a.closed_received_qty + a.closed_damaged_qty, a.received_qty + a.damaged_qty)) \
             FROM asn_lines a JOIN warehouses w ON w.id = a.warehouse_id WHERE a.tenant_id = ?1 AND a.closed = 1 \
             GROUP BY a.warehouse_id, a.asn, a.sku",
        )?
        .query_map([tenant], arrivals)?
        .collect::<rusqlite::Result<_>>()?;
    let raised = conn
        .prepare(
            "SELECT w.code, e.asn, e.sku, SUM(COALESCE(json_extract(o.payload, '$.qty'), 0) \
             + COALESCE(json_extract(o.payload, '$.damaged'), 0)) \
             FROM exceptions e JOIN operations o ON o.tenant_id = e.tenant_id AND o.id = e.op_id JOIN warehouses w ON w.id = e.warehouse_id \
             WHERE e.tenant_id = ?1 AND e.kind = 'receipt_on_closed_asn' AND o.kind = 'receive' AND o.refusal_code IS NULL \
             GROUP BY e.warehouse_id, e.asn, e.sku",
        )?
        .query_map([tenant], arrivals)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(crate::storage::invariants::BusinessFacts {
        closed_orders,
        open_tasks,
        staged,
        after_close,
        raised,
    })
}

fn lot_suffix(lot: &str) -> String {
    if lot.is_empty() {
        String::new()
    } else {
        format!(" lot {lot}")
    }
}

pub fn stock(
    conn: &Connection,
    tenant: i64,
    warehouse: i64,
    filter: &StockFilter,
) -> Result<Vec<StockRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.location, s.sku, s.lot, l.expiry, s.qty FROM stock s \
         LEFT JOIN lots l ON l.tenant_id = s.tenant_id AND l.sku = s.sku AND l.lot = s.lot \
         WHERE s.tenant_id = ?1 AND s.warehouse_id = ?2 AND (?3 IS NULL OR s.location = ?3) AND (?4 IS NULL OR s.sku = ?4) \
         ORDER BY s.location, s.sku, s.lot",
    )?;
    let rows = stmt
        .query_map(
            params![tenant, warehouse, filter.location, filter.sku],
            |r| {
                let lot: String = r.get(2)?;
                let expiry: Option<String> = r.get(3)?;
                Ok(StockRecord {
                    location: r.get(0)?,
                    sku: r.get(1)?,
                    lot: (!lot.is_empty()).then_some(lot),
                    expiry: expiry.and_then(|e| NaiveDate::parse_from_str(&e, "%Y-%m-%d").ok()),
                    qty: r.get(4)?,
                })
            },
        )?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

pub fn items(conn: &Connection, tenant: i64) -> Result<Vec<ItemRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT i.sku, i.description, i.uom, i.lot_tracked, i.expiry_tracked, i.serial_tracked, i.temperature, \
         (SELECT group_concat(g.gtin, ' ') FROM item_gtins g WHERE g.tenant_id = i.tenant_id AND g.sku = i.sku) \
         FROM items i WHERE i.tenant_id = ?1 ORDER BY i.sku",
    )?;
    let rows = stmt
        .query_map([tenant], |r| {
            let gtins: Option<String> = r.get(7)?;
            Ok(ItemRecord {
                sku: r.get(0)?,
                description: r.get(1)?,
                uom: r.get(2)?,
                lot_tracked: r.get(3)?,
                expiry_tracked: r.get(4)?,
                serial_tracked: r.get(5)?,
                temperature: named_column(r, 6)?,
                gtins: gtins
                    .map(|g| g.split(' ').map(str::to_owned).collect())
                    .unwrap_or_default(),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

pub fn locations(conn: &Connection, tenant: i64, warehouse: i64) -> Result<Vec<LocationRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT code, zone, temperature FROM locations WHERE tenant_id = ?1 AND warehouse_id = ?2 ORDER BY code",
    )?;
    let rows = stmt
        .query_map(params![tenant, warehouse], |r| {
            Ok(LocationRecord {
                code: r.get(0)?,
                zone: r.get(1)?,
                temperature: named_column(r, 2)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

pub(super) const EXCEPTION_COLUMNS: &str = "SELECT id, kind, status, message, order_no, asn, location, sku, lot, raised_at FROM exceptions";

pub(super) fn exception_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(ExceptionRecord, String)> {
    Ok((
        ExceptionRecord {
            id: r.get(0)?,
            kind: named_column(r, 1)?,
            status: named_column(r, 2)?,
            message: r.get(3)?,
            order: r.get(4)?,
            asn: r.get(5)?,
            location: r.get(6)?,
            sku: r.get(7)?,
            lot: r.get(8)?,
            raised_at: chrono::DateTime::UNIX_EPOCH,
        },
        r.get::<_, String>(9)?,
    ))
}

pub fn exceptions(conn: &Connection, tenant: i64, warehouse: i64) -> Result<Vec<ExceptionRecord>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{EXCEPTION_COLUMNS} WHERE tenant_id = ?1 AND warehouse_id = ?2 ORDER BY raised_at, id"
    ))?;
    let rows = stmt
        .query_map(params![tenant, warehouse], exception_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(mut e, at)| {
            e.raised_at = parse_ts(&at)?;
            Ok(e)
        })
        .collect()
}

/// One exception of a warehouse.
pub fn exception(
    conn: &Connection,
    tenant: i64,
    warehouse: i64,
    id: &str,
) -> Result<Option<ExceptionRecord>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{EXCEPTION_COLUMNS} WHERE tenant_id = ?1 AND warehouse_id = ?2 AND id = ?3"
    ))?;
    let row = rusqlite::OptionalExtension::optional(
        stmt.query_row(params![tenant, warehouse, id], exception_row),
    )?;
    row.map(|(mut e, at)| {
        e.raised_at = parse_ts(&at)?;
        Ok(e)
    })
    .transpose()
}

/// The open exceptions of an ASN (a late receipt brings them up to date).
pub fn open_exceptions_of_asn(
    conn: &Connection,
    tenant: i64,
    warehouse: i64,
    asn: &str,
) -> Result<Vec<ExceptionRecord>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{EXCEPTION_COLUMNS} WHERE tenant_id = ?1 AND warehouse_id = ?2 AND asn = ?3 AND status = 'open'"
    ))?;
    let rows = stmt
        .query_map(params![tenant, warehouse, asn], exception_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(mut e, at)| {
            e.raised_at = parse_ts(&at)?;
            Ok(e)
        })
        .collect()
}

pub fn operations(
    conn: &Connection,
    tenant: i64,
    warehouse: i64,
    device: Uuid,
    after_seq: u64,
    limit: u32,
) -> Result<Vec<StoredOperation>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, seq, kind, operator, at, payload, refusal_code, refusal_message FROM operations \
         WHERE tenant_id = ?1 AND device_id = ?2 AND seq > ?3 AND warehouse_id = ?5 ORDER BY seq LIMIT ?4",
    )?;
    let rows = stmt
        .query_map(
            params![
                tenant,
                device.to_string(),
                after_seq as i64,
                limit,
                warehouse
            ],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, Option<String>>(7)?,
                ))
            },
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(id, seq, kind, operator, at, payload, code, message)| {
            Ok(StoredOperation {
                id: Uuid::parse_str(&id).map_err(StorageError::corrupt)?,
                seq: seq as u64,
                kind,
                operator,
                at: parse_ts(&at)?,
                payload: serde_json::from_str(&payload).map_err(StorageError::corrupt)?,
                refusal: stored_refusal(code.as_deref(), message)?,
            })
        })
        .collect()
}
