//! What a `CustomerAgenda` is asked to do.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::schedule::Slot;

/// Commands a `CustomerAgenda` accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum AgendaCommand {
    /// Hold a slot for a task (idempotent by booking id).
    Book {
        /// Booking id.
        booking_id: Uuid,
        /// Task id.
        task_id: String,
        /// The slot.
        slot: Slot,
    },
    /// Release a booking (a no-op when it is not held).
    Release {
        /// Booking id.
        booking_id: Uuid,
    },
}
