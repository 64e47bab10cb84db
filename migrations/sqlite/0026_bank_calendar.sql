-- The bank's working-day calendar (issue 32, 003 提前3个工作日): the days that
-- differ from the weekend rule — 法定节假日 (HOLIDAY) and 调休 (WORKING_DAY) —
-- as an admin loads them, a year at a time, and every load kept whole with who
-- made it (the current calendar is the latest load of each year).
CREATE TABLE bank_calendar
(
    day        TEXT    NOT NULL PRIMARY KEY,
    year       INTEGER NOT NULL,
    kind       TEXT    NOT NULL,
    name       TEXT,
    load_id    BIGINT  NOT NULL
);
CREATE INDEX bank_calendar_year ON bank_calendar (year);

CREATE TABLE bank_calendar_loads
(
    load_id    BIGINT  NOT NULL PRIMARY KEY,
    year       INTEGER NOT NULL,
    -- The year's days as loaded (JSON), so any earlier calendar can be read back.
    days       TEXT    NOT NULL,
    actor_id   TEXT    NOT NULL,
    actor_role TEXT    NOT NULL,
    request_id TEXT    NOT NULL,
    loaded_at  TEXT    NOT NULL
);

-- The debit day of an approved prepayment, for the daily review's notice.
ALTER TABLE loan_ledgers ADD COLUMN prepayment_debit_date TEXT;
CREATE INDEX loan_ledgers_prepayment_debit ON loan_ledgers (prepayment_debit_date);
