//! What happened to a `ChangeProposal`.

use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::commands::ProposedChange;

/// Facts of a proposal.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema, strum::IntoStaticStr,
)]
pub enum ChangeProposalEvent {
    /// Proposed by one admin.
    ChangeProposed(ProposedChange),
    /// Approved by a second admin; the change runs next.
    ChangeApproved {
        /// The approver.
        approved_by: String,
    },
    /// Taken back by its proposer.
    ChangeWithdrawn {
        /// Who withdrew it.
        withdrawn_by: String,
    },
    /// The approved change took effect.
    ChangeApplied,
    /// The approved change was refused when it ran (the configuration had
    /// moved on); nothing changed.
    ChangeFailed {
        /// The refusal's code and message.
        detail: String,
    },
}

impl DomainEvent for ChangeProposalEvent {
    fn event_type(&self) -> String {
        <&'static str>::from(self).to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}
