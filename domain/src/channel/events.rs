//! What happened to a `Channel`.

use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::aggregate::ChannelSettings;

/// Facts recorded about a `Channel`.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema, strum::IntoStaticStr,
)]
pub enum ChannelEvent {
    /// Created, disabled.
    ChannelCreated(ChannelSettings),
    /// Settings replaced.
    ChannelEdited(ChannelSettings),
    /// Enabled.
    ChannelEnabled,
    /// Disabled.
    ChannelDisabled,
    /// Deleted.
    ChannelDeleted,
}

impl DomainEvent for ChannelEvent {
    fn event_type(&self) -> String {
        <&'static str>::from(self).to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}
