-- Loan applications and their node history (001 2.7 信贷系统 任务节点).
CREATE TABLE loan_applications
(
    loan_id        TEXT NOT NULL PRIMARY KEY,
    contract_no    TEXT NOT NULL,
    amount         TEXT NOT NULL,
    node           TEXT NOT NULL,
    interview_task TEXT,
    updated_at     TEXT NOT NULL
);
CREATE INDEX loan_applications_contract ON loan_applications (contract_no);

CREATE TABLE loan_node_history
(
    loan_id    TEXT   NOT NULL,
    sequence   INTEGER NOT NULL,
    kind       TEXT   NOT NULL,
    from_node  TEXT   NOT NULL,
    to_node    TEXT   NOT NULL,
    reason     TEXT,
    actor_id   TEXT   NOT NULL,
    actor_role TEXT   NOT NULL,
    at         TEXT   NOT NULL,
    PRIMARY KEY (loan_id, sequence)
);

-- Every interview task of a contract, with how it came and went (lineage).
CREATE TABLE task_lineage
(
    task_id               TEXT   NOT NULL PRIMARY KEY,
    contract_no           TEXT   NOT NULL,
    loan_id               TEXT,
    round                 INTEGER NOT NULL,
    supersedes            TEXT,
    superseded_by         TEXT,
    transition            TEXT   NOT NULL,
    reason                TEXT,
    actor_id              TEXT   NOT NULL,
    actor_role            TEXT   NOT NULL,
    created_at            TEXT   NOT NULL,
    superseded_transition TEXT,
    superseded_reason     TEXT,
    superseded_at         TEXT
);
CREATE INDEX task_lineage_contract ON task_lineage (contract_no, round);
