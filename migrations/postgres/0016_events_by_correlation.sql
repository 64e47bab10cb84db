-- A mutation waits until what its request set going is quiet: the flows follow
-- the correlation id, so the last event of a correlation says how far it got.
CREATE INDEX events_by_correlation
    ON events ((metadata ->> 'correlation_id'), tx_id, global_position);
