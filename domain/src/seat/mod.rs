//! `Seat`: a video agent's desk (坐席), its working hours and bookings (001 2.4.6).

mod aggregate;
mod commands;
mod error;
mod events;

pub use aggregate::{Presence, Seat};
pub use commands::SeatCommand;
pub use error::SeatError;
pub use events::SeatEvent;

/// Aggregate type name in the event log.
pub const AGGREGATE_TYPE: &str = "seat";
