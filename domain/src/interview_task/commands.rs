use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{ParticipantInput, TaskKind};
use crate::error::ErrorCode;

/// Commands an `InterviewTask` accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum InterviewTaskCommand {
    /// Open a task for a loan contract.
    Create(CreateInterviewTask),
    /// Withdraw a task that has not concluded (已撤销).
    Cancel(CancelInterviewTask),
    /// Ask for an appointment: a first booking, a reschedule, a seat
    /// reassignment or a second interview. The scheduling process manager books
    /// the seat and every participant's agenda, then confirms or refuses it.
    RequestAppointment(RequestAppointment),
    /// The seat and agendas are booked: the request takes effect.
    ConfirmAppointment {
        /// The request being confirmed.
        booking_id: Uuid,
    },
    /// The seat or an agenda refused: the request is dropped, nothing changes.
    RefuseAppointment {
        /// The request being refused.
        booking_id: Uuid,
        /// Stable code of the refusal.
        code: ErrorCode,
        /// Why, for the requester.
        reason: String,
    },
    /// The appointment window passed without an interview (timer).
    ExpireAppointment {
        /// The appointment the timer was set for.
        booking_id: Uuid,
    },
    /// The seat starts the interview (处理中).
    StartInterview {
        /// Seat no of the agent.
        seat_no: String,
    },
    /// The seat that holds the interview puts the task back (000 放回): it is
    /// 待面谈 again and another seat may connect it; what was recorded stays.
    PutBack {
        /// Why, kept for audit.
        reason: String,
    },
    /// The seat concludes: 通过 or 存疑.
    ConcludeInterview {
        /// The seat's conclusion.
        outcome: InterviewOutcome,
    },
    /// A step, snapshot, document, message, remark, loan edit or call of the session.
    Session(super::session::SessionCommand),
    /// A reverse flow replaced this task with `successor_id` (001: 既往数据落库存档备调).
    Supersede {
        /// The new task.
        successor_id: String,
        /// The loan transition that did it, e.g. `面签→面谈`.
        transition: String,
        /// Why.
        reason: String,
    },
    /// The quality-control decision of a case opened for this task.
    ApplyQcDecision {
        /// The case.
        case_id: String,
        /// PASS or REJECT.
        verdict: QcVerdict,
        /// Reason codes of a reject (001 质检管理), as stored names.
        reasons: Vec<String>,
        /// The reviewer's comment.
        comment: String,
    },
}

/// The verdict of a quality-control case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
pub enum QcVerdict {
    /// 质检通过: 已面谈（待提交面签）.
    Pass,
    /// 质检拒件: 已面谈（面谈拒绝）.
    Reject,
}

/// Open an interview task for a loan contract (信贷系统 generates it per 借款合同).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CreateInterviewTask {
    /// The task's own id (the aggregate id it is sent to).
    pub task_id: String,
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
    /// Where the task comes from, when a loan flow opened it.
    pub lineage: Option<super::TaskLineage>,
    /// 房产位置: decides 省内/省外 where a home province is configured.
    #[serde(default)]
    pub property_location: Option<Box<super::PropertyLocation>>,
    /// The loan figures the credit system holds (001 §2.3.1.1 item 14:
    /// 预贷款/贷款信息), shown to the seat, who confirms or corrects them.
    #[serde(default)]
    pub loan_info: Option<Box<super::session::LoanInfo>>,
}

/// Withdraw a task (工单 已撤销); allowed only from PENDING or IN_PROGRESS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CancelInterviewTask {
    /// Why it is withdrawn, kept for audit.
    pub reason: String,
}

/// Why an appointment is requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AppointmentPurpose {
    /// The first booking (面谈预约, by the account manager).
    Book,
    /// A new time, by the main borrower or staff on their behalf (改约).
    Reschedule,
    /// Another seat at the same time, by a supervisor (预约再分配).
    Reassign,
    /// A disputed interview asks for another one (二次面谈).
    SecondInterview,
}

/// Who asked, as recorded on the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Requester {
    /// Actor id (a customer's is their ID number).
    pub actor_id: String,
    /// Role the actor acted in.
    pub role: String,
    /// Staff acting for the main borrower (e.g. after a phone call).
    pub on_behalf_of_borrower: bool,
}

/// Ask for an appointment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RequestAppointment {
    /// Id of this request; also the id of the seat and agenda bookings it makes.
    pub booking_id: Uuid,
    /// What the request is for.
    pub purpose: AppointmentPurpose,
    /// The seat to book.
    pub seat_no: String,
    /// Start of the slot (ignored for a reassignment, which keeps the time).
    pub start: DateTime<Utc>,
    /// End of the slot (ignored for a reassignment).
    pub end: DateTime<Utc>,
    /// Who asked.
    pub requester: Requester,
}

/// The seat's conclusion of an interview.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
pub enum InterviewOutcome {
    /// 通过.
    Pass,
    /// 存疑: goes to quality control.
    Doubtful,
}
