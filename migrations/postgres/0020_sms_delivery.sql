-- Issue 22 item 6: SMS go out through the bank's gateway. Each message has a
-- delivery status: PENDING (waiting for the gateway), SENT (accepted by it),
-- DELIVERED / UNDELIVERED (as the gateway reports), FAILED (refused, or out
-- of attempts), EXPIRED (too old to send). Messages recorded before delivery
-- existed are RECORDED and never sent late.
ALTER TABLE sms_messages ADD COLUMN status TEXT NOT NULL DEFAULT 'RECORDED';
ALTER TABLE sms_messages ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sms_messages ADD COLUMN next_attempt_at TEXT;
ALTER TABLE sms_messages ADD COLUMN last_error TEXT;
ALTER TABLE sms_messages ADD COLUMN gateway_message_id TEXT;
ALTER TABLE sms_messages ADD COLUMN status_at TEXT;
CREATE INDEX sms_messages_due ON sms_messages (status, next_attempt_at);
