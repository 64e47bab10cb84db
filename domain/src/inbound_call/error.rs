use serde::Serialize;

use crate::error::{DomainError, ErrorCode};

/// Why a command on an `InboundCall` was refused.
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
pub enum InboundCallError {
    /// No such call.
    #[error("call not found")]
    NotFound,
    /// The call id is taken.
    #[error("a call with this id exists")]
    AlreadyRequested,
    /// The call is not waiting in the queue.
    #[error("the call is not waiting in the queue")]
    NotQueued,
    /// Transfer and answer need a call given to a seat and not yet answered.
    #[error("the call is not offered to a seat")]
    NotDispatched,
    /// Only the seat the call was given to answers it.
    #[error("the call was given to seat {seat_no}")]
    OtherSeat {
        /// The seat it was given to.
        seat_no: String,
    },
    /// Only an answered call is hung up.
    #[error("the call was not answered")]
    NotAnswered,
    /// Transfer to the seat that has it.
    #[error("the call is already with this seat")]
    SameSeat,
    /// The call was answered, cancelled or refused.
    #[error("the call is over")]
    Finished,
    /// Bad input.
    #[error("{0}")]
    Invalid(crate::message::Message),
}

impl DomainError for InboundCallError {
    fn code(&self) -> ErrorCode {
        match self {
            InboundCallError::NotFound => ErrorCode::NotFound,
            InboundCallError::AlreadyRequested => ErrorCode::Conflict,
            InboundCallError::SameSeat | InboundCallError::Invalid(_) => ErrorCode::Validation,
            InboundCallError::NotQueued
            | InboundCallError::NotDispatched
            | InboundCallError::OtherSeat { .. }
            | InboundCallError::NotAnswered
            | InboundCallError::Finished => ErrorCode::InvalidTransition,
        }
    }
}
