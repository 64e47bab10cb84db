//! Why a `SeatGroup` refuses a command, each with its stable code.

use serde::Serialize;

use crate::error::{DomainError, ErrorCode};

/// Why a group command was refused.
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
pub enum SeatGroupError {
    /// No such group.
    #[error("seat group not found")]
    NotFound,
    /// The code is taken.
    #[error("a seat group with this code exists")]
    AlreadyExists,
    /// Bad settings.
    #[error("{0}")]
    Invalid(crate::message::Message),
}

impl DomainError for SeatGroupError {
    fn code(&self) -> ErrorCode {
        match self {
            SeatGroupError::NotFound => ErrorCode::NotFound,
            SeatGroupError::AlreadyExists => ErrorCode::Conflict,
            SeatGroupError::Invalid(_) => ErrorCode::Validation,
        }
    }
}
