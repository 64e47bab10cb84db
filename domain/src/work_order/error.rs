//! Why a `WorkOrder` refuses a command, each with its stable code.

use serde::Serialize;

use super::aggregate::WorkOrderStatus;
use crate::error::{DomainError, ErrorCode};

/// Why a work-order command was refused.
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
pub enum WorkOrderError {
    /// No such work order.
    #[error("work order not found")]
    NotFound,
    /// The id is taken.
    #[error("a work order with this id exists")]
    AlreadyExists,
    /// Not allowed in the current status.
    #[error("not allowed while the work order is {0:?}")]
    InvalidTransition(WorkOrderStatus),
    /// Bad input.
    #[error("{0}")]
    Invalid(crate::message::Message),
}

impl DomainError for WorkOrderError {
    fn code(&self) -> ErrorCode {
        match self {
            WorkOrderError::NotFound => ErrorCode::NotFound,
            WorkOrderError::AlreadyExists => ErrorCode::Conflict,
            WorkOrderError::InvalidTransition(_) => ErrorCode::InvalidTransition,
            WorkOrderError::Invalid(_) => ErrorCode::Validation,
        }
    }
}
