-- The seat that connected a task's interview (000: it holds the task until it
-- concludes or puts it back), for the ownership rules and the seat's task list.
ALTER TABLE task_board ADD COLUMN interview_seat TEXT;
CREATE INDEX task_board_interview_seat ON task_board (interview_seat, created_position);

-- The board is re-derived from the log on the next start so that the new
-- column holds for every task, not only for those started from now on.
DELETE FROM task_board;
UPDATE projection_checkpoints SET tx_id = 0, global_position = 0, events_applied = 0
 WHERE name = 'task_board';
