-- Tamper evidence of the log (issue 36 item 1, docs/evidence.md).
-- Each event's SHA-256 chained to its aggregate's previous event (store/src/chain.rs);
-- NULL for events stored before this migration, whose chain is computed from
-- their content when it is needed.
ALTER TABLE events ADD COLUMN hash bytea;

-- Signed checkpoints: the JSON body is what the Ed25519 signature covers.
CREATE TABLE log_checkpoints (
    number bigint PRIMARY KEY CHECK (number > 0),
    body text NOT NULL,
    signature bytea NOT NULL,
    written_at timestamptz NOT NULL DEFAULT now()
);

-- The heads (sequence and chained hash) of the aggregates a checkpoint
-- covers; its signed Merkle root commits to them.
CREATE TABLE log_checkpoint_heads (
    number bigint NOT NULL REFERENCES log_checkpoints (number),
    aggregate_type text NOT NULL,
    aggregate_id text NOT NULL,
    sequence bigint NOT NULL,
    hash bytea NOT NULL,
    PRIMARY KEY (number, aggregate_type, aggregate_id)
);

-- Like the events, checkpoints are only ever added.
CREATE FUNCTION log_checkpoints_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'log checkpoints are append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER log_checkpoints_append_only
    BEFORE UPDATE OR DELETE ON log_checkpoints
    FOR EACH ROW EXECUTE FUNCTION log_checkpoints_append_only();

CREATE TRIGGER log_checkpoint_heads_append_only
    BEFORE UPDATE OR DELETE ON log_checkpoint_heads
    FOR EACH ROW EXECUTE FUNCTION log_checkpoints_append_only();
