-- Console sign-in through the bank's identity provider (issue 34 item 3).
-- The key that seals a sign-in under way into its browser's cookie (state,
-- PKCE verifier, nonce): the same for every instance, stored by the first
-- that needs it. A sign-in under way takes no room on the server.
CREATE TABLE console_keys (
    name TEXT PRIMARY KEY,
    sealing_key TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- A console session: the browser holds only a random cookie; the row is found
-- by the cookie's hash, and the provider's tokens are sealed with a key derived
-- from the cookie, so neither the table nor a copy of it signs anybody in.
-- `refreshing_until` is the lease of the one request refreshing its tokens.
CREATE TABLE console_sessions (
    id_hash TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    sealed_tokens TEXT NOT NULL,
    access_expires_at BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    refreshing_until BIGINT
);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);
