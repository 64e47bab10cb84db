//! What happened to a `SeatGroup`.

use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::aggregate::SeatGroupSettings;

/// Facts of a group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
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
        match self {
            SeatGroupEvent::SeatGroupCreated(_) => "SeatGroupCreated",
            SeatGroupEvent::SeatGroupEdited(_) => "SeatGroupEdited",
            SeatGroupEvent::SeatGroupDeleted => "SeatGroupDeleted",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}
