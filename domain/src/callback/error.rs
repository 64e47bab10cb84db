//! Why a `Callback` refuses a command, each with its stable code.

use serde::Serialize;

use crate::error::{DomainError, ErrorCode};

/// Why a callback command was refused.
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
pub enum CallbackError {
    /// No such callback.
    #[error("callback not found")]
    NotFound,
    /// Only a failed callback is retried.
    #[error("only a FAILED callback can be retried")]
    NotFailed,
    /// Bad input.
    #[error("{0}")]
    Invalid(crate::message::Message),
}

impl DomainError for CallbackError {
    fn code(&self) -> ErrorCode {
        match self {
            CallbackError::NotFound => ErrorCode::NotFound,
            CallbackError::NotFailed => ErrorCode::InvalidTransition,
            CallbackError::Invalid(_) => ErrorCode::Validation,
        }
    }
}
