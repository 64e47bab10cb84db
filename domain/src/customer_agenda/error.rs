//! Why a `CustomerAgenda` refuses a command, each with its stable code.

use serde::Serialize;

use crate::error::{DomainError, ErrorCode};

/// Why an agenda refused a booking.
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
pub enum AgendaError {
    /// The person is already booked on another task at an overlapping time.
    /// The message names no task: it may be another manager's (issue 31).
    #[error("a participant already has an interview at that time")]
    PersonBusy {
        /// The other task.
        task_id: String,
    },
}

impl DomainError for AgendaError {
    fn code(&self) -> ErrorCode {
        ErrorCode::Conflict
    }
}
