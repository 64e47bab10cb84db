//! `SeatGroup`: a group of seats (客服组) with the business types and skills
//! they serve; only seats of a group that covers a call take it (004 3.18).

mod aggregate;
mod commands;
mod error;
mod events;

pub use aggregate::{SeatGroup, SeatGroupSettings, AGGREGATE_TYPE};
pub use commands::SeatGroupCommand;
pub use error::SeatGroupError;
pub use events::SeatGroupEvent;
