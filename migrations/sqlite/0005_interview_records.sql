-- The QC queue (001 质检管理).
CREATE TABLE qc_cases
(
    case_id         TEXT   NOT NULL PRIMARY KEY,
    task_id         TEXT   NOT NULL,
    contract_no     TEXT   NOT NULL,
    seat_no         TEXT   NOT NULL,
    origin          TEXT   NOT NULL,
    status          TEXT   NOT NULL,
    reviewer        TEXT,
    passed          INTEGER,
    reasons         TEXT   NOT NULL,
    other_text      TEXT,
    comment         TEXT,
    opened_at       TEXT   NOT NULL,
    decided_at      TEXT,
    opened_position INTEGER NOT NULL UNIQUE
);
CREATE INDEX qc_cases_queue ON qc_cases (status, opened_position);

-- Call records (004 通话历史).
CREATE TABLE call_records
(
    task_id       TEXT   NOT NULL,
    call_no       INTEGER NOT NULL,
    seat_no       TEXT   NOT NULL,
    end_kind      TEXT   NOT NULL,
    queued_at     TEXT   NOT NULL,
    answered_at   TEXT   NOT NULL,
    ended_at      TEXT   NOT NULL,
    queue_seconds INTEGER NOT NULL,
    talk_seconds  INTEGER NOT NULL,
    PRIMARY KEY (task_id, call_no)
);
CREATE INDEX call_records_seat ON call_records (seat_no, ended_at);
CREATE INDEX call_records_ended ON call_records (ended_at);

-- Daily statistics, per Asia/Shanghai day.
CREATE TABLE daily_statistics
(
    day           TEXT   NOT NULL PRIMARY KEY,
    tasks_created INTEGER NOT NULL,
    passed        INTEGER NOT NULL,
    doubtful      INTEGER NOT NULL,
    rejected      INTEGER NOT NULL,
    calls         INTEGER NOT NULL,
    queue_seconds INTEGER NOT NULL,
    talk_seconds  INTEGER NOT NULL
);

-- The task detail of the workstation and the QC page: steps, snapshots,
-- documents, chat, remarks, recordings and loan information, as one document.
CREATE TABLE task_details
(
    task_id  TEXT NOT NULL PRIMARY KEY,
    document TEXT NOT NULL
);
