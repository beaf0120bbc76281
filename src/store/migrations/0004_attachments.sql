-- Photo attachments (docs/ATTACHMENTS.md), kept here until the server has
-- them: the bytes, and how many of them the server acknowledged.
CREATE TABLE attachments (
    sha256 TEXT PRIMARY KEY,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    -- size once the server holds the whole photo
    sent INTEGER NOT NULL DEFAULT 0,
    added_at TEXT NOT NULL
);

-- What each photo documents; linked = 1 once the server has the link.
CREATE TABLE attachment_links (
    sha256 TEXT NOT NULL REFERENCES attachments (sha256),
    target TEXT NOT NULL,
    target_id TEXT NOT NULL,
    linked INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (sha256, target, target_id)
);
