//! Why a `Channel` refuses a command, each with its stable code.

use serde::Serialize;

use crate::error::{DomainError, ErrorCode};

/// Why a channel command was refused.
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
pub enum ChannelError {
    /// No such channel (or deleted).
    #[error("channel not found")]
    NotFound,
    /// The code is taken.
    #[error("a channel with this code exists")]
    AlreadyExists,
    /// 001 2.4.9.3 rule 1: 停用状态的渠道才可操作删除.
    #[error("only a disabled channel can be deleted")]
    EnabledChannelDelete,
    /// Bad settings.
    #[error("{0}")]
    Invalid(crate::message::Message),
}

impl DomainError for ChannelError {
    fn code(&self) -> ErrorCode {
        match self {
            ChannelError::NotFound => ErrorCode::NotFound,
            ChannelError::AlreadyExists => ErrorCode::Conflict,
            ChannelError::EnabledChannelDelete => ErrorCode::InvalidTransition,
            ChannelError::Invalid(_) => ErrorCode::Validation,
        }
    }
}
