-- `/readyz` commits an upsert of this one row to prove the replica can
-- write (docs/OPERATIONS.md, "Readiness"); nothing reads it.
CREATE TABLE readiness_probe (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    probed_at TIMESTAMPTZ NOT NULL
);
