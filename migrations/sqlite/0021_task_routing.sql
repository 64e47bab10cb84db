-- Issue 22 item 5: the property's location (房产位置 / 房屋属地, 001 2.3.1 and
-- 2.4.2 视频管理 filters by 省/市/区县) and who is on each task, so a customer
-- lists their own tasks; work orders by phone (004 4.2 输入手机号).
ALTER TABLE task_board ADD COLUMN property_province TEXT;
ALTER TABLE task_board ADD COLUMN property_city TEXT;
ALTER TABLE task_board ADD COLUMN property_district TEXT;
ALTER TABLE task_board ADD COLUMN property_address TEXT;
CREATE INDEX task_board_property ON task_board (property_province, property_city, property_district);
CREATE INDEX task_board_borrower_name ON task_board (borrower_name);
CREATE TABLE task_participants
(
    id_number TEXT NOT NULL,
    task_id   TEXT NOT NULL,
    PRIMARY KEY (id_number, task_id)
);
CREATE INDEX work_orders_phone ON work_orders (phone, created_at);
