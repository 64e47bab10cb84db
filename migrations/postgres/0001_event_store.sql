-- The event store: the table postgres-es writes to, extended with the global log.
-- postgres-es inserts (aggregate_type, aggregate_id, sequence, event_type,
-- event_version, payload, metadata); everything else is filled here so that
-- every writer, ours or not, produces a complete envelope.
CREATE TABLE events
(
    aggregate_type  text        NOT NULL,
    aggregate_id    text        NOT NULL,
    sequence        bigint      NOT NULL CHECK (sequence > 0),
    event_type      text        NOT NULL,
    event_version   text        NOT NULL,
    payload         jsonb       NOT NULL,
    metadata        jsonb       NOT NULL,
    -- Taken inside the writing transaction, so it may be lower than a position
    -- already committed by a faster transaction: readers order by (tx_id, global_position)
    -- and stop below the oldest running transaction (see docs/architecture.md).
    global_position bigserial   NOT NULL UNIQUE,
    tx_id           xid8        NOT NULL DEFAULT pg_current_xact_id(),
    event_id        uuid        NOT NULL UNIQUE,
    recorded_at     timestamptz NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);

CREATE INDEX events_log_order ON events (tx_id, global_position);

-- The envelope's event_id and recorded_at come from the command bus (injected
-- id generator and clock) inside metadata; lift them into columns for auditors.
CREATE FUNCTION events_fill_envelope() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    NEW.event_id := (NEW.metadata ->> 'event_id')::uuid;
    NEW.recorded_at := (NEW.metadata ->> 'recorded_at')::timestamptz;
    RETURN NEW;
END;
$$;

CREATE TRIGGER events_fill_envelope
    BEFORE INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION events_fill_envelope();

-- Events are never updated or deleted: corrections are new events.
CREATE FUNCTION events_append_only() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    RAISE EXCEPTION 'events are append-only: % refused', TG_OP;
END;
$$;

CREATE TRIGGER events_append_only
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();
