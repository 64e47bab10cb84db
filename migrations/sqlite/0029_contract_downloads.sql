-- 合同下载 (issue 32 item 6, 003 我的贷款): each request with its e-mail and
-- sending status (a read model); the mailer sends the PENDING ones.
CREATE TABLE contract_downloads
(
    loan_id          TEXT NOT NULL,
    request_id       TEXT NOT NULL,
    email            TEXT NOT NULL,
    -- PENDING, SENT or FAILED.
    status           TEXT NOT NULL,
    requested_at     TEXT NOT NULL,
    settled_at       TEXT,
    failure          TEXT,
    PRIMARY KEY (loan_id, request_id)
);
CREATE INDEX contract_downloads_status ON contract_downloads (status, requested_at);

-- The archive's password (解压码, shown to the customer in the request record),
-- written by the request itself and kept out of the event log and Kafka: not a
-- read model, never rebuilt.
CREATE TABLE contract_download_secrets
(
    loan_id          TEXT NOT NULL,
    request_id       TEXT NOT NULL,
    archive_password TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    PRIMARY KEY (loan_id, request_id)
);
