//! What happened to a `LoanApplication`: its event stream is the loan's history.

use cqrs_es::DomainEvent;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::aggregate::{ApprovalRoute, Node, Product, WhitelistResult};
use crate::interview_task::{Participant, TaskKind};

/// Facts recorded about a `LoanApplication`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LoanEvent {
    /// Submitted at 提交申请.
    LoanSubmitted {
        /// Product.
        #[serde(default)]
        product: Product,
        /// Contract.
        contract_no: String,
        /// Amount.
        amount: Decimal,
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
        /// Amount.
        amount: Decimal,
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
    },
    /// Declined (未通过).
    LoanDeclined {
        /// Why.
        reason: String,
    },
    /// Submitted again (未通过 → 申请中).
    LoanResubmitted {
        /// The amount now.
        amount: Decimal,
    },
    /// The contract was e-signed.
    ContractSigned {
        /// Reference of the signed contract.
        signature_ref: String,
    },
    /// Paid out (待放款 → 已放款).
    LoanDisbursed {
        /// The account.
        account: String,
    },
}

impl DomainEvent for LoanEvent {
    fn event_type(&self) -> String {
        match self {
            LoanEvent::LoanSubmitted { .. } => "LoanSubmitted",
            LoanEvent::LoanAdvanced { .. } => "LoanAdvanced",
            LoanEvent::LoanRolledBack { .. } => "LoanRolledBack",
            LoanEvent::InterviewTaskAttached { .. } => "InterviewTaskAttached",
            LoanEvent::InterviewPassed { .. } => "InterviewPassed",
            LoanEvent::WhitelistChecked { .. } => "WhitelistChecked",
            LoanEvent::FaceChecked { .. } => "FaceChecked",
            LoanEvent::ApprovalRequested { .. } => "ApprovalRequested",
            LoanEvent::LoanApproved { .. } => "LoanApproved",
            LoanEvent::LoanDeclined { .. } => "LoanDeclined",
            LoanEvent::LoanResubmitted { .. } => "LoanResubmitted",
            LoanEvent::ContractSigned { .. } => "ContractSigned",
            LoanEvent::LoanDisbursed { .. } => "LoanDisbursed",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}
