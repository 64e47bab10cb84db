//! What a `LoanApplication` is asked to do.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::aggregate::{Node, Product, WhitelistResult};
use crate::interview_task::{ParticipantInput, TaskKind};

/// Commands a `LoanApplication` accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LoanCommand {
    /// Submit an application (提交申请 / 申请中).
    Submit {
        /// The product (decides the pipeline).
        product: Product,
        /// Loan contract number, the key of its interview tasks.
        contract_no: String,
        /// Amount applied for (CNY).
        amount: Decimal,
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
    },
    /// 融信秒贷: declined (未通过).
    Decline {
        /// Why.
        reason: String,
    },
    /// 融信秒贷: a declined application is submitted again, possibly for another amount.
    Resubmit {
        /// New amount, if it changes.
        amount: Option<Decimal>,
    },
    /// 融信秒贷: the contract was e-signed (数字签名).
    SignContract {
        /// Reference of the signed contract.
        signature_ref: String,
    },
    /// 融信秒贷: the customer confirmed disbursement (确认放款).
    ConfirmDisbursement {
        /// Account the loan is paid into.
        account: String,
    },
}
