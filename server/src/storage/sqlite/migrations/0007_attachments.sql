-- Photo attachments (docs/ATTACHMENTS.md). The bytes live in the object
-- store; a row here means the whole photo is stored and its hash checked.
CREATE TABLE attachments (
    tenant_id INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    stored_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, sha256)
) WITHOUT ROWID;

-- What a photo documents: an exception, or an operation (a damaged receipt).
CREATE TABLE attachment_links (
    tenant_id INTEGER NOT NULL,
    warehouse_id INTEGER NOT NULL,
    target TEXT NOT NULL,
    target_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    linked_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, warehouse_id, target, target_id, sha256)
) WITHOUT ROWID;
