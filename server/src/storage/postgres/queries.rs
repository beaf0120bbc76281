//! Reads on PostgreSQL: the pull, `verify`, and the supervisor queries.
//! Each is one statement (`verify`: one per check), so each sees one
//! committed state, taken without locks.

use deadpool_postgres::ClientWrapper;
use pyck_vocab::protocol::{Change, Entity, PROTOCOL_VERSION, PullPage};
use pyck_vocab::records::{ExceptionRecord, ItemRecord, LocationRecord, StockRecord};
use tokio_postgres::Row;
use uuid::Uuid;

use crate::storage::{
    DeviceAuth, Discrepancy, Result, StockFilter, StorageError, StoredOperation, named,
    stored_refusal,
};

/// A page of the change log. Paging by position is safe while pushes commit:
/// positions commit in order (see [`super::push::lock_tenant`]).
pub async fn pull(
    client: &ClientWrapper,
    auth: &DeviceAuth,
    cursor: u64,
    limit: u32,
) -> Result<PullPage> {
    // A cursor past the end of the log: this database was restored from an
    // older backup. Start the device over.
    let high: Option<i64> = client
        .query_one(
            "SELECT MAX(position) FROM changes WHERE tenant_id = $1",
            &[&auth.tenant],
        )
        .await?
        .try_get(0)?;
    let reset = cursor > high.map_or(0, |h| h as u64);
    let cursor = if reset { 0 } else { cursor };
    let stmt = client
        .prepare_cached(
            "SELECT position, entity, key, data FROM changes \
             WHERE tenant_id = $1 AND position > $2 AND warehouse_id IN (0, $3) \
             ORDER BY position LIMIT $4",
        )
        .await?;
    // One row more than asked says whether there is more.
    let rows = client
        .query(
            &stmt,
            &[
                &auth.tenant,
                &(cursor as i64),
                &auth.warehouse,
                &(i64::from(limit) + 1),
            ],
        )
        .await?;
    let has_more = rows.len() > limit as usize;
    let changes = rows
        .iter()
        .take(limit as usize)
        .map(|r| {
            let entity: &str = r.try_get(1)?;
            let data: Option<&str> = r.try_get(3)?;
            Ok(Change {
                position: r.try_get::<_, i64>(0)? as u64,
                entity: Entity::parse(entity).ok_or_else(|| {
                    StorageError::corrupt(format!("unknown entity {entity:?} in change log"))
                })?,
                key: r.try_get(2)?,
                data: data
                    .map(serde_json::from_str)
                    .transpose()
                    .map_err(StorageError::corrupt)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let cursor = changes.last().map_or(cursor, |c| c.position);
    Ok(PullPage {
        protocol: PROTOCOL_VERSION,
        changes,
        cursor,
        has_more,
        reset,
    })
}

/// The three checks of the SQLite backend, with the same texts, in the same
/// order (by warehouse and key, then by device, then by operation).
pub async fn verify(client: &ClientWrapper, tenant: i64) -> Result<Vec<Discrepancy>> {
    let mut out = Vec::new();
    let rows = client
        .query(
            "WITH s AS (SELECT warehouse_id, location, sku, lot, qty FROM stock \
                        WHERE tenant_id = $1), \
                  m AS (SELECT warehouse_id, location, sku, lot, SUM(delta)::bigint AS total \
                        FROM movements WHERE tenant_id = $1 \
                        GROUP BY warehouse_id, location, sku, lot) \
             SELECT w.code, COALESCE(s.location, m.location), COALESCE(s.sku, m.sku), \
                    COALESCE(s.lot, m.lot), COALESCE(s.qty, 0), COALESCE(m.total, 0) \
             FROM s FULL OUTER JOIN m \
                  ON s.warehouse_id = m.warehouse_id AND s.location = m.location \
                  AND s.sku = m.sku AND s.lot = m.lot \
             JOIN warehouses w ON w.id = COALESCE(s.warehouse_id, m.warehouse_id) \
             WHERE COALESCE(s.qty, 0) <> COALESCE(m.total, 0) ORDER BY 1, 2, 3, 4",
            &[&tenant],
        )
        .await?;
    for r in rows {
        out.push(Discrepancy {
            check: "stock_equals_ledger",
            detail: format!(
                "warehouse {} location {} sku {}{}: stock says {}, movements sum to {}",
                r.try_get::<_, &str>(0)?,
                r.try_get::<_, &str>(1)?,
                r.try_get::<_, &str>(2)?,
                lot_suffix(r.try_get(3)?),
                r.try_get::<_, i64>(4)?,
                r.try_get::<_, i64>(5)?
            ),
        });
    }
    let rows = client
        .query(
            "SELECT d.id::text, d.last_seq, COUNT(o.seq), COALESCE(MAX(o.seq), 0), \
                    COALESCE(MIN(o.seq), 1) \
             FROM devices d \
             LEFT JOIN operations o ON o.tenant_id = d.tenant_id AND o.device_id = d.id \
             WHERE d.tenant_id = $1 GROUP BY d.id, d.last_seq \
             HAVING COUNT(o.seq) <> d.last_seq OR COALESCE(MAX(o.seq), 0) <> d.last_seq \
                 OR COALESCE(MIN(o.seq), 1) <> 1 \
             ORDER BY d.id",
            &[&tenant],
        )
        .await?;
    for r in rows {
        out.push(Discrepancy {
            check: "device_sequence_gap_free",
            detail: format!(
                "device {}: last settled seq {}, but {} operations stored with seq {}..={}",
                r.try_get::<_, &str>(0)?,
                r.try_get::<_, i64>(1)?,
                r.try_get::<_, i64>(2)?,
                r.try_get::<_, i64>(4)?,
                r.try_get::<_, i64>(3)?
            ),
        });
    }
    // The movements' primary key (tenant_id, op_id, line) refuses a second
    // application of an operation when it is written, so what is left to
    // find is movements of unknown or refused operations: one anti-join over
    // the ledger, and a probe per refused operation.
    let rows = client
        .query(
            "SELECT op::text, orphan FROM ( \
                 SELECT DISTINCT m.op_id AS op, TRUE AS orphan FROM movements m \
                 WHERE m.tenant_id = $1 \
                     AND NOT EXISTS (SELECT 1 FROM operations o WHERE o.tenant_id = $1 AND o.id = m.op_id) \
                 UNION ALL \
                 SELECT o.id, FALSE FROM operations o \
                 WHERE o.tenant_id = $1 AND o.refusal_code IS NOT NULL \
                     AND EXISTS (SELECT 1 FROM movements m \
                                 WHERE m.tenant_id = $1 AND m.op_id = o.id)) AS found \
             ORDER BY op",
            &[&tenant],
        )
        .await?;
    for r in rows {
        let (op, orphan): (&str, bool) = (r.try_get(0)?, r.try_get(1)?);
        let why = if orphan {
            "movements name an operation that does not exist"
        } else {
            "movements of an operation that was refused"
        };
        out.push(Discrepancy {
            check: "operation_applied_once",
            detail: format!("operation {op}: {why}"),
        });
    }
    out.extend(crate::storage::invariants::check(
        &business_facts(client, tenant).await?,
    ));
    Ok(out)
}

/// The rows of `verify`'s business invariants
/// ([`crate::storage::invariants`]).
async fn business_facts(
    client: &ClientWrapper,
    tenant: i64,
) -> Result<crate::storage::invariants::BusinessFacts> {
    use crate::storage::invariants::{AsnArrivals, ClosedOrder, OpenTask, Staged};
    let mut facts = crate::storage::invariants::BusinessFacts::default();
    for r in client
        .query(
            "SELECT w.code, o.order_no, MIN(o.status) FROM order_lines o \
             JOIN warehouses w ON w.id = o.warehouse_id WHERE o.tenant_id = $1 \
             GROUP BY w.code, o.order_no HAVING MIN(o.status) IN ('shipped', 'cancelled')",
            &[&tenant],
        )
        .await?
    {
        facts.closed_orders.push(ClosedOrder {
            warehouse: r.try_get(0)?,
            order: r.try_get(1)?,
            status: named(r.try_get(2)?)?,
        });
    }
    for r in client
        .query(
            "SELECT w.code, t.id, t.kind, t.order_no, t.location, COALESCE(t.sku, ''), \
                 COALESCE(t.lot, ''), t.qty - t.done_qty \
             FROM tasks t JOIN warehouses w ON w.id = t.warehouse_id \
             WHERE t.tenant_id = $1 AND t.status = 'open' \
                 AND (t.location LIKE 'STAGE:%' OR EXISTS (SELECT 1 FROM order_lines o \
                     WHERE o.tenant_id = t.tenant_id AND o.warehouse_id = t.warehouse_id \
                     AND o.order_no = t.order_no AND o.status IN ('shipped', 'cancelled')))",
            &[&tenant],
        )
        .await?
    {
        facts.open_tasks.push(OpenTask {
            warehouse: r.try_get(0)?,
            id: r.try_get(1)?,
            kind: r.try_get(2)?,
            order: r.try_get(3)?,
            location: r.try_get(4)?,
            sku: r.try_get(5)?,
            lot: r.try_get(6)?,
            remaining: r.try_get(7)?,
        });
    }
    for r in client
        .query(
            "SELECT w.code, s.location, s.sku, s.lot, s.qty FROM stock s \
             JOIN warehouses w ON w.id = s.warehouse_id \
             WHERE s.tenant_id = $1 AND s.location LIKE 'STAGE:%' AND s.qty <> 0",
            &[&tenant],
        )
        .await?
    {
        facts.staged.push(Staged {
            warehouse: r.try_get(0)?,
            location: r.try_get(1)?,
            sku: r.try_get(2)?,
            lot: r.try_get(3)?,
            qty: r.try_get(4)?,
        });
    }
    let arrivals = |r: &tokio_postgres::Row| -> Result<AsnArrivals> {
        Ok(AsnArrivals {
            warehouse: r.try_get(0)?,
            asn: r.try_get(1)?,
            sku: r.try_get(2)?,
            units: r.try_get(3)?,
        })
    };
    for r in client
        .query(
            "SELECT w.code, a.asn, a.sku, SUM(a.received_qty + a.damaged_qty \
                 - COALESCE(a.closed_received_qty + a.closed_damaged_qty, \
                            a.received_qty + a.damaged_qty))::bigint \
             FROM asn_lines a JOIN warehouses w ON w.id = a.warehouse_id \
             WHERE a.tenant_id = $1 AND a.closed GROUP BY w.code, a.asn, a.sku",
            &[&tenant],
        )
        .await?
    {
        facts.after_close.push(arrivals(&r)?);
    }
    for r in client
        .query(
            "SELECT w.code, e.asn, e.sku, \
                 SUM(COALESCE((o.payload::jsonb ->> 'qty')::bigint, 0) \
                     + COALESCE((o.payload::jsonb ->> 'damaged')::bigint, 0))::bigint \
             FROM exceptions e JOIN operations o ON o.tenant_id = e.tenant_id AND o.id = e.op_id \
             JOIN warehouses w ON w.id = e.warehouse_id \
             WHERE e.tenant_id = $1 AND e.kind = 'receipt_on_closed_asn' AND o.kind = 'receive' \
                 AND o.refusal_code IS NULL GROUP BY w.code, e.asn, e.sku",
            &[&tenant],
        )
        .await?
    {
        facts.raised.push(arrivals(&r)?);
    }
    Ok(facts)
}

fn lot_suffix(lot: &str) -> String {
    if lot.is_empty() {
        String::new()
    } else {
        format!(" lot {lot}")
    }
}

pub async fn stock(
    client: &ClientWrapper,
    tenant: i64,
    warehouse: i64,
    filter: &StockFilter,
) -> Result<Vec<StockRecord>> {
    let stmt = client
        .prepare_cached(
            "SELECT s.location, s.sku, s.lot, l.expiry, s.qty FROM stock s \
             LEFT JOIN lots l ON l.tenant_id = s.tenant_id AND l.sku = s.sku AND l.lot = s.lot \
             WHERE s.tenant_id = $1 AND s.warehouse_id = $2 \
                 AND ($3::text IS NULL OR s.location = $3) AND ($4::text IS NULL OR s.sku = $4) \
             ORDER BY s.location, s.sku, s.lot",
        )
        .await?;
    client
        .query(&stmt, &[&tenant, &warehouse, &filter.location, &filter.sku])
        .await?
        .iter()
        .map(|r| {
            let lot: String = r.try_get(2)?;
            Ok(StockRecord {
                location: r.try_get(0)?,
                sku: r.try_get(1)?,
                lot: (!lot.is_empty()).then_some(lot),
                expiry: r.try_get(3)?,
                qty: r.try_get(4)?,
            })
        })
        .collect()
}

pub async fn items(client: &ClientWrapper, tenant: i64) -> Result<Vec<ItemRecord>> {
    let stmt = client
        .prepare_cached(
            "SELECT i.sku, i.description, i.uom, i.lot_tracked, i.expiry_tracked, \
                    i.serial_tracked, \
                    i.temperature, \
                    ARRAY(SELECT g.gtin FROM item_gtins g \
                          WHERE g.tenant_id = i.tenant_id AND g.sku = i.sku ORDER BY g.gtin) \
             FROM items i WHERE i.tenant_id = $1 ORDER BY i.sku",
        )
        .await?;
    client
        .query(&stmt, &[&tenant])
        .await?
        .iter()
        .map(|r| {
            Ok(ItemRecord {
                sku: r.try_get(0)?,
                description: r.try_get(1)?,
                uom: r.try_get(2)?,
                lot_tracked: r.try_get(3)?,
                expiry_tracked: r.try_get(4)?,
                serial_tracked: r.try_get(5)?,
                temperature: named(r.try_get(6)?)?,
                gtins: r.try_get(7)?,
            })
        })
        .collect()
}

pub async fn locations(
    client: &ClientWrapper,
    tenant: i64,
    warehouse: i64,
) -> Result<Vec<LocationRecord>> {
    let stmt = client
        .prepare_cached(
            "SELECT code, zone, temperature FROM locations \
             WHERE tenant_id = $1 AND warehouse_id = $2 ORDER BY code",
        )
        .await?;
    client
        .query(&stmt, &[&tenant, &warehouse])
        .await?
        .iter()
        .map(|r| {
            Ok(LocationRecord {
                code: r.try_get(0)?,
                zone: r.try_get(1)?,
                temperature: named(r.try_get(2)?)?,
            })
        })
        .collect()
}

pub async fn exceptions(
    client: &ClientWrapper,
    tenant: i64,
    warehouse: i64,
) -> Result<Vec<ExceptionRecord>> {
    let stmt = client
        .prepare_cached(
            "SELECT id::text, kind, status, message, order_no, asn, location, sku, lot, raised_at \
             FROM exceptions WHERE tenant_id = $1 AND warehouse_id = $2 ORDER BY raised_at, id",
        )
        .await?;
    client
        .query(&stmt, &[&tenant, &warehouse])
        .await?
        .iter()
        .map(exception_row)
        .collect()
}

/// Exceptions `$3` of warehouse `$2` of tenant `$1`, in the columns
/// [`exception_row`] reads.
pub(super) const EXCEPTIONS_BY_ID: &str = "SELECT e.id::text, e.kind, e.status, e.message, \
         e.order_no, e.asn, e.location, e.sku, e.lot, e.raised_at \
     FROM unnest($3::uuid[]) AS k (id), \
     LATERAL (SELECT * FROM exceptions \
              WHERE tenant_id = $1 AND warehouse_id = $2 AND id = k.id LIMIT 1) AS e";

/// An exception from columns `id, kind, status, message, order_no, asn,
/// location, sku, lot, raised_at`.
pub(super) fn exception_row(r: &Row) -> Result<ExceptionRecord> {
    Ok(ExceptionRecord {
        id: r.try_get(0)?,
        kind: named(r.try_get(1)?)?,
        status: named(r.try_get(2)?)?,
        message: r.try_get(3)?,
        order: r.try_get(4)?,
        asn: r.try_get(5)?,
        location: r.try_get(6)?,
        sku: r.try_get(7)?,
        lot: r.try_get(8)?,
        raised_at: r.try_get(9)?,
    })
}

/// The exception an id can name. Exception ids are UUIDs in their usual
/// lowercase text; any other text (a typo, another spelling of a UUID) names
/// none, as on SQLite, which compares the text.
pub(super) fn exception_id(id: &str) -> Option<Uuid> {
    Uuid::parse_str(id).ok().filter(|u| u.to_string() == id)
}

pub async fn operations(
    client: &ClientWrapper,
    tenant: i64,
    warehouse: i64,
    device: Uuid,
    after_seq: u64,
    limit: u32,
) -> Result<Vec<StoredOperation>> {
    let stmt = client
        .prepare_cached(
            "SELECT id, seq, kind, operator, at, payload, refusal_code, refusal_message \
             FROM operations WHERE tenant_id = $1 AND device_id = $2 AND seq > $3 \
             AND warehouse_id = $5 ORDER BY seq LIMIT $4",
        )
        .await?;
    client
        .query(
            &stmt,
            &[
                &tenant,
                &device,
                &(after_seq as i64),
                &i64::from(limit),
                &warehouse,
            ],
        )
        .await?
        .iter()
        .map(|r| {
            let payload: &str = r.try_get(5)?;
            Ok(StoredOperation {
                id: r.try_get(0)?,
                seq: r.try_get::<_, i64>(1)? as u64,
                kind: r.try_get(2)?,
                operator: r.try_get(3)?,
                at: r.try_get(4)?,
                payload: serde_json::from_str(payload).map_err(StorageError::corrupt)?,
                refusal: stored_refusal(r.try_get(6)?, r.try_get(7)?)?,
            })
        })
        .collect()
}
