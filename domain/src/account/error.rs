//! Why an `Account` refuses a command, each with its stable code.

use serde::Serialize;

use crate::error::{DomainError, ErrorCode};

/// Why an account command was refused.
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
pub enum AccountError {
    /// No such account (or deleted).
    #[error("account not found")]
    NotFound,
    /// The login is taken.
    #[error("an account with this login exists")]
    AlreadyExists,
    /// Bad profile.
    #[error("{0}")]
    Invalid(crate::message::Message),
}

impl DomainError for AccountError {
    fn code(&self) -> ErrorCode {
        match self {
            AccountError::NotFound => ErrorCode::NotFound,
            AccountError::AlreadyExists => ErrorCode::Conflict,
            AccountError::Invalid(_) => ErrorCode::Validation,
        }
    }
}
