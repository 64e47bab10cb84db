//! Loans in GraphQL: the 永续贷 pipeline with roll-backs, the lineage of a
//! contract's interview tasks, and 等额本息 schedules.

use std::str::FromStr;

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};
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

/// A node of the 永续贷 pipeline (001 2.7.1).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::loan_application::Node")]
pub enum LoanNode {
    /// 提交申请.
    Submitted,
    /// 初审.
    PreliminaryReview,
    /// 家访.
    HomeVisit,
    /// 面谈.
    Interview,
    /// 面签.
    Signing,
    /// 公证.
    Notarization,
    /// 已出他证.
    CertificateIssued,
    /// 放款 / 已放款.
    Disbursed,
    /// 融信秒贷 申请中.
    Applying,
    /// 融信秒贷 审批中.
    Approving,
    /// 融信秒贷 待放款.
    AwaitingDisbursement,
    /// 融信秒贷 未通过.
    Declined,
    /// 融信秒贷 放款中: the core has been asked to pay out.
    Disbursing,
    /// 已结清.
    Settled,
}

/// The product of an application.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Default)]
#[graphql(remote = "domain::loan_application::Product")]
pub enum LoanProduct {
    /// 永续贷 (001).
    #[default]
    Yongxu,
    /// 融信秒贷 (003).
    RongxinMiaodai,
    /// A partner platform's loan (002): opened when its partner order is
    /// disbursed, never submitted here.
    Partner,
}

/// 集团ERP验证 result (003).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::loan_application::WhitelistResult")]
pub enum WhitelistResult {
    /// 秒贷 whitelist.
    Miaodai,
    /// 融信贷 (employee, not whitelisted).
    Rongxindai,
    /// 无资格.
    NotEligible,
}

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
    /// Amount in CNY, decimal text (e.g. "500000.00").
    pub amount: String,
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

/// A loan application with its node history.
#[derive(SimpleObject)]
pub struct LoanApplicationView {
    /// Application no.
    pub id: ID,
    /// Contract.
    pub contract_no: String,
    /// Amount (decimal text).
    pub amount: String,
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
        .map_err(|_| ApiError::validation(format!("{field} is not a decimal number")))
}

async fn loan_view(ctx: &Context<'_>, id: &str) -> Result<Option<LoanApplicationView>> {
    let pool = state(ctx).database.read_models();
    let Some(loan) = LoanLineage::loan(pool, id).await.map_err(ApiError::from)? else {
        return Ok(None);
    };
    let history = LoanLineage::history(pool, id)
        .await
        .map_err(ApiError::from)?;
    Ok(Some(LoanApplicationView {
        id: ID(loan.loan_id),
        contract_no: loan.contract_no,
        amount: loan.amount,
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

/// What a partial prepayment changes (003 部分提前还款).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::repayment::PrepaymentChoice")]
pub enum PrepaymentChoice {
    /// Keep the installment, end earlier (缩短期限).
    ShorterTerm,
    /// Keep the end, lower the installment (减少月供).
    LowerInstallment,
}

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
        if let Err(e) = checks::read_loan(ctx, &id).await {
            return match e.code {
                domain::ErrorCode::NotFound => Ok(None),
                _ => Err(e.into()),
            };
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
        .map_err(|e| ApiError::validation(e.to_string()))?;
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
            input.choice.into(),
        )
        .map_err(|e| ApiError::validation(e.to_string()))?;
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
            return Err(ApiError::validation("applicationNo must be 1 to 64 characters").into());
        }
        let command = LoanCommand::Submit {
            product: input.product.into(),
            contract_no: input.contract_no,
            amount: decimal(&input.amount, "amount")?,
            task_kind: input.task_kind.into(),
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
        self.send(ctx, &id, LoanCommand::Advance { to: to.into() })
            .await
    }

    /// 融信秒贷: records the ERP whitelist result (秒贷 / 融信贷 / 无资格).
    async fn record_whitelist_result(
        &self,
        ctx: &Context<'_>,
        id: ID,
        result: WhitelistResult,
    ) -> Result<LoanPayload> {
        self.send(
            ctx,
            &id,
            LoanCommand::RecordWhitelist {
                result: result.into(),
            },
        )
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

    /// 融信秒贷: approves on the application's route (the credit system online, a
    /// manager offline), with the approved credit limit (授信额度, a decimal
    /// string in CNY): the credit system must give it, and the amount asked for
    /// may not exceed it (003 §二(一)).
    async fn approve_loan_application(
        &self,
        ctx: &Context<'_>,
        id: ID,
        credit_limit: Option<String>,
    ) -> Result<LoanPayload> {
        let approver_role = request(ctx).command_context()?.actor.role;
        let credit_limit = credit_limit
            .map(|l| decimal(&l, "creditLimit"))
            .transpose()?;
        self.send(
            ctx,
            &id,
            LoanCommand::Approve {
                approver_role,
                credit_limit,
            },
        )
        .await
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

    /// 融信秒贷: submits a declined application again, optionally for another amount.
    async fn resubmit_loan_application(
        &self,
        ctx: &Context<'_>,
        id: ID,
        amount: Option<String>,
    ) -> Result<LoanPayload> {
        let amount = amount.map(|a| decimal(&a, "amount")).transpose()?;
        self.send(ctx, &id, LoanCommand::Resubmit { amount }).await
    }

    /// 融信秒贷: the customer e-signs the contract with its terms (执行年利率, e.g.
    /// "0.0435"; 期限 in months; 还款方式, 等额本息 by default), from which the
    /// plan is made at disbursement. The penalty rate is the bank's
    /// (`FACESIGN_PENALTY_ANNUAL_RATE`, 0 by default: 003 目前我行不进行罚息).
    async fn sign_loan_contract(
        &self,
        ctx: &Context<'_>,
        id: ID,
        signature_ref: String,
        annual_rate: String,
        term_months: u32,
        #[graphql(default)] repayment_method: crate::loan_servicing::RepaymentMethod,
    ) -> Result<LoanPayload> {
        // Whose loan it is is answered before what is wrong with the figures.
        checks::read_loan(ctx, &id).await?;
        self.send(
            ctx,
            &id,
            LoanCommand::SignContract {
                signature_ref,
                annual_rate: decimal(&annual_rate, "annualRate")?,
                term_months,
                method: repayment_method.into(),
            },
        )
        .await
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
        self.send(
            ctx,
            &id,
            LoanCommand::RollBack {
                to: to.into(),
                reason,
            },
        )
        .await
    }
}
