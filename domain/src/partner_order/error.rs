//! Why a `PartnerOrder` refuses a command, each with its stable code.

use serde::Serialize;

use super::aggregate::PartnerOrderStatus;
use crate::error::{DomainError, ErrorCode};

/// Why a partner-order command was refused.
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
pub enum PartnerOrderError {
    /// No such order.
    #[error("order not found")]
    NotFound,
    /// Not allowed in the order's status.
    #[error("not allowed while the order is {status:?} (code {code:?})")]
    InvalidTransition {
        /// The status.
        status: PartnerOrderStatus,
        /// Its 002 code.
        code: Option<u8>,
    },
    /// 002 item 12 a: 不可借 — the request is outside what was approved.
    #[error("拒贷: {0}")]
    BorrowRefused(crate::message::Message),
    /// Bad input.
    #[error("{0}")]
    Invalid(crate::message::Message),
}

impl DomainError for PartnerOrderError {
    fn code(&self) -> ErrorCode {
        match self {
            PartnerOrderError::NotFound => ErrorCode::NotFound,
            PartnerOrderError::InvalidTransition { .. } | PartnerOrderError::BorrowRefused(_) => {
                ErrorCode::InvalidTransition
            }
            PartnerOrderError::Invalid(_) => ErrorCode::Validation,
        }
    }
}
