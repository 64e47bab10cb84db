-- 合同下载 (issue 32 item 6, 003 我的贷款): each request with its e-mail, the
-- archive's password (解压码, shown to the customer in the request record), and
-- the sending status; the mailer sends the PENDING ones.
CREATE TABLE contract_downloads
(
    loan_id          TEXT NOT NULL,
    request_id       TEXT NOT NULL,
    email            TEXT NOT NULL,
    archive_password TEXT NOT NULL,
    -- PENDING, SENT or FAILED.
    status           TEXT NOT NULL,
    requested_at     TEXT NOT NULL,
    settled_at       TEXT,
    failure          TEXT,
    PRIMARY KEY (loan_id, request_id)
);
CREATE INDEX contract_downloads_status ON contract_downloads (status, requested_at);
