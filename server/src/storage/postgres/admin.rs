//! Tenants, warehouses, operators, devices and imports on PostgreSQL.
//!
//! Every write of a tenant's warehouse records (operators, imports, orders,
//! count tasks, resolutions) takes the tenant's lock first and holds it until
//! it commits, as pushes do (see [`super::push::lock_tenant`]): the import
//! sets opening stock against what the ledger holds, allocation and count
//! tasks draw task numbers, and all of them write change-log rows.

use deadpool_postgres::ClientWrapper;
use pyck_vocab::records::Role;
use uuid::Uuid;

use super::is_unique_violation;
use crate::login::{Failures, OperatorLogin};
use crate::storage::{
    DeviceAuth, DeviceInfo, OperatorInfo, Result, StorageError, Tenant, Warehouse,
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
        .ok_or_else(|| StorageError::corrupt(format!("operator {badge}: unknown role {role:?}")))?;
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
                    StorageError::corrupt(format!("operator {badge}: unknown role {role:?}"))
                })?,
                badge,
                active: row.try_get(2)?,
                locked_until: row.try_get(3)?,
                warehouses: row.try_get(4)?,
            })
        })
        .collect()
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
