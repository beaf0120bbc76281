//! Tenants, warehouses, operators, devices and imports on SQLite.

use pyck_vocab::records::Role;
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::{now, parse_ts, ts};
use crate::login::{Failures, OperatorLogin};
use crate::storage::{
    DeviceAuth, DeviceInfo, OperatorInfo, Result, StorageError, Tenant, Warehouse,
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
        .ok_or_else(|| StorageError::corrupt(format!("operator {badge}: unknown role {role:?}")))?;
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
                    StorageError::corrupt(format!("operator {badge}: unknown role {role:?}"))
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
                        .map_err(|e| StorageError::corrupt(format!("bad device id {id:?}: {e}")))?,
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
