-- Partner request nonces: a signed request is accepted once (002 partner API).
CREATE TABLE partner_nonces
(
    partner TEXT NOT NULL,
    nonce   TEXT NOT NULL,
    used_at TEXT NOT NULL,
    PRIMARY KEY (partner, nonce)
);

-- Partner orders (三方订单, 002) as partners and staff look them up.
CREATE TABLE partner_orders
(
    order_id        TEXT NOT NULL PRIMARY KEY,
    partner         TEXT NOT NULL,
    order_no        TEXT NOT NULL,
    partner_uid     TEXT NOT NULL,
    customer_name   TEXT NOT NULL,
    id_number       TEXT NOT NULL,
    phone           TEXT NOT NULL,
    status          TEXT NOT NULL,
    status_code     BIGINT NOT NULL,
    credit_limit    TEXT,
    borrow_amount   TEXT,
    borrow_term     BIGINT,
    borrow_status   TEXT,
    borrow_deferred BIGINT NOT NULL,
    account_opened  BIGINT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX partner_orders_person ON partner_orders (id_number);

-- Outbound callbacks and their incidents.
CREATE TABLE callbacks
(
    callback_id TEXT NOT NULL PRIMARY KEY,
    target      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    url         TEXT NOT NULL,
    status      TEXT NOT NULL,
    attempts    BIGINT NOT NULL,
    last_error  TEXT,
    next_at     TEXT,
    updated_at  TEXT NOT NULL
);
CREATE INDEX callbacks_status ON callbacks (status, updated_at);

