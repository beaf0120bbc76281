//! Tenants, warehouses, operators, devices and imports on SQLite.

use pyck_sync::protocol::Entity;
use std::collections::HashMap;

use pyck_sync::records::{AsnLineRecord, OrderLineRecord, Role, TaskRecord};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use uuid::Uuid;

use super::push::write_changes;
use super::{now, parse_ts, ts};
use crate::import::ImportData;
use crate::login::{Failures, OperatorLogin};
use crate::push::{ChangeRow, to_json};
use crate::storage::{
    DeviceAuth, DeviceInfo, ImportSummary, OperatorInfo, OperatorUpdate, Result, StorageError,
    Tenant, Warehouse,
};

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation)
}

pub fn create_tenant(conn: &mut Connection, name: &str) -> Result<Tenant> {
    match conn.execute(
        "INSERT INTO tenants (name, created_at) VALUES (?1, ?2)",
        params![name, now()],
    ) {
        Ok(_) => Ok(Tenant {
            id: conn.last_insert_rowid(),
            name: name.to_owned(),
        }),
        Err(e) if is_unique_violation(&e) => {
            Err(StorageError::AlreadyExists(format!("tenant {name:?}")))
        }
        Err(e) => Err(e.into()),
    }
}

pub fn tenants(conn: &Connection) -> Result<Vec<Tenant>> {
    let mut stmt = conn.prepare("SELECT id, name FROM tenants ORDER BY name")?;
    let rows = stmt
        .query_map([], |r| {
            Ok(Tenant {
                id: r.get(0)?,
                name: r.get(1)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

pub fn tenant(conn: &Connection, name: &str) -> Result<Tenant> {
    conn.query_row(
        "SELECT id, name FROM tenants WHERE name = ?1",
        [name],
        |r| {
            Ok(Tenant {
                id: r.get(0)?,
                name: r.get(1)?,
            })
        },
    )
    .optional()?
    .ok_or_else(|| StorageError::UnknownTenant(name.to_owned()))
}

pub fn warehouses(conn: &Connection, tenant: i64) -> Result<Vec<Warehouse>> {
    let rows = conn
        .prepare_cached("SELECT id, code FROM warehouses WHERE tenant_id = ?1 ORDER BY code")?
        .query_map([tenant], |r| {
            Ok(Warehouse {
                id: r.get(0)?,
                tenant,
                code: r.get(1)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

pub fn warehouse(conn: &Connection, tenant: i64, code: &str) -> Result<Warehouse> {
    conn.query_row(
        "SELECT id FROM warehouses WHERE tenant_id = ?1 AND code = ?2",
        params![tenant, code],
        |r| r.get(0),
    )
    .optional()?
    .map(|id| Warehouse {
        id,
        tenant,
        code: code.to_owned(),
    })
    .ok_or_else(|| StorageError::UnknownWarehouse(code.to_owned()))
}

pub fn create_operator(
    conn: &mut Connection,
    tenant: i64,
    badge: &str,
    role: Role,
    pin_hash: &str,
    warehouses: &[i64],
) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    match tx.execute(
        "INSERT INTO operators (tenant_id, badge, role, pin_hash) VALUES (?1, ?2, ?3, ?4)",
        params![tenant, badge, role.as_str(), pin_hash],
    ) {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(StorageError::AlreadyExists(format!(
                "operator with badge {badge:?}"
            )));
        }
        Err(e) => return Err(e.into()),
    }
    for &warehouse in warehouses {
        tx.execute(
            "INSERT INTO operator_warehouses (tenant_id, badge, warehouse_id) VALUES (?1, ?2, ?3)",
            params![tenant, badge, warehouse],
        )?;
    }
    let row = ChangeRow::operator(badge, role, pin_hash, true);
    for scope in ChangeRow::operator_scopes(warehouses) {
        write_changes(&tx, tenant, scope, std::slice::from_ref(&row))?;
    }
    tx.commit()?;
    Ok(())
}

/// An active operator who may work in `warehouse`, for an online PIN check.
pub fn operator_login(
    conn: &Connection,
    tenant: i64,
    warehouse: i64,
    badge: &str,
) -> Result<Option<OperatorLogin>> {
    let row: Option<(String, String, i64, Option<String>)> = conn
        .prepare_cached(
            "SELECT role, pin_hash, failed_logins, locked_until FROM operators o \
             WHERE tenant_id = ?1 AND badge = ?2 AND active = 1 AND ( \
               NOT EXISTS (SELECT 1 FROM operator_warehouses w WHERE w.tenant_id = o.tenant_id AND w.badge = o.badge) \
               OR EXISTS (SELECT 1 FROM operator_warehouses w WHERE w.tenant_id = o.tenant_id AND w.badge = o.badge AND w.warehouse_id = ?3))",
        )?
        .query_row(params![tenant, badge, warehouse], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let Some((role, pin_hash, failed_logins, locked_until)) = row else {
        return Ok(None);
    };
    let role = Role::parse(&role)
        .ok_or_else(|| StorageError::Backend(format!("operator {badge}: unknown role {role:?}")))?;
    let locked_until = locked_until.as_deref().map(parse_ts).transpose()?;
    Ok(Some(OperatorLogin {
        role,
        pin_hash,
        failed_logins,
        locked_until,
    }))
}

/// Stores the outcome of an online PIN check.
pub fn set_login_failures(
    conn: &Connection,
    tenant: i64,
    badge: &str,
    failures: Failures,
) -> Result<()> {
    conn.execute(
        "UPDATE operators SET failed_logins = ?3, locked_until = ?4 WHERE tenant_id = ?1 AND badge = ?2",
        params![
            tenant,
            badge,
            failures.count,
            failures.locked_until.map(ts)
        ],
    )?;
    Ok(())
}

/// Every operator of a tenant, by badge, with the codes of their warehouses.
pub fn operators(conn: &Connection, tenant: i64) -> Result<Vec<OperatorInfo>> {
    let rows = conn
        .prepare_cached(
            "SELECT o.badge, o.role, o.active, o.locked_until, \
                    (SELECT group_concat(code, char(31)) FROM ( \
                        SELECT w.code FROM operator_warehouses ow JOIN warehouses w ON w.id = ow.warehouse_id \
                        WHERE ow.tenant_id = o.tenant_id AND ow.badge = o.badge ORDER BY w.code)) \
             FROM operators o WHERE o.tenant_id = ?1 ORDER BY o.badge",
        )?
        .query_map([tenant], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, bool>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(badge, role, active, locked_until, warehouses)| {
            Ok(OperatorInfo {
                role: Role::parse(&role).ok_or_else(|| {
                    StorageError::Backend(format!("operator {badge}: unknown role {role:?}"))
                })?,
                badge,
                active,
                warehouses: warehouses
                    .map(|w| w.split('\u{1f}').map(str::to_owned).collect())
                    .unwrap_or_default(),
                locked_until: locked_until.as_deref().map(parse_ts).transpose()?,
            })
        })
        .collect()
}

/// Changes an operator and writes their record again wherever devices
/// receive it.
pub fn update_operator(
    conn: &mut Connection,
    tenant: i64,
    badge: &str,
    update: &OperatorUpdate,
) -> Result<OperatorInfo> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let changed = tx.execute(
        "UPDATE operators SET pin_hash = COALESCE(?3, pin_hash), role = COALESCE(?4, role), \
             active = COALESCE(?5, active), \
             failed_logins = CASE WHEN ?3 IS NULL THEN failed_logins ELSE 0 END, \
             locked_until = CASE WHEN ?3 IS NULL THEN locked_until ELSE NULL END \
         WHERE tenant_id = ?1 AND badge = ?2",
        params![
            tenant,
            badge,
            update.pin_hash,
            update.role.map(Role::as_str),
            update.active
        ],
    )?;
    if changed == 0 {
        return Err(StorageError::UnknownOperator(badge.to_owned()));
    }
    let (role, pin_hash, active): (String, String, bool) = tx.query_row(
        "SELECT role, pin_hash, active FROM operators WHERE tenant_id = ?1 AND badge = ?2",
        params![tenant, badge],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let role = Role::parse(&role)
        .ok_or_else(|| StorageError::Backend(format!("operator {badge}: unknown role {role:?}")))?;
    let scopes: Vec<i64> = tx
        .prepare_cached(
            "SELECT warehouse_id FROM operator_warehouses WHERE tenant_id = ?1 AND badge = ?2",
        )?
        .query_map(params![tenant, badge], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let row = ChangeRow::operator(badge, role, &pin_hash, active);
    for scope in ChangeRow::operator_scopes(&scopes) {
        write_changes(&tx, tenant, scope, std::slice::from_ref(&row))?;
    }
    tx.commit()?;
    operators(conn, tenant)?
        .into_iter()
        .find(|o| o.badge == badge)
        .ok_or_else(|| StorageError::UnknownOperator(badge.to_owned()))
}

/// Every device of a tenant, by warehouse and name.
pub fn devices(conn: &Connection, tenant: i64) -> Result<Vec<DeviceInfo>> {
    type Row = (
        String,
        String,
        String,
        String,
        Option<String>,
        i64,
        Option<String>,
    );
    let rows: Vec<Row> = conn
        .prepare_cached(
            "SELECT d.id, d.name, w.code, d.created_at, d.last_contact, d.backlog, d.revoked_at \
             FROM devices d JOIN warehouses w ON w.id = d.warehouse_id \
             WHERE d.tenant_id = ?1 ORDER BY w.code, d.name, d.id",
        )?
        .query_map([tenant], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    rows.into_iter()
        .map(
            |(id, name, warehouse, created_at, last_contact, backlog, revoked_at)| {
                Ok(DeviceInfo {
                    id: Uuid::parse_str(&id)
                        .map_err(|e| StorageError::Backend(format!("bad device id {id:?}: {e}")))?,
                    name,
                    warehouse,
                    created_at: parse_ts(&created_at)?,
                    last_contact: last_contact.as_deref().map(parse_ts).transpose()?,
                    backlog: u64::try_from(backlog).unwrap_or(0),
                    revoked_at: revoked_at.as_deref().map(parse_ts).transpose()?,
                })
            },
        )
        .collect()
}

pub fn create_device(
    conn: &mut Connection,
    tenant: i64,
    warehouse: i64,
    name: &str,
    token_hash: &str,
) -> Result<Uuid> {
    let id = Uuid::now_v7();
    conn.execute(
        "INSERT INTO devices (id, tenant_id, warehouse_id, name, token_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![id.to_string(), tenant, warehouse, name, token_hash, now()],
    )?;
    Ok(id)
}

pub fn revoke_device(
    conn: &mut Connection,
    token_hash: &str,
    device: Option<Uuid>,
) -> Result<Uuid> {
    let id: Option<String> = conn
        .query_row(
            "UPDATE devices SET revoked_at = COALESCE(revoked_at, ?1) WHERE token_hash = ?2 OR id = ?3 RETURNING id",
            params![now(), token_hash, device.map(|d| d.to_string())],
            |r| r.get(0),
        )
        .optional()?;
    id.and_then(|id| Uuid::parse_str(&id).ok())
        .ok_or_else(|| StorageError::UnknownToken("the given token or device id".into()))
}

pub fn authenticate(conn: &Connection, token_hash: &str) -> Result<Option<DeviceAuth>> {
    let row: Option<(String, i64, i64)> = conn
        .prepare_cached("SELECT id, tenant_id, warehouse_id FROM devices WHERE token_hash = ?1 AND revoked_at IS NULL")?
        .query_row([token_hash], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    Ok(row.and_then(|(id, tenant, warehouse)| {
        Uuid::parse_str(&id).ok().map(|device| DeviceAuth {
            device,
            tenant,
            warehouse,
        })
    }))
}

pub fn import(
    conn: &mut Connection,
    tenant: i64,
    warehouse_code: &str,
    data: &ImportData,
) -> Result<ImportSummary> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute(
        "INSERT OR IGNORE INTO warehouses (tenant_id, code, created_at) VALUES (?1, ?2, ?3)",
        params![tenant, warehouse_code, now()],
    )?;
    let wh = warehouse(&tx, tenant, warehouse_code)?.id;
    let mut summary = ImportSummary::default();
    let mut tenant_changes = Vec::new();
    let mut changes = Vec::new();

    for item in &data.items {
        tx.prepare_cached(
            "INSERT INTO items (tenant_id, sku, description, uom, lot_tracked, expiry_tracked, serial_tracked, temperature) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (tenant_id, sku) DO UPDATE SET \
         description = excluded.description, uom = excluded.uom, lot_tracked = excluded.lot_tracked, \
         expiry_tracked = excluded.expiry_tracked, serial_tracked = excluded.serial_tracked, temperature = excluded.temperature",
        )?
        .execute(params![
            tenant,
            item.sku,
            item.description,
            item.uom,
            item.lot_tracked,
            item.expiry_tracked,
            item.serial_tracked,
            item.temperature.as_str()
        ])?;
        tx.prepare_cached("DELETE FROM item_gtins WHERE tenant_id = ?1 AND sku = ?2")?
            .execute(params![tenant, item.sku])?;
        for gtin in &item.gtins {
            let inserted = tx
                .prepare_cached(
                    "INSERT INTO item_gtins (tenant_id, gtin, sku) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![tenant, gtin, item.sku]);
            if let Err(e) = inserted {
                if is_unique_violation(&e) {
                    return Err(StorageError::InvalidImport(format!(
                        "items.csv: GTIN {gtin} of {} already belongs to another item",
                        item.sku
                    )));
                }
                return Err(e.into());
            }
        }
        tenant_changes.push(ChangeRow {
            entity: Entity::Item,
            key: item.sku.clone(),
            data: Some(to_json(item)),
        });
        summary.items += 1;
    }

    for loc in &data.locations {
        tx.prepare_cached(
            "INSERT INTO locations (tenant_id, warehouse_id, code, zone, temperature) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (tenant_id, warehouse_id, code) DO UPDATE SET zone = excluded.zone, temperature = excluded.temperature",
        )?
        .execute(params![tenant, wh, loc.code, loc.zone, loc.temperature.as_str()])?;
        changes.push(ChangeRow {
            entity: Entity::Location,
            key: loc.code.clone(),
            data: Some(to_json(loc)),
        });
        summary.locations += 1;
    }

    import_stock(&tx, tenant, wh, data, &mut summary, &mut changes)?;

    for line in &data.asn_lines {
        known_sku(&tx, tenant, &line.sku, "asns.csv", &line.asn)?;
        let record: AsnLineRecord = tx
            .prepare_cached(
                "INSERT INTO asn_lines (tenant_id, warehouse_id, asn, line, sku, supplier, expected_qty) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (tenant_id, warehouse_id, asn, line) DO UPDATE SET \
         sku = excluded.sku, supplier = excluded.supplier, expected_qty = excluded.expected_qty \
         RETURNING received_qty, damaged_qty, closed",
            )?
            .query_row(
                params![tenant, wh, line.asn, line.line, line.sku, line.supplier, line.expected_qty],
                |r| {
                    Ok(AsnLineRecord {
                        asn: line.asn.clone(),
                        line: line.line,
                        sku: line.sku.clone(),
                        supplier: line.supplier.clone(),
                        expected_qty: line.expected_qty,
                        received_qty: r.get(0)?,
                        damaged_qty: r.get(1)?,
                        closed: r.get(2)?,
                    })
                },
            )?;
        changes.push(ChangeRow {
            entity: Entity::AsnLine,
            key: format!("{}|{}", line.asn, line.line),
            data: Some(to_json(&record)),
        });
        summary.asn_lines += 1;
    }

    summary.order_lines = upsert_order_lines(&tx, tenant, wh, &data.order_lines, &mut changes)?;

    allocate_new_orders(&tx, tenant, wh, &mut changes)?;
    write_changes(&tx, tenant, 0, &tenant_changes)?;
    write_changes(&tx, tenant, wh, &changes)?;
    tx.commit()?;
    Ok(summary)
}

/// Inserts or updates order lines; returns how many.
fn upsert_order_lines(
    tx: &Transaction<'_>,
    tenant: i64,
    wh: i64,
    lines: &[crate::import::OrderLine],
    changes: &mut Vec<ChangeRow>,
) -> Result<usize> {
    for line in lines {
        known_sku(tx, tenant, &line.sku, "orders.csv", &line.order)?;
        let status: String = tx
            .prepare_cached(
                "INSERT INTO order_lines (tenant_id, warehouse_id, order_no, line, sku, qty, customer) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (tenant_id, warehouse_id, order_no, line) DO UPDATE SET \
         sku = excluded.sku, qty = excluded.qty, customer = excluded.customer RETURNING status",
            )?
            .query_row(
                params![tenant, wh, line.order, line.line, line.sku, line.qty, line.customer],
                |r| r.get(0),
            )?;
        let record = OrderLineRecord {
            order: line.order.clone(),
            line: line.line,
            sku: line.sku.clone(),
            qty: line.qty,
            customer: line.customer.clone(),
            status,
        };
        changes.push(ChangeRow {
            entity: Entity::Order,
            key: format!("{}|{}", line.order, line.line),
            data: Some(to_json(&record)),
        });
    }
    Ok(lines.len())
}

pub fn operator_role(conn: &Connection, tenant: i64, badge: &str) -> Result<Option<Role>> {
    let role: Option<String> = conn
        .query_row(
            "SELECT role FROM operators WHERE tenant_id = ?1 AND badge = ?2 AND active = 1",
            params![tenant, badge],
            |r| r.get(0),
        )
        .optional()?;
    Ok(role.as_deref().and_then(Role::parse))
}

/// Order lines that have no tasks yet get pick tasks (FEFO), at once, and
/// each new order its fulfilment workflow.
fn allocate_new_orders(
    tx: &Transaction<'_>,
    tenant: i64,
    wh: i64,
    changes: &mut Vec<ChangeRow>,
) -> Result<()> {
    let lines: Vec<OrderLineRecord> = tx
        .prepare(
            "SELECT o.order_no, o.line, o.sku, o.qty, o.customer, o.status FROM order_lines o \
             WHERE o.tenant_id = ?1 AND o.warehouse_id = ?2 AND o.status = 'open' AND NOT EXISTS ( \
             SELECT 1 FROM tasks t WHERE t.tenant_id = o.tenant_id AND t.warehouse_id = o.warehouse_id \
             AND t.order_no = o.order_no AND t.line = o.line) ORDER BY o.order_no, o.line",
        )?
        .query_map(params![tenant, wh], order_line_row)?
        .collect::<rusqlite::Result<_>>()?;
    let orders: std::collections::BTreeSet<String> =
        lines.iter().map(|l| l.order.clone()).collect();
    for order in &orders {
        super::workflow::start(tx, tenant, wh, order)?;
    }
    allocate(tx, tenant, wh, &lines, true, changes)?;
    Ok(())
}

pub(super) fn order_line_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OrderLineRecord> {
    Ok(OrderLineRecord {
        order: r.get(0)?,
        line: r.get(1)?,
        sku: r.get(2)?,
        qty: r.get(3)?,
        customer: r.get(4)?,
        status: r.get(5)?,
    })
}

/// Pick tasks (FEFO) for `lines`; their orders become `allocated`. With
/// `raise_short`, a line stock cannot cover raises `allocation_short` (the
/// workflow's reserve retries do not raise it again). Returns the lines'
/// shortfalls as (order, line, sku, units short).
pub(super) fn allocate(
    tx: &Transaction<'_>,
    tenant: i64,
    wh: i64,
    lines: &[OrderLineRecord],
    raise_short: bool,
    changes: &mut Vec<ChangeRow>,
) -> Result<Vec<(String, u32, String, i64)>> {
    if lines.is_empty() {
        return Ok(Vec::new());
    }
    let mut candidates = HashMap::new();
    let mut tracked = HashMap::new();
    for line in lines {
        if !candidates.contains_key(&line.sku) {
            candidates.insert(
                line.sku.clone(),
                super::push::candidates(tx, tenant, wh, &line.sku)?,
            );
            let t: bool = tx.query_row(
                "SELECT expiry_tracked FROM items WHERE tenant_id = ?1 AND sku = ?2",
                params![tenant, line.sku],
                |r| r.get(0),
            )?;
            tracked.insert(line.sku.clone(), t);
        }
    }
    let (next, fefo): (i64, String) = tx.query_row(
        "SELECT next_task, fefo FROM warehouses WHERE id = ?1",
        [wh],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let fefo = crate::settings::Fefo::parse(&fefo).unwrap_or_default();
    let today = chrono::Utc::now().date_naive();
    let done = crate::domain::orders::allocate_lines(
        lines,
        &mut candidates,
        &tracked,
        today,
        next as u64,
        fefo,
    );
    let tasks: Vec<&TaskRecord> = done.tasks.iter().collect();
    super::push::write_tasks(tx, tenant, wh, &tasks)?;
    tx.execute(
        "UPDATE warehouses SET next_task = ?1 WHERE id = ?2",
        params![done.next_task as i64, wh],
    )?;
    for t in &done.tasks {
        changes.push(ChangeRow::task(t));
    }
    let orders: std::collections::BTreeSet<&str> = lines.iter().map(|l| l.order.as_str()).collect();
    for order in orders {
        changes.extend(super::push::set_order_status(
            tx,
            tenant,
            wh,
            order,
            "allocated",
        )?);
    }
    for (order, line, sku, short) in done.short.iter().filter(|_| raise_short) {
        let id = Uuid::now_v7().to_string();
        let message = format!(
            "order {order} line {line}: {short} of {sku} could not be allocated (not enough pickable stock)"
        );
        tx.execute(
            "INSERT INTO exceptions (id, tenant_id, warehouse_id, kind, message, order_no, sku, raised_at) \
             VALUES (?1, ?2, ?3, 'allocation_short', ?4, ?5, ?6, ?7)",
            params![id, tenant, wh, message, order, sku, now()],
        )?;
        let record = pyck_sync::records::ExceptionRecord {
            id: id.clone(),
            kind: pyck_sync::records::ExceptionKind::AllocationShort
                .as_str()
                .into(),
            status: "open".into(),
            message,
            order: Some(order.clone()),
            asn: None,
            location: None,
            sku: Some(sku.clone()),
            lot: None,
            raised_at: chrono::Utc::now(),
        };
        changes.push(ChangeRow {
            entity: Entity::Exception,
            key: id,
            data: Some(to_json(&record)),
        });
    }
    // FEFO `warn`: a later lot was allocated while an earlier one waits.
    let breaches = done
        .waiting
        .iter()
        .filter(|_| raise_short && fefo == crate::settings::Fefo::Warn);
    for (order, _, sku, w) in breaches {
        let ex = crate::domain::fefo_waiting_exception(order, sku, w);
        tx.execute(
            "INSERT INTO exceptions (id, tenant_id, warehouse_id, kind, message, order_no, location, sku, lot, raised_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![ex.id, tenant, wh, ex.kind, ex.message, ex.order, ex.location, ex.sku, ex.lot, super::ts(ex.raised_at)],
        )?;
        changes.push(ChangeRow::exception(&ex));
    }
    Ok(done.short)
}

fn known_sku(tx: &Transaction<'_>, tenant: i64, sku: &str, file: &str, what: &str) -> Result<()> {
    let found: Option<i64> = tx
        .prepare_cached("SELECT 1 FROM items WHERE tenant_id = ?1 AND sku = ?2")?
        .query_row(params![tenant, sku], |r| r.get(0))
        .optional()?;
    found
        .map(|_| ())
        .ok_or_else(|| StorageError::InvalidImport(format!("{file}: {what}: unknown SKU {sku}")))
}

/// Opening balances are *set*: the movement is the difference to what the
/// ledger already holds, so a re-run moves nothing.
fn import_stock(
    tx: &Transaction<'_>,
    tenant: i64,
    wh: i64,
    data: &ImportData,
    summary: &mut ImportSummary,
    changes: &mut Vec<ChangeRow>,
) -> Result<()> {
    if data.stock.is_empty() {
        return Ok(());
    }
    let op = Uuid::now_v7();
    let mut op_written = false;
    for row in &data.stock {
        let invalid = |msg: String| {
            StorageError::InvalidImport(format!("stock.csv line {}: {msg}", row.line))
        };
        let item: Option<(bool, bool)> = tx
            .prepare_cached(
                "SELECT lot_tracked, expiry_tracked FROM items WHERE tenant_id = ?1 AND sku = ?2",
            )?
            .query_row(params![tenant, row.sku], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let (lot_tracked, expiry_tracked) =
            item.ok_or_else(|| invalid(format!("sku: unknown SKU {}", row.sku)))?;
        let location: Option<i64> = tx
            .prepare_cached(
                "SELECT 1 FROM locations WHERE tenant_id = ?1 AND warehouse_id = ?2 AND code = ?3",
            )?
            .query_row(params![tenant, wh, row.location], |r| r.get(0))
            .optional()?;
        location.ok_or_else(|| invalid(format!("location: unknown location {}", row.location)))?;
        match (lot_tracked, &row.lot) {
            (true, None) => {
                return Err(invalid(format!(
                    "lot: {} is lot-tracked and needs a lot",
                    row.sku
                )));
            }
            (false, Some(_)) => {
                return Err(invalid(format!("lot: {} is not lot-tracked", row.sku)));
            }
            _ => {}
        }
        if expiry_tracked && row.expiry.is_none() {
            return Err(invalid(format!(
                "expiry: {} is expiry-tracked and needs an expiry",
                row.sku
            )));
        }
        let lot = row.lot.clone().unwrap_or_default();
        if let Some(l) = &row.lot {
            tx.prepare_cached(
                "INSERT INTO lots (tenant_id, sku, lot, expiry) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (tenant_id, sku, lot) DO UPDATE SET expiry = COALESCE(excluded.expiry, lots.expiry)",
            )?
            .execute(params![tenant, row.sku, l, row.expiry.map(|e| e.to_string())])?;
        }
        let current: i64 = tx
            .prepare_cached(
                "SELECT qty FROM stock WHERE tenant_id = ?1 AND warehouse_id = ?2 AND location = ?3 AND sku = ?4 AND lot = ?5",
            )?
            .query_row(params![tenant, wh, row.location, row.sku, lot], |r| r.get(0))
            .optional()?
            .unwrap_or(0);
        summary.stock_rows += 1;
        let delta = row.qty - current;
        if delta == 0 {
            continue;
        }
        if !op_written {
            tx.execute(
                "INSERT INTO operations (id, tenant_id, warehouse_id, operator, at, kind, payload, received_at) \
         VALUES (?1, ?2, ?3, 'import', ?4, 'opening_balance', ?5, ?4)",
                params![
                    op.to_string(),
                    tenant,
                    wh,
                    now(),
                    serde_json::json!({ "rows": data.stock.len() }).to_string()
                ],
            )?;
            op_written = true;
        }
        summary.movements += 1;
        tx.prepare_cached(
            "INSERT INTO movements (tenant_id, warehouse_id, op_id, line, location, sku, lot, delta, at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(params![
            tenant,
            wh,
            op.to_string(),
            summary.movements as i64,
            row.location,
            row.sku,
            lot,
            delta,
            now()
        ])?;
        if row.qty == 0 {
            tx.prepare_cached(
                "DELETE FROM stock WHERE tenant_id = ?1 AND warehouse_id = ?2 AND location = ?3 AND sku = ?4 AND lot = ?5",
            )?
            .execute(params![tenant, wh, row.location, row.sku, lot])?;
        } else {
            tx.prepare_cached(
                "INSERT INTO stock (tenant_id, warehouse_id, location, sku, lot, qty) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (tenant_id, warehouse_id, location, sku, lot) DO UPDATE SET qty = excluded.qty",
            )?
            .execute(params![tenant, wh, row.location, row.sku, lot, row.qty])?;
        }
        let record = pyck_sync::records::StockRecord {
            location: row.location.clone(),
            sku: row.sku.clone(),
            lot: row.lot.clone(),
            expiry: row.expiry,
            qty: row.qty,
        };
        changes.push(ChangeRow {
            entity: Entity::Stock,
            key: pyck_sync::records::StockRecord::key(&row.location, &row.sku, row.lot.as_deref()),
            data: (row.qty != 0).then(|| to_json(&record)),
        });
    }
    Ok(())
}
