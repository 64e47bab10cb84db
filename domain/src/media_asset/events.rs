//! What happened to a `MediaAsset`.

use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::aggregate::MediaSettings;

/// Facts of a clip.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema, strum::IntoStaticStr,
)]
pub enum MediaEvent {
    /// Created, disabled.
    MediaCreated(MediaSettings),
    /// Settings replaced.
    MediaEdited(MediaSettings),
    /// Enabled.
    MediaEnabled,
    /// Disabled.
    MediaDisabled,
    /// Deleted.
    MediaDeleted,
}

impl DomainEvent for MediaEvent {
    fn event_type(&self) -> String {
        <&'static str>::from(self).to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}
