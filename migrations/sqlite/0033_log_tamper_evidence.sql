-- Tamper evidence of the log (issue 36 item 1, docs/evidence.md).
-- Each event's SHA-256 chained to its aggregate's previous event (store/src/chain.rs);
-- NULL for events stored before this migration, whose chain is computed from
-- their content when it is needed.
ALTER TABLE events ADD COLUMN hash BLOB;

-- Signed checkpoints: the JSON body is what the Ed25519 signature covers.
CREATE TABLE log_checkpoints (
    number INTEGER PRIMARY KEY CHECK (number > 0),
    body TEXT NOT NULL,
    signature BLOB NOT NULL,
    written_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

-- The heads (sequence and chained hash) of the aggregates a checkpoint
-- covers; its signed Merkle root commits to them.
CREATE TABLE log_checkpoint_heads (
    number INTEGER NOT NULL REFERENCES log_checkpoints (number),
    aggregate_type TEXT NOT NULL,
    aggregate_id TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (number, aggregate_type, aggregate_id)
) STRICT;

-- Like the events, checkpoints are only ever added.
CREATE TRIGGER log_checkpoints_no_update BEFORE UPDATE ON log_checkpoints
BEGIN SELECT RAISE(ABORT, 'log checkpoints are append-only'); END;
CREATE TRIGGER log_checkpoints_no_delete BEFORE DELETE ON log_checkpoints
BEGIN SELECT RAISE(ABORT, 'log checkpoints are append-only'); END;
CREATE TRIGGER log_checkpoint_heads_no_update BEFORE UPDATE ON log_checkpoint_heads
BEGIN SELECT RAISE(ABORT, 'log checkpoints are append-only'); END;
CREATE TRIGGER log_checkpoint_heads_no_delete BEFORE DELETE ON log_checkpoint_heads
BEGIN SELECT RAISE(ABORT, 'log checkpoints are append-only'); END;
