-- Version 8: operation ids are unique per tenant, not per server. With `id`
-- the primary key, a device of any tenant that pushed an id first made every
-- later push of the operation's own device fail (a restored device re-sending
-- what the server lost), and a batch with one id twice failed whole, which
-- told another tenant whether an id existed. The planner now refuses a taken
-- id as `duplicate_id` and stores that refusal under a fresh id, keeping the
-- device's in `sent_id` so a re-send finds it. The ledger is keyed by
-- (tenant_id, op_id, line) already.
ALTER TABLE operations DROP CONSTRAINT operations_pkey;
ALTER TABLE operations ADD PRIMARY KEY (tenant_id, id);
ALTER TABLE operations ADD COLUMN sent_id UUID;

-- Times outside years 1..9999: before version 8 an operation dated so was
-- applied, and reports that read it failed. Such a time cannot have been
-- true; the server's receipt time stands in for it (docs/PROTOCOL.md, "The
-- time window"). Readable but implausible times are left as they were.
UPDATE movements m SET at = o.received_at FROM operations o
    WHERE o.tenant_id = m.tenant_id AND o.id = m.op_id
      AND (m.at >= '10000-01-01T00:00:00Z' OR m.at < '0001-01-01T00:00:00Z');
UPDATE exceptions e SET raised_at = o.received_at FROM operations o
    WHERE o.tenant_id = e.tenant_id AND o.id = e.op_id
      AND (e.raised_at >= '10000-01-01T00:00:00Z' OR e.raised_at < '0001-01-01T00:00:00Z');
UPDATE operations SET at = received_at
    WHERE at >= '10000-01-01T00:00:00Z' OR at < '0001-01-01T00:00:00Z';
