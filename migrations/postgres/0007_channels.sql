-- Admission channels (001 2.4.9 渠道管理).
CREATE TABLE channels
(
    channel_code TEXT NOT NULL PRIMARY KEY,
    name         TEXT NOT NULL,
    org_name     TEXT NOT NULL,
    org_code     TEXT NOT NULL,
    enabled      BIGINT NOT NULL,
    settings     TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
