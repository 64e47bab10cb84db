-- Every filter the task board and the console offer has an index (issue 20
-- item 5): an account manager's own tasks (000 J010), a channel alone, and an
-- appointment day across seats. Status, contract, seat, product (with or
-- without channel) and a seat's reach were indexed before.
CREATE INDEX task_board_manager ON task_board (manager_id, created_position);
CREATE INDEX task_board_channel ON task_board (channel_code, created_position);
CREATE INDEX task_board_appointment ON task_board (appointment_start);
