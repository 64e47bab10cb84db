use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{AppointmentPurpose, InterviewOutcome, Participant, Requester, TaskKind, TaskStep};
use crate::error::ErrorCode;
use crate::schedule::Slot;

/// Facts recorded about an `InterviewTask`.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema, strum::IntoStaticStr,
)]
pub enum InterviewTaskEvent {
    /// The task was opened (status PENDING / 待面谈).
    InterviewTaskCreated(InterviewTaskCreated),
    /// The task was withdrawn (status CANCELLED / 已撤销).
    InterviewTaskCancelled(InterviewTaskCancelled),
    /// An appointment was asked for; the seat and agendas are being booked.
    AppointmentRequested(AppointmentRequested),
    /// The booking succeeded: the task has this appointment now.
    AppointmentConfirmed(AppointmentConfirmed),
    /// The booking failed: the task keeps what it had.
    AppointmentRefused(AppointmentRefused),
    /// The appointment window passed (status EXPIRED).
    AppointmentExpired {
        /// The appointment that expired.
        booking_id: Uuid,
    },
    /// The seat started the interview (status IN_PROGRESS / 处理中).
    InterviewStarted {
        /// Seat no.
        seat_no: String,
        /// When.
        started_at: DateTime<Utc>,
    },
    /// The seat holding the interview put the task back (000 放回): PENDING again.
    InterviewPutBack {
        /// The seat that held it.
        seat_no: String,
        /// Why.
        reason: String,
        /// When.
        put_back_at: DateTime<Utc>,
    },
    /// The seat concluded (PASSED or PENDING_QC).
    InterviewConcluded {
        /// 通过 or 存疑.
        outcome: InterviewOutcome,
        /// When.
        concluded_at: DateTime<Utc>,
        /// A pass drawn into quality control by the sample (always false for 存疑).
        #[serde(default)]
        sampled_for_qc: bool,
    },
    /// Something happened in the session (steps, snapshots, documents, chat,
    /// remarks, loan edits, calls).
    Session(super::session::SessionEvent),
    /// A reverse flow replaced the task (status SUPERSEDED); its data stays.
    InterviewTaskSuperseded {
        /// The new task.
        successor_id: String,
        /// The loan transition.
        transition: String,
        /// Why.
        reason: String,
        /// Bookings it frees.
        releases: Vec<BookingRef>,
    },
    /// Quality control passed the interview (status PASSED / 已面谈（待提交面签）).
    QcPassed {
        /// The case.
        case_id: String,
        /// The reviewer's comment.
        comment: String,
        /// The seat had concluded 存疑 (not a sampled 通过).
        was_doubtful: bool,
    },
    /// Quality control rejected the interview (status REJECTED / 已面谈（面谈拒绝）).
    QcRejected {
        /// The case.
        case_id: String,
        /// Reason codes.
        reasons: Vec<String>,
        /// The reviewer's comment.
        comment: String,
        /// The rejected interview had already passed (a sampled pass): the loan
        /// must be rolled back past 面谈 (docs/quality-control.md).
        rollback_loan: bool,
    },
}

/// Payload of `InterviewTaskCreated` (version 1.0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct InterviewTaskCreated {
    /// The task's own id.
    pub task_id: String,
    /// Loan contract number.
    pub contract_no: String,
    /// Interview flow.
    pub kind: TaskKind,
    /// Steps the kind requires, in order.
    pub required_steps: Vec<TaskStep>,
    /// Product code.
    pub product_code: String,
    /// Channel code.
    pub channel_code: String,
    /// Account manager staff no.
    pub manager_id: String,
    /// De-duplicated participants; exactly one is the main borrower.
    pub participants: Vec<Participant>,
    /// When the task was opened.
    pub created_at: DateTime<Utc>,
    /// Where the task comes from, when a loan flow opened it.
    #[serde(default)]
    pub lineage: Option<TaskLineage>,
    /// 房产位置, when the credit system sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub property_location: Option<Box<super::PropertyLocation>>,
    /// The credit system's loan figures, when it sent them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loan_info: Option<Box<super::session::LoanInfo>>,
}

/// How a task came to be: the loan, the transition, and the task it replaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TaskLineage {
    /// The loan application.
    pub loan_id: String,
    /// The task this one supersedes, for a reverse flow.
    pub supersedes: Option<String>,
    /// The loan transition that opened it, e.g. `家访→面谈` or `面签→面谈`.
    pub transition: String,
    /// Why (the roll-back reason), if given.
    pub reason: Option<String>,
    /// Who moved the loan.
    pub actor_id: String,
    /// In which role.
    pub actor_role: String,
}

/// A booking the scheduling process manager must release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BookingRef {
    /// Booking id.
    pub booking_id: Uuid,
    /// Seat holding it.
    pub seat_no: String,
    /// Agendas holding it.
    pub agendas: Vec<String>,
}

/// Payload of `InterviewTaskCancelled` (version 1.1; see `crate::upcast` for 1.0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct InterviewTaskCancelled {
    /// Why it was withdrawn.
    pub reason: String,
    /// When it was withdrawn.
    pub cancelled_at: DateTime<Utc>,
    /// Bookings the cancellation frees (current and requested); since 1.1.
    pub releases: Vec<BookingRef>,
}

/// Payload of `AppointmentRequested`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AppointmentRequested {
    /// Id of the request and of its bookings.
    pub booking_id: Uuid,
    /// What it is for.
    pub purpose: AppointmentPurpose,
    /// Seat to book.
    pub seat_no: String,
    /// The slot.
    pub slot: Slot,
    /// Agenda ids of every participant to book.
    pub agendas: Vec<String>,
    /// Who asked.
    pub requested_by: Requester,
    /// When.
    pub requested_at: DateTime<Utc>,
}

/// Payload of `AppointmentConfirmed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AppointmentConfirmed {
    /// The request that took effect.
    pub booking_id: Uuid,
    /// What it was for.
    pub purpose: AppointmentPurpose,
    /// Seat booked.
    pub seat_no: String,
    /// The slot.
    pub slot: Slot,
    /// The appointment it replaces, to be released.
    pub replaced: Option<BookingRef>,
    /// Reschedules used after this one.
    pub reschedule_count: u32,
}

/// Payload of `AppointmentRefused`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AppointmentRefused {
    /// The request that failed.
    pub booking_id: Uuid,
    /// What it was for.
    pub purpose: AppointmentPurpose,
    /// Stable code of the refusal.
    pub code: ErrorCode,
    /// Why.
    pub reason: String,
}

impl DomainEvent for InterviewTaskEvent {
    fn event_type(&self) -> String {
        match self {
            InterviewTaskEvent::Session(event) => event.event_type(),
            other => other.into(),
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        match self {
            InterviewTaskEvent::InterviewTaskCancelled(_) => "1.1",
            _ => "1.0",
        }
        .to_string()
    }
}
