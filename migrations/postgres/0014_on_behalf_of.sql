-- Events a process manager writes carry the person whose command started the
-- flow (on-behalf-of); what one person did includes them. Events written
-- before this carry none, so the existing rows stay as they are.
ALTER TABLE audit_log ADD COLUMN on_behalf_of_id TEXT;
ALTER TABLE audit_log ADD COLUMN on_behalf_of_role TEXT;
CREATE INDEX audit_log_on_behalf_of ON audit_log (on_behalf_of_id, global_position);
