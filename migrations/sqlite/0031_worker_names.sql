-- One name per worker (issue 33 item 5): the checkpoints of every worker over
-- the log (read models, flows, the relay) are "worker" checkpoints, and each
-- flow is named after its module (`domain::flows::scheduling` is
-- `scheduling_flow`) for its checkpoint, its lock, its actor and its metrics.
ALTER TABLE projection_checkpoints RENAME TO worker_checkpoints;
UPDATE worker_checkpoints SET name = 'scheduling_flow' WHERE name = 'scheduling_process';
UPDATE worker_checkpoints SET name = 'quality_flow' WHERE name = 'quality_process';
UPDATE worker_checkpoints SET name = 'loan_flow' WHERE name = 'loan_flow_process';
UPDATE worker_checkpoints SET name = 'dispatch_flow' WHERE name = 'operations_process';
UPDATE worker_checkpoints SET name = 'partner_flow' WHERE name = 'partner_process';
UPDATE parked_events SET worker = 'scheduling_flow' WHERE worker = 'scheduling_process';
UPDATE parked_events SET worker = 'quality_flow' WHERE worker = 'quality_process';
UPDATE parked_events SET worker = 'loan_flow' WHERE worker = 'loan_flow_process';
UPDATE parked_events SET worker = 'dispatch_flow' WHERE worker = 'operations_process';
UPDATE parked_events SET worker = 'partner_flow' WHERE worker = 'partner_process';
