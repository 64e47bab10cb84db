//! A loan after the money in GraphQL (issue 21, 003 贷后): its ledger (the plan
//! with each period's state, what is owed today, the full payoff, the
//! transactions), prepayment applications and decisions, the back office's
//! statistics by day, and the core system's results for deployments that
//! deliver them over the API instead of Kafka (docs/loans.md).

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::NaiveDate;
use domain::loan_application::ledger::{
    AmountOwed, Ledger, LedgerPeriod, PeriodState as DomainPeriodState, PrepaymentQuote,
    RepaymentChannel as DomainChannel,
};
use domain::loan_application::{DisbursementOutcome, LoanCommand};
use domain::message::message;
use projections::loan_ledger::{LoanLedger, OpenPrepayment, TransactionRow};
use rust_decimal::Decimal;

use crate::access::checks;
use crate::context::state;
use crate::error::ApiError;
use crate::loans::{decimal, LoanMutation, LoanPayload, PrepaymentChoice};

pub use domain::loan_application::ledger::PeriodState;
pub use domain::loan_application::ledger::RepaymentChannel;
pub use domain::repayment::RepaymentMethod;

/// The contract's terms.
#[derive(SimpleObject)]
pub struct LoanTermsView {
    /// 执行年利率 (decimal text).
    pub annual_rate: String,
    /// 期限 in months.
    pub term_months: u32,
    /// 还款方式.
    pub repayment_method: RepaymentMethod,
    /// 罚息年利率 (decimal text; 0 where none is charged).
    pub penalty_annual_rate: String,
}

/// One period of the plan with what is paid.
#[derive(SimpleObject)]
pub struct LedgerPeriodView {
    /// 期数.
    pub period: u32,
    /// 还款日期 (YYYY-MM-DD, Asia/Shanghai).
    pub due_date: String,
    /// 应还本金.
    pub principal: String,
    /// 应还利息.
    pub interest: String,
    /// 已还本金.
    pub paid_principal: String,
    /// 已还利息.
    pub paid_interest: String,
    /// 罚息 accrued through today.
    pub penalty: String,
    /// 已还罚息.
    pub paid_penalty: String,
    /// Still owed on the period today, penalty included.
    pub owed: String,
    /// State today.
    pub state: PeriodState,
}

/// What is owed on a day.
#[derive(SimpleObject)]
pub struct AmountOwedView {
    /// Principal of periods due by the day.
    pub principal: String,
    /// Their interest.
    pub interest: String,
    /// Penalty through the day.
    pub penalty: String,
    /// Of principal and interest, what is overdue.
    pub overdue: String,
    /// All of it.
    pub total: String,
}

/// A prepayment quote (提前还款试算).
#[derive(SimpleObject)]
pub struct PrepaymentQuoteView {
    /// The day quoted for.
    pub quoted_on: String,
    /// Due and overdue periods settled first.
    pub owed: String,
    /// Principal prepaid.
    pub principal: String,
    /// Interest on it since the last due date.
    pub interest: String,
    /// What the customer pays.
    pub total: String,
}

/// An open prepayment application.
#[derive(SimpleObject)]
pub struct PrepaymentView {
    /// Its id.
    pub id: ID,
    /// Partial (shorter term or lower installment); none for a full prepayment.
    pub choice: Option<PrepaymentChoice>,
    /// Whether a manager approved it.
    pub approved: bool,
    /// Today's quote at the application, the debit day's once approved.
    pub quote: PrepaymentQuoteView,
}

/// One money movement.
#[derive(SimpleObject)]
pub struct LoanTransactionView {
    /// DISBURSEMENT, REPAYMENT, PREPAYMENT, PENALTY_ACCRUED, AUTO_DEBIT_FAILED, OVERDUE, SETTLED.
    pub kind: String,
    /// The Asia/Shanghai day.
    pub day: String,
    /// Amount.
    pub amount: String,
    /// Principal part.
    pub principal: String,
    /// Interest part.
    pub interest: String,
    /// Penalty part.
    pub penalty: String,
    /// AUTO_DEBIT, ACTIVE or PREPAYMENT.
    pub channel: Option<String>,
    /// The period.
    pub period: Option<i32>,
    /// A reason or reference.
    pub detail: Option<String>,
    /// When recorded (RFC 3339).
    pub at: String,
}

/// A disbursed loan's ledger.
#[derive(SimpleObject)]
pub struct LoanLedgerView {
    /// The loan.
    pub loan_id: ID,
    /// 起息日.
    pub value_date: String,
    /// The contract's terms.
    pub terms: LoanTermsView,
    /// The day the figures are for (today, Asia/Shanghai).
    pub today: String,
    /// 本金余额.
    pub outstanding_principal: String,
    /// 还款计划 with each period's state.
    pub periods: Vec<LedgerPeriodView>,
    /// 今日应还.
    pub owed_today: AmountOwedView,
    /// 全部提前还款 today: owed, the principal not yet due and its accrued interest.
    pub payoff_today: String,
    /// The open prepayment application.
    pub prepayment: Option<PrepaymentView>,
    /// 还款明细, in order.
    pub transactions: Vec<LoanTransactionView>,
}

/// Amounts of one day (back office).
#[derive(SimpleObject)]
pub struct LoanDayStatistics {
    /// YYYY-MM-DD.
    pub day: String,
    /// 放款金额.
    pub disbursed: String,
    /// 还款金额.
    pub repaid: String,
    /// 逾期金额: principal and interest that fell overdue that day.
    pub overdue: String,
}

pub(crate) fn money(fen: i64) -> String {
    Decimal::new(fen, 2).to_string()
}

pub(crate) fn date(text: &str, field: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| ApiError::validation(message!("{field} is not a date (YYYY-MM-DD)")))
}

impl From<&PrepaymentQuote> for PrepaymentQuoteView {
    fn from(q: &PrepaymentQuote) -> Self {
        Self {
            quoted_on: q.quoted_on.to_string(),
            owed: q.owed.to_string(),
            principal: q.principal.to_string(),
            interest: q.interest.to_string(),
            total: q.total.to_string(),
        }
    }
}

impl From<AmountOwed> for AmountOwedView {
    fn from(o: AmountOwed) -> Self {
        Self {
            total: o.total().to_string(),
            principal: o.principal.to_string(),
            interest: o.interest.to_string(),
            penalty: o.penalty.to_string(),
            overdue: o.overdue.to_string(),
        }
    }
}

impl From<TransactionRow> for LoanTransactionView {
    fn from(r: TransactionRow) -> Self {
        Self {
            kind: r.kind,
            day: r.day,
            amount: money(r.amount_fen),
            principal: money(r.principal_fen),
            interest: money(r.interest_fen),
            penalty: money(r.penalty_fen),
            channel: r.channel,
            period: r.period,
            detail: r.detail,
            at: r.at,
        }
    }
}

pub(crate) fn period_view(
    p: &LedgerPeriod,
    day: NaiveDate,
    penalty_rate: Decimal,
) -> LedgerPeriodView {
    let state: DomainPeriodState = p.state(day);
    LedgerPeriodView {
        period: p.period,
        due_date: p.due_date.to_string(),
        principal: p.principal.to_string(),
        interest: p.interest.to_string(),
        paid_principal: p.paid_principal.to_string(),
        paid_interest: p.paid_interest.to_string(),
        owed: p.owed_through(day, penalty_rate).to_string(),
        penalty: p.penalty_through(day, penalty_rate).to_string(),
        paid_penalty: p.paid_penalty.to_string(),
        state,
    }
}

fn ledger_view(
    loan_id: &str,
    ledger: &Ledger,
    prepayment: Option<OpenPrepayment>,
    transactions: Vec<TransactionRow>,
    day: NaiveDate,
) -> LoanLedgerView {
    let terms = ledger.terms;
    LoanLedgerView {
        loan_id: ID(loan_id.to_string()),
        value_date: ledger.value_date.to_string(),
        terms: LoanTermsView {
            annual_rate: terms.annual_rate.to_string(),
            term_months: terms.term_months,
            repayment_method: terms.method,
            penalty_annual_rate: terms.penalty_annual_rate.to_string(),
        },
        today: day.to_string(),
        outstanding_principal: ledger.outstanding_principal().to_string(),
        periods: ledger
            .periods
            .iter()
            .map(|p| period_view(p, day, terms.penalty_annual_rate))
            .collect(),
        owed_today: ledger.owed_on(day).into(),
        payoff_today: ledger.payoff_on(day).to_string(),
        prepayment: prepayment.map(|p| PrepaymentView {
            id: ID(p.prepayment_id),
            choice: p.choice,
            approved: p.approved,
            quote: (&p.quote).into(),
        }),
        transactions: transactions.into_iter().map(Into::into).collect(),
    }
}

/// Loan servicing queries.
#[derive(Default)]
pub struct LoanServicingQuery;

#[Object]
impl LoanServicingQuery {
    /// A disbursed loan's ledger as of today (Asia/Shanghai): the plan with each
    /// period's state, what is owed today, the full payoff and every movement.
    /// Null before the core confirmed the disbursement.
    async fn loan_ledger(&self, ctx: &Context<'_>, id: ID) -> Result<Option<LoanLedgerView>> {
        if !checks::loan_visible(ctx, &id).await? {
            return Ok(None);
        }
        let pool = state(ctx).database.read_models();
        let Some((ledger, prepayment)) = LoanLedger::get(pool, &id)
            .await
            .map_err(ApiError::internal)?
        else {
            return Ok(None);
        };
        let transactions = LoanLedger::transactions(pool, &id)
            .await
            .map_err(ApiError::from)?;
        Ok(Some(ledger_view(
            &id,
            &ledger,
            prepayment,
            transactions,
            crate::shanghai_today(state(ctx)),
        )))
    }

    /// Amounts disbursed, repaid and fallen overdue per Asia/Shanghai day from
    /// `from` to `to` (YYYY-MM-DD, at most 366 days); days without any left out.
    async fn loan_statistics(
        &self,
        ctx: &Context<'_>,
        from: String,
        to: String,
    ) -> Result<Vec<LoanDayStatistics>> {
        let (from, to) = (date(&from, "from")?, date(&to, "to")?);
        if to < from || (to - from).num_days() > 365 {
            return Err(
                ApiError::validation(message!("from..to must be 1 to 366 days, in order")).into(),
            );
        }
        let days = LoanLedger::daily_totals(state(ctx).database.read_models(), from, to)
            .await
            .map_err(ApiError::from)?;
        Ok(days
            .into_iter()
            .map(|d| LoanDayStatistics {
                day: d.day,
                disbursed: money(d.disbursed_fen),
                repaid: money(d.repaid_fen),
                overdue: money(d.overdue_fen),
            })
            .collect())
    }
}

/// Loan servicing mutations.
#[derive(Default)]
pub struct LoanServicingMutation;

#[Object]
impl LoanServicingMutation {
    /// 提前还款申请: the customer applies for a full prepayment (no principal, no
    /// choice) or a partial one (principal and SHORTER_TERM or LOWER_INSTALLMENT),
    /// quoted for today. `prepaymentId` is the caller's: sending it again changes nothing.
    async fn request_prepayment(
        &self,
        ctx: &Context<'_>,
        id: ID,
        prepayment_id: String,
        principal: Option<String>,
        choice: Option<PrepaymentChoice>,
    ) -> Result<LoanPayload> {
        // Whose loan it is is answered before what is wrong with the figures.
        checks::read_loan(ctx, &id).await?;
        let principal = principal.map(|p| decimal(&p, "principal")).transpose()?;
        LoanMutation
            .send(
                ctx,
                &id,
                LoanCommand::RequestPrepayment {
                    application_id: prepayment_id,
                    principal,
                    choice,
                },
            )
            .await
    }

    /// A manager approves a prepayment with the day the core debits it
    /// (提前还款扣款日, today when absent), which re-quotes it for that day, or
    /// refuses it with a reason.
    async fn decide_prepayment(
        &self,
        ctx: &Context<'_>,
        id: ID,
        prepayment_id: String,
        approve: bool,
        debit_date: Option<String>,
        reason: Option<String>,
    ) -> Result<LoanPayload> {
        checks::read_loan(ctx, &id).await?;
        let debit_date = debit_date.map(|d| date(&d, "debitDate")).transpose()?;
        LoanMutation
            .send(
                ctx,
                &id,
                LoanCommand::DecidePrepayment {
                    application_id: prepayment_id,
                    approve,
                    debit_date,
                    reason,
                },
            )
            .await
    }

    /// The core system's disbursement result, where it is delivered over the API
    /// (the Kafka topic `core.disbursements.v1` is the usual way; same fields).
    async fn record_disbursement_result(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: DisbursementResultInput,
    ) -> Result<LoanPayload> {
        let outcome = if input.paid {
            DisbursementOutcome::Paid {
                value_date: date(
                    input.value_date.as_deref().ok_or_else(|| {
                        ApiError::validation(message!("a paid result gives valueDate"))
                    })?,
                    "valueDate",
                )?,
                first_due_date: input
                    .first_due_date
                    .map(|d| date(&d, "firstDueDate"))
                    .transpose()?,
            }
        } else {
            DisbursementOutcome::Failed {
                reason: input.reason.unwrap_or_default(),
            }
        };
        LoanMutation
            .send(
                ctx,
                &id,
                LoanCommand::RecordDisbursementResult {
                    message_id: input.message_id,
                    request_id: input.request_id,
                    outcome,
                },
            )
            .await
    }

    /// A repayment the core received, where delivered over the API (usually
    /// `core.repayments.v1`).
    async fn record_loan_repayment(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: LoanRepaymentInput,
    ) -> Result<LoanPayload> {
        let channel: DomainChannel = input.channel;
        LoanMutation
            .send(
                ctx,
                &id,
                LoanCommand::RecordRepayment {
                    message_id: input.message_id,
                    received_on: date(&input.received_on, "receivedOn")?,
                    amount: decimal(&input.amount, "amount")?,
                    channel,
                    prepayment_id: input.prepayment_id,
                    repayment_no: input.repayment_no,
                },
            )
            .await
    }
}

/// Input of `recordDisbursementResult`.
#[derive(InputObject)]
pub struct DisbursementResultInput {
    /// The core's message id; a repeat changes nothing.
    pub message_id: String,
    /// The `requestId` of the disbursement request answered.
    pub request_id: String,
    /// Paid out (true) or failed (放款失败).
    pub paid: bool,
    /// 起息日 (YYYY-MM-DD) when paid.
    pub value_date: Option<String>,
    /// 首次还款日 (YYYY-MM-DD); a month after the value date when absent.
    pub first_due_date: Option<String>,
    /// Why it failed.
    pub reason: Option<String>,
}

/// Input of `recordLoanRepayment`.
#[derive(InputObject)]
pub struct LoanRepaymentInput {
    /// The core's message id; a repeat changes nothing.
    pub message_id: String,
    /// The Asia/Shanghai day received (YYYY-MM-DD).
    pub received_on: String,
    /// Amount (decimal text).
    pub amount: String,
    /// Auto-debit, active or a prepayment's settlement.
    pub channel: RepaymentChannel,
    /// The prepayment settled (channel PREPAYMENT).
    pub prepayment_id: Option<String>,
    /// The partner's active repayment answered (channel ACTIVE).
    pub repayment_no: Option<String>,
}
