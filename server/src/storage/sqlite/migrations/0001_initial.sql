-- pyck-server schema, version 1 (SQLite).
-- Every table carries tenant_id and every key starts with it: no query can
-- reach across tenants by accident.

CREATE TABLE tenants (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    -- Highest change-log position handed out for this tenant.
    change_position INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

CREATE TABLE warehouses (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    code TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (tenant_id, code)
);

CREATE TABLE operators (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    badge TEXT NOT NULL,
    role TEXT NOT NULL,
    pin_hash TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (tenant_id, badge)
) WITHOUT ROWID;

CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    warehouse_id INTEGER NOT NULL REFERENCES warehouses(id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    revoked_at TEXT,
    -- Highest settled sequence number: the device's gap-free frontier.
    last_seq INTEGER NOT NULL DEFAULT 0,
    last_contact TEXT,
    backlog INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

CREATE TABLE items (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    sku TEXT NOT NULL,
    description TEXT NOT NULL,
    uom TEXT NOT NULL,
    lot_tracked INTEGER NOT NULL,
    expiry_tracked INTEGER NOT NULL,
    serial_tracked INTEGER NOT NULL DEFAULT 0,
    temperature TEXT NOT NULL,
    PRIMARY KEY (tenant_id, sku)
) WITHOUT ROWID;

CREATE TABLE item_gtins (
    tenant_id INTEGER NOT NULL,
    gtin TEXT NOT NULL,
    sku TEXT NOT NULL,
    PRIMARY KEY (tenant_id, gtin),
    FOREIGN KEY (tenant_id, sku) REFERENCES items(tenant_id, sku)
) WITHOUT ROWID;

CREATE TABLE locations (
    tenant_id INTEGER NOT NULL,
    warehouse_id INTEGER NOT NULL REFERENCES warehouses(id),
    code TEXT NOT NULL,
    zone TEXT NOT NULL,
    temperature TEXT NOT NULL,
    PRIMARY KEY (tenant_id, warehouse_id, code)
) WITHOUT ROWID;

CREATE TABLE lots (
    tenant_id INTEGER NOT NULL,
    sku TEXT NOT NULL,
    lot TEXT NOT NULL,
    expiry TEXT,
    PRIMARY KEY (tenant_id, sku, lot)
) WITHOUT ROWID;

-- The projection of the movement ledger. lot is '' for items without lots.
CREATE TABLE stock (
    tenant_id INTEGER NOT NULL,
    warehouse_id INTEGER NOT NULL,
    location TEXT NOT NULL,
    sku TEXT NOT NULL,
    lot TEXT NOT NULL,
    qty INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, warehouse_id, location, sku, lot)
) WITHOUT ROWID;

-- Every operation a device pushed and the server settled (applied or
-- refused), plus the server's own (imports), which have no device.
CREATE TABLE operations (
    id TEXT PRIMARY KEY,
    tenant_id INTEGER NOT NULL,
    warehouse_id INTEGER NOT NULL,
    device_id TEXT,
    seq INTEGER,
    operator TEXT NOT NULL,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    refusal_code TEXT,
    refusal_message TEXT,
    received_at TEXT NOT NULL
);
CREATE UNIQUE INDEX operations_device_seq ON operations (device_id, seq) WHERE device_id IS NOT NULL;

-- Append-only: rows are inserted, never updated or deleted.
CREATE TABLE movements (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL,
    warehouse_id INTEGER NOT NULL,
    op_id TEXT NOT NULL REFERENCES operations(id),
    line INTEGER NOT NULL,
    location TEXT NOT NULL,
    sku TEXT NOT NULL,
    lot TEXT NOT NULL,
    delta INTEGER NOT NULL,
    at TEXT NOT NULL,
    UNIQUE (op_id, line)
);
CREATE INDEX movements_key ON movements (tenant_id, warehouse_id, location, sku, lot);

CREATE TABLE asn_lines (
    tenant_id INTEGER NOT NULL,
    warehouse_id INTEGER NOT NULL,
    asn TEXT NOT NULL,
    line INTEGER NOT NULL,
    sku TEXT NOT NULL,
    supplier TEXT NOT NULL,
    expected_qty INTEGER NOT NULL,
    received_qty INTEGER NOT NULL DEFAULT 0,
    damaged_qty INTEGER NOT NULL DEFAULT 0,
    closed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, warehouse_id, asn, line)
) WITHOUT ROWID;

CREATE TABLE order_lines (
    tenant_id INTEGER NOT NULL,
    warehouse_id INTEGER NOT NULL,
    order_no TEXT NOT NULL,
    line INTEGER NOT NULL,
    sku TEXT NOT NULL,
    qty INTEGER NOT NULL,
    customer TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    PRIMARY KEY (tenant_id, warehouse_id, order_no, line)
) WITHOUT ROWID;

CREATE TABLE exceptions (
    id TEXT PRIMARY KEY,
    tenant_id INTEGER NOT NULL,
    warehouse_id INTEGER NOT NULL,
    op_id TEXT,
    kind TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    message TEXT NOT NULL,
    order_no TEXT,
    asn TEXT,
    location TEXT,
    sku TEXT,
    lot TEXT,
    raised_at TEXT NOT NULL,
    resolved_at TEXT,
    resolution_note TEXT
);
CREATE INDEX exceptions_scope ON exceptions (tenant_id, warehouse_id, status);

-- The pull: the latest state of every record a device may need, one row per
-- record (so the log compacts itself), positioned by a per-tenant counter.
-- warehouse_id 0 marks tenant-wide records (items, operators).
CREATE TABLE changes (
    tenant_id INTEGER NOT NULL,
    warehouse_id INTEGER NOT NULL,
    entity TEXT NOT NULL,
    key TEXT NOT NULL,
    position INTEGER NOT NULL,
    data TEXT,
    PRIMARY KEY (tenant_id, warehouse_id, entity, key)
) WITHOUT ROWID;
CREATE INDEX changes_position ON changes (tenant_id, position);
