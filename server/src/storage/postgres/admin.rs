//! Tenants, warehouses, operators, devices and imports on PostgreSQL.
//!
//! Every write of a tenant's warehouse records (operators, imports, orders,
//! count tasks, resolutions) takes the tenant's lock first and holds it until
//! it commits, as pushes do (see [`super::push::lock_tenant`]): the import
//! sets opening stock against what the ledger holds, allocation and count
//! tasks draw task numbers, and all of them write change-log rows.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{NaiveDate, Utc};
use deadpool_postgres::{ClientWrapper, Transaction};
use pyck_sync::protocol::Entity;
use pyck_sync::records::{
    AsnLineRecord, ExceptionRecord, ItemRecord, LocationRecord, OrderLineRecord, Role, StockRecord,
    TaskRecord,
};
use tokio::try_join;
use tokio_postgres::IsolationLevel;
use uuid::Uuid;

use super::push::{
    CANDIDATES_OF_SKUS, ITEMS_OF_SKUS, STOCK_OF_KEYS, candidate_row, delete_stock,
    insert_movements, line_no, lock_tenant, set_next_task, set_order_status, set_stock,
    write_changes, write_tasks,
};
use super::{is_unique_violation, last_of_each};
use crate::domain::allocation::Candidate;
use crate::domain::orders::allocate_lines;
use crate::domain::{Movement, StockKey};
use crate::import::{AsnLine, ImportData, OrderLine};
use crate::login::{Failures, OperatorLogin};
use crate::push::{ChangeRow, to_json};
use crate::storage::{
    DeviceAuth, DeviceInfo, ImportSummary, OperatorInfo, OperatorUpdate, Result, StorageError,
    Tenant, Warehouse,
};

pub async fn create_tenant(client: &ClientWrapper, name: &str) -> Result<Tenant> {
    let stmt = client
        .prepare_cached("INSERT INTO tenants (name) VALUES ($1) RETURNING id")
        .await?;
    match client.query_one(&stmt, &[&name]).await {
        Ok(row) => Ok(Tenant {
            id: row.try_get(0)?,
            name: name.to_owned(),
        }),
        Err(e) if is_unique_violation(&e) => {
            Err(StorageError::AlreadyExists(format!("tenant {name:?}")))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn tenants(client: &ClientWrapper) -> Result<Vec<Tenant>> {
    let stmt = client
        .prepare_cached("SELECT id, name FROM tenants ORDER BY name")
        .await?;
    client
        .query(&stmt, &[])
        .await?
        .iter()
        .map(|r| {
            Ok(Tenant {
                id: r.try_get(0)?,
                name: r.try_get(1)?,
            })
        })
        .collect()
}

pub async fn tenant(client: &ClientWrapper, name: &str) -> Result<Tenant> {
    let stmt = client
        .prepare_cached("SELECT id FROM tenants WHERE name = $1")
        .await?;
    match client.query_opt(&stmt, &[&name]).await? {
        Some(row) => Ok(Tenant {
            id: row.try_get(0)?,
            name: name.to_owned(),
        }),
        None => Err(StorageError::UnknownTenant(name.to_owned())),
    }
}

pub async fn warehouses(client: &ClientWrapper, tenant: i64) -> Result<Vec<Warehouse>> {
    let stmt = client
        .prepare_cached("SELECT id, code FROM warehouses WHERE tenant_id = $1 ORDER BY code")
        .await?;
    client
        .query(&stmt, &[&tenant])
        .await?
        .iter()
        .map(|r| {
            Ok(Warehouse {
                id: r.try_get(0)?,
                tenant,
                code: r.try_get(1)?,
            })
        })
        .collect()
}

pub async fn warehouse(client: &ClientWrapper, tenant: i64, code: &str) -> Result<Warehouse> {
    let stmt = client
        .prepare_cached("SELECT id FROM warehouses WHERE tenant_id = $1 AND code = $2")
        .await?;
    match client.query_opt(&stmt, &[&tenant, &code]).await? {
        Some(row) => Ok(Warehouse {
            id: row.try_get(0)?,
            tenant,
            code: code.to_owned(),
        }),
        None => Err(StorageError::UnknownWarehouse(code.to_owned())),
    }
}

pub async fn create_operator(
    client: &mut ClientWrapper,
    tenant: i64,
    badge: &str,
    role: Role,
    pin_hash: &str,
    warehouses: &[i64],
) -> Result<()> {
    let tx = start(client).await?;
    if !lock_tenant(&tx, tenant).await? {
        return Err(StorageError::UnknownTenant(tenant.to_string()));
    }
    let stmt = tx
        .prepare_cached(
            "INSERT INTO operators (tenant_id, badge, role, pin_hash) VALUES ($1, $2, $3, $4)",
        )
        .await?;
    match tx
        .execute(&stmt, &[&tenant, &badge, &role.as_str(), &pin_hash])
        .await
    {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(StorageError::AlreadyExists(format!(
                "operator with badge {badge:?}"
            )));
        }
        Err(e) => return Err(e.into()),
    }
    for warehouse in warehouses {
        tx.execute(
            "INSERT INTO operator_warehouses (tenant_id, badge, warehouse_id) VALUES ($1, $2, $3)",
            &[&tenant, &badge, warehouse],
        )
        .await?;
    }
    let row = ChangeRow::operator(badge, role, pin_hash, true);
    for scope in ChangeRow::operator_scopes(warehouses) {
        write_changes(&tx, tenant, scope, std::slice::from_ref(&row)).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// An active operator who may work in `warehouse`, for an online PIN check.
pub async fn operator_login(
    client: &ClientWrapper,
    tenant: i64,
    warehouse: i64,
    badge: &str,
) -> Result<Option<OperatorLogin>> {
    let stmt = client
        .prepare_cached(
            "SELECT role, pin_hash, failed_logins, locked_until FROM operators o \
             WHERE tenant_id = $1 AND badge = $2 AND active AND ( \
               NOT EXISTS (SELECT 1 FROM operator_warehouses w WHERE w.tenant_id = o.tenant_id AND w.badge = o.badge) \
               OR EXISTS (SELECT 1 FROM operator_warehouses w WHERE w.tenant_id = o.tenant_id AND w.badge = o.badge AND w.warehouse_id = $3))",
        )
        .await?;
    let Some(row) = client
        .query_opt(&stmt, &[&tenant, &badge, &warehouse])
        .await?
    else {
        return Ok(None);
    };
    let role: &str = row.try_get(0)?;
    let role = Role::parse(role)
        .ok_or_else(|| StorageError::Backend(format!("operator {badge}: unknown role {role:?}")))?;
    Ok(Some(OperatorLogin {
        role,
        pin_hash: row.try_get(1)?,
        failed_logins: row.try_get(2)?,
        locked_until: row.try_get(3)?,
    }))
}

/// Stores the outcome of an online PIN check.
pub async fn set_login_failures(
    client: &ClientWrapper,
    tenant: i64,
    badge: &str,
    failures: Failures,
) -> Result<()> {
    client
        .execute(
            "UPDATE operators SET failed_logins = $3, locked_until = $4 WHERE tenant_id = $1 AND badge = $2",
            &[&tenant, &badge, &failures.count, &failures.locked_until],
        )
        .await?;
    Ok(())
}

/// Every operator of a tenant, by badge, with the codes of their warehouses.
pub async fn operators(client: &ClientWrapper, tenant: i64) -> Result<Vec<OperatorInfo>> {
    let stmt = client
        .prepare_cached(
            "SELECT o.badge, o.role, o.active, o.locked_until, \
                    ARRAY(SELECT w.code FROM operator_warehouses ow JOIN warehouses w ON w.id = ow.warehouse_id \
                          WHERE ow.tenant_id = o.tenant_id AND ow.badge = o.badge ORDER BY w.code) \
             FROM operators o WHERE o.tenant_id = $1 ORDER BY o.badge",
        )
        .await?;
    client
        .query(&stmt, &[&tenant])
        .await?
        .iter()
        .map(|row| {
            let badge: String = row.try_get(0)?;
            let role: &str = row.try_get(1)?;
            Ok(OperatorInfo {
                role: Role::parse(role).ok_or_else(|| {
                    StorageError::Backend(format!("operator {badge}: unknown role {role:?}"))
                })?,
                badge,
                active: row.try_get(2)?,
                locked_until: row.try_get(3)?,
                warehouses: row.try_get(4)?,
            })
        })
        .collect()
}

/// Changes an operator and writes their record again wherever devices
/// receive it.
pub async fn update_operator(
    client: &mut ClientWrapper,
    tenant: i64,
    badge: &str,
    update: &OperatorUpdate,
) -> Result<OperatorInfo> {
    let tx = start(client).await?;
    if !lock_tenant(&tx, tenant).await? {
        return Err(StorageError::UnknownTenant(tenant.to_string()));
    }
    let row = tx
        .query_opt(
            "UPDATE operators SET pin_hash = COALESCE($3, pin_hash), role = COALESCE($4, role), \
                 active = COALESCE($5, active), \
                 failed_logins = CASE WHEN $3::text IS NULL THEN failed_logins ELSE 0 END, \
                 locked_until = CASE WHEN $3::text IS NULL THEN locked_until ELSE NULL END \
             WHERE tenant_id = $1 AND badge = $2 RETURNING role, pin_hash, active",
            &[
                &tenant,
                &badge,
                &update.pin_hash,
                &update.role.map(Role::as_str),
                &update.active,
            ],
        )
        .await?
        .ok_or_else(|| StorageError::UnknownOperator(badge.to_owned()))?;
    let role: &str = row.try_get(0)?;
    let role = Role::parse(role)
        .ok_or_else(|| StorageError::Backend(format!("operator {badge}: unknown role {role:?}")))?;
    let pin_hash: String = row.try_get(1)?;
    let active: bool = row.try_get(2)?;
    let scopes: Vec<i64> = tx
        .query(
            "SELECT warehouse_id FROM operator_warehouses WHERE tenant_id = $1 AND badge = $2",
            &[&tenant, &badge],
        )
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    let change = ChangeRow::operator(badge, role, &pin_hash, active);
    for scope in ChangeRow::operator_scopes(&scopes) {
        write_changes(&tx, tenant, scope, std::slice::from_ref(&change)).await?;
    }
    tx.commit().await?;
    operators(client, tenant)
        .await?
        .into_iter()
        .find(|o| o.badge == badge)
        .ok_or_else(|| StorageError::UnknownOperator(badge.to_owned()))
}

/// Every device of a tenant, by warehouse and name.
pub async fn devices(client: &ClientWrapper, tenant: i64) -> Result<Vec<DeviceInfo>> {
    let stmt = client
        .prepare_cached(
            "SELECT d.id, d.name, w.code, d.created_at, d.last_contact, d.backlog, d.revoked_at \
             FROM devices d JOIN warehouses w ON w.id = d.warehouse_id \
             WHERE d.tenant_id = $1 ORDER BY w.code, d.name, d.id",
        )
        .await?;
    client
        .query(&stmt, &[&tenant])
        .await?
        .iter()
        .map(|row| {
            let backlog: i64 = row.try_get(5)?;
            Ok(DeviceInfo {
                id: row.try_get(0)?,
                name: row.try_get(1)?,
                warehouse: row.try_get(2)?,
                created_at: row.try_get(3)?,
                last_contact: row.try_get(4)?,
                backlog: u64::try_from(backlog).unwrap_or(0),
                revoked_at: row.try_get(6)?,
            })
        })
        .collect()
}

pub async fn create_device(
    client: &ClientWrapper,
    tenant: i64,
    warehouse: i64,
    name: &str,
    token_hash: &str,
) -> Result<Uuid> {
    let id = Uuid::now_v7();
    let stmt = client
        .prepare_cached(
            "INSERT INTO devices (id, tenant_id, warehouse_id, name, token_hash) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .await?;
    client
        .execute(&stmt, &[&id, &tenant, &warehouse, &name, &token_hash])
        .await?;
    Ok(id)
}

pub async fn revoke_device(
    client: &ClientWrapper,
    token_hash: &str,
    device: Option<Uuid>,
) -> Result<Uuid> {
    let stmt = client
        .prepare_cached(
            "UPDATE devices SET revoked_at = COALESCE(revoked_at, now()) \
             WHERE token_hash = $1 OR id = $2 RETURNING id",
        )
        .await?;
    let revoked = client.query(&stmt, &[&token_hash, &device]).await?;
    match revoked.first() {
        Some(row) => Ok(row.try_get(0)?),
        None => Err(StorageError::UnknownToken(
            "the given token or device id".into(),
        )),
    }
}

pub async fn authenticate(client: &ClientWrapper, token_hash: &str) -> Result<Option<DeviceAuth>> {
    let stmt = client
        .prepare_cached(
            "SELECT id, tenant_id, warehouse_id FROM devices \
             WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .await?;
    match client.query_opt(&stmt, &[&token_hash]).await? {
        Some(row) => Ok(Some(DeviceAuth {
            device: row.try_get(0)?,
            tenant: row.try_get(1)?,
            warehouse: row.try_get(2)?,
        })),
        None => Ok(None),
    }
}

pub(super) async fn start(client: &mut ClientWrapper) -> Result<Transaction<'_>> {
    Ok(client
        .build_transaction()
        .isolation_level(IsolationLevel::ReadCommitted)
        .start()
        .await?)
}

pub async fn import(
    client: &mut ClientWrapper,
    tenant: i64,
    warehouse_code: &str,
    data: &ImportData,
) -> Result<ImportSummary> {
    let tx = start(client).await?;
    if !lock_tenant(&tx, tenant).await? {
        return Err(StorageError::UnknownTenant(tenant.to_string()));
    }
    // An import runs each statement once, with arrays of thousands: plan each
    // for the arrays it has. A cached generic plan knows neither their size
    // nor (on a fresh tenant) the tables', and may test every row against
    // every element.
    tx.batch_execute("SET LOCAL plan_cache_mode = force_custom_plan")
        .await?;
    tx.execute(
        &tx.prepare_cached(
            "INSERT INTO warehouses (tenant_id, code) VALUES ($1, $2) \
             ON CONFLICT (tenant_id, code) DO NOTHING",
        )
        .await?,
        &[&tenant, &warehouse_code],
    )
    .await?;
    let wh: i64 = tx
        .query_one(
            &tx.prepare_cached("SELECT id FROM warehouses WHERE tenant_id = $1 AND code = $2")
                .await?,
            &[&tenant, &warehouse_code],
        )
        .await?
        .try_get(0)?;
    let mut summary = ImportSummary {
        items: data.items.len(),
        locations: data.locations.len(),
        asn_lines: data.asn_lines.len(),
        order_lines: data.order_lines.len(),
        ..ImportSummary::default()
    };

    import_items(&tx, tenant, &data.items).await?;
    let item_changes: Vec<ChangeRow> = data
        .items
        .iter()
        .map(|item| ChangeRow {
            entity: Entity::Item,
            key: item.sku.clone(),
            data: Some(to_json(item)),
        })
        .collect();

    import_locations(&tx, tenant, wh, &data.locations).await?;
    let mut changes: Vec<ChangeRow> = data
        .locations
        .iter()
        .map(|loc| ChangeRow {
            entity: Entity::Location,
            key: loc.code.clone(),
            data: Some(to_json(loc)),
        })
        .collect();

    import_stock(&tx, tenant, wh, data, &mut summary, &mut changes).await?;
    import_asn_lines(&tx, tenant, wh, &data.asn_lines, &mut changes).await?;
    import_order_lines(&tx, tenant, wh, &data.order_lines, &mut changes).await?;
    allocate_new_orders(&tx, tenant, wh, &mut changes).await?;

    write_changes(&tx, tenant, 0, &item_changes).await?;
    write_changes(&tx, tenant, wh, &changes).await?;
    tx.commit().await?;
    Ok(summary)
}

/// Upserts items and replaces their GTINs.
async fn import_items(tx: &Transaction<'_>, tenant: i64, all: &[ItemRecord]) -> Result<()> {
    if all.is_empty() {
        return Ok(());
    }
    let items = last_of_each(all, |i| i.sku.as_str());
    let skus: Vec<&str> = items.iter().map(|i| i.sku.as_str()).collect();
    let descriptions: Vec<&str> = items.iter().map(|i| i.description.as_str()).collect();
    let uoms: Vec<&str> = items.iter().map(|i| i.uom.as_str()).collect();
    let lot_tracked: Vec<bool> = items.iter().map(|i| i.lot_tracked).collect();
    let expiry_tracked: Vec<bool> = items.iter().map(|i| i.expiry_tracked).collect();
    let serial_tracked: Vec<bool> = items.iter().map(|i| i.serial_tracked).collect();
    let temperatures: Vec<&str> = items.iter().map(|i| i.temperature.as_str()).collect();
    let stmt = tx
        .prepare_cached(
            "INSERT INTO items (tenant_id, sku, description, uom, lot_tracked, expiry_tracked, \
                 serial_tracked, temperature) \
             SELECT $1, u.sku, u.description, u.uom, u.lot_tracked, u.expiry_tracked, \
                 u.serial_tracked, u.temperature \
             FROM unnest($2::text[], $3::text[], $4::text[], $5::bool[], $6::bool[], $7::bool[], \
                 $8::text[]) \
                 AS u (sku, description, uom, lot_tracked, expiry_tracked, serial_tracked, \
                       temperature) \
             ON CONFLICT (tenant_id, sku) DO UPDATE SET description = excluded.description, \
                 uom = excluded.uom, lot_tracked = excluded.lot_tracked, \
                 expiry_tracked = excluded.expiry_tracked, \
                 serial_tracked = excluded.serial_tracked, \
                 temperature = excluded.temperature",
        )
        .await?;
    tx.execute(
        &stmt,
        &[
            &tenant,
            &skus,
            &descriptions,
            &uoms,
            &lot_tracked,
            &expiry_tracked,
            &serial_tracked,
            &temperatures,
        ],
    )
    .await?;

    let pairs: Vec<(&str, &str)> = items
        .iter()
        .flat_map(|i| i.gtins.iter().map(|g| (g.as_str(), i.sku.as_str())))
        .collect();
    let gtins: Vec<&str> = pairs.iter().map(|(g, _)| *g).collect();
    let gtin_skus: Vec<&str> = pairs.iter().map(|(_, s)| *s).collect();
    check_gtins(tx, tenant, all, &gtins).await?;
    let stmt = tx
        .prepare_cached("DELETE FROM item_gtins WHERE tenant_id = $1 AND sku = ANY($2)")
        .await?;
    tx.execute(&stmt, &[&tenant, &skus]).await?;
    if pairs.is_empty() {
        return Ok(());
    }
    let stmt = tx
        .prepare_cached(
            "INSERT INTO item_gtins (tenant_id, gtin, sku) \
             SELECT $1, u.gtin, u.sku FROM unnest($2::text[], $3::text[]) AS u (gtin, sku)",
        )
        .await?;
    tx.execute(&stmt, &[&tenant, &gtins, &gtin_skus]).await?;
    Ok(())
}

/// Refuses GTINs that belong to another item, exactly as importing the items
/// one by one would (SQLite's way): each item gives up its old GTINs, then
/// claims its new ones, so a GTIN may pass to an item later in the file but
/// not to an earlier one, and may not be listed twice.
async fn check_gtins(
    tx: &Transaction<'_>,
    tenant: i64,
    items: &[ItemRecord],
    gtins: &[&str],
) -> Result<()> {
    let stmt = tx
        .prepare_cached("SELECT gtin, sku FROM item_gtins WHERE tenant_id = $1 AND gtin = ANY($2)")
        .await?;
    // GTIN → item, and item → its GTINs, of the GTINs this import names.
    let mut owner: HashMap<String, String> = HashMap::new();
    let mut held: HashMap<String, Vec<String>> = HashMap::new();
    for r in tx.query(&stmt, &[&tenant, &gtins]).await? {
        let (gtin, sku): (String, String) = (r.try_get(0)?, r.try_get(1)?);
        held.entry(sku.clone()).or_default().push(gtin.clone());
        owner.insert(gtin, sku);
    }
    for item in items {
        for gtin in held.remove(&item.sku).unwrap_or_default() {
            owner.remove(&gtin);
        }
        for gtin in &item.gtins {
            if owner.contains_key(gtin) {
                return Err(StorageError::InvalidImport(format!(
                    "items.csv: GTIN {gtin} of {} already belongs to another item",
                    item.sku
                )));
            }
            owner.insert(gtin.clone(), item.sku.clone());
            held.entry(item.sku.clone()).or_default().push(gtin.clone());
        }
    }
    Ok(())
}

async fn import_locations(
    tx: &Transaction<'_>,
    tenant: i64,
    wh: i64,
    locations: &[LocationRecord],
) -> Result<()> {
    if locations.is_empty() {
        return Ok(());
    }
    let locations = last_of_each(locations, |l| l.code.as_str());
    let codes: Vec<&str> = locations.iter().map(|l| l.code.as_str()).collect();
    let zones: Vec<&str> = locations.iter().map(|l| l.zone.as_str()).collect();
    let temperatures: Vec<&str> = locations.iter().map(|l| l.temperature.as_str()).collect();
    let stmt = tx
        .prepare_cached(
            "INSERT INTO locations (tenant_id, warehouse_id, code, zone, temperature) \
             SELECT $1, $2, u.code, u.zone, u.temperature \
             FROM unnest($3::text[], $4::text[], $5::text[]) AS u (code, zone, temperature) \
             ON CONFLICT (tenant_id, warehouse_id, code) DO UPDATE SET zone = excluded.zone, \
                 temperature = excluded.temperature",
        )
        .await?;
    tx.execute(&stmt, &[&tenant, &wh, &codes, &zones, &temperatures])
        .await?;
    Ok(())
}

/// Opening balances are *set*: the movement is the difference to what the
/// ledger already holds, so a re-run moves nothing. Every row is checked
/// before anything is written; the first bad row is the error.
async fn import_stock(
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
    let skus: Vec<&str> = data.stock.iter().map(|r| r.sku.as_str()).collect();
    let codes: Vec<&str> = data.stock.iter().map(|r| r.location.as_str()).collect();
    let stock_lots: Vec<&str> = data
        .stock
        .iter()
        .map(|r| r.lot.as_deref().unwrap_or(""))
        .collect();
    let (item_rows, location_rows, stock_rows) = try_join!(
        async {
            let stmt = tx.prepare_cached(ITEMS_OF_SKUS).await?;
            tx.query(&stmt, &[&tenant, &skus]).await
        },
        async {
            let stmt = tx
                .prepare_cached(
                    "SELECT code FROM locations \
                     WHERE tenant_id = $1 AND warehouse_id = $2 AND code = ANY($3)",
                )
                .await?;
            tx.query(&stmt, &[&tenant, &wh, &codes]).await
        },
        async {
            let stmt = tx.prepare_cached(STOCK_OF_KEYS).await?;
            tx.query(&stmt, &[&tenant, &wh, &codes, &skus, &stock_lots])
                .await
        },
    )?;
    let mut items: HashMap<String, (bool, bool)> = HashMap::new();
    for r in item_rows {
        items.insert(r.try_get(0)?, (r.try_get(1)?, r.try_get(2)?));
    }
    let known_locations: HashSet<String> = location_rows
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    let mut current: HashMap<StockKey, i64> = HashMap::new();
    for r in stock_rows {
        let key = StockKey {
            location: r.try_get(0)?,
            sku: r.try_get(1)?,
            lot: r.try_get(2)?,
        };
        current.insert(key, r.try_get(3)?);
    }

    let op = Uuid::now_v7();
    let at = Utc::now();
    let mut lots: BTreeMap<(&str, &str), Option<NaiveDate>> = BTreeMap::new();
    let mut movements = Vec::new();
    let mut final_qty: BTreeMap<StockKey, i64> = BTreeMap::new();
    for row in &data.stock {
        let invalid = |msg: String| {
            StorageError::InvalidImport(format!("stock.csv line {}: {msg}", row.line))
        };
        let &(lot_tracked, expiry_tracked) = items
            .get(&row.sku)
            .ok_or_else(|| invalid(format!("sku: unknown SKU {}", row.sku)))?;
        if !known_locations.contains(&row.location) {
            return Err(invalid(format!(
                "location: unknown location {}",
                row.location
            )));
        }
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
        if let Some(lot) = &row.lot {
            // A lot's known expiry stays unless a row gives one.
            let expiry = lots.entry((row.sku.as_str(), lot.as_str())).or_default();
            *expiry = row.expiry.or(*expiry);
        }
        let key = StockKey::new(&row.location, &row.sku, row.lot.as_deref());
        summary.stock_rows += 1;
        let before = current.insert(key.clone(), row.qty).unwrap_or(0);
        let delta = row.qty - before;
        if delta == 0 {
            continue;
        }
        summary.movements += 1;
        movements.push(Movement {
            op,
            line: summary.movements as u32,
            key: key.clone(),
            delta,
            at,
        });
        final_qty.insert(key, row.qty);
        let record = StockRecord {
            location: row.location.clone(),
            sku: row.sku.clone(),
            lot: row.lot.clone(),
            expiry: row.expiry,
            qty: row.qty,
        };
        changes.push(ChangeRow {
            entity: Entity::Stock,
            key: StockRecord::key(&row.location, &row.sku, row.lot.as_deref()),
            data: (row.qty != 0).then(|| to_json(&record)),
        });
    }

    let (gone, kept): (Vec<_>, Vec<_>) = final_qty.iter().partition(|(_, qty)| **qty == 0);
    let gone: Vec<&StockKey> = gone.into_iter().map(|(key, _)| key).collect();
    let payload = serde_json::json!({ "rows": data.stock.len() }).to_string();
    try_join!(
        upsert_lots(tx, tenant, &lots),
        async {
            if movements.is_empty() {
                return Ok(());
            }
            let stmt = tx
                .prepare_cached(
                    "INSERT INTO operations \
                         (id, tenant_id, warehouse_id, operator, at, kind, payload) \
                     VALUES ($1, $2, $3, 'import', $4, 'opening_balance', $5)",
                )
                .await?;
            tx.execute(&stmt, &[&op, &tenant, &wh, &at, &payload])
                .await?;
            Ok(())
        },
        insert_movements(tx, tenant, wh, &movements),
        set_stock(tx, tenant, wh, &kept),
        delete_stock(tx, tenant, wh, &gone),
    )?;
    Ok(())
}

/// Records lots, keeping a known expiry unless a row gives one.
async fn upsert_lots(
    tx: &Transaction<'_>,
    tenant: i64,
    lots: &BTreeMap<(&str, &str), Option<NaiveDate>>,
) -> Result<()> {
    if lots.is_empty() {
        return Ok(());
    }
    let skus: Vec<&str> = lots.keys().map(|(sku, _)| *sku).collect();
    let names: Vec<&str> = lots.keys().map(|(_, lot)| *lot).collect();
    let expiries: Vec<Option<NaiveDate>> = lots.values().copied().collect();
    let stmt = tx
        .prepare_cached(
            "INSERT INTO lots (tenant_id, sku, lot, expiry) \
             SELECT $1, u.sku, u.lot, u.expiry FROM unnest($2::text[], $3::text[], $4::date[]) \
                 AS u (sku, lot, expiry) \
             ON CONFLICT (tenant_id, sku, lot) \
                 DO UPDATE SET expiry = COALESCE(excluded.expiry, lots.expiry)",
        )
        .await?;
    tx.execute(&stmt, &[&tenant, &skus, &names, &expiries])
        .await?;
    Ok(())
}

/// The SKUs among `skus` that name items of the tenant.
async fn known_skus(tx: &Transaction<'_>, tenant: i64, skus: &[&str]) -> Result<HashSet<String>> {
    let stmt = tx.prepare_cached(ITEMS_OF_SKUS).await?;
    tx.query(&stmt, &[&tenant, &skus])
        .await?
        .iter()
        .map(|r| Ok(r.try_get(0)?))
        .collect()
}

fn unknown_sku(file: &str, what: &str, sku: &str) -> StorageError {
    StorageError::InvalidImport(format!("{file}: {what}: unknown SKU {sku}"))
}

/// ASN lines: every line's SKU must be an item; upserting keeps what devices
/// already received against a line.
async fn import_asn_lines(
    tx: &Transaction<'_>,
    tenant: i64,
    wh: i64,
    lines: &[AsnLine],
    changes: &mut Vec<ChangeRow>,
) -> Result<()> {
    if lines.is_empty() {
        return Ok(());
    }
    let skus: Vec<&str> = lines.iter().map(|l| l.sku.as_str()).collect();
    let known = known_skus(tx, tenant, &skus).await?;
    if let Some(line) = lines.iter().find(|l| !known.contains(&l.sku)) {
        return Err(unknown_sku("asns.csv", &line.asn, &line.sku));
    }
    let lines = last_of_each(lines, |l| (l.asn.as_str(), l.line));
    let records = upsert_asn_lines(tx, tenant, wh, &lines).await?;
    changes.extend(records.iter().map(|record| ChangeRow {
        entity: Entity::AsnLine,
        key: format!("{}|{}", record.asn, record.line),
        data: Some(to_json(record)),
    }));
    Ok(())
}

/// Order lines: every line's SKU must be an item; upserting keeps their
/// status. Shared with the supervisor's new orders.
async fn import_order_lines(
    tx: &Transaction<'_>,
    tenant: i64,
    wh: i64,
    lines: &[OrderLine],
    changes: &mut Vec<ChangeRow>,
) -> Result<()> {
    if lines.is_empty() {
        return Ok(());
    }
    let skus: Vec<&str> = lines.iter().map(|l| l.sku.as_str()).collect();
    let known = known_skus(tx, tenant, &skus).await?;
    if let Some(line) = lines.iter().find(|l| !known.contains(&l.sku)) {
        return Err(unknown_sku("orders.csv", &line.order, &line.sku));
    }
    let lines = last_of_each(lines, |l| (l.order.as_str(), l.line));
    let records = upsert_order_lines(tx, tenant, wh, &lines).await?;
    changes.extend(records.iter().map(|record| ChangeRow {
        entity: Entity::Order,
        key: format!("{}|{}", record.order, record.line),
        data: Some(to_json(record)),
    }));
    Ok(())
}

async fn upsert_asn_lines(
    tx: &Transaction<'_>,
    tenant: i64,
    wh: i64,
    lines: &[&AsnLine],
) -> Result<Vec<AsnLineRecord>> {
    if lines.is_empty() {
        return Ok(Vec::new());
    }
    let asns: Vec<&str> = lines.iter().map(|l| l.asn.as_str()).collect();
    let numbers: Vec<i64> = lines.iter().map(|l| i64::from(l.line)).collect();
    let skus: Vec<&str> = lines.iter().map(|l| l.sku.as_str()).collect();
    let suppliers: Vec<&str> = lines.iter().map(|l| l.supplier.as_str()).collect();
    let expected: Vec<i64> = lines.iter().map(|l| l.expected_qty).collect();
    let stmt = tx
        .prepare_cached(
            "INSERT INTO asn_lines \
                 (tenant_id, warehouse_id, asn, line, sku, supplier, expected_qty) \
             SELECT $1, $2, u.asn, u.line, u.sku, u.supplier, u.expected_qty \
             FROM unnest($3::text[], $4::bigint[], $5::text[], $6::text[], $7::bigint[]) \
                 AS u (asn, line, sku, supplier, expected_qty) \
             ON CONFLICT (tenant_id, warehouse_id, asn, line) DO UPDATE SET sku = excluded.sku, \
                 supplier = excluded.supplier, expected_qty = excluded.expected_qty \
             RETURNING asn, line, sku, supplier, expected_qty, received_qty, damaged_qty, closed",
        )
        .await?;
    let rows = tx
        .query(
            &stmt,
            &[&tenant, &wh, &asns, &numbers, &skus, &suppliers, &expected],
        )
        .await?;
    // RETURNING promises no order: put the records back in the file's.
    let mut by_key = HashMap::with_capacity(rows.len());
    for r in &rows {
        let record = AsnLineRecord {
            asn: r.try_get(0)?,
            line: line_no(r.try_get(1)?)?,
            sku: r.try_get(2)?,
            supplier: r.try_get(3)?,
            expected_qty: r.try_get(4)?,
            received_qty: r.try_get(5)?,
            damaged_qty: r.try_get(6)?,
            closed: r.try_get(7)?,
        };
        by_key.insert((record.asn.clone(), record.line), record);
    }
    lines
        .iter()
        .map(|l| {
            by_key.remove(&(l.asn.clone(), l.line)).ok_or_else(|| {
                StorageError::Backend(format!("ASN {} line {} was not stored", l.asn, l.line))
            })
        })
        .collect()
}

async fn upsert_order_lines(
    tx: &Transaction<'_>,
    tenant: i64,
    wh: i64,
    lines: &[&OrderLine],
) -> Result<Vec<OrderLineRecord>> {
    if lines.is_empty() {
        return Ok(Vec::new());
    }
    let orders: Vec<&str> = lines.iter().map(|l| l.order.as_str()).collect();
    let numbers: Vec<i64> = lines.iter().map(|l| i64::from(l.line)).collect();
    let skus: Vec<&str> = lines.iter().map(|l| l.sku.as_str()).collect();
    let qtys: Vec<i64> = lines.iter().map(|l| l.qty).collect();
    let customers: Vec<&str> = lines.iter().map(|l| l.customer.as_str()).collect();
    let stmt = tx
        .prepare_cached(
            "INSERT INTO order_lines (tenant_id, warehouse_id, order_no, line, sku, qty, customer) \
             SELECT $1, $2, u.order_no, u.line, u.sku, u.qty, u.customer \
             FROM unnest($3::text[], $4::bigint[], $5::text[], $6::bigint[], $7::text[]) \
                 AS u (order_no, line, sku, qty, customer) \
             ON CONFLICT (tenant_id, warehouse_id, order_no, line) \
                 DO UPDATE SET sku = excluded.sku, \
                 qty = excluded.qty, customer = excluded.customer \
             RETURNING order_no, line, status",
        )
        .await?;
    let rows = tx
        .query(
            &stmt,
            &[&tenant, &wh, &orders, &numbers, &skus, &qtys, &customers],
        )
        .await?;
    let mut status = HashMap::with_capacity(rows.len());
    for r in &rows {
        let key: (String, u32) = (r.try_get(0)?, line_no(r.try_get(1)?)?);
        status.insert(key, r.try_get::<_, String>(2)?);
    }
    lines
        .iter()
        .map(|l| {
            let status = status.remove(&(l.order.clone(), l.line)).ok_or_else(|| {
                StorageError::Backend(format!("order {} line {} was not stored", l.order, l.line))
            })?;
            Ok(OrderLineRecord {
                order: l.order.clone(),
                line: l.line,
                sku: l.sku.clone(),
                qty: l.qty,
                customer: l.customer.clone(),
                status,
            })
        })
        .collect()
}

/// Order lines that have no tasks yet get pick tasks (FEFO), at once, and
/// each new order its fulfilment workflow. Returns the tasks.
async fn allocate_new_orders(
    tx: &Transaction<'_>,
    tenant: i64,
    wh: i64,
    changes: &mut Vec<ChangeRow>,
) -> Result<Vec<TaskRecord>> {
    let stmt = tx
        .prepare_cached(
            "SELECT o.order_no, o.line, o.sku, o.qty, o.customer, o.status FROM order_lines o \
             WHERE o.tenant_id = $1 AND o.warehouse_id = $2 AND o.status = 'open' \
                 AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.tenant_id = o.tenant_id \
                     AND t.warehouse_id = o.warehouse_id AND t.order_no = o.order_no \
                     AND t.line = o.line) \
             ORDER BY o.order_no, o.line",
        )
        .await?;
    let lines = tx
        .query(&stmt, &[&tenant, &wh])
        .await?
        .iter()
        .map(order_line_row)
        .collect::<Result<Vec<_>>>()?;
    let orders: BTreeSet<&str> = lines.iter().map(|l| l.order.as_str()).collect();
    for order in orders {
        super::workflow::start(tx, tenant, wh, order).await?;
    }
    let (tasks, _) = allocate(tx, tenant, wh, &lines, true, changes).await?;
    Ok(tasks)
}

pub(super) fn order_line_row(r: &tokio_postgres::Row) -> Result<OrderLineRecord> {
    Ok(OrderLineRecord {
        order: r.try_get(0)?,
        line: line_no(r.try_get(1)?)?,
        sku: r.try_get(2)?,
        qty: r.try_get(3)?,
        customer: r.try_get(4)?,
        status: r.try_get(5)?,
    })
}

/// A line allocation could not cover: (order, line, sku, units short).
pub(super) type Short = (String, u32, String, i64);

/// Pick tasks (FEFO) for `lines`; their orders become `allocated`. With
/// `raise_short`, a line stock cannot cover raises `allocation_short` (the
/// workflow's reserve retries do not raise it again).
pub(super) async fn allocate(
    tx: &Transaction<'_>,
    tenant: i64,
    wh: i64,
    lines: &[OrderLineRecord],
    raise_short: bool,
    changes: &mut Vec<ChangeRow>,
) -> Result<(Vec<TaskRecord>, Vec<Short>)> {
    if lines.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let skus: Vec<&str> = lines
        .iter()
        .map(|l| l.sku.as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let (candidate_rows, item_rows, next_task) = try_join!(
        async {
            let stmt = tx.prepare_cached(CANDIDATES_OF_SKUS).await?;
            tx.query(&stmt, &[&tenant, &wh, &skus]).await
        },
        async {
            let stmt = tx.prepare_cached(ITEMS_OF_SKUS).await?;
            tx.query(&stmt, &[&tenant, &skus]).await
        },
        async {
            let stmt = tx
                .prepare_cached(
                    "SELECT next_task, fefo FROM warehouses WHERE id = $2 AND tenant_id = $1",
                )
                .await?;
            tx.query_one(&stmt, &[&tenant, &wh]).await
        },
    )?;
    let fefo = crate::settings::Fefo::parse(next_task.try_get(1)?).unwrap_or_default();
    let mut candidates: HashMap<String, Vec<Candidate>> = HashMap::new();
    for r in &candidate_rows {
        let (sku, candidate) = candidate_row(r)?;
        candidates.entry(sku).or_default().push(candidate);
    }
    let mut expiry_tracked = HashMap::new();
    for r in &item_rows {
        expiry_tracked.insert(r.try_get::<_, String>(0)?, r.try_get::<_, bool>(2)?);
    }
    let next_task: i64 = next_task.try_get(0)?;
    let done = allocate_lines(
        lines,
        &mut candidates,
        &expiry_tracked,
        Utc::now().date_naive(),
        next_task as u64,
        fefo,
    );
    let tasks: Vec<&TaskRecord> = done.tasks.iter().collect();
    let orders: BTreeSet<&str> = lines.iter().map(|l| l.order.as_str()).collect();
    let allocated: Vec<(&str, &str)> = orders.into_iter().map(|o| (o, "allocated")).collect();
    let shorts = if raise_short {
        short_exceptions(&done.short)
    } else {
        Vec::new()
    };
    let ((), (), order_changes, ()) = try_join!(
        write_tasks(tx, tenant, wh, &tasks),
        set_next_task(tx, tenant, wh, done.next_task as i64),
        set_order_status(tx, tenant, wh, &allocated),
        insert_short_exceptions(tx, tenant, wh, &shorts),
    )?;
    changes.extend(done.tasks.iter().map(ChangeRow::task));
    changes.extend(order_changes);
    changes.extend(shorts.iter().map(ChangeRow::exception));
    // FEFO `warn`: a later lot was allocated while an earlier one waits.
    if raise_short && fefo == crate::settings::Fefo::Warn {
        for (order, _, sku, w) in &done.waiting {
            let ex = crate::domain::fefo_waiting_exception(order, sku, w);
            let stmt = tx
                .prepare_cached(
                    "INSERT INTO exceptions (id, tenant_id, warehouse_id, kind, message, order_no, \
                         location, sku, lot, raised_at) \
                     VALUES ($1::text::uuid, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .await?;
            tx.execute(
                &stmt,
                &[
                    &ex.id,
                    &tenant,
                    &wh,
                    &ex.kind,
                    &ex.message,
                    &ex.order,
                    &ex.location,
                    &ex.sku,
                    &ex.lot,
                    &ex.raised_at,
                ],
            )
            .await?;
            changes.push(ChangeRow::exception(&ex));
        }
    }
    Ok((done.tasks, done.short))
}

/// The exceptions of order lines allocation could not cover.
fn short_exceptions(short: &[(String, u32, String, i64)]) -> Vec<ExceptionRecord> {
    let now = Utc::now();
    short
        .iter()
        .map(|(order, line, sku, units)| ExceptionRecord {
            id: Uuid::now_v7().to_string(),
            kind: pyck_sync::records::ExceptionKind::AllocationShort
                .as_str()
                .into(),
            status: "open".into(),
            message: format!(
                "order {order} line {line}: {units} of {sku} could not be allocated \
                 (not enough pickable stock)"
            ),
            order: Some(order.clone()),
            asn: None,
            location: None,
            sku: Some(sku.clone()),
            lot: None,
            raised_at: now,
        })
        .collect()
}

async fn insert_short_exceptions(
    tx: &Transaction<'_>,
    tenant: i64,
    wh: i64,
    exceptions: &[ExceptionRecord],
) -> Result<()> {
    if exceptions.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = exceptions.iter().map(|e| e.id.as_str()).collect();
    let messages: Vec<&str> = exceptions.iter().map(|e| e.message.as_str()).collect();
    let orders: Vec<Option<&str>> = exceptions.iter().map(|e| e.order.as_deref()).collect();
    let skus: Vec<Option<&str>> = exceptions.iter().map(|e| e.sku.as_deref()).collect();
    let at = exceptions.first().map(|e| e.raised_at);
    let stmt = tx
        .prepare_cached(
            "INSERT INTO exceptions (id, tenant_id, warehouse_id, kind, message, order_no, sku, \
                 raised_at) \
             SELECT u.id::uuid, $1, $2, 'allocation_short', u.message, u.order_no, u.sku, $7 \
             FROM unnest($3::text[], $4::text[], $5::text[], $6::text[]) \
                 AS u (id, message, order_no, sku)",
        )
        .await?;
    tx.execute(&stmt, &[&tenant, &wh, &ids, &messages, &orders, &skus, &at])
        .await?;
    Ok(())
}

/// The role of an active operator, if the badge is known.
pub async fn operator_role(
    client: &ClientWrapper,
    tenant: i64,
    badge: &str,
) -> Result<Option<Role>> {
    let stmt = client
        .prepare_cached("SELECT role FROM operators WHERE tenant_id = $1 AND badge = $2 AND active")
        .await?;
    Ok(match client.query_opt(&stmt, &[&tenant, &badge]).await? {
        Some(row) => Role::parse(row.try_get(0)?),
        None => None,
    })
}
