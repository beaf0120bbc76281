-- Version 2 (PostgreSQL): tasks (pick, putaway, count), per-warehouse
-- settings and task numbering, exception resolution. The same shape as the
-- SQLite schema's version 2.

CREATE TABLE tasks (
    tenant_id BIGINT NOT NULL,
    warehouse_id BIGINT NOT NULL,
    id TEXT COLLATE "C" NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    order_no TEXT COLLATE "C",
    line BIGINT,
    sku TEXT COLLATE "C",
    lot TEXT COLLATE "C",
    location TEXT COLLATE "C" NOT NULL,
    to_location TEXT COLLATE "C",
    qty BIGINT NOT NULL,
    done_qty BIGINT NOT NULL DEFAULT 0,
    zone TEXT COLLATE "C" NOT NULL,
    sequence BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, warehouse_id, id)
);
-- What open picks reserve, for allocation.
CREATE INDEX tasks_open_picks ON tasks (tenant_id, warehouse_id, sku)
    WHERE kind = 'pick' AND status = 'open';
-- Whether an order line has tasks yet.
CREATE INDEX tasks_order ON tasks (tenant_id, warehouse_id, order_no, line);

-- Where an item is, for allocation (SQLite scans the warehouse instead).
CREATE INDEX stock_sku ON stock (tenant_id, warehouse_id, sku);

-- NULL: any count difference goes to a supervisor.
ALTER TABLE warehouses ADD COLUMN count_threshold BIGINT;
ALTER TABLE warehouses ADD COLUMN next_task BIGINT NOT NULL DEFAULT 1;
