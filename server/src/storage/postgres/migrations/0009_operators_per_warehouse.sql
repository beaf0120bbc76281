-- Version 9: operators belong to warehouses, and the PINs of supervisors
-- and admins stay on the server (as SQLite version 11).
--
-- An operator with rows here is pulled only by devices of those
-- warehouses (their change-log rows are written per warehouse); one
-- without rows works in every warehouse of the tenant (warehouse 0 in the
-- change log), which is what every operator created before was.
CREATE TABLE operator_warehouses (
    tenant_id BIGINT NOT NULL,
    badge TEXT COLLATE "C" NOT NULL,
    warehouse_id BIGINT NOT NULL REFERENCES warehouses (id),
    PRIMARY KEY (tenant_id, badge, warehouse_id),
    FOREIGN KEY (tenant_id, badge) REFERENCES operators (tenant_id, badge)
);

-- Online PIN checks count wrong PINs here, so every replica sees the lock.
ALTER TABLE operators ADD COLUMN failed_logins BIGINT NOT NULL DEFAULT 0;
ALTER TABLE operators ADD COLUMN locked_until TIMESTAMPTZ;

-- Devices already hold supervisors' and admins' hashes: send those records
-- again without the hash, at fresh positions so every device pulls them.
WITH power AS (
    SELECT tenant_id, warehouse_id, entity, key,
           row_number() OVER (PARTITION BY tenant_id ORDER BY warehouse_id, key) AS n
    FROM changes
    WHERE entity = 'operator' AND (data::jsonb ->> 'role') IN ('supervisor', 'admin')
)
UPDATE changes AS c
SET data = jsonb_set(c.data::jsonb, '{pin_hash}', '""')::text,
    position = t.change_position + power.n
FROM power, tenants AS t
WHERE c.tenant_id = power.tenant_id AND c.warehouse_id = power.warehouse_id
  AND c.entity = power.entity AND c.key = power.key AND t.id = c.tenant_id;

UPDATE tenants AS t
SET change_position = t.change_position + n.count
FROM (SELECT tenant_id, COUNT(*) AS count FROM changes
      WHERE entity = 'operator' AND (data::jsonb ->> 'role') IN ('supervisor', 'admin')
      GROUP BY tenant_id) AS n
WHERE n.tenant_id = t.id;
