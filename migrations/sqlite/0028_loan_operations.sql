-- The back office's loan list and report (issue 32 item 6, 003 内管: 交易量统计,
-- 资金统计, 融信贷明细查询): each loan's amount in fen, the Asia/Shanghai day it
-- was submitted, its branch and channel; the Shanghai day of every move, so
-- counts by day are a GROUP BY. Rows written before this migration fill these
-- when the read model is rebuilt: `facesign replay --projection loan_lineage`.
ALTER TABLE loan_applications ADD COLUMN amount_fen BIGINT;
ALTER TABLE loan_applications ADD COLUMN submitted_on TEXT;
ALTER TABLE loan_applications ADD COLUMN branch TEXT;
ALTER TABLE loan_applications ADD COLUMN channel_code TEXT;
CREATE INDEX loan_applications_node ON loan_applications (node, submitted_on);
CREATE INDEX loan_applications_submitted ON loan_applications (submitted_on);
ALTER TABLE loan_node_history ADD COLUMN day TEXT;
CREATE INDEX loan_node_history_day ON loan_node_history (day, kind);
