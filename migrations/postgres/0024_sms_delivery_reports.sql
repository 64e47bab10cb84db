-- Every delivery report the SMS gateway sent (docs/operations-centre.md). A
-- message's status moves only forward (SENT → UNDELIVERED → DELIVERED); a
-- report that would move it back — a late UNDELIVERED after DELIVERED — is
-- kept here and changes nothing. At most 20 reports are kept per message.
CREATE TABLE sms_delivery_reports
(
    report_id   BIGSERIAL PRIMARY KEY,
    message_id  TEXT NOT NULL,
    status      TEXT NOT NULL,
    reason      TEXT,
    received_at TEXT NOT NULL,
    -- 1 when the report moved the message's status, else 0.
    applied     BIGINT NOT NULL
);
CREATE INDEX sms_delivery_reports_message ON sms_delivery_reports (message_id, report_id);
