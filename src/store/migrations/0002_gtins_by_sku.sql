-- pyck terminal store, version 2.
--
-- Applying a pulled item replaces its GTINs (`DELETE FROM gtins WHERE sku =
-- ?`). Without an index on sku every such delete scans the whole table, so a
-- first sync of 10,000 items spent most of its time there (quadratic).
CREATE INDEX gtins_sku ON gtins (sku);
