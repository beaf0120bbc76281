-- Version 3 (PostgreSQL): every order's fulfilment workflow and the history
-- of its steps. The same shape as the SQLite schema's version 5.
CREATE TABLE workflows (
    tenant_id BIGINT NOT NULL,
    warehouse_id BIGINT NOT NULL,
    order_no TEXT COLLATE "C" NOT NULL,
    state TEXT NOT NULL,
    step TEXT NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 1,
    step_started_at TIMESTAMPTZ NOT NULL,
    -- When an engine looks at it next; NULL once finished.
    next_run_at TIMESTAMPTZ,
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    pick_overdue_raised BOOLEAN NOT NULL DEFAULT FALSE,
    -- The replica working on it, and until when: a lease, claimed with
    -- FOR UPDATE SKIP LOCKED; an expired lease is free for any replica.
    lease_owner TEXT,
    lease_until TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, warehouse_id, order_no)
);
CREATE INDEX workflows_due ON workflows (next_run_at) WHERE next_run_at IS NOT NULL;
CREATE INDEX workflows_order ON workflows (tenant_id, order_no);

CREATE TABLE workflow_history (
    tenant_id BIGINT NOT NULL,
    warehouse_id BIGINT NOT NULL,
    order_no TEXT COLLATE "C" NOT NULL,
    n INTEGER NOT NULL,
    step TEXT NOT NULL,
    status TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    error TEXT,
    PRIMARY KEY (tenant_id, warehouse_id, order_no, n)
);

-- Orders from before version 3 get a workflow where their status stands.
-- Shipped and cancelled ones are finished (no webhook for the past).
INSERT INTO workflows (tenant_id, warehouse_id, order_no, state, step, step_started_at, next_run_at)
SELECT tenant_id, warehouse_id, order_no,
       CASE MIN(status) WHEN 'shipped' THEN 'completed' WHEN 'cancelled' THEN 'compensated' ELSE 'running' END,
       CASE MIN(status) WHEN 'open' THEN 'reserve' WHEN 'allocated' THEN 'pick' WHEN 'packed' THEN 'ship'
                        WHEN 'shipped' THEN 'notify' ELSE 'compensate' END,
       now(),
       CASE WHEN MIN(status) IN ('shipped', 'cancelled') THEN NULL ELSE now() END
FROM order_lines GROUP BY tenant_id, warehouse_id, order_no;
