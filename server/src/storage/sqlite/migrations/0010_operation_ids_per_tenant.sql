-- Version 10: operation ids are unique per tenant, not per server. With
-- `id` the primary key, a device of any tenant that pushed an id first made
-- every later push of the operation's own device fail (a restored device
-- re-sending what the server lost), and a batch with one id twice failed
-- whole, which told another tenant whether an id existed. The planner now
-- refuses a taken id as `duplicate_id` and stores that refusal under a fresh
-- id, keeping the device's in `sent_id` so a re-send finds it. The ledger is
-- keyed by tenant too, so two tenants' operations of one id never collide.
CREATE TABLE operations_v10 (
    id TEXT NOT NULL,
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
    received_at TEXT NOT NULL,
    sent_id TEXT,
    PRIMARY KEY (tenant_id, id)
);
INSERT INTO operations_v10 (id, tenant_id, warehouse_id, device_id, seq, operator, at, kind, payload,
                            refusal_code, refusal_message, received_at)
    SELECT id, tenant_id, warehouse_id, device_id, seq, operator, at, kind, payload,
           refusal_code, refusal_message, received_at FROM operations;
DROP TABLE operations;
ALTER TABLE operations_v10 RENAME TO operations;
CREATE UNIQUE INDEX operations_device_seq ON operations (device_id, seq) WHERE device_id IS NOT NULL;
CREATE INDEX operations_by_order ON operations (tenant_id, warehouse_id, json_extract(payload, '$.order'))
    WHERE kind IN ('pick', 'short_pick', 'pack', 'ship') AND refusal_code IS NULL;

CREATE TABLE movements_v10 (
    tenant_id INTEGER NOT NULL,
    warehouse_id INTEGER NOT NULL,
    op_id TEXT NOT NULL,
    line INTEGER NOT NULL,
    location TEXT NOT NULL,
    sku TEXT NOT NULL,
    lot TEXT NOT NULL,
    delta INTEGER NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, op_id, line)
) WITHOUT ROWID;
INSERT INTO movements_v10 (tenant_id, warehouse_id, op_id, line, location, sku, lot, delta, at)
    SELECT tenant_id, warehouse_id, op_id, line, location, sku, lot, delta, at FROM movements;
DROP TABLE movements;
ALTER TABLE movements_v10 RENAME TO movements;

-- Times no query can read: before version 10 an operation dated after year
-- 9999 (stored as `+10000-…`) or before year 1 was applied, and every report
-- that read it failed. Such a time cannot have been true; the server's
-- receipt time stands in for it (docs/PROTOCOL.md, "The time window").
-- Readable but implausible times (year 0001, 9999) are left as they were.
UPDATE movements SET at = (SELECT o.received_at FROM operations o
                           WHERE o.tenant_id = movements.tenant_id AND o.id = movements.op_id)
    WHERE at NOT GLOB '[0-9][0-9][0-9][0-9]-*'
      AND EXISTS (SELECT 1 FROM operations o WHERE o.tenant_id = movements.tenant_id AND o.id = movements.op_id);
UPDATE exceptions SET raised_at = (SELECT o.received_at FROM operations o
                                   WHERE o.tenant_id = exceptions.tenant_id AND o.id = exceptions.op_id)
    WHERE raised_at NOT GLOB '[0-9][0-9][0-9][0-9]-*'
      AND EXISTS (SELECT 1 FROM operations o WHERE o.tenant_id = exceptions.tenant_id AND o.id = exceptions.op_id);
UPDATE operations SET at = received_at WHERE at NOT GLOB '[0-9][0-9][0-9][0-9]-*';
