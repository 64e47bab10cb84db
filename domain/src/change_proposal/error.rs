//! Why a `ChangeProposal` refuses a command, each with its stable code.

use serde::Serialize;

use super::aggregate::ChangeStatus;
use crate::error::{DomainError, ErrorCode};

/// Why a command on a proposal was refused.
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
pub enum ChangeProposalError {
    /// No such proposal.
    #[error("change proposal not found")]
    NotFound,
    /// A proposal under this id exists.
    #[error("a change proposal with this id exists")]
    AlreadyExists,
    /// Four eyes: the proposer does not approve their own change.
    #[error(
        "the proposer cannot approve their own change; a second admin approves it (four eyes)"
    )]
    OwnApproval,
    /// Only the proposer takes a proposal back.
    #[error("only the proposer withdraws a change")]
    NotProposer,
    /// The proposal is no longer waiting for approval.
    #[error("the change is {status:?}, no longer waiting for approval")]
    NotPending {
        /// Where it stands.
        status: ChangeStatus,
    },
    /// Its time to be approved has passed.
    #[error("the proposal expired unapproved; propose the change again")]
    Expired,
    /// The proposal names no change it can make.
    #[error("{0}")]
    Invalid(crate::message::Message),
}

impl DomainError for ChangeProposalError {
    fn code(&self) -> ErrorCode {
        match self {
            ChangeProposalError::NotFound => ErrorCode::NotFound,
            ChangeProposalError::AlreadyExists => ErrorCode::Conflict,
            ChangeProposalError::OwnApproval | ChangeProposalError::NotProposer => {
                ErrorCode::Forbidden
            }
            ChangeProposalError::NotPending { .. } | ChangeProposalError::Expired => {
                ErrorCode::InvalidTransition
            }
            ChangeProposalError::Invalid(_) => ErrorCode::Validation,
        }
    }
}
