use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::commands::{ChangeCommand, ProposedChange};
use super::error::ChangeProposalError;
use super::events::ChangeProposalEvent;
use crate::message::message;
use crate::services::DomainServices;

/// Aggregate type name in the event log.
pub const AGGREGATE_TYPE: &str = "change-proposal";

/// Where a proposal stands.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
pub enum ChangeStatus {
    /// Not proposed (no events).
    #[default]
    None,
    /// Waiting for a second admin.
    Proposed,
    /// Approved; the change is running.
    Approved,
    /// Taken back by its proposer.
    Withdrawn,
    /// Approved and in effect.
    Applied,
    /// Approved, but refused when it ran; nothing changed.
    Failed,
    /// Proposed and past its expiry unapproved (shown so; no event records it).
    Expired,
}

/// A proposal's write-side state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ChangeProposal {
    status: ChangeStatus,
    change: Option<ProposedChange>,
}

/// The longest a proposal's document may be, in bytes.
const MAX_DOCUMENT_BYTES: usize = 16 * 1024;

impl ChangeProposal {
    /// Where it stands.
    pub fn status(&self) -> ChangeStatus {
        self.status
    }

    /// Where it stands at `now`: a proposal past its expiry unapproved has lapsed.
    pub fn status_at(&self, now: chrono::DateTime<chrono::Utc>) -> ChangeStatus {
        match (&self.change, self.status) {
            (Some(change), ChangeStatus::Proposed) if change.expires_at <= now => {
                ChangeStatus::Expired
            }
            (_, status) => status,
        }
    }

    /// The change proposed, once it was.
    pub fn change(&self) -> Option<&ProposedChange> {
        self.change.as_ref()
    }

    fn pending(&self) -> Result<&ProposedChange, ChangeProposalError> {
        match (&self.change, self.status) {
            (None, _) => Err(ChangeProposalError::NotFound),
            (Some(change), ChangeStatus::Proposed) => Ok(change),
            (Some(_), status) => Err(ChangeProposalError::NotPending { status }),
        }
    }
}

impl Aggregate for ChangeProposal {
    const TYPE: &'static str = AGGREGATE_TYPE;
    type Command = ChangeCommand;
    type Event = ChangeProposalEvent;
    type Error = ChangeProposalError;
    type Services = DomainServices;

    async fn handle(
        &mut self,
        command: ChangeCommand,
        services: &DomainServices,
        sink: &EventSink<Self>,
    ) -> Result<(), ChangeProposalError> {
        let event = match command {
            ChangeCommand::Propose(_) if self.change.is_some() => {
                return Err(ChangeProposalError::AlreadyExists)
            }
            ChangeCommand::Propose(change) => {
                if change.document.trim().is_empty() || change.document.len() > MAX_DOCUMENT_BYTES {
                    return Err(ChangeProposalError::Invalid(message!(
                        "document must be 1 to 16384 bytes"
                    )));
                }
                if change.expires_at <= services.clock.now() {
                    return Err(ChangeProposalError::Expired);
                }
                ChangeProposalEvent::ChangeProposed(change)
            }
            ChangeCommand::Approve { approved_by } => {
                let change = self.pending()?;
                if change.proposed_by == approved_by {
                    return Err(ChangeProposalError::OwnApproval);
                }
                if change.expires_at <= services.clock.now() {
                    return Err(ChangeProposalError::Expired);
                }
                ChangeProposalEvent::ChangeApproved { approved_by }
            }
            ChangeCommand::Withdraw { withdrawn_by } => {
                if self.pending()?.proposed_by != withdrawn_by {
                    return Err(ChangeProposalError::NotProposer);
                }
                ChangeProposalEvent::ChangeWithdrawn { withdrawn_by }
            }
            ChangeCommand::RecordOutcome { applied, detail } => match self.status {
                ChangeStatus::Approved if applied => ChangeProposalEvent::ChangeApplied,
                ChangeStatus::Approved => ChangeProposalEvent::ChangeFailed { detail },
                ChangeStatus::None => return Err(ChangeProposalError::NotFound),
                status => return Err(ChangeProposalError::NotPending { status }),
            },
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: ChangeProposalEvent) {
        self.status = match event {
            ChangeProposalEvent::ChangeProposed(change) => {
                self.change = Some(change);
                ChangeStatus::Proposed
            }
            ChangeProposalEvent::ChangeApproved { .. } => ChangeStatus::Approved,
            ChangeProposalEvent::ChangeWithdrawn { .. } => ChangeStatus::Withdrawn,
            ChangeProposalEvent::ChangeApplied => ChangeStatus::Applied,
            ChangeProposalEvent::ChangeFailed { .. } => ChangeStatus::Failed,
        };
    }
}

#[cfg(test)]
mod tests;
