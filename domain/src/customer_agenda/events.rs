//! What happened to a `CustomerAgenda`.

use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::schedule::Booking;

/// Facts recorded about a person's agenda.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema, strum::IntoStaticStr,
)]
pub enum AgendaEvent {
    /// The person is expected at this slot.
    AppointmentBooked(Booking),
    /// The slot was given up.
    AppointmentReleased(Booking),
}

impl DomainEvent for AgendaEvent {
    fn event_type(&self) -> String {
        <&'static str>::from(self).to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}
