-- Unique business keys held by aggregate instances (domain/src/reservation.rs),
-- e.g. one open interview task per loan contract (001). The command bus writes
-- them in the same transaction as the events that take or give them back, so a
-- second claim is refused atomically; the rows are derived from the log.
CREATE TABLE reservations
(
    scope          TEXT NOT NULL,
    key            TEXT NOT NULL,
    aggregate_type TEXT NOT NULL,
    aggregate_id   TEXT NOT NULL,
    reserved_at    TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX reservations_holder ON reservations (aggregate_type, aggregate_id);

-- Tasks opened before this migration hold their contracts from now on (the
-- oldest open one wins where a contract already had several).
INSERT OR IGNORE INTO reservations (scope, key, aggregate_type, aggregate_id, reserved_at)
SELECT 'open-interview-task-per-contract',
       json_extract(c.payload, '$.InterviewTaskCreated.contract_no'),
       c.aggregate_type, c.aggregate_id, json_extract(c.metadata, '$.recorded_at')
  FROM events c
 WHERE c.aggregate_type = 'interview-task'
   AND c.event_type = 'InterviewTaskCreated'
   AND NOT EXISTS (SELECT 1
                     FROM events e
                    WHERE e.aggregate_type = c.aggregate_type
                      AND e.aggregate_id = c.aggregate_id
                      AND e.event_type IN ('InterviewTaskCancelled', 'InterviewTaskSuperseded'))
 ORDER BY c.global_position;

-- Idempotency keys of mutations (docs/security.md): the first outcome per
-- caller and key, kept for the retention period.
CREATE TABLE idempotency_keys
(
    actor_id        TEXT   NOT NULL,
    actor_role      TEXT   NOT NULL,
    idempotency_key TEXT   NOT NULL,
    request_hash    TEXT   NOT NULL,
    -- IN_FLIGHT while a request holds it (until locked_until), DONE once answered.
    state           TEXT   NOT NULL,
    locked_until    TEXT   NOT NULL,
    http_status     INTEGER,
    response        TEXT,
    created_at      TEXT   NOT NULL,
    expires_at      TEXT   NOT NULL,
    PRIMARY KEY (actor_id, actor_role, idempotency_key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

-- Each command a keyed request committed, written in the command's own
-- transaction: a retry after a lost answer (or a crash) is handed the stored
-- receipt instead of running the command again.
CREATE TABLE idempotent_commands
(
    actor_id        TEXT   NOT NULL,
    actor_role      TEXT   NOT NULL,
    idempotency_key TEXT   NOT NULL,
    step            INTEGER NOT NULL,
    aggregate_type  TEXT   NOT NULL,
    aggregate_id    TEXT   NOT NULL,
    sequence        INTEGER NOT NULL,
    event_ids       TEXT   NOT NULL,
    position        TEXT   NOT NULL,
    recorded_at     TEXT   NOT NULL,
    PRIMARY KEY (actor_id, actor_role, idempotency_key, step)
);
CREATE INDEX idempotent_commands_age ON idempotent_commands (recorded_at);
