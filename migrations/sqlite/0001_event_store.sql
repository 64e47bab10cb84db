-- The event store: the table sqlite-es writes to, extended with the global log.
-- SQLite has one writer at a time, so the order positions are handed out in is
-- the commit order and needs no transaction id. The primary key stays the one
-- sqlite-es expects: its optimistic-lock detection relies on the primary-key
-- constraint error.
CREATE TABLE events
(
    aggregate_type  TEXT    NOT NULL,
    aggregate_id    TEXT    NOT NULL,
    sequence        INTEGER NOT NULL CHECK (sequence > 0),
    event_type      TEXT    NOT NULL,
    event_version   TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    metadata        TEXT    NOT NULL,
    global_position INTEGER UNIQUE,
    event_id        TEXT GENERATED ALWAYS AS (json_extract(metadata, '$.event_id')) STORED NOT NULL,
    recorded_at     TEXT GENERATED ALWAYS AS (json_extract(metadata, '$.recorded_at')) STORED NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
) STRICT;

CREATE UNIQUE INDEX events_event_id ON events (event_id);

-- Not rowid: VACUUM may renumber rowids, a stored position never moves.
CREATE TRIGGER events_global_position
    AFTER INSERT ON events
BEGIN
    UPDATE events
    SET global_position = (SELECT COALESCE(MAX(global_position), 0) + 1 FROM events)
    WHERE rowid = NEW.rowid;
END;

-- Events are never updated or deleted: corrections are new events.
CREATE TRIGGER events_append_only_update
    BEFORE UPDATE ON events
    WHEN OLD.global_position IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: UPDATE refused');
END;

CREATE TRIGGER events_append_only_delete
    BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: DELETE refused');
END;
