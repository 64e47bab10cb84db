-- A disbursed loan's ledger (issue 21): the current plan and what is paid, as
-- the domain's Ledger in JSON, and one row per money movement for statements
-- and the back office's statistics by day (amounts in fen).
CREATE TABLE loan_ledgers
(
    loan_id       TEXT NOT NULL PRIMARY KEY,
    ledger        TEXT NOT NULL,
    -- Earliest due date of a period not fully paid; NULL once settled.
    next_due_date TEXT,
    prepayment    TEXT,
    updated_at    TEXT NOT NULL
);
CREATE INDEX loan_ledgers_next_due ON loan_ledgers (next_due_date);

CREATE TABLE loan_transactions
(
    loan_id       TEXT   NOT NULL,
    sequence      BIGINT NOT NULL,
    line          INTEGER NOT NULL,
    kind          TEXT   NOT NULL,
    day           TEXT   NOT NULL,
    amount_fen    BIGINT NOT NULL,
    principal_fen BIGINT NOT NULL,
    interest_fen  BIGINT NOT NULL,
    penalty_fen   BIGINT NOT NULL,
    channel       TEXT,
    -- The request, prepayment or partner repayment no the movement belongs to.
    reference     TEXT,
    period        INTEGER,
    detail        TEXT,
    at            TEXT   NOT NULL,
    PRIMARY KEY (loan_id, sequence, line)
);
CREATE INDEX loan_transactions_day ON loan_transactions (day, kind);
CREATE INDEX loan_transactions_reference ON loan_transactions (loan_id, reference);

-- The disbursement request a loan waits on (放款中), for the core and the console.
ALTER TABLE loan_applications ADD COLUMN disbursement_request TEXT;
