-- Photo attachments (docs/ATTACHMENTS.md). The bytes live in the object
-- store; a row here means the whole photo is stored and its hash checked.
CREATE TABLE attachments (
    tenant_id BIGINT NOT NULL,
    sha256 TEXT COLLATE "C" NOT NULL,
    size BIGINT NOT NULL,
    content_type TEXT NOT NULL,
    stored_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, sha256)
);

-- What a photo documents: an exception, or an operation (a damaged receipt).
CREATE TABLE attachment_links (
    tenant_id BIGINT NOT NULL,
    warehouse_id BIGINT NOT NULL,
    target TEXT NOT NULL,
    target_id TEXT COLLATE "C" NOT NULL,
    sha256 TEXT COLLATE "C" NOT NULL,
    linked_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, warehouse_id, target, target_id, sha256)
);
