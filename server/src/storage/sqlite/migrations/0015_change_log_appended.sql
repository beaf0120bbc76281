-- The change log's order kept apart from its records (issue 21). Until now
-- `changes` held each record's latest state at its key, and the index
-- `changes_position` ordered them for the pull: every record a push changed
-- again moved its index entry from an old position, anywhere in the index,
-- to the end, and each of those pages went to the log whole (a third of
-- the pages a 10,000-move push wrote). Now the positions are appended to
-- `change_log`, a record's latest position stays with its state in
-- `changes`, and an entry whose record has moved on is stale: the pull
-- skips it, and each write sweeps stale entries from the next stretch of
-- the log (docs/PROTOCOL.md, "Pull").
CREATE TABLE change_log (
    tenant_id INTEGER NOT NULL,
    position INTEGER NOT NULL,
    warehouse_id INTEGER NOT NULL,
    entity TEXT NOT NULL,
    key TEXT NOT NULL,
    PRIMARY KEY (tenant_id, position)
) WITHOUT ROWID;
INSERT INTO change_log (tenant_id, position, warehouse_id, entity, key)
    SELECT tenant_id, position, warehouse_id, entity, key FROM changes;
DROP INDEX changes_position;
-- Where the sweep of stale entries goes on from.
ALTER TABLE tenants ADD COLUMN change_log_swept INTEGER NOT NULL DEFAULT 0;
