use serde::Serialize;

use super::{TaskStatus, TaskStep};
use crate::error::{DomainError, ErrorCode};
use crate::schedule::ScheduleError;

/// Why a command on an `InterviewTask` was refused.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Serialize,
    thiserror::Error,
    schemars::JsonSchema,
    crate::message::Localized,
)]
pub enum InterviewTaskError {
    /// The task does not exist (no events under this id).
    #[error("interview task not found")]
    NotFound,
    /// A create was sent to an id that already has a task.
    #[error("an interview task with this id already exists")]
    AlreadyExists,
    /// The loan contract number is missing or too long.
    #[error("contractNo must be 1 to 64 characters")]
    InvalidContractNo,
    /// A free-text field is too long or empty where required.
    #[error("{field} {reason}")]
    InvalidField {
        /// The GraphQL field name.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The task lists nobody.
    #[error("a task needs at least one participant")]
    NoParticipants,
    /// One participant entry is malformed.
    #[error("participant {field} {reason}")]
    InvalidParticipant {
        /// The offending field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// Two entries share an ID number but not a name.
    #[error("ID number {id_number} is listed under two different names")]
    ConflictingParticipant {
        /// The shared ID number.
        id_number: String,
    },
    /// Nobody holds the BORROWER role.
    #[error("exactly one participant must be the main borrower (BORROWER); none is")]
    NoMainBorrower,
    /// More than one person holds the BORROWER role.
    #[error("exactly one participant must be the main borrower (BORROWER); {count} are")]
    SeveralMainBorrowers {
        /// How many distinct people claimed it.
        count: usize,
    },
    /// A requested slot is malformed.
    #[error(transparent)]
    InvalidSlot(#[from] ScheduleError),
    /// The slot is in the past or beyond the booking horizon (001 2.5.3).
    #[error("the appointment must start after now and within {days} days")]
    OutsideHorizon {
        /// The horizon in days.
        days: i64,
    },
    /// Another booking request of this task is still being processed.
    #[error("another appointment request of this task is in progress; retry shortly")]
    BookingInProgress,
    /// 001 2.6.1: only the main borrower reschedules, or staff on their behalf.
    #[error("only the main borrower, or staff on the borrower's behalf, may {action}")]
    NotMainBorrower {
        /// What was attempted.
        action: &'static str,
    },
    /// 001 2.4.6: only a supervisor reassigns a booking to another seat.
    #[error("only a supervisor may reassign an appointment")]
    NotSupervisor,
    /// 001 2.6.1: 改约次数不得超过 2 次.
    #[error("the appointment was already rescheduled {max} times, the most allowed")]
    RescheduleLimitReached {
        /// The configured limit.
        max: u32,
    },
    /// 001 2.6.1: once the window opens, the task can be called into but not moved.
    #[error("the appointment window has opened; it can no longer be rescheduled")]
    WindowOpened,
    /// The task has no appointment to change.
    #[error("the task has no appointment yet; book one first")]
    NoAppointment,
    /// A reassignment to the seat that already holds it.
    #[error("the appointment is already with seat {seat_no}")]
    SameSeat {
        /// The seat.
        seat_no: String,
    },
    /// The interview can only start inside its window.
    #[error("the interview can start only inside its appointment window")]
    OutsideWindow,
    /// The step is not part of this task kind (000: 云贷非直批 has no 客户核身 or 信息录入).
    #[error("the task kind does not include the step {step:?}")]
    StepNotRequired {
        /// The step.
        step: TaskStep,
    },
    /// No participant of the task has that ID number.
    #[error("no participant of the task has that ID number")]
    UnknownParticipant,
    /// 001 2.2.1: the main borrower opens the interview room; others join after.
    #[error("the main borrower joins the interview first")]
    BorrowerNotInSession,
    /// 001 2.5.1 省内流程不做改动: a case whose property is in the bank's own
    /// province gets no video interview.
    #[error("the property is in {province}, the bank's own province: 省内 cases have no video interview")]
    InProvince {
        /// The property's province.
        province: String,
    },
    /// Leaving a room one is not in.
    #[error("the participant is not in the interview room")]
    NotInSession,
    /// The participant dropped out longer ago than the rejoin window.
    #[error("the time to rejoin this call ended at {} Beijing time; the seat can start a new call", until.with_timezone(&crate::schedule::shanghai()).format("%H:%M:%S"))]
    RejoinWindowPassed {
        /// When the window closed.
        until: chrono::DateTime<chrono::Utc>,
    },
    /// The document was already pushed.
    #[error("the document was already pushed")]
    DocumentAlreadyPushed,
    /// No document with that id was pushed.
    #[error("no document with that id was pushed to this task")]
    UnknownDocument,
    /// The document was already signed.
    #[error("the document was already signed")]
    DocumentAlreadySigned,
    /// 通过 needs every required step done and every identity check passed.
    #[error("the interview cannot pass yet; missing: {missing:?}")]
    StepsMissing {
        /// Steps without a (passing) result.
        missing: Vec<TaskStep>,
    },
    /// The seat concludes after the call has ended (视频面谈结束后…签署意见).
    #[error("end the call before concluding")]
    CallNotEnded,
    /// A QC decision for a case the task does not wait for.
    #[error("the task is not waiting for that quality-control decision")]
    NotAwaitingQc,
    /// The command is not allowed from the task's status.
    #[error("cannot {action} a task that is {from:?}")]
    InvalidTransition {
        /// What was attempted.
        action: &'static str,
        /// The task's status at the time.
        from: TaskStatus,
    },
}

impl DomainError for InterviewTaskError {
    fn code(&self) -> ErrorCode {
        match self {
            InterviewTaskError::NotFound => ErrorCode::NotFound,
            InterviewTaskError::AlreadyExists | InterviewTaskError::BookingInProgress => {
                ErrorCode::Conflict
            }
            InterviewTaskError::NotMainBorrower { .. } | InterviewTaskError::NotSupervisor => {
                ErrorCode::Forbidden
            }
            InterviewTaskError::InvalidTransition { .. }
            | InterviewTaskError::RescheduleLimitReached { .. }
            | InterviewTaskError::WindowOpened
            | InterviewTaskError::NoAppointment
            | InterviewTaskError::OutsideWindow
            | InterviewTaskError::StepsMissing { .. }
            | InterviewTaskError::CallNotEnded
            | InterviewTaskError::NotAwaitingQc
            | InterviewTaskError::DocumentAlreadySigned
            | InterviewTaskError::InProvince { .. }
            | InterviewTaskError::BorrowerNotInSession
            | InterviewTaskError::NotInSession
            | InterviewTaskError::RejoinWindowPassed { .. } => ErrorCode::InvalidTransition,
            InterviewTaskError::DocumentAlreadyPushed => ErrorCode::Conflict,
            InterviewTaskError::UnknownDocument => ErrorCode::NotFound,
            InterviewTaskError::StepNotRequired { .. } | InterviewTaskError::UnknownParticipant => {
                ErrorCode::Validation
            }
            InterviewTaskError::InvalidSlot(_)
            | InterviewTaskError::OutsideHorizon { .. }
            | InterviewTaskError::SameSeat { .. } => ErrorCode::Validation,
            InterviewTaskError::InvalidContractNo
            | InterviewTaskError::InvalidField { .. }
            | InterviewTaskError::NoParticipants
            | InterviewTaskError::InvalidParticipant { .. }
            | InterviewTaskError::ConflictingParticipant { .. }
            | InterviewTaskError::NoMainBorrower
            | InterviewTaskError::SeveralMainBorrowers { .. } => ErrorCode::Validation,
        }
    }
}
