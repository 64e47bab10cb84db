-- Durable checkpoint of each projection: the log position its rows reflect.
-- Written in the same transaction as the rows.
CREATE TABLE projection_checkpoints
(
    name            TEXT   NOT NULL PRIMARY KEY,
    tx_id           INTEGER NOT NULL,
    global_position INTEGER NOT NULL,
    events_applied  INTEGER NOT NULL,
    updated_at      TEXT   NOT NULL
);

-- The task board: one row per interview task, searchable by staff.
-- Rows are derived only from the log, so a rebuild reproduces them exactly.
CREATE TABLE task_board
(
    task_id            TEXT   NOT NULL PRIMARY KEY,
    contract_no        TEXT   NOT NULL,
    kind               TEXT   NOT NULL,
    status             TEXT   NOT NULL,
    product_code       TEXT   NOT NULL,
    channel_code       TEXT   NOT NULL,
    manager_id         TEXT   NOT NULL,
    borrower_name      TEXT   NOT NULL,
    borrower_id_number TEXT   NOT NULL,
    borrower_phone     TEXT   NOT NULL,
    participants       TEXT   NOT NULL,
    required_steps     TEXT   NOT NULL,
    cancel_reason      TEXT,
    created_at         TEXT   NOT NULL,
    updated_at         TEXT   NOT NULL,
    created_position   INTEGER NOT NULL UNIQUE,
    last_sequence      INTEGER NOT NULL
);

CREATE INDEX task_board_status ON task_board (status, created_position);
CREATE INDEX task_board_contract ON task_board (contract_no);
