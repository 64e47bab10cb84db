//! What a `LoanApplication` is asked to do.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::aggregate::{Node, Product, WhitelistResult};
use super::ledger::RepaymentChannel;
use super::terms::{LoanDocument, VerificationPurpose};
use crate::interview_task::{ParticipantInput, TaskKind};
use crate::repayment::{PrepaymentChoice, RepaymentMethod};

/// Commands a `LoanApplication` accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum LoanCommand {
    /// Submit an application (提交申请 / 申请中).
    Submit {
        /// The product (decides the pipeline).
        product: Product,
        /// Loan contract number, the key of its interview tasks.
        contract_no: String,
        /// Amount applied for (CNY): required for 永续贷 and 融信贷; 融信秒贷 drops it
        /// (003 §二(三): 融信秒贷删掉"申请贷款（元）") and takes it after approval.
        amount: Option<Decimal>,
        /// 贷款期限 in months the customer chose (融信秒贷: required).
        term_months: Option<u32>,
        /// 贷款用途 (融信秒贷: required).
        purpose: Option<String>,
        /// The branch (分行) that runs the business (003: 对不同分行开展的融信贷业务).
        #[serde(default)]
        branch: Option<String>,
        /// Interview flow the product uses.
        task_kind: TaskKind,
        /// Product code.
        product_code: String,
        /// Channel code.
        channel_code: String,
        /// Account manager.
        manager_id: String,
        /// Everyone on the contract.
        participants: Vec<ParticipantInput>,
        /// 房产位置 (001 2.3.1), passed on to the interview task; a 省内 one is refused.
        property_location: Option<Box<crate::interview_task::PropertyLocation>>,
    },
    /// Move to the next node.
    Advance {
        /// The node to move to; must be the next one.
        to: Node,
    },
    /// Move back to an earlier node (a reverse flow, 逆向业务操作).
    RollBack {
        /// The node to move back to. 面谈 itself is allowed from 面谈 (the
        /// interview is redone).
        to: Node,
        /// Why.
        reason: String,
    },
    /// The process manager records the interview task the loan now waits on.
    AttachInterviewTask {
        /// The task.
        task_id: String,
    },
    /// The current interview task reached 已面谈（待提交面签）.
    RecordInterviewPassed {
        /// The task.
        task_id: String,
    },
    /// The seat confirmed or corrected the loan figures on the interview call
    /// (001 §2.3.1.1 item 14); the loan records it (the flow tells it).
    RecordSeatLoanInfoReview {
        /// The task event that did it (`task:sequence`): a redelivery is a no-op.
        review_id: String,
        /// The interview task.
        task_id: String,
        /// The seat.
        seat_id: String,
        /// Corrected (true) or confirmed as given.
        corrected: bool,
        /// The figures as the seat left them.
        info: Box<crate::interview_task::LoanInfo>,
    },
    /// 合同下载 (003 我的贷款): the customer asks for the signed contract by
    /// e-mail, after the verification service checked the transaction password.
    RequestContractDownload {
        /// The request's id.
        request_id: String,
        /// Where the archive goes.
        email: String,
    },
    /// The mailer's outcome for a contract download request.
    RecordContractDelivery {
        /// The request.
        request_id: String,
        /// Sent, or why not.
        outcome: Result<(), String>,
    },
    /// 融信秒贷: the ERP whitelist check came back.
    RecordWhitelist {
        /// 秒贷, 融信贷 or 无资格.
        result: WhitelistResult,
    },
    /// 融信秒贷: a face check (人脸识别) was attempted.
    RecordFaceCheck {
        /// Whether it passed.
        passed: bool,
    },
    /// 融信秒贷: the customer submits for approval; the amount decides the route.
    SubmitForApproval,
    /// 融信秒贷: approved (by the credit system online, or by a manager).
    Approve {
        /// Role of the approver.
        approver_role: String,
        /// The approved credit limit (授信额度, 003 §二(一)); the credit system
        /// always gives it, a manager when known.
        credit_limit: Option<Decimal>,
        /// 执行年利率 the credit system offers (online approval: required).
        annual_rate: Option<Decimal>,
        /// The terms (months) the credit system allows; the applied term when none.
        allowed_term_months: Vec<u32>,
        /// 还款方式 of the product (等额本息 unless it says otherwise).
        method: RepaymentMethod,
    },
    /// 融信秒贷: the customer accepts a text (授权书, 声明书) in the version shown.
    AcceptDocument {
        /// Which text.
        document: LoanDocument,
        /// The version of the text the customer was shown.
        version: String,
    },
    /// 融信秒贷: the verification service checked the customer's SMS code and
    /// transaction password (never the customer's own client).
    RecordVerification {
        /// What the check was for.
        purpose: VerificationPurpose,
        /// Whether it passed.
        passed: bool,
    },
    /// 融信秒贷: after approval the customer chooses the amount (≤ 授信额度) and,
    /// among the terms the bank allows, the term; the amount decides the route.
    ChooseAmount {
        /// 期望贷款的额度.
        amount: Decimal,
        /// A term among the allowed ones; the applied term when none.
        term_months: Option<u32>,
    },
    /// 融信秒贷: the credit system sets the final signing rate (最终签约利率).
    SetSigningRate {
        /// The rate, e.g. 0.0435.
        annual_rate: Decimal,
    },
    /// 融信秒贷: declined (未通过).
    Decline {
        /// Why.
        reason: String,
    },
    /// 融信秒贷: a declined application is submitted again, possibly changed.
    Resubmit {
        /// New amount (融信贷), if it changes.
        amount: Option<Decimal>,
        /// New term, if it changes.
        term_months: Option<u32>,
        /// New purpose, if it changes.
        purpose: Option<String>,
    },
    /// 融信秒贷: the customer e-signs (数字签名) the contract's current terms.
    SignContract {
        /// Reference of the signed contract.
        signature_ref: String,
        /// The digest of the terms the customer accepts; refused if they changed.
        terms_digest: String,
    },
    /// 融信秒贷: the customer confirmed disbursement (确认放款).
    ConfirmDisbursement {
        /// Account the loan is paid into.
        account: String,
    },
    /// The core system's answer to a disbursement request (a consumed message).
    RecordDisbursementResult {
        /// The core's message id; a repeat changes nothing.
        message_id: String,
        /// The request answered.
        request_id: String,
        /// Paid out or failed.
        outcome: DisbursementOutcome,
    },
    /// The core received a repayment (自动还款 or 主动还款, or a prepayment's settlement).
    RecordRepayment {
        /// The core's message id; a repeat changes nothing.
        message_id: String,
        /// The Asia/Shanghai day the money was received.
        received_on: chrono::NaiveDate,
        /// Amount received.
        amount: Decimal,
        /// Auto-debit, active repayment or prepayment.
        channel: RepaymentChannel,
        /// The prepayment application settled (channel PREPAYMENT).
        prepayment_id: Option<String>,
        /// The active repayment requested (a partner's 主动还款) this answers.
        repayment_no: Option<String>,
    },
    /// The core's auto-debit (自动还款) failed (a consumed message).
    RecordAutoDebitFailure {
        /// The core's message id; a repeat changes nothing.
        message_id: String,
        /// The day it was attempted.
        attempted_on: chrono::NaiveDate,
        /// What it tried to debit.
        amount: Decimal,
        /// Why it failed (e.g. 余额不足).
        reason: String,
        /// The active repayment requested whose debit failed, if not the scheduled one.
        repayment_no: Option<String>,
    },
    /// The daily review: periods now overdue, reminders now due.
    ReviewLedger {
        /// The Asia/Shanghai day.
        today: chrono::NaiveDate,
        /// 还款日前X天: remind this many days before a due date (0: no reminders).
        reminder_days: u32,
        /// The last debit day an approved prepayment's notice is due for today:
        /// three working days ahead in the bank's calendar (003 提前3个工作日).
        #[serde(default)]
        prepayment_notice_through: Option<chrono::NaiveDate>,
    },
    /// A partner loan is opened, paid out, when its order is disbursed (002).
    OpenPartnerLoan(OpenPartnerLoan),
    /// 主动还款 (002 item 22): the core is asked to debit `amount` from the
    /// bound card; idempotent by `repayment_no`.
    RequestRepayment {
        /// The partner's repayment no.
        repayment_no: String,
        /// Amount to debit.
        amount: Decimal,
    },
    /// The customer applies for a prepayment (提前还款申请), quoted for today.
    RequestPrepayment {
        /// The application's id (the caller's idempotency).
        application_id: String,
        /// Principal to prepay; none for a full prepayment (全部提前还款).
        principal: Option<Decimal>,
        /// For a partial one: shorter term or lower installment.
        choice: Option<PrepaymentChoice>,
    },
    /// 人工落地 (003: 建立联动超时或其他异常情况的服务机制，进行人工落地处理): a
    /// request the core has not answered in time becomes a case for a person.
    EscalateCoreRequest {
        /// A disbursement or an active repayment.
        kind: CoreRequestKind,
        /// The request.
        request_id: String,
        /// When it was asked of the core.
        requested_at: chrono::DateTime<chrono::Utc>,
        /// How long it has waited, in seconds.
        waited_secs: i64,
    },
    /// An operator records the core's answer to an escalated request, as the
    /// core gave it (its reference), and the loan goes on from there.
    ResolveManualCase {
        /// The request.
        request_id: String,
        /// The core's voucher or transaction no for the answer.
        core_reference: String,
        /// What the operator saw and did.
        note: String,
        /// The core's answer: a `RecordDisbursementResult`, `RecordRepayment`
        /// or `RecordAutoDebitFailure` naming the request.
        answer: Box<LoanCommand>,
    },
    /// A manager approves (with the debit day, 提前还款扣款日) or refuses the application.
    DecidePrepayment {
        /// The application.
        application_id: String,
        /// Approve or refuse.
        approve: bool,
        /// The day the core debits the prepayment (approval only).
        debit_date: Option<chrono::NaiveDate>,
        /// Why refused.
        reason: Option<String>,
    },
}

/// The partner order was disbursed: the loan opens paid out, with its plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OpenPartnerLoan {
    /// Partner code (the loan's channel).
    pub partner: String,
    /// The partner's order no (the loan's contract no).
    pub order_no: String,
    /// Amount borrowed.
    pub amount: Decimal,
    /// 执行年利率 of the credit approval.
    pub annual_rate: Decimal,
    /// Term in months.
    pub term_months: u32,
    /// 起息日.
    pub value_date: chrono::NaiveDate,
    /// The borrower.
    pub borrower: ParticipantInput,
    /// The order event that disbursed it (the disbursement's message id).
    pub disbursed_by: String,
}

/// What kind of request the core was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CoreRequestKind {
    /// 放款: `DisbursementRequested`.
    Disbursement,
    /// 主动还款: `RepaymentRequested`.
    Repayment,
}

/// What the core system answered to a disbursement request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DisbursementOutcome {
    /// The funds arrived (已放款).
    Paid {
        /// 起息日: the day the funds arrived (Asia/Shanghai).
        value_date: chrono::NaiveDate,
        /// 首次还款日; a month after the value date when the core does not say.
        first_due_date: Option<chrono::NaiveDate>,
    },
    /// 放款失败.
    Failed {
        /// The core's reason.
        reason: String,
    },
}
