-- Version 6: per-warehouse settings beside count_threshold (version 2), and
-- the audit of every change. NULL means the server's default.
ALTER TABLE warehouses ADD COLUMN pick_deadline_secs INTEGER;
ALTER TABLE warehouses ADD COLUMN step_attempts INTEGER;
ALTER TABLE warehouses ADD COLUMN retry_base_ms INTEGER;
ALTER TABLE warehouses ADD COLUMN fefo TEXT NOT NULL DEFAULT 'warn';

CREATE TABLE settings_audit (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL,
    warehouse_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT,
    changed_by TEXT NOT NULL,
    changed_at TEXT NOT NULL
);
CREATE INDEX settings_audit_scope ON settings_audit (tenant_id, warehouse_id, id);
