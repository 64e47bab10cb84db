use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::schedule::{Slot, WeeklyHours};

/// Facts recorded about a `Seat`.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema, strum::IntoStaticStr,
)]
pub enum SeatEvent {
    /// The seat was registered (enabled).
    SeatRegistered {
        /// Display name.
        name: String,
        /// Seat groups.
        groups: Vec<String>,
        /// Skills.
        skills: Vec<String>,
    },
    /// Weekly working hours were replaced.
    WorkingHoursSet {
        /// The new hours.
        hours: WeeklyHours,
    },
    /// The seat became bookable.
    SeatEnabled,
    /// The seat stopped taking bookings.
    SeatDisabled,
    /// The seat went on duty (签入).
    SeatSignedIn,
    /// The seat went off duty (签出).
    SeatSignedOut,
    /// Presence changed.
    PresenceChanged {
        /// The new presence.
        presence: super::Presence,
    },
    /// A queued call was offered to the seat (派单).
    CallOffered {
        /// The call.
        call_id: Uuid,
    },
    /// The seat answered the offered call; presence is 忙碌.
    CallTaken {
        /// The call.
        call_id: Uuid,
    },
    /// The offer was withdrawn.
    CallOfferWithdrawn {
        /// The call.
        call_id: Uuid,
    },
    /// A slot was booked for a task.
    SlotBooked {
        /// Booking id.
        booking_id: Uuid,
        /// Task id.
        task_id: String,
        /// The slot.
        slot: Slot,
    },
    /// A booking was released.
    SlotReleased {
        /// Booking id.
        booking_id: Uuid,
        /// Task id.
        task_id: String,
        /// The slot it held.
        slot: Slot,
    },
}

impl DomainEvent for SeatEvent {
    fn event_type(&self) -> String {
        <&'static str>::from(self).to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}
