-- pyck terminal store, version 5.
--
-- Synced operations are now deleted from the journal after a retention
-- period (`journal::compact`; docs/OPERATIONS.md, "How long the terminal
-- keeps synced operations"), so a device's store stays bounded. Pending and
-- refused operations are never deleted. The idempotency keys of compacted
-- scripted rows stay here, so re-running an old script still records
-- nothing; `meta.seq_base` keeps the numbering going past deleted rows.
CREATE TABLE journal_refs (
    ref TEXT PRIMARY KEY,
    seq INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX journal_synced ON journal (recorded_at) WHERE status = 'synced';
