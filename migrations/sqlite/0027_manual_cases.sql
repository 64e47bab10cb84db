-- 人工落地 (issue 32 item 4, 003: 建立联动超时或其他异常情况的服务机制，进行人工
-- 落地处理): every request asked of the core (a disbursement, an active
-- repayment) with when it was asked and answered, so a request the core has
-- not answered within FACESIGN_CORE_ANSWER_TIMEOUT_SECS becomes a case; and
-- the cases, open and resolved, for the console.
CREATE TABLE core_requests
(
    loan_id      TEXT NOT NULL,
    request_id   TEXT NOT NULL,
    kind         TEXT NOT NULL,
    amount       TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    answered_at  TEXT,
    PRIMARY KEY (loan_id, request_id)
);
CREATE INDEX core_requests_waiting ON core_requests (answered_at, requested_at);

CREATE TABLE manual_cases
(
    loan_id        TEXT   NOT NULL,
    request_id     TEXT   NOT NULL,
    contract_no    TEXT   NOT NULL,
    kind           TEXT   NOT NULL,
    amount         TEXT   NOT NULL,
    requested_at   TEXT   NOT NULL,
    opened_at      TEXT   NOT NULL,
    waited_secs    BIGINT NOT NULL,
    -- OPEN or RESOLVED.
    status         TEXT   NOT NULL,
    outcome        TEXT,
    core_reference TEXT,
    note           TEXT,
    resolved_by    TEXT,
    resolved_role  TEXT,
    resolved_at    TEXT,
    PRIMARY KEY (loan_id, request_id)
);
CREATE INDEX manual_cases_status ON manual_cases (status, opened_at);
