-- Version 2: tasks (pick, putaway, count), per-warehouse settings and task
-- numbering, exception resolution.

CREATE TABLE tasks (
    tenant_id INTEGER NOT NULL,
    warehouse_id INTEGER NOT NULL,
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    order_no TEXT,
    line INTEGER,
    sku TEXT,
    lot TEXT,
    location TEXT NOT NULL,
    to_location TEXT,
    qty INTEGER NOT NULL,
    done_qty INTEGER NOT NULL DEFAULT 0,
    zone TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, warehouse_id, id)
) WITHOUT ROWID;
CREATE INDEX tasks_open_picks ON tasks (tenant_id, warehouse_id, sku) WHERE kind = 'pick' AND status = 'open';
CREATE INDEX tasks_order ON tasks (tenant_id, warehouse_id, order_no, line);

-- NULL: any count difference goes to a supervisor.
ALTER TABLE warehouses ADD COLUMN count_threshold INTEGER;
ALTER TABLE warehouses ADD COLUMN next_task INTEGER NOT NULL DEFAULT 1;
