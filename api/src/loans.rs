//! Loans in GraphQL: the 永续贷 pipeline with roll-backs, the lineage of a
//! contract's interview tasks, and 等额本息 schedules.

use domain::message::message;
use std::str::FromStr;

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use domain::loan_application::{LoanApplication, LoanCommand};
use domain::repayment;
use projections::loan_lineage::{LineageRow, LoanLineage, NodeChangeRow};
use rust_decimal::Decimal;

use crate::access;
use crate::access::checks;
use crate::command;
use crate::context::{request, state, viewer};
use crate::error::ApiError;
use crate::interview_task::{ParticipantInput, TaskKind};
use projections::task_board::TaskBoard;

/// The domain's enum, a GraphQL enum through its `graphql` feature.
pub use domain::loan_application::Node as LoanNode;
/// The domain's enum, a GraphQL enum through its `graphql` feature.
pub use domain::loan_application::Product as LoanProduct;
pub use domain::loan_application::WhitelistResult;

/// Input of `submitLoanApplication`.
#[derive(InputObject)]
pub struct SubmitLoanInput {
    /// The product; decides the pipeline.
    #[graphql(default)]
    pub product: LoanProduct,
    /// Application no (the loan's id).
    pub application_no: String,
    /// Loan contract number.
    pub contract_no: String,
    /// Amount in CNY, decimal text (e.g. "500000.00"): required for 永续贷 and
    /// 融信贷; 融信秒贷 chooses it after approval (003 §二(三), §二(四)).
    pub amount: Option<String>,
    /// 贷款期限 in months the customer chose (融信秒贷: required).
    pub term_months: Option<u32>,
    /// 贷款用途 (融信秒贷: required).
    pub purpose: Option<String>,
    /// Interview flow of the product.
    pub task_kind: TaskKind,
    /// Product code.
    pub product_code: String,
    /// Channel code.
    pub channel_code: String,
    /// Account manager.
    pub manager_id: String,
    /// Everyone on the contract.
    pub participants: Vec<ParticipantInput>,
    /// 房产位置 (001 2.3.1): passed on to the interview task; a 省内 one is refused.
    pub property_location: Option<crate::interview_task::PropertyLocation>,
    /// The branch (分行) that runs the business (003: 对不同分行开展的融信贷业务).
    pub branch: Option<String>,
}

/// A move of a loan.
#[derive(SimpleObject)]
pub struct NodeChange {
    /// SUBMIT, ADVANCE or ROLL_BACK.
    pub kind: String,
    /// From.
    pub from: String,
    /// To.
    pub to: String,
    /// Why (roll-backs).
    pub reason: Option<String>,
    /// Who.
    pub actor_id: String,
    /// In which role.
    pub actor_role: String,
    /// When (RFC 3339).
    pub at: String,
}

impl From<NodeChangeRow> for NodeChange {
    fn from(r: NodeChangeRow) -> Self {
        Self {
            kind: r.kind,
            from: r.from_node,
            to: r.to_node,
            reason: r.reason,
            actor_id: r.actor_id,
            actor_role: r.actor_role,
            at: r.at,
        }
    }
}

pub use domain::loan_application::LoanDocument;
pub use domain::loan_application::VerificationPurpose;

/// What the credit system approved (授信额度, 执行年利率, the terms allowed).
#[derive(SimpleObject)]
pub struct CreditOfferView {
    /// 授信额度 (decimal text, CNY).
    pub credit_limit: String,
    /// 执行年利率 offered (decimal text).
    pub annual_rate: String,
    /// The terms (months) the customer may choose among.
    pub allowed_term_months: Vec<u32>,
    /// 还款方式.
    pub repayment_method: crate::loan_servicing::RepaymentMethod,
}

/// The contract's terms as shown to the customer, who signs them by `digest`.
#[derive(SimpleObject)]
pub struct ContractTermsView {
    /// 1, 2, 3… a new version on every change.
    pub version: u32,
    /// SHA-256 of the terms: what `signLoanContract` names.
    pub digest: String,
    /// 合同金额 (decimal text).
    pub amount: String,
    /// 币种.
    pub currency: String,
    /// 贷款期限 in months.
    pub term_months: u32,
    /// 最终签约利率 (decimal text).
    pub annual_rate: String,
    /// 贷款用途.
    pub purpose: String,
    /// 还款方式.
    pub repayment_method: crate::loan_servicing::RepaymentMethod,
    /// 罚息年利率 (decimal text).
    pub penalty_annual_rate: String,
    /// Each installment of 等额本息 (the first one for 等额本金), decimal text.
    pub first_installment: String,
    /// 利息合计 over the term (decimal text).
    pub total_interest: String,
    /// 首次还款日 if paid out today (YYYY-MM-DD): a month after the value
    /// date; the core's value date decides it at disbursement.
    pub first_due_date: String,
}

/// A consent, verification or signature on the loan: who, when, which version.
#[derive(SimpleObject)]
pub struct LoanEvidenceView {
    /// CONSENT, VERIFICATION or SIGNATURE.
    pub kind: String,
    /// The text (e.g. CREDIT_REPORT_QUERY), the verification's purpose, or CONTRACT.
    pub subject: String,
    /// The text's or the terms' version.
    pub version: Option<String>,
    /// The purpose declared, PASSED / FAILED, or the signed terms' digest.
    pub detail: Option<String>,
    /// Who (a customer's ID number masked like their other data).
    pub actor_id: String,
    /// In which role.
    pub actor_role: String,
    /// When (RFC 3339).
    pub at: String,
}

/// A loan application with its node history.
#[derive(SimpleObject)]
pub struct LoanApplicationView {
    /// Application no.
    pub id: ID,
    /// Contract.
    pub contract_no: String,
    /// Amount (decimal text); none for a 融信秒贷 until chosen after approval.
    pub amount: Option<String>,
    /// Product (stored name).
    pub product: Option<String>,
    /// Who approves: AUTOMATIC (online) or MANUAL.
    pub route: Option<String>,
    /// 贷款期限 in months.
    pub term_months: Option<i64>,
    /// 贷款用途.
    pub purpose: Option<String>,
    /// What the credit system approved.
    pub credit_offer: Option<CreditOfferView>,
    /// The contract's terms as they stand.
    pub contract_terms: Option<ContractTermsView>,
    /// Consents, verifications and signatures, in order.
    pub evidence: Vec<LoanEvidenceView>,
    /// Current node (stored name).
    pub node: String,
    /// The interview task it waits on.
    pub interview_task_id: Option<ID>,
    /// 放款中: the request the core has not answered yet (its `requestId`).
    pub disbursement_request_id: Option<String>,
    /// Every move, in order.
    pub history: Vec<NodeChange>,
}

/// One interview task of a contract's lineage.
#[derive(SimpleObject)]
pub struct LineageEntry {
    /// Task.
    pub task_id: ID,
    /// 1 for the first task of the contract, then 2, 3...
    pub round: i64,
    /// The task it replaced.
    pub supersedes: Option<ID>,
    /// The task that replaced it.
    pub superseded_by: Option<ID>,
    /// The loan transition that opened it (e.g. 家访→面谈, 面签→面谈).
    pub transition: String,
    /// Why it was opened.
    pub reason: Option<String>,
    /// Who caused it.
    pub actor_id: String,
    /// In which role.
    pub actor_role: String,
    /// When (RFC 3339).
    pub created_at: String,
    /// The transition that superseded it.
    pub superseded_transition: Option<String>,
    /// Why it was superseded.
    pub superseded_reason: Option<String>,
    /// When it was superseded.
    pub superseded_at: Option<String>,
}

impl From<LineageRow> for LineageEntry {
    fn from(r: LineageRow) -> Self {
        Self {
            task_id: ID(r.task_id),
            round: r.round,
            supersedes: r.supersedes.map(ID),
            superseded_by: r.superseded_by.map(ID),
            transition: r.transition,
            reason: r.reason,
            actor_id: r.actor_id,
            actor_role: r.actor_role,
            created_at: r.created_at,
            superseded_transition: r.superseded_transition,
            superseded_reason: r.superseded_reason,
            superseded_at: r.superseded_at,
        }
    }
}

/// One period of a repayment schedule.
#[derive(SimpleObject)]
pub struct InstallmentView {
    /// 1-based period.
    pub period: u32,
    /// Due (decimal text).
    pub amount: String,
    /// Principal part.
    pub principal: String,
    /// Interest part.
    pub interest: String,
    /// Principal owed afterwards.
    pub balance_after: String,
}

/// A decimal argument, or VALIDATION naming the field.
pub(crate) fn decimal(text: &str, field: &str) -> Result<Decimal, ApiError> {
    Decimal::from_str(text.trim())
        .map_err(|_| ApiError::validation(message!("{field} is not a decimal number")))
}

async fn loan_view(ctx: &Context<'_>, id: &str) -> Result<Option<LoanApplicationView>> {
    let pool = state(ctx).database.read_models();
    let Some(loan) = LoanLineage::loan(pool, id).await.map_err(ApiError::from)? else {
        return Ok(None);
    };
    let history = LoanLineage::history(pool, id)
        .await
        .map_err(ApiError::from)?;
    let evidence = LoanLineage::evidence(pool, id)
        .await
        .map_err(ApiError::from)?;
    let reveals = access::reveals(viewer(ctx), access::Showing::Alone);
    let today = domain::schedule::shanghai_date(state(ctx).bus.services().clock.now());
    Ok(Some(LoanApplicationView {
        id: ID(loan.loan_id),
        contract_no: loan.contract_no,
        amount: Some(loan.amount).filter(|a| !a.is_empty()),
        product: loan.product,
        route: loan.route,
        term_months: loan.term_months,
        purpose: loan.purpose,
        credit_offer: loan
            .credit_offer
            .as_deref()
            .map(credit_offer_view)
            .transpose()?,
        contract_terms: loan
            .contract_terms
            .as_deref()
            .map(|t| contract_terms_view(t, today))
            .transpose()?,
        evidence: evidence
            .into_iter()
            .map(|row| LoanEvidenceView {
                actor_id: access::actor_id(reveals, &row.actor_role, &row.actor_id),
                kind: row.kind,
                subject: row.subject,
                version: row.version,
                detail: row.detail,
                actor_role: row.actor_role,
                at: row.at,
            })
            .collect(),
        node: loan.node,
        interview_task_id: loan.interview_task.map(ID),
        disbursement_request_id: loan.disbursement_request,
        history: history
            .into_iter()
            .map(|row| {
                let mut change: NodeChange = row.into();
                // A customer acts under their ID number: masked like their other data.
                change.actor_id = access::actor_id(
                    access::reveals(viewer(ctx), access::Showing::Alone),
                    &change.actor_role,
                    &change.actor_id,
                );
                change
            })
            .collect(),
    }))
}

fn credit_offer_view(stored: &str) -> Result<CreditOfferView, ApiError> {
    let offer: domain::loan_application::CreditOffer =
        serde_json::from_str(stored).map_err(ApiError::internal)?;
    Ok(CreditOfferView {
        credit_limit: offer.credit_limit.to_string(),
        annual_rate: offer.annual_rate.normalize().to_string(),
        allowed_term_months: offer.allowed_term_months,
        repayment_method: offer.method,
    })
}

fn contract_terms_view(
    stored: &str,
    today: chrono::NaiveDate,
) -> Result<ContractTermsView, ApiError> {
    let terms: domain::loan_application::ContractTerms =
        serde_json::from_str(stored).map_err(ApiError::internal)?;
    let schedule = terms.schedule().map_err(ApiError::internal)?;
    let first_due = today
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(today);
    Ok(ContractTermsView {
        version: terms.version,
        digest: terms.digest(),
        amount: format!("{:.2}", terms.amount),
        currency: terms.currency.clone(),
        term_months: terms.term_months,
        annual_rate: terms.annual_rate.normalize().to_string(),
        purpose: terms.purpose.clone(),
        repayment_method: terms.method,
        penalty_annual_rate: terms.penalty_annual_rate.normalize().to_string(),
        first_installment: schedule
            .first()
            .map(|i| i.amount.to_string())
            .unwrap_or_default(),
        total_interest: repayment::total_interest(&schedule).to_string(),
        first_due_date: first_due.to_string(),
    })
}

pub use domain::repayment::PrepaymentChoice;

/// Input of `prepaymentPlan`.
#[derive(InputObject)]
pub struct PrepaymentInput {
    /// Principal still owed (decimal text).
    pub outstanding: String,
    /// Periods left.
    pub remaining_months: u32,
    /// Annual rate (e.g. "0.0435").
    pub annual_rate: String,
    /// The installment paid now.
    pub current_installment: String,
    /// Amount prepaid (below the outstanding principal).
    pub amount: String,
    /// Shorter term or lower installment.
    pub choice: PrepaymentChoice,
}

fn installments(schedule: Vec<repayment::Installment>) -> Vec<InstallmentView> {
    schedule
        .into_iter()
        .map(|i| InstallmentView {
            period: i.period,
            amount: i.amount.to_string(),
            principal: i.principal.to_string(),
            interest: i.interest.to_string(),
            balance_after: i.balance_after.to_string(),
        })
        .collect()
}

/// Loan queries.
#[derive(Default)]
pub struct LoanQuery;

#[Object]
impl LoanQuery {
    /// A loan application with its node history.
    async fn loan_application(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<Option<LoanApplicationView>> {
        if !checks::loan_visible(ctx, &id).await? {
            return Ok(None);
        }
        loan_view(ctx, &id).await
    }

    /// Every interview task of a contract, in order, with the transition, actor
    /// and reason that created or superseded it.
    async fn task_lineage(
        &self,
        ctx: &Context<'_>,
        contract_no: String,
    ) -> Result<Vec<LineageEntry>> {
        let pool = state(ctx).database.read_models();
        let rows = LoanLineage::lineage(pool, &contract_no)
            .await
            .map_err(ApiError::from)?;
        // Only the tasks of the chain the caller may read.
        let mut visible = Vec::with_capacity(rows.len());
        for row in rows {
            let readable = match TaskBoard::get(pool, &row.task_id)
                .await
                .map_err(ApiError::from)?
            {
                Some(task) => checks::read_task(ctx, &task).await.is_ok(),
                None => false,
            };
            if readable {
                visible.push(row.into());
            }
        }
        Ok(visible)
    }

    /// The 等额本息 schedule (003) of `principal` at `annualRate` (e.g. "0.0435")
    /// over `months`, half-up to the fen, the last period absorbing the rounding.
    async fn repayment_schedule(
        &self,
        principal: String,
        annual_rate: String,
        months: u32,
    ) -> Result<Vec<InstallmentView>> {
        let schedule = repayment::equal_installments(
            decimal(&principal, "principal")?,
            decimal(&annual_rate, "annualRate")?,
            months,
        )
        .map_err(|e| ApiError::validation(domain::message::Localized::message(&e)))?;
        Ok(installments(schedule))
    }

    /// The plan after a partial prepayment (003 提前还款).
    async fn prepayment_plan(&self, input: PrepaymentInput) -> Result<Vec<InstallmentView>> {
        let plan = repayment::after_partial_prepayment(
            decimal(&input.outstanding, "outstanding")?,
            input.remaining_months,
            decimal(&input.annual_rate, "annualRate")?,
            decimal(&input.current_installment, "currentInstallment")?,
            decimal(&input.amount, "amount")?,
            input.choice,
        )
        .map_err(|e| ApiError::validation(domain::message::Localized::message(&e)))?;
        Ok(installments(plan))
    }
}

/// The result of a loan command.
#[derive(SimpleObject)]
pub struct LoanPayload {
    /// The loan after the command (and what its process manager did).
    pub loan: Option<LoanApplicationView>,
    /// Whether the read models caught up in time.
    pub projected: bool,
}

/// Loan mutations.
#[derive(Default)]
pub struct LoanMutation;

impl LoanMutation {
    pub(crate) async fn send(
        &self,
        ctx: &Context<'_>,
        id: &str,
        command: LoanCommand,
    ) -> Result<LoanPayload> {
        let guard = checks::loan_guard(ctx)?;
        let sent = command::send::<LoanApplication>(ctx, id, command, &guard).await?;
        Ok(LoanPayload {
            loan: loan_view(ctx, id).await?,
            projected: sent.projected,
        })
    }
}

#[Object]
impl LoanMutation {
    /// Submits a 永续贷 application (提交申请).
    async fn submit_loan_application(
        &self,
        ctx: &Context<'_>,
        input: SubmitLoanInput,
    ) -> Result<LoanPayload> {
        let id = input.application_no.trim().to_string();
        if id.is_empty() || id.len() > 64 {
            return Err(
                ApiError::validation(message!("applicationNo must be 1 to 64 characters")).into(),
            );
        }
        let command = LoanCommand::Submit {
            product: input.product,
            contract_no: input.contract_no,
            amount: input.amount.map(|a| decimal(&a, "amount")).transpose()?,
            term_months: input.term_months,
            purpose: input.purpose,
            branch: input.branch,
            task_kind: input.task_kind,
            product_code: input.product_code,
            channel_code: input.channel_code,
            manager_id: input.manager_id,
            participants: input.participants.into_iter().map(Into::into).collect(),
            property_location: input.property_location.map(|p| Box::new(p.into())),
        };
        self.send(ctx, &id, command).await
    }

    /// Moves the loan to the next node; reaching 面谈 opens its interview task.
    async fn advance_loan_application(
        &self,
        ctx: &Context<'_>,
        id: ID,
        to: LoanNode,
    ) -> Result<LoanPayload> {
        self.send(ctx, &id, LoanCommand::Advance { to }).await
    }

    /// 融信秒贷: records the ERP whitelist result (秒贷 / 融信贷 / 无资格).
    async fn record_whitelist_result(
        &self,
        ctx: &Context<'_>,
        id: ID,
        result: WhitelistResult,
    ) -> Result<LoanPayload> {
        self.send(ctx, &id, LoanCommand::RecordWhitelist { result })
            .await
    }

    /// 融信秒贷: records a face check attempt; capped per Asia/Shanghai day.
    async fn record_loan_face_check(
        &self,
        ctx: &Context<'_>,
        id: ID,
        passed: bool,
    ) -> Result<LoanPayload> {
        self.send(ctx, &id, LoanCommand::RecordFaceCheck { passed })
            .await
    }

    /// 融信秒贷: submits for approval; up to the limit online, above it a manager.
    async fn submit_for_approval(&self, ctx: &Context<'_>, id: ID) -> Result<LoanPayload> {
        self.send(ctx, &id, LoanCommand::SubmitForApproval).await
    }

    /// 融信秒贷: approves on the application's route. Online the credit system
    /// approves with its offer: the approved credit limit (授信额度), the rate
    /// (执行年利率, e.g. "0.0435"), the terms it allows (months; the applied
    /// term when none) and the product's repayment method (等额本息 by default).
    /// A manager approves a 融信贷 application or a 秒贷 amount above the online
    /// limit (its amount may not exceed the limit given, 003 §二(一)).
    async fn approve_loan_application(
        &self,
        ctx: &Context<'_>,
        id: ID,
        credit_limit: Option<String>,
        annual_rate: Option<String>,
        #[graphql(default)] allowed_term_months: Vec<u32>,
        #[graphql(default)] repayment_method: crate::loan_servicing::RepaymentMethod,
    ) -> Result<LoanPayload> {
        let approver_role = request(ctx).command_context()?.actor.role;
        let credit_limit = credit_limit
            .map(|l| decimal(&l, "creditLimit"))
            .transpose()?;
        let annual_rate = annual_rate.map(|r| decimal(&r, "annualRate")).transpose()?;
        self.send(
            ctx,
            &id,
            LoanCommand::Approve {
                approver_role,
                credit_limit,
                annual_rate,
                allowed_term_months,
                method: repayment_method,
            },
        )
        .await
    }

    /// 融信秒贷: the customer accepts a text (授权书, 声明书) in the version shown;
    /// recorded as evidence on the loan (who, when, which version).
    async fn accept_loan_document(
        &self,
        ctx: &Context<'_>,
        id: ID,
        document: LoanDocument,
        version: String,
    ) -> Result<LoanPayload> {
        let command = LoanCommand::AcceptDocument { document, version };
        self.send(ctx, &id, command).await
    }

    /// 融信秒贷: the verification service records the check of the customer's
    /// SMS code and transaction password (before submission, before a contract
    /// download).
    async fn record_loan_verification(
        &self,
        ctx: &Context<'_>,
        id: ID,
        purpose: VerificationPurpose,
        passed: bool,
    ) -> Result<LoanPayload> {
        let command = LoanCommand::RecordVerification { purpose, passed };
        self.send(ctx, &id, command).await
    }

    /// 融信秒贷: after approval the customer enters the amount (≤ 授信额度) and
    /// may pick a term the bank allows; up to the online limit the contract's
    /// terms follow, above it a manager approves and the rest is offline.
    async fn choose_loan_amount(
        &self,
        ctx: &Context<'_>,
        id: ID,
        amount: String,
        term_months: Option<u32>,
    ) -> Result<LoanPayload> {
        checks::read_loan(ctx, &id).await?;
        let command = LoanCommand::ChooseAmount {
            amount: decimal(&amount, "amount")?,
            term_months,
        };
        self.send(ctx, &id, command).await
    }

    /// 融信秒贷: the credit system sets the final signing rate (最终签约利率)
    /// before the contract is signed; the terms get a new version.
    async fn set_signing_rate(
        &self,
        ctx: &Context<'_>,
        id: ID,
        annual_rate: String,
    ) -> Result<LoanPayload> {
        let command = LoanCommand::SetSigningRate {
            annual_rate: decimal(&annual_rate, "annualRate")?,
        };
        self.send(ctx, &id, command).await
    }

    /// 融信秒贷: declines (未通过).
    async fn decline_loan_application(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
    ) -> Result<LoanPayload> {
        self.send(ctx, &id, LoanCommand::Decline { reason }).await
    }

    /// 融信秒贷: submits a declined application again, optionally with another
    /// amount (融信贷), term or purpose.
    async fn resubmit_loan_application(
        &self,
        ctx: &Context<'_>,
        id: ID,
        amount: Option<String>,
        term_months: Option<u32>,
        purpose: Option<String>,
    ) -> Result<LoanPayload> {
        let amount = amount.map(|a| decimal(&a, "amount")).transpose()?;
        let command = LoanCommand::Resubmit {
            amount,
            term_months,
            purpose,
        };
        self.send(ctx, &id, command).await
    }

    /// 融信秒贷: the customer e-signs (数字签名) the contract's terms as shown,
    /// named by their `digest` (`loanApplication.contractTerms.digest`); if the
    /// terms changed since, `CONFLICT` and nothing is signed. The figures are
    /// the bank's: nothing here can change a rate, a term or a method.
    async fn sign_loan_contract(
        &self,
        ctx: &Context<'_>,
        id: ID,
        signature_ref: String,
        terms_digest: String,
    ) -> Result<LoanPayload> {
        let command = LoanCommand::SignContract {
            signature_ref,
            terms_digest,
        };
        self.send(ctx, &id, command).await
    }

    /// 融信秒贷: the customer confirms disbursement (确认放款) after signing; the
    /// core is asked to pay out (放款中) and the loan is 已放款 when it confirms.
    async fn confirm_disbursement(
        &self,
        ctx: &Context<'_>,
        id: ID,
        account: String,
    ) -> Result<LoanPayload> {
        self.send(ctx, &id, LoanCommand::ConfirmDisbursement { account })
            .await
    }

    /// Moves the loan back (逆向); to or past 面谈 supersedes the interview task
    /// and opens its successor.
    async fn roll_back_loan_application(
        &self,
        ctx: &Context<'_>,
        id: ID,
        to: LoanNode,
        reason: String,
    ) -> Result<LoanPayload> {
        self.send(ctx, &id, LoanCommand::RollBack { to, reason })
            .await
    }
}
