-- Version 5: every order's fulfilment workflow and the history of its steps.
CREATE TABLE workflows (
    tenant_id INTEGER NOT NULL,
    warehouse_id INTEGER NOT NULL,
    order_no TEXT NOT NULL,
    state TEXT NOT NULL,
    step TEXT NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 1,
    step_started_at TEXT NOT NULL,
    -- When the engine looks at it next; NULL once finished.
    next_run_at TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    pick_overdue_raised INTEGER NOT NULL DEFAULT 0,
    -- The replica working on it, and until when (a lease, not a lock: an
    -- expired lease is free for any replica).
    lease_owner TEXT,
    lease_until TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, warehouse_id, order_no)
) WITHOUT ROWID;
CREATE INDEX workflows_due ON workflows (next_run_at) WHERE next_run_at IS NOT NULL;
CREATE INDEX workflows_order ON workflows (tenant_id, order_no);

CREATE TABLE workflow_history (
    tenant_id INTEGER NOT NULL,
    warehouse_id INTEGER NOT NULL,
    order_no TEXT NOT NULL,
    n INTEGER NOT NULL,
    step TEXT NOT NULL,
    status TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    at TEXT NOT NULL,
    error TEXT,
    PRIMARY KEY (tenant_id, warehouse_id, order_no, n)
) WITHOUT ROWID;

-- Orders from before version 5 get a workflow where their status stands.
-- Shipped and cancelled ones are finished (no webhook for the past).
INSERT INTO workflows (tenant_id, warehouse_id, order_no, state, step, step_started_at, next_run_at, created_at)
SELECT tenant_id, warehouse_id, order_no,
       CASE MIN(status) WHEN 'shipped' THEN 'completed' WHEN 'cancelled' THEN 'compensated' ELSE 'running' END,
       CASE MIN(status) WHEN 'open' THEN 'reserve' WHEN 'allocated' THEN 'pick' WHEN 'packed' THEN 'ship'
                        WHEN 'shipped' THEN 'notify' ELSE 'compensate' END,
       strftime('%Y-%m-%dT%H:%M:%S', 'now') || '.000000Z',
       CASE WHEN MIN(status) IN ('shipped', 'cancelled') THEN NULL ELSE strftime('%Y-%m-%dT%H:%M:%S', 'now') || '.000000Z' END,
       strftime('%Y-%m-%dT%H:%M:%S', 'now') || '.000000Z'
FROM order_lines GROUP BY tenant_id, warehouse_id, order_no;
