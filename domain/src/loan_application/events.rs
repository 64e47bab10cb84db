//! What happened to a `LoanApplication`: its event stream is the loan's history.

use cqrs_es::DomainEvent;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::aggregate::{ApprovalRoute, Node, Product, WhitelistResult};
use super::commands::CoreRequestKind;
use super::ledger::{LoanTerms, PenaltyAccrual, PrepaymentQuote, RepaymentChannel, RepaymentPart};
use super::terms::{ContractTerms, CreditOffer, LoanDocument, VerificationPurpose};
use crate::interview_task::{Participant, TaskKind};
use crate::repayment::{PlannedInstallment, PrepaymentChoice};

/// Facts recorded about a `LoanApplication`.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema, strum::IntoStaticStr,
)]
pub enum LoanEvent {
    /// Submitted at 提交申请.
    LoanSubmitted {
        /// Product.
        #[serde(default)]
        product: Product,
        /// Contract.
        contract_no: String,
        /// Amount applied for (none for 融信秒贷, which chooses it after approval).
        amount: Option<Decimal>,
        /// 贷款期限 chosen at application (融信秒贷).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        term_months: Option<u32>,
        /// 贷款用途 (融信秒贷).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        purpose: Option<String>,
        /// The branch (分行) that runs the business.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        branch: Option<String>,
        /// Interview flow.
        task_kind: TaskKind,
        /// Product code.
        product_code: String,
        /// Channel code.
        channel_code: String,
        /// Account manager.
        manager_id: String,
        /// Participants, de-duplicated.
        participants: Vec<Participant>,
        /// 房产位置, when the credit system sent it (absent from older events).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        property_location: Option<Box<crate::interview_task::PropertyLocation>>,
    },
    /// Moved forward.
    LoanAdvanced {
        /// From.
        from: Node,
        /// To.
        to: Node,
    },
    /// Moved back.
    LoanRolledBack {
        /// From.
        from: Node,
        /// To.
        to: Node,
        /// Why.
        reason: String,
        /// The interview task current when it happened (to be superseded when
        /// the roll-back reaches 面谈).
        interview_task: Option<String>,
    },
    /// The loan now waits on this interview task.
    InterviewTaskAttached {
        /// The task.
        task_id: String,
    },
    /// The current task passed.
    InterviewPassed {
        /// The task.
        task_id: String,
    },
    /// The seat confirmed or corrected the loan figures on the call.
    LoanInfoReviewed {
        /// The task event that did it.
        review_id: String,
        /// The interview task.
        task_id: String,
        /// The seat.
        seat_id: String,
        /// Corrected (true) or confirmed.
        corrected: bool,
        /// The figures as the seat left them.
        info: Box<crate::interview_task::LoanInfo>,
    },
    /// 合同下载: the customer asked for the contract by e-mail; it goes out as an
    /// encrypted archive whose password (解压码) the request record shows. The
    /// password is kept outside the log (it would reach every reader of the
    /// loan topic), in `contract_download_secrets`.
    ContractDownloadRequested {
        /// The request.
        request_id: String,
        /// Where it goes.
        email: String,
    },
    /// The contract archive was sent (邮件发送状态: 已发送).
    ContractDelivered {
        /// The request.
        request_id: String,
    },
    /// The contract archive could not be sent.
    ContractDeliveryFailed {
        /// The request.
        request_id: String,
        /// Why.
        reason: String,
    },
    /// ERP whitelist result recorded.
    WhitelistChecked {
        /// The result.
        result: WhitelistResult,
    },
    /// A face check attempt.
    FaceChecked {
        /// Whether it passed.
        passed: bool,
        /// Asia/Shanghai day of the attempt (YYYY-MM-DD).
        day: String,
        /// Failed attempts that day, this one included.
        failures_today: u32,
    },
    /// Submitted for approval on a route (申请中 → 审批中).
    ApprovalRequested {
        /// Amount applied for (none for 融信秒贷 online: chosen after approval).
        amount: Option<Decimal>,
        /// Who approves.
        route: ApprovalRoute,
        /// The limit in force.
        auto_approval_limit: Decimal,
    },
    /// Approved (审批中 → 待放款).
    LoanApproved {
        /// The route.
        route: ApprovalRoute,
        /// The approved credit limit (授信额度), when given (absent in events
        /// stored before it was recorded).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        credit_limit: Option<Decimal>,
        /// What the credit system offered online (absent for a manager's
        /// approval and in events stored before offers were recorded).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        offer: Option<CreditOffer>,
    },
    /// Declined (未通过).
    LoanDeclined {
        /// Why, in the credit system's wording (passed through to the customer).
        reason: String,
    },
    /// Submitted again (未通过 → 申请中).
    LoanResubmitted {
        /// The amount now (none for 融信秒贷 online).
        amount: Option<Decimal>,
        /// The term now.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        term_months: Option<u32>,
        /// The purpose now.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        purpose: Option<String>,
    },
    /// The customer accepted a text (授权书, 声明书); the metadata says who and when.
    LoanDocumentAccepted {
        /// Which text.
        document: LoanDocument,
        /// Its version, as shown.
        version: String,
        /// The purpose declared (贷款用途声明书).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        purpose: Option<String>,
    },
    /// The verification service checked the SMS code and transaction password.
    CustomerVerified {
        /// What for.
        purpose: VerificationPurpose,
        /// Whether it passed.
        passed: bool,
    },
    /// After approval the customer chose the amount and term (期望额度 ≤ 授信额度);
    /// online, the contract's terms follow; above the online limit a manager approves.
    LoanAmountChosen {
        /// The amount.
        amount: Decimal,
        /// The term.
        term_months: u32,
        /// Online (AUTOMATIC) or, above the limit, a manager (MANUAL).
        route: ApprovalRoute,
        /// The contract's terms now (online only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        terms: Option<ContractTerms>,
    },
    /// The credit system set the final signing rate (最终签约利率).
    SigningRateSet {
        /// The rate.
        annual_rate: Decimal,
        /// The contract's terms now, when the amount is chosen.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        terms: Option<ContractTerms>,
    },
    /// The contract was e-signed.
    ContractSigned {
        /// Reference of the signed contract.
        signature_ref: String,
        /// The contract's terms (absent in events stored before they were recorded).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        terms: Option<LoanTerms>,
        /// The full terms signed, with their version (absent in events stored
        /// before the bank set the terms: those carried the customer's figures).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        contract: Option<ContractTerms>,
    },
    /// The customer confirmed disbursement; the core is asked to pay out
    /// (待放款 → 放款中). Downstream: the core reads it from the loan topic.
    DisbursementRequested {
        /// Quoted back by the core's result.
        request_id: String,
        /// The account to pay into.
        account: String,
        /// The amount.
        amount: Decimal,
        /// The contract's terms.
        terms: LoanTerms,
    },
    /// The core could not pay out (放款失败; 放款中 → 待放款, the customer may confirm again).
    DisbursementFailed {
        /// The request.
        request_id: String,
        /// The core's message.
        message_id: String,
        /// The core's reason.
        reason: String,
    },
    /// Paid out (放款中 → 已放款), with the plan the loan is repaid by.
    LoanDisbursed {
        /// The account.
        account: String,
        /// What the core confirmed and the plan made from it (absent in events
        /// stored before disbursement went through the core).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        disbursement: Option<Disbursement>,
    },
    /// The core received a repayment, booked penalty, interest, principal per period.
    RepaymentReceived {
        /// The core's message.
        message_id: String,
        /// The day received.
        received_on: chrono::NaiveDate,
        /// Amount received.
        amount: Decimal,
        /// Auto-debit, active or prepayment.
        channel: RepaymentChannel,
        /// The prepayment settled.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prepayment_id: Option<String>,
        /// The active repayment requested this answers.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        repayment_no: Option<String>,
        /// Penalty accrued through the day before booking.
        accruals: Vec<PenaltyAccrual>,
        /// What it paid of each period.
        parts: Vec<RepaymentPart>,
        /// Principal prepaid ahead of the plan.
        prepaid_principal: Decimal,
        /// Interest on the prepaid principal.
        prepaid_interest: Decimal,
    },
    /// The periods not yet due were re-planned after a prepayment.
    PlanRecalculated {
        /// The prepayment.
        prepayment_id: String,
        /// The first period replaced.
        from_period: u32,
        /// The new periods (none after a full prepayment).
        plan: Vec<PlannedInstallment>,
    },
    /// Everything is repaid (已结清).
    LoanSettled {
        /// The day.
        on: chrono::NaiveDate,
    },
    /// The core's auto-debit failed.
    AutoDebitFailed {
        /// The core's message.
        message_id: String,
        /// The day attempted.
        attempted_on: chrono::NaiveDate,
        /// Amount attempted.
        amount: Decimal,
        /// The oldest unpaid period.
        period: Option<u32>,
        /// Why.
        reason: String,
        /// The active repayment requested whose debit failed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        repayment_no: Option<String>,
    },
    /// 主动还款: the core is asked to debit the amount (published for the core).
    RepaymentRequested {
        /// The partner's repayment no.
        repayment_no: String,
        /// Amount.
        amount: Decimal,
    },
    /// A period is overdue (逾期: not fully paid by its due date).
    InstallmentOverdue {
        /// The period.
        period: u32,
        /// Its due date.
        due_date: chrono::NaiveDate,
        /// Principal and interest unpaid.
        unpaid: Decimal,
    },
    /// A repayment reminder is due (还款日前X天短信提醒).
    RepaymentReminderDue {
        /// The period.
        period: u32,
        /// Its due date.
        due_date: chrono::NaiveDate,
        /// What it asks for.
        amount: Decimal,
    },
    /// The customer applied for a prepayment, quoted for the day.
    PrepaymentRequested {
        /// The application.
        prepayment_id: String,
        /// Partial: shorter term or lower installment; none: full.
        choice: Option<PrepaymentChoice>,
        /// Today's quote.
        quote: PrepaymentQuote,
    },
    /// Approved, quoted for the debit day.
    PrepaymentApproved {
        /// The application.
        prepayment_id: String,
        /// The binding quote (its `quotedOn` is the debit day).
        quote: PrepaymentQuote,
    },
    /// The approved prepayment's debit notice is due (003: 提前3个工作日提示客户
    /// 提前还款扣款日将自动扣款，并提示客户自动扣款金额).
    PrepaymentDebitNoticeDue {
        /// The application.
        prepayment_id: String,
        /// 提前还款扣款日.
        debit_date: chrono::NaiveDate,
        /// 自动扣款金额: the approved quote's total.
        amount: Decimal,
    },
    /// 人工落地: the core did not answer the request in time; a person handles it.
    ManualCaseOpened {
        /// Disbursement or repayment.
        kind: CoreRequestKind,
        /// The request.
        request_id: String,
        /// When it was asked of the core.
        requested_at: chrono::DateTime<chrono::Utc>,
        /// How long it had waited, in seconds.
        waited_secs: i64,
    },
    /// An operator recorded the core's answer (the result's events follow).
    ManualCaseResolved {
        /// The request.
        request_id: String,
        /// The core's voucher or transaction no.
        core_reference: String,
        /// What the operator saw and did.
        note: String,
        /// PAID, FAILED, RECEIVED or DEBIT_FAILED.
        outcome: String,
    },
    /// Refused.
    PrepaymentRefused {
        /// The application.
        prepayment_id: String,
        /// Why.
        reason: String,
    },
}

/// What the core confirmed at disbursement, and the plan made from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Disbursement {
    /// The request answered.
    pub request_id: String,
    /// The core's message.
    pub message_id: String,
    /// 起息日.
    pub value_date: chrono::NaiveDate,
    /// Amount paid out.
    pub amount: Decimal,
    /// The contract's terms.
    pub terms: LoanTerms,
    /// 还款计划: every period with its due date.
    pub plan: Vec<PlannedInstallment>,
}

impl DomainEvent for LoanEvent {
    fn event_type(&self) -> String {
        <&'static str>::from(self).to_string()
    }

    fn event_version(&self) -> String {
        match self {
            // 1.1: the bank sets the terms (issue 32); `crate::upcast` lifts 1.0.
            LoanEvent::LoanSubmitted { .. }
            | LoanEvent::ApprovalRequested { .. }
            | LoanEvent::LoanApproved { .. }
            | LoanEvent::LoanResubmitted { .. }
            | LoanEvent::ContractSigned { .. } => "1.1",
            _ => "1.0",
        }
        .to_string()
    }
}
