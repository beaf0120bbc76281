-- pyck terminal store, version 3.
--
-- After every complete pull, `journal::mark_in_replica` flags the synced
-- operations the replica now reflects (`WHERE status = 'synced' AND
-- in_replica = 0`). Without an index that scanned the whole journal on every
-- sync: 170 ms for a device with 10^6 operations in its history, a cost
-- that grew with the device's history. This partial index holds only the
-- few rows waiting to be flagged.
CREATE INDEX journal_not_in_replica ON journal (seq) WHERE status = 'synced' AND in_replica = 0;
