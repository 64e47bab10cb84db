use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::{DomainError, ErrorCode};
use crate::schedule::ScheduleError;

/// Why a command on a `Seat` was refused.
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
pub enum SeatError {
    /// No seat under this number.
    #[error("seat not found")]
    NotFound,
    /// The seat number is taken.
    #[error("a seat with this number is already registered")]
    AlreadyRegistered,
    /// A field is malformed.
    #[error("{field} {reason}")]
    InvalidField {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// Working hours are malformed.
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
    /// 001 2.4.6: a seat with open bookings cannot be disabled; a supervisor
    /// must reassign them first.
    #[error("seat has {} future booking(s); reassign them first: {}", bookings.len(), BookingList(bookings))]
    FutureBookingsExist {
        /// (task id, start) of every booking that has not ended.
        bookings: Vec<(String, DateTime<Utc>)>,
    },
    /// Presence changes need the seat on duty (签入).
    #[error("the seat is not signed in")]
    NotSignedIn,
    /// 004 3.1: 忙碌…状态不可修改 — not during a call.
    #[error("the seat is in a call (忙碌); presence cannot change until it ends")]
    InCall,
    /// A call is offered to the seat; it must be answered or transferred first.
    #[error("a call is offered to the seat; answer or transfer it first")]
    CallPending,
    /// The seat cannot take a call now (not signed in, not 空闲, or already offered one).
    #[error("the seat is not available for a call")]
    NotAvailable,
    /// The call was not offered to this seat.
    #[error("this call is not offered to the seat")]
    CallNotOffered,
    /// 忙碌 is set by the engine when a call starts, not by hand.
    #[error("忙碌 is set by the system when a call starts")]
    BusyIsAutomatic,
    /// Only enabled seats can be booked (001 2.4.6).
    #[error("seat is disabled")]
    Disabled,
    /// The slot is outside the seat's working hours.
    #[error("slot is outside the seat's working hours")]
    OutsideWorkingHours,
    /// Another task holds an overlapping slot. The message names no task: the
    /// caller may not be allowed to read it (issue 31); the event keeps it.
    #[error("seat is already booked at that time")]
    SlotTaken {
        /// The task holding the slot.
        task_id: String,
    },
}

impl DomainError for SeatError {
    fn code(&self) -> ErrorCode {
        match self {
            SeatError::NotFound => ErrorCode::NotFound,
            SeatError::AlreadyRegistered | SeatError::SlotTaken { .. } => ErrorCode::Conflict,
            SeatError::InvalidField { .. }
            | SeatError::Schedule(_)
            | SeatError::OutsideWorkingHours => ErrorCode::Validation,
            SeatError::FutureBookingsExist { .. }
            | SeatError::Disabled
            | SeatError::NotSignedIn
            | SeatError::InCall
            | SeatError::CallPending
            | SeatError::NotAvailable
            | SeatError::CallNotOffered => ErrorCode::InvalidTransition,
            SeatError::BusyIsAutomatic => ErrorCode::Forbidden,
        }
    }
}

/// The bookings a refusal names, each as its own message.
struct BookingList<'a>(&'a [(String, DateTime<Utc>)]);

impl crate::message::Localized for BookingList<'_> {
    fn message(&self) -> crate::message::Message {
        crate::message::Message::list(
            self.0
                .iter()
                .map(|(task, start)| {
                    let start = start
                        .with_timezone(&crate::schedule::shanghai())
                        .format("%Y-%m-%d %H:%M");
                    crate::message::message!("task {task} at {start} Beijing time")
                })
                .collect(),
        )
    }
}

impl std::fmt::Display for BookingList<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::message::Localized;
        self.message().fmt(f)
    }
}
