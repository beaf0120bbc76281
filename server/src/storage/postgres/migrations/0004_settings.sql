-- Version 4 (PostgreSQL): per-warehouse settings beside count_threshold
-- (version 2), and the audit of every change. NULL means the server's
-- default. The same shape as the SQLite schema's version 6.
ALTER TABLE warehouses ADD COLUMN pick_deadline_secs BIGINT;
ALTER TABLE warehouses ADD COLUMN step_attempts BIGINT;
ALTER TABLE warehouses ADD COLUMN retry_base_ms BIGINT;
ALTER TABLE warehouses ADD COLUMN fefo TEXT NOT NULL DEFAULT 'warn';

CREATE TABLE settings_audit (
    id BIGSERIAL PRIMARY KEY,
    tenant_id BIGINT NOT NULL,
    warehouse_id BIGINT NOT NULL,
    key TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT,
    changed_by TEXT NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX settings_audit_scope ON settings_audit (tenant_id, warehouse_id, id);
