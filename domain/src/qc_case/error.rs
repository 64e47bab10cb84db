//! Why a `QcCase` refuses a command, each with its stable code.

use serde::Serialize;

use crate::error::{DomainError, ErrorCode};

/// Why a command on a `QcCase` was refused.
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
pub enum QcCaseError {
    /// No such case.
    #[error("quality-control case not found")]
    NotFound,
    /// Another reviewer holds it.
    #[error("the case is claimed by {reviewer}")]
    ClaimedByAnother {
        /// Who holds it.
        reviewer: String,
    },
    /// Only the reviewer holding the case may release or decide it.
    #[error("claim the case before deciding or releasing it")]
    NotClaimedByYou,
    /// The case is decided; decisions are final (a correction is a new case).
    #[error("the case is already decided")]
    AlreadyDecided,
    /// A reject names no reason.
    #[error("a reject needs at least one reason")]
    NoReason,
    /// OTHER without its text.
    #[error("reason OTHER needs its text")]
    OtherWithoutText,
    /// A reject without a comment, or a text too long.
    #[error("{field} {reason}")]
    InvalidField {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
}

impl DomainError for QcCaseError {
    fn code(&self) -> ErrorCode {
        match self {
            QcCaseError::NotFound => ErrorCode::NotFound,
            QcCaseError::ClaimedByAnother { .. } => ErrorCode::Conflict,
            QcCaseError::NotClaimedByYou | QcCaseError::AlreadyDecided => {
                ErrorCode::InvalidTransition
            }
            QcCaseError::NoReason
            | QcCaseError::OtherWithoutText
            | QcCaseError::InvalidField { .. } => ErrorCode::Validation,
        }
    }
}
