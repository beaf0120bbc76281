-- The transactional outbox (docs/PROTOCOL.md, "Live events"): the live
-- events of a write, one row per committed write, committed in the same
-- transaction as the change they describe. The relay publishes a row's
-- events after commit and then deletes the row, so a full queue, a dead
-- NATS or a crash between commit and publish delays events, never loses
-- them. `events` is a JSON array of events without their ids; the relay
-- names the n-th `<id>.<n>`. Ids are not commit-ordered across concurrent
-- writers: the relay takes every row still present, whatever its id.
CREATE TABLE outbox (
    id BIGSERIAL PRIMARY KEY,
    tenant BIGINT NOT NULL,
    events TEXT NOT NULL
);
