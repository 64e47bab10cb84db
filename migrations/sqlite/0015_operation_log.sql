-- The operation log (操作留痕, 001 2.3.1.3, 2.4.2.3, 2.4.3.3): refused commands
-- and reads of unmasked personal data. Not events: nothing happened to any
-- aggregate. Append-only, like the event log.
CREATE TABLE operation_log
(
    entry_id    INTEGER PRIMARY KEY AUTOINCREMENT,
    recorded_at TEXT NOT NULL,
    kind        TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    actor_role  TEXT NOT NULL,
    operation   TEXT NOT NULL,
    target      TEXT NOT NULL,
    code        TEXT,
    detail      TEXT NOT NULL,
    request_id  TEXT NOT NULL
);
CREATE INDEX operation_log_actor ON operation_log (actor_id, entry_id);
CREATE INDEX operation_log_operation ON operation_log (operation, entry_id);
CREATE INDEX operation_log_time ON operation_log (recorded_at);

CREATE TRIGGER operation_log_append_only_update
    BEFORE UPDATE ON operation_log
BEGIN
    SELECT RAISE(ABORT, 'the operation log is append-only: UPDATE refused');
END;

CREATE TRIGGER operation_log_append_only_delete
    BEFORE DELETE ON operation_log
BEGIN
    SELECT RAISE(ABORT, 'the operation log is append-only: DELETE refused');
END;
