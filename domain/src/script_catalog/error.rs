//! Why a `ScriptCatalog` refuses a command, each with its stable code.

use serde::Serialize;

use crate::error::{DomainError, ErrorCode};

/// Why a script command was refused.
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
pub enum ScriptError {
    /// No script under this code.
    #[error("script not found")]
    NotFound,
    /// The code is taken.
    #[error("a script with this code exists")]
    AlreadyExists,
    /// Another script already covers this channel and product.
    #[error("script {0} already covers this channel and product")]
    DuplicateScope(String),
    /// The default goes only when it is the last script; choose another first.
    #[error("the default script cannot be removed while other scripts exist; make another the default first")]
    DefaultRemoval,
    /// Bad input.
    #[error("{0}")]
    Invalid(crate::message::Message),
}

impl DomainError for ScriptError {
    fn code(&self) -> ErrorCode {
        match self {
            ScriptError::NotFound => ErrorCode::NotFound,
            ScriptError::AlreadyExists | ScriptError::DuplicateScope(_) => ErrorCode::Conflict,
            ScriptError::DefaultRemoval => ErrorCode::InvalidTransition,
            ScriptError::Invalid(_) => ErrorCode::Validation,
        }
    }
}
