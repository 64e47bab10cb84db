use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::schedule::{Slot, WeeklyHours};

/// Commands a `Seat` accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum SeatCommand {
    /// Register a seat with its groups and skills (enabled on registration).
    Register {
        /// Display name of the agent.
        name: String,
        /// Seat groups (客服组) it belongs to.
        groups: Vec<String>,
        /// Skills: the product and channel codes it serves.
        skills: Vec<String>,
    },
    /// Replace the weekly working hours.
    SetWorkingHours {
        /// The new hours.
        hours: WeeklyHours,
    },
    /// Make the seat bookable again.
    Enable,
    /// Stop new bookings; refused while future bookings exist.
    Disable,
    /// Book a slot for a task (idempotent by booking id).
    Book {
        /// Booking id chosen by the task's request.
        booking_id: Uuid,
        /// The task the booking is for.
        task_id: String,
        /// The appointment slot.
        slot: Slot,
    },
    /// 签入: the seat goes on duty; presence becomes 空闲 (004 3.1).
    SignIn,
    /// 签出: off duty; refused during a call.
    SignOut,
    /// The seat sets its presence (空闲, 暂放, 话后处理); 忙碌 is set by the system only.
    SetPresence {
        /// The new presence.
        presence: super::Presence,
        /// Set by the engine (a call started or ended), not by the seat.
        by_system: bool,
    },
    /// The dispatcher offers a queued call to this seat; refused unless it is
    /// available (the guard that keeps two calls off one seat).
    OfferCall {
        /// The call.
        call_id: Uuid,
    },
    /// The seat answers the offered call: presence becomes 忙碌.
    TakeCall {
        /// The call.
        call_id: Uuid,
    },
    /// The offer is withdrawn (customer hung up, call transferred); a no-op
    /// when this call is not offered.
    WithdrawOffer {
        /// The call.
        call_id: Uuid,
    },
    /// Release a booking (a no-op when it is not held).
    Release {
        /// The booking to release.
        booking_id: Uuid,
    },
}
