-- The operation audit: who caused every event, in which role and request.
CREATE TABLE audit_log
(
    global_position BIGINT NOT NULL PRIMARY KEY,
    tx_id           BIGINT NOT NULL,
    event_id        TEXT   NOT NULL UNIQUE,
    aggregate_type  TEXT   NOT NULL,
    aggregate_id    TEXT   NOT NULL,
    sequence        BIGINT NOT NULL,
    event_type      TEXT   NOT NULL,
    actor_id        TEXT   NOT NULL,
    actor_role      TEXT   NOT NULL,
    correlation_id  TEXT   NOT NULL,
    causation_id    TEXT   NOT NULL,
    request_id      TEXT   NOT NULL,
    recorded_at     TEXT   NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log (actor_id, global_position);
CREATE INDEX audit_log_aggregate ON audit_log (aggregate_type, aggregate_id, sequence);
