//! One device's batch in one SQLite transaction: load what it touches, plan,
//! write, commit — and only then answer.

use chrono::{DateTime, NaiveDate, Utc};
use pyck_vocab::operation::Operation;
use pyck_vocab::protocol::{PROTOCOL_VERSION, PushResponse};
use pyck_vocab::records::{
    AsnLineRecord, ItemRecord, OrderLineRecord, OrderStatus, Role, TaskRecord, Temperature,
};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use uuid::Uuid;

use super::{named_column, now, ts};
use crate::domain::allocation::Candidate;
use crate::domain::putaway::Bin;
use crate::domain::{BatchView, ItemFacts, Needs, OperatorRow, Settled, StockKey, StoredLine};
use crate::push::{self, ChangeRow, OperatorWrite, Plan, WorkflowStep};
use crate::storage::{
    DeviceAuth, Result, Scope, StorageError, TENANT_WIDE, WarehouseRef, stored_refusal,
};

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
    let mut view = load_view(&tx, auth, &needs, last_seq, Utc::now())?;
    let plan = push::plan(&mut view, ops);
    write_plan(&tx, auth, &plan, &view)?;
    tx.execute(
        "UPDATE devices SET last_seq = ?1, last_contact = ?2, backlog = ?3 WHERE id = ?4",
        params![
            plan.last_seq as i64,
            now(),
            i64::try_from(backlog).unwrap_or(i64::MAX),
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

/// [`crate::storage::Storage::transact`] on SQLite: load, decide, write,
/// commit, in one immediate transaction.
pub fn transact(
    conn: &mut Connection,
    scope: &Scope,
    needs: &Needs,
    decide: crate::storage::Decide,
) -> Result<Plan> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let warehouse = match &scope.warehouse {
        WarehouseRef::Id(id) => *id,
        WarehouseRef::Code(code) => {
            tx.execute(
                "INSERT OR IGNORE INTO warehouses (tenant_id, code, created_at) VALUES (?1, ?2, ?3)",
                params![scope.tenant, code, now()],
            )?;
            super::admin::warehouse(&tx, scope.tenant, code)?.id
        }
    };
    let scope = &crate::storage::server_write(scope.tenant, warehouse);
    let mut view = load_view(&tx, scope, needs, 0, Utc::now())?;
    let plan = crate::storage::decide_server_write(decide, &mut view)?;
    write_plan(&tx, scope, &plan, &view)?;
    tx.commit()?;
    Ok(plan)
}

fn load_view(
    tx: &Transaction<'_>,
    auth: &DeviceAuth,
    needs: &Needs,
    last_seq: u64,
    now: DateTime<Utc>,
) -> Result<BatchView> {
    let mut view = BatchView {
        today: now.date_naive(),
        now: Some(now),
        last_seq,
        ..BatchView::default()
    };
    // Order lines first: allocating them needs their SKUs' stock.
    let extended;
    let needs = if needs.order_lines.is_empty() {
        needs
    } else {
        view.order_lines = load_order_lines(tx, auth, &needs.order_lines)?;
        extended = needs.with_lines(view.order_lines.values().flatten().map(|l| &l.record));
        &extended
    };
    let device = auth.device.to_string();
    let mut taken =
        tx.prepare_cached("SELECT 1 FROM operations WHERE tenant_id = ?1 AND id = ?2")?;
    for id in &needs.new_ids {
        if taken.exists(params![auth.tenant, id.to_string()])? {
            view.taken_ids.insert(*id);
        }
    }
    // A row stored under a fresh id (a `duplicate_id` refusal) keeps the id
    // the device sent in `sent_id`: a re-send compares with that.
    let mut settled = tx.prepare_cached(
        "SELECT COALESCE(sent_id, id), refusal_code, refusal_message FROM operations \
         WHERE device_id = ?1 AND seq = ?2",
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
            let refusal = stored_refusal(code.as_deref(), message)?;
            let id = Uuid::parse_str(&id).map_err(StorageError::corrupt)?;
            view.settled.insert(seq, Settled { id, refusal });
        }
    }
    // Disabled operators too: what they recorded before their device
    // learnt of it physically happened (a disabled badge cannot log in).
    let mut operator =
        tx.prepare_cached("SELECT role FROM operators WHERE tenant_id = ?1 AND badge = ?2")?;
    for badge in &needs.badges {
        let role: Option<String> = operator
            .query_row(params![auth.tenant, badge], |r| r.get(0))
            .optional()?;
        if let Some(role) = role.as_deref().and_then(Role::parse) {
            view.operators.insert(badge.clone(), role);
        }
    }
    load_operator_rows(tx, auth.tenant, &needs.operator_rows, &mut view)?;
    if let Some((order, owner)) = &needs.workflow_lease {
        view.workflow_history = tx
            .query_row(
                "SELECT (SELECT COUNT(*) FROM workflow_history h WHERE h.tenant_id = w.tenant_id \
                     AND h.warehouse_id = w.warehouse_id AND h.order_no = w.order_no) \
                 FROM workflows w WHERE w.tenant_id = ?1 AND w.warehouse_id = ?2 \
                     AND w.order_no = ?3 AND w.lease_owner = ?4",
                params![auth.tenant, auth.warehouse, order, owner],
                |r| r.get(0),
            )
            .optional()?;
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
                    named_column::<Temperature>(r, 2)?,
                ))
            })
            .optional()?;
        if let Some((lot_tracked, expiry_tracked, temperature)) = row {
            view.items.insert(
                sku.clone(),
                ItemFacts {
                    lot_tracked,
                    expiry_tracked,
                    temperature,
                },
            );
        }
    }
    let mut location = tx.prepare_cached(
        "SELECT temperature, zone FROM locations WHERE tenant_id = ?1 AND warehouse_id = ?2 AND code = ?3",
    )?;
    for code in &needs.locations {
        let row: Option<(Temperature, String)> = location
            .query_row(params![auth.tenant, auth.warehouse, code], |r| {
                Ok((named_column(r, 0)?, r.get(1)?))
            })
            .optional()?;
        if let Some((t, zone)) = row {
            view.locations.insert(code.clone(), t);
            view.zones.insert(code.clone(), zone);
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
        "SELECT status FROM order_lines WHERE tenant_id = ?1 AND warehouse_id = ?2 AND order_no = ?3 ORDER BY line LIMIT 1",
    )?;
    for o in &needs.orders {
        let status: Option<OrderStatus> = order
            .query_row(params![auth.tenant, auth.warehouse, o], |r| {
                named_column(r, 0)
            })
            .optional()?;
        if let Some(status) = status {
            view.orders.insert(o.clone(), status);
        }
    }
    load_work(tx, auth, needs, &mut view)?;
    Ok(view)
}

/// Every line of `orders`, in line order, and whether a pick task covers
/// it.
fn load_order_lines(
    tx: &Transaction<'_>,
    auth: &DeviceAuth,
    orders: &std::collections::BTreeSet<String>,
) -> Result<std::collections::HashMap<String, Vec<StoredLine>>> {
    let mut stmt = tx.prepare_cached(
        "SELECT o.order_no, o.line, o.sku, o.qty, o.customer, o.status, EXISTS (SELECT 1 FROM tasks t \
         WHERE t.tenant_id = o.tenant_id AND t.warehouse_id = o.warehouse_id \
         AND t.order_no = o.order_no AND t.line = o.line) FROM order_lines o \
         WHERE o.tenant_id = ?1 AND o.warehouse_id = ?2 AND o.order_no = ?3 ORDER BY o.line",
    )?;
    let mut lines = std::collections::HashMap::new();
    for order in orders {
        let rows = stmt
            .query_map(params![auth.tenant, auth.warehouse, order], |r| {
                Ok(StoredLine {
                    record: OrderLineRecord {
                        order: r.get(0)?,
                        line: r.get(1)?,
                        sku: r.get(2)?,
                        qty: r.get(3)?,
                        customer: r.get(4)?,
                        status: named_column(r, 5)?,
                    },
                    tasked: r.get(6)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        lines.insert(order.clone(), rows);
    }
    Ok(lines)
}

/// Tasks, settings, staged stock, putaway bins, pick candidates, exceptions
/// and GTINs the batch needs.
fn load_work(
    tx: &Transaction<'_>,
    auth: &DeviceAuth,
    needs: &Needs,
    view: &mut BatchView,
) -> Result<()> {
    if auth.warehouse != TENANT_WIDE {
        let (settings, next_task): (_, i64) = tx
            .prepare_cached(&format!(
                "SELECT {}, next_task FROM warehouses WHERE id = ?1 AND tenant_id = ?2",
                super::settings::COLUMNS
            ))?
            .query_row(params![auth.warehouse, auth.tenant], |r| {
                Ok((super::settings::row(r)?, r.get(5)?))
            })
            .optional()?
            .ok_or_else(|| StorageError::UnknownWarehouse(auth.warehouse.to_string()))?;
        view.settings = settings;
        view.next_task = next_task as u64;
    }
    let mut task = tx.prepare_cached(&format!(
        "{TASK_COLUMNS} WHERE tenant_id = ?1 AND warehouse_id = ?2 AND id = ?3"
    ))?;
    for id in &needs.tasks {
        if let Some(t) = task
            .query_row(params![auth.tenant, auth.warehouse, id], task_row)
            .optional()?
        {
            // The task's own lot matters for FEFO checks.
            if let (Some(sku), Some(lot)) = (&t.sku, &t.lot) {
                let key = (sku.clone(), lot.clone());
                if let std::collections::hash_map::Entry::Vacant(slot) = view.lots.entry(key) {
                    let expiry: Option<Option<String>> = tx
                        .prepare_cached("SELECT expiry FROM lots WHERE tenant_id = ?1 AND sku = ?2 AND lot = ?3")?
                        .query_row(params![auth.tenant, sku, lot], |r| r.get(0))
                        .optional()?;
                    if let Some(e) = expiry {
                        slot.insert(e.and_then(|e| NaiveDate::parse_from_str(&e, "%Y-%m-%d").ok()));
                    }
                }
            }
            view.tasks.insert(id.clone(), t);
        }
    }
    // Every task of an order a pack or ship names, and the open tasks out
    // of its staging location (return-to-stock putaways carry no order).
    let mut order_tasks = tx.prepare_cached(&format!(
        "{TASK_COLUMNS} WHERE tenant_id = ?1 AND warehouse_id = ?2 AND order_no = ?3 \
         UNION {TASK_COLUMNS} WHERE tenant_id = ?1 AND warehouse_id = ?2 AND location = ?4 AND status = 'open'"
    ))?;
    for order in &needs.order_tasks {
        let rows = order_tasks
            .query_map(
                params![
                    auth.tenant,
                    auth.warehouse,
                    order,
                    crate::domain::staging(order)
                ],
                task_row,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for t in rows {
            view.tasks.entry(t.id.clone()).or_insert(t);
        }
    }
    for asn in &needs.asn_exceptions {
        for ex in super::queries::open_exceptions_of_asn(tx, auth.tenant, auth.warehouse, asn)? {
            view.exceptions.entry(ex.id.clone()).or_insert(ex);
        }
    }
    let mut staged = tx.prepare_cached(
        "SELECT sku, lot, qty FROM stock WHERE tenant_id = ?1 AND warehouse_id = ?2 AND location = ?3",
    )?;
    for order in &needs.staged_orders {
        let stage = crate::domain::staging(order);
        let rows = staged
            .query_map(params![auth.tenant, auth.warehouse, stage], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for (sku, lot, qty) in rows {
            view.stock.insert(
                StockKey {
                    location: stage.clone(),
                    sku,
                    lot,
                },
                qty,
            );
        }
    }
    let temperatures: std::collections::BTreeSet<Temperature> = needs
        .bin_temperatures_of
        .iter()
        .filter_map(|sku| view.items.get(sku).map(|i| i.temperature))
        .collect();
    for t in temperatures {
        let mut bins = tx.prepare_cached(
            "SELECT l.code, (SELECT group_concat(s.sku, ' ') FROM stock s WHERE s.tenant_id = l.tenant_id \
             AND s.warehouse_id = l.warehouse_id AND s.location = l.code AND s.qty > 0) \
             FROM locations l WHERE l.tenant_id = ?1 AND l.warehouse_id = ?2 AND l.temperature = ?3",
        )?;
        let list = bins
            .query_map(params![auth.tenant, auth.warehouse, t.as_str()], |r| {
                let holds: Option<String> = r.get(1)?;
                Ok(Bin {
                    code: r.get(0)?,
                    temperature: t,
                    holds: holds
                        .map(|h| h.split(' ').map(str::to_owned).collect())
                        .unwrap_or_default(),
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        view.bins.insert(t, list);
    }
    for sku in &needs.candidate_skus {
        view.candidates.insert(
            sku.clone(),
            candidates(tx, auth.tenant, auth.warehouse, sku)?,
        );
    }
    for id in &needs.exceptions {
        if let Some(ex) = super::queries::exception(tx, auth.tenant, auth.warehouse, id)? {
            view.exceptions.insert(id.clone(), ex);
        }
    }
    let mut gtin =
        tx.prepare_cached("SELECT sku FROM item_gtins WHERE tenant_id = ?1 AND gtin = ?2")?;
    for g in &needs.gtins {
        if let Some(sku) = gtin
            .query_row(params![auth.tenant, g], |r| r.get::<_, String>(0))
            .optional()?
        {
            view.gtins.insert(g.clone(), sku);
        }
    }
    Ok(())
}

pub const TASK_COLUMNS: &str = "SELECT id, kind, status, order_no, line, sku, lot, location, to_location, qty, done_qty, zone, sequence FROM tasks";

pub fn task_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TaskRecord> {
    Ok(TaskRecord {
        id: r.get(0)?,
        kind: named_column(r, 1)?,
        status: named_column(r, 2)?,
        order: r.get(3)?,
        line: r.get(4)?,
        sku: r.get(5)?,
        lot: r.get(6)?,
        location: r.get(7)?,
        to: r.get(8)?,
        qty: r.get(9)?,
        done_qty: r.get(10)?,
        zone: r.get(11)?,
        sequence: r.get::<_, i64>(12)? as u64,
    })
}

/// Pickable stock of one SKU: on hand in storage bins, minus what open pick
/// tasks reserve.
pub fn candidates(
    tx: &rusqlite::Connection,
    tenant: i64,
    warehouse: i64,
    sku: &str,
) -> Result<Vec<Candidate>> {
    let mut stmt = tx.prepare_cached(
        "SELECT s.location, l.zone, l.temperature, s.lot, lots.expiry, s.qty - COALESCE(( \
             SELECT SUM(t.qty - t.done_qty) FROM tasks t WHERE t.tenant_id = s.tenant_id AND t.warehouse_id = s.warehouse_id \
             AND t.kind = 'pick' AND t.status = 'open' AND t.sku = s.sku AND t.location = s.location AND COALESCE(t.lot, '') = s.lot), 0) \
             FROM stock s JOIN locations l ON l.tenant_id = s.tenant_id AND l.warehouse_id = s.warehouse_id AND l.code = s.location \
             LEFT JOIN lots ON lots.tenant_id = s.tenant_id AND lots.sku = s.sku AND lots.lot = s.lot \
             WHERE s.tenant_id = ?1 AND s.warehouse_id = ?2 AND s.sku = ?3 AND s.qty > 0",
    )?;
    let rows = stmt
        .query_map(params![tenant, warehouse, sku], |r| {
            let temperature: String = r.get(2)?;
            let lot: String = r.get(3)?;
            let expiry: Option<String> = r.get(4)?;
            Ok(Candidate {
                location: r.get(0)?,
                zone: r.get(1)?,
                is_dock: temperature == "dock",
                lot: (!lot.is_empty()).then_some(lot),
                expiry: expiry.and_then(|e| NaiveDate::parse_from_str(&e, "%Y-%m-%d").ok()),
                available: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Inserts or updates tasks.
pub fn write_tasks(
    tx: &Transaction<'_>,
    tenant: i64,
    warehouse: i64,
    tasks: &[&TaskRecord],
) -> Result<()> {
    let mut upsert = tx.prepare_cached(
        "INSERT INTO tasks (tenant_id, warehouse_id, id, kind, status, order_no, line, sku, lot, location, to_location, qty, done_qty, zone, sequence) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) \
             ON CONFLICT (tenant_id, warehouse_id, id) DO UPDATE SET status = excluded.status, done_qty = excluded.done_qty, \
             to_location = excluded.to_location",
    )?;
    for t in tasks {
        upsert.execute(params![
            tenant,
            warehouse,
            t.id,
            t.kind.as_str(),
            t.status.as_str(),
            t.order,
            t.line,
            t.sku,
            t.lot,
            t.location,
            t.to,
            t.qty,
            t.done_qty,
            t.zone,
            t.sequence as i64
        ])?;
    }
    Ok(())
}

/// Sets an order's status on all its lines; returns their change rows.
pub fn set_order_status(
    tx: &Transaction<'_>,
    tenant: i64,
    warehouse: i64,
    order: &str,
    status: OrderStatus,
) -> Result<Vec<ChangeRow>> {
    let mut stmt = tx.prepare_cached(
        "UPDATE order_lines SET status = ?1 WHERE tenant_id = ?2 AND warehouse_id = ?3 AND order_no = ?4 \
             RETURNING line, sku, qty, customer",
    )?;
    let rows = stmt
        .query_map(params![status.as_str(), tenant, warehouse, order], |r| {
            Ok(OrderLineRecord {
                order: order.to_owned(),
                line: r.get(0)?,
                sku: r.get(1)?,
                qty: r.get(2)?,
                customer: r.get(3)?,
                status,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows
        .into_iter()
        .map(|l| ChangeRow {
            entity: pyck_vocab::protocol::Entity::Order,
            key: format!("{}|{}", l.order, l.line),
            data: Some(crate::push::to_json(&l)),
        })
        .collect())
}

fn write_plan(
    tx: &Transaction<'_>,
    auth: &DeviceAuth,
    plan: &Plan,
    view: &BatchView,
) -> Result<()> {
    if let Some(setting) = &plan.setting {
        super::settings::write(tx, auth.tenant, auth.warehouse, setting)?;
    }
    write_items(tx, auth.tenant, &plan.items)?;
    let mut location = tx.prepare_cached(
        "INSERT INTO locations (tenant_id, warehouse_id, code, zone, temperature) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (tenant_id, warehouse_id, code) DO UPDATE SET zone = excluded.zone, temperature = excluded.temperature",
    )?;
    for l in &plan.locations {
        location.execute(params![
            auth.tenant,
            auth.warehouse,
            l.code,
            l.zone,
            l.temperature.as_str()
        ])?;
    }
    // Order lines first: their statuses change below.
    write_order_lines(tx, auth, &plan.order_lines)?;
    for order in &plan.workflow_starts {
        super::workflow::start(tx, auth.tenant, auth.warehouse, order)?;
    }
    let received_at = now();
    let mut server_op = tx.prepare_cached(
        "INSERT INTO operations (id, tenant_id, warehouse_id, operator, at, kind, payload, received_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for op in &plan.server_ops {
        server_op.execute(params![
            op.id.to_string(),
            auth.tenant,
            auth.warehouse,
            op.operator,
            ts(op.at),
            op.kind,
            op.payload,
            received_at
        ])?;
    }
    let device = auth.device.to_string();
    let mut insert_op = tx.prepare_cached(
        "INSERT INTO operations (id, tenant_id, warehouse_id, device_id, seq, operator, at, kind, payload, \
         refusal_code, refusal_message, received_at, sent_id) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?;
    for new in &plan.ops {
        let op = &new.op;
        let payload = op
            .payload
            .fields_json()
            .map_err(|e| StorageError::Internal(format!("operation payload: {e}")))?;
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
            new.sent_id.map(|id| id.to_string()),
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
    for (key, change) in &plan.stock {
        if change.qty == 0 {
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
                change.qty
            ])?;
        }
    }
    let mut lot = tx.prepare_cached(
        "INSERT INTO lots (tenant_id, sku, lot, expiry) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (tenant_id, sku, lot) DO UPDATE SET expiry = COALESCE(excluded.expiry, lots.expiry)",
    )?;
    for (sku, l, expiry) in &plan.lots {
        lot.execute(params![auth.tenant, sku, l, expiry.map(|e| e.to_string())])?;
    }
    let mut asn_line = tx.prepare_cached(
        "INSERT INTO asn_lines (tenant_id, warehouse_id, asn, line, sku, supplier, expected_qty, received_qty, damaged_qty, closed) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (tenant_id, warehouse_id, asn, line) DO UPDATE SET \
         sku = excluded.sku, supplier = excluded.supplier, expected_qty = excluded.expected_qty, \
         received_qty = excluded.received_qty, damaged_qty = excluded.damaged_qty, closed = excluded.closed",
    )?;
    for line in plan.asn_lines.values() {
        asn_line.execute(params![
            auth.tenant,
            auth.warehouse,
            line.asn,
            line.line,
            line.sku,
            line.supplier,
            line.expected_qty,
            line.received_qty,
            line.damaged_qty,
            line.closed
        ])?;
    }
    let mut closure = tx.prepare_cached(
        "UPDATE asn_lines SET closed_received_qty = ?1, closed_damaged_qty = ?2 \
         WHERE tenant_id = ?3 AND warehouse_id = ?4 AND asn = ?5 AND line = ?6",
    )?;
    for c in &plan.asn_closures {
        closure.execute(params![
            c.received_qty,
            c.damaged_qty,
            auth.tenant,
            auth.warehouse,
            c.asn,
            c.line
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
            ex.op.map(|op| op.to_string()),
            ex.kind.as_str(),
            ex.message,
            ex.order,
            ex.asn,
            ex.location,
            ex.sku,
            ex.lot,
            ts(ex.at)
        ])?;
    }
    let tasks: Vec<&TaskRecord> = plan.tasks.values().collect();
    write_tasks(tx, auth.tenant, auth.warehouse, &tasks)?;
    tx.execute(
        "UPDATE warehouses SET next_task = ?1 WHERE id = ?2",
        params![plan.next_task as i64, auth.warehouse],
    )?;
    let mut changes = plan.changes(view);
    for (order, status) in &plan.orders {
        changes.extend(set_order_status(
            tx,
            auth.tenant,
            auth.warehouse,
            order,
            *status,
        )?);
    }
    let mut resolve = tx.prepare_cached(
        "UPDATE exceptions SET status = 'resolved', resolved_at = ?1, resolution_note = ?2 \
             WHERE tenant_id = ?3 AND warehouse_id = ?4 AND id = ?5",
    )?;
    for (ex, note) in &plan.resolved {
        resolve.execute(params![
            received_at,
            note,
            auth.tenant,
            auth.warehouse,
            ex.id
        ])?;
    }
    write_operators(tx, auth.tenant, &plan.operators)?;
    if let Some(step) = &plan.workflow_step {
        write_workflow_step(tx, auth, step)?;
    }
    for (scope, rows) in plan.scoped_changes() {
        write_change_log(tx, auth.tenant, scope, &rows)?;
    }
    write_change_log(tx, auth.tenant, auth.warehouse, &changes)?;
    super::outbox::write(
        tx,
        auth.tenant,
        &crate::outbox::stamp(auth.warehouse, plan.events()),
    )
}

/// The stored rows of `badges`, active or not, with their warehouses.
fn load_operator_rows(
    tx: &Transaction<'_>,
    tenant: i64,
    badges: &std::collections::BTreeSet<String>,
    view: &mut BatchView,
) -> Result<()> {
    if badges.is_empty() {
        return Ok(());
    }
    let mut operator = tx.prepare_cached(
        "SELECT role, pin_hash, active FROM operators WHERE tenant_id = ?1 AND badge = ?2",
    )?;
    let mut warehouses = tx.prepare_cached(
        "SELECT warehouse_id FROM operator_warehouses WHERE tenant_id = ?1 AND badge = ?2 \
         ORDER BY warehouse_id",
    )?;
    for badge in badges {
        let Some((role, pin_hash, active)) = operator
            .query_row(params![tenant, badge], |r| {
                Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?
        else {
            continue;
        };
        let role = Role::parse(&role).ok_or_else(|| {
            StorageError::corrupt(format!("operator {badge}: unknown role {role:?}"))
        })?;
        let warehouses = warehouses
            .query_map(params![tenant, badge], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        view.operator_rows.insert(
            badge.clone(),
            OperatorRow {
                badge: badge.clone(),
                role,
                pin_hash,
                active,
                warehouses,
            },
        );
    }
    Ok(())
}

/// Operators created or changed: a new one with their warehouses; a new
/// PIN clears failed logins and a lock-out.
fn write_operators(tx: &Transaction<'_>, tenant: i64, writes: &[OperatorWrite]) -> Result<()> {
    for write in writes {
        let r = &write.row;
        if write.new {
            tx.prepare_cached(
                "INSERT INTO operators (tenant_id, badge, role, pin_hash, active) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                tenant,
                r.badge,
                r.role.as_str(),
                r.pin_hash,
                r.active
            ])?;
            let mut warehouse = tx.prepare_cached(
                "INSERT INTO operator_warehouses (tenant_id, badge, warehouse_id) VALUES (?1, ?2, ?3)",
            )?;
            for id in &r.warehouses {
                warehouse.execute(params![tenant, r.badge, id])?;
            }
        } else {
            tx.prepare_cached(
                "UPDATE operators SET role = ?3, pin_hash = ?4, active = ?5, \
                     failed_logins = CASE WHEN ?6 THEN 0 ELSE failed_logins END, \
                     locked_until = CASE WHEN ?6 THEN NULL ELSE locked_until END \
                 WHERE tenant_id = ?1 AND badge = ?2",
            )?
            .execute(params![
                tenant,
                r.badge,
                r.role.as_str(),
                r.pin_hash,
                r.active,
                write.new_pin
            ])?;
        }
    }
    Ok(())
}

/// A workflow's transition, its lease freed, and its new history rows.
fn write_workflow_step(tx: &Transaction<'_>, auth: &DeviceAuth, step: &WorkflowStep) -> Result<()> {
    let t = &step.transition;
    tx.prepare_cached(
        "UPDATE workflows SET state = ?1, step = ?2, attempt = ?3, step_started_at = ?4, \
             next_run_at = ?5, pick_overdue_raised = pick_overdue_raised OR ?6, \
             lease_owner = NULL, lease_until = NULL \
         WHERE tenant_id = ?7 AND warehouse_id = ?8 AND order_no = ?9",
    )?
    .execute(params![
        t.state.as_str(),
        t.step.as_str(),
        t.attempt,
        ts(t.step_started_at),
        t.next_run_at.map(ts),
        t.raise_pick_overdue,
        auth.tenant,
        auth.warehouse,
        step.order
    ])?;
    let mut history = tx.prepare_cached(
        "INSERT INTO workflow_history (tenant_id, warehouse_id, order_no, n, step, status, \
             attempt, at, error, operation) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    for (a, n) in t.history.iter().zip(step.first_history..) {
        history.execute(params![
            auth.tenant,
            auth.warehouse,
            step.order,
            n,
            a.step.as_str(),
            a.status.as_str(),
            a.attempt,
            ts(a.at),
            a.error,
            a.operation.map(|o| o.to_string())
        ])?;
    }
    Ok(())
}

/// Items, each with exactly its GTINs.
fn write_items(tx: &Transaction<'_>, tenant: i64, items: &[ItemRecord]) -> Result<()> {
    let mut upsert = tx.prepare_cached(
        "INSERT INTO items (tenant_id, sku, description, uom, lot_tracked, expiry_tracked, serial_tracked, temperature) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (tenant_id, sku) DO UPDATE SET \
         description = excluded.description, uom = excluded.uom, lot_tracked = excluded.lot_tracked, \
         expiry_tracked = excluded.expiry_tracked, serial_tracked = excluded.serial_tracked, temperature = excluded.temperature",
    )?;
    let mut forget =
        tx.prepare_cached("DELETE FROM item_gtins WHERE tenant_id = ?1 AND sku = ?2")?;
    for item in items {
        upsert.execute(params![
            tenant,
            item.sku,
            item.description,
            item.uom,
            item.lot_tracked,
            item.expiry_tracked,
            item.serial_tracked,
            item.temperature.as_str()
        ])?;
        forget.execute(params![tenant, item.sku])?;
    }
    // GTINs once every item gave up its old ones: one may pass between two.
    let mut gtin =
        tx.prepare_cached("INSERT INTO item_gtins (tenant_id, gtin, sku) VALUES (?1, ?2, ?3)")?;
    for item in items {
        for g in &item.gtins {
            gtin.execute(params![tenant, g, item.sku])?;
        }
    }
    Ok(())
}

/// Order lines, new or changed.
fn write_order_lines(
    tx: &Transaction<'_>,
    auth: &DeviceAuth,
    lines: &[OrderLineRecord],
) -> Result<()> {
    let mut upsert = tx.prepare_cached(
        "INSERT INTO order_lines (tenant_id, warehouse_id, order_no, line, sku, qty, customer, status) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (tenant_id, warehouse_id, order_no, line) DO UPDATE SET \
         sku = excluded.sku, qty = excluded.qty, customer = excluded.customer, status = excluded.status",
    )?;
    for l in lines {
        upsert.execute(params![
            auth.tenant,
            auth.warehouse,
            l.order,
            l.line,
            l.sku,
            l.qty,
            l.customer,
            l.status.as_str()
        ])?;
    }
    Ok(())
}

/// Writes change-log rows at fresh positions of the tenant's counter: each
/// record's state at its key in `changes`, its position appended to
/// `change_log`. The entries these rows supersede go stale; the sweep after
/// them removes stale entries from the next stretch of the log.
fn write_change_log(
    tx: &Transaction<'_>,
    tenant: i64,
    warehouse: i64,
    rows: &[ChangeRow],
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let (end, swept): (i64, i64) = tx
        .prepare_cached(
            "UPDATE tenants SET change_position = change_position + ?1 WHERE id = ?2 \
             RETURNING change_position, change_log_swept",
        )?
        .query_row(params![rows.len() as i64, tenant], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    let first = end - rows.len() as i64 + 1;
    let mut upsert = tx.prepare_cached(
        "INSERT INTO changes (tenant_id, warehouse_id, entity, key, position, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (tenant_id, warehouse_id, entity, key) DO UPDATE SET position = excluded.position, data = excluded.data",
    )?;
    let mut append = tx.prepare_cached(
        "INSERT INTO change_log (tenant_id, position, warehouse_id, entity, key) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (position, row) in (first..).zip(rows) {
        let entity = row.entity.as_str();
        upsert.execute(params![
            tenant, warehouse, entity, row.key, position, row.data
        ])?;
        append.execute(params![tenant, position, warehouse, entity, row.key])?;
    }
    sweep_change_log(tx, tenant, swept, 2 * rows.len())
}

/// Deletes the stale entries among the `stretch` entries of the change log
/// after position `swept`, and records where the next sweep goes on (from
/// the start once it reaches the end). Each write sweeps twice the entries
/// it appends, so however often records change, the log holds at most about
/// twice the records it names, and no single write pays for the whole log.
fn sweep_change_log(tx: &Transaction<'_>, tenant: i64, swept: i64, stretch: usize) -> Result<()> {
    let last: Option<i64> = tx
        .prepare_cached(
            "SELECT position FROM change_log WHERE tenant_id = ?1 AND position > ?2 \
             ORDER BY position LIMIT 1 OFFSET ?3",
        )?
        .query_row(params![tenant, swept, stretch as i64 - 1], |r| r.get(0))
        .optional()?;
    let end = last.unwrap_or(i64::MAX);
    tx.prepare_cached(
        "DELETE FROM change_log AS l WHERE tenant_id = ?1 AND position > ?2 AND position <= ?3 \
         AND NOT EXISTS (SELECT 1 FROM changes AS c WHERE c.tenant_id = l.tenant_id \
             AND c.warehouse_id = l.warehouse_id AND c.entity = l.entity AND c.key = l.key \
             AND c.position = l.position)",
    )?
    .execute(params![tenant, swept, end])?;
    tx.prepare_cached("UPDATE tenants SET change_log_swept = ?1 WHERE id = ?2")?
        .execute(params![last.unwrap_or(0), tenant])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use pyck_vocab::protocol::Entity;
    use rusqlite::Connection;

    use super::*;

    fn tenant() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::MIGRATIONS.to_latest(&mut conn).unwrap();
        conn.execute(
            "INSERT INTO tenants (id, name, created_at) VALUES (1, 'acme', '')",
            [],
        )
        .unwrap();
        conn
    }

    fn round(conn: &mut Connection, keys: std::ops::Range<u32>, n: u32) {
        let rows: Vec<ChangeRow> = keys
            .map(|k| ChangeRow {
                entity: Entity::Stock,
                key: format!("A-{k:02}|SKU-1|"),
                data: Some(format!(r#"{{"round":{n}}}"#)),
            })
            .collect();
        let tx = conn.transaction().unwrap();
        write_change_log(&tx, 1, 1, &rows).unwrap();
        tx.commit().unwrap();
    }

    fn entries(conn: &Connection) -> i64 {
        conn.query_row("SELECT count(*) FROM change_log", [], |r| r.get(0))
            .unwrap()
    }

    /// Records that change again and again leave stale entries behind; the
    /// sweeps keep the log near the size of what it names, and a pull sends
    /// each record once, in its latest state, at its latest position.
    #[test]
    fn the_change_log_stays_near_its_records_and_pulls_each_once() {
        let mut conn = tenant();
        let auth = DeviceAuth {
            device: Uuid::nil(),
            tenant: 1,
            warehouse: 1,
        };
        for n in 0..200 {
            // Ten records, and a few of them again in a write of their own.
            round(&mut conn, 0..10, n);
            round(&mut conn, 3..5, n);
        }
        assert!(
            entries(&conn) <= 3 * 10,
            "{} entries for 10 records after 2,400 changes",
            entries(&conn)
        );
        let page = super::super::queries::pull(&conn, &auth, 0, 1_000).unwrap();
        let keys: Vec<String> = page.changes.iter().map(|c| c.key.clone()).collect();
        let mut unique = keys.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(keys.len(), 10, "{keys:?}");
        assert_eq!(unique.len(), 10, "{keys:?}");
        assert!(
            page.changes
                .iter()
                .all(|c| c.data == Some(serde_json::json!({"round": 199})))
        );
        let positions: Vec<u64> = page.changes.iter().map(|c| c.position).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
        assert_eq!(page.cursor, 2_400);
        assert!(!page.has_more);

        // A device that pulled up to the last write but one gets only what
        // that write changed.
        let page = super::super::queries::pull(&conn, &auth, 2_400 - 2, 1_000).unwrap();
        let keys: Vec<&str> = page.changes.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, ["A-03|SKU-1|", "A-04|SKU-1|"]);
    }

    /// Version 15 carries every record's position over to the appended log,
    /// so a device's cursor means what it meant before the upgrade.
    #[test]
    fn version_15_keeps_every_position_for_the_pull() {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::MIGRATIONS.to_version(&mut conn, 14).unwrap();
        conn.execute_batch(
            r#"INSERT INTO tenants (id, name, created_at, change_position) VALUES (1, 'acme', '', 7);
               INSERT INTO changes (tenant_id, warehouse_id, entity, key, position, data) VALUES
                   (1, 1, 'stock', 'A|S|', 7, '{"qty":2}'),
                   (1, 0, 'item', 'S', 2, '{"sku":"S"}'),
                   (1, 2, 'stock', 'B|S|', 5, '{"qty":1}');"#,
        )
        .unwrap();
        super::super::MIGRATIONS.to_latest(&mut conn).unwrap();
        let auth = DeviceAuth {
            device: Uuid::nil(),
            tenant: 1,
            warehouse: 1,
        };
        let page = super::super::queries::pull(&conn, &auth, 0, 10).unwrap();
        let got: Vec<(u64, &str)> = page
            .changes
            .iter()
            .map(|c| (c.position, c.key.as_str()))
            .collect();
        assert_eq!(got, [(2, "S"), (7, "A|S|")]);
        assert!(!page.reset);
        round(&mut conn, 0..1, 0);
        let page = super::super::queries::pull(&conn, &auth, 7, 10).unwrap();
        assert_eq!(page.changes.len(), 1);
        assert_eq!(page.changes[0].position, 8);
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(64))]

        /// Any sequence of writes, the same records changed again and again,
        /// some twice in one write: a device pulling from any earlier cursor,
        /// page by page, gets exactly the records changed since, each once,
        /// in its latest state, in the order of their latest positions.
        #[test]
        fn any_writes_pull_as_the_latest_state_of_what_changed_since(
            writes in proptest::collection::vec(
                proptest::collection::vec((0u32..12, proptest::option::of(0u8..50)), 1..8),
                1..40,
            ),
            page in 1u32..6,
            from in 0usize..40,
        ) {
            let mut conn = tenant();
            let auth = DeviceAuth { device: Uuid::nil(), tenant: 1, warehouse: 1 };
            // The model: each record's latest position and state.
            let mut latest: std::collections::BTreeMap<String, (u64, Option<String>)> =
                std::collections::BTreeMap::new();
            let (mut position, mut cursors) = (0u64, vec![0u64]);
            for write in &writes {
                let rows: Vec<ChangeRow> = write
                    .iter()
                    .map(|(k, v)| ChangeRow {
                        entity: Entity::Stock,
                        key: format!("A-{k:02}|SKU-1|"),
                        data: v.map(|v| format!(r#"{{"qty":{v}}}"#)),
                    })
                    .collect();
                let tx = conn.transaction().unwrap();
                write_change_log(&tx, 1, 1, &rows).unwrap();
                tx.commit().unwrap();
                for row in rows {
                    position += 1;
                    latest.insert(row.key, (position, row.data));
                }
                cursors.push(position);
            }
            let cursor = cursors[from % cursors.len()];
            let mut got = Vec::new();
            let mut at = cursor;
            loop {
                let page = super::super::queries::pull(&conn, &auth, at, page).unwrap();
                proptest::prop_assert!(!page.reset);
                got.extend(page.changes.iter().map(|c| {
                    (c.position, c.key.clone(), c.data.as_ref().map(|d| d.to_string()))
                }));
                at = page.cursor;
                if !page.has_more {
                    break;
                }
            }
            let mut expected: Vec<(u64, String, Option<String>)> = latest
                .into_iter()
                .filter(|(_, (p, _))| *p > cursor)
                .map(|(key, (p, data))| (p, key, data))
                .collect();
            expected.sort();
            proptest::prop_assert_eq!(got, expected);
        }
    }
}
