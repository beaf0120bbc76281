-- The device operation a workflow step's completion rests on (the last
-- pick, the pack, the ship), so an order's history names the scans that
-- moved it; and the index that finds them by order.
ALTER TABLE workflow_history ADD COLUMN operation UUID;
CREATE INDEX operations_by_order ON operations (tenant_id, warehouse_id, ((payload::jsonb) ->> 'order'))
    WHERE kind IN ('pick', 'short_pick', 'pack', 'ship') AND refusal_code IS NULL;
