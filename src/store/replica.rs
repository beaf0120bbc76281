//! The replica: the server's records this device pulled, and lookups on
//! them. A page of changes and the cursor after it commit together, so an
//! interrupted first sync resumes from its last page.

use chrono::NaiveDate;
use pyck_vocab::protocol::{Change, Entity, PullPage};
use pyck_vocab::records::{
    AsnLineRecord, ItemRecord, LocationRecord, OperatorRecord, OrderLineRecord, Role, StockRecord,
    Temperature,
};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::set_meta;

pub const CURSOR: &str = "cursor";

/// Applies one pulled page and advances the cursor, in one transaction;
/// the last page of a pull also flags the settled operations as in the
/// replica.
pub fn apply_page(conn: &mut Connection, page: &PullPage) -> anyhow::Result<()> {
    let tx = conn.transaction()?;
    if page.reset {
        // The server was restored from an older backup: what this replica
        // holds beyond it may be gone there. Start over from its state.
        tx.execute_batch(
            "DELETE FROM items; DELETE FROM gtins; DELETE FROM locations; DELETE FROM stock; \
             DELETE FROM operators; DELETE FROM asn_lines; DELETE FROM order_lines; \
             DELETE FROM records;",
        )?;
    }
    for change in &page.changes {
        apply(&tx, change)?;
    }
    set_meta(&tx, CURSOR, &page.cursor.to_string())?;
    if !page.has_more {
        // The last page: the replica now reflects every operation the
        // server settled for us. Flagged in the same transaction, so a
        // reader (the scanner UI's own connection) never sees an operation
        // both in the replica and replayed on top of it.
        super::journal::mark_in_replica(&tx)?;
    }
    tx.commit()?;
    Ok(())
}

fn apply(tx: &Transaction<'_>, c: &Change) -> anyhow::Result<()> {
    let data = c.data.clone();
    match c.entity {
        Entity::Item => {
            tx.prepare_cached("DELETE FROM gtins WHERE sku = ?1")?
                .execute([&c.key])?;
            match data {
                None => {
                    tx.prepare_cached("DELETE FROM items WHERE sku = ?1")?
                        .execute([&c.key])?;
                }
                Some(d) => {
                    let i: ItemRecord = serde_json::from_value(d)?;
                    tx.prepare_cached(
                        "INSERT OR REPLACE INTO items (sku, description, uom, lot_tracked, expiry_tracked, temperature) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    )?
                    .execute(params![i.sku, i.description, i.uom, i.lot_tracked, i.expiry_tracked, i.temperature.as_str()])?;
                    for g in &i.gtins {
                        tx.prepare_cached(
                            "INSERT OR REPLACE INTO gtins (gtin, sku) VALUES (?1, ?2)",
                        )?
                        .execute(params![g, i.sku])?;
                    }
                }
            }
        }
        Entity::Location => match data {
            None => {
                tx.prepare_cached("DELETE FROM locations WHERE code = ?1")?
                    .execute([&c.key])?;
            }
            Some(d) => {
                let l: LocationRecord = serde_json::from_value(d)?;
                tx.prepare_cached("INSERT OR REPLACE INTO locations (code, zone, temperature) VALUES (?1, ?2, ?3)")?
                    .execute(params![l.code, l.zone, l.temperature.as_str()])?;
            }
        },
        Entity::Stock => match data {
            None => {
                let mut parts = c.key.splitn(3, '|');
                let (loc, sku, lot) = (parts.next(), parts.next(), parts.next());
                tx.prepare_cached(
                    "DELETE FROM stock WHERE location = ?1 AND sku = ?2 AND lot = ?3",
                )?
                .execute(params![loc, sku, lot.unwrap_or("")])?;
            }
            Some(d) => {
                let s: StockRecord = serde_json::from_value(d)?;
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO stock (location, sku, lot, expiry, qty) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![
                    s.location,
                    s.sku,
                    s.lot.unwrap_or_default(),
                    s.expiry.map(|e| e.to_string()),
                    s.qty
                ])?;
            }
        },
        Entity::Operator => match data {
            None => {
                tx.prepare_cached("DELETE FROM operators WHERE badge = ?1")?
                    .execute([&c.key])?;
            }
            Some(d) => {
                let o: OperatorRecord = serde_json::from_value(d)?;
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO operators (badge, role, pin_hash, active) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![o.badge, o.role.as_str(), o.pin_hash, o.active])?;
            }
        },
        Entity::AsnLine => match data {
            None => {
                if let Some((asn, line)) = c.key.split_once('|') {
                    tx.prepare_cached("DELETE FROM asn_lines WHERE asn = ?1 AND line = ?2")?
                        .execute(params![asn, line])?;
                }
            }
            Some(d) => {
                let a: AsnLineRecord = serde_json::from_value(d)?;
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO asn_lines (asn, line, sku, supplier, expected_qty, received_qty, damaged_qty, closed) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )?
                .execute(params![a.asn, a.line, a.sku, a.supplier, a.expected_qty, a.received_qty, a.damaged_qty, a.closed])?;
            }
        },
        Entity::Order => match data {
            None => {
                if let Some((order, line)) = c.key.split_once('|') {
                    tx.prepare_cached("DELETE FROM order_lines WHERE order_no = ?1 AND line = ?2")?
                        .execute(params![order, line])?;
                }
            }
            Some(d) => {
                let o: OrderLineRecord = serde_json::from_value(d)?;
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO order_lines (order_no, line, sku, qty, customer, status) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![o.order, o.line, o.sku, o.qty, o.customer, o.status.as_str()])?;
            }
        },
        Entity::Task | Entity::Exception => match data {
            None => {
                tx.prepare_cached("DELETE FROM records WHERE entity = ?1 AND key = ?2")?
                    .execute(params![c.entity.as_str(), c.key])?;
            }
            Some(d) => {
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO records (entity, key, data) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![c.entity.as_str(), c.key, d.to_string()])?;
            }
        },
    }
    Ok(())
}

/// What the replica knows of an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub sku: String,
    pub description: String,
    /// Base unit of measure (EA, CS, KG): quantities are in it.
    pub uom: String,
    pub lot_tracked: bool,
    pub expiry_tracked: bool,
    pub temperature: Temperature,
}

pub fn item(conn: &Connection, sku: &str) -> anyhow::Result<Option<Item>> {
    Ok(conn
        .prepare_cached("SELECT sku, description, lot_tracked, expiry_tracked, temperature, uom FROM items WHERE sku = ?1")?
        .query_row([sku], |r| {
            let t: String = r.get(4)?;
            Ok(Item {
                sku: r.get(0)?,
                description: r.get(1)?,
                uom: r.get(5)?,
                lot_tracked: r.get(2)?,
                expiry_tracked: r.get(3)?,
                temperature: Temperature::parse(&t).unwrap_or(Temperature::Ambient),
            })
        })
        .optional()?)
}

/// The SKU a GTIN (8 to 14 digits) belongs to.
pub fn sku_by_gtin(conn: &Connection, gtin: &str) -> anyhow::Result<Option<String>> {
    let normal = pyck_vocab::gs1::normalize_gtin(gtin);
    let mut stmt = conn.prepare_cached("SELECT sku FROM gtins WHERE gtin = ?1")?;
    if let Some(sku) = stmt.query_row([gtin], |r| r.get(0)).optional()? {
        return Ok(Some(sku));
    }
    // GTINs are stored as imported (often 13 digits); a scan may carry the
    // 14-digit form, so compare normalised.
    let Some(normal) = normal else {
        return Ok(None);
    };
    let mut all = conn.prepare_cached("SELECT gtin, sku FROM gtins")?;
    let rows = all.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    for row in rows {
        let (g, sku) = row?;
        if pyck_vocab::gs1::normalize_gtin(&g).as_deref() == Some(normal.as_str()) {
            return Ok(Some(sku));
        }
    }
    Ok(None)
}

/// A location by its code, matched without regard to case (`c-01-03` typed
/// with gloves is bin C-01-03); the record carries the code as stored.
pub fn location(conn: &Connection, code: &str) -> anyhow::Result<Option<LocationRecord>> {
    let read = |r: &rusqlite::Row<'_>| {
        let t: String = r.get(2)?;
        Ok(LocationRecord {
            code: r.get(0)?,
            zone: r.get(1)?,
            temperature: Temperature::parse(&t).unwrap_or(Temperature::Ambient),
        })
    };
    let exact = conn
        .prepare_cached("SELECT code, zone, temperature FROM locations WHERE code = ?1")?
        .query_row([code], read)
        .optional()?;
    if exact.is_some() {
        return Ok(exact);
    }
    Ok(conn
        .prepare_cached(
            "SELECT code, zone, temperature FROM locations WHERE code = ?1 COLLATE NOCASE ORDER BY code LIMIT 1",
        )?
        .query_row([code], read)
        .optional()?)
}

pub fn operator(conn: &Connection, badge: &str) -> anyhow::Result<Option<(Role, String, bool)>> {
    Ok(conn
        .prepare_cached("SELECT role, pin_hash, active FROM operators WHERE badge = ?1")?
        .query_row([badge], |r| {
            Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?
        .and_then(|(role, hash, active)| Role::parse(&role).map(|role| (role, hash, active))))
}

pub fn asn_lines(conn: &Connection, asn: &str) -> anyhow::Result<Vec<AsnLineRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT asn, line, sku, supplier, expected_qty, received_qty, damaged_qty, closed FROM asn_lines \
         WHERE asn = ?1 ORDER BY line",
    )?;
    let rows = stmt
        .query_map([asn], |r| {
            Ok(AsnLineRecord {
                asn: r.get(0)?,
                line: r.get(1)?,
                sku: r.get(2)?,
                supplier: r.get(3)?,
                expected_qty: r.get(4)?,
                received_qty: r.get(5)?,
                damaged_qty: r.get(6)?,
                closed: r.get(7)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Expiry of a known lot.
pub fn lot_expiry(
    conn: &Connection,
    sku: &str,
    lot: &str,
) -> anyhow::Result<Option<Option<NaiveDate>>> {
    let found: Option<Option<String>> = conn
        .prepare_cached("SELECT expiry FROM stock WHERE sku = ?1 AND lot = ?2 LIMIT 1")?
        .query_row(params![sku, lot], |r| r.get(0))
        .optional()?;
    Ok(found.map(|e| e.and_then(|e| NaiveDate::parse_from_str(&e, "%Y-%m-%d").ok())))
}

/// Counts of replica records, for `status` and the end of `init`.
pub fn counts(conn: &Connection) -> anyhow::Result<serde_json::Value> {
    let n = |table: &str| -> anyhow::Result<i64> {
        Ok(conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?)
    };
    Ok(serde_json::json!({
        "items": n("items")?,
        "locations": n("locations")?,
        "stock": n("stock")?,
        "operators": n("operators")?,
        "asn_lines": n("asn_lines")?,
        "order_lines": n("order_lines")?,
    }))
}
