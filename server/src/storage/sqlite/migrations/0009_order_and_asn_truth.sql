-- What an ASN line had received when it was closed (NULL while open), so
-- `verify` can check that every receipt after the close raised an
-- exception; lines closed before this version count from what they hold now.
ALTER TABLE asn_lines ADD COLUMN closed_received_qty INTEGER;
ALTER TABLE asn_lines ADD COLUMN closed_damaged_qty INTEGER;
UPDATE asn_lines SET closed_received_qty = received_qty, closed_damaged_qty = damaged_qty WHERE closed = 1;
-- An order's exceptions hold its workflow (packed_with_open_picks,
-- shipped_unpacked): the workflow looks them up each time it polls. A late
-- receipt updates its ASN's open exceptions.
CREATE INDEX exceptions_by_order ON exceptions (tenant_id, warehouse_id, order_no) WHERE order_no IS NOT NULL;
CREATE INDEX exceptions_by_asn ON exceptions (tenant_id, warehouse_id, asn) WHERE asn IS NOT NULL AND status = 'open';
