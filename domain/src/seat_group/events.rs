//! What happened to a `SeatGroup`.

use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::aggregate::SeatGroupSettings;

/// Facts of a group.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema, strum::IntoStaticStr,
)]
pub enum SeatGroupEvent {
    /// Created.
    SeatGroupCreated(SeatGroupSettings),
    /// Settings replaced.
    SeatGroupEdited(SeatGroupSettings),
    /// Deleted.
    SeatGroupDeleted,
}

impl DomainEvent for SeatGroupEvent {
    fn event_type(&self) -> String {
        <&'static str>::from(self).to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}
