-- The same index as before, with its predicate spelt as comparisons. SQLite
-- evaluates a partial index's predicate on every insert; `kind IN (…)` made
-- it build and drop a throw-away B-tree of the four names each time (about a
-- third of the cost of inserting an operation, issue 21), where `=` terms
-- are four compares. The query that uses the index (`order_operation`)
-- repeats this predicate word for word, as SQLite requires to use it.
DROP INDEX operations_by_order;
CREATE INDEX operations_by_order ON operations (tenant_id, warehouse_id, json_extract(payload, '$.order'))
    WHERE (kind = 'pick' OR kind = 'short_pick' OR kind = 'pack' OR kind = 'ship') AND refusal_code IS NULL;
