//! `ChangeProposal`: four eyes on the bank's configuration (issue 34 item 5).
//! One admin proposes a change of channels, dispatch rules, seat groups,
//! accounts, scripts, media, seats, partner settings or the working-day
//! calendar; it takes effect only when a different admin approves it, and
//! the proposer may withdraw it until then. A proposal not approved by its
//! expiry lapses. Every step is an event naming its actor.

mod aggregate;
mod commands;
mod error;
mod events;

pub use aggregate::{ChangeProposal, ChangeStatus, AGGREGATE_TYPE};
pub use commands::{ChangeCommand, ProposedChange};
pub use error::ChangeProposalError;
pub use events::ChangeProposalEvent;
