//! 人工落地 in GraphQL (003: 建立联动超时或其他异常情况的服务机制，进行人工落地处理):
//! the requests the core left unanswered past `FACESIGN_CORE_ANSWER_TIMEOUT_SECS`,
//! with the loan, the request and the time waited, and their resolution by an
//! operator who records the core's answer (docs/loans.md).

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use domain::loan_application::ledger::RepaymentChannel;
use domain::loan_application::{DisbursementOutcome, LoanCommand};
use domain::message::message;
use projections::loan_lineage::{LoanLineage, ManualCaseRow};

use crate::context::state;
use crate::error::ApiError;
use crate::loan_servicing::date;
use crate::loans::{decimal, LoanMutation, LoanPayload};

/// Open or resolved.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ManualCaseStatus {
    /// Waiting for a person.
    Open,
    /// The core's answer is recorded.
    Resolved,
}

/// The core's answer an operator records.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ManualCaseOutcome {
    /// The disbursement was paid out (起息日 `valueDate`).
    Paid,
    /// The disbursement failed (`reason`).
    Failed,
    /// The repayment was received (`on`, `amount`).
    Received,
    /// The repayment's debit failed (`on`, `amount`, `reason`).
    DebitFailed,
}

/// Input of `resolveManualCase`.
#[derive(InputObject)]
pub struct ManualCaseResolution {
    /// What the core answered.
    pub outcome: ManualCaseOutcome,
    /// The core's voucher or transaction no (the evidence of its answer).
    pub core_reference: String,
    /// What the operator saw and did.
    pub note: String,
    /// PAID: 起息日 (YYYY-MM-DD).
    pub value_date: Option<String>,
    /// PAID: 首次还款日 (YYYY-MM-DD); a month after the value date when absent.
    pub first_due_date: Option<String>,
    /// RECEIVED / DEBIT_FAILED: the day (YYYY-MM-DD).
    pub on: Option<String>,
    /// RECEIVED / DEBIT_FAILED: the amount (decimal text).
    pub amount: Option<String>,
    /// FAILED / DEBIT_FAILED: the core's reason.
    pub reason: Option<String>,
}

/// A request the core did not answer in time.
#[derive(SimpleObject)]
pub struct ManualCaseView {
    /// The loan (application no).
    pub loan_id: ID,
    /// Its contract.
    pub contract_no: String,
    /// DISBURSEMENT or REPAYMENT.
    pub kind: String,
    /// The request asked of the core.
    pub request_id: String,
    /// The amount asked (decimal text).
    pub amount: String,
    /// When it was asked (RFC 3339).
    pub requested_at: String,
    /// When it became a case.
    pub opened_at: String,
    /// Seconds waited: until now while open, until resolved after.
    pub waited_secs: i64,
    /// OPEN or RESOLVED.
    pub status: String,
    /// What was recorded.
    pub outcome: Option<String>,
    /// The core's voucher.
    pub core_reference: Option<String>,
    /// The operator's note.
    pub note: Option<String>,
    /// Who resolved it.
    pub resolved_by: Option<String>,
    /// When.
    pub resolved_at: Option<String>,
}

fn seconds_between(from: &str, to: DateTime<Utc>) -> Option<i64> {
    let from = DateTime::parse_from_rfc3339(from).ok()?;
    Some((to - from.with_timezone(&Utc)).num_seconds())
}

fn view(row: ManualCaseRow, now: DateTime<Utc>) -> ManualCaseView {
    let until = row
        .resolved_at
        .as_deref()
        .and_then(|r| DateTime::parse_from_rfc3339(r).ok())
        .map_or(now, |r| r.with_timezone(&Utc));
    ManualCaseView {
        waited_secs: seconds_between(&row.requested_at, until).unwrap_or(row.waited_secs),
        loan_id: ID(row.loan_id),
        contract_no: row.contract_no,
        kind: row.kind,
        request_id: row.request_id,
        amount: row.amount,
        requested_at: row.requested_at,
        opened_at: row.opened_at,
        status: row.status,
        outcome: row.outcome,
        core_reference: row.core_reference,
        note: row.note,
        resolved_by: row.resolved_by,
        resolved_at: row.resolved_at,
    }
}

/// Manual case queries.
#[derive(Default)]
pub struct ManualCaseQuery;

#[Object]
impl ManualCaseQuery {
    /// Requests the core did not answer in time (人工落地), oldest first; open
    /// ones by default. `first` at most 200.
    async fn manual_cases(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(ManualCaseStatus::Open)")] status: Option<ManualCaseStatus>,
        #[graphql(default = 50, validator(minimum = 1, maximum = 200))] first: i64,
    ) -> Result<Vec<ManualCaseView>> {
        let status = status.map(|s| match s {
            ManualCaseStatus::Open => "OPEN",
            ManualCaseStatus::Resolved => "RESOLVED",
        });
        let pool = state(ctx).database.read_models();
        let rows = LoanLineage::manual_cases(pool, status, None, first)
            .await
            .map_err(ApiError::from)?;
        let now = state(ctx).bus.services().clock.now();
        Ok(rows.into_iter().map(|row| view(row, now)).collect())
    }
}

/// Manual case mutations.
#[derive(Default)]
pub struct ManualCaseMutation;

fn required<'a>(value: &'a Option<String>, field: &str) -> Result<&'a str, ApiError> {
    value
        .as_deref()
        .ok_or_else(|| ApiError::validation(message!("this outcome gives {field}")))
}

#[Object]
impl ManualCaseMutation {
    /// Resolves a manual case with the core's answer as the core gave it
    /// (its voucher in `coreReference`); the loan goes on as if the core had
    /// answered. A later answer from the core that agrees changes nothing;
    /// one that contradicts is refused (`CONFLICT`) for a person to reconcile.
    async fn resolve_manual_case(
        &self,
        ctx: &Context<'_>,
        id: ID,
        request_id: String,
        input: ManualCaseResolution,
    ) -> Result<LoanPayload> {
        let message_id = format!("manual:{request_id}");
        let answer = match input.outcome {
            ManualCaseOutcome::Paid => LoanCommand::RecordDisbursementResult {
                message_id,
                request_id: request_id.clone(),
                outcome: DisbursementOutcome::Paid {
                    value_date: date(required(&input.value_date, "valueDate")?, "valueDate")?,
                    first_due_date: input
                        .first_due_date
                        .as_deref()
                        .map(|d| date(d, "firstDueDate"))
                        .transpose()?,
                },
            },
            ManualCaseOutcome::Failed => LoanCommand::RecordDisbursementResult {
                message_id,
                request_id: request_id.clone(),
                outcome: DisbursementOutcome::Failed {
                    reason: required(&input.reason, "reason")?.to_string(),
                },
            },
            ManualCaseOutcome::Received => LoanCommand::RecordRepayment {
                message_id,
                received_on: date(required(&input.on, "on")?, "on")?,
                amount: decimal(required(&input.amount, "amount")?, "amount")?,
                channel: RepaymentChannel::Active,
                prepayment_id: None,
                repayment_no: Some(request_id.clone()),
            },
            ManualCaseOutcome::DebitFailed => LoanCommand::RecordAutoDebitFailure {
                message_id,
                attempted_on: date(required(&input.on, "on")?, "on")?,
                amount: decimal(required(&input.amount, "amount")?, "amount")?,
                reason: required(&input.reason, "reason")?.to_string(),
                repayment_no: Some(request_id.clone()),
            },
        };
        let command = LoanCommand::ResolveManualCase {
            request_id,
            core_reference: input.core_reference,
            note: input.note,
            answer: Box::new(answer),
        };
        LoanMutation.send(ctx, &id, command).await
    }
}
