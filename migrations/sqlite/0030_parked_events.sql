-- Events a worker could not apply (issue 33 item 4): tried again with a pause,
-- then parked here with the error while the worker goes on; an operator
-- retries or skips each (`facesign parked`). Not a read model: never rebuilt.
CREATE TABLE parked_events
(
    worker          TEXT    NOT NULL,
    tx_id           INTEGER  NOT NULL,
    global_position INTEGER  NOT NULL,
    event_id        TEXT    NOT NULL,
    aggregate_type  TEXT    NOT NULL,
    aggregate_id    TEXT    NOT NULL,
    sequence        INTEGER  NOT NULL,
    event_type      TEXT    NOT NULL,
    error           TEXT    NOT NULL,
    attempts        INTEGER  NOT NULL,
    -- PARKED, RETRIED or SKIPPED.
    status          TEXT    NOT NULL,
    parked_at       TEXT    NOT NULL,
    resolved_by     TEXT,
    resolved_at     TEXT,
    note            TEXT,
    PRIMARY KEY (worker, tx_id, global_position)
);
CREATE INDEX parked_events_status ON parked_events (status, worker);
