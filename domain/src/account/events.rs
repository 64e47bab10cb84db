//! What happened to an `Account`.

use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::aggregate::AccountProfile;

/// Facts of an account.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema, strum::IntoStaticStr,
)]
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
        <&'static str>::from(self).to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}
