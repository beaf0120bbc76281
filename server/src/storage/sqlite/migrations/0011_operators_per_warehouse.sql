-- Version 11: operators belong to warehouses, and the PINs of supervisors
-- and admins stay on the server.
--
-- An operator with rows here is pulled only by devices of those
-- warehouses (their change-log rows are written per warehouse); one
-- without rows works in every warehouse of the tenant (warehouse 0 in the
-- change log), which is what every operator created before was.
CREATE TABLE operator_warehouses (
    tenant_id INTEGER NOT NULL,
    badge TEXT NOT NULL,
    warehouse_id INTEGER NOT NULL REFERENCES warehouses(id),
    PRIMARY KEY (tenant_id, badge, warehouse_id),
    FOREIGN KEY (tenant_id, badge) REFERENCES operators(tenant_id, badge)
) WITHOUT ROWID;

-- Online PIN checks count wrong PINs here, so every replica sees the lock.
ALTER TABLE operators ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE operators ADD COLUMN locked_until TEXT;

-- Devices already hold supervisors' and admins' hashes: send those records
-- again without the hash, at fresh positions so every device pulls them.
-- Every operator row is tenant-wide (warehouse 0) before this version, so
-- the badge orders them uniquely within a tenant.
UPDATE changes
SET data = json_set(data, '$.pin_hash', ''),
    position = (SELECT change_position FROM tenants WHERE tenants.id = changes.tenant_id)
        + (SELECT COUNT(*) FROM changes AS c
           WHERE c.tenant_id = changes.tenant_id AND c.entity = 'operator'
             AND json_extract(c.data, '$.role') IN ('supervisor', 'admin')
             AND c.key <= changes.key)
WHERE entity = 'operator' AND json_extract(data, '$.role') IN ('supervisor', 'admin');

UPDATE tenants
SET change_position = change_position
    + (SELECT COUNT(*) FROM changes
       WHERE changes.tenant_id = tenants.id AND entity = 'operator'
         AND json_extract(data, '$.role') IN ('supervisor', 'admin'));
