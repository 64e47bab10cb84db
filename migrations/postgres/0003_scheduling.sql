-- Appointment columns of the task board.
ALTER TABLE task_board ADD COLUMN seat_no TEXT;
ALTER TABLE task_board ADD COLUMN appointment_start TEXT;
ALTER TABLE task_board ADD COLUMN appointment_end TEXT;
ALTER TABLE task_board ADD COLUMN reschedule_count BIGINT NOT NULL DEFAULT 0;
-- The latest appointment request: REQUESTED, CONFIRMED or REFUSED.
ALTER TABLE task_board ADD COLUMN booking_id TEXT;
ALTER TABLE task_board ADD COLUMN booking_status TEXT;
ALTER TABLE task_board ADD COLUMN booking_error_code TEXT;
ALTER TABLE task_board ADD COLUMN booking_error TEXT;
CREATE INDEX task_board_seat ON task_board (seat_no, appointment_start);

-- Seats and their bookings (seat calendar, free slots).
CREATE TABLE seats
(
    seat_no          TEXT    NOT NULL PRIMARY KEY,
    name             TEXT    NOT NULL,
    enabled          BIGINT  NOT NULL,
    seat_groups      TEXT    NOT NULL,
    skills           TEXT    NOT NULL,
    working_hours    TEXT    NOT NULL,
    created_position BIGINT  NOT NULL,
    updated_at       TEXT    NOT NULL
);

CREATE TABLE seat_bookings
(
    booking_id TEXT NOT NULL PRIMARY KEY,
    seat_no    TEXT NOT NULL,
    task_id    TEXT NOT NULL,
    start_at   TEXT NOT NULL,
    end_at     TEXT NOT NULL
);
CREATE INDEX seat_bookings_seat ON seat_bookings (seat_no, start_at);

-- Durable timers: rows fired by the timer worker, so they survive restarts.
CREATE TABLE timers
(
    timer_id   TEXT   NOT NULL PRIMARY KEY,
    kind       TEXT   NOT NULL,
    task_id    TEXT   NOT NULL,
    booking_id TEXT   NOT NULL,
    due_at     TEXT   NOT NULL,
    created_at TEXT   NOT NULL,
    fired_at   TEXT,
    attempts   BIGINT NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX timers_due ON timers (fired_at, due_at);

-- The default SMS sink: every message the engine sends, readable by operators.
CREATE TABLE sms_messages
(
    message_id TEXT NOT NULL PRIMARY KEY,
    dedup_key  TEXT NOT NULL UNIQUE,
    task_id    TEXT NOT NULL,
    phone      TEXT NOT NULL,
    template   TEXT NOT NULL,
    body       TEXT NOT NULL,
    sent_at    TEXT NOT NULL
);
CREATE INDEX sms_messages_task ON sms_messages (task_id, sent_at);
