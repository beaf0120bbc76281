-- pyck terminal store, version 6.
--
-- Which synced operations the replica already reflects is one number now,
-- `meta.replica_through`: every synced operation up to it (the local view
-- replays later ones on top of the replica). A per-row flag, set on every
-- operation after each complete pull, rewrote each synced row a second time
-- and moved it through an index of its own: about a tenth of the terminal's
-- work in a sync of 10,000 operations (issue 21). Synced operations not yet
-- flagged always came after the flagged ones (settling goes in sequence
-- order, and a re-queue clears the flag of everything from a point on), so
-- the number is where the first unflagged one starts.
INSERT INTO meta (key, value) VALUES ('replica_through', COALESCE(
    (SELECT MIN(seq) FROM journal WHERE status = 'synced' AND in_replica = 0) - 1,
    (SELECT MAX(seq) FROM journal WHERE status = 'synced'),
    0));
DROP INDEX journal_not_in_replica;
ALTER TABLE journal DROP COLUMN in_replica;
