-- Console sign-in through the bank's identity provider (issue 34 item 3).
-- A sign-in under way: the authorization code flow's state (hashed), its PKCE
-- verifier and nonce, and the console page to return to; read once by the
-- callback and deleted, or swept after ten minutes.
CREATE TABLE console_sign_ins (
    state_hash TEXT PRIMARY KEY,
    verifier TEXT NOT NULL,
    nonce TEXT NOT NULL,
    return_to TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX console_sign_ins_created ON console_sign_ins (created_at);

-- A console session: the browser holds only a random cookie; the row is found
-- by the cookie's hash, and the provider's tokens are sealed with a key derived
-- from the cookie, so neither the table nor a copy of it signs anybody in.
CREATE TABLE console_sessions (
    id_hash TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    sealed_tokens TEXT NOT NULL,
    access_expires_at BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);
