-- Seat presence (004 3.1 系统工作状态) on the seat list.
ALTER TABLE seats ADD COLUMN signed_in INTEGER NOT NULL DEFAULT 0;
ALTER TABLE seats ADD COLUMN presence TEXT NOT NULL DEFAULT 'PAUSED';
