-- pyck terminal store, version 1.

-- Small settings of this device: device id, cursor, last sync, last error.
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- This device's operations, in its own gap-free sequence. Rows are never
-- deleted: `pyck journal` shows what was recorded and how it was settled.
CREATE TABLE journal (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    at TEXT NOT NULL,
    operator TEXT NOT NULL,
    payload TEXT NOT NULL,
    -- Idempotency key of a scripted row: re-running a script records nothing new.
    ref TEXT UNIQUE,
    -- pending | synced | refused
    status TEXT NOT NULL DEFAULT 'pending',
    refusal_code TEXT,
    refusal_message TEXT,
    -- 1 once a pull has brought the server state that includes this operation,
    -- so the local view stops replaying it on top of the replica.
    in_replica INTEGER NOT NULL DEFAULT 0,
    recorded_at TEXT NOT NULL
);
CREATE INDEX journal_unsettled ON journal (status, seq) WHERE status = 'pending';

-- The replica: what pulls brought.
CREATE TABLE items (
    sku TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    uom TEXT NOT NULL,
    lot_tracked INTEGER NOT NULL,
    expiry_tracked INTEGER NOT NULL,
    temperature TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE gtins (
    gtin TEXT PRIMARY KEY,
    sku TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE locations (
    code TEXT PRIMARY KEY,
    zone TEXT NOT NULL,
    temperature TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE stock (
    location TEXT NOT NULL,
    sku TEXT NOT NULL,
    lot TEXT NOT NULL,
    expiry TEXT,
    qty INTEGER NOT NULL,
    PRIMARY KEY (location, sku, lot)
) WITHOUT ROWID;
CREATE INDEX stock_sku ON stock (sku);

CREATE TABLE operators (
    badge TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    pin_hash TEXT NOT NULL,
    active INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE asn_lines (
    asn TEXT NOT NULL,
    line INTEGER NOT NULL,
    sku TEXT NOT NULL,
    supplier TEXT NOT NULL,
    expected_qty INTEGER NOT NULL,
    received_qty INTEGER NOT NULL,
    damaged_qty INTEGER NOT NULL,
    closed INTEGER NOT NULL,
    PRIMARY KEY (asn, line)
) WITHOUT ROWID;

CREATE TABLE order_lines (
    order_no TEXT NOT NULL,
    line INTEGER NOT NULL,
    sku TEXT NOT NULL,
    qty INTEGER NOT NULL,
    customer TEXT NOT NULL,
    status TEXT NOT NULL,
    PRIMARY KEY (order_no, line)
) WITHOUT ROWID;

-- Records whose shape the terminal only passes through (tasks, exceptions).
CREATE TABLE records (
    entity TEXT NOT NULL,
    key TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (entity, key)
) WITHOUT ROWID;

-- The operator logged in on this device (at most one).
CREATE TABLE session (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    badge TEXT NOT NULL,
    role TEXT NOT NULL,
    since TEXT NOT NULL
);

-- Wrong PINs per badge, for the lock-out.
CREATE TABLE login_failures (
    badge TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    locked_until TEXT
) WITHOUT ROWID;
