//! What happened to an `Account`.

use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::aggregate::AccountProfile;

/// Facts of an account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum AccountEvent {
    /// Created (active). Tokens issued before `at` do not count for it.
    AccountCreated {
        /// Profile.
        profile: AccountProfile,
        /// When.
        at: DateTime<Utc>,
    },
    /// Profile replaced.
    AccountEdited(AccountProfile),
    /// Disabled.
    AccountDisabled,
    /// Enabled again.
    AccountEnabled,
    /// Deleted.
    AccountDeleted,
    /// Kicked: tokens issued up to `at` are refused.
    AccountKicked {
        /// When.
        at: DateTime<Utc>,
    },
}

impl DomainEvent for AccountEvent {
    fn event_type(&self) -> String {
        match self {
            AccountEvent::AccountCreated { .. } => "AccountCreated",
            AccountEvent::AccountEdited(_) => "AccountEdited",
            AccountEvent::AccountDisabled => "AccountDisabled",
            AccountEvent::AccountEnabled => "AccountEnabled",
            AccountEvent::AccountDeleted => "AccountDeleted",
            AccountEvent::AccountKicked { .. } => "AccountKicked",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}
