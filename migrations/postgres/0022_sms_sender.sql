-- 002 item 25 短信签名配置: the partner whose customer a text goes to, so the
-- delivery worker signs it with the partner's signature instead of the bank's.
ALTER TABLE sms_messages ADD COLUMN sender TEXT;
