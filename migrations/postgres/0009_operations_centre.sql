-- The call offered to a seat and not yet answered (dispatch guard, mirrored).
ALTER TABLE seats ADD COLUMN offered_call TEXT;

-- Inbound calls: the queue, dispatch decisions and admission answers (001 2.2.2, 2.4.4; 004 3.6).
CREATE TABLE inbound_calls
(
    call_id          TEXT NOT NULL PRIMARY KEY,
    task_id          TEXT NOT NULL,
    customer_key     TEXT NOT NULL,
    channel_code     TEXT NOT NULL,
    product_code     TEXT NOT NULL,
    region           TEXT,
    designated_seat  TEXT,
    preassigned_seat TEXT,
    status           TEXT NOT NULL,
    seat_no          TEXT,
    dispatch_reason  TEXT,
    refusal          TEXT,
    queue_order      BIGINT NOT NULL,
    requested_at     TEXT NOT NULL,
    dispatched_at    TEXT,
    answered_at      TEXT,
    updated_at       TEXT NOT NULL
);
CREATE INDEX inbound_calls_status ON inbound_calls (status, queue_order);
CREATE INDEX inbound_calls_task ON inbound_calls (task_id);
CREATE INDEX inbound_calls_seat ON inbound_calls (seat_no, answered_at);

-- Which seat served which customer (熟客, 004 3.6).
CREATE TABLE seat_customers
(
    seat_no        TEXT NOT NULL,
    customer_key   TEXT NOT NULL,
    last_served_at TEXT NOT NULL,
    PRIMARY KEY (customer_key, seat_no)
);

-- Seat groups (客服组, 004 3.18).
CREATE TABLE seat_groups
(
    group_code TEXT NOT NULL PRIMARY KEY,
    name       TEXT NOT NULL,
    skills     TEXT NOT NULL,
    seats      TEXT NOT NULL
);

-- Admin catalog: scripts (001 2.4.7), media (001 2.4.8), accounts (004 3.17), work orders (004 3.3).
CREATE TABLE scripts
(
    script_code   TEXT NOT NULL PRIMARY KEY,
    channel_code  TEXT NOT NULL,
    channel_name  TEXT NOT NULL,
    product_code  TEXT NOT NULL,
    product_name  TEXT NOT NULL,
    business_kind TEXT NOT NULL,
    content       TEXT NOT NULL,
    is_default    BIGINT NOT NULL
);

CREATE TABLE media_assets
(
    media_code TEXT NOT NULL PRIMARY KEY,
    title      TEXT NOT NULL,
    category   TEXT NOT NULL,
    url        TEXT NOT NULL,
    autoplay   BIGINT NOT NULL,
    no_skip    BIGINT NOT NULL,
    enabled    BIGINT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE accounts
(
    login      TEXT NOT NULL PRIMARY KEY,
    name       TEXT NOT NULL,
    phone      TEXT,
    email      TEXT,
    role       TEXT NOT NULL,
    status     TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE work_orders
(
    work_order_id TEXT NOT NULL PRIMARY KEY,
    business_type TEXT NOT NULL,
    customer_name TEXT NOT NULL,
    phone         TEXT NOT NULL,
    id_number     TEXT,
    case_no       TEXT NOT NULL,
    policy_no     TEXT,
    status        TEXT NOT NULL,
    seat_no       TEXT,
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX work_orders_status ON work_orders (status, created_at);
