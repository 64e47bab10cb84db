-- How a key's ids are derived (adapters::idempotency): 1 joined its parts with
-- colons, which a subject holding ':' could collide with; 2 length-prefixes
-- them. Keys claimed before this migration keep 1 so their retries still
-- address what their first attempt created; new claims write 2.
ALTER TABLE idempotency_keys ADD COLUMN id_scheme BIGINT NOT NULL DEFAULT 1;
