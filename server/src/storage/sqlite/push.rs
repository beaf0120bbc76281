//! One device's batch in one SQLite transaction: load what it touches, plan,
//! write, commit — and only then answer.

use chrono::{NaiveDate, Utc};
use pyck_sync::operation::Operation;
use pyck_sync::protocol::{PROTOCOL_VERSION, PushResponse};
use pyck_sync::records::{AsnLineRecord, Role, Temperature};
use pyck_sync::refusal::{Refusal, RefusalCode};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use uuid::Uuid;

use super::{now, ts};
use crate::domain::{BatchView, ItemFacts, Needs, Settled};
use crate::push::{self, ChangeRow, Plan};
use crate::storage::{DeviceAuth, Result, StorageError};

pub fn push(
    conn: &mut Connection,
    auth: &DeviceAuth,
    ops: Vec<Operation>,
    backlog: u64,
) -> Result<PushResponse> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let last_seq: Option<i64> = tx
        .query_row(
            "SELECT last_seq FROM devices WHERE id = ?1 AND tenant_id = ?2 AND revoked_at IS NULL",
            params![auth.device.to_string(), auth.tenant],
            |r| r.get(0),
        )
        .optional()?;
    let last_seq =
        last_seq.ok_or_else(|| StorageError::UnknownToken(auth.device.to_string()))? as u64;
    let needs = Needs::of(&ops, last_seq);
    let mut view = load_view(&tx, auth, &needs, last_seq, Utc::now().date_naive())?;
    let plan = push::plan(&mut view, ops);
    write_plan(&tx, auth, &plan, &view)?;
    tx.execute(
        "UPDATE devices SET last_seq = ?1, last_contact = ?2, backlog = ?3 WHERE id = ?4",
        params![
            plan.last_seq as i64,
            now(),
            backlog as i64,
            auth.device.to_string()
        ],
    )?;
    tx.commit()?;
    Ok(PushResponse {
        protocol: PROTOCOL_VERSION,
        results: plan.results,
        last_seq: plan.last_seq,
    })
}

fn load_view(
    tx: &Transaction<'_>,
    auth: &DeviceAuth,
    needs: &Needs,
    last_seq: u64,
    today: NaiveDate,
) -> Result<BatchView> {
    let mut view = BatchView {
        today,
        last_seq,
        ..BatchView::default()
    };
    let device = auth.device.to_string();
    let mut settled = tx.prepare_cached(
        "SELECT id, refusal_code, refusal_message FROM operations WHERE device_id = ?1 AND seq = ?2",
    )?;
    for &seq in &needs.settled_seqs {
        let row = settled
            .query_row(params![device, seq as i64], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })
            .optional()?;
        if let Some((id, code, message)) = row {
            let refusal = code.map(|code| {
                Refusal::new(
                    RefusalCode::parse(&code).unwrap_or(RefusalCode::Malformed),
                    message.unwrap_or_default(),
                )
            });
            let id = Uuid::parse_str(&id).map_err(|e| StorageError::Backend(e.to_string()))?;
            view.settled.insert(seq, Settled { id, refusal });
        }
    }
    let mut operator = tx.prepare_cached(
        "SELECT role FROM operators WHERE tenant_id = ?1 AND badge = ?2 AND active = 1",
    )?;
    for badge in &needs.badges {
        let role: Option<String> = operator
            .query_row(params![auth.tenant, badge], |r| r.get(0))
            .optional()?;
        if let Some(role) = role.as_deref().and_then(Role::parse) {
            view.operators.insert(badge.clone(), role);
        }
    }
    let mut item = tx.prepare_cached(
        "SELECT lot_tracked, expiry_tracked, temperature FROM items WHERE tenant_id = ?1 AND sku = ?2",
    )?;
    for sku in &needs.skus {
        let row = item
            .query_row(params![auth.tenant, sku], |r| {
                Ok((
                    r.get::<_, bool>(0)?,
                    r.get::<_, bool>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .optional()?;
        if let Some((lot_tracked, expiry_tracked, temperature)) = row {
            view.items.insert(
                sku.clone(),
                ItemFacts {
                    lot_tracked,
                    expiry_tracked,
                    temperature: Temperature::parse(&temperature).unwrap_or(Temperature::Ambient),
                },
            );
        }
    }
    let mut location = tx.prepare_cached(
        "SELECT temperature FROM locations WHERE tenant_id = ?1 AND warehouse_id = ?2 AND code = ?3",
    )?;
    for code in &needs.locations {
        let t: Option<String> = location
            .query_row(params![auth.tenant, auth.warehouse, code], |r| r.get(0))
            .optional()?;
        if let Some(t) = t.as_deref().and_then(Temperature::parse) {
            view.locations.insert(code.clone(), t);
        }
    }
    let mut stock = tx.prepare_cached(
        "SELECT qty FROM stock WHERE tenant_id = ?1 AND warehouse_id = ?2 AND location = ?3 AND sku = ?4 AND lot = ?5",
    )?;
    for key in &needs.stock {
        let qty: Option<i64> = stock
            .query_row(
                params![auth.tenant, auth.warehouse, key.location, key.sku, key.lot],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(qty) = qty {
            view.stock.insert(key.clone(), qty);
        }
    }
    let mut lot = tx
        .prepare_cached("SELECT expiry FROM lots WHERE tenant_id = ?1 AND sku = ?2 AND lot = ?3")?;
    for (sku, l) in &needs.lots {
        let expiry: Option<Option<String>> = lot
            .query_row(params![auth.tenant, sku, l], |r| r.get(0))
            .optional()?;
        if let Some(expiry) = expiry {
            let expiry = expiry.and_then(|e| NaiveDate::parse_from_str(&e, "%Y-%m-%d").ok());
            view.lots.insert((sku.clone(), l.clone()), expiry);
        }
    }
    let mut asn = tx.prepare_cached(
        "SELECT line, sku, supplier, expected_qty, received_qty, damaged_qty, closed FROM asn_lines \
         WHERE tenant_id = ?1 AND warehouse_id = ?2 AND asn = ?3 ORDER BY line",
    )?;
    for a in &needs.asns {
        let lines = asn
            .query_map(params![auth.tenant, auth.warehouse, a], |r| {
                Ok(AsnLineRecord {
                    asn: a.clone(),
                    line: r.get(0)?,
                    sku: r.get(1)?,
                    supplier: r.get(2)?,
                    expected_qty: r.get(3)?,
                    received_qty: r.get(4)?,
                    damaged_qty: r.get(5)?,
                    closed: r.get(6)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        if !lines.is_empty() {
            view.asns.insert(a.clone(), lines);
        }
    }
    let mut order = tx.prepare_cached(
        "SELECT status FROM order_lines WHERE tenant_id = ?1 AND warehouse_id = ?2 AND order_no = ?3 LIMIT 1",
    )?;
    for o in &needs.orders {
        let status: Option<String> = order
            .query_row(params![auth.tenant, auth.warehouse, o], |r| r.get(0))
            .optional()?;
        if let Some(status) = status {
            view.orders.insert(o.clone(), status);
        }
    }
    Ok(view)
}

fn write_plan(
    tx: &Transaction<'_>,
    auth: &DeviceAuth,
    plan: &Plan,
    view: &BatchView,
) -> Result<()> {
    let received_at = now();
    let device = auth.device.to_string();
    let mut insert_op = tx.prepare_cached(
        "INSERT INTO operations (id, tenant_id, warehouse_id, device_id, seq, operator, at, kind, payload, \
         refusal_code, refusal_message, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    for new in &plan.ops {
        let op = &new.op;
        let payload = op
            .payload
            .fields_json()
            .map_err(|e| StorageError::Backend(e.to_string()))?;
        insert_op.execute(params![
            op.id.to_string(),
            auth.tenant,
            auth.warehouse,
            device,
            op.seq as i64,
            op.operator,
            ts(op.at),
            op.kind().as_str(),
            payload,
            new.refusal.as_ref().map(|r| r.code.as_str()),
            new.refusal.as_ref().map(|r| r.message.as_str()),
            received_at,
        ])?;
    }
    let mut movement = tx.prepare_cached(
        "INSERT INTO movements (tenant_id, warehouse_id, op_id, line, location, sku, lot, delta, at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    for m in &plan.movements {
        movement.execute(params![
            auth.tenant,
            auth.warehouse,
            m.op.to_string(),
            m.line,
            m.key.location,
            m.key.sku,
            m.key.lot,
            m.delta,
            ts(m.at),
        ])?;
    }
    let mut upsert_stock = tx.prepare_cached(
        "INSERT INTO stock (tenant_id, warehouse_id, location, sku, lot, qty) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (tenant_id, warehouse_id, location, sku, lot) DO UPDATE SET qty = excluded.qty",
    )?;
    let mut delete_stock = tx.prepare_cached(
        "DELETE FROM stock WHERE tenant_id = ?1 AND warehouse_id = ?2 AND location = ?3 AND sku = ?4 AND lot = ?5",
    )?;
    for (key, qty) in &plan.stock {
        if *qty == 0 {
            delete_stock.execute(params![
                auth.tenant,
                auth.warehouse,
                key.location,
                key.sku,
                key.lot
            ])?;
        } else {
            upsert_stock.execute(params![
                auth.tenant,
                auth.warehouse,
                key.location,
                key.sku,
                key.lot,
                qty
            ])?;
        }
    }
    let mut lot = tx.prepare_cached(
        "INSERT OR IGNORE INTO lots (tenant_id, sku, lot, expiry) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (sku, l, expiry) in &plan.new_lots {
        lot.execute(params![auth.tenant, sku, l, expiry.map(|e| e.to_string())])?;
    }
    let mut asn_line = tx.prepare_cached(
        "UPDATE asn_lines SET received_qty = ?1, damaged_qty = ?2, closed = ?3 \
         WHERE tenant_id = ?4 AND warehouse_id = ?5 AND asn = ?6 AND line = ?7",
    )?;
    for line in plan.asn_lines.values() {
        asn_line.execute(params![
            line.received_qty,
            line.damaged_qty,
            line.closed,
            auth.tenant,
            auth.warehouse,
            line.asn,
            line.line
        ])?;
    }
    let mut exception = tx.prepare_cached(
        "INSERT INTO exceptions (id, tenant_id, warehouse_id, op_id, kind, message, order_no, asn, location, sku, lot, raised_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    for ex in &plan.exceptions {
        exception.execute(params![
            ex.id.to_string(),
            auth.tenant,
            auth.warehouse,
            ex.op.to_string(),
            ex.kind,
            ex.message,
            ex.order,
            ex.asn,
            ex.location,
            ex.sku,
            ex.lot,
            ts(ex.at)
        ])?;
    }
    write_changes(tx, auth.tenant, auth.warehouse, &plan.changes(view))
}

/// Writes change-log rows at fresh positions of the tenant's counter.
/// `warehouse` 0 writes tenant-wide rows.
pub fn write_changes(
    tx: &Transaction<'_>,
    tenant: i64,
    warehouse: i64,
    rows: &[ChangeRow],
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let end: i64 = tx.query_row(
        "UPDATE tenants SET change_position = change_position + ?1 WHERE id = ?2 RETURNING change_position",
        params![rows.len() as i64, tenant],
        |r| r.get(0),
    )?;
    let first = end - rows.len() as i64 + 1;
    let mut upsert = tx.prepare_cached(
        "INSERT INTO changes (tenant_id, warehouse_id, entity, key, position, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (tenant_id, warehouse_id, entity, key) DO UPDATE SET position = excluded.position, data = excluded.data",
    )?;
    for (i, row) in rows.iter().enumerate() {
        upsert.execute(params![
            tenant,
            warehouse,
            row.entity.as_str(),
            row.key,
            first + i as i64,
            row.data
        ])?;
    }
    Ok(())
}
