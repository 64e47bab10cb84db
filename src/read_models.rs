//! The workers' view of the read models ([`workers::ReadModels`]), answered by
//! `projections`: the binary is the one place that knows both.

use chrono::{DateTime, NaiveDate, Utc};
use domain::flows::dispatch::QueueSnapshot;
use domain::inbound_call::DispatchRule;
use futures_util::future::BoxFuture;
use projections::{CallQueue, LoanLedger, LoanLineage};
use sqlx::AnyPool;
use workers::read_models::{ContractDownload, ContractRecords, UnansweredCoreRequest};

/// The read models of one database, as the workers read them.
pub struct ProjectedReadModels {
    pool: AnyPool,
}

impl ProjectedReadModels {
    /// The read models in `pool`.
    pub fn new(pool: AnyPool) -> Self {
        Self { pool }
    }
}

impl workers::ReadModels for ProjectedReadModels {
    fn dispatch_queue<'a>(
        &'a self,
        now: DateTime<Utc>,
        rule: &'a DispatchRule,
    ) -> BoxFuture<'a, anyhow::Result<QueueSnapshot>> {
        Box::pin(CallQueue::dispatch_queue(&self.pool, now, rule))
    }

    fn loans_due_by<'a>(
        &'a self,
        day: NaiveDate,
        prepayment_day: NaiveDate,
        after: &'a str,
        limit: i64,
    ) -> BoxFuture<'a, anyhow::Result<Vec<String>>> {
        Box::pin(async move {
            Ok(LoanLedger::due_by(&self.pool, day, prepayment_day, after, limit).await?)
        })
    }

    fn unanswered_core_requests<'a>(
        &'a self,
        cutoff: &'a str,
        limit: i64,
    ) -> BoxFuture<'a, anyhow::Result<Vec<UnansweredCoreRequest>>> {
        Box::pin(async move {
            let rows = LoanLineage::unanswered_before(&self.pool, cutoff, limit).await?;
            Ok(rows
                .into_iter()
                .map(|r| UnansweredCoreRequest {
                    loan_id: r.loan_id,
                    request_id: r.request_id,
                    kind: r.kind,
                    requested_at: r.requested_at,
                })
                .collect())
        })
    }

    fn pending_contract_downloads(
        &self,
        limit: i64,
    ) -> BoxFuture<'_, anyhow::Result<Vec<ContractDownload>>> {
        Box::pin(async move {
            let rows = LoanLineage::pending_contract_downloads(&self.pool, limit).await?;
            Ok(rows
                .into_iter()
                .map(|r| ContractDownload {
                    loan_id: r.loan_id,
                    request_id: r.request_id,
                    email: r.email,
                    archive_password: r.archive_password,
                })
                .collect())
        })
    }

    fn contract_records<'a>(
        &'a self,
        loan_id: &'a str,
    ) -> BoxFuture<'a, anyhow::Result<Option<ContractRecords>>> {
        Box::pin(async move {
            let Some(loan) = LoanLineage::loan(&self.pool, loan_id).await? else {
                return Ok(None);
            };
            Ok(Some(ContractRecords {
                loan_id: loan.loan_id,
                contract_no: loan.contract_no,
                amount: loan.amount,
                contract_terms: loan.contract_terms,
                evidence: serde_json::to_value(LoanLineage::evidence(&self.pool, loan_id).await?)?,
                history: serde_json::to_value(LoanLineage::history(&self.pool, loan_id).await?)?,
            }))
        })
    }
}
