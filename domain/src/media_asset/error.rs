//! Why a `MediaAsset` refuses a command, each with its stable code.

use serde::Serialize;

use crate::error::{DomainError, ErrorCode};

/// Why a clip command was refused.
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
pub enum MediaError {
    /// No such clip.
    #[error("media not found")]
    NotFound,
    /// The code is taken.
    #[error("media with this code exists")]
    AlreadyExists,
    /// Bad settings.
    #[error("{0}")]
    Invalid(crate::message::Message),
}

impl DomainError for MediaError {
    fn code(&self) -> ErrorCode {
        match self {
            MediaError::NotFound => ErrorCode::NotFound,
            MediaError::AlreadyExists => ErrorCode::Conflict,
            MediaError::Invalid(_) => ErrorCode::Validation,
        }
    }
}
