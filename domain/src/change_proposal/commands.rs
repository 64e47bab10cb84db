//! What a `ChangeProposal` is asked to do.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A configuration change as proposed: the one GraphQL mutation that makes
/// it, as the proposer wrote it, to run as written once approved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProposedChange {
    /// The mutation's root field, e.g. `Mutation.createChannel`.
    pub operation: String,
    /// The GraphQL document of the mutation.
    pub document: String,
    /// Its variables.
    pub variables: serde_json::Value,
    /// Who proposes it (the verified caller).
    pub proposed_by: String,
    /// When it lapses unless approved.
    pub expires_at: DateTime<Utc>,
}

/// Commands of a proposal; every actor is the verified caller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum ChangeCommand {
    /// 提议.
    Propose(ProposedChange),
    /// 复核通过: a second admin approves.
    Approve {
        /// The approver.
        approved_by: String,
    },
    /// 撤回: the proposer takes it back.
    Withdraw {
        /// Who withdraws it.
        withdrawn_by: String,
    },
    /// The approved change ran: whether it took effect, and why not.
    RecordOutcome {
        /// Whether the mutation succeeded.
        applied: bool,
        /// Its error code and message when it did not.
        detail: String,
    },
}
