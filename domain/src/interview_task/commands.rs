use serde::{Deserialize, Serialize};

use super::{ParticipantInput, TaskKind};

/// Commands an `InterviewTask` accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum InterviewTaskCommand {
    /// Open a task for a loan contract.
    Create(CreateInterviewTask),
    /// Withdraw a task that has not concluded (已撤销).
    Cancel(CancelInterviewTask),
}

/// Open an interview task for a loan contract (信贷系统 generates it per 借款合同).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateInterviewTask {
    /// Loan contract number (借款合同号), the business key of the task.
    pub contract_no: String,
    /// Which flow the interview follows; decides the required steps.
    pub kind: TaskKind,
    /// Product code (e.g. YXD for 永续贷).
    pub product_code: String,
    /// Channel the customer comes through (e.g. YYZX for 原银在线).
    pub channel_code: String,
    /// Staff no of the account manager (客户经理) who owns the case.
    pub manager_id: String,
    /// Everyone on the contract, possibly listed once per role.
    pub participants: Vec<ParticipantInput>,
}

/// Withdraw a task (工单 已撤销); allowed only from PENDING or IN_PROGRESS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CancelInterviewTask {
    /// Why it is withdrawn, kept for audit.
    pub reason: String,
}
