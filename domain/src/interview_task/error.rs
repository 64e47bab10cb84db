use serde::Serialize;

use super::TaskStatus;
use crate::error::{DomainError, ErrorCode};

/// Why a command on an `InterviewTask` was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
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
            InterviewTaskError::AlreadyExists => ErrorCode::Conflict,
            InterviewTaskError::InvalidTransition { .. } => ErrorCode::InvalidTransition,
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
