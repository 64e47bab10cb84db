-- 004 3.6 (issue 22 item 2): how many offers of a call rang out unanswered;
-- after FACESIGN_RING_ATTEMPTS of them the call waits for a seat to take it.
ALTER TABLE inbound_calls ADD COLUMN unanswered_offers BIGINT NOT NULL DEFAULT 0;
