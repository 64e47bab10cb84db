//! What the workers read of the read models, as a port: the binary implements
//! it over `projections`, so a worker never names a read model's table and
//! the two crates stay side by side. Each read is already bounded by `limit`.

use chrono::{DateTime, NaiveDate, Utc};
use domain::flows::dispatch::QueueSnapshot;
use domain::inbound_call::DispatchRule;
use futures_util::future::BoxFuture;

/// A disbursement or repayment request the core has not answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnansweredCoreRequest {
    /// Application no.
    pub loan_id: String,
    /// The request.
    pub request_id: String,
    /// DISBURSEMENT or REPAYMENT.
    pub kind: String,
    /// When it was asked (RFC 3339).
    pub requested_at: String,
}

/// A customer's request to have a signed contract e-mailed (合同下载).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractDownload {
    /// Application no.
    pub loan_id: String,
    /// The request.
    pub request_id: String,
    /// Where the archive goes.
    pub email: String,
    /// 解压码, when still held.
    pub archive_password: Option<String>,
}

/// What goes into a contract archive: the terms signed and the loan's records.
#[derive(Debug, Clone)]
pub struct ContractRecords {
    /// Application no.
    pub loan_id: String,
    /// 合同号.
    pub contract_no: String,
    /// The amount applied for, when the terms do not say.
    pub amount: String,
    /// The signed terms (JSON), if any.
    pub contract_terms: Option<String>,
    /// Consents, verifications, signature and reviews, in order.
    pub evidence: serde_json::Value,
    /// Every move of the loan, in order.
    pub history: serde_json::Value,
}

/// The read-model queries workers run.
pub trait ReadModels: Send + Sync + 'static {
    /// The seats and waiting calls dispatch decides on, under `rule`.
    fn dispatch_queue<'a>(
        &'a self,
        now: DateTime<Utc>,
        rule: &'a DispatchRule,
    ) -> BoxFuture<'a, anyhow::Result<QueueSnapshot>>;

    /// Loans with a period due by `day` or a prepayment debit by
    /// `prepayment_day`, after `after` in id order, at most `limit`.
    fn loans_due_by<'a>(
        &'a self,
        day: NaiveDate,
        prepayment_day: NaiveDate,
        after: &'a str,
        limit: i64,
    ) -> BoxFuture<'a, anyhow::Result<Vec<String>>>;

    /// Core requests asked at or before `cutoff` (RFC 3339), unanswered and
    /// without a manual case, at most `limit`.
    fn unanswered_core_requests<'a>(
        &'a self,
        cutoff: &'a str,
        limit: i64,
    ) -> BoxFuture<'a, anyhow::Result<Vec<UnansweredCoreRequest>>>;

    /// Contract downloads not yet sent, oldest first, at most `limit`.
    fn pending_contract_downloads(
        &self,
        limit: i64,
    ) -> BoxFuture<'_, anyhow::Result<Vec<ContractDownload>>>;

    /// What the contract archive of `loan_id` holds; None if the loan is unknown.
    fn contract_records<'a>(
        &'a self,
        loan_id: &'a str,
    ) -> BoxFuture<'a, anyhow::Result<Option<ContractRecords>>>;
}
